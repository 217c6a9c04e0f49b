//! Part 3 commands, one module per chapter, and the command table.
//!
//! [`TABLE`] is the single source of truth for every command: its code,
//! its handles and their authorization roles, its `TPMA_CC` attributes and
//! its handler. Dispatch, authorization and `GetCapability(TPM_CAP_COMMANDS)`
//! all read it.

pub mod act;
pub mod asymmetric;
pub mod attestation;
pub mod audit;
pub mod capability;
pub mod clock;
pub mod context;
pub mod credential;
pub mod da;
pub mod duplication;
pub mod ec;
pub mod hash;
pub mod hierarchy;
pub mod misc;
pub mod nv;
pub mod object;
pub mod pcr;
pub mod pcr_auth;
pub mod policy;
pub mod pqc;
pub mod random;
pub mod read_only;
pub mod sequence;
pub mod session;
pub mod signature;
pub mod startup;
pub mod symmetric;
pub mod testing;

use crate::engine::Ctx;
use crate::wire::{cc, CommandCode, Handle, Params, TpmResult, Writer};

/// A command's parameters, read in order from the parameter area.
pub trait FromParams: Sized {
    /// Read every parameter; errors carry `TPM_RC_P + n`.
    fn from_params(p: &mut Params<'_>) -> TpmResult<Self>;
}

/// A command's response: an optional handle and the parameter area.
pub trait ToParams {
    /// The handle returned in the response handle area (`rHandle`).
    fn response_handle(&self) -> Option<Handle> {
        None
    }
    /// Write the response parameters.
    fn marshal_params(&self, w: &mut Writer);
}

/// No parameters.
#[derive(Debug, Default)]
pub struct NoParams;

impl FromParams for NoParams {
    fn from_params(_: &mut Params<'_>) -> TpmResult<Self> {
        Ok(NoParams)
    }
}
impl ToParams for NoParams {
    fn marshal_params(&self, _: &mut Writer) {}
}

/// Declare a parameter structure whose fields are read and written in order.
#[macro_export]
macro_rules! tpm_params {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug)]
        pub struct $name { $($(#[$fm])* pub $f: $t),* }
        impl $crate::commands::FromParams for $name {
            fn from_params(p: &mut $crate::wire::Params<'_>) -> $crate::wire::TpmResult<Self> {
                Ok($name { $($f: p.read()?),* })
            }
        }
        impl $crate::commands::ToParams for $name {
            fn marshal_params(&self, w: &mut $crate::wire::Writer) {
                $( $crate::wire::Marshal::marshal(&self.$f, w); )*
            }
        }
    };
}

/// A Part 3 command: typed input, typed output, one handler.
pub trait Command {
    /// Parameters.
    type In: FromParams;
    /// Response.
    type Out: ToParams;
    /// Run the command. `handles` are the command's handles, already
    /// validated and authorized.
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: Self::In) -> TpmResult<Self::Out>;
}

/// The table's view of a handler: parameters in, response out.
pub type Handler =
    fn(&mut Ctx<'_>, &[Handle], &mut Params<'_>, &mut Writer) -> TpmResult<Option<Handle>>;

/// Adapter from a typed [`Command`] to a [`Handler`]: unmarshal every
/// parameter, require the area to be consumed exactly, run, marshal.
pub fn dispatch<C: Command>(
    ctx: &mut Ctx<'_>,
    handles: &[Handle],
    p: &mut Params<'_>,
    out: &mut Writer,
) -> TpmResult<Option<Handle>> {
    let input = C::In::from_params(p)?;
    p.finish()?;
    let output = C::run(ctx, handles, input)?;
    output.marshal_params(out);
    Ok(output.response_handle())
}

/// Which authorization a handle needs (Part 3, each command's
/// "Auth Index" / "Auth Role").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthRole {
    /// No authorization.
    None,
    /// USER role.
    User,
    /// ADMIN role.
    Admin,
    /// DUP role.
    Dup,
}

/// What a handle in the handle area may be (the Part 2 `TPMI_` type of
/// the handle parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandleKind {
    /// `TPMI_DH_PCR` (0..23), optionally `+NULL`.
    Pcr {
        /// `TPM_RH_NULL` accepted.
        null: bool,
    },
    /// One of a fixed set of permanent handles (`TPMI_RH_*`).
    Permanent(&'static [Handle]),
    /// `TPMI_DH_OBJECT`: a loaded transient or an existing persistent object.
    Object,
    /// `TPMI_DH_PARENT+`: an object or a hierarchy (including NULL).
    Parent,
    /// `TPMI_DH_OBJECT+`: an object or `TPM_RH_NULL`.
    ObjectOrNull,
    /// `TPMI_DH_OBJECT` of the sequence commands: a sequence object (or an
    /// ordinary object, which the handler refuses with `TPM_RC_MODE`).
    Sequence,
    /// `TPMI_DH_ENTITY`: anything with an authValue (hierarchies, lockout,
    /// objects, NV indices, PCRs), optionally `+NULL`.
    Entity {
        /// `TPM_RH_NULL` accepted.
        null: bool,
    },
    /// `TPMI_SH_POLICY`: a loaded policy session.
    PolicySession,
    /// `TPMI_DH_SAVED`-like: a loaded transient object or session (ContextSave).
    Context,
    /// `TPMI_RH_NV_INDEX`: a defined NV index.
    NvIndex,
    /// `TPMI_RH_NV_AUTH`: owner, platform or a defined NV index.
    NvAuth,
}

