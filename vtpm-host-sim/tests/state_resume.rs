//! TPM Resume and TPM Restart across real process restarts: a client saves
//! session contexts, the simulator saves the state at `TPM2_Shutdown(STATE)`
//! (sent by the client, or by the simulator itself on SIGTERM), a new
//! process loads it from disk, and after `TPM2_Startup` the saved sessions
//! load and keep working. After a SIGKILL (no orderly shutdown) the next
//! Startup is a TPM Reset and no session comes back.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod state_support;

use sha2::{Digest, Sha256};
use state_support::*;

const OWNER: u32 = 0x4000_0001;
const RH_NULL: u32 = 0x4000_0007;
const OWNER_AUTH: &[u8] = b"resume test owner";
const STARTUP_STATE: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0x00, 0x01];
const SHUTDOWN_STATE: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x45, 0x00, 0x01];
/// TPM_RC_VALUE for parameter 1.
const RC_VALUE_P1: u32 = 0x1C4;
/// TPM_RC_HANDLE for parameter 1.
const RC_HANDLE_P1: u32 = 0x1CB;
/// TPM_RC_INTEGRITY for parameter 1.
const RC_INTEGRITY_P1: u32 = 0x1DF;

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    for p in parts {
        inner.update(p);
    }
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

fn sized(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

/// A command: tag, size, code, handles, then (with an auth area) its size
/// and the area, then parameters.
fn command(code: u32, handles: &[u32], auth: Option<&[u8]>, params: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80, if auth.is_some() { 0x02 } else { 0x01 }, 0, 0, 0, 0];
    v.extend_from_slice(&code.to_be_bytes());
    for h in handles {
        v.extend_from_slice(&h.to_be_bytes());
    }
    if let Some(a) = auth {
        v.extend_from_slice(&(a.len() as u32).to_be_bytes());
        v.extend_from_slice(a);
    }
    v.extend_from_slice(params);
    let n = (v.len() as u32).to_be_bytes();
    v[2..6].copy_from_slice(&n);
    v
}

/// A password authorization (TPM_RS_PW).
fn password(pw: &[u8]) -> Vec<u8> {
    let mut a = 0x4000_0009u32.to_be_bytes().to_vec();
    a.extend_from_slice(&[0, 0, 1]);
    a.extend_from_slice(&sized(pw));
    a
}

/// StartAuthSession, unbound, unsalted, no symmetric, SHA-256. Returns
/// (handle, nonceTPM).
fn start_session(sim: &mut Sim, policy: bool) -> (u32, Vec<u8>) {
    let mut p = sized(&[0x5A; 32]);
    p.extend_from_slice(&[0, 0, u8::from(policy), 0x00, 0x10, 0x00, 0x0B]);
    let r = sim.send_ok(&command(0x176, &[RH_NULL, RH_NULL], None, &p));
    let h = u32::from_be_bytes(r[10..14].try_into().unwrap());
    let n = u16::from_be_bytes([r[14], r[15]]) as usize;
    (h, r[16..16 + n].to_vec())
}

fn context_save(sim: &mut Sim, h: u32) -> Vec<u8> {
    sim.send_ok(&command(0x162, &[h], None, &[]))[10..].to_vec()
}

/// ContextLoad; the loaded handle or the response code.
fn context_load(sim: &mut Sim, ctx: &[u8]) -> Result<u32, u32> {
    let r = sim.send(&command(0x161, &[], None, ctx));
    match rc(&r) {
        0 => Ok(u32::from_be_bytes(r[10..14].try_into().unwrap())),
        e => Err(e),
    }
}

fn policy_digest(sim: &mut Sim, h: u32) -> Vec<u8> {
    let r = sim.send_ok(&command(0x189, &[h], None, &[]));
    let n = u16::from_be_bytes([r[10], r[11]]) as usize;
    r[12..12 + n].to_vec()
}

