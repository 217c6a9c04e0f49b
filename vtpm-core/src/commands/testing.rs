//! Part 3, 10: Testing (`TPM2_SelfTest`, `TPM2_IncrementalSelfTest`,
//! `TPM2_GetTestResult`).
//!
//! The algorithms are exercised by known-answer tests at build time and the
//! engine runs them on demand: a self test is always complete, so nothing
//! is ever left "to do".

use super::{Command, NoParams};
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::types::{AlgList, MaxBuffer2b, YesNo};
use crate::wire::{Handle, Rc, TpmResult};

tpm_params! {
    /// `TPM2_SelfTest` parameters.
    pub struct SelfTestIn {
        /// Test everything, not only what is untested.
        pub full_test: YesNo,
    }
}

/// `TPM2_SelfTest` (Part 3, 10.2).
#[derive(Debug)]
#[doc(alias = "TPM2_SelfTest")]
pub struct SelfTest;

impl Command for SelfTest {
    type In = SelfTestIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], _input: SelfTestIn) -> TpmResult<NoParams> {
        ctx.v.tested = run_known_answer_tests();
        if ctx.v.tested {
            Ok(NoParams)
        } else {
            ctx.v.phase = crate::state::Phase::Failure;
            Err(Rc::FAILURE)
        }
    }
}

/// A quick known-answer check of the hash functions (FIPS 180-4 "abc").
fn run_known_answer_tests() -> bool {
    use crate::crypto::HashAlg;
    let sha256_abc = [0xbau8, 0x78, 0x16, 0xbf];
    let sha1_abc = [0xa9u8, 0x99, 0x3e, 0x36];
    HashAlg::Sha256.digest(b"abc").get(..4) == Some(&sha256_abc[..])
        && HashAlg::Sha1.digest(b"abc").get(..4) == Some(&sha1_abc[..])
}

tpm_params! {
    /// `TPM2_IncrementalSelfTest` parameters and response.
    pub struct AlgListParam {
        /// `toTest` in, `toDoList` out.
        pub algs: AlgList,
    }
}

/// `TPM2_IncrementalSelfTest` (Part 3, 10.3).
#[derive(Debug)]
#[doc(alias = "TPM2_IncrementalSelfTest")]
pub struct IncrementalSelfTest;

impl Command for IncrementalSelfTest {
    type In = AlgListParam;
    type Out = AlgListParam;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: AlgListParam) -> TpmResult<AlgListParam> {
        // Every listed algorithm must be one the TPM implements (TPM_RC_VALUE otherwise).
        for a in &input.algs.0 {
            if !super::capability::is_implemented_alg(*a) {
                return Err(Rc::VALUE.param(1));
            }
        }
        ctx.v.tested = run_known_answer_tests();
        Ok(AlgListParam {
            algs: AlgList::default(),
        })
    }
}

tpm_params! {
    /// `TPM2_GetTestResult` response.
    pub struct GetTestResultOut {
        /// Manufacturer-specific data.
        pub out_data: MaxBuffer2b,
        /// The result of the tests.
        pub test_result: u32,
    }
}

/// `TPM2_GetTestResult` (Part 3, 10.4).
#[derive(Debug)]
#[doc(alias = "TPM2_GetTestResult")]
pub struct GetTestResult;

impl Command for GetTestResult {
    type In = NoParams;
    type Out = GetTestResultOut;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], _: NoParams) -> TpmResult<GetTestResultOut> {
        let test_result = if ctx.v.phase == crate::state::Phase::Failure {
            Rc::FAILURE.0
        } else {
            Rc::SUCCESS.0
        };
        Ok(GetTestResultOut {
            out_data: MaxBuffer2b::empty(),
            test_result,
        })
    }
}
