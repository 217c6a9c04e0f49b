//! The benchmarked commands. Each case sets up what it needs on a backend
//! (untimed), then returns a step that builds its command(s), times only
//! the `exec` call(s), checks every response code (a benchmark of an error
//! path is worthless: any failure panics) and cleans up (untimed).
//! The same case code drives every backend, so both sides of a comparison
//! get the same command bytes (up to handles the TPMs choose).

use std::time::{Duration, Instant};

use crate::backend::Backend;
use crate::tpm::{self, cc, Cmd, HmacSession, Rsp, ALG_NULL, ALG_SHA256, RH_NULL, RH_OWNER};

/// One timed operation: returns the time spent inside the TPM call(s).
pub type Step = Box<dyn FnMut(&mut dyn Backend) -> Duration>;

/// How many iterations a case gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weight {
    /// Cheap or ordinary: the full iteration count.
    Normal,
    /// RSA key generation: few, slow, high-variance iterations.
    Keygen,
}

pub struct Case {
    pub name: &'static str,
    pub weight: Weight,
    pub setup: fn(&mut dyn Backend) -> Step,
}

/// `TPM_RC_RETRY`: libtpms answers it once per power cycle to the first
/// command that uses a DA-protected entity (while it records "DA used" in
/// NV, `USE_DA_USED`); a TSS resends, and so do we. Only the attempt that
/// succeeds is timed (this happens during setup or warm-up).
const RC_RETRY: u32 = 0x922;
const MAX_RETRIES: usize = 5;

/// Execute untimed and require success (resending on `TPM_RC_RETRY`).
pub fn call(b: &mut dyn Backend, cmd: &[u8], what: &str) -> Vec<u8> {
    let mut rsp = b.exec(cmd);
    for _ in 0..MAX_RETRIES {
        if tpm::rc_of(&rsp) != RC_RETRY {
            break;
        }
        rsp = b.exec(cmd);
    }
    let rc = tpm::rc_of(&rsp);
    if rc != 0 {
        panic!(
            "{} on {}: TPM response code {rc:#x} (a benchmark of an error path is worthless)",
            what,
            b.name()
        );
    }
    rsp
}

/// Execute timed; the response code is checked after the clock stops
/// (resent on `TPM_RC_RETRY`, timing the successful attempt).
pub fn timed(b: &mut dyn Backend, cmd: &[u8], what: &str) -> (Duration, Vec<u8>) {
    let mut tries = 0;
    let (d, rsp) = loop {
        let t = Instant::now();
        let rsp = b.exec(cmd);
        let d = t.elapsed();
        tries += 1;
        if tpm::rc_of(&rsp) != RC_RETRY || tries > MAX_RETRIES {
            break (d, rsp);
        }
    };
    let rc = tpm::rc_of(&rsp);
    if rc != 0 {
        panic!(
            "{} on {}: TPM response code {rc:#x} (a benchmark of an error path is worthless)",
            what,
            b.name()
        );
    }
    (d, rsp)
}

pub fn startup(b: &mut dyn Backend) {
    call(b, &tpm::startup_clear(), "Startup(CLEAR)");
}

/// Handles of a class (`first` = 0x80000000 transient, 0x02000000 loaded
/// sessions, 0x01000000 NV) via GetCapability(TPM_CAP_HANDLES).
pub fn handles(b: &mut dyn Backend, first: u32) -> Vec<u32> {
    let rsp = call(
        b,
        &Cmd::new(cc::GET_CAPABILITY)
            .u32(1)
            .u32(first)
            .u32(64)
            .build(),
        "GetCapability(HANDLES)",
    );
    let mut r = Rsp::parse(&rsp, false, "GetCapability");
    let _more = r.take(1);
    let _cap = r.u32();
    let n = r.u32();
    (0..n).map(|_| r.u32()).collect()
}

