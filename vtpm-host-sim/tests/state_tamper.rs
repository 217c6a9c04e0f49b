//! Tampering and damage: every byte of a committed slot file flipped, and
//! the file truncated at every length. With the other slot good the state
//! falls back to it (and leaves it untouched); with the other slot bad the
//! state is refused with the reason. Replayed, deleted and foreign slots
//! are refused, never replaced by a new TPM.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod state_support;

use std::fs;
use std::path::Path;

use state_support::*;

/// Header fields (docs/state.md): format version at 8..10, key id at
/// 30..38. A blob that changed there is "foreign" (newer release, other
/// key), not damage, and its generation claim is not older than slot A's,
/// so it is refused rather than skipped.
fn foreign_when_flipped(i: usize) -> Option<&'static str> {
    match i {
        8..=9 => Some("format version"),
        30..=37 => Some("another key"),
        _ => None,
    }
}

/// A manufactured state: slot A generation 1, slot B generation 2 (the
/// newest), the same TPM in both.
fn setup(tag: &str) -> (std::path::PathBuf, Vec<u8>, Vec<u8>) {
    let dir = temp_dir(tag);
    run_ok(&["manufacture", "--state", s(&dir)]);
    let a = fs::read(dir.join("vtpm-state.a")).unwrap();
    let b = fs::read(dir.join("vtpm-state.b")).unwrap();
    (dir, a, b)
}

fn verify(dir: &Path) -> (bool, String) {
    let (ok, out, err) = run(&["verify", "--state", s(dir)]);
    (ok, format!("{out}{err}"))
}

