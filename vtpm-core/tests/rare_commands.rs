//! The rarely used commands of Part 3 (v185): ephemeral EC keys and the
//! commit mechanism (Commit, EC_Ephemeral, ECDAA signing, ZGen_2Phase),
//! ECC encryption, authenticated countdown timers, PCR policy/auth
//! groups, physical presence, algorithm sets, settable capabilities, the
//! vendor test command, PolicyCapability, PolicyParameters,
//! PolicyTransportSPDM, the v185 NV forms, and the commands this TPM
//! does not implement.
//!
//! Every cryptographic result is checked against an independent
//! computation with the RustCrypto `p256`/`p384`/`sha2` crates.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;
use p256::elliptic_curve::ff::PrimeField;
use p256::elliptic_curve::group::Group as _;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::{FieldBytes, ProjectivePoint, Scalar};
use sha2::{Digest, Sha256, Sha384};
use vtpm_core::testing::TestPlatform;
use vtpm_core::{Rc, Tpm};

const OWNER: u32 = 0x4000_0001;
const NULL_H: u32 = 0x4000_0007;
const PLATFORM: u32 = 0x4000_000C;
const ACT_0: u32 = 0x4000_0110;

const USER_WITH_AUTH: u32 = 0x40;
const DECRYPT: u32 = 0x2_0000;
const SIGN: u32 = 0x4_0000;

const SHA256: u16 = 0x000B;
const SHA384: u16 = 0x000C;
const ALG_NULL: u16 = 0x0010;
const ECDH: u16 = 0x0019;
const ECDAA: u16 = 0x001A;
const ECDSA: u16 = 0x0018;
const ECMQV: u16 = 0x001D;
const KDF2: u16 = 0x0021;
const MGF1: u16 = 0x0007;

const CC_COMMIT: u32 = 0x18B;
const CC_ZGEN_2PHASE: u32 = 0x18D;
const CC_EC_EPHEMERAL: u32 = 0x18E;
const CC_SIGN: u32 = 0x15D;
const CC_ECC_ENCRYPT: u32 = 0x199;
const CC_ECC_DECRYPT: u32 = 0x19A;
const CC_ACT_SETTIMEOUT: u32 = 0x198;
const CC_GETCAPABILITY: u32 = 0x17A;
const CC_POLICYCAPABILITY: u32 = 0x19B;
const CC_POLICYPARAMETERS: u32 = 0x19C;
const CC_POLICYGETDIGEST: u32 = 0x189;
const CC_POLICYCPHASH: u32 = 0x16E;
const CC_NV_DEFINESPACE2: u32 = 0x19D;
const CC_NV_READPUBLIC2: u32 = 0x19E;
const CC_NV_READPUBLIC: u32 = 0x169;
const CC_NV_WRITE: u32 = 0x137;
const CC_NV_READ: u32 = 0x14E;
const CC_POLICYTRANSPORTSPDM: u32 = 0x1A1;
const CC_POLICYRESTART: u32 = 0x180;

const CAP_ALGS: u32 = 0;
const CAP_HANDLES: u32 = 1;
const CAP_COMMANDS: u32 = 2;
const CAP_PP_COMMANDS: u32 = 3;
const CAP_PCRS: u32 = 5;
const CAP_TPM_PROPERTIES: u32 = 6;
const CAP_PCR_PROPERTIES: u32 = 7;
const CAP_ACT: u32 = 0xA;
const PT_REVISION: u32 = 0x102;
const PT_SPLIT_MAX: u32 = 0x128;
const PT_ALGORITHM_SET: u32 = 0x20C;
const PT_PCR_POLICY: u32 = 0x14;
const PT_PCR_AUTH: u32 = 0x13;

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    parts.iter().for_each(|p| h.update(p));
    h.finalize().to_vec()
}

fn sha384(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha384::new();
    parts.iter().for_each(|p| h.update(p));
    h.finalize().to_vec()
}

// ------------------------------------------------------------ P-256 helpers

fn scalar(b: &[u8]) -> Scalar {
    Scalar::from_repr(FieldBytes::try_from(b).unwrap()).unwrap()
}

/// A point from SEC1 octets (panics unless it is on P-256).
fn sec1_point(bytes: &[u8]) -> Option<ProjectivePoint> {
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).ok()?;
    Some(ProjectivePoint::from(*vk.as_affine()))
}

fn point(x: &[u8], y: &[u8]) -> ProjectivePoint {
    sec1_point(&[&[4u8][..], x, y].concat()).expect("a point on P-256")
}

fn coords(p: ProjectivePoint) -> (Vec<u8>, Vec<u8>) {
    let a = p.to_affine();
    (a.x().to_vec(), a.y().to_vec())
}

/// `TPM2B_ECC_POINT`.
fn ecc_point_2b(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut inner = sized(x);
    inner.extend_from_slice(&sized(y));
    sized(&inner)
}

/// Read a `TPM2B_ECC_POINT` from a response.
fn read_point(r: &mut Rsp) -> (Vec<u8>, Vec<u8>) {
    let _size = r.u16();
    (r.b2(), r.b2())
}

/// The private scalar `d` of test key `i` and its public point.
fn test_key(i: u8) -> (Vec<u8>, (Vec<u8>, Vec<u8>)) {
    let d = sha256(&[b"rare-commands test key", &[i]]);
    let q = coords(ProjectivePoint::generator() * scalar(&d));
    (d, q)
}

/// LoadExternal a P-256 key with private part `d` (NULL hierarchy).
fn load_ecc(t: &mut Tpm<TestPlatform>, i: u8, attrs: u32, scheme: &[u8]) -> (u32, Vec<u8>) {
    let (d, (x, y)) = test_key(i);
    let mut public = vec![0x00, 0x23, 0x00, 0x0B];
    public.extend_from_slice(&attrs.to_be_bytes());
    public.extend_from_slice(&[0, 0]);
    public.extend_from_slice(&ALG_NULL.to_be_bytes());
    public.extend_from_slice(scheme);
    public.extend_from_slice(&0x0003u16.to_be_bytes());
    public.extend_from_slice(&ALG_NULL.to_be_bytes());
    public.extend_from_slice(&sized(&x));
    public.extend_from_slice(&sized(&y));
    let mut sens = vec![0x00, 0x23, 0, 0, 0, 0];
    sens.extend_from_slice(&sized(&d));
    let c = Cmd::new(0x167)
        .bytes(&sized(&sens))
        .bytes(&sized(&public))
        .u32(NULL_H);
    let r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS, "LoadExternal");
    (r.handle.unwrap(), d)
}

fn ecdaa_scheme(count: u16) -> Vec<u8> {
    [
        ECDAA.to_be_bytes(),
        SHA256.to_be_bytes(),
        count.to_be_bytes(),
    ]
    .concat()
}

fn null_scheme() -> Vec<u8> {
    ALG_NULL.to_be_bytes().to_vec()
}

fn ec_ephemeral(t: &mut Tpm<TestPlatform>, curve: u16) -> Rsp {
    run(t, &Cmd::new(CC_EC_EPHEMERAL).u16(curve), false)
}

/// A null `TPMT_TK_HASHCHECK`.
fn null_ticket() -> Vec<u8> {
    let mut v = 0x8024u16.to_be_bytes().to_vec();
    v.extend_from_slice(&NULL_H.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v
}

fn sign(t: &mut Tpm<TestPlatform>, key: u32, digest: &[u8], scheme: &[u8]) -> Rsp {
    let c = Cmd::new(CC_SIGN)
        .handle(key)
        .pw(b"")
        .b2(digest)
        .bytes(scheme)
        .bytes(&null_ticket());
    run(t, &c, false)
}

/// A point `(H(s2) mod p, y2)` on P-256 for some `s2`: returns `(s2, x2, y2)`.
fn hashed_base_point() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    for i in 0u32.. {
        let s2 = [b"s2-".as_slice(), &i.to_be_bytes()].concat();
        let x2 = sha256(&[&s2]);
        // An x at or above p does not decode and is skipped (then H(s2)
        // mod p would differ from H(s2)).
        if let Some(p) = sec1_point(&[&[0x02u8][..], &x2].concat()) {
            let (x, y) = coords(p);
            assert_eq!(x, x2);
            return (s2, x, y);
        }
    }
    unreachable!()
}

