//! Shared helpers: TPM command builders and a service over guest RAM.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use vtpm_core::testing::TestPlatform;
use vtpm_svsm::page::PAGE_SIZE;
use vtpm_svsm::{GuestRam, ServiceOptions, VtpmService};

pub const TPM_RC_SUCCESS: u32 = 0;
pub const TPM_RC_COMMAND_SIZE: u32 = 0x142;
pub const TPM_RC_INITIALIZE: u32 = 0x100;

pub const STARTUP_CLEAR: [u8; 12] = [0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0];

/// Build a command: tag from `auth` (password session with empty password
/// for every handle when true), handles, parameters.
pub fn cmd(code: u32, handles: &[u32], auth: usize, params: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for h in handles {
        body.extend_from_slice(&h.to_be_bytes());
    }
    if auth > 0 {
        let n = (auth * 9) as u32;
        body.extend_from_slice(&n.to_be_bytes());
        for _ in 0..auth {
            body.extend_from_slice(&0x4000_0009u32.to_be_bytes());
            body.extend_from_slice(&[0, 0, 0, 0, 0]);
        }
    }
    body.extend_from_slice(params);
    let tag: u16 = if auth > 0 { 0x8002 } else { 0x8001 };
    let mut c = Vec::new();
    c.extend_from_slice(&tag.to_be_bytes());
    c.extend_from_slice(&((body.len() + 10) as u32).to_be_bytes());
    c.extend_from_slice(&code.to_be_bytes());
    c.extend_from_slice(&body);
    c
}

