//! Authorization processing of one command (Part 1, 19; Part 3, 5.6-5.8):
//! session checks, password/HMAC/policy authorization, dictionary-attack
//! accounting, parameter decryption, and the response sessions.

use alloc::vec::Vec;

use super::session::{bind_value, param_crypt, session_hmac, Session};
use super::{attr, password_matches, trim_trailing_zeros, SessionIn, SessionKind};
use crate::commands::{AuthRole, CommandDef};
use crate::crypto::secret::ct_eq;
use crate::crypto::HashAlg;
use crate::engine::Tpm;
use crate::object::Object;
use crate::platform::Platform;
use crate::state::nv::{nva, NvIndex};
use crate::state::{PersistentState, VolatileState};
use crate::wire::cc;
use crate::wire::consts::{ht, rh};
use crate::wire::object::oa;
use crate::wire::{CommandCode, Handle, Rc, Reader, TpmResult, Writer};

/// A loaded or persistent object.
pub(crate) fn find_object<'a>(
    p: &'a PersistentState,
    v: &'a VolatileState,
    h: Handle,
) -> Option<&'a Object> {
    match h.ht() {
        ht::TRANSIENT => v.objects.get(&h.0),
        ht::PERSISTENT => p.persistent.iter().find(|o| o.evict_handle == Some(h)),
        _ => None,
    }
}

/// A hash, HMAC or event sequence object.
pub(crate) fn sequence(
    v: &VolatileState,
    h: Handle,
) -> Option<&crate::commands::sequence::Sequence> {
    if h.ht() == ht::TRANSIENT {
        v.sequences.get(&h.0)
    } else {
        None
    }
}

/// A defined NV index.
pub(crate) fn find_nv(p: &PersistentState, h: Handle) -> Option<&NvIndex> {
    p.nv.iter().find(|i| i.handle == h)
}

/// The Name of an entity (Part 1, 16).
pub(crate) fn entity_name(p: &PersistentState, v: &VolatileState, h: Handle) -> Vec<u8> {
    if let Some(o) = find_object(p, v, h) {
        return o.name.clone();
    }
    if let Some(i) = find_nv(p, h) {
        return i.name();
    }
    if sequence(v, h).is_some() {
        // A sequence object has no nameAlg, hence no Name (the reference's
        // EntityGetName).
        return Vec::new();
    }
    h.0.to_be_bytes().to_vec()
}

/// The authValue of an entity (Part 1, 19.6.4), trailing zeros removed.
pub(crate) fn entity_auth<'a>(p: &'a PersistentState, v: &'a VolatileState, h: Handle) -> &'a [u8] {
    let raw: &[u8] = if let Some(o) = find_object(p, v, h) {
        o.auth_value()
    } else if let Some(s) = sequence(v, h) {
        s.auth.as_slice()
    } else if let Some(i) = find_nv(p, h) {
        &i.auth_value
    } else {
        match h {
            rh::OWNER => &p.owner_auth,
            rh::ENDORSEMENT => &p.endorsement_auth,
            rh::LOCKOUT => &p.lockout_auth,
            rh::PLATFORM | rh::PLATFORM_NV => &v.platform_auth,
            // An ACT's authValue is platformAuth (Part 1, 40.2).
            _ if crate::commands::act::is_act(h) => &v.platform_auth,
            _ => &[],
        }
    };
    trim_trailing_zeros(raw)
}

/// The authPolicy of an entity and its hash (`None` when it has none).
pub(crate) fn entity_policy(
    p: &PersistentState,
    v: &VolatileState,
    h: Handle,
) -> Option<(HashAlg, Vec<u8>)> {
    let (alg, digest) = if let Some(o) = find_object(p, v, h) {
        (o.public.name_alg?, o.public.auth_policy.clone())
    } else if let Some(i) = find_nv(p, h) {
        (i.name_alg, i.auth_policy.clone())
    } else {
        let pol = match h {
            rh::OWNER => &p.owner_policy,
            rh::ENDORSEMENT => &p.endorsement_policy,
            rh::LOCKOUT => &p.lockout_policy,
            rh::PLATFORM | rh::PLATFORM_NV => &v.platform_policy,
            _ => return None,
        };
        (
            HashAlg::from_alg_id(crate::wire::AlgId(pol.alg))?,
            pol.digest.clone(),
        )
    };
    if digest.is_empty() {
        None
    } else {
        Some((alg, digest))
    }
}