// ------------------------------------------------------------ EC_Ephemeral

#[test]
fn part3_19_3_ec_ephemeral_point_on_curve_and_counter_increments() {
    let mut t = tpm();
    let mut r = ec_ephemeral(&mut t, 0x0003);
    assert_eq!(r.rc, Rc::SUCCESS);
    let (x0, y0) = read_point(&mut r);
    assert_eq!(r.u16(), 0, "first commit after TPM Reset");
    assert_eq!((x0.len(), y0.len()), (32, 32));
    let _ = point(&x0, &y0); // panics unless on P-256
    let mut r = ec_ephemeral(&mut t, 0x0003);
    let (x1, y1) = read_point(&mut r);
    assert_eq!(r.u16(), 1);
    assert_ne!(x0, x1, "each commit has its own r");
    let _ = point(&x1, &y1);
    // P-384: the point is on P-384; the counter is shared.
    let mut r = ec_ephemeral(&mut t, 0x0004);
    assert_eq!(r.rc, Rc::SUCCESS);
    let (x, y) = read_point(&mut r);
    assert_eq!(r.u16(), 2);
    assert_eq!((x.len(), y.len()), (48, 48));
    assert!(p384::ecdsa::VerifyingKey::from_sec1_bytes(&[&[4u8][..], &x, &y].concat()).is_ok());
    // Curves this TPM does not offer: TPM_RC_CURVE on curveID.
    assert_eq!(ec_ephemeral(&mut t, 0x0005).rc, Rc::CURVE.param(1));
    assert_eq!(ec_ephemeral(&mut t, 0x0010).rc, Rc::CURVE.param(1));
    // TPM Reset starts a new commit epoch: the counter restarts at 0.
    t.reset();
    assert_eq!(run(&mut t, &Cmd::new(0x144).u16(0), false).rc, Rc::SUCCESS);
    let mut r = ec_ephemeral(&mut t, 0x0003);
    let _ = read_point(&mut r);
    assert_eq!(r.u16(), 0);
}

// ------------------------------------------------------------ Commit + ECDAA

#[test]
fn part3_19_2_commit_k_l_e_and_ecdaa_signature_verify_independently() {
    let mut t = tpm();
    let (key, d) = load_ecc(&mut t, 1, USER_WITH_AUTH | SIGN, &ecdaa_scheme(0));
    let (_, (qx, qy)) = test_key(1);
    let q = point(&qx, &qy);
    let (s2, x2, y2) = hashed_base_point();
    let p2 = point(&x2, &y2);

    // P1 = P2: E = [r]P1 must equal L = [r]P2; K = [d]P2.
    let c = Cmd::new(CC_COMMIT)
        .handle(key)
        .pw(b"")
        .bytes(&ecc_point_2b(&x2, &y2))
        .b2(&s2)
        .b2(&y2);
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let k = read_point(&mut r);
    let l = read_point(&mut r);
    let e = read_point(&mut r);
    assert_eq!(r.u16(), 0);
    assert_eq!(k, coords(p2 * scalar(&d)), "K = [ds](x2, y2)");
    assert_eq!(e, l, "E = [r]P1 = [r]P2 = L");
    assert_ne!(e, k);

    // No P1, no s2: K and L are Empty Points and E = [r]G.
    let c = Cmd::new(CC_COMMIT)
        .handle(key)
        .pw(b"")
        .bytes(&ecc_point_2b(&[], &[]))
        .b2(&[])
        .b2(&[]);
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(read_point(&mut r), (vec![], vec![]));
    assert_eq!(read_point(&mut r), (vec![], vec![]));
    let (ex, ey) = read_point(&mut r);
    let counter = r.u16();
    assert_eq!(counter, 1);
    let e = point(&ex, &ey);

    // TPM2_Sign with ECDAA and that counter: (k, s) with
    // [s]G = E + [H(k || P) mod n]Q (Part 1, 44.3.3.3).
    let digest = sha256(&[b"ecdaa message"]);
    let mut r = sign(&mut t, key, &digest, &ecdaa_scheme(counter));
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!((r.u16(), r.u16()), (ECDAA, SHA256));
    let (sk, ss) = (r.b2(), r.b2());
    assert_eq!((sk.len(), ss.len()), (32, 32));
    let tee = <Scalar as Reduce<FieldBytes>>::reduce(
        &FieldBytes::try_from(&sha256(&[&sk, &digest])[..]).unwrap(),
    );
    assert_eq!(
        ProjectivePoint::generator() * scalar(&ss),
        e + q * tee,
        "ECDAA signature equation"
    );
    // The commit is used up: TPM_RC_VALUE on inScheme.
    assert_eq!(
        sign(&mut t, key, &digest, &ecdaa_scheme(counter)).rc,
        Rc::VALUE.param(2)
    );
    // The first commit is still pending and can be used once.
    assert_eq!(sign(&mut t, key, &digest, &ecdaa_scheme(0)).rc, Rc::SUCCESS);
    // A counter that was never issued is out of the window.
    assert_eq!(
        sign(&mut t, key, &digest, &ecdaa_scheme(9)).rc,
        Rc::RANGE.param(2)
    );
    // The key's own scheme (count 0 in the template) applies with a NULL
    // inScheme: commit 0 is used up.
    assert_eq!(
        sign(&mut t, key, &digest, &null_scheme()).rc,
        Rc::VALUE.param(2)
    );
    // The TPM does not verify ECDAA signatures: the selector is refused.
    let mut sig = [ECDAA.to_be_bytes(), SHA256.to_be_bytes()].concat();
    sig.extend_from_slice(&sized(&sk));
    sig.extend_from_slice(&sized(&ss));
    let c = Cmd::new(0x177).handle(key).b2(&digest).bytes(&sig);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SCHEME.param(2));
}

#[test]
fn part3_19_2_commit_refusals() {
    let mut t = tpm();
    let (key, _) = load_ecc(&mut t, 2, USER_WITH_AUTH | SIGN, &ecdaa_scheme(0));
    let (s2, x2, y2) = hashed_base_point();
    let commit = |t: &mut Tpm<TestPlatform>, k: u32, p1: &[u8], s2: &[u8], y2: &[u8]| {
        let c = Cmd::new(CC_COMMIT)
            .handle(k)
            .pw(b"")
            .bytes(p1)
            .b2(s2)
            .b2(y2);
        run(t, &c, false).rc
    };
    let empty = ecc_point_2b(&[], &[]);
    // s2 without y2 (and the reverse): TPM_RC_SIZE on y2.
    assert_eq!(commit(&mut t, key, &empty, &s2, &[]), Rc::SIZE.param(3));
    assert_eq!(commit(&mut t, key, &empty, &[], &y2), Rc::SIZE.param(3));
    // (H(s2) mod p, y2) not on the curve: TPM_RC_ECC_POINT on s2.
    let mut bad_y = y2.clone();
    bad_y[31] ^= 1;
    assert_eq!(
        commit(&mut t, key, &empty, &s2, &bad_y),
        Rc::ECC_POINT.param(2)
    );
    // P1 not on the curve: TPM_RC_ECC_POINT on P1.
    assert_eq!(
        commit(&mut t, key, &ecc_point_2b(&x2, &bad_y), &[], &[]),
        Rc::ECC_POINT.param(1)
    );
    // A zero-size P1 does not unmarshal.
    assert_eq!(commit(&mut t, key, &[0, 0], &[], &[]), Rc::SIZE.param(1));
    // Not an anonymous scheme: TPM_RC_SCHEME on the handle.
    let ecdsa = [ECDSA.to_be_bytes(), SHA256.to_be_bytes()].concat();
    let (ecdsa_key, _) = load_ecc(&mut t, 3, USER_WITH_AUTH | SIGN, &ecdsa);
    assert_eq!(
        commit(&mut t, ecdsa_key, &empty, &[], &[]),
        Rc::SCHEME.handle(1)
    );
    // Not an ECC key: TPM_RC_KEY on the handle.
    let (rsa, _, _) = create_primary(&mut t, OWNER, &rsa_storage_template(), b"");
    assert_eq!(commit(&mut t, rsa, &empty, &[], &[]), Rc::KEY.handle(1));
    // Refusals commit nothing: the next commit is still number 0.
    let c = Cmd::new(CC_COMMIT)
        .handle(key)
        .pw(b"")
        .bytes(&empty)
        .b2(&[])
        .b2(&[]);
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = (read_point(&mut r), read_point(&mut r), read_point(&mut r));
    assert_eq!(r.u16(), 0);
    // An ECDAA key with an attestation command: the attestation form of
    // ECDAA is not implemented (TPM_RC_SCHEME).
    let c = Cmd::new(0x14C) // GetTime
        .handle(0x4000_000B)
        .pw(b"")
        .handle(key)
        .pw(b"")
        .b2(&[])
        .bytes(&null_scheme());
    assert_eq!(run(&mut t, &c, false).rc, Rc::SCHEME);
}

