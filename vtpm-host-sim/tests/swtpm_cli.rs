//! `vtpm-host-sim socket` as a drop-in for `swtpm socket`: the command
//! lines of the tpm2-tools suite and of libvirt work by changing only the
//! binary name; unknown or unsupported options fail clearly;
//! `--print-capabilities` is the JSON libvirt reads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod swtpm_support;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use swtpm_support::*;

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[test]
fn print_capabilities_is_the_json_libvirt_reads() {
    for args in [
        &["socket", "--print-capabilities"][..],
        &["socket", "--tpm2", "--print-capabilities"][..],
    ] {
        let out = run(args);
        assert!(out.status.success(), "{args:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["type"], "swtpm");
        assert!(v["version"].is_string());
        let f: Vec<&str> = v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        // What libvirt and swtpm_setup look for, where it works.
        for want in [
            "tpm-2.0",
            "cmdarg-pwd-fd",
            "cmdarg-key-fd",
            "tpm-send-command-header",
            "flags-opt-startup",
            "flags-opt-disable-auto-shutdown",
            "ctrl-opt-terminate",
            "tpmstate-opt-lock",
            "rsa-keysize-2048",
        ] {
            assert!(f.contains(&want), "{want} missing from {f:?}");
        }
        // What does not work is not claimed.
        for absent in [
            "tpm-1.2",
            "cmdarg-migration",
            "cmdarg-seccomp",
            "cmdarg-chroot",
            "cmdarg-profile",
            "nvram-backend-file",
            "cmdarg-pcap",
        ] {
            assert!(!f.contains(&absent), "{absent} claimed in {f:?}");
        }
    }
}

#[test]
fn unknown_and_unsupported_options_fail_clearly() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--tpm2",
                "--ctrl",
                "type=tcp,port=1",
                "--tpmstate",
                "dir=/x",
                "--frobnicate",
            ],
            "unknown option '--frobnicate'",
        ),
        (
            &[
                "--tpm2",
                "--server",
                "type=tcp,port=1,colour=red",
                "--tpmstate",
                "dir=/x",
            ],
            "unknown parameter 'colour'",
        ),
        (
            &[
                "--tpm2",
                "--ctrl",
                "type=tcp,port=1",
                "--tpmstate",
                "dir=/x",
                "--seccomp",
                "action=kill",
            ],
            "--seccomp is not supported",
        ),
        (
            &[
                "--tpm2",
                "--ctrl",
                "type=tcp,port=1",
                "--tpmstate",
                "dir=/x",
                "--migration-key",
                "pwdfd=3",
            ],
            "--migration-key is not supported",
        ),
        (
            &["--ctrl", "type=unixio,path=/tmp/s", "--tpmstate", "dir=/x"],
            "add --tpm2",
        ),
        (&["--tpm2", "--tpmstate", "dir=/x"], "nothing to serve"),
    ];
    for (args, want) in cases {
        let mut all = vec!["socket"];
        all.extend_from_slice(args);
        let out = run(&all);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
    // The other front ends of swtpm are refused by name.
    let out = run(&["chardev", "--vtpm-proxy", "--tpm2"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("'chardev'"));
}

/// The tpm2-tools integration suite's exact command line, then the
/// tools through the swtpm TCTI.
#[test]
fn tpm2_tools_suite_command_line() {
    let dir = temp_dir("suite");
    let state = dir.join("state");
    let port = free_port_pair();
    let line = format!(
        "socket --tpm2 --server type=tcp,port={port},bindaddr=127.0.0.1 --ctrl \
         type=tcp,port={},bindaddr=127.0.0.1 --flags not-need-init --tpmstate dir={}",
        port + 1,
        state.display()
    );
    let mut child = Command::new(BIN)
        .args(line.split_whitespace())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port + 1)).is_err() {
        assert!(t0.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(20));
    }
    let tcti = format!("swtpm:host=127.0.0.1,port={port}");
    let tpm2 = |args: &[&str]| {
        let out = Command::new("tpm2")
            .args(args)
            .env("TPM2TOOLS_TCTI", &tcti)
            .output()
            .expect("tpm2-tools (the `tpm2` command) must be installed");
        assert!(
            out.status.success(),
            "tpm2 {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    tpm2(&["startup", "-c"]);
    assert_eq!(tpm2(&["getrandom", "8", "--hex"]).trim().len(), 16);
    assert!(tpm2(&["pcrread", "sha256:0"]).contains("0x0000000000000000"));
    assert!(tpm2(&["getcap", "properties-fixed"]).contains("TPM2_PT_FAMILY_INDICATOR"));
    // Shut down through the control channel, as the suite does.
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port + 1)).unwrap();
    assert_eq!(ctrl_cmd(&mut c, &msg(3, &[]), 4), [0; 4]);
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(dir);
}

fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // A zombie has exited.
        Ok(s) => !s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Kills the daemonized simulator (SIGKILL via `kill`, by the pid it wrote)
/// when a test ends, so that a failing assertion leaves no daemon behind.
struct DaemonGuard(Option<u32>);

impl Drop for DaemonGuard {
    fn drop(&mut self) {
        if let Some(pid) = self.0.take() {
            if process_alive(pid) {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

/// libvirt's command line (socket mode and owner, log, --terminate) with
/// the older libvirt's --daemon --pid: the command returns once the socket
/// serves, the pid file names the daemon, CMD_SHUTDOWN ends it.
#[test]
fn libvirt_command_line_with_daemon_and_pid_file() {
    let dir = temp_dir("libvirt");
    let sock = dir.join("vm-swtpm.sock");
    let pid = dir.join("vm-swtpm.pid");
    let out = Command::new(BIN)
        .args(["socket", "--daemon", "--ctrl"])
        .arg(format!("type=unixio,path={},mode=0600", sock.display()))
        .arg("--tpmstate")
        .arg(format!("dir={},mode=0600", dir.join("tpm2").display()))
        .arg("--log")
        .arg(format!("file={}", dir.join("vm-swtpm.log").display()))
        .arg("--pid")
        .arg(format!("file={}", pid.display()))
        .args(["--terminate", "--tpm2"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Serving as soon as the command returned.
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let daemon: u32 = std::fs::read_to_string(&pid)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _guard = DaemonGuard(Some(daemon));
    assert!(process_alive(daemon));
    let mut c = UnixStream::connect(&sock).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let caps = ctrl_cmd(&mut c, &msg(1, &[]), 8);
    assert_eq!(be32(&caps[4..]), 0x1ffff);
    // `swtpm_ioctl --unix SOCK -s`.
    assert_eq!(ctrl_cmd(&mut c, &msg(3, &[]), 4), [0; 4]);
    let t0 = Instant::now();
    while process_alive(daemon) {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "daemon did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!sock.exists(), "socket removed");
    let log = std::fs::read_to_string(dir.join("vm-swtpm.log")).unwrap();
    assert!(log.contains("CMD_SHUTDOWN"), "{log}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn print_info_and_states() {
    let out = run(&["socket", "--print-info", "3"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["TPMSpecification"]["family"], "2.0");
    assert!(v["TPMAttributes"]["manufacturer"]
        .as_str()
        .unwrap()
        .starts_with("id:"));
    // No state yet: no blobs; after a run: the permanent state.
    let dir = temp_dir("states");
    let arg = format!("dir={}", dir.display());
    let out = run(&["socket", "--tpmstate", &arg, "--print-states"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["states"].as_array().unwrap().len(), 0);
    let srv = Server::tcp_in(dir.clone(), &[]);
    // Once the control channel answers, the state is written.
    assert_eq!(ctrl_cmd(&mut srv.ctrl(), &msg(1, &[]), 8)[..4], [0; 4]);
    let out = run(&[
        "socket",
        "--tpmstate",
        &format!("dir={}", dir.join("state").display()),
        "--print-states",
    ]);
    drop(srv);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["states"][0]["name"], "permall");
    assert!(v["states"][0]["size"].as_u64().unwrap() > 100);
}

#[test]
fn help_and_version() {
    let out = run(&["socket", "--help"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("--ctrl type=unixio"));
    let out = run(&["socket", "--version"]);
    assert!(out.status.success());
}
