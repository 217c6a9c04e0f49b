//! Part 3, 12, 24 and 28: objects, hierarchies, contexts, persistence.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;
use vtpm_core::Rc;

#[test]
fn part3_24_1_create_primary_is_deterministic_and_named() {
    let mut t = tpm();
    let (h1, p1, n1) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    let (h2, p2, n2) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    assert_ne!(h1, h2);
    assert_eq!(p1, p2, "same seed and template give the same key");
    assert_eq!(n1, n2);
    // Name = nameAlg || SHA-256(TPMT_PUBLIC).
    use sha2::Digest;
    let mut expect = vec![0x00, 0x0B];
    expect.extend_from_slice(&sha2::Sha256::digest(&p1[2..]));
    assert_eq!(n1, expect);
    // A different hierarchy gives a different key.
    let (_, p3, _) = create_primary(&mut t, 0x4000_000B, &ecc_storage_template(), b"");
    assert_ne!(p1, p3);
}

#[test]
fn part3_24_1_rsa_primary() {
    let mut t = tpm();
    let (_, p, _) = create_primary(&mut t, 0x4000_0001, &rsa_storage_template(), b"");
    // type, nameAlg, attrs, policy, sym(6), scheme(2), bits(2), exp(4), unique size 256
    assert_eq!(p.len(), 2 + 4 + 4 + 2 + 6 + 2 + 2 + 4 + 2 + 256);
}

#[test]
fn part3_12_create_load_readpublic_unseal() {
    let mut t = tpm();
    let (parent, _, _) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    // Seal "secret" with password "pw".
    let c = Cmd::new(0x153)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(b"pw", b"secret"))
        .bytes(&sized(&sealed_template()))
        .u16(0)
        .u32(0);
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let private = r.b2_raw();
    let public = r.b2_raw();
    // Load it.
    let c = Cmd::new(0x157)
        .handle(parent)
        .pw(b"")
        .bytes(&private)
        .bytes(&public);
    let r = run(&mut t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS);
    let item = r.handle.unwrap();
    // Wrong password on a DA-protected object: TPM_RC_AUTH_FAIL on session 1
    // (owner is DA-exempt and answers TPM_RC_BAD_AUTH instead).
    let r = run(&mut t, &Cmd::new(0x15E).handle(item).pw(b"nope"), false);
    assert_eq!(r.rc, Rc::AUTH_FAIL.session(1));
    let mut r = run(&mut t, &Cmd::new(0x15E).handle(item).pw(b"pw"), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), b"secret");
    // ReadPublic gives back the same public area.
    let mut r = run(&mut t, &Cmd::new(0x173).handle(item), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2_raw(), public);
    // A tampered private is refused with TPM_RC_INTEGRITY on parameter 1.
    let mut bad = private.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    let c = Cmd::new(0x157)
        .handle(parent)
        .pw(b"")
        .bytes(&bad)
        .bytes(&public);
    assert_eq!(run(&mut t, &c, true).rc, Rc::INTEGRITY.param(1));
}

