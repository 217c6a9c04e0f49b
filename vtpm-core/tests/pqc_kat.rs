//! Known-answer tests of ML-KEM (FIPS 203) and ML-DSA (FIPS 204) as the
//! engine uses them (`vtpm_core::crypto::pqc`), with NIST ACVP vectors.
//!
//! Source of `tests/data/pqc-acvp.txt`: the NIST ACVP-Server gen-val JSON
//! files of release v1.1.0.43 (ACVP-Server commit 975de31eb83d) —
//! ML-KEM-keyGen-FIPS203, ML-KEM-encapDecap-FIPS203, ML-DSA-keyGen-FIPS204
//! (internalProjection) and ML-DSA-sigGen-FIPS204 (prompt and
//! expectedResults) — as mirrored by github.com/paulmillr/acvp-vectors
//! (commit 2e9216ceafb8), extracted by `tests/pqc/extract_acvp.py`.
//!
//! What is pinned:
//! * ML-KEM `KeyGen_internal(d, z)` → `ek` (our [`pqc::mlkem_public`]);
//! * ML-KEM `Encaps_internal(ek, m)` → `(c, K)` (our
//!   [`pqc::mlkem_encapsulate`], the randomness `m` fixed);
//! * ML-KEM `Decaps_internal(dk, c)` → `K`, including implicit rejection
//!   (the crate's decapsulation from the expanded `dk` of the vector: the
//!   TPM keeps the seed, from which the same code runs);
//! * ML-DSA `KeyGen_internal(xi)` → `pk` (our [`pqc::mldsa_public`]);
//! * ML-DSA signing from `mu` (external mu, deterministic and hedged), pure
//!   ML-DSA with a context and HashML-DSA with SHA-256/384/512: `mu` is
//!   computed by our [`pqc::mu_pure_start`] / [`pqc::mu_prehash`], the
//!   signature by the crate's `sign_mu_randomized` (the function our
//!   [`pqc::mldsa_sign_mu`] calls) from the vector's expanded `sk`, and it
//!   is verified by our [`pqc::mldsa_verify_mu`].
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![allow(deprecated)] // the vectors carry expanded keys

use std::collections::HashMap;

use ml_dsa::signature::rand_core::{TryCryptoRng, TryRng};
use ml_kem::kem::Decapsulate as _;
use vtpm_core::crypto::pqc;
use vtpm_core::crypto::HashAlg;
use vtpm_core::wire::pqc::{prehash_oid, MlDsaParams, MlKemParams};

const DATA: &str = include_str!("data/pqc-acvp.txt");

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The records of the data file, each a map from field to value.
fn records() -> Vec<HashMap<String, String>> {
    DATA.split("\n\n")
        .filter(|r| r.lines().any(|l| l.starts_with("kind: ")))
        .map(|r| {
            r.lines()
                .filter(|l| !l.starts_with('#') && !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once(": ").unwrap();
                    (k.to_string(), v.to_string())
                })
                .collect()
        })
        .collect()
}

fn of_kind(kind: &str) -> Vec<HashMap<String, String>> {
    let v: Vec<_> = records()
        .into_iter()
        .filter(|r| r["kind"] == kind)
        .collect();
    assert!(!v.is_empty(), "no {kind} vectors");
    v
}

fn kem_set(s: &str) -> MlKemParams {
    match s {
        "ML-KEM-512" => MlKemParams::MlKem512,
        "ML-KEM-768" => MlKemParams::MlKem768,
        "ML-KEM-1024" => MlKemParams::MlKem1024,
        _ => panic!("{s}"),
    }
}

fn dsa_set(s: &str) -> MlDsaParams {
    match s {
        "ML-DSA-44" => MlDsaParams::MlDsa44,
        "ML-DSA-65" => MlDsaParams::MlDsa65,
        "ML-DSA-87" => MlDsaParams::MlDsa87,
        _ => panic!("{s}"),
    }
}

#[test]
fn mlkem_keygen_from_seed_matches_acvp() {
    let v = of_kind("mlkem-keygen");
    for r in &v {
        let set = kem_set(&r["set"]);
        let mut seed = hex(&r["d"]);
        seed.extend(hex(&r["z"]));
        let ek = pqc::mlkem_public(set, &seed).unwrap();
        assert_eq!(ek, hex(&r["ek"]), "tcId {}", r["tcId"]);
    }
    assert_eq!(v.len(), 6);
}

