//! Part 3, 18: Attestation Commands (`TPM2_Certify`,
//! `TPM2_CertifyCreation`, `TPM2_Quote`, `TPM2_GetTime`).
//!
//! Every command builds a `TPMS_ATTEST` ([`fill_attest`]) and signs its
//! marshaled form with the scheme chosen by
//! [`super::signature::select_sign_scheme`]; with `TPM_RH_NULL` as the
//! signing key the structure is returned with the NULL Signature.
//!
//! # Privacy (Part 3, 18.1)
//!
//! When the signing key is not in the endorsement or platform hierarchy
//! (owner or null hierarchy, or no key at all), `resetCount`,
//! `restartCount` and `firmwareVersion` are obfuscated with
//! `KDFa(nameAlg, shProof, "OBFUSCATE", QN(signer), "", 128)` (the context
//! integrity hash for `TPM_RH_NULL`, whose QN is the handle): the first 64
//! bits are added to `firmwareVersion`, the next 32 to `resetCount` and the
//! last 32 to `restartCount`, each as a big-endian number, wrapping.

use alloc::vec::Vec;

use super::signature::{is_signing_object, select_sign_scheme, sign_digest, CONTEXT_HASH};
use super::Command;
use crate::crypto::kdf::kdfa;
use crate::crypto::secret::ct_eq;
use crate::engine::Ctx;
use crate::object::Object;
use crate::state::Orderly;
use crate::tpm_params;
use crate::wire::consts::rh;
use crate::wire::public::Scheme;
use crate::wire::signature::{Attest, Attest2b, Attested, CreationTicket, SigScheme, Signature};
use crate::wire::types::{ClockInfo, Data2b, Digest2b, PcrSelection, PcrSelectionList};
use crate::wire::{Handle, Marshal, Rc, TpmResult};

/// `TPM_PT_FIRMWARE_VERSION_1 << 32 | TPM_PT_FIRMWARE_VERSION_2`.
pub fn firmware_version() -> u64 {
    let (v1, v2) = super::capability::firmware_version();
    u64::from(v1) << 32 | u64::from(v2)
}

/// The obfuscation of Part 3, 18.1 for a signer (`None`: `TPM_RH_NULL`),
/// or `None` when the signer is in the endorsement or platform hierarchy.
fn obfuscation(ctx: &Ctx<'_>, signer: Option<&Object>, qn: &[u8]) -> Option<[u8; 16]> {
    if signer.is_some_and(|o| matches!(o.hierarchy, rh::ENDORSEMENT | rh::PLATFORM)) {
        return None;
    }
    let alg = signer
        .and_then(|o| o.public.name_alg)
        .unwrap_or(CONTEXT_HASH);
    let bytes = kdfa(alg, &ctx.p.sh_proof, b"OBFUSCATE", qn, &[], 128).ok()?;
    bytes.as_slice().try_into().ok()
}

/// Build a `TPMS_ATTEST` for `signer` (`None`: `TPM_RH_NULL`) around the
/// command-specific part, with the clock read once by the caller
/// (`clock_info`, obfuscated here when the privacy rule asks for it).
pub fn fill_attest(
    ctx: &Ctx<'_>,
    signer: Option<&Object>,
    extra_data: &[u8],
    attested: Attested,
    clock_info: ClockInfo,
) -> Attest {
    let qualified_signer = match signer {
        Some(o) => o.qualified_name.clone(),
        None => rh::NULL.0.to_be_bytes().to_vec(),
    };
    let mut clock_info = clock_info;
    let mut firmware = firmware_version();
    if let Some(o) = obfuscation(ctx, signer, &qualified_signer) {
        let (fw, rest) = o.split_at(8);
        let (reset, restart) = rest.split_at(4);
        let be64 = |b: &[u8]| b.try_into().map(u64::from_be_bytes).unwrap_or(0);
        let be32 = |b: &[u8]| b.try_into().map(u32::from_be_bytes).unwrap_or(0);
        firmware = firmware.wrapping_add(be64(fw));
        clock_info.reset_count = clock_info.reset_count.wrapping_add(be32(reset));
        clock_info.restart_count = clock_info.restart_count.wrapping_add(be32(restart));
    }
    Attest {
        qualified_signer,
        extra_data: extra_data.to_vec(),
        clock_info,
        firmware_version: firmware,
        attested,
    }
}

