//! The sealed state blob: the one at-rest format of the persistent state,
//! shared by the SVSM module (whose untrusted host stores the blob) and the
//! host simulator (which keeps it in a file).
//!
//! A blob is a fixed header followed by the AES-256-GCM encryption of the
//! serialized persistent state ([`crate::state::PersistentState::to_bytes`]).
//! The header travels in clear but is the GCM associated data, so every one
//! of its bits is authenticated together with the ciphertext.
//!
//! # Byte layout (format version 1)
//!
//! All integers are big-endian.
//!
//! | offset | size | field            | meaning |
//! |-------:|-----:|------------------|---------|
//! |      0 |    8 | `magic`          | `"VTPMSEAL"` ([`MAGIC`]) |
//! |      8 |    2 | `format_version` | `1` ([`FORMAT_VERSION`]) |
//! |     10 |    8 | `generation`     | write counter; the newest valid blob wins |
//! |     18 |   12 | `nonce`          | GCM nonce, fresh and random for every seal |
//! |     30 |    8 | `key_id`         | [`SealingKey::key_id`] of the sealing key |
//! |     38 |    4 | `payload_len`    | length of what follows: ciphertext + 16-byte tag |
//! |     42 |    n | ciphertext       | AES-256-GCM of the plaintext, AAD = bytes 0..42 |
//! |   42+n |   16 | tag              | GCM authentication tag |
//!
//! The header is [`HEADER_LEN`] (42) octets; a whole blob is at most
//! [`MAX_BLOB_SIZE`] octets. A blob is exactly `42 + payload_len` octets long:
//! a shorter one (a torn write) is [`BlobError::Truncated`], a longer one
//! [`BlobError::TrailingData`].
//!
//! # Checks, in order
//!
//! [`open`] (via [`BlobHeader::parse`]) refuses, each with its own
//! [`BlobError`]: a wrong magic, an unknown format version, an oversized
//! blob, a short header, a length that disagrees with `payload_len`, a key id
//! that is not the one of the key in hand, and finally a GCM tag that does
//! not verify. It reads only what it has checked it can read; no input makes
//! it panic.
//!
//! Any change to this layout or to the cipher is a new format version; a
//! release keeps opening every older version (see the known-answer blob in
//! `vtpm-core/tests/data/`).

use alloc::vec::Vec;
use core::fmt;

use aes_gcm::aead::AeadInOut;
use aes_gcm::{Aes256Gcm, KeyInit};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::crypto::secret::SecretBytes;

/// The first eight octets of every sealed blob.
pub const MAGIC: [u8; 8] = *b"VTPMSEAL";

/// The format version this release writes (and the only one it reads).
pub const FORMAT_VERSION: u16 = 1;

/// Length of the version-1 header, which is the GCM associated data.
pub const HEADER_LEN: usize = 42;

/// Length of the GCM authentication tag at the end of the blob.
pub const TAG_LEN: usize = 16;

/// Length of the GCM nonce.
pub const NONCE_LEN: usize = 12;

/// Length of a [`SealingKey::key_id`].
pub const KEY_ID_LEN: usize = 8;

/// The largest blob [`seal`] produces and [`open`] accepts (1 MiB). Storage
/// back ends should refuse to read more than this many octets.
pub const MAX_BLOB_SIZE: usize = 1 << 20;

/// Domain-separation label hashed in front of the key to form its key id.
pub const KEY_ID_LABEL: &[u8] = b"vtpm sealed-state key id\0";

/// The 256-bit AES-GCM key that seals the state. Zeroized on drop; its
/// `Debug` shows only the key id.
pub struct SealingKey {
    bytes: [u8; 32],
    key_id: [u8; KEY_ID_LEN],
}

impl SealingKey {
    /// Key length in octets.
    pub const LEN: usize = 32;

    /// Take a key. The caller should wipe its own copy of `bytes`.
    pub fn new(bytes: [u8; 32]) -> Self {
        let key_id = compute_key_id(&bytes);
        SealingKey { bytes, key_id }
    }

    /// Copy a key out of a slice; `None` unless it is exactly 32 octets.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: &[u8; 32] = bytes.try_into().ok()?;
        Some(SealingKey::new(*arr))
    }

    /// The key identifier written into every blob this key seals: the first
    /// eight octets of `SHA-256(KEY_ID_LABEL || key)`, where
    /// [`KEY_ID_LABEL`] is the 25 octets `"vtpm sealed-state key id\0"`.
    ///
    /// It lets [`open`] tell "sealed under another key" apart from "damaged
    /// or tampered with". It reveals nothing useful about the key (a
    /// truncated preimage-resistant hash of 256 secret bits) and is not a
    /// substitute for the GCM tag: the tag alone decides authenticity.
    pub fn key_id(&self) -> [u8; KEY_ID_LEN] {
        self.key_id
    }

    fn aead(&self) -> Aes256Gcm {
        let key: &aes_gcm::Key<Aes256Gcm> = (&self.bytes).into();
        Aes256Gcm::new(key)
    }
}

