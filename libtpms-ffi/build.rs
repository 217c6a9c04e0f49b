//! Link libtpms, the TPM engine of swtpm (Debian: `apt-get install
//! libtpms-dev libtpms0`). Without it this crate, and so vtpm-bench and
//! vtpm-difftest, do not build: their tests fail rather than skip.

fn main() {
    println!("cargo:rustc-link-lib=tpms");
    println!("cargo:rerun-if-changed=build.rs");
}
