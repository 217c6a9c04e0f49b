//! swtpm_setup's way of running swtpm: both channels are socketpair ends
//! inherited as descriptors (`--server type=tcp,fd=N --ctrl
//! type=unixio,clientfd=M`), the pid file signals readiness. (One test in
//! its own binary: the inherited descriptors must not leak into other
//! tests' children.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod swtpm_support;

use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::{Duration, Instant};

use swtpm_support::*;

fn inheritable(s: &UnixStream) {
    rustix::io::fcntl_setfd(s, rustix::io::FdFlags::empty()).unwrap();
}

#[test]
fn socketpair_descriptors_like_swtpm_setup() {
    let dir = temp_dir("fdpass");
    let (mut data, data_theirs) = UnixStream::pair().unwrap();
    let (mut ctrl, ctrl_theirs) = UnixStream::pair().unwrap();
    inheritable(&data_theirs);
    inheritable(&ctrl_theirs);
    let pid = dir.join("pidfile");
    let mut child = Command::new(BIN)
        .args([
            "socket",
            "--flags",
            "not-need-init,startup-clear",
            "--tpmstate",
        ])
        .arg(format!(
            "backend-uri=dir://{},lock",
            dir.join("state").display()
        ))
        .arg("--pid")
        .arg(format!("file={}", pid.display()))
        .arg("--tpm2")
        .arg("--server")
        .arg(format!("type=tcp,fd={}", data_theirs.as_raw_fd()))
        .arg("--ctrl")
        .arg(format!("type=unixio,clientfd={}", ctrl_theirs.as_raw_fd()))
        .spawn()
        .unwrap();
    drop(data_theirs);
    drop(ctrl_theirs);
    let t0 = Instant::now();
    while std::fs::read(&pid).map(|b| b.is_empty()).unwrap_or(true) {
        assert!(t0.elapsed() < Duration::from_secs(30), "no pid file");
        std::thread::sleep(Duration::from_millis(20));
    }
    data.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    ctrl.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // startup-clear: the TPM is started already.
    assert_eq!(raw_send(&mut data, &GET_RANDOM_8).len(), 20);
    assert_eq!(rc(&raw_send(&mut data, &STARTUP_CLEAR)), 0x100);
    // CMD_GET_INFO(spec | attributes), as swtpm_setup asks.
    let mut req = 3u64.to_be_bytes().to_vec();
    req.extend_from_slice(&[0; 8]);
    let h = ctrl_cmd(&mut ctrl, &msg(0x12, &req), 12);
    let mut json = vec![0u8; be32(&h[8..]) as usize];
    ctrl.read_exact(&mut json).unwrap();
    assert!(String::from_utf8_lossy(&json).contains("TPMSpecification"));
    // TPM2_Shutdown then CMD_SHUTDOWN: the process exits.
    let shutdown = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x45, 0, 0];
    assert_eq!(rc(&raw_send(&mut data, &shutdown)), 0);
    assert_eq!(ctrl_cmd(&mut ctrl, &msg(3, &[]), 4), [0; 4]);
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(dir);
}
