//! Post-quantum commands (TPM 2.0 Library v185): ML-KEM key creation,
//! Encapsulate and Decapsulate (Part 3, 14.10-14.11), ML-DSA key creation,
//! SignDigest / VerifyDigestSignature with external mu and signing and
//! verification sequences (Part 3, 17.5-17.6, 20.3-20.4, 20.6-20.7).
//!
//! There is no peer: libtpms 0.9 (and so swtpm 0.7) has no PQC. The
//! numbers are vtpm's own latency, median and spread, with no ratio. The
//! commands are built as in vtpm-core/tests/pqc.rs; every response code is
//! checked and the outputs are checked for size (and the shared secret of a
//! decapsulation for equality with the encapsulated one).

use std::time::Duration;

use vtpm_core::Config;

use crate::backend::Backend;
use crate::json::Json;
use crate::runner::Budget;
use crate::stats::{fmt_ns, fmt_summary, Summary};
use crate::tpm::{self, sized, Cmd, Rsp, ALG_SHA256};
use crate::workload::{call, clean, create, ecc_parent, timed, Case, Step, Weight};

const CC_SEQUENCE_UPDATE: u32 = 0x15C;
const CC_VERIFY_SEQUENCE_COMPLETE: u32 = 0x1A3;
const CC_SIGN_SEQUENCE_COMPLETE: u32 = 0x1A4;
const CC_VERIFY_DIGEST_SIGNATURE: u32 = 0x1A5;
const CC_SIGN_DIGEST: u32 = 0x1A6;
const CC_ENCAPSULATE: u32 = 0x1A7;
const CC_DECAPSULATE: u32 = 0x1A8;
const CC_VERIFY_SEQUENCE_START: u32 = 0x1A9;
const CC_SIGN_SEQUENCE_START: u32 = 0x1AA;

const ALG_MLKEM: u16 = 0x00A0;
const ALG_MLDSA: u16 = 0x00A1;

const ST_MESSAGE_VERIFIED: u16 = 0x8026;
const ST_DIGEST_VERIFIED: u16 = 0x8027;

// Object attributes (Part 2, TPMA_OBJECT).
const FIXED_TPM: u32 = 1 << 1;
const FIXED_PARENT: u32 = 1 << 4;
const SDO: u32 = 1 << 5;
const USER_WITH_AUTH: u32 = 1 << 6;
const DECRYPT: u32 = 1 << 17;
const SIGN: u32 = 1 << 18;
const BASIC: u32 = FIXED_TPM | FIXED_PARENT | SDO | USER_WITH_AUTH;

/// A null `TPMT_TK_HASHCHECK` (TPM_ST_HASHCHECK, TPM_RH_NULL, empty digest).
const NULL_HASHCHECK: [u8; 8] = [0x80, 0x24, 0x40, 0, 0, 7, 0, 0];

/// The command and response buffers of the in-process TPM: large enough for
/// ML-DSA-87 (a 4627-octet signature), which the default 4 KiB cannot
/// return (TPM_RC_SIZE).
pub fn config() -> Config {
    Config {
        max_command_size: 8192,
        max_response_size: 8192,
        ..Config::default()
    }
}

/// `TPMT_PUBLIC` of an unrestricted ML-KEM decryption key of parameter set
/// `set` (1: 512, 2: 768, 3: 1024) with `policy` as authPolicy (a new
/// policy is a new template: no primary-cache hit).
fn mlkem_template(set: u16, policy: &[u8]) -> Vec<u8> {
    let mut v = ALG_MLKEM.to_be_bytes().to_vec();
    v.extend_from_slice(&ALG_SHA256.to_be_bytes());
    v.extend_from_slice(&(BASIC | DECRYPT).to_be_bytes());
    v.extend_from_slice(&sized(policy));
    v.extend_from_slice(&[0x00, 0x10]); // symmetric NULL
    v.extend_from_slice(&set.to_be_bytes());
    v.extend_from_slice(&[0, 0]); // unique
    v
}

