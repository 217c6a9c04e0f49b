//! The v185 KEM, sequence-signing and digest-signing commands, which the
//! post-quantum keys (ML-KEM, ML-DSA, HashML-DSA; Part 1, 46-47) use:
//!
//! * Part 3, 14.10-14.11: `TPM2_Encapsulate`, `TPM2_Decapsulate` (ML-KEM);
//! * Part 3, 17.5-17.6: `TPM2_SignSequenceStart`, `TPM2_VerifySequenceStart`;
//! * Part 3, 20.3-20.4, 20.6-20.7: `TPM2_VerifySequenceComplete`,
//!   `TPM2_VerifyDigestSignature`, `TPM2_SignSequenceComplete`,
//!   `TPM2_SignDigest`.
//!
//! The sequence and digest commands also serve the classical keys, as
//! Part 3, Table 115 lays out: RSASSA/RSAPSS/ECDSA/EC-Schnorr keys with a
//! scheme hash the message in a sequence and sign or verify digests
//! directly; HMAC keys sign and verify messages in a sequence only.
//!
//! # ML-DSA (Part 1, 46.3; Part 3, 20.1)
//!
//! * Pure ML-DSA signs messages. A sequence streams the message into the
//!   message representative `mu = H(tr || 0 || |ctx| || ctx || M)` (FIPS
//!   204, Algorithm 2 line 10) as it arrives, so messages of any length
//!   are signed in bounded memory. With `allowExternalMu` the key also
//!   signs and verifies a caller's `mu` (64 octets) with
//!   `TPM2_SignDigest` / `TPM2_VerifyDigestSignature`; the context must
//!   then be empty, as it is already inside `mu`.
//! * HashML-DSA signs `PH(M)`: a sequence hashes the message with the
//!   key's `hashAlg`; `TPM2_SignDigest` takes the digest.
//! * The TPM's signatures are hedged: `rnd` is 32 octets from the DRBG
//!   (FIPS 204, Algorithm 2 line 5; the default, not the deterministic
//!   variant).
//! * A restricted ML-DSA key signs only in a sequence, and only messages
//!   that do not begin with `TPM_GENERATED_VALUE` (Part 3, 20.6); it never
//!   signs a digest (Part 3, 20.7: no ticket can vouch for `mu`).
//!
//! # Sequences
//!
//! A signing or verification sequence is a
//! [`super::sequence::SequenceKind::Signature`]: it lives with the hash
//! sequences, shares their handles and limit, is updated by
//! `TPM2_SequenceUpdate`, flushed by `TPM2_FlushContext`, and saved by
//! `TPM2_ContextSave` (format version 2 of a saved sequence, see
//! [`save_body`]). It remembers the Name and hierarchy of its key;
//! completing it with another key is `TPM_RC_SIGN_CONTEXT_KEY`.
//! `TPM2_SequenceComplete` refuses it (`TPM_RC_MODE`). A verification
//! sequence also streams the HMAC of its `TPM_ST_MESSAGE_VERIFIED` ticket
//! (Part 2, 10.6.5: `HMAC(proof, tag || message || keyName)`).
//!
//! # Response codes chosen where Part 3 names none
//!
//! * a context with a scheme that takes none (everything but ML-DSA), or
//!   with external mu: `TPM_RC_SIZE` on the context (the other members of
//!   `TPMU_SIGNATURE_CTX` are empty);
//! * an ML-DSA key without `allowExternalMu`, or a restricted one, in the
//!   digest commands: `TPM_RC_ATTRIBUTES` on the key;
//! * a restricted key's message beginning with `TPM_GENERATED_VALUE`:
//!   `TPM_RC_VALUE` on `buffer`;
//! * an ML-DSA signature of the wrong size: `TPM_RC_SIZE` on the signature.

use alloc::boxed::Box;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::hash::TPM_GENERATED_VALUE;
use super::sequence::{insert_sequence, Sequence, SequenceHandleOut, SequenceKind};
use super::signature::{hashcheck_valid, is_signing_object, sign_digest, verify_signature};
use super::Command;
use crate::crypto::pqc;
use crate::crypto::secret::SecretBytes;
use crate::crypto::{HashAlg, Hasher};
use crate::engine::Ctx;
use crate::object::Object;
use crate::tpm_params;
use crate::wire::consts::{rh, st};
use crate::wire::object::{oa, Public, Unique};
use crate::wire::pqc::{
    prehash_oid, KemCiphertext2b, MlDsaParams, MlKemParams, SharedSecret2b, SignatureCtx2b,
    SignatureHint2b, VerifiedTicket, MLDSA_MU_SIZE, TPMA_ML_EXT_MU,
};
use crate::wire::public::{KeyedHashScheme, PublicParms, Scheme};
use crate::wire::signature::{HashcheckTicket, Signature};
use crate::wire::types::{Digest2b, Ha, MaxBuffer2b, Tpm2b};
use crate::wire::{AlgId, Handle, Rc, StructTag, TpmResult};

/// `TPM_ALG_SHAKE256_512`: the XOF that produces an external `mu`, named
/// in the metadata of a `TPM_ST_DIGEST_VERIFIED` ticket for pure ML-DSA.
pub const ALG_SHAKE256_512: AlgId = AlgId(0x002E);

// ------------------------------------------------------------ capability

/// `TPM_PT_ML_PARAMETER_SETS` (Part 2, 8.13): every ML-KEM set, ML-DSA-44
/// and -65, external mu, and ML-DSA-87 when the configured command and
/// response sizes can carry its 4627-octet signature (they cannot at the
/// 4 KiB default: the SVSM page).
pub fn ml_parameter_sets(config: &crate::Config) -> u32 {
    let mut bits = TPMA_ML_EXT_MU;
    for p in MlKemParams::ALL {
        bits |= p.attribute_bit();
    }
    for p in MlDsaParams::ALL {
        if mldsa_fits(config, p) {
            bits |= p.attribute_bit();
        }
    }
    bits
}

