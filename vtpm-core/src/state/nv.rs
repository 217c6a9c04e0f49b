//! NV indices (Part 1, 34; Part 2, 13): their public area and data, kept
//! in the persistent state and counted against the NV capacity shared with
//! persistent objects.
//!
//! Design choices (see also `commands::nv`):
//!
//! * **Every change is committed at once.** The engine commits the
//!   persistent state before a success response, for every index —
//!   including `TPMA_NV_ORDERLY` ("hybrid") ones. A hybrid index is thus
//!   never behind its RAM copy; it is the durable limit of the spec's
//!   behaviour (`TPM_PT_ORDERLY_COUNT` is 0: every increment is saved), and
//!   a non-orderly startup needs no counter advance. What stays visible is
//!   the Startup rule of Part 1, 34.2.4.2: a hybrid index that is not a
//!   counter loses `TPMA_NV_WRITTEN` on a TPM Reset.
//! * **Capacity** ([`used_bytes`]) is the sum of each index's
//!   [`NvIndex::footprint`] (data size, policy, the largest authValue its
//!   nameAlg allows, a fixed overhead) and of the serialized size of each
//!   persistent object, against `Config::nv_capacity`.
//! * **Counter high-water mark** (Part 3, 31.2): the largest value any
//!   deleted counter had is kept in `PersistentState::nv_counter_high_water`;
//!   a counter's first increment starts above it. Deletion by
//!   `NV_UndefineSpace`, `NV_UndefineSpaceSpecial` and `TPM2_Clear` all go
//!   through [`delete`], which raises the mark.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::HashAlg;
use crate::wire::consts::rh;
use crate::wire::object::read_sized;
use crate::wire::{cc, CommandCode, Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

use super::PersistentState;

/// `TPMA_NV` bits (Part 2, 13.4).
pub mod nva {
    /// Writable with Platform Authorization.
    pub const PPWRITE: u32 = 1 << 0;
    /// Writable with Owner Authorization.
    pub const OWNERWRITE: u32 = 1 << 1;
    /// Writable with the index authValue.
    pub const AUTHWRITE: u32 = 1 << 2;
    /// Writable with the index authPolicy.
    pub const POLICYWRITE: u32 = 1 << 3;
    /// `TPM_NT` field, bits 7:4.
    pub const TPM_NT_MASK: u32 = 0xF0;
    /// Deletable only with `NV_UndefineSpaceSpecial`.
    pub const POLICY_DELETE: u32 = 1 << 10;
    /// Writes are locked.
    pub const WRITELOCKED: u32 = 1 << 11;
    /// Partial writes are not allowed.
    pub const WRITEALL: u32 = 1 << 12;
    /// `NV_WriteLock` locks until the index is deleted.
    pub const WRITEDEFINE: u32 = 1 << 13;
    /// `NV_WriteLock` locks until the next TPM Reset or Restart.
    pub const WRITE_STCLEAR: u32 = 1 << 14;
    /// `NV_GlobalWriteLock` locks this index.
    pub const GLOBALLOCK: u32 = 1 << 15;
    /// Readable with Platform Authorization.
    pub const PPREAD: u32 = 1 << 16;
    /// Readable with Owner Authorization.
    pub const OWNERREAD: u32 = 1 << 17;
    /// Readable with the index authValue.
    pub const AUTHREAD: u32 = 1 << 18;
    /// Readable with the index authPolicy.
    pub const POLICYREAD: u32 = 1 << 19;
    /// Authorization failures do not count for dictionary-attack protection.
    pub const NO_DA: u32 = 1 << 25;
    /// Hybrid index.
    pub const ORDERLY: u32 = 1 << 26;
    /// `WRITTEN` is cleared by TPM Reset and TPM Restart.
    pub const CLEAR_STCLEAR: u32 = 1 << 27;
    /// Reads are locked.
    pub const READLOCKED: u32 = 1 << 28;
    /// The index has been written.
    pub const WRITTEN: u32 = 1 << 29;
    /// Defined with Platform Authorization.
    pub const PLATFORMCREATE: u32 = 1 << 30;
    /// `NV_ReadLock` may lock reads.
    pub const READ_STCLEAR: u32 = 1 << 31;
    /// Reserved bits 9:8 and 24:20 (`TPM_RC_RESERVED_BITS`).
    pub const RESERVED: u32 = 0x0000_0300 | 0x01F0_0000;
    /// Every read-authorization bit.
    pub const READ_AUTHS: u32 = PPREAD | OWNERREAD | AUTHREAD | POLICYREAD;
    /// Every write-authorization bit.
    pub const WRITE_AUTHS: u32 = PPWRITE | OWNERWRITE | AUTHWRITE | POLICYWRITE;
}

/// `TPM_NT` index types (Part 2, 13.2).
pub mod nt {
    /// Opaque data written with `NV_Write`.
    pub const ORDINARY: u32 = 0x0;
    /// 8-octet monotonic counter (`NV_Increment`).
    pub const COUNTER: u32 = 0x1;
    /// 64-bit bit field (`NV_SetBits`).
    pub const BITS: u32 = 0x2;
    /// Digest extended like a PCR (`NV_Extend`).
    pub const EXTEND: u32 = 0x4;
    /// PIN Fail.
    pub const PIN_FAIL: u32 = 0x8;
    /// PIN Pass.
    pub const PIN_PASS: u32 = 0x9;
}

/// `MAX_NV_INDEX_SIZE` (`TPM_PT_NV_INDEX_MAX`): the largest `dataSize`.
pub const MAX_NV_INDEX_SIZE: u16 = 2048;

/// Octets an index costs besides its data, policy and authValue (its
/// handle, nameAlg, attributes, sizes and bookkeeping).
pub const INDEX_OVERHEAD: usize = 32;

/// Octets charged for a persistent object whose size cannot be computed.
pub const PERSISTENT_OBJECT_ESTIMATE: usize = 1024;

/// `TPMS_NV_PUBLIC` (Part 2, 13.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NvPublic {
    /// `nvIndex` (`TPMI_RH_NV_LEGACY_INDEX`).
    pub handle: Handle,
    /// `nameAlg`.
    pub name_alg: HashAlg,
    /// `attributes`.
    pub attributes: u32,
    /// `authPolicy`.
    pub auth_policy: Vec<u8>,
    /// `dataSize`.
    pub data_size: u16,
}

