//! Part 3, 23: Enhanced Authorization (EA) Commands.
//!
//! Each command checks what it asserts (unless the session is a trial
//! session) and extends the session's policyDigest as Part 3 specifies:
//! `policyDigest' = H(policyDigest || TPM_CC || ...)`.

use alloc::vec::Vec;

use super::session::policy_session;
use super::{Command, NoParams, ToParams};
use crate::auth::process::{entity_name, find_nv};
use crate::auth::session::Session;
use crate::crypto::hmac::hmac;
use crate::crypto::secret::ct_eq;
use crate::crypto::HashAlg;
use crate::engine::Ctx;
use crate::state::nv::nva;
use crate::tpm_params;
use crate::wire::cc;
use crate::wire::consts::{rh, sizes, st};
use crate::wire::object::Name2b;
use crate::wire::signature::Signature;
use crate::wire::types::{Digest2b, DigestList, PcrSelectionList, Ticket, Timeout2b, Tpm2b, YesNo};
use crate::wire::{CommandCode, Handle, Marshal, Rc, StructTag, TpmResult, Writer};

fn first(handles: &[Handle]) -> TpmResult<Handle> {
    handles.first().copied().ok_or(Rc::FAILURE)
}

fn last(handles: &[Handle]) -> TpmResult<Handle> {
    handles.last().copied().ok_or(Rc::FAILURE)
}

/// PolicyUpdate (Part 3, 23.2.3): `H(H(pd || cc || name) || policyRef)`.
fn policy_update(s: &mut Session, code: CommandCode, name: &[u8], policy_ref: &[u8]) {
    s.extend_policy(&[&code.0.to_be_bytes(), name]);
    s.extend_policy(&[policy_ref]);
}

/// Set the session's cpHash restriction, refusing a conflicting one
/// (`TPM_RC_CPHASH`).
fn set_cp_hash(s: &mut Session, cp: &[u8]) -> TpmResult<()> {
    if cp.is_empty() {
        return Ok(());
    }
    if cp.len() != s.hash.digest_size() {
        return Err(Rc::SIZE);
    }
    match &s.cp_hash {
        Some(old) if old.as_slice() != cp => Err(Rc::CPHASH),
        _ if s.name_hash.is_some() || s.template_hash.is_some() || s.param_hash.is_some() => {
            Err(Rc::CPHASH)
        }
        _ => {
            s.cp_hash = Some(cp.to_vec());
            Ok(())
        }
    }
}

/// Context for the `TPMT_TK_AUTH` HMAC: SHA-256 keyed with the proof of
/// the hierarchy of the authorizing entity (Part 3, 23.2.5).
#[allow(clippy::too_many_arguments)]
fn auth_ticket_hmac(
    proof: &[u8],
    tag: StructTag,
    cp: &[u8],
    policy_ref: &[u8],
    name: &[u8],
    timeout: &[u8],
    epoch: u64,
    reset: Option<u32>,
) -> Vec<u8> {
    let mut parts: Vec<Vec<u8>> = alloc::vec![
        tag.0.to_be_bytes().to_vec(),
        cp.to_vec(),
        policy_ref.to_vec(),
        name.to_vec(),
        timeout.to_vec()
    ];
    if !timeout.iter().all(|b| *b == 0) {
        parts.push(epoch.to_be_bytes().to_vec());
        if let Some(r) = reset {
            parts.push(r.to_be_bytes().to_vec());
        }
    }
    let refs: Vec<&[u8]> = parts.iter().map(|p| p.as_slice()).collect();
    hmac(HashAlg::Sha256, proof, &refs)
}

/// The hierarchy an entity's tickets are bound to.
fn entity_hierarchy(ctx: &Ctx<'_>, h: Handle) -> Handle {
    if let Some(o) = ctx.object(h) {
        return o.hierarchy;
    }
    if let Some(i) = find_nv(&ctx.p, h) {
        return if i.has(nva::PLATFORMCREATE) {
            rh::PLATFORM
        } else {
            rh::OWNER
        };
    }
    match h {
        rh::ENDORSEMENT => rh::ENDORSEMENT,
        rh::PLATFORM => rh::PLATFORM,
        rh::NULL => rh::NULL,
        _ => rh::OWNER,
    }
}

tpm_params! {
    /// `TPM2_PolicySecret` parameters.
    pub struct PolicySecretIn {
        /// nonceTPM of the policy session (or empty).
        pub nonce_tpm: Digest2b,
        /// cpHashA.
        pub cp_hash_a: Digest2b,
        /// policyRef.
        pub policy_ref: Digest2b,
        /// expiration in seconds (negative asks for a ticket).
        pub expiration: u32,
    }
}

/// `TPM2_PolicySecret`/`PolicySigned` response.
#[derive(Debug)]
pub struct PolicyAuthOut {
    /// timeout.
    pub timeout: Vec<u8>,
    /// policyTicket.
    pub ticket: Ticket,
}

impl ToParams for PolicyAuthOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.tpm2b(&self.timeout);
        w.write(&self.ticket);
    }
}

