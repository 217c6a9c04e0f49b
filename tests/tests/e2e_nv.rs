//! End to end (issue #5): NV indices with tpm2-tools against `vtpm-host-sim`.
//!
//! Every scenario runs once per transport (`per_transport!`): the mssim
//! TCTI, the swtpm TCTI, and tpm2-abrmd in front of the simulator. The
//! tests define ordinary, counter, bit field and extend indices, write,
//! read, increment, extend, set bits, lock, change auth values, use NV in
//! policies (TPM2_PolicyNV gating an unseal; an index read and written
//! under its own authPolicy), and check what is read back, the attributes
//! reported and the Names (computed here as nameAlg || H(TPMS_NV_PUBLIC),
//! Part 1, 16, from the fields `tpm2 nvreadpublic` prints). They restart
//! the simulator to check which locks survive (Part 2, 13.4: WRITEDEFINE
//! locks persist, WRITE_STCLEAR/READ_STCLEAR/global locks clear at
//! Startup(CLEAR) but not at a resume), and give bad input (writes past the
//! end, unwritten reads, wrong auth, wrong hierarchy, forbidden attribute
//! combinations, a full NV) checking the response codes and that nothing
//! already stored changes. Commands the tools refuse to send (they check
//! ranges themselves) are sent raw with `tpm2 send`.

use std::fs;

use sha2::{Digest, Sha256};
use vtpm_tests::yaml::{self, Yaml};
use vtpm_tests::{hex, per_transport, unhex, Sim, Tcti};

// ---------------------------------------------------------------- helpers

/// A simulator with `tpm2 startup -c` done.
fn started(tcti: Tcti) -> Sim {
    let sim = Sim::start(tcti);
    sim.tpm2(&["startup", "-c"]);
    sim
}

fn read(sim: &Sim, name: &str) -> Vec<u8> {
    fs::read(sim.work_dir().join(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}"))
}

fn write(sim: &Sim, name: &str, data: &[u8]) {
    fs::write(sim.work_dir().join(name), data)
        .unwrap_or_else(|e| panic!("cannot write {name}: {e}"));
}

fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().to_vec()
}

/// Asserts that tpm2-tools printed the response code `rc` (as `(0x148)`
/// after the failing call, or `(0x00000148)` in the TSS's error line).
fn assert_rc(stderr: &str, rc: u32, what: &str) {
    let low = stderr.to_ascii_lowercase();
    assert!(
        low.contains(&format!("(0x{rc:x})")) || low.contains(&format!("(0x{rc:08x})")),
        "{what}: expected response code 0x{rc:X}, got:\n{stderr}"
    );
}

// TPMA_NV bits (Part 2, 13.4).
const OWNERWRITE: u32 = 1 << 1;
const AUTHWRITE: u32 = 1 << 2;
const POLICYWRITE: u32 = 1 << 3;
const NT_SHIFT: u32 = 4;
const POLICY_DELETE: u32 = 1 << 10;
const WRITELOCKED: u32 = 1 << 11;
const WRITEALL: u32 = 1 << 12;
const WRITEDEFINE: u32 = 1 << 13;
const WRITE_STCLEAR: u32 = 1 << 14;
const GLOBALLOCK: u32 = 1 << 15;
const PPREAD: u32 = 1 << 16;
const OWNERREAD: u32 = 1 << 17;
const AUTHREAD: u32 = 1 << 18;
const POLICYREAD: u32 = 1 << 19;
const NO_DA: u32 = 1 << 25;
const ORDERLY: u32 = 1 << 26;
const CLEAR_STCLEAR: u32 = 1 << 27;
const READLOCKED: u32 = 1 << 28;
const WRITTEN: u32 = 1 << 29;
const PLATFORMCREATE: u32 = 1 << 30;
const PPWRITE: u32 = 1;
const READ_STCLEAR: u32 = 1 << 31;
// TPM_NT (Part 2, 13.4, Table 248).
const NT_COUNTER: u32 = 1;
const NT_BITS: u32 = 2;
const NT_EXTEND: u32 = 4;

// Command codes (Part 2, 6.5.2).
const CC_NV_WRITE: u32 = 0x137;
const CC_NV_CHANGE_AUTH: u32 = 0x13b;
const CC_POLICY_NV: u32 = 0x149;
const CC_NV_READ: u32 = 0x14e;
const CC_POLICY_AUTH_VALUE: u32 = 0x16b;
const CC_POLICY_COMMAND_CODE: u32 = 0x16c;
const CC_POLICY_OR: u32 = 0x171;
const CC_NV_UNDEFINE_SPACE_SPECIAL: u32 = 0x11f;
const CC_NV_UNDEFINE_SPACE: u32 = 0x122;

/// The TPMA_NV bits of an attribute list as tpm2-tools writes it.
fn nv_bits(list: &str) -> u32 {
    list.split('|')
        .map(|a| match a.trim() {
            "ppwrite" => PPWRITE,
            "ownerwrite" => OWNERWRITE,
            "authwrite" => AUTHWRITE,
            "policywrite" => POLICYWRITE,
            "nt=counter" => NT_COUNTER << NT_SHIFT,
            "nt=bits" => NT_BITS << NT_SHIFT,
            "nt=extend" => NT_EXTEND << NT_SHIFT,
            "writeall" => WRITEALL,
            "writedefine" => WRITEDEFINE,
            "write_stclear" => WRITE_STCLEAR,
            "globallock" => GLOBALLOCK,
            "ppread" => PPREAD,
            "ownerread" => OWNERREAD,
            "authread" => AUTHREAD,
            "policyread" => POLICYREAD,
            "no_da" => NO_DA,
            "orderly" => ORDERLY,
            "clear_stclear" => CLEAR_STCLEAR,
            "platformcreate" => PLATFORMCREATE,
            "policydelete" => POLICY_DELETE,
            "read_stclear" => READ_STCLEAR,
            other => panic!("NV attribute {other:?} not known to this test"),
        })
        .fold(0, |a, b| a | b)
}

/// What `tpm2 nvreadpublic <index>` printed about one index.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NvPublic {
    name: Vec<u8>,
    attributes: u32,
    size: u16,
    policy: Vec<u8>,
}

/// `tpm2 nvreadpublic <index>`; checks that the printed Name equals
/// nameAlg || SHA-256(TPMS_NV_PUBLIC) computed from the printed fields:
/// nvIndex, nameAlg, attributes, authPolicy, dataSize (Part 2, 13.5).
fn nvreadpublic(sim: &Sim, index: u32) -> NvPublic {
    let out = sim.tpm2(&["nvreadpublic", &format!("0x{index:x}")]);
    let y = yaml::parse(&out);
    let key = format!("0x{index:x}");
    let f = |path: &[&str]| -> &Yaml {
        let mut p = vec![key.as_str()];
        p.extend_from_slice(path);
        y.path(&p)
            .unwrap_or_else(|| panic!("no {} in nvreadpublic:\n{out}", p.join(".")))
    };
    let num = |path: &[&str]| -> u64 {
        f(path)
            .as_u64()
            .unwrap_or_else(|| panic!("{} not a number:\n{out}", path.join(".")))
    };
    assert_eq!(
        num(&["hash algorithm", "value"]),
        0xb,
        "nameAlg SHA-256:\n{out}"
    );
    let attributes = u32::try_from(num(&["attributes", "value"])).unwrap_or_else(|e| panic!("{e}"));
    let size = u16::try_from(num(&["size"])).unwrap_or_else(|e| panic!("{e}"));
    let policy = match y.path(&[key.as_str(), "authorization policy"]) {
        Some(p) => p
            .as_str()
            .and_then(unhex)
            .unwrap_or_else(|| panic!("authorization policy not hex:\n{out}")),
        None => Vec::new(),
    };
    let printed = f(&["name"])
        .as_str()
        .and_then(unhex)
        .unwrap_or_else(|| panic!("name not hex:\n{out}"));
    let policy_len = u16::try_from(policy.len()).unwrap_or_else(|e| panic!("{e}"));
    let mut area = index.to_be_bytes().to_vec();
    area.extend_from_slice(&0x000bu16.to_be_bytes());
    area.extend_from_slice(&attributes.to_be_bytes());
    area.extend_from_slice(&policy_len.to_be_bytes());
    area.extend_from_slice(&policy);
    area.extend_from_slice(&size.to_be_bytes());
    let mut name = 0x000bu16.to_be_bytes().to_vec();
    name.extend_from_slice(&sha256(&[&area]));
    assert_eq!(
        hex(&printed),
        hex(&name),
        "0x{index:x}: printed Name vs nameAlg || H(TPMS_NV_PUBLIC)\n{out}"
    );
    NvPublic {
        name,
        attributes,
        size,
        policy,
    }
}

