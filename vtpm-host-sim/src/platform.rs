//! The engine's [`Platform`] on a host: getrandom, `Instant`, and a state
//! file written atomically and durably.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use vtpm_core::{Platform, PlatformError};

/// Name of the state file inside the state directory.
pub const STATE_FILE: &str = "vtpm-state.bin";
const STATE_TMP: &str = ".vtpm-state.bin.tmp";

/// The host platform of one simulated TPM.
#[derive(Debug)]
pub struct HostPlatform {
    dir: PathBuf,
    start: Instant,
    cancel: Arc<AtomicBool>,
}

impl HostPlatform {
    /// A platform keeping its state in `dir` (created, mode 0700, if
    /// missing).
    pub fn new(dir: &Path) -> io::Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        Ok(HostPlatform {
            dir: dir.to_path_buf(),
            start: Instant::now(),
            cancel: Arc::default(),
        })
    }

    /// The cancel flag (shared with whoever signals cancellation).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// Path of the state file.
    pub fn state_path(&self) -> PathBuf {
        self.dir.join(STATE_FILE)
    }

    /// Write `state` to a temporary file, fsync it, rename it over the
    /// state file and fsync the directory: after this returns the new state
    /// survives a crash or power loss, and a crash midway leaves the old
    /// state intact.
    pub fn write_state(&self, state: &[u8]) -> io::Result<()> {
        let tmp = self.dir.join(STATE_TMP);
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(state)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, self.state_path())?;
        File::open(&self.dir)?.sync_all()?;
        Ok(())
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
        match self.write_state(state) {
            Ok(()) => {
                tracing::trace!(bytes = state.len(), "state committed");
                Ok(())
            }
            Err(e) => {
                tracing::error!(
                    "cannot commit TPM state to {}: {e}",
                    self.state_path().display()
                );
                Err(PlatformError::CommitFailed)
            }
        }
    }

    fn cancel_requested(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }
}
