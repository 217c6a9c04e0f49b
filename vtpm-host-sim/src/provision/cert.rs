//! X.509 for provisioning, with RustCrypto's `x509-cert` builder: a local
//! CA (loaded from PEM or generated), EK certificates in the shape of the
//! TCG EK Credential Profile (empty subject, critical subjectAltName with
//! the TPM's manufacturer, model and version, keyEncipherment for RSA and
//! keyAgreement for ECC EKs, CA:FALSE, authorityKeyIdentifier, the EK
//! certificate extended key usage), and a platform certificate (the EK's
//! key with the platform's manufacturer, model and version).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::der;
use x509_cert::der::asn1::{ObjectIdentifier, Utf8StringRef};
use x509_cert::der::{Decode, DecodePem, Encode, EncodePem};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};
use x509_cert::Certificate;

use super::tpm::EkPublic;

/// tcg-at-tpmManufacturer.
const TPM_MANUFACTURER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.1");
/// tcg-at-tpmModel.
const TPM_MODEL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.2");
/// tcg-at-tpmVersion.
const TPM_VERSION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.2.3");
/// tcg-at-platformManufacturerStr.
const PLATFORM_MANUFACTURER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.5.1.1");
/// tcg-at-platformModel.
const PLATFORM_MODEL: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.5.1.4");
/// tcg-at-platformVersion.
const PLATFORM_VERSION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.5.1.5");
/// tcg-kp-EKCertificate.
const KP_EK_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.8.1");
/// tcg-kp-PlatformCertificate.
const KP_PLATFORM_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.133.8.2");

/// File names inside a CA directory.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// The CA certificate.
pub const CA_CERT_FILE: &str = "ca-cert.pem";

/// The signing key of the CA.
pub enum CaKey {
    /// ECDSA P-256 with SHA-256.
    EcP256(p256::ecdsa::SigningKey),
    /// RSA PKCS#1 v1.5 with SHA-256.
    Rsa(Box<rsa::pkcs1v15::SigningKey<sha2::Sha256>>),
}

impl std::fmt::Debug for CaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CaKey::EcP256(_) => "CaKey::EcP256(<secret>)",
            CaKey::Rsa(_) => "CaKey::Rsa(<secret>)",
        })
    }
}

/// A CA: key and certificate.
#[derive(Debug)]
pub struct Ca {
    /// Signing key.
    pub key: CaKey,
    /// Its certificate.
    pub cert: Certificate,
    /// Where the certificate is (for messages and `openssl verify`).
    pub cert_path: PathBuf,
}

fn parse_key(pem: &str) -> anyhow::Result<CaKey> {
    if let Ok(k) = p256::SecretKey::from_pkcs8_pem(pem) {
        return Ok(CaKey::EcP256(k.into()));
    }
    if let Ok(k) = p256::SecretKey::from_sec1_pem(pem) {
        return Ok(CaKey::EcP256(k.into()));
    }
    let rsa = rsa::PrivateKey::from_pkcs8_pem(pem).or_else(|_| {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        rsa::PrivateKey::from_pkcs1_pem(pem)
    });
    if let Ok(k) = rsa {
        return Ok(CaKey::Rsa(Box::new(rsa::pkcs1v15::SigningKey::new(k))));
    }
    bail!(
        "not a PEM private key this tool can sign with (ECDSA P-256 or RSA, PKCS#8, SEC1 or \
         PKCS#1)"
    )
}

impl Ca {
    /// Load a CA from a PEM key and a PEM certificate.
    pub fn load(key: &Path, cert: &Path) -> anyhow::Result<Ca> {
        let key_pem = zeroize::Zeroizing::new(
            std::fs::read_to_string(key)
                .with_context(|| format!("cannot read the CA key {}", key.display()))?,
        );
        let key = parse_key(&key_pem).with_context(|| format!("CA key {}", key.display()))?;
        let cert_pem = std::fs::read_to_string(cert)
            .with_context(|| format!("cannot read the CA certificate {}", cert.display()))?;
        let c = Certificate::from_pem(cert_pem.as_bytes())
            .map_err(|e| anyhow!("CA certificate {}: {e}", cert.display()))?;
        let ca = Ca {
            key,
            cert: c,
            cert_path: cert.to_path_buf(),
        };
        if ca.public_key_der()? != ca.cert_public_key_der()? {
            bail!(
                "the CA key {} does not belong to the certificate {}",
                key_path_display(ca.key_kind()),
                cert.display()
            );
        }
        Ok(ca)
    }

