//! TPM state: what survives power loss ([`PersistentState`], committed
//! through the platform) and what does not ([`VolatileState`]).
//!
//! Serialization uses `postcard`. The bytes handed to
//! [`crate::Platform::commit`] start with a schema version (see
//! [`SCHEMA_VERSION`]); loading older schemas goes through [`migrate`].

pub mod blob;
pub mod nv;
pub mod pcr;
pub mod slots;
mod v1;
mod v2;

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::{Drbg, HashAlg};

pub use pcr::PcrBanks;

/// Version of the serialized persistent-state schema.
///
/// * 1: the first schema.
/// * 2: `lockout_auth_disabled` and `nv_counter_high_water` added
///   (version 1 is read through the frozen struct in `v1`).
/// * 3: [`SavedState`] also carries the NV Reset Data of Part 1, 34.4.4
///   that lived only in memory before: `clearCount`, the context counter,
///   the saved-session table (`contextArray`), `pcrUpdateCounter` and the
///   command audit digest (version 2 is read through `v2`).
pub const SCHEMA_VERSION: u16 = 3;

/// A hierarchy's policy: a hash algorithm and a digest (empty = no policy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Policy {
    /// `TPM_ALG_ID` of the digest, `TPM_ALG_NULL` (0x10) when unset.
    pub alg: u16,
    /// The digest.
    pub digest: Vec<u8>,
}

/// How the TPM was last shut down (`TPM_SU` plus "not orderly").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Orderly {
    /// No orderly shutdown since the last Startup.
    None,
    /// `Shutdown(CLEAR)`.
    Clear,
    /// `Shutdown(STATE)`: [`SavedState`] is valid.
    State,
    /// Not orderly, and a DA-protected authValue was used since the last
    /// Startup: an unorderly shutdown now counts as an authorization
    /// failure at the next Startup (Part 1, 19.8.6; the reference's
    /// `SU_DA_USED`). Appended last so stored states keep their encoding.
    DaUsed,
}

impl Orderly {
    /// Was the last shutdown orderly (`Shutdown(CLEAR)` or `(STATE)`)?
    pub fn is_orderly(self) -> bool {
        matches!(self, Orderly::Clear | Orderly::State)
    }
}

/// What `Shutdown(STATE)` preserves for the next Startup (Part 1, 34.4).
///
/// NV Clear Data (Part 1, 34.4.3) comes back at TPM Resume only:
/// `pcrs`, `startup_clear`, `platform_auth`, `platform_policy`. NV Reset
/// Data (34.4.4) comes back at TPM Resume and TPM Restart: everything
/// else. A TPM Reset uses none of it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SavedState {
    /// PCR values of the PCRs that are saved (PC client: 0-15 and 23... per attributes).
    pub pcrs: PcrBanks,
    /// `TPMA_STARTUP_CLEAR` flags.
    pub startup_clear: StartupClear,
    /// The null hierarchy's seed and proof survive Restart/Resume.
    pub null_seed: Vec<u8>,
    /// Null hierarchy proof.
    pub null_proof: Vec<u8>,
    /// Platform auth and policy survive Resume only.
    pub platform_auth: Vec<u8>,
    /// Platform policy.
    pub platform_policy: Policy,
    /// `clearCount`: TPM Restarts since the last TPM Reset; binds the
    /// contexts of stClear objects (Part 1, 27.3.2).
    pub clear_count: u32,
    /// `contextCounter`: the sequence number of the next saved context.
    pub context_counter: u64,
    /// `contextArray`: the active sessions whose contexts were saved, each
    /// with the sequence number of the one context that may be loaded
    /// (Part 1, 27.5). Sessions loaded at `Shutdown(STATE)` are not here:
    /// every Startup ends them.
    pub sessions: Vec<SavedSession>,
    /// `pcrUpdateCounter`.
    pub pcr_update_counter: u32,
    /// The command audit digest (empty when reset).
    pub command_audit_digest: Vec<u8>,
}

impl Drop for SavedState {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.null_seed.zeroize();
        self.null_proof.zeroize();
        self.platform_auth.zeroize();
    }
}

