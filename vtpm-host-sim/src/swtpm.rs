//! swtpm's protocols: the data channel (raw TPM 2.0 commands, or commands
//! with the mssim `TPM_SEND_COMMAND` prefix) and the control channel
//! (`tpm_ioctl.h` commands: u32 code + request, reply starting with a u32
//! TPM 1.2 result code).

use std::io::{self, Read, Write};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::conn::{mssim_frame, read_sized, read_u8, words, Conn, MAX_BUFFER};
use crate::device::{Shared, RC_FAILURE_RESPONSE};
use crate::mssim::{map_locality, Outcome, SEND_COMMAND};

/// Control commands (`enum tpm_ioctl_cmd`).
pub mod cmd {
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
    /// CMD_RESET_TPMESTABLISHED.
    pub const RESET_TPMESTABLISHED: u32 = 0x0B;
    /// CMD_STOP.
    pub const STOP: u32 = 0x0E;
    /// CMD_GET_CONFIG.
    pub const GET_CONFIG: u32 = 0x0F;
    /// CMD_SET_BUFFERSIZE.
    pub const SET_BUFFERSIZE: u32 = 0x11;
}

/// Capability bits (`PTM_CAP_*`).
pub mod cap {
    /// PTM_CAP_INIT.
    pub const INIT: u32 = 1 << 0;
    /// PTM_CAP_SHUTDOWN.
    pub const SHUTDOWN: u32 = 1 << 1;
    /// PTM_CAP_GET_TPMESTABLISHED.
    pub const GET_TPMESTABLISHED: u32 = 1 << 2;
    /// PTM_CAP_SET_LOCALITY.
    pub const SET_LOCALITY: u32 = 1 << 3;
    /// PTM_CAP_HASHING.
    pub const HASHING: u32 = 1 << 4;
    /// PTM_CAP_CANCEL_TPM_CMD.
    pub const CANCEL_TPM_CMD: u32 = 1 << 5;
    /// PTM_CAP_RESET_TPMESTABLISHED.
    pub const RESET_TPMESTABLISHED: u32 = 1 << 7;
    /// PTM_CAP_STOP.
    pub const STOP: u32 = 1 << 10;
    /// PTM_CAP_GET_CONFIG.
    pub const GET_CONFIG: u32 = 1 << 11;
    /// PTM_CAP_SET_BUFFERSIZE.
    pub const SET_BUFFERSIZE: u32 = 1 << 13;
    /// PTM_CAP_SEND_COMMAND_HEADER.
    pub const SEND_COMMAND_HEADER: u32 = 1 << 15;
}

/// What we implement, reported by CMD_GET_CAPABILITY.
pub const CAPABILITIES: u32 = cap::INIT
    | cap::SHUTDOWN
    | cap::GET_TPMESTABLISHED
    | cap::SET_LOCALITY
    | cap::HASHING
    | cap::CANCEL_TPM_CMD
    | cap::RESET_TPMESTABLISHED
    | cap::STOP
    | cap::GET_CONFIG
    | cap::SET_BUFFERSIZE
    | cap::SEND_COMMAND_HEADER;

/// Result codes (TPM 1.2, `tpm_error.h`).
pub mod res {
    /// TPM_SUCCESS.
    pub const SUCCESS: u32 = 0;
    /// TPM_BAD_PARAMETER.
    pub const BAD_PARAMETER: u32 = 0x03;
    /// TPM_FAIL.
    pub const FAIL: u32 = 0x09;
    /// TPM_BAD_ORDINAL: unknown command, or the TPM is (not) running.
    pub const BAD_ORDINAL: u32 = 0x0A;
    /// TPM_BAD_LOCALITY.
    pub const BAD_LOCALITY: u32 = 0x3D;
}

/// The TPM I/O buffer size reported by CMD_SET_BUFFERSIZE. The engine's
/// largest command (4087) and response (4092) both fit; it cannot be
/// changed, so every request is answered with this size.
pub const BUFFER_SIZE: u32 = 4096;

/// How long swtpm waits for the rest of a control message.
const CTRL_DEADLINE: Duration = Duration::from_millis(500);
/// How long we wait for streamed CMD_HASH_DATA bytes.
const HASH_DATA_DEADLINE: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- data ---

/// Serve one client on the data channel until it goes away.
pub fn serve_data(shared: &Shared, conn: &mut Conn) -> Outcome {
    if let Err(e) = data_loop(shared, conn) {
        tracing::debug!("swtpm data connection closed: {e}");
    }
    Outcome::Closed
}