/// Can a signature of `p` be returned (`TPM2_SignSequenceComplete` with
/// a session) and sent back (`TPM2_VerifyDigestSignature` with a 64-octet
/// digest, an empty context and a session)?
pub fn mldsa_fits(config: &crate::Config, p: MlDsaParams) -> bool {
    // Header 10, parameterSize 4, sigAlg 2, size 2, one session of 5+32.
    let response = p.signature_size().saturating_add(10 + 4 + 2 + 2 + 37);
    // Header 10, handle 4, authorization area 4+9+32, context 2,
    // digest 2+64, sigAlg 2, size 2.
    let command = p
        .signature_size()
        .saturating_add(10 + 4 + 45 + 2 + 66 + 2 + 2);
    config.max_response_size >= response && config.max_command_size >= command
}

// ------------------------------------------------------------ key kinds

/// How a key signs (the key's type and scheme, Part 3, Table 115).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SignKind {
    /// Pure ML-DSA.
    MlDsa { set: MlDsaParams, external_mu: bool },
    /// HashML-DSA with pre-hash `hash`.
    HashMlDsa { set: MlDsaParams, hash: HashAlg },
    /// An RSA or ECC digest-signing scheme.
    Digest(Scheme),
    /// HMAC with a keyed-hash key.
    Hmac(HashAlg),
}

/// The signing kind of a key: `TPM_RC_KEY` if it does not sign,
/// `TPM_RC_SCHEME` if its scheme is NULL or one this command family
/// cannot use (ECDAA needs a commit; keyed-hash XOR does not sign).
fn sign_kind(public: &Public) -> TpmResult<SignKind> {
    if !is_signing_object(Some(public)) {
        return Err(Rc::KEY);
    }
    match &public.parms {
        PublicParms::MlDsa {
            parameter_set,
            allow_external_mu,
        } => Ok(SignKind::MlDsa {
            set: *parameter_set,
            external_mu: *allow_external_mu,
        }),
        PublicParms::HashMlDsa {
            parameter_set,
            hash,
        } => Ok(SignKind::HashMlDsa {
            set: *parameter_set,
            hash: *hash,
        }),
        PublicParms::Rsa { scheme, .. } | PublicParms::Ecc { scheme, .. } => match scheme {
            Scheme::Rsassa(_) | Scheme::Rsapss(_) | Scheme::Ecdsa(_) | Scheme::Ecschnorr(_) => {
                Ok(SignKind::Digest(*scheme))
            }
            _ => Err(Rc::SCHEME),
        },
        PublicParms::KeyedHash {
            scheme: KeyedHashScheme::Hmac(h),
        } => Ok(SignKind::Hmac(*h)),
        _ => Err(Rc::SCHEME),
    }
}

/// The encoded ML-DSA public key of an object (`TPM_RC_KEY` if absent,
/// e.g. a public-only template).
fn mldsa_pk(key: &Object, set: MlDsaParams) -> TpmResult<&[u8]> {
    match &key.public.unique {
        Unique::MlDsa(pk) if pk.len() == set.public_key_size() => Ok(pk),
        _ => Err(Rc::KEY),
    }
}

/// The ML-DSA seed of a loaded key (`TPM_RC_AUTH_UNAVAILABLE` without its
/// sensitive area, what the reference answers when authorizing one).
fn mldsa_seed(key: &Object) -> TpmResult<&[u8]> {
    key.sensitive
        .as_ref()
        .map(|s| s.sensitive.as_slice())
        .ok_or(Rc::AUTH_UNAVAILABLE)
}

/// Sign `mu` with a loaded ML-DSA key, hedged with DRBG randomness.
fn mldsa_sign(
    ctx: &mut Ctx<'_>,
    key: &Object,
    set: MlDsaParams,
    mu: &[u8; 64],
) -> TpmResult<Vec<u8>> {
    let seed = mldsa_seed(key)?;
    let mut rnd = [0u8; 32];
    ctx.random(&mut rnd);
    let sig = pqc::mldsa_sign_mu(set, seed, mu, &rnd);
    use zeroize::Zeroize;
    rnd.zeroize();
    sig
}

/// Does `sig` belong to the key's kind (`TPM_RC_SCHEME` otherwise)? For
/// HashML-DSA and the digest schemes the hash must be the key's too.
fn check_sig_kind(kind: SignKind, sig: &Signature) -> TpmResult<()> {
    let ok = match (kind, sig) {
        (SignKind::MlDsa { .. }, Signature::Mldsa(_)) => true,
        (SignKind::HashMlDsa { hash, .. }, Signature::HashMldsa { hash: h, .. }) => hash == *h,
        (SignKind::Digest(s), _) => {
            sig.alg_id() == s.alg_id() && sig.hash() == s.hash() && sig.hash().is_some()
        }
        (SignKind::Hmac(h), Signature::Hmac(ha)) => ha.alg == h,
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Rc::SCHEME)
    }
}

/// The ML-DSA signature octets of `sig` (after [`check_sig_kind`]).
fn mldsa_sig_bytes(sig: &Signature) -> &[u8] {
    match sig {
        Signature::Mldsa(s) | Signature::HashMldsa { sig: s, .. } => s,
        _ => &[],
    }
}

/// `mu` of HashML-DSA for a pre-hash `ph` (`TPM_RC_HASH` for a pre-hash
/// without an OID, which the key parameters already exclude).
fn prehash_mu(pk: &[u8], context: &[u8], hash: HashAlg, ph: &[u8]) -> TpmResult<[u8; 64]> {
    let oid = prehash_oid(hash).ok_or(Rc::HASH)?;
    pqc::mu_prehash(&pqc::mldsa_tr(pk), context, oid, ph)
}

// ------------------------------------------------------------ tickets

