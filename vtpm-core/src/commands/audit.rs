//! Part 3, 21: Command Audit (`TPM2_SetCommandCodeAuditStatus`).

use super::{Command, NoParams};
use crate::crypto::HashOrNull;
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::types::CcList;
use crate::wire::{cc, Handle, TpmResult};

tpm_params! {
    /// `TPM2_SetCommandCodeAuditStatus` parameters.
    pub struct SetCommandCodeAuditStatusIn {
        /// auditAlg (NULL keeps the current one).
        pub audit_alg: HashOrNull,
        /// Commands to add.
        pub set_list: CcList,
        /// Commands to remove.
        pub clear_list: CcList,
    }
}

/// `TPM2_SetCommandCodeAuditStatus` (Part 3, 21.2). Changing the hash
/// clears the digest and ignores the lists; unimplemented codes are
/// skipped; this command itself always stays audited.
#[derive(Debug)]
#[doc(alias = "TPM2_SetCommandCodeAuditStatus")]
pub struct SetCommandCodeAuditStatus;

impl Command for SetCommandCodeAuditStatus {
    type In = SetCommandCodeAuditStatusIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        _: &[Handle],
        input: SetCommandCodeAuditStatusIn,
    ) -> TpmResult<NoParams> {
        if let Some(a) = input.audit_alg.0 {
            if a.alg_id().0 != ctx.p.audit_alg {
                ctx.p.audit_alg = a.alg_id().0;
                ctx.v.command_audit_digest.clear();
                ctx.mark_dirty();
                return Ok(NoParams);
            }
        }
        for c in &input.set_list.0 {
            if super::lookup(*c).is_some() {
                if let Err(at) = ctx.p.audited.binary_search(&c.0) {
                    ctx.p.audited.insert(at, c.0);
                }
            }
        }
        for c in &input.clear_list.0 {
            if *c != cc::SETCOMMANDCODEAUDITSTATUS {
                ctx.p.audited.retain(|x| *x != c.0);
            }
        }
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

use super::attestation::{fill_attest, sign_attest, signer_and_scheme, AttestOut};
use crate::crypto::HashAlg;
use crate::wire::signature::{Attested, SigScheme};
use crate::wire::types::Data2b;
use crate::wire::Rc;

tpm_params! {
    /// `TPM2_GetCommandAuditDigest` / `GetSessionAuditDigest` parameters.
    pub struct AuditDigestIn {
        /// qualifyingData.
        pub qualifying_data: Data2b,
        /// inScheme.
        pub in_scheme: SigScheme,
    }
}

/// `TPM2_GetCommandAuditDigest` (Part 3, 18.5): signs the command audit
/// digest, the audit counter and a digest of the audited command codes,
/// then starts a new digest.
#[derive(Debug)]
#[doc(alias = "TPM2_GetCommandAuditDigest")]
pub struct GetCommandAuditDigest;

impl Command for GetCommandAuditDigest {
    type In = AuditDigestIn;
    type Out = AttestOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: AuditDigestIn) -> TpmResult<AttestOut> {
        let sh = handles.get(1).copied().ok_or(Rc::FAILURE)?;
        let (signer, scheme) = signer_and_scheme(ctx, sh, 2, input.in_scheme.0, 2)?;
        let alg = HashAlg::from_alg_id(crate::wire::AlgId(ctx.p.audit_alg));
        let (digest_alg, audit_digest, command_digest) = match alg {
            Some(a) => {
                let mut h = a.start();
                for c in &ctx.p.audited {
                    h.update(&c.to_be_bytes());
                }
                let d = if ctx.v.command_audit_digest.is_empty() {
                    alloc::vec![0u8; a.digest_size()]
                } else {
                    ctx.v.command_audit_digest.clone()
                };
                (a.alg_id(), d, h.finish())
            }
            None => (
                crate::wire::consts::alg::NULL,
                alloc::vec::Vec::new(),
                alloc::vec::Vec::new(),
            ),
        };
        let attested = Attested::CommandAudit {
            audit_counter: ctx.p.audit_counter,
            digest_alg,
            audit_digest,
            command_digest,
        };
        let clock_info = ctx.clock_info();
        let attest = fill_attest(
            ctx,
            signer.as_ref(),
            input.qualifying_data.as_slice(),
            attested,
            clock_info,
        );
        let out = sign_attest(ctx, signer.as_ref(), scheme, &attest)?;
        // The digest starts over once it has been reported (Part 3, 18.5.1).
        ctx.v.command_audit_digest.clear();
        Ok(out)
    }
}

/// `TPM2_GetSessionAuditDigest` (Part 3, 18.4).
#[derive(Debug)]
#[doc(alias = "TPM2_GetSessionAuditDigest")]
pub struct GetSessionAuditDigest;

impl Command for GetSessionAuditDigest {
    type In = AuditDigestIn;
    type Out = AttestOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: AuditDigestIn) -> TpmResult<AttestOut> {
        let (Some(&sh), Some(&session)) = (handles.get(1), handles.get(2)) else {
            return Err(Rc::FAILURE);
        };
        let (signer, scheme) = signer_and_scheme(ctx, sh, 2, input.in_scheme.0, 2)?;
        let s = ctx
            .v
            .sessions
            .get(&session.0)
            .and_then(|s| s.loaded.as_ref())
            .ok_or(Rc::REFERENCE_H0.plus(2))?;
        if s.policy {
            return Err(Rc::TYPE.handle(3));
        }
        let session_digest = s
            .audit_digest
            .clone()
            .unwrap_or_else(|| alloc::vec![0u8; s.hash.digest_size()]);
        let exclusive_session = ctx.v.exclusive_audit_session == Some(session.0);
        let attested = Attested::SessionAudit {
            exclusive_session,
            session_digest,
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
