//! The command pipeline (Part 3, 5: "Command Processing") and the TPM's
//! life cycle signals.
//!
//! `execute` follows the order of the reference `ExecuteCommand`: header,
//! command code, startup state, handle area, entity checks, authorization
//! area, parameters and handler, response sessions, response header. All
//! checks happen before the handler changes anything; a command that
//! changed persistent state commits it through the platform before the
//! success response is built.

use alloc::vec::Vec;

use crate::auth;
use crate::commands::{self, HandleKind};
use crate::config::Config;
use crate::crypto::Drbg;
use crate::object::Object;
use crate::platform::{Platform, PlatformError};
use crate::state::{PersistentState, Phase, StateLoadError, VolatileState};
use crate::wire::consts::{ht, rh, st};
use crate::wire::types::{ClockInfo, TimeInfo};
use crate::wire::{cc, CommandCode, Handle, Params, Rc, Reader, StructTag, TpmResult, Writer};

/// Why an engine could not be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// The platform gave no entropy.
    Entropy,
    /// The first commit of a freshly manufactured state failed.
    Commit,
    /// Serializing the state failed.
    Serialize,
    /// The stored state could not be loaded.
    Load(StateLoadError),
}

impl core::fmt::Display for StateError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StateError::Entropy => f.write_str("no entropy from the platform"),
            StateError::Commit => f.write_str("could not commit the manufactured state"),
            StateError::Serialize => f.write_str("could not serialize the state"),
            StateError::Load(e) => write!(f, "could not load the TPM state: {e}"),
        }
    }
}

/// A TPM: persistent state, volatile state and the platform it runs on.
pub struct Tpm<P: Platform> {
    pub(crate) platform: P,
    pub(crate) config: Config,
    pub(crate) p: PersistentState,
    pub(crate) v: VolatileState,
}

impl<P: Platform> core::fmt::Debug for Tpm<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tpm")
            .field("phase", &self.v.phase)
            .finish_non_exhaustive()
    }
}

/// Persistent state as a handler sees it. Reading is free; the first
/// mutable access of a command with `TPMA_CC.nv` takes the rollback
/// snapshot (copy on write), so a command that fails leaves persistent
/// state as it found it, and a command that only reads it copies nothing.
/// Every change goes through [`core::ops::DerefMut`], so none can escape
/// the snapshot.
pub struct PersistentMut<'a> {
    p: &'a mut PersistentState,
    snapshot: Option<&'a mut Option<PersistentState>>,
}

impl<'a> PersistentMut<'a> {
    /// Access that snapshots into `snapshot` (when given) before the first
    /// change.
    pub(crate) fn new(
        p: &'a mut PersistentState,
        snapshot: Option<&'a mut Option<PersistentState>>,
    ) -> Self {
        PersistentMut { p, snapshot }
    }
}

impl core::fmt::Debug for PersistentMut<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PersistentMut")
            .field("snapshot_pending", &self.snapshot.is_some())
            .finish_non_exhaustive()
    }
}

impl core::ops::Deref for PersistentMut<'_> {
    type Target = PersistentState;
    fn deref(&self) -> &PersistentState {
        self.p
    }
}

impl core::ops::DerefMut for PersistentMut<'_> {
    fn deref_mut(&mut self) -> &mut PersistentState {
        if let Some(slot) = self.snapshot.take() {
            if slot.is_none() {
                *slot = Some(self.p.clone());
            }
        }
        self.p
    }
}

/// What a handler sees: the TPM's state, the platform, and the command's
/// context. Handlers change persistent state only through `p` and then
/// call [`Ctx::mark_dirty`].
pub struct Ctx<'a> {
    /// Persistent state (copy on write for the rollback snapshot).
    pub p: PersistentMut<'a>,
    /// Volatile state.
    pub v: &'a mut VolatileState,
    /// The platform.
    pub platform: &'a mut dyn Platform,
    /// Configuration.
    pub config: &'a Config,
    /// Locality of the current command.
    pub locality: u8,
    /// The command being executed.
    pub command: CommandCode,
    dirty: bool,
}

impl core::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ctx")
            .field("locality", &self.locality)
            .finish_non_exhaustive()
    }
}