impl Unmarshal for NvPublic {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let handle: Handle = r.read()?;
        if !(rh::NV_INDEX_FIRST..=rh::NV_INDEX_LAST).contains(&handle.0) {
            return Err(Rc::VALUE);
        }
        let name_alg: HashAlg = r.read()?;
        let attributes = r.u32()?;
        if attributes & nva::RESERVED != 0 {
            return Err(Rc::RESERVED_BITS);
        }
        let auth_policy = r.tpm2b(crate::wire::consts::sizes::MAX_DIGEST)?.to_vec();
        let data_size = r.u16()?;
        if data_size > MAX_NV_INDEX_SIZE {
            return Err(Rc::SIZE);
        }
        Ok(NvPublic {
            handle,
            name_alg,
            attributes,
            auth_policy,
            data_size,
        })
    }
}

impl Marshal for NvPublic {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.handle);
        w.write(&self.name_alg);
        w.u32(self.attributes);
        w.tpm2b(&self.auth_policy);
        w.u16(self.data_size);
    }
}

/// `TPM2B_NV_PUBLIC` (Part 2, 13.7): a size of zero or one that disagrees
/// with the structure is `TPM_RC_SIZE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NvPublic2b(pub NvPublic);

impl Unmarshal for NvPublic2b {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        read_sized(r, NvPublic::unmarshal).map(NvPublic2b)
    }
}

impl Marshal for NvPublic2b {
    fn marshal(&self, w: &mut Writer) {
        w.sized(|w| w.write(&self.0));
    }
}

/// One NV index: `TPMS_NV_PUBLIC`, its authValue and its data.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct NvIndex {
    /// `nvIndex`.
    pub handle: Handle,
    /// `nameAlg`.
    pub name_alg: HashAlg,
    /// `attributes` (`TPMA_NV`), including the TPM-maintained bits.
    pub attributes: u32,
    /// `authPolicy`.
    pub auth_policy: Vec<u8>,
    /// `dataSize`.
    pub data_size: u16,
    /// The authValue (trailing zeros removed).
    pub auth_value: Vec<u8>,
    /// The data: always `data_size` octets (zero until written).
    pub data: Vec<u8>,
}

impl Drop for NvIndex {
    /// Part 1, 34.2.3: the data and authValue of a deleted index are
    /// zeroized (as is every copy, such as a rollback snapshot).
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.auth_value.zeroize();
        self.data.zeroize();
    }
}

