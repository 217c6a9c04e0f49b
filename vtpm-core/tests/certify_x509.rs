//! `TPM2_CertifyX509` (Part 3, 18.8; Part 2, 8.11).
//!
//! The TBSCertificate is put together here from `partialCertificate` and
//! the TPM's `addedToCertificate`, decoded with RustCrypto's `x509-cert`
//! (an independent, strict DER decoder), and the signature is checked
//! with `p256` over that TBS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256, Sha384};
use vtpm_core::testing::TestPlatform;
use vtpm_core::{Rc, Tpm};
use x509_cert::der::{Decode, Encode};

const OWNER: u32 = 0x4000_0001;
const CC_CERTIFYX509: u32 = 0x197;
const SHA256: u16 = 0x000B;
const SHA384: u16 = 0x000C;
const ALG_NULL: u16 = 0x0010;
const RSASSA: u16 = 0x0014;
const ECDSA: u16 = 0x0018;
const ECSCHNORR: u16 = 0x001C;

// ------------------------------------------------------------ DER, written by hand

fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    match content.len() {
        n if n < 0x80 => v.push(n as u8),
        n if n < 0x100 => v.extend_from_slice(&[0x81, n as u8]),
        n => v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
    v.extend_from_slice(content);
    v
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// `Name ::= SEQUENCE OF SET OF { commonName UTF8String }`.
fn name(cn: &str) -> Vec<u8> {
    let atv = seq(&[&der(0x06, &[0x55, 0x04, 0x03]), &der(0x0C, cn.as_bytes())]);
    seq(&[&der(0x31, &atv)])
}

fn validity() -> Vec<u8> {
    seq(&[&der(0x17, b"250101000000Z"), &der(0x17, b"350101000000Z")])
}

const OID_KEY_USAGE: &[u8] = &[0x55, 0x1D, 0x0F];
const OID_TPMA_OBJECT: &[u8] = &[0x67, 0x81, 0x05, 0x0A, 0x01, 0x01, 0x01];

/// `Extension { extnID, critical, OCTET STRING { BIT STRING } }`.
fn extension(oid: &[u8], critical: bool, bit_string: &[u8]) -> Vec<u8> {
    let mut parts = vec![der(0x06, oid)];
    if critical {
        parts.push(der(0x01, &[0xFF]));
    }
    parts.push(der(0x04, &der(0x03, bit_string)));
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
    seq(&refs)
}

/// KeyUsage `keyEncipherment` (bit 2): five unused bits.
fn key_encipherment() -> Vec<u8> {
    extension(OID_KEY_USAGE, true, &[0x05, 0x20])
}

/// KeyUsage `digitalSignature` (bit 0): seven unused bits.
fn digital_signature() -> Vec<u8> {
    extension(OID_KEY_USAGE, true, &[0x07, 0x80])
}

fn tpma_object(attrs: u32) -> Vec<u8> {
    let mut b = vec![0x00];
    b.extend_from_slice(&attrs.to_be_bytes());
    extension(OID_TPMA_OBJECT, false, &b)
}

fn extensions(list: &[&[u8]]) -> Vec<u8> {
    der(0xA3, &seq(list))
}

fn partial(fields: &[&[u8]]) -> Vec<u8> {
    seq(fields)
}

/// The content elements of a DER SEQUENCE (short or long lengths).
fn elements(seq_bytes: &[u8]) -> Vec<Vec<u8>> {
    fn len_at(b: &[u8], i: usize) -> (usize, usize) {
        match b[i] {
            n if n < 0x80 => (n as usize, 1),
            0x81 => (b[i + 1] as usize, 2),
            0x82 => (((b[i + 1] as usize) << 8) | b[i + 2] as usize, 3),
            _ => panic!("length form"),
        }
    }
    assert_eq!(seq_bytes[0], 0x30);
    let (len, ll) = len_at(seq_bytes, 1);
    let body = &seq_bytes[1 + ll..];
    assert_eq!(body.len(), len, "SEQUENCE fills its buffer");
    let mut out = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let (l, ll) = len_at(body, i + 1);
        out.push(body[i..i + 1 + ll + l].to_vec());
        i += 1 + ll + l;
    }
    out
}

// ------------------------------------------------------------ TPM helpers

