//! Part 3, 19 (Ephemeral EC Keys: `TPM2_Commit`, `TPM2_EC_Ephemeral`), the
//! commands of Part 3, 14 that build on them or on ECC alone
//! (`TPM2_ZGen_2Phase`, `TPM2_ECC_Encrypt`, `TPM2_ECC_Decrypt`) and the
//! second half of an ECDAA signature (used by `TPM2_Sign`).
//!
//! # The commit mechanism (Part 1, 44.2)
//!
//! This TPM uses the pseudo-random method of Part 1, 44.2.2: the commit
//! value of counter `c` is
//!
//! ```text
//! r := KDFa(hashAlg, commitRandom, "ECDAA Commit", name, c as UINT64, 8 * size(n)) mod n
//! ```
//!
//! where `hashAlg` and `name` are the nameAlg and Name of the signing key
//! for `TPM2_Commit` (and the ECDAA signature that consumes it), and
//! SHA-256 with an empty Name for `TPM2_EC_Ephemeral` (and
//! `TPM2_ZGen_2Phase`), whose ephemeral keys belong to no key.
//! `commitRandom` is 64 fresh octets and `commitCount` restarts at zero on
//! every TPM Reset (detected through `PersistentState::total_reset_count`);
//! both live in volatile memory, so pending commits also end when the
//! engine is reloaded from its stored state (the TPM may limit pending
//! commits; Part 3, 19.1).
//!
//! Pending commits are tracked in a 128-bit array `A[]`
//! (`TPM_PT_SPLIT_MAX` = 128): a commit sets `A[c mod 128]`, the command
//! that consumes it clears the bit. A counter is accepted when it lies in
//! the window `t - 128 < counter < t` (`t` = the low 16 bits of
//! `commitCount`; otherwise `TPM_RC_RANGE`) and its bit is SET (otherwise
//! `TPM_RC_VALUE`), as in Part 1, 44.2.5.
//!
//! # Key exchange and ECC encryption
//!
//! `TPM2_ZGen_2Phase` implements `TPM_ALG_ECDH` (`outZ1 = [d_s,A]Q_s,B`,
//! `outZ2 = [d_e,A]Q_e,B`, full points). `TPM_ALG_ECMQV` and `TPM_ALG_SM2`
//! are not implemented: `TPMI_ECC_KEY_EXCHANGE` refuses them (and NULL)
//! with `TPM_RC_SCHEME`.
//!
//! `TPM2_ECC_Encrypt` / `TPM2_ECC_Decrypt` follow Part 1, 45.2.4 with the
//! only KDF Part 1 defines for them, `TPM_ALG_KDF2` (ISO/IEC 18033-2 KDF2:
//! `H(Z || [1]32) || H(Z || [2]32) || ...`, `Z = x2 || y2`):
//! `C1 = [k]G`, `(x2, y2) = [k]P_B`, `C2 = M xor KDF2(x2 || y2, len(M))`,
//! `C3 = H(x2 || M || y2)`. The scheme is chosen as in
//! `CryptEccSelectScheme`: the key's `kdf` if set, else `inScheme`; both
//! NULL, or different, is `TPM_RC_SCHEME` on `inScheme`, and so is any KDF
//! other than KDF2. (Keys of this TPM always have a NULL `kdf`.)

use alloc::vec::Vec;

