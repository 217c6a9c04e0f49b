//! Part 2, 11-12: algorithm parameters of keys (`TPMT_PUBLIC_PARMS` and its
//! parts), shared by `TPM2_TestParms` and `TPMT_PUBLIC`.
//!
//! Each selector is checked against what this TPM implements, with the
//! response code the Part 2 `TPMI_` type names.

use super::consts::{alg, curve};
use super::{AlgId, EccCurve, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};
use crate::crypto::HashAlg;

/// `TPMT_SYM_DEF_OBJECT` (and `TPMT_SYM_DEF`, which also allows XOR).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SymDef {
    /// `TPM_ALG_NULL`.
    Null,
    /// AES with a key size (128, 192, 256) and a mode.
    Aes {
        /// Key bits.
        key_bits: u16,
        /// Block mode (`TPM_ALG_CFB`, ... or NULL where allowed).
        mode: AlgId,
    },
    /// XOR obfuscation with a hash (only in `TPMT_SYM_DEF`).
    Xor(HashAlg),
}

/// Is `m` a block mode this TPM implements (`TPMI_ALG_SYM_MODE`)?
pub fn is_sym_mode(m: AlgId) -> bool {
    matches!(m, alg::CTR | alg::OFB | alg::CBC | alg::CFB | alg::ECB)
}

impl SymDef {
    /// Read a `TPMT_SYM_DEF_OBJECT+` (`xor` false) or `TPMT_SYM_DEF+` (`xor` true).
    pub fn read(r: &mut Reader<'_>, xor: bool) -> TpmResult<Self> {
        let a: AlgId = r.read()?;
        match a {
            alg::NULL => Ok(SymDef::Null),
            alg::AES => {
                let key_bits = r.u16()?;
                if !matches!(key_bits, 128 | 192 | 256) {
                    return Err(Rc::VALUE);
                }
                let mode: AlgId = r.read()?;
                if !is_sym_mode(mode) && mode != alg::NULL {
                    return Err(Rc::MODE);
                }
                Ok(SymDef::Aes { key_bits, mode })
            }
            alg::XOR if xor => Ok(SymDef::Xor(r.read()?)),
            _ => Err(Rc::SYMMETRIC),
        }
    }
}

impl Marshal for SymDef {
    fn marshal(&self, w: &mut Writer) {
        match self {
            SymDef::Null => w.write(&alg::NULL),
            SymDef::Aes { key_bits, mode } => {
                w.write(&alg::AES);
                w.u16(*key_bits);
                w.write(mode);
            }
            SymDef::Xor(h) => {
                w.write(&alg::XOR);
                w.write(h);
            }
        }
    }
}

/// `TPMT_RSA_SCHEME` / `TPMT_ECC_SCHEME` / `TPMT_SIG_SCHEME` / ...: a scheme
/// and its hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Scheme {
    /// `TPM_ALG_NULL`.
    Null,
    /// RSASSA-PKCS1-v1_5.
    Rsassa(HashAlg),
    /// RSA-PSS.
    Rsapss(HashAlg),
    /// RSAES-PKCS1-v1_5.
    Rsaes,
    /// RSA-OAEP.
    Oaep(HashAlg),
    /// ECDSA.
    Ecdsa(HashAlg),
    /// ECDH.
    Ecdh(HashAlg),
    /// EC-Schnorr.
    Ecschnorr(HashAlg),
    /// HMAC (keyed-hash objects, `TPMT_SIG_SCHEME`).
    Hmac(HashAlg),
    /// ECDAA (`TPMS_SCHEME_ECDAA`): the hash and the commit `count` of
    /// TPM2_Commit (Part 1, 44.3.3). Last, so that states serialized
    /// before it was added keep their variant numbers.
    Ecdaa {
        /// `hashAlg`.
        hash: HashAlg,
        /// `count`: the counter returned by TPM2_Commit.
        count: u16,
    },
}

impl Scheme {
    /// The scheme's algorithm identifier.
    pub fn alg_id(&self) -> AlgId {
        match self {
            Scheme::Null => alg::NULL,
            Scheme::Rsassa(_) => alg::RSASSA,
            Scheme::Rsapss(_) => alg::RSAPSS,
            Scheme::Rsaes => alg::RSAES,
            Scheme::Oaep(_) => alg::OAEP,
            Scheme::Ecdsa(_) => alg::ECDSA,
            Scheme::Ecdh(_) => alg::ECDH,
            Scheme::Ecschnorr(_) => alg::ECSCHNORR,
            Scheme::Hmac(_) => alg::HMAC,
            Scheme::Ecdaa { .. } => alg::ECDAA,
        }
    }

