//! Objects (Part 1, 27-28): creation of key material, Names, the
//! protection of sensitive areas by their parent (Part 1, 23), and loaded
//! and persistent object storage.

pub mod protect;
pub mod secret;

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::ecc::{Curve, EccPrivate};
use crate::crypto::hmac::HmacState;
use crate::crypto::secret::Rng;
use crate::crypto::{rsa::RsaPrivate, HashAlg};
use crate::wire::consts::alg;
use crate::wire::object::{oa, Public, Sensitive, SensitiveCreate, Unique};
use crate::wire::public::{KeyedHashScheme, PublicParms, Scheme, SymDef};
use crate::wire::{Handle, Marshal, Rc, TpmResult};

/// A TPM object: its public area, its sensitive area (absent for a
/// public-only LoadExternal), and where it sits.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Object {
    /// `TPMT_PUBLIC`.
    pub public: Public,
    /// `TPMT_SENSITIVE`, if loaded.
    pub sensitive: Option<Sensitive>,
    /// The Name.
    pub name: Vec<u8>,
    /// The Qualified Name.
    pub qualified_name: Vec<u8>,
    /// The hierarchy the object belongs to.
    pub hierarchy: Handle,
    /// Persistent handle, when the object is persistent.
    pub evict_handle: Option<Handle>,
}

impl Object {
    /// Build an object, computing its Name and Qualified Name.
    pub fn new(
        public: Public,
        sensitive: Option<Sensitive>,
        parent_qn: &[u8],
        hierarchy: Handle,
    ) -> Self {
        let name = public.name();
        let qualified_name = qualified_name(public.name_alg, parent_qn, &name);
        Object {
            public,
            sensitive,
            name,
            qualified_name,
            hierarchy,
            evict_handle: None,
        }
    }

    /// The authValue (empty for a public-only object).
    pub fn auth_value(&self) -> &[u8] {
        self.sensitive
            .as_ref()
            .map_or(&[][..], |s| s.auth_value.as_slice())
    }

    /// The RSA private key (reconstructed from the public modulus and the
    /// stored prime).
    pub fn rsa_private(&self) -> TpmResult<RsaPrivate> {
        let (PublicParms::Rsa { exponent, .. }, Unique::Rsa(n)) =
            (&self.public.parms, &self.public.unique)
        else {
            return Err(Rc::KEY);
        };
        let s = self.sensitive.as_ref().ok_or(Rc::KEY)?;
        RsaPrivate::from_prime(n, *exponent, &s.sensitive)
    }
}

/// Qualified Name (Part 1, 16.6): nameAlg || H(parentQN || Name).
pub fn qualified_name(name_alg: Option<HashAlg>, parent_qn: &[u8], name: &[u8]) -> Vec<u8> {
    match name_alg {
        Some(h) => {
            let mut q = h.alg_id().0.to_be_bytes().to_vec();
            q.extend_from_slice(&h.digest_parts(&[parent_qn, name]));
            q
        }
        None => name.to_vec(),
    }
}

/// A deterministic byte stream for primary objects (our own, versioned
/// derivation, pinned by known-answer tests): SP 800-108 counter-mode HMAC
/// keyed with the hierarchy seed, `K(i) = HMAC(seed, [i]32 || label || 0 ||
/// context)`, consumed in order. Version 1 label: "vtpm primary v1".
pub struct PrimaryStream<'a> {
    alg: HashAlg,
    seed: &'a [u8],
    context: Vec<u8>,
    counter: u32,
    buf: Vec<u8>,
}

impl core::fmt::Debug for PrimaryStream<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PrimaryStream { .. }")
    }
}

/// Label of primary derivation version 1.
pub const PRIMARY_LABEL_V1: &[u8] = b"vtpm primary v1\0";

impl<'a> PrimaryStream<'a> {
    /// A stream for `template` (the marshaled `TPMT_PUBLIC` as given) and
    /// the caller's sensitive data; the authValue does not take part.
    pub fn new(alg: HashAlg, seed: &'a [u8], template: &[u8], data: &[u8]) -> Self {
        let mut context = alg.digest(template);
        context.extend_from_slice(&alg.digest(data));
        PrimaryStream {
            alg,
            seed,
            context,
            counter: 0,
            buf: Vec::new(),
        }
    }
}

