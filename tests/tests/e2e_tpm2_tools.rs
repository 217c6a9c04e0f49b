//! End to end: tpm2-tools against `vtpm-host-sim`, through both TCTIs.
//!
//! Every scenario runs three times: once per TCTI, and once more with
//! mssim through the simulator's `--svsm` route. Per TCTI (`<scenario>_mssim` with
//! `--protocol mssim` and `mssim:host=127.0.0.1,port=P`, `<scenario>_swtpm`
//! with `--protocol swtpm` and `swtpm:host=127.0.0.1,port=P`), each on its
//! own freshly manufactured simulator. The tests check values (digests,
//! PCR contents, capability fields, clocks), not only exit codes. They
//! fail, never skip, when `tpm2` is missing.

use std::fs;
use std::thread::sleep;
use std::time::Duration;

use sha1::Sha1;
use sha2::{Digest, Sha256};
use vtpm_tests::yaml::{self, Yaml};
use vtpm_tests::{hex, unhex, Sim, Tcti};

/// One test per TCTI for a scenario `fn(Tcti)`.
macro_rules! per_tcti {
    ($scenario:ident, $mssim:ident, $swtpm:ident, $svsm:ident) => {
        #[test]
        fn $mssim() {
            $scenario(Tcti::Mssim);
        }
        #[test]
        fn $swtpm() {
            $scenario(Tcti::Swtpm);
        }
        #[test]
        fn $svsm() {
            $scenario(Tcti::MssimSvsm);
        }
    };
}

/// A simulator with `tpm2 startup -c` done.
fn started(tcti: Tcti) -> Sim {
    let sim = Sim::start(tcti);
    sim.tpm2(&["startup", "-c"]);
    sim
}

fn sha1(data: &[u8]) -> Vec<u8> {
    Sha1::digest(data).to_vec()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// The value of a PCR extend: H(old || digest).
fn extend(old: &[u8], digest: &[u8], h: fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut m = old.to_vec();
    m.extend_from_slice(digest);
    h(&m)
}

/// `tpm2 pcrread <bank>:<index>` as bytes.
fn pcr(sim: &Sim, bank: &str, index: u32) -> Vec<u8> {
    let sel = format!("{bank}:{index}");
    let out = sim.tpm2(&["pcrread", &sel]);
    let y = yaml::parse(&out);
    let v = y
        .path(&[bank, &index.to_string()])
        .and_then(Yaml::as_str)
        .unwrap_or_else(|| panic!("no {bank}:{index} in pcrread output:\n{out}"));
    unhex(v).unwrap_or_else(|| panic!("PCR value {v:?} is not hex"))
}

fn getcap(sim: &Sim, what: &str) -> (Yaml, String) {
    let out = sim.tpm2(&["getcap", what]);
    (yaml::parse(&out), out)
}

fn field<'a>(y: &'a Yaml, path: &[&str], out: &str) -> &'a Yaml {
    y.path(path)
        .unwrap_or_else(|| panic!("no {} in:\n{out}", path.join(".")))
}

fn field_u64(y: &Yaml, path: &[&str], out: &str) -> u64 {
    field(y, path, out)
        .as_u64()
        .unwrap_or_else(|| panic!("{} is not a number in:\n{out}", path.join(".")))
}

// ---------------------------------------------------------------- startup

fn startup(tcti: Tcti) {
    let sim = Sim::start(tcti);
    // Before TPM2_Startup every command fails with TPM_RC_INITIALIZE
    // (0x100); tpm2 getrandom first asks GetCapability.
    let err = sim.tpm2_fails(&["getrandom", "8", "--hex"]);
    assert!(
        err.contains("0x100"),
        "expected TPM_RC_INITIALIZE (0x100) before Startup, got:\n{err}"
    );
    sim.tpm2(&["startup", "-c"]);
    let out = sim.tpm2(&["getrandom", "8", "--hex"]);
    assert_eq!(out.trim().len(), 16, "getrandom after startup: {out:?}");
    // A fresh TPM after Startup(CLEAR): all hierarchies enabled.
    let (y, out) = getcap(&sim, "properties-variable");
    for f in ["phEnable", "shEnable", "ehEnable", "phEnableNV"] {
        assert_eq!(
            field_u64(&y, &["TPM2_PT_STARTUP_CLEAR", f], &out),
            1,
            "{f} after Startup(CLEAR)"
        );
    }
}
per_tcti!(startup, startup_mssim, startup_swtpm, startup_svsm_route);

