//! NV indices (Part 1, 31; Part 2, 13): their public area and data, kept
//! in the persistent state and counted against the NV capacity shared with
//! persistent objects.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::HashAlg;
use crate::wire::Handle;

/// `TPMA_NV` bits (Part 2, 13.4).
pub mod nva {
    pub const PPWRITE: u32 = 1 << 0;
    pub const OWNERWRITE: u32 = 1 << 1;
    pub const AUTHWRITE: u32 = 1 << 2;
    pub const POLICYWRITE: u32 = 1 << 3;
    /// `TPM_NT` field, bits 7:4.
    pub const TPM_NT_MASK: u32 = 0xF0;
    pub const POLICY_DELETE: u32 = 1 << 10;
    pub const WRITELOCKED: u32 = 1 << 11;
    pub const WRITEALL: u32 = 1 << 12;
    pub const WRITEDEFINE: u32 = 1 << 13;
    pub const WRITE_STCLEAR: u32 = 1 << 14;
    pub const GLOBALLOCK: u32 = 1 << 15;
    pub const PPREAD: u32 = 1 << 16;
    pub const OWNERREAD: u32 = 1 << 17;
    pub const AUTHREAD: u32 = 1 << 18;
    pub const POLICYREAD: u32 = 1 << 19;
    pub const NO_DA: u32 = 1 << 25;
    pub const ORDERLY: u32 = 1 << 26;
    pub const CLEAR_STCLEAR: u32 = 1 << 27;
    pub const READLOCKED: u32 = 1 << 28;
    pub const WRITTEN: u32 = 1 << 29;
    pub const PLATFORMCREATE: u32 = 1 << 30;
    pub const READ_STCLEAR: u32 = 1 << 31;
}

/// `TPM_NT` index types (Part 2, 13.4).
pub mod nt {
    pub const ORDINARY: u32 = 0x0;
    pub const COUNTER: u32 = 0x1;
    pub const BITS: u32 = 0x2;
    pub const EXTEND: u32 = 0x4;
    pub const PIN_FAIL: u32 = 0x8;
    pub const PIN_PASS: u32 = 0x9;
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
    /// The authValue.
    pub auth_value: Vec<u8>,
    /// The data (`data_size` octets once written; counters are 8 octets).
    pub data: Vec<u8>,
}

impl NvIndex {
    /// Does the index have attribute bit(s) `a`?
    pub fn has(&self, a: u32) -> bool {
        self.attributes & a == a
    }

    /// The `TPM_NT` type.
    pub fn index_type(&self) -> u32 {
        (self.attributes & nva::TPM_NT_MASK) >> 4
    }

    /// Marshaled `TPMS_NV_PUBLIC`.
    pub fn public_bytes(&self) -> Vec<u8> {
        let mut w = crate::wire::Writer::new();
        w.write(&self.handle);
        w.write(&self.name_alg);
        w.u32(self.attributes);
        w.tpm2b(&self.auth_policy);
        w.u16(self.data_size);
        w.into_vec()
    }

    /// The index's Name: nameAlg || H(TPMS_NV_PUBLIC) (Part 1, 16).
    pub fn name(&self) -> Vec<u8> {
        let mut n = self.name_alg.alg_id().0.to_be_bytes().to_vec();
        n.extend_from_slice(&self.name_alg.digest(&self.public_bytes()));
        n
    }

    /// Octets of NV this index occupies (for the capacity accounting).
    pub fn footprint(&self) -> usize {
        usize::from(self.data_size)
            .saturating_add(self.auth_policy.len())
            .saturating_add(self.auth_value.len())
            .saturating_add(32)
    }
}