/// The part PolicySecret and PolicySigned share (Part 3, 23.2.4 and 23.2.5).
#[allow(clippy::too_many_arguments)]
fn authorize_and_update(
    ctx: &mut Ctx<'_>,
    session_h: Handle,
    code: CommandCode,
    auth_name: &[u8],
    hierarchy: Handle,
    nonce_tpm: &[u8],
    cp_hash_a: &[u8],
    policy_ref: &[u8],
    expiration: i32,
) -> TpmResult<PolicyAuthOut> {
    let now = ctx.time_info().time;
    let epoch = ctx.v.time_epoch;
    let total_reset = ctx.p.total_reset_count;
    let proof = ctx.hierarchy_proof(hierarchy).map(|p| p.to_vec());
    let s = policy_session(ctx, session_h)?;
    if !nonce_tpm.is_empty() && !ct_eq(nonce_tpm, &s.nonce_tpm) {
        return Err(Rc::NONCE.param(1));
    }
    let mut timeout_ms = 0u64;
    if expiration != 0 {
        // Expiration counts from when nonceTPM was made (the session start).
        let secs = u64::from(expiration.unsigned_abs());
        timeout_ms = s.start_ms.saturating_add(secs.saturating_mul(1000));
        if !s.trial {
            // A nonceTPM from before the last _TPM_Init is of unknown age.
            if now > timeout_ms || s.before_init {
                return Err(Rc::EXPIRED.param(4));
            }
            s.timeout_ms = Some(s.timeout_ms.map_or(timeout_ms, |t| t.min(timeout_ms)));
        }
    }
    set_cp_hash(s, cp_hash_a).map_err(|e| e.param(2))?;
    policy_update(s, code, auth_name, policy_ref);
    let tag = if code == cc::POLICYSECRET {
        st::AUTH_SECRET
    } else {
        st::AUTH_SIGNED
    };
    if expiration < 0 && !s.trial {
        if let Some(proof) = proof {
            let timeout = timeout_ms.to_be_bytes();
            let reset = if nonce_tpm.is_empty() {
                Some(total_reset)
            } else {
                None
            };
            let mac = auth_ticket_hmac(
                &proof, tag, cp_hash_a, policy_ref, auth_name, &timeout, epoch, reset,
            );
            return Ok(PolicyAuthOut {
                timeout: timeout.to_vec(),
                ticket: Ticket {
                    tag,
                    hierarchy,
                    digest: Tpm2b(mac),
                },
            });
        }
    }
    Ok(PolicyAuthOut {
        timeout: Vec::new(),
        ticket: Ticket::null(tag),
    })
}

/// `TPM2_PolicySecret` (Part 3, 23.4): the authorization of `authHandle`
/// was checked by the session that came with the command.
#[derive(Debug)]
#[doc(alias = "TPM2_PolicySecret")]
pub struct PolicySecret;

impl Command for PolicySecret {
    type In = PolicySecretIn;
    type Out = PolicyAuthOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: PolicySecretIn,
    ) -> TpmResult<PolicyAuthOut> {
        let auth_h = first(handles)?;
        let session_h = last(handles)?;
        let name = entity_name(&ctx.p, ctx.v, auth_h);
        let hierarchy = entity_hierarchy(ctx, auth_h);
        #[allow(clippy::cast_possible_wrap)]
        let expiration = input.expiration as i32;
        authorize_and_update(
            ctx,
            session_h,
            cc::POLICYSECRET,
            &name,
            hierarchy,
            input.nonce_tpm.as_slice(),
            input.cp_hash_a.as_slice(),
            input.policy_ref.as_slice(),
            expiration,
        )
    }
}

tpm_params! {
    /// `TPM2_PolicySigned` parameters.
    pub struct PolicySignedIn {
        /// nonceTPM of the policy session (or empty).
        pub nonce_tpm: Digest2b,
        /// cpHashA.
        pub cp_hash_a: Digest2b,
        /// policyRef.
        pub policy_ref: Digest2b,
        /// expiration in seconds (negative asks for a ticket).
        pub expiration: u32,
        /// The signature over aHash.
        pub auth: Signature,
    }
}

/// `TPM2_PolicySigned` (Part 3, 23.3): `auth` must be a signature by
/// `authObject` over `aHash = H(nonceTPM || expiration || cpHashA || policyRef)`
/// with the key's nameAlg.
#[derive(Debug)]
#[doc(alias = "TPM2_PolicySigned")]
pub struct PolicySigned;

impl Command for PolicySigned {
    type In = PolicySignedIn;
    type Out = PolicyAuthOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: PolicySignedIn,
    ) -> TpmResult<PolicyAuthOut> {
        let key_h = first(handles)?;
        let session_h = last(handles)?;
        let key = ctx.object(key_h).ok_or(Rc::HANDLE.handle(1))?.clone();
        let trial = policy_session(ctx, session_h)?.trial;
        if !trial {
            let alg = key.public.name_alg.ok_or(Rc::KEY.handle(1))?;
            let a_hash = alg.digest_parts(&[
                input.nonce_tpm.as_slice(),
                &input.expiration.to_be_bytes(),
                input.cp_hash_a.as_slice(),
                input.policy_ref.as_slice(),
            ]);
            if let Some(h) = input.auth.hash() {
                // The signature's hash must be the one aHash was made with.
                if h != alg {
                    return Err(Rc::HASH.param(5));
                }
            }
            super::signature::verify_signature(&key, &a_hash, &input.auth)
                .map_err(|e| e.param(5))?;
        }
        #[allow(clippy::cast_possible_wrap)]
        let expiration = input.expiration as i32;
        authorize_and_update(
            ctx,
            session_h,
            cc::POLICYSIGNED,
            &key.name,
            key.hierarchy,
            input.nonce_tpm.as_slice(),
            input.cp_hash_a.as_slice(),
            input.policy_ref.as_slice(),
            expiration,
        )
    }
}