// ---------------------------------------------------------------- random

fn getrandom(tcti: Tcti) {
    let sim = started(tcti);
    let a = sim.tpm2(&["getrandom", "8", "--hex"]);
    let b = sim.tpm2(&["getrandom", "8", "--hex"]);
    for r in [&a, &b] {
        let r = r.trim();
        assert_eq!(r.len(), 16, "8 random bytes are 16 hex digits: {r:?}");
        assert!(r.chars().all(|c| c.is_ascii_hexdigit()), "not hex: {r:?}");
    }
    assert_ne!(
        a.trim(),
        b.trim(),
        "two GetRandom calls returned the same bytes"
    );
    // Binary output to a file: exactly the requested length.
    sim.tpm2(&["getrandom", "32", "-o", "rnd.bin"]);
    let bytes = fs::read(sim.work_dir().join("rnd.bin")).unwrap_or_default();
    assert_eq!(bytes.len(), 32);
    assert!(bytes.iter().any(|&b| b != 0), "32 zero bytes of randomness");
}
per_tcti!(
    getrandom,
    getrandom_mssim,
    getrandom_swtpm,
    getrandom_svsm_route
);

fn stirrandom(tcti: Tcti) {
    let sim = started(tcti);
    fs::write(sim.work_dir().join("seed.bin"), [0x5au8; 64]).unwrap_or_default();
    sim.tpm2(&["stirrandom", "seed.bin"]);
    sim.tpm2_stdin(&["stirrandom"], b"more additional input");
    let a = sim.tpm2(&["getrandom", "8", "--hex"]);
    let b = sim.tpm2(&["getrandom", "8", "--hex"]);
    assert_eq!(a.trim().len(), 16, "{a:?}");
    assert_ne!(a, b);
}
per_tcti!(
    stirrandom,
    stirrandom_mssim,
    stirrandom_swtpm,
    stirrandom_svsm_route
);

// ---------------------------------------------------------------- PCRs

fn pcrextend(tcti: Tcti) {
    let sim = started(tcti);
    let d1 = sha1(b"vtpm e2e sha1");
    let d256 = sha256(b"vtpm e2e sha256");
    let arg = format!("16:sha1={},sha256={}", hex(&d1), hex(&d256));
    sim.tpm2(&["pcrextend", &arg]);
    let want1 = extend(&[0; 20], &d1, sha1);
    let want256 = extend(&[0; 32], &d256, sha256);

    let out = sim.tpm2(&["pcrread", "sha1:16+sha256:16"]);
    let y = yaml::parse(&out);
    let got1 = field(&y, &["sha1", "16"], &out).as_str().and_then(unhex);
    let got256 = field(&y, &["sha256", "16"], &out).as_str().and_then(unhex);
    assert_eq!(got1, Some(want1.clone()), "sha1 PCR 16:\n{out}");
    assert_eq!(got256, Some(want256.clone()), "sha256 PCR 16:\n{out}");

    // A second extend chains on the first.
    let arg = format!("16:sha256={}", hex(&d256));
    sim.tpm2(&["pcrextend", &arg]);
    assert_eq!(pcr(&sim, "sha256", 16), extend(&want256, &d256, sha256));
    assert_eq!(pcr(&sim, "sha1", 16), want1, "sha1 bank must not move");
    // Another PCR is untouched.
    assert_eq!(pcr(&sim, "sha256", 15), vec![0; 32]);
}
per_tcti!(
    pcrextend,
    pcrextend_mssim,
    pcrextend_swtpm,
    pcrextend_svsm_route
);

fn pcrevent(tcti: Tcti) {
    let sim = started(tcti);
    let data: Vec<u8> = (0..200u32).map(|i| (i * 7 + 3) as u8).collect();
    fs::write(sim.work_dir().join("event.bin"), &data).unwrap_or_default();
    let out = sim.tpm2(&["pcrevent", "16", "event.bin"]);
    let y = yaml::parse(&out);
    let ev256 = field(&y, &["sha256"], &out).as_str().and_then(unhex);
    let ev1 = field(&y, &["sha1"], &out).as_str().and_then(unhex);
    assert_eq!(
        ev256,
        Some(sha256(&data)),
        "PCR_Event sha256 digest:\n{out}"
    );
    assert_eq!(ev1, Some(sha1(&data)), "PCR_Event sha1 digest:\n{out}");
    assert_eq!(
        pcr(&sim, "sha256", 16),
        extend(&[0; 32], &sha256(&data), sha256)
    );
    assert_eq!(pcr(&sim, "sha1", 16), extend(&[0; 20], &sha1(&data), sha1));
}
per_tcti!(
    pcrevent,
    pcrevent_mssim,
    pcrevent_swtpm,
    pcrevent_svsm_route
);

