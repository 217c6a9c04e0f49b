//! SVSM call numbers, result codes and the register-level request/response
//! model.
//!
//! An SVSM call arrives as registers: `RAX = (protocol << 32) | call_id`,
//! parameters in `RCX`, `RDX`, `R8` (and `R9`, unused by the vTPM). On
//! return `RAX` holds the result code and `RCX`, `RDX`, `R8` may carry
//! outputs. [`SvsmRequest`] and [`SvsmResponse`] are exactly that, so an
//! SVSM adapts [`crate::VtpmService::handle`] to its own call dispatch by
//! copying four registers in and four out.
//!
//! Every number here is taken from the implementations that quote the AMD
//! SVSM specification (publication 58019): Linux `arch/x86/include/asm/sev.h`
//! and `include/linux/tpm_svsm.h`, COCONUT-SVSM `kernel/src/protocols/`,
//! EDK2 `OvmfPkg/Library/AmdSvsmLib`. The project's notes
//! (`shared/notes/svsm-landscape.md`, section 1) list them with sources.

use core::fmt;

/// Protocol number of the core protocol (SVSM spec, chapter 4).
pub const SVSM_CORE_PROTOCOL: u32 = 0;
/// Protocol number of the attestation protocol (SVSM spec, chapter 7).
pub const SVSM_ATTEST_PROTOCOL: u32 = 1;
/// Protocol number of the vTPM protocol (SVSM spec, chapter 8).
pub const SVSM_VTPM_PROTOCOL: u32 = 2;

/// Core protocol call `SVSM_CORE_QUERY_PROTOCOL`.
pub const SVSM_CORE_QUERY_PROTOCOL: u32 = 6;

/// vTPM protocol call `SVSM_VTPM_QUERY` (SVSM spec, table 14).
pub const SVSM_VTPM_QUERY: u32 = 0;
/// vTPM protocol call `SVSM_VTPM_CMD` (SVSM spec, table 14).
pub const SVSM_VTPM_CMD: u32 = 1;

/// Lowest vTPM protocol version this module implements.
pub const VTPM_PROTOCOL_VERSION_MIN: u32 = 1;
/// Highest vTPM protocol version this module implements.
pub const VTPM_PROTOCOL_VERSION_MAX: u32 = 1;

/// MSSIM platform commands (the reference simulator's `TpmTcpProtocol.h`),
/// which the SVSM vTPM protocol reuses as "platform commands".
pub mod platform_command {
    /// `TPM_SIGNAL_POWER_ON`.
    pub const POWER_ON: u32 = 1;
    /// `TPM_SIGNAL_POWER_OFF`.
    pub const POWER_OFF: u32 = 2;
    /// `TPM_SIGNAL_PHYS_PRES_ON`.
    pub const PHYS_PRES_ON: u32 = 3;
    /// `TPM_SIGNAL_PHYS_PRES_OFF`.
    pub const PHYS_PRES_OFF: u32 = 4;
    /// `TPM_SIGNAL_HASH_START`.
    pub const HASH_START: u32 = 5;
    /// `TPM_SIGNAL_HASH_DATA`.
    pub const HASH_DATA: u32 = 6;
    /// `TPM_SIGNAL_HASH_END`.
    pub const HASH_END: u32 = 7;
    /// `TPM_SEND_COMMAND`: the only platform command the vTPM protocol
    /// implements.
    pub const SEND_COMMAND: u32 = 8;
    /// `TPM_SIGNAL_CANCEL_ON`.
    pub const CANCEL_ON: u32 = 9;
    /// `TPM_SIGNAL_CANCEL_OFF`.
    pub const CANCEL_OFF: u32 = 10;
    /// `TPM_SIGNAL_NV_ON`.
    pub const NV_ON: u32 = 11;
    /// `TPM_SIGNAL_NV_OFF`.
    pub const NV_OFF: u32 = 12;
    /// `TPM_SIGNAL_KEY_CACHE_ON`.
    pub const KEY_CACHE_ON: u32 = 13;
    /// `TPM_SIGNAL_KEY_CACHE_OFF`.
    pub const KEY_CACHE_OFF: u32 = 14;
    /// `TPM_REMOTE_HANDSHAKE`.
    pub const REMOTE_HANDSHAKE: u32 = 15;
    /// `TPM_SET_ALTERNATIVE_RESULT`.
    pub const SET_ALTERNATIVE_RESULT: u32 = 16;
    /// `TPM_SIGNAL_RESET`.
    pub const RESET: u32 = 17;
    /// `TPM_SIGNAL_RESTART`.
    pub const RESTART: u32 = 18;
    /// `TPM_SESSION_END`.
    pub const SESSION_END: u32 = 20;
    /// `TPM_STOP`.
    pub const STOP: u32 = 21;
    /// `TPM_GET_COMMAND_RESPONSE_SIZES`.
    pub const GET_COMMAND_RESPONSE_SIZES: u32 = 25;
    /// `TPM_ACT_GET_SIGNALED`.
    pub const ACT_GET_SIGNALED: u32 = 26;
    /// `TPM_TEST_FAILURE_MODE`.
    pub const TEST_FAILURE_MODE: u32 = 30;

