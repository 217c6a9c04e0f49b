//! Part 2, 10.6, 10.11 and 11.2-11.3: signing schemes (`TPMT_SIG_SCHEME`),
//! signatures (`TPMT_SIGNATURE`), tickets with a fixed tag and the
//! attestation structure (`TPMS_ATTEST`).
//!
//! Only the schemes this TPM implements are accepted on input: RSASSA,
//! RSAPSS, ECDSA, ECSCHNORR, ECDAA and HMAC (and `TPM_ALG_NULL` where the
//! type carries a `+`). SM2, EdDSA and ML-DSA selectors are
//! `TPM_RC_SCHEME`, the response code of `TPMI_ALG_SIG_SCHEME`, in a
//! `TPMT_SIG_SCHEME` (Part 2, Table 182 has no ML-DSA member: an ML-DSA
//! key's parameters are its own). A `TPMT_SIGNATURE` may carry ML-DSA and
//! HashML-DSA signatures (`TPM2B_SIGNATURE_MLDSA`, at most
//! `MAX_MLDSA_SIG_SIZE` octets; the exact size is checked against the
//! key's parameter set where it is verified). An ECDAA
//! *signature* is produced but never accepted as input (Part 1, 44.3.3.1:
//! the TPM does not verify ECDAA signatures): its selector is
//! `TPM_RC_SCHEME` in a `TPMT_SIGNATURE`.

use alloc::vec::Vec;

use super::consts::{alg, rh, sizes, st};
use super::object::{Name2b, MAX_ECC};
use super::public::Scheme;
use super::types::{ClockInfo, Data2b, Digest2b, Ha, PcrSelectionList, TimeInfo, Tpm2b, YesNo};
use super::{AlgId, Handle, Marshal, Rc, Reader, StructTag, TpmResult, Unmarshal, Writer};
use crate::crypto::HashAlg;

/// `TPM_GENERATED_VALUE` as a number (Part 2, 6.2).
pub const TPM_GENERATED: u32 = 0xFF54_4347;

/// Selectors of `TPMI_ALG_SIG_SCHEME+` this TPM implements.
pub const SIG_SCHEMES: &[AlgId] = &[
    alg::NULL,
    alg::RSASSA,
    alg::RSAPSS,
    alg::ECDSA,
    alg::ECSCHNORR,
    alg::HMAC,
    alg::ECDAA,
];

/// `TPMT_SIG_SCHEME+`: a signing scheme and its hash, or NULL. The value is
/// a [`Scheme`] restricted to the signing variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigScheme(pub Scheme);

impl Unmarshal for SigScheme {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Scheme::read(r, SIG_SCHEMES, Rc::SCHEME).map(SigScheme)
    }
}

impl Marshal for SigScheme {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.0);
    }
}

/// `TPM2B_PUBLIC_KEY_RSA`.
pub type PublicKeyRsa2b = Tpm2b<{ sizes::MAX_RSA_KEY_BYTES }>;
/// `TPM2B_ECC_PARAMETER`.
pub type EccParameter2b = Tpm2b<MAX_ECC>;

