//! ML-KEM (FIPS 203) and ML-DSA / HashML-DSA (FIPS 204) over RustCrypto's
//! `ml-kem` and `ml-dsa` crates (Part 1, 46-47).
//!
//! Private keys are the FIPS seeds, as the TPM represents them (Part 1,
//! 46.2, 47.2): ML-KEM `d || z` (64 octets) and ML-DSA `xi` (32 octets).
//! Key pairs are re-derived from the seed at each use with the crates'
//! `KeyGen_internal` (FIPS 203 Algorithm 16, FIPS 204 Algorithm 6).
//!
//! Signing is always "from mu": the TPM computes the message
//! representative `mu` itself (streamed over `TPM2_SequenceUpdate` with a
//! [`Shake256`] whose state can be saved in a context) and signs it with
//! `ML-DSA.Sign_internal` from line 7 on. `rnd` is chosen by the caller:
//! 32 random octets from the DRBG for the TPM's (hedged) signatures, all
//! zero for the deterministic variant the known-answer tests pin.
//!
//! Every function returns unpositioned response codes: `TPM_RC_KEY` for a
//! public key of the wrong size or encoding, `TPM_RC_KEY_SIZE` for a seed
//! of the wrong size, `TPM_RC_SIZE` for a ciphertext or signature of the
//! wrong size, `TPM_RC_SIGNATURE` for a signature that does not verify.

use alloc::vec::Vec;

use ml_dsa::signature::rand_core::{TryCryptoRng, TryRng};
use ml_dsa::Keypair as _;
use ml_kem::kem::{Decapsulate as _, KeyExport as _};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::secret::SecretBytes;
use crate::wire::pqc::{
    MlDsaParams, MlKemParams, MLDSA_MU_SIZE, MLDSA_PRIVATE_SIZE, MLKEM_PRIVATE_SIZE,
};
use crate::wire::{Rc, TpmResult};

/// Run `$body` with `$p` bound to the `ml-kem` parameter type of `$set`.
macro_rules! with_kem {
    ($set:expr, $p:ident => $body:expr) => {
        match $set {
            MlKemParams::MlKem512 => {
                type $p = ml_kem::MlKem512;
                $body
            }
            MlKemParams::MlKem768 => {
                type $p = ml_kem::MlKem768;
                $body
            }
            MlKemParams::MlKem1024 => {
                type $p = ml_kem::MlKem1024;
                $body
            }
        }
    };
}

/// Run `$body` with `$p` bound to the `ml-dsa` parameter type of `$set`.
macro_rules! with_dsa {
    ($set:expr, $p:ident => $body:expr) => {
        match $set {
            MlDsaParams::MlDsa44 => {
                type $p = ml_dsa::MlDsa44;
                $body
            }
            MlDsaParams::MlDsa65 => {
                type $p = ml_dsa::MlDsa65;
                $body
            }
            MlDsaParams::MlDsa87 => {
                type $p = ml_dsa::MlDsa87;
                $body
            }
        }
    };
}

// ---------------------------------------------------------------- ML-KEM

/// The ML-KEM seed `d || z` as the crate's array (`TPM_RC_KEY_SIZE` if it
/// is not 64 octets).
fn kem_seed(seed: &[u8]) -> TpmResult<ml_kem::Seed> {
    if seed.len() != MLKEM_PRIVATE_SIZE {
        return Err(Rc::KEY_SIZE);
    }
    ml_kem::Seed::try_from(seed).map_err(|_| Rc::KEY_SIZE)
}

/// `ML-KEM.KeyGen_internal(d, z)` (FIPS 203, Algorithm 16): the
/// encapsulation key of the seed `d || z`.
pub fn mlkem_public(set: MlKemParams, seed: &[u8]) -> TpmResult<Vec<u8>> {
    let mut s = kem_seed(seed)?;
    let ek = with_kem!(set, P => {
        let dk = ml_kem::DecapsulationKey::<P>::from_seed(s);
        dk.encapsulation_key().to_bytes().to_vec()
    });
    s.zeroize();
    Ok(ek)
}

/// `ML-KEM.Encaps_internal(ek, m)` (FIPS 203, Algorithm 17) with the
/// 32-octet randomness `m`: the ciphertext and the shared secret. An
/// encapsulation key of the wrong size or failing the modulus check of
/// FIPS 203, 7.2 is `TPM_RC_KEY`.
pub fn mlkem_encapsulate(
    set: MlKemParams,
    ek: &[u8],
    m: &[u8; 32],
) -> TpmResult<(Vec<u8>, SecretBytes)> {
    if ek.len() != set.public_key_size() {
        return Err(Rc::KEY);
    }
    with_kem!(set, P => {
        let key = ml_kem::kem::Key::<ml_kem::EncapsulationKey<P>>::try_from(ek)
            .map_err(|_| Rc::KEY)?;
        let ek = ml_kem::EncapsulationKey::<P>::new(&key).map_err(|_| Rc::KEY)?;
        let m = ml_kem::B32::from(*m);
        let (ct, mut k) = ek.encapsulate_deterministic(&m);
        let ss = SecretBytes::new(k.as_slice());
        k.zeroize();
        Ok((ct.to_vec(), ss))
    })
}

