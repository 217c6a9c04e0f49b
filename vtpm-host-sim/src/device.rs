//! The simulated device: the engine plus what the host keeps beside it
//! (power/run state as the protocols see it, the swtpm locality, the trace
//! file, command-size statistics), and the state both listener threads
//! share.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context as _;
use vtpm_core::state::Phase;
use vtpm_core::{Config, Tpm};

use crate::conn::Conn;
use crate::keys::KeySpec;
use crate::platform::HostPlatform;

/// TPM2_CC_Shutdown.
pub const CC_SHUTDOWN: u32 = 0x145;
/// TPM2_Shutdown(SU_STATE).
pub const SHUTDOWN_STATE: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x45, 0x00, 0x01];
/// TPM2_Shutdown(SU_CLEAR).
pub const SHUTDOWN_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x45, 0x00, 0x00];
/// TPM2_Startup(SU_CLEAR).
pub const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0x00, 0x00];
/// TPM2_Startup(SU_STATE).
pub const STARTUP_STATE: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x44, 0x00, 0x01];
/// The response swtpm gives to every data command before CMD_INIT:
/// TPM_ST_NO_SESSIONS, size 10, TPM_RC_FAILURE.
pub const RC_FAILURE_RESPONSE: [u8; 10] = [0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01];

/// Which TPM2_Startup the simulator sends by itself after _TPM_Init
/// (swtpm `--flags startup-*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoStartup {
    /// None: the client sends TPM2_Startup.
    #[default]
    None,
    /// TPM2_Startup(SU_CLEAR).
    Clear,
    /// TPM2_Startup(SU_STATE).
    State,
}

/// Options that change how the device behaves (from `--flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// swtpm: the TPM is running without CMD_INIT.
    pub not_need_init: bool,
    /// swtpm: Startup sent by the simulator after each _TPM_Init.
    pub auto_startup: AutoStartup,
    /// Send TPM2_Shutdown(SU_STATE) before CMD_INIT/STOP/SHUTDOWN and exit
    /// when the last command was not TPM2_Shutdown.
    pub auto_shutdown: bool,
    /// Route every command through the SVSM vTPM protocol handler over a
    /// simulated guest page (vtpm-svsm), as an SEV-SNP guest would reach it.
    pub svsm: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            not_need_init: false,
            auto_startup: AutoStartup::None,
            auto_shutdown: true,
            svsm: false,
        }
    }
}

/// Largest command and response seen, for `TPM_GET_COMMAND_RESPONSE_SIZES`.
#[derive(Debug, Default, Clone, Copy)]
struct SizeStats {
    cmd_size: u32,
    cmd_cc: [u8; 4],
    rsp_size: u32,
    rsp_cc: [u8; 4],
}

/// The engine and the host-side state around it. Always used behind the
/// [`Shared::device`] mutex.
#[derive(Debug)]
pub struct Device {
    /// The TPM.
    pub tpm: Tpm<HostPlatform>,
    /// swtpm: CMD_INIT was done (or `not-need-init`). The mssim protocol
    /// has no such notion and keeps this true.
    pub running: bool,
    /// swtpm: locality for raw data commands, set by CMD_SET_LOCALITY.
    pub locality: u8,
    /// TPM_ACCESS.tpmEstablishment (PTP): set by _TPM_Hash_Start, cleared
    /// by CMD_RESET_TPMESTABLISHED. Kept in memory only.
    pub established: bool,
    /// mssim: physical presence asserted (no command consumes it yet).
    pub physical_presence: bool,
    /// mssim: TEST_FAILURE_MODE was signalled (acknowledged, no effect yet).
    pub test_failure_mode: bool,
    /// Behaviour options.
    pub options: Options,
    /// The state directory.
    pub state_dir: std::path::PathBuf,
    trace: Option<File>,
    stats: SizeStats,
}

impl Device {
    /// Open the TPM in `state_dir` sealed with the default key file (see
    /// [`Device::open_with_key`]).
    #[cfg(test)]
    pub fn open(
        state_dir: &Path,
        manufacture: bool,
        options: Options,
        trace: Option<&Path>,
    ) -> anyhow::Result<Device> {
        Self::open_with_key(state_dir, &KeySpec::Default, manufacture, options, trace)
    }

    /// Load the TPM from the sealed state in `state_dir`, migrate the
    /// unsealed state of an earlier release, or manufacture one when there
    /// is no state (or `manufacture` is set). Existing state that does not
    /// load is an error: it is never silently replaced
    /// ([`crate::platform::open_tpm`]).
    pub fn open_with_key(
        state_dir: &Path,
        key: &KeySpec,
        manufacture: bool,
        options: Options,
        trace: Option<&Path>,
    ) -> anyhow::Result<Device> {
        let tpm = crate::platform::open_tpm(state_dir, key, manufacture, host_config())?;
        let trace = match trace {
            Some(p) => Some(
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .with_context(|| format!("cannot open trace file {}", p.display()))?,
            ),
            None => None,
        };
        Ok(Device {
            tpm,
            running: true,
            locality: 0,
            established: false,
            physical_presence: false,
            test_failure_mode: false,
            options,
            state_dir: state_dir.to_path_buf(),
            trace,
            stats: SizeStats::default(),
        })
    }