#[test]
fn flipped_newest_slot_falls_back_to_the_good_one() {
    let (dir, a, b) = setup("flip-good");
    for i in 0..b.len() {
        let mut bad = b.clone();
        bad[i] ^= 0xFF;
        fs::write(dir.join("vtpm-state.b"), &bad).unwrap();
        let (ok, out) = verify(&dir);
        match foreign_when_flipped(i) {
            Some(reason) => {
                assert!(!ok, "byte {i}: {out}");
                assert!(out.contains(reason), "byte {i}: {out}");
                assert!(out.contains("refusing to fall back"), "byte {i}: {out}");
            }
            None => {
                assert!(ok, "byte {i}: {out}");
                assert!(
                    out.contains("verdict: OK: generation 1 from slot A loads")
                        && out.contains("slot B ignored"),
                    "byte {i}: {out}"
                );
            }
        }
        assert_eq!(fs::read(dir.join("vtpm-state.a")).unwrap(), a, "byte {i}");
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn truncated_newest_slot_falls_back_to_the_good_one() {
    let (dir, a, b) = setup("trunc-good");
    for len in 0..b.len() {
        fs::write(dir.join("vtpm-state.b"), &b[..len]).unwrap();
        let (ok, out) = verify(&dir);
        assert!(ok, "length {len}: {out}");
        assert!(
            out.contains("generation 1 from slot A loads") && out.contains("slot B ignored"),
            "length {len}: {out}"
        );
        assert!(
            out.contains("truncated") || out.contains("bad magic"),
            "length {len}: {out}"
        );
        assert_eq!(fs::read(dir.join("vtpm-state.a")).unwrap(), a);
    }
    // One byte too many is damage as well.
    let mut long = b.clone();
    long.push(0);
    fs::write(dir.join("vtpm-state.b"), &long).unwrap();
    let (ok, out) = verify(&dir);
    assert!(ok && out.contains("trailing data"), "{out}");
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn flipped_newest_slot_with_the_other_bad_is_refused() {
    let (dir, a, b) = setup("flip-bad");
    let a_bad = &a[..100];
    fs::write(dir.join("vtpm-state.a"), a_bad).unwrap();
    for i in 0..b.len() {
        let mut bad = b.clone();
        bad[i] ^= 0xFF;
        fs::write(dir.join("vtpm-state.b"), &bad).unwrap();
        let (ok, out) = verify(&dir);
        assert!(!ok, "byte {i}: {out}");
        assert!(
            out.contains("verdict: FAILED: no valid sealed state"),
            "byte {i}: {out}"
        );
        assert!(
            out.contains("slot A: sealed state is truncated"),
            "byte {i}: {out}"
        );
        let reason = foreign_when_flipped(i).unwrap_or(match i {
            0..=7 => "bad magic",
            38..=41 => "",
            _ => "failed authentication",
        });
        assert!(out.contains(reason), "byte {i}: {out}");
        assert_eq!(fs::read(dir.join("vtpm-state.a")).unwrap(), a_bad);
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn truncated_newest_slot_with_the_other_bad_is_refused() {
    let (dir, a, b) = setup("trunc-bad");
    let mut a_bad = a.clone();
    let last = a_bad.len() - 1;
    a_bad[last] ^= 1;
    fs::write(dir.join("vtpm-state.a"), &a_bad).unwrap();
    for len in (0..b.len()).step_by(3) {
        fs::write(dir.join("vtpm-state.b"), &b[..len]).unwrap();
        let (ok, out) = verify(&dir);
        assert!(!ok, "length {len}: {out}");
        assert!(
            out.contains("slot A: sealed state failed authentication"),
            "length {len}: {out}"
        );
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn flipped_older_slot_is_ignored() {
    let (dir, a, b) = setup("flip-older");
    for i in (0..a.len()).step_by(5) {
        let mut bad = a.clone();
        bad[i] ^= 0x01;
        fs::write(dir.join("vtpm-state.a"), &bad).unwrap();
        let (ok, out) = verify(&dir);
        // A foreign-looking older slot is ignored too (it claims an older
        // generation), except a key id or version flip that makes its
        // claim unreadable or not older.
        if (8..=9).contains(&i) {
            assert!(!ok && out.contains("format version"), "byte {i}: {out}");
        } else {
            assert!(ok, "byte {i}: {out}");
            assert!(
                out.contains("generation 2 from slot B loads"),
                "byte {i}: {out}"
            );
        }
        assert_eq!(fs::read(dir.join("vtpm-state.b")).unwrap(), b);
    }
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn the_simulator_falls_back_and_then_overwrites_the_damaged_slot() {
    let (dir, a, b) = setup("sim-fallback");
    // Slot B (the newest) damaged: the simulator starts from slot A.
    let mut bad = b.clone();
    bad[200] ^= 0x40;
    fs::write(dir.join("vtpm-state.b"), &bad).unwrap();
    let sock = dir.join("sock");
    let log = dir.join("log");
    let mut sim = Sim::start(&dir, &sock, &log, &[]);
    sim.send_ok(&STARTUP_CLEAR);
    let log = sim.stop();
    assert!(
        log.contains("ignoring slot B") && log.contains("failed authentication"),
        "{log}"
    );
    assert!(log.contains("generation 1, slot A"), "{log}");
    // The next commit (Startup) replaced the damaged slot B, not slot A.
    assert_ne!(fs::read(dir.join("vtpm-state.b")).unwrap(), bad);
    let out = run_ok(&["verify", "--state", s(&dir)]);
    assert!(
        out.contains("slot A (vtpm-state.a): valid")
            && out.contains("slot B (vtpm-state.b): valid"),
        "{out}"
    );
    assert_ne!(fs::read(dir.join("vtpm-state.a")).unwrap(), a);
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn both_slots_damaged_is_refused_never_remanufactured() {
    let (dir, a, b) = setup("both-bad");
    let mut a2 = a.clone();
    a2[100] ^= 1;
    let mut b2 = b.clone();
    b2[100] ^= 1;
    fs::write(dir.join("vtpm-state.a"), &a2).unwrap();
    fs::write(dir.join("vtpm-state.b"), &b2).unwrap();
    let sock = dir.join("sock");
    let log = dir.join("log");
    let err = Sim::try_start(&dir, &sock, &log, &[]).err().unwrap();
    assert!(
        err.contains("no valid sealed state: slot A: sealed state failed authentication")
            && err.contains("--manufacture"),
        "{err}"
    );
    assert_eq!(fs::read(dir.join("vtpm-state.a")).unwrap(), a2);
    assert_eq!(fs::read(dir.join("vtpm-state.b")).unwrap(), b2);
    // --manufacture starts over and says what it replaced.
    fs::remove_file(&log).unwrap();
    let sim = Sim::start(&dir, &sock, &log, &["--manufacture"]);
    let log = sim.stop();
    assert!(
        log.contains("--manufacture: replaced the TPM state")
            && log.contains("slot A (vtpm-state.a, generation 1")
            && log.contains("slot B (vtpm-state.b, generation 2"),
        "{log}"
    );
    // The generation counter went on past the old one (3, 4), and the
    // exit commit (5).
    let out = run_ok(&["verify", "--state", s(&dir)]);
    assert!(out.contains("generation 5 from slot A"), "{out}");
    let _ = fs::remove_dir_all(dir);
}

#[test]
fn rollback_and_deletion_are_refused() {
    let (dir, a1, b2) = setup("rollback");
    // Two more commits: rekey twice (generations 3, 4 then 5, 6).
    let key = dir.join("k");
    fs::write(&key, [0x11u8; 32]).unwrap();
    run_ok(&["rekey", "--state", s(&dir), "--new-key-file", s(&key)]);
    // Put the old pair (and the old default key) back: a replay.
    fs::write(dir.join("vtpm-state.a"), &a1).unwrap();
    fs::write(dir.join("vtpm-state.b"), &b2).unwrap();
    let out = run_fail(&["verify", "--state", s(&dir), "--key-file", s(&key)]);
    assert!(out.contains("another key"), "{out}");
    // The same key for both generations (a replay under one key): sealed
    // with the original key, restored together with the key file.
    let (dir2, a1, b2) = setup("rollback2");
    let key2 = fs::read(dir2.join("vtpm-key")).unwrap();
    run_ok(&["manufacture", "--state", s(&dir2), "--force"]);
    fs::write(dir2.join("vtpm-key"), &key2).unwrap();
    fs::write(dir2.join("vtpm-state.a"), &a1).unwrap();
    fs::write(dir2.join("vtpm-state.b"), &b2).unwrap();
    let out = run_fail(&["verify", "--state", s(&dir2)]);
    assert!(
        out.contains(
            "rollback: the newest sealed state is generation 2, but generation 4 was seen before"
        ),
        "{out}"
    );
    let err = Sim::try_start(&dir2, &dir2.join("sock"), &dir2.join("log"), &[])
        .err()
        .unwrap();
    assert!(
        err.contains("rollback") && err.contains("vtpm-generation"),
        "{err}"
    );
    // Without the generation file the replay is not detected: the
    // documented limit (a host that controls the directory can roll back).
    fs::remove_file(dir2.join("vtpm-generation")).unwrap();
    run_ok(&["verify", "--state", s(&dir2)]);
    // Both slots deleted while the generation file remembers: missing.
    run_ok(&["manufacture", "--state", s(&dir2), "--force"]);
    fs::remove_file(dir2.join("vtpm-state.a")).unwrap();
    fs::remove_file(dir2.join("vtpm-state.b")).unwrap();
    let err = Sim::try_start(&dir2, &dir2.join("sock"), &dir2.join("log"), &[])
        .err()
        .unwrap();
    assert!(err.contains("missing from both slots"), "{err}");
    assert!(!dir2.join("vtpm-state.a").exists(), "not re-manufactured");
    let _ = fs::remove_dir_all(dir);
    let _ = fs::remove_dir_all(dir2);
}

#[test]
fn unknown_format_version_is_refused() {
    let (dir, _a, b) = setup("version");
    let mut newer = b.clone();
    newer[9] = 2;
    fs::write(dir.join("vtpm-state.b"), &newer).unwrap();
    let out = run_fail(&["verify", "--state", s(&dir)]);
    assert!(
        out.contains("format version 2 is unknown to this release")
            && out.contains("refusing to fall back to the older generation 1 in slot A"),
        "{out}"
    );
    let _ = fs::remove_dir_all(dir);
}
