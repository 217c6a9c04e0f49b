//! What survives which Startup (Part 1, 9.2.3, 27.3-27.5 and 34.4):
//!
//! * TPM Resume (`Shutdown(STATE)`, `Startup(STATE)`) and TPM Restart
//!   (`Shutdown(STATE)`, `Startup(CLEAR)`): sessions whose contexts were
//!   saved stay active and their contexts load; sessions loaded at the
//!   shutdown end; the context counter goes on; object contexts load,
//!   except those of stClear objects after a Restart.
//! * TPM Reset (`Startup(CLEAR)` after `Shutdown(CLEAR)` or after no
//!   orderly shutdown): no session and no saved context survives.
//!
//! The TPM is power-cycled through its committed state (a new `Tpm` loaded
//! from the bytes the platform was given), as a host does across a process
//! restart; one case also uses an in-process _TPM_Init.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use vtpm_core::state::PersistentState;
use vtpm_core::testing::{TestPlatform, STARTUP_CLEAR};
use vtpm_core::{Rc, Tpm};

type HmacSha256 = hmac::Hmac<Sha256>;

const OWNER: u32 = 0x4000_0001;
const RH_NULL: u32 = 0x4000_0007;
const STARTUP_STATE: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 1];
const OWNER_AUTH: &[u8] = b"owner secret";

fn rc_of(rsp: &[u8]) -> Rc {
    Rc(u32::from_be_bytes(rsp[6..10].try_into().unwrap()))
}

fn shutdown(t: &mut Tpm<TestPlatform>, state: bool) {
    let r = run(t, &Cmd::new(0x145).u16(u16::from(state)), false);
    assert_eq!(r.rc, Rc::SUCCESS, "Shutdown");
}

/// Power loss and a new process: a `Tpm` loaded from the committed state,
/// powered on, waiting for Startup.
fn power_cycle(t: &Tpm<TestPlatform>, seed: u64) -> Tpm<TestPlatform> {
    let state = t.platform().committed.clone().expect("a committed state");
    let mut t2 = Tpm::load(TestPlatform::new(seed), Default::default(), &state).unwrap();
    t2.power_on();
    t2
}

fn startup(t: &mut Tpm<TestPlatform>, state: bool) -> Rc {
    rc_of(&t.execute(
        0,
        if state {
            &STARTUP_STATE
        } else {
            &STARTUP_CLEAR
        },
    ))
}

fn persistent(t: &Tpm<TestPlatform>) -> PersistentState {
    PersistentState::from_bytes(t.platform().committed.as_ref().unwrap()).unwrap()
}

fn context_save(t: &mut Tpm<TestPlatform>, h: u32) -> Vec<u8> {
    let mut r = run(t, &Cmd::new(0x162).handle(h), false);
    assert_eq!(r.rc, Rc::SUCCESS, "ContextSave {h:#x}");
    r.rest()
}

fn context_load(t: &mut Tpm<TestPlatform>, ctx: &[u8]) -> Result<u32, Rc> {
    let r = run(t, &Cmd::new(0x161).bytes(ctx), true);
    if r.rc == Rc::SUCCESS {
        Ok(r.handle.unwrap())
    } else {
        Err(r.rc)
    }
}

fn flush(t: &mut Tpm<TestPlatform>, h: u32) -> Rc {
    run(t, &Cmd::new(0x165).u32(h), false).rc
}

fn hmac256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// StartAuthSession, unbound and unsalted, no parameter encryption,
/// SHA-256: `kind` 0 = HMAC, 1 = policy. Returns (handle, nonceTPM).
fn start_session(t: &mut Tpm<TestPlatform>, kind: u8) -> (u32, Vec<u8>) {
    let c = Cmd::new(0x176)
        .handle(RH_NULL)
        .handle(RH_NULL)
        .b2(&[0x5A; 32])
        .u16(0)
        .u8(kind)
        .u16(0x0010)
        .u16(0x000B);
    let mut r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS, "StartAuthSession");
    (r.handle.unwrap(), r.b2())
}

