//! Protection of sensitive areas (Part 1, 23: "Protected Storage") and of
//! saved contexts (Part 1, 30).

use alloc::vec::Vec;

use crate::crypto::hmac::hmac;
use crate::crypto::kdf::kdfa;
use crate::crypto::secret::ct_eq;
use crate::crypto::sym::{cfb_decrypt_in_place, cfb_encrypt_in_place};
use crate::crypto::HashAlg;
use crate::wire::object::{Public, Sensitive};
use crate::wire::public::SymDef;
use crate::wire::{Rc, Reader, TpmResult, Unmarshal, Writer};

/// The storage keys a parent derives from its seedValue for one child.
struct StorageKeys {
    sym: Vec<u8>,
    hmac: Vec<u8>,
    alg: HashAlg,
}

fn storage_keys(parent: &Public, parent_seed: &[u8], child_name: &[u8]) -> TpmResult<StorageKeys> {
    let alg = parent.name_alg.ok_or(Rc::TYPE)?;
    let key_bits = match parent.symmetric() {
        SymDef::Aes { key_bits, .. } => u32::from(key_bits),
        _ => return Err(Rc::TYPE),
    };
    // Part 1, 23.3.2: symKey = KDFa(pNameAlg, seedValue, "STORAGE", name, "", bits)
    let sym = kdfa(alg, parent_seed, b"STORAGE", child_name, &[], key_bits)?
        .as_slice()
        .to_vec();
    // Part 1, 23.3.3: HMACkey = KDFa(pNameAlg, seedValue, "INTEGRITY", "", "", digest bits)
    let bits = u32::try_from(alg.digest_size().saturating_mul(8)).map_err(|_| Rc::FAILURE)?;
    let hmac_key = kdfa(alg, parent_seed, b"INTEGRITY", &[], &[], bits)?
        .as_slice()
        .to_vec();
    Ok(StorageKeys {
        sym,
        hmac: hmac_key,
        alg,
    })
}

/// The outer wrapper (Part 1, 23.3): `TPM2B_DIGEST(outerHMAC) ||
/// CFB(inner)` with a zero IV (the key is unique to the Name), keys from
/// `seed` and the protecting key's nameAlg and symmetric definition.
/// `inner` is already marshaled (a TPM2B).
pub fn outer_wrap(
    protector: &Public,
    seed: &[u8],
    name: &[u8],
    inner: &[u8],
) -> TpmResult<Vec<u8>> {
    let keys = storage_keys(protector, seed, name)?;
    let mut enc = inner.to_vec();
    cfb_encrypt_in_place(&keys.sym, &[0u8; 16], &mut enc)?;
    let integrity = hmac(keys.alg, &keys.hmac, &[&enc, name]);
    let mut out = Writer::new();
    out.tpm2b(&integrity);
    out.bytes(&enc);
    Ok(out.into_vec())
}

/// Remove an outer wrapper made by [`outer_wrap`]; `TPM_RC_INTEGRITY` if
/// the HMAC does not verify. Returns the decrypted inner bytes.
pub fn outer_unwrap(
    protector: &Public,
    seed: &[u8],
    name: &[u8],
    wrapped: &[u8],
) -> TpmResult<Vec<u8>> {
    let keys = storage_keys(protector, seed, name)?;
    let mut r = Reader::new(wrapped);
    let integrity = r.tpm2b(keys.alg.digest_size()).map_err(|_| Rc::INTEGRITY)?;
    let enc = r.rest();
    let expect = hmac(keys.alg, &keys.hmac, &[enc, name]);
    if !ct_eq(integrity, &expect) {
        return Err(Rc::INTEGRITY);
    }
    let mut plain = enc.to_vec();
    cfb_decrypt_in_place(&keys.sym, &[0u8; 16], &mut plain)?;
    Ok(plain)
}

/// Parse `TPM2B(TPMT_SENSITIVE)` exactly (`TPM_RC_SENSITIVE` otherwise).
pub fn parse_sensitive_2b(plain: &[u8]) -> TpmResult<Sensitive> {
    let mut r = Reader::new(plain);
    let size = usize::from(r.u16().map_err(|_| Rc::SENSITIVE)?);
    let mut sub = r.sub(size).map_err(|_| Rc::SENSITIVE)?;
    let s = Sensitive::unmarshal(&mut sub).map_err(|_| Rc::SENSITIVE)?;
    if !sub.is_empty() || !r.is_empty() {
        return Err(Rc::SENSITIVE);
    }
    Ok(s)
}

