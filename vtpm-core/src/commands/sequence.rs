//! Part 3, 17: Hash/HMAC/Event Sequences (`TPM2_HashSequenceStart`,
//! `TPM2_HMAC_Start`, `TPM2_SequenceUpdate`, `TPM2_SequenceComplete`,
//! `TPM2_EventSequenceComplete`), and the sequence objects they use.
//!
//! A sequence object lives in [`crate::state::VolatileState::sequences`],
//! keyed by a transient handle drawn from the same range as loaded objects
//! ([`insert_sequence`] and `Ctx::insert_object` skip each other's
//! handles) and counted against the same limit
//! (`Config::max_loaded_objects`). Its authValue is always usable with a
//! password or HMAC session (the reference treats sequence objects as
//! `userWithAuth` and `noDA`). `TPM2_FlushContext` removes one, and
//! `TPM2_ContextSave`/`TPM2_ContextLoad` save and restore one
//! ([`save_sequence`], [`load_sequence`]; `savedHandle` 0x80000001, NULL
//! hierarchy, so a saved sequence does not survive a TPM Reset) — resource
//! managers (tpm2-abrmd, the Linux kernel's /dev/tpmrm0) save every
//! transient handle between commands.
//!
//! An HMAC sequence is kept as its padded key and the inner hash
//! (`H((K0 ^ ipad) || data)`), so that every sequence state is a set of
//! plain hash states, which the hash crates can serialize.
//!
//! # Tickets
//!
//! A hash sequence tracks whether its data may be signed by a restricted
//! key (the reference's `ticketSafe`): the first block of data (the first
//! `SequenceUpdate` buffer, or the `SequenceComplete` buffer if there was
//! none) must be at least 4 octets and must not start with
//! `TPM_GENERATED_VALUE`. Only then does `SequenceComplete` return a
//! `TPMT_TK_HASHCHECK`; otherwise, or for `TPM_RH_NULL`, the ticket is the
//! NULL ticket. HMAC sequences never produce a ticket.

use alloc::vec::Vec;

use digest::common::hazmat::{SerializableState, SerializedState};
use serde::{Deserialize, Serialize};

use super::hash::{hashcheck_ticket, HierarchyOrNull, TPM_GENERATED_VALUE};
use super::{Command, ToParams};
use crate::crypto::secret::SecretBytes;
use crate::crypto::{HashAlg, HashOrNull, Hasher};
use crate::engine::Ctx;
use crate::object::protect;
use crate::tpm_params;
use crate::wire::consts::{rh, sizes, st};
use crate::wire::object::Context;
use crate::wire::types::{Digest2b, DigestValues, Ha, MaxBuffer2b, Ticket, Tpm2b};
use crate::wire::{Handle, Rc, TpmResult, Writer};

/// What a sequence object computes.
#[derive(Clone, Debug)]
pub enum SequenceKind {
    /// A hash sequence (`TPM2_HashSequenceStart` with a hash).
    Hash {
        /// The running hash.
        state: Hasher,
        /// The first block has been seen.
        first_block_seen: bool,
        /// The data may be signed by a restricted key (see module docs).
        ticket_safe: bool,
    },
    /// An HMAC sequence (`TPM2_HMAC_Start`).
    Hmac {
        /// `K0`: the key padded (or first hashed) to the hash's block size.
        key: SecretBytes,
        /// The inner hash, started with `K0 ^ ipad`.
        inner: Hasher,
    },
    /// An event sequence (`TPM2_HashSequenceStart` with `TPM_ALG_NULL`):
    /// one running hash per implemented algorithm.
    Event(Vec<Hasher>),
    /// A signing or verification sequence (`TPM2_SignSequenceStart`,
    /// `TPM2_VerifySequenceStart`; see [`super::pqc`]).
    Signature(alloc::boxed::Box<super::pqc::SigSequence>),
}

/// A sequence object.
#[derive(Clone, Debug)]
pub struct Sequence {
    /// The computation.
    pub kind: SequenceKind,
    /// authValue (trailing zeros removed), zeroized on drop.
    pub auth: SecretBytes,
}

