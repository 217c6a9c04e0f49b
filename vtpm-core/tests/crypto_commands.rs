//! Part 3, 14, 15, 17, 18, 20 and 29 through the engine: signing and
//! verification, RSA and ECDH, symmetric encryption and HMAC, hash/HMAC/
//! event sequences, attestation and the clock commands. Signatures,
//! ciphertexts and digests are checked with independent implementations
//! (the `rsa`, `p256`, `p384`, `sha1`, `sha2`, `hmac` crates) and NIST
//! vectors, not with the engine's own crypto layer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;
use sha2::Digest as _;
use vtpm_core::testing::TestPlatform;
use vtpm_core::{Rc, Tpm};

const OWNER: u32 = 0x4000_0001;
const NULL: u32 = 0x4000_0007;
const ENDORSEMENT: u32 = 0x4000_000B;

const TPM_ALG_NULL: u16 = 0x0010;
const SHA1: u16 = 0x0004;
const SHA256: u16 = 0x000B;
const SHA384: u16 = 0x000C;
const RSASSA: u16 = 0x0014;
const RSAES: u16 = 0x0015;
const RSAPSS: u16 = 0x0016;
const OAEP: u16 = 0x0017;
const ECDSA: u16 = 0x0018;
const ECDAA: u16 = 0x001A;
const ECSCHNORR: u16 = 0x001C;
const HMAC: u16 = 0x0005;

// Object attributes.
const FIXED: u32 = 0x0000_0012; // fixedTPM | fixedParent
const SDO: u32 = 0x0000_0020;
const USER_WITH_AUTH: u32 = 0x0000_0040;
const RESTRICTED: u32 = 0x0001_0000;
const DECRYPT: u32 = 0x0002_0000;
const SIGN: u32 = 0x0004_0000;

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = sha2::Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// An RSA-2048 template; `scheme` is (alg, hash) or NULL.
fn rsa_template(attrs: u32, scheme: Option<(u16, u16)>) -> Vec<u8> {
    let mut v = vec![0x00, 0x01, 0x00, 0x0B];
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&TPM_ALG_NULL.to_be_bytes()); // symmetric
    push_scheme(&mut v, scheme);
    v.extend_from_slice(&[0x08, 0x00, 0, 0, 0, 0]);
    v.extend_from_slice(&[0, 0]);
    v
}

/// An ECC template on `curve`; `scheme` is (alg, hash) or NULL.
fn ecc_template(attrs: u32, curve: u16, scheme: Option<(u16, u16)>) -> Vec<u8> {
    let mut v = vec![0x00, 0x23, 0x00, 0x0B];
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&TPM_ALG_NULL.to_be_bytes());
    push_scheme(&mut v, scheme);
    v.extend_from_slice(&curve.to_be_bytes());
    v.extend_from_slice(&TPM_ALG_NULL.to_be_bytes()); // kdf
    v.extend_from_slice(&[0, 0, 0, 0]);
    v
}

/// A KEYEDHASH signing template with an HMAC scheme (or NULL).
fn hmac_template(hash: Option<u16>) -> Vec<u8> {
    let mut v = vec![0x00, 0x08, 0x00, 0x0B];
    v.extend_from_slice(&(FIXED | USER_WITH_AUTH | SIGN).to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    match hash {
        Some(h) => {
            v.extend_from_slice(&HMAC.to_be_bytes());
            v.extend_from_slice(&h.to_be_bytes());
        }
        None => v.extend_from_slice(&TPM_ALG_NULL.to_be_bytes()),
    }
    v.extend_from_slice(&[0, 0]);
    v
}

fn push_scheme(v: &mut Vec<u8>, scheme: Option<(u16, u16)>) {
    match scheme {
        Some((a, h)) => {
            v.extend_from_slice(&a.to_be_bytes());
            v.extend_from_slice(&h.to_be_bytes());
        }
        None => v.extend_from_slice(&TPM_ALG_NULL.to_be_bytes()),
    }
}

fn scheme_bytes(scheme: Option<(u16, u16)>) -> Vec<u8> {
    let mut v = Vec::new();
    push_scheme(&mut v, scheme);
    v
}

/// A NULL `TPMT_TK_HASHCHECK`.
fn null_hashcheck() -> Vec<u8> {
    let mut v = 0x8024u16.to_be_bytes().to_vec();
    v.extend_from_slice(&NULL.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v
}

/// The last `n` octets of a marshaled public area (the unique field).
fn tail(public: &[u8], n: usize) -> Vec<u8> {
    public[public.len() - n..].to_vec()
}

/// RSA modulus of a 2048-bit public area returned by CreatePrimary.
fn rsa_modulus(public: &[u8]) -> Vec<u8> {
    let t = tail(public, 258);
    assert_eq!(t[..2], [0x01, 0x00]);
    t[2..].to_vec()
}

/// (x, y) of an ECC public area with coordinates of `size` octets.
fn ecc_point(public: &[u8], size: usize) -> (Vec<u8>, Vec<u8>) {
    let t = tail(public, 4 + 2 * size);
    (t[2..2 + size].to_vec(), t[4 + size..].to_vec())
}

fn rsa_public_key(n: &[u8]) -> rsa::PublicKey {
    rsa::PublicKey::new(
        rsa::BoxedUint::from_be_slice(n, 2048).unwrap(),
        rsa::BoxedUint::from_be_slice(&[1, 0, 1], 64).unwrap(),
    )
    .unwrap()
}

/// TPM2_Sign; returns the response (signature bytes in `params`).
fn sign(t: &mut Tpm<TestPlatform>, key: u32, digest: &[u8], scheme: &[u8], ticket: &[u8]) -> Rsp {
    let c = Cmd::new(0x15D)
        .handle(key)
        .pw(b"")
        .b2(digest)
        .bytes(scheme)
        .bytes(ticket);
    run(t, &c, false)
}

/// TPM2_VerifySignature.
fn verify(t: &mut Tpm<TestPlatform>, key: u32, digest: &[u8], sig: &[u8]) -> Rsp {
    run(t, &Cmd::new(0x177).handle(key).b2(digest).bytes(sig), false)
}

/// TPM2_Hash(data, SHA-256, hierarchy): (digest, ticket bytes).
fn tpm_hash(t: &mut Tpm<TestPlatform>, data: &[u8], hierarchy: u32) -> (Vec<u8>, Vec<u8>) {
    let c = Cmd::new(0x17D).b2(data).u16(SHA256).u32(hierarchy);
    let mut r = run(t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let d = r.b2();
    (d, r.rest())
}

/// ReadPublic: (public with size, name, qualified name).
fn read_public(t: &mut Tpm<TestPlatform>, h: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut r = run(t, &Cmd::new(0x173).handle(h), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    (r.b2_raw(), r.b2(), r.b2())
}

fn verify_p256_ecdsa(point: &(Vec<u8>, Vec<u8>), digest: &[u8], r: &[u8], s: &[u8]) {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    let mut sec1 = vec![4u8];
    sec1.extend_from_slice(&point.0);
    sec1.extend_from_slice(&point.1);
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&[r, s].concat()).unwrap();
    vk.verify_prehash(digest, &sig)
        .expect("ECDSA P-256 signature verifies");
}

/// A cursor over response bytes.
struct Rd {
    b: Vec<u8>,
    pos: usize,
}

impl Rd {
    fn new(b: Vec<u8>) -> Self {
        Rd { b, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Vec<u8> {
        let v = self.b[self.pos..self.pos + n].to_vec();
        self.pos += n;
        v
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.take(2).try_into().unwrap())
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take(4).try_into().unwrap())
    }
    fn b2(&mut self) -> Vec<u8> {
        let n = self.u16() as usize;
        self.take(n)
    }
    fn rest(&mut self) -> Vec<u8> {
        let v = self.b[self.pos..].to_vec();
        self.pos = self.b.len();
        v
    }
}

/// LoadExternal a KEYEDHASH signing key (NULL hierarchy) with an HMAC
/// scheme hash or NULL.
fn load_hmac_key(t: &mut Tpm<TestPlatform>, key: &[u8], hash: Option<u16>) -> u32 {
    let mut public = vec![0x00, 0x08, 0x00, 0x0B];
    public.extend_from_slice(&(USER_WITH_AUTH | SIGN).to_be_bytes());
    public.extend_from_slice(&[0, 0]);
    match hash {
        Some(h) => {
            public.extend_from_slice(&HMAC.to_be_bytes());
            public.extend_from_slice(&h.to_be_bytes());
        }
        None => public.extend_from_slice(&TPM_ALG_NULL.to_be_bytes()),
    }
    public.extend_from_slice(&sized(&sha256(&[key])));
    let mut sens = vec![0x00, 0x08, 0, 0, 0, 0];
    sens.extend_from_slice(&sized(key));
    let c = Cmd::new(0x167)
        .bytes(&sized(&sens))
        .bytes(&sized(&public))
        .u32(NULL);
    let r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS, "LoadExternal");
    r.handle.unwrap()
}

// ---------------------------------------------------------------- Signing

#[test]
fn part3_20_5_rsassa_and_rsapss_signatures_verify_independently() {
    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        OWNER,
        &rsa_template(FIXED | SDO | USER_WITH_AUTH | SIGN, None),
        b"",
    );
    let key = rsa_public_key(&rsa_modulus(&public));
    let digest = sha256(&[b"message"]);

    let mut r = sign(
        &mut t,
        k,
        &digest,
        &scheme_bytes(Some((RSASSA, SHA256))),
        &null_hashcheck(),
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let sig_bytes = r.params.clone();
    assert_eq!((r.u16(), r.u16()), (RSASSA, SHA256));
    let sig = r.b2();
    assert_eq!(sig.len(), 256);
    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &sig)
        .expect("RSASSA signature verifies");
    // The TPM verifies it too, and issues a ticket for the owner hierarchy.
    let mut v = verify(&mut t, k, &digest, &sig_bytes);
    assert_eq!(v.rc, Rc::SUCCESS);
    assert_eq!(v.u16(), 0x8022);
    assert_eq!(v.u32(), OWNER);
    assert_eq!(v.b2().len(), 32);
    // A different digest does not verify: TPM_RC_SIGNATURE on parameter 2.
    let other = sha256(&[b"other"]);
    assert_eq!(
        verify(&mut t, k, &other, &sig_bytes).rc,
        Rc::SIGNATURE.param(2)
    );
    // The public part alone, loaded with LoadExternal, verifies it too
    // (the usual TPM2_PolicyAuthorize set-up).
    let c = Cmd::new(0x167).u16(0).bytes(&public).u32(OWNER);
    let r = run(&mut t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS);
    let ext = r.handle.unwrap();
    let mut v = verify(&mut t, ext, &digest, &sig_bytes);
    assert_eq!(v.rc, Rc::SUCCESS);
    assert_eq!((v.u16(), v.u32()), (0x8022, OWNER));
    // Public-only: it cannot sign.
    let r = sign(
        &mut t,
        ext,
        &digest,
        &scheme_bytes(Some((RSASSA, SHA256))),
        &null_hashcheck(),
    );
    assert_ne!(r.rc, Rc::SUCCESS);

    let mut r = sign(
        &mut t,
        k,
        &digest,
        &scheme_bytes(Some((RSAPSS, SHA256))),
        &null_hashcheck(),
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let sig_bytes = r.params.clone();
    assert_eq!((r.u16(), r.u16()), (RSAPSS, SHA256));
    let sig = r.b2();
    key.verify(rsa::pss::Pss::<sha2::Sha256>::new(), &digest, &sig)
        .expect("RSAPSS signature verifies");
    assert_eq!(verify(&mut t, k, &digest, &sig_bytes).rc, Rc::SUCCESS);
    // A flipped bit in the signature fails.
    let mut bad = sig_bytes.clone();
    let n = bad.len();
    bad[n - 1] ^= 1;
    assert_eq!(verify(&mut t, k, &digest, &bad).rc, Rc::SIGNATURE.param(2));
}

#[test]
fn part3_20_5_ecdsa_on_p256_and_p384_verifies_independently() {
    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        OWNER,
        &ecc_template(FIXED | SDO | USER_WITH_AUTH | SIGN, 0x0003, None),
        b"",
    );
    let point = ecc_point(&public, 32);
    let digest = sha256(&[b"abc"]);
    let mut r = sign(
        &mut t,
        k,
        &digest,
        &scheme_bytes(Some((ECDSA, SHA256))),
        &null_hashcheck(),
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let sig_bytes = r.params.clone();
    assert_eq!((r.u16(), r.u16()), (ECDSA, SHA256));
    let (sr, ss) = (r.b2(), r.b2());
    verify_p256_ecdsa(&point, &digest, &sr, &ss);
    assert_eq!(verify(&mut t, k, &digest, &sig_bytes).rc, Rc::SUCCESS);

    // P-384 with SHA-384.
    let (k, public, _) = create_primary(
        &mut t,
        OWNER,
        &ecc_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN,
            0x0004,
            Some((ECDSA, SHA384)),
        ),
        b"",
    );
    let (x, y) = ecc_point(&public, 48);
    let digest = sha2::Sha384::digest(b"abc").to_vec();
    let mut r = sign(&mut t, k, &digest, &scheme_bytes(None), &null_hashcheck());
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!((r.u16(), r.u16()), (ECDSA, SHA384));
    let (sr, ss) = (r.b2(), r.b2());
    use p384::ecdsa::signature::hazmat::PrehashVerifier;
    let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(&[&[4u8][..], &x, &y].concat()).unwrap();
    let sig = p384::ecdsa::Signature::from_slice(&[sr, ss].concat()).unwrap();
    vk.verify_prehash(&digest, &sig)
        .expect("ECDSA P-384 signature verifies");
}

#[test]
fn part3_20_5_ecschnorr_verifies_independently() {
    use p256::elliptic_curve::ff::PrimeField;
    use p256::elliptic_curve::group::Group as _;
    use p256::elliptic_curve::ops::Reduce;
    use p256::elliptic_curve::point::AffineCoordinates;

    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        OWNER,
        &ecc_template(FIXED | SDO | USER_WITH_AUTH | SIGN, 0x0003, None),
        b"",
    );
    let (x, y) = ecc_point(&public, 32);
    let digest = sha256(&[b"schnorr"]);
    let mut r = sign(
        &mut t,
        k,
        &digest,
        &scheme_bytes(Some((ECSCHNORR, SHA256))),
        &null_hashcheck(),
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let sig_bytes = r.params.clone();
    assert_eq!((r.u16(), r.u16()), (ECSCHNORR, SHA256));
    let (sr, ss) = (r.b2(), r.b2());
    // Part 1, EC Schnorr: E = [s]G - [r]Q; r = H(x_E || digest) truncated.
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&[&[4u8][..], &x, &y].concat()).unwrap();
    let q = p256::ProjectivePoint::from(*vk.as_affine());
    let s = p256::Scalar::from_repr(p256::FieldBytes::try_from(&ss[..]).unwrap()).unwrap();
    let rs = <p256::Scalar as Reduce<p256::FieldBytes>>::reduce(
        &p256::FieldBytes::try_from(&sr[..]).unwrap(),
    );
    let e = (p256::ProjectivePoint::generator() * s - q * rs).to_affine();
    assert_eq!(sha256(&[&e.x(), &digest]), sr);
    assert_eq!(verify(&mut t, k, &digest, &sig_bytes).rc, Rc::SUCCESS);
}

