//! Persistent-state schema version 1, frozen, and its migration to
//! version 2 (and from there, through `v2`, to the current schema).
//!
//! Do not change this struct: it is the layout of states already on disk
//! (`tests/data/sealed-state-v1.bin`). Fields added after version 2 get
//! their initial values in `v2::upgrade`, not here.

use alloc::vec::Vec;
use serde::Deserialize;

use super::v2::{PersistentStateV2, SavedStateV2};
use super::{nv, Orderly, PersistentState, Policy, StateLoadError};
use crate::crypto::HashAlg;

/// `PersistentState` as of schema version 1.
#[derive(Deserialize)]
struct PersistentStateV1 {
    eps: Vec<u8>,
    sps: Vec<u8>,
    pps: Vec<u8>,
    eh_proof: Vec<u8>,
    sh_proof: Vec<u8>,
    ph_proof: Vec<u8>,
    owner_auth: Vec<u8>,
    endorsement_auth: Vec<u8>,
    lockout_auth: Vec<u8>,
    owner_policy: Policy,
    endorsement_policy: Policy,
    lockout_policy: Policy,
    disable_clear: bool,
    clock: u64,
    reset_count: u32,
    restart_count: u32,
    total_reset_count: u32,
    pcr_allocation: Vec<HashAlg>,
    orderly: Orderly,
    saved: Option<SavedStateV2>,
    failed_tries: u32,
    max_tries: u32,
    recovery_time: u32,
    lockout_recovery: u32,
    persistent: Vec<crate::object::Object>,
    context_key: Vec<u8>,
    nv: Vec<nv::NvIndex>,
}

/// Parse a version-1 body into the current schema (through version 2).
pub fn migrate(body: &[u8]) -> Result<PersistentState, StateLoadError> {
    let o: PersistentStateV1 = postcard::from_bytes(body).map_err(|_| StateLoadError::Malformed)?;
    Ok(super::v2::upgrade(PersistentStateV2 {
        eps: o.eps,
        sps: o.sps,
        pps: o.pps,
        eh_proof: o.eh_proof,
        sh_proof: o.sh_proof,
        ph_proof: o.ph_proof,
        owner_auth: o.owner_auth,
        endorsement_auth: o.endorsement_auth,
        lockout_auth: o.lockout_auth,
        owner_policy: o.owner_policy,
        endorsement_policy: o.endorsement_policy,
        lockout_policy: o.lockout_policy,
        disable_clear: o.disable_clear,
        clock: o.clock,
        reset_count: o.reset_count,
        restart_count: o.restart_count,
        total_reset_count: o.total_reset_count,
        pcr_allocation: o.pcr_allocation,
        orderly: o.orderly,
        saved: o.saved,
        failed_tries: o.failed_tries,
        max_tries: o.max_tries,
        recovery_time: o.recovery_time,
        lockout_recovery: o.lockout_recovery,
        lockout_auth_disabled: false,
        audit_alg: 0x000B,
        audited: alloc::vec![0x0000_0140],
        audit_counter: 0,
        persistent: o.persistent,
        context_key: o.context_key,
        nv: o.nv,
        nv_counter_high_water: 0,
        act_saved: Vec::new(),
    }))
}
