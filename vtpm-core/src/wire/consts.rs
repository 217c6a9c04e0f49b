//! Constants of Part 2 other than command codes and response codes.

use super::{AlgId, EccCurve, Handle, StructTag};

/// `TPM_ALG_ID` values (Part 2, 6.3).
pub mod alg {
    use super::AlgId;
    pub const ERROR: AlgId = AlgId(0x0000);
    pub const RSA: AlgId = AlgId(0x0001);
    pub const TDES: AlgId = AlgId(0x0003);
    pub const SHA1: AlgId = AlgId(0x0004);
    pub const HMAC: AlgId = AlgId(0x0005);
    pub const AES: AlgId = AlgId(0x0006);
    pub const MGF1: AlgId = AlgId(0x0007);
    pub const KEYEDHASH: AlgId = AlgId(0x0008);
    pub const XOR: AlgId = AlgId(0x000A);
    pub const SHA256: AlgId = AlgId(0x000B);
    pub const SHA384: AlgId = AlgId(0x000C);
    pub const SHA512: AlgId = AlgId(0x000D);
    pub const NULL: AlgId = AlgId(0x0010);
    pub const SM3_256: AlgId = AlgId(0x0012);
    pub const SM4: AlgId = AlgId(0x0013);
    pub const RSASSA: AlgId = AlgId(0x0014);
    pub const RSAES: AlgId = AlgId(0x0015);
    pub const RSAPSS: AlgId = AlgId(0x0016);
    pub const OAEP: AlgId = AlgId(0x0017);
    pub const ECDSA: AlgId = AlgId(0x0018);
    pub const ECDH: AlgId = AlgId(0x0019);
    pub const ECDAA: AlgId = AlgId(0x001A);
    pub const SM2: AlgId = AlgId(0x001B);
    pub const ECSCHNORR: AlgId = AlgId(0x001C);
    pub const ECMQV: AlgId = AlgId(0x001D);
    pub const HKDF: AlgId = AlgId(0x001F);
    pub const KDF1_SP800_56A: AlgId = AlgId(0x0020);
    pub const KDF2: AlgId = AlgId(0x0021);
    pub const KDF1_SP800_108: AlgId = AlgId(0x0022);
    pub const ECC: AlgId = AlgId(0x0023);
    pub const SYMCIPHER: AlgId = AlgId(0x0025);
    pub const CAMELLIA: AlgId = AlgId(0x0026);
    pub const SHA3_256: AlgId = AlgId(0x0027);
    pub const SHA3_384: AlgId = AlgId(0x0028);
    pub const SHA3_512: AlgId = AlgId(0x0029);
    pub const CMAC: AlgId = AlgId(0x003F);
    pub const CTR: AlgId = AlgId(0x0040);
    pub const OFB: AlgId = AlgId(0x0041);
    pub const CBC: AlgId = AlgId(0x0042);
    pub const CFB: AlgId = AlgId(0x0043);
    pub const ECB: AlgId = AlgId(0x0044);
    pub const MLKEM: AlgId = AlgId(0x00A0);
    pub const MLDSA: AlgId = AlgId(0x00A1);
    pub const HASH_MLDSA: AlgId = AlgId(0x00A2);
}

/// `TPM_ECC_CURVE` values (Part 2, 6.4).
pub mod curve {
    use super::EccCurve;
    pub const NONE: EccCurve = EccCurve(0x0000);
    pub const NIST_P192: EccCurve = EccCurve(0x0001);
    pub const NIST_P224: EccCurve = EccCurve(0x0002);
    pub const NIST_P256: EccCurve = EccCurve(0x0003);
    pub const NIST_P384: EccCurve = EccCurve(0x0004);
    pub const NIST_P521: EccCurve = EccCurve(0x0005);
    pub const BN_P256: EccCurve = EccCurve(0x0010);
    pub const SM2_P256: EccCurve = EccCurve(0x0020);
}