/// An ECC P-256 signing key with a NULL scheme (any ECC scheme allowed).
fn ecc_signing_null_scheme() -> Vec<u8> {
    let mut v = vec![0x00, 0x23, 0x00, 0x0B];
    v.extend_from_slice(&0x0004_0072u32.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&[0x00, 0x10]); // symmetric NULL
    v.extend_from_slice(&[0x00, 0x10]); // scheme NULL
    v.extend_from_slice(&[0x00, 0x03, 0x00, 0x10]); // P-256, KDF NULL
    v.extend_from_slice(&[0, 0, 0, 0]);
    v
}

/// (x, y) of a P-256 public area (with its size prefix).
fn p256_point(public: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let t = &public[public.len() - 68..];
    (t[2..34].to_vec(), t[36..68].to_vec())
}

fn attributes(public: &[u8]) -> u32 {
    u32::from_be_bytes(public[6..10].try_into().unwrap())
}

fn scheme(alg: u16, hash: u16) -> Vec<u8> {
    if alg == ALG_NULL {
        ALG_NULL.to_be_bytes().to_vec()
    } else {
        [alg.to_be_bytes(), hash.to_be_bytes()].concat()
    }
}

fn certify_x509_raw(
    t: &mut Tpm<TestPlatform>,
    object: u32,
    signer: u32,
    reserved: &[u8],
    in_scheme: &[u8],
    partial: &[u8],
) -> Rsp {
    let c = Cmd::new(CC_CERTIFYX509)
        .handle(object)
        .handle(signer)
        .pw(b"")
        .pw(b"")
        .b2(reserved)
        .bytes(in_scheme)
        .b2(partial);
    run(t, &c, false)
}

struct Certified {
    added: Vec<u8>,
    tbs_digest: Vec<u8>,
    sig_alg: u16,
    sig_hash: u16,
    r: Vec<u8>,
    s: Vec<u8>,
}

fn certify_x509(
    t: &mut Tpm<TestPlatform>,
    object: u32,
    signer: u32,
    in_scheme: &[u8],
    partial: &[u8],
) -> Certified {
    let mut r = certify_x509_raw(t, object, signer, &[], in_scheme, partial);
    assert_eq!(r.rc, Rc::SUCCESS, "CertifyX509");
    let added = r.b2();
    let tbs_digest = r.b2();
    let sig_alg = r.u16();
    let sig_hash = r.u16();
    let rr = r.b2();
    let ss = r.b2();
    assert!(r.rest().is_empty());
    Certified {
        added,
        tbs_digest,
        sig_alg,
        sig_hash,
        r: rr,
        s: ss,
    }
}

/// TBSCertificate: version, serial, signature (caller's or TPM's),
/// issuer, validity, subject, subjectPublicKeyInfo, extensions.
fn assemble_tbs(partial: &[u8], added: &[u8]) -> Vec<u8> {
    let p = elements(partial);
    let a = elements(added);
    let (caller_alg, rest) = if p.len() == 5 {
        (Some(&p[0]), &p[1..])
    } else {
        (None, &p[..])
    };
    assert_eq!(rest.len(), 4);
    let (version, serial) = (&a[0], &a[1]);
    let (alg, spki) = match caller_alg {
        Some(alg) => {
            assert_eq!(a.len(), 3, "no signature algorithm added");
            (alg, &a[2])
        }
        None => {
            assert_eq!(a.len(), 4, "signature algorithm added");
            (&a[2], &a[3])
        }
    };
    seq(&[
        version, serial, alg, &rest[0], &rest[1], &rest[2], spki, &rest[3],
    ])
}

fn p256_verify(point: &(Vec<u8>, Vec<u8>), digest: &[u8], r: &[u8], s: &[u8]) -> bool {
    let sec1 = [&[4u8][..], &point.0, &point.1].concat();
    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).unwrap();
    let sig = p256::ecdsa::Signature::from_slice(&[r, s].concat()).unwrap();
    vk.verify_prehash(digest, &sig).is_ok()
}

fn der_uint(b: &[u8]) -> Vec<u8> {
    let mut m: Vec<u8> = b.iter().copied().skip_while(|x| *x == 0).collect();
    if m.is_empty() || m[0] & 0x80 != 0 {
        m.insert(0, 0);
    }
    der(0x02, &m)
}

