//! Part 3, 31: Non-volatile Storage.
//!
//! The handlers follow the order of checks of each command's "Detailed
//! Actions". Authorization (password, HMAC or policy) has been checked by
//! the engine before a handler runs; the handlers check that the
//! authorizing *handle* may read or write the index (`TPMA_NV_PPREAD`,
//! `OWNERREAD`, ...: `TPM_RC_NV_AUTHORIZATION`), the locks and the index
//! type.
//!
//! Every change is committed before the response (`ctx.mark_dirty()`),
//! hybrid (`TPMA_NV_ORDERLY`) indices included; see [`crate::state::nv`]
//! for the model, the capacity accounting and the counter high-water mark.

use alloc::vec::Vec;

use super::{Command, NoParams, ToParams};
use crate::engine::Ctx;
use crate::state::nv::{self as model, nt, nva, NvIndex, NvPublic, NvPublic2b, StartupKind};
use crate::state::PersistentState;
use crate::tpm_params;
use crate::wire::consts::{rh, sizes};
use crate::wire::types::{Digest2b, MaxNvBuffer2b};
use crate::wire::{Handle, Rc, TpmResult, Writer};

fn handle(handles: &[Handle], i: usize) -> TpmResult<Handle> {
    handles.get(i).copied().ok_or(Rc::FAILURE)
}

fn index(p: &PersistentState, h: Handle) -> TpmResult<&NvIndex> {
    // The engine checked that the handle names a defined, accessible index.
    p.nv.iter().find(|i| i.handle == h).ok_or(Rc::FAILURE)
}

fn index_mut(p: &mut PersistentState, h: Handle) -> TpmResult<&mut NvIndex> {
    p.nv.iter_mut().find(|i| i.handle == h).ok_or(Rc::FAILURE)
}

/// May `auth` authorize a write of `idx` (the reference's
/// `NvWriteAccessChecks`)? `TPM_RC_NV_LOCKED` first, then
/// `TPM_RC_NV_AUTHORIZATION`. When the index authorizes itself, its
/// authValue or authPolicy must be allowed to write it (the session layer
/// refuses that earlier with `TPM_RC_AUTH_UNAVAILABLE`; this is the
/// handler's own guard).
fn write_access(auth: Handle, idx: &NvIndex) -> TpmResult<()> {
    if idx.has(nva::WRITELOCKED) {
        return Err(Rc::NV_LOCKED);
    }
    let allowed = match auth {
        rh::OWNER => idx.has(nva::OWNERWRITE),
        rh::PLATFORM => idx.has(nva::PPWRITE),
        h if h == idx.handle => idx.has_any(nva::AUTHWRITE | nva::POLICYWRITE),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Rc::NV_AUTHORIZATION)
    }
}

/// May `auth` authorize a read of `idx` (`NvReadAccessChecks`)?
/// `TPM_RC_NV_LOCKED`, then `TPM_RC_NV_AUTHORIZATION`, then
/// `TPM_RC_NV_UNINITIALIZED`.
pub(crate) fn read_access(auth: Handle, idx: &NvIndex) -> TpmResult<()> {
    if idx.has(nva::READLOCKED) {
        return Err(Rc::NV_LOCKED);
    }
    let allowed = match auth {
        rh::OWNER => idx.has(nva::OWNERREAD),
        rh::PLATFORM => idx.has(nva::PPREAD),
        h if h == idx.handle => idx.has_any(nva::AUTHREAD | nva::POLICYREAD),
        _ => false,
    };
    if !allowed {
        return Err(Rc::NV_AUTHORIZATION);
    }
    if !idx.has(nva::WRITTEN) {
        return Err(Rc::NV_UNINITIALIZED);
    }
    Ok(())
}

