//! Part 3, 14: Asymmetric Primitives (`TPM2_RSA_Encrypt`,
//! `TPM2_RSA_Decrypt`, `TPM2_ECDH_KeyGen`, `TPM2_ECDH_ZGen`,
//! `TPM2_ECC_Parameters`).

use alloc::vec::Vec;

use super::Command;
use crate::crypto::ecc::{Curve, EccPoint, EccPrivate};
use crate::crypto::rsa::RsaPublic;
use crate::crypto::HashAlg;
use crate::engine::Ctx;
use crate::object::Object;
use crate::tpm_params;
use crate::wire::consts::alg;
use crate::wire::object::{oa, read_sized, Unique, MAX_ECC};
use crate::wire::public::{Kdf, PublicParms, Scheme, CURVES};
use crate::wire::signature::PublicKeyRsa2b;
use crate::wire::types::{Data2b, Tpm2b};
use crate::wire::{EccCurve, Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// `TPM2B_ECC_POINT`: a size-prefixed `TPMS_ECC_POINT` (a zero size or a
/// size that does not match the point is `TPM_RC_SIZE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EccPoint2b(pub EccPoint);

impl Unmarshal for EccPoint2b {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        read_sized(r, |r| {
            let x = r.tpm2b(MAX_ECC)?.to_vec();
            let y = r.tpm2b(MAX_ECC)?.to_vec();
            Ok(EccPoint2b(EccPoint { x, y }))
        })
    }
}

impl Marshal for EccPoint2b {
    fn marshal(&self, w: &mut Writer) {
        w.sized(|w| {
            w.tpm2b(&self.0.x);
            w.tpm2b(&self.0.y);
        });
    }
}

/// `TPMT_RSA_DECRYPT+`: RSAES, OAEP (with a hash) or NULL; any other
/// selector is `TPM_RC_VALUE` (`TPMI_ALG_RSA_DECRYPT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RsaDecryptScheme(pub Scheme);

impl Unmarshal for RsaDecryptScheme {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Scheme::read(r, &[alg::NULL, alg::RSAES, alg::OAEP], Rc::VALUE).map(RsaDecryptScheme)
    }
}

impl Marshal for RsaDecryptScheme {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.0);
    }
}

/// Padding selection of Part 3, 14.2 (Table 42; the reference's
/// `CryptRsaSelectScheme`): the key's scheme wins when set, the caller's
/// may only repeat it; with no key scheme the caller's is used (NULL
/// meaning raw RSA). Two different schemes are `None`.
fn select_rsa_scheme(key: Scheme, requested: Scheme) -> Option<Scheme> {
    match (key, requested) {
        (Scheme::Null, r) => Some(r),
        (k, Scheme::Null) => Some(k),
        (k, r) if k == r => Some(k),
        _ => None,
    }
}

/// A label is either absent or a NUL-terminated string (Part 3, 14.2).
fn label_ok(label: &[u8]) -> bool {
    label.last().is_none_or(|b| *b == 0)
}

/// The RSA public key and scheme of an RSA object (`TPM_RC_KEY` on handle
/// 1 for anything else).
fn rsa_key(key: &Object) -> TpmResult<(RsaPublic, Scheme)> {
    let (
        PublicParms::Rsa {
            scheme, exponent, ..
        },
        Unique::Rsa(n),
    ) = (&key.public.parms, &key.public.unique)
    else {
        return Err(Rc::KEY.handle(1));
    };
    let public = RsaPublic::new(n, *exponent).map_err(|_| Rc::KEY.handle(1))?;
    Ok((public, *scheme))
}

tpm_params! {
    /// `TPM2_RSA_Encrypt` parameters.
    pub struct RsaEncryptIn {
        /// The message.
        pub message: PublicKeyRsa2b,
        /// Padding when the key has none.
        pub in_scheme: RsaDecryptScheme,
        /// Optional OAEP label (NUL-terminated).
        pub label: Data2b,
    }
}

tpm_params! {
    /// `TPM2_RSA_Encrypt` response.
    pub struct RsaEncryptOut {
        /// The ciphertext.
        pub out_data: PublicKeyRsa2b,
    }
}

/// `TPM2_RSA_Encrypt` (Part 3, 14.2). Only the public area is needed. The
/// key must be RSA (`TPM_RC_KEY`) with `decrypt` SET
/// (`TPM_RC_ATTRIBUTES`, as the reference checks); a label must end in
/// zero (`TPM_RC_VALUE`); a message too long for the padding is
/// `TPM_RC_VALUE`.
#[derive(Debug)]
#[doc(alias = "TPM2_RSA_Encrypt")]
pub struct RsaEncrypt;

