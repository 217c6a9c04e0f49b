//! End to end (issue #6): cryptographic and attestation commands driven by
//! tpm2-tools 5.4 against `vtpm-host-sim`, once per transport (mssim and
//! swtpm directly, and through tpm2-abrmd).
//!
//! Results are checked independently of the TPM: signatures with
//! `/usr/bin/openssl` against the public key exported by `tpm2 readpublic
//! -f pem` (or the OpenSSL key that was imported), ciphertexts by OpenSSL
//! in the other direction, symmetric modes against `openssl enc` with the
//! same key bytes, digests and HMACs with SHA-2 computed in the test, and
//! attestation structures (TPMS_ATTEST) parsed here field by field.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384};
use vtpm_tests::yaml::{self, Yaml};
use vtpm_tests::{hex, per_transport, unhex, Sim, Tcti};

// ---------------------------------------------------------------- helpers

/// A simulator with `tpm2 startup -c` done and an owner RSA storage
/// primary in `prim.ctx`.
fn started(tcti: Tcti) -> Sim {
    let sim = Sim::start(tcti);
    sim.tpm2(&["startup", "-c"]);
    sim.tpm2(&["createprimary", "-C", "o", "-c", "prim.ctx", "-Q"]);
    sim
}

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// HMAC (RFC 2104) over a SHA-2 hash with 64- or 128-byte blocks,
/// written here so that the check does not rely on the TPM's code.
fn hmac<D: Digest>(block: usize, key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = if key.len() > block {
        D::digest(key).to_vec()
    } else {
        key.to_vec()
    };
    k.resize(block, 0);
    let ipad: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let opad: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let inner = D::new().chain_update(&ipad).chain_update(msg).finalize();
    D::new()
        .chain_update(&opad)
        .chain_update(inner)
        .finalize()
        .to_vec()
}

fn write(sim: &Sim, name: &str, data: &[u8]) {
    let p = sim.work_dir().join(name);
    fs::write(&p, data).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
}

fn read(sim: &Sim, name: &str) -> Vec<u8> {
    let p = sim.work_dir().join(name);
    fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Deterministic test bytes.
fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

fn assert_rc(stderr: &str, rc: u32, what: &str) {
    let want = format!("(0x{rc:x})");
    assert!(
        stderr.to_ascii_lowercase().contains(&want),
        "{what}: expected TPM response code {want}, got:\n{stderr}"
    );
}

fn openssl_raw(dir: &Path, args: &[&str]) -> Output {
    let bin = Path::new("/usr/bin/openssl");
    assert!(
        bin.is_file(),
        "/usr/bin/openssl is missing; the end-to-end tests need it \
         (apt-get install openssl)"
    );
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}"))
}