/// `TPMT_SIGNATURE`: a signature with its algorithm (`TPMU_SIGNATURE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signature {
    /// `TPM_ALG_NULL`: the NULL Signature (attestation with no signing key).
    Null,
    /// RSASSA-PKCS1-v1_5 (`TPMS_SIGNATURE_RSA`).
    Rsassa {
        /// The hash of the signed digest.
        hash: HashAlg,
        /// The signature, the size of the modulus.
        sig: Vec<u8>,
    },
    /// RSASSA-PSS (`TPMS_SIGNATURE_RSA`).
    Rsapss {
        /// The hash of the signed digest.
        hash: HashAlg,
        /// The signature, the size of the modulus.
        sig: Vec<u8>,
    },
    /// ECDSA (`TPMS_SIGNATURE_ECC`).
    Ecdsa {
        /// The hash of the signed digest.
        hash: HashAlg,
        /// `signatureR`.
        r: Vec<u8>,
        /// `signatureS`.
        s: Vec<u8>,
    },
    /// EC-Schnorr (`TPMS_SIGNATURE_ECC`).
    Ecschnorr {
        /// The hash of the scheme.
        hash: HashAlg,
        /// `signatureR`.
        r: Vec<u8>,
        /// `signatureS`.
        s: Vec<u8>,
    },
    /// HMAC (`TPMT_HA`).
    Hmac(Ha),
    /// ECDAA (`TPMS_SIGNATURE_ECDAA`): `signatureR` is the nonce `k`
    /// (Part 1, 44.3.3.3). Output only.
    Ecdaa {
        /// The hash of the scheme.
        hash: HashAlg,
        /// `signatureR` (`k`).
        r: Vec<u8>,
        /// `signatureS`.
        s: Vec<u8>,
    },
    /// ML-DSA (`TPM2B_SIGNATURE_MLDSA`, Part 2, 11.3.4): pure ML-DSA, the
    /// message (or external mu) signed directly.
    Mldsa(Vec<u8>),
    /// HashML-DSA (`TPMS_SIGNATURE_HASH_MLDSA`, Part 2, 11.2.7.2).
    HashMldsa {
        /// The pre-hash PH (`TPM_ALG_NULL` is not allowed).
        hash: HashAlg,
        /// `TPM2B_SIGNATURE_MLDSA`.
        sig: Vec<u8>,
    },
}

impl Signature {
    /// The `sigAlg` selector.
    pub fn alg_id(&self) -> AlgId {
        match self {
            Signature::Null => alg::NULL,
            Signature::Rsassa { .. } => alg::RSASSA,
            Signature::Rsapss { .. } => alg::RSAPSS,
            Signature::Ecdsa { .. } => alg::ECDSA,
            Signature::Ecschnorr { .. } => alg::ECSCHNORR,
            Signature::Hmac(_) => alg::HMAC,
            Signature::Ecdaa { .. } => alg::ECDAA,
            Signature::Mldsa(_) => alg::MLDSA,
            Signature::HashMldsa { .. } => alg::HASH_MLDSA,
        }
    }

    /// The hash named in the signature (`None` for the NULL Signature).
    pub fn hash(&self) -> Option<HashAlg> {
        match self {
            Signature::Null => None,
            Signature::Rsassa { hash, .. }
            | Signature::Rsapss { hash, .. }
            | Signature::Ecdsa { hash, .. }
            | Signature::Ecschnorr { hash, .. }
            | Signature::Ecdaa { hash, .. }
            | Signature::HashMldsa { hash, .. } => Some(*hash),
            Signature::Hmac(ha) => Some(ha.alg),
            // Pure ML-DSA names no hash (Part 2, Table 218).
            Signature::Mldsa(_) => None,
        }
    }

    /// The scheme that produced this signature.
    pub fn scheme(&self) -> Scheme {
        match self {
            Signature::Null => Scheme::Null,
            Signature::Rsassa { hash, .. } => Scheme::Rsassa(*hash),
            Signature::Rsapss { hash, .. } => Scheme::Rsapss(*hash),
            Signature::Ecdsa { hash, .. } => Scheme::Ecdsa(*hash),
            Signature::Ecschnorr { hash, .. } => Scheme::Ecschnorr(*hash),
            Signature::Hmac(ha) => Scheme::Hmac(ha.alg),
            // The commit count is not part of the signature.
            Signature::Ecdaa { hash, .. } => Scheme::Ecdaa {
                hash: *hash,
                count: 0,
            },
            // ML-DSA has no TPMT_SIG_SCHEME member (Part 2, Table 182):
            // its parameters are the key's.
            Signature::Mldsa(_) | Signature::HashMldsa { .. } => Scheme::Null,
        }
    }
}