#[test]
fn part3_20_5_hmac_key_signs_and_verifies() {
    let mut t = tpm();
    let (k, _, _) = {
        let c = Cmd::new(0x131)
            .handle(OWNER)
            .pw(b"")
            .bytes(&sens_create(b"", b"the hmac key"))
            .bytes(&sized(&hmac_template(Some(SHA256))))
            .u16(0)
            .u32(0);
        let r = run(&mut t, &c, true);
        assert_eq!(r.rc, Rc::SUCCESS);
        (r.handle.unwrap(), (), ())
    };
    let digest = sha256(&[b"data"]);
    let mut r = sign(&mut t, k, &digest, &scheme_bytes(None), &null_hashcheck());
    assert_eq!(r.rc, Rc::SUCCESS);
    let sig_bytes = r.params.clone();
    assert_eq!((r.u16(), r.u16()), (HMAC, SHA256));
    assert_eq!(r.take(32), hmac_sha256(b"the hmac key", &digest));
    assert_eq!(verify(&mut t, k, &digest, &sig_bytes).rc, Rc::SUCCESS);
    // An HMAC signature with another hash than the key's scheme: TPM_RC_SCHEME.
    let mut other = HMAC.to_be_bytes().to_vec();
    other.extend_from_slice(&SHA1.to_be_bytes());
    other.extend_from_slice(&[0u8; 20]);
    assert_eq!(verify(&mut t, k, &digest, &other).rc, Rc::SCHEME.param(2));

    // TPM2_HMAC over a buffer.
    let mut r = run(
        &mut t,
        &Cmd::new(0x155)
            .handle(k)
            .pw(b"")
            .b2(b"hello")
            .u16(TPM_ALG_NULL),
        false,
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), hmac_sha256(b"the hmac key", b"hello"));
    // A hash other than the key's: TPM_RC_VALUE on parameter 2.
    let r = run(
        &mut t,
        &Cmd::new(0x155).handle(k).pw(b"").b2(b"hello").u16(SHA1),
        false,
    );
    assert_eq!(r.rc, Rc::VALUE.param(2));
}

