//! The sealed state blob and A/B slot selection, through the public API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use vtpm_core::state::blob::{
    open, seal, BlobError, BlobHeader, SealingKey, FORMAT_VERSION, HEADER_LEN, MAGIC,
    MAX_BLOB_SIZE, TAG_LEN,
};
use vtpm_core::state::slots::{choose, next_write, LoadError, Position, Slot, SlotReport};
use vtpm_core::state::PersistentState;
use vtpm_core::testing::started_tpm;

fn key() -> SealingKey {
    SealingKey::new([0x11; 32])
}

/// A real serialized persistent state.
fn state() -> Vec<u8> {
    started_tpm(1).unwrap().serialize_state().unwrap()
}

fn sealed(generation: u64, plaintext: &[u8]) -> Vec<u8> {
    let nonce = [generation as u8; 12];
    seal(&key(), generation, &nonce, plaintext).unwrap()
}

// ---------------------------------------------------------------- blob

#[test]
fn round_trip_of_a_real_state() {
    let pt = state();
    let blob = seal(&key(), 9, &[5; 12], &pt).unwrap();
    assert_eq!(blob.len(), HEADER_LEN + pt.len() + TAG_LEN);
    assert_eq!(&blob[..8], &MAGIC);
    // The state is not in the blob in clear.
    assert!(!blob.windows(32).any(|w| pt.windows(32).any(|p| p == w)));
    let (h, out) = open(&key(), &blob).unwrap();
    assert_eq!(out.as_slice(), &pt[..]);
    assert_eq!(h.generation, 9);
    assert_eq!(h.format_version, FORMAT_VERSION);
    assert_eq!(BlobHeader::parse(&blob).unwrap(), h);
    PersistentState::from_bytes(&out).unwrap();
}

#[test]
fn every_flipped_byte_is_refused() {
    let blob = sealed(3, &state());
    for i in 0..blob.len() {
        for mask in [0x01u8, 0x80, 0xFF] {
            let mut bad = blob.clone();
            bad[i] ^= mask;
            let err = open(&key(), &bad).expect_err("tampered blob accepted");
            let expected_kind = match i {
                0..=7 => matches!(err, BlobError::BadMagic),
                8..=9 => matches!(err, BlobError::UnknownFormatVersion(_)),
                30..=37 => matches!(err, BlobError::WrongKey { .. }),
                38..=41 => matches!(
                    err,
                    BlobError::Truncated { .. } | BlobError::TrailingData { .. }
                ),
                _ => err == BlobError::AuthenticationFailed,
            };
            assert!(expected_kind, "byte {i} ^ {mask:#x}: {err:?}");
        }
    }
}

#[test]
fn every_truncation_and_extension_is_refused() {
    let blob = sealed(3, &state());
    for len in 0..blob.len() {
        let err = open(&key(), &blob[..len]).expect_err("truncated blob accepted");
        assert!(
            matches!(err, BlobError::Truncated { len: l, .. } if l == len),
            "len {len}: {err:?}"
        );
    }
    let mut longer = blob.clone();
    longer.push(0);
    assert_eq!(
        open(&key(), &longer).unwrap_err(),
        BlobError::TrailingData {
            len: blob.len() + 1,
            expected: blob.len()
        }
    );
}

#[test]
fn arbitrary_inputs_never_panic() {
    // Short random-ish inputs and inputs with a valid prefix and garbage.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let blob = sealed(1, b"hello");
    for n in 0..2000usize {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = n % 128;
        let mut v: Vec<u8> = (0..len).map(|i| (x >> (i % 8 * 8)) as u8).collect();
        if n % 2 == 0 {
            let keep = n % blob.len().min(len + 1);
            v[..keep].copy_from_slice(&blob[..keep]);
        }
        assert!(open(&key(), &v).is_err());
    }
}

#[test]
fn wrong_key_is_refused_as_wrong_key() {
    let blob = sealed(1, b"state");
    let other = SealingKey::new([0x22; 32]);
    assert_eq!(
        open(&other, &blob).unwrap_err(),
        BlobError::WrongKey {
            expected_id: other.key_id(),
            found_id: key().key_id(),
        }
    );
    // Forging the key id does not help: the tag still fails.
    let mut forged = blob.clone();
    forged[30..38].copy_from_slice(&other.key_id());
    assert_eq!(
        open(&other, &forged).unwrap_err(),
        BlobError::AuthenticationFailed
    );
}

