//! Shared helpers for the end-to-end tests of vtpm.
//!
//! * [`Sim`] starts the `vtpm-host-sim` binary on two free loopback ports
//!   (and, for [`Tcti::Abrmd`], tpm2-abrmd on a private D-Bus session bus)
//!   with a temporary state directory, stops it on drop, and runs `tpm2`
//!   (tpm2-tools) against it through the mssim or swtpm TCTI.
//! * [`yaml`] reads the YAML that tpm2-tools prints.
//! * [`fuzzing`] is the check shared by the fuzz target and the corpus
//!   replay test.
//!
//! The tests fail (they never skip) when `tpm2` or the simulator is missing:
//! `scripts/test.sh` installs what they need.

pub mod fuzzing;
pub mod yaml;

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How long one `tpm2` invocation may take before it is killed.
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the simulator may take to listen on its ports.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the simulator may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// The transport between tpm2-tools and the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tcti {
    /// Microsoft/IBM simulator protocol: `TPM_SEND_COMMAND` framing on the
    /// TPM port, platform signals on port + 1.
    Mssim,
    /// swtpm: raw commands on the data port, swtpm control channel on
    /// port + 1.
    Swtpm,
    /// mssim TCTI with the simulator's `--svsm` route: every command goes
    /// through the vtpm-svsm protocol handler over a simulated guest page.
    MssimSvsm,
    /// tpm2-abrmd (the access broker and resource manager) on a private
    /// D-Bus session bus, talking mssim to the simulator; the tools use the
    /// `tabrmd` TCTI. abrmd saves, loads and flushes contexts around every
    /// tool invocation, so this is the resource-managed path.
    Abrmd,
}

impl Tcti {
    /// The simulator's `--protocol` (and the TCTI abrmd uses for Abrmd).
    pub fn name(self) -> &'static str {
        match self {
            Tcti::Mssim | Tcti::MssimSvsm | Tcti::Abrmd => "mssim",
            Tcti::Swtpm => "swtpm",
        }
    }
}

/// Path of the workspace root (the folder holding the root `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// The target directory and profile folder (`debug`/`release`) this test
/// binary was built into: tests run from `<target>/<profile>/deps/`.
fn target_and_profile() -> (PathBuf, String) {
    let fallback = (workspace_root().join("target"), "debug".to_string());
    let Ok(exe) = std::env::current_exe() else {
        return fallback;
    };
    let deps = exe.parent();
    let profile_dir = deps.and_then(Path::parent);
    let target = profile_dir.and_then(Path::parent);
    match (deps, profile_dir, target) {
        (Some(d), Some(p), Some(t)) if d.file_name().is_some_and(|n| n == "deps") => {
            let profile = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "debug".into());
            (t.to_path_buf(), profile)
        }
        _ => fallback,
    }
}

/// The simulator binary, built on first use.
///
/// `VTPM_HOST_SIM=/path/to/binary` overrides the lookup (and the build).
/// Otherwise the binary is `<target>/<profile>/vtpm-host-sim` next to this
/// test binary, and `cargo build -p vtpm-host-sim` is run once per test
/// process so that it is never stale (a no-op when it is up to date).
pub fn sim_binary() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("VTPM_HOST_SIM") {
            let p = PathBuf::from(p);
            assert!(p.is_file(), "VTPM_HOST_SIM={} is not a file", p.display());
            return p;
        }
        let (target, profile) = target_and_profile();
        let bin = target.join(&profile).join("vtpm-host-sim");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.arg("build")
            .arg("--quiet")
            .arg("-p")
            .arg("vtpm-host-sim")
            .arg("--manifest-path")
            .arg(workspace_root().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target);
        if profile == "release" {
            cmd.arg("--release");
        }
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run cargo to build vtpm-host-sim: {e}"));
        assert!(
            out.status.success(),
            "cargo build -p vtpm-host-sim failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            bin.is_file(),
            "vtpm-host-sim not found at {} after building it",
            bin.display()
        );
        bin
    })
}