fn compute_key_id(key: &[u8; 32]) -> [u8; KEY_ID_LEN] {
    let digest = Sha256::new()
        .chain_update(KEY_ID_LABEL)
        .chain_update(key)
        .finalize();
    let mut id = [0u8; KEY_ID_LEN];
    for (d, s) in id.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    id
}

impl Drop for SealingKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SealingKey {{ key_id: {}, key: <redacted> }}",
            Hex(&self.key_id)
        )
    }
}

/// The clear, authenticated header of a sealed blob (layout in the
/// [module documentation](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlobHeader {
    /// Always [`MAGIC`] in a parsed header.
    pub magic: [u8; 8],
    /// Always [`FORMAT_VERSION`] in a parsed header.
    pub format_version: u16,
    /// Write counter: among valid blobs, the highest generation is the
    /// newest state.
    pub generation: u64,
    /// The GCM nonce.
    pub nonce: [u8; NONCE_LEN],
    /// [`SealingKey::key_id`] of the key that sealed the blob.
    pub key_id: [u8; KEY_ID_LEN],
    /// Octets after the header: ciphertext plus the 16-octet tag.
    pub payload_len: u32,
}

impl BlobHeader {
    /// The header's encoding, which is also the GCM associated data.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let fields: [&[u8]; 6] = [
            &self.magic,
            &self.format_version.to_be_bytes(),
            &self.generation.to_be_bytes(),
            &self.nonce,
            &self.key_id,
            &self.payload_len.to_be_bytes(),
        ];
        for (d, s) in out.iter_mut().zip(fields.iter().flat_map(|f| f.iter())) {
            *d = *s;
        }
        out
    }

    /// Parse and check the structure of a whole blob without a key: magic,
    /// format version, size limit, and that the blob is exactly as long as
    /// its header says. Authenticity is only established by [`open`]; until
    /// then every field here may have been forged.
    pub fn parse(blob: &[u8]) -> Result<BlobHeader, BlobError> {
        let len = blob.len();
        let truncated = |needed: usize| BlobError::Truncated { len, needed };

        let (magic, rest) = blob.split_first_chunk::<8>().ok_or(truncated(8))?;
        if *magic != MAGIC {
            return Err(BlobError::BadMagic);
        }
        let (version, rest) = rest.split_first_chunk::<2>().ok_or(truncated(10))?;
        let format_version = u16::from_be_bytes(*version);
        if format_version != FORMAT_VERSION {
            return Err(BlobError::UnknownFormatVersion(format_version));
        }
        if len > MAX_BLOB_SIZE {
            return Err(BlobError::TooLarge {
                len,
                max: MAX_BLOB_SIZE,
            });
        }
        let min_len = HEADER_LEN.saturating_add(TAG_LEN);
        if len < min_len {
            return Err(truncated(min_len));
        }
        let (generation, rest) = rest.split_first_chunk::<8>().ok_or(truncated(min_len))?;
        let (nonce, rest) = rest
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(truncated(min_len))?;
        let (key_id, rest) = rest
            .split_first_chunk::<KEY_ID_LEN>()
            .ok_or(truncated(min_len))?;
        let (payload_len, payload) = rest.split_first_chunk::<4>().ok_or(truncated(min_len))?;
        let payload_len = u32::from_be_bytes(*payload_len);
        let expected = usize::try_from(payload_len)
            .ok()
            .and_then(|p| p.checked_add(HEADER_LEN))
            .unwrap_or(usize::MAX);
        if len < expected {
            return Err(truncated(expected));
        }
        if len > expected || payload.len() < TAG_LEN {
            return Err(BlobError::TrailingData { len, expected });
        }
        Ok(BlobHeader {
            magic: *magic,
            format_version,
            generation: u64::from_be_bytes(*generation),
            nonce: *nonce,
            key_id: *key_id,
            payload_len,
        })
    }
}

