//! The TPM's random number generator: HMAC_DRBG with SHA-256
//! (NIST SP 800-90A rev. 1, 10.1.2), seeded from the platform's entropy.

use hmac::{KeyInit, Mac};
use zeroize::{Zeroize, ZeroizeOnDrop};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Requests between reseeds (SP 800-90A allows 2^48; we reseed far sooner).
pub const RESEED_INTERVAL: u64 = 1 << 20;

/// HMAC_DRBG state (`Key`, `V`, reseed counter). `Key` is kept as an HMAC
/// instance already keyed with it (the inner and outer pad blocks hashed
/// once), so each HMAC under the same Key costs two SHA-256 blocks instead
/// of four; the output is the standard HMAC_DRBG's. Zeroized on drop (the
/// keyed HMAC state zeroizes itself).
#[derive(Clone)]
pub struct Drbg {
    key: HmacSha256,
    v: [u8; 32],
    counter: u64,
}

impl Drop for Drbg {
    fn drop(&mut self) {
        self.v.zeroize();
        self.counter = 0;
    }
}

impl ZeroizeOnDrop for Drbg {}

impl core::fmt::Debug for Drbg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Drbg { .. }")
    }
}

/// HMAC keyed with `key`.
fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: this never fails.
    match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => HmacSha256::new(&Default::default()),
    }
}

/// HMAC(Key, `data`) with the already keyed `key`.
fn hmac(key: &HmacSha256, data: &[u8]) -> [u8; 32] {
    let mut mac = key.clone();
    mac.update(data);
    mac.finalize().into_bytes().into()
}

impl Drbg {
    /// Instantiate from entropy (and an optional personalization string):
    /// `Key` = 0x00..00, `V` = 0x01..01, then Update (SP 800-90A, 10.1.2.3).
    pub fn new(entropy: &[u8], personalization: &[u8]) -> Self {
        let mut d = Drbg {
            key: keyed(&[0; 32]),
            v: [1; 32],
            counter: 1,
        };
        d.update(&[entropy, personalization]);
        d
    }

    /// HMAC_DRBG_Update (SP 800-90A, 10.1.2.2).
    fn update(&mut self, provided: &[&[u8]]) {
        let no_input = provided.iter().all(|p| p.is_empty());
        for sep in [0x00u8, 0x01] {
            if sep == 0x01 && no_input {
                break;
            }
            // Key = HMAC(Key, V || sep || provided_data)
            let mut mac = self.key.clone();
            mac.update(&self.v);
            mac.update(&[sep]);
            for p in provided {
                mac.update(p);
            }
            let mut key: [u8; 32] = mac.finalize().into_bytes().into();
            self.key = keyed(&key);
            key.zeroize();
            // V = HMAC(Key, V)
            self.v = hmac(&self.key, &self.v);
        }
    }

    /// Mix in fresh entropy and additional input (reseed).
    pub fn reseed(&mut self, entropy: &[u8], additional: &[u8]) {
        self.update(&[entropy, additional]);
        self.counter = 1;
    }

    /// True when the reseed interval is reached.
    pub fn needs_reseed(&self) -> bool {
        self.counter >= RESEED_INTERVAL
    }

    /// Fill `out` with pseudo-random bytes.
    pub fn generate(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(32) {
            self.v = hmac(&self.key, &self.v);
            let n = chunk.len();
            if let Some(src) = self.v.get(..n) {
                chunk.copy_from_slice(src);
            }
        }
        self.update(&[]);
        self.counter = self.counter.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = Drbg::new(&[7; 48], b"vtpm");
        let mut b = Drbg::new(&[7; 48], b"vtpm");
        let (mut x, mut y) = ([0u8; 100], [0u8; 100]);
        a.generate(&mut x);
        b.generate(&mut y);
        assert_eq!(x, y);
        a.generate(&mut x);
        assert_ne!(x, y);
    }

    #[test]
    fn reseed_changes_stream() {
        let mut a = Drbg::new(&[7; 48], b"");
        let mut b = a.clone();
        b.reseed(&[1; 32], b"stir");
        let (mut x, mut y) = ([0u8; 32], [0u8; 32]);
        a.generate(&mut x);
        b.generate(&mut y);
        assert_ne!(x, y);
    }

    /// HMAC_DRBG written out from SP 800-90A, 10.1.2, re-keying HMAC for
    /// every call: the cached keyed state must give the same stream.
    struct Plain {
        key: [u8; 32],
        v: [u8; 32],
    }

    impl Plain {
        fn mac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
            let mut m = HmacSha256::new_from_slice(key).unwrap();
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().into()
        }
        fn update(&mut self, provided: &[&[u8]]) {
            let mut k = Self::mac(&self.key, &[&self.v, &[0], provided.concat().as_slice()]);
            self.key = k;
            self.v = Self::mac(&self.key, &[&self.v]);
            if provided.iter().any(|p| !p.is_empty()) {
                k = Self::mac(&self.key, &[&self.v, &[1], provided.concat().as_slice()]);
                self.key = k;
                self.v = Self::mac(&self.key, &[&self.v]);
            }
        }
        fn generate(&mut self, out: &mut [u8]) {
            for c in out.chunks_mut(32) {
                self.v = Self::mac(&self.key, &[&self.v]);
                c.copy_from_slice(&self.v[..c.len()]);
            }
            self.update(&[]);
        }
    }

    #[test]
    fn cached_key_gives_the_plain_hmac_drbg_stream() {
        let mut a = Drbg::new(&[0x5a; 48], b"vtpm DRBG");
        let mut b = Plain {
            key: [0; 32],
            v: [1; 32],
        };
        b.update(&[&[0x5a; 48], b"vtpm DRBG"]);
        for (i, n) in [32usize, 1, 8, 48, 64, 100, 0, 31].into_iter().enumerate() {
            let (mut x, mut y) = (alloc::vec![0u8; n], alloc::vec![0u8; n]);
            a.generate(&mut x);
            b.generate(&mut y);
            assert_eq!(x, y, "request {i} of {n} octets");
            if i == 3 {
                a.reseed(&[9; 32], b"_TPM_Init");
                b.update(&[&[9; 32], b"_TPM_Init"]);
            }
        }
    }
}
