//! HMAC, policy and trial sessions (Part 1, 19-21): the session object,
//! session keys, command and response HMACs, and parameter encryption.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::hmac::HmacState;
use crate::crypto::kdf::kdfa;
use crate::crypto::sym::{cfb_decrypt_in_place, cfb_encrypt_in_place, xor_obfuscate};
use crate::crypto::HashAlg;
use crate::wire::public::SymDef;
use crate::wire::{Rc, TpmResult};

/// A session, loaded or saved.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    /// A policy (or trial) session rather than an HMAC session.
    pub policy: bool,
    /// A trial policy session: computes digests, authorizes nothing.
    pub trial: bool,
    /// `authHash`.
    pub hash: HashAlg,
    /// nonceTPM.
    pub nonce_tpm: Vec<u8>,
    /// sessionKey.
    pub session_key: Vec<u8>,
    /// Bind value: H(Name || authValue) of the bound entity.
    pub bound: Option<Vec<u8>>,
    /// The bound entity is DA-protected (its failures count).
    pub da_bound: bool,
    /// The bound entity is lockout.
    pub lockout_bound: bool,
    /// Parameter encryption algorithm.
    pub symmetric: SymDef,
    /// policyDigest.
    pub policy_digest: Vec<u8>,
    /// PolicyCpHash value.
    pub cp_hash: Option<Vec<u8>>,
    /// PolicyNameHash value.
    pub name_hash: Option<Vec<u8>>,
    /// PolicyTemplate value.
    pub template_hash: Option<Vec<u8>>,
    /// PolicyParameters value (pHash: the cpHash without the Names).
    pub param_hash: Option<Vec<u8>>,
    /// PolicyCommandCode value.
    pub command_code: Option<u32>,
    /// PolicyLocality value (`TPMA_LOCALITY`).
    pub locality: Option<u8>,
    /// pcrUpdateCounter when PolicyPCR was run.
    pub pcr_counter: Option<u32>,
    /// PolicyAuthValue was run.
    pub auth_value_needed: bool,
    /// PolicyPassword was run.
    pub password_needed: bool,
    /// PolicyPhysicalPresence was run.
    pub pp_required: bool,
    /// PolicyNvWritten value.
    pub nv_written: Option<bool>,
    /// `checkSecureChannel`: PolicyTransportSPDM was run.
    pub check_secure_channel: bool,
    /// `scKeyNameHash`, when PolicyTransportSPDM named a requester or TPM
    /// key (`checkReqKey` or `checkTpmKey`).
    pub sc_key_name_hash: Option<Vec<u8>>,
    /// Expiry in TPM time (ms since _TPM_Init), from PolicySecret/Signed.
    pub timeout_ms: Option<u64>,
    /// TPM time when the session (or its policy) started.
    pub start_ms: u64,
    /// Session audit digest, once used for audit.
    pub audit_digest: Option<Vec<u8>>,
    /// `start_ms` and `timeout_ms` were measured before the last _TPM_Init:
    /// the session's context was saved across a TPM Resume or Restart.
    /// TPM time started again from zero since (a new timeEpoch), so a time
    /// limit of the policy counts as passed (`TPM_RC_EXPIRED`) until
    /// PolicyRestart (Part 1, 16.7.12: a time-limited assertion holds only
    /// in the timeEpoch of the session).
    pub before_init: bool,
}

impl core::fmt::Debug for Session {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("policy", &self.policy)
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.session_key.zeroize();
    }
}

impl Session {
    /// Reset the policy state (PolicyRestart, or after a successful use
    /// with continueSession; Part 3, 23.14).
    pub fn reset_policy(&mut self, now_ms: u64) {
        self.policy_digest = alloc::vec![0u8; self.hash.digest_size()];
        self.cp_hash = None;
        self.name_hash = None;
        self.template_hash = None;
        self.param_hash = None;
        self.command_code = None;
        self.locality = None;
        self.pcr_counter = None;
        self.auth_value_needed = false;
        self.password_needed = false;
        self.pp_required = false;
        self.nv_written = None;
        self.check_secure_channel = false;
        self.sc_key_name_hash = None;
        self.timeout_ms = None;
        self.start_ms = now_ms;
        self.before_init = false;
    }

