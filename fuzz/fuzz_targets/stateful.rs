//! Fuzz a command stream on a TPM with state: after Startup, a fixed
//! prelude creates a storage primary, a signing key and a sealed object,
//! defines an ordinary and a counter NV index and starts an HMAC and a
//! policy session (handles in `vtpm_tests::fuzzing::prelude_handles`, the
//! same in every run). The input is then split into commands by their size
//! fields and run in sequence; the harness fills in the HMACs of the HMAC
//! sessions it can compute (the prelude's and any unsalted unbound one the
//! input starts), so the fuzzer's commands pass authorization and reach
//! the handlers. Every response must be well formed; nothing may panic.
//!
//! Run: `cargo +nightly fuzz run stateful`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = vtpm_tests::fuzzing::stateful_input(data) {
        panic!("{e}");
    }
});
