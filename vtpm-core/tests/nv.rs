//! Part 3, 31: NV storage, driven through the engine.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;
use sha2::Digest;
use vtpm_core::testing::{TestPlatform, STARTUP_CLEAR};
use vtpm_core::{Config, Rc, Tpm};

// ------------------------------------------------------------ constants

const OWNER: u32 = 0x4000_0001;
const LOCKOUT: u32 = 0x4000_000A;
const PLATFORM: u32 = 0x4000_000C;
const PLATFORM_NV: u32 = 0x4000_000D;
const RH_NULL: u32 = 0x4000_0007;

const CC_UNDEFINE_SPECIAL: u32 = 0x11F;
const CC_HIERARCHY_CONTROL: u32 = 0x121;
const CC_UNDEFINE: u32 = 0x122;
const CC_CLEAR: u32 = 0x126;
const CC_DEFINE: u32 = 0x12A;
const CC_GLOBAL_WRITE_LOCK: u32 = 0x132;
const CC_INCREMENT: u32 = 0x134;
const CC_SET_BITS: u32 = 0x135;
const CC_EXTEND: u32 = 0x136;
const CC_WRITE: u32 = 0x137;
const CC_WRITE_LOCK: u32 = 0x138;
const CC_CHANGE_AUTH: u32 = 0x13B;
const CC_STARTUP: u32 = 0x144;
const CC_SHUTDOWN: u32 = 0x145;
const CC_READ: u32 = 0x14E;
const CC_READ_LOCK: u32 = 0x14F;
const CC_READ_PUBLIC: u32 = 0x169;
const CC_POLICY_COMMAND_CODE: u32 = 0x16C;
const CC_POLICY_AUTH_VALUE: u32 = 0x16B;
const CC_START_AUTH_SESSION: u32 = 0x176;
const CC_GET_CAPABILITY: u32 = 0x17A;
const CC_POLICY_PASSWORD: u32 = 0x18C;

// TPMA_NV
const PPWRITE: u32 = 1 << 0;
const OWNERWRITE: u32 = 1 << 1;
const AUTHWRITE: u32 = 1 << 2;
const POLICYWRITE: u32 = 1 << 3;
const COUNTER: u32 = 0x1 << 4;
const BITS: u32 = 0x2 << 4;
const EXTEND: u32 = 0x4 << 4;
const PIN_FAIL: u32 = 0x8 << 4;
const PIN_PASS: u32 = 0x9 << 4;
const POLICY_DELETE: u32 = 1 << 10;
const WRITELOCKED: u32 = 1 << 11;
const WRITEALL: u32 = 1 << 12;
const WRITEDEFINE: u32 = 1 << 13;
const WRITE_STCLEAR: u32 = 1 << 14;
const GLOBALLOCK: u32 = 1 << 15;
const PPREAD: u32 = 1 << 16;
const OWNERREAD: u32 = 1 << 17;
const AUTHREAD: u32 = 1 << 18;
const POLICYREAD: u32 = 1 << 19;
const NO_DA: u32 = 1 << 25;
const ORDERLY: u32 = 1 << 26;
const CLEAR_STCLEAR: u32 = 1 << 27;
const READLOCKED: u32 = 1 << 28;
const WRITTEN: u32 = 1 << 29;
const PLATFORMCREATE: u32 = 1 << 30;
const READ_STCLEAR: u32 = 1 << 31;

const AUTH_RW: u32 = AUTHREAD | AUTHWRITE;
const OWNER_RW: u32 = OWNERREAD | OWNERWRITE;

const IDX: u32 = 0x0150_0001;
const IDX2: u32 = 0x0150_0002;
const IDX3: u32 = 0x0150_0003;
const IDX4: u32 = 0x0150_0004;

// ------------------------------------------------------------ helpers

trait CmdExt {
    fn u64(self, v: u64) -> Self;
}

impl CmdExt for Cmd {
    fn u64(self, v: u64) -> Self {
        self.bytes(&v.to_be_bytes())
    }
}

/// `TPMS_NV_PUBLIC` with nameAlg `alg`.
fn public_alg(handle: u32, alg: u16, attrs: u32, policy: &[u8], size: u16) -> Vec<u8> {
    let mut v = handle.to_be_bytes().to_vec();
    v.extend_from_slice(&alg.to_be_bytes());
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&sized(policy));
    v.extend_from_slice(&size.to_be_bytes());
    v
}

/// `TPMS_NV_PUBLIC` with nameAlg SHA-256.
fn public(handle: u32, attrs: u32, size: u16) -> Vec<u8> {
    public_alg(handle, 0x000B, attrs, &[], size)
}

/// The Name of an index computed here: nameAlg || SHA-256(TPMS_NV_PUBLIC).
fn expected_name(public: &[u8]) -> Vec<u8> {
    let mut n = vec![0x00, 0x0B];
    n.extend_from_slice(&sha2::Sha256::digest(public));
    n
}

fn define_with(t: &mut Tpm<TestPlatform>, auth_handle: u32, auth: &[u8], public: &[u8]) -> Rc {
    let c = Cmd::new(CC_DEFINE)
        .handle(auth_handle)
        .pw(b"")
        .b2(auth)
        .b2(public);
    run(t, &c, false).rc
}

fn define(t: &mut Tpm<TestPlatform>, public: &[u8]) {
    assert_eq!(define_with(t, OWNER, b"pw", public), Rc::SUCCESS, "define");
}

fn write_as(
    t: &mut Tpm<TestPlatform>,
    auth: u32,
    pw: &[u8],
    idx: u32,
    data: &[u8],
    off: u16,
) -> Rc {
    let c = Cmd::new(CC_WRITE)
        .handle(auth)
        .handle(idx)
        .pw(pw)
        .b2(data)
        .u16(off);
    run(t, &c, false).rc
}

fn write(t: &mut Tpm<TestPlatform>, idx: u32, data: &[u8], off: u16) -> Rc {
    write_as(t, idx, b"pw", idx, data, off)
}

fn read_as(
    t: &mut Tpm<TestPlatform>,
    auth: u32,
    pw: &[u8],
    idx: u32,
    size: u16,
    off: u16,
) -> Result<Vec<u8>, Rc> {
    let c = Cmd::new(CC_READ)
        .handle(auth)
        .handle(idx)
        .pw(pw)
        .u16(size)
        .u16(off);
    let mut r = run(t, &c, false);
    if r.rc == Rc::SUCCESS {
        Ok(r.b2())
    } else {
        Err(r.rc)
    }
}

fn read(t: &mut Tpm<TestPlatform>, idx: u32, size: u16, off: u16) -> Result<Vec<u8>, Rc> {
    read_as(t, idx, b"pw", idx, size, off)
}

/// An index command with (authHandle = index, password "pw", index) and no parameters.
fn simple(t: &mut Tpm<TestPlatform>, code: u32, auth: u32, idx: u32) -> Rc {
    let pw: &[u8] = if auth == idx { b"pw" } else { b"" };
    run(t, &Cmd::new(code).handle(auth).handle(idx).pw(pw), false).rc
}

