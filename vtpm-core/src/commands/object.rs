//! Part 3, 12: Object Commands.

use alloc::vec::Vec;

use super::{Command, NoParams, ToParams};
use crate::crypto::HashAlg;
use crate::engine::Ctx;
use crate::object::{self, protect, Object};
use crate::tpm_params;
use crate::wire::consts::{alg, rh, st};
use crate::wire::object::{
    oa, CreationData, Derive, Name2b, Private2b, Public, Public2b, PublicAnyName2b, Sensitive,
    SensitiveCreate,
};
use crate::wire::public::{KeyedHashScheme, PublicParms};
use crate::wire::types::{Data2b, Digest2b, PcrSelectionList, SensitiveData2b, Ticket, Tpm2b};
use crate::wire::{Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// The creation outputs shared by Create and CreatePrimary.
#[derive(Debug)]
pub struct Creation {
    /// `TPMS_CREATION_DATA` marshaled.
    pub data: Vec<u8>,
    /// `creationHash`.
    pub hash: Vec<u8>,
    /// `creationTicket`.
    pub ticket: Ticket,
}

/// Check userAuth and authPolicy sizes against nameAlg (Part 3, 12.1: the
/// authValue may not be larger than the nameAlg digest; a policy is empty
/// or exactly a digest) and the size of a caller's HMAC key (Part 1,
/// 24.7.5.1: [`object::hmac_key_limit`]). Positions: inSensitive is
/// parameter 1, inPublic 2.
pub fn check_sizes(public: &Public, sens: &SensitiveCreate) -> TpmResult<HashAlg> {
    let name_alg = check_auth_sizes(public, &sens.user_auth)?;
    if object::hmac_key_limit(public).is_some_and(|max| sens.data.len() > max) {
        return Err(Rc::SIZE.param(1));
    }
    Ok(name_alg)
}

/// The userAuth and authPolicy part of [`check_sizes`].
fn check_auth_sizes(public: &Public, user_auth: &[u8]) -> TpmResult<HashAlg> {
    let name_alg = public.name_alg.ok_or(Rc::HASH.param(2))?;
    if user_auth.len() > name_alg.digest_size() {
        return Err(Rc::SIZE.param(1));
    }
    if !public.auth_policy.is_empty() && public.auth_policy.len() != name_alg.digest_size() {
        return Err(Rc::SIZE.param(2));
    }
    Ok(name_alg)
}

/// Build creation data, its hash and ticket (Part 3, 12.1; Part 2, 10.6.4).
pub fn creation(
    ctx: &mut Ctx<'_>,
    obj: &Object,
    parent: Handle,
    outside_info: &[u8],
    pcrs: &PcrSelectionList,
) -> TpmResult<Creation> {
    let name_alg = obj.public.name_alg.ok_or(Rc::HASH)?;
    let mut h = name_alg.start();
    for sel in &pcrs.0 {
        for i in 0..crate::wire::consts::sizes::PCR_COUNT {
            if sel.select.has(i) {
                if let Some(v) = ctx.v.pcrs.get(sel.hash, i) {
                    h.update(v);
                }
            }
        }
    }
    let any_pcr = pcrs.0.iter().any(|s| s.select.0 != 0);
    let pcr_digest = if any_pcr { h.finish() } else { Vec::new() };
    let parent_name_alg = ctx
        .object(parent)
        .and_then(|o| o.public.name_alg)
        .map_or(alg::NULL, |a| a.alg_id());
    let cd = CreationData {
        pcr_select: pcrs.clone(),
        pcr_digest,
        locality: if ctx.locality < 5 {
            1u8 << ctx.locality
        } else {
            ctx.locality
        },
        parent_name_alg,
        parent_name: ctx.name_of(parent),
        parent_qualified_name: ctx.qualified_name_of(parent),
        outside_info: outside_info.to_vec(),
    };
    let data = cd.to_bytes();
    let hash = name_alg.digest(&data);
    let ticket = creation_ticket(ctx, obj.hierarchy, &obj.name, &hash);
    Ok(Creation { data, hash, ticket })
}

/// `TPMT_TK_CREATION` (Part 2, 10.6.3, eq. 4):
/// `HMAC_contextAlg(proof, TPM_ST_CREATION || Name || creationHash)`.
pub fn creation_ticket(ctx: &Ctx<'_>, hierarchy: Handle, name: &[u8], hash: &[u8]) -> Ticket {
    let Some(proof) = ctx.hierarchy_proof(hierarchy) else {
        return Ticket::null(st::CREATION);
    };
    let mac = crate::crypto::hmac::hmac(
        super::signature::CONTEXT_HASH,
        proof,
        &[&st::CREATION.0.to_be_bytes(), name, hash],
    );
    Ticket {
        tag: st::CREATION,
        hierarchy,
        digest: Tpm2b(mac),
    }
}

/// The loaded parent of a Create/Load: a storage key with its sensitive
/// area (`TPM_RC_TYPE` on the parent handle otherwise).
fn storage_parent(ctx: &Ctx<'_>, h: Handle) -> TpmResult<(Public, Vec<u8>, Vec<u8>, Handle)> {
    let p = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
    let seed = p
        .sensitive
        .as_ref()
        .map(|s| s.seed_value.clone())
        .ok_or(Rc::TYPE.handle(1))?;
    if !p.public.is_storage_parent() || seed.is_empty() {
        return Err(Rc::TYPE.handle(1));
    }
    Ok((
        p.public.clone(),
        seed,
        p.qualified_name.clone(),
        p.hierarchy,
    ))
}

tpm_params! {
    /// `TPM2_Create` parameters (also CreatePrimary's).
    pub struct CreateIn {
        /// `TPM2B_SENSITIVE_CREATE`.
        pub in_sensitive: SensitiveCreate,
        /// `TPM2B_PUBLIC` template.
        pub in_public: Public2b,
        /// `outsideInfo`.
        pub outside_info: Data2b,
        /// `creationPCR`.
        pub creation_pcr: PcrSelectionList,
    }
}

impl crate::wire::Marshal for SensitiveCreate {
    fn marshal(&self, w: &mut Writer) {
        w.sized(|w| {
            w.tpm2b(&self.user_auth);
            w.tpm2b(&self.data);
        });
    }
}

/// `TPM2_Create` response.
#[derive(Debug)]
pub struct CreateOut {
    /// `TPM2B_PRIVATE`.
    pub out_private: Vec<u8>,
    /// `TPM2B_PUBLIC`.
    pub out_public: Public,
    /// Creation outputs.
    pub creation: Creation,
}

impl ToParams for CreateOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.tpm2b(&self.out_private);
        w.write(&Public2b(self.out_public.clone()));
        w.tpm2b(&self.creation.data);
        w.tpm2b(&self.creation.hash);
        w.write(&self.creation.ticket);
    }
}

