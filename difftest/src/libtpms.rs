//! libtpms (the TPM 2.0 engine inside swtpm) in process, as the reference
//! side of the differential tests. The binding (C API, in-memory NV
//! callbacks, locality callback, singleton lock) is the workspace crate
//! `libtpms-ffi`, shared with vtpm-bench; here it becomes a [`Backend`].
//! [`Libtpms::new`] waits while another test holds libtpms, so tests that
//! run in parallel threads take turns; [`Backend::restart`] is _TPM_Init
//! with the persistent state kept, as a reboot does.

pub use libtpms_ffi::Libtpms;

use crate::Backend;

impl Backend for Libtpms {
    fn name(&self) -> &'static str {
        "libtpms"
    }

    fn execute(&mut self, cmd: &[u8]) -> Vec<u8> {
        self.process(cmd)
    }

    fn restart(&mut self) {
        Libtpms::restart(self);
    }

    fn set_locality(&mut self, locality: u8) {
        Libtpms::set_locality(self, locality);
    }
}