/// Why a sealed blob was refused (or, for [`BlobError::TooLarge`], could
/// not be produced). Every variant's `Display` names the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlobError {
    /// Larger than [`MAX_BLOB_SIZE`].
    TooLarge {
        /// Size of the blob (or of the blob [`seal`] would have produced).
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Shorter than its header says: typically a torn write.
    Truncated {
        /// Octets present.
        len: usize,
        /// Octets needed.
        needed: usize,
    },
    /// Longer than its header says.
    TrailingData {
        /// Octets present.
        len: usize,
        /// Octets the header announces.
        expected: usize,
    },
    /// Does not start with [`MAGIC`]: not a sealed vTPM state at all.
    BadMagic,
    /// Written in a format version this release does not know (a newer
    /// release wrote it).
    UnknownFormatVersion(u16),
    /// Sealed under a different key.
    WrongKey {
        /// Key id of the key in hand.
        expected_id: [u8; KEY_ID_LEN],
        /// Key id recorded in the blob.
        found_id: [u8; KEY_ID_LEN],
    },
    /// The GCM tag does not verify: the header or the ciphertext was
    /// corrupted or tampered with.
    AuthenticationFailed,
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlobError::TooLarge { len, max } => write!(
                f,
                "sealed state is too large: {len} bytes, the limit is {max} bytes"
            ),
            BlobError::Truncated { len, needed } => write!(
                f,
                "sealed state is truncated (torn write?): {len} bytes, {needed} needed"
            ),
            BlobError::TrailingData { len, expected } => write!(
                f,
                "sealed state has trailing data: {len} bytes, its header announces {expected}"
            ),
            BlobError::BadMagic => f.write_str("not a sealed vTPM state (bad magic)"),
            BlobError::UnknownFormatVersion(v) => write!(
                f,
                "sealed state format version {v} is unknown to this release \
                 (it reads version {FORMAT_VERSION}); was it written by a newer release?"
            ),
            BlobError::WrongKey {
                expected_id,
                found_id,
            } => write!(
                f,
                "sealed state was sealed under another key (key id {}, this TPM's key id is {})",
                Hex(found_id),
                Hex(expected_id)
            ),
            BlobError::AuthenticationFailed => {
                f.write_str("sealed state failed authentication: it was corrupted or tampered with")
            }
        }
    }
}

impl core::error::Error for BlobError {}

/// Seal `plaintext` (normally [`crate::state::PersistentState::to_bytes`])
/// into a blob with the given generation.
///
/// `nonce` must be fresh random octets from the platform's entropy source
/// for every call: GCM loses confidentiality and integrity if a nonce is
/// ever repeated under one key. (Random 96-bit nonces are safe for well over
/// the 2^32 seals NIST SP 800-38D allows per key.)
///
/// Fails only with [`BlobError::TooLarge`] when the blob would exceed
/// [`MAX_BLOB_SIZE`].
pub fn seal(
    key: &SealingKey,
    generation: u64,
    nonce: &[u8; NONCE_LEN],
    plaintext: &[u8],
) -> Result<Vec<u8>, BlobError> {
    let too_large = BlobError::TooLarge {
        len: plaintext
            .len()
            .saturating_add(HEADER_LEN)
            .saturating_add(TAG_LEN),
        max: MAX_BLOB_SIZE,
    };
    let payload_len = plaintext.len().saturating_add(TAG_LEN);
    let total = payload_len.saturating_add(HEADER_LEN);
    if total > MAX_BLOB_SIZE {
        return Err(too_large);
    }
    let header = BlobHeader {
        magic: MAGIC,
        format_version: FORMAT_VERSION,
        generation,
        nonce: *nonce,
        key_id: key.key_id(),
        payload_len: u32::try_from(payload_len).map_err(|_| too_large)?,
    };
    let aad = header.to_bytes();

    // One exact allocation: the plaintext is encrypted in place and never
    // left behind in a reallocated buffer.
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&aad);
    out.extend_from_slice(plaintext);
    let Some(body) = out.get_mut(HEADER_LEN..) else {
        out.as_mut_slice().zeroize();
        return Err(too_large);
    };
    let tag = match key
        .aead()
        .encrypt_inout_detached(nonce.into(), &aad, body.into())
    {
        Ok(tag) => tag,
        Err(_) => {
            // Unreachable for inputs under MAX_BLOB_SIZE; never leave
            // plaintext behind.
            out.as_mut_slice().zeroize();
            return Err(too_large);
        }
    };
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Open a blob sealed by [`seal`]: check its header, its key id and its GCM
/// tag, and return the header with the plaintext (as a zeroizing secret).
///
/// The caller decides freshness: compare [`BlobHeader::generation`] with
/// what the platform remembers (see [`crate::state::slots::choose`]).
pub fn open(key: &SealingKey, blob: &[u8]) -> Result<(BlobHeader, SecretBytes), BlobError> {
    let header = BlobHeader::parse(blob)?;
    if header.key_id != key.key_id() {
        return Err(BlobError::WrongKey {
            expected_id: key.key_id(),
            found_id: header.key_id,
        });
    }
    let (aad, payload) = blob
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(BlobError::Truncated {
            len: blob.len(),
            needed: HEADER_LEN,
        })?;
    let (ciphertext, tag) = payload
        .split_last_chunk::<TAG_LEN>()
        .ok_or(BlobError::Truncated {
            len: blob.len(),
            needed: HEADER_LEN.saturating_add(TAG_LEN),
        })?;
    let mut plaintext = SecretBytes::new(ciphertext);
    key.aead()
        .decrypt_inout_detached(
            (&header.nonce).into(),
            aad,
            plaintext.as_mut_slice().into(),
            tag.into(),
        )
        .map_err(|_| BlobError::AuthenticationFailed)?;
    Ok((header, plaintext))
}

