//! Post-quantum keys end to end (TPM 2.0 Library v185): ML-KEM (Part 1,
//! 47; Part 3, 14.10-14.11) and ML-DSA / HashML-DSA (Part 1, 46; Part 3,
//! 17.5-17.6, 20.3-20.4, 20.6-20.7), driven through the engine with a tiny
//! client of our own:
//!
//! * key creation (CreatePrimary — deterministic —, Create, CreateLoaded,
//!   LoadExternal), Names, ReadPublic, context save/load, EvictControl;
//! * Encapsulate / Decapsulate round trips for ML-KEM-512/768/1024;
//! * signing and verification sequences, SignDigest and
//!   VerifyDigestSignature for ML-DSA-44/65/87 (87 needs a TPM configured
//!   with buffers larger than the 4 KiB default) and HashML-DSA;
//! * ML-KEM keys as storage parents, credential keys, salt keys and
//!   duplication targets (the ML-KEM Labeled KEM, Part 1, 47.4);
//! * the strictness of the new structures and commands;
//! * the TPM's outputs checked by an implementation independent of the
//!   RustCrypto crates the TPM uses: the pure-Python `kyber-py` and
//!   `dilithium-py` (FIPS 203/204), through `tests/pqc/verify.py`. That test
//!   fails, never skips, when Python or the packages are missing.
//!
//! `bench_pqc_latency` (ignored) prints the median latency of the
//! post-quantum commands through the engine.
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

// ----------------------------------------------------------------- constants

const OWNER: u32 = 0x4000_0001;
const NULL_H: u32 = 0x4000_0007;
const ENDORSEMENT: u32 = 0x4000_000B;

const FIXED_TPM: u32 = 1 << 1;
const FIXED_PARENT: u32 = 1 << 4;
const SDO: u32 = 1 << 5;
const USER_WITH_AUTH: u32 = 1 << 6;
const RESTRICTED: u32 = 1 << 16;
const DECRYPT: u32 = 1 << 17;
const SIGN: u32 = 1 << 18;
const NO_DA: u32 = 1 << 10;
const BASIC: u32 = FIXED_TPM | FIXED_PARENT | SDO | USER_WITH_AUTH;

const ALG_MLKEM: u16 = 0x00A0;
const ALG_MLDSA: u16 = 0x00A1;
const ALG_HASH_MLDSA: u16 = 0x00A2;
const SHA256: u16 = 0x000B;
const SHA384: u16 = 0x000C;

const CC_CREATE: u32 = 0x153;
const CC_LOAD: u32 = 0x157;
const CC_LOAD_EXTERNAL: u32 = 0x167;
const CC_READ_PUBLIC: u32 = 0x173;
const CC_CREATE_LOADED: u32 = 0x191;
const CC_SEQUENCE_UPDATE: u32 = 0x15C;
const CC_SEQUENCE_COMPLETE: u32 = 0x13E;
const CC_CONTEXT_SAVE: u32 = 0x162;
const CC_CONTEXT_LOAD: u32 = 0x161;
const CC_FLUSH: u32 = 0x165;
const CC_VERIFY_SEQUENCE_COMPLETE: u32 = 0x1A3;
const CC_SIGN_SEQUENCE_COMPLETE: u32 = 0x1A4;
const CC_VERIFY_DIGEST_SIGNATURE: u32 = 0x1A5;
const CC_SIGN_DIGEST: u32 = 0x1A6;
const CC_ENCAPSULATE: u32 = 0x1A7;
const CC_DECAPSULATE: u32 = 0x1A8;
const CC_VERIFY_SEQUENCE_START: u32 = 0x1A9;
const CC_SIGN_SEQUENCE_START: u32 = 0x1AA;

const ST_MESSAGE_VERIFIED: u16 = 0x8026;
const ST_DIGEST_VERIFIED: u16 = 0x8027;

/// ML-KEM parameter sets: (id, name, ek size, ct size).
const KEM_SETS: [(u16, &str, usize, usize); 3] = [
    (1, "ML-KEM-512", 800, 768),
    (2, "ML-KEM-768", 1184, 1088),
    (3, "ML-KEM-1024", 1568, 1568),
];
/// ML-DSA parameter sets: (id, name, pk size, signature size).
const DSA_SETS: [(u16, &str, usize, usize); 3] = [
    (1, "ML-DSA-44", 1312, 2420),
    (2, "ML-DSA-65", 1952, 3309),
    (3, "ML-DSA-87", 2592, 4627),
];

// ----------------------------------------------------------------- client

/// A TPM whose command and response buffers can carry ML-DSA-87.
fn big_tpm() -> Tpm<TestPlatform> {
    let config = Config {
        max_command_size: 8192,
        max_response_size: 8192,
        ..Config::default()
    };
    let mut t = Tpm::manufacture(TestPlatform::new(7), config).unwrap();
    t.power_on();
    let r = t.execute(0, &STARTUP_CLEAR);
    assert_eq!(&r[6..10], &[0, 0, 0, 0]);
    t
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn mlkem_template(attrs: u32, set: u16) -> Vec<u8> {
    let mut v = ALG_MLKEM.to_be_bytes().to_vec();
    v.extend_from_slice(&SHA256.to_be_bytes());
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]); // authPolicy
    if attrs & RESTRICTED != 0 {
        v.extend_from_slice(&[0x00, 0x06, 0x00, 0x80, 0x00, 0x43]); // AES-128-CFB
    } else {
        v.extend_from_slice(&[0x00, 0x10]); // NULL
    }
    v.extend_from_slice(&set.to_be_bytes());
    v.extend_from_slice(&[0, 0]); // unique
    v
}

fn mldsa_template(attrs: u32, set: u16, external_mu: bool) -> Vec<u8> {
    let mut v = ALG_MLDSA.to_be_bytes().to_vec();
    v.extend_from_slice(&SHA256.to_be_bytes());
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&set.to_be_bytes());
    v.push(u8::from(external_mu));
    v.extend_from_slice(&[0, 0]);
    v
}

fn hash_mldsa_template(attrs: u32, set: u16, hash: u16) -> Vec<u8> {
    let mut v = ALG_HASH_MLDSA.to_be_bytes().to_vec();
    v.extend_from_slice(&SHA256.to_be_bytes());
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&set.to_be_bytes());
    v.extend_from_slice(&hash.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v
}

/// Replace the (empty) unique of a template with `key`.
fn with_unique(template: &[u8], key: &[u8]) -> Vec<u8> {
    let mut v = template[..template.len() - 2].to_vec();
    v.extend_from_slice(&sized(key));
    v
}

/// The unique (public key) of a `TPM2B_PUBLIC` of an ML-KEM / ML-DSA key.
fn unique_of(public_2b: &[u8]) -> Vec<u8> {
    let p = &public_2b[2..];
    let t = u16::from_be_bytes([p[0], p[1]]);
    let policy = u16::from_be_bytes([p[8], p[9]]) as usize;
    let mut i = 10 + policy;
    i += match t {
        ALG_MLKEM => {
            let sym = u16::from_be_bytes([p[i], p[i + 1]]);
            (if sym == 0x0010 { 2 } else { 6 }) + 2
        }
        ALG_MLDSA => 3,
        ALG_HASH_MLDSA => 4,
        _ => panic!("type {t:#x}"),
    };
    let n = u16::from_be_bytes([p[i], p[i + 1]]) as usize;
    assert_eq!(i + 2 + n, p.len());
    p[i + 2..].to_vec()
}

/// Create under `parent` (password `parent_auth`): (outPrivate, outPublic).
fn create(
    t: &mut Tpm<TestPlatform>,
    parent: u32,
    template: &[u8],
    auth: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), Rc> {
    let c = Cmd::new(CC_CREATE)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(auth, b""))
        .bytes(&sized(template))
        .u16(0)
        .u32(0);
    let mut r = run(t, &c, false);
    if r.rc != Rc::SUCCESS {
        return Err(r.rc);
    }
    let private = r.b2_raw();
    let public = r.b2_raw();
    Ok((private, public))
}

fn load(t: &mut Tpm<TestPlatform>, parent: u32, private: &[u8], public: &[u8]) -> u32 {
    let c = Cmd::new(CC_LOAD)
        .handle(parent)
        .pw(b"")
        .bytes(private)
        .bytes(public);
    let r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS, "Load");
    r.handle.unwrap()
}

/// CreatePrimary that may fail.
fn try_primary(t: &mut Tpm<TestPlatform>, hierarchy: u32, template: &[u8]) -> Rc {
    let c = Cmd::new(0x131)
        .handle(hierarchy)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(template))
        .u16(0)
        .u32(0);
    let r = run(t, &c, true);
    if r.rc == Rc::SUCCESS {
        flush(t, r.handle.unwrap());
    }
    r.rc
}