/// A session whose context is saved, as `Shutdown(STATE)` records it. The
/// session itself (nonces, sessionKey, policy) is in the context the
/// caller holds, not in the TPM's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSession {
    /// The session handle.
    pub handle: u32,
    /// Sequence number of its latest saved context.
    pub sequence: u64,
}

/// `TPMA_STARTUP_CLEAR` (Part 2, 8.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartupClear {
    /// Platform hierarchy enabled.
    pub ph_enable: bool,
    /// Storage hierarchy enabled.
    pub sh_enable: bool,
    /// Endorsement hierarchy enabled.
    pub eh_enable: bool,
    /// Platform NV indices enabled.
    pub ph_enable_nv: bool,
    /// Read-Only mode (`TPM2_ReadOnlyControl`, Part 1, 42): CLEAR at TPM
    /// Reset and Restart, kept by TPM Resume (saved by `Shutdown(STATE)`
    /// since schema 3).
    pub read_only: bool,
}

impl Default for StartupClear {
    fn default() -> Self {
        StartupClear {
            ph_enable: true,
            sh_enable: true,
            eh_enable: true,
            ph_enable_nv: true,
            read_only: false,
        }
    }
}

impl StartupClear {
    /// The `TPMA_STARTUP_CLEAR` bits; `orderly` is bit 31.
    pub fn bits(&self, orderly: bool) -> u32 {
        u32::from(self.ph_enable)
            | u32::from(self.sh_enable) << 1
            | u32::from(self.eh_enable) << 2
            | u32::from(self.ph_enable_nv) << 3
            | u32::from(self.read_only) << 4
            | u32::from(orderly) << 31
    }
}

/// Everything that must survive power loss. Committed through the platform
/// before a command that changed it returns success.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PersistentState {
    /// Endorsement primary seed.
    pub eps: Vec<u8>,
    /// Storage primary seed.
    pub sps: Vec<u8>,
    /// Platform primary seed.
    pub pps: Vec<u8>,
    /// Endorsement hierarchy proof (Part 1, 14.4).
    pub eh_proof: Vec<u8>,
    /// Storage hierarchy proof.
    pub sh_proof: Vec<u8>,
    /// Platform hierarchy proof.
    pub ph_proof: Vec<u8>,
    /// ownerAuth.
    pub owner_auth: Vec<u8>,
    /// endorsementAuth.
    pub endorsement_auth: Vec<u8>,
    /// lockoutAuth.
    pub lockout_auth: Vec<u8>,
    /// ownerPolicy.
    pub owner_policy: Policy,
    /// endorsementPolicy.
    pub endorsement_policy: Policy,
    /// lockoutPolicy.
    pub lockout_policy: Policy,
    /// `disableClear` (TPMA_PERMANENT).
    pub disable_clear: bool,
    /// Clock value at the last save point, in milliseconds.
    pub clock: u64,
    /// `resetCount`.
    pub reset_count: u32,
    /// `restartCount`.
    pub restart_count: u32,
    /// Total TPM Resets since manufacture (never cleared).
    pub total_reset_count: u32,
    /// PCR banks to activate at the next TPM Reset (PCR_Allocate).
    pub pcr_allocation: Vec<HashAlg>,
    /// How the TPM was last shut down.
    pub orderly: Orderly,
    /// State saved by `Shutdown(STATE)`.
    pub saved: Option<SavedState>,
    /// DA: failed authorization attempts.
    pub failed_tries: u32,
    /// DA: `maxTries`.
    pub max_tries: u32,
    /// DA: `recoveryTime` in seconds.
    pub recovery_time: u32,
    /// DA: `lockoutRecovery` in seconds.
    pub lockout_recovery: u32,
    /// lockoutAuth is disabled after a failure until lockoutRecovery passes.
    pub lockout_auth_disabled: bool,
    /// Command audit hash (`TPM_ALG_ID`; NULL when no digest is kept).
    pub audit_alg: u16,
    /// Audited command codes, sorted (Part 3, 21.2).
    pub audited: Vec<u32>,
    /// The audit counter: command audit digests started since manufacture.
    pub audit_counter: u64,
    /// Persistent objects (EvictControl), sorted by handle.
    pub persistent: Vec<crate::object::Object>,
    /// Key protecting saved contexts; new at every TPM Reset.
    pub context_key: Vec<u8>,
    /// NV indices, sorted by handle.
    pub nv: Vec<nv::NvIndex>,
    /// The largest value any deleted NV counter had: a counter's first
    /// increment starts above it (Part 3, 31.2). Never decreases.
    pub nv_counter_high_water: u64,
    /// ACT timeouts saved by `Shutdown(STATE)` for TPM Resume (Part 1,
    /// 40.2); emptied by every Startup.
    pub act_saved: Vec<crate::commands::act::SavedAct>,
}

