//! vtpm-core called directly, on a minimal host platform: getrandom
//! entropy, an `Instant` clock, commits into a `Vec` (or durably into a
//! file, to report the cost of durability beside).

use std::path::PathBuf;
use std::time::Instant;

use vtpm_core::{Config, Platform, PlatformError, Tpm};

use crate::backend::{durable_write, Backend};

/// The platform of the in-process engine benchmark.
pub struct BenchPlatform {
    start: Instant,
    /// The last committed state.
    pub committed: Vec<u8>,
    /// Number of commits.
    pub commits: u64,
    /// With a directory, every commit is also written there and fsynced.
    durable: Option<PathBuf>,
}

impl BenchPlatform {
    pub fn new(durable: Option<PathBuf>) -> Self {
        BenchPlatform {
            start: Instant::now(),
            committed: Vec::new(),
            commits: 0,
            durable,
        }
    }
}

impl Platform for BenchPlatform {
    fn fill_entropy(&mut self, buf: &mut [u8]) -> Result<(), PlatformError> {
        getrandom::fill(buf).map_err(|_| PlatformError::EntropyUnavailable)
    }
    fn monotonic_ms(&mut self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }
    fn commit(&mut self, state: &[u8]) -> Result<(), PlatformError> {
        self.committed.clear();
        self.committed.extend_from_slice(state);
        self.commits += 1;
        if let Some(dir) = &self.durable {
            durable_write(dir, "vtpm-state", state).map_err(|_| PlatformError::CommitFailed)?;
        }
        Ok(())
    }
}

/// vtpm-core in process.
pub struct VtpmEngine {
    pub tpm: Tpm<BenchPlatform>,
    label: String,
}

impl VtpmEngine {
    /// Manufacture and power on (the caller sends TPM2_Startup).
    pub fn new(durable: Option<PathBuf>, config: Config) -> Self {
        let label = if durable.is_some() {
            "vtpm+fsync"
        } else {
            "vtpm"
        }
        .to_string();
        if let Some(d) = &durable {
            std::fs::create_dir_all(d).expect("create durable state directory");
        }
        let mut tpm = match Tpm::manufacture(BenchPlatform::new(durable), config) {
            Ok(t) => t,
            Err(e) => panic!("vtpm manufacture failed: {e:?}"),
        };
        tpm.power_on();
        VtpmEngine { tpm, label }
    }
}

impl Backend for VtpmEngine {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn exec(&mut self, cmd: &[u8]) -> Vec<u8> {
        self.tpm.execute(0, cmd)
    }
    fn commits(&self) -> Option<u64> {
        Some(self.tpm.platform().commits)
    }
}