fn pcrreset(tcti: Tcti) {
    let sim = started(tcti);
    let d = sha256(b"to be reset");
    let arg = format!("16:sha256={}", hex(&d));
    sim.tpm2(&["pcrextend", &arg]);
    assert_eq!(pcr(&sim, "sha256", 16), extend(&[0; 32], &d, sha256));
    sim.tpm2(&["pcrreset", "16"]);
    assert_eq!(pcr(&sim, "sha256", 16), vec![0; 32]);
    assert_eq!(pcr(&sim, "sha1", 16), vec![0; 20]);
}
per_tcti!(
    pcrreset,
    pcrreset_mssim,
    pcrreset_swtpm,
    pcrreset_svsm_route
);

fn pcrreset_locality(tcti: Tcti) {
    let sim = started(tcti);
    // PCR 0 is not resettable from locality 0: TPM_RC_LOCALITY (0x907),
    // which tpm2-tools prints as "(0x907) - tpm:warn(2.0): bad locality".
    let err = sim.tpm2_fails(&["pcrreset", "0"]);
    assert!(
        err.contains("0x907") && err.contains("locality"),
        "expected TPM_RC_LOCALITY (0x907), got:\n{err}"
    );
}
per_tcti!(
    pcrreset_locality,
    pcrreset_locality_mssim,
    pcrreset_locality_swtpm,
    pcrreset_locality_svsm_route
);

// ---------------------------------------------------------------- getcap

fn getcap_algorithms(tcti: Tcti) {
    let sim = started(tcti);
    let (y, out) = getcap(&sim, "algorithms");
    // (name, TPM_ALG_ID, attribute that must be set)
    for (name, id, attr) in [
        ("rsa", 0x1, "asymmetric"),
        ("sha1", 0x4, "hash"),
        ("hmac", 0x5, "hash"),
        ("aes", 0x6, "symmetric"),
        ("keyedhash", 0x8, "object"),
        ("sha256", 0xb, "hash"),
        ("sha384", 0xc, "hash"),
        ("ecc", 0x23, "asymmetric"),
        ("cfb", 0x43, "symmetric"),
    ] {
        assert_eq!(field_u64(&y, &[name, "value"], &out), id, "{name} id");
        assert_eq!(field_u64(&y, &[name, attr], &out), 1, "{name}.{attr}");
    }
    assert_eq!(field_u64(&y, &["rsa", "object"], &out), 1);
    assert_eq!(field_u64(&y, &["sha256", "asymmetric"], &out), 0);
}
per_tcti!(
    getcap_algorithms,
    getcap_algorithms_mssim,
    getcap_algorithms_swtpm,
    getcap_algorithms_svsm_route
);

fn getcap_commands(tcti: Tcti) {
    let sim = started(tcti);
    let (y, out) = getcap(&sim, "commands");
    // (name, command index, cHandles)
    for (name, index, handles) in [
        ("TPM2_CC_PCR_Reset", 0x13d, 1),
        ("TPM2_CC_SelfTest", 0x143, 0),
        ("TPM2_CC_Startup", 0x144, 0),
        ("TPM2_CC_Shutdown", 0x145, 0),
        ("TPM2_CC_StirRandom", 0x146, 0),
        ("TPM2_CC_GetCapability", 0x17a, 0),
        ("TPM2_CC_GetRandom", 0x17b, 0),
        ("TPM2_CC_GetTestResult", 0x17c, 0),
        ("TPM2_CC_Hash", 0x17d, 0),
        ("TPM2_CC_PCR_Read", 0x17e, 0),
        ("TPM2_CC_ReadClock", 0x181, 0),
        ("TPM2_CC_PCR_Extend", 0x182, 1),
        ("TPM2_CC_TestParms", 0x18a, 0),
    ] {
        assert_eq!(
            field_u64(&y, &[name, "commandIndex"], &out),
            index,
            "{name}"
        );
        assert_eq!(
            field_u64(&y, &[name, "cHandles"], &out),
            handles,
            "{name} cHandles"
        );
        let value = field_u64(&y, &[name, "value"], &out);
        assert_eq!(value & 0xffff, index, "{name}: TPMA_CC low bits");
    }
    assert_eq!(field_u64(&y, &["TPM2_CC_PCR_Extend", "nv"], &out), 1);
    assert_eq!(field_u64(&y, &["TPM2_CC_GetRandom", "nv"], &out), 0);
}
per_tcti!(
    getcap_commands,
    getcap_commands_mssim,
    getcap_commands_swtpm,
    getcap_commands_svsm_route
);

