//! Hashes and HMAC (RustCrypto, used directly, not through vtpm-core):
//! session HMACs of replayed traffic and unique fields of test objects.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Digest;

use crate::tpm::alg;

/// `H_alg(data)` for SHA-1/256/384/512 (empty for anything else).
pub fn hash(hash_alg: u16, data: &[u8]) -> Vec<u8> {
    match hash_alg {
        alg::SHA1 => sha1::Sha1::digest(data).to_vec(),
        alg::SHA256 => sha2::Sha256::digest(data).to_vec(),
        alg::SHA384 => sha2::Sha384::digest(data).to_vec(),
        alg::SHA512 => sha2::Sha512::digest(data).to_vec(),
        _ => Vec::new(),
    }
}

fn mac<M: Mac + KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match <M as KeyInit>::new_from_slice(key) {
        Ok(mut m) => {
            for p in parts {
                m.update(p);
            }
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// `HMAC_alg(key, parts...)` for SHA-1/256/384/512.
pub fn hmac(hash_alg: u16, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    match hash_alg {
        alg::SHA1 => mac::<Hmac<sha1::Sha1>>(key, parts),
        alg::SHA256 => mac::<Hmac<sha2::Sha256>>(key, parts),
        alg::SHA384 => mac::<Hmac<sha2::Sha384>>(key, parts),
        alg::SHA512 => mac::<Hmac<sha2::Sha512>>(key, parts),
        _ => Vec::new(),
    }
}
