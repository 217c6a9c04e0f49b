//! A deterministic in-memory [`Platform`] for tests, fuzzing and benches.
//!
//! Entropy is a seeded xorshift stream, time is a counter the caller
//! advances, commits land in memory and can be made to fail.

use alloc::vec::Vec;

use crate::platform::{Platform, PlatformError};
use crate::{Config, Tpm};

/// Deterministic platform.
#[derive(Debug, Clone)]
pub struct TestPlatform {
    rng: u64,
    /// Current time in milliseconds.
    pub now_ms: u64,
    /// Milliseconds added at each clock read (so time moves).
    pub tick_ms: u64,
    /// The last committed state.
    pub committed: Option<Vec<u8>>,
    /// Number of commits.
    pub commits: usize,
    /// When true, commits fail.
    pub fail_commits: bool,
}

impl TestPlatform {
    /// A platform whose entropy stream is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        TestPlatform {
            rng: seed | 1,
            now_ms: 1000,
            tick_ms: 1,
            committed: None,
            commits: 0,
            fail_commits: false,
        }
    }
}

impl Platform for TestPlatform {
    fn fill_entropy(&mut self, buf: &mut [u8]) -> Result<(), PlatformError> {
        for b in buf {
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            *b = self.rng.to_le_bytes()[0];
        }
        Ok(())
    }
    fn monotonic_ms(&mut self) -> u64 {
        self.now_ms = self.now_ms.saturating_add(self.tick_ms);
        self.now_ms
    }
    fn commit(&mut self, state: &[u8]) -> Result<(), PlatformError> {
        if self.fail_commits {
            return Err(PlatformError::CommitFailed);
        }
        self.committed = Some(state.to_vec());
        self.commits = self.commits.saturating_add(1);
        Ok(())
    }
}

/// `TPM2_Startup(CLEAR)`.
pub const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0];

/// A manufactured, powered-on, started TPM on a [`TestPlatform`].
pub fn started_tpm(seed: u64) -> Option<Tpm<TestPlatform>> {
    let mut tpm = Tpm::manufacture(TestPlatform::new(seed), Config::default()).ok()?;
    tpm.power_on();
    let rsp = tpm.execute(0, &STARTUP_CLEAR);
    (rsp.get(6..10) == Some(&[0, 0, 0, 0][..])).then_some(tpm)
}