/// The signing key of an attestation command (`None` for `TPM_RH_NULL`)
/// and its scheme (also for TPM2_NV_Certify and the audit commands).
/// `hpos` is the handle number of `signHandle` (`TPM_RC_KEY` there for a
/// key that cannot sign), `spos` the parameter number of `inScheme`
/// (`TPM_RC_SCHEME`).
pub fn signer_and_scheme(
    ctx: &Ctx<'_>,
    sign_handle: Handle,
    hpos: u32,
    in_scheme: Scheme,
    spos: u32,
) -> TpmResult<(Option<Object>, Scheme)> {
    let signer = if sign_handle == rh::NULL {
        None
    } else {
        Some(
            ctx.object(sign_handle)
                .ok_or(Rc::HANDLE.handle(hpos))?
                .clone(),
        )
    };
    let public = signer.as_ref().map(|o| &o.public);
    if !is_signing_object(public) {
        return Err(Rc::KEY.handle(hpos));
    }
    let scheme = select_sign_scheme(public, in_scheme).map_err(|e| e.param(spos))?;
    Ok((signer, scheme))
}

tpm_params! {
    /// The response of every attestation command.
    pub struct AttestOut {
        /// `TPM2B_ATTEST`: the signed structure.
        pub attest: Attest2b,
        /// The signature over it (NULL for `TPM_RH_NULL`).
        pub signature: Signature,
    }
}

/// Marshal and sign (the reference's `SignAttestInfo`). A signed
/// attestation reveals the clock, so, as the reference does, an orderly
/// state left by `TPM2_Shutdown` is cleared (and committed).
pub fn sign_attest(
    ctx: &mut Ctx<'_>,
    signer: Option<&Object>,
    scheme: Scheme,
    attest: &Attest,
) -> TpmResult<AttestOut> {
    let bytes = attest.to_bytes();
    let signature = match signer {
        None => Signature::Null,
        Some(key) => {
            let hash = scheme.hash().ok_or(Rc::SCHEME)?;
            let digest = hash.digest(&bytes);
            let sig = sign_digest(key, scheme, &digest, &mut ctx.v.drbg)?;
            if ctx.p.orderly.is_orderly() {
                ctx.p.orderly = Orderly::None;
                ctx.mark_dirty();
            }
            sig
        }
    };
    Ok(AttestOut {
        attest: Attest2b(bytes),
        signature,
    })
}

tpm_params! {
    /// `TPM2_Certify` parameters.
    pub struct CertifyIn {
        /// `qualifyingData` (goes to `extraData`).
        pub qualifying_data: Data2b,
        /// `inScheme`.
        pub in_scheme: SigScheme,
    }
}

/// `TPM2_Certify` (Part 3, 18.2): handles `objectHandle` (ADMIN) and
/// `signHandle` (USER, may be `TPM_RH_NULL`). An object loaded without
/// its sensitive area cannot be certified (`TPM_RC_AUTH_UNAVAILABLE`, what
/// the reference answers when authorizing it).
#[derive(Debug)]
#[doc(alias = "TPM2_Certify")]
pub struct Certify;

impl Command for Certify {
    type In = CertifyIn;
    type Out = AttestOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: CertifyIn) -> TpmResult<AttestOut> {
        let (Some(&oh), Some(&sh)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let (signer, scheme) = signer_and_scheme(ctx, sh, 2, input.in_scheme.0, 2)?;
        let obj = ctx.object(oh).ok_or(Rc::HANDLE.handle(1))?;
        if obj.sensitive.is_none() {
            return Err(Rc::AUTH_UNAVAILABLE);
        }
        let attested = Attested::Certify {
            name: obj.name.clone(),
            qualified_name: obj.qualified_name.clone(),
        };
        let clock_info = ctx.clock_info();
        let attest = fill_attest(
            ctx,
            signer.as_ref(),
            input.qualifying_data.as_slice(),
            attested,
            clock_info,
        );
        sign_attest(ctx, signer.as_ref(), scheme, &attest)
    }
}

tpm_params! {
    /// `TPM2_CertifyCreation` parameters.
    pub struct CertifyCreationIn {
        /// `qualifyingData`.
        pub qualifying_data: Data2b,
        /// `creationHash` from Create/CreatePrimary.
        pub creation_hash: Digest2b,
        /// `inScheme`.
        pub in_scheme: SigScheme,
        /// `creationTicket` from Create/CreatePrimary.
        pub creation_ticket: CreationTicket,
    }
}

/// `TPM2_CertifyCreation` (Part 3, 18.3): handles `signHandle` (USER, may
/// be `TPM_RH_NULL`) and `objectHandle`. The ticket must be the
/// `TPMT_TK_CREATION` the TPM made for this object's Name and
/// `creationHash` (recomputed with the ticket's hierarchy; a NULL ticket
/// never matches): `TPM_RC_TICKET` on parameter 4 otherwise.
#[derive(Debug)]
#[doc(alias = "TPM2_CertifyCreation")]
pub struct CertifyCreation;

