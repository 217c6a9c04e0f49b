//! Link libtpms, the TPM engine of swtpm (Debian: `apt-get install
//! libtpms-dev libtpms0`). Without it the crate does not build, so the
//! differential tests fail rather than skip.

fn main() {
    println!("cargo:rustc-link-lib=tpms");
    println!("cargo:rerun-if-changed=build.rs");
}
