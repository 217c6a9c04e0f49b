//! Part 3, 11: Session Commands (`TPM2_StartAuthSession`, `TPM2_PolicyRestart`).

use alloc::vec::Vec;

use super::{Command, NoParams, ToParams};
use crate::auth::process::{da_exempt, entity_auth, entity_name, find_object};
use crate::auth::session::{bind_value, session_key, Session};
use crate::crypto::HashAlg;
use crate::engine::Ctx;
use crate::object::secret;
use crate::state::SessionSlot;
use crate::tpm_params;
use crate::wire::consts::{alg, rh, se};
use crate::wire::object::oa;
use crate::wire::public::SymDef;
use crate::wire::types::Digest2b;
use crate::wire::{Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// `TPM2B_ENCRYPTED_SECRET` (room for an RSA-4096 block or an ML-KEM-1024
/// ciphertext).
pub use crate::wire::pqc::EncryptedSecret2b;

/// `TPMT_SYM_DEF+` for sessions: AES in CFB mode, XOR, or NULL.
#[derive(Debug, Clone, Copy)]
pub struct SessionSym(pub SymDef);

impl Unmarshal for SessionSym {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        SymDef::read(r, true).map(SessionSym)
    }
}
impl Marshal for SessionSym {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.0);
    }
}

tpm_params! {
    /// `TPM2_StartAuthSession` parameters.
    pub struct StartAuthSessionIn {
        /// nonceCaller.
        pub nonce_caller: Digest2b,
        /// encryptedSalt.
        pub encrypted_salt: EncryptedSecret2b,
        /// `TPM_SE`.
        pub session_type: u8,
        /// Parameter encryption.
        pub symmetric: SessionSym,
        /// authHash.
        pub auth_hash: HashAlg,
    }
}

/// `TPM2_StartAuthSession` response.
#[derive(Debug)]
pub struct StartAuthSessionOut {
    /// sessionHandle.
    pub handle: Handle,
    /// nonceTPM.
    pub nonce_tpm: Vec<u8>,
}

impl ToParams for StartAuthSessionOut {
    fn response_handle(&self) -> Option<Handle> {
        Some(self.handle)
    }
    fn marshal_params(&self, w: &mut Writer) {
        w.tpm2b(&self.nonce_tpm);
    }
}

/// Recover the salt (Part 1, 24: "Secret Sharing") with label "SECRET".
fn decrypt_salt(ctx: &mut Ctx<'_>, key: Handle, encrypted: &[u8]) -> TpmResult<Vec<u8>> {
    let obj = find_object(&ctx.p, ctx.v, key)
        .ok_or(Rc::HANDLE.handle(1))?
        .clone();
    if !obj.public.has(oa::DECRYPT) {
        return Err(Rc::ATTRIBUTES.handle(1));
    }
    let mut drbg = ctx.v.drbg.clone();
    let salt = secret::decrypt_seed(&obj, b"SECRET\0", encrypted, &mut drbg).map_err(|e| {
        if e == Rc::KEY || e == Rc::CURVE {
            e.handle(1)
        } else {
            e.param(2)
        }
    })?;
    ctx.v.drbg = drbg;
    Ok(salt)
}

/// `TPM2_StartAuthSession` (Part 3, 11.1).
#[derive(Debug)]
#[doc(alias = "TPM2_StartAuthSession")]
pub struct StartAuthSession;

