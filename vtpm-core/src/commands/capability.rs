//! Part 3, 30: Capability Commands (`TPM2_GetCapability`, `TPM2_TestParms`).
//!
//! Everything reported here is derived from what the engine implements:
//! the command list from the command table, the algorithms from
//! [`ALGORITHMS`], the limits from [`crate::Config`].

use alloc::vec::Vec;

use super::{Command, NoParams, ToParams, TABLE};
use crate::crypto::HashAlg;
use crate::engine::Ctx;
use crate::state::pcr;
use crate::tpm_params;
use crate::wire::consts::{alg, cap, ht, pt, pt_pcr, rh, sizes, vendor};
use crate::wire::public::{PublicParms, CURVES};
use crate::wire::types::{write_count, PcrBitmap, PcrSelection, YesNo};
use crate::wire::{AlgId, Handle, Marshal, Rc, TpmResult, Writer};

/// `TPMA_ALGORITHM` bits (Part 2, 8.2).
mod aa {
    pub const ASYMMETRIC: u32 = 1 << 0;
    pub const SYMMETRIC: u32 = 1 << 1;
    pub const HASH: u32 = 1 << 2;
    pub const OBJECT: u32 = 1 << 3;
    pub const SIGNING: u32 = 1 << 8;
    pub const ENCRYPTING: u32 = 1 << 9;
    pub const METHOD: u32 = 1 << 10;
}

/// Implemented algorithms and their `TPMA_ALGORITHM`, sorted by id.
pub const ALGORITHMS: &[(AlgId, u32)] = &[
    (alg::RSA, aa::ASYMMETRIC | aa::OBJECT),
    (alg::SHA1, aa::HASH),
    (alg::HMAC, aa::HASH | aa::SIGNING),
    (alg::AES, aa::SYMMETRIC),
    (alg::MGF1, aa::HASH | aa::METHOD),
    (
        alg::KEYEDHASH,
        aa::HASH | aa::OBJECT | aa::SIGNING | aa::ENCRYPTING,
    ),
    (alg::XOR, aa::SYMMETRIC | aa::HASH),
    (alg::SHA256, aa::HASH),
    (alg::SHA384, aa::HASH),
    (alg::SHA512, aa::HASH),
    (alg::NULL, 0),
    (alg::RSASSA, aa::ASYMMETRIC | aa::SIGNING),
    (alg::RSAES, aa::ASYMMETRIC | aa::ENCRYPTING),
    (alg::RSAPSS, aa::ASYMMETRIC | aa::SIGNING),
    (alg::OAEP, aa::ASYMMETRIC | aa::ENCRYPTING),
    (alg::ECDSA, aa::ASYMMETRIC | aa::SIGNING | aa::METHOD),
    (alg::ECDH, aa::ASYMMETRIC | aa::METHOD),
    (alg::ECDAA, aa::ASYMMETRIC | aa::SIGNING),
    (alg::ECSCHNORR, aa::ASYMMETRIC | aa::SIGNING),
    (alg::KDF1_SP800_56A, aa::HASH | aa::METHOD),
    (alg::KDF2, aa::HASH | aa::METHOD),
    (alg::KDF1_SP800_108, aa::HASH | aa::METHOD),
    (alg::ECC, aa::ASYMMETRIC | aa::OBJECT),
    (alg::SYMCIPHER, aa::OBJECT),
    (alg::CTR, aa::SYMMETRIC | aa::ENCRYPTING),
    (alg::OFB, aa::SYMMETRIC | aa::ENCRYPTING),
    (alg::CBC, aa::SYMMETRIC | aa::ENCRYPTING),
    (alg::CFB, aa::SYMMETRIC | aa::ENCRYPTING),
    (alg::ECB, aa::SYMMETRIC | aa::ENCRYPTING),
    // The post-quantum object types (Part 1, 46-47): ML-KEM encapsulates,
    // ML-DSA and HashML-DSA sign.
    (alg::MLKEM, aa::ASYMMETRIC | aa::OBJECT | aa::ENCRYPTING),
    (alg::MLDSA, aa::ASYMMETRIC | aa::OBJECT | aa::SIGNING),
    (alg::HASH_MLDSA, aa::ASYMMETRIC | aa::OBJECT | aa::SIGNING),
];

