//! The property the `execute` fuzz target checks, shared with the corpus
//! replay test (`tests/tests/fuzz_replay.rs`) so both check the same thing.
//!
//! An input is a sequence of TPM commands run on a freshly manufactured and
//! started TPM ([`vtpm_core::testing::started_tpm`]). It is split by the
//! commands' own size fields: while the rest of the input starts with a
//! 10-byte header whose size field `s` satisfies `10 <= s <= rest`, the
//! first `s` bytes are one command; whatever is left (malformed header,
//! size too large or too small, trailing garbage) is sent as one last
//! command. So a single well-formed command is exactly one `execute`, and
//! concatenations reach the engine's state machine (extend then read,
//! shutdown then startup...).
//!
//! Every response must be well formed: at least 10 bytes, a tag of
//! `TPM_ST_NO_SESSIONS` or `TPM_ST_SESSIONS`, and a size field equal to
//! its length; an error response is exactly the 10-byte header with
//! `TPM_ST_NO_SESSIONS` (Part 1, 18.2 and Part 3, 5). The engine must not
//! panic on any input: a panic is a crash for the fuzzer and a failure for
//! the replay test.

use vtpm_core::testing::{started_tpm, TestPlatform};
use vtpm_core::Tpm;

/// The entropy seed of the TPM the fuzz target drives.
pub const SEED: u64 = 0x5EED_F022;

/// At most this many commands are taken from one input.
pub const MAX_COMMANDS: usize = 16;

/// Split an input into commands (see the module documentation).
pub fn split_commands(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !data.is_empty() {
        if out.len() + 1 == MAX_COMMANDS {
            out.push(data);
            break;
        }
        let size = data
            .get(2..6)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize);
        match size {
            Some(s) if (10..=data.len()).contains(&s) => {
                let (cmd, rest) = data.split_at(s);
                out.push(cmd);
                data = rest;
            }
            _ => {
                out.push(data);
                break;
            }
        }
    }
    if out.is_empty() {
        out.push(data);
    }
    out
}

/// Check one response; `Err` describes what is wrong.
pub fn check_response(rsp: &[u8]) -> Result<(), String> {
    if rsp.len() < 10 {
        return Err(format!("response shorter than 10 bytes: {rsp:02x?}"));
    }
    let tag = u16::from_be_bytes([rsp[0], rsp[1]]);
    let size = u32::from_be_bytes([rsp[2], rsp[3], rsp[4], rsp[5]]) as usize;
    let rc = u32::from_be_bytes([rsp[6], rsp[7], rsp[8], rsp[9]]);
    if tag != 0x8001 && tag != 0x8002 {
        return Err(format!("bad response tag {tag:#06x}"));
    }
    if size != rsp.len() {
        return Err(format!(
            "response size field {size} != length {}",
            rsp.len()
        ));
    }
    if rc != 0 && (rsp.len() != 10 || tag != 0x8001) {
        return Err(format!(
            "error response rc={rc:#x} is not a bare 10-byte TPM_ST_NO_SESSIONS header: {rsp:02x?}"
        ));
    }
    Ok(())
}

/// A started TPM for the fuzz target.
pub fn fresh_tpm() -> Tpm<TestPlatform> {
    match started_tpm(SEED) {
        Some(t) => t,
        None => panic!("vtpm_core::testing::started_tpm failed: the engine cannot start"),
    }
}

/// Whether a command would generate an RSA key: TPM2_CreatePrimary,
/// TPM2_Create or TPM2_CreateLoaded whose inPublic has type `TPM_ALG_RSA`
/// (looked for with and without an authorization area; a false positive
/// only skips a command). The fuzz targets do not run these: under the
/// fuzzer's instrumentation (AddressSanitizer and comparison tracing in
/// the big-integer code) one 2048-bit prime search takes about 2 s of CPU,
/// and on a loaded machine an input with one or two of them passes
/// libFuzzer's 10 s timeout. RSA key generation is tested by the
/// vtpm-core tests (`primary_kat`, `objects`) and the differential tests.
pub fn generates_rsa_key(cmd: &[u8]) -> bool {
    if !matches!(be32(cmd, 6), Some(0x131 | 0x153 | 0x191)) {
        return false;
    }
    let mut starts = vec![14usize];
    if let Some(n) = be32(cmd, 14) {
        starts.push(18usize.saturating_add(n as usize));
    }
    starts.into_iter().any(|p| {
        // inSensitive (a TPM2B), then inPublic: size, then its type.
        let Some(n) = be16(cmd, p) else { return false };
        let q = p + 2 + usize::from(n);
        be16(cmd, q + 2) == Some(0x0001)
    })
}

/// Run one fuzz input on `tpm`; `Err` describes the first bad response.
/// Commands that would generate an RSA key are skipped
/// ([`generates_rsa_key`]).
pub fn run_input(tpm: &mut Tpm<TestPlatform>, data: &[u8]) -> Result<(), String> {
    for (i, cmd) in split_commands(data).into_iter().enumerate() {
        if generates_rsa_key(cmd) {
            continue;
        }
        let rsp = tpm.execute(0, cmd);
        check_response(&rsp).map_err(|e| format!("command #{i} ({cmd:02x?}): {e}"))?;
    }
    Ok(())
}