use super::asymmetric::{EccCurveParam, EccPoint2b};
use super::Command;
use crate::crypto::ecc::{self, Curve, EccPoint, EccPrivate};
use crate::crypto::kdf::kdfa;
use crate::crypto::secret::{ct_eq, SecretBytes};
use crate::crypto::HashAlg;
use crate::engine::Ctx;
use crate::object::Object;
use crate::tpm_params;
use crate::wire::consts::alg;
use crate::wire::object::{oa, Unique};
use crate::wire::public::{Kdf, PublicParms, Scheme};
use crate::wire::signature::{EccParameter2b, Signature};
use crate::wire::types::{Digest2b, MaxBuffer2b, SensitiveData2b};
use crate::wire::{AlgId, Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// `N` of Part 1, 44.2.2: the commit array has `2^N` entries.
const COMMIT_BITS: u32 = 7;
/// Entries in the commit array (`TPM_PT_SPLIT_MAX`).
pub const SPLIT_MAX: u32 = 1 << COMMIT_BITS;
/// `2^N - 1`.
const COMMIT_MASK: u16 = (1 << COMMIT_BITS) - 1;
/// Octets of `commitRandom`: twice the largest security strength (256
/// bits, P-521).
const COMMIT_RANDOM_LEN: usize = 64;
/// The KDFa label of the commit value (Part 1, equation 60).
const COMMIT_LABEL: &[u8] = b"ECDAA Commit";
/// Hash of the ephemeral keys of `TPM2_EC_Ephemeral`.
const EPHEMERAL_HASH: HashAlg = HashAlg::Sha256;

/// The volatile commit state: `commitRandom`, `commitCount` and `A[]`.
#[derive(Debug, Default)]
pub struct CommitState {
    /// `commitRandom`.
    random: Option<SecretBytes>,
    /// `commitCount`.
    count: u64,
    /// `A[]`: pending commits.
    pending: u128,
    /// `total_reset_count` when `random` was drawn: a TPM Reset since then
    /// starts a new commit epoch.
    epoch: u32,
}

impl CommitState {
    /// Start a new epoch if a TPM Reset happened since the last one.
    fn refresh(ctx: &mut Ctx<'_>) {
        let epoch = ctx.p.total_reset_count;
        if ctx.v.commit.random.is_some() && ctx.v.commit.epoch == epoch {
            return;
        }
        let mut random = SecretBytes::zeroed(COMMIT_RANDOM_LEN);
        ctx.random(random.as_mut_slice());
        ctx.v.commit = CommitState {
            random: Some(random),
            count: 0,
            pending: 0,
            epoch,
        };
    }

    /// The commit value for count `c` (module documentation).
    fn r(&self, curve: Curve, hash: HashAlg, name: &[u8], c: u64) -> TpmResult<Vec<u8>> {
        let random = self.random.as_ref().ok_or(Rc::FAILURE)?;
        let bits = u32::try_from(curve.size().saturating_mul(8)).map_err(|_| Rc::FAILURE)?;
        let raw = kdfa(
            hash,
            random.as_slice(),
            COMMIT_LABEL,
            name,
            &c.to_be_bytes(),
            bits,
        )?;
        let r = ecc::reduce_mod_n(curve, raw.as_slice())?;
        if r.iter().all(|b| *b == 0) {
            return Err(Rc::NO_RESULT);
        }
        Ok(r)
    }

    /// The bit of `A[]` for a counter.
    fn bit(counter: u16) -> u128 {
        1u128
            .checked_shl(u32::from(counter & COMMIT_MASK))
            .unwrap_or(0)
    }

    /// Record a commit of the current count and advance it; returns the
    /// low 16 bits of the committed count.
    fn commit(&mut self) -> u16 {
        let c = self.count;
        self.count = self.count.wrapping_add(1);
        let low = c as u16;
        self.pending |= Self::bit(low);
        low
    }

    /// The full count of a pending `counter` (Part 1, 44.2.5):
    /// `TPM_RC_RANGE` outside the window, `TPM_RC_VALUE` when not pending.
    fn recover(&self, counter: u16) -> TpmResult<u64> {
        let t = self.count as u16;
        let back = t.wrapping_sub(counter);
        if back == 0 || u32::from(back) >= SPLIT_MAX || u64::from(back) > self.count {
            return Err(Rc::RANGE);
        }
        if self.pending & Self::bit(counter) == 0 {
            return Err(Rc::VALUE);
        }
        Ok(self.count.wrapping_sub(u64::from(back)))
    }

    /// Retire a commit after the command that used it succeeded.
    fn end_commit(&mut self, counter: u16) {
        self.pending &= !Self::bit(counter);
    }

    /// Commits made and not yet used (for tests and diagnostics).
    pub fn pending_count(&self) -> u32 {
        self.pending.count_ones()
    }
}

/// The Empty Point: two Empty Buffers.
fn empty_point() -> EccPoint {
    EccPoint {
        x: Vec::new(),
        y: Vec::new(),
    }
}

fn is_empty_point(p: &EccPoint) -> bool {
    p.x.is_empty() && p.y.is_empty()
}

/// An ECC key's curve, public point and scheme; `TPM_RC_KEY` on handle 1
/// for any other object.
fn ecc_key(key: &Object) -> TpmResult<(Curve, EccPoint, Scheme, Kdf)> {
    match (&key.public.parms, &key.public.unique) {
        (
            PublicParms::Ecc {
                curve, scheme, kdf, ..
            },
            Unique::Ecc { x, y },
        ) => {
            let c = Curve::from_curve_id(*curve).ok_or(Rc::KEY.handle(1))?;
            Ok((
                c,
                EccPoint {
                    x: x.clone(),
                    y: y.clone(),
                },
                *scheme,
                *kdf,
            ))
        }
        _ => Err(Rc::KEY.handle(1)),
    }
}

/// The private key of a loaded ECC key (`TPM_RC_AUTH_UNAVAILABLE` when
/// only its public area is loaded).
fn private_key(key: &Object, curve: Curve) -> TpmResult<EccPrivate> {
    let sens = key.sensitive.as_ref().ok_or(Rc::AUTH_UNAVAILABLE)?;
    EccPrivate::from_bytes(curve, &sens.sensitive)
}

fn first_handle(handles: &[Handle]) -> TpmResult<Handle> {
    handles.first().copied().ok_or(Rc::FAILURE)
}

// ---------------------------------------------------------------------
// TPM2_EC_Ephemeral

tpm_params! {
    /// `TPM2_EC_Ephemeral` parameters.
    pub struct EcEphemeralIn {
        /// `curveID`.
        pub curve_id: EccCurveParam,
    }
}

tpm_params! {
    /// `TPM2_EC_Ephemeral` response.
    pub struct EcEphemeralOut {
        /// `Q := [r]G`.
        pub q: EccPoint2b,
        /// The low 16 bits of `commitCount`.
        pub counter: u16,
    }
}

/// `TPM2_EC_Ephemeral` (Part 3, 19.3): `Q := [r]G` for the next commit
/// value `r`; the counter is committed. A value of `r` that is zero modulo
/// `n` (negligible) is committed and skipped, as in the reference.
#[derive(Debug)]
#[doc(alias = "TPM2_EC_Ephemeral")]
pub struct EcEphemeral;

impl Command for EcEphemeral {
    type In = EcEphemeralIn;
    type Out = EcEphemeralOut;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: EcEphemeralIn) -> TpmResult<EcEphemeralOut> {
        let curve = Curve::from_curve_id(input.curve_id.0).ok_or(Rc::CURVE.param(1))?;
        CommitState::refresh(ctx);
        for _ in 0..8 {
            let c = ctx.v.commit.count;
            let q = ctx
                .v
                .commit
                .r(curve, EPHEMERAL_HASH, &[], c)
                .and_then(|r| ecc::mul(curve, &r, None));
            let counter = ctx.v.commit.commit();
            match q {
                Ok(q) => {
                    return Ok(EcEphemeralOut {
                        q: EccPoint2b(q),
                        counter,
                    })
                }
                Err(Rc::NO_RESULT) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Rc::NO_RESULT)
    }
}

// ---------------------------------------------------------------------
// TPM2_Commit

tpm_params! {
    /// `TPM2_Commit` parameters.
    pub struct CommitIn {
        /// `P1`: a point on the key's curve, or the Empty Point.
        pub p1: EccPoint2b,
        /// `s2`: octets hashed to the x-coordinate of a base point.
        pub s2: SensitiveData2b,
        /// `y2`: the y-coordinate of that point.
        pub y2: EccParameter2b,
    }
}

tpm_params! {
    /// `TPM2_Commit` response.
    pub struct CommitOut {
        /// `K := [d_s](x2, y2)`.
        pub k: EccPoint2b,
        /// `L := [r](x2, y2)`.
        pub l: EccPoint2b,
        /// `E := [r]P1` (or `[r]G`).
        pub e: EccPoint2b,
        /// The low 16 bits of `commitCount`.
        pub counter: u16,
    }
}

/// `TPM2_Commit` (Part 3, 19.2; algorithm in Part 1, 44.2.3). The key must
/// be ECC (`TPM_RC_KEY`) with an anonymous scheme, ECDAA (`TPM_RC_SCHEME`
/// on the handle); `s2` and `y2` are both empty or both present
/// (`TPM_RC_SIZE` on `y2`); `(H_nameAlg(s2) mod p, y2)` and a non-empty
/// `P1` must be on the key's curve (`TPM_RC_ECC_POINT` on `s2` / `P1`); a
/// result at infinity is `TPM_RC_NO_RESULT`. Outputs that were not
/// computed are Empty Points.
#[derive(Debug)]
#[doc(alias = "TPM2_Commit")]
pub struct Commit;

impl Command for Commit {
    type In = CommitIn;
    type Out = CommitOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: CommitIn) -> TpmResult<CommitOut> {
        let h = first_handle(handles)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?.clone();
        let (curve, _, scheme, _) = ecc_key(&key)?;
        if !matches!(scheme, Scheme::Ecdaa { .. }) {
            return Err(Rc::SCHEME.handle(1));
        }
        if input.s2.is_empty() != input.y2.is_empty() {
            return Err(Rc::SIZE.param(3));
        }
        let name_alg = key.public.name_alg;
        let p2 = if input.s2.is_empty() {
            None
        } else {
            let hash = name_alg.ok_or(Rc::HASH.handle(1))?;
            let x2 = ecc::reduce_mod_p(curve, &hash.digest(input.s2.as_slice()))?;
            let p2 = EccPoint {
                x: x2,
                y: input.y2.0.clone(),
            };
            ecc::validate_point(curve, &p2).map_err(|e| e.param(2))?;
            if key.sensitive.is_none() {
                return Err(Rc::KEY.handle(1));
            }
            Some(p2)
        };
        let p1 = input.p1.0;
        let p1 = if is_empty_point(&p1) {
            None
        } else {
            ecc::validate_point(curve, &p1).map_err(|e| e.param(1))?;
            Some(p1)
        };
        CommitState::refresh(ctx);
        let c = ctx.v.commit.count;
        let r = ctx
            .v
            .commit
            .r(curve, name_alg.unwrap_or(EPHEMERAL_HASH), &key.name, c)?;
        let (k, l) = match &p2 {
            Some(p2) => {
                let d = private_key(&key, curve)?;
                (d.ecdh(p2)?, ecc::mul(curve, &r, Some(p2))?)
            }
            None => (empty_point(), empty_point()),
        };
        let e = match (&p1, &p2) {
            (Some(p1), _) => ecc::mul(curve, &r, Some(p1))?,
            (None, None) => ecc::mul(curve, &r, None)?,
            (None, Some(_)) => empty_point(),
        };
        let counter = ctx.v.commit.commit();
        Ok(CommitOut {
            k: EccPoint2b(k),
            l: EccPoint2b(l),
            e: EccPoint2b(e),
            counter,
        })
    }
}