#[test]
fn part3_18_8_certify_x509_ecdsa_tbs_decodes_and_signature_verifies() {
    let mut t = tpm();
    let (signer, signer_pub, _) = create_primary(&mut t, OWNER, &ecc_signing_template(), b"");
    let (object, object_pub, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    let issuer = name("vtpm test CA");
    let subject = name("certified storage key");
    let exts = extensions(&[&key_encipherment(), &tpma_object(attributes(&object_pub))]);
    let partial = partial(&[&issuer, &validity(), &subject, &exts]);

    let c = certify_x509(&mut t, object, signer, &scheme(ALG_NULL, 0), &partial);
    assert_eq!((c.sig_alg, c.sig_hash), (ECDSA, SHA256));
    let tbs = assemble_tbs(&partial, &c.added);
    assert_eq!(c.tbs_digest, Sha256::digest(&tbs).to_vec(), "tbsDigest");
    assert!(p256_verify(
        &p256_point(&signer_pub),
        &c.tbs_digest,
        &c.r,
        &c.s
    ));
    // A changed TBS does not verify.
    let mut other = tbs.clone();
    let n = other.len();
    other[n - 1] ^= 1;
    assert!(!p256_verify(
        &p256_point(&signer_pub),
        &Sha256::digest(&other),
        &c.r,
        &c.s
    ));

    // The TBSCertificate is what RFC 5280 describes.
    let decoded = x509_cert::TbsCertificate::from_der(&tbs).expect("DER TBSCertificate");
    assert_eq!(decoded.version(), x509_cert::certificate::Version::V3);
    assert!(decoded.serial_number().as_bytes().len() <= 21);
    assert_eq!(
        decoded.signature().oid.to_string(),
        "1.2.840.10045.4.3.2",
        "ecdsa-with-SHA256"
    );
    assert!(decoded.signature().parameters.is_none());
    assert_eq!(decoded.issuer().to_der().unwrap(), issuer);
    assert_eq!(decoded.subject().to_der().unwrap(), subject);
    let spki = decoded.subject_public_key_info();
    assert_eq!(spki.algorithm.oid.to_string(), "1.2.840.10045.2.1");
    let curve = spki.algorithm.parameters.as_ref().unwrap();
    assert_eq!(
        curve.to_der().unwrap(),
        [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
    );
    let (x, y) = p256_point(&object_pub);
    assert_eq!(
        spki.subject_public_key.as_bytes().unwrap(),
        [&[4u8][..], &x, &y].concat()
    );
    assert_eq!(decoded.extensions().map(|e| e.len()), Some(2));

    // The whole certificate decodes too.
    let sig_value = seq(&[&der_uint(&c.r), &der_uint(&c.s)]);
    let alg = &elements(&c.added)[2];
    let cert = seq(&[&tbs, alg, &der(0x03, &[&[0u8][..], &sig_value].concat())]);
    let cert = x509_cert::Certificate::from_der(&cert).expect("DER Certificate");
    assert_eq!(cert.tbs_certificate(), &decoded);

    // The serial number depends on the certificate: another subject,
    // another serial.
    let partial2 = seq(&[&issuer, &validity(), &name("another"), &exts]);
    let c2 = certify_x509(&mut t, object, signer, &scheme(ALG_NULL, 0), &partial2);
    assert_ne!(elements(&c2.added)[1], elements(&c.added)[1]);
    // ... and the same request gives the same one.
    let c3 = certify_x509(&mut t, object, signer, &scheme(ALG_NULL, 0), &partial);
    assert_eq!(c3.added, c.added);
}

#[test]
fn part3_18_8_certify_x509_caller_algorithm_and_scheme_choice() {
    let mut t = tpm();
    let (signer, signer_pub, _) = create_primary(&mut t, OWNER, &ecc_signing_null_scheme(), b"");
    let issuer = name("issuer");
    let subject = name("self");
    // The signer certifies itself: digitalSignature needs sign.
    let exts = extensions(&[&digital_signature()]);

    // ECDSA with SHA-384 chosen by inScheme: ecdsa-with-SHA384.
    let p = partial(&[&issuer, &validity(), &subject, &exts]);
    let c = certify_x509(&mut t, signer, signer, &scheme(ECDSA, SHA384), &p);
    assert_eq!((c.sig_alg, c.sig_hash), (ECDSA, SHA384));
    let tbs = assemble_tbs(&p, &c.added);
    assert_eq!(c.tbs_digest, Sha384::digest(&tbs).to_vec());
    let decoded = x509_cert::TbsCertificate::from_der(&tbs).unwrap();
    assert_eq!(decoded.signature().oid.to_string(), "1.2.840.10045.4.3.3");
    // P-256 verifies a SHA-384 prehash by truncation (FIPS 186-5).
    assert!(p256_verify(
        &p256_point(&signer_pub),
        &c.tbs_digest,
        &c.r,
        &c.s
    ));

    // A caller-provided AlgorithmIdentifier is used as given and not added.
    let caller_alg = seq(&[&der(
        0x06,
        &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02],
    )]);
    let p = partial(&[&caller_alg, &issuer, &validity(), &subject, &exts]);
    let c = certify_x509(&mut t, signer, signer, &scheme(ECDSA, SHA256), &p);
    assert_eq!(elements(&c.added).len(), 3);
    let tbs = assemble_tbs(&p, &c.added);
    assert_eq!(c.tbs_digest, Sha256::digest(&tbs).to_vec());
    assert!(p256_verify(
        &p256_point(&signer_pub),
        &c.tbs_digest,
        &c.r,
        &c.s
    ));

    // EC-Schnorr has no X.509 identifier: TPM_RC_SCHEME on signHandle
    // unless the caller gives one.
    let p = partial(&[&issuer, &validity(), &subject, &exts]);
    let r = certify_x509_raw(&mut t, signer, signer, &[], &scheme(ECSCHNORR, SHA256), &p);
    assert_eq!(r.rc, Rc::SCHEME.handle(2));
    let p = partial(&[&caller_alg, &issuer, &validity(), &subject, &exts]);
    let r = certify_x509_raw(&mut t, signer, signer, &[], &scheme(ECSCHNORR, SHA256), &p);
    assert_eq!(r.rc, Rc::SUCCESS);
    // An RSA scheme does not fit an ECC key: TPM_RC_SCHEME on inScheme.
    let r = certify_x509_raw(&mut t, signer, signer, &[], &scheme(RSASSA, SHA256), &p);
    assert_eq!(r.rc, Rc::SCHEME.param(2));
}

#[test]
fn part3_18_8_certify_x509_rsa_subject_public_key_info() {
    let mut t = tpm();
    let (signer, signer_pub, _) = create_primary(&mut t, OWNER, &ecc_signing_template(), b"");
    let (object, object_pub, _) = create_primary(&mut t, OWNER, &rsa_storage_template(), b"");
    let exts = extensions(&[&key_encipherment()]);
    let p = partial(&[&name("i"), &validity(), &name("rsa"), &exts]);
    let c = certify_x509(&mut t, object, signer, &scheme(ALG_NULL, 0), &p);
    let tbs = assemble_tbs(&p, &c.added);
    assert!(p256_verify(
        &p256_point(&signer_pub),
        &c.tbs_digest,
        &c.r,
        &c.s
    ));
    let decoded = x509_cert::TbsCertificate::from_der(&tbs).unwrap();
    let spki = decoded.subject_public_key_info();
    assert_eq!(spki.algorithm.oid.to_string(), "1.2.840.113549.1.1.1");
    assert_eq!(
        spki.algorithm
            .parameters
            .as_ref()
            .unwrap()
            .to_der()
            .unwrap(),
        [0x05, 0x00]
    );
    // RSAPublicKey { modulus, publicExponent 65537 }.
    let modulus = &object_pub[object_pub.len() - 256..];
    let expected = seq(&[&der_uint(modulus), &der_uint(&[1, 0, 1])]);
    assert_eq!(spki.subject_public_key.as_bytes().unwrap(), expected);
}

#[test]
fn part3_18_8_certify_x509_refusals() {
    let mut t = tpm();
    let (signer, _, _) = create_primary(&mut t, OWNER, &ecc_signing_template(), b"");
    let (object, object_pub, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    let issuer = name("i");
    let subject = name("s");
    let v = validity();
    let ok_exts = extensions(&[&key_encipherment()]);
    let null = scheme(ALG_NULL, 0);
    let rc = |t: &mut Tpm<TestPlatform>, reserved: &[u8], p: &[u8]| {
        certify_x509_raw(t, object, signer, reserved, &null, p).rc
    };
    let good = partial(&[&issuer, &v, &subject, &ok_exts]);
    assert_eq!(rc(&mut t, &[], &good), Rc::SUCCESS);

    // reserved must be empty.
    assert_eq!(rc(&mut t, &[0], &good), Rc::SIZE.param(1));
    // Not one SEQUENCE filling the buffer: TPM_RC_SIZE.
    let mut trailing = good.clone();
    trailing.push(0);
    assert_eq!(rc(&mut t, &[], &trailing), Rc::SIZE.param(3));
    assert_eq!(rc(&mut t, &[], &der(0x31, &good[2..])), Rc::SIZE.param(3));
    assert_eq!(rc(&mut t, &[], &good[..good.len() - 1]), Rc::SIZE.param(3));
    assert_eq!(rc(&mut t, &[], &[]), Rc::SIZE.param(3));
    // Not DER inside: a non-minimal length, a bad BOOLEAN.
    let long_issuer = [
        &[0x30u8, 0x81][..],
        &[(issuer.len() - 2) as u8],
        &issuer[2..],
    ]
    .concat();
    assert_eq!(
        rc(
            &mut t,
            &[],
            &partial(&[&long_issuer, &v, &subject, &ok_exts])
        ),
        Rc::VALUE.param(3)
    );
    let bad_bool = extensions(&[&seq(&[
        &der(0x06, OID_KEY_USAGE),
        &der(0x01, &[0x01]),
        &der(0x04, &der(0x03, &[0x05, 0x20])),
    ])]);
    assert_eq!(
        rc(&mut t, &[], &partial(&[&issuer, &v, &subject, &bad_bool])),
        Rc::VALUE.param(3)
    );
    // Wrong number or order of fields.
    for p in [
        partial(&[&issuer, &subject, &ok_exts]),
        partial(&[&issuer, &issuer, &issuer, &v, &subject, &ok_exts]),
        partial(&[&issuer, &v, &subject]),
        partial(&[&issuer, &v, &ok_exts, &subject]),
        partial(&[&issuer, &v, &subject, &ok_exts, &ok_exts]),
        partial(&[
            &issuer,
            &v,
            &subject,
            &der(0xA1, &seq(&[&key_encipherment()])),
        ]),
        partial(&[&issuer, &v, &der(0x04, b"subject"), &ok_exts]),
    ] {
        assert_eq!(rc(&mut t, &[], &p), Rc::VALUE.param(3));
    }
    // Extensions: Key Usage is required, and no extension twice.
    for exts in [
        extensions(&[&tpma_object(attributes(&object_pub))]),
        extensions(&[]),
        extensions(&[&key_encipherment(), &key_encipherment()]),
        extensions(&[&extension(
            OID_KEY_USAGE,
            false,
            &[0x00, 0x20, 0x00, 0x00, 0x00, 0x01],
        )]),
        der(0xA3, &[]),
    ] {
        let p = partial(&[&issuer, &v, &subject, &exts]);
        assert_eq!(rc(&mut t, &[], &p), Rc::VALUE.param(3));
    }
    // Key Usage the storage key cannot serve, or a different TPMA_OBJECT:
    // TPM_RC_ATTRIBUTES on objectHandle.
    for exts in [
        extensions(&[&digital_signature()]),
        extensions(&[&extension(OID_KEY_USAGE, true, &[0x01, 0x06])]), // keyCertSign, cRLSign
        extensions(&[
            &key_encipherment(),
            &tpma_object(attributes(&object_pub) ^ 0x40),
        ]),
    ] {
        let p = partial(&[&issuer, &v, &subject, &exts]);
        assert_eq!(rc(&mut t, &[], &p), Rc::ATTRIBUTES.handle(1));
    }
    // nonRepudiation needs fixedTPM (the storage key has it); keyAgreement
    // and dataEncipherment need decrypt (it has it).
    let exts = extensions(&[&extension(OID_KEY_USAGE, true, &[0x03, 0x58])]);
    assert_eq!(
        rc(&mut t, &[], &partial(&[&issuer, &v, &subject, &exts])),
        Rc::SUCCESS
    );
    // A signing key cannot be keyEncipherment: not a decrypt key.
    let r = certify_x509_raw(&mut t, signer, signer, &[], &null, &good);
    assert_eq!(r.rc, Rc::ATTRIBUTES.handle(1));
    // The signer must be able to sign: TPM_RC_KEY on signHandle.
    let r = certify_x509_raw(&mut t, object, object, &[], &null, &good);
    assert_eq!(r.rc, Rc::KEY.handle(2));
}

/// An RSA-2048 signing key with a NULL scheme.
fn rsa_signing_null_scheme() -> Vec<u8> {
    let mut v = vec![0x00, 0x01, 0x00, 0x0B];
    v.extend_from_slice(&0x0004_0072u32.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&[0x00, 0x10, 0x00, 0x10]); // symmetric, scheme NULL
    v.extend_from_slice(&[0x08, 0x00, 0, 0, 0, 0]);
    v.extend_from_slice(&[0, 0]);
    v
}

#[test]
fn part3_18_8_certify_x509_rsassa_and_rsapss_signatures_verify() {
    let mut t = tpm();
    let (signer, signer_pub, _) = create_primary(&mut t, OWNER, &rsa_signing_null_scheme(), b"");
    let n = &signer_pub[signer_pub.len() - 256..];
    let key = rsa::PublicKey::new(
        rsa::BoxedUint::from_be_slice(n, 2048).unwrap(),
        rsa::BoxedUint::from_be_slice(&[1, 0, 1], 64).unwrap(),
    )
    .unwrap();
    let exts = extensions(&[&digital_signature()]);
    let p = partial(&[&name("rsa issuer"), &validity(), &name("rsa"), &exts]);

    let mut r = certify_x509_raw(&mut t, signer, signer, &[], &scheme(RSASSA, SHA256), &p);
    assert_eq!(r.rc, Rc::SUCCESS);
    let added = r.b2();
    let tbs_digest = r.b2();
    assert_eq!((r.u16(), r.u16()), (RSASSA, SHA256));
    let sig = r.b2();
    let tbs = assemble_tbs(&p, &added);
    let decoded = x509_cert::TbsCertificate::from_der(&tbs).unwrap();
    // sha256WithRSAEncryption, NULL parameters.
    assert_eq!(
        elements(&added)[2],
        [
            0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05,
            0x00
        ]
    );
    assert_eq!(decoded.signature().oid.to_string(), "1.2.840.113549.1.1.11");
    let digest = Sha256::digest(&tbs).to_vec();
    assert_eq!(tbs_digest, digest);
    key.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &digest, &sig)
        .expect("RSASSA signature over the TBS verifies");

    // RSASSA-PSS: the AlgorithmIdentifier carries the parameters (SHA-256,
    // MGF1-SHA-256, salt 32), as OpenSSL writes them.
    let mut r = certify_x509_raw(&mut t, signer, signer, &[], &scheme(0x0016, SHA256), &p);
    assert_eq!(r.rc, Rc::SUCCESS);
    let added = r.b2();
    let tbs_digest = r.b2();
    assert_eq!((r.u16(), r.u16()), (0x0016, SHA256));
    let sig = r.b2();
    let pss_alg = [
        0x30, 0x41, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0A, 0x30, 0x34,
        0xA0, 0x0F, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0xA1, 0x1C, 0x30, 0x1A, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01,
        0x01, 0x08, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        0x05, 0x00, 0xA2, 0x03, 0x02, 0x01, 0x20,
    ];
    assert_eq!(elements(&added)[2], pss_alg);
    let tbs = assemble_tbs(&p, &added);
    x509_cert::TbsCertificate::from_der(&tbs).unwrap();
    assert_eq!(tbs_digest, Sha256::digest(&tbs).to_vec());
    key.verify(rsa::pss::Pss::<sha2::Sha256>::new(), &tbs_digest, &sig)
        .expect("RSASSA-PSS signature over the TBS verifies");
}