fn nv_indices(sim: &Sim) -> Vec<u64> {
    let out = sim.tpm2(&["getcap", "handles-nv-index"]);
    yaml::parse(&out)
        .items()
        .iter()
        .map(|h| h.as_u64().unwrap_or_else(|| panic!("not a handle:\n{out}")))
        .collect()
}

fn idx(index: u32) -> String {
    format!("0x{index:x}")
}

/// `tpm2 nvread` of `size` bytes at `offset` with owner authorization.
fn nvread(sim: &Sim, index: u32, size: usize, offset: usize) -> Vec<u8> {
    let (s, o) = (size.to_string(), offset.to_string());
    sim.tpm2(&[
        "nvread",
        &idx(index),
        "-C",
        "o",
        "-s",
        &s,
        "--offset",
        &o,
        "-o",
        "nvread.out",
    ]);
    read(sim, "nvread.out")
}

/// `tpm2 nvwrite` of `data` at `offset` with owner authorization.
fn nvwrite(sim: &Sim, index: u32, data: &[u8], offset: usize) {
    write(sim, "nvwrite.in", data);
    let o = offset.to_string();
    sim.tpm2(&[
        "nvwrite",
        &idx(index),
        "-C",
        "o",
        "-i",
        "nvwrite.in",
        "--offset",
        &o,
    ]);
}

/// A command with one password session (empty password) for the first
/// handle, sent with `tpm2 send`; returns the response code. Used for
/// commands the tools refuse to send.
fn send_pw(sim: &Sim, cc: u32, handles: &[u32], params: &[u8]) -> u32 {
    // TPMS_AUTH_COMMAND: TPM_RS_PW, empty nonce, attributes 0, empty hmac.
    let auth = [0x40, 0, 0, 0x09, 0, 0, 0, 0, 0];
    let mut body = Vec::new();
    for h in handles {
        body.extend_from_slice(&h.to_be_bytes());
    }
    body.extend_from_slice(&(auth.len() as u32).to_be_bytes());
    body.extend_from_slice(&auth);
    body.extend_from_slice(params);
    let mut cmd = 0x8002u16.to_be_bytes().to_vec();
    cmd.extend_from_slice(&(10 + body.len() as u32).to_be_bytes());
    cmd.extend_from_slice(&cc.to_be_bytes());
    cmd.extend_from_slice(&body);
    write(sim, "raw.cmd", &cmd);
    sim.tpm2(&["send", "-o", "raw.rsp", "raw.cmd"]);
    let rsp = read(sim, "raw.rsp");
    assert!(rsp.len() >= 10, "short response {}", hex(&rsp));
    u32::from_be_bytes([rsp[6], rsp[7], rsp[8], rsp[9]])
}

/// Raw TPM2_NV_Write(TPM_RH_OWNER, index, data, offset).
fn raw_nv_write(sim: &Sim, index: u32, data: &[u8], offset: u16) -> u32 {
    let mut p = (data.len() as u16).to_be_bytes().to_vec();
    p.extend_from_slice(data);
    p.extend_from_slice(&offset.to_be_bytes());
    send_pw(sim, CC_NV_WRITE, &[0x4000_0001, index], &p)
}

/// Raw TPM2_NV_Read(TPM_RH_OWNER, index, size, offset).
fn raw_nv_read(sim: &Sim, index: u32, size: u16, offset: u16) -> u32 {
    let mut p = size.to_be_bytes().to_vec();
    p.extend_from_slice(&offset.to_be_bytes());
    send_pw(sim, CC_NV_READ, &[0x4000_0001, index], &p)
}

// ---------------------------------------------------------------- ordinary

/// An ordinary index: define, readpublic (Name, attributes, size),
/// unwritten read, writes at offsets, reads at offsets, index auth,
/// undefine.
fn ordinary(tcti: Tcti) {
    let sim = started(tcti);
    let i = 0x0150_0016;
    let attrs = "ownerread|ownerwrite|authread|authwrite";
    sim.tpm2(&[
        "nvdefine",
        &idx(i),
        "-C",
        "o",
        "-s",
        "32",
        "-a",
        attrs,
        "-p",
        "nvpw",
    ]);
    assert!(
        nv_indices(&sim).contains(&u64::from(i)),
        "getcap handles-nv-index"
    );
    let p0 = nvreadpublic(&sim, i);
    assert_eq!(p0.attributes, nv_bits(attrs), "attributes after define");
    assert_eq!(p0.size, 32);
    assert!(p0.policy.is_empty());
    // Not written yet: TPM_RC_NV_UNINITIALIZED (0x14A).
    let err = sim.tpm2_fails(&["nvread", &idx(i), "-C", "o", "-s", "4"]);
    assert_rc(&err, 0x14a, "read of an unwritten index");

    let data: Vec<u8> = (0..32u8).map(|b| b.wrapping_mul(29) ^ 0x5c).collect();
    nvwrite(&sim, i, &data, 0);
    let p1 = nvreadpublic(&sim, i);
    assert_eq!(
        p1.attributes,
        nv_bits(attrs) | WRITTEN,
        "TPMA_NV_WRITTEN after a write"
    );
    assert_ne!(p1.name, p0.name, "the Name covers TPMA_NV_WRITTEN");
    assert_eq!(nvread(&sim, i, 32, 0), data);
    // A partial write in the middle, read back whole and in pieces.
    nvwrite(&sim, i, b"MIDDLE", 10);
    let mut want = data.clone();
    want[10..16].copy_from_slice(b"MIDDLE");
    assert_eq!(nvread(&sim, i, 32, 0), want);
    assert_eq!(nvread(&sim, i, 6, 10), b"MIDDLE");
    assert_eq!(nvread(&sim, i, 3, 29), &want[29..]);
    // The last byte, written with the index's own auth value.
    write(&sim, "last.bin", b"Z");
    sim.tpm2(&[
        "nvwrite",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "nvpw",
        "-i",
        "last.bin",
        "--offset",
        "31",
    ]);
    want[31] = b'Z';
    sim.tpm2(&[
        "nvread",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "nvpw",
        "-o",
        "all.bin",
    ]);
    assert_eq!(
        read(&sim, "all.bin"),
        want,
        "read with the index auth value"
    );
    assert_eq!(
        nvreadpublic(&sim, i),
        p1,
        "writes do not change the public area again"
    );

    sim.tpm2(&["nvundefine", &idx(i), "-C", "o"]);
    assert!(
        !nv_indices(&sim).contains(&u64::from(i)),
        "undefined index still listed"
    );
    // TPM_RC_HANDLE (0x08B) on handle 1 from the tools' TPM2_NV_ReadPublic.
    let err = sim.tpm2_fails(&["nvreadpublic", &idx(i)]);
    assert_rc(&err, 0x18b, "nvreadpublic of an undefined index");
    // Defined again: unwritten again.
    sim.tpm2(&[
        "nvdefine",
        &idx(i),
        "-C",
        "o",
        "-s",
        "32",
        "-a",
        attrs,
        "-p",
        "nvpw",
    ]);
    assert_eq!(nvreadpublic(&sim, i), p0, "redefined index");
    let err = sim.tpm2_fails(&["nvread", &idx(i), "-C", "o", "-s", "4"]);
    assert_rc(&err, 0x14a, "read of a redefined index");
}
per_transport!(ordinary, ordinary_mssim, ordinary_swtpm, ordinary_abrmd);

