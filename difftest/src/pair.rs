//! The two engines side by side: every command goes to both, response
//! codes are compared, then whatever the test says is deterministic.
//! Differences are classified against [`crate::allowed::ALLOWED`]; a
//! difference no entry explains fails the test in [`Pair::finish`].

use std::collections::HashMap;
use std::fmt;

use crate::allowed::{explain, Allowed};
use crate::libtpms::Libtpms;
use crate::vtpm::Vtpm;
use crate::wire::{hex, response_has_handle, Cmd, Reader, Rsp};
use crate::Backend;

/// The same command's response from each side.
#[derive(Clone, Debug)]
pub struct Both {
    /// vtpm's response.
    pub a: Rsp,
    /// libtpms's response.
    pub b: Rsp,
}

impl Both {
    /// Both succeeded.
    pub fn ok(&self) -> bool {
        self.a.rc == 0 && self.b.rc == 0
    }
}

/// What differed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Response codes.
    Rc {
        /// vtpm's.
        vtpm: u32,
        /// libtpms's.
        reference: u32,
    },
    /// A deterministic output.
    Bytes {
        /// vtpm's.
        vtpm: Vec<u8>,
        /// libtpms's.
        reference: Vec<u8>,
    },
    /// A response that is not well formed (size field, error shape...).
    Malformed {
        /// Which side.
        side: &'static str,
        /// What is wrong.
        problem: String,
    },
}

/// One difference between the engines.
#[derive(Clone, Debug)]
pub struct Diff {
    /// The test (or trace) that found it.
    pub test: String,
    /// What was compared (the label the test gave).
    pub what: String,
    /// Command code of the command concerned.
    pub cc: u32,
    /// What differed.
    pub detail: Detail,
    /// The documented entry that explains it, if any.
    pub explained: Option<&'static Allowed>,
}

impl fmt::Display for Diff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {} (CC {:#x}): ", self.test, self.what, self.cc)?;
        match &self.detail {
            Detail::Rc { vtpm, reference } => {
                write!(f, "rc vtpm {vtpm:#x} libtpms {reference:#x}")?
            }
            Detail::Bytes { vtpm, reference } => {
                let (a, b) = show_pair(vtpm, reference);
                write!(f, "outputs differ\n    vtpm    {a}\n    libtpms {b}")?
            }
            Detail::Malformed { side, problem } => write!(f, "{side} malformed: {problem}")?,
        }
        match self.explained {
            Some(a) => write!(f, "\n    => explained: {} ({:?})", a.id, a.kind),
            None => write!(f, "\n    => UNEXPLAINED"),
        }
    }
}

/// Text when the bytes are printable (labels of shapes), hex otherwise.
fn show(b: &[u8]) -> String {
    if !b.is_empty() && b.iter().all(|c| (0x20..0x7f).contains(c)) {
        format!("\"{}\"", String::from_utf8_lossy(b))
    } else {
        hex(b)
    }
}

/// Long outputs: where they first differ and 48 octets from there.
fn show_pair(a: &[u8], b: &[u8]) -> (String, String) {
    if a.len() <= 64 && b.len() <= 64 {
        return (show(a), show(b));
    }
    let at = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let window = |v: &[u8]| {
        let end = (at + 48).min(v.len());
        format!(
            "({} octets) ...[{at}..] {}{}",
            v.len(),
            hex(&v[at.min(v.len())..end]),
            if end < v.len() { "..." } else { "" }
        )
    };
    (window(a), window(b))
}

/// Counts of one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Commands sent to both engines.
    pub commands: usize,
    /// Comparisons made (response codes and outputs).
    pub comparisons: usize,
}

/// vtpm and libtpms, driven in lockstep.
pub struct Pair {
    /// The engine under test.
    pub vtpm: Vtpm,
    /// The reference.
    pub reference: Libtpms,
    test: String,
    /// vtpm handle -> libtpms handle, learned from responses.
    handles: HashMap<u32, u32>,
    /// Counts.
    pub stats: Stats,
    /// Differences found so far.
    pub diffs: Vec<Diff>,
    /// The command being compared (for labels of field comparisons).
    last_cc: u32,
    /// Commands libtpms answered TPM_RC_RETRY and that were resent.
    pub retries: usize,
    /// The pcrUpdateCounter each side reported last.
    pcr_counters: Option<(u32, u32)>,
    /// Digest size of each side's context integrity hash.
    context_hmac: Option<(usize, usize)>,
}

