//! The vTPM service manifest (EK template L-1 `TPMT_PUBLIC`) and the
//! attestation binding REPORT_DATA = SHA-512(nonce || manifest).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use common::cmds::*;
use common::*;
use sha2::Digest;
use vtpm_svsm::attest::*;
use vtpm_svsm::{ServiceOptions, SimulatedGuest};

/// TCG EK Credential Profile template L-1, written out byte by byte.
fn l1_bytes() -> Vec<u8> {
    let mut v = vec![
        0x00, 0x01, // TPM_ALG_RSA
        0x00, 0x0B, // nameAlg SHA-256
        0x00, 0x03, 0x00, 0xB2, // TPMA_OBJECT
        0x00, 0x20, // authPolicy size
    ];
    v.extend_from_slice(&[
        0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC, 0x8D, 0x46, 0xA5, 0xD7,
        0x24, 0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52, 0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14,
        0x69, 0xAA,
    ]);
    v.extend_from_slice(&[
        0x00, 0x06, 0x00, 0x80, 0x00, 0x43, // AES-128-CFB
        0x00, 0x10, // scheme NULL
        0x08, 0x00, // 2048 bits
        0x00, 0x00, 0x00, 0x00, // exponent 0
        0x01, 0x00, // unique: 256 bytes
    ]);
    v.extend_from_slice(&[0u8; 256]);
    v
}

#[test]
fn l1_template_is_byte_exact() {
    assert_eq!(EkTemplate::RsaL1.public_template(), l1_bytes());
    assert_eq!(l1_bytes().len(), 10 + 32 + 16 + 256);
}

#[test]
fn l2_template_is_byte_exact() {
    let mut v = vec![0x00, 0x23, 0x00, 0x0B, 0x00, 0x03, 0x00, 0xB2, 0x00, 0x20];
    v.extend_from_slice(&EK_POLICY_A_SHA256);
    v.extend_from_slice(&[
        0x00, 0x06, 0x00, 0x80, 0x00, 0x43, // AES-128-CFB
        0x00, 0x10, // scheme NULL
        0x00, 0x03, // NIST P-256
        0x00, 0x10, // kdf NULL
        0x00, 0x20,
    ]);
    v.extend_from_slice(&[0u8; 32]);
    v.extend_from_slice(&[0x00, 0x20]);
    v.extend_from_slice(&[0u8; 32]);
    assert_eq!(EkTemplate::EccL2.public_template(), v);
}

#[test]
fn service_guid_and_manifest_version() {
    // c476f1eb-0123-45a5-9641-b4e7dde5bfe3, mixed-endian.
    assert_eq!(
        VTPM_SERVICE_GUID,
        [
            0xeb, 0xf1, 0x76, 0xc4, 0x23, 0x01, 0xa5, 0x45, 0x96, 0x41, 0xb4, 0xe7, 0xdd, 0xe5,
            0xbf, 0xe3
        ]
    );
    assert_eq!(VTPM_MANIFEST_VERSION, 0);
}

#[test]
fn create_primary_command_is_well_formed() {
    let c = create_primary_command(EkTemplate::RsaL1);
    assert_eq!(c, create_primary(RH_ENDORSEMENT, &l1_bytes()));
    assert_eq!(announced_size(&c), c.len());
}