impl NvIndex {
    /// A freshly defined index: not written, data zero.
    pub fn new(public: NvPublic, auth_value: Vec<u8>) -> Self {
        NvIndex {
            handle: public.handle,
            name_alg: public.name_alg,
            attributes: public.attributes,
            data: alloc::vec![0u8; usize::from(public.data_size)],
            auth_policy: public.auth_policy,
            data_size: public.data_size,
            auth_value,
        }
    }

    /// Does the index have attribute bit(s) `a`?
    pub fn has(&self, a: u32) -> bool {
        self.attributes & a == a
    }

    /// Does the index have any of the attribute bits in `a`?
    pub fn has_any(&self, a: u32) -> bool {
        self.attributes & a != 0
    }

    /// Set or clear attribute bit(s) `a`.
    pub fn set(&mut self, a: u32, on: bool) {
        if on {
            self.attributes |= a;
        } else {
            self.attributes &= !a;
        }
    }

    /// The `TPM_NT` type.
    pub fn index_type(&self) -> u32 {
        (self.attributes & nva::TPM_NT_MASK) >> 4
    }

    /// `TPMS_NV_PUBLIC`.
    pub fn public(&self) -> NvPublic {
        NvPublic {
            handle: self.handle,
            name_alg: self.name_alg,
            attributes: self.attributes,
            auth_policy: self.auth_policy.clone(),
            data_size: self.data_size,
        }
    }

    /// Marshaled `TPMS_NV_PUBLIC`.
    pub fn public_bytes(&self) -> Vec<u8> {
        self.public().to_bytes()
    }

    /// The index's Name: nameAlg || H(TPMS_NV_PUBLIC) (Part 1, 16). It
    /// covers the attributes, so it changes when the index is written or
    /// (un)locked.
    pub fn name(&self) -> Vec<u8> {
        let mut n = self.name_alg.alg_id().0.to_be_bytes().to_vec();
        n.extend_from_slice(&self.name_alg.digest(&self.public_bytes()));
        n
    }

    /// Octets of NV this index occupies (for the capacity accounting). The
    /// authValue is charged at its largest size so `NV_ChangeAuth` never
    /// runs out of space.
    pub fn footprint(&self) -> usize {
        footprint(self.data_size, self.auth_policy.len(), self.name_alg)
    }

    /// The 8-octet value of a counter, bit field or PIN index.
    pub fn u64_value(&self) -> u64 {
        self.data
            .first_chunk::<8>()
            .map_or(0, |b| u64::from_be_bytes(*b))
    }

    /// Store the 8-octet value of a counter, bit field or PIN index.
    pub fn set_u64_value(&mut self, v: u64) {
        self.data = v.to_be_bytes().to_vec();
    }

    /// `(pinCount, pinLimit)` of a PIN index (Part 2, 13.3).
    pub fn pin(&self) -> (u32, u32) {
        let v = self.u64_value();
        ((v >> 32) as u32, (v & 0xFFFF_FFFF) as u32)
    }

    /// May the index's authValue authorize command `code` on it in the USER
    /// role (the reference's `IsAuthValueAvailable`)? Writes need
    /// `AUTHWRITE`; reads need `AUTHREAD`, except that a PIN index needs to
    /// be written and `pinCount < pinLimit`. The ADMIN role
    /// (`NV_ChangeAuth`, `NV_UndefineSpaceSpecial`) always needs a policy.
    pub fn auth_value_available(&self, code: CommandCode) -> bool {
        if is_write_command(code) {
            return self.has(nva::AUTHWRITE);
        }
        if matches!(self.index_type(), nt::PIN_FAIL | nt::PIN_PASS) {
            let (count, limit) = self.pin();
            return self.has(nva::WRITTEN) && count < limit;
        }
        self.has(nva::AUTHREAD)
    }

    /// May the index's authPolicy authorize command `code` in role
    /// `admin` (`IsAuthPolicyAvailable`)? Needs a non-empty policy, and for
    /// the USER role `POLICYWRITE` or `POLICYREAD`.
    pub fn auth_policy_available(&self, code: CommandCode, admin: bool) -> bool {
        if self.auth_policy.is_empty() {
            return false;
        }
        if admin {
            return true;
        }
        if is_write_command(code) {
            self.has(nva::POLICYWRITE)
        } else {
            self.has(nva::POLICYREAD)
        }
    }

    /// Is this index subject to dictionary-attack protection?
    pub fn da_protected(&self) -> bool {
        !self.has(nva::NO_DA)
    }
}