/// `TPM_ST` structure tags (Part 2, 6.9).
pub mod st {
    use super::StructTag;
    pub const RSP_COMMAND: StructTag = StructTag(0x00C4);
    pub const NULL: StructTag = StructTag(0x8000);
    pub const NO_SESSIONS: StructTag = StructTag(0x8001);
    pub const SESSIONS: StructTag = StructTag(0x8002);
    pub const ATTEST_NV: StructTag = StructTag(0x8014);
    pub const ATTEST_COMMAND_AUDIT: StructTag = StructTag(0x8015);
    pub const ATTEST_SESSION_AUDIT: StructTag = StructTag(0x8016);
    pub const ATTEST_CERTIFY: StructTag = StructTag(0x8017);
    pub const ATTEST_QUOTE: StructTag = StructTag(0x8018);
    pub const ATTEST_TIME: StructTag = StructTag(0x8019);
    pub const ATTEST_CREATION: StructTag = StructTag(0x801A);
    pub const ATTEST_NV_DIGEST: StructTag = StructTag(0x801C);
    pub const CREATION: StructTag = StructTag(0x8021);
    pub const VERIFIED: StructTag = StructTag(0x8022);
    pub const AUTH_SECRET: StructTag = StructTag(0x8023);
    pub const HASHCHECK: StructTag = StructTag(0x8024);
    pub const AUTH_SIGNED: StructTag = StructTag(0x8025);
    /// `TPMT_TK_VERIFIED` of `TPM2_VerifySequenceComplete` (v185).
    pub const MESSAGE_VERIFIED: StructTag = StructTag(0x8026);
    /// `TPMT_TK_VERIFIED` of `TPM2_VerifyDigestSignature` (v185).
    pub const DIGEST_VERIFIED: StructTag = StructTag(0x8027);
    pub const FU_MANIFEST: StructTag = StructTag(0x8029);
}

/// `TPM_SU` startup types (Part 2, 6.10).
pub mod su {
    pub const CLEAR: u16 = 0x0000;
    pub const STATE: u16 = 0x0001;
}

/// `TPM_SE` session types (Part 2, 6.11).
pub mod se {
    pub const HMAC: u8 = 0x00;
    pub const POLICY: u8 = 0x01;
    pub const TRIAL: u8 = 0x03;
}

/// `TPM_CAP` capabilities (Part 2, 6.12).
pub mod cap {
    pub const ALGS: u32 = 0x0000_0000;
    pub const HANDLES: u32 = 0x0000_0001;
    pub const COMMANDS: u32 = 0x0000_0002;
    pub const PP_COMMANDS: u32 = 0x0000_0003;
    pub const AUDIT_COMMANDS: u32 = 0x0000_0004;
    pub const PCRS: u32 = 0x0000_0005;
    pub const TPM_PROPERTIES: u32 = 0x0000_0006;
    pub const PCR_PROPERTIES: u32 = 0x0000_0007;
    pub const ECC_CURVES: u32 = 0x0000_0008;
    pub const AUTH_POLICIES: u32 = 0x0000_0009;
    pub const ACT: u32 = 0x0000_000A;
    pub const PUB_KEYS: u32 = 0x0000_000B;
    pub const SPDM_SESSION_INFO: u32 = 0x0000_000C;
    pub const LAST: u32 = 0x0000_000C;
    pub const VENDOR_PROPERTY: u32 = 0x0000_0100;
}