/// `TPMT_PUBLIC` of an unrestricted ML-DSA signing key of parameter set
/// `set` (1: 44, 2: 65, 3: 87) that allows external mu (SignDigest).
fn mldsa_template(set: u16, policy: &[u8]) -> Vec<u8> {
    let mut v = ALG_MLDSA.to_be_bytes().to_vec();
    v.extend_from_slice(&ALG_SHA256.to_be_bytes());
    v.extend_from_slice(&(BASIC | SIGN).to_be_bytes());
    v.extend_from_slice(&sized(policy));
    v.extend_from_slice(&set.to_be_bytes());
    v.push(1); // allowExternalMu
    v.extend_from_slice(&[0, 0]); // unique
    v
}

/// Sizes of FIPS 203 ciphertexts and FIPS 204 signatures.
fn kem_ct_size(set: u16) -> usize {
    match set {
        1 => 768,
        2 => 1088,
        _ => 1568,
    }
}

fn dsa_sig_size(set: u16) -> usize {
    match set {
        1 => 2420,
        2 => 3309,
        _ => 4627,
    }
}

/// A 32-octet authPolicy that differs for every `i`.
fn policy_of(i: u64) -> Vec<u8> {
    let mut v = vec![0x7Eu8; 32];
    v[..8].copy_from_slice(&i.to_be_bytes());
    v
}

/// CreatePrimary (owner) of `template`; returns the handle.
fn primary(b: &mut dyn Backend, template: &[u8]) -> u32 {
    let rsp = call(b, &tpm::create_primary_cmd(template), "CreatePrimary");
    Rsp::parse(&rsp, true, "CreatePrimary")
        .handle
        .expect("CreatePrimary returns a handle")
}

/// Time `cmd`, then flush the handle it returned (untimed).
fn timed_then_flush(b: &mut dyn Backend, cmd: &[u8], what: &str) -> Duration {
    let (d, rsp) = timed(b, cmd, what);
    let h = Rsp::parse(&rsp, true, what)
        .handle
        .expect("a handle in the response");
    call(b, &tpm::flush_cmd(h), "FlushContext");
    d
}

/// The signature octets of a `TPMT_SIGNATURE` of pure ML-DSA.
fn mldsa_sig_len(tpmt: &[u8]) -> usize {
    assert_eq!(tpmt[..2], ALG_MLDSA.to_be_bytes(), "sigAlg ML-DSA");
    usize::from(u16::from_be_bytes([tpmt[2], tpmt[3]]))
}

fn sign_digest_cmd(key: u32, mu: &[u8]) -> Vec<u8> {
    Cmd::new(CC_SIGN_DIGEST)
        .handle(key)
        .pw(b"")
        .b2(b"") // context: none with external mu
        .b2(mu)
        .bytes(&NULL_HASHCHECK)
        .build()
}

/// SignSequenceStart (sequence auth "sq", empty context).
fn sign_start_cmd(key: u32) -> Vec<u8> {
    Cmd::new(CC_SIGN_SEQUENCE_START)
        .handle(key)
        .b2(b"sq")
        .b2(b"")
        .build()
}

fn sign_complete_cmd(seq: u32, key: u32, msg: &[u8]) -> Vec<u8> {
    Cmd::new(CC_SIGN_SEQUENCE_COMPLETE)
        .handle(seq)
        .handle(key)
        .pw(b"sq")
        .pw(b"")
        .b2(msg)
        .build()
}

/// VerifySequenceStart (auth "sq", no hint, empty context).
fn verify_start_cmd(key: u32) -> Vec<u8> {
    Cmd::new(CC_VERIFY_SEQUENCE_START)
        .handle(key)
        .b2(b"sq")
        .b2(b"")
        .b2(b"")
        .build()
}

