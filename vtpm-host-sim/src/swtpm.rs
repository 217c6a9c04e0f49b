//! swtpm's protocols: the data channel (raw TPM 2.0 commands, or commands
//! with the mssim `TPM_SEND_COMMAND` prefix) and the control channel
//! (`tpm_ioctl.h` commands: u32 code + request, reply starting with a u32
//! TPM 1.2 result code). `shared/notes/host-ecosystem.md` §2 describes
//! both and what QEMU, libvirt and the TCTIs expect of them.
//!
//! # State blobs (`CMD_GET_STATEBLOB` / `CMD_SET_STATEBLOB`)
//!
//! * **Permanent**: the TPM's persistent state. Asked for with
//!   `PTM_STATE_FLAG_DECRYPTED` (what QEMU does) it is the plaintext
//!   serialized state ([`vtpm_core::state::PersistentState::to_bytes`]);
//!   otherwise it is the newest sealed slot file, verbatim (our sealed
//!   format, `VTPMSEAL`, flag `PTM_STATE_FLAG_ENCRYPTED`). Both are accepted
//!   back; a sealed blob must open with the key of this state directory.
//!   On a started TPM, fetching it first runs `TPM2_Shutdown(SU_STATE)`
//!   (as swtpm's auto-shutdown does before a reset), so the blob carries
//!   what a TPM Resume restores: PCRs, hierarchy enables, the null
//!   hierarchy, platformAuth/policy.
//! * **Volatile**: 16 octets, [`VolatileBlob`]: whether the TPM was started,
//!   the locality and the tpmEstablished bit. Empty when the TPM was not
//!   started. After `CMD_SET_STATEBLOB` of both, `CMD_INIT` resumes the
//!   TPM with `TPM2_Startup(SU_STATE)`: the guest carries on without
//!   sending `TPM2_Startup`. Loaded transient objects and sessions do not
//!   travel (they are flushed, as at any TPM Resume); saved contexts stay
//!   valid.
//! * **Savestate**: always empty, as with libtpms for TPM 2.0.
//!
//! `CMD_STORE_VOLATILE` does the same `TPM2_Shutdown(SU_STATE)` (its state
//! goes to the sealed store like any commit) and writes the 16-octet blob
//! to `DIR/vtpm-volatile.bin`; the next `CMD_INIT` resumes from it once and
//! removes it.

use std::io::{self, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use vtpm_core::state::{Orderly, PersistentState};

use crate::conn::{mssim_frame, words, Conn, ReadAhead, MAX_BUFFER};
use crate::device::{
    response_code, Device, Event, Shared, CC_SHUTDOWN, RC_FAILURE_RESPONSE, SHUTDOWN_STATE,
    STARTUP_STATE,
};
use crate::frames::{complete_ctrl_message, read_data_request, DataRequest, CTRL_BUFFER};
use crate::keys::{self, KeySpec};
use crate::mssim::{map_locality, Outcome};

/// Control commands (`enum tpm_ioctl_cmd`).
pub use crate::frames::swtpm_cmd as cmd;

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
    /// PTM_CAP_STORE_VOLATILE.
    pub const STORE_VOLATILE: u32 = 1 << 6;
    /// PTM_CAP_RESET_TPMESTABLISHED.
    pub const RESET_TPMESTABLISHED: u32 = 1 << 7;
    /// PTM_CAP_GET_STATEBLOB.
    pub const GET_STATEBLOB: u32 = 1 << 8;
    /// PTM_CAP_SET_STATEBLOB.
    pub const SET_STATEBLOB: u32 = 1 << 9;
    /// PTM_CAP_STOP.
    pub const STOP: u32 = 1 << 10;
    /// PTM_CAP_GET_CONFIG.
    pub const GET_CONFIG: u32 = 1 << 11;
    /// PTM_CAP_SET_DATAFD.
    pub const SET_DATAFD: u32 = 1 << 12;
    /// PTM_CAP_SET_BUFFERSIZE.
    pub const SET_BUFFERSIZE: u32 = 1 << 13;
    /// PTM_CAP_GET_INFO.
    pub const GET_INFO: u32 = 1 << 14;
    /// PTM_CAP_SEND_COMMAND_HEADER.
    pub const SEND_COMMAND_HEADER: u32 = 1 << 15;
    /// PTM_CAP_LOCK_STORAGE.
    pub const LOCK_STORAGE: u32 = 1 << 16;
}

/// What we implement, reported by CMD_GET_CAPABILITY: every command.
pub const CAPABILITIES: u32 = cap::INIT
    | cap::SHUTDOWN
    | cap::GET_TPMESTABLISHED
    | cap::SET_LOCALITY
    | cap::HASHING
    | cap::CANCEL_TPM_CMD
    | cap::STORE_VOLATILE
    | cap::RESET_TPMESTABLISHED
    | cap::GET_STATEBLOB
    | cap::SET_STATEBLOB
    | cap::STOP
    | cap::GET_CONFIG
    | cap::SET_DATAFD
    | cap::SET_BUFFERSIZE
    | cap::GET_INFO
    | cap::SEND_COMMAND_HEADER
    | cap::LOCK_STORAGE;

/// Result codes (TPM 1.2, `tpm_error.h`).
pub mod res {
    /// TPM_SUCCESS.
    pub const SUCCESS: u32 = 0;
    /// TPM_BAD_PARAMETER: malformed request.
    pub const BAD_PARAMETER: u32 = 0x03;
    /// TPM_FAIL.
    pub const FAIL: u32 = 0x09;
    /// TPM_BAD_ORDINAL: unknown command, or the TPM is (not) running.
    pub const BAD_ORDINAL: u32 = 0x0A;
    /// TPM_IOERROR (CMD_SET_DATAFD while a data connection is open).
    pub const IOERROR: u32 = 0x1F;
    /// TPM_BAD_LOCALITY.
    pub const BAD_LOCALITY: u32 = 0x3D;
}

