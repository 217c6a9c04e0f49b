//! The vTPM protocol handler: one SVSM call in, registers out.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::fmt;

use vtpm_core::state::Phase;
use vtpm_core::{Platform, Rc, Tpm};
use zeroize::Zeroize;

use crate::memory::{GuestMemory, PagePolicy};
use crate::page::{self, SendCommandRequest, MAX_COMMAND_SIZE, MAX_RESPONSE_SIZE, PAGE_SIZE};
use crate::protocol::{
    query_protocol, SvsmError, SvsmRequest, SvsmResponse, SUPPORTED_FEATURES,
    SUPPORTED_PLATFORM_COMMANDS, SVSM_CORE_PROTOCOL, SVSM_CORE_QUERY_PROTOCOL, SVSM_VTPM_CMD,
    SVSM_VTPM_PROTOCOL, SVSM_VTPM_QUERY,
};

/// The highest TPM locality (0–4; extended localities are not offered).
pub const MAX_TPM_LOCALITY: u8 = 4;

/// How the service judges what a guest asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ServiceOptions {
    /// The highest locality a request may name (at most
    /// [`MAX_TPM_LOCALITY`]); a higher one is `SVSM_ERR_INVALID_PARAMETER`.
    ///
    /// Default 0. The SVSM spec leaves locality use undefined and COCONUT
    /// refuses anything but 0; Linux and OVMF always send 0. The guest
    /// merely *claims* a locality, so allowing more lets the guest OS act
    /// as locality 1–4 (e.g. reset the DRTM PCRs 17–22 at locality 4):
    /// raise it only for a guest trusted with that.
    pub max_locality: u8,
    /// Which buffer addresses are accepted.
    pub page_policy: PagePolicy,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        ServiceOptions {
            max_locality: 0,
            page_policy: PagePolicy::Aligned,
        }
    }
}

/// Why a [`VtpmService`] could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceError {
    /// The engine accepts commands larger than a request page can carry.
    CommandSizeTooLarge {
        /// The engine's `max_command_size`.
        configured: usize,
        /// The page's limit (4087).
        max: usize,
    },
    /// The engine may produce responses larger than a page can carry.
    ResponseSizeTooLarge {
        /// The engine's `max_response_size`.
        configured: usize,
        /// The page's limit (4092).
        max: usize,
    },
    /// `max_locality` is above 4.
    LocalityOutOfRange(u8),
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::CommandSizeTooLarge { configured, max } => write!(
                f,
                "engine max_command_size {configured} exceeds the SVSM page limit {max}"
            ),
            ServiceError::ResponseSizeTooLarge { configured, max } => write!(
                f,
                "engine max_response_size {configured} exceeds the SVSM page limit {max}"
            ),
            ServiceError::LocalityOutOfRange(l) => {
                write!(f, "max_locality {l} is above {MAX_TPM_LOCALITY}")
            }
        }
    }
}

impl core::error::Error for ServiceError {}

/// The vTPM as an SVSM service: a TPM engine plus the vTPM protocol.
///
/// The SVSM keeps one of these (behind its own lock: calls must not run
/// concurrently) and hands every call for protocol 2, and core
/// `QUERY_PROTOCOL` about protocol 2, to [`VtpmService::handle`].
pub struct VtpmService<P: Platform> {
    tpm: Tpm<P>,
    options: ServiceOptions,
    /// Private copy of the guest's page; wiped after every call.
    page: Box<[u8; PAGE_SIZE]>,
}

impl<P: Platform> fmt::Debug for VtpmService<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VtpmService")
            .field("tpm", &self.tpm)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<P: Platform> VtpmService<P> {
    /// Wrap an engine (normally powered on, see [`crate::storage::start`]).
    /// Fails if the engine's command or response limits exceed what the
    /// page carries (4087 / 4092) or the options are out of range.
    pub fn new(tpm: Tpm<P>, options: ServiceOptions) -> Result<Self, ServiceError> {
        let config = tpm.config();
        if config.max_command_size > MAX_COMMAND_SIZE {
            return Err(ServiceError::CommandSizeTooLarge {
                configured: config.max_command_size,
                max: MAX_COMMAND_SIZE,
            });
        }
        if config.max_response_size > MAX_RESPONSE_SIZE {
            return Err(ServiceError::ResponseSizeTooLarge {
                configured: config.max_response_size,
                max: MAX_RESPONSE_SIZE,
            });
        }
        if options.max_locality > MAX_TPM_LOCALITY {
            return Err(ServiceError::LocalityOutOfRange(options.max_locality));
        }
        Ok(VtpmService {
            tpm,
            options,
            page: zeroed_page(),
        })
    }

    /// The engine.
    pub fn tpm(&self) -> &Tpm<P> {
        &self.tpm
    }

    /// The engine, mutably (for lifecycle signals and the attestation
    /// manifest).
    pub fn tpm_mut(&mut self) -> &mut Tpm<P> {
        &mut self.tpm
    }

    /// Take the engine back.
    pub fn into_tpm(self) -> Tpm<P> {
        self.tpm
    }

    /// The options in force.
    pub fn options(&self) -> &ServiceOptions {
        &self.options
    }

    /// Handle one SVSM call.
    ///
    /// * Protocol 2 (vTPM): `SVSM_VTPM_QUERY` and `SVSM_VTPM_CMD`; any other
    ///   call id is `SVSM_ERR_UNSUPPORTED_CALL`.
    /// * Protocol 0 (core), call `SVSM_CORE_QUERY_PROTOCOL`: the answer for
    ///   protocol 2 (see [`query_protocol`]); `RCX` = 0 ("unsupported") for
    ///   any other protocol, since this module implements no other. Other
    ///   core calls are `SVSM_ERR_UNSUPPORTED_CALL`: they belong to the
    ///   SVSM, which should route only these calls here.
    /// * Any other protocol: `SVSM_ERR_UNSUPPORTED_PROTOCOL`.
    pub fn handle<M: GuestMemory + ?Sized>(
        &mut self,
        memory: &mut M,
        request: &SvsmRequest,
    ) -> SvsmResponse {
        dispatch(
            &mut self.tpm,
            &self.options,
            &mut self.page,
            memory,
            request,
        )
    }
}

