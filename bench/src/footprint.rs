//! Footprint: the engine's peak heap for a realistic session, beside
//! libtpms's heap and static data for the same session; the size of the
//! stripped no_std build.

use std::path::Path;
use std::process::Command;

use vtpm_core::Config;

use crate::alloc;
use crate::backend::Backend;
use crate::engine::VtpmEngine;
use crate::json::Json;
use crate::libtpms::{self, Libtpms};
use crate::tpm::{self, cc, Cmd, RH_NULL};
use crate::workload::{self, call, nv_define, nv_fill, startup};

/// Startup; an RSA-2048 storage primary and two RSA-2048 signing keys
/// loaded under it (3 loaded RSA-2048 keys); 3 HMAC sessions; 16 KiB of
/// NV in 8 indices of 2 KiB, written; a signature with each signing key.
pub fn realistic_session(b: &mut dyn Backend) {
    startup(b);
    let srk = workload::primary(b, &tpm::rsa_storage(&[]));
    let mut keys = Vec::new();
    for _ in 0..2 {
        let (private, public) = workload::create(b, srk, &tpm::rsa_signing(), b"");
        keys.push(workload::load(b, srk, &private, &public));
    }
    for i in 0..3u8 {
        call(
            b,
            &tpm::start_session_cmd(RH_NULL, &[0x5A ^ i; 32], &[], 0),
            "StartAuthSession",
        );
    }
    for i in 0..8u32 {
        let idx = 0x0152_0000 + i;
        nv_define(b, idx, 2048, b"");
        nv_fill(b, idx, 2048, b"");
    }
    for k in keys {
        call(
            b,
            &Cmd::new(cc::SIGN)
                .handle(k)
                .pw(b"")
                .b2(&[0x42; 32])
                .u16(tpm::ALG_NULL)
                .u16(0x8024)
                .u32(RH_NULL)
                .u16(0)
                .build(),
            "Sign",
        );
    }
}

/// `.data` + `.bss` of a shared object (from binutils `size -A`), if available.
fn static_data(lib: &str) -> Option<u64> {
    let out = Command::new("size").arg("-A").arg(lib).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut total = 0;
    for l in text.lines() {
        let mut f = l.split_whitespace();
        let (Some(name), Some(sz)) = (f.next(), f.next()) else {
            continue;
        };
        if name == ".data" || name == ".bss" || name == ".data.rel.ro" {
            total += sz.parse::<u64>().ok()?;
        }
    }
    Some(total)
}

pub fn footprint(nostd_binary: Option<&Path>, out: &mut String) -> Json {
    // vtpm: Rust heap, counted by the global allocator.
    let base = alloc::current();
    alloc::reset_peak();
    let mut v = VtpmEngine::new(None, Config::default());
    realistic_session(&mut v);
    let vtpm_peak = alloc::peak() - base;
    let vtpm_live = alloc::current() - base;
    let state_bytes = v.tpm.platform().committed.len();
    drop(v);

    // libtpms: malloc in use (glibc), less what the Rust side holds.
    let m0 = libtpms::malloc_in_use() as i64;
    let r0 = alloc::current() as i64;
    let mut l = Libtpms::new(None);
    realistic_session(&mut l);
    let m1 = libtpms::malloc_in_use() as i64;
    let r1 = alloc::current() as i64;
    let permall = l.permall_size();
    drop(l);
    let libtpms_heap = (m1 - m0) - (r1 - r0);
    let lib = "/lib/x86_64-linux-gnu/libtpms.so.0";
    let libtpms_static = static_data(lib);

    let nostd = nostd_binary.map(|p| {
        (
            p.display().to_string(),
            std::fs::metadata(p).map(|m| m.len()),
        )
    });

    out.push_str("\n### Footprint\n\n");
    out.push_str("Realistic session: Startup, RSA-2048 storage primary + 2 RSA-2048 signing keys loaded (3 RSA keys), 3 HMAC sessions, 16 KiB of NV (8 indices of 2 KiB, written), one RSASSA signature per signing key.\n\n");
    out.push_str("| measure | bytes |\n|---|---:|\n");
    out.push_str(&format!("| vtpm-core peak heap during the session (counting allocator; includes the bench client's own few KiB of command buffers) | {vtpm_peak} |\n"));
    out.push_str(&format!(
        "| vtpm-core heap still live at the end of the session (includes the bench platform's copy of the last committed state) | {vtpm_live} |\n"
    ));
    out.push_str(&format!(
        "| vtpm persistent state as committed (serialized, unsealed) | {state_bytes} |\n"
    ));
    out.push_str(&format!("| libtpms heap in use at the end of the same session (glibc mallinfo2, Rust heap subtracted; includes OpenSSL's allocations) | {libtpms_heap} |\n"));
    match libtpms_static {
        Some(s) => out.push_str(&format!(
            "| libtpms static data (.data + .data.rel.ro + .bss of {lib}) | {s} |\n"
        )),
        None => out.push_str("| libtpms static data | (binutils `size` not available) |\n"),
    }
    out.push_str(&format!(
        "| libtpms permanent state (permall) | {permall} |\n"
    ));
    match &nostd {
        Some((p, Ok(n))) => out.push_str(&format!(
            "| stripped release no_std binary linking vtpm-core + vtpm-svsm (`{p}`) | {n} |\n"
        )),
        Some((p, Err(e))) => out.push_str(&format!("| no_std binary `{p}` | not found: {e} |\n")),
        None => out.push_str("| no_std binary | not given (--nostd-binary) |\n"),
    }
    eprintln!(
        "  vtpm peak heap {vtpm_peak} B, live {vtpm_live} B, state {state_bytes} B; libtpms heap {libtpms_heap} B, static {libtpms_static:?} B"
    );
    Json::obj(vec![
        ("vtpm_peak_heap_bytes", Json::num(vtpm_peak as f64)),
        ("vtpm_live_heap_bytes", Json::num(vtpm_live as f64)),
        ("vtpm_state_bytes", Json::num(state_bytes as f64)),
        ("libtpms_heap_bytes", Json::num(libtpms_heap as f64)),
        (
            "libtpms_static_bytes",
            libtpms_static.map_or(Json::Null, |s| Json::num(s as f64)),
        ),
        ("libtpms_permall_bytes", Json::num(permall as f64)),
        (
            "nostd_stripped_bytes",
            match &nostd {
                Some((_, Ok(n))) => Json::num(*n as f64),
                _ => Json::Null,
            },
        ),
    ])
}
