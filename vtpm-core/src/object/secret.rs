//! Secret sharing with an asymmetric key (Part 1, 24 "Secret Sharing";
//! Part 1, 11.4.10): a seed encrypted to an RSA key with OAEP and a
//! label, or agreed with an ECC key through an ephemeral ECDH and KDFe.
//! Used by salted sessions ("SECRET"), credentials ("IDENTITY") and
//! duplication ("DUPLICATE").

use alloc::vec::Vec;

use super::Object;
use crate::crypto::ecc::{Curve, EccPoint, EccPrivate};
use crate::crypto::kdf::kdfe;
use crate::crypto::rsa::RsaPublic;
use crate::crypto::secret::Rng;
use crate::wire::object::{Unique, MAX_ECC};
use crate::wire::public::PublicParms;
use crate::wire::{Rc, Reader, TpmResult, Writer};

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
        _ => Err(Rc::KEY),
    }
}