/// `TPM2B(TPMT_SENSITIVE)`.
pub fn sensitive_2b(sensitive: &Sensitive) -> Vec<u8> {
    let mut w = Writer::new();
    w.sized(|w| w.write(sensitive));
    w.into_vec()
}

/// Wrap a child's sensitive area for `TPM2B_PRIVATE` under its parent.
pub fn wrap(
    parent: &Public,
    parent_seed: &[u8],
    child_name: &[u8],
    sensitive: &Sensitive,
) -> TpmResult<Vec<u8>> {
    let mut inner = sensitive_2b(sensitive);
    let out = outer_wrap(parent, parent_seed, child_name, &inner);
    use zeroize::Zeroize;
    inner.zeroize();
    out
}

/// Unwrap a `TPM2B_PRIVATE` produced by [`wrap`] (or by another TPM for
/// the same parent). `TPM_RC_INTEGRITY` if the outer HMAC does not verify,
/// `TPM_RC_SENSITIVE` if the decrypted area does not parse.
pub fn unwrap(
    parent: &Public,
    parent_seed: &[u8],
    child_name: &[u8],
    private: &[u8],
) -> TpmResult<Sensitive> {
    let mut plain = outer_unwrap(parent, parent_seed, child_name, private)?;
    let s = parse_sensitive_2b(&plain);
    use zeroize::Zeroize;
    plain.zeroize();
    s
}

/// Seal a context blob: `HMAC-SHA256(32) || AES-256-CFB(body)`. Keys come
/// from `KDFa(SHA-256, context_key || proof, "CONTEXT", sequence || handle,
/// hierarchy, 512)`, so a context is bound to its sequence number, its
/// saved handle, the TPM Reset that made it and its hierarchy's proof.
pub fn seal_context(key: &[u8], proof: &[u8], binding: &[u8], body: &[u8]) -> TpmResult<Vec<u8>> {
    let (enc_key, iv, mac_key) = context_keys(key, proof, binding)?;
    let mut enc = body.to_vec();
    cfb_encrypt_in_place(&enc_key, &iv, &mut enc)?;
    let mac = hmac(HashAlg::Sha256, &mac_key, &[binding, &enc]);
    let mut out = mac;
    out.extend_from_slice(&enc);
    Ok(out)
}

/// Open a context blob sealed by [`seal_context`]; `TPM_RC_INTEGRITY` if it
/// does not verify.
pub fn open_context(key: &[u8], proof: &[u8], binding: &[u8], blob: &[u8]) -> TpmResult<Vec<u8>> {
    let (enc_key, iv, mac_key) = context_keys(key, proof, binding)?;
    let (mac, enc) = blob.split_at_checked(32).ok_or(Rc::INTEGRITY)?;
    let expect = hmac(HashAlg::Sha256, &mac_key, &[binding, enc]);
    if !ct_eq(mac, &expect) {
        return Err(Rc::INTEGRITY);
    }
    let mut plain = enc.to_vec();
    cfb_decrypt_in_place(&enc_key, &iv, &mut plain)?;
    Ok(plain)
}

type ContextKeys = (Vec<u8>, Vec<u8>, Vec<u8>);

fn context_keys(key: &[u8], proof: &[u8], binding: &[u8]) -> TpmResult<ContextKeys> {
    let mut k = key.to_vec();
    k.extend_from_slice(proof);
    let m = kdfa(
        HashAlg::Sha256,
        &k,
        b"CONTEXT",
        binding,
        &[],
        32 * 8 + 16 * 8 + 32 * 8,
    )?;
    let m = m.as_slice();
    let enc = m.get(..32).ok_or(Rc::FAILURE)?.to_vec();
    let iv = m.get(32..48).ok_or(Rc::FAILURE)?.to_vec();
    let mac = m.get(48..80).ok_or(Rc::FAILURE)?.to_vec();
    Ok((enc, iv, mac))
}