impl Unmarshal for Signature {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let a: AlgId = r.read()?;
        // ML-DSA signatures (no TPMT_SIG_SCHEME member, so not in
        // SIG_SCHEMES); their size is checked against the key's parameter
        // set where they are used.
        match a {
            alg::MLDSA => {
                return Ok(Signature::Mldsa(
                    r.read::<super::pqc::SignatureMldsa2b>()?.0,
                ))
            }
            alg::HASH_MLDSA => {
                let hash = r.read()?;
                let sig = r.read::<super::pqc::SignatureMldsa2b>()?.0;
                return Ok(Signature::HashMldsa { hash, sig });
            }
            _ => {}
        }
        if !SIG_SCHEMES.contains(&a) {
            return Err(Rc::SCHEME);
        }
        Ok(match a {
            alg::NULL => Signature::Null,
            alg::RSASSA | alg::RSAPSS => {
                let hash = r.read()?;
                let sig = r.read::<PublicKeyRsa2b>()?.0;
                if a == alg::RSASSA {
                    Signature::Rsassa { hash, sig }
                } else {
                    Signature::Rsapss { hash, sig }
                }
            }
            alg::ECDSA | alg::ECSCHNORR => {
                let hash = r.read()?;
                let sr = r.read::<EccParameter2b>()?.0;
                let ss = r.read::<EccParameter2b>()?.0;
                if a == alg::ECDSA {
                    Signature::Ecdsa { hash, r: sr, s: ss }
                } else {
                    Signature::Ecschnorr { hash, r: sr, s: ss }
                }
            }
            alg::HMAC => Signature::Hmac(r.read()?),
            _ => return Err(Rc::SCHEME),
        })
    }
}

impl Marshal for Signature {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.alg_id());
        match self {
            Signature::Null => {}
            Signature::Rsassa { hash, sig } | Signature::Rsapss { hash, sig } => {
                w.write(hash);
                w.tpm2b(sig);
            }
            Signature::Ecdsa { hash, r, s }
            | Signature::Ecschnorr { hash, r, s }
            | Signature::Ecdaa { hash, r, s } => {
                w.write(hash);
                w.tpm2b(r);
                w.tpm2b(s);
            }
            Signature::Hmac(ha) => w.write(ha),
            Signature::Mldsa(sig) => w.tpm2b(sig),
            Signature::HashMldsa { hash, sig } => {
                w.write(hash);
                w.tpm2b(sig);
            }
        }
    }
}

/// Read a ticket whose tag must be `tag` (`TPM_RC_TAG`) and whose
/// hierarchy is a `TPMI_RH_HIERARCHY+` (`TPM_RC_VALUE`).
fn read_ticket(r: &mut Reader<'_>, tag: StructTag) -> TpmResult<super::types::Ticket> {
    let t: StructTag = r.read()?;
    if t != tag {
        return Err(Rc::TAG);
    }
    let hierarchy: Handle = r.read()?;
    if !matches!(
        hierarchy,
        rh::OWNER | rh::ENDORSEMENT | rh::PLATFORM | rh::NULL
    ) {
        return Err(Rc::VALUE);
    }
    let digest: Digest2b = r.read()?;
    Ok(super::types::Ticket {
        tag,
        hierarchy,
        digest,
    })
}

macro_rules! tagged_ticket {
    ($(#[$m:meta])* $name:ident, $tag:expr) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(pub super::types::Ticket);
        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
                read_ticket(r, $tag).map($name)
            }
        }
        impl Marshal for $name {
            fn marshal(&self, w: &mut Writer) {
                w.write(&self.0);
            }
        }
    };
}

tagged_ticket!(
    /// `TPMT_TK_HASHCHECK` as an input (tag `TPM_ST_HASHCHECK`).
    HashcheckTicket,
    st::HASHCHECK
);
tagged_ticket!(
    /// `TPMT_TK_CREATION` as an input (tag `TPM_ST_CREATION`).
    CreationTicket,
    st::CREATION
);
tagged_ticket!(
    /// `TPMT_TK_VERIFIED` of `TPM2_VerifySignature` (tag `TPM_ST_VERIFIED`,
    /// no metadata).
    VerifiedTicket,
    st::VERIFIED
);

impl Unmarshal for ClockInfo {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(ClockInfo {
            clock: r.u64()?,
            reset_count: r.u32()?,
            restart_count: r.u32()?,
            safe: r.read::<YesNo>()?.0,
        })
    }
}

impl Unmarshal for TimeInfo {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(TimeInfo {
            time: r.u64()?,
            clock_info: r.read()?,
        })
    }
}