impl Command for CertifyCreation {
    type In = CertifyCreationIn;
    type Out = AttestOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: CertifyCreationIn,
    ) -> TpmResult<AttestOut> {
        let (Some(&sh), Some(&oh)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let (signer, scheme) = signer_and_scheme(ctx, sh, 1, input.in_scheme.0, 3)?;
        let obj = ctx.object(oh).ok_or(Rc::HANDLE.handle(2))?;
        let ticket = &input.creation_ticket.0;
        let creation_hash = input.creation_hash.as_slice();
        if obj.public.name_alg.is_none() {
            return Err(Rc::TICKET.param(4));
        }
        let expected =
            super::object::creation_ticket(ctx, ticket.hierarchy, &obj.name, creation_hash);
        if ticket.digest.is_empty()
            || expected.digest.is_empty()
            || !ct_eq(expected.digest.as_slice(), ticket.digest.as_slice())
        {
            return Err(Rc::TICKET.param(4));
        }
        let attested = Attested::Creation {
            object_name: obj.name.clone(),
            creation_hash: creation_hash.to_vec(),
        };
        let clock_info = ctx.clock_info();
        let attest = fill_attest(
            ctx,
            signer.as_ref(),
            input.qualifying_data.as_slice(),
            attested,
            clock_info,
        );
        sign_attest(ctx, signer.as_ref(), scheme, &attest)
    }
}

tpm_params! {
    /// `TPM2_Quote` parameters.
    pub struct QuoteIn {
        /// `qualifyingData`.
        pub qualifying_data: Data2b,
        /// `inScheme`.
        pub in_scheme: SigScheme,
        /// `PCRselect`.
        pub pcr_select: PcrSelectionList,
    }
}

/// `TPM2_Quote` (Part 3, 18.4). The PCR digest is the scheme's hash over
/// the selected PCR values (each selection in order, PCRs in ascending
/// order); selections of banks that are not active are kept with no PCR
/// selected. A NULL scheme (including `signHandle` = `TPM_RH_NULL`) has
/// no hash: `TPM_RC_SCHEME` on parameter 2.
#[derive(Debug)]
#[doc(alias = "TPM2_Quote")]
pub struct Quote;

impl Command for Quote {
    type In = QuoteIn;
    type Out = AttestOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: QuoteIn) -> TpmResult<AttestOut> {
        let sh = handles.first().copied().ok_or(Rc::FAILURE)?;
        let (signer, scheme) = signer_and_scheme(ctx, sh, 1, input.in_scheme.0, 2)?;
        let hash = scheme.hash().ok_or(Rc::SCHEME.param(2))?;
        let selection: Vec<PcrSelection> = input
            .pcr_select
            .0
            .iter()
            .map(|s| {
                let mut s = *s;
                if ctx.v.pcrs.bank(s.hash).is_none() {
                    s.select = Default::default();
                }
                s
            })
            .collect();
        let mut h = hash.start();
        for s in &selection {
            for i in 0..crate::wire::consts::sizes::PCR_COUNT {
                if s.select.has(i) {
                    if let Some(v) = ctx.v.pcrs.get(s.hash, i) {
                        h.update(v);
                    }
                }
            }
        }
        let attested = Attested::Quote {
            pcr_select: PcrSelectionList(selection),
            pcr_digest: h.finish(),
        };
        let clock_info = ctx.clock_info();
        let attest = fill_attest(
            ctx,
            signer.as_ref(),
            input.qualifying_data.as_slice(),
            attested,
            clock_info,
        );
        sign_attest(ctx, signer.as_ref(), scheme, &attest)
    }
}

tpm_params! {
    /// `TPM2_GetTime` parameters.
    pub struct GetTimeIn {
        /// `qualifyingData`.
        pub qualifying_data: Data2b,
        /// `inScheme`.
        pub in_scheme: SigScheme,
    }
}

/// `TPM2_GetTime` (Part 3, 18.7): handles `privacyAdminHandle`
/// (`TPM_RH_ENDORSEMENT`, USER) and `signHandle` (USER, may be
/// `TPM_RH_NULL`). The `TPMS_TIME_ATTEST_INFO` part carries the clock and
/// firmware version in the clear; the outer ones follow the privacy rule.
#[derive(Debug)]
#[doc(alias = "TPM2_GetTime")]
pub struct GetTime;

impl Command for GetTime {
    type In = GetTimeIn;
    type Out = AttestOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: GetTimeIn) -> TpmResult<AttestOut> {
        let sh = handles.get(1).copied().ok_or(Rc::FAILURE)?;
        let (signer, scheme) = signer_and_scheme(ctx, sh, 2, input.in_scheme.0, 2)?;
        let time = ctx.time_info();
        let clock_info = time.clock_info;
        let attested = Attested::Time {
            time,
            firmware_version: firmware_version(),
        };
        let attest = fill_attest(
            ctx,
            signer.as_ref(),
            input.qualifying_data.as_slice(),
            attested,
            clock_info,
        );
        sign_attest(ctx, signer.as_ref(), scheme, &attest)
    }
}