/// `TPM2_Create` (Part 3, 12.1).
#[derive(Debug)]
#[doc(alias = "TPM2_Create")]
pub struct Create;

impl Command for Create {
    type In = CreateIn;
    type Out = CreateOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: CreateIn) -> TpmResult<CreateOut> {
        let parent_h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let (parent, seed, parent_qn, hierarchy) = storage_parent(ctx, parent_h)?;
        let template = input.in_public.0;
        check_sizes(&template, &input.in_sensitive)?;
        object::validate_template(&template, Some(&parent), &input.in_sensitive.data)
            .map_err(|e| e.param(2))?;
        let mut drbg = ctx.v.drbg.clone();
        let (public, sensitive) =
            object::generate(&template, &input.in_sensitive, &mut drbg).map_err(|e| e.param(2))?;
        ctx.v.drbg = drbg;
        let obj = Object::new(public, Some(sensitive), &parent_qn, hierarchy);
        let sens = obj.sensitive.as_ref().ok_or(Rc::FAILURE)?;
        let out_private = protect::wrap(&parent, &seed, &obj.name, sens)?;
        let creation = creation(
            ctx,
            &obj,
            parent_h,
            input.outside_info.as_slice(),
            &input.creation_pcr,
        )?;
        Ok(CreateOut {
            out_private,
            out_public: obj.public.clone(),
            creation,
        })
    }
}

/// `TPM2B_PRIVATE` as a parameter.
#[derive(Debug)]
pub struct PrivateParam(pub Vec<u8>);

impl Unmarshal for PrivateParam {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(PrivateParam(r.read::<Private2b>()?.0))
    }
}
impl Marshal for PrivateParam {
    fn marshal(&self, w: &mut Writer) {
        w.tpm2b(&self.0);
    }
}

tpm_params! {
    /// `TPM2_Load` parameters.
    pub struct LoadIn {
        /// `inPrivate`.
        pub in_private: PrivateParam,
        /// `inPublic`.
        pub in_public: Public2b,
    }
}

