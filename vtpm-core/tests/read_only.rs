//! Read-Only mode (Part 1, 42; Part 3, 24.9 `TPM2_ReadOnlyControl` and
//! Table 207; Part 2, 8.7 `TPMA_STARTUP_CLEAR.readOnly`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;
use vtpm_core::testing::TestPlatform;
use vtpm_core::{Rc, Tpm};

const OWNER: u32 = 0x4000_0001;
const NULL_H: u32 = 0x4000_0007;
const PLATFORM: u32 = 0x4000_000C;

const CC_NV_DEFINESPACE: u32 = 0x12A;
const CC_HIERARCHY_CHANGE_AUTH: u32 = 0x129;
const CC_CREATE_PRIMARY: u32 = 0x131;
const CC_NV_INCREMENT: u32 = 0x134;
const CC_NV_WRITE: u32 = 0x137;
const CC_NV_WRITELOCK: u32 = 0x138;
const CC_STARTUP: u32 = 0x144;
const CC_SHUTDOWN: u32 = 0x145;
const CC_NV_READ: u32 = 0x14E;
const CC_POLICY_SECRET: u32 = 0x151;
const CC_START_AUTH_SESSION: u32 = 0x176;
const CC_GETCAPABILITY: u32 = 0x17A;
const CC_GETRANDOM: u32 = 0x17B;
const CC_PCR_EXTEND: u32 = 0x182;
const CC_READ_ONLY_CONTROL: u32 = 0x1A0;

const CAP_COMMANDS: u32 = 2;
const CAP_TPM_PROPERTIES: u32 = 6;
const PT_STARTUP_CLEAR: u32 = 0x201;
const PT_LOCKOUT_COUNTER: u32 = 0x20E;
const READ_ONLY_BIT: u32 = 1 << 4;

const AUTHREAD: u32 = 1 << 18;
const AUTHWRITE: u32 = 1 << 2;
const OWNERREAD: u32 = 1 << 17;
const OWNERWRITE: u32 = 1 << 1;
const ORDERLY: u32 = 1 << 26;
const CLEAR_STCLEAR: u32 = 1 << 27;
const PIN_PASS: u32 = 0x9 << 4;

const IDX_PLAIN: u32 = 0x0150_0010;
const IDX_ORDERLY: u32 = 0x0150_0011;
const IDX_ORDERLY_ONLY: u32 = 0x0150_0012;
const IDX_PIN: u32 = 0x0150_0013;
const IDX_COUNTER: u32 = 0x0150_0014;

fn tpm_property(t: &mut Tpm<TestPlatform>, p: u32) -> u32 {
    let c = Cmd::new(CC_GETCAPABILITY)
        .u32(CAP_TPM_PROPERTIES)
        .u32(p)
        .u32(1);
    let mut r = run(t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    r.take(1);
    assert_eq!(r.u32(), CAP_TPM_PROPERTIES);
    assert_eq!(r.u32(), 1);
    assert_eq!(r.u32(), p);
    r.u32()
}

fn read_only_bit(t: &mut Tpm<TestPlatform>) -> bool {
    tpm_property(t, PT_STARTUP_CLEAR) & READ_ONLY_BIT != 0
}

fn read_only_control(t: &mut Tpm<TestPlatform>, handle: u32, state: u8) -> Rc {
    let c = Cmd::new(CC_READ_ONLY_CONTROL)
        .handle(handle)
        .pw(b"")
        .u8(state);
    run(t, &c, false).rc
}

fn nv_public(index: u32, attrs: u32, size: u16) -> Vec<u8> {
    let mut v = index.to_be_bytes().to_vec();
    v.extend_from_slice(&0x000Bu16.to_be_bytes());
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&size.to_be_bytes());
    v
}

fn define(t: &mut Tpm<TestPlatform>, public: &[u8], owner_pw: &[u8]) -> Rc {
    let c = Cmd::new(CC_NV_DEFINESPACE)
        .handle(OWNER)
        .pw(owner_pw)
        .b2(b"")
        .b2(public);
    run(t, &c, false).rc
}

fn nv_write(t: &mut Tpm<TestPlatform>, index: u32, data: &[u8]) -> Rc {
    let c = Cmd::new(CC_NV_WRITE)
        .handle(index)
        .handle(index)
        .pw(b"")
        .b2(data)
        .u16(0);
    run(t, &c, false).rc
}

fn nv_read(t: &mut Tpm<TestPlatform>, index: u32, size: u16) -> Vec<u8> {
    let c = Cmd::new(CC_NV_READ)
        .handle(index)
        .handle(index)
        .pw(b"")
        .u16(size)
        .u16(0);
    let mut r = run(t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS, "NV_Read {index:#x}");
    r.b2()
}