impl Command for RsaEncrypt {
    type In = RsaEncryptIn;
    type Out = RsaEncryptOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: RsaEncryptIn) -> TpmResult<RsaEncryptOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        let (public, key_scheme) = rsa_key(key)?;
        if !key.public.has(oa::DECRYPT) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        let label = input.label.as_slice();
        if !label_ok(label) {
            return Err(Rc::VALUE.param(3));
        }
        let scheme = select_rsa_scheme(key_scheme, input.in_scheme.0).ok_or(Rc::SCHEME.param(2))?;
        let message = input.message.as_slice();
        let out = match scheme {
            Scheme::Null => {
                // Leading zero octets do not count (the value is a number).
                let start = message
                    .iter()
                    .position(|b| *b != 0)
                    .unwrap_or(message.len());
                public.encrypt_raw(message.get(start..).unwrap_or_default())?
            }
            Scheme::Rsaes => public.encrypt_pkcs1v15(message, &mut ctx.v.drbg)?,
            Scheme::Oaep(hash) => public.encrypt_oaep(hash, label, message, &mut ctx.v.drbg)?,
            _ => return Err(Rc::SCHEME.param(2)),
        };
        Ok(RsaEncryptOut {
            out_data: Tpm2b(out),
        })
    }
}

tpm_params! {
    /// `TPM2_RSA_Decrypt` parameters.
    pub struct RsaDecryptIn {
        /// The ciphertext (the size of the modulus).
        pub cipher_text: PublicKeyRsa2b,
        /// Padding when the key has none.
        pub in_scheme: RsaDecryptScheme,
        /// Label (NUL-terminated or empty).
        pub label: Data2b,
    }
}

tpm_params! {
    /// `TPM2_RSA_Decrypt` response.
    pub struct RsaDecryptOut {
        /// The recovered message.
        pub message: PublicKeyRsa2b,
    }
}

/// `TPM2_RSA_Decrypt` (Part 3, 14.3). The key must be RSA (`TPM_RC_KEY`),
/// unrestricted with `decrypt` (`TPM_RC_ATTRIBUTES`). A ciphertext that
/// is not the size of the modulus is `TPM_RC_SIZE`; every other failure
/// (value not below n, bad padding, wrong label) is the one
/// `TPM_RC_VALUE`, decided in constant time by the crypto layer.
#[derive(Debug)]
#[doc(alias = "TPM2_RSA_Decrypt")]
pub struct RsaDecrypt;

impl Command for RsaDecrypt {
    type In = RsaDecryptIn;
    type Out = RsaDecryptOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: RsaDecryptIn) -> TpmResult<RsaDecryptOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        let (_, key_scheme) = rsa_key(key)?;
        if key.public.has(oa::RESTRICTED) || !key.public.has(oa::DECRYPT) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        let label = input.label.as_slice();
        if !label_ok(label) {
            return Err(Rc::VALUE.param(3));
        }
        let scheme = select_rsa_scheme(key_scheme, input.in_scheme.0).ok_or(Rc::SCHEME.param(2))?;
        if key.sensitive.is_none() {
            return Err(Rc::AUTH_UNAVAILABLE);
        }
        let private = key.rsa_private()?;
        let c = input.cipher_text.as_slice();
        let rng = &mut ctx.v.drbg;
        let m = match scheme {
            Scheme::Null => private.decrypt_raw(c, rng)?,
            Scheme::Rsaes => private.decrypt_pkcs1v15(c, rng)?,
            Scheme::Oaep(hash) => private.decrypt_oaep(hash, label, c, rng)?,
            _ => return Err(Rc::SCHEME.param(2)),
        };
        Ok(RsaDecryptOut {
            message: Tpm2b(m.as_slice().to_vec()),
        })
    }
}

/// The curve and public point of an ECC object (`TPM_RC_KEY` on handle 1
/// for anything else).
fn ecc_key(key: &Object) -> TpmResult<(Curve, EccPoint)> {
    let (PublicParms::Ecc { curve, .. }, Unique::Ecc { x, y }) =
        (&key.public.parms, &key.public.unique)
    else {
        return Err(Rc::KEY.handle(1));
    };
    let c = Curve::from_curve_id(*curve).ok_or(Rc::KEY.handle(1))?;
    Ok((
        c,
        EccPoint {
            x: x.clone(),
            y: y.clone(),
        },
    ))
}

