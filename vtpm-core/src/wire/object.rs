//! Part 2, 12: objects — `TPMA_OBJECT`, `TPMT_PUBLIC`, `TPMT_SENSITIVE`,
//! `TPMS_SENSITIVE_CREATE`, `TPMS_CREATION_DATA`, `TPMS_CONTEXT`.

use alloc::vec::Vec;

use super::consts::{alg, sizes};
use super::public::{PublicParms, SymDef};
use super::types::{PcrSelectionList, Tpm2b};
use super::{AlgId, Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};
use crate::crypto::{HashAlg, HashOrNull};

/// `TPMA_OBJECT` bits (Part 2, 8.3).
pub mod oa {
    pub const FIXED_TPM: u32 = 1 << 1;
    pub const ST_CLEAR: u32 = 1 << 2;
    pub const FIXED_PARENT: u32 = 1 << 4;
    pub const SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
    pub const USER_WITH_AUTH: u32 = 1 << 6;
    pub const ADMIN_WITH_POLICY: u32 = 1 << 7;
    pub const FIRMWARE_LIMITED: u32 = 1 << 8;
    pub const SVN_LIMITED: u32 = 1 << 9;
    pub const NO_DA: u32 = 1 << 10;
    pub const ENCRYPTED_DUPLICATION: u32 = 1 << 11;
    pub const RESTRICTED: u32 = 1 << 16;
    pub const DECRYPT: u32 = 1 << 17;
    pub const SIGN_ENCRYPT: u32 = 1 << 18;
    pub const X509_SIGN: u32 = 1 << 19;
    /// Bits that shall be zero.
    pub const RESERVED: u32 = 1 | 1 << 3 | 0xF000 | 0xFFF0_0000;
}

/// `TPM2B_ECC_PARAMETER` maximum.
pub const MAX_ECC: usize = sizes::MAX_ECC_KEY_BYTES;

/// `TPMU_PUBLIC_ID`: the unique field.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Unique {
    /// `TPM2B_PUBLIC_KEY_RSA` (modulus).
    Rsa(Vec<u8>),
    /// `TPMS_ECC_POINT`.
    Ecc {
        /// x coordinate.
        x: Vec<u8>,
        /// y coordinate.
        y: Vec<u8>,
    },
    /// `TPM2B_DIGEST` for KEYEDHASH and SYMCIPHER.
    Digest(Vec<u8>),
    /// `TPM2B_PUBLIC_KEY_MLKEM`: the encapsulation key (Part 2, 11.2.6.2).
    /// Appended last, so that serialized states keep their variant numbers.
    MlKem(Vec<u8>),
    /// `TPM2B_PUBLIC_KEY_MLDSA`: the verification key, for ML-DSA and
    /// HashML-DSA (Part 2, 11.2.7.3).
    MlDsa(Vec<u8>),
}

/// `TPMT_PUBLIC`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Public {
    /// `nameAlg` (`None` only for LoadExternal public-only objects).
    pub name_alg: Option<HashAlg>,
    /// `objectAttributes`.
    pub attributes: u32,
    /// `authPolicy`.
    pub auth_policy: Vec<u8>,
    /// `parameters`, with the type.
    pub parms: PublicParms,
    /// `unique`.
    pub unique: Unique,
}

impl Public {
    /// Does the object have attribute bit(s) `a`?
    pub fn has(&self, a: u32) -> bool {
        self.attributes & a == a
    }

    /// Type selector.
    pub fn type_alg(&self) -> AlgId {
        self.parms.type_alg()
    }

    /// The object's Name (Part 1, 16): nameAlg || H(TPMT_PUBLIC), or the
    /// handle for nameAlg NULL (not used for objects here).
    pub fn name(&self) -> Vec<u8> {
        let bytes = self.to_bytes();
        match self.name_alg {
            Some(h) => {
                let mut n = h.alg_id().0.to_be_bytes().to_vec();
                n.extend_from_slice(&h.digest(&bytes));
                n
            }
            // A nameAlg of NULL gives an empty Name (as the reference does).
            None => Vec::new(),
        }
    }

    /// Is this a parent key (restricted decrypt, not sign: Part 1, 22.1
    /// Table 33)?
    fn is_parent_key(&self) -> bool {
        self.has(oa::RESTRICTED | oa::DECRYPT) && !self.has(oa::SIGN_ENCRYPT)
    }

    /// Is this a Storage Parent: a parent key that is not a keyedHash
    /// object (Part 1, 22.1 Table 33)?
    pub fn is_storage_parent(&self) -> bool {
        self.is_parent_key() && !matches!(self.parms, PublicParms::KeyedHash { .. })
    }

    /// Is this a Derivation Parent: a keyedHash parent key (Part 1, 22.1
    /// Table 33; Part 1, 25)?
    pub fn is_derivation_parent(&self) -> bool {
        self.is_parent_key() && matches!(self.parms, PublicParms::KeyedHash { .. })
    }

