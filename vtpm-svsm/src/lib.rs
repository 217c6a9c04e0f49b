//! vtpm-svsm: the vtpm engine as a module of an SVSM (Secure VM Service
//! Module) at VMPL0 in an AMD SEV-SNP guest.
//!
//! This crate will hold the SVSM vTPM protocol handler (protocol 2), the
//! guest-memory access trait, the SNP-derived sealing key and the host blob
//! store. For now it only re-exports the engine so the `no_std` link check
//! covers it.

#![no_std]
#![forbid(unsafe_code)]

pub use vtpm_core;