impl Pair {
    /// Both engines manufactured and started (`TPM2_Startup(CLEAR)`,
    /// compared).
    pub fn new(test: &str) -> Pair {
        let reference = Libtpms::new();
        let mut p = Pair {
            vtpm: Vtpm::new(0x5eed_0000 ^ test.len() as u64),
            reference,
            test: test.to_string(),
            handles: HashMap::new(),
            stats: Stats::default(),
            diffs: Vec::new(),
            last_cc: 0,
            pcr_counters: None,
            context_hmac: None,
            retries: 0,
        };
        p.ok("Startup(CLEAR)", &crate::tpm::startup(0));
        // libtpms tests an algorithm the first time it is used and then
        // answers TPM_RC_RETRY (Part 1, 12.x: self-test on first use);
        // a full self-test up front keeps that out of the comparisons.
        p.ok("SelfTest(full)", &crate::tpm::self_test(true));
        p
    }

    /// The test name.
    pub fn test(&self) -> &str {
        &self.test
    }

    /// The reference's number for vtpm's handle `h`.
    pub fn map(&self, h: u32) -> u32 {
        self.handles.get(&h).copied().unwrap_or(h)
    }

    /// Learn that vtpm's handle `a` is libtpms's `b`.
    pub fn learn(&mut self, a: u32, b: u32) {
        self.handles.insert(a, b);
    }

    fn record(&mut self, what: &str, cc: u32, detail: Detail) {
        let mut d = Diff {
            test: self.test.clone(),
            what: what.to_string(),
            cc,
            detail,
            explained: None,
        };
        d.explained = explain(&d);
        self.diffs.push(d);
    }

    /// Send `a` to vtpm and `b` to libtpms, compare the response codes.
    pub fn exec2(&mut self, what: &str, a: &Cmd, b: &Cmd) -> Both {
        self.exec2_shaped(what, a, b, response_has_handle(a.code))
    }

    /// [`Pair::exec2`] for a command whose response carries a handle
    /// when `hh`.
    pub fn exec2_shaped(&mut self, what: &str, a: &Cmd, b: &Cmd, hh: bool) -> Both {
        let ra = self.vtpm.execute(&a.build());
        let rb = self.reference_execute(&b.build());
        let both = Both {
            a: Rsp::parse(ra, hh),
            b: Rsp::parse(rb, hh),
        };
        self.stats.commands += 1;
        self.stats.comparisons += 1;
        self.last_cc = a.code;
        if both.a.rc != both.b.rc {
            self.record(
                what,
                a.code,
                Detail::Rc {
                    vtpm: both.a.rc,
                    reference: both.b.rc,
                },
            );
        }
        for (side, r) in [("vtpm", &both.a), ("libtpms", &both.b)] {
            if let Some(problem) = &r.malformed {
                self.record(
                    what,
                    a.code,
                    Detail::Malformed {
                        side,
                        problem: problem.clone(),
                    },
                );
            }
        }
        if let (Some(x), Some(y)) = (both.a.handle, both.b.handle) {
            self.learn(x, y);
        }
        both
    }

    /// libtpms, resending a command answered `TPM_RC_RETRY` (libtpms
    /// answers that once, the first time it uses some algorithms, e.g.
    /// HMAC-SHA1, even after a full self-test; Part 2, 6.6.3: "the TPM
    /// was not able to start the command", the caller resends it, as
    /// tpm2-tss does).
    fn reference_execute(&mut self, cmd: &[u8]) -> Vec<u8> {
        let mut r = self.reference.execute(cmd);
        for _ in 0..3 {
            if r.get(6..10) != Some(&[0, 0, 0x09, 0x22][..]) {
                break;
            }
            self.retries += 1;
            r = self.reference.execute(cmd);
        }
        r
    }

    /// Send `cmd` to both (handles mapped for libtpms); compare the
    /// response codes only.
    pub fn exec(&mut self, what: &str, cmd: &Cmd) -> Both {
        let b = {
            let map = |h| self.map(h);
            Cmd::raw(&cmd.build_mapped(&map))
        };
        let mut b = b;
        b.code = cmd.code;
        self.exec2(what, cmd, &b)
    }

