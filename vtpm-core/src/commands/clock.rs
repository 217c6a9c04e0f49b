//! Part 3, 29: Clocks and Timers (`TPM2_ReadClock`, `TPM2_ClockSet`,
//! `TPM2_ClockRateAdjust`).
//!
//! Clock advances with the platform's monotonic milliseconds, scaled by a
//! volatile rate adjustment in parts per million
//! ([`crate::state::VolatileState::clock_rate_ppm`], see [`scale_elapsed`]):
//! a coarse step is 1 %, a medium step 0.1 %, a fine step 0.01 %, and the
//! total stays within the 15 % of Part 3, 29.3 (`TPM_RC_VALUE` beyond).
//! The adjustment applies to Clock (not to Time) and is lost at _TPM_Init.

use super::{Command, NoParams, ToParams};
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::types::TimeInfo;
use crate::wire::{Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// Largest Clock value `TPM2_ClockSet` accepts (Part 3, 29.2).
pub const CLOCK_SET_MAX: u64 = 0xFFFF_0000_0000_0000;

/// Rate steps in parts per million: fine, medium, coarse.
const RATE_STEPS: [i32; 4] = [0, 100, 1_000, 10_000];

/// The largest total rate adjustment, in parts per million (15 %).
pub const RATE_LIMIT_PPM: i32 = 150_000;

/// `elapsed` milliseconds of the platform clock as Clock milliseconds under
/// a rate adjustment of `ppm` parts per million.
pub fn scale_elapsed(elapsed: u64, ppm: i32) -> u64 {
    let factor = 1_000_000i128.saturating_add(i128::from(ppm)).max(0);
    let scaled = i128::from(elapsed)
        .saturating_mul(factor)
        .checked_div(1_000_000)
        .unwrap_or(0);
    u64::try_from(scaled).unwrap_or(u64::MAX)
}

/// `TPM2_ReadClock` response.
#[derive(Debug)]
pub struct ReadClockOut {
    /// `TPMS_TIME_INFO`.
    pub current_time: TimeInfo,
}

impl ToParams for ReadClockOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.write(&self.current_time);
    }
}

/// `TPM2_ReadClock` (Part 3, 29.1).
#[derive(Debug)]
#[doc(alias = "TPM2_ReadClock")]
pub struct ReadClock;

impl Command for ReadClock {
    type In = NoParams;
    type Out = ReadClockOut;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], _: NoParams) -> TpmResult<ReadClockOut> {
        Ok(ReadClockOut {
            current_time: ctx.time_info(),
        })
    }
}

tpm_params! {
    /// `TPM2_ClockSet` parameters.
    pub struct ClockSetIn {
        /// `newTime` in milliseconds.
        pub new_time: u64,
    }
}

/// `TPM2_ClockSet` (Part 3, 29.2): Clock may only move forward and not past
/// [`CLOCK_SET_MAX`] (`TPM_RC_VALUE` on parameter 1, Clock unchanged). The
/// new value is committed before the command succeeds.
#[derive(Debug)]
#[doc(alias = "TPM2_ClockSet")]
pub struct ClockSet;

impl Command for ClockSet {
    type In = ClockSetIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: ClockSetIn) -> TpmResult<NoParams> {
        let current = ctx.clock_info().clock;
        if input.new_time > CLOCK_SET_MAX || input.new_time < current {
            return Err(Rc::VALUE.param(1));
        }
        let now = ctx.now_ms();
        ctx.p.clock = input.new_time;
        ctx.v.clock_sync_ms = now;
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

/// `TPM_CLOCK_ADJUST` (Part 2, 6.7): -3 (coarse slower) to 3 (coarse
/// faster); anything else is `TPM_RC_VALUE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockAdjust(pub i8);

impl Unmarshal for ClockAdjust {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let v = i8::from_be_bytes([r.u8()?]);
        if (-3..=3).contains(&v) {
            Ok(ClockAdjust(v))
        } else {
            Err(Rc::VALUE)
        }
    }
}

impl Marshal for ClockAdjust {
    fn marshal(&self, w: &mut Writer) {
        w.bytes(&self.0.to_be_bytes());
    }
}

tpm_params! {
    /// `TPM2_ClockRateAdjust` parameters.
    pub struct ClockRateAdjustIn {
        /// `rateAdjust`.
        pub rate_adjust: ClockAdjust,
    }
}

/// `TPM2_ClockRateAdjust` (Part 3, 29.3): change the rate relative to the
/// current one. Clock is first brought up to date at the old rate. An
/// adjustment beyond [`RATE_LIMIT_PPM`] is `TPM_RC_VALUE` on parameter 1.
#[derive(Debug)]
#[doc(alias = "TPM2_ClockRateAdjust")]
pub struct ClockRateAdjust;

impl Command for ClockRateAdjust {
    type In = ClockRateAdjustIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: ClockRateAdjustIn) -> TpmResult<NoParams> {
        let a = input.rate_adjust.0;
        let step = RATE_STEPS
            .get(usize::from(a.unsigned_abs()))
            .copied()
            .unwrap_or(0);
        let step = if a < 0 { step.saturating_neg() } else { step };
        let ppm = ctx.v.clock_rate_ppm.saturating_add(step);
        if ppm.saturating_abs() > RATE_LIMIT_PPM {
            return Err(Rc::VALUE.param(1));
        }
        let now = ctx.now_ms();
        let elapsed = now.saturating_sub(ctx.v.clock_sync_ms);
        ctx.p.clock = ctx
            .p
            .clock
            .saturating_add(scale_elapsed(elapsed, ctx.v.clock_rate_ppm));
        ctx.v.clock_sync_ms = now;
        ctx.v.clock_rate_ppm = ppm;
        Ok(NoParams)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_elapsed_applies_the_rate() {
        assert_eq!(scale_elapsed(1_000_000, 0), 1_000_000);
        assert_eq!(scale_elapsed(1_000_000, 10_000), 1_010_000);
        assert_eq!(scale_elapsed(1_000_000, -150_000), 850_000);
        assert_eq!(scale_elapsed(u64::MAX, 150_000), u64::MAX);
    }
}
