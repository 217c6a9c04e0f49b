//! The engine's [`Platform`] on a host: getrandom, `Instant`, and the
//! sealed A/B state store of [`crate::store`]; plus opening a TPM from a
//! state directory (load, first manufacture, `--manufacture`, migration of
//! the unsealed state file of earlier releases). See docs/state.md.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use anyhow::{anyhow, bail, Context as _};
use vtpm_core::state::blob::BlobHeader;
use vtpm_core::state::slots::{LoadError, Position, Slot, SlotReport};
use vtpm_core::state::PersistentState;
use vtpm_core::{Config, Platform, PlatformError, Tpm};

use crate::keys::{self, KeySpec, Material};
use crate::store::{
    self, is_damage, slot_file, DirLock, Remembered, Slots, Store, GENERATION_FILE, LEGACY_FILE,
    LEGACY_MIGRATED,
};

/// What to do when a state cannot be loaded (appended to the error).
pub const REFUSAL_ADVICE: &str = "The state is never replaced silently. Check the key options \
(--key-file, --key-fd, --passphrase-file, --passphrase-fd), run `vtpm-host-sim verify --state \
DIR` for a per-slot report, restore the state files from a backup, or start over with \
--manufacture (this destroys the TPM's keys and NV data).";

/// The host platform of one simulated TPM.
#[derive(Debug)]
pub struct HostPlatform {
    start: Instant,
    cancel: Arc<AtomicBool>,
    store: Mutex<Store>,
}

impl HostPlatform {
    /// A platform committing through `store`.
    pub fn new(store: Store) -> Self {
        HostPlatform {
            start: Instant::now(),
            cancel: Arc::default(),
            store: Mutex::new(store),
        }
    }

    /// The cancel flag (shared with whoever signals cancellation).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the newest committed state is.
    pub fn newest(&self) -> Option<Position> {
        self.store().newest()
    }

    /// Seal `state` and commit it durably to the next slot (see
    /// [`Store::commit`]): after this returns the new state survives a
    /// crash or power loss, and a crash midway leaves the old state intact.
    pub fn write_state(&self, state: &[u8]) -> io::Result<()> {
        self.store().commit(state).map(|_| ())
    }
}

impl Platform for HostPlatform {
    fn fill_entropy(&mut self, buf: &mut [u8]) -> Result<(), PlatformError> {
        getrandom::fill(buf).map_err(|e| {
            tracing::error!("getrandom failed: {e}");
            PlatformError::EntropyUnavailable
        })
    }