/// A TPM with ownerAuth set.
fn tpm_with_owner_auth() -> Tpm<TestPlatform> {
    let mut t = tpm();
    let c = Cmd::new(0x129).handle(OWNER).pw(b"").b2(OWNER_AUTH);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    t
}

/// A client's view of an HMAC session (unbound, unsalted: the HMAC key is
/// the authValue alone, Part 1, 19.6.5).
struct HmacSession {
    handle: u32,
    nonce_tpm: Vec<u8>,
    nonce_caller: Vec<u8>,
}

/// `TPM2_SetPrimaryPolicy(TPM_RH_OWNER, empty, TPM_ALG_NULL)` authorized
/// with ownerAuth through the HMAC session `s` (continueSession), using
/// `nonce_tpm` as the TPM's last nonce. On success the response HMAC is
/// checked and the new nonceTPM kept.
fn owner_command(t: &mut Tpm<TestPlatform>, s: &mut HmacSession, nonce_tpm: &[u8]) -> Rc {
    let code: u32 = 0x12E;
    let params = [0u8, 0, 0x00, 0x10];
    let cp = Sha256::digest([&code.to_be_bytes()[..], &OWNER.to_be_bytes(), &params].concat());
    s.nonce_caller = Sha256::digest(&s.nonce_caller).to_vec();
    let attrs = 1u8; // continueSession
    let mac = hmac256(OWNER_AUTH, &[&cp, &s.nonce_caller, nonce_tpm, &[attrs]]);
    let mut area = s.handle.to_be_bytes().to_vec();
    area.extend_from_slice(&sized(&s.nonce_caller));
    area.push(attrs);
    area.extend_from_slice(&sized(&mac));
    let mut v = vec![0x80, 0x02, 0, 0, 0, 0];
    v.extend_from_slice(&code.to_be_bytes());
    v.extend_from_slice(&OWNER.to_be_bytes());
    v.extend_from_slice(&(area.len() as u32).to_be_bytes());
    v.extend_from_slice(&area);
    v.extend_from_slice(&params);
    let n = (v.len() as u32).to_be_bytes();
    v[2..6].copy_from_slice(&n);
    let rsp = t.execute(0, &v);
    let rc = rc_of(&rsp);
    if rc != Rc::SUCCESS {
        return rc;
    }
    // No parameters: parameterSize 0, then nonceTPM, attributes, HMAC.
    let mut p = 14;
    let nlen = u16::from_be_bytes([rsp[p], rsp[p + 1]]) as usize;
    let nonce = rsp[p + 2..p + 2 + nlen].to_vec();
    p += 2 + nlen;
    let rattrs = rsp[p];
    p += 1;
    let hlen = u16::from_be_bytes([rsp[p], rsp[p + 1]]) as usize;
    let rmac = &rsp[p + 2..p + 2 + hlen];
    let rp = Sha256::digest([&0u32.to_be_bytes()[..], &code.to_be_bytes()].concat());
    let expect = hmac256(OWNER_AUTH, &[&rp, &nonce, &s.nonce_caller, &[rattrs]]);
    assert_eq!(rmac, &expect[..], "response HMAC");
    assert_ne!(nonce, s.nonce_tpm, "nonceTPM rolls");
    s.nonce_tpm = nonce;
    rc
}

fn policy_digest(t: &mut Tpm<TestPlatform>, h: u32) -> Vec<u8> {
    let mut r = run(t, &Cmd::new(0x189).handle(h), false);
    assert_eq!(r.rc, Rc::SUCCESS, "PolicyGetDigest");
    r.b2()
}

// ------------------------------------------------------------ sessions

