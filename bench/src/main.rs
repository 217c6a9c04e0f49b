//! vtpm-bench: vtpm side by side with libtpms (in process) and swtpm (over
//! the socket), as ratios; footprint; scaling; the post-quantum commands
//! alone (libtpms 0.9 has none). See docs/benchmarks.md.
//!
//! ```text
//! cargo run --release -p vtpm-bench -- [--mode engine|socket|footprint|scaling|pqc|all]
//!     [--iters N] [--json FILE] ...
//! ```
//! (`--help` lists every option.) Never linked by the product crates.

mod alloc;
mod backend;
mod engine;
mod footprint;
mod json;
mod libtpms;
mod pqc;
mod runner;
mod scaling;
mod socket;
mod stats;
mod tpm;
mod workload;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use vtpm_core::Config;

use crate::backend::Backend;
use crate::engine::VtpmEngine;
use crate::json::Json;
use crate::libtpms::Libtpms;
use crate::runner::{run_pair, table, Budget, Row};
use crate::socket::{Launch, Server, SocketTpm};
use crate::workload::{cases, startup};

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

const USAGE: &str = "\
vtpm-bench: vtpm beside libtpms (in process) and swtpm (socket)

Options:
  --mode M            engine | socket | footprint | scaling | pqc | all (default all),
                      or a comma-separated list; 'profile' runs the selected
                      commands on the vtpm engine alone (for perf/callgrind)
  --iters N           iterations per command (default 200)
  --keygen-iters N    iterations for RSA key generation cases (default 40)
  --budget-secs S     stop a case after S seconds once 5 iterations ran (default 30)
  --json FILE         also write the results as JSON
  --markdown FILE     also write the tables as markdown
  --filter TEXT       only commands whose name contains TEXT (=NAME: exactly NAME)
  --state-dir DIR     scratch directory (default target/vtpm-bench)
  --host-sim PATH     vtpm-host-sim binary (default target/release/vtpm-host-sim)
  --swtpm PATH        swtpm binary (default swtpm)
  --server-cpus LIST  taskset CPU list for the servers (default 1; 'none' = unpinned)
  --client-cpu N      pin this process to CPU N (default 0; 'none' = unpinned)
  --instances LIST    concurrent instance counts (default 10,25,50)
  --nostd-binary PATH stripped no_std binary whose size to report
";

struct Opts {
    mode: String,
    budget: Budget,
    json: Option<PathBuf>,
    markdown: Option<PathBuf>,
    filter: Option<String>,
    state_dir: PathBuf,
    launch: Launch,
    client_cpu: Option<String>,
    instances: Vec<usize>,
    nostd_binary: Option<PathBuf>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn parse_args() -> Opts {
    let root = workspace_root();
    let mut o = Opts {
        mode: "all".into(),
        budget: Budget {
            iters: 200,
            keygen_iters: 40,
            per_case: Duration::from_secs(30),
            min_iters: 5,
        },
        json: None,
        markdown: None,
        filter: None,
        state_dir: root.join("target/vtpm-bench"),
        launch: Launch {
            host_sim: root.join("target/release/vtpm-host-sim"),
            swtpm: PathBuf::from("swtpm"),
            server_cpus: Some("1".into()),
            host_sim_prefix: Vec::new(),
        },
        client_cpu: Some("0".into()),
        instances: vec![10, 25, 50],
        nostd_binary: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next().unwrap_or_else(|| {
                eprintln!("{a} needs a value\n\n{USAGE}");
                std::process::exit(2)
            })
        };
        let num = |s: String| -> usize {
            s.parse().unwrap_or_else(|_| {
                eprintln!("not a number: {s}");
                std::process::exit(2)
            })
        };
        match a.as_str() {
            "--mode" => o.mode = val(),
            "--iters" => o.budget.iters = num(val()).max(1),
            "--keygen-iters" => o.budget.keygen_iters = num(val()).max(1),
            "--budget-secs" => o.budget.per_case = Duration::from_secs(num(val()) as u64),
            "--json" => o.json = Some(val().into()),
            "--markdown" => o.markdown = Some(val().into()),
            "--filter" => o.filter = Some(val()),
            "--state-dir" => o.state_dir = val().into(),
            "--host-sim" => o.launch.host_sim = val().into(),
            "--swtpm" => o.launch.swtpm = val().into(),
            "--server-cpus" => {
                let v = val();
                o.launch.server_cpus = (v != "none").then_some(v);
            }
            "--client-cpu" => {
                let v = val();
                o.client_cpu = (v != "none").then_some(v);
            }
            "--instances" => o.instances = val().split(',').map(|s| num(s.to_string())).collect(),
            "--nostd-binary" => o.nostd_binary = Some(val().into()),
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0)
            }
            _ => {
                eprintln!("unknown argument {a}\n\n{USAGE}");
                std::process::exit(2)
            }
        }
    }
    if o.budget.min_iters > o.budget.iters {
        o.budget.min_iters = o.budget.iters;
    }
    o
}

