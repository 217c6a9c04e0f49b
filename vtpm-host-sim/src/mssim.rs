//! The Microsoft simulator TCP protocol ("mssim", `TpmTcpProtocol.h`): a TPM
//! command port and a platform port, all integers big-endian.

use std::io::{self, Write};
use std::sync::atomic::Ordering;

use crate::conn::{mssim_frame, words, Conn, ReadAhead};
use crate::device::Shared;
use crate::frames::{read_platform_request, read_tpm_port_request, TpmPortRequest};

pub use crate::frames::mssim_codes::*;

/// Server version sent in reply to `TPM_REMOTE_HANDSHAKE`.
const SERVER_VERSION: u32 = 1;
/// Endpoint info: platformAvailable | inRawMode | supportsPP.
const ENDPOINT_INFO: u32 = 0x01 | 0x04 | 0x08;

/// How a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Closed (by the client, by SESSION_END or after a protocol error):
    /// accept the next client.
    Closed,
    /// `TPM_STOP`: the simulator shuts down.
    Stop,
}

/// Locality byte mapping of the reference simulator: 5..=31 are not
/// localities and become 0; 0..=4 and the extended localities 32..=255
/// pass through.
pub fn map_locality(l: u8) -> u8 {
    if (5..32).contains(&l) {
        0
    } else {
        l
    }
}

fn ack(conn: &mut Conn) -> io::Result<()> {
    conn.write_all(&0u32.to_be_bytes())
}

/// Serve one client on the TPM command port until it goes away.
pub fn serve_tpm(shared: &Shared, conn: &mut Conn) -> Outcome {
    match tpm_loop(shared, conn) {
        Ok(o) => o,
        Err(e) => {
            tracing::debug!("mssim TPM connection closed: {e}");
            Outcome::Closed
        }
    }
}

fn tpm_loop(shared: &Shared, conn: &mut Conn) -> io::Result<Outcome> {
    let mut ahead = ReadAhead::new();
    loop {
        conn.quick_ack();
        match read_tpm_port_request(&mut ahead.on(conn), |b| b.get_ref().quick_ack())? {
            TpmPortRequest::SendCommand { locality, command } => {
                let locality = map_locality(locality);
                let Some(cmd) = command else {
                    tracing::warn!("mssim: command length over 1 MiB, closing connection");
                    return Ok(Outcome::Closed);
                };
                let rsp = {
                    let Some(mut d) = shared.lock_live() else {
                        return Ok(Outcome::Closed);
                    };
                    if d.powered_off() {
                        // The reference simulator answers with an empty
                        // response while the power is off.
                        Vec::new()
                    } else {
                        d.execute(locality, &cmd)
                    }
                };
                conn.write_all(&mssim_frame(&rsp))?;
            }
            TpmPortRequest::Other(HASH_START) => {
                if let Some(mut d) = shared.lock_live() {
                    if !d.powered_off() {
                        d.tpm.hash_start();
                        d.established = true;
                    }
                }
                ack(conn)?;
            }
            TpmPortRequest::HashData(data) => {
                let Some(data) = data else {
                    tracing::warn!("mssim: hash data over 1 MiB, closing connection");
                    return Ok(Outcome::Closed);
                };
                if let Some(mut d) = shared.lock_live() {
                    d.tpm.hash_data(&data);
                }
                ack(conn)?;
            }
            TpmPortRequest::Other(HASH_END) => {
                if let Some(mut d) = shared.lock_live() {
                    d.tpm.hash_end();
                }
                ack(conn)?;
            }
            TpmPortRequest::RemoteHandshake(client_version) => {
                if client_version == 0 {
                    tracing::debug!("mssim: handshake with client version 0, closing");
                    return Ok(Outcome::Closed);
                }
                conn.write_all(&words(&[SERVER_VERSION, ENDPOINT_INFO, 0]))?;
            }
            TpmPortRequest::SetAlternativeResult(_) => ack(conn)?,
            TpmPortRequest::Other(SESSION_END) => return Ok(Outcome::Closed),
            TpmPortRequest::Other(STOP) => return Ok(Outcome::Stop),
            TpmPortRequest::Other(other) => {
                tracing::warn!("mssim TPM port: unknown code {other}, closing connection");
                return Ok(Outcome::Closed);
            }
        }
    }
}

/// Serve one client on the platform port until it goes away.
pub fn serve_platform(shared: &Shared, conn: &mut Conn) -> Outcome {
    match platform_loop(shared, conn) {
        Ok(o) => o,
        Err(e) => {
            tracing::debug!("mssim platform connection closed: {e}");
            Outcome::Closed
        }
    }
}

fn platform_loop(shared: &Shared, conn: &mut Conn) -> io::Result<Outcome> {
    loop {
        let (code, act) = read_platform_request(conn)?;
        match code {
            SESSION_END => return Ok(Outcome::Closed),
            STOP => return Ok(Outcome::Stop),
            GET_COMMAND_RESPONSE_SIZES => {
                let Some(mut d) = shared.lock_live() else {
                    return Ok(Outcome::Closed);
                };
                let sizes = d.take_sizes();
                drop(d);
                let mut out = 16u32.to_be_bytes().to_vec();
                out.extend_from_slice(&sizes);
                out.extend_from_slice(&0u32.to_be_bytes());
                conn.write_all(&out)?;
                continue;
            }
            CANCEL_ON | CANCEL_OFF => {
                // Without taking the device lock: the command being
                // cancelled holds it. (The reference simulator ignores
                // these while powered off; a stray flag is harmless here
                // because CANCEL_OFF always follows.)
                shared.cancel.store(code == CANCEL_ON, Ordering::SeqCst);
                ack(conn)?;
                continue;
            }
            ACT_GET_SIGNALED => {
                // u32 handle in; u32 `signaled` and the u32 0 ack out. A
                // handle that is not an implemented ACT, or a TPM that is
                // off, reads as not signalled.
                let act_handle = act.unwrap_or_default();
                let Some(mut d) = shared.lock_live() else {
                    return Ok(Outcome::Closed);
                };
                let signaled = !d.powered_off() && d.tpm.act_signaled(act_handle);
                drop(d);
                conn.write_all(&words(&[u32::from(signaled), 0]))?;
                continue;
            }
            _ => {}
        }
        let Some(mut d) = shared.lock_live() else {
            return Ok(Outcome::Closed);
        };
        let on = !d.powered_off();
        match code {
            POWER_ON => {
                if !on {
                    tracing::debug!("mssim: power on");
                }
                d.tpm.power_on();
            }
            POWER_OFF => {
                if on {
                    tracing::debug!("mssim: power off");
                }
                d.tpm.power_off();
            }
            PHYS_PRES_ON | PHYS_PRES_OFF => {
                if on {
                    d.physical_presence = code == PHYS_PRES_ON;
                }
            }
            NV_ON | NV_OFF => {
                if on {
                    d.tpm.set_nv_available(code == NV_ON);
                }
            }
            RESET => d.tpm.reset(),
            // The RSA key cache and the clock restart of the reference
            // simulator have nothing to act on here.
            KEY_CACHE_ON | KEY_CACHE_OFF | RESTART => {}
            TEST_FAILURE_MODE => d.test_failure_mode = true,
            other => {
                drop(d);
                tracing::warn!("mssim platform port: unknown code {other}, closing connection");
                conn.write_all(&1u32.to_be_bytes())?;
                return Ok(Outcome::Closed);
            }
        }
        drop(d);
        ack(conn)?;
    }
}