fn flush(t: &mut Tpm<TestPlatform>, h: u32) {
    assert_eq!(run(t, &Cmd::new(CC_FLUSH).u32(h), false).rc, Rc::SUCCESS);
}

fn read_public(t: &mut Tpm<TestPlatform>, h: u32) -> (Vec<u8>, Vec<u8>) {
    let mut r = run(t, &Cmd::new(CC_READ_PUBLIC).handle(h), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let public = r.b2_raw();
    let name = r.b2();
    (public, name)
}

/// LoadExternal of a public area (and optional `TPMT_SENSITIVE`) in the
/// NULL hierarchy.
fn load_external(t: &mut Tpm<TestPlatform>, sensitive: Option<&[u8]>, public: &[u8]) -> Rsp {
    let c = Cmd::new(CC_LOAD_EXTERNAL)
        .bytes(&sized(sensitive.unwrap_or_default()))
        .bytes(&sized(public))
        .u32(NULL_H);
    run(t, &c, true)
}

/// `TPMT_SENSITIVE` with an empty authValue and seedValue.
fn sensitive(type_alg: u16, key: &[u8]) -> Vec<u8> {
    let mut v = type_alg.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0, 0, 0]);
    v.extend_from_slice(&sized(key));
    v
}

fn encapsulate(t: &mut Tpm<TestPlatform>, key: u32) -> (Vec<u8>, Vec<u8>) {
    let mut r = run(t, &Cmd::new(CC_ENCAPSULATE).handle(key), false);
    assert_eq!(r.rc, Rc::SUCCESS, "Encapsulate");
    let ss = r.b2();
    let ct = r.b2();
    (ss, ct)
}

fn decapsulate(t: &mut Tpm<TestPlatform>, key: u32, auth: &[u8], ct: &[u8]) -> Result<Vec<u8>, Rc> {
    let mut r = run(
        t,
        &Cmd::new(CC_DECAPSULATE).handle(key).pw(auth).b2(ct),
        false,
    );
    if r.rc != Rc::SUCCESS {
        return Err(r.rc);
    }
    Ok(r.b2())
}

/// The signature octets of a `TPMT_SIGNATURE` of ML-DSA or HashML-DSA.
fn sig_bytes(tpmt: &[u8]) -> Vec<u8> {
    let alg = u16::from_be_bytes([tpmt[0], tpmt[1]]);
    let at = if alg == ALG_HASH_MLDSA { 4 } else { 2 };
    let n = u16::from_be_bytes([tpmt[at], tpmt[at + 1]]) as usize;
    assert_eq!(at + 2 + n, tpmt.len());
    tpmt[at + 2..].to_vec()
}

/// Start a signing (or verification) sequence with password `seq_auth`.
fn seq_start(t: &mut Tpm<TestPlatform>, key: u32, ctx: &[u8], verify: bool) -> Result<u32, Rc> {
    let c = if verify {
        Cmd::new(CC_VERIFY_SEQUENCE_START)
            .handle(key)
            .b2(b"sq")
            .b2(b"")
            .b2(ctx)
    } else {
        Cmd::new(CC_SIGN_SEQUENCE_START)
            .handle(key)
            .b2(b"sq")
            .b2(ctx)
    };
    let r = run(t, &c, true);
    if r.rc != Rc::SUCCESS {
        return Err(r.rc);
    }
    Ok(r.handle.unwrap())
}

fn seq_update(t: &mut Tpm<TestPlatform>, seq: u32, data: &[u8]) -> Rc {
    run(
        t,
        &Cmd::new(CC_SEQUENCE_UPDATE).handle(seq).pw(b"sq").b2(data),
        false,
    )
    .rc
}

/// Sign `msg` (in chunks of at most 1024 octets) in a sequence; returns
/// the `TPMT_SIGNATURE`.
fn sign_message(
    t: &mut Tpm<TestPlatform>,
    key: u32,
    key_auth: &[u8],
    ctx: &[u8],
    msg: &[u8],
) -> Result<Vec<u8>, Rc> {
    let seq = seq_start(t, key, ctx, false)?;
    let chunks: Vec<&[u8]> = msg.chunks(1024).collect();
    let (last, rest) = chunks
        .split_last()
        .map_or((&[][..], &[][..]), |(l, r)| (*l, r));
    for c in rest {
        assert_eq!(seq_update(t, seq, c), Rc::SUCCESS);
    }
    sign_complete(t, seq, key, key_auth, last)
}

fn sign_complete(
    t: &mut Tpm<TestPlatform>,
    seq: u32,
    key: u32,
    key_auth: &[u8],
    last: &[u8],
) -> Result<Vec<u8>, Rc> {
    let c = Cmd::new(CC_SIGN_SEQUENCE_COMPLETE)
        .handle(seq)
        .handle(key)
        .pw(b"sq")
        .pw(key_auth)
        .b2(last);
    let mut r = run(t, &c, false);
    if r.rc != Rc::SUCCESS {
        return Err(r.rc);
    }
    Ok(r.rest())
}

/// Verify `sig` (a `TPMT_SIGNATURE`) over `msg` in a sequence; returns
/// the ticket.
fn verify_message(
    t: &mut Tpm<TestPlatform>,
    key: u32,
    ctx: &[u8],
    msg: &[u8],
    sig: &[u8],
) -> Result<Vec<u8>, Rc> {
    let seq = seq_start(t, key, ctx, true)?;
    for c in msg.chunks(1000) {
        assert_eq!(seq_update(t, seq, c), Rc::SUCCESS);
    }
    let c = Cmd::new(CC_VERIFY_SEQUENCE_COMPLETE)
        .handle(seq)
        .handle(key)
        .pw(b"sq")
        .bytes(sig);
    let mut r = run(t, &c, false);
    if r.rc != Rc::SUCCESS {
        // Leave no sequence behind.
        let _ = run(t, &Cmd::new(CC_FLUSH).u32(seq), false);
        return Err(r.rc);
    }
    Ok(r.rest())
}

fn sign_digest(
    t: &mut Tpm<TestPlatform>,
    key: u32,
    ctx: &[u8],
    digest: &[u8],
) -> Result<Vec<u8>, Rc> {
    sign_digest_auth(t, key, b"", ctx, digest)
}

fn sign_digest_auth(
    t: &mut Tpm<TestPlatform>,
    key: u32,
    key_auth: &[u8],
    ctx: &[u8],
    digest: &[u8],
) -> Result<Vec<u8>, Rc> {
    let c = Cmd::new(CC_SIGN_DIGEST)
        .handle(key)
        .pw(key_auth)
        .b2(ctx)
        .b2(digest)
        .bytes(&[0x80, 0x24, 0x40, 0, 0, 7, 0, 0]); // NULL TPMT_TK_HASHCHECK
    let mut r = run(t, &c, false);
    if r.rc != Rc::SUCCESS {
        return Err(r.rc);
    }
    Ok(r.rest())
}

fn verify_digest(
    t: &mut Tpm<TestPlatform>,
    key: u32,
    ctx: &[u8],
    digest: &[u8],
    sig: &[u8],
) -> Result<Vec<u8>, Rc> {
    let c = Cmd::new(CC_VERIFY_DIGEST_SIGNATURE)
        .handle(key)
        .b2(ctx)
        .b2(digest)
        .bytes(sig);
    let mut r = run(t, &c, false);
    if r.rc != Rc::SUCCESS {
        return Err(r.rc);
    }
    Ok(r.rest())
}

/// `TPMT_SIGNATURE` of pure ML-DSA.
fn tpmt_mldsa(sig: &[u8]) -> Vec<u8> {
    let mut v = ALG_MLDSA.to_be_bytes().to_vec();
    v.extend_from_slice(&sized(sig));
    v
}

/// A storage primary of ML-KEM-768 (restricted decrypt, AES-128-CFB).
fn mlkem_storage_primary(t: &mut Tpm<TestPlatform>, hierarchy: u32) -> (u32, Vec<u8>) {
    let (h, public, _) = create_primary(
        t,
        hierarchy,
        &mlkem_template(BASIC | RESTRICTED | DECRYPT, 2),
        b"",
    );
    (h, public)
}

/// mu of pure ML-DSA for `msg` and `ctx` under `pk` (FIPS 204, Alg. 2).
fn client_mu(pk: &[u8], ctx: &[u8], msg: &[u8]) -> Vec<u8> {
    use vtpm_core::crypto::pqc;
    let mut h = pqc::mu_pure_start(&pqc::mldsa_tr(pk), ctx).unwrap();
    h.update(msg);
    h.finish().to_vec()
}

