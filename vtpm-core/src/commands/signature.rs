//! Part 3, 20: Signing and Signature Verification (`TPM2_Sign`,
//! `TPM2_VerifySignature`), and the signing machinery the attestation
//! commands share: scheme selection, signing with a loaded key, signature
//! verification and the tickets that vouch for digests.
//!
//! # Scheme selection (Part 3, 18.1 and 20.5)
//!
//! [`select_sign_scheme`] decides the scheme from the key's own scheme and
//! the caller's `inScheme`:
//!
//! * key scheme not NULL: `inScheme` must be NULL or exactly the key's
//!   scheme (selector and hash); the key's scheme is used;
//! * key scheme NULL: `inScheme` must not be NULL and is used;
//! * the selector and hash of a non-NULL `inScheme` are compared with the
//!   key's (as the reference does); the chosen scheme is `inScheme`, so an
//!   ECDAA `count` comes from the caller;
//! * the chosen scheme must fit the key's **type** (RSASSA/RSAPSS for RSA,
//!   ECDSA/ECSCHNORR/ECDAA for ECC, HMAC for KEYEDHASH) before any of its
//!   parameters is used — the CVE-2025-49133 class of bug is a scheme
//!   selector from one family being read as another family's union member.
//!
//! Every failure is `TPM_RC_SCHEME`, positioned on `inScheme` by the caller.
//!
//! # ECDAA
//!
//! ECDAA (Part 1, 44.3.3) is a split scheme: `TPM2_Sign` completes it with
//! the commit value of the scheme's `count` (see [`super::ec`]).
//! [`sign_digest`], which the attestation commands use, refuses ECDAA with
//! `TPM_RC_SCHEME`: their ECDAA form (empty `qualifiedSigner` and
//! `extraData`, `P := H(qualifyingData || H(attest))`) is not implemented.

use super::Command;
use crate::crypto::ecc::{self, Curve, EccPoint, EccPrivate, EccSignature};
use crate::crypto::hmac;
use crate::crypto::rsa::RsaPublic;
use crate::crypto::secret::Rng;
use crate::crypto::HashAlg;
use crate::engine::Ctx;
use crate::object::Object;
use crate::tpm_params;
use crate::wire::consts::{rh, st};
use crate::wire::object::{oa, Public, Unique};
use crate::wire::public::{KeyedHashScheme, PublicParms, Scheme};
use crate::wire::signature::{HashcheckTicket, SigScheme, Signature};
use crate::wire::types::{Digest2b, Ha, Ticket, Tpm2b};
use crate::wire::{Handle, Rc, TpmResult};

/// The hash of the context integrity HMAC (`TPM_PT_CONTEXT_HASH`), used
/// for every ticket (Part 2, 10.6: "HMAC_contextAlg").
pub const CONTEXT_HASH: HashAlg = HashAlg::Sha256;

/// May this object sign (the reference's `IsSigningObject`): `sign` SET and
/// not a symmetric cipher. `None` is `TPM_RH_NULL`, which "signs" with the
/// NULL Signature.
pub fn is_signing_object(public: Option<&Public>) -> bool {
    public.is_none_or(|p| {
        p.has(oa::SIGN_ENCRYPT) && !matches!(p.parms, PublicParms::SymCipher { .. })
    })
}

/// The key's default signing scheme as a [`Scheme`]; a keyed-hash XOR
/// scheme (an encryption scheme) is `TPM_RC_SCHEME`, a symmetric cipher
/// has none (`TPM_RC_SCHEME`).
fn key_scheme(public: &Public) -> TpmResult<Scheme> {
    match &public.parms {
        PublicParms::Rsa { scheme, .. } | PublicParms::Ecc { scheme, .. } => Ok(*scheme),
        PublicParms::KeyedHash { scheme } => match scheme {
            KeyedHashScheme::Null => Ok(Scheme::Null),
            KeyedHashScheme::Hmac(h) => Ok(Scheme::Hmac(*h)),
            KeyedHashScheme::Xor(..) => Err(Rc::SCHEME),
        },
        // ML-DSA keys have no TPMT_SIG_SCHEME: they sign through the
        // sequence and digest commands of [`super::pqc`].
        PublicParms::SymCipher { .. }
        | PublicParms::MlKem { .. }
        | PublicParms::MlDsa { .. }
        | PublicParms::HashMlDsa { .. } => Err(Rc::SCHEME),
    }
}