fn increment(t: &mut Tpm<TestPlatform>, idx: u32) -> Rc {
    simple(t, CC_INCREMENT, idx, idx)
}

fn read_u64(t: &mut Tpm<TestPlatform>, idx: u32) -> Result<u64, Rc> {
    read(t, idx, 8, 0).map(|v| u64::from_be_bytes(v.try_into().unwrap()))
}

/// `NV_ReadPublic`: (TPMS_NV_PUBLIC, name) or the response code.
fn read_public(t: &mut Tpm<TestPlatform>, idx: u32) -> Result<(Vec<u8>, Vec<u8>), Rc> {
    let mut r = run(t, &Cmd::new(CC_READ_PUBLIC).handle(idx), false);
    if r.rc != Rc::SUCCESS {
        return Err(r.rc);
    }
    let p = r.b2();
    let n = r.b2();
    assert!(r.rest().is_empty());
    Ok((p, n))
}

fn attributes(t: &mut Tpm<TestPlatform>, idx: u32) -> u32 {
    let (p, _) = read_public(t, idx).unwrap();
    u32::from_be_bytes(p[6..10].try_into().unwrap())
}

fn undefine(t: &mut Tpm<TestPlatform>, auth: u32, idx: u32) -> Rc {
    run(
        t,
        &Cmd::new(CC_UNDEFINE).handle(auth).handle(idx).pw(b""),
        false,
    )
    .rc
}

fn shutdown(t: &mut Tpm<TestPlatform>, su: u16) {
    assert_eq!(
        run(t, &Cmd::new(CC_SHUTDOWN).u16(su), false).rc,
        Rc::SUCCESS
    );
}

/// Power-cycle: a new TPM loaded from the last committed state, then
/// `Startup(su)`.
fn reboot(t: Tpm<TestPlatform>, su: u16) -> Tpm<TestPlatform> {
    let state = t.platform().committed.clone().expect("committed state");
    let mut t = Tpm::load(TestPlatform::new(99), Config::default(), &state).expect("load");
    t.power_on();
    assert_eq!(
        run(&mut t, &Cmd::new(CC_STARTUP).u16(su), false).rc,
        Rc::SUCCESS
    );
    t
}

/// TPM Resume: Shutdown(STATE), Startup(STATE).
fn resume(mut t: Tpm<TestPlatform>) -> Tpm<TestPlatform> {
    shutdown(&mut t, 1);
    reboot(t, 1)
}

/// TPM Restart: Shutdown(STATE), Startup(CLEAR).
fn restart(mut t: Tpm<TestPlatform>) -> Tpm<TestPlatform> {
    shutdown(&mut t, 1);
    reboot(t, 0)
}

/// TPM Reset without an orderly shutdown.
fn reset(t: Tpm<TestPlatform>) -> Tpm<TestPlatform> {
    reboot(t, 0)
}