#[test]
fn part3_28_context_save_load_flush() {
    let mut t = tpm();
    let (h, _, name) = create_primary(&mut t, 0x4000_0001, &ecc_signing_template(), b"");
    let mut r = run(&mut t, &Cmd::new(0x162).handle(h), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let ctx = r.rest();
    assert_eq!(run(&mut t, &Cmd::new(0x165).u32(h), false).rc, Rc::SUCCESS);
    // Flushing again: TPM_RC_HANDLE on parameter 1.
    assert_eq!(
        run(&mut t, &Cmd::new(0x165).u32(h), false).rc,
        Rc::HANDLE.param(1)
    );
    let r = run(&mut t, &Cmd::new(0x161).bytes(&ctx), true);
    assert_eq!(r.rc, Rc::SUCCESS);
    // Part 3, 28.3: the response is only the handle.
    assert!(r.params.is_empty());
    let mut rp = run(&mut t, &Cmd::new(0x173).handle(r.handle.unwrap()), false);
    let _ = rp.b2();
    assert_eq!(rp.b2(), name);
    // A corrupted context blob fails its integrity check.
    let mut bad = ctx.clone();
    let n = bad.len();
    bad[n - 1] ^= 0x80;
    assert_eq!(
        run(&mut t, &Cmd::new(0x161).bytes(&bad), true).rc,
        Rc::INTEGRITY.param(1)
    );
}

#[test]
fn part3_28_5_evict_control_round_trip_and_survives_reload() {
    let mut t = tpm();
    let (h, _, name) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    let c = Cmd::new(0x120)
        .handle(0x4000_0001)
        .handle(h)
        .pw(b"")
        .u32(0x8100_0001);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    // Again: already defined.
    assert_eq!(run(&mut t, &c, false).rc, Rc::NV_DEFINED);
    // Platform range refused for owner.
    let c = Cmd::new(0x120)
        .handle(0x4000_0001)
        .handle(h)
        .pw(b"")
        .u32(0x8180_0001);
    assert_eq!(run(&mut t, &c, false).rc, Rc::RANGE.param(1));
    // The state committed includes it: reload and read it.
    let state = t.platform().committed.clone().unwrap();
    let mut t2 = vtpm_core::Tpm::load(
        vtpm_core::testing::TestPlatform::new(3),
        Default::default(),
        &state,
    )
    .unwrap();
    t2.power_on();
    assert_eq!(
        t2.execute(0, &vtpm_core::testing::STARTUP_CLEAR)[6..10],
        [0, 0, 0, 0]
    );
    let mut r = run(&mut t2, &Cmd::new(0x173).handle(0x8100_0001), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = r.b2();
    assert_eq!(r.b2(), name);
    // Evict it.
    let c = Cmd::new(0x120)
        .handle(0x4000_0001)
        .handle(0x8100_0001)
        .pw(b"")
        .u32(0x8100_0001);
    assert_eq!(run(&mut t2, &c, false).rc, Rc::SUCCESS);
    assert_eq!(
        run(&mut t2, &Cmd::new(0x173).handle(0x8100_0001), false).rc,
        Rc::HANDLE.handle(1)
    );
}

#[test]
fn part3_12_bad_templates_get_spec_codes() {
    let mut t = tpm();
    // restricted with both sign and decrypt.
    let mut tmpl = ecc_storage_template();
    tmpl[4..8].copy_from_slice(&0x0007_0072u32.to_be_bytes());
    let c = Cmd::new(0x131)
        .handle(0x4000_0001)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&tmpl))
        .u16(0)
        .u32(0);
    assert_eq!(run(&mut t, &c, true).rc, Rc::ATTRIBUTES.param(2));
    // Storage key without a symmetric algorithm.
    let mut tmpl = ecc_storage_template();
    tmpl[10..16].copy_from_slice(&[0x00, 0x10, 0x00, 0x10, 0x00, 0x03]);
    let tmpl = {
        let mut v = tmpl[..10].to_vec();
        v.extend_from_slice(&[0x00, 0x10, 0x00, 0x10, 0x00, 0x03, 0x00, 0x10, 0, 0, 0, 0]);
        v
    };
    let c = Cmd::new(0x131)
        .handle(0x4000_0001)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&tmpl))
        .u16(0)
        .u32(0);
    assert_eq!(run(&mut t, &c, true).rc, Rc::SYMMETRIC.param(2));
    // Unknown curve.
    let mut tmpl = ecc_storage_template();
    tmpl[18..20].copy_from_slice(&[0x00, 0x20]);
    let c = Cmd::new(0x131)
        .handle(0x4000_0001)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&tmpl))
        .u16(0)
        .u32(0);
    assert_eq!(run(&mut t, &c, true).rc, Rc::CURVE.param(2));
    // A signing key cannot be a parent: TPM_RC_TYPE on handle 1.
    let (signer, _, _) = create_primary(&mut t, 0x4000_0001, &ecc_signing_template(), b"");
    let c = Cmd::new(0x153)
        .handle(signer)
        .pw(b"")
        .bytes(&sens_create(b"", b"x"))
        .bytes(&sized(&sealed_template()))
        .u16(0)
        .u32(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::TYPE.handle(1));
}

#[test]
fn part3_24_8_hierarchy_change_auth_then_wrong_password_fails() {
    let mut t = tpm();
    let c = Cmd::new(0x129).handle(0x4000_0001).pw(b"").b2(b"owner");
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let c = Cmd::new(0x131)
        .handle(0x4000_0001)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&ecc_storage_template()))
        .u16(0)
        .u32(0);
    assert_eq!(run(&mut t, &c, true).rc, Rc::BAD_AUTH.session(1));
    let c = Cmd::new(0x131)
        .handle(0x4000_0001)
        .pw(b"owner")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&ecc_storage_template()))
        .u16(0)
        .u32(0);
    assert_eq!(run(&mut t, &c, true).rc, Rc::SUCCESS);
}

#[test]
fn part3_24_6_clear_changes_storage_primaries() {
    let mut t = tpm();
    let (_, before, _) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    let (_, ek_before, _) = create_primary(&mut t, 0x4000_000B, &ecc_storage_template(), b"");
    let c = Cmd::new(0x126).handle(0x4000_000C).pw(b"");
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let (_, after, _) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    let (_, ek_after, _) = create_primary(&mut t, 0x4000_000B, &ecc_storage_template(), b"");
    assert_ne!(before, after, "SPS changed");
    assert_eq!(ek_before, ek_after, "EPS unchanged");
}

