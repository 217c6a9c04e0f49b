//! TPM2_GetCapability helpers: read a whole capability (following
//! moreData) from each side and name the properties.

use std::collections::BTreeMap;

use crate::tpm::get_capability;
use crate::wire::Reader;
use crate::Pair;

/// `TPM_CAP` values.
pub mod cap {
    pub const ALGS: u32 = 0;
    pub const HANDLES: u32 = 1;
    pub const COMMANDS: u32 = 2;
    pub const PP_COMMANDS: u32 = 3;
    pub const AUDIT_COMMANDS: u32 = 4;
    pub const PCRS: u32 = 5;
    pub const TPM_PROPERTIES: u32 = 6;
    pub const PCR_PROPERTIES: u32 = 7;
    pub const ECC_CURVES: u32 = 8;
}

/// Names of `TPM_PT` values (Part 2, 6.13).
pub fn pt_name(p: u32) -> String {
    const FIXED: [&str; 50] = [
        "FAMILY_INDICATOR",
        "LEVEL",
        "REVISION",
        "DAY_OF_YEAR",
        "YEAR",
        "MANUFACTURER",
        "VENDOR_STRING_1",
        "VENDOR_STRING_2",
        "VENDOR_STRING_3",
        "VENDOR_STRING_4",
        "VENDOR_TPM_TYPE",
        "FIRMWARE_VERSION_1",
        "FIRMWARE_VERSION_2",
        "INPUT_BUFFER",
        "HR_TRANSIENT_MIN",
        "HR_PERSISTENT_MIN",
        "HR_LOADED_MIN",
        "ACTIVE_SESSIONS_MAX",
        "PCR_COUNT",
        "PCR_SELECT_MIN",
        "CONTEXT_GAP_MAX",
        "(PT_FIXED+21)",
        "NV_COUNTERS_MAX",
        "NV_INDEX_MAX",
        "MEMORY",
        "CLOCK_UPDATE",
        "CONTEXT_HASH",
        "CONTEXT_SYM",
        "CONTEXT_SYM_SIZE",
        "ORDERLY_COUNT",
        "MAX_COMMAND_SIZE",
        "MAX_RESPONSE_SIZE",
        "MAX_DIGEST",
        "MAX_OBJECT_CONTEXT",
        "MAX_SESSION_CONTEXT",
        "PS_FAMILY_INDICATOR",
        "PS_LEVEL",
        "PS_REVISION",
        "PS_DAY_OF_YEAR",
        "PS_YEAR",
        "SPLIT_MAX",
        "TOTAL_COMMANDS",
        "LIBRARY_COMMANDS",
        "VENDOR_COMMANDS",
        "NV_BUFFER_MAX",
        "MODES",
        "MAX_CAP_BUFFER",
        "FIRMWARE_SVN",
        "FIRMWARE_MAX_SVN",
        "ML_PARAMETER_SETS",
    ];
    const VAR: [&str; 21] = [
        "PERMANENT",
        "STARTUP_CLEAR",
        "HR_NV_INDEX",
        "HR_LOADED",
        "HR_LOADED_AVAIL",
        "HR_ACTIVE",
        "HR_ACTIVE_AVAIL",
        "HR_TRANSIENT_AVAIL",
        "HR_PERSISTENT",
        "HR_PERSISTENT_AVAIL",
        "NV_COUNTERS",
        "NV_COUNTERS_AVAIL",
        "ALGORITHM_SET",
        "LOADED_CURVES",
        "LOCKOUT_COUNTER",
        "MAX_AUTH_FAIL",
        "LOCKOUT_INTERVAL",
        "LOCKOUT_RECOVERY",
        "NV_WRITE_RECOVERY",
        "AUDIT_COUNTER_0",
        "AUDIT_COUNTER_1",
    ];
    let name = match p {
        0x100..=0x131 => FIXED.get((p - 0x100) as usize).copied(),
        0x200..=0x214 => VAR.get((p - 0x200) as usize).copied(),
        _ => None,
    };
    match name {
        Some(n) => format!("TPM_PT_{n}"),
        None => format!("TPM_PT {p:#x}"),
    }
}

