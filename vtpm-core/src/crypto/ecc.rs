//! Elliptic curves for the TPM: NIST P-256, P-384 and P-521 key pairs derived from
//! a byte stream, point validation, ECDSA, EC Schnorr and ECDH (the `Z`
//! point of TPM2_ECDH_ZGen and salted sessions), and the pieces of the
//! commit-based commands (TPM2_Commit, TPM2_EC_Ephemeral,
//! TPM2_ZGen_2Phase, ECDAA): point multiplication [`mul`], reductions of
//! octet strings modulo `n` and `p` ([`reduce_mod_n`], [`reduce_mod_p`])
//! and the ECDAA signature [`EccPrivate::sign_ecdaa`].
//!
//! Coordinates, scalars and signature components are big-endian octet
//! strings. Inputs may be shorter than the curve size (they are left-padded)
//! or longer with leading zeros (they are trimmed), because TPM2B values
//! from clients come in both forms; outputs are always exactly
//! [`Curve::size`] octets (the Schnorr `r` is the truncated digest).
//!
//! # Key generation, version 1 ([`ECC_KEYGEN_VERSION`])
//!
//! Part 1, 44.6 (FIPS 186-5 A.2.1, "extra random bits"): draw
//! `c` = the next `ceil((len(n) + 64) / 8)` octets of the stream (exactly
//! `len(n) + 64` bits: the 7 excess high-order bits of P-521's 74 octets
//! are cleared), big-endian, and set
//! `d := (c mod (n - 1)) + 1`, so `1 <= d < n`. The public point is `[d]G`.
//! One draw per key: no rejection loop.
//!
//! # Nonces
//!
//! ECDSA uses RFC 6979 deterministic nonces with the signing scheme's hash
//! as the HMAC-DRBG hash, hedged with `size()` octets of additional data
//! from the caller's [`Rng`] (RFC 6979, 3.6). EC Schnorr draws `k` from the
//! caller's [`Rng`] the same way as a private key.

use alloc::vec::Vec;

use crypto_bigint::{BoxedUint, NonZero};
use ecdsa::hazmat::{sign_prehashed_rfc6979, verify_prehashed};
use ecdsa::{EcdsaCurve, Signature};
use p256::elliptic_curve::ff::{Field, PrimeField};
use p256::elliptic_curve::group::{Curve as _, Group};
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::{
    AffinePoint, CurveArithmetic, FieldBytes, NonZeroScalar, ProjectivePoint, Scalar,
};
use zeroize::Zeroizing;

use super::hash::HashAlg;
use super::secret::{Rng, SecretBytes};
use crate::wire::consts::curve;
use crate::wire::{EccCurve, Rc, TpmResult};

/// Version of the deterministic private-key derivation in the module
/// documentation.
pub const ECC_KEYGEN_VERSION: u32 = 1;

/// A curve this TPM implements.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, serde::Serialize, serde::Deserialize)]
pub enum Curve {
    /// NIST P-256 (`TPM_ECC_NIST_P256`).
    NistP256,
    /// NIST P-384 (`TPM_ECC_NIST_P384`).
    NistP384,
    /// NIST P-521 (`TPM_ECC_NIST_P521`).
    NistP521,
}

/// Group order of P-256 (FIPS 186-5 / SP 800-186).
const P256_ORDER: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];

/// Group order of P-384 (FIPS 186-5 / SP 800-186).
const P384_ORDER: [u8; 48] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC7, 0x63, 0x4D, 0x81, 0xF4, 0x37, 0x2D, 0xDF,
    0x58, 0x1A, 0x0D, 0xB2, 0x48, 0xB0, 0xA7, 0x7A, 0xEC, 0xEC, 0x19, 0x6A, 0xCC, 0xC5, 0x29, 0x73,
];

/// Group order of P-521 (FIPS 186-5 / SP 800-186).
const P521_ORDER: [u8; 66] = [
    0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFA, 0x51, 0x86, 0x87, 0x83, 0xBF, 0x2F, 0x96, 0x6B, 0x7F, 0xCC, 0x01, 0x48, 0xF7, 0x09,
    0xA5, 0xD0, 0x3B, 0xB5, 0xC9, 0xB8, 0x89, 0x9C, 0x47, 0xAE, 0xBB, 0x6F, 0xB7, 0x1E, 0x91, 0x38,
    0x64, 0x09,
];

impl Curve {
    /// Every implemented curve.
    pub const ALL: [Curve; 3] = [Curve::NistP256, Curve::NistP384, Curve::NistP521];

    /// The curve for a `TPM_ECC_CURVE`, if implemented.
    pub fn from_curve_id(id: EccCurve) -> Option<Curve> {
        if id == curve::NIST_P256 {
            Some(Curve::NistP256)
        } else if id == curve::NIST_P384 {
            Some(Curve::NistP384)
        } else if id == curve::NIST_P521 {
            Some(Curve::NistP521)
        } else {
            None
        }
    }

    /// The `TPM_ECC_CURVE` identifier.
    pub fn curve_id(self) -> EccCurve {
        match self {
            Curve::NistP256 => curve::NIST_P256,
            Curve::NistP384 => curve::NIST_P384,
            Curve::NistP521 => curve::NIST_P521,
        }
    }

    /// Key size in bits (`keySize` of `TPMS_ALGORITHM_DETAIL_ECC`).
    pub const fn key_bits(self) -> u16 {
        match self {
            Curve::NistP256 => 256,
            Curve::NistP384 => 384,
            Curve::NistP521 => 521,
        }
    }

    /// Octets in a coordinate, a private key and an ECDSA `r` or `s`.
    pub const fn size(self) -> usize {
        match self {
            Curve::NistP256 => 32,
            Curve::NistP384 => 48,
            Curve::NistP521 => 66,
        }
    }

    /// The group order `n`, big-endian.
    pub fn order(self) -> &'static [u8] {
        match self {
            Curve::NistP256 => &P256_ORDER,
            Curve::NistP384 => &P384_ORDER,
            Curve::NistP521 => &P521_ORDER,
        }
    }
}

/// A point as its affine coordinates, each exactly `curve.size()` octets.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EccPoint {
    /// x-coordinate.
    pub x: Vec<u8>,
    /// y-coordinate.
    pub y: Vec<u8>,
}

/// An ECDSA or EC Schnorr signature.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EccSignature {
    /// `r` (for Schnorr, the truncated digest).
    pub r: Vec<u8>,
    /// `s`.
    pub s: Vec<u8>,
}