#[test]
fn mlkem_encapsulation_with_fixed_randomness_matches_acvp() {
    for r in &of_kind("mlkem-encap") {
        let set = kem_set(&r["set"]);
        let m: [u8; 32] = hex(&r["m"]).try_into().unwrap();
        let (c, k) = pqc::mlkem_encapsulate(set, &hex(&r["ek"]), &m).unwrap();
        assert_eq!(c, hex(&r["c"]), "tcId {}", r["tcId"]);
        assert_eq!(k.as_slice(), hex(&r["k"]), "tcId {}", r["tcId"]);
    }
}

/// The crate's decapsulation with the expanded key `dk` of a vector.
macro_rules! decap_expanded {
    ($p:ty, $dk:expr, $c:expr) => {{
        use ml_kem::ExpandedKeyEncoding;
        let enc = TryFrom::try_from(&$dk[..]).unwrap();
        let key = ml_kem::DecapsulationKey::<$p>::from_expanded_bytes(&enc).unwrap();
        key.decapsulate_slice(&$c).unwrap().to_vec()
    }};
}

#[test]
fn mlkem_decapsulation_matches_acvp_including_implicit_rejection() {
    for r in &of_kind("mlkem-decap") {
        let (dk, c) = (hex(&r["dk"]), hex(&r["c"]));
        let k = match kem_set(&r["set"]) {
            MlKemParams::MlKem512 => decap_expanded!(ml_kem::MlKem512, dk, c),
            MlKemParams::MlKem768 => decap_expanded!(ml_kem::MlKem768, dk, c),
            MlKemParams::MlKem1024 => decap_expanded!(ml_kem::MlKem1024, dk, c),
        };
        assert_eq!(k, hex(&r["k"]), "tcId {}", r["tcId"]);
    }
}

#[test]
fn mldsa_keygen_from_seed_matches_acvp() {
    let v = of_kind("mldsa-keygen");
    for r in &v {
        let pk = pqc::mldsa_public(dsa_set(&r["set"]), &hex(&r["seed"])).unwrap();
        assert_eq!(pk, hex(&r["pk"]), "tcId {}", r["tcId"]);
    }
    assert_eq!(v.len(), 6);
}

struct FixedRnd([u8; 32], usize);

impl TryRng for FixedRnd {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        unimplemented!()
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        unimplemented!()
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for d in dst {
            *d = self.0[self.1];
            self.1 += 1;
        }
        Ok(())
    }
}
impl TryCryptoRng for FixedRnd {}

/// Sign `mu` with an expanded key as `pqc::mldsa_sign_mu` signs with a
/// seed-derived one; return the signature and the public key.
fn sign_expanded<P: ml_dsa::MlDsaParams>(sk: &[u8], mu: &[u8], rnd: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let enc = ml_dsa::ExpandedSigningKeyBytes::<P>::try_from(sk).unwrap();
    let key = ml_dsa::ExpandedSigningKey::<P>::from_expanded(&enc);
    let mu = ml_kem::array::Array::try_from(mu).unwrap();
    let mut rng = FixedRnd(rnd.try_into().unwrap(), 0);
    let sig = key.sign_mu_randomized(&mu, &mut rng).unwrap();
    (sig.encode().to_vec(), key.verifying_key().encode().to_vec())
}

fn check_sign(r: &HashMap<String, String>, mu: &[u8; 64]) {
    let set = dsa_set(&r["set"]);
    let (sk, rnd) = (hex(&r["sk"]), hex(&r["rnd"]));
    let (sig, pk) = match set {
        MlDsaParams::MlDsa44 => sign_expanded::<ml_dsa::MlDsa44>(&sk, mu, &rnd),
        MlDsaParams::MlDsa65 => sign_expanded::<ml_dsa::MlDsa65>(&sk, mu, &rnd),
        MlDsaParams::MlDsa87 => sign_expanded::<ml_dsa::MlDsa87>(&sk, mu, &rnd),
    };
    let want = hex(&r["sig"]);
    assert_eq!(sig, want, "tcId {}", r["tcId"]);
    pqc::mldsa_verify_mu(set, &pk, mu, &want).unwrap();
    let mut other = *mu;
    other[0] ^= 1;
    assert!(pqc::mldsa_verify_mu(set, &pk, &other, &want).is_err());
}