impl Ctx<'_> {
    /// Persistent state changed: commit it before answering success.
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Random bytes from the TPM's DRBG.
    pub fn random(&mut self, out: &mut [u8]) {
        self.v.drbg.generate(out);
    }

    /// The platform's monotonic clock.
    pub fn now_ms(&mut self) -> u64 {
        self.platform.monotonic_ms()
    }

    /// `TPMS_CLOCK_INFO` now.
    pub fn clock_info(&mut self) -> ClockInfo {
        let now = self.platform.monotonic_ms();
        ClockInfo {
            clock: current_clock(&self.p, self.v, now),
            reset_count: self.p.reset_count,
            restart_count: self.p.restart_count,
            safe: self.v.clock_safe,
        }
    }

    /// `TPMS_TIME_INFO` now.
    pub fn time_info(&mut self) -> TimeInfo {
        let now = self.platform.monotonic_ms();
        let clock_info = self.clock_info();
        TimeInfo {
            time: now.saturating_sub(self.v.init_ms),
            clock_info,
        }
    }

    /// The proof value of a hierarchy (Part 1, 14.4), `None` for a handle
    /// that is not a hierarchy.
    pub fn hierarchy_proof(&self, hierarchy: Handle) -> Option<&[u8]> {
        match hierarchy {
            rh::OWNER => Some(&self.p.sh_proof),
            rh::ENDORSEMENT => Some(&self.p.eh_proof),
            rh::PLATFORM => Some(&self.p.ph_proof),
            rh::NULL => Some(&self.v.null_proof),
            _ => None,
        }
    }

    /// A loaded or persistent object.
    pub fn object(&self, h: Handle) -> Option<&Object> {
        match h.ht() {
            ht::TRANSIENT => self.v.objects.get(&h.0),
            ht::PERSISTENT => self.p.persistent.iter().find(|o| o.evict_handle == Some(h)),
            _ => None,
        }
    }

    /// Load an object into a free transient slot (`TPM_RC_OBJECT_MEMORY`
    /// when none is free).
    pub fn insert_object(&mut self, obj: Object) -> TpmResult<Handle> {
        // Sequence objects share the transient handles and the limit.
        if self.v.objects.len().saturating_add(self.v.sequences.len())
            >= self.config.max_loaded_objects
        {
            return Err(Rc::OBJECT_MEMORY);
        }
        let free = (0..self.config.max_loaded_objects as u32)
            .map(|i| rh::TRANSIENT_FIRST.saturating_add(i))
            .find(|h| !self.v.objects.contains_key(h) && !self.v.sequences.contains_key(h))
            .ok_or(Rc::OBJECT_MEMORY)?;
        self.v.objects.insert(free, obj);
        Ok(Handle(free))
    }

    /// A defined NV index.
    pub fn nv_index(&self, h: Handle) -> Option<&crate::state::nv::NvIndex> {
        self.p.nv.iter().find(|i| i.handle == h)
    }

    /// The Name of an entity (Part 1, 16): an object's or NV index's Name,
    /// or the handle itself for PCRs, permanent handles and sessions.
    pub fn name_of(&self, h: Handle) -> Vec<u8> {
        if let Some(o) = self.object(h) {
            return o.name.clone();
        }
        if let Some(i) = self.nv_index(h) {
            return i.name();
        }
        h.0.to_be_bytes().to_vec()
    }

    /// The Qualified Name of an entity (a hierarchy's is its handle).
    pub fn qualified_name_of(&self, h: Handle) -> Vec<u8> {
        match self.object(h) {
            Some(o) => o.qualified_name.clone(),
            None => h.0.to_be_bytes().to_vec(),
        }
    }

    /// Is a hierarchy enabled (Part 1, 13.x; `TPMA_STARTUP_CLEAR`)?
    pub fn hierarchy_enabled(&self, hierarchy: Handle) -> bool {
        match hierarchy {
            rh::OWNER => self.v.startup_clear.sh_enable,
            rh::ENDORSEMENT => self.v.startup_clear.eh_enable,
            rh::PLATFORM => self.v.startup_clear.ph_enable,
            _ => true,
        }
    }
}

fn current_clock(p: &PersistentState, v: &VolatileState, now: u64) -> u64 {
    let elapsed = now.saturating_sub(v.clock_sync_ms);
    p.clock
        .saturating_add(commands::clock::scale_elapsed(elapsed, v.clock_rate_ppm))
}

/// Room reserved for a response before its buffer grows: the header and
/// the parameters of every cheap command (PCR_Read of 8 SHA-256 PCRs is
/// about 300 octets).
const RESPONSE_CAPACITY: usize = 512;

/// Overwrite `bytes.len()` octets of `buf` at `at` (a size or handle
/// field reserved earlier).
fn patch(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at.saturating_add(bytes.len())) {
        dst.copy_from_slice(bytes);
    }
}

fn error_response(rc: Rc) -> Vec<u8> {
    let mut w = Writer::new();
    w.write(&st::NO_SESSIONS);
    w.u32(10);
    w.u32(rc.0);
    w.into_vec()
}

