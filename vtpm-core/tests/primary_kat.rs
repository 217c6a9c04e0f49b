//! Known answers pinning primary-key derivation, version 1 (Part 1, 27:
//! a primary object is a deterministic function of the hierarchy seed,
//! the template and the sensitive data). If one of these changes, every
//! user's SRK and EK change with it: that is a breaking change that needs
//! a new derivation version, never an edit of the expected values.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::{ecc_storage_template, rsa_storage_template};
use sha2::{Digest, Sha256};
use vtpm_core::crypto::HashAlg;
use vtpm_core::object::{generate, PrimaryStream};
use vtpm_core::wire::object::{Public, SensitiveCreate};
use vtpm_core::wire::{Marshal, Reader};

/// PolicyA (SHA-256) of the TCG EK Credential Profile.
const POLICY_A: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
];

/// EK template L-1 (RSA 2048).
fn ek_rsa_l1() -> Vec<u8> {
    let mut v = vec![0x00, 0x01, 0x00, 0x0B, 0x00, 0x03, 0x00, 0xB2, 0x00, 0x20];
    v.extend_from_slice(&POLICY_A);
    v.extend_from_slice(&[
        0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0,
    ]);
    v.extend_from_slice(&[0x01, 0x00]);
    v.extend_from_slice(&[0u8; 256]);
    v
}

/// EK template L-2 (ECC NIST P-256).
fn ek_ecc_l2() -> Vec<u8> {
    let mut v = vec![0x00, 0x23, 0x00, 0x0B, 0x00, 0x03, 0x00, 0xB2, 0x00, 0x20];
    v.extend_from_slice(&POLICY_A);
    v.extend_from_slice(&[
        0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x00, 0x03, 0x00, 0x10,
    ]);
    v.extend_from_slice(&[0x00, 0x20]);
    v.extend_from_slice(&[0u8; 32]);
    v.extend_from_slice(&[0x00, 0x20]);
    v.extend_from_slice(&[0u8; 32]);
    v
}

fn derive(seed: &[u8], template: &[u8]) -> String {
    let public = Public::read(&mut Reader::new(template), false).expect("template");
    let bytes = public.to_bytes();
    assert_eq!(bytes, template, "template round trip");
    let mut stream = PrimaryStream::new(HashAlg::Sha256, seed, &bytes, &[]);
    let (p, _) = generate(&public, &SensitiveCreate::default(), &mut stream).expect("generate");
    Sha256::digest(p.to_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn primary_derivation_v1_known_answers() {
    let seed = [0x5Au8; 64];
    let cases = [
        (
            "RSA 2048 storage",
            rsa_storage_template(),
            "adbf69c9e336c404b74c44253e2454a3ac862b0dba2c3de2845031d5cd17ee53",
        ),
        (
            "ECC P-256 storage",
            ecc_storage_template(),
            "5edf39c66149022eea812af8188e904af128329766031788cf3936ee807c6e4a",
        ),
        (
            "EK L-1 RSA 2048",
            ek_rsa_l1(),
            "73a6791e812dea24490c83f1c4344fe0c649e5445ddbf4f75b0cec43ca37d8b1",
        ),
        (
            "EK L-2 ECC P-256",
            ek_ecc_l2(),
            "8bc24ab6b9cc5c93f89fc047d52487b03c7c7f70d56b4e80a27669c607b0a3ff",
        ),
    ];
    let mut failed = Vec::new();
    for (name, template, expect) in cases {
        let got = derive(&seed, &template);
        println!("{name}: {got}");
        if got != expect {
            failed.push(format!("{name}: got {got}, pinned {expect}"));
        }
    }
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn primary_derivation_depends_on_seed_template_and_data_only() {
    let t = ecc_storage_template();
    assert_eq!(derive(&[1; 64], &t), derive(&[1; 64], &t));
    assert_ne!(derive(&[1; 64], &t), derive(&[2; 64], &t));
    let mut t2 = t.clone();
    t2[6..8].copy_from_slice(&[0x00, 0x76]); // stClear added
    assert_ne!(derive(&[1; 64], &t), derive(&[1; 64], &t2));
}
