//! Part 3, 9: Start-up (`TPM2_Startup`, `TPM2_Shutdown`).

use alloc::vec::Vec;

use super::{Command, NoParams};
use crate::engine::Ctx;
use crate::state::{Orderly, PcrBanks, Phase, SavedSession, SavedState, SessionSlot, StartupClear};
use crate::tpm_params;
use crate::wire::consts::ht;
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
            Some(mut saved) if resume => {
                // TPM Resume: PCRs, hierarchy enables and the null hierarchy come back.
                ctx.p.restart_count = ctx.p.restart_count.wrapping_add(1);
                ctx.v.active_banks = saved.pcrs.algs();
                ctx.v.pcrs = PcrBanks::new(&ctx.v.active_banks, locality);
                ctx.v.pcrs.restore_saved(&saved.pcrs);
                ctx.v.startup_clear = saved.startup_clear;
                ctx.v.platform_auth = core::mem::take(&mut saved.platform_auth);
                ctx.v.platform_policy = core::mem::take(&mut saved.platform_policy);
                restore_reset_data(ctx, &mut saved, false);
            }
            Some(mut saved) => {
                // TPM Restart: Shutdown(STATE) then Startup(CLEAR). The null
                // hierarchy and the bank allocation of the last Reset remain.
                ctx.p.restart_count = ctx.p.restart_count.wrapping_add(1);
                ctx.v.active_banks = saved.pcrs.algs();
                restore_reset_data(ctx, &mut saved, true);
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
                ctx.v.active_banks = ctx.p.pcr_allocation.clone();
                // NV Reset Data takes its initial values (Part 1, 34.4.4),
                // and every saved context becomes invalid (Part 1, 27.4): a
                // new context key, as the context counter starts again
                // (Part 1, 27.3.2).
                ctx.p.context_key = fresh(ctx, 32);
                ctx.v.context_counter = 0;
                ctx.v.clear_count = 0;
                ctx.v.sessions.clear();
                ctx.v.pcr_update_counter = 0;
                ctx.v.command_audit_digest.clear();
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

/// NV Reset Data (Part 1, 34.4.4) at TPM Resume and TPM Restart: the null
/// hierarchy, the context counter and the sessions whose contexts were
/// saved come back. Sessions that were loaded at `Shutdown(STATE)` are not
/// in `saved` (every Startup ends them, Part 1, 27.5), and transient
/// objects and sequences were flushed by _TPM_Init.
fn restore_reset_data(ctx: &mut Ctx<'_>, saved: &mut SavedState, restart: bool) {
    ctx.v.null_seed = core::mem::take(&mut saved.null_seed);
    ctx.v.null_proof = core::mem::take(&mut saved.null_proof);
    // clearCount counts TPM Restarts: contexts of stClear objects saved
    // before this one no longer load (Part 1, 27.3.2).
    ctx.v.clear_count = if restart {
        saved.clear_count.wrapping_add(1)
    } else {
        saved.clear_count
    };
    ctx.v.context_counter = saved.context_counter;
    ctx.v.sessions.clear();
    let sessions = saved
        .sessions
        .iter()
        .filter(|s| matches!(Handle(s.handle).ht(), ht::HMAC_SESSION | ht::POLICY_SESSION))
        .take(ctx.config.max_active_sessions);
    for s in sessions {
        ctx.v.sessions.insert(
            s.handle,
            SessionSlot {
                loaded: None,
                saved_sequence: Some(s.sequence),
            },
        );
    }
    // The counter is not reset while saved sessions may hold a PolicyPCR
    // (Part 1, 34.4.4); it moves on, because PCRs were reset (all at a
    // Restart, those not preserved at a Resume), so a PolicyPCR made
    // before holds no longer (TPM_RC_PCR_CHANGED).
    ctx.v.pcr_update_counter = saved.pcr_update_counter.wrapping_add(1);
    ctx.v.command_audit_digest = core::mem::take(&mut saved.command_audit_digest);
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
                    clear_count: ctx.v.clear_count,
                    context_counter: ctx.v.context_counter,
                    sessions: ctx
                        .v
                        .sessions
                        .iter()
                        .filter_map(|(&handle, slot)| {
                            slot.saved_sequence
                                .map(|sequence| SavedSession { handle, sequence })
                        })
                        .collect(),
                    pcr_update_counter: ctx.v.pcr_update_counter,
                    command_audit_digest: ctx.v.command_audit_digest.clone(),
                });
                super::act::on_shutdown_state(ctx);
            }
            _ => return Err(Rc::VALUE.param(1)),
        }
        ctx.mark_dirty();
        Ok(NoParams)
    }
}
