//! Part 3, 15: Symmetric Primitives (`TPM2_EncryptDecrypt`,
//! `TPM2_EncryptDecrypt2`, `TPM2_HMAC`; `TPM2_Hash` is in [`super::hash`]).

use super::Command;
use crate::crypto::sym::{self, SymMode, AES_BLOCK_SIZE};
use crate::crypto::{hmac, HashAlg, HashOrNull};
use crate::engine::Ctx;
use crate::tpm_params;
use crate::wire::consts::alg;
use crate::wire::object::{oa, Public};
use crate::wire::public::{is_sym_mode, KeyedHashScheme, PublicParms, SymDef};
use crate::wire::types::{Digest2b, MaxBuffer2b, Tpm2b, YesNo};
use crate::wire::{AlgId, Handle, Marshal, Rc, Reader, TpmResult, Unmarshal, Writer};

/// `TPM2B_IV` (at most one block).
pub type Iv2b = Tpm2b<{ crate::wire::consts::sizes::MAX_SYM_BLOCK }>;

/// `TPMI_ALG_CIPHER_MODE+`: CTR, OFB, CBC, CFB, ECB or NULL
/// (`TPM_RC_MODE` otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CipherMode(pub AlgId);

impl Unmarshal for CipherMode {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let m: AlgId = r.read()?;
        if is_sym_mode(m) || m == alg::NULL {
            Ok(CipherMode(m))
        } else {
            Err(Rc::MODE)
        }
    }
}

impl Marshal for CipherMode {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.0);
    }
}

fn sym_mode(m: AlgId) -> Option<SymMode> {
    Some(match m {
        alg::CTR => SymMode::Ctr,
        alg::OFB => SymMode::Ofb,
        alg::CBC => SymMode::Cbc,
        alg::CFB => SymMode::Cfb,
        alg::ECB => SymMode::Ecb,
        _ => return None,
    })
}

/// Parameter numbers of `mode`, `ivIn` and `inData` (they differ between
/// EncryptDecrypt and EncryptDecrypt2).
struct Positions {
    mode: u32,
    iv: u32,
    data: u32,
}

tpm_params! {
    /// `TPM2_EncryptDecrypt` and `TPM2_EncryptDecrypt2` response.
    pub struct EncryptDecryptOut {
        /// The transformed data.
        pub out_data: MaxBuffer2b,
        /// The chaining value for the next call.
        pub iv_out: Iv2b,
    }
}

/// The shared body (the reference's `EncryptDecryptShared`).
fn encrypt_decrypt(
    ctx: &mut Ctx<'_>,
    handles: &[Handle],
    decrypt: bool,
    mode_in: AlgId,
    iv: &[u8],
    data: &[u8],
    pos: Positions,
) -> TpmResult<EncryptDecryptOut> {
    let h = handles.first().copied().ok_or(Rc::FAILURE)?;
    let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
    let PublicParms::SymCipher {
        sym: SymDef::Aes { mode: key_mode, .. },
    } = key.public.parms
    else {
        return Err(Rc::KEY.handle(1));
    };
    let needed = if decrypt {
        oa::DECRYPT
    } else {
        oa::SIGN_ENCRYPT
    };
    if key.public.has(oa::RESTRICTED) || !key.public.has(needed) {
        return Err(Rc::ATTRIBUTES.handle(1));
    }
    let mode = if key_mode != alg::NULL {
        if mode_in != alg::NULL && mode_in != key_mode {
            return Err(Rc::MODE.param(pos.mode));
        }
        key_mode
    } else if mode_in == alg::NULL {
        return Err(Rc::MODE.param(pos.mode));
    } else {
        mode_in
    };
    let mode = sym_mode(mode).ok_or(Rc::MODE.handle(1))?;
    let iv_ok = if mode == SymMode::Ecb {
        iv.is_empty()
    } else {
        iv.len() == AES_BLOCK_SIZE
    };
    if !iv_ok {
        return Err(Rc::SIZE.param(pos.iv));
    }
    if matches!(mode, SymMode::Cbc | SymMode::Ecb) && !data.len().is_multiple_of(AES_BLOCK_SIZE) {
        return Err(Rc::SIZE.param(pos.data));
    }
    let sens = key.sensitive.as_ref().ok_or(Rc::AUTH_UNAVAILABLE)?;
    let out = if decrypt {
        sym::aes_decrypt(mode, &sens.sensitive, iv, data)?
    } else {
        sym::aes_encrypt(mode, &sens.sensitive, iv, data)?
    };
    Ok(EncryptDecryptOut {
        out_data: Tpm2b(out.data),
        iv_out: Tpm2b(out.iv_out),
    })
}

tpm_params! {
    /// `TPM2_EncryptDecrypt` parameters.
    pub struct EncryptDecryptIn {
        /// YES to decrypt, NO to encrypt.
        pub decrypt: YesNo,
        /// The mode (NULL: the key's).
        pub mode: CipherMode,
        /// The initial chaining value.
        pub iv_in: Iv2b,
        /// The data.
        pub in_data: MaxBuffer2b,
    }
}