#[test]
fn part1_27_4_tpm_reset_invalidates_saved_object_contexts() {
    let mut t = tpm();
    let (h, _, _) = create_primary(&mut t, 0x4000_0001, &ecc_signing_template(), b"");
    let mut r = run(&mut t, &Cmd::new(0x162).handle(h), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let ctx = r.rest();
    // Loads back within the same Reset cycle.
    assert_eq!(
        run(&mut t, &Cmd::new(0x161).bytes(&ctx), true).rc,
        Rc::SUCCESS
    );
    // _TPM_Init and Startup(CLEAR) without Shutdown(STATE): a TPM Reset.
    t.reset();
    assert_eq!(run(&mut t, &Cmd::new(0x144).u16(0), false).rc, Rc::SUCCESS);
    assert_eq!(
        run(&mut t, &Cmd::new(0x161).bytes(&ctx), true).rc,
        Rc::INTEGRITY.param(1)
    );
}

// ---------------------------------------------------------------------
// Derived Objects (Part 3, 12.9; Part 1, 25)
// ---------------------------------------------------------------------

const OWNER: u32 = 0x4000_0001;
const FIXED_TPM: u32 = 1 << 1;
const FIXED_PARENT: u32 = 1 << 4;
const SDO: u32 = 1 << 5;
const USER_WITH_AUTH: u32 = 1 << 6;
const RESTRICTED: u32 = 1 << 16;
const DECRYPT: u32 = 1 << 17;
const SIGN: u32 = 1 << 18;

/// A KEYEDHASH Derivation Parent template: restricted decrypt, XOR scheme
/// with SHA-256 and KDF1_SP800_108 (Part 1, 22.1 Table 33).
fn derivation_parent_template(attrs: u32) -> Vec<u8> {
    let mut v = vec![0x00, 0x08, 0x00, 0x0B];
    v.extend_from_slice(&(attrs | RESTRICTED | DECRYPT).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&[0x00, 0x0A, 0x00, 0x0B, 0x00, 0x22]); // XOR, SHA-256, SP800-108
    v.extend_from_slice(&[0, 0]);
    v
}

/// `TPMS_DERIVE`.
fn derive(label: &[u8], context: &[u8]) -> Vec<u8> {
    let mut v = sized(label);
    v.extend_from_slice(&sized(context));
    v
}

/// A P-256 ECDSA-SHA256 template whose unique field is a `TPMS_DERIVE`.
fn derived_ecc_template(attrs: u32, unique: &[u8]) -> Vec<u8> {
    let mut v = vec![0x00, 0x23, 0x00, 0x0B];
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&[0x00, 0x10]); // symmetric NULL
    v.extend_from_slice(&[0x00, 0x18, 0x00, 0x0B]); // ECDSA, SHA-256
    v.extend_from_slice(&[0x00, 0x03, 0x00, 0x10]); // P-256, kdf NULL
    v.extend_from_slice(unique);
    v
}

/// An AES-128-CFB SYMCIPHER template whose unique is a `TPMS_DERIVE`.
fn derived_aes_template(attrs: u32, unique: &[u8]) -> Vec<u8> {
    let mut v = vec![0x00, 0x25, 0x00, 0x0B];
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&[0x00, 0x06, 0x00, 0x80, 0x00, 0x43]);
    v.extend_from_slice(unique);
    v
}

/// TPM2_CreateLoaded: the response (handle; outPrivate, outPublic, name).
fn create_loaded(
    t: &mut vtpm_core::Tpm<vtpm_core::testing::TestPlatform>,
    parent: u32,
    sens: &[u8],
    template: &[u8],
) -> Rsp {
    let c = Cmd::new(0x191)
        .handle(parent)
        .pw(b"")
        .bytes(sens)
        .bytes(&sized(template));
    run(t, &c, true)
}

/// KDFa(SHA-256, key, label, context, 8192) computed with the `hmac`
/// crate (Part 1, 25.4.1 eq. 49): the 1024-octet derivation stream.
fn kdfa_8192(key: &[u8], label: &[u8], context: &[u8]) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    let mut out = Vec::new();
    for i in 1u32..=32 {
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        m.update(&i.to_be_bytes());
        m.update(label);
        m.update(&[0]);
        m.update(context);
        m.update(&8192u32.to_be_bytes());
        out.extend_from_slice(&m.finalize().into_bytes());
    }
    out
}

/// A Derivation Parent made with a known key (caller data, so
/// sensitiveDataOrigin CLEAR): (handle, key).
fn known_derivation_parent(
    t: &mut vtpm_core::Tpm<vtpm_core::testing::TestPlatform>,
) -> (u32, Vec<u8>) {
    let key: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(7) ^ 0x5A).collect();
    let c = Cmd::new(0x131)
        .handle(OWNER)
        .pw(b"")
        .bytes(&sens_create(b"", &key))
        .bytes(&sized(&derivation_parent_template(
            FIXED_TPM | FIXED_PARENT | USER_WITH_AUTH,
        )))
        .u16(0)
        .u32(0);
    let r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS, "CreatePrimary(derivation parent)");
    (r.handle.unwrap(), key)
}

/// (x, y) of a P-256 outPublic (with its size field).
fn p256_point(public: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let t = &public[public.len() - 68..];
    assert_eq!(t[..2], [0, 32]);
    assert_eq!(t[34..36], [0, 32]);
    (t[2..34].to_vec(), t[36..].to_vec())
}