/// `/usr/bin/openssl args...` in the work directory; must succeed.
fn openssl(sim: &Sim, args: &[&str]) -> Vec<u8> {
    let out = openssl_raw(sim.work_dir(), args);
    assert!(
        out.status.success(),
        "`openssl {}` failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `openssl dgst -<hash> -verify pem -signature sig msg` (extra `-sigopt`s
/// in `opts`); returns whether OpenSSL accepted the signature.
fn openssl_verifies(sim: &Sim, hash: &str, pem: &str, sig: &str, msg: &str, opts: &[&str]) -> bool {
    let h = format!("-{hash}");
    let mut args = vec!["dgst", h.as_str(), "-verify", pem, "-signature", sig];
    args.extend_from_slice(opts);
    args.push(msg);
    let out = openssl_raw(sim.work_dir(), &args);
    let text = String::from_utf8_lossy(&out.stdout);
    out.status.success() && text.contains("Verified OK")
}

/// Asserts OpenSSL accepts the signature over `msg` and rejects it over
/// a different message (so the check can fail).
fn assert_openssl_signature(sim: &Sim, hash: &str, pem: &str, sig: &str, msg: &str, opts: &[&str]) {
    assert!(
        openssl_verifies(sim, hash, pem, sig, msg, opts),
        "OpenSSL rejects {sig} ({hash}, {pem}) over {msg}"
    );
    let mut other = read(sim, msg);
    other.push(b'!');
    write(sim, "tampered.bin", &other);
    assert!(
        !openssl_verifies(sim, hash, pem, sig, "tampered.bin", opts),
        "OpenSSL accepts {sig} over a different message"
    );
}

/// A TPM2B at the start of `b`: (contents, rest).
fn tpm2b(b: &[u8]) -> (&[u8], &[u8]) {
    assert!(b.len() >= 2, "truncated TPM2B");
    let n = usize::from(u16::from_be_bytes([b[0], b[1]]));
    assert!(b.len() >= 2 + n, "truncated TPM2B of {n} bytes");
    (&b[2..2 + n], &b[2 + n..])
}

fn be_u16(b: &[u8]) -> u16 {
    u16::from_be_bytes([b[0], b[1]])
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// The common part of a TPMS_ATTEST (Part 2, 10.12.12).
#[derive(Debug)]
struct Attest {
    kind: u16,
    signer: Vec<u8>,
    extra: Vec<u8>,
    clock: u64,
    reset_count: u32,
    restart_count: u32,
    safe: u8,
    /// The type-specific `attested` part.
    attested: Vec<u8>,
}

fn parse_attest(b: &[u8]) -> Attest {
    assert!(b.len() > 6, "TPMS_ATTEST too short: {}", hex(b));
    assert_eq!(be_u32(b), 0xff54_4347, "magic TPM_GENERATED_VALUE");
    let kind = be_u16(&b[4..]);
    let (signer, rest) = tpm2b(&b[6..]);
    let (extra, rest) = tpm2b(rest);
    assert!(rest.len() >= 17 + 8, "TPMS_ATTEST clockInfo/firmware");
    Attest {
        kind,
        signer: signer.to_vec(),
        extra: extra.to_vec(),
        clock: be_u64(rest),
        reset_count: be_u32(&rest[8..]),
        restart_count: be_u32(&rest[12..]),
        safe: rest[16],
        attested: rest[25..].to_vec(),
    }
}

/// Name and qualified name of a loaded object from `tpm2 readpublic`;
/// the Name is checked against nameAlg || H(TPMT_PUBLIC) computed here.
fn names(sim: &Sim, ctx: &str) -> (Vec<u8>, Vec<u8>) {
    sim.tpm2(&[
        "readpublic",
        "-c",
        ctx,
        "-o",
        "rp.pub",
        "-n",
        "rp.name",
        "-q",
        "rp.qname",
        "-Q",
    ]);
    let public = read(sim, "rp.pub");
    let (area, _) = tpm2b(&public);
    let name = read(sim, "rp.name");
    let mut want = 0x000bu16.to_be_bytes().to_vec();
    want.extend_from_slice(&sha256(area));
    assert_eq!(hex(&name), hex(&want), "Name of {ctx}");
    (name, read(sim, "rp.qname"))
}

/// `tpm2 readpublic -f pem` of a loaded key.
fn export_pem(sim: &Sim, ctx: &str, pem: &str) {
    sim.tpm2(&["readpublic", "-c", ctx, "-f", "pem", "-o", pem, "-Q"]);
}

/// Creates and loads a key under `prim.ctx`.
fn create(sim: &Sim, ctx: &str, args: &[&str]) {
    let pubf = format!("{ctx}.pub");
    let privf = format!("{ctx}.priv");
    let mut a = vec!["create", "-C", "prim.ctx", "-u", &pubf, "-r", &privf, "-Q"];
    a.extend_from_slice(args);
    sim.tpm2(&a);
    sim.tpm2(&[
        "load", "-C", "prim.ctx", "-u", &pubf, "-r", &privf, "-c", ctx, "-Q",
    ]);
}

/// Imports a key file (`tpm2 import -G alg -i file`) under `prim.ctx`
/// and loads it.
fn import(sim: &Sim, ctx: &str, alg: &str, input: &str, extra: &[&str]) {
    let pubf = format!("{ctx}.pub");
    let privf = format!("{ctx}.priv");
    let mut a = vec![
        "import", "-C", "prim.ctx", "-G", alg, "-i", input, "-u", &pubf, "-r", &privf, "-Q",
    ];
    a.extend_from_slice(extra);
    sim.tpm2(&a);
    sim.tpm2(&[
        "load", "-C", "prim.ctx", "-u", &pubf, "-r", &privf, "-c", ctx, "-Q",
    ]);
}

/// An OpenSSL RSA-2048 key in `<stem>.pem` and its public part in
/// `<stem>.pub.pem`.
fn openssl_rsa(sim: &Sim, stem: &str) {
    let k = format!("{stem}.pem");
    let p = format!("{stem}.pub.pem");
    openssl(sim, &["genrsa", "-out", &k, "2048"]);
    openssl(sim, &["rsa", "-in", &k, "-pubout", "-out", &p]);
}

/// An OpenSSL NIST P-256 key in `<stem>.pem` / `<stem>.pub.pem`.
fn openssl_p256(sim: &Sim, stem: &str) {
    let k = format!("{stem}.pem");
    let p = format!("{stem}.pub.pem");
    openssl(
        sim,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &k,
        ],
    );
    openssl(sim, &["ec", "-in", &k, "-pubout", "-out", &p]);
}

// ---------------------------------------------------------------- sign / verify

fn sign_verify(tcti: Tcti) {
    let sim = started(tcti);
    let msg = pattern(300, 7);
    write(&sim, "msg.bin", &msg);

    // RSA-2048 made by the TPM: RSASSA and RSAPSS, verified by OpenSSL and
    // by the TPM (with a verification ticket).
    create(&sim, "rsa.ctx", &["-G", "rsa2048"]);
    export_pem(&sim, "rsa.ctx", "rsa.pem");
    for (scheme, opts) in [
        ("rsassa", &[][..]),
        (
            "rsapss",
            &[
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ][..],
        ),
    ] {
        let plain = format!("{scheme}.plain");
        let tss = format!("{scheme}.sig");
        sim.tpm2(&[
            "sign", "-c", "rsa.ctx", "-g", "sha256", "-s", scheme, "-f", "plain", "-o", &plain,
            "msg.bin",
        ]);
        assert_eq!(read(&sim, &plain).len(), 256, "{scheme} signature size");
        assert_openssl_signature(&sim, "sha256", "rsa.pem", &plain, "msg.bin", opts);
        sim.tpm2(&[
            "sign", "-c", "rsa.ctx", "-g", "sha256", "-s", scheme, "-o", &tss, "msg.bin",
        ]);
        sim.tpm2(&[
            "verifysignature",
            "-c",
            "rsa.ctx",
            "-g",
            "sha256",
            "-m",
            "msg.bin",
            "-s",
            &tss,
            "-t",
            "verified.tk",
        ]);
        // TPMT_TK_VERIFIED for the owner hierarchy.
        assert_eq!(
            &read(&sim, "verified.tk")[..6],
            &[0x80, 0x22, 0x40, 0, 0, 1]
        );
        let err = sim.tpm2_fails(&[
            "verifysignature",
            "-c",
            "rsa.ctx",
            "-g",
            "sha256",
            "-m",
            "tampered.bin",
            "-s",
            &tss,
        ]);
        // TPM_RC_SIGNATURE on parameter 2.
        assert_rc(&err, 0x2db, &format!("{scheme} over another message"));
    }

    // ECDSA on P-256 (SHA-256) and P-384 (SHA-384), and EC-Schnorr (which
    // OpenSSL cannot check: the TPM verifies it).
    for (alg, hash) in [("ecc256", "sha256"), ("ecc384", "sha384")] {
        let ctx = format!("{alg}.ctx");
        let pem = format!("{alg}.pem");
        create(&sim, &ctx, &["-G", alg]);
        export_pem(&sim, &ctx, &pem);
        sim.tpm2(&[
            "sign",
            "-c",
            &ctx,
            "-g",
            hash,
            "-s",
            "ecdsa",
            "-f",
            "plain",
            "-o",
            "ecdsa.der",
            "msg.bin",
        ]);
        assert_openssl_signature(&sim, hash, &pem, "ecdsa.der", "msg.bin", &[]);
        for scheme in ["ecdsa", "ecschnorr"] {
            sim.tpm2(&[
                "sign", "-c", &ctx, "-g", hash, "-s", scheme, "-o", "ec.sig", "msg.bin",
            ]);
            // TPMT_SIGNATURE: sigAlg (ECDSA 0x18, ECSCHNORR 0x1c), hash.
            let sig = read(&sim, "ec.sig");
            let want_alg = if scheme == "ecdsa" { 0x18 } else { 0x1c };
            assert_eq!(be_u16(&sig), want_alg, "{alg} {scheme} sigAlg");
            sim.tpm2(&[
                "verifysignature",
                "-c",
                &ctx,
                "-g",
                hash,
                "-m",
                "msg.bin",
                "-s",
                "ec.sig",
            ]);
            let err = sim.tpm2_fails(&[
                "verifysignature",
                "-c",
                &ctx,
                "-g",
                hash,
                "-m",
                "tampered.bin",
                "-s",
                "ec.sig",
            ]);
            assert_rc(&err, 0x2db, &format!("{alg} {scheme} over another message"));
        }
    }

    // HMAC with a key of known bytes: the "signature" is the HMAC the test
    // computes itself.
    let key = pattern(32, 99);
    write(&sim, "hmac.key", &key);
    import(&sim, "hmac.ctx", "hmac", "hmac.key", &[]);
    sim.tpm2(&[
        "sign", "-c", "hmac.ctx", "-g", "sha256", "-o", "hmac.sig", "msg.bin",
    ]);
    let sig = read(&sim, "hmac.sig");
    // `tpm2 sign` hashes the message and TPM2_Sign signs the digest: the
    // HMAC is over SHA-256(msg).
    let mut want = vec![0x00, 0x05, 0x00, 0x0b]; // TPM_ALG_HMAC, TPM_ALG_SHA256
    want.extend_from_slice(&hmac::<Sha256>(64, &key, &sha256(&msg)));
    assert_eq!(hex(&sig), hex(&want), "HMAC signature");
    sim.tpm2(&[
        "verifysignature",
        "-c",
        "hmac.ctx",
        "-g",
        "sha256",
        "-m",
        "msg.bin",
        "-s",
        "hmac.sig",
    ]);
    sim.tpm2_fails(&[
        "verifysignature",
        "-c",
        "hmac.ctx",
        "-g",
        "sha256",
        "-m",
        "tampered.bin",
        "-s",
        "hmac.sig",
    ]);
}
per_transport!(
    sign_verify,
    sign_verify_mssim,
    sign_verify_swtpm,
    sign_verify_abrmd
);

// ---------------------------------------------------------------- RSA encryption

fn rsa_encrypt_decrypt(tcti: Tcti) {
    let sim = started(tcti);
    // An OpenSSL key imported into the TPM: OpenSSL has the private key
    // too, so ciphertexts can be checked both ways.
    openssl_rsa(&sim, "ext");
    import(&sim, "ext.ctx", "rsa", "ext.pem", &[]);
    let msg = b"RSA encryption across TPM and OpenSSL";
    write(&sim, "msg.bin", msg);
    // tpm2-tools passes the label with its terminating zero byte.
    let label_hex = format!("{}00", hex(b"vtpm-label"));
    let oaep_label = format!("rsa_oaep_label:{label_hex}");
    let oaep: &[&str] = &[
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        &oaep_label,
    ];
    let rsaes: &[&str] = &["-pkeyopt", "rsa_padding_mode:pkcs1"];
    let raw: &[&str] = &["-pkeyopt", "rsa_padding_mode:none"];
    // The null scheme is textbook RSA: a full-size input below the modulus.
    let mut block = pattern(256, 3);
    block[0] = 0;
    write(&sim, "block.bin", &block);

    for (scheme, label, opts, input) in [
        ("oaep", Some("vtpm-label"), oaep, "msg.bin"),
        ("rsaes", None, rsaes, "msg.bin"),
        ("null", None, raw, "block.bin"),
    ] {
        let plain = read(&sim, input);
        // TPM encrypts, OpenSSL decrypts.
        let mut args = vec!["rsaencrypt", "-c", "ext.ctx", "-s", scheme, "-o", "tpm.ct"];
        if let Some(l) = label {
            args.extend_from_slice(&["-l", l]);
        }
        args.push(input);
        sim.tpm2(&args);
        assert_eq!(read(&sim, "tpm.ct").len(), 256, "{scheme} ciphertext size");
        let mut o = vec![
            "pkeyutl", "-decrypt", "-inkey", "ext.pem", "-in", "tpm.ct", "-out", "ossl.pt",
        ];
        o.extend_from_slice(opts);
        openssl(&sim, &o);
        assert_eq!(
            read(&sim, "ossl.pt"),
            plain,
            "{scheme}: OpenSSL decrypts the TPM's"
        );

        // OpenSSL encrypts, TPM decrypts.
        let mut o = vec![
            "pkeyutl",
            "-encrypt",
            "-pubin",
            "-inkey",
            "ext.pub.pem",
            "-in",
            input,
            "-out",
            "ossl.ct",
        ];
        o.extend_from_slice(opts);
        openssl(&sim, &o);
        let mut args = vec!["rsadecrypt", "-c", "ext.ctx", "-s", scheme, "-o", "tpm.pt"];
        if let Some(l) = label {
            args.extend_from_slice(&["-l", l]);
        }
        args.push("ossl.ct");
        sim.tpm2(&args);
        assert_eq!(
            read(&sim, "tpm.pt"),
            plain,
            "{scheme}: TPM decrypts OpenSSL's"
        );
    }
    // OAEP with the wrong label.
    let err = sim.tpm2_fails(&[
        "rsadecrypt",
        "-c",
        "ext.ctx",
        "-s",
        "oaep",
        "-l",
        "other",
        "-o",
        "x.pt",
        "tpm.ct",
    ]);
    // Part 3, 14.3: TPM_RC_VALUE when decryption fails; the reference
    // implementation returns it without a parameter number (libtpms
    // answers TPM_RC_FAILURE here).
    assert_rc(&err, 0x84, "OAEP with the wrong label");

    // A key the TPM generated (decrypt only, no scheme), encrypting with
    // the public key exported as PEM.
    create(
        &sim,
        "dec.ctx",
        &[
            "-G",
            "rsa2048:null",
            "-a",
            "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt",
        ],
    );
    export_pem(&sim, "dec.ctx", "dec.pem");
    let mut o = vec![
        "pkeyutl", "-encrypt", "-pubin", "-inkey", "dec.pem", "-in", "msg.bin", "-out", "d.ct",
    ];
    o.extend_from_slice(oaep);
    openssl(&sim, &o);
    sim.tpm2(&[
        "rsadecrypt",
        "-c",
        "dec.ctx",
        "-s",
        "oaep",
        "-l",
        "vtpm-label",
        "-o",
        "d.pt",
        "d.ct",
    ]);
    assert_eq!(read(&sim, "d.pt"), msg);
}
per_transport!(
    rsa_encrypt_decrypt,
    rsa_encrypt_decrypt_mssim,
    rsa_encrypt_decrypt_swtpm,
    rsa_encrypt_decrypt_abrmd
);

// ---------------------------------------------------------------- ECDH

/// SubjectPublicKeyInfo (DER) of a P-256 point given as a TPM2B_ECC_POINT.
fn p256_spki_from_point(point: &[u8]) -> Vec<u8> {
    let (inner, _) = tpm2b(point);
    let (x, rest) = tpm2b(inner);
    let (y, _) = tpm2b(rest);
    assert_eq!((x.len(), y.len()), (32, 32), "P-256 coordinates");
    let mut der =
        unhex("3059301306072a8648ce3d020106082a8648ce3d03010703420004").unwrap_or_default();
    der.extend_from_slice(x);
    der.extend_from_slice(y);
    der
}

/// A TPM2B_ECC_POINT from a P-256 SubjectPublicKeyInfo (DER).
fn point_from_p256_spki(der: &[u8]) -> Vec<u8> {
    assert_eq!(der.len(), 91, "P-256 SubjectPublicKeyInfo");
    let (x, y) = (&der[27..59], &der[59..91]);
    let mut p = 68u16.to_be_bytes().to_vec();
    p.extend_from_slice(&32u16.to_be_bytes());
    p.extend_from_slice(x);
    p.extend_from_slice(&32u16.to_be_bytes());
    p.extend_from_slice(y);
    p
}

/// The x coordinate of a TPM2B_ECC_POINT (the ECDH shared secret).
fn point_x(point: &[u8]) -> Vec<u8> {
    let (inner, _) = tpm2b(point);
    tpm2b(inner).0.to_vec()
}

fn ecdh(tcti: Tcti) {
    let sim = started(tcti);
    // A TPM-generated ECDH key.
    create(
        &sim,
        "ecdh.ctx",
        &[
            "-G",
            "ecc256:ecdh",
            "-a",
            "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt",
        ],
    );
    export_pem(&sim, "ecdh.ctx", "ecdh.pem");
    // ECDH_KeyGen: an ephemeral Q and Z = d_e * P; ECDH_ZGen(Q) with the
    // key's private part gives the same Z.
    sim.tpm2(&["ecdhkeygen", "-c", "ecdh.ctx", "-u", "q.bin", "-o", "z.bin"]);
    sim.tpm2(&["ecdhzgen", "-c", "ecdh.ctx", "-u", "q.bin", "-o", "z2.bin"]);
    assert_eq!(hex(&read(&sim, "z.bin")), hex(&read(&sim, "z2.bin")));
    // An OpenSSL ephemeral key: OpenSSL derives with the TPM's public key,
    // the TPM with OpenSSL's public point.
    openssl_p256(&sim, "eph");
    openssl(
        &sim,
        &[
            "ec", "-in", "eph.pem", "-pubout", "-outform", "DER", "-out", "eph.der",
        ],
    );
    write(
        &sim,
        "eph.point",
        &point_from_p256_spki(&read(&sim, "eph.der")),
    );
    openssl(
        &sim,
        &[
            "pkeyutl",
            "-derive",
            "-inkey",
            "eph.pem",
            "-peerkey",
            "ecdh.pem",
            "-out",
            "z_ossl.bin",
        ],
    );
    sim.tpm2(&[
        "ecdhzgen",
        "-c",
        "ecdh.ctx",
        "-u",
        "eph.point",
        "-o",
        "z_tpm.bin",
    ]);
    let z_ossl = read(&sim, "z_ossl.bin");
    assert_eq!(z_ossl.len(), 32);
    assert_eq!(
        hex(&point_x(&read(&sim, "z_tpm.bin"))),
        hex(&z_ossl),
        "ZGen vs OpenSSL"
    );

    // ECDH_KeyGen checked by OpenSSL: with an imported OpenSSL key, OpenSSL
    // derives Z from the ephemeral Q the TPM returned.
    openssl_p256(&sim, "static");
    import(&sim, "static.ctx", "ecc", "static.pem", &[]);
    sim.tpm2(&[
        "ecdhkeygen",
        "-c",
        "static.ctx",
        "-u",
        "q2.bin",
        "-o",
        "zk.bin",
    ]);
    write(&sim, "q2.der", &p256_spki_from_point(&read(&sim, "q2.bin")));
    openssl(
        &sim,
        &[
            "pkeyutl",
            "-derive",
            "-inkey",
            "static.pem",
            "-peerkey",
            "q2.der",
            "-peerform",
            "DER",
            "-out",
            "zk_ossl.bin",
        ],
    );
    assert_eq!(
        hex(&point_x(&read(&sim, "zk.bin"))),
        hex(&read(&sim, "zk_ossl.bin")),
        "KeyGen vs OpenSSL"
    );
}
per_transport!(ecdh, ecdh_mssim, ecdh_swtpm, ecdh_abrmd);

// ---------------------------------------------------------------- symmetric

fn xor(a: &[u8], b: &[u8]) -> Vec<u8> {
    a.iter().zip(b).map(|(x, y)| x ^ y).collect()
}

fn encrypt_decrypt_modes(tcti: Tcti) {
    let sim = started(tcti);
    for bits in [128usize, 256] {
        let key = pattern(bits / 8, bits as u8);
        let key_file = format!("aes{bits}.key");
        let ctx = format!("aes{bits}.ctx");
        write(&sim, &key_file, &key);
        import(&sim, &ctx, "aes", &key_file, &[]);
        let iv = pattern(16, 0x42);
        write(&sim, "iv.bin", &iv);
        let pt = pattern(64, 1);
        write(&sim, "pt.bin", &pt);
        for mode in ["cfb", "cbc", "ctr", "ofb", "ecb"] {
            let what = format!("aes-{bits}-{mode}");
            let cipher = format!("-aes-{bits}-{mode}");
            let k = hex(&key);
            let ivh = hex(&iv);
            let mut o = vec!["enc", cipher.as_str(), "-K", k.as_str(), "-nopad"];
            if mode != "ecb" {
                o.extend_from_slice(&["-iv", ivh.as_str()]);
            }
            o.extend_from_slice(&["-in", "pt.bin", "-out", "ossl.ct"]);
            openssl(&sim, &o);
            let want = read(&sim, "ossl.ct");
            assert_eq!(want.len(), 64);

            let mut args = vec!["encryptdecrypt", "-c", ctx.as_str(), "-G", mode];
            if mode != "ecb" {
                args.extend_from_slice(&["-t", "iv.bin:ivout.bin"]);
            }
            args.extend_from_slice(&["-o", "tpm.ct", "pt.bin"]);
            sim.tpm2(&args);
            let ct = read(&sim, "tpm.ct");
            assert_eq!(hex(&ct), hex(&want), "{what}: TPM vs OpenSSL");

            // Decrypt OpenSSL's ciphertext in the TPM.
            let mut args = vec!["encryptdecrypt", "-d", "-c", ctx.as_str(), "-G", mode];
            if mode != "ecb" {
                args.extend_from_slice(&["-t", "iv.bin"]);
            }
            args.extend_from_slice(&["-o", "tpm.pt", "ossl.ct"]);
            sim.tpm2(&args);
            assert_eq!(read(&sim, "tpm.pt"), pt, "{what}: TPM decrypts OpenSSL's");

            if mode == "ecb" {
                continue;
            }
            // ivOut (Part 3, 15.2: the value to chain the next call with).
            let iv_out = read(&sim, "ivout.bin");
            let last = &ct[48..64];
            let want_iv = match mode {
                "cfb" | "cbc" => last.to_vec(),
                "ofb" => xor(last, &pt[48..64]),
                _ => {
                    // ctr: the counter after four blocks.
                    let c = u128::from_be_bytes(iv.clone().try_into().unwrap_or([0; 16]));
                    c.wrapping_add(4).to_be_bytes().to_vec()
                }
            };
            assert_eq!(hex(&iv_out), hex(&want_iv), "{what}: ivOut");
            // Chaining: the first 32 bytes, then the next 32 bytes with the
            // returned IV, give the one-shot ciphertext.
            write(&sim, "pt_a.bin", &pt[..32]);
            write(&sim, "pt_b.bin", &pt[32..]);
            sim.tpm2(&[
                "encryptdecrypt",
                "-c",
                &ctx,
                "-G",
                mode,
                "-t",
                "iv.bin:iv_a.bin",
                "-o",
                "ct_a",
                "pt_a.bin",
            ]);
            sim.tpm2(&[
                "encryptdecrypt",
                "-c",
                &ctx,
                "-G",
                mode,
                "-t",
                "iv_a.bin:iv_b.bin",
                "-o",
                "ct_b",
                "pt_b.bin",
            ]);
            let chained = [read(&sim, "ct_a"), read(&sim, "ct_b")].concat();
            assert_eq!(hex(&chained), hex(&want), "{what}: chained through ivOut");
        }
        // A stream mode on a length that is not a multiple of the block.
        let odd = pattern(50, 9);
        write(&sim, "odd.bin", &odd);
        for mode in ["cfb", "ctr", "ofb"] {
            let cipher = format!("-aes-{bits}-{mode}");
            let k = hex(&key);
            let ivh = hex(&iv);
            openssl(
                &sim,
                &[
                    "enc", &cipher, "-K", &k, "-iv", &ivh, "-nopad", "-in", "odd.bin", "-out",
                    "odd.ossl",
                ],
            );
            sim.tpm2(&[
                "encryptdecrypt",
                "-c",
                &ctx,
                "-G",
                mode,
                "-t",
                "iv.bin",
                "-o",
                "odd.tpm",
                "odd.bin",
            ]);
            assert_eq!(
                hex(&read(&sim, "odd.tpm")),
                hex(&read(&sim, "odd.ossl")),
                "aes-{bits}-{mode} on 50 bytes"
            );
        }
    }
}
per_transport!(
    encrypt_decrypt_modes,
    encrypt_decrypt_modes_mssim,
    encrypt_decrypt_modes_swtpm,
    encrypt_decrypt_modes_abrmd
);

// ---------------------------------------------------------------- hash / HMAC

fn hash_hmac_sequences(tcti: Tcti) {
    let sim = started(tcti);
    // More than MAX_DIGEST_BUFFER (1024): the tools use
    // HashSequenceStart / SequenceUpdate / SequenceComplete.
    let big = pattern(5000, 17);
    write(&sim, "big.bin", &big);
    let small = b"abc".to_vec();
    write(&sim, "small.bin", &small);
    type H = fn(&[u8]) -> Vec<u8>;
    let hashes: [(&str, H); 3] = [
        ("sha1", |d| Sha1::digest(d).to_vec()),
        ("sha256", |d| Sha256::digest(d).to_vec()),
        ("sha384", |d| Sha384::digest(d).to_vec()),
    ];
    for (alg, f) in hashes {
        for (file, data) in [("big.bin", &big), ("small.bin", &small)] {
            sim.tpm2(&["hash", "-g", alg, "-o", "d.bin", "-t", "t.bin", file]);
            assert_eq!(hex(&read(&sim, "d.bin")), hex(&f(data)), "{alg} of {file}");
            // TPMT_TK_HASHCHECK for the owner hierarchy, with an HMAC.
            let t = read(&sim, "t.bin");
            assert_eq!(&t[..6], &[0x80, 0x24, 0x40, 0, 0, 1], "{alg} ticket");
            assert!(be_u16(&t[6..]) > 0, "{alg} ticket digest");
        }
    }

    // HMAC keys of known bytes (SHA-256 and SHA-384), short and long
    // messages (the long one goes through HMAC_Start and a sequence).
    for (alg, block) in [("sha256", 64usize), ("sha384", 128)] {
        let key = pattern(40, block as u8);
        let kf = format!("{alg}.hkey");
        let ctx = format!("{alg}.hctx");
        write(&sim, &kf, &key);
        import(&sim, &ctx, &format!("hmac:{alg}"), &kf, &[]);
        for (file, data) in [("big.bin", &big), ("small.bin", &small)] {
            let out = sim.tpm2(&["hmac", "-c", &ctx, "-g", alg, "--hex", file]);
            let want = if alg == "sha256" {
                hmac::<Sha256>(block, &key, data)
            } else {
                hmac::<Sha384>(block, &key, data)
            };
            assert_eq!(out.trim(), hex(&want), "HMAC-{alg} of {file}");
        }
    }
}
per_transport!(
    hash_hmac_sequences,
    hash_hmac_sequences_mssim,
    hash_hmac_sequences_swtpm,
    hash_hmac_sequences_abrmd
);

// ---------------------------------------------------------------- quote

fn quote(tcti: Tcti) {
    let sim = started(tcti);
    let ext = hex(&sha256(b"quoted measurement"));
    sim.tpm2(&["pcrextend", &format!("16:sha256={ext}")]);
    sim.tpm2(&[
        "createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub", "-Q",
    ]);
    sim.tpm2(&[
        "createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "rsa", "-g", "sha256", "-s", "rsassa",
        "-u", "ak.pem", "-f", "pem", "-n", "ak.name", "-Q",
    ]);
    let nonce = "0102030405060708090a";
    let quote_out = sim.tpm2(&[
        "quote",
        "-c",
        "ak.ctx",
        "-l",
        "sha256:0,16",
        "-q",
        nonce,
        "-m",
        "quote.msg",
        "-s",
        "quote.sig",
        "-o",
        "quote.pcrs",
        "-g",
        "sha256",
    ]);
    let out = sim.tpm2(&[
        "checkquote",
        "-u",
        "ak.pem",
        "-m",
        "quote.msg",
        "-s",
        "quote.sig",
        "-f",
        "quote.pcrs",
        "-g",
        "sha256",
        "-q",
        nonce,
    ]);
    // The attestation as OpenSSL sees it: the same bytes signed with the
    // AK's PEM.
    sim.tpm2(&[
        "quote",
        "-c",
        "ak.ctx",
        "-l",
        "sha256:0,16",
        "-q",
        nonce,
        "-m",
        "quote2.msg",
        "-s",
        "quote2.sig",
        "-f",
        "plain",
        "-g",
        "sha256",
        "-Q",
    ]);
    assert_openssl_signature(&sim, "sha256", "ak.pem", "quote2.sig", "quote2.msg", &[]);

    // TPMS_ATTEST of type TPM_ST_ATTEST_QUOTE with the nonce and the
    // digest of PCR 0 || PCR 16 computed here.
    let a = parse_attest(&read(&sim, "quote.msg"));
    assert_eq!(a.kind, 0x8018, "TPM_ST_ATTEST_QUOTE");
    assert_eq!(hex(&a.extra), nonce, "extraData is the nonce");
    assert_eq!(a.safe, 1);
    let pcr16 = sha256(&[[0u8; 32].as_slice(), &sha256(b"quoted measurement")].concat());
    let want_digest = sha256(&[[0u8; 32].as_slice(), &pcr16].concat());
    let mut want = 1u32.to_be_bytes().to_vec();
    want.extend_from_slice(&[0x00, 0x0b, 3, 0x01, 0x00, 0x01]); // sha256: PCR 0, 16
    want.extend_from_slice(&32u16.to_be_bytes());
    want.extend_from_slice(&want_digest);
    assert_eq!(
        hex(&a.attested),
        hex(&want),
        "quote: pcrSelect and pcrDigest"
    );
    let calc = quote_out.lines().find_map(|l| {
        l.trim()
            .strip_prefix("calcDigest:")
            .map(|v| v.trim().to_string())
    });
    assert_eq!(calc, Some(hex(&want_digest)), "quote:\n{quote_out}");
    assert!(
        out.to_ascii_lowercase().contains(&hex(&pcr16)),
        "checkquote shows PCR 16:\n{out}"
    );
    // The signer is the AK's qualified name (under the EK).
    let (name, qname) = names(&sim, "ak.ctx");
    assert_eq!(name, read(&sim, "ak.name"));
    assert_eq!(hex(&a.signer), hex(&qname), "qualifiedSigner");

    // A different nonce does not check.
    let o = sim.tpm2_raw(&[
        "checkquote",
        "-u",
        "ak.pem",
        "-m",
        "quote.msg",
        "-s",
        "quote.sig",
        "-f",
        "quote.pcrs",
        "-g",
        "sha256",
        "-q",
        "00112233",
    ]);
    assert!(!o.status.success(), "checkquote accepted another nonce");
}
per_transport!(quote, quote_mssim, quote_swtpm, quote_abrmd);

// ---------------------------------------------------------------- attestation

fn attestation(tcti: Tcti) {
    let sim = started(tcti);
    // The signing key is an imported OpenSSL P-256 key: OpenSSL verifies
    // every attestation with its own copy of the public key.
    openssl_p256(&sim, "signer");
    import(&sim, "signer.ctx", "ecc", "signer.pem", &[]);
    let (_, signer_qn) = names(&sim, "signer.ctx");
    let check = |att: &str, sig: &str, kind: u16| -> Attest {
        assert_openssl_signature(&sim, "sha256", "signer.pub.pem", sig, att, &[]);
        let a = parse_attest(&read(&sim, att));
        assert_eq!(a.kind, kind, "{att}: TPMS_ATTEST type");
        assert_eq!(hex(&a.signer), hex(&signer_qn), "{att}: qualifiedSigner");
        a
    };
    let (clock0, reset0, restart0) = {
        let out = sim.tpm2(&["readclock"]);
        let y = yaml::parse(&out);
        let n = |p: &[&str]| y.path(p).and_then(Yaml::as_u64).unwrap_or(u64::MAX);
        (
            n(&["clock_info", "clock"]),
            n(&["clock_info", "reset_count"]),
            n(&["clock_info", "restart_count"]),
        )
    };

    // Certify: a TPM-made key, certified by the signer.
    create(&sim, "obj.ctx", &["-G", "ecc256"]);
    let (obj_name, obj_qn) = names(&sim, "obj.ctx");
    sim.tpm2(&[
        "certify",
        "-c",
        "obj.ctx",
        "-C",
        "signer.ctx",
        "-g",
        "sha256",
        "-o",
        "certify.att",
        "-s",
        "certify.sig",
        "-f",
        "plain",
    ]);
    let a = check("certify.att", "certify.sig", 0x8017);
    let (name, rest) = tpm2b(&a.attested);
    let (qn, _) = tpm2b(rest);
    assert_eq!(hex(name), hex(&obj_name), "certify: name");
    assert_eq!(hex(qn), hex(&obj_qn), "certify: qualifiedName");
    assert!(a.clock >= clock0, "clock {} < {clock0}", a.clock);
    // The signer is in the owner hierarchy, so resetCount, restartCount
    // (and firmwareVersion) are obfuscated (Part 3, 18.1): not the plain
    // values, but the same for every attestation by this key.
    assert_ne!(
        (u64::from(a.reset_count), u64::from(a.restart_count)),
        (reset0, restart0),
        "counts are obfuscated for an owner-hierarchy signer"
    );
    let counts = (a.reset_count, a.restart_count);

    // CertifyCreation: a primary with its creation data, hash and ticket.
    sim.tpm2(&[
        "createprimary",
        "-C",
        "o",
        "-G",
        "ecc",
        "-c",
        "cp.ctx",
        "--creation-data",
        "cd.bin",
        "--creation-hash",
        "ch.bin",
        "--creation-ticket",
        "ct.bin",
        "-Q",
    ]);
    let cd = read(&sim, "cd.bin"); // TPM2B_CREATION_DATA
    let creation_hash = sha256(tpm2b(&cd).0);
    assert_eq!(
        hex(tpm2b(&read(&sim, "ch.bin")).0),
        hex(&creation_hash),
        "creationHash"
    );
    write(&sim, "qual.bin", b"qualifying");
    sim.tpm2(&[
        "certifycreation",
        "-C",
        "signer.ctx",
        "-c",
        "cp.ctx",
        "-d",
        "ch.bin",
        "-t",
        "ct.bin",
        "-g",
        "sha256",
        "-o",
        "cc.sig",
        "-f",
        "plain",
        "--attestation",
        "cc.att",
        "-q",
        "qual.bin",
    ]);
    let a = check("cc.att", "cc.sig", 0x801a);
    assert_eq!(a.extra, b"qualifying", "certifycreation: extraData");
    let (name, rest) = tpm2b(&a.attested);
    let (hash, _) = tpm2b(rest);
    assert_eq!(
        hex(name),
        hex(&names(&sim, "cp.ctx").0),
        "certifycreation: objectName"
    );
    assert_eq!(
        hex(hash),
        hex(&creation_hash),
        "certifycreation: creationHash"
    );

    // GetTime: TPMS_TIME_ATTEST_INFO.
    sim.tpm2(&[
        "gettime",
        "-c",
        "signer.ctx",
        "-g",
        "sha256",
        "-o",
        "time.sig",
        "-f",
        "plain",
        "--attestation",
        "time.att",
        "-q",
        "c0ffee",
    ]);
    let a = check("time.att", "time.sig", 0x8019);
    assert_eq!((a.reset_count, a.restart_count), counts, "same obfuscation");
    assert_eq!(hex(&a.extra), "c0ffee");
    let t = &a.attested;
    assert!(t.len() >= 8 + 17 + 8, "TPMS_TIME_ATTEST_INFO: {}", hex(t));
    let time = be_u64(t);
    let clock = be_u64(&t[8..]);
    assert!(
        clock >= clock0 && clock >= a.clock,
        "time info clock {clock}"
    );
    assert!(time > 0, "time");

    // NV_Certify: 8 bytes at offset 4 of an index.
    let index = "0x01500020";
    sim.tpm2(&[
        "nvdefine",
        index,
        "-C",
        "o",
        "-s",
        "16",
        "-a",
        "ownerread|ownerwrite|authread|authwrite",
    ]);
    write(&sim, "nv.bin", b"0123456789abcdef");
    sim.tpm2(&["nvwrite", index, "-C", "o", "-i", "nv.bin"]);
    sim.tpm2(&[
        "nvcertify",
        "-C",
        "signer.ctx",
        "-g",
        "sha256",
        "-f",
        "plain",
        "-o",
        "nvc.sig",
        "--attestation",
        "nvc.att",
        "--size",
        "8",
        "--offset",
        "4",
        "-c",
        "o",
        index,
    ]);
    let a = check("nvc.att", "nvc.sig", 0x8014);
    let (nv_name, rest) = tpm2b(&a.attested);
    assert_eq!(be_u16(rest), 4, "nvcertify: offset");
    let (contents, _) = tpm2b(&rest[2..]);
    assert_eq!(contents, b"456789ab", "nvcertify: contents");
    let out = sim.tpm2(&["nvreadpublic", index]);
    let printed = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("name: ").map(str::to_string));
    assert_eq!(printed, Some(hex(nv_name)), "nvcertify: indexName\n{out}");
}
per_transport!(
    attestation,
    attestation_mssim,
    attestation_swtpm,
    attestation_abrmd
);

// ---------------------------------------------------------------- credentials

fn credential(tcti: Tcti) {
    let sim = started(tcti);
    sim.tpm2(&[
        "createek", "-c", "ek.ctx", "-G", "rsa", "-u", "ek.pub", "-Q",
    ]);
    sim.tpm2(&[
        "createak", "-C", "ek.ctx", "-c", "ak.ctx", "-G", "ecc", "-g", "sha256", "-s", "ecdsa",
        "-n", "ak.name", "-Q",
    ]);
    sim.tpm2(&["readpublic", "-c", "ek.ctx", "-o", "ek.tpub", "-Q"]);
    let secret = b"credential for the AK";
    write(&sim, "secret.bin", secret);
    let ak_name = hex(&read(&sim, "ak.name"));
    // Offline: no TPM involved in MakeCredential.
    sim.tpm2(&[
        "makecredential",
        "-T",
        "none",
        "-u",
        "ek.tpub",
        "-s",
        "secret.bin",
        "-n",
        &ak_name,
        "-o",
        "cred.bin",
        "-Q",
    ]);
    let activate = |cred: &str| {
        sim.tpm2(&["startauthsession", "--policy-session", "-S", "ek.session"]);
        sim.tpm2(&["policysecret", "-S", "ek.session", "-c", "e"]);
        let o = sim.tpm2_raw(&[
            "activatecredential",
            "-c",
            "ak.ctx",
            "-C",
            "ek.ctx",
            "-i",
            cred,
            "-o",
            "out.bin",
            "-P",
            "session:ek.session",
        ]);
        sim.tpm2(&["flushcontext", "ek.session"]);
        o
    };
    let _ = fs::remove_file(sim.work_dir().join("out.bin"));
    let o = activate("cred.bin");
    assert!(o.status.success(), "activatecredential:\n{}", o.stderr);
    assert_eq!(read(&sim, "out.bin"), secret, "recovered credential");

    // A credential made for another Name does not activate with this AK
    // (the integrity HMAC covers the Name): TPM_RC_INTEGRITY.
    let mut other = read(&sim, "ak.name");
    if let Some(b) = other.last_mut() {
        *b ^= 1;
    }
    sim.tpm2(&[
        "makecredential",
        "-T",
        "none",
        "-u",
        "ek.tpub",
        "-s",
        "secret.bin",
        "-n",
        &hex(&other),
        "-o",
        "cred2.bin",
        "-Q",
    ]);
    let o = activate("cred2.bin");
    assert!(!o.status.success(), "credential for another name activated");
    // TPM_RC_INTEGRITY on credentialBlob (parameter 1).
    assert_rc(&o.stderr, 0x1df, "credential made for another Name");
}
per_transport!(
    credential,
    credential_mssim,
    credential_swtpm,
    credential_abrmd
);

// ---------------------------------------------------------------- duplication

fn duplicate_import(tcti: Tcti) {
    let sim = started(tcti);
    let msg = pattern(100, 5);
    write(&sim, "msg.bin", &msg);
    // The key may be duplicated under PolicyCommandCode(Duplicate).
    sim.tpm2(&["startauthsession", "-S", "trial.ctx"]);
    sim.tpm2(&[
        "policycommandcode",
        "-S",
        "trial.ctx",
        "-L",
        "dup.policy",
        "TPM2_CC_Duplicate",
    ]);
    sim.tpm2(&["flushcontext", "trial.ctx"]);
    create(
        &sim,
        "key.ctx",
        &[
            "-G",
            "ecc256:ecdsa-sha256",
            "-a",
            "sensitivedataorigin|userwithauth|sign",
            "-L",
            "dup.policy",
        ],
    );
    export_pem(&sim, "key.ctx", "key.pem");
    // The second primary (an ECC one, so the seed goes through ECDH).
    sim.tpm2(&[
        "createprimary",
        "-C",
        "o",
        "-G",
        "ecc",
        "-c",
        "prim2.ctx",
        "-Q",
    ]);

    for wrapper in ["aes", "null"] {
        sim.tpm2(&["startauthsession", "--policy-session", "-S", "dup.session"]);
        sim.tpm2(&[
            "policycommandcode",
            "-S",
            "dup.session",
            "TPM2_CC_Duplicate",
        ]);
        let mut args = vec![
            "duplicate",
            "-C",
            "prim2.ctx",
            "-c",
            "key.ctx",
            "-G",
            wrapper,
            "-p",
            "session:dup.session",
            "-r",
            "dup.priv",
            "-s",
            "dup.seed",
        ];
        if wrapper == "aes" {
            args.extend_from_slice(&["-o", "inner.key"]);
        }
        sim.tpm2(&args);
        sim.tpm2(&["flushcontext", "dup.session"]);
        let mut args = vec![
            "import",
            "-C",
            "prim2.ctx",
            "-u",
            "key.ctx.pub",
            "-i",
            "dup.priv",
            "-s",
            "dup.seed",
            "-r",
            "imported.priv",
        ];
        if wrapper == "aes" {
            args.extend_from_slice(&["-k", "inner.key"]);
        }
        sim.tpm2(&args);
        sim.tpm2(&[
            "load",
            "-C",
            "prim2.ctx",
            "-u",
            "key.ctx.pub",
            "-r",
            "imported.priv",
            "-c",
            "imported.ctx",
            "-Q",
        ]);
        // The imported copy signs; OpenSSL verifies with the original's
        // public key.
        sim.tpm2(&[
            "sign",
            "-c",
            "imported.ctx",
            "-g",
            "sha256",
            "-f",
            "plain",
            "-o",
            "dup.sig",
            "msg.bin",
        ]);
        assert_openssl_signature(&sim, "sha256", "key.pem", "dup.sig", "msg.bin", &[]);
        assert_eq!(names(&sim, "imported.ctx").0, names(&sim, "key.ctx").0);
    }

    // Keys made by OpenSSL, imported and used: RSA and P-256 signatures
    // verify with OpenSSL's public keys.
    openssl_rsa(&sim, "ext_rsa");
    import(&sim, "ext_rsa.ctx", "rsa", "ext_rsa.pem", &[]);
    sim.tpm2(&[
        "sign",
        "-c",
        "ext_rsa.ctx",
        "-g",
        "sha256",
        "-s",
        "rsassa",
        "-f",
        "plain",
        "-o",
        "ext_rsa.sig",
        "msg.bin",
    ]);
    assert_openssl_signature(
        &sim,
        "sha256",
        "ext_rsa.pub.pem",
        "ext_rsa.sig",
        "msg.bin",
        &[],
    );
    openssl_p256(&sim, "ext_ec");
    import(&sim, "ext_ec.ctx", "ecc", "ext_ec.pem", &[]);
    sim.tpm2(&[
        "sign",
        "-c",
        "ext_ec.ctx",
        "-g",
        "sha256",
        "-s",
        "ecdsa",
        "-f",
        "plain",
        "-o",
        "ext_ec.sig",
        "msg.bin",
    ]);
    assert_openssl_signature(
        &sim,
        "sha256",
        "ext_ec.pub.pem",
        "ext_ec.sig",
        "msg.bin",
        &[],
    );
    // Their public keys as the TPM exports them equal OpenSSL's.
    for stem in ["ext_rsa", "ext_ec"] {
        let ctx = format!("{stem}.ctx");
        let pem = format!("{stem}.tpm.pem");
        export_pem(&sim, &ctx, &pem);
        let pub_pem = format!("{stem}.pub.pem");
        let a = openssl(&sim, &["pkey", "-pubin", "-in", &pem, "-outform", "DER"]);
        let b = openssl(
            &sim,
            &["pkey", "-pubin", "-in", &pub_pem, "-outform", "DER"],
        );
        assert_eq!(hex(&a), hex(&b), "{stem}: exported public key");
    }
}
per_transport!(
    duplicate_import,
    duplicate_import_mssim,
    duplicate_import_swtpm,
    duplicate_import_abrmd
);

// ---------------------------------------------------------------- clock

fn clock_value(sim: &Sim) -> u64 {
    let out = sim.tpm2(&["readclock"]);
    yaml::parse(&out)
        .path(&["clock_info", "clock"])
        .and_then(Yaml::as_u64)
        .unwrap_or_else(|| panic!("no clock in:\n{out}"))
}

fn clock_set_rate(tcti: Tcti) {
    let sim = started(tcti);
    let before = clock_value(&sim);
    let target = before + 50_000_000;
    sim.tpm2(&["setclock", &target.to_string()]);
    let after = clock_value(&sim);
    assert!(
        after >= target && after < target + 60_000,
        "clock {after} after ClockSet({target})"
    );
    // Clock never goes backwards: TPM_RC_VALUE on newTime.
    let err = sim.tpm2_fails(&["setclock", &before.to_string()]);
    assert_rc(&err, 0x1c4, "ClockSet to an earlier time");
    assert!(clock_value(&sim) >= after);
    // Platform authorization works too.
    sim.tpm2(&["setclock", "-c", "p", &(target + 1_000_000).to_string()]);
    assert!(clock_value(&sim) >= target + 1_000_000);

    for rate in ["s", "ss", "sss", "f", "ff", "fff"] {
        sim.tpm2(&["clockrateadjust", rate]);
    }
    sim.tpm2(&["clockrateadjust", "-c", "p", "ss"]);
    let c1 = clock_value(&sim);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let c2 = clock_value(&sim);
    assert!(c2 > c1, "the clock still runs after ClockRateAdjust");
}
per_transport!(
    clock_set_rate,
    clock_set_rate_mssim,
    clock_set_rate_swtpm,
    clock_set_rate_abrmd
);