// ----------------------------------------------------------------- ML-KEM

#[test]
fn part1_47_mlkem_primary_is_deterministic_and_encapsulates() {
    let mut t = tpm();
    for (set, _, ek_size, ct_size) in KEM_SETS {
        let template = mlkem_template(BASIC | DECRYPT, set);
        let (h1, p1, n1) = create_primary(&mut t, OWNER, &template, b"");
        let (h2, p2, n2) = create_primary(&mut t, OWNER, &template, b"");
        assert_eq!(p1, p2, "a primary is a function of the seed and template");
        assert_eq!(n1, n2);
        let mut name = vec![0x00, 0x0B];
        name.extend_from_slice(&sha2::Sha256::digest(&p1[2..]));
        assert_eq!(n1, name, "Name = nameAlg || H(TPMT_PUBLIC)");
        assert_eq!(unique_of(&p1).len(), ek_size);
        let (h3, p3, _) = create_primary(&mut t, ENDORSEMENT, &template, b"");
        assert_ne!(p1, p3, "another hierarchy, another key");
        flush(&mut t, h3);

        let (ss, ct) = encapsulate(&mut t, h1);
        assert_eq!((ss.len(), ct.len()), (32, ct_size));
        assert_eq!(decapsulate(&mut t, h2, b"", &ct), Ok(ss.clone()));
        // Implicit rejection: another ciphertext decapsulates to another
        // secret, not an error.
        let mut bad = ct.clone();
        bad[0] ^= 1;
        let other = decapsulate(&mut t, h1, b"", &bad).unwrap();
        assert_ne!(other, ss);
        assert_eq!(
            decapsulate(&mut t, h1, b"", &ct[1..]),
            Err(Rc::SIZE.param(1))
        );
        for h in [h1, h2] {
            flush(&mut t, h);
        }
    }
}

#[test]
fn part1_47_mlkem_storage_parent_create_load_and_round_trip() {
    let mut t = tpm();
    let (parent, _) = mlkem_storage_primary(&mut t, OWNER);
    for (set, _, ek_size, _) in KEM_SETS {
        let template = mlkem_template(BASIC | NO_DA | DECRYPT, set);
        let (private, public) =
            create(&mut t, parent, &template, b"k").expect("Create under an ML-KEM parent");
        assert_eq!(unique_of(&public).len(), ek_size);
        let k = load(&mut t, parent, &private, &public);
        let (ss, ct) = encapsulate(&mut t, k);
        assert_eq!(decapsulate(&mut t, k, b"k", &ct), Ok(ss));
        // Wrong authValue (a noDA key: TPM_RC_BAD_AUTH).
        assert_eq!(
            decapsulate(&mut t, k, b"x", &ct),
            Err(Rc::BAD_AUTH.session(1))
        );
        flush(&mut t, k);
    }
    // A restricted ML-KEM key cannot decapsulate for the caller.
    let (_, ct) = encapsulate(&mut t, parent);
    assert_eq!(
        decapsulate(&mut t, parent, b"", &ct),
        Err(Rc::ATTRIBUTES.handle(1))
    );
    // Nor can anything but an ML-KEM key encapsulate.
    let (ecc, _, _) = create_primary(&mut t, OWNER, &ecc_storage_template(), b"");
    let r = run(&mut t, &Cmd::new(CC_ENCAPSULATE).handle(ecc), false);
    assert_eq!(r.rc, Rc::KEY.handle(1));
}

