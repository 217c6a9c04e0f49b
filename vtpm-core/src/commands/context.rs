//! Part 3, 28: Context Management (`ContextSave`, `ContextLoad`,
//! `FlushContext`, `EvictControl`).

use alloc::vec::Vec;

use super::{Command, NoParams, ToParams};
use crate::engine::Ctx;
use crate::object::{protect, Object};
use crate::state::Orderly;
use crate::tpm_params;
use crate::wire::consts::{ht, rh};
use crate::wire::object::{oa, Context};
use crate::wire::{Handle, Rc, TpmResult, Writer};

/// Largest `TPMS_CONTEXT` of an object this TPM produces
/// (`TPM_PT_MAX_OBJECT_CONTEXT`); ContextSave enforces it. Room for an
/// ML-DSA-87 key (a 2592-octet public key, ~2.8 KiB sealed), within the
/// 4 KiB response of the SVSM page and `TPM2B_CONTEXT_DATA`.
pub const MAX_OBJECT_CONTEXT: usize = 3072;

/// `savedHandle` of an ordinary object context (Part 2, 14.6.2).
const SAVED_OBJECT: Handle = Handle(0x8000_0000);
/// `savedHandle` of an stClear object context.
const SAVED_ST_CLEAR: Handle = Handle(0x8000_0002);

pub(crate) fn binding(sequence: u64, saved: Handle, hierarchy: Handle) -> Vec<u8> {
    let mut b = sequence.to_be_bytes().to_vec();
    b.extend_from_slice(&saved.0.to_be_bytes());
    b.extend_from_slice(&hierarchy.0.to_be_bytes());
    b
}

/// The binding of an object context: that of [`binding`], and for an
/// stClear object `clearCount` too, so that its contexts do not load after
/// a TPM Restart (Part 1, 27.3.2). Every context is bound to the TPM Reset
/// by the context key, which each TPM Reset replaces.
fn object_binding(ctx: &Ctx<'_>, sequence: u64, saved: Handle, hierarchy: Handle) -> Vec<u8> {
    let mut b = binding(sequence, saved, hierarchy);
    if saved == SAVED_ST_CLEAR {
        b.extend_from_slice(&ctx.v.clear_count.to_be_bytes());
    }
    b
}

/// Saving a context or loading or flushing a session after
/// `Shutdown(STATE)` changes what that shutdown saved (the context
/// counter, the saved-session table): the next Startup must not restore
/// it, or a context could be loaded twice, or two contexts share a
/// sequence number (Part 1, 9.2.4).
fn saved_state_outdated(ctx: &mut Ctx<'_>) {
    if ctx.p.orderly == Orderly::State {
        ctx.p.orderly = Orderly::None;
        ctx.mark_dirty();
    }
}

/// `TPM2_ContextSave` response.
#[derive(Debug)]
pub struct ContextSaveOut {
    /// `TPMS_CONTEXT`.
    pub context: Context,
}

impl ToParams for ContextSaveOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.write(&self.context);
    }
}

/// `TPM2_ContextSave` (Part 3, 28.2) of a transient object.
#[derive(Debug)]
#[doc(alias = "TPM2_ContextSave")]
pub struct ContextSave;

impl Command for ContextSave {
    type In = NoParams;
    type Out = ContextSaveOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<ContextSaveOut> {
        let out = save(ctx, handles)?;
        saved_state_outdated(ctx);
        Ok(out)
    }
}