/// Check a new `NV_DefineSpace` request against Part 3, 31.3.1, in the
/// reference's order. Errors carry their handle or parameter number.
fn check_definition(ctx: &Ctx<'_>, auth: Handle, auth_value: &[u8], p: &NvPublic) -> TpmResult<()> {
    let attrs = p.attributes;
    let has = |a: u32| attrs & a == a;
    let attributes = Rc::ATTRIBUTES.param(2);
    let size = Rc::SIZE.param(2);
    let digest_size = p.name_alg.digest_size();
    if !p.auth_policy.is_empty() && p.auth_policy.len() != digest_size {
        return Err(size);
    }
    if auth_value.len() > digest_size {
        return Err(Rc::SIZE.param(1));
    }
    if auth == rh::PLATFORM && !ctx.v.startup_clear.ph_enable_nv {
        return Err(Rc::HIERARCHY.handle(1));
    }
    let kind = (attrs & nva::TPM_NT_MASK) >> 4;
    match kind {
        nt::ORDINARY => {
            if p.data_size > model::MAX_NV_INDEX_SIZE {
                return Err(size);
            }
        }
        nt::EXTEND => {
            if usize::from(p.data_size) != digest_size {
                return Err(size);
            }
        }
        nt::COUNTER | nt::BITS | nt::PIN_FAIL | nt::PIN_PASS => {
            if p.data_size != 8 {
                return Err(size);
            }
        }
        _ => return Err(attributes),
    }
    match kind {
        nt::COUNTER if has(nva::CLEAR_STCLEAR) => return Err(attributes),
        nt::PIN_FAIL if !has(nva::NO_DA) => return Err(attributes),
        nt::PIN_FAIL | nt::PIN_PASS
            if attrs & (nva::AUTHWRITE | nva::GLOBALLOCK | nva::WRITEDEFINE) != 0 =>
        {
            return Err(attributes)
        }
        _ => {}
    }
    if attrs & (nva::WRITTEN | nva::WRITELOCKED | nva::READLOCKED) != 0 {
        return Err(attributes);
    }
    if attrs & nva::READ_AUTHS == 0 || attrs & nva::WRITE_AUTHS == 0 {
        return Err(attributes);
    }
    if has(nva::CLEAR_STCLEAR) && has(nva::WRITEDEFINE) {
        return Err(attributes);
    }
    // The creator must be able to delete the index.
    if has(nva::PLATFORMCREATE) != (auth == rh::PLATFORM) {
        return Err(Rc::ATTRIBUTES.handle(1));
    }
    if has(nva::POLICY_DELETE) && auth != rh::PLATFORM {
        return Err(attributes);
    }
    if usize::from(p.data_size) > sizes::MAX_NV_BUFFER && has(nva::WRITEALL) {
        return Err(size);
    }
    if ctx.p.nv.iter().any(|i| i.handle == p.handle) {
        return Err(Rc::NV_DEFINED);
    }
    let need = model::footprint(p.data_size, p.auth_policy.len(), p.name_alg);
    if need > model::free_bytes(&ctx.p, ctx.config.nv_capacity) {
        return Err(Rc::NV_SPACE);
    }
    Ok(())
}

tpm_params! {
    /// `TPM2_NV_DefineSpace` parameters.
    pub struct NvDefineSpaceIn {
        /// `auth`.
        pub auth: Digest2b,
        /// `publicInfo`.
        pub public_info: NvPublic2b,
    }
}

/// `TPM2_NV_DefineSpace` (Part 3, 31.3).
#[derive(Debug)]
#[doc(alias = "TPM2_NV_DefineSpace")]
pub struct NvDefineSpace;