/// Is `a` an algorithm this TPM implements?
pub fn is_implemented_alg(a: AlgId) -> bool {
    ALGORITHMS.iter().any(|(x, _)| *x == a)
}

/// `MAX_CAP_DATA`: room for capability data in one response (Part 2, 10.x:
/// `MAX_CAP_BUFFER - sizeof(TPM_CAP) - sizeof(UINT32)`).
const MAX_CAP_DATA: usize = sizes::MAX_CAP_BUFFER - 8;

/// The permanent handles this TPM has, in order.
const PERMANENT_HANDLES: &[Handle] = &[
    rh::OWNER,
    rh::NULL,
    rh::PW,
    rh::LOCKOUT,
    rh::ENDORSEMENT,
    rh::PLATFORM,
    rh::PLATFORM_NV,
];

/// Firmware version from the crate version: major.minor in version 1,
/// patch in version 2.
pub(crate) fn firmware_version() -> (u32, u32) {
    let n = |s: &str| s.parse::<u32>().unwrap_or(0) & 0xFFFF;
    (
        n(env!("CARGO_PKG_VERSION_MAJOR")) << 16 | n(env!("CARGO_PKG_VERSION_MINOR")),
        n(env!("CARGO_PKG_VERSION_PATCH")) << 16,
    )
}

/// log2 of `TPM_PT_CLOCK_UPDATE`: the NV copy of Clock is written when
/// Clock crosses a multiple of 2^22 ms, the longest interval Part 2,
/// 10.10.2 allows ("no less frequently than every 2^22 milliseconds").
pub const CLOCK_UPDATE_SHIFT: u32 = 22;

/// Largest session context: sequence, handle, hierarchy, blob size, the
/// 32-octet MAC and a serialized session (bounded by its digests).
const MAX_SESSION_CONTEXT: usize = 8 + 4 + 4 + 2 + 32 + 640;