#[test]
fn unknown_version_bad_magic_and_oversize_are_named() {
    let blob = sealed(1, b"state");
    let mut v2 = blob.clone();
    v2[8..10].copy_from_slice(&2u16.to_be_bytes());
    assert_eq!(
        open(&key(), &v2).unwrap_err(),
        BlobError::UnknownFormatVersion(2)
    );
    let msg = open(&key(), &v2).unwrap_err().to_string();
    assert!(msg.contains("format version 2 is unknown"), "{msg}");

    let mut notours = blob.clone();
    notours[..8].copy_from_slice(b"GARBAGE!");
    assert_eq!(open(&key(), &notours).unwrap_err(), BlobError::BadMagic);

    let mut huge = blob;
    huge.resize(MAX_BLOB_SIZE + 1, 0);
    assert_eq!(
        open(&key(), &huge).unwrap_err(),
        BlobError::TooLarge {
            len: MAX_BLOB_SIZE + 1,
            max: MAX_BLOB_SIZE
        }
    );
}

// ---------------------------------------------------------------- known answer

/// The committed known-answer blob: format version 1, sealed with
/// [`KAT_KEY`], generation [`KAT_GENERATION`] and nonce [`KAT_NONCE`], over
/// the serialized persistent state (schema version 1) of
/// `vtpm_core::testing::started_tpm(1)` as of the release that introduced
/// the sealed format.
///
/// Every future release must keep opening this file and parsing its state
/// (through `PersistentState::from_bytes` and its migrations): users' TPMs
/// are stored in this format. Do NOT regenerate it because a test fails —
/// that failure means an upgrade would strand existing TPMs. Regenerate it
/// only deliberately, when adding a new known-answer file for a new format
/// or schema version next to this one (never replacing it):
///
/// ```text
/// VTPM_WRITE_KAT=tests/data/sealed-state-v1.bin \
///     cargo test -p vtpm-core --test blob -- --ignored write_known_answer_blob
/// ```
const KAT_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/sealed-state-v1.bin"
);
const KAT_KEY: [u8; 32] = *b"vtpm known-answer sealing key 01";
const KAT_NONCE: [u8; 12] = *b"kat nonce 01";
const KAT_GENERATION: u64 = 0x0102_0304_0506_0708;

#[test]
fn known_answer_blob_still_opens() {
    let blob = std::fs::read(KAT_PATH).expect("committed known-answer blob");
    let key = SealingKey::new(KAT_KEY);
    let (h, pt) = open(&key, &blob).expect("known-answer blob must open");
    assert_eq!(h.magic, *b"VTPMSEAL");
    assert_eq!(h.format_version, 1);
    assert_eq!(h.generation, KAT_GENERATION);
    assert_eq!(h.nonce, KAT_NONCE);
    assert_eq!(h.key_id, key.key_id());
    assert_eq!(&pt[..2], &[0, 1], "schema version 1 inside");
    let st = PersistentState::from_bytes(&pt).unwrap_or_else(|e| {
        panic!(
            "the known-answer state no longer parses ({e}): PersistentState's serialized \
             layout changed without a new SCHEMA_VERSION. Bump SCHEMA_VERSION and teach \
             `state::migrate` to read the old version; do not regenerate this file."
        )
    });
    assert!(!st.eps.is_empty());
    // Sealing the same plaintext the same way reproduces the file byte for
    // byte: the cipher, key id and layout are pinned, not just readable.
    assert_eq!(seal(&key, KAT_GENERATION, &KAT_NONCE, &pt).unwrap(), blob);
}

/// The same for persistent-state schema version 2, the schema of the first
/// release that carries sessions, NV, audit and ACT state (written with
/// `VTPM_WRITE_KAT=tests/data/sealed-state-v2.bin` and the test below).
/// The same rules apply: never regenerate it, add a new file instead.
const KAT_V2_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/sealed-state-v2.bin"
);

#[test]
fn known_answer_blob_v2_still_opens() {
    let blob = std::fs::read(KAT_V2_PATH).expect("committed known-answer blob (v2)");
    let key = SealingKey::new(KAT_KEY);
    let (h, pt) = open(&key, &blob).expect("known-answer blob must open");
    assert_eq!(h.format_version, 1);
    assert_eq!(&pt[..2], &[0, 2], "schema version 2 inside");
    let st = PersistentState::from_bytes(&pt).unwrap_or_else(|e| {
        panic!(
            "the v2 known-answer state no longer parses ({e}): bump SCHEMA_VERSION and \
             teach `state::migrate` to read version 2; do not regenerate this file."
        )
    });
    assert!(!st.eps.is_empty());
    assert_eq!(seal(&key, KAT_GENERATION, &KAT_NONCE, &pt).unwrap(), blob);
}