/// `TPM2_EncryptDecrypt` (Part 3, 15.2). The key must be a symmetric
/// cipher (`TPM_RC_KEY`), unrestricted, with `decrypt` to decrypt and
/// `sign` to encrypt (`TPM_RC_ATTRIBUTES`). A key with a mode allows only
/// that mode (or NULL); a key without one needs a mode (`TPM_RC_MODE`).
/// The IV is one block (empty for ECB) and CBC/ECB data whole blocks
/// (`TPM_RC_SIZE`).
#[derive(Debug)]
#[doc(alias = "TPM2_EncryptDecrypt")]
pub struct EncryptDecrypt;

impl Command for EncryptDecrypt {
    type In = EncryptDecryptIn;
    type Out = EncryptDecryptOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: EncryptDecryptIn,
    ) -> TpmResult<EncryptDecryptOut> {
        encrypt_decrypt(
            ctx,
            handles,
            input.decrypt.0,
            input.mode.0,
            input.iv_in.as_slice(),
            input.in_data.as_slice(),
            Positions {
                mode: 2,
                iv: 3,
                data: 4,
            },
        )
    }
}

tpm_params! {
    /// `TPM2_EncryptDecrypt2` parameters.
    pub struct EncryptDecrypt2In {
        /// The data (first, so that it may be parameter-encrypted).
        pub in_data: MaxBuffer2b,
        /// YES to decrypt, NO to encrypt.
        pub decrypt: YesNo,
        /// The mode (NULL: the key's).
        pub mode: CipherMode,
        /// The initial chaining value.
        pub iv_in: Iv2b,
    }
}

/// `TPM2_EncryptDecrypt2` (Part 3, 15.3): [`EncryptDecrypt`] with the data
/// first.
#[derive(Debug)]
#[doc(alias = "TPM2_EncryptDecrypt2")]
pub struct EncryptDecrypt2;

impl Command for EncryptDecrypt2 {
    type In = EncryptDecrypt2In;
    type Out = EncryptDecryptOut;
    fn run(
        ctx: &mut Ctx<'_>,
        handles: &[Handle],
        input: EncryptDecrypt2In,
    ) -> TpmResult<EncryptDecryptOut> {
        encrypt_decrypt(
            ctx,
            handles,
            input.decrypt.0,
            input.mode.0,
            input.iv_in.as_slice(),
            input.in_data.as_slice(),
            Positions {
                mode: 3,
                iv: 4,
                data: 1,
            },
        )
    }
}

/// The checks and hash selection shared by TPM2_HMAC and TPM2_HMAC_Start
/// (Part 3, 15.5 and 17.2): a KEYEDHASH key (`TPM_RC_TYPE`), unrestricted
/// (`TPM_RC_ATTRIBUTES`), with `sign` (`TPM_RC_KEY`), all on handle 1. A
/// key with an HMAC scheme fixes the hash and the request must be NULL or
/// the same; a key without one needs a hash (`TPM_RC_VALUE`, unpositioned:
/// the caller attaches the position of `hashAlg`). A keyed-hash key whose
/// scheme is XOR is not an HMAC key (`TPM_RC_SCHEME` on handle 1).
pub fn hmac_key_hash(public: &Public, requested: Option<HashAlg>) -> TpmResult<HashAlg> {
    let PublicParms::KeyedHash { scheme } = &public.parms else {
        return Err(Rc::TYPE.handle(1));
    };
    if public.has(oa::RESTRICTED) {
        return Err(Rc::ATTRIBUTES.handle(1));
    }
    if !public.has(oa::SIGN_ENCRYPT) {
        return Err(Rc::KEY.handle(1));
    }
    match (scheme, requested) {
        (KeyedHashScheme::Null, Some(h)) => Ok(h),
        (KeyedHashScheme::Null, None) => Err(Rc::VALUE),
        (KeyedHashScheme::Hmac(k), None) => Ok(*k),
        (KeyedHashScheme::Hmac(k), Some(h)) if *k == h => Ok(h),
        (KeyedHashScheme::Hmac(_), Some(_)) => Err(Rc::VALUE),
        (KeyedHashScheme::Xor(..), _) => Err(Rc::SCHEME.handle(1)),
    }
}

tpm_params! {
    /// `TPM2_HMAC` parameters.
    pub struct HmacIn {
        /// The data.
        pub buffer: MaxBuffer2b,
        /// `hashAlg` (NULL: the key's).
        pub hash_alg: HashOrNull,
    }
}

tpm_params! {
    /// `TPM2_HMAC` response.
    pub struct HmacOut {
        /// The HMAC.
        pub out_hmac: Digest2b,
    }
}

/// `TPM2_HMAC` (Part 3, 15.5).
#[derive(Debug)]
#[doc(alias = "TPM2_HMAC")]
pub struct Hmac;

impl Command for Hmac {
    type In = HmacIn;
    type Out = HmacOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: HmacIn) -> TpmResult<HmacOut> {
        let h = handles.first().copied().ok_or(Rc::FAILURE)?;
        let key = ctx.object(h).ok_or(Rc::HANDLE.handle(1))?;
        let hash = hmac_key_hash(&key.public, input.hash_alg.0).map_err(|e| e.param(2))?;
        let sens = key.sensitive.as_ref().ok_or(Rc::AUTH_UNAVAILABLE)?;
        Ok(HmacOut {
            out_hmac: Tpm2b(hmac::hmac(
                hash,
                &sens.sensitive,
                &[input.buffer.as_slice()],
            )),
        })
    }
}
