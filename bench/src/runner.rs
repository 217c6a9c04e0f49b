//! Runs a case on two backends side by side, interleaved iteration by
//! iteration (alternating which goes first) so that load from elsewhere on
//! the machine hits both sides alike.

use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::json::Json;
use crate::stats::{fmt_ns, fmt_summary, Summary};
use crate::workload::{clean, Case, Weight};

/// Iteration policy.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub iters: usize,
    pub keygen_iters: usize,
    /// Stop a case after this much wall time (both sides), once `min_iters` ran.
    pub per_case: Duration,
    pub min_iters: usize,
}

impl Budget {
    pub fn iters_for(&self, w: Weight) -> usize {
        match w {
            Weight::Normal => self.iters,
            Weight::Keygen => self.keygen_iters.min(self.iters),
        }
    }
}

/// One side of a comparison.
#[derive(Clone, Debug)]
pub struct Side {
    pub label: String,
    pub summary: Summary,
    pub commits_per_op: Option<f64>,
}

/// One row: the same case on two backends.
#[derive(Clone, Debug)]
pub struct Row {
    pub name: String,
    pub a: Side,
    pub b: Side,
}

impl Row {
    /// vtpm / peer, by medians.
    pub fn ratio(&self) -> f64 {
        self.a.summary.median / self.b.summary.median
    }

    pub fn to_json(&self) -> Json {
        let side = |s: &Side| {
            Json::obj(vec![
                ("backend", Json::str(&s.label)),
                ("n", Json::num(s.summary.n as f64)),
                ("median_ns", Json::num(s.summary.median)),
                ("p10_ns", Json::num(s.summary.p10)),
                ("p90_ns", Json::num(s.summary.p90)),
                ("mad_ns", Json::num(s.summary.mad)),
                ("min_ns", Json::num(s.summary.min)),
                (
                    "commits_per_op",
                    s.commits_per_op.map_or(Json::Null, Json::num),
                ),
            ])
        };
        Json::obj(vec![
            ("command", Json::str(&self.name)),
            ("vtpm", side(&self.a)),
            ("peer", side(&self.b)),
            ("ratio", Json::num(self.ratio())),
        ])
    }
}

/// Run `case` on `a` (vtpm) and `b` (the peer).
pub fn run_pair(case: &Case, a: &mut dyn Backend, b: &mut dyn Backend, budget: &Budget) -> Row {
    clean(a);
    clean(b);
    let mut step_a = (case.setup)(a);
    let mut step_b = (case.setup)(b);
    let iters = budget.iters_for(case.weight);
    let warmup = if case.weight == Weight::Keygen { 1 } else { 3 };
    for _ in 0..warmup {
        step_a(a);
        step_b(b);
    }
    let (ca0, cb0) = (a.commits(), b.commits());
    let mut sa = Vec::with_capacity(iters);
    let mut sb = Vec::with_capacity(iters);
    let start = Instant::now();
    for i in 0..iters {
        if i % 2 == 0 {
            sa.push(step_a(a));
            sb.push(step_b(b));
        } else {
            sb.push(step_b(b));
            sa.push(step_a(a));
        }
        if i + 1 >= budget.min_iters && start.elapsed() > budget.per_case {
            break;
        }
    }
    let per_op = |c0: Option<u64>, c1: Option<u64>, n: usize| match (c0, c1) {
        (Some(x), Some(y)) if n > 0 => Some((y - x) as f64 / n as f64),
        _ => None,
    };
    let row = Row {
        name: case.name.to_string(),
        a: Side {
            label: a.name(),
            summary: Summary::of(&sa),
            commits_per_op: per_op(ca0, a.commits(), sa.len()),
        },
        b: Side {
            label: b.name(),
            summary: Summary::of(&sb),
            commits_per_op: per_op(cb0, b.commits(), sb.len()),
        },
    };
    drop(step_a);
    drop(step_b);
    clean(a);
    clean(b);
    eprintln!(
        "  {:<44} {:>10} {:>10}  ratio {:.3}  (n={})",
        row.name,
        fmt_ns(row.a.summary.median),
        fmt_ns(row.b.summary.median),
        row.ratio(),
        row.a.summary.n
    );
    row
}

/// A markdown table of rows.
pub fn table(title: &str, rows: &[Row]) -> String {
    let mut s = String::new();
    let (la, lb) = rows
        .first()
        .map(|r| (r.a.label.clone(), r.b.label.clone()))
        .unwrap_or_default();
    s.push_str(&format!("\n### {title}\n\n"));
    s.push_str(&format!(
        "| command | {la} median (p10–p90) | {lb} median (p10–p90) | ratio {la}/{lb} | n | commits/op {la} / {lb} |\n"
    ));
    s.push_str("|---|---:|---:|---:|---:|---:|\n");
    for r in rows {
        let c = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.2}"));
        s.push_str(&format!(
            "| {} | {} | {} | **{:.3}** | {} | {} / {} |\n",
            r.name,
            fmt_summary(&r.a.summary),
            fmt_summary(&r.b.summary),
            r.ratio(),
            r.a.summary.n,
            c(r.a.commits_per_op),
            c(r.b.commits_per_op),
        ));
    }
    s
}