    fn monotonic_ms(&mut self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn commit(&mut self, state: &[u8]) -> Result<(), PlatformError> {
        let mut store = self.store();
        match store.commit(state) {
            Ok(pos) => {
                tracing::trace!(
                    bytes = state.len(),
                    "state committed: generation {} in slot {}",
                    pos.generation,
                    pos.slot
                );
                Ok(())
            }
            Err(e) => {
                tracing::error!(
                    "cannot commit the TPM state in {}: {e}",
                    store.dir().display()
                );
                Err(PlatformError::CommitFailed)
            }
        }
    }

    fn cancel_requested(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}

/// The generation file, with a warning when it is unreadable.
pub fn remembered(dir: &Path) -> Option<u64> {
    match Remembered::read(dir) {
        Remembered::Unreadable(why) => {
            tracing::warn!("{why}; ignoring it (no rollback detection for this load)");
            None
        }
        r => r.generation(),
    }
}

/// Open the TPM kept in `dir` (created, mode 0700, if missing), sealed
/// with the key from `spec`:
///
/// * sealed state present: load the newest valid slot, or fail with the
///   reason (never manufacture over it);
/// * only the unsealed `vtpm-state.bin` of an earlier release: migrate it;
/// * nothing: manufacture a new TPM;
/// * `manufacture`: manufacture a new TPM whatever is there, and say what
///   was replaced.
pub fn open_tpm(
    dir: &Path,
    spec: &KeySpec,
    manufacture: bool,
    config: Config,
) -> anyhow::Result<Tpm<HostPlatform>> {
    let material = keys::read_material(spec)?;
    store::create_dir(dir)?;
    let lock = DirLock::take(dir)?;
    let remembered = remembered(dir);
    let slots = Slots::read(dir)?;
    let legacy_path = dir.join(LEGACY_FILE);
    let legacy = store::read_blob_file(&legacy_path)
        .with_context(|| format!("cannot read {}", legacy_path.display()))?;

    if manufacture {
        let Manufactured { tpm, replaced, .. } = manufacture_in(
            dir,
            &material,
            config,
            lock,
            &slots,
            remembered,
            legacy.is_some(),
        )?;
        if replaced.is_empty() {
            tracing::info!("manufactured a new TPM, state in {}", dir.display());
        } else {
            tracing::warn!(
                "--manufacture: replaced the TPM state in {}: {}",
                dir.display(),
                replaced.join("; ")
            );
        }
        return Ok(tpm);
    }

    if slots.is_empty() {
        if let Some(m) = remembered.filter(|m| *m >= 1) {
            bail!(
                "cannot load the TPM state in {}: {}; {GENERATION_FILE} remembers generation \
                 {m}.\n{REFUSAL_ADVICE}",
                dir.display(),
                LoadError::Missing { min_generation: m }
            );
        }
        if let Some(bytes) = legacy {
            return migrate(dir, &material, config, lock, &bytes);
        }
        let m = manufacture_in(dir, &material, config, lock, &slots, remembered, false)?;
        tracing::info!(
            "manufactured a new TPM, state in {}, key: {}",
            dir.display(),
            m.key
        );
        return Ok(m.tpm);
    }

    let keys = keys::existing(dir, &material).map_err(|e| {
        anyhow!(
            "cannot load the TPM state in {}: {e:#}.\n{REFUSAL_ADVICE}",
            dir.display()
        )
    })?;
    let (chosen, i) = store::open_with(&slots, &keys, remembered).map_err(|e| {
        anyhow!(
            "cannot load the TPM state in {}: {e}.\n{REFUSAL_ADVICE}",
            dir.display()
        )
    })?;
    let key = keys
        .into_iter()
        .nth(i)
        .ok_or_else(|| anyhow!("internal error: no key {i}"))?;
    report_other(dir, chosen.slot, chosen.generation(), &chosen.other);
    if key.staged {
        let done = keys::finish(dir, key.kind, true)?;
        tracing::warn!(
            "completed an interrupted rekey: the state opened with the new key ({}); {}",
            key.origin,
            done.join(", ")
        );
    } else {
        keys::discard_staged(dir)?;
    }
    let origin = format!("{} (key id {})", key.origin, key.id_hex());
    let (slot, generation) = (chosen.slot, chosen.generation());
    let mut store = Store::new(dir, key.key, Some(chosen.position()), remembered, lock);
    store.remember(generation);
    let tpm = Tpm::load(
        HostPlatform::new(store),
        config,
        chosen.plaintext.as_slice(),
    )
    .map_err(|e| {
        anyhow!(
            "slot {slot} of {} (generation {generation}) is authentic, but its contents \
                 cannot be loaded: {e}.\n{REFUSAL_ADVICE}",
            dir.display()
        )
    })?;
    if legacy.is_some() {
        retire_legacy(dir);
    }
    tracing::info!(
        "loaded TPM state from {}: generation {generation}, slot {slot}, key: {origin}",
        dir.display()
    );
    Ok(tpm)
}

/// Log what became of the slot that was not loaded.
fn report_other(dir: &Path, slot: Slot, generation: u64, other: &SlotReport) {
    if let SlotReport::Invalid(e) = other {
        let path = dir.join(slot_file(slot.other()));
        if is_damage(e) {
            tracing::warn!(
                "ignoring slot {} ({}): {e}; loaded generation {generation} from slot {slot}",
                slot.other(),
                path.display()
            );
        } else {
            tracing::warn!(
                "ignoring slot {} ({}), which holds an older state: {e}",
                slot.other(),
                path.display()
            );
        }
    }
}

/// A sealed state loaded although the unsealed legacy file is still there
/// (a migration interrupted after its first commit): set it aside.
fn retire_legacy(dir: &Path) {
    let from = dir.join(LEGACY_FILE);
    let to = dir.join(LEGACY_MIGRATED);
    if to.exists() {
        tracing::warn!(
            "{} is ignored: the sealed state is in use (and {} already exists)",
            from.display(),
            to.display()
        );
        return;
    }
    match std::fs::rename(&from, &to) {
        Ok(()) => tracing::warn!(
            "{} is ignored, the sealed state is in use; renamed it to {} (unencrypted: delete it)",
            from.display(),
            to.display()
        ),
        Err(e) => tracing::warn!("{} is ignored; cannot rename it: {e}", from.display()),
    }
}

/// Migrate the unsealed state of an earlier release: load it, commit it
/// sealed (slot A), then rename it to `vtpm-state.bin.migrated`.
fn migrate(
    dir: &Path,
    material: &Material,
    config: Config,
    lock: DirLock,
    bytes: &[u8],
) -> anyhow::Result<Tpm<HostPlatform>> {
    let legacy = dir.join(LEGACY_FILE);
    if let Err(e) = PersistentState::from_bytes(bytes) {
        bail!(
            "TPM state file {} exists but cannot be loaded: {e}.\n\
             Refusing to overwrite it. Move it away, or start with --manufacture to replace it \
             by a new TPM (this destroys its keys and NV data).",
            legacy.display()
        );
    }
    let key = keys::create(dir, material)?;
    let origin = format!("{} (key id {})", key.origin, key.id_hex());
    let kind = key.kind;
    let store = Store::new(dir, key.key, None, None, lock);
    let mut tpm = Tpm::load(HostPlatform::new(store), config, bytes)
        .map_err(|e| anyhow!("cannot load {}: {e}", legacy.display()))?;
    let state = tpm
        .serialize_state()
        .ok_or_else(|| anyhow!("cannot serialize the migrated state"))?;
    tpm.platform()
        .write_state(&state)
        .with_context(|| format!("cannot write the sealed state in {}", dir.display()))?;
    keys::finish(dir, kind, false)?;
    let migrated = dir.join(LEGACY_MIGRATED);
    std::fs::rename(&legacy, &migrated)
        .and_then(|()| store::sync_dir(dir))
        .with_context(|| format!("cannot rename {}", legacy.display()))?;
    tracing::warn!(
        "migrated the unsealed TPM state {} to the sealed format (slot A, generation 1, key: \
         {origin}); the old file is now {} and is NOT encrypted: delete it once the TPM works",
        legacy.display(),
        migrated.display()
    );
    Ok(tpm)
}

/// What a slot holds, from its header alone (for "replaced ..." messages).
pub fn describe_slot(bytes: &[u8]) -> String {
    match BlobHeader::parse(bytes) {
        Ok(h) => format!(
            "generation {}, key id {}",
            h.generation,
            keys::hex(&h.key_id)
        ),
        Err(e) => format!("unreadable: {e}"),
    }
}

/// A TPM made by [`manufacture_in`].
#[derive(Debug)]
pub struct Manufactured {
    /// The TPM (powered off).
    pub tpm: Tpm<HostPlatform>,
    /// What it replaced (empty if nothing).
    pub replaced: Vec<String>,
    /// Where its key came from, with the key id.
    pub key: String,
}

/// Manufacture a new TPM in `dir` and commit it to both slots, continuing
/// the generation counter past anything that was there.
pub fn manufacture_in(
    dir: &Path,
    material: &Material,
    config: Config,
    lock: DirLock,
    slots: &Slots,
    remembered: Option<u64>,
    legacy: bool,
) -> anyhow::Result<Manufactured> {
    let mut replaced = Vec::new();
    for s in [Slot::A, Slot::B] {
        if let Some(b) = slots.get(s) {
            replaced.push(format!("slot {s} ({}, {})", slot_file(s), describe_slot(b)));
        }
    }
    if legacy {
        replaced.push(format!("the unsealed state file {LEGACY_FILE} (removed)"));
    }
    let key = keys::create(dir, material)?;
    let kind = key.kind;
    let origin = format!("{} (key id {})", key.origin, key.id_hex());
    let base = slots.claimed_max().max(remembered.unwrap_or(0));
    let newest = (base > 0).then_some(Position {
        slot: Slot::B,
        generation: base,
    });
    let store = Store::new(dir, key.key, newest, remembered, lock);
    let mut tpm = Tpm::manufacture(HostPlatform::new(store), config)
        .map_err(|e| anyhow!("cannot manufacture a TPM in {}: {e}", dir.display()))?;
    // The first commit went to slot A; the second one replaces slot B, so
    // nothing of an earlier TPM is left.
    let state = tpm
        .serialize_state()
        .ok_or_else(|| anyhow!("cannot serialize the manufactured state"))?;
    tpm.platform()
        .write_state(&state)
        .with_context(|| format!("cannot write the state in {}", dir.display()))?;
    if legacy {
        store::remove_if_exists(&dir.join(LEGACY_FILE))?;
    }
    keys::finish(dir, kind, false)?;
    Ok(Manufactured {
        tpm,
        replaced,
        key: origin,
    })
}