// ---------------------------------------------------------------- types

/// Counter, bit field and extend indices.
fn types(tcti: Tcti) {
    let sim = started(tcti);
    // Counter.
    let c = 0x0150_0010;
    let attrs = "ownerread|ownerwrite|nt=counter";
    sim.tpm2(&["nvdefine", &idx(c), "-C", "o", "-a", attrs]);
    let p = nvreadpublic(&sim, c);
    assert_eq!(p.attributes, nv_bits(attrs));
    assert_eq!(p.size, 8, "a counter is 8 bytes");
    let err = sim.tpm2_fails(&["nvread", &idx(c), "-C", "o", "-s", "8"]);
    assert_rc(&err, 0x14a, "read of a counter never incremented");
    sim.tpm2(&["nvincrement", &idx(c), "-C", "o"]);
    let first = u64::from_be_bytes(nvread(&sim, c, 8, 0).try_into().unwrap_or_default());
    assert_eq!(nvreadpublic(&sim, c).attributes, nv_bits(attrs) | WRITTEN);
    for _ in 0..4 {
        sim.tpm2(&["nvincrement", &idx(c), "-C", "o"]);
    }
    let now = u64::from_be_bytes(nvread(&sim, c, 8, 0).try_into().unwrap_or_default());
    assert_eq!(now, first + 4, "four increments");

    // Bit field: TPM2_NV_SetBits ORs.
    let b = 0x0150_0011;
    let attrs = "ownerread|ownerwrite|nt=bits";
    sim.tpm2(&["nvdefine", &idx(b), "-C", "o", "-a", attrs]);
    assert_eq!(nvreadpublic(&sim, b).attributes, nv_bits(attrs));
    sim.tpm2(&["nvsetbits", &idx(b), "-C", "o", "-i", "0x5"]);
    assert_eq!(nvread(&sim, b, 8, 0), 5u64.to_be_bytes());
    sim.tpm2(&["nvsetbits", &idx(b), "-C", "o", "-i", "0x8000000000000104"]);
    assert_eq!(
        nvread(&sim, b, 8, 0),
        0x8000_0000_0000_0105u64.to_be_bytes()
    );
    sim.tpm2(&["nvsetbits", &idx(b), "-C", "o", "-i", "0x0"]);
    assert_eq!(
        nvread(&sim, b, 8, 0),
        0x8000_0000_0000_0105u64.to_be_bytes()
    );
    assert_eq!(nvreadpublic(&sim, b).attributes, nv_bits(attrs) | WRITTEN);

    // Extend: new = H(old || data), starting from zeros.
    let e = 0x0150_0012;
    let attrs = "ownerread|ownerwrite|nt=extend";
    sim.tpm2(&["nvdefine", &idx(e), "-C", "o", "-g", "sha256", "-a", attrs]);
    let p = nvreadpublic(&sim, e);
    assert_eq!((p.attributes, p.size), (nv_bits(attrs), 32));
    write(&sim, "ext1.bin", b"first measurement");
    sim.tpm2(&["nvextend", &idx(e), "-C", "o", "-i", "ext1.bin"]);
    let v1 = sha256(&[&[0; 32], b"first measurement"]);
    assert_eq!(nvread(&sim, e, 32, 0), v1);
    write(&sim, "ext2.bin", &[0u8; 100]);
    sim.tpm2(&["nvextend", &idx(e), "-C", "o", "-i", "ext2.bin"]);
    assert_eq!(nvread(&sim, e, 32, 0), sha256(&[&v1, &[0u8; 100]]));

    // Each operation only on its own type: TPM_RC_ATTRIBUTES (0x082) on
    // handle 2 (nvIndex) = 0x282.
    let err = sim.tpm2_fails(&["nvincrement", &idx(b), "-C", "o"]);
    assert_rc(&err, 0x282, "nvincrement of a bit field");
    let err = sim.tpm2_fails(&["nvsetbits", &idx(c), "-C", "o", "-i", "0x1"]);
    assert_rc(&err, 0x282, "nvsetbits of a counter");
    let err = sim.tpm2_fails(&["nvextend", &idx(c), "-C", "o", "-i", "ext1.bin"]);
    assert_rc(&err, 0x282, "nvextend of a counter");
    // TPM2_NV_Write to a counter: TPM_RC_ATTRIBUTES with no handle number
    // (Part 3, 31.7).
    write(&sim, "eight.bin", &[0xff; 8]);
    let err = sim.tpm2_fails(&["nvwrite", &idx(c), "-C", "o", "-i", "eight.bin"]);
    assert_rc(&err, 0x082, "nvwrite of a counter");
    // Nothing changed.
    assert_eq!(
        u64::from_be_bytes(nvread(&sim, c, 8, 0).try_into().unwrap_or_default()),
        first + 4
    );
    assert_eq!(
        nvread(&sim, b, 8, 0),
        0x8000_0000_0000_0105u64.to_be_bytes()
    );
    assert_eq!(nvread(&sim, e, 32, 0), sha256(&[&v1, &[0u8; 100]]));
    for i in [c, b, e] {
        sim.tpm2(&["nvundefine", &idx(i), "-C", "o"]);
    }
    assert_eq!(nv_indices(&sim), Vec::<u64>::new());
}
per_transport!(types, types_mssim, types_swtpm, types_abrmd);

// ---------------------------------------------------------------- locks

const LOCK_A: u32 = 0x0150_0001; // writedefine, written, write-locked
const LOCK_A2: u32 = 0x0150_0002; // writedefine, never written, write-locked
const LOCK_B: u32 = 0x0150_0003; // write_stclear, write-locked
const LOCK_C: u32 = 0x0150_0004; // read_stclear, read-locked
const LOCK_D: u32 = 0x0150_0005; // counter
const LOCK_D2: u32 = 0x0150_0006; // orderly counter
const LOCK_E: u32 = 0x0150_0007; // globallock, global write lock
const LOCK_F: u32 = 0x0150_0008; // clear_stclear, written

fn counter(sim: &Sim, index: u32) -> u64 {
    u64::from_be_bytes(nvread(sim, index, 8, 0).try_into().unwrap_or_default())
}

/// TPM_RC_NV_LOCKED (0x148) for a write to `index`.
fn write_locked(sim: &Sim, index: u32, what: &str) {
    write(sim, "w.bin", b"no");
    let err = sim.tpm2_fails(&["nvwrite", &idx(index), "-C", "o", "-i", "w.bin"]);
    assert_rc(&err, 0x148, what);
}

