//! `vtpm-host-sim setup` (swtpm_setup's job): EKs from the TCG templates,
//! EK certificates in NV at the TCG indices that verify against the CA
//! (`openssl verify`) and whose public keys are the ones `tpm2 createek`
//! derives again; persistent EKs; a user-provided RSA CA; the overwrite
//! rules; PCR bank allocation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod swtpm_support;

use std::path::Path;
use std::process::{Command, Output};

use swtpm_support::*;

fn setup(args: &[&str]) -> Output {
    Command::new(BIN).arg("setup").args(args).output().unwrap()
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn tool(cmd: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(cmd);
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd} (must be installed): {e}"))
}

/// DER certificate -> PEM file next to it.
fn to_pem(der: &Path) -> String {
    let pem = format!("{}.pem", der.display());
    let der_s = der.to_str().unwrap();
    ok(
        &tool(
            "openssl",
            &["x509", "-inform", "DER", "-in", der_s, "-out", &pem],
            &[],
        ),
        "openssl x509",
    );
    pem
}

/// The DER SubjectPublicKeyInfo of a PEM public key or certificate.
fn spki_der(path: &str, cert: bool) -> Vec<u8> {
    let pubpem = format!("{path}.spki");
    if cert {
        let out = tool("openssl", &["x509", "-in", path, "-pubkey", "-noout"], &[]);
        std::fs::write(&pubpem, ok(&out, "openssl x509 -pubkey")).unwrap();
    } else {
        std::fs::copy(path, &pubpem).unwrap();
    }
    let out = tool(
        "openssl",
        &["pkey", "-pubin", "-in", &pubpem, "-outform", "DER"],
        &[],
    );
    assert!(out.status.success(), "openssl pkey {path}");
    out.stdout
}