/// `PTM_INIT_FLAG_DELETE_VOLATILE`.
pub const INIT_FLAG_DELETE_VOLATILE: u32 = 1;
/// `PTM_BLOB_TYPE_PERMANENT`.
pub const BLOB_PERMANENT: u32 = 1;
/// `PTM_BLOB_TYPE_VOLATILE`.
pub const BLOB_VOLATILE: u32 = 2;
/// `PTM_BLOB_TYPE_SAVESTATE`.
pub const BLOB_SAVESTATE: u32 = 3;
/// `PTM_STATE_FLAG_DECRYPTED` (GET request: want the plaintext).
pub const STATE_FLAG_DECRYPTED: u32 = 1;
/// `PTM_STATE_FLAG_ENCRYPTED` (GET reply / SET request: blob is sealed).
pub const STATE_FLAG_ENCRYPTED: u32 = 2;
/// `PTM_CONFIG_FLAG_FILE_KEY`.
pub const CONFIG_FLAG_FILE_KEY: u32 = 1;

/// The TPM I/O buffer size reported by CMD_SET_BUFFERSIZE. The engine's
/// largest command (4087) and response (4092) both fit and its limits are
/// fixed, so every request is answered with this size (as minimum, maximum
/// and size in use: a request for another size is clamped to it).
pub const BUFFER_SIZE: u32 = 4096;

/// Largest state blob CMD_SET_STATEBLOB takes (swtpm's limit).
pub const MAX_STATE_BLOB: usize = 512 * 1024;
/// Largest JSON chunk of one CMD_GET_INFO reply (`PTM_GETINFO_SIZE`).
pub const GETINFO_CHUNK: usize = 3 * 1024;

/// `TPM2_CC_SET_LOCALITY`: swtpm's vendor command on the data channel.
pub const CC_SET_LOCALITY: u32 = 0x2000_1000;
/// TPM_RC_LOCALITY.
const RC_LOCALITY: u32 = 0x907;
/// TPM_RC_INSUFFICIENT.
const RC_INSUFFICIENT: u32 = 0x9A;

/// Name of the volatile-state file `CMD_STORE_VOLATILE` writes.
pub const VOLATILE_FILE: &str = "vtpm-volatile.bin";

/// How long swtpm waits for the rest of a control message.
const CTRL_DEADLINE: Duration = Duration::from_millis(500);
/// How long we wait for streamed CMD_HASH_DATA or CMD_SET_STATEBLOB bytes.
const STREAM_DEADLINE: Duration = Duration::from_secs(10);

// ------------------------------------------------------ configuration ---

/// How the swtpm front end behaves (from the `socket` command line).
#[derive(Debug, Clone, Default)]
pub struct SwtpmConfig {
    /// `--locality reject-locality-4`.
    pub reject_locality_4: bool,
    /// `--locality allow-set-locality`: TPM2_CC_SET_LOCALITY on the data
    /// channel.
    pub allow_set_locality: bool,
    /// Exit when a data connection closes (`--terminate`, or a data socket
    /// given with `--server type=tcp,fd=N`).
    pub terminate_on_data_close: bool,
    /// Close the data connection after every response
    /// (`--server ...,disconnect`).
    pub disconnect: bool,
    /// A key or passphrase was given (`CMD_GET_CONFIG` reports
    /// `PTM_CONFIG_FLAG_FILE_KEY`).
    pub file_key: bool,
    /// Where the state key comes from, to open sealed state blobs.
    pub key: Option<KeySpec>,
}

/// The swtpm front end's share of [`Shared`].
#[derive(Debug, Default)]
pub struct SwtpmShared {
    config: Mutex<SwtpmConfig>,
    /// A data connection is being served (CMD_SET_DATAFD refuses another).
    data_active: AtomicBool,
    /// A volatile blob from CMD_SET_STATEBLOB, applied by the next
    /// CMD_INIT.
    pending_volatile: Mutex<Option<VolatileBlob>>,
    /// The last blob CMD_GET_STATEBLOB produced (type, flags, octets): a
    /// read at a non-zero offset continues it rather than a newer
    /// serialization (whose clock, and so length, may differ).
    last_blob: Mutex<Vec<(u32, u32, Vec<u8>)>>,
}

impl SwtpmShared {
    /// Replace the configuration.
    pub fn configure(&self, c: SwtpmConfig) {
        *lock(&self.config) = c;
    }

    /// The configuration.
    pub fn config(&self) -> SwtpmConfig {
        lock(&self.config).clone()
    }

    /// Mark a data connection as open; false if one already is.
    pub fn claim_data(&self) -> bool {
        self.data_active
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// Mark the data connection as closed.
    pub fn release_data(&self) {
        self.data_active.store(false, Ordering::SeqCst);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------- volatile blob ---

/// The volatile state blob: what the host keeps beside the TPM that a
/// resumed TPM needs. 16 octets, big-endian:
///
/// | offset | size | field |
/// |---:|---:|---|
/// | 0 | 8 | magic `"VTPMVOLA"` |
/// | 8 | 2 | format version, 1 |
/// | 10 | 1 | flags: bit 0 the TPM was started, bit 1 tpmEstablished |
/// | 11 | 1 | locality |
/// | 12 | 4 | reserved, 0 |
///
/// The TPM's own volatile data travels in the permanent blob as the state
/// `TPM2_Shutdown(SU_STATE)` saved (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VolatileBlob {
    /// The TPM was started: resume it with `TPM2_Startup(SU_STATE)`.
    pub started: bool,
    /// tpmEstablished.
    pub established: bool,
    /// Locality of raw data commands.
    pub locality: u8,
}

impl VolatileBlob {
    /// Magic of the format.
    pub const MAGIC: [u8; 8] = *b"VTPMVOLA";
    /// Length of the encoding.
    pub const LEN: usize = 16;

    /// Encode.
    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        let (magic, rest) = b.split_at_mut(8);
        magic.copy_from_slice(&Self::MAGIC);
        if let [v0, v1, flags, loc, ..] = rest {
            [*v0, *v1] = 1u16.to_be_bytes();
            *flags = u8::from(self.started) | u8::from(self.established) << 1;
            *loc = self.locality;
        }
        b
    }

    /// Decode; `None` unless it is exactly a version-1 blob.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b: &[u8; Self::LEN] = b.try_into().ok()?;
        let (magic, rest) = b.split_at(8);
        if magic != Self::MAGIC {
            return None;
        }
        let [v0, v1, flags, locality, r0, r1, r2, r3] = <[u8; 8]>::try_from(rest).ok()?;
        if u16::from_be_bytes([v0, v1]) != 1 || flags & !3 != 0 || locality > 4 {
            return None;
        }
        if [r0, r1, r2, r3] != [0; 4] {
            return None;
        }
        Some(VolatileBlob {
            started: flags & 1 != 0,
            established: flags & 2 != 0,
            locality,
        })
    }
}