/// Is the entity exempt from dictionary-attack protection (Part 1, 19.8)?
/// Permanent handles other than lockout, PCRs, noDA objects and NO_DA indices.
pub(crate) fn da_exempt(p: &PersistentState, v: &VolatileState, h: Handle) -> bool {
    match h.ht() {
        ht::PERMANENT => h != rh::LOCKOUT,
        ht::PCR => true,
        ht::TRANSIENT | ht::PERSISTENT => {
            // Sequence objects are noDA.
            find_object(p, v, h).is_some_and(|o| o.public.has(oa::NO_DA))
                || sequence(v, h).is_some()
        }
        ht::NV_INDEX => find_nv(p, h).is_some_and(|i| i.has(nva::NO_DA)),
        _ => false,
    }
}

/// How one session takes part in a command.
#[derive(Debug)]
pub(crate) struct SessionUse {
    /// What the command carried.
    pub input: SessionIn,
    /// The handle it authorizes, with the role.
    pub associated: Option<(Handle, AuthRole)>,
    /// The authValue is part of the HMAC key.
    pub include_auth: bool,
}

/// The sessions of a command after checking.
#[derive(Debug, Default)]
pub(crate) struct AuthPlan {
    pub uses: Vec<SessionUse>,
    pub decrypt: Option<usize>,
    pub encrypt: Option<usize>,
    pub audit: Option<usize>,
    /// cpHash per hash algorithm, computed once.
    pub cp_hashes: Vec<(HashAlg, Vec<u8>)>,
}

impl AuthPlan {
    fn cp_hash(
        &mut self,
        alg: HashAlg,
        code: CommandCode,
        names: &[Vec<u8>],
        params: &[u8],
    ) -> Vec<u8> {
        if let Some((_, d)) = self.cp_hashes.iter().find(|(a, _)| *a == alg) {
            return d.clone();
        }
        let mut h = alg.start();
        h.update(&code.0.to_be_bytes());
        for n in names {
            h.update(n);
        }
        h.update(params);
        let d = h.finish();
        self.cp_hashes.push((alg, d.clone()));
        d
    }
}

fn n_of(i: usize) -> u32 {
    u32::try_from(i.saturating_add(1)).unwrap_or(7)
}

impl<P: Platform> Tpm<P> {
    /// TPM time now (ms since _TPM_Init).
    pub(crate) fn tpm_time(&mut self) -> u64 {
        let now = self.platform.monotonic_ms();
        now.saturating_sub(self.v.init_ms)
    }

    /// Forgive DA failures for the time that passed (Part 1, 19.8.4:
    /// one failure per recoveryTime seconds) and re-enable lockoutAuth
    /// after lockoutRecovery.
    pub(crate) fn da_tick(&mut self) {
        let now = self.platform.monotonic_ms();
        if self.p.recovery_time != 0 && self.p.failed_tries > 0 {
            let step = u64::from(self.p.recovery_time).saturating_mul(1000);
            let elapsed = now.saturating_sub(self.v.da_anchor_ms);
            let n = elapsed.checked_div(step).unwrap_or(0);
            if n > 0 {
                let n32 = u32::try_from(n).unwrap_or(u32::MAX);
                self.p.failed_tries = self.p.failed_tries.saturating_sub(n32);
                self.v.da_anchor_ms = self.v.da_anchor_ms.saturating_add(n.saturating_mul(step));
            }
        } else {
            self.v.da_anchor_ms = now;
        }
        if self.p.lockout_auth_disabled && self.p.lockout_recovery != 0 {
            let step = u64::from(self.p.lockout_recovery).saturating_mul(1000);
            if now.saturating_sub(self.v.lockout_disabled_ms) >= step {
                self.p.lockout_auth_disabled = false;
            }
        }
    }