/// `GetCapability(TPM_CAP_TPM_PROPERTIES, p, 1)`.
fn property(t: &mut Tpm<TestPlatform>, p: u32) -> u32 {
    let mut r = run(t, &Cmd::new(CC_GET_CAPABILITY).u32(6).u32(p).u32(1), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _more = r.take(1);
    assert_eq!(r.u32(), 6);
    assert_eq!(r.u32(), 1);
    assert_eq!(r.u32(), p);
    r.u32()
}

/// `GetCapability(TPM_CAP_HANDLES, first NV index)`.
fn nv_handles(t: &mut Tpm<TestPlatform>) -> Vec<u32> {
    let mut r = run(
        t,
        &Cmd::new(CC_GET_CAPABILITY).u32(1).u32(0x0100_0000).u32(64),
        false,
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let _more = r.take(1);
    assert_eq!(r.u32(), 1);
    let n = r.u32();
    (0..n).map(|_| r.u32()).collect()
}

/// A policy digest: SHA-256 over the policy commands, starting from zeros.
fn policy(steps: &[&[u8]]) -> Vec<u8> {
    let mut d = vec![0u8; 32];
    for s in steps {
        let mut h = sha2::Sha256::new();
        h.update(&d);
        h.update(s);
        d = h.finalize().to_vec();
    }
    d
}

/// The policy "PolicyCommandCode(code) then PolicyPassword".
fn cc_password_policy(code: u32) -> Vec<u8> {
    let mut step = CC_POLICY_COMMAND_CODE.to_be_bytes().to_vec();
    step.extend_from_slice(&code.to_be_bytes());
    policy(&[&step, &CC_POLICY_AUTH_VALUE.to_be_bytes()])
}

/// A policy session that has run PolicyCommandCode(code) and PolicyPassword.
fn policy_session(t: &mut Tpm<TestPlatform>, code: u32) -> u32 {
    let c = Cmd::new(CC_START_AUTH_SESSION)
        .handle(RH_NULL)
        .handle(RH_NULL)
        .b2(&[7u8; 16])
        .b2(&[])
        .u8(1)
        .u16(0x0010)
        .u16(0x000B);
    let r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS, "StartAuthSession");
    let s = r.handle.unwrap();
    let r = run(
        t,
        &Cmd::new(CC_POLICY_COMMAND_CODE).handle(s).u32(code),
        false,
    );
    assert_eq!(r.rc, Rc::SUCCESS, "PolicyCommandCode");
    let r = run(t, &Cmd::new(CC_POLICY_PASSWORD).handle(s), false);
    assert_eq!(r.rc, Rc::SUCCESS, "PolicyPassword");
    s
}

/// Append a session (handle, 16-octet nonce, continueSession, hmac) to the
/// authorization area of a command built with `Cmd`: done by building raw.
fn with_sessions(code: u32, handles: &[u32], sessions: &[(u32, &[u8])], params: &[u8]) -> Vec<u8> {
    let mut auth = Vec::new();
    for (h, hmac) in sessions {
        auth.extend_from_slice(&h.to_be_bytes());
        if *h == 0x4000_0009 {
            auth.extend_from_slice(&[0, 0]);
        } else {
            auth.extend_from_slice(&sized(&[9u8; 16]));
        }
        auth.push(1);
        auth.extend_from_slice(&sized(hmac));
    }
    let mut v = vec![0x80, 0x02, 0, 0, 0, 0];
    v.extend_from_slice(&code.to_be_bytes());
    for h in handles {
        v.extend_from_slice(&h.to_be_bytes());
    }
    v.extend_from_slice(&(auth.len() as u32).to_be_bytes());
    v.extend_from_slice(&auth);
    v.extend_from_slice(params);
    let n = (v.len() as u32).to_be_bytes();
    v[2..6].copy_from_slice(&n);
    v
}

fn raw_rc(t: &mut Tpm<TestPlatform>, cmd: &[u8]) -> Rc {
    let rsp = t.execute(0, cmd);
    Rc(u32::from_be_bytes(rsp[6..10].try_into().unwrap()))
}

fn small_tpm(capacity: usize) -> Tpm<TestPlatform> {
    let config = Config {
        nv_capacity: capacity,
        ..Config::default()
    };
    let mut t = Tpm::manufacture(TestPlatform::new(5), config).unwrap();
    t.power_on();
    let rsp = t.execute(0, &STARTUP_CLEAR);
    assert_eq!(&rsp[6..10], &[0, 0, 0, 0]);
    t
}

// ------------------------------------------------------------ tests

#[test]
fn part3_31_3_define_read_public_and_name() {
    let mut t = tpm();
    let p = public(IDX, AUTH_RW | OWNER_RW, 32);
    define(&mut t, &p);
    let (got, name) = read_public(&mut t, IDX).unwrap();
    assert_eq!(got, p, "ReadPublic returns the public area as defined");
    assert_eq!(name, expected_name(&p));
    assert!(nv_handles(&mut t).contains(&IDX));
    // Writing SETs TPMA_NV_WRITTEN, which is part of the Name.
    assert_eq!(write(&mut t, IDX, b"hello", 0), Rc::SUCCESS);
    let (got2, name2) = read_public(&mut t, IDX).unwrap();
    let mut p2 = p.clone();
    p2[6..10].copy_from_slice(&(AUTH_RW | OWNER_RW | WRITTEN).to_be_bytes());
    assert_eq!(got2, p2);
    assert_eq!(name2, expected_name(&p2));
    assert_ne!(name, name2);
    // Defining it again: TPM_RC_NV_DEFINED.
    assert_eq!(define_with(&mut t, OWNER, b"", &p), Rc::NV_DEFINED);
    // A SHA-384 named index has a SHA-384 Name.
    let p3 = public_alg(IDX2, 0x000C, AUTH_RW, &[], 8);
    define(&mut t, &p3);
    let (_, n3) = read_public(&mut t, IDX2).unwrap();
    let mut want = vec![0x00, 0x0C];
    want.extend_from_slice(&sha2::Sha384::digest(&p3));
    assert_eq!(n3, want);
    // Undefined handles.
    assert_eq!(read_public(&mut t, IDX4), Err(Rc::HANDLE.handle(1)));
    assert_eq!(read_public(&mut t, 0x8100_0000), Err(Rc::VALUE.handle(1)));
}

#[test]
fn part3_31_7_write_read_round_trip_and_range_checks() {
    let mut t = tpm();
    define(&mut t, &public(IDX, AUTH_RW | OWNER_RW, 64));
    // Unwritten: TPM_RC_NV_UNINITIALIZED, even for size 0.
    assert_eq!(read(&mut t, IDX, 0, 0), Err(Rc::NV_UNINITIALIZED));
    assert_eq!(write(&mut t, IDX, b"abcd", 10), Rc::SUCCESS);
    // The first partial write leaves the rest zero.
    let mut want = vec![0u8; 64];
    want[10..14].copy_from_slice(b"abcd");
    assert_eq!(read(&mut t, IDX, 64, 0).unwrap(), want);
    assert_eq!(write_as(&mut t, OWNER, b"", IDX, b"XY", 62), Rc::SUCCESS);
    want[62..].copy_from_slice(b"XY");
    assert_eq!(read_as(&mut t, OWNER, b"", IDX, 64, 0).unwrap(), want);
    assert_eq!(read(&mut t, IDX, 5, 9).unwrap(), b"\0abcd");
    assert_eq!(read(&mut t, IDX, 0, 64).unwrap(), b"");
    // Range and value checks.
    assert_eq!(write(&mut t, IDX, b"abc", 62), Rc::NV_RANGE);
    assert_eq!(write(&mut t, IDX, b"a", 65), Rc::VALUE.param(2));
    assert_eq!(read(&mut t, IDX, 2, 63), Err(Rc::NV_RANGE));
    assert_eq!(read(&mut t, IDX, 1, 65), Err(Rc::VALUE.param(2)));
    assert_eq!(read(&mut t, IDX, 1025, 0), Err(Rc::VALUE.param(1)));
    // TPM2B_MAX_NV_BUFFER larger than 1024: TPM_RC_SIZE on parameter 1.
    assert_eq!(write(&mut t, IDX, &[0u8; 1025], 0), Rc::SIZE.param(1));
    // Wrong password: TPM_RC_AUTH_FAIL on session 1.
    assert_eq!(
        write_as(&mut t, IDX, b"nope", IDX, b"z", 0),
        Rc::AUTH_FAIL.session(1)
    );
    // Nothing above changed the data.
    assert_eq!(read(&mut t, IDX, 64, 0).unwrap(), want);

    // A 2048-octet index is read and written in 1024-octet pieces.
    define(&mut t, &public(IDX2, AUTH_RW, 2048));
    let big: Vec<u8> = (0..2048u32).map(|i| (i * 7) as u8).collect();
    assert_eq!(write(&mut t, IDX2, &big[..1024], 0), Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX2, &big[1024..], 1024), Rc::SUCCESS);
    let mut back = read(&mut t, IDX2, 1024, 0).unwrap();
    back.extend(read(&mut t, IDX2, 1024, 1024).unwrap());
    assert_eq!(back, big);

    // WRITEALL: only whole writes.
    define(&mut t, &public(IDX3, AUTH_RW | WRITEALL, 16));
    assert_eq!(write(&mut t, IDX3, &[1u8; 8], 0), Rc::NV_RANGE);
    assert_eq!(write(&mut t, IDX3, &[1u8; 16], 0), Rc::SUCCESS);
    assert_eq!(read(&mut t, IDX3, 16, 0).unwrap(), vec![1u8; 16]);
}

#[test]
fn part3_31_authorizing_handle_must_be_allowed() {
    let mut t = tpm();
    // Owner may write, only the index authValue may read.
    define(&mut t, &public(IDX, OWNERWRITE | AUTHREAD, 8));
    define(&mut t, &public(IDX2, AUTH_RW, 8));
    assert_eq!(
        write_as(&mut t, PLATFORM, b"", IDX, b"x", 0),
        Rc::NV_AUTHORIZATION
    );
    // Another index cannot authorize this one.
    assert_eq!(
        write_as(&mut t, IDX2, b"pw", IDX, b"x", 0),
        Rc::NV_AUTHORIZATION
    );
    // The index's own authValue may not write it (the session layer says
    // AUTH_UNAVAILABLE, the handler NV_AUTHORIZATION).
    let rc = write(&mut t, IDX, b"x", 0);
    assert!(
        rc == Rc::NV_AUTHORIZATION || rc == Rc::AUTH_UNAVAILABLE,
        "{rc:?}"
    );
    assert_eq!(write_as(&mut t, OWNER, b"", IDX, b"x", 0), Rc::SUCCESS);
    assert_eq!(
        read_as(&mut t, OWNER, b"", IDX, 1, 0),
        Err(Rc::NV_AUTHORIZATION)
    );
    assert_eq!(
        read_as(&mut t, PLATFORM, b"", IDX, 1, 0),
        Err(Rc::NV_AUTHORIZATION)
    );
    assert_eq!(read(&mut t, IDX, 1, 0).unwrap(), b"x");
    // Owner authorization is checked against ownerAuth (no DA: BAD_AUTH).
    assert_eq!(
        write_as(&mut t, OWNER, b"bad", IDX, b"x", 0),
        Rc::BAD_AUTH.session(1)
    );
}

