//! Binding the vTPM to the SNP attestation report: the vTPM service
//! manifest of the SVSM attestation protocol (protocol 1).
//!
//! The SVSM answers `SVSM_ATTEST_SINGLE_SERVICE` for the vTPM service GUID
//! ([`VTPM_SERVICE_GUID`]) with an SNP report whose `REPORT_DATA` is
//! `SHA-512(nonce ‖ manifest)` ([`report_data`]). Manifest version 0 is the
//! EK's marshalled `TPMT_PUBLIC` (no TPM2B size prefix), the EK being the
//! primary key `TPM2_CreatePrimary` derives on the endorsement hierarchy
//! from TCG EK Credential Profile template L-1 (RSA 2048). Verifiers
//! (go-tpm-tools, hpe-security-lab/svsm-vtpm-test) recreate the EK from the
//! same template through the guest's TPM and compare it with the manifest.
//! Sources: COCONUT `protocols/attest.rs`, `vtpm/tcgtpm/ek_templates.rs`;
//! `shared/notes/svsm-landscape.md` 1.5.

use alloc::vec::Vec;
use core::fmt;

use vtpm_core::crypto::HashAlg;
use vtpm_core::wire::{Reader, Writer};
use vtpm_core::{Platform, Rc, Tpm};

/// The vTPM service GUID, `c476f1eb-0123-45a5-9641-b4e7dde5bfe3`, in the
/// usual mixed-endian GUID byte order (first three groups little-endian).
pub const VTPM_SERVICE_GUID: [u8; 16] = [
    0xeb, 0xf1, 0x76, 0xc4, 0x23, 0x01, 0xa5, 0x45, 0x96, 0x41, 0xb4, 0xe7, 0xdd, 0xe5, 0xbf, 0xe3,
];

/// The vTPM manifest version this module produces.
pub const VTPM_MANIFEST_VERSION: u32 = 0;

/// Length of the attestation nonce (COCONUT accepts exactly 64 bytes).
pub const NONCE_LEN: usize = 64;

/// `PolicyA` for SHA-256 (TCG EK Credential Profile, B.6.1): the EK's
/// authPolicy, `PolicySecret(TPM_RH_ENDORSEMENT)`.
pub const EK_POLICY_A_SHA256: [u8; 32] = [
    0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24,
    0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
];

/// `TPMA_OBJECT` of the EK templates: fixedTPM, fixedParent,
/// sensitiveDataOrigin, adminWithPolicy, restricted, decrypt.
pub const EK_ATTRIBUTES: u32 = 0x0003_00B2;

const TPM_ALG_RSA: u16 = 0x0001;
const TPM_ALG_ECC: u16 = 0x0023;
const TPM_ALG_SHA256: u16 = 0x000B;
const TPM_ALG_AES: u16 = 0x0006;
const TPM_ALG_CFB: u16 = 0x0043;
const TPM_ALG_NULL: u16 = 0x0010;
const TPM_ECC_NIST_P256: u16 = 0x0003;
const TPM_ST_SESSIONS: u16 = 0x8002;
const TPM_ST_NO_SESSIONS: u16 = 0x8001;
const TPM_CC_CREATE_PRIMARY: u32 = 0x0000_0131;
const TPM_CC_FLUSH_CONTEXT: u32 = 0x0000_0165;
const TPM_RH_ENDORSEMENT: u32 = 0x4000_000B;
const TPM_RS_PW: u32 = 0x4000_0009;
/// Largest `TPMT_PUBLIC` accepted back from the engine.
const MAX_PUBLIC: usize = 1024;

/// Which TCG EK template (EK Credential Profile 2.x, "low range").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EkTemplate {
    /// L-1: RSA 2048, SHA-256, AES-128-CFB, 256 zero bytes of `unique`.
    /// This is the manifest-v0 EK.
    #[default]
    RsaL1,
    /// L-2: ECC NIST P-256, SHA-256, AES-128-CFB, 32 + 32 zero bytes of
    /// `unique`.
    EccL2,
}

impl EkTemplate {
    /// The template's marshalled `TPMT_PUBLIC`.
    pub fn public_template(self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            EkTemplate::RsaL1 => {
                w.u16(TPM_ALG_RSA);
                w.u16(TPM_ALG_SHA256);
                w.u32(EK_ATTRIBUTES);
                w.tpm2b(&EK_POLICY_A_SHA256);
                // TPMS_RSA_PARMS: symmetric AES-128-CFB, scheme NULL,
                // keyBits 2048, exponent 0 (= 65537).
                w.u16(TPM_ALG_AES);
                w.u16(128);
                w.u16(TPM_ALG_CFB);
                w.u16(TPM_ALG_NULL);
                w.u16(2048);
                w.u32(0);
                w.tpm2b(&[0u8; 256]);
            }
            EkTemplate::EccL2 => {
                w.u16(TPM_ALG_ECC);
                w.u16(TPM_ALG_SHA256);
                w.u32(EK_ATTRIBUTES);
                w.tpm2b(&EK_POLICY_A_SHA256);
                // TPMS_ECC_PARMS: symmetric AES-128-CFB, scheme NULL,
                // curve NIST P-256, kdf NULL.
                w.u16(TPM_ALG_AES);
                w.u16(128);
                w.u16(TPM_ALG_CFB);
                w.u16(TPM_ALG_NULL);
                w.u16(TPM_ECC_NIST_P256);
                w.u16(TPM_ALG_NULL);
                w.tpm2b(&[0u8; 32]);
                w.tpm2b(&[0u8; 32]);
            }
        }
        w.into_vec()
    }

    /// Length of the template's `unique` field including its size(s): what
    /// differs between the template and the created key's public area.
    fn unique_len(self) -> usize {
        match self {
            EkTemplate::RsaL1 => 2 + 256,
            EkTemplate::EccL2 => 2 + 32 + 2 + 32,
        }
    }
}