/// `TPMU_ATTEST` with its selector (`TPMI_ST_ATTEST`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attested {
    /// `TPMS_CERTIFY_INFO` (`TPM_ST_ATTEST_CERTIFY`).
    Certify {
        /// Name of the certified object.
        name: Vec<u8>,
        /// Qualified Name of the certified object.
        qualified_name: Vec<u8>,
    },
    /// `TPMS_QUOTE_INFO` (`TPM_ST_ATTEST_QUOTE`).
    Quote {
        /// The PCRs quoted (after removing unallocated ones).
        pcr_select: PcrSelectionList,
        /// Digest of the selected PCR values.
        pcr_digest: Vec<u8>,
    },
    /// `TPMS_CREATION_INFO` (`TPM_ST_ATTEST_CREATION`).
    Creation {
        /// Name of the object.
        object_name: Vec<u8>,
        /// The creation hash.
        creation_hash: Vec<u8>,
    },
    /// `TPMS_TIME_ATTEST_INFO` (`TPM_ST_ATTEST_TIME`).
    Time {
        /// Time, Clock, resetCount, restartCount, safe.
        time: TimeInfo,
        /// Firmware version (not obfuscated).
        firmware_version: u64,
    },
    /// `TPMS_COMMAND_AUDIT_INFO` (`TPM_ST_ATTEST_COMMAND_AUDIT`).
    CommandAudit {
        /// The audit counter.
        audit_counter: u64,
        /// The audit hash.
        digest_alg: AlgId,
        /// The audit digest.
        audit_digest: Vec<u8>,
        /// Digest of the audited command codes.
        command_digest: Vec<u8>,
    },
    /// `TPMS_SESSION_AUDIT_INFO` (`TPM_ST_ATTEST_SESSION_AUDIT`).
    SessionAudit {
        /// Exclusive audit session.
        exclusive_session: bool,
        /// The session digest.
        session_digest: Vec<u8>,
    },
    /// `TPMS_NV_CERTIFY_INFO` (`TPM_ST_ATTEST_NV`).
    Nv {
        /// Name of the index.
        index_name: Vec<u8>,
        /// Offset of the certified contents.
        offset: u16,
        /// The contents.
        nv_contents: Vec<u8>,
    },
    /// `TPMS_NV_DIGEST_CERTIFY_INFO` (`TPM_ST_ATTEST_NV_DIGEST`).
    NvDigest {
        /// Name of the index.
        index_name: Vec<u8>,
        /// Digest of the contents.
        nv_digest: Vec<u8>,
    },
}

impl Attested {
    /// The `TPMI_ST_ATTEST` selector.
    pub fn tag(&self) -> StructTag {
        match self {
            Attested::Certify { .. } => st::ATTEST_CERTIFY,
            Attested::Quote { .. } => st::ATTEST_QUOTE,
            Attested::Creation { .. } => st::ATTEST_CREATION,
            Attested::Time { .. } => st::ATTEST_TIME,
            Attested::CommandAudit { .. } => st::ATTEST_COMMAND_AUDIT,
            Attested::SessionAudit { .. } => st::ATTEST_SESSION_AUDIT,
            Attested::Nv { .. } => st::ATTEST_NV,
            Attested::NvDigest { .. } => st::ATTEST_NV_DIGEST,
        }
    }