impl Sequence {
    fn new(kind: SequenceKind, auth: &[u8]) -> Self {
        Sequence {
            kind,
            auth: SecretBytes::new(crate::auth::trim_trailing_zeros(auth)),
        }
    }
}

/// Start an HMAC (RFC 2104): `K0` and the inner hash over `K0 ^ ipad`.
fn hmac_start(alg: HashAlg, key: &[u8]) -> SequenceKind {
    let mut k0 = if key.len() > alg.block_size() {
        SecretBytes::new(&alg.digest(key))
    } else {
        SecretBytes::new(key)
    };
    k0.extend_from_slice(&alloc::vec![0u8; alg.block_size().saturating_sub(k0.len())]);
    let ipad = SecretBytes::from(k0.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
    let mut inner = alg.start();
    inner.update(&ipad);
    SequenceKind::Hmac { key: k0, inner }
}

/// Finish an HMAC: `H((K0 ^ opad) || H((K0 ^ ipad) || data))`.
fn hmac_finish(key: &SecretBytes, inner: Hasher) -> Vec<u8> {
    let alg = inner.alg();
    let inner_digest = inner.finish();
    let opad = SecretBytes::from(key.iter().map(|b| b ^ 0x5C).collect::<Vec<u8>>());
    alg.digest_parts(&[&opad, &inner_digest])
}

/// Is the first block of a hash sequence safe to produce a ticket for?
/// (The reference's `TicketIsSafe`.)
fn ticket_is_safe(first: &[u8]) -> bool {
    first.len() >= TPM_GENERATED_VALUE.len() && !first.starts_with(&TPM_GENERATED_VALUE)
}

/// Put a sequence in a free transient slot (`TPM_RC_OBJECT_MEMORY` when the
/// loaded objects and sequences together reach the limit).
pub fn insert_sequence(ctx: &mut Ctx<'_>, seq: Sequence) -> TpmResult<Handle> {
    let max = ctx.config.max_loaded_objects;
    if ctx.v.objects.len().saturating_add(ctx.v.sequences.len()) >= max {
        return Err(Rc::OBJECT_MEMORY);
    }
    let free = (0..u32::try_from(max).unwrap_or(u32::MAX))
        .map(|i| rh::TRANSIENT_FIRST.saturating_add(i))
        .find(|h| !ctx.v.objects.contains_key(h) && !ctx.v.sequences.contains_key(h))
        .ok_or(Rc::OBJECT_MEMORY)?;
    ctx.v.sequences.insert(free, seq);
    Ok(Handle(free))
}

/// The sequence at handle number `n` of the command (`TPM_RC_MODE` on that
/// handle when it is an ordinary object instead).
fn sequence_mut<'a>(ctx: &'a mut Ctx<'_>, h: Handle, n: u32) -> TpmResult<&'a mut Sequence> {
    ctx.v.sequences.get_mut(&h.0).ok_or(Rc::MODE.handle(n))
}

/// A response that is only a handle (`sequenceHandle`).
#[derive(Debug)]
pub struct SequenceHandleOut {
    /// The new sequence.
    pub handle: Handle,
}

impl ToParams for SequenceHandleOut {
    fn response_handle(&self) -> Option<Handle> {
        Some(self.handle)
    }
    fn marshal_params(&self, _: &mut Writer) {}
}

tpm_params! {
    /// `TPM2_HMAC_Start` parameters.
    pub struct HmacStartIn {
        /// `auth` of the sequence (`TPM2B_AUTH`).
        pub auth: Digest2b,
        /// `hashAlg` (NULL: the key's).
        pub hash_alg: HashOrNull,
    }
}

/// `TPM2_HMAC_Start` (Part 3, 17.2): the key checks and hash selection of
/// TPM2_HMAC ([`super::symmetric::hmac_key_hash`]).
#[derive(Debug)]
#[doc(alias = "TPM2_HMAC_Start")]
pub struct HmacStart;

impl Command for HmacStart {
    type In = HmacStartIn;
    type Out = SequenceHandleOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: HmacStartIn,
    ) -> TpmResult<SequenceHandleOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        let hash = super::symmetric::hmac_key_hash(&key.public, input.hash_alg.0)
            .map_err(|e| e.param(2))?;
        let sens = key.sensitive.as_ref().ok_or(Rc::AUTH_UNAVAILABLE)?;
        let seq = Sequence::new(hmac_start(hash, &sens.sensitive), input.auth.as_slice());
        let handle = insert_sequence(ctx, seq)?;
        Ok(SequenceHandleOut { handle })
    }
}