#[test]
fn part3_31_8_counter_increments_and_never_goes_back() {
    let mut t = tpm();
    let p = public(IDX, AUTH_RW | OWNER_RW | COUNTER, 8);
    define(&mut t, &p);
    assert_eq!(read_u64(&mut t, IDX), Err(Rc::NV_UNINITIALIZED));
    for _ in 0..3 {
        assert_eq!(increment(&mut t, IDX), Rc::SUCCESS);
    }
    assert_eq!(read_u64(&mut t, IDX), Ok(3));
    // Only NV_Increment changes a counter.
    assert_eq!(write(&mut t, IDX, &[0u8; 8], 0), Rc::ATTRIBUTES);
    assert_eq!(
        run(
            &mut t,
            &Cmd::new(CC_SET_BITS)
                .handle(IDX)
                .handle(IDX)
                .pw(b"pw")
                .u64(1),
            false
        )
        .rc,
        Rc::ATTRIBUTES.handle(2)
    );
    // NV_Increment of a non-counter.
    define(&mut t, &public(IDX2, AUTH_RW, 8));
    assert_eq!(increment(&mut t, IDX2), Rc::ATTRIBUTES.handle(2));

    // Undefine and redefine: the new counter starts above the old value.
    assert_eq!(undefine(&mut t, OWNER, IDX), Rc::SUCCESS);
    define(&mut t, &p);
    assert_eq!(read_u64(&mut t, IDX), Err(Rc::NV_UNINITIALIZED));
    assert_eq!(increment(&mut t, IDX), Rc::SUCCESS);
    assert_eq!(read_u64(&mut t, IDX), Ok(4));
    // So does any other new counter.
    define(&mut t, &public(IDX3, AUTH_RW | COUNTER, 8));
    assert_eq!(increment(&mut t, IDX3), Rc::SUCCESS);
    assert!(read_u64(&mut t, IDX3).unwrap() > 3);
    for _ in 0..10 {
        assert_eq!(increment(&mut t, IDX), Rc::SUCCESS);
    }
    assert_eq!(read_u64(&mut t, IDX), Ok(14));

    // The value and the high-water mark survive a power cycle...
    let mut t = reset(t);
    assert_eq!(read_u64(&mut t, IDX), Ok(14));
    // ...and TPM2_Clear, which removes owner indices.
    assert_eq!(
        run(&mut t, &Cmd::new(CC_CLEAR).handle(LOCKOUT).pw(b""), false).rc,
        Rc::SUCCESS
    );
    assert_eq!(read_public(&mut t, IDX), Err(Rc::HANDLE.handle(1)));
    assert!(nv_handles(&mut t).is_empty());
    let mut t = reset(t);
    define(&mut t, &p);
    assert_eq!(increment(&mut t, IDX), Rc::SUCCESS);
    assert_eq!(read_u64(&mut t, IDX), Ok(15));
}

#[test]
fn part3_31_10_set_bits() {
    let mut t = tpm();
    define(&mut t, &public(IDX, AUTH_RW | BITS, 8));
    let set = |t: &mut Tpm<TestPlatform>, bits: u64| {
        run(
            t,
            &Cmd::new(CC_SET_BITS)
                .handle(IDX)
                .handle(IDX)
                .pw(b"pw")
                .u64(bits),
            false,
        )
        .rc
    };
    assert_eq!(read_u64(&mut t, IDX), Err(Rc::NV_UNINITIALIZED));
    assert_eq!(set(&mut t, 0), Rc::SUCCESS);
    assert_eq!(read_u64(&mut t, IDX), Ok(0));
    assert_eq!(set(&mut t, 0x1), Rc::SUCCESS);
    assert_eq!(set(&mut t, 0x8000_0000_0000_0100), Rc::SUCCESS);
    assert_eq!(set(&mut t, 0x1), Rc::SUCCESS);
    assert_eq!(read_u64(&mut t, IDX), Ok(0x8000_0000_0000_0101));
    assert_eq!(write(&mut t, IDX, &[0u8; 8], 0), Rc::ATTRIBUTES);
    define(&mut t, &public(IDX2, AUTH_RW, 8));
    assert_eq!(
        run(
            &mut t,
            &Cmd::new(CC_SET_BITS)
                .handle(IDX2)
                .handle(IDX2)
                .pw(b"pw")
                .u64(1),
            false
        )
        .rc,
        Rc::ATTRIBUTES.handle(2)
    );
}

#[test]
fn part3_31_9_extend() {
    let mut t = tpm();
    define(&mut t, &public(IDX, AUTH_RW | EXTEND, 32));
    let ext = |t: &mut Tpm<TestPlatform>, idx: u32, data: &[u8]| {
        run(
            t,
            &Cmd::new(CC_EXTEND)
                .handle(idx)
                .handle(idx)
                .pw(b"pw")
                .b2(data),
            false,
        )
        .rc
    };
    assert_eq!(ext(&mut t, IDX, b"abc"), Rc::SUCCESS);
    let mut want = sha2::Sha256::digest([[0u8; 32].as_slice(), b"abc"].concat()).to_vec();
    assert_eq!(read(&mut t, IDX, 32, 0).unwrap(), want);
    assert_eq!(ext(&mut t, IDX, b"defg"), Rc::SUCCESS);
    want = sha2::Sha256::digest([want.as_slice(), b"defg"].concat()).to_vec();
    assert_eq!(read(&mut t, IDX, 32, 0).unwrap(), want);
    assert_eq!(write(&mut t, IDX, &[0u8; 32], 0), Rc::ATTRIBUTES);
    // The digest size follows nameAlg: SHA-384 extends to 48 octets.
    define(&mut t, &public_alg(IDX2, 0x000C, AUTH_RW | EXTEND, &[], 48));
    assert_eq!(ext(&mut t, IDX2, b""), Rc::SUCCESS);
    assert_eq!(
        read(&mut t, IDX2, 48, 0).unwrap(),
        sha2::Sha384::digest([0u8; 48]).to_vec()
    );
    // The size must match nameAlg.
    assert_eq!(
        define_with(&mut t, OWNER, b"", &public(IDX3, AUTH_RW | EXTEND, 20)),
        Rc::SIZE.param(2)
    );
    define(&mut t, &public(IDX3, AUTH_RW, 32));
    assert_eq!(ext(&mut t, IDX3, b"x"), Rc::ATTRIBUTES.handle(2));
}

