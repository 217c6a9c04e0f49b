//! HMAC (RFC 2104 / FIPS 198-1) over every implemented hash, as plain
//! slices in and a `Vec<u8>` out.

use alloc::vec::Vec;

use hmac::{KeyInit, Mac};

use super::hash::HashAlg;
use super::secret::ct_eq;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;
type HmacSha256 = hmac::Hmac<sha2::Sha256>;
type HmacSha384 = hmac::Hmac<sha2::Sha384>;
type HmacSha512 = hmac::Hmac<sha2::Sha512>;

/// An HMAC computation in progress. The keyed state is wiped on drop
/// (the `hmac` crate's `zeroize` feature).
#[derive(Clone)]
pub enum HmacState {
    /// HMAC-SHA-1.
    Sha1(HmacSha1),
    /// HMAC-SHA-256.
    Sha256(HmacSha256),
    /// HMAC-SHA-384.
    Sha384(HmacSha384),
    /// HMAC-SHA-512.
    Sha512(HmacSha512),
}

impl core::fmt::Debug for HmacState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "HmacState({:?}, ..)", self.alg())
    }
}

/// Key an HMAC. `new_from_slice` accepts any length for HMAC; the fallback
/// builds K0 by hand (RFC 2104: hash an over-long key, pad with zeros to the
/// block size), which is the same key, so the result never differs.
fn keyed<M: KeyInit>(alg: HashAlg, key: &[u8]) -> M {
    if let Ok(m) = M::new_from_slice(key) {
        return m;
    }
    let hashed;
    let k = if key.len() > alg.block_size() {
        hashed = alg.digest(key);
        hashed.as_slice()
    } else {
        key
    };
    let mut k0 = hmac::digest::Key::<M>::default();
    for (d, s) in k0.iter_mut().zip(k) {
        *d = *s;
    }
    M::new(&k0)
}

impl HmacState {
    /// Start an HMAC with `key` (any length; longer than a block is hashed).
    pub fn new(alg: HashAlg, key: &[u8]) -> Self {
        match alg {
            HashAlg::Sha1 => HmacState::Sha1(keyed(alg, key)),
            HashAlg::Sha256 => HmacState::Sha256(keyed(alg, key)),
            HashAlg::Sha384 => HmacState::Sha384(keyed(alg, key)),
            HashAlg::Sha512 => HmacState::Sha512(keyed(alg, key)),
        }
    }

    /// The hash algorithm.
    pub fn alg(&self) -> HashAlg {
        match self {
            HmacState::Sha1(_) => HashAlg::Sha1,
            HmacState::Sha256(_) => HashAlg::Sha256,
            HmacState::Sha384(_) => HashAlg::Sha384,
            HmacState::Sha512(_) => HashAlg::Sha512,
        }
    }

    /// Absorb data.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            HmacState::Sha1(m) => m.update(data),
            HmacState::Sha256(m) => m.update(data),
            HmacState::Sha384(m) => m.update(data),
            HmacState::Sha512(m) => m.update(data),
        }
    }

    /// Finish and return the MAC (`alg.digest_size()` octets).
    pub fn finish(self) -> Vec<u8> {
        match self {
            HmacState::Sha1(m) => m.finalize().into_bytes().to_vec(),
            HmacState::Sha256(m) => m.finalize().into_bytes().to_vec(),
            HmacState::Sha384(m) => m.finalize().into_bytes().to_vec(),
            HmacState::Sha512(m) => m.finalize().into_bytes().to_vec(),
        }
    }

    /// Finish and compare with `expected` in constant time.
    pub fn verify(self, expected: &[u8]) -> bool {
        ct_eq(&self.finish(), expected)
    }
}

/// HMAC of the concatenation of `parts` under `key`.
pub fn hmac(alg: HashAlg, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = HmacState::new(alg, key);
    for p in parts {
        m.update(p);
    }
    m.finish()
}

/// Recompute an HMAC and compare it with `expected` in constant time.
pub fn hmac_verify(alg: HashAlg, key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    ct_eq(&hmac(alg, key, parts), expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // RFC 4231 test case 2 (key "Jefe") and test case 6 (131-byte key,
    // longer than the SHA-256/384/512 block), plus RFC 2202 test case 2 for
    // HMAC-SHA-1.
    #[test]
    fn rfc4231_case2_all_sha2() {
        let data: &[u8] = b"what do ya want for nothing?";
        assert_eq!(
            hmac(HashAlg::Sha256, b"Jefe", &[data]),
            hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
        assert_eq!(
            hmac(HashAlg::Sha384, b"Jefe", &[data]),
            hex(
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e\
                 8e2240ca5e69e2c78b3239ecfab21649"
            )
        );
        assert_eq!(
            hmac(HashAlg::Sha512, b"Jefe", &[data]),
            hex(
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
                 9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
            )
        );
        assert_eq!(
            hmac(HashAlg::Sha1, b"Jefe", &[data]),
            hex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
        );
    }

    #[test]
    fn rfc4231_case6_long_key() {
        let key = [0xaau8; 131];
        let data: &[u8] = b"Test Using Larger Than Block-Size Key - Hash Key First";
        assert_eq!(
            hmac(HashAlg::Sha256, &key, &[data]),
            hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        );
    }

    #[test]
    fn incremental_matches_one_shot() {
        for alg in HashAlg::ALL {
            let mut st = HmacState::new(alg, b"key");
            st.update(b"hello ");
            st.update(b"");
            st.update(b"world");
            assert_eq!(st.alg(), alg);
            let a = st.clone().finish();
            assert_eq!(a.len(), alg.digest_size());
            assert_eq!(a, hmac(alg, b"key", &[b"hello world"]));
            assert!(st.verify(&a));
            assert!(hmac_verify(alg, b"key", &[b"hello", b" world"], &a));
            assert!(!hmac_verify(alg, b"key", &[b"hello world"], &a[1..]));
        }
    }
}
