//! Memory the engine needs behind the SVSM protocol: peak heap of a
//! realistic session, measured with a counting global allocator.
//!
//! Run `cargo test -p vtpm-svsm --release --test heap -- --nocapture` to
//! see the numbers (they are printed; the assertions are generous bounds).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]
// The counting allocator below is the only unsafe code in this crate's
// targets: a forwarding `GlobalAlloc`, test-only.
#![allow(unsafe_code)]

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::*;
use vtpm_svsm::storage::NoRollbackGuard;
use vtpm_svsm::testing::{MemoryBlobStore, TestClock, TestEntropy};
use vtpm_svsm::{start, ServiceOptions, SimulatedGuest, StartParams};

/// Counts live bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Tests in this file run one at a time so the counters are theirs.
static SERIAL: Mutex<()> = Mutex::new(());

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees hold; the counters are plain atomics
// and never affect the returned pointers.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl comment).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Peak heap above the level at entry while `f` runs, and what stays
/// allocated afterwards.
fn measure<R>(f: impl FnOnce() -> R) -> (R, usize, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let r = f();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let retained = LIVE.load(Ordering::Relaxed).saturating_sub(base);
    (r, peak, retained)
}

#[test]
fn peak_heap_of_a_realistic_session_through_the_svsm_protocol() {
    let _g = SERIAL.lock().unwrap();
    let ((), peak, retained) = measure(|| {
        let started = start(StartParams {
            store: MemoryBlobStore::default(),
            entropy: TestEntropy::new(5),
            clock: TestClock::default(),
            guard: NoRollbackGuard,
            key: vtpm_core::state::blob::SealingKey::new([9; 32]),
            config: vtpm_core::Config::default(),
        })
        .unwrap();
        let mut guest = SimulatedGuest::new(started.tpm, ServiceOptions::default()).unwrap();
        assert_eq!(rc(&guest.send(0, &STARTUP_CLEAR).unwrap()), 0);
        realistic_session(&mut |c| guest.send(0, c).unwrap());
        let manifest = vtpm_svsm::vtpm_manifest(guest.tpm_mut()).unwrap();
        assert!(!manifest.is_empty());
        let state = guest.tpm_mut().serialize_state().unwrap();
        let blobs = guest.service().tpm().platform().store().clone();
        println!(
            "serialized state: {} bytes; sealed slots: A {} B {} bytes",
            state.len(),
            blobs.a.as_ref().map_or(0, Vec::len),
            blobs.b.as_ref().map_or(0, Vec::len),
        );
        drop(guest);
    });
    println!("peak heap, start + realistic session + manifest: {peak} bytes ({} KiB); retained after drop: {retained}", peak / 1024);
    // Bounds, not targets: the engine must stay far below an SVSM heap.
    assert!(peak < 2 * 1024 * 1024, "peak heap {peak}");
    assert!(retained < 4096, "leaked {retained}");
}

#[test]
fn peak_heap_of_one_small_command_is_small() {
    let _g = SERIAL.lock().unwrap();
    let tpm = vtpm_core::testing::started_tpm(31).unwrap();
    let mut guest = SimulatedGuest::new(tpm, ServiceOptions::default()).unwrap();
    guest.send(0, &get_random(32)).unwrap();
    let (_, peak, _) = measure(|| guest.send(0, &get_random(32)).unwrap());
    println!("peak heap of GetRandom(32) through the protocol: {peak} bytes");
    assert!(peak < 64 * 1024, "peak heap {peak}");
}

/// Run the realistic session (manufacture, protocol, EK) on a thread with
/// the stack size in `VTPM_STACK_PROBE`; overflowing aborts the process.
/// Only run by `smallest_stack_that_runs_a_realistic_session`.
#[test]
#[ignore = "helper process for the stack measurement"]
fn stack_probe() {
    let Some(size) = std::env::var("VTPM_STACK_PROBE")
        .ok()
        .and_then(|s| s.parse().ok())
    else {
        return;
    };
    std::thread::Builder::new()
        .stack_size(size)
        .spawn(|| {
            let tpm = vtpm_core::testing::started_tpm(41).unwrap();
            let mut guest = SimulatedGuest::new(tpm, ServiceOptions::default()).unwrap();
            realistic_session(&mut |c| guest.send(0, c).unwrap());
            vtpm_svsm::vtpm_manifest(guest.tpm_mut()).unwrap();
        })
        .unwrap()
        .join()
        .unwrap();
}

/// Binary search, in separate processes, for the smallest thread stack that
/// runs the realistic session (to 4 KiB). Debug builds need several times
/// what release builds need; the README quotes the release figure.
#[test]
fn smallest_stack_that_runs_a_realistic_session() {
    let exe = std::env::current_exe().unwrap();
    let fits = |size: usize| {
        std::process::Command::new(&exe)
            .args(["--exact", "stack_probe", "--ignored", "--test-threads=1"])
            .env("VTPM_STACK_PROBE", size.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    let (mut lo, mut hi) = (16 * 1024, 4 * 1024 * 1024);
    assert!(fits(hi), "the session does not run in {hi} bytes of stack");
    while hi - lo > 4096 {
        let mid = (lo + hi) / 2;
        if fits(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    println!(
        "smallest thread stack for the realistic session ({} build): {} KiB",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        hi / 1024
    );
}