tpm_params! {
    /// `TPM2_PolicyTicket` parameters.
    pub struct PolicyTicketIn {
        /// timeout from the ticket-producing command.
        pub timeout: Timeout2b,
        /// cpHashA.
        pub cp_hash_a: Digest2b,
        /// policyRef.
        pub policy_ref: Digest2b,
        /// authName.
        pub auth_name: Name2b,
        /// The ticket.
        pub ticket: Ticket,
    }
}

/// `TPM2_PolicyTicket` (Part 3, 23.5).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyTicket")]
pub struct PolicyTicket;

impl Command for PolicyTicket {
    type In = PolicyTicketIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyTicketIn) -> TpmResult<NoParams> {
        let sh = first(handles)?;
        let code = match input.ticket.tag {
            st::AUTH_SECRET => cc::POLICYSECRET,
            st::AUTH_SIGNED => cc::POLICYSIGNED,
            _ => return Err(Rc::TAG.param(5)),
        };
        let timeout = input.timeout.as_slice();
        let t = u64::from_be_bytes(timeout.try_into().map_err(|_| Rc::SIZE.param(1))?);
        let now = ctx.time_info().time;
        if t != 0 && now > t {
            return Err(Rc::EXPIRED.param(1));
        }
        let proof = ctx
            .hierarchy_proof(input.ticket.hierarchy)
            .ok_or(Rc::TICKET.param(5))?
            .to_vec();
        let epoch = ctx.v.time_epoch;
        let total_reset = ctx.p.total_reset_count;
        let name = input.auth_name.as_slice();
        // A ticket bound to a nonce (no resetCount) or not: accept either form.
        let ok = [None, Some(total_reset)].iter().any(|reset| {
            let mac = auth_ticket_hmac(
                &proof,
                input.ticket.tag,
                input.cp_hash_a.as_slice(),
                input.policy_ref.as_slice(),
                name,
                timeout,
                epoch,
                *reset,
            );
            ct_eq(&mac, input.ticket.digest.as_slice())
        });
        if !ok {
            return Err(Rc::TICKET.param(5));
        }
        let s = policy_session(ctx, sh)?;
        set_cp_hash(s, input.cp_hash_a.as_slice()).map_err(|e| e.param(2))?;
        if t != 0 {
            s.timeout_ms = Some(s.timeout_ms.map_or(t, |o| o.min(t)));
        }
        policy_update(s, code, name, input.policy_ref.as_slice());
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyOR` parameters.
    pub struct PolicyOrIn {
        /// pHashList (2 to 8 digests).
        pub p_hash_list: DigestList,
    }
}

/// `TPM2_PolicyOR` (Part 3, 23.6).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyOR")]
pub struct PolicyOr;

impl Command for PolicyOr {
    type In = PolicyOrIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyOrIn) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        let list = &input.p_hash_list.0;
        if list.len() < 2 {
            return Err(Rc::SIZE.param(1));
        }
        if !s.trial
            && !list
                .iter()
                .any(|d| d.as_slice() == s.policy_digest.as_slice())
        {
            return Err(Rc::VALUE.param(1));
        }
        s.policy_digest = alloc::vec![0u8; s.hash.digest_size()];
        let mut parts: Vec<&[u8]> = Vec::new();
        let code = cc::POLICYOR.0.to_be_bytes();
        parts.push(&code);
        for d in list {
            parts.push(d.as_slice());
        }
        s.extend_policy(&parts);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyPCR` parameters.
    pub struct PolicyPcrIn {
        /// Expected digest of the selected PCRs (or empty).
        pub pcr_digest: Digest2b,
        /// The PCRs.
        pub pcrs: PcrSelectionList,
    }
}

/// `TPM2_PolicyPCR` (Part 3, 23.7).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyPCR")]
pub struct PolicyPcr;

