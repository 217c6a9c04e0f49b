//! tpm2-tools through the SVSM route (`--svsm`): every command goes through
//! the vtpm-svsm protocol handler over a simulated guest page, and the
//! same flows give the same results as the direct route.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vtpm-host-sim");

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

struct Sim {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Sim {
    fn start(tag: &str, svsm: bool) -> Sim {
        let dir =
            std::env::temp_dir().join(format!("vtpm-svsm-route-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port_pair();
        let mut cmd = Command::new(BIN);
        cmd.args(["--port", &port.to_string(), "--state"])
            .arg(dir.join("state"))
            .args(["--log-level", "warn"]);
        if svsm {
            cmd.arg("--svsm");
        }
        let child = cmd.stdout(Stdio::null()).spawn().unwrap();
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "simulator did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Sim { child, port, dir }
    }

    /// Run `tpm2 args...`; fails the test (never skips) if tpm2 is missing.
    fn tpm2(&self, args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
        let mut c = Command::new("tpm2");
        c.args(args)
            .current_dir(&self.dir)
            .env(
                "TPM2TOOLS_TCTI",
                format!("mssim:host=127.0.0.1,port={}", self.port),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = c.spawn().expect("tpm2 (tpm2-tools) must be installed");
        if let Some(data) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(data).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "tpm2 {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn path(&self, f: &str) -> String {
        self.dir.join(f).to_string_lossy().into_owned()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn flow(sim: &Sim) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    sim.tpm2(&["startup", "-c"], None);
    let rnd = sim.tpm2(&["getrandom", "16", "--hex"], None);
    assert_eq!(rnd.len(), 32);
    sim.tpm2(
        &[
            "pcrextend",
            "16:sha256=0101010101010101010101010101010101010101010101010101010101010101",
        ],
        None,
    );
    let pcr = sim.tpm2(&["pcrread", "sha256:16"], None);
    sim.tpm2(
        &[
            "createprimary",
            "-C",
            "o",
            "-G",
            "ecc",
            "-c",
            &sim.path("p.ctx"),
            "-Q",
        ],
        None,
    );
    sim.tpm2(
        &[
            "create",
            "-C",
            &sim.path("p.ctx"),
            "-i-",
            "-u",
            &sim.path("s.pub"),
            "-r",
            &sim.path("s.priv"),
            "-Q",
        ],
        Some(b"through the svsm page"),
    );
    sim.tpm2(
        &[
            "load",
            "-C",
            &sim.path("p.ctx"),
            "-u",
            &sim.path("s.pub"),
            "-r",
            &sim.path("s.priv"),
            "-c",
            &sim.path("s.ctx"),
            "-Q",
        ],
        None,
    );
    let unsealed = sim.tpm2(&["unseal", "-c", &sim.path("s.ctx")], None);
    sim.tpm2(
        &[
            "nvdefine",
            "0x1500016",
            "-C",
            "o",
            "-s",
            "32",
            "-a",
            "ownerread|ownerwrite",
        ],
        None,
    );
    sim.tpm2(
        &["nvwrite", "0x1500016", "-C", "o", "-i-"],
        Some(b"nv through svsm"),
    );
    let nv = sim.tpm2(&["nvread", "0x1500016", "-C", "o", "-s", "15"], None);
    let _ = pcr;
    (unsealed, nv, sim.tpm2(&["pcrread", "sha256:16"], None))
}

#[test]
fn tpm2_tools_through_the_svsm_route_match_the_direct_route() {
    let direct = Sim::start("direct", false);
    let svsm = Sim::start("svsm", true);
    let a = flow(&direct);
    let b = flow(&svsm);
    assert_eq!(a.0, b"through the svsm page");
    assert_eq!(b.0, b"through the svsm page");
    assert_eq!(b.1, b"nv through svsm");
    assert_eq!(a.2, b.2, "PCR values agree");
    assert!(Path::new(&svsm.path("state")).exists());
}