impl Rng for PrimaryStream<'_> {
    fn fill_bytes(&mut self, out: &mut [u8]) {
        for b in out.iter_mut() {
            if self.buf.is_empty() {
                self.counter = self.counter.wrapping_add(1);
                let mut m = HmacState::new(self.alg, self.seed);
                m.update(&self.counter.to_be_bytes());
                m.update(PRIMARY_LABEL_V1);
                m.update(&self.context);
                self.buf = m.finish();
                self.buf.reverse();
            }
            *b = self.buf.pop().unwrap_or(0);
        }
    }
}

/// The byte stream of a Derived Object (Part 1, 25.4.1, eq. 49):
/// `KDFa(hashAlg, sensitive, label, context, 8192)` with the Derivation
/// Parent's XOR hash and keyedHash key, 1024 octets consumed from the most
/// significant, none skipped. Asking for more sets [`Self::exhausted`]
/// (and yields zeros); no key type needs that many.
pub struct DerivationStream {
    bytes: crate::crypto::SecretBytes,
    pos: usize,
    exhausted: bool,
}

impl core::fmt::Debug for DerivationStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DerivationStream { .. }")
    }
}

/// `TPM_MAX_DERIVATION_BITS` (Part 2, Table 4).
pub const MAX_DERIVATION_BITS: u32 = 8192;

impl DerivationStream {
    /// The stream of `key` (the parent's `sensitive.bits`) for `label`
    /// and `context`.
    pub fn new(alg: HashAlg, key: &[u8], label: &[u8], context: &[u8]) -> TpmResult<Self> {
        let bytes = crate::crypto::kdf::kdfa(alg, key, label, context, &[], MAX_DERIVATION_BITS)?;
        Ok(DerivationStream {
            bytes,
            pos: 0,
            exhausted: false,
        })
    }

    /// Did a caller ask for more than the 1024 octets?
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
}

impl Rng for DerivationStream {
    fn fill_bytes(&mut self, out: &mut [u8]) {
        let end = self.pos.saturating_add(out.len());
        match self.bytes.as_slice().get(self.pos..end) {
            Some(src) => {
                out.copy_from_slice(src);
                self.pos = end;
            }
            None => {
                out.fill(0);
                self.exhausted = true;
            }
        }
    }
}

/// Check the template of a Derived Object (Part 3, 12.9.1; Part 1, 25):
/// the checks of TPM2_Create, except that sensitiveDataOrigin shall be
/// CLEAR (`TPM_RC_ATTRIBUTES`) and no caller data is involved; RSA keys
/// are not derived (`TPM_RC_TYPE`, Part 1, 25.5). Unpositioned errors.
pub fn validate_derived(public: &Public, parent: &Public) -> TpmResult<()> {
    if matches!(public.parms, PublicParms::Rsa { .. }) {
        return Err(Rc::TYPE);
    }
    if public.has(oa::SENSITIVE_DATA_ORIGIN) {
        return Err(Rc::ATTRIBUTES);
    }
    validate(public, Some(parent), None)
}

/// Generate a Derived Object from `stream` (Part 1, 25.4-25.5): the key
/// material is made exactly as for a TPM-generated key of the template,
/// and the public area keeps the template's attributes
/// (sensitiveDataOrigin CLEAR).
pub fn generate_derived(
    template: &Public,
    user_auth: &[u8],
    stream: &mut DerivationStream,
) -> TpmResult<(Public, Sensitive)> {
    let mut generated = template.clone();
    generated.attributes |= oa::SENSITIVE_DATA_ORIGIN;
    let create = SensitiveCreate {
        user_auth: user_auth.to_vec(),
        data: Vec::new(),
    };
    let (mut public, sensitive) = generate(&generated, &create, stream)?;
    if stream.exhausted() {
        return Err(Rc::NO_RESULT);
    }
    public.attributes = template.attributes;
    Ok((public, sensitive))
}

/// Check the attribute and parameter consistency of a creation template
/// (Part 1, 27.2 and Part 3, 12.1 "PublicAttributesValidation").
/// `parent` is `None` for a primary object. Errors are unpositioned; the
/// caller attaches the parameter number of the template.
pub fn validate_template(public: &Public, parent: Option<&Public>, data: &[u8]) -> TpmResult<()> {
    validate(public, parent, Some(data))
}