impl Command for PolicyPcr {
    type In = PolicyPcrIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyPcrIn) -> TpmResult<NoParams> {
        let sh = first(handles)?;
        let counter = ctx.v.pcr_update_counter;
        let hash = policy_session(ctx, sh)?.hash;
        let mut h = hash.start();
        for sel in &input.pcrs.0 {
            for i in 0..sizes::PCR_COUNT {
                if sel.select.has(i) {
                    if let Some(v) = ctx.v.pcrs.get(sel.hash, i) {
                        h.update(v);
                    }
                }
            }
        }
        let current = h.finish();
        let s = policy_session(ctx, sh)?;
        let digest = if s.trial {
            if input.pcr_digest.is_empty() {
                current
            } else {
                input.pcr_digest.0.clone()
            }
        } else {
            if !input.pcr_digest.is_empty() && input.pcr_digest.as_slice() != current.as_slice() {
                return Err(Rc::VALUE.param(1));
            }
            if let Some(c) = s.pcr_counter {
                if c != counter {
                    return Err(Rc::PCR_CHANGED);
                }
            }
            s.pcr_counter = Some(counter);
            current
        };
        s.extend_policy(&[
            &cc::POLICYPCR.0.to_be_bytes(),
            &input.pcrs.to_bytes(),
            &digest,
        ]);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyLocality` parameters.
    pub struct PolicyLocalityIn {
        /// `TPMA_LOCALITY`.
        pub locality: u8,
    }
}

/// `TPM2_PolicyLocality` (Part 3, 23.8).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyLocality")]
pub struct PolicyLocality;

impl Command for PolicyLocality {
    type In = PolicyLocalityIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyLocalityIn) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        let l = input.locality;
        if l == 0 {
            return Err(Rc::RANGE.param(1));
        }
        let new = match s.locality {
            None => l,
            Some(old) if old < 32 && l < 32 => {
                let both = old & l;
                if both == 0 {
                    return Err(Rc::RANGE.param(1));
                }
                both
            }
            Some(old) if old == l => l,
            Some(_) => return Err(Rc::RANGE.param(1)),
        };
        s.locality = Some(new);
        s.extend_policy(&[&cc::POLICYLOCALITY.0.to_be_bytes(), &[l]]);
        Ok(NoParams)
    }
}

/// Operations of PolicyNV and PolicyCounterTimer (`TPM_EO`, Part 2, 6.8).
fn compare(op: u16, a: &[u8], b: &[u8]) -> TpmResult<bool> {
    let signed_cmp = || -> core::cmp::Ordering {
        let neg_a = a.first().is_some_and(|x| x & 0x80 != 0);
        let neg_b = b.first().is_some_and(|x| x & 0x80 != 0);
        match (neg_a, neg_b) {
            (true, false) => core::cmp::Ordering::Less,
            (false, true) => core::cmp::Ordering::Greater,
            // Two negative operands: the reference implementation (and so
            // libtpms and the tools' tests) reverses the octet comparison;
            // we keep its answers for compatibility.
            (true, true) => b.cmp(a),
            (false, false) => a.cmp(b),
        }
    };
    use core::cmp::Ordering::{Greater, Less};
    Ok(match op {
        0x0000 => a == b,
        0x0001 => a != b,
        0x0002 => signed_cmp() == Greater,
        0x0003 => a.cmp(b) == Greater,
        0x0004 => signed_cmp() == Less,
        0x0005 => a.cmp(b) == Less,
        0x0006 => signed_cmp() != Less,
        0x0007 => a.cmp(b) != Less,
        0x0008 => signed_cmp() != Greater,
        0x0009 => a.cmp(b) != Greater,
        0x000A => a.iter().zip(b).all(|(x, y)| x & y == *y),
        0x000B => a.iter().zip(b).all(|(x, y)| x & y == 0),
        _ => return Err(Rc::VALUE),
    })
}

tpm_params! {
    /// `TPM2_PolicyNV` / `PolicyCounterTimer` parameters.
    pub struct PolicyCompareIn {
        /// operandB.
        pub operand_b: Digest2b,
        /// offset.
        pub offset: u16,
        /// `TPM_EO`.
        pub operation: u16,
    }
}

fn args_hash(hash: HashAlg, input: &PolicyCompareIn) -> Vec<u8> {
    hash.digest_parts(&[
        input.operand_b.as_slice(),
        &input.offset.to_be_bytes(),
        &input.operation.to_be_bytes(),
    ])
}

/// `TPM2_PolicyNV` (Part 3, 23.9).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyNV")]
pub struct PolicyNv;

impl Command for PolicyNv {
    type In = PolicyCompareIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyCompareIn) -> TpmResult<NoParams> {
        let (Some(&auth_h), Some(&nv_h), Some(&sh)) =
            (handles.first(), handles.get(1), handles.get(2))
        else {
            return Err(Rc::FAILURE);
        };
        let trial = policy_session(ctx, sh)?.trial;
        let idx = find_nv(&ctx.p, nv_h).ok_or(Rc::HANDLE.handle(2))?.clone();
        if !trial {
            super::nv::read_access(auth_h, &idx)?;
            let start = usize::from(input.offset);
            let end = start
                .checked_add(input.operand_b.len())
                .ok_or(Rc::NV_RANGE)?;
            if end > usize::from(idx.data_size) {
                return Err(Rc::NV_RANGE);
            }
            let a = idx.data.get(start..end).ok_or(Rc::NV_RANGE)?;
            if !compare(input.operation, a, input.operand_b.as_slice()).map_err(|e| e.param(3))? {
                return Err(Rc::POLICY);
            }
        }
        let name = idx.name();
        let s = policy_session(ctx, sh)?;
        let args = args_hash(s.hash, &input);
        s.extend_policy(&[&cc::POLICYNV.0.to_be_bytes(), &args, &name]);
        Ok(NoParams)
    }
}

/// `TPM2_PolicyCounterTimer` (Part 3, 23.10): compares against
/// `TPMS_TIME_INFO` as marshaled.
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyCounterTimer")]
pub struct PolicyCounterTimer;

impl Command for PolicyCounterTimer {
    type In = PolicyCompareIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyCompareIn) -> TpmResult<NoParams> {
        let sh = first(handles)?;
        let info = ctx.time_info().to_bytes();
        let s = policy_session(ctx, sh)?;
        if !s.trial {
            let start = usize::from(input.offset);
            let end = start
                .checked_add(input.operand_b.len())
                .ok_or(Rc::RANGE.param(2))?;
            let a = info.get(start..end).ok_or(Rc::RANGE.param(2))?;
            if !compare(input.operation, a, input.operand_b.as_slice()).map_err(|e| e.param(3))? {
                return Err(Rc::POLICY);
            }
        }
        let args = args_hash(s.hash, &input);
        s.extend_policy(&[&cc::POLICYCOUNTERTIMER.0.to_be_bytes(), &args]);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyCommandCode` parameters.
    pub struct PolicyCommandCodeIn {
        /// The command code.
        pub code: CommandCode,
    }
}

