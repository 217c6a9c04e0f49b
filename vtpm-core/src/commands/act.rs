//! Part 3, 33: Authenticated Countdown Timer (`TPM2_ACT_SetTimeout`), the
//! ACT part of `TPM2_GetCapability(TPM_CAP_ACT)` and the ACT life cycle of
//! Part 1, 40.
//!
//! This TPM implements one ACT, `TPM_RH_ACT_0` ([`ACT_HANDLES`]); the other
//! `TPM_RH_ACT_x` handles are `TPM_RC_VALUE` like any unimplemented
//! permanent handle.
//!
//! * **Counting.** An ACT keeps the platform's monotonic time at which it
//!   reaches zero; its `timeout` is the number of whole or partial
//!   seconds left. When the deadline passes, `signaled` is SET. The state is
//!   brought up to date whenever it is read (GetCapability, ACT_SetTimeout,
//!   [`crate::Tpm::act_signaled`]), so no timer thread is needed.
//! * **Authorization.** The ACT's authValue is platformAuth, usable only
//!   while phEnable is SET (Part 1, 40.2). Its authPolicy is the Empty
//!   Policy: `TPM2_SetPrimaryPolicy` of an ACT is not implemented (its
//!   handle is `TPM_RC_VALUE` there), so policy authorization of an ACT is
//!   never possible.
//! * **Life cycle.** TPM Reset and TPM Restart set every timeout to zero and
//!   clear `signaled` and `preserveSignaled` without side effect.
//!   `TPM2_Shutdown(STATE)` saves each timeout (halved unless
//!   `TPM2_ACT_SetTimeout` ran since the last Startup) and `signaled` in the
//!   persistent state; TPM Resume restores them, copies `signaled` to
//!   `preserveSignaled` and resumes counting. `TPM2_ACT_SetTimeout` after an
//!   orderly shutdown makes the state not orderly.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::Command;
use crate::engine::Ctx;
use crate::state::Orderly;
use crate::tpm_params;
use crate::wire::consts::rh;
use crate::wire::{Handle, Rc, TpmResult, Writer};

/// The ACTs this TPM implements, in handle order.
pub const ACT_HANDLES: &[Handle] = &[rh::ACT_0];

/// `TPMA_ACT.signaled`.
const SIGNALED: u32 = 1 << 0;
/// `TPMA_ACT.preserveSignaled`.
const PRESERVE_SIGNALED: u32 = 1 << 1;

/// Milliseconds per ACT tick.
const TICK_MS: u64 = 1000;

/// Is `h` an ACT this TPM implements?
pub fn is_act(h: Handle) -> bool {
    ACT_HANDLES.contains(&h)
}

/// One ACT.
#[derive(Clone, Debug, Default)]
struct Timer {
    /// Platform time at which the timeout reaches zero, while counting.
    deadline_ms: Option<u64>,
    /// `signaled`.
    signaled: bool,
    /// `preserveSignaled`.
    preserve_signaled: bool,
    /// `TPM2_ACT_SetTimeout` ran since the last Startup.
    written: bool,
}

impl Timer {
    /// Signal when the deadline has passed.
    fn update(&mut self, now: u64) {
        if let Some(d) = self.deadline_ms {
            if now >= d {
                self.deadline_ms = None;
                self.signaled = true;
            }
        }
    }

    /// Seconds left (a partial second counts as one).
    fn timeout(&self, now: u64) -> u32 {
        match self.deadline_ms {
            Some(d) if d > now => {
                u32::try_from(d.saturating_sub(now).div_ceil(TICK_MS)).unwrap_or(u32::MAX)
            }
            _ => 0,
        }
    }

    fn start(&mut self, now: u64, seconds: u32) {
        self.deadline_ms = if seconds == 0 {
            None
        } else {
            Some(now.saturating_add(u64::from(seconds).saturating_mul(TICK_MS)))
        };
    }

    fn attributes(&self) -> u32 {
        (if self.signaled { SIGNALED } else { 0 })
            | (if self.preserve_signaled {
                PRESERVE_SIGNALED
            } else {
                0
            })
    }
}

/// The volatile state of every ACT.
#[derive(Clone, Debug, Default)]
pub struct ActState {
    timers: [Timer; 1],
}

impl ActState {
    fn timer(&mut self, h: Handle) -> Option<&mut Timer> {
        let i = ACT_HANDLES.iter().position(|a| *a == h)?;
        self.timers.get_mut(i)
    }
}

/// An ACT as saved by `TPM2_Shutdown(STATE)` (in the persistent state).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedAct {
    /// The ACT's handle.
    pub handle: u32,
    /// Timeout to resume with, in seconds.
    pub timeout: u32,
    /// `signaled` at shutdown.
    pub signaled: bool,
}

/// `signaled` of an ACT now (false for a handle that is not an ACT).
pub fn signaled(state: &mut ActState, h: Handle, now: u64) -> bool {
    state.timer(h).is_some_and(|t| {
        t.update(now);
        t.signaled
    })
}

