//! Hash algorithms (`TPMI_ALG_HASH`) and an incremental hasher over them.

use alloc::vec::Vec;
use digest::Digest as _;

use crate::wire::consts::alg;
use crate::wire::{AlgId, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// A hash algorithm this TPM implements.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize, serde::Deserialize,
)]
pub enum HashAlg {
    /// SHA-1 (deprecated by the spec, still used by PCR banks and old clients).
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// Every implemented hash, in `TPM_ALG_ID` order.
    pub const ALL: [HashAlg; 4] = [
        HashAlg::Sha1,
        HashAlg::Sha256,
        HashAlg::Sha384,
        HashAlg::Sha512,
    ];

    /// The algorithm identifier.
    pub const fn alg_id(self) -> AlgId {
        match self {
            HashAlg::Sha1 => alg::SHA1,
            HashAlg::Sha256 => alg::SHA256,
            HashAlg::Sha384 => alg::SHA384,
            HashAlg::Sha512 => alg::SHA512,
        }
    }

    /// Map an identifier to an implemented hash.
    pub const fn from_alg_id(id: AlgId) -> Option<HashAlg> {
        match id.0 {
            0x0004 => Some(HashAlg::Sha1),
            0x000B => Some(HashAlg::Sha256),
            0x000C => Some(HashAlg::Sha384),
            0x000D => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    /// Digest size in octets.
    pub const fn digest_size(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// Block size in octets (for HMAC).
    pub const fn block_size(self) -> usize {
        match self {
            HashAlg::Sha1 | HashAlg::Sha256 => 64,
            HashAlg::Sha384 | HashAlg::Sha512 => 128,
        }
    }

    /// Start an incremental hash.
    pub fn start(self) -> Hasher {
        match self {
            HashAlg::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            HashAlg::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            HashAlg::Sha384 => Hasher::Sha384(sha2::Sha384::new()),
            HashAlg::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    /// Hash the concatenation of `parts`.
    pub fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        let mut h = self.start();
        for p in parts {
            h.update(p);
        }
        h.finish()
    }

    /// Hash one buffer.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_parts(&[data])
    }
}

/// An incremental hash in progress.
#[derive(Clone, Debug)]
pub enum Hasher {
    /// SHA-1 state.
    Sha1(sha1::Sha1),
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-384 state.
    Sha384(sha2::Sha384),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// Which algorithm this is.
    pub fn alg(&self) -> HashAlg {
        match self {
            Hasher::Sha1(_) => HashAlg::Sha1,
            Hasher::Sha256(_) => HashAlg::Sha256,
            Hasher::Sha384(_) => HashAlg::Sha384,
            Hasher::Sha512(_) => HashAlg::Sha512,
        }
    }

    /// Absorb data.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    /// Finish and return the digest.
    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

/// `TPMI_ALG_HASH` (no `+NULL`): anything else is `TPM_RC_HASH`.
impl Unmarshal for HashAlg {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let id: AlgId = r.read()?;
        HashAlg::from_alg_id(id).ok_or(Rc::HASH)
    }
}

impl Marshal for HashAlg {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.alg_id());
    }
}

/// `TPMI_ALG_HASH+` : an implemented hash or `TPM_ALG_NULL`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct HashOrNull(pub Option<HashAlg>);

impl Unmarshal for HashOrNull {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let id: AlgId = r.read()?;
        if id == alg::NULL {
            return Ok(HashOrNull(None));
        }
        HashAlg::from_alg_id(id)
            .map(|h| HashOrNull(Some(h)))
            .ok_or(Rc::HASH)
    }
}

impl Marshal for HashOrNull {
    fn marshal(&self, w: &mut Writer) {
        match self.0 {
            Some(h) => w.write(&h),
            None => w.write(&alg::NULL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answers_abc() {
        // FIPS 180-4 example "abc".
        assert_eq!(
            HashAlg::Sha256.digest(b"abc"),
            [
                0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae,
                0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61,
                0xf2, 0x00, 0x15, 0xad
            ]
        );
        assert_eq!(HashAlg::Sha1.digest(b"abc")[..4], [0xa9, 0x99, 0x3e, 0x36]);
        assert_eq!(
            HashAlg::Sha384.digest(b"abc")[..4],
            [0xcb, 0x00, 0x75, 0x3f]
        );
        assert_eq!(
            HashAlg::Sha512.digest(b"abc")[..4],
            [0xdd, 0xaf, 0x35, 0xa1]
        );
    }

    #[test]
    fn rejects_unimplemented_hash_with_rc_hash() {
        let mut r = Reader::new(&[0x00, 0x12]);
        assert_eq!(r.read::<HashAlg>(), Err(Rc::HASH));
        let mut r = Reader::new(&[0x00, 0x10]);
        assert_eq!(r.read::<HashOrNull>(), Ok(HashOrNull(None)));
    }
}