/// Handle one SVSM call for an engine the caller keeps (the host
/// simulator's `--svsm` route uses this): the same checks and the same
/// single read and single write of guest memory as [`VtpmService::handle`],
/// with a private page allocated for the call. The options must satisfy
/// what [`VtpmService::new`] checks.
pub fn handle_call<P: Platform, M: GuestMemory + ?Sized>(
    tpm: &mut Tpm<P>,
    options: &ServiceOptions,
    memory: &mut M,
    request: &SvsmRequest,
) -> SvsmResponse {
    let config = tpm.config();
    if config.max_command_size > MAX_COMMAND_SIZE
        || config.max_response_size > MAX_RESPONSE_SIZE
        || options.max_locality > MAX_TPM_LOCALITY
    {
        return SvsmResponse::unchanged(request, Err(SvsmError::InvalidRequest));
    }
    let mut page = zeroed_page();
    dispatch(tpm, options, &mut page, memory, request)
}

fn dispatch<P: Platform, M: GuestMemory + ?Sized>(
    tpm: &mut Tpm<P>,
    options: &ServiceOptions,
    page: &mut [u8; PAGE_SIZE],
    memory: &mut M,
    request: &SvsmRequest,
) -> SvsmResponse {
    match (request.protocol, request.call_id) {
        (SVSM_VTPM_PROTOCOL, SVSM_VTPM_QUERY) => SvsmResponse {
            result: Ok(()),
            rcx: SUPPORTED_PLATFORM_COMMANDS,
            rdx: SUPPORTED_FEATURES,
            r8: request.r8,
        },
        (SVSM_VTPM_PROTOCOL, SVSM_VTPM_CMD) => {
            let result = command(tpm, options, page, memory, request.rcx);
            // The private page is wiped whatever happened.
            page.zeroize();
            SvsmResponse::unchanged(request, result)
        }
        (SVSM_VTPM_PROTOCOL, _) => {
            SvsmResponse::unchanged(request, Err(SvsmError::UnsupportedCall))
        }
        (SVSM_CORE_PROTOCOL, SVSM_CORE_QUERY_PROTOCOL) => SvsmResponse {
            result: Ok(()),
            rcx: query_protocol(request.rcx).unwrap_or(0),
            rdx: request.rdx,
            r8: request.r8,
        },
        (SVSM_CORE_PROTOCOL, _) => {
            SvsmResponse::unchanged(request, Err(SvsmError::UnsupportedCall))
        }
        _ => SvsmResponse::unchanged(request, Err(SvsmError::UnsupportedProtocol)),
    }
}

/// `SVSM_VTPM_CMD` on the buffer at `gpa`.
fn command<P: Platform, M: GuestMemory + ?Sized>(
    tpm: &mut Tpm<P>,
    options: &ServiceOptions,
    page: &mut [u8; PAGE_SIZE],
    memory: &mut M,
    gpa: u64,
) -> Result<(), SvsmError> {
    options.page_policy.check(gpa)?;
    if tpm.phase() == Phase::PowerOff {
        return Err(SvsmError::InvalidRequest);
    }
    // The one read of guest memory: everything below parses this copy.
    memory
        .read(gpa, page.as_mut_slice())
        .map_err(|_| SvsmError::InvalidAddress)?;
    let request = SendCommandRequest::new_checked(page)?;
    if request.locality() > options.max_locality {
        return Err(SvsmError::InvalidParameter);
    }
    let mut response = tpm.execute(request.locality(), request.command());
    if response.len() > MAX_RESPONSE_SIZE {
        // Unreachable for a checked engine configuration.
        response.zeroize();
        response = size_error_response();
    }
    page.zeroize();
    let len = page::encode_response(page, &response);
    response.zeroize();
    let bytes = len
        .and_then(|n| page.get(..n))
        .ok_or(SvsmError::InvalidRequest)?;
    // The one write of guest memory.
    memory
        .write(gpa, bytes)
        .map_err(|_| SvsmError::InvalidAddress)
}

/// A 10-byte `TPM_RC_SIZE` response.
fn size_error_response() -> Vec<u8> {
    let mut r = Vec::with_capacity(10);
    r.extend_from_slice(&0x8001u16.to_be_bytes());
    r.extend_from_slice(&10u32.to_be_bytes());
    r.extend_from_slice(&Rc::SIZE.0.to_be_bytes());
    r
}

/// A zeroed page on the heap, never on the stack.
fn zeroed_page() -> Box<[u8; PAGE_SIZE]> {
    let v: Box<[u8]> = alloc::vec![0u8; PAGE_SIZE].into_boxed_slice();
    match v.try_into() {
        Ok(page) => page,
        // The vector has exactly PAGE_SIZE elements.
        Err(_) => Box::new([0u8; PAGE_SIZE]),
    }
}