// ------------------------------------------------------------ ZGen_2Phase

#[test]
fn part3_14_7_zgen_2phase_ecdh_matches_independent_computation() {
    let mut t = tpm();
    let (key_a, _) = load_ecc(&mut t, 4, USER_WITH_AUTH | DECRYPT, &null_scheme());
    let (_, (qax, qay)) = test_key(4);
    let qa = point(&qax, &qay);
    let mut r = ec_ephemeral(&mut t, 0x0003);
    let (qex, qey) = read_point(&mut r);
    let counter = r.u16();
    let qe = point(&qex, &qey);
    let bs = scalar(&sha256(&[b"party B static"]));
    let be = scalar(&sha256(&[b"party B ephemeral"]));
    let (qsbx, qsby) = coords(ProjectivePoint::generator() * bs);
    let (qebx, qeby) = coords(ProjectivePoint::generator() * be);
    let zgen = |t: &mut Tpm<TestPlatform>, k: u32, qs: &[u8], qe: &[u8], scheme: u16, c: u16| {
        let cmd = Cmd::new(CC_ZGEN_2PHASE)
            .handle(k)
            .pw(b"")
            .bytes(qs)
            .bytes(qe)
            .u16(scheme)
            .u16(c);
        run(t, &cmd, false)
    };
    let qs_b = ecc_point_2b(&qsbx, &qsby);
    let qe_b = ecc_point_2b(&qebx, &qeby);
    let mut r = zgen(&mut t, key_a, &qs_b, &qe_b, ECDH, counter);
    assert_eq!(r.rc, Rc::SUCCESS);
    let z1 = read_point(&mut r);
    let z2 = read_point(&mut r);
    assert_eq!(z1, coords(qa * bs), "Zs = [ds,A]Qs,B = [ds,B]Qs,A");
    assert_eq!(z2, coords(qe * be), "Ze = [de,A]Qe,B = [de,B]Qe,A");
    // The ephemeral key is used once.
    assert_eq!(
        zgen(&mut t, key_a, &qs_b, &qe_b, ECDH, counter).rc,
        Rc::VALUE.param(4)
    );
    // A counter never issued: TPM_RC_RANGE on counter.
    assert_eq!(
        zgen(&mut t, key_a, &qs_b, &qe_b, ECDH, counter + 1).rc,
        Rc::RANGE.param(4)
    );
    let mut r = ec_ephemeral(&mut t, 0x0003);
    let _ = read_point(&mut r);
    let c2 = r.u16();
    // ECMQV and SM2 are not implemented; NULL is no key exchange scheme.
    for s in [ECMQV, 0x001B, ALG_NULL, ECDSA] {
        assert_eq!(
            zgen(&mut t, key_a, &qs_b, &qe_b, s, c2).rc,
            Rc::SCHEME.param(3)
        );
    }
    // Points off the curve.
    let mut bad = qsby.clone();
    bad[0] ^= 0x40;
    let off = ecc_point_2b(&qsbx, &bad);
    assert_eq!(
        zgen(&mut t, key_a, &off, &qe_b, ECDH, c2).rc,
        Rc::ECC_POINT.param(1)
    );
    assert_eq!(
        zgen(&mut t, key_a, &qs_b, &off, ECDH, c2).rc,
        Rc::ECC_POINT.param(2)
    );
    // A signing key: TPM_RC_ATTRIBUTES; a key with another scheme than
    // inScheme: TPM_RC_SCHEME.
    let (signer, _) = load_ecc(&mut t, 5, USER_WITH_AUTH | SIGN, &null_scheme());
    assert_eq!(
        zgen(&mut t, signer, &qs_b, &qe_b, ECDH, c2).rc,
        Rc::ATTRIBUTES.handle(1)
    );
    // Refusals did not use the commit: it still works.
    assert_eq!(zgen(&mut t, key_a, &qs_b, &qe_b, ECDH, c2).rc, Rc::SUCCESS);
    // A key with scheme ECDH(SHA-256) accepts inScheme ECDH.
    let ecdh = [ECDH.to_be_bytes(), SHA256.to_be_bytes()].concat();
    let (key_b, _) = load_ecc(&mut t, 6, USER_WITH_AUTH | DECRYPT, &ecdh);
    let mut r = ec_ephemeral(&mut t, 0x0003);
    let _ = read_point(&mut r);
    let c3 = r.u16();
    assert_eq!(zgen(&mut t, key_b, &qs_b, &qe_b, ECDH, c3).rc, Rc::SUCCESS);
}

// ------------------------------------------------------------ ECC_Encrypt / ECC_Decrypt

fn kdf2(hash: fn(&[&[u8]]) -> Vec<u8>, z: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 1u32;
    while out.len() < len {
        out.extend(hash(&[z, &i.to_be_bytes()]));
        i += 1;
    }
    out.truncate(len);
    out
}

fn kdf_scheme(alg: u16, hash: u16) -> Vec<u8> {
    [alg.to_be_bytes(), hash.to_be_bytes()].concat()
}

fn ecc_encrypt(t: &mut Tpm<TestPlatform>, key: u32, m: &[u8], scheme: &[u8]) -> Rsp {
    run(
        t,
        &Cmd::new(CC_ECC_ENCRYPT).handle(key).b2(m).bytes(scheme),
        false,
    )
}

fn ecc_decrypt(
    t: &mut Tpm<TestPlatform>,
    key: u32,
    c1: &[u8],
    c2: &[u8],
    c3: &[u8],
    scheme: &[u8],
) -> Rsp {
    let c = Cmd::new(CC_ECC_DECRYPT)
        .handle(key)
        .pw(b"")
        .bytes(c1)
        .b2(c2)
        .b2(c3)
        .bytes(scheme);
    run(t, &c, false)
}

