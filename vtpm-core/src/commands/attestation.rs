//! Part 3, 18: Attestation Commands (`TPM2_Certify`,
//! `TPM2_CertifyCreation`, `TPM2_Quote`, `TPM2_GetTime`,
//! `TPM2_CertifyX509`).
//!
//! Every command but `TPM2_CertifyX509` builds a `TPMS_ATTEST`
//! ([`fill_attest`]) and signs its marshaled form with the scheme chosen by
//! [`super::signature::select_sign_scheme`]; with `TPM_RH_NULL` as the
//! signing key the structure is returned with the NULL Signature.
//! `TPM2_CertifyX509` signs a DER X.509 TBSCertificate instead
//! ([`CertifyX509`], [`x509`]).
//!
//! # Privacy (Part 3, 18.1)
//!
//! When the signing key is not in the endorsement or platform hierarchy
//! (owner or null hierarchy, or no key at all), `resetCount`,
//! `restartCount` and `firmwareVersion` are obfuscated with
//! `KDFa(nameAlg, shProof, "OBFUSCATE", QN(signer), "", 128)` (the context
//! integrity hash for `TPM_RH_NULL`, whose QN is the handle): the first 64
//! bits are added to `firmwareVersion`, the next 32 to `resetCount` and the
//! last 32 to `restartCount`, each as a big-endian number, wrapping.

use alloc::vec::Vec;

use super::signature::{is_signing_object, select_sign_scheme, sign_digest, CONTEXT_HASH};
use super::Command;
use crate::crypto::kdf::kdfa;
use crate::crypto::secret::ct_eq;
use crate::engine::Ctx;
use crate::object::Object;
use crate::state::Orderly;
use crate::tpm_params;
use crate::wire::consts::rh;
use crate::wire::public::Scheme;
use crate::wire::signature::{Attest, Attest2b, Attested, CreationTicket, SigScheme, Signature};
use crate::wire::types::{
    ClockInfo, Data2b, Digest2b, MaxBuffer2b, PcrSelection, PcrSelectionList,
};
use crate::wire::{Handle, Marshal, Rc, TpmResult};

/// `TPM_PT_FIRMWARE_VERSION_1 << 32 | TPM_PT_FIRMWARE_VERSION_2`.
pub fn firmware_version() -> u64 {
    let (v1, v2) = super::capability::firmware_version();
    u64::from(v1) << 32 | u64::from(v2)
}

/// The obfuscation of Part 3, 18.1 for a signer (`None`: `TPM_RH_NULL`),
/// or `None` when the signer is in the endorsement or platform hierarchy.
fn obfuscation(ctx: &Ctx<'_>, signer: Option<&Object>, qn: &[u8]) -> Option<[u8; 16]> {
    if signer.is_some_and(|o| matches!(o.hierarchy, rh::ENDORSEMENT | rh::PLATFORM)) {
        return None;
    }
    let alg = signer
        .and_then(|o| o.public.name_alg)
        .unwrap_or(CONTEXT_HASH);
    let bytes = kdfa(alg, &ctx.p.sh_proof, b"OBFUSCATE", qn, &[], 128).ok()?;
    bytes.as_slice().try_into().ok()
}

/// Build a `TPMS_ATTEST` for `signer` (`None`: `TPM_RH_NULL`) around the
/// command-specific part, with the clock read once by the caller
/// (`clock_info`, obfuscated here when the privacy rule asks for it).
pub fn fill_attest(
    ctx: &Ctx<'_>,
    signer: Option<&Object>,
    extra_data: &[u8],
    attested: Attested,
    clock_info: ClockInfo,
) -> Attest {
    let qualified_signer = match signer {
        Some(o) => o.qualified_name.clone(),
        None => rh::NULL.0.to_be_bytes().to_vec(),
    };
    let mut clock_info = clock_info;
    let mut firmware = firmware_version();
    if let Some(o) = obfuscation(ctx, signer, &qualified_signer) {
        let (fw, rest) = o.split_at(8);
        let (reset, restart) = rest.split_at(4);
        let be64 = |b: &[u8]| b.try_into().map(u64::from_be_bytes).unwrap_or(0);
        let be32 = |b: &[u8]| b.try_into().map(u32::from_be_bytes).unwrap_or(0);
        firmware = firmware.wrapping_add(be64(fw));
        clock_info.reset_count = clock_info.reset_count.wrapping_add(be32(reset));
        clock_info.restart_count = clock_info.restart_count.wrapping_add(be32(restart));
    }
    Attest {
        qualified_signer,
        extra_data: extra_data.to_vec(),
        clock_info,
        firmware_version: firmware,
        attested,
    }
}

