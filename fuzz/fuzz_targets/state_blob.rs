//! Fuzz the sealed-state loader: arbitrary bytes as a blob or as the two
//! A/B slots under a known key must be refused cleanly (or open to a state
//! that parses); never a panic. See `vtpm_tests::fuzzing::blob_input`.
//!
//! Run: `cargo +nightly fuzz run state_blob`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = vtpm_tests::fuzzing::blob_input(data) {
        panic!("{e}");
    }
});
