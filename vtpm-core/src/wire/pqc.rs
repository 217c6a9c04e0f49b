//! Part 2 structures of the post-quantum algorithms added in v185:
//! ML-KEM (FIPS 203) and ML-DSA / HashML-DSA (FIPS 204).
//!
//! * `TPMI_MLKEM_PARMS` (11.2.6.1) and `TPMI_MLDSA_PARMS` (11.2.7.1): the
//!   parameter sets, `TPM_RC_PARMS` for any other value;
//! * the sized buffers of the KEM and signature commands:
//!   `TPM2B_SHARED_SECRET` (10.3.12), `TPM2B_KEM_CIPHERTEXT` (10.3.14),
//!   `TPM2B_SIGNATURE_CTX` (11.3.8), `TPM2B_SIGNATURE_HINT` (11.3.9);
//! * the maxima of `TPM2B_PUBLIC_KEY_MLKEM` / `_MLDSA` (11.2.6.2, 11.2.7.3),
//!   `TPM2B_PRIVATE_KEY_MLKEM` / `_MLDSA` (11.2.6.3, 11.2.7.4) and
//!   `TPM2B_SIGNATURE_MLDSA` (11.3.4);
//! * `TPMT_TK_VERIFIED` with its v185 metadata (10.6.4-10.6.5), as produced
//!   by `TPM2_VerifySequenceComplete` and `TPM2_VerifyDigestSignature`.
//!
//! The `TPMS_MLKEM_PARMS`, `TPMS_MLDSA_PARMS` and `TPMS_HASH_MLDSA_PARMS`
//! structures are variants of [`super::public::PublicParms`]; the public
//! keys are variants of [`super::object::Unique`]; the signatures are
//! variants of [`super::signature::Signature`].

use super::consts::{rh, st};
use super::types::{Digest2b, Tpm2b};
use super::{Handle, Marshal, Rc, Reader, StructTag, TpmResult, Unmarshal, Writer};
use crate::crypto::HashAlg;

/// `TPMI_MLKEM_PARMS` (Part 2, Table 205).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum MlKemParams {
    /// `TPM_MLKEM_512` (0x0001).
    MlKem512,
    /// `TPM_MLKEM_768` (0x0002).
    MlKem768,
    /// `TPM_MLKEM_1024` (0x0003).
    MlKem1024,
}

impl MlKemParams {
    /// Every parameter set, in identifier order.
    pub const ALL: [MlKemParams; 3] = [
        MlKemParams::MlKem512,
        MlKemParams::MlKem768,
        MlKemParams::MlKem1024,
    ];

    /// The `TPM_MLKEM_x` identifier.
    pub const fn id(self) -> u16 {
        match self {
            MlKemParams::MlKem512 => 1,
            MlKemParams::MlKem768 => 2,
            MlKemParams::MlKem1024 => 3,
        }
    }

    /// The parameter set of an identifier.
    pub const fn from_id(id: u16) -> Option<Self> {
        match id {
            1 => Some(MlKemParams::MlKem512),
            2 => Some(MlKemParams::MlKem768),
            3 => Some(MlKemParams::MlKem1024),
            _ => None,
        }
    }

    /// Encapsulation (public) key size in octets.
    pub const fn public_key_size(self) -> usize {
        match self {
            MlKemParams::MlKem512 => 800,
            MlKemParams::MlKem768 => 1184,
            MlKemParams::MlKem1024 => 1568,
        }
    }

    /// Ciphertext size in octets.
    pub const fn ciphertext_size(self) -> usize {
        match self {
            MlKemParams::MlKem512 => 768,
            MlKemParams::MlKem768 => 1088,
            MlKemParams::MlKem1024 => 1568,
        }
    }

    /// Shared secret size in octets (32 for every set).
    pub const fn shared_secret_size(self) -> usize {
        MLKEM_SHARED_SECRET_SIZE
    }

    /// The `TPMA_ML_PARAMETER_SET` bit of this set (Part 2, 8.13).
    pub const fn attribute_bit(self) -> u32 {
        match self {
            MlKemParams::MlKem512 => 1 << 0,
            MlKemParams::MlKem768 => 1 << 1,
            MlKemParams::MlKem1024 => 1 << 2,
        }
    }
}

impl Unmarshal for MlKemParams {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        MlKemParams::from_id(r.u16()?).ok_or(Rc::PARMS)
    }
}

impl Marshal for MlKemParams {
    fn marshal(&self, w: &mut Writer) {
        w.u16(self.id());
    }
}