#[test]
fn part3_14_8_ecc_encrypt_decrypt_round_trip_and_independent_check() {
    let mut t = tpm();
    let (key, d) = load_ecc(&mut t, 7, USER_WITH_AUTH | DECRYPT, &null_scheme());
    let m: Vec<u8> = (0..100u8).collect();
    for (hash, f) in [
        (SHA256, sha256 as fn(&[&[u8]]) -> Vec<u8>),
        (SHA384, sha384),
    ] {
        let scheme = kdf_scheme(KDF2, hash);
        let mut r = ecc_encrypt(&mut t, key, &m, &scheme);
        assert_eq!(r.rc, Rc::SUCCESS);
        let (c1x, c1y) = read_point(&mut r);
        let c2 = r.b2();
        let c3 = r.b2();
        // Independently: (x2, y2) = [d]C1, C2 = M xor KDF2(x2 || y2),
        // C3 = H(x2 || M || y2) (Part 1, 45.2.4).
        let (x2, y2) = coords(point(&c1x, &c1y) * scalar(&d));
        let mask = kdf2(f, &[&x2[..], &y2].concat(), m.len());
        let plain: Vec<u8> = c2.iter().zip(&mask).map(|(a, b)| a ^ b).collect();
        assert_eq!(plain, m);
        assert_eq!(c3, f(&[&x2, &m, &y2]));
        // And the TPM decrypts it.
        let c1 = ecc_point_2b(&c1x, &c1y);
        let mut r = ecc_decrypt(&mut t, key, &c1, &c2, &c3, &scheme);
        assert_eq!(r.rc, Rc::SUCCESS);
        assert_eq!(r.b2(), m);
        // A wrong integrity value: TPM_RC_VALUE on C3.
        let mut bad = c3.clone();
        bad[0] ^= 1;
        assert_eq!(
            ecc_decrypt(&mut t, key, &c1, &c2, &bad, &scheme).rc,
            Rc::VALUE.param(3)
        );
        // A C1 off the curve: TPM_RC_ECC_POINT on C1.
        let mut y = c1y.clone();
        y[3] ^= 1;
        assert_eq!(
            ecc_decrypt(&mut t, key, &ecc_point_2b(&c1x, &y), &c2, &c3, &scheme).rc,
            Rc::ECC_POINT.param(1)
        );
    }
    // An empty message round-trips too.
    let scheme = kdf_scheme(KDF2, SHA256);
    let mut r = ecc_encrypt(&mut t, key, &[], &scheme);
    assert_eq!(r.rc, Rc::SUCCESS);
    let c1 = r.b2_raw();
    let c2 = r.b2();
    let c3 = r.b2();
    assert!(c2.is_empty());
    let mut r = ecc_decrypt(&mut t, key, &c1, &c2, &c3, &scheme);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), Vec::<u8>::new());
}