/// Why the EK public area could not be produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttestError {
    /// The TPM answered `TPM2_CreatePrimary` (or `TPM2_FlushContext`) with
    /// this response code: not started, endorsement hierarchy disabled, an
    /// endorsement authValue the guest set (`TPM_RC_AUTH_FAIL`/`BAD_AUTH`),
    /// no free object slot...
    Tpm(u32),
    /// The response was not the shape `TPM2_CreatePrimary` promises.
    MalformedResponse,
    /// The created key's public area does not follow the template.
    TemplateMismatch,
}

impl fmt::Display for AttestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttestError::Tpm(rc) => write!(f, "creating the EK failed: {:?}", Rc(*rc)),
            AttestError::MalformedResponse => f.write_str("malformed CreatePrimary response"),
            AttestError::TemplateMismatch => {
                f.write_str("the EK public area does not match its template")
            }
        }
    }
}

impl core::error::Error for AttestError {}

/// The `TPM2_CreatePrimary` command for `template` under
/// `TPM_RH_ENDORSEMENT`, authorized by an empty password.
pub fn create_primary_command(template: EkTemplate) -> Vec<u8> {
    let public = template.public_template();
    let mut body = Writer::new();
    body.u32(TPM_RH_ENDORSEMENT);
    // Authorization area: one password session with an empty password.
    body.u32(9);
    body.u32(TPM_RS_PW);
    body.u16(0); // nonce
    body.u8(0); // sessionAttributes
    body.u16(0); // hmac (the password)
                 // inSensitive: TPM2B_SENSITIVE_CREATE { userAuth = empty, data = empty }.
    body.u16(4);
    body.u16(0);
    body.u16(0);
    body.tpm2b(&public); // inPublic
    body.u16(0); // outsideInfo
    body.u32(0); // creationPCR: empty TPML_PCR_SELECTION
    command(TPM_ST_SESSIONS, TPM_CC_CREATE_PRIMARY, body.as_slice())
}

fn command(tag: u16, code: u32, body: &[u8]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u16(tag);
    w.u32(u32::try_from(body.len().saturating_add(10)).unwrap_or(u32::MAX));
    w.u32(code);
    w.bytes(body);
    w.into_vec()
}

/// Run `TPM2_CreatePrimary` with an EK template on the engine (locality 0)
/// and return the key's marshalled `TPMT_PUBLIC`; the transient key is
/// flushed again. The TPM must be started (`TPM2_Startup`, which the guest
/// firmware sends) and the endorsement hierarchy enabled with an empty
/// authValue. Primary keys are derived from the endorsement seed, so the
/// result is the same every time until `TPM2_ChangeEPS`/`TPM2_Clear`
/// changes that seed.
pub fn ek_public<P: Platform>(
    tpm: &mut Tpm<P>,
    template: EkTemplate,
) -> Result<Vec<u8>, AttestError> {
    let rsp = tpm.execute(0, &create_primary_command(template));
    let rc = response_code(&rsp)?;
    if rc != 0 {
        return Err(AttestError::Tpm(rc));
    }
    // A key was created: whatever else is wrong, flush it.
    let mut r = Reader::new(&rsp);
    let handle = r
        .take(10)
        .and_then(|_| r.u32())
        .map_err(|_| AttestError::MalformedResponse)?;
    let public = r
        .u32() // parameterSize
        .and_then(|_| r.tpm2b(MAX_PUBLIC))
        .map(<[u8]>::to_vec)
        .map_err(|_| AttestError::MalformedResponse);
    let flush = command(
        TPM_ST_NO_SESSIONS,
        TPM_CC_FLUSH_CONTEXT,
        &handle.to_be_bytes(),
    );
    let flushed = response_code(&tpm.execute(0, &flush))?;
    let public = public?;
    if flushed != 0 {
        return Err(AttestError::Tpm(flushed));
    }
    let expected = template.public_template();
    let fixed = expected.len().saturating_sub(template.unique_len());
    if public.get(..fixed) != expected.get(..fixed) {
        return Err(AttestError::TemplateMismatch);
    }
    Ok(public)
}

fn response_code(rsp: &[u8]) -> Result<u32, AttestError> {
    let mut r = Reader::new(rsp);
    let _tag = r.u16().map_err(|_| AttestError::MalformedResponse)?;
    let size = r.u32().map_err(|_| AttestError::MalformedResponse)?;
    if usize::try_from(size).ok() != Some(rsp.len()) {
        return Err(AttestError::MalformedResponse);
    }
    r.u32().map_err(|_| AttestError::MalformedResponse)
}

/// The vTPM service manifest, version 0: the L-1 RSA EK's `TPMT_PUBLIC`.
pub fn vtpm_manifest<P: Platform>(tpm: &mut Tpm<P>) -> Result<Vec<u8>, AttestError> {
    ek_public(tpm, EkTemplate::RsaL1)
}

/// `REPORT_DATA` for an attestation report over the vTPM service:
/// `SHA-512(nonce ‖ manifest)`.
pub fn report_data(nonce: &[u8; NONCE_LEN], manifest: &[u8]) -> [u8; 64] {
    let digest = HashAlg::Sha512.digest_parts(&[nonce, manifest]);
    let mut out = [0u8; 64];
    for (d, s) in out.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    out
}