/// Flush every transient object and loaded session, and undefine every
/// NV index: between cases, so each starts from the same empty TPM
/// (libtpms has only 3 object and 3 session slots).
pub fn clean(b: &mut dyn Backend) {
    for h in handles(b, 0x8000_0000) {
        call(b, &tpm::flush_cmd(h), "FlushContext(object)");
    }
    for h in handles(b, 0x0200_0000) {
        call(b, &tpm::flush_cmd(h), "FlushContext(session)");
    }
    for h in handles(b, 0x0300_0000) {
        call(b, &tpm::flush_cmd(h), "FlushContext(saved session)");
    }
    for h in handles(b, 0x0100_0000) {
        call(
            b,
            &Cmd::new(cc::NV_UNDEFINE_SPACE)
                .handle(RH_OWNER)
                .handle(h)
                .pw(b"")
                .build(),
            "NV_UndefineSpace",
        );
    }
}

/// CreatePrimary under owner; returns the handle.
pub fn primary(b: &mut dyn Backend, template: &[u8]) -> u32 {
    let rsp = call(b, &tpm::create_primary_cmd(template), "CreatePrimary");
    Rsp::parse(&rsp, true, "CreatePrimary").handle.unwrap()
}

/// Create under `parent`; returns (private, public) with size prefixes.
pub fn create(
    b: &mut dyn Backend,
    parent: u32,
    template: &[u8],
    data: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let rsp = call(b, &tpm::create_cmd(parent, template, b"", data), "Create");
    let mut r = Rsp::parse(&rsp, false, "Create");
    let private = r.b2_raw();
    let public = r.b2_raw();
    (private, public)
}

pub fn load(b: &mut dyn Backend, parent: u32, private: &[u8], public: &[u8]) -> u32 {
    let rsp = call(b, &tpm::load_cmd(parent, private, public), "Load");
    Rsp::parse(&rsp, true, "Load").handle.unwrap()
}

/// ECC P-256 storage primary (cheap on every TPM): the parent of most cases.
pub fn ecc_parent(b: &mut dyn Backend) -> u32 {
    primary(b, &tpm::ecc_storage(&[]))
}

/// Create and load a key under a new ECC parent; returns its handle.
pub fn loaded_key(b: &mut dyn Backend, template: &[u8]) -> u32 {
    let parent = ecc_parent(b);
    let (private, public) = create(b, parent, template, b"");
    load(b, parent, &private, &public)
}

/// NV_DefineSpace of an ordinary index (authread|authwrite|no_da).
pub fn nv_define(b: &mut dyn Backend, index: u32, size: u16, auth: &[u8]) {
    let attrs: u32 = 0x0000_0004 | 0x0004_0000 | 0x0200_0000;
    let mut public = index.to_be_bytes().to_vec();
    public.extend_from_slice(&ALG_SHA256.to_be_bytes());
    public.extend_from_slice(&attrs.to_be_bytes());
    public.extend_from_slice(&[0, 0]);
    public.extend_from_slice(&size.to_be_bytes());
    call(
        b,
        &Cmd::new(cc::NV_DEFINE_SPACE)
            .handle(RH_OWNER)
            .pw(b"")
            .b2(auth)
            .b2(&public)
            .build(),
        "NV_DefineSpace",
    );
}

pub fn nv_write_cmd(index: u32, auth: &[u8], data: &[u8], offset: u16) -> Vec<u8> {
    Cmd::new(cc::NV_WRITE)
        .handle(index)
        .handle(index)
        .pw(auth)
        .b2(data)
        .u16(offset)
        .build()
}

/// Fill an index of `size` bytes, 1 KiB per NV_Write.
pub fn nv_fill(b: &mut dyn Backend, index: u32, size: usize, auth: &[u8]) {
    let mut off = 0;
    while off < size {
        let n = (size - off).min(1024);
        let data = vec![(off / 1024) as u8 ^ 0x5A; n];
        call(
            b,
            &nv_write_cmd(index, auth, &data, off as u16),
            "NV_Write(fill)",
        );
        off += n;
    }
}

