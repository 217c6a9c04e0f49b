//! Part 3, 13: Duplication Commands (`TPM2_Duplicate`, `TPM2_Rewrap`,
//! `TPM2_Import`) with the inner and outer wrappers of Part 1, 20.3.

use alloc::vec::Vec;

use super::object::PrivateParam;
use super::{Command, ToParams};
use crate::crypto::secret::ct_eq;
use crate::crypto::sym::{cfb_decrypt_in_place, cfb_encrypt_in_place};
use crate::crypto::HashAlg;
use crate::engine::Ctx;
use crate::object::{self, protect, secret, Object};
use crate::tpm_params;
use crate::wire::consts::rh;
use crate::wire::object::{oa, Name2b, Public, Public2b, Sensitive};
use crate::wire::public::SymDef;
use crate::wire::types::{Data2b, Tpm2b};
use crate::wire::{Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// `TPM2B_ENCRYPTED_SECRET` (room for an RSA-4096 block or an ML-KEM-1024
/// ciphertext).
pub use crate::wire::pqc::EncryptedSecret2b;

/// `TPMT_SYM_DEF_OBJECT+` for the inner wrapper: AES-CFB or NULL.
#[derive(Debug, Clone, Copy)]
pub struct InnerSym(pub SymDef);

impl Unmarshal for InnerSym {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let s = SymDef::read(r, false)?;
        if let SymDef::Aes { mode, .. } = s {
            if mode != crate::wire::consts::alg::CFB {
                return Err(Rc::MODE);
            }
        }
        Ok(InnerSym(s))
    }
}
impl Marshal for InnerSym {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.0);
    }
}

fn inner_key_len(sym: SymDef) -> Option<usize> {
    match sym {
        SymDef::Aes { key_bits, .. } => Some(usize::from(key_bits / 8)),
        _ => None,
    }
}

/// Apply the inner wrapper (Part 1, 20.3.2.2): `CFB(key, 0,
/// TPM2B_DIGEST(H(sensitive || name)) || sensitive)`.
fn inner_wrap(
    name_alg: HashAlg,
    key: &[u8],
    name: &[u8],
    sensitive_2b: &[u8],
) -> TpmResult<Vec<u8>> {
    let integrity = name_alg.digest_parts(&[sensitive_2b, name]);
    let mut w = Writer::new();
    w.tpm2b(&integrity);
    w.bytes(sensitive_2b);
    let mut buf = w.into_vec();
    cfb_encrypt_in_place(key, &[0u8; 16], &mut buf)?;
    Ok(buf)
}

/// Remove the inner wrapper; `TPM_RC_INTEGRITY` if its digest is wrong.
fn inner_unwrap(name_alg: HashAlg, key: &[u8], name: &[u8], enc: &[u8]) -> TpmResult<Vec<u8>> {
    let mut buf = enc.to_vec();
    cfb_decrypt_in_place(key, &[0u8; 16], &mut buf)?;
    let mut r = Reader::new(&buf);
    let integrity = r
        .tpm2b(name_alg.digest_size())
        .map_err(|_| Rc::INTEGRITY)?
        .to_vec();
    let rest = r.rest().to_vec();
    if !ct_eq(&integrity, &name_alg.digest_parts(&[&rest, name])) {
        return Err(Rc::INTEGRITY);
    }
    Ok(rest)
}

tpm_params! {
    /// `TPM2_Duplicate` parameters.
    pub struct DuplicateIn {
        /// encryptionKeyIn (empty: the TPM picks one).
        pub encryption_key_in: Data2b,
        /// symmetricAlg for the inner wrapper.
        pub symmetric_alg: InnerSym,
    }
}

/// `TPM2_Duplicate` response.
#[derive(Debug)]
pub struct DuplicateOut {
    /// encryptionKeyOut (when the TPM picked the key).
    pub encryption_key_out: Vec<u8>,
    /// duplicate.
    pub duplicate: Vec<u8>,
    /// outSymSeed.
    pub out_sym_seed: Vec<u8>,
}

impl ToParams for DuplicateOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.tpm2b(&self.encryption_key_out);
        w.tpm2b(&self.duplicate);
        w.tpm2b(&self.out_sym_seed);
    }
}

