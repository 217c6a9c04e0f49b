//! Part 3, 26 (Miscellaneous Management: `TPM2_PP_Commands`,
//! `TPM2_SetAlgorithmSet`), 30.4 (`TPM2_SetCapability`) and 34
//! (`TPM2_Vendor_TCG_Test`), and the optional features this TPM does not
//! have.
//!
//! # Physical presence
//!
//! No physical-presence signal reaches this engine (the platform interface
//! has none), so Physical Presence is never asserted. `TPM2_PP_Commands`
//! always requires it (Part 3, 26.2), so after platform authorization it
//! answers `TPM_RC_PP`; it is the only command that requires PP, and
//! `TPM_CAP_PP_COMMANDS` lists exactly it ([`PP_REQUIRED`]). The command
//! lists are still unmarshalled (`TPML_CC`: more than 256 entries is
//! `TPM_RC_SIZE`).
//!
//! # Algorithm sets
//!
//! This TPM has one algorithm set, 0 (`TPM_PT_ALGORITHM_SET`).
//! `TPM2_SetAlgorithmSet(0)` succeeds and changes nothing; any other value
//! names no set and is `TPM_RC_VALUE` on `algorithmSet`. (The reference
//! code stores any value without effect; this TPM does not claim a set it
//! does not have.)
//!
//! # Settable capabilities
//!
//! No `TPMU_SET_CAPABILITIES` member is defined by a TCG registry and none
//! is implemented: `TPM2_SetCapability` authorizes its handle
//! (`TPMI_RH_HIERARCHY_AUTH+`) and answers `TPM_RC_VALUE` on
//! `setCapabilityData`, as the reference does.
//!
//! # Absent features (`TPM_RC_COMMAND_CODE`)
//!
//! Part 3 lets a TPM leave a feature out: a command it does not implement
//! is answered `TPM_RC_COMMAND_CODE` (Part 3, 5.2, step 3) and is not
//! listed by `TPM_CAP_COMMANDS` (Part 3, 30.2). This TPM leaves out
//! ([`NOT_IMPLEMENTED`]):
//!
//! * field upgrade (Part 3, 27: `TPM2_FieldUpgradeStart`,
//!   `TPM2_FieldUpgradeData`, `TPM2_FirmwareRead`): Part 3, 27.1 allows a
//!   vendor proprietary upgrade process instead, and `TPM2_FirmwareRead` is
//!   optional even with the other two; the firmware of this TPM is its
//!   host's software and is updated with it;
//! * Attached Components (Part 3, 32: `TPM2_AC_GetCapability`,
//!   `TPM2_AC_Send`, `TPM2_Policy_AC_SendSelect`; all three
//!   deprecated in v184): no component is attached, and
//!   `TPM_CAP_HANDLES` of `TPM_HT_AC` is the empty list.

