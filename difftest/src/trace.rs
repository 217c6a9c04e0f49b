//! Replay of recorded client traffic (`vtpm-host-sim --trace-commands`
//! files: `> hex` command lines and `< hex` response lines) to both
//! engines.
//!
//! The recorded commands cannot be sent as they are: what the recording
//! TPM made up (transient and session handles, context blobs, key blobs,
//! nonces) differs on each engine. Each side keeps a map from the recorded
//! value to its own, learned from its responses, and every later command is
//! rewritten through it: handles in the handle area, in the authorization
//! area and in FlushContext's parameter, and recorded blobs anywhere in the
//! parameters. HMAC sessions (tpm2-tools uses unsalted, unbound HMAC
//! sessions for empty passwords) are re-signed for each side with its own
//! nonceTPM and the names its objects have (Part 1, 16.6.5: the key is
//! sessionKey || authValue, both empty here).
//!
//! Response codes are compared for every command; outputs for the
//! commands whose outputs are deterministic given the same inputs.

use std::collections::HashMap;

use crate::crypto::{hash, hmac};
use crate::tpm::{cc, get_capability};
use crate::wire::{unhex, Cmd, Reader, Rsp};
use crate::{Both, Pair};

/// One recorded command and its recorded response.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Command bytes.
    pub command: Vec<u8>,
    /// Response bytes, as the recording TPM answered.
    pub response: Vec<u8>,
}

/// Parse a trace file.
pub fn parse(text: &str) -> Result<Vec<Exchange>, String> {
    let mut out = Vec::new();
    let mut pending: Option<Vec<u8>> = None;
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (dir, hex) = line.split_at(1);
        let bytes = unhex(hex).ok_or_else(|| format!("line {}: bad hex", n + 1))?;
        match (dir, pending.take()) {
            (">", None) => pending = Some(bytes),
            ("<", Some(command)) => out.push(Exchange {
                command,
                response: bytes,
            }),
            _ => {
                return Err(format!(
                    "line {}: commands and responses out of order",
                    n + 1
                ))
            }
        }
    }
    Ok(out)
}

/// `(handle count, response handle)` of every command libtpms implements,
/// from its `TPM_CAP_COMMANDS` (`TPMA_CC.cHandles`, `rHandle`).
pub fn command_shapes(p: &mut Pair) -> HashMap<u32, (usize, bool)> {
    let mut shapes = HashMap::new();
    let mut next = 0x11F;
    for _ in 0..16 {
        let r = p.reference_only(&get_capability(2, next, 64));
        let mut rd = r.reader();
        let more = rd.u8();
        rd.u32();
        let n = rd.u32();
        for _ in 0..n {
            let a = rd.u32();
            let code = (a & 0xFFFF) | (a & 0x2000_0000);
            shapes.insert(code, (((a >> 25) & 7) as usize, a & (1 << 28) != 0));
            next = code + 1;
        }
        if more == 0 || rd.short {
            break;
        }
    }
    shapes
}

/// A session's state on one side.
#[derive(Clone, Debug)]
struct Session {
    hash: u16,
    nonce_tpm: Vec<u8>,
}

/// What one side has learned: its own values for the recorded ones.
#[derive(Default)]
struct SideMap {
    handles: HashMap<u32, u32>,
    blobs: Vec<(Vec<u8>, Vec<u8>)>,
    sessions: HashMap<u32, Session>,
}

impl SideMap {
    fn handle(&self, h: u32) -> u32 {
        self.handles.get(&h).copied().unwrap_or(h)
    }
    fn learn_blob(&mut self, recorded: &[u8], own: &[u8]) {
        if recorded != own && recorded.len() >= 8 && !self.blobs.iter().any(|(r, _)| r == recorded)
        {
            self.blobs.push((recorded.to_vec(), own.to_vec()));
        }
    }
    /// Replace every recorded blob in `params` by this side's.
    fn substitute(&self, params: &[u8]) -> Vec<u8> {
        let mut v = params.to_vec();
        for (from, to) in &self.blobs {
            let mut i = 0;
            while i + from.len() <= v.len() {
                if v[i..i + from.len()] == from[..] {
                    v.splice(i..i + from.len(), to.iter().copied());
                    i += to.len();
                } else {
                    i += 1;
                }
            }
        }
        v
    }
}