/// The ECDAA half of `TPM2_Sign` (Part 1, 44.3.3.3) with `P = digest`:
/// recovers the commit value of `count` (the scheme's `count`; `TPM_RC_RANGE`
/// or `TPM_RC_VALUE` on parameter `count_param`), signs
/// ([`EccPrivate::sign_ecdaa`]) and retires the commit. The key must be an
/// ECC key with its sensitive area. Other errors are unpositioned.
pub fn sign_ecdaa(
    ctx: &mut Ctx<'_>,
    key: &Object,
    hash: HashAlg,
    count: u16,
    digest: &[u8],
    count_param: u32,
) -> TpmResult<Signature> {
    let (curve, _, _, _) = ecc_key(key).map_err(|_| Rc::SCHEME)?;
    let d = private_key(key, curve)?;
    CommitState::refresh(ctx);
    let c = ctx
        .v
        .commit
        .recover(count)
        .map_err(|e| e.param(count_param))?;
    let r = ctx.v.commit.r(
        curve,
        key.public.name_alg.unwrap_or(EPHEMERAL_HASH),
        &key.name,
        c,
    )?;
    let sig = d.sign_ecdaa(&r, hash, digest, &mut ctx.v.drbg)?;
    ctx.v.commit.end_commit(count);
    Ok(Signature::Ecdaa {
        hash,
        r: sig.r,
        s: sig.s,
    })
}

