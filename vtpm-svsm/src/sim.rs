//! A guest, simulated: the host simulator's way to route every TPM command
//! through the SVSM vTPM protocol, byte for byte as Linux `tpm_svsm` and
//! OVMF do it, over a page of simulated guest RAM.

use alloc::vec::Vec;

use vtpm_core::{Platform, Tpm};

use crate::memory::{GuestMemory, GuestRam};
use crate::page::{self, PAGE_SIZE};
use crate::protocol::{SvsmError, SvsmRequest, SvsmResponse};
use crate::service::{ServiceError, ServiceOptions, VtpmService};

/// Guest-physical address of the simulated guest's command page.
pub const SIMULATED_PAGE_GPA: u64 = 0x10_0000;

/// A guest with one page of RAM that talks to a [`VtpmService`] through
/// the SVSM protocol.
#[derive(Debug)]
pub struct SimulatedGuest<P: Platform> {
    service: VtpmService<P>,
    ram: GuestRam,
}

impl<P: Platform> SimulatedGuest<P> {
    /// Put an engine behind the SVSM protocol. `options` as for
    /// [`VtpmService::new`]; a host simulator that lets clients choose a
    /// locality passes `max_locality: 4`.
    pub fn new(tpm: Tpm<P>, options: ServiceOptions) -> Result<Self, ServiceError> {
        Ok(SimulatedGuest {
            service: VtpmService::new(tpm, options)?,
            ram: GuestRam::new(SIMULATED_PAGE_GPA, 1),
        })
    }

    /// Send one TPM command at `locality` with `SVSM_VTPM_CMD` and return
    /// the TPM response. TPM-level failures are `Ok` with a TPM error
    /// response; `Err` is an SVSM-level failure (e.g.
    /// [`SvsmError::InvalidParameter`] for a command longer than 4087
    /// bytes or a locality the service does not allow).
    pub fn send(&mut self, locality: u8, command: &[u8]) -> Result<Vec<u8>, SvsmError> {
        let mut page = [0u8; PAGE_SIZE];
        let Some(len) = page::encode_request(&mut page, locality, command) else {
            // As the guest driver would: the command cannot be framed.
            return Err(SvsmError::InvalidParameter);
        };
        self.ram
            .write(SIMULATED_PAGE_GPA, page.get(..len).unwrap_or_default())
            .map_err(|_| SvsmError::InvalidAddress)?;
        let rsp = self.call(&SvsmRequest::vtpm_cmd(SIMULATED_PAGE_GPA));
        rsp.result?;
        self.ram
            .read(SIMULATED_PAGE_GPA, &mut page)
            .map_err(|_| SvsmError::InvalidAddress)?;
        page::decode_response(&page)
            .map(<[u8]>::to_vec)
            .ok_or(SvsmError::InvalidRequest)
    }

    /// Make any SVSM call with this guest's RAM.
    pub fn call(&mut self, request: &SvsmRequest) -> SvsmResponse {
        self.service.handle(&mut self.ram, request)
    }

    /// `SVSM_VTPM_QUERY`: (platform-command bitmap, feature bits).
    pub fn query(&mut self) -> Result<(u64, u64), SvsmError> {
        let rsp = self.call(&SvsmRequest::vtpm_query());
        rsp.result.map(|()| (rsp.rcx, rsp.rdx))
    }

    /// The service.
    pub fn service(&self) -> &VtpmService<P> {
        &self.service
    }

    /// The service, mutably.
    pub fn service_mut(&mut self) -> &mut VtpmService<P> {
        &mut self.service
    }

    /// The engine, mutably (power and NV signals come from the host, not
    /// through the protocol).
    pub fn tpm_mut(&mut self) -> &mut Tpm<P> {
        self.service.tpm_mut()
    }

    /// The simulated guest RAM (one page at [`SIMULATED_PAGE_GPA`]).
    pub fn ram(&self) -> &GuestRam {
        &self.ram
    }
}