    /// The scheme's hash, if it has one.
    pub fn hash(&self) -> Option<HashAlg> {
        match self {
            Scheme::Null | Scheme::Rsaes => None,
            Scheme::Rsassa(h)
            | Scheme::Rsapss(h)
            | Scheme::Oaep(h)
            | Scheme::Ecdsa(h)
            | Scheme::Ecdh(h)
            | Scheme::Ecschnorr(h)
            | Scheme::Hmac(h) => Some(*h),
            Scheme::Ecdaa { hash, .. } => Some(*hash),
        }
    }

    /// Read a scheme whose selector must be one of `allowed` (else `bad`).
    pub fn read(r: &mut Reader<'_>, allowed: &[AlgId], bad: Rc) -> TpmResult<Self> {
        let a: AlgId = r.read()?;
        if !allowed.contains(&a) {
            return Err(bad);
        }
        Ok(match a {
            alg::NULL => Scheme::Null,
            alg::RSAES => Scheme::Rsaes,
            alg::RSASSA => Scheme::Rsassa(r.read()?),
            alg::RSAPSS => Scheme::Rsapss(r.read()?),
            alg::OAEP => Scheme::Oaep(r.read()?),
            alg::ECDSA => Scheme::Ecdsa(r.read()?),
            alg::ECDH => Scheme::Ecdh(r.read()?),
            alg::ECSCHNORR => Scheme::Ecschnorr(r.read()?),
            alg::HMAC => Scheme::Hmac(r.read()?),
            alg::ECDAA => Scheme::Ecdaa {
                hash: r.read()?,
                count: r.u16()?,
            },
            _ => return Err(bad),
        })
    }
}

impl Marshal for Scheme {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.alg_id());
        if let Some(h) = self.hash() {
            w.write(&h);
        }
        if let Scheme::Ecdaa { count, .. } = self {
            w.u16(*count);
        }
    }
}

/// RSA schemes (`TPMI_ALG_RSA_SCHEME+`).
pub const RSA_SCHEMES: &[AlgId] = &[alg::NULL, alg::RSASSA, alg::RSAPSS, alg::RSAES, alg::OAEP];
/// ECC schemes (`TPMI_ALG_ECC_SCHEME+`).
pub const ECC_SCHEMES: &[AlgId] = &[alg::NULL, alg::ECDSA, alg::ECDH, alg::ECSCHNORR, alg::ECDAA];

/// `TPMT_KDF_SCHEME+`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kdf {
    /// `TPM_ALG_NULL`.
    Null,
    /// MGF1.
    Mgf1(HashAlg),
    /// KDF1 of SP 800-56A.
    Sp800_56a(HashAlg),
    /// KDF1 of SP 800-108.
    Sp800_108(HashAlg),
    /// KDF2 of ISO/IEC 18033-2 (the KDF of TPM2_ECC_Encrypt; Part 1,
    /// 45.2.4). Last, so that serialized states keep their variant numbers.
    Kdf2(HashAlg),
}

impl Unmarshal for Kdf {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let a: AlgId = r.read()?;
        Ok(match a {
            alg::NULL => Kdf::Null,
            alg::MGF1 => Kdf::Mgf1(r.read()?),
            alg::KDF1_SP800_56A => Kdf::Sp800_56a(r.read()?),
            alg::KDF1_SP800_108 => Kdf::Sp800_108(r.read()?),
            alg::KDF2 => Kdf::Kdf2(r.read()?),
            _ => return Err(Rc::KDF),
        })
    }
}

impl Marshal for Kdf {
    fn marshal(&self, w: &mut Writer) {
        match self {
            Kdf::Null => w.write(&alg::NULL),
            Kdf::Mgf1(h) => {
                w.write(&alg::MGF1);
                w.write(h);
            }
            Kdf::Sp800_56a(h) => {
                w.write(&alg::KDF1_SP800_56A);
                w.write(h);
            }
            Kdf::Sp800_108(h) => {
                w.write(&alg::KDF1_SP800_108);
                w.write(h);
            }
            Kdf::Kdf2(h) => {
                w.write(&alg::KDF2);
                w.write(h);
            }
        }
    }
}

/// `TPMT_KEYEDHASH_SCHEME+`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyedHashScheme {
    /// `TPM_ALG_NULL` (sealed data or an unrestricted key).
    Null,
    /// HMAC with a hash.
    Hmac(HashAlg),
    /// XOR with a hash and a KDF (only KDF1_SP800_108 is implemented).
    Xor(HashAlg, AlgId),
}