/// The signing key of an attestation command (`None` for `TPM_RH_NULL`)
/// and its scheme (also for TPM2_NV_Certify and the audit commands).
/// `hpos` is the handle number of `signHandle` (`TPM_RC_KEY` there for a
/// key that cannot sign), `spos` the parameter number of `inScheme`
/// (`TPM_RC_SCHEME`).
pub fn signer_and_scheme(
    ctx: &Ctx<'_>,
    sign_handle: Handle,
    hpos: u32,
    in_scheme: Scheme,
    spos: u32,
) -> TpmResult<(Option<Object>, Scheme)> {
    let signer = if sign_handle == rh::NULL {
        None
    } else {
        Some(
            ctx.object(sign_handle)
                .ok_or(Rc::HANDLE.handle(hpos))?
                .clone(),
        )
    };
    let public = signer.as_ref().map(|o| &o.public);
    if !is_signing_object(public) {
        return Err(Rc::KEY.handle(hpos));
    }
    let scheme = select_sign_scheme(public, in_scheme).map_err(|e| e.param(spos))?;
    Ok((signer, scheme))
}

tpm_params! {
    /// The response of every attestation command.
    pub struct AttestOut {
        /// `TPM2B_ATTEST`: the signed structure.
        pub attest: Attest2b,
        /// The signature over it (NULL for `TPM_RH_NULL`).
        pub signature: Signature,
    }
}

/// Marshal and sign (the reference's `SignAttestInfo`). A signed
/// attestation reveals the clock, so, as the reference does, an orderly
/// state left by `TPM2_Shutdown` is cleared (and committed).
pub fn sign_attest(
    ctx: &mut Ctx<'_>,
    signer: Option<&Object>,
    scheme: Scheme,
    attest: &Attest,
) -> TpmResult<AttestOut> {
    let bytes = attest.to_bytes();
    let signature = match signer {
        None => Signature::Null,
        Some(key) => {
            let hash = scheme.hash().ok_or(Rc::SCHEME)?;
            let digest = hash.digest(&bytes);
            let sig = sign_digest(key, scheme, &digest, &mut ctx.v.drbg)?;
            if ctx.p.orderly.is_orderly() {
                ctx.p.orderly = Orderly::None;
                ctx.mark_dirty();
            }
            sig
        }
    };
    Ok(AttestOut {
        attest: Attest2b(bytes),
        signature,
    })
}

tpm_params! {
    /// `TPM2_Certify` parameters.
    pub struct CertifyIn {
        /// `qualifyingData` (goes to `extraData`).
        pub qualifying_data: Data2b,
        /// `inScheme`.
        pub in_scheme: SigScheme,
    }
}

/// `TPM2_Certify` (Part 3, 18.2): handles `objectHandle` (ADMIN) and
/// `signHandle` (USER, may be `TPM_RH_NULL`). An object loaded without
/// its sensitive area cannot be certified (`TPM_RC_AUTH_UNAVAILABLE`, what
/// the reference answers when authorizing it).
#[derive(Debug)]
#[doc(alias = "TPM2_Certify")]
pub struct Certify;

impl Command for Certify {
    type In = CertifyIn;
    type Out = AttestOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: CertifyIn) -> TpmResult<AttestOut> {
        let (Some(&oh), Some(&sh)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let (signer, scheme) = signer_and_scheme(ctx, sh, 2, input.in_scheme.0, 2)?;
        let obj = ctx.object(oh).ok_or(Rc::HANDLE.handle(1))?;
        if obj.sensitive.is_none() {
            return Err(Rc::AUTH_UNAVAILABLE);
        }
        let attested = Attested::Certify {
            name: obj.name.clone(),
            qualified_name: obj.qualified_name.clone(),
        };
        let clock_info = ctx.clock_info();
        let attest = fill_attest(
            ctx,
            signer.as_ref(),
            input.qualifying_data.as_slice(),
            attested,
            clock_info,
        );
        sign_attest(ctx, signer.as_ref(), scheme, &attest)
    }
}

