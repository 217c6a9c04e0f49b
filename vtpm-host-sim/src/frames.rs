//! The framing of the simulator's sockets, apart from the sockets: what
//! each request of the mssim TPM and platform ports and of the swtpm data
//! and control channels looks like on the wire, read from any [`Read`].
//!
//! This file uses only `std` so that the fuzz target
//! `fuzz/fuzz_targets/socket.rs` (and its replay test) can include it as it
//! is. Reads allocate in proportion to the octets that actually arrive, never
//! in proportion to a length field alone.

use std::io::{self, Read};

/// Largest length field either protocol accepts (the 1 MiB `MAX_BUFFER`
/// of the reference simulator). Longer lengths close the connection.
pub const MAX_BUFFER: usize = 1 << 20;

/// Read one big-endian u32.
pub fn read_u32(r: &mut impl Read) -> io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_be_bytes(b))
}

/// Read one byte.
pub fn read_u8(r: &mut impl Read) -> io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

/// Read exactly `len` octets, growing the buffer as they arrive (a length
/// field alone does not reserve memory).
fn read_len(r: &mut impl Read, len: usize, mut v: Vec<u8>) -> io::Result<Vec<u8>> {
    let want = v.len().saturating_add(len);
    r.take(u64::try_from(len).unwrap_or(u64::MAX))
        .read_to_end(&mut v)?;
    if v.len() != want {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    Ok(v)
}

/// Read a length field and that many bytes; `None` when the length is over
/// [`MAX_BUFFER`] (the caller closes the connection).
pub fn read_sized(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let len = read_u32(r)?;
    let Ok(len) = usize::try_from(len) else {
        return Ok(None);
    };
    if len > MAX_BUFFER {
        return Ok(None);
    }
    read_len(r, len, Vec::new()).map(Some)
}

/// The mssim command codes. The SVSM vTPM protocol reuses them as its
/// platform commands, so vtpm-svsm's table serves both.
pub mod mssim_codes {
    pub use vtpm_svsm::protocol::platform_command::*;
}

use mssim_codes::{
    ACT_GET_SIGNALED, HASH_DATA, REMOTE_HANDSHAKE, SEND_COMMAND, SET_ALTERNATIVE_RESULT,
};

/// One request on the mssim TPM command port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TpmPortRequest {
    /// `TPM_SEND_COMMAND`: the locality octet as sent, the command
    /// (`None`: its length is over [`MAX_BUFFER`]).
    SendCommand {
        /// Locality octet.
        locality: u8,
        /// The command.
        command: Option<Vec<u8>>,
    },
    /// `TPM_SIGNAL_HASH_DATA` (`None`: over [`MAX_BUFFER`]).
    HashData(Option<Vec<u8>>),
    /// `TPM_REMOTE_HANDSHAKE` with the client's version.
    RemoteHandshake(u32),
    /// `TPM_SET_ALTERNATIVE_RESULT` with its (ignored) value.
    SetAlternativeResult(u32),
    /// Any other code: nothing more belongs to it.
    Other(u32),
}

/// Read one request of the mssim TPM port. `after_code` runs once the code
/// of a `TPM_SEND_COMMAND` has been read (the socket uses it to ask for a
/// quick ACK before the body).
pub fn read_tpm_port_request<R: Read>(
    r: &mut R,
    after_code: impl FnOnce(&R),
) -> io::Result<TpmPortRequest> {
    Ok(match read_u32(r)? {
        SEND_COMMAND => {
            after_code(r);
            let locality = read_u8(r)?;
            TpmPortRequest::SendCommand {
                locality,
                command: read_sized(r)?,
            }
        }
        HASH_DATA => TpmPortRequest::HashData(read_sized(r)?),
        REMOTE_HANDSHAKE => TpmPortRequest::RemoteHandshake(read_u32(r)?),
        SET_ALTERNATIVE_RESULT => TpmPortRequest::SetAlternativeResult(read_u32(r)?),
        other => TpmPortRequest::Other(other),
    })
}