/// `ML-KEM.Decaps_internal(dk, c)` (FIPS 203, Algorithm 18) with the key
/// of the seed `d || z`. A ciphertext of the wrong size is `TPM_RC_SIZE`;
/// any ciphertext of the right size yields a secret (implicit rejection).
pub fn mlkem_decapsulate(set: MlKemParams, seed: &[u8], ct: &[u8]) -> TpmResult<SecretBytes> {
    if ct.len() != set.ciphertext_size() {
        return Err(Rc::SIZE);
    }
    let mut s = kem_seed(seed)?;
    let ss = with_kem!(set, P => {
        let dk = ml_kem::DecapsulationKey::<P>::from_seed(s);
        let mut k = dk.decapsulate_slice(ct).map_err(|_| Rc::SIZE)?;
        let ss = SecretBytes::new(k.as_slice());
        k.zeroize();
        ss
    });
    s.zeroize();
    Ok(ss)
}

// ---------------------------------------------------------------- ML-DSA

/// The ML-DSA seed `xi` as the crate's array (`TPM_RC_KEY_SIZE` if it is
/// not 32 octets).
fn dsa_seed(xi: &[u8]) -> TpmResult<ml_dsa::Seed> {
    if xi.len() != MLDSA_PRIVATE_SIZE {
        return Err(Rc::KEY_SIZE);
    }
    ml_dsa::Seed::try_from(xi).map_err(|_| Rc::KEY_SIZE)
}

/// `ML-DSA.KeyGen_internal(xi)` (FIPS 204, Algorithm 6): the encoded
/// verification key `pk` of the seed.
pub fn mldsa_public(set: MlDsaParams, xi: &[u8]) -> TpmResult<Vec<u8>> {
    let mut s = dsa_seed(xi)?;
    let pk = with_dsa!(set, P => {
        let sk = ml_dsa::SigningKey::<P>::from_seed(&s);
        sk.verifying_key().encode().to_vec()
    });
    s.zeroize();
    Ok(pk)
}

/// `tr = H(pk, 64)` (FIPS 204, Algorithm 6, line 9).
pub fn mldsa_tr(pk: &[u8]) -> [u8; 64] {
    let mut h = Shake256::new();
    h.update(pk);
    h.finish()
}

/// A random source that hands out exactly the 32 octets it holds (the
/// `rnd` of FIPS 204, Algorithm 2), for the crate's `sign_mu_randomized`.
struct FixedRnd([u8; 32], usize);

impl TryRng for FixedRnd {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for d in dst.iter_mut() {
            *d = self.0.get(self.1).copied().unwrap_or(0);
            self.1 = self.1.saturating_add(1);
        }
        Ok(())
    }
}

impl TryCryptoRng for FixedRnd {}

impl Drop for FixedRnd {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// `ML-DSA.Sign_internal` from a precomputed `mu` (FIPS 204, Algorithm 7,
/// lines 7-): the encoded signature of `mu` with the key of seed `xi`
/// and randomness `rnd` (all zero: the deterministic variant).
pub fn mldsa_sign_mu(
    set: MlDsaParams,
    xi: &[u8],
    mu: &[u8; MLDSA_MU_SIZE],
    rnd: &[u8; 32],
) -> TpmResult<Vec<u8>> {
    let mut s = dsa_seed(xi)?;
    let sig = with_dsa!(set, P => {
        let sk = ml_dsa::SigningKey::<P>::from_seed(&s);
        let mu = ml_kem::array::Array::from(*mu);
        let mut rng = FixedRnd(*rnd, 0);
        sk.expanded_key()
            .sign_mu_randomized(&mu, &mut rng)
            .map(|sig| sig.encode().to_vec())
            // The rejection-sampling loop ran out (probability < 2^-100).
            .map_err(|_| Rc::FAILURE)
    });
    s.zeroize();
    sig
}

/// `ML-DSA.Verify_internal` from a precomputed `mu` (FIPS 204, Algorithm
/// 8, lines 7-): `TPM_RC_KEY` for a public key of the wrong size,
/// `TPM_RC_SIZE` for a signature of the wrong size, `TPM_RC_SIGNATURE`
/// for one that does not verify (including a malformed hint or `z`).
pub fn mldsa_verify_mu(
    set: MlDsaParams,
    pk: &[u8],
    mu: &[u8; MLDSA_MU_SIZE],
    sig: &[u8],
) -> TpmResult<()> {
    if pk.len() != set.public_key_size() {
        return Err(Rc::KEY);
    }
    if sig.len() != set.signature_size() {
        return Err(Rc::SIZE);
    }
    let ok = with_dsa!(set, P => {
        let enc = ml_dsa::EncodedVerifyingKey::<P>::try_from(pk).map_err(|_| Rc::KEY)?;
        let vk = ml_dsa::VerifyingKey::<P>::decode(&enc);
        let mu = ml_kem::array::Array::from(*mu);
        match ml_dsa::Signature::<P>::try_from(sig) {
            Ok(sig) => vk.verify_mu(&mu, &sig),
            Err(_) => false,
        }
    });
    if ok {
        Ok(())
    } else {
        Err(Rc::SIGNATURE)
    }
}

// ---------------------------------------------------------------- mu

/// Rate of SHAKE256 in octets.
const SHAKE256_RATE: usize = 136;

/// An incremental SHAKE256 (FIPS 202) whose state is plain data, so that
/// a signature sequence computing `mu` can be saved in a context: the
/// Keccak-p[1600, 24] permutation of the `keccak` crate with the sponge's
/// absorbing position kept here. Only the 64-octet output ML-DSA needs
/// is produced. Checked against the `ml-dsa` crate's own `mu` in tests.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Shake256 {
    state: [u64; 25],
    pos: usize,
}