#[test]
fn part3_31_pin_indices() {
    let mut t = tpm();
    // PIN Fail needs NO_DA; PIN indices may not be written with their authValue.
    assert_eq!(
        define_with(
            &mut t,
            OWNER,
            b"",
            &public(IDX, OWNER_RW | AUTHREAD | PIN_FAIL, 8)
        ),
        Rc::ATTRIBUTES.param(2)
    );
    assert_eq!(
        define_with(
            &mut t,
            OWNER,
            b"",
            &public(IDX, AUTH_RW | NO_DA | PIN_FAIL, 8)
        ),
        Rc::ATTRIBUTES.param(2)
    );
    assert_eq!(
        define_with(&mut t, OWNER, b"", &public(IDX, AUTH_RW | PIN_PASS, 8)),
        Rc::ATTRIBUTES.param(2)
    );
    assert_eq!(
        define_with(
            &mut t,
            OWNER,
            b"",
            &public(IDX, OWNER_RW | PIN_PASS | WRITEDEFINE, 8)
        ),
        Rc::ATTRIBUTES.param(2)
    );
    assert_eq!(
        define_with(&mut t, OWNER, b"", &public(IDX, OWNER_RW | PIN_PASS, 4)),
        Rc::SIZE.param(2)
    );
    define(
        &mut t,
        &public(IDX, OWNER_RW | AUTHREAD | NO_DA | PIN_FAIL, 8),
    );
    define(&mut t, &public(IDX2, OWNER_RW | AUTHREAD | PIN_PASS, 8));
    for idx in [IDX, IDX2] {
        // pinCount 0, pinLimit 5, written with NV_Write by the owner.
        let params = [0u8, 0, 0, 0, 0, 0, 0, 5];
        assert_eq!(write_as(&mut t, OWNER, b"", idx, &params, 0), Rc::SUCCESS);
        assert_eq!(read_as(&mut t, OWNER, b"", idx, 8, 0).unwrap(), params);
        assert_ne!(attributes(&mut t, idx) & WRITTEN, 0);
    }
}

#[test]
fn part3_31_11_write_locks_across_startup() {
    let mut t = tpm();
    define(&mut t, &public(IDX, AUTH_RW | WRITE_STCLEAR, 8));
    define(&mut t, &public(IDX2, AUTH_RW | WRITEDEFINE, 8));
    define(&mut t, &public(IDX3, AUTH_RW | WRITEDEFINE, 8)); // never written
    define(&mut t, &public(IDX4, AUTH_RW, 8));
    assert_eq!(write(&mut t, IDX, b"a", 0), Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX2, b"b", 0), Rc::SUCCESS);
    let name_before = read_public(&mut t, IDX).unwrap().1;
    for idx in [IDX, IDX2, IDX3] {
        assert_eq!(simple(&mut t, CC_WRITE_LOCK, idx, idx), Rc::SUCCESS);
        assert_ne!(attributes(&mut t, idx) & WRITELOCKED, 0);
        assert_eq!(write(&mut t, idx, b"z", 0), Rc::NV_LOCKED);
        // Locking again is no error.
        assert_eq!(simple(&mut t, CC_WRITE_LOCK, idx, idx), Rc::SUCCESS);
    }
    assert_ne!(
        read_public(&mut t, IDX).unwrap().1,
        name_before,
        "the lock is in the Name"
    );
    assert_eq!(
        simple(&mut t, CC_WRITE_LOCK, IDX4, IDX4),
        Rc::ATTRIBUTES.handle(2)
    );
    assert_eq!(
        simple(&mut t, CC_WRITE_LOCK, PLATFORM, IDX4),
        Rc::NV_AUTHORIZATION
    );

    // TPM Resume keeps every lock.
    let mut t = resume(t);
    for idx in [IDX, IDX2, IDX3] {
        assert_eq!(write(&mut t, idx, b"z", 0), Rc::NV_LOCKED, "{idx:#x}");
    }
    // TPM Restart: WRITE_STCLEAR and unwritten WRITEDEFINE unlock,
    // written WRITEDEFINE stays locked.
    let mut t = restart(t);
    assert_eq!(write(&mut t, IDX, b"c", 0), Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX2, b"z", 0), Rc::NV_LOCKED);
    assert_eq!(write(&mut t, IDX3, b"d", 0), Rc::SUCCESS);
    assert_eq!(read_public(&mut t, IDX).unwrap().1, {
        let mut p = public(IDX, AUTH_RW | WRITE_STCLEAR | WRITTEN, 8);
        p.truncate(p.len());
        expected_name(&p)
    });
    // TPM Reset (no shutdown) behaves the same.
    assert_eq!(simple(&mut t, CC_WRITE_LOCK, IDX, IDX), Rc::SUCCESS);
    let mut t = reset(t);
    assert_eq!(write(&mut t, IDX, b"e", 0), Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX2, b"z", 0), Rc::NV_LOCKED);
    assert_eq!(read(&mut t, IDX2, 1, 0).unwrap(), b"b");
}

#[test]
fn part3_31_12_global_write_lock() {
    let mut t = tpm();
    define(&mut t, &public(IDX, AUTH_RW | GLOBALLOCK, 8));
    define(&mut t, &public(IDX2, AUTH_RW, 8));
    define(&mut t, &public(IDX3, AUTH_RW | GLOBALLOCK | WRITEDEFINE, 8));
    assert_eq!(write(&mut t, IDX3, b"w", 0), Rc::SUCCESS);
    let c = Cmd::new(CC_GLOBAL_WRITE_LOCK).handle(OWNER).pw(b"");
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX, b"x", 0), Rc::NV_LOCKED);
    assert_eq!(write(&mut t, IDX3, b"x", 0), Rc::NV_LOCKED);
    assert_eq!(write(&mut t, IDX2, b"x", 0), Rc::SUCCESS);
    // A global lock ends at Startup(CLEAR) unless WRITEDEFINE and written.
    let mut t = reset(t);
    assert_eq!(write(&mut t, IDX, b"x", 0), Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX3, b"x", 0), Rc::NV_LOCKED);
}