#[test]
fn part3_20_5_scheme_selection_rules() {
    let mut t = tpm();
    let attrs = FIXED | SDO | USER_WITH_AUTH | SIGN;
    let (rsa_fixed, _, _) = create_primary(
        &mut t,
        OWNER,
        &rsa_template(attrs, Some((RSASSA, SHA256))),
        b"",
    );
    let (rsa_null, _, _) = create_primary(&mut t, OWNER, &rsa_template(attrs, None), b"");
    let (ecc, _, _) = create_primary(&mut t, OWNER, &ecc_template(attrs, 0x0003, None), b"");
    let hmac_key = load_hmac_key(&mut t, b"k", None);
    let d = sha256(&[b"x"]);
    let tk = null_hashcheck();
    let rc = |t: &mut Tpm<TestPlatform>, k: u32, s: Option<(u16, u16)>| {
        sign(t, k, &d, &scheme_bytes(s), &tk).rc
    };
    // Key scheme set: NULL or the same scheme and hash.
    assert_eq!(rc(&mut t, rsa_fixed, None), Rc::SUCCESS);
    assert_eq!(rc(&mut t, rsa_fixed, Some((RSASSA, SHA256))), Rc::SUCCESS);
    assert_eq!(
        rc(&mut t, rsa_fixed, Some((RSAPSS, SHA256))),
        Rc::SCHEME.param(2)
    );
    assert_eq!(
        rc(&mut t, rsa_fixed, Some((RSASSA, SHA1))),
        Rc::SCHEME.param(2)
    );
    // Key scheme NULL: the request may not be NULL.
    assert_eq!(rc(&mut t, rsa_null, None), Rc::SCHEME.param(2));
    // A scheme of another key type is refused before it is used.
    assert_eq!(
        rc(&mut t, rsa_null, Some((ECDSA, SHA256))),
        Rc::SCHEME.param(2)
    );
    assert_eq!(
        rc(&mut t, rsa_null, Some((HMAC, SHA256))),
        Rc::SCHEME.param(2)
    );
    assert_eq!(rc(&mut t, ecc, Some((RSASSA, SHA256))), Rc::SCHEME.param(2));
    assert_eq!(rc(&mut t, ecc, Some((HMAC, SHA256))), Rc::SCHEME.param(2));
    assert_eq!(
        rc(&mut t, hmac_key, Some((ECDSA, SHA256))),
        Rc::SCHEME.param(2)
    );
    assert_eq!(rc(&mut t, hmac_key, Some((HMAC, SHA256))), Rc::SUCCESS);
    // ECDAA (with its commit count) may be chosen for an ECC key without
    // a scheme, but completes only a pending TPM2_Commit (none here: the
    // counter is out of the commit window).
    let mut ecdaa = scheme_bytes(Some((ECDAA, SHA256)));
    ecdaa.extend_from_slice(&[0, 0]);
    assert_eq!(sign(&mut t, ecc, &d, &ecdaa, &tk).rc, Rc::RANGE.param(2));
    // Unimplemented signing schemes do not unmarshal.
    assert_eq!(rc(&mut t, ecc, Some((0x001B, SHA256))), Rc::SCHEME.param(2));
    // The digest must be the size of the scheme's hash.
    let r = sign(
        &mut t,
        ecc,
        &d[..20],
        &scheme_bytes(Some((ECDSA, SHA256))),
        &tk,
    );
    assert_eq!(r.rc, Rc::SIZE.param(1));
    let r = sign(&mut t, ecc, &d, &scheme_bytes(Some((ECDSA, SHA384))), &tk);
    assert_eq!(r.rc, Rc::SIZE.param(1));
    // A key without sign: TPM_RC_KEY on the handle.
    let (storage, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    assert_eq!(
        rc(&mut t, storage, Some((ECDSA, SHA256))),
        Rc::KEY.handle(1)
    );
    // A ticket with a wrong tag does not unmarshal: TPM_RC_TAG on parameter 3.
    let mut bad_tag = tk.clone();
    bad_tag[1] = 0x21;
    let r = sign(
        &mut t,
        ecc,
        &d,
        &scheme_bytes(Some((ECDSA, SHA256))),
        &bad_tag,
    );
    assert_eq!(r.rc, Rc::TAG.param(3));
}

#[test]
fn part3_20_5_restricted_key_needs_a_hashcheck_ticket() {
    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        OWNER,
        &rsa_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN | RESTRICTED,
            Some((RSASSA, SHA256)),
        ),
        b"",
    );
    let key = rsa_public_key(&rsa_modulus(&public));
    let (digest, ticket) = tpm_hash(&mut t, b"a message to sign", OWNER);
    assert_eq!(digest, sha256(&[b"a message to sign"]));
    // No ticket: refused.
    let none = scheme_bytes(None);
    assert_eq!(
        sign(&mut t, k, &digest, &none, &null_hashcheck()).rc,
        Rc::TICKET.param(3)
    );
    // A NULL-hierarchy ticket with an empty HMAC is still a NULL ticket.
    // With the ticket from TPM2_Hash: signed.
    let mut r = sign(&mut t, k, &digest, &none, &ticket);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = (r.u16(), r.u16());
    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &r.b2())
        .unwrap();
    // The ticket does not carry over to another digest.
    let other = sha256(&[b"something else"]);
    assert_eq!(
        sign(&mut t, k, &other, &none, &ticket).rc,
        Rc::TICKET.param(3)
    );
    // Data that starts with TPM_GENERATED_VALUE gets a NULL ticket.
    let (gd, gt) = tpm_hash(&mut t, b"\xFFTCG forged attestation", OWNER);
    assert_eq!(gt, null_hashcheck());
    assert_eq!(sign(&mut t, k, &gd, &none, &gt).rc, Rc::TICKET.param(3));
    // A ticket is checked whenever it carries an HMAC, even for an
    // unrestricted key.
    let (u, _, _) = create_primary(
        &mut t,
        OWNER,
        &rsa_template(FIXED | SDO | USER_WITH_AUTH | SIGN, Some((RSASSA, SHA256))),
        b"",
    );
    let mut forged = ticket.clone();
    let n = forged.len();
    forged[n - 1] ^= 1;
    assert_eq!(
        sign(&mut t, u, &digest, &none, &forged).rc,
        Rc::TICKET.param(3)
    );
    assert_eq!(sign(&mut t, u, &digest, &none, &ticket).rc, Rc::SUCCESS);
}

// ----------------------------------------------------------- Asymmetric

/// A deterministic `rand_core` generator for the `rsa` crate.
struct TestRng(u64);

impl rsa::rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}

impl rsa::rand_core::TryCryptoRng for TestRng {}

fn rsa_decrypt(t: &mut Tpm<TestPlatform>, k: u32, c: &[u8], scheme: &[u8], label: &[u8]) -> Rsp {
    let cmd = Cmd::new(0x159)
        .handle(k)
        .pw(b"")
        .b2(c)
        .bytes(scheme)
        .b2(label);
    run(t, &cmd, false)
}

fn rsa_encrypt(t: &mut Tpm<TestPlatform>, k: u32, m: &[u8], scheme: &[u8], label: &[u8]) -> Rsp {
    run(
        t,
        &Cmd::new(0x174).handle(k).b2(m).bytes(scheme).b2(label),
        false,
    )
}

#[test]
fn part3_14_rsa_encrypt_decrypt_round_trips_and_interoperates() {
    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        OWNER,
        &rsa_template(FIXED | SDO | USER_WITH_AUTH | DECRYPT, None),
        b"",
    );
    let key = rsa_public_key(&rsa_modulus(&public));
    let oaep = scheme_bytes(Some((OAEP, SHA256)));
    let label = b"label\0";
    // TPM encrypts, TPM decrypts.
    let mut r = rsa_encrypt(&mut t, k, b"secret", &oaep, label);
    assert_eq!(r.rc, Rc::SUCCESS);
    let c = r.b2();
    assert_eq!(c.len(), 256);
    let mut r = rsa_decrypt(&mut t, k, &c, &oaep, label);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), b"secret");
    // The wrong label, a corrupted ciphertext: one undifferentiated VALUE.
    assert_eq!(rsa_decrypt(&mut t, k, &c, &oaep, b"other\0").rc, Rc::VALUE);
    let mut bad = c.clone();
    bad[100] ^= 1;
    assert_eq!(rsa_decrypt(&mut t, k, &bad, &oaep, label).rc, Rc::VALUE);
    assert_eq!(rsa_decrypt(&mut t, k, &c[1..], &oaep, label).rc, Rc::SIZE);
    // The rsa crate encrypts (the label includes its terminating zero).
    let mut rng = TestRng(0x1234_5678);
    let c = key
        .encrypt(
            &mut rng,
            rsa::Oaep::<sha2::Sha256>::new_with_label(&label[..]),
            b"from outside",
        )
        .unwrap();
    let mut r = rsa_decrypt(&mut t, k, &c, &oaep, label);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), b"from outside");
    // RSAES-PKCS1-v1_5 from the rsa crate.
    let c = key
        .encrypt(&mut rng, rsa::Pkcs1v15Encrypt, b"pkcs1 message")
        .unwrap();
    // (RSAES has no hash: the scheme is just its selector.)
    let mut r = rsa_decrypt(&mut t, k, &c, &RSAES.to_be_bytes(), b"");
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), b"pkcs1 message");
    // Raw RSA: the TPM's output is m^e mod n, decrypted back to k octets.
    let mut r = rsa_encrypt(&mut t, k, &[0, 0, 42], &scheme_bytes(None), b"");
    assert_eq!(r.rc, Rc::SUCCESS);
    let c = r.b2();
    let mut r = rsa_decrypt(&mut t, k, &c, &scheme_bytes(None), b"");
    assert_eq!(r.rc, Rc::SUCCESS);
    let m = r.b2();
    assert_eq!(m.len(), 256);
    assert!(m[..255].iter().all(|b| *b == 0) && m[255] == 42);
    // A label that does not end in zero: TPM_RC_VALUE on parameter 3.
    assert_eq!(
        rsa_encrypt(&mut t, k, b"m", &oaep, b"nozero").rc,
        Rc::VALUE.param(3)
    );
    assert_eq!(
        rsa_decrypt(&mut t, k, &c, &oaep, b"nozero").rc,
        Rc::VALUE.param(3)
    );
    // A message too long for OAEP-SHA256 (k - 2 hLen - 2 = 190).
    assert_eq!(
        rsa_encrypt(&mut t, k, &[1u8; 191], &oaep, b"").rc,
        Rc::VALUE
    );
    assert_eq!(
        rsa_encrypt(&mut t, k, &[1u8; 190], &oaep, b"").rc,
        Rc::SUCCESS
    );
    // An unimplemented padding selector: TPM_RC_VALUE on parameter 2.
    assert_eq!(
        rsa_encrypt(&mut t, k, b"m", &scheme_bytes(Some((RSASSA, SHA256))), b"").rc,
        Rc::VALUE.param(2)
    );
}

