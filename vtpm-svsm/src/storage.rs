//! The SVSM platform: entropy, a clock, and the sealed TPM state kept in
//! two slots of a store the untrusted host provides.
//!
//! Every commit seals the new state (fresh random GCM nonce, generation + 1)
//! and writes it to the slot that does **not** hold the newest state
//! ([`vtpm_core::state::slots`]), so a write the host tears or drops leaves
//! the previous state intact. At start-up [`start`] reads both slots and
//! lets [`slots::choose`] pick the newest authentic one; it manufactures a
//! fresh TPM **only** when both slots are empty and refuses, with a reason,
//! anything else it cannot open (corruption, a foreign key, rollback below
//! a remembered generation).

use alloc::vec::Vec;
use core::fmt;

use vtpm_core::state::blob::{seal, SealingKey, MAX_BLOB_SIZE, NONCE_LEN};
use vtpm_core::state::slots::{self, LoadError, Position, Slot, SlotReport};
use vtpm_core::{Config, Platform, PlatformError, StateError, Tpm};
use zeroize::Zeroize;

/// Why the host store failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreError {
    /// The store is not there (no device, not connected).
    Unavailable,
    /// The read or write failed.
    Io,
    /// A slot holds more than [`MAX_BLOB_SIZE`] bytes.
    TooLarge,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreError::Unavailable => "state store unavailable",
            StoreError::Io => "state store I/O error",
            StoreError::TooLarge => "state store slot larger than the blob limit",
        })
    }
}

impl core::error::Error for StoreError {}

/// Two slots of opaque bytes kept by the host (a virtio-blk region, a
/// host-shared buffer, a file...). Nothing read back is trusted: blobs are
/// authenticated when opened.
pub trait BlobStore {
    /// The bytes in `slot`, `None` if it was never written or was erased.
    /// Must refuse ([`StoreError::TooLarge`]) to return more than
    /// [`MAX_BLOB_SIZE`] bytes.
    fn read_slot(&mut self, slot: Slot) -> Result<Option<Vec<u8>>, StoreError>;
    /// Replace the contents of `slot`. Returns only once the host says the
    /// bytes are durable.
    fn write_slot(&mut self, slot: Slot, blob: &[u8]) -> Result<(), StoreError>;
}

/// The entropy source could give no bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EntropyError;

impl fmt::Display for EntropyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("entropy source failed")
    }
}

/// Entropy fit for seeding a DRBG: in an SVSM, `RDSEED` (falling back to
/// `RDRAND`), retried a bounded number of times, failing rather than
/// returning weak bytes.
pub trait EntropySource {
    /// Fill `buf` entirely, or fail.
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), EntropyError>;
}

/// A millisecond clock. [`SvsmPlatform`] makes it monotonic whatever it
/// returns (a clock that goes back is held at its highest value).
pub trait Clock {
    /// Milliseconds since an arbitrary origin.
    fn now_ms(&mut self) -> u64;
}

/// Something that remembers the newest generation outside the host's reach
/// (a remote ledger, a monotonic counter, a value sealed elsewhere), so
/// that a replayed older blob is refused as rollback.
///
/// SNP gives guests no monotonic counter, so there is no default witness:
/// [`NoRollbackGuard`] remembers nothing, and then the host *can* replay an
/// older pair of slots undetected.
pub trait RollbackGuard {
    /// The newest generation known to have been committed, if known.
    fn min_generation(&mut self) -> Option<u64>;
    /// A blob of this generation is now durable. An error makes the commit
    /// fail (the TPM command returns `TPM_RC_NV_UNAVAILABLE`).
    fn advance(&mut self, generation: u64) -> Result<(), StoreError>;
}

/// The rollback guard that remembers nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NoRollbackGuard;

impl RollbackGuard for NoRollbackGuard {
    fn min_generation(&mut self) -> Option<u64> {
        None
    }
    fn advance(&mut self, _generation: u64) -> Result<(), StoreError> {
        Ok(())
    }
}

/// The [`Platform`] of a TPM running in an SVSM.
pub struct SvsmPlatform<S, E, C, G = NoRollbackGuard> {
    store: S,
    entropy: E,
    clock: C,
    guard: G,
    key: SealingKey,
    /// Where the newest durable state is; `None` before the first commit.
    newest: Option<Position>,
    last_ms: u64,
    last_commit_error: Option<CommitError>,
}

