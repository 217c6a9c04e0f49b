//! The state-sealing key, derived from an SEV-SNP `MSG_KEY_REQ` key.
//!
//! At VMPL0 the SVSM can ask the AMD Secure Processor for a key derived
//! from a chip root key and from measured properties of the guest (its
//! policy, launch measurement, ...). Asked with `VMPL = 0`, only VMPL0
//! code can ever obtain the same key, and a guest OS at VMPL1–3 never holds
//! VMPCK0. That key, passed through KDFa, seals the TPM state blob the
//! untrusted host stores.
//!
//! # Wire structures (SEV-SNP ABI, guest messages)
//!
//! The request and response below are the *plaintext payloads* of an
//! `SNP_GUEST_REQUEST` message of type [`MSG_KEY_REQ`] (3) / [`MSG_KEY_RSP`]
//! (4). The SVSM wraps them in its 96-byte guest-message header, encrypts
//! them with VMPCK0 (AES-256-GCM) and sends them; that transport is the
//! SVSM's ([`SnpKeySource`]). All integers are little-endian. Sources: Linux
//! uapi `struct snp_derived_key_req` / `snp_derived_key_resp`, virtee/sev,
//! OpenVMM `x86defs/src/snp.rs` (citing SEV-SNP ABI 1.55, table 18).
//!
//! `MSG_KEY_REQ` ([`MsgKeyReq`], 32 bytes in message version 1, 40 in 2):
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0x00 | 4 | `ROOT_KEY_SELECT`: bit 0, 0 = VCEK, 1 = VMRK |
//! | 0x04 | 4 | reserved, zero |
//! | 0x08 | 8 | `GUEST_FIELD_SELECT` ([`GuestFieldSelect`]) |
//! | 0x10 | 4 | `VMPL`: at least the caller's VMPL |
//! | 0x14 | 4 | `GUEST_SVN`: at most the SVN of the launch ID block |
//! | 0x18 | 8 | `TCB_VERSION`: at most the committed TCB |
//! | 0x20 | 8 | `LAUNCH_MIT_VECTOR` (message version 2 only) |
//!
//! `MSG_KEY_RSP` ([`MsgKeyRsp`], 64 bytes):
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0x00 | 4  | `STATUS`: 0 OK, 0x16 invalid parameters, 0x27 invalid key selection |
//! | 0x04 | 28 | reserved |
//! | 0x20 | 32 | `DERIVED_KEY` |
//!
//! # From the derived key to the sealing key
//!
//! `state_key = KDFa(SHA-256, derived_key, "vtpm state key v1", MSG_KEY_REQ bytes, "", 256)`
//! (TPM Part 1, 8.4.10.2 KDFa; [`STATE_KEY_LABEL`]). The encoded request is
//! the context, so a key derived under one field selection can never be
//! mistaken for one derived under another, and the label versions the
//! construction. An all-zero derived key is refused (as OpenHCL does).
//!
//! # What the binding gives, and what it does not
//!
//! * VCEK root: the key is unique to the chip (and to the TCB version
//!   given), so a blob never opens on another host.
//! * `MEASUREMENT` selected: any change to the SVSM/OVMF image changes the
//!   key (update-stable sealing needs a signed ID block and `IMAGE_ID` /
//!   `FAMILY_ID` + `GUEST_SVN` instead).
//! * Nothing per-instance can be selected: two VMs with the same image on
//!   the same chip derive the same key, so the host can swap or replay
//!   their blobs. Rollback protection needs a generation witness outside
//!   the host's reach (see [`crate::storage::RollbackGuard`]).

use alloc::vec::Vec;
use core::fmt;
use core::ops::BitOr;

use vtpm_core::crypto::kdf::kdfa;
use vtpm_core::crypto::HashAlg;
use vtpm_core::state::blob::SealingKey;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Guest message type of a key request.
pub const MSG_KEY_REQ: u8 = 3;
/// Guest message type of a key response.
pub const MSG_KEY_RSP: u8 = 4;