    /// The parent's symmetric definition (for protecting children).
    pub fn symmetric(&self) -> SymDef {
        match &self.parms {
            PublicParms::Rsa { symmetric, .. } | PublicParms::Ecc { symmetric, .. } => *symmetric,
            PublicParms::SymCipher { sym } => *sym,
            PublicParms::MlKem { symmetric, .. } => *symmetric,
            PublicParms::KeyedHash { .. }
            | PublicParms::MlDsa { .. }
            | PublicParms::HashMlDsa { .. } => SymDef::Null,
        }
    }

    /// Read a `TPMT_PUBLIC`; `allow_null_name` permits nameAlg NULL.
    pub fn read(r: &mut Reader<'_>, allow_null_name: bool) -> TpmResult<Self> {
        let (head, t) = Self::read_head(r, allow_null_name)?;
        let unique = Self::read_unique(r, t, &head.parms)?;
        Ok(Public { unique, ..head })
    }

    /// Read the `TPMT_PUBLIC` of a `TPM2B_TEMPLATE` under a Derivation
    /// Parent (Part 2, 12.2.6): the unique field is a `TPMS_DERIVE`, which
    /// is returned; the public area gets an empty unique of its type.
    pub fn read_derive_template(r: &mut Reader<'_>) -> TpmResult<(Self, Derive)> {
        let (head, _) = Self::read_head(r, false)?;
        let derive = Derive::read(r)?;
        Ok((head, derive))
    }

    /// Everything up to the unique field (which is left empty).
    fn read_head(r: &mut Reader<'_>, allow_null_name: bool) -> TpmResult<(Self, AlgId)> {
        let t: AlgId = r.read()?;
        let name_alg = r.read::<HashOrNull>()?.0;
        if name_alg.is_none() && !allow_null_name {
            return Err(Rc::HASH);
        }
        let attributes = r.u32()?;
        if attributes & oa::RESERVED != 0 {
            return Err(Rc::RESERVED_BITS);
        }
        let auth_policy = r.tpm2b(sizes::MAX_DIGEST)?.to_vec();
        let parms = PublicParms::read_for_type(r, t)?;
        let unique = match t {
            alg::RSA => Unique::Rsa(Vec::new()),
            alg::ECC => Unique::Ecc {
                x: Vec::new(),
                y: Vec::new(),
            },
            alg::MLKEM => Unique::MlKem(Vec::new()),
            alg::MLDSA | alg::HASH_MLDSA => Unique::MlDsa(Vec::new()),
            _ => Unique::Digest(Vec::new()),
        };
        let head = Public {
            name_alg,
            attributes,
            auth_policy,
            parms,
            unique,
        };
        Ok((head, t))
    }

    /// The unique field of a public area of type `t`.
    fn read_unique(r: &mut Reader<'_>, t: AlgId, parms: &PublicParms) -> TpmResult<Unique> {
        Ok(match t {
            alg::RSA => Unique::Rsa(r.tpm2b(sizes::MAX_RSA_KEY_BYTES)?.to_vec()),
            alg::ECC => {
                let x = r.tpm2b(MAX_ECC)?.to_vec();
                let y = r.tpm2b(MAX_ECC)?.to_vec();
                Unique::Ecc { x, y }
            }
            // The key of the parameter set, or empty (a template): any
            // other size is TPM_RC_SIZE.
            alg::MLKEM | alg::MLDSA | alg::HASH_MLDSA => {
                let want = super::pqc::public_key_size(parms).ok_or(Rc::TYPE)?;
                let k = r.tpm2b(want)?;
                if !k.is_empty() && k.len() != want {
                    return Err(Rc::SIZE);
                }
                if t == alg::MLKEM {
                    Unique::MlKem(k.to_vec())
                } else {
                    Unique::MlDsa(k.to_vec())
                }
            }
            _ => Unique::Digest(r.tpm2b(sizes::MAX_DIGEST)?.to_vec()),
        })
    }
}

/// `LABEL_MAX_BUFFER` (Part 2, 11.1.10): at most 32 octets.
pub const LABEL_MAX_BUFFER: usize = 32;

/// `TPMS_DERIVE` (Part 2, 11.1.11): the label and context of a Derived
/// Object, each a `TPM2B_LABEL`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Derive {
    /// `label`.
    pub label: Vec<u8>,
    /// `context`.
    pub context: Vec<u8>,
}

impl Derive {
    /// Read a `TPMS_DERIVE` (a label or context over 32 octets is
    /// `TPM_RC_SIZE`).
    pub fn read(r: &mut Reader<'_>) -> TpmResult<Self> {
        let label = r.tpm2b(LABEL_MAX_BUFFER)?.to_vec();
        let context = r.tpm2b(LABEL_MAX_BUFFER)?.to_vec();
        Ok(Derive { label, context })
    }
}