/// One handle of a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HandleSpec {
    /// Allowed values.
    pub kind: HandleKind,
    /// Authorization needed.
    pub auth: AuthRole,
}

/// Whether a command may run while the TPM is in Read-Only mode (Part 3,
/// 24.9, Table 207 "Commands Permitted in Read-Only Mode").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOnly {
    /// Permitted.
    Permitted,
    /// Not permitted: `TPM_RC_READ_ONLY`.
    NotPermitted,
    /// Permitted only when the NV index in the handle area (the handle of
    /// kind [`HandleKind::NvIndex`]) has `TPMA_NV_ORDERLY` and
    /// `TPMA_NV_CLEAR_STCLEAR` SET (NV_Write, NV_Extend, NV_SetBits,
    /// NV_WriteLock, NV_ReadLock).
    OrderlyClearIndexOnly,
    /// Permitted unless the first handle is a PIN Pass or PIN Fail NV
    /// index (PolicySecret).
    NotWithPinIndex,
}

/// A row of the command table.
#[derive(Debug)]
pub struct CommandDef {
    /// The command code.
    pub cc: CommandCode,
    /// The command's name in Part 3.
    pub name: &'static str,
    /// The handle area.
    pub handles: &'static [HandleSpec],
    /// `TPMA_CC.nv`: may write NV (persistent state is snapshotted and committed).
    pub nv: bool,
    /// `TPMA_CC.extensive`: may flush many objects.
    pub extensive: bool,
    /// `TPMA_CC.flushed`: flushes the objects in its handle area.
    pub flushed: bool,
    /// `TPMA_CC.rHandle`: returns a handle.
    pub r_handle: bool,
    /// First command parameter is a TPM2B that a session may encrypt.
    pub decrypt: bool,
    /// First response parameter is a TPM2B that a session may encrypt.
    pub encrypt: bool,
    /// Read-Only mode (Part 3, Table 207).
    pub read_only: ReadOnly,
    /// The handler.
    pub run: Handler,
}

impl CommandDef {
    /// The `TPMA_CC` value (Part 2, 8.9).
    pub fn attributes(&self) -> u32 {
        let c_handles = u32::try_from(self.handles.len()).unwrap_or(0) & 0x7;
        (self.cc.0 & 0xFFFF)
            | u32::from(self.nv) << 22
            | u32::from(self.extensive) << 23
            | u32::from(self.flushed) << 24
            | c_handles << 25
            | u32::from(self.r_handle) << 28
            | u32::from(self.cc.0 & 0x2000_0000 != 0) << 29
    }

    /// Number of handles that need authorization.
    pub fn auth_count(&self) -> usize {
        self.handles
            .iter()
            .filter(|h| h.auth != AuthRole::None)
            .count()
    }
}

const fn h(kind: HandleKind, auth: AuthRole) -> HandleSpec {
    HandleSpec { kind, auth }
}

use crate::wire::consts::rh;
use AuthRole::{Admin, None as NoAuth, User};
use HandleKind::{NvAuth, NvIndex, Object, Parent};
use HandleKind::{Pcr, Permanent};

const PLATFORM: &[Handle] = &[rh::PLATFORM];
/// `TPMI_RH_ENDORSEMENT`.
const ENDORSEMENT: &[Handle] = &[rh::ENDORSEMENT];
/// `TPMI_RH_LOCKOUT`.
const LOCKOUT: &[Handle] = &[rh::LOCKOUT];
/// `TPMI_RH_PROVISION`.
const PROVISION: &[Handle] = &[rh::OWNER, rh::PLATFORM];
/// `TPMI_RH_HIERARCHY`.
const HIERARCHY: &[Handle] = &[rh::OWNER, rh::ENDORSEMENT, rh::PLATFORM];
/// `TPMI_RH_HIERARCHY+`.
const HIERARCHY_NULL: &[Handle] = &[rh::OWNER, rh::ENDORSEMENT, rh::PLATFORM, rh::NULL];
/// `TPMI_RH_CLEAR`.
const CLEAR_AUTH: &[Handle] = &[rh::LOCKOUT, rh::PLATFORM];
/// `TPMI_RH_HIERARCHY_AUTH`.
const HIERARCHY_AUTH: &[Handle] = &[rh::LOCKOUT, rh::ENDORSEMENT, rh::OWNER, rh::PLATFORM];
/// `TPMI_RH_HIERARCHY_AUTH+` (TPM2_SetCapability).
const HIERARCHY_AUTH_NULL: &[Handle] = &[
    rh::LOCKOUT,
    rh::ENDORSEMENT,
    rh::OWNER,
    rh::PLATFORM,
    rh::NULL,
];
/// `TPMI_RH_HIERARCHY_POLICY`.
const HIERARCHY_POLICY: &[Handle] = &[rh::LOCKOUT, rh::ENDORSEMENT, rh::OWNER, rh::PLATFORM];

/// Defaults for a row; each entry overrides what differs.
const BASE: CommandDef = CommandDef {
    cc: CommandCode(0),
    name: "",
    handles: &[],
    nv: false,
    extensive: false,
    flushed: false,
    r_handle: false,
    decrypt: false,
    encrypt: false,
    read_only: ReadOnly::Permitted,
    run: unimplemented_handler,
};

