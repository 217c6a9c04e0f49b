//! Part 3, 12.5-12.6: `TPM2_MakeCredential` and `TPM2_ActivateCredential`
//! (Part 1, 24.x "Credential Protection").

use alloc::vec::Vec;

use super::{Command, ToParams};
use crate::engine::Ctx;
use crate::object::{protect, secret};
use crate::tpm_params;
use crate::wire::object::{Name2b, Public};
use crate::wire::types::{Digest2b, Tpm2b};
use crate::wire::{Handle, Rc, TpmResult, Writer};

/// `TPM2B_ID_OBJECT` maximum: integrity digest plus the encrypted credential.
pub type IdObject2b = Tpm2b<{ 2 + 64 + 2 + 64 }>;
/// `TPM2B_ENCRYPTED_SECRET` (room for an RSA-4096 block or an ML-KEM-1024
/// ciphertext).
pub use crate::wire::pqc::EncryptedSecret2b;

/// A key may protect credentials if it is a restricted decryption key with
/// a symmetric algorithm (a storage key; the EK is one).
fn credential_key(public: &Public) -> bool {
    public.is_storage_parent()
}

tpm_params! {
    /// `TPM2_MakeCredential` parameters.
    pub struct MakeCredentialIn {
        /// The credential (at most a digest).
        pub credential: Digest2b,
        /// objectName: the Name of the key the credential is for.
        pub object_name: Name2b,
    }
}

/// `TPM2_MakeCredential` response.
#[derive(Debug)]
pub struct MakeCredentialOut {
    /// credentialBlob.
    pub credential_blob: Vec<u8>,
    /// secret.
    pub secret: Vec<u8>,
}

impl ToParams for MakeCredentialOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.tpm2b(&self.credential_blob);
        w.tpm2b(&self.secret);
    }
}

/// `TPM2_MakeCredential` (Part 3, 12.6).
#[derive(Debug)]
#[doc(alias = "TPM2_MakeCredential")]
pub struct MakeCredential;

impl Command for MakeCredential {
    type In = MakeCredentialIn;
    type Out = MakeCredentialOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: MakeCredentialIn,
    ) -> TpmResult<MakeCredentialOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?.clone();
        if !credential_key(&key.public) {
            return Err(Rc::KEY.handle(1));
        }
        let name_alg = key.public.name_alg.ok_or(Rc::KEY.handle(1))?;
        if input.credential.len() > name_alg.digest_size() {
            return Err(Rc::SIZE.param(1));
        }
        let mut drbg = ctx.v.drbg.clone();
        let (seed, enc) = secret::encrypt_seed(&key, b"IDENTITY\0", &mut drbg)?;
        ctx.v.drbg = drbg;
        let mut w = Writer::new();
        w.tpm2b(input.credential.as_slice());
        let blob = protect::outer_wrap(
            &key.public,
            &seed,
            input.object_name.as_slice(),
            w.as_slice(),
        )?;
        Ok(MakeCredentialOut {
            credential_blob: blob,
            secret: enc,
        })
    }
}

tpm_params! {
    /// `TPM2_ActivateCredential` parameters.
    pub struct ActivateCredentialIn {
        /// credentialBlob.
        pub credential_blob: IdObject2b,
        /// secret.
        pub secret: EncryptedSecret2b,
    }
}

tpm_params! {
    /// `TPM2_ActivateCredential` response.
    pub struct ActivateCredentialOut {
        /// certInfo: the credential.
        pub cert_info: Digest2b,
    }
}

/// `TPM2_ActivateCredential` (Part 3, 12.5).
#[derive(Debug)]
#[doc(alias = "TPM2_ActivateCredential")]
pub struct ActivateCredential;

impl Command for ActivateCredential {
    type In = ActivateCredentialIn;
    type Out = ActivateCredentialOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: ActivateCredentialIn,
    ) -> TpmResult<ActivateCredentialOut> {
        let (Some(&ah), Some(&kh)) = (handles.first(), handles.get(1)) else {
            return Err(Rc::FAILURE);
        };
        let activate_name = ctx.object(ah).ok_or(Rc::HANDLE.handle(1))?.name.clone();
        let key = ctx.object(kh).ok_or(Rc::HANDLE.handle(2))?.clone();
        if !credential_key(&key.public) {
            return Err(Rc::TYPE.handle(2));
        }
        let mut drbg = ctx.v.drbg.clone();
        let seed = secret::decrypt_seed(&key, b"IDENTITY\0", input.secret.as_slice(), &mut drbg)
            .map_err(|e| e.param(2))?;
        ctx.v.drbg = drbg;
        let plain = protect::outer_unwrap(
            &key.public,
            &seed,
            &activate_name,
            input.credential_blob.as_slice(),
        )
        .map_err(|e| e.param(1))?;
        let mut r = crate::wire::Reader::new(&plain);
        let cred = r
            .tpm2b(crate::wire::consts::sizes::MAX_DIGEST)
            .map_err(|_| Rc::SIZE.param(1))?
            .to_vec();
        r.finish().map_err(|_| Rc::SIZE.param(1))?;
        Ok(ActivateCredentialOut {
            cert_info: Tpm2b(cred),
        })
    }
}