/// Does a signing scheme belong to the key's type?
pub fn scheme_fits_key(public: &Public, scheme: &Scheme) -> bool {
    matches!(
        (&public.parms, scheme),
        (
            PublicParms::Rsa { .. },
            Scheme::Rsassa(_) | Scheme::Rsapss(_)
        ) | (
            PublicParms::Ecc { .. },
            Scheme::Ecdsa(_) | Scheme::Ecschnorr(_) | Scheme::Ecdaa { .. }
        ) | (PublicParms::KeyedHash { .. }, Scheme::Hmac(_))
    )
}

/// Choose the signing scheme (module documentation). `key` is `None` for
/// `TPM_RH_NULL`, which always gets the NULL scheme. Errors are an
/// unpositioned `TPM_RC_SCHEME`.
pub fn select_sign_scheme(key: Option<&Public>, requested: Scheme) -> TpmResult<Scheme> {
    let Some(public) = key else {
        return Ok(Scheme::Null);
    };
    if !is_signing_object(Some(public)) {
        return Err(Rc::SCHEME);
    }
    let default = key_scheme(public)?;
    let chosen = match (default, requested) {
        (Scheme::Null, Scheme::Null) => return Err(Rc::SCHEME),
        (Scheme::Null, r) => r,
        (d, Scheme::Null) => d,
        (d, r) if d.alg_id() == r.alg_id() && d.hash() == r.hash() => r,
        _ => return Err(Rc::SCHEME),
    };
    if !scheme_fits_key(public, &chosen) {
        return Err(Rc::SCHEME);
    }
    Ok(chosen)
}

/// Sign `digest` with a loaded key under an already selected `scheme`.
/// The digest must be the size of the scheme's hash (`TPM_RC_SIZE`). A
/// key without its sensitive area cannot sign (`TPM_RC_AUTH_UNAVAILABLE`,
/// what the reference answers when authorizing such a key). Errors are
/// unpositioned.
pub fn sign_digest(
    key: &Object,
    scheme: Scheme,
    digest: &[u8],
    rng: &mut dyn Rng,
) -> TpmResult<Signature> {
    if !scheme_fits_key(&key.public, &scheme) {
        return Err(Rc::SCHEME);
    }
    let hash = scheme.hash().ok_or(Rc::SCHEME)?;
    if digest.len() != hash.digest_size() {
        return Err(Rc::SIZE);
    }
    let sens = key.sensitive.as_ref().ok_or(Rc::AUTH_UNAVAILABLE)?;
    match (&key.public.parms, scheme) {
        (PublicParms::Rsa { .. }, Scheme::Rsassa(h)) => Ok(Signature::Rsassa {
            hash: h,
            sig: key.rsa_private()?.sign_pkcs1v15(h, digest, rng)?,
        }),
        (PublicParms::Rsa { .. }, Scheme::Rsapss(h)) => Ok(Signature::Rsapss {
            hash: h,
            sig: key.rsa_private()?.sign_pss(h, digest, rng)?,
        }),
        (PublicParms::Ecc { curve, .. }, Scheme::Ecdsa(h) | Scheme::Ecschnorr(h)) => {
            let c = Curve::from_curve_id(*curve).ok_or(Rc::CURVE)?;
            let d = EccPrivate::from_bytes(c, &sens.sensitive)?;
            if matches!(scheme, Scheme::Ecdsa(_)) {
                let s = d.sign_ecdsa(h, digest, rng)?;
                Ok(Signature::Ecdsa {
                    hash: h,
                    r: s.r,
                    s: s.s,
                })
            } else {
                let s = d.sign_schnorr(h, digest, rng)?;
                Ok(Signature::Ecschnorr {
                    hash: h,
                    r: s.r,
                    s: s.s,
                })
            }
        }
        (PublicParms::KeyedHash { .. }, Scheme::Hmac(h)) => Ok(Signature::Hmac(Ha {
            alg: h,
            digest: hmac::hmac(h, &sens.sensitive, &[digest]),
        })),
        _ => Err(Rc::SCHEME),
    }
}