/// `TPM2_PolicyCommandCode` (Part 3, 23.11).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyCommandCode")]
pub struct PolicyCommandCode;

impl Command for PolicyCommandCode {
    type In = PolicyCommandCodeIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: PolicyCommandCodeIn,
    ) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        if s.command_code.is_some_and(|c| c != input.code.0) {
            return Err(Rc::VALUE.param(1));
        }
        if super::lookup(input.code).is_none() {
            return Err(Rc::POLICY_CC.param(1));
        }
        s.command_code = Some(input.code.0);
        s.extend_policy(&[
            &cc::POLICYCOMMANDCODE.0.to_be_bytes(),
            &input.code.0.to_be_bytes(),
        ]);
        Ok(NoParams)
    }
}

/// `TPM2_PolicyPhysicalPresence` (Part 3, 23.12).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyPhysicalPresence")]
pub struct PolicyPhysicalPresence;

impl Command for PolicyPhysicalPresence {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        s.pp_required = true;
        s.extend_policy(&[&cc::POLICYPHYSICALPRESENCE.0.to_be_bytes()]);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyCpHash` parameters.
    pub struct PolicyCpHashIn {
        /// cpHashA.
        pub cp_hash_a: Digest2b,
    }
}

/// `TPM2_PolicyCpHash` (Part 3, 23.13).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyCpHash")]
pub struct PolicyCpHash;

impl Command for PolicyCpHash {
    type In = PolicyCpHashIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyCpHashIn) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        if input.cp_hash_a.len() != s.hash.digest_size() {
            return Err(Rc::SIZE.param(1));
        }
        set_cp_hash(s, input.cp_hash_a.as_slice()).map_err(|e| e.param(1))?;
        s.extend_policy(&[
            &cc::POLICYCPHASH.0.to_be_bytes(),
            input.cp_hash_a.as_slice(),
        ]);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyNameHash` parameters.
    pub struct PolicyNameHashIn {
        /// nameHash.
        pub name_hash: Digest2b,
    }
}

/// `TPM2_PolicyNameHash` (Part 3, 23.14).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyNameHash")]
pub struct PolicyNameHash;

impl Command for PolicyNameHash {
    type In = PolicyNameHashIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyNameHashIn) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        if input.name_hash.len() != s.hash.digest_size() {
            return Err(Rc::SIZE.param(1));
        }
        if s.command_restricted() {
            return Err(Rc::CPHASH);
        }
        s.name_hash = Some(input.name_hash.0.clone());
        s.extend_policy(&[
            &cc::POLICYNAMEHASH.0.to_be_bytes(),
            input.name_hash.as_slice(),
        ]);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyDuplicationSelect` parameters.
    pub struct PolicyDuplicationSelectIn {
        /// objectName.
        pub object_name: Name2b,
        /// newParentName.
        pub new_parent_name: Name2b,
        /// Include objectName in the policy.
        pub include_object: YesNo,
    }
}

/// `TPM2_PolicyDuplicationSelect` (Part 3, 23.15).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyDuplicationSelect")]
pub struct PolicyDuplicationSelect;

impl Command for PolicyDuplicationSelect {
    type In = PolicyDuplicationSelectIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: PolicyDuplicationSelectIn,
    ) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        if s.cp_hash.is_some() || s.name_hash.is_some() || s.param_hash.is_some() {
            return Err(Rc::CPHASH);
        }
        if s.command_code.is_some_and(|c| c != cc::DUPLICATE.0) {
            return Err(Rc::COMMAND_CODE);
        }
        s.name_hash = Some(s.hash.digest_parts(&[
            input.object_name.as_slice(),
            input.new_parent_name.as_slice(),
        ]));
        let code = cc::POLICYDUPLICATIONSELECT.0.to_be_bytes();
        let flag = [u8::from(input.include_object.0)];
        if input.include_object.0 {
            s.extend_policy(&[
                &code,
                input.object_name.as_slice(),
                input.new_parent_name.as_slice(),
                &flag,
            ]);
        } else {
            s.extend_policy(&[&code, input.new_parent_name.as_slice(), &flag]);
        }
        s.command_code = Some(cc::DUPLICATE.0);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyAuthorize` parameters.
    pub struct PolicyAuthorizeIn {
        /// approvedPolicy.
        pub approved_policy: Digest2b,
        /// policyRef.
        pub policy_ref: Digest2b,
        /// keySign: the Name of the key that signed.
        pub key_sign: Name2b,
        /// checkTicket (`TPMT_TK_VERIFIED`).
        pub check_ticket: Ticket,
    }
}

/// `TPM2_PolicyAuthorize` (Part 3, 23.16).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyAuthorize")]
pub struct PolicyAuthorize;