    /// TPM_RC_LOCKOUT when the entity's authValue may not be tried now.
    /// (Self-healing is brought up to date once per command, at its start:
    /// `execute_inner` calls [`Self::da_tick`].)
    fn check_locked_out(&mut self, lockout: bool) -> TpmResult<()> {
        if lockout {
            if self.p.lockout_auth_disabled {
                return Err(Rc::LOCKOUT);
            }
        } else if self.p.failed_tries >= self.p.max_tries {
            return Err(Rc::LOCKOUT);
        }
        Ok(())
    }

    /// Count an authorization failure (Part 1, 19.8); returns the code for
    /// it: `TPM_RC_AUTH_FAIL` when DA counted it, `TPM_RC_BAD_AUTH` when not.
    /// The new counters are committed at once, though the command fails.
    fn increment_lockout(
        &mut self,
        h: Handle,
        session: Option<&Session>,
        include_auth: bool,
    ) -> Rc {
        let mut target = h;
        match session {
            None => {
                if da_exempt(&self.p, &self.v, h) {
                    return Rc::BAD_AUTH;
                }
            }
            Some(s) => {
                if s.lockout_bound {
                    target = rh::LOCKOUT;
                }
                if !s.da_bound && (da_exempt(&self.p, &self.v, target) || !include_auth) {
                    return Rc::BAD_AUTH;
                }
            }
        }
        let now = self.platform.monotonic_ms();
        if target == rh::LOCKOUT {
            self.p.lockout_auth_disabled = true;
            self.v.lockout_disabled_ms = now;
        } else if self.p.recovery_time != 0 {
            if self.p.failed_tries == 0 {
                self.v.da_anchor_ms = now;
            }
            self.p.failed_tries = self.p.failed_tries.saturating_add(1);
        }
        if self.commit_now().is_err() {
            return Rc::NV_UNAVAILABLE;
        }
        Rc::AUTH_FAIL
    }