/// Lower-case hex of a short byte string, for messages.
struct Hex<'a>(&'a [u8]);

impl fmt::Display for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn key(b: u8) -> SealingKey {
        SealingKey::new([b; 32])
    }

    #[test]
    fn header_layout_is_pinned() {
        let h = BlobHeader {
            magic: MAGIC,
            format_version: 1,
            generation: 0x0102_0304_0506_0708,
            nonce: [0xA0; 12],
            key_id: [0xB0; 8],
            payload_len: 0x1122_3344,
        };
        let b = h.to_bytes();
        assert_eq!(&b[0..8], b"VTPMSEAL");
        assert_eq!(&b[8..10], &[0, 1]);
        assert_eq!(&b[10..18], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&b[18..30], &[0xA0; 12]);
        assert_eq!(&b[30..38], &[0xB0; 8]);
        assert_eq!(&b[38..42], &[0x11, 0x22, 0x33, 0x44]);
    }

    #[test]
    fn key_id_is_pinned_and_debug_redacts() {
        let k = key(0);
        // SHA-256("vtpm sealed-state key id\0" || 32 zero octets)[..8].
        let digest = Sha256::new()
            .chain_update(b"vtpm sealed-state key id\0")
            .chain_update([0u8; 32])
            .finalize();
        assert_eq!(&k.key_id()[..], &digest[..8]);
        let dbg = alloc::format!("{k:?}");
        assert!(dbg.contains("redacted"));
        assert!(!dbg.contains("0000000000000000000000000000000000000000"));
        assert_ne!(key(1).key_id(), k.key_id());
    }

    #[test]
    fn seal_open_round_trip_and_layout() {
        let k = key(7);
        let blob = seal(&k, 42, &[9; 12], b"state").unwrap();
        assert_eq!(blob.len(), HEADER_LEN + 5 + TAG_LEN);
        let (h, pt) = open(&k, &blob).unwrap();
        assert_eq!(h.generation, 42);
        assert_eq!(h.nonce, [9; 12]);
        assert_eq!(h.key_id, k.key_id());
        assert_eq!(h.payload_len, 21);
        assert_eq!(pt.as_slice(), b"state");
        assert_eq!(&blob[..HEADER_LEN], &h.to_bytes());
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let k = key(7);
        let blob = seal(&k, 0, &[0; 12], b"").unwrap();
        assert_eq!(blob.len(), HEADER_LEN + TAG_LEN);
        assert!(open(&k, &blob).unwrap().1.is_empty());
    }

    #[test]
    fn too_large_refused_both_ways() {
        let k = key(7);
        let big = alloc::vec![0u8; MAX_BLOB_SIZE - HEADER_LEN - TAG_LEN + 1];
        assert!(matches!(
            seal(&k, 1, &[0; 12], &big),
            Err(BlobError::TooLarge { .. })
        ));
        let fits = seal(&k, 1, &[0; 12], &big[1..]).unwrap();
        assert_eq!(fits.len(), MAX_BLOB_SIZE);
        assert!(open(&k, &fits).is_ok());
        let mut over = fits;
        over.push(0);
        assert!(matches!(open(&k, &over), Err(BlobError::TooLarge { .. })));
    }

    #[test]
    fn huge_payload_len_is_truncated_not_overflow() {
        let k = key(7);
        let mut blob = seal(&k, 1, &[0; 12], b"x").unwrap();
        blob[38..42].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(open(&k, &blob), Err(BlobError::Truncated { .. })));
        blob[38..42].copy_from_slice(&0u32.to_be_bytes());
        assert!(matches!(
            open(&k, &blob),
            Err(BlobError::TrailingData { .. })
        ));
    }

    #[test]
    fn messages_name_the_reason() {
        let cases: [(BlobError, &str); 7] = [
            (BlobError::TooLarge { len: 2, max: 1 }, "too large"),
            (BlobError::Truncated { len: 1, needed: 2 }, "truncated"),
            (
                BlobError::TrailingData {
                    len: 3,
                    expected: 2,
                },
                "trailing",
            ),
            (BlobError::BadMagic, "magic"),
            (BlobError::UnknownFormatVersion(9), "version 9"),
            (
                BlobError::WrongKey {
                    expected_id: [0xAB; 8],
                    found_id: [0xCD; 8],
                },
                "another key (key id cdcdcdcdcdcdcdcd, this TPM's key id is abababababababab)",
            ),
            (BlobError::AuthenticationFailed, "authentication"),
        ];
        for (e, needle) in cases {
            assert!(e.to_string().contains(needle), "{e}");
        }
    }
}
