//! The TPM's random number generator: HMAC_DRBG with SHA-256
//! (NIST SP 800-90A rev. 1, 10.1.2), seeded from the platform's entropy.

use hmac::{KeyInit, Mac};
use zeroize::{Zeroize, ZeroizeOnDrop};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Requests between reseeds (SP 800-90A allows 2^48; we reseed far sooner).
pub const RESEED_INTERVAL: u64 = 1 << 20;

/// HMAC_DRBG state (`Key`, `V`, reseed counter). Zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Drbg {
    key: [u8; 32],
    v: [u8; 32],
    counter: u64,
}

impl core::fmt::Debug for Drbg {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Drbg { .. }")
    }
}

fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    // A 32-byte key is always a valid HMAC key.
    let mut mac = match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return [0; 32],
    };
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

impl Drbg {
    /// Instantiate from entropy (and an optional personalization string).
    pub fn new(entropy: &[u8], personalization: &[u8]) -> Self {
        let mut d = Drbg {
            key: [0; 32],
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
            let Ok(mut mac) = HmacSha256::new_from_slice(&self.key) else {
                return;
            };
            mac.update(&self.v);
            mac.update(&[sep]);
            for p in provided {
                mac.update(p);
            }
            self.key = mac.finalize().into_bytes().into();
            self.v = hmac(&self.key, &[&self.v]);
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
            self.v = hmac(&self.key, &[&self.v]);
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
}