tpm_params! {
    /// `TPM2_CertifyCreation` parameters.
    pub struct CertifyCreationIn {
        /// `qualifyingData`.
        pub qualifying_data: Data2b,
        /// `creationHash` from Create/CreatePrimary.
        pub creation_hash: Digest2b,
        /// `inScheme`.
        pub in_scheme: SigScheme,
        /// `creationTicket` from Create/CreatePrimary.
        pub creation_ticket: CreationTicket,
    }
}

/// `TPM2_CertifyCreation` (Part 3, 18.3): handles `signHandle` (USER, may
/// be `TPM_RH_NULL`) and `objectHandle`. The ticket must be the
/// `TPMT_TK_CREATION` the TPM made for this object's Name and
/// `creationHash` (recomputed with the ticket's hierarchy; a NULL ticket
/// never matches): `TPM_RC_TICKET` on parameter 4 otherwise.
#[derive(Debug)]
#[doc(alias = "TPM2_CertifyCreation")]
pub struct CertifyCreation;

impl Command for CertifyCreation {
    type In = CertifyCreationIn;
    type Out = AttestOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: CertifyCreationIn,
    ) -> TpmResult<AttestOut> {
        let (Some(&sh), Some(&oh)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let (signer, scheme) = signer_and_scheme(ctx, sh, 1, input.in_scheme.0, 3)?;
        let obj = ctx.object(oh).ok_or(Rc::HANDLE.handle(2))?;
        let ticket = &input.creation_ticket.0;
        let creation_hash = input.creation_hash.as_slice();
        if obj.public.name_alg.is_none() {
            return Err(Rc::TICKET.param(4));
        }
        let expected =
            super::object::creation_ticket(ctx, ticket.hierarchy, &obj.name, creation_hash);
        if ticket.digest.is_empty()
            || expected.digest.is_empty()
            || !ct_eq(expected.digest.as_slice(), ticket.digest.as_slice())
        {
            return Err(Rc::TICKET.param(4));
        }
        let attested = Attested::Creation {
            object_name: obj.name.clone(),
            creation_hash: creation_hash.to_vec(),
        };
        let clock_info = ctx.clock_info();
        let attest = fill_attest(
            ctx,
            signer.as_ref(),
            input.qualifying_data.as_slice(),
            attested,
            clock_info,
        );
        sign_attest(ctx, signer.as_ref(), scheme, &attest)
    }
}

tpm_params! {
    /// `TPM2_Quote` parameters.
    pub struct QuoteIn {
        /// `qualifyingData`.
        pub qualifying_data: Data2b,
        /// `inScheme`.
        pub in_scheme: SigScheme,
        /// `PCRselect`.
        pub pcr_select: PcrSelectionList,
    }
}

/// `TPM2_Quote` (Part 3, 18.4). The PCR digest is the scheme's hash over
/// the selected PCR values (each selection in order, PCRs in ascending
/// order); selections of banks that are not active are kept with no PCR
/// selected. A NULL scheme (including `signHandle` = `TPM_RH_NULL`) has
/// no hash: `TPM_RC_SCHEME` on parameter 2.
#[derive(Debug)]
#[doc(alias = "TPM2_Quote")]
pub struct Quote;

impl Command for Quote {
    type In = QuoteIn;
    type Out = AttestOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: QuoteIn) -> TpmResult<AttestOut> {
        let sh = handles.first().copied().ok_or(Rc::FAILURE)?;
        let (signer, scheme) = signer_and_scheme(ctx, sh, 1, input.in_scheme.0, 2)?;
        let hash = scheme.hash().ok_or(Rc::SCHEME.param(2))?;
        let selection: Vec<PcrSelection> = input
            .pcr_select
            .0
            .iter()
            .map(|s| {
                let mut s = *s;
                if ctx.v.pcrs.bank(s.hash).is_none() {
                    s.select = Default::default();
                }
                s
            })
            .collect();
        let mut h = hash.start();
        for s in &selection {
            for i in 0..crate::wire::consts::sizes::PCR_COUNT {
                if s.select.has(i) {
                    if let Some(v) = ctx.v.pcrs.get(s.hash, i) {
                        h.update(v);
                    }
                }
            }
        }
        let attested = Attested::Quote {
            pcr_select: PcrSelectionList(selection),
            pcr_digest: h.finish(),
        };
        let clock_info = ctx.clock_info();
        let attest = fill_attest(
            ctx,
            signer.as_ref(),
            input.qualifying_data.as_slice(),
            attested,
            clock_info,
        );
        sign_attest(ctx, signer.as_ref(), scheme, &attest)
    }
}