/// Verify `sig` over `digest` with a loaded key (the reference's
/// `CryptValidateSignature`). Errors are unpositioned: `TPM_RC_SCHEME`
/// when the signature's algorithm does not belong to the key's type (or,
/// for an HMAC key with a scheme, is not that scheme), `TPM_RC_SIGNATURE`
/// when it does not verify, `TPM_RC_HANDLE` for an HMAC key whose
/// sensitive area is not loaded.
pub fn verify_signature(key: &Object, digest: &[u8], sig: &Signature) -> TpmResult<()> {
    match (&key.public.parms, &key.public.unique, sig) {
        (_, _, Signature::Null) => Err(Rc::SIGNATURE),
        (PublicParms::Rsa { exponent, .. }, Unique::Rsa(n), Signature::Rsassa { hash, sig }) => {
            let public = RsaPublic::new(n, *exponent).map_err(|_| Rc::KEY)?;
            public
                .verify_pkcs1v15(*hash, digest, sig)
                .map_err(|_| Rc::SIGNATURE)
        }
        (PublicParms::Rsa { exponent, .. }, Unique::Rsa(n), Signature::Rsapss { hash, sig }) => {
            let public = RsaPublic::new(n, *exponent).map_err(|_| Rc::KEY)?;
            public
                .verify_pss(*hash, digest, sig)
                .map_err(|_| Rc::SIGNATURE)
        }
        (
            PublicParms::Ecc { curve, .. },
            Unique::Ecc { x, y },
            Signature::Ecdsa { hash, r, s } | Signature::Ecschnorr { hash, r, s },
        ) => {
            let c = Curve::from_curve_id(*curve).ok_or(Rc::CURVE)?;
            let point = EccPoint {
                x: x.clone(),
                y: y.clone(),
            };
            let es = EccSignature {
                r: r.clone(),
                s: s.clone(),
            };
            if matches!(sig, Signature::Ecdsa { .. }) {
                ecc::verify_ecdsa(c, &point, digest, &es)
            } else {
                ecc::verify_schnorr(c, *hash, &point, digest, &es)
            }
        }
        (PublicParms::KeyedHash { scheme }, _, Signature::Hmac(ha)) => {
            // A key with a scheme verifies only signatures of that scheme,
            // so a weaker hash cannot be substituted.
            if let KeyedHashScheme::Hmac(h) = scheme {
                if *h != ha.alg {
                    return Err(Rc::SCHEME);
                }
            } else if *scheme != KeyedHashScheme::Null {
                return Err(Rc::SCHEME);
            }
            let sens = key.sensitive.as_ref().ok_or(Rc::HANDLE)?;
            if hmac::hmac_verify(ha.alg, &sens.sensitive, &[digest], &ha.digest) {
                Ok(())
            } else {
                Err(Rc::SIGNATURE)
            }
        }
        _ => Err(Rc::SCHEME),
    }
}

/// `TPMT_TK_VERIFIED` (Part 2, 10.6.5):
/// `HMAC_contextAlg(proof, TPM_ST_VERIFIED || digest || keyName)`, or the
/// NULL Verified Ticket for a key in the NULL hierarchy (or with no
/// nameAlg).
pub fn verified_ticket(ctx: &Ctx<'_>, key: &Object, digest: &[u8]) -> Ticket {
    let proof = match (key.hierarchy, key.public.name_alg) {
        (rh::NULL, _) | (_, None) => None,
        (h, Some(_)) => ctx.hierarchy_proof(h),
    };
    let Some(proof) = proof else {
        return Ticket::null(st::VERIFIED);
    };
    let mac = hmac::hmac(
        CONTEXT_HASH,
        proof,
        &[&st::VERIFIED.0.to_be_bytes(), digest, &key.name],
    );
    Ticket {
        tag: st::VERIFIED,
        hierarchy: key.hierarchy,
        digest: Tpm2b(mac),
    }
}

/// Is `ticket` a valid `TPMT_TK_VERIFIED` for `digest` signed by the key
/// named `key_name` (for TPM2_PolicyAuthorize)? A NULL ticket never is.
/// The comparison is constant time.
pub fn verified_ticket_valid(
    ctx: &Ctx<'_>,
    ticket: &Ticket,
    digest: &[u8],
    key_name: &[u8],
) -> bool {
    if ticket.tag != st::VERIFIED || ticket.digest.is_empty() || ticket.hierarchy == rh::NULL {
        return false;
    }
    let Some(proof) = ctx.hierarchy_proof(ticket.hierarchy) else {
        return false;
    };
    hmac::hmac_verify(
        CONTEXT_HASH,
        proof,
        &[&st::VERIFIED.0.to_be_bytes(), digest, key_name],
        ticket.digest.as_slice(),
    )
}

/// Is `ticket` a valid `TPMT_TK_HASHCHECK` for `digest` (the ticket
/// [`super::hash::hashcheck_ticket`] produces: Part 2, 10.6.7, eq. 7)? A
/// NULL ticket (empty HMAC) never is, whatever its hierarchy. Constant time.
pub fn hashcheck_valid(ctx: &Ctx<'_>, ticket: &Ticket, digest: &[u8]) -> bool {
    if ticket.tag != st::HASHCHECK || ticket.digest.is_empty() {
        return false;
    }
    let Some(proof) = ctx.hierarchy_proof(ticket.hierarchy) else {
        return false;
    };
    hmac::hmac_verify(
        CONTEXT_HASH,
        proof,
        &[&st::HASHCHECK.0.to_be_bytes(), digest],
        ticket.digest.as_slice(),
    )
}

