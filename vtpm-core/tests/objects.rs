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