pub fn tpm2b(b: &[u8]) -> Vec<u8> {
    let mut v = (b.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(b);
    v
}

pub fn get_random(n: u16) -> Vec<u8> {
    cmd(0x17B, &[], 0, &n.to_be_bytes())
}

pub fn rc(rsp: &[u8]) -> u32 {
    assert!(rsp.len() >= 10, "short response {rsp:02x?}");
    u32::from_be_bytes(rsp[6..10].try_into().unwrap())
}

/// Header-announced size of a response.
pub fn announced_size(rsp: &[u8]) -> usize {
    u32::from_be_bytes(rsp[2..6].try_into().unwrap()) as usize
}

/// A started test TPM behind a service, and guest RAM of `pages` pages at
/// GPA `base`.
pub fn service(options: ServiceOptions) -> VtpmService<TestPlatform> {
    let tpm = vtpm_core::testing::started_tpm(7).expect("started TPM");
    VtpmService::new(tpm, options).expect("service")
}

pub const RAM_BASE: u64 = 0x10_0000;

pub fn ram(pages: usize) -> GuestRam {
    GuestRam::new(RAM_BASE, pages)
}

/// Put `bytes` into RAM at `gpa`.
pub fn poke(ram: &mut GuestRam, gpa: u64, bytes: &[u8]) {
    let off = (gpa - ram.base()) as usize;
    ram.bytes_mut()[off..off + bytes.len()].copy_from_slice(bytes);
}

/// The page at `gpa`.
pub fn peek_page(ram: &GuestRam, gpa: u64) -> [u8; PAGE_SIZE] {
    let off = (gpa - ram.base()) as usize;
    ram.bytes()[off..off + PAGE_SIZE].try_into().unwrap()
}

/// A request page for `command`.
pub fn request_page(locality: u8, command: &[u8]) -> [u8; PAGE_SIZE] {
    let mut p = [0u8; PAGE_SIZE];
    vtpm_svsm::page::encode_request(&mut p, locality, command).unwrap();
    p
}

/// Hand-built commands for a realistic session.
pub mod cmds {
    use super::*;

    pub const RH_OWNER: u32 = 0x4000_0001;
    pub const RH_ENDORSEMENT: u32 = 0x4000_000B;

    pub fn pcr_extend(pcr: u32, digest: &[u8; 32]) -> Vec<u8> {
        let mut p = 1u32.to_be_bytes().to_vec();
        p.extend_from_slice(&0x000Bu16.to_be_bytes());
        p.extend_from_slice(digest);
        cmd(0x182, &[pcr], 1, &p)
    }

    pub fn pcr_read_sha256(pcrs: [u8; 3]) -> Vec<u8> {
        let mut p = 1u32.to_be_bytes().to_vec();
        p.extend_from_slice(&0x000Bu16.to_be_bytes());
        p.push(3);
        p.extend_from_slice(&pcrs);
        cmd(0x17E, &[], 0, &p)
    }

    pub fn get_capability(cap: u32, prop: u32, count: u32) -> Vec<u8> {
        let mut p = cap.to_be_bytes().to_vec();
        p.extend_from_slice(&prop.to_be_bytes());
        p.extend_from_slice(&count.to_be_bytes());
        cmd(0x17A, &[], 0, &p)
    }

    /// ECC P-256 storage key template (SRK-like, no policy).
    pub fn srk_ecc_template() -> Vec<u8> {
        let mut t = Vec::new();
        t.extend_from_slice(&0x0023u16.to_be_bytes());
        t.extend_from_slice(&0x000Bu16.to_be_bytes());
        t.extend_from_slice(&0x0003_0472u32.to_be_bytes());
        t.extend_from_slice(&tpm2b(&[]));
        for v in [0x0006u16, 128, 0x0043, 0x0010, 0x0003, 0x0010] {
            t.extend_from_slice(&v.to_be_bytes());
        }
        t.extend_from_slice(&tpm2b(&[]));
        t.extend_from_slice(&tpm2b(&[]));
        t
    }

    pub fn create_primary(hierarchy: u32, template: &[u8]) -> Vec<u8> {
        let mut p = Vec::new();
        p.extend_from_slice(&tpm2b(&[0, 0, 0, 0]));
        p.extend_from_slice(&tpm2b(template));
        p.extend_from_slice(&tpm2b(&[]));
        p.extend_from_slice(&0u32.to_be_bytes());
        cmd(0x131, &[hierarchy], 1, &p)
    }

    /// A sealed data object holding `secret`, created under `parent`.
    pub fn create_sealed(parent: u32, secret: &[u8]) -> Vec<u8> {
        let mut sens = tpm2b(&[]);
        sens.extend_from_slice(&tpm2b(secret));
        let mut t = Vec::new();
        t.extend_from_slice(&0x0008u16.to_be_bytes());
        t.extend_from_slice(&0x000Bu16.to_be_bytes());
        t.extend_from_slice(&0x0000_0452u32.to_be_bytes());
        t.extend_from_slice(&tpm2b(&[]));
        t.extend_from_slice(&0x0010u16.to_be_bytes());
        t.extend_from_slice(&tpm2b(&[]));
        let mut p = tpm2b(&sens);
        p.extend_from_slice(&tpm2b(&t));
        p.extend_from_slice(&tpm2b(&[]));
        p.extend_from_slice(&0u32.to_be_bytes());
        cmd(0x153, &[parent], 1, &p)
    }

    pub fn load(parent: u32, private: &[u8], public: &[u8]) -> Vec<u8> {
        let mut p = tpm2b(private);
        p.extend_from_slice(&tpm2b(public));
        cmd(0x157, &[parent], 1, &p)
    }

    pub fn unseal(item: u32) -> Vec<u8> {
        cmd(0x15E, &[item], 1, &[])
    }

    pub fn flush(handle: u32) -> Vec<u8> {
        cmd(0x165, &[], 0, &handle.to_be_bytes())
    }

    pub fn nv_define(index: u32, size: u16) -> Vec<u8> {
        let mut pubinfo = index.to_be_bytes().to_vec();
        pubinfo.extend_from_slice(&0x000Bu16.to_be_bytes());
        pubinfo.extend_from_slice(&0x0004_0004u32.to_be_bytes()); // AUTHWRITE | AUTHREAD
        pubinfo.extend_from_slice(&tpm2b(&[]));
        pubinfo.extend_from_slice(&size.to_be_bytes());
        let mut p = tpm2b(&[]);
        p.extend_from_slice(&tpm2b(&pubinfo));
        cmd(0x12A, &[RH_OWNER], 1, &p)
    }

    pub fn nv_write(index: u32, data: &[u8], offset: u16) -> Vec<u8> {
        let mut p = tpm2b(data);
        p.extend_from_slice(&offset.to_be_bytes());
        cmd(0x137, &[index, index], 1, &p)
    }

    pub fn nv_read(index: u32, size: u16, offset: u16) -> Vec<u8> {
        let mut p = size.to_be_bytes().to_vec();
        p.extend_from_slice(&offset.to_be_bytes());
        cmd(0x14E, &[index, index], 1, &p)
    }

    pub fn hash_sha256(data: &[u8]) -> Vec<u8> {
        let mut p = tpm2b(data);
        p.extend_from_slice(&0x000Bu16.to_be_bytes());
        p.extend_from_slice(&0x4000_0007u32.to_be_bytes()); // TPM_RH_NULL
        cmd(0x17D, &[], 0, &p)
    }
}

/// Parse a response with a handle (CreatePrimary, Load): the handle.
pub fn out_handle(rsp: &[u8]) -> u32 {
    u32::from_be_bytes(rsp[10..14].try_into().unwrap())
}

/// Read a TPM2B at `off`; returns (body, next offset).
pub fn read_tpm2b(rsp: &[u8], off: usize) -> (&[u8], usize) {
    let n = u16::from_be_bytes(rsp[off..off + 2].try_into().unwrap()) as usize;
    (&rsp[off + 2..off + 2 + n], off + 2 + n)
}

/// Run a realistic session through `send` and check every step succeeds:
/// PCR extend/read, random, hashing, capabilities, the EK (RSA 2048), an
/// ECC storage key, a sealed object created, loaded and unsealed, and an
/// NV index defined, written and read.
pub fn realistic_session(send: &mut dyn FnMut(&[u8]) -> Vec<u8>) {
    use cmds::*;
    let ok = |rsp: &[u8], what: &str| assert_eq!(rc(rsp), 0, "{what} failed: {rsp:02x?}");
    ok(&send(&pcr_extend(10, &[0x5a; 32])), "PCR_Extend");
    ok(&send(&pcr_read_sha256([0xff, 0xff, 0xff])), "PCR_Read");
    ok(&send(&get_random(32)), "GetRandom");
    ok(&send(&hash_sha256(&[7u8; 1024])), "Hash");
    ok(
        &send(&get_capability(6, 0x100, 64)),
        "GetCapability(TPM_PROPERTIES)",
    );
    ok(&send(&get_capability(2, 0, 256)), "GetCapability(COMMANDS)");

    let ek = send(&create_primary(
        RH_ENDORSEMENT,
        &vtpm_svsm::EkTemplate::RsaL1.public_template(),
    ));
    ok(&ek, "CreatePrimary(EK)");
    ok(&send(&flush(out_handle(&ek))), "FlushContext(EK)");

    let srk = send(&create_primary(RH_OWNER, &srk_ecc_template()));
    ok(&srk, "CreatePrimary(SRK)");
    let srk = out_handle(&srk);
    let created = send(&create_sealed(srk, b"disk encryption key 0123456789"));
    ok(&created, "Create(sealed)");
    let (private, next) = read_tpm2b(&created, 14);
    let (public, _) = read_tpm2b(&created, next);
    let loaded = send(&load(srk, private, public));
    ok(&loaded, "Load");
    let item = out_handle(&loaded);
    let unsealed = send(&unseal(item));
    ok(&unsealed, "Unseal");
    assert_eq!(
        read_tpm2b(&unsealed, 14).0,
        b"disk encryption key 0123456789"
    );
    ok(&send(&flush(item)), "FlushContext(item)");
    ok(&send(&flush(srk)), "FlushContext(SRK)");

    ok(&send(&nv_define(0x0150_0016, 64)), "NV_DefineSpace");
    ok(&send(&nv_write(0x0150_0016, &[0xab; 64], 0)), "NV_Write");
    let read = send(&nv_read(0x0150_0016, 64, 0));
    ok(&read, "NV_Read");
    assert_eq!(read_tpm2b(&read, 14).0, &[0xab; 64][..]);
}