/// `TPMI_MLDSA_PARMS` (Part 2, Table 208).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum MlDsaParams {
    /// `TPM_MLDSA_44` (0x0001).
    MlDsa44,
    /// `TPM_MLDSA_65` (0x0002).
    MlDsa65,
    /// `TPM_MLDSA_87` (0x0003).
    MlDsa87,
}

impl MlDsaParams {
    /// Every parameter set, in identifier order.
    pub const ALL: [MlDsaParams; 3] = [
        MlDsaParams::MlDsa44,
        MlDsaParams::MlDsa65,
        MlDsaParams::MlDsa87,
    ];

    /// The `TPM_MLDSA_x` identifier.
    pub const fn id(self) -> u16 {
        match self {
            MlDsaParams::MlDsa44 => 1,
            MlDsaParams::MlDsa65 => 2,
            MlDsaParams::MlDsa87 => 3,
        }
    }

    /// The parameter set of an identifier.
    pub const fn from_id(id: u16) -> Option<Self> {
        match id {
            1 => Some(MlDsaParams::MlDsa44),
            2 => Some(MlDsaParams::MlDsa65),
            3 => Some(MlDsaParams::MlDsa87),
            _ => None,
        }
    }

    /// Verification (public) key size in octets.
    pub const fn public_key_size(self) -> usize {
        match self {
            MlDsaParams::MlDsa44 => 1312,
            MlDsaParams::MlDsa65 => 1952,
            MlDsaParams::MlDsa87 => 2592,
        }
    }

    /// Signature size in octets.
    pub const fn signature_size(self) -> usize {
        match self {
            MlDsaParams::MlDsa44 => 2420,
            MlDsaParams::MlDsa65 => 3309,
            MlDsaParams::MlDsa87 => 4627,
        }
    }

    /// The `TPMA_ML_PARAMETER_SET` bit of this set (Part 2, 8.13).
    pub const fn attribute_bit(self) -> u32 {
        match self {
            MlDsaParams::MlDsa44 => 1 << 3,
            MlDsaParams::MlDsa65 => 1 << 4,
            MlDsaParams::MlDsa87 => 1 << 5,
        }
    }
}

impl Unmarshal for MlDsaParams {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        MlDsaParams::from_id(r.u16()?).ok_or(Rc::PARMS)
    }
}

impl Marshal for MlDsaParams {
    fn marshal(&self, w: &mut Writer) {
        w.u16(self.id());
    }
}

/// The size of the public key (`unique`) of an ML-KEM, ML-DSA or
/// HashML-DSA object; `None` for the other types.
pub fn public_key_size(p: &super::public::PublicParms) -> Option<usize> {
    use super::public::PublicParms;
    match p {
        PublicParms::MlKem { parameter_set, .. } => Some(parameter_set.public_key_size()),
        PublicParms::MlDsa { parameter_set, .. } | PublicParms::HashMlDsa { parameter_set, .. } => {
            Some(parameter_set.public_key_size())
        }
        _ => None,
    }
}

/// `TPMA_ML_PARAMETER_SET.extMu` (Part 2, 8.13).
pub const TPMA_ML_EXT_MU: u32 = 1 << 6;

/// Size of every ML-KEM shared secret.
pub const MLKEM_SHARED_SECRET_SIZE: usize = 32;
/// `TPM2B_PRIVATE_KEY_MLKEM`: the 64-octet seed `d || z`.
pub const MLKEM_PRIVATE_SIZE: usize = 64;
/// `TPM2B_PRIVATE_KEY_MLDSA`: the 32-octet seed `xi`.
pub const MLDSA_PRIVATE_SIZE: usize = 32;
/// `MAX_MLKEM_PUB_SIZE` (ML-KEM-1024).
pub const MAX_MLKEM_PUB_SIZE: usize = 1568;
/// `MAX_MLKEM_CT_SIZE` (ML-KEM-1024).
pub const MAX_MLKEM_CT_SIZE: usize = 1568;
/// `MAX_MLDSA_PUB_SIZE` (ML-DSA-87).
pub const MAX_MLDSA_PUB_SIZE: usize = 2592;
/// `MAX_MLDSA_SIG_SIZE` (ML-DSA-87).
pub const MAX_MLDSA_SIG_SIZE: usize = 4627;
/// The external mu (`TPM2_SignDigest` / `TPM2_VerifyDigestSignature` of
/// an ML-DSA key with `allowExternalMu`) is the 64-octet message
/// representative of FIPS 204, Algorithm 7, line 6.
pub const MLDSA_MU_SIZE: usize = 64;
/// The largest ML-DSA context string (FIPS 204: at most 255 octets).
pub const MAX_SIGNATURE_CTX_SIZE: usize = 255;
/// `MAX_SIGNATURE_HINT_SIZE`: only EdDSA needs a hint, and this TPM does
/// not implement EdDSA, so every hint is empty.
pub const MAX_SIGNATURE_HINT_SIZE: usize = 0;
/// `MAX_SHARED_SECRET_SIZE`: the KEMs implemented are the ML-KEMs.
pub const MAX_SHARED_SECRET_SIZE: usize = MLKEM_SHARED_SECRET_SIZE;
/// `sizeof(TPMU_ENCRYPTED_SECRET)`: an RSA-4096 OAEP block (512) or an
/// ML-KEM-1024 ciphertext (1568), whichever is larger.
pub const MAX_ENCRYPTED_SECRET_SIZE: usize = if MAX_MLKEM_CT_SIZE > 512 {
    MAX_MLKEM_CT_SIZE
} else {
    512
};