/// [`validate_template`]; `data` is `None` for a Derived Object, whose
/// sensitive values come from the derivation (no sensitiveDataOrigin or
/// caller-data rules).
fn validate(public: &Public, parent: Option<&Public>, data: Option<&[u8]>) -> TpmResult<()> {
    let a = public.attributes;
    let has = |b: u32| a & b == b;
    if public.name_alg.is_none() {
        return Err(Rc::HASH);
    }
    // fixedTPM and fixedParent (Part 2, 8.3.3.2, Creation): under a
    // fixedTPM parent (a Primary Seed counts as one) fixedTPM equals
    // fixedParent; under any other parent fixedTPM is CLEAR.
    if has(oa::FIXED_TPM) && !has(oa::FIXED_PARENT) {
        return Err(Rc::ATTRIBUTES);
    }
    let parent_fixed_tpm = parent.is_none_or(|p| p.has(oa::FIXED_TPM));
    if parent_fixed_tpm && has(oa::FIXED_PARENT) && !has(oa::FIXED_TPM) {
        return Err(Rc::ATTRIBUTES);
    }
    if !parent_fixed_tpm && has(oa::FIXED_TPM) {
        return Err(Rc::ATTRIBUTES);
    }
    if has(oa::FIRMWARE_LIMITED) || has(oa::SVN_LIMITED) {
        // No firmware-limited hierarchies are implemented.
        return Err(Rc::ATTRIBUTES);
    }
    // encryptedDuplication needs a parent with encryptedDuplication too,
    // unless fixedParent... (Part 1, 23.4): keep to the simple rule.
    if has(oa::ENCRYPTED_DUPLICATION) && has(oa::FIXED_TPM) {
        return Err(Rc::ATTRIBUTES);
    }
    let restricted = has(oa::RESTRICTED);
    let sign = has(oa::SIGN_ENCRYPT);
    let decrypt = has(oa::DECRYPT);
    if has(oa::X509_SIGN) {
        // Only for unrestricted signing keys.
        if restricted || !sign {
            return Err(Rc::ATTRIBUTES);
        }
    }
    // A restricted key has exactly one of sign and decrypt.
    if restricted && sign == decrypt {
        return Err(Rc::ATTRIBUTES);
    }
    // sensitiveDataOrigin is SET exactly when the caller provides no data
    // (Part 3, 12.1.1: TPM_RC_ATTRIBUTES).
    let derived = data.is_none();
    let data_given = data.is_some_and(|d| !d.is_empty());
    let sdo = has(oa::SENSITIVE_DATA_ORIGIN);
    match &public.parms {
        PublicParms::KeyedHash { scheme } => {
            if !derived && data_given == sdo {
                return Err(Rc::ATTRIBUTES);
            }
            // "If inSensitive.sensitive.data is an Empty Buffer, and both
            // sign and decrypt are CLEAR ... TPM_RC_ATTRIBUTES. This would
            // be a data object with no data." (Part 3, 12.1.1)
            if !derived && !data_given && !sign && !decrypt {
                return Err(Rc::ATTRIBUTES);
            }
            match scheme {
                KeyedHashScheme::Null => {
                    // An unrestricted keyed-hash object may sign (with a
                    // scheme chosen per command) or hold data; a restricted
                    // one needs a scheme.
                    if restricted {
                        return Err(Rc::SCHEME);
                    }
                }
                KeyedHashScheme::Hmac(_) => {
                    if !sign || decrypt {
                        return Err(Rc::SCHEME);
                    }
                }
                KeyedHashScheme::Xor(..) => {
                    if !decrypt || sign {
                        return Err(Rc::SCHEME);
                    }
                }
            }
        }
        PublicParms::SymCipher { .. } => {
            if !derived && data_given == sdo {
                return Err(Rc::ATTRIBUTES);
            }
            if !sign && !decrypt {
                return Err(Rc::ATTRIBUTES);
            }
        }
        PublicParms::Rsa {
            symmetric, scheme, ..
        }
        | PublicParms::Ecc {
            symmetric, scheme, ..
        } => {
            if data_given {
                // Asymmetric keys are always generated by the TPM: "If
                // inSensitive.sensitive.data is not the Empty Buffer, then
                // the TPM shall return TPM_RC_VALUE" (Part 3, 12.1.1), on
                // inSensitive (parameter 1).
                return Err(Rc::VALUE.param(1));
            }
            if !derived && !sdo {
                return Err(Rc::ATTRIBUTES);
            }
            if !sign && !decrypt {
                return Err(Rc::ATTRIBUTES);
            }
            if restricted && decrypt {
                // A storage key: symmetric defined, scheme NULL.
                if *symmetric == SymDef::Null {
                    return Err(Rc::SYMMETRIC);
                }
                if *scheme != Scheme::Null {
                    return Err(Rc::SCHEME);
                }
                if let SymDef::Aes { mode, .. } = symmetric {
                    if *mode != alg::CFB {
                        return Err(Rc::MODE);
                    }
                }
            } else if *symmetric != SymDef::Null {
                return Err(Rc::SYMMETRIC);
            }
            check_scheme_use(public, scheme, sign, decrypt, restricted)?;
            if let PublicParms::Ecc { kdf, .. } = &public.parms {
                if *kdf != crate::wire::public::Kdf::Null {
                    return Err(Rc::KDF);
                }
            }
        }
        PublicParms::MlKem { .. } | PublicParms::MlDsa { .. } | PublicParms::HashMlDsa { .. } => {
            validate_pqc(public, data_given, derived)?;
        }
    }
    // A Storage Key with fixedParent keeps its parent's nameAlg
    // (TPM_RC_HASH) and symmetric definition (TPM_RC_SYMMETRIC) (Part 3,
    // 12.1.1). A Derivation Parent has none, so it cannot have such a child.
    if let Some(p) = parent {
        if public.is_storage_parent() && has(oa::FIXED_PARENT) {
            if public.name_alg != p.name_alg {
                return Err(Rc::HASH);
            }
            if !p.is_storage_parent() || public.symmetric() != p.symmetric() {
                return Err(Rc::SYMMETRIC);
            }
        }
    }
    Ok(())
}