/// The footprint of an index with these sizes (see [`NvIndex::footprint`]).
pub fn footprint(data_size: u16, policy_len: usize, name_alg: HashAlg) -> usize {
    usize::from(data_size)
        .saturating_add(policy_len)
        .saturating_add(name_alg.digest_size())
        .saturating_add(INDEX_OVERHEAD)
}

/// Commands that count as writes of an NV index for authorization
/// (the reference's `IsWriteOperation`).
pub fn is_write_command(code: CommandCode) -> bool {
    matches!(
        code,
        cc::NV_WRITE | cc::NV_INCREMENT | cc::NV_SETBITS | cc::NV_EXTEND | cc::NV_WRITELOCK
    )
}

/// NV octets in use: every index and every persistent object.
pub fn used_bytes(p: &PersistentState) -> usize {
    let indices =
        p.nv.iter()
            .fold(0usize, |a, i| a.saturating_add(i.footprint()));
    p.persistent.iter().fold(indices, |a, o| {
        let size = postcard::to_allocvec(o).map_or(PERSISTENT_OBJECT_ESTIMATE, |v| v.len());
        a.saturating_add(size)
    })
}

/// NV octets still free out of `capacity`.
pub fn free_bytes(p: &PersistentState, capacity: usize) -> usize {
    capacity.saturating_sub(used_bytes(p))
}

/// `TPM_PT_NV_COUNTERS_AVAIL`: how many more (SHA-256 named, no policy)
/// counter indices fit.
pub fn counters_available(p: &PersistentState, capacity: usize) -> usize {
    let one = footprint(8, 0, HashAlg::Sha256);
    free_bytes(p, capacity).checked_div(one).unwrap_or(0)
}

/// Remove an index, raising the counter high-water mark if it was a
/// written counter. Returns the removed index.
pub fn delete(p: &mut PersistentState, handle: Handle) -> Option<NvIndex> {
    let pos = p.nv.iter().position(|i| i.handle == handle)?;
    let idx = p.nv.remove(pos);
    if idx.index_type() == nt::COUNTER && idx.has(nva::WRITTEN) {
        p.nv_counter_high_water = p.nv_counter_high_water.max(idx.u64_value());
    }
    Some(idx)
}

/// `TPM2_Clear`: remove every index defined with Owner Authorization
/// (Part 1, 34.2.3); platform indices stay.
pub fn flush_owner_indices(p: &mut PersistentState) {
    let owned: Vec<Handle> =
        p.nv.iter()
            .filter(|i| !i.has(nva::PLATFORMCREATE))
            .map(|i| i.handle)
            .collect();
    for h in owned {
        delete(p, h);
    }
}

/// The kind of `TPM2_Startup` (Part 1, "TPM Reset", "TPM Restart",
/// "TPM Resume").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartupKind {
    /// Startup(CLEAR) without a preceding Shutdown(STATE).
    Reset,
    /// Shutdown(STATE) then Startup(CLEAR).
    Restart,
    /// Shutdown(STATE) then Startup(STATE).
    Resume,
}

/// The NV effects of `TPM2_Startup` (the reference's
/// `NvSetStartupAttributes`). On TPM Reset and TPM Restart: READLOCKED is
/// cleared; WRITTEN is cleared for non-counters with CLEAR_STCLEAR, and for
/// hybrid non-counters on TPM Reset; WRITELOCKED is cleared unless the
/// index is written and has WRITEDEFINE. TPM Resume changes nothing.
/// Returns whether anything changed.
pub fn startup(p: &mut PersistentState, kind: StartupKind) -> bool {
    if kind == StartupKind::Resume {
        return false;
    }
    let mut changed = false;
    for idx in &mut p.nv {
        let before = idx.attributes;
        idx.set(nva::READLOCKED, false);
        if idx.index_type() != nt::COUNTER
            && (idx.has(nva::CLEAR_STCLEAR)
                || (idx.has(nva::ORDERLY) && kind == StartupKind::Reset))
        {
            idx.set(nva::WRITTEN, false);
        }
        if !idx.has(nva::WRITTEN) || !idx.has(nva::WRITEDEFINE) {
            idx.set(nva::WRITELOCKED, false);
        }
        changed |= idx.attributes != before;
    }
    changed
}