#[test]
fn part2_mlkem_and_mldsa_structures_are_strict() {
    let mut t = tpm();
    // Unknown parameter set: TPM_RC_PARMS on the template.
    let bad_set = mlkem_template(BASIC | DECRYPT, 4);
    assert_eq!(try_primary(&mut t, OWNER, &bad_set), Rc::PARMS.param(2));
    assert_eq!(
        try_primary(&mut t, OWNER, &mldsa_template(BASIC | SIGN, 0, false)),
        Rc::PARMS.param(2)
    );
    // Wrong use bits.
    assert_eq!(
        try_primary(&mut t, OWNER, &mlkem_template(BASIC | SIGN, 2)),
        Rc::ATTRIBUTES.param(2)
    );
    assert_eq!(
        try_primary(&mut t, OWNER, &mldsa_template(BASIC | DECRYPT, 2, false)),
        Rc::ATTRIBUTES.param(2)
    );
    // External mu is for unrestricted keys only.
    assert_eq!(
        try_primary(
            &mut t,
            OWNER,
            &mldsa_template(BASIC | SIGN | RESTRICTED, 2, true)
        ),
        Rc::ATTRIBUTES.param(2)
    );
    // An unrestricted ML-KEM key has no symmetric algorithm; a restricted
    // one needs one.
    let mut t1 = mlkem_template(BASIC | DECRYPT, 2);
    let sym_at = 10;
    t1.splice(sym_at..sym_at + 2, [0x00, 0x06, 0x00, 0x80, 0x00, 0x43]);
    assert_eq!(try_primary(&mut t, OWNER, &t1), Rc::SYMMETRIC.param(2));
    let mut t2 = mlkem_template(BASIC | RESTRICTED | DECRYPT, 2);
    t2.splice(sym_at..sym_at + 6, [0x00, 0x10]);
    assert_eq!(try_primary(&mut t, OWNER, &t2), Rc::SYMMETRIC.param(2));
    // HashML-DSA with SHA-1 (no approved pre-hash): TPM_RC_HASH.
    assert_eq!(
        try_primary(&mut t, OWNER, &hash_mldsa_template(BASIC | SIGN, 2, 0x0004)),
        Rc::HASH.param(2)
    );
    // A unique of the wrong size (neither empty nor the key size).
    let short = with_unique(&mldsa_template(BASIC | SIGN, 1, false), &[0; 100]);
    assert_eq!(try_primary(&mut t, OWNER, &short), Rc::SIZE.param(2));
    // The allowExternalMu octet is a TPMI_YES_NO.
    let mut yn = mldsa_template(BASIC | SIGN, 1, false);
    yn[12] = 2;
    assert_eq!(try_primary(&mut t, OWNER, &yn), Rc::VALUE.param(2));
    // TestParms agrees (TPMT_PUBLIC_PARMS).
    let r = run(&mut t, &Cmd::new(0x18A).u16(ALG_MLDSA).u16(2).u8(1), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let r = run(
        &mut t,
        &Cmd::new(0x18A).u16(ALG_MLKEM).u16(0x10).u16(9),
        false,
    );
    assert_eq!(r.rc, Rc::PARMS.param(1));
    // Private keys are seeds of exactly 64 / 32 octets.
    let public = with_unique(&mldsa_template(USER_WITH_AUTH | SIGN, 1, false), &[0; 1312]);
    let r = load_external(&mut t, Some(&sensitive(ALG_MLDSA, &[1; 31])), &public);
    assert_eq!(r.rc, Rc::SIZE.param(1));
    // A seed that does not give the public key: TPM_RC_BINDING.
    let r = load_external(&mut t, Some(&sensitive(ALG_MLDSA, &[1; 32])), &public);
    assert_eq!(r.rc, Rc::BINDING.param(2));
    // A ciphertext longer than any parameter set: TPM_RC_SIZE on unmarshal.
    let (k, _, _) = create_primary(&mut t, OWNER, &mlkem_template(BASIC | DECRYPT, 1), b"");
    let r = run(
        &mut t,
        &Cmd::new(CC_DECAPSULATE).handle(k).pw(b"").b2(&[0; 1569]),
        false,
    );
    assert_eq!(r.rc, Rc::SIZE.param(1));
    // An ML-DSA signature longer than MAX_MLDSA_SIG_SIZE.
    let (d, _, _) = create_primary(&mut t, OWNER, &mldsa_template(BASIC | SIGN, 1, true), b"");
    let mut sig = ALG_MLDSA.to_be_bytes().to_vec();
    sig.extend_from_slice(&4628u16.to_be_bytes());
    let r = run(
        &mut t,
        &Cmd::new(CC_VERIFY_DIGEST_SIGNATURE)
            .handle(d)
            .b2(b"")
            .b2(&[0; 64])
            .bytes(&sig),
        false,
    );
    assert_eq!(r.rc, Rc::SIZE.param(3));
}

#[test]
fn part2_8_13_capabilities_report_the_pqc_algorithms() {
    let mut t = tpm();
    // TPM_CAP_ALGS from ML-KEM on.
    let mut r = run(&mut t, &Cmd::new(0x17A).u32(0).u32(0xA0).u32(3), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _more = r.take(1);
    assert_eq!(r.u32(), 0);
    assert_eq!(r.u32(), 3);
    let mut algs = Vec::new();
    for _ in 0..3 {
        algs.push((r.u16(), r.u32()));
    }
    assert_eq!(
        algs,
        [(0xA0, 0x209), (0xA1, 0x109), (0xA2, 0x109)],
        "asymmetric|object + encrypting / signing"
    );
    // TPM_PT_ML_PARAMETER_SETS.
    let pt = |t: &mut Tpm<TestPlatform>| {
        let mut r = run(t, &Cmd::new(0x17A).u32(6).u32(0x131).u32(1), false);
        assert_eq!(r.rc, Rc::SUCCESS);
        let _ = r.take(1 + 4 + 4);
        assert_eq!(r.u32(), 0x131);
        r.u32()
    };
    assert_eq!(
        pt(&mut t),
        0b101_1111,
        "ML-DSA-87 does not fit 4 KiB buffers"
    );
    assert_eq!(pt(&mut big_tpm()), 0b111_1111);
    // The new commands are in TPM_CAP_COMMANDS.
    let mut r = run(&mut t, &Cmd::new(0x17A).u32(2).u32(0x1A3).u32(8), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _ = r.take(1 + 4);
    assert_eq!(r.u32(), 8);
    let ccs: Vec<u32> = (0..8).map(|_| r.u32() & 0xFFFF).collect();
    assert_eq!(ccs, (0x1A3..=0x1AA).collect::<Vec<u32>>());
}

/// The derivation of post-quantum primary keys is ours and versioned
/// (`PrimaryStream`, label "vtpm primary v1"): ML-KEM draws `d || z`, then
/// (storage keys) the seedValue; ML-DSA draws `xi`. Pinned so that a
/// release never changes a user's primary keys.
#[test]
fn primary_derivation_of_pqc_keys_is_pinned() {
    use vtpm_core::crypto::HashAlg;
    use vtpm_core::object::{generate, PrimaryStream};
    use vtpm_core::wire::object::{Public, SensitiveCreate};
    use vtpm_core::wire::Reader;
    let seed = [0x5Eu8; 64];
    let cases: [(Vec<u8>, &str); 3] = [
        (
            mlkem_template(BASIC | RESTRICTED | DECRYPT, 2),
            PINNED_PRIMARIES[0],
        ),
        (mldsa_template(BASIC | SIGN, 2, false), PINNED_PRIMARIES[1]),
        (
            hash_mldsa_template(BASIC | SIGN, 1, SHA384),
            PINNED_PRIMARIES[2],
        ),
    ];
    let mut results = Vec::new();
    for (template, want) in cases {
        let public = Public::read(&mut Reader::new(&template), false).unwrap();
        let mut stream = PrimaryStream::new(HashAlg::Sha256, &seed, &template, b"");
        let (out, sens) = generate(&public, &SensitiveCreate::default(), &mut stream).unwrap();
        let key = vtpm_core::wire::Marshal::to_bytes(&out);
        let got = hexs(&sha2::Sha256::digest(
            [&key[..], &sens.sensitive, &sens.seed_value].concat(),
        ));
        results.push((got, want, hexs(&template)));
    }
    for (got, want, template) in results {
        assert_eq!(got, want, "template {template}");
    }
}

/// SHA-256 of (public area || private seed || seedValue) of the primaries
/// of [`primary_derivation_of_pqc_keys_is_pinned`].
const PINNED_PRIMARIES: [&str; 3] = [
    "dca6148b910f9880cba90bd700d04fab0e214412203a2072a3cc8c7135fe54ce",
    "32f7bd90c45dd8960327c38d9e45da84a13410e3295e6a62ff524a8c2e827a68",
    "a13eb665783651b884a1093dead5992406072782cd0673a759593cbf039a7556",
];

// ----------------------------------------------------------------- ML-DSA

/// Sign a long message in a sequence and verify it in a sequence and by
/// the ML-DSA crate's own verifier; check the ticket.
fn mldsa_sequence_round_trip(t: &mut Tpm<TestPlatform>, set: u16, pk_size: usize, sig_size: usize) {
    let (parent, _) = mlkem_storage_primary(t, OWNER);
    let (private, public) =
        create(t, parent, &mldsa_template(BASIC | SIGN, set, false), b"sk").unwrap();
    let pk = unique_of(&public);
    assert_eq!(pk.len(), pk_size);
    let k = load(t, parent, &private, &public);
    let msg: Vec<u8> = (0..3000u32).map(|i| (i * 31 + 7) as u8).collect();
    let ctx = b"vtpm test context";
    let tpmt = sign_message(t, k, b"sk", ctx, &msg).unwrap();
    assert_eq!(u16::from_be_bytes([tpmt[0], tpmt[1]]), ALG_MLDSA);
    let sig = sig_bytes(&tpmt);
    assert_eq!(sig.len(), sig_size);
    // Hedged: signing again gives another signature.
    let again = sig_bytes(&sign_message(t, k, b"sk", ctx, &msg).unwrap());
    assert_ne!(again, sig);
    // The crate's verify over mu (an independent check lives in the
    // Python test).
    let mu: [u8; 64] = client_mu(&pk, ctx, &msg).try_into().unwrap();
    let set_p = vtpm_core::wire::pqc::MlDsaParams::from_id(set).unwrap();
    vtpm_core::crypto::pqc::mldsa_verify_mu(set_p, &pk, &mu, &sig).unwrap();
    // Verification sequence: a MESSAGE_VERIFIED ticket in the owner hierarchy.
    let ticket = verify_message(t, k, ctx, &msg, &tpmt).unwrap();
    assert_eq!(ticket[..6], [0x80, 0x26, 0x40, 0, 0, 1]);
    assert_eq!(u16::from_be_bytes([ticket[6], ticket[7]]), 32);
    // Wrong context, wrong message, tampered signature.
    assert_eq!(
        verify_message(t, k, b"other", &msg, &tpmt),
        Err(Rc::SIGNATURE.param(1))
    );
    assert_eq!(
        verify_message(t, k, ctx, &msg[1..], &tpmt),
        Err(Rc::SIGNATURE.param(1))
    );
    let mut bad = tpmt.clone();
    bad[10] ^= 1;
    assert_eq!(
        verify_message(t, k, ctx, &msg, &bad),
        Err(Rc::SIGNATURE.param(1))
    );
    // Signature of the wrong size for the parameter set.
    let short = tpmt_mldsa(&sig[..sig.len() - 1]);
    assert_eq!(
        verify_message(t, k, ctx, &msg, &short),
        Err(Rc::SIZE.param(1))
    );
    // Without allowExternalMu, no digest signing.
    assert_eq!(
        sign_digest_auth(t, k, b"sk", b"", &mu),
        Err(Rc::ATTRIBUTES.handle(1))
    );
    flush(t, k);
    flush(t, parent);
}

#[test]
fn part3_20_mldsa_44_and_65_sequences_sign_and_verify() {
    let mut t = tpm();
    for (set, _, pk, sig) in &DSA_SETS[..2] {
        mldsa_sequence_round_trip(&mut t, *set, *pk, *sig);
    }
}

#[test]
fn part3_20_mldsa_87_sequences_sign_and_verify_with_large_buffers() {
    let mut t = big_tpm();
    let (set, _, pk, sig) = DSA_SETS[2];
    mldsa_sequence_round_trip(&mut t, set, pk, sig);
    // With the default 4 KiB response buffer the signature cannot be
    // returned: TPM_RC_SIZE, not a truncated response.
    let mut small = tpm();
    let (k, _, _) = create_primary(
        &mut small,
        OWNER,
        &mldsa_template(BASIC | SIGN, 3, false),
        b"",
    );
    assert_eq!(
        sign_message(&mut small, k, b"", b"", b"message"),
        Err(Rc::SIZE)
    );
}

#[test]
fn part3_20_7_mldsa_external_mu_sign_digest_and_verify_digest() {
    let mut t = tpm();
    let (k, public, _) = create_primary(&mut t, OWNER, &mldsa_template(BASIC | SIGN, 2, true), b"");
    let pk = unique_of(&public);
    let msg = b"a message whose mu the caller computes";
    let mu = client_mu(&pk, b"ctx", msg);
    let tpmt = sign_digest(&mut t, k, b"", &mu).unwrap();
    // The signature is the pure ML-DSA signature of the message.
    let ticket = verify_message(&mut t, k, b"ctx", msg, &tpmt).unwrap();
    assert_eq!(ticket[..2], ST_MESSAGE_VERIFIED.to_be_bytes());
    let ticket = verify_digest(&mut t, k, b"", &mu, &tpmt).unwrap();
    // DIGEST_VERIFIED, owner hierarchy, metadata TPM_ALG_SHAKE256_512.
    assert_eq!(ticket[..2], ST_DIGEST_VERIFIED.to_be_bytes());
    assert_eq!(ticket[2..8], [0x40, 0, 0, 1, 0x00, 0x2E]);
    // mu is 64 octets; no context with external mu; no ticket for mu.
    assert_eq!(
        sign_digest(&mut t, k, b"", &mu[..32]),
        Err(Rc::SIZE.param(2))
    );
    assert_eq!(sign_digest(&mut t, k, b"c", &mu), Err(Rc::SIZE.param(1)));
    assert_eq!(
        verify_digest(&mut t, k, b"", &[0; 64], &tpmt),
        Err(Rc::SIGNATURE.param(3))
    );
    // A HashML-DSA signature is of the wrong scheme for this key.
    let mut hs = ALG_HASH_MLDSA.to_be_bytes().to_vec();
    hs.extend_from_slice(&SHA256.to_be_bytes());
    hs.extend_from_slice(&sized(&sig_bytes(&tpmt)));
    assert_eq!(
        verify_digest(&mut t, k, b"", &mu, &hs),
        Err(Rc::SCHEME.param(3))
    );
    // A NULL-hierarchy key gets a NULL ticket.
    let mut pub_only = mldsa_template(USER_WITH_AUTH | SIGN, 2, true);
    pub_only = with_unique(&pub_only, &pk);
    let r = load_external(&mut t, None, &pub_only);
    assert_eq!(r.rc, Rc::SUCCESS);
    let ext = r.handle.unwrap();
    let ticket = verify_digest(&mut t, ext, b"", &mu, &tpmt).unwrap();
    assert_eq!(ticket, [0x80, 0x27, 0x40, 0, 0, 7, 0x00, 0x2E, 0, 0]);
}

#[test]
fn part3_20_hash_mldsa_digest_and_sequence() {
    let mut t = tpm();
    let (k, public, _) = create_primary(
        &mut t,
        OWNER,
        &hash_mldsa_template(BASIC | SIGN, 2, SHA384),
        b"",
    );
    let pk = unique_of(&public);
    let msg: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
    let digest = sha2::Sha384::digest(&msg).to_vec();
    // SignDigest of PH(M), verified in a sequence over M, and the other way.
    let tpmt = sign_digest(&mut t, k, b"hctx", &digest).unwrap();
    assert_eq!(tpmt[..4], [0x00, 0xA2, 0x00, 0x0C]);
    verify_message(&mut t, k, b"hctx", &msg, &tpmt).unwrap();
    let tpmt2 = sign_message(&mut t, k, b"", b"hctx", &msg).unwrap();
    let ticket = verify_digest(&mut t, k, b"hctx", &digest, &tpmt2).unwrap();
    assert_eq!(ticket[..8], [0x80, 0x27, 0x40, 0, 0, 1, 0x00, 0x0C]);
    // The digest must be a SHA-384 digest; the signature must name SHA-384.
    assert_eq!(
        sign_digest(&mut t, k, b"", &digest[..32]),
        Err(Rc::SIZE.param(2))
    );
    let mut wrong = tpmt2.clone();
    wrong[3] = 0x0B;
    assert_eq!(
        verify_digest(&mut t, k, b"hctx", &digest, &wrong),
        Err(Rc::SCHEME.param(3))
    );
    // The crate agrees: mu of HashML-DSA over the digest.
    use vtpm_core::crypto::pqc;
    let mu = pqc::mu_prehash(
        &pqc::mldsa_tr(&pk),
        b"hctx",
        vtpm_core::wire::pqc::prehash_oid(vtpm_core::crypto::HashAlg::Sha384).unwrap(),
        &digest,
    )
    .unwrap();
    pqc::mldsa_verify_mu(
        vtpm_core::wire::pqc::MlDsaParams::MlDsa65,
        &pk,
        &mu,
        &sig_bytes(&tpmt),
    )
    .unwrap();
}

#[test]
fn part3_20_6_sequence_rules() {
    let mut t = tpm();
    let (k, _, _) = create_primary(&mut t, OWNER, &mldsa_template(BASIC | SIGN, 1, false), b"");
    let (k2, _, _) = create_primary(
        &mut t,
        ENDORSEMENT,
        &mldsa_template(BASIC | SIGN, 1, false),
        b"",
    );
    // Completing with another key: TPM_RC_SIGN_CONTEXT_KEY; the sequence
    // survives a failed completion.
    let s = seq_start(&mut t, k, b"", false).unwrap();
    assert_eq!(seq_update(&mut t, s, b"hello"), Rc::SUCCESS);
    assert_eq!(
        sign_complete(&mut t, s, k2, b"", b""),
        Err(Rc::SIGN_CONTEXT_KEY)
    );
    let tpmt = sign_complete(&mut t, s, k, b"", b" world").unwrap();
    verify_message(&mut t, k, b"", b"hello world", &tpmt).unwrap();
    // The sequence was flushed on success.
    assert_ne!(seq_update(&mut t, s, b"x"), Rc::SUCCESS);
    // A verification sequence cannot sign, a signing sequence cannot be
    // finished with TPM2_SequenceComplete.
    let v = seq_start(&mut t, k, b"", true).unwrap();
    assert_eq!(
        sign_complete(&mut t, v, k, b"", b""),
        Err(Rc::MODE.handle(1))
    );
    flush(&mut t, v);
    let s = seq_start(&mut t, k, b"", false).unwrap();
    let r = run(
        &mut t,
        &Cmd::new(CC_SEQUENCE_COMPLETE)
            .handle(s)
            .pw(b"sq")
            .b2(b"")
            .u32(NULL_H),
        false,
    );
    assert_eq!(r.rc, Rc::MODE.handle(1));
    flush(&mut t, s);
    // A context of 256 octets is too long; a hint must be empty.
    let r = run(
        &mut t,
        &Cmd::new(CC_SIGN_SEQUENCE_START)
            .handle(k)
            .b2(b"")
            .b2(&[0; 256]),
        true,
    );
    assert_eq!(r.rc, Rc::SIZE.param(2));
    let r = run(
        &mut t,
        &Cmd::new(CC_VERIFY_SEQUENCE_START)
            .handle(k)
            .b2(b"")
            .b2(b"h")
            .b2(b""),
        true,
    );
    assert_eq!(r.rc, Rc::SIZE.param(2));
    // Not a signing key: TPM_RC_KEY.
    let (kem, _, _) = create_primary(&mut t, OWNER, &mlkem_template(BASIC | DECRYPT, 1), b"");
    assert_eq!(seq_start(&mut t, kem, b"", false), Err(Rc::KEY.handle(1)));
    // A restricted key refuses messages that begin with TPM_GENERATED_VALUE
    // (also split over SequenceUpdate), and refuses SignDigest.
    let (r_key, _, _) = create_primary(
        &mut t,
        OWNER,
        &mldsa_template(BASIC | SIGN | RESTRICTED, 1, false),
        b"",
    );
    let s = seq_start(&mut t, r_key, b"", false).unwrap();
    assert_eq!(seq_update(&mut t, s, &[0xFF, 0x54]), Rc::SUCCESS);
    assert_eq!(
        sign_complete(&mut t, s, r_key, b"", &[0x43, 0x47, 1, 2]),
        Err(Rc::VALUE.param(1))
    );
    flush(&mut t, s);
    assert!(sign_message(&mut t, r_key, b"", b"", b"\xFF\x54\x43\x48 fine").is_ok());
    assert_eq!(
        sign_digest(&mut t, r_key, b"", &[0; 64]),
        Err(Rc::ATTRIBUTES.handle(1))
    );
}

#[test]
fn part3_28_signature_sequences_survive_context_save_and_load() {
    let mut t = tpm();
    let (k, _, _) = create_primary(&mut t, OWNER, &mldsa_template(BASIC | SIGN, 2, false), b"");
    let (hk, _, _) = create_primary(
        &mut t,
        OWNER,
        &hash_mldsa_template(BASIC | SIGN, 1, SHA256),
        b"",
    );
    let msg: Vec<u8> = (0..2100u32).map(|i| (i % 251) as u8).collect();
    let save_flush_load = |t: &mut Tpm<TestPlatform>, h: u32| -> u32 {
        let mut r = run(t, &Cmd::new(CC_CONTEXT_SAVE).handle(h), false);
        assert_eq!(r.rc, Rc::SUCCESS);
        let context = r.rest();
        assert_eq!(context[8..12], 0x8000_0001u32.to_be_bytes());
        flush(t, h);
        let r = run(t, &Cmd::new(CC_CONTEXT_LOAD).bytes(&context), true);
        assert_eq!(r.rc, Rc::SUCCESS);
        r.handle.unwrap()
    };
    for key in [k, hk] {
        // Signing: half the message, save, flush, load, the other half.
        let s = seq_start(&mut t, key, b"c", false).unwrap();
        assert_eq!(seq_update(&mut t, s, &msg[..1000]), Rc::SUCCESS);
        let s = save_flush_load(&mut t, s);
        assert_eq!(seq_update(&mut t, s, &msg[1000..2000]), Rc::SUCCESS);
        let tpmt = sign_complete(&mut t, s, key, b"", &msg[2000..]).unwrap();
        // Verification, with its streamed ticket HMAC, saved mid-way.
        let v = seq_start(&mut t, key, b"c", true).unwrap();
        assert_eq!(seq_update(&mut t, v, &msg[..700]), Rc::SUCCESS);
        let v = save_flush_load(&mut t, v);
        for c in msg[700..].chunks(1024) {
            assert_eq!(seq_update(&mut t, v, c), Rc::SUCCESS);
        }
        let c = Cmd::new(CC_VERIFY_SEQUENCE_COMPLETE)
            .handle(v)
            .handle(key)
            .pw(b"sq")
            .bytes(&tpmt);
        let mut r = run(&mut t, &c, false);
        assert_eq!(r.rc, Rc::SUCCESS);
        let saved_ticket = r.rest();
        // Same ticket as an uninterrupted verification.
        assert_eq!(
            verify_message(&mut t, key, b"c", &msg, &tpmt).unwrap(),
            saved_ticket
        );
    }
}

#[test]
fn part3_ml_keys_in_context_save_load_evict_create_loaded_and_load_external() {
    let mut t = big_tpm();
    let (parent, _) = mlkem_storage_primary(&mut t, OWNER);
    // CreateLoaded of an ML-DSA-87 key under the ML-KEM parent.
    let c = Cmd::new(CC_CREATE_LOADED)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .bytes(&sized(&mldsa_template(BASIC | SIGN, 3, false)));
    let mut r = run(&mut t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS);
    let k = r.handle.unwrap();
    let _private = r.b2_raw();
    let public = r.b2_raw();
    let name = r.b2();
    assert_eq!(read_public(&mut t, k), (public.clone(), name.clone()));
    // Context save/load of the object (a 2592-octet public key).
    let mut r = run(&mut t, &Cmd::new(CC_CONTEXT_SAVE).handle(k), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let context = r.rest();
    flush(&mut t, k);
    let r = run(&mut t, &Cmd::new(CC_CONTEXT_LOAD).bytes(&context), true);
    assert_eq!(r.rc, Rc::SUCCESS);
    let k = r.handle.unwrap();
    assert_eq!(read_public(&mut t, k).1, name);
    let tpmt = sign_message(&mut t, k, b"", b"", b"after context load").unwrap();
    // Persistent: EvictControl, then the persistent handle signs and the
    // public-only copy (LoadExternal, NULL hierarchy) verifies.
    let persistent = 0x8100_0010u32;
    let r = run(
        &mut t,
        &Cmd::new(0x120)
            .handle(OWNER)
            .handle(k)
            .pw(b"")
            .u32(persistent),
        false,
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let tpmt2 = sign_message(&mut t, persistent, b"", b"", b"persistent").unwrap();
    let pub_area = &public[2..];
    let r = load_external(&mut t, None, pub_area);
    assert_eq!(r.rc, Rc::SUCCESS);
    let ext = r.handle.unwrap();
    verify_message(&mut t, ext, b"", b"after context load", &tpmt).unwrap();
    let ticket = verify_message(&mut t, ext, b"", b"persistent", &tpmt2).unwrap();
    assert_eq!(
        ticket,
        [0x80, 0x26, 0x40, 0, 0, 7, 0, 0],
        "NULL hierarchy: NULL ticket"
    );
    // LoadExternal with the private seed: the binding is checked.
    let xi = [0x42u8; 32];
    let pk = vtpm_core::crypto::pqc::mldsa_public(vtpm_core::wire::pqc::MlDsaParams::MlDsa44, &xi)
        .unwrap();
    let public = with_unique(&mldsa_template(USER_WITH_AUTH | SIGN, 1, false), &pk);
    let r = load_external(&mut t, Some(&sensitive(ALG_MLDSA, &xi)), &public);
    assert_eq!(r.rc, Rc::SUCCESS);
    let ek = r.handle.unwrap();
    let tpmt = sign_message(&mut t, ek, b"", b"", b"external").unwrap();
    verify_message(&mut t, ek, b"", b"external", &tpmt).unwrap();
}

// ----------------------------------------------------------------- Labeled KEM

#[test]
fn part1_21_credential_with_an_mlkem_key() {
    let mut t = tpm();
    for (set, _, _, ct_size) in KEM_SETS {
        let (ek, _, _) = create_primary(
            &mut t,
            ENDORSEMENT,
            &mlkem_template(BASIC | RESTRICTED | DECRYPT, set),
            b"",
        );
        let (ak, _, ak_name) = create_primary(
            &mut t,
            OWNER,
            &mldsa_template(BASIC | SIGN | RESTRICTED, 1, false),
            b"",
        );
        // MakeCredential with the ML-KEM key ("IDENTITY" Labeled KEM).
        let credential = b"sixteen byte sec";
        let mut r = run(
            &mut t,
            &Cmd::new(0x168).handle(ek).b2(credential).b2(&ak_name),
            false,
        );
        assert_eq!(r.rc, Rc::SUCCESS);
        let blob = r.b2();
        let secret = r.b2();
        assert_eq!(secret.len(), ct_size, "the secret is the ML-KEM ciphertext");
        let activate = |t: &mut Tpm<TestPlatform>, secret: &[u8]| {
            let c = Cmd::new(0x147)
                .handle(ak)
                .handle(ek)
                .pw(b"")
                .pw(b"")
                .b2(&blob)
                .b2(secret);
            let mut r = run(t, &c, false);
            (r.rc, if r.rc == Rc::SUCCESS { r.b2() } else { vec![] })
        };
        assert_eq!(
            activate(&mut t, &secret),
            (Rc::SUCCESS, credential.to_vec())
        );
        // Another ciphertext decapsulates to another seed: the integrity
        // check of the blob fails.
        let mut bad = secret.clone();
        bad[5] ^= 0x80;
        assert_ne!(activate(&mut t, &bad).0, Rc::SUCCESS);
        flush(&mut t, ek);
        flush(&mut t, ak);
    }
}

/// KDFa with SHA-256 (Part 1, 11.4.10.2), written independently.
fn kdfa(key: &[u8], label: &[u8], u: &[u8], v: &[u8], bits: u32) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    let mut out = Vec::new();
    let mut i: u32 = 0;
    while out.len() * 8 < bits as usize {
        i += 1;
        let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        for p in [&i.to_be_bytes()[..], label, &[0], u, v, &bits.to_be_bytes()] {
            m.update(p);
        }
        out.extend(m.finalize().into_bytes());
    }
    out.truncate(bits.div_ceil(8) as usize);
    out
}

fn hmac256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

#[test]
fn part1_47_4_salted_session_with_an_mlkem_key() {
    let mut t = tpm();
    let (kem, public, _) = create_primary(
        &mut t,
        OWNER,
        &mlkem_template(BASIC | RESTRICTED | DECRYPT, 2),
        b"",
    );
    let ek = unique_of(&public);
    // The client's Labeled KEM (Part 1, 47.4): encapsulate with the
    // `ml-kem` crate directly, salt = KDFa(SHA-256, K, "SECRET", c, ek, 256).
    let key =
        ml_kem::kem::Key::<ml_kem::EncapsulationKey<ml_kem::MlKem768>>::try_from(&ek[..]).unwrap();
    let enc = ml_kem::EncapsulationKey::<ml_kem::MlKem768>::new(&key).unwrap();
    let (ct, k) = enc.encapsulate_deterministic(&ml_kem::B32::from([9u8; 32]));
    let salt = kdfa(&k, b"SECRET", &ct, &ek, 256);
    let nonce_caller = vec![0x11; 32];
    let c = Cmd::new(0x176)
        .handle(kem)
        .handle(NULL_H)
        .b2(&nonce_caller)
        .b2(&ct)
        .u8(0) // HMAC session
        .u16(0x0010) // no parameter encryption
        .u16(SHA256);
    let mut r = run(&mut t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS, "StartAuthSession salted with ML-KEM");
    let session = r.handle.unwrap();
    let nonce_tpm = r.b2();
    let session_key = kdfa(&salt, b"ATH", &nonce_tpm, &nonce_caller, 256);
    // Use the session to authorize ReadPublic? It needs no authorization;
    // Decapsulate with an unrestricted ML-KEM key does.
    let (dk, dk_public, dk_name) =
        create_primary(&mut t, OWNER, &mlkem_template(BASIC | DECRYPT, 1), b"");
    let _ = dk_public;
    let (ss, ct1) = encapsulate(&mut t, dk);
    let params = sized(&ct1);
    let cp = sha2::Sha256::digest([&CC_DECAPSULATE.to_be_bytes()[..], &dk_name, &params].concat());
    let caller2 = vec![0x22; 32];
    let attrs = 1u8;
    let mac = hmac256(&session_key, &[&cp, &caller2, &nonce_tpm, &[attrs]]);
    let mut area = session.to_be_bytes().to_vec();
    area.extend_from_slice(&sized(&caller2));
    area.push(attrs);
    area.extend_from_slice(&sized(&mac));
    let mut cmd = vec![0x80, 0x02, 0, 0, 0, 0];
    cmd.extend_from_slice(&CC_DECAPSULATE.to_be_bytes());
    cmd.extend_from_slice(&dk.to_be_bytes());
    cmd.extend_from_slice(&(area.len() as u32).to_be_bytes());
    cmd.extend_from_slice(&area);
    cmd.extend_from_slice(&params);
    let n = (cmd.len() as u32).to_be_bytes();
    cmd[2..6].copy_from_slice(&n);
    let rsp = t.execute(0, &cmd);
    assert_eq!(
        &rsp[6..10],
        &[0, 0, 0, 0],
        "HMAC with the salted session key"
    );
    // The shared secret is in the response.
    let psize = u32::from_be_bytes(rsp[10..14].try_into().unwrap()) as usize;
    assert_eq!(&rsp[16..14 + psize], &ss[..]);
}

/// A policy session satisfying PolicyCommandCode(TPM2_Duplicate).
fn duplication_policy_session(t: &mut Tpm<TestPlatform>) -> u32 {
    let c = Cmd::new(0x176)
        .handle(NULL_H)
        .handle(NULL_H)
        .b2(&[0x33; 32])
        .u16(0)
        .u8(1) // policy
        .u16(0x0010)
        .u16(SHA256);
    let r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS);
    let s = r.handle.unwrap();
    let r = run(t, &Cmd::new(0x16C).handle(s).u32(0x14B), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    s
}

#[test]
fn part1_23_duplicate_and_import_an_mldsa_key_between_mlkem_parents() {
    let mut t = tpm();
    let (old_parent, _) = mlkem_storage_primary(&mut t, OWNER);
    let (new_parent, _) = mlkem_storage_primary(&mut t, ENDORSEMENT);
    // policyDigest of PolicyCommandCode(TPM_CC_Duplicate).
    let policy = sha2::Sha256::digest(
        [
            &[0u8; 32][..],
            &0x16Cu32.to_be_bytes(),
            &0x14Bu32.to_be_bytes(),
        ]
        .concat(),
    );
    let mut template = mldsa_template(SDO | USER_WITH_AUTH | SIGN, 2, false);
    template.splice(8..10, sized(&policy));
    let (private, public) = create(&mut t, old_parent, &template, b"").unwrap();
    let k = load(&mut t, old_parent, &private, &public);
    let pk = unique_of(&public);
    // Duplicate to the ML-KEM new parent ("DUPLICATE" Labeled KEM), no
    // inner wrapper.
    let s = duplication_policy_session(&mut t);
    let mut cmd = vec![0x80, 0x02, 0, 0, 0, 0];
    cmd.extend_from_slice(&0x14Bu32.to_be_bytes());
    cmd.extend_from_slice(&k.to_be_bytes());
    cmd.extend_from_slice(&new_parent.to_be_bytes());
    let mut area = s.to_be_bytes().to_vec();
    area.extend_from_slice(&[0, 0, 0, 0, 0]);
    cmd.extend_from_slice(&(area.len() as u32).to_be_bytes());
    cmd.extend_from_slice(&area);
    cmd.extend_from_slice(&[0, 0, 0x00, 0x10]); // encryptionKeyIn, symmetricAlg NULL
    let n = (cmd.len() as u32).to_be_bytes();
    cmd[2..6].copy_from_slice(&n);
    let rsp = t.execute(0, &cmd);
    assert_eq!(&rsp[6..10], &[0, 0, 0, 0], "Duplicate");
    let mut p = 14;
    let mut b2 = |rsp: &[u8]| {
        let n = u16::from_be_bytes([rsp[p], rsp[p + 1]]) as usize;
        let v = rsp[p..p + 2 + n].to_vec();
        p += 2 + n;
        v
    };
    let _key_out = b2(&rsp);
    let duplicate = b2(&rsp);
    let sym_seed = b2(&rsp);
    assert_eq!(sym_seed.len(), 2 + 1088, "an ML-KEM-768 ciphertext");
    // Import under the new parent, load, sign; the original verifies.
    let c = Cmd::new(0x156)
        .handle(new_parent)
        .pw(b"")
        .b2(b"")
        .bytes(&public)
        .bytes(&duplicate)
        .bytes(&sym_seed)
        .u16(0x0010);
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS, "Import");
    let imported_private = r.b2_raw();
    let imported = load(&mut t, new_parent, &imported_private, &public);
    assert_eq!(unique_of(&read_public(&mut t, imported).0), pk);
    let tpmt = sign_message(&mut t, imported, b"", b"", b"moved").unwrap();
    verify_message(&mut t, k, b"", b"moved", &tpmt).unwrap();
    // A tampered seed ciphertext decapsulates to another seed: Import fails
    // its integrity check.
    let mut bad = sym_seed.clone();
    bad[100] ^= 1;
    let c = Cmd::new(0x156)
        .handle(new_parent)
        .pw(b"")
        .b2(b"")
        .bytes(&public)
        .bytes(&duplicate)
        .bytes(&bad)
        .u16(0x0010);
    assert_ne!(run(&mut t, &c, false).rc, Rc::SUCCESS);
}

// ----------------------------------------------------------------- independent check

/// The TPM's ML-KEM and ML-DSA outputs, checked by `kyber-py` and
/// `dilithium-py` (pure Python FIPS 203/204, independent of RustCrypto);
/// and Python's outputs checked by the TPM. Fails if Python or the
/// packages are missing.
#[test]
fn independent_python_implementation_agrees() {
    let mut small = tpm();
    let mut big = big_tpm();
    let mut req = String::from("# vtpm-core/tests/pqc.rs request\n");
    let mut add = |fields: &[(&str, String)]| {
        req.push('\n');
        for (k, v) in fields {
            req.push_str(&format!("{k}: {v}\n"));
        }
    };
    let mut python_encaps = Vec::new();
    let mut python_signs = Vec::new();

    for (set, name, _, _) in KEM_SETS {
        // A key of a known seed (LoadExternal): keygen and the TPM's
        // encapsulation are checked by decapsulating in Python.
        let seed: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(set as u8 + 3)).collect();
        let ek = vtpm_core::crypto::pqc::mlkem_public(
            vtpm_core::wire::pqc::MlKemParams::from_id(set).unwrap(),
            &seed,
        )
        .unwrap();
        let public = with_unique(&mlkem_template(USER_WITH_AUTH | DECRYPT, set), &ek);
        let r = load_external(&mut small, Some(&sensitive(ALG_MLKEM, &seed)), &public);
        assert_eq!(r.rc, Rc::SUCCESS);
        let h = r.handle.unwrap();
        let (ss, ct) = encapsulate(&mut small, h);
        add(&[
            ("op", "mlkem-keygen".into()),
            ("set", name.into()),
            ("seed", hexs(&seed)),
            ("ek", hexs(&unique_of(&read_public(&mut small, h).0))),
        ]);
        add(&[
            ("op", "mlkem-decaps".into()),
            ("set", name.into()),
            ("seed", hexs(&seed)),
            ("ct", hexs(&ct)),
            ("ss", hexs(&ss)),
        ]);
        flush(&mut small, h);
        // A TPM-generated key: Python encapsulates, the TPM decapsulates.
        let (k, public, _) = create_primary(
            &mut small,
            OWNER,
            &mlkem_template(BASIC | DECRYPT, set),
            b"",
        );
        let id = format!("kem{set}");
        add(&[
            ("op", "mlkem-encaps".into()),
            ("id", id.clone()),
            ("set", name.into()),
            ("ek", hexs(&unique_of(&public))),
        ]);
        python_encaps.push((id, k));
    }

    for (set, name, _, _) in DSA_SETS {
        let t = if set == 3 { &mut big } else { &mut small };
        // TPM-generated key; pure ML-DSA over a multi-block message with a
        // context, through a sequence and through external mu.
        let (k, public, _) =
            create_primary(t, OWNER, &mldsa_template(BASIC | SIGN, set, true), b"");
        let pk = unique_of(&public);
        let msg: Vec<u8> = (0..2222u32).map(|i| (i * 13) as u8).collect();
        let ctx = format!("python check {name}").into_bytes();
        let sig = sig_bytes(&sign_message(t, k, b"", &ctx, &msg).unwrap());
        add(&[
            ("op", "mldsa-verify".into()),
            ("set", name.into()),
            ("pk", hexs(&pk)),
            ("msg", hexs(&msg)),
            ("ctx", hexs(&ctx)),
            ("sig", hexs(&sig)),
        ]);
        let mu = client_mu(&pk, b"", b"external mu message");
        let sig = sig_bytes(&sign_digest(t, k, b"", &mu).unwrap());
        add(&[
            ("op", "mldsa-verify".into()),
            ("set", name.into()),
            ("pk", hexs(&pk)),
            ("msg", hexs(b"external mu message")),
            ("ctx", String::new()),
            ("sig", hexs(&sig)),
        ]);
        // HashML-DSA with SHA-256: digest signing and a sequence.
        let (hk, hpublic, _) = create_primary(
            t,
            OWNER,
            &hash_mldsa_template(BASIC | SIGN, set, SHA256),
            b"",
        );
        let hpk = unique_of(&hpublic);
        let hmsg = b"hash then sign".repeat(100);
        let sig = sig_bytes(&sign_message(t, hk, b"", b"hc", &hmsg).unwrap());
        add(&[
            ("op", "hashmldsa-verify".into()),
            ("set", name.into()),
            ("hash", "SHA256".into()),
            ("pk", hexs(&hpk)),
            ("msg", hexs(&hmsg)),
            ("ctx", hexs(b"hc")),
            ("sig", hexs(&sig)),
        ]);
        let digest = sha2::Sha256::digest(&hmsg).to_vec();
        let sig = sig_bytes(&sign_digest(t, hk, b"", &digest).unwrap());
        add(&[
            ("op", "hashmldsa-verify".into()),
            ("set", name.into()),
            ("hash", "SHA256".into()),
            ("pk", hexs(&hpk)),
            ("msg", hexs(&hmsg)),
            ("ctx", String::new()),
            ("sig", hexs(&sig)),
        ]);
        // A key of a known seed: Python derives the same public key.
        let xi = [set as u8 ^ 0x5A; 32];
        let pk = vtpm_core::crypto::pqc::mldsa_public(
            vtpm_core::wire::pqc::MlDsaParams::from_id(set).unwrap(),
            &xi,
        )
        .unwrap();
        let public = with_unique(&mldsa_template(USER_WITH_AUTH | SIGN, set, false), &pk);
        let r = load_external(t, Some(&sensitive(ALG_MLDSA, &xi)), &public);
        assert_eq!(r.rc, Rc::SUCCESS);
        flush(t, r.handle.unwrap());
        add(&[
            ("op", "mldsa-keygen".into()),
            ("set", name.into()),
            ("seed", hexs(&xi)),
            ("pk", hexs(&pk)),
        ]);
        // Python signs; the TPM verifies with the public key alone.
        let id = format!("dsa{set}");
        add(&[
            ("op", "mldsa-sign".into()),
            ("id", id.clone()),
            ("set", name.into()),
            ("seed", hexs(&[0xA5; 32])),
            ("msg", hexs(b"signed in python")),
            ("ctx", hexs(b"py")),
        ]);
        python_signs.push((id, set));
        flush(t, k);
        flush(t, hk);
    }

    // Run the independent implementation.
    let dir = std::env::temp_dir().join(format!("vtpm-pqc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (req_path, rsp_path) = (dir.join("request.txt"), dir.join("response.txt"));
    std::fs::write(&req_path, &req).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/pqc/verify.py");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(&python)
        .arg(script)
        .arg(&req_path)
        .arg(&rsp_path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "independent ML-KEM/ML-DSA check failed ({}):\n{stdout}\n{stderr}\n\
         (needs: python3 -m pip install kyber-py==1.2.0 dilithium-py==1.5.1)",
        out.status
    );
    println!("{stdout}");
    let rsp: std::collections::HashMap<String, Vec<u8>> = std::fs::read_to_string(&rsp_path)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), unhex(v)))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);

    // Python's encapsulations decapsulate in the TPM to Python's secrets.
    for (id, k) in python_encaps {
        let ss = decapsulate(&mut small, k, b"", &rsp[&format!("{id}.ct")]).unwrap();
        assert_eq!(ss, rsp[&format!("{id}.ss")], "{id}");
    }
    // Python's signatures verify in the TPM.
    for (id, set) in python_signs {
        let t = if set == 3 { &mut big } else { &mut small };
        let public = with_unique(
            &mldsa_template(USER_WITH_AUTH | SIGN, set, false),
            &rsp[&format!("{id}.pk")],
        );
        let r = load_external(t, None, &public);
        assert_eq!(r.rc, Rc::SUCCESS);
        let h = r.handle.unwrap();
        let sig = tpmt_mldsa(&rsp[&format!("{id}.sig")]);
        verify_message(t, h, b"py", b"signed in python", &sig).unwrap();
        assert_eq!(
            verify_message(t, h, b"px", b"signed in python", &sig),
            Err(Rc::SIGNATURE.param(1))
        );
        flush(t, h);
    }
}

