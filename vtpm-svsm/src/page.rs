//! The `SVSM_VTPM_CMD` request/response buffer: one 4 KiB page.
//!
//! The SVSM header fields are x86-native, so **little-endian**; the TPM
//! command and response inside are ordinary big-endian TPM bytes.
//!
//! `TPM_SEND_COMMAND` request (SVSM spec, table 16; Linux `tpm_svsm.h`):
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0x000  | 4    | platform command, must be 8 (`TPM_SEND_COMMAND`) |
//! | 0x004  | 1    | locality |
//! | 0x005  | 4    | TPM command size (unaligned) |
//! | 0x009  | var  | TPM command, at most [`MAX_COMMAND_SIZE`] = 4096 − 9 = 4087 bytes |
//!
//! `TPM_SEND_COMMAND` response (SVSM spec, table 17):
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0x000  | 4    | TPM response size |
//! | 0x004  | var  | TPM response, at most [`MAX_RESPONSE_SIZE`] = 4096 − 4 = 4092 bytes |
//!
//! [`SendCommandRequest`] is a view over a *private copy* of the page: it
//! has only a checked constructor, and after it succeeds no accessor can
//! fail or panic (the smoltcp `new_checked` contract, without a public
//! unchecked twin).

use core::ops::Range;

use crate::protocol::{platform_command, SvsmError};

/// Size of the request/response buffer: one page (`SVSM_VTPM_MAX_BUFFER`
/// in Linux).
pub const PAGE_SIZE: usize = 4096;

/// Field offsets of the request and the response.
mod field {
    use core::ops::Range;
    /// Platform command (request).
    pub(super) const PLATFORM_COMMAND: Range<usize> = 0..4;
    /// Locality (request).
    pub(super) const LOCALITY: usize = 4;
    /// TPM command size (request).
    pub(super) const COMMAND_SIZE: Range<usize> = 5..9;
    /// TPM command (request).
    pub(super) const COMMAND: usize = COMMAND_SIZE.end;
    /// TPM response size (response).
    pub(super) const RESPONSE_SIZE: Range<usize> = 0..4;
    /// TPM response (response).
    pub(super) const RESPONSE: usize = RESPONSE_SIZE.end;
}

/// Length of the `TPM_SEND_COMMAND` request header (9).
pub const REQUEST_HEADER_LEN: usize = field::COMMAND;

/// Length of the `TPM_SEND_COMMAND` response header (4).
pub const RESPONSE_HEADER_LEN: usize = field::RESPONSE;

/// Largest TPM command a request can carry: 4096 − 9 = 4087
/// (COCONUT `SEND_COMMAND_REQ_INBUF_SIZE`).
pub const MAX_COMMAND_SIZE: usize = PAGE_SIZE - REQUEST_HEADER_LEN;

/// Largest TPM response a response can carry: 4096 − 4 = 4092
/// (COCONUT `SEND_COMMAND_RESP_OUTBUF_SIZE`).
pub const MAX_RESPONSE_SIZE: usize = PAGE_SIZE - RESPONSE_HEADER_LEN;

/// A checked view of a `TPM_SEND_COMMAND` request held in private memory.
#[derive(Clone, Copy, Debug)]
pub struct SendCommandRequest<'a> {
    locality: u8,
    command: &'a [u8],
}

impl<'a> SendCommandRequest<'a> {
    /// Check the header of a request page and build the view.
    ///
    /// * A platform command other than `TPM_SEND_COMMAND`:
    ///   [`SvsmError::UnsupportedCall`] if the MSSIM protocol defines it,
    ///   otherwise [`SvsmError::InvalidParameter`].
    /// * A command size above [`MAX_COMMAND_SIZE`]:
    ///   [`SvsmError::InvalidParameter`].
    ///
    /// The locality is not judged here: which localities a guest may claim
    /// is the service's policy ([`crate::ServiceOptions::max_locality`]).
    /// A command size that disagrees with the TPM command's own header is a
    /// TPM-level error (`TPM_RC_COMMAND_SIZE`), left to the engine.
    pub fn new_checked(page: &'a [u8; PAGE_SIZE]) -> Result<Self, SvsmError> {
        let platform_command = u32::from_le_bytes(le_array(page, field::PLATFORM_COMMAND));
        if platform_command != platform_command::SEND_COMMAND {
            return Err(if platform_command::is_known(platform_command) {
                SvsmError::UnsupportedCall
            } else {
                SvsmError::InvalidParameter
            });
        }
        let size = u32::from_le_bytes(le_array(page, field::COMMAND_SIZE));
        let size = usize::try_from(size).map_err(|_| SvsmError::InvalidParameter)?;
        if size > MAX_COMMAND_SIZE {
            return Err(SvsmError::InvalidParameter);
        }
        let end = field::COMMAND
            .checked_add(size)
            .ok_or(SvsmError::InvalidParameter)?;
        let command = page
            .get(field::COMMAND..end)
            .ok_or(SvsmError::InvalidParameter)?;
        let locality = page
            .get(field::LOCALITY)
            .copied()
            .ok_or(SvsmError::InvalidParameter)?;
        Ok(SendCommandRequest { locality, command })
    }

