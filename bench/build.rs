//! Link libtpms (Debian: `apt-get install libtpms-dev libtpms0`): the
//! in-process peer of the engine benchmark (src/libtpms.rs).

fn main() {
    println!("cargo:rustc-link-lib=tpms");
    println!("cargo:rerun-if-changed=build.rs");
}