/// The client side of the HMAC session.
struct HmacSession {
    handle: u32,
    nonce_tpm: Vec<u8>,
    nonce_caller: Vec<u8>,
}

/// `TPM2_SetPrimaryPolicy(owner, empty, NULL)` with ownerAuth through the
/// HMAC session (continueSession); checks the response HMAC and keeps the
/// new nonceTPM. Returns the response code.
fn owner_command(sim: &mut Sim, s: &mut HmacSession) -> u32 {
    let code: u32 = 0x12E;
    let params = [0u8, 0, 0x00, 0x10];
    let cp = Sha256::digest([&code.to_be_bytes()[..], &OWNER.to_be_bytes(), &params].concat());
    s.nonce_caller = Sha256::digest(&s.nonce_caller).to_vec();
    let mac = hmac_sha256(OWNER_AUTH, &[&cp, &s.nonce_caller, &s.nonce_tpm, &[1]]);
    let mut area = s.handle.to_be_bytes().to_vec();
    area.extend_from_slice(&sized(&s.nonce_caller));
    area.push(1);
    area.extend_from_slice(&sized(&mac));
    let r = sim.send(&command(code, &[OWNER], Some(&area), &params));
    if rc(&r) != 0 {
        return rc(&r);
    }
    let mut p = 14;
    let n = u16::from_be_bytes([r[p], r[p + 1]]) as usize;
    let nonce = r[p + 2..p + 2 + n].to_vec();
    p += 2 + n;
    let attrs = r[p];
    p += 1;
    let m = u16::from_be_bytes([r[p], r[p + 1]]) as usize;
    let rp = Sha256::digest([&0u32.to_be_bytes()[..], &code.to_be_bytes()].concat());
    let expect = hmac_sha256(OWNER_AUTH, &[&rp, &nonce, &s.nonce_caller, &[attrs]]);
    assert_eq!(&r[p + 2..p + 2 + m], &expect[..], "response HMAC");
    s.nonce_tpm = nonce;
    0
}