/// A `TPMT_TK_VERIFIED` (Part 2, 10.6.5):
/// `HMAC_contextAlg(proof, tag || digestOrMessage || keyName || metadata)`,
/// or the NULL ticket of `tag` for a key in the NULL hierarchy or without
/// a nameAlg. `message_mac` is the streamed HMAC of a verification
/// sequence (already over `tag || message`).
fn verified_ticket(
    ctx: &Ctx<'_>,
    key: &Object,
    tag: StructTag,
    metadata: Option<AlgId>,
    digest: &[u8],
    message_mac: Option<HmacStream>,
) -> VerifiedTicket {
    let proof = match (key.hierarchy, key.public.name_alg) {
        (rh::NULL, _) | (_, None) => None,
        (h, Some(_)) => ctx.hierarchy_proof(h),
    };
    let Some(proof) = proof else {
        return VerifiedTicket::null(tag, metadata);
    };
    let mut t = VerifiedTicket::null(tag, metadata);
    let meta = t.metadata_bytes();
    let mut mac = match message_mac {
        Some(m) => m,
        None => {
            let mut m = HmacStream::new(super::signature::CONTEXT_HASH, proof);
            m.update(&tag.0.to_be_bytes());
            m.update(digest);
            m
        }
    };
    mac.update(&key.name);
    mac.update(&meta);
    t.hierarchy = key.hierarchy;
    t.hmac = Tpm2b(mac.finish());
    t
}

// ------------------------------------------------------------ HMAC stream

/// An HMAC (RFC 2104) computed incrementally over plain hash states, so
/// that it can be saved in a sequence context: `K0` and the inner hash.
#[derive(Clone, Debug)]
struct HmacStream {
    k0: SecretBytes,
    inner: Hasher,
}

impl HmacStream {
    fn new(alg: HashAlg, key: &[u8]) -> Self {
        let mut k0 = if key.len() > alg.block_size() {
            SecretBytes::new(&alg.digest(key))
        } else {
            SecretBytes::new(key)
        };
        k0.extend_from_slice(&alloc::vec![0u8; alg.block_size().saturating_sub(k0.len())]);
        let ipad = SecretBytes::from(k0.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
        let mut inner = alg.start();
        inner.update(&ipad);
        HmacStream { k0, inner }
    }

    fn update(&mut self, data: &[u8]) {
        self.inner.update(data);
    }

    fn finish(self) -> Vec<u8> {
        let alg = self.inner.alg();
        let inner = self.inner.finish();
        let opad = SecretBytes::from(self.k0.iter().map(|b| b ^ 0x5C).collect::<Vec<u8>>());
        alg.digest_parts(&[&opad, &inner])
    }
}

// ------------------------------------------------------------ sequences

/// The running computation of a signing or verification sequence.
#[derive(Clone, Debug)]
pub enum SigState {
    /// Pure ML-DSA: `mu` being absorbed.
    Mu(pqc::Shake256),
    /// HashML-DSA or a digest scheme: the message hash.
    Digest(Hasher),
    /// HMAC key: the HMAC of the message.
    Hmac(HmacStreamState),
}

/// An HMAC in progress (opaque outside this module).
#[derive(Clone, Debug)]
pub struct HmacStreamState(HmacStream);

/// A signing (`TPM2_SignSequenceStart`) or verification
/// (`TPM2_VerifySequenceStart`) sequence.
#[derive(Clone, Debug)]
pub struct SigSequence {
    /// A verification sequence.
    pub verify: bool,
    /// Name of the key the sequence was started with.
    pub key_name: Vec<u8>,
    /// Hierarchy of that key.
    pub hierarchy: Handle,
    /// The signature context (ML-DSA only).
    pub context: Vec<u8>,
    /// The first octets of the message (up to 4), for the
    /// `TPM_GENERATED_VALUE` check of restricted keys.
    pub prefix: Vec<u8>,
    /// The computation.
    pub state: SigState,
    /// Verification: the ticket HMAC over `tag || message` (`None` when
    /// the ticket will be NULL).
    ticket: Option<HmacStream>,
}

impl SigSequence {
    /// `TPM2_SequenceUpdate`: absorb `data`.
    pub fn update(&mut self, data: &[u8]) {
        let want = TPM_GENERATED_VALUE.len().saturating_sub(self.prefix.len());
        self.prefix
            .extend_from_slice(data.get(..want.min(data.len())).unwrap_or_default());
        match &mut self.state {
            SigState::Mu(h) => h.update(data),
            SigState::Digest(h) => h.update(data),
            SigState::Hmac(m) => m.0.update(data),
        }
        if let Some(t) = &mut self.ticket {
            t.update(data);
        }
    }