/// A response with a handle and a Name (Load, LoadExternal, ContextLoad...).
#[derive(Debug)]
pub struct HandleAndName {
    /// The handle.
    pub handle: Handle,
    /// The Name.
    pub name: Vec<u8>,
}

impl ToParams for HandleAndName {
    fn response_handle(&self) -> Option<Handle> {
        Some(self.handle)
    }
    fn marshal_params(&self, w: &mut Writer) {
        w.tpm2b(&self.name);
    }
}

/// `TPM2_Load` (Part 3, 12.2).
#[derive(Debug)]
#[doc(alias = "TPM2_Load")]
pub struct Load;

impl Command for Load {
    type In = LoadIn;
    type Out = HandleAndName;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: LoadIn) -> TpmResult<HandleAndName> {
        let parent_h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let (parent, seed, parent_qn, hierarchy) = storage_parent(ctx, parent_h)?;
        let public = input.in_public.0;
        if input.in_private.0.is_empty() {
            return Err(Rc::SIZE.param(1));
        }
        // The public area must be one this parent could have made.
        object::validate_template(&public, Some(&parent), &[])
            .or_else(|e| {
                // Imported or sealed objects may carry caller data (no
                // sensitiveDataOrigin); only attribute combinations matter here.
                if e == Rc::ATTRIBUTES || e == Rc::SIZE {
                    object::check_loaded(&public)
                } else {
                    Err(e)
                }
            })
            .map_err(|e| e.param(2))?;
        if ctx.v.objects.len() >= ctx.config.max_loaded_objects {
            return Err(Rc::OBJECT_MEMORY);
        }
        let name = public.name();
        let sensitive =
            protect::unwrap(&parent, &seed, &name, &input.in_private.0).map_err(|e| e.param(1))?;
        object::check_binding(&public, &sensitive).map_err(|e| e.param(2))?;
        let obj = Object::new(public, Some(sensitive), &parent_qn, hierarchy);
        let name = obj.name.clone();
        let handle = ctx.insert_object(obj)?;
        Ok(HandleAndName { handle, name })
    }
}

/// `TPM2B_SENSITIVE` (LoadExternal): size 0 means "public only".
#[derive(Debug)]
pub struct OptSensitive(pub Option<Sensitive>);

impl Unmarshal for OptSensitive {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let size = usize::from(r.u16()?);
        if size == 0 {
            return Ok(OptSensitive(None));
        }
        let mut sub = r.sub(size)?;
        let s = Sensitive::unmarshal(&mut sub)?;
        sub.finish()?;
        Ok(OptSensitive(Some(s)))
    }
}

impl Marshal for OptSensitive {
    fn marshal(&self, w: &mut Writer) {
        match &self.0 {
            Some(s) => w.sized(|w| w.write(s)),
            None => w.u16(0),
        }
    }
}

impl Marshal for PublicAnyName2b {
    fn marshal(&self, w: &mut Writer) {
        w.sized(|w| w.write(&self.0));
    }
}

tpm_params! {
    /// `TPM2_LoadExternal` parameters.
    pub struct LoadExternalIn {
        /// `inPrivate` (may be empty).
        pub in_private: OptSensitive,
        /// `inPublic`.
        pub in_public: PublicAnyName2b,
        /// `hierarchy`.
        pub hierarchy: super::hash::HierarchyOrNull,
    }
}

/// `TPM2_LoadExternal` (Part 3, 12.3).
#[derive(Debug)]
#[doc(alias = "TPM2_LoadExternal")]
pub struct LoadExternal;

