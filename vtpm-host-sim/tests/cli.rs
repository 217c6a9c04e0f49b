//! The binary itself: SIGTERM shuts down cleanly, a busy port or a bad state
//! file is a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vtpm-host-sim");

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vtpm-host-sim-cli-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A port N with N+1 also free (both checked by binding).
fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < 65535 && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}

fn connect_retry(port: u16) -> TcpStream {
    let t0 = Instant::now();
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
                return s;
            }
            Err(_) if t0.elapsed() < Duration::from_secs(30) => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("simulator did not come up: {e}"),
        }
    }
}

fn mssim_send(s: &mut TcpStream, cmd: &[u8]) -> Vec<u8> {
    let mut m = vec![0, 0, 0, 8, 0];
    m.extend_from_slice(&(cmd.len() as u32).to_be_bytes());
    m.extend_from_slice(cmd);
    s.write_all(&m).unwrap();
    let mut len = [0u8; 4];
    s.read_exact(&mut len).unwrap();
    let mut rsp = vec![0u8; u32::from_be_bytes(len) as usize + 4];
    s.read_exact(&mut rsp).unwrap();
    rsp.truncate(rsp.len() - 4);
    rsp
}

#[test]
fn sigterm_sends_shutdown_state_and_exits_zero() {
    let dir = temp_dir("sigterm");
    let trace = dir.join("trace.txt");
    let port = free_port_pair();
    let mut child = Command::new(BIN)
        .args(["--port", &port.to_string(), "--state"])
        .arg(&dir)
        .arg("--trace-commands")
        .arg(&trace)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut tpm = connect_retry(port);
    let startup = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0];
    assert_eq!(&mssim_send(&mut tpm, &startup)[6..10], &[0; 4]);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    let mut log = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    assert!(status.success(), "exit status {status:?}, log:\n{log}");
    assert!(
        log.contains(&format!("listening on 127.0.0.1:{port} (mssim TPM)")),
        "{log}"
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(
        text.contains("> 80010000000c000001450001\n< 80010000000a00000000"),
        "{text}"
    );
    assert!(dir.join("vtpm-state.a").exists() && dir.join("vtpm-state.b").exists());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn busy_port_is_a_clear_error() {
    let dir = temp_dir("busy");
    let port = free_port_pair();
    let _hold = TcpListener::bind(("127.0.0.1", port + 1)).unwrap();
    let out = Command::new(BIN)
        .args(["--port", &port.to_string(), "--state"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "cannot listen on 127.0.0.1:{} (mssim platform port)",
            port + 1
        )),
        "{err}"
    );
    assert!(
        !dir.exists(),
        "nothing written before the sockets are bound"
    );
}

#[test]
fn bad_state_file_is_an_error() {
    let dir = temp_dir("badstate");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("vtpm-state.bin"), b"garbage").unwrap();
    // A Unix socket: no port another test could be holding.
    let out = Command::new(BIN)
        .arg("--unix")
        .arg(dir.join("sock"))
        .arg("--state")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot be loaded") && err.contains("--manufacture"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(dir.join("vtpm-state.bin")).unwrap(),
        b"garbage"
    );
    let _ = std::fs::remove_dir_all(dir);
}