fn sh(cmd: &str) -> String {
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> (String, Json) {
    let cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-");
    let nproc = sh("nproc");
    let mem = sh("grep MemTotal /proc/meminfo | awk '{printf \"%.1f GiB\", $2/1048576}'");
    let load = sh("cat /proc/loadavg");
    let date = sh("date -u +%Y-%m-%dT%H:%M:%SZ");
    let kernel = sh("uname -r");
    let rustc = sh("rustc --version");
    let libtpms = sh("dpkg-query -W -f '${Version}' libtpms0 2>/dev/null");
    let swtpm = sh("swtpm --version 2>&1 | head -1");
    let text = format!(
        "date {date}; CPU {cpu} x {nproc}; memory {mem}; kernel {kernel}; {rustc}; libtpms {libtpms}; {swtpm}; load average at start {load}"
    );
    let j = Json::obj(vec![
        ("date", Json::str(date)),
        ("cpu", Json::str(cpu)),
        ("nproc", Json::str(nproc)),
        ("memory", Json::str(mem)),
        ("kernel", Json::str(kernel)),
        ("rustc", Json::str(rustc)),
        ("libtpms", Json::str(libtpms)),
        ("swtpm", Json::str(swtpm)),
        ("loadavg_start", Json::str(load)),
    ]);
    (text, j)
}

/// Commands that commit persistent state on both TPMs (measured: the
/// commits/op column of the in-process run).
const COMMITTING: [&str; 1] = ["NV_Write 64 B"];

fn has_eatmydata() -> bool {
    Command::new("sh")
        .args(["-c", "command -v eatmydata"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Commands the issue calls cheap.
const CHEAP: [&str; 7] = [
    "GetRandom (32 B)",
    "PCR_Extend (SHA-256)",
    "PCR_Read (8 PCRs)",
    "Hash (1 KiB, SHA-256)",
    "NV_Read 64 B",
    "StartAuthSession (HMAC, unsalted)",
    "NV_Read 64 B, HMAC session",
];

/// (section, command, target ratio).
fn targets() -> Vec<(&'static str, &'static str, f64)> {
    let mut t: Vec<(&str, &str, f64)> = CHEAP.iter().map(|c| ("engine", *c, 0.5)).collect();
    t.extend(CHEAP.iter().map(|c| ("socket", *c, 1.0)));
    t.extend([
        ("socket", "CreatePrimary ECC P-256 (new template)", 0.5),
        ("socket", "CreatePrimary ECC P-256 (same template)", 0.5),
        ("socket", "CreatePrimary RSA 2048 (same template)", 0.1),
        ("socket", "Sign (ECDSA P-256)", 0.5),
        ("socket", "Create RSA 2048", 0.5),
        ("socket", "CreatePrimary RSA 2048 (new template)", 0.5),
        ("socket", "Sign (RSASSA 2048)", 1.0),
        ("socket-nofsync", "NV_Write 64 B", 1.0),
        ("engine-fsync", "NV_Write 64 B", 1.0),
    ]);
    t
}

fn run_cases(
    a: &mut dyn Backend,
    b: &mut dyn Backend,
    budget: &Budget,
    filter: &dyn Fn(&str) -> bool,
) -> Vec<Row> {
    cases()
        .iter()
        .filter(|c| filter(c.name))
        .map(|c| run_pair(c, a, b, budget))
        .collect()
}

fn pin_self(cpu: &str) {
    let pid = std::process::id().to_string();
    match Command::new("taskset").args(["-pc", cpu, &pid]).output() {
        Ok(o) if o.status.success() => eprintln!("client pinned to CPU {cpu}"),
        _ => eprintln!("warning: could not pin the client to CPU {cpu} (taskset)"),
    }
}

fn main() {
    let o = parse_args();
    let modes: Vec<&str> = if o.mode == "all" {
        vec!["engine", "socket", "footprint", "scaling", "pqc"]
    } else {
        o.mode.split(',').collect()
    };
    // Machine facts first: nproc counts only the CPUs this process may use.
    let (mtext, mjson) = machine();
    if let Some(cpu) = &o.client_cpu {
        pin_self(cpu);
    }
    let _ = std::fs::create_dir_all(&o.state_dir);
    eprintln!("{mtext}");
    let mut md = format!("Machine: {mtext}\n");
    let mut report = vec![("machine", mjson)];
    let filter_s = o.filter.clone();
    // --filter TEXT: names containing TEXT; --filter =NAME: exactly NAME.
    let filter = move |name: &str| match filter_s.as_deref() {
        None => true,
        Some(f) => match f.strip_prefix('=') {
            Some(exact) => name == exact,
            None => name.contains(f),
        },
    };
    let mut sections: Vec<(&str, Vec<Row>)> = Vec::new();

    if modes.contains(&"profile") {
        // For perf/callgrind: the selected cases on the vtpm engine alone.
        eprintln!(
            "== profile: vtpm engine only, {} iterations per case",
            o.budget.iters
        );
        let mut v = VtpmEngine::new(None, Config::default());
        startup(&mut v);
        for case in cases().iter().filter(|c| filter(c.name)) {
            workload::clean(&mut v);
            let mut step = (case.setup)(&mut v);
            let mut samples = Vec::new();
            for _ in 0..o.budget.iters_for(case.weight) {
                samples.push(step(&mut v));
            }
            eprintln!(
                "  {:<44} {}",
                case.name,
                stats::fmt_summary(&stats::Summary::of(&samples))
            );
        }
    }

    if modes.contains(&"footprint") {
        eprintln!("== footprint");
        let j = footprint::footprint(o.nostd_binary.as_deref(), &mut md);
        report.push(("footprint", j));
    }

    if modes.contains(&"engine") {
        eprintln!("== engine vs engine, in process, in-memory NV");
        let mut v = VtpmEngine::new(None, Config::default());
        let mut l = Libtpms::new(None);
        startup(&mut v);
        startup(&mut l);
        let rows = run_cases(&mut v, &mut l, &o.budget, &filter);
        drop(l);
        drop(v);
        md.push_str(&table(
            "In process: vtpm-core vs libtpms, in-memory NV (commit = copy into a Vec)",
            &rows,
        ));
        // The durable variant, for the commands that commit on either side.
        let committing: Vec<String> = rows
            .iter()
            .filter(|r| {
                r.a.commits_per_op.unwrap_or(0.0) > 0.0 || r.b.commits_per_op.unwrap_or(0.0) > 0.0
            })
            .map(|r| r.name.clone())
            .collect();
        sections.push(("engine", rows));
        eprintln!("== engine vs engine, in process, fsynced NV: {committing:?}");
        let dir = o.state_dir.join("engine-fsync");
        let _ = std::fs::remove_dir_all(&dir);
        let mut v = VtpmEngine::new(Some(dir.join("vtpm")), Config::default());
        let mut l = Libtpms::new(Some(dir.join("libtpms")));
        startup(&mut v);
        startup(&mut l);
        let f = |name: &str| committing.iter().any(|c| c == name) && filter(name);
        let rows = run_cases(&mut v, &mut l, &o.budget, &f);
        drop(l);
        drop(v);
        md.push_str(&table(
            &format!(
                "In process, durable NV (each commit: write temp file, fsync, rename, fsync dir, under {})",
                dir.display()
            ),
            &rows,
        ));
        sections.push(("engine-fsync", rows));
    }

    if modes.contains(&"socket") {
        eprintln!("== socket: vtpm-host-sim vs swtpm");
        let dir = o.state_dir.join("socket");
        let mut v = SocketTpm::start(Server::VtpmHostSim, &o.launch, &dir.join("vtpm"));
        let mut s = SocketTpm::start(Server::Swtpm, &o.launch, &dir.join("swtpm"));
        startup(&mut v);
        startup(&mut s);
        let rows = run_cases(&mut v, &mut s, &o.budget, &filter);
        let (vr, sr) = (v.rss_kib(), s.rss_kib());
        v.stop();
        s.stop();
        md.push_str(&table(
            "Over the socket: vtpm-host-sim vs swtpm (swtpm socket protocol, TCP loopback; vtpm-host-sim fsyncs every commit, swtpm 0.7 never fsyncs)",
            &rows,
        ));
        md.push_str(&format!(
            "\nServer resident memory after the run (VmHWM peak / VmRSS, KiB): vtpm-host-sim {} / {}, swtpm {} / {}\n",
            vr.0, vr.1, sr.0, sr.1
        ));
        report.push((
            "socket_rss_kib",
            Json::obj(vec![
                ("vtpm_host_sim_peak", Json::num(vr.0 as f64)),
                ("swtpm_peak", Json::num(sr.0 as f64)),
            ]),
        ));
        sections.push(("socket", rows));

        // swtpm 0.7 never fsyncs its state; vtpm-host-sim always does. The
        // same durability on both sides: vtpm-host-sim under eatmydata.
        if has_eatmydata() {
            eprintln!("== socket, neither side fsyncs: vtpm-host-sim under eatmydata vs swtpm");
            let mut launch = o.launch.clone();
            launch.host_sim_prefix = vec!["eatmydata".into()];
            let mut v = SocketTpm::start(Server::VtpmHostSim, &launch, &dir.join("vtpm-nosync"));
            let mut s = SocketTpm::start(Server::Swtpm, &o.launch, &dir.join("swtpm-nosync"));
            startup(&mut v);
            startup(&mut s);
            let rows = run_cases(&mut v, &mut s, &o.budget, &|n: &str| {
                COMMITTING.contains(&n) && filter(n)
            });
            v.stop();
            s.stop();
            md.push_str(&table(
                "Over the socket at the same durability (none): vtpm-host-sim with fsync disabled (eatmydata) vs swtpm 0.7.1 (which does not fsync)",
                &rows,
            ));
            sections.push(("socket-nofsync", rows));
        } else {
            md.push_str(
                "\n(eatmydata not installed: no same-durability socket comparison for NV_Write.)\n",
            );
        }
    }

    if modes.contains(&"pqc") {
        // No peer: libtpms 0.9 (and swtpm 0.7) has no PQC. vtpm alone, in
        // process and over the socket, median and spread without a ratio.
        eprintln!("== pqc: vtpm alone, in process (no peer: libtpms 0.9 has no PQC)");
        let mut v = VtpmEngine::new(None, pqc::config());
        startup(&mut v);
        let rows: Vec<pqc::PqcRow> = pqc::cases()
            .iter()
            .filter(|c| filter(c.name))
            .map(|c| pqc::run_one(c, &mut v, &o.budget))
            .collect();
        drop(v);
        md.push_str(&pqc::table(
            "Post-quantum commands in process: vtpm-core, in-memory NV, 8 KiB command/response buffers (for ML-DSA-87)",
            &rows,
        ));
        report.push((
            "pqc_engine",
            Json::Arr(rows.iter().map(pqc::PqcRow::to_json).collect()),
        ));
        eprintln!("== pqc: vtpm-host-sim over the socket (default 4 KiB buffers: no ML-DSA-87)");
        let dir = o.state_dir.join("pqc-socket");
        let mut v = SocketTpm::start(Server::VtpmHostSim, &o.launch, &dir);
        startup(&mut v);
        let rows: Vec<pqc::PqcRow> = pqc::cases()
            .iter()
            .filter(|c| filter(c.name) && pqc::fits_default_buffers(c.name))
            .map(|c| pqc::run_one(c, &mut v, &o.budget))
            .collect();
        v.stop();
        let _ = std::fs::remove_dir_all(&dir);
        md.push_str(&pqc::table(
            "Post-quantum commands over the socket: vtpm-host-sim (swtpm protocol, TCP loopback, fsync on commit; 4 KiB buffers, so ML-DSA-87 is in process only)",
            &rows,
        ));
        report.push((
            "pqc_socket",
            Json::Arr(rows.iter().map(pqc::PqcRow::to_json).collect()),
        ));
    }

    if modes.contains(&"scaling") {
        eprintln!("== scaling: NV in use");
        let dir = o.state_dir.join("scaling");
        let _ = std::fs::remove_dir_all(&dir);
        let j = scaling::nv_scaling(&dir, &o.budget, &mut md);
        report.push(("scaling_nv", j));
        eprintln!("== scaling: loaded objects and sessions");
        let j = scaling::load_scaling(&o.budget, &mut md);
        report.push(("scaling_load", j));
        eprintln!("== scaling: concurrent instances");
        let j = scaling::concurrency(&o.launch, &dir, &o.instances, &mut md);
        report.push(("scaling_concurrency", j));
        let _ = std::fs::remove_dir_all(&dir);
    }

    // Targets.
    let mut tj = Vec::new();
    let mut tmd = String::from(
        "\n### Targets\n\n| where | command | target ratio | measured | verdict |\n|---|---|---:|---:|---|\n",
    );
    let mut any = false;
    for (sec, name, target) in targets() {
        let Some(row) = sections
            .iter()
            .filter(|(s, _)| *s == sec)
            .flat_map(|(_, rows)| rows.iter())
            .find(|r| r.name == name)
        else {
            continue;
        };
        any = true;
        let r = row.ratio();
        let met = r <= target;
        tmd.push_str(&format!(
            "| {sec} | {name} | ≤ {target} | {r:.3} | {} |\n",
            if met { "met" } else { "**missed**" }
        ));
        tj.push(Json::obj(vec![
            ("section", Json::str(sec)),
            ("command", Json::str(name)),
            ("target", Json::num(target)),
            ("ratio", Json::num(r)),
            ("met", Json::str(if met { "met" } else { "missed" })),
        ]));
    }
    if any {
        md.push_str(&tmd);
    }
    let end_load = sh("cat /proc/loadavg");
    md.push_str(&format!("\nLoad average at end: {end_load}\n"));

    for (sec, rows) in &sections {
        report.push((
            match *sec {
                "engine" => "engine",
                "engine-fsync" => "engine_fsync",
                "socket-nofsync" => "socket_nofsync",
                _ => "socket",
            },
            Json::Arr(rows.iter().map(Row::to_json).collect()),
        ));
    }
    report.push(("targets", Json::Arr(tj)));
    report.push(("loadavg_end", Json::str(end_load)));
    println!("{md}");
    if let Some(p) = &o.json {
        std::fs::write(p, Json::obj(report).to_pretty()).expect("write JSON");
        eprintln!("JSON written to {}", p.display());
    }
    if let Some(p) = &o.markdown {
        std::fs::write(p, &md).expect("write markdown");
        eprintln!("markdown written to {}", p.display());
    }
}
