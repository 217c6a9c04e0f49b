//! Part 3, 15: Hash/HMAC/Event Sequences (`TPM2_Hash` for now).

use super::Command;
use crate::crypto::{hmac, HashAlg};
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::consts::{rh, st};
use crate::wire::types::{Digest2b, MaxBuffer2b, Ticket, Tpm2b};
use crate::wire::{Handle, Rc, Reader, TpmResult, Unmarshal};

/// `TPM_GENERATED_VALUE` (Part 2, 6.2): data the TPM itself produced starts
/// with it, and a restricted key must not sign a digest of such data
/// unless the TPM made the digest.
pub const TPM_GENERATED_VALUE: [u8; 4] = [0xFF, 0x54, 0x43, 0x47];

/// `TPMI_RH_HIERARCHY+`: owner, endorsement, platform or null.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HierarchyOrNull(pub Handle);

impl Unmarshal for HierarchyOrNull {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let h: Handle = r.read()?;
        match h {
            rh::OWNER | rh::ENDORSEMENT | rh::PLATFORM | rh::NULL => Ok(HierarchyOrNull(h)),
            _ => Err(Rc::VALUE),
        }
    }
}

impl crate::wire::Marshal for HierarchyOrNull {
    fn marshal(&self, w: &mut crate::wire::Writer) {
        w.write(&self.0);
    }
}

/// A `TPMT_TK_HASHCHECK` for `digest` (Part 2, 10.6.7, eq. 7):
/// `HMAC_contextAlg(proof, TPM_ST_HASHCHECK || digest)`, whatever hash made
/// the digest. A NULL ticket for `TPM_RH_NULL` or for data that starts
/// with `TPM_GENERATED_VALUE`.
pub fn hashcheck_ticket(
    ctx: &Ctx<'_>,
    hierarchy: Handle,
    data_start: &[u8],
    digest: &[u8],
) -> Ticket {
    if hierarchy == rh::NULL || data_start.starts_with(&TPM_GENERATED_VALUE) {
        return Ticket::null(st::HASHCHECK);
    }
    let Some(proof) = ctx.hierarchy_proof(hierarchy) else {
        return Ticket::null(st::HASHCHECK);
    };
    let mac = hmac::hmac(
        super::signature::CONTEXT_HASH,
        proof,
        &[&st::HASHCHECK.0.to_be_bytes(), digest],
    );
    Ticket {
        tag: st::HASHCHECK,
        hierarchy,
        digest: Tpm2b(mac),
    }
}

tpm_params! {
    /// `TPM2_Hash` parameters.
    pub struct HashIn {
        /// Data to hash.
        pub data: MaxBuffer2b,
        /// The algorithm (`TPM_RC_HASH` for NULL or unimplemented).
        pub hash_alg: HashAlg,
        /// The hierarchy for the ticket.
        pub hierarchy: HierarchyOrNull,
    }
}

tpm_params! {
    /// `TPM2_Hash` response.
    pub struct HashOut {
        /// The digest.
        pub out_hash: Digest2b,
        /// The ticket.
        pub validation: Ticket,
    }
}

/// `TPM2_Hash` (Part 3, 15.4).
#[derive(Debug)]
#[doc(alias = "TPM2_Hash")]
pub struct Hash;

impl Command for Hash {
    type In = HashIn;
    type Out = HashOut;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: HashIn) -> TpmResult<HashOut> {
        let hierarchy = input.hierarchy.0;
        if !ctx.hierarchy_enabled(hierarchy) {
            return Err(Rc::HIERARCHY.param(3));
        }
        let data = input.data.as_slice();
        let digest = input.hash_alg.digest(data);
        let validation = hashcheck_ticket(ctx, hierarchy, data, &digest);
        Ok(HashOut {
            out_hash: Tpm2b(digest),
            validation,
        })
    }
}
