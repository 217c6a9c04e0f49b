//! QEMU boots Linux with vtpm-host-sim as its swtpm (tests/qemu/run.sh):
//! tpm-tis and tpm-crb, a guest reset cycle and a migration through
//! GET/SET_STATEBLOB. Needs root for apt-get when QEMU, the kernel or
//! busybox-static are missing; fails (never skips) when they cannot be had.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::Instant;

#[test]
fn qemu_boots_linux_with_vtpm_as_swtpm() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/qemu/run.sh");
    let t0 = Instant::now();
    let out = Command::new("bash")
        .arg(script)
        .env("VTPM_BIN", env!("CARGO_BIN_EXE_vtpm-host-sim"))
        .output()
        .expect("cannot run tests/qemu/run.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The summary lines (and everything on failure).
    for l in stdout.lines().filter(|l| l.starts_with("[qemu-test")) {
        println!("{l}");
    }
    if !out.status.success() {
        println!("{stdout}");
        eprintln!("{stderr}");
    }
    assert!(
        out.status.success(),
        "tests/qemu/run.sh failed after {:?}",
        t0.elapsed()
    );
    assert!(stdout.contains("PASS: tis crb reset migrate"));
}