impl core::fmt::Debug for Shake256 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Shake256 { .. }")
    }
}

impl Default for Shake256 {
    fn default() -> Self {
        Self::new()
    }
}

impl Shake256 {
    /// The empty sponge.
    pub fn new() -> Self {
        Shake256 {
            state: [0; 25],
            pos: 0,
        }
    }

    fn permute(&mut self) {
        keccak::Keccak::new().with_f1600(|f| f(&mut self.state));
    }

    /// XOR one octet into the rate at position `pos`.
    fn xor_byte(&mut self, pos: usize, b: u8) {
        if let Some(lane) = self.state.get_mut(pos / 8) {
            // Lanes are little-endian (FIPS 202, 3.1.2).
            let mut bytes = lane.to_le_bytes();
            if let Some(x) = bytes.get_mut(pos % 8) {
                *x ^= b;
            }
            *lane = u64::from_le_bytes(bytes);
        }
    }

    /// Absorb `data`.
    pub fn update(&mut self, data: &[u8]) {
        for &b in data {
            self.xor_byte(self.pos, b);
            self.pos = self.pos.saturating_add(1);
            if self.pos >= SHAKE256_RATE {
                self.permute();
                self.pos = 0;
            }
        }
    }

    /// Pad (`1111` then `10*1`) and squeeze 64 octets.
    pub fn finish(mut self) -> [u8; 64] {
        self.xor_byte(self.pos, 0x1F);
        self.xor_byte(SHAKE256_RATE - 1, 0x80);
        self.permute();
        let mut out = [0u8; 64];
        for (chunk, lane) in out.chunks_mut(8).zip(self.state.iter()) {
            chunk.copy_from_slice(&lane.to_le_bytes());
        }
        out
    }
}

impl Drop for Shake256 {
    fn drop(&mut self) {
        self.state.zeroize();
    }
}

/// Start `mu` of pure ML-DSA (FIPS 204, Algorithm 2 line 10 and Algorithm
/// 7 line 6): `H(tr || 0 || |ctx| || ctx || M)` with `M` still to be
/// absorbed. `ctx` is at most 255 octets (`TPM_RC_SIZE`).
pub fn mu_pure_start(tr: &[u8; 64], ctx: &[u8]) -> TpmResult<Shake256> {
    let len = u8::try_from(ctx.len()).map_err(|_| Rc::SIZE)?;
    let mut h = Shake256::new();
    h.update(tr);
    h.update(&[0, len]);
    h.update(ctx);
    Ok(h)
}