/// The property of the `state_blob` fuzz target: arbitrary bytes offered as
/// a sealed state blob (and as both A/B slots) under a known key are refused
/// cleanly or open to a state that parses; never a panic. The input's
/// first octet chooses how it is presented.
pub fn blob_input(data: &[u8]) -> Result<(), String> {
    use vtpm_core::state::blob::{open, seal, SealingKey};
    use vtpm_core::state::slots::choose;
    use vtpm_core::state::PersistentState;
    let key = SealingKey::new([0x42; 32]);
    let (mode, rest) = data.split_first().map_or((0, data), |(m, r)| (*m, r));
    match mode % 3 {
        // Raw bytes as a blob.
        0 => {
            if let Ok((_, pt)) = open(&key, rest) {
                let _ = PersistentState::from_bytes(&pt);
            }
        }
        // A genuine seal of arbitrary plaintext: it must open, and the
        // state loader must refuse or accept it without panicking.
        1 => {
            let blob = seal(&key, 1, &[7; 12], rest).map_err(|e| format!("seal failed: {e}"))?;
            let (_, pt) = open(&key, &blob).map_err(|e| format!("own seal did not open: {e}"))?;
            if pt.as_slice() != rest {
                return Err("plaintext changed in a seal/open round trip".into());
            }
            let _ = PersistentState::from_bytes(&pt);
        }
        // Split into two slots.
        _ => {
            let cut = usize::from(rest.first().copied().unwrap_or(0)).min(rest.len());
            let (a, b) = rest.split_at(cut);
            if let Ok(c) = choose(Some(a), Some(b), &key, Some(1)) {
                let _ = PersistentState::from_bytes(&c.plaintext);
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------ stateful ---

/// Handles the `stateful` target's prelude creates (the engine is
/// deterministic, so these are the same in every run; inputs and seeds
/// refer to them by value).
pub mod prelude_handles {
    /// An ECC P-256 storage primary under the owner hierarchy, made
    /// persistent.
    pub const PRIMARY: u32 = 0x8100_0001;
    /// An ECC P-256 ECDSA signing key, child of [`PRIMARY`], loaded.
    pub const SIGNING_KEY: u32 = 0x8000_0000;
    /// A sealed data object, child of [`PRIMARY`], loaded.
    pub const SEALED: u32 = 0x8000_0001;
    /// An ordinary 32-octet NV index (owner and auth read/write, written).
    pub const NV_ORDINARY: u32 = 0x0150_0016;
    /// An NV counter (owner and auth read/write, incremented once).
    pub const NV_COUNTER: u32 = 0x0150_0017;
    /// An unsalted, unbound HMAC session (SHA-256, AES-128-CFB for
    /// parameter encryption); the harness computes its HMACs.
    pub const HMAC_SESSION: u32 = 0x0200_0000;
    /// A policy session (SHA-256).
    pub const POLICY_SESSION: u32 = 0x0300_0001;
}

/// An HMAC session whose HMACs the harness can compute: unsalted and
/// unbound, so its sessionKey is empty (Part 1, 19.6.8) and the HMAC key
/// is the entity's authValue, which the prelude leaves empty.
#[derive(Debug, Clone)]
pub struct TrackedSession {
    /// Session handle.
    pub handle: u32,
    /// `authHash`.
    pub alg: vtpm_core::crypto::HashAlg,
    /// The last nonceTPM.
    pub nonce_tpm: Vec<u8>,
}

/// The engine of the `stateful` target with the sessions it tracks.
pub struct Stateful {
    /// The TPM.
    pub tpm: Tpm<TestPlatform>,
    /// HMAC sessions whose HMACs the harness fills in.
    pub sessions: Vec<TrackedSession>,
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// A command: tag, handles, optional password authorizations, parameters.
fn build_command(cc: u32, handles: &[u32], pw_auths: usize, params: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&(if pw_auths > 0 { 0x8002u16 } else { 0x8001 }).to_be_bytes());
    v.extend_from_slice(&[0; 4]);
    v.extend_from_slice(&cc.to_be_bytes());
    for h in handles {
        v.extend_from_slice(&h.to_be_bytes());
    }
    if pw_auths > 0 {
        // TPM_RS_PW, empty nonce, continueSession, empty password.
        let one = [0x40, 0, 0, 9, 0, 0, 1, 0, 0];
        v.extend_from_slice(&((one.len() * pw_auths) as u32).to_be_bytes());
        for _ in 0..pw_auths {
            v.extend_from_slice(&one);
        }
    }
    v.extend_from_slice(params);
    let n = (v.len() as u32).to_be_bytes();
    v[2..6].copy_from_slice(&n);
    v
}

fn sized2(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

/// Run a prelude command; it must succeed. Returns the response.
fn prelude_run(tpm: &mut Tpm<TestPlatform>, what: &str, cmd: &[u8]) -> Vec<u8> {
    let rsp = tpm.execute(0, cmd);
    if be32(&rsp, 6) != Some(0) {
        panic!("stateful prelude: {what} failed: {rsp:02x?}");
    }
    rsp
}

/// Parameters of a successful response (after the handle, if any, and the
/// parameterSize of a response with sessions).
fn response_params(rsp: &[u8], r_handle: bool) -> &[u8] {
    let mut at = 10 + if r_handle { 4 } else { 0 };
    if be16(rsp, 0) == Some(0x8002) {
        let n = be32(rsp, at).unwrap_or(0) as usize;
        at += 4;
        return rsp.get(at..at.saturating_add(n)).unwrap_or_default();
    }
    rsp.get(at..).unwrap_or_default()
}

/// TPM2_StartAuthSession without tpmKey and bind: returns the response.
fn start_session(tpm: &mut Tpm<TestPlatform>, kind: u8, sym: &[u8]) -> Vec<u8> {
    let mut p = sized2(&[0x11; 16]); // nonceCaller
    p.extend_from_slice(&[0, 0]); // encryptedSalt
    p.push(kind);
    p.extend_from_slice(sym);
    p.extend_from_slice(&0x000Bu16.to_be_bytes()); // SHA-256
    prelude_run(
        tpm,
        "StartAuthSession",
        &build_command(0x176, &[0x4000_0007, 0x4000_0007], 0, &p),
    )
}

/// `TPMT_PUBLIC` of an ECC P-256 storage key, SHA-256.
const ECC_STORAGE: &[u8] = &[
    0x00, 0x23, 0x00, 0x0B, 0x00, 0x03, 0x00, 0x72, 0, 0, 0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00,
    0x10, 0x00, 0x03, 0x00, 0x10, 0, 0, 0, 0,
];
/// `TPMT_PUBLIC` of an ECC P-256 ECDSA-SHA256 signing key.
const ECC_SIGNING: &[u8] = &[
    0x00, 0x23, 0x00, 0x0B, 0x00, 0x04, 0x00, 0x72, 0, 0, 0x00, 0x10, 0x00, 0x18, 0x00, 0x0B, 0x00,
    0x03, 0x00, 0x10, 0, 0, 0, 0,
];
/// `TPMT_PUBLIC` of a sealed data object.
const SEALED: &[u8] = &[
    0x00, 0x08, 0x00, 0x0B, 0x00, 0x00, 0x00, 0x52, 0, 0, 0x00, 0x10, 0, 0,
];

/// What the prelude makes once per process: the persistent state (the
/// primary made persistent, the NV indices written) and the children's
/// TPM2B_PRIVATE || TPM2B_PUBLIC, loaded anew for each input (key
/// generation is slow under the fuzzer's instrumentation; loading is not).
struct PreludeState {
    state: Vec<u8>,
    children: Vec<Vec<u8>>,
}

fn prelude_state() -> &'static PreludeState {
    static CELL: std::sync::OnceLock<PreludeState> = std::sync::OnceLock::new();
    CELL.get_or_init(make_prelude_state)
}

fn make_prelude_state() -> PreludeState {
    use prelude_handles as ph;
    let mut tpm = fresh_tpm();
    // TPM2_CreatePrimary(owner): inSensitive (empty auth and data),
    // inPublic, outsideInfo, creationPCR.
    let mut p = sized2(&[0, 0, 0, 0]);
    p.extend_from_slice(&sized2(ECC_STORAGE));
    p.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let rsp = prelude_run(
        &mut tpm,
        "CreatePrimary",
        &build_command(0x131, &[0x4000_0001], 1, &p),
    );
    let primary = be32(&rsp, 10).unwrap_or(0);
    // TPM2_EvictControl(owner, primary, PRIMARY).
    prelude_run(
        &mut tpm,
        "EvictControl",
        &build_command(
            0x120,
            &[0x4000_0001, primary],
            1,
            &ph::PRIMARY.to_be_bytes(),
        ),
    );
    // TPM2_Create of the children.
    let mut children = Vec::new();
    for (what, template, data) in [
        ("signing key", ECC_SIGNING, &b""[..]),
        ("sealed object", SEALED, &b"sealed secret"[..]),
    ] {
        let mut inner = sized2(b"");
        inner.extend_from_slice(&sized2(data));
        let mut p = sized2(&inner);
        p.extend_from_slice(&sized2(template));
        p.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let rsp = prelude_run(&mut tpm, what, &build_command(0x153, &[ph::PRIMARY], 1, &p));
        let params = response_params(&rsp, false);
        let priv_len = be16(params, 0).unwrap_or(0) as usize;
        let pub_len = be16(params, 2 + priv_len).unwrap_or(0) as usize;
        children.push(
            params
                .get(..4 + priv_len + pub_len)
                .unwrap_or_default()
                .to_vec(),
        );
    }
    // TPM2_NV_DefineSpace: ownerwrite|authwrite|ownerread|authread
    // (0x00060006), counter type for the second.
    for (index, attrs, size) in [
        (ph::NV_ORDINARY, 0x0006_0006u32, 32u16),
        (ph::NV_COUNTER, 0x0006_0016, 8),
    ] {
        let mut nvp = index.to_be_bytes().to_vec();
        nvp.extend_from_slice(&0x000Bu16.to_be_bytes());
        nvp.extend_from_slice(&attrs.to_be_bytes());
        nvp.extend_from_slice(&[0, 0]);
        nvp.extend_from_slice(&size.to_be_bytes());
        let mut p = sized2(b"");
        p.extend_from_slice(&sized2(&nvp));
        prelude_run(
            &mut tpm,
            "NV_DefineSpace",
            &build_command(0x12A, &[0x4000_0001], 1, &p),
        );
    }
    let mut p = sized2(&[0x5A; 32]);
    p.extend_from_slice(&[0, 0]);
    prelude_run(
        &mut tpm,
        "NV_Write",
        &build_command(0x137, &[ph::NV_ORDINARY, ph::NV_ORDINARY], 1, &p),
    );
    prelude_run(
        &mut tpm,
        "NV_Increment",
        &build_command(0x134, &[ph::NV_COUNTER, ph::NV_COUNTER], 1, &[]),
    );
    let state = match tpm.serialize_state() {
        Some(s) => s,
        None => panic!("stateful prelude: the state does not serialize"),
    };
    PreludeState { state, children }
}

/// The `stateful` target's engine after its prelude (see
/// [`prelude_handles`]): the prelude's persistent state loaded, Startup,
/// the children loaded, an HMAC and a policy session started.
pub fn stateful_tpm() -> Stateful {
    use prelude_handles as ph;
    let pre = prelude_state();
    let mut tpm = match Tpm::load(
        TestPlatform::new(SEED),
        vtpm_core::Config::default(),
        &pre.state,
    ) {
        Ok(t) => t,
        Err(e) => panic!("stateful prelude: the state does not load: {e}"),
    };
    tpm.power_on();
    prelude_run(&mut tpm, "Startup", &vtpm_core::testing::STARTUP_CLEAR);
    for (blobs, want) in pre.children.iter().zip([ph::SIGNING_KEY, ph::SEALED]) {
        let rsp = prelude_run(
            &mut tpm,
            "Load",
            &build_command(0x157, &[ph::PRIMARY], 1, blobs),
        );
        assert_eq!(be32(&rsp, 10), Some(want), "loaded child handle");
    }
    // Sessions: HMAC with AES-128-CFB, then policy without symmetric.
    let rsp = start_session(&mut tpm, 0, &[0x00, 0x06, 0x00, 0x80, 0x00, 0x43]);
    assert_eq!(
        be32(&rsp, 10),
        Some(ph::HMAC_SESSION),
        "HMAC session handle"
    );
    let nonce = response_params(&rsp, true);
    let n = be16(nonce, 0).unwrap_or(0) as usize;
    let nonce_tpm = nonce.get(2..2 + n).unwrap_or_default().to_vec();
    let rsp = start_session(&mut tpm, 1, &[0x00, 0x10]);
    assert_eq!(
        be32(&rsp, 10),
        Some(ph::POLICY_SESSION),
        "policy session handle"
    );
    Stateful {
        tpm,
        sessions: vec![TrackedSession {
            handle: ph::HMAC_SESSION,
            alg: vtpm_core::crypto::HashAlg::Sha256,
            nonce_tpm,
        }],
    }
}

/// One session of a command's authorization area.
struct AuthEntry {
    handle: u32,
    nonce_caller: std::ops::Range<usize>,
    attrs: u8,
    hmac: std::ops::Range<usize>,
}

/// The authorization area of a command and where its parameters start;
/// `None` when the command has no sessions or is malformed.
fn parse_auth_area(cmd: &[u8], n_handles: usize) -> Option<(Vec<AuthEntry>, usize)> {
    if be16(cmd, 0)? != 0x8002 {
        return None;
    }
    let at = 10 + 4 * n_handles;
    let size = be32(cmd, at)? as usize;
    let start = at + 4;
    let end = start.checked_add(size)?;
    if end > cmd.len() {
        return None;
    }
    let mut out = Vec::new();
    let mut p = start;
    while p < end {
        let handle = be32(cmd, p)?;
        let nn = be16(cmd, p + 4)? as usize;
        let nonce_caller = p + 6..p + 6 + nn;
        let attrs = *cmd.get(nonce_caller.end)?;
        let hn = be16(cmd, nonce_caller.end + 1)? as usize;
        let hmac = nonce_caller.end + 3..nonce_caller.end + 3 + hn;
        if hmac.end > end {
            return None;
        }
        p = hmac.end;
        out.push(AuthEntry {
            handle,
            nonce_caller,
            attrs,
            hmac,
        });
    }
    Some((out, end))
}

impl Stateful {
    /// Fill in the HMACs of the tracked sessions in `cmd` (in place: an
    /// HMAC field of the digest's size is overwritten; other sizes are left
    /// for the engine to refuse). Part 1, 19.6.5: cpHash over the command
    /// code, the Names of the handles and the parameters as sent; the HMAC
    /// over cpHash, nonceCaller, nonceTPM and the session attributes.
    fn sign(&mut self, cmd: &mut [u8]) {
        use vtpm_core::wire::CommandCode;
        let Some(cc) = be32(cmd, 6) else { return };
        let Some(def) = vtpm_core::commands::lookup(CommandCode(cc)) else {
            return;
        };
        let Some((entries, params_at)) = parse_auth_area(cmd, def.handles.len()) else {
            return;
        };
        let mut cp_parts: Vec<Vec<u8>> = vec![cc.to_be_bytes().to_vec()];
        for i in 0..def.handles.len() {
            let h = be32(cmd, 10 + 4 * i).unwrap_or(0);
            cp_parts.push(self.name_of(h));
        }
        cp_parts.push(cmd.get(params_at..).unwrap_or_default().to_vec());
        for e in entries {
            let Some(s) = self.sessions.iter().find(|s| s.handle == e.handle) else {
                continue;
            };
            if e.hmac.len() != s.alg.digest_size() {
                continue;
            }
            let parts: Vec<&[u8]> = cp_parts.iter().map(Vec::as_slice).collect();
            let cp_hash = s.alg.digest_parts(&parts);
            let nonce_caller = cmd.get(e.nonce_caller.clone()).unwrap_or_default().to_vec();
            let mac = vtpm_core::crypto::hmac::hmac(
                s.alg,
                &[],
                &[&cp_hash, &nonce_caller, &s.nonce_tpm, &[e.attrs]],
            );
            if let Some(dst) = cmd.get_mut(e.hmac.clone()) {
                dst.copy_from_slice(&mac);
            }
        }
    }

    /// The Name of an entity (Part 1, 16): asked of the engine with
    /// TPM2_ReadPublic or TPM2_NV_ReadPublic; the handle for the others
    /// (and for entities those refuse).
    fn name_of(&mut self, h: u32) -> Vec<u8> {
        let (cc, skip_first) = match h >> 24 {
            0x80 | 0x81 => (0x173, true),
            0x01 => (0x169, true),
            _ => return h.to_be_bytes().to_vec(),
        };
        let rsp = self.tpm.execute(0, &build_command(cc, &[h], 0, &[]));
        if be32(&rsp, 6) != Some(0) {
            return h.to_be_bytes().to_vec();
        }
        // outPublic / nvPublic, then the Name.
        let params = response_params(&rsp, false);
        let mut p = 0;
        if skip_first {
            p = 2 + be16(params, 0).unwrap_or(0) as usize;
        }
        let n = be16(params, p).unwrap_or(0) as usize;
        params.get(p + 2..p + 2 + n).unwrap_or_default().to_vec()
    }

    /// Learn from a response: the new nonceTPM of every session of the
    /// command, and new unbound unsalted HMAC sessions.
    fn learn(&mut self, cmd: &[u8], rsp: &[u8]) {
        use vtpm_core::wire::CommandCode;
        if be32(rsp, 6) != Some(0) {
            return;
        }
        let Some(cc) = be32(cmd, 6) else { return };
        let Some(def) = vtpm_core::commands::lookup(CommandCode(cc)) else {
            return;
        };
        if cc == 0x176 {
            self.learn_session(cmd, rsp);
        }
        let Some((entries, _)) = parse_auth_area(cmd, def.handles.len()) else {
            return;
        };
        if be16(rsp, 0) != Some(0x8002) {
            return;
        }
        let at = 10 + if def.r_handle { 4 } else { 0 };
        let Some(psize) = be32(rsp, at) else { return };
        let mut p = at + 4 + psize as usize;
        for e in entries {
            let Some(nn) = be16(rsp, p) else { return };
            let nonce = rsp
                .get(p + 2..p + 2 + nn as usize)
                .unwrap_or_default()
                .to_vec();
            let Some(hn) = be16(rsp, p + 2 + nn as usize + 1) else {
                return;
            };
            p += 2 + nn as usize + 1 + 2 + hn as usize;
            if let Some(s) = self.sessions.iter_mut().find(|s| s.handle == e.handle) {
                s.nonce_tpm = nonce;
            }
        }
    }

    /// A successful TPM2_StartAuthSession of an HMAC session without
    /// tpmKey and bind: track it.
    fn learn_session(&mut self, cmd: &[u8], rsp: &[u8]) {
        let (Some(tpm_key), Some(bind)) = (be32(cmd, 10), be32(cmd, 14)) else {
            return;
        };
        if tpm_key != 0x4000_0007 || bind != 0x4000_0007 || be16(cmd, 0) != Some(0x8001) {
            return;
        }
        // nonceCaller, encryptedSalt, sessionType, symmetric, authHash.
        let mut p = 18;
        for _ in 0..2 {
            let Some(n) = be16(cmd, p) else { return };
            p += 2 + n as usize;
        }
        if cmd.get(p) != Some(&0) {
            return;
        }
        p += 1;
        let Some(sym) = be16(cmd, p) else { return };
        p += if sym == 0x0010 {
            2
        } else if sym == 0x000A {
            4
        } else {
            6
        };
        let Some(alg) = be16(cmd, p)
            .and_then(|a| vtpm_core::crypto::HashAlg::from_alg_id(vtpm_core::wire::AlgId(a)))
        else {
            return;
        };
        let Some(handle) = be32(rsp, 10) else { return };
        let params = response_params(rsp, true);
        let n = be16(params, 0).unwrap_or(0) as usize;
        let nonce_tpm = params.get(2..2 + n).unwrap_or_default().to_vec();
        self.sessions.retain(|s| s.handle != handle);
        self.sessions.push(TrackedSession {
            handle,
            alg,
            nonce_tpm,
        });
    }

    /// Run one command: sign, execute, check, learn.
    pub fn run(&mut self, cmd: &[u8]) -> Result<Vec<u8>, String> {
        let mut cmd = cmd.to_vec();
        self.sign(&mut cmd);
        let rsp = self.tpm.execute(0, &cmd);
        check_response(&rsp)?;
        self.learn(&cmd, &rsp);
        Ok(rsp)
    }
}

/// The property of the `stateful` target: after the prelude
/// ([`stateful_tpm`]), the input is split into commands as for `execute`
/// ([`split_commands`]) and run in sequence, the harness filling in the
/// HMACs of the sessions it tracks; every response must be well formed.
pub fn stateful_input(data: &[u8]) -> Result<(), String> {
    let mut s = stateful_tpm();
    for (i, cmd) in split_commands(data).into_iter().enumerate() {
        if generates_rsa_key(cmd) {
            continue;
        }
        s.run(cmd)
            .map_err(|e| format!("command #{i} ({cmd:02x?}): {e}"))?;
    }
    Ok(())
}

// ----------------------------------------------------------- roundtrip ---

/// Unmarshal one value from the front of the input; marshal it again.
/// `(octets consumed, marshalled)`, `None` if the input is refused.
type RoundTrip = fn(&[u8]) -> Option<(usize, Vec<u8>)>;

fn rt_with<T>(
    b: &[u8],
    read: impl FnOnce(&mut vtpm_core::wire::Reader<'_>) -> vtpm_core::TpmResult<T>,
    write: impl FnOnce(&T, &mut vtpm_core::wire::Writer),
) -> Option<(usize, Vec<u8>)> {
    let mut r = vtpm_core::wire::Reader::new(b);
    let v = read(&mut r).ok()?;
    let used = b.len() - r.remaining();
    let mut w = vtpm_core::wire::Writer::new();
    write(&v, &mut w);
    Some((used, w.into_vec()))
}

fn rt<T: vtpm_core::wire::Unmarshal + vtpm_core::wire::Marshal>(
    b: &[u8],
) -> Option<(usize, Vec<u8>)> {
    rt_with(b, T::unmarshal, |v, w| w.write(v))
}

/// Whether the unmarshal of a structure keeps every octet (`Exact`: the
/// marshalled form equals the input), or maps several encodings to one
/// (`Normalizes`: only a fixed point is required: the marshalled form
/// unmarshals and marshals to itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Canon {
    /// Unmarshal then marshal gives the input back.
    Exact,
    /// The marshalled form is a fixed point.
    Normalizes,
}

/// The structures of the `roundtrip` target; the input's first octet
/// (modulo the count) selects one. Keep in step with
/// fuzz/seeds_from_trace.py.
pub const ROUNDTRIP_TYPES: &[(&str, Canon, RoundTrip)] = {
    use vtpm_core::state::nv::{NvPublic, NvPublic2b};
    use vtpm_core::wire::object::{read_sized, Context, Public, Public2b, Sensitive};
    use vtpm_core::wire::public::{Kdf, KeyedHashScheme, PublicParms, SymDef};
    use vtpm_core::wire::signature::{Attest, Attest2b, SigScheme, Signature};
    use vtpm_core::wire::types::{
        AlgList, CcList, ClockInfo, DigestList, DigestValues, Ha, PcrSelection, PcrSelectionList,
        Ticket,
    };
    #[allow(unused_imports)]
    use Canon::{Exact, Normalizes};
    &[
        ("TPMT_PUBLIC", Exact, |b| {
            rt_with(b, |r| Public::read(r, true), |v, w| w.write(v))
        }),
        ("TPM2B_PUBLIC", Exact, rt::<Public2b>),
        ("TPMT_SENSITIVE", Exact, rt::<Sensitive>),
        ("TPM2B_SENSITIVE", Exact, |b| {
            rt_with(
                b,
                |r| read_sized(r, <Sensitive as vtpm_core::wire::Unmarshal>::unmarshal),
                |v, w| w.sized(|w| w.write(v)),
            )
        }),
        ("TPMT_SIGNATURE", Exact, rt::<Signature>),
        ("TPMS_ATTEST", Exact, rt::<Attest>),
        ("TPML_PCR_SELECTION", Normalizes, rt::<PcrSelectionList>),
        ("TPMS_CONTEXT", Exact, rt::<Context>),
        ("TPMS_NV_PUBLIC", Exact, rt::<NvPublic>),
        ("TPM2B_NV_PUBLIC", Exact, rt::<NvPublic2b>),
        ("TPML_DIGEST", Exact, rt::<DigestList>),
        ("TPML_DIGEST_VALUES", Exact, rt::<DigestValues>),
        ("TPMT_HA", Exact, rt::<Ha>),
        ("TPMT_TK_*", Exact, rt::<Ticket>),
        ("TPMT_PUBLIC_PARMS", Exact, rt::<PublicParms>),
        ("TPMS_PCR_SELECTION", Normalizes, rt::<PcrSelection>),
        ("TPML_ALG", Exact, rt::<AlgList>),
        ("TPML_CC", Exact, rt::<CcList>),
        ("TPMT_SIG_SCHEME", Exact, rt::<SigScheme>),
        ("TPMS_CLOCK_INFO", Exact, rt::<ClockInfo>),
        ("TPM2B_ATTEST", Exact, rt::<Attest2b>),
        ("TPMT_SYM_DEF", Exact, |b| {
            rt_with(b, |r| SymDef::read(r, true), |v, w| w.write(v))
        }),
        ("TPMT_SYM_DEF_OBJECT", Exact, |b| {
            rt_with(b, |r| SymDef::read(r, false), |v, w| w.write(v))
        }),
        ("TPMT_KDF_SCHEME", Exact, rt::<Kdf>),
        ("TPMT_KEYEDHASH_SCHEME", Exact, rt::<KeyedHashScheme>),
    ]
};

/// The structure an input of the `roundtrip` target selects, if the rest
/// of the input unmarshals as one (so that the property checks something).
pub fn roundtrip_unmarshals(data: &[u8]) -> Option<&'static str> {
    let (&sel, body) = data.split_first()?;
    let &(name, _, f) = ROUNDTRIP_TYPES.get(usize::from(sel) % ROUNDTRIP_TYPES.len())?;
    f(body).map(|_| name)
}

/// The property of the `roundtrip` target: the first octet selects a
/// structure of [`ROUNDTRIP_TYPES`]; if the rest unmarshals, marshalling
/// the value gives back the octets consumed (`Exact`) and is a fixed
/// point of unmarshal-then-marshal (all).
pub fn roundtrip_input(data: &[u8]) -> Result<(), String> {
    let Some((&sel, body)) = data.split_first() else {
        return Ok(());
    };
    let Some(&(name, canon, f)) = ROUNDTRIP_TYPES.get(usize::from(sel) % ROUNDTRIP_TYPES.len())
    else {
        return Ok(());
    };
    let Some((used, out)) = f(body) else {
        return Ok(());
    };
    let input = body.get(..used).unwrap_or_default();
    if canon == Canon::Exact && out != input {
        return Err(format!(
            "{name}: marshal(unmarshal(x)) != x\n  x   = {input:02x?}\n  out = {out:02x?}"
        ));
    }
    match f(&out) {
        Some((u2, out2)) if u2 == out.len() && out2 == out => Ok(()),
        Some((u2, out2)) => Err(format!(
            "{name}: not a fixed point: {out:02x?} -> consumed {u2}, {out2:02x?}"
        )),
        None => Err(format!(
            "{name}: own marshalling {out:02x?} does not unmarshal"
        )),
    }
}

// -------------------------------------------------------------- socket ---

/// The host simulator's socket framing (`vtpm-host-sim/src/frames.rs`, which
/// uses only `std`, included as it is).
#[path = "../../vtpm-host-sim/src/frames.rs"]
pub mod host_frames;

/// At most this many requests are read from one `socket` input.
pub const MAX_REQUESTS: usize = 64;

/// The property of the `socket` target. The first octet chooses the
/// channel (modulo 4: mssim TPM port, mssim platform port, swtpm data
/// channel, swtpm control channel); the rest is the byte stream a client
/// sent, read request after request as the server does until it would
/// close the connection. Nothing may panic; every request read is within
/// the protocol's limits and no larger than the octets that arrived; each
/// request consumes input. (The `socket` fuzz target also bounds the
/// memory allocated by the input's length.)
pub fn socket_input(data: &[u8]) -> Result<(), String> {
    use host_frames::mssim_codes as mc;
    use host_frames::{DataRequest, TpmPortRequest, CTRL_BUFFER, MAX_BUFFER};
    use std::io::Read;
    let Some((&channel, mut rest)) = data.split_first() else {
        return Ok(());
    };
    let check_len = |c: &[u8], before: usize| -> Result<(), String> {
        if c.len() > MAX_BUFFER || c.len() > before {
            return Err(format!(
                "request of {} octets from {before} arrived",
                c.len()
            ));
        }
        Ok(())
    };
    for i in 0..MAX_REQUESTS {
        let before = rest.len();
        if before == 0 {
            break;
        }
        let closed = match channel % 4 {
            0 => match host_frames::read_tpm_port_request(&mut rest, |_| {}) {
                Err(_) => true,
                Ok(TpmPortRequest::SendCommand {
                    command: Some(c), ..
                })
                | Ok(TpmPortRequest::HashData(Some(c))) => {
                    check_len(&c, before)?;
                    false
                }
                Ok(TpmPortRequest::SendCommand { command: None, .. })
                | Ok(TpmPortRequest::HashData(None)) => true,
                Ok(TpmPortRequest::RemoteHandshake(v)) => v == 0,
                Ok(TpmPortRequest::SetAlternativeResult(_)) => false,
                Ok(TpmPortRequest::Other(code)) => !matches!(code, mc::HASH_START | mc::HASH_END),
            },
            1 => match host_frames::read_platform_request(&mut rest) {
                Err(_) => true,
                Ok((code, act)) => {
                    if act.is_some() != (code == mc::ACT_GET_SIGNALED) {
                        return Err(format!("platform code {code} with parameter {act:?}"));
                    }
                    matches!(code, mc::SESSION_END | mc::STOP)
                }
            },
            2 => match host_frames::read_data_request(&mut rest) {
                Err(_) => true,
                Ok(DataRequest::Mssim {
                    command: Some(c), ..
                }) => {
                    check_len(&c, before)?;
                    false
                }
                Ok(DataRequest::Mssim { command: None, .. }) => true,
                Ok(DataRequest::Raw(Ok(c))) => {
                    check_len(&c, before)?;
                    let size = be32(&c, 2).unwrap_or(0) as usize;
                    if c.len() < 10 || size != c.len() {
                        return Err(format!(
                            "raw command of {} octets, size field {size}",
                            c.len()
                        ));
                    }
                    false
                }
                Ok(DataRequest::Raw(Err(size))) => {
                    if (10..=MAX_BUFFER).contains(&size) {
                        return Err(format!("raw command size {size} refused"));
                    }
                    true
                }
            },
            _ => {
                // What the first read of a message returns is not up to
                // the client; here the next octet says how much (1 to
                // CTRL_BUFFER octets), the rest arrives as asked for.
                let Some((&k, tail)) = rest.split_first() else {
                    break;
                };
                rest = tail;
                let n = (1 + usize::from(k) * 17).min(CTRL_BUFFER).min(rest.len());
                let (first, tail) = rest.split_at(n);
                rest = tail;
                let mut buf = first.to_vec();
                if let Err(e) = host_frames::complete_ctrl_message(&mut buf, |more| rest.read(more))
                {
                    return Err(format!("reading from a slice failed: {e}"));
                }
                if buf.len() > CTRL_BUFFER {
                    return Err(format!("control message of {} octets", buf.len()));
                }
                if buf.len() < host_frames::ctrl_needed(&buf) && !rest.is_empty() {
                    return Err("control message incomplete with input left".into());
                }
                buf.len() < 4
            }
        };
        if closed {
            break;
        }
        if rest.len() >= before {
            return Err(format!("request #{i} consumed no input"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_size_fields() {
        let a = [0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x44, 0, 0];
        let b = [0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0x7b];
        let mut two = a.to_vec();
        two.extend_from_slice(&b);
        assert_eq!(split_commands(&two), vec![&a[..], &b[..]]);
        let mut tail = two.clone();
        tail.extend_from_slice(&[1, 2, 3]);
        assert_eq!(
            split_commands(&tail),
            vec![&a[..], &b[..], &[1u8, 2, 3][..]]
        );
        assert_eq!(split_commands(&[]), vec![&[][..]]);
        // A size field larger than the input: the whole input is one command.
        let big = [0x80, 1, 0, 0, 1, 0, 0, 0];
        assert_eq!(split_commands(&big), vec![&big[..]]);
    }

    /// The prelude runs, and the harness's HMACs are right: NV_Read of
    /// the ordinary index authorized by the HMAC session succeeds, twice
    /// (so the nonceTPM of the first response was learnt), and fails when
    /// the HMAC is not of the digest's size (left as sent).
    #[test]
    fn stateful_harness_signs_hmac_sessions() {
        use prelude_handles as ph;
        let mut s = stateful_tpm();
        let read = |hmac_len: usize| {
            let mut auth = ph::HMAC_SESSION.to_be_bytes().to_vec();
            auth.extend_from_slice(&sized2(&[7; 16]));
            auth.push(1); // continueSession
            auth.extend_from_slice(&sized2(&vec![0; hmac_len]));
            let mut c = vec![0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x4E];
            c.extend_from_slice(&ph::NV_ORDINARY.to_be_bytes());
            c.extend_from_slice(&ph::NV_ORDINARY.to_be_bytes());
            c.extend_from_slice(&(auth.len() as u32).to_be_bytes());
            c.extend_from_slice(&auth);
            c.extend_from_slice(&[0, 8, 0, 4]); // size 8, offset 4
            let n = (c.len() as u32).to_be_bytes();
            c[2..6].copy_from_slice(&n);
            c
        };
        for _ in 0..2 {
            let rsp = s.run(&read(32)).unwrap();
            assert_eq!(
                be32(&rsp, 6),
                Some(0),
                "NV_Read with the HMAC session: {rsp:02x?}"
            );
            assert_eq!(
                response_params(&rsp, false),
                &[0, 8, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A]
            );
        }
        let rsp = s.run(&read(20)).unwrap();
        assert_ne!(be32(&rsp, 6), Some(0), "a wrong HMAC must fail");
    }

    #[test]
    fn roundtrip_checks_both_directions() {
        // TPMS_CLOCK_INFO (selector 19) with safe = 1 round-trips; with
        // safe = 2 it is refused (TPMI_YES_NO), so nothing to check.
        let mut ok = vec![19];
        ok.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x30, 0x39, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
        assert_eq!(ROUNDTRIP_TYPES[19].0, "TPMS_CLOCK_INFO");
        assert!(roundtrip_input(&ok).is_ok());
        // A TPML_PCR_SELECTION with sizeofSelect 4 normalizes to 3.
        let pcrs = [6, 0, 0, 0, 1, 0, 0x0B, 4, 1, 0, 0, 0];
        assert!(roundtrip_input(&pcrs).is_ok());
        assert_eq!(ROUNDTRIP_TYPES.len(), 25);
    }

    #[test]
    fn rsa_key_generation_is_recognized() {
        let mut c = build_command(0x131, &[0x4000_0001], 1, &[]);
        c.extend_from_slice(&sized2(&[0, 0, 0, 0]));
        let mut rsa = c.clone();
        rsa.extend_from_slice(&sized2(&[0x00, 0x01, 0x00, 0x0B]));
        c.extend_from_slice(&sized2(ECC_STORAGE));
        assert!(generates_rsa_key(&rsa));
        assert!(!generates_rsa_key(&c));
        assert!(!generates_rsa_key(&[0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0x31]));
    }

    #[test]
    fn response_check() {
        assert!(check_response(&[0x80, 1, 0, 0, 0, 10, 0, 0, 0, 0]).is_ok());
        assert!(check_response(&[0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0]).is_ok());
        assert!(check_response(&[0x80, 1, 0, 0, 0, 11, 0, 0, 0, 0]).is_err());
        assert!(check_response(&[0x80, 2, 0, 0, 0, 10, 0, 0, 1, 0]).is_err());
        assert!(check_response(&[0x80, 1, 0, 0, 0, 9, 0, 0, 0]).is_err());
    }
}