#[test]
fn part3_14_rsa_scheme_and_key_checks() {
    let mut t = tpm();
    let (k, _, _) = create_primary(
        &mut t,
        OWNER,
        &rsa_template(FIXED | SDO | USER_WITH_AUTH | DECRYPT, Some((OAEP, SHA256))),
        b"",
    );
    // The key's scheme fixes the padding.
    assert_eq!(
        rsa_encrypt(&mut t, k, b"m", &RSAES.to_be_bytes(), b"").rc,
        Rc::SCHEME.param(2)
    );
    assert_eq!(
        rsa_encrypt(&mut t, k, b"m", &scheme_bytes(Some((OAEP, SHA1))), b"").rc,
        Rc::SCHEME.param(2)
    );
    let mut r = rsa_encrypt(&mut t, k, b"m", &scheme_bytes(None), b"");
    assert_eq!(r.rc, Rc::SUCCESS);
    let c = r.b2();
    assert_eq!(
        rsa_decrypt(&mut t, k, &c, &scheme_bytes(None), b"").rc,
        Rc::SUCCESS
    );
    // A storage key (restricted) cannot decrypt for the caller.
    let (s, _, _) = create_primary(&mut t, OWNER, &rsa_storage_template(), b"");
    assert_eq!(
        rsa_decrypt(&mut t, s, &c, &scheme_bytes(None), b"").rc,
        Rc::ATTRIBUTES.handle(1)
    );
    // Not an RSA key.
    let (e, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    assert_eq!(
        rsa_encrypt(&mut t, e, b"m", &scheme_bytes(None), b"").rc,
        Rc::KEY.handle(1)
    );
}

#[test]
fn part3_14_ecdh_keygen_and_zgen_agree_with_p256() {
    use p256::elliptic_curve::group::Group as _;
    use p256::elliptic_curve::ops::Reduce;
    use p256::elliptic_curve::point::AffineCoordinates;

    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        OWNER,
        &ecc_template(FIXED | SDO | USER_WITH_AUTH | DECRYPT, 0x0003, None),
        b"",
    );
    let (qx, qy) = ecc_point(&public, 32);
    let point2b = |x: &[u8], y: &[u8]| {
        let mut inner = sized(x);
        inner.extend_from_slice(&sized(y));
        sized(&inner)
    };
    // KeyGen: z = [de]Qs, and ZGen with Qe gives the same z.
    let mut r = run(&mut t, &Cmd::new(0x163).handle(k), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let z = r.b2_raw();
    let qe = r.b2_raw();
    let mut r = run(&mut t, &Cmd::new(0x154).handle(k).pw(b"").bytes(&qe), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2_raw(), z);
    // ZGen against an ephemeral key of our own, checked with p256.
    let d = <p256::Scalar as Reduce<p256::FieldBytes>>::reduce(
        &p256::FieldBytes::try_from(&sha256(&[b"ephemeral"])[..]).unwrap(),
    );
    let q = (p256::ProjectivePoint::generator() * d).to_affine();
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&[&[4u8][..], &qx, &qy].concat()).unwrap();
    let expect = (p256::ProjectivePoint::from(*vk.as_affine()) * d).to_affine();
    let qy_bytes = q.y().to_vec();
    let mut r = run(
        &mut t,
        &Cmd::new(0x154)
            .handle(k)
            .pw(b"")
            .bytes(&point2b(&q.x(), &qy_bytes)),
        false,
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let _size = r.u16();
    assert_eq!(r.b2(), expect.x().to_vec());
    // A point off the curve: TPM_RC_ECC_POINT on parameter 1.
    let r = run(
        &mut t,
        &Cmd::new(0x154)
            .handle(k)
            .pw(b"")
            .bytes(&point2b(&[1u8; 32], &[2u8; 32])),
        false,
    );
    assert_eq!(r.rc, Rc::ECC_POINT.param(1));
    // An ECDSA key is not an ECDH key.
    let (s, _, _) = create_primary(
        &mut t,
        OWNER,
        &ecc_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN,
            0x0003,
            Some((ECDSA, SHA256)),
        ),
        b"",
    );
    assert_eq!(
        run(&mut t, &Cmd::new(0x154).handle(s).pw(b"").bytes(&qe), false).rc,
        Rc::ATTRIBUTES.handle(1)
    );
    // ECDH_KeyGen uses only the public key: a signing key works too (as in
    // the reference, and as the tpm2-tools suite expects).
    assert_eq!(
        run(&mut t, &Cmd::new(0x163).handle(s), false).rc,
        Rc::SUCCESS
    );
}

#[test]
fn part3_14_6_ecc_parameters_of_p256_and_p384() {
    use p256::elliptic_curve::point::AffineCoordinates;
    let mut t = tpm();
    let mut r = run(&mut t, &Cmd::new(0x178).u16(0x0003), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.u16(), 0x0003);
    assert_eq!(r.u16(), 256);
    let _kdf = (r.u16(), r.u16());
    assert_eq!(r.u16(), TPM_ALG_NULL); // sign scheme
    let p = r.b2();
    let a = r.b2();
    let _b = r.b2();
    let gx = r.b2();
    let gy = r.b2();
    let n = r.b2();
    let h = r.b2();
    // p = 2^256 - 2^224 + 2^192 + 2^96 - 1, a = p - 3.
    let mut expect_p = vec![0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1];
    expect_p.extend_from_slice(&[0; 12]);
    expect_p.extend_from_slice(&[0xFF; 12]);
    assert_eq!(p, expect_p);
    let mut expect_a = expect_p.clone();
    expect_a[31] = 0xFC;
    assert_eq!(a, expect_a);
    let g = p256::AffinePoint::GENERATOR;
    assert_eq!((gx, gy), (g.x().to_vec(), g.y().to_vec()));
    assert_eq!(n[..8], [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]);
    assert_eq!(h, [1]);
    // P-384.
    let mut r = run(&mut t, &Cmd::new(0x178).u16(0x0004), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!((r.u16(), r.u16()), (0x0004, 384));
    // Curves not implemented: TPM_RC_CURVE on parameter 1.
    for c in [0x0001u16, 0x0005, 0x0010, 0x0020] {
        assert_eq!(
            run(&mut t, &Cmd::new(0x178).u16(c), false).rc,
            Rc::CURVE.param(1)
        );
    }
}

// ------------------------------------------------------------ Symmetric

const AES_KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const PLAIN: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                     30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const IV: &str = "000102030405060708090a0b0c0d0e0f";
const CTR_IV: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// LoadExternal an AES-128 key (NULL hierarchy) with `mode` and attributes.
fn load_aes(t: &mut Tpm<TestPlatform>, key: &[u8], mode: u16, attrs: u32) -> u32 {
    let mut public = vec![0x00, 0x25, 0x00, 0x0B];
    public.extend_from_slice(&attrs.to_be_bytes());
    public.extend_from_slice(&[0, 0]);
    public.extend_from_slice(&[0x00, 0x06, 0x00, 0x80]);
    public.extend_from_slice(&mode.to_be_bytes());
    public.extend_from_slice(&sized(&sha256(&[key])));
    let mut sens = vec![0x00, 0x25];
    sens.extend_from_slice(&[0, 0]); // authValue
    sens.extend_from_slice(&[0, 0]); // seedValue
    sens.extend_from_slice(&sized(key));
    let c = Cmd::new(0x167)
        .bytes(&sized(&sens))
        .bytes(&sized(&public))
        .u32(NULL);
    let r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS, "LoadExternal");
    r.handle.unwrap()
}

fn encrypt_decrypt(
    t: &mut Tpm<TestPlatform>,
    k: u32,
    decrypt: bool,
    mode: u16,
    iv: &[u8],
    data: &[u8],
) -> Rsp {
    let c = Cmd::new(0x164)
        .handle(k)
        .pw(b"")
        .u8(u8::from(decrypt))
        .u16(mode)
        .b2(iv)
        .b2(data);
    run(t, &c, false)
}

fn encrypt_decrypt2(
    t: &mut Tpm<TestPlatform>,
    k: u32,
    decrypt: bool,
    mode: u16,
    iv: &[u8],
    data: &[u8],
) -> Rsp {
    let c = Cmd::new(0x193)
        .handle(k)
        .pw(b"")
        .b2(data)
        .u8(u8::from(decrypt))
        .u16(mode)
        .b2(iv);
    run(t, &c, false)
}

#[test]
fn part3_15_encrypt_decrypt_matches_sp800_38a_vectors() {
    let mut t = tpm();
    let k = load_aes(
        &mut t,
        &hex(AES_KEY),
        TPM_ALG_NULL,
        USER_WITH_AUTH | DECRYPT | SIGN,
    );
    let plain = hex(PLAIN);
    // SP 800-38A, F.1.1, F.2.1, F.3.13, F.4.1, F.5.1 (AES-128).
    let vectors: [(u16, &str, &str); 5] = [
        (
            0x0044,
            "",
            "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf\
             43b1cd7f598ece23881b00e3ed0306887b0c785e27e8ad3f8223207104725dd4",
        ),
        (
            0x0042,
            IV,
            "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2\
             73bed6b8e3c1743b7116e69e222295163ff1caa1681fac09120eca307586e1a7",
        ),
        (
            0x0043,
            IV,
            "3b3fd92eb72dad20333449f8e83cfb4ac8a64537a0b3a93fcde3cdad9f1ce58b\
             26751f67a3cbb140b1808cf187a4f4dfc04b05357c5d1c0eeac4c66f9ff7f2e6",
        ),
        (
            0x0041,
            IV,
            "3b3fd92eb72dad20333449f8e83cfb4a7789508d16918f03f53c52dac54ed825\
             9740051e9c5fecf64344f7a82260edcc304c6528f659c77866a510d9c1d6ae5e",
        ),
        (
            0x0040,
            CTR_IV,
            "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff\
             5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee",
        ),
    ];
    for (mode, iv, cipher) in vectors {
        let iv = hex(iv);
        let cipher = hex(cipher);
        for two in [false, true] {
            let f = if two {
                encrypt_decrypt2
            } else {
                encrypt_decrypt
            };
            let mut r = f(&mut t, k, false, mode, &iv, &plain);
            assert_eq!(r.rc, Rc::SUCCESS, "mode {mode:#x}");
            assert_eq!(r.b2(), cipher, "mode {mode:#x} encrypt");
            let iv_out = r.b2();
            match mode {
                0x0044 => assert!(iv_out.is_empty()),
                0x0042 | 0x0043 => assert_eq!(iv_out, cipher[48..]),
                0x0040 => {
                    let mut c = hex(CTR_IV);
                    c[15] = c[15].wrapping_add(4);
                    c[14] = c[14].wrapping_add(1); // 0xff + 4 carries
                    assert_eq!(iv_out, c);
                }
                _ => assert_eq!(iv_out.len(), 16),
            }
            let mut r = f(&mut t, k, true, mode, &iv, &cipher);
            assert_eq!(r.rc, Rc::SUCCESS);
            assert_eq!(r.b2(), plain, "mode {mode:#x} decrypt");
        }
        // Chaining: two calls with ivOut give the one-shot result.
        if mode != 0x0044 {
            let mut r = encrypt_decrypt(&mut t, k, false, mode, &iv, &plain[..32]);
            let c1 = r.b2();
            let iv2 = r.b2();
            let mut r = encrypt_decrypt(&mut t, k, false, mode, &iv2, &plain[32..]);
            assert_eq!([c1, r.b2()].concat(), cipher, "mode {mode:#x} chained");
        }
    }
}