fn data_loop(shared: &Shared, conn: &mut Conn) -> io::Result<()> {
    loop {
        let mut first = [0u8; 4];
        conn.read_exact(&mut first)?;
        if u32::from_be_bytes(first) == SEND_COMMAND {
            // mssim TPM_SEND_COMMAND prefix (its first two bytes are 0, so
            // it cannot be a TPM2 tag): answer in mssim form.
            let locality = map_locality(read_u8(conn)?);
            let Some(cmd) = read_sized(conn)? else {
                tracing::warn!("swtpm data: command length over 1 MiB, closing connection");
                return Ok(());
            };
            let Some(rsp) = execute(shared, Some(locality), &cmd) else {
                return Ok(());
            };
            conn.write_all(&mssim_frame(&rsp))?;
        } else {
            // A raw TPM command, framed by its header's size field.
            let mut rest = [0u8; 6];
            conn.read_exact(&mut rest)?;
            let [t0, t1, s0, s1] = first;
            let [s2, s3, c0, c1, c2, c3] = rest;
            let head = [t0, t1, s0, s1, s2, s3, c0, c1, c2, c3];
            let size = u32::from_be_bytes([s0, s1, s2, s3]);
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            if !(10..=MAX_BUFFER).contains(&size) {
                tracing::warn!("swtpm data: command size {size} out of range, closing connection");
                return Ok(());
            }
            let mut cmd = vec![0u8; size];
            let (h, body) = cmd.split_at_mut(10);
            h.copy_from_slice(&head);
            conn.read_exact(body)?;
            let Some(rsp) = execute(shared, None, &cmd) else {
                return Ok(());
            };
            conn.write_all(&rsp)?;
        }
    }
}

/// Run one data-channel command; `None` when the simulator is exiting.
fn execute(shared: &Shared, locality: Option<u8>, cmd: &[u8]) -> Option<Vec<u8>> {
    let mut d = shared.lock_live()?;
    if !d.running {
        return Some(RC_FAILURE_RESPONSE.to_vec());
    }
    let locality = locality.unwrap_or(d.locality);
    shared.cancel.store(false, Ordering::SeqCst);
    shared.busy.store(true, Ordering::SeqCst);
    let rsp = d.execute(locality, cmd);
    shared.busy.store(false, Ordering::SeqCst);
    shared.cancel.store(false, Ordering::SeqCst);
    Some(rsp)
}

// ------------------------------------------------------------- control ---

/// Smallest request payload (after the u32 code) of each command; swtpm
/// keeps reading until it has that much or its deadline passes.
fn min_payload(code: u32) -> usize {
    match code {
        cmd::INIT | cmd::HASH_DATA | cmd::SET_BUFFERSIZE => 4,
        cmd::SET_LOCALITY | cmd::RESET_TPMESTABLISHED => 1,
        _ => 0,
    }
}