    /// Every platform command number the MSSIM protocol defines. A request
    /// naming one of these other than [`SEND_COMMAND`] is well formed but
    /// not supported (`SVSM_ERR_UNSUPPORTED_CALL`); any other number is a
    /// malformed request (`SVSM_ERR_INVALID_PARAMETER`).
    pub const KNOWN: [u32; 23] = [
        POWER_ON,
        POWER_OFF,
        PHYS_PRES_ON,
        PHYS_PRES_OFF,
        HASH_START,
        HASH_DATA,
        HASH_END,
        SEND_COMMAND,
        CANCEL_ON,
        CANCEL_OFF,
        NV_ON,
        NV_OFF,
        KEY_CACHE_ON,
        KEY_CACHE_OFF,
        REMOTE_HANDSHAKE,
        SET_ALTERNATIVE_RESULT,
        RESET,
        RESTART,
        SESSION_END,
        STOP,
        GET_COMMAND_RESPONSE_SIZES,
        ACT_GET_SIGNALED,
        TEST_FAILURE_MODE,
    ];

    /// True for a platform command number the MSSIM protocol defines.
    pub fn is_known(cmd: u32) -> bool {
        KNOWN.contains(&cmd)
    }
}

/// The platform-command bitmap `SVSM_VTPM_QUERY` returns in `RCX`: bit `n`
/// set means platform command `n` is supported. Only `TPM_SEND_COMMAND`
/// (bit 8), so `0x100`.
pub const SUPPORTED_PLATFORM_COMMANDS: u64 = 1 << platform_command::SEND_COMMAND;

/// The vTPM feature bits `SVSM_VTPM_QUERY` returns in `RDX`: none are
/// defined in revision 1.00 of the SVSM spec, so zero.
pub const SUPPORTED_FEATURES: u64 = 0;

/// `SVSM_SUCCESS`.
pub const SVSM_SUCCESS: u64 = 0;

/// An SVSM-level failure, returned in `RAX` (SVSM spec, "result codes";
/// Linux `SVSM_ERR_*`, COCONUT `protocols/errors.rs`).
///
/// TPM-level failures are not `SvsmError`s: they come back as
/// `SVSM_SUCCESS` with a TPM response code in the response buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SvsmError {
    /// `SVSM_ERR_INCOMPLETE` (0x8000_0000).
    Incomplete,
    /// `SVSM_ERR_UNSUPPORTED_PROTOCOL` (0x8000_0001).
    UnsupportedProtocol,
    /// `SVSM_ERR_UNSUPPORTED_CALL` (0x8000_0002).
    UnsupportedCall,
    /// `SVSM_ERR_INVALID_ADDRESS` (0x8000_0003).
    InvalidAddress,
    /// `SVSM_ERR_INVALID_FORMAT` (0x8000_0004).
    InvalidFormat,
    /// `SVSM_ERR_INVALID_PARAMETER` (0x8000_0005).
    InvalidParameter,
    /// `SVSM_ERR_INVALID_REQUEST` (0x8000_0006).
    InvalidRequest,
    /// `SVSM_ERR_BUSY` (0x8000_0007).
    Busy,
}

impl SvsmError {
    /// The result code as it goes into `RAX`.
    pub const fn code(self) -> u32 {
        match self {
            SvsmError::Incomplete => 0x8000_0000,
            SvsmError::UnsupportedProtocol => 0x8000_0001,
            SvsmError::UnsupportedCall => 0x8000_0002,
            SvsmError::InvalidAddress => 0x8000_0003,
            SvsmError::InvalidFormat => 0x8000_0004,
            SvsmError::InvalidParameter => 0x8000_0005,
            SvsmError::InvalidRequest => 0x8000_0006,
            SvsmError::Busy => 0x8000_0007,
        }
    }

    /// The error a result code names, `None` for success and for codes this
    /// module does not know (protocol-specific codes `0x8000_1000 + n`).
    pub const fn from_code(code: u64) -> Option<SvsmError> {
        Some(match code {
            0x8000_0000 => SvsmError::Incomplete,
            0x8000_0001 => SvsmError::UnsupportedProtocol,
            0x8000_0002 => SvsmError::UnsupportedCall,
            0x8000_0003 => SvsmError::InvalidAddress,
            0x8000_0004 => SvsmError::InvalidFormat,
            0x8000_0005 => SvsmError::InvalidParameter,
            0x8000_0006 => SvsmError::InvalidRequest,
            0x8000_0007 => SvsmError::Busy,
            _ => return None,
        })
    }
}

