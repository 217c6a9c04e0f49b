//! End to end: the rarely used commands of Part 3 through tpm2-tss's ESAPI
//! (Debian's python3-tpm2-pytss) against `vtpm-host-sim`, once per TCTI.
//!
//! The checks are in `tests/python/rare_commands.py`: the exact TPM_RC of
//! PCR_SetAuthPolicy, PCR_SetAuthValue, PP_Commands, SetAlgorithmSet,
//! FieldUpgradeStart, FieldUpgradeData, FirmwareRead, Vendor_TCG_Test,
//! ACT_SetTimeout, SetCommandCodeAuditStatus, ChangePPS, ChangeEPS,
//! ClearControl, HierarchyControl, NV_UndefineSpaceSpecial, GetTestResult,
//! IncrementalSelfTest, ECC_Parameters, Commit and EC_Ephemeral as ESAPI
//! reports it, and the effect of each one that succeeds. This driver starts
//! a freshly manufactured simulator, runs the script with the TCTI of that
//! simulator and fails with the script's output unless every check passed.
//! A missing python3-tpm2-pytss makes the test fail with how to install it.

use std::path::PathBuf;
use std::process::Command;

use vtpm_tests::{workspace_root, Sim, Tcti};

/// The Debian package installs tpm2_pytss for the system interpreter, which
/// need not be the `python3` first on PATH (pyenv, venvs): use it directly.
const PYTHON: &str = "/usr/bin/python3";

fn script() -> PathBuf {
    workspace_root().join("tests/python/rare_commands.py")
}

/// Panics (the test fails, it does not skip) unless tpm2_pytss imports.
fn require_pytss() {
    let out = Command::new(PYTHON)
        .args(["-c", "import tpm2_pytss"])
        .output();
    let why = match out {
        Ok(o) if o.status.success() => return,
        Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
        Err(e) => format!("cannot run {PYTHON}: {e}"),
    };
    panic!(
        "python3-tpm2-pytss is required by this test ({why}); install it with \
         `apt-get install -y python3-tpm2-pytss` (scripts/test.sh does)"
    );
}

fn rare_commands(tcti: Tcti) {
    require_pytss();
    let sim = Sim::start(tcti);
    let conf = format!("host=127.0.0.1,port={}", sim.port());
    let out = Command::new(PYTHON)
        .arg(script())
        .arg(tcti.name())
        .arg(&conf)
        // ESAPI logs every TPM error it receives; the script reports them.
        .env("TSS2_LOG", "all+none")
        .current_dir(sim.work_dir())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {PYTHON} {}: {e}", script().display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{} {} {conf} failed ({}) via {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n--- simulator log ---\n{}",
        script().display(),
        tcti.name(),
        out.status,
        sim.tcti_string(),
        sim.log_text()
    );
    // The script counts its checks; a run that checked nothing is a failure.
    let summary = stdout
        .lines()
        .find(|l| l.contains("checks passed"))
        .unwrap_or_else(|| panic!("no summary line in the script's output:\n{stdout}"));
    let passed: usize = summary
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 100, "only {passed} checks ran:\n{stdout}");
    assert!(summary.contains(", 0 failed"), "{summary}\n{stdout}");
}

#[test]
fn rare_commands_through_esapi_mssim() {
    rare_commands(Tcti::Mssim);
}

#[test]
fn rare_commands_through_esapi_swtpm() {
    rare_commands(Tcti::Swtpm);
}