    fn key_kind(&self) -> &'static str {
        match self.key {
            CaKey::EcP256(_) => "(ECDSA P-256)",
            CaKey::Rsa(_) => "(RSA)",
        }
    }

    /// The DER SubjectPublicKeyInfo of the signing key.
    fn public_key_der(&self) -> anyhow::Result<Vec<u8>> {
        use x509_cert::spki::EncodePublicKey;
        let d = match &self.key {
            CaKey::EcP256(k) => k.verifying_key().to_public_key_der(),
            CaKey::Rsa(k) => {
                use p256::ecdsa::signature::Keypair;
                k.verifying_key().to_public_key_der()
            }
        }
        .map_err(|e| anyhow!("{e}"))?;
        Ok(d.as_bytes().to_vec())
    }

    fn cert_public_key_der(&self) -> anyhow::Result<Vec<u8>> {
        self.cert
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| anyhow!("{e}"))
    }

    /// Use the CA in `dir` (`ca-key.pem`, `ca-cert.pem`), creating a new
    /// one (ECDSA P-256, valid 20 years) when the directory has none.
    pub fn open_or_create(dir: &Path) -> anyhow::Result<Ca> {
        let key = dir.join(CA_KEY_FILE);
        let cert = dir.join(CA_CERT_FILE);
        match (key.exists(), cert.exists()) {
            (true, true) => return Ca::load(&key, &cert),
            (false, false) => {}
            _ => bail!(
                "the CA directory {} has only one of {CA_KEY_FILE} and {CA_CERT_FILE}",
                dir.display()
            ),
        }
        crate::store::create_dir(dir)?;
        let secret = loop {
            let mut b = zeroize::Zeroizing::new([0u8; 32]);
            getrandom::fill(b.as_mut()).map_err(|e| anyhow!("getrandom: {e}"))?;
            if let Ok(k) = p256::SecretKey::from_slice(b.as_ref()) {
                break k;
            }
        };
        let signing = p256::ecdsa::SigningKey::from(&secret);
        let spki = SubjectPublicKeyInfoOwned::from_key(signing.verifying_key())
            .map_err(|e| anyhow!("{e}"))?;
        let subject =
            Name::from_str("CN=vtpm local CA,O=vtpm-host-sim").map_err(|e| anyhow!("{e}"))?;
        let profile = CaProfile {
            subject: subject.clone(),
        };
        let validity = Validity::from_now(Duration::from_secs(20 * 365 * 24 * 3600))
            .map_err(|e| anyhow!("{e}"))?;
        let builder = CertificateBuilder::new(profile, random_serial()?, validity, spki)
            .map_err(|e| anyhow!("{e}"))?;
        let c = builder
            .build::<_, p256::ecdsa::DerSignature>(&signing)
            .map_err(|e| anyhow!("cannot sign the CA certificate: {e}"))?;
        let key_pem = secret
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| anyhow!("{e}"))?;
        crate::store::write_atomic(dir, CA_KEY_FILE, key_pem.as_bytes(), true)
            .with_context(|| format!("cannot write {}", key.display()))?;
        let cert_pem = c.to_pem(LineEnding::LF).map_err(|e| anyhow!("{e}"))?;
        crate::store::write_atomic(dir, CA_CERT_FILE, cert_pem.as_bytes(), true)
            .with_context(|| format!("cannot write {}", cert.display()))?;
        tracing::info!("created a local CA in {}", dir.display());
        Ok(Ca {
            key: CaKey::EcP256(signing),
            cert: c,
            cert_path: cert,
        })
    }

    /// Sign a certificate for `spki` with the given profile.
    fn sign(
        &self,
        profile: LeafProfile,
        spki: SubjectPublicKeyInfoOwned,
        validity: Validity,
    ) -> anyhow::Result<Vec<u8>> {
        let builder = CertificateBuilder::new(profile, random_serial()?, validity, spki)
            .map_err(|e| anyhow!("{e}"))?;
        let c = match &self.key {
            CaKey::EcP256(k) => builder.build::<_, p256::ecdsa::DerSignature>(k),
            CaKey::Rsa(k) => builder.build::<_, rsa::pkcs1v15::Signature>(k.as_ref()),
        }
        .map_err(|e| anyhow!("cannot sign the certificate: {e}"))?;
        c.to_der().map_err(|e| anyhow!("{e}"))
    }
}

fn key_path_display(kind: &str) -> String {
    format!("key {kind}")
}

/// A positive 127-bit random serial number.
fn random_serial() -> anyhow::Result<SerialNumber> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| anyhow!("getrandom: {e}"))?;
    if let Some(first) = b.first_mut() {
        *first = (*first & 0x7f) | 0x01;
    }
    SerialNumber::new(&b).map_err(|e| anyhow!("{e}"))
}