tpm_params! {
    /// `TPM2_GetTime` parameters.
    pub struct GetTimeIn {
        /// `qualifyingData`.
        pub qualifying_data: Data2b,
        /// `inScheme`.
        pub in_scheme: SigScheme,
    }
}

/// `TPM2_GetTime` (Part 3, 18.7): handles `privacyAdminHandle`
/// (`TPM_RH_ENDORSEMENT`, USER) and `signHandle` (USER, may be
/// `TPM_RH_NULL`). The `TPMS_TIME_ATTEST_INFO` part carries the clock and
/// firmware version in the clear; the outer ones follow the privacy rule.
#[derive(Debug)]
#[doc(alias = "TPM2_GetTime")]
pub struct GetTime;

impl Command for GetTime {
    type In = GetTimeIn;
    type Out = AttestOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: GetTimeIn) -> TpmResult<AttestOut> {
        let sh = handles.get(1).copied().ok_or(Rc::FAILURE)?;
        let (signer, scheme) = signer_and_scheme(ctx, sh, 2, input.in_scheme.0, 2)?;
        let time = ctx.time_info();
        let clock_info = time.clock_info;
        let attested = Attested::Time {
            time,
            firmware_version: firmware_version(),
        };
        let attest = fill_attest(
            ctx,
            signer.as_ref(),
            input.qualifying_data.as_slice(),
            attested,
            clock_info,
        );
        sign_attest(ctx, signer.as_ref(), scheme, &attest)
    }
}

tpm_params! {
    /// `TPM2_CertifyX509` parameters.
    pub struct CertifyX509In {
        /// `reserved`: shall be the Empty Buffer.
        pub reserved: Data2b,
        /// `inScheme`.
        pub in_scheme: SigScheme,
        /// `partialCertificate`: DER, `SEQUENCE { [signature]
        /// AlgorithmIdentifier, issuer, validity, subject, [3] extensions }`.
        pub partial_certificate: MaxBuffer2b,
    }
}

tpm_params! {
    /// `TPM2_CertifyX509` response.
    pub struct CertifyX509Out {
        /// `addedToCertificate`: `SEQUENCE { version, serialNumber,
        /// [signature], subjectPublicKeyInfo }`.
        pub added_to_certificate: MaxBuffer2b,
        /// `tbsDigest`: the digest that was signed.
        pub tbs_digest: Digest2b,
        /// `signature`.
        pub signature: Signature,
    }
}

/// The X.509 pieces of `TPM2_CertifyX509`: object identifiers, the
/// TPM-made fields, and the checks of the Key Usage and TPMA_OBJECT
/// extensions (Part 2, 8.11 Table 45).
pub mod x509 {
    use alloc::vec::Vec;

    use crate::crypto::HashAlg;
    use crate::wire::consts::curve;
    use crate::wire::der::{self, tag, DerReader};
    use crate::wire::object::Public;
    use crate::wire::object::{oa, Unique};
    use crate::wire::public::{PublicParms, Scheme};

    /// `id-ce-keyUsage` (RFC 5280, 4.2.1.3).
    pub const KEY_USAGE: &[u32] = &[2, 5, 29, 15];
    /// `tcg-tpmaObject` (Part 3, 18.8.1).
    pub const TCG_TPMA_OBJECT: &[u32] = &[2, 23, 133, 10, 1, 1, 1];
    /// `rsaEncryption` (RFC 8017, A.1).
    const RSA_ENCRYPTION: &[u32] = &[1, 2, 840, 113_549, 1, 1, 1];
    /// `id-ecPublicKey` (RFC 5480, 2.1.1).
    const EC_PUBLIC_KEY: &[u32] = &[1, 2, 840, 10045, 2, 1];
    /// `id-RSASSA-PSS` and `id-mgf1` (RFC 8017, A.2.3).
    const RSASSA_PSS: &[u32] = &[1, 2, 840, 113_549, 1, 1, 10];
    const MGF1: &[u32] = &[1, 2, 840, 113_549, 1, 1, 8];