// ---------------------------------------------------------------- data ---

/// Serve one client on the data channel until it goes away.
pub fn serve_data(shared: &Shared, conn: &mut Conn) -> Outcome {
    if let Err(e) = data_loop(shared, conn) {
        tracing::debug!("swtpm data connection closed: {e}");
    }
    Outcome::Closed
}

fn data_loop(shared: &Shared, conn: &mut Conn) -> io::Result<()> {
    let disconnect = shared.swtpm.config().disconnect;
    let mut ahead = ReadAhead::new();
    loop {
        match read_data_request(&mut ahead.on(conn))? {
            // mssim TPM_SEND_COMMAND prefix: answer in mssim form.
            DataRequest::Mssim { locality, command } => {
                let locality = map_locality(locality);
                let Some(cmd) = command else {
                    tracing::warn!("swtpm data: command length over 1 MiB, closing connection");
                    return Ok(());
                };
                let Some(rsp) = execute(shared, Some(locality), &cmd) else {
                    return Ok(());
                };
                conn.write_all(&mssim_frame(&rsp))?;
            }
            // A raw TPM command, framed by its header's size field.
            DataRequest::Raw(Err(size)) => {
                tracing::warn!("swtpm data: command size {size} out of range, closing connection");
                return Ok(());
            }
            DataRequest::Raw(Ok(cmd)) => {
                let Some(rsp) = execute(shared, None, &cmd) else {
                    return Ok(());
                };
                conn.write_all(&rsp)?;
            }
        }
        if disconnect {
            return Ok(());
        }
    }
}

/// A 10-octet response with `rc`.
fn short_response(rc: u32) -> Vec<u8> {
    let mut v = vec![0x80, 0x01, 0, 0, 0, 0x0a];
    v.extend_from_slice(&rc.to_be_bytes());
    v
}

/// Run one data-channel command; `None` when the simulator is exiting.
fn execute(shared: &Shared, locality: Option<u8>, cmd: &[u8]) -> Option<Vec<u8>> {
    let mut d = shared.lock_live()?;
    if !d.running {
        return Some(RC_FAILURE_RESPONSE.to_vec());
    }
    if be32(cmd.get(6..).unwrap_or_default()) == Some(CC_SET_LOCALITY) {
        return Some(set_locality_command(shared, &mut d, cmd));
    }
    let locality = locality.unwrap_or(d.locality);
    shared.cancel.store(false, Ordering::SeqCst);
    shared.busy.store(true, Ordering::SeqCst);
    let rsp = d.execute(locality, cmd);
    shared.busy.store(false, Ordering::SeqCst);
    shared.cancel.store(false, Ordering::SeqCst);
    Some(rsp)
}

/// swtpm's vendor command TPM2_CC_SET_LOCALITY (one octet after the
/// header), allowed only with `--locality allow-set-locality`.
fn set_locality_command(shared: &Shared, d: &mut Device, cmd: &[u8]) -> Vec<u8> {
    let c = shared.swtpm.config();
    let Some(&l) = cmd.get(10) else {
        return short_response(RC_INSUFFICIENT);
    };
    if !c.allow_set_locality {
        return RC_FAILURE_RESPONSE.to_vec();
    }
    if l > 4 || (l == 4 && c.reject_locality_4) {
        return short_response(RC_LOCALITY);
    }
    d.locality = l;
    short_response(0)
}

// ------------------------------------------------------------- control ---