    /// Check the session area against the command (Part 3, 5.6): every
    /// failure names its session. Returns the plan the response needs.
    pub(crate) fn check_sessions(
        &mut self,
        def: &CommandDef,
        handles: &[Handle],
        ins: Vec<SessionIn>,
        params: &[u8],
        locality: u8,
    ) -> TpmResult<AuthPlan> {
        let mut plan = AuthPlan::default();
        // RetrieveSessionData: types, duplicates, decrypt/encrypt/audit.
        for (i, s) in ins.iter().enumerate() {
            let n = n_of(i);
            if s.kind == SessionKind::Password {
                super::check_password_session(s).map_err(|e| e.session(n))?;
                continue;
            }
            let sess = self
                .v
                .sessions
                .get(&s.handle.0)
                .and_then(|slot| slot.loaded.as_ref())
                .ok_or(Rc::REFERENCE_S0.plus(u32::try_from(i).unwrap_or(0)))?;
            if sess.policy != (s.kind == SessionKind::Policy) {
                return Err(Rc::HANDLE.session(n));
            }
            if ins.iter().take(i).any(|o| o.handle == s.handle) {
                return Err(Rc::HANDLE.session(n));
            }
            if s.attrs & attr::DECRYPT != 0 {
                if !def.decrypt || plan.decrypt.is_some() {
                    return Err(Rc::ATTRIBUTES.session(n));
                }
                if sess.symmetric == crate::wire::public::SymDef::Null {
                    return Err(Rc::SYMMETRIC.session(n));
                }
                plan.decrypt = Some(i);
            }
            if s.attrs & attr::ENCRYPT != 0 {
                if !def.encrypt || plan.encrypt.is_some() {
                    return Err(Rc::ATTRIBUTES.session(n));
                }
                if sess.symmetric == crate::wire::public::SymDef::Null {
                    return Err(Rc::SYMMETRIC.session(n));
                }
                plan.encrypt = Some(i);
            }
            if s.attrs & attr::AUDIT != 0 {
                if plan.audit.is_some() || sess.policy {
                    return Err(Rc::ATTRIBUTES.session(n));
                }
                // auditExclusive asks that no other command ran since this
                // session's last audited one (Part 1, 19.5.5).
                let continuing = sess.audit_digest.is_some() && s.attrs & attr::AUDIT_RESET == 0;
                if s.attrs & attr::AUDIT_EXCLUSIVE != 0
                    && continuing
                    && self.v.exclusive_audit_session != Some(s.handle.0)
                {
                    return Err(Rc::EXCLUSIVE);
                }
                plan.audit = Some(i);
            }
        }
        // Associate the authorization handles with sessions, in order.
        let needing: Vec<(Handle, AuthRole)> = def
            .handles
            .iter()
            .zip(handles)
            .filter(|(s, _)| s.auth != AuthRole::None)
            .map(|(s, h)| (*h, s.auth))
            .collect();
        if ins.len() < needing.len() {
            return Err(Rc::AUTH_MISSING);
        }
        // Names enter only cpHash (HMAC and policy sessions): a command
        // authorized by passwords alone needs none.
        // A handle that appears twice (NV_Read's authHandle and nvIndex)
        // is named once.
        let mut names: Vec<Vec<u8>> = Vec::new();
        if ins.iter().any(|s| s.kind != SessionKind::Password) {
            for (i, h) in handles.iter().enumerate() {
                let earlier = handles.iter().take(i).position(|x| x == h);
                let name = match earlier.and_then(|j| names.get(j)) {
                    Some(n) => n.clone(),
                    None => entity_name(&self.p, &self.v, *h),
                };
                names.push(name);
            }
        }
        plan.uses = ins
            .into_iter()
            .enumerate()
            .map(|(i, input)| SessionUse {
                input,
                associated: needing.get(i).copied(),
                include_auth: false,
            })
            .collect();
        for i in 0..plan.uses.len() {
            let n = n_of(i);
            let (kind, attrs, handle) = match plan.uses.get(i) {
                Some(u) => (u.input.kind, u.input.attrs, u.input.handle),
                None => break,
            };
            let assoc = plan.uses.get(i).and_then(|u| u.associated);
            if kind == SessionKind::Password {
                if assoc.is_none() {
                    return Err(Rc::HANDLE.session(n));
                }
            } else if self
                .v
                .sessions
                .get(&handle.0)
                .and_then(|s| s.loaded.as_ref())
                .is_some_and(|s| s.trial)
            {
                return Err(Rc::ATTRIBUTES.session(n));
            }
            match assoc {
                Some((h, role)) => {
                    self.check_auth_session(
                        &mut plan, i, h, role, def, handles, &names, params, locality,
                    )
                    .map_err(|e| e.session(n))?;
                }
                None => {
                    if attrs & (attr::AUDIT | attr::ENCRYPT | attr::DECRYPT) == 0 {
                        return Err(Rc::ATTRIBUTES.session(n));
                    }
                    self.check_hmac(&mut plan, i, None, false, def.cc, &names, params)
                        .map_err(|e| e.session(n))?;
                }
            }
        }
        Ok(plan)
    }