impl Command for LoadExternal {
    type In = LoadExternalIn;
    type Out = HandleAndName;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: LoadExternalIn) -> TpmResult<HandleAndName> {
        let public = input.in_public.0;
        let hierarchy = input.hierarchy.0;
        if !ctx.hierarchy_enabled(hierarchy) {
            return Err(Rc::HIERARCHY.param(3));
        }
        if input.in_private.0.is_some() {
            // Part 3, 12.3.1: an external object with its private part
            // lives only in the NULL hierarchy, and "fixedTPM, fixedParent,
            // and restricted shall be CLEAR".
            if hierarchy != rh::NULL {
                return Err(Rc::HIERARCHY.param(3));
            }
            if public.has(oa::FIXED_TPM)
                || public.has(oa::FIXED_PARENT)
                || public.has(oa::RESTRICTED)
            {
                return Err(Rc::ATTRIBUTES.param(2));
            }
            if public.name_alg.is_none() {
                return Err(Rc::HASH.param(2));
            }
        }
        // Part 3, 12.3.1: the attributes follow Part 2's TPMA_OBJECT rules,
        // authPolicy is empty or a nameAlg digest, the public key is
        // sound; a private part has the size the public area implies and
        // belongs to it.
        object::check_loaded(&public).map_err(|e| e.param(2))?;
        if let Some(h) = public.name_alg {
            if !public.auth_policy.is_empty() && public.auth_policy.len() != h.digest_size() {
                return Err(Rc::SIZE.param(2));
            }
        }
        object::check_public_key(&public).map_err(|e| e.param(2))?;
        if let Some(s) = &input.in_private.0 {
            object::check_sensitive_size(&public, s).map_err(|e| e.param(1))?;
            object::check_binding(&public, s).map_err(|e| e.param(2))?;
        }
        let mut obj = Object::new(
            public,
            input.in_private.0,
            &hierarchy.0.to_be_bytes(),
            hierarchy,
        );
        // Part 3, 12.3.1: "The Qualified Name for the object will be the
        // same as its Name."
        obj.qualified_name = obj.name.clone();
        let name = obj.name.clone();
        let handle = ctx.insert_object(obj)?;
        Ok(HandleAndName { handle, name })
    }
}

/// `TPM2_ReadPublic` response.
#[derive(Debug)]
pub struct ReadPublicOut {
    /// `outPublic`.
    pub public: Public,
    /// `name`.
    pub name: Vec<u8>,
    /// `qualifiedName`.
    pub qualified_name: Vec<u8>,
}

impl ToParams for ReadPublicOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.write(&Public2b(self.public.clone()));
        w.tpm2b(&self.name);
        w.tpm2b(&self.qualified_name);
    }
}

/// `TPM2_ReadPublic` (Part 3, 12.4).
#[derive(Debug)]
#[doc(alias = "TPM2_ReadPublic")]
pub struct ReadPublic;

impl Command for ReadPublic {
    type In = NoParams;
    type Out = ReadPublicOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<ReadPublicOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let o = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        Ok(ReadPublicOut {
            public: o.public.clone(),
            name: o.name.clone(),
            qualified_name: o.qualified_name.clone(),
        })
    }
}

tpm_params! {
    /// `TPM2_ObjectChangeAuth` parameters.
    pub struct ObjectChangeAuthIn {
        /// `newAuth`.
        pub new_auth: Digest2b,
    }
}

tpm_params! {
    /// `TPM2_ObjectChangeAuth` response.
    pub struct ObjectChangeAuthOut {
        /// `outPrivate`.
        pub out_private: PrivateParam,
    }
}

/// `TPM2_ObjectChangeAuth` (Part 3, 12.5): a new private area with the new
/// authValue; the loaded object is unchanged.
#[derive(Debug)]
#[doc(alias = "TPM2_ObjectChangeAuth")]
pub struct ObjectChangeAuth;

impl Command for ObjectChangeAuth {
    type In = ObjectChangeAuthIn;
    type Out = ObjectChangeAuthOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: ObjectChangeAuthIn,
    ) -> TpmResult<ObjectChangeAuthOut> {
        let (Some(&oh), Some(&ph)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        if oh.ht() != crate::wire::consts::ht::TRANSIENT {
            // Persistent objects cannot change their auth (Part 3, 12.5.1).
            return Err(Rc::HANDLE.handle(1));
        }
        let obj = ctx.object(oh).ok_or(Rc::HANDLE.handle(1))?;
        let name_alg = obj.public.name_alg.ok_or(Rc::TYPE.handle(1))?;
        if input.new_auth.len() > name_alg.digest_size() {
            return Err(Rc::SIZE.param(1));
        }
        let (parent, seed, parent_qn, _) = storage_parent(ctx, ph).map_err(|e| {
            if e.base() == Rc::TYPE {
                Rc::TYPE.handle(2)
            } else {
                e
            }
        })?;
        if object::qualified_name(obj.public.name_alg, &parent_qn, &obj.name) != obj.qualified_name
        {
            return Err(Rc::TYPE.handle(2));
        }
        let mut sens = obj.sensitive.clone().ok_or(Rc::TYPE.handle(1))?;
        sens.auth_value = crate::auth::trim_trailing_zeros(input.new_auth.as_slice()).to_vec();
        let out = protect::wrap(&parent, &seed, &obj.name, &sens)?;
        Ok(ObjectChangeAuthOut {
            out_private: PrivateParam(out),
        })
    }
}