fn start_policy(t: &mut Tpm<TestPlatform>) -> u32 {
    let c = Cmd::new(CC_START_AUTH_SESSION)
        .handle(NULL_H)
        .handle(NULL_H)
        .b2(&[0x11; 32])
        .u16(0)
        .u8(1)
        .u16(0x0010)
        .u16(0x000B);
    let r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS);
    r.handle.unwrap()
}

fn policy_secret(t: &mut Tpm<TestPlatform>, auth: u32, session: u32) -> Rc {
    let c = Cmd::new(CC_POLICY_SECRET)
        .handle(auth)
        .handle(session)
        .pw(b"")
        .b2(b"")
        .b2(b"")
        .b2(b"")
        .u32(0);
    run(t, &c, false).rc
}

fn startup_cycle(t: &mut Tpm<TestPlatform>, shutdown_state: bool, startup_state: bool) {
    let su = |s: bool| if s { 1u16 } else { 0u16 };
    let r = run(t, &Cmd::new(CC_SHUTDOWN).u16(su(shutdown_state)), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    t.reset();
    let r = run(t, &Cmd::new(CC_STARTUP).u16(su(startup_state)), false);
    assert_eq!(r.rc, Rc::SUCCESS);
}

#[test]
fn part3_24_9_read_only_control_is_listed_and_needs_platform_authorization() {
    let mut t = tpm();
    let c = Cmd::new(CC_GETCAPABILITY)
        .u32(CAP_COMMANDS)
        .u32(CC_READ_ONLY_CONTROL)
        .u32(1);
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    r.take(1);
    assert_eq!(r.u32(), CAP_COMMANDS);
    assert_eq!(r.u32(), 1);
    // TPMA_CC: commandIndex 0x1A0, one handle, no nv/extensive/flushed.
    assert_eq!(r.u32(), 0x1A0 | 1 << 25);
    // TPMI_RH_PLATFORM only; a wrong platformAuth (not DA-protected:
    // TPM_RC_BAD_AUTH) changes nothing.
    assert_eq!(read_only_control(&mut t, OWNER, 1), Rc::VALUE.handle(1));
    let wrong = Cmd::new(CC_READ_ONLY_CONTROL)
        .handle(PLATFORM)
        .pw(b"wrong")
        .u8(1);
    assert_eq!(run(&mut t, &wrong, false).rc.base(), Rc::BAD_AUTH);
    // TPMI_YES_NO: 2 is TPM_RC_VALUE on the parameter.
    assert_eq!(read_only_control(&mut t, PLATFORM, 2), Rc::VALUE.param(1));
    assert!(!read_only_bit(&mut t));
}

#[test]
fn part1_42_read_only_mode_refuses_what_table_207_does_not_permit() {
    let mut t = tpm();
    // Set up before entering the mode: a plain index, an ORDERLY |
    // CLEAR_STCLEAR index, one with ORDERLY only, a PIN Pass index and a
    // counter.
    let rw = AUTHREAD | AUTHWRITE;
    assert_eq!(
        define(&mut t, &nv_public(IDX_PLAIN, rw, 8), b""),
        Rc::SUCCESS
    );
    assert_eq!(
        define(
            &mut t,
            &nv_public(IDX_ORDERLY, rw | ORDERLY | CLEAR_STCLEAR, 8),
            b""
        ),
        Rc::SUCCESS
    );
    assert_eq!(
        define(&mut t, &nv_public(IDX_ORDERLY_ONLY, rw | ORDERLY, 8), b""),
        Rc::SUCCESS
    );
    assert_eq!(
        define(
            &mut t,
            &nv_public(IDX_PIN, OWNERREAD | OWNERWRITE | AUTHREAD | PIN_PASS, 8),
            b""
        ),
        Rc::SUCCESS
    );
    assert_eq!(
        define(&mut t, &nv_public(IDX_COUNTER, rw | 0x1 << 4, 8), b""),
        Rc::SUCCESS
    );
    assert!(!read_only_bit(&mut t));

    // Enter Read-Only mode.
    assert_eq!(read_only_control(&mut t, PLATFORM, 1), Rc::SUCCESS);
    assert!(read_only_bit(&mut t));

    // Not permitted, and refused before authorization: a wrong password
    // does not count as a DA failure.
    let lockout_before = tpm_property(&mut t, PT_LOCKOUT_COUNTER);
    assert_eq!(
        define(&mut t, &nv_public(0x0150_0020, rw, 8), b"wrong"),
        Rc::READ_ONLY
    );
    assert_eq!(
        define(&mut t, &nv_public(0x0150_0020, rw, 8), b""),
        Rc::READ_ONLY
    );
    assert_eq!(tpm_property(&mut t, PT_LOCKOUT_COUNTER), lockout_before);
    let cp = Cmd::new(CC_CREATE_PRIMARY)
        .handle(OWNER)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&ecc_signing_template()))
        .u16(0)
        .u32(0);
    assert_eq!(run(&mut t, &cp, true).rc, Rc::READ_ONLY);
    let hca = Cmd::new(CC_HIERARCHY_CHANGE_AUTH)
        .handle(OWNER)
        .pw(b"")
        .b2(b"new");
    assert_eq!(run(&mut t, &hca, false).rc, Rc::READ_ONLY);
    let inc = Cmd::new(CC_NV_INCREMENT)
        .handle(IDX_COUNTER)
        .handle(IDX_COUNTER)
        .pw(b"");
    assert_eq!(run(&mut t, &inc, false).rc, Rc::READ_ONLY);

    // NV_Write and NV_WriteLock: only an ORDERLY and CLEAR_STCLEAR index.
    assert_eq!(nv_write(&mut t, IDX_PLAIN, b"plain"), Rc::READ_ONLY);
    assert_eq!(
        nv_write(&mut t, IDX_ORDERLY_ONLY, b"orderly"),
        Rc::READ_ONLY
    );
    assert_eq!(nv_write(&mut t, IDX_ORDERLY, b"scratch"), Rc::SUCCESS);
    assert_eq!(nv_read(&mut t, IDX_ORDERLY, 7), b"scratch");
    let lock = |idx: u32| Cmd::new(CC_NV_WRITELOCK).handle(idx).handle(idx).pw(b"");
    assert_eq!(run(&mut t, &lock(IDX_PLAIN), false).rc, Rc::READ_ONLY);

    // PolicySecret: permitted, except with a PIN Pass/Fail index.
    let s = start_policy(&mut t);
    assert_eq!(policy_secret(&mut t, IDX_PIN, s), Rc::READ_ONLY);
    assert_eq!(policy_secret(&mut t, OWNER, s), Rc::SUCCESS);

    // Permitted: random numbers, measurements, reading.
    let mut r = run(&mut t, &Cmd::new(CC_GETRANDOM).u16(8), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2().len(), 8);
    let ext = Cmd::new(CC_PCR_EXTEND)
        .handle(16)
        .pw(b"")
        .u32(1)
        .u16(0x000B)
        .bytes(&[0x5A; 32]);
    assert_eq!(run(&mut t, &ext, false).rc, Rc::SUCCESS);

    // Leave Read-Only mode (ReadOnlyControl is itself permitted).
    assert_eq!(read_only_control(&mut t, PLATFORM, 0), Rc::SUCCESS);
    assert!(!read_only_bit(&mut t));
    assert_eq!(nv_write(&mut t, IDX_PLAIN, b"plain"), Rc::SUCCESS);
    assert_eq!(run(&mut t, &inc, false).rc, Rc::SUCCESS);
    assert_eq!(
        define(&mut t, &nv_public(0x0150_0020, rw, 8), b""),
        Rc::SUCCESS
    );
}