    /// True while the engine is powered off.
    pub fn powered_off(&self) -> bool {
        self.tpm.phase() == Phase::PowerOff
    }

    /// Execute one TPM command: trace it, count its size, run it.
    pub fn execute(&mut self, locality: u8, cmd: &[u8]) -> Vec<u8> {
        self.trace_line('>', cmd);
        let cc = cmd
            .get(6..10)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .unwrap_or([0; 4]);
        let cmd_len = u32::try_from(cmd.len()).unwrap_or(u32::MAX);
        if cmd_len > self.stats.cmd_size {
            self.stats.cmd_size = cmd_len;
            self.stats.cmd_cc = cc;
        }
        let rsp = if self.options.svsm {
            svsm_execute(&mut self.tpm, locality, cmd)
        } else {
            self.tpm.execute(locality, cmd)
        };
        let rsp_len = u32::try_from(rsp.len()).unwrap_or(u32::MAX);
        if rsp_len > self.stats.rsp_size {
            self.stats.rsp_size = rsp_len;
            self.stats.rsp_cc = cc;
        }
        self.trace_line('<', &rsp);
        tracing::debug!(
            "command 0x{:x} locality {} ({} bytes) -> rc 0x{:x} ({} bytes)",
            u32::from_be_bytes(cc),
            locality,
            cmd.len(),
            response_code(&rsp),
            rsp.len()
        );
        rsp
    }

    fn trace_line(&mut self, dir: char, bytes: &[u8]) {
        let Some(f) = self.trace.as_mut() else {
            return;
        };
        let mut line = String::with_capacity(bytes.len().saturating_mul(2).saturating_add(3));
        line.push(dir);
        line.push(' ');
        for b in bytes {
            line.push_str(&format!("{b:02x}"));
        }
        line.push('\n');
        if let Err(e) = f.write_all(line.as_bytes()) {
            tracing::warn!("cannot write the command trace, tracing stops: {e}");
            self.trace = None;
        }
    }

    /// The 16-byte `TPM_GET_COMMAND_RESPONSE_SIZES` record (sizes in host
    /// byte order, command codes as they were on the wire); resets the
    /// counters.
    pub fn take_sizes(&mut self) -> [u8; 16] {
        let s = std::mem::take(&mut self.stats);
        let mut out = [0u8; 16];
        for (dst, src) in out.chunks_exact_mut(4).zip([
            s.cmd_size.to_ne_bytes(),
            s.cmd_cc,
            s.rsp_size.to_ne_bytes(),
            s.rsp_cc,
        ]) {
            dst.copy_from_slice(&src);
        }
        out
    }

    /// swtpm's auto-shutdown: when the TPM is started and the last command
    /// was not TPM2_Shutdown, send TPM2_Shutdown(SU_STATE) (SU_CLEAR if that
    /// fails) so the state is saved in an orderly way.
    pub fn auto_shutdown(&mut self) {
        if !self.options.auto_shutdown
            || !self.tpm.is_started()
            || self.tpm.last_command() == CC_SHUTDOWN
        {
            return;
        }
        let rc = response_code(&self.execute(0, &SHUTDOWN_STATE));
        if rc == 0 {
            tracing::info!("sent TPM2_Shutdown(SU_STATE)");
            return;
        }
        let rc2 = response_code(&self.execute(0, &SHUTDOWN_CLEAR));
        if rc2 == 0 {
            tracing::info!(
                "TPM2_Shutdown(SU_STATE) failed (rc 0x{rc:x}); sent TPM2_Shutdown(SU_CLEAR)"
            );
        } else {
            tracing::warn!("TPM2_Shutdown failed: SU_STATE rc 0x{rc:x}, SU_CLEAR rc 0x{rc2:x}");
        }
    }

    /// Send the TPM2_Startup the options ask for, if any.
    pub fn auto_startup(&mut self) {
        let cmd = match self.options.auto_startup {
            AutoStartup::None => return,
            AutoStartup::Clear => &STARTUP_CLEAR,
            AutoStartup::State => &STARTUP_STATE,
        };
        let rc = response_code(&self.execute(0, cmd));
        if rc == 0 {
            tracing::info!("sent TPM2_Startup({:?})", self.options.auto_startup);
        } else {
            tracing::warn!(
                "TPM2_Startup({:?}) failed: rc 0x{rc:x}",
                self.options.auto_startup
            );
        }
    }

    /// swtpm CMD_STOP / CMD_SHUTDOWN: orderly shutdown, power off.
    pub fn stop(&mut self) {
        if self.running {
            self.auto_shutdown();
        }
        self.tpm.power_off();
        self.running = false;
    }

    /// Store the persistent state with the clock folded in (on exit).
    pub fn save(&mut self) {
        let Some(bytes) = self.tpm.serialize_state() else {
            tracing::warn!("cannot serialize the TPM state on exit");
            return;
        };
        if let Err(e) = self.tpm.platform().write_state(&bytes) {
            tracing::warn!("cannot save the TPM state on exit: {e}");
        }
    }
}