tpm_params! {
    /// `TPM2_HashSequenceStart` parameters.
    pub struct HashSequenceStartIn {
        /// `auth` of the sequence.
        pub auth: Digest2b,
        /// The hash, or NULL for an event sequence.
        pub hash_alg: HashOrNull,
    }
}

/// `TPM2_HashSequenceStart` (Part 3, 17.4).
#[derive(Debug)]
#[doc(alias = "TPM2_HashSequenceStart")]
pub struct HashSequenceStart;

impl Command for HashSequenceStart {
    type In = HashSequenceStartIn;
    type Out = SequenceHandleOut;
    fn run(
        ctx: &mut Ctx<'_>,
        _: &[Handle],
        input: HashSequenceStartIn,
    ) -> TpmResult<SequenceHandleOut> {
        let kind = match input.hash_alg.0 {
            Some(h) => SequenceKind::Hash {
                state: h.start(),
                first_block_seen: false,
                ticket_safe: false,
            },
            None => SequenceKind::Event(HashAlg::ALL.iter().map(|a| a.start()).collect()),
        };
        let handle = insert_sequence(ctx, Sequence::new(kind, input.auth.as_slice()))?;
        Ok(SequenceHandleOut { handle })
    }
}

tpm_params! {
    /// `TPM2_SequenceUpdate` parameters.
    pub struct SequenceUpdateIn {
        /// Data to add.
        pub buffer: MaxBuffer2b,
    }
}

/// `TPM2_SequenceUpdate` (Part 3, 17.7). An ordinary object is
/// `TPM_RC_MODE` on handle 1.
#[derive(Debug)]
#[doc(alias = "TPM2_SequenceUpdate")]
pub struct SequenceUpdate;

impl Command for SequenceUpdate {
    type In = SequenceUpdateIn;
    type Out = super::NoParams;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: SequenceUpdateIn,
    ) -> TpmResult<super::NoParams> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let data = input.buffer.as_slice();
        match &mut sequence_mut(ctx, h, 1)?.kind {
            SequenceKind::Hash {
                state,
                first_block_seen,
                ticket_safe,
            } => {
                if !*first_block_seen {
                    *first_block_seen = true;
                    *ticket_safe = ticket_is_safe(data);
                }
                state.update(data);
            }
            SequenceKind::Hmac { inner, .. } => inner.update(data),
            SequenceKind::Event(hs) => hs.iter_mut().for_each(|s| s.update(data)),
            SequenceKind::Signature(s) => s.update(data),
        }
        Ok(super::NoParams)
    }
}

tpm_params! {
    /// `TPM2_SequenceComplete` parameters.
    pub struct SequenceCompleteIn {
        /// The last data.
        pub buffer: MaxBuffer2b,
        /// The hierarchy of the ticket.
        pub hierarchy: HierarchyOrNull,
    }
}

tpm_params! {
    /// `TPM2_SequenceComplete` response.
    pub struct SequenceCompleteOut {
        /// The digest or HMAC.
        pub result: Digest2b,
        /// `TPMT_TK_HASHCHECK` (NULL for HMAC and unsafe data).
        pub validation: Ticket,
    }
}