impl Marshal for Public {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.type_alg());
        w.write(&HashOrNull(self.name_alg));
        w.u32(self.attributes);
        w.tpm2b(&self.auth_policy);
        self.parms.marshal_body(w);
        match &self.unique {
            Unique::Rsa(n) => w.tpm2b(n),
            Unique::Ecc { x, y } => {
                w.tpm2b(x);
                w.tpm2b(y);
            }
            Unique::Digest(d) | Unique::MlKem(d) | Unique::MlDsa(d) => w.tpm2b(d),
        }
    }
}

/// `TPM2B_PUBLIC` whose nameAlg must not be NULL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Public2b(pub Public);

/// Read the size-prefixed form; a zero size or a size that does not match
/// the structure is `TPM_RC_SIZE`.
pub fn read_sized<T>(
    r: &mut Reader<'_>,
    f: impl FnOnce(&mut Reader<'_>) -> TpmResult<T>,
) -> TpmResult<T> {
    let size = usize::from(r.u16()?);
    if size == 0 {
        return Err(Rc::SIZE);
    }
    let mut sub = r.sub(size)?;
    let v = f(&mut sub)?;
    sub.finish()?;
    Ok(v)
}

impl Unmarshal for Public2b {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        read_sized(r, |r| Public::read(r, false)).map(Public2b)
    }
}

impl Marshal for Public2b {
    fn marshal(&self, w: &mut Writer) {
        w.sized(|w| w.write(&self.0));
    }
}

/// `TPM2B_PUBLIC` that may have nameAlg NULL (LoadExternal).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicAnyName2b(pub Public);

impl Unmarshal for PublicAnyName2b {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        read_sized(r, |r| Public::read(r, true)).map(PublicAnyName2b)
    }
}

/// `TPMS_SENSITIVE_CREATE` (inside `TPM2B_SENSITIVE_CREATE`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SensitiveCreate {
    /// userAuth.
    pub user_auth: Vec<u8>,
    /// data (key material or sealed data supplied by the caller).
    pub data: Vec<u8>,
}

impl Unmarshal for SensitiveCreate {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        read_sized(r, |r| {
            let user_auth = r.tpm2b(sizes::MAX_DIGEST)?.to_vec();
            let data = r.tpm2b(128)?.to_vec();
            Ok(SensitiveCreate { user_auth, data })
        })
    }
}

/// `TPMT_SENSITIVE`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sensitive {
    /// `sensitiveType`.
    pub type_alg: AlgId,
    /// `authValue`.
    pub auth_value: Vec<u8>,
    /// `seedValue` (obfuscation value / storage seed).
    pub seed_value: Vec<u8>,
    /// `sensitive`: RSA prime p, ECC scalar, keyed-hash bits or symmetric key.
    pub sensitive: Vec<u8>,
}

impl core::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Sensitive { .. }")
    }
}

impl Drop for Sensitive {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.auth_value.zeroize();
        self.seed_value.zeroize();
        self.sensitive.zeroize();
    }
}

impl Sensitive {
    /// Maximum of the `sensitive` union for a type.
    fn max_for(t: AlgId) -> usize {
        match t {
            alg::RSA => sizes::MAX_RSA_KEY_BYTES / 2 * 5,
            alg::ECC => MAX_ECC,
            alg::KEYEDHASH => 128,
            alg::MLKEM => super::pqc::MLKEM_PRIVATE_SIZE,
            alg::MLDSA | alg::HASH_MLDSA => super::pqc::MLDSA_PRIVATE_SIZE,
            _ => sizes::MAX_SYM_KEY_BYTES,
        }
    }
}

impl Unmarshal for Sensitive {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let type_alg: AlgId = r.read()?;
        if !matches!(
            type_alg,
            alg::RSA
                | alg::ECC
                | alg::KEYEDHASH
                | alg::SYMCIPHER
                | alg::MLKEM
                | alg::MLDSA
                | alg::HASH_MLDSA
        ) {
            return Err(Rc::TYPE);
        }
        let auth_value = r.tpm2b(sizes::MAX_DIGEST)?.to_vec();
        let seed_value = r.tpm2b(sizes::MAX_DIGEST)?.to_vec();
        let sensitive = r.tpm2b(Sensitive::max_for(type_alg))?.to_vec();
        // The ML-KEM and ML-DSA private keys are their seeds, of exactly
        // 64 and 32 octets (Part 2, 11.2.6.3 and 11.2.7.4: "shall be").
        if matches!(type_alg, alg::MLKEM | alg::MLDSA | alg::HASH_MLDSA)
            && sensitive.len() != Sensitive::max_for(type_alg)
        {
            return Err(Rc::SIZE);
        }
        Ok(Sensitive {
            type_alg,
            auth_value,
            seed_value,
            sensitive,
        })
    }
}

