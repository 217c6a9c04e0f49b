//! Scaling: commit cost against NV in use, command cost against loaded
//! objects and sessions, and many simulator processes at once.

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use vtpm_core::Config;

use crate::backend::Backend;
use crate::engine::VtpmEngine;
use crate::json::Json;
use crate::libtpms::Libtpms;
use crate::runner::Budget;
use crate::socket::{Launch, Server, SocketTpm};
use crate::stats::{fmt_ns, Summary};
use crate::tpm::{self, cc, Cmd, ALG_SHA256, RH_NULL};
use crate::workload::{self, call, nv_define, nv_fill, nv_write_cmd, startup, timed};

const NV_SMALL: u32 = 0x0150_0001;

/// NV in use for the commit-cost scaling, KiB.
pub const NV_LEVELS_KIB: [usize; 3] = [1, 16, 64];

/// Engine config for the NV scaling: the default capacity (64 KiB) holds
/// no more than 64 KiB of index data *including* its metadata, so the
/// 64 KiB level runs with room for it.
pub fn nv_scaling_config() -> Config {
    Config {
        nv_capacity: 128 * 1024,
        ..Config::default()
    }
}

/// Define and fill `kib` KiB of NV in indices of at most 2 KiB.
pub fn fill_nv(b: &mut dyn Backend, kib: usize) {
    let mut left = kib * 1024;
    let mut i = 0u32;
    while left > 0 {
        let n = left.min(2048);
        let idx = 0x0151_0000 + i;
        nv_define(b, idx, n as u16, b"");
        nv_fill(b, idx, n, b"");
        left -= n;
        i += 1;
    }
}

/// Time NV_Write of 64 B on `a` and `b` interleaved.
fn nv_write_pair(a: &mut dyn Backend, b: &mut dyn Backend, budget: &Budget) -> (Summary, Summary) {
    nv_define(a, NV_SMALL, 64, b"");
    nv_define(b, NV_SMALL, 64, b"");
    let mut sa = Vec::new();
    let mut sb = Vec::new();
    let start = Instant::now();
    for i in 0..budget.iters + 3 {
        let cmd = nv_write_cmd(NV_SMALL, b"", &[i as u8; 64], 0);
        let da = timed(a, &cmd, "NV_Write").0;
        let db = timed(b, &cmd, "NV_Write").0;
        if i >= 3 {
            sa.push(da);
            sb.push(db);
        }
        if sa.len() >= budget.min_iters && start.elapsed() > budget.per_case {
            break;
        }
    }
    (Summary::of(&sa), Summary::of(&sb))
}