    /// The platform command: always `TPM_SEND_COMMAND` in a checked view.
    pub const fn platform_command(&self) -> u32 {
        platform_command::SEND_COMMAND
    }

    /// The locality the guest asked for.
    pub const fn locality(&self) -> u8 {
        self.locality
    }

    /// The TPM command bytes (at most [`MAX_COMMAND_SIZE`]).
    pub const fn command(&self) -> &'a [u8] {
        self.command
    }
}

/// Read a little-endian field; fields are constant ranges inside the page,
/// so the fallback (zero) is never taken.
fn le_array<const N: usize>(page: &[u8; PAGE_SIZE], range: Range<usize>) -> [u8; N] {
    page.get(range)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .unwrap_or([0; N])
}

/// Write a `TPM_SEND_COMMAND` request into `page` (the guest side: tests,
/// the simulated guest, fuzzing seeds). Returns the number of bytes that
/// matter (header plus command), or `None` if the command is longer than
/// [`MAX_COMMAND_SIZE`].
pub fn encode_request(page: &mut [u8; PAGE_SIZE], locality: u8, command: &[u8]) -> Option<usize> {
    encode_raw_request(
        page,
        platform_command::SEND_COMMAND,
        locality,
        u32::try_from(command.len()).ok()?,
        command,
    )
}

/// Write a request with every header field chosen by the caller (for
/// adversarial tests: the size field need not match the command).
pub fn encode_raw_request(
    page: &mut [u8; PAGE_SIZE],
    platform_command: u32,
    locality: u8,
    size_field: u32,
    command: &[u8],
) -> Option<usize> {
    let end = field::COMMAND.checked_add(command.len())?;
    page.get_mut(field::PLATFORM_COMMAND)?
        .copy_from_slice(&platform_command.to_le_bytes());
    *page.get_mut(field::LOCALITY)? = locality;
    page.get_mut(field::COMMAND_SIZE)?
        .copy_from_slice(&size_field.to_le_bytes());
    page.get_mut(field::COMMAND..end)?.copy_from_slice(command);
    Some(end)
}

/// Write a `TPM_SEND_COMMAND` response into `page`: the size, then the
/// bytes. Returns the number of bytes to copy back to the guest, or `None`
/// if the response is longer than [`MAX_RESPONSE_SIZE`].
pub fn encode_response(page: &mut [u8; PAGE_SIZE], response: &[u8]) -> Option<usize> {
    if response.len() > MAX_RESPONSE_SIZE {
        return None;
    }
    let size = u32::try_from(response.len()).ok()?;
    let end = field::RESPONSE.checked_add(response.len())?;
    page.get_mut(field::RESPONSE_SIZE)?
        .copy_from_slice(&size.to_le_bytes());
    page.get_mut(field::RESPONSE..end)?
        .copy_from_slice(response);
    Some(end)
}

/// Read a `TPM_SEND_COMMAND` response out of a page (the guest side).
/// `None` if the size field is larger than [`MAX_RESPONSE_SIZE`], as
/// Linux's `tpm_svsm` and OVMF refuse it.
pub fn decode_response(page: &[u8; PAGE_SIZE]) -> Option<&[u8]> {
    let size = u32::from_le_bytes(le_array(page, field::RESPONSE_SIZE));
    let size = usize::try_from(size).ok()?;
    if size > MAX_RESPONSE_SIZE {
        return None;
    }
    page.get(field::RESPONSE..field::RESPONSE.checked_add(size)?)
}
