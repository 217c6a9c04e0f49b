//! The differences between vtpm and libtpms that are explained, each with
//! its reason and the specification text (or implementation choice) that
//! allows it, or the vtpm bug it shows (reported, not yet fixed).
//! README.md lists the same entries; a test checks that every id here
//! appears there. Every matcher is narrow: it names the command or
//! property and, where it can, the exact response codes or the shape of
//! the differing bytes.

use crate::pair::{Detail, Diff};
use crate::trace::CONSEQUENCE;

/// Why a difference is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The specification leaves the value (or the choice among several
    /// response codes) to the implementation or the platform.
    SpecLatitude,
    /// The engines implement different specification revisions (vtpm:
    /// Library v185; libtpms 0.9: revision 164) and the text changed.
    SpecRevision,
    /// libtpms departs from the v185 text; vtpm follows it.
    ReferenceDeviation,
    /// A vtpm bug, reported to the lead, not yet fixed.
    VtpmBug,
    /// Follows from another explained difference in the same sequence.
    Consequence,
}

/// One allowed difference.
#[derive(Debug)]
pub struct Allowed {
    /// Stable identifier (used in reports and README.md).
    pub id: &'static str,
    /// Why.
    pub kind: Kind,
    /// What differs and why that is fine (or what is wrong).
    pub summary: &'static str,
    /// Specification reference (or the reason when it is a choice).
    pub reference: &'static str,
    /// Does this entry explain `d`?
    pub applies: fn(&Diff) -> bool,
}

fn rc(d: &Diff) -> Option<(u32, u32)> {
    match d.detail {
        Detail::Rc { vtpm, reference } => Some((vtpm, reference)),
        _ => None,
    }
}

fn rc_is(d: &Diff, cc: u32, vtpm: u32, reference: u32) -> bool {
    d.cc == cc && rc(d) == Some((vtpm, reference))
}

fn bytes(d: &Diff) -> Option<(&[u8], &[u8])> {
    match &d.detail {
        Detail::Bytes { vtpm, reference } => Some((vtpm, reference)),
        _ => None,
    }
}

fn has(d: &Diff, s: &str) -> bool {
    d.what.contains(s)
}

fn starts(d: &Diff, s: &str) -> bool {
    d.what.starts_with(s)
}

/// `property TPM_PT_<name>` (optionally "(vtpm only)"/"(libtpms only)").
fn property(d: &Diff, names: &[&str]) -> bool {
    names.iter().any(|n| {
        let p = format!("property TPM_PT_{n}");
        d.what == p || d.what.starts_with(&format!("{p} ("))
    })
}

fn one_side_only(d: &Diff) -> bool {
    d.what.ends_with("(vtpm only)") || d.what.ends_with("(libtpms only)")
}