/// The value of TPM property `p`, if this TPM defines it.
pub fn property(ctx: &Ctx<'_>, p: u32) -> Option<u32> {
    let c = ctx.config;
    let sat = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let vendor_count = sat(TABLE.iter().filter(|d| d.cc.0 & 0x2000_0000 != 0).count());
    let (fw1, fw2) = firmware_version();
    let loaded_sessions = ctx
        .v
        .sessions
        .values()
        .filter(|s| s.loaded.is_some())
        .count();
    Some(match p {
        pt::FAMILY_INDICATOR => u32::from_be_bytes(*b"2.0\0"),
        pt::LEVEL => 0,
        pt::REVISION => 185,
        pt::DAY_OF_YEAR => 71,
        pt::YEAR => 2026,
        pt::MANUFACTURER => u32::from_be_bytes(*b"VTPM"),
        pt::VENDOR_STRING_1 => vendor::STRING_1,
        pt::VENDOR_STRING_2 => vendor::STRING_2,
        pt::VENDOR_STRING_3 => vendor::STRING_3,
        pt::VENDOR_STRING_4 => vendor::STRING_4,
        pt::VENDOR_TPM_TYPE => 1,
        pt::FIRMWARE_VERSION_1 => fw1,
        pt::FIRMWARE_VERSION_2 => fw2,
        pt::INPUT_BUFFER => sat(sizes::MAX_DIGEST_BUFFER),
        pt::HR_TRANSIENT_MIN => sat(c.max_loaded_objects),
        pt::HR_PERSISTENT_MIN => sat(c.max_persistent_objects),
        pt::HR_LOADED_MIN => sat(c.max_loaded_sessions),
        pt::ACTIVE_SESSIONS_MAX => sat(c.max_active_sessions),
        pt::PCR_COUNT => sat(sizes::PCR_COUNT),
        pt::PCR_SELECT_MIN => sat(sizes::PCR_SELECT_MIN),
        pt::CONTEXT_GAP_MAX => u32::try_from(super::context::CONTEXT_GAP_MAX).unwrap_or(u32::MAX),
        pt::NV_COUNTERS_MAX => 0,
        pt::NV_INDEX_MAX => u32::from(crate::state::nv::MAX_NV_INDEX_SIZE),
        // sharedNV | objectCopiedToRam (Part 2, 8.10).
        pt::MEMORY => 0x6,
        pt::CLOCK_UPDATE => 1 << CLOCK_UPDATE_SHIFT,
        pt::CONTEXT_HASH => u32::from(alg::SHA256.0),
        pt::CONTEXT_SYM => u32::from(alg::AES.0),
        pt::CONTEXT_SYM_SIZE => 256,
        pt::ORDERLY_COUNT => 0,
        pt::MAX_COMMAND_SIZE => sat(c.max_command_size),
        pt::MAX_RESPONSE_SIZE => sat(c.max_response_size),
        pt::MAX_DIGEST => sat(sizes::MAX_DIGEST),
        pt::MAX_OBJECT_CONTEXT => sat(super::context::MAX_OBJECT_CONTEXT),
        pt::MAX_SESSION_CONTEXT => sat(MAX_SESSION_CONTEXT),
        pt::PS_FAMILY_INDICATOR => 1,
        pt::PS_LEVEL => 0,
        pt::PS_REVISION => 0x106,
        pt::PS_DAY_OF_YEAR => 0,
        pt::PS_YEAR => 0,
        pt::SPLIT_MAX => super::ec::SPLIT_MAX,
        pt::TOTAL_COMMANDS => sat(TABLE.len()),
        pt::LIBRARY_COMMANDS => sat(TABLE.len()).saturating_sub(vendor_count),
        pt::VENDOR_COMMANDS => vendor_count,
        pt::NV_BUFFER_MAX => sat(sizes::MAX_NV_BUFFER),
        pt::MODES => 0,
        pt::MAX_CAP_BUFFER => sat(sizes::MAX_CAP_BUFFER),
        pt::FIRMWARE_SVN => 0,
        pt::FIRMWARE_MAX_SVN => 0,
        pt::ML_PARAMETER_SETS => super::pqc::ml_parameter_sets(c),
        pt::PERMANENT => permanent_attributes(ctx),
        pt::STARTUP_CLEAR => ctx.v.startup_clear.bits(ctx.v.startup_orderly),
        pt::HR_NV_INDEX => sat(ctx.p.nv.len()),
        pt::HR_LOADED => sat(loaded_sessions),
        pt::HR_LOADED_AVAIL => sat(c.max_loaded_sessions.saturating_sub(loaded_sessions)),
        pt::HR_ACTIVE => sat(ctx.v.sessions.len()),
        pt::HR_ACTIVE_AVAIL => sat(c.max_active_sessions.saturating_sub(ctx.v.sessions.len())),
        pt::HR_TRANSIENT_AVAIL => sat(c
            .max_loaded_objects
            .saturating_sub(ctx.v.objects.len())
            .saturating_sub(ctx.v.sequences.len())),
        pt::HR_PERSISTENT => sat(ctx.p.persistent.len()),
        pt::HR_PERSISTENT_AVAIL => sat(c
            .max_persistent_objects
            .saturating_sub(ctx.p.persistent.len())),
        pt::NV_COUNTERS => sat(ctx
            .p
            .nv
            .iter()
            .filter(|i| i.index_type() == crate::state::nv::nt::COUNTER)
            .count()),
        pt::NV_COUNTERS_AVAIL => sat(crate::state::nv::counters_available(&ctx.p, c.nv_capacity)),
        pt::ALGORITHM_SET => 0,
        pt::LOADED_CURVES => sat(CURVES.len()),
        pt::LOCKOUT_COUNTER => ctx.p.failed_tries,
        pt::MAX_AUTH_FAIL => ctx.p.max_tries,
        pt::LOCKOUT_INTERVAL => ctx.p.recovery_time,
        pt::LOCKOUT_RECOVERY => ctx.p.lockout_recovery,
        pt::NV_WRITE_RECOVERY => 0,
        pt::AUDIT_COUNTER_0 => (ctx.p.audit_counter >> 32) as u32,
        pt::AUDIT_COUNTER_1 => ctx.p.audit_counter as u32,
        _ => return None,
    })
}

