//! Part 3, 24: Hierarchy Commands.

use alloc::vec::Vec;

use super::object::{check_sizes, creation, CreateIn, Creation};
use super::{Command, NoParams, ToParams};
use crate::crypto::{HashAlg, HashOrNull};
use crate::engine::Ctx;
use crate::object::{self, Object, PrimaryStream};
use crate::state::Policy;
use crate::tpm_params;
use crate::wire::consts::{alg, rh};
use crate::wire::object::{Public, Public2b, SensitiveCreate};
use crate::wire::types::{Digest2b, YesNo};
use crate::wire::{Handle, Rc, TpmResult, Writer};

/// Entries kept in the primary-object cache.
const PRIMARY_CACHE: usize = 8;

/// Derive (or fetch from the cache) the primary object for `template`
/// under hierarchy `h` (Part 1, 27.x: primary objects are a deterministic
/// function of the seed, the template and the sensitive data).
pub fn derive_primary(
    ctx: &mut Ctx<'_>,
    h: Handle,
    template: &Public,
    sens: &SensitiveCreate,
) -> TpmResult<Object> {
    object::validate_template(template, None, &sens.data).map_err(|e| e.param(2))?;
    if ctx.v.objects.len() >= ctx.config.max_loaded_objects {
        return Err(Rc::OBJECT_MEMORY);
    }
    let name_alg = template.name_alg.ok_or(Rc::HASH.param(2))?;
    let seed = match h {
        rh::OWNER => ctx.p.sps.clone(),
        rh::ENDORSEMENT => ctx.p.eps.clone(),
        rh::PLATFORM => ctx.p.pps.clone(),
        _ => ctx.v.null_seed.clone(),
    };
    let template_bytes = crate::wire::Marshal::to_bytes(template);
    let cache_key = HashAlg::Sha256.digest_parts(&[&seed, &template_bytes, &sens.data]);
    let cached = ctx
        .v
        .primary_cache
        .iter()
        .position(|(k, _, _)| *k == cache_key);
    let (public, mut sensitive) = match cached {
        Some(i) => {
            let (_, p, s) = ctx.v.primary_cache.remove(i);
            (p, s)
        }
        None => {
            let mut stream = PrimaryStream::new(name_alg, &seed, &template_bytes, &sens.data);
            object::generate(
                template,
                &SensitiveCreate {
                    user_auth: Vec::new(),
                    data: sens.data.clone(),
                },
                &mut stream,
            )
            .map_err(|e| e.param(2))?
        }
    };
    ctx.v
        .primary_cache
        .insert(0, (cache_key, public.clone(), sensitive.clone()));
    ctx.v.primary_cache.truncate(PRIMARY_CACHE);
    sensitive.auth_value = crate::auth::trim_trailing_zeros(&sens.user_auth).to_vec();
    Ok(Object::new(public, Some(sensitive), &h.0.to_be_bytes(), h))
}

/// `TPM2_CreatePrimary` response.
#[derive(Debug)]
pub struct CreatePrimaryOut {
    /// `objectHandle`.
    pub handle: Handle,
    /// `outPublic`.
    pub public: Public,
    /// Creation outputs.
    pub creation: Creation,
    /// `name`.
    pub name: Vec<u8>,
}

impl ToParams for CreatePrimaryOut {
    fn response_handle(&self) -> Option<Handle> {
        Some(self.handle)
    }
    fn marshal_params(&self, w: &mut Writer) {
        w.write(&Public2b(self.public.clone()));
        w.tpm2b(&self.creation.data);
        w.tpm2b(&self.creation.hash);
        w.write(&self.creation.ticket);
        w.tpm2b(&self.name);
    }
}

/// `TPM2_CreatePrimary` (Part 3, 24.1).
#[derive(Debug)]
#[doc(alias = "TPM2_CreatePrimary")]
pub struct CreatePrimary;

impl Command for CreatePrimary {
    type In = CreateIn;
    type Out = CreatePrimaryOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: CreateIn) -> TpmResult<CreatePrimaryOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let template = input.in_public.0;
        check_sizes(&template, &input.in_sensitive)?;
        let obj = derive_primary(ctx, h, &template, &input.in_sensitive)?;
        let creation = creation(
            ctx,
            &obj,
            h,
            input.outside_info.as_slice(),
            &input.creation_pcr,
        )?;
        let public = obj.public.clone();
        let name = obj.name.clone();
        let handle = ctx.insert_object(obj)?;
        Ok(CreatePrimaryOut {
            handle,
            public,
            creation,
            name,
        })
    }
}

