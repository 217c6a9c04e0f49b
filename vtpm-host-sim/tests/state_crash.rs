//! Crash safety: a simulator is SIGKILLed at random moments while a client
//! writes an NV counter as fast as it can; after every restart the state
//! loads and holds every write that was acknowledged.
//!
//! VTPM_CRASH_WRITES sets how many acknowledged writes to reach (default
//! 1000); VTPM_CRASH_SEED replays a run (the seed is printed).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod state_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use state_support::*;

const INDEX: u32 = 0x0100_0042;

fn read_counter(sim: &mut Sim) -> u64 {
    let data = nv_read_data(&sim.send(&nv_read_cmd(INDEX, 8, 0)));
    u64::from_be_bytes(data.try_into().unwrap())
}

#[test]
fn sigkill_during_nv_writes_loses_no_acknowledged_write() {
    let target: u64 = std::env::var("VTPM_CRASH_WRITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut rng = Rng::from_env("VTPM_CRASH_SEED");
    let dir = temp_dir("crash");
    let state = dir.join("state");
    let sock = dir.join("sock");
    let log = dir.join("sim.log");

    // First life: define the counter (zeroed by an acknowledged write).
    let mut sim = Sim::start(&state, &sock, &log, &[]);
    sim.send_ok(&STARTUP_CLEAR);
    sim.send_ok(&nv_define(INDEX, 8));
    sim.send_ok(&nv_write(INDEX, 0, &0u64.to_be_bytes()));
    sim.stop();

    let t0 = Instant::now();
    let mut acked_value = 0u64; // the newest acknowledged value
    let mut acked_writes = 0u64;
    let mut lives = 0u64;
    let mut inflight_landed = 0u64;
    while acked_writes < target {
        lives += 1;
        let mut sim = Sim::try_start(&state, &sock, &log, &[])
            .unwrap_or_else(|e| panic!("life {lives}: the state does not load: {e}"));
        sim.send_ok(&STARTUP_CLEAR);
        let found = read_counter(&mut sim);
        // Every acknowledged write is there; the one in flight when the
        // process died may or may not be.
        assert!(
            found == acked_value || found == acked_value + 1,
            "life {lives}: counter {found}, but {acked_value} was acknowledged"
        );
        if found != acked_value {
            inflight_landed += 1;
        }
        acked_value = found;

        // Kill at a random moment in the next ~0-60 ms of writes.
        let pid = sim.child.id();
        let delay = Duration::from_micros(rng.below(60_000));
        let killed = Arc::new(Mutex::new(false));
        let killer = {
            let killed = Arc::clone(&killed);
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                let st = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status()
                    .unwrap();
                *killed.lock().unwrap() = st.success();
            })
        };
        let mut next = acked_value + 1;
        // Until the connection breaks: the simulator was killed.
        while let Some(rsp) = sim.try_send(&nv_write(INDEX, 0, &next.to_be_bytes())) {
            assert_eq!(rc(&rsp), 0, "NV_Write rc 0x{:x}", rc(&rsp));
            acked_value = next;
            acked_writes += 1;
            next += 1;
        }
        killer.join().unwrap();
        assert!(*killed.lock().unwrap(), "the simulator was not killed");
        let status = sim.child.wait().unwrap();
        assert!(!status.success());
        assert!(
            t0.elapsed() < Duration::from_secs(600),
            "too slow: {acked_writes} writes in {lives} lives"
        );
    }

    // The last life ends cleanly, and the directory verifies.
    let mut sim = Sim::start(&state, &sock, &log, &[]);
    sim.send_ok(&STARTUP_CLEAR);
    let found = read_counter(&mut sim);
    assert!(found == acked_value || found == acked_value + 1);
    let full_log = sim.stop();
    let verdict = run_ok(&["verify", "--state", s(&state)]);
    assert!(verdict.contains("verdict: OK"), "{verdict}");
    // No slot was ever torn: every commit is a rename.
    assert!(!full_log.contains("ignoring slot"), "{full_log}");
    assert!(!full_log.contains("ERROR"), "{full_log}");
    eprintln!(
        "{acked_writes} acknowledged writes, {lives} SIGKILLs (after {inflight_landed} of them \
         the unacknowledged write in flight had landed), {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(dir);
}