#[test]
fn manifest_is_the_ek_a_verifier_recreates_through_the_guest() {
    let tpm = vtpm_core::testing::started_tpm(11).unwrap();
    let mut guest = SimulatedGuest::new(tpm, ServiceOptions::default()).unwrap();
    let manifest = vtpm_manifest(guest.tpm_mut()).unwrap();
    // The template's fixed part, then a 256-byte modulus.
    let fixed = l1_bytes().len() - 256;
    assert_eq!(&manifest[..fixed - 2], &l1_bytes()[..fixed - 2]);
    assert_eq!(&manifest[fixed - 2..fixed], &[0x01, 0x00]);
    assert_eq!(manifest.len(), fixed + 256);
    assert!(manifest[fixed] & 0x80 != 0, "a 2048-bit modulus");

    // What svsm-vtpm-test / go-tpm-tools do: CreatePrimary(L-1) through the
    // guest's own TPM and compare outPublic with the manifest.
    let rsp = guest
        .send(0, &create_primary(RH_ENDORSEMENT, &l1_bytes()))
        .unwrap();
    assert_eq!(rc(&rsp), 0);
    let (out_public, _) = read_tpm2b(&rsp, 18);
    assert_eq!(out_public, &manifest[..]);
    assert_eq!(rc(&guest.send(0, &flush(out_handle(&rsp))).unwrap()), 0);

    // Asking again gives the same bytes and leaves no object loaded.
    assert_eq!(vtpm_manifest(guest.tpm_mut()).unwrap(), manifest);
    let handles = guest.send(0, &get_capability(1, 0x8000_0000, 64)).unwrap();
    assert_eq!(rc(&handles), 0);
    assert_eq!(&handles[11..15], &[0, 0, 0, 1], "TPM_CAP_HANDLES");
    assert_eq!(&handles[15..19], &[0, 0, 0, 0], "no transient objects left");
}

#[test]
fn ek_survives_a_restart_of_the_tpm() {
    let mut tpm = vtpm_core::testing::started_tpm(12).unwrap();
    let ek = vtpm_manifest(&mut tpm).unwrap();
    let state = tpm.serialize_state().unwrap();
    let mut again = vtpm_core::Tpm::load(
        vtpm_core::testing::TestPlatform::new(999),
        vtpm_core::Config::default(),
        &state,
    )
    .unwrap();
    again.power_on();
    assert_eq!(rc(&again.execute(0, &STARTUP_CLEAR)), 0);
    assert_eq!(vtpm_manifest(&mut again).unwrap(), ek);
    // Another TPM (another endorsement seed) has another EK.
    let mut other = vtpm_core::testing::started_tpm(20).unwrap();
    assert_ne!(vtpm_manifest(&mut other).unwrap(), ek);
}

#[test]
fn ecc_ek_follows_template_l2() {
    let mut tpm = vtpm_core::testing::started_tpm(14).unwrap();
    let ek = ek_public(&mut tpm, EkTemplate::EccL2).unwrap();
    let t = EkTemplate::EccL2.public_template();
    assert_eq!(ek.len(), t.len());
    assert_eq!(&ek[..t.len() - 68], &t[..t.len() - 68]);
    assert_ne!(
        &ek[t.len() - 66..t.len() - 34],
        &[0u8; 32][..],
        "x is a point"
    );
    assert_eq!(ek_public(&mut tpm, EkTemplate::EccL2).unwrap(), ek);
}

#[test]
fn report_data_is_sha512_of_nonce_and_manifest() {
    let nonce = [0x5a; NONCE_LEN];
    let manifest = l1_bytes();
    let expected = sha2::Sha512::new()
        .chain_update(nonce)
        .chain_update(&manifest)
        .finalize();
    assert_eq!(&report_data(&nonce, &manifest)[..], &expected[..]);
    // Known answer for an empty manifest and a zero nonce.
    let zero = report_data(&[0; 64], &[]);
    assert_eq!(&zero[..], &sha2::Sha512::digest([0u8; 64])[..]);
}

#[test]
fn ek_creation_errors_come_back_as_tpm_codes() {
    // Not started: TPM_RC_INITIALIZE.
    let mut tpm = vtpm_core::Tpm::manufacture(
        vtpm_core::testing::TestPlatform::new(3),
        vtpm_core::Config::default(),
    )
    .unwrap();
    tpm.power_on();
    assert_eq!(
        vtpm_manifest(&mut tpm),
        Err(AttestError::Tpm(TPM_RC_INITIALIZE))
    );

    // The guest set an endorsement password.
    let mut tpm = vtpm_core::testing::started_tpm(4).unwrap();
    let change = cmd(0x129, &[RH_ENDORSEMENT], 1, &tpm2b(b"secret"));
    assert_eq!(rc(&tpm.execute(0, &change)), 0);
    match vtpm_manifest(&mut tpm) {
        Err(AttestError::Tpm(code)) => assert_ne!(code, 0),
        other => panic!("{other:?}"),
    }
}