/// One request on the mssim platform port: its code, and the ACT handle
/// of `TPM_ACT_GET_SIGNALED` (the only one with a parameter).
pub fn read_platform_request(r: &mut impl Read) -> io::Result<(u32, Option<u32>)> {
    let code = read_u32(r)?;
    let act = if code == ACT_GET_SIGNALED {
        Some(read_u32(r)?)
    } else {
        None
    };
    Ok((code, act))
}

/// One request on the swtpm data channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataRequest {
    /// An mssim `TPM_SEND_COMMAND` (its first two octets are 0, so it
    /// cannot be a TPM 2.0 tag): locality octet and command (`None`: over
    /// [`MAX_BUFFER`]).
    Mssim {
        /// Locality octet.
        locality: u8,
        /// The command.
        command: Option<Vec<u8>>,
    },
    /// A raw TPM command framed by its header's size field; `Err(size)`
    /// when the size is below 10 or over [`MAX_BUFFER`] (the connection
    /// closes).
    Raw(Result<Vec<u8>, usize>),
}

/// Read one request of the swtpm data channel.
pub fn read_data_request(r: &mut impl Read) -> io::Result<DataRequest> {
    let mut first = [0u8; 4];
    r.read_exact(&mut first)?;
    if u32::from_be_bytes(first) == SEND_COMMAND {
        let locality = read_u8(r)?;
        return Ok(DataRequest::Mssim {
            locality,
            command: read_sized(r)?,
        });
    }
    let mut rest = [0u8; 6];
    r.read_exact(&mut rest)?;
    let [t0, t1, s0, s1] = first;
    let [s2, s3, c0, c1, c2, c3] = rest;
    let head = [t0, t1, s0, s1, s2, s3, c0, c1, c2, c3];
    let size = usize::try_from(u32::from_be_bytes([s0, s1, s2, s3])).unwrap_or(usize::MAX);
    if !(10..=MAX_BUFFER).contains(&size) {
        return Ok(DataRequest::Raw(Err(size)));
    }
    read_len(r, size - 10, head.to_vec()).map(|c| DataRequest::Raw(Ok(c)))
}

/// Control commands of the swtpm control channel (`enum tpm_ioctl_cmd`).
pub mod swtpm_cmd {
    /// CMD_GET_CAPABILITY.
    pub const GET_CAPABILITY: u32 = 0x01;
    /// CMD_INIT.
    pub const INIT: u32 = 0x02;
    /// CMD_SHUTDOWN.
    pub const SHUTDOWN: u32 = 0x03;
    /// CMD_GET_TPMESTABLISHED.
    pub const GET_TPMESTABLISHED: u32 = 0x04;
    /// CMD_SET_LOCALITY.
    pub const SET_LOCALITY: u32 = 0x05;
    /// CMD_HASH_START.
    pub const HASH_START: u32 = 0x06;
    /// CMD_HASH_DATA.
    pub const HASH_DATA: u32 = 0x07;
    /// CMD_HASH_END.
    pub const HASH_END: u32 = 0x08;
    /// CMD_CANCEL_TPM_CMD.
    pub const CANCEL_TPM_CMD: u32 = 0x09;
    /// CMD_STORE_VOLATILE.
    pub const STORE_VOLATILE: u32 = 0x0A;
    /// CMD_RESET_TPMESTABLISHED.
    pub const RESET_TPMESTABLISHED: u32 = 0x0B;
    /// CMD_GET_STATEBLOB.
    pub const GET_STATEBLOB: u32 = 0x0C;
    /// CMD_SET_STATEBLOB.
    pub const SET_STATEBLOB: u32 = 0x0D;
    /// CMD_STOP.
    pub const STOP: u32 = 0x0E;
    /// CMD_GET_CONFIG.
    pub const GET_CONFIG: u32 = 0x0F;
    /// CMD_SET_DATAFD.
    pub const SET_DATAFD: u32 = 0x10;
    /// CMD_SET_BUFFERSIZE.
    pub const SET_BUFFERSIZE: u32 = 0x11;
    /// CMD_GET_INFO.
    pub const GET_INFO: u32 = 0x12;
    /// CMD_LOCK_STORAGE.
    pub const LOCK_STORAGE: u32 = 0x13;
}

/// One control message holds at most this much (swtpm's buffer: code,
/// a length and 4 KiB of data).
pub const CTRL_BUFFER: usize = 4 + 4 + 4096;