/// Length of a message-version-1 `MSG_KEY_REQ`.
pub const MSG_KEY_REQ_V1_LEN: usize = 32;
/// Length of a message-version-2 `MSG_KEY_REQ` (adds `LAUNCH_MIT_VECTOR`).
pub const MSG_KEY_REQ_V2_LEN: usize = 40;
/// Length of `MSG_KEY_RSP`.
pub const MSG_KEY_RSP_LEN: usize = 64;
/// Length of the derived key.
pub const DERIVED_KEY_LEN: usize = 32;

/// `MSG_KEY_RSP` status: success.
pub const KEY_STATUS_SUCCESS: u32 = 0;
/// `MSG_KEY_RSP` status: invalid parameters.
pub const KEY_STATUS_INVALID_PARAMS: u32 = 0x16;
/// `MSG_KEY_RSP` status: invalid key selection.
pub const KEY_STATUS_INVALID_KEY: u32 = 0x27;

/// The KDFa label that turns the SNP derived key into the state key.
pub const STATE_KEY_LABEL: &[u8] = b"vtpm state key v1";

/// `ROOT_KEY_SELECT`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum RootKey {
    /// The chip's VCEK (versioned chip endorsement key): stable across
    /// boots on one chip. The right choice for persistent state.
    #[default]
    Vcek,
    /// The VM root key: fresh for every launch unless a migration agent
    /// supplies it, so useless for cold-boot persistence (a blob sealed
    /// under it will not open after a restart).
    Vmrk,
}

impl RootKey {
    /// The `ROOT_KEY_SELECT` encoding.
    pub const fn encode(self) -> u32 {
        match self {
            RootKey::Vcek => 0,
            RootKey::Vmrk => 1,
        }
    }
}

/// `GUEST_FIELD_SELECT`: which guest properties are mixed into the key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GuestFieldSelect(pub u64);

impl GuestFieldSelect {
    /// Bit 0: the guest policy.
    pub const GUEST_POLICY: GuestFieldSelect = GuestFieldSelect(1 << 0);
    /// Bit 1: the image ID (from the ID block).
    pub const IMAGE_ID: GuestFieldSelect = GuestFieldSelect(1 << 1);
    /// Bit 2: the family ID (from the ID block).
    pub const FAMILY_ID: GuestFieldSelect = GuestFieldSelect(1 << 2);
    /// Bit 3: the launch measurement.
    pub const MEASUREMENT: GuestFieldSelect = GuestFieldSelect(1 << 3);
    /// Bit 4: the guest SVN.
    pub const GUEST_SVN: GuestFieldSelect = GuestFieldSelect(1 << 4);
    /// Bit 5: the TCB version.
    pub const TCB_VERSION: GuestFieldSelect = GuestFieldSelect(1 << 5);
    /// Bit 6: the launch mitigation vector (message version 2 only).
    pub const LAUNCH_MIT_VECTOR: GuestFieldSelect = GuestFieldSelect(1 << 6);
    /// Bits that are defined (63:7 are reserved, must be zero).
    pub const DEFINED: GuestFieldSelect = GuestFieldSelect(0x7F);

    /// True when every bit of `other` is set.
    pub const fn contains(self, other: GuestFieldSelect) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for GuestFieldSelect {
    type Output = GuestFieldSelect;
    fn bitor(self, rhs: GuestFieldSelect) -> GuestFieldSelect {
        GuestFieldSelect(self.0 | rhs.0)
    }
}

/// The `MSG_KEY_REQ` payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MsgKeyReq {
    /// `ROOT_KEY_SELECT`.
    pub root_key: RootKey,
    /// `GUEST_FIELD_SELECT`.
    pub guest_field_select: GuestFieldSelect,
    /// `VMPL`.
    pub vmpl: u32,
    /// `GUEST_SVN`.
    pub guest_svn: u32,
    /// `TCB_VERSION`.
    pub tcb_version: u64,
    /// `LAUNCH_MIT_VECTOR`; `Some` makes this a message-version-2 request.
    pub launch_mit_vector: Option<u64>,
}

impl MsgKeyReq {
    /// The guest-message version this request needs: 2 when it carries a
    /// launch mitigation vector, otherwise 1.
    pub const fn message_version(&self) -> u8 {
        if self.launch_mit_vector.is_some() {
            2
        } else {
            1
        }
    }