    /// A time limit of the policy has passed at TPM time `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        self.timeout_ms
            .is_some_and(|t| self.before_init || now_ms > t)
    }

    /// Is the session already limited to one command (by PolicyCpHash,
    /// PolicyNameHash, PolicyTemplate or PolicyParameters)? Only one such
    /// restriction may be set (`TPM_RC_CPHASH`).
    pub fn command_restricted(&self) -> bool {
        self.cp_hash.is_some()
            || self.name_hash.is_some()
            || self.template_hash.is_some()
            || self.param_hash.is_some()
    }

    /// policyDigest' = H(policyDigest || parts...) (Part 1, 19.7.2).
    pub fn extend_policy(&mut self, parts: &[&[u8]]) {
        let mut h = self.hash.start();
        h.update(&self.policy_digest);
        for p in parts {
            h.update(p);
        }
        self.policy_digest = h.finish();
    }
}

/// Bind value of an entity: H(Name || authValue), so that a change of the
/// entity's authValue ends the binding (Part 1, 19.6.9).
pub fn bind_value(name: &[u8], auth: &[u8]) -> Vec<u8> {
    HashAlg::Sha256.digest_parts(&[name, crate::auth::trim_trailing_zeros(auth)])
}

/// sessionKey = KDFa(authHash, bindAuth || salt, "ATH", nonceTPM,
/// nonceCaller, digestBits), or empty when neither is present (Part 1, 19.6.8).
pub fn session_key(
    hash: HashAlg,
    bind_auth: &[u8],
    salt: &[u8],
    nonce_tpm: &[u8],
    nonce_caller: &[u8],
) -> TpmResult<Vec<u8>> {
    if bind_auth.is_empty() && salt.is_empty() {
        return Ok(Vec::new());
    }
    let mut key = crate::auth::trim_trailing_zeros(bind_auth).to_vec();
    key.extend_from_slice(salt);
    let bits = u32::try_from(hash.digest_size().saturating_mul(8)).map_err(|_| Rc::FAILURE)?;
    let k = kdfa(hash, &key, b"ATH", nonce_tpm, nonce_caller, bits)?;
    Ok(k.as_slice().to_vec())
}

/// An HMAC over `pHash || nonceNewer || nonceOlder || extras... || attrs`,
/// keyed with sessionKey || authValue; empty when both the key and the
/// presented HMAC are empty (Part 1, 19.6.5; the reference allows it).
pub fn session_hmac(
    hash: HashAlg,
    key: &[u8],
    parts: &[&[u8]],
    attrs: u8,
    presented_empty: bool,
) -> Vec<u8> {
    if key.is_empty() && presented_empty {
        return Vec::new();
    }
    let mut m = HmacState::new(hash, key);
    for p in parts {
        m.update(p);
    }
    m.update(&[attrs]);
    m.finish()
}

/// Encrypt or decrypt the first parameter's data in place (Part 1, 21):
/// AES-CFB with key and IV from KDFa(..., "CFB", nonceNewer, nonceOlder),
/// or XOR with a KDFa mask.
pub fn param_crypt(
    s: &Session,
    extra_key: &[u8],
    nonce_newer: &[u8],
    nonce_older: &[u8],
    data: &mut [u8],
    encrypt: bool,
) -> TpmResult<()> {
    let mut key = s.session_key.clone();
    key.extend_from_slice(crate::auth::trim_trailing_zeros(extra_key));
    match s.symmetric {
        SymDef::Aes { key_bits, .. } => {
            let bits = u32::from(key_bits).saturating_add(128);
            let m = kdfa(s.hash, &key, b"CFB", nonce_newer, nonce_older, bits)?;
            let kb = usize::from(key_bits / 8);
            let (k, iv) = m.as_slice().split_at_checked(kb).ok_or(Rc::FAILURE)?;
            if encrypt {
                cfb_encrypt_in_place(k, iv, data)
            } else {
                cfb_decrypt_in_place(k, iv, data)
            }
        }
        SymDef::Xor(h) => xor_obfuscate(h, &key, nonce_newer, nonce_older, data),
        SymDef::Null => Err(Rc::SYMMETRIC),
    }
}