#[test]
fn part3_15_encrypt_decrypt_checks() {
    let mut t = tpm();
    let key = hex(AES_KEY);
    let iv = hex(IV);
    let any = load_aes(&mut t, &key, TPM_ALG_NULL, USER_WITH_AUTH | DECRYPT | SIGN);
    // A key with no mode needs one.
    assert_eq!(
        encrypt_decrypt(&mut t, any, false, TPM_ALG_NULL, &iv, &[0; 16]).rc,
        Rc::MODE.param(2)
    );
    assert_eq!(
        encrypt_decrypt2(&mut t, any, false, TPM_ALG_NULL, &iv, &[0; 16]).rc,
        Rc::MODE.param(3)
    );
    // Not a cipher mode.
    assert_eq!(
        encrypt_decrypt(&mut t, any, false, SHA256, &iv, &[0; 16]).rc,
        Rc::MODE.param(2)
    );
    // IV sizes and whole blocks.
    assert_eq!(
        encrypt_decrypt(&mut t, any, false, 0x0042, &iv[..8], &[0; 16]).rc,
        Rc::SIZE.param(3)
    );
    assert_eq!(
        encrypt_decrypt(&mut t, any, false, 0x0044, &iv, &[0; 16]).rc,
        Rc::SIZE.param(3)
    );
    assert_eq!(
        encrypt_decrypt(&mut t, any, false, 0x0042, &iv, &[0; 15]).rc,
        Rc::SIZE.param(4)
    );
    assert_eq!(
        encrypt_decrypt2(&mut t, any, false, 0x0042, &iv, &[0; 15]).rc,
        Rc::SIZE.param(1)
    );
    // CFB accepts a partial block.
    assert_eq!(
        encrypt_decrypt(&mut t, any, false, 0x0043, &iv, &[0; 15]).rc,
        Rc::SUCCESS
    );
    // A key with a mode allows only that mode (or NULL).
    let cfb = load_aes(&mut t, &key, 0x0043, USER_WITH_AUTH | DECRYPT | SIGN);
    assert_eq!(
        encrypt_decrypt(&mut t, cfb, false, 0x0042, &iv, &[0; 16]).rc,
        Rc::MODE.param(2)
    );
    let mut r = encrypt_decrypt(&mut t, cfb, false, TPM_ALG_NULL, &iv, &hex(PLAIN));
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2()[..16], hex("3b3fd92eb72dad20333449f8e83cfb4a"));
    // Encryption needs sign, decryption needs decrypt.
    let dec_only = load_aes(&mut t, &key, TPM_ALG_NULL, USER_WITH_AUTH | DECRYPT);
    assert_eq!(
        encrypt_decrypt(&mut t, dec_only, false, 0x0043, &iv, &[0; 16]).rc,
        Rc::ATTRIBUTES.handle(1)
    );
    assert_eq!(
        encrypt_decrypt(&mut t, dec_only, true, 0x0043, &iv, &[0; 16]).rc,
        Rc::SUCCESS
    );
    // Not a symmetric key.
    let (e, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    assert_eq!(
        encrypt_decrypt(&mut t, e, false, 0x0043, &iv, &[0; 16]).rc,
        Rc::KEY.handle(1)
    );
}

// ------------------------------------------------------------ Sequences

fn seq_start(t: &mut Tpm<TestPlatform>, auth: &[u8], alg: u16) -> u32 {
    let r = run(t, &Cmd::new(0x186).b2(auth).u16(alg), true);
    assert_eq!(r.rc, Rc::SUCCESS);
    r.handle.unwrap()
}

fn seq_update(t: &mut Tpm<TestPlatform>, h: u32, auth: &[u8], data: &[u8]) -> Rc {
    run(t, &Cmd::new(0x15C).handle(h).pw(auth).b2(data), false).rc
}

fn seq_complete(t: &mut Tpm<TestPlatform>, h: u32, auth: &[u8], data: &[u8], hier: u32) -> Rsp {
    run(
        t,
        &Cmd::new(0x13E).handle(h).pw(auth).b2(data).u32(hier),
        false,
    )
}

#[test]
fn part3_17_hash_sequence_matches_sha256_and_yields_a_usable_ticket() {
    let mut t = tpm();
    let h = seq_start(&mut t, b"seq", SHA256);
    assert_eq!(h >> 24, 0x80);
    let chunks: [&[u8]; 3] = [&[7u8; 1024], b"middle", &[9u8; 500]];
    for c in chunks {
        assert_eq!(seq_update(&mut t, h, b"seq", c), Rc::SUCCESS);
    }
    // Sequences are noDA: a wrong password is TPM_RC_BAD_AUTH.
    assert_eq!(
        seq_update(&mut t, h, b"wrong", b"x"),
        Rc::BAD_AUTH.session(1)
    );
    let mut r = seq_complete(&mut t, h, b"seq", b"end", OWNER);
    assert_eq!(r.rc, Rc::SUCCESS);
    let digest = r.b2();
    let ticket = r.rest();
    let mut all = Vec::new();
    for c in chunks {
        all.extend_from_slice(c);
    }
    all.extend_from_slice(b"end");
    assert_eq!(digest, sha256(&[&all]));
    assert_eq!(ticket[..6], [0x80, 0x24, 0x40, 0x00, 0x00, 0x01]);
    // The sequence is gone.
    assert_eq!(seq_update(&mut t, h, b"seq", b"x"), Rc::REFERENCE_H0);
    // The ticket lets a restricted key sign the digest.
    let (k, _, _) = create_primary(
        &mut t,
        OWNER,
        &ecc_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN | RESTRICTED,
            0x0003,
            Some((ECDSA, SHA256)),
        ),
        b"",
    );
    assert_eq!(
        sign(&mut t, k, &digest, &scheme_bytes(None), &ticket).rc,
        Rc::SUCCESS
    );

    // A first block that starts with TPM_GENERATED_VALUE gets a NULL ticket.
    let h = seq_start(&mut t, b"", SHA256);
    assert_eq!(seq_update(&mut t, h, b"", b"\xFFTCG\x80\x18"), Rc::SUCCESS);
    let mut r = seq_complete(&mut t, h, b"", b"more", OWNER);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = r.b2();
    assert_eq!(r.rest(), null_hashcheck());
    // So does a sequence whose only data is shorter than 4 octets.
    let h = seq_start(&mut t, b"", SHA256);
    let mut r = seq_complete(&mut t, h, b"", b"abc", OWNER);
    assert_eq!(r.b2(), sha256(&[b"abc"]));
    assert_eq!(r.rest(), null_hashcheck());
    // TPM_RH_NULL asks for no ticket.
    let h = seq_start(&mut t, b"", SHA256);
    let mut r = seq_complete(&mut t, h, b"", b"abcdef", NULL);
    let _ = r.b2();
    assert_eq!(r.rest(), null_hashcheck());
}

#[test]
fn part3_17_hmac_sequence_matches_hmac_sha256() {
    let mut t = tpm();
    let k = load_hmac_key(&mut t, b"sequence key", None);
    // The key has no scheme: HMAC_Start needs a hash.
    let r = run(
        &mut t,
        &Cmd::new(0x15B).handle(k).pw(b"").b2(b"").u16(TPM_ALG_NULL),
        true,
    );
    assert_eq!(r.rc, Rc::VALUE.param(2));
    let r = run(
        &mut t,
        &Cmd::new(0x15B).handle(k).pw(b"").b2(b"a").u16(SHA256),
        true,
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let h = r.handle.unwrap();
    assert_eq!(seq_update(&mut t, h, b"a", b"hello "), Rc::SUCCESS);
    let mut r = seq_complete(&mut t, h, b"a", b"world", OWNER);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), hmac_sha256(b"sequence key", b"hello world"));
    assert_eq!(r.rest(), null_hashcheck());
    // HMAC_Start on a key that is not a keyed hash: TPM_RC_TYPE.
    let (e, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    let r = run(
        &mut t,
        &Cmd::new(0x15B).handle(e).pw(b"").b2(b"").u16(SHA256),
        true,
    );
    assert_eq!(r.rc, Rc::TYPE.handle(1));
}

