//! The sealed state on disk: two slot files written alternately, a
//! generation file, a lock (docs/state.md, "Files").
//!
//! ```text
//! DIR/vtpm-state.a      slot A: a sealed blob (vtpm_core::state::blob)
//! DIR/vtpm-state.b      slot B
//! DIR/vtpm-generation   highest generation committed here (decimal text)
//! DIR/vtpm.lock         flock(2)ed by the process that writes the state
//! ```
//!
//! A commit seals the state with a fresh random nonce and the generation
//! after the newest one, writes it to `.vtpm-state.X.tmp`, fsyncs it,
//! renames it over the slot that does *not* hold the newest state and
//! fsyncs the directory (so the commit is durable when this returns and a
//! crash at any point leaves the newest state intact), then records the
//! generation in `vtpm-generation` (atomically, without an fsync of its own:
//! the next commit's directory fsync makes it durable; it only ever lags).
//!
//! Loading goes through [`vtpm_core::state::slots::choose`] with one
//! refinement for the generation file ([`select`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use vtpm_core::state::blob::{seal, BlobError, BlobHeader, SealingKey, MAX_BLOB_SIZE, NONCE_LEN};
use vtpm_core::state::slots::{self, Chosen, LoadError, Position, Slot, SlotReport};

use crate::keys::Key;

/// Slot A's file.
pub const SLOT_A_FILE: &str = "vtpm-state.a";
/// Slot B's file.
pub const SLOT_B_FILE: &str = "vtpm-state.b";
/// The highest generation committed in this directory.
pub const GENERATION_FILE: &str = "vtpm-generation";
/// The unsealed state file of releases before the sealed format.
pub const LEGACY_FILE: &str = "vtpm-state.bin";
/// What [`LEGACY_FILE`] is renamed to once migrated.
pub const LEGACY_MIGRATED: &str = "vtpm-state.bin.migrated";
/// Held with an exclusive `flock` by whoever writes the state.
pub const LOCK_FILE: &str = "vtpm.lock";

/// The file of a slot.
pub fn slot_file(slot: Slot) -> &'static str {
    match slot {
        Slot::A => SLOT_A_FILE,
        Slot::B => SLOT_B_FILE,
    }
}

/// Create the state directory (mode 0700) if missing.
pub fn create_dir(dir: &Path) -> anyhow::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create state directory {}", dir.display()))
}

/// fsync a directory, making renames and unlinks in it durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Remove a file; `Ok(false)` if it did not exist.
pub fn remove_if_exists(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Replace `DIR/name` by `bytes` atomically (write `.name.tmp`, rename),
/// mode 0600. With `durable`, the data is fsynced before the rename and the
/// directory after it, so the new content survives power loss once this
/// returns.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8], durable: bool) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    if durable {
        f.sync_all()?;
    }
    drop(f);
    fs::rename(&tmp, dir.join(name))?;
    if durable {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Read a blob file: `None` when absent; at most one octet more than
/// [`MAX_BLOB_SIZE`] is read, so an oversized file is refused as such
/// without reading all of it.
pub fn read_blob_file(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut buf = Vec::new();
    f.take(
        u64::try_from(MAX_BLOB_SIZE)
            .unwrap_or(u64::MAX)
            .saturating_add(1),
    )
    .read_to_end(&mut buf)?;
    Ok(Some(buf))
}

/// The contents of both slot files (`None` = absent).
#[derive(Debug, Default, Clone)]
pub struct Slots {
    /// Slot A.
    pub a: Option<Vec<u8>>,
    /// Slot B.
    pub b: Option<Vec<u8>>,
}

impl Slots {
    /// Read both slot files.
    pub fn read(dir: &Path) -> anyhow::Result<Slots> {
        let read = |slot| {
            let p = dir.join(slot_file(slot));
            read_blob_file(&p).with_context(|| format!("cannot read {}", p.display()))
        };
        Ok(Slots {
            a: read(Slot::A)?,
            b: read(Slot::B)?,
        })
    }

    /// One slot's bytes.
    pub fn get(&self, slot: Slot) -> Option<&[u8]> {
        match slot {
            Slot::A => self.a.as_deref(),
            Slot::B => self.b.as_deref(),
        }
    }

    /// Neither slot file exists.
    pub fn is_empty(&self) -> bool {
        self.a.is_none() && self.b.is_none()
    }

    /// The highest generation either header claims (unauthenticated; used
    /// only to continue the counter past whatever was there).
    pub fn claimed_max(&self) -> u64 {
        [Slot::A, Slot::B]
            .into_iter()
            .filter_map(|s| self.get(s))
            .filter_map(|b| BlobHeader::parse(b).ok())
            .map(|h| h.generation)
            .max()
            .unwrap_or(0)
    }
}

/// What the generation file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remembered {
    /// No generation file.
    Absent,
    /// The highest generation committed here.
    Generation(u64),
    /// It exists but does not hold a number (ignored with a warning).
    Unreadable(String),
}