#[test]
fn part3_14_8_ecc_encrypt_decrypt_refusals() {
    let mut t = tpm();
    let (key, _) = load_ecc(&mut t, 8, USER_WITH_AUTH | DECRYPT, &null_scheme());
    // The key's KDF is NULL: inScheme must name one; only KDF2 is defined
    // for ECC encryption.
    assert_eq!(
        ecc_encrypt(&mut t, key, b"m", &null_scheme()).rc,
        Rc::SCHEME.param(2)
    );
    assert_eq!(
        ecc_encrypt(&mut t, key, b"m", &kdf_scheme(MGF1, SHA256)).rc,
        Rc::SCHEME.param(2)
    );
    assert_eq!(
        ecc_encrypt(&mut t, key, b"m", &kdf_scheme(0x0020, SHA256)).rc,
        Rc::SCHEME.param(2)
    );
    // An unknown KDF does not unmarshal (TPM_RC_KDF), an unknown hash
    // neither (TPM_RC_HASH).
    assert_eq!(
        ecc_encrypt(&mut t, key, b"m", &kdf_scheme(0x0099, SHA256)).rc,
        Rc::KDF.param(2)
    );
    assert_eq!(
        ecc_encrypt(&mut t, key, b"m", &kdf_scheme(KDF2, 0x0012)).rc,
        Rc::HASH.param(2)
    );
    // Encryption does not look at the attributes: a signing key works.
    let (signer, _) = load_ecc(&mut t, 9, USER_WITH_AUTH | SIGN, &null_scheme());
    let mut r = ecc_encrypt(&mut t, signer, b"m", &kdf_scheme(KDF2, SHA256));
    assert_eq!(r.rc, Rc::SUCCESS);
    let c1 = r.b2_raw();
    let c2 = r.b2();
    let c3 = r.b2();
    // ... but decryption needs decrypt SET and restricted CLEAR.
    assert_eq!(
        ecc_decrypt(&mut t, signer, &c1, &c2, &c3, &kdf_scheme(KDF2, SHA256)).rc,
        Rc::ATTRIBUTES.handle(1)
    );
    let (storage, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    assert_eq!(
        ecc_decrypt(&mut t, storage, &c1, &c2, &c3, &kdf_scheme(KDF2, SHA256)).rc,
        Rc::ATTRIBUTES.handle(1)
    );
    assert_eq!(
        ecc_decrypt(&mut t, key, &c1, &c2, &c3, &null_scheme()).rc,
        Rc::SCHEME.param(4)
    );
    // Not an ECC key: TPM_RC_KEY.
    let (rsa, _, _) = create_primary(&mut t, OWNER, &rsa_storage_template(), b"");
    assert_eq!(
        ecc_encrypt(&mut t, rsa, b"m", &kdf_scheme(KDF2, SHA256)).rc,
        Rc::KEY.handle(1)
    );
    assert_eq!(
        ecc_decrypt(&mut t, rsa, &c1, &c2, &c3, &kdf_scheme(KDF2, SHA256)).rc,
        Rc::KEY.handle(1)
    );
}

// ------------------------------------------------------------ Capabilities

/// GetCapability; returns (moreData, the data after capability and count, count).
fn get_cap(t: &mut Tpm<TestPlatform>, cap: u32, prop: u32, count: u32) -> (bool, u32, Rsp) {
    let mut r = run(
        t,
        &Cmd::new(CC_GETCAPABILITY).u32(cap).u32(prop).u32(count),
        false,
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let more = r.take(1)[0] == 1;
    assert_eq!(r.u32(), cap);
    let n = r.u32();
    (more, n, r)
}

fn tpm_property(t: &mut Tpm<TestPlatform>, p: u32) -> Option<u32> {
    let (_, n, mut r) = get_cap(t, CAP_TPM_PROPERTIES, p, 1);
    if n == 1 && r.u32() == p {
        Some(r.u32())
    } else {
        None
    }
}

#[test]
fn part3_30_2_capabilities_report_the_new_commands_truthfully() {
    let mut t = tpm();
    // TPM_PT_SPLIT_MAX: 128 pending commits; one algorithm set.
    assert_eq!(tpm_property(&mut t, PT_SPLIT_MAX), Some(128));
    assert_eq!(tpm_property(&mut t, PT_ALGORITHM_SET), Some(0));
    // ECDAA (asymmetric, signing) and KDF2 (hash, method) are listed.
    for (alg, attrs) in [(ECDAA, 0x0000_0101u32), (KDF2, 0x0000_0404)] {
        let (_, n, mut r) = get_cap(&mut t, CAP_ALGS, u32::from(alg), 1);
        assert_eq!(n, 1);
        assert_eq!((r.u16(), r.u32()), (alg, attrs));
    }
    // Command list: implemented commands present, the others absent.
    let (_, n, mut r) = get_cap(&mut t, CAP_COMMANDS, 0, 1000);
    let codes: Vec<u32> = (0..n).map(|_| r.u32()).collect();
    let has = |cc: u32| {
        codes
            .iter()
            .any(|a| a & 0xFFFF == cc & 0xFFFF && (a >> 29 & 1) == (cc >> 29 & 1))
    };
    for cc in [
        0x12C,
        0x12D,
        0x13F,
        0x183,
        0x18B,
        0x18D,
        0x18E,
        0x198,
        0x199,
        0x19A,
        0x19B,
        0x19C,
        0x19D,
        0x19E,
        0x19F,
        0x197,
        0x1A0,
        0x1A1,
        0x2000_0000,
        0x155,
        0x15B,
    ] {
        assert!(has(cc), "{cc:#x} listed");
    }
    // Field upgrade, FirmwareRead and Attached Components: absent, as
    // Part 3 allows (docs/command-coverage.md).
    for cc in [0x12F, 0x141, 0x179, 0x194, 0x195, 0x196] {
        assert!(!has(cc), "{cc:#x} not listed");
        let rc = run(&mut t, &Cmd::new(cc), false).rc;
        assert_eq!(rc, Rc::COMMAND_CODE, "{cc:#x}");
    }
    // Vendor_TCG_Test carries the V bit and no handles.
    let vendor = codes.iter().find(|a| *a >> 29 & 1 == 1).copied();
    assert_eq!(vendor, Some(0x2000_0000));
    // Physical presence: only PP_Commands requires it.
    let (more, n, mut r) = get_cap(&mut t, CAP_PP_COMMANDS, 0, 100);
    assert!(!more);
    assert_eq!(n, 1);
    assert_eq!(r.u32(), 0x12D);
    // No PCR is in a policy or authorization group.
    for p in [PT_PCR_POLICY, PT_PCR_AUTH] {
        let (_, n, mut r) = get_cap(&mut t, CAP_PCR_PROPERTIES, p, 1);
        assert_eq!(n, 1);
        assert_eq!(r.u32(), p);
        assert_eq!(r.take(4), vec![3, 0, 0, 0]);
    }
    // The permanent handles include TPM_RH_ACT_0.
    let (_, n, mut r) = get_cap(&mut t, CAP_HANDLES, 0x4000_0000, 100);
    let hs: Vec<u32> = (0..n).map(|_| r.u32()).collect();
    assert!(hs.contains(&ACT_0));
    assert!(!hs.contains(&(ACT_0 + 1)));
    // No Attached Component: TPM_HT_AC is a defined handle type with no
    // handles.
    let (more, n, _) = get_cap(&mut t, CAP_HANDLES, 0x9000_0000, 100);
    assert!(!more);
    assert_eq!(n, 0);
}

// ------------------------------------------------------------ ACT

fn act_data(t: &mut Tpm<TestPlatform>, h: u32) -> (u32, u32) {
    let (more, n, mut r) = get_cap(t, CAP_ACT, h, 16);
    assert!(!more);
    assert_eq!(n, 1);
    assert_eq!(r.u32(), h);
    (r.u32(), r.u32())
}

fn set_timeout(t: &mut Tpm<TestPlatform>, h: u32, s: u32) -> Rc {
    run(
        t,
        &Cmd::new(CC_ACT_SETTIMEOUT).handle(h).pw(b"").u32(s),
        false,
    )
    .rc
}

fn advance(t: &mut Tpm<TestPlatform>, ms: u64) {
    t.platform_mut().now_ms += ms;
}

#[test]
fn part3_33_2_act_counts_down_and_signals() {
    let mut t = tpm();
    assert_eq!(act_data(&mut t, ACT_0), (0, 0));
    assert_eq!(set_timeout(&mut t, ACT_0, 5), Rc::SUCCESS);
    assert_eq!(act_data(&mut t, ACT_0), (5, 0));
    advance(&mut t, 3000);
    assert_eq!(act_data(&mut t, ACT_0), (2, 0));
    assert!(!t.act_signaled(ACT_0));
    advance(&mut t, 2500);
    assert_eq!(act_data(&mut t, ACT_0), (0, 1), "expired: signaled");
    assert!(t.act_signaled(ACT_0));
    assert!(!t.act_signaled(ACT_0 + 1), "not an implemented ACT");
    // FFFFFFFF clears signaled and stops; allowed only while signaled.
    assert_eq!(set_timeout(&mut t, ACT_0, u32::MAX), Rc::SUCCESS);
    assert_eq!(act_data(&mut t, ACT_0), (0, 0));
    assert!(!t.act_signaled(ACT_0));
    assert_eq!(set_timeout(&mut t, ACT_0, u32::MAX), Rc::VALUE.param(1));
    // Zero while counting: signaled at once. Zero while stopped: no change.
    assert_eq!(set_timeout(&mut t, ACT_0, 10), Rc::SUCCESS);
    assert_eq!(set_timeout(&mut t, ACT_0, 0), Rc::SUCCESS);
    assert_eq!(act_data(&mut t, ACT_0), (0, 1));
    assert_eq!(set_timeout(&mut t, ACT_0, 0), Rc::SUCCESS);
    assert_eq!(act_data(&mut t, ACT_0), (0, 1));
    // A new timeout clears signaled.
    assert_eq!(set_timeout(&mut t, ACT_0, 7), Rc::SUCCESS);
    assert_eq!(act_data(&mut t, ACT_0), (7, 0));
    // Other ACT handles are not implemented; other handles are no ACT.
    assert_eq!(set_timeout(&mut t, ACT_0 + 1, 1), Rc::VALUE.handle(1));
    assert_eq!(set_timeout(&mut t, PLATFORM, 1), Rc::VALUE.handle(1));
    // The authValue is platformAuth.
    let c = Cmd::new(0x129)
        .handle(PLATFORM)
        .pw(b"")
        .b2(b"platform secret");
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    assert_eq!(set_timeout(&mut t, ACT_0, 3), Rc::BAD_AUTH.session(1));
    let c = Cmd::new(CC_ACT_SETTIMEOUT)
        .handle(ACT_0)
        .pw(b"platform secret")
        .u32(3);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    // ... usable only while phEnable is SET.
    let c = Cmd::new(0x121)
        .handle(PLATFORM)
        .pw(b"platform secret")
        .u32(PLATFORM)
        .u8(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let c = Cmd::new(CC_ACT_SETTIMEOUT)
        .handle(ACT_0)
        .pw(b"platform secret")
        .u32(3);
    assert_eq!(run(&mut t, &c, false).rc, Rc::AUTH_UNAVAILABLE);
    // SetPrimaryPolicy does not take ACT handles: the authPolicy of an ACT
    // stays the Empty Policy.
    let c = Cmd::new(0x12E)
        .handle(ACT_0)
        .pw(b"platform secret")
        .b2(&[0; 32])
        .u16(SHA256);
    assert_eq!(run(&mut t, &c, false).rc, Rc::VALUE.handle(1));
    // The timer keeps counting meanwhile.
    assert_eq!(act_data(&mut t, ACT_0), (3, 0));
}

fn shutdown(t: &mut Tpm<TestPlatform>, state: bool) {
    let c = Cmd::new(0x145).u16(u16::from(state));
    assert_eq!(run(t, &c, false).rc, Rc::SUCCESS);
}

fn startup(t: &mut Tpm<TestPlatform>, state: bool) {
    t.reset();
    let c = Cmd::new(0x144).u16(u16::from(state));
    assert_eq!(run(t, &c, false).rc, Rc::SUCCESS);
}

#[test]
fn part1_40_act_life_cycle() {
    let mut t = tpm();
    // Set since Startup: TPM Resume restores the full timeout.
    assert_eq!(set_timeout(&mut t, ACT_0, 100), Rc::SUCCESS);
    shutdown(&mut t, true);
    startup(&mut t, true);
    assert_eq!(act_data(&mut t, ACT_0), (100, 0));
    // Not set since Startup: half of it.
    shutdown(&mut t, true);
    startup(&mut t, true);
    assert_eq!(act_data(&mut t, ACT_0), (50, 0));
    // signaled survives TPM Resume and is copied to preserveSignaled.
    assert_eq!(set_timeout(&mut t, ACT_0, 1), Rc::SUCCESS);
    advance(&mut t, 1500);
    shutdown(&mut t, true);
    startup(&mut t, true);
    assert_eq!(act_data(&mut t, ACT_0), (0, 0b11));
    // ACT_SetTimeout clears preserveSignaled.
    assert_eq!(set_timeout(&mut t, ACT_0, 20), Rc::SUCCESS);
    assert_eq!(act_data(&mut t, ACT_0), (20, 0));
    // ACT_SetTimeout after Shutdown(STATE): the state is no longer orderly.
    shutdown(&mut t, true);
    assert_eq!(set_timeout(&mut t, ACT_0, 20), Rc::SUCCESS);
    t.reset();
    assert_eq!(
        run(&mut t, &Cmd::new(0x144).u16(1), false).rc,
        Rc::VALUE.param(1)
    );
    assert_eq!(run(&mut t, &Cmd::new(0x144).u16(0), false).rc, Rc::SUCCESS);
    // TPM Reset: everything stops, no signal.
    assert_eq!(act_data(&mut t, ACT_0), (0, 0));
    // TPM Restart (Shutdown(STATE), Startup(CLEAR)) stops them too.
    assert_eq!(set_timeout(&mut t, ACT_0, 30), Rc::SUCCESS);
    shutdown(&mut t, true);
    startup(&mut t, false);
    assert_eq!(act_data(&mut t, ACT_0), (0, 0));
}

// ------------------------------------------------------------ PCR groups, PP, algorithm sets, ...

#[test]
fn part3_22_6_pcr_set_auth_policy_and_value_refuse_every_pcr() {
    let mut t = tpm();
    let policy = |t: &mut Tpm<TestPlatform>, digest: &[u8], hash: u16, pcr: u32| {
        let c = Cmd::new(0x12C)
            .handle(PLATFORM)
            .pw(b"")
            .b2(digest)
            .u16(hash)
            .u32(pcr);
        run(t, &c, false).rc
    };
    for pcr in [0, 16, 20, 23] {
        assert_eq!(
            policy(&mut t, &[7; 32], SHA256, pcr),
            Rc::VALUE.param(3),
            "PCR {pcr}"
        );
        assert_eq!(policy(&mut t, &[], ALG_NULL, pcr), Rc::VALUE.param(3));
    }
    // Size first: authPolicy must be a digest of hashAlg.
    assert_eq!(policy(&mut t, &[7; 20], SHA256, 20), Rc::SIZE.param(1));
    assert_eq!(policy(&mut t, &[7; 32], ALG_NULL, 20), Rc::SIZE.param(1));
    // pcrNum is a TPMI_DH_PCR; hashAlg a TPMI_ALG_HASH+.
    assert_eq!(policy(&mut t, &[7; 32], SHA256, 24), Rc::VALUE.param(3));
    assert_eq!(policy(&mut t, &[7; 32], 0x0012, 20), Rc::HASH.param(2));
    // Only the platform may ask.
    let c = Cmd::new(0x12C)
        .handle(OWNER)
        .pw(b"")
        .b2(&[])
        .u16(ALG_NULL)
        .u32(20);
    assert_eq!(run(&mut t, &c, false).rc, Rc::VALUE.handle(1));
    // PCR_SetAuthValue: TPM_RC_VALUE for every PCR (EmptyAuth authorizes).
    for pcr in [0, 16, 20, 23] {
        let c = Cmd::new(0x183).handle(pcr).pw(b"").b2(b"new auth");
        assert_eq!(run(&mut t, &c, false).rc, Rc::VALUE, "PCR {pcr}");
    }
    let c = Cmd::new(0x183).handle(24).pw(b"").b2(b"x");
    assert_eq!(run(&mut t, &c, false).rc, Rc::VALUE.handle(1));
}

#[test]
fn part3_26_pp_commands_set_algorithm_set_set_capability_vendor_test() {
    let mut t = tpm();
    // PP_Commands: physical presence is never asserted on this platform.
    let c = Cmd::new(0x12D)
        .handle(PLATFORM)
        .pw(b"")
        .u32(1)
        .u32(0x126)
        .u32(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::PP);
    // The lists are TPML_CC (at most 256 entries).
    let c = Cmd::new(0x12D).handle(PLATFORM).pw(b"").u32(257).u32(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SIZE.param(1));
    let c = Cmd::new(0x12D).handle(OWNER).pw(b"").u32(0).u32(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::VALUE.handle(1));
    // SetAlgorithmSet: set 0 exists, others do not.
    let set = |t: &mut Tpm<TestPlatform>, v: u32| {
        run(t, &Cmd::new(0x13F).handle(PLATFORM).pw(b"").u32(v), false).rc
    };
    assert_eq!(set(&mut t, 0), Rc::SUCCESS);
    assert_eq!(set(&mut t, 1), Rc::VALUE.param(1));
    assert_eq!(set(&mut t, u32::MAX), Rc::VALUE.param(1));
    assert_eq!(tpm_property(&mut t, PT_ALGORITHM_SET), Some(0));
    // SetCapability: nothing is settable.
    for h in [OWNER, PLATFORM, 0x4000_000A, 0x4000_000B, NULL_H] {
        let c = Cmd::new(0x19F).handle(h).pw(b"").bytes(&sized(
            &[&CAP_TPM_PROPERTIES.to_be_bytes()[..], &[0; 8]].concat(),
        ));
        assert_eq!(run(&mut t, &c, false).rc, Rc::VALUE.param(1), "{h:#x}");
    }
    let c = Cmd::new(0x19F).handle(OWNER).pw(b"").u16(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SIZE.param(1));
    let c = Cmd::new(0x19F)
        .handle(0x4000_000D)
        .pw(b"")
        .bytes(&sized(&[0, 0, 0, 6]));
    assert_eq!(run(&mut t, &c, false).rc, Rc::VALUE.handle(1));
    // Vendor_TCG_Test echoes its input.
    let mut r = run(&mut t, &Cmd::new(0x2000_0000).b2(b"ping"), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), b"ping");
    let mut r = run(&mut t, &Cmd::new(0x2000_0000).b2(&[]), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), Vec::<u8>::new());
    assert_eq!(
        // TPM2B_DATA holds up to sizeof(TPMT_HA) = 66 octets.
        run(&mut t, &Cmd::new(0x2000_0000).b2(&[0; 67]), false).rc,
        Rc::SIZE.param(1)
    );
    // Other vendor codes are not commands.
    assert_eq!(
        run(&mut t, &Cmd::new(0x2000_0001), false).rc,
        Rc::COMMAND_CODE
    );
}

// ------------------------------------------------------------ PolicyCapability / PolicyParameters

/// StartAuthSession: unbound, unsalted, no symmetric, SHA-256; `kind` 1
/// (policy) or 3 (trial). Returns the handle.
fn start_policy(t: &mut Tpm<TestPlatform>, kind: u8) -> u32 {
    let c = Cmd::new(0x176)
        .handle(NULL_H)
        .handle(NULL_H)
        .b2(&[0x11; 32])
        .u16(0)
        .u8(kind)
        .u16(ALG_NULL)
        .u16(SHA256);
    let r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS);
    r.handle.unwrap()
}