/// The new parent's public area and Name, or `None` for `TPM_RH_NULL`.
fn new_parent(ctx: &Ctx<'_>, h: Handle, n: u32) -> TpmResult<Option<Object>> {
    if h == rh::NULL {
        return Ok(None);
    }
    let p = ctx.object(h).ok_or(Rc::HANDLE.handle(n))?.clone();
    if !p.public.is_storage_parent() {
        return Err(Rc::TYPE.handle(n));
    }
    Ok(Some(p))
}

/// `TPM2_Duplicate` (Part 3, 13.1).
#[derive(Debug)]
#[doc(alias = "TPM2_Duplicate")]
pub struct Duplicate;

impl Command for Duplicate {
    type In = DuplicateIn;
    type Out = DuplicateOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: DuplicateIn) -> TpmResult<DuplicateOut> {
        let (Some(&oh), Some(&nph)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let obj = ctx.object(oh).ok_or(Rc::HANDLE.handle(1))?.clone();
        if obj.public.has(oa::FIXED_PARENT) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        let name_alg = obj.public.name_alg.ok_or(Rc::TYPE.handle(1))?;
        let sens = obj.sensitive.as_ref().ok_or(Rc::TYPE.handle(1))?;
        let parent = new_parent(ctx, nph, 2)?;
        let sym = input.symmetric_alg.0;
        if obj.public.has(oa::ENCRYPTED_DUPLICATION) && (sym == SymDef::Null || parent.is_none()) {
            return Err(if sym == SymDef::Null {
                Rc::SYMMETRIC.param(2)
            } else {
                Rc::HIERARCHY.handle(2)
            });
        }
        let mut body = protect::sensitive_2b(sens);
        let mut key_out = Vec::new();
        if let Some(len) = inner_key_len(sym) {
            let key = if input.encryption_key_in.is_empty() {
                let mut k = alloc::vec![0u8; len];
                ctx.random(&mut k);
                key_out = k.clone();
                k
            } else {
                if input.encryption_key_in.len() != len {
                    return Err(Rc::SIZE.param(1));
                }
                input.encryption_key_in.0.clone()
            };
            body = inner_wrap(name_alg, &key, &obj.name, &body)?;
        } else if !input.encryption_key_in.is_empty() {
            return Err(Rc::VALUE.param(1));
        }
        let (duplicate, out_sym_seed) = match &parent {
            Some(p) => {
                let mut drbg = ctx.v.drbg.clone();
                let (seed, enc) = secret::encrypt_seed(p, b"DUPLICATE\0", &mut drbg)?;
                ctx.v.drbg = drbg;
                (
                    protect::outer_wrap(&p.public, &seed, &obj.name, &body)?,
                    enc,
                )
            }
            None => (body, Vec::new()),
        };
        Ok(DuplicateOut {
            encryption_key_out: key_out,
            duplicate,
            out_sym_seed,
        })
    }
}

tpm_params! {
    /// `TPM2_Rewrap` parameters.
    pub struct RewrapIn {
        /// inDuplicate.
        pub in_duplicate: PrivateParam,
        /// name of the object.
        pub name: Name2b,
        /// inSymSeed.
        pub in_sym_seed: EncryptedSecret2b,
    }
}

tpm_params! {
    /// `TPM2_Rewrap` response.
    pub struct RewrapOut {
        /// outDuplicate.
        pub out_duplicate: PrivateParam,
        /// outSymSeed.
        pub out_sym_seed: EncryptedSecret2b,
    }
}

/// `TPM2_Rewrap` (Part 3, 13.2): move the outer wrapper from one parent to
/// another.
#[derive(Debug)]
#[doc(alias = "TPM2_Rewrap")]
pub struct Rewrap;