tpm_params! {
    /// `TPM2_HierarchyControl` parameters.
    pub struct HierarchyControlIn {
        /// `TPMI_RH_ENABLES`.
        pub enable: Handle,
        /// SET or CLEAR.
        pub state: YesNo,
    }
}

/// `TPM2_HierarchyControl` (Part 3, 24.2).
#[derive(Debug)]
#[doc(alias = "TPM2_HierarchyControl")]
pub struct HierarchyControl;

impl Command for HierarchyControl {
    type In = HierarchyControlIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: HierarchyControlIn,
    ) -> TpmResult<NoParams> {
        let auth = handles.first().copied().ok_or(Rc::FAILURE)?;
        let enable = input.enable;
        if !matches!(
            enable,
            rh::OWNER | rh::ENDORSEMENT | rh::PLATFORM | rh::PLATFORM_NV
        ) {
            return Err(Rc::VALUE.param(1));
        }
        let on = input.state.0;
        // Owner may only change its own and the endorsement enables, and only
        // to CLEAR; platform may change all (Part 3, 24.2.1).
        if auth != rh::PLATFORM && (on || enable != auth) {
            return Err(Rc::AUTH_TYPE);
        }
        if on && !ctx.v.startup_clear.ph_enable {
            return Err(Rc::HIERARCHY);
        }
        let sc = &mut ctx.v.startup_clear;
        match enable {
            rh::OWNER => sc.sh_enable = on,
            rh::ENDORSEMENT => sc.eh_enable = on,
            rh::PLATFORM => sc.ph_enable = on,
            _ => sc.ph_enable_nv = on,
        }
        if !on && enable != rh::PLATFORM_NV {
            ctx.v.objects.retain(|_, o| o.hierarchy != enable);
        }
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_SetPrimaryPolicy` parameters.
    pub struct SetPrimaryPolicyIn {
        /// `authPolicy`.
        pub auth_policy: Digest2b,
        /// `hashAlg` (NULL to clear).
        pub hash_alg: HashOrNull,
    }
}

/// `TPM2_SetPrimaryPolicy` (Part 3, 24.3).
#[derive(Debug)]
#[doc(alias = "TPM2_SetPrimaryPolicy")]
pub struct SetPrimaryPolicy;

impl Command for SetPrimaryPolicy {
    type In = SetPrimaryPolicyIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: SetPrimaryPolicyIn,
    ) -> TpmResult<NoParams> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let policy = match input.hash_alg.0 {
            Some(a) => {
                if input.auth_policy.len() != a.digest_size() {
                    return Err(Rc::SIZE.param(1));
                }
                Policy {
                    alg: a.alg_id().0,
                    digest: input.auth_policy.0,
                }
            }
            None => {
                if !input.auth_policy.is_empty() {
                    return Err(Rc::SIZE.param(1));
                }
                Policy {
                    alg: alg::NULL.0,
                    digest: Vec::new(),
                }
            }
        };
        match h {
            rh::OWNER => ctx.p.owner_policy = policy,
            rh::ENDORSEMENT => ctx.p.endorsement_policy = policy,
            rh::LOCKOUT => ctx.p.lockout_policy = policy,
            _ => {
                ctx.v.platform_policy = policy;
                return Ok(NoParams);
            }
        }
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

fn fresh(ctx: &mut Ctx<'_>, n: usize) -> Vec<u8> {
    let mut v = alloc::vec![0u8; n];
    ctx.random(&mut v);
    v
}

/// `TPM2_ChangePPS` (Part 3, 24.4).
#[derive(Debug)]
#[doc(alias = "TPM2_ChangePPS")]
pub struct ChangePps;

impl Command for ChangePps {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        ctx.p.pps = fresh(ctx, 64);
        ctx.p.ph_proof = fresh(ctx, 64);
        ctx.v.objects.retain(|_, o| o.hierarchy != rh::PLATFORM);
        ctx.p.persistent.retain(|o| o.hierarchy != rh::PLATFORM);
        ctx.v.platform_policy = Policy {
            alg: alg::NULL.0,
            digest: Vec::new(),
        };
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

/// `TPM2_ChangeEPS` (Part 3, 24.5).
#[derive(Debug)]
#[doc(alias = "TPM2_ChangeEPS")]
pub struct ChangeEps;

impl Command for ChangeEps {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        ctx.p.eps = fresh(ctx, 64);
        ctx.p.eh_proof = fresh(ctx, 64);
        ctx.p.endorsement_auth.clear();
        ctx.p.endorsement_policy = Policy {
            alg: alg::NULL.0,
            digest: Vec::new(),
        };
        ctx.v.objects.retain(|_, o| o.hierarchy != rh::ENDORSEMENT);
        ctx.p.persistent.retain(|o| o.hierarchy != rh::ENDORSEMENT);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

/// `TPM2_Clear` (Part 3, 24.6).
#[derive(Debug)]
#[doc(alias = "TPM2_Clear")]
pub struct Clear;

impl Command for Clear {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        if ctx.p.disable_clear {
            return Err(Rc::DISABLED);
        }
        let owned = |o: &Object| matches!(o.hierarchy, rh::OWNER | rh::ENDORSEMENT);
        ctx.v.objects.retain(|_, o| !owned(o));
        ctx.p.persistent.retain(|o| !owned(o));
        super::nv::on_clear(ctx);
        ctx.p.sps = fresh(ctx, 64);
        ctx.p.sh_proof = fresh(ctx, 64);
        ctx.p.eh_proof = fresh(ctx, 64);
        ctx.v.startup_clear.sh_enable = true;
        ctx.v.startup_clear.eh_enable = true;
        ctx.p.owner_auth.clear();
        ctx.p.endorsement_auth.clear();
        ctx.p.lockout_auth.clear();
        let null = Policy {
            alg: alg::NULL.0,
            digest: Vec::new(),
        };
        ctx.p.owner_policy = null.clone();
        ctx.p.endorsement_policy = null.clone();
        ctx.p.lockout_policy = null;
        ctx.p.clock = 0;
        ctx.v.clock_sync_ms = ctx.platform.monotonic_ms();
        ctx.p.reset_count = 0;
        ctx.p.restart_count = 0;
        ctx.v.clock_safe = true;
        ctx.v.pcr_update_counter = ctx.v.pcr_update_counter.wrapping_add(1);
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_ClearControl` parameters.
    pub struct ClearControlIn {
        /// YES to disable TPM2_Clear.
        pub disable: YesNo,
    }
}