/// `TPM2_SequenceComplete` (Part 3, 17.8). The sequence must be a hash or
/// HMAC sequence (`TPM_RC_MODE` on handle 1); it is flushed on success.
#[derive(Debug)]
#[doc(alias = "TPM2_SequenceComplete")]
pub struct SequenceComplete;

impl Command for SequenceComplete {
    type In = SequenceCompleteIn;
    type Out = SequenceCompleteOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: SequenceCompleteIn,
    ) -> TpmResult<SequenceCompleteOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let hierarchy = input.hierarchy.0;
        if matches!(
            sequence_mut(ctx, h, 1)?.kind,
            SequenceKind::Event(_) | SequenceKind::Signature(_)
        ) {
            return Err(Rc::MODE.handle(1));
        }
        if !ctx.hierarchy_enabled(hierarchy) {
            return Err(Rc::HIERARCHY.param(2));
        }
        let seq = ctx.v.sequences.remove(&h.0).ok_or(Rc::MODE.handle(1))?;
        let data = input.buffer.as_slice();
        let out = match seq.kind {
            SequenceKind::Hash {
                mut state,
                first_block_seen,
                ticket_safe,
            } => {
                state.update(data);
                let digest = state.finish();
                let safe = if first_block_seen {
                    ticket_safe
                } else {
                    ticket_is_safe(data)
                };
                let validation = if safe {
                    hashcheck_ticket(ctx, hierarchy, &[], &digest)
                } else {
                    Ticket::null(st::HASHCHECK)
                };
                SequenceCompleteOut {
                    result: Tpm2b(digest),
                    validation,
                }
            }
            SequenceKind::Hmac { key, mut inner } => {
                inner.update(data);
                SequenceCompleteOut {
                    result: Tpm2b(hmac_finish(&key, inner)),
                    validation: Ticket::null(st::HASHCHECK),
                }
            }
            SequenceKind::Event(_) | SequenceKind::Signature(_) => return Err(Rc::MODE.handle(1)),
        };
        Ok(out)
    }
}

tpm_params! {
    /// `TPM2_EventSequenceComplete` parameters.
    pub struct EventSequenceCompleteIn {
        /// The last data.
        pub buffer: MaxBuffer2b,
    }
}

tpm_params! {
    /// `TPM2_EventSequenceComplete` response.
    pub struct EventSequenceCompleteOut {
        /// One digest per implemented hash algorithm.
        pub results: DigestValues,
    }
}

/// `TPM2_EventSequenceComplete` (Part 3, 17.9): finish an event sequence,
/// returning its digest in every implemented hash, and extend them into
/// `pcrHandle` (every active bank; none for `TPM_RH_NULL`). The PCR must
/// be extendable at the command's locality (`TPM_RC_LOCALITY`); the
/// sequence must be an event sequence (`TPM_RC_MODE` on handle 2). The
/// sequence is flushed on success.
#[derive(Debug)]
#[doc(alias = "TPM2_EventSequenceComplete")]
pub struct EventSequenceComplete;

impl Command for EventSequenceComplete {
    type In = EventSequenceCompleteIn;
    type Out = EventSequenceCompleteOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: EventSequenceCompleteIn,
    ) -> TpmResult<EventSequenceCompleteOut> {
        let (Some(&pcr_h), Some(&seq_h)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        if !matches!(sequence_mut(ctx, seq_h, 2)?.kind, SequenceKind::Event(_)) {
            return Err(Rc::MODE.handle(2));
        }
        let pcr = if pcr_h == rh::NULL {
            None
        } else {
            let i = usize::try_from(pcr_h.0)
                .ok()
                .filter(|&i| i < sizes::PCR_COUNT)
                .ok_or(Rc::VALUE.handle(1))?;
            let (_, extend) = crate::state::pcr::attributes(i);
            let loc = ctx.locality;
            if loc >= 5 || extend & (1u8 << loc) == 0 {
                return Err(Rc::LOCALITY);
            }
            Some(i)
        };
        let Some(Sequence {
            kind: SequenceKind::Event(hashers),
            ..
        }) = ctx.v.sequences.remove(&seq_h.0)
        else {
            return Err(Rc::MODE.handle(2));
        };
        let data = input.buffer.as_slice();
        let results: Vec<Ha> = hashers
            .into_iter()
            .map(|mut s| {
                s.update(data);
                Ha {
                    alg: s.alg(),
                    digest: s.finish(),
                }
            })
            .collect();
        if let Some(i) = pcr {
            for d in &results {
                ctx.v.pcrs.extend(d.alg, i, &d.digest);
            }
            ctx.v.pcr_update_counter = ctx.v.pcr_update_counter.wrapping_add(1);
        }
        Ok(EventSequenceCompleteOut {
            results: DigestValues(results),
        })
    }
}

