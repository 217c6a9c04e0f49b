//! The no_std link check: a freestanding x86_64 Linux executable that
//! links vtpm-core and vtpm-svsm with no `std` at all, using its own panic
//! handler, global allocator and entry point, and then runs the engine:
//! manufacture, power on, `TPM2_Startup(CLEAR)`, `TPM2_GetRandom`, then a
//! reload from the committed state behind vtpm-svsm's SVSM vTPM protocol
//! (a simulated guest page). Exit status 0 means every step worked;
//! each failing step has its own status (see `run`).
//!
//! Build and run: `cargo build --release` in this folder (scripts/test.sh
//! does), then `target/release/vtpm-nostd-link; echo $?`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use vtpm_core::{Config, Platform, PlatformError, Tpm};

// ------------------------------------------------------------- allocator

/// Heap size. It sits in .bss, so it costs no file size.
const HEAP_SIZE: usize = 32 * 1024 * 1024;

#[repr(C, align(4096))]
struct Heap(UnsafeCell<[u8; HEAP_SIZE]>);

// SAFETY: the heap bytes are only reached through `Bump`, which hands out
// disjoint ranges (the next free offset moves forward atomically), so no
// two threads ever get the same bytes.
unsafe impl Sync for Heap {}

static HEAP: Heap = Heap(UnsafeCell::new([0; HEAP_SIZE]));

/// A bump allocator: allocation moves a cursor, freeing does nothing.
/// Enough for a short-lived check program.
struct Bump {
    next: AtomicUsize,
}

// SAFETY: `alloc` returns either null or a pointer to `layout.size()`
// bytes inside HEAP, aligned to `layout.align()`, that no other allocation
// overlaps (the cursor only moves forward, by compare-and-swap); `dealloc`
// never touches memory.
unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let base = HEAP.0.get().cast::<u8>();
        let mut cur = self.next.load(Ordering::Relaxed);
        loop {
            // `align` is a power of two; align the address, not the offset.
            let addr = (base as usize).wrapping_add(cur);
            let pad = addr.wrapping_neg() & (layout.align() - 1);
            let Some(start) = cur.checked_add(pad) else {
                return core::ptr::null_mut();
            };
            let Some(end) = start.checked_add(layout.size()) else {
                return core::ptr::null_mut();
            };
            if end > HEAP_SIZE {
                return core::ptr::null_mut();
            }
            match self
                .next
                .compare_exchange_weak(cur, end, Ordering::Relaxed, Ordering::Relaxed)
            {
                // SAFETY: start + size <= HEAP_SIZE, so the result stays
                // inside the HEAP allocation.
                Ok(_) => return unsafe { base.add(start) },
                Err(now) => cur = now,
            }
        }
    }

    unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}
}

#[global_allocator]
static ALLOCATOR: Bump = Bump {
    next: AtomicUsize::new(0),
};

// ------------------------------------------------------- process plumbing

extern "C" {
    /// libc `_exit(2)`: ends the process without running anything else.
    fn _exit(status: i32) -> !;
}

fn exit(status: i32) -> ! {
    // SAFETY: `_exit` has no preconditions and never returns.
    unsafe { _exit(status) }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    exit(101)
}

/// The entry point (linked with `-nostartfiles`, so there is no C runtime
/// start code). The kernel enters with a 16-byte aligned stack and no
/// return address; a Rust function expects the stack misaligned by the
/// pushed return address, so this naked stub realigns and calls `main`.
#[unsafe(naked)]
#[unsafe(no_mangle)]
pub extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "xor ebp, ebp",
        "and rsp, -16",
        "call {main}",
        "ud2",
        main = sym main,
    )
}

extern "C" fn main() -> ! {
    exit(run())
}

// ------------------------------------------------------------- the check

/// A minimal platform: deterministic entropy (this is a link check, not a
/// TPM anyone uses), a clock that ticks per read, commits kept in memory.
struct LinkPlatform {
    counter: u64,
    now: u64,
    committed: Vec<u8>,
}

impl Platform for LinkPlatform {
    fn fill_entropy(&mut self, buf: &mut [u8]) -> Result<(), PlatformError> {
        for b in buf {
            // splitmix64
            self.counter = self.counter.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.counter;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *b = (z ^ (z >> 31)) as u8;
        }
        Ok(())
    }

    fn monotonic_ms(&mut self) -> u64 {
        self.now = self.now.wrapping_add(1);
        self.now
    }

    fn commit(&mut self, state: &[u8]) -> Result<(), PlatformError> {
        self.committed.clear();
        self.committed.extend_from_slice(state);
        Ok(())
    }
}

const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0];
const GET_RANDOM_8: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8];

fn rc(rsp: &[u8]) -> Option<u32> {
    let b = rsp.get(6..10)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// 0 on success, else the number of the step that failed.
#[inline(never)]
fn run() -> i32 {
    let platform = LinkPlatform {
        counter: 1,
        now: 0,
        committed: Vec::new(),
    };
    // vtpm-core directly...
    let Ok(mut tpm) = Tpm::manufacture(platform, Config::default()) else {
        return 2;
    };
    tpm.power_on();
    if rc(&tpm.execute(0, &STARTUP_CLEAR)) != Some(0) {
        return 3;
    }
    let rsp = tpm.execute(0, &GET_RANDOM_8);
    // header (10) + TPM2B size (2) + 8 bytes
    if rc(&rsp) != Some(0) || rsp.len() != 20 {
        return 4;
    }
    let state = core::mem::take(&mut tpm.platform_mut().committed);
    if state.is_empty() {
        return 5;
    }
    // ...and behind vtpm-svsm's SVSM vTPM protocol, through a simulated
    // guest page: SVSM_VTPM_QUERY, then TPM2_Startup in SVSM_VTPM_CMD.
    let platform = LinkPlatform {
        counter: 2,
        now: 100,
        committed: Vec::new(),
    };
    let Ok(mut tpm) = Tpm::load(platform, Config::default(), &state) else {
        return 6;
    };
    tpm.power_on();
    let Ok(mut guest) = vtpm_svsm::SimulatedGuest::new(tpm, vtpm_svsm::ServiceOptions::default())
    else {
        return 7;
    };
    // Bit 8 of the platform-command bitmap: TPM_SEND_COMMAND.
    match guest.query() {
        Ok((commands, _)) if commands & (1 << 8) != 0 => {}
        _ => return 8,
    }
    match guest.send(0, &STARTUP_CLEAR) {
        Ok(rsp) if rc(&rsp) == Some(0) => {}
        _ => return 9,
    }
    0
}