/// ContextSave of an object, a sequence or a session.
fn save(ctx: &mut Ctx<'_>, handles: &[Handle]) -> TpmResult<ContextSaveOut> {
    let h = handles.first().copied().ok_or(Rc::FAILURE)?;
    if matches!(h.ht(), ht::HMAC_SESSION | ht::POLICY_SESSION) {
        return save_session(ctx, h);
    }
    if h.ht() != ht::TRANSIENT {
        return Err(Rc::HANDLE.handle(1));
    }
    if ctx.v.sequences.contains_key(&h.0) {
        let context = super::sequence::save_sequence(ctx, h)?;
        return Ok(ContextSaveOut { context });
    }
    let obj = ctx.v.objects.get(&h.0).ok_or(Rc::REFERENCE_H0)?;
    let saved = if obj.public.has(oa::ST_CLEAR) {
        SAVED_ST_CLEAR
    } else {
        SAVED_OBJECT
    };
    let hierarchy = obj.hierarchy;
    let body = postcard::to_allocvec(obj).map_err(|_| Rc::FAILURE)?;
    let sequence = ctx.v.context_counter;
    ctx.v.context_counter = sequence.checked_add(1).ok_or(Rc::TOO_MANY_CONTEXTS)?;
    let proof = ctx.hierarchy_proof(hierarchy).ok_or(Rc::FAILURE)?.to_vec();
    let blob = protect::seal_context(
        &ctx.p.context_key,
        &proof,
        &object_binding(ctx, sequence, saved, hierarchy),
        &body,
    )?;
    // sequence, savedHandle, hierarchy and the blob's size field.
    if blob.len().saturating_add(18) > MAX_OBJECT_CONTEXT {
        return Err(Rc::FAILURE);
    }
    Ok(ContextSaveOut {
        context: Context {
            sequence,
            saved_handle: saved,
            hierarchy,
            blob,
        },
    })
}

/// `TPM2_ContextLoad` response: only `loadedHandle` (Part 3, 28.3,
/// Table 227).
#[derive(Debug)]
pub struct LoadedHandle {
    /// loadedHandle.
    pub handle: Handle,
}

impl ToParams for LoadedHandle {
    fn response_handle(&self) -> Option<Handle> {
        Some(self.handle)
    }
    fn marshal_params(&self, _: &mut Writer) {}
}

/// `TPM_PT_CONTEXT_GAP_MAX`: how far the context counter may run ahead of
/// the oldest saved session (Part 1, 30.5).
pub const CONTEXT_GAP_MAX: u64 = 0xFFFF;

/// Save a session (Part 1, 30.5): it stays active but not loaded, and only
/// this context (by its sequence number) can bring it back.
fn save_session(ctx: &mut Ctx<'_>, h: Handle) -> TpmResult<ContextSaveOut> {
    let sequence = ctx.v.context_counter;
    let oldest = ctx
        .v
        .sessions
        .values()
        .filter_map(|s| s.saved_sequence)
        .min();
    if oldest.is_some_and(|o| sequence.saturating_sub(o) >= CONTEXT_GAP_MAX) {
        return Err(Rc::CONTEXT_GAP);
    }
    let slot = ctx.v.sessions.get(&h.0).ok_or(Rc::REFERENCE_H0)?;
    let sess = slot.loaded.as_ref().ok_or(Rc::REFERENCE_H0)?;
    // The session's times are those of this timeEpoch (Part 1, 16.7.12).
    let mut body = ctx.v.time_epoch.to_be_bytes().to_vec();
    body.extend_from_slice(&postcard::to_allocvec(sess).map_err(|_| Rc::FAILURE)?);
    let sealed = protect::seal_context(
        &ctx.p.context_key,
        &[],
        &binding(sequence, h, rh::NULL),
        &body,
    );
    use zeroize::Zeroize;
    body.zeroize();
    let blob = sealed?;
    ctx.v.context_counter = sequence.checked_add(1).ok_or(Rc::TOO_MANY_CONTEXTS)?;
    if let Some(slot) = ctx.v.sessions.get_mut(&h.0) {
        slot.loaded = None;
        slot.saved_sequence = Some(sequence);
    }
    Ok(ContextSaveOut {
        context: Context {
            sequence,
            saved_handle: h,
            hierarchy: rh::NULL,
            blob,
        },
    })
}