fn be32(p: &[u8]) -> Option<u32> {
    p.get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
}

/// The request length swtpm waits for before it handles a command:
/// code plus fixed request, plus the data of HASH_DATA and SET_STATEBLOB
/// (capped at what one message holds; the rest is read by the handler).
pub fn ctrl_needed(buf: &[u8]) -> usize {
    use swtpm_cmd as cmd;
    let Some(code) = be32(buf) else {
        return 4;
    };
    let fixed = match code {
        cmd::INIT | cmd::SET_BUFFERSIZE | cmd::LOCK_STORAGE => 4,
        cmd::SET_LOCALITY | cmd::RESET_TPMESTABLISHED => 1,
        cmd::HASH_DATA => 4,
        cmd::GET_STATEBLOB | cmd::SET_STATEBLOB => 12,
        cmd::GET_INFO => 16,
        _ => 0,
    };
    let mut n = 4usize.saturating_add(fixed);
    let data_len = match code {
        cmd::HASH_DATA => be32(buf.get(4..).unwrap_or_default()),
        cmd::SET_STATEBLOB => be32(buf.get(12..).unwrap_or_default()),
        _ => None,
    };
    if let Some(len) = data_len {
        n = n.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
    }
    n.min(CTRL_BUFFER)
}

/// Complete a control message: `buf` holds what the first read returned
/// (at most [`CTRL_BUFFER`] octets); `more` is asked for the missing octets
/// until the request is complete ([`ctrl_needed`]) or it returns 0 (end of
/// stream, or the socket's deadline passed).
pub fn complete_ctrl_message(
    buf: &mut Vec<u8>,
    mut more: impl FnMut(&mut [u8]) -> io::Result<usize>,
) -> io::Result<()> {
    while buf.len() < ctrl_needed(buf) {
        let mut chunk = vec![0u8; ctrl_needed(buf).saturating_sub(buf.len())];
        let k = more(&mut chunk)?;
        if k == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..k).unwrap_or_default());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_alone_do_not_make_requests() {
        // A 1 MiB length with three octets behind it: end of stream.
        let mut r: &[u8] = &[0, 0x10, 0, 0, 1, 2, 3];
        let e = read_sized(&mut r).err().map(|e| e.kind());
        assert_eq!(e, Some(io::ErrorKind::UnexpectedEof));
        // One octet over the limit: refused before reading.
        let mut r: &[u8] = &[0, 0x10, 0, 1];
        assert!(matches!(read_sized(&mut r), Ok(None)));
    }

    #[test]
    fn data_channel_frames() {
        let getrandom = [0x80, 1, 0, 0, 0, 12, 0, 0, 1, 0x7b, 0, 8];
        let mut r: &[u8] = &getrandom;
        assert_eq!(
            read_data_request(&mut r).ok(),
            Some(DataRequest::Raw(Ok(getrandom.to_vec())))
        );
        let mut mssim = vec![0, 0, 0, 8, 3, 0, 0, 0, 12];
        mssim.extend_from_slice(&getrandom);
        let mut r: &[u8] = &mssim;
        assert_eq!(
            read_data_request(&mut r).ok(),
            Some(DataRequest::Mssim {
                locality: 3,
                command: Some(getrandom.to_vec())
            })
        );
        let mut r: &[u8] = &[0x80, 1, 0, 0, 0, 9, 0, 0, 1, 0x7b];
        assert_eq!(
            read_data_request(&mut r).ok(),
            Some(DataRequest::Raw(Err(9)))
        );
    }

    #[test]
    fn control_messages_complete_from_later_reads() {
        // CMD_HASH_DATA with 3 octets of data, arriving one at a time.
        let mut buf = vec![0, 0, 0, 7];
        let mut rest: &[u8] = &[0, 0, 0, 3, b'a', b'b', b'c', 0xff];
        complete_ctrl_message(&mut buf, |m| {
            let n = m.len().min(1);
            rest.read(m.get_mut(..n).unwrap_or_default())
        })
        .ok();
        assert_eq!(buf, [0, 0, 0, 7, 0, 0, 0, 3, b'a', b'b', b'c']);
        assert_eq!(rest, [0xff]);
    }
}