    /// The encoded payload: 32 bytes (version 1) or 40 (version 2).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MSG_KEY_REQ_V2_LEN);
        out.extend_from_slice(&self.root_key.encode().to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&self.guest_field_select.0.to_le_bytes());
        out.extend_from_slice(&self.vmpl.to_le_bytes());
        out.extend_from_slice(&self.guest_svn.to_le_bytes());
        out.extend_from_slice(&self.tcb_version.to_le_bytes());
        if let Some(v) = self.launch_mit_vector {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Check the fields the firmware would refuse: reserved selection bits,
    /// and the mitigation-vector bit in a version-1 request.
    pub const fn check(&self) -> Result<(), SealKeyError> {
        let s = self.guest_field_select;
        if s.0 & !GuestFieldSelect::DEFINED.0 != 0 {
            return Err(SealKeyError::ReservedFieldSelectBits(s.0));
        }
        if s.contains(GuestFieldSelect::LAUNCH_MIT_VECTOR) && self.launch_mit_vector.is_none() {
            return Err(SealKeyError::ReservedFieldSelectBits(s.0));
        }
        Ok(())
    }
}

/// The `MSG_KEY_RSP` payload. The key is wiped on drop and redacted in
/// `Debug`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct MsgKeyRsp {
    /// `STATUS`.
    pub status: u32,
    /// `DERIVED_KEY`.
    pub derived_key: [u8; DERIVED_KEY_LEN],
}

impl MsgKeyRsp {
    /// Parse the 64-byte payload; `None` for any other length. (Reserved
    /// bytes are not judged: the firmware owns them.)
    pub fn from_bytes(bytes: &[u8]) -> Option<MsgKeyRsp> {
        let bytes: &[u8; MSG_KEY_RSP_LEN] = bytes.try_into().ok()?;
        let (status, rest) = bytes.split_first_chunk::<4>()?;
        let key = rest.get(28..)?;
        let derived_key: [u8; DERIVED_KEY_LEN] = key.try_into().ok()?;
        Some(MsgKeyRsp {
            status: u32::from_le_bytes(*status),
            derived_key,
        })
    }

    /// Encode (for tests and for SVSMs that build the payload from parts).
    pub fn to_bytes(&self) -> [u8; MSG_KEY_RSP_LEN] {
        let mut out = [0u8; MSG_KEY_RSP_LEN];
        let status = self.status.to_le_bytes();
        for (d, s) in out.iter_mut().zip(
            status
                .iter()
                .chain([0u8; 28].iter())
                .chain(self.derived_key.iter()),
        ) {
            *d = *s;
        }
        out
    }
}

impl fmt::Debug for MsgKeyRsp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MsgKeyRsp")
            .field("status", &self.status)
            .field("derived_key", &"<redacted>")
            .finish()
    }
}

/// Why the SVSM's transport could not get a key (its own failures: the
/// guest request was refused, VMPCK0 is disabled...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SnpKeyError {
    /// The guest request failed; the value is the SVSM's code for logs
    /// (for example the firmware error from `SW_EXITINFO2`).
    RequestFailed(u64),
    /// No VMPCK0 (wiped after an earlier failure, or not VMPL0).
    NoVmpck,
}

impl fmt::Display for SnpKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnpKeyError::RequestFailed(c) => write!(f, "SNP guest request failed ({c:#x})"),
            SnpKeyError::NoVmpck => f.write_str("VMPCK0 is not available"),
        }
    }
}

/// The SVSM's side of key derivation: send `MSG_KEY_REQ` through
/// `SNP_GUEST_REQUEST` with VMPCK0 (message type [`MSG_KEY_REQ`], version
/// [`MsgKeyReq::message_version`], payload [`MsgKeyReq::to_bytes`]) and
/// return the decrypted `MSG_KEY_RSP` payload (parse it with
/// [`MsgKeyRsp::from_bytes`]).
///
/// The transport rules are the SVSM's: a fresh sequence number per message
/// (request = last + 1, response = last + 2) and VMPCK0 disabled on any
/// failure so a GCM IV is never reused.
pub trait SnpKeySource {
    /// Ask the firmware for a derived key.
    fn request_key(&mut self, request: &MsgKeyReq) -> Result<MsgKeyRsp, SnpKeyError>;
}

