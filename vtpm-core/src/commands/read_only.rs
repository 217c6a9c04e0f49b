//! Part 3, 24.9 (`TPM2_ReadOnlyControl`) and Part 1, 42 (Read-Only Mode of
//! Operation).
//!
//! The mode is the `readOnly` bit of `TPMA_STARTUP_CLEAR`
//! ([`crate::state::StartupClear::read_only`], reported by
//! `TPM_PT_STARTUP_CLEAR`): CLEAR at TPM Reset and TPM Restart, kept by
//! TPM Resume (Part 2, 8.7). While it is SET the engine refuses every
//! command that Part 3 Table 207 does not permit with `TPM_RC_READ_ONLY`,
//! after the handle checks and before any authorization
//! (`engine::execute`, Part 1, 42.2); the table's verdict for each command
//! is the `read_only` column of the command table
//! ([`super::CommandDef::read_only`]).
//!
//! The bit is saved by `Shutdown(STATE)` with the rest of
//! `TPMA_STARTUP_CLEAR` (state schema 3), so a TPM Resume keeps it even
//! when the host process restarted in between.

use super::{Command, NoParams};
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::types::YesNo;
use crate::wire::{Handle, TpmResult};

tpm_params! {
    /// `TPM2_ReadOnlyControl` parameters.
    pub struct ReadOnlyControlIn {
        /// `state`: YES enters Read-Only mode, NO leaves it.
        pub state: YesNo,
    }
}

/// `TPM2_ReadOnlyControl` (Part 3, 24.9): platform authorization sets or
/// clears `TPMA_STARTUP_CLEAR.readOnly`.
#[derive(Debug)]
#[doc(alias = "TPM2_ReadOnlyControl")]
pub struct ReadOnlyControl;

impl Command for ReadOnlyControl {
    type In = ReadOnlyControlIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: ReadOnlyControlIn) -> TpmResult<NoParams> {
        ctx.v.startup_clear.read_only = input.state.0;
        Ok(NoParams)
    }
}