    fn read_for(r: &mut Reader<'_>, tag: StructTag) -> TpmResult<Self> {
        let name = |r: &mut Reader<'_>| r.read::<Name2b>().map(|n| n.0);
        let digest = |r: &mut Reader<'_>| r.read::<Digest2b>().map(|d| d.0);
        Ok(match tag {
            st::ATTEST_CERTIFY => Attested::Certify {
                name: name(r)?,
                qualified_name: name(r)?,
            },
            st::ATTEST_QUOTE => Attested::Quote {
                pcr_select: r.read()?,
                pcr_digest: digest(r)?,
            },
            st::ATTEST_CREATION => Attested::Creation {
                object_name: name(r)?,
                creation_hash: digest(r)?,
            },
            st::ATTEST_TIME => Attested::Time {
                time: r.read()?,
                firmware_version: r.u64()?,
            },
            st::ATTEST_COMMAND_AUDIT => Attested::CommandAudit {
                audit_counter: r.u64()?,
                digest_alg: r.read()?,
                audit_digest: digest(r)?,
                command_digest: digest(r)?,
            },
            st::ATTEST_SESSION_AUDIT => Attested::SessionAudit {
                exclusive_session: r.read::<YesNo>()?.0,
                session_digest: digest(r)?,
            },
            st::ATTEST_NV => Attested::Nv {
                index_name: name(r)?,
                offset: r.u16()?,
                nv_contents: r.tpm2b(sizes::MAX_NV_BUFFER)?.to_vec(),
            },
            st::ATTEST_NV_DIGEST => Attested::NvDigest {
                index_name: name(r)?,
                nv_digest: digest(r)?,
            },
            _ => return Err(Rc::VALUE),
        })
    }
}

impl Marshal for Attested {
    fn marshal(&self, w: &mut Writer) {
        match self {
            Attested::Certify {
                name,
                qualified_name,
            } => {
                w.tpm2b(name);
                w.tpm2b(qualified_name);
            }
            Attested::Quote {
                pcr_select,
                pcr_digest,
            } => {
                w.write(pcr_select);
                w.tpm2b(pcr_digest);
            }
            Attested::Creation {
                object_name,
                creation_hash,
            } => {
                w.tpm2b(object_name);
                w.tpm2b(creation_hash);
            }
            Attested::Time {
                time,
                firmware_version,
            } => {
                w.write(time);
                w.u64(*firmware_version);
            }
            Attested::CommandAudit {
                audit_counter,
                digest_alg,
                audit_digest,
                command_digest,
            } => {
                w.u64(*audit_counter);
                w.write(digest_alg);
                w.tpm2b(audit_digest);
                w.tpm2b(command_digest);
            }
            Attested::SessionAudit {
                exclusive_session,
                session_digest,
            } => {
                w.write(&YesNo(*exclusive_session));
                w.tpm2b(session_digest);
            }
            Attested::Nv {
                index_name,
                offset,
                nv_contents,
            } => {
                w.tpm2b(index_name);
                w.u16(*offset);
                w.tpm2b(nv_contents);
            }
            Attested::NvDigest {
                index_name,
                nv_digest,
            } => {
                w.tpm2b(index_name);
                w.tpm2b(nv_digest);
            }
        }
    }
}

/// `TPMS_ATTEST` (Part 2, 10.11.12). `magic` is always
/// `TPM_GENERATED_VALUE` and is not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attest {
    /// Qualified Name of the signing key (`TPM_RH_NULL` for no key).
    pub qualified_signer: Vec<u8>,
    /// The caller's qualifying data.
    pub extra_data: Vec<u8>,
    /// Clock information (possibly obfuscated).
    pub clock_info: ClockInfo,
    /// Firmware version (possibly obfuscated).
    pub firmware_version: u64,
    /// The type-specific part; its variant gives `type`.
    pub attested: Attested,
}

impl Marshal for Attest {
    fn marshal(&self, w: &mut Writer) {
        w.u32(TPM_GENERATED);
        w.write(&self.attested.tag());
        w.tpm2b(&self.qualified_signer);
        w.tpm2b(&self.extra_data);
        w.write(&self.clock_info);
        w.u64(self.firmware_version);
        w.write(&self.attested);
    }
}

impl Unmarshal for Attest {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        if r.u32()? != TPM_GENERATED {
            return Err(Rc::VALUE);
        }
        let tag: StructTag = r.read()?;
        let qualified_signer = r.read::<Name2b>()?.0;
        let extra_data = r.read::<Data2b>()?.0;
        let clock_info = r.read()?;
        let firmware_version = r.u64()?;
        let attested = Attested::read_for(r, tag)?;
        Ok(Attest {
            qualified_signer,
            extra_data,
            clock_info,
            firmware_version,
            attested,
        })
    }
}

/// `TPM2B_ATTEST`: a marshaled `TPMS_ATTEST` in a sized buffer (the bytes
/// that were signed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attest2b(pub Vec<u8>);