#[test]
fn part1_27_5_saved_hmac_session_authorizes_after_resume_with_rolled_nonces() {
    let mut t = tpm_with_owner_auth();
    let (handle, nonce_tpm) = start_session(&mut t, 0);
    let mut s = HmacSession {
        handle,
        nonce_tpm,
        nonce_caller: vec![0x5A; 32],
    };
    let n = s.nonce_tpm.clone();
    assert_eq!(owner_command(&mut t, &mut s, &n), Rc::SUCCESS);
    let ctx = context_save(&mut t, handle);
    shutdown(&mut t, true);

    let mut t = power_cycle(&t, 7);
    assert_eq!(startup(&mut t, true), Rc::SUCCESS);
    assert_eq!(context_load(&mut t, &ctx), Ok(handle));
    // The session goes on from the nonce of its last response: an HMAC
    // over the nonce before it fails, the current one works, and the
    // nonces keep rolling.
    let stale = vec![0u8; 32];
    assert_eq!(
        owner_command(&mut t, &mut s, &stale),
        Rc::BAD_AUTH.session(1)
    );
    for _ in 0..3 {
        let n = s.nonce_tpm.clone();
        assert_eq!(owner_command(&mut t, &mut s, &n), Rc::SUCCESS);
    }
    // It is still the one session: its context cannot be loaded twice.
    assert_eq!(context_load(&mut t, &ctx), Err(Rc::HANDLE.param(1)));
    let ctx2 = context_save(&mut t, handle);
    assert_eq!(context_load(&mut t, &ctx), Err(Rc::HANDLE.param(1)));
    assert_eq!(context_load(&mut t, &ctx2), Ok(handle));
}

#[test]
fn part1_27_5_saved_session_survives_restart_and_in_process_tpm_init() {
    let mut t = tpm_with_owner_auth();
    let (handle, nonce_tpm) = start_session(&mut t, 0);
    let mut s = HmacSession {
        handle,
        nonce_tpm,
        nonce_caller: vec![0x5A; 32],
    };
    let ctx = context_save(&mut t, handle);
    shutdown(&mut t, true);
    // TPM Restart in the same process: _TPM_Init, Startup(CLEAR).
    t.reset();
    assert_eq!(startup(&mut t, false), Rc::SUCCESS);
    assert_eq!(context_load(&mut t, &ctx), Ok(handle));
    let n = s.nonce_tpm.clone();
    assert_eq!(owner_command(&mut t, &mut s, &n), Rc::SUCCESS);
    let ctx = context_save(&mut t, handle);
    // And a TPM Restart across a power cycle.
    shutdown(&mut t, true);
    let mut t = power_cycle(&t, 8);
    assert_eq!(startup(&mut t, false), Rc::SUCCESS);
    assert_eq!(context_load(&mut t, &ctx), Ok(handle));
    let n = s.nonce_tpm.clone();
    assert_eq!(owner_command(&mut t, &mut s, &n), Rc::SUCCESS);
}

#[test]
fn part1_27_5_policy_digest_survives_resume_and_restart() {
    for resume in [true, false] {
        let mut t = tpm();
        let (h, _) = start_session(&mut t, 1);
        assert_eq!(
            run(&mut t, &Cmd::new(0x16C).handle(h).u32(0x15E), false).rc,
            Rc::SUCCESS
        );
        let before = policy_digest(&mut t, h);
        assert_ne!(before, vec![0u8; 32]);
        let ctx = context_save(&mut t, h);
        shutdown(&mut t, true);
        let mut t = power_cycle(&t, 9);
        assert_eq!(startup(&mut t, resume), Rc::SUCCESS);
        assert_eq!(context_load(&mut t, &ctx), Ok(h), "resume {resume}");
        assert_eq!(policy_digest(&mut t, h), before, "resume {resume}");
    }
}

