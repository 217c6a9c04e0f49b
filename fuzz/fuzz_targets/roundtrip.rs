//! Fuzz the wire structures: the first octet selects a structure
//! (`vtpm_tests::fuzzing::ROUNDTRIP_TYPES`); if the rest unmarshals,
//! marshalling the value must give back the octets consumed (for the
//! structures with one encoding per value) and be a fixed point of
//! unmarshal-then-marshal (for all).
//!
//! Run: `cargo +nightly fuzz run roundtrip`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = vtpm_tests::fuzzing::roundtrip_input(data) {
        panic!("{e}");
    }
});