/// `tr` sits after `rho` and `K` in an encoded ML-DSA private key (FIPS
/// 204, Algorithm 24).
fn tr_of(sk: &[u8]) -> [u8; 64] {
    sk[64..128].try_into().unwrap()
}

#[test]
fn mldsa_sign_from_external_mu_matches_acvp() {
    let v = of_kind("mldsa-sign-mu");
    for r in &v {
        let mu: [u8; 64] = hex(&r["mu"]).try_into().unwrap();
        check_sign(r, &mu);
    }
    // Deterministic and hedged for each parameter set.
    assert_eq!(v.len(), 6);
    assert!(v.iter().any(|r| r["rnd"] != "00".repeat(32)));
}

#[test]
fn mldsa_pure_sign_with_context_matches_acvp() {
    for r in &of_kind("mldsa-sign-pure") {
        let mut h = pqc::mu_pure_start(&tr_of(&hex(&r["sk"])), &hex(&r["context"])).unwrap();
        let msg = hex(&r["message"]);
        let (a, b) = msg.split_at(msg.len() / 2);
        h.update(a);
        h.update(b);
        check_sign(r, &h.finish());
    }
}

#[test]
fn hash_mldsa_sign_matches_acvp() {
    let v = of_kind("mldsa-sign-prehash");
    let mut hashes = Vec::new();
    for r in &v {
        let hash = match r["hash"].as_str() {
            "SHA2-256" => HashAlg::Sha256,
            "SHA2-384" => HashAlg::Sha384,
            "SHA2-512" => HashAlg::Sha512,
            h => panic!("{h}"),
        };
        hashes.push(hash);
        let ph = hash.digest(&hex(&r["message"]));
        let mu = pqc::mu_prehash(
            &tr_of(&hex(&r["sk"])),
            &hex(&r["context"]),
            prehash_oid(hash).unwrap(),
            &ph,
        )
        .unwrap();
        check_sign(r, &mu);
    }
    for h in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
        assert!(hashes.contains(&h), "{h:?} not covered");
    }
}

/// SHA-256 of the deterministic signatures of
/// [`mldsa_deterministic_signature_from_acvp_seed_is_stable`]. The same
/// values come out of the independent pure-Python `dilithium-py` 1.5.1:
/// `ML_DSA_xx.sign(sk, b"known answer", ctx=b"vtpm", deterministic=True)`
/// with `(pk, sk) = ML_DSA_xx.key_derive(seed)`.
const PINNED: [&str; 3] = [
    "591a6924cdcc7fa3efcd445e63984239f7968d3538924ef15ce0ffe20105dc91",
    "5df284c5346e513691e7acb7f451be19d08e99a4d578b08e1000facf1fb304f9",
    "c7156b028d65fc47c12c5fc4ebddf6a95b1802fe72093434ff7260b2ee0eeac8",
];

/// Our own signing path (seed → key → sign from mu), deterministic
/// variant, pinned on the first ACVP key-generation seed of each set: the
/// signature must verify under the ACVP public key of that seed, and must
/// not change across releases (the SHA-256 of the signature is pinned).
#[test]
fn mldsa_deterministic_signature_from_acvp_seed_is_stable() {
    let mut seen = Vec::new();
    for r in &of_kind("mldsa-keygen") {
        let set = dsa_set(&r["set"]);
        if seen.contains(&set) {
            continue;
        }
        seen.push(set);
        let pk = hex(&r["pk"]);
        let mut h = pqc::mu_pure_start(&pqc::mldsa_tr(&pk), b"vtpm").unwrap();
        h.update(b"known answer");
        let mu = h.finish();
        let sig = pqc::mldsa_sign_mu(set, &hex(&r["seed"]), &mu, &[0; 32]).unwrap();
        pqc::mldsa_verify_mu(set, &pk, &mu, &sig).unwrap();
        // Signing is deterministic with rnd = 0, and pinned.
        let digest = HashAlg::Sha256.digest(&sig);
        let want = match set {
            MlDsaParams::MlDsa44 => PINNED[0],
            MlDsaParams::MlDsa65 => PINNED[1],
            MlDsaParams::MlDsa87 => PINNED[2],
        };
        assert_eq!(digest, hex(want), "{set:?}");
    }
    assert_eq!(seen.len(), 3);
}