#[test]
fn part3_12_9_derived_keys_are_deterministic_per_label_and_context() {
    let mut t = tpm();
    let attrs = FIXED_TPM | FIXED_PARENT | USER_WITH_AUTH | SIGN;
    // A Derivation Parent with a TPM-generated key.
    let (parent, _, _) = create_primary(
        &mut t,
        OWNER,
        &derivation_parent_template(FIXED_TPM | FIXED_PARENT | SDO | USER_WITH_AUTH),
        b"",
    );
    let derive_ecc = |t: &mut _, label: &[u8], context: &[u8], auth: &[u8]| {
        let mut r = create_loaded(
            t,
            parent,
            &sens_create(auth, b""),
            &derived_ecc_template(attrs, &derive(label, context)),
        );
        assert_eq!(r.rc, Rc::SUCCESS, "CreateLoaded(derived ECC)");
        let private = r.b2();
        assert!(private.is_empty(), "a Derived Object has no outPrivate");
        let public = r.b2_raw();
        let name = r.b2();
        (r.handle.unwrap(), public, name)
    };
    let (h1, p1, n1) = derive_ecc(&mut t, b"label", b"context", b"");
    let (h2, p2, n2) = derive_ecc(&mut t, b"label", b"context", b"other auth");
    assert_ne!(h1, h2);
    assert_eq!(p1, p2, "same parent, label and context: same key");
    assert_eq!(n1, n2);
    // Name = nameAlg || SHA-256(outPublic); sensitiveDataOrigin stays CLEAR.
    use sha2::Digest;
    let mut expect = vec![0x00, 0x0B];
    expect.extend_from_slice(&sha2::Sha256::digest(&p1[2..]));
    assert_eq!(n1, expect);
    assert_eq!(
        u32::from_be_bytes(p1[6..10].try_into().unwrap()),
        attrs,
        "outPublic keeps the template's attributes"
    );
    let (_, p3, n3) = derive_ecc(&mut t, b"label", b"context2", b"");
    assert_ne!(
        p256_point(&p1),
        p256_point(&p3),
        "another context: another key"
    );
    assert_ne!(n1, n3);
    let (_, p4, _) = derive_ecc(&mut t, b"label2", b"context", b"");
    assert_ne!(
        p256_point(&p1),
        p256_point(&p4),
        "another label: another key"
    );
    // Label and context may come from inSensitive.data instead (Part 1,
    // 25.2); the template's take precedence (Part 2, 11.1.11).
    let mut r = create_loaded(
        &mut t,
        parent,
        &sens_create(b"", &derive(b"label", b"context")),
        &derived_ecc_template(attrs, &derive(b"", b"")),
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = r.b2();
    assert_eq!(r.b2_raw(), p1);
    let mut r = create_loaded(
        &mut t,
        parent,
        &sens_create(b"", &derive(b"ignored", b"context")),
        &derived_ecc_template(attrs, &derive(b"label", b"")),
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = r.b2();
    assert_eq!(r.b2_raw(), p1);
    // The derived key signs (with the second object's authValue), and the
    // signature verifies with p256 against the derived public key.
    let digest = sha2::Sha256::digest(b"signed by a derived key").to_vec();
    let c = Cmd::new(0x15D)
        .handle(h2)
        .pw(b"other auth")
        .b2(&digest)
        .u16(0x0010)
        .u16(0x8024)
        .u32(0x4000_0007)
        .u16(0);
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS, "Sign with the derived key");
    assert_eq!((r.u16(), r.u16()), (0x0018, 0x000B));
    let (sr, ss) = (r.b2(), r.b2());
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let (x, y) = p256_point(&p1);
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&[&[4u8][..], &x, &y].concat()).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&[sr, ss].concat()).unwrap();
    vk.verify_prehash(&digest, &sig)
        .expect("the derived key's signature verifies");
    // Another parent key derives other keys from the same label/context.
    let (other, _, _) = create_primary(
        &mut t,
        0x4000_000B,
        &derivation_parent_template(FIXED_TPM | FIXED_PARENT | SDO | USER_WITH_AUTH),
        b"",
    );
    let mut r = create_loaded(
        &mut t,
        other,
        &sens_create(b"", b""),
        &derived_ecc_template(attrs, &derive(b"label", b"context")),
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = r.b2();
    assert_ne!(p256_point(&r.b2_raw()), p256_point(&p1));
}