impl<P: Platform> Tpm<P> {
    fn new_volatile(platform: &mut P) -> Result<VolatileState, StateError> {
        let mut entropy = [0u8; 48];
        platform
            .fill_entropy(&mut entropy)
            .map_err(|_| StateError::Entropy)?;
        let drbg = Drbg::new(&entropy, b"vtpm DRBG");
        Ok(VolatileState {
            phase: Phase::PowerOff,
            drbg,
            pcrs: Default::default(),
            pcr_update_counter: 0,
            startup_clear: Default::default(),
            null_seed: Vec::new(),
            null_proof: Vec::new(),
            platform_auth: Vec::new(),
            platform_policy: crate::state::Policy {
                alg: 0x10,
                digest: Vec::new(),
            },
            init_ms: 0,
            clock_sync_ms: 0,
            clock_safe: true,
            nv_available: true,
            last_command: 0,
            tested: false,
            active_banks: Vec::new(),
            objects: Default::default(),
            sessions: Default::default(),
            commit_pending: false,
            startup_orderly: false,
            command_audit_digest: Vec::new(),
            exclusive_audit_session: None,
            time_epoch: 0,
            da_anchor_ms: 0,
            lockout_disabled_ms: 0,
            context_counter: 0,
            clear_count: 0,
            primary_cache: Vec::new(),
            drtm_hash: None,
            sequences: Default::default(),
            clock_rate_ppm: 0,
            commit: Default::default(),
            act: Default::default(),
        })
    }

    /// Manufacture a new TPM: fresh seeds from the platform's entropy. The
    /// new state is committed before this returns. The TPM starts powered
    /// off; call [`Tpm::power_on`].
    pub fn manufacture(mut platform: P, config: Config) -> Result<Self, StateError> {
        let mut v = Self::new_volatile(&mut platform)?;
        let p = PersistentState::manufacture(&mut v.drbg);
        let bytes = p.to_bytes().map_err(|_| StateError::Serialize)?;
        platform.commit(&bytes).map_err(|_| StateError::Commit)?;
        Ok(Tpm {
            platform,
            config,
            p,
            v,
        })
    }

    /// Load a TPM from bytes the platform was given by an earlier commit.
    pub fn load(mut platform: P, config: Config, state: &[u8]) -> Result<Self, StateError> {
        let p = PersistentState::from_bytes(state).map_err(StateError::Load)?;
        let v = Self::new_volatile(&mut platform)?;
        Ok(Tpm {
            platform,
            config,
            p,
            v,
        })
    }

    /// Replace the whole TPM state by `state` (bytes [`Tpm::load`] accepts),
    /// keeping the platform: a host importing a state (swtpm
    /// `CMD_SET_STATEBLOB`) cannot build a second platform for the same
    /// storage while this one holds it. The TPM is left powered off with
    /// fresh volatile state, as after [`Tpm::load`]; nothing is committed
    /// (the caller commits the imported state itself). On error nothing
    /// changes.
    pub fn replace_state(&mut self, state: &[u8]) -> Result<(), StateError> {
        let p = PersistentState::from_bytes(state).map_err(StateError::Load)?;
        let v = Self::new_volatile(&mut self.platform)?;
        self.p = p;
        self.v = v;
        Ok(())
    }

    /// The platform.
    pub fn platform(&self) -> &P {
        &self.platform
    }