#[test]
fn part3_31_14_read_lock() {
    let mut t = tpm();
    define(&mut t, &public(IDX, AUTH_RW | OWNERREAD | READ_STCLEAR, 8));
    define(&mut t, &public(IDX2, AUTH_RW, 8));
    define(&mut t, &public(IDX3, AUTH_RW | READ_STCLEAR, 8));
    assert_eq!(write(&mut t, IDX, b"r", 0), Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX2, b"r", 0), Rc::SUCCESS);
    assert_eq!(simple(&mut t, CC_READ_LOCK, IDX, IDX), Rc::SUCCESS);
    assert_ne!(attributes(&mut t, IDX) & READLOCKED, 0);
    assert_eq!(read(&mut t, IDX, 1, 0), Err(Rc::NV_LOCKED));
    assert_eq!(read_as(&mut t, OWNER, b"", IDX, 1, 0), Err(Rc::NV_LOCKED));
    assert_eq!(simple(&mut t, CC_READ_LOCK, OWNER, IDX), Rc::SUCCESS);
    // Writes are not affected.
    assert_eq!(write(&mut t, IDX, b"s", 0), Rc::SUCCESS);
    assert_eq!(
        simple(&mut t, CC_READ_LOCK, IDX2, IDX2),
        Rc::ATTRIBUTES.handle(2)
    );
    assert_eq!(
        simple(&mut t, CC_READ_LOCK, PLATFORM, IDX),
        Rc::SUCCESS,
        "already locked"
    );
    assert_eq!(
        simple(&mut t, CC_READ_LOCK, PLATFORM, IDX3),
        Rc::NV_AUTHORIZATION
    );
    // An unwritten index may be read-locked.
    assert_eq!(simple(&mut t, CC_READ_LOCK, IDX3, IDX3), Rc::SUCCESS);
    let mut t = resume(t);
    assert_eq!(read(&mut t, IDX, 1, 0), Err(Rc::NV_LOCKED));
    let mut t = restart(t);
    assert_eq!(read(&mut t, IDX, 1, 0).unwrap(), b"s");
    assert_eq!(attributes(&mut t, IDX3) & READLOCKED, 0);
}

#[test]
fn part3_31_clear_stclear_and_hybrid_indices() {
    let mut t = tpm();
    define(&mut t, &public(IDX, AUTH_RW | CLEAR_STCLEAR, 8));
    define(&mut t, &public(IDX2, AUTH_RW | ORDERLY, 8));
    define(&mut t, &public(IDX3, AUTH_RW | ORDERLY | COUNTER, 8));
    assert_eq!(write(&mut t, IDX, b"12345678", 0), Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX2, b"hybrid!!", 0), Rc::SUCCESS);
    for _ in 0..5 {
        assert_eq!(increment(&mut t, IDX3), Rc::SUCCESS);
    }
    // Resume: everything stays.
    let mut t = resume(t);
    assert_eq!(read(&mut t, IDX, 8, 0).unwrap(), b"12345678");
    assert_eq!(read(&mut t, IDX2, 8, 0).unwrap(), b"hybrid!!");
    // Restart: CLEAR_STCLEAR forgets WRITTEN, a hybrid index keeps its data.
    let mut t = restart(t);
    assert_eq!(read(&mut t, IDX, 8, 0), Err(Rc::NV_UNINITIALIZED));
    assert_eq!(read(&mut t, IDX2, 8, 0).unwrap(), b"hybrid!!");
    // A partial write after that starts from zeros.
    assert_eq!(write(&mut t, IDX, b"ab", 6), Rc::SUCCESS);
    assert_eq!(read(&mut t, IDX, 8, 0).unwrap(), b"\0\0\0\0\0\0ab");
    // Reset: a hybrid ordinary index is unwritten again (Part 1, 34.2.4.2);
    // a hybrid counter was committed at each increment and is exact even
    // after this non-orderly reset.
    let mut t = reset(t);
    assert_eq!(read(&mut t, IDX2, 8, 0), Err(Rc::NV_UNINITIALIZED));
    assert_eq!(read_u64(&mut t, IDX3), Ok(5));
    assert_eq!(increment(&mut t, IDX3), Rc::SUCCESS);
    assert_eq!(read_u64(&mut t, IDX3), Ok(6));
}

#[test]
fn part3_31_3_forbidden_definitions_change_nothing() {
    let mut t = tpm();
    define(&mut t, &public(IDX, AUTH_RW, 16));
    assert_eq!(write(&mut t, IDX, b"keep me", 0), Rc::SUCCESS);
    let commits = t.platform().commits;
    let policy20 = [1u8; 20];
    let cases: Vec<(u32, &[u8], Vec<u8>, Rc)> = vec![
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | WRITTEN, 8),
            Rc::ATTRIBUTES.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | WRITELOCKED, 8),
            Rc::ATTRIBUTES.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | READLOCKED, 8),
            Rc::ATTRIBUTES.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTHWRITE, 8),
            Rc::ATTRIBUTES.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTHREAD, 8),
            Rc::ATTRIBUTES.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | COUNTER | CLEAR_STCLEAR, 8),
            Rc::ATTRIBUTES.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | CLEAR_STCLEAR | WRITEDEFINE, 8),
            Rc::ATTRIBUTES.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | 0x3 << 4, 8),
            Rc::ATTRIBUTES.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | PLATFORMCREATE, 8),
            Rc::ATTRIBUTES.handle(1),
        ),
        (
            PLATFORM,
            b"",
            public(IDX2, AUTH_RW, 8),
            Rc::ATTRIBUTES.handle(1),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | POLICY_DELETE, 8),
            Rc::ATTRIBUTES.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | 1 << 8, 8),
            Rc::RESERVED_BITS.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | 1 << 20, 8),
            Rc::RESERVED_BITS.param(2),
        ),
        (OWNER, b"", public(IDX2, AUTH_RW, 2049), Rc::SIZE.param(2)),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | WRITEALL, 1025),
            Rc::SIZE.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | COUNTER, 4),
            Rc::SIZE.param(2),
        ),
        (
            OWNER,
            b"",
            public(IDX2, AUTH_RW | BITS, 16),
            Rc::SIZE.param(2),
        ),
        (
            OWNER,
            b"",
            public_alg(IDX2, 0x000B, AUTH_RW, &policy20, 8),
            Rc::SIZE.param(2),
        ),
        (
            OWNER,
            &[1u8; 33],
            public(IDX2, AUTH_RW, 8),
            Rc::SIZE.param(1),
        ),
        (
            OWNER,
            b"",
            public(0x8100_0001, AUTH_RW, 8),
            Rc::VALUE.param(2),
        ),
        (
            OWNER,
            b"",
            public_alg(IDX2, 0x0010, AUTH_RW, &[], 8),
            Rc::HASH.param(2),
        ),
        (OWNER, b"", public(IDX, AUTH_RW, 8), Rc::NV_DEFINED),
        (RH_NULL, b"", public(IDX2, AUTH_RW, 8), Rc::VALUE.handle(1)),
    ];
    for (auth, value, p, want) in cases {
        assert_eq!(define_with(&mut t, auth, value, &p), want, "{p:02x?}");
    }
    // A TPM2B_NV_PUBLIC whose size disagrees with its contents.
    let mut p = public(IDX2, AUTH_RW, 8);
    p.push(0);
    assert_eq!(define_with(&mut t, OWNER, b"", &p), Rc::SIZE.param(2));
    // An authValue longer than the nameAlg's digest, up to trailing zeros, is fine.
    let mut long = vec![5u8; 32];
    long.extend_from_slice(&[0u8; 16]);
    assert_eq!(
        define_with(&mut t, OWNER, &long, &public(IDX3, AUTH_RW, 8)),
        Rc::SUCCESS
    );
    assert_eq!(
        write_as(&mut t, IDX3, &[5u8; 32], IDX3, b"ok", 0),
        Rc::SUCCESS
    );
    assert_eq!(
        t.platform().commits,
        commits + 2,
        "only the two successes committed"
    );
    assert_eq!(read(&mut t, IDX, 7, 0).unwrap(), b"keep me");
    assert_eq!(nv_handles(&mut t), vec![IDX, IDX3]);
}

