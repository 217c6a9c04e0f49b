//! Thin wrappers over RustCrypto: handlers see plain slices, never typenum.

pub mod drbg;
pub mod ecc;
pub mod hash;
pub mod hmac;
pub mod kdf;
pub mod pqc;
pub mod rsa;
pub mod secret;
pub mod sym;

pub use drbg::Drbg;
pub use hash::{HashAlg, HashOrNull, Hasher};
pub use secret::{ct_eq, Rng, SecretBytes};