fn getcap_pcrs(tcti: Tcti) {
    let sim = started(tcti);
    let (y, out) = getcap(&sim, "pcrs");
    let banks = field(&y, &["selected-pcrs"], &out).items();
    let all: Vec<String> = (0..24).map(|i| i.to_string()).collect();
    let bank = |name: &str| {
        banks
            .iter()
            .find_map(|b| b.get(name))
            .and_then(Yaml::flow_list)
    };
    assert_eq!(bank("sha256"), Some(all.clone()), "sha256 bank:\n{out}");
    assert_eq!(bank("sha1"), Some(all), "sha1 bank:\n{out}");
}
per_tcti!(
    getcap_pcrs,
    getcap_pcrs_mssim,
    getcap_pcrs_swtpm,
    getcap_pcrs_svsm_route
);

fn getcap_properties_fixed(tcti: Tcti) {
    let sim = started(tcti);
    let (y, out) = getcap(&sim, "properties-fixed");
    // "SW  " (tpm2-tools prints the value with trailing blanks trimmed).
    assert_eq!(
        field_u64(&y, &["TPM2_PT_VENDOR_STRING_1", "raw"], &out),
        0x5357_2020
    );
    assert_eq!(
        field(&y, &["TPM2_PT_VENDOR_STRING_1", "value"], &out).as_str(),
        Some("SW")
    );
    assert_eq!(field_u64(&y, &["TPM2_PT_PCR_COUNT", "raw"], &out), 24);
    assert_eq!(
        field_u64(&y, &["TPM2_PT_MAX_COMMAND_SIZE", "raw"], &out),
        4087
    );
    assert_eq!(
        field(&y, &["TPM2_PT_FAMILY_INDICATOR", "value"], &out).as_str(),
        Some("2.0")
    );
    assert!(
        field_u64(&y, &["TPM2_PT_MAX_RESPONSE_SIZE", "raw"], &out) >= 4087,
        "max response size"
    );
}
per_tcti!(
    getcap_properties_fixed,
    getcap_properties_fixed_mssim,
    getcap_properties_fixed_swtpm,
    getcap_properties_fixed_svsm_route
);

fn getcap_properties_variable(tcti: Tcti) {
    let sim = started(tcti);
    let (y, out) = getcap(&sim, "properties-variable");
    for f in ["phEnable", "shEnable", "ehEnable"] {
        assert_eq!(field_u64(&y, &["TPM2_PT_STARTUP_CLEAR", f], &out), 1, "{f}");
    }
    // Nothing is loaded in a fresh TPM.
    assert_eq!(field_u64(&y, &["TPM2_PT_HR_LOADED"], &out), 0);
    // No authorization values set on a fresh TPM.
    for f in [
        "ownerAuthSet",
        "endorsementAuthSet",
        "lockoutAuthSet",
        "inLockout",
    ] {
        assert_eq!(field_u64(&y, &["TPM2_PT_PERMANENT", f], &out), 0, "{f}");
    }
}
per_tcti!(
    getcap_properties_variable,
    getcap_properties_variable_mssim,
    getcap_properties_variable_swtpm,
    getcap_properties_variable_svsm_route
);

fn getcap_ecc_curves(tcti: Tcti) {
    let sim = started(tcti);
    let (y, out) = getcap(&sim, "ecc-curves");
    assert_eq!(field_u64(&y, &["TPM2_ECC_NIST_P256"], &out), 0x3);
    assert_eq!(field_u64(&y, &["TPM2_ECC_NIST_P384"], &out), 0x4);
}
per_tcti!(
    getcap_ecc_curves,
    getcap_ecc_curves_mssim,
    getcap_ecc_curves_swtpm,
    getcap_ecc_curves_svsm_route
);