/// The same for persistent-state schema version 3, whose `Shutdown(STATE)`
/// state carries the saved-session table, the context counter and the rest
/// of the NV Reset Data (written with
/// `VTPM_WRITE_KAT=tests/data/sealed-state-v3.bin` and the test below, which
/// since version 3 writes [`kat_state`]: a TPM with a saved session after
/// `Shutdown(STATE)`, so that the new part of the layout is pinned too).
/// The same rules apply: never regenerate it, add a new file instead.
const KAT_V3_PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/sealed-state-v3.bin"
);

fn rc_of(rsp: &[u8]) -> u32 {
    u32::from_be_bytes(rsp[6..10].try_into().unwrap())
}

fn command(code: u32, body: &[u8]) -> Vec<u8> {
    let mut c = vec![0x80, 0x01];
    c.extend_from_slice(&(10 + body.len() as u32).to_be_bytes());
    c.extend_from_slice(&code.to_be_bytes());
    c.extend_from_slice(body);
    c
}

/// The session handle saved in [`kat_state`] and the sequence number of its
/// context.
const KAT_SESSION: u32 = 0x0200_0000;

/// `started_tpm(1)`, then an HMAC session started and context-saved, then
/// `Shutdown(STATE)`: the serialized state.
fn kat_state() -> Vec<u8> {
    let mut t = started_tpm(1).unwrap();
    let mut body = Vec::new();
    body.extend_from_slice(&0x4000_0007u32.to_be_bytes()); // tpmKey: none
    body.extend_from_slice(&0x4000_0007u32.to_be_bytes()); // bind: none
    body.extend_from_slice(&[0, 16]);
    body.extend_from_slice(&[0x11; 16]); // nonceCaller
    body.extend_from_slice(&[0, 0, 0]); // no salt; HMAC session
    body.extend_from_slice(&[0x00, 0x10, 0x00, 0x0B]); // no symmetric; SHA-256
    let rsp = t.execute(0, &command(0x176, &body));
    assert_eq!(rc_of(&rsp), 0, "StartAuthSession");
    assert_eq!(rsp[10..14], KAT_SESSION.to_be_bytes());
    let rsp = t.execute(0, &command(0x162, &KAT_SESSION.to_be_bytes()));
    assert_eq!(rc_of(&rsp), 0, "ContextSave");
    let rsp = t.execute(0, &command(0x145, &[0, 1]));
    assert_eq!(rc_of(&rsp), 0, "Shutdown(STATE)");
    t.serialize_state().unwrap()
}

/// A TPM loaded from `pt` starts (`Startup(STATE)` if `resume`, else
/// `Startup(CLEAR)`); returns it.
fn boots(pt: &[u8], resume: bool) -> vtpm_core::Tpm<vtpm_core::testing::TestPlatform> {
    let mut t = vtpm_core::Tpm::load(
        vtpm_core::testing::TestPlatform::new(3),
        Default::default(),
        pt,
    )
    .unwrap();
    t.power_on();
    let rsp = t.execute(0, &command(0x144, &[0, u8::from(resume)]));
    assert_eq!(rc_of(&rsp), 0, "Startup (resume {resume})");
    t
}

#[test]
fn known_answer_blobs_v1_and_v2_boot() {
    let key = SealingKey::new(KAT_KEY);
    for path in [KAT_PATH, KAT_V2_PATH] {
        let (_, pt) = open(&key, &std::fs::read(path).unwrap()).unwrap();
        boots(&pt, false);
    }
}