/// Load a saved session: it must be active, saved, and this must be its
/// latest context.
fn load_session(ctx: &mut Ctx<'_>, c: Context) -> TpmResult<LoadedHandle> {
    let h = c.saved_handle;
    // Integrity first (a context from before a TPM Reset fails here, as
    // in the reference), then the session's tracking.
    let body = zeroize::Zeroizing::new(
        protect::open_context(
            &ctx.p.context_key,
            &[],
            &binding(c.sequence, h, rh::NULL),
            &c.blob,
        )
        .map_err(|e| e.param(1))?,
    );
    let slot = ctx.v.sessions.get(&h.0).ok_or(Rc::HANDLE.param(1))?;
    if slot.loaded.is_some() || slot.saved_sequence != Some(c.sequence) {
        return Err(Rc::HANDLE.param(1));
    }
    let loaded = ctx
        .v
        .sessions
        .values()
        .filter(|s| s.loaded.is_some())
        .count();
    if loaded >= ctx.config.max_loaded_sessions {
        return Err(Rc::SESSION_MEMORY);
    }
    let (epoch, rest) = body
        .split_first_chunk::<8>()
        .ok_or(Rc::INTEGRITY.param(1))?;
    let mut sess: crate::auth::session::Session =
        postcard::from_bytes(rest).map_err(|_| Rc::INTEGRITY.param(1))?;
    // Saved before a TPM Resume or Restart: its times are of another epoch.
    if u64::from_be_bytes(*epoch) != ctx.v.time_epoch {
        sess.before_init = true;
    }
    if let Some(slot) = ctx.v.sessions.get_mut(&h.0) {
        slot.loaded = Some(sess);
        slot.saved_sequence = None;
    }
    saved_state_outdated(ctx);
    Ok(LoadedHandle { handle: h })
}

tpm_params! {
    /// `TPM2_ContextLoad` parameters.
    pub struct ContextLoadIn {
        /// `TPMS_CONTEXT`.
        pub context: Context,
    }
}

/// `TPM2_ContextLoad` (Part 3, 28.3) of an object context.
#[derive(Debug)]
#[doc(alias = "TPM2_ContextLoad")]
pub struct ContextLoad;

impl Command for ContextLoad {
    type In = ContextLoadIn;
    type Out = LoadedHandle;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: ContextLoadIn) -> TpmResult<LoadedHandle> {
        let c = input.context;
        if matches!(c.saved_handle.ht(), ht::HMAC_SESSION | ht::POLICY_SESSION) {
            return load_session(ctx, c);
        }
        if c.saved_handle == super::sequence::SAVED_SEQUENCE {
            let handle = super::sequence::load_sequence(ctx, &c)?;
            return Ok(LoadedHandle { handle });
        }
        if c.saved_handle != SAVED_OBJECT && c.saved_handle != SAVED_ST_CLEAR {
            return Err(Rc::HANDLE.param(1));
        }
        if !matches!(
            c.hierarchy,
            rh::OWNER | rh::ENDORSEMENT | rh::PLATFORM | rh::NULL
        ) {
            return Err(Rc::HIERARCHY.param(1));
        }
        if !ctx.hierarchy_enabled(c.hierarchy) {
            return Err(Rc::HIERARCHY.param(1));
        }
        let proof = ctx
            .hierarchy_proof(c.hierarchy)
            .ok_or(Rc::HIERARCHY.param(1))?
            .to_vec();
        let body = protect::open_context(
            &ctx.p.context_key,
            &proof,
            &object_binding(ctx, c.sequence, c.saved_handle, c.hierarchy),
            &c.blob,
        )
        .map_err(|e| e.param(1))?;
        let obj: Object = postcard::from_bytes(&body).map_err(|_| Rc::INTEGRITY.param(1))?;
        if obj.hierarchy != c.hierarchy {
            return Err(Rc::INTEGRITY.param(1));
        }
        let handle = ctx.insert_object(obj)?;
        Ok(LoadedHandle { handle })
    }
}

tpm_params! {
    /// `TPM2_FlushContext` parameters.
    pub struct FlushContextIn {
        /// `TPMI_DH_CONTEXT`: a transient object or a session.
        pub flush_handle: Handle,
    }
}