impl Command for Rewrap {
    type In = RewrapIn;
    type Out = RewrapOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: RewrapIn) -> TpmResult<RewrapOut> {
        let (Some(&oph), Some(&nph)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let old = new_parent(ctx, oph, 1)?;
        let new = new_parent(ctx, nph, 2)?;
        let name = input.name.as_slice();
        let mut drbg = ctx.v.drbg.clone();
        let inner = match &old {
            Some(p) => {
                if input.in_sym_seed.is_empty() {
                    return Err(Rc::VALUE.param(3));
                }
                let seed = secret::decrypt_seed(
                    p,
                    b"DUPLICATE\0",
                    input.in_sym_seed.as_slice(),
                    &mut drbg,
                )
                .map_err(|e| e.param(3))?;
                protect::outer_unwrap(&p.public, &seed, name, &input.in_duplicate.0)
                    .map_err(|e| e.param(1))?
            }
            None => input.in_duplicate.0.clone(),
        };
        let (out, seed_out) = match &new {
            Some(p) => {
                let (seed, enc) = secret::encrypt_seed(p, b"DUPLICATE\0", &mut drbg)?;
                (protect::outer_wrap(&p.public, &seed, name, &inner)?, enc)
            }
            None => (inner, Vec::new()),
        };
        ctx.v.drbg = drbg;
        Ok(RewrapOut {
            out_duplicate: PrivateParam(out),
            out_sym_seed: Tpm2b(seed_out),
        })
    }
}

tpm_params! {
    /// `TPM2_Import` parameters.
    pub struct ImportIn {
        /// encryptionKey of the inner wrapper.
        pub encryption_key: Data2b,
        /// objectPublic.
        pub object_public: Public2b,
        /// duplicate.
        pub duplicate: PrivateParam,
        /// inSymSeed.
        pub in_sym_seed: EncryptedSecret2b,
        /// symmetricAlg of the inner wrapper.
        pub symmetric_alg: InnerSym,
    }
}

tpm_params! {
    /// `TPM2_Import` response.
    pub struct ImportOut {
        /// outPrivate, wrapped for the new parent.
        pub out_private: PrivateParam,
    }
}

/// `TPM2_Import` (Part 3, 13.3).
#[derive(Debug)]
#[doc(alias = "TPM2_Import")]
pub struct Import;

impl Command for Import {
    type In = ImportIn;
    type Out = ImportOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: ImportIn) -> TpmResult<ImportOut> {
        let ph = handles.first().copied().ok_or(Rc::FAILURE)?;
        let parent = ctx.object(ph).ok_or(Rc::HANDLE.handle(1))?.clone();
        let parent_seed = parent
            .sensitive
            .as_ref()
            .map(|s| s.seed_value.clone())
            .unwrap_or_default();
        if !parent.public.is_storage_parent() || parent_seed.is_empty() {
            return Err(Rc::TYPE.handle(1));
        }
        let public: Public = input.object_public.0;
        // Part 3, 13.3.1: an imported object cannot claim fixedTPM, and
        // one with encryptedDuplication needs both wrappers.
        if public.has(oa::FIXED_TPM) {
            return Err(Rc::ATTRIBUTES.param(2));
        }
        let sym = input.symmetric_alg.0;
        if public.has(oa::ENCRYPTED_DUPLICATION)
            && (sym == SymDef::Null || input.in_sym_seed.is_empty())
        {
            return Err(Rc::ATTRIBUTES.param(2));
        }
        let name_alg = public.name_alg.ok_or(Rc::HASH.param(2))?;
        let name = public.name();
        let mut drbg = ctx.v.drbg.clone();
        let mut body = if input.in_sym_seed.is_empty() {
            input.duplicate.0.clone()
        } else {
            let seed = secret::decrypt_seed(
                &parent,
                b"DUPLICATE\0",
                input.in_sym_seed.as_slice(),
                &mut drbg,
            )
            .map_err(|e| e.param(4))?;
            protect::outer_unwrap(&parent.public, &seed, &name, &input.duplicate.0)
                .map_err(|e| e.param(3))?
        };
        ctx.v.drbg = drbg;
        if let Some(len) = inner_key_len(sym) {
            if input.encryption_key.len() != len {
                return Err(Rc::SIZE.param(1));
            }
            body = inner_unwrap(name_alg, input.encryption_key.as_slice(), &name, &body)
                .map_err(|e| e.param(3))?;
        }
        let sensitive: Sensitive = protect::parse_sensitive_2b(&body).map_err(|e| e.param(3))?;
        object::check_binding(&public, &sensitive).map_err(|e| e.param(3))?;
        let out = protect::wrap(&parent.public, &parent_seed, &name, &sensitive)?;
        Ok(ImportOut {
            out_private: PrivateParam(out),
        })
    }
}
