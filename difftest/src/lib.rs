//! Differential testing of vtpm against libtpms, the TPM 2.0 engine of
//! swtpm: the same command stream goes to both, and the response codes and
//! every deterministic output are compared. Differences the specification
//! allows (or that come from a documented implementation choice) are
//! listed in [`allowed::ALLOWED`], each with its reason and reference;
//! any other difference fails the test. See README.md.
//!
//! Test-only: nothing in the product links this crate.

pub mod allowed;
pub mod caps;
pub mod crypto;
pub mod keys;
pub mod libtpms;
pub mod names;
pub mod pair;
pub mod tpm;
pub mod trace;
pub mod vtpm;
pub mod wire;

pub use pair::{Both, Detail, Diff, Pair, Stats, Summary};
pub use wire::{Cmd, Reader, Rsp};

/// A TPM 2.0 that executes commands: bytes in, bytes out.
pub trait Backend {
    /// Short name for reports.
    fn name(&self) -> &'static str;
    /// Execute one command, return its response.
    fn execute(&mut self, cmd: &[u8]) -> Vec<u8>;
    /// _TPM_Init: volatile state lost, persistent state kept; the TPM
    /// needs TPM2_Startup next.
    fn restart(&mut self);
    /// Locality of the following commands.
    fn set_locality(&mut self, locality: u8);
}
