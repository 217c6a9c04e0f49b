//! The TPM commands provisioning sends, built from their Part 3 layouts,
//! and the parsing of what it needs back. Every command runs in-process
//! through [`Device::execute`]; a non-zero response code is an error that
//! names the command.

use anyhow::{anyhow, bail};

use crate::device::{response_code, Device};

/// TPM_RH_OWNER.
pub const RH_OWNER: u32 = 0x4000_0001;
/// TPM_RH_ENDORSEMENT.
pub const RH_ENDORSEMENT: u32 = 0x4000_000B;
/// TPM_RH_PLATFORM.
pub const RH_PLATFORM: u32 = 0x4000_000C;
/// TPM_RS_PW.
const RS_PW: u32 = 0x4000_0009;

/// TPMA_NV bits used for certificate indices.
pub mod nv {
    /// TPMA_NV_PPWRITE.
    pub const PPWRITE: u32 = 0x1;
    /// TPMA_NV_WRITEDEFINE.
    pub const WRITEDEFINE: u32 = 0x2000;
    /// TPMA_NV_PPREAD.
    pub const PPREAD: u32 = 0x1_0000;
    /// TPMA_NV_OWNERREAD.
    pub const OWNERREAD: u32 = 0x2_0000;
    /// TPMA_NV_AUTHREAD.
    pub const AUTHREAD: u32 = 0x4_0000;
    /// TPMA_NV_NO_DA.
    pub const NO_DA: u32 = 0x200_0000;
    /// TPMA_NV_PLATFORMCREATE.
    pub const PLATFORMCREATE: u32 = 0x4000_0000;
    /// The attributes swtpm_setup gives EK and platform certificate
    /// indices (an ordinary index, written with platform authorization).
    pub const CERT_ATTRIBUTES: u32 =
        PLATFORMCREATE | AUTHREAD | OWNERREAD | PPREAD | PPWRITE | NO_DA | WRITEDEFINE;
}

/// Largest NV_Write chunk (TPM_PT_NV_BUFFER_MAX of PC-client TPMs).
pub const NV_CHUNK: usize = 1024;

/// The EK policy of the low-range templates: PolicySecret(TPM_RH_ENDORSEMENT)
/// (EK Credential Profile, "PolicyA").
pub const POLICY_A_SHA256: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
];

/// The EK kinds we provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EkKind {
    /// RSA 2048, template L-1.
    Rsa2048,
    /// ECC NIST P-256, template L-2.
    EccP256,
}

impl EkKind {
    /// The NV index of its certificate (TCG EK Credential Profile).
    pub fn cert_index(self) -> u32 {
        match self {
            EkKind::Rsa2048 => 0x01C0_0002,
            EkKind::EccP256 => 0x01C0_000A,
        }
    }

    /// Its persistent handle (RSA: the TCG one; P-256: swtpm's).
    pub fn persistent_handle(self) -> u32 {
        match self {
            EkKind::Rsa2048 => 0x8101_0001,
            EkKind::EccP256 => 0x8101_000A,
        }
    }

    /// A short name for files and messages.
    pub fn name(self) -> &'static str {
        match self {
            EkKind::Rsa2048 => "rsa2048",
            EkKind::EccP256 => "ecc-p256",
        }
    }

    /// The TPMT_PUBLIC template (EK Credential Profile L-1 / L-2):
    /// nameAlg SHA-256, fixedTPM | fixedParent | sensitiveDataOrigin |
    /// adminWithPolicy | restricted | decrypt, PolicyA, AES-128-CFB, no
    /// scheme, zero-filled unique.
    pub fn template(self) -> Vec<u8> {
        let mut w = Vec::new();
        let (ty, parms, unique): (u16, &[u8], Vec<u8>) = match self {
            // symmetric AES(0x0006) 128 CFB(0x0043), scheme NULL, 2048
            // bits, exponent 0; unique: 256 zero octets.
            EkKind::Rsa2048 => (
                0x0001,
                &[
                    0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x08, 0x00, 0, 0, 0, 0,
                ],
                tpm2b(&[0u8; 256]),
            ),
            // symmetric AES 128 CFB, scheme NULL, curve NIST P-256
            // (0x0003), KDF NULL; unique: x and y of 32 zero octets.
            EkKind::EccP256 => (
                0x0023,
                &[
                    0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x00, 0x03, 0x00, 0x10,
                ],
                [tpm2b(&[0u8; 32]), tpm2b(&[0u8; 32])].concat(),
            ),
        };
        w.extend_from_slice(&ty.to_be_bytes());
        w.extend_from_slice(&0x000Bu16.to_be_bytes());
        w.extend_from_slice(&0x0003_00B2u32.to_be_bytes());
        w.extend_from_slice(&tpm2b(&POLICY_A_SHA256));
        w.extend_from_slice(parms);
        w.extend_from_slice(&unique);
        w
    }
}