/// Read on a control connection. On a Unix socket the read is a
/// `recvmsg` that also takes a file descriptor passed with `SCM_RIGHTS`
/// (CMD_SET_DATAFD); further descriptors in the same message are closed.
fn recv_with_fd(conn: &mut Conn, buf: &mut [u8]) -> io::Result<(usize, Option<OwnedFd>)> {
    use rustix::net::{recvmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
    let Conn::Unix(s) = conn else {
        return Ok((conn.read(buf)?, None));
    };
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut anc = RecvAncillaryBuffer::new(&mut space);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = loop {
        match recvmsg(&*s, &mut iov, &mut anc, RecvFlags::CMSG_CLOEXEC) {
            Err(rustix::io::Errno::INTR) => continue,
            r => break r.map_err(io::Error::from)?,
        }
    };
    let mut fd = None;
    for m in anc.drain() {
        if let RecvAncillaryMessage::ScmRights(fds) = m {
            for f in fds {
                if fd.is_none() {
                    fd = Some(f);
                }
            }
        }
    }
    Ok((msg.bytes, fd))
}

/// One control message: its bytes (code first) and a passed descriptor.
struct CtrlMessage {
    bytes: Vec<u8>,
    fd: Option<OwnedFd>,
}

/// Read one control message the way swtpm does: one read (a `recvmsg` on
/// Unix sockets), then more until the command's request is complete, the
/// buffer is full or [`CTRL_DEADLINE`] passes. Extra octets that arrived
/// with the message (the padding QEMU sends after a 1-byte locality)
/// belong to it and are dropped with it. `None` at end of stream.
fn read_ctrl_message(conn: &mut Conn) -> io::Result<Option<CtrlMessage>> {
    conn.set_read_timeout(None)?;
    let mut buf = vec![0u8; CTRL_BUFFER];
    let (n, fd) = loop {
        match recv_with_fd(conn, &mut buf) {
            Ok(r) => break r,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    if n == 0 {
        return Ok(None);
    }
    buf.truncate(n);
    let deadline = Instant::now() + CTRL_DEADLINE;
    complete_ctrl_message(&mut buf, |more| loop {
        let now = Instant::now();
        if now >= deadline {
            return Ok(0);
        }
        conn.set_read_timeout(Some(deadline - now))?;
        match conn.read(more) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_timeout(&e) => return Ok(0),
            r => return r,
        }
    })?;
    conn.set_read_timeout(None)?;
    if buf.len() < 4 {
        tracing::debug!("swtpm ctrl: message shorter than a command code, closing");
        return Ok(None);
    }
    Ok(Some(CtrlMessage { bytes: buf, fd }))
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Read exactly `buf.len()` more octets within `deadline`.
fn read_stream(conn: &mut Conn, buf: &mut [u8], deadline: Duration) -> io::Result<()> {
    conn.set_read_timeout(Some(deadline))?;
    let r = conn.read_exact(buf);
    conn.set_read_timeout(None)?;
    r
}

/// Serve one client on the control channel until it goes away.
pub fn serve_ctrl(shared: &Arc<Shared>, conn: &mut Conn) -> Outcome {
    match ctrl_loop(shared, conn) {
        Ok(o) => o,
        Err(e) => {
            tracing::debug!("swtpm ctrl connection closed: {e}");
            Outcome::Closed
        }
    }
}

fn ctrl_loop(shared: &Arc<Shared>, conn: &mut Conn) -> io::Result<Outcome> {
    while let Some(msg) = read_ctrl_message(conn)? {
        let Some(code) = be32(&msg.bytes) else {
            break;
        };
        let payload = msg.bytes.get(4..).unwrap_or_default();
        let reply = handle_ctrl(shared, conn, code, payload, msg.fd)?;
        match reply {
            Reply::Send(bytes) => {
                tracing::debug!(
                    "swtpm ctrl: command 0x{code:02x} -> {:02x?}",
                    bytes.get(..16.min(bytes.len())).unwrap_or_default()
                );
                conn.write_all(&bytes)?;
            }
            Reply::SendAndExit(bytes) => {
                conn.write_all(&bytes)?;
                return Ok(Outcome::Stop);
            }
            Reply::Close => return Ok(Outcome::Closed),
        }
    }
    Ok(Outcome::Closed)
}

fn be32(p: &[u8]) -> Option<u32> {
    p.get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_be_bytes)
}

fn be64(p: &[u8]) -> Option<u64> {
    p.get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
}

/// What to do after a control command.
enum Reply {
    /// Send these bytes.
    Send(Vec<u8>),
    /// Send these bytes, then the simulator exits (CMD_SHUTDOWN).
    SendAndExit(Vec<u8>),
    /// Close the connection without a reply (the stream is out of step).
    Close,
}

fn r(v: u32) -> Reply {
    Reply::Send(words(&[v]))
}

/// The 16-octet CMD_GET_STATEBLOB reply header with no data: QEMU reads
/// all 16 octets whatever the result.
fn stateblob_error(result: u32) -> Reply {
    Reply::Send(words(&[result, 0, 0, 0]))
}

/// Handle one control command.
fn handle_ctrl(
    shared: &Arc<Shared>,
    conn: &mut Conn,
    code: u32,
    payload: &[u8],
    fd: Option<OwnedFd>,
) -> io::Result<Reply> {
    // Commands that must not wait for the device lock, or need none.
    match code {
        cmd::GET_CAPABILITY => return Ok(Reply::Send(words(&[res::SUCCESS, CAPABILITIES]))),
        cmd::GET_CONFIG => {
            let flags = if shared.swtpm.config().file_key {
                CONFIG_FLAG_FILE_KEY
            } else {
                0
            };
            return Ok(Reply::Send(words(&[res::SUCCESS, flags])));
        }
        cmd::CANCEL_TPM_CMD => {
            // The command to cancel holds the device lock: only the flag.
            if shared.busy.load(Ordering::SeqCst) {
                shared.cancel.store(true, Ordering::SeqCst);
                return Ok(r(res::SUCCESS));
            }
            let running = shared.lock_live().is_some_and(|d| d.running);
            return Ok(r(if running {
                res::SUCCESS
            } else {
                res::BAD_ORDINAL
            }));
        }
        cmd::HASH_DATA => return hash_data(shared, conn, payload).map(r),
        cmd::SET_STATEBLOB => return set_stateblob(shared, conn, payload),
        cmd::SET_DATAFD => return Ok(set_datafd(shared, fd)),
        cmd::GET_INFO => return Ok(get_info(payload)),
        _ => {}
    }
    let Some(mut d) = shared.lock_live() else {
        return Ok(if code == cmd::GET_STATEBLOB {
            stateblob_error(res::FAIL)
        } else {
            r(res::FAIL)
        });
    };
    let reply = match code {
        cmd::INIT => {
            let Some(flags) = be32(payload) else {
                return Ok(r(res::BAD_PARAMETER));
            };
            r(init(shared, &mut d, flags))
        }
        cmd::SHUTDOWN => {
            d.stop();
            return Ok(Reply::SendAndExit(words(&[res::SUCCESS])));
        }
        cmd::STOP => {
            d.stop();
            r(res::SUCCESS)
        }
        cmd::GET_TPMESTABLISHED => {
            // Always 8 octets, even on error: QEMU reads 8.
            let result = if d.running {
                res::SUCCESS
            } else {
                res::BAD_ORDINAL
            };
            let mut v = words(&[result]);
            v.extend_from_slice(&[u8::from(d.running && d.established), 0, 0, 0]);
            Reply::Send(v)
        }
        cmd::SET_LOCALITY => match payload.first() {
            None => r(res::BAD_PARAMETER),
            Some(&l) if l > 4 || (l == 4 && shared.swtpm.config().reject_locality_4) => {
                r(res::BAD_LOCALITY)
            }
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
        cmd::STORE_VOLATILE => {
            if d.running {
                r(store_volatile(&mut d))
            } else {
                r(res::BAD_ORDINAL)
            }
        }
        cmd::GET_STATEBLOB => get_stateblob(shared, &mut d, payload),
        cmd::SET_BUFFERSIZE => match be32(payload) {
            None => r(res::BAD_PARAMETER),
            // Changing the size needs a stopped TPM.
            Some(n) if n != 0 && d.running => r(res::BAD_ORDINAL),
            Some(_) => Reply::Send(words(&[
                res::SUCCESS,
                BUFFER_SIZE,
                BUFFER_SIZE,
                BUFFER_SIZE,
            ])),
        },
        cmd::LOCK_STORAGE => {
            if be32(payload).is_none() {
                r(res::BAD_PARAMETER)
            } else {
                // The state directory is locked for as long as the TPM is
                // open (the store holds the lock); nothing to retake.
                r(res::SUCCESS)
            }
        }
        other => {
            tracing::debug!("swtpm ctrl: unknown command 0x{other:x}");
            r(res::BAD_ORDINAL)
        }
    };
    Ok(reply)
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
        read_stream(conn, &mut rest, STREAM_DEADLINE)?;
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

/// CMD_SET_DATAFD: serve TPM commands on the passed socket (QEMU keeps
/// the other end of a socketpair).
fn set_datafd(shared: &Arc<Shared>, fd: Option<OwnedFd>) -> Reply {
    let Some(fd) = fd else {
        tracing::warn!("swtpm ctrl: CMD_SET_DATAFD without a file descriptor");
        return r(res::BAD_PARAMETER);
    };
    if !shared.swtpm.claim_data() {
        tracing::warn!("swtpm ctrl: CMD_SET_DATAFD while a data connection is open");
        return r(res::IOERROR);
    }
    let conn = Conn::Unix(std::os::unix::net::UnixStream::from(fd));
    let s = Arc::clone(shared);
    let spawned = std::thread::Builder::new()
        .name("swtpm data fd".into())
        .spawn(move || serve_data_connection(&s, conn));
    match spawned {
        Ok(_) => {
            tracing::debug!("swtpm ctrl: serving TPM commands on the passed descriptor");
            r(res::SUCCESS)
        }
        Err(e) => {
            tracing::error!("cannot start a thread for the data descriptor: {e}");
            shared.swtpm.release_data();
            r(res::FAIL)
        }
    }
}

/// Serve a data connection the caller has claimed with
/// [`SwtpmShared::claim_data`]; release it afterwards, and stop the
/// simulator if the configuration says a closed data connection ends it.
pub fn serve_data_connection(shared: &Shared, mut conn: Conn) {
    let id = shared.register(&conn);
    serve_data(shared, &mut conn);
    shared.unregister(id);
    drop(conn);
    shared.swtpm.release_data();
    tracing::debug!("swtpm data: client disconnected");
    if shared.swtpm.config().terminate_on_data_close && !shared.is_stopping() {
        shared.request_stop(Event::Stop("the data connection closed (--terminate)"));
    }
}

// ------------------------------------------------------- init / state ---

/// CMD_INIT: orderly shutdown if running, power cycle (which is
/// _TPM_Init); then resume from a volatile blob if one was handed over
/// (CMD_SET_STATEBLOB) or stored (CMD_STORE_VOLATILE), else the configured
/// Startup.
fn init(shared: &Shared, d: &mut Device, flags: u32) -> u32 {
    // The volatile state is used once whatever the flags say: both a
    // handed-over blob and the file of CMD_STORE_VOLATILE are removed when
    // read (PTM_INIT_FLAG_DELETE_VOLATILE is implied).
    tracing::debug!(
        "swtpm ctrl: CMD_INIT flags 0x{flags:x}{}",
        if flags & INIT_FLAG_DELETE_VOLATILE != 0 {
            " (delete volatile)"
        } else {
            ""
        }
    );
    if d.running {
        d.auto_shutdown();
    }
    d.tpm.power_off();
    d.running = false;
    let pending = lock(&shared.swtpm.pending_volatile).take();
    let vol = match pending {
        Some(v) => Some(v),
        None => take_volatile_file(d),
    };
    d.running = true;
    match vol {
        Some(v) if v.started => {
            if let Err(e) = resume(d, v) {
                tracing::error!("CMD_INIT: cannot resume the TPM from its volatile state: {e}");
                return res::FAIL;
            }
            tracing::info!("CMD_INIT: TPM resumed from its saved volatile state");
        }
        Some(v) => {
            d.tpm.power_on();
            d.locality = v.locality;
            d.established = v.established;
            d.auto_startup();
        }
        None => {
            d.tpm.power_on();
            d.auto_startup();
        }
    }
    if d.tpm.phase() == vtpm_core::state::Phase::Failure {
        res::FAIL
    } else {
        res::SUCCESS
    }
}

fn volatile_path(d: &Device) -> PathBuf {
    d.state_dir.join(VOLATILE_FILE)
}

/// The volatile blob CMD_STORE_VOLATILE left, removed once read.
fn take_volatile_file(d: &Device) -> Option<VolatileBlob> {
    let path = volatile_path(d);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!("cannot read {}: {e}; ignoring it", path.display());
            return None;
        }
    };
    if let Err(e) = std::fs::remove_file(&path) {
        tracing::warn!("cannot remove {}: {e}", path.display());
    }
    let v = VolatileBlob::parse(&bytes);
    if v.is_none() {
        tracing::warn!("{} is not a volatile state blob; ignored", path.display());
    }
    v
}

/// Resume a powered-off TPM whose persistent state holds what
/// `TPM2_Shutdown(SU_STATE)` saved: power on, `TPM2_Startup(SU_STATE)`.
fn resume(d: &mut Device, v: VolatileBlob) -> Result<(), String> {
    // To the guest nothing happened: keep restartCount as it was, although
    // Startup(SU_STATE) counts a TPM Resume (it adds one; take one away
    // first, wrapping like the counter does).
    let bytes = d
        .tpm
        .serialize_state()
        .ok_or("cannot serialize the state")?;
    let mut p = PersistentState::from_bytes(&bytes).map_err(|e| e.to_string())?;
    if p.orderly != Orderly::State || p.saved.is_none() {
        return Err("the permanent state holds no saved state (no TPM2_Shutdown(SU_STATE))".into());
    }
    p.restart_count = p.restart_count.wrapping_sub(1);
    let bytes = p.to_bytes().map_err(|e| e.to_string())?;
    d.tpm.replace_state(&bytes).map_err(|e| e.to_string())?;
    d.tpm.power_on();
    let rc = response_code(&d.execute(0, &STARTUP_STATE));
    if rc != 0 {
        return Err(format!("TPM2_Startup(SU_STATE) failed with rc 0x{rc:x}"));
    }
    d.locality = v.locality;
    d.established = v.established;
    Ok(())
}

/// On a started TPM, `TPM2_Shutdown(SU_STATE)` unless that was the last
/// command: the persistent state then holds what a TPM Resume restores.
fn save_volatile(d: &mut Device) -> Result<(), u32> {
    if !d.tpm.is_started() || d.tpm.last_command() == CC_SHUTDOWN {
        return Ok(());
    }
    let rc = response_code(&d.execute(0, &SHUTDOWN_STATE));
    if rc == 0 {
        Ok(())
    } else {
        tracing::error!("TPM2_Shutdown(SU_STATE) for the volatile state failed: rc 0x{rc:x}");
        Err(res::FAIL)
    }
}

/// The volatile blob of the running TPM (after [`save_volatile`]).
fn volatile_blob(d: &mut Device) -> Result<Vec<u8>, u32> {
    if !d.tpm.is_started() {
        return Ok(Vec::new());
    }
    save_volatile(d)?;
    let v = VolatileBlob {
        started: true,
        established: d.established,
        locality: d.locality,
    };
    Ok(v.to_bytes().to_vec())
}

/// CMD_STORE_VOLATILE.
fn store_volatile(d: &mut Device) -> u32 {
    let blob = match volatile_blob(d) {
        Ok(b) => b,
        Err(e) => return e,
    };
    let path = volatile_path(d);
    if blob.is_empty() {
        // Nothing to resume: make sure no stale blob is resumed either.
        let _ = std::fs::remove_file(&path);
        return res::SUCCESS;
    }
    let dir = d.state_dir.clone();
    match crate::store::write_atomic(&dir, VOLATILE_FILE, &blob, true) {
        Ok(()) => res::SUCCESS,
        Err(e) => {
            tracing::error!("cannot write {}: {e}", path.display());
            res::FAIL
        }
    }
}

/// The permanent blob: plaintext, or the newest sealed slot verbatim.
fn permanent_blob(d: &mut Device, decrypted: bool) -> Result<(u32, Vec<u8>), u32> {
    save_volatile(d)?;
    if decrypted {
        let bytes = d.tpm.serialize_state().ok_or(res::FAIL)?;
        return Ok((0, bytes));
    }
    let p = d.tpm.platform();
    let Some(pos) = p.newest() else {
        tracing::error!("GET_STATEBLOB: no sealed state has been written yet");
        return Err(res::FAIL);
    };
    let path = d.state_dir.join(crate::store::slot_file(pos.slot));
    match std::fs::read(&path) {
        Ok(b) => Ok((STATE_FLAG_ENCRYPTED, b)),
        Err(e) => {
            tracing::error!("GET_STATEBLOB: cannot read {}: {e}", path.display());
            Err(res::FAIL)
        }
    }
}

/// CMD_GET_STATEBLOB: u32 flags, u32 type, u32 offset; reply u32 result,
/// u32 flags, u32 total length, u32 length, data. The 16-octet header is
/// sent even on error (QEMU reads it).
fn get_stateblob(shared: &Shared, d: &mut Device, payload: &[u8]) -> Reply {
    let (Some(flags), Some(kind), Some(offset)) = (
        be32(payload),
        be32(payload.get(4..).unwrap_or_default()),
        be32(payload.get(8..).unwrap_or_default()),
    ) else {
        return stateblob_error(res::BAD_PARAMETER);
    };
    if !d.running {
        return stateblob_error(res::BAD_ORDINAL);
    }
    let mut last = lock(&shared.swtpm.last_blob);
    let cached = last
        .iter()
        .find(|(k, f, _)| offset != 0 && *k == kind && *f == flags)
        .map(|(_, _, b)| b.clone());
    let (out_flags, blob) = match cached {
        Some(b) => (
            if kind == BLOB_PERMANENT && flags & STATE_FLAG_DECRYPTED == 0 {
                STATE_FLAG_ENCRYPTED
            } else {
                0
            },
            b,
        ),
        None => {
            let blob = match kind {
                BLOB_PERMANENT => permanent_blob(d, flags & STATE_FLAG_DECRYPTED != 0),
                BLOB_VOLATILE => volatile_blob(d).map(|b| (0, b)),
                BLOB_SAVESTATE => Ok((0, Vec::new())),
                _ => Err(res::FAIL),
            };
            match blob {
                Ok(b) => b,
                Err(e) => return stateblob_error(e),
            }
        }
    };
    last.retain(|(k, f, _)| (*k, *f) != (kind, flags));
    last.push((kind, flags, blob.clone()));
    drop(last);
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let data = blob.get(offset..).unwrap_or_default();
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let mut v = words(&[res::SUCCESS, out_flags, len, len]);
    v.extend_from_slice(data);
    Reply::Send(v)
}

/// CMD_SET_STATEBLOB: u32 flags, u32 type, u32 length, then the blob,
/// which may arrive in later writes. Only while the TPM is stopped.
fn set_stateblob(shared: &Shared, conn: &mut Conn, payload: &[u8]) -> io::Result<Reply> {
    let (Some(flags), Some(kind), Some(len)) = (
        be32(payload),
        be32(payload.get(4..).unwrap_or_default()),
        be32(payload.get(8..).unwrap_or_default()),
    ) else {
        return Ok(r(res::BAD_PARAMETER));
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if len > MAX_STATE_BLOB {
        tracing::warn!("swtpm ctrl: state blob of {len} octets refused; closing the connection");
        // Its data would follow in the stream: the connection is out of step.
        conn.write_all(&words(&[res::FAIL]))?;
        return Ok(Reply::Close);
    }
    let have = payload.get(12..).unwrap_or_default();
    let mut blob = have.get(..len.min(have.len())).unwrap_or_default().to_vec();
    if blob.len() < len {
        let mut rest = vec![0u8; len - blob.len()];
        if let Err(e) = read_stream(conn, &mut rest, STREAM_DEADLINE) {
            tracing::warn!("swtpm ctrl: state blob incomplete: {e}");
            return Ok(
                if e.kind() == io::ErrorKind::UnexpectedEof || is_timeout(&e) {
                    // The client stopped sending: out of step, give up on it.
                    conn.write_all(&words(&[res::BAD_PARAMETER]))?;
                    Reply::Close
                } else {
                    return Err(e);
                },
            );
        }
        blob.extend_from_slice(&rest);
    }
    let Some(mut d) = shared.lock_live() else {
        return Ok(r(res::FAIL));
    };
    if d.running {
        return Ok(r(res::BAD_ORDINAL));
    }
    let result = match kind {
        BLOB_PERMANENT => match import_permanent(shared, &mut d, flags, &blob) {
            Ok(()) => res::SUCCESS,
            Err(e) => {
                tracing::error!("CMD_SET_STATEBLOB: permanent state refused: {e}");
                res::FAIL
            }
        },
        BLOB_VOLATILE => {
            let mut pending = lock(&shared.swtpm.pending_volatile);
            if blob.is_empty() {
                *pending = None;
                res::SUCCESS
            } else if let Some(v) = VolatileBlob::parse(&blob) {
                *pending = Some(v);
                res::SUCCESS
            } else {
                tracing::error!("CMD_SET_STATEBLOB: not a volatile state blob");
                res::FAIL
            }
        }
        BLOB_SAVESTATE if blob.is_empty() => res::SUCCESS,
        BLOB_SAVESTATE => {
            tracing::error!("CMD_SET_STATEBLOB: this TPM has no savestate blob");
            res::FAIL
        }
        _ => res::FAIL,
    };
    Ok(r(result))
}

/// Replace the stopped TPM's state by an imported permanent blob and
/// commit it durably.
fn import_permanent(
    shared: &Shared,
    d: &mut Device,
    flags: u32,
    blob: &[u8],
) -> Result<(), String> {
    let sealed = blob.starts_with(&vtpm_core::state::blob::MAGIC);
    if flags & STATE_FLAG_ENCRYPTED != 0 && !sealed {
        return Err("flagged encrypted but not a sealed vtpm state (VTPMSEAL)".into());
    }
    let plain = if sealed {
        open_sealed(shared, d, blob)?
    } else {
        zeroize::Zeroizing::new(blob.to_vec())
    };
    let state = PersistentState::from_bytes(&plain).map_err(|e| e.to_string())?;
    // What we import must be resumable only if it says so.
    let resumable = state.orderly == Orderly::State && state.saved.is_some();
    d.tpm.replace_state(&plain).map_err(|e| e.to_string())?;
    let bytes = d
        .tpm
        .serialize_state()
        .ok_or("cannot serialize the imported state")?;
    d.tpm
        .platform()
        .write_state(&bytes)
        .map_err(|e| format!("cannot commit the imported state: {e}"))?;
    tracing::info!(
        "CMD_SET_STATEBLOB: imported the permanent state ({} octets{})",
        blob.len(),
        if resumable { ", resumable" } else { "" }
    );
    Ok(())
}

/// Open a sealed blob with this state directory's key.
fn open_sealed(
    shared: &Shared,
    d: &Device,
    blob: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
    let dir = d.state_dir.clone();
    let spec = match shared.swtpm.config().key {
        // A descriptor was read once, at start; its key cannot be had again.
        Some(KeySpec::KeyFd(_)) | Some(KeySpec::PassphraseFd(_)) => {
            return Err(
                "a sealed state blob can only be opened when the key comes from a file \
                        (--key file=/pwdfile=) or from the state directory; send it decrypted"
                    .into(),
            )
        }
        Some(s) => s,
        None => KeySpec::Default,
    };
    let material = keys::read_material(&spec).map_err(|e| format!("{e:#}"))?;
    let candidates = keys::existing(&dir, &material).map_err(|e| format!("{e:#}"))?;
    let mut last = String::from("no key");
    for k in candidates {
        match vtpm_core::state::blob::open(&k.key, blob) {
            Ok((_, plain)) => return Ok(zeroize::Zeroizing::new(plain.as_slice().to_vec())),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("the sealed state blob does not open: {last}"))
}

// ------------------------------------------------------------ GET_INFO ---

/// CMD_GET_INFO flags (`SWTPM_INFO_*`) we answer.
pub mod info {
    /// SWTPM_INFO_TPMSPECIFICATION.
    pub const TPM_SPECIFICATION: u64 = 1 << 0;
    /// SWTPM_INFO_TPMATTRIBUTES.
    pub const TPM_ATTRIBUTES: u64 = 1 << 1;
    /// SWTPM_INFO_TPMFEATURES.
    pub const TPM_FEATURES: u64 = 1 << 2;
}

/// Fixed TPM properties the JSON reports, read from a scratch engine so
/// they are the values GetCapability reports.
#[derive(Debug, Clone, Copy)]
pub struct TpmIdentity {
    /// TPM_PT_REVISION (e.g. 185 for 1.85).
    pub revision: u32,
    /// TPM_PT_LEVEL.
    pub level: u32,
    /// TPM_PT_MANUFACTURER.
    pub manufacturer: u32,
    /// TPM_PT_FIRMWARE_VERSION_1.
    pub firmware1: u32,
    /// TPM_PT_FIRMWARE_VERSION_2.
    pub firmware2: u32,
}

/// The identity of this TPM implementation.
pub fn identity() -> TpmIdentity {
    static ID: std::sync::OnceLock<TpmIdentity> = std::sync::OnceLock::new();
    *ID.get_or_init(|| {
        let mut id = TpmIdentity {
            revision: 0,
            level: 0,
            manufacturer: 0,
            firmware1: 0,
            firmware2: 0,
        };
        let Some(mut tpm) = vtpm_core::testing::started_tpm(1) else {
            return id;
        };
        // TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_FIXED, 64).
        let cmd = [
            0x80, 0x01, 0, 0, 0, 0x16, 0, 0, 0x01, 0x7a, 0, 0, 0, 6, 0, 0, 1, 0, 0, 0, 0, 64,
        ];
        let rsp = tpm.execute(0, &cmd);
        // header 10, moreData 1, capability 4, count 4, then (u32, u32)s.
        for pair in rsp.get(19..).unwrap_or_default().chunks_exact(8) {
            let (Some(p), Some(v)) = (be32(pair), be32(pair.get(4..).unwrap_or_default())) else {
                continue;
            };
            match p {
                0x101 => id.level = v,
                0x102 => id.revision = v,
                0x105 => id.manufacturer = v,
                0x10b => id.firmware1 = v,
                0x10c => id.firmware2 = v,
                _ => {}
            }
        }
        id
    })
}

/// The JSON CMD_GET_INFO and `--print-info` answer for `flags` (those we
/// do not know are left out).
pub fn info_json(flags: u64) -> String {
    let id = identity();
    let mut parts = Vec::new();
    if flags & info::TPM_SPECIFICATION != 0 {
        parts.push(format!(
            "\"TPMSpecification\":{{\"family\":\"2.0\",\"level\":{},\"revision\":{}}}",
            id.level, id.revision
        ));
    }
    if flags & info::TPM_ATTRIBUTES != 0 {
        parts.push(format!(
            "\"TPMAttributes\":{{\"manufacturer\":\"id:{:08X}\",\"version\":\"id:{:08X}\",\
             \"model\":\"vtpm\"}}",
            id.manufacturer, id.firmware1
        ));
    }
    if flags & info::TPM_FEATURES != 0 {
        let sizes: Vec<String> = vtpm_core::crypto::rsa::RSA_KEY_BITS
            .iter()
            .map(|b| b.to_string())
            .collect();
        parts.push(format!(
            "\"TPMFeatures\":{{\"RSAKeySizes\":[{}]}}",
            sizes.join(",")
        ));
    }
    format!("{{{}}}", parts.join(","))
}

/// CMD_GET_INFO: u64 flags, u32 offset, u32 pad; reply u32 result, u32
/// total length (with the NUL), u32 length, then that chunk.
fn get_info(payload: &[u8]) -> Reply {
    let (Some(flags), Some(offset)) = (be64(payload), be32(payload.get(8..).unwrap_or_default()))
    else {
        return r(res::BAD_PARAMETER);
    };
    let mut text = info_json(flags).into_bytes();
    let strlen = text.len();
    text.push(0);
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    if offset >= strlen {
        return r(res::BAD_PARAMETER);
    }
    let chunk = text.get(offset..).unwrap_or_default();
    let chunk = chunk
        .get(..GETINFO_CHUNK.min(chunk.len()))
        .unwrap_or_default();
    let total = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
    let mut v = words(&[res::SUCCESS, total, len]);
    v.extend_from_slice(chunk);
    Reply::Send(v)
}

#[cfg(test)]
mod unit {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn volatile_blob_round_trip_and_strictness() {
        let v = VolatileBlob {
            started: true,
            established: false,
            locality: 3,
        };
        let b = v.to_bytes();
        assert_eq!(&b[..8], b"VTPMVOLA");
        assert_eq!(b[8..12], [0, 1, 1, 3]);
        assert_eq!(VolatileBlob::parse(&b), Some(v));
        for i in 0..VolatileBlob::LEN {
            let mut bad = b;
            bad[i] ^= 0x80;
            assert_eq!(VolatileBlob::parse(&bad), None, "octet {i}");
        }
        assert_eq!(VolatileBlob::parse(&b[..15]), None);
    }

    #[test]
    fn needed_lengths_follow_swtpm() {
        use crate::frames::ctrl_needed as needed;
        assert_eq!(needed(&[0, 0, 0, 1]), 4);
        assert_eq!(needed(&[0, 0, 0, 2]), 8);
        assert_eq!(needed(&[0, 0, 0, 5]), 5);
        assert_eq!(needed(&[0, 0, 0, 7, 0, 0, 0, 3]), 11);
        assert_eq!(needed(&[0, 0, 0, 0x0c]), 16);
        assert_eq!(
            needed(&[0, 0, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9]),
            25
        );
        assert_eq!(
            needed(&[0, 0, 0, 0x0d, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 0]),
            CTRL_BUFFER
        );
        assert_eq!(needed(&[0, 0, 0, 0x12]), 20);
        assert_eq!(needed(&[0, 0]), 4);
    }

    #[test]
    fn info_json_parses_and_is_chunked() {
        let j: serde_json::Value = serde_json::from_str(&info_json(7)).unwrap();
        assert_eq!(j["TPMSpecification"]["family"], "2.0");
        assert_eq!(j["TPMSpecification"]["revision"], 185);
        assert_eq!(j["TPMAttributes"]["manufacturer"], "id:5654504D");
        assert_eq!(j["TPMFeatures"]["RSAKeySizes"][1], 2048);
        assert_eq!(info_json(0), "{}");
        let Reply::Send(v) = get_info(&[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0]) else {
            panic!()
        };
        let total = u32::from_be_bytes(v[4..8].try_into().unwrap()) as usize;
        let len = u32::from_be_bytes(v[8..12].try_into().unwrap()) as usize;
        assert_eq!(total, len);
        assert_eq!(v.len(), 12 + len);
        assert_eq!(*v.last().unwrap(), 0);
        // Offset past the string: BAD_PARAMETER.
        let Reply::Send(v) = get_info(&[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0, 0, 0]) else {
            panic!()
        };
        assert_eq!(v, words(&[res::BAD_PARAMETER]));
    }
}