    #[allow(clippy::too_many_arguments)]
    fn check_auth_session(
        &mut self,
        plan: &mut AuthPlan,
        i: usize,
        h: Handle,
        role: AuthRole,
        def: &CommandDef,
        handles: &[Handle],
        names: &[Vec<u8>],
        params: &[u8],
        locality: u8,
    ) -> TpmResult<()> {
        let Some(u) = plan.uses.get(i) else {
            return Err(Rc::FAILURE);
        };
        let kind = u.input.kind;
        let sess = self
            .v
            .sessions
            .get(&u.input.handle.0)
            .and_then(|s| s.loaded.clone());
        let include_auth = match (&sess, kind) {
            (_, SessionKind::Password) => true,
            (Some(s), SessionKind::Policy) => s.auth_value_needed || s.password_needed,
            (Some(s), SessionKind::Hmac) => {
                // h is in the handle area, so its Name is already known.
                let known = handles
                    .iter()
                    .position(|x| *x == h)
                    .and_then(|j| names.get(j));
                let name = match known {
                    Some(n) => n.clone(),
                    None => entity_name(&self.p, &self.v, h),
                };
                s.bound.as_deref() != Some(&bind_value(&name, entity_auth(&self.p, &self.v, h))[..])
            }
            (None, _) => return Err(Rc::FAILURE),
        };
        if let Some(u) = plan.uses.get_mut(i) {
            u.include_auth = include_auth;
        }
        if include_auth && !da_exempt(&self.p, &self.v, h) {
            self.check_locked_out(h == rh::LOCKOUT)?;
            // From now on an unorderly shutdown counts as a failure
            // (committed once per boot cycle).
            if self.p.orderly == crate::state::Orderly::None {
                self.p.orderly = crate::state::Orderly::DaUsed;
                // Committed with the command (one commit per command).
                self.v.commit_pending = true;
            }
        }
        if kind != SessionKind::Policy {
            if policy_required(&self.p, &self.v, h, role) {
                return Err(Rc::AUTH_TYPE);
            }
            if !auth_value_available(&self.p, &self.v, h, role, def.cc) {
                return Err(Rc::AUTH_UNAVAILABLE);
            }
        } else if let Some(s) = &sess {
            self.check_policy(plan, s, h, role, def, names, params, locality)?;
        }
        let password_path =
            kind == SessionKind::Password || sess.as_ref().is_some_and(|s| s.password_needed);
        let result = if password_path {
            let presented = plan
                .uses
                .get(i)
                .map(|u| u.input.hmac.clone())
                .unwrap_or_default();
            if password_matches(&presented, entity_auth(&self.p, &self.v, h)) {
                Ok(())
            } else {
                Err(self.increment_lockout(h, sess.as_ref(), include_auth))
            }
        } else {
            self.check_hmac(plan, i, Some(h), include_auth, def.cc, names, params)
        };
        // PIN indices count the uses of their authValue (Part 1, 34.2.2).
        if include_auth
            && h.ht() == ht::NV_INDEX
            && crate::state::nv::pin_authorization_result(&mut self.p, h, result.is_ok())
            && self.commit_now().is_err()
        {
            return Err(Rc::NV_UNAVAILABLE);
        }
        result
    }

    /// Verify a session's command HMAC (Part 1, 19.6.5).
    #[allow(clippy::too_many_arguments)]
    fn check_hmac(
        &mut self,
        plan: &mut AuthPlan,
        i: usize,
        h: Option<Handle>,
        include_auth: bool,
        code: CommandCode,
        names: &[Vec<u8>],
        params: &[u8],
    ) -> TpmResult<()> {
        let Some(u) = plan.uses.get(i) else {
            return Err(Rc::FAILURE);
        };
        let Some(sess) = self
            .v
            .sessions
            .get(&u.input.handle.0)
            .and_then(|s| s.loaded.clone())
        else {
            return Err(Rc::FAILURE);
        };
        let nonce_caller = u.input.nonce.clone();
        let presented = u.input.hmac.clone();
        let attrs = u.input.attrs;
        // The first authorization session also covers the nonces of separate
        // decrypt and encrypt sessions.
        let mut extra: Vec<Vec<u8>> = Vec::new();
        if i == 0 && h.is_some() {
            for idx in [
                plan.decrypt,
                plan.encrypt.filter(|e| Some(*e) != plan.decrypt),
            ]
            .into_iter()
            .flatten()
            {
                if idx != 0 {
                    if let Some(n) = plan
                        .uses
                        .get(idx)
                        .and_then(|o| self.v.sessions.get(&o.input.handle.0))
                        .and_then(|s| s.loaded.as_ref())
                        .map(|s| s.nonce_tpm.clone())
                    {
                        extra.push(n);
                    }
                }
            }
        }
        let mut key = sess.session_key.clone();
        if include_auth {
            if let Some(h) = h {
                key.extend_from_slice(entity_auth(&self.p, &self.v, h));
            }
        }
        let cp = plan.cp_hash(sess.hash, code, names, params);
        let mut parts: Vec<&[u8]> = alloc::vec![&cp, &nonce_caller, &sess.nonce_tpm];
        for e in &extra {
            parts.push(e);
        }
        let expect = session_hmac(sess.hash, &key, &parts, attrs, presented.is_empty());
        if ct_eq(&expect, &presented) {
            Ok(())
        } else {
            let handle = h.unwrap_or(rh::UNASSIGNED);
            Err(self.increment_lockout(handle, Some(&sess), include_auth))
        }
    }

