//! vtpm-core: a TPM 2.0 command engine, `no_std` + `alloc`.
//!
//! Bytes in, bytes out: [`Tpm::execute`] takes a TPM 2.0 command and returns
//! its response. The engine touches its environment only through the
//! [`Platform`] trait (entropy, a monotonic clock, durable commit of the
//! persistent state), so the same engine serves the SVSM module and the
//! host simulator.
//!
//! Layout follows the TPM 2.0 Library specification (v185):
//! * [`wire`] — Part 2 constants, structures and strict marshalling;
//! * [`crypto`] — hashes, HMAC, KDFs, symmetric and asymmetric primitives;
//! * [`commands`] — one module per Part 3 chapter, and the command table;
//! * [`state`] — persistent and volatile TPM state.

#![no_std]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]
#![warn(missing_debug_implementations)]

extern crate alloc;

pub mod auth;
pub mod commands;
pub mod config;
pub mod crypto;
mod engine;
pub mod object;
pub mod platform;
pub mod state;
#[doc(hidden)]
pub mod testing;
pub mod wire;

pub use config::Config;
pub use engine::{Ctx, StateError, Tpm};
pub use platform::{Platform, PlatformError};
pub use wire::{Rc, TpmResult};