/// After an authorization with a PIN index's authValue (Part 1, 34.2.2):
/// a PIN Fail index's pinCount is reset on success and incremented on
/// failure; a PIN Pass index's is incremented on success. Returns whether
/// the index changed (the caller then commits the state).
pub fn pin_authorization_result(p: &mut PersistentState, handle: Handle, success: bool) -> bool {
    let Some(idx) = p.nv.iter_mut().find(|i| i.handle == handle) else {
        return false;
    };
    if !idx.has(nva::WRITTEN) {
        return false;
    }
    let (count, limit) = idx.pin();
    let new = match idx.index_type() {
        nt::PIN_FAIL if success => 0,
        nt::PIN_FAIL => count.saturating_add(1),
        nt::PIN_PASS if success => count.saturating_add(1),
        _ => return false,
    };
    if new == count {
        return false;
    }
    idx.set_u64_value(u64::from(new) << 32 | u64::from(limit));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(attributes: u32) -> NvIndex {
        NvIndex::new(
            NvPublic {
                handle: Handle(0x0100_0001),
                name_alg: HashAlg::Sha256,
                attributes,
                auth_policy: Vec::new(),
                data_size: 8,
            },
            Vec::new(),
        )
    }

    #[test]
    fn public_round_trips_and_rejects_reserved_bits() {
        let p = index(nva::AUTHREAD | nva::AUTHWRITE).public();
        let b = NvPublic2b(p.clone()).to_bytes();
        let back: NvPublic2b = Reader::new(&b).read().unwrap();
        assert_eq!(back.0, p);
        let mut bad = p.clone();
        bad.attributes |= 1 << 8;
        let b = NvPublic2b(bad).to_bytes();
        assert_eq!(Reader::new(&b).read::<NvPublic2b>(), Err(Rc::RESERVED_BITS));
        let mut big = p;
        big.data_size = MAX_NV_INDEX_SIZE + 1;
        let b = NvPublic2b(big).to_bytes();
        assert_eq!(Reader::new(&b).read::<NvPublic2b>(), Err(Rc::SIZE));
        // A zero-sized TPM2B_NV_PUBLIC is TPM_RC_SIZE.
        assert_eq!(Reader::new(&[0, 0]).read::<NvPublic2b>(), Err(Rc::SIZE));
    }

    #[test]
    fn name_covers_attributes() {
        let mut i = index(nva::AUTHREAD | nva::AUTHWRITE);
        let n1 = i.name();
        i.set(nva::WRITTEN, true);
        assert_ne!(n1, i.name());
        assert_eq!(i.name().len(), 34);
    }

    #[test]
    fn startup_rules() {
        let mut p = PersistentState::manufacture(&mut crate::crypto::Drbg::new(&[1; 48], b"t"));
        let mut a = index(nva::AUTHWRITE | nva::AUTHREAD | nva::WRITEDEFINE);
        a.handle = Handle(0x0100_0001);
        a.set(nva::WRITTEN | nva::WRITELOCKED | nva::READLOCKED, true);
        let mut b = index(nva::AUTHWRITE | nva::AUTHREAD | nva::WRITE_STCLEAR | nva::CLEAR_STCLEAR);
        b.handle = Handle(0x0100_0002);
        b.set(nva::WRITTEN | nva::WRITELOCKED, true);
        p.nv = alloc::vec![a, b];
        assert!(!startup(&mut p, StartupKind::Resume));
        assert!(startup(&mut p, StartupKind::Restart));
        assert!(p.nv[0].has(nva::WRITELOCKED | nva::WRITTEN));
        assert!(!p.nv[0].has_any(nva::READLOCKED));
        assert!(!p.nv[1].has_any(nva::WRITTEN | nva::WRITELOCKED));
    }

    #[test]
    fn pin_counts() {
        let mut p = PersistentState::manufacture(&mut crate::crypto::Drbg::new(&[1; 48], b"t"));
        let mut i = index(nva::OWNERWRITE | nva::AUTHREAD | nva::NO_DA | nt::PIN_FAIL << 4);
        i.set_u64_value(2 << 32 | 5);
        i.set(nva::WRITTEN, true);
        p.nv = alloc::vec![i];
        let h = Handle(0x0100_0001);
        assert!(pin_authorization_result(&mut p, h, false));
        assert_eq!(p.nv[0].pin(), (3, 5));
        assert!(pin_authorization_result(&mut p, h, true));
        assert_eq!(p.nv[0].pin(), (0, 5));
        assert!(p.nv[0].auth_value_available(cc::NV_READ));
        p.nv[0].set_u64_value(5 << 32 | 5);
        assert!(!p.nv[0].auth_value_available(cc::NV_READ));
    }
}