/// The public key of a created EK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EkPublic {
    /// RSA modulus (exponent 65537).
    Rsa {
        /// Big-endian modulus.
        modulus: Vec<u8>,
    },
    /// An uncompressed P-256 point.
    EccP256 {
        /// x coordinate.
        x: Vec<u8>,
        /// y coordinate.
        y: Vec<u8>,
    },
}

/// `u16 length | bytes`.
pub fn tpm2b(b: &[u8]) -> Vec<u8> {
    let mut v = u16::try_from(b.len())
        .unwrap_or(u16::MAX)
        .to_be_bytes()
        .to_vec();
    v.extend_from_slice(b);
    v
}

/// A command: header, handles, an optional password session (empty
/// auth) for the first handle, parameters.
fn command(cc: u32, handles: &[u32], session: bool, params: &[u8]) -> Vec<u8> {
    let mut c = Vec::with_capacity(params.len().saturating_add(64));
    c.extend_from_slice(&(if session { 0x8002u16 } else { 0x8001 }).to_be_bytes());
    c.extend_from_slice(&[0; 4]);
    c.extend_from_slice(&cc.to_be_bytes());
    for h in handles {
        c.extend_from_slice(&h.to_be_bytes());
    }
    if session {
        // TPMS_AUTH_COMMAND: TPM_RS_PW, empty nonce, no attributes, empty
        // password.
        c.extend_from_slice(&9u32.to_be_bytes());
        c.extend_from_slice(&RS_PW.to_be_bytes());
        c.extend_from_slice(&[0, 0, 0, 0, 0]);
    }
    c.extend_from_slice(params);
    let len = u32::try_from(c.len()).unwrap_or(u32::MAX).to_be_bytes();
    if let Some(size) = c.get_mut(2..6) {
        size.copy_from_slice(&len);
    }
    c
}

/// Run `cmd`; its response, or an error naming `what` and the code.
pub fn run(d: &mut Device, what: &str, cmd: &[u8]) -> anyhow::Result<Vec<u8>> {
    let rsp = d.execute(0, cmd);
    let rc = response_code(&rsp);
    if rsp.len() < 10 {
        bail!("{what}: short response from the TPM");
    }
    if rc != 0 {
        bail!("{what} failed: TPM response code 0x{rc:03x}");
    }
    Ok(rsp)
}

/// TPM2_Startup(SU_CLEAR).
pub fn startup_clear(d: &mut Device) -> anyhow::Result<()> {
    run(d, "TPM2_Startup", &command(0x144, &[], false, &[0, 0])).map(|_| ())
}

/// TPM2_Shutdown(SU_CLEAR).
pub fn shutdown_clear(d: &mut Device) -> anyhow::Result<()> {
    run(d, "TPM2_Shutdown", &command(0x145, &[], false, &[0, 0])).map(|_| ())
}

struct Cursor<'a> {
    b: &'a [u8],
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> anyhow::Result<&'a [u8]> {
        if self.b.len() < n {
            bail!("{}: response truncated", self.what);
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Ok(h)
    }

    fn u16(&mut self) -> anyhow::Result<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([
            *b.first().unwrap_or(&0),
            *b.get(1).unwrap_or(&0),
        ]))
    }

    fn u32(&mut self) -> anyhow::Result<u32> {
        let b = self.take(4)?;
        let a: [u8; 4] = b
            .try_into()
            .map_err(|_| anyhow!("{}: bad u32", self.what))?;
        Ok(u32::from_be_bytes(a))
    }

    fn tpm2b(&mut self) -> anyhow::Result<&'a [u8]> {
        let n = usize::from(self.u16()?);
        self.take(n)
    }
}

