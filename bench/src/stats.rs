//! Sample statistics: median, p10/p90, median absolute deviation.

use std::time::Duration;

/// Summary of one series of timings (nanoseconds).
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub n: usize,
    pub median: f64,
    pub p10: f64,
    pub p90: f64,
    pub mad: f64,
    pub min: f64,
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    // Linear interpolation between closest ranks.
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    sorted[lo] * (1.0 - frac) + sorted[hi] * frac
}

impl Summary {
    pub fn of(samples: &[Duration]) -> Summary {
        let mut v: Vec<f64> = samples.iter().map(|d| d.as_nanos() as f64).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        let median = percentile(&v, 0.5);
        let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
        dev.sort_by(|a, b| a.total_cmp(b));
        Summary {
            n: v.len(),
            median,
            p10: percentile(&v, 0.1),
            p90: percentile(&v, 0.9),
            mad: percentile(&dev, 0.5),
            min: v.first().copied().unwrap_or(f64::NAN),
        }
    }
}

/// A duration in ns, human-readable with 3 significant digits.
pub fn fmt_ns(ns: f64) -> String {
    if !ns.is_finite() {
        return "-".into();
    }
    let (v, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

/// "median (p10–p90)".
pub fn fmt_summary(s: &Summary) -> String {
    format!("{} ({}–{})", fmt_ns(s.median), fmt_ns(s.p10), fmt_ns(s.p90))
}