/// Left-pad to `len`, or trim leading zeros down to `len`; `None` if the
/// value needs more than `len` octets.
fn fit(bytes: &[u8], len: usize) -> Option<Zeroizing<Vec<u8>>> {
    let skip = bytes.len().saturating_sub(len);
    let (head, tail) = bytes.split_at_checked(skip)?;
    if head.iter().any(|b| *b != 0) {
        return None;
    }
    let mut out = Zeroizing::new(alloc::vec![0u8; len.saturating_sub(tail.len())]);
    out.extend_from_slice(tail);
    Some(out)
}

fn field_bytes<C: CurveArithmetic>(bytes: &[u8], curve: Curve) -> Option<FieldBytes<C>> {
    let v = fit(bytes, curve.size())?;
    FieldBytes::<C>::try_from(v.as_slice()).ok()
}

/// A scalar in `[1, n)` from octets, or `None`.
fn nonzero_scalar<C: CurveArithmetic>(d: &[u8], curve: Curve) -> Option<NonZeroScalar<C>> {
    NonZeroScalar::<C>::from_repr(field_bytes::<C>(d, curve)?).into_option()
}

/// A validated affine point: both coordinates below `p` and on the curve
/// (the identity has no affine coordinates, so it is rejected too).
fn affine<C: CurveArithmetic>(p: &EccPoint, curve: Curve) -> TpmResult<AffinePoint<C>> {
    let x = field_bytes::<C>(&p.x, curve).ok_or(Rc::ECC_POINT)?;
    let y = field_bytes::<C>(&p.y, curve).ok_or(Rc::ECC_POINT)?;
    Option::from(AffinePoint::<C>::from_coordinates(&x, &y)).ok_or(Rc::ECC_POINT)
}

/// Coordinates of a projective point; the identity is `TPM_RC_NO_RESULT`.
fn coords<C: CurveArithmetic>(p: ProjectivePoint<C>) -> TpmResult<EccPoint> {
    if bool::from(p.is_identity()) {
        return Err(Rc::NO_RESULT);
    }
    let a = p.to_affine();
    Ok(EccPoint {
        x: a.x().to_vec(),
        y: a.y().to_vec(),
    })
}

/// Part 1, 44.6: `(c mod (n - 1)) + 1` with `c` of `len(n) + 64` bits from
/// the stream; returns exactly `curve.size()` octets.
fn derive_scalar(curve: Curve, rng: &mut dyn Rng) -> TpmResult<SecretBytes> {
    let order = curve.order();
    let n_bits = u32::from(curve.key_bits());
    let c_bits = n_bits.saturating_add(64);
    let c_len = usize::try_from(c_bits.div_ceil(8)).map_err(|_| Rc::FAILURE)?;
    let mut c = Zeroizing::new(alloc::vec![0u8; c_len]);
    rng.fill_bytes(&mut c);
    let excess = c_len
        .saturating_mul(8)
        .saturating_sub(usize::try_from(c_bits).unwrap_or(0));
    if let Some(first) = c.first_mut() {
        *first &= 0xFFu8
            .checked_shr(u32::try_from(excess).unwrap_or(8))
            .unwrap_or(0);
    }
    let prec = c_bits.next_multiple_of(64);
    let c = Zeroizing::new(BoxedUint::from_be_slice(&c, prec).map_err(|_| Rc::FAILURE)?);
    let n = BoxedUint::from_be_slice(order, prec).map_err(|_| Rc::FAILURE)?;
    let n_minus_1 = NonZero::new(n.wrapping_sub(BoxedUint::one_with_precision(prec)))
        .into_option()
        .ok_or(Rc::FAILURE)?;
    let d = Zeroizing::new(
        c.rem(&n_minus_1)
            .wrapping_add(BoxedUint::one_with_precision(prec)),
    );
    let bytes = Zeroizing::new(d.to_be_bytes());
    fit(&bytes, curve.size())
        .map(|v| SecretBytes::new(&v))
        .ok_or(Rc::FAILURE)
}

/// An ECC private key `d` on a curve. `d` is zeroized on drop.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct EccPrivate {
    curve: Curve,
    d: SecretBytes,
}

macro_rules! on_curve {
    ($curve:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $curve {
            Curve::NistP256 => $f::<p256::NistP256>($($arg),*),
            Curve::NistP384 => $f::<p384::NistP384>($($arg),*),
            Curve::NistP521 => $f::<p521::NistP521>($($arg),*),
        }
    };
}

impl EccPrivate {
    /// Deterministic key generation, version 1 (module documentation).
    pub fn generate(curve: Curve, rng: &mut dyn Rng) -> TpmResult<Self> {
        let d = derive_scalar(curve, rng)?;
        Ok(EccPrivate { curve, d })
    }

    /// A private key from its octets (as in a sensitive area). It must be
    /// in `[1, n)`: longer than the curve size is `TPM_RC_KEY_SIZE`, zero or
    /// not below `n` is `TPM_RC_VALUE`.
    pub fn from_bytes(curve: Curve, d: &[u8]) -> TpmResult<Self> {
        let fixed = fit(d, curve.size()).ok_or(Rc::KEY_SIZE)?;
        fn check<C: CurveArithmetic>(d: &[u8], curve: Curve) -> bool {
            nonzero_scalar::<C>(d, curve).is_some()
        }
        if !on_curve!(curve, check(&fixed, curve)) {
            return Err(Rc::VALUE);
        }
        Ok(EccPrivate {
            curve,
            d: SecretBytes::new(&fixed),
        })
    }

    /// The curve.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// `d`, exactly `curve.size()` octets.
    pub fn scalar(&self) -> &SecretBytes {
        &self.d
    }