/// Read one control message the way swtpm does: whatever one read
/// returns, then more until the command's minimum length is reached or
/// [`CTRL_DEADLINE`] passes. Extra bytes that arrived with the message (the
/// padding QEMU sends after a 1-byte locality) belong to it and are
/// dropped with it. `None` at end of stream.
fn read_ctrl_message(conn: &mut Conn) -> io::Result<Option<Vec<u8>>> {
    conn.set_read_timeout(None)?;
    let mut buf = vec![0u8; 4096];
    let n = loop {
        match conn.read(&mut buf) {
            Ok(n) => break n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    if n == 0 {
        return Ok(None);
    }
    buf.truncate(n);
    let deadline = Instant::now() + CTRL_DEADLINE;
    loop {
        let need = match be32(&buf) {
            Some(code) => min_payload(code).saturating_add(4),
            None => 4,
        };
        if buf.len() >= need {
            break;
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        conn.set_read_timeout(Some(deadline - now))?;
        let mut more = [0u8; 256];
        match conn.read(&mut more) {
            Ok(0) => break,
            Ok(k) => buf.extend_from_slice(more.get(..k).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                break
            }
            Err(e) => return Err(e),
        }
    }
    conn.set_read_timeout(None)?;
    if buf.len() < 4 {
        tracing::debug!("swtpm ctrl: message shorter than a command code, closing");
        return Ok(None);
    }
    Ok(Some(buf))
}

/// Serve one client on the control channel until it goes away.
pub fn serve_ctrl(shared: &Shared, conn: &mut Conn) -> Outcome {
    match ctrl_loop(shared, conn) {
        Ok(o) => o,
        Err(e) => {
            tracing::debug!("swtpm ctrl connection closed: {e}");
            Outcome::Closed
        }
    }
}

fn ctrl_loop(shared: &Shared, conn: &mut Conn) -> io::Result<Outcome> {
    while let Some(msg) = read_ctrl_message(conn)? {
        let Some(code) = be32(&msg) else {
            break;
        };
        let payload = msg.get(4..).unwrap_or_default();
        let (reply, exit) = handle_ctrl(shared, conn, code, payload)?;
        tracing::debug!("swtpm ctrl: command 0x{code:02x} -> {:02x?}", reply);
        conn.write_all(&reply)?;
        if exit {
            return Ok(Outcome::Stop);
        }
    }
    Ok(Outcome::Closed)
}

fn be32(p: &[u8]) -> Option<u32> {
    p.get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
}

/// Handle one control command; returns the reply and whether the
/// simulator exits after sending it.
fn handle_ctrl(
    shared: &Shared,
    conn: &mut Conn,
    code: u32,
    payload: &[u8],
) -> io::Result<(Vec<u8>, bool)> {
    let r = |v: u32| words(&[v]);
    // Commands that must not wait for the device lock, or need none.
    match code {
        cmd::GET_CAPABILITY => return Ok((words(&[res::SUCCESS, CAPABILITIES]), false)),
        cmd::GET_CONFIG => return Ok((words(&[res::SUCCESS, 0]), false)),
        cmd::CANCEL_TPM_CMD => {
            if shared.busy.load(Ordering::SeqCst) {
                shared.cancel.store(true, Ordering::SeqCst);
            }
            return Ok((r(res::SUCCESS), false));
        }
        cmd::HASH_DATA => return hash_data(shared, conn, payload).map(|v| (r(v), false)),
        _ => {}
    }
    let Some(mut d) = shared.lock_live() else {
        return Ok((r(res::FAIL), false));
    };
    let reply = match code {
        cmd::INIT => {
            let Some(flags) = be32(payload) else {
                return Ok((r(res::BAD_PARAMETER), false));
            };
            tracing::debug!("swtpm ctrl: CMD_INIT flags 0x{flags:x}");
            if d.init() {
                r(res::SUCCESS)
            } else {
                r(res::FAIL)
            }
        }
        cmd::SHUTDOWN => {
            d.stop();
            return Ok((r(res::SUCCESS), true));
        }
        cmd::STOP => {
            d.stop();
            r(res::SUCCESS)
        }
        cmd::GET_TPMESTABLISHED => {
            // Always 8 bytes, even on error: QEMU reads 8.
            let result = if d.running {
                res::SUCCESS
            } else {
                res::BAD_ORDINAL
            };
            let mut v = r(result);
            v.extend_from_slice(&[u8::from(d.running && d.established), 0, 0, 0]);
            v
        }
        cmd::SET_LOCALITY => match payload.first() {
            None => r(res::BAD_PARAMETER),
            Some(&l) if l > 4 => r(res::BAD_LOCALITY),
            Some(&l) => {
                d.locality = l;
                r(res::SUCCESS)
            }
        },
        cmd::RESET_TPMESTABLISHED => match payload.first() {
            _ if !d.running => r(res::BAD_ORDINAL),
            None => r(res::BAD_PARAMETER),
            // Only locality 3 or 4 may reset the bit (PTP).
            Some(&l) if !(3..=4).contains(&l) => r(res::BAD_LOCALITY),
            Some(_) => {
                d.established = false;
                r(res::SUCCESS)
            }
        },
        cmd::HASH_START => {
            if d.running {
                d.tpm.hash_start();
                d.established = true;
                r(res::SUCCESS)
            } else {
                r(res::BAD_ORDINAL)
            }
        }
        cmd::HASH_END => {
            if d.running {
                d.tpm.hash_end();
                r(res::SUCCESS)
            } else {
                r(res::BAD_ORDINAL)
            }
        }
        cmd::SET_BUFFERSIZE => match be32(payload) {
            None => r(res::BAD_PARAMETER),
            // Changing the size needs a stopped TPM.
            Some(n) if n != 0 && d.running => r(res::BAD_ORDINAL),
            Some(_) => words(&[res::SUCCESS, BUFFER_SIZE, BUFFER_SIZE, BUFFER_SIZE]),
        },
        other => {
            tracing::debug!("swtpm ctrl: unsupported command 0x{other:x}");
            r(res::BAD_ORDINAL)
        }
    };
    Ok((reply, false))
}

/// CMD_HASH_DATA: u32 length, then that many bytes, which may keep
/// arriving after the first message.
fn hash_data(shared: &Shared, conn: &mut Conn, payload: &[u8]) -> io::Result<u32> {
    let Some(len) = be32(payload) else {
        return Ok(res::BAD_PARAMETER);
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > MAX_BUFFER {
        return Ok(res::BAD_PARAMETER);
    }
    let have = payload.get(4..).unwrap_or_default();
    let mut data = have.get(..len.min(have.len())).unwrap_or_default().to_vec();
    if data.len() < len {
        let mut rest = vec![0u8; len - data.len()];
        conn.set_read_timeout(Some(HASH_DATA_DEADLINE))?;
        let got = conn.read_exact(&mut rest);
        conn.set_read_timeout(None)?;
        got?;
        data.extend_from_slice(&rest);
    }
    let Some(mut d) = shared.lock_live() else {
        return Ok(res::FAIL);
    };
    if !d.running {
        return Ok(res::BAD_ORDINAL);
    }
    d.tpm.hash_data(&data);
    Ok(res::SUCCESS)
}
