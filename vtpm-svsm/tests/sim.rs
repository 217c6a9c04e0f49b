//! The host simulator's path: every command through the SVSM protocol over
//! a simulated guest page.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use common::*;
use vtpm_svsm::page::MAX_COMMAND_SIZE;
use vtpm_svsm::{ServiceOptions, SimulatedGuest, SvsmError};

#[test]
fn simulated_guest_runs_a_realistic_session() {
    let tpm = vtpm_core::testing::started_tpm(21).unwrap();
    let mut guest = SimulatedGuest::new(tpm, ServiceOptions::default()).unwrap();
    assert_eq!(guest.query(), Ok((0x100, 0)));
    realistic_session(&mut |c| guest.send(0, c).expect("SVSM call"));
}

#[test]
fn simulated_guest_gives_the_same_answers_as_the_engine() {
    let mut direct = vtpm_core::testing::started_tpm(22).unwrap();
    let tpm = vtpm_core::testing::started_tpm(22).unwrap();
    let mut guest = SimulatedGuest::new(tpm, ServiceOptions::default()).unwrap();
    for c in [
        get_random(20),
        cmds::pcr_read_sha256([1, 0, 0]),
        cmds::get_capability(6, 0x100, 8),
    ] {
        assert_eq!(guest.send(0, &c).unwrap(), direct.execute(0, &c));
    }
}

#[test]
fn simulated_guest_reports_svsm_errors() {
    let tpm = vtpm_core::testing::started_tpm(23).unwrap();
    let mut guest = SimulatedGuest::new(tpm, ServiceOptions::default()).unwrap();
    assert_eq!(
        guest.send(1, &get_random(8)),
        Err(SvsmError::InvalidParameter)
    );
    assert_eq!(
        guest.send(0, &vec![0u8; MAX_COMMAND_SIZE + 1]),
        Err(SvsmError::InvalidParameter)
    );
    let rsp = guest.send(0, &vec![0u8; MAX_COMMAND_SIZE]).unwrap();
    assert_eq!(
        rsp.len(),
        10,
        "TPM-level error for a junk 4087-byte command"
    );
    guest.tpm_mut().power_off();
    assert_eq!(
        guest.send(0, &get_random(8)),
        Err(SvsmError::InvalidRequest)
    );
    guest.tpm_mut().power_on();
    assert_eq!(rc(&guest.send(0, &STARTUP_CLEAR).unwrap()), 0);
}

#[test]
fn simulated_guest_allows_localities_when_configured() {
    let tpm = vtpm_core::testing::started_tpm(24).unwrap();
    let mut guest = SimulatedGuest::new(
        tpm,
        ServiceOptions {
            max_locality: 4,
            ..ServiceOptions::default()
        },
    )
    .unwrap();
    for l in 0..=4 {
        assert_eq!(rc(&guest.send(l, &get_random(8)).unwrap()), 0);
    }
}