#[test]
fn ek_certificates_verify_and_match_createek() {
    let dir = temp_dir("setup");
    let state = dir.join("state");
    let ca = dir.join("ca");
    let certs = dir.join("certs");
    let out = setup(&[
        "--tpm-state",
        state.to_str().unwrap(),
        "--tpm2",
        "--createek",
        "--create-ek-cert",
        "--create-platform-cert",
        "--lock-nvram",
        "--ca-dir",
        ca.to_str().unwrap(),
        "--write-ek-cert-files",
        certs.to_str().unwrap(),
        "--vmid",
        "test-vm",
    ]);
    let text = ok(&out, "setup");
    assert!(
        text.contains("0x01c00002") && text.contains("0x01c0000a"),
        "{text}"
    );
    let ca_pem = ca.join("ca-cert.pem");
    for f in ["ek-rsa2048.crt", "ek-ecc-p256.crt", "platform.crt"] {
        let pem = to_pem(&certs.join(f));
        let v = tool(
            "openssl",
            &["verify", "-CAfile", ca_pem.to_str().unwrap(), &pem],
            &[],
        );
        assert!(
            v.status.success() && String::from_utf8_lossy(&v.stdout).contains(": OK"),
            "openssl verify {f}: {}{}",
            String::from_utf8_lossy(&v.stdout),
            String::from_utf8_lossy(&v.stderr)
        );
    }
    // A second setup on the same state is refused, or skipped.
    let again = setup(&["--tpm-state", state.to_str().unwrap(), "--createek"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--overwrite"));
    ok(
        &setup(&["--tpm-state", state.to_str().unwrap(), "--not-overwrite"]),
        "--not-overwrite",
    );

    // Serve the state and look at it with tpm2-tools.
    let srv = Server::tcp_in(dir.clone(), &["--flags", "not-need-init"]);
    let tcti = format!("swtpm:host=127.0.0.1,port={}", srv.port);
    let env = [("TPM2TOOLS_TCTI", tcti.as_str())];
    let tpm2 = |args: &[&str]| ok(&tool("tpm2", args, &env), &format!("tpm2 {args:?}"));
    tpm2(&["startup", "-c"]);
    let d = |n: &str| dir.join(n).to_str().unwrap().to_string();
    for (index, file, alg) in [
        ("0x01C00002", "ek-rsa2048.crt", "rsa"),
        ("0x01C0000A", "ek-ecc-p256.crt", "ecc"),
    ] {
        // The certificate in NV is the one written.
        let nv = d(&format!("nv-{alg}.der"));
        tpm2(&["nvread", index, "-o", &nv]);
        assert_eq!(
            std::fs::read(&nv).unwrap(),
            std::fs::read(certs.join(file)).unwrap(),
            "{index}"
        );
        // swtpm_setup's attributes, written and write-locked.
        let public = tpm2(&["nvreadpublic", index]);
        for a in [
            "platformcreate",
            "authread",
            "ownerread",
            "ppread",
            "ppwrite",
            "no_da",
            "writedefine",
            "written",
            "writelocked",
        ] {
            assert!(public.contains(a), "{index} lacks {a}: {public}");
        }
        // tpm2 createek derives the same key the certificate certifies.
        let ctx = d(&format!("ek-{alg}.ctx"));
        let pubpem = d(&format!("ek-{alg}.pem"));
        tpm2(&[
            "createek", "-c", &ctx, "-G", alg, "-u", &pubpem, "-f", "pem",
        ]);
        tpm2(&["flushcontext", "-t"]);
        let cert_pem = to_pem(Path::new(&nv));
        assert_eq!(
            spki_der(&pubpem, false),
            spki_der(&cert_pem, true),
            "{alg}: the EK certificate's key is the EK tpm2 createek recreates"
        );
    }
    // The EKs are persistent where swtpm puts them.
    let handles = tpm2(&["getcap", "handles-persistent"]);
    assert!(
        handles.contains("0x81010001") && handles.contains("0x8101000A"),
        "{handles}"
    );
    let p = d("persist.pem");
    tpm2(&["readpublic", "-c", "0x81010001", "-f", "pem", "-o", &p]);
    assert_eq!(spki_der(&p, false), spki_der(&d("ek-rsa.pem"), false));
    // The platform certificate index too.
    let nv = d("nv-platform.der");
    tpm2(&["nvread", "0x01C08000", "-o", &nv]);
    assert_eq!(
        std::fs::read(&nv).unwrap(),
        std::fs::read(certs.join("platform.crt")).unwrap()
    );
    drop(srv);
}

/// A CA the user brings (RSA, made by openssl), no persistence, only the
/// RSA EK, sha256 as the only PCR bank.
#[test]
fn user_rsa_ca_and_pcr_banks() {
    let dir = temp_dir("setup-rsa");
    let key = dir.join("ca.key");
    let crt = dir.join("ca.crt");
    ok(
        &tool(
            "openssl",
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                key.to_str().unwrap(),
                "-out",
                crt.to_str().unwrap(),
                "-subj",
                "/CN=Test EK CA/O=Example",
                "-days",
                "2",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
            &[],
        ),
        "openssl req",
    );
    let state = dir.join("state");
    let certs = dir.join("certs");
    ok(
        &setup(&[
            "--tpm-state",
            &format!("dir://{}", state.display()),
            "--create-ek-cert",
            "--ek",
            "rsa2048",
            "--ca-key",
            key.to_str().unwrap(),
            "--ca-cert",
            crt.to_str().unwrap(),
            "--pcr-banks",
            "sha256",
            "--write-ek-cert-files",
            certs.to_str().unwrap(),
        ]),
        "setup with an RSA CA",
    );
    assert!(!certs.join("ek-ecc-p256.crt").exists());
    let pem = to_pem(&certs.join("ek-rsa2048.crt"));
    let v = tool(
        "openssl",
        &["verify", "-CAfile", crt.to_str().unwrap(), &pem],
        &[],
    );
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let text = ok(
        &tool("openssl", &["x509", "-in", &pem, "-noout", "-text"], &[]),
        "openssl x509 -text",
    );
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");
    assert!(text.contains("Key Encipherment"), "{text}");

    let srv = Server::tcp_in(dir.clone(), &["--flags", "startup-clear"]);
    let tcti = format!("swtpm:host=127.0.0.1,port={}", srv.port);
    let env = [("TPM2TOOLS_TCTI", tcti.as_str())];
    // Not persisted without --createek / --persist-ek.
    let handles = ok(
        &tool("tpm2", &["getcap", "handles-persistent"], &env),
        "getcap",
    );
    assert!(!handles.contains("0x81010001"), "{handles}");
    // Only the sha256 bank is active after the allocation.
    let pcrs = ok(&tool("tpm2", &["getcap", "pcrs"], &env), "getcap pcrs");
    let active: Vec<&str> = pcrs.lines().filter(|l| l.contains("[ 0,")).collect();
    assert_eq!(active.len(), 1, "{pcrs}");
    assert!(active[0].contains("sha256"), "{pcrs}");
    // A key that does not match the certificate is refused.
    let other = dir.join("other.key");
    ok(
        &tool(
            "openssl",
            &["genrsa", "-out", other.to_str().unwrap(), "2048"],
            &[],
        ),
        "openssl genrsa",
    );
    let bad = setup(&[
        "--tpm-state",
        dir.join("state2").to_str().unwrap(),
        "--create-ek-cert",
        "--ca-key",
        other.to_str().unwrap(),
        "--ca-cert",
        crt.to_str().unwrap(),
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("does not belong"));
    assert!(
        !dir.join("state2").join("vtpm-state.a").exists(),
        "nothing half-done"
    );
    drop(srv);
}
