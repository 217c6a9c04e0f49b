//! The one seam between the engine and its environment (DESIGN.md).
//!
//! The host simulator, the SVSM module and the tests each implement
//! [`Platform`]. The engine never reads a clock, a file or a device on its
//! own: everything arrives through these calls, so several engines can run
//! side by side and tests are deterministic.

use core::fmt;

/// Why the platform could not do what the engine asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlatformError {
    /// No entropy could be had; the TPM enters failure mode.
    EntropyUnavailable,
    /// The state could not be stored durably; the command fails with
    /// `TPM_RC_NV_UNAVAILABLE` and its state change is rolled back.
    CommitFailed,
}

impl fmt::Display for PlatformError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlatformError::EntropyUnavailable => f.write_str("entropy source unavailable"),
            PlatformError::CommitFailed => f.write_str("state commit failed"),
        }
    }
}

/// What the engine needs from the outside world.
pub trait Platform {
    /// Fill `buf` with entropy from a source fit for seeding a DRBG.
    fn fill_entropy(&mut self, buf: &mut [u8]) -> Result<(), PlatformError>;

    /// A monotonic clock in milliseconds. Its origin is arbitrary but it
    /// must never go backwards while the engine object lives.
    fn monotonic_ms(&mut self) -> u64;

    /// Durably store the serialized persistent state (the bytes that
    /// [`crate::Tpm::load`] accepts). Called before a command that changed
    /// persistent state returns success (write-ahead, DESIGN.md); if this
    /// fails, the command fails and the change is rolled back.
    fn commit(&mut self, state: &[u8]) -> Result<(), PlatformError>;

    /// True while the platform asks the TPM to cancel a long operation
    /// (`TPM_SIGNAL_CANCEL_ON`). Long operations poll it and return
    /// `TPM_RC_CANCELED`.
    fn cancel_requested(&self) -> bool {
        false
    }
}