    /// The policy session checks of Part 1, 19.7.
    #[allow(clippy::too_many_arguments)]
    fn check_policy(
        &mut self,
        plan: &mut AuthPlan,
        s: &Session,
        h: Handle,
        role: AuthRole,
        def: &CommandDef,
        names: &[Vec<u8>],
        params: &[u8],
        locality: u8,
    ) -> TpmResult<()> {
        let Some((alg, policy)) = entity_policy(&self.p, &self.v, h) else {
            return Err(Rc::AUTH_UNAVAILABLE);
        };
        if let Some(i) = find_nv(&self.p, h) {
            if !i.auth_policy_available(def.cc, role == AuthRole::Admin) {
                return Err(Rc::AUTH_UNAVAILABLE);
            }
        }
        if def.cc == cc::POLICYSECRET && !s.auth_value_needed && !s.password_needed {
            return Err(Rc::MODE);
        }
        if let Some(c) = s.pcr_counter {
            if c != self.v.pcr_update_counter {
                return Err(Rc::PCR_CHANGED);
            }
        }
        if !ct_eq(&policy, &s.policy_digest) || alg != s.hash {
            return Err(Rc::POLICY_FAIL);
        }
        if s.expired(self.tpm_time()) {
            return Err(Rc::EXPIRED);
        }
        match s.command_code {
            Some(c) if c != def.cc.0 => return Err(Rc::POLICY_CC),
            None if matches!(role, AuthRole::Admin | AuthRole::Dup) => return Err(Rc::POLICY_FAIL),
            _ => {}
        }
        if let Some(l) = s.locality.filter(|l| *l != 0) {
            let ok = if locality < 5 {
                l < 32 && l & (1u8 << locality) != 0
            } else {
                locality > 31 && l == locality
            };
            if !ok {
                return Err(Rc::LOCALITY);
            }
        }
        if s.pp_required {
            // No physical-presence signal reaches this engine.
            return Err(Rc::PP);
        }
        if s.check_secure_channel {
            // PolicyTransportSPDM: no command reaches this TPM over an
            // SPDM secure channel (Part 3, 23.25.1).
            return Err(Rc::CHANNEL);
        }
        if let Some(cp) = &s.cp_hash {
            if *cp != plan.cp_hash(s.hash, def.cc, names, params) {
                return Err(Rc::POLICY_FAIL);
            }
        }
        if let Some(nh) = &s.name_hash {
            let mut hh = s.hash.start();
            names.iter().for_each(|n| hh.update(n));
            if *nh != hh.finish() {
                return Err(Rc::POLICY_FAIL);
            }
        }
        if let Some(th) = &s.template_hash {
            if *th != template_hash(s.hash, def.cc, params).ok_or(Rc::POLICY_FAIL)? {
                return Err(Rc::POLICY_FAIL);
            }
        }
        if let Some(ph) = &s.param_hash {
            // PolicyParameters: H(commandCode || parameters), no Names.
            if *ph != s.hash.digest_parts(&[&def.cc.0.to_be_bytes(), params]) {
                return Err(Rc::POLICY_FAIL);
            }
        }
        if let Some(w) = s.nv_written {
            let idx = find_nv(&self.p, h).ok_or(Rc::POLICY_FAIL)?;
            if idx.has(nva::WRITTEN) != w {
                return Err(Rc::POLICY_FAIL);
            }
        }
        Ok(())
    }

    /// Decrypt the first command parameter in place (Part 1, 21).
    pub(crate) fn decrypt_parameter(&self, plan: &AuthPlan, buf: &mut [u8]) -> TpmResult<()> {
        let Some(i) = plan.decrypt else {
            return Ok(());
        };
        let n = n_of(i);
        let u = plan.uses.get(i).ok_or(Rc::FAILURE)?;
        let sess = self
            .v
            .sessions
            .get(&u.input.handle.0)
            .and_then(|s| s.loaded.as_ref())
            .ok_or(Rc::FAILURE)?;
        let extra: Vec<u8> = u
            .associated
            .map(|(h, _)| entity_auth(&self.p, &self.v, h).to_vec())
            .unwrap_or_default();
        // The size prefix is checked against what is there before
        // anything is decrypted (CVE-2023-1017/1018).
        let (size, data) = buf
            .split_first_chunk_mut::<2>()
            .ok_or(Rc::INSUFFICIENT.session(n))?;
        let size = usize::from(u16::from_be_bytes(*size));
        let data = data.get_mut(..size).ok_or(Rc::SIZE.session(n))?;
        param_crypt(sess, &extra, &u.input.nonce, &sess.nonce_tpm, data, false)
            .map_err(|e| e.session(n))
    }