impl Marshal for Attest2b {
    fn marshal(&self, w: &mut Writer) {
        w.tpm2b(&self.0);
    }
}

impl Unmarshal for Attest2b {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        // sizeof(TPMS_ATTEST) is bounded by its largest member (NV
        // contents); 2 KiB is ample.
        Ok(Attest2b(r.tpm2b(2048)?.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sig_scheme_rejects_unimplemented_selectors_with_rc_scheme() {
        for a in [alg::SM2, alg::RSAES, alg::OAEP, alg::ECDH, alg::SHA256] {
            let b = a.0.to_be_bytes();
            assert_eq!(
                Reader::new(&[b[0], b[1], 0, 0x0B]).read::<SigScheme>(),
                Err(Rc::SCHEME),
                "{a:?}"
            );
        }
        assert_eq!(
            Reader::new(&[0, 0x10]).read::<SigScheme>(),
            Ok(SigScheme(Scheme::Null))
        );
        // ECDAA is a signing scheme (with its commit count) but never a
        // signature the TPM accepts.
        assert_eq!(
            Reader::new(&[0, 0x1A, 0, 0x0B, 0, 7]).read::<SigScheme>(),
            Ok(SigScheme(Scheme::Ecdaa {
                hash: HashAlg::Sha256,
                count: 7
            }))
        );
        assert_eq!(
            Reader::new(&[0, 0x1A, 0, 0x0B, 0, 0, 0, 0]).read::<Signature>(),
            Err(Rc::SCHEME)
        );
        // A NULL hash inside a scheme is TPM_RC_HASH.
        assert_eq!(
            Reader::new(&[0, 0x18, 0, 0x10]).read::<SigScheme>(),
            Err(Rc::HASH)
        );
    }

    #[test]
    fn signature_round_trips() {
        let sigs = [
            Signature::Null,
            Signature::Rsassa {
                hash: HashAlg::Sha256,
                sig: alloc::vec![7; 256],
            },
            Signature::Ecschnorr {
                hash: HashAlg::Sha384,
                r: alloc::vec![1; 48],
                s: alloc::vec![2; 48],
            },
            Signature::Hmac(Ha {
                alg: HashAlg::Sha1,
                digest: alloc::vec![3; 20],
            }),
        ];
        for s in sigs {
            let b = s.to_bytes();
            let mut r = Reader::new(&b);
            assert_eq!(r.read::<Signature>(), Ok(s));
            assert!(r.is_empty());
        }
    }

    #[test]
    fn tickets_check_tag_and_hierarchy() {
        let mut w = Writer::new();
        w.write(&st::CREATION);
        w.write(&rh::OWNER);
        w.tpm2b(&[1, 2]);
        let b = w.into_vec();
        assert_eq!(
            Reader::new(&b).read::<HashcheckTicket>().map(|_| ()),
            Err(Rc::TAG)
        );
        assert!(Reader::new(&b).read::<CreationTicket>().is_ok());
        let mut bad = b.clone();
        bad[2..6].copy_from_slice(&0x4000_000Au32.to_be_bytes());
        assert_eq!(
            Reader::new(&bad).read::<CreationTicket>().map(|_| ()),
            Err(Rc::VALUE)
        );
    }

    #[test]
    fn attest_round_trips() {
        let a = Attest {
            qualified_signer: alloc::vec![0, 0x0B, 9, 9],
            extra_data: alloc::vec![1, 2, 3],
            clock_info: ClockInfo {
                clock: 5,
                reset_count: 6,
                restart_count: 7,
                safe: true,
            },
            firmware_version: 0x0001_0002_0003_0004,
            attested: Attested::Time {
                time: TimeInfo {
                    time: 11,
                    clock_info: ClockInfo::default(),
                },
                firmware_version: 12,
            },
        };
        let b = a.to_bytes();
        assert_eq!(b[..6], [0xFF, 0x54, 0x43, 0x47, 0x80, 0x19]);
        let mut r = Reader::new(&b);
        assert_eq!(r.read::<Attest>(), Ok(a));
        assert!(r.is_empty());
    }
}