    /// Does the message begin with `TPM_GENERATED_VALUE`?
    fn starts_generated(&self) -> bool {
        self.prefix.as_slice() == TPM_GENERATED_VALUE
    }
}

/// Start a signing or verification sequence for `key` (Part 3, 17.5-17.6).
fn start_sequence(
    ctx: &mut Ctx<'_>,
    key_h: Handle,
    auth: &[u8],
    context: &[u8],
    verify: bool,
) -> TpmResult<Handle> {
    let key = ctx.object(key_h).ok_or(Rc::HANDLE.handle(1))?.clone();
    let kind = sign_kind(&key.public).map_err(|e| e.handle(1))?;
    // The context parameter is the last one (2 for sign, 3 for verify).
    let ctx_pos = if verify { 3 } else { 2 };
    let state = match kind {
        SignKind::MlDsa { set, .. } => {
            let pk = mldsa_pk(&key, set).map_err(|e| e.handle(1))?;
            SigState::Mu(
                pqc::mu_pure_start(&pqc::mldsa_tr(pk), context).map_err(|e| e.param(ctx_pos))?,
            )
        }
        SignKind::HashMlDsa { hash, .. } => SigState::Digest(hash.start()),
        SignKind::Digest(s) => {
            if !context.is_empty() {
                return Err(Rc::SIZE.param(ctx_pos));
            }
            SigState::Digest(s.hash().ok_or(Rc::SCHEME.handle(1))?.start())
        }
        SignKind::Hmac(h) => {
            if !context.is_empty() {
                return Err(Rc::SIZE.param(ctx_pos));
            }
            // Restricted HMAC keys sign digests, which a sequence cannot
            // vouch for (Part 3, 17.5).
            if key.public.has(oa::RESTRICTED) && !verify {
                return Err(Rc::ATTRIBUTES.handle(1));
            }
            let sens = key.sensitive.as_ref().ok_or(if verify {
                Rc::HANDLE.handle(1)
            } else {
                Rc::AUTH_UNAVAILABLE
            })?;
            SigState::Hmac(HmacStreamState(HmacStream::new(h, &sens.sensitive)))
        }
    };
    let ticket = if verify {
        match (key.hierarchy, key.public.name_alg) {
            (rh::NULL, _) | (_, None) => None,
            (h, Some(_)) => ctx.hierarchy_proof(h).map(|proof| {
                let mut m = HmacStream::new(super::signature::CONTEXT_HASH, proof);
                m.update(&st::MESSAGE_VERIFIED.0.to_be_bytes());
                m
            }),
        }
    } else {
        None
    };
    let seq = SigSequence {
        verify,
        key_name: key.name.clone(),
        hierarchy: key.hierarchy,
        context: if matches!(kind, SignKind::HashMlDsa { .. }) {
            context.to_vec()
        } else {
            Vec::new()
        },
        prefix: Vec::new(),
        state,
        ticket,
    };
    insert_sequence(
        ctx,
        Sequence {
            kind: SequenceKind::Signature(Box::new(seq)),
            auth: SecretBytes::new(crate::auth::trim_trailing_zeros(auth)),
        },
    )
}

tpm_params! {
    /// `TPM2_SignSequenceStart` parameters.
    pub struct SignSequenceStartIn {
        /// `auth` of the sequence (`TPM2B_AUTH`).
        pub auth: Digest2b,
        /// `context` (`TPM2B_SIGNATURE_CTX`).
        pub context: SignatureCtx2b,
    }
}

/// `TPM2_SignSequenceStart` (Part 3, 17.5): `TPM_RC_KEY` for a key that
/// does not sign, `TPM_RC_SCHEME` for one whose scheme is NULL.
#[derive(Debug)]
#[doc(alias = "TPM2_SignSequenceStart")]
pub struct SignSequenceStart;

impl Command for SignSequenceStart {
    type In = SignSequenceStartIn;
    type Out = SequenceHandleOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: SignSequenceStartIn,
    ) -> TpmResult<SequenceHandleOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let handle = start_sequence(
            ctx,
            h,
            input.auth.as_slice(),
            input.context.as_slice(),
            false,
        )?;
        Ok(SequenceHandleOut { handle })
    }
}

tpm_params! {
    /// `TPM2_VerifySequenceStart` parameters.
    pub struct VerifySequenceStartIn {
        /// `auth` of the sequence (`TPM2B_AUTH`).
        pub auth: Digest2b,
        /// `hint` (`TPM2B_SIGNATURE_HINT`; EdDSA only, so always empty).
        pub hint: SignatureHint2b,
        /// `context` (`TPM2B_SIGNATURE_CTX`).
        pub context: SignatureCtx2b,
    }
}

/// `TPM2_VerifySequenceStart` (Part 3, 17.6). A non-empty hint is
/// `TPM_RC_SIZE` on parameter 2 (no implemented scheme takes one).
#[derive(Debug)]
#[doc(alias = "TPM2_VerifySequenceStart")]
pub struct VerifySequenceStart;

impl Command for VerifySequenceStart {
    type In = VerifySequenceStartIn;
    type Out = SequenceHandleOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: VerifySequenceStartIn,
    ) -> TpmResult<SequenceHandleOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let handle = start_sequence(
            ctx,
            h,
            input.auth.as_slice(),
            input.context.as_slice(),
            true,
        )?;
        Ok(SequenceHandleOut { handle })
    }
}

/// The sequence at `seq_h` as a signature sequence of the right direction
/// (`TPM_RC_MODE` on handle 1 otherwise), started with the key `key`
/// (`TPM_RC_SIGN_CONTEXT_KEY` otherwise). Returns a copy: the sequence is
/// removed only when the command succeeds.
fn sig_sequence(
    ctx: &Ctx<'_>,
    seq_h: Handle,
    key: &Object,
    verify: bool,
) -> TpmResult<SigSequence> {
    let seq = match ctx.v.sequences.get(&seq_h.0).map(|s| &s.kind) {
        Some(SequenceKind::Signature(s)) if s.verify == verify => s,
        _ => return Err(Rc::MODE.handle(1)),
    };
    if seq.key_name != key.name || seq.hierarchy != key.hierarchy {
        return Err(Rc::SIGN_CONTEXT_KEY);
    }
    Ok((**seq).clone())
}

tpm_params! {
    /// `TPM2_SignSequenceComplete` parameters.
    pub struct SignSequenceCompleteIn {
        /// The last part of the message.
        pub buffer: MaxBuffer2b,
    }
}

tpm_params! {
    /// `TPM2_SignSequenceComplete` / `TPM2_SignDigest` response.
    pub struct SignatureOut {
        /// `TPMT_SIGNATURE`.
        pub signature: Signature,
    }
}

/// `TPM2_SignSequenceComplete` (Part 3, 20.6): the sequence must be a
/// signing sequence (`TPM_RC_MODE`) of this key
/// (`TPM_RC_SIGN_CONTEXT_KEY`); an `x509sign` key is `TPM_RC_ATTRIBUTES`;
/// a restricted key's message must not begin with `TPM_GENERATED_VALUE`.
/// The sequence is flushed on success.
#[derive(Debug)]
#[doc(alias = "TPM2_SignSequenceComplete")]
pub struct SignSequenceComplete;