#[test]
fn saved_sessions_survive_resume_and_restart_across_process_restarts() {
    let dir = temp_dir("resume");
    let state = dir.join("state");
    let sock = dir.join("sock");
    let log = dir.join("sim.log");

    // Life 1: set ownerAuth, start an HMAC and a policy session, use them,
    // save their contexts, Shutdown(STATE).
    let mut sim = Sim::start(&state, &sock, &log, &[]);
    sim.send_ok(&STARTUP_CLEAR);
    sim.send_ok(&command(
        0x129,
        &[OWNER],
        Some(&password(b"")),
        &sized(OWNER_AUTH),
    ));
    let (h, nonce_tpm) = start_session(&mut sim, false);
    let mut hs = HmacSession {
        handle: h,
        nonce_tpm,
        nonce_caller: vec![0x5A; 32],
    };
    assert_eq!(owner_command(&mut sim, &mut hs), 0);
    let (ph, _) = start_session(&mut sim, true);
    sim.send_ok(&command(0x16C, &[ph], None, &0x15Eu32.to_be_bytes()));
    let digest = policy_digest(&mut sim, ph);
    assert_ne!(digest, vec![0u8; 32]);
    let hctx = context_save(&mut sim, hs.handle);
    let pctx = context_save(&mut sim, ph);
    sim.send_ok(&SHUTDOWN_STATE);
    sim.stop();
    let shown = run_ok(&["show", "--state", s(&state)]);
    assert!(shown.contains("schema version: 3"), "{shown}");
    assert!(
        shown.contains("last shutdown: Shutdown(STATE), saved state present"),
        "{shown}"
    );

    // Life 2: TPM Resume. Both sessions load; the HMAC session authorizes
    // with the nonce of its last response; the policy digest is intact.
    let mut sim = Sim::start(&state, &sock, &log, &[]);
    sim.send_ok(&STARTUP_STATE);
    assert_eq!(context_load(&mut sim, &hctx), Ok(hs.handle));
    assert_eq!(context_load(&mut sim, &pctx), Ok(ph));
    assert_eq!(owner_command(&mut sim, &mut hs), 0);
    assert_eq!(owner_command(&mut sim, &mut hs), 0);
    assert_eq!(policy_digest(&mut sim, ph), digest);
    let hctx2 = context_save(&mut sim, hs.handle);
    let pctx2 = context_save(&mut sim, ph);
    // No Shutdown from the client: SIGTERM makes the simulator send
    // Shutdown(STATE) itself.
    let stopped = sim.stop();
    assert!(
        stopped.contains("sent TPM2_Shutdown(SU_STATE)"),
        "log:\n{stopped}"
    );

    // Life 3: TPM Restart (Startup(CLEAR) after Shutdown(STATE)). The
    // older contexts are refused, the newest load.
    let mut sim = Sim::start(&state, &sock, &log, &[]);
    sim.send_ok(&STARTUP_CLEAR);
    assert_eq!(context_load(&mut sim, &hctx), Err(RC_HANDLE_P1));
    assert_eq!(context_load(&mut sim, &pctx), Err(RC_HANDLE_P1));
    assert_eq!(context_load(&mut sim, &hctx2), Ok(hs.handle));
    assert_eq!(context_load(&mut sim, &pctx2), Ok(ph));
    assert_eq!(owner_command(&mut sim, &mut hs), 0);
    assert_eq!(policy_digest(&mut sim, ph), digest);
    let hctx3 = context_save(&mut sim, hs.handle);
    // Power is lost: SIGKILL, no Shutdown.
    let mut child = sim.child;
    child.kill().unwrap();
    child.wait().unwrap();

    // Life 4: Startup(STATE) is refused; Startup(CLEAR) is a TPM Reset and
    // no session survives it (a new context key: the context no longer
    // passes its integrity check).
    let mut sim = Sim::start(&state, &sock, &log, &[]);
    assert_eq!(rc(&sim.send(&STARTUP_STATE)), RC_VALUE_P1);
    sim.send_ok(&STARTUP_CLEAR);
    assert_eq!(context_load(&mut sim, &hctx3), Err(RC_INTEGRITY_P1));
    // A TPM Reset was counted (the first Startup was one too); the Resume
    // and the Restart were counted as restarts, which the Reset zeroed.
    sim.stop();
    let shown = run_ok(&["show", "--state", s(&state)]);
    assert!(shown.contains("reset count 2, restart count 0"), "{shown}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------ tpm2-tools

/// A simulator on a TCP port pair (mssim), for tpm2-tools.
struct TcpSim {
    child: std::process::Child,
    port: u16,
}

impl TcpSim {
    fn start(state: &std::path::Path, log: &std::path::Path) -> TcpSim {
        use std::time::{Duration, Instant};
        let port = (0..100)
            .find_map(|_| {
                let a = std::net::TcpListener::bind("127.0.0.1:0").ok()?;
                let p = a.local_addr().ok()?.port();
                (p < 65535 && std::net::TcpListener::bind(("127.0.0.1", p + 1)).is_ok())
                    .then_some(p)
            })
            .expect("a free port pair");
        let logf = std::fs::File::options()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = std::process::Command::new(BIN)
            .args(["--port", &port.to_string(), "--state"])
            .arg(state)
            .stdout(std::process::Stdio::null())
            .stderr(logf)
            .spawn()
            .unwrap();
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(st) = child.try_wait().unwrap() {
                panic!(
                    "simulator exited with {st}:\n{}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "simulator did not come up"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        TcpSim { child, port }
    }

    /// `tpm2 args...` in `dir`; (success, stdout, stderr). A missing tpm2
    /// fails the test: install tpm2-tools (Debian: `apt-get install
    /// tpm2-tools`).
    fn tpm2(&self, dir: &std::path::Path, args: &[&str]) -> (bool, String) {
        let out = std::process::Command::new("tpm2")
            .args(args)
            .current_dir(dir)
            .env(
                "TPM2TOOLS_TCTI",
                format!("mssim:host=127.0.0.1,port={}", self.port),
            )
            .output()
            .expect("tpm2 (tpm2-tools) must be installed: apt-get install tpm2-tools");
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }

    fn tpm2_ok(&self, dir: &std::path::Path, args: &[&str]) {
        let (ok, out) = self.tpm2(dir, args);
        assert!(ok, "tpm2 {args:?}: {out}");
    }

    /// SIGTERM (the simulator sends Shutdown(STATE) unless the client did)
    /// and wait.
    fn stop(mut self) {
        let st = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(st.success());
        assert!(self.child.wait().unwrap().success());
    }

    /// SIGKILL: power lost without a shutdown.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// policyDigest' = SHA-256(policyDigest || cc || extra).
fn extend(digest: &[u8], cc: u32, extra: &[u8]) -> Vec<u8> {
    Sha256::digest([digest, &cc.to_be_bytes(), extra].concat()).to_vec()
}

#[test]
fn tpm2_tools_policy_session_file_survives_resume_and_restart() {
    let dir = temp_dir("resume-tools");
    let state = dir.join("state");
    let log = dir.join("sim.log");
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap();

    // Life 1: a policy session, saved by tpm2-tools in s.ctx after each
    // command; `tpm2 shutdown` is Shutdown(STATE).
    let sim = TcpSim::start(&state, &log);
    sim.tpm2_ok(&dir, &["startup", "-c"]);
    sim.tpm2_ok(
        &dir,
        &["startauthsession", "--policy-session", "-S", "s.ctx"],
    );
    sim.tpm2_ok(
        &dir,
        &[
            "policycommandcode",
            "-S",
            "s.ctx",
            "-L",
            "d1",
            "TPM2_CC_Unseal",
        ],
    );
    let d1 = read("d1");
    assert_eq!(d1, extend(&[0; 32], 0x16C, &0x15Eu32.to_be_bytes()));
    sim.tpm2_ok(&dir, &["shutdown"]);
    sim.stop();

    // Life 2: `tpm2 startup` (STATE) in a new process; the session goes on
    // from d1 (PolicyPassword extends with TPM_CC_PolicyAuthValue).
    let sim = TcpSim::start(&state, &log);
    sim.tpm2_ok(&dir, &["startup"]);
    sim.tpm2_ok(&dir, &["policypassword", "-S", "s.ctx", "-L", "d2"]);
    let d2 = read("d2");
    assert_eq!(d2, extend(&d1, 0x16B, &[]));
    // SIGTERM without a client shutdown: the simulator sends Shutdown(STATE).
    sim.stop();

    // Life 3: `tpm2 startup -c` after it is a TPM Restart: the session
    // survives that too.
    let sim = TcpSim::start(&state, &log);
    sim.tpm2_ok(&dir, &["startup", "-c"]);
    sim.tpm2_ok(
        &dir,
        &[
            "policycommandcode",
            "-S",
            "s.ctx",
            "-L",
            "d3",
            "TPM2_CC_Unseal",
        ],
    );
    assert_eq!(read("d3"), extend(&d2, 0x16C, &0x15Eu32.to_be_bytes()));
    sim.kill();

    // Life 4: after power loss the Startup is a TPM Reset: the session is
    // gone and its context file no longer loads.
    let sim = TcpSim::start(&state, &log);
    let (ok, _) = sim.tpm2(&dir, &["startup"]);
    assert!(!ok, "Startup(STATE) after power loss must fail");
    sim.tpm2_ok(&dir, &["startup", "-c"]);
    let (ok, out) = sim.tpm2(&dir, &["policypassword", "-S", "s.ctx", "-L", "d4"]);
    assert!(!ok, "the session survived a TPM Reset: {out}");
    assert!(out.contains("0x1df") || out.contains("integrity"), "{out}");
    sim.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