// ---------------------------------------------------------------------
// TPM2_ZGen_2Phase

/// `TPMI_ECC_KEY_EXCHANGE`: the two-phase key exchange schemes this TPM
/// implements (ECDH only); anything else, NULL included, is
/// `TPM_RC_SCHEME`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyExchangeScheme(pub AlgId);

impl Unmarshal for KeyExchangeScheme {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let a: AlgId = r.read()?;
        if a == alg::ECDH {
            Ok(KeyExchangeScheme(a))
        } else {
            Err(Rc::SCHEME)
        }
    }
}

impl Marshal for KeyExchangeScheme {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.0);
    }
}

tpm_params! {
    /// `TPM2_ZGen_2Phase` parameters.
    pub struct ZGen2PhaseIn {
        /// `inQsB`: the other party's static public key.
        pub in_qs_b: EccPoint2b,
        /// `inQeB`: the other party's ephemeral public key.
        pub in_qe_b: EccPoint2b,
        /// `inScheme`.
        pub in_scheme: KeyExchangeScheme,
        /// `counter` from TPM2_EC_Ephemeral.
        pub counter: u16,
    }
}

tpm_params! {
    /// `TPM2_ZGen_2Phase` response.
    pub struct ZGen2PhaseOut {
        /// `outZ1` (ECDH: `Zs`).
        pub out_z1: EccPoint2b,
        /// `outZ2` (ECDH: `Ze`).
        pub out_z2: EccPoint2b,
    }
}

