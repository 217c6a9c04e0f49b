//! The engine's heap use is bounded by its configured limits: a long,
//! deterministic, pseudo-random command stream (recorded tpm2-tools
//! commands, as they are and mutated) never makes the live heap grow past
//! a bound derived from `Config`, and after a warm-up the peak stops
//! growing.
//!
//! 40,000 commands: the heap grows while objects, sessions and NV indices
//! pile up and levels off after about 20,000 (about 110 KiB above the
//! started TPM with the default `Config`).
//!
//! A `#[global_allocator]` counts live bytes (this test binary holds only
//! this test, so nothing else allocates while it runs).
//!
//! The bound (`heap_bound`): what the TPM may legitimately hold is
//! * up to `max_loaded_objects` transient objects (including hash and HMAC
//!   sequences), each at most [`OBJECT_BYTES`] (an RSA-2048 key with its
//!   public area, private area, Names and authValue is about 3 KiB);
//! * up to `max_active_sessions` sessions, each at most [`SESSION_BYTES`];
//! * NV indices and persistent objects, charged against `nv_capacity`,
//!   held [`NV_COPIES`] times at the peak of a commit (the state, the
//!   snapshot taken before an NV command, its serialization and the
//!   platform's committed copy);
//! * one command and one response in flight (`max_command_size` and
//!   `max_response_size`), counted twice for copies;
//! * plus [`SLACK`] for everything fixed (PCR banks, caches, the RNG).
//!
//! It is measured above the heap of the freshly started TPM.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use vtpm_core::testing::started_tpm;
use vtpm_core::Config;
use vtpm_tests::fuzzing::check_response;
use vtpm_tests::workspace_root;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the same arguments; the
// counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
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
            let now = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(now, Ordering::Relaxed);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Heap of one loaded object or sequence, at most.
const OBJECT_BYTES: usize = 8 * 1024;
/// Heap of one session, at most.
const SESSION_BYTES: usize = 1024;
/// Copies of the NV contents alive at once at the peak of a commit.
const NV_COPIES: usize = 4;
/// Fixed overhead.
const SLACK: usize = 256 * 1024;

/// Commands in the stream.
const COMMANDS: usize = 40_000;

fn heap_bound(c: &Config) -> usize {
    c.max_loaded_objects * OBJECT_BYTES
        + c.max_active_sessions * SESSION_BYTES
        + NV_COPIES * c.nv_capacity
        + 2 * (c.max_command_size + c.max_response_size)
        + SLACK
}

/// xorshift64*: deterministic, seeded.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The recorded tpm2-tools commands (difftest/traces/tpm2-tools.trace).
fn trace_commands() -> Vec<Vec<u8>> {
    let path = workspace_root().join("difftest/traces/tpm2-tools.trace");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let cmds: Vec<Vec<u8>> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix('>'))
        .map(|h| {
            let h = h.trim();
            (0..h.len() / 2)
                .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex"))
                .collect()
        })
        .collect();
    assert!(cmds.len() > 100, "trace has only {} commands", cmds.len());
    cmds
}