impl Command for PolicyAuthorize {
    type In = PolicyAuthorizeIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyAuthorizeIn) -> TpmResult<NoParams> {
        let sh = first(handles)?;
        let key_name = input.key_sign.as_slice();
        let (name_alg_id, _) = key_name.split_first_chunk::<2>().ok_or(Rc::SIZE.param(3))?;
        let key_alg = HashAlg::from_alg_id(crate::wire::AlgId(u16::from_be_bytes(*name_alg_id)))
            .ok_or(Rc::HASH.param(3))?;
        if key_name.len() != 2usize.saturating_add(key_alg.digest_size()) {
            return Err(Rc::SIZE.param(3));
        }
        // checkTicket must be a TPMT_TK_VERIFIED even in a trial session
        // (its unmarshalling checks the tag, Part 2, 10.6.5).
        if input.check_ticket.tag != st::VERIFIED {
            return Err(Rc::TAG.param(4));
        }
        let trial = policy_session(ctx, sh)?.trial;
        if !trial {
            let current = policy_session(ctx, sh)?.policy_digest.clone();
            if input.approved_policy.as_slice() != current.as_slice() {
                return Err(Rc::VALUE.param(1));
            }
            let a_hash = key_alg.digest_parts(&[
                input.approved_policy.as_slice(),
                input.policy_ref.as_slice(),
            ]);
            if !super::signature::verified_ticket_valid(ctx, &input.check_ticket, &a_hash, key_name)
            {
                // v185 Part 3, 23.16.1: an invalid ticket is TPM_RC_POLICY.
                return Err(Rc::POLICY);
            }
        }
        let s = policy_session(ctx, sh)?;
        s.policy_digest = alloc::vec![0u8; s.hash.digest_size()];
        policy_update(
            s,
            cc::POLICYAUTHORIZE,
            key_name,
            input.policy_ref.as_slice(),
        );
        Ok(NoParams)
    }
}

/// `TPM2_PolicyAuthValue` (Part 3, 23.17).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyAuthValue")]
pub struct PolicyAuthValue;

impl Command for PolicyAuthValue {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        s.auth_value_needed = true;
        s.password_needed = false;
        s.extend_policy(&[&cc::POLICYAUTHVALUE.0.to_be_bytes()]);
        Ok(NoParams)
    }
}

/// `TPM2_PolicyPassword` (Part 3, 23.18): the digest is extended as for
/// PolicyAuthValue, so the two are interchangeable in a policy.
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyPassword")]
pub struct PolicyPassword;

impl Command for PolicyPassword {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        s.password_needed = true;
        s.auth_value_needed = false;
        s.extend_policy(&[&cc::POLICYAUTHVALUE.0.to_be_bytes()]);
        Ok(NoParams)
    }
}

/// `TPM2_PolicyGetDigest` response.
#[derive(Debug)]
pub struct PolicyGetDigestOut {
    /// policyDigest.
    pub policy_digest: Vec<u8>,
}

impl ToParams for PolicyGetDigestOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.tpm2b(&self.policy_digest);
    }
}

/// `TPM2_PolicyGetDigest` (Part 3, 23.19).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyGetDigest")]
pub struct PolicyGetDigest;

impl Command for PolicyGetDigest {
    type In = NoParams;
    type Out = PolicyGetDigestOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<PolicyGetDigestOut> {
        let s = policy_session(ctx, first(handles)?)?;
        Ok(PolicyGetDigestOut {
            policy_digest: s.policy_digest.clone(),
        })
    }
}

tpm_params! {
    /// `TPM2_PolicyNvWritten` parameters.
    pub struct PolicyNvWrittenIn {
        /// The WRITTEN state required.
        pub written_set: YesNo,
    }
}

/// `TPM2_PolicyNvWritten` (Part 3, 23.20).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyNvWritten")]
pub struct PolicyNvWritten;

impl Command for PolicyNvWritten {
    type In = PolicyNvWrittenIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyNvWrittenIn) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        let w = input.written_set.0;
        if s.nv_written.is_some_and(|o| o != w) {
            return Err(Rc::VALUE.param(1));
        }
        s.nv_written = Some(w);
        s.extend_policy(&[&cc::POLICYNVWRITTEN.0.to_be_bytes(), &[u8::from(w)]]);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyTemplate` parameters.
    pub struct PolicyTemplateIn {
        /// templateHash.
        pub template_hash: Digest2b,
    }
}

/// `TPM2_PolicyTemplate` (Part 3, 23.21).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyTemplate")]
pub struct PolicyTemplate;

impl Command for PolicyTemplate {
    type In = PolicyTemplateIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PolicyTemplateIn) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        if input.template_hash.len() != s.hash.digest_size() {
            return Err(Rc::SIZE.param(1));
        }
        if s.cp_hash.is_some()
            || s.name_hash.is_some()
            || s.param_hash.is_some()
            || s.template_hash
                .as_ref()
                .is_some_and(|t| t.as_slice() != input.template_hash.as_slice())
        {
            return Err(Rc::CPHASH);
        }
        s.template_hash = Some(input.template_hash.0.clone());
        s.extend_policy(&[
            &cc::POLICYTEMPLATE.0.to_be_bytes(),
            input.template_hash.as_slice(),
        ]);
        Ok(NoParams)
    }
}

/// `TPM2_PolicyAuthorizeNV` (Part 3, 23.22): the index holds a `TPMT_HA`
/// that must equal the current policyDigest.
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyAuthorizeNV")]
pub struct PolicyAuthorizeNv;

impl Command for PolicyAuthorizeNv {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let (Some(&auth_h), Some(&nv_h), Some(&sh)) =
            (handles.first(), handles.get(1), handles.get(2))
        else {
            return Err(Rc::FAILURE);
        };
        let idx = find_nv(&ctx.p, nv_h).ok_or(Rc::HANDLE.handle(2))?.clone();
        let s = policy_session(ctx, sh)?;
        if !s.trial {
            super::nv::read_access(auth_h, &idx)?;
            let (alg, digest) = idx.data.split_first_chunk::<2>().ok_or(Rc::VALUE)?;
            let alg = HashAlg::from_alg_id(crate::wire::AlgId(u16::from_be_bytes(*alg)))
                .ok_or(Rc::HASH)?;
            if alg != s.hash || digest.get(..alg.digest_size()) != Some(s.policy_digest.as_slice())
            {
                return Err(Rc::VALUE);
            }
        }
        s.policy_digest = alloc::vec![0u8; s.hash.digest_size()];
        s.extend_policy(&[&cc::POLICYAUTHORIZENV.0.to_be_bytes(), &idx.name()]);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyCapability` parameters.
    pub struct PolicyCapabilityIn {
        /// operandB (`TPM2B_OPERAND`).
        pub operand_b: Digest2b,
        /// offset into the property structure.
        pub offset: u16,
        /// `TPM_EO`.
        pub operation: u16,
        /// `TPM_CAP`.
        pub capability: u32,
        /// The property (handle, command code, algorithm, ...).
        pub property: u32,
    }
}