/// A command split into its areas.
struct Parsed {
    tag: u16,
    code: u32,
    handles: Vec<u32>,
    /// (handle, nonce, attributes, hmac)
    sessions: Vec<(u32, Vec<u8>, u8, Vec<u8>)>,
    params: Vec<u8>,
}

fn split(cmd: &[u8], handles: usize) -> Option<Parsed> {
    let mut r = Reader::new(cmd);
    let tag = r.u16();
    r.u32();
    let code = r.u32();
    let hs = (0..handles).map(|_| r.u32()).collect();
    let mut sessions = Vec::new();
    if tag == 0x8002 {
        let size = r.u32() as usize;
        let area = r.take(size);
        let mut a = Reader::new(area);
        while a.left() > 0 && !a.short {
            let h = a.u32();
            let nonce = a.b2().to_vec();
            let attrs = a.u8();
            let mac = a.b2().to_vec();
            sessions.push((h, nonce, attrs, mac));
        }
    }
    let params = r.rest().to_vec();
    (!r.short).then_some(Parsed {
        tag,
        code,
        handles: hs,
        sessions,
        params,
    })
}

fn build(
    p: &Parsed,
    handles: &[u32],
    sessions: &[(u32, Vec<u8>, u8, Vec<u8>)],
    params: &[u8],
) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&p.tag.to_be_bytes());
    v.extend_from_slice(&[0; 4]);
    v.extend_from_slice(&p.code.to_be_bytes());
    for h in handles {
        v.extend_from_slice(&h.to_be_bytes());
    }
    if p.tag == 0x8002 {
        let mut area = Vec::new();
        for (h, nonce, attrs, mac) in sessions {
            area.extend_from_slice(&h.to_be_bytes());
            area.extend_from_slice(&(nonce.len() as u16).to_be_bytes());
            area.extend_from_slice(nonce);
            area.push(*attrs);
            area.extend_from_slice(&(mac.len() as u16).to_be_bytes());
            area.extend_from_slice(mac);
        }
        v.extend_from_slice(&(area.len() as u32).to_be_bytes());
        v.extend_from_slice(&area);
    }
    v.extend_from_slice(params);
    let n = (v.len() as u32).to_be_bytes();
    v[2..6].copy_from_slice(&n);
    v
}

/// Marks a command of the replay that uses a handle or blob created by an
/// earlier command that succeeded on one engine only: whatever it does
/// differently follows from that earlier (separately explained)
/// difference.
pub const CONSEQUENCE: &str = " [uses what an earlier differing command made]";

/// Counts of a replay.
#[derive(Clone, Debug, Default)]
pub struct ReplayStats {
    /// Recorded commands replayed.
    pub commands: usize,
    /// Of which the outputs were compared (not just the response code).
    pub outputs_compared: usize,
    /// HMAC sessions re-signed.
    pub hmacs_resigned: usize,
    /// Commands where vtpm's response code differs from the recording
    /// (the same engine: a replay problem, not a difference).
    pub vtpm_drift: Vec<String>,
}

/// The name of `h` as side `side` (0 vtpm, 1 libtpms) sees it, for cpHash.
fn name_of(p: &mut Pair, side: usize, h: u32) -> Vec<u8> {
    let cmd = match h >> 24 {
        0x80 | 0x81 => Cmd::new(cc::READPUBLIC).handle(h),
        0x01 => Cmd::new(cc::NV_READPUBLIC).handle(h),
        _ => return h.to_be_bytes().to_vec(),
    };
    let r = if side == 0 {
        p.vtpm_only(&cmd)
    } else {
        p.reference_only(&cmd)
    };
    let mut rd = r.reader();
    rd.b2();
    rd.b2().to_vec()
}

