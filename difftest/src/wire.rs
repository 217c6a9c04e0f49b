//! Command builder and response parser: just enough of the TPM 2.0 wire
//! format (Part 1, 18; Part 2) to write the differential tests by hand.

use std::fmt::Write as _;

/// `TPM_ST_NO_SESSIONS`.
pub const ST_NO_SESSIONS: u16 = 0x8001;
/// `TPM_ST_SESSIONS`.
pub const ST_SESSIONS: u16 = 0x8002;
/// `TPM_RS_PW`.
pub const RS_PW: u32 = 0x4000_0009;

/// Commands whose response carries a handle (`TPMA_CC.rHandle`), for the
/// commands the hand-written tests send. Trace replay asks libtpms's
/// `TPM_CAP_COMMANDS` instead.
pub fn response_has_handle(cc: u32) -> bool {
    matches!(
        cc,
        0x131 // CreatePrimary
            | 0x157 // Load
            | 0x15B // HMAC_Start / MAC_Start
            | 0x161 // ContextLoad
            | 0x167 // LoadExternal
            | 0x176 // StartAuthSession
            | 0x186 // HashSequenceStart
            | 0x191 // CreateLoaded
    )
}

/// One session of a command's authorization area.
#[derive(Clone, Debug)]
pub struct Session {
    /// Session handle (`TPM_RS_PW` or an HMAC/policy session).
    pub handle: u32,
    /// nonceCaller.
    pub nonce: Vec<u8>,
    /// sessionAttributes.
    pub attrs: u8,
    /// hmac (the password, for `TPM_RS_PW`).
    pub hmac: Vec<u8>,
}

/// A command under construction. Handles in the handle area, session
/// handles and parameters marked with [`Cmd::param_handle`] are mapped
/// when the command is built for the reference side (its handle numbers
/// may differ).
#[derive(Clone, Debug)]
pub struct Cmd {
    /// Command code.
    pub code: u32,
    tag: Option<u16>,
    handles: Vec<u32>,
    sessions: Vec<Session>,
    params: Vec<u8>,
    param_handles: Vec<usize>,
    raw: Option<Vec<u8>>,
}

