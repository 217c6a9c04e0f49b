//! Part 3, 29: Clocks and Timers (`TPM2_ReadClock` for now).

use super::{Command, NoParams, ToParams};
use crate::engine::Ctx;
use crate::wire::types::TimeInfo;
use crate::wire::{Handle, TpmResult, Writer};

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