/// Commit cost (NV_Write 64 B) with 1, 16, 64 KiB of NV in use.
pub fn nv_scaling(dir: &Path, budget: &Budget, out: &mut String) -> Json {
    out.push_str("\n### NV_Write 64 B against NV in use (commit cost)\n\n");
    out.push_str("| NV in use | vtpm | libtpms | ratio | vtpm+fsync | libtpms+fsync | ratio | vtpm state bytes | libtpms permall bytes |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut rows = Vec::new();
    for kib in NV_LEVELS_KIB {
        let mut res = Vec::new();
        let mut sizes = (0, 0);
        for durable in [false, true] {
            let d = |s: &str| durable.then(|| dir.join(format!("nv{kib}-{s}")));
            let mut v = VtpmEngine::new(d("vtpm"), nv_scaling_config());
            let mut l = Libtpms::new(d("libtpms"));
            for x in [&mut v as &mut dyn Backend, &mut l] {
                startup(x);
                fill_nv(x, kib);
            }
            let (sv, sl) = nv_write_pair(&mut v, &mut l, budget);
            sizes = (v.tpm.platform().committed.len(), l.permall_size());
            res.push((sv, sl));
        }
        eprintln!(
            "  NV {kib:>2} KiB: vtpm {} libtpms {} | fsync: vtpm {} libtpms {}",
            fmt_ns(res[0].0.median),
            fmt_ns(res[0].1.median),
            fmt_ns(res[1].0.median),
            fmt_ns(res[1].1.median)
        );
        out.push_str(&format!(
            "| {kib} KiB | {} | {} | {:.3} | {} | {} | {:.3} | {} | {} |\n",
            fmt_ns(res[0].0.median),
            fmt_ns(res[0].1.median),
            res[0].0.median / res[0].1.median,
            fmt_ns(res[1].0.median),
            fmt_ns(res[1].1.median),
            res[1].0.median / res[1].1.median,
            sizes.0,
            sizes.1
        ));
        rows.push(Json::obj(vec![
            ("nv_kib", Json::num(kib as f64)),
            ("vtpm_median_ns", Json::num(res[0].0.median)),
            ("libtpms_median_ns", Json::num(res[0].1.median)),
            ("vtpm_fsync_median_ns", Json::num(res[1].0.median)),
            ("libtpms_fsync_median_ns", Json::num(res[1].1.median)),
            ("vtpm_state_bytes", Json::num(sizes.0 as f64)),
            ("libtpms_permall_bytes", Json::num(sizes.1 as f64)),
        ]));
    }
    Json::Arr(rows)
}

/// Load `objects` objects (an ECC parent and RSA-2048 keys loaded under
/// it) and start `sessions` HMAC sessions.
fn load_level(b: &mut dyn Backend, objects: usize, sessions: usize) {
    if objects > 0 {
        let parent = workload::ecc_parent(b);
        if objects > 1 {
            let (private, public) = workload::create(b, parent, &tpm::rsa_signing(), b"");
            for _ in 1..objects {
                workload::load(b, parent, &private, &public);
            }
        }
    }
    for _ in 0..sessions {
        call(
            b,
            &tpm::start_session_cmd(RH_NULL, &[0x5A; 32], &[], 0),
            "StartAuthSession",
        );
    }
}

fn time_ops(b: &mut dyn Backend, budget: &Budget) -> [Summary; 3] {
    nv_define(b, NV_SMALL, 64, b"");
    let ops: [Vec<u8>; 3] = [
        Cmd::new(cc::GET_RANDOM).u16(32).build(),
        Cmd::new(cc::PCR_EXTEND)
            .handle(16)
            .pw(b"")
            .u32(1)
            .u16(ALG_SHA256)
            .bytes(&[0x11; 32])
            .build(),
        nv_write_cmd(NV_SMALL, b"", &[0x42; 64], 0),
    ];
    ops.map(|cmd| {
        let mut s = Vec::new();
        let start = Instant::now();
        for i in 0..budget.iters + 3 {
            let d = timed(b, &cmd, "scaling op").0;
            if i >= 3 {
                s.push(d);
            }
            if s.len() >= budget.min_iters && start.elapsed() > budget.per_case / 3 {
                break;
            }
        }
        Summary::of(&s)
    })
}

/// Cost of cheap commands against loaded objects and sessions.
pub fn load_scaling(budget: &Budget, out: &mut String) -> Json {
    out.push_str(
        "\n### Command cost against loaded objects and sessions (in process, in-memory NV)\n\n",
    );
    out.push_str("Objects: an ECC P-256 parent plus RSA-2048 keys; sessions: unsalted HMAC. libtpms has 3 object and 3 session slots, so it is measured at 0 and 3 only.\n\n");
    out.push_str("| objects | sessions | GetRandom vtpm | GetRandom libtpms | PCR_Extend vtpm | PCR_Extend libtpms | NV_Write vtpm | NV_Write libtpms |\n");
    out.push_str("|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let levels: [(usize, usize); 7] = [(0, 0), (3, 0), (8, 0), (15, 0), (0, 3), (0, 8), (0, 15)];
    let mut rows = Vec::new();
    // A discarded first pass, so the first level does not pay for a cold CPU.
    let mut w = VtpmEngine::new(None, Config::default());
    startup(&mut w);
    time_ops(&mut w, budget);
    drop(w);
    for (objects, sessions) in levels {
        let mut v = VtpmEngine::new(None, Config::default());
        startup(&mut v);
        load_level(&mut v, objects, sessions);
        let sv = time_ops(&mut v, budget);
        let sl = if objects <= 3 && sessions <= 3 {
            let mut l = Libtpms::new(None);
            startup(&mut l);
            load_level(&mut l, objects, sessions);
            Some(time_ops(&mut l, budget))
        } else {
            None
        };
        let lf = |i: usize| sl.as_ref().map_or("-".to_string(), |s| fmt_ns(s[i].median));
        out.push_str(&format!(
            "| {objects} | {sessions} | {} | {} | {} | {} | {} | {} |\n",
            fmt_ns(sv[0].median),
            lf(0),
            fmt_ns(sv[1].median),
            lf(1),
            fmt_ns(sv[2].median),
            lf(2)
        ));
        eprintln!(
            "  objects {objects:>2} sessions {sessions:>2}: GetRandom {} PCR_Extend {} NV_Write {}",
            fmt_ns(sv[0].median),
            fmt_ns(sv[1].median),
            fmt_ns(sv[2].median)
        );
        let lj = |i: usize| sl.as_ref().map_or(Json::Null, |s| Json::num(s[i].median));
        rows.push(Json::obj(vec![
            ("objects", Json::num(objects as f64)),
            ("sessions", Json::num(sessions as f64)),
            ("vtpm_getrandom_ns", Json::num(sv[0].median)),
            ("libtpms_getrandom_ns", lj(0)),
            ("vtpm_pcr_extend_ns", Json::num(sv[1].median)),
            ("libtpms_pcr_extend_ns", lj(1)),
            ("vtpm_nv_write_ns", Json::num(sv[2].median)),
            ("libtpms_nv_write_ns", lj(2)),
        ]));
    }
    Json::Arr(rows)
}

/// The boot-like workload of one instance: Startup, 100 PCR_Extends,
/// CreatePrimary ECC, 4 GetRandom.
fn boot_workload(b: &mut dyn Backend) {
    startup(b);
    for i in 0..100u32 {
        let cmd = Cmd::new(cc::PCR_EXTEND)
            .handle(i % 8)
            .pw(b"")
            .u32(1)
            .u16(ALG_SHA256)
            .bytes(&[i as u8; 32])
            .build();
        call(b, &cmd, "PCR_Extend");
    }
    let h = workload::primary(b, &tpm::ecc_storage(&[]));
    for _ in 0..4 {
        call(b, &Cmd::new(cc::GET_RANDOM).u16(32).build(), "GetRandom");
    }
    call(b, &tpm::flush_cmd(h), "FlushContext");
}

/// N simulator processes at once, each serving a boot-like workload.
pub fn concurrency(launch: &Launch, dir: &Path, counts: &[usize], out: &mut String) -> Json {
    out.push_str("\n### Concurrent simulator instances (boot-like workload each)\n\n");
    out.push_str("Each instance: TPM2_Startup, 100 PCR_Extend, CreatePrimary ECC P-256, 4 GetRandom, FlushContext, over its own TCP connection from its own client thread; all servers pinned to the same CPU(s), all clients on the other.\n\n");
    out.push_str("| server | instances | total wall | per-instance median | p90 | max | RSS peak median (KiB) | start to first answer, median (all started at once) |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut rows = Vec::new();
    for &n in counts {
        for server in [Server::VtpmHostSim, Server::Swtpm] {
            // Start all at once, then wait until each answers.
            let starting: Vec<_> = (0..n)
                .map(|i| {
                    let launch = launch.clone();
                    let d = dir.join(format!("conc-{}-{n}-{i}", server.label()));
                    std::thread::spawn(move || SocketTpm::start(server, &launch, &d))
                })
                .collect();
            let tpms: Vec<SocketTpm> = starting
                .into_iter()
                .map(|h| h.join().expect("server start"))
                .collect();
            let ready = Summary::of(&tpms.iter().map(|t| t.ready).collect::<Vec<_>>());
            let barrier = Arc::new(Barrier::new(n + 1));
            let handles: Vec<_> = tpms
                .into_iter()
                .map(|mut t| {
                    let barrier = barrier.clone();
                    std::thread::spawn(move || {
                        barrier.wait();
                        let s = Instant::now();
                        boot_workload(&mut t);
                        (t, s.elapsed())
                    })
                })
                .collect();
            barrier.wait();
            let start = Instant::now();
            let mut done: Vec<(SocketTpm, Duration)> = handles
                .into_iter()
                .map(|h| h.join().expect("client thread"))
                .collect();
            let wall = start.elapsed();
            let per: Vec<Duration> = done.iter().map(|(_, d)| *d).collect();
            let s = Summary::of(&per);
            let mut rss: Vec<u64> = done.iter().map(|(t, _)| t.rss_kib().0).collect();
            rss.sort_unstable();
            let rss_med = rss.get(rss.len() / 2).copied().unwrap_or(0);
            for (t, _) in done.drain(..) {
                let d = t.state_dir.clone();
                t.stop();
                let _ = std::fs::remove_dir_all(d);
            }
            let max = per.iter().max().copied().unwrap_or(Duration::ZERO);
            eprintln!(
                "  {:<14} x{n:>3}: wall {} per-instance median {} max {} RSS {} KiB, ready {}",
                server.label(),
                fmt_ns(wall.as_nanos() as f64),
                fmt_ns(s.median),
                fmt_ns(max.as_nanos() as f64),
                rss_med,
                fmt_ns(ready.median)
            );
            out.push_str(&format!(
                "| {} | {n} | {} | {} | {} | {} | {} | {} |\n",
                server.label(),
                fmt_ns(wall.as_nanos() as f64),
                fmt_ns(s.median),
                fmt_ns(s.p90),
                fmt_ns(max.as_nanos() as f64),
                rss_med,
                fmt_ns(ready.median)
            ));
            rows.push(Json::obj(vec![
                ("server", Json::str(server.label())),
                ("instances", Json::num(n as f64)),
                ("wall_ns", Json::num(wall.as_nanos() as f64)),
                ("per_instance_median_ns", Json::num(s.median)),
                ("per_instance_p90_ns", Json::num(s.p90)),
                ("per_instance_max_ns", Json::num(max.as_nanos() as f64)),
                ("rss_peak_median_kib", Json::num(rss_med as f64)),
                ("ready_median_ns", Json::num(ready.median)),
            ]));
        }
    }
    Json::Arr(rows)
}