/// `savedHandle` of a sequence object context (Part 2, 14.6.2).
pub const SAVED_SEQUENCE: Handle = Handle(0x8000_0001);

/// The serialized form of a sequence in a saved context (postcard inside
/// the sealed blob; version 1).
#[derive(Serialize, Deserialize)]
struct SavedSequence {
    /// 0: hash, 1: HMAC, 2: event.
    kind: u8,
    /// The hash states (one; one; one per implemented hash).
    states: Vec<(HashAlg, Vec<u8>)>,
    first_block_seen: bool,
    ticket_safe: bool,
    /// `K0` of an HMAC sequence (empty otherwise).
    hmac_key: SecretBytes,
    auth: SecretBytes,
}

pub(crate) fn save_hasher(h: &Hasher) -> (HashAlg, Vec<u8>) {
    let state = match h {
        Hasher::Sha1(s) => s.serialize().to_vec(),
        Hasher::Sha256(s) => s.serialize().to_vec(),
        Hasher::Sha384(s) => s.serialize().to_vec(),
        Hasher::Sha512(s) => s.serialize().to_vec(),
    };
    (h.alg(), state)
}

pub(crate) fn load_hasher(alg: HashAlg, state: &[u8]) -> Option<Hasher> {
    fn de<T: SerializableState>(state: &[u8]) -> Option<T> {
        let s = SerializedState::<T>::try_from(state).ok()?;
        T::deserialize(&s).ok()
    }
    Some(match alg {
        HashAlg::Sha1 => Hasher::Sha1(de(state)?),
        HashAlg::Sha256 => Hasher::Sha256(de(state)?),
        HashAlg::Sha384 => Hasher::Sha384(de(state)?),
        HashAlg::Sha512 => Hasher::Sha512(de(state)?),
    })
}

/// `TPM2_ContextSave` of a sequence object: its state sealed like an
/// object context, in the NULL hierarchy. The sequence stays loaded.
pub fn save_sequence(ctx: &mut Ctx<'_>, h: Handle) -> TpmResult<Context> {
    let seq = ctx.v.sequences.get(&h.0).ok_or(Rc::REFERENCE_H0)?;
    let mut saved = SavedSequence {
        kind: 0,
        states: Vec::new(),
        first_block_seen: false,
        ticket_safe: false,
        hmac_key: SecretBytes::default(),
        auth: seq.auth.clone(),
    };
    match &seq.kind {
        SequenceKind::Hash {
            state,
            first_block_seen,
            ticket_safe,
        } => {
            saved.states.push(save_hasher(state));
            saved.first_block_seen = *first_block_seen;
            saved.ticket_safe = *ticket_safe;
        }
        SequenceKind::Hmac { key, inner } => {
            saved.kind = 1;
            saved.states.push(save_hasher(inner));
            saved.hmac_key = key.clone();
        }
        SequenceKind::Event(hs) => {
            saved.kind = 2;
            saved.states = hs.iter().map(save_hasher).collect();
        }
        SequenceKind::Signature(_) => {}
    }
    let mut body = match &seq.kind {
        // Format version 2: a signature sequence.
        SequenceKind::Signature(s) => super::pqc::save_body(s, &seq.auth)?,
        _ => {
            let mut body = postcard::to_allocvec(&saved).map_err(|_| Rc::FAILURE)?;
            body.insert(0, 1); // format version
            body
        }
    };
    let sequence = ctx.v.context_counter;
    ctx.v.context_counter = sequence.checked_add(1).ok_or(Rc::TOO_MANY_CONTEXTS)?;
    let proof = ctx.hierarchy_proof(rh::NULL).ok_or(Rc::FAILURE)?.to_vec();
    let blob = protect::seal_context(
        &ctx.p.context_key,
        &proof,
        &super::context::binding(sequence, SAVED_SEQUENCE, rh::NULL),
        &body,
    );
    use zeroize::Zeroize;
    body.zeroize();
    Ok(Context {
        sequence,
        saved_handle: SAVED_SEQUENCE,
        hierarchy: rh::NULL,
        blob: blob?,
    })
}