    /// Build the response sessions (Part 3, 5.8): new nonces, response
    /// parameter encryption, rpHash and HMACs, audit, policy resets and
    /// flushes of sessions without continueSession.
    pub(crate) fn respond_sessions(
        &mut self,
        plan: &mut AuthPlan,
        code: CommandCode,
        out: &mut [u8],
        w_sessions: &mut Writer,
    ) -> TpmResult<()> {
        for u in &plan.uses {
            if u.input.kind == SessionKind::Password {
                continue;
            }
            let mut nonce = alloc::vec![0u8; 0];
            if let Some(s) = self
                .v
                .sessions
                .get(&u.input.handle.0)
                .and_then(|s| s.loaded.as_ref())
            {
                nonce = alloc::vec![0u8; s.nonce_tpm.len()];
            }
            self.v.drbg.generate(&mut nonce);
            if let Some(s) = self
                .v
                .sessions
                .get_mut(&u.input.handle.0)
                .and_then(|s| s.loaded.as_mut())
            {
                s.nonce_tpm = nonce;
            }
        }
        if let Some(i) = plan.encrypt {
            let u = plan.uses.get(i).ok_or(Rc::FAILURE)?;
            let extra: Vec<u8> = u
                .associated
                .map(|(h, _)| entity_auth(&self.p, &self.v, h).to_vec())
                .unwrap_or_default();
            let sess = self
                .v
                .sessions
                .get(&u.input.handle.0)
                .and_then(|s| s.loaded.as_ref())
                .ok_or(Rc::FAILURE)?;
            if let Some((size, data)) = out.split_first_chunk_mut::<2>() {
                let size = usize::from(u16::from_be_bytes(*size));
                let data = data.get_mut(..size).ok_or(Rc::FAILURE)?;
                param_crypt(sess, &extra, &sess.nonce_tpm, &u.input.nonce, data, true)?;
            }
        }
        let now = self.tpm_time();
        let exclusive = self.v.exclusive_audit_session;
        let mut new_exclusive = None;
        let mut rp_hashes: Vec<(HashAlg, Vec<u8>)> = Vec::new();
        for (i, u) in plan.uses.iter().enumerate() {
            if u.input.kind == SessionKind::Password {
                w_sessions.u16(0);
                w_sessions.u8(u.input.attrs | attr::CONTINUE_SESSION);
                w_sessions.u16(0);
                continue;
            }
            let Some(sess) = self
                .v
                .sessions
                .get(&u.input.handle.0)
                .and_then(|s| s.loaded.as_ref())
            else {
                return Err(Rc::FAILURE);
            };
            let rp = match rp_hashes.iter().find(|(a, _)| *a == sess.hash) {
                Some((_, d)) => d.clone(),
                None => {
                    let d =
                        sess.hash
                            .digest_parts(&[&0u32.to_be_bytes(), &code.0.to_be_bytes(), out]);
                    rp_hashes.push((sess.hash, d.clone()));
                    d
                }
            };
            let hmac = if sess.policy && sess.password_needed {
                Vec::new()
            } else {
                let mut key = sess.session_key.clone();
                if u.include_auth {
                    if let Some((h, _)) = u.associated {
                        key.extend_from_slice(entity_auth(&self.p, &self.v, h));
                    }
                }
                session_hmac(
                    sess.hash,
                    &key,
                    &[&rp, &sess.nonce_tpm, &u.input.nonce],
                    u.input.attrs,
                    u.input.hmac.is_empty(),
                )
            };
            w_sessions.tpm2b(&sess.nonce_tpm);
            w_sessions.u8(u.input.attrs);
            w_sessions.tpm2b(&hmac);
            let cp = if plan.audit == Some(i) {
                Some(
                    plan.cp_hashes
                        .iter()
                        .find(|(a, _)| *a == sess.hash)
                        .map(|(_, d)| d.clone()),
                )
            } else {
                None
            };
            if let Some(s) = self
                .v
                .sessions
                .get_mut(&u.input.handle.0)
                .and_then(|s| s.loaded.as_mut())
            {
                if let Some(cp) = cp {
                    let cp = cp.unwrap_or_default();
                    let first = s.audit_digest.is_none() || u.input.attrs & attr::AUDIT_RESET != 0;
                    if first || exclusive == Some(u.input.handle.0) {
                        new_exclusive = Some(u.input.handle.0);
                    }
                    let old = match (&s.audit_digest, u.input.attrs & attr::AUDIT_RESET != 0) {
                        (Some(d), false) => d.clone(),
                        _ => alloc::vec![0u8; s.hash.digest_size()],
                    };
                    s.audit_digest = Some(s.hash.digest_parts(&[&old, &cp, &rp]));
                }
                if s.policy && u.input.attrs & attr::CONTINUE_SESSION != 0 {
                    s.reset_policy(now);
                }
            }
            if u.input.attrs & attr::CONTINUE_SESSION == 0 {
                self.v.sessions.remove(&u.input.handle.0);
            }
        }
        // Any command not audited by the exclusive session ends its
        // exclusivity.
        self.v.exclusive_audit_session = new_exclusive;
        Ok(())
    }