impl PersistentState {
    /// Manufacture: fresh seeds and proofs from the DRBG, empty auths,
    /// all four PCR banks allocated (as libtpms manufactures; swtpm_setup
    /// then narrows them with PCR_Allocate if asked).
    pub fn manufacture(drbg: &mut Drbg) -> Self {
        let mut fresh = |n: usize| {
            let mut v = alloc::vec![0u8; n];
            drbg.generate(&mut v);
            v
        };
        PersistentState {
            eps: fresh(64),
            sps: fresh(64),
            pps: fresh(64),
            eh_proof: fresh(64),
            sh_proof: fresh(64),
            ph_proof: fresh(64),
            owner_auth: Vec::new(),
            endorsement_auth: Vec::new(),
            lockout_auth: Vec::new(),
            owner_policy: Policy {
                alg: 0x10,
                digest: Vec::new(),
            },
            endorsement_policy: Policy {
                alg: 0x10,
                digest: Vec::new(),
            },
            lockout_policy: Policy {
                alg: 0x10,
                digest: Vec::new(),
            },
            disable_clear: false,
            clock: 0,
            reset_count: 0,
            restart_count: 0,
            total_reset_count: 0,
            pcr_allocation: HashAlg::ALL.to_vec(),
            orderly: Orderly::Clear,
            saved: None,
            failed_tries: 0,
            max_tries: 3,
            recovery_time: 1000,
            lockout_recovery: 1000,
            lockout_auth_disabled: false,
            audit_alg: 0x000B,
            // TPM2_SetCommandCodeAuditStatus is always audited.
            audited: alloc::vec![0x0000_0140],
            audit_counter: 0,
            persistent: Vec::new(),
            context_key: fresh(32),
            nv: Vec::new(),
            nv_counter_high_water: 0,
            act_saved: Vec::new(),
        }
    }

    /// Serialize with the schema version in front.
    pub fn to_bytes(&self) -> Result<Vec<u8>, postcard::Error> {
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(&SCHEMA_VERSION.to_be_bytes());
        let body = postcard::to_allocvec(self)?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Parse bytes produced by [`PersistentState::to_bytes`] of this or an
    /// older release.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, StateLoadError> {
        let (ver, body) = bytes
            .split_first_chunk::<2>()
            .ok_or(StateLoadError::Truncated)?;
        migrate(u16::from_be_bytes(*ver), body)
    }
}

/// Why a serialized state could not be loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateLoadError {
    /// Shorter than its header.
    Truncated,
    /// Written by a newer release.
    UnknownVersion(u16),
    /// The body does not parse.
    Malformed,
}

impl core::fmt::Display for StateLoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StateLoadError::Truncated => f.write_str("state is truncated"),
            StateLoadError::UnknownVersion(v) => {
                write!(f, "state schema version {v} is unknown to this release")
            }
            StateLoadError::Malformed => f.write_str("state does not parse"),
        }
    }
}

/// Load any known schema version into the current one.
pub fn migrate(version: u16, body: &[u8]) -> Result<PersistentState, StateLoadError> {
    match version {
        SCHEMA_VERSION => postcard::from_bytes(body).map_err(|_| StateLoadError::Malformed),
        2 => v2::migrate(body),
        1 => v1::migrate(body),
        v => Err(StateLoadError::UnknownVersion(v)),
    }
}

/// An active session.
#[derive(Debug)]
pub struct SessionSlot {
    /// The session while loaded.
    pub loaded: Option<crate::auth::session::Session>,
    /// Sequence of its saved context while saved.
    pub saved_sequence: Option<u64>,
}

/// Where the TPM is in its life cycle (Part 1, "TPM Operational States").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No power.
    PowerOff,
    /// After _TPM_Init, waiting for `TPM2_Startup`.
    NeedsStartup,
    /// Startup done.
    Operational,
    /// A fatal error happened; only GetTestResult and GetCapability work.
    Failure,
}