tpm_params! {
    /// `TPM2_ECDH_KeyGen` response.
    pub struct EcdhKeyGenOut {
        /// `zPoint` = [de]Qs.
        pub z_point: EccPoint2b,
        /// `pubPoint` = Qe = [de]G.
        pub pub_point: EccPoint2b,
    }
}

/// `TPM2_ECDH_KeyGen` (Part 3, 14.4): an ephemeral key pair on the key's
/// curve and the shared point with the key's public point. Only the
/// public key is used, so any ECC key will do (as in the reference; the
/// tools' tests use an ECDAA signing key); a public point that is not on
/// the curve is `TPM_RC_KEY`.
#[derive(Debug)]
#[doc(alias = "TPM2_ECDH_KeyGen")]
pub struct EcdhKeyGen;

impl Command for EcdhKeyGen {
    type In = super::NoParams;
    type Out = EcdhKeyGenOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: super::NoParams) -> TpmResult<EcdhKeyGenOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        let (curve, qs) = ecc_key(key)?;
        // The point at infinity needs a new ephemeral key; it does not
        // happen on prime-order curves, so a few tries bound the loop.
        for _ in 0..8 {
            let de = EccPrivate::generate(curve, &mut ctx.v.drbg)?;
            let qe = de.public()?;
            match de.ecdh(&qs) {
                Ok(z) => {
                    return Ok(EcdhKeyGenOut {
                        z_point: EccPoint2b(z),
                        pub_point: EccPoint2b(qe),
                    })
                }
                Err(Rc::NO_RESULT) => continue,
                Err(Rc::ECC_POINT) => return Err(Rc::KEY.handle(1)),
                Err(e) => return Err(e),
            }
        }
        Err(Rc::NO_RESULT)
    }
}

tpm_params! {
    /// `TPM2_ECDH_ZGen` parameters.
    pub struct EcdhZGenIn {
        /// `inPoint`: the peer's public point.
        pub in_point: EccPoint2b,
    }
}

tpm_params! {
    /// `TPM2_ECDH_ZGen` response.
    pub struct EcdhZGenOut {
        /// `outPoint` = [ds]QB.
        pub out_point: EccPoint2b,
    }
}

/// `TPM2_ECDH_ZGen` (Part 3, 14.5). The key must be ECC (`TPM_RC_KEY`),
/// unrestricted with `decrypt` (`TPM_RC_ATTRIBUTES`), with scheme ECDH or
/// NULL (`TPM_RC_SCHEME`); `inPoint` must be on its curve
/// (`TPM_RC_ECC_POINT` on parameter 1).
#[derive(Debug)]
#[doc(alias = "TPM2_ECDH_ZGen")]
pub struct EcdhZGen;

impl Command for EcdhZGen {
    type In = EcdhZGenIn;
    type Out = EcdhZGenOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: EcdhZGenIn) -> TpmResult<EcdhZGenOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        let (curve, _) = ecc_key(key)?;
        if key.public.has(oa::RESTRICTED) || !key.public.has(oa::DECRYPT) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        if let PublicParms::Ecc { scheme, .. } = &key.public.parms {
            if !matches!(scheme, Scheme::Null | Scheme::Ecdh(_)) {
                return Err(Rc::SCHEME.handle(1));
            }
        }
        let sens = key.sensitive.as_ref().ok_or(Rc::AUTH_UNAVAILABLE)?;
        let d = EccPrivate::from_bytes(curve, &sens.sensitive)?;
        let z = d.ecdh(&input.in_point.0).map_err(|e| e.param(1))?;
        Ok(EcdhZGenOut {
            out_point: EccPoint2b(z),
        })
    }
}

/// `TPMI_ECC_CURVE`: a curve this TPM implements (`TPM_RC_CURVE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EccCurveParam(pub EccCurve);

impl Unmarshal for EccCurveParam {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let c: EccCurve = r.read()?;
        if CURVES.contains(&c) {
            Ok(EccCurveParam(c))
        } else {
            Err(Rc::CURVE)
        }
    }
}

impl Marshal for EccCurveParam {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.0);
    }
}

tpm_params! {
    /// `TPM2_ECC_Parameters` parameters.
    pub struct EccParametersIn {
        /// `curveID`.
        pub curve_id: EccCurveParam,
    }
}