/// Panics (the test fails, it does not skip) unless `tpm2` runs.
pub fn require_tpm2() {
    static CHECKED: OnceLock<Result<String, String>> = OnceLock::new();
    let r = CHECKED.get_or_init(|| {
        match Command::new("tpm2")
            .arg("--version")
            .stdin(Stdio::null())
            .output()
        {
            Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
            Ok(o) => Err(format!(
                "`tpm2 --version` failed: {}",
                String::from_utf8_lossy(&o.stderr)
            )),
            Err(e) => Err(format!("cannot run `tpm2`: {e}")),
        }
    });
    if let Err(e) = r {
        panic!(
            "{e}\ntpm2-tools is required by the end-to-end tests; \
             scripts/test.sh installs it (apt-get install tpm2-tools \
             libtss2-tcti-mssim0 libtss2-tcti-swtpm0)"
        );
    }
}

/// Ports handed out by this process, never handed out twice.
static USED_PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// A port `p` such that `p` and `p + 1` are both free on 127.0.0.1 right
/// now and were not handed out before by this process.
pub fn free_port_pair() -> u16 {
    for _ in 0..500 {
        let Ok(a) = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)) else {
            continue;
        };
        let Ok(addr) = a.local_addr() else { continue };
        let p = addr.port();
        let Some(q) = p.checked_add(1) else { continue };
        if TcpListener::bind((Ipv4Addr::LOCALHOST, q)).is_err() {
            continue;
        }
        let mut used = USED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
        let used = used.get_or_insert_with(HashSet::new);
        if used.contains(&p) || used.contains(&q) {
            continue;
        }
        used.insert(p);
        used.insert(q);
        return p;
    }
    panic!("no two consecutive free TCP ports on 127.0.0.1");
}

/// True if something listens on TCP `port` (IPv4 or IPv6), read from
/// /proc/net/tcp{,6} so that probing does not open a connection.
pub fn port_listening(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    ["/proc/net/tcp", "/proc/net/tcp6"].iter().any(|f| {
        fs::read_to_string(f).is_ok_and(|s| {
            s.lines().skip(1).any(|l| {
                let cols: Vec<&str> = l.split_whitespace().collect();
                // cols[1] = local address:port, cols[3] = state (0A = LISTEN)
                cols.len() > 3 && format!("{} ", cols[1]).ends_with(&needle) && cols[3] == "0A"
            })
        })
    })
}

/// Output of one `tpm2` invocation.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// A running simulator. Dropping it kills it.
#[derive(Debug)]
pub struct Sim {
    child: Option<Child>,
    tcti: Tcti,
    port: u16,
    state_dir: PathBuf,
    work: tempfile::TempDir,
    log: PathBuf,
    // tpm2-abrmd and its bus, for Tcti::Abrmd.
    abrmd: Option<Abrmd>,
    // Keeps a temporary state dir alive (None when the caller owns it).
    _state_tmp: Option<tempfile::TempDir>,
}

/// Panics (the test fails, it does not skip) unless `program` can be run.
fn require_program(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()));
    assert!(
        found,
        "`{program}` not found on PATH; the end-to-end tests need it: \
         scripts/test.sh installs it (apt-get install {package})"
    );
}

/// tpm2-abrmd on a private D-Bus session bus of its own, connected to the
/// simulator with the mssim TCTI, as the tpm2-tools suite runs it.
#[derive(Debug)]
struct Abrmd {
    dbus: Child,
    daemon: Option<Child>,
    bus_address: String,
    bus_name: String,
}

impl Abrmd {
    fn start(sim_port: u16, log: &Path) -> Result<Abrmd, String> {
        require_program("dbus-daemon", "dbus");
        require_program("tpm2-abrmd", "tpm2-abrmd");
        let mut dbus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start dbus-daemon: {e}"))?;
        let mut line = String::new();
        if let Some(out) = dbus.stdout.take() {
            use std::io::BufRead;
            let _ = std::io::BufReader::new(out).read_line(&mut line);
        }
        let bus_address = line.trim().to_string();
        if bus_address.is_empty() {
            let _ = dbus.kill();
            let _ = dbus.wait();
            return Err("dbus-daemon printed no bus address".into());
        }
        let bus_name = format!(
            "com.intel.tss2.Tabrmd.vtpm{}p{sim_port}",
            std::process::id()
        );
        let logf = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let logf2 = logf.try_clone().map_err(|e| format!("dup: {e}"))?;
        let daemon = Command::new("tpm2-abrmd")
            .arg("--session")
            .arg(format!("--dbus-name={bus_name}"))
            .arg(format!("--tcti=mssim:host=127.0.0.1,port={sim_port}"))
            .arg("--allow-root")
            .arg("--logger=stdout")
            .env("DBUS_SESSION_BUS_ADDRESS", &bus_address)
            .stdin(Stdio::null())
            .stdout(logf)
            .stderr(logf2)
            .spawn();
        let mut abrmd = Abrmd {
            dbus,
            daemon: None,
            bus_address,
            bus_name,
        };
        match daemon {
            Ok(d) => abrmd.daemon = Some(d),
            Err(e) => {
                abrmd.kill();
                return Err(format!("cannot start tpm2-abrmd: {e}"));
            }
        }
        Ok(abrmd)
    }

