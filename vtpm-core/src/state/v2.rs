//! Persistent-state schema version 2, frozen, and its migration to the
//! current schema.
//!
//! Do not change these structs: they are the layout of states already on
//! disk (`tests/data/sealed-state-v2.bin`). Version 1 is read into
//! [`PersistentStateV2`] first (see `v1`) and then upgraded here, so a
//! field added to [`PersistentState`] or [`SavedState`] gets its initial
//! value in one place, [`upgrade`] (the compiler points there).

use alloc::vec::Vec;
use serde::Deserialize;

use super::StateLoadError;
use super::{nv, Orderly, PcrBanks, PersistentState, Policy, SavedState, StartupClear};
use crate::crypto::HashAlg;

/// `TPMA_STARTUP_CLEAR` as of schema versions 1 and 2 (readOnly came
/// with schema 3).
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(super) struct StartupClearV2 {
    pub ph_enable: bool,
    pub sh_enable: bool,
    pub eh_enable: bool,
    pub ph_enable_nv: bool,
}

/// `SavedState` as of schema versions 1 and 2: what `Shutdown(STATE)`
/// kept before the session context tracking was saved too.
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(super) struct SavedStateV2 {
    pub pcrs: PcrBanks,
    pub startup_clear: StartupClearV2,
    pub null_seed: Vec<u8>,
    pub null_proof: Vec<u8>,
    pub platform_auth: Vec<u8>,
    pub platform_policy: Policy,
}

/// `PersistentState` as of schema version 2.
#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
pub(super) struct PersistentStateV2 {
    pub eps: Vec<u8>,
    pub sps: Vec<u8>,
    pub pps: Vec<u8>,
    pub eh_proof: Vec<u8>,
    pub sh_proof: Vec<u8>,
    pub ph_proof: Vec<u8>,
    pub owner_auth: Vec<u8>,
    pub endorsement_auth: Vec<u8>,
    pub lockout_auth: Vec<u8>,
    pub owner_policy: Policy,
    pub endorsement_policy: Policy,
    pub lockout_policy: Policy,
    pub disable_clear: bool,
    pub clock: u64,
    pub reset_count: u32,
    pub restart_count: u32,
    pub total_reset_count: u32,
    pub pcr_allocation: Vec<HashAlg>,
    pub orderly: Orderly,
    pub saved: Option<SavedStateV2>,
    pub failed_tries: u32,
    pub max_tries: u32,
    pub recovery_time: u32,
    pub lockout_recovery: u32,
    pub lockout_auth_disabled: bool,
    pub audit_alg: u16,
    pub audited: Vec<u32>,
    pub audit_counter: u64,
    pub persistent: Vec<crate::object::Object>,
    pub context_key: Vec<u8>,
    pub nv: Vec<nv::NvIndex>,
    pub nv_counter_high_water: u64,
    pub act_saved: Vec<crate::commands::act::SavedAct>,
}

/// Parse a version-2 body into the current schema.
pub fn migrate(body: &[u8]) -> Result<PersistentState, StateLoadError> {
    let o: PersistentStateV2 = postcard::from_bytes(body).map_err(|_| StateLoadError::Malformed)?;
    Ok(upgrade(o))
}