pub fn nv_read_cmd(index: u32, auth: &[u8], size: u16) -> Vec<u8> {
    Cmd::new(cc::NV_READ)
        .handle(index)
        .handle(index)
        .pw(auth)
        .u16(size)
        .u16(0)
        .build()
}

/// RSA_Encrypt (OAEP SHA-256) with a loaded key: the ciphertext.
fn rsa_encrypt(b: &mut dyn Backend, key: u32, msg: &[u8], label: &[u8]) -> Vec<u8> {
    let rsp = call(
        b,
        &Cmd::new(cc::RSA_ENCRYPT)
            .handle(key)
            .b2(msg)
            .u16(0x0017)
            .u16(ALG_SHA256)
            .b2(label)
            .build(),
        "RSA_Encrypt",
    );
    Rsp::parse(&rsp, false, "RSA_Encrypt").b2()
}

fn counter_bytes(i: u64, n: usize) -> Vec<u8> {
    let mut v = vec![0xC3u8; n];
    v[..8].copy_from_slice(&i.to_be_bytes());
    v
}

/// One timed command, cleaned by flushing the handle it returns.
fn timed_then_flush(b: &mut dyn Backend, cmd: &[u8], what: &str) -> Duration {
    let (d, rsp) = timed(b, cmd, what);
    let h = Rsp::parse(&rsp, true, what).handle.unwrap();
    call(b, &tpm::flush_cmd(h), "FlushContext");
    d
}

const PCR_DEBUG: u32 = 16;
const NV_BENCH: u32 = 0x0150_0001;
const NV_HMAC: u32 = 0x0150_0002;