/// The response code of a TPM response (0 when too short to have one).
pub fn response_code(rsp: &[u8]) -> u32 {
    rsp.get(6..10)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0)
}

/// Why the simulator stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A protocol asked for it (mssim TPM_STOP, swtpm CMD_SHUTDOWN).
    Stop(&'static str),
    /// SIGTERM / SIGINT.
    Signal(i32),
}

/// What both listener threads share.
#[derive(Debug)]
pub struct Shared {
    /// The device; every TPM access happens under this lock.
    pub device: Mutex<Device>,
    /// Cancel flag seen by the engine through `Platform::cancel_requested`.
    pub cancel: Arc<AtomicBool>,
    /// A data command is executing (for swtpm CMD_CANCEL_TPM_CMD).
    pub busy: AtomicBool,
    /// Set, under the device lock, once the simulator is exiting: no
    /// further command reaches the engine.
    pub stopping: AtomicBool,
    /// What the swtpm front end keeps (configuration, data descriptor,
    /// handed-over volatile state).
    pub swtpm: crate::swtpm::SwtpmShared,
    events: Mutex<Sender<Event>>,
    active: Mutex<Vec<(u64, Conn)>>,
    next_id: Mutex<u64>,
}

impl Shared {
    /// Shared state around `device`; stop requests go to `events`.
    pub fn new(device: Device, cancel: Arc<AtomicBool>, events: Sender<Event>) -> Self {
        Shared {
            device: Mutex::new(device),
            cancel,
            busy: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            swtpm: crate::swtpm::SwtpmShared::default(),
            events: Mutex::new(events),
            active: Mutex::new(Vec::new()),
            next_id: Mutex::new(0),
        }
    }

    /// Lock the device. The engine never panics by design; should a thread
    /// die holding the lock anyway, the others carry on.
    pub fn lock(&self) -> MutexGuard<'_, Device> {
        self.device.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Lock the device unless the simulator is exiting.
    pub fn lock_live(&self) -> Option<MutexGuard<'_, Device>> {
        let d = self.lock();
        if self.is_stopping() {
            None
        } else {
            Some(d)
        }
    }

    /// True once the simulator is exiting.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Ask the main thread to stop the simulator.
    pub fn request_stop(&self, ev: Event) {
        let tx = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let _ = tx.send(ev);
    }

    /// Remember a connection so [`Shared::close_all`] can wake its thread.
    pub fn register(&self, conn: &Conn) -> Option<u64> {
        let clone = conn.try_clone().ok()?;
        let mut n = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
        *n = n.wrapping_add(1);
        let id = *n;
        self.active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, clone));
        Some(id)
    }

    /// Forget a connection.
    pub fn unregister(&self, id: Option<u64>) {
        if let Some(id) = id {
            self.active
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|(i, _)| *i != id);
        }
    }

    /// Shut every open client connection down.
    pub fn close_all(&self) {
        for (_, c) in self
            .active
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            c.shutdown();
        }
    }
}

/// Send one command through the SVSM vTPM protocol (protocol 2, call 1)
/// over a simulated guest page, as the guest's `tpm_svsm` driver does: the
/// request is framed little-endian into the page, the protocol handler
/// copies it once, runs it, and writes the response back. An SVSM-level
/// error (which a guest would see instead of a response) is answered with
/// a 10-byte TPM_RC_FAILURE so the client sees the failure.
fn svsm_execute(tpm: &mut Tpm<HostPlatform>, locality: u8, cmd: &[u8]) -> Vec<u8> {
    use vtpm_svsm::memory::{GuestMemory, GuestRam};
    use vtpm_svsm::page;
    use vtpm_svsm::protocol::SvsmRequest;
    use vtpm_svsm::service::{handle_call, ServiceOptions};
    const GPA: u64 = 0x10_0000;
    let failure = || vec![0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x01];
    let mut ram = GuestRam::new(GPA, 1);
    let mut pg = [0u8; page::PAGE_SIZE];
    let Some(len) = page::encode_request(&mut pg, locality, cmd) else {
        return failure();
    };
    if ram.write(GPA, pg.get(..len).unwrap_or_default()).is_err() {
        return failure();
    }
    let options = ServiceOptions {
        max_locality: 4,
        ..ServiceOptions::default()
    };
    let rsp = handle_call(tpm, &options, &mut ram, &SvsmRequest::vtpm_cmd(GPA));
    if let Err(e) = rsp.result {
        tracing::warn!("SVSM call failed: {e:?}");
        return failure();
    }
    if ram.read(GPA, &mut pg).is_err() {
        return failure();
    }
    page::decode_response(&pg)
        .map(<[u8]>::to_vec)
        .unwrap_or_else(failure)
}

/// The engine configuration of the host simulator: the engine defaults,
/// with room for 1024 loaded objects, because tpm2-tools used without a
/// resource manager never flush what they load (each loaded object costs
/// about 1-3 KiB; the count is reported by TPM_PT_HR_TRANSIENT_MIN).
pub fn host_config() -> Config {
    Config {
        max_loaded_objects: 1024,
        ..Config::default()
    }
}