impl Command for StartAuthSession {
    type In = StartAuthSessionIn;
    type Out = StartAuthSessionOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: StartAuthSessionIn,
    ) -> TpmResult<StartAuthSessionOut> {
        let (Some(&tpm_key), Some(&bind)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let hash = input.auth_hash;
        let (policy, trial) = match input.session_type {
            se::HMAC => (false, false),
            se::POLICY => (true, false),
            se::TRIAL => (true, true),
            _ => return Err(Rc::VALUE.param(3)),
        };
        if let SymDef::Aes { mode, .. } = input.symmetric.0 {
            if mode != alg::CFB {
                return Err(Rc::MODE.param(4));
            }
        }
        let nc = input.nonce_caller.len();
        if nc < 16 || nc > hash.digest_size() {
            return Err(Rc::SIZE.param(1));
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
        if ctx.v.sessions.len() >= ctx.config.max_active_sessions {
            return Err(Rc::SESSION_HANDLES);
        }
        let salt = if tpm_key == rh::NULL {
            if !input.encrypted_salt.is_empty() {
                return Err(Rc::VALUE.param(2));
            }
            Vec::new()
        } else {
            if input.encrypted_salt.is_empty() {
                return Err(Rc::VALUE.param(2));
            }
            decrypt_salt(ctx, tpm_key, input.encrypted_salt.as_slice())?
        };
        let (bind_auth, bound, da_bound, lockout_bound) = if bind == rh::NULL {
            (Vec::new(), None, false, false)
        } else {
            let auth = entity_auth(&ctx.p, ctx.v, bind).to_vec();
            let name = entity_name(&ctx.p, ctx.v, bind);
            let exempt = da_exempt(&ctx.p, ctx.v, bind);
            // Policy sessions are never "bound" for the authValue rule.
            let bound = if policy {
                None
            } else {
                Some(bind_value(&name, &auth))
            };
            (auth, bound, !exempt, bind == rh::LOCKOUT)
        };
        let mut nonce_tpm = alloc::vec![0u8; hash.digest_size()];
        ctx.random(&mut nonce_tpm);
        let key = session_key(
            hash,
            &bind_auth,
            &salt,
            &nonce_tpm,
            input.nonce_caller.as_slice(),
        )?;
        let base = (0..ctx.config.max_active_sessions as u32)
            .find(|i| {
                !ctx.v.sessions.contains_key(&(rh::HMAC_SESSION_FIRST | i))
                    && !ctx.v.sessions.contains_key(&(rh::POLICY_SESSION_FIRST | i))
            })
            .ok_or(Rc::SESSION_HANDLES)?;
        let handle = if policy {
            rh::POLICY_SESSION_FIRST | base
        } else {
            rh::HMAC_SESSION_FIRST | base
        };
        let now = ctx.time_info().time;
        let mut s = Session {
            policy,
            trial,
            hash,
            nonce_tpm: nonce_tpm.clone(),
            session_key: key,
            bound,
            da_bound,
            lockout_bound,
            symmetric: input.symmetric.0,
            policy_digest: Vec::new(),
            cp_hash: None,
            name_hash: None,
            template_hash: None,
            param_hash: None,
            command_code: None,
            locality: None,
            pcr_counter: None,
            auth_value_needed: false,
            password_needed: false,
            pp_required: false,
            nv_written: None,
            check_secure_channel: false,
            sc_key_name_hash: None,
            timeout_ms: None,
            start_ms: now,
            audit_digest: None,
            before_init: false,
        };
        s.reset_policy(now);
        ctx.v.sessions.insert(
            handle,
            SessionSlot {
                loaded: Some(s),
                saved_sequence: None,
            },
        );
        Ok(StartAuthSessionOut {
            handle: Handle(handle),
            nonce_tpm,
        })
    }
}

/// `TPM2_PolicyRestart` (Part 3, 23.14... listed in 11.2 of older parts).
#[derive(Debug)]
#[doc(alias = "TPM2_PolicyRestart")]
pub struct PolicyRestart;

impl Command for PolicyRestart {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let now = ctx.time_info().time;
        let s = ctx
            .v
            .sessions
            .get_mut(&h.0)
            .and_then(|s| s.loaded.as_mut())
            .ok_or(Rc::REFERENCE_H0)?;
        s.reset_policy(now);
        Ok(NoParams)
    }
}

/// Mutable access to the policy session named by the first (or given)
/// handle of a policy command.
pub fn policy_session<'a>(ctx: &'a mut Ctx<'_>, h: Handle) -> TpmResult<&'a mut Session> {
    ctx.v
        .sessions
        .get_mut(&h.0)
        .and_then(|s| s.loaded.as_mut())
        .filter(|s| s.policy)
        .ok_or(Rc::REFERENCE_H0)
}