impl Command for NvDefineSpace {
    type In = NvDefineSpaceIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: NvDefineSpaceIn) -> TpmResult<NoParams> {
        let auth = handle(handles, 0)?;
        let public = input.public_info.0;
        let auth_value = crate::auth::trim_trailing_zeros(input.auth.as_slice()).to_vec();
        check_definition(ctx, auth, &auth_value, &public)?;
        let idx = NvIndex::new(public, auth_value);
        let pos = ctx.p.nv.partition_point(|i| i.handle < idx.handle);
        ctx.p.nv.insert(pos, idx);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

/// `TPM2_NV_UndefineSpace` (Part 3, 31.4).
#[derive(Debug)]
#[doc(alias = "TPM2_NV_UndefineSpace")]
pub struct NvUndefineSpace;

impl Command for NvUndefineSpace {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let auth = handle(handles, 0)?;
        let h = handle(handles, 1)?;
        let idx = index(&ctx.p, h)?;
        if idx.has(nva::POLICY_DELETE) {
            return Err(Rc::ATTRIBUTES.handle(2));
        }
        // The owner may delete only what the owner defined; the platform
        // may delete either.
        if auth == rh::OWNER && idx.has(nva::PLATFORMCREATE) {
            return Err(Rc::NV_AUTHORIZATION);
        }
        model::delete(&mut ctx.p, h);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

/// `TPM2_NV_UndefineSpaceSpecial` (Part 3, 31.5): the index's policy
/// (ADMIN role, so a policy session) and platform authorization.
#[derive(Debug)]
#[doc(alias = "TPM2_NV_UndefineSpaceSpecial")]
pub struct NvUndefineSpaceSpecial;

impl Command for NvUndefineSpaceSpecial {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let h = handle(handles, 0)?;
        if !index(&ctx.p, h)?.has(nva::POLICY_DELETE) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        model::delete(&mut ctx.p, h);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

/// `TPM2_NV_ReadPublic` response.
#[derive(Debug)]
pub struct NvReadPublicOut {
    /// `nvPublic`.
    pub public: NvPublic,
    /// `nvName`.
    pub name: Vec<u8>,
}

impl ToParams for NvReadPublicOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.write(&NvPublic2b(self.public.clone()));
        w.tpm2b(&self.name);
    }
}

/// `TPM2_NV_ReadPublic` (Part 3, 31.6).
#[derive(Debug)]
#[doc(alias = "TPM2_NV_ReadPublic")]
pub struct NvReadPublic;

impl Command for NvReadPublic {
    type In = NoParams;
    type Out = NvReadPublicOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NvReadPublicOut> {
        let idx = index(&ctx.p, handle(handles, 0)?)?;
        Ok(NvReadPublicOut {
            public: idx.public(),
            name: idx.name(),
        })
    }
}

tpm_params! {
    /// `TPM2_NV_Write` parameters.
    pub struct NvWriteIn {
        /// `data`.
        pub data: MaxNvBuffer2b,
        /// `offset`.
        pub offset: u16,
    }
}

/// `TPM2_NV_Write` (Part 3, 31.7).
#[derive(Debug)]
#[doc(alias = "TPM2_NV_Write")]
pub struct NvWrite;

impl Command for NvWrite {
    type In = NvWriteIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: NvWriteIn) -> TpmResult<NoParams> {
        let auth = handle(handles, 0)?;
        let idx = index_mut(&mut ctx.p, handle(handles, 1)?)?;
        write_access(auth, idx)?;
        if matches!(idx.index_type(), nt::COUNTER | nt::BITS | nt::EXTEND) {
            return Err(Rc::ATTRIBUTES);
        }
        let offset = usize::from(input.offset);
        let size = usize::from(idx.data_size);
        if offset > size {
            return Err(Rc::VALUE.param(2));
        }
        let data = input.data.as_slice();
        if data.len() > size.saturating_sub(offset) {
            return Err(Rc::NV_RANGE);
        }
        if idx.has(nva::WRITEALL) && data.len() < size {
            return Err(Rc::NV_RANGE);
        }
        let first_write = !idx.has(nva::WRITTEN);
        if first_write && idx.index_type() == nt::ORDINARY {
            // A first (possibly partial) write starts from zero, whatever an
            // earlier life of the index left (CLEAR_STCLEAR, hybrid reset).
            idx.data.iter_mut().for_each(|b| *b = 0);
        }
        let end = offset.saturating_add(data.len());
        let dst = idx.data.get_mut(offset..end).ok_or(Rc::FAILURE)?;
        let changed = dst != data;
        dst.copy_from_slice(data);
        idx.set(nva::WRITTEN, true);
        // Endurance: no commit when neither data nor attributes changed.
        if changed || first_write {
            ctx.mark_dirty();
        }
        Ok(NoParams)
    }
}

/// `TPM2_NV_Increment` (Part 3, 31.8). A counter's first increment starts
/// above every value a deleted counter had (the high-water mark).
#[derive(Debug)]
#[doc(alias = "TPM2_NV_Increment")]
pub struct NvIncrement;