/// `TPMS_ALGORITHM_DETAIL_ECC` (Part 2, 11.2.5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlgorithmDetailEcc {
    /// The curve.
    pub curve_id: EccCurve,
    /// Key size in bits.
    pub key_size: u16,
    /// The curve's KDF.
    pub kdf: Kdf,
    /// The curve's signing scheme (NULL: none is mandated).
    pub sign: Scheme,
    /// Field modulus.
    pub p: Vec<u8>,
    /// Coefficient a.
    pub a: Vec<u8>,
    /// Coefficient b.
    pub b: Vec<u8>,
    /// Generator x.
    pub gx: Vec<u8>,
    /// Generator y.
    pub gy: Vec<u8>,
    /// Group order.
    pub n: Vec<u8>,
    /// Cofactor.
    pub h: Vec<u8>,
}

impl Marshal for AlgorithmDetailEcc {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.curve_id);
        w.u16(self.key_size);
        w.write(&self.kdf);
        w.write(&self.sign);
        for v in [
            &self.p, &self.a, &self.b, &self.gx, &self.gy, &self.n, &self.h,
        ] {
            w.tpm2b(v);
        }
    }
}

/// `TPM2_ECC_Parameters` response.
#[derive(Debug)]
pub struct EccParametersOut {
    /// The curve's parameters.
    pub parameters: AlgorithmDetailEcc,
}

impl super::ToParams for EccParametersOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.write(&self.parameters);
    }
}

/// The parameters of a curve this TPM implements (SP 800-186, 3.2.1.3 and
/// 3.2.1.4). The KDF is the reference's (KDF1_SP800_56A with the curve's
/// matching hash); no signing scheme is mandated.
pub fn ecc_parameters(c: Curve) -> Option<AlgorithmDetailEcc> {
    let ([p, a, b, gx, gy, n], hash): ([&[u8]; 6], HashAlg) = match c {
        Curve::NistP256 => (
            [&P256_P, &P256_A, &P256_B, &P256_GX, &P256_GY, &P256_N],
            HashAlg::Sha256,
        ),
        Curve::NistP384 => (
            [&P384_P, &P384_A, &P384_B, &P384_GX, &P384_GY, &P384_N],
            HashAlg::Sha384,
        ),
        Curve::NistP521 => return None,
    };
    Some(AlgorithmDetailEcc {
        curve_id: c.curve_id(),
        key_size: c.key_bits(),
        kdf: Kdf::Sp800_56a(hash),
        sign: Scheme::Null,
        p: p.to_vec(),
        a: a.to_vec(),
        b: b.to_vec(),
        gx: gx.to_vec(),
        gy: gy.to_vec(),
        n: n.to_vec(),
        h: alloc::vec![1],
    })
}

/// `TPM2_ECC_Parameters` (Part 3, 14.6).
#[derive(Debug)]
#[doc(alias = "TPM2_ECC_Parameters")]
pub struct EccParameters;

impl Command for EccParameters {
    type In = EccParametersIn;
    type Out = EccParametersOut;
    fn run(_: &mut Ctx<'_>, _: &[Handle], input: EccParametersIn) -> TpmResult<EccParametersOut> {
        let parameters = Curve::from_curve_id(input.curve_id.0)
            .and_then(ecc_parameters)
            .ok_or(Rc::CURVE.param(1))?;
        Ok(EccParametersOut { parameters })
    }
}