impl Command for SignSequenceComplete {
    type In = SignSequenceCompleteIn;
    type Out = SignatureOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: SignSequenceCompleteIn,
    ) -> TpmResult<SignatureOut> {
        let (Some(&seq_h), Some(&key_h)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let key = ctx.object(key_h).ok_or(Rc::HANDLE.handle(2))?.clone();
        let mut seq = sig_sequence(ctx, seq_h, &key, false)?;
        let kind = sign_kind(&key.public).map_err(|e| e.handle(2))?;
        if key.public.has(oa::X509_SIGN) {
            return Err(Rc::ATTRIBUTES.handle(2));
        }
        seq.update(input.buffer.as_slice());
        if key.public.has(oa::RESTRICTED) && seq.starts_generated() {
            return Err(Rc::VALUE.param(1));
        }
        let signature = match (kind, seq.state) {
            (SignKind::MlDsa { set, .. }, SigState::Mu(h)) => {
                Signature::Mldsa(mldsa_sign(ctx, &key, set, &h.finish())?)
            }
            (SignKind::HashMlDsa { set, hash }, SigState::Digest(h)) => {
                let pk = mldsa_pk(&key, set).map_err(|e| e.handle(2))?;
                let mu = prehash_mu(pk, &seq.context, hash, &h.finish())?;
                Signature::HashMldsa {
                    hash,
                    sig: mldsa_sign(ctx, &key, set, &mu)?,
                }
            }
            (SignKind::Digest(scheme), SigState::Digest(h)) => {
                sign_digest(&key, scheme, &h.finish(), &mut ctx.v.drbg)?
            }
            (SignKind::Hmac(h), SigState::Hmac(m)) => Signature::Hmac(Ha {
                alg: h,
                digest: m.0.finish(),
            }),
            _ => return Err(Rc::SIGN_CONTEXT_KEY),
        };
        ctx.v.sequences.remove(&seq_h.0);
        Ok(SignatureOut { signature })
    }
}

tpm_params! {
    /// `TPM2_VerifySequenceComplete` parameters.
    pub struct VerifySequenceCompleteIn {
        /// The signature to check.
        pub signature: Signature,
    }
}

tpm_params! {
    /// `TPM2_VerifySequenceComplete` / `TPM2_VerifyDigestSignature` response.
    pub struct VerifiedOut {
        /// `TPMT_TK_VERIFIED`.
        pub validation: VerifiedTicket,
    }
}

/// Map a verification error: the key is at fault for `TPM_RC_KEY` /
/// `TPM_RC_HANDLE`, the signature otherwise.
fn verify_error(e: Rc, key_pos: u32, sig_pos: u32) -> Rc {
    match e {
        Rc::HANDLE | Rc::KEY => e.handle(key_pos),
        Rc::ECC_POINT => Rc::KEY.handle(key_pos),
        _ => e.param(sig_pos),
    }
}

/// `TPM2_VerifySequenceComplete` (Part 3, 20.3): verify the signature of
/// the message of a verification sequence and return a
/// `TPM_ST_MESSAGE_VERIFIED` ticket. The sequence is flushed on success.
#[derive(Debug)]
#[doc(alias = "TPM2_VerifySequenceComplete")]
pub struct VerifySequenceComplete;

impl Command for VerifySequenceComplete {
    type In = VerifySequenceCompleteIn;
    type Out = VerifiedOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: VerifySequenceCompleteIn,
    ) -> TpmResult<VerifiedOut> {
        let (Some(&seq_h), Some(&key_h)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let key = ctx.object(key_h).ok_or(Rc::HANDLE.handle(2))?.clone();
        let seq = sig_sequence(ctx, seq_h, &key, true)?;
        let kind = sign_kind(&key.public).map_err(|e| e.handle(2))?;
        let sig = &input.signature;
        check_sig_kind(kind, sig).map_err(|e| e.param(1))?;
        match (kind, seq.state) {
            (SignKind::MlDsa { set, .. }, SigState::Mu(h)) => {
                let pk = mldsa_pk(&key, set).map_err(|e| e.handle(2))?;
                pqc::mldsa_verify_mu(set, pk, &h.finish(), mldsa_sig_bytes(sig))
                    .map_err(|e| verify_error(e, 2, 1))?;
            }
            (SignKind::HashMlDsa { set, hash }, SigState::Digest(h)) => {
                let pk = mldsa_pk(&key, set).map_err(|e| e.handle(2))?;
                let mu = prehash_mu(pk, &seq.context, hash, &h.finish())?;
                pqc::mldsa_verify_mu(set, pk, &mu, mldsa_sig_bytes(sig))
                    .map_err(|e| verify_error(e, 2, 1))?;
            }
            (SignKind::Digest(_), SigState::Digest(h)) => {
                verify_signature(&key, &h.finish(), sig).map_err(|e| verify_error(e, 2, 1))?;
            }
            (SignKind::Hmac(_), SigState::Hmac(m)) => {
                let Signature::Hmac(ha) = sig else {
                    return Err(Rc::SCHEME.param(1));
                };
                if !crate::crypto::ct_eq(&m.0.finish(), ha.digest.as_slice()) {
                    return Err(Rc::SIGNATURE.param(1));
                }
            }
            _ => return Err(Rc::SIGN_CONTEXT_KEY),
        }
        let validation = verified_ticket(ctx, &key, st::MESSAGE_VERIFIED, None, &[], seq.ticket);
        ctx.v.sequences.remove(&seq_h.0);
        Ok(VerifiedOut { validation })
    }
}

// ------------------------------------------------------------ digests

tpm_params! {
    /// `TPM2_SignDigest` parameters.
    pub struct SignDigestIn {
        /// `context` (`TPM2B_SIGNATURE_CTX`).
        pub context: SignatureCtx2b,
        /// The digest (for ML-DSA with external mu: `mu`).
        pub digest: Digest2b,
        /// `validation`: proof the TPM computed the digest.
        pub validation: HashcheckTicket,
    }
}