/// The subjectPublicKeyInfo of an EK.
pub fn ek_spki(key: &EkPublic) -> anyhow::Result<SubjectPublicKeyInfoOwned> {
    match key {
        EkPublic::Rsa { modulus } => {
            let n = rsa::BoxedUint::from_be_slice_vartime(modulus);
            let e = rsa::BoxedUint::from(65537u32);
            let k = rsa::PublicKey::new(n, e).map_err(|e| anyhow!("EK RSA key: {e}"))?;
            SubjectPublicKeyInfoOwned::from_key(&k).map_err(|e| anyhow!("{e}"))
        }
        EkPublic::EccP256 { x, y } => {
            let mut sec1 = vec![0x04];
            sec1.extend_from_slice(x);
            sec1.extend_from_slice(y);
            let k = p256::PublicKey::from_sec1_bytes(&sec1)
                .map_err(|_| anyhow!("EK ECC point is not on P-256"))?;
            SubjectPublicKeyInfoOwned::from_key(&k).map_err(|e| anyhow!("{e}"))
        }
    }
}

/// A name of UTF8String attributes, one per RDN.
fn attribute_name(attrs: &[(ObjectIdentifier, &str)]) -> anyhow::Result<Name> {
    let mut seq = RdnSequence::default();
    for (oid, value) in attrs {
        let s = Utf8StringRef::new(value).map_err(|e| anyhow!("{e}"))?;
        let atv = AttributeTypeAndValue {
            oid: *oid,
            value: der::Any::encode_from(&s).map_err(|e| anyhow!("{e}"))?,
        };
        seq.push(RelativeDistinguishedName::try_from(vec![atv]).map_err(|e| anyhow!("{e}"))?);
    }
    // A Name is encoded as its RDN sequence.
    Name::from_der(&seq.to_der().map_err(|e| anyhow!("{e}"))?).map_err(|e| anyhow!("{e}"))
}

/// The TPM identity an EK certificate names.
#[derive(Debug, Clone)]
pub struct TpmInfo {
    /// "id:XXXXXXXX" (TPM_PT_MANUFACTURER).
    pub manufacturer: String,
    /// Model string.
    pub model: String,
    /// "id:XXXXXXXX" (TPM_PT_FIRMWARE_VERSION_1).
    pub version: String,
}

/// The platform a platform certificate names.
#[derive(Debug, Clone)]
pub struct PlatformInfo {
    /// Platform manufacturer.
    pub manufacturer: String,
    /// Platform model.
    pub model: String,
    /// Platform version.
    pub version: String,
}

/// A self-signed CA.
struct CaProfile {
    subject: Name,
}

impl BuilderProfile for CaProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut ext = Vec::new();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        ext.push(
            (
                true,
                &BasicConstraints {
                    ca: true,
                    path_len_constraint: None,
                },
            )
                .to_extension(tbs.subject(), &ext)?,
        );
        ext.push(
            (true, &KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign))
                .to_extension(tbs.subject(), &ext)?,
        );
        ext.push((&ski).to_extension(tbs.subject(), &ext)?);
        Ok(ext)
    }
}

/// What kind of leaf certificate.
enum LeafKind {
    Ek { rsa: bool },
    Platform,
}

/// An EK or platform certificate: empty subject, the identity in a
/// critical subjectAltName.
struct LeafProfile {
    issuer: Name,
    alt_name: Name,
    kind: LeafKind,
}

impl BuilderProfile for LeafProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        Name::default()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut ext = Vec::new();
        let aki = SubjectKeyIdentifier::try_from(issuer_spk)?;
        ext.push(
            (&AuthorityKeyIdentifier {
                key_identifier: Some(aki.0),
                ..Default::default()
            })
                .to_extension(tbs.subject(), &ext)?,
        );
        ext.push(
            (
                true,
                &BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
            )
                .to_extension(tbs.subject(), &ext)?,
        );
        let (usage, kp) = match self.kind {
            LeafKind::Ek { rsa: true } => (KeyUsages::KeyEncipherment.into(), KP_EK_CERTIFICATE),
            LeafKind::Ek { rsa: false } => (KeyUsages::KeyAgreement.into(), KP_EK_CERTIFICATE),
            LeafKind::Platform => (
                KeyUsages::KeyEncipherment | KeyUsages::KeyAgreement,
                KP_PLATFORM_CERTIFICATE,
            ),
        };
        ext.push((true, &KeyUsage(usage)).to_extension(tbs.subject(), &ext)?);
        ext.push((false, &ExtendedKeyUsage(vec![kp])).to_extension(tbs.subject(), &ext)?);
        // Critical, since the subject is empty (RFC 5280 4.2.1.6).
        ext.push(
            (&SubjectAltName(vec![GeneralName::DirectoryName(self.alt_name.clone())]))
                .to_extension(tbs.subject(), &ext)?,
        );
        Ok(ext)
    }
}

