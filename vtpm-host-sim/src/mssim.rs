//! The Microsoft simulator TCP protocol ("mssim", `TpmTcpProtocol.h`): a TPM
//! command port and a platform port, all integers big-endian.

use std::io::{self, Write};
use std::sync::atomic::Ordering;

use crate::conn::{mssim_frame, read_sized, read_u32, read_u8, words, Conn, ReadAhead};
use crate::device::Shared;

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
/// `TPM_SEND_COMMAND`.
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
        let code = read_u32(&mut ahead.on(conn))?;
        match code {
            SEND_COMMAND => {
                conn.quick_ack();
                let mut r = ahead.on(conn);
                let locality = map_locality(read_u8(&mut r)?);
                let Some(cmd) = read_sized(&mut r)? else {
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
            HASH_START => {
                if let Some(mut d) = shared.lock_live() {
                    if !d.powered_off() {
                        d.tpm.hash_start();
                        d.established = true;
                    }
                }
                ack(conn)?;
            }
            HASH_DATA => {
                let Some(data) = read_sized(&mut ahead.on(conn))? else {
                    tracing::warn!("mssim: hash data over 1 MiB, closing connection");
                    return Ok(Outcome::Closed);
                };
                if let Some(mut d) = shared.lock_live() {
                    d.tpm.hash_data(&data);
                }
                ack(conn)?;
            }
            HASH_END => {
                if let Some(mut d) = shared.lock_live() {
                    d.tpm.hash_end();
                }
                ack(conn)?;
            }
            REMOTE_HANDSHAKE => {
                let client_version = read_u32(&mut ahead.on(conn))?;
                if client_version == 0 {
                    tracing::debug!("mssim: handshake with client version 0, closing");
                    return Ok(Outcome::Closed);
                }
                conn.write_all(&words(&[SERVER_VERSION, ENDPOINT_INFO, 0]))?;
            }
            SET_ALTERNATIVE_RESULT => {
                let _ = read_u32(&mut ahead.on(conn))?;
                ack(conn)?;
            }
            SESSION_END => return Ok(Outcome::Closed),
            STOP => return Ok(Outcome::Stop),
            other => {
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
        let code = read_u32(conn)?;
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
                let _act_handle = read_u32(conn)?;
                // No ACTs are implemented: never signalled.
                conn.write_all(&words(&[0, 0]))?;
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