/// `TPM2_ContextLoad` of a saved sequence: a new sequence handle. A
/// context that does not open (another TPM Reset, tampering) is
/// `TPM_RC_INTEGRITY` on parameter 1, as for objects.
pub fn load_sequence(ctx: &mut Ctx<'_>, c: &Context) -> TpmResult<Handle> {
    if c.hierarchy != rh::NULL {
        return Err(Rc::INTEGRITY.param(1));
    }
    let proof = ctx.hierarchy_proof(rh::NULL).ok_or(Rc::FAILURE)?.to_vec();
    let body = protect::open_context(
        &ctx.p.context_key,
        &proof,
        &super::context::binding(c.sequence, SAVED_SEQUENCE, rh::NULL),
        &c.blob,
    )
    .map_err(|e| e.param(1))?;
    let bad = Rc::INTEGRITY.param(1);
    let (version, rest) = body.split_first().ok_or(bad)?;
    if *version == super::pqc::SAVED_SIG_SEQUENCE_VERSION {
        let (seq, auth) = super::pqc::load_body(rest).ok_or(bad)?;
        return insert_sequence(
            ctx,
            Sequence {
                kind: SequenceKind::Signature(alloc::boxed::Box::new(seq)),
                auth,
            },
        );
    }
    if *version != 1 {
        return Err(bad);
    }
    let saved: SavedSequence = postcard::from_bytes(rest).map_err(|_| bad)?;
    let mut hashers = saved
        .states
        .iter()
        .map(|(alg, st)| load_hasher(*alg, st))
        .collect::<Option<Vec<Hasher>>>()
        .ok_or(bad)?;
    let kind = match (saved.kind, hashers.len()) {
        (0, 1) => SequenceKind::Hash {
            state: hashers.pop().ok_or(bad)?,
            first_block_seen: saved.first_block_seen,
            ticket_safe: saved.ticket_safe,
        },
        (1, 1) => SequenceKind::Hmac {
            key: saved.hmac_key.clone(),
            inner: hashers.pop().ok_or(bad)?,
        },
        (2, _) => SequenceKind::Event(hashers),
        _ => return Err(bad),
    };
    insert_sequence(
        ctx,
        Sequence {
            kind,
            auth: saved.auth.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sequence_matches_hmac() {
        for alg in HashAlg::ALL {
            for key in [&b"k"[..], &[7u8; 200][..]] {
                let SequenceKind::Hmac { key: k0, mut inner } = hmac_start(alg, key) else {
                    panic!("not an HMAC sequence");
                };
                inner.update(b"hello ");
                let (a, st) = save_hasher(&inner);
                let mut inner = load_hasher(a, &st).unwrap();
                inner.update(b"world");
                assert_eq!(
                    hmac_finish(&k0, inner),
                    crate::crypto::hmac::hmac(alg, key, &[b"hello world"])
                );
            }
        }
    }

    #[test]
    fn first_block_rules() {
        assert!(!ticket_is_safe(b""));
        assert!(!ticket_is_safe(b"abc"));
        assert!(ticket_is_safe(b"abcd"));
        assert!(!ticket_is_safe(&[0xFF, 0x54, 0x43, 0x47, 0]));
    }
}