impl Unmarshal for KeyedHashScheme {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let a: AlgId = r.read()?;
        Ok(match a {
            alg::NULL => KeyedHashScheme::Null,
            alg::HMAC => KeyedHashScheme::Hmac(r.read()?),
            alg::XOR => {
                let h = r.read()?;
                let kdf: AlgId = r.read()?;
                if kdf != alg::KDF1_SP800_108 {
                    return Err(Rc::KDF);
                }
                KeyedHashScheme::Xor(h, kdf)
            }
            _ => return Err(Rc::VALUE),
        })
    }
}

impl Marshal for KeyedHashScheme {
    fn marshal(&self, w: &mut Writer) {
        match self {
            KeyedHashScheme::Null => w.write(&alg::NULL),
            KeyedHashScheme::Hmac(h) => {
                w.write(&alg::HMAC);
                w.write(h);
            }
            KeyedHashScheme::Xor(h, k) => {
                w.write(&alg::XOR);
                w.write(h);
                w.write(k);
            }
        }
    }
}

/// Curves this TPM implements (`TPMI_ECC_CURVE`).
pub const CURVES: &[EccCurve] = &[curve::NIST_P256, curve::NIST_P384];

/// RSA key sizes this TPM implements (`TPMI_RSA_KEY_BITS`).
pub const RSA_KEY_BITS: &[u16] = &[1024, 2048, 3072, 4096];

/// `TPMU_PUBLIC_PARMS` with its selector (`TPMT_PUBLIC_PARMS`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PublicParms {
    /// `TPMS_RSA_PARMS`.
    Rsa {
        /// Symmetric algorithm for a storage key.
        symmetric: SymDef,
        /// Scheme.
        scheme: Scheme,
        /// Modulus size.
        key_bits: u16,
        /// Public exponent (0 = 65537).
        exponent: u32,
    },
    /// `TPMS_ECC_PARMS`.
    Ecc {
        /// Symmetric algorithm for a storage key.
        symmetric: SymDef,
        /// Scheme.
        scheme: Scheme,
        /// Curve.
        curve: EccCurve,
        /// KDF.
        kdf: Kdf,
    },
    /// `TPMS_KEYEDHASH_PARMS`.
    KeyedHash {
        /// Scheme.
        scheme: KeyedHashScheme,
    },
    /// `TPMS_SYMCIPHER_PARMS`.
    SymCipher {
        /// The cipher.
        sym: SymDef,
    },
    /// `TPMS_MLKEM_PARMS` (Part 2, 12.2.3.8). Variants from here on are
    /// appended last, so that serialized states keep their variant numbers.
    MlKem {
        /// Symmetric algorithm of a restricted decryption (storage) key;
        /// NULL otherwise.
        symmetric: SymDef,
        /// `parameterSet`.
        parameter_set: super::pqc::MlKemParams,
    },
    /// `TPMS_MLDSA_PARMS` (Part 2, 12.2.3.6): pure ML-DSA.
    MlDsa {
        /// `parameterSet`.
        parameter_set: super::pqc::MlDsaParams,
        /// `allowExternalMu`: usable with TPM2_SignDigest and
        /// TPM2_VerifyDigestSignature, the digest being `mu`.
        allow_external_mu: bool,
    },
    /// `TPMS_HASH_MLDSA_PARMS` (Part 2, 12.2.3.7): HashML-DSA.
    HashMlDsa {
        /// `parameterSet`.
        parameter_set: super::pqc::MlDsaParams,
        /// `hashAlg`: the pre-hash function PH.
        hash: HashAlg,
    },
}

impl PublicParms {
    /// The `TPMI_ALG_PUBLIC` selector.
    pub fn type_alg(&self) -> AlgId {
        match self {
            PublicParms::Rsa { .. } => alg::RSA,
            PublicParms::Ecc { .. } => alg::ECC,
            PublicParms::KeyedHash { .. } => alg::KEYEDHASH,
            PublicParms::SymCipher { .. } => alg::SYMCIPHER,
            PublicParms::MlKem { .. } => alg::MLKEM,
            PublicParms::MlDsa { .. } => alg::MLDSA,
            PublicParms::HashMlDsa { .. } => alg::HASH_MLDSA,
        }
    }