    /// `TPMA_X509_KEY_USAGE` bits (Part 2, Table 45).
    pub mod ku {
        /// decipherOnly.
        pub const DECIPHER_ONLY: u32 = 1 << 23;
        /// encipherOnly.
        pub const ENCIPHER_ONLY: u32 = 1 << 24;
        /// cRLSign.
        pub const CRL_SIGN: u32 = 1 << 25;
        /// keyCertSign.
        pub const KEY_CERT_SIGN: u32 = 1 << 26;
        /// keyAgreement.
        pub const KEY_AGREEMENT: u32 = 1 << 27;
        /// dataEncipherment.
        pub const DATA_ENCIPHERMENT: u32 = 1 << 28;
        /// keyEncipherment.
        pub const KEY_ENCIPHERMENT: u32 = 1 << 29;
        /// nonRepudiation / contentCommitment.
        pub const NON_REPUDIATION: u32 = 1 << 30;
        /// digitalSignature.
        pub const DIGITAL_SIGNATURE: u32 = 1 << 31;
        /// Bits 22:0, reserved (RFC 5280 names only nine bits).
        pub const RESERVED: u32 = 0x007F_FFFF;
    }

    fn hash_oid(h: HashAlg) -> &'static [u32] {
        match h {
            HashAlg::Sha1 => &[1, 3, 14, 3, 2, 26],
            HashAlg::Sha256 => &[2, 16, 840, 1, 101, 3, 4, 2, 1],
            HashAlg::Sha384 => &[2, 16, 840, 1, 101, 3, 4, 2, 2],
            HashAlg::Sha512 => &[2, 16, 840, 1, 101, 3, 4, 2, 3],
        }
    }

    /// The salt length of this TPM's RSASSA-PSS signatures with a key of
    /// `key_bits` (`crate::crypto::rsa`: the digest size, less when the
    /// key is too small to hold it).
    fn pss_salt_len(h: HashAlg, key_bits: u16) -> usize {
        let h_len = h.digest_size();
        let em_len = usize::from(key_bits).saturating_sub(1).div_ceil(8);
        h_len.min(em_len.saturating_sub(h_len).saturating_sub(2))
    }

    /// The `AlgorithmIdentifier` of a signing scheme used by `signer` (RFC
    /// 4055, RFC 5758), `None` for a scheme without one (EC-Schnorr,
    /// ECDAA, HMAC).
    pub fn signature_algorithm(scheme: Scheme, signer: &Public) -> Option<Vec<u8>> {
        let null = der::tlv(tag::NULL, &[]);
        match scheme {
            Scheme::Rsassa(h) => {
                let arcs: &[u32] = match h {
                    HashAlg::Sha1 => &[1, 2, 840, 113_549, 1, 1, 5],
                    HashAlg::Sha256 => &[1, 2, 840, 113_549, 1, 1, 11],
                    HashAlg::Sha384 => &[1, 2, 840, 113_549, 1, 1, 12],
                    HashAlg::Sha512 => &[1, 2, 840, 113_549, 1, 1, 13],
                };
                Some(der::sequence(&[&der::oid(arcs), &null]))
            }
            Scheme::Ecdsa(h) => {
                let arcs: &[u32] = match h {
                    HashAlg::Sha1 => &[1, 2, 840, 10045, 4, 1],
                    HashAlg::Sha256 => &[1, 2, 840, 10045, 4, 3, 2],
                    HashAlg::Sha384 => &[1, 2, 840, 10045, 4, 3, 3],
                    HashAlg::Sha512 => &[1, 2, 840, 10045, 4, 3, 4],
                };
                Some(der::sequence(&[&der::oid(arcs)]))
            }
            Scheme::Rsapss(h) => {
                let PublicParms::Rsa { key_bits, .. } = signer.parms else {
                    return None;
                };
                // RSASSA-PSS-params (RFC 4055, 3.1): the hash, MGF1 with
                // the same hash and the salt length; DER leaves out the
                // DEFAULT values (SHA-1, MGF1-SHA-1, 20, trailerField 1).
                let hash_id = der::sequence(&[&der::oid(hash_oid(h)), &null]);
                let mgf = der::sequence(&[&der::oid(MGF1), &hash_id]);
                let salt = pss_salt_len(h, key_bits);
                let salt_be = u32::try_from(salt).unwrap_or(0).to_be_bytes();
                let mut params: Vec<Vec<u8>> = Vec::new();
                if h != HashAlg::Sha1 {
                    params.push(der::tlv(tag::CONTEXT_0, &hash_id));
                    params.push(der::tlv(tag::CONTEXT_1, &mgf));
                }
                if salt != 20 {
                    params.push(der::tlv(tag::CONTEXT_2, &der::unsigned_integer(&salt_be)));
                }
                let refs: Vec<&[u8]> = params.iter().map(Vec::as_slice).collect();
                Some(der::sequence(&[
                    &der::oid(RSASSA_PSS),
                    &der::sequence(&refs),
                ]))
            }
            _ => None,
        }
    }

    /// The `SubjectPublicKeyInfo` of an RSA key (RFC 8017, A.1.1) or an
    /// ECC key on a NIST curve (RFC 5480, uncompressed point); `None` for
    /// any other object.
    pub fn subject_public_key_info(public: &Public) -> Option<Vec<u8>> {
        match (&public.parms, &public.unique) {
            (PublicParms::Rsa { exponent, .. }, Unique::Rsa(n)) => {
                let e = if *exponent == 0 { 65_537 } else { *exponent };
                let key = der::sequence(&[
                    &der::unsigned_integer(n),
                    &der::unsigned_integer(&e.to_be_bytes()),
                ]);
                let alg = der::sequence(&[&der::oid(RSA_ENCRYPTION), &der::tlv(tag::NULL, &[])]);
                let bits = [&[0u8][..], &key].concat();
                Some(der::sequence(&[&alg, &der::tlv(tag::BIT_STRING, &bits)]))
            }
            (PublicParms::Ecc { curve: c, .. }, Unique::Ecc { x, y }) => {
                let (arcs, size): (&[u32], usize) = match *c {
                    curve::NIST_P256 => (&[1, 2, 840, 10045, 3, 1, 7], 32),
                    curve::NIST_P384 => (&[1, 3, 132, 0, 34], 48),
                    curve::NIST_P521 => (&[1, 3, 132, 0, 35], 66),
                    _ => return None,
                };
                if x.len() > size || y.len() > size {
                    return None;
                }
                let mut point = Vec::with_capacity(size.saturating_mul(2).saturating_add(2));
                point.extend_from_slice(&[0x00, 0x04]);
                for coord in [x, y] {
                    point.resize(
                        point.len().saturating_add(size.saturating_sub(coord.len())),
                        0,
                    );
                    point.extend_from_slice(coord);
                }
                let alg = der::sequence(&[&der::oid(EC_PUBLIC_KEY), &der::oid(arcs)]);
                Some(der::sequence(&[&alg, &der::tlv(tag::BIT_STRING, &point)]))
            }
            _ => None,
        }
    }

    /// Why the extensions were refused.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum ExtensionError {
        /// Malformed, or no Key Usage extension: `TPM_RC_VALUE` on
        /// `partialCertificate`.
        Format,
        /// The object's attributes do not allow what the extensions say:
        /// `TPM_RC_ATTRIBUTES` on `objectHandle`.
        Attributes,
    }

    /// Check the `[3] Extensions` element against the object (Part 3,
    /// 18.8.1): a Key Usage extension is required and every usage it
    /// names must be allowed by the object's attributes (Part 2, Table
    /// 45); a TPMA_OBJECT extension, if present, must equal the object's
    /// attributes. No extension may appear twice (RFC 5280, 4.2).
    pub fn check_extensions(extensions: &[u8], public: &Public) -> Result<(), ExtensionError> {
        use ExtensionError::{Attributes, Format};
        let key_usage_oid = der::oid(KEY_USAGE);
        let tpma_oid = der::oid(TCG_TPMA_OBJECT);
        let mut outer = DerReader::new(extensions);
        let list = outer.expect(tag::SEQUENCE).map_err(|_| Format)?;
        if !outer.is_empty() {
            return Err(Format);
        }
        let mut seen: Vec<&[u8]> = Vec::new();
        let mut key_usage = None;
        let mut tpma = None;
        let mut r = DerReader::new(list.value);
        while !r.is_empty() {
            // Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT
            // FALSE, extnValue OCTET STRING }
            let ext = r.expect(tag::SEQUENCE).map_err(|_| Format)?;
            let mut e = DerReader::new(ext.value);
            let id = e.expect(tag::OID).map_err(|_| Format)?;
            if e.peek_tag() == Some(tag::BOOLEAN) {
                let critical = e.expect(tag::BOOLEAN).map_err(|_| Format)?;
                // DER: a DEFAULT value is never encoded.
                if critical.value != [0xFF] {
                    return Err(Format);
                }
            }
            let value = e.expect(tag::OCTET_STRING).map_err(|_| Format)?;
            if !e.is_empty() || seen.contains(&id.raw) {
                return Err(Format);
            }
            seen.push(id.raw);
            let bits = || -> Result<u32, ExtensionError> {
                let mut v = DerReader::new(value.value);
                let b = v.expect(tag::BIT_STRING).map_err(|_| Format)?;
                if !v.is_empty() {
                    return Err(Format);
                }
                der::bit_string_u32(b.value).map_err(|_| Format)
            };
            if id.raw == key_usage_oid.as_slice() {
                key_usage = Some(bits()?);
            } else if id.raw == tpma_oid.as_slice() {
                tpma = Some(bits()?);
            }
        }
        if tpma.is_some_and(|t| t != public.attributes) {
            return Err(Attributes);
        }
        let usage = key_usage.ok_or(Format)?;
        if usage & ku::RESERVED != 0 {
            return Err(Format);
        }
        let asymmetric = !matches!(
            public.parms,
            PublicParms::KeyedHash { .. } | PublicParms::SymCipher { .. }
        );
        let needs = [
            (
                ku::DIGITAL_SIGNATURE | ku::KEY_CERT_SIGN | ku::CRL_SIGN,
                public.has(oa::SIGN_ENCRYPT),
            ),
            (
                ku::DATA_ENCIPHERMENT | ku::KEY_AGREEMENT | ku::ENCIPHER_ONLY | ku::DECIPHER_ONLY,
                public.has(oa::DECRYPT),
            ),
            (
                ku::KEY_ENCIPHERMENT,
                asymmetric && public.has(oa::DECRYPT | oa::RESTRICTED),
            ),
            (ku::NON_REPUDIATION, public.has(oa::FIXED_TPM)),
        ];
        if needs.iter().any(|(bits, ok)| usage & bits != 0 && !ok) {
            return Err(Attributes);
        }
        Ok(())
    }
}