fn unimplemented_handler(
    _: &mut Ctx<'_>,
    _: &[Handle],
    _: &mut Params<'_>,
    _: &mut Writer,
) -> TpmResult<Option<Handle>> {
    Err(crate::wire::Rc::COMMAND_CODE)
}

/// The command table, sorted by command code.
pub static TABLE: &[CommandDef] = &[
    CommandDef {
        cc: cc::NV_UNDEFINESPACESPECIAL,
        name: "NV_UndefineSpaceSpecial",
        handles: &[h(HandleKind::NvIndex, Admin), h(Permanent(PLATFORM), User)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<nv::NvUndefineSpaceSpecial>,
        ..BASE
    },
    CommandDef {
        cc: cc::EVICTCONTROL,
        name: "EvictControl",
        handles: &[h(Permanent(PROVISION), User), h(Object, NoAuth)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<context::EvictControl>,
        ..BASE
    },
    CommandDef {
        cc: cc::HIERARCHYCONTROL,
        name: "HierarchyControl",
        handles: &[h(Permanent(HIERARCHY), User)],
        nv: true,
        extensive: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<hierarchy::HierarchyControl>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_UNDEFINESPACE,
        name: "NV_UndefineSpace",
        handles: &[
            h(Permanent(PROVISION), User),
            h(HandleKind::NvIndex, NoAuth),
        ],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<nv::NvUndefineSpace>,
        ..BASE
    },
    CommandDef {
        cc: cc::CHANGEEPS,
        name: "ChangeEPS",
        handles: &[h(Permanent(PLATFORM), User)],
        nv: true,
        extensive: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<hierarchy::ChangeEps>,
        ..BASE
    },
    CommandDef {
        cc: cc::CHANGEPPS,
        name: "ChangePPS",
        handles: &[h(Permanent(PLATFORM), User)],
        nv: true,
        extensive: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<hierarchy::ChangePps>,
        ..BASE
    },
    CommandDef {
        cc: cc::CLEAR,
        name: "Clear",
        handles: &[h(Permanent(CLEAR_AUTH), User)],
        nv: true,
        extensive: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<hierarchy::Clear>,
        ..BASE
    },
    CommandDef {
        cc: cc::CLEARCONTROL,
        name: "ClearControl",
        handles: &[h(Permanent(CLEAR_AUTH), User)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<hierarchy::ClearControl>,
        ..BASE
    },
    CommandDef {
        cc: cc::CLOCKSET,
        name: "ClockSet",
        handles: &[h(Permanent(PROVISION), User)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<clock::ClockSet>,
        ..BASE
    },
    CommandDef {
        cc: cc::HIERARCHYCHANGEAUTH,
        name: "HierarchyChangeAuth",
        handles: &[h(Permanent(HIERARCHY_AUTH), User)],
        nv: true,
        decrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<hierarchy::HierarchyChangeAuth>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_DEFINESPACE,
        name: "NV_DefineSpace",
        handles: &[h(Permanent(PROVISION), User)],
        nv: true,
        decrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<nv::NvDefineSpace>,
        ..BASE
    },
    CommandDef {
        cc: cc::PCR_ALLOCATE,
        name: "PCR_Allocate",
        handles: &[h(Permanent(PLATFORM), User)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<pcr::PcrAllocate>,
        ..BASE
    },
    CommandDef {
        cc: cc::PCR_SETAUTHPOLICY,
        name: "PCR_SetAuthPolicy",
        handles: &[h(Permanent(PLATFORM), User)],
        nv: true,
        decrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<pcr_auth::PcrSetAuthPolicy>,
        ..BASE
    },
    CommandDef {
        cc: cc::PP_COMMANDS,
        name: "PP_Commands",
        handles: &[h(Permanent(PLATFORM), User)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<misc::PpCommands>,
        ..BASE
    },
    CommandDef {
        cc: cc::SETPRIMARYPOLICY,
        name: "SetPrimaryPolicy",
        handles: &[h(Permanent(HIERARCHY_POLICY), User)],
        nv: true,
        decrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<hierarchy::SetPrimaryPolicy>,
        ..BASE
    },
    CommandDef {
        cc: cc::CLOCKRATEADJUST,
        name: "ClockRateAdjust",
        handles: &[h(Permanent(PROVISION), User)],
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<clock::ClockRateAdjust>,
        ..BASE
    },
    CommandDef {
        cc: cc::CREATEPRIMARY,
        name: "CreatePrimary",
        handles: &[h(Permanent(HIERARCHY_NULL), User)],
        r_handle: true,
        decrypt: true,
        encrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<hierarchy::CreatePrimary>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_GLOBALWRITELOCK,
        name: "NV_GlobalWriteLock",
        handles: &[h(Permanent(PROVISION), User)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<nv::NvGlobalWriteLock>,
        ..BASE
    },
    CommandDef {
        cc: cc::GETCOMMANDAUDITDIGEST,
        name: "GetCommandAuditDigest",
        handles: &[
            h(Permanent(ENDORSEMENT), User),
            h(HandleKind::ObjectOrNull, User),
        ],
        nv: true,
        decrypt: true,
        encrypt: true,
        run: dispatch::<audit::GetCommandAuditDigest>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_INCREMENT,
        name: "NV_Increment",
        handles: &[h(HandleKind::NvAuth, User), h(HandleKind::NvIndex, NoAuth)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<nv::NvIncrement>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_SETBITS,
        name: "NV_SetBits",
        handles: &[h(HandleKind::NvAuth, User), h(HandleKind::NvIndex, NoAuth)],
        nv: true,
        read_only: ReadOnly::OrderlyClearIndexOnly,
        run: dispatch::<nv::NvSetBits>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_EXTEND,
        name: "NV_Extend",
        handles: &[h(HandleKind::NvAuth, User), h(HandleKind::NvIndex, NoAuth)],
        nv: true,
        decrypt: true,
        read_only: ReadOnly::OrderlyClearIndexOnly,
        run: dispatch::<nv::NvExtend>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_WRITE,
        name: "NV_Write",
        handles: &[h(HandleKind::NvAuth, User), h(HandleKind::NvIndex, NoAuth)],
        nv: true,
        decrypt: true,
        read_only: ReadOnly::OrderlyClearIndexOnly,
        run: dispatch::<nv::NvWrite>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_WRITELOCK,
        name: "NV_WriteLock",
        handles: &[h(HandleKind::NvAuth, User), h(HandleKind::NvIndex, NoAuth)],
        nv: true,
        read_only: ReadOnly::OrderlyClearIndexOnly,
        run: dispatch::<nv::NvWriteLock>,
        ..BASE
    },
    CommandDef {
        cc: cc::DICTIONARYATTACKLOCKRESET,
        name: "DictionaryAttackLockReset",
        handles: &[h(Permanent(LOCKOUT), User)],
        nv: true,
        run: dispatch::<da::DictionaryAttackLockReset>,
        ..BASE
    },
    CommandDef {
        cc: cc::DICTIONARYATTACKPARAMETERS,
        name: "DictionaryAttackParameters",
        handles: &[h(Permanent(LOCKOUT), User)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<da::DictionaryAttackParameters>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_CHANGEAUTH,
        name: "NV_ChangeAuth",
        handles: &[h(HandleKind::NvIndex, Admin)],
        nv: true,
        decrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<nv::NvChangeAuth>,
        ..BASE
    },
    CommandDef {
        cc: cc::PCR_EVENT,
        name: "PCR_Event",
        handles: &[h(Pcr { null: true }, User)],
        nv: true,
        decrypt: true,
        run: dispatch::<pcr::PcrEvent>,
        ..BASE
    },
    CommandDef {
        cc: cc::PCR_RESET,
        name: "PCR_Reset",
        handles: &[h(Pcr { null: false }, User)],
        nv: true,
        run: dispatch::<pcr::PcrReset>,
        ..BASE
    },
    CommandDef {
        cc: cc::SEQUENCECOMPLETE,
        name: "SequenceComplete",
        handles: &[h(HandleKind::Sequence, User)],
        flushed: true,
        decrypt: true,
        encrypt: true,
        run: dispatch::<sequence::SequenceComplete>,
        ..BASE
    },
    CommandDef {
        cc: cc::SETALGORITHMSET,
        name: "SetAlgorithmSet",
        handles: &[h(Permanent(PLATFORM), User)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<misc::SetAlgorithmSet>,
        ..BASE
    },
    CommandDef {
        cc: cc::SETCOMMANDCODEAUDITSTATUS,
        name: "SetCommandCodeAuditStatus",
        handles: &[h(Permanent(PROVISION), User)],
        nv: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<audit::SetCommandCodeAuditStatus>,
        ..BASE
    },
    CommandDef {
        cc: cc::INCREMENTALSELFTEST,
        name: "IncrementalSelfTest",
        run: dispatch::<testing::IncrementalSelfTest>,
        ..BASE
    },
    CommandDef {
        cc: cc::SELFTEST,
        name: "SelfTest",
        run: dispatch::<testing::SelfTest>,
        ..BASE
    },
    CommandDef {
        cc: cc::STARTUP,
        name: "Startup",
        nv: true,
        run: dispatch::<startup::Startup>,
        ..BASE
    },
    CommandDef {
        cc: cc::SHUTDOWN,
        name: "Shutdown",
        nv: true,
        run: dispatch::<startup::Shutdown>,
        ..BASE
    },
    CommandDef {
        cc: cc::STIRRANDOM,
        name: "StirRandom",
        decrypt: true,
        run: dispatch::<random::StirRandom>,
        ..BASE
    },
    CommandDef {
        cc: cc::ACTIVATECREDENTIAL,
        name: "ActivateCredential",
        handles: &[h(Object, Admin), h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<credential::ActivateCredential>,
        ..BASE
    },
    CommandDef {
        cc: cc::CERTIFY,
        name: "Certify",
        handles: &[h(Object, Admin), h(HandleKind::ObjectOrNull, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<attestation::Certify>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYNV,
        name: "PolicyNV",
        handles: &[
            h(NvAuth, User),
            h(NvIndex, NoAuth),
            h(HandleKind::PolicySession, NoAuth),
        ],
        decrypt: true,
        run: dispatch::<policy::PolicyNv>,
        ..BASE
    },
    CommandDef {
        cc: cc::CERTIFYCREATION,
        name: "CertifyCreation",
        handles: &[h(HandleKind::ObjectOrNull, User), h(Object, NoAuth)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<attestation::CertifyCreation>,
        ..BASE
    },
    CommandDef {
        cc: cc::DUPLICATE,
        name: "Duplicate",
        handles: &[
            h(Object, AuthRole::Dup),
            h(HandleKind::ObjectOrNull, NoAuth),
        ],
        decrypt: true,
        encrypt: true,
        run: dispatch::<duplication::Duplicate>,
        ..BASE
    },
    CommandDef {
        cc: cc::GETTIME,
        name: "GetTime",
        handles: &[
            h(Permanent(&[rh::ENDORSEMENT]), User),
            h(HandleKind::ObjectOrNull, User),
        ],
        decrypt: true,
        encrypt: true,
        run: dispatch::<attestation::GetTime>,
        ..BASE
    },
    CommandDef {
        cc: cc::GETSESSIONAUDITDIGEST,
        name: "GetSessionAuditDigest",
        handles: &[
            h(Permanent(ENDORSEMENT), User),
            h(HandleKind::ObjectOrNull, User),
            h(HandleKind::Context, NoAuth),
        ],
        decrypt: true,
        encrypt: true,
        run: dispatch::<audit::GetSessionAuditDigest>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_READ,
        name: "NV_Read",
        handles: &[h(HandleKind::NvAuth, User), h(HandleKind::NvIndex, NoAuth)],
        encrypt: true,
        run: dispatch::<nv::NvRead>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_READLOCK,
        name: "NV_ReadLock",
        handles: &[h(HandleKind::NvAuth, User), h(HandleKind::NvIndex, NoAuth)],
        nv: true,
        read_only: ReadOnly::OrderlyClearIndexOnly,
        run: dispatch::<nv::NvReadLock>,
        ..BASE
    },
    CommandDef {
        cc: cc::OBJECTCHANGEAUTH,
        name: "ObjectChangeAuth",
        handles: &[h(Object, Admin), h(Object, NoAuth)],
        decrypt: true,
        encrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<object::ObjectChangeAuth>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYSECRET,
        name: "PolicySecret",
        handles: &[
            h(HandleKind::Entity { null: false }, User),
            h(HandleKind::PolicySession, NoAuth),
        ],
        decrypt: true,
        encrypt: true,
        read_only: ReadOnly::NotWithPinIndex,
        run: dispatch::<policy::PolicySecret>,
        ..BASE
    },
    CommandDef {
        cc: cc::REWRAP,
        name: "Rewrap",
        handles: &[
            h(HandleKind::ObjectOrNull, User),
            h(HandleKind::ObjectOrNull, NoAuth),
        ],
        decrypt: true,
        encrypt: true,
        run: dispatch::<duplication::Rewrap>,
        ..BASE
    },
    CommandDef {
        cc: cc::CREATE,
        name: "Create",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<object::Create>,
        ..BASE
    },
    CommandDef {
        cc: cc::ECDH_ZGEN,
        name: "ECDH_ZGen",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<asymmetric::EcdhZGen>,
        ..BASE
    },
    CommandDef {
        cc: cc::HMAC,
        name: "HMAC",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<symmetric::Hmac>,
        ..BASE
    },
    CommandDef {
        cc: cc::IMPORT,
        name: "Import",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<duplication::Import>,
        ..BASE
    },
    CommandDef {
        cc: cc::LOAD,
        name: "Load",
        handles: &[h(Object, User)],
        r_handle: true,
        decrypt: true,
        encrypt: true,
        run: dispatch::<object::Load>,
        ..BASE
    },
    CommandDef {
        cc: cc::QUOTE,
        name: "Quote",
        handles: &[h(HandleKind::ObjectOrNull, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<attestation::Quote>,
        ..BASE
    },
    CommandDef {
        cc: cc::RSA_DECRYPT,
        name: "RSA_Decrypt",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<asymmetric::RsaDecrypt>,
        ..BASE
    },
    CommandDef {
        cc: cc::HMAC_START,
        name: "HMAC_Start",
        handles: &[h(Object, User)],
        r_handle: true,
        decrypt: true,
        run: dispatch::<sequence::HmacStart>,
        ..BASE
    },
    CommandDef {
        cc: cc::SEQUENCEUPDATE,
        name: "SequenceUpdate",
        handles: &[h(HandleKind::Sequence, User)],
        decrypt: true,
        run: dispatch::<sequence::SequenceUpdate>,
        ..BASE
    },
    CommandDef {
        cc: cc::SIGN,
        name: "Sign",
        handles: &[h(Object, User)],
        decrypt: true,
        run: dispatch::<signature::Sign>,
        ..BASE
    },
    CommandDef {
        cc: cc::UNSEAL,
        name: "Unseal",
        handles: &[h(Object, User)],
        encrypt: true,
        run: dispatch::<object::Unseal>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYSIGNED,
        name: "PolicySigned",
        handles: &[h(Object, NoAuth), h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<policy::PolicySigned>,
        ..BASE
    },
    CommandDef {
        cc: cc::CONTEXTLOAD,
        name: "ContextLoad",
        r_handle: true,
        run: dispatch::<context::ContextLoad>,
        ..BASE
    },
    CommandDef {
        cc: cc::CONTEXTSAVE,
        name: "ContextSave",
        handles: &[h(HandleKind::Context, NoAuth)],
        run: dispatch::<context::ContextSave>,
        ..BASE
    },
    CommandDef {
        cc: cc::ECDH_KEYGEN,
        name: "ECDH_KeyGen",
        handles: &[h(Object, NoAuth)],
        encrypt: true,
        run: dispatch::<asymmetric::EcdhKeyGen>,
        ..BASE
    },
    CommandDef {
        cc: cc::ENCRYPTDECRYPT,
        name: "EncryptDecrypt",
        handles: &[h(Object, User)],
        encrypt: true,
        run: dispatch::<symmetric::EncryptDecrypt>,
        ..BASE
    },
    CommandDef {
        cc: cc::FLUSHCONTEXT,
        name: "FlushContext",
        run: dispatch::<context::FlushContext>,
        ..BASE
    },
    CommandDef {
        cc: cc::LOADEXTERNAL,
        name: "LoadExternal",
        r_handle: true,
        decrypt: true,
        encrypt: true,
        run: dispatch::<object::LoadExternal>,
        ..BASE
    },
    CommandDef {
        cc: cc::MAKECREDENTIAL,
        name: "MakeCredential",
        handles: &[h(Object, NoAuth)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<credential::MakeCredential>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_READPUBLIC,
        name: "NV_ReadPublic",
        handles: &[h(HandleKind::NvIndex, NoAuth)],
        encrypt: true,
        run: dispatch::<nv::NvReadPublic>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYAUTHORIZE,
        name: "PolicyAuthorize",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyAuthorize>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYAUTHVALUE,
        name: "PolicyAuthValue",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        run: dispatch::<policy::PolicyAuthValue>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYCOMMANDCODE,
        name: "PolicyCommandCode",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        run: dispatch::<policy::PolicyCommandCode>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYCOUNTERTIMER,
        name: "PolicyCounterTimer",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyCounterTimer>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYCPHASH,
        name: "PolicyCpHash",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyCpHash>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYLOCALITY,
        name: "PolicyLocality",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        run: dispatch::<policy::PolicyLocality>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYNAMEHASH,
        name: "PolicyNameHash",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyNameHash>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYOR,
        name: "PolicyOR",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        run: dispatch::<policy::PolicyOr>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYTICKET,
        name: "PolicyTicket",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyTicket>,
        ..BASE
    },
    CommandDef {
        cc: cc::READPUBLIC,
        name: "ReadPublic",
        handles: &[h(Object, NoAuth)],
        encrypt: true,
        run: dispatch::<object::ReadPublic>,
        ..BASE
    },
    CommandDef {
        cc: cc::RSA_ENCRYPT,
        name: "RSA_Encrypt",
        handles: &[h(Object, NoAuth)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<asymmetric::RsaEncrypt>,
        ..BASE
    },
    CommandDef {
        cc: cc::STARTAUTHSESSION,
        name: "StartAuthSession",
        handles: &[
            h(HandleKind::ObjectOrNull, NoAuth),
            h(HandleKind::Entity { null: true }, NoAuth),
        ],
        r_handle: true,
        decrypt: true,
        encrypt: true,
        run: dispatch::<session::StartAuthSession>,
        ..BASE
    },
    CommandDef {
        cc: cc::VERIFYSIGNATURE,
        name: "VerifySignature",
        handles: &[h(Object, NoAuth)],
        decrypt: true,
        run: dispatch::<signature::VerifySignature>,
        ..BASE
    },
    CommandDef {
        cc: cc::ECC_PARAMETERS,
        name: "ECC_Parameters",
        run: dispatch::<asymmetric::EccParameters>,
        ..BASE
    },
    CommandDef {
        cc: cc::GETCAPABILITY,
        name: "GetCapability",
        run: dispatch::<capability::GetCapability>,
        ..BASE
    },
    CommandDef {
        cc: cc::GETRANDOM,
        name: "GetRandom",
        encrypt: true,
        run: dispatch::<random::GetRandom>,
        ..BASE
    },
    CommandDef {
        cc: cc::GETTESTRESULT,
        name: "GetTestResult",
        encrypt: true,
        run: dispatch::<testing::GetTestResult>,
        ..BASE
    },
    CommandDef {
        cc: cc::HASH,
        name: "Hash",
        decrypt: true,
        encrypt: true,
        run: dispatch::<hash::Hash>,
        ..BASE
    },
    CommandDef {
        cc: cc::PCR_READ,
        name: "PCR_Read",
        run: dispatch::<pcr::PcrRead>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYPCR,
        name: "PolicyPCR",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyPcr>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYRESTART,
        name: "PolicyRestart",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        run: dispatch::<session::PolicyRestart>,
        ..BASE
    },
    CommandDef {
        cc: cc::READCLOCK,
        name: "ReadClock",
        run: dispatch::<clock::ReadClock>,
        ..BASE
    },
    CommandDef {
        cc: cc::PCR_EXTEND,
        name: "PCR_Extend",
        handles: &[h(Pcr { null: true }, User)],
        nv: true,
        run: dispatch::<pcr::PcrExtend>,
        ..BASE
    },
    CommandDef {
        cc: cc::PCR_SETAUTHVALUE,
        name: "PCR_SetAuthValue",
        handles: &[h(Pcr { null: false }, User)],
        decrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<pcr_auth::PcrSetAuthValue>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_CERTIFY,
        name: "NV_Certify",
        handles: &[
            h(HandleKind::ObjectOrNull, User),
            h(NvAuth, User),
            h(NvIndex, NoAuth),
        ],
        decrypt: true,
        encrypt: true,
        run: dispatch::<nv::NvCertify>,
        ..BASE
    },
    CommandDef {
        cc: cc::EVENTSEQUENCECOMPLETE,
        name: "EventSequenceComplete",
        handles: &[h(Pcr { null: true }, User), h(HandleKind::Sequence, User)],
        nv: true,
        flushed: true,
        decrypt: true,
        run: dispatch::<sequence::EventSequenceComplete>,
        ..BASE
    },
    CommandDef {
        cc: cc::HASHSEQUENCESTART,
        name: "HashSequenceStart",
        r_handle: true,
        decrypt: true,
        run: dispatch::<sequence::HashSequenceStart>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYPHYSICALPRESENCE,
        name: "PolicyPhysicalPresence",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        run: dispatch::<policy::PolicyPhysicalPresence>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYDUPLICATIONSELECT,
        name: "PolicyDuplicationSelect",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyDuplicationSelect>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYGETDIGEST,
        name: "PolicyGetDigest",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        encrypt: true,
        run: dispatch::<policy::PolicyGetDigest>,
        ..BASE
    },
    CommandDef {
        cc: cc::TESTPARMS,
        name: "TestParms",
        run: dispatch::<capability::TestParms>,
        ..BASE
    },
    CommandDef {
        cc: cc::COMMIT,
        name: "Commit",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<ec::Commit>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYPASSWORD,
        name: "PolicyPassword",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        run: dispatch::<policy::PolicyPassword>,
        ..BASE
    },
    CommandDef {
        cc: cc::ZGEN_2PHASE,
        name: "ZGen_2Phase",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<ec::ZGen2Phase>,
        ..BASE
    },
    CommandDef {
        cc: cc::EC_EPHEMERAL,
        name: "EC_Ephemeral",
        encrypt: true,
        run: dispatch::<ec::EcEphemeral>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYNVWRITTEN,
        name: "PolicyNvWritten",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        run: dispatch::<policy::PolicyNvWritten>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYTEMPLATE,
        name: "PolicyTemplate",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyTemplate>,
        ..BASE
    },
    CommandDef {
        cc: cc::CREATELOADED,
        name: "CreateLoaded",
        handles: &[h(Parent, User)],
        r_handle: true,
        decrypt: true,
        encrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<object::CreateLoaded>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYAUTHORIZENV,
        name: "PolicyAuthorizeNV",
        handles: &[
            h(NvAuth, User),
            h(NvIndex, NoAuth),
            h(HandleKind::PolicySession, NoAuth),
        ],
        run: dispatch::<policy::PolicyAuthorizeNv>,
        ..BASE
    },
    CommandDef {
        cc: cc::ENCRYPTDECRYPT2,
        name: "EncryptDecrypt2",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<symmetric::EncryptDecrypt2>,
        ..BASE
    },
    CommandDef {
        cc: cc::CERTIFYX509,
        name: "CertifyX509",
        handles: &[h(Object, Admin), h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<attestation::CertifyX509>,
        ..BASE
    },
    CommandDef {
        cc: cc::ACT_SETTIMEOUT,
        name: "ACT_SetTimeout",
        handles: &[h(Permanent(act::ACT_HANDLES), User)],
        run: dispatch::<act::ActSetTimeout>,
        ..BASE
    },
    CommandDef {
        cc: cc::ECC_ENCRYPT,
        name: "ECC_Encrypt",
        handles: &[h(Object, NoAuth)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<ec::EccEncrypt>,
        ..BASE
    },
    CommandDef {
        cc: cc::ECC_DECRYPT,
        name: "ECC_Decrypt",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<ec::EccDecrypt>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYCAPABILITY,
        name: "PolicyCapability",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyCapability>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYPARAMETERS,
        name: "PolicyParameters",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyParameters>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_DEFINESPACE2,
        name: "NV_DefineSpace2",
        handles: &[h(Permanent(PROVISION), User)],
        nv: true,
        decrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<nv::NvDefineSpace2>,
        ..BASE
    },
    CommandDef {
        cc: cc::NV_READPUBLIC2,
        name: "NV_ReadPublic2",
        handles: &[h(HandleKind::NvIndex, NoAuth)],
        encrypt: true,
        run: dispatch::<nv::NvReadPublic2>,
        ..BASE
    },
    CommandDef {
        cc: cc::SETCAPABILITY,
        name: "SetCapability",
        handles: &[h(Permanent(HIERARCHY_AUTH_NULL), User)],
        nv: true,
        decrypt: true,
        read_only: ReadOnly::NotPermitted,
        run: dispatch::<misc::SetCapability>,
        ..BASE
    },
    CommandDef {
        cc: cc::READONLYCONTROL,
        name: "ReadOnlyControl",
        handles: &[h(Permanent(PLATFORM), User)],
        run: dispatch::<read_only::ReadOnlyControl>,
        ..BASE
    },
    CommandDef {
        cc: cc::POLICYTRANSPORTSPDM,
        name: "PolicyTransportSPDM",
        handles: &[h(HandleKind::PolicySession, NoAuth)],
        decrypt: true,
        run: dispatch::<policy::PolicyTransportSpdm>,
        ..BASE
    },
    CommandDef {
        cc: cc::VERIFYSEQUENCECOMPLETE,
        name: "VerifySequenceComplete",
        handles: &[h(HandleKind::Sequence, User), h(Object, NoAuth)],
        flushed: true,
        run: dispatch::<pqc::VerifySequenceComplete>,
        ..BASE
    },
    CommandDef {
        cc: cc::SIGNSEQUENCECOMPLETE,
        name: "SignSequenceComplete",
        handles: &[h(HandleKind::Sequence, User), h(Object, User)],
        flushed: true,
        decrypt: true,
        run: dispatch::<pqc::SignSequenceComplete>,
        ..BASE
    },
    CommandDef {
        cc: cc::VERIFYDIGESTSIGNATURE,
        name: "VerifyDigestSignature",
        handles: &[h(Object, NoAuth)],
        decrypt: true,
        run: dispatch::<pqc::VerifyDigestSignature>,
        ..BASE
    },
    CommandDef {
        cc: cc::SIGNDIGEST,
        name: "SignDigest",
        handles: &[h(Object, User)],
        decrypt: true,
        run: dispatch::<pqc::SignDigest>,
        ..BASE
    },
    CommandDef {
        cc: cc::ENCAPSULATE,
        name: "Encapsulate",
        handles: &[h(Object, NoAuth)],
        encrypt: true,
        run: dispatch::<pqc::Encapsulate>,
        ..BASE
    },
    CommandDef {
        cc: cc::DECAPSULATE,
        name: "Decapsulate",
        handles: &[h(Object, User)],
        decrypt: true,
        encrypt: true,
        run: dispatch::<pqc::Decapsulate>,
        ..BASE
    },
    CommandDef {
        cc: cc::VERIFYSEQUENCESTART,
        name: "VerifySequenceStart",
        handles: &[h(Object, NoAuth)],
        r_handle: true,
        decrypt: true,
        run: dispatch::<pqc::VerifySequenceStart>,
        ..BASE
    },
    CommandDef {
        cc: cc::SIGNSEQUENCESTART,
        name: "SignSequenceStart",
        handles: &[h(Object, NoAuth)],
        r_handle: true,
        decrypt: true,
        run: dispatch::<pqc::SignSequenceStart>,
        ..BASE
    },
    CommandDef {
        cc: cc::VENDOR_TCG_TEST,
        name: "Vendor_TCG_Test",
        run: dispatch::<misc::VendorTcgTest>,
        ..BASE
    },
];

/// Find a command by code.
pub fn lookup(code: CommandCode) -> Option<&'static CommandDef> {
    TABLE
        .binary_search_by_key(&code, |d| d.cc)
        .ok()
        .and_then(|i| TABLE.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in TABLE.windows(2) {
            assert!(
                w[0].cc < w[1].cc,
                "{} must come before {}",
                w[0].name,
                w[1].name
            );
        }
    }

    /// The `read_only` column against a transcription of Part 3, Table 207
    /// (every command this TPM implements appears there, except
    /// Vendor_TCG_Test, which Part 1, 42.3 leaves to the vendor and which
    /// changes nothing).
    #[test]
    fn read_only_column_follows_part3_table_207() {
        let not_permitted = [
            cc::CREATE,
            cc::OBJECTCHANGEAUTH,
            cc::CREATELOADED,
            cc::SETCOMMANDCODEAUDITSTATUS,
            cc::PCR_ALLOCATE,
            cc::PCR_SETAUTHPOLICY,
            cc::PCR_SETAUTHVALUE,
            cc::CREATEPRIMARY,
            cc::HIERARCHYCONTROL,
            cc::SETPRIMARYPOLICY,
            cc::CHANGEPPS,
            cc::CHANGEEPS,
            cc::CLEAR,
            cc::CLEARCONTROL,
            cc::HIERARCHYCHANGEAUTH,
            cc::DICTIONARYATTACKPARAMETERS,
            cc::PP_COMMANDS,
            cc::SETALGORITHMSET,
            cc::FIELDUPGRADESTART,
            cc::FIELDUPGRADEDATA,
            cc::EVICTCONTROL,
            cc::CLOCKSET,
            cc::CLOCKRATEADJUST,
            cc::SETCAPABILITY,
            cc::NV_DEFINESPACE,
            cc::NV_UNDEFINESPACE,
            cc::NV_UNDEFINESPACESPECIAL,
            cc::NV_INCREMENT,
            cc::NV_GLOBALWRITELOCK,
            cc::NV_CHANGEAUTH,
            cc::NV_DEFINESPACE2,
        ];
        let orderly_clear_only = [
            cc::NV_WRITE,
            cc::NV_EXTEND,
            cc::NV_SETBITS,
            cc::NV_WRITELOCK,
            cc::NV_READLOCK,
        ];
        for d in TABLE {
            let expected = if not_permitted.contains(&d.cc) {
                ReadOnly::NotPermitted
            } else if orderly_clear_only.contains(&d.cc) {
                ReadOnly::OrderlyClearIndexOnly
            } else if d.cc == cc::POLICYSECRET {
                ReadOnly::NotWithPinIndex
            } else {
                ReadOnly::Permitted
            };
            assert_eq!(d.read_only, expected, "{}", d.name);
        }
    }

    #[test]
    fn attributes_encode_handle_count() {
        let d = lookup(cc::PCR_EXTEND).map(|d| d.attributes());
        assert_eq!(d, Some(0x0000_0182 | 1 << 22 | 1 << 25));
    }
}
