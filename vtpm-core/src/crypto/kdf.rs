//! The TPM's key derivation functions (Part 1, 8.4.10 in v185; 11.4.10 in
//! older revisions) and MGF1.
//!
//! * [`kdfa`]: SP 800-108 counter mode with HMAC as the PRF (Part 1, 8.4.10.2).
//! * [`kdfe`]: the SP 800-56C one-step (concatenation) KDF used after ECDH
//!   (Part 1, 8.4.10.3).
//! * [`mgf1`]: the mask generation function of RFC 8017, B.2.1.
//!
//! Every length is checked: a request for more than [`MAX_KDF_BITS`] returns
//! `TPM_RC_SIZE` instead of allocating without bound.

use alloc::vec::Vec;

use super::hash::HashAlg;
use super::hmac::HmacState;
use super::secret::SecretBytes;
use crate::wire::{Rc, TpmResult};

/// Largest output any caller may ask for, in bits: a TPM2B of 65535 octets.
pub const MAX_KDF_BITS: u32 = 65_535 * 8;

/// Output length in octets for `bits`, or `TPM_RC_SIZE` above the cap.
fn out_len(bits: u32) -> TpmResult<usize> {
    if bits > MAX_KDF_BITS {
        return Err(Rc::SIZE);
    }
    usize::try_from(bits.div_ceil(8)).map_err(|_| Rc::SIZE)
}

/// Clear the unused high-order bits of the first octet when `bits` is not a
/// multiple of 8 ("masked off and not shifted", Part 1, 8.4.10.2).
fn mask_leading_bits(out: &mut [u8], bits: u32) {
    let extra = bits % 8;
    if extra != 0 {
        if let Some(first) = out.first_mut() {
            *first &= 0xFFu8 >> (8u32.saturating_sub(extra));
        }
    }
}

/// True when a zero octet must follow `label`: when it is absent or does not
/// already end in zero (Part 1, 8.4.10.2, equation 6).
fn needs_terminator(label: &[u8]) -> bool {
    label.last() != Some(&0)
}

/// `KDFa(hashAlg, key, label, contextU, contextV, bits)` (Part 1, 8.4.10.2).
///
/// `K(i) := HMAC(key, [i]32 || label || 00 || contextU || contextV || [bits]32)`
/// with `i` counting from 1; the 00 octet is added only when `label` is empty
/// or does not already end in 00. The result is `ceil(bits / 8)` octets with
/// the excess high-order bits of the first octet cleared.
pub fn kdfa(
    alg: HashAlg,
    key: &[u8],
    label: &[u8],
    context_u: &[u8],
    context_v: &[u8],
    bits: u32,
) -> TpmResult<SecretBytes> {
    let len = out_len(bits)?;
    let mut out = SecretBytes::zeroed(len);
    let terminator: &[u8] = if needs_terminator(label) { &[0] } else { &[] };
    let mut counter: u32 = 0;
    for chunk in out.as_mut_slice().chunks_mut(alg.digest_size()) {
        counter = counter.checked_add(1).ok_or(Rc::SIZE)?;
        let mut m = HmacState::new(alg, key);
        m.update(&counter.to_be_bytes());
        m.update(label);
        m.update(terminator);
        m.update(context_u);
        m.update(context_v);
        m.update(&bits.to_be_bytes());
        let k = SecretBytes::from(m.finish());
        for (d, s) in chunk.iter_mut().zip(k.iter()) {
            *d = *s;
        }
    }
    mask_leading_bits(out.as_mut_slice(), bits);
    Ok(out)
}

/// `KDFe(hashAlg, Z, use, partyUInfo, partyVInfo, bits)` (Part 1, 8.4.10.3).
///
/// `digest(i) := H([i]32 || Z || use || 00 || partyUInfo || partyVInfo)`
/// with `i` counting from 1. `use` is a null-terminated string in the spec;
/// as in [`kdfa`], the terminating 00 is added only when `label` is empty or
/// does not already end in 00, so `b"SECRET"` and `b"SECRET\0"` are the same
/// label. `Z`, `partyUInfo` and `partyVInfo` are the x-coordinates (buffers
/// only, no size fields). Excess high-order bits of the first octet are
/// cleared as for KDFa.
pub fn kdfe(
    alg: HashAlg,
    z: &[u8],
    label: &[u8],
    party_u: &[u8],
    party_v: &[u8],
    bits: u32,
) -> TpmResult<SecretBytes> {
    let len = out_len(bits)?;
    let mut out = SecretBytes::zeroed(len);
    let terminator: &[u8] = if needs_terminator(label) { &[0] } else { &[] };
    let mut counter: u32 = 0;
    for chunk in out.as_mut_slice().chunks_mut(alg.digest_size()) {
        counter = counter.checked_add(1).ok_or(Rc::SIZE)?;
        let mut h = alg.start();
        h.update(&counter.to_be_bytes());
        h.update(z);
        h.update(label);
        h.update(terminator);
        h.update(party_u);
        h.update(party_v);
        let d = SecretBytes::from(h.finish());
        for (o, s) in chunk.iter_mut().zip(d.iter()) {
            *o = *s;
        }
    }
    mask_leading_bits(out.as_mut_slice(), bits);
    Ok(out)
}