fn getcap_handles_pcr(tcti: Tcti) {
    let sim = started(tcti);
    let (y, out) = getcap(&sim, "handles-pcr");
    let handles: Vec<u64> = y.items().iter().filter_map(Yaml::as_u64).collect();
    assert_eq!(
        handles,
        (0..24).collect::<Vec<u64>>(),
        "handles-pcr:\n{out}"
    );
}
per_tcti!(
    getcap_handles_pcr,
    getcap_handles_pcr_mssim,
    getcap_handles_pcr_swtpm,
    getcap_handles_pcr_svsm_route
);

fn getcap_handles_permanent(tcti: Tcti) {
    let sim = started(tcti);
    let (y, out) = getcap(&sim, "handles-permanent");
    let handles: Vec<u64> = y.items().iter().filter_map(Yaml::as_u64).collect();
    // owner, null, password session, lockout, endorsement, platform
    for h in [
        0x4000_0001,
        0x4000_0007,
        0x4000_0009,
        0x4000_000A,
        0x4000_000B,
        0x4000_000C,
    ] {
        assert!(handles.contains(&h), "{h:#x} missing from:\n{out}");
    }
    let mut sorted = handles.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, handles, "handles must be ascending and unique");
}
per_tcti!(
    getcap_handles_permanent,
    getcap_handles_permanent_mssim,
    getcap_handles_permanent_swtpm,
    getcap_handles_permanent_svsm_route
);

// ---------------------------------------------------------------- testing

fn selftest(tcti: Tcti) {
    let sim = started(tcti);
    sim.tpm2(&["selftest"]);
    sim.tpm2(&["selftest", "--fulltest"]);
    let out = sim.tpm2(&["gettestresult"]);
    let y = yaml::parse(&out);
    assert_eq!(
        field(&y, &["status"], &out).as_str(),
        Some("success"),
        "gettestresult:\n{out}"
    );
}
per_tcti!(
    selftest,
    selftest_mssim,
    selftest_swtpm,
    selftest_svsm_route
);

fn testparms(tcti: Tcti) {
    let sim = started(tcti);
    sim.tpm2(&["testparms", "rsa2048"]);
    sim.tpm2(&["testparms", "ecc256"]);
    sim.tpm2(&["testparms", "ecc384"]);
    sim.tpm2(&["testparms", "aes128cfb"]);
    // vtpm has no Camellia: the TPM itself refuses it (the tool parses it
    // and sends TestParms; the error comes back from Esys_TestParms).
    let err = sim.tpm2_fails(&["testparms", "camellia128cfb"]);
    assert!(
        err.contains("Esys_TestParms") && err.contains("ErrorCode"),
        "TestParms(camellia128cfb) should fail in the TPM, got:\n{err}"
    );
    // Nor NIST P-521 (tpm2-tools checks the curve list from GetCapability
    // first, so this one is refused on the strength of what the TPM
    // reports).
    sim.tpm2_fails(&["testparms", "ecc521"]);
}
per_tcti!(
    testparms,
    testparms_mssim,
    testparms_swtpm,
    testparms_svsm_route
);

// ---------------------------------------------------------------- hash

fn hash(tcti: Tcti) {
    let sim = started(tcti);
    let data = b"The quick brown fox jumps over the lazy dog\n".repeat(5);
    fs::write(sim.work_dir().join("msg.txt"), &data).unwrap_or_default();
    sim.tpm2(&[
        "hash",
        "-g",
        "sha256",
        "-o",
        "digest.bin",
        "-t",
        "ticket.bin",
        "msg.txt",
    ]);
    let digest = fs::read(sim.work_dir().join("digest.bin")).unwrap_or_default();
    assert_eq!(digest, sha256(&data), "TPM2_Hash(sha256)");

    // TPMT_TK_HASHCHECK: tag TPM_ST_HASHCHECK (0x8024), hierarchy owner
    // (the default -C o), an HMAC digest.
    let ticket = fs::read(sim.work_dir().join("ticket.bin"))
        .unwrap_or_else(|e| panic!("the ticket file was not written: {e}"));
    assert!(ticket.len() >= 8, "ticket: {ticket:02x?}");
    assert_eq!(&ticket[0..2], &[0x80, 0x24], "ticket tag");
    assert_eq!(&ticket[2..6], &[0x40, 0, 0, 0x01], "ticket hierarchy");
    let n = usize::from(u16::from_be_bytes([ticket[6], ticket[7]]));
    assert!(n > 0, "a ticket for the owner hierarchy carries an HMAC");
    assert_eq!(ticket.len(), 8 + n, "ticket length");

    // Same data through stdin, sha1, hex output.
    let out = sim.tpm2_stdin(&["hash", "-g", "sha1", "--hex"], &data);
    assert_eq!(out.trim(), hex(&sha1(&data)));

    // The null hierarchy gives a null ticket.
    sim.tpm2(&[
        "hash", "-C", "n", "-g", "sha256", "-o", "d2.bin", "-t", "t2.bin", "msg.txt",
    ]);
    let t2 = fs::read(sim.work_dir().join("t2.bin")).unwrap_or_default();
    assert_eq!(t2, [0x80, 0x24, 0x40, 0, 0, 0x07, 0, 0], "null ticket");
}
per_tcti!(hash, hash_mssim, hash_swtpm, hash_svsm_route);