/// Why the last commit failed (the engine only learns "it failed").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommitError {
    /// The generation counter is exhausted.
    GenerationExhausted,
    /// No entropy for the nonce.
    Entropy,
    /// The state is too large to seal.
    Seal,
    /// The store refused the write.
    Store(StoreError),
    /// The rollback guard refused to advance.
    Guard(StoreError),
}

impl fmt::Display for CommitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommitError::GenerationExhausted => f.write_str("generation counter exhausted"),
            CommitError::Entropy => f.write_str("no entropy for the blob nonce"),
            CommitError::Seal => f.write_str("state too large to seal"),
            CommitError::Store(e) => write!(f, "writing the sealed state failed: {e}"),
            CommitError::Guard(e) => write!(f, "recording the new generation failed: {e}"),
        }
    }
}

impl<S, E, C, G> fmt::Debug for SvsmPlatform<S, E, C, G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SvsmPlatform")
            .field("key", &self.key)
            .field("newest", &self.newest)
            .field("last_commit_error", &self.last_commit_error)
            .finish_non_exhaustive()
    }
}

impl<S: BlobStore, E: EntropySource, C: Clock, G: RollbackGuard> SvsmPlatform<S, E, C, G> {
    /// A platform with nothing committed yet.
    fn new(store: S, entropy: E, clock: C, guard: G, key: SealingKey) -> Self {
        SvsmPlatform {
            store,
            entropy,
            clock,
            guard,
            key,
            newest: None,
            last_ms: 0,
            last_commit_error: None,
        }
    }

    /// Where the newest durable state is (`None` before the first commit).
    pub fn newest(&self) -> Option<Position> {
        self.newest
    }

    /// Why the most recent commit failed, if it did.
    pub fn last_commit_error(&self) -> Option<CommitError> {
        self.last_commit_error
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, mutably (tests use it to tamper with slots).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The rollback guard.
    pub fn guard(&self) -> &G {
        &self.guard
    }

    /// The entropy source, mutably.
    pub fn entropy_mut(&mut self) -> &mut E {
        &mut self.entropy
    }

    /// The clock, mutably.
    pub fn clock_mut(&mut self) -> &mut C {
        &mut self.clock
    }

    fn try_commit(&mut self, state: &[u8]) -> Result<(), CommitError> {
        let pos = slots::next_write(self.newest).ok_or(CommitError::GenerationExhausted)?;
        let mut nonce = [0u8; NONCE_LEN];
        self.entropy
            .fill(&mut nonce)
            .map_err(|_| CommitError::Entropy)?;
        let mut blob =
            seal(&self.key, pos.generation, &nonce, state).map_err(|_| CommitError::Seal)?;
        let written = self.store.write_slot(pos.slot, &blob);
        blob.zeroize();
        written.map_err(CommitError::Store)?;
        // The slot now holds the newest state, whatever the guard says.
        self.newest = Some(pos);
        self.guard
            .advance(pos.generation)
            .map_err(CommitError::Guard)
    }
}

impl<S: BlobStore, E: EntropySource, C: Clock, G: RollbackGuard> Platform
    for SvsmPlatform<S, E, C, G>
{
    fn fill_entropy(&mut self, buf: &mut [u8]) -> Result<(), PlatformError> {
        self.entropy
            .fill(buf)
            .map_err(|_| PlatformError::EntropyUnavailable)
    }

    fn monotonic_ms(&mut self) -> u64 {
        let now = self.clock.now_ms();
        self.last_ms = self.last_ms.max(now);
        self.last_ms
    }

    fn commit(&mut self, state: &[u8]) -> Result<(), PlatformError> {
        let result = self.try_commit(state);
        self.last_commit_error = result.err();
        result.map_err(|_| PlatformError::CommitFailed)
    }
}

/// How [`start`] got its TPM.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StartOutcome {
    /// Both slots were empty: a new TPM was manufactured and its state
    /// committed (slot A, generation 1).
    Manufactured,
    /// A stored state was loaded.
    Loaded {
        /// Where it was.
        position: Position,
        /// What the other slot held (a damaged slot is worth a warning).
        other: SlotReport,
    },
}