/// State that does not survive power loss.
#[derive(Debug)]
pub struct VolatileState {
    /// Life-cycle phase.
    pub phase: Phase,
    /// The DRBG.
    pub drbg: Drbg,
    /// PCR values of the active banks.
    pub pcrs: PcrBanks,
    /// `pcrUpdateCounter`.
    pub pcr_update_counter: u32,
    /// `TPMA_STARTUP_CLEAR`.
    pub startup_clear: StartupClear,
    /// Null hierarchy seed (new at each TPM Reset).
    pub null_seed: Vec<u8>,
    /// Null hierarchy proof.
    pub null_proof: Vec<u8>,
    /// platformAuth (cleared at TPM Reset and Restart).
    pub platform_auth: Vec<u8>,
    /// platformPolicy.
    pub platform_policy: Policy,
    /// Monotonic time of the last _TPM_Init.
    pub init_ms: u64,
    /// Monotonic time when `PersistentState::clock` was last synced.
    pub clock_sync_ms: u64,
    /// Whether a clock value was reported that may be lost (TPMS_CLOCK_INFO.safe).
    pub clock_safe: bool,
    /// NV is available (`TPM_SIGNAL_NV_ON`).
    pub nv_available: bool,
    /// The command most recently executed, for the swtpm auto-shutdown rule.
    pub last_command: u32,
    /// A self test has been run.
    pub tested: bool,
    /// PCRs selected by PCR_Allocate that are waiting for a reset (mirror
    /// of `PersistentState::pcr_allocation` at the last reset).
    pub active_banks: Vec<HashAlg>,
    /// Loaded transient objects by handle.
    pub objects: alloc::collections::BTreeMap<u32, crate::object::Object>,
    /// Active sessions by handle: loaded (Some) or saved (None, with the
    /// sequence number of the one context that may be loaded).
    pub sessions: alloc::collections::BTreeMap<u32, SessionSlot>,
    /// Persistent state changed during authorization (DA bookkeeping) and
    /// must be committed with the command, even one that changes nothing else.
    pub commit_pending: bool,
    /// The last Startup followed a matching orderly Shutdown
    /// (`TPMA_STARTUP_CLEAR.orderly`).
    pub startup_orderly: bool,
    /// The command audit digest; empty when reset (Part 1, 22.3).
    pub command_audit_digest: Vec<u8>,
    /// The session that is the exclusive audit session, if any.
    pub exclusive_audit_session: Option<u32>,
    /// A value that changes at every _TPM_Init (`timeEpoch` for tickets).
    pub time_epoch: u64,
    /// Start of the current DA recovery interval (monotonic ms).
    pub da_anchor_ms: u64,
    /// When lockoutAuth was disabled (monotonic ms).
    pub lockout_disabled_ms: u64,
    /// Context sequence counter (Part 1, 27.5; saved by `Shutdown(STATE)`,
    /// reset at TPM Reset).
    pub context_counter: u64,
    /// `clearCount` (Part 1, 34.4.4): TPM Restarts since the last TPM
    /// Reset; part of the binding of stClear object contexts.
    pub clear_count: u32,
    /// Recently derived primary objects: (key, public, sensitive).
    pub primary_cache: Vec<(
        Vec<u8>,
        crate::wire::object::Public,
        crate::wire::object::Sensitive,
    )>,
    /// DRTM: a `_TPM_Hash_Start` sequence is in progress.
    pub drtm_hash: Option<alloc::vec::Vec<crate::crypto::Hasher>>,
    /// Hash, HMAC and event sequence objects by handle (transient handles
    /// shared with `objects`; both count against `max_loaded_objects`).
    pub sequences: alloc::collections::BTreeMap<u32, crate::commands::sequence::Sequence>,
    /// Clock rate adjustment in parts per million (TPM2_ClockRateAdjust).
    pub clock_rate_ppm: i32,
    /// Commit state of TPM2_Commit / TPM2_EC_Ephemeral (Part 1, 44.2).
    pub commit: crate::commands::ec::CommitState,
    /// Authenticated countdown timers (Part 1, 40).
    pub act: crate::commands::act::ActState,
}
