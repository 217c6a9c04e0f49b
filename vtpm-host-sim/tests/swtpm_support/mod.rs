//! Helpers of the swtpm_* tests: start `vtpm-host-sim socket ...`, speak
//! the control and data channels over real sockets.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_vtpm-host-sim");

/// TPM2_Startup(SU_CLEAR).
pub const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0, 0];
/// TPM2_GetRandom(8).
pub const GET_RANDOM_8: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0, 8];
/// TPM2_ReadClock (QEMU's probe).
pub const READ_CLOCK: [u8; 10] = [0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x81];
/// The 10-octet TPM_RC_FAILURE answer before CMD_INIT.
pub const RC_FAILURE: [u8; 10] = [0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01];

pub fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("vtpm-swtpm-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A port N with N+1 also free (both checked by binding).
pub fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < 65534 && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}

/// A running `vtpm-host-sim socket` (killed when dropped).
pub struct Server {
    pub child: Child,
    pub dir: PathBuf,
    pub port: u16,
}

impl Server {
    /// `socket --tpm2 --server type=tcp,port=P --ctrl type=tcp,port=P+1
    /// --tpmstate dir=D` plus `extra`.
    pub fn tcp(tag: &str, extra: &[&str]) -> Server {
        let dir = temp_dir(tag);
        Self::tcp_in(dir, extra)
    }

    pub fn tcp_in(dir: PathBuf, extra: &[&str]) -> Server {
        let port = free_port_pair();
        let mut args: Vec<String> = vec![
            "socket".into(),
            "--tpm2".into(),
            "--server".into(),
            format!("type=tcp,port={port},bindaddr=127.0.0.1"),
            "--ctrl".into(),
            format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1),
            "--tpmstate".into(),
            format!("dir={}", dir.join("state").display()),
            "--log".into(),
            format!("file={},level=20", dir.join("log").display()),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let child = Command::new(BIN)
            .args(&args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let s = Server { child, dir, port };
        s.wait_port(port);
        s.wait_port(port + 1);
        s
    }

    fn wait_port(&self, port: u16) {
        let t0 = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "server did not come up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn data(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s
    }

    pub fn ctrl(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port + 1)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        s
    }

    /// Wait for the process to exit by itself.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(t0.elapsed() < limit, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Send a control message, read exactly `reply_len` octets.
pub fn ctrl_cmd(s: &mut impl ReadWrite, bytes: &[u8], reply_len: usize) -> Vec<u8> {
    s.write_all(bytes).unwrap();
    let mut r = vec![0u8; reply_len];
    s.read_exact(&mut r).unwrap();
    r
}

pub trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// A control command: u32 code then the payload.
pub fn msg(code: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = code.to_be_bytes().to_vec();
    v.extend_from_slice(payload);
    v
}

pub fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

/// Send a raw TPM command, read the response by its header.
pub fn raw_send(s: &mut impl ReadWrite, command: &[u8]) -> Vec<u8> {
    s.write_all(command).unwrap();
    let mut h = [0u8; 10];
    s.read_exact(&mut h).unwrap();
    let size = be32(&h[2..6]) as usize;
    let mut rsp = h.to_vec();
    rsp.resize(size, 0);
    s.read_exact(&mut rsp[10..]).unwrap();
    rsp
}

/// The response code of a TPM response.
pub fn rc(rsp: &[u8]) -> u32 {
    be32(&rsp[6..10])
}

/// TPM2_PCR_Extend(pcr, sha256: digest) with a password session.
pub fn pcr_extend(pcr: u32, digest: &[u8; 32]) -> Vec<u8> {
    let mut c = vec![0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x82];
    c.extend_from_slice(&pcr.to_be_bytes());
    c.extend_from_slice(&9u32.to_be_bytes());
    c.extend_from_slice(&[0x40, 0, 0, 0x09, 0, 0, 0, 0, 0]);
    c.extend_from_slice(&1u32.to_be_bytes());
    c.extend_from_slice(&[0x00, 0x0b]);
    c.extend_from_slice(digest);
    let n = c.len() as u32;
    c[2..6].copy_from_slice(&n.to_be_bytes());
    c
}

/// TPM2_PCR_Read(sha256: pcr) -> the digest.
pub fn pcr_read(s: &mut impl ReadWrite, pcr: u32) -> Vec<u8> {
    let mut sel = [0u8; 3];
    sel[(pcr / 8) as usize] = 1 << (pcr % 8);
    let mut c = vec![
        0x80, 0x01, 0, 0, 0, 0x14, 0, 0, 0x01, 0x7e, 0, 0, 0, 1, 0, 0x0b, 3,
    ];
    c.extend_from_slice(&sel);
    let rsp = raw_send(s, &c);
    assert_eq!(rc(&rsp), 0, "PCR_Read: {rsp:02x?}");
    // header 10, updateCounter 4, selection 4+2+1+3, count 4, size 2.
    rsp[30..62].to_vec()
}

/// Send `bytes` on a Unix socket with `fd` attached (SCM_RIGHTS).
pub fn send_with_fd(sock: &UnixStream, bytes: &[u8], fd: impl AsFd) {
    use rustix::net::{sendmsg, SendAncillaryBuffer, SendAncillaryMessage, SendFlags};
    use std::io::IoSlice;
    use std::mem::MaybeUninit;
    let fds = [fd.as_fd()];
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut anc = SendAncillaryBuffer::new(&mut space);
    assert!(anc.push(SendAncillaryMessage::ScmRights(&fds)));
    let n = sendmsg(sock, &[IoSlice::new(bytes)], &mut anc, SendFlags::empty()).unwrap();
    assert_eq!(n, bytes.len());
}

/// Start `vtpm-host-sim socket --tpm2 --ctrl type=unixio,path=DIR/sock
/// --tpmstate dir=DIR/state` plus `extra` and wait for the socket.
pub fn unix_ctrl_server(dir: &Path, extra: &[&str]) -> Child {
    let sock = dir.join("sock");
    let mut args: Vec<String> = vec![
        "socket".into(),
        "--tpm2".into(),
        "--ctrl".into(),
        format!("type=unixio,path={}", sock.display()),
        "--tpmstate".into(),
        format!("dir={}", dir.join("state").display()),
        "--log".into(),
        format!("file={},level=20", dir.join("log").display()),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let child = Command::new(BIN).args(&args).spawn().unwrap();
    let t0 = Instant::now();
    while UnixStream::connect(&sock).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "server did not come up"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}
