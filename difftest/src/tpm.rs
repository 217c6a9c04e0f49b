//! TPM 2.0 constants and structure builders (Part 2) for the tests.

use crate::wire::{cat, sized, Cmd};

/// Algorithm identifiers (`TPM_ALG_ID`, Part 2, 6.3).
pub mod alg {
    pub const RSA: u16 = 0x0001;
    pub const TDES: u16 = 0x0003;
    pub const SHA1: u16 = 0x0004;
    pub const HMAC: u16 = 0x0005;
    pub const AES: u16 = 0x0006;
    pub const MGF1: u16 = 0x0007;
    pub const KEYEDHASH: u16 = 0x0008;
    pub const XOR: u16 = 0x000A;
    pub const SHA256: u16 = 0x000B;
    pub const SHA384: u16 = 0x000C;
    pub const SHA512: u16 = 0x000D;
    pub const NULL: u16 = 0x0010;
    pub const SM3_256: u16 = 0x0012;
    pub const SM4: u16 = 0x0013;
    pub const RSASSA: u16 = 0x0014;
    pub const RSAES: u16 = 0x0015;
    pub const RSAPSS: u16 = 0x0016;
    pub const OAEP: u16 = 0x0017;
    pub const ECDSA: u16 = 0x0018;
    pub const ECDH: u16 = 0x0019;
    pub const ECDAA: u16 = 0x001A;
    pub const SM2: u16 = 0x001B;
    pub const ECSCHNORR: u16 = 0x001C;
    pub const ECMQV: u16 = 0x001D;
    pub const KDF1_SP800_56A: u16 = 0x0020;
    pub const KDF2: u16 = 0x0021;
    pub const KDF1_SP800_108: u16 = 0x0022;
    pub const ECC: u16 = 0x0023;
    pub const SYMCIPHER: u16 = 0x0025;
    pub const CAMELLIA: u16 = 0x0026;
    pub const SHA3_256: u16 = 0x0027;
    pub const SHA3_384: u16 = 0x0028;
    pub const SHA3_512: u16 = 0x0029;
    pub const CMAC: u16 = 0x003F;
    pub const CTR: u16 = 0x0040;
    pub const OFB: u16 = 0x0041;
    pub const CBC: u16 = 0x0042;
    pub const CFB: u16 = 0x0043;
    pub const ECB: u16 = 0x0044;
}

/// Curves (`TPM_ECC_CURVE`).
pub mod curve {
    pub const NIST_P192: u16 = 0x0001;
    pub const NIST_P224: u16 = 0x0002;
    pub const NIST_P256: u16 = 0x0003;
    pub const NIST_P384: u16 = 0x0004;
    pub const NIST_P521: u16 = 0x0005;
    pub const BN_P256: u16 = 0x0010;
    pub const BN_P638: u16 = 0x0011;
    pub const SM2_P256: u16 = 0x0020;
}

/// Permanent handles (`TPM_RH`).
pub mod rh {
    pub const OWNER: u32 = 0x4000_0001;
    pub const NULL: u32 = 0x4000_0007;
    pub const UNASSIGNED: u32 = 0x4000_0008;
    pub const PW: u32 = 0x4000_0009;
    pub const LOCKOUT: u32 = 0x4000_000A;
    pub const ENDORSEMENT: u32 = 0x4000_000B;
    pub const PLATFORM: u32 = 0x4000_000C;
    pub const PLATFORM_NV: u32 = 0x4000_000D;
}