/// Every allowed difference.
pub static ALLOWED: &[Allowed] = &[
    // ---- identity, revision, configuration -------------------------------
    Allowed {
        id: "vendor-identity",
        kind: Kind::SpecLatitude,
        summary: "Manufacturer, vendor strings and firmware version are each TPM's own \
                  (vtpm: \"VTPM\", \"SW  \", \" TPM\", \"vtpm\", its crate version; libtpms: \"IBM \", \
                  \"SW  \", \" TPM\", its build date).",
        reference: "Part 2, 6.13 (TPM_PT_MANUFACTURER, TPM_PT_VENDOR_STRING_x, TPM_PT_FIRMWARE_VERSION_x: vendor-defined)",
        applies: |d| {
            property(
                d,
                &["MANUFACTURER", "VENDOR_STRING_1", "VENDOR_STRING_2", "VENDOR_STRING_3", "VENDOR_STRING_4", "VENDOR_TPM_TYPE", "FIRMWARE_VERSION_1", "FIRMWARE_VERSION_2"],
            )
        },
    },
    Allowed {
        id: "spec-revision",
        kind: Kind::SpecRevision,
        summary: "The specification revision and date each implements: vtpm 185 (day 71 of 2026), libtpms 164 (day 75 of 2021).",
        reference: "Part 2, 6.13 (TPM_PT_REVISION, TPM_PT_DAY_OF_YEAR, TPM_PT_YEAR)",
        applies: |d| property(d, &["REVISION", "DAY_OF_YEAR", "YEAR"]),
    },
    Allowed {
        id: "platform-spec-values",
        kind: Kind::SpecLatitude,
        summary: "Platform-specific specification values: vtpm reports the PC Client family (TPM_PS_PC, revision 1.06); \
                  libtpms repeats the library's family, revision and date.",
        reference: "Part 2, 6.13 (TPM_PT_PS_*: platform-specific)",
        applies: |d| property(d, &["PS_FAMILY_INDICATOR", "PS_LEVEL", "PS_REVISION", "PS_DAY_OF_YEAR", "PS_YEAR"]),
    },
    Allowed {
        id: "resource-limits",
        kind: Kind::SpecLatitude,
        summary: "Configured limits and what is left of them: loaded objects (vtpm 128, libtpms 3), persistent objects, \
                  loaded sessions, NV counters, and the command/response size (vtpm at most 4087 so a command fits \
                  the SVSM page; libtpms 4096).",
        reference: "Part 2, 6.13 (TPM_PT_HR_*_MIN are minimums the implementation chooses; TPM_PT_MAX_COMMAND_SIZE, \
                    TPM_PT_MAX_RESPONSE_SIZE); DESIGN.md (limits are configuration)",
        applies: |d| {
            property(
                d,
                &["HR_TRANSIENT_MIN", "HR_PERSISTENT_MIN", "HR_LOADED_MIN", "HR_LOADED_AVAIL", "HR_TRANSIENT_AVAIL", "HR_PERSISTENT_AVAIL", "NV_COUNTERS_AVAIL", "MAX_COMMAND_SIZE", "MAX_RESPONSE_SIZE"],
            )
        },
    },
    Allowed {
        id: "transient-handle-range",
        kind: Kind::SpecLatitude,
        summary: "A transient handle past libtpms's three object slots (0x80000005, 0x80FFFFFF...) is out of its \
                  TPMI_DH_OBJECT range (TPM_RC_VALUE) while it is in vtpm's (not loaded: TPM_RC_REFERENCE_H0, or \
                  TPM_RC_HANDLE for FlushContext).",
        reference: "Part 2, 7.2 TPM_HT and 9.3 TPMI_DH_OBJECT (the transient range is the implementation's); Part 2, 6.6 (TPM_RC_VALUE, TPM_RC_REFERENCE_H0)",
        applies: |d| {
            (has(d, "0x80000005") || has(d, "0x80FFFFFF") || d.what == "Create under a non-loaded handle")
                && matches!(rc(d), Some((0x910, 0x184)) | Some((0x1cb, 0x1c4)))
        },
    },
    Allowed {
        id: "context-format",
        kind: Kind::SpecLatitude,
        summary: "Context blobs are each TPM's own format: integrity hash (vtpm SHA-256, libtpms SHA-512), largest \
                  object and session context.",
        reference: "Part 1, 27.2 Context Data (the contextBlob format is the TPM's); Part 2, 6.13 (TPM_PT_CONTEXT_*, TPM_PT_MAX_*_CONTEXT)",
        applies: |d| property(d, &["CONTEXT_HASH", "CONTEXT_SYM", "CONTEXT_SYM_SIZE", "MAX_OBJECT_CONTEXT", "MAX_SESSION_CONTEXT"]),
    },
    Allowed {
        id: "clock-update-interval",
        kind: Kind::SpecLatitude,
        summary: "TPM_PT_CLOCK_UPDATE, how often the NV copy of Clock is written: vtpm every 2^22 ms (the longest \
                  interval allowed, so the fewest NV writes), libtpms every 2^12 ms.",
        reference: "Part 2, 10.10.2 Clock (\"the non-volatile component shall be updated no less frequently than every 2^22 milliseconds ... reported by ... TPM_PT_CLOCK_UPDATE\"); Part 2, 6.13",
        applies: |d| {
            d.what == "property TPM_PT_CLOCK_UPDATE" && bytes(d) == Some((&[0, 0x40, 0, 0][..], &[0, 0, 0x10, 0][..]))
        },
    },
    Allowed {
        id: "tpma-cc-nv-unwritten",
        kind: Kind::SpecLatitude,
        summary: "TPMA_CC.nv of SelfTest, IncrementalSelfTest and StirRandom: CLEAR on vtpm, where these commands \
                  write nothing to NV (self-test results and the DRBG state are volatile); SET on libtpms, as Part 3 \
                  marks them {NV} (\"may result in an update of NV\").",
        reference: "Part 2, 8.9.3.2 (nv: \"If this attribute is CLEAR, then the TPM shall not perform an NV write as part of the \
                    command actions\"); Part 3, 4.2.6 ({NV}: the command \"may\" update NV)",
        applies: |d| {
            ["SELFTEST", "INCREMENTALSELFTEST", "STIRRANDOM"]
                .iter()
                .any(|c| d.what == format!("command TPM2_{c} TPMA_CC"))
                && bytes(d).is_some_and(|(a, b)| {
                    a.len() == 4 && b.len() == 4 && a[0] == b[0] && a[2..] == b[2..] && a[1] | 0x40 == b[1] && a[1] & 0x40 == 0
                })
        },
    },
    Allowed {
        id: "orderly-count",
        kind: Kind::SpecLatitude,
        summary: "How often orderly counters reach NV: vtpm commits every change (0), libtpms every 256th (255).",
        reference: "Part 2, 6.13 (TPM_PT_ORDERLY_COUNT); Part 1, 34.2.4.3 (hybrid counter indices)",
        applies: |d| property(d, &["ORDERLY_COUNT"]),
    },
    Allowed {
        id: "command-set",
        kind: Kind::SpecLatitude,
        summary: "Commands one side implements and the other does not (vtpm: the v184/v185 commands, ACT_SetTimeout, \
                  ECC_Encrypt/Decrypt, NV_DefineSpace2, ReadOnlyControl, PolicyTransportSPDM...) and the command counts.",
        reference: "Part 3, 30.2.1 (TPM_CAP_COMMANDS lists the implemented commands; which are implemented is the profile's); \
                    docs/command-coverage.md",
        applies: |d| {
            (starts(d, "command TPM2_") && one_side_only(d))
                || property(d, &["TOTAL_COMMANDS", "LIBRARY_COMMANDS", "VENDOR_COMMANDS"])
        },
    },
    Allowed {
        id: "newer-revision-features",
        kind: Kind::SpecRevision,
        summary: "What only the newer revision has: authenticated countdown timers (TPM_RH_ACT_0, TPM_CAP_ACT), \
                  TPM_PT_FIRMWARE_SVN/MAX_SVN, TPM_PT_ML_PARAMETER_SETS.",
        reference: "Part 2, 6.12 TPM_CAP (TPM_CAP_ACT added in 1.59) and 6.13 TPM_PT (SVN and ML parameter-set properties of 184/185)",
        applies: |d| {
            property(d, &["FIRMWARE_SVN", "FIRMWARE_MAX_SVN", "ML_PARAMETER_SETS"])
                || (d.what.starts_with("handle 0x400001") && d.what.ends_with("(vtpm only)"))
                || (d.what == "GetCapability(capability 0x0A)" && rc(d) == Some((0, 0x2c4)))
        },
    },
    Allowed {
        id: "algorithm-set",
        kind: Kind::SpecLatitude,
        summary: "Algorithms, key sizes and curves one side implements: vtpm has ML-KEM/ML-DSA, RSA-4096, AES-192; \
                  libtpms has TDES, SM2, ECMQV, Camellia, CMAC, P-192, P-224, P-521, BN-256/638, SM2-P256. Requests \
                  for them succeed on one side and fail (TPM_RC_VALUE, TPM_RC_CURVE, TPM_RC_SYMMETRIC...) on the \
                  other.",
        reference: "Part 2, 6.3 TPM_ALG_ID and 6.4 TPM_ECC_CURVE (which algorithms and curves a TPM implements is its profile's); Part 3, 30.3 TPM2_TestParms",
        applies: |d| {
            let w = &d.what;
            (starts(d, "algorithm TPM_ALG_") && one_side_only(d) && !has(d, "TPM_ALG_NULL"))
                || (starts(d, "curve 0x") && one_side_only(d))
                || property(d, &["LOADED_CURVES"])
                || (rc(d).is_some()
                    && ["RSA-4096", "AES-192", "CAMELLIA", "P-521", "BN P-256"].iter().any(|k| w.contains(k))
                    && !w.contains("with"))
        },
    },
    Allowed {
        id: "alg-null-listed",
        kind: Kind::SpecLatitude,
        summary: "vtpm lists TPM_ALG_NULL (no attributes) in TPM_CAP_ALGS; libtpms does not.",
        reference: "Part 2, 6.3 (\"TPM_ALG_KEYEDHASH and TPM_ALG_NULL are required of all TPM implementations\"); Part 3, 30.2.1 (TPM_CAP_ALGS)",
        applies: |d| d.what == "algorithm TPM_ALG_NULL attributes (vtpm only)",
    },
    Allowed {
        id: "tpma-algorithm-deprecated",
        kind: Kind::SpecRevision,
        summary: "TPMA_ALGORITHM of ECDSA: vtpm sets 'method' as well (0x501), libtpms does not (0x101). v185 \
                  deprecates every TPMA_ALGORITHM bit (\"should be ignored\").",
        reference: "Part 3 (v185), 30.2.1 (TPM_CAP_ALGS: \"All bits in the algorithm properties bit field (TPMA_ALGORITHM) were deprecated in Version 185 and should be ignored\"); Part 2, 8.2",
        applies: |d| {
            d.what == "algorithm TPM_ALG_ECDSA attributes"
                && bytes(d) == Some((&[0, 0, 5, 1][..], &[0, 0, 1, 1][..]))
        },
    },
    Allowed {
        id: "pcr-policy-auth-groups",
        kind: Kind::SpecLatitude,
        summary: "Which PCRs belong to policy and authValue groups: none on vtpm (it refuses PCR_SetAuthPolicy and \
                  PCR_SetAuthValue), PCR 20-22 on libtpms.",
        reference: "Part 2, 6.14 TPM_PT_PCR (TPM_PT_PCR_POLICY, TPM_PT_PCR_AUTH: groups a platform specification defines); Part 3, 22.6-22.7",
        applies: |d| d.what == "PCR property 0x13" || d.what == "PCR property 0x14",
    },
    Allowed {
        id: "nv-unwritten-octets",
        kind: Kind::SpecLatitude,
        summary: "Octets of an ordinary NV index that the first write did not cover read as 0x00 on vtpm and 0xFF on libtpms.",
        reference: "Part 1, 34.2.6.2 NV Ordinary Index Update (\"Any octets not initialized by the first write will have a value of all zero or all one\")",
        applies: |d| {
            d.cc == 0x14E
                && bytes(d).is_some_and(|(a, b)| {
                    a.len() == b.len()
                        && a.iter().zip(b).all(|(x, y)| x == y || (*x == 0 && *y == 0xFF))
                })
        },
    },
    Allowed {
        id: "cfb-partial-block-iv",
        kind: Kind::SpecLatitude,
        summary: "EncryptDecrypt in CFB mode with a partial last block: the data agree; ivOut differs after the octets \
                  used (vtpm pads it with zeros, as the TCG reference code does; libtpms returns OpenSSL's keystream \
                  state).",
        reference: "Part 3, 15.1 Table 64 (the CFB ivOut of a partial last block is not defined); TCG reference code CryptSymmetricEncrypt (pads with zeros)",
        applies: |d| {
            has(d, " CFB ")
                && bytes(d).is_some_and(|(a, b)| {
                    a.len() == b.len()
                        && a.len() > 16
                        && a[..a.len() - 15] == b[..b.len() - 15]
                        && a[a.len() - 15..].iter().all(|x| *x == 0)
                })
        },
    },
    Allowed {
        id: "private-blob-format",
        kind: Kind::SpecLatitude,
        summary: "TPM2B_PRIVATE from Create is opaque and differs in size: libtpms pads the authValue to the nameAlg \
                  digest size and its sensitive area is 18 octets longer; only the TPM that made the blob loads it \
                  (each TPM refuses the other's, as compared).",
        reference: "Part 1, 23.6 Sensitive Area Encryption (the TPM encrypts and later decrypts its own sensitive areas)",
        applies: |d| has(d, ": outPrivate size"),
    },
    Allowed {
        id: "rc-parameter-choice",
        kind: Kind::SpecLatitude,
        summary: "The same error, with a different (or no) parameter number where it concerns two parameters: \
                  TPM_RC_BINDING of a mismatched private part (vtpm names inPublic, libtpms none), TPM_RC_TYPE of a \
                  sensitive of the wrong type (vtpm inPublic, libtpms inPrivate), TPM_RC_KEY_SIZE of a provided AES \
                  key of the wrong size (vtpm inPublic, libtpms none), TPM_RC_ATTRIBUTES of a derived object's \
                  template with sensitiveDataOrigin (vtpm inPublic, libtpms none), TPM_RC_SIZE of an HMAC key \
                  longer than the hash's block size (vtpm inSensitive, libtpms none).",
        reference: "Part 3 (v185) no longer tabulates response codes per command; Part 2, 6.6 (format-one codes may carry a parameter)",
        applies: |d| {
            (d.cc == 0x167 && matches!(rc(d), Some((0x2e5, 0xa5)) | Some((0x2ca, 0x1ca))))
                || ((d.cc == 0x131 || d.cc == 0x153) && rc(d) == Some((0x2c7, 0x87)))
                || (d.cc == 0x191 && has(d, "derived key with sensitiveDataOrigin") && rc(d) == Some((0x2c2, 0x82)))
                || ((d.cc == 0x131 || d.cc == 0x153) && has(d, "HMAC key of 65 octets") && rc(d) == Some((0x1d5, 0x95)))
        },
    },
    Allowed {
        id: "getcap-bad-handle-type",
        kind: Kind::SpecLatitude,
        summary: "GetCapability(TPM_CAP_HANDLES) of an undefined handle type: TPM_RC_VALUE on vtpm, TPM_RC_HANDLE on libtpms.",
        reference: "Part 3, 30.2.1 (TPM_CAP_HANDLES: \"Any of the defined handle types is allowed\"; the code for others is not specified)",
        applies: |d| d.what == "GetCapability(handles of type 0x05)" && rc(d) == Some((0x2c4, 0x2cb)),
    },
    Allowed {
        id: "rsa-exponent",
        kind: Kind::SpecLatitude,
        summary: "RSA public exponent 3: vtpm accepts it (loads, and generates keys with it); libtpms refuses \
                  (TPM_RC_VALUE / TPM_RC_RANGE).",
        reference: "Part 2, 12.2.3.4 TPMS_RSA_PARMS (\"Support for other values is optional ... They may fail to load or generate the key if exponent is not zero\")",
        applies: |d| has(d, "exponent 3") && matches!(rc(d), Some((0, 0x2c4)) | Some((0, 0x8d))),
    },
    Allowed {
        id: "asymmetric-data-rc",
        kind: Kind::SpecRevision,
        summary: "Create/CreatePrimary of an asymmetric key with inSensitive.data: TPM_RC_VALUE (on inSensitive) on \
                  vtpm, as v185 asks; TPM_RC_ATTRIBUTES (inPublic) on libtpms, the older text's code.",
        reference: "Part 3 (v185), 12.1.1 (\"If the Object is an asymmetric key: If inSensitive.sensitive.data is not the Empty Buffer, then the TPM shall return TPM_RC_VALUE\")",
        applies: |d| has(d, "asymmetric key with data") && (d.cc == 0x131 || d.cc == 0x153) && rc(d) == Some((0x1c4, 0x2c2)),
    },
    // ---- libtpms departs from v185 -----------------------------------------
    Allowed {
        id: "bad-tag-rc",
        kind: Kind::ReferenceDeviation,
        summary: "A command tag other than TPM_ST_SESSIONS/TPM_ST_NO_SESSIONS: TPM_RC_BAD_TAG on vtpm, TPM_RC_VALUE on libtpms.",
        reference: "Part 3, 5.2 Command Header Validation (TPM_ST_SESSIONS or TPM_ST_NO_SESSIONS, else TPM_RC_BAD_TAG)",
        applies: |d| starts(d, "GetCapability, ") && has(d, "tag") && rc(d) == Some((0x1e, 0x84)),
    },
    Allowed {
        id: "rsa-failure-rc",
        kind: Kind::ReferenceDeviation,
        summary: "RSA_Encrypt/RSA_Decrypt of a value not below the modulus, a bad padding or a wrong label: \
                  TPM_RC_VALUE on vtpm, TPM_RC_FAILURE on libtpms (an OpenSSL error passed through).",
        reference: "Part 3, 14.2.1 and 14.3.1 (\"If the padding checks fail, TPM_RC_VALUE is returned\")",
        applies: |d| (d.cc == 0x159 || d.cc == 0x174) && rc(d) == Some((0x84, 0x101)),
    },
    Allowed {
        id: "policynv-range-rc",
        kind: Kind::ReferenceDeviation,
        summary: "PolicyNV with offset + size past the end of the index: TPM_RC_NV_RANGE on vtpm, TPM_RC_SIZE (operandB) on libtpms.",
        reference: "Part 3 (v185), 23.9.1 TPM2_PolicyNV (\"the TPM shall return an error (TPM_RC_NV_RANGE)\")",
        applies: |d| rc_is(d, 0x149, 0x146, 0x1d5),
    },
    Allowed {
        id: "storage-mode-cfb",
        kind: Kind::ReferenceDeviation,
        summary: "A storage key whose symmetric mode is not CFB: vtpm refuses it (TPM_RC_MODE); libtpms accepts it as a \
                  primary (and refuses it as a child only because it differs from the parent's, TPM_RC_SYMMETRIC).",
        reference: "Part 2, 11.1.7 TPMT_SYM_DEF_OBJECT (mode: \"When used in the parameter area of a parent object, this shall be TPM_ALG_CFB\")",
        applies: |d| has(d, "storage key with a CTR symmetric") && matches!(rc(d), Some((0x2c9, 0)) | Some((0x2c9, 0x2d6))),
    },
    Allowed {
        id: "sdo-with-data",
        kind: Kind::ReferenceDeviation,
        summary: "CreatePrimary with sensitiveDataOrigin SET and data provided: vtpm refuses (TPM_RC_ATTRIBUTES), libtpms accepts.",
        reference: "Part 3, 12.1.1 (\"sensitiveDataOrigin ... shall be SET if inSensitive.data is an Empty Buffer and CLEAR if not ... or the TPM shall return TPM_RC_ATTRIBUTES\")",
        applies: |d| d.what == "CreatePrimary(sensitiveDataOrigin with data)" && rc(d) == Some((0x2c2, 0)),
    },
    Allowed {
        id: "derived-fixed-parent",
        kind: Kind::ReferenceDeviation,
        summary: "CreateLoaded of a derived object with fixedParent CLEAR: vtpm derives it; libtpms refuses \
                  (TPM_RC_ATTRIBUTES: its code also requires a derived object to be fixedParent, with the fixedTPM of \
                  its Derivation Parent). v185 states neither rule; its creation rules for fixedTPM and fixedParent \
                  are met.",
        reference: "Part 3, 12.9.1 (\"The input validation is the same as for TPM2_Create() ... with one exception\": \
                    sensitiveDataOrigin CLEAR); Part 2, 8.3.3.2 and 8.3.3.4 (fixedTPM, fixedParent: creation)",
        applies: |d| d.what == "CreateLoaded(derived key, fixedParent CLEAR)" && rc(d) == Some((0, 0x2c2)),
    },
    Allowed {
        id: "loadexternal-authpolicy-size",
        kind: Kind::ReferenceDeviation,
        summary: "LoadExternal of a public area whose authPolicy is neither empty nor a nameAlg digest: vtpm refuses \
                  (TPM_RC_SIZE on inPublic); libtpms loads it when no private part comes with it.",
        reference: "Part 3, 12.3.1 TPM2_LoadExternal (\"The TPM will validate that the authPolicy is either the size of the digest produced by nameAlg or the Empty Buffer\")",
        applies: |d| d.what.starts_with("LoadExternal(authPolicy of the wrong size") && rc_is(d, 0x167, 0x2d5, 0),
    },
    // ---- vtpm bugs (reported) ---------------------------------------------
    Allowed {
        id: "policyauthorize-invalid-ticket-rc",
        kind: Kind::SpecRevision,
        summary: "PolicyAuthorize with a ticket that does not verify: TPM_RC_POLICY on vtpm (v185); libtpms answers \
                  TPM_RC_VALUE on checkTicket (the older text).",
        reference: "Part 3 (v185), 23.16.1 (\"If the ticket is not valid, the TPM shall return TPM_RC_POLICY\")",
        applies: |d| rc_is(d, 0x16A, 0x126, 0x4c4),
    },
    // ---- consequences -----------------------------------------------------
    Allowed {
        id: "trace-consequence",
        kind: Kind::Consequence,
        summary: "In the tpm2-tools replay, a command that uses a handle or blob made by an earlier command that \
                  succeeded on one engine only (itself explained) fails on the other.",
        reference: "follows from the earlier difference",
        applies: |d| d.what.contains(CONSEQUENCE),
    },
];

/// The entry that explains `d`, if any.
pub fn explain(d: &Diff) -> Option<&'static Allowed> {
    ALLOWED.iter().find(|a| (a.applies)(d))
}