    fn tcti_string(&self) -> String {
        format!("tabrmd:bus_type=session,bus_name={}", self.bus_name)
    }

    /// Waits until abrmd answers on the bus (a `tpm2 getrandom` through
    /// it succeeds), or it exits.
    fn wait_ready(&mut self) -> Result<(), String> {
        let t0 = Instant::now();
        loop {
            if let Some(d) = self.daemon.as_mut() {
                if let Ok(Some(st)) = d.try_wait() {
                    return Err(format!("tpm2-abrmd exited early with {st}"));
                }
            }
            let ok = Command::new("tpm2")
                .args(["getrandom", "--hex", "1"])
                .env("TPM2TOOLS_TCTI", self.tcti_string())
                .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Ok(());
            }
            if t0.elapsed() > START_TIMEOUT {
                return Err(format!("tpm2-abrmd not ready after {START_TIMEOUT:?}"));
            }
            sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM to abrmd (it closes its connection to the TPM), then the bus.
    fn stop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let pid = rustix::process::Pid::from_child(&d);
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            let t0 = Instant::now();
            while !matches!(d.try_wait(), Ok(Some(_))) {
                if t0.elapsed() > STOP_TIMEOUT {
                    let _ = d.kill();
                    let _ = d.wait();
                    break;
                }
                sleep(Duration::from_millis(10));
            }
        }
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        let _ = self.dbus.kill();
        let _ = self.dbus.wait();
    }
}

impl Sim {
    /// A freshly manufactured TPM with a temporary state directory.
    pub fn start(tcti: Tcti) -> Sim {
        let tmp = tempfile::Builder::new()
            .prefix("vtpm-state.")
            .tempdir()
            .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
        let dir = tmp.path().to_path_buf();
        let mut sim = Sim::start_in(tcti, &dir, true);
        sim._state_tmp = Some(tmp);
        sim
    }

    /// A simulator on the state directory `dir` (kept by the caller), with
    /// `--manufacture` if `manufacture`.
    pub fn start_in(tcti: Tcti, dir: &Path, manufacture: bool) -> Sim {
        require_tpm2();
        let bin = sim_binary();
        let mut last_err = String::new();
        for attempt in 0..5 {
            let work = tempfile::Builder::new()
                .prefix("vtpm-work.")
                .tempdir()
                .unwrap_or_else(|e| panic!("cannot create a temp dir: {e}"));
            let port = free_port_pair();
            let log = work.path().join(format!("sim.{attempt}.log"));
            let logf = fs::File::create(&log)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", log.display()));
            let logf2 = logf
                .try_clone()
                .unwrap_or_else(|e| panic!("cannot dup log fd: {e}"));
            let mut cmd = Command::new(bin);
            cmd.arg("--protocol")
                .arg(tcti.name())
                .arg("--port")
                .arg(port.to_string())
                .arg("--bind")
                .arg("127.0.0.1")
                .arg("--state")
                .arg(dir)
                .arg("--log-level")
                .arg("info");
            if manufacture {
                cmd.arg("--manufacture");
            }
            if tcti == Tcti::MssimSvsm {
                cmd.arg("--svsm");
            }
            if tcti == Tcti::Swtpm {
                // tcti-swtpm sends no CMD_INIT: the TPM must be powered on
                // from the start, as with `swtpm --flags not-need-init`.
                cmd.arg("--flags").arg("not-need-init");
            }
            let child = cmd
                .stdin(Stdio::null())
                .stdout(logf)
                .stderr(logf2)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
            let mut sim = Sim {
                child: Some(child),
                tcti,
                port,
                state_dir: dir.to_path_buf(),
                work,
                log,
                abrmd: None,
                _state_tmp: None,
            };
            match sim.wait_listening().and_then(|()| sim.start_abrmd(attempt)) {
                Ok(()) => return sim,
                Err(e) => {
                    last_err = format!(
                        "attempt {attempt}: {e}\n--- simulator log ---\n{}",
                        sim.log_text()
                    );
                    sim.kill();
                }
            }
        }
        panic!("the simulator did not start: {last_err}");
    }

