//! A tiny TPM 2.0 client: command builder, response parser, templates, and
//! an HMAC session computed here (independently of the engine's code).
//! Adapted from vtpm-core/tests/common/mod.rs and tests/sessions.rs.

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Command codes used by the benchmarks.
pub mod cc {
    pub const NV_UNDEFINE_SPACE: u32 = 0x122;
    pub const NV_DEFINE_SPACE: u32 = 0x12A;
    pub const CREATE_PRIMARY: u32 = 0x131;
    pub const STARTUP: u32 = 0x144;
    pub const NV_WRITE: u32 = 0x137;
    pub const CREATE: u32 = 0x153;
    pub const LOAD: u32 = 0x157;
    pub const QUOTE: u32 = 0x158;
    pub const RSA_DECRYPT: u32 = 0x159;
    pub const SIGN: u32 = 0x15D;
    pub const UNSEAL: u32 = 0x15E;
    pub const CONTEXT_LOAD: u32 = 0x161;
    pub const CONTEXT_SAVE: u32 = 0x162;
    pub const FLUSH_CONTEXT: u32 = 0x165;
    pub const NV_READ: u32 = 0x14E;
    pub const NV_READ_PUBLIC: u32 = 0x169;
    pub const RSA_ENCRYPT: u32 = 0x174;
    pub const START_AUTH_SESSION: u32 = 0x176;
    pub const GET_CAPABILITY: u32 = 0x17A;
    pub const GET_RANDOM: u32 = 0x17B;
    pub const HASH: u32 = 0x17D;
    pub const HMAC: u32 = 0x155;
    pub const PCR_READ: u32 = 0x17E;
    pub const POLICY_PCR: u32 = 0x17F;
    pub const PCR_EXTEND: u32 = 0x182;
    pub const POLICY_GET_DIGEST: u32 = 0x189;
}

pub const RH_OWNER: u32 = 0x4000_0001;
pub const RH_NULL: u32 = 0x4000_0007;
pub const RS_PW: u32 = 0x4000_0009;
pub const ALG_SHA256: u16 = 0x000B;
pub const ALG_NULL: u16 = 0x0010;

/// A command under construction.
#[derive(Clone)]
pub struct Cmd {
    tag: u16,
    code: u32,
    handles: Vec<u8>,
    auth: Vec<u8>,
    params: Vec<u8>,
}

impl Cmd {
    pub fn new(code: u32) -> Self {
        Cmd {
            tag: 0x8001,
            code,
            handles: vec![],
            auth: vec![],
            params: vec![],
        }
    }
    pub fn handle(mut self, h: u32) -> Self {
        self.handles.extend_from_slice(&h.to_be_bytes());
        self
    }
    /// A password session for the next authorized handle.
    pub fn pw(mut self, password: &[u8]) -> Self {
        self.tag = 0x8002;
        self.auth.extend_from_slice(&RS_PW.to_be_bytes());
        self.auth.extend_from_slice(&[0, 0, 1]);
        self.auth
            .extend_from_slice(&(password.len() as u16).to_be_bytes());
        self.auth.extend_from_slice(password);
        self
    }
    /// A policy session without HMAC (nonceCaller empty, `attrs`).
    pub fn policy(mut self, session: u32, attrs: u8) -> Self {
        self.tag = 0x8002;
        self.auth.extend_from_slice(&session.to_be_bytes());
        self.auth.extend_from_slice(&[0, 0, attrs, 0, 0]);
        self
    }
    pub fn u8(mut self, v: u8) -> Self {
        self.params.push(v);
        self
    }
    pub fn u16(mut self, v: u16) -> Self {
        self.params.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn u32(mut self, v: u32) -> Self {
        self.params.extend_from_slice(&v.to_be_bytes());
        self
    }
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.params.extend_from_slice(b);
        self
    }
    /// A TPM2B: u16 size then the bytes.
    pub fn b2(mut self, b: &[u8]) -> Self {
        self.params.extend_from_slice(&sized(b));
        self
    }
    pub fn build(&self) -> Vec<u8> {
        let mut v =
            Vec::with_capacity(14 + self.handles.len() + self.auth.len() + self.params.len());
        v.extend_from_slice(&self.tag.to_be_bytes());
        v.extend_from_slice(&[0; 4]);
        v.extend_from_slice(&self.code.to_be_bytes());
        v.extend_from_slice(&self.handles);
        if self.tag == 0x8002 {
            v.extend_from_slice(&(self.auth.len() as u32).to_be_bytes());
            v.extend_from_slice(&self.auth);
        }
        v.extend_from_slice(&self.params);
        let n = (v.len() as u32).to_be_bytes();
        v[2..6].copy_from_slice(&n);
        v
    }
}