/// The template rules of ML-KEM, ML-DSA and HashML-DSA keys (Part 2,
/// Table 233: ML-DSA keys sign, ML-KEM keys decrypt; Part 2, 12.2.3.6-8):
/// the key is always generated by the TPM (caller data: `TPM_RC_VALUE` on
/// inSensitive, as for any asymmetric key; no `sensitiveDataOrigin`: `TPM_RC_ATTRIBUTES`,
/// except for a Derived Object); the wrong use bit is
/// `TPM_RC_ATTRIBUTES`. An ML-KEM key is a storage parent exactly when it
/// is restricted, and then needs an AES-CFB symmetric definition
/// (`TPM_RC_SYMMETRIC`, `TPM_RC_MODE`); unrestricted, its symmetric must
/// be NULL (`TPM_RC_SYMMETRIC`). `allowExternalMu` implies unrestricted
/// (Part 3, 20.1: a restricted key must not sign a caller's `mu`):
/// `TPM_RC_ATTRIBUTES`.
fn validate_pqc(public: &Public, data_given: bool, derived: bool) -> TpmResult<()> {
    let has = |b: u32| public.attributes & b == b;
    if data_given {
        return Err(Rc::VALUE.param(1));
    }
    if !derived && !has(oa::SENSITIVE_DATA_ORIGIN) {
        return Err(Rc::ATTRIBUTES);
    }
    let restricted = has(oa::RESTRICTED);
    match &public.parms {
        PublicParms::MlKem { symmetric, .. } => {
            if has(oa::SIGN_ENCRYPT) || !has(oa::DECRYPT) {
                return Err(Rc::ATTRIBUTES);
            }
            if restricted {
                match symmetric {
                    SymDef::Aes { mode, .. } if *mode == alg::CFB => {}
                    SymDef::Aes { .. } => return Err(Rc::MODE),
                    _ => return Err(Rc::SYMMETRIC),
                }
            } else if *symmetric != SymDef::Null {
                return Err(Rc::SYMMETRIC);
            }
        }
        PublicParms::MlDsa { .. } | PublicParms::HashMlDsa { .. } => {
            if !has(oa::SIGN_ENCRYPT) || has(oa::DECRYPT) {
                return Err(Rc::ATTRIBUTES);
            }
            if let PublicParms::MlDsa {
                allow_external_mu: true,
                ..
            } = public.parms
            {
                if restricted {
                    return Err(Rc::ATTRIBUTES);
                }
            }
        }
        _ => return Err(Rc::TYPE),
    }
    Ok(())
}