/// `TPM2_ZGen_2Phase` (Part 3, 14.7), checks in the reference's order: an
/// ECC key (`TPM_RC_KEY`), unrestricted with `decrypt` (`TPM_RC_ATTRIBUTES`),
/// whose scheme is NULL or `inScheme` (`TPM_RC_SCHEME` on `inScheme`);
/// `inQsB` and `inQeB` on its curve (`TPM_RC_ECC_POINT` on each); the
/// counter pending ([`CommitState`]: `TPM_RC_RANGE` / `TPM_RC_VALUE` on
/// `counter`). A `Z` at infinity is returned as the Empty Point. The commit
/// is retired on success.
#[derive(Debug)]
#[doc(alias = "TPM2_ZGen_2Phase")]
pub struct ZGen2Phase;

impl Command for ZGen2Phase {
    type In = ZGen2PhaseIn;
    type Out = ZGen2PhaseOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: ZGen2PhaseIn) -> TpmResult<ZGen2PhaseOut> {
        let h = first_handle(handles)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?.clone();
        let (curve, _, scheme, _) = ecc_key(&key)?;
        if key.public.has(oa::RESTRICTED) || !key.public.has(oa::DECRYPT) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        if scheme != Scheme::Null && scheme.alg_id() != input.in_scheme.0 {
            return Err(Rc::SCHEME.param(3));
        }
        ecc::validate_point(curve, &input.in_qs_b.0).map_err(|e| e.param(1))?;
        ecc::validate_point(curve, &input.in_qe_b.0).map_err(|e| e.param(2))?;
        CommitState::refresh(ctx);
        let c = ctx
            .v
            .commit
            .recover(input.counter)
            .map_err(|e| e.param(4))?;
        let r = ctx.v.commit.r(curve, EPHEMERAL_HASH, &[], c)?;
        let d = private_key(&key, curve)?;
        let or_empty = |z: TpmResult<EccPoint>| match z {
            Err(Rc::NO_RESULT) => Ok(empty_point()),
            other => other,
        };
        let z1 = or_empty(d.ecdh(&input.in_qs_b.0))?;
        let z2 = or_empty(ecc::mul(curve, &r, Some(&input.in_qe_b.0)))?;
        ctx.v.commit.end_commit(input.counter);
        Ok(ZGen2PhaseOut {
            out_z1: EccPoint2b(z1),
            out_z2: EccPoint2b(z2),
        })
    }
}

// ---------------------------------------------------------------------
// TPM2_ECC_Encrypt / TPM2_ECC_Decrypt

/// KDF2 of ISO/IEC 18033-2 (Part 1, 45.2.4.2 step 6):
/// `H(z || [1]32) || H(z || [2]32) || ...` truncated to `len` octets.
pub fn kdf2(hash: HashAlg, z: &[u8], len: usize) -> SecretBytes {
    let mut out = SecretBytes::zeroed(len);
    let mut counter: u32 = 0;
    for chunk in out.as_mut_slice().chunks_mut(hash.digest_size()) {
        counter = counter.wrapping_add(1);
        let block = SecretBytes::from(hash.digest_parts(&[z, &counter.to_be_bytes()]));
        for (o, b) in chunk.iter_mut().zip(block.iter()) {
            *o = *b;
        }
    }
    out
}