/// `TPM_PT` properties (Part 2, 6.13).
pub mod pt {
    pub const GROUP: u32 = 0x100;
    pub const FIXED: u32 = GROUP;
    pub const VAR: u32 = GROUP * 2;
    pub const FAMILY_INDICATOR: u32 = FIXED;
    pub const LEVEL: u32 = FIXED + 1;
    pub const REVISION: u32 = FIXED + 2;
    pub const DAY_OF_YEAR: u32 = FIXED + 3;
    pub const YEAR: u32 = FIXED + 4;
    pub const MANUFACTURER: u32 = FIXED + 5;
    pub const VENDOR_STRING_1: u32 = FIXED + 6;
    pub const VENDOR_STRING_2: u32 = FIXED + 7;
    pub const VENDOR_STRING_3: u32 = FIXED + 8;
    pub const VENDOR_STRING_4: u32 = FIXED + 9;
    pub const VENDOR_TPM_TYPE: u32 = FIXED + 10;
    pub const FIRMWARE_VERSION_1: u32 = FIXED + 11;
    pub const FIRMWARE_VERSION_2: u32 = FIXED + 12;
    pub const INPUT_BUFFER: u32 = FIXED + 13;
    pub const HR_TRANSIENT_MIN: u32 = FIXED + 14;
    pub const HR_PERSISTENT_MIN: u32 = FIXED + 15;
    pub const HR_LOADED_MIN: u32 = FIXED + 16;
    pub const ACTIVE_SESSIONS_MAX: u32 = FIXED + 17;
    pub const PCR_COUNT: u32 = FIXED + 18;
    pub const PCR_SELECT_MIN: u32 = FIXED + 19;
    pub const CONTEXT_GAP_MAX: u32 = FIXED + 20;
    pub const NV_COUNTERS_MAX: u32 = FIXED + 22;
    pub const NV_INDEX_MAX: u32 = FIXED + 23;
    pub const MEMORY: u32 = FIXED + 24;
    pub const CLOCK_UPDATE: u32 = FIXED + 25;
    pub const CONTEXT_HASH: u32 = FIXED + 26;
    pub const CONTEXT_SYM: u32 = FIXED + 27;
    pub const CONTEXT_SYM_SIZE: u32 = FIXED + 28;
    pub const ORDERLY_COUNT: u32 = FIXED + 29;
    pub const MAX_COMMAND_SIZE: u32 = FIXED + 30;
    pub const MAX_RESPONSE_SIZE: u32 = FIXED + 31;
    pub const MAX_DIGEST: u32 = FIXED + 32;
    pub const MAX_OBJECT_CONTEXT: u32 = FIXED + 33;
    pub const MAX_SESSION_CONTEXT: u32 = FIXED + 34;
    pub const PS_FAMILY_INDICATOR: u32 = FIXED + 35;
    pub const PS_LEVEL: u32 = FIXED + 36;
    pub const PS_REVISION: u32 = FIXED + 37;
    pub const PS_DAY_OF_YEAR: u32 = FIXED + 38;
    pub const PS_YEAR: u32 = FIXED + 39;
    pub const SPLIT_MAX: u32 = FIXED + 40;
    pub const TOTAL_COMMANDS: u32 = FIXED + 41;
    pub const LIBRARY_COMMANDS: u32 = FIXED + 42;
    pub const VENDOR_COMMANDS: u32 = FIXED + 43;
    pub const NV_BUFFER_MAX: u32 = FIXED + 44;
    pub const MODES: u32 = FIXED + 45;
    pub const MAX_CAP_BUFFER: u32 = FIXED + 46;
    pub const FIRMWARE_SVN: u32 = FIXED + 47;
    pub const FIRMWARE_MAX_SVN: u32 = FIXED + 48;
    pub const ML_PARAMETER_SETS: u32 = FIXED + 49;
    pub const PERMANENT: u32 = VAR;
    pub const STARTUP_CLEAR: u32 = VAR + 1;
    pub const HR_NV_INDEX: u32 = VAR + 2;
    pub const HR_LOADED: u32 = VAR + 3;
    pub const HR_LOADED_AVAIL: u32 = VAR + 4;
    pub const HR_ACTIVE: u32 = VAR + 5;
    pub const HR_ACTIVE_AVAIL: u32 = VAR + 6;
    pub const HR_TRANSIENT_AVAIL: u32 = VAR + 7;
    pub const HR_PERSISTENT: u32 = VAR + 8;
    pub const HR_PERSISTENT_AVAIL: u32 = VAR + 9;
    pub const NV_COUNTERS: u32 = VAR + 10;
    pub const NV_COUNTERS_AVAIL: u32 = VAR + 11;
    pub const ALGORITHM_SET: u32 = VAR + 12;
    pub const LOADED_CURVES: u32 = VAR + 13;
    pub const LOCKOUT_COUNTER: u32 = VAR + 14;
    pub const MAX_AUTH_FAIL: u32 = VAR + 15;
    pub const LOCKOUT_INTERVAL: u32 = VAR + 16;
    pub const LOCKOUT_RECOVERY: u32 = VAR + 17;
    pub const NV_WRITE_RECOVERY: u32 = VAR + 18;
    pub const AUDIT_COUNTER_0: u32 = VAR + 19;
    pub const AUDIT_COUNTER_1: u32 = VAR + 20;
}

/// `TPM_PT_PCR` PCR properties (Part 2, 6.14).
pub mod pt_pcr {
    pub const SAVE: u32 = 0x00;
    pub const EXTEND_L0: u32 = 0x01;
    pub const RESET_L0: u32 = 0x02;
    pub const EXTEND_L1: u32 = 0x03;
    pub const RESET_L1: u32 = 0x04;
    pub const EXTEND_L2: u32 = 0x05;
    pub const RESET_L2: u32 = 0x06;
    pub const EXTEND_L3: u32 = 0x07;
    pub const RESET_L3: u32 = 0x08;
    pub const EXTEND_L4: u32 = 0x09;
    pub const RESET_L4: u32 = 0x0A;
    pub const NO_INCREMENT: u32 = 0x11;
    pub const DRTM_RESET: u32 = 0x12;
    pub const POLICY: u32 = 0x13;
    pub const AUTH: u32 = 0x14;
    pub const LAST: u32 = 0x14;
}

/// `TPM_HT` handle types (Part 2, 7.2).
pub mod ht {
    pub const PCR: u8 = 0x00;
    pub const NV_INDEX: u8 = 0x01;
    pub const HMAC_SESSION: u8 = 0x02;
    pub const POLICY_SESSION: u8 = 0x03;
    pub const PERMANENT: u8 = 0x40;
    pub const TRANSIENT: u8 = 0x80;
    pub const PERSISTENT: u8 = 0x81;
    pub const AC: u8 = 0x90;
}