/// The one property structure (operand A) of `capability` whose key is
/// exactly `property` (Part 3, Table 184), as `TPM2_GetCapability` would
/// return it; `None` when the TPM does not have that property.
/// Capabilities PolicyCapability cannot use are `TPM_RC_VALUE` on
/// `capability`.
fn capability_property(
    ctx: &mut Ctx<'_>,
    capability: u32,
    property: u32,
) -> TpmResult<Option<Vec<u8>>> {
    use crate::wire::consts::cap;
    // The octets of an item's key, compared with `property`.
    let key_of = |item: &[u8]| -> Option<u32> {
        let be16 = |b: &[u8]| b.get(..2)?.try_into().ok().map(u16::from_be_bytes);
        let be32 = |b: &[u8]| b.get(..4)?.try_into().ok().map(u32::from_be_bytes);
        match capability {
            cap::ALGS | cap::ECC_CURVES => be16(item).map(u32::from),
            // TPMA_CC: commandIndex and the V bit make the command code.
            cap::COMMANDS => be32(item).map(|a| a & (0xFFFF | 1 << 29)),
            _ => be32(item),
        }
    };
    match capability {
        cap::ALGS
        | cap::HANDLES
        | cap::COMMANDS
        | cap::PP_COMMANDS
        | cap::AUDIT_COMMANDS
        | cap::TPM_PROPERTIES
        | cap::PCR_PROPERTIES
        | cap::ECC_CURVES
        | cap::AUTH_POLICIES
        | cap::ACT => {}
        _ => return Err(Rc::VALUE.param(4)),
    }
    let input = super::capability::GetCapabilityIn {
        capability,
        property,
        property_count: 1,
    };
    let Ok(out) = super::capability::GetCapability::run(ctx, &[], input) else {
        return Ok(None);
    };
    // TPMS_CAPABILITY_DATA: capability, count, one item.
    let count = out.data.get(4..8).map(|c| c == [0, 0, 0, 1]);
    let item = out.data.get(8..).unwrap_or_default();
    if count != Some(true) || key_of(item) != Some(property) {
        return Ok(None);
    }
    Ok(Some(item.to_vec()))
}

/// `TPM2_PolicyCapability` (Part 3, 23.23): compares `operandB` with the
/// property structure of `capability`/`property` at `offset`, in the
/// reference's order: an unknown `TPM_EO` is `TPM_RC_VALUE` on
/// `operation`; a capability without single properties (`TPM_CAP_PCRS`,
/// `TPM_CAP_PUB_KEYS`, ...) is `TPM_RC_VALUE` on `capability`; a property
/// the TPM does not have fails (`TPM_RC_POLICY`) unless the operation is
/// `TPM_EO_NEQ`; `offset` past the structure is `TPM_RC_VALUE` on `offset`
/// and an operand that does not fit after it `TPM_RC_SIZE` on `operandB`;
/// a false comparison is `TPM_RC_POLICY`. A trial session checks nothing.
/// `policyDigest' = H(policyDigest || TPM_CC_PolicyCapability || args)`,
/// `args = H(operandB || offset || operation || capability || property)`.
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyCapability")]
pub struct PolicyCapability;

