//! Part 3, 9: Start-up (`TPM2_Startup`, `TPM2_Shutdown`).

use alloc::vec::Vec;

use super::{Command, NoParams};
use crate::engine::Ctx;
use crate::state::{Orderly, PcrBanks, Phase, SavedState, StartupClear};
use crate::tpm_params;
use crate::wire::consts::su;
use crate::wire::{Handle, Rc, TpmResult};

tpm_params! {
    /// `TPM2_Startup` parameters.
    pub struct StartupIn {
        /// `TPM_SU`.
        pub startup_type: u16,
    }
}

/// `TPM2_Startup` (Part 3, 9.3).
#[derive(Debug)]
#[doc(alias = "TPM2_Startup")]
pub struct Startup;

impl Command for Startup {
    type In = StartupIn;
    type Out = NoParams;

    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: StartupIn) -> TpmResult<NoParams> {
        // Input validation
        let resume = match input.startup_type {
            su::CLEAR => false,
            su::STATE => true,
            _ => return Err(Rc::VALUE.param(1)),
        };
        let saved = if ctx.p.orderly == Orderly::State {
            ctx.p.saved.clone()
        } else {
            None
        };
        if resume && saved.is_none() {
            // Startup(STATE) needs a preceding Shutdown(STATE) (Part 3, 9.3.1).
            return Err(Rc::VALUE.param(1));
        }
        // Internal data update
        let fresh = |ctx: &mut Ctx<'_>, n: usize| {
            let mut v = alloc::vec![0u8; n];
            ctx.random(&mut v);
            v
        };
        let locality = ctx.locality.min(4);
        match saved {
            Some(saved) if resume => {
                // TPM Resume: PCRs, hierarchy enables and the null hierarchy come back.
                ctx.p.restart_count = ctx.p.restart_count.wrapping_add(1);
                ctx.v.active_banks = saved.pcrs.algs();
                ctx.v.pcrs = PcrBanks::new(&ctx.v.active_banks, locality);
                ctx.v.pcrs.restore_saved(&saved.pcrs);
                ctx.v.startup_clear = saved.startup_clear;
                ctx.v.null_seed = saved.null_seed;
                ctx.v.null_proof = saved.null_proof;
                ctx.v.platform_auth = saved.platform_auth;
                ctx.v.platform_policy = saved.platform_policy;
            }
            Some(saved) => {
                // TPM Restart: Shutdown(STATE) then Startup(CLEAR). The null
                // hierarchy and the bank allocation of the last Reset remain.
                ctx.p.restart_count = ctx.p.restart_count.wrapping_add(1);
                ctx.v.active_banks = saved.pcrs.algs();
                ctx.v.null_seed = saved.null_seed;
                ctx.v.null_proof = saved.null_proof;
                clear_startup(ctx, locality);
                super::nv::on_startup(ctx, crate::state::nv::StartupKind::Restart);
            }
            None => {
                // TPM Reset: a pending PCR_Allocate takes effect now.
                ctx.p.reset_count = ctx.p.reset_count.wrapping_add(1);
                ctx.p.total_reset_count = ctx.p.total_reset_count.wrapping_add(1);
                ctx.p.restart_count = 0;
                ctx.v.null_seed = fresh(ctx, 64);
                ctx.v.null_proof = fresh(ctx, 64);
                // Saved contexts of the last Reset cycle become unloadable
                // (Part 1, 27.4: all saved object contexts are invalidated
                // by TPM Reset).
                ctx.p.context_key = fresh(ctx, 32);
                ctx.v.active_banks = ctx.p.pcr_allocation.clone();
                // lockoutAuth disabled with lockoutRecovery 0 comes back at
                // TPM Reset (Part 1, 19.8.6).
                if ctx.p.lockout_recovery == 0 {
                    ctx.p.lockout_auth_disabled = false;
                }
                clear_startup(ctx, locality);
                super::nv::on_startup(ctx, crate::state::nv::StartupKind::Reset);
            }
        }
        super::act::on_startup(ctx, resume);
        ctx.v.pcr_update_counter = 0;
        // An unorderly shutdown after a DA-protected authValue was used
        // counts as one authorization failure (Part 1, 19.8.6), so that
        // cutting the power cannot be used to try passwords for free.
        ctx.v.startup_orderly = ctx.p.orderly.is_orderly();
        if ctx.p.orderly == Orderly::DaUsed && ctx.p.recovery_time != 0 {
            ctx.p.failed_tries = ctx.p.failed_tries.saturating_add(1);
        }
        ctx.p.orderly = Orderly::None;
        ctx.p.saved = None;
        ctx.v.phase = Phase::Operational;
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

/// The part of Startup(CLEAR) shared by TPM Reset and TPM Restart.
fn clear_startup(ctx: &mut Ctx<'_>, locality: u8) {
    ctx.v.pcrs = PcrBanks::new(&ctx.v.active_banks, locality);
    ctx.v.startup_clear = StartupClear::default();
    ctx.v.platform_auth = Vec::new();
    ctx.v.platform_policy = crate::state::Policy {
        alg: 0x10,
        digest: Vec::new(),
    };
}

tpm_params! {
    /// `TPM2_Shutdown` parameters.
    pub struct ShutdownIn {
        /// `TPM_SU`.
        pub shutdown_type: u16,
    }
}

/// `TPM2_Shutdown` (Part 3, 9.4).
#[derive(Debug)]
#[doc(alias = "TPM2_Shutdown")]
pub struct Shutdown;

impl Command for Shutdown {
    type In = ShutdownIn;
    type Out = NoParams;

    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: ShutdownIn) -> TpmResult<NoParams> {
        match input.shutdown_type {
            su::CLEAR => {
                ctx.p.orderly = Orderly::Clear;
                ctx.p.saved = None;
            }
            su::STATE => {
                ctx.p.orderly = Orderly::State;
                ctx.p.saved = Some(SavedState {
                    pcrs: ctx.v.pcrs.clone(),
                    startup_clear: ctx.v.startup_clear,
                    null_seed: ctx.v.null_seed.clone(),
                    null_proof: ctx.v.null_proof.clone(),
                    platform_auth: ctx.v.platform_auth.clone(),
                    platform_policy: ctx.v.platform_policy.clone(),
                });
                super::act::on_shutdown_state(ctx);
            }
            _ => return Err(Rc::VALUE.param(1)),
        }
        ctx.mark_dirty();
        Ok(NoParams)
    }
}