/// `TPM2B_SIGNATURE_MLDSA`.
pub type SignatureMldsa2b = Tpm2b<MAX_MLDSA_SIG_SIZE>;
/// `TPM2B_SHARED_SECRET`.
pub type SharedSecret2b = Tpm2b<MAX_SHARED_SECRET_SIZE>;
/// `TPM2B_KEM_CIPHERTEXT` (`sizeof(TPMU_KEM_CIPHERTEXT)`: the ML-KEM-1024
/// ciphertext is the largest member).
pub type KemCiphertext2b = Tpm2b<MAX_MLKEM_CT_SIZE>;
/// `TPM2B_SIGNATURE_CTX` (`sizeof(TPMU_SIGNATURE_CTX)`: the 255-octet
/// ML-DSA context is the largest member implemented).
pub type SignatureCtx2b = Tpm2b<MAX_SIGNATURE_CTX_SIZE>;
/// `TPM2B_SIGNATURE_HINT` (always empty here).
pub type SignatureHint2b = Tpm2b<MAX_SIGNATURE_HINT_SIZE>;
/// `TPM2B_ENCRYPTED_SECRET` large enough for an ML-KEM-1024 ciphertext.
pub type EncryptedSecret2b = Tpm2b<MAX_ENCRYPTED_SECRET_SIZE>;

/// The DER encoding of the OID of a pre-hash function `PH` of HashML-DSA
/// (FIPS 204, Algorithm 4, `OID` of the NIST hash algorithm registry).
/// SHA-1 is not an approved pre-hash (`None`).
pub const fn prehash_oid(h: HashAlg) -> Option<&'static [u8]> {
    match h {
        HashAlg::Sha1 => None,
        // 2.16.840.1.101.3.4.2.1
        HashAlg::Sha256 => Some(&[
            0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
        ]),
        // 2.16.840.1.101.3.4.2.2
        HashAlg::Sha384 => Some(&[
            0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02,
        ]),
        // 2.16.840.1.101.3.4.2.3
        HashAlg::Sha512 => Some(&[
            0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03,
        ]),
    }
}

/// `TPMT_TK_VERIFIED` in its v185 form (Part 2, 10.6.5): the tag selects
/// the `TPMU_TK_VERIFIED_META` member, which is empty for
/// `TPM_ST_VERIFIED` and `TPM_ST_MESSAGE_VERIFIED` and a `TPMI_ALG_HASH`
/// for `TPM_ST_DIGEST_VERIFIED`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTicket {
    /// `TPM_ST_VERIFIED`, `TPM_ST_MESSAGE_VERIFIED` or `TPM_ST_DIGEST_VERIFIED`.
    pub tag: StructTag,
    /// `TPMI_RH_HIERARCHY+`.
    pub hierarchy: Handle,
    /// `digestVerified`: the hash (or, for external mu, `TPM_ALG_NULL`)
    /// of a `TPM_ST_DIGEST_VERIFIED` ticket; `None` for the other tags.
    pub metadata: Option<super::AlgId>,
    /// The HMAC (empty for a NULL ticket).
    pub hmac: Digest2b,
}

impl VerifiedTicket {
    /// The NULL Verified Ticket of a tag.
    pub fn null(tag: StructTag, metadata: Option<super::AlgId>) -> Self {
        VerifiedTicket {
            tag,
            hierarchy: rh::NULL,
            metadata,
            hmac: Digest2b::empty(),
        }
    }

    /// The serialized `TPMU_TK_VERIFIED_META` (the `metadata` of the
    /// ticket HMAC, Part 2, Equation 5).
    pub fn metadata_bytes(&self) -> alloc::vec::Vec<u8> {
        let mut w = Writer::new();
        if let Some(a) = self.metadata {
            w.write(&a);
        }
        w.into_vec()
    }
}

