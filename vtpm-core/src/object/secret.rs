//! Secret sharing with an asymmetric key (Part 1, 24 "Secret Sharing";
//! Part 1, 11.4.10; the Labeled KEMs of Part 1, 8.4.5.2): a seed encrypted
//! to an RSA key with OAEP and a label, agreed with an ECC key through an
//! ephemeral ECDH and KDFe, or encapsulated to an ML-KEM key and derived
//! with KDFa (Part 1, 47.4). Used by salted sessions ("SECRET"),
//! credentials ("IDENTITY") and duplication ("DUPLICATE").

use alloc::vec::Vec;

use super::Object;
use crate::crypto::ecc::{Curve, EccPoint, EccPrivate};
use crate::crypto::kdf::{kdfa, kdfe};
use crate::crypto::pqc;
use crate::crypto::rsa::RsaPublic;
use crate::crypto::secret::Rng;
use crate::wire::object::{Unique, MAX_ECC};
use crate::wire::public::PublicParms;
use crate::wire::{Rc, Reader, TpmResult, Writer};
use zeroize::Zeroize;

/// Create a fresh seed for `key` (digest-size of its nameAlg) and its
/// encrypted form (`TPM2B_ENCRYPTED_SECRET` contents). `label` includes
/// its terminating zero, e.g. `b"IDENTITY\0"`.
pub fn encrypt_seed(
    key: &Object,
    label: &[u8],
    rng: &mut dyn Rng,
) -> TpmResult<(Vec<u8>, Vec<u8>)> {
    let alg = key.public.name_alg.ok_or(Rc::KEY)?;
    match (&key.public.parms, &key.public.unique) {
        (PublicParms::Rsa { exponent, .. }, Unique::Rsa(n)) => {
            let mut seed = alloc::vec![0u8; alg.digest_size()];
            rng.fill_bytes(&mut seed);
            let public = RsaPublic::new(n, *exponent).map_err(|_| Rc::KEY)?;
            let enc = public.encrypt_oaep(alg, label, &seed, rng)?;
            Ok((seed, enc))
        }
        (PublicParms::Ecc { curve, .. }, Unique::Ecc { x, y }) => {
            let c = Curve::from_curve_id(*curve).ok_or(Rc::CURVE)?;
            let eph = EccPrivate::generate(c, rng)?;
            let q_e = eph.public()?;
            let z = eph.ecdh(&EccPoint {
                x: x.clone(),
                y: y.clone(),
            })?;
            let bits =
                u32::try_from(alg.digest_size().saturating_mul(8)).map_err(|_| Rc::FAILURE)?;
            let seed = kdfe(alg, &z.x, label, &q_e.x, x, bits)?.as_slice().to_vec();
            let mut w = Writer::new();
            w.tpm2b(&q_e.x);
            w.tpm2b(&q_e.y);
            Ok((seed, w.into_vec()))
        }
        (PublicParms::MlKem { parameter_set, .. }, Unique::MlKem(ek)) => {
            let mut m = [0u8; 32];
            rng.fill_bytes(&mut m);
            let encapsulated = pqc::mlkem_encapsulate(*parameter_set, ek, &m);
            m.zeroize();
            let (ct, k) = encapsulated?;
            let seed = mlkem_labeled_seed(alg, &k, label, &ct, ek)?;
            Ok((seed, ct))
        }
        _ => Err(Rc::KEY),
    }
}

/// Recover a seed encrypted by [`encrypt_seed`] with `key`'s private part.
/// Any failure of the secret itself is `TPM_RC_VALUE` (unpositioned; the
/// caller names the parameter); a key that cannot do this is `TPM_RC_KEY`.
pub fn decrypt_seed(
    key: &Object,
    label: &[u8],
    secret: &[u8],
    rng: &mut dyn Rng,
) -> TpmResult<Vec<u8>> {
    let alg = key.public.name_alg.ok_or(Rc::KEY)?;
    match (&key.public.parms, &key.public.unique) {
        (PublicParms::Rsa { .. }, _) => {
            let k = key.rsa_private().map_err(|_| Rc::KEY)?;
            let seed = k
                .decrypt_oaep(alg, label, secret, rng)
                .map_err(|_| Rc::VALUE)?;
            Ok(seed.as_slice().to_vec())
        }
        (PublicParms::Ecc { curve, .. }, Unique::Ecc { x: qs_x, .. }) => {
            let c = Curve::from_curve_id(*curve).ok_or(Rc::CURVE)?;
            let s = key.sensitive.as_ref().ok_or(Rc::KEY)?;
            let d = EccPrivate::from_bytes(c, &s.sensitive).map_err(|_| Rc::KEY)?;
            let mut r = Reader::new(secret);
            let x = r.tpm2b(MAX_ECC).map_err(|_| Rc::VALUE)?.to_vec();
            let y = r.tpm2b(MAX_ECC).map_err(|_| Rc::VALUE)?.to_vec();
            r.finish().map_err(|_| Rc::VALUE)?;
            let q_e = EccPoint { x, y };
            let z = d.ecdh(&q_e).map_err(|_| Rc::ECC_POINT)?;
            let bits =
                u32::try_from(alg.digest_size().saturating_mul(8)).map_err(|_| Rc::FAILURE)?;
            Ok(kdfe(alg, &z.x, label, &q_e.x, qs_x, bits)?
                .as_slice()
                .to_vec())
        }
        (PublicParms::MlKem { parameter_set, .. }, Unique::MlKem(ek)) => {
            let s = key.sensitive.as_ref().ok_or(Rc::KEY)?;
            // A ciphertext of the wrong size cannot be decapsulated; one of
            // the right size always yields some K (implicit rejection), and
            // a wrong K fails the protocol's integrity check later.
            let k = pqc::mlkem_decapsulate(*parameter_set, &s.sensitive, secret).map_err(|e| {
                if e == Rc::SIZE {
                    Rc::VALUE
                } else {
                    Rc::KEY
                }
            })?;
            mlkem_labeled_seed(alg, &k, label, secret, ek)
        }
        _ => Err(Rc::KEY),
    }
}

/// The ML-KEM Labeled KEM (Part 1, 47.4, Equation 67):
/// `seed := KDFa(nameAlg, K, label, ciphertext, publicKey, bits)` with
/// `bits` the size of the nameAlg digest.
fn mlkem_labeled_seed(
    alg: crate::crypto::HashAlg,
    k: &[u8],
    label: &[u8],
    ciphertext: &[u8],
    public_key: &[u8],
) -> TpmResult<Vec<u8>> {
    let bits = u32::try_from(alg.digest_size().saturating_mul(8)).map_err(|_| Rc::FAILURE)?;
    Ok(kdfa(alg, k, label, ciphertext, public_key, bits)?
        .as_slice()
        .to_vec())
}