// ---------------------------------------------------------------- clock

fn read_clock(sim: &Sim) -> (u64, u64, u64, u64) {
    let out = sim.tpm2(&["readclock"]);
    let y = yaml::parse(&out);
    (
        field_u64(&y, &["time"], &out),
        field_u64(&y, &["clock_info", "clock"], &out),
        field_u64(&y, &["clock_info", "reset_count"], &out),
        field_u64(&y, &["clock_info", "restart_count"], &out),
    )
}

fn readclock(tcti: Tcti) {
    let sim = started(tcti);
    let (t1, c1, reset1, restart1) = read_clock(&sim);
    sleep(Duration::from_millis(50));
    let (t2, c2, reset2, restart2) = read_clock(&sim);
    assert!(c2 > c1, "clock must increase: {c1} then {c2}");
    assert!(t2 > t1, "time must increase: {t1} then {t2}");
    assert!(c2 - c1 >= 50, "50 ms passed, clock moved {} ms", c2 - c1);
    assert_eq!((reset1, restart1), (reset2, restart2));
    let out = sim.tpm2(&["readclock"]);
    assert_eq!(
        yaml::parse(&out)
            .path(&["clock_info", "safe"])
            .and_then(Yaml::as_str),
        Some("yes"),
        "{out}"
    );
}
per_tcti!(
    readclock,
    readclock_mssim,
    readclock_swtpm,
    readclock_svsm_route
);

// ---------------------------------------------------------------- restart

/// Shutdown(STATE), SIGTERM, a new process on the same state directory,
/// Startup(STATE): a TPM Resume. PCR 10 (locality 0, not reset by a
/// resume) keeps its value; restartCount goes up, resetCount does not.
fn restart(tcti: Tcti) {
    let dir = tempfile::Builder::new()
        .prefix("vtpm-restart.")
        .tempdir()
        .unwrap_or_else(|e| panic!("temp dir: {e}"));
    let sim = Sim::start_in(tcti, dir.path(), true);
    sim.tpm2(&["startup", "-c"]);
    let d = sha256(b"measured before the restart");
    let arg = format!("10:sha256={}", hex(&d));
    sim.tpm2(&["pcrextend", &arg]);
    let want = extend(&[0; 32], &d, sha256);
    assert_eq!(pcr(&sim, "sha256", 10), want);
    let (_, _, reset1, restart1) = read_clock(&sim);
    sim.tpm2(&["shutdown"]);
    let log = sim.log_text();
    let status = sim.stop();
    assert!(
        status.success(),
        "the simulator should exit cleanly on SIGTERM, got {status}\n{log}"
    );

    let sim = Sim::start_in(tcti, dir.path(), false);
    sim.tpm2(&["startup"]);
    assert_eq!(
        pcr(&sim, "sha256", 10),
        want,
        "PCR 10 after Shutdown(STATE)/Startup(STATE)\n--- simulator log ---\n{}",
        sim.log_text()
    );
    let (_, _, reset2, restart2) = read_clock(&sim);
    assert_eq!(reset2, reset1, "a resume does not count as a reset");
    assert_eq!(restart2, restart1 + 1, "a resume counts as a restart");
    drop(sim);

    // And a Startup(CLEAR) after another restart clears PCR 10.
    let sim = Sim::start_in(tcti, dir.path(), false);
    sim.tpm2(&["startup", "-c"]);
    assert_eq!(pcr(&sim, "sha256", 10), vec![0; 32]);
}
per_tcti!(restart, restart_mssim, restart_swtpm, restart_svsm_route);
