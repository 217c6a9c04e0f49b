//! Part 3, 22.6-22.7: `TPM2_PCR_SetAuthPolicy` and `TPM2_PCR_SetAuthValue`.
//!
//! A PCR may have its own authPolicy or authValue only if a platform
//! specification puts it in a policy or authorization group. This TPM
//! defines no such group (the PC Client profile defines none):
//! `TPM_PT_PCR_POLICY` and `TPM_PT_PCR_AUTH` report empty bitmaps, every
//! PCR is authorized with EmptyAuth, and both commands refuse every PCR
//! with `TPM_RC_VALUE`, as Part 3 asks for a PCR the implementation does
//! not allow a policy or authValue for, after the reference's earlier
//! checks:
//!
//! * `TPM2_PCR_SetAuthPolicy`: `authPolicy` not the size of `hashAlg`'s
//!   digest (0 for `TPM_ALG_NULL`) is `TPM_RC_SIZE` on `authPolicy`; then
//!   `TPM_RC_VALUE` on `pcrNum`;
//! * `TPM2_PCR_SetAuthValue`: `TPM_RC_VALUE` (not positioned, as the
//!   reference returns it).

use super::{Command, NoParams};
use crate::crypto::hash::HashOrNull;
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::consts::sizes;
use crate::wire::types::Digest2b;
use crate::wire::{Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// `TPMI_DH_PCR` as a parameter: an implemented PCR (`TPM_RC_VALUE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PcrNum(pub u32);

impl Unmarshal for PcrNum {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let v = r.u32()?;
        if usize::try_from(v).is_ok_and(|i| i < sizes::PCR_COUNT) {
            Ok(PcrNum(v))
        } else {
            Err(Rc::VALUE)
        }
    }
}

impl Marshal for PcrNum {
    fn marshal(&self, w: &mut Writer) {
        w.u32(self.0);
    }
}

tpm_params! {
    /// `TPM2_PCR_SetAuthPolicy` parameters.
    pub struct PcrSetAuthPolicyIn {
        /// `authPolicy`.
        pub auth_policy: Digest2b,
        /// `hashAlg` (`TPMI_ALG_HASH+`).
        pub hash_alg: HashOrNull,
        /// `pcrNum`.
        pub pcr_num: PcrNum,
    }
}

/// `TPM2_PCR_SetAuthPolicy` (Part 3, 22.6): platform authorization; see
/// the module documentation for the answers.
#[derive(Debug)]
#[doc(alias = "TPM2_PCR_SetAuthPolicy")]
pub struct PcrSetAuthPolicy;

impl Command for PcrSetAuthPolicy {
    type In = PcrSetAuthPolicyIn;
    type Out = NoParams;
    fn run(_: &mut Ctx<'_>, _: &[Handle], input: PcrSetAuthPolicyIn) -> TpmResult<NoParams> {
        let size = input.hash_alg.0.map_or(0, |h| h.digest_size());
        if input.auth_policy.len() != size {
            return Err(Rc::SIZE.param(1));
        }
        // No PCR is in a policy group.
        Err(Rc::VALUE.param(3))
    }
}

tpm_params! {
    /// `TPM2_PCR_SetAuthValue` parameters.
    pub struct PcrSetAuthValueIn {
        /// `auth`.
        pub auth: Digest2b,
    }
}

/// `TPM2_PCR_SetAuthValue` (Part 3, 22.7): the PCR's own (empty)
/// authorization; see the module documentation for the answer.
#[derive(Debug)]
#[doc(alias = "TPM2_PCR_SetAuthValue")]
pub struct PcrSetAuthValue;

impl Command for PcrSetAuthValue {
    type In = PcrSetAuthValueIn;
    type Out = NoParams;
    fn run(_: &mut Ctx<'_>, _: &[Handle], _: PcrSetAuthValueIn) -> TpmResult<NoParams> {
        // No PCR is in an authorization group.
        Err(Rc::VALUE)
    }
}