/// `TPM2_CertifyX509` (Part 3, 18.8; deprecated in v184 but still in
/// Part 3): handles `objectHandle` (ADMIN) and `signHandle` (USER).
///
/// `partialCertificate` must be one DER SEQUENCE filling the buffer
/// (`TPM_RC_SIZE` otherwise), well formed throughout
/// ([`crate::wire::der`]), holding three or four SEQUENCEs (the optional
/// signature AlgorithmIdentifier, issuer, validity, subject) and then the
/// `[3]` extensions: anything else is `TPM_RC_VALUE` on
/// `partialCertificate`, as is a missing Key Usage extension; usages or a
/// TPMA_OBJECT extension the object does not match are `TPM_RC_ATTRIBUTES`
/// on `objectHandle` ([`x509::check_extensions`]). The contents of
/// issuer, validity and subject are not interpreted.
///
/// The TPM adds the version (v3), a serial number, the signature
/// AlgorithmIdentifier when the caller gave none (RSASSA, RSAPSS or ECDSA;
/// other schemes `TPM_RC_SCHEME` on `signHandle`) and the
/// subjectPublicKeyInfo of the object (RSA, or ECC on a NIST curve; other
/// objects `TPM_RC_ASYMMETRIC` on `objectHandle`); they are returned, in
/// TBSCertificate order, in `addedToCertificate`. The serial number is the
/// first 20 octets of `H_nameAlg(signer)` over every other TBSCertificate
/// field and the Names of both keys, so it differs for any two
/// certificates that differ. `tbsDigest` is the scheme's hash of the whole
/// DER TBSCertificate, and `signature` signs it.
#[derive(Debug)]
#[doc(alias = "TPM2_CertifyX509")]
pub struct CertifyX509;