    /// The public point `Q = [d]G`.
    pub fn public(&self) -> TpmResult<EccPoint> {
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "elliptic-curve group and scalar-field operations are modular and cannot overflow"
        )]
        fn go<C: CurveArithmetic>(d: &[u8], curve: Curve) -> TpmResult<EccPoint> {
            let d = nonzero_scalar::<C>(d, curve).ok_or(Rc::FAILURE)?;
            coords::<C>(ProjectivePoint::<C>::mul_by_generator(&*d))
        }
        on_curve!(self.curve, go(&self.d, self.curve))
    }

    /// ECDSA over a precomputed `digest` (any length: it is truncated to the
    /// order's bit length as ECDSA requires). The nonce is RFC 6979 with
    /// HMAC-`hash`, hedged with octets from `rng`.
    pub fn sign_ecdsa(
        &self,
        hash: HashAlg,
        digest: &[u8],
        rng: &mut dyn Rng,
    ) -> TpmResult<EccSignature> {
        let mut ad = Zeroizing::new(alloc::vec![0u8; self.curve.size()]);
        rng.fill_bytes(&mut ad);
        self.sign_ecdsa_with_ad(hash, digest, &ad)
    }

    /// ECDSA with explicit RFC 6979 additional data (empty: plain RFC 6979).
    fn sign_ecdsa_with_ad(
        &self,
        hash: HashAlg,
        digest: &[u8],
        ad: &[u8],
    ) -> TpmResult<EccSignature> {
        fn go<C: EcdsaCurve + CurveArithmetic>(
            d: &[u8],
            curve: Curve,
            hash: HashAlg,
            z: &[u8],
            ad: &[u8],
        ) -> TpmResult<EccSignature> {
            let d = nonzero_scalar::<C>(d, curve).ok_or(Rc::FAILURE)?;
            let (sig, _) = match hash {
                HashAlg::Sha1 => sign_prehashed_rfc6979::<C, sha1::Sha1>(&d, z, ad),
                HashAlg::Sha256 => sign_prehashed_rfc6979::<C, sha2::Sha256>(&d, z, ad),
                HashAlg::Sha384 => sign_prehashed_rfc6979::<C, sha2::Sha384>(&d, z, ad),
                HashAlg::Sha512 => sign_prehashed_rfc6979::<C, sha2::Sha512>(&d, z, ad),
            };
            let (r, s) = sig.split_bytes();
            Ok(EccSignature {
                r: r.to_vec(),
                s: s.to_vec(),
            })
        }
        on_curve!(self.curve, go(&self.d, self.curve, hash, digest, ad))
    }

    /// EC Schnorr (Part 1, 44.3.4.2) over `digest` with the scheme hash
    /// `hash`: `k` from `rng` (derived as a private key), `E = [k]G`,
    /// `r = TRUNC(H(x_E || digest))` to the order's octet length,
    /// `s = (k + r d) mod n`, retried if `s = 0` or `s = k`.
    pub fn sign_schnorr(
        &self,
        hash: HashAlg,
        digest: &[u8],
        rng: &mut dyn Rng,
    ) -> TpmResult<EccSignature> {
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "elliptic-curve group and scalar-field operations are modular and cannot overflow"
        )]
        fn go<C: CurveArithmetic>(
            d: &[u8],
            curve: Curve,
            hash: HashAlg,
            digest: &[u8],
            rng: &mut dyn Rng,
        ) -> TpmResult<EccSignature> {
            let d = nonzero_scalar::<C>(d, curve).ok_or(Rc::FAILURE)?;
            for _ in 0..64 {
                let k_bytes = derive_scalar(curve, rng)?;
                let k = nonzero_scalar::<C>(&k_bytes, curve).ok_or(Rc::FAILURE)?;
                let e = ProjectivePoint::<C>::mul_by_generator(&*k);
                if bool::from(e.is_identity()) {
                    continue;
                }
                let e = e.to_affine();
                let r_bytes = schnorr_challenge(hash, &e.x(), digest, curve);
                let r = reduce_scalar::<C>(&r_bytes, curve).ok_or(Rc::FAILURE)?;
                let s = *k + r * *d;
                if bool::from(s.is_zero()) || s == *k {
                    continue;
                }
                return Ok(EccSignature {
                    r: r_bytes,
                    s: s.to_repr().to_vec(),
                });
            }
            Err(Rc::NO_RESULT)
        }
        on_curve!(self.curve, go(&self.d, self.curve, hash, digest, rng))
    }

    /// ECDH: `[d]P` for a peer point `P` (TPM2_ECDH_ZGen, salted sessions,
    /// the ECC labeled KEM). `P` not on the curve is `TPM_RC_ECC_POINT`; a
    /// result at infinity is `TPM_RC_NO_RESULT`. `Z` for KDFe is the
    /// returned `x`.
    pub fn ecdh(&self, peer: &EccPoint) -> TpmResult<EccPoint> {
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "elliptic-curve group and scalar-field operations are modular and cannot overflow"
        )]
        fn go<C: CurveArithmetic>(d: &[u8], curve: Curve, peer: &EccPoint) -> TpmResult<EccPoint> {
            let p = affine::<C>(peer, curve)?;
            let d = nonzero_scalar::<C>(d, curve).ok_or(Rc::FAILURE)?;
            coords::<C>(ProjectivePoint::<C>::from(p) * *d)
        }
        on_curve!(self.curve, go(&self.d, self.curve, peer))
    }
}

/// `TRUNC(H(FE2BS(x) || digest), n)` of Part 1, 44.3.4: keep the leading
/// octets, at most the order's octet length.
fn schnorr_challenge(hash: HashAlg, x: &[u8], digest: &[u8], curve: Curve) -> Vec<u8> {
    let mut h = hash.digest_parts(&[x, digest]);
    h.truncate(curve.size());
    h
}

/// An octet string (at most the curve size) reduced modulo `n`.
fn reduce_scalar<C: CurveArithmetic>(bytes: &[u8], curve: Curve) -> Option<Scalar<C>> {
    let fb = field_bytes::<C>(bytes, curve)?;
    Some(<Scalar<C> as Reduce<FieldBytes<C>>>::reduce(&fb))
}

/// Check that `(x, y)` is a point on `curve` (both coordinates below `p`,
/// on the curve equation; not the identity): `TPM_RC_ECC_POINT` otherwise.
pub fn validate_point(curve: Curve, point: &EccPoint) -> TpmResult<()> {
    fn go<C: CurveArithmetic>(point: &EccPoint, curve: Curve) -> TpmResult<()> {
        affine::<C>(point, curve).map(|_| ())
    }
    on_curve!(curve, go(point, curve))
}

/// ECDSA verification over a precomputed `digest` (truncated as ECDSA
/// requires). A malformed key is `TPM_RC_ECC_POINT`; any other failure
/// (r or s zero or not below `n`, mismatch) is `TPM_RC_SIGNATURE`.
pub fn verify_ecdsa(
    curve: Curve,
    public: &EccPoint,
    digest: &[u8],
    sig: &EccSignature,
) -> TpmResult<()> {
    fn go<C: EcdsaCurve + CurveArithmetic>(
        curve: Curve,
        public: &EccPoint,
        z: &[u8],
        sig: &EccSignature,
    ) -> TpmResult<()> {
        let q = affine::<C>(public, curve)?;
        let r = field_bytes::<C>(&sig.r, curve).ok_or(Rc::SIGNATURE)?;
        let s = field_bytes::<C>(&sig.s, curve).ok_or(Rc::SIGNATURE)?;
        let sig = Signature::<C>::from_scalars(r, s).map_err(|_| Rc::SIGNATURE)?;
        verify_prehashed::<C>(&ProjectivePoint::<C>::from(q), z, &sig).map_err(|_| Rc::SIGNATURE)
    }
    on_curve!(curve, go(curve, public, digest, sig))
}