/// The attribute and scheme rules every loaded object follows, whoever
/// made it (TPM2_Load, TPM2_LoadExternal; Part 2, 8.3 TPMA_OBJECT "Load"
/// and "External" rows; Part 3, 12.2.1): fixedTPM needs fixedParent; a
/// restricted key has exactly one of sign and decrypt; only a keyedHash
/// object may have neither (`TPM_RC_ATTRIBUTES`); the scheme fits the use
/// and a keyedHash key with both or neither has no scheme
/// (`TPM_RC_SCHEME`); an asymmetric parent has a symmetric definition and
/// any other asymmetric key none (`TPM_RC_SYMMETRIC`).
pub fn check_loaded(public: &Public) -> TpmResult<()> {
    let has = |b: u32| public.has(b);
    let (restricted, sign, decrypt) =
        (has(oa::RESTRICTED), has(oa::SIGN_ENCRYPT), has(oa::DECRYPT));
    if has(oa::FIXED_TPM) && !has(oa::FIXED_PARENT) {
        return Err(Rc::ATTRIBUTES);
    }
    if restricted && sign == decrypt {
        return Err(Rc::ATTRIBUTES);
    }
    let keyed_hash = matches!(public.parms, PublicParms::KeyedHash { .. });
    if !keyed_hash && !sign && !decrypt {
        return Err(Rc::ATTRIBUTES);
    }
    match &public.parms {
        PublicParms::KeyedHash { scheme } => {
            let ok = match scheme {
                KeyedHashScheme::Null => !restricted,
                KeyedHashScheme::Hmac(_) => sign && !decrypt,
                KeyedHashScheme::Xor(..) => decrypt && !sign,
            };
            if !ok {
                return Err(Rc::SCHEME);
            }
        }
        PublicParms::Rsa {
            symmetric, scheme, ..
        }
        | PublicParms::Ecc {
            symmetric, scheme, ..
        } => {
            check_scheme_use(public, scheme, sign, decrypt, restricted)?;
            if restricted && decrypt {
                if *scheme != Scheme::Null {
                    return Err(Rc::SCHEME);
                }
                if *symmetric == SymDef::Null {
                    return Err(Rc::SYMMETRIC);
                }
            } else if *symmetric != SymDef::Null {
                return Err(Rc::SYMMETRIC);
            }
        }
        PublicParms::SymCipher { .. }
        | PublicParms::MlKem { .. }
        | PublicParms::MlDsa { .. }
        | PublicParms::HashMlDsa { .. } => {}
    }
    Ok(())
}