/// `TPMA_OBJECT` bits.
pub mod oa {
    pub const FIXED_TPM: u32 = 1 << 1;
    pub const ST_CLEAR: u32 = 1 << 2;
    pub const FIXED_PARENT: u32 = 1 << 4;
    pub const SENSITIVE_DATA_ORIGIN: u32 = 1 << 5;
    pub const USER_WITH_AUTH: u32 = 1 << 6;
    pub const ADMIN_WITH_POLICY: u32 = 1 << 7;
    pub const NO_DA: u32 = 1 << 10;
    pub const ENCRYPTED_DUPLICATION: u32 = 1 << 11;
    pub const RESTRICTED: u32 = 1 << 16;
    pub const DECRYPT: u32 = 1 << 17;
    pub const SIGN: u32 = 1 << 18;
    /// fixedTPM | fixedParent | sensitiveDataOrigin | userWithAuth.
    pub const KEY: u32 = FIXED_TPM | FIXED_PARENT | SENSITIVE_DATA_ORIGIN | USER_WITH_AUTH;
    /// A storage parent: KEY | restricted | decrypt.
    pub const STORAGE: u32 = KEY | RESTRICTED | DECRYPT;
}

/// `TPMA_NV` bits.
pub mod nva {
    pub const PPWRITE: u32 = 1 << 0;
    pub const OWNERWRITE: u32 = 1 << 1;
    pub const AUTHWRITE: u32 = 1 << 2;
    pub const POLICYWRITE: u32 = 1 << 3;
    pub const COUNTER: u32 = 1 << 4;
    pub const BITS: u32 = 2 << 4;
    pub const EXTEND: u32 = 4 << 4;
    pub const PIN_FAIL: u32 = 8 << 4;
    pub const PIN_PASS: u32 = 9 << 4;
    pub const POLICY_DELETE: u32 = 1 << 10;
    pub const WRITELOCKED: u32 = 1 << 11;
    pub const WRITEALL: u32 = 1 << 12;
    pub const WRITEDEFINE: u32 = 1 << 13;
    pub const WRITE_STCLEAR: u32 = 1 << 14;
    pub const GLOBALLOCK: u32 = 1 << 15;
    pub const PPREAD: u32 = 1 << 16;
    pub const OWNERREAD: u32 = 1 << 17;
    pub const AUTHREAD: u32 = 1 << 18;
    pub const POLICYREAD: u32 = 1 << 19;
    pub const NO_DA: u32 = 1 << 25;
    pub const ORDERLY: u32 = 1 << 26;
    pub const CLEAR_STCLEAR: u32 = 1 << 27;
    pub const READLOCKED: u32 = 1 << 28;
    pub const WRITTEN: u32 = 1 << 29;
    pub const PLATFORMCREATE: u32 = 1 << 30;
    pub const READ_STCLEAR: u32 = 1 << 31;
}