/// Permanent handles `TPM_RH` (Part 2, 7.4) and handle range boundaries.
pub mod rh {
    use super::Handle;
    pub const OWNER: Handle = Handle(0x4000_0001);
    pub const NULL: Handle = Handle(0x4000_0007);
    pub const UNASSIGNED: Handle = Handle(0x4000_0008);
    pub const PW: Handle = Handle(0x4000_0009);
    pub const LOCKOUT: Handle = Handle(0x4000_000A);
    pub const ENDORSEMENT: Handle = Handle(0x4000_000B);
    pub const PLATFORM: Handle = Handle(0x4000_000C);
    pub const PLATFORM_NV: Handle = Handle(0x4000_000D);
    pub const AUTH_00: Handle = Handle(0x4000_0010);
    pub const AUTH_FF: Handle = Handle(0x4000_010F);
    pub const ACT_0: Handle = Handle(0x4000_0110);
    pub const ACT_F: Handle = Handle(0x4000_011F);
    pub const FW_OWNER: Handle = Handle(0x4000_0140);
    pub const FW_ENDORSEMENT: Handle = Handle(0x4000_0141);
    pub const FW_PLATFORM: Handle = Handle(0x4000_0142);
    pub const FW_NULL: Handle = Handle(0x4000_0143);

    pub const PCR_FIRST: u32 = 0x0000_0000;
    pub const NV_INDEX_FIRST: u32 = 0x0100_0000;
    pub const NV_INDEX_LAST: u32 = 0x01FF_FFFF;
    pub const HMAC_SESSION_FIRST: u32 = 0x0200_0000;
    pub const HMAC_SESSION_LAST: u32 = 0x02FF_FFFF;
    pub const POLICY_SESSION_FIRST: u32 = 0x0300_0000;
    pub const POLICY_SESSION_LAST: u32 = 0x03FF_FFFF;
    pub const PERMANENT_FIRST: u32 = 0x4000_0000;
    pub const TRANSIENT_FIRST: u32 = 0x8000_0000;
    pub const TRANSIENT_LAST: u32 = 0x80FF_FFFF;
    pub const PERSISTENT_FIRST: u32 = 0x8100_0000;
    pub const PERSISTENT_LAST: u32 = 0x81FF_FFFF;
    /// Persistent handles the owner may use (Part 2, 7.6 / PC client: 0x81000000-0x817FFFFF).
    pub const PERSISTENT_OWNER_LAST: u32 = 0x817F_FFFF;
    pub const PERSISTENT_PLATFORM_FIRST: u32 = 0x8180_0000;
}

/// Vendor identification: honest values for a software TPM (DESIGN.md).
pub mod vendor {
    /// `"SW  "`: the suite and clients treat this as a software TPM.
    pub const STRING_1: u32 = u32::from_be_bytes(*b"SW  ");
    /// `" TPM"`.
    pub const STRING_2: u32 = u32::from_be_bytes(*b" TPM");
    /// Second half of the vendor string: `"vtpm"`.
    pub const STRING_3: u32 = u32::from_be_bytes(*b"vtpm");
    pub const STRING_4: u32 = 0;
}

/// Part 2 maximum sizes for this implementation (`TPMU_HA` is SHA-512 sized).
pub mod sizes {
    /// Largest digest this TPM implements (SHA-512).
    pub const MAX_DIGEST: usize = 64;
    /// `MAX_DIGEST_BUFFER` / `TPM_PT_INPUT_BUFFER`.
    pub const MAX_DIGEST_BUFFER: usize = 1024;
    /// `MAX_NV_BUFFER_SIZE` / `TPM_PT_NV_BUFFER_MAX`.
    pub const MAX_NV_BUFFER: usize = 1024;
    /// `MAX_CAP_BUFFER` / `TPM_PT_MAX_CAP_BUFFER`.
    pub const MAX_CAP_BUFFER: usize = 1024;
    /// `MAX_SYM_DATA`.
    pub const MAX_SYM_DATA: usize = 128;
    /// `MAX_SYM_KEY_BYTES` (AES-256).
    pub const MAX_SYM_KEY_BYTES: usize = 32;
    /// `MAX_SYM_BLOCK_SIZE`.
    pub const MAX_SYM_BLOCK: usize = 16;
    /// `MAX_RSA_KEY_BYTES` (RSA-4096).
    pub const MAX_RSA_KEY_BYTES: usize = 512;
    /// `MAX_ECC_KEY_BYTES` (P-521 is 66; P-384 48).
    pub const MAX_ECC_KEY_BYTES: usize = 66;
    /// `IMPLEMENTATION_PCR` (PC client).
    pub const PCR_COUNT: usize = 24;
    /// `PCR_SELECT_MIN` in octets (PC client: all 24 PCRs).
    pub const PCR_SELECT_MIN: usize = 3;
    /// `PCR_SELECT_MAX` in octets.
    pub const PCR_SELECT_MAX: usize = 3;
    /// `HASH_COUNT`: the number of hash algorithms implemented.
    pub const HASH_COUNT: usize = 4;
}