/// What the state key is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyPolicy {
    /// The root key (default VCEK).
    pub root_key: RootKey,
    /// The guest fields mixed in (default `GUEST_POLICY | MEASUREMENT`).
    pub guest_field_select: GuestFieldSelect,
    /// The VMPL the key is derived for (default 0: only VMPL0 can derive
    /// it again).
    pub vmpl: u32,
    /// `GUEST_SVN` (default 0).
    pub guest_svn: u32,
    /// `TCB_VERSION`: with a VCEK root the key depends on it, so it must
    /// stay the same across boots for the state to open. Default 0; an
    /// SVSM that wants the key to follow firmware updates passes e.g. the
    /// TCB recorded at manufacture.
    pub tcb_version: u64,
    /// `LAUNCH_MIT_VECTOR` (message version 2; default none).
    pub launch_mit_vector: Option<u64>,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        KeyPolicy {
            root_key: RootKey::Vcek,
            guest_field_select: GuestFieldSelect::GUEST_POLICY | GuestFieldSelect::MEASUREMENT,
            vmpl: 0,
            guest_svn: 0,
            tcb_version: 0,
            launch_mit_vector: None,
        }
    }
}

impl KeyPolicy {
    /// The `MSG_KEY_REQ` this policy sends.
    pub const fn request(&self) -> MsgKeyReq {
        MsgKeyReq {
            root_key: self.root_key,
            guest_field_select: self.guest_field_select,
            vmpl: self.vmpl,
            guest_svn: self.guest_svn,
            tcb_version: self.tcb_version,
            launch_mit_vector: self.launch_mit_vector,
        }
    }
}

/// Why no sealing key could be derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SealKeyError {
    /// The transport failed.
    Source(SnpKeyError),
    /// The firmware refused the request with this `STATUS`.
    Status(u32),
    /// The firmware returned an all-zero key.
    ZeroKey,
    /// `GUEST_FIELD_SELECT` has reserved bits set (or bit 6 without a
    /// version-2 request).
    ReservedFieldSelectBits(u64),
    /// KDFa failed (cannot happen for a 256-bit output).
    Kdf,
}

impl fmt::Display for SealKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealKeyError::Source(e) => write!(f, "cannot derive the state key: {e}"),
            SealKeyError::Status(s) => {
                write!(f, "cannot derive the state key: MSG_KEY_RSP status {s:#x}")
            }
            SealKeyError::ZeroKey => {
                f.write_str("cannot derive the state key: the firmware returned an all-zero key")
            }
            SealKeyError::ReservedFieldSelectBits(b) => write!(
                f,
                "cannot derive the state key: GUEST_FIELD_SELECT {b:#x} uses reserved bits"
            ),
            SealKeyError::Kdf => f.write_str("cannot derive the state key: KDFa failed"),
        }
    }
}

impl core::error::Error for SealKeyError {}

/// Derive the state-sealing key: send the policy's `MSG_KEY_REQ`, check
/// the response, and pass the derived key through KDFa (module docs).
pub fn derive_sealing_key<S: SnpKeySource + ?Sized>(
    source: &mut S,
    policy: &KeyPolicy,
) -> Result<SealingKey, SealKeyError> {
    let request = policy.request();
    request.check()?;
    let response = source.request_key(&request).map_err(SealKeyError::Source)?;
    if response.status != KEY_STATUS_SUCCESS {
        return Err(SealKeyError::Status(response.status));
    }
    state_key_from_derived(&response.derived_key, &request)
}

/// The KDFa step alone: `KDFa(SHA-256, derived, STATE_KEY_LABEL,
/// request bytes, "", 256)`. Refuses an all-zero derived key.
pub fn state_key_from_derived(
    derived: &[u8; DERIVED_KEY_LEN],
    request: &MsgKeyReq,
) -> Result<SealingKey, SealKeyError> {
    if derived.iter().all(|b| *b == 0) {
        return Err(SealKeyError::ZeroKey);
    }
    let context = request.to_bytes();
    let key = kdfa(
        HashAlg::Sha256,
        derived,
        STATE_KEY_LABEL,
        &context,
        &[],
        256,
    )
    .map_err(|_| SealKeyError::Kdf)?;
    SealingKey::from_slice(key.as_slice()).ok_or(SealKeyError::Kdf)
}