/// `TPM2_ClearControl` (Part 3, 24.7): lockoutAuth may only disable;
/// platform may also enable.
#[derive(Debug)]
#[doc(alias = "TPM2_ClearControl")]
pub struct ClearControl;

impl Command for ClearControl {
    type In = ClearControlIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: ClearControlIn) -> TpmResult<NoParams> {
        let auth = handles.first().copied().ok_or(Rc::FAILURE)?;
        if auth == rh::LOCKOUT && !input.disable.0 {
            return Err(Rc::AUTH_FAIL);
        }
        ctx.p.disable_clear = input.disable.0;
        ctx.mark_dirty();
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_HierarchyChangeAuth` parameters.
    pub struct HierarchyChangeAuthIn {
        /// `newAuth`.
        pub new_auth: Digest2b,
    }
}

/// `TPM2_HierarchyChangeAuth` (Part 3, 24.8). The new value may be no
/// larger than the context-integrity digest (SHA-256 here: 32 octets... the
/// reference allows up to the largest digest of the TPM; so do we).
#[derive(Debug)]
#[doc(alias = "TPM2_HierarchyChangeAuth")]
pub struct HierarchyChangeAuth;

impl Command for HierarchyChangeAuth {
    type In = HierarchyChangeAuthIn;
    type Out = NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: HierarchyChangeAuthIn,
    ) -> TpmResult<NoParams> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let v = crate::auth::trim_trailing_zeros(input.new_auth.as_slice()).to_vec();
        match h {
            rh::OWNER => ctx.p.owner_auth = v,
            rh::ENDORSEMENT => ctx.p.endorsement_auth = v,
            rh::LOCKOUT => ctx.p.lockout_auth = v,
            _ => {
                ctx.v.platform_auth = v;
                return Ok(NoParams);
            }
        }
        ctx.mark_dirty();
        Ok(NoParams)
    }
}
