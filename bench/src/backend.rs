//! What every benchmarked TPM offers: command bytes in, response bytes out.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// A TPM under benchmark.
pub trait Backend {
    /// Short label for tables ("vtpm", "libtpms", "vtpm-host-sim", "swtpm").
    fn name(&self) -> String;
    /// Execute one command, returning the response.
    fn exec(&mut self, cmd: &[u8]) -> Vec<u8>;
    /// Durable/in-memory state stores so far, where the backend can tell.
    fn commits(&self) -> Option<u64>;
}

/// Replace `dir/name` by `bytes` durably, the crash-safe way every peer
/// uses (vtpm-host-sim's store, swtpm's dir backend): write a temporary
/// file, fsync it, rename it over the target, fsync the directory. Both
/// in-process "fsync" variants call this, so they pay the same I/O.
pub fn durable_write(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = File::create(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    fs::rename(&tmp, dir.join(name))?;
    File::open(dir)?.sync_all()
}
