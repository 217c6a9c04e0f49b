//! Part 3, 25: Dictionary Attack Functions.

use super::{Command, NoParams};
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::{Handle, TpmResult};

/// `TPM2_DictionaryAttackLockReset` (Part 3, 25.2): failedTries to zero.
#[derive(Debug)]
#[doc(alias = "TPM2_DictionaryAttackLockReset")]
pub struct DictionaryAttackLockReset;

impl Command for DictionaryAttackLockReset {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        ctx.p.failed_tries = 0;
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_DictionaryAttackParameters` parameters.
    pub struct DictionaryAttackParametersIn {
        /// newMaxTries.
        pub new_max_tries: u32,
        /// newRecoveryTime (seconds; 0 disables DA protection).
        pub new_recovery_time: u32,
        /// lockoutRecovery (seconds; 0 means until the next TPM Reset).
        pub lockout_recovery: u32,
    }
}

/// `TPM2_DictionaryAttackParameters` (Part 3, 25.3).
#[derive(Debug)]
#[doc(alias = "TPM2_DictionaryAttackParameters")]
pub struct DictionaryAttackParameters;

impl Command for DictionaryAttackParameters {
    type In = DictionaryAttackParametersIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        _: &[Handle],
        input: DictionaryAttackParametersIn,
    ) -> TpmResult<NoParams> {
        ctx.p.max_tries = input.new_max_tries;
        ctx.p.recovery_time = input.new_recovery_time;
        ctx.p.lockout_recovery = input.lockout_recovery;
        ctx.p.failed_tries = 0;
        ctx.mark_dirty();
        Ok(NoParams)
    }
}