    /// The platform, mutably.
    pub fn platform_mut(&mut self) -> &mut P {
        &mut self.platform
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Current life-cycle phase.
    pub fn phase(&self) -> Phase {
        self.v.phase
    }

    /// True once `TPM2_Startup` has succeeded (and until power off).
    pub fn is_started(&self) -> bool {
        self.v.phase == Phase::Operational
    }

    /// The command code most recently executed successfully or not.
    pub fn last_command(&self) -> u32 {
        self.v.last_command
    }

    /// The `signaled` attribute of an authenticated countdown timer
    /// (the mssim platform request `TPM_ACT_GET_SIGNALED`); false for a
    /// handle that is not an ACT this TPM implements.
    pub fn act_signaled(&mut self, handle: u32) -> bool {
        let now = self.platform.monotonic_ms();
        commands::act::signaled(&mut self.v.act, Handle(handle), now)
    }

    /// Serialized persistent state, with the clock folded in (what
    /// [`Tpm::load`] accepts).
    pub fn serialize_state(&mut self) -> Option<Vec<u8>> {
        self.fold_clock();
        self.p.to_bytes().ok()
    }

    /// Fold elapsed time into the persistent clock.
    fn fold_clock(&mut self) {
        if self.v.phase == Phase::PowerOff {
            return;
        }
        let now = self.platform.monotonic_ms();
        self.p.clock = current_clock(&self.p, &self.v, now);
        self.v.clock_sync_ms = now;
    }

    /// Power on (`TPM_SIGNAL_POWER_ON`). A no-op if already on; otherwise
    /// performs _TPM_Init.
    pub fn power_on(&mut self) {
        if self.v.phase == Phase::PowerOff {
            self.tpm_init();
        }
    }

    /// Power off (`TPM_SIGNAL_POWER_OFF`): volatile state is lost.
    pub fn power_off(&mut self) {
        self.fold_clock();
        self.v.phase = Phase::PowerOff;
    }

    /// _TPM_Init (`TPM_SIGNAL_RESET`): the TPM must see `TPM2_Startup` next.
    /// Ignored while powered off.
    pub fn reset(&mut self) {
        if self.v.phase != Phase::PowerOff {
            self.tpm_init();
        }
    }

    fn tpm_init(&mut self) {
        let now = self.platform.monotonic_ms();
        if self.v.phase != Phase::PowerOff {
            self.p.clock = current_clock(&self.p, &self.v, now);
        }
        self.v.init_ms = now;
        self.v.clock_sync_ms = now;
        self.v.drtm_hash = None;
        self.v.objects.clear();
        self.v.sessions.clear();
        self.v.sequences.clear();
        self.v.clock_rate_ppm = 0;
        let mut entropy = [0u8; 48];
        if self.platform.fill_entropy(&mut entropy).is_err() {
            self.v.phase = Phase::Failure;
            return;
        }
        self.v.drbg.reseed(&entropy, b"_TPM_Init");
        let mut epoch = [0u8; 8];
        self.v.drbg.generate(&mut epoch);
        self.v.time_epoch = u64::from_be_bytes(epoch);
        self.v.da_anchor_ms = now;
        self.v.phase = Phase::NeedsStartup;
    }

    /// `TPM_SIGNAL_NV_ON` / `NV_OFF`: while off, commands that would write
    /// NV fail with `TPM_RC_NV_UNAVAILABLE`.
    pub fn set_nv_available(&mut self, on: bool) {
        self.v.nv_available = on;
    }

    /// _TPM_Hash_Start (Part 1, 34.3: DRTM). Starts an event sequence over
    /// every active bank.
    pub fn hash_start(&mut self) {
        if matches!(self.v.phase, Phase::PowerOff | Phase::Failure) {
            return;
        }
        let algs = if self.v.phase == Phase::Operational {
            self.v.pcrs.algs()
        } else {
            self.p.pcr_allocation.clone()
        };
        self.v.drtm_hash = Some(algs.iter().map(|a| a.start()).collect());
    }

    /// _TPM_Hash_Data.
    pub fn hash_data(&mut self, data: &[u8]) {
        if let Some(hs) = self.v.drtm_hash.as_mut() {
            for h in hs {
                h.update(data);
            }
        }
    }

    /// _TPM_Hash_End: after Startup, PCR 17-22 are reset to zero and PCR 17
    /// is extended with the digest (DRTM); before Startup it is the H-CRTM
    /// event: PCR 0 will start at locality 4 and is extended.
    pub fn hash_end(&mut self) {
        let Some(hs) = self.v.drtm_hash.take() else {
            return;
        };
        if self.v.phase == Phase::Operational {
            for i in 17..=22 {
                self.v.pcrs.set_all(i, 0);
            }
            for h in hs {
                let alg = h.alg();
                let d = h.finish();
                self.v.pcrs.extend(alg, 17, &d);
            }
            self.v.pcr_update_counter = self.v.pcr_update_counter.wrapping_add(1);
        }
    }

    /// Execute one command and return its response.
    pub fn execute(&mut self, locality: u8, command: &[u8]) -> Vec<u8> {
        match self.v.phase {
            Phase::PowerOff => return error_response(Rc::FAILURE),
            Phase::Failure => return self.execute_in_failure_mode(command),
            Phase::NeedsStartup | Phase::Operational => {}
        }
        let rsp = match self.execute_inner(locality, command) {
            Ok(rsp) => rsp,
            Err(rc) => error_response(rc),
        };
        if rsp.len() > self.config.max_response_size {
            return error_response(Rc::SIZE);
        }
        rsp
    }

    /// Execute into a caller buffer; returns the response length. A buffer
    /// too small for the response gets a 10-byte `TPM_RC_SIZE` response
    /// (every buffer of at least 10 octets can hold that).
    pub fn execute_into(&mut self, locality: u8, command: &[u8], response: &mut [u8]) -> usize {
        let mut rsp = self.execute(locality, command);
        if rsp.len() > response.len() {
            rsp = error_response(Rc::SIZE);
        }
        match response.get_mut(..rsp.len()) {
            Some(dst) => {
                dst.copy_from_slice(&rsp);
                rsp.len()
            }
            None => 0,
        }
    }

    /// Failure mode (Part 1, "Failure Mode"): GetTestResult and
    /// GetCapability still answer; everything else is `TPM_RC_FAILURE`.
    fn execute_in_failure_mode(&mut self, command: &[u8]) -> Vec<u8> {
        let mut r = Reader::new(command);
        let code = r
            .take(6)
            .and_then(|_| r.u32())
            .map(CommandCode)
            .unwrap_or_default();
        if code == cc::GETTESTRESULT || code == cc::GETCAPABILITY {
            if let Ok(rsp) = self.execute_inner(0, command) {
                return rsp;
            }
        }
        error_response(Rc::FAILURE)
    }

    fn execute_inner(&mut self, locality: u8, command: &[u8]) -> TpmResult<Vec<u8>> {
        // a) header
        let mut r = Reader::new(command);
        let tag: StructTag = r.read()?;
        if tag != st::SESSIONS && tag != st::NO_SESSIONS {
            return Err(Rc::BAD_TAG);
        }
        let size = r.u32()?;
        if usize::try_from(size).ok() != Some(command.len())
            || command.len() > self.config.max_command_size
        {
            return Err(Rc::COMMAND_SIZE);
        }
        let code: CommandCode = r.read()?;
        self.v.last_command = code.0;
        let def = commands::lookup(code).ok_or(Rc::COMMAND_CODE)?;
        let started = self.v.phase == Phase::Operational;
        if self.v.phase == Phase::Failure {
            if code != cc::GETTESTRESULT && code != cc::GETCAPABILITY {
                return Err(Rc::FAILURE);
            }
        } else if started == (code == cc::STARTUP) {
            return Err(Rc::INITIALIZE);
        }
        if started {
            // DA self-healing follows TPM time at every command (Part 1,
            // 19.8.4), so TPM_PT_LOCKOUT_COUNTER and inLockout are current.
            self.da_tick();
        }
        // b, c) handle area and entity checks
        // At most 7 handles (TPMA_CC.cHandles is 3 bits), held in place.
        let mut handle_area = [Handle(0); 7];
        if def.handles.len() > handle_area.len() {
            return Err(Rc::FAILURE);
        }
        for ((i, spec), slot) in def.handles.iter().enumerate().zip(handle_area.iter_mut()) {
            let n = u32::try_from(i.saturating_add(1)).unwrap_or(7);
            let h: Handle = r.read().map_err(|e| e.handle(n))?;
            self.check_handle(spec.kind, h).map_err(|e| {
                if e == Rc::REFERENCE_H0 {
                    e.plus(n.saturating_sub(1))
                } else {
                    e.handle(n)
                }
            })?;
            *slot = h;
        }
        let handles = handle_area.get(..def.handles.len()).unwrap_or_default();
        // Read-Only mode (Part 1, 42.2): a command Part 3 Table 207 does
        // not permit is refused before any authorization is checked, and
        // so before any state (such as DA counters) changes.
        if self.v.startup_clear.read_only && !self.read_only_permits(def, handles) {
            return Err(Rc::READ_ONLY);
        }
        // d) authorization area
        let mut plan = None;
        let params_in: &[u8];
        if tag == st::SESSIONS {
            let auth_size = r.u32()?;
            let auth_size = usize::try_from(auth_size).map_err(|_| Rc::SIZE)?;
            if auth_size < 9 || auth_size > r.remaining() {
                return Err(Rc::SIZE);
            }
            let area = r.take(auth_size)?;
            params_in = r.rest();
            let sessions = auth::parse_sessions(area)?;
            let mut p = self.check_sessions(def, handles, sessions, params_in, locality)?;
            self.prepare_audit_cp_hash(&mut p, code, handles, params_in);
            plan = Some(p);
        } else {
            params_in = r.rest();
            if def.auth_count() > 0 {
                return Err(Rc::AUTH_MISSING);
            }
        }
        // Parameters are used in place unless a session decrypts the first.
        let decrypted: Vec<u8>;
        let params_used: &[u8] = match &plan {
            Some(p) if p.decrypt.is_some() => {
                let mut buf = params_in.to_vec();
                self.decrypt_parameter(p, &mut buf)?;
                decrypted = buf;
                &decrypted
            }
            _ => params_in,
        };
        // Command audit needs the cpHash of the command as received.
        let audit_cp = self.command_audit_cp_hash(code, handles, params_in);
        // e) parameters, handler
        if def.nv && !self.v.nv_available {
            return Err(Rc::NV_UNAVAILABLE);
        }
        // The rollback snapshot of an NV-class command, taken by the first
        // change the handler makes (see `PersistentMut`).
        let mut snapshot: Option<PersistentState> = None;
        let mut params = Params::new(params_used);
        // g, h) The response is built in one buffer: the header, room for
        // the response handle and parameterSize, then the handler writes
        // the parameters after them.
        let mut out = Writer::with_capacity(RESPONSE_CAPACITY);
        out.write(&tag);
        out.u32(0); // responseSize, patched below
        out.u32(Rc::SUCCESS.0);
        let handle_at = out.len();
        if def.r_handle {
            out.u32(0);
        }
        let param_size_at = out.len();
        if plan.is_some() {
            out.u32(0);
        }
        let params_at = out.len();
        let result = {
            let mut ctx = Ctx {
                p: PersistentMut::new(&mut self.p, def.nv.then_some(&mut snapshot)),
                v: &mut self.v,
                platform: &mut self.platform,
                config: &self.config,
                locality,
                command: code,
                dirty: false,
            };
            let res = (def.run)(&mut ctx, handles, &mut params, &mut out);
            let dirty = ctx.dirty;
            res.map(|h| (h, dirty))
        };
        let (r_handle, mut dirty) = match result {
            Ok(x) => x,
            Err(rc) => {
                if let Some(s) = snapshot {
                    self.p = s;
                }
                // DA bookkeeping from the authorization stays and is made
                // durable even though the command failed.
                if core::mem::take(&mut self.v.commit_pending) {
                    let _ = self.commit_now();
                }
                return Err(rc);
            }
        };
        if core::mem::take(&mut self.v.commit_pending) {
            dirty = true;
        }
        // The NV copy of Clock is updated at least every
        // TPM_PT_CLOCK_UPDATE milliseconds (Part 2, 10.10.2).
        let now = self.platform.monotonic_ms();
        let shift = commands::capability::CLOCK_UPDATE_SHIFT;
        if current_clock(&self.p, &self.v, now) >> shift != self.p.clock >> shift {
            dirty = true;
        }
        // A state-changing command after an orderly shutdown makes the
        // next Startup see an unorderly one (Part 3, 9.4 Shutdown).
        let orderly_lost = def.nv && code != cc::SHUTDOWN && self.p.orderly.is_orderly();
        if orderly_lost {
            dirty = true;
        }
        // A failed commit rolls back to the state before the command: the
        // snapshot is still the unchanged state if the handler changed
        // nothing.
        if dirty && def.nv && snapshot.is_none() {
            snapshot = Some(self.p.clone());
        }
        if orderly_lost {
            self.p.orderly = crate::state::Orderly::None;
        }
        if dirty {
            self.fold_clock();
            let committed = self
                .p
                .to_bytes()
                .map_err(|_| PlatformError::CommitFailed)
                .and_then(|bytes| self.platform.commit(&bytes));
            if committed.is_err() {
                if let Some(s) = snapshot {
                    self.p = s;
                }
                return Err(Rc::NV_UNAVAILABLE);
            }
        }
        let mut rsp = out.into_vec();
        if def.r_handle {
            let h = r_handle.unwrap_or(rh::NULL).0.to_be_bytes();
            patch(&mut rsp, handle_at, &h);
        }
        if let Some(mut plan) = plan {
            let mut ws = Writer::new();
            let params_out = rsp.get_mut(params_at..).ok_or(Rc::FAILURE)?;
            self.respond_sessions(&mut plan, code, params_out, &mut ws)?;
            if let Some(cp) = &audit_cp {
                self.command_audit_update(code, cp, rsp.get(params_at..).unwrap_or_default());
            }
            let n = rsp.len().saturating_sub(params_at);
            let n = u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
            patch(&mut rsp, param_size_at, &n);
            rsp.extend_from_slice(ws.as_slice());
        } else {
            // A command without sessions ends audit exclusivity.
            self.v.exclusive_audit_session = None;
            if let Some(cp) = &audit_cp {
                self.command_audit_update(code, cp, rsp.get(params_at..).unwrap_or_default());
            }
        }
        let len = u32::try_from(rsp.len()).unwrap_or(u32::MAX).to_be_bytes();
        patch(&mut rsp, 2, &len);
        Ok(rsp)
    }

    /// Type and existence checks of one handle (Part 3, 5.3 and the
    /// reference's EntityGetLoadStatus).
    fn check_handle(&self, kind: HandleKind, h: Handle) -> TpmResult<()> {
        let object_check = |h: Handle| -> TpmResult<()> {
            let obj = match h.ht() {
                ht::TRANSIENT => self.v.objects.get(&h.0).ok_or(Rc::REFERENCE_H0)?,
                ht::PERSISTENT => self
                    .p
                    .persistent
                    .iter()
                    .find(|o| o.evict_handle == Some(h))
                    .ok_or(Rc::HANDLE)?,
                _ => return Err(Rc::VALUE),
            };
            if self.hierarchy_enabled(obj.hierarchy) {
                Ok(())
            } else {
                Err(Rc::HIERARCHY)
            }
        };
        match kind {
            HandleKind::Object => object_check(h),
            HandleKind::Sequence => {
                if h.ht() == ht::TRANSIENT && self.v.sequences.contains_key(&h.0) {
                    Ok(())
                } else {
                    object_check(h)
                }
            }
            HandleKind::ObjectOrNull => {
                if h == rh::NULL {
                    Ok(())
                } else {
                    object_check(h)
                }
            }
            HandleKind::Entity { null } => match h.ht() {
                _ if h == rh::NULL => {
                    if null {
                        Ok(())
                    } else {
                        Err(Rc::VALUE)
                    }
                }
                ht::PERMANENT => match h {
                    rh::OWNER | rh::ENDORSEMENT | rh::PLATFORM | rh::LOCKOUT => {
                        if self.hierarchy_enabled(h) {
                            Ok(())
                        } else {
                            Err(Rc::HIERARCHY)
                        }
                    }
                    _ => Err(Rc::VALUE),
                },
                ht::PCR => {
                    if h.0 < 24 {
                        Ok(())
                    } else {
                        Err(Rc::VALUE)
                    }
                }
                ht::TRANSIENT | ht::PERSISTENT => object_check(h),
                ht::NV_INDEX => self.check_handle(HandleKind::NvIndex, h),
                _ => Err(Rc::VALUE),
            },
            HandleKind::PolicySession => {
                if h.ht() != ht::POLICY_SESSION {
                    return Err(Rc::VALUE);
                }
                match self.v.sessions.get(&h.0) {
                    Some(s) if s.loaded.is_some() => Ok(()),
                    _ => Err(Rc::REFERENCE_H0),
                }
            }
            HandleKind::Context => match h.ht() {
                ht::TRANSIENT if self.v.sequences.contains_key(&h.0) => Ok(()),
                ht::TRANSIENT => object_check(h),
                ht::HMAC_SESSION | ht::POLICY_SESSION => match self.v.sessions.get(&h.0) {
                    Some(s) if s.loaded.is_some() => Ok(()),
                    _ => Err(Rc::REFERENCE_H0),
                },
                _ => Err(Rc::VALUE),
            },
            HandleKind::NvIndex | HandleKind::NvAuth => {
                if kind == HandleKind::NvAuth && matches!(h, rh::OWNER | rh::PLATFORM) {
                    return if self.hierarchy_enabled(h) {
                        Ok(())
                    } else {
                        Err(Rc::HIERARCHY)
                    };
                }
                if h.ht() != ht::NV_INDEX {
                    return Err(Rc::VALUE);
                }
                let idx = self.p.nv.iter().find(|i| i.handle == h).ok_or(Rc::HANDLE)?;
                // Platform-created indices disappear with phEnableNV, the
                // others with shEnable (Part 1, 31.x).
                let enabled = if idx.has(crate::state::nv::nva::PLATFORMCREATE) {
                    self.v.startup_clear.ph_enable_nv
                } else {
                    self.v.startup_clear.sh_enable
                };
                if enabled {
                    Ok(())
                } else {
                    Err(Rc::HANDLE)
                }
            }
            HandleKind::Parent => match h {
                rh::OWNER | rh::ENDORSEMENT | rh::PLATFORM => {
                    if self.hierarchy_enabled(h) {
                        Ok(())
                    } else {
                        Err(Rc::HIERARCHY)
                    }
                }
                rh::NULL => Ok(()),
                _ => object_check(h),
            },
            HandleKind::Pcr { null } => {
                if (h.ht() == ht::PCR && h.0 < 24) || (null && h == rh::NULL) {
                    Ok(())
                } else {
                    Err(Rc::VALUE)
                }
            }
            HandleKind::Permanent(set) => {
                if !set.contains(&h) {
                    return Err(Rc::VALUE);
                }
                let enabled = match h {
                    rh::OWNER => self.v.startup_clear.sh_enable,
                    rh::ENDORSEMENT => self.v.startup_clear.eh_enable,
                    rh::PLATFORM | rh::PLATFORM_NV => self.v.startup_clear.ph_enable,
                    _ => true,
                };
                if enabled {
                    Ok(())
                } else {
                    Err(Rc::HIERARCHY)
                }
            }
        }
    }

    /// May `def` run in Read-Only mode with these handles (Part 3, 24.9,
    /// Table 207)?
    fn read_only_permits(&self, def: &commands::CommandDef, handles: &[Handle]) -> bool {
        use crate::state::nv::{nt, nva};
        let nv_index = |kind: Option<HandleKind>| {
            let h = match kind {
                Some(kind) => def
                    .handles
                    .iter()
                    .zip(handles)
                    .find(|(spec, _)| spec.kind == kind)
                    .map(|(_, h)| *h),
                None => handles.first().copied(),
            };
            h.and_then(|h| self.p.nv.iter().find(|i| i.handle == h))
        };
        match def.read_only {
            commands::ReadOnly::Permitted => true,
            commands::ReadOnly::NotPermitted => false,
            commands::ReadOnly::OrderlyClearIndexOnly => nv_index(Some(HandleKind::NvIndex))
                .is_some_and(|i| i.has(nva::ORDERLY | nva::CLEAR_STCLEAR)),
            commands::ReadOnly::NotWithPinIndex => !nv_index(None)
                .is_some_and(|i| matches!(i.index_type(), nt::PIN_PASS | nt::PIN_FAIL)),
        }
    }

    fn hierarchy_enabled(&self, h: Handle) -> bool {
        match h {
            rh::OWNER => self.v.startup_clear.sh_enable,
            rh::ENDORSEMENT => self.v.startup_clear.eh_enable,
            rh::PLATFORM | rh::PLATFORM_NV => self.v.startup_clear.ph_enable,
            _ => true,
        }
    }

    /// cpHash for command audit, when `code` is audited (Part 1, 22.3).
    fn command_audit_cp_hash(
        &self,
        code: CommandCode,
        handles: &[Handle],
        params: &[u8],
    ) -> Option<Vec<u8>> {
        let alg = crate::crypto::HashAlg::from_alg_id(crate::wire::AlgId(self.p.audit_alg))?;
        if self.p.audited.binary_search(&code.0).is_err() {
            return None;
        }
        let mut h = alg.start();
        h.update(&code.0.to_be_bytes());
        for x in handles {
            h.update(&crate::auth::process::entity_name(&self.p, &self.v, *x));
        }
        h.update(params);
        Some(h.finish())
    }

    /// Extend the command audit digest: `H(digest || cpHash || rpHash)`;
    /// starting a new digest increments the audit counter (committed).
    fn command_audit_update(&mut self, code: CommandCode, cp: &[u8], out: &[u8]) {
        let Some(alg) = crate::crypto::HashAlg::from_alg_id(crate::wire::AlgId(self.p.audit_alg))
        else {
            return;
        };
        if self.v.command_audit_digest.is_empty() {
            self.p.audit_counter = self.p.audit_counter.wrapping_add(1);
            self.v.command_audit_digest = alloc::vec![0u8; alg.digest_size()];
            // The counter must not go backwards: a failed commit leaves it
            // in memory and the next commit carries it.
            let _ = self.commit_now();
        }
        let rp = alg.digest_parts(&[&0u32.to_be_bytes(), &code.0.to_be_bytes(), out]);
        self.v.command_audit_digest = alg.digest_parts(&[&self.v.command_audit_digest, cp, &rp]);
    }

    /// Commit the persistent state now (used when a failing command still
    /// changed it, as a dictionary-attack failure does).
    pub(crate) fn commit_now(&mut self) -> Result<(), PlatformError> {
        self.fold_clock();
        let bytes = self.p.to_bytes().map_err(|_| PlatformError::CommitFailed)?;
        self.platform.commit(&bytes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn state() -> PersistentState {
        PersistentState::manufacture(&mut Drbg::new(&[3; 48], b"engine test"))
    }

    #[test]
    fn reading_takes_no_snapshot_the_first_change_does() {
        let mut p = state();
        let before = p.to_bytes().unwrap();
        let mut snapshot = None;
        {
            let mut m = PersistentMut::new(&mut p, Some(&mut snapshot));
            let _ = m.nv.len();
            let _ = m.clock;
            assert!(alloc::format!("{m:?}").contains("snapshot_pending: true"));
            m.clock = m.clock.wrapping_add(5);
            m.reset_count = m.reset_count.wrapping_add(1);
        }
        // The snapshot is the state before the first change, taken once.
        assert_eq!(snapshot.as_ref().unwrap().to_bytes().unwrap(), before);
        assert_ne!(p.to_bytes().unwrap(), before);
    }

    #[test]
    fn no_snapshot_without_a_slot_or_a_change() {
        let mut p = state();
        let mut snapshot = None;
        {
            let m = PersistentMut::new(&mut p, Some(&mut snapshot));
            let _ = m.nv.len();
        }
        assert!(snapshot.is_none());
        let mut m = PersistentMut::new(&mut p, None);
        m.clock = 1;
        assert_eq!(p.clock, 1);
    }
}