tpm_params! {
    /// `TPM2_Unseal` response.
    pub struct UnsealOut {
        /// The sealed data.
        pub out_data: SensitiveData2b,
    }
}

/// `TPM2_Unseal` (Part 3, 12.7).
#[derive(Debug)]
#[doc(alias = "TPM2_Unseal")]
pub struct Unseal;

impl Command for Unseal {
    type In = NoParams;
    type Out = UnsealOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<UnsealOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let o = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        if !matches!(o.public.parms, PublicParms::KeyedHash { .. }) {
            return Err(Rc::TYPE.handle(1));
        }
        if o.public.has(oa::DECRYPT)
            || o.public.has(oa::SIGN_ENCRYPT)
            || o.public.has(oa::RESTRICTED)
        {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        if let PublicParms::KeyedHash { scheme } = &o.public.parms {
            if *scheme != KeyedHashScheme::Null {
                return Err(Rc::ATTRIBUTES.handle(1));
            }
        }
        let s = o.sensitive.as_ref().ok_or(Rc::TYPE.handle(1))?;
        Ok(UnsealOut {
            out_data: Tpm2b(s.sensitive.clone()),
        })
    }
}

/// `TPM2B_TEMPLATE` for CreateLoaded (Part 2, 12.2.6): a `TPMT_PUBLIC` in
/// a TPM2B, kept as octets: how its unique field reads depends on the
/// parent (a `TPMS_DERIVE` under a Derivation Parent).
#[derive(Debug)]
pub struct Template(pub Vec<u8>);

impl Unmarshal for Template {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let b = r.tpm2b(usize::from(u16::MAX))?;
        if b.is_empty() {
            return Err(Rc::SIZE);
        }
        Ok(Template(b.to_vec()))
    }
}
impl Marshal for Template {
    fn marshal(&self, w: &mut Writer) {
        w.tpm2b(&self.0);
    }
}

impl Template {
    /// The template as a `TPMT_PUBLIC` (any parent but a Derivation
    /// Parent). Unpositioned errors.
    fn public(&self) -> TpmResult<Public> {
        let mut r = Reader::new(&self.0);
        let p = Public::read(&mut r, false)?;
        r.finish()?;
        Ok(p)
    }

    /// The template under a Derivation Parent: the public area and the
    /// `TPMS_DERIVE` in its unique field. Unpositioned errors.
    fn derive(&self) -> TpmResult<(Public, Derive)> {
        let mut r = Reader::new(&self.0);
        let p = Public::read_derive_template(&mut r)?;
        r.finish()?;
        Ok(p)
    }
}

tpm_params! {
    /// `TPM2_CreateLoaded` parameters.
    pub struct CreateLoadedIn {
        /// `inSensitive`.
        pub in_sensitive: SensitiveCreate,
        /// `inPublic` (`TPM2B_TEMPLATE`).
        pub in_public: Template,
    }
}

/// `TPM2_CreateLoaded` response.
#[derive(Debug)]
pub struct CreateLoadedOut {
    /// `objectHandle`.
    pub handle: Handle,
    /// `outPrivate` (empty for a primary).
    pub out_private: Vec<u8>,
    /// `outPublic`.
    pub out_public: Public,
    /// `name`.
    pub name: Vec<u8>,
}

impl ToParams for CreateLoadedOut {
    fn response_handle(&self) -> Option<Handle> {
        Some(self.handle)
    }
    fn marshal_params(&self, w: &mut Writer) {
        w.tpm2b(&self.out_private);
        w.write(&Public2b(self.out_public.clone()));
        w.tpm2b(&self.name);
    }
}

/// `TPM2_CreateLoaded` (Part 3, 12.9): an ordinary object under a storage
/// parent, a primary object when the parent is a hierarchy, or a Derived
/// Object under a Derivation Parent (Part 1, 25).
#[derive(Debug)]
#[doc(alias = "TPM2_CreateLoaded")]
pub struct CreateLoaded;

