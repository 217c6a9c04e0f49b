//! Link flags for a freestanding x86_64 Linux executable: no C runtime
//! start files (the binary's own `_start` is the entry point); libc is
//! linked only for the `mem*` routines that `core` calls and for `_exit`.

fn main() {
    println!("cargo:rustc-link-arg-bins=-nostartfiles");
    println!("cargo:rustc-link-arg-bins=-lc");
    println!("cargo:rerun-if-changed=build.rs");
}