/// The public key of an object loaded without its sensitive area to
/// check it against (TPM2_LoadExternal, Part 3, 12.3.1): an RSA modulus of
/// keyBits, an ECC point of the curve's size (`TPM_RC_KEY`) on the curve
/// (`TPM_RC_ECC_POINT`), a keyedHash or symCipher unique of the nameAlg
/// digest size (Part 3, 12.1.1 eq. 1; `TPM_RC_KEY`).
pub fn check_public_key(public: &Public) -> TpmResult<()> {
    match (&public.parms, &public.unique) {
        (PublicParms::Rsa { key_bits, .. }, Unique::Rsa(n))
            if n.len() != usize::from(*key_bits / 8) =>
        {
            return Err(Rc::KEY);
        }
        (PublicParms::Ecc { curve, .. }, Unique::Ecc { x, y }) => {
            let c = Curve::from_curve_id(*curve).ok_or(Rc::CURVE)?;
            if x.len() != c.size() || y.len() != c.size() {
                return Err(Rc::KEY);
            }
            crate::crypto::ecc::validate_point(
                c,
                &crate::crypto::ecc::EccPoint {
                    x: x.clone(),
                    y: y.clone(),
                },
            )?;
        }
        (PublicParms::KeyedHash { .. } | PublicParms::SymCipher { .. }, Unique::Digest(d)) => {
            if let Some(h) = public.name_alg {
                if d.len() != h.digest_size() {
                    return Err(Rc::KEY);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// The largest HMAC key a caller may provide for a keyedHash object that
/// signs or decrypts: the block size of its scheme's hash (the nameAlg's
/// without a scheme), and no more than 128 octets (Part 1, 24.7.5.1).
/// `None` for a data object (sign and decrypt CLEAR) and other types.
pub fn hmac_key_limit(public: &Public) -> Option<usize> {
    let PublicParms::KeyedHash { scheme } = &public.parms else {
        return None;
    };
    if !public.has(oa::SIGN_ENCRYPT) && !public.has(oa::DECRYPT) {
        return None;
    }
    let hash = match scheme {
        KeyedHashScheme::Hmac(h) | KeyedHashScheme::Xor(h, _) => *h,
        KeyedHashScheme::Null => public.name_alg?,
    };
    Some(
        hash.block_size()
            .min(crate::wire::consts::sizes::MAX_SYM_DATA),
    )
}

/// The sensitive value of an external object has the size its public
/// area implies (Part 3, 12.3.1): an AES key of keyBits, an HMAC key no
/// longer than [`hmac_key_limit`] (`TPM_RC_KEY_SIZE`).
pub fn check_sensitive_size(public: &Public, sensitive: &Sensitive) -> TpmResult<()> {
    let len = sensitive.sensitive.len();
    let ok = match &public.parms {
        PublicParms::SymCipher {
            sym: SymDef::Aes { key_bits, .. },
        } => len == usize::from(*key_bits / 8),
        PublicParms::KeyedHash { .. } => hmac_key_limit(public).is_none_or(|max| len <= max),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Rc::KEY_SIZE)
    }
}

/// A key's scheme must fit its use (Part 1, 27.2.3): signing schemes for
/// signing keys, encryption schemes for decryption keys; a restricted
/// signing key needs a scheme.
fn check_scheme_use(
    public: &Public,
    scheme: &Scheme,
    sign: bool,
    decrypt: bool,
    restricted: bool,
) -> TpmResult<()> {
    let is_rsa = matches!(public.parms, PublicParms::Rsa { .. });
    let ok = match scheme {
        Scheme::Null => !(restricted && sign),
        Scheme::Rsassa(_) | Scheme::Rsapss(_) => is_rsa && sign && !decrypt,
        Scheme::Rsaes | Scheme::Oaep(_) => is_rsa && decrypt && !sign,
        Scheme::Ecdsa(_) | Scheme::Ecschnorr(_) | Scheme::Ecdaa { .. } => {
            !is_rsa && sign && !decrypt
        }
        Scheme::Ecdh(_) => !is_rsa && decrypt && !sign,
        Scheme::Hmac(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Rc::SCHEME)
    }
}

/// Generate an object's key material from `rng` (the TPM's DRBG for an
/// ordinary object, a [`PrimaryStream`] for a primary). Returns the public
/// area with `unique` filled in and the sensitive area.
pub fn generate(
    template: &Public,
    create: &SensitiveCreate,
    rng: &mut dyn Rng,
) -> TpmResult<(Public, Sensitive)> {
    let name_alg = template.name_alg.ok_or(Rc::HASH)?;
    let digest_len = name_alg.digest_size();
    let mut public = template.clone();
    let mut seed_value = alloc::vec![0u8; digest_len];
    let sensitive_bytes;
    match &template.parms {
        PublicParms::Rsa {
            key_bits, exponent, ..
        } => {
            let key = RsaPrivate::generate(*key_bits, *exponent, rng)?;
            public.unique = Unique::Rsa(key.public().modulus());
            sensitive_bytes = key.prime().as_slice().to_vec();
            if !template.is_storage_parent() {
                seed_value.clear();
            } else {
                rng.fill_bytes(&mut seed_value);
            }
        }
        PublicParms::Ecc { curve, .. } => {
            let c = Curve::from_curve_id(*curve).ok_or(Rc::CURVE)?;
            let key = EccPrivate::generate(c, rng)?;
            let point = key.public()?;
            public.unique = Unique::Ecc {
                x: point.x.clone(),
                y: point.y.clone(),
            };
            sensitive_bytes = key.scalar().as_slice().to_vec();
            if !template.is_storage_parent() {
                seed_value.clear();
            } else {
                rng.fill_bytes(&mut seed_value);
            }
        }
        PublicParms::MlKem { parameter_set, .. } => {
            // The private key is the seed d || z (Part 1, 47.2), drawn in
            // that order: from the DRBG, or from the primary stream.
            let mut seed = crate::crypto::SecretBytes::zeroed(crate::wire::pqc::MLKEM_PRIVATE_SIZE);
            rng.fill_bytes(seed.as_mut_slice());
            public.unique = Unique::MlKem(crate::crypto::pqc::mlkem_public(*parameter_set, &seed)?);
            sensitive_bytes = seed.as_slice().to_vec();
            if !template.is_storage_parent() {
                seed_value.clear();
            } else {
                rng.fill_bytes(&mut seed_value);
            }
        }
        PublicParms::MlDsa { parameter_set, .. } | PublicParms::HashMlDsa { parameter_set, .. } => {
            // The private key is the seed xi (Part 1, 46.2).
            let mut xi = crate::crypto::SecretBytes::zeroed(crate::wire::pqc::MLDSA_PRIVATE_SIZE);
            rng.fill_bytes(xi.as_mut_slice());
            public.unique = Unique::MlDsa(crate::crypto::pqc::mldsa_public(*parameter_set, &xi)?);
            sensitive_bytes = xi.as_slice().to_vec();
            seed_value.clear();
        }
        PublicParms::KeyedHash { .. } | PublicParms::SymCipher { .. } => {
            let key_len = match &template.parms {
                PublicParms::SymCipher {
                    sym: SymDef::Aes { key_bits, .. },
                } => usize::from(*key_bits / 8),
                PublicParms::SymCipher { .. } => return Err(Rc::SYMMETRIC),
                _ => digest_len,
            };
            sensitive_bytes = if create.data.is_empty() && public.has(oa::SENSITIVE_DATA_ORIGIN) {
                let mut k = alloc::vec![0u8; key_len];
                rng.fill_bytes(&mut k);
                k
            } else {
                if matches!(template.parms, PublicParms::SymCipher { .. })
                    && create.data.len() != key_len
                {
                    return Err(Rc::KEY_SIZE);
                }
                create.data.clone()
            };
            rng.fill_bytes(&mut seed_value);
            // unique = H(obfuscation value || key) (Part 1, 27.2.6).
            public.unique = Unique::Digest(name_alg.digest_parts(&[&seed_value, &sensitive_bytes]));
        }
    }
    let sensitive = Sensitive {
        type_alg: template.type_alg(),
        auth_value: crate::auth::trim_trailing_zeros(&create.user_auth).to_vec(),
        seed_value,
        sensitive: sensitive_bytes,
    };
    Ok((public, sensitive))
}

/// Check that a sensitive area belongs to a public area (Load,
/// LoadExternal): `TPM_RC_BINDING` if not.
pub fn check_binding(public: &Public, sensitive: &Sensitive) -> TpmResult<()> {
    if sensitive.type_alg != public.type_alg() {
        return Err(Rc::TYPE);
    }
    let name_alg = public.name_alg;
    let ok = match (&public.parms, &public.unique) {
        (PublicParms::Rsa { exponent, .. }, Unique::Rsa(n)) => {
            RsaPrivate::from_prime(n, *exponent, &sensitive.sensitive).is_ok()
        }
        (PublicParms::Ecc { curve, .. }, Unique::Ecc { x, y }) => Curve::from_curve_id(*curve)
            .and_then(|c| EccPrivate::from_bytes(c, &sensitive.sensitive).ok())
            .and_then(|k| k.public().ok())
            .is_some_and(|p| &p.x == x && &p.y == y),
        // The seed must re-derive the public key (Part 1, 46.2 and 47.2).
        (PublicParms::MlKem { parameter_set, .. }, Unique::MlKem(ek)) => {
            crate::crypto::pqc::mlkem_public(*parameter_set, &sensitive.sensitive)
                .is_ok_and(|k| crate::crypto::ct_eq(&k, ek))
        }
        (
            PublicParms::MlDsa { parameter_set, .. } | PublicParms::HashMlDsa { parameter_set, .. },
            Unique::MlDsa(pk),
        ) => crate::crypto::pqc::mldsa_public(*parameter_set, &sensitive.sensitive)
            .is_ok_and(|k| crate::crypto::ct_eq(&k, pk)),
        (_, Unique::Digest(d)) => match name_alg {
            Some(h) => h.digest_parts(&[&sensitive.seed_value, &sensitive.sensitive]) == *d,
            None => true,
        },
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Rc::BINDING)
    }
}

/// The marshaled public area (for hashing).
pub fn public_bytes(p: &Public) -> Vec<u8> {
    p.to_bytes()
}