/// `CryptEccSelectScheme`: the KDF of an ECC encryption, from the key's
/// `kdf` and `inScheme`; `None` when both are NULL or they differ.
fn select_kdf(key: Kdf, requested: Kdf) -> Option<Kdf> {
    let chosen = if requested == Kdf::Null {
        key
    } else {
        requested
    };
    if chosen == Kdf::Null || (key != Kdf::Null && key != chosen) {
        return None;
    }
    Some(chosen)
}

/// The hash of a KDF2 scheme; any other KDF is `TPM_RC_SCHEME` (Part 1,
/// 45.2.4.2: "only KDF2 is supported").
fn kdf2_hash(kdf: Kdf) -> TpmResult<HashAlg> {
    match kdf {
        Kdf::Kdf2(h) => Ok(h),
        _ => Err(Rc::SCHEME),
    }
}

/// `C3 := H(x2 || M || y2)`.
fn ecc_enc_check(hash: HashAlg, p2: &EccPoint, m: &[u8]) -> Vec<u8> {
    hash.digest_parts(&[&p2.x, m, &p2.y])
}

/// `M xor KDF2(x2 || y2, len(M))`.
fn ecc_enc_mask(hash: HashAlg, p2: &EccPoint, data: &[u8]) -> Vec<u8> {
    let z = SecretBytes::new(&[p2.x.as_slice(), p2.y.as_slice()].concat());
    let mask = kdf2(hash, z.as_slice(), data.len());
    data.iter().zip(mask.iter()).map(|(d, m)| *d ^ *m).collect()
}

tpm_params! {
    /// `TPM2_ECC_Encrypt` parameters.
    pub struct EccEncryptIn {
        /// `plainText`.
        pub plain_text: MaxBuffer2b,
        /// `inScheme` (`TPMT_KDF_SCHEME+`).
        pub in_scheme: Kdf,
    }
}

tpm_params! {
    /// `TPM2_ECC_Encrypt` response.
    pub struct EccEncryptOut {
        /// `C1`: the ephemeral public key.
        pub c1: EccPoint2b,
        /// `C2`: the masked plaintext.
        pub c2: MaxBuffer2b,
        /// `C3`: the integrity value.
        pub c3: Digest2b,
    }
}

/// `TPM2_ECC_Encrypt` (Part 3, 14.8; Part 1, 45.2.4.2). The key must be
/// ECC (`TPM_RC_KEY`); its attributes are not checked. The KDF is chosen as
/// in the module documentation (`TPM_RC_SCHEME` on `inScheme`).
#[derive(Debug)]
#[doc(alias = "TPM2_ECC_Encrypt")]
pub struct EccEncrypt;

impl Command for EccEncrypt {
    type In = EccEncryptIn;
    type Out = EccEncryptOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: EccEncryptIn) -> TpmResult<EccEncryptOut> {
        let h = first_handle(handles)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        let (curve, pb, _, key_kdf) = ecc_key(key)?;
        let kdf = select_kdf(key_kdf, input.in_scheme).ok_or(Rc::SCHEME.param(2))?;
        let hash = kdf2_hash(kdf).map_err(|e| e.param(2))?;
        let m = input.plain_text.as_slice();
        // The point at infinity needs a new k; it cannot happen on these
        // prime-order curves, so a few tries bound the loop.
        for _ in 0..8 {
            let k = EccPrivate::generate(curve, &mut ctx.v.drbg)?;
            let c1 = k.public()?;
            let p2 = match k.ecdh(&pb) {
                Ok(p) => p,
                Err(Rc::NO_RESULT) => continue,
                Err(Rc::ECC_POINT) => return Err(Rc::KEY.handle(1)),
                Err(e) => return Err(e),
            };
            let c3 = ecc_enc_check(hash, &p2, m);
            let c2 = ecc_enc_mask(hash, &p2, m);
            return Ok(EccEncryptOut {
                c1: EccPoint2b(c1),
                c2: MaxBuffer2b::from_slice(&c2)?,
                c3: Digest2b::from_slice(&c3)?,
            });
        }
        Err(Rc::NO_RESULT)
    }
}