/// The response code of a raw response (0xFFFF_FFFF if too short).
pub fn rc_of(rsp: &[u8]) -> u32 {
    rsp.get(6..10)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0xFFFF_FFFF)
}

/// A parsed successful response.
pub struct Rsp {
    pub handle: Option<u32>,
    pub params: Vec<u8>,
    /// The response authorization area (after the parameters).
    pub auth: Vec<u8>,
    pos: usize,
}

impl Rsp {
    /// Parse a response that must be a success; `what` names it in the panic.
    pub fn parse(raw: &[u8], r_handle: bool, what: &str) -> Rsp {
        let rc = rc_of(raw);
        if rc != 0 {
            panic!("{what}: TPM response code {rc:#x} (a benchmark of an error path is worthless)");
        }
        let size = u32::from_be_bytes(raw[2..6].try_into().unwrap()) as usize;
        assert_eq!(size, raw.len(), "{what}: response size field");
        let mut p = 10;
        let handle = if r_handle {
            p += 4;
            Some(u32::from_be_bytes(raw[10..14].try_into().unwrap()))
        } else {
            None
        };
        let (params, auth) = if raw[0..2] == [0x80, 0x02] {
            let n = u32::from_be_bytes(raw[p..p + 4].try_into().unwrap()) as usize;
            (raw[p + 4..p + 4 + n].to_vec(), raw[p + 4 + n..].to_vec())
        } else {
            (raw[p..].to_vec(), vec![])
        };
        Rsp {
            handle,
            params,
            auth,
            pos: 0,
        }
    }
    pub fn u16(&mut self) -> u16 {
        let v = u16::from_be_bytes(self.params[self.pos..self.pos + 2].try_into().unwrap());
        self.pos += 2;
        v
    }
    pub fn u32(&mut self) -> u32 {
        let v = u32::from_be_bytes(self.params[self.pos..self.pos + 4].try_into().unwrap());
        self.pos += 4;
        v
    }
    pub fn take(&mut self, n: usize) -> Vec<u8> {
        let v = self.params[self.pos..self.pos + n].to_vec();
        self.pos += n;
        v
    }
    pub fn b2(&mut self) -> Vec<u8> {
        let n = self.u16() as usize;
        self.take(n)
    }
    /// A TPM2B with its size prefix (to feed back as a parameter).
    pub fn b2_raw(&mut self) -> Vec<u8> {
        let start = self.pos;
        let n = self.u16() as usize;
        self.take(n);
        self.params[start..self.pos].to_vec()
    }
}

pub fn sized(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

/// `TPM2B_SENSITIVE_CREATE` with a userAuth and data.
pub fn sens_create(auth: &[u8], data: &[u8]) -> Vec<u8> {
    let mut inner = sized(auth);
    inner.extend_from_slice(&sized(data));
    sized(&inner)
}

/// `TPM2_Startup(CLEAR)`.
pub fn startup_clear() -> Vec<u8> {
    Cmd::new(cc::STARTUP).u16(0).build()
}

// Object attributes.
const FIXED_TPM: u32 = 0x2;
const FIXED_PARENT: u32 = 0x10;
const SDO: u32 = 0x20;
const USER_WITH_AUTH: u32 = 0x40;
const RESTRICTED: u32 = 0x1_0000;
const DECRYPT: u32 = 0x2_0000;
const SIGN: u32 = 0x4_0000;
const KEY_BASE: u32 = FIXED_TPM | FIXED_PARENT | SDO | USER_WITH_AUTH;

const AES128_CFB: [u8; 6] = [0x00, 0x06, 0x00, 0x80, 0x00, 0x43];

fn rsa_template(attrs: u32, sym: &[u8], scheme: &[u8], unique: &[u8]) -> Vec<u8> {
    let mut v = vec![0x00, 0x01, 0x00, 0x0B];
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]); // authPolicy
    v.extend_from_slice(sym);
    v.extend_from_slice(scheme);
    v.extend_from_slice(&[0x08, 0x00, 0, 0, 0, 0]); // 2048 bits, default exponent
    v.extend_from_slice(&sized(unique));
    v
}