/// The derivation itself, checked with independent code: the parent's key
/// is known, so KDFa (hmac crate) gives the stream; an AES key takes its
/// first 16 octets and the seedValue the next 32 (Part 1, 25.4.1), and
/// unique = SHA-256(seedValue || key); a P-256 key takes 40 octets c and
/// d = (c mod (n - 1)) + 1 (FIPS 186-5 A.2.1), public point [d]G (p256).
#[test]
fn part1_25_4_derivation_matches_an_independent_kdfa() {
    let mut t = tpm();
    let (parent, key) = known_derivation_parent(&mut t);
    let stream = kdfa_8192(&key, b"label", b"context");
    // SYMCIPHER.
    let mut r = create_loaded(
        &mut t,
        parent,
        &sens_create(b"", b""),
        &derived_aes_template(
            FIXED_TPM | FIXED_PARENT | USER_WITH_AUTH | DECRYPT | SIGN,
            &derive(b"label", b"context"),
        ),
    );
    assert_eq!(r.rc, Rc::SUCCESS, "CreateLoaded(derived AES)");
    let aes_h = r.handle.unwrap();
    let _ = r.b2();
    let public = r.b2_raw();
    use sha2::Digest;
    let unique = sha2::Sha256::digest([&stream[16..48], &stream[..16]].concat()).to_vec();
    assert_eq!(public[public.len() - 32..], unique[..]);
    // The AES key is the first 16 octets: encrypt one block (CFB, zero IV)
    // with TPM2_EncryptDecrypt2 and compare with the aes crate.
    let c = Cmd::new(0x193)
        .handle(aes_h)
        .pw(b"")
        .b2(&[0u8; 16])
        .u8(0)
        .u16(0x0043)
        .b2(&[0u8; 16]);
    let mut r = run(&mut t, &c, false);
    assert_eq!(
        r.rc,
        Rc::SUCCESS,
        "EncryptDecrypt2 with the derived AES key"
    );
    use aes::cipher::{BlockCipherEncrypt, KeyInit};
    let cipher = aes::Aes128::new_from_slice(&stream[..16]).unwrap();
    let mut block = aes::Block::default();
    cipher.encrypt_block(&mut block);
    assert_eq!(
        r.b2(),
        block.to_vec(),
        "CFB of zeros with a zero IV is E_K(0)"
    );
    // ECC P-256.
    let mut r = create_loaded(
        &mut t,
        parent,
        &sens_create(b"", b""),
        &derived_ecc_template(
            FIXED_TPM | FIXED_PARENT | USER_WITH_AUTH | SIGN,
            &derive(b"label", b"context"),
        ),
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = r.b2();
    let point = p256_point(&r.b2_raw());
    use rsa::BoxedUint;
    let c = BoxedUint::from_be_slice(&stream[..40], 384).unwrap();
    let n = BoxedUint::from_be_slice(
        &[
            0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            0xFF, 0xFF, 0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2,
            0xFC, 0x63, 0x25, 0x51,
        ],
        384,
    )
    .unwrap();
    let n1 = n
        .wrapping_sub(BoxedUint::one_with_precision(384))
        .to_nz()
        .into_option()
        .unwrap();
    let d = c.rem(&n1).wrapping_add(BoxedUint::one_with_precision(384));
    let d_bytes = d.to_be_bytes();
    let sk = p256::SecretKey::from_slice(&d_bytes[d_bytes.len() - 32..]).unwrap();
    let derived =
        p256::PublicKey::from_sec1_bytes(&[&[4u8][..], &point.0, &point.1].concat()).unwrap();
    assert_eq!(
        derived,
        sk.public_key(),
        "Q = [d]G with d from FIPS 186-5 A.2.1"
    );
}

#[test]
fn part3_12_9_derivation_errors_get_spec_codes() {
    let mut t = tpm();
    let (parent, _) = known_derivation_parent(&mut t);
    let signing = FIXED_TPM | FIXED_PARENT | USER_WITH_AUTH | SIGN;
    let unique = derive(b"label", b"context");
    // sensitiveDataOrigin SET: TPM_RC_ATTRIBUTES on inPublic (Part 3,
    // 12.9.1; Part 1, 22.2.3).
    let r = create_loaded(
        &mut t,
        parent,
        &sens_create(b"", b""),
        &derived_ecc_template(signing | SDO, &unique),
    );
    assert_eq!(r.rc, Rc::ATTRIBUTES.param(2));
    // An RSA key is not derived: TPM_RC_TYPE (Part 3, 12.9.1; Part 1, 25.5).
    let mut rsa = vec![0x00, 0x01, 0x00, 0x0B];
    rsa.extend_from_slice(&signing.to_be_bytes());
    rsa.extend_from_slice(&[0, 0, 0x00, 0x10, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0]);
    rsa.extend_from_slice(&unique);
    let r = create_loaded(&mut t, parent, &sens_create(b"", b""), &rsa);
    assert_eq!(r.rc, Rc::TYPE.param(2));
    // Under a fixedTPM parent, fixedTPM must equal fixedParent (Part 2,
    // 8.3.3.2, creation).
    let r = create_loaded(
        &mut t,
        parent,
        &sens_create(b"", b""),
        &derived_ecc_template(FIXED_PARENT | USER_WITH_AUTH | SIGN, &unique),
    );
    assert_eq!(r.rc, Rc::ATTRIBUTES.param(2));
    // A restricted signing key needs a scheme, as for TPM2_Create.
    let mut no_scheme = derived_ecc_template(signing | RESTRICTED, &unique);
    no_scheme.splice(12..16, [0x00, 0x10]);
    let r = create_loaded(&mut t, parent, &sens_create(b"", b""), &no_scheme);
    assert_eq!(r.rc, Rc::SCHEME.param(2));
    // TPM2B_LABEL holds at most 32 octets (Part 2, 11.1.10).
    let r = create_loaded(
        &mut t,
        parent,
        &sens_create(b"", b""),
        &derived_ecc_template(signing, &derive(&[1u8; 33], b"")),
    );
    assert_eq!(r.rc, Rc::SIZE.param(2));
    // The unique field of an ordinary template is not a TPMS_DERIVE: a
    // keyedHash template with one TPM2B_DIGEST is short of the context.
    let mut hmac_key = vec![0x00, 0x08, 0x00, 0x0B];
    hmac_key.extend_from_slice(&signing.to_be_bytes());
    hmac_key.extend_from_slice(&[0, 0, 0x00, 0x05, 0x00, 0x0B, 0, 0]);
    let r = create_loaded(&mut t, parent, &sens_create(b"", b""), &hmac_key);
    assert_eq!(r.rc.base(), Rc::INSUFFICIENT);
    // A derived HMAC key is fine with a TPMS_DERIVE.
    hmac_key.truncate(hmac_key.len() - 2);
    hmac_key.extend_from_slice(&unique);
    let r = create_loaded(&mut t, parent, &sens_create(b"", b""), &hmac_key);
    assert_eq!(r.rc, Rc::SUCCESS, "derived HMAC key");
    // inSensitive.data that is not a TPMS_DERIVE: TPM_RC_SIZE on inSensitive.
    let r = create_loaded(
        &mut t,
        parent,
        &sens_create(b"", b"\x00\x01"),
        &derived_ecc_template(signing, &derive(b"", b"")),
    );
    assert_eq!(r.rc.base(), Rc::INSUFFICIENT);
    assert_eq!(r.rc, Rc::INSUFFICIENT.param(1));
    // A Derivation Parent is not a Storage Parent: TPM2_Create and
    // TPM2_Load under it are TPM_RC_TYPE on the parent handle.
    let c = Cmd::new(0x153)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&ecc_signing_template()))
        .u16(0)
        .u32(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::TYPE.handle(1));
    // A keyedHash key that is not a parent (an HMAC key) derives nothing:
    // TPM_RC_TYPE on the parent handle.
    let mut hmac_parent = vec![0x00, 0x08, 0x00, 0x0B];
    hmac_parent
        .extend_from_slice(&(FIXED_TPM | FIXED_PARENT | SDO | USER_WITH_AUTH | SIGN).to_be_bytes());
    hmac_parent.extend_from_slice(&[0, 0, 0x00, 0x05, 0x00, 0x0B, 0, 0]);
    let (hk, _, _) = create_primary(&mut t, OWNER, &hmac_parent, b"");
    let r = create_loaded(
        &mut t,
        hk,
        &sens_create(b"", b""),
        &derived_ecc_template(signing, &unique),
    );
    assert_eq!(r.rc, Rc::TYPE.handle(1));
}

