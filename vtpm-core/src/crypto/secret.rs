//! Secret byte strings, constant-time comparison and the random-byte source
//! every key generator and padding scheme draws from.
//!
//! Secrets (authValues, seeds, session keys, derived keys, private exponents)
//! live in [`SecretBytes`]: it zeroizes its buffer on drop, prints as
//! `SecretBytes(<n bytes>)`, and its `==` is constant time.

use alloc::vec::Vec;
use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::drbg::Drbg;

/// Constant-time equality of two byte strings.
///
/// The lengths are compared first (lengths are not secret); equal-length
/// contents are compared without data-dependent branches.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    bool::from(a.ct_eq(b))
}

/// A variable-length secret: zeroized on drop, redacted in `Debug`,
/// compared in constant time.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Copy a secret out of a slice.
    pub fn new(bytes: &[u8]) -> Self {
        SecretBytes(bytes.to_vec())
    }

    /// A secret of `len` zero octets (to be filled in place).
    pub fn zeroed(len: usize) -> Self {
        SecretBytes(alloc::vec![0; len])
    }

    /// The secret octets.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// The secret octets, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.0
    }

    /// Length in octets.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Constant-time comparison with a slice (length compared first).
    pub fn ct_eq(&self, other: &[u8]) -> bool {
        ct_eq(&self.0, other)
    }

    /// Shorten to `len` octets; the dropped tail is wiped first.
    pub fn truncate(&mut self, len: usize) {
        if let Some(tail) = self.0.get_mut(len..) {
            tail.zeroize();
        }
        self.0.truncate(len);
    }

    /// Append octets.
    pub fn extend_from_slice(&mut self, more: &[u8]) {
        // Grow by copying into a fresh buffer so the old allocation can be
        // wiped instead of being freed with secret contents by `Vec` growth.
        let Some(total) = self.0.len().checked_add(more.len()) else {
            return;
        };
        let mut grown = Vec::with_capacity(total);
        grown.extend_from_slice(&self.0);
        grown.extend_from_slice(more);
        self.0.zeroize();
        self.0 = grown;
    }
}

impl From<Vec<u8>> for SecretBytes {
    /// Take ownership of a buffer (it is wiped when the secret drops).
    fn from(v: Vec<u8>) -> Self {
        SecretBytes(v)
    }
}

impl From<&[u8]> for SecretBytes {
    fn from(v: &[u8]) -> Self {
        SecretBytes::new(v)
    }
}

impl AsRef<[u8]> for SecretBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl core::ops::Deref for SecretBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for SecretBytes {
    /// Constant time for equal lengths.
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.0, &other.0)
    }
}

impl Eq for SecretBytes {}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes>)", self.0.len())
    }
}

/// A source of random (or deterministic pseudo-random) octets.
///
/// Key generation draws every candidate from one of these, so a
/// deterministic stream (a DRBG seeded from a hierarchy seed and a template)
/// yields a reproducible key. Padding schemes, nonces and RSA blinding draw
/// from it too. Implemented by [`Drbg`] and by any `FnMut(&mut [u8])`.
pub trait Rng {
    /// Fill `out` completely.
    fn fill_bytes(&mut self, out: &mut [u8]);
}

impl Rng for Drbg {
    fn fill_bytes(&mut self, out: &mut [u8]) {
        self.generate(out);
    }
}

impl<F: FnMut(&mut [u8])> Rng for F {
    fn fill_bytes(&mut self, out: &mut [u8]) {
        self(out)
    }
}

/// Adapter from [`Rng`] to the `rand_core` traits the RustCrypto crates take.
pub(crate) struct RandCoreAdapter<'a>(pub(crate) &'a mut dyn Rng);

impl rsa::rand_core::TryRng for RandCoreAdapter<'_> {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.0.fill_bytes(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.0.fill_bytes(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

impl rsa::rand_core::TryCryptoRng for RandCoreAdapter<'_> {}

/// Test support shared by the crypto modules' known-answer tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::Rng;
    use crate::crypto::hash::HashAlg;
    use alloc::vec::Vec;

    /// A self-contained deterministic stream for known-answer tests (not the
    /// DRBG, whose evolution must not move the pins):
    /// block i = SHA-256(seed || [i]32), i = 0, 1, ...
    pub(crate) struct Sha256Stream {
        seed: Vec<u8>,
        counter: u32,
        buf: Vec<u8>,
    }

    impl Sha256Stream {
        pub(crate) fn new(seed: &[u8]) -> Self {
            Sha256Stream {
                seed: seed.to_vec(),
                counter: 0,
                buf: Vec::new(),
            }
        }
    }

    impl Rng for Sha256Stream {
        fn fill_bytes(&mut self, out: &mut [u8]) {
            for o in out {
                if self.buf.is_empty() {
                    let mut block =
                        HashAlg::Sha256.digest_parts(&[&self.seed, &self.counter.to_be_bytes()]);
                    block.reverse();
                    self.buf = block;
                    self.counter += 1;
                }
                *o = self.buf.pop().unwrap();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn ct_eq_checks_length_then_contents() {
        assert!(ct_eq(b"", b""));
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"abcd"));
        assert!(!ct_eq(b"abc\0", b"abc"));
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = SecretBytes::new(b"hunter2");
        let d = format!("{s:?}");
        assert_eq!(d, "SecretBytes(<7 bytes>)");
        assert!(!d.contains("hunter2"));
    }

    #[test]
    fn secret_eq_and_truncate() {
        let mut a = SecretBytes::new(b"secret-value");
        let b = SecretBytes::from(b"secret-value".to_vec());
        assert_eq!(a, b);
        assert!(a.ct_eq(b"secret-value"));
        a.truncate(6);
        assert_eq!(a.as_slice(), b"secret");
        assert_ne!(a, b);
        a.extend_from_slice(b"!");
        assert_eq!(&*a, b"secret!");
    }

    #[test]
    fn closures_and_drbg_are_rngs() {
        let mut n = 0u8;
        let mut counter = |out: &mut [u8]| {
            for b in out {
                *b = n;
                n = n.wrapping_add(1);
            }
        };
        let mut buf = [0u8; 3];
        Rng::fill_bytes(&mut counter, &mut buf);
        assert_eq!(buf, [0, 1, 2]);

        let mut d = Drbg::new(&[1; 32], b"");
        let mut e = d.clone();
        let (mut x, mut y) = ([0u8; 8], [0u8; 8]);
        Rng::fill_bytes(&mut d, &mut x);
        e.generate(&mut y);
        assert_eq!(x, y);
    }
}