#[test]
fn part3_31_nv_space_is_shared_and_refused_when_full() {
    let mut t = small_tpm(2000);
    let avail0 = property(&mut t, 0x20B); // TPM_PT_NV_COUNTERS_AVAIL
    assert!(avail0 > 0);
    let mut defined = Vec::new();
    let mut rc = Rc::SUCCESS;
    for i in 0..100u32 {
        rc = define_with(&mut t, OWNER, b"pw", &public(IDX + i, AUTH_RW, 256));
        if rc != Rc::SUCCESS {
            break;
        }
        assert_eq!(write(&mut t, IDX + i, &[i as u8; 256], 0), Rc::SUCCESS);
        defined.push(IDX + i);
    }
    assert_eq!(rc, Rc::NV_SPACE);
    assert!(defined.len() >= 4, "{}", defined.len());
    assert!(property(&mut t, 0x20B) < avail0);
    // Nothing stored was damaged.
    for (i, idx) in defined.iter().enumerate() {
        assert_eq!(read(&mut t, *idx, 256, 0).unwrap(), vec![i as u8; 256]);
    }
    // Freeing one makes room again.
    assert_eq!(undefine(&mut t, OWNER, defined[0]), Rc::SUCCESS);
    assert_eq!(
        define_with(&mut t, OWNER, b"pw", &public(IDX4 + 0x100, AUTH_RW, 256)),
        Rc::SUCCESS
    );
    // Persistent objects count against the same space.
    let mut t = small_tpm(2000);
    let (h, _, _) = create_primary(&mut t, OWNER, &rsa_storage_template(), b"");
    let c = Cmd::new(0x120)
        .handle(OWNER)
        .handle(h)
        .pw(b"")
        .u32(0x8100_0001);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let mut n = 0;
    while define_with(&mut t, OWNER, b"", &public(IDX + n, AUTH_RW, 256)) == Rc::SUCCESS {
        n += 1;
    }
    assert!((n as usize) < defined.len(), "{n} vs {}", defined.len());
}

#[test]
fn part3_31_platform_indices_and_hierarchies() {
    let mut t = tpm();
    let pp = PPREAD | PPWRITE | PLATFORMCREATE | AUTHREAD;
    assert_eq!(
        define_with(&mut t, PLATFORM, b"pw", &public(IDX, pp, 8)),
        Rc::SUCCESS
    );
    define(&mut t, &public(IDX2, AUTH_RW | OWNER_RW, 8));
    assert_eq!(
        write_as(&mut t, PLATFORM, b"", IDX, b"plat", 0),
        Rc::SUCCESS
    );
    // The owner cannot delete a platform index.
    assert_eq!(undefine(&mut t, OWNER, IDX), Rc::NV_AUTHORIZATION);
    // TPM2_Clear keeps platform indices.
    assert_eq!(
        run(&mut t, &Cmd::new(CC_CLEAR).handle(PLATFORM).pw(b""), false).rc,
        Rc::SUCCESS
    );
    assert_eq!(read(&mut t, IDX, 4, 0).unwrap(), b"plat");
    assert_eq!(read_public(&mut t, IDX2), Err(Rc::HANDLE.handle(1)));
    define(&mut t, &public(IDX2, AUTH_RW | OWNER_RW, 8));
    // phEnableNV CLEAR hides platform indices and forbids platform definitions.
    let hc = |t: &mut Tpm<TestPlatform>, enable: u32, on: u8| {
        run(
            t,
            &Cmd::new(CC_HIERARCHY_CONTROL)
                .handle(PLATFORM)
                .pw(b"")
                .u32(enable)
                .u8(on),
            false,
        )
        .rc
    };
    assert_eq!(hc(&mut t, PLATFORM_NV, 0), Rc::SUCCESS);
    assert_eq!(read_public(&mut t, IDX), Err(Rc::HANDLE.handle(1)));
    assert_eq!(read(&mut t, IDX, 4, 0), Err(Rc::HANDLE.handle(1)));
    assert_eq!(
        read_as(&mut t, PLATFORM, b"", IDX, 4, 0),
        Err(Rc::HANDLE.handle(2))
    );
    assert_eq!(
        define_with(&mut t, PLATFORM, b"", &public(IDX3, pp, 8)),
        Rc::HIERARCHY.handle(1)
    );
    assert!(read_public(&mut t, IDX2).is_ok());
    assert_eq!(hc(&mut t, PLATFORM_NV, 1), Rc::SUCCESS);
    // shEnable CLEAR hides owner indices, even from the platform.
    assert_eq!(hc(&mut t, OWNER, 0), Rc::SUCCESS);
    assert_eq!(read_public(&mut t, IDX2), Err(Rc::HANDLE.handle(1)));
    assert_eq!(undefine(&mut t, PLATFORM, IDX2), Rc::HANDLE.handle(2));
    assert_eq!(hc(&mut t, OWNER, 1), Rc::SUCCESS);
    // The platform may delete either kind.
    assert_eq!(undefine(&mut t, PLATFORM, IDX2), Rc::SUCCESS);
    assert_eq!(undefine(&mut t, PLATFORM, IDX), Rc::SUCCESS);
    assert!(nv_handles(&mut t).is_empty());
}

#[test]
fn part3_31_5_undefine_space_special_needs_the_policy() {
    let mut t = tpm();
    let pol = cc_password_policy(CC_UNDEFINE_SPECIAL);
    let attrs = PPREAD | PPWRITE | PLATFORMCREATE | POLICY_DELETE;
    let p = public_alg(IDX, 0x000B, attrs, &pol, 8);
    assert_eq!(define_with(&mut t, PLATFORM, b"secret", &p), Rc::SUCCESS);
    // NV_UndefineSpace refuses a POLICY_DELETE index.
    assert_eq!(undefine(&mut t, PLATFORM, IDX), Rc::ATTRIBUTES.handle(2));
    // The ADMIN role needs a policy session: a password is refused.
    let cmd = with_sessions(
        CC_UNDEFINE_SPECIAL,
        &[IDX, PLATFORM],
        &[(0x4000_0009, b"secret"), (0x4000_0009, b"")],
        &[],
    );
    assert_ne!(raw_rc(&mut t, &cmd), Rc::SUCCESS);
    assert!(read_public(&mut t, IDX).is_ok());
    // With the policy satisfied, the index goes.
    let s = policy_session(&mut t, CC_UNDEFINE_SPECIAL);
    let cmd = with_sessions(
        CC_UNDEFINE_SPECIAL,
        &[IDX, PLATFORM],
        &[(s, b"secret"), (0x4000_0009, b"")],
        &[],
    );
    assert_eq!(raw_rc(&mut t, &cmd), Rc::SUCCESS);
    assert_eq!(read_public(&mut t, IDX), Err(Rc::HANDLE.handle(1)));

    // An index without POLICY_DELETE: TPM_RC_ATTRIBUTES on handle 1.
    let p = public_alg(IDX2, 0x000B, PPREAD | PPWRITE | PLATFORMCREATE, &pol, 8);
    assert_eq!(define_with(&mut t, PLATFORM, b"secret", &p), Rc::SUCCESS);
    let s = policy_session(&mut t, CC_UNDEFINE_SPECIAL);
    let cmd = with_sessions(
        CC_UNDEFINE_SPECIAL,
        &[IDX2, PLATFORM],
        &[(s, b"secret"), (0x4000_0009, b"")],
        &[],
    );
    assert_eq!(raw_rc(&mut t, &cmd), Rc::ATTRIBUTES.handle(1));
    assert!(read_public(&mut t, IDX2).is_ok());
}