/// Checks the lock state of every index: `stclear_locks` says whether the
/// locks that a Startup(CLEAR) removes are (still) in place.
fn check_locks(sim: &Sim, stclear_locks: bool, when: &str, c_value: &[u8], counts: (u64, u64)) {
    // A: WRITEDEFINE and written: locked for good.
    let a = nvreadpublic(sim, LOCK_A);
    assert_ne!(a.attributes & WRITELOCKED, 0, "A locked {when}");
    write_locked(sim, LOCK_A, &format!("A {when}"));
    assert_eq!(
        nvread(sim, LOCK_A, 16, 0),
        b"A: locked data..",
        "A data {when}"
    );
    // A2: WRITEDEFINE but never written: the lock goes at a TPM Reset or
    // Restart (Part 2, 13.4).
    let a2 = nvreadpublic(sim, LOCK_A2);
    assert_eq!(
        a2.attributes & WRITELOCKED != 0,
        stclear_locks,
        "A2 lock {when}"
    );
    // B: WRITE_STCLEAR.
    let b = nvreadpublic(sim, LOCK_B);
    assert_eq!(
        b.attributes & WRITELOCKED != 0,
        stclear_locks,
        "B lock {when}"
    );
    assert_eq!(nvread(sim, LOCK_B, 8, 0), b"B-stclr.", "B data {when}");
    // C: READ_STCLEAR.
    let c = nvreadpublic(sim, LOCK_C);
    assert_eq!(
        c.attributes & READLOCKED != 0,
        stclear_locks,
        "C read lock {when}"
    );
    if stclear_locks {
        let err = sim.tpm2_fails(&["nvread", &idx(LOCK_C), "-C", "o", "-s", "8"]);
        assert_rc(&err, 0x148, &format!("C read {when}"));
    } else {
        assert_eq!(nvread(sim, LOCK_C, 8, 0), c_value, "C data {when}");
    }
    // Counters keep their values.
    assert_eq!(counter(sim, LOCK_D), counts.0, "counter {when}");
    assert_eq!(counter(sim, LOCK_D2), counts.1, "orderly counter {when}");
    assert_ne!(nvreadpublic(sim, LOCK_D2).attributes & ORDERLY, 0);
}

/// Write and read locks, and what a simulator restart does to them, to
/// counters and to data (Part 2, 13.4; Part 3, 31.11, 31.12, 31.14).
fn locks_restart(tcti: Tcti) {
    let dir = tempfile::Builder::new()
        .prefix("vtpm-nv.")
        .tempdir()
        .unwrap_or_else(|e| panic!("temp dir: {e}"));
    let sim = Sim::start_in(tcti, dir.path(), true);
    sim.tpm2(&["startup", "-c"]);
    let def = |i: u32, size: &str, attrs: &str| {
        sim.tpm2(&["nvdefine", &idx(i), "-C", "o", "-s", size, "-a", attrs]);
        assert_eq!(
            nvreadpublic(&sim, i).attributes,
            nv_bits(attrs),
            "0x{i:x} defined"
        );
    };
    def(LOCK_A, "16", "ownerread|ownerwrite|writedefine");
    def(LOCK_A2, "8", "ownerread|ownerwrite|writedefine");
    def(LOCK_B, "8", "ownerread|ownerwrite|write_stclear");
    def(LOCK_C, "8", "ownerread|ownerwrite|read_stclear");
    def(LOCK_D, "8", "ownerread|ownerwrite|nt=counter");
    def(LOCK_D2, "8", "ownerread|ownerwrite|nt=counter|orderly");
    def(LOCK_E, "8", "ownerread|ownerwrite|globallock");
    def(LOCK_F, "8", "ownerread|ownerwrite|clear_stclear");

    nvwrite(&sim, LOCK_A, b"A: locked data..", 0);
    sim.tpm2(&["nvwritelock", &idx(LOCK_A), "-C", "o"]);
    // Locking again is fine.
    sim.tpm2(&["nvwritelock", &idx(LOCK_A), "-C", "o"]);
    sim.tpm2(&["nvwritelock", &idx(LOCK_A2), "-C", "o"]);
    write_locked(&sim, LOCK_A2, "A2 after nvwritelock");
    nvwrite(&sim, LOCK_B, b"B-stclr.", 0);
    sim.tpm2(&["nvwritelock", &idx(LOCK_B), "-C", "o"]);
    nvwrite(&sim, LOCK_C, b"C-first.", 0);
    sim.tpm2(&["nvreadlock", &idx(LOCK_C), "-C", "o"]);
    // A read lock does not stop writes.
    nvwrite(&sim, LOCK_C, b"C-second", 0);
    for _ in 0..3 {
        sim.tpm2(&["nvincrement", &idx(LOCK_D), "-C", "o"]);
    }
    for _ in 0..5 {
        sim.tpm2(&["nvincrement", &idx(LOCK_D2), "-C", "o"]);
    }
    let counts = (counter(&sim, LOCK_D), counter(&sim, LOCK_D2));
    nvwrite(&sim, LOCK_E, b"E-global", 0);
    nvwrite(&sim, LOCK_F, b"F-clears", 0);
    // The global lock: E (GLOBALLOCK) is locked, B's and F's locks are
    // their own business.
    sim.tpm2(&["nvwritelock", "--global", "-C", "o"]);
    assert_ne!(
        nvreadpublic(&sim, LOCK_E).attributes & WRITELOCKED,
        0,
        "E after global lock"
    );
    write_locked(&sim, LOCK_E, "E after the global lock");
    nvwrite(&sim, LOCK_F, b"F-clears", 0);
    check_locks(&sim, true, "before the restart", b"C-second", counts);
    assert_eq!(nvreadpublic(&sim, LOCK_F).attributes & WRITTEN, WRITTEN);

    // A resume (Shutdown(STATE), Startup(STATE)) keeps every lock. abrmd
    // sends its own Startup(CLEAR) when it starts, so through abrmd only
    // the restart below is checked.
    if tcti != Tcti::Abrmd {
        sim.tpm2(&["shutdown"]);
        let st = sim.stop();
        assert!(st.success(), "simulator exit {st}");
        let sim = Sim::start_in(tcti, dir.path(), false);
        sim.tpm2(&["startup"]);
        check_locks(&sim, true, "after a resume", b"C-second", counts);
        write_locked(&sim, LOCK_E, "E after a resume");
        assert_eq!(
            nvreadpublic(&sim, LOCK_F).attributes & WRITTEN,
            WRITTEN,
            "F after a resume"
        );
        sim.tpm2(&["shutdown"]);
        let st = sim.stop();
        assert!(st.success(), "simulator exit {st}");
    } else {
        sim.tpm2(&["shutdown"]);
        let st = sim.stop();
        assert!(st.success(), "simulator exit {st}");
    }

    // A TPM Restart (Shutdown(STATE), Startup(CLEAR)): the STCLEAR locks,
    // the global lock and A2's lock (never written) go; A stays locked;
    // F's TPMA_NV_WRITTEN is cleared; data and counters stay.
    let sim = Sim::start_in(tcti, dir.path(), false);
    sim.tpm2(&["startup", "-c"]);
    check_locks(&sim, false, "after Startup(CLEAR)", b"C-second", counts);
    assert_eq!(
        nvreadpublic(&sim, LOCK_E).attributes & WRITELOCKED,
        0,
        "E after Startup(CLEAR)"
    );
    assert_eq!(nvread(&sim, LOCK_E, 8, 0), b"E-global");
    nvwrite(&sim, LOCK_E, b"E-again!", 0);
    assert_eq!(nvread(&sim, LOCK_E, 8, 0), b"E-again!");
    nvwrite(&sim, LOCK_A2, b"A2 data.", 0);
    nvwrite(&sim, LOCK_B, b"B-again!", 0);
    assert_eq!(nvread(&sim, LOCK_B, 8, 0), b"B-again!");
    let f = nvreadpublic(&sim, LOCK_F);
    assert_eq!(
        f.attributes & WRITTEN,
        0,
        "F (clear_stclear) after Startup(CLEAR)"
    );
    let err = sim.tpm2_fails(&["nvread", &idx(LOCK_F), "-C", "o", "-s", "8"]);
    assert_rc(&err, 0x14a, "F read after Startup(CLEAR)");
    // Counting goes on from where it was.
    sim.tpm2(&["nvincrement", &idx(LOCK_D), "-C", "o"]);
    assert_eq!(counter(&sim, LOCK_D), counts.0 + 1);

    // A TPM Reset (Shutdown(CLEAR), Startup(CLEAR)) keeps A locked too,
    // and now also A2, which was written before its new lock.
    sim.tpm2(&["nvwritelock", &idx(LOCK_A2), "-C", "o"]);
    sim.tpm2(&["shutdown", "-c"]);
    let st = sim.stop();
    assert!(st.success(), "simulator exit {st}");
    let sim = Sim::start_in(tcti, dir.path(), false);
    sim.tpm2(&["startup", "-c"]);
    write_locked(&sim, LOCK_A, "A after a TPM Reset");
    write_locked(&sim, LOCK_A2, "A2 (written) after a TPM Reset");
    assert_eq!(nvread(&sim, LOCK_A2, 8, 0), b"A2 data.");
    assert_eq!(counter(&sim, LOCK_D), counts.0 + 1);
    assert_eq!(counter(&sim, LOCK_D2), counts.1);
    // Undefining a locked index is allowed.
    sim.tpm2(&["nvundefine", &idx(LOCK_A), "-C", "o"]);
    assert!(!nv_indices(&sim).contains(&u64::from(LOCK_A)));

    // Power lost (the simulator killed, no Shutdown): a counter without
    // ORDERLY keeps its exact value; an orderly (hybrid) counter comes back
    // as its NV value ORed with MAX_ORDERLY_COUNT (TPM_PT_ORDERLY_COUNT),
    // never below the last value read (Part 1, 34.2.4.3).
    sim.tpm2(&["nvincrement", &idx(LOCK_D), "-C", "o"]);
    sim.tpm2(&["nvincrement", &idx(LOCK_D2), "-C", "o"]);
    let (d, d2) = (counter(&sim, LOCK_D), counter(&sim, LOCK_D2));
    let out = sim.tpm2(&["getcap", "properties-fixed"]);
    let max_orderly = yaml::parse(&out)
        .path(&["TPM2_PT_ORDERLY_COUNT", "raw"])
        .and_then(Yaml::as_u64)
        .unwrap_or_else(|| panic!("no TPM2_PT_ORDERLY_COUNT in:\n{out}"));
    drop(sim);
    let sim = Sim::start_in(tcti, dir.path(), false);
    sim.tpm2(&["startup", "-c"]);
    assert_eq!(counter(&sim, LOCK_D), d, "counter after a power loss");
    let after = counter(&sim, LOCK_D2);
    assert!(after >= d2, "orderly counter went back: {after} < {d2}");
    assert_eq!(
        after & max_orderly,
        max_orderly,
        "orderly counter after a power loss: {after:#x}, MAX_ORDERLY_COUNT {max_orderly:#x}"
    );
    assert!(
        after <= d2 | max_orderly,
        "orderly counter jumped: {after:#x} from {d2:#x}"
    );
}
per_transport!(
    locks_restart,
    locks_restart_mssim,
    locks_restart_swtpm,
    locks_restart_abrmd
);