/// Replay `trace` on both engines of `p` (started TPMs: the command
/// shapes are read from libtpms first, then both get a _TPM_Init, as the
/// recording starts with TPM2_Startup).
pub fn replay(p: &mut Pair, trace: &[Exchange]) -> ReplayStats {
    let shapes = command_shapes(p);
    p.restart();
    let mut sides = [SideMap::default(), SideMap::default()];
    let mut stats = ReplayStats::default();
    // Recorded handles and blobs whose creation succeeded on one engine
    // only: later commands that use them differ as a consequence.
    let mut diverged_handles: Vec<u32> = Vec::new();
    let mut diverged_blobs: Vec<Vec<u8>> = Vec::new();
    for (i, ex) in trace.iter().enumerate() {
        let code = ex
            .command
            .get(6..10)
            .map_or(0, |c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
        let (nh, rh) = shapes.get(&code).copied().unwrap_or((0, false));
        let recorded = Rsp::parse(ex.response.clone(), rh);
        let Some(parsed) = split(&ex.command, nh) else {
            panic!("trace #{i}: the recorded command does not parse");
        };
        let flushed = (code == cc::FLUSHCONTEXT)
            .then(|| {
                parsed
                    .params
                    .get(..4)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            })
            .flatten();
        let uses_diverged = parsed
            .handles
            .iter()
            .chain(parsed.sessions.iter().map(|s| &s.0))
            .chain(flushed.iter())
            .any(|h| diverged_handles.contains(h))
            || diverged_blobs
                .iter()
                .any(|b| parsed.params.windows(b.len()).any(|w| w == &b[..]));
        let what = format!(
            "trace #{i} {}{}",
            crate::names::cc_name(code),
            if uses_diverged { CONSEQUENCE } else { "" }
        );
        // Each side's version of the command; HMAC sessions are signed
        // again with that side's nonceTPM and names.
        let mut built = Vec::new();
        for (s, side) in sides.iter().enumerate() {
            let handles: Vec<u32> = parsed.handles.iter().map(|&h| side.handle(h)).collect();
            let mut params = side.substitute(&parsed.params);
            if code == cc::FLUSHCONTEXT && params.len() == 4 {
                let h = u32::from_be_bytes([params[0], params[1], params[2], params[3]]);
                params = side.handle(h).to_be_bytes().to_vec();
            }
            let mut sessions = Vec::new();
            for (h, nonce, attrs, mac) in &parsed.sessions {
                let own = side.handle(*h);
                let state = side
                    .sessions
                    .get(&own)
                    .filter(|_| own >> 24 == 0x02 && !mac.is_empty());
                let mac = match state {
                    Some(st) => {
                        let mut cp = code.to_be_bytes().to_vec();
                        for &x in &handles {
                            cp.extend_from_slice(&name_of(p, s, x));
                        }
                        cp.extend_from_slice(&params);
                        let cp_hash = hash(st.hash, &cp);
                        stats.hmacs_resigned += 1;
                        hmac(st.hash, b"", &[&cp_hash, nonce, &st.nonce_tpm, &[*attrs]])
                    }
                    None => mac.clone(),
                };
                sessions.push((own, nonce.clone(), *attrs, mac));
            }
            built.push(build(&parsed, &handles, &sessions, &params));
        }
        let mut a = Cmd::raw(&built[0]);
        let mut b = Cmd::raw(&built[1]);
        a.code = code;
        b.code = code;
        let both = p.exec2_shaped(&what, &a, &b, rh);
        stats.commands += 1;
        if (both.a.rc == 0) != (both.b.rc == 0) || uses_diverged {
            diverged_handles.extend(recorded.handle);
            if code == cc::CONTEXTSAVE {
                diverged_blobs.push(recorded.params.clone());
            }
            if code == cc::CREATE {
                let mut r = recorded.reader();
                diverged_blobs.push(r.b2_raw().to_vec());
            }
        }
        if both.a.rc != recorded.rc {
            stats.vtpm_drift.push(format!(
                "{what}: recorded rc {:#x}, replayed {:#x}",
                recorded.rc, both.a.rc
            ));
        }
        // Learn from each side's response.
        for (s, side) in sides.iter_mut().enumerate() {
            let own = if s == 0 { &both.a } else { &both.b };
            if own.rc != 0 || recorded.rc != 0 {
                continue;
            }
            if let (Some(r), Some(o)) = (recorded.handle, own.handle) {
                side.handles.insert(r, o);
            }
            learn(side, code, &parsed, &recorded, own);
        }
        if both.ok() && compare_outputs(p, &what, code, &parsed, &both) {
            stats.outputs_compared += 1;
        }
    }
    stats
}

/// Update one side's maps from its response to `code`.
fn learn(side: &mut SideMap, code: u32, parsed: &Parsed, recorded: &Rsp, own: &Rsp) {
    let (mut r, mut o) = (recorded.reader(), own.reader());
    match code {
        cc::CONTEXTSAVE => side.learn_blob(&recorded.params, &own.params),
        cc::CREATE | 0x191 => {
            // outPrivate, outPublic (CreateLoaded: handle, then the same).
            for _ in 0..2 {
                let (x, y) = (r.b2_raw().to_vec(), o.b2_raw().to_vec());
                side.learn_blob(&x, &y);
            }
        }
        cc::CREATEPRIMARY => {
            let (x, y) = (r.b2_raw().to_vec(), o.b2_raw().to_vec());
            side.learn_blob(&x, &y);
        }
        cc::STARTAUTHSESSION => {
            let (x, y) = (r.b2().to_vec(), o.b2().to_vec());
            side.learn_blob(&x, &y);
            let hash = parsed
                .params
                .get(parsed.params.len().saturating_sub(2)..)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
            if let Some(h) = own.handle {
                side.sessions.insert(h, Session { hash, nonce_tpm: y });
            }
        }
        cc::FLUSHCONTEXT => {
            if let Some(b) = parsed.params.get(..4) {
                let h = side.handle(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
                side.sessions.remove(&h);
            }
        }
        _ => {}
    }
    // New nonceTPM of each session used by the command.
    let mut a = Reader::new(&own.auth);
    for (h, _, attrs, _) in &parsed.sessions {
        let nonce = a.b2().to_vec();
        a.u8();
        a.b2();
        let h = side.handle(*h);
        if attrs & 1 == 0 {
            side.sessions.remove(&h);
        } else if let Some(st) = side.sessions.get_mut(&h) {
            st.nonce_tpm = nonce;
        }
    }
}

/// Compare the outputs of commands whose outputs are deterministic given
/// the same inputs. Returns whether anything beyond the code was compared.
fn compare_outputs(p: &mut Pair, what: &str, code: u32, parsed: &Parsed, both: &Both) -> bool {
    let (mut a, mut b) = (both.a.reader(), both.b.reader());
    match code {
        // Empty outputs, digests, NV contents and names, data.
        cc::POLICYGETDIGEST
        | cc::NV_READ
        | cc::NV_READPUBLIC
        | cc::UNSEAL
        | cc::ENCRYPTDECRYPT
        | cc::ENCRYPTDECRYPT2
        | cc::HMAC
        | cc::LOADEXTERNAL
        | cc::PCR_EVENT
        | cc::PCR_EXTEND
        | cc::PCR_RESET
        | cc::TESTPARMS
        | cc::NV_DEFINESPACE
        | cc::NV_WRITE
        | cc::NV_INCREMENT
        | cc::NV_EXTEND
        | cc::NV_UNDEFINESPACE
        | cc::FLUSHCONTEXT
        | cc::STARTUP
        | cc::SHUTDOWN
        | cc::SELFTEST
        | cc::POLICYPCR
        | cc::POLICYCOMMANDCODE
        | cc::POLICYAUTHVALUE
        | cc::POLICYPASSWORD
        | cc::POLICYLOCALITY
        | cc::POLICYOR
        | cc::ECDH_ZGEN => {
            p.eq(
                &format!("{what}: response parameters"),
                &both.a.params,
                &both.b.params,
            );
        }
        cc::PCR_READ => {
            a.u32();
            b.u32();
            p.eq(&format!("{what}: selection and values"), a.rest(), b.rest());
        }
        cc::HASH | cc::SEQUENCECOMPLETE => {
            p.eq(&format!("{what}: digest"), a.b2(), b.b2());
            p.ticket(what, &mut a, &mut b);
        }
        cc::VERIFYSIGNATURE => p.ticket(what, &mut a, &mut b),
        cc::POLICYSECRET => {
            p.eq(&format!("{what}: timeout"), a.b2(), b.b2());
            p.ticket(what, &mut a, &mut b);
        }
        cc::GETRANDOM => p.eq_u(
            &format!("{what}: size"),
            a.b2().len() as u64,
            b.b2().len() as u64,
        ),
        cc::RSA_ENCRYPT => {
            // Raw RSA (scheme NULL) is deterministic; padded schemes are not.
            let mut c = Reader::new(&parsed.params);
            c.b2();
            if c.u16() == crate::tpm::alg::NULL {
                p.eq(&format!("{what}: raw RSA"), &both.a.params, &both.b.params);
            } else {
                p.eq_u(
                    &format!("{what}: size"),
                    a.b2().len() as u64,
                    b.b2().len() as u64,
                );
            }
        }
        _ => return false,
    }
    true
}