/// Version 2 to the current schema.
///
/// A state saved by `Shutdown(STATE)` under version 2 did not record the
/// session context tracking, so none is restored: the sessions whose
/// contexts were saved then are gone after the next Startup, as they were
/// with the release that wrote it. The context counter starts again at 0,
/// so the context key is replaced (derived from the old one: migration
/// has no entropy): a context saved before the upgrade can then neither be
/// loaded nor share its sequence number, and so its key and IV, with a
/// context saved after it (Part 1, 34.4.4, objectContextID). Releases
/// writing version 2 kept the context key for the TPM's lifetime.
pub(super) fn upgrade(o: PersistentStateV2) -> PersistentState {
    let saved = o.saved.map(|s| SavedState {
        pcrs: s.pcrs,
        startup_clear: StartupClear {
            ph_enable: s.startup_clear.ph_enable,
            sh_enable: s.startup_clear.sh_enable,
            eh_enable: s.startup_clear.eh_enable,
            ph_enable_nv: s.startup_clear.ph_enable_nv,
            read_only: false,
        },
        null_seed: s.null_seed,
        null_proof: s.null_proof,
        platform_auth: s.platform_auth,
        platform_policy: s.platform_policy,
        clear_count: 0,
        context_counter: 0,
        sessions: Vec::new(),
        pcr_update_counter: 0,
        command_audit_digest: Vec::new(),
    });
    let context_key =
        HashAlg::Sha256.digest_parts(&[b"vtpm context key after schema 2\0", &o.context_key]);
    PersistentState {
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
        saved,
        failed_tries: o.failed_tries,
        max_tries: o.max_tries,
        recovery_time: o.recovery_time,
        lockout_recovery: o.lockout_recovery,
        lockout_auth_disabled: o.lockout_auth_disabled,
        audit_alg: o.audit_alg,
        audited: o.audited,
        audit_counter: o.audit_counter,
        persistent: o.persistent,
        context_key,
        nv: o.nv,
        nv_counter_high_water: o.nv_counter_high_water,
        act_saved: o.act_saved,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::crypto::Drbg;

    /// A version-2 body as the release writing version 2 serialized it,
    /// from the fields of a current state.
    fn v2_body(p: &PersistentState, saved: Option<SavedStateV2>) -> Vec<u8> {
        let o = PersistentStateV2 {
            eps: p.eps.clone(),
            sps: p.sps.clone(),
            pps: p.pps.clone(),
            eh_proof: p.eh_proof.clone(),
            sh_proof: p.sh_proof.clone(),
            ph_proof: p.ph_proof.clone(),
            owner_auth: b"owner".to_vec(),
            endorsement_auth: p.endorsement_auth.clone(),
            lockout_auth: p.lockout_auth.clone(),
            owner_policy: p.owner_policy.clone(),
            endorsement_policy: p.endorsement_policy.clone(),
            lockout_policy: p.lockout_policy.clone(),
            disable_clear: true,
            clock: 12345,
            reset_count: 7,
            restart_count: 2,
            total_reset_count: 9,
            pcr_allocation: p.pcr_allocation.clone(),
            orderly: if saved.is_some() {
                Orderly::State
            } else {
                Orderly::Clear
            },
            saved,
            failed_tries: 1,
            max_tries: 5,
            recovery_time: 10,
            lockout_recovery: 20,
            lockout_auth_disabled: true,
            audit_alg: 0x000B,
            audited: alloc::vec![0x140, 0x17B],
            audit_counter: 3,
            persistent: Vec::new(),
            context_key: p.context_key.clone(),
            nv: Vec::new(),
            nv_counter_high_water: 77,
            act_saved: Vec::new(),
        };
        postcard::to_allocvec(&o).unwrap()
    }

    #[test]
    fn v2_state_with_saved_state_migrates() {
        let mut drbg = Drbg::new(&[7; 48], b"test");
        let p = PersistentState::manufacture(&mut drbg);
        let saved = SavedStateV2 {
            pcrs: PcrBanks::new(&[HashAlg::Sha256], 0),
            startup_clear: StartupClearV2 {
                ph_enable: true,
                sh_enable: false,
                eh_enable: true,
                ph_enable_nv: false,
            },
            null_seed: alloc::vec![1; 64],
            null_proof: alloc::vec![2; 64],
            platform_auth: b"platform".to_vec(),
            platform_policy: Policy::default(),
        };
        let body = v2_body(&p, Some(saved));
        let m = super::super::migrate(2, &body).unwrap();
        assert_eq!(m.owner_auth, b"owner");
        assert_eq!(
            (m.reset_count, m.restart_count, m.total_reset_count),
            (7, 2, 9)
        );
        assert_eq!(m.clock, 12345);
        assert!(m.disable_clear && m.lockout_auth_disabled);
        assert_eq!(m.nv_counter_high_water, 77);
        assert_eq!(m.audited, [0x140, 0x17B]);
        assert_eq!(m.orderly, Orderly::State);
        let s = m.saved.as_ref().expect("the saved state is kept");
        assert_eq!(s.null_seed, [1; 64]);
        assert_eq!(s.null_proof, [2; 64]);
        assert_eq!(s.platform_auth, b"platform");
        assert!(!s.startup_clear.sh_enable && !s.startup_clear.ph_enable_nv);
        assert!(s.sessions.is_empty());
        assert_eq!((s.context_counter, s.clear_count), (0, 0));
        // The context counter starts over, so the context key changes.
        assert_eq!(m.context_key.len(), 32);
        assert_ne!(m.context_key, p.context_key);
        // And the result is a current state.
        let again = PersistentState::from_bytes(&m.to_bytes().unwrap()).unwrap();
        assert_eq!(again.saved.unwrap().null_seed, [1; 64]);
    }

    #[test]
    fn v2_state_without_saved_state_migrates() {
        let mut drbg = Drbg::new(&[8; 48], b"test");
        let p = PersistentState::manufacture(&mut drbg);
        let m = super::super::migrate(2, &v2_body(&p, None)).unwrap();
        assert!(m.saved.is_none());
        assert_eq!(m.orderly, Orderly::Clear);
        assert_eq!(m.eps, p.eps);
    }
}