fn policy_digest(t: &mut Tpm<TestPlatform>, s: u32) -> Vec<u8> {
    let mut r = run(t, &Cmd::new(CC_POLICYGETDIGEST).handle(s), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    r.b2()
}

fn policy_capability(
    t: &mut Tpm<TestPlatform>,
    s: u32,
    operand: &[u8],
    offset: u16,
    op: u16,
    cap: u32,
    prop: u32,
) -> Rc {
    let c = Cmd::new(CC_POLICYCAPABILITY)
        .handle(s)
        .b2(operand)
        .u16(offset)
        .u16(op)
        .u32(cap)
        .u32(prop);
    run(t, &c, false).rc
}

#[test]
fn part3_23_23_policy_capability() {
    let mut t = tpm();
    let rev = 185u32.to_be_bytes();
    // The policy digest (trial session), checked independently.
    let trial = start_policy(&mut t, 3);
    assert_eq!(
        policy_capability(&mut t, trial, &rev, 4, 0, CAP_TPM_PROPERTIES, PT_REVISION),
        Rc::SUCCESS
    );
    let args = sha256(&[
        &rev,
        &4u16.to_be_bytes(),
        &0u16.to_be_bytes(),
        &CAP_TPM_PROPERTIES.to_be_bytes(),
        &PT_REVISION.to_be_bytes(),
    ]);
    let want = sha256(&[&[0u8; 32], &CC_POLICYCAPABILITY.to_be_bytes(), &args]);
    assert_eq!(policy_digest(&mut t, trial), want);
    // A trial session checks nothing.
    assert_eq!(
        policy_capability(&mut t, trial, &[9], 0, 0, CAP_ALGS, 0x7777),
        Rc::SUCCESS
    );

    let s = start_policy(&mut t, 1);
    let pc = |t: &mut Tpm<TestPlatform>, operand: &[u8], off: u16, op: u16, cap: u32, prop: u32| {
        policy_capability(t, s, operand, off, op, cap, prop)
    };
    // TPM_PT_REVISION is 185 (offset 4 skips the property tag).
    assert_eq!(
        pc(&mut t, &rev, 4, 0, CAP_TPM_PROPERTIES, PT_REVISION),
        Rc::SUCCESS
    );
    assert_eq!(
        pc(
            &mut t,
            &184u32.to_be_bytes(),
            4,
            0,
            CAP_TPM_PROPERTIES,
            PT_REVISION
        ),
        Rc::POLICY
    );
    // Unsigned greater-than: 185 > 184.
    assert_eq!(
        pc(
            &mut t,
            &184u32.to_be_bytes(),
            4,
            3,
            CAP_TPM_PROPERTIES,
            PT_REVISION
        ),
        Rc::SUCCESS
    );
    assert_eq!(policy_digest(&mut t, s).len(), 32);
    // A property the TPM does not have: fails unless the operation is NEQ.
    assert_eq!(
        pc(&mut t, &rev, 4, 0, CAP_TPM_PROPERTIES, 0x1FF),
        Rc::POLICY
    );
    assert_eq!(
        pc(&mut t, &rev, 4, 1, CAP_TPM_PROPERTIES, 0x1FF),
        Rc::SUCCESS
    );
    // Algorithms, commands, curves, handles and ACTs are properties too.
    assert_eq!(pc(&mut t, &[0, 0x1A], 0, 0, CAP_ALGS, 0x1A), Rc::SUCCESS);
    assert_eq!(
        pc(&mut t, &[0, 0, 1, 1], 2, 0, CAP_ALGS, u32::from(ECDAA)),
        Rc::SUCCESS,
        "TPMA_ALGORITHM: asymmetric | signing"
    );
    assert_eq!(pc(&mut t, &[0, 0x12], 0, 0, CAP_ALGS, 0x12), Rc::POLICY);
    // TPMA_CC of PolicyCapability: one handle, code 0x19B.
    assert_eq!(
        pc(&mut t, &[0x02, 0, 0x01, 0x9B], 0, 0, CAP_COMMANDS, 0x19B),
        Rc::SUCCESS
    );
    assert_eq!(pc(&mut t, &[0, 3], 0, 0, 8, 3), Rc::SUCCESS, "NIST P-256");
    assert_eq!(pc(&mut t, &[0, 5], 0, 0, 8, 5), Rc::POLICY, "no P-521");
    assert_eq!(
        pc(&mut t, &OWNER.to_be_bytes(), 0, 0, CAP_HANDLES, OWNER),
        Rc::SUCCESS
    );
    // TPMS_ACT_DATA: offset 8 is TPMA_ACT; signaled is CLEAR.
    assert_eq!(
        pc(&mut t, &[0, 0, 0, 1], 8, 0x000B, CAP_ACT, ACT_0),
        Rc::SUCCESS,
        "BITCLEAR"
    );
    assert_eq!(
        pc(&mut t, &[0, 0, 0, 1], 8, 0x000A, CAP_ACT, ACT_0),
        Rc::POLICY,
        "BITSET"
    );
    // Offset past the structure: TPM_RC_VALUE on offset; operand longer
    // than what follows the offset: TPM_RC_SIZE on operandB.
    assert_eq!(
        pc(&mut t, &[], 9, 0, CAP_TPM_PROPERTIES, PT_REVISION),
        Rc::VALUE.param(2)
    );
    assert_eq!(
        pc(&mut t, &[0; 8], 4, 0, CAP_TPM_PROPERTIES, PT_REVISION),
        Rc::SIZE.param(1)
    );
    // TPM_CAP_PCRS (and unknown capabilities) cannot be used.
    assert_eq!(pc(&mut t, &[], 0, 0, CAP_PCRS, 0), Rc::VALUE.param(4));
    assert_eq!(pc(&mut t, &[], 0, 1, 0x99, 0), Rc::VALUE.param(4));
    // An unknown TPM_EO: TPM_RC_VALUE on operation, even in a trial.
    assert_eq!(pc(&mut t, &[], 0, 0x000C, CAP_ALGS, 0), Rc::VALUE.param(3));
    assert_eq!(
        policy_capability(&mut t, trial, &[], 0, 0x000C, CAP_ALGS, 0),
        Rc::VALUE.param(3)
    );
}

/// `TPMS_NV_PUBLIC` of an ordinary index.
fn nv_public(index: u32, attrs: u32, policy: &[u8], size: u16) -> Vec<u8> {
    let mut v = index.to_be_bytes().to_vec();
    v.extend_from_slice(&SHA256.to_be_bytes());
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&sized(policy));
    v.extend_from_slice(&size.to_be_bytes());
    v
}