/// TPM2_Create under `parent`: the response code.
fn create_rc(
    t: &mut vtpm_core::Tpm<vtpm_core::testing::TestPlatform>,
    parent: u32,
    template: &[u8],
) -> Rc {
    let c = Cmd::new(0x153)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(template))
        .u16(0)
        .u32(0);
    run(t, &c, false).rc
}

/// Part 3, 12.1.1: a Storage Key with fixedParent SET has its parent's
/// nameAlg (TPM_RC_HASH) and symmetric definition (TPM_RC_SYMMETRIC); a
/// duplicable one need not. Part 2, 8.3.3.2: under a fixedTPM parent (or
/// a Primary Seed) fixedTPM equals fixedParent (TPM_RC_ATTRIBUTES).
#[test]
fn part3_12_1_storage_children_follow_their_parent() {
    let mut t = tpm();
    let (parent, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    // Same nameAlg and AES-128-CFB: created.
    assert_eq!(
        create_rc(&mut t, parent, &ecc_storage_template()),
        Rc::SUCCESS
    );
    // AES-256-CFB: TPM_RC_SYMMETRIC.
    let mut aes256 = ecc_storage_template();
    aes256[12..14].copy_from_slice(&256u16.to_be_bytes());
    assert_eq!(create_rc(&mut t, parent, &aes256), Rc::SYMMETRIC.param(2));
    // SHA-384 nameAlg: TPM_RC_HASH.
    let mut sha384 = ecc_storage_template();
    sha384[2..4].copy_from_slice(&[0x00, 0x0C]);
    assert_eq!(create_rc(&mut t, parent, &sha384), Rc::HASH.param(2));
    // Duplicable (fixedTPM and fixedParent CLEAR): its own choice.
    let mut dup = aes256.clone();
    dup[4..8].copy_from_slice(&(0x0003_0072u32 & !(FIXED_TPM | FIXED_PARENT)).to_be_bytes());
    assert_eq!(create_rc(&mut t, parent, &dup), Rc::SUCCESS);
    // fixedParent without fixedTPM under a fixedTPM parent, and as a
    // primary: TPM_RC_ATTRIBUTES.
    let mut fp_only = ecc_signing_template();
    fp_only[4..8].copy_from_slice(&(0x0004_0072u32 & !FIXED_TPM).to_be_bytes());
    assert_eq!(create_rc(&mut t, parent, &fp_only), Rc::ATTRIBUTES.param(2));
    let c = Cmd::new(0x131)
        .handle(OWNER)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&fp_only))
        .u16(0)
        .u32(0);
    assert_eq!(run(&mut t, &c, true).rc, Rc::ATTRIBUTES.param(2));
}