/// Command codes used by the tests (`TPM_CC`).
pub mod cc {
    pub const NV_UNDEFINESPACE: u32 = 0x122;
    pub const CLEAR: u32 = 0x126;
    pub const HIERARCHYCHANGEAUTH: u32 = 0x129;
    pub const NV_DEFINESPACE: u32 = 0x12A;
    pub const PCR_ALLOCATE: u32 = 0x12B;
    pub const CREATEPRIMARY: u32 = 0x131;
    pub const NV_INCREMENT: u32 = 0x134;
    pub const NV_SETBITS: u32 = 0x135;
    pub const NV_EXTEND: u32 = 0x136;
    pub const NV_WRITE: u32 = 0x137;
    pub const NV_WRITELOCK: u32 = 0x138;
    pub const PCR_EVENT: u32 = 0x13C;
    pub const PCR_RESET: u32 = 0x13D;
    pub const SEQUENCECOMPLETE: u32 = 0x13E;
    pub const SELFTEST: u32 = 0x143;
    pub const STARTUP: u32 = 0x144;
    pub const SHUTDOWN: u32 = 0x145;
    pub const CERTIFY: u32 = 0x148;
    pub const POLICYNV: u32 = 0x149;
    pub const NV_READ: u32 = 0x14E;
    pub const OBJECTCHANGEAUTH: u32 = 0x150;
    pub const POLICYSECRET: u32 = 0x151;
    pub const CREATE: u32 = 0x153;
    pub const ECDH_ZGEN: u32 = 0x154;
    pub const HMAC: u32 = 0x155;
    pub const LOAD: u32 = 0x157;
    pub const QUOTE: u32 = 0x158;
    pub const RSA_DECRYPT: u32 = 0x159;
    pub const HMAC_START: u32 = 0x15B;
    pub const SEQUENCEUPDATE: u32 = 0x15C;
    pub const SIGN: u32 = 0x15D;
    pub const UNSEAL: u32 = 0x15E;
    pub const POLICYSIGNED: u32 = 0x160;
    pub const CONTEXTLOAD: u32 = 0x161;
    pub const CONTEXTSAVE: u32 = 0x162;
    pub const ECDH_KEYGEN: u32 = 0x163;
    pub const ENCRYPTDECRYPT: u32 = 0x164;
    pub const FLUSHCONTEXT: u32 = 0x165;
    pub const LOADEXTERNAL: u32 = 0x167;
    pub const NV_READPUBLIC: u32 = 0x169;
    pub const POLICYAUTHORIZE: u32 = 0x16A;
    pub const POLICYAUTHVALUE: u32 = 0x16B;
    pub const POLICYCOMMANDCODE: u32 = 0x16C;
    pub const POLICYCOUNTERTIMER: u32 = 0x16D;
    pub const POLICYCPHASH: u32 = 0x16E;
    pub const POLICYLOCALITY: u32 = 0x16F;
    pub const POLICYNAMEHASH: u32 = 0x170;
    pub const POLICYOR: u32 = 0x171;
    pub const READPUBLIC: u32 = 0x173;
    pub const RSA_ENCRYPT: u32 = 0x174;
    pub const STARTAUTHSESSION: u32 = 0x176;
    pub const VERIFYSIGNATURE: u32 = 0x177;
    pub const ECC_PARAMETERS: u32 = 0x178;
    pub const GETCAPABILITY: u32 = 0x17A;
    pub const GETRANDOM: u32 = 0x17B;
    pub const GETTESTRESULT: u32 = 0x17C;
    pub const HASH: u32 = 0x17D;
    pub const PCR_READ: u32 = 0x17E;
    pub const POLICYPCR: u32 = 0x17F;
    pub const POLICYRESTART: u32 = 0x180;
    pub const READCLOCK: u32 = 0x181;
    pub const PCR_EXTEND: u32 = 0x182;
    pub const EVENTSEQUENCECOMPLETE: u32 = 0x185;
    pub const HASHSEQUENCESTART: u32 = 0x186;
    pub const POLICYPHYSICALPRESENCE: u32 = 0x187;
    pub const POLICYDUPLICATIONSELECT: u32 = 0x188;
    pub const POLICYGETDIGEST: u32 = 0x189;
    pub const TESTPARMS: u32 = 0x18A;
    pub const POLICYPASSWORD: u32 = 0x18C;
    pub const POLICYNVWRITTEN: u32 = 0x18F;
    pub const POLICYTEMPLATE: u32 = 0x190;
    pub const CREATELOADED: u32 = 0x191;
    pub const POLICYAUTHORIZENV: u32 = 0x192;
    pub const ENCRYPTDECRYPT2: u32 = 0x193;
}

/// Response codes (`TPM_RC`, Part 2, 6.6) used by the tests.
pub mod rc {
    pub const SUCCESS: u32 = 0;
    pub const INITIALIZE: u32 = 0x100;
    pub const FAILURE: u32 = 0x101;
    pub const COMMAND_SIZE: u32 = 0x142;
    pub const COMMAND_CODE: u32 = 0x143;
    pub const AUTH_FAIL: u32 = 0x08E;
    pub const BAD_AUTH: u32 = 0x0A2;
    pub const NV_RANGE: u32 = 0x146;
    pub const NV_UNINITIALIZED: u32 = 0x14A;
    pub const NV_DEFINED: u32 = 0x14C;
    pub const BAD_TAG: u32 = 0x01E;
}

/// `TPM2_Startup(su)` (0 = CLEAR, 1 = STATE).
pub fn startup(su: u16) -> Cmd {
    Cmd::new(cc::STARTUP).u16(su)
}