/// `TPM2_SignDigest` (Part 3, 20.7). The key must sign digests: an RSA or
/// ECC key with a scheme, a HashML-DSA key, or an unrestricted ML-DSA key
/// with `allowExternalMu` (whose digest is `mu`). A restricted key needs
/// a valid `TPMT_TK_HASHCHECK` of the digest with the key's hash
/// (`TPM_RC_TICKET`), and a ticket with an HMAC is checked whatever the
/// key. The digest must be the size of the hash (or 64 octets for `mu`):
/// `TPM_RC_SIZE`.
#[derive(Debug)]
#[doc(alias = "TPM2_SignDigest")]
pub struct SignDigest;

impl Command for SignDigest {
    type In = SignDigestIn;
    type Out = SignatureOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: SignDigestIn) -> TpmResult<SignatureOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?.clone();
        let kind = sign_kind(&key.public).map_err(|e| e.handle(1))?;
        if key.public.has(oa::X509_SIGN) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        let restricted = key.public.has(oa::RESTRICTED);
        let context = input.context.as_slice();
        let digest = input.digest.as_slice();
        let ticket = &input.validation.0;
        let signature = match kind {
            SignKind::MlDsa { set, external_mu } => {
                if !external_mu || restricted {
                    return Err(Rc::ATTRIBUTES.handle(1));
                }
                if !context.is_empty() {
                    return Err(Rc::SIZE.param(1));
                }
                // No ticket can vouch for mu.
                if !ticket.digest.is_empty() {
                    return Err(Rc::TICKET.param(3));
                }
                let mu: [u8; MLDSA_MU_SIZE] = digest.try_into().map_err(|_| Rc::SIZE.param(2))?;
                Signature::Mldsa(mldsa_sign(ctx, &key, set, &mu)?)
            }
            SignKind::HashMlDsa { set, hash } => {
                if (restricted || !ticket.digest.is_empty())
                    && !hashcheck_valid(ctx, ticket, digest)
                {
                    return Err(Rc::TICKET.param(3));
                }
                if digest.len() != hash.digest_size() {
                    return Err(Rc::SIZE.param(2));
                }
                let pk = mldsa_pk(&key, set).map_err(|e| e.handle(1))?;
                let mu = prehash_mu(pk, context, hash, digest).map_err(|e| e.param(1))?;
                Signature::HashMldsa {
                    hash,
                    sig: mldsa_sign(ctx, &key, set, &mu)?,
                }
            }
            SignKind::Digest(scheme) => {
                if !context.is_empty() {
                    return Err(Rc::SIZE.param(1));
                }
                let hash = scheme.hash().ok_or(Rc::SCHEME.handle(1))?;
                if (restricted || !ticket.digest.is_empty())
                    && !hashcheck_valid(ctx, ticket, digest)
                {
                    return Err(Rc::TICKET.param(3));
                }
                if digest.len() != hash.digest_size() {
                    return Err(Rc::SIZE.param(2));
                }
                sign_digest(&key, scheme, digest, &mut ctx.v.drbg)?
            }
            // HMAC signs messages, not digests (Part 3, Table 115).
            SignKind::Hmac(_) => return Err(Rc::SCHEME.handle(1)),
        };
        Ok(SignatureOut { signature })
    }
}

tpm_params! {
    /// `TPM2_VerifyDigestSignature` parameters.
    pub struct VerifyDigestSignatureIn {
        /// `context` (`TPM2B_SIGNATURE_CTX`).
        pub context: SignatureCtx2b,
        /// The signed digest (for ML-DSA with external mu: `mu`).
        pub digest: Digest2b,
        /// The signature to check.
        pub signature: Signature,
    }
}

/// `TPM2_VerifyDigestSignature` (Part 3, 20.4): the signature's scheme
/// and hash must be the key's (`TPM_RC_SCHEME`), the digest the size of
/// that hash (`TPM_RC_SIZE`); success yields a `TPM_ST_DIGEST_VERIFIED`
/// ticket whose metadata is the hash (`TPM_ALG_SHAKE256_512` for `mu`).
#[derive(Debug)]
#[doc(alias = "TPM2_VerifyDigestSignature")]
pub struct VerifyDigestSignature;

impl Command for VerifyDigestSignature {
    type In = VerifyDigestSignatureIn;
    type Out = VerifiedOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: VerifyDigestSignatureIn,
    ) -> TpmResult<VerifiedOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?.clone();
        let kind = sign_kind(&key.public).map_err(|e| e.handle(1))?;
        let context = input.context.as_slice();
        let digest = input.digest.as_slice();
        let sig = &input.signature;
        let metadata = match kind {
            SignKind::MlDsa { set, external_mu } => {
                if !external_mu {
                    return Err(Rc::ATTRIBUTES.handle(1));
                }
                if !context.is_empty() {
                    return Err(Rc::SIZE.param(1));
                }
                check_sig_kind(kind, sig).map_err(|e| e.param(3))?;
                let mu: [u8; MLDSA_MU_SIZE] = digest.try_into().map_err(|_| Rc::SIZE.param(2))?;
                let pk = mldsa_pk(&key, set).map_err(|e| e.handle(1))?;
                pqc::mldsa_verify_mu(set, pk, &mu, mldsa_sig_bytes(sig))
                    .map_err(|e| verify_error(e, 1, 3))?;
                ALG_SHAKE256_512
            }
            SignKind::HashMlDsa { set, hash } => {
                check_sig_kind(kind, sig).map_err(|e| e.param(3))?;
                if digest.len() != hash.digest_size() {
                    return Err(Rc::SIZE.param(2));
                }
                let pk = mldsa_pk(&key, set).map_err(|e| e.handle(1))?;
                let mu = prehash_mu(pk, context, hash, digest).map_err(|e| e.param(1))?;
                pqc::mldsa_verify_mu(set, pk, &mu, mldsa_sig_bytes(sig))
                    .map_err(|e| verify_error(e, 1, 3))?;
                hash.alg_id()
            }
            SignKind::Digest(scheme) => {
                if !context.is_empty() {
                    return Err(Rc::SIZE.param(1));
                }
                check_sig_kind(kind, sig).map_err(|e| e.param(3))?;
                let hash = scheme.hash().ok_or(Rc::SCHEME.handle(1))?;
                if digest.len() != hash.digest_size() {
                    return Err(Rc::SIZE.param(2));
                }
                verify_signature(&key, digest, sig).map_err(|e| verify_error(e, 1, 3))?;
                hash.alg_id()
            }
            SignKind::Hmac(_) => return Err(Rc::SCHEME.handle(1)),
        };
        let validation =
            verified_ticket(ctx, &key, st::DIGEST_VERIFIED, Some(metadata), digest, None);
        Ok(VerifiedOut { validation })
    }
}