fn pcr_read_sha256(t: &mut Tpm<TestPlatform>, pcr: u32) -> Vec<u8> {
    let mut sel = [0u8; 3];
    sel[(pcr / 8) as usize] |= 1 << (pcr % 8);
    let c = Cmd::new(0x17E).u32(1).u16(SHA256).u8(3).bytes(&sel);
    let mut r = run(t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _counter = r.u32();
    let _sel = r.take(4 + 2 + 1 + 3);
    assert_eq!(r.u32(), 1);
    r.b2()
}

#[test]
fn part3_17_9_event_sequence_extends_every_bank() {
    let mut t = tpm();
    let h = seq_start(&mut t, b"ev", TPM_ALG_NULL);
    assert_eq!(seq_update(&mut t, h, b"ev", b"event "), Rc::SUCCESS);
    // An event sequence cannot be completed as a hash sequence.
    assert_eq!(
        seq_complete(&mut t, h, b"ev", b"", OWNER).rc,
        Rc::MODE.handle(1)
    );
    let before = pcr_read_sha256(&mut t, 16);
    let c = Cmd::new(0x185)
        .handle(16)
        .handle(h)
        .pw(b"")
        .pw(b"ev")
        .b2(b"data");
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.u32(), 4);
    let mut sha256_digest = Vec::new();
    for (alg, len) in [(SHA1, 20), (SHA256, 32), (SHA384, 48), (0x000D, 64)] {
        assert_eq!(r.u16(), alg);
        let d = r.take(len);
        let expect = match alg {
            SHA1 => {
                use sha1::Digest as _;
                sha1::Sha1::digest(b"event data").to_vec()
            }
            SHA256 => sha256(&[b"event data"]),
            SHA384 => sha2::Sha384::digest(b"event data").to_vec(),
            _ => sha2::Sha512::digest(b"event data").to_vec(),
        };
        assert_eq!(d, expect);
        if alg == SHA256 {
            sha256_digest = d;
        }
    }
    assert_eq!(
        pcr_read_sha256(&mut t, 16),
        sha256(&[&before, &sha256_digest])
    );
    // The sequence was flushed.
    assert_eq!(seq_update(&mut t, h, b"ev", b"x"), Rc::REFERENCE_H0);
    // A hash sequence is not an event sequence.
    let h = seq_start(&mut t, b"", SHA256);
    let c = Cmd::new(0x185).handle(16).handle(h).pw(b"").pw(b"").b2(b"");
    assert_eq!(run(&mut t, &c, false).rc, Rc::MODE.handle(2));
    // An ordinary object is not a sequence.
    let (o, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    assert_eq!(seq_update(&mut t, o, b"", b"x"), Rc::MODE.handle(1));
    // FlushContext removes a sequence.
    assert_eq!(run(&mut t, &Cmd::new(0x165).u32(h), false).rc, Rc::SUCCESS);
    assert_eq!(seq_update(&mut t, h, b"", b"x"), Rc::REFERENCE_H0);
}

/// ContextSave, FlushContext, ContextLoad: the sequence comes back under a
/// (possibly new) handle.
fn save_flush_load(t: &mut Tpm<TestPlatform>, h: u32) -> u32 {
    let mut r = run(t, &Cmd::new(0x162).handle(h), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let context = r.rest();
    assert_eq!(context[8..12], 0x8000_0001u32.to_be_bytes());
    assert_eq!(context[12..16], NULL.to_be_bytes());
    assert_eq!(run(t, &Cmd::new(0x165).u32(h), false).rc, Rc::SUCCESS);
    let r = run(t, &Cmd::new(0x161).bytes(&context), true);
    assert_eq!(r.rc, Rc::SUCCESS);
    r.handle.unwrap()
}

#[test]
fn part3_28_sequences_survive_context_save_and_load() {
    let mut t = tpm();
    // Hash sequence: the ticket state travels too.
    let h = seq_start(&mut t, b"pw", SHA256);
    assert_eq!(seq_update(&mut t, h, b"pw", b"first block"), Rc::SUCCESS);
    let h = save_flush_load(&mut t, h);
    assert_eq!(seq_update(&mut t, h, b"pw", b" second"), Rc::SUCCESS);
    let mut r = seq_complete(&mut t, h, b"pw", b" end", OWNER);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), sha256(&[b"first block second end"]));
    assert_eq!(r.rest()[..6], [0x80, 0x24, 0x40, 0, 0, 1]);
    // HMAC sequence.
    let k = load_hmac_key(&mut t, b"key", Some(SHA256));
    let r = run(
        &mut t,
        &Cmd::new(0x15B).handle(k).pw(b"").b2(b"").u16(TPM_ALG_NULL),
        true,
    );
    let h = r.handle.unwrap();
    assert_eq!(seq_update(&mut t, h, b"", b"abc"), Rc::SUCCESS);
    let h = save_flush_load(&mut t, h);
    let mut r = seq_complete(&mut t, h, b"", b"def", NULL);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.b2(), hmac_sha256(b"key", b"abcdef"));
    // Event sequence.
    let h = seq_start(&mut t, b"", TPM_ALG_NULL);
    assert_eq!(seq_update(&mut t, h, b"", b"ev"), Rc::SUCCESS);
    let h = save_flush_load(&mut t, h);
    let c = Cmd::new(0x185)
        .handle(NULL)
        .handle(h)
        .pw(b"")
        .pw(b"")
        .b2(b"ent");
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.u32(), 4);
    let _ = r.take(22);
    assert_eq!(r.u16(), SHA256);
    assert_eq!(r.take(32), sha256(&[b"event"]));
    // A saved sequence does not survive a TPM Reset (NULL hierarchy).
    let h = seq_start(&mut t, b"", SHA256);
    let mut r = run(&mut t, &Cmd::new(0x162).handle(h), false);
    let context = r.rest();
    t.reset();
    assert_eq!(
        t.execute(0, &vtpm_core::testing::STARTUP_CLEAR)[6..10],
        [0; 4]
    );
    let r = run(&mut t, &Cmd::new(0x161).bytes(&context), true);
    assert_eq!(r.rc, Rc::INTEGRITY.param(1));
}

