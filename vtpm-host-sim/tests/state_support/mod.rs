//! Helpers shared by the `state_*` tests: run the binary, drive a simulator
//! over the mssim protocol on a Unix socket, build the few TPM commands the
//! tests need.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_vtpm-host-sim");

/// A fresh, empty directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("vtpm-state-test-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Run the binary with `args`; returns (success, stdout, stderr).
pub fn run(args: &[&str]) -> (bool, String, String) {
    let out: Output = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run through `bash -c` (to hand descriptors over: `3<file`).
pub fn run_shell(script: &str) -> (bool, String, String) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg(BIN)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Run and insist on success; returns stdout.
pub fn run_ok(args: &[&str]) -> String {
    let (ok, out, err) = run(args);
    assert!(ok, "{args:?} failed:\nstdout:\n{out}\nstderr:\n{err}");
    out
}

/// Run and insist on failure; returns stdout + stderr.
pub fn run_fail(args: &[&str]) -> String {
    let (ok, out, err) = run(args);
    assert!(!ok, "{args:?} succeeded:\nstdout:\n{out}\nstderr:\n{err}");
    format!("{out}{err}")
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A simulator process on a Unix socket.
pub struct Sim {
    pub child: Child,
    pub tpm: UnixStream,
    pub log: PathBuf,
}

impl Sim {
    /// Start `vtpm-host-sim --unix SOCK --state DIR EXTRA...`, logging to
    /// `log` (appended), and connect to it. Panics with the log if it
    /// exits instead.
    pub fn start(dir: &Path, sock: &Path, log: &Path, extra: &[&str]) -> Sim {
        Self::try_start(dir, sock, log, extra).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Like [`Sim::start`]; `Err(log)` if the simulator exits.
    pub fn try_start(dir: &Path, sock: &Path, log: &Path, extra: &[&str]) -> Result<Sim, String> {
        let logf = File::options().create(true).append(true).open(log).unwrap();
        let mut child = Command::new(BIN)
            .arg("--unix")
            .arg(sock)
            .arg("--state")
            .arg(dir)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(logf))
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return Err(format!(
                    "simulator exited with {status}:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                ));
            }
            if let Ok(mut s) = UnixStream::connect(sock) {
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                // The socket is bound before the state loads; one round trip
                // (TPM_REMOTE_HANDSHAKE) shows the simulator is serving, with
                // its signal handlers in place.
                let mut reply = [0u8; 12];
                let served = s.write_all(&[0, 0, 0, 15, 0, 0, 0, 1]).is_ok()
                    && s.read_exact(&mut reply).is_ok();
                if !served {
                    let status = child.wait().unwrap();
                    return Err(format!(
                        "simulator exited with {status}:\n{}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    ));
                }
                return Ok(Sim {
                    child,
                    tpm: s,
                    log: log.to_path_buf(),
                });
            }
            if t0.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                return Err("simulator did not come up".into());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Send one command (mssim TPM_SEND_COMMAND, locality 0); `None` when
    /// the connection broke.
    pub fn try_send(&mut self, cmd: &[u8]) -> Option<Vec<u8>> {
        let mut m = vec![0, 0, 0, 8, 0];
        m.extend_from_slice(&(cmd.len() as u32).to_be_bytes());
        m.extend_from_slice(cmd);
        self.tpm.write_all(&m).ok()?;
        let mut len = [0u8; 4];
        self.tpm.read_exact(&mut len).ok()?;
        let mut rsp = vec![0u8; u32::from_be_bytes(len) as usize + 4];
        self.tpm.read_exact(&mut rsp).ok()?;
        rsp.truncate(rsp.len() - 4);
        Some(rsp)
    }

    pub fn send(&mut self, cmd: &[u8]) -> Vec<u8> {
        self.try_send(cmd).expect("simulator connection broke")
    }

    /// Send and insist on TPM_RC_SUCCESS.
    pub fn send_ok(&mut self, cmd: &[u8]) -> Vec<u8> {
        let r = self.send(cmd);
        assert_eq!(
            rc(&r),
            0,
            "command {:02x?} failed: rc 0x{:x}",
            &cmd[..10],
            rc(&r)
        );
        r
    }

    /// SIGTERM and wait; insists on exit status 0. Returns the log.
    pub fn stop(mut self) -> String {
        let st = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        let status = self.child.wait().unwrap();
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        assert!(status.success(), "exit {status:?}, log:\n{log}");
        log
    }
}

pub fn rc(rsp: &[u8]) -> u32 {
    u32::from_be_bytes(rsp[6..10].try_into().unwrap())
}

/// TPM2_Startup(SU_CLEAR).
pub const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0x00, 0x00];

/// TPMA_NV_AUTHWRITE | TPMA_NV_AUTHREAD | TPMA_NV_NO_DA, ordinary index.
pub const NV_ATTRS: u32 = 0x0000_0004 | 0x0004_0000 | 0x0200_0000;

const TPM_RH_OWNER: u32 = 0x4000_0001;
const TPM_RS_PW: u32 = 0x4000_0009;

/// A command with sessions: header, handles, one empty password session,
/// parameters.
fn with_pw(cc: u32, handles: &[u32], params: &[u8]) -> Vec<u8> {
    let mut c = vec![0x80, 0x02, 0, 0, 0, 0];
    c.extend_from_slice(&cc.to_be_bytes());
    for h in handles {
        c.extend_from_slice(&h.to_be_bytes());
    }
    c.extend_from_slice(&9u32.to_be_bytes());
    c.extend_from_slice(&TPM_RS_PW.to_be_bytes());
    c.extend_from_slice(&[0, 0, 0, 0, 0]);
    c.extend_from_slice(params);
    let n = c.len() as u32;
    c[2..6].copy_from_slice(&n.to_be_bytes());
    c
}

/// TPM2_NV_DefineSpace(owner, no auth, index, sha256, NV_ATTRS, size).
pub fn nv_define(index: u32, size: u16) -> Vec<u8> {
    let mut public = Vec::new();
    public.extend_from_slice(&index.to_be_bytes());
    public.extend_from_slice(&0x000Bu16.to_be_bytes());
    public.extend_from_slice(&NV_ATTRS.to_be_bytes());
    public.extend_from_slice(&0u16.to_be_bytes());
    public.extend_from_slice(&size.to_be_bytes());
    let mut p = vec![0, 0];
    p.extend_from_slice(&(public.len() as u16).to_be_bytes());
    p.extend_from_slice(&public);
    with_pw(0x12A, &[TPM_RH_OWNER], &p)
}

/// TPM2_NV_Write(index, index, data, offset).
pub fn nv_write(index: u32, offset: u16, data: &[u8]) -> Vec<u8> {
    let mut p = (data.len() as u16).to_be_bytes().to_vec();
    p.extend_from_slice(data);
    p.extend_from_slice(&offset.to_be_bytes());
    with_pw(0x137, &[index, index], &p)
}

/// TPM2_NV_Read(index, index, size, offset).
pub fn nv_read_cmd(index: u32, size: u16, offset: u16) -> Vec<u8> {
    let mut p = size.to_be_bytes().to_vec();
    p.extend_from_slice(&offset.to_be_bytes());
    with_pw(0x14E, &[index, index], &p)
}

/// The data of an NV_Read response.
pub fn nv_read_data(rsp: &[u8]) -> Vec<u8> {
    assert_eq!(rc(rsp), 0, "NV_Read rc 0x{:x}", rc(rsp));
    // header (10), parameterSize (4), TPM2B size (2), data.
    let n = u16::from_be_bytes([rsp[14], rsp[15]]) as usize;
    rsp[16..16 + n].to_vec()
}

/// The key id of a raw key, as the blob header and messages show it.
pub fn key_id_hex(key: &[u8; 32]) -> String {
    vtpm_core::state::blob::SealingKey::new(*key)
        .key_id()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A small deterministic PRNG (xorshift64*), seeded for reproduction.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_env(var: &str) -> Rng {
        let seed = std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("{var}={seed}");
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