/// Is `ticket` a valid `TPMT_TK_VERIFIED` of any v185 tag for
/// `digest_or_message` signed by the key named `key_name`? (For
/// TPM2_PolicyAuthorize: the message is `approvedPolicy || policyRef`.)
/// A NULL ticket never is. Constant time.
pub fn verified_ticket_valid(
    ctx: &Ctx<'_>,
    ticket: &VerifiedTicket,
    digest_or_message: &[u8],
    key_name: &[u8],
) -> bool {
    if ticket.hmac.is_empty() || ticket.hierarchy == rh::NULL {
        return false;
    }
    let Some(proof) = ctx.hierarchy_proof(ticket.hierarchy) else {
        return false;
    };
    crate::crypto::hmac::hmac_verify(
        super::signature::CONTEXT_HASH,
        proof,
        &[
            &ticket.tag.0.to_be_bytes(),
            digest_or_message,
            key_name,
            &ticket.metadata_bytes(),
        ],
        ticket.hmac.as_slice(),
    )
}

// ------------------------------------------------------------ KEM

tpm_params! {
    /// `TPM2_Encapsulate` response.
    pub struct EncapsulateOut {
        /// `sharedSecret`.
        pub shared_secret: SharedSecret2b,
        /// `ciphertext`.
        pub ciphertext: KemCiphertext2b,
    }
}

/// The parameter set and encapsulation key of an ML-KEM object
/// (`TPM_RC_KEY` for any other key, or one without its public key).
fn mlkem_key(key: &Object) -> TpmResult<(MlKemParams, &[u8])> {
    match (&key.public.parms, &key.public.unique) {
        (PublicParms::MlKem { parameter_set, .. }, Unique::MlKem(ek))
            if ek.len() == parameter_set.public_key_size() =>
        {
            Ok((*parameter_set, ek))
        }
        _ => Err(Rc::KEY),
    }
}

/// `TPM2_Encapsulate` (Part 3, 14.10): a fresh shared secret and its
/// ciphertext for a KEM key (`TPM_RC_KEY` otherwise). Only the public part
/// is needed; the attributes are not checked (Part 3: the TPM cannot
/// check their integrity for a public-only key).
#[derive(Debug)]
#[doc(alias = "TPM2_Encapsulate")]
pub struct Encapsulate;

impl Command for Encapsulate {
    type In = super::NoParams;
    type Out = EncapsulateOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: super::NoParams) -> TpmResult<EncapsulateOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?.clone();
        let (set, ek) = mlkem_key(&key).map_err(|e| e.handle(1))?;
        let mut m = [0u8; 32];
        ctx.random(&mut m);
        let out = pqc::mlkem_encapsulate(set, ek, &m);
        use zeroize::Zeroize;
        m.zeroize();
        let (ct, ss) = out.map_err(|e| e.handle(1))?;
        Ok(EncapsulateOut {
            shared_secret: Tpm2b(ss.as_slice().to_vec()),
            ciphertext: Tpm2b(ct),
        })
    }
}

tpm_params! {
    /// `TPM2_Decapsulate` parameters.
    pub struct DecapsulateIn {
        /// `ciphertext`.
        pub ciphertext: KemCiphertext2b,
    }
}

tpm_params! {
    /// `TPM2_Decapsulate` response.
    pub struct DecapsulateOut {
        /// `sharedSecret`.
        pub shared_secret: SharedSecret2b,
    }
}

/// `TPM2_Decapsulate` (Part 3, 14.11): the key must be a KEM key
/// (`TPM_RC_KEY`) with `restricted` CLEAR and `decrypt` SET
/// (`TPM_RC_ATTRIBUTES`); a ciphertext of the wrong size for its
/// parameter set is `TPM_RC_SIZE`. A ciphertext of the right size always
/// yields a secret (FIPS 203 implicit rejection).
#[derive(Debug)]
#[doc(alias = "TPM2_Decapsulate")]
pub struct Decapsulate;

impl Command for Decapsulate {
    type In = DecapsulateIn;
    type Out = DecapsulateOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: DecapsulateIn,
    ) -> TpmResult<DecapsulateOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        let (set, _) = mlkem_key(key).map_err(|e| e.handle(1))?;
        if key.public.has(oa::RESTRICTED) || !key.public.has(oa::DECRYPT) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        let seed = key
            .sensitive
            .as_ref()
            .map(|s| s.sensitive.as_slice())
            .ok_or(Rc::AUTH_UNAVAILABLE)?;
        let ct = input.ciphertext.as_slice();
        if ct.len() != set.ciphertext_size() {
            return Err(Rc::SIZE.param(1));
        }
        let ss = pqc::mlkem_decapsulate(set, seed, ct).map_err(|e| match e {
            Rc::SIZE => e.param(1),
            _ => e.handle(1),
        })?;
        Ok(DecapsulateOut {
            shared_secret: Tpm2b(ss.as_slice().to_vec()),
        })
    }
}

// ------------------------------------------------------------ contexts

/// Version of the saved form of a signature sequence inside a sequence
/// context (the hash/HMAC/event sequences are version 1).
pub const SAVED_SIG_SEQUENCE_VERSION: u8 = 2;

type SavedHash = (HashAlg, Vec<u8>);

#[derive(Serialize, Deserialize)]
enum SavedState {
    Mu(pqc::Shake256),
    Digest(SavedHash),
    Hmac(SecretBytes, SavedHash),
}