impl Cmd {
    /// A command with code `code`.
    pub fn new(code: u32) -> Self {
        Cmd {
            code,
            tag: None,
            handles: Vec::new(),
            sessions: Vec::new(),
            params: Vec::new(),
            param_handles: Vec::new(),
            raw: None,
        }
    }
    /// Exactly these bytes (malformed commands); nothing is mapped.
    pub fn raw(bytes: &[u8]) -> Self {
        let code = bytes
            .get(6..10)
            .map_or(0, |c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
        let mut c = Cmd::new(code);
        c.raw = Some(bytes.to_vec());
        c
    }
    /// Force the tag (otherwise chosen from the presence of sessions).
    pub fn tag(mut self, tag: u16) -> Self {
        self.tag = Some(tag);
        self
    }
    /// A handle of the handle area.
    pub fn handle(mut self, h: u32) -> Self {
        self.handles.push(h);
        self
    }
    /// A password session (`TPM_RS_PW`, continueSession).
    pub fn pw(self, password: &[u8]) -> Self {
        self.session(RS_PW, &[], 0x01, password)
    }
    /// A session of the authorization area.
    pub fn session(mut self, handle: u32, nonce: &[u8], attrs: u8, hmac: &[u8]) -> Self {
        self.sessions.push(Session {
            handle,
            nonce: nonce.to_vec(),
            attrs,
            hmac: hmac.to_vec(),
        });
        self
    }
    /// The same command with its first handle replaced by `h`.
    pub fn with_first_handle(self, h: u32) -> Self {
        self.with_handle_at(0, h)
    }
    /// The same command with handle `i` replaced by `h` (the last one
    /// when `i` is out of range).
    pub fn with_handle_at(mut self, i: usize, h: u32) -> Self {
        let n = self.handles.len();
        if let Some(x) = self.handles.get_mut(i.min(n.saturating_sub(1))) {
            *x = h;
        }
        self
    }
    /// A u8 parameter.
    pub fn u8(mut self, v: u8) -> Self {
        self.params.push(v);
        self
    }
    /// A u16 parameter.
    pub fn u16(mut self, v: u16) -> Self {
        self.params.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// A u32 parameter.
    pub fn u32(mut self, v: u32) -> Self {
        self.params.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// A u64 parameter.
    pub fn u64(mut self, v: u64) -> Self {
        self.params.extend_from_slice(&v.to_be_bytes());
        self
    }
    /// A handle carried as a parameter (FlushContext, ...), mapped like
    /// the handle area.
    pub fn param_handle(mut self, h: u32) -> Self {
        self.param_handles.push(self.params.len());
        self.u32(h)
    }
    /// Raw parameter bytes.
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.params.extend_from_slice(b);
        self
    }
    /// A TPM2B parameter (u16 size, then the bytes).
    pub fn b2(self, b: &[u8]) -> Self {
        self.bytes(&sized(b))
    }
    /// The bytes, handles as given.
    pub fn build(&self) -> Vec<u8> {
        self.build_mapped(&|h| h)
    }
    /// The bytes with every handle passed through `map`.
    pub fn build_mapped(&self, map: &dyn Fn(u32) -> u32) -> Vec<u8> {
        if let Some(raw) = &self.raw {
            return raw.clone();
        }
        let tag = self.tag.unwrap_or(if self.sessions.is_empty() {
            ST_NO_SESSIONS
        } else {
            ST_SESSIONS
        });
        let mut v = Vec::new();
        v.extend_from_slice(&tag.to_be_bytes());
        v.extend_from_slice(&[0; 4]);
        v.extend_from_slice(&self.code.to_be_bytes());
        for h in &self.handles {
            v.extend_from_slice(&map(*h).to_be_bytes());
        }
        if !self.sessions.is_empty() {
            let mut auth = Vec::new();
            for s in &self.sessions {
                auth.extend_from_slice(&map(s.handle).to_be_bytes());
                auth.extend_from_slice(&sized(&s.nonce));
                auth.push(s.attrs);
                auth.extend_from_slice(&sized(&s.hmac));
            }
            v.extend_from_slice(&(auth.len() as u32).to_be_bytes());
            v.extend_from_slice(&auth);
        }
        let mut params = self.params.clone();
        for &off in &self.param_handles {
            if let Some(p) = params.get_mut(off..off + 4) {
                let h = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
                p.copy_from_slice(&map(h).to_be_bytes());
            }
        }
        v.extend_from_slice(&params);
        let n = (v.len() as u32).to_be_bytes();
        v[2..6].copy_from_slice(&n);
        v
    }
}

/// `b` with a u16 size prefix (a TPM2B).
pub fn sized(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

/// Concatenation.
pub fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// A parsed response.
#[derive(Clone, Debug, Default)]
pub struct Rsp {
    /// The whole response.
    pub raw: Vec<u8>,
    /// Response code (0 when the response is too short to hold one).
    pub rc: u32,
    /// The response handle, for commands that return one.
    pub handle: Option<u32>,
    /// The parameter area (without parameterSize), success only.
    pub params: Vec<u8>,
    /// The authorization area, success with sessions only.
    pub auth: Vec<u8>,
    /// Structural problem found while parsing, if any.
    pub malformed: Option<String>,
}

impl Rsp {
    /// Parse `raw`; `has_handle` says whether a success response carries
    /// a handle before its parameters.
    pub fn parse(raw: Vec<u8>, has_handle: bool) -> Rsp {
        let mut r = Rsp {
            raw,
            ..Rsp::default()
        };
        let raw = &r.raw;
        if raw.len() < 10 {
            r.malformed = Some(format!("response of {} bytes", raw.len()));
            return r;
        }
        let tag = u16::from_be_bytes([raw[0], raw[1]]);
        let size = u32::from_be_bytes([raw[2], raw[3], raw[4], raw[5]]) as usize;
        r.rc = u32::from_be_bytes([raw[6], raw[7], raw[8], raw[9]]);
        if size != raw.len() {
            r.malformed = Some(format!("responseSize {size} but {} bytes", raw.len()));
        }
        if r.rc != 0 {
            if raw.len() != 10 || tag != ST_NO_SESSIONS {
                r.malformed = Some("error response is not 10 bytes with TPM_ST_NO_SESSIONS".into());
            }
            return r;
        }
        let mut p = 10;
        if has_handle {
            match raw.get(10..14) {
                Some(h) => r.handle = Some(u32::from_be_bytes([h[0], h[1], h[2], h[3]])),
                None => r.malformed = Some("no response handle".into()),
            }
            p = 14;
        }
        let rest = raw.get(p..).unwrap_or_default();
        if tag == ST_SESSIONS {
            let Some(n) = rest.get(..4) else {
                r.malformed = Some("no parameterSize".into());
                return r;
            };
            let n = u32::from_be_bytes([n[0], n[1], n[2], n[3]]) as usize;
            match rest.get(4..4 + n) {
                Some(params) => {
                    r.params = params.to_vec();
                    r.auth = rest[4 + n..].to_vec();
                }
                None => r.malformed = Some("parameterSize past the end".into()),
            }
        } else {
            r.params = rest.to_vec();
        }
        r
    }

    /// A reader over the parameters.
    pub fn reader(&self) -> Reader<'_> {
        Reader::new(&self.params)
    }
}

/// A cursor over response bytes. Reading past the end yields zeros /
/// empty slices and sets [`Reader::short`], so a comparison of a short
/// response fails instead of panicking.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    /// Set when a read went past the end.
    pub short: bool,
}

impl<'a> Reader<'a> {
    /// A reader over `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Reader {
            b,
            pos: 0,
            short: false,
        }
    }
    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> &'a [u8] {
        match self.b.get(self.pos..self.pos + n) {
            Some(s) => {
                self.pos += n;
                s
            }
            None => {
                self.short = true;
                self.pos = self.b.len();
                &[]
            }
        }
    }
    /// A u8.
    pub fn u8(&mut self) -> u8 {
        self.take(1).first().copied().unwrap_or(0)
    }
    /// A u16.
    pub fn u16(&mut self) -> u16 {
        let s = self.take(2);
        if s.len() == 2 {
            u16::from_be_bytes([s[0], s[1]])
        } else {
            0
        }
    }
    /// A u32.
    pub fn u32(&mut self) -> u32 {
        let s = self.take(4);
        if s.len() == 4 {
            u32::from_be_bytes([s[0], s[1], s[2], s[3]])
        } else {
            0
        }
    }
    /// A u64.
    pub fn u64(&mut self) -> u64 {
        (u64::from(self.u32()) << 32) | u64::from(self.u32())
    }
    /// The contents of a TPM2B.
    pub fn b2(&mut self) -> &'a [u8] {
        let n = self.u16() as usize;
        self.take(n)
    }
    /// A TPM2B with its size prefix.
    pub fn b2_raw(&mut self) -> &'a [u8] {
        let start = self.pos;
        let n = self.u16() as usize;
        self.take(n);
        &self.b[start..self.pos]
    }
    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.b[self.pos..];
        self.pos = self.b.len();
        s
    }
    /// Bytes left.
    pub fn left(&self) -> usize {
        self.b.len() - self.pos
    }
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        let _ = write!(s, "{x:02x}");
    }
    s
}

/// Parse hex (whitespace ignored); `None` on a bad digit or odd length.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|p| {
            let t = std::str::from_utf8(p).ok()?;
            u8::from_str_radix(t, 16).ok()
        })
        .collect()
}

/// Hex constant (panics on a malformed literal: test data).
pub fn h(s: &str) -> Vec<u8> {
    match unhex(s) {
        Some(v) => v,
        None => panic!("bad hex literal {s}"),
    }
}
