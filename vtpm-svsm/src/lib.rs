//! vtpm-svsm: the vtpm engine as a module of an SVSM (Secure VM Service
//! Module) running at VMPL0 in an AMD SEV-SNP guest.
//!
//! * [`protocol`] — SVSM call numbers and result codes; the register-level
//!   [`SvsmRequest`] / [`SvsmResponse`] model.
//! * [`page`] — the `SVSM_VTPM_CMD` request/response page and its checked
//!   view.
//! * [`memory`] — the [`GuestMemory`] trait the SVSM implements.
//! * [`service`] — [`VtpmService`]: the vTPM protocol (protocol 2,
//!   version 1) over an engine.
//! * [`snp`] — the state-sealing key from an SNP `MSG_KEY_REQ` derived key.
//! * [`storage`] — [`SvsmPlatform`]: entropy, clock, and the sealed state in
//!   two host-provided slots; [`start`] loads or manufactures the TPM.
//! * [`attest`] — the vTPM service manifest (EK `TPMT_PUBLIC`) and
//!   `REPORT_DATA` for the SVSM attestation protocol.
//! * [`sim`] — [`SimulatedGuest`]: the host simulator's path through the
//!   protocol.
//!
//! The crate is `no_std` + `alloc` and has no `unsafe` code. The
//! integration guide is in `README.md`.

#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    clippy::std_instead_of_core,
    clippy::alloc_instead_of_core
)]

extern crate alloc;

pub mod attest;
#[doc(hidden)]
pub mod fuzzing;
pub mod memory;
pub mod page;
pub mod protocol;
pub mod service;
pub mod sim;
pub mod snp;
pub mod storage;
pub mod testing;

pub use vtpm_core;

pub use attest::{ek_public, report_data, vtpm_manifest, EkTemplate, VTPM_SERVICE_GUID};
pub use memory::{GuestMemory, GuestRam, MemError, PagePolicy};
pub use protocol::{query_protocol, SvsmError, SvsmRequest, SvsmResponse};
pub use service::{ServiceError, ServiceOptions, VtpmService};
pub use sim::SimulatedGuest;
pub use snp::{derive_sealing_key, KeyPolicy, SnpKeySource};
pub use storage::{
    start, BlobStore, Clock, EntropySource, RollbackGuard, StartError, StartOutcome, StartParams,
    Started, SvsmPlatform,
};