/// Octets of a serial number (RFC 5280, 4.1.2.2: at most 20).
const X509_SERIAL_SIZE: usize = 20;

impl Command for CertifyX509 {
    type In = CertifyX509In;
    type Out = CertifyX509Out;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: CertifyX509In,
    ) -> TpmResult<CertifyX509Out> {
        use crate::wire::der::{self, tag, DerReader};
        let (Some(&oh), Some(&sh)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        if !input.reserved.as_slice().is_empty() {
            return Err(Rc::SIZE.param(1));
        }
        let (signer, scheme) = signer_and_scheme(ctx, sh, 2, input.in_scheme.0, 2)?;
        let signer = signer.ok_or(Rc::KEY.handle(2))?;
        let hash = scheme.hash().ok_or(Rc::SCHEME.param(2))?;
        let obj = ctx.object(oh).ok_or(Rc::HANDLE.handle(1))?;
        if obj.sensitive.is_none() {
            return Err(Rc::AUTH_UNAVAILABLE);
        }
        let spki = x509::subject_public_key_info(&obj.public).ok_or(Rc::ASYMMETRIC.handle(1))?;
        // partialCertificate: one SEQUENCE, the whole buffer.
        let partial = input.partial_certificate.as_slice();
        let bad = Rc::VALUE.param(3);
        let mut outer = DerReader::new(partial);
        let top = outer
            .next_tlv()
            .ok()
            .filter(|t| t.tag == tag::SEQUENCE && outer.is_empty())
            .ok_or(Rc::SIZE.param(3))?;
        der::check_well_formed(partial).map_err(|_| bad)?;
        let mut fields: Vec<&[u8]> = Vec::with_capacity(4);
        let mut extensions = None;
        let mut r = DerReader::new(top.value);
        while !r.is_empty() {
            let t = r.next_tlv().map_err(|_| bad)?;
            match t.tag {
                tag::SEQUENCE if extensions.is_none() && fields.len() < 4 => fields.push(t.raw),
                tag::CONTEXT_3 if extensions.is_none() => extensions = Some(t),
                _ => return Err(bad),
            }
        }
        let extensions = extensions.ok_or(bad)?;
        let (given_alg, issuer_validity_subject) = match fields.as_slice() {
            [alg, rest @ ..] if rest.len() == 3 => (Some(*alg), rest),
            rest if rest.len() == 3 => (None, rest),
            _ => return Err(bad),
        };
        let added_alg = match given_alg {
            Some(_) => None,
            None => Some(
                x509::signature_algorithm(scheme, &signer.public).ok_or(Rc::SCHEME.handle(2))?,
            ),
        };
        match x509::check_extensions(extensions.value, &obj.public) {
            Ok(()) => {}
            Err(x509::ExtensionError::Attributes) => return Err(Rc::ATTRIBUTES.handle(1)),
            Err(x509::ExtensionError::Format) => return Err(bad),
        }
        let signature_alg: &[u8] = match (&added_alg, given_alg) {
            (Some(a), _) => a,
            (None, Some(a)) => a,
            (None, None) => return Err(Rc::FAILURE),
        };
        // serialNumber: a digest of everything else in the certificate.
        let serial_hash = signer.public.name_alg.unwrap_or(hash);
        let mut h = serial_hash.start();
        h.update(signature_alg);
        for f in issuer_validity_subject {
            h.update(f);
        }
        h.update(&spki);
        h.update(extensions.raw);
        h.update(&signer.name);
        h.update(&obj.name);
        let serial_digest = h.finish();
        let serial = der::unsigned_integer(
            serial_digest
                .get(..X509_SERIAL_SIZE.min(serial_digest.len()))
                .unwrap_or(&serial_digest),
        );
        // version [0] EXPLICIT INTEGER 2 (v3).
        let version = der::tlv(tag::CONTEXT_0, &der::unsigned_integer(&[2]));
        let mut tbs_fields: Vec<&[u8]> = alloc::vec![&version, &serial, signature_alg];
        tbs_fields.extend_from_slice(issuer_validity_subject);
        tbs_fields.push(&spki);
        tbs_fields.push(extensions.raw);
        let tbs = der::sequence(&tbs_fields);
        let mut added_fields: Vec<&[u8]> = alloc::vec![&version, &serial];
        if let Some(a) = &added_alg {
            added_fields.push(a);
        }
        added_fields.push(&spki);
        let added = der::sequence(&added_fields);
        if added.len() > crate::wire::consts::sizes::MAX_DIGEST_BUFFER {
            return Err(Rc::SIZE.param(3));
        }
        let tbs_digest = hash.digest(&tbs);
        let signature = sign_digest(&signer, scheme, &tbs_digest, &mut ctx.v.drbg)?;
        Ok(CertifyX509Out {
            added_to_certificate: crate::wire::types::Tpm2b(added),
            tbs_digest: crate::wire::types::Tpm2b(tbs_digest),
            signature,
        })
    }
}
