//! A tiny TPM client for engine tests: builds commands, parses responses.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![allow(dead_code)]

use vtpm_core::testing::{started_tpm, TestPlatform};
use vtpm_core::{Rc, Tpm};

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
        self.auth.extend_from_slice(&0x4000_0009u32.to_be_bytes());
        self.auth.extend_from_slice(&[0, 0, 1]);
        self.auth
            .extend_from_slice(&(password.len() as u16).to_be_bytes());
        self.auth.extend_from_slice(password);
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
    pub fn b2(mut self, b: &[u8]) -> Self {
        self.params
            .extend_from_slice(&(b.len() as u16).to_be_bytes());
        self.params.extend_from_slice(b);
        self
    }
    pub fn build(&self) -> Vec<u8> {
        let mut v = Vec::new();
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

/// A parsed response.
pub struct Rsp {
    pub rc: Rc,
    pub handle: Option<u32>,
    pub params: Vec<u8>,
    pos: usize,
}

impl Rsp {
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
    /// A TPM2B returned with its size prefix (to feed back as a parameter).
    pub fn b2_raw(&mut self) -> Vec<u8> {
        let start = self.pos;
        let n = self.u16() as usize;
        self.take(n);
        self.params[start..self.pos].to_vec()
    }
    pub fn rest(&mut self) -> Vec<u8> {
        let v = self.params[self.pos..].to_vec();
        self.pos = self.params.len();
        v
    }
}

pub fn run(tpm: &mut Tpm<TestPlatform>, cmd: &Cmd, r_handle: bool) -> Rsp {
    let raw = tpm.execute(0, &cmd.build());
    let rc = Rc(u32::from_be_bytes(raw[6..10].try_into().unwrap()));
    assert_eq!(
        u32::from_be_bytes(raw[2..6].try_into().unwrap()) as usize,
        raw.len()
    );
    if rc != Rc::SUCCESS {
        return Rsp {
            rc,
            handle: None,
            params: vec![],
            pos: 0,
        };
    }
    let mut p = 10;
    let handle = if r_handle {
        p += 4;
        Some(u32::from_be_bytes(raw[10..14].try_into().unwrap()))
    } else {
        None
    };
    let params = if raw[0..2] == [0x80, 0x02] {
        let n = u32::from_be_bytes(raw[p..p + 4].try_into().unwrap()) as usize;
        raw[p + 4..p + 4 + n].to_vec()
    } else {
        raw[p..].to_vec()
    };
    Rsp {
        rc,
        handle,
        params,
        pos: 0,
    }
}

pub fn tpm() -> Tpm<TestPlatform> {
    started_tpm(42).expect("startup")
}

/// `TPMT_PUBLIC` of an RSA-2048 storage key (AES-128-CFB), SHA-256.
pub fn rsa_storage_template() -> Vec<u8> {
    let mut v = vec![0x00, 0x01, 0x00, 0x0B];
    v.extend_from_slice(&0x0003_0072u32.to_be_bytes()); // fixedTPM|fixedParent|sdo|userWithAuth|restricted|decrypt
    v.extend_from_slice(&[0, 0]); // authPolicy
    v.extend_from_slice(&[0x00, 0x06, 0x00, 0x80, 0x00, 0x43]); // AES-128-CFB
    v.extend_from_slice(&[0x00, 0x10]); // scheme NULL
    v.extend_from_slice(&[0x08, 0x00, 0, 0, 0, 0]);
    v.extend_from_slice(&[0, 0]); // unique
    v
}

/// `TPMT_PUBLIC` of an ECC P-256 storage key.
pub fn ecc_storage_template() -> Vec<u8> {
    let mut v = vec![0x00, 0x23, 0x00, 0x0B];
    v.extend_from_slice(&0x0003_0072u32.to_be_bytes());
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&[0x00, 0x06, 0x00, 0x80, 0x00, 0x43]);
    v.extend_from_slice(&[0x00, 0x10, 0x00, 0x03, 0x00, 0x10]);
    v.extend_from_slice(&[0, 0, 0, 0]);
    v
}

/// `TPMT_PUBLIC` of an ECC P-256 ECDSA signing key.
pub fn ecc_signing_template() -> Vec<u8> {
    let mut v = vec![0x00, 0x23, 0x00, 0x0B];
    v.extend_from_slice(&0x0004_0072u32.to_be_bytes()); // ... sign
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&[0x00, 0x10]);
    v.extend_from_slice(&[0x00, 0x18, 0x00, 0x0B, 0x00, 0x03, 0x00, 0x10]);
    v.extend_from_slice(&[0, 0, 0, 0]);
    v
}

/// `TPMT_PUBLIC` of a sealed data object (KEYEDHASH, no scheme).
pub fn sealed_template() -> Vec<u8> {
    let mut v = vec![0x00, 0x08, 0x00, 0x0B];
    v.extend_from_slice(&0x0000_0052u32.to_be_bytes()); // fixedTPM|fixedParent|userWithAuth
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&[0x00, 0x10]);
    v.extend_from_slice(&[0, 0]);
    v
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

/// CreatePrimary under `hierarchy`; returns (handle, outPublic bytes incl. size, name).
pub fn create_primary(
    tpm: &mut Tpm<TestPlatform>,
    hierarchy: u32,
    template: &[u8],
    auth: &[u8],
) -> (u32, Vec<u8>, Vec<u8>) {
    let c = Cmd::new(0x131)
        .handle(hierarchy)
        .pw(b"")
        .bytes(&sens_create(auth, b""))
        .bytes(&sized(template))
        .u16(0)
        .u32(0);
    let mut r = run(tpm, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS, "CreatePrimary");
    let public = r.b2_raw();
    let _cd = r.b2();
    let _ch = r.b2();
    let _tk = r.take(6);
    let _tkd = r.b2();
    let name = r.b2();
    (r.handle.unwrap(), public, name)
}