#[derive(Serialize, Deserialize)]
struct SavedSigSequence {
    verify: bool,
    key_name: Vec<u8>,
    hierarchy: Handle,
    context: Vec<u8>,
    prefix: Vec<u8>,
    state: SavedState,
    ticket: Option<(SecretBytes, SavedHash)>,
    auth: SecretBytes,
}

/// The body of a saved signature sequence: the version octet
/// ([`SAVED_SIG_SEQUENCE_VERSION`]) and the postcard form of the state.
pub fn save_body(seq: &SigSequence, auth: &SecretBytes) -> TpmResult<Vec<u8>> {
    use super::sequence::save_hasher;
    let saved = SavedSigSequence {
        verify: seq.verify,
        key_name: seq.key_name.clone(),
        hierarchy: seq.hierarchy,
        context: seq.context.clone(),
        prefix: seq.prefix.clone(),
        state: match &seq.state {
            SigState::Mu(h) => SavedState::Mu(h.clone()),
            SigState::Digest(h) => SavedState::Digest(save_hasher(h)),
            SigState::Hmac(m) => SavedState::Hmac(m.0.k0.clone(), save_hasher(&m.0.inner)),
        },
        ticket: seq
            .ticket
            .as_ref()
            .map(|m| (m.k0.clone(), save_hasher(&m.inner))),
        auth: auth.clone(),
    };
    let mut body = alloc::vec![SAVED_SIG_SEQUENCE_VERSION];
    body.extend_from_slice(&postcard::to_allocvec(&saved).map_err(|_| Rc::FAILURE)?);
    Ok(body)
}

/// Restore a sequence saved by [`save_body`] (`rest` follows the version
/// octet): the sequence and its authValue, `None` if malformed.
pub fn load_body(rest: &[u8]) -> Option<(SigSequence, SecretBytes)> {
    use super::sequence::load_hasher;
    let s: SavedSigSequence = postcard::from_bytes(rest).ok()?;
    let hmac = |(k0, (alg, st)): (SecretBytes, SavedHash)| -> Option<HmacStream> {
        Some(HmacStream {
            k0,
            inner: load_hasher(alg, &st)?,
        })
    };
    let state = match s.state {
        SavedState::Mu(h) => SigState::Mu(h),
        SavedState::Digest((alg, st)) => SigState::Digest(load_hasher(alg, &st)?),
        SavedState::Hmac(k0, h) => SigState::Hmac(HmacStreamState(hmac((k0, h))?)),
    };
    let ticket = match s.ticket {
        Some(t) => Some(hmac(t)?),
        None => None,
    };
    if s.prefix.len() > TPM_GENERATED_VALUE.len() || s.context.len() > 255 {
        return None;
    }
    Some((
        SigSequence {
            verify: s.verify,
            key_name: s.key_name,
            hierarchy: s.hierarchy,
            context: s.context,
            prefix: s.prefix,
            state,
            ticket,
        },
        s.auth,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_stream_matches_hmac() {
        for alg in HashAlg::ALL {
            for key in [&b"k"[..], &[7u8; 200][..]] {
                let mut m = HmacStream::new(alg, key);
                m.update(b"hello ");
                m.update(b"world");
                assert_eq!(
                    m.finish(),
                    crate::crypto::hmac::hmac(alg, key, &[b"hello world"])
                );
            }
        }
    }

    #[test]
    fn default_config_reports_all_but_mldsa_87() {
        let bits = ml_parameter_sets(&crate::Config::default());
        assert_eq!(bits, 0b101_1111);
        let big = crate::Config {
            max_command_size: 8192,
            max_response_size: 8192,
            ..crate::Config::default()
        };
        assert_eq!(ml_parameter_sets(&big), 0b111_1111);
    }

    #[test]
    fn sequence_state_survives_save_and_load() {
        let mut seq = SigSequence {
            verify: true,
            key_name: alloc::vec![0, 11, 1, 2],
            hierarchy: rh::OWNER,
            context: alloc::vec![9],
            prefix: Vec::new(),
            state: SigState::Digest(HashAlg::Sha256.start()),
            ticket: Some(HmacStream::new(HashAlg::Sha256, b"proof")),
        };
        seq.update(b"ab");
        let body = save_body(&seq, &SecretBytes::new(b"pw")).unwrap();
        assert_eq!(body[0], SAVED_SIG_SEQUENCE_VERSION);
        let (mut back, auth) = load_body(&body[1..]).unwrap();
        assert_eq!(auth.as_slice(), b"pw");
        seq.update(b"cdef");
        back.update(b"cdef");
        assert_eq!(back.prefix, b"abcd");
        let (SigState::Digest(a), SigState::Digest(b)) = (seq.state, back.state) else {
            panic!("state kind changed");
        };
        assert_eq!(a.finish(), b.finish());
        assert_eq!(seq.ticket.unwrap().finish(), back.ticket.unwrap().finish());
        assert!(load_body(&body[2..]).is_none());
    }

    #[test]
    fn kinds_of_keys() {
        let mut p = crate::wire::object::Public {
            name_alg: Some(HashAlg::Sha256),
            attributes: oa::SIGN_ENCRYPT,
            auth_policy: Vec::new(),
            parms: PublicParms::HashMlDsa {
                parameter_set: MlDsaParams::MlDsa65,
                hash: HashAlg::Sha384,
            },
            unique: Unique::MlDsa(Vec::new()),
        };
        assert_eq!(
            sign_kind(&p),
            Ok(SignKind::HashMlDsa {
                set: MlDsaParams::MlDsa65,
                hash: HashAlg::Sha384
            })
        );
        p.attributes = oa::DECRYPT;
        assert_eq!(sign_kind(&p), Err(Rc::KEY));
        p.attributes = oa::SIGN_ENCRYPT;
        p.parms = PublicParms::KeyedHash {
            scheme: KeyedHashScheme::Null,
        };
        assert_eq!(sign_kind(&p), Err(Rc::SCHEME));
    }
}