#[test]
fn part3_31_15_change_auth_needs_the_policy() {
    let mut t = tpm();
    let pol = cc_password_policy(CC_CHANGE_AUTH);
    let p = public_alg(IDX, 0x000B, AUTH_RW, &pol, 8);
    define(&mut t, &p);
    let name = read_public(&mut t, IDX).unwrap().1;
    // A password cannot assert the ADMIN role of an index.
    let cmd = with_sessions(
        CC_CHANGE_AUTH,
        &[IDX],
        &[(0x4000_0009, b"pw")],
        &sized(b"new"),
    );
    assert_ne!(raw_rc(&mut t, &cmd), Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX, b"still", 0), Rc::SUCCESS);
    // Too long a new value: TPM_RC_SIZE on parameter 1.
    let s = policy_session(&mut t, CC_CHANGE_AUTH);
    let cmd = with_sessions(CC_CHANGE_AUTH, &[IDX], &[(s, b"pw")], &sized(&[1u8; 33]));
    assert_eq!(raw_rc(&mut t, &cmd), Rc::SIZE.param(1));
    let s = policy_session(&mut t, CC_CHANGE_AUTH);
    let cmd = with_sessions(CC_CHANGE_AUTH, &[IDX], &[(s, b"pw")], &sized(b"new"));
    assert_eq!(raw_rc(&mut t, &cmd), Rc::SUCCESS);
    assert_eq!(write(&mut t, IDX, b"x", 0), Rc::AUTH_FAIL.session(1));
    assert_eq!(write_as(&mut t, IDX, b"new", IDX, b"x", 0), Rc::SUCCESS);
    // The authValue is not part of the Name.
    let mut p2 = p.clone();
    p2[6..10].copy_from_slice(&(AUTH_RW | WRITTEN).to_be_bytes());
    assert_eq!(read_public(&mut t, IDX).unwrap().1, expected_name(&p2));
    assert_ne!(name, expected_name(&p2));
}

#[test]
fn nv_changes_are_committed_before_success_and_rolled_back_on_failure() {
    let mut t = tpm();
    define(&mut t, &public(IDX, AUTH_RW, 8));
    assert_eq!(write(&mut t, IDX, b"durable!", 0), Rc::SUCCESS);
    t.platform_mut().fail_commits = true;
    assert_eq!(write(&mut t, IDX, b"volatile", 0), Rc::NV_UNAVAILABLE);
    assert_eq!(
        define_with(&mut t, OWNER, b"", &public(IDX2, AUTH_RW, 8)),
        Rc::NV_UNAVAILABLE
    );
    t.platform_mut().fail_commits = false;
    assert_eq!(read(&mut t, IDX, 8, 0).unwrap(), b"durable!");
    assert_eq!(read_public(&mut t, IDX2), Err(Rc::HANDLE.handle(1)));
    // What a success reported is in the committed state.
    let mut t = reset(t);
    assert_eq!(read(&mut t, IDX, 8, 0).unwrap(), b"durable!");
}

#[test]
fn nv_capabilities() {
    let mut t = tpm();
    assert_eq!(property(&mut t, 0x117), 2048); // TPM_PT_NV_INDEX_MAX
    assert_eq!(property(&mut t, 0x12C), 1024); // TPM_PT_NV_BUFFER_MAX
    assert_eq!(property(&mut t, 0x202), 0); // TPM_PT_HR_NV_INDEX
    define(&mut t, &public(IDX, AUTH_RW | COUNTER, 8));
    define(&mut t, &public(IDX2, AUTH_RW, 8));
    assert_eq!(property(&mut t, 0x202), 2);
    assert_eq!(property(&mut t, 0x20A), 1); // TPM_PT_NV_COUNTERS
    assert_eq!(nv_handles(&mut t), vec![IDX, IDX2]);
}

#[test]
fn part3_31_policy_write_with_a_policy_session() {
    let mut t = tpm();
    let pol = cc_password_policy(CC_WRITE);
    let p = public_alg(IDX, 0x000B, AUTHREAD | POLICYWRITE, &pol, 8);
    define(&mut t, &p);
    let s = policy_session(&mut t, CC_WRITE);
    let mut params = sized(b"policy");
    params.extend_from_slice(&0u16.to_be_bytes());
    let cmd = with_sessions(CC_WRITE, &[IDX, IDX], &[(s, b"pw")], &params);
    assert_eq!(raw_rc(&mut t, &cmd), Rc::SUCCESS);
    assert_eq!(read(&mut t, IDX, 6, 0).unwrap(), b"policy");
    // A policy for another command does not authorize a write.
    let s = policy_session(&mut t, CC_READ);
    let cmd = with_sessions(CC_WRITE, &[IDX, IDX], &[(s, b"pw")], &params);
    assert_ne!(raw_rc(&mut t, &cmd), Rc::SUCCESS);
}

/// The authValue of an index without AUTHWRITE must not authorize a write
/// even when POLICYWRITE is SET (Part 1, 19.7; the reference's
/// `IsAuthValueAvailable`): the session layer refuses it with
/// `TPM_RC_AUTH_UNAVAILABLE`. Needs the engine to ask
/// `NvIndex::auth_value_available` (see `state::nv`).
#[test]
fn part3_31_auth_value_cannot_write_a_policy_write_index() {
    let mut t = tpm();
    let pol = cc_password_policy(CC_WRITE);
    define(
        &mut t,
        &public_alg(IDX, 0x000B, AUTHREAD | POLICYWRITE, &pol, 8),
    );
    assert_eq!(write(&mut t, IDX, b"nope", 0), Rc::AUTH_UNAVAILABLE);
    define(
        &mut t,
        &public_alg(IDX2, 0x000B, AUTHWRITE | POLICYREAD, &pol, 8),
    );
    assert_eq!(write(&mut t, IDX2, b"ok", 0), Rc::SUCCESS);
    assert_eq!(read(&mut t, IDX2, 2, 0), Err(Rc::AUTH_UNAVAILABLE));
}