impl fmt::Display for SvsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            SvsmError::Incomplete => "SVSM_ERR_INCOMPLETE",
            SvsmError::UnsupportedProtocol => "SVSM_ERR_UNSUPPORTED_PROTOCOL",
            SvsmError::UnsupportedCall => "SVSM_ERR_UNSUPPORTED_CALL",
            SvsmError::InvalidAddress => "SVSM_ERR_INVALID_ADDRESS",
            SvsmError::InvalidFormat => "SVSM_ERR_INVALID_FORMAT",
            SvsmError::InvalidParameter => "SVSM_ERR_INVALID_PARAMETER",
            SvsmError::InvalidRequest => "SVSM_ERR_INVALID_REQUEST",
            SvsmError::Busy => "SVSM_ERR_BUSY",
        };
        write!(f, "{name} ({:#x})", self.code())
    }
}

impl core::error::Error for SvsmError {}

/// One SVSM call as the registers carry it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SvsmRequest {
    /// Protocol number (`RAX[63:32]`).
    pub protocol: u32,
    /// Call identifier (`RAX[31:0]`).
    pub call_id: u32,
    /// First parameter register.
    pub rcx: u64,
    /// Second parameter register.
    pub rdx: u64,
    /// Third parameter register.
    pub r8: u64,
}

impl SvsmRequest {
    /// Split `RAX` into protocol and call id.
    pub const fn from_registers(rax: u64, rcx: u64, rdx: u64, r8: u64) -> Self {
        // Both halves fit by construction.
        #[allow(clippy::cast_possible_truncation)]
        SvsmRequest {
            protocol: (rax >> 32) as u32,
            call_id: rax as u32,
            rcx,
            rdx,
            r8,
        }
    }

    /// `RAX` as the guest loaded it.
    pub const fn rax(&self) -> u64 {
        ((self.protocol as u64) << 32) | self.call_id as u64
    }

    /// An `SVSM_VTPM_QUERY` call.
    pub const fn vtpm_query() -> Self {
        SvsmRequest {
            protocol: SVSM_VTPM_PROTOCOL,
            call_id: SVSM_VTPM_QUERY,
            rcx: 0,
            rdx: 0,
            r8: 0,
        }
    }

    /// An `SVSM_VTPM_CMD` call on the buffer at guest-physical `gpa`.
    pub const fn vtpm_cmd(gpa: u64) -> Self {
        SvsmRequest {
            protocol: SVSM_VTPM_PROTOCOL,
            call_id: SVSM_VTPM_CMD,
            rcx: gpa,
            rdx: 0,
            r8: 0,
        }
    }

    /// A core `SVSM_CORE_QUERY_PROTOCOL` call asking about `protocol` at
    /// `version`.
    pub const fn query_protocol(protocol: u32, version: u32) -> Self {
        SvsmRequest {
            protocol: SVSM_CORE_PROTOCOL,
            call_id: SVSM_CORE_QUERY_PROTOCOL,
            rcx: ((protocol as u64) << 32) | version as u64,
            rdx: 0,
            r8: 0,
        }
    }
}

/// The outcome of one SVSM call: the result and the registers to write
/// back. Registers a call does not produce keep their input values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SvsmResponse {
    /// `Ok` is `SVSM_SUCCESS`; an error is its result code.
    pub result: Result<(), SvsmError>,
    /// `RCX` after the call.
    pub rcx: u64,
    /// `RDX` after the call.
    pub rdx: u64,
    /// `R8` after the call.
    pub r8: u64,
}

impl SvsmResponse {
    /// `RAX` after the call: `SVSM_SUCCESS` or the error's result code.
    pub const fn rax(&self) -> u64 {
        match self.result {
            Ok(()) => SVSM_SUCCESS,
            Err(e) => e.code() as u64,
        }
    }

    /// A response that leaves the registers as they were.
    pub(crate) const fn unchanged(req: &SvsmRequest, result: Result<(), SvsmError>) -> Self {
        SvsmResponse {
            result,
            rcx: req.rcx,
            rdx: req.rdx,
            r8: req.r8,
        }
    }
}

/// The answer to core `SVSM_CORE_QUERY_PROTOCOL` when it asks about the
/// vTPM protocol: `RCX` in is `(protocol << 32) | version`; the answer is
/// `Some((max_version << 32) | min_version)` when `version` is one this
/// module implements, `Some(0)` for a version it does not, and `None` when
/// the question is about another protocol (the SVSM's own core protocol
/// answers those).
///
/// An SVSM whose core protocol handler answers `QUERY_PROTOCOL` itself calls
/// this for protocol 2.
pub const fn query_protocol(rcx: u64) -> Option<u64> {
    #[allow(clippy::cast_possible_truncation)]
    let (protocol, version) = ((rcx >> 32) as u32, rcx as u32);
    if protocol != SVSM_VTPM_PROTOCOL {
        return None;
    }
    if version >= VTPM_PROTOCOL_VERSION_MIN && version <= VTPM_PROTOCOL_VERSION_MAX {
        Some(((VTPM_PROTOCOL_VERSION_MAX as u64) << 32) | VTPM_PROTOCOL_VERSION_MIN as u64)
    } else {
        Some(0)
    }
}