#[test]
fn part1_16_6_18_loaded_sessions_end_at_any_startup() {
    for resume in [true, false] {
        let mut t = tpm();
        let (loaded, _) = start_session(&mut t, 0);
        let (saved, _) = start_session(&mut t, 1);
        let ctx = context_save(&mut t, saved);
        shutdown(&mut t, true);
        let mut t = power_cycle(&t, 10);
        assert_eq!(startup(&mut t, resume), Rc::SUCCESS);
        // The loaded one is gone; its handle is free again.
        assert_eq!(flush(&mut t, loaded), Rc::HANDLE.param(1));
        let (again, _) = start_session(&mut t, 0);
        assert_eq!(again, loaded, "the handle of an ended session is reused");
        // The saved one is active: a new session does not take its handle.
        let (other, _) = start_session(&mut t, 1);
        assert_ne!(other & 0x00FF_FFFF, saved & 0x00FF_FFFF);
        assert_eq!(context_load(&mut t, &ctx), Ok(saved));
    }
}

#[test]
fn part1_27_5_tpm_reset_ends_saved_sessions() {
    // Shutdown(CLEAR), then Startup(CLEAR): TPM Reset.
    let mut t = tpm();
    let (h, _) = start_session(&mut t, 0);
    let ctx = context_save(&mut t, h);
    shutdown(&mut t, false);
    let mut t = power_cycle(&t, 11);
    assert_eq!(startup(&mut t, true), Rc::VALUE.param(1));
    assert_eq!(startup(&mut t, false), Rc::SUCCESS);
    assert_eq!(context_load(&mut t, &ctx), Err(Rc::INTEGRITY.param(1)));
    assert_eq!(flush(&mut t, h), Rc::HANDLE.param(1));
}

#[test]
fn unorderly_restart_resurrects_nothing_and_counts_a_reset() {
    let mut t = tpm();
    let resets = persistent(&t).reset_count;
    let (h, _) = start_session(&mut t, 0);
    let ctx = context_save(&mut t, h);
    shutdown(&mut t, true);
    let mut t = power_cycle(&t, 12);
    assert_eq!(startup(&mut t, true), Rc::SUCCESS);
    let after_resume = persistent(&t);
    assert_eq!(after_resume.reset_count, resets, "a Resume is not a Reset");
    assert_eq!(after_resume.restart_count, 1);
    // Power is lost without TPM2_Shutdown: Startup(STATE) is refused, and
    // Startup(CLEAR) is a TPM Reset that brings back no session.
    let mut t = power_cycle(&t, 13);
    assert_eq!(startup(&mut t, true), Rc::VALUE.param(1));
    assert_eq!(startup(&mut t, false), Rc::SUCCESS);
    let after_reset = persistent(&t);
    assert_eq!(after_reset.reset_count, resets + 1);
    assert_eq!(after_reset.restart_count, 0);
    assert_eq!(context_load(&mut t, &ctx), Err(Rc::INTEGRITY.param(1)));
}

