//! The command pipeline against the spec's response codes (Part 3, 5).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use vtpm_core::testing::{started_tpm, TestPlatform, STARTUP_CLEAR};
use vtpm_core::{Config, Rc, Tpm};

/// Build a command: tag, size, code, body.
fn cmd(tag: u16, code: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&tag.to_be_bytes());
    v.extend_from_slice(&((10 + body.len()) as u32).to_be_bytes());
    v.extend_from_slice(&code.to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn rc(rsp: &[u8]) -> Rc {
    Rc(u32::from_be_bytes(rsp[6..10].try_into().unwrap()))
}

fn tpm() -> Tpm<TestPlatform> {
    started_tpm(7).expect("startup")
}

#[test]
fn part3_5_commands_before_startup_get_initialize() {
    let mut t = Tpm::manufacture(TestPlatform::new(1), Config::default()).unwrap();
    t.power_on();
    let r = t.execute(0, &cmd(0x8001, 0x17B, &[0, 8]));
    assert_eq!(rc(&r), Rc::INITIALIZE);
    assert_eq!(r.len(), 10);
    assert_eq!(rc(&t.execute(0, &STARTUP_CLEAR)), Rc::SUCCESS);
    // A second Startup is refused.
    assert_eq!(rc(&t.execute(0, &STARTUP_CLEAR)), Rc::INITIALIZE);
}

#[test]
fn part3_5_truncated_header_is_insufficient() {
    let mut t = tpm();
    assert_eq!(rc(&t.execute(0, &[0x80, 0x01, 0, 0])), Rc::INSUFFICIENT);
    assert_eq!(rc(&t.execute(0, &[])), Rc::INSUFFICIENT);
}

#[test]
fn part3_5_size_mismatch_is_command_size() {
    let mut t = tpm();
    let mut c = cmd(0x8001, 0x17B, &[0, 8]);
    c.push(0); // one byte more than the header says
    assert_eq!(rc(&t.execute(0, &c)), Rc::COMMAND_SIZE);
    let c = cmd(0x8001, 0x17B, &[0; 5000]);
    assert_eq!(rc(&t.execute(0, &c)), Rc::COMMAND_SIZE);
}

#[test]
fn part3_5_bad_tag() {
    let mut t = tpm();
    assert_eq!(rc(&t.execute(0, &cmd(0x00C1, 0x17B, &[0, 8]))), Rc::BAD_TAG);
}

#[test]
fn part3_5_unknown_command_code() {
    let mut t = tpm();
    assert_eq!(
        rc(&t.execute(0, &cmd(0x8001, 0x0000_0FFF, &[]))),
        Rc::COMMAND_CODE
    );
}

#[test]
fn part3_5_trailing_parameter_bytes_are_size() {
    let mut t = tpm();
    assert_eq!(rc(&t.execute(0, &cmd(0x8001, 0x17B, &[0, 8, 0]))), Rc::SIZE);
}

#[test]
fn part3_5_truncated_parameter_is_insufficient_with_position() {
    let mut t = tpm();
    assert_eq!(
        rc(&t.execute(0, &cmd(0x8001, 0x17B, &[0]))),
        Rc::INSUFFICIENT.param(1)
    );
}

#[test]
fn part3_5_missing_authorization() {
    let mut t = tpm();
    // PCR_Extend of PCR 0 without sessions.
    let body = [0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        rc(&t.execute(0, &cmd(0x8001, 0x182, &body))),
        Rc::AUTH_MISSING
    );
}

#[test]
fn part3_5_bad_pcr_handle_is_value_on_handle_1() {
    let mut t = tpm();
    let mut body = vec![0, 0, 0, 30]; // PCR 30 does not exist
    body.extend_from_slice(&[0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 1, 0, 0]);
    body.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(
        rc(&t.execute(0, &cmd(0x8002, 0x182, &body))),
        Rc::VALUE.handle(1)
    );
}

#[test]
fn part3_5_short_auth_area_is_size() {
    let mut t = tpm();
    let body = [0, 0, 0, 0, 0, 0, 0, 4, 0x40, 0, 0, 9];
    assert_eq!(rc(&t.execute(0, &cmd(0x8002, 0x182, &body))), Rc::SIZE);
}

#[test]
fn part3_16_get_random_returns_requested_bytes() {
    let mut t = tpm();
    let r = t.execute(0, &cmd(0x8001, 0x17B, &[0, 16]));
    assert_eq!(rc(&r), Rc::SUCCESS);
    assert_eq!(&r[10..12], &[0, 16]);
    assert_eq!(r.len(), 12 + 16);
    // More than a digest is capped at the largest digest (64).
    let r = t.execute(0, &cmd(0x8001, 0x17B, &[1, 0]));
    assert_eq!(&r[10..12], &[0, 64]);
}

#[test]
fn part3_22_extend_then_read_matches_independent_hash() {
    use sha2::Digest;
    let mut t = tpm();
    let d = sha2::Sha256::digest(b"event").to_vec();
    let mut body = vec![0, 0, 0, 16]; // PCR 16
    body.extend_from_slice(&[0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 1, 0, 0]);
    body.extend_from_slice(&[0, 0, 0, 1, 0, 0x0B]);
    body.extend_from_slice(&d);
    let r = t.execute(0, &cmd(0x8002, 0x182, &body));
    assert_eq!(rc(&r), Rc::SUCCESS);
    // Read PCR 16 of sha256.
    let r = t.execute(0, &cmd(0x8001, 0x17E, &[0, 0, 0, 1, 0, 0x0B, 3, 0, 0, 1]));
    assert_eq!(rc(&r), Rc::SUCCESS);
    let mut h = sha2::Sha256::new();
    h.update([0u8; 32]);
    h.update(&d);
    let expect = h.finalize().to_vec();
    assert_eq!(&r[r.len() - 32..], &expect[..]);
}

#[test]
fn write_ahead_commit_failure_rolls_back() {
    let mut t = tpm();
    t.platform_mut().fail_commits = true;
    // Shutdown changes persistent state; with the commit failing it must fail.
    let r = t.execute(0, &cmd(0x8001, 0x145, &[0, 0]));
    assert_eq!(rc(&r), Rc::NV_UNAVAILABLE);
}