/// `TPM2_SelfTest(fullTest)`.
pub fn self_test(full: bool) -> Cmd {
    Cmd::new(cc::SELFTEST).u8(u8::from(full))
}

/// `TPM2_Shutdown(su)`.
pub fn shutdown(su: u16) -> Cmd {
    Cmd::new(cc::SHUTDOWN).u16(su)
}

/// Digest size of a hash algorithm.
pub fn digest_len(hash: u16) -> usize {
    match hash {
        alg::SHA1 => 20,
        alg::SHA256 | alg::SM3_256 | alg::SHA3_256 => 32,
        alg::SHA384 | alg::SHA3_384 => 48,
        alg::SHA512 | alg::SHA3_512 => 64,
        _ => 0,
    }
}

/// `TPML_PCR_SELECTION` with one bank selecting `pcrs` (3-octet map).
pub fn pcr_selection(banks: &[(u16, &[u8])]) -> Vec<u8> {
    let mut v = (banks.len() as u32).to_be_bytes().to_vec();
    for (hash, pcrs) in banks {
        v.extend_from_slice(&hash.to_be_bytes());
        v.push(3);
        let mut map = [0u8; 3];
        for &p in *pcrs {
            map[usize::from(p / 8)] |= 1 << (p % 8);
        }
        v.extend_from_slice(&map);
    }
    v
}

/// `TPMT_SYM_DEF_OBJECT` (NULL when `alg` is NULL).
pub fn sym_def(alg_id: u16, bits: u16, mode: u16) -> Vec<u8> {
    if alg_id == alg::NULL {
        alg::NULL.to_be_bytes().to_vec()
    } else {
        cat(&[
            &alg_id.to_be_bytes(),
            &bits.to_be_bytes(),
            &mode.to_be_bytes(),
        ])
    }
}

/// A scheme `{ alg, hash }` (just `alg` when NULL).
pub fn scheme(alg_id: u16, hash: u16) -> Vec<u8> {
    if alg_id == alg::NULL {
        alg::NULL.to_be_bytes().to_vec()
    } else {
        cat(&[&alg_id.to_be_bytes(), &hash.to_be_bytes()])
    }
}

/// `TPMT_PUBLIC` of an RSA key.
#[allow(clippy::too_many_arguments)]
pub fn rsa_public(
    name_alg: u16,
    attrs: u32,
    policy: &[u8],
    sym: &[u8],
    scheme: &[u8],
    bits: u16,
    exponent: u32,
    n: &[u8],
) -> Vec<u8> {
    cat(&[
        &alg::RSA.to_be_bytes(),
        &name_alg.to_be_bytes(),
        &attrs.to_be_bytes(),
        &sized(policy),
        sym,
        scheme,
        &bits.to_be_bytes(),
        &exponent.to_be_bytes(),
        &sized(n),
    ])
}

/// `TPMT_PUBLIC` of an ECC key (KDF NULL).
#[allow(clippy::too_many_arguments)]
pub fn ecc_public(
    name_alg: u16,
    attrs: u32,
    policy: &[u8],
    sym: &[u8],
    scheme: &[u8],
    curve_id: u16,
    x: &[u8],
    y: &[u8],
) -> Vec<u8> {
    cat(&[
        &alg::ECC.to_be_bytes(),
        &name_alg.to_be_bytes(),
        &attrs.to_be_bytes(),
        &sized(policy),
        sym,
        scheme,
        &curve_id.to_be_bytes(),
        &alg::NULL.to_be_bytes(),
        &sized(x),
        &sized(y),
    ])
}

/// `TPMT_PUBLIC` of a KEYEDHASH object; `scheme` is a
/// `TPMT_KEYEDHASH_SCHEME` (NULL, HMAC+hash, XOR+hash+kdf).
pub fn keyedhash_public(
    name_alg: u16,
    attrs: u32,
    policy: &[u8],
    scheme: &[u8],
    unique: &[u8],
) -> Vec<u8> {
    cat(&[
        &alg::KEYEDHASH.to_be_bytes(),
        &name_alg.to_be_bytes(),
        &attrs.to_be_bytes(),
        &sized(policy),
        scheme,
        &sized(unique),
    ])
}