/// EC Schnorr verification (Part 1, 44.3.4.3): `0 < s < n`,
/// `E = [s]G + [-r]Q`, valid if `TRUNC(H(x_E || digest))` equals `r` as a
/// number. A malformed key is `TPM_RC_ECC_POINT`; any other failure is
/// `TPM_RC_SIGNATURE`.
pub fn verify_schnorr(
    curve: Curve,
    hash: HashAlg,
    public: &EccPoint,
    digest: &[u8],
    sig: &EccSignature,
) -> TpmResult<()> {
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "elliptic-curve group and scalar-field operations are modular and cannot overflow"
    )]
    fn go<C: CurveArithmetic>(
        curve: Curve,
        hash: HashAlg,
        public: &EccPoint,
        digest: &[u8],
        sig: &EccSignature,
    ) -> TpmResult<()> {
        let q = affine::<C>(public, curve)?;
        let s = nonzero_scalar::<C>(&sig.s, curve).ok_or(Rc::SIGNATURE)?;
        let r = reduce_scalar::<C>(&sig.r, curve).ok_or(Rc::SIGNATURE)?;
        let e = ProjectivePoint::<C>::generator() * *s - ProjectivePoint::<C>::from(q) * r;
        if bool::from(e.is_identity()) {
            return Err(Rc::SIGNATURE);
        }
        let r2 = schnorr_challenge(hash, &e.to_affine().x(), digest, curve);
        let strip = |v: &[u8]| -> Vec<u8> { v.iter().copied().skip_while(|b| *b == 0).collect() };
        if strip(&r2) == strip(&sig.r) {
            Ok(())
        } else {
            Err(Rc::SIGNATURE)
        }
    }
    on_curve!(curve, go(curve, hash, public, digest, sig))
}

/// Field prime `p` of P-256 (SP 800-186).
const P256_PRIME: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];

/// Field prime `p` of P-384: `2^384 - 2^128 - 2^96 + 2^32 - 1`.
const P384_PRIME: [u8; 48] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
];

/// Field prime `p` of P-521: `2^521 - 1`.
const P521_PRIME: [u8; 66] = {
    let mut p = [0xFFu8; 66];
    p[0] = 0x01;
    p
};

impl Curve {
    /// The field prime `p`, big-endian, [`Curve::size`] octets.
    pub fn prime(self) -> &'static [u8] {
        match self {
            Curve::NistP256 => &P256_PRIME,
            Curve::NistP384 => &P384_PRIME,
            Curve::NistP521 => &P521_PRIME,
        }
    }
}

/// `x mod m` for big-endian octet strings of any length, as exactly `len`
/// octets (`TPM_RC_FAILURE` only if `m` is zero or the result does not fit).
fn reduce_be(x: &[u8], m: &[u8], len: usize) -> TpmResult<Vec<u8>> {
    let octets = x.len().max(m.len()).max(8);
    let bits = u32::try_from(octets.saturating_mul(8)).map_err(|_| Rc::SIZE)?;
    let prec = bits.next_multiple_of(64);
    let xv = Zeroizing::new(BoxedUint::from_be_slice(x, prec).map_err(|_| Rc::FAILURE)?);
    let mv = NonZero::new(BoxedUint::from_be_slice(m, prec).map_err(|_| Rc::FAILURE)?)
        .into_option()
        .ok_or(Rc::FAILURE)?;
    let r = Zeroizing::new(xv.rem(&mv));
    let bytes = Zeroizing::new(r.to_be_bytes());
    fit(&bytes, len).map(|v| v.to_vec()).ok_or(Rc::FAILURE)
}

/// `x mod n` (the group order) of an octet string of any length, as
/// exactly [`Curve::size`] octets: the hash-to-scalar step of ECDAA and of
/// the commit value (Part 1, 44.2.2 and 44.3.3.3).
pub fn reduce_mod_n(curve: Curve, x: &[u8]) -> TpmResult<Vec<u8>> {
    reduce_be(x, curve.order(), curve.size())
}

/// `x mod p` (the field prime) of an octet string of any length, as
/// exactly [`Curve::size`] octets: `x2 := H(s2) mod p` of TPM2_Commit
/// (Part 1, 44.2.3).
pub fn reduce_mod_p(curve: Curve, x: &[u8]) -> TpmResult<Vec<u8>> {
    reduce_be(x, curve.prime(), curve.size())
}

/// Point multiplication `[k]P`, or `[k]G` when `point` is `None`. `k` is
/// at most [`Curve::size`] octets and is taken modulo `n`. A point that is
/// not on the curve is `TPM_RC_ECC_POINT`; a scalar that is zero modulo
/// `n` (the result is the point at infinity) is `TPM_RC_NO_RESULT`; a
/// scalar longer than the curve is `TPM_RC_VALUE`.
pub fn mul(curve: Curve, k: &[u8], point: Option<&EccPoint>) -> TpmResult<EccPoint> {
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "elliptic-curve group and scalar-field operations are modular and cannot overflow"
    )]
    fn go<C: CurveArithmetic>(
        curve: Curve,
        k: &[u8],
        point: Option<&EccPoint>,
    ) -> TpmResult<EccPoint> {
        let base = match point {
            Some(p) => Some(ProjectivePoint::<C>::from(affine::<C>(p, curve)?)),
            None => None,
        };
        let k = Zeroizing::new(reduce_scalar::<C>(k, curve).ok_or(Rc::VALUE)?);
        match base {
            Some(base) => coords::<C>(base * *k),
            // [k]G from the base-point table when the build has one.
            None => coords::<C>(ProjectivePoint::<C>::mul_by_generator(&k)),
        }
    }
    on_curve!(curve, go(curve, k, point))
}

