//! Thin wrappers over RustCrypto: handlers see plain slices, never typenum.

pub mod drbg;
pub mod hash;
pub mod hmac;
pub mod secret;

pub use drbg::Drbg;
pub use hash::{HashAlg, HashOrNull, Hasher};