impl Command for PolicyCapability {
    type In = PolicyCapabilityIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: PolicyCapabilityIn,
    ) -> TpmResult<NoParams> {
        let sh = first(handles)?;
        compare(input.operation, &[], &[]).map_err(|e| e.param(3))?;
        let trial = policy_session(ctx, sh)?.trial;
        if !trial {
            match capability_property(ctx, input.capability, input.property)? {
                Some(a) => {
                    let start = usize::from(input.offset);
                    let rest = a.get(start..).ok_or(Rc::VALUE.param(2))?;
                    let a = rest.get(..input.operand_b.len()).ok_or(Rc::SIZE.param(1))?;
                    if !compare(input.operation, a, input.operand_b.as_slice())? {
                        return Err(Rc::POLICY);
                    }
                }
                None if input.operation == 0x0001 => {}
                None => return Err(Rc::POLICY),
            }
        }
        let s = policy_session(ctx, sh)?;
        let args = s.hash.digest_parts(&[
            input.operand_b.as_slice(),
            &input.offset.to_be_bytes(),
            &input.operation.to_be_bytes(),
            &input.capability.to_be_bytes(),
            &input.property.to_be_bytes(),
        ]);
        s.extend_policy(&[&cc::POLICYCAPABILITY.0.to_be_bytes(), &args]);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyParameters` parameters.
    pub struct PolicyParametersIn {
        /// pHash: `H(commandCode || parameters)` of the command to allow.
        pub p_hash: Digest2b,
    }
}

/// `TPM2_PolicyParameters` (Part 3, 23.24): a deferred assertion that the
/// authorized command's `H(commandCode || parameters)` (the cpHash without
/// the Names) is `pHash`. `pHash` not the size of the session's digest is
/// `TPM_RC_SIZE` on `pHash`; a session already restricted by
/// PolicyCpHash, PolicyNameHash, PolicyTemplate, PolicyDuplicationSelect
/// or PolicyParameters is `TPM_RC_CPHASH`.
/// `policyDigest' = H(policyDigest || TPM_CC_PolicyParameters || pHash)`.
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyParameters")]
pub struct PolicyParameters;

impl Command for PolicyParameters {
    type In = PolicyParametersIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: PolicyParametersIn,
    ) -> TpmResult<NoParams> {
        let s = policy_session(ctx, first(handles)?)?;
        if input.p_hash.len() != s.hash.digest_size() {
            return Err(Rc::SIZE.param(1));
        }
        if s.command_restricted() {
            return Err(Rc::CPHASH);
        }
        s.param_hash = Some(input.p_hash.0.clone());
        s.extend_policy(&[
            &cc::POLICYPARAMETERS.0.to_be_bytes(),
            input.p_hash.as_slice(),
        ]);
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PolicyTransportSPDM` parameters.
    pub struct PolicyTransportSpdmIn {
        /// reqKeyName: the requester's secure channel key Name, or empty.
        pub req_key_name: Name2b,
        /// tpmKeyName: the TPM's secure channel key Name, or empty.
        pub tpm_key_name: Name2b,
    }
}

/// A secure channel key Name given to PolicyTransportSPDM: empty, or an
/// object Name (`nameAlg || digest`): a first two octets that are not a
/// hash algorithm are `TPM_RC_HASH`, a digest of the wrong size (or a
/// Name too short to hold `nameAlg`) `TPM_RC_SIZE`, on parameter `n`.
fn check_key_name(name: &[u8], n: u32) -> TpmResult<()> {
    if name.is_empty() {
        return Ok(());
    }
    let (alg, digest) = name.split_first_chunk::<2>().ok_or(Rc::SIZE.param(n))?;
    let alg = HashAlg::from_alg_id(crate::wire::AlgId(u16::from_be_bytes(*alg)))
        .ok_or(Rc::HASH.param(n))?;
    if digest.len() != alg.digest_size() {
        return Err(Rc::SIZE.param(n));
    }
    Ok(())
}

/// `TPM2_PolicyTransportSPDM` (Part 3, 23.25): a deferred assertion that
/// the authorized command arrives over an SPDM secure channel, optionally
/// one negotiated with the given requester and/or TPM keys.
/// `scKeyNameHash = H(reqKeyName.size || reqKeyName.name ||
/// tpmKeyName.size || tpmKeyName.name)` when either Name is given, and
/// `policyDigest' = H(policyDigest || TPM_CC_PolicyTransportSPDM
/// [|| scKeyNameHash])`. A session that already has the assertion is
/// `TPM_RC_VALUE`.
///
/// This TPM has no SPDM transport: no command ever arrives over a secure
/// channel, so a policy session carrying this assertion never authorizes
/// (`TPM_RC_CHANNEL` when it is used, `auth::process`).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyTransportSPDM")]
pub struct PolicyTransportSpdm;

impl Command for PolicyTransportSpdm {
    type In = PolicyTransportSpdmIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: PolicyTransportSpdmIn,
    ) -> TpmResult<NoParams> {
        let req = input.req_key_name.as_slice();
        let tpm = input.tpm_key_name.as_slice();
        check_key_name(req, 1)?;
        check_key_name(tpm, 2)?;
        let s = policy_session(ctx, first(handles)?)?;
        if s.check_secure_channel {
            return Err(Rc::VALUE);
        }
        let sc_key_name_hash = if req.is_empty() && tpm.is_empty() {
            None
        } else {
            let len = |b: &[u8]| u16::try_from(b.len()).unwrap_or(u16::MAX).to_be_bytes();
            Some(s.hash.digest_parts(&[&len(req), req, &len(tpm), tpm]))
        };
        s.check_secure_channel = true;
        match &sc_key_name_hash {
            Some(h) => s.extend_policy(&[&cc::POLICYTRANSPORTSPDM.0.to_be_bytes(), h]),
            None => s.extend_policy(&[&cc::POLICYTRANSPORTSPDM.0.to_be_bytes()]),
        }
        s.sc_key_name_hash = sc_key_name_hash;
        Ok(NoParams)
    }
}