// ---------------------------------------------------------------- bad input

/// Bad input gets the spec's response code and changes nothing stored.
fn bad_input(tcti: Tcti) {
    let sim = started(tcti);
    let i = 0x0150_0020;
    let attrs = "ownerread|ownerwrite|authread|authwrite";
    sim.tpm2(&[
        "nvdefine",
        &idx(i),
        "-C",
        "o",
        "-s",
        "16",
        "-a",
        attrs,
        "-p",
        "pw",
    ]);
    let data = *b"stored: 16 bytes";
    nvwrite(&sim, i, &data, 0);
    let before = nvreadpublic(&sim, i);
    let intact = |what: &str| {
        assert_eq!(nvread(&sim, i, 16, 0), data, "data after {what}");
        assert_eq!(nvreadpublic(&sim, i), before, "public area after {what}");
    };

    // Past the end (the tools check this themselves, so sent raw):
    // TPM_RC_NV_RANGE (0x146).
    assert_eq!(
        raw_nv_write(&sim, i, &[0xee; 10], 8),
        0x146,
        "NV_Write past the end"
    );
    assert_eq!(
        raw_nv_write(&sim, i, &[0xee; 1], 16),
        0x146,
        "NV_Write at the end"
    );
    assert_eq!(raw_nv_read(&sim, i, 10, 8), 0x146, "NV_Read past the end");
    assert_eq!(
        raw_nv_read(&sim, i, 16, 0),
        0,
        "NV_Read of the whole index, raw"
    );
    intact("writes past the end");
    // A partial write of a WRITEALL index.
    let wa = 0x0150_0021;
    sim.tpm2(&[
        "nvdefine",
        &idx(wa),
        "-C",
        "o",
        "-s",
        "16",
        "-a",
        "ownerread|ownerwrite|writeall",
    ]);
    write(&sim, "ten.bin", &[1; 10]);
    let err = sim.tpm2_fails(&["nvwrite", &idx(wa), "-C", "o", "-i", "ten.bin"]);
    assert_rc(&err, 0x146, "partial write of a WRITEALL index");
    assert_eq!(
        nvreadpublic(&sim, wa).attributes & WRITTEN,
        0,
        "failed write set WRITTEN"
    );
    nvwrite(&sim, wa, &[2; 16], 0);
    assert_eq!(nvread(&sim, wa, 16, 0), [2; 16]);

    // Unwritten: TPM_RC_NV_UNINITIALIZED (0x14A).
    let u = 0x0150_0022;
    sim.tpm2(&[
        "nvdefine",
        &idx(u),
        "-C",
        "o",
        "-s",
        "8",
        "-a",
        "ownerread|ownerwrite",
    ]);
    let err = sim.tpm2_fails(&["nvread", &idx(u), "-C", "o", "-s", "8"]);
    assert_rc(&err, 0x14a, "read of an unwritten index");
    assert_eq!(
        raw_nv_read(&sim, u, 1, 0),
        0x14a,
        "raw read of an unwritten index"
    );

    // Wrong auth: TPM_RC_AUTH_FAIL (0x08E) on session 1 for a DA-protected
    // index, TPM_RC_BAD_AUTH (0x0A2) for a noDA one.
    let err = sim.tpm2_fails(&["nvread", &idx(i), "-C", &idx(i), "-P", "wrong", "-s", "16"]);
    assert_rc(&err, 0x98e, "wrong index auth (DA)");
    let n = 0x0150_0023;
    sim.tpm2(&[
        "nvdefine",
        &idx(n),
        "-C",
        "o",
        "-s",
        "8",
        "-a",
        "authread|authwrite|no_da",
        "-p",
        "pw",
    ]);
    write(&sim, "n.bin", b"noDA....");
    let err = sim.tpm2_fails(&[
        "nvwrite",
        &idx(n),
        "-C",
        &idx(n),
        "-P",
        "wrong",
        "-i",
        "n.bin",
    ]);
    assert_rc(&err, 0x9a2, "wrong index auth (noDA)");
    sim.tpm2(&["nvwrite", &idx(n), "-C", &idx(n), "-P", "pw", "-i", "n.bin"]);
    intact("wrong auth values");

    // Wrong hierarchy: the platform cannot read or write an owner-only
    // index, the owner cannot delete a platform index:
    // TPM_RC_NV_AUTHORIZATION (0x149).
    let err = sim.tpm2_fails(&["nvread", &idx(i), "-C", "p", "-s", "16"]);
    assert_rc(&err, 0x149, "platform read of an owner index");
    let err = sim.tpm2_fails(&["nvwrite", &idx(i), "-C", "p", "-i", "ten.bin"]);
    assert_rc(&err, 0x149, "platform write of an owner index");
    let p = 0x0150_0024;
    let pattrs = "ppread|ppwrite|platformcreate";
    sim.tpm2(&["nvdefine", &idx(p), "-C", "p", "-s", "8", "-a", pattrs]);
    assert_eq!(nvreadpublic(&sim, p).attributes, nv_bits(pattrs));
    let err = sim.tpm2_fails(&["nvundefine", &idx(p), "-C", "o"]);
    assert_rc(&err, 0x149, "owner undefining a platform index");
    let err = sim.tpm2_fails(&["nvread", &idx(p), "-C", "o", "-s", "8"]);
    assert_rc(&err, 0x149, "owner read of a platform index");
    assert!(nv_indices(&sim).contains(&u64::from(p)));
    sim.tpm2(&["nvundefine", &idx(p), "-C", "p"]);
    assert!(!nv_indices(&sim).contains(&u64::from(p)));
    intact("wrong hierarchies");

    // Attribute combinations the spec forbids (Part 3, 31.3):
    // TPM_RC_ATTRIBUTES (0x082) on parameter 2 (publicInfo) = 0x2C2, or on
    // handle 1 (authHandle) = 0x182 for PLATFORMCREATE with ownerAuth.
    let x = 0x0150_0030;
    let forbidden: &[(&str, u32, &str)] = &[
        ("ownerwrite", 0x2c2, "no read authorization"),
        ("ownerread", 0x2c2, "no write authorization"),
        (
            "ownerread|ownerwrite|nt=counter|clear_stclear",
            0x2c2,
            "CLEAR_STCLEAR counter",
        ),
        (
            "ownerread|ownerwrite|platformcreate",
            0x182,
            "PLATFORMCREATE by the owner",
        ),
    ];
    for &(a, rc, what) in forbidden {
        let mut args = vec!["nvdefine", "-C", "o", "-a", a];
        let xs = idx(x);
        args.push(&xs);
        if !a.contains("counter") {
            args.extend_from_slice(&["-s", "8"]);
        }
        let err = sim.tpm2_fails(&args);
        assert_rc(&err, rc, what);
        assert!(
            !nv_indices(&sim).contains(&u64::from(x)),
            "{what}: index defined anyway"
        );
    }
    // Larger than TPM_PT_NV_INDEX_MAX (2048): TPM_RC_SIZE (0x095) on
    // parameter 2 = 0x2D5.
    let err = sim.tpm2_fails(&[
        "nvdefine",
        &idx(x),
        "-C",
        "o",
        "-s",
        "2049",
        "-a",
        "ownerread|ownerwrite",
    ]);
    assert_rc(&err, 0x2d5, "index larger than NV_INDEX_MAX");
    // Defined already: TPM_RC_NV_DEFINED (0x14C).
    let err = sim.tpm2_fails(&[
        "nvdefine",
        &idx(i),
        "-C",
        "o",
        "-s",
        "8",
        "-a",
        "ownerread|ownerwrite",
    ]);
    assert_rc(&err, 0x14c, "defining a defined index");
    // Locks on indices without WRITEDEFINE/WRITE_STCLEAR or READ_STCLEAR:
    // TPM_RC_ATTRIBUTES on handle 2 = 0x282.
    let err = sim.tpm2_fails(&["nvwritelock", &idx(i), "-C", "o"]);
    assert_rc(&err, 0x282, "nvwritelock without WRITEDEFINE/WRITE_STCLEAR");
    let err = sim.tpm2_fails(&["nvreadlock", &idx(i), "-C", "o"]);
    assert_rc(&err, 0x282, "nvreadlock without READ_STCLEAR");
    intact("forbidden attributes and locks");

    // A full NV: 2048-byte indices until TPM_RC_NV_SPACE (0x14B).
    let base = 0x0160_0000u32;
    let mut defined = 0u32;
    loop {
        assert!(defined < 1000, "NV never filled up");
        let o = sim.tpm2_raw(&[
            "nvdefine",
            &idx(base + defined),
            "-C",
            "o",
            "-s",
            "2048",
            "-a",
            "ownerread|ownerwrite",
        ]);
        if !o.status.success() {
            assert_rc(&o.stderr, 0x14b, "define in a full NV");
            break;
        }
        defined += 1;
    }
    assert!(defined > 0, "not even one 2048-byte index fits");
    assert!(!nv_indices(&sim).contains(&u64::from(base + defined)));
    intact("filling NV");
    // The indices that fit work, and deleting one makes room again.
    let last = base + defined - 1;
    nvwrite(&sim, last, &[0xab; 1024], 1024);
    assert_eq!(nvread(&sim, last, 1024, 1024), [0xab; 1024]);
    sim.tpm2(&["nvundefine", &idx(last), "-C", "o"]);
    sim.tpm2(&[
        "nvdefine",
        &idx(last),
        "-C",
        "o",
        "-s",
        "2048",
        "-a",
        "ownerread|ownerwrite",
    ]);
    for j in 0..defined {
        sim.tpm2(&["nvundefine", &idx(base + j), "-C", "o"]);
    }
    intact("emptying NV");
}
per_transport!(bad_input, bad_input_mssim, bad_input_swtpm, bad_input_abrmd);