impl Command for NvIncrement {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let auth = handle(handles, 0)?;
        let high_water = ctx.p.nv_counter_high_water;
        let idx = index_mut(&mut ctx.p, handle(handles, 1)?)?;
        write_access(auth, idx)?;
        if idx.index_type() != nt::COUNTER {
            return Err(Rc::ATTRIBUTES.handle(2));
        }
        let current = if idx.has(nva::WRITTEN) {
            idx.u64_value()
        } else {
            high_water
        };
        // A counter at 2^64-1 cannot advance without going backwards.
        let next = current.checked_add(1).ok_or(Rc::NV_RANGE)?;
        idx.set_u64_value(next);
        idx.set(nva::WRITTEN, true);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_NV_Extend` parameters.
    pub struct NvExtendIn {
        /// `data`.
        pub data: MaxNvBuffer2b,
    }
}

/// `TPM2_NV_Extend` (Part 3, 31.9): data = H(data || input) with the
/// index's nameAlg; an unwritten index starts from zeros.
#[derive(Debug)]
#[doc(alias = "TPM2_NV_Extend")]
pub struct NvExtend;

impl Command for NvExtend {
    type In = NvExtendIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: NvExtendIn) -> TpmResult<NoParams> {
        let auth = handle(handles, 0)?;
        let idx = index_mut(&mut ctx.p, handle(handles, 1)?)?;
        write_access(auth, idx)?;
        if idx.index_type() != nt::EXTEND {
            return Err(Rc::ATTRIBUTES.handle(2));
        }
        let old = if idx.has(nva::WRITTEN) {
            idx.data.clone()
        } else {
            alloc::vec![0u8; idx.name_alg.digest_size()]
        };
        idx.data = idx.name_alg.digest_parts(&[&old, input.data.as_slice()]);
        idx.set(nva::WRITTEN, true);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_NV_SetBits` parameters.
    pub struct NvSetBitsIn {
        /// `bits`.
        pub bits: u64,
    }
}

/// `TPM2_NV_SetBits` (Part 3, 31.10): OR `bits` into the bit field (zero
/// when unwritten).
#[derive(Debug)]
#[doc(alias = "TPM2_NV_SetBits")]
pub struct NvSetBits;

impl Command for NvSetBits {
    type In = NvSetBitsIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: NvSetBitsIn) -> TpmResult<NoParams> {
        let auth = handle(handles, 0)?;
        let idx = index_mut(&mut ctx.p, handle(handles, 1)?)?;
        write_access(auth, idx)?;
        if idx.index_type() != nt::BITS {
            return Err(Rc::ATTRIBUTES.handle(2));
        }
        let old = if idx.has(nva::WRITTEN) {
            idx.u64_value()
        } else {
            0
        };
        let first_write = !idx.has(nva::WRITTEN);
        let new = old | input.bits;
        idx.set_u64_value(new);
        idx.set(nva::WRITTEN, true);
        if first_write || new != old {
            ctx.mark_dirty();
        }
        Ok(NoParams)
    }
}

/// `TPM2_NV_WriteLock` (Part 3, 31.11). Locking a locked index succeeds.
#[derive(Debug)]
#[doc(alias = "TPM2_NV_WriteLock")]
pub struct NvWriteLock;