/// TPM2_CreatePrimary of `kind` under the endorsement hierarchy: the
/// transient handle and the public key.
pub fn create_ek(d: &mut Device, kind: EkKind) -> anyhow::Result<(u32, EkPublic)> {
    let mut p = Vec::new();
    // inSensitive: empty userAuth and data.
    p.extend_from_slice(&tpm2b(&[0, 0, 0, 0]));
    p.extend_from_slice(&tpm2b(&kind.template()));
    // outsideInfo, creationPCR.
    p.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let rsp = run(
        d,
        "TPM2_CreatePrimary (EK)",
        &command(0x131, &[RH_ENDORSEMENT], true, &p),
    )?;
    let mut c = Cursor {
        b: rsp.get(10..).unwrap_or_default(),
        what: "TPM2_CreatePrimary",
    };
    let handle = c.u32()?;
    let _param_size = c.u32()?;
    let public = c.tpm2b()?;
    let mut c = Cursor {
        b: public,
        what: "EK public area",
    };
    let ty = c.u16()?;
    let _name_alg = c.u16()?;
    let _attrs = c.u32()?;
    let _policy = c.tpm2b()?;
    // symmetric (alg, bits, mode), scheme.
    c.take(8)?;
    let key = match (kind, ty) {
        (EkKind::Rsa2048, 0x0001) => {
            let _bits = c.u16()?;
            let exponent = c.u32()?;
            if exponent != 0 && exponent != 65537 {
                bail!("EK exponent {exponent} is not 65537");
            }
            EkPublic::Rsa {
                modulus: c.tpm2b()?.to_vec(),
            }
        }
        (EkKind::EccP256, 0x0023) => {
            let _curve = c.u16()?;
            let _kdf = c.u16()?;
            let x = c.tpm2b()?.to_vec();
            let y = c.tpm2b()?.to_vec();
            EkPublic::EccP256 { x, y }
        }
        _ => bail!("EK of unexpected type 0x{ty:04x}"),
    };
    Ok((handle, key))
}

/// TPM2_EvictControl(TPM_RH_OWNER): make `handle` persistent.
pub fn evict_control(d: &mut Device, handle: u32, persistent: u32) -> anyhow::Result<()> {
    run(
        d,
        "TPM2_EvictControl",
        &command(0x120, &[RH_OWNER, handle], true, &persistent.to_be_bytes()),
    )
    .map(|_| ())
}

/// TPM2_FlushContext.
pub fn flush(d: &mut Device, handle: u32) -> anyhow::Result<()> {
    run(
        d,
        "TPM2_FlushContext",
        &command(0x165, &[], false, &handle.to_be_bytes()),
    )
    .map(|_| ())
}

/// TPM2_NV_DefineSpace (platform authorization) of an index holding
/// `data`, then TPM2_NV_Write in chunks of at most [`NV_CHUNK`].
pub fn nv_store(d: &mut Device, index: u32, attributes: u32, data: &[u8]) -> anyhow::Result<()> {
    let size = u16::try_from(data.len()).map_err(|_| anyhow!("NV data too large"))?;
    let mut public = Vec::new();
    public.extend_from_slice(&index.to_be_bytes());
    public.extend_from_slice(&0x000Bu16.to_be_bytes());
    public.extend_from_slice(&attributes.to_be_bytes());
    public.extend_from_slice(&[0, 0]);
    public.extend_from_slice(&size.to_be_bytes());
    let mut p = vec![0, 0];
    p.extend_from_slice(&tpm2b(&public));
    run(
        d,
        &format!("TPM2_NV_DefineSpace(0x{index:08x})"),
        &command(0x12A, &[RH_PLATFORM], true, &p),
    )?;
    for (i, chunk) in data.chunks(NV_CHUNK).enumerate() {
        let offset = u16::try_from(i.saturating_mul(NV_CHUNK))
            .map_err(|_| anyhow!("NV offset too large"))?;
        let mut p = tpm2b(chunk);
        p.extend_from_slice(&offset.to_be_bytes());
        // Two handles, one authorization (the first).
        run(
            d,
            &format!("TPM2_NV_Write(0x{index:08x})"),
            &command(0x137, &[RH_PLATFORM, index], true, &p),
        )?;
    }
    Ok(())
}