/// Message the sequence cases sign and verify.
const MSG: [u8; 32] = [0x61; 32];
/// An external mu (any 64 octets: the TPM signs mu as given).
const MU: [u8; 64] = [0x5C; 64];

/// Sign `MSG` in a sequence (Start + Complete), timed; returns the
/// `TPMT_SIGNATURE`.
fn sign_sequence(b: &mut dyn Backend, key: u32) -> (Duration, Vec<u8>) {
    let (d1, rsp) = timed(b, &sign_start_cmd(key), "SignSequenceStart");
    let seq = Rsp::parse(&rsp, true, "SignSequenceStart")
        .handle
        .expect("sequence handle");
    let (d2, rsp) = timed(
        b,
        &sign_complete_cmd(seq, key, &MSG),
        "SignSequenceComplete",
    );
    (
        d1 + d2,
        Rsp::parse(&rsp, false, "SignSequenceComplete").params,
    )
}

macro_rules! kem_cases {
    ($set:literal, $name:literal) => {
        [
            Case {
                name: concat!("Encapsulate ", $name),
                weight: Weight::Normal,
                setup: |b| {
                    let key = primary(b, &mlkem_template($set, &[]));
                    let cmd = Cmd::new(CC_ENCAPSULATE).handle(key).build();
                    Box::new(move |b| {
                        let (d, rsp) = timed(b, &cmd, "Encapsulate");
                        let mut r = Rsp::parse(&rsp, false, "Encapsulate");
                        assert_eq!(r.b2().len(), 32, "shared secret");
                        assert_eq!(r.b2().len(), kem_ct_size($set), "ciphertext");
                        d
                    })
                },
            },
            Case {
                name: concat!("Decapsulate ", $name),
                weight: Weight::Normal,
                setup: |b| {
                    let key = primary(b, &mlkem_template($set, &[]));
                    let rsp = call(
                        b,
                        &Cmd::new(CC_ENCAPSULATE).handle(key).build(),
                        "Encapsulate",
                    );
                    let mut r = Rsp::parse(&rsp, false, "Encapsulate");
                    let ss = r.b2();
                    let ct = r.b2();
                    let cmd = Cmd::new(CC_DECAPSULATE).handle(key).pw(b"").b2(&ct).build();
                    Box::new(move |b| {
                        let (d, rsp) = timed(b, &cmd, "Decapsulate");
                        assert_eq!(Rsp::parse(&rsp, false, "Decapsulate").b2(), ss);
                        d
                    })
                },
            },
        ]
    };
}