tpm_params! {
    /// `TPM2_ECC_Decrypt` parameters.
    pub struct EccDecryptIn {
        /// `C1`.
        pub c1: EccPoint2b,
        /// `C2`.
        pub c2: MaxBuffer2b,
        /// `C3`.
        pub c3: Digest2b,
        /// `inScheme` (`TPMT_KDF_SCHEME+`).
        pub in_scheme: Kdf,
    }
}

tpm_params! {
    /// `TPM2_ECC_Decrypt` response.
    pub struct EccDecryptOut {
        /// `plainText`.
        pub plain_text: MaxBuffer2b,
    }
}

/// `TPM2_ECC_Decrypt` (Part 3, 14.9; Part 1, 45.2.4.3). The key must be
/// ECC (`TPM_RC_KEY`) with `decrypt` SET and `restricted` CLEAR
/// (`TPM_RC_ATTRIBUTES`); the KDF as for encryption (`TPM_RC_SCHEME` on
/// `inScheme`); `C1` on the key's curve (`TPM_RC_ECC_POINT` on `C1`); a
/// `C3` that does not match the recovered plaintext is `TPM_RC_VALUE` on
/// `C3` (compared in constant time).
#[derive(Debug)]
#[doc(alias = "TPM2_ECC_Decrypt")]
pub struct EccDecrypt;

impl Command for EccDecrypt {
    type In = EccDecryptIn;
    type Out = EccDecryptOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: EccDecryptIn) -> TpmResult<EccDecryptOut> {
        let h = first_handle(handles)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        let (curve, _, _, key_kdf) = ecc_key(key)?;
        if !key.public.has(oa::DECRYPT) || key.public.has(oa::RESTRICTED) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        let kdf = select_kdf(key_kdf, input.in_scheme).ok_or(Rc::SCHEME.param(4))?;
        let hash = kdf2_hash(kdf).map_err(|e| e.param(4))?;
        let d = private_key(key, curve)?;
        let p2 = d.ecdh(&input.c1.0).map_err(|e| e.param(1))?;
        let m = SecretBytes::new(&ecc_enc_mask(hash, &p2, input.c2.as_slice()));
        let check = ecc_enc_check(hash, &p2, m.as_slice());
        if !ct_eq(&check, input.c3.as_slice()) {
            return Err(Rc::VALUE.param(3));
        }
        Ok(EccDecryptOut {
            plain_text: MaxBuffer2b::from_slice(m.as_slice())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_window_and_pending_bits() {
        let mut s = CommitState::default();
        assert_eq!(s.recover(0), Err(Rc::RANGE));
        let c0 = s.commit();
        let c1 = s.commit();
        assert_eq!((c0, c1), (0, 1));
        assert_eq!(s.recover(0), Ok(0));
        assert_eq!(s.recover(1), Ok(1));
        assert_eq!(s.recover(2), Err(Rc::RANGE));
        s.end_commit(0);
        assert_eq!(s.recover(0), Err(Rc::VALUE));
        assert_eq!(s.pending_count(), 1);
        // Far in the future: counters wrap at 16 bits.
        s.count = 0x1_0005;
        s.pending = u128::MAX;
        assert_eq!(s.recover(0xFFFF), Ok(0xFFFF));
        assert_eq!(s.recover(0x0004), Ok(0x1_0004));
        assert_eq!(s.recover(0x0005), Err(Rc::RANGE));
        assert_eq!(s.recover(0xFF85), Err(Rc::RANGE));
        assert_eq!(s.recover(0xFF86), Ok(0xFF86));
    }

    #[test]
    fn kdf2_counts_from_one() {
        let k = kdf2(HashAlg::Sha256, b"z", 40);
        let mut want = HashAlg::Sha256.digest_parts(&[b"z", &1u32.to_be_bytes()]);
        want.extend(HashAlg::Sha256.digest_parts(&[b"z", &2u32.to_be_bytes()]));
        want.truncate(40);
        assert_eq!(k.as_slice(), want.as_slice());
    }

    #[test]
    fn kdf_selection() {
        let k2 = Kdf::Kdf2(HashAlg::Sha256);
        assert_eq!(select_kdf(Kdf::Null, Kdf::Null), None);
        assert_eq!(select_kdf(Kdf::Null, k2), Some(k2));
        assert_eq!(select_kdf(k2, Kdf::Null), Some(k2));
        assert_eq!(select_kdf(k2, Kdf::Kdf2(HashAlg::Sha384)), None);
    }
}
