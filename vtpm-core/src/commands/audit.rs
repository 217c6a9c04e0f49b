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