/// A mutation of a recorded command: octets changed, a handle pointed at
/// another entity, a size field changed, the command cut or extended, an
/// NV index or persistent handle moved (so that NV fills up).
fn mutate(rng: &mut Rng, cmd: &[u8]) -> Vec<u8> {
    let mut c = cmd.to_vec();
    for _ in 0..1 + rng.below(3) {
        match rng.below(7) {
            0 if !c.is_empty() => {
                let i = rng.below(c.len());
                c[i] = rng.next() as u8;
            }
            1 if c.len() >= 14 => {
                let h: u32 = match rng.below(4) {
                    0 => 0x8000_0000 + rng.below(130) as u32,
                    1 => 0x0200_0000 + rng.below(70) as u32,
                    2 => 0x0150_0000 + rng.below(4096) as u32,
                    _ => 0x8100_0000 + rng.below(20) as u32,
                };
                c[10..14].copy_from_slice(&h.to_be_bytes());
            }
            2 if c.len() >= 6 => {
                let n = (c.len() as i64 + rng.below(9) as i64 - 4).max(0) as u32;
                c[2..6].copy_from_slice(&n.to_be_bytes());
            }
            3 => {
                let n = rng.below(c.len() + 1);
                c.truncate(n);
            }
            4 => {
                for _ in 0..rng.below(64) {
                    c.push(rng.next() as u8);
                }
                let n = c.len() as u32;
                if c.len() >= 6 {
                    c[2..6].copy_from_slice(&n.to_be_bytes());
                }
            }
            _ => {
                // An NV_DefineSpace publicInfo or EvictControl handle: a
                // fresh index or persistent handle.
                if let Some(i) = find(&c, &[0x01, 0x50, 0x00]) {
                    let v = 0x0150_0000 + rng.below(1 << 16) as u32;
                    if let Some(dst) = c.get_mut(i..i + 4) {
                        dst.copy_from_slice(&v.to_be_bytes());
                    }
                } else if let Some(i) = find(&c, &[0x81, 0x00, 0x00]) {
                    let v = 0x8100_0000 + rng.below(64) as u32;
                    if let Some(dst) = c.get_mut(i..i + 4) {
                        dst.copy_from_slice(&v.to_be_bytes());
                    }
                }
            }
        }
    }
    c
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// RSA key generation is slow in the debug profile: commands that would
/// generate an RSA key (CreatePrimary, Create, CreateLoaded of an RSA
/// template) are left out of the stream.
fn generates_rsa_key(cmd: &[u8]) -> bool {
    let cc = cmd
        .get(6..10)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
    matches!(cc, Some(0x131 | 0x153 | 0x191)) && find(cmd, &[0x00, 0x01, 0x00, 0x0B]).is_some()
}

/// The tests of this binary share the counters: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn live_heap_stays_under_the_configured_bound() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = Instant::now();
    let pool: Vec<Vec<u8>> = trace_commands()
        .into_iter()
        .filter(|c| !generates_rsa_key(c))
        .collect();
    let mut rng = Rng(0x00C0_FFEE_5EED_0001);
    let before = LIVE.load(Ordering::Relaxed);
    let mut tpm = started_tpm(0x5EED).expect("a started TPM");
    let config = *tpm.config();
    let bound = heap_bound(&config);
    // Baseline: the heap of the started TPM.
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    const WINDOWS: usize = 8;
    let mut window_peaks = Vec::new();
    let mut ok = 0usize;
    for i in 0..COMMANDS {
        // tpm2-tools flushes after every tool: keep only one FlushContext
        // in 20 so that objects and sessions pile up to the limits.
        let mut cmd = &pool[rng.below(pool.len())];
        while cmd.get(6..10) == Some(&[0, 0, 0x01, 0x65][..]) && rng.below(20) != 0 {
            cmd = &pool[rng.below(pool.len())];
        }
        let rsp = if rng.below(2) == 0 {
            tpm.execute(0, cmd)
        } else {
            tpm.execute(0, &mutate(&mut rng, cmd))
        };
        if rsp.get(6..10) == Some(&[0, 0, 0, 0][..]) {
            ok += 1;
        }
        if let Err(e) = check_response(&rsp) {
            panic!("command #{i}: {e}");
        }
        drop(rsp);
        // A Shutdown now and then, then a Startup: the stream keeps a
        // started TPM.
        if rng.below(10_000) == 0 {
            tpm.reset();
            let _ = tpm.execute(0, &vtpm_core::testing::STARTUP_CLEAR);
        }
        if (i + 1) % (COMMANDS / WINDOWS) == 0 {
            let peak = PEAK.swap(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
            window_peaks.push(peak.saturating_sub(base));
        }
    }
    let live_end = LIVE.load(Ordering::Relaxed).saturating_sub(base);
    drop(tpm);
    let leaked = LIVE.load(Ordering::Relaxed).saturating_sub(before);
    let peak = window_peaks.iter().copied().max().unwrap_or(0);
    println!(
        "{COMMANDS} commands ({ok} succeeded) in {:.1} s; started TPM {} bytes; \
         peak above it {peak} bytes, per window {window_peaks:?}; at the end {live_end}; \
         bound {bound}; after drop {leaked} bytes still live",
        started.elapsed().as_secs_f64(),
        base.saturating_sub(before),
    );
    assert!(
        ok > COMMANDS / 20,
        "only {ok} of {COMMANDS} commands succeeded: the stream does not reach the engine"
    );
    assert!(
        peak <= bound,
        "live heap peaked at {peak} bytes above the started TPM, over the bound {bound}"
    );
    // After the warm-up (the first quarter), the peak does not keep
    // growing: the second half stays within 64 KiB of the first half.
    let first_half = window_peaks[..WINDOWS / 2]
        .iter()
        .copied()
        .max()
        .unwrap_or(0);
    let second_half = window_peaks[WINDOWS / 2..]
        .iter()
        .copied()
        .max()
        .unwrap_or(0);
    assert!(
        second_half <= first_half + 64 * 1024,
        "the peak keeps growing: first half {first_half}, second half {second_half} ({window_peaks:?})"
    );
    assert!(
        leaked <= 4096,
        "{leaked} bytes still live after the TPM was dropped"
    );
}

/// The `socket` fuzz target's allocation bound, on stable: reading the
/// requests of one input allocates at most 4 x its length + 64 KiB, for
/// every committed `socket` input and for length fields that announce
/// 1 MiB (or more) with only a few octets behind them.
#[test]
fn socket_framing_allocates_in_proportion_to_input() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut inputs: Vec<Vec<u8>> = vec![
        // mssim TPM_SEND_COMMAND, locality 0, 1 MiB announced.
        vec![0, 0, 0, 0, 8, 0, 0, 0x10, 0, 0, 0x80, 0x01],
        // mssim TPM_SIGNAL_HASH_DATA, 1 MiB announced.
        vec![0, 0, 0, 0, 6, 0, 0x10, 0, 0, 1, 2, 3],
        // swtpm data channel: raw header with a 1 MiB size.
        vec![2, 0x80, 0x01, 0, 0x10, 0, 0, 0, 0, 1, 0x7b, 9],
        // swtpm data channel, mssim framing, 1 MiB announced.
        vec![2, 0, 0, 0, 8, 0, 0, 0x10, 0, 0, 1],
        // swtpm control: CMD_SET_STATEBLOB announcing 4 GiB.
        vec![
            3, 255, 0, 0, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1,
        ],
    ];
    let dir = workspace_root().join("fuzz/corpus/socket");
    for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = e.expect("dir entry").path();
        inputs.push(std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    }
    for data in &inputs {
        let base = LIVE.load(Ordering::Relaxed);
        PEAK.store(base, Ordering::Relaxed);
        let r = vtpm_tests::fuzzing::socket_input(data);
        let used = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        assert_eq!(r, Ok(()), "socket input {data:02x?}");
        let limit = 4 * data.len() + 64 * 1024;
        assert!(
            used <= limit,
            "reading {} octets allocated {used} bytes (limit {limit}): {data:02x?}",
            data.len()
        );
    }
}