/// `TPMA_PERMANENT` (Part 2, 8.6).
fn permanent_attributes(ctx: &Ctx<'_>) -> u32 {
    let p = &ctx.p;
    let in_lockout = p.max_tries != 0 && p.failed_tries >= p.max_tries;
    u32::from(!p.owner_auth.is_empty())
        | u32::from(!p.endorsement_auth.is_empty()) << 1
        | u32::from(!p.lockout_auth.is_empty()) << 2
        | u32::from(p.disable_clear) << 8
        | u32::from(in_lockout) << 9
        | 1 << 10 // tpmGeneratedEPS
}

tpm_params! {
    /// `TPM2_GetCapability` parameters.
    pub struct GetCapabilityIn {
        /// `TPM_CAP`.
        pub capability: u32,
        /// First property/handle/algorithm wanted.
        pub property: u32,
        /// How many.
        pub property_count: u32,
    }
}

/// `TPM2_GetCapability` response: `moreData` and `TPMS_CAPABILITY_DATA`
/// already marshalled.
#[derive(Debug)]
pub struct GetCapabilityOut {
    /// More values exist past those returned.
    pub more_data: bool,
    /// `TPMS_CAPABILITY_DATA`.
    pub data: Vec<u8>,
}

impl ToParams for GetCapabilityOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.write(&YesNo(self.more_data));
        w.bytes(&self.data);
    }
}

/// Take at most `max` items from `items`, reporting whether more remain.
fn page<T: Clone>(items: impl Iterator<Item = T>, count: u32, max: usize) -> (Vec<T>, bool) {
    let want = usize::try_from(count).unwrap_or(usize::MAX).min(max);
    let mut out = Vec::new();
    let mut more = false;
    for it in items {
        if out.len() >= want {
            more = true;
            break;
        }
        out.push(it);
    }
    (out, more)
}

/// `TPM2_GetCapability` (Part 3, 30.2).
#[derive(Debug)]
#[doc(alias = "TPM2_GetCapability")]
pub struct GetCapability;

