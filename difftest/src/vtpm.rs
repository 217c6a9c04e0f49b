//! vtpm-core in process, on the deterministic [`TestPlatform`].

use vtpm_core::testing::TestPlatform;
use vtpm_core::{Config, Tpm};

use crate::Backend;

/// The engine under test, manufactured with the default configuration.
pub struct Vtpm {
    /// The engine (public so a test can look at its platform).
    pub tpm: Tpm<TestPlatform>,
    locality: u8,
}

impl Vtpm {
    /// Manufacture and power on (the caller sends TPM2_Startup). `seed`
    /// drives the platform's entropy.
    pub fn new(seed: u64) -> Self {
        let mut tpm = match Tpm::manufacture(TestPlatform::new(seed), Config::default()) {
            Ok(t) => t,
            Err(e) => panic!("vtpm manufacture: {e:?}"),
        };
        tpm.power_on();
        Vtpm { tpm, locality: 0 }
    }
}

impl Backend for Vtpm {
    fn name(&self) -> &'static str {
        "vtpm"
    }
    fn execute(&mut self, cmd: &[u8]) -> Vec<u8> {
        self.tpm.execute(self.locality, cmd)
    }
    fn restart(&mut self) {
        self.tpm.reset();
    }
    fn set_locality(&mut self, locality: u8) {
        self.locality = locality;
    }
}