// ----------------------------------------------------------------- benchmark

/// Median latency of the post-quantum commands through the engine (for the
/// benchmark document). Run with
/// `cargo test --release -p vtpm-core --test pqc -- --ignored --nocapture bench`.
#[test]
#[ignore]
fn bench_pqc_latency() {
    const N: usize = 31;
    fn median(mut v: Vec<std::time::Duration>) -> std::time::Duration {
        v.sort();
        v[v.len() / 2]
    }
    let time = |f: &mut dyn FnMut()| -> std::time::Duration {
        let mut v = Vec::new();
        for _ in 0..N {
            let s = std::time::Instant::now();
            f();
            v.push(s.elapsed());
        }
        median(v)
    };
    println!("median of {N} runs through Tpm::execute (password sessions)");
    let mut t = big_tpm();
    for (set, name, _, _) in KEM_SETS {
        let (k, _, _) = create_primary(&mut t, OWNER, &mlkem_template(BASIC | DECRYPT, set), b"");
        let enc = Cmd::new(CC_ENCAPSULATE).handle(k).build();
        let (_, ct) = encapsulate(&mut t, k);
        let dec = Cmd::new(CC_DECAPSULATE).handle(k).pw(b"").b2(&ct).build();
        let e = time(&mut || {
            let r = t.execute(0, &enc);
            assert_eq!(&r[6..10], &[0, 0, 0, 0]);
        });
        let d = time(&mut || {
            let r = t.execute(0, &dec);
            assert_eq!(&r[6..10], &[0, 0, 0, 0]);
        });
        println!(
            "{name:12} Encapsulate {:>9.3} ms   Decapsulate {:>9.3} ms",
            ms(e),
            ms(d)
        );
        flush(&mut t, k);
    }
    for (set, name, _, _) in DSA_SETS {
        let (k, public, _) =
            create_primary(&mut t, OWNER, &mldsa_template(BASIC | SIGN, set, true), b"");
        let pk = unique_of(&public);
        let msg = [0x61u8; 32];
        let mu = client_mu(&pk, b"", &msg);
        let sign = Cmd::new(CC_SIGN_DIGEST)
            .handle(k)
            .pw(b"")
            .b2(b"")
            .b2(&mu)
            .bytes(&[0x80, 0x24, 0x40, 0, 0, 7, 0, 0])
            .build();
        let tpmt = sign_digest(&mut t, k, b"", &mu).unwrap();
        let verify = Cmd::new(CC_VERIFY_DIGEST_SIGNATURE)
            .handle(k)
            .b2(b"")
            .b2(&mu)
            .bytes(&tpmt)
            .build();
        let s = time(&mut || {
            let r = t.execute(0, &sign);
            assert_eq!(&r[6..10], &[0, 0, 0, 0]);
        });
        let v = time(&mut || {
            let r = t.execute(0, &verify);
            assert_eq!(&r[6..10], &[0, 0, 0, 0]);
        });
        // One-shot sequence signing of a short message (Start + Complete).
        let q = time(&mut || {
            sign_message(&mut t, k, b"", b"", &msg).unwrap();
        });
        println!(
            "{name:12} SignDigest  {:>9.3} ms   VerifyDigestSignature {:>9.3} ms   \
             SignSequenceStart+Complete {:>9.3} ms",
            ms(s),
            ms(v),
            ms(q)
        );
        flush(&mut t, k);
    }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
