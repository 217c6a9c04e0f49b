//! End to end (issue #3): objects with tpm2-tools against `vtpm-host-sim`.
//!
//! Every scenario runs once per transport (`per_transport!`): the mssim
//! TCTI, the swtpm TCTI, and tpm2-abrmd in front of the simulator. The
//! tests create primaries and children of every supported type (RSA
//! 2048/3072/4096, ECC P-256/P-384, KEYEDHASH HMAC keys and sealed data,
//! SYMCIPHER AES-128/256), load them, check the Names printed by
//! `tpm2 readpublic`/`tpm2 load` against the Name computed here from the
//! public area (nameAlg || H(TPMT_PUBLIC), Part 1, 16), check the attributes
//! reported, use every key (sign/verify, RSA encrypt/decrypt, HMAC against
//! an HMAC computed here, AES round trips, unseal), change auth values,
//! move objects to persistent handles and back across a simulator restart,
//! flush, and load saved contexts in later tool invocations. Response codes
//! are checked as tpm2-tools prints them (e.g. `(0x98E)`).

use std::fs;
use std::path::PathBuf;

use sha2::{Digest, Sha256};
use vtpm_tests::yaml::{self, Yaml};
use vtpm_tests::{hex, per_transport, unhex, Sim, Tcti};

// ---------------------------------------------------------------- helpers

/// A simulator with `tpm2 startup -c` done.
fn started(tcti: Tcti) -> Sim {
    let sim = Sim::start(tcti);
    sim.tpm2(&["startup", "-c"]);
    sim
}

fn file(sim: &Sim, name: &str) -> PathBuf {
    sim.work_dir().join(name)
}