/// XOR `MGF1(seed, out.len())` into `out` (RFC 8017, B.2.1): the mask is
/// `H(seed || [0]32) || H(seed || [1]32) || ...`. Used by OAEP and PSS.
pub(crate) fn mgf1_xor(alg: HashAlg, seed: &[u8], out: &mut [u8]) {
    let mut counter: u32 = 0;
    for chunk in out.chunks_mut(alg.digest_size()) {
        let mask = alg.digest_parts(&[seed, &counter.to_be_bytes()]);
        for (o, m) in chunk.iter_mut().zip(mask.iter()) {
            *o ^= *m;
        }
        counter = counter.wrapping_add(1);
    }
}

/// `MGF1(seed, len)` with hash `alg` (RFC 8017, B.2.1). `len` is limited to
/// `MAX_KDF_BITS / 8` octets (`TPM_RC_SIZE` beyond).
pub fn mgf1(alg: HashAlg, seed: &[u8], len: usize) -> TpmResult<Vec<u8>> {
    let cap = usize::try_from(MAX_KDF_BITS / 8).map_err(|_| Rc::SIZE)?;
    if len > cap {
        return Err(Rc::SIZE);
    }
    let mut out = alloc::vec![0u8; len];
    mgf1_xor(alg, seed, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! Known answers computed independently with Python's `hashlib`/`hmac`
    //! from the formulas in Part 1, 8.4.10 (no TPM code involved):
    //!
    //! ```text
    //! import hashlib, hmac, struct
    //! def kdfa(h, key, label, u, v, bits):
    //!     if not label or label[-1] != 0: label += b"\0"
    //!     out, i = b"", 1
    //!     while len(out) * 8 < bits:
    //!         out += hmac.new(key, struct.pack(">I", i) + label + u + v
    //!                         + struct.pack(">I", bits), h).digest()
    //!         i += 1
    //!     out = bytearray(out[:(bits + 7) // 8])
    //!     if bits % 8: out[0] &= (1 << (bits % 8)) - 1
    //!     return bytes(out)
    //! def kdfe(h, z, label, u, v, bits):
    //!     if not label or label[-1] != 0: label += b"\0"
    //!     out, i = b"", 1
    //!     while len(out) * 8 < bits:
    //!         out += hashlib.new(h, struct.pack(">I", i) + z + label + u + v).digest()
    //!         i += 1
    //!     out = bytearray(out[:(bits + 7) // 8])
    //!     if bits % 8: out[0] &= (1 << (bits % 8)) - 1
    //!     return bytes(out)
    //! def mgf1(h, seed, n):
    //!     return b"".join(hashlib.new(h, seed + struct.pack(">I", i)).digest()
    //!                     for i in range((n + 63) // 32 + 2))[:n]
    //! ```
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: alloc::string::String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn kdfa_known_answers() {
        // kdfa("sha256", b"key"*4, b"CFB", b"nonce-newer", b"nonce-older", 384)
        let k = kdfa(
            HashAlg::Sha256,
            b"keykeykeykey",
            b"CFB",
            b"nonce-newer",
            b"nonce-older",
            384,
        )
        .unwrap();
        assert_eq!(k.as_slice(), hex(KDFA_SHA256_CFB_384).as_slice());
        // The same label with its terminator already present gives the same bytes.
        let k0 = kdfa(
            HashAlg::Sha256,
            b"keykeykeykey",
            b"CFB\0",
            b"nonce-newer",
            b"nonce-older",
            384,
        )
        .unwrap();
        assert_eq!(k, k0);
        // kdfa("sha1", bytes(range(20)), b"STORAGE", b"name", b"", 128)
        let k = kdfa(
            HashAlg::Sha1,
            &(0u8..20).collect::<Vec<_>>(),
            b"STORAGE",
            b"name",
            b"",
            128,
        )
        .unwrap();
        assert_eq!(k.as_slice(), hex(KDFA_SHA1_STORAGE_128).as_slice());
        // kdfa("sha384", b"k", b"", b"", b"", 521): empty label, masked first octet.
        let k = kdfa(HashAlg::Sha384, b"k", b"", b"", b"", 521).unwrap();
        assert_eq!(k.len(), 66);
        assert_eq!(k.as_slice(), hex(KDFA_SHA384_EMPTY_521).as_slice());
        assert_eq!(k.as_slice()[0] & 0xFE, 0);
        // kdfa("sha512", b"seed", b"INTEGRITY", b"", b"", 512)
        let k = kdfa(HashAlg::Sha512, b"seed", b"INTEGRITY", b"", b"", 512).unwrap();
        assert_eq!(k.as_slice(), hex(KDFA_SHA512_INTEGRITY_512).as_slice());
    }

    #[test]
    fn kdfa_edge_sizes() {
        assert!(kdfa(HashAlg::Sha256, b"k", b"L", b"", b"", 0)
            .unwrap()
            .is_empty());
        assert_eq!(
            kdfa(HashAlg::Sha256, b"k", b"L", b"", b"", 1)
                .unwrap()
                .as_slice()[0]
                & 0xFE,
            0
        );
        assert_eq!(
            kdfa(HashAlg::Sha256, b"k", b"L", b"", b"", MAX_KDF_BITS + 1),
            Err(Rc::SIZE)
        );
        assert_eq!(
            kdfa(HashAlg::Sha256, b"k", b"L", b"", b"", u32::MAX),
            Err(Rc::SIZE)
        );
    }

    #[test]
    fn kdfe_known_answers() {
        // kdfe("sha256", bytes(range(32)), b"SECRET", b"U"*32, b"V"*32, 256)
        let z: Vec<u8> = (0u8..32).collect();
        let k = kdfe(
            HashAlg::Sha256,
            &z,
            b"SECRET",
            &[b'U'; 32],
            &[b'V'; 32],
            256,
        )
        .unwrap();
        assert_eq!(k.as_slice(), hex(KDFE_SHA256_SECRET_256).as_slice());
        let k0 = kdfe(
            HashAlg::Sha256,
            &z,
            b"SECRET\0",
            &[b'U'; 32],
            &[b'V'; 32],
            256,
        )
        .unwrap();
        assert_eq!(k, k0);
        // kdfe("sha384", bytes(range(48)), b"DUPLICATE", b"u", b"v", 600)
        let z: Vec<u8> = (0u8..48).collect();
        let k = kdfe(HashAlg::Sha384, &z, b"DUPLICATE", b"u", b"v", 600).unwrap();
        assert_eq!(k.as_slice(), hex(KDFE_SHA384_DUPLICATE_600).as_slice());
    }

    #[test]
    fn mgf1_known_answers() {
        // mgf1("sha1", b"foo", 5) is the classic example value 1ac9075cd4.
        assert_eq!(mgf1(HashAlg::Sha1, b"foo", 5).unwrap(), hex("1ac9075cd4"));
        // mgf1("sha256", b"bar", 50)
        assert_eq!(
            mgf1(HashAlg::Sha256, b"bar", 50).unwrap(),
            hex(MGF1_SHA256_BAR_50)
        );
        assert!(mgf1(HashAlg::Sha256, b"bar", 0).unwrap().is_empty());
        assert_eq!(mgf1(HashAlg::Sha256, b"bar", 1 << 20), Err(Rc::SIZE));
    }

    const KDFA_SHA256_CFB_384: &str =
        "8c57e35a58744f4a52b2b589bb795e23d0b4d49df26b2d9937c83d69cd7541db \
    3de8332c3d079635c461d9570795b183";
    const KDFA_SHA1_STORAGE_128: &str = "b64cc56b257c38550eed5955f5fd1406";
    const KDFA_SHA384_EMPTY_521: &str =
        "006bd4d549ac5642cabf774af8cad3e538d46f606683fc626192b6e1ae2e5297 \
    8ede7313e2120a8ed9cdaee20a26cc54a565ddd85f23cf6374593fbca3bb493c \
    5cc7";
    const KDFA_SHA512_INTEGRITY_512: &str =
        "7c0afec71a3b1a1b38b2e779942a606b44bff19759723b33cbc0f450e275955c \
    6bae7b322abcd8935d27ccb7389d80f8356964997c93574b57ff576ce137c1be";
    const KDFE_SHA256_SECRET_256: &str =
        "4cb16002b9abbc6ccb15924c35d37af3e08e2af94b6fc8dad22519ae03f5697b";
    const KDFE_SHA384_DUPLICATE_600: &str =
        "685d4bd75a3ffadf57c5bd43cd1a28f6805688c3626203f372893891c0fd0d46 \
    9b47134d1eec6312f33bb284c7fe79cebeca36434802918c42b6448b6461ea50 \
    ae3930cb98f5df6ed339f7";
    const MGF1_SHA256_BAR_50: &str =
        "382576a7841021cc28fc4c0948753fb8312090cea942ea4c4e735d10dc724b15 \
    5f9f6069f289d61daca0cb814502ef04eae1";
}