#[test]
fn part3_17_sequences_share_the_object_slots() {
    let mut t = tpm();
    let max = t.config().max_loaded_objects;
    let mut handles = Vec::new();
    for _ in 0..max - 1 {
        handles.push(seq_start(&mut t, b"", SHA256));
    }
    let (o, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    assert!(!handles.contains(&o));
    let r = run(&mut t, &Cmd::new(0x186).b2(b"").u16(SHA256), true);
    assert_eq!(r.rc, Rc::OBJECT_MEMORY);
    assert_eq!(
        run(&mut t, &Cmd::new(0x165).u32(handles[3]), false).rc,
        Rc::SUCCESS
    );
    assert_eq!(seq_start(&mut t, b"", SHA1), handles[3]);
}

// ----------------------------------------------------------- Attestation

struct Attest {
    raw: Vec<u8>,
    kind: u16,
    signer: Vec<u8>,
    extra: Vec<u8>,
    clock: u64,
    reset: u32,
    restart: u32,
    firmware: u64,
    rest: Vec<u8>,
}

fn parse_attest(raw: Vec<u8>) -> Attest {
    let mut r = Rd::new(raw.clone());
    assert_eq!(r.u32(), 0xFF54_4347, "magic");
    let kind = r.u16();
    let signer = r.b2();
    let extra = r.b2();
    let clock = u64::from_be_bytes(r.take(8).try_into().unwrap());
    let reset = r.u32();
    let restart = r.u32();
    assert_eq!(r.take(1), [1], "safe");
    let firmware = u64::from_be_bytes(r.take(8).try_into().unwrap());
    let rest = r.rest();
    Attest {
        raw,
        kind,
        signer,
        extra,
        clock,
        reset,
        restart,
        firmware,
        rest,
    }
}

/// `TPM_PT_FIRMWARE_VERSION_1 << 32 | TPM_PT_FIRMWARE_VERSION_2`.
fn firmware_version(t: &mut Tpm<TestPlatform>) -> u64 {
    let c = Cmd::new(0x17A).u32(6).u32(0x10B).u32(2);
    let mut r = run(t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _more = r.take(1);
    assert_eq!(r.u32(), 6);
    assert_eq!(r.u32(), 2);
    assert_eq!(r.u32(), 0x10B);
    let v1 = r.u32();
    assert_eq!(r.u32(), 0x10C);
    let v2 = r.u32();
    u64::from(v1) << 32 | u64::from(v2)
}

/// ReadClock: (clock, resetCount, restartCount).
fn read_clock(t: &mut Tpm<TestPlatform>) -> (u64, u32, u32) {
    let mut r = run(t, &Cmd::new(0x181), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _time = r.take(8);
    let clock = u64::from_be_bytes(r.take(8).try_into().unwrap());
    (clock, r.u32(), r.u32())
}

fn quote(t: &mut Tpm<TestPlatform>, k: u32, qualifying: &[u8], scheme: &[u8], pcrs: &[u8]) -> Rsp {
    let c = Cmd::new(0x158)
        .handle(k)
        .pw(b"")
        .b2(qualifying)
        .bytes(scheme)
        .bytes(pcrs);
    run(t, &c, false)
}

#[test]
fn part3_18_4_quote_is_signed_over_the_pcr_digest() {
    let mut t = tpm();
    // An attestation key in the endorsement hierarchy: nothing obfuscated.
    let (k, public, _) = create_primary(
        &mut t,
        ENDORSEMENT,
        &ecc_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN | RESTRICTED,
            0x0003,
            Some((ECDSA, SHA256)),
        ),
        b"",
    );
    let point = ecc_point(&public, 32);
    let (_, _, qn) = read_public(&mut t, k);
    // Extend PCR 16 so the digest is not all zeros.
    let mut ext = Cmd::new(0x182).handle(16).pw(b"").u32(1).u16(SHA256);
    ext = ext.bytes(&[0x11; 32]);
    assert_eq!(run(&mut t, &ext, false).rc, Rc::SUCCESS);
    // PCRs 0, 1 and 16 of the SHA-256 bank.
    let mut pcrs = 1u32.to_be_bytes().to_vec();
    pcrs.extend_from_slice(&SHA256.to_be_bytes());
    pcrs.extend_from_slice(&[3, 0x03, 0x00, 0x01]);
    let mut r = quote(&mut t, k, b"nonce", &scheme_bytes(None), &pcrs);
    assert_eq!(r.rc, Rc::SUCCESS);
    let raw = r.b2();
    assert_eq!((r.u16(), r.u16()), (ECDSA, SHA256));
    let (sr, ss) = (r.b2(), r.b2());
    verify_p256_ecdsa(&point, &sha256(&[&raw]), &sr, &ss);
    let a = parse_attest(raw);
    assert_eq!(a.kind, 0x8018);
    assert_eq!(a.signer, qn);
    assert_eq!(a.extra, b"nonce");
    let (clock, reset, restart) = read_clock(&mut t);
    assert!(a.clock <= clock);
    assert_eq!((a.reset, a.restart), (reset, restart));
    assert_eq!(a.firmware, firmware_version(&mut t));
    let expect_digest = sha256(&[
        &pcr_read_sha256(&mut t, 0),
        &pcr_read_sha256(&mut t, 1),
        &pcr_read_sha256(&mut t, 16),
    ]);
    let mut q = Rd::new(a.rest.clone());
    assert_eq!(q.take(pcrs.len()), pcrs);
    assert_eq!(q.b2(), expect_digest);
    assert!(q.rest().is_empty());
    assert!(!a.raw.is_empty());

    // A key in the owner hierarchy gets obfuscated counters and version.
    let (ok, _, _) = create_primary(
        &mut t,
        OWNER,
        &ecc_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN | RESTRICTED,
            0x0003,
            Some((ECDSA, SHA256)),
        ),
        b"",
    );
    let mut r = quote(&mut t, ok, b"", &scheme_bytes(None), &pcrs);
    assert_eq!(r.rc, Rc::SUCCESS);
    let b = parse_attest(r.b2());
    assert_ne!(b.firmware, a.firmware);
    assert_ne!((b.reset, b.restart), (a.reset, a.restart));
    // ... the same obfuscation every time for the same key.
    let mut r = quote(&mut t, ok, b"", &scheme_bytes(None), &pcrs);
    let c = parse_attest(r.b2());
    assert_eq!(
        (c.firmware, c.reset, c.restart),
        (b.firmware, b.reset, b.restart)
    );

    // Quote needs a hash: TPM_RH_NULL signs nothing and has none.
    assert_eq!(
        quote(
            &mut t,
            NULL,
            b"",
            &scheme_bytes(Some((ECDSA, SHA256))),
            &pcrs
        )
        .rc,
        Rc::SCHEME.param(2)
    );
    // The restricted key's scheme cannot be overridden.
    assert_eq!(
        quote(
            &mut t,
            k,
            b"",
            &scheme_bytes(Some((ECSCHNORR, SHA256))),
            &pcrs
        )
        .rc,
        Rc::SCHEME.param(2)
    );
    // A storage key cannot sign: TPM_RC_KEY.
    let (s, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    assert_eq!(
        quote(&mut t, s, b"", &scheme_bytes(None), &pcrs).rc,
        Rc::KEY.handle(1)
    );
}

#[test]
fn part3_18_2_certify_with_a_key_and_with_null() {
    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        ENDORSEMENT,
        &rsa_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN | RESTRICTED,
            Some((RSAPSS, SHA256)),
        ),
        b"",
    );
    let key = rsa_public_key(&rsa_modulus(&public));
    let (o, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    let (_, name, qn) = read_public(&mut t, o);
    let certify = |t: &mut Tpm<TestPlatform>, sign_h: u32, scheme: &[u8]| {
        let c = Cmd::new(0x148)
            .handle(o)
            .handle(sign_h)
            .pw(b"")
            .pw(b"")
            .b2(b"q")
            .bytes(scheme);
        run(t, &c, false)
    };
    let mut r = certify(&mut t, k, &scheme_bytes(None));
    assert_eq!(r.rc, Rc::SUCCESS);
    let raw = r.b2();
    assert_eq!((r.u16(), r.u16()), (RSAPSS, SHA256));
    key.verify(
        rsa::pss::Pss::<sha2::Sha256>::new(),
        &sha256(&[&raw]),
        &r.b2(),
    )
    .expect("Certify signature verifies");
    let a = parse_attest(raw);
    assert_eq!(a.kind, 0x8017);
    let mut rest = Rd::new(a.rest);
    assert_eq!(rest.b2(), name);
    assert_eq!(rest.b2(), qn);
    // TPM_RH_NULL: the attestation comes back with the NULL Signature, and
    // the signer is the NULL handle; the counters are obfuscated.
    let mut r = certify(&mut t, NULL, &scheme_bytes(None));
    assert_eq!(r.rc, Rc::SUCCESS);
    let a = parse_attest(r.b2());
    assert_eq!(r.rest(), TPM_ALG_NULL.to_be_bytes());
    assert_eq!(a.signer, NULL.to_be_bytes());
    assert_eq!(a.extra, b"q");
    assert_ne!(a.firmware, firmware_version(&mut t));
    // A signing key that is not one: TPM_RC_KEY on handle 2.
    assert_eq!(
        certify(&mut t, o, &scheme_bytes(None)).rc,
        Rc::KEY.handle(2)
    );
}

#[test]
fn part3_18_3_certify_creation_checks_the_ticket() {
    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        ENDORSEMENT,
        &ecc_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN | RESTRICTED,
            0x0003,
            Some((ECDSA, SHA256)),
        ),
        b"",
    );
    let point = ecc_point(&public, 32);
    // CreatePrimary returns creationHash and the creation ticket.
    let c = Cmd::new(0x131)
        .handle(OWNER)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&ecc_storage_template()))
        .b2(b"outside")
        .u32(0);
    let mut r = run(&mut t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS);
    let o = r.handle.unwrap();
    let _public = r.b2_raw();
    let _data = r.b2();
    let creation_hash = r.b2();
    let ticket_head = r.take(6);
    let ticket_digest = r.b2();
    let name = r.b2();
    let mut ticket = ticket_head.clone();
    ticket.extend_from_slice(&sized(&ticket_digest));
    let cc = |t: &mut Tpm<TestPlatform>, hash: &[u8], ticket: &[u8]| {
        let c = Cmd::new(0x14A)
            .handle(k)
            .handle(o)
            .pw(b"")
            .b2(b"qd")
            .b2(hash)
            .u16(TPM_ALG_NULL)
            .bytes(ticket);
        run(t, &c, false)
    };
    let mut r = cc(&mut t, &creation_hash, &ticket);
    assert_eq!(r.rc, Rc::SUCCESS);
    let raw = r.b2();
    let _ = (r.u16(), r.u16());
    let (sr, ss) = (r.b2(), r.b2());
    verify_p256_ecdsa(&point, &sha256(&[&raw]), &sr, &ss);
    let a = parse_attest(raw);
    assert_eq!(a.kind, 0x801A);
    let mut rest = Rd::new(a.rest);
    assert_eq!(rest.b2(), name);
    assert_eq!(rest.b2(), creation_hash);
    // Another hash, a NULL ticket or a ticket of another hierarchy fail.
    let mut other = creation_hash.clone();
    other[0] ^= 1;
    assert_eq!(cc(&mut t, &other, &ticket).rc, Rc::TICKET.param(4));
    let mut null_ticket = 0x8021u16.to_be_bytes().to_vec();
    null_ticket.extend_from_slice(&NULL.to_be_bytes());
    null_ticket.extend_from_slice(&[0, 0]);
    assert_eq!(
        cc(&mut t, &creation_hash, &null_ticket).rc,
        Rc::TICKET.param(4)
    );
    let mut moved = ticket.clone();
    moved[2..6].copy_from_slice(&ENDORSEMENT.to_be_bytes());
    assert_eq!(cc(&mut t, &creation_hash, &moved).rc, Rc::TICKET.param(4));
    // A hashcheck ticket is not a creation ticket: TPM_RC_TAG.
    let mut wrong_tag = ticket.clone();
    wrong_tag[1] = 0x24;
    assert_eq!(cc(&mut t, &creation_hash, &wrong_tag).rc, Rc::TAG.param(4));
}

#[test]
fn part3_18_7_get_time_attests_time_and_clock() {
    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        ENDORSEMENT,
        &ecc_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN | RESTRICTED,
            0x0003,
            Some((ECSCHNORR, SHA256)),
        ),
        b"",
    );
    let _ = public;
    let c = Cmd::new(0x14C)
        .handle(ENDORSEMENT)
        .handle(k)
        .pw(b"")
        .pw(b"")
        .b2(b"tick")
        .u16(TPM_ALG_NULL);
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let raw = r.b2();
    assert_eq!((r.u16(), r.u16()), (ECSCHNORR, SHA256));
    let a = parse_attest(raw);
    assert_eq!(a.kind, 0x8019);
    assert_eq!(a.extra, b"tick");
    let mut rest = Rd::new(a.rest);
    let _time = rest.take(8);
    let clock = u64::from_be_bytes(rest.take(8).try_into().unwrap());
    assert_eq!(clock, a.clock);
    let _ = rest.take(9);
    let fw = u64::from_be_bytes(rest.take(8).try_into().unwrap());
    assert_eq!(fw, firmware_version(&mut t));
    // The privacy administrator is the endorsement hierarchy only.
    let c = Cmd::new(0x14C)
        .handle(OWNER)
        .handle(k)
        .pw(b"")
        .pw(b"")
        .b2(b"")
        .u16(TPM_ALG_NULL);
    assert_eq!(run(&mut t, &c, false).rc, Rc::VALUE.handle(1));
}

// ----------------------------------------------------------------- Clock

#[test]
fn part3_29_clock_set_moves_forward_only_and_is_committed() {
    let mut t = tpm();
    let (c0, _, _) = read_clock(&mut t);
    let set = |t: &mut Tpm<TestPlatform>, v: u64| {
        let c = Cmd::new(0x128)
            .handle(OWNER)
            .pw(b"")
            .u32((v >> 32) as u32)
            .u32(v as u32);
        run(t, &c, false).rc
    };
    let commits = t.platform().commits;
    assert_eq!(set(&mut t, c0 + 1_000_000), Rc::SUCCESS);
    assert!(t.platform().commits > commits);
    let (c1, _, _) = read_clock(&mut t);
    assert!(c1 >= c0 + 1_000_000 && c1 < c0 + 1_000_100);
    assert_eq!(set(&mut t, c0), Rc::VALUE.param(1));
    assert_eq!(set(&mut t, 0xFFFF_0000_0000_0001), Rc::VALUE.param(1));
    // The committed state carries the clock across a reload.
    let state = t.platform().committed.clone().unwrap();
    let mut t2 = Tpm::load(TestPlatform::new(9), Default::default(), &state).unwrap();
    t2.power_on();
    assert_eq!(
        t2.execute(0, &vtpm_core::testing::STARTUP_CLEAR)[6..10],
        [0; 4]
    );
    let (c2, _, _) = read_clock(&mut t2);
    assert!(c2 >= c0 + 1_000_000);
    // Platform authorization works too; lockout is not a provisioning handle.
    let c = Cmd::new(0x128)
        .handle(0x4000_000C)
        .pw(b"")
        .u32(((c1 + 5_000_000) >> 32) as u32)
        .u32((c1 + 5_000_000) as u32);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let c = Cmd::new(0x128).handle(0x4000_000A).pw(b"").u32(0).u32(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::VALUE.handle(1));
}

