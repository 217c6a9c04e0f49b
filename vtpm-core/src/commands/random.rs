//! Part 3, 16: Random Number Generator (`TPM2_GetRandom`, `TPM2_StirRandom`).

use super::{Command, NoParams};
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::types::{Digest2b, SensitiveData2b};
use crate::wire::{Handle, TpmResult};

tpm_params! {
    /// `TPM2_GetRandom` parameters.
    pub struct GetRandomIn {
        /// Octets wanted.
        pub bytes_requested: u16,
    }
}

tpm_params! {
    /// `TPM2_GetRandom` response.
    pub struct GetRandomOut {
        /// At most the size of the largest digest (Part 3, 16.1).
        pub random_bytes: Digest2b,
    }
}

/// `TPM2_GetRandom` (Part 3, 16.1).
#[derive(Debug)]
#[doc(alias = "TPM2_GetRandom")]
pub struct GetRandom;

impl Command for GetRandom {
    type In = GetRandomIn;
    type Out = GetRandomOut;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: GetRandomIn) -> TpmResult<GetRandomOut> {
        let n = usize::from(input.bytes_requested).min(crate::wire::consts::sizes::MAX_DIGEST);
        let mut v = alloc::vec![0u8; n];
        ctx.random(&mut v);
        Ok(GetRandomOut {
            random_bytes: Digest2b::from_slice(&v)?,
        })
    }
}

tpm_params! {
    /// `TPM2_StirRandom` parameters.
    pub struct StirRandomIn {
        /// Additional input to the DRBG.
        pub in_data: SensitiveData2b,
    }
}

/// `TPM2_StirRandom` (Part 3, 16.2).
#[derive(Debug)]
#[doc(alias = "TPM2_StirRandom")]
pub struct StirRandom;

impl Command for StirRandom {
    type In = StirRandomIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: StirRandomIn) -> TpmResult<NoParams> {
        let mut entropy = [0u8; 32];
        // Fresh platform entropy when it can be had; the caller's input is
        // mixed in either way.
        if ctx.platform.fill_entropy(&mut entropy).is_err() {
            entropy = [0; 32];
        }
        ctx.v.drbg.reseed(&entropy, input.in_data.as_slice());
        Ok(NoParams)
    }
}