impl EccPrivate {
    /// The second half of an ECDAA signature (Part 1, 44.3.3.3) over `p`
    /// (the digest to sign) with the commit value `r` of TPM2_Commit:
    /// `k` random in `[1, n)` (drawn like a private key, exactly
    /// [`Curve::size`] octets), `T := H(k || p) mod n`,
    /// `s := (r + T d) mod n`, retried if `s = 0`. The signature is
    /// `(k, s)`: `k` goes in `signatureR`.
    pub fn sign_ecdaa(
        &self,
        r: &[u8],
        hash: HashAlg,
        p: &[u8],
        rng: &mut dyn Rng,
    ) -> TpmResult<EccSignature> {
        #[allow(
            clippy::arithmetic_side_effects,
            reason = "elliptic-curve group and scalar-field operations are modular and cannot overflow"
        )]
        fn go<C: CurveArithmetic>(
            d: &[u8],
            curve: Curve,
            r: &[u8],
            hash: HashAlg,
            p: &[u8],
            rng: &mut dyn Rng,
        ) -> TpmResult<EccSignature> {
            let d = nonzero_scalar::<C>(d, curve).ok_or(Rc::FAILURE)?;
            let r = Zeroizing::new(reduce_scalar::<C>(r, curve).ok_or(Rc::VALUE)?);
            for _ in 0..64 {
                let k = derive_scalar(curve, rng)?;
                let t_bytes = reduce_mod_n(curve, &hash.digest_parts(&[k.as_slice(), p]))?;
                let t = reduce_scalar::<C>(&t_bytes, curve).ok_or(Rc::FAILURE)?;
                let s = *r + t * *d;
                if bool::from(s.is_zero()) {
                    continue;
                }
                return Ok(EccSignature {
                    r: k.as_slice().to_vec(),
                    s: s.to_repr().to_vec(),
                });
            }
            Err(Rc::NO_RESULT)
        }
        on_curve!(self.curve, go(&self.d, self.curve, r, hash, p, rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::secret::testing::Sha256Stream;

    fn hex(s: &str) -> Vec<u8> {
        let s: alloc::string::String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn pt(x: &str, y: &str) -> EccPoint {
        EccPoint {
            x: hex(x),
            y: hex(y),
        }
    }

    #[test]
    fn curve_ids_and_orders() {
        for c in Curve::ALL {
            assert_eq!(Curve::from_curve_id(c.curve_id()), Some(c));
            assert_eq!(c.order().len(), c.size());
            // n - 1 is the largest valid private key; n itself is not one.
            let mut n_minus_1 = c.order().to_vec();
            *n_minus_1.last_mut().unwrap() -= 1;
            assert!(EccPrivate::from_bytes(c, &n_minus_1).is_ok());
            assert_eq!(EccPrivate::from_bytes(c, c.order()).unwrap_err(), Rc::VALUE);
        }
        assert_eq!(Curve::from_curve_id(curve::NIST_P224), None);
        // The order constants match the crates': (n - 1) is -1 mod n.
        let mut n1 = P256_ORDER;
        n1[31] -= 1;
        let m1 = Option::<p256::Scalar>::from(p256::Scalar::from_repr(n1.into())).unwrap();
        assert_eq!(m1, -p256::Scalar::ONE);
        let mut n1 = P384_ORDER;
        n1[47] -= 1;
        let m1 = Option::<p384::Scalar>::from(p384::Scalar::from_repr(n1.into())).unwrap();
        assert_eq!(m1, -p384::Scalar::ONE);
        let mut n1 = P521_ORDER;
        n1[65] -= 1;
        let m1 = Option::<p521::Scalar>::from(p521::Scalar::from_repr(n1.into())).unwrap();
        assert_eq!(m1, -p521::Scalar::ONE);
    }

    #[test]
    fn keygen_v1_known_answers() {
        let k = EccPrivate::generate(
            Curve::NistP256,
            &mut Sha256Stream::new(b"vtpm ecc kat p256"),
        )
        .unwrap();
        assert_eq!(k.scalar().as_slice(), hex(KEYGEN_P256_D).as_slice());
        assert_eq!(k.public().unwrap(), pt(KEYGEN_P256_QX, KEYGEN_P256_QY));
        let k = EccPrivate::generate(
            Curve::NistP384,
            &mut Sha256Stream::new(b"vtpm ecc kat p384"),
        )
        .unwrap();
        assert_eq!(k.scalar().as_slice(), hex(KEYGEN_P384_D).as_slice());
        assert_eq!(k.public().unwrap(), pt(KEYGEN_P384_QX, KEYGEN_P384_QY));
        let k = EccPrivate::generate(
            Curve::NistP521,
            &mut Sha256Stream::new(b"vtpm ecc kat p521"),
        )
        .unwrap();
        assert_eq!(k.scalar().as_slice(), hex(KEYGEN_P521_D).as_slice());
        assert_eq!(k.public().unwrap(), pt(KEYGEN_P521_QX, KEYGEN_P521_QY));
        // Degenerate streams still give a valid key: c = 0 gives d = 1, all
        // ones gives some d below n.
        let mut zeros = |out: &mut [u8]| out.fill(0);
        let k = EccPrivate::generate(Curve::NistP256, &mut zeros).unwrap();
        assert_eq!(k.scalar().as_slice()[31], 1);
        let mut ones = |out: &mut [u8]| out.fill(0xFF);
        assert!(EccPrivate::generate(Curve::NistP384, &mut ones).is_ok());
        assert!(EccPrivate::generate(Curve::NistP521, &mut ones).is_ok());
    }

    #[test]
    fn private_key_import_rules() {
        assert_eq!(
            EccPrivate::from_bytes(Curve::NistP256, &[0; 32]).unwrap_err(),
            Rc::VALUE
        );
        assert_eq!(
            EccPrivate::from_bytes(Curve::NistP256, &[1; 33]).unwrap_err(),
            Rc::KEY_SIZE
        );
        let k = EccPrivate::from_bytes(Curve::NistP256, &[0, 0, 7]).unwrap();
        assert_eq!(k.scalar().len(), 32);
        let mut padded = alloc::vec![0u8; 40];
        padded[39] = 7;
        assert_eq!(EccPrivate::from_bytes(Curve::NistP256, &padded).unwrap(), k);
        // Debug never shows d.
        let dbg = alloc::format!("{k:?}");
        assert!(dbg.contains("SecretBytes(<32 bytes>)"));
    }

    #[test]
    fn point_validation() {
        let q = pt(KEYGEN_P256_QX, KEYGEN_P256_QY);
        validate_point(Curve::NistP256, &q).unwrap();
        assert_eq!(validate_point(Curve::NistP384, &q), Err(Rc::ECC_POINT));
        let mut off = q.clone();
        off.y[31] ^= 1;
        assert_eq!(validate_point(Curve::NistP256, &off), Err(Rc::ECC_POINT));
        // A coordinate >= p is rejected even if it is congruent to a good one.
        let p = hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
        assert_eq!(
            validate_point(
                Curve::NistP256,
                &EccPoint {
                    x: p,
                    y: q.y.clone()
                }
            ),
            Err(Rc::ECC_POINT)
        );
        assert_eq!(
            validate_point(
                Curve::NistP256,
                &EccPoint {
                    x: alloc::vec![],
                    y: alloc::vec![]
                }
            ),
            Err(Rc::ECC_POINT)
        );
        assert_eq!(
            validate_point(
                Curve::NistP256,
                &EccPoint {
                    x: [1u8; 33].to_vec(),
                    y: q.y.clone()
                }
            ),
            Err(Rc::ECC_POINT)
        );
        // Leading zeros beyond the size are fine; so is a short coordinate
        // when its value fits (P-384 Q.x starts with 00).
        let long = EccPoint {
            x: [&[0u8, 0][..], &q.x].concat(),
            y: q.y.clone(),
        };
        validate_point(Curve::NistP256, &long).unwrap();
        let q384 = pt(KEYGEN_P384_QX, KEYGEN_P384_QY);
        let short = EccPoint {
            x: q384.x[1..].to_vec(),
            y: q384.y.clone(),
        };
        validate_point(Curve::NistP384, &short).unwrap();
    }

    fn rfc6979(curve: Curve, d: &str, hash: HashAlg, expect: &str) {
        let k = EccPrivate::from_bytes(curve, &hex(d)).unwrap();
        let digest = hash.digest(b"sample");
        let sig = k.sign_ecdsa_with_ad(hash, &digest, &[]).unwrap();
        let e = hex(expect);
        assert_eq!(sig.r, e[..curve.size()], "{curve:?} {hash:?} r");
        assert_eq!(sig.s, e[curve.size()..], "{curve:?} {hash:?} s");
        verify_ecdsa(curve, &k.public().unwrap(), &digest, &sig).unwrap();
    }

    #[test]
    fn ecdsa_rfc6979_known_answers() {
        let d256 = "C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721";
        let k = EccPrivate::from_bytes(Curve::NistP256, &hex(d256)).unwrap();
        assert_eq!(k.public().unwrap().x, hex(RFC6979_P256_QX));
        rfc6979(Curve::NistP256, d256, HashAlg::Sha1, RFC6979_P256_SHA1);
        rfc6979(Curve::NistP256, d256, HashAlg::Sha256, RFC6979_P256_SHA256);
        rfc6979(Curve::NistP256, d256, HashAlg::Sha384, RFC6979_P256_SHA384);
        rfc6979(Curve::NistP256, d256, HashAlg::Sha512, RFC6979_P256_SHA512);
        let d384 = "6B9D3DAD2E1B8C1C05B19875B6659F4DE23C3B667BF297BA9AA47740787137D8 \
                    96D5724E4C70A825F872C9EA60D2EDF5";
        let k = EccPrivate::from_bytes(Curve::NistP384, &hex(d384)).unwrap();
        assert_eq!(k.public().unwrap().x, hex(RFC6979_P384_QX));
        rfc6979(Curve::NistP384, d384, HashAlg::Sha256, RFC6979_P384_SHA256);
        rfc6979(Curve::NistP384, d384, HashAlg::Sha384, RFC6979_P384_SHA384);
        let d521 = "00FAD06DAA62BA3B25D2FB40133DA757205DE67F5BB0018FEE8C86E1B68C7E75CAA896EB32F1F47C70855836A6D16FCC1466F6D8FBEC67DB89EC0C08B0E996B83538";
        let k = EccPrivate::from_bytes(Curve::NistP521, &hex(d521)).unwrap();
        assert_eq!(k.public().unwrap().x, hex(RFC6979_P521_QX));
        rfc6979(Curve::NistP521, d521, HashAlg::Sha256, RFC6979_P521_SHA256);
        rfc6979(Curve::NistP521, d521, HashAlg::Sha512, RFC6979_P521_SHA512);
    }

    #[test]
    fn ecdsa_hedged_sign_and_verify() {
        for (curve, seed) in [
            (Curve::NistP256, &b"vtpm ecc kat p256"[..]),
            (Curve::NistP384, b"vtpm ecc kat p384"),
            (Curve::NistP521, b"vtpm ecc kat p521"),
        ] {
            let k = EccPrivate::generate(curve, &mut Sha256Stream::new(seed)).unwrap();
            let q = k.public().unwrap();
            let mut rng = Sha256Stream::new(b"nonce");
            let d = HashAlg::Sha256.digest(b"message");
            let s1 = k.sign_ecdsa(HashAlg::Sha256, &d, &mut rng).unwrap();
            let s2 = k.sign_ecdsa(HashAlg::Sha256, &d, &mut rng).unwrap();
            assert_ne!(s1, s2, "hedged nonces differ");
            assert_eq!(s1.r.len(), curve.size());
            verify_ecdsa(curve, &q, &d, &s1).unwrap();
            verify_ecdsa(curve, &q, &d, &s2).unwrap();
            let mut bad = s1.clone();
            bad.s[3] ^= 1;
            assert_eq!(verify_ecdsa(curve, &q, &d, &bad), Err(Rc::SIGNATURE));
            let zero = EccSignature {
                r: s1.r.clone(),
                s: alloc::vec![0],
            };
            assert_eq!(verify_ecdsa(curve, &q, &d, &zero), Err(Rc::SIGNATURE));
            let big = EccSignature {
                r: curve.order().to_vec(),
                s: s1.s.clone(),
            };
            assert_eq!(verify_ecdsa(curve, &q, &d, &big), Err(Rc::SIGNATURE));
            let mut d2 = d.clone();
            d2[0] ^= 1;
            assert_eq!(verify_ecdsa(curve, &q, &d2, &s1), Err(Rc::SIGNATURE));
            let mut off = q.clone();
            off.y[5] ^= 1;
            assert_eq!(verify_ecdsa(curve, &off, &d, &s1), Err(Rc::ECC_POINT));
        }
    }

    #[test]
    fn ecdsa_verifies_openssl_signatures() {
        let q = pt(KEYGEN_P256_QX, KEYGEN_P256_QY);
        let d = HashAlg::Sha256.digest(b"vtpm ecdsa interop");
        let sig = EccSignature {
            r: hex(PY_ECDSA_P256_R),
            s: hex(PY_ECDSA_P256_S),
        };
        verify_ecdsa(Curve::NistP256, &q, &d, &sig).unwrap();
        let q = pt(KEYGEN_P384_QX, KEYGEN_P384_QY);
        let d = HashAlg::Sha384.digest(b"vtpm ecdsa interop");
        let sig = EccSignature {
            r: hex(PY_ECDSA_P384_R),
            s: hex(PY_ECDSA_P384_S),
        };
        verify_ecdsa(Curve::NistP384, &q, &d, &sig).unwrap();
        let q = pt(KEYGEN_P521_QX, KEYGEN_P521_QY);
        let d = HashAlg::Sha512.digest(b"vtpm ecdsa interop");
        let sig = EccSignature {
            r: hex(PY_ECDSA_P521_R),
            s: hex(PY_ECDSA_P521_S),
        };
        verify_ecdsa(Curve::NistP521, &q, &d, &sig).unwrap();
    }

    #[test]
    fn ecdh_known_answers_and_symmetry() {
        for (curve, tag, z) in [
            (Curve::NistP256, "p256", ECDH_P256_Z),
            (Curve::NistP384, "p384", ECDH_P384_Z),
            (Curve::NistP521, "p521", ECDH_P521_Z),
        ] {
            let a = EccPrivate::generate(
                curve,
                &mut Sha256Stream::new(alloc::format!("vtpm ecc kat {tag}").as_bytes()),
            )
            .unwrap();
            let b = EccPrivate::generate(
                curve,
                &mut Sha256Stream::new(alloc::format!("vtpm ecc peer {tag}").as_bytes()),
            )
            .unwrap();
            let ab = a.ecdh(&b.public().unwrap()).unwrap();
            let ba = b.ecdh(&a.public().unwrap()).unwrap();
            assert_eq!(ab, ba);
            assert_eq!(ab.x, hex(z));
            validate_point(curve, &ab).unwrap();
            let mut off = b.public().unwrap();
            off.x[7] ^= 0x10;
            assert_eq!(a.ecdh(&off), Err(Rc::ECC_POINT));
        }
    }

    #[test]
    fn schnorr_known_answers_and_verify() {
        for (curve, tag, hash, r, s) in [
            (
                Curve::NistP256,
                "p256",
                HashAlg::Sha256,
                SCHNORR_P256_R,
                SCHNORR_P256_S,
            ),
            (
                Curve::NistP384,
                "p384",
                HashAlg::Sha384,
                SCHNORR_P384_R,
                SCHNORR_P384_S,
            ),
            (
                Curve::NistP521,
                "p521",
                HashAlg::Sha512,
                SCHNORR_P521_R,
                SCHNORR_P521_S,
            ),
        ] {
            let k = EccPrivate::generate(
                curve,
                &mut Sha256Stream::new(alloc::format!("vtpm ecc kat {tag}").as_bytes()),
            )
            .unwrap();
            let q = k.public().unwrap();
            let p = hash.digest(b"vtpm schnorr");
            let mut rng = Sha256Stream::new(alloc::format!("vtpm schnorr k {tag}").as_bytes());
            let sig = k.sign_schnorr(hash, &p, &mut rng).unwrap();
            assert_eq!(
                sig,
                EccSignature {
                    r: hex(r),
                    s: hex(s)
                }
            );
            verify_schnorr(curve, hash, &q, &p, &sig).unwrap();
            // r compares as a number: leading zeros do not matter.
            let padded = EccSignature {
                r: [&[0u8][..], &sig.r].concat(),
                s: sig.s.clone(),
            };
            verify_schnorr(curve, hash, &q, &p, &padded).unwrap();
            let mut bad = sig.clone();
            bad.s[0] ^= 1;
            assert_eq!(
                verify_schnorr(curve, hash, &q, &p, &bad),
                Err(Rc::SIGNATURE)
            );
            let mut p2 = p.clone();
            p2[1] ^= 1;
            assert_eq!(
                verify_schnorr(curve, hash, &q, &p2, &sig),
                Err(Rc::SIGNATURE)
            );
            let zero = EccSignature {
                r: sig.r.clone(),
                s: alloc::vec![0],
            };
            assert_eq!(
                verify_schnorr(curve, hash, &q, &p, &zero),
                Err(Rc::SIGNATURE)
            );
        }
        // SHA-256 challenge on P-384 (shorter than the order): no truncation.
        let k = EccPrivate::generate(Curve::NistP384, &mut Sha256Stream::new(b"x")).unwrap();
        let p = HashAlg::Sha256.digest(b"m");
        let sig = k
            .sign_schnorr(HashAlg::Sha256, &p, &mut Sha256Stream::new(b"k"))
            .unwrap();
        assert_eq!(sig.r.len(), 32);
        verify_schnorr(
            Curve::NistP384,
            HashAlg::Sha256,
            &k.public().unwrap(),
            &p,
            &sig,
        )
        .unwrap();
        // SHA-512 challenge on P-256: truncated to 32 octets.
        let k = EccPrivate::generate(Curve::NistP256, &mut Sha256Stream::new(b"x")).unwrap();
        let p = HashAlg::Sha512.digest(b"m");
        let sig = k
            .sign_schnorr(HashAlg::Sha512, &p, &mut Sha256Stream::new(b"k"))
            .unwrap();
        assert_eq!(sig.r.len(), 32);
        verify_schnorr(
            Curve::NistP256,
            HashAlg::Sha512,
            &k.public().unwrap(),
            &p,
            &sig,
        )
        .unwrap();
    }

    // Test-vector generation (one-off, so it can be redone): Python with
    // `cryptography` (OpenSSL) and textbook affine arithmetic:
    // * KEYGEN_*: d = (c mod (n - 1)) + 1 with c the first len(n) + 64 bits
    //   of Sha256Stream(b"vtpm ecc kat p256" / b"vtpm ecc kat p384"); Q from
    //   OpenSSL's `derive_private_key(d)`.
    // * ECDH_*_Z: OpenSSL ECDH between that key and the one derived from
    //   b"vtpm ecc peer <curve>".
    // * PY_ECDSA_*: OpenSSL random-nonce ECDSA over SHA-256/384 of
    //   b"vtpm ecdsa interop" with the KEYGEN key.
    // * RFC6979_*: OpenSSL `deterministic_signing=True` (RFC 6979) on the
    //   RFC 6979 A.2.5/A.2.6/A.2.7 keys and message "sample" (r || s); the
    //   P-256/SHA-256 pair is the one printed in RFC 6979 A.2.5.
    // * SCHNORR_*: Part 1 44.3.4.2 computed with Python integers, k derived
    //   from Sha256Stream(b"vtpm schnorr k <curve>") like a private key, P =
    //   SHA-256/384(b"vtpm schnorr").

    const KEYGEN_P256_D: &str = "fca64a5e02476e20b998b52d1f5525d10243d7bb2b528aeca13e17fea095d10c";
    const KEYGEN_P256_QX: &str = "483ee3c0b9b335e565c65589701f8b8783c54ca3f7033bfd4913ef3c41bf8ec4";
    const KEYGEN_P256_QY: &str = "7a6f7151fe80da2e2f7472282b80bb2f09c30c7855982d33fd4429b974df8b52";
    const ECDH_P256_Z: &str = "fae72496eee920646d18ad4a157f79023b62c5ba61c502462d05b2fff61a204d";
    const PY_ECDSA_P256_R: &str =
        "8716533231c21e459612bea14aca5523d1c745dfa03c3dc8533b8c11da40a73f";
    const PY_ECDSA_P256_S: &str =
        "31933a68378b6c785bcb3a5882d4866cde80b0ebc349665176660d170b849837";
    const SCHNORR_P256_R: &str = "92e0e9b241601dd2f09e5725f077675a8196d39b716881ef088df0fe51ce7d6d";
    const SCHNORR_P256_S: &str = "5aadb5709b2bb7decff0654c18919460cbbe6d53f2ba6693fba479e020aba663";
    const KEYGEN_P384_D: &str = "8608f8ba9c871890c053b8e3f35ae00f7ed2cce1a26301a4419770212c524b12 \
         8a28a86ad6c6343ad55cfe55d8641374";
    const KEYGEN_P384_QX: &str =
        "006b452f6668d9265f6f8396dfa0aaf6a76890ae4604621ee26e659311fb56e8 \
         3ba7c59f97fa1ffca3d9f4d212becb1d";
    const KEYGEN_P384_QY: &str =
        "0612c548a30254037934fb7deeb4bb279cf6953bb7067065630e7c6dcf4ccf25 \
         5a6916ce2f8e70a013a06f667e666503";
    const ECDH_P384_Z: &str = "3bbbfc7b72d282a2b00faa15281144963b40c5233e5439177da369430a66b889 \
         c3536b27c6586f7016e02de267d1461f";
    const PY_ECDSA_P384_R: &str =
        "8f8623fc55c912285029961b523b184e9bce7a83ee5ef5ec76f66da6ab580b50 \
         a3dec2a8ccd463eddbf77eb9e9d8b2fb";
    const PY_ECDSA_P384_S: &str =
        "c08abb8c8092f5c9a9d6cfd660177e26904a6af8cddaca9c95794a6182d5d289 \
         c002a3ebf82ad2751326a8757f3a6932";
    const SCHNORR_P384_R: &str =
        "10fda4d97255e528d2bba1e99edc920f4a0dc66d9c9e8280b6c085c45601317c \
         9d683b3b65502de5ab37ea54e298094a";
    const SCHNORR_P384_S: &str =
        "c0c91f82be1ad4058b3a2a2b9c892504683a07bd8177d8778e632a4d8d703a28 \
         d98926d7382d7de456b0b894785a3a7d";
    const KEYGEN_P521_D: &str = "01e0ec9c73a84e80f461ea827b7d629b4be612db23f0e521165e1d0feafe99e6 \
         291a34db6498196a18a8581275b48ed5fcdcea3cb9e41d81eb0cfa40be02cc0b \
         385c";
    const KEYGEN_P521_QX: &str =
        "01f8e5cfacb3ad0fa32a9755606b4c17ce65b18b659b5756e788fde4bc1a6229 \
         628a8b533a9e8318a6f9e48ec0c7d4f2a2e504d5ff0f2496c352977da4b9fd90 \
         4c7a";
    const KEYGEN_P521_QY: &str =
        "0170fdf7b0e09aec2646879b7ed7e62bd3bb1a385615056a1d1a391199cd6e33 \
         ff598b461d5c38be9d52f9967016f580e9cda1b733bc1c4922d6b10dde94247e \
         d499";
    const ECDH_P521_Z: &str = "011cf1caf23d93b01d9742cf7ab9a008510ac8d168536c6c8793d72a11e8a02c \
         8c34b42041e73fbbff691f35adbf16ec32495c7f89c5e24fac0b52aa5b9cd506 \
         c114";
    const PY_ECDSA_P521_R: &str =
        "008a368ee2e5bc82f378c5aa75fa7868c4af6721878f4b9488b58b01cc6d1e01 \
         db8f0459182bb58a2682f09a5242671b2d335450e254a81b5ae6bbf1af50626e \
         daad";
    const PY_ECDSA_P521_S: &str =
        "01af71353d3644fc0e47a9b9958ef16a8fee9073ceae37e181e5defdb8dc9801 \
         3a5c601a031d9a3b92392c57e01d264a5088b9396e31bc328d0f66a499d4e0aa \
         7483";
    const SCHNORR_P521_R: &str =
        "fedf9f9b0a3aebfc10c0023138655564803c7e3f2f51f7a4bca8693c5e640b84 \
         28ad1a6a3e217a735141f5fce4c858ffbadb5d3390eea77ae5a968a33126ec61";
    const SCHNORR_P521_S: &str =
        "00f38599b776de17c037558a9cd9cc0e3f5ffcb5398c82915777efc6b014057a \
         a557724e211e557f7b3779983065e29a301b2b436b648a99bf13bce574e2a940 \
         13ba";
    const RFC6979_P256_SHA1: &str =
        "61340c88c3aaebeb4f6d667f672ca9759a6ccaa9fa8811313039ee4a35471d32 \
         6d7f147dac089441bb2e2fe8f7a3fa264b9c475098fdcf6e00d7c996e1b8b7eb";
    const RFC6979_P256_SHA256: &str =
        "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716 \
         f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8";
    const RFC6979_P256_SHA384: &str =
        "0eafea039b20e9b42309fb1d89e213057cbf973dc0cfc8f129edddc800ef7719 \
         4861f0491e6998b9455193e34e7b0d284ddd7149a74b95b9261f13abde940954";
    const RFC6979_P256_SHA512: &str =
        "8496a60b5e9b47c825488827e0495b0e3fa109ec4568fd3f8d1097678eb97f00 \
         2362ab1adbe2b8adf9cb9edab740ea6049c028114f2460f96554f61fae3302fe";
    const RFC6979_P256_QX: &str =
        "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6";
    const RFC6979_P521_SHA256: &str =
        "01511bb4d675114fe266fc4372b87682baecc01d3cc62cf2303c92b352601265 \
         9d16876e25c7c1e57648f23b73564d67f61c6f14d527d54972810421e7d87589 \
         e1a7004a171143a83163d6df460aaf61522695f207a58b95c0644d87e52aa1a3 \
         47916e4f7a72930b1bc06dbe22ce3f58264afd23704cbb63b29b931f7de6c9d9 \
         49a7ecfc";
    const RFC6979_P521_SHA512: &str =
        "00c328fafcbd79dd77850370c46325d987cb525569fb63c5d3bc53950e6d4c5f \
         174e25a1ee9017b5d450606add152b534931d7d4e8455cc91f9b15bf05ec36e3 \
         77fa00617cce7cf5064806c467f678d3b4080d6f1cc50af26ca209417308281b \
         68af282623eaa63e5b5c0723d8b8c37ff0777b1a20f8ccb1dccc43997f1ee0e4 \
         4da4a67a";
    const RFC6979_P521_QX: &str =
        "01894550d0785932e00eaa23b694f213f8c3121f86dc97a04e5a7167db4e5bcd \
         371123d46e45db6b5d5370a7f20fb633155d38ffa16d2bd761dcac474b9a2f50 \
         23a4";
    const RFC6979_P384_SHA256: &str =
        "21b13d1e013c7fa1392d03c5f99af8b30c570c6f98d4ea8e354b63a21d3daa33 \
         bde1e888e63355d92fa2b3c36d8fb2cdf3aa443fb107745bf4bd77cb38916746 \
         32068a10ca67e3d45db2266fa7d1feebefdc63eccd1ac42ec0cb8668a4fa0ab0";
    const RFC6979_P384_SHA384: &str =
        "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c \
         81a648152e44acf96e36dd1e80fabe4699ef4aeb15f178cea1fe40db2603138f \
         130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8";
    const RFC6979_P384_QX: &str =
        "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64 \
         def8f0ea9055866064a254515480bc13";
}