use super::{Command, NoParams};
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::object::read_sized;
use crate::wire::types::{CcList, Data2b};
use crate::wire::{cc, CommandCode, Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// Commands that require Physical Presence (`TPM_CAP_PP_COMMANDS`).
pub const PP_REQUIRED: &[CommandCode] = &[cc::PP_COMMANDS];

/// Part 3 commands of features this TPM does not have (module
/// documentation).
pub const NOT_IMPLEMENTED: &[CommandCode] = &[
    cc::FIELDUPGRADESTART,
    cc::FIELDUPGRADEDATA,
    cc::FIRMWAREREAD,
    cc::AC_GETCAPABILITY,
    cc::AC_SEND,
    cc::POLICY_AC_SENDSELECT,
];

/// The algorithm sets this TPM implements.
pub const ALGORITHM_SET: u32 = 0;

tpm_params! {
    /// `TPM2_PP_Commands` parameters.
    pub struct PpCommandsIn {
        /// `setList`.
        pub set_list: CcList,
        /// `clearList`.
        pub clear_list: CcList,
    }
}

/// `TPM2_PP_Commands` (Part 3, 26.2): `TPM_RC_PP`, Physical Presence is
/// never asserted (module documentation).
#[derive(Debug)]
#[doc(alias = "TPM2_PP_Commands")]
pub struct PpCommands;

impl Command for PpCommands {
    type In = PpCommandsIn;
    type Out = NoParams;
    fn run(_: &mut Ctx<'_>, _: &[Handle], _: PpCommandsIn) -> TpmResult<NoParams> {
        Err(Rc::PP)
    }
}

tpm_params! {
    /// `TPM2_SetAlgorithmSet` parameters.
    pub struct SetAlgorithmSetIn {
        /// `algorithmSet`.
        pub algorithm_set: u32,
    }
}

/// `TPM2_SetAlgorithmSet` (Part 3, 26.3): only set 0 exists.
#[derive(Debug)]
#[doc(alias = "TPM2_SetAlgorithmSet")]
pub struct SetAlgorithmSet;

impl Command for SetAlgorithmSet {
    type In = SetAlgorithmSetIn;
    type Out = NoParams;
    fn run(_: &mut Ctx<'_>, _: &[Handle], input: SetAlgorithmSetIn) -> TpmResult<NoParams> {
        if input.algorithm_set != ALGORITHM_SET {
            return Err(Rc::VALUE.param(1));
        }
        Ok(NoParams)
    }
}

/// `TPM2B_SET_CAPABILITY_DATA`: the selector and the (uninterpreted) data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetCapabilityData {
    /// `setCapability`.
    pub capability: u32,
    /// The `TPMU_SET_CAPABILITIES` octets.
    pub data: alloc::vec::Vec<u8>,
}

impl Unmarshal for SetCapabilityData {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        read_sized(r, |r| {
            let capability = r.u32()?;
            let data = r.take(r.remaining())?.to_vec();
            Ok(SetCapabilityData { capability, data })
        })
    }
}

impl Marshal for SetCapabilityData {
    fn marshal(&self, w: &mut Writer) {
        w.sized(|w| {
            w.u32(self.capability);
            w.bytes(&self.data);
        });
    }
}

tpm_params! {
    /// `TPM2_SetCapability` parameters.
    pub struct SetCapabilityIn {
        /// `setCapabilityData`.
        pub set_capability_data: SetCapabilityData,
    }
}

/// `TPM2_SetCapability` (Part 3, 30.4): no capability is settable.
#[derive(Debug)]
#[doc(alias = "TPM2_SetCapability")]
pub struct SetCapability;

impl Command for SetCapability {
    type In = SetCapabilityIn;
    type Out = NoParams;
    fn run(_: &mut Ctx<'_>, _: &[Handle], _: SetCapabilityIn) -> TpmResult<NoParams> {
        Err(Rc::VALUE.param(1))
    }
}

tpm_params! {
    /// `TPM2_Vendor_TCG_Test` parameters.
    pub struct VendorTcgTestIn {
        /// `inputData`.
        pub input_data: Data2b,
    }
}

tpm_params! {
    /// `TPM2_Vendor_TCG_Test` response.
    pub struct VendorTcgTestOut {
        /// `outputData`.
        pub output_data: Data2b,
    }
}

/// `TPM2_Vendor_TCG_Test` (Part 3, 34.2): a placeholder that exercises
/// the dispatch of a vendor-specific command code; it returns
/// `inputData` unchanged, as the reference does.
#[derive(Debug)]
#[doc(alias = "TPM2_Vendor_TCG_Test")]
pub struct VendorTcgTest;

impl Command for VendorTcgTest {
    type In = VendorTcgTestIn;
    type Out = VendorTcgTestOut;
    fn run(_: &mut Ctx<'_>, _: &[Handle], input: VendorTcgTestIn) -> TpmResult<VendorTcgTestOut> {
        Ok(VendorTcgTestOut {
            output_data: input.input_data,
        })
    }
}