/// TPM2_Create/CreatePrimary data rules (Part 3, 12.1.1): caller data for
/// an asymmetric key is TPM_RC_VALUE (on inSensitive); sensitiveDataOrigin
/// is SET exactly when there is no data, and a data object needs data
/// (TPM_RC_ATTRIBUTES); a caller's HMAC key is no longer than the hash's
/// block size (Part 1, 24.7.5.1: TPM_RC_SIZE on inSensitive).
#[test]
fn part3_12_1_creation_data_rules() {
    let mut t = tpm();
    let (parent, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    let create =
        |t: &mut vtpm_core::Tpm<vtpm_core::testing::TestPlatform>, data: &[u8], template: &[u8]| {
            let c = Cmd::new(0x153)
                .handle(parent)
                .pw(b"")
                .bytes(&sens_create(b"", data))
                .bytes(&sized(template))
                .u16(0)
                .u32(0);
            run(t, &c, false).rc
        };
    assert_eq!(
        create(&mut t, b"key", &ecc_signing_template()),
        Rc::VALUE.param(1)
    );
    // A sealed data object with no data.
    assert_eq!(
        create(&mut t, b"", &sealed_template()),
        Rc::ATTRIBUTES.param(2)
    );
    assert_eq!(create(&mut t, b"secret", &sealed_template()), Rc::SUCCESS);
    // HMAC-SHA256 signing keys.
    let hmac = |attrs: u32| {
        let mut v = vec![0x00, 0x08, 0x00, 0x0B];
        v.extend_from_slice(&attrs.to_be_bytes());
        v.extend_from_slice(&[0, 0, 0x00, 0x05, 0x00, 0x0B, 0, 0]);
        v
    };
    let caller = FIXED_TPM | FIXED_PARENT | USER_WITH_AUTH | SIGN;
    assert_eq!(create(&mut t, &[1; 64], &hmac(caller)), Rc::SUCCESS);
    assert_eq!(create(&mut t, &[1; 65], &hmac(caller)), Rc::SIZE.param(1));
    // No data and no sensitiveDataOrigin: TPM_RC_ATTRIBUTES.
    assert_eq!(create(&mut t, b"", &hmac(caller)), Rc::ATTRIBUTES.param(2));
    assert_eq!(create(&mut t, b"", &hmac(caller | SDO)), Rc::SUCCESS);
    assert_eq!(
        create(&mut t, b"k", &hmac(caller | SDO)),
        Rc::ATTRIBUTES.param(2)
    );
}

/// `TPM2B_SENSITIVE` with no seed.
fn sensitive(kind: u16, secret: &[u8]) -> Vec<u8> {
    let mut v = kind.to_be_bytes().to_vec();
    v.extend_from_slice(&sized(b""));
    v.extend_from_slice(&sized(b""));
    v.extend_from_slice(&sized(secret));
    sized(&v)
}

/// TPM2_LoadExternal's response code.
fn load_external(
    t: &mut vtpm_core::Tpm<vtpm_core::testing::TestPlatform>,
    private: &[u8],
    public: &[u8],
    hierarchy: u32,
) -> Rc {
    let mut c = Cmd::new(0x167);
    c = if private.is_empty() {
        c.u16(0)
    } else {
        c.bytes(private)
    };
    let r = run(t, &c.bytes(&sized(public)).u32(hierarchy), true);
    if let Some(h) = r.handle {
        assert_eq!(run(t, &Cmd::new(0x165).u32(h), false).rc, Rc::SUCCESS);
    }
    r.rc
}

/// Part 3, 12.3.1: LoadExternal checks the attributes against Part 2's
/// TPMA_OBJECT rules (the scheme fits the use, a restricted signing key has
/// a scheme, a parent a symmetric definition, a SYMCIPHER signs or
/// decrypts), "fixedTPM, fixedParent, and restricted shall be CLEAR" with a
/// private part, the authPolicy size, that the public key is sound (an RSA
/// modulus of keyBits, an ECC point of the curve's size on the curve, a
/// symmetric unique of the digest size) and that the private key has the
/// size the public area says (TPM_RC_KEY_SIZE on inPrivate).
#[test]
fn part3_12_3_load_external_checks_the_public_area() {
    use sha2::Digest;
    let mut t = tpm();
    const NULL: u32 = 0x4000_0007;
    let (_, signer, _) = create_primary(&mut t, OWNER, &ecc_signing_template(), b"");
    let signer = signer[2..].to_vec();
    // The primary's public area itself loads (public only, any hierarchy).
    assert_eq!(load_external(&mut t, b"", &signer, OWNER), Rc::SUCCESS);
    // With an ECDSA scheme but decrypt only: TPM_RC_SCHEME.
    let mut decrypt_ecdsa = signer.clone();
    decrypt_ecdsa[4..8].copy_from_slice(&(USER_WITH_AUTH | DECRYPT).to_be_bytes());
    assert_eq!(
        load_external(&mut t, b"", &decrypt_ecdsa, NULL),
        Rc::SCHEME.param(2)
    );
    // A restricted signing key without a scheme: TPM_RC_SCHEME.
    let mut no_scheme = signer.clone();
    no_scheme[4..8].copy_from_slice(&(USER_WITH_AUTH | SIGN | RESTRICTED).to_be_bytes());
    no_scheme.splice(12..16, [0x00, 0x10]);
    assert_eq!(
        load_external(&mut t, b"", &no_scheme, NULL),
        Rc::SCHEME.param(2)
    );
    // A restricted decryption key without a symmetric definition.
    let mut parent = no_scheme.clone();
    parent[4..8].copy_from_slice(&(USER_WITH_AUTH | DECRYPT | RESTRICTED).to_be_bytes());
    assert_eq!(
        load_external(&mut t, b"", &parent, NULL),
        Rc::SYMMETRIC.param(2)
    );
    // A point off the curve, and one of the wrong size.
    let mut off = signer.clone();
    let n = off.len();
    off[n - 1] ^= 1;
    assert_eq!(
        load_external(&mut t, b"", &off, NULL),
        Rc::ECC_POINT.param(2)
    );
    let mut long = signer[..signer.len() - 68].to_vec();
    long.extend_from_slice(&sized(&[1; 48]));
    long.extend_from_slice(&sized(&[1; 48]));
    assert_eq!(load_external(&mut t, b"", &long, NULL), Rc::KEY.param(2));
    // An RSA-2048 public area with a 255-octet modulus.
    let mut rsa = vec![0x00, 0x01, 0x00, 0x0B];
    rsa.extend_from_slice(&(USER_WITH_AUTH | SIGN).to_be_bytes());
    rsa.extend_from_slice(&[0, 0, 0x00, 0x10, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0]);
    rsa.extend_from_slice(&sized(&[0xC5; 255]));
    assert_eq!(load_external(&mut t, b"", &rsa, NULL), Rc::KEY.param(2));
    // An authPolicy of 20 octets with a SHA-256 nameAlg.
    let mut policy = signer[..8].to_vec();
    policy.extend_from_slice(&sized(&[7; 20]));
    policy.extend_from_slice(&signer[10..]);
    assert_eq!(load_external(&mut t, b"", &policy, NULL), Rc::SIZE.param(2));
    // KEYEDHASH keys with their private part.
    let keyed = |attrs: u32, scheme: &[u8], unique: &[u8]| {
        let mut v = vec![0x00, 0x08, 0x00, 0x0B];
        v.extend_from_slice(&attrs.to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(scheme);
        v.extend_from_slice(&sized(unique));
        v
    };
    let hmac_sha256 = [0x00, 0x05, 0x00, 0x0B];
    let key = [0x33u8; 32];
    let unique = sha2::Sha256::digest(key).to_vec();
    let private = sensitive(0x0008, &key);
    assert_eq!(
        load_external(
            &mut t,
            &private,
            &keyed(USER_WITH_AUTH | SIGN, &hmac_sha256, &unique),
            NULL
        ),
        Rc::SUCCESS
    );
    // sign and decrypt both SET with an HMAC scheme: TPM_RC_SCHEME.
    assert_eq!(
        load_external(
            &mut t,
            &private,
            &keyed(USER_WITH_AUTH | SIGN | DECRYPT, &hmac_sha256, &unique),
            NULL
        ),
        Rc::SCHEME.param(2)
    );
    // restricted with a private part: TPM_RC_ATTRIBUTES.
    assert_eq!(
        load_external(
            &mut t,
            &private,
            &keyed(USER_WITH_AUTH | SIGN | RESTRICTED, &hmac_sha256, &unique),
            NULL
        ),
        Rc::ATTRIBUTES.param(2)
    );
    // A unique of 33 octets: TPM_RC_KEY.
    assert_eq!(
        load_external(
            &mut t,
            b"",
            &keyed(USER_WITH_AUTH | SIGN, &hmac_sha256, &[1; 33]),
            NULL
        ),
        Rc::KEY.param(2)
    );
    // A 65-octet HMAC-SHA256 key: TPM_RC_KEY_SIZE on inPrivate.
    let big = [0x44u8; 65];
    assert_eq!(
        load_external(
            &mut t,
            &sensitive(0x0008, &big),
            &keyed(
                USER_WITH_AUTH | SIGN,
                &hmac_sha256,
                &sha2::Sha256::digest(big)
            ),
            NULL
        ),
        Rc::KEY_SIZE.param(1)
    );
    // AES-128: a 15-octet key is TPM_RC_KEY_SIZE; neither sign nor decrypt
    // is TPM_RC_ATTRIBUTES.
    let aes = |attrs: u32, key: &[u8]| {
        let mut v = vec![0x00, 0x25, 0x00, 0x0B];
        v.extend_from_slice(&attrs.to_be_bytes());
        v.extend_from_slice(&[0, 0, 0x00, 0x06, 0x00, 0x80, 0x00, 0x43]);
        v.extend_from_slice(&sized(&sha2::Sha256::digest(key)));
        v
    };
    let k16 = [5u8; 16];
    assert_eq!(
        load_external(
            &mut t,
            &sensitive(0x0025, &k16),
            &aes(USER_WITH_AUTH | SIGN | DECRYPT, &k16),
            NULL
        ),
        Rc::SUCCESS
    );
    let k15 = [5u8; 15];
    assert_eq!(
        load_external(
            &mut t,
            &sensitive(0x0025, &k15),
            &aes(USER_WITH_AUTH | SIGN | DECRYPT, &k15),
            NULL
        ),
        Rc::KEY_SIZE.param(1)
    );
    assert_eq!(
        load_external(
            &mut t,
            &sensitive(0x0025, &k16),
            &aes(USER_WITH_AUTH, &k16),
            NULL
        ),
        Rc::ATTRIBUTES.param(2)
    );
}

/// Derived ML-DSA-44 and ML-KEM-768 keys (Part 1, 25.5: the keys are made
/// as TPM2_Create makes them, from the derivation stream): the same label
/// and context give the same public key, another context another key.
#[test]
fn part3_12_9_derived_ml_keys_are_deterministic() {
    let mut t = tpm();
    let (parent, _) = known_derivation_parent(&mut t);
    let ml = |alg: u16, attrs: u32, parms: &[u8], unique: &[u8]| {
        let mut v = alg.to_be_bytes().to_vec();
        v.extend_from_slice(&[0x00, 0x0B]);
        v.extend_from_slice(&attrs.to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(parms);
        v.extend_from_slice(unique);
        v
    };
    let attrs = FIXED_TPM | FIXED_PARENT | USER_WITH_AUTH;
    for (what, alg, use_bit, parms, pk_len) in [
        (
            "ML-DSA-44",
            0x00A1u16,
            SIGN,
            vec![0x00, 0x01, 0x00],
            1312usize,
        ),
        (
            "ML-KEM-768",
            0x00A0,
            DECRYPT,
            vec![0x00, 0x10, 0x00, 0x02],
            1184,
        ),
    ] {
        let mut derive_public = |context: &[u8]| {
            let template = ml(alg, attrs | use_bit, &parms, &derive(b"label", context));
            let mut r = create_loaded(&mut t, parent, &sens_create(b"", b""), &template);
            assert_eq!(r.rc, Rc::SUCCESS, "CreateLoaded(derived {what})");
            assert!(r.b2().is_empty());
            let public = r.b2_raw();
            assert_eq!(
                u16::from_be_bytes(
                    public[public.len() - pk_len - 2..public.len() - pk_len]
                        .try_into()
                        .unwrap()
                ),
                pk_len as u16
            );
            let h = r.handle.unwrap();
            assert_eq!(run(&mut t, &Cmd::new(0x165).u32(h), false).rc, Rc::SUCCESS);
            public
        };
        let a = derive_public(b"context");
        let b = derive_public(b"context");
        let c = derive_public(b"context 2");
        assert_eq!(a, b, "{what}: same label and context, same key");
        assert_ne!(a, c, "{what}: another context, another key");
    }
}