impl Command for NvWriteLock {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let auth = handle(handles, 0)?;
        let idx = index_mut(&mut ctx.p, handle(handles, 1)?)?;
        match write_access(auth, idx) {
            Ok(()) => {}
            Err(Rc::NV_LOCKED) => return Ok(NoParams),
            Err(e) => return Err(e),
        }
        if !idx.has_any(nva::WRITEDEFINE | nva::WRITE_STCLEAR) {
            return Err(Rc::ATTRIBUTES.handle(2));
        }
        idx.set(nva::WRITELOCKED, true);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

/// `TPM2_NV_GlobalWriteLock` (Part 3, 31.12): write-lock every index with
/// `TPMA_NV_GLOBALLOCK`.
#[derive(Debug)]
#[doc(alias = "TPM2_NV_GlobalWriteLock")]
pub struct NvGlobalWriteLock;

impl Command for NvGlobalWriteLock {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let mut changed = false;
        for idx in ctx.p.nv.iter_mut().filter(|i| i.has(nva::GLOBALLOCK)) {
            changed |= !idx.has(nva::WRITELOCKED);
            idx.set(nva::WRITELOCKED, true);
        }
        if changed {
            ctx.mark_dirty();
        }
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_NV_Read` parameters.
    pub struct NvReadIn {
        /// `size`.
        pub size: u16,
        /// `offset`.
        pub offset: u16,
    }
}

tpm_params! {
    /// `TPM2_NV_Read` response.
    pub struct NvReadOut {
        /// `data`.
        pub data: MaxNvBuffer2b,
    }
}

/// `TPM2_NV_Read` (Part 3, 31.13).
#[derive(Debug)]
#[doc(alias = "TPM2_NV_Read")]
pub struct NvRead;

impl Command for NvRead {
    type In = NvReadIn;
    type Out = NvReadOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: NvReadIn) -> TpmResult<NvReadOut> {
        let auth = handle(handles, 0)?;
        let idx = index(&ctx.p, handle(handles, 1)?)?;
        read_access(auth, idx)?;
        let size = usize::from(input.size);
        let offset = usize::from(input.offset);
        if size > sizes::MAX_NV_BUFFER {
            return Err(Rc::VALUE.param(1));
        }
        if offset > usize::from(idx.data_size) {
            return Err(Rc::VALUE.param(2));
        }
        if size > usize::from(idx.data_size).saturating_sub(offset) {
            return Err(Rc::NV_RANGE);
        }
        let end = offset.saturating_add(size);
        let data = idx.data.get(offset..end).ok_or(Rc::FAILURE)?;
        Ok(NvReadOut {
            data: MaxNvBuffer2b::from_slice(data)?,
        })
    }
}

/// `TPM2_NV_ReadLock` (Part 3, 31.14). Locking a locked or unwritten index
/// is no error.
#[derive(Debug)]
#[doc(alias = "TPM2_NV_ReadLock")]
pub struct NvReadLock;

impl Command for NvReadLock {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let auth = handle(handles, 0)?;
        let idx = index_mut(&mut ctx.p, handle(handles, 1)?)?;
        match read_access(auth, idx) {
            Ok(()) | Err(Rc::NV_UNINITIALIZED) => {}
            Err(Rc::NV_LOCKED) => return Ok(NoParams),
            Err(e) => return Err(e),
        }
        if !idx.has(nva::READ_STCLEAR) {
            return Err(Rc::ATTRIBUTES.handle(2));
        }
        idx.set(nva::READLOCKED, true);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_NV_ChangeAuth` parameters.
    pub struct NvChangeAuthIn {
        /// `newAuth`.
        pub new_auth: Digest2b,
    }
}

/// `TPM2_NV_ChangeAuth` (Part 3, 31.15): ADMIN role, so a policy session.
#[derive(Debug)]
#[doc(alias = "TPM2_NV_ChangeAuth")]
pub struct NvChangeAuth;

impl Command for NvChangeAuth {
    type In = NvChangeAuthIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: NvChangeAuthIn) -> TpmResult<NoParams> {
        let idx = index_mut(&mut ctx.p, handle(handles, 0)?)?;
        let new = crate::auth::trim_trailing_zeros(input.new_auth.as_slice());
        if new.len() > idx.name_alg.digest_size() {
            return Err(Rc::SIZE.param(1));
        }
        idx.auth_value = new.to_vec();
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

/// The NV part of `TPM2_Startup`: called by `startup::Startup` for TPM
/// Reset and TPM Restart (see [`model::startup`]).
pub fn on_startup(ctx: &mut Ctx<'_>, kind: StartupKind) {
    if model::startup(&mut ctx.p, kind) {
        ctx.mark_dirty();
    }
}

/// The NV part of `TPM2_Clear`: owner-defined indices are deleted.
pub fn on_clear(ctx: &mut Ctx<'_>) {
    model::flush_owner_indices(&mut ctx.p);
    ctx.mark_dirty();
}

tpm_params! {
    /// `TPM2_NV_Certify` parameters.
    pub struct NvCertifyIn {
        /// qualifyingData.
        pub qualifying_data: crate::wire::types::Data2b,
        /// inScheme.
        pub in_scheme: crate::wire::signature::SigScheme,
        /// Octets to certify (0 with offset 0: a digest of the whole index).
        pub size: u16,
        /// Offset of the first octet.
        pub offset: u16,
    }
}

/// `TPM2_NV_Certify` (Part 3, 31.16): signs the contents (or, for size and
/// offset zero, a digest of the contents) of an index the caller may read.
#[derive(Debug)]
#[doc(alias = "TPM2_NV_Certify")]
pub struct NvCertify;

impl Command for NvCertify {
    type In = NvCertifyIn;
    type Out = super::attestation::AttestOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: NvCertifyIn,
    ) -> TpmResult<super::attestation::AttestOut> {
        use super::attestation::{fill_attest, sign_attest, signer_and_scheme};
        use crate::wire::signature::Attested;
        let sh = handle(handles, 0)?;
        let auth = handle(handles, 1)?;
        let nvh = handle(handles, 2)?;
        let (signer, scheme) = signer_and_scheme(ctx, sh, 1, input.in_scheme.0, 2)?;
        let idx = index(&ctx.p, nvh)?.clone();
        read_access(auth, &idx)?;
        let attested = if input.size == 0 && input.offset == 0 {
            let hash = scheme.hash().unwrap_or(idx.name_alg);
            Attested::NvDigest {
                index_name: idx.name(),
                nv_digest: hash.digest(&idx.data),
            }
        } else {
            if usize::from(input.size) > crate::wire::consts::sizes::MAX_NV_BUFFER {
                return Err(Rc::VALUE.param(3));
            }
            let start = usize::from(input.offset);
            let end = start
                .checked_add(usize::from(input.size))
                .ok_or(Rc::NV_RANGE)?;
            let data = idx.data.get(start..end).ok_or(Rc::NV_RANGE)?;
            Attested::Nv {
                index_name: idx.name(),
                offset: input.offset,
                nv_contents: data.to_vec(),
            }
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

/// `TPM2B_NV_PUBLIC_2` (Part 2, 13.11) as this TPM implements it: the
/// `handleType` must be `TPM_HT_NV_INDEX`, whose union member is a
/// `TPMS_NV_PUBLIC`. External NV (`TPM_HT_EXTERNAL_NV`) and permanent NV
/// (`TPM_HT_PERMANENT_NV`) indices are not implemented: any other
/// `handleType` is `TPM_RC_SELECTOR`, the code of an unimplemented union
/// selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NvPublic2(pub NvPublic);

impl crate::wire::Unmarshal for NvPublic2 {
    fn unmarshal(r: &mut crate::wire::Reader<'_>) -> TpmResult<Self> {
        crate::wire::object::read_sized(r, |r| {
            if r.u8()? != crate::wire::consts::ht::NV_INDEX {
                return Err(Rc::SELECTOR);
            }
            r.read::<NvPublic>().map(NvPublic2)
        })
    }
}

impl crate::wire::Marshal for NvPublic2 {
    fn marshal(&self, w: &mut Writer) {
        w.sized(|w| {
            w.u8(crate::wire::consts::ht::NV_INDEX);
            w.write(&self.0);
        });
    }
}

tpm_params! {
    /// `TPM2_NV_DefineSpace2` parameters.
    pub struct NvDefineSpace2In {
        /// `auth`.
        pub auth: Digest2b,
        /// `publicInfo` (`TPM2B_NV_PUBLIC_2`).
        pub public_info: NvPublic2,
    }
}

/// `TPM2_NV_DefineSpace2` (Part 3, 31.17): `TPM2_NV_DefineSpace` with a
/// `TPM2B_NV_PUBLIC_2` ([`NvPublic2`]); every check and response code is
/// that of [`NvDefineSpace`] (the parameters have the same positions).
#[derive(Debug)]
#[doc(alias = "TPM2_NV_DefineSpace2")]
pub struct NvDefineSpace2;

impl Command for NvDefineSpace2 {
    type In = NvDefineSpace2In;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: NvDefineSpace2In) -> TpmResult<NoParams> {
        NvDefineSpace::run(
            ctx,
            handles,
            NvDefineSpaceIn {
                auth: input.auth,
                public_info: NvPublic2b(input.public_info.0),
            },
        )
    }
}

/// `TPM2_NV_ReadPublic2` response.
#[derive(Debug)]
pub struct NvReadPublic2Out {
    /// `nvPublic` (`TPM2B_NV_PUBLIC_2`).
    pub public: NvPublic2,
    /// `nvName`: the same Name as `TPM2_NV_ReadPublic` returns (the
    /// `handleType` is not hashed).
    pub name: Vec<u8>,
}

impl ToParams for NvReadPublic2Out {
    fn marshal_params(&self, w: &mut Writer) {
        w.write(&self.public);
        w.tpm2b(&self.name);
    }
}

/// `TPM2_NV_ReadPublic2` (Part 3, 31.18).
#[derive(Debug)]
#[doc(alias = "TPM2_NV_ReadPublic2")]
pub struct NvReadPublic2;

impl Command for NvReadPublic2 {
    type In = NoParams;
    type Out = NvReadPublic2Out;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NvReadPublic2Out> {
        let idx = index(&ctx.p, handle(handles, 0)?)?;
        Ok(NvReadPublic2Out {
            public: NvPublic2(idx.public()),
            name: idx.name(),
        })
    }
}