/// A command authorized by policy session `s` (empty HMAC).
fn with_policy(code: u32, handles: &[u32], s: u32, params: &[u8]) -> Vec<u8> {
    let mut area = s.to_be_bytes().to_vec();
    area.extend_from_slice(&sized(&[0x22; 32]));
    area.push(0x01);
    area.extend_from_slice(&sized(&[]));
    let mut cmd = vec![0x80, 0x02, 0, 0, 0, 0];
    cmd.extend_from_slice(&code.to_be_bytes());
    handles
        .iter()
        .for_each(|h| cmd.extend_from_slice(&h.to_be_bytes()));
    cmd.extend_from_slice(&(area.len() as u32).to_be_bytes());
    cmd.extend_from_slice(&area);
    cmd.extend_from_slice(params);
    let n = (cmd.len() as u32).to_be_bytes();
    cmd[2..6].copy_from_slice(&n);
    cmd
}

fn rc_of(rsp: &[u8]) -> Rc {
    Rc(u32::from_be_bytes(rsp[6..10].try_into().unwrap()))
}

#[test]
fn part3_23_24_policy_parameters_and_nv_define_space2() {
    let mut t = tpm();
    let index = 0x0150_0020u32;
    // pHash of NV_Read(size 16, offset 0): H(commandCode || parameters).
    let read_params = [&16u16.to_be_bytes()[..], &0u16.to_be_bytes()].concat();
    let p_hash = sha256(&[&CC_NV_READ.to_be_bytes(), &read_params]);
    let trial = start_policy(&mut t, 3);
    let c = Cmd::new(CC_POLICYPARAMETERS).handle(trial).b2(&p_hash);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let policy = policy_digest(&mut t, trial);
    assert_eq!(
        policy,
        sha256(&[&[0u8; 32], &CC_POLICYPARAMETERS.to_be_bytes(), &p_hash])
    );
    // Only one of cpHash, nameHash, template and pHash.
    let c = Cmd::new(CC_POLICYPARAMETERS).handle(trial).b2(&p_hash);
    assert_eq!(run(&mut t, &c, false).rc, Rc::CPHASH);
    let c = Cmd::new(CC_POLICYCPHASH).handle(trial).b2(&p_hash);
    assert_eq!(run(&mut t, &c, false).rc, Rc::CPHASH.param(1));
    let t2 = start_policy(&mut t, 3);
    let c = Cmd::new(CC_POLICYPARAMETERS).handle(t2).b2(&p_hash[..20]);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SIZE.param(1));

    // NV_DefineSpace2 (TPM_HT_NV_INDEX): owner write, policy read.
    let attrs = 0x0000_0002 | 0x0008_0000 | 0x0200_0000; // OWNERWRITE | POLICYREAD | NO_DA
    let public = nv_public(index, attrs, &policy, 16);
    let mut public2 = vec![0x01];
    public2.extend_from_slice(&public);
    let c = Cmd::new(CC_NV_DEFINESPACE2)
        .handle(OWNER)
        .pw(b"")
        .b2(&[])
        .bytes(&sized(&public2));
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    // Defined again: the same answer as NV_DefineSpace.
    assert_eq!(run(&mut t, &c, false).rc, Rc::NV_DEFINED);
    // External and permanent NV are not implemented.
    for ht in [0x11u8, 0x12, 0x00, 0x81] {
        let mut p = vec![ht];
        p.extend_from_slice(&nv_public(index + 1, attrs, &[], 16));
        let c = Cmd::new(CC_NV_DEFINESPACE2)
            .handle(OWNER)
            .pw(b"")
            .b2(&[])
            .bytes(&sized(&p));
        assert_eq!(run(&mut t, &c, false).rc, Rc::SELECTOR.param(2), "{ht:#x}");
    }
    // NV_ReadPublic2: the handle type, the same public area and Name as
    // NV_ReadPublic.
    let mut r = run(&mut t, &Cmd::new(CC_NV_READPUBLIC2).handle(index), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), public2);
    let name2 = r.b2();
    let mut r = run(&mut t, &Cmd::new(CC_NV_READPUBLIC).handle(index), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = r.b2();
    assert_eq!(r.b2(), name2);
    assert_eq!(name2[..2], SHA256.to_be_bytes());
    assert_eq!(
        run(
            &mut t,
            &Cmd::new(CC_NV_READPUBLIC2).handle(index + 1),
            false
        )
        .rc,
        Rc::HANDLE.handle(1)
    );

    // Write it, then read it under the PolicyParameters policy.
    let c = Cmd::new(CC_NV_WRITE)
        .handle(OWNER)
        .handle(index)
        .pw(b"")
        .b2(&[0xAB; 16])
        .u16(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let s = start_policy(&mut t, 1);
    let c = Cmd::new(CC_POLICYPARAMETERS).handle(s).b2(&p_hash);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let rsp = t.execute(
        0,
        &with_policy(CC_NV_READ, &[index, index], s, &read_params),
    );
    assert_eq!(rc_of(&rsp), Rc::SUCCESS);
    assert_eq!(&rsp[16..32], &[0xAB; 16]);
    // Other parameters do not match pHash.
    let s = start_policy(&mut t, 1);
    let c = Cmd::new(CC_POLICYPARAMETERS).handle(s).b2(&p_hash);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let other = [&8u16.to_be_bytes()[..], &0u16.to_be_bytes()].concat();
    let rsp = t.execute(0, &with_policy(CC_NV_READ, &[index, index], s, &other));
    assert_eq!(rc_of(&rsp), Rc::POLICY_FAIL.session(1));
}

// ------------------------------------------------------------ PolicyTransportSPDM

fn policy_spdm(t: &mut Tpm<TestPlatform>, s: u32, req: &[u8], tpm_key: &[u8]) -> Rc {
    let c = Cmd::new(CC_POLICYTRANSPORTSPDM)
        .handle(s)
        .b2(req)
        .b2(tpm_key);
    run(t, &c, false).rc
}

#[test]
fn part3_23_25_policy_transport_spdm_digest_and_no_secure_channel() {
    let mut t = tpm();
    let cc = CC_POLICYTRANSPORTSPDM.to_be_bytes();
    // No key Names: policyDigest' = H(policyDigest || TPM_CC_PolicyTransportSPDM).
    let trial = start_policy(&mut t, 3);
    assert_eq!(policy_spdm(&mut t, trial, &[], &[]), Rc::SUCCESS);
    let plain = sha256(&[&[0u8; 32], &cc]);
    assert_eq!(policy_digest(&mut t, trial), plain);
    // checkSecureChannel already SET: TPM_RC_VALUE, digest unchanged.
    assert_eq!(policy_spdm(&mut t, trial, &[], &[]), Rc::VALUE);
    assert_eq!(policy_digest(&mut t, trial), plain);
    // PolicyRestart clears it.
    let r = run(&mut t, &Cmd::new(CC_POLICYRESTART).handle(trial), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(policy_spdm(&mut t, trial, &[], &[]), Rc::SUCCESS);
    assert_eq!(policy_digest(&mut t, trial), plain);

    // Key Names: scKeyNameHash = H(req.size || req || tpm.size || tpm),
    // appended to the digest.
    let req: Vec<u8> = [&SHA256.to_be_bytes()[..], &[0x5A; 32]].concat();
    let tpm_key: Vec<u8> = [&SHA384.to_be_bytes()[..], &[0xC3; 48]].concat();
    for (r, k) in [
        (&req[..], &[][..]),
        (&[][..], &tpm_key[..]),
        (&req[..], &tpm_key[..]),
    ] {
        let s = start_policy(&mut t, 3);
        assert_eq!(policy_spdm(&mut t, s, r, k), Rc::SUCCESS);
        let sc = sha256(&[
            &(r.len() as u16).to_be_bytes(),
            r,
            &(k.len() as u16).to_be_bytes(),
            k,
        ]);
        assert_eq!(policy_digest(&mut t, s), sha256(&[&[0u8; 32], &cc, &sc]));
    }
    // The same Name as requester or as TPM key gives different policies.
    let a = start_policy(&mut t, 3);
    let b = start_policy(&mut t, 3);
    assert_eq!(policy_spdm(&mut t, a, &req, &[]), Rc::SUCCESS);
    assert_eq!(policy_spdm(&mut t, b, &[], &req), Rc::SUCCESS);
    assert_ne!(policy_digest(&mut t, a), policy_digest(&mut t, b));

    // A Name must be nameAlg || digest of that size.
    let s = start_policy(&mut t, 3);
    let bad_alg = [&[0x00, 0x10][..], &[0; 32]].concat();
    assert_eq!(policy_spdm(&mut t, s, &bad_alg, &[]), Rc::HASH.param(1));
    assert_eq!(policy_spdm(&mut t, s, &[], &bad_alg), Rc::HASH.param(2));
    assert_eq!(policy_spdm(&mut t, s, &req[..33], &[]), Rc::SIZE.param(1));
    assert_eq!(policy_spdm(&mut t, s, &[], &[0x00]), Rc::SIZE.param(2));
    assert_eq!(
        policy_spdm(&mut t, s, &[], &0x4000_0001u32.to_be_bytes()),
        Rc::HASH.param(2)
    );
    assert_eq!(policy_digest(&mut t, s), vec![0u8; 32]);

    // Used for authorization: this TPM has no SPDM secure channel, so the
    // policy never authorizes (TPM_RC_CHANNEL), even with the right digest.
    let index = 0x0150_0030u32;
    let attrs = 0x0000_0002 | 0x0008_0000 | 0x0200_0000; // OWNERWRITE | POLICYREAD | NO_DA
    let c = Cmd::new(0x12A)
        .handle(OWNER)
        .pw(b"")
        .b2(&[])
        .b2(&nv_public(index, attrs, &plain, 8));
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let c = Cmd::new(CC_NV_WRITE)
        .handle(OWNER)
        .handle(index)
        .pw(b"")
        .b2(&[1; 8])
        .u16(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let read_params = [&8u16.to_be_bytes()[..], &0u16.to_be_bytes()].concat();
    let s = start_policy(&mut t, 1);
    assert_eq!(policy_spdm(&mut t, s, &[], &[]), Rc::SUCCESS);
    assert_eq!(policy_digest(&mut t, s), plain);
    let rsp = t.execute(
        0,
        &with_policy(CC_NV_READ, &[index, index], s, &read_params),
    );
    assert_eq!(rc_of(&rsp).base(), Rc::CHANNEL);
    // Control: an index whose policy is another deferred assertion
    // (PolicyCommandCode(NV_Read)) reads with such a session, so the
    // refusal above is the secure-channel check.
    let cc_policy = sha256(&[
        &[0u8; 32],
        &0x16Cu32.to_be_bytes(),
        &CC_NV_READ.to_be_bytes(),
    ]);
    let c = Cmd::new(0x12A).handle(OWNER).pw(b"").b2(&[]).b2(&nv_public(
        index + 1,
        attrs,
        &cc_policy,
        8,
    ));
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let c = Cmd::new(CC_NV_WRITE)
        .handle(OWNER)
        .handle(index + 1)
        .pw(b"")
        .b2(&[2; 8])
        .u16(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let s = start_policy(&mut t, 1);
    let c = Cmd::new(0x16C).handle(s).u32(CC_NV_READ);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let rsp = t.execute(
        0,
        &with_policy(CC_NV_READ, &[index + 1, index + 1], s, &read_params),
    );
    assert_eq!(rc_of(&rsp), Rc::SUCCESS);
}