macro_rules! dsa_cases {
    ($set:literal, $name:literal) => {
        [
            Case {
                name: concat!("SignDigest ", $name, " (external mu)"),
                weight: Weight::Normal,
                setup: |b| {
                    let key = primary(b, &mldsa_template($set, &[]));
                    let cmd = sign_digest_cmd(key, &MU);
                    Box::new(move |b| {
                        let (d, rsp) = timed(b, &cmd, "SignDigest");
                        let sig = Rsp::parse(&rsp, false, "SignDigest").params;
                        assert_eq!(mldsa_sig_len(&sig), dsa_sig_size($set));
                        d
                    })
                },
            },
            Case {
                name: concat!("VerifyDigestSignature ", $name, " (external mu)"),
                weight: Weight::Normal,
                setup: |b| {
                    let key = primary(b, &mldsa_template($set, &[]));
                    let rsp = call(b, &sign_digest_cmd(key, &MU), "SignDigest");
                    let sig = Rsp::parse(&rsp, false, "SignDigest").params;
                    let cmd = Cmd::new(CC_VERIFY_DIGEST_SIGNATURE)
                        .handle(key)
                        .b2(b"")
                        .b2(&MU)
                        .bytes(&sig)
                        .build();
                    Box::new(move |b| {
                        let (d, rsp) = timed(b, &cmd, "VerifyDigestSignature");
                        let ticket = Rsp::parse(&rsp, false, "VerifyDigestSignature").params;
                        assert_eq!(ticket[..2], ST_DIGEST_VERIFIED.to_be_bytes());
                        d
                    })
                },
            },
            Case {
                name: concat!("SignSequence ", $name, " (Start+Complete, 32 B)"),
                weight: Weight::Normal,
                setup: |b| {
                    let key = primary(b, &mldsa_template($set, &[]));
                    Box::new(move |b| {
                        let (d, sig) = sign_sequence(b, key);
                        assert_eq!(mldsa_sig_len(&sig), dsa_sig_size($set));
                        d
                    })
                },
            },
            Case {
                name: concat!("VerifySequence ", $name, " (Start+Update+Complete, 32 B)"),
                weight: Weight::Normal,
                setup: |b| {
                    let key = primary(b, &mldsa_template($set, &[]));
                    let (_, sig) = sign_sequence(b, key);
                    Box::new(move |b| {
                        let (d1, rsp) = timed(b, &verify_start_cmd(key), "VerifySequenceStart");
                        let seq = Rsp::parse(&rsp, true, "VerifySequenceStart")
                            .handle
                            .expect("sequence handle");
                        let update = Cmd::new(CC_SEQUENCE_UPDATE)
                            .handle(seq)
                            .pw(b"sq")
                            .b2(&MSG)
                            .build();
                        let (d2, _) = timed(b, &update, "SequenceUpdate");
                        let complete = Cmd::new(CC_VERIFY_SEQUENCE_COMPLETE)
                            .handle(seq)
                            .handle(key)
                            .pw(b"sq")
                            .bytes(&sig)
                            .build();
                        let (d3, rsp) = timed(b, &complete, "VerifySequenceComplete");
                        let ticket = Rsp::parse(&rsp, false, "VerifySequenceComplete").params;
                        assert_eq!(ticket[..2], ST_MESSAGE_VERIFIED.to_be_bytes());
                        d1 + d2 + d3
                    })
                },
            },
        ]
    };
}

/// The PQC cases, in report order.
pub fn cases() -> Vec<Case> {
    let mut v = vec![
        Case {
            name: "CreatePrimary ML-KEM-768 (new template)",
            weight: Weight::Normal,
            setup: |_| {
                let mut i = 0u64;
                Box::new(move |b| {
                    i += 1;
                    let cmd = tpm::create_primary_cmd(&mlkem_template(2, &policy_of(i)));
                    timed_then_flush(b, &cmd, "CreatePrimary ML-KEM-768")
                })
            },
        },
        Case {
            name: "CreatePrimary ML-DSA-65 (new template)",
            weight: Weight::Normal,
            setup: |_| {
                let mut i = 0u64;
                Box::new(move |b| {
                    i += 1;
                    let cmd = tpm::create_primary_cmd(&mldsa_template(2, &policy_of(i)));
                    timed_then_flush(b, &cmd, "CreatePrimary ML-DSA-65")
                })
            },
        },
        Case {
            name: "Create ML-KEM-768 (ECC P-256 parent)",
            weight: Weight::Normal,
            setup: |b| {
                let parent = ecc_parent(b);
                let cmd = tpm::create_cmd(parent, &mlkem_template(2, &[]), b"", b"");
                Box::new(move |b| timed(b, &cmd, "Create ML-KEM-768").0)
            },
        },
        Case {
            name: "Create ML-DSA-65 (ECC P-256 parent)",
            weight: Weight::Normal,
            setup: |b| {
                let parent = ecc_parent(b);
                let cmd = tpm::create_cmd(parent, &mldsa_template(2, &[]), b"", b"");
                Box::new(move |b| timed(b, &cmd, "Create ML-DSA-65").0)
            },
        },
        Case {
            name: "Load ML-DSA-65 (ECC P-256 parent)",
            weight: Weight::Normal,
            setup: |b| {
                let parent = ecc_parent(b);
                let (private, public) = create(b, parent, &mldsa_template(2, &[]), b"");
                let cmd = tpm::load_cmd(parent, &private, &public);
                Box::new(move |b| timed_then_flush(b, &cmd, "Load ML-DSA-65"))
            },
        },
    ];
    v.extend(kem_cases!(1, "ML-KEM-512"));
    v.extend(kem_cases!(2, "ML-KEM-768"));
    v.extend(kem_cases!(3, "ML-KEM-1024"));
    v.extend(dsa_cases!(1, "ML-DSA-44"));
    v.extend(dsa_cases!(2, "ML-DSA-65"));
    v.extend(dsa_cases!(3, "ML-DSA-87"));
    v
}