    /// Send `cmd` to vtpm only, uncompared (clean-up after a command only
    /// vtpm accepted, so later comparisons start from the same state).
    pub fn vtpm_only(&mut self, cmd: &Cmd) -> Rsp {
        let r = self.vtpm.execute(&cmd.build());
        Rsp::parse(r, response_has_handle(cmd.code))
    }

    /// Send `cmd` to libtpms only, uncompared (clean-up after a command
    /// only libtpms accepted).
    pub fn reference_only(&mut self, cmd: &Cmd) -> Rsp {
        let r = self.reference_execute(&cmd.build_mapped(&|h| h));
        Rsp::parse(r, response_has_handle(cmd.code))
    }

    /// [`Pair::exec`], then the whole parameter area when both succeed.
    pub fn same(&mut self, what: &str, cmd: &Cmd) -> Both {
        let both = self.exec(what, cmd);
        if both.ok() {
            self.eq(
                &format!("{what}: response parameters"),
                &both.a.params,
                &both.b.params,
            );
        }
        both
    }

    /// [`Pair::same`], and the command must succeed on libtpms (the
    /// reference proves the test sends a valid request).
    pub fn ok(&mut self, what: &str, cmd: &Cmd) -> Both {
        let both = self.same(what, cmd);
        self.want_reference(what, &both, true);
        both
    }

    /// [`Pair::exec`] (outputs not deterministic), and the command must
    /// succeed on libtpms.
    pub fn ok_rc(&mut self, what: &str, cmd: &Cmd) -> Both {
        let both = self.exec(what, cmd);
        self.want_reference(what, &both, true);
        both
    }

    /// [`Pair::exec`] of an invalid request: it must fail on libtpms.
    pub fn err(&mut self, what: &str, cmd: &Cmd) -> Both {
        let both = self.exec(what, cmd);
        self.want_reference(what, &both, false);
        both
    }

    fn want_reference(&self, what: &str, both: &Both, success: bool) {
        if (both.b.rc == 0) != success {
            panic!(
                "[{}] harness error: {what} was meant to {} on libtpms, got rc {:#x} \
                 (vtpm rc {:#x})",
                self.test,
                if success { "succeed" } else { "fail" },
                both.b.rc,
                both.a.rc
            );
        }
    }

    /// Compare one deterministic output.
    pub fn eq(&mut self, what: &str, vtpm: &[u8], reference: &[u8]) {
        self.stats.comparisons += 1;
        if vtpm != reference {
            let cc = self.last_cc;
            self.record(
                what,
                cc,
                Detail::Bytes {
                    vtpm: vtpm.to_vec(),
                    reference: reference.to_vec(),
                },
            );
        }
    }

    /// `TPM2_PCR_Read(selection)` on both: the selection and values are
    /// compared, and whether pcrUpdateCounter moved since the last read
    /// (not by how much: libtpms counts every bank extended and starts
    /// from the number of PCRs reset by Startup, vtpm counts commands;
    /// Part 1, 14.9 only asks that the counter change when a PCR
    /// changes).
    pub fn pcr_read(&mut self, what: &str, selection: &[u8]) -> Both {
        let both = self.ok_rc(what, &Cmd::new(crate::tpm::cc::PCR_READ).bytes(selection));
        if both.ok() {
            let (mut a, mut b) = (both.a.reader(), both.b.reader());
            let (ca, cb) = (a.u32(), b.u32());
            if let Some((pa, pb)) = self.pcr_counters {
                let moved = |now: u32, before: u32| {
                    if now == before {
                        "unchanged"
                    } else {
                        "changed"
                    }
                };
                self.eq(
                    &format!("{what}: pcrUpdateCounter"),
                    moved(ca, pa).as_bytes(),
                    moved(cb, pb).as_bytes(),
                );
            }
            self.pcr_counters = Some((ca, cb));
            self.eq(&format!("{what}: selection and values"), a.rest(), b.rest());
        }
        both
    }

    /// Digest sizes of the context integrity hash of each side
    /// (`TPM_PT_CONTEXT_HASH`), the HMAC of its tickets (Part 2, 10.6).
    pub fn context_hmac_sizes(&mut self) -> (usize, usize) {
        if let Some(s) = self.context_hmac {
            return s;
        }
        let cmd = crate::tpm::get_capability(6, 0x11A, 1);
        let ra = Rsp::parse(self.vtpm.execute(&cmd.build()), false);
        let rb = Rsp::parse(self.reference.execute(&cmd.build()), false);
        let size = |r: &Rsp| {
            let mut x = r.reader();
            x.take(9);
            let (_, v) = (x.u32(), x.u32());
            crate::tpm::digest_len(v as u16)
        };
        let s = (size(&ra), size(&rb));
        self.context_hmac = Some(s);
        s
    }

