//! Fuzz the command engine: arbitrary bytes become one or more TPM commands
//! (split by their size fields, see `vtpm_tests::fuzzing`) executed at
//! locality 0 on a freshly manufactured, started TPM. No input may panic;
//! every response must be a well-formed TPM response.
//!
//! Run: `cargo +nightly fuzz run execute` (from the repository root).

#![no_main]

use libfuzzer_sys::fuzz_target;
use vtpm_tests::fuzzing::{fresh_tpm, run_input};

fuzz_target!(|data: &[u8]| {
    let mut tpm = fresh_tpm();
    if let Err(e) = run_input(&mut tpm, data) {
        panic!("malformed response: {e}");
    }
});