impl Remembered {
    /// Read `DIR/vtpm-generation`.
    pub fn read(dir: &Path) -> Remembered {
        let path = dir.join(GENERATION_FILE);
        match fs::read(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Remembered::Absent,
            Err(e) => Remembered::Unreadable(format!("cannot read {}: {e}", path.display())),
            Ok(b) => match std::str::from_utf8(&b)
                .ok()
                .and_then(|s| s.trim_end().parse::<u64>().ok())
            {
                Some(g) => Remembered::Generation(g),
                None => Remembered::Unreadable(format!(
                    "{} does not hold a generation number",
                    path.display()
                )),
            },
        }
    }

    /// The generation, if one is known.
    pub fn generation(&self) -> Option<u64> {
        match self {
            Remembered::Generation(g) => Some(*g),
            _ => None,
        }
    }
}

fn write_generation(dir: &Path, generation: u64) -> io::Result<()> {
    write_atomic(
        dir,
        GENERATION_FILE,
        format!("{generation}\n").as_bytes(),
        false,
    )
}

/// Damage that a torn write, bit rot or a truncation can cause, as opposed
/// to a blob that is intact but foreign (other key, newer format).
pub fn is_damage(e: &BlobError) -> bool {
    matches!(
        e,
        BlobError::TooLarge { .. }
            | BlobError::Truncated { .. }
            | BlobError::TrailingData { .. }
            | BlobError::BadMagic
            | BlobError::AuthenticationFailed
    )
}

/// Choose the state to load: [`slots::choose`], with the generation file
/// as the floor. One exception to the floor: when the slot holding the
/// remembered generation is *damaged* (see [`is_damage`]) and the other
/// slot holds the generation just before it, that one loads (with a
/// warning from the caller, since the last commit is lost) — this is what
/// the second slot is for. Anything older, or a newest slot that is absent
/// or replaced by a valid older one, is [`LoadError::Rollback`].
pub fn select(
    slots: &Slots,
    key: &SealingKey,
    remembered: Option<u64>,
) -> Result<Chosen, LoadError> {
    match slots::choose(slots.a.as_deref(), slots.b.as_deref(), key, None) {
        Err(LoadError::Empty) => match remembered {
            Some(m) if m >= slots::FIRST_GENERATION => {
                Err(LoadError::Missing { min_generation: m })
            }
            _ => Err(LoadError::Empty),
        },
        Err(e) => Err(e),
        Ok(c) => match remembered {
            Some(min) if c.generation() < min => {
                let newest_damaged = matches!(c.other, SlotReport::Invalid(e) if is_damage(&e));
                if newest_damaged && c.generation().checked_add(1) == Some(min) {
                    Ok(c)
                } else {
                    Err(LoadError::Rollback {
                        found: c.generation(),
                        min,
                    })
                }
            }
            _ => Ok(c),
        },
    }
}

/// Why no state could be loaded with any of the keys tried.
#[derive(Debug)]
pub struct OpenFailure {
    /// The error with the first (current) key.
    pub error: LoadError,
    /// Where that key came from.
    pub origin: String,
    /// Hints (e.g. "wrong passphrase?").
    pub hints: Vec<String>,
}