/// The command set of the issue, in report order.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "GetRandom (32 B)",
            weight: Weight::Normal,
            setup: |_| {
                let cmd = Cmd::new(cc::GET_RANDOM).u16(32).build();
                Box::new(move |b| {
                    let (d, rsp) = timed(b, &cmd, "GetRandom");
                    assert_eq!(Rsp::parse(&rsp, false, "GetRandom").b2().len(), 32);
                    d
                })
            },
        },
        Case {
            name: "PCR_Extend (SHA-256)",
            weight: Weight::Normal,
            setup: |_| {
                let cmd = Cmd::new(cc::PCR_EXTEND)
                    .handle(PCR_DEBUG)
                    .pw(b"")
                    .u32(1)
                    .u16(ALG_SHA256)
                    .bytes(&[0x11; 32])
                    .build();
                Box::new(move |b| timed(b, &cmd, "PCR_Extend").0)
            },
        },
        Case {
            name: "PCR_Read (8 PCRs)",
            weight: Weight::Normal,
            setup: |_| {
                let cmd = Cmd::new(cc::PCR_READ).bytes(&tpm::pcr_sel_0_7()).build();
                Box::new(move |b| timed(b, &cmd, "PCR_Read").0)
            },
        },
        Case {
            name: "Hash (1 KiB, SHA-256)",
            weight: Weight::Normal,
            setup: |_| {
                let cmd = Cmd::new(cc::HASH)
                    .b2(&[0xAB; 1024])
                    .u16(ALG_SHA256)
                    .u32(RH_OWNER)
                    .build();
                Box::new(move |b| timed(b, &cmd, "Hash").0)
            },
        },
        Case {
            name: "HMAC (1 KiB, SHA-256 key)",
            weight: Weight::Normal,
            setup: |b| {
                let key = loaded_key(b, &tpm::hmac_key());
                let cmd = Cmd::new(cc::HMAC)
                    .handle(key)
                    .pw(b"")
                    .b2(&[0xCD; 1024])
                    .u16(ALG_NULL)
                    .build();
                Box::new(move |b| {
                    let (d, rsp) = timed(b, &cmd, "HMAC");
                    assert_eq!(Rsp::parse(&rsp, false, "HMAC").b2().len(), 32);
                    d
                })
            },
        },
        Case {
            name: "CreatePrimary ECC P-256 (new template)",
            weight: Weight::Normal,
            setup: |_| {
                let mut i = 0u64;
                Box::new(move |b| {
                    i += 1;
                    let cmd = tpm::create_primary_cmd(&tpm::ecc_storage(&counter_bytes(i, 32)));
                    timed_then_flush(b, &cmd, "CreatePrimary ECC")
                })
            },
        },
        Case {
            name: "CreatePrimary ECC P-256 (same template)",
            weight: Weight::Normal,
            setup: |_| {
                let cmd = tpm::create_primary_cmd(&tpm::ecc_storage(&[]));
                Box::new(move |b| timed_then_flush(b, &cmd, "CreatePrimary ECC"))
            },
        },
        Case {
            name: "CreatePrimary RSA 2048 (new template)",
            weight: Weight::Keygen,
            setup: |_| {
                let mut i = 0u64;
                Box::new(move |b| {
                    i += 1;
                    let cmd = tpm::create_primary_cmd(&tpm::rsa_storage(&counter_bytes(i, 32)));
                    timed_then_flush(b, &cmd, "CreatePrimary RSA")
                })
            },
        },
        Case {
            name: "CreatePrimary RSA 2048 (same template)",
            weight: Weight::Keygen,
            setup: |_| {
                let cmd = tpm::create_primary_cmd(&tpm::rsa_storage(&[]));
                Box::new(move |b| timed_then_flush(b, &cmd, "CreatePrimary RSA"))
            },
        },
        Case {
            name: "Create ECC P-256",
            weight: Weight::Normal,
            setup: |b| {
                let parent = ecc_parent(b);
                let cmd = tpm::create_cmd(parent, &tpm::ecc_signing(), b"", b"");
                Box::new(move |b| timed(b, &cmd, "Create ECC").0)
            },
        },
        Case {
            name: "Create RSA 2048",
            weight: Weight::Keygen,
            setup: |b| {
                let parent = ecc_parent(b);
                let cmd = tpm::create_cmd(parent, &tpm::rsa_signing(), b"", b"");
                Box::new(move |b| timed(b, &cmd, "Create RSA").0)
            },
        },
        Case {
            name: "Load (ECC P-256)",
            weight: Weight::Normal,
            setup: |b| {
                let parent = ecc_parent(b);
                let (private, public) = create(b, parent, &tpm::ecc_signing(), b"");
                let cmd = tpm::load_cmd(parent, &private, &public);
                Box::new(move |b| timed_then_flush(b, &cmd, "Load"))
            },
        },
        Case {
            name: "Load (RSA 2048)",
            weight: Weight::Normal,
            setup: |b| {
                let parent = ecc_parent(b);
                let (private, public) = create(b, parent, &tpm::rsa_signing(), b"");
                let cmd = tpm::load_cmd(parent, &private, &public);
                Box::new(move |b| timed_then_flush(b, &cmd, "Load"))
            },
        },
        Case {
            name: "Sign (ECDSA P-256)",
            weight: Weight::Normal,
            setup: |b| {
                let key = loaded_key(b, &tpm::ecc_signing());
                let cmd = sign_cmd(key);
                Box::new(move |b| {
                    let (d, rsp) = timed(b, &cmd, "Sign ECDSA");
                    assert_eq!(Rsp::parse(&rsp, false, "Sign").u16(), 0x0018);
                    d
                })
            },
        },
        Case {
            name: "Sign (RSASSA 2048)",
            weight: Weight::Normal,
            setup: |b| {
                let key = loaded_key(b, &tpm::rsa_signing());
                let cmd = sign_cmd(key);
                Box::new(move |b| {
                    let (d, rsp) = timed(b, &cmd, "Sign RSASSA");
                    assert_eq!(Rsp::parse(&rsp, false, "Sign").u16(), 0x0014);
                    d
                })
            },
        },
        Case {
            name: "RSA_Decrypt (OAEP 2048)",
            weight: Weight::Normal,
            setup: |b| {
                let key = loaded_key(b, &tpm::rsa_decrypt());
                let msg = [0x77u8; 32];
                let ct = rsa_encrypt(b, key, &msg, b"");
                let cmd = Cmd::new(cc::RSA_DECRYPT)
                    .handle(key)
                    .pw(b"")
                    .b2(&ct)
                    .u16(0x0017)
                    .u16(ALG_SHA256)
                    .u16(0)
                    .build();
                Box::new(move |b| {
                    let (d, rsp) = timed(b, &cmd, "RSA_Decrypt");
                    assert_eq!(Rsp::parse(&rsp, false, "RSA_Decrypt").b2(), msg);
                    d
                })
            },
        },
        Case {
            name: "StartAuthSession (HMAC, unsalted)",
            weight: Weight::Normal,
            setup: |_| {
                let cmd = tpm::start_session_cmd(RH_NULL, &[0x5A; 32], &[], 0);
                Box::new(move |b| timed_then_flush(b, &cmd, "StartAuthSession"))
            },
        },
        Case {
            name: "StartAuthSession (HMAC, salted RSA 2048)",
            weight: Weight::Normal,
            setup: |b| {
                let srk = primary(b, &tpm::rsa_storage(&[]));
                let salt = [0x3Cu8; 32];
                let enc = rsa_encrypt(b, srk, &salt, b"SECRET\0");
                let cmd = tpm::start_session_cmd(srk, &[0x5A; 32], &enc, 0);
                Box::new(move |b| timed_then_flush(b, &cmd, "StartAuthSession salted"))
            },
        },
        Case {
            name: "NV_Read 64 B, HMAC session",
            weight: Weight::Normal,
            setup: |b| {
                let auth = b"nvpw".to_vec();
                nv_define(b, NV_HMAC, 64, &auth);
                call(b, &nv_write_cmd(NV_HMAC, &auth, &[0x42; 64], 0), "NV_Write");
                let rsp = call(
                    b,
                    &Cmd::new(cc::NV_READ_PUBLIC).handle(NV_HMAC).build(),
                    "NV_ReadPublic",
                );
                let mut r = Rsp::parse(&rsp, false, "NV_ReadPublic");
                let _pub = r.b2();
                let name = r.b2();
                let nonce = [0x5Au8; 32];
                let rsp = call(
                    b,
                    &tpm::start_session_cmd(RH_NULL, &nonce, &[], 0),
                    "StartAuthSession",
                );
                let mut s = HmacSession::from_start(&rsp, &nonce, &[]);
                let mut i = 0u64;
                Box::new(move |b| {
                    i += 1;
                    s.nonce_caller = counter_bytes(i, 32);
                    let params = [0, 64, 0, 0];
                    let cmd = s.command(
                        cc::NV_READ,
                        &[NV_HMAC, NV_HMAC],
                        &[&name, &name],
                        &params,
                        &auth,
                    );
                    let (d, rsp) = timed(b, &cmd, "NV_Read (HMAC)");
                    let mut p = s.check(&rsp, cc::NV_READ, &auth, "NV_Read (HMAC)");
                    assert_eq!(p.drain(2..).collect::<Vec<u8>>(), vec![0x42; 64]);
                    d
                })
            },
        },
        Case {
            name: "Unseal under PolicyPCR (3 commands)",
            weight: Weight::Normal,
            setup: |b| {
                let sel = tpm::pcr_sel_0_7();
                let policy_pcr = move |session: u32| {
                    Cmd::new(cc::POLICY_PCR)
                        .handle(session)
                        .u16(0)
                        .bytes(&sel)
                        .build()
                };
                // The policy digest, computed by the TPM in a trial session.
                let nonce = [0x5Au8; 32];
                let rsp = call(
                    b,
                    &tpm::start_session_cmd(RH_NULL, &nonce, &[], 3),
                    "StartAuthSession(trial)",
                );
                let trial = Rsp::parse(&rsp, true, "StartAuthSession").handle.unwrap();
                call(b, &policy_pcr(trial), "PolicyPCR(trial)");
                let rsp = call(
                    b,
                    &Cmd::new(cc::POLICY_GET_DIGEST).handle(trial).build(),
                    "PolicyGetDigest",
                );
                let digest = Rsp::parse(&rsp, false, "PolicyGetDigest").b2();
                call(b, &tpm::flush_cmd(trial), "FlushContext");
                let secret = b"sealed secret for the benchmark".to_vec();
                let parent = ecc_parent(b);
                let (private, public) =
                    create(b, parent, &tpm::sealed_with_policy(&digest), &secret);
                let obj = load(b, parent, &private, &public);
                let start = tpm::start_session_cmd(RH_NULL, &nonce, &[], 1);
                Box::new(move |b| {
                    let (d1, rsp) = timed(b, &start, "StartAuthSession(policy)");
                    let s = Rsp::parse(&rsp, true, "StartAuthSession").handle.unwrap();
                    let (d2, _) = timed(b, &policy_pcr(s), "PolicyPCR");
                    let unseal = Cmd::new(cc::UNSEAL).handle(obj).policy(s, 0).build();
                    let (d3, rsp) = timed(b, &unseal, "Unseal");
                    assert_eq!(Rsp::parse(&rsp, false, "Unseal").b2(), secret);
                    d1 + d2 + d3
                })
            },
        },
        Case {
            name: "NV_Write 64 B",
            weight: Weight::Normal,
            setup: |b| {
                nv_define(b, NV_BENCH, 64, b"");
                let mut i = 0u8;
                Box::new(move |b| {
                    i = i.wrapping_add(1);
                    timed(b, &nv_write_cmd(NV_BENCH, b"", &[i; 64], 0), "NV_Write").0
                })
            },
        },
        Case {
            name: "NV_Read 64 B",
            weight: Weight::Normal,
            setup: |b| {
                nv_define(b, NV_BENCH, 64, b"");
                call(b, &nv_write_cmd(NV_BENCH, b"", &[0x42; 64], 0), "NV_Write");
                let cmd = nv_read_cmd(NV_BENCH, b"", 64);
                Box::new(move |b| timed(b, &cmd, "NV_Read").0)
            },
        },
        Case {
            name: "ContextSave+ContextLoad (ECC key)",
            weight: Weight::Normal,
            setup: |b| {
                let key = loaded_key(b, &tpm::ecc_signing());
                let save = Cmd::new(cc::CONTEXT_SAVE).handle(key).build();
                Box::new(move |b| {
                    let (d1, rsp) = timed(b, &save, "ContextSave");
                    let ctx = Rsp::parse(&rsp, false, "ContextSave").params;
                    let load = Cmd::new(cc::CONTEXT_LOAD).bytes(&ctx).build();
                    let (d2, rsp) = timed(b, &load, "ContextLoad");
                    let h = Rsp::parse(&rsp, true, "ContextLoad").handle.unwrap();
                    call(b, &tpm::flush_cmd(h), "FlushContext");
                    d1 + d2
                })
            },
        },
        Case {
            name: "Quote (ECDSA P-256, 8 PCRs)",
            weight: Weight::Normal,
            setup: |b| {
                let ak = loaded_key(b, &tpm::ecc_attestation());
                let cmd = Cmd::new(cc::QUOTE)
                    .handle(ak)
                    .pw(b"")
                    .b2(&[0x33; 16])
                    .u16(ALG_NULL)
                    .bytes(&tpm::pcr_sel_0_7())
                    .build();
                Box::new(move |b| timed(b, &cmd, "Quote").0)
            },
        },
    ]
}

fn sign_cmd(key: u32) -> Vec<u8> {
    Cmd::new(cc::SIGN)
        .handle(key)
        .pw(b"")
        .b2(&[0x42; 32])
        .u16(ALG_NULL)
        .u16(0x8024)
        .u32(RH_NULL)
        .u16(0)
        .build()
}