    /// Read the parameters for object type `t` (`TPM_RC_TYPE` for a type
    /// this TPM does not implement).
    pub fn read_for_type(r: &mut Reader<'_>, t: AlgId) -> TpmResult<Self> {
        Ok(match t {
            alg::RSA => {
                let symmetric = SymDef::read(r, false)?;
                let scheme = Scheme::read(r, RSA_SCHEMES, Rc::VALUE)?;
                let key_bits = r.u16()?;
                if !RSA_KEY_BITS.contains(&key_bits) {
                    return Err(Rc::VALUE);
                }
                let exponent = r.u32()?;
                PublicParms::Rsa {
                    symmetric,
                    scheme,
                    key_bits,
                    exponent,
                }
            }
            alg::ECC => {
                let symmetric = SymDef::read(r, false)?;
                let scheme = Scheme::read(r, ECC_SCHEMES, Rc::SCHEME)?;
                let c: EccCurve = r.read()?;
                if !CURVES.contains(&c) {
                    return Err(Rc::CURVE);
                }
                let kdf = r.read()?;
                PublicParms::Ecc {
                    symmetric,
                    scheme,
                    curve: c,
                    kdf,
                }
            }
            alg::KEYEDHASH => PublicParms::KeyedHash { scheme: r.read()? },
            alg::SYMCIPHER => {
                let sym = SymDef::read(r, false)?;
                if sym == SymDef::Null {
                    return Err(Rc::SYMMETRIC);
                }
                PublicParms::SymCipher { sym }
            }
            alg::MLKEM => {
                let symmetric = SymDef::read(r, false)?;
                let parameter_set = r.read()?;
                PublicParms::MlKem {
                    symmetric,
                    parameter_set,
                }
            }
            alg::MLDSA => PublicParms::MlDsa {
                parameter_set: r.read()?,
                allow_external_mu: r.read::<super::types::YesNo>()?.0,
            },
            alg::HASH_MLDSA => {
                let parameter_set = r.read()?;
                let hash: HashAlg = r.read()?;
                // FIPS 204, 5.4: PH is an approved hash with an OID.
                if super::pqc::prehash_oid(hash).is_none() {
                    return Err(Rc::HASH);
                }
                PublicParms::HashMlDsa {
                    parameter_set,
                    hash,
                }
            }
            _ => return Err(Rc::TYPE),
        })
    }

    /// Write the parameters (without the type selector).
    pub fn marshal_body(&self, w: &mut Writer) {
        match self {
            PublicParms::Rsa {
                symmetric,
                scheme,
                key_bits,
                exponent,
            } => {
                w.write(symmetric);
                w.write(scheme);
                w.u16(*key_bits);
                w.u32(*exponent);
            }
            PublicParms::Ecc {
                symmetric,
                scheme,
                curve,
                kdf,
            } => {
                w.write(symmetric);
                w.write(scheme);
                w.write(curve);
                w.write(kdf);
            }
            PublicParms::KeyedHash { scheme } => w.write(scheme),
            PublicParms::SymCipher { sym } => w.write(sym),
            PublicParms::MlKem {
                symmetric,
                parameter_set,
            } => {
                w.write(symmetric);
                w.write(parameter_set);
            }
            PublicParms::MlDsa {
                parameter_set,
                allow_external_mu,
            } => {
                w.write(parameter_set);
                w.write(&super::types::YesNo(*allow_external_mu));
            }
            PublicParms::HashMlDsa {
                parameter_set,
                hash,
            } => {
                w.write(parameter_set);
                w.write(hash);
            }
        }
    }
}

impl Unmarshal for PublicParms {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let t: AlgId = r.read()?;
        PublicParms::read_for_type(r, t)
    }
}

impl Marshal for PublicParms {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.type_alg());
        self.marshal_body(w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rsa_storage_parms() {
        let bytes = [
            0x00, 0x01, 0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0,
        ];
        let p: Result<PublicParms, _> = Reader::new(&bytes).read();
        assert!(p.is_ok());
        assert_eq!(p.map(|p| p.to_bytes()).unwrap_or_default(), bytes);
    }

    #[test]
    fn rejects_unknown_curve_with_rc_curve() {
        let bytes = [0x00, 0x23, 0x00, 0x10, 0x00, 0x10, 0x00, 0x20, 0x00, 0x10];
        assert_eq!(Reader::new(&bytes).read::<PublicParms>(), Err(Rc::CURVE));
    }

    #[test]
    fn rejects_unknown_type_with_rc_type() {
        let bytes = [0x00, 0x24];
        assert_eq!(Reader::new(&bytes).read::<PublicParms>(), Err(Rc::TYPE));
    }

    #[test]
    fn rejects_bad_aes_key_size() {
        let bytes = [0x00, 0x25, 0x00, 0x06, 0x00, 0x81, 0x00, 0x43];
        assert_eq!(Reader::new(&bytes).read::<PublicParms>(), Err(Rc::VALUE));
    }
}
