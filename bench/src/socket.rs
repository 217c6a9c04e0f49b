//! The socket benchmark: vtpm-host-sim and swtpm, both speaking swtpm's
//! socket protocol on loopback TCP, started side by side and pinned to the
//! same CPU; this process is the one client of both.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::backend::Backend;

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    VtpmHostSim,
    Swtpm,
}

impl Server {
    pub fn label(self) -> &'static str {
        match self {
            Server::VtpmHostSim => "vtpm-host-sim",
            Server::Swtpm => "swtpm",
        }
    }
}

/// Where the server binaries are and how to pin them.
#[derive(Clone, Debug)]
pub struct Launch {
    pub host_sim: PathBuf,
    pub swtpm: PathBuf,
    /// CPU list for the servers (`taskset -c`), None: unpinned.
    pub server_cpus: Option<String>,
    /// A command vtpm-host-sim runs under (e.g. `eatmydata`, which turns
    /// fsync into a no-op: the durability of swtpm 0.7, which never fsyncs).
    pub host_sim_prefix: Vec<String>,
}

/// Ports handed out so far by this process: servers started in parallel
/// never get the same one.
static PORTS_TAKEN: AtomicU32 = AtomicU32::new(0);

/// Two consecutive free TCP ports on 127.0.0.1 (data, data+1 control),
/// below the kernel's ephemeral range (32768+ on Linux) so that client
/// connections never take a server's port.
pub fn free_port_pair() -> u16 {
    const LO: u32 = 20000;
    const SPAN: u32 = 12000;
    let start = (std::process::id() % 2000) * 2;
    for _ in 0..SPAN / 2 {
        let k = PORTS_TAKEN.fetch_add(1, Ordering::SeqCst);
        let p = (LO + (start + 2 * k) % SPAN) as u16;
        let free = |q: u16| TcpListener::bind((Ipv4Addr::LOCALHOST, q)).is_ok();
        if free(p) && free(p + 1) {
            return p;
        }
    }
    panic!("no free pair of consecutive TCP ports on 127.0.0.1 from {LO}");
}

/// A running server and the client's data connection to it.
pub struct SocketTpm {
    server: Server,
    child: Child,
    stream: TcpStream,
    ctrl_port: u16,
    pub state_dir: PathBuf,
    /// From spawn to the first answered command (includes manufacturing
    /// a new TPM state).
    pub ready: Duration,
}

impl SocketTpm {
    /// Start `server` with a fresh state directory and connect. The TPM
    /// runs without CMD_INIT (`--flags not-need-init`); the caller sends
    /// TPM2_Startup.
    pub fn start(server: Server, launch: &Launch, state_dir: &Path) -> SocketTpm {
        let _ = std::fs::remove_dir_all(state_dir);
        std::fs::create_dir_all(state_dir).expect("create server state directory");
        let port = free_port_pair();
        let mut argv: Vec<std::ffi::OsString> = Vec::new();
        if let Some(cpus) = &launch.server_cpus {
            argv.extend(["taskset".into(), "-c".into(), cpus.into()]);
        }
        match server {
            Server::VtpmHostSim => {
                argv.extend(launch.host_sim_prefix.iter().map(Into::into));
                argv.push(launch.host_sim.clone().into());
            }
            Server::Swtpm => argv.push(launch.swtpm.clone().into()),
        }
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        match server {
            Server::VtpmHostSim => {
                cmd.args(["--protocol", "swtpm", "--flags", "not-need-init", "--port"])
                    .arg(port.to_string())
                    .arg("--state")
                    .arg(state_dir)
                    .args(["--log-level", "warn"]);
            }
            Server::Swtpm => {
                cmd.args(["socket", "--tpm2", "--server"])
                    .arg(format!("type=tcp,port={port},bindaddr=127.0.0.1"))
                    .arg("--ctrl")
                    .arg(format!("type=tcp,port={},bindaddr=127.0.0.1", port + 1))
                    .args(["--flags", "not-need-init", "--tpmstate"])
                    .arg(format!("dir={}", state_dir.display()));
            }
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        let spawned = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", server.label()));
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + Duration::from_secs(20);
        let stream = loop {
            match TcpStream::connect(addr) {
                Ok(s) => break s,
                Err(e) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!("{} exited before listening: {status}", server.label());
                    }
                    if Instant::now() > deadline {
                        let _ = child.kill();
                        panic!("{} not listening on {addr}: {e}", server.label());
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        };
        stream.set_nodelay(true).expect("TCP_NODELAY");
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .expect("read timeout");
        let mut t = SocketTpm {
            server,
            child,
            stream,
            ctrl_port: port + 1,
            state_dir: state_dir.to_path_buf(),
            ready: Duration::ZERO,
        };
        // Ready means answering, not just listening (a server may listen
        // before it has finished loading or manufacturing its state):
        // GetRandom before TPM2_Startup gets TPM_RC_INITIALIZE.
        let rsp = t.exec(&[0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7B, 0, 8]);
        assert_eq!(crate::tpm::rc_of(&rsp), 0x100, "{}: probe", server.label());
        t.ready = spawned.elapsed();
        t
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak and current resident set of the server process (VmHWM, VmRSS), KiB.
    pub fn rss_kib(&self) -> (u64, u64) {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        let get = |k: &str| {
            s.lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (get("VmHWM:"), get("VmRSS:"))
    }

    /// Stop the server: CMD_SHUTDOWN on the control channel, then wait
    /// (and kill this child only if it does not exit).
    pub fn stop(mut self) {
        if let Ok(mut c) = TcpStream::connect((Ipv4Addr::LOCALHOST, self.ctrl_port)) {
            let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = c.write_all(&3u32.to_be_bytes());
            let mut r = [0u8; 4];
            let _ = c.read_exact(&mut r);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return;
                }
            }
        }
    }
}

impl Drop for SocketTpm {
    /// A server still running when its handle goes away (a failed run
    /// unwinding) is killed, so no run leaves servers behind.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Backend for SocketTpm {
    fn name(&self) -> String {
        self.server.label().to_string()
    }
    fn exec(&mut self, cmd: &[u8]) -> Vec<u8> {
        self.stream.write_all(cmd).expect("send command");
        let mut hdr = [0u8; 10];
        self.stream
            .read_exact(&mut hdr)
            .expect("read response header");
        let size = u32::from_be_bytes([hdr[2], hdr[3], hdr[4], hdr[5]]) as usize;
        assert!((10..=8192).contains(&size), "bad response size {size}");
        let mut rsp = Vec::with_capacity(size);
        rsp.extend_from_slice(&hdr);
        rsp.resize(size, 0);
        self.stream
            .read_exact(&mut rsp[10..])
            .expect("read response body");
        rsp
    }
    fn commits(&self) -> Option<u64> {
        None
    }
}