impl std::fmt::Display for OpenFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (key: {})", self.error, self.origin)?;
        if let LoadError::Rollback { min, .. }
        | LoadError::Missing {
            min_generation: min,
        } = self.error
        {
            write!(
                f,
                "; {GENERATION_FILE} remembers generation {min}: older or no state files were \
                 put in place"
            )?;
        }
        for h in &self.hints {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for OpenFailure {}

/// Open the state with the first of `keys` that loads it. Returns the
/// chosen state and the index of the key that opened it.
pub fn open_with(
    slots: &Slots,
    keys: &[Key],
    remembered: Option<u64>,
) -> Result<(Chosen, usize), OpenFailure> {
    let mut first: Option<(LoadError, String)> = None;
    let mut hints = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        match select(slots, &k.key, remembered) {
            Ok(c) => return Ok((c, i)),
            Err(e) => {
                hints.extend(k.hint.clone());
                if first.is_none() {
                    first = Some((e, k.origin.clone()));
                }
            }
        }
    }
    let (error, origin) = first.unwrap_or((LoadError::Empty, "none".into()));
    Err(OpenFailure {
        error,
        origin,
        hints,
    })
}

/// An exclusive `flock` on `DIR/vtpm.lock`, held while the value lives.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    /// Take the lock, failing at once if another process holds it.
    pub fn take(dir: &Path) -> anyhow::Result<DirLock> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // A process that is exiting may hold it a moment longer.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        let attempt =
            || rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive);
        let mut r = attempt();
        while r == Err(rustix::io::Errno::WOULDBLOCK) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            r = attempt();
        }
        match r {
            Ok(()) => Ok(DirLock { _file: file }),
            Err(rustix::io::Errno::WOULDBLOCK) => anyhow::bail!(
                "the state directory {} is in use by another vtpm-host-sim process \
                 (it holds {})",
                dir.display(),
                path.display()
            ),
            Err(e) => {
                Err(io::Error::from(e)).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
}

/// The writer of one state directory: seals and commits.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    key: SealingKey,
    newest: Option<Position>,
    remembered: Option<u64>,
    _lock: DirLock,
}

impl Store {
    /// A store whose newest valid state is at `newest` (`None`: nothing
    /// committed yet, the first commit goes to slot A, generation 1).
    pub fn new(
        dir: &Path,
        key: SealingKey,
        newest: Option<Position>,
        remembered: Option<u64>,
        lock: DirLock,
    ) -> Store {
        Store {
            dir: dir.to_path_buf(),
            key,
            newest,
            remembered,
            _lock: lock,
        }
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the newest committed state is.
    pub fn newest(&self) -> Option<Position> {
        self.newest
    }

    /// Seal `plaintext` with a fresh nonce as the next generation and write
    /// it durably into the slot not holding the newest state. On error
    /// nothing changed: the newest state is where it was.
    pub fn commit(&mut self, plaintext: &[u8]) -> io::Result<Position> {
        let pos = slots::next_write(self.newest)
            .ok_or_else(|| io::Error::other("the generation counter is exhausted"))?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| io::Error::other(format!("getrandom: {e}")))?;
        let blob = seal(&self.key, pos.generation, &nonce, plaintext).map_err(io::Error::other)?;
        write_atomic(&self.dir, slot_file(pos.slot), &blob, true)?;
        self.newest = Some(pos);
        if self.remembered.is_none_or(|r| pos.generation > r) {
            match write_generation(&self.dir, pos.generation) {
                Ok(()) => self.remembered = Some(pos.generation),
                Err(e) => tracing::warn!(
                    "cannot update {}: {e} (rollback detection lags behind)",
                    self.dir.join(GENERATION_FILE).display()
                ),
            }
        }
        Ok(pos)
    }

    /// Record `generation` as seen (after a load found a newer state than
    /// the generation file remembered).
    pub fn remember(&mut self, generation: u64) {
        if self.remembered.is_none_or(|r| generation > r) {
            match write_generation(&self.dir, generation) {
                Ok(()) => self.remembered = Some(generation),
                Err(e) => tracing::warn!(
                    "cannot update {}: {e}",
                    self.dir.join(GENERATION_FILE).display()
                ),
            }
        }
    }
}