#[test]
fn part1_9_2_4_context_commands_after_shutdown_state_make_it_unorderly() {
    // Loading a saved session after Shutdown(STATE): restoring the saved
    // table would let that context be loaded a second time.
    let mut t = tpm();
    let (h, _) = start_session(&mut t, 0);
    let ctx = context_save(&mut t, h);
    shutdown(&mut t, true);
    assert_eq!(context_load(&mut t, &ctx), Ok(h));
    let mut t = power_cycle(&t, 14);
    assert_eq!(startup(&mut t, true), Rc::VALUE.param(1));
    assert_eq!(startup(&mut t, false), Rc::SUCCESS);
    assert_eq!(context_load(&mut t, &ctx), Err(Rc::INTEGRITY.param(1)));

    // Flushing a saved session after Shutdown(STATE).
    let mut t = tpm();
    let (h, _) = start_session(&mut t, 0);
    let ctx = context_save(&mut t, h);
    shutdown(&mut t, true);
    assert_eq!(flush(&mut t, h), Rc::SUCCESS);
    let mut t = power_cycle(&t, 15);
    assert_eq!(startup(&mut t, true), Rc::VALUE.param(1));
    assert_eq!(startup(&mut t, false), Rc::SUCCESS);
    assert_eq!(context_load(&mut t, &ctx), Err(Rc::INTEGRITY.param(1)));

    // Saving an object context after Shutdown(STATE) (the counter moved).
    let mut t = tpm();
    let (p, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    shutdown(&mut t, true);
    context_save(&mut t, p);
    let mut t = power_cycle(&t, 16);
    assert_eq!(startup(&mut t, true), Rc::VALUE.param(1));
}

#[test]
fn part1_27_5_context_counter_goes_on_across_resume() {
    let mut t = tpm();
    let (h, _) = start_session(&mut t, 0);
    let ctx = context_save(&mut t, h);
    let seq = u64::from_be_bytes(ctx[..8].try_into().unwrap());
    shutdown(&mut t, true);
    let mut t = power_cycle(&t, 17);
    assert_eq!(startup(&mut t, true), Rc::SUCCESS);
    assert_eq!(context_load(&mut t, &ctx), Ok(h));
    let ctx2 = context_save(&mut t, h);
    let seq2 = u64::from_be_bytes(ctx2[..8].try_into().unwrap());
    assert!(seq2 > seq, "sequence {seq2} after {seq}");
}

#[test]
fn part1_16_7_12_time_limits_from_before_resume_have_expired() {
    let policy_secret = |t: &mut Tpm<TestPlatform>, h: u32, expiration: i32| {
        let c = Cmd::new(0x151)
            .handle(OWNER)
            .handle(h)
            .pw(b"")
            .u16(0)
            .u16(0)
            .u16(0)
            .u32(expiration as u32);
        run(t, &c, false).rc
    };
    let mut t = tpm();
    let (h, _) = start_session(&mut t, 1);
    // Within the same timeEpoch an expiration is fine.
    assert_eq!(policy_secret(&mut t, h, 3600), Rc::SUCCESS);
    assert_eq!(
        run(&mut t, &Cmd::new(0x180).handle(h), false).rc,
        Rc::SUCCESS
    );
    let ctx = context_save(&mut t, h);
    shutdown(&mut t, true);
    let mut t = power_cycle(&t, 18);
    assert_eq!(startup(&mut t, true), Rc::SUCCESS);
    assert_eq!(context_load(&mut t, &ctx), Ok(h));
    // The session's nonceTPM is from before the _TPM_Init: its age is not
    // known, so an expiration counted from it has passed.
    assert_eq!(policy_secret(&mut t, h, 3600), Rc::EXPIRED.param(4));
    // Without an expiration the session still works.
    assert_eq!(policy_secret(&mut t, h, 0), Rc::SUCCESS);
}

// ------------------------------------------------------------ objects

#[test]
fn part1_27_4_object_contexts_survive_resume_and_restart_not_reset() {
    for (kind, shutdown_state, resume, loads) in [
        ("resume", true, true, true),
        ("restart", true, false, true),
        ("reset", false, false, false),
    ] {
        let mut t = tpm();
        let (p, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
        let ctx = context_save(&mut t, p);
        shutdown(&mut t, shutdown_state);
        let mut t = power_cycle(&t, 19);
        assert_eq!(startup(&mut t, resume), Rc::SUCCESS, "{kind}");
        // Transient objects are flushed at any Startup.
        assert_eq!(flush(&mut t, p), Rc::HANDLE.param(1), "{kind}");
        let r = context_load(&mut t, &ctx);
        if loads {
            assert!(r.is_ok(), "{kind}: {r:?}");
        } else {
            assert_eq!(r, Err(Rc::INTEGRITY.param(1)), "{kind}");
        }
    }
}

#[test]
fn part1_27_3_2_st_clear_object_contexts_do_not_survive_restart() {
    let mut st_clear = ecc_storage_template();
    st_clear[7] |= 0x04; // TPMA_OBJECT stClear
    for (resume, loads) in [(true, true), (false, false)] {
        let mut t = tpm();
        let (p, _, _) = create_primary(&mut t, OWNER, &st_clear, b"");
        let ctx = context_save(&mut t, p);
        // Before any Startup the context loads.
        let again = context_load(&mut t, &ctx).unwrap();
        assert_eq!(flush(&mut t, again), Rc::SUCCESS);
        shutdown(&mut t, true);
        let mut t = power_cycle(&t, 20);
        assert_eq!(startup(&mut t, resume), Rc::SUCCESS);
        let r = context_load(&mut t, &ctx);
        if loads {
            assert!(r.is_ok(), "resume: {r:?}");
        } else {
            assert_eq!(r, Err(Rc::INTEGRITY.param(1)), "restart");
        }
    }
}

// ------------------------------------------------------------ state

#[test]
fn shutdown_state_records_saved_sessions_only_and_startup_consumes_them() {
    let mut t = tpm();
    let (_loaded, _) = start_session(&mut t, 0);
    let (saved, _) = start_session(&mut t, 1);
    let ctx = context_save(&mut t, saved);
    let seq = u64::from_be_bytes(ctx[..8].try_into().unwrap());
    shutdown(&mut t, true);
    let p = persistent(&t);
    let s = p.saved.as_ref().expect("Shutdown(STATE) saved state");
    assert_eq!(s.sessions.len(), 1);
    assert_eq!((s.sessions[0].handle, s.sessions[0].sequence), (saved, seq));
    assert_eq!(s.context_counter, seq + 1);
    let mut t = power_cycle(&t, 21);
    assert_eq!(startup(&mut t, true), Rc::SUCCESS);
    assert!(persistent(&t).saved.is_none());
}

#[test]
fn part1_34_4_4_command_audit_digest_survives_resume_and_restart_not_reset() {
    let audit_digest = |t: &mut Tpm<TestPlatform>| {
        // GetCommandAuditDigest(endorsement, no signing key): auditInfo ends
        // with TPMS_COMMAND_AUDIT_INFO's auditDigest and commandDigest.
        let c = Cmd::new(0x133)
            .handle(0x4000_000B)
            .handle(RH_NULL)
            .pw(b"")
            .pw(b"")
            .u16(0)
            .u16(0x0010);
        let mut r = run(t, &c, false);
        assert_eq!(r.rc, Rc::SUCCESS, "GetCommandAuditDigest");
        let a = r.b2();
        // magic, type, qualifiedSigner, extraData, clockInfo,
        // firmwareVersion, auditCounter, digestAlg, auditDigest.
        assert_eq!(&a[4..6], &[0x80, 0x15], "TPM_ST_ATTEST_COMMAND_AUDIT");
        let mut p = 6;
        for _ in 0..2 {
            p += 2 + u16::from_be_bytes([a[p], a[p + 1]]) as usize;
        }
        p += 17 + 8 + 8;
        assert_eq!(&a[p..p + 4], &[0x00, 0x0B, 0, 32], "SHA-256 auditDigest");
        a[p + 4..p + 36].to_vec()
    };
    let mut t = tpm();
    // Audit GetRandom and run it once.
    let c = Cmd::new(0x140)
        .handle(OWNER)
        .pw(b"")
        .u16(0x0010)
        .bytes(&[0, 0, 0, 1, 0, 0, 0x01, 0x7B])
        .u32(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    assert_eq!(run(&mut t, &Cmd::new(0x17B).u16(8), false).rc, Rc::SUCCESS);
    shutdown(&mut t, true);

    let mut resumed = power_cycle(&t, 22);
    assert_eq!(startup(&mut resumed, true), Rc::SUCCESS);
    let d = audit_digest(&mut resumed);
    assert_ne!(d, vec![0u8; 32], "the digest of the audited GetRandom");

    let mut restarted = power_cycle(&t, 23);
    assert_eq!(startup(&mut restarted, false), Rc::SUCCESS);
    assert_eq!(audit_digest(&mut restarted), d, "TPM Restart keeps it");

    // A TPM Reset in the same process (memory kept) clears it.
    let mut reset = power_cycle(&t, 24);
    assert_eq!(startup(&mut reset, true), Rc::SUCCESS);
    shutdown(&mut reset, false);
    reset.reset();
    assert_eq!(startup(&mut reset, false), Rc::SUCCESS);
    assert_eq!(
        audit_digest(&mut reset),
        vec![0u8; 32],
        "TPM Reset clears it"
    );
}

#[test]
fn part1_19_8_6_da_use_then_shutdown_state_counts_nothing_power_loss_counts_one() {
    for orderly in [true, false] {
        let mut t = tpm();
        let (parent, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
        let c = Cmd::new(0x153)
            .handle(parent)
            .pw(b"")
            .bytes(&sens_create(b"pw", b"d"))
            .bytes(&sized(&sealed_template()))
            .u16(0)
            .u32(0);
        let mut r = run(&mut t, &c, false);
        assert_eq!(r.rc, Rc::SUCCESS);
        let private = r.b2_raw();
        let public = r.b2_raw();
        let load = Cmd::new(0x157)
            .handle(parent)
            .pw(b"")
            .bytes(&private)
            .bytes(&public);
        let item = run(&mut t, &load, true).handle.unwrap();
        // A DA-protected authValue is used...
        let unseal = Cmd::new(0x15E).handle(item).pw(b"pw");
        assert_eq!(run(&mut t, &unseal, false).rc, Rc::SUCCESS);
        // ...then Shutdown(STATE), or power is lost.
        if orderly {
            shutdown(&mut t, true);
        }
        let mut t = power_cycle(&t, 25);
        if orderly {
            assert_eq!(startup(&mut t, true), Rc::SUCCESS);
            assert_eq!(persistent(&t).failed_tries, 0);
        } else {
            assert_eq!(startup(&mut t, true), Rc::VALUE.param(1));
            assert_eq!(startup(&mut t, false), Rc::SUCCESS);
            assert_eq!(persistent(&t).failed_tries, 1);
        }
    }
}

#[test]
fn part1_34_4_4_pcr_update_counter_moves_on_across_resume_and_restart() {
    let counter = |t: &mut Tpm<TestPlatform>| {
        // PCR_Read(SHA-256, PCR 0): pcrUpdateCounter comes first.
        let c = Cmd::new(0x17E).u32(1).u16(0x000B).u8(3).bytes(&[1, 0, 0]);
        let mut r = run(t, &c, false);
        assert_eq!(r.rc, Rc::SUCCESS, "PCR_Read");
        r.u32()
    };
    let mut t = tpm();
    let mut d = vec![0, 0, 0, 1, 0, 0x0B];
    d.extend_from_slice(&[7; 32]);
    let extend = Cmd::new(0x182).handle(0).pw(b"").bytes(&d);
    assert_eq!(run(&mut t, &extend, false).rc, Rc::SUCCESS);
    let before = counter(&mut t);
    assert!(before > 0);
    shutdown(&mut t, true);
    let mut t = power_cycle(&t, 26);
    assert_eq!(startup(&mut t, true), Rc::SUCCESS);
    // Not reset (a PolicyPCR made before must not match again), and moved
    // on (PCRs not preserved were reset).
    let resumed = counter(&mut t);
    assert!(resumed > before, "{resumed} after {before}");
    shutdown(&mut t, true);
    let mut t = power_cycle(&t, 27);
    assert_eq!(startup(&mut t, false), Rc::SUCCESS);
    assert!(counter(&mut t) > resumed);
    shutdown(&mut t, false);
    let mut t = power_cycle(&t, 28);
    assert_eq!(startup(&mut t, false), Rc::SUCCESS);
    assert_eq!(counter(&mut t), 0, "TPM Reset starts it again");
}