#[test]
fn known_answer_blob_v3_still_opens_and_resumes() {
    let blob = std::fs::read(KAT_V3_PATH).expect("committed known-answer blob (v3)");
    let key = SealingKey::new(KAT_KEY);
    let (h, pt) = open(&key, &blob).expect("known-answer blob must open");
    assert_eq!(h.format_version, 1);
    assert_eq!(&pt[..2], &[0, 3], "schema version 3 inside");
    let st = PersistentState::from_bytes(&pt).unwrap_or_else(|e| {
        panic!(
            "the v3 known-answer state no longer parses ({e}): bump SCHEMA_VERSION and \
             teach `state::migrate` to read version 3; do not regenerate this file."
        )
    });
    assert_eq!(st.orderly, vtpm_core::state::Orderly::State);
    let saved = st.saved.as_ref().expect("saved by Shutdown(STATE)");
    assert_eq!(saved.sessions.len(), 1);
    assert_eq!(saved.sessions[0].handle, KAT_SESSION);
    assert_eq!(saved.context_counter, saved.sessions[0].sequence + 1);
    assert_eq!(seal(&key, KAT_GENERATION, &KAT_NONCE, &pt).unwrap(), blob);
    // It resumes with the saved session active (flushing it succeeds).
    let mut t = boots(&pt, true);
    let rsp = t.execute(0, &command(0x165, &KAT_SESSION.to_be_bytes()));
    assert_eq!(rc_of(&rsp), 0, "FlushContext of the restored session");
}

#[test]
#[ignore = "writes the known-answer file; see KAT_PATH's comment before running"]
fn write_known_answer_blob() {
    let Ok(path) = std::env::var("VTPM_WRITE_KAT") else {
        panic!("set VTPM_WRITE_KAT to the output path (read the comment on KAT_PATH first)");
    };
    let pt = kat_state();
    let blob = seal(&SealingKey::new(KAT_KEY), KAT_GENERATION, &KAT_NONCE, &pt).unwrap();
    std::fs::write(path, blob).unwrap();
}

// ---------------------------------------------------------------- A/B slots

#[test]
fn ab_both_valid_newest_generation_wins() {
    let old = sealed(4, b"old");
    let new = sealed(5, b"new");
    let c = choose(Some(&old), Some(&new), &key(), None).unwrap();
    assert_eq!((c.slot, c.generation()), (Slot::B, 5));
    assert_eq!(c.plaintext.as_slice(), b"new");
    assert_eq!(c.other, SlotReport::Valid { generation: 4 });
    let c = choose(Some(&new), Some(&old), &key(), None).unwrap();
    assert_eq!((c.slot, c.generation()), (Slot::A, 5));
    assert_eq!(
        c.next_write(),
        Some(Position {
            slot: Slot::B,
            generation: 6
        })
    );
}

#[test]
fn ab_torn_newer_slot_falls_back_to_older() {
    let old = sealed(7, b"old state");
    let new = sealed(8, b"new state");
    for len in 0..new.len() {
        let c = choose(Some(&old), Some(&new[..len]), &key(), Some(7)).unwrap();
        assert_eq!(c.slot, Slot::A);
        assert_eq!(c.plaintext.as_slice(), b"old state");
        assert!(matches!(c.other, SlotReport::Invalid(_)), "{len}");
    }
    // A torn in-place overwrite (right length, wrong bytes) too.
    let mut garbled = new.clone();
    for b in &mut garbled[HEADER_LEN + 3..] {
        *b = 0;
    }
    let c = choose(Some(&garbled), Some(&old), &key(), None).unwrap();
    assert_eq!(c.slot, Slot::B);
    assert_eq!(
        c.other,
        SlotReport::Invalid(BlobError::AuthenticationFailed)
    );
}

#[test]
fn ab_one_valid_other_absent() {
    let only = sealed(1, b"s");
    let c = choose(None, Some(&only), &key(), None).unwrap();
    assert_eq!((c.slot, c.other), (Slot::B, SlotReport::Absent));
    let c = choose(Some(&only), None, &key(), None).unwrap();
    assert_eq!((c.slot, c.other), (Slot::A, SlotReport::Absent));
}

#[test]
fn ab_no_valid_slot_lists_each_reason() {
    let mut bad = sealed(2, b"s");
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let err = choose(Some(&bad), None, &key(), None).unwrap_err();
    assert_eq!(
        err,
        LoadError::NoValidSlot {
            a: Some(BlobError::AuthenticationFailed),
            b: None
        }
    );
    let msg = err.to_string();
    assert!(
        msg.contains("slot A: sealed state failed authentication"),
        "{msg}"
    );
    assert!(msg.contains("slot B: absent"), "{msg}");
    let err = choose(Some(&bad), Some(b"junk"), &key(), None).unwrap_err();
    assert!(matches!(
        err,
        LoadError::NoValidSlot {
            a: Some(BlobError::AuthenticationFailed),
            b: Some(BlobError::Truncated { .. })
        }
    ));
}