/// `TPMS_ACT_DATA` of every implemented ACT whose handle is at least
/// `first`, brought up to date: `(handle, timeout, TPMA_ACT)`.
pub fn act_data(ctx: &mut Ctx<'_>, first: u32) -> Vec<(Handle, u32, u32)> {
    let now = ctx.now_ms();
    ACT_HANDLES
        .iter()
        .zip(ctx.v.act.timers.iter_mut())
        .filter(|(h, _)| h.0 >= first)
        .map(|(h, t)| {
            t.update(now);
            (*h, t.timeout(now), t.attributes())
        })
        .collect()
}

/// Write a `TPML_ACT_DATA` of at most `count` entries starting at handle
/// `first`; returns `moreData`.
pub fn write_capability(ctx: &mut Ctx<'_>, first: u32, count: u32, w: &mut Writer) -> bool {
    let all = act_data(ctx, first);
    let want = usize::try_from(count).unwrap_or(usize::MAX);
    let n = all.len().min(want);
    crate::wire::types::write_count(w, n);
    for (h, timeout, attrs) in all.iter().take(n) {
        w.write(h);
        w.u32(*timeout);
        w.u32(*attrs);
    }
    all.len() > n
}

/// The ACT part of `TPM2_Startup`: TPM Resume restores the timers saved by
/// `TPM2_Shutdown(STATE)`; TPM Reset and TPM Restart stop and clear them.
pub fn on_startup(ctx: &mut Ctx<'_>, resume: bool) {
    let now = ctx.now_ms();
    let saved = core::mem::take(&mut ctx.p.act_saved);
    let mut state = ActState::default();
    if resume {
        for s in &saved {
            if let Some(t) = state.timer(Handle(s.handle)) {
                t.start(now, s.timeout);
                t.signaled = s.signaled;
                t.preserve_signaled = s.signaled;
            }
        }
    }
    ctx.v.act = state;
    if !saved.is_empty() {
        ctx.mark_dirty();
    }
}

/// The ACT part of `TPM2_Shutdown(STATE)`: save each timeout (halved if it
/// was not set since the last Startup) and `signaled`.
pub fn on_shutdown_state(ctx: &mut Ctx<'_>) {
    let now = ctx.now_ms();
    ctx.p.act_saved = ACT_HANDLES
        .iter()
        .zip(ctx.v.act.timers.iter_mut())
        .map(|(h, t)| {
            t.update(now);
            let left = t.timeout(now);
            SavedAct {
                handle: h.0,
                timeout: if t.written { left } else { left / 2 },
                signaled: t.signaled,
            }
        })
        .collect();
    ctx.mark_dirty();
}

tpm_params! {
    /// `TPM2_ACT_SetTimeout` parameters.
    pub struct ActSetTimeoutIn {
        /// `startTimeout` in seconds.
        pub start_timeout: u32,
    }
}

/// `TPM2_ACT_SetTimeout` (Part 3, 33.2). With the current timeout `cur`
/// and `startTimeout` `s`:
///
/// * `s = FFFFFFFF`: only allowed while `signaled` is SET (else
///   `TPM_RC_VALUE` on `startTimeout`); clears `signaled` and stops;
/// * `s != 0`: `signaled` CLEAR, counting from `s`;
/// * `s = 0`, `cur != 0`: stops with `signaled` SET;
/// * `s = 0`, `cur = 0`: no change.
///
/// `preserveSignaled` is CLEAR afterwards.
#[derive(Debug)]
#[doc(alias = "TPM2_ACT_SetTimeout")]
pub struct ActSetTimeout;

impl Command for ActSetTimeout {
    type In = ActSetTimeoutIn;
    type Out = super::NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: ActSetTimeoutIn,
    ) -> TpmResult<super::NoParams> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let now = ctx.now_ms();
        let t = ctx.v.act.timer(h).ok_or(Rc::VALUE.handle(1))?;
        t.update(now);
        let cur = t.timeout(now);
        let s = input.start_timeout;
        if s == u32::MAX {
            if !t.signaled {
                return Err(Rc::VALUE.param(1));
            }
            t.signaled = false;
            t.start(now, 0);
        } else if s != 0 {
            t.signaled = false;
            t.start(now, s);
        } else if cur != 0 {
            t.signaled = true;
            t.start(now, 0);
        }
        t.preserve_signaled = false;
        t.written = true;
        if ctx.p.orderly.is_orderly() {
            ctx.p.orderly = Orderly::None;
            ctx.mark_dirty();
        }
        Ok(super::NoParams)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_counts_down_and_signals() {
        let mut t = Timer::default();
        t.start(1000, 3);
        assert_eq!(t.timeout(1000), 3);
        assert_eq!(t.timeout(1001), 3);
        assert_eq!(t.timeout(2000), 2);
        assert_eq!(t.timeout(3999), 1);
        t.update(3999);
        assert!(!t.signaled);
        t.update(4000);
        assert!(t.signaled);
        assert_eq!(t.timeout(4000), 0);
        assert_eq!(t.attributes(), SIGNALED);
    }
}