// ---------------------------------------------------------------- policies

/// H(old || TPM_CC_PolicyCommandCode || code) (Part 3, 23.11).
fn policy_cc(old: &[u8], code: u32) -> Vec<u8> {
    sha256(&[
        old,
        &CC_POLICY_COMMAND_CODE.to_be_bytes(),
        &code.to_be_bytes(),
    ])
}

/// H(old || TPM_CC_PolicyAuthValue) (Part 3, 23.17).
fn policy_auth_value(old: &[u8]) -> Vec<u8> {
    sha256(&[old, &CC_POLICY_AUTH_VALUE.to_be_bytes()])
}

/// `tpm2 <args>` in a trial session; returns the digest it wrote to
/// `file` (`-L file` must be among the args of the last step).
fn trial(sim: &Sim, steps: &[&[&str]], file: &str) -> Vec<u8> {
    sim.tpm2(&["startauthsession", "-S", "trial.ctx"]);
    for s in steps {
        let mut args = s.to_vec();
        args.extend_from_slice(&["-S", "trial.ctx"]);
        sim.tpm2(&args);
    }
    sim.tpm2(&["flushcontext", "trial.ctx"]);
    read(sim, file)
}

/// Runs `steps` in a new policy session `sess.ctx`.
fn policy_session(sim: &Sim, steps: &[&[&str]]) {
    sim.tpm2(&["startauthsession", "--policy-session", "-S", "sess.ctx"]);
    for s in steps {
        let mut args = s.to_vec();
        args.extend_from_slice(&["-S", "sess.ctx"]);
        sim.tpm2(&args);
    }
}