fn ecc_template(attrs: u32, sym: &[u8], scheme: &[u8], unique_x: &[u8]) -> Vec<u8> {
    let mut v = vec![0x00, 0x23, 0x00, 0x0B];
    v.extend_from_slice(&attrs.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(sym);
    v.extend_from_slice(scheme);
    v.extend_from_slice(&[0x00, 0x03, 0x00, 0x10]); // NIST P-256, kdf NULL
    v.extend_from_slice(&sized(unique_x));
    v.extend_from_slice(&[0, 0]); // unique.y
    v
}

/// RSA-2048 storage key (restricted decrypt, AES-128-CFB); `unique` varies the template.
pub fn rsa_storage(unique: &[u8]) -> Vec<u8> {
    rsa_template(
        KEY_BASE | RESTRICTED | DECRYPT,
        &AES128_CFB,
        &[0x00, 0x10],
        unique,
    )
}

/// ECC P-256 storage key; `unique_x` varies the template.
pub fn ecc_storage(unique_x: &[u8]) -> Vec<u8> {
    ecc_template(
        KEY_BASE | RESTRICTED | DECRYPT,
        &AES128_CFB,
        &[0x00, 0x10],
        unique_x,
    )
}

/// ECC P-256 ECDSA-SHA256 signing key (unrestricted).
pub fn ecc_signing() -> Vec<u8> {
    ecc_template(
        KEY_BASE | SIGN,
        &[0x00, 0x10],
        &[0x00, 0x18, 0x00, 0x0B],
        &[],
    )
}

/// ECC P-256 ECDSA-SHA256 attestation key (restricted signing).
pub fn ecc_attestation() -> Vec<u8> {
    ecc_template(
        KEY_BASE | SIGN | RESTRICTED,
        &[0x00, 0x10],
        &[0x00, 0x18, 0x00, 0x0B],
        &[],
    )
}

/// RSA-2048 RSASSA-SHA256 signing key.
pub fn rsa_signing() -> Vec<u8> {
    rsa_template(
        KEY_BASE | SIGN,
        &[0x00, 0x10],
        &[0x00, 0x14, 0x00, 0x0B],
        &[],
    )
}

/// RSA-2048 decryption key (unrestricted, scheme chosen per command).
pub fn rsa_decrypt() -> Vec<u8> {
    rsa_template(KEY_BASE | DECRYPT, &[0x00, 0x10], &[0x00, 0x10], &[])
}

/// KEYEDHASH HMAC-SHA256 signing key (the key bytes made by the TPM).
pub fn hmac_key() -> Vec<u8> {
    let mut v = vec![0x00, 0x08, 0x00, 0x0B];
    v.extend_from_slice(&(KEY_BASE | SIGN).to_be_bytes());
    v.extend_from_slice(&[0, 0]); // authPolicy
    v.extend_from_slice(&[0x00, 0x05, 0x00, 0x0B]); // TPM_ALG_HMAC, SHA-256
    v.extend_from_slice(&[0, 0]); // unique
    v
}

/// A sealed data object whose only authorization is `policy`.
pub fn sealed_with_policy(policy: &[u8]) -> Vec<u8> {
    let mut v = vec![0x00, 0x08, 0x00, 0x0B];
    v.extend_from_slice(&(FIXED_TPM | FIXED_PARENT).to_be_bytes());
    v.extend_from_slice(&sized(policy));
    v.extend_from_slice(&[0x00, 0x10]); // scheme NULL
    v.extend_from_slice(&[0, 0]); // unique
    v
}

/// `TPML_PCR_SELECTION` of PCRs 0-7 in the SHA-256 bank.
pub fn pcr_sel_0_7() -> Vec<u8> {
    vec![0, 0, 0, 1, 0x00, 0x0B, 3, 0xFF, 0, 0]
}

/// CreatePrimary command under the owner hierarchy.
pub fn create_primary_cmd(template: &[u8]) -> Vec<u8> {
    Cmd::new(cc::CREATE_PRIMARY)
        .handle(RH_OWNER)
        .pw(b"")
        .bytes(&sens_create(b"", b""))
        .b2(template)
        .u16(0)
        .u32(0)
        .build()
}

/// Create command under `parent`.
pub fn create_cmd(parent: u32, template: &[u8], auth: &[u8], data: &[u8]) -> Vec<u8> {
    Cmd::new(cc::CREATE)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(auth, data))
        .b2(template)
        .u16(0)
        .u32(0)
        .build()
}

/// Load command: `private` and `public` with their size prefixes.
pub fn load_cmd(parent: u32, private: &[u8], public: &[u8]) -> Vec<u8> {
    Cmd::new(cc::LOAD)
        .handle(parent)
        .pw(b"")
        .bytes(private)
        .bytes(public)
        .build()
}

pub fn flush_cmd(h: u32) -> Vec<u8> {
    Cmd::new(cc::FLUSH_CONTEXT).u32(h).build()
}