/// `mu` of HashML-DSA (FIPS 204, Algorithm 4 line 23 and Algorithm 7
/// line 6): `H(tr || 1 || |ctx| || ctx || OID(PH) || PH(M))`.
pub fn mu_prehash(tr: &[u8; 64], ctx: &[u8], oid: &[u8], ph: &[u8]) -> TpmResult<[u8; 64]> {
    let len = u8::try_from(ctx.len()).map_err(|_| Rc::SIZE)?;
    let mut h = Shake256::new();
    h.update(tr);
    h.update(&[1, len]);
    h.update(ctx);
    h.update(oid);
    h.update(ph);
    Ok(h.finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use shake_ref::Shake256 as RefShake;

    mod shake_ref {
        //! The `ml-dsa` crate's own mu (`VerifyingKey::compute_mu`) as the
        //! reference for the sponge.
        pub use ml_dsa::VerifyingKey as Shake256;
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn shake256_matches_fips202_vectors() {
        // SHAKE256("") and SHAKE256("abc"), first 32 octets (FIPS 202
        // example values, also in NIST's SHA-3 examples).
        assert_eq!(
            Shake256::new().finish()[..32].to_vec(),
            hex("46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f")
        );
        let mut h = Shake256::new();
        h.update(b"abc");
        assert_eq!(
            h.finish()[..32].to_vec(),
            hex("483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739")
        );
    }

    #[test]
    fn shake256_is_independent_of_chunking_across_the_rate() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut one = Shake256::new();
        one.update(&data);
        for split in [1usize, 135, 136, 137, 500, 999] {
            let mut two = Shake256::new();
            two.update(&data[..split]);
            // Survives serialization mid-stream (context save).
            let saved = postcard::to_allocvec(&two).unwrap();
            let mut two: Shake256 = postcard::from_bytes(&saved).unwrap();
            two.update(&data[split..]);
            assert_eq!(two.finish(), one.clone().finish());
        }
    }

    #[test]
    fn mu_matches_the_ml_dsa_crate() {
        let xi = [9u8; 32];
        let pk = mldsa_public(MlDsaParams::MlDsa44, &xi).unwrap();
        let enc = ml_dsa::EncodedVerifyingKey::<ml_dsa::MlDsa44>::try_from(&pk[..]).unwrap();
        let vk = RefShake::<ml_dsa::MlDsa44>::decode(&enc);
        let msg = [0x5Au8; 300];
        for ctx in [&b""[..], b"context", &[1u8; 255]] {
            let want = vk
                .compute_mu(
                    |h| {
                        use ml_dsa::signature::digest::Update;
                        h.update(&msg);
                        Ok(())
                    },
                    ctx,
                )
                .unwrap();
            let mut mine = mu_pure_start(&mldsa_tr(&pk), ctx).unwrap();
            mine.update(&msg[..100]);
            mine.update(&msg[100..]);
            assert_eq!(mine.finish().to_vec(), want.to_vec());
        }
        assert_eq!(
            mu_pure_start(&[0; 64], &[0; 256]).map(|_| ()),
            Err(Rc::SIZE)
        );
    }

    #[test]
    fn kem_round_trip_and_size_checks() {
        for set in MlKemParams::ALL {
            let seed = [3u8; 64];
            let ek = mlkem_public(set, &seed).unwrap();
            assert_eq!(ek.len(), set.public_key_size());
            let (ct, ss) = mlkem_encapsulate(set, &ek, &[4; 32]).unwrap();
            assert_eq!(ct.len(), set.ciphertext_size());
            assert_eq!(mlkem_decapsulate(set, &seed, &ct).unwrap(), ss);
            assert_eq!(
                mlkem_decapsulate(set, &seed, &ct[1..]).map(|_| ()),
                Err(Rc::SIZE)
            );
            assert_eq!(
                mlkem_encapsulate(set, &ek[1..], &[4; 32]).map(|_| ()),
                Err(Rc::KEY)
            );
            assert_eq!(mlkem_public(set, &seed[1..]).map(|_| ()), Err(Rc::KEY_SIZE));
        }
        // An encapsulation key whose coefficients are not reduced mod q
        // fails the FIPS 203 modulus check.
        let mut bad = mlkem_public(MlKemParams::MlKem512, &[3; 64]).unwrap();
        bad[0] = 0xFF;
        bad[1] = 0xFF;
        assert_eq!(
            mlkem_encapsulate(MlKemParams::MlKem512, &bad, &[0; 32]).map(|_| ()),
            Err(Rc::KEY)
        );
    }

    #[test]
    fn dsa_round_trip_and_size_checks() {
        for set in MlDsaParams::ALL {
            let xi = [5u8; 32];
            let pk = mldsa_public(set, &xi).unwrap();
            assert_eq!(pk.len(), set.public_key_size());
            let mu = [6u8; 64];
            let sig = mldsa_sign_mu(set, &xi, &mu, &[7; 32]).unwrap();
            assert_eq!(sig.len(), set.signature_size());
            assert_eq!(mldsa_verify_mu(set, &pk, &mu, &sig), Ok(()));
            assert_eq!(
                mldsa_verify_mu(set, &pk, &[0; 64], &sig),
                Err(Rc::SIGNATURE)
            );
            assert_eq!(mldsa_verify_mu(set, &pk, &mu, &sig[1..]), Err(Rc::SIZE));
            assert_eq!(mldsa_verify_mu(set, &pk[1..], &mu, &sig), Err(Rc::KEY));
            let mut bad = sig.clone();
            let n = bad.len();
            bad[n - 1] = 0xFF; // hint counts out of order
            assert_eq!(mldsa_verify_mu(set, &pk, &mu, &bad), Err(Rc::SIGNATURE));
        }
    }
}