impl Command for CreateLoaded {
    type In = CreateLoadedIn;
    type Out = CreateLoadedOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: CreateLoadedIn,
    ) -> TpmResult<CreateLoadedOut> {
        let parent_h = handles.first().copied().ok_or(Rc::FAILURE)?;
        if ctx
            .object(parent_h)
            .is_some_and(|p| p.public.is_derivation_parent())
        {
            return create_derived(ctx, parent_h, &input);
        }
        let template = input.in_public.public().map_err(|e| e.param(2))?;
        check_sizes(&template, &input.in_sensitive)?;
        if matches!(
            parent_h,
            rh::OWNER | rh::ENDORSEMENT | rh::PLATFORM | rh::NULL
        ) {
            let obj =
                super::hierarchy::derive_primary(ctx, parent_h, &template, &input.in_sensitive)?;
            let name = obj.name.clone();
            let out_public = obj.public.clone();
            let handle = ctx.insert_object(obj)?;
            return Ok(CreateLoadedOut {
                handle,
                out_private: Vec::new(),
                out_public,
                name,
            });
        }
        let (parent, seed, parent_qn, hierarchy) = storage_parent(ctx, parent_h)?;
        object::validate_template(&template, Some(&parent), &input.in_sensitive.data)
            .map_err(|e| e.param(2))?;
        if ctx.v.objects.len() >= ctx.config.max_loaded_objects {
            return Err(Rc::OBJECT_MEMORY);
        }
        let mut drbg = ctx.v.drbg.clone();
        let (public, sensitive) =
            object::generate(&template, &input.in_sensitive, &mut drbg).map_err(|e| e.param(2))?;
        ctx.v.drbg = drbg;
        let obj = Object::new(public, Some(sensitive), &parent_qn, hierarchy);
        let out_private = protect::wrap(
            &parent,
            &seed,
            &obj.name,
            obj.sensitive.as_ref().ok_or(Rc::FAILURE)?,
        )?;
        let name = obj.name.clone();
        let out_public = obj.public.clone();
        let handle = ctx.insert_object(obj)?;
        Ok(CreateLoadedOut {
            handle,
            out_private,
            out_public,
            name,
        })
    }
}

/// A Derived Object (Part 3, 12.9.1; Part 1, 25): the template's unique
/// field is a `TPMS_DERIVE`; a label or context it leaves empty comes from
/// a `TPMS_DERIVE` in inSensitive.data (Part 2, 11.1.11: the template's
/// take precedence). The keys come from KDFa keyed with the parent's
/// keyedHash key and its XOR scheme's hash (the KDF "is a property of the
/// Derivation Parent", Part 1, 25.2); outPrivate is empty.
fn create_derived(
    ctx: &mut Ctx<'_>,
    parent_h: Handle,
    input: &CreateLoadedIn,
) -> TpmResult<CreateLoadedOut> {
    let p = ctx.object(parent_h).ok_or(Rc::HANDLE.handle(1))?;
    let PublicParms::KeyedHash {
        scheme: KeyedHashScheme::Xor(kdf_hash, _),
    } = p.public.parms
    else {
        return Err(Rc::TYPE.handle(1));
    };
    let key = p
        .sensitive
        .as_ref()
        .map(|s| crate::crypto::SecretBytes::new(&s.sensitive))
        .ok_or(Rc::TYPE.handle(1))?;
    let (parent_public, parent_qn, hierarchy) =
        (p.public.clone(), p.qualified_name.clone(), p.hierarchy);
    let (template, mut derive) = input.in_public.derive().map_err(|e| e.param(2))?;
    check_auth_sizes(&template, &input.in_sensitive.user_auth)?;
    object::validate_derived(&template, &parent_public).map_err(|e| e.param(2))?;
    let data = &input.in_sensitive.data;
    if !data.is_empty() {
        let mut r = Reader::new(data);
        let from_data = Derive::read(&mut r)
            .and_then(|d| r.finish().map(|()| d))
            .map_err(|e| e.param(1))?;
        if derive.label.is_empty() {
            derive.label = from_data.label;
        }
        if derive.context.is_empty() {
            derive.context = from_data.context;
        }
    }
    if ctx.v.objects.len() >= ctx.config.max_loaded_objects {
        return Err(Rc::OBJECT_MEMORY);
    }
    let mut stream =
        object::DerivationStream::new(kdf_hash, key.as_slice(), &derive.label, &derive.context)?;
    let (public, sensitive) =
        object::generate_derived(&template, &input.in_sensitive.user_auth, &mut stream)
            .map_err(|e| e.param(2))?;
    let obj = Object::new(public, Some(sensitive), &parent_qn, hierarchy);
    let name = obj.name.clone();
    let out_public = obj.public.clone();
    let handle = ctx.insert_object(obj)?;
    Ok(CreateLoadedOut {
        handle,
        out_private: Vec::new(),
        out_public,
        name,
    })
}

/// Names are returned as `TPM2B_NAME`.
pub type NameParam = Name2b;