#[test]
fn part3_29_3_clock_rate_adjust_scales_clock() {
    let mut t = tpm();
    let adjust = |t: &mut Tpm<TestPlatform>, a: i8| {
        let c = Cmd::new(0x130).handle(0x4000_000C).pw(b"").u8(a as u8);
        run(t, &c, false).rc
    };
    // 15 coarse steps faster (15 %) are allowed, a 16th is not.
    for _ in 0..15 {
        assert_eq!(adjust(&mut t, 3), Rc::SUCCESS);
    }
    assert_eq!(adjust(&mut t, 3), Rc::VALUE.param(1));
    assert_eq!(adjust(&mut t, 4), Rc::VALUE.param(1));
    let (c0, _, _) = read_clock(&mut t);
    t.platform_mut().now_ms += 100_000;
    let (c1, _, _) = read_clock(&mut t);
    let d = c1 - c0;
    assert!((114_990..=115_100).contains(&d), "advanced {d}");
    // Back to nominal: fine and medium steps combine.
    for _ in 0..15 {
        assert_eq!(adjust(&mut t, -3), Rc::SUCCESS);
    }
    assert_eq!(adjust(&mut t, 2), Rc::SUCCESS);
    assert_eq!(adjust(&mut t, -2), Rc::SUCCESS);
    assert_eq!(adjust(&mut t, 0), Rc::SUCCESS);
    let (c2, _, _) = read_clock(&mut t);
    t.platform_mut().now_ms += 100_000;
    let (c3, _, _) = read_clock(&mut t);
    assert!((100_000..=100_010).contains(&(c3 - c2)));
}

/// Part 2, 10.6.7 eq. (7) and 10.6.3 eq. (4): hashcheck and creation
/// tickets are HMACs with the context integrity hash (TPM_PT_CONTEXT_HASH,
/// SHA-256 here), whatever hash made the digest or names the object: 32
/// octets for SHA-1 and SHA-384 digests too, and a SHA-384 ticket still
/// lets a restricted SHA-384 key sign.
#[test]
fn part2_10_6_tickets_are_hmacs_with_the_context_hash() {
    let mut t = tpm();
    // TPM_PT_CONTEXT_HASH.
    let mut r = run(
        &mut t,
        &Cmd::new(0x17A).u32(6).u32(0x100 + 26).u32(1),
        false,
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = (r.take(1), r.u32(), r.u32());
    assert_eq!((r.u32(), r.u32()), (0x100 + 26, u32::from(SHA256)));
    for (hash, size) in [(SHA1, 20), (SHA256, 32), (SHA384, 48)] {
        let c = Cmd::new(0x17D).b2(b"data").u16(hash).u32(OWNER);
        let mut r = run(&mut t, &c, false);
        assert_eq!(r.rc, Rc::SUCCESS);
        assert_eq!(r.b2().len(), size);
        assert_eq!(r.take(6)[..2], [0x80, 0x24]);
        assert_eq!(r.b2().len(), 32, "TPM2_Hash ticket for hash {hash:#x}");
    }
    // A hash sequence with SHA-384: also a 32-octet ticket.
    let seq = seq_start(&mut t, b"", SHA384);
    let mut r = seq_complete(&mut t, seq, b"", b"some data", OWNER);
    assert_eq!(r.rc, Rc::SUCCESS);
    let digest = r.b2();
    assert_eq!(digest.len(), 48);
    let ticket = r.rest();
    assert_eq!(ticket.len(), 6 + 2 + 32);
    // The SHA-384 ticket is good for a restricted RSASSA-SHA384 key.
    let (k, public, _) = create_primary(
        &mut t,
        OWNER,
        &rsa_template(
            FIXED | SDO | USER_WITH_AUTH | SIGN | RESTRICTED,
            Some((RSASSA, SHA384)),
        ),
        b"",
    );
    let mut r = sign(&mut t, k, &digest, &scheme_bytes(None), &ticket);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = (r.u16(), r.u16());
    rsa_public_key(&rsa_modulus(&public))
        .verify(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), &digest, &r.b2())
        .unwrap();
    // A creation ticket for an object named with SHA-384: 32 octets, and
    // CertifyCreation accepts it.
    let mut tmpl = ecc_template(FIXED | SDO | USER_WITH_AUTH | SIGN, 0x0003, None);
    tmpl[2..4].copy_from_slice(&SHA384.to_be_bytes());
    let c = Cmd::new(0x131)
        .handle(OWNER)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&tmpl))
        .b2(b"")
        .u32(0);
    let mut r = run(&mut t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS);
    let o = r.handle.unwrap();
    let _ = (r.b2_raw(), r.b2());
    let creation_hash = r.b2();
    assert_eq!(creation_hash.len(), 48);
    let mut ticket = r.take(6);
    assert_eq!(ticket[..2], [0x80, 0x21]);
    let mac = r.b2();
    assert_eq!(mac.len(), 32, "creation ticket HMAC size");
    ticket.extend_from_slice(&sized(&mac));
    let c = Cmd::new(0x14A)
        .handle(k)
        .handle(o)
        .pw(b"")
        .b2(b"")
        .b2(&creation_hash)
        .u16(TPM_ALG_NULL)
        .bytes(&ticket);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
}

/// Part 3, 12.3.1: "The Qualified Name for the object will be the same as
/// its Name" for an object loaded with TPM2_LoadExternal, in any hierarchy.
#[test]
fn part3_12_3_external_qualified_name_is_the_name() {
    let mut t = tpm();
    let (_, public, _) = create_primary(&mut t, OWNER, &ecc_signing_template(), b"");
    for hierarchy in [OWNER, NULL] {
        let c = Cmd::new(0x167).u16(0).bytes(&public).u32(hierarchy);
        let r = run(&mut t, &c, true);
        assert_eq!(r.rc, Rc::SUCCESS);
        let (_, name, qn) = read_public(&mut t, r.handle.unwrap());
        assert_eq!(name.len(), 34);
        assert_eq!(qn, name, "hierarchy {hierarchy:#x}");
    }
}

/// Part 2, 10.10.2: the NV copy of Clock is updated no less often than
/// every 2^22 ms, and TPM_PT_CLOCK_UPDATE reports the interval. A command
/// that changes nothing else commits the state when Clock has crossed an
/// interval boundary since the last commit, and not otherwise.
#[test]
fn part2_10_10_2_clock_reaches_nv_every_clock_update_interval() {
    let mut t = tpm();
    let mut r = run(
        &mut t,
        &Cmd::new(0x17A).u32(6).u32(0x100 + 25).u32(1),
        false,
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = (r.take(1), r.u32(), r.u32());
    assert_eq!((r.u32(), r.u32()), (0x100 + 25, 1 << 22));
    let commits = t.platform().commits;
    assert_eq!(run(&mut t, &Cmd::new(0x17B).u16(8), false).rc, Rc::SUCCESS);
    assert_eq!(t.platform().commits, commits, "GetRandom commits nothing");
    t.platform_mut().now_ms += 1 << 22;
    let (clock, _, _) = read_clock(&mut t);
    assert!(clock >= 1 << 22);
    assert_eq!(t.platform().commits, commits + 1, "Clock crossed 2^22 ms");
    assert_eq!(run(&mut t, &Cmd::new(0x17B).u16(8), false).rc, Rc::SUCCESS);
    assert_eq!(t.platform().commits, commits + 1);
}

/// PCR_Reset follows the PC Client attributes as the TCG reference
/// implements them: PCR 16 and 23 are reset at localities 0-3, PCR 20-22 at
/// locality 2 (and 4), PCR 0-15 never; and since this TPM does DRTM,
/// PCR_Reset at locality 4 resets nothing (TPM_RC_LOCALITY). The
/// TPM_PT_PCR_RESET_Lx properties report the same table.
#[test]
fn part3_22_8_pcr_reset_localities() {
    let mut t = tpm();
    let rc_at = |t: &mut Tpm<TestPlatform>, locality: u8, pcr: u32| {
        let r = t.execute(locality, &Cmd::new(0x13D).handle(pcr).pw(b"").build());
        u32::from_be_bytes(r[6..10].try_into().unwrap())
    };
    const LOCALITY: u32 = 0x907;
    for l in 0..=4u8 {
        for pcr in [0u32, 15, 16, 17, 20, 21, 22, 23] {
            let allowed = match pcr {
                16 | 23 => l <= 3,
                20..=22 => l == 2,
                _ => false,
            };
            let want = if allowed { 0 } else { LOCALITY };
            assert_eq!(
                rc_at(&mut t, l, pcr),
                want,
                "PCR_Reset({pcr}) at locality {l}"
            );
        }
    }
    // TPM_PT_PCR_RESET_L0..L4 (TPM_CAP_PCR_PROPERTIES; 0x02, 0x04, ...
    // 0x0A).
    let mut r = run(&mut t, &Cmd::new(0x17A).u32(7).u32(0x02).u32(9), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = (r.take(1), r.u32());
    let n = r.u32();
    let mut got = Vec::new();
    for _ in 0..n {
        let tag = r.u32();
        let size = usize::from(r.take(1)[0]);
        let bits = r.take(size);
        if tag.is_multiple_of(2) {
            got.push((tag, u32::from_le_bytes([bits[0], bits[1], bits[2], 0])));
        }
    }
    let bit = |pcrs: &[u32]| pcrs.iter().fold(0u32, |a, p| a | 1 << p);
    assert_eq!(
        got,
        vec![
            (0x02, bit(&[16, 23])),
            (0x04, bit(&[16, 23])),
            (0x06, bit(&[16, 20, 21, 22, 23])),
            (0x08, bit(&[16, 23])),
            (0x0A, bit(&[17, 18, 19, 20, 21, 22])),
        ]
    );
}