/// Flushes `sess.ctx` (it may be gone already after a failed command).
fn end_session(sim: &Sim) {
    let _ = sim.tpm2_raw(&["flushcontext", "sess.ctx"]);
    // And every transient object (without a resource manager the tools
    // leave objects loaded from context files loaded).
    sim.tpm2(&["flushcontext", "-t"]);
}

/// An index with an authPolicy: written, read and its auth changed under
/// PolicyCommandCode/PolicyAuthValue branches of a PolicyOR; and
/// TPM2_PolicyNV gating the unseal of a sealed object.
fn policies(tcti: Tcti) {
    let sim = started(tcti);
    let zero = [0u8; 32];
    // Three branches: write (with the index auth value), read, change auth.
    let w = policy_auth_value(&policy_cc(&zero, CC_NV_WRITE));
    let r = policy_cc(&zero, CC_NV_READ);
    let c = policy_cc(&zero, CC_NV_CHANGE_AUTH);
    let or = sha256(&[&zero, &CC_POLICY_OR.to_be_bytes(), &w, &r, &c]);
    let tw = trial(
        &sim,
        &[
            &["policycommandcode", "TPM2_CC_NV_Write"],
            &["policyauthvalue", "-L", "w.dig"],
        ],
        "w.dig",
    );
    assert_eq!(
        hex(&tw),
        hex(&w),
        "PolicyCommandCode(NV_Write) + PolicyAuthValue"
    );
    let tr = trial(
        &sim,
        &[&["policycommandcode", "TPM2_CC_NV_Read", "-L", "r.dig"]],
        "r.dig",
    );
    assert_eq!(hex(&tr), hex(&r), "PolicyCommandCode(NV_Read)");
    let tc = trial(
        &sim,
        &[&["policycommandcode", "TPM2_CC_NV_ChangeAuth", "-L", "c.dig"]],
        "c.dig",
    );
    assert_eq!(hex(&tc), hex(&c), "PolicyCommandCode(NV_ChangeAuth)");
    let branches = "sha256:w.dig,r.dig,c.dig";
    let tor = trial(
        &sim,
        &[&["policyor", "-l", branches, "-L", "or.dig"]],
        "or.dig",
    );
    assert_eq!(hex(&tor), hex(&or), "PolicyOR of the three branches");

    let i = 0x0150_0040;
    let attrs = "policyread|policywrite|authread|no_da";
    sim.tpm2(&[
        "nvdefine",
        &idx(i),
        "-C",
        "o",
        "-s",
        "16",
        "-a",
        attrs,
        "-p",
        "idxpw",
        "-L",
        "or.dig",
    ]);
    let p0 = nvreadpublic(&sim, i);
    assert_eq!(hex(&p0.policy), hex(&or), "authPolicy reported");
    assert_eq!(p0.attributes, nv_bits(attrs));

    // Write under the write branch, with the index auth value in the
    // session's HMAC.
    write(&sim, "data.bin", b"policy-written!!");
    policy_session(
        &sim,
        &[
            &["policycommandcode", "TPM2_CC_NV_Write"],
            &["policyauthvalue"],
            &["policyor", "-l", branches],
        ],
    );
    sim.tpm2(&[
        "nvwrite",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "session:sess.ctx+idxpw",
        "-i",
        "data.bin",
    ]);
    end_session(&sim);
    // The same branch with a wrong auth value: TPM_RC_BAD_AUTH (noDA) on
    // session 1.
    policy_session(
        &sim,
        &[
            &["policycommandcode", "TPM2_CC_NV_Write"],
            &["policyauthvalue"],
            &["policyor", "-l", branches],
        ],
    );
    let err = sim.tpm2_fails(&[
        "nvwrite",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "session:sess.ctx+wrong",
        "-i",
        "data.bin",
    ]);
    assert_rc(&err, 0x9a2, "policy write with a wrong auth value");
    end_session(&sim);
    // Read under the read branch.
    policy_session(
        &sim,
        &[
            &["policycommandcode", "TPM2_CC_NV_Read"],
            &["policyor", "-l", branches],
        ],
    );
    sim.tpm2(&[
        "nvread",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "session:sess.ctx",
        "-s",
        "16",
        "-o",
        "r.bin",
    ]);
    assert_eq!(read(&sim, "r.bin"), b"policy-written!!");
    end_session(&sim);
    // Reading with the write branch: TPM_RC_POLICY_CC (0x0A4) on session 1.
    policy_session(
        &sim,
        &[
            &["policycommandcode", "TPM2_CC_NV_Write"],
            &["policyauthvalue"],
            &["policyor", "-l", branches],
        ],
    );
    let err = sim.tpm2_fails(&[
        "nvread",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "session:sess.ctx+idxpw",
        "-s",
        "16",
    ]);
    assert_rc(&err, 0x9a4, "read under the write branch");
    end_session(&sim);
    // AUTHREAD: the auth value alone reads; AUTHWRITE is clear, so it
    // does not write: TPM_RC_AUTH_UNAVAILABLE (0x12F).
    sim.tpm2(&[
        "nvread",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "idxpw",
        "-s",
        "16",
        "-o",
        "r2.bin",
    ]);
    assert_eq!(read(&sim, "r2.bin"), b"policy-written!!");
    let err = sim.tpm2_fails(&[
        "nvwrite",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "idxpw",
        "-i",
        "data.bin",
    ]);
    assert_rc(&err, 0x12f, "password write without AUTHWRITE");

    // TPM2_NV_ChangeAuth needs the ADMIN role, which for an NV index is
    // a policy session (the change-auth branch), never the auth value:
    // TPM_RC_AUTH_TYPE (0x124).
    let before = nvreadpublic(&sim, i);
    let err = sim.tpm2_fails(&["changeauth", "-c", &idx(i), "-p", "idxpw", "newpw"]);
    assert_rc(&err, 0x124, "nvchangeauth with the auth value");
    policy_session(
        &sim,
        &[
            &["policycommandcode", "TPM2_CC_NV_ChangeAuth"],
            &["policyor", "-l", branches],
        ],
    );
    sim.tpm2(&[
        "changeauth",
        "-c",
        &idx(i),
        "-p",
        "session:sess.ctx",
        "newpw",
    ]);
    end_session(&sim);
    let p1 = nvreadpublic(&sim, i);
    assert_eq!(
        p1, before,
        "the auth value is not part of the public area or Name"
    );
    assert_eq!(
        p1.attributes,
        p0.attributes | WRITTEN,
        "changeauth changed the attributes"
    );
    sim.tpm2(&[
        "nvread",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "newpw",
        "-s",
        "16",
        "-o",
        "r3.bin",
    ]);
    assert_eq!(read(&sim, "r3.bin"), b"policy-written!!");
    let err = sim.tpm2_fails(&["nvread", &idx(i), "-C", &idx(i), "-P", "idxpw", "-s", "16"]);
    assert_rc(&err, 0x9a2, "old index auth after nvchangeauth");
    write(&sim, "data2.bin", b"written by newpw");
    policy_session(
        &sim,
        &[
            &["policycommandcode", "TPM2_CC_NV_Write"],
            &["policyauthvalue"],
            &["policyor", "-l", branches],
        ],
    );
    sim.tpm2(&[
        "nvwrite",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "session:sess.ctx+newpw",
        "-i",
        "data2.bin",
    ]);
    end_session(&sim);
    sim.tpm2(&[
        "nvread",
        &idx(i),
        "-C",
        &idx(i),
        "-P",
        "newpw",
        "-s",
        "16",
        "-o",
        "r4.bin",
    ]);
    assert_eq!(read(&sim, "r4.bin"), b"written by newpw");

    // TPM2_PolicyNV: a sealed object that unseals while the index holds 7.
    let n = 0x0150_0041;
    sim.tpm2(&[
        "nvdefine",
        &idx(n),
        "-C",
        "o",
        "-s",
        "8",
        "-a",
        "ownerread|ownerwrite",
    ]);
    write(&sim, "seven.bin", &7u64.to_be_bytes());
    // PolicyNV of an unwritten index in a policy session (a trial
    // session does not look at the index contents):
    // TPM_RC_NV_UNINITIALIZED.
    policy_session(&sim, &[]);
    let err = sim.tpm2_fails(&[
        "policynv",
        "-S",
        "sess.ctx",
        "-C",
        "o",
        "-i",
        "seven.bin",
        &idx(n),
        "eq",
    ]);
    assert_rc(&err, 0x14a, "PolicyNV of an unwritten index");
    end_session(&sim);
    nvwrite(&sim, n, &7u64.to_be_bytes(), 0);
    let nv_name = nvreadpublic(&sim, n).name;
    let tnv = trial(
        &sim,
        &[&[
            "policynv",
            "-C",
            "o",
            "-i",
            "seven.bin",
            &idx(n),
            "eq",
            "-L",
            "nv.dig",
        ]],
        "nv.dig",
    );
    // H(old || TPM_CC_PolicyNV || H(operandB || offset || operation) ||
    // nvIndex->Name), TPM_EO_EQ = 0 (Part 3, 23.9).
    let args = sha256(&[
        &7u64.to_be_bytes(),
        &0u16.to_be_bytes(),
        &0u16.to_be_bytes(),
    ]);
    let want = sha256(&[&zero, &CC_POLICY_NV.to_be_bytes(), &args, &nv_name]);
    assert_eq!(hex(&tnv), hex(&want), "PolicyNV digest");
    sim.tpm2(&["createprimary", "-C", "o", "-G", "ecc256", "-c", "prim.ctx"]);
    write(&sim, "secret.bin", b"released by PolicyNV");
    sim.tpm2(&[
        "create",
        "-C",
        "prim.ctx",
        "-i",
        "secret.bin",
        "-L",
        "nv.dig",
        "-a",
        "fixedtpm|fixedparent",
        "-u",
        "s.pub",
        "-r",
        "s.priv",
    ]);
    sim.tpm2(&["flushcontext", "-t"]);
    sim.tpm2(&[
        "load",
        "-C",
        "prim.ctx",
        "-u",
        "s.pub",
        "-r",
        "s.priv",
        "-c",
        "sealed.ctx",
    ]);
    sim.tpm2(&["flushcontext", "-t"]);
    policy_session(
        &sim,
        &[&["policynv", "-C", "o", "-i", "seven.bin", &idx(n), "eq"]],
    );
    sim.tpm2(&[
        "unseal",
        "-c",
        "sealed.ctx",
        "-p",
        "session:sess.ctx",
        "-o",
        "out.bin",
    ]);
    assert_eq!(read(&sim, "out.bin"), b"released by PolicyNV");
    end_session(&sim);
    // Without the policy: userWithAuth is clear, so a password does not
    // unseal (TPM_RC_AUTH_UNAVAILABLE).
    let err = sim.tpm2_fails(&["unseal", "-c", "sealed.ctx"]);
    assert_rc(
        &err,
        0x12f,
        "unseal of a policy-only object with a password",
    );
    sim.tpm2(&["flushcontext", "-t"]);
    // The index moves on to 8: PolicyNV eq 7 fails with TPM_RC_POLICY
    // (0x126); ugt 7 holds but gives another digest, so the unseal fails
    // with TPM_RC_POLICY_FAIL (0x09D) on session 1.
    nvwrite(&sim, n, &8u64.to_be_bytes(), 0);
    policy_session(&sim, &[]);
    let err = sim.tpm2_fails(&[
        "policynv",
        "-S",
        "sess.ctx",
        "-C",
        "o",
        "-i",
        "seven.bin",
        &idx(n),
        "eq",
    ]);
    assert_rc(&err, 0x126, "PolicyNV eq after the index changed");
    end_session(&sim);
    policy_session(
        &sim,
        &[&["policynv", "-C", "o", "-i", "seven.bin", &idx(n), "ugt"]],
    );
    let err = sim.tpm2_fails(&[
        "unseal",
        "-c",
        "sealed.ctx",
        "-p",
        "session:sess.ctx",
        "-o",
        "bad.bin",
    ]);
    assert_rc(&err, 0x99d, "unseal under another PolicyNV");
    end_session(&sim);
    // Back to 7: it unseals again.
    nvwrite(&sim, n, &7u64.to_be_bytes(), 0);
    policy_session(
        &sim,
        &[&["policynv", "-C", "o", "-i", "seven.bin", &idx(n), "eq"]],
    );
    sim.tpm2(&[
        "unseal",
        "-c",
        "sealed.ctx",
        "-p",
        "session:sess.ctx",
        "-o",
        "out2.bin",
    ]);
    assert_eq!(read(&sim, "out2.bin"), b"released by PolicyNV");
    end_session(&sim);

    // TPMA_NV_POLICY_DELETE: only TPM2_NV_UndefineSpaceSpecial under the
    // index's policy deletes it (Part 3, 31.3-31.5).
    let d = 0x0150_0042;
    let del = policy_cc(&zero, CC_NV_UNDEFINE_SPACE_SPECIAL);
    let tdel = trial(
        &sim,
        &[&[
            "policycommandcode",
            "TPM2_CC_NV_UndefineSpaceSpecial",
            "-L",
            "del.dig",
        ]],
        "del.dig",
    );
    assert_eq!(
        hex(&tdel),
        hex(&del),
        "PolicyCommandCode(NV_UndefineSpaceSpecial)"
    );
    // Only the platform may define such an index: TPM_RC_ATTRIBUTES on
    // parameter 2 for the owner.
    let err = sim.tpm2_fails(&[
        "nvdefine",
        &idx(d),
        "-C",
        "o",
        "-s",
        "8",
        "-a",
        "ownerread|ownerwrite|policydelete",
        "-L",
        "del.dig",
    ]);
    assert_rc(&err, 0x2c2, "POLICY_DELETE index defined by the owner");
    let dattrs = "ppread|ppwrite|platformcreate|policydelete";
    sim.tpm2(&[
        "nvdefine",
        &idx(d),
        "-C",
        "p",
        "-s",
        "8",
        "-a",
        dattrs,
        "-L",
        "del.dig",
    ]);
    let dp = nvreadpublic(&sim, d);
    assert_eq!(dp.attributes, nv_bits(dattrs));
    assert_ne!(dp.attributes & POLICY_DELETE, 0);
    assert_eq!(hex(&dp.policy), hex(&del));
    // TPM2_NV_UndefineSpace (sent raw: the tools pick the special command
    // by themselves): TPM_RC_ATTRIBUTES on handle 2 = 0x282.
    assert_eq!(
        send_pw(&sim, CC_NV_UNDEFINE_SPACE, &[0x4000_000c, d], &[]),
        0x282
    );
    assert!(nv_indices(&sim).contains(&u64::from(d)));
    policy_session(
        &sim,
        &[&["policycommandcode", "TPM2_CC_NV_UndefineSpaceSpecial"]],
    );
    sim.tpm2(&["nvundefine", &idx(d), "-C", "p", "-S", "sess.ctx"]);
    end_session(&sim);
    assert!(
        !nv_indices(&sim).contains(&u64::from(d)),
        "index still defined"
    );
}
per_transport!(policies, policies_mssim, policies_swtpm, policies_abrmd);