/// Validity of EK and platform certificates: from now, no well-defined
/// expiry (99991231235959Z, RFC 5280 4.1.2.5), as EK certificates have.
fn leaf_validity() -> anyhow::Result<Validity> {
    Ok(Validity::new(
        Time::now().map_err(|e| anyhow!("{e}"))?,
        Time::INFINITY,
    ))
}

/// An EK certificate (DER).
pub fn ek_certificate(ca: &Ca, ek: &EkPublic, tpm: &TpmInfo) -> anyhow::Result<Vec<u8>> {
    let alt_name = attribute_name(&[
        (TPM_MANUFACTURER, &tpm.manufacturer),
        (TPM_MODEL, &tpm.model),
        (TPM_VERSION, &tpm.version),
    ])?;
    let profile = LeafProfile {
        issuer: ca.cert.tbs_certificate().subject().clone(),
        alt_name,
        kind: LeafKind::Ek {
            rsa: matches!(ek, EkPublic::Rsa { .. }),
        },
    };
    ca.sign(profile, ek_spki(ek)?, leaf_validity()?)
}

/// A platform certificate (DER) for the platform holding the TPM whose
/// EK is `ek`.
pub fn platform_certificate(
    ca: &Ca,
    ek: &EkPublic,
    platform: &PlatformInfo,
) -> anyhow::Result<Vec<u8>> {
    let alt_name = attribute_name(&[
        (PLATFORM_MANUFACTURER, &platform.manufacturer),
        (PLATFORM_MODEL, &platform.model),
        (PLATFORM_VERSION, &platform.version),
    ])?;
    let profile = LeafProfile {
        issuer: ca.cert.tbs_certificate().subject().clone(),
        alt_name,
        kind: LeafKind::Platform,
    };
    ca.sign(profile, ek_spki(ek)?, leaf_validity()?)
}

#[cfg(test)]
mod unit {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn temp(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vtpm-ca-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn generated_ca_signs_an_ek_certificate_that_verifies() {
        use p256::ecdsa::signature::Verifier;
        let dir = temp("gen");
        let ca = Ca::open_or_create(&dir).unwrap();
        // Reopening loads the same CA.
        let again = Ca::open_or_create(&dir).unwrap();
        assert_eq!(ca.cert, again.cert);
        let point = p256::SecretKey::from_slice(&[7u8; 32])
            .unwrap()
            .public_key();
        let sec1 = point.to_sec1_bytes();
        assert_eq!(sec1.len(), 65, "uncompressed");
        let ek = EkPublic::EccP256 {
            x: sec1[1..33].to_vec(),
            y: sec1[33..].to_vec(),
        };
        let info = TpmInfo {
            manufacturer: "id:5654504D".into(),
            model: "vtpm".into(),
            version: "id:00000001".into(),
        };
        let der = ek_certificate(&ca, &ek, &info).unwrap();
        let c = Certificate::from_der(&der).unwrap();
        let tbs = c.tbs_certificate();
        assert!(tbs.subject().is_empty());
        assert_eq!(tbs.issuer(), ca.cert.tbs_certificate().subject());
        let exts = tbs.extensions().unwrap();
        let san = exts
            .iter()
            .find(|e| e.extn_id == ObjectIdentifier::new_unwrap("2.5.29.17"))
            .unwrap();
        assert!(san.critical);
        // The signature verifies with the CA's key.
        let CaKey::EcP256(k) = &ca.key else { panic!() };
        let sig = p256::ecdsa::DerSignature::from_bytes(c.signature().raw_bytes()).unwrap();
        k.verifying_key()
            .verify(&tbs.to_der().unwrap(), &sig)
            .unwrap();
        // The SPKI is the EK's.
        assert_eq!(
            tbs.subject_public_key_info().to_der().unwrap(),
            ek_spki(&ek).unwrap().to_der().unwrap()
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_ca_key_not_matching_its_certificate_is_refused() {
        let a = temp("a");
        let b = temp("b");
        Ca::open_or_create(&a).unwrap();
        Ca::open_or_create(&b).unwrap();
        let e = Ca::load(&a.join(CA_KEY_FILE), &b.join(CA_CERT_FILE)).unwrap_err();
        assert!(e.to_string().contains("does not belong"), "{e}");
        let _ = std::fs::remove_dir_all(a);
        let _ = std::fs::remove_dir_all(b);
    }
}