    /// cpHash needs to be known for audit sessions even when no HMAC used it.
    pub(crate) fn prepare_audit_cp_hash(
        &self,
        plan: &mut AuthPlan,
        code: CommandCode,
        handles: &[Handle],
        params: &[u8],
    ) {
        if let Some(i) = plan.audit {
            let alg = plan
                .uses
                .get(i)
                .and_then(|u| self.v.sessions.get(&u.input.handle.0))
                .and_then(|s| s.loaded.as_ref())
                .map(|s| s.hash);
            if let Some(alg) = alg {
                let names: Vec<Vec<u8>> = handles
                    .iter()
                    .map(|h| entity_name(&self.p, &self.v, *h))
                    .collect();
                plan.cp_hash(alg, code, &names, params);
            }
        }
    }
}

/// Does this role on this entity require a policy session (Part 1, 19.7.x;
/// the reference's IsPolicySessionRequired)?
fn policy_required(p: &PersistentState, v: &VolatileState, h: Handle, role: AuthRole) -> bool {
    match role {
        AuthRole::Dup => true,
        AuthRole::Admin => match find_object(p, v, h) {
            Some(o) => o.public.has(oa::ADMIN_WITH_POLICY),
            None => true,
        },
        _ => false,
    }
}

/// Is the authValue usable for this role (userWithAuth for objects)?
fn auth_value_available(
    p: &PersistentState,
    v: &VolatileState,
    h: Handle,
    role: AuthRole,
    code: CommandCode,
) -> bool {
    match h.ht() {
        ht::PERMANENT => {
            matches!(
                h,
                rh::OWNER
                    | rh::ENDORSEMENT
                    | rh::PLATFORM
                    | rh::LOCKOUT
                    | rh::NULL
                    | rh::PLATFORM_NV
            ) || (crate::commands::act::is_act(h) && v.startup_clear.ph_enable)
        }
        ht::TRANSIENT | ht::PERSISTENT => match find_object(p, v, h) {
            Some(o) => {
                role != AuthRole::User || o.public.has(oa::USER_WITH_AUTH) || o.sensitive.is_none()
            }
            // A sequence's authValue is always usable.
            None => sequence(v, h).is_some(),
        },
        ht::NV_INDEX => find_nv(p, h).is_some_and(|i| i.auth_value_available(code)),
        _ => true,
    }
}

/// H(inPublic template) of a Create/CreatePrimary/CreateLoaded command,
/// for PolicyTemplate (Part 3, 23.21): the second parameter's contents.
fn template_hash(alg: HashAlg, code: CommandCode, params: &[u8]) -> Option<Vec<u8>> {
    if !matches!(code, cc::CREATE | cc::CREATEPRIMARY | cc::CREATELOADED) {
        return None;
    }
    let mut r = Reader::new(params);
    r.tpm2b(usize::from(u16::MAX)).ok()?;
    let t = r.tpm2b(usize::from(u16::MAX)).ok()?;
    Some(alg.digest(t))
}