impl Command for GetCapability {
    type In = GetCapabilityIn;
    type Out = GetCapabilityOut;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: GetCapabilityIn) -> TpmResult<GetCapabilityOut> {
        let GetCapabilityIn {
            capability,
            property: first,
            property_count: count,
        } = input;
        let mut w = Writer::new();
        w.u32(capability);
        let more = match capability {
            cap::ALGS => {
                let items = ALGORITHMS
                    .iter()
                    .filter(|(a, _)| u32::from(a.0) >= first)
                    .copied();
                let (v, more) = page(items, count, MAX_CAP_DATA / 6);
                write_count(&mut w, v.len());
                for (a, attrs) in v {
                    w.write(&a);
                    w.u32(attrs);
                }
                more
            }
            cap::HANDLES => {
                let handles = handles_from(ctx, first)?;
                let (v, more) = page(handles.into_iter(), count, MAX_CAP_DATA / 4);
                write_count(&mut w, v.len());
                v.iter().for_each(|h| w.write(h));
                more
            }
            cap::COMMANDS => {
                let items = TABLE.iter().filter(|d| d.cc.0 >= first);
                let (v, more) = page(items, count, MAX_CAP_DATA / 4);
                write_count(&mut w, v.len());
                v.iter().for_each(|d| w.u32(d.attributes()));
                more
            }
            cap::PP_COMMANDS => {
                // Only TPM2_PP_Commands requires physical presence.
                let items = super::misc::PP_REQUIRED
                    .iter()
                    .map(|c| c.0)
                    .filter(|c| *c >= first);
                let (v, more) = page(items, count, MAX_CAP_DATA / 4);
                write_count(&mut w, v.len());
                v.iter().for_each(|c| w.u32(*c));
                more
            }
            cap::AUDIT_COMMANDS => {
                let items = ctx.p.audited.iter().copied().filter(|c| *c >= first);
                let (v, more) = page(items, count, MAX_CAP_DATA / 4);
                write_count(&mut w, v.len());
                v.iter().for_each(|c| w.u32(*c));
                more
            }
            cap::PCRS => {
                let sels: Vec<PcrSelection> = HashAlg::ALL
                    .iter()
                    .map(|&hash| {
                        let on = ctx.p.pcr_allocation.contains(&hash);
                        PcrSelection {
                            hash,
                            select: if on {
                                PcrBitmap::ALL
                            } else {
                                PcrBitmap::default()
                            },
                        }
                    })
                    .collect();
                write_count(&mut w, sels.len());
                sels.iter().for_each(|s| w.write(s));
                false
            }
            cap::TPM_PROPERTIES => {
                let props =
                    (first..=pt::VAR + 0xFF).filter_map(|p| property(ctx, p).map(|v| (p, v)));
                let (v, more) = page(props, count, MAX_CAP_DATA / 8);
                write_count(&mut w, v.len());
                for (p, val) in v {
                    w.u32(p);
                    w.u32(val);
                }
                more
            }
            cap::PCR_PROPERTIES => {
                let props = (first..=pt_pcr::LAST).filter_map(|p| pcr_property(p).map(|b| (p, b)));
                let (v, more) = page(props, count, MAX_CAP_DATA / 8);
                write_count(&mut w, v.len());
                for (p, b) in v {
                    w.u32(p);
                    w.u8(sizes::PCR_SELECT_MAX as u8);
                    w.bytes(&b.octets());
                }
                more
            }
            cap::ECC_CURVES => {
                let items = CURVES.iter().filter(|c| u32::from(c.0) >= first).copied();
                let (v, more) = page(items, count, MAX_CAP_DATA / 2);
                write_count(&mut w, v.len());
                v.iter().for_each(|c| w.write(c));
                more
            }
            cap::AUTH_POLICIES => {
                let hs = [rh::OWNER, rh::LOCKOUT, rh::ENDORSEMENT, rh::PLATFORM];
                let items = hs.into_iter().filter(|h| h.0 >= first);
                let (v, more) = page(items, count, MAX_CAP_DATA / 70);
                write_count(&mut w, v.len());
                for h in v {
                    let pol = match h {
                        rh::OWNER => &ctx.p.owner_policy,
                        rh::LOCKOUT => &ctx.p.lockout_policy,
                        rh::ENDORSEMENT => &ctx.p.endorsement_policy,
                        _ => &ctx.v.platform_policy,
                    };
                    w.write(&h);
                    w.u16(pol.alg);
                    w.bytes(&pol.digest);
                }
                more
            }
            cap::ACT => super::act::write_capability(ctx, first, count, &mut w),
            _ => return Err(Rc::VALUE.param(1)),
        };
        Ok(GetCapabilityOut {
            more_data: more,
            data: w.into_vec(),
        })
    }
}