impl Unmarshal for VerifiedTicket {
    /// `TPM_RC_TAG` for a tag that is none of the three, `TPM_RC_VALUE`
    /// for a hierarchy that is not a `TPMI_RH_HIERARCHY+`.
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let tag: StructTag = r.read()?;
        if !matches!(
            tag,
            st::VERIFIED | st::MESSAGE_VERIFIED | st::DIGEST_VERIFIED
        ) {
            return Err(Rc::TAG);
        }
        let hierarchy: Handle = r.read()?;
        if !matches!(
            hierarchy,
            rh::OWNER | rh::ENDORSEMENT | rh::PLATFORM | rh::NULL
        ) {
            return Err(Rc::VALUE);
        }
        let metadata = if tag == st::DIGEST_VERIFIED {
            Some(r.read()?)
        } else {
            None
        };
        let hmac = r.read()?;
        Ok(VerifiedTicket {
            tag,
            hierarchy,
            metadata,
            hmac,
        })
    }
}

impl Marshal for VerifiedTicket {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.tag);
        w.write(&self.hierarchy);
        if let Some(a) = self.metadata {
            w.write(&a);
        }
        w.write(&self.hmac);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::consts::alg;

    #[test]
    fn parameter_sets_are_strict() {
        for (bytes, want) in [
            ([0u8, 1], Ok(MlKemParams::MlKem512)),
            ([0, 3], Ok(MlKemParams::MlKem1024)),
            ([0, 0], Err(Rc::PARMS)),
            ([0, 4], Err(Rc::PARMS)),
        ] {
            assert_eq!(Reader::new(&bytes).read::<MlKemParams>(), want);
        }
        for (bytes, want) in [
            ([0u8, 2], Ok(MlDsaParams::MlDsa65)),
            ([1, 2], Err(Rc::PARMS)),
        ] {
            assert_eq!(Reader::new(&bytes).read::<MlDsaParams>(), want);
        }
        for p in MlKemParams::ALL {
            assert_eq!(MlKemParams::from_id(p.id()), Some(p));
        }
        for p in MlDsaParams::ALL {
            assert_eq!(MlDsaParams::from_id(p.id()), Some(p));
        }
    }

    #[test]
    fn buffers_enforce_their_maxima() {
        let mut b = alloc::vec![0x00, 0x01, 0x00];
        assert_eq!(
            Reader::new(&b).read::<SignatureHint2b>().map(|_| ()),
            Err(Rc::SIZE)
        );
        b = alloc::vec![0x01, 0x00];
        b.extend_from_slice(&[0; 256]);
        assert_eq!(
            Reader::new(&b).read::<SignatureCtx2b>().map(|_| ()),
            Err(Rc::SIZE)
        );
        let ok = [0x00, 0x20].iter().chain([7u8; 32].iter()).copied();
        let ok: alloc::vec::Vec<u8> = ok.collect();
        assert!(Reader::new(&ok).read::<SharedSecret2b>().is_ok());
    }

    #[test]
    fn verified_ticket_metadata_follows_the_tag() {
        let t = VerifiedTicket {
            tag: st::DIGEST_VERIFIED,
            hierarchy: rh::OWNER,
            metadata: Some(alg::SHA256),
            hmac: Tpm2b(alloc::vec![1, 2, 3]),
        };
        let bytes = t.to_bytes();
        assert_eq!(
            bytes,
            [0x80, 0x27, 0x40, 0, 0, 1, 0x00, 0x0B, 0, 3, 1, 2, 3]
        );
        assert_eq!(Reader::new(&bytes).read::<VerifiedTicket>(), Ok(t));
        let m = VerifiedTicket::null(st::MESSAGE_VERIFIED, None);
        assert_eq!(m.to_bytes(), [0x80, 0x26, 0x40, 0, 0, 7, 0, 0]);
        assert_eq!(
            Reader::new(&[0x80, 0x24, 0x40, 0, 0, 7, 0, 0]).read::<VerifiedTicket>(),
            Err(Rc::TAG)
        );
    }

    #[test]
    fn prehash_oids_end_with_the_nist_hash_arc() {
        assert_eq!(prehash_oid(HashAlg::Sha1), None);
        for (h, last) in [
            (HashAlg::Sha256, 1u8),
            (HashAlg::Sha384, 2),
            (HashAlg::Sha512, 3),
        ] {
            let oid = prehash_oid(h).unwrap_or_default();
            assert_eq!(oid.len(), 11);
            assert_eq!(oid.last(), Some(&last));
        }
    }
}
