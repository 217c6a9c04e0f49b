//! End to end (issue #4): authorization sessions, policies and dictionary
//! attack protection, driven by tpm2-tools 5.4 against `vtpm-host-sim`.
//!
//! Every scenario runs once per transport: mssim and swtpm directly (the
//! tools keep sessions and objects loaded between calls, so every session
//! is flushed explicitly) and through tpm2-abrmd (which saves and reloads
//! contexts around every call). The tests check values: unsealed bytes,
//! policy digests computed here with SHA-256 from Part 3 §23 and compared
//! with the TPM's trial-session digests, and the exact response codes of
//! failed authorizations. Signatures for PolicySigned and PolicyAuthorize
//! come from keys made by OpenSSL (`/usr/bin/openssl`).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::Duration;

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

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

fn write(sim: &Sim, name: &str, data: &[u8]) {
    let p = sim.work_dir().join(name);
    fs::write(&p, data).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
}

fn read(sim: &Sim, name: &str) -> Vec<u8> {
    let p = sim.work_dir().join(name);
    fs::read(&p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// Asserts that a failed tool's stderr reports the TPM response code `rc`
/// (tpm2-tools prints it as `Esys_<Command>(0x<RC>)`).
fn assert_rc(stderr: &str, rc: u32, what: &str) {
    let want = format!("(0x{rc:x})");
    assert!(
        stderr.to_ascii_lowercase().contains(&want),
        "{what}: expected TPM response code {want}, got:\n{stderr}"
    );
}

/// Runs `/usr/bin/openssl args...` in the simulator's work directory;
/// panics (the test fails) unless it succeeds.
fn openssl(sim: &Sim, args: &[&str]) -> Vec<u8> {
    openssl_in(sim.work_dir(), args)
}

fn openssl_in(dir: &Path, args: &[&str]) -> Vec<u8> {
    let bin = Path::new("/usr/bin/openssl");
    assert!(
        bin.is_file(),
        "/usr/bin/openssl is missing; the end-to-end tests need it \
         (apt-get install openssl)"
    );
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl: {e}"));
    assert!(
        out.status.success(),
        "`openssl {}` failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

// Command codes (Part 2, Table 12).
const CC_POLICY_SECRET: u32 = 0x0000_0151;
const CC_POLICY_NV: u32 = 0x0000_0149;
const CC_POLICY_SIGNED: u32 = 0x0000_0160;
const CC_POLICY_AUTHORIZE: u32 = 0x0000_016a;
const CC_POLICY_AUTH_VALUE: u32 = 0x0000_016b;
const CC_POLICY_COMMAND_CODE: u32 = 0x0000_016c;
const CC_POLICY_OR: u32 = 0x0000_0171;
const CC_POLICY_PCR: u32 = 0x0000_017f;
const CC_UNSEAL: u32 = 0x0000_015e;
const CC_NV_READ: u32 = 0x0000_014e;

// Response codes (Part 2, 6.6), with the session or parameter number the
// tools report for these flows.
const RC_AUTH_FAIL_S1: u32 = 0x98e; // TPM_RC_AUTH_FAIL, session 1
const RC_BAD_AUTH_S1: u32 = 0x9a2; // TPM_RC_BAD_AUTH, session 1
const RC_POLICY_FAIL_S1: u32 = 0x99d; // TPM_RC_POLICY_FAIL, session 1
const RC_LOCKOUT: u32 = 0x921; // TPM_RC_LOCKOUT
const RC_VALUE_P1: u32 = 0x1c4; // TPM_RC_VALUE, parameter 1
const RC_SIGNATURE_P5: u32 = 0x5db; // TPM_RC_SIGNATURE, parameter 5
const RC_POLICY: u32 = 0x126; // TPM_RC_POLICY

/// policyDigest' = H(policyDigest || commandCode || parts...) (Part 3 §23).
fn policy_update(old: &[u8], cc: u32, parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(old);
    h.update(cc.to_be_bytes());
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

/// PolicyUpdate() of Part 3 §23.2.3 (PolicySigned, PolicySecret,
/// PolicyAuthorize): H(H(old || cc || name) || policyRef).
fn policy_update_ref(old: &[u8], cc: u32, name: &[u8], policy_ref: &[u8]) -> Vec<u8> {
    let inner = policy_update(old, cc, &[name]);
    sha256(&[inner.as_slice(), policy_ref].concat())
}

/// A TPML_PCR_SELECTION with one SHA-256 bank selecting `pcrs`.
fn pcr_selection_sha256(pcrs: &[u32]) -> Vec<u8> {
    let mut select = [0u8; 3];
    for &p in pcrs {
        select[(p / 8) as usize] |= 1 << (p % 8);
    }
    let mut v = 1u32.to_be_bytes().to_vec(); // count
    v.extend_from_slice(&0x000bu16.to_be_bytes()); // TPM_ALG_SHA256
    v.push(3); // sizeofSelect
    v.extend_from_slice(&select);
    v
}

/// `tpm2 pcrread sha256:<index>` as bytes.
fn pcr256(sim: &Sim, index: u32) -> Vec<u8> {
    let sel = format!("sha256:{index}");
    let out = sim.tpm2(&["pcrread", &sel]);
    let y = yaml::parse(&out);
    y.path(&["sha256", &index.to_string()])
        .and_then(Yaml::as_str)
        .and_then(unhex)
        .unwrap_or_else(|| panic!("no sha256:{index} in pcrread output:\n{out}"))
}

/// A trial session (`tpm2 startauthsession` without `--policy-session`):
/// runs the `tpm2 policy...` commands built by `steps` (each gets the
/// session file and must write `-L <policy>` when it is the last), then
/// flushes the session and returns the policy file's bytes.
fn trial(sim: &Sim, policy: &str, steps: &[&[&str]]) -> Vec<u8> {
    sim.tpm2(&["startauthsession", "-S", "trial.ctx"]);
    for (i, step) in steps.iter().enumerate() {
        let mut args: Vec<&str> = step.to_vec();
        args.extend_from_slice(&["-S", "trial.ctx"]);
        if i + 1 == steps.len() {
            args.extend_from_slice(&["-L", policy]);
        }
        sim.tpm2(&args);
    }
    sim.tpm2(&["flushcontext", "trial.ctx"]);
    let d = read(sim, policy);
    assert_eq!(d.len(), 32, "a SHA-256 policy digest: {}", hex(&d));
    d
}

/// An owner-hierarchy RSA storage primary in `prim.ctx`.
fn primary(sim: &Sim) {
    sim.tpm2(&["createprimary", "-C", "o", "-c", "prim.ctx", "-Q"]);
}

/// Seals `secret` under `prim.ctx` with the given extra `tpm2 create`
/// arguments (policy, auth, attributes); the object is loaded as `ctx`.
fn seal(sim: &Sim, secret: &[u8], ctx: &str, extra: &[&str]) {
    write(sim, "secret.bin", secret);
    let pubf = format!("{ctx}.pub");
    let privf = format!("{ctx}.priv");
    let mut args = vec![
        "create",
        "-C",
        "prim.ctx",
        "-i",
        "secret.bin",
        "-u",
        &pubf,
        "-r",
        &privf,
        "-Q",
    ];
    args.extend_from_slice(extra);
    sim.tpm2(&args);
    sim.tpm2(&[
        "load", "-C", "prim.ctx", "-u", &pubf, "-r", &privf, "-c", ctx, "-Q",
    ]);
}

/// `tpm2 unseal` with the authorization `auth` into `unsealed.bin`;
/// returns the bytes.
fn unseal(sim: &Sim, ctx: &str, auth: &str) -> Vec<u8> {
    let _ = fs::remove_file(sim.work_dir().join("unsealed.bin"));
    sim.tpm2(&["unseal", "-c", ctx, "-p", auth, "-o", "unsealed.bin"]);
    read(sim, "unsealed.bin")
}

/// The authPolicy of a loaded object as `tpm2 readpublic` prints it.
fn auth_policy(sim: &Sim, ctx: &str) -> Vec<u8> {
    let out = sim.tpm2(&["readpublic", "-c", ctx]);
    yaml::parse(&out)
        .get("authorization policy")
        .and_then(Yaml::as_str)
        .and_then(unhex)
        .unwrap_or_else(|| panic!("no authorization policy in:\n{out}"))
}

fn getcap_variable(sim: &Sim) -> (Yaml, String) {
    let out = sim.tpm2(&["getcap", "properties-variable"]);
    (yaml::parse(&out), out)
}

fn field_u64(y: &Yaml, path: &[&str], out: &str) -> u64 {
    y.path(path)
        .and_then(Yaml::as_u64)
        .unwrap_or_else(|| panic!("no number at {} in:\n{out}", path.join(".")))
}

/// (TPM_PT_LOCKOUT_COUNTER, TPMA_PERMANENT.inLockout)
fn da_state(sim: &Sim) -> (u64, u64) {
    let (y, out) = getcap_variable(sim);
    (
        field_u64(&y, &["TPM2_PT_LOCKOUT_COUNTER"], &out),
        field_u64(&y, &["TPM2_PT_PERMANENT", "inLockout"], &out),
    )
}

// ---------------------------------------------------------------- HMAC sessions

/// HMAC sessions: unsalted/unbound, salted (`--tpmkey-context`), bound
/// (`--bind-context`), salted and bound (`-c`), and sessions with
/// parameter encryption in both directions (`tpm2 sessionconfig`).
fn hmac_sessions(tcti: Tcti) {
    let sim = started(tcti);
    primary(&sim);
    let secret = b"hmac-session sealed bytes \x00\x01\xfe\xff";
    seal(&sim, secret, "obj.ctx", &["-p", "objpw"]);

    let cases: [(&str, &[&str]); 4] = [
        ("unsalted, unbound", &[]),
        ("salted", &["--tpmkey-context", "prim.ctx"]),
        (
            "bound",
            &["--bind-context", "obj.ctx", "--bind-auth", "objpw"],
        ),
        ("salted and bound", &["-c", "prim.ctx"]),
    ];
    for (what, opts) in cases {
        let mut args = vec!["startauthsession", "--hmac-session", "-S", "hmac.ctx"];
        args.extend_from_slice(opts);
        sim.tpm2(&args);
        let out = sim.tpm2(&["sessionconfig", "hmac.ctx"]);
        let y = yaml::parse(&out);
        let handle = y.get("Session-Handle").and_then(Yaml::as_u64);
        assert!(
            handle.is_some_and(|h| h >> 24 == 0x02),
            "{what}: an HMAC session handle is 0x02xxxxxx:\n{out}"
        );
        assert_eq!(
            unseal(&sim, "obj.ctx", "session:hmac.ctx+objpw"),
            secret,
            "{what}: unsealed bytes"
        );
        let err = sim.tpm2_fails(&["unseal", "-c", "obj.ctx", "-p", "session:hmac.ctx+nope"]);
        assert_rc(&err, RC_AUTH_FAIL_S1, &format!("{what}: wrong password"));
        // The failure does not end the session on the TPM, but the tools
        // do not write back the nonces of a failed command: start over.
        sim.tpm2(&["flushcontext", "hmac.ctx"]);
        // Wrong passwords count against DA: reset so that the next case
        // starts from a clean counter.
        sim.tpm2(&["dictionarylockout", "-c"]);
    }

    // A session bound to obj.ctx authorizes it without the password in
    // the HMAC key a second time (Part 1, 19.6.11): `session:ctx` alone.
    sim.tpm2(&[
        "startauthsession",
        "--hmac-session",
        "-S",
        "bound.ctx",
        "--bind-context",
        "obj.ctx",
        "--bind-auth",
        "objpw",
    ]);
    assert_eq!(unseal(&sim, "obj.ctx", "session:bound.ctx"), secret);
    sim.tpm2(&["flushcontext", "bound.ctx"]);

    // Encrypted sessions: a salted session with decrypt (the sealed data
    // goes to TPM2_Create encrypted) and encrypt (Unseal's outData comes
    // back encrypted). Both are checked by the round trip: a TPM that
    // did not encrypt, or used another key or IV, would make the tools
    // decrypt to different bytes.
    sim.tpm2(&[
        "startauthsession",
        "--hmac-session",
        "-S",
        "enc.ctx",
        "--tpmkey-context",
        "prim.ctx",
    ]);
    sim.tpm2(&[
        "sessionconfig",
        "enc.ctx",
        "--enable-encrypt",
        "--enable-decrypt",
    ]);
    let out = sim.tpm2(&["sessionconfig", "enc.ctx"]);
    let attrs = yaml::parse(&out)
        .get("Session-Attributes")
        .and_then(Yaml::as_str)
        .map(str::to_string)
        .unwrap_or_default();
    assert!(
        attrs.contains("encrypt") && attrs.contains("decrypt"),
        "sessionconfig attributes:\n{out}"
    );
    let secret2: Vec<u8> = (0..64u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
    write(&sim, "secret2.bin", &secret2);
    sim.tpm2(&[
        "create",
        "-C",
        "prim.ctx",
        "-P",
        "session:enc.ctx",
        "-i",
        "secret2.bin",
        "-p",
        "pw2",
        "-u",
        "enc_obj.pub",
        "-r",
        "enc_obj.priv",
        "-Q",
    ]);
    sim.tpm2(&[
        "load",
        "-C",
        "prim.ctx",
        "-u",
        "enc_obj.pub",
        "-r",
        "enc_obj.priv",
        "-c",
        "enc_obj.ctx",
        "-Q",
    ]);
    assert_eq!(unseal(&sim, "enc_obj.ctx", "session:enc.ctx+pw2"), secret2);
    // The same session as an extra (encryption-only) session next to a
    // password authorization: `-S`.
    let _ = fs::remove_file(sim.work_dir().join("unsealed.bin"));
    sim.tpm2(&[
        "unseal",
        "-c",
        "enc_obj.ctx",
        "-p",
        "pw2",
        "-S",
        "enc.ctx",
        "-o",
        "unsealed.bin",
    ]);
    assert_eq!(read(&sim, "unsealed.bin"), secret2);
    sim.tpm2(&["flushcontext", "enc.ctx"]);

    // A SHA-384 salted session works the same way.
    sim.tpm2(&[
        "startauthsession",
        "--hmac-session",
        "-g",
        "sha384",
        "-S",
        "s384.ctx",
        "-c",
        "prim.ctx",
    ]);
    sim.tpm2(&["sessionconfig", "s384.ctx", "--enable-encrypt"]);
    assert_eq!(unseal(&sim, "obj.ctx", "session:s384.ctx+objpw"), secret);
    sim.tpm2(&["flushcontext", "s384.ctx"]);
}
per_transport!(
    hmac_sessions,
    hmac_sessions_mssim,
    hmac_sessions_swtpm,
    hmac_sessions_abrmd
);

// ---------------------------------------------------------------- PolicyPCR

fn policy_pcr(tcti: Tcti) {
    let sim = started(tcti);
    primary(&sim);
    let ext = hex(&sha256(b"measured before sealing"));
    sim.tpm2(&["pcrextend", &format!("16:sha256={ext}")]);
    sim.tpm2(&["pcrextend", &format!("23:sha256={ext}")]);
    let p16 = pcr256(&sim, 16);
    let p23 = pcr256(&sim, 23);

    // Trial digest = H(0 || TPM_CC_PolicyPCR || pcrs || H(PCR16 || PCR23)).
    let want = policy_update(
        &[0; 32],
        CC_POLICY_PCR,
        &[
            &pcr_selection_sha256(&[16, 23]),
            &sha256(&[p16.as_slice(), &p23].concat()),
        ],
    );
    let got = trial(&sim, "pcr.policy", &[&["policypcr", "-l", "sha256:16,23"]]);
    assert_eq!(hex(&got), hex(&want), "PolicyPCR trial digest");
    // The same with the PCR values given in a file (-f).
    write(&sim, "pcrs.bin", &[p16.as_slice(), &p23].concat());
    let got_f = trial(
        &sim,
        "pcr_f.policy",
        &[&["policypcr", "-l", "sha256:16,23", "-f", "pcrs.bin"]],
    );
    assert_eq!(hex(&got_f), hex(&want), "PolicyPCR trial digest with -f");

    let secret = b"only while PCR 16 and 23 are unchanged";
    seal(&sim, secret, "sealed.ctx", &["-L", "pcr.policy"]);
    assert_eq!(auth_policy(&sim, "sealed.ctx"), want);

    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policypcr", "-S", "ps.ctx", "-l", "sha256:16,23"]);
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // Another extend of PCR 16: the session's digest no longer matches the
    // object's authPolicy, and Unseal fails with TPM_RC_POLICY_FAIL.
    sim.tpm2(&["pcrextend", &format!("16:sha256={ext}")]);
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policypcr", "-S", "ps.ctx", "-l", "sha256:16,23"]);
    let err = sim.tpm2_fails(&["unseal", "-c", "sealed.ctx", "-p", "session:ps.ctx"]);
    assert_rc(&err, RC_POLICY_FAIL_S1, "unseal after the PCR changed");
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // Giving the old PCR values as the expected digest makes PolicyPCR
    // itself fail in a real policy session: TPM_RC_VALUE on pcrDigest.
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    let err = sim.tpm2_fails(&[
        "policypcr",
        "-S",
        "ps.ctx",
        "-l",
        "sha256:16,23",
        "-f",
        "pcrs.bin",
    ]);
    assert_rc(&err, RC_VALUE_P1, "PolicyPCR with a stale pcrDigest");
    sim.tpm2(&["flushcontext", "ps.ctx"]);
}
per_transport!(
    policy_pcr,
    policy_pcr_mssim,
    policy_pcr_swtpm,
    policy_pcr_abrmd
);

// ---------------------------------------------- PolicyPassword / PolicyAuthValue

fn policy_password_authvalue(tcti: Tcti) {
    let sim = started(tcti);
    primary(&sim);
    // Both commands add TPM_CC_PolicyAuthValue (Part 3 §23.18, §23.19).
    let want = policy_update(&[0; 32], CC_POLICY_AUTH_VALUE, &[]);
    let by_password = trial(&sim, "pw.policy", &[&["policypassword"]]);
    let by_authvalue = trial(&sim, "av.policy", &[&["policyauthvalue"]]);
    assert_eq!(hex(&by_password), hex(&want), "PolicyPassword digest");
    assert_eq!(hex(&by_authvalue), hex(&want), "PolicyAuthValue digest");

    let secret = b"policy plus the object's authValue";
    seal(
        &sim,
        secret,
        "sealed.ctx",
        &[
            "-L",
            "pw.policy",
            "-p",
            "sealpw",
            "-a",
            "fixedtpm|fixedparent",
        ],
    );
    // The object has no userWithAuth: its password alone is refused with
    // TPM_RC_AUTH_UNAVAILABLE (a format-zero code, no session number).
    let err = sim.tpm2_fails(&["unseal", "-c", "sealed.ctx", "-p", "sealpw"]);
    assert_rc(&err, 0x12f, "password session on a policy-only object");

    // PolicyPassword: the password travels in the clear in the HMAC field.
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policypassword", "-S", "ps.ctx"]);
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx+sealpw"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policypassword", "-S", "ps.ctx"]);
    let err = sim.tpm2_fails(&["unseal", "-c", "sealed.ctx", "-p", "session:ps.ctx+wrong"]);
    assert_rc(
        &err,
        RC_AUTH_FAIL_S1,
        "PolicyPassword with a wrong password",
    );
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // PolicyAuthValue: an HMAC keyed with the authValue.
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policyauthvalue", "-S", "ps.ctx"]);
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx+sealpw"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policyauthvalue", "-S", "ps.ctx"]);
    let err = sim.tpm2_fails(&["unseal", "-c", "sealed.ctx", "-p", "session:ps.ctx+wrong"]);
    assert_rc(
        &err,
        RC_AUTH_FAIL_S1,
        "PolicyAuthValue with a wrong password",
    );
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // Without the assertion the policy does not match.
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    let err = sim.tpm2_fails(&["unseal", "-c", "sealed.ctx", "-p", "session:ps.ctx+sealpw"]);
    assert_rc(&err, RC_POLICY_FAIL_S1, "empty policy session");
    sim.tpm2(&["flushcontext", "ps.ctx"]);
}
per_transport!(
    policy_password_authvalue,
    policy_password_authvalue_mssim,
    policy_password_authvalue_swtpm,
    policy_password_authvalue_abrmd
);

// ---------------------------------------------- PolicyCommandCode / PolicyOR

fn policy_or_commandcode(tcti: Tcti) {
    let sim = started(tcti);
    primary(&sim);
    // Branch A: PolicyCommandCode(TPM2_CC_Unseal).
    let want_a = policy_update(
        &[0; 32],
        CC_POLICY_COMMAND_CODE,
        &[&CC_UNSEAL.to_be_bytes()],
    );
    let a = trial(
        &sim,
        "a.policy",
        &[&["policycommandcode", "TPM2_CC_Unseal"]],
    );
    assert_eq!(hex(&a), hex(&want_a), "PolicyCommandCode(Unseal) digest");
    // Branch B: PolicyPCR over PCR 16 (all zero now).
    let want_b = policy_update(
        &[0; 32],
        CC_POLICY_PCR,
        &[&pcr_selection_sha256(&[16]), &sha256(&[0u8; 32])],
    );
    let b = trial(&sim, "b.policy", &[&["policypcr", "-l", "sha256:16"]]);
    assert_eq!(hex(&b), hex(&want_b), "PolicyPCR(16) digest");

    // PolicyOR: H(0 || TPM_CC_PolicyOR || digest A || digest B).
    let want_or = policy_update(&[0; 32], CC_POLICY_OR, &[&want_a, &want_b]);
    let or = trial(
        &sim,
        "or.policy",
        &[
            &["policycommandcode", "TPM2_CC_Unseal"],
            &["policyor", "-l", "sha256:a.policy,b.policy"],
        ],
    );
    assert_eq!(hex(&or), hex(&want_or), "PolicyOR digest");

    let secret = b"either branch of the OR";
    seal(&sim, secret, "sealed.ctx", &["-L", "or.policy"]);
    assert_eq!(auth_policy(&sim, "sealed.ctx"), want_or);

    // Branch A.
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policycommandcode", "-S", "ps.ctx", "TPM2_CC_Unseal"]);
    sim.tpm2(&["policyor", "-S", "ps.ctx", "-l", "sha256:a.policy,b.policy"]);
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // Branch B.
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policypcr", "-S", "ps.ctx", "-l", "sha256:16"]);
    sim.tpm2(&["policyor", "-S", "ps.ctx", "-l", "sha256:a.policy,b.policy"]);
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // PolicyOR refuses a session digest that is in none of the branches
    // (TPM_RC_VALUE on pHashList): here PolicyCommandCode(NV_Read).
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policycommandcode", "-S", "ps.ctx", "TPM2_CC_NV_Read"]);
    let err = sim.tpm2_fails(&["policyor", "-S", "ps.ctx", "-l", "sha256:a.policy,b.policy"]);
    assert_rc(&err, RC_VALUE_P1, "PolicyOR with no matching branch");
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // A lone PolicyCommandCode(Unseal) policy.
    seal(&sim, secret, "cc.ctx", &["-L", "a.policy"]);
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policycommandcode", "-S", "ps.ctx", "TPM2_CC_Unseal"]);
    assert_eq!(unseal(&sim, "cc.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);
    // A session that asserted NV_Read has another digest: TPM_RC_POLICY_FAIL
    // (the digest is compared before the command code, as in the
    // reference implementation).
    let want_nv = policy_update(
        &[0; 32],
        CC_POLICY_COMMAND_CODE,
        &[&CC_NV_READ.to_be_bytes()],
    );
    let nv = trial(
        &sim,
        "nv.policy",
        &[&["policycommandcode", "TPM2_CC_NV_Read"]],
    );
    assert_eq!(hex(&nv), hex(&want_nv), "PolicyCommandCode(NV_Read) digest");
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policycommandcode", "-S", "ps.ctx", "TPM2_CC_NV_Read"]);
    let err = sim.tpm2_fails(&["unseal", "-c", "cc.ctx", "-p", "session:ps.ctx"]);
    assert_rc(&err, RC_POLICY_FAIL_S1, "Unseal with a session for NV_Read");
    sim.tpm2(&["flushcontext", "ps.ctx"]);
    // An object whose policy is PolicyCommandCode(NV_Read): the digest
    // matches, the command does not: TPM_RC_POLICY_CC.
    seal(&sim, secret, "ccnv.ctx", &["-L", "nv.policy"]);
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policycommandcode", "-S", "ps.ctx", "TPM2_CC_NV_Read"]);
    let err = sim.tpm2_fails(&["unseal", "-c", "ccnv.ctx", "-p", "session:ps.ctx"]);
    assert_rc(&err, 0x9a4, "Unseal with a session bound to NV_Read"); // TPM_RC_POLICY_CC, session 1
    sim.tpm2(&["flushcontext", "ps.ctx"]);
}
per_transport!(
    policy_or_commandcode,
    policy_or_commandcode_mssim,
    policy_or_commandcode_swtpm,
    policy_or_commandcode_abrmd
);

// ---------------------------------------------------------------- PolicySecret

fn policy_secret(tcti: Tcti) {
    let sim = started(tcti);
    primary(&sim);
    sim.tpm2(&["changeauth", "-c", "o", "ownerpw"]);
    // Name of a permanent handle = the handle (Part 1, 16).
    let owner_name = 0x4000_0001u32.to_be_bytes();
    let want = policy_update_ref(&[0; 32], CC_POLICY_SECRET, &owner_name, &[]);
    let got = trial(
        &sim,
        "secret.policy",
        &[&["policysecret", "-c", "o", "ownerpw"]],
    );
    assert_eq!(hex(&got), hex(&want), "PolicySecret(owner) digest");

    let secret = b"needs the owner's password";
    // The primary was created before the owner password was set: its
    // authorization (empty) is its own.
    seal(&sim, secret, "sealed.ctx", &["-L", "secret.policy"]);
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&["policysecret", "-S", "ps.ctx", "-c", "o", "ownerpw"]);
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // A wrong owner password: the owner hierarchy is not DA-protected, so
    // TPM_RC_BAD_AUTH (not AUTH_FAIL), and the DA counter stays at 0.
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    let err = sim.tpm2_fails(&["policysecret", "-S", "ps.ctx", "-c", "o", "wrong"]);
    assert_rc(
        &err,
        RC_BAD_AUTH_S1,
        "PolicySecret with a wrong owner password",
    );
    sim.tpm2(&["flushcontext", "ps.ctx"]);
    assert_eq!(da_state(&sim), (0, 0), "owner auth failures do not count");

    // PolicySecret against an object's authValue, with a policyRef.
    seal(&sim, b"x", "authobj.ctx", &["-p", "objpw"]);
    let name = {
        sim.tpm2(&[
            "readpublic",
            "-c",
            "authobj.ctx",
            "-n",
            "authobj.name",
            "-Q",
        ]);
        read(&sim, "authobj.name")
    };
    write(&sim, "ref.bin", b"policy reference");
    let want = policy_update_ref(&[0; 32], CC_POLICY_SECRET, &name, b"policy reference");
    let got = trial(
        &sim,
        "secret2.policy",
        &[&[
            "policysecret",
            "-c",
            "authobj.ctx",
            "-q",
            "ref.bin",
            "objpw",
        ]],
    );
    assert_eq!(hex(&got), hex(&want), "PolicySecret(object, ref) digest");
}
per_transport!(
    policy_secret,
    policy_secret_mssim,
    policy_secret_swtpm,
    policy_secret_abrmd
);

// ---------------------------------------------------------------- PolicySigned

/// An OpenSSL RSA key pair in `<stem>.priv.pem` / `<stem>.pub.pem`.
fn openssl_rsa(sim: &Sim, stem: &str) {
    let priv_pem = format!("{stem}.priv.pem");
    let pub_pem = format!("{stem}.pub.pem");
    openssl(sim, &["genrsa", "-out", &priv_pem, "2048"]);
    openssl(sim, &["rsa", "-in", &priv_pem, "-pubout", "-out", &pub_pem]);
}

/// Loads `<stem>.pub.pem` into the owner hierarchy as `<stem>.ctx` and
/// returns its Name, checked against nameAlg || H(TPMT_PUBLIC).
fn load_external_pub(sim: &Sim, stem: &str) -> Vec<u8> {
    let pub_pem = format!("{stem}.pub.pem");
    let ctx = format!("{stem}.ctx");
    let name_f = format!("{stem}.name");
    let tpub = format!("{stem}.tpub");
    sim.tpm2(&[
        "loadexternal",
        "-C",
        "o",
        "-G",
        "rsa",
        "-u",
        &pub_pem,
        "-c",
        &ctx,
        "-n",
        &name_f,
    ]);
    let name = read(sim, &name_f);
    sim.tpm2(&["readpublic", "-c", &ctx, "-o", &tpub, "-Q"]);
    let public = read(sim, &tpub); // TPM2B_PUBLIC
    assert!(
        public.len() > 2,
        "readpublic -o wrote {} bytes",
        public.len()
    );
    let mut want = 0x000bu16.to_be_bytes().to_vec();
    want.extend_from_slice(&sha256(&public[2..]));
    assert_eq!(hex(&name), hex(&want), "Name of the loaded external key");
    name
}

fn policy_signed(tcti: Tcti) {
    let sim = started(tcti);
    primary(&sim);
    openssl_rsa(&sim, "signer");
    let name = load_external_pub(&sim, "signer");

    let want = policy_update_ref(&[0; 32], CC_POLICY_SIGNED, &name, &[]);
    let got = trial(
        &sim,
        "signed.policy",
        &[&["policysigned", "-c", "signer.ctx"]],
    );
    assert_eq!(hex(&got), hex(&want), "PolicySigned digest");

    let secret = b"released by a signature from outside";
    seal(&sim, secret, "sealed.ctx", &["-L", "signed.policy"]);

    // The authorization the signer signs: aHash = H(nonceTPM || expiration
    // || cpHashA || policyRef) (Part 3 §23.3). The tool writes what it
    // would hash (--raw-data); it must be nonceTPM (32 bytes with -x) and
    // a zero expiration, with empty cpHashA and policyRef.
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&[
        "policysigned",
        "-S",
        "ps.ctx",
        "-c",
        "signer.ctx",
        "-x",
        "--raw-data",
        "raw.bin",
    ]);
    let raw = read(&sim, "raw.bin");
    assert_eq!(raw.len(), 32 + 4, "nonceTPM || expiration: {}", hex(&raw));
    assert_ne!(raw[..32], [0u8; 32], "nonceTPM");
    let mut to_sign = raw[..32].to_vec();
    to_sign.extend_from_slice(&0i32.to_be_bytes());
    write(&sim, "to_sign.bin", &to_sign);
    openssl(
        &sim,
        &[
            "dgst",
            "-sha256",
            "-sign",
            "signer.priv.pem",
            "-out",
            "sig.bin",
            "to_sign.bin",
        ],
    );
    sim.tpm2(&[
        "policysigned",
        "-S",
        "ps.ctx",
        "-c",
        "signer.ctx",
        "-x",
        "-g",
        "sha256",
        "-f",
        "rsassa",
        "-s",
        "sig.bin",
        "-L",
        "session.policy",
    ]);
    assert_eq!(read(&sim, "session.policy"), want, "session digest");
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // The signature covers the old session's nonce: in a new session it
    // does not verify (TPM_RC_SIGNATURE on parameter 5, auth).
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    let err = sim.tpm2_fails(&[
        "policysigned",
        "-S",
        "ps.ctx",
        "-c",
        "signer.ctx",
        "-x",
        "-g",
        "sha256",
        "-f",
        "rsassa",
        "-s",
        "sig.bin",
    ]);
    assert_rc(&err, RC_SIGNATURE_P5, "a replayed PolicySigned signature");
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // A signature by another key is refused the same way.
    openssl_rsa(&sim, "other");
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
    sim.tpm2(&[
        "policysigned",
        "-S",
        "ps.ctx",
        "-c",
        "signer.ctx",
        "-x",
        "--raw-data",
        "raw.bin",
    ]);
    let raw = read(&sim, "raw.bin");
    write(&sim, "to_sign.bin", &raw);
    openssl(
        &sim,
        &[
            "dgst",
            "-sha256",
            "-sign",
            "other.priv.pem",
            "-out",
            "sig.bin",
            "to_sign.bin",
        ],
    );
    let err = sim.tpm2_fails(&[
        "policysigned",
        "-S",
        "ps.ctx",
        "-c",
        "signer.ctx",
        "-x",
        "-g",
        "sha256",
        "-f",
        "rsassa",
        "-s",
        "sig.bin",
    ]);
    assert_rc(&err, RC_SIGNATURE_P5, "a signature by another key");
    sim.tpm2(&["flushcontext", "ps.ctx"]);
}
per_transport!(
    policy_signed,
    policy_signed_mssim,
    policy_signed_swtpm,
    policy_signed_abrmd
);

// ---------------------------------------------------------------- PolicyAuthorize

/// Signs approvedPolicy || policyRef with the authority's OpenSSL key and
/// has the TPM verify it: `tpm2 verifysignature -t` writes the ticket.
fn authorize_policy(sim: &Sim, approved: &str, ticket: &str) {
    let msg = [read(sim, approved), read(sim, "ref.bin")].concat();
    write(sim, "approve_msg.bin", &msg);
    openssl(
        sim,
        &[
            "dgst",
            "-sha256",
            "-sign",
            "authority.priv.pem",
            "-out",
            "approve.sig",
            "approve_msg.bin",
        ],
    );
    // The signature also verifies with OpenSSL (independently of the TPM).
    openssl(
        sim,
        &[
            "dgst",
            "-sha256",
            "-verify",
            "authority.pub.pem",
            "-signature",
            "approve.sig",
            "approve_msg.bin",
        ],
    );
    sim.tpm2(&[
        "verifysignature",
        "-c",
        "authority.ctx",
        "-g",
        "sha256",
        "-m",
        "approve_msg.bin",
        "-f",
        "rsassa",
        "-s",
        "approve.sig",
        "-t",
        ticket,
    ]);
    // TPMT_TK_VERIFIED: tag TPM_ST_VERIFIED (0x8022), hierarchy owner.
    let t = read(sim, ticket);
    assert!(t.len() > 8, "ticket: {}", hex(&t));
    assert_eq!(&t[..6], &[0x80, 0x22, 0x40, 0, 0, 1], "ticket header");
}

fn policy_authorize(tcti: Tcti) {
    let sim = started(tcti);
    primary(&sim);
    openssl_rsa(&sim, "authority");
    let name = load_external_pub(&sim, "authority");
    let policy_ref = b"vtpm e2e authorized policy";
    write(&sim, "ref.bin", policy_ref);

    // The object's policy: PolicyAuthorize(authority, ref).
    let want = policy_update_ref(&[0; 32], CC_POLICY_AUTHORIZE, &name, policy_ref);
    let got = trial(
        &sim,
        "authorize.policy",
        &[&[
            "policyauthorize",
            "-n",
            "authority.name",
            "-q",
            "ref.bin",
            "-i",
            "/dev/null",
        ]],
    );
    assert_eq!(hex(&got), hex(&want), "PolicyAuthorize digest");
    let secret = b"sealed to whatever the authority approves";
    seal(&sim, secret, "sealed.ctx", &["-L", "authorize.policy"]);

    // The authority approves PolicyPCR over PCR 16 as it is now.
    let approved1 = trial(
        &sim,
        "approved1.policy",
        &[&["policypcr", "-l", "sha256:16"]],
    );
    authorize_policy(&sim, "approved1.policy", "ticket1.bin");
    let satisfy = |approved: &str, ticket: &str| {
        sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
        sim.tpm2(&["policypcr", "-S", "ps.ctx", "-l", "sha256:16"]);
        sim.tpm2_raw(&[
            "policyauthorize",
            "-S",
            "ps.ctx",
            "-i",
            approved,
            "-q",
            "ref.bin",
            "-n",
            "authority.name",
            "-t",
            ticket,
            "-L",
            "session.policy",
        ])
    };
    let o = satisfy("approved1.policy", "ticket1.bin");
    assert!(o.status.success(), "policyauthorize:\n{}", o.stderr);
    assert_eq!(read(&sim, "session.policy"), want, "session digest");
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // PCR 16 moves: the old approval no longer matches the session
    // (TPM_RC_VALUE on approvedPolicy)...
    let ext = hex(&sha256(b"a new measurement"));
    sim.tpm2(&["pcrextend", &format!("16:sha256={ext}")]);
    let o = satisfy("approved1.policy", "ticket1.bin");
    assert!(!o.status.success(), "PolicyAuthorize of a stale approval");
    assert_rc(
        &o.stderr,
        RC_VALUE_P1,
        "PolicyAuthorize of a stale approval",
    );
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // ... and a ticket for one policy does not carry over to another.
    let approved2 = trial(
        &sim,
        "approved2.policy",
        &[&["policypcr", "-l", "sha256:16"]],
    );
    assert_ne!(approved1, approved2);
    let o = satisfy("approved2.policy", "ticket1.bin");
    assert!(!o.status.success(), "PolicyAuthorize with another ticket");
    // Part 3 §23.16.1: "If the ticket is not valid, the TPM shall return
    // TPM_RC_POLICY". (libtpms answers TPM_RC_VALUE on checkTicket, 0x4c4.)
    assert_rc(&o.stderr, RC_POLICY, "ticket for another policy");
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // The authority signs the new policy: the same sealed object unseals
    // again, without re-sealing.
    authorize_policy(&sim, "approved2.policy", "ticket2.bin");
    let o = satisfy("approved2.policy", "ticket2.bin");
    assert!(o.status.success(), "policyauthorize:\n{}", o.stderr);
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);
}
per_transport!(
    policy_authorize,
    policy_authorize_mssim,
    policy_authorize_swtpm,
    policy_authorize_abrmd
);

// ---------------------------------------------------------------- PolicyNV

fn policy_nv(tcti: Tcti) {
    let sim = started(tcti);
    primary(&sim);
    let index = "0x01500016";
    sim.tpm2(&[
        "nvdefine",
        index,
        "-C",
        "o",
        "-s",
        "8",
        "-a",
        "ownerread|ownerwrite|authread|authwrite",
    ]);
    write(&sim, "nvdata.bin", &7u64.to_be_bytes());
    sim.tpm2(&["nvwrite", index, "-C", "o", "-i", "nvdata.bin"]);

    // The index Name: nameAlg || H(TPMS_NV_PUBLIC) with TPMA_NV_WRITTEN.
    let attrs: u32 = 0x2 | 0x4 | 0x2_0000 | 0x4_0000 | 0x2000_0000;
    let mut nv_public = 0x0150_0016u32.to_be_bytes().to_vec();
    nv_public.extend_from_slice(&0x000bu16.to_be_bytes());
    nv_public.extend_from_slice(&attrs.to_be_bytes());
    nv_public.extend_from_slice(&0u16.to_be_bytes()); // empty authPolicy
    nv_public.extend_from_slice(&8u16.to_be_bytes()); // dataSize
    let mut nv_name = 0x000bu16.to_be_bytes().to_vec();
    nv_name.extend_from_slice(&sha256(&nv_public));
    let out = sim.tpm2(&["nvreadpublic", index]);
    let printed = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("name: ").map(str::to_string));
    assert_eq!(
        printed.as_deref(),
        Some(hex(&nv_name).as_str()),
        "NV Name:\n{out}"
    );

    // PolicyNV(operandB = 5, offset 4, TPM_EO_UNSIGNED_GT): the last four
    // bytes of the index, read as a big-endian number, must exceed 5.
    let operand = 5u32.to_be_bytes();
    write(&sim, "operand.bin", &operand);
    let ugt: u16 = 0x0003; // TPM_EO_UNSIGNED_GT (Part 2, 6.8)
    let args = sha256(&[&operand[..], &4u16.to_be_bytes(), &ugt.to_be_bytes()].concat());
    let want = policy_update(&[0; 32], CC_POLICY_NV, &[&args, &nv_name]);
    let policynv = |extra: &[&str]| {
        let mut a = vec![
            "policynv",
            "-i",
            "operand.bin",
            "--offset",
            "4",
            "-C",
            "o",
            index,
            "ugt",
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<String>>()
    };
    let trial_args = policynv(&[]);
    let trial_refs: Vec<&str> = trial_args.iter().map(String::as_str).collect();
    let got = trial(&sim, "nv.policy", &[&trial_refs]);
    assert_eq!(hex(&got), hex(&want), "PolicyNV digest");

    let secret = b"while the counter is above five";
    seal(&sim, secret, "sealed.ctx", &["-L", "nv.policy"]);
    let run = |sim: &Sim| {
        sim.tpm2(&["startauthsession", "--policy-session", "-S", "ps.ctx"]);
        let a = policynv(&["-S", "ps.ctx"]);
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        sim.tpm2_raw(&refs)
    };
    let o = run(&sim);
    assert!(o.status.success(), "policynv:\n{}", o.stderr);
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // 3 > 5 is false: PolicyNV fails with TPM_RC_POLICY.
    write(&sim, "nvdata.bin", &3u64.to_be_bytes());
    sim.tpm2(&["nvwrite", index, "-C", "o", "-i", "nvdata.bin"]);
    let o = run(&sim);
    assert!(!o.status.success(), "PolicyNV with 3 > 5 succeeded");
    assert_rc(&o.stderr, RC_POLICY, "PolicyNV comparison false");
    // Nor does Unseal work with that session.
    let err = sim.tpm2_fails(&["unseal", "-c", "sealed.ctx", "-p", "session:ps.ctx"]);
    assert_rc(&err, RC_POLICY_FAIL_S1, "unseal after PolicyNV failed");
    sim.tpm2(&["flushcontext", "ps.ctx"]);

    // 6 > 5 again.
    write(&sim, "nvdata.bin", &6u64.to_be_bytes());
    sim.tpm2(&["nvwrite", index, "-C", "o", "-i", "nvdata.bin"]);
    let o = run(&sim);
    assert!(o.status.success(), "policynv:\n{}", o.stderr);
    assert_eq!(unseal(&sim, "sealed.ctx", "session:ps.ctx"), secret);
    sim.tpm2(&["flushcontext", "ps.ctx"]);
}
per_transport!(policy_nv, policy_nv_mssim, policy_nv_swtpm, policy_nv_abrmd);

// ---------------------------------------------------------------- DA lockout

fn da_lockout(tcti: Tcti) {
    let sim = started(tcti);
    primary(&sim);
    let secret = b"DA-protected";
    seal(&sim, secret, "da.ctx", &["-p", "goodpw"]);
    // The same with noDA: never subject to lockout.
    seal(
        &sim,
        secret,
        "noda.ctx",
        &[
            "-p",
            "goodpw",
            "-a",
            "fixedtpm|fixedparent|userwithauth|noda",
        ],
    );

    sim.tpm2(&["changeauth", "-c", "l", "lockoutpw"]);
    sim.tpm2(&[
        "dictionarylockout",
        "-s",
        "-n",
        "3",
        "-t",
        "2",
        "-l",
        "2",
        "-p",
        "lockoutpw",
    ]);
    let (y, out) = getcap_variable(&sim);
    assert_eq!(field_u64(&y, &["TPM2_PT_MAX_AUTH_FAIL"], &out), 3);
    assert_eq!(field_u64(&y, &["TPM2_PT_LOCKOUT_INTERVAL"], &out), 2);
    assert_eq!(field_u64(&y, &["TPM2_PT_LOCKOUT_RECOVERY"], &out), 2);
    assert_eq!(
        field_u64(&y, &["TPM2_PT_PERMANENT", "lockoutAuthSet"], &out),
        1
    );
    assert_eq!(da_state(&sim), (0, 0));

    // A wrong password on a noDA object: TPM_RC_BAD_AUTH, no count.
    let err = sim.tpm2_fails(&["unseal", "-c", "noda.ctx", "-p", "bad"]);
    assert_rc(&err, RC_BAD_AUTH_S1, "noDA object, wrong password");
    assert_eq!(da_state(&sim), (0, 0));

    // Three failures on the DA-protected object: TPM_RC_AUTH_FAIL each,
    // the counter goes 1, 2, 3, and at maxTries the TPM is in lockout.
    for n in 1..=3 {
        let err = sim.tpm2_fails(&["unseal", "-c", "da.ctx", "-p", "bad"]);
        assert_rc(&err, RC_AUTH_FAIL_S1, &format!("failure {n}"));
        assert_eq!(da_state(&sim).0, n, "TPM_PT_LOCKOUT_COUNTER after {n}");
    }
    assert_eq!(da_state(&sim), (3, 1), "in lockout at maxTries");
    // Now even the right password is refused, with TPM_RC_LOCKOUT.
    let err = sim.tpm2_fails(&["unseal", "-c", "da.ctx", "-p", "goodpw"]);
    assert_rc(&err, RC_LOCKOUT, "DA-protected object in lockout");
    // noDA objects still work.
    assert_eq!(unseal(&sim, "noda.ctx", "goodpw"), secret);

    // A wrong lockout password: TPM_RC_AUTH_FAIL, and lockoutAuth is then
    // unusable for lockoutRecovery (2 s): TPM_RC_LOCKOUT even when right.
    let err = sim.tpm2_fails(&["dictionarylockout", "-c", "-p", "wrong"]);
    assert_rc(&err, RC_AUTH_FAIL_S1, "wrong lockoutAuth");
    let err = sim.tpm2_fails(&["dictionarylockout", "-c", "-p", "lockoutpw"]);
    assert_rc(&err, RC_LOCKOUT, "lockoutAuth during lockoutRecovery");
    sleep(Duration::from_millis(2600));
    // DictionaryAttackLockReset clears the counter and the lockout.
    sim.tpm2(&["dictionarylockout", "-c", "-p", "lockoutpw"]);
    assert_eq!(da_state(&sim), (0, 0), "after DictionaryAttackLockReset");
    assert_eq!(unseal(&sim, "da.ctx", "goodpw"), secret);

    // Self-healing: one failure, then after recoveryTime (2 s) the
    // counter has gone back down.
    let err = sim.tpm2_fails(&["unseal", "-c", "da.ctx", "-p", "bad"]);
    assert_rc(&err, RC_AUTH_FAIL_S1, "failure after reset");
    assert_eq!(da_state(&sim), (1, 0));
    sleep(Duration::from_millis(2600));
    assert_eq!(da_state(&sim), (0, 0), "after recoveryTime");
    assert_eq!(unseal(&sim, "da.ctx", "goodpw"), secret);
}
per_transport!(
    da_lockout,
    da_lockout_mssim,
    da_lockout_swtpm,
    da_lockout_abrmd
);