/// Whether a case fits a TPM with the default 4 KiB buffers (ML-DSA-87
/// signatures do not).
pub fn fits_default_buffers(name: &str) -> bool {
    !name.contains("ML-DSA-87")
}

/// One PQC measurement on one backend.
pub struct PqcRow {
    pub name: String,
    pub backend: String,
    pub summary: Summary,
    /// State commits per iteration, where the backend can tell.
    pub commits_per_op: Option<f64>,
}

/// Run `case` alone on `b`: set up, warm up (3), then `budget` iterations.
pub fn run_one(case: &Case, b: &mut dyn Backend, budget: &Budget) -> PqcRow {
    clean(b);
    let mut step: Step = (case.setup)(b);
    for _ in 0..3 {
        step(b);
    }
    let iters = budget.iters_for(case.weight);
    let commits0 = b.commits();
    let mut samples = Vec::with_capacity(iters);
    let start = std::time::Instant::now();
    for i in 0..iters {
        samples.push(step(b));
        if i + 1 >= budget.min_iters && start.elapsed() > budget.per_case {
            break;
        }
    }
    let commits_per_op = match (commits0, b.commits()) {
        (Some(x), Some(y)) if !samples.is_empty() => Some((y - x) as f64 / samples.len() as f64),
        _ => None,
    };
    drop(step);
    clean(b);
    let row = PqcRow {
        name: case.name.to_string(),
        backend: b.name(),
        summary: Summary::of(&samples),
        commits_per_op,
    };
    eprintln!(
        "  {:<52} {:>10}  (p10 {} p90 {}, n={})",
        row.name,
        fmt_ns(row.summary.median),
        fmt_ns(row.summary.p10),
        fmt_ns(row.summary.p90),
        row.summary.n
    );
    row
}

/// A markdown table of PQC rows (no ratio: there is no peer).
pub fn table(title: &str, rows: &[PqcRow]) -> String {
    let mut s = format!(
        "\n### {title}\n\nNo peer: libtpms 0.9 has no PQC, so there is no ratio.\n\n\
         | command | median (p10–p90) | MAD | min | n | commits/op |\n|---|---:|---:|---:|---:|---:|\n"
    );
    for r in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.name,
            fmt_summary(&r.summary),
            fmt_ns(r.summary.mad),
            fmt_ns(r.summary.min),
            r.summary.n,
            r.commits_per_op
                .map_or("-".to_string(), |c| format!("{c:.2}")),
        ));
    }
    s
}

impl PqcRow {
    pub fn to_json(&self) -> Json {
        Json::obj(vec![
            ("command", Json::str(&self.name)),
            ("backend", Json::str(&self.backend)),
            ("n", Json::num(self.summary.n as f64)),
            ("median_ns", Json::num(self.summary.median)),
            ("p10_ns", Json::num(self.summary.p10)),
            ("p90_ns", Json::num(self.summary.p90)),
            ("mad_ns", Json::num(self.summary.mad)),
            ("min_ns", Json::num(self.summary.min)),
            (
                "commits_per_op",
                self.commits_per_op.map_or(Json::Null, Json::num),
            ),
        ])
    }
}