/// `TPM2_FlushContext` (Part 3, 28.4).
#[derive(Debug)]
#[doc(alias = "TPM2_FlushContext")]
pub struct FlushContext;

impl Command for FlushContext {
    type In = FlushContextIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: FlushContextIn) -> TpmResult<NoParams> {
        let h = input.flush_handle;
        match h.ht() {
            ht::TRANSIENT => {
                if ctx.v.objects.remove(&h.0).is_none() {
                    ctx.v.sequences.remove(&h.0).ok_or(Rc::HANDLE.param(1))?;
                }
                Ok(NoParams)
            }
            ht::HMAC_SESSION | ht::POLICY_SESSION => {
                ctx.v.sessions.remove(&h.0).ok_or(Rc::HANDLE.param(1))?;
                saved_state_outdated(ctx);
                Ok(NoParams)
            }
            _ => Err(Rc::VALUE.param(1)),
        }
    }
}

tpm_params! {
    /// `TPM2_EvictControl` parameters.
    pub struct EvictControlIn {
        /// `TPMI_DH_PERSISTENT`.
        pub persistent_handle: Handle,
    }
}

/// `TPM2_EvictControl` (Part 3, 28.5).
#[derive(Debug)]
#[doc(alias = "TPM2_EvictControl")]
pub struct EvictControl;

impl Command for EvictControl {
    type In = EvictControlIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: EvictControlIn) -> TpmResult<NoParams> {
        let (Some(&auth), Some(&oh)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let ph = input.persistent_handle;
        if ph.ht() != ht::PERSISTENT {
            return Err(Rc::VALUE.param(1));
        }
        let obj = ctx.object(oh).ok_or(Rc::HANDLE.handle(2))?.clone();
        // The hierarchy of the object must match the authorization.
        let owner_side = matches!(obj.hierarchy, rh::OWNER | rh::ENDORSEMENT);
        if (auth == rh::OWNER && !owner_side)
            || (auth == rh::PLATFORM && obj.hierarchy != rh::PLATFORM)
        {
            return Err(Rc::HIERARCHY.handle(2));
        }
        // Owner range 0x81000000-0x817FFFFF, platform 0x81800000-0x81FFFFFF.
        let in_range = if auth == rh::OWNER {
            ph.0 <= rh::PERSISTENT_OWNER_LAST
        } else {
            ph.0 >= rh::PERSISTENT_PLATFORM_FIRST
        };
        if oh.ht() == ht::PERSISTENT {
            // Evict: the two handles must agree.
            if oh != ph {
                return Err(Rc::HANDLE.param(1));
            }
            if !in_range {
                return Err(Rc::RANGE.param(1));
            }
            ctx.p.persistent.retain(|o| o.evict_handle != Some(ph));
            ctx.mark_dirty();
            return Ok(NoParams);
        }
        if !in_range {
            return Err(Rc::RANGE.param(1));
        }
        if obj.public.has(oa::ST_CLEAR) || obj.sensitive.is_none() || obj.hierarchy == rh::NULL {
            return Err(Rc::ATTRIBUTES.handle(2));
        }
        if ctx.p.persistent.iter().any(|o| o.evict_handle == Some(ph)) {
            return Err(Rc::NV_DEFINED);
        }
        if ctx.p.persistent.len() >= ctx.config.max_persistent_objects {
            return Err(Rc::NV_SPACE);
        }
        // Persistent objects share the NV capacity with NV indices.
        let need = postcard::to_allocvec(&obj)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if crate::state::nv::free_bytes(&ctx.p, ctx.config.nv_capacity) < need {
            return Err(Rc::NV_SPACE);
        }
        let mut obj = obj;
        obj.evict_handle = Some(ph);
        let at = ctx
            .p
            .persistent
            .partition_point(|o| o.evict_handle < Some(ph));
        ctx.p.persistent.insert(at, obj);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}