/// One slot as the tools describe it.
pub fn slot_verdict(bytes: Option<&[u8]>, key: &SealingKey) -> String {
    let Some(b) = bytes else {
        return "absent".into();
    };
    match vtpm_core::state::blob::open(key, b) {
        Ok((h, _)) => format!("valid, generation {}, {} bytes", h.generation, b.len()),
        Err(e) => {
            let claimed = BlobHeader::parse(b)
                .map(|h| format!(" (its header claims generation {})", h.generation))
                .unwrap_or_default();
            format!("INVALID: {e}{claimed}, {} bytes", b.len())
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use std::time::Instant;
    use vtpm_core::crypto::{Drbg, HashAlg};
    use vtpm_core::state::nv::NvIndex;
    use vtpm_core::state::PersistentState;
    use vtpm_core::wire::Handle;

    fn temp_dir(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("vtpm-host-sim-store-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        create_dir(&d).unwrap();
        d
    }

    fn store(dir: &Path, key: [u8; 32]) -> Store {
        Store::new(
            dir,
            SealingKey::new(key),
            None,
            None,
            DirLock::take(dir).unwrap(),
        )
    }

    #[test]
    fn commits_alternate_and_the_newest_wins() {
        let dir = temp_dir("alternate");
        let mut s = store(&dir, [1; 32]);
        let k = SealingKey::new([1; 32]);
        for (i, (slot, text)) in [(Slot::A, "one"), (Slot::B, "two"), (Slot::A, "three")]
            .iter()
            .enumerate()
        {
            let p = s.commit(text.as_bytes()).unwrap();
            assert_eq!(p.slot, *slot);
            assert_eq!(p.generation, i as u64 + 1);
            let slots = Slots::read(&dir).unwrap();
            let c = select(&slots, &k, Remembered::read(&dir).generation()).unwrap();
            assert_eq!(c.plaintext.as_slice(), text.as_bytes());
        }
        assert_eq!(Remembered::read(&dir), Remembered::Generation(3));
        // Two nonces never repeat: the two slots differ even for equal states.
        s.commit(b"same").unwrap();
        s.commit(b"same").unwrap();
        let slots = Slots::read(&dir).unwrap();
        assert_ne!(
            slots.a.as_ref().unwrap()[18..30],
            slots.b.as_ref().unwrap()[18..30]
        );
        drop(s);
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn lock_is_exclusive() {
        let dir = temp_dir("lock");
        let l = DirLock::take(&dir).unwrap();
        let e = DirLock::take(&dir).unwrap_err().to_string();
        assert!(e.contains("in use by another"), "{e}");
        drop(l);
        DirLock::take(&dir).unwrap();
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn generation_file_floor() {
        let dir = temp_dir("floor");
        let k = SealingKey::new([2; 32]);
        let mut s = store(&dir, [2; 32]);
        s.commit(b"g1").unwrap();
        let old_a = fs::read(dir.join(SLOT_A_FILE)).unwrap();
        s.commit(b"g2").unwrap();
        let old_b = fs::read(dir.join(SLOT_B_FILE)).unwrap();
        s.commit(b"g3").unwrap();
        s.commit(b"g4").unwrap();
        drop(s);
        let rem = Remembered::read(&dir).generation();
        assert_eq!(rem, Some(4));
        // Damaged newest slot (B, g4): fall back one generation to A (g3).
        let mut slots = Slots::read(&dir).unwrap();
        *slots.b.as_mut().unwrap().last_mut().unwrap() ^= 1;
        let c = select(&slots, &k, rem).unwrap();
        assert_eq!(c.plaintext.as_slice(), b"g3");
        // Newest slot deleted: refused.
        slots.b = None;
        assert_eq!(
            select(&slots, &k, rem).unwrap_err(),
            LoadError::Rollback { found: 3, min: 4 }
        );
        // An older valid pair put back: refused.
        let replay = Slots {
            a: Some(old_a.clone()),
            b: Some(old_b),
        };
        assert_eq!(
            select(&replay, &k, rem).unwrap_err(),
            LoadError::Rollback { found: 2, min: 4 }
        );
        // ... and accepted without the generation file (documented limit).
        assert!(select(&replay, &k, None).is_ok());
        // Both slots deleted: missing, not a fresh TPM.
        assert_eq!(
            select(&Slots::default(), &k, rem).unwrap_err(),
            LoadError::Missing { min_generation: 4 }
        );
        assert_eq!(
            select(&Slots::default(), &k, None).unwrap_err(),
            LoadError::Empty
        );
        // Damaged newest slot, other slot two generations behind: refused.
        let mut slots = Slots {
            a: Some(old_a),
            b: Slots::read(&dir).unwrap().b,
        };
        slots.b.as_mut().unwrap()[45] ^= 1;
        assert!(matches!(
            select(&slots, &k, rem).unwrap_err(),
            LoadError::Rollback { found: 1, min: 4 }
        ));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn generation_file_garbage_is_unreadable() {
        let dir = temp_dir("genfile");
        assert_eq!(Remembered::read(&dir), Remembered::Absent);
        fs::write(dir.join(GENERATION_FILE), b"").unwrap();
        assert!(matches!(Remembered::read(&dir), Remembered::Unreadable(_)));
        fs::write(dir.join(GENERATION_FILE), b"12\n").unwrap();
        assert_eq!(Remembered::read(&dir), Remembered::Generation(12));
        let _ = fs::remove_dir_all(dir);
    }

    fn state_with_nv(bytes: usize) -> PersistentState {
        let mut drbg = Drbg::new(&[7u8; 48], b"commit bench");
        let mut p = PersistentState::manufacture(&mut drbg);
        let mut left = bytes;
        let mut handle = 0x0150_0000u32;
        while left > 0 {
            let size = left.min(2048);
            let mut data = vec![0u8; size];
            drbg.generate(&mut data);
            p.nv.push(NvIndex {
                handle: Handle(handle),
                name_alg: HashAlg::Sha256,
                attributes: 0x2004_0004,
                auth_policy: Vec::new(),
                data_size: u16::try_from(size).unwrap(),
                auth_value: Vec::new(),
                data,
            });
            handle += 1;
            left -= size;
        }
        p
    }

    /// The cost of one commit (serialize + seal + durable write), for an
    /// empty TPM and one with ~60 KiB of NV data. Run with
    /// `cargo test -p vtpm-host-sim --release commit_bench -- --ignored --nocapture`
    /// (set VTPM_BENCH_DIR to measure on another file system).
    #[test]
    #[ignore]
    fn commit_bench() {
        let dir = match std::env::var_os("VTPM_BENCH_DIR") {
            Some(d) => {
                let d = PathBuf::from(d).join(format!("vtpm-bench-{}", std::process::id()));
                create_dir(&d).unwrap();
                d
            }
            None => temp_dir("bench"),
        };
        let runs: usize = std::env::var("VTPM_BENCH_RUNS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        for (label, nv) in [("empty TPM", 0usize), ("60 KiB of NV", 60 * 1024)] {
            let state = state_with_nv(nv);
            let mut s = store(&dir, [9; 32]);
            let mut total = Vec::with_capacity(runs);
            let mut cpu = Vec::with_capacity(runs);
            let mut size = 0;
            for _ in 0..runs {
                let t0 = Instant::now();
                let bytes = state.to_bytes().unwrap();
                let sealed = seal(&SealingKey::new([9; 32]), 1, &[0; 12], &bytes).unwrap();
                cpu.push(t0.elapsed());
                size = sealed.len();
                let t0 = Instant::now();
                let bytes = state.to_bytes().unwrap();
                s.commit(&bytes).unwrap();
                total.push(t0.elapsed());
            }
            let stats = |v: &mut Vec<std::time::Duration>| {
                v.sort();
                let pct = |p: usize| v[(v.len() - 1) * p / 100].as_secs_f64() * 1e6;
                format!(
                    "median {:.0} us, p10 {:.0} us, p90 {:.0} us, min {:.0} us, max {:.0} us",
                    pct(50),
                    pct(10),
                    pct(90),
                    pct(0),
                    pct(100)
                )
            };
            println!(
                "{label}: blob {size} bytes; {runs} commits (serialize+seal+durable write): {}",
                stats(&mut total)
            );
            println!("{label}: serialize+seal only: {}", stats(&mut cpu));
            drop(s);
        }
        let _ = fs::remove_dir_all(dir);
    }
}