/// TPM2_NV_WriteLock (platform authorization).
pub fn nv_write_lock(d: &mut Device, index: u32) -> anyhow::Result<()> {
    run(
        d,
        &format!("TPM2_NV_WriteLock(0x{index:08x})"),
        &command(0x138, &[RH_PLATFORM, index], true, &[]),
    )
    .map(|_| ())
}

/// A PCR bank by name.
pub fn hash_alg(name: &str) -> Option<u16> {
    Some(match name {
        "sha1" => 0x0004,
        "sha256" => 0x000B,
        "sha384" => 0x000C,
        "sha512" => 0x000D,
        _ => return None,
    })
}

/// TPM2_PCR_Allocate (platform authorization): exactly the banks in
/// `active` get all 24 PCRs, the others none. Takes effect at the next
/// TPM Reset.
pub fn pcr_allocate(d: &mut Device, active: &[u16]) -> anyhow::Result<()> {
    let all = [0x0004u16, 0x000B, 0x000C, 0x000D];
    let mut p = u32::try_from(all.len()).unwrap_or(0).to_be_bytes().to_vec();
    for alg in all {
        p.extend_from_slice(&alg.to_be_bytes());
        p.push(3);
        let bits = if active.contains(&alg) { 0xff } else { 0 };
        p.extend_from_slice(&[bits; 3]);
    }
    let rsp = run(
        d,
        "TPM2_PCR_Allocate",
        &command(0x12B, &[RH_PLATFORM], true, &p),
    )?;
    // parameterSize, allocationSuccess (YES = 1).
    if rsp.get(14) != Some(&1) {
        bail!("TPM2_PCR_Allocate: the TPM did not accept the allocation");
    }
    Ok(())
}

#[cfg(test)]
mod unit {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn templates_have_the_l1_l2_layout() {
        let rsa = EkKind::Rsa2048.template();
        // type, nameAlg, attributes, policy (2 + 32), parms 14, unique 258.
        assert_eq!(rsa.len(), 2 + 2 + 4 + 34 + 14 + 258);
        assert_eq!(&rsa[..8], &[0, 1, 0, 0x0b, 0, 0x03, 0, 0xb2]);
        let ecc = EkKind::EccP256.template();
        assert_eq!(ecc.len(), 2 + 2 + 4 + 34 + 12 + 68);
        assert_eq!(&ecc[..2], &[0, 0x23]);
        // The policy digest is SHA256(SHA256(0^32 || CC_PolicySecret ||
        // TPM_RH_ENDORSEMENT's name) || empty policyRef).
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update([0u8; 32]);
        h.update(0x151u32.to_be_bytes());
        h.update(RH_ENDORSEMENT.to_be_bytes());
        let inner = h.finalize();
        let outer = sha2::Sha256::digest(inner);
        assert_eq!(outer[..], POLICY_A_SHA256);
    }

    #[test]
    fn command_layout() {
        let c = command(
            0x137,
            &[RH_PLATFORM, 0x01C0_0002],
            true,
            &[0, 1, 0xaa, 0, 0],
        );
        assert_eq!(&c[..2], &[0x80, 0x02]);
        assert_eq!(
            u32::from_be_bytes(c[2..6].try_into().unwrap()) as usize,
            c.len()
        );
        assert_eq!(&c[6..10], &[0, 0, 1, 0x37]);
        assert_eq!(&c[18..22], &[0, 0, 0, 9]);
        assert_eq!(&c[22..26], &[0x40, 0, 0, 9]);
        assert_eq!(&c[31..], &[0, 1, 0xaa, 0, 0]);
    }
}