const P256_P: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
];
const P256_A: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFC,
];
const P256_B: [u8; 32] = [
    0x5A, 0xC6, 0x35, 0xD8, 0xAA, 0x3A, 0x93, 0xE7, 0xB3, 0xEB, 0xBD, 0x55, 0x76, 0x98, 0x86, 0xBC,
    0x65, 0x1D, 0x06, 0xB0, 0xCC, 0x53, 0xB0, 0xF6, 0x3B, 0xCE, 0x3C, 0x3E, 0x27, 0xD2, 0x60, 0x4B,
];
const P256_GX: [u8; 32] = [
    0x6B, 0x17, 0xD1, 0xF2, 0xE1, 0x2C, 0x42, 0x47, 0xF8, 0xBC, 0xE6, 0xE5, 0x63, 0xA4, 0x40, 0xF2,
    0x77, 0x03, 0x7D, 0x81, 0x2D, 0xEB, 0x33, 0xA0, 0xF4, 0xA1, 0x39, 0x45, 0xD8, 0x98, 0xC2, 0x96,
];
const P256_GY: [u8; 32] = [
    0x4F, 0xE3, 0x42, 0xE2, 0xFE, 0x1A, 0x7F, 0x9B, 0x8E, 0xE7, 0xEB, 0x4A, 0x7C, 0x0F, 0x9E, 0x16,
    0x2B, 0xCE, 0x33, 0x57, 0x6B, 0x31, 0x5E, 0xCE, 0xCB, 0xB6, 0x40, 0x68, 0x37, 0xBF, 0x51, 0xF5,
];
const P256_N: [u8; 32] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
];
const P384_P: [u8; 48] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
];
const P384_A: [u8; 48] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,
    0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFC,
];
const P384_B: [u8; 48] = [
    0xB3, 0x31, 0x2F, 0xA7, 0xE2, 0x3E, 0xE7, 0xE4, 0x98, 0x8E, 0x05, 0x6B, 0xE3, 0xF8, 0x2D, 0x19,
    0x18, 0x1D, 0x9C, 0x6E, 0xFE, 0x81, 0x41, 0x12, 0x03, 0x14, 0x08, 0x8F, 0x50, 0x13, 0x87, 0x5A,
    0xC6, 0x56, 0x39, 0x8D, 0x8A, 0x2E, 0xD1, 0x9D, 0x2A, 0x85, 0xC8, 0xED, 0xD3, 0xEC, 0x2A, 0xEF,
];
const P384_GX: [u8; 48] = [
    0xAA, 0x87, 0xCA, 0x22, 0xBE, 0x8B, 0x05, 0x37, 0x8E, 0xB1, 0xC7, 0x1E, 0xF3, 0x20, 0xAD, 0x74,
    0x6E, 0x1D, 0x3B, 0x62, 0x8B, 0xA7, 0x9B, 0x98, 0x59, 0xF7, 0x41, 0xE0, 0x82, 0x54, 0x2A, 0x38,
    0x55, 0x02, 0xF2, 0x5D, 0xBF, 0x55, 0x29, 0x6C, 0x3A, 0x54, 0x5E, 0x38, 0x72, 0x76, 0x0A, 0xB7,
];
const P384_GY: [u8; 48] = [
    0x36, 0x17, 0xDE, 0x4A, 0x96, 0x26, 0x2C, 0x6F, 0x5D, 0x9E, 0x98, 0xBF, 0x92, 0x92, 0xDC, 0x29,
    0xF8, 0xF4, 0x1D, 0xBD, 0x28, 0x9A, 0x14, 0x7C, 0xE9, 0xDA, 0x31, 0x13, 0xB5, 0xF0, 0xB8, 0xC0,
    0x0A, 0x60, 0xB1, 0xCE, 0x1D, 0x7E, 0x81, 0x9D, 0x7A, 0x43, 0x1D, 0x7C, 0x90, 0xEA, 0x0E, 0x5F,
];
const P384_N: [u8; 48] = [
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xC7, 0x63, 0x4D, 0x81, 0xF4, 0x37, 0x2D, 0xDF,
    0x58, 0x1A, 0x0D, 0xB2, 0x48, 0xB0, 0xA7, 0x7A, 0xEC, 0xEC, 0x19, 0x6A, 0xCC, 0xC5, 0x29, 0x73,
];

#[cfg(test)]
mod tests {
    use super::*;
    use p256::elliptic_curve::point::AffineCoordinates;

    #[test]
    fn curve_constants_match_the_curve_crates() {
        let g256 = p256::AffinePoint::GENERATOR;
        assert_eq!(g256.x().to_vec(), P256_GX.to_vec());
        assert_eq!(g256.y().to_vec(), P256_GY.to_vec());
        let g384 = p384::AffinePoint::GENERATOR;
        assert_eq!(g384.x().to_vec(), P384_GX.to_vec());
        assert_eq!(g384.y().to_vec(), P384_GY.to_vec());
        assert_eq!(Curve::NistP256.order(), P256_N);
        assert_eq!(Curve::NistP384.order(), P384_N);
    }

    #[test]
    fn select_rsa_scheme_follows_table_42() {
        let oaep = Scheme::Oaep(HashAlg::Sha256);
        assert_eq!(
            select_rsa_scheme(Scheme::Null, Scheme::Null),
            Some(Scheme::Null)
        );
        assert_eq!(select_rsa_scheme(Scheme::Null, oaep), Some(oaep));
        assert_eq!(
            select_rsa_scheme(Scheme::Rsaes, Scheme::Null),
            Some(Scheme::Rsaes)
        );
        assert_eq!(select_rsa_scheme(Scheme::Rsaes, oaep), None);
        assert_eq!(select_rsa_scheme(oaep, Scheme::Rsaes), None);
        assert_eq!(select_rsa_scheme(oaep, oaep), Some(oaep));
        assert_eq!(select_rsa_scheme(oaep, Scheme::Oaep(HashAlg::Sha1)), None);
    }
}