#[test]
fn part2_8_7_read_only_is_kept_by_resume_and_cleared_by_restart_and_reset() {
    let mut t = tpm();
    assert_eq!(read_only_control(&mut t, PLATFORM, 1), Rc::SUCCESS);
    // TPM Resume: Shutdown(STATE), Startup(STATE). Shutdown is permitted.
    startup_cycle(&mut t, true, true);
    assert!(read_only_bit(&mut t));
    assert_eq!(
        define(&mut t, &nv_public(IDX_PLAIN, AUTHREAD | AUTHWRITE, 8), b""),
        Rc::READ_ONLY
    );
    // TPM Resume in a new process: the state Shutdown(STATE) committed,
    // loaded by a new engine (the bit is in the saved state).
    let r = run(&mut t, &Cmd::new(0x145).u16(1), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let stored = t.platform().committed.clone().expect("a committed state");
    let mut t2 = Tpm::load(TestPlatform::new(7), Default::default(), &stored).unwrap();
    t2.power_on();
    let r = run(&mut t2, &Cmd::new(CC_STARTUP).u16(1), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert!(read_only_bit(&mut t2), "kept by a Resume from stored state");
    drop(t2);
    // TPM Restart: Shutdown(STATE), Startup(CLEAR).
    startup_cycle(&mut t, true, false);
    assert!(!read_only_bit(&mut t));
    // TPM Reset: Shutdown(CLEAR), Startup(CLEAR).
    assert_eq!(read_only_control(&mut t, PLATFORM, 1), Rc::SUCCESS);
    startup_cycle(&mut t, false, false);
    assert!(!read_only_bit(&mut t));
    assert_eq!(
        define(&mut t, &nv_public(IDX_PLAIN, AUTHREAD | AUTHWRITE, 8), b""),
        Rc::SUCCESS
    );
}