impl Marshal for Sensitive {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.type_alg);
        w.tpm2b(&self.auth_value);
        w.tpm2b(&self.seed_value);
        w.tpm2b(&self.sensitive);
    }
}

/// `TPM2B_PRIVATE` maximum (Part 2: sizeof(_PRIVATE)).
pub const MAX_PRIVATE: usize = 2
    + sizes::MAX_DIGEST
    + 2
    + 2
    + 2 * (2 + sizes::MAX_DIGEST)
    + 2
    + sizes::MAX_RSA_KEY_BYTES / 2 * 5;
/// `TPM2B_PRIVATE`.
pub type Private2b = Tpm2b<MAX_PRIVATE>;
/// `TPM2B_NAME` maximum: a hash algorithm and the largest digest.
pub const MAX_NAME: usize = 2 + sizes::MAX_DIGEST;
/// `TPM2B_NAME`.
pub type Name2b = Tpm2b<MAX_NAME>;

/// `TPMS_CREATION_DATA`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreationData {
    /// PCRs included in pcrDigest.
    pub pcr_select: PcrSelectionList,
    /// Digest of the selected PCRs.
    pub pcr_digest: Vec<u8>,
    /// `TPMA_LOCALITY` of the creating command.
    pub locality: u8,
    /// Parent's nameAlg (TPM_ALG_NULL for a hierarchy).
    pub parent_name_alg: AlgId,
    /// Parent's Name.
    pub parent_name: Vec<u8>,
    /// Parent's Qualified Name.
    pub parent_qualified_name: Vec<u8>,
    /// outsideInfo.
    pub outside_info: Vec<u8>,
}

impl Marshal for CreationData {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.pcr_select);
        w.tpm2b(&self.pcr_digest);
        w.u8(self.locality);
        w.write(&self.parent_name_alg);
        w.tpm2b(&self.parent_name);
        w.tpm2b(&self.parent_qualified_name);
        w.tpm2b(&self.outside_info);
    }
}

/// `TPM2B_CONTEXT_DATA` maximum (an object context: Part 2 leaves it to the
/// implementation; ours holds a serialized object and its integrity).
pub const MAX_CONTEXT_DATA: usize = 4096;

/// `TPMS_CONTEXT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// Context sequence number.
    pub sequence: u64,
    /// The handle the context was saved from (transient objects are
    /// reported as 0x80000000/0x80000001/0x80000002 per Part 2, 14.6).
    pub saved_handle: Handle,
    /// The hierarchy of the saved entity.
    pub hierarchy: Handle,
    /// Encrypted, integrity-protected context.
    pub blob: Vec<u8>,
}

impl Unmarshal for Context {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let sequence = r.u64()?;
        let saved_handle = r.read()?;
        let hierarchy = r.read()?;
        let blob = r.tpm2b(MAX_CONTEXT_DATA)?.to_vec();
        Ok(Context {
            sequence,
            saved_handle,
            hierarchy,
            blob,
        })
    }
}

impl Marshal for Context {
    fn marshal(&self, w: &mut Writer) {
        w.u64(self.sequence);
        w.write(&self.saved_handle);
        w.write(&self.hierarchy);
        w.tpm2b(&self.blob);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The TCG EK template L-1 (RSA 2048) as tpm2-tools sends it.
    pub(crate) fn ek_rsa_template() -> Vec<u8> {
        let mut w = Writer::new();
        w.u16(0x0001);
        w.u16(0x000B);
        w.u32(0x000300B2);
        w.tpm2b(&[
            0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5,
            0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b,
            0x33, 0x14, 0x69, 0xaa,
        ]);
        w.bytes(&[
            0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0,
        ]);
        w.tpm2b(&[0u8; 256]);
        w.into_vec()
    }

    #[test]
    fn round_trips_ek_template() {
        let b = ek_rsa_template();
        let p = Public::read(&mut Reader::new(&b), false);
        assert!(p.is_ok());
        assert_eq!(p.map(|p| p.to_bytes()).unwrap_or_default(), b);
    }

    #[test]
    fn rejects_reserved_object_attributes() {
        let mut b = ek_rsa_template();
        b[7] |= 0x01; // bit 0
        assert_eq!(
            Public::read(&mut Reader::new(&b), false).map(|_| ()),
            Err(Rc::RESERVED_BITS)
        );
    }

    #[test]
    fn rejects_sized_public_with_trailing_bytes() {
        let t = ek_rsa_template();
        let mut w = Writer::new();
        w.u16((t.len() + 1) as u16);
        w.bytes(&t);
        w.u8(0);
        assert_eq!(
            Reader::new(w.as_slice()).read::<Public2b>().map(|_| ()),
            Err(Rc::SIZE)
        );
    }
}