#[test]
fn ab_nothing_stored() {
    assert_eq!(
        choose(None, None, &key(), None).unwrap_err(),
        LoadError::Empty
    );
    assert_eq!(
        choose(None, None, &key(), Some(3)).unwrap_err(),
        LoadError::Missing { min_generation: 3 }
    );
}

#[test]
fn ab_rollback_is_refused() {
    let g4 = sealed(4, b"four");
    let g5 = sealed(5, b"five");
    assert!(choose(Some(&g4), Some(&g5), &key(), Some(5)).is_ok());
    // The host withholds the newest slot, or replays an old pair.
    let err = choose(Some(&g4), None, &key(), Some(5)).unwrap_err();
    assert_eq!(err, LoadError::Rollback { found: 4, min: 5 });
    assert!(err.to_string().contains("rollback"));
    // A "torn" newest slot cannot be used to roll back either.
    let err = choose(Some(&g4), Some(&g5[..20]), &key(), Some(5)).unwrap_err();
    assert_eq!(err, LoadError::Rollback { found: 4, min: 5 });
}

#[test]
fn ab_newer_unknown_version_blocks_fallback() {
    let old = sealed(4, b"old");
    let mut newer = sealed(5, b"new");
    newer[8..10].copy_from_slice(&2u16.to_be_bytes());
    let err = choose(Some(&old), Some(&newer), &key(), None).unwrap_err();
    assert_eq!(
        err,
        LoadError::Unreadable {
            slot: Slot::B,
            error: BlobError::UnknownFormatVersion(2),
            claimed_generation: None,
            valid_generation: 4
        }
    );
    assert!(err.to_string().contains("refusing to fall back"));
}

#[test]
fn ab_foreign_key_blocks_only_when_not_older() {
    let other = SealingKey::new([0x33; 32]);
    let mine = sealed(10, b"mine");
    let newer_foreign = seal(&other, 11, &[0; 12], b"theirs").unwrap();
    let older_foreign = seal(&other, 9, &[0; 12], b"theirs").unwrap();
    let err = choose(Some(&newer_foreign), Some(&mine), &key(), None).unwrap_err();
    assert!(matches!(
        err,
        LoadError::Unreadable {
            slot: Slot::A,
            error: BlobError::WrongKey { .. },
            claimed_generation: Some(11),
            valid_generation: 10
        }
    ));
    let c = choose(Some(&older_foreign), Some(&mine), &key(), None).unwrap();
    assert_eq!(c.slot, Slot::B);
    assert!(matches!(
        c.other,
        SlotReport::Invalid(BlobError::WrongKey { .. })
    ));
}

/// Simulates a store that alternates slots and crashes in the middle of
/// every write: whatever was torn, loading yields the last durable state.
#[test]
fn ab_crash_during_any_write_keeps_last_durable_state() {
    let mut slots: [Option<Vec<u8>>; 2] = [None, None];
    let mut newest: Option<Position> = None;
    for round in 0u8..6 {
        let pos = next_write(newest).unwrap();
        let pt = [round; 20];
        let blob = seal(&key(), pos.generation, &[round; 12], &pt).unwrap();
        let idx = match pos.slot {
            Slot::A => 0,
            Slot::B => 1,
        };
        // Crash after writing only a prefix.
        for cut in (0..blob.len()).step_by(7) {
            let mut torn = slots.clone();
            torn[idx] = Some(blob[..cut].to_vec());
            let min = newest.map(|p| p.generation);
            match choose(torn[0].as_deref(), torn[1].as_deref(), &key(), min) {
                Ok(c) => {
                    assert_eq!(Some(c.position()), newest);
                    assert_eq!(c.plaintext.as_slice(), &[round.wrapping_sub(1); 20]);
                }
                Err(e) => {
                    assert!(newest.is_none(), "round {round} cut {cut}: {e}");
                    assert!(matches!(e, LoadError::NoValidSlot { .. }));
                }
            }
        }
        // The write completes.
        slots[idx] = Some(blob);
        newest = Some(pos);
        let c = choose(slots[0].as_deref(), slots[1].as_deref(), &key(), None).unwrap();
        assert_eq!(Some(c.position()), newest);
        assert_eq!(c.plaintext.as_slice(), &pt);
    }
}