    /// For Tcti::Abrmd: starts tpm2-abrmd on the listening simulator.
    fn start_abrmd(&mut self, attempt: u32) -> Result<(), String> {
        if self.tcti != Tcti::Abrmd {
            return Ok(());
        }
        let log = self.work.path().join(format!("abrmd.{attempt}.log"));
        let mut abrmd = Abrmd::start(self.port, &log)?;
        let ready = abrmd.wait_ready();
        if let Err(e) = ready {
            abrmd.kill();
            return Err(format!(
                "{e}\n--- abrmd log ---\n{}",
                fs::read_to_string(&log).unwrap_or_default()
            ));
        }
        self.abrmd = Some(abrmd);
        Ok(())
    }

    fn wait_listening(&mut self) -> Result<(), String> {
        let t0 = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(st)) = child.try_wait() {
                    return Err(format!("simulator exited early with {st}"));
                }
            }
            if port_listening(self.port) && port_listening(self.port + 1) {
                return Ok(());
            }
            if t0.elapsed() > START_TIMEOUT {
                return Err(format!(
                    "simulator not listening on {} and {} after {:?}",
                    self.port,
                    self.port + 1,
                    START_TIMEOUT
                ));
            }
            sleep(Duration::from_millis(20));
        }
    }

    /// The TCP port of the TPM (data) channel; the platform/control port
    /// is one more.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TCTI this simulator speaks.
    pub fn tcti(&self) -> Tcti {
        self.tcti
    }

    /// The TCTI configuration string for tpm2-tools.
    pub fn tcti_string(&self) -> String {
        match &self.abrmd {
            Some(a) => a.tcti_string(),
            None => format!("{}:host=127.0.0.1,port={}", self.tcti.name(), self.port),
        }
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// A scratch directory for files the test hands to `tpm2`; it is also
    /// the working directory of `tpm2`.
    pub fn work_dir(&self) -> &Path {
        self.work.path()
    }

    /// What the simulator printed so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Run `tpm2 args...` against this simulator.
    pub fn tpm2_raw(&self, args: &[&str]) -> ToolOutput {
        self.tpm2_raw_stdin(args, None)
    }

    /// Run `tpm2 args...` with `input` on standard input.
    pub fn tpm2_raw_stdin(&self, args: &[&str], input: Option<&[u8]>) -> ToolOutput {
        let dir = self.work_dir();
        let out_path = dir.join(".tpm2.stdout");
        let err_path = dir.join(".tpm2.stderr");
        let out = fs::File::create(&out_path).unwrap_or_else(|e| panic!("{e}"));
        let err = fs::File::create(&err_path).unwrap_or_else(|e| panic!("{e}"));
        let stdin = match input {
            Some(data) => {
                let p = dir.join(".tpm2.stdin");
                fs::write(&p, data).unwrap_or_else(|e| panic!("{e}"));
                Stdio::from(fs::File::open(&p).unwrap_or_else(|e| panic!("{e}")))
            }
            None => Stdio::null(),
        };
        let mut cmd = Command::new("tpm2");
        if let Some(a) = &self.abrmd {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", &a.bus_address);
        }
        let mut child = cmd
            .args(args)
            .current_dir(dir)
            .env("TPM2TOOLS_TCTI", self.tcti_string())
            .env_remove("TPM2TOOLS_TCTI_NAME")
            .env_remove("TPM2TOOLS_DEVICE_FILE")
            .env_remove("TPM2TOOLS_SOCKET_ADDRESS")
            .env_remove("TPM2TOOLS_SOCKET_PORT")
            .env_remove("TCTI")
            .stdin(stdin)
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run `tpm2` (install tpm2-tools; scripts/test.sh does): {e}")
            });
        let t0 = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break st,
                Ok(None) if t0.elapsed() > TOOL_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "`tpm2 {}` timed out after {:?}\n--- simulator log ---\n{}",
                        args.join(" "),
                        TOOL_TIMEOUT,
                        self.log_text()
                    );
                }
                Ok(None) => sleep(Duration::from_millis(5)),
                Err(e) => panic!("waiting for tpm2: {e}"),
            }
        };
        let read = |p: &Path| {
            let mut s = Vec::new();
            if let Ok(mut f) = fs::File::open(p) {
                let _ = f.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        };
        ToolOutput {
            status,
            stdout: read(&out_path),
            stderr: read(&err_path),
        }
    }

    /// Run `tpm2 args...`; panics with its stderr unless it succeeds.
    /// Returns its standard output.
    pub fn tpm2(&self, args: &[&str]) -> String {
        let o = self.tpm2_raw(args);
        self.expect_success(args, &o);
        o.stdout
    }

    /// Like [`Sim::tpm2`] with `input` on standard input.
    pub fn tpm2_stdin(&self, args: &[&str], input: &[u8]) -> String {
        let o = self.tpm2_raw_stdin(args, Some(input));
        self.expect_success(args, &o);
        o.stdout
    }

    fn expect_success(&self, args: &[&str], o: &ToolOutput) {
        assert!(
            o.status.success(),
            "`tpm2 {}` failed ({}) via {}\n--- stderr ---\n{}\n--- stdout ---\n{}\n--- simulator log ---\n{}",
            args.join(" "),
            o.status,
            self.tcti_string(),
            o.stderr,
            o.stdout,
            self.log_text()
        );
    }

    /// Run `tpm2 args...`; panics unless it fails. Returns its stderr.
    pub fn tpm2_fails(&self, args: &[&str]) -> String {
        let o = self.tpm2_raw(args);
        assert!(
            !o.status.success(),
            "`tpm2 {}` succeeded but should have failed\n--- stdout ---\n{}",
            args.join(" "),
            o.stdout
        );
        o.stderr
    }

    /// Send SIGTERM and wait for the simulator to exit (it saves its state
    /// first). Returns its exit status.
    pub fn stop(mut self) -> ExitStatus {
        if let Some(mut a) = self.abrmd.take() {
            a.stop();
        }
        let Some(mut child) = self.child.take() else {
            panic!("simulator already stopped");
        };
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "the simulator had already exited with {st}\n--- simulator log ---\n{}",
                self.log_text()
            );
        }
        let pid = rustix::process::Pid::from_child(&child);
        if let Err(e) = rustix::process::kill_process(pid, rustix::process::Signal::TERM) {
            panic!("kill(SIGTERM): {e}");
        }
        let t0 = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(st)) => return st,
                Ok(None) if t0.elapsed() > STOP_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "the simulator did not exit within {:?} of SIGTERM\n--- simulator log ---\n{}",
                        STOP_TIMEOUT,
                        self.log_text()
                    );
                }
                Ok(None) => sleep(Duration::from_millis(10)),
                Err(e) => panic!("waiting for the simulator: {e}"),
            }
        }
    }

    fn kill(&mut self) {
        if let Some(mut a) = self.abrmd.take() {
            a.kill();
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex string (an optional `0x` prefix is accepted); `None` if
/// it is not hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

/// One `#[test]` per transport for a scenario `fn(Tcti)`: the tools talk
/// to the simulator directly over mssim, directly over swtpm, and through
/// tpm2-abrmd (which itself talks mssim).
///
/// ```text
/// per_transport!(seal_unseal, seal_unseal_mssim, seal_unseal_swtpm, seal_unseal_abrmd);
/// ```
#[macro_export]
macro_rules! per_transport {
    ($scenario:ident, $mssim:ident, $swtpm:ident, $abrmd:ident) => {
        #[test]
        fn $mssim() {
            $scenario($crate::Tcti::Mssim);
        }
        #[test]
        fn $swtpm() {
            $scenario($crate::Tcti::Swtpm);
        }
        #[test]
        fn $abrmd() {
            $scenario($crate::Tcti::Abrmd);
        }
    };
}
