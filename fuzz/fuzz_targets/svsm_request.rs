//! Fuzz the SVSM vTPM protocol handler with arbitrary guest pages
//! (`vtpm_svsm::fuzzing::fuzz_request` checks its own properties).
//!
//! Run: `cargo +nightly fuzz run svsm_request`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    vtpm_svsm::fuzzing::fuzz_request(data);
});