    /// Compare a ticket (`TPMT_TK_*`): tag and hierarchy; the digest
    /// itself for a NULL Ticket (hierarchy `TPM_RH_NULL` and an empty
    /// digest), otherwise that it is an HMAC with each side's context
    /// integrity hash (the proofs differ, Part 2, 10.6; creation tickets
    /// of the NULL hierarchy are HMACs with the null proof).
    pub fn ticket(&mut self, what: &str, a: &mut Reader<'_>, b: &mut Reader<'_>) {
        let (ta, tb) = (a.u16(), b.u16());
        self.eq_u(&format!("{what}: ticket tag"), ta.into(), tb.into());
        let (ha, hb) = (a.u32(), b.u32());
        self.eq_u(&format!("{what}: ticket hierarchy"), ha.into(), hb.into());
        let (da, db) = (a.b2(), b.b2());
        if ha == crate::tpm::rh::NULL
            && hb == crate::tpm::rh::NULL
            && (da.is_empty() || db.is_empty())
        {
            self.eq(&format!("{what}: NULL ticket digest"), da, db);
        } else {
            let (sa, sb) = self.context_hmac_sizes();
            let shape = |d: &[u8], s: usize| {
                if d.len() == s {
                    "an HMAC of the context hash size".to_string()
                } else {
                    format!("{} octets, context hash size {s}", d.len())
                }
            };
            self.eq(
                &format!("{what}: ticket HMAC size"),
                shape(da, sa).as_bytes(),
                shape(db, sb).as_bytes(),
            );
        }
    }

    /// Compare one deterministic number.
    pub fn eq_u(&mut self, what: &str, vtpm: u64, reference: u64) {
        self.eq(what, &vtpm.to_be_bytes(), &reference.to_be_bytes());
    }

    /// _TPM_Init on both (state kept, loaded objects and sessions gone);
    /// the caller sends Startup.
    pub fn restart(&mut self) {
        self.vtpm.restart();
        self.reference.restart();
        self.handles.clear();
        self.pcr_counters = None;
    }

    /// The locality of the following commands, on both.
    pub fn set_locality(&mut self, locality: u8) {
        self.vtpm.set_locality(locality);
        self.reference.set_locality(locality);
    }

    /// Print the differences and counts; fail on any unexplained one.
    pub fn finish(self) -> Summary {
        let s = Summary::of(&self.test, self.stats, &self.diffs);
        s.print();
        s.assert_explained();
        s
    }
}

/// The outcome of a test.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Test name.
    pub test: String,
    /// Counts.
    pub stats: Stats,
    /// Every difference.
    pub diffs: Vec<Diff>,
}

impl Summary {
    /// Summarize.
    pub fn of(test: &str, stats: Stats, diffs: &[Diff]) -> Summary {
        Summary {
            test: test.to_string(),
            stats,
            diffs: diffs.to_vec(),
        }
    }

    /// Differences no entry explains.
    pub fn unexplained(&self) -> usize {
        self.diffs.iter().filter(|d| d.explained.is_none()).count()
    }

    /// Print to stdout (shown with `--nocapture` or on failure).
    pub fn print(&self) {
        for d in &self.diffs {
            println!("{d}");
        }
        let mut ids: Vec<&str> = self
            .diffs
            .iter()
            .filter_map(|d| d.explained.map(|a| a.id))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        println!(
            "difftest {}: {} commands, {} comparisons, {} differences ({} explained [{}], {} unexplained)",
            self.test,
            self.stats.commands,
            self.stats.comparisons,
            self.diffs.len(),
            self.diffs.len() - self.unexplained(),
            ids.join(", "),
            self.unexplained()
        );
    }

    /// Panic when a difference is unexplained.
    pub fn assert_explained(&self) {
        let n = self.unexplained();
        if n > 0 {
            let list: Vec<String> = self
                .diffs
                .iter()
                .filter(|d| d.explained.is_none())
                .map(|d| format!("  {} (CC {:#x})", d.what, d.cc))
                .collect();
            panic!(
                "{}: {n} unexplained differences (details above):\n{}",
                self.test,
                list.join("\n")
            );
        }
    }
}