/// Read every entry of a capability from both sides, following
/// `moreData` independently on each side. Entries are parsed by `entry`
/// into (key, value bytes); returns the two maps.
pub fn read_all(
    p: &mut Pair,
    what: &str,
    capability: u32,
    first: u32,
    last: u32,
    entry: fn(&mut Reader<'_>) -> (u32, Vec<u8>),
) -> (BTreeMap<u32, Vec<u8>>, BTreeMap<u32, Vec<u8>>) {
    let mut maps = (BTreeMap::new(), BTreeMap::new());
    let mut next = (first, first);
    let mut more = (true, true);
    let mut rounds = 0;
    while (more.0 || more.1) && rounds < 64 {
        rounds += 1;
        let a = get_capability(capability, next.0, 64);
        let b = get_capability(capability, next.1, 64);
        let both = p.exec2(&format!("{what} from {:#x}", next.0), &a, &b);
        for (i, rsp) in [&both.a, &both.b].into_iter().enumerate() {
            let (map, nx, mr) = if i == 0 {
                (&mut maps.0, &mut next.0, &mut more.0)
            } else {
                (&mut maps.1, &mut next.1, &mut more.1)
            };
            if !*mr || rsp.rc != 0 {
                *mr = false;
                continue;
            }
            let mut r = rsp.reader();
            let more_data = r.u8();
            let _cap = r.u32();
            let n = r.u32();
            let mut last_key = None;
            for _ in 0..n {
                let (k, v) = entry(&mut r);
                if r.short {
                    break;
                }
                last_key = Some(k);
                if k <= last {
                    map.insert(k, v);
                }
            }
            match last_key {
                Some(k) if more_data != 0 && k < last => *nx = k + 1,
                _ => *mr = false,
            }
        }
    }
    maps
}

/// A `TPMS_TAGGED_PROPERTY`.
pub fn tagged_property(r: &mut Reader<'_>) -> (u32, Vec<u8>) {
    let k = r.u32();
    (k, r.take(4).to_vec())
}

/// A `TPMS_ALG_PROPERTY`.
pub fn alg_property(r: &mut Reader<'_>) -> (u32, Vec<u8>) {
    let k = u32::from(r.u16());
    (k, r.take(4).to_vec())
}

/// A `TPMA_CC` (keyed by its commandIndex | V).
pub fn command_attributes(r: &mut Reader<'_>) -> (u32, Vec<u8>) {
    let v = r.take(4).to_vec();
    let a = if v.len() == 4 {
        u32::from_be_bytes([v[0], v[1], v[2], v[3]])
    } else {
        0
    };
    ((a & 0xFFFF) | (a & 0x2000_0000), v)
}

/// A handle, a curve or a command code (value = key).
pub fn plain_u32(r: &mut Reader<'_>) -> (u32, Vec<u8>) {
    let k = r.u32();
    (k, Vec::new())
}

/// A `TPM_ECC_CURVE`.
pub fn plain_u16(r: &mut Reader<'_>) -> (u32, Vec<u8>) {
    (u32::from(r.u16()), Vec::new())
}

/// A `TPMS_TAGGED_PCR_SELECT`.
pub fn tagged_pcr_select(r: &mut Reader<'_>) -> (u32, Vec<u8>) {
    let k = r.u32();
    let n = r.u8();
    let mut v = vec![n];
    v.extend_from_slice(r.take(usize::from(n)));
    (k, v)
}

/// Compare two maps entry by entry: values of common keys (`label(key)`),
/// and keys present on one side only (as a difference with an empty
/// value on the other side). Returns the number of common keys.
pub fn compare_maps(
    p: &mut Pair,
    a: &BTreeMap<u32, Vec<u8>>,
    b: &BTreeMap<u32, Vec<u8>>,
    label: &dyn Fn(u32) -> String,
) -> usize {
    let mut common = 0;
    let keys: std::collections::BTreeSet<u32> = a.keys().chain(b.keys()).copied().collect();
    for k in keys {
        match (a.get(&k), b.get(&k)) {
            (Some(x), Some(y)) => {
                common += 1;
                p.eq(&label(k), x, y);
            }
            (Some(x), None) => p.eq(&format!("{} (vtpm only)", label(k)), x, b"(absent)"),
            (None, Some(y)) => p.eq(&format!("{} (libtpms only)", label(k)), b"(absent)", y),
            (None, None) => {}
        }
    }
    common
}
