//! libtpms (the TPM inside swtpm) called directly through its C API, the
//! in-process peer of the engine benchmark. The binding (C API, NV
//! callbacks, singleton lock) is the workspace crate `libtpms-ffi`, shared
//! with vtpm-difftest; here it becomes a [`Backend`] whose NV stores are
//! counted and, in the fsync variant, also written to files, durably.
//!
//! With the counting allocator in `alloc.rs`, this is the only module of
//! the crate with `unsafe` (glibc's `mallinfo2`). libtpms is a
//! process-wide singleton, so at most one [`Libtpms`] lives at a time.

use std::path::PathBuf;

use crate::backend::{durable_write, Backend};

/// glibc's `struct mallinfo2`.
#[repr(C)]
#[derive(Default)]
struct MallInfo2 {
    arena: usize,
    ordblks: usize,
    smblks: usize,
    hblks: usize,
    hblkhd: usize,
    usmblks: usize,
    fsmblks: usize,
    uordblks: usize,
    fordblks: usize,
    keepcost: usize,
}

extern "C" {
    fn mallinfo2() -> MallInfo2;
}

/// Bytes malloc'ed and in use in the whole process (glibc `mallinfo2`):
/// libtpms allocates with malloc, outside the Rust counting allocator.
pub fn malloc_in_use() -> usize {
    // SAFETY: mallinfo2 takes no arguments and returns a plain struct.
    let mi = unsafe { mallinfo2() };
    mi.uordblks + mi.hblkhd
}

/// libtpms, initialized as a TPM 2.0 with in-memory (or fsynced) NV.
pub struct Libtpms {
    tpm: libtpms_ffi::Libtpms,
    label: &'static str,
}

impl Libtpms {
    /// Manufacture a fresh libtpms TPM 2.0 (the caller sends TPM2_Startup);
    /// with `durable`, every state file is also written durably there.
    pub fn new(durable: Option<PathBuf>) -> Self {
        let label = if durable.is_some() {
            "libtpms+fsync"
        } else {
            "libtpms"
        };
        let on_store = durable.map(|dir| {
            std::fs::create_dir_all(&dir).expect("create libtpms state directory");
            let hook: libtpms_ffi::StoreHook =
                Box::new(move |name, bytes| durable_write(&dir, name, bytes));
            hook
        });
        let tpm = libtpms_ffi::Libtpms::try_new(on_store)
            .expect("libtpms is a singleton: one instance at a time");
        Libtpms { tpm, label }
    }

    /// Size of the stored permanent state ("permall"), bytes.
    pub fn permall_size(&self) -> usize {
        self.tpm.state_file_len("permall").unwrap_or(0)
    }
}

impl Backend for Libtpms {
    fn name(&self) -> String {
        self.label.to_string()
    }
    fn exec(&mut self, cmd: &[u8]) -> Vec<u8> {
        self.tpm.process(cmd)
    }
    fn commits(&self) -> Option<u64> {
        Some(self.tpm.stores())
    }
}