fn read(sim: &Sim, name: &str) -> Vec<u8> {
    fs::read(file(sim, name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
}

fn write(sim: &Sim, name: &str, data: &[u8]) {
    fs::write(file(sim, name), data).unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
}

/// Asserts that tpm2-tools printed the response code `rc` (it prints it as
/// `(0x9A2)` after the failing Esys call, and as `(0x000009a2)` in the
/// TSS's own error line).
fn assert_rc(stderr: &str, rc: u32, what: &str) {
    let low = stderr.to_ascii_lowercase();
    assert!(
        low.contains(&format!("(0x{rc:x})")) || low.contains(&format!("(0x{rc:08x})")),
        "{what}: expected response code 0x{rc:X}, got:\n{stderr}"
    );
}

// TPMA_OBJECT bits (Part 2, 8.3.2).
const FIXED_TPM: u32 = 1 << 1;
const FIXED_PARENT: u32 = 1 << 4;
const SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
const USER_WITH_AUTH: u32 = 1 << 6;
const NO_DA: u32 = 1 << 10;
const RESTRICTED: u32 = 1 << 16;
const DECRYPT: u32 = 1 << 17;
const SIGN: u32 = 1 << 18;

/// The TPMA_OBJECT bits of an attribute list as tpm2-tools writes it
/// (`fixedtpm|fixedparent|...`).
fn attr_bits(list: &str) -> u32 {
    list.split('|')
        .map(|a| match a.trim() {
            "fixedtpm" => FIXED_TPM,
            "fixedparent" => FIXED_PARENT,
            "sensitivedataorigin" => SENSITIVE_DATA_ORIGIN,
            "userwithauth" => USER_WITH_AUTH,
            "noda" => NO_DA,
            "restricted" => RESTRICTED,
            "decrypt" => DECRYPT,
            "sign" => SIGN,
            other => panic!("attribute {other:?} not known to this test"),
        })
        .fold(0, |a, b| a | b)
}

/// The attributes `tpm2 createprimary` uses by default: a restricted
/// decryption (storage) key.
const STORAGE: &str = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|decrypt";
const SIGNING: &str = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign|noda";
const DECRYPTING: &str = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt|noda";
const SYMMETRIC: &str = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|decrypt|sign|noda";
/// A sealed data object: no sensitiveDataOrigin (the caller provides the
/// data), no sign/decrypt.
const SEALED: &str = "fixedtpm|fixedparent|userwithauth";

/// A public area read from a `TPM2B_PUBLIC` file (`tpm2 create -u`,
/// `tpm2 readpublic -f tss -o`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Public {
    /// The marshaled TPMT_PUBLIC (without the size).
    area: Vec<u8>,
    kind: u16,
    name_alg: u16,
    attributes: u32,
}

impl Public {
    fn parse(bytes: &[u8], what: &str) -> Public {
        assert!(
            bytes.len() >= 10,
            "{what}: TPM2B_PUBLIC too short: {}",
            hex(bytes)
        );
        let size = usize::from(u16::from_be_bytes([bytes[0], bytes[1]]));
        assert_eq!(
            size + 2,
            bytes.len(),
            "{what}: TPM2B_PUBLIC size field does not match the file"
        );
        let area = bytes[2..].to_vec();
        Public {
            kind: u16::from_be_bytes([area[0], area[1]]),
            name_alg: u16::from_be_bytes([area[2], area[3]]),
            attributes: u32::from_be_bytes([area[4], area[5], area[6], area[7]]),
            area,
        }
    }

    /// The object's Name: nameAlg || H_nameAlg(TPMT_PUBLIC) (Part 1, 16).
    fn name(&self) -> Vec<u8> {
        assert_eq!(
            self.name_alg, 0x000b,
            "this test computes SHA-256 Names only"
        );
        let mut n = self.name_alg.to_be_bytes().to_vec();
        n.extend_from_slice(&Sha256::digest(&self.area));
        n
    }
}

const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_KEYEDHASH: u16 = 0x0008;
const TPM_ALG_ECC: u16 = 0x0023;
const TPM_ALG_SYMCIPHER: u16 = 0x0025;

/// What `tpm2 readpublic` printed, checked against the public area it wrote.
struct ReadPublic {
    public: Public,
    name: Vec<u8>,
    y: Yaml,
    out: String,
}

impl ReadPublic {
    fn field(&self, path: &[&str]) -> &Yaml {
        self.y
            .path(path)
            .unwrap_or_else(|| panic!("no {} in readpublic output:\n{}", path.join("."), self.out))
    }

    fn u64(&self, path: &[&str]) -> u64 {
        self.field(path)
            .as_u64()
            .unwrap_or_else(|| panic!("{} is not a number:\n{}", path.join("."), self.out))
    }
}

/// `tpm2 readpublic -c <ctx>`: the printed Name must equal the Name
/// computed from the public area written with `-f tss -o`, and the one
/// written with `-n`; the printed type, nameAlg and attributes must equal
/// the fields of that public area.
fn readpublic(sim: &Sim, ctx: &str) -> ReadPublic {
    let tag: String = ctx
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let pub_file = format!("rp-{tag}.pub");
    let name_file = format!("rp-{tag}.name");
    let out = sim.tpm2(&[
        "readpublic",
        "-c",
        ctx,
        "-f",
        "tss",
        "-o",
        &pub_file,
        "-n",
        &name_file,
    ]);
    let y = yaml::parse(&out);
    let public = Public::parse(&read(sim, &pub_file), ctx);
    let name = public.name();
    let printed = y
        .get("name")
        .and_then(Yaml::as_str)
        .and_then(unhex)
        .unwrap_or_else(|| panic!("no name in readpublic {ctx}:\n{out}"));
    assert_eq!(
        hex(&printed),
        hex(&name),
        "readpublic {ctx}: printed Name vs nameAlg || H(TPMT_PUBLIC)"
    );
    assert_eq!(read(sim, &name_file), name, "readpublic {ctx}: -n file");
    let rp = ReadPublic {
        public,
        name,
        y,
        out,
    };
    assert_eq!(rp.u64(&["type", "raw"]), u64::from(rp.public.kind), "type");
    assert_eq!(rp.u64(&["name-alg", "raw"]), 0xb, "nameAlg");
    assert_eq!(
        rp.u64(&["attributes", "raw"]),
        u64::from(rp.public.attributes),
        "attributes printed vs the public area"
    );
    rp
}

/// `tpm2 create` + `tpm2 load` of a child of `parent`; checks the Name
/// `tpm2 load` prints against the public area `tpm2 create` wrote, and
/// `readpublic` of the loaded object. Returns the context file and what
/// readpublic saw.
fn create_load(
    sim: &Sim,
    parent: &str,
    tag: &str,
    extra: &[&str],
    attrs: &str,
) -> (String, ReadPublic) {
    let (pubf, privf, ctx) = (
        format!("{tag}.pub"),
        format!("{tag}.priv"),
        format!("{tag}.ctx"),
    );
    let mut args = vec![
        "create", "-C", parent, "-u", &pubf, "-r", &privf, "-a", attrs,
    ];
    args.extend_from_slice(extra);
    sim.tpm2(&args);
    let public = Public::parse(&read(sim, &pubf), &pubf);
    assert_eq!(
        public.attributes,
        attr_bits(attrs),
        "{tag}: attributes in the created public area"
    );
    let out = sim.tpm2(&["load", "-C", parent, "-u", &pubf, "-r", &privf, "-c", &ctx]);
    let y = yaml::parse(&out);
    let printed = y.get("name").and_then(Yaml::as_str).and_then(unhex);
    assert_eq!(
        printed.as_deref().map(hex),
        Some(hex(&public.name())),
        "{tag}: Name printed by tpm2 load vs computed from {pubf}\n{out}"
    );
    let rp = readpublic(sim, &ctx);
    assert_eq!(
        rp.public, public,
        "{tag}: readpublic vs tpm2 create public area"
    );
    (ctx, rp)
}

/// Flush every transient object (the tools leave objects loaded from
/// context files loaded when there is no resource manager).
fn flush_transient(sim: &Sim) {
    sim.tpm2(&["flushcontext", "-t"]);
    let out = sim.tpm2(&["getcap", "handles-transient"]);
    assert!(
        yaml::parse(&out).items().is_empty() && !out.contains("0x80"),
        "transient handles left after flushcontext -t:\n{out}"
    );
}

/// HMAC-SHA256 (RFC 2104), to check the TPM's HMAC.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

/// Sign `msg.bin` with `key` (SHA-256), verify it with the TPM, and check
/// that a changed message does not verify (TPM_RC_SIGNATURE, parameter 2).
fn sign_verify(sim: &Sim, key: &str, auth: &[&str]) {
    write(
        sim,
        "msg.bin",
        b"message signed by the vtpm end-to-end test",
    );
    write(
        sim,
        "other.bin",
        b"message signed by the vtpm end-to-end tesT",
    );
    let sig = format!("{key}.sig");
    let mut args = vec!["sign", "-c", key, "-g", "sha256", "-o", &sig];
    args.extend_from_slice(auth);
    args.push("msg.bin");
    sim.tpm2(&args);
    assert!(!read(sim, &sig).is_empty(), "{key}: empty signature");
    sim.tpm2(&[
        "verifysignature",
        "-c",
        key,
        "-g",
        "sha256",
        "-m",
        "msg.bin",
        "-s",
        &sig,
    ]);
    let err = sim.tpm2_fails(&[
        "verifysignature",
        "-c",
        key,
        "-g",
        "sha256",
        "-m",
        "other.bin",
        "-s",
        &sig,
    ]);
    // TPM_RC_SIGNATURE (0x09B) on parameter 2: 0x2DB.
    assert_rc(
        &err,
        0x2db,
        &format!("{key}: signature over another message"),
    );
}

/// Encrypt and decrypt `data` with the AES key `key` (CFB, zero IV).
fn aes_round_trip(sim: &Sim, key: &str, data: &[u8]) -> Vec<u8> {
    let (p, e, d) = (
        format!("{key}.plain"),
        format!("{key}.enc"),
        format!("{key}.dec"),
    );
    write(sim, &p, data);
    sim.tpm2(&["encryptdecrypt", "-c", key, "-o", &e, &p]);
    sim.tpm2(&["encryptdecrypt", "-d", "-c", key, "-o", &d, &e]);
    let enc = read(sim, &e);
    assert_eq!(enc.len(), data.len(), "{key}: CFB keeps the length");
    assert_ne!(enc, data, "{key}: ciphertext equals the plaintext");
    assert_eq!(read(sim, &d), data, "{key}: decrypt(encrypt(x)) != x");
    enc
}

// ---------------------------------------------------------------- primaries

/// `tpm2 createprimary` with `alg`/`attrs` in `hierarchy`, then readpublic.
fn primary(sim: &Sim, hierarchy: &str, alg: &str, attrs: &str, ctx: &str) -> ReadPublic {
    sim.tpm2(&[
        "createprimary",
        "-C",
        hierarchy,
        "-g",
        "sha256",
        "-G",
        alg,
        "-a",
        attrs,
        "-c",
        ctx,
    ]);
    let rp = readpublic(sim, ctx);
    assert_eq!(
        rp.public.attributes,
        attr_bits(attrs),
        "{alg} primary attributes"
    );
    rp
}

/// Primaries of every supported type: the same template twice gives the
/// same public area (primary keys are derived from the hierarchy seed),
/// another hierarchy gives another key, and the printed fields match the
/// template.
fn primaries(tcti: Tcti) {
    let sim = started(tcti);
    let hmac_attrs = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign";
    let cases: &[(&str, &str, u16)] = &[
        ("rsa2048", STORAGE, TPM_ALG_RSA),
        ("rsa3072", STORAGE, TPM_ALG_RSA),
        ("ecc256", STORAGE, TPM_ALG_ECC),
        ("ecc384", STORAGE, TPM_ALG_ECC),
        ("aes128", STORAGE, TPM_ALG_SYMCIPHER),
        ("aes256", STORAGE, TPM_ALG_SYMCIPHER),
        ("hmac", hmac_attrs, TPM_ALG_KEYEDHASH),
    ];
    for &(alg, attrs, kind) in cases {
        let a = primary(&sim, "o", alg, attrs, "a.ctx");
        let b = primary(&sim, "o", alg, attrs, "b.ctx");
        assert_eq!(a.public.kind, kind, "{alg}: type");
        assert_eq!(
            hex(&a.public.area),
            hex(&b.public.area),
            "{alg}: two primaries from the same template differ"
        );
        assert_eq!(a.name, b.name, "{alg}: Names of the two primaries");
        match alg {
            "rsa2048" | "rsa3072" => {
                let bits: u64 = alg[3..].parse().unwrap_or_default();
                assert_eq!(a.u64(&["bits"]), bits, "{alg}: key bits");
                assert_eq!(a.u64(&["exponent"]), 65537, "{alg}: exponent");
                let n = a
                    .field(&["rsa"])
                    .as_str()
                    .and_then(unhex)
                    .unwrap_or_default();
                assert_eq!(n.len() as u64 * 8, bits, "{alg}: modulus length");
                assert!(n[0] & 0x80 != 0, "{alg}: modulus top bit");
            }
            "ecc256" | "ecc384" => {
                let (curve, len) = if alg == "ecc256" { (3, 32) } else { (4, 48) };
                assert_eq!(a.u64(&["curve-id", "raw"]), curve, "{alg}: curve");
                for c in ["x", "y"] {
                    let v = a.field(&[c]).as_str().and_then(unhex).unwrap_or_default();
                    assert_eq!(v.len(), len, "{alg}: {c} coordinate length\n{}", a.out);
                }
            }
            "aes128" | "aes256" => {
                let bits: u64 = alg[3..].parse().unwrap_or_default();
                assert_eq!(a.u64(&["sym-keybits"]), bits, "{alg}: key bits");
                assert_eq!(a.u64(&["sym-alg", "raw"]), 0x6, "{alg}: AES");
            }
            _ => {
                assert_eq!(a.u64(&["algorithm", "raw"]), 0x5, "hmac scheme");
                assert_eq!(a.u64(&["hash-alg", "raw"]), 0xb, "hmac hash");
            }
        }
        // The endorsement hierarchy has another seed: another key, except
        // for the parts the template fixes.
        let e = primary(&sim, "e", alg, attrs, "e.ctx");
        assert_ne!(
            e.name, a.name,
            "{alg}: owner and endorsement primaries are equal"
        );
        flush_transient(&sim);
    }
    // P-521 is not implemented: TPM_RC_CURVE (0x0A6) on parameter 2.
    let err = sim.tpm2_fails(&["createprimary", "-C", "o", "-G", "ecc521", "-c", "x.ctx"]);
    assert_rc(&err, 0x2e6, "createprimary ecc521");
}
per_transport!(primaries, primaries_mssim, primaries_swtpm, primaries_abrmd);

// ---------------------------------------------------------------- children

/// Children of every supported type under an RSA and an ECC storage
/// primary, and a grandchild under a child storage key; each one loaded,
/// its Name checked, and used.
fn children(tcti: Tcti) {
    let sim = started(tcti);
    sim.tpm2(&["createprimary", "-C", "o", "-G", "rsa2048", "-c", "rsa.ctx"]);
    sim.tpm2(&["createprimary", "-C", "o", "-G", "ecc256", "-c", "ecc.ctx"]);

    // RSA signing keys (2048, 4096), RSASSA with SHA-256.
    for (tag, alg, bits) in [
        ("rsa2k", "rsa2048:rsassa-sha256", 2048),
        ("rsa4k", "rsa4096:rsassa-sha256", 4096),
    ] {
        let (ctx, rp) = create_load(&sim, "rsa.ctx", tag, &["-G", alg], SIGNING);
        assert_eq!(rp.public.kind, TPM_ALG_RSA);
        assert_eq!(rp.u64(&["bits"]), bits, "{tag}: bits");
        assert_eq!(rp.u64(&["scheme", "raw"]), 0x14, "{tag}: RSASSA");
        sign_verify(&sim, &ctx, &[]);
        flush_transient(&sim);
    }

    // An RSA decryption key: RSAES-OAEP round trip.
    let (ctx, _) = create_load(&sim, "rsa.ctx", "rsadec", &["-G", "rsa2048"], DECRYPTING);
    let msg = b"RSA-OAEP message \x00\x01\xff";
    write(&sim, "oaep.plain", msg);
    sim.tpm2(&[
        "rsaencrypt",
        "-c",
        &ctx,
        "-s",
        "oaep",
        "-o",
        "oaep.enc",
        "oaep.plain",
    ]);
    assert_eq!(
        read(&sim, "oaep.enc").len(),
        256,
        "RSA-2048 ciphertext length"
    );
    sim.tpm2(&[
        "rsadecrypt",
        "-c",
        &ctx,
        "-s",
        "oaep",
        "-o",
        "oaep.dec",
        "oaep.enc",
    ]);
    assert_eq!(read(&sim, "oaep.dec"), msg, "RSA-OAEP round trip");
    flush_transient(&sim);

    // ECDSA keys on P-256 and P-384, under the ECC primary.
    for (tag, alg, curve) in [
        ("p256", "ecc256:ecdsa-sha256", 3),
        ("p384", "ecc384:ecdsa-sha256", 4),
    ] {
        let (ctx, rp) = create_load(&sim, "ecc.ctx", tag, &["-G", alg], SIGNING);
        assert_eq!(rp.public.kind, TPM_ALG_ECC);
        assert_eq!(rp.u64(&["curve-id", "raw"]), curve, "{tag}: curve");
        assert_eq!(rp.u64(&["scheme", "raw"]), 0x18, "{tag}: ECDSA");
        sign_verify(&sim, &ctx, &[]);
        flush_transient(&sim);
    }

    // AES-128 and AES-256 (CFB) keys: round trips, and two keys encrypt
    // the same plaintext differently.
    let data: Vec<u8> = (0..100u8).collect();
    let mut ciphertexts = Vec::new();
    for (tag, alg, bits) in [("aes128", "aes128cfb", 128), ("aes256", "aes256cfb", 256)] {
        let (ctx, rp) = create_load(&sim, "ecc.ctx", tag, &["-G", alg], SYMMETRIC);
        assert_eq!(rp.public.kind, TPM_ALG_SYMCIPHER);
        assert_eq!(rp.u64(&["sym-keybits"]), bits, "{tag}: bits");
        assert_eq!(rp.u64(&["sym-mode", "raw"]), 0x43, "{tag}: CFB");
        let enc = aes_round_trip(&sim, &ctx, &data);
        // The same key and IV give the same ciphertext in a later call.
        assert_eq!(
            aes_round_trip(&sim, &ctx, &data),
            enc,
            "{tag}: not deterministic"
        );
        ciphertexts.push(enc);
        flush_transient(&sim);
    }
    assert_ne!(
        ciphertexts[0], ciphertexts[1],
        "AES-128 and AES-256 keys agree"
    );

    // A KEYEDHASH HMAC key made by the TPM: HMACs are 32 bytes,
    // deterministic, and depend on the message.
    let (ctx, rp) = create_load(&sim, "rsa.ctx", "hmac", &["-G", "hmac"], SIGNING);
    assert_eq!(rp.public.kind, TPM_ALG_KEYEDHASH);
    assert_eq!(rp.u64(&["algorithm", "raw"]), 0x5, "HMAC scheme");
    write(&sim, "m1.bin", b"first message");
    write(&sim, "m2.bin", b"second message");
    let h1 = sim.tpm2(&["hmac", "-c", &ctx, "--hex", "m1.bin"]);
    let h1b = sim.tpm2(&["hmac", "-c", &ctx, "--hex", "m1.bin"]);
    let h2 = sim.tpm2(&["hmac", "-c", &ctx, "--hex", "m2.bin"]);
    assert_eq!(
        unhex(&h1).map(|v| v.len()),
        Some(32),
        "HMAC-SHA256 length: {h1:?}"
    );
    assert_eq!(h1, h1b, "HMAC not deterministic");
    assert_ne!(h1, h2, "HMAC does not depend on the message");
    flush_transient(&sim);

    // An HMAC key with known key bits (tpm2 import): the TPM's HMAC equals
    // the one computed here.
    let key: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
    write(&sim, "hmac.key", &key);
    sim.tpm2(&[
        "import", "-C", "rsa.ctx", "-G", "hmac", "-i", "hmac.key", "-u", "imp.pub", "-r",
        "imp.priv",
    ]);
    let out = sim.tpm2(&[
        "load", "-C", "rsa.ctx", "-u", "imp.pub", "-r", "imp.priv", "-c", "imp.ctx",
    ]);
    let imported = Public::parse(&read(&sim, "imp.pub"), "imp.pub");
    assert!(
        out.contains(&hex(&imported.name())),
        "load imp: Name\n{out}"
    );
    let got = sim.tpm2(&["hmac", "-c", "imp.ctx", "--hex", "m1.bin"]);
    assert_eq!(
        got.trim(),
        hex(&hmac_sha256(&key, b"first message")),
        "HMAC of an imported key"
    );
    flush_transient(&sim);

    // Sealed data (KEYEDHASH, null scheme).
    write(&sim, "seal.in", b"sealed under the ECC primary");
    let (ctx, rp) = create_load(&sim, "ecc.ctx", "sealed", &["-i", "seal.in"], SEALED);
    assert_eq!(rp.public.kind, TPM_ALG_KEYEDHASH);
    assert_eq!(
        rp.u64(&["algorithm", "raw"]),
        0x10,
        "sealed data: null scheme"
    );
    sim.tpm2(&["unseal", "-c", &ctx, "-o", "seal.out"]);
    assert_eq!(read(&sim, "seal.out"), b"sealed under the ECC primary");
    flush_transient(&sim);

    // A child storage key (restricted decrypt RSA) and an ECC grandchild.
    let (child, rp) = create_load(&sim, "rsa.ctx", "storage", &["-G", "rsa2048"], STORAGE);
    assert_eq!(
        rp.public.attributes & (RESTRICTED | DECRYPT),
        RESTRICTED | DECRYPT
    );
    let (gc, _) = create_load(
        &sim,
        &child,
        "grandchild",
        &["-G", "ecc256:ecdsa-sha256"],
        SIGNING,
    );
    sign_verify(&sim, &gc, &[]);
    flush_transient(&sim);
    // The grandchild cannot be loaded under the primary: its private part
    // is protected by the child storage key, so the outer HMAC check fails:
    // TPM_RC_INTEGRITY (0x09F) on parameter 1 (inPrivate) = 0x1DF.
    let err = sim.tpm2_fails(&[
        "load",
        "-C",
        "rsa.ctx",
        "-u",
        "grandchild.pub",
        "-r",
        "grandchild.priv",
        "-c",
        "x.ctx",
    ]);
    assert_rc(&err, 0x1df, "grandchild loaded under the wrong parent");
}
per_transport!(children, children_mssim, children_swtpm, children_abrmd);

// ---------------------------------------------------------------- auth

/// TPM2_ObjectChangeAuth: the new private part takes the new auth value
/// and refuses the old one (TPM_RC_AUTH_FAIL for a DA-protected object,
/// TPM_RC_BAD_AUTH for a noDA one, on session 1); the Name does not
/// change. And TPM2_HierarchyChangeAuth of the owner hierarchy.
fn changeauth(tcti: Tcti) {
    let sim = started(tcti);
    sim.tpm2(&["createprimary", "-C", "o", "-G", "ecc256", "-c", "prim.ctx"]);
    // DA-protected signing key (no noda) with auth "old".
    let attrs = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign";
    let (ctx, before) = create_load(
        &sim,
        "prim.ctx",
        "key",
        &["-G", "ecc256:ecdsa-sha256", "-p", "old"],
        attrs,
    );
    sign_verify(&sim, &ctx, &["-p", "old"]);
    sim.tpm2(&[
        "changeauth",
        "-c",
        &ctx,
        "-C",
        "prim.ctx",
        "-p",
        "old",
        "-r",
        "key.new.priv",
        "new",
    ]);
    flush_transient(&sim);
    sim.tpm2(&[
        "load",
        "-C",
        "prim.ctx",
        "-u",
        "key.pub",
        "-r",
        "key.new.priv",
        "-c",
        "new.ctx",
    ]);
    let after = readpublic(&sim, "new.ctx");
    assert_eq!(after.name, before.name, "changeauth changed the Name");
    sign_verify(&sim, "new.ctx", &["-p", "new"]);
    // The old auth value no longer works on the new private part:
    // TPM_RC_AUTH_FAIL (0x08E) on session 1 = 0x98E.
    let err = sim.tpm2_fails(&[
        "sign", "-c", "new.ctx", "-p", "old", "-g", "sha256", "-o", "x.sig", "msg.bin",
    ]);
    assert_rc(&err, 0x98e, "old auth after changeauth");
    // The old private part is still a valid object with the old auth.
    flush_transient(&sim);
    sim.tpm2(&[
        "load", "-C", "prim.ctx", "-u", "key.pub", "-r", "key.priv", "-c", "old.ctx",
    ]);
    sign_verify(&sim, "old.ctx", &["-p", "old"]);
    flush_transient(&sim);

    // A noDA key: a wrong auth value is TPM_RC_BAD_AUTH (0x0A2) on
    // session 1 = 0x9A2, and changeauth to a new value works the same way.
    let (ctx, _) = create_load(
        &sim,
        "prim.ctx",
        "noda",
        &["-G", "hmac", "-p", "pw1"],
        SIGNING,
    );
    write(&sim, "m.bin", b"hmac me");
    let h = sim.tpm2(&["hmac", "-c", &ctx, "-p", "pw1", "--hex", "m.bin"]);
    let err = sim.tpm2_fails(&["hmac", "-c", &ctx, "-p", "pw2", "--hex", "m.bin"]);
    assert_rc(&err, 0x9a2, "wrong auth on a noDA key");
    sim.tpm2(&[
        "changeauth",
        "-c",
        &ctx,
        "-C",
        "prim.ctx",
        "-p",
        "pw1",
        "-r",
        "noda.new.priv",
        "pw2",
    ]);
    flush_transient(&sim);
    sim.tpm2(&[
        "load",
        "-C",
        "prim.ctx",
        "-u",
        "noda.pub",
        "-r",
        "noda.new.priv",
        "-c",
        "noda2.ctx",
    ]);
    assert_eq!(
        sim.tpm2(&["hmac", "-c", "noda2.ctx", "-p", "pw2", "--hex", "m.bin"]),
        h,
        "same key, same HMAC"
    );
    let err = sim.tpm2_fails(&["hmac", "-c", "noda2.ctx", "-p", "pw1", "--hex", "m.bin"]);
    assert_rc(&err, 0x9a2, "old auth on a noDA key after changeauth");
    flush_transient(&sim);

    // The owner hierarchy's auth value.
    sim.tpm2(&["changeauth", "-c", "o", "ownerpw"]);
    let err = sim.tpm2_fails(&["createprimary", "-C", "o", "-G", "ecc256", "-c", "p2.ctx"]);
    assert_rc(&err, 0x9a2, "owner hierarchy without its new auth");
    sim.tpm2(&[
        "createprimary",
        "-C",
        "o",
        "-P",
        "ownerpw",
        "-G",
        "ecc256",
        "-c",
        "p2.ctx",
    ]);
    // Same seed, same template: the same primary as before the change.
    assert_eq!(
        readpublic(&sim, "p2.ctx").name,
        readpublic(&sim, "prim.ctx").name
    );
    sim.tpm2(&["changeauth", "-c", "o", "-p", "ownerpw"]);
    sim.tpm2(&["createprimary", "-C", "o", "-G", "ecc256", "-c", "p3.ctx"]);
    flush_transient(&sim);
}
per_transport!(
    changeauth,
    changeauth_mssim,
    changeauth_swtpm,
    changeauth_abrmd
);

// ---------------------------------------------------------------- seal

/// Seal binary data under a password and unseal it: the exact bytes come
/// back; a wrong password fails with TPM_RC_AUTH_FAIL (DA-protected) or
/// TPM_RC_BAD_AUTH (noDA), both on session 1.
fn seal_unseal(tcti: Tcti) {
    let sim = started(tcti);
    sim.tpm2(&[
        "createprimary",
        "-C",
        "o",
        "-G",
        "rsa2048",
        "-c",
        "prim.ctx",
    ]);
    // Every byte value that fits in MAX_SYM_DATA (128 bytes), zeros and
    // 0xff included.
    let secret: Vec<u8> = (0..128u32).map(|i| (i * 2 + (i >> 6)) as u8).collect();
    assert!(secret.contains(&0) && secret.contains(&0xff));
    write(&sim, "secret.bin", &secret);
    let (ctx, rp) = create_load(
        &sim,
        "prim.ctx",
        "seal",
        &["-i", "secret.bin", "-p", "s3cr3t"],
        SEALED,
    );
    assert_eq!(rp.public.kind, TPM_ALG_KEYEDHASH);
    assert_eq!(
        rp.public.attributes & (SIGN | DECRYPT | SENSITIVE_DATA_ORIGIN),
        0
    );
    sim.tpm2(&["unseal", "-c", &ctx, "-p", "s3cr3t", "-o", "out.bin"]);
    assert_eq!(read(&sim, "out.bin"), secret, "unsealed bytes");
    let err = sim.tpm2_fails(&["unseal", "-c", &ctx, "-p", "wrong", "-o", "bad.bin"]);
    assert_rc(&err, 0x98e, "unseal with a wrong password (DA-protected)");
    // The object still unseals with the right password afterwards.
    sim.tpm2(&["unseal", "-c", &ctx, "-p", "s3cr3t", "-o", "out2.bin"]);
    assert_eq!(read(&sim, "out2.bin"), secret);

    // A noDA sealed object: TPM_RC_BAD_AUTH.
    write(&sim, "short.bin", b"x");
    let attrs = "fixedtpm|fixedparent|userwithauth|noda";
    let (ctx2, _) = create_load(
        &sim,
        "prim.ctx",
        "seal2",
        &["-i", "short.bin", "-p", "pw"],
        attrs,
    );
    let err = sim.tpm2_fails(&["unseal", "-c", &ctx2, "-p", "pW"]);
    assert_rc(&err, 0x9a2, "unseal with a wrong password (noDA)");
    sim.tpm2(&["unseal", "-c", &ctx2, "-p", "pw", "-o", "out3.bin"]);
    assert_eq!(read(&sim, "out3.bin"), b"x");
    // Sealing from standard input, and an empty password.
    sim.tpm2_stdin(
        &[
            "create", "-C", "prim.ctx", "-i", "-", "-u", "s3.pub", "-r", "s3.priv",
        ],
        b"from stdin\n",
    );
    sim.tpm2(&[
        "load", "-C", "prim.ctx", "-u", "s3.pub", "-r", "s3.priv", "-c", "s3.ctx",
    ]);
    sim.tpm2(&["unseal", "-c", "s3.ctx", "-o", "out4.bin"]);
    assert_eq!(read(&sim, "out4.bin"), b"from stdin\n");
    flush_transient(&sim);
}
per_transport!(
    seal_unseal,
    seal_unseal_mssim,
    seal_unseal_swtpm,
    seal_unseal_abrmd
);

// ---------------------------------------------------------------- persistence

fn persistent_handles(sim: &Sim) -> Vec<u64> {
    let out = sim.tpm2(&["getcap", "handles-persistent"]);
    yaml::parse(&out)
        .items()
        .iter()
        .map(|h| {
            h.as_u64()
                .unwrap_or_else(|| panic!("not a handle in:\n{out}"))
        })
        .collect()
}

/// TPM2_EvictControl: a primary and a sealed child made persistent, listed
/// by getcap, usable by handle, kept across a simulator restart (and a
/// Startup(CLEAR)), and evicted again.
fn persistent(tcti: Tcti) {
    let dir = tempfile::Builder::new()
        .prefix("vtpm-objects.")
        .tempdir()
        .unwrap_or_else(|e| panic!("temp dir: {e}"));
    let sim = Sim::start_in(tcti, dir.path(), true);
    sim.tpm2(&["startup", "-c"]);
    assert_eq!(persistent_handles(&sim), Vec::<u64>::new());
    sim.tpm2(&["createprimary", "-C", "o", "-G", "ecc256", "-c", "prim.ctx"]);
    let prim = readpublic(&sim, "prim.ctx");
    let out = sim.tpm2(&["evictcontrol", "-C", "o", "-c", "prim.ctx", "0x81000001"]);
    let y = yaml::parse(&out);
    assert_eq!(
        y.get("persistent-handle").and_then(Yaml::as_u64),
        Some(0x8100_0001),
        "{out}"
    );
    assert_eq!(
        y.get("action").and_then(Yaml::as_str),
        Some("persisted"),
        "{out}"
    );
    assert_eq!(persistent_handles(&sim), vec![0x8100_0001]);
    assert_eq!(
        readpublic(&sim, "0x81000001").name,
        prim.name,
        "persistent primary Name"
    );

    // A sealed child created under the persistent handle, itself made
    // persistent.
    write(&sim, "secret.bin", b"kept across restarts");
    let (seal, sealed) = create_load(
        &sim,
        "0x81000001",
        "seal",
        &["-i", "secret.bin", "-p", "pw"],
        SEALED,
    );
    sim.tpm2(&["evictcontrol", "-C", "o", "-c", &seal, "0x81000002"]);
    assert_eq!(persistent_handles(&sim), vec![0x8100_0001, 0x8100_0002]);
    // The handle is taken: TPM_RC_NV_DEFINED (0x14C).
    let err = sim.tpm2_fails(&["evictcontrol", "-C", "o", "-c", &seal, "0x81000002"]);
    assert_rc(&err, 0x14c, "evictcontrol to a used persistent handle");
    // Persistent handles of the owner hierarchy are 0x81000000..0x817FFFFF:
    // TPM_RC_RANGE (0x14D) on parameter 1 = 0x1CD for a platform one.
    let err = sim.tpm2_fails(&["evictcontrol", "-C", "o", "-c", &seal, "0x81800000"]);
    assert_rc(
        &err,
        0x1cd,
        "owner evictcontrol to a platform persistent handle",
    );
    flush_transient(&sim);
    let files = ["seal.pub", "seal.priv"].map(|f| (f, read(&sim, f)));

    sim.tpm2(&["shutdown", "-c"]);
    let status = sim.stop();
    assert!(status.success(), "simulator exit status {status}");
    let sim = Sim::start_in(tcti, dir.path(), false);
    sim.tpm2(&["startup", "-c"]);
    assert_eq!(
        persistent_handles(&sim),
        vec![0x8100_0001, 0x8100_0002],
        "after a restart"
    );
    assert_eq!(
        readpublic(&sim, "0x81000001").name,
        prim.name,
        "primary after restart"
    );
    assert_eq!(
        readpublic(&sim, "0x81000002").name,
        sealed.name,
        "sealed object after restart"
    );
    sim.tpm2(&["unseal", "-c", "0x81000002", "-p", "pw", "-o", "out.bin"]);
    assert_eq!(read(&sim, "out.bin"), b"kept across restarts");
    // The files from before the restart still load under the persistent
    // parent.
    for (f, data) in &files {
        write(&sim, f, data);
    }
    sim.tpm2(&[
        "load",
        "-C",
        "0x81000001",
        "-u",
        "seal.pub",
        "-r",
        "seal.priv",
        "-c",
        "again.ctx",
    ]);
    sim.tpm2(&["unseal", "-c", "again.ctx", "-p", "pw", "-o", "out2.bin"]);
    assert_eq!(read(&sim, "out2.bin"), b"kept across restarts");
    flush_transient(&sim);

    // Evict both again.
    let out = sim.tpm2(&["evictcontrol", "-C", "o", "-c", "0x81000001"]);
    assert_eq!(
        yaml::parse(&out).get("action").and_then(Yaml::as_str),
        Some("evicted"),
        "{out}"
    );
    assert_eq!(persistent_handles(&sim), vec![0x8100_0002]);
    // TPM_RC_HANDLE (0x08B) on handle 1 = 0x18B.
    let err = sim.tpm2_fails(&["readpublic", "-c", "0x81000001"]);
    assert_rc(&err, 0x18b, "readpublic of an evicted handle");
    sim.tpm2(&["evictcontrol", "-C", "o", "-c", "0x81000002"]);
    assert_eq!(persistent_handles(&sim), Vec::<u64>::new());
    let status = sim.stop();
    assert!(status.success(), "simulator exit status {status}");
    let sim = Sim::start_in(tcti, dir.path(), false);
    sim.tpm2(&["startup", "-c"]);
    assert_eq!(
        persistent_handles(&sim),
        Vec::<u64>::new(),
        "evicted objects came back"
    );
}
per_transport!(
    persistent,
    persistent_mssim,
    persistent_swtpm,
    persistent_abrmd
);

// ---------------------------------------------------------------- contexts

/// Context files: `tpm2 createprimary -c`/`tpm2 load -c` save the object's
/// context (TPM2_ContextSave) to a file, and later tool invocations load it
/// back (TPM2_ContextLoad), also after the object was flushed. A changed
/// context blob fails its integrity check.
fn contexts(tcti: Tcti) {
    let sim = started(tcti);
    flush_transient(&sim);
    sim.tpm2(&[
        "createprimary",
        "-C",
        "o",
        "-G",
        "rsa2048",
        "-c",
        "prim.ctx",
    ]);
    sim.tpm2(&[
        "create", "-C", "prim.ctx", "-G", "hmac", "-a", SIGNING, "-u", "k.pub", "-r", "k.priv",
    ]);
    sim.tpm2(&[
        "load", "-C", "prim.ctx", "-u", "k.pub", "-r", "k.priv", "-c", "k.ctx",
    ]);
    let name = Public::parse(&read(&sim, "k.pub"), "k.pub").name();
    let transient = |sim: &Sim| -> Vec<u64> {
        let out = sim.tpm2(&["getcap", "handles-transient"]);
        yaml::parse(&out)
            .items()
            .iter()
            .filter_map(Yaml::as_u64)
            .collect()
    };
    if tcti == Tcti::Abrmd {
        // abrmd flushes what a connection loaded when it closes.
        assert_eq!(
            transient(&sim),
            Vec::<u64>::new(),
            "abrmd left objects loaded"
        );
    } else {
        // Without a resource manager the objects stay loaded; flush them
        // one by one by handle.
        let handles = transient(&sim);
        assert!(!handles.is_empty(), "tpm2 load left nothing loaded");
        for h in &handles {
            sim.tpm2(&["flushcontext", &format!("0x{h:08x}")]);
        }
        assert_eq!(
            transient(&sim),
            Vec::<u64>::new(),
            "after flushing {handles:x?}"
        );
        // A flushed handle is gone: the tools' TPM2_ReadPublic on it gets
        // TPM_RC_REFERENCE_H0 (0x910).
        let err = sim.tpm2_fails(&["flushcontext", &format!("0x{:08x}", handles[0])]);
        assert_rc(&err, 0x910, "flushcontext of a flushed handle");
    }
    // The saved context loads back in later invocations, every time.
    write(&sim, "m.bin", b"context test");
    let h1 = sim.tpm2(&["hmac", "-c", "k.ctx", "--hex", "m.bin"]);
    flush_transient(&sim);
    let h2 = sim.tpm2(&["hmac", "-c", "k.ctx", "--hex", "m.bin"]);
    assert_eq!(h1, h2, "the same key from the same context file");
    assert_eq!(
        readpublic(&sim, "k.ctx").name,
        name,
        "Name of the context-loaded key"
    );
    flush_transient(&sim);
    // The primary's context file too.
    sim.tpm2(&[
        "load", "-C", "prim.ctx", "-u", "k.pub", "-r", "k.priv", "-c", "k2.ctx",
    ]);
    assert_eq!(sim.tpm2(&["hmac", "-c", "k2.ctx", "--hex", "m.bin"]), h1);
    flush_transient(&sim);

    // One bit changed inside the context blob (after the tools' 24-byte
    // header and the blob's size): TPM_RC_INTEGRITY (0x09F) on
    // parameter 1 = 0x1DF.
    let mut ctx = read(&sim, "k.ctx");
    assert_eq!(
        &ctx[..4],
        &[0xba, 0xdc, 0xc0, 0xde],
        "tpm2-tools context file magic"
    );
    ctx[0x40] ^= 1;
    write(&sim, "bad.ctx", &ctx);
    let err = sim.tpm2_fails(&["hmac", "-c", "bad.ctx", "--hex", "m.bin"]);
    assert_rc(&err, 0x1df, "tampered context");
    // The good file still works.
    assert_eq!(sim.tpm2(&["hmac", "-c", "k.ctx", "--hex", "m.bin"]), h1);
    flush_transient(&sim);
}
per_transport!(contexts, contexts_mssim, contexts_swtpm, contexts_abrmd);

/// Saved object contexts across restarts (Part 1, 27.4 and 22.2.2): a
/// resume keeps every saved object context valid (stClear ones too), a
/// TPM Restart (Startup(CLEAR) after Shutdown(STATE)) keeps those of
/// objects without stClear, a TPM Reset invalidates all of them; the key
/// files from `tpm2 create` still load after all of them.
fn contexts_restart(tcti: Tcti) {
    let dir = tempfile::Builder::new()
        .prefix("vtpm-objects.")
        .tempdir()
        .unwrap_or_else(|e| panic!("temp dir: {e}"));
    let sim = Sim::start_in(tcti, dir.path(), true);
    sim.tpm2(&["startup", "-c"]);
    sim.tpm2(&["createprimary", "-C", "o", "-G", "ecc256", "-c", "prim.ctx"]);
    let prim = readpublic(&sim, "prim.ctx");
    flush_transient(&sim);
    let stclear = "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign|noda|stclear";
    for (tag, attrs) in [("k", SIGNING), ("s", stclear)] {
        let (pubf, privf, ctx) = (
            format!("{tag}.pub"),
            format!("{tag}.priv"),
            format!("{tag}.ctx"),
        );
        sim.tpm2(&[
            "create", "-C", "prim.ctx", "-G", "hmac", "-a", attrs, "-u", &pubf, "-r", &privf,
        ]);
        flush_transient(&sim);
        sim.tpm2(&[
            "load", "-C", "prim.ctx", "-u", &pubf, "-r", &privf, "-c", &ctx,
        ]);
        flush_transient(&sim);
    }
    let s_attrs = Public::parse(&read(&sim, "s.pub"), "s.pub").attributes;
    assert_ne!(s_attrs & (1 << 2), 0, "stClear attribute in s.pub");
    write(&sim, "m.bin", b"contexts across restarts");
    let hmac = |sim: &Sim, ctx: &str| {
        let h = sim.tpm2(&["hmac", "-c", ctx, "--hex", "m.bin"]);
        flush_transient(sim);
        h
    };
    let hk = hmac(&sim, "k.ctx");
    let hs = hmac(&sim, "s.ctx");
    assert_ne!(hk, hs);
    // An stClear object cannot be made persistent: TPM_RC_ATTRIBUTES
    // (0x082) on handle 2 (objectHandle) = 0x282.
    let err = sim.tpm2_fails(&["evictcontrol", "-C", "o", "-c", "s.ctx", "0x81000005"]);
    assert_rc(&err, 0x282, "evictcontrol of an stClear object");
    flush_transient(&sim);
    let files: Vec<(&str, Vec<u8>)> = ["prim.ctx", "k.ctx", "s.ctx", "k.pub", "k.priv", "m.bin"]
        .into_iter()
        .map(|f| (f, read(&sim, f)))
        .collect();
    let restart = |sim: Sim, shutdown: &[&str], startup: &[&str]| -> Sim {
        sim.tpm2(shutdown);
        let st = sim.stop();
        assert!(st.success(), "simulator exit {st}");
        let sim = Sim::start_in(tcti, dir.path(), false);
        sim.tpm2(startup);
        for (f, data) in &files {
            write(&sim, f, data);
        }
        sim
    };

    // Resume. (abrmd sends its own Startup(CLEAR) when it starts, so
    // through abrmd there is no resume.)
    let sim = if tcti == Tcti::Abrmd {
        sim
    } else {
        let sim = restart(sim, &["shutdown"], &["startup"]);
        assert_eq!(hmac(&sim, "k.ctx"), hk, "key context after a resume");
        assert_eq!(
            hmac(&sim, "s.ctx"),
            hs,
            "stClear key context after a resume"
        );
        sim
    };

    // TPM Restart: contexts of objects without stClear still load; the
    // stClear object's context does not (Part 1, 27.4; clearCount is bound
    // into it): TPM_RC_INTEGRITY on parameter 1, as libtpms answers.
    let sim = restart(sim, &["shutdown"], &["startup", "-c"]);
    assert_eq!(hmac(&sim, "k.ctx"), hk, "key context after a TPM Restart");
    let err = sim.tpm2_fails(&["hmac", "-c", "s.ctx", "--hex", "m.bin"]);
    assert_rc(&err, 0x1df, "stClear key context after a TPM Restart");
    assert_eq!(readpublic(&sim, "prim.ctx").name, prim.name);
    flush_transient(&sim);

    // TPM Reset: every saved object context is invalid.
    let sim = restart(sim, &["shutdown", "-c"], &["startup", "-c"]);
    let err = sim.tpm2_fails(&["hmac", "-c", "k.ctx", "--hex", "m.bin"]);
    assert_rc(&err, 0x1df, "key context after a TPM Reset");
    let err = sim.tpm2_fails(&["readpublic", "-c", "prim.ctx"]);
    assert_rc(&err, 0x1df, "primary context after a TPM Reset");
    flush_transient(&sim);
    // The primary comes back from the seed, the key from its files.
    sim.tpm2(&[
        "createprimary",
        "-C",
        "o",
        "-G",
        "ecc256",
        "-c",
        "prim2.ctx",
    ]);
    assert_eq!(readpublic(&sim, "prim2.ctx").name, prim.name);
    flush_transient(&sim);
    sim.tpm2(&[
        "load",
        "-C",
        "prim2.ctx",
        "-u",
        "k.pub",
        "-r",
        "k.priv",
        "-c",
        "k2.ctx",
    ]);
    flush_transient(&sim);
    assert_eq!(hmac(&sim, "k2.ctx"), hk, "reloaded key after a TPM Reset");
}
per_transport!(
    contexts_restart,
    contexts_restart_mssim,
    contexts_restart_swtpm,
    contexts_restart_abrmd
);