/// Why [`start`] refused to bring up a TPM. Nothing here is ever answered
/// by manufacturing a fresh TPM: that would silently replace the guest's
/// keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartError {
    /// A slot could not be read.
    Store {
        /// The slot.
        slot: Slot,
        /// Why.
        error: StoreError,
    },
    /// No stored state could be opened (corruption, tampering, a foreign
    /// key, rollback...).
    Load(LoadError),
    /// The engine refused the opened state, or manufacturing failed.
    Engine(StateError),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Store { slot, error } => {
                write!(f, "vTPM state slot {slot} cannot be read: {error}")
            }
            StartError::Load(e) => write!(f, "vTPM state refused: {e}"),
            StartError::Engine(e) => write!(f, "vTPM engine start failed: {e}"),
        }
    }
}

impl core::error::Error for StartError {}

/// Everything [`start`] needs from the SVSM.
#[derive(Debug)]
pub struct StartParams<S, E, C, G = NoRollbackGuard> {
    /// The host blob store.
    pub store: S,
    /// The entropy source.
    pub entropy: E,
    /// The clock.
    pub clock: C,
    /// The rollback guard.
    pub guard: G,
    /// The sealing key ([`crate::snp::derive_sealing_key`]).
    pub key: SealingKey,
    /// The engine configuration (its command/response limits must fit the
    /// page: 4087/4092, the default).
    pub config: Config,
}

/// A TPM on the SVSM platform.
pub type SvsmTpm<S, E, C, G = NoRollbackGuard> = Tpm<SvsmPlatform<S, E, C, G>>;

/// A TPM [`start`] brought up, and how.
#[derive(Debug)]
pub struct Started<S, E, C, G = NoRollbackGuard>
where
    S: BlobStore,
    E: EntropySource,
    C: Clock,
    G: RollbackGuard,
{
    /// The powered-on engine, waiting for `TPM2_Startup`.
    pub tpm: SvsmTpm<S, E, C, G>,
    /// Loaded or manufactured.
    pub outcome: StartOutcome,
}

/// Bring the TPM up: load the newest stored state, or manufacture one when
/// both slots are empty, then power it on (`TPM_SIGNAL_POWER_ON`, NV on).
/// The guest firmware sends `TPM2_Startup`.
pub fn start<S, E, C, G>(params: StartParams<S, E, C, G>) -> Result<Started<S, E, C, G>, StartError>
where
    S: BlobStore,
    E: EntropySource,
    C: Clock,
    G: RollbackGuard,
{
    let StartParams {
        mut store,
        entropy,
        clock,
        mut guard,
        key,
        config,
    } = params;
    let read = |store: &mut S, slot: Slot| -> Result<Option<Vec<u8>>, StartError> {
        match store.read_slot(slot) {
            Ok(Some(b)) if b.len() > MAX_BLOB_SIZE => Err(StartError::Store {
                slot,
                error: StoreError::TooLarge,
            }),
            Ok(b) => Ok(b),
            Err(error) => Err(StartError::Store { slot, error }),
        }
    };
    let a = read(&mut store, Slot::A)?;
    let b = read(&mut store, Slot::B)?;
    let min_generation = guard.min_generation();
    let chosen = slots::choose(a.as_deref(), b.as_deref(), &key, min_generation);
    drop((a, b));

    let mut platform = SvsmPlatform::new(store, entropy, clock, guard, key);
    let (mut tpm, outcome) = match chosen {
        Ok(chosen) => {
            let position = chosen.position();
            let other = chosen.other;
            platform.newest = Some(position);
            let tpm = Tpm::load(platform, config, chosen.plaintext.as_slice())
                .map_err(StartError::Engine)?;
            (tpm, StartOutcome::Loaded { position, other })
        }
        Err(LoadError::Empty) => {
            let tpm = Tpm::manufacture(platform, config).map_err(StartError::Engine)?;
            (tpm, StartOutcome::Manufactured)
        }
        Err(e) => return Err(StartError::Load(e)),
    };
    tpm.power_on();
    tpm.set_nv_available(true);
    Ok(Started { tpm, outcome })
}