/// `TPMT_PUBLIC` of a SYMCIPHER object.
pub fn symcipher_public(
    name_alg: u16,
    attrs: u32,
    policy: &[u8],
    sym: &[u8],
    unique: &[u8],
) -> Vec<u8> {
    cat(&[
        &alg::SYMCIPHER.to_be_bytes(),
        &name_alg.to_be_bytes(),
        &attrs.to_be_bytes(),
        &sized(policy),
        sym,
        &sized(unique),
    ])
}

/// `TPMT_SENSITIVE` (no seed).
pub fn sensitive(kind: u16, auth: &[u8], seed: &[u8], secret: &[u8]) -> Vec<u8> {
    cat(&[
        &kind.to_be_bytes(),
        &sized(auth),
        &sized(seed),
        &sized(secret),
    ])
}

/// `TPM2B_SENSITIVE_CREATE`.
pub fn sensitive_create(auth: &[u8], data: &[u8]) -> Vec<u8> {
    sized(&cat(&[&sized(auth), &sized(data)]))
}

/// `TPM2_LoadExternal(inPrivate, inPublic, hierarchy)`; an empty
/// `private` means public-only.
pub fn load_external(private: &[u8], public: &[u8], hierarchy: u32) -> Cmd {
    Cmd::new(cc::LOADEXTERNAL)
        .b2(private)
        .b2(public)
        .u32(hierarchy)
}

/// `TPM2_CreatePrimary(hierarchy, sensitive, template, outsideInfo,
/// creationPCR)` with an empty password.
pub fn create_primary(hierarchy: u32, auth: &[u8], template: &[u8]) -> Cmd {
    Cmd::new(cc::CREATEPRIMARY)
        .handle(hierarchy)
        .pw(b"")
        .bytes(&sensitive_create(auth, b""))
        .b2(template)
        .b2(b"")
        .u32(0)
}

/// `TPM2_FlushContext(h)`.
pub fn flush(h: u32) -> Cmd {
    Cmd::new(cc::FLUSHCONTEXT).param_handle(h)
}

/// `TPM2_GetCapability(cap, property, count)`.
pub fn get_capability(cap: u32, property: u32, count: u32) -> Cmd {
    Cmd::new(cc::GETCAPABILITY)
        .u32(cap)
        .u32(property)
        .u32(count)
}

/// `TPM2_StartAuthSession` unbound, unsalted: `kind` 0 HMAC, 1 policy,
/// 3 trial; `symmetric` NULL.
pub fn start_session(kind: u8, hash: u16) -> Cmd {
    Cmd::new(cc::STARTAUTHSESSION)
        .handle(rh::NULL)
        .handle(rh::NULL)
        .b2(&[0x11; 16])
        .b2(b"")
        .u8(kind)
        .u16(alg::NULL)
        .u16(hash)
}

/// `TPM2_PolicyGetDigest(session)`.
pub fn policy_get_digest(session: u32) -> Cmd {
    Cmd::new(cc::POLICYGETDIGEST).handle(session)
}

/// `TPM2_NV_DefineSpace(authHandle, auth, publicInfo)` with an empty
/// password for `auth_handle`.
pub fn nv_define(auth_handle: u32, auth: &[u8], nv_public: &[u8]) -> Cmd {
    Cmd::new(cc::NV_DEFINESPACE)
        .handle(auth_handle)
        .pw(b"")
        .b2(auth)
        .b2(nv_public)
}

/// `TPMS_NV_PUBLIC`.
pub fn nv_public(index: u32, name_alg: u16, attrs: u32, policy: &[u8], size: u16) -> Vec<u8> {
    cat(&[
        &index.to_be_bytes(),
        &name_alg.to_be_bytes(),
        &attrs.to_be_bytes(),
        &sized(policy),
        &size.to_be_bytes(),
    ])
}