/// The handles of the type named by `first`'s top octet, from `first` on.
fn handles_from(ctx: &Ctx<'_>, first: u32) -> TpmResult<Vec<Handle>> {
    let t = Handle(first).ht();
    Ok(match t {
        ht::PCR => (first..sizes::PCR_COUNT as u32).map(Handle).collect(),
        ht::PERMANENT => PERMANENT_HANDLES
            .iter()
            .chain(super::act::ACT_HANDLES)
            .filter(|h| h.0 >= first)
            .copied()
            .collect(),
        ht::TRANSIENT => {
            // Loaded objects and sequence objects share the range.
            let mut v: Vec<Handle> = ctx
                .v
                .objects
                .keys()
                .chain(ctx.v.sequences.keys())
                .filter(|&&h| h >= first)
                .map(|&h| Handle(h))
                .collect();
            v.sort_unstable();
            v
        }
        ht::PERSISTENT => ctx
            .p
            .persistent
            .iter()
            .filter_map(|o| o.evict_handle)
            .filter(|h| h.0 >= first)
            .collect(),
        ht::NV_INDEX => ctx
            .p
            .nv
            .iter()
            .map(|i| i.handle)
            .filter(|h| h.0 >= first)
            .collect(),
        // TPM_HT_LOADED_SESSION (0x02) and TPM_HT_SAVED_SESSION (0x03).
        ht::HMAC_SESSION | ht::POLICY_SESSION => {
            let want_loaded = t == ht::HMAC_SESSION;
            let low = first & 0x00FF_FFFF;
            ctx.v
                .sessions
                .iter()
                .filter(|(h, s)| s.loaded.is_some() == want_loaded && (**h & 0x00FF_FFFF) >= low)
                .map(|(h, _)| Handle(*h))
                .collect()
        }
        // TPM_HT_AC is a defined handle type; this TPM has no Attached
        // Components, so the list is empty.
        ht::AC => Vec::new(),
        _ => return Err(Rc::VALUE.param(2)),
    })
}

/// PCR property `p` as a bitmap of the PCRs that have it.
fn pcr_property(p: u32) -> Option<PcrBitmap> {
    let loc = |bit: u8, extend: bool| {
        pcr::bitmap_where(move |r, e| {
            if extend {
                e & (1 << bit) != 0
            } else {
                r & (1 << bit) != 0
            }
        })
    };
    Some(match p {
        pt_pcr::SAVE => pcr::bitmap_where(|_, _| true).intersect(pcr::is_state_saved),
        pt_pcr::EXTEND_L0 => loc(0, true),
        pt_pcr::RESET_L0 => loc(0, false),
        pt_pcr::EXTEND_L1 => loc(1, true),
        pt_pcr::RESET_L1 => loc(1, false),
        pt_pcr::EXTEND_L2 => loc(2, true),
        pt_pcr::RESET_L2 => loc(2, false),
        pt_pcr::EXTEND_L3 => loc(3, true),
        pt_pcr::RESET_L3 => loc(3, false),
        pt_pcr::EXTEND_L4 => loc(4, true),
        pt_pcr::RESET_L4 => loc(4, false),
        pt_pcr::NO_INCREMENT => pcr::bitmap_where(|_, _| true).intersect(pcr::is_no_increment),
        pt_pcr::DRTM_RESET => pcr::bitmap_where(|_, _| true).intersect(pcr::is_drtm_reset),
        pt_pcr::POLICY | pt_pcr::AUTH => PcrBitmap::default(),
        _ => return None,
    })
}

impl PcrBitmap {
    fn intersect(self, f: impl Fn(usize) -> bool) -> PcrBitmap {
        let mut b = PcrBitmap::default();
        (0..sizes::PCR_COUNT)
            .filter(|&i| self.has(i) && f(i))
            .for_each(|i| b.set(i));
        b
    }
}

tpm_params! {
    /// `TPM2_TestParms` parameters.
    pub struct TestParmsIn {
        /// `TPMT_PUBLIC_PARMS`: unmarshalling already checks every selector.
        pub parameters: PublicParms,
    }
}

/// `TPM2_TestParms` (Part 3, 30.3): succeeds if the TPM supports the
/// parameters; the unmarshalling of `TPMT_PUBLIC_PARMS` returns the
/// response code for the first unsupported field.
#[derive(Debug)]
#[doc(alias = "TPM2_TestParms")]
pub struct TestParms;

impl Command for TestParms {
    type In = TestParmsIn;
    type Out = NoParams;
    fn run(_: &mut Ctx<'_>, _: &[Handle], input: TestParmsIn) -> TpmResult<NoParams> {
        let _ = input.parameters.to_bytes();
        Ok(NoParams)
    }
}
