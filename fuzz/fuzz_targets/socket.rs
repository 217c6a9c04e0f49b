//! Fuzz the host simulator's socket framing (mssim TPM and platform
//! ports, swtpm data and control channels; `vtpm-host-sim/src/frames.rs`)
//! with arbitrary client bytes: `vtpm_tests::fuzzing::socket_input` checks
//! that requests are read within the protocol limits and never panic, and
//! this target also checks that the memory allocated while reading one
//! input stays in proportion to its length (a length field alone must not
//! make the server allocate: the limit is 4 x input + 64 KiB).
//!
//! Run: `cargo +nightly fuzz run socket`.

#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::fuzz_target;

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the same arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Old and new blocks may both be live during the copy.
            let now = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(now, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fuzz_target!(|data: &[u8]| {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = vtpm_tests::fuzzing::socket_input(data);
    let used = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    if let Err(e) = r {
        panic!("{e}");
    }
    let limit = 4 * data.len() + 64 * 1024;
    assert!(
        used <= limit,
        "reading {} input octets allocated {used} bytes (limit {limit})",
        data.len()
    );
});