tpm_params! {
    /// `TPM2_Sign` parameters.
    pub struct SignIn {
        /// The digest to sign.
        pub digest: Digest2b,
        /// `inScheme` (used when the key's scheme is NULL).
        pub in_scheme: SigScheme,
        /// `validation`: proof the TPM computed the digest.
        pub validation: HashcheckTicket,
    }
}

tpm_params! {
    /// `TPM2_Sign` response.
    pub struct SignOut {
        /// The signature.
        pub signature: Signature,
    }
}

/// `TPM2_Sign` (Part 3, 20.5).
///
/// Checks, in the reference's order: a signing key (`TPM_RC_KEY`), not
/// `x509sign` (`TPM_RC_ATTRIBUTES`), the scheme ([`select_sign_scheme`],
/// `TPM_RC_SCHEME` on `inScheme`); then, for a restricted key or whenever
/// a ticket with an HMAC is given, the ticket must be a valid
/// `TPMT_TK_HASHCHECK` of `digest` made with the scheme's hash
/// (`TPM_RC_TICKET`); finally `digest` must be the size of that hash
/// (`TPM_RC_SIZE`).
#[derive(Debug)]
#[doc(alias = "TPM2_Sign")]
pub struct Sign;

impl Command for Sign {
    type In = SignIn;
    type Out = SignOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: SignIn) -> TpmResult<SignOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?.clone();
        if !is_signing_object(Some(&key.public)) {
            return Err(Rc::KEY.handle(1));
        }
        if key.public.has(oa::X509_SIGN) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        let scheme =
            select_sign_scheme(Some(&key.public), input.in_scheme.0).map_err(|e| e.param(2))?;
        let hash = scheme.hash().ok_or(Rc::SCHEME.param(2))?;
        let digest = input.digest.as_slice();
        let ticket = &input.validation.0;
        if (key.public.has(oa::RESTRICTED) || !ticket.digest.is_empty())
            && !hashcheck_valid(ctx, ticket, digest)
        {
            return Err(Rc::TICKET.param(3));
        }
        if digest.len() != hash.digest_size() {
            return Err(Rc::SIZE.param(1));
        }
        let signature = match scheme {
            Scheme::Ecdaa { hash, count } => {
                super::ec::sign_ecdaa(ctx, &key, hash, count, digest, 2)?
            }
            _ => sign_digest(&key, scheme, digest, &mut ctx.v.drbg)?,
        };
        Ok(SignOut { signature })
    }
}

tpm_params! {
    /// `TPM2_VerifySignature` parameters.
    pub struct VerifySignatureIn {
        /// Digest of the signed message.
        pub digest: Digest2b,
        /// The signature to check.
        pub signature: Signature,
    }
}

tpm_params! {
    /// `TPM2_VerifySignature` response.
    pub struct VerifySignatureOut {
        /// `TPMT_TK_VERIFIED`.
        pub validation: Ticket,
    }
}

/// `TPM2_VerifySignature` (Part 3, 20.2). The key needs `sign`
/// (`TPM_RC_ATTRIBUTES`); a signature that does not verify is
/// `TPM_RC_SIGNATURE` on parameter 2 and one of the wrong family
/// `TPM_RC_SCHEME` on parameter 2. Success yields a `TPMT_TK_VERIFIED`
/// ([`verified_ticket`]).
#[derive(Debug)]
#[doc(alias = "TPM2_VerifySignature")]
pub struct VerifySignature;

impl Command for VerifySignature {
    type In = VerifySignatureIn;
    type Out = VerifySignatureOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: VerifySignatureIn,
    ) -> TpmResult<VerifySignatureOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        if !key.public.has(oa::SIGN_ENCRYPT) {
            return Err(Rc::ATTRIBUTES.handle(1));
        }
        let digest = input.digest.as_slice();
        verify_signature(key, digest, &input.signature).map_err(|e| match e {
            // The key itself is unusable (public-only HMAC key, malformed
            // public area): the handle is at fault.
            Rc::HANDLE | Rc::KEY => e.handle(1),
            Rc::ECC_POINT => Rc::KEY.handle(1),
            _ => e.param(2),
        })?;
        Ok(VerifySignatureOut {
            validation: verified_ticket(ctx, key, digest),
        })
    }
}