/// StartAuthSession: `kind` 0 HMAC, 1 policy, 3 trial; SHA-256; no symmetric.
pub fn start_session_cmd(tpm_key: u32, nonce_caller: &[u8], salt: &[u8], kind: u8) -> Vec<u8> {
    Cmd::new(cc::START_AUTH_SESSION)
        .handle(tpm_key)
        .handle(RH_NULL)
        .b2(nonce_caller)
        .b2(salt)
        .u8(kind)
        .u16(ALG_NULL)
        .u16(ALG_SHA256)
        .build()
}

pub fn hmac256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// KDFa with SHA-256 (Part 1, 11.4.10.2).
pub fn kdfa(key: &[u8], label: &[u8], u: &[u8], v: &[u8], bits: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i: u32 = 0;
    while out.len() * 8 < bits as usize {
        i += 1;
        out.extend(hmac256(
            key,
            &[&i.to_be_bytes(), label, &[0], u, v, &bits.to_be_bytes()],
        ));
    }
    out.truncate(bits.div_ceil(8) as usize);
    out
}

/// A client-side HMAC session (SHA-256, unbound).
pub struct HmacSession {
    pub handle: u32,
    pub key: Vec<u8>,
    pub nonce_tpm: Vec<u8>,
    pub nonce_caller: Vec<u8>,
}

impl HmacSession {
    /// From a StartAuthSession response; `salt` is the plaintext salt (empty if unsalted).
    pub fn from_start(rsp: &[u8], nonce_caller: &[u8], salt: &[u8]) -> HmacSession {
        let mut r = Rsp::parse(rsp, true, "StartAuthSession");
        let nonce_tpm = r.b2();
        let key = if salt.is_empty() {
            vec![]
        } else {
            kdfa(salt, b"ATH", &nonce_tpm, nonce_caller, 256)
        };
        HmacSession {
            handle: r.handle.unwrap(),
            key,
            nonce_tpm,
            nonce_caller: nonce_caller.to_vec(),
        }
    }

    /// A command with this session (continueSession) authorizing its one
    /// authorized handle whose authValue is `auth`.
    pub fn command(
        &self,
        code: u32,
        handles: &[u32],
        names: &[&[u8]],
        params: &[u8],
        auth: &[u8],
    ) -> Vec<u8> {
        let attrs = 0x01u8;
        let mut cp = Sha256::new();
        cp.update(code.to_be_bytes());
        for n in names {
            cp.update(n);
        }
        cp.update(params);
        let cp = cp.finalize();
        let mut key = self.key.clone();
        key.extend_from_slice(auth);
        let mac = hmac256(&key, &[&cp, &self.nonce_caller, &self.nonce_tpm, &[attrs]]);
        let mut area = self.handle.to_be_bytes().to_vec();
        area.extend_from_slice(&sized(&self.nonce_caller));
        area.push(attrs);
        area.extend_from_slice(&sized(&mac));
        let mut v = vec![0x80, 0x02, 0, 0, 0, 0];
        v.extend_from_slice(&code.to_be_bytes());
        for h in handles {
            v.extend_from_slice(&h.to_be_bytes());
        }
        v.extend_from_slice(&(area.len() as u32).to_be_bytes());
        v.extend_from_slice(&area);
        v.extend_from_slice(params);
        let n = (v.len() as u32).to_be_bytes();
        v[2..6].copy_from_slice(&n);
        v
    }

    /// Check the response HMAC, roll nonceTPM; returns the parameters.
    pub fn check(&mut self, rsp: &[u8], code: u32, auth: &[u8], what: &str) -> Vec<u8> {
        let r = Rsp::parse(rsp, false, what);
        let a = &r.auth;
        let nlen = u16::from_be_bytes([a[0], a[1]]) as usize;
        let nonce = a[2..2 + nlen].to_vec();
        let attrs = a[2 + nlen];
        let p = 3 + nlen;
        let hlen = u16::from_be_bytes([a[p], a[p + 1]]) as usize;
        let mac = &a[p + 2..p + 2 + hlen];
        let rp = Sha256::digest([&0u32.to_be_bytes()[..], &code.to_be_bytes(), &r.params].concat());
        let mut key = self.key.clone();
        key.extend_from_slice(auth);
        let expect = hmac256(&key, &[&rp, &nonce, &self.nonce_caller, &[attrs]]);
        assert_eq!(mac, &expect[..], "{what}: response HMAC does not verify");
        self.nonce_tpm = nonce;
        r.params
    }
}
