//! Part 2 structures shared by many commands.
//!
//! Every TPM2B goes through [`Tpm2b`], parameterised by its Part 2 maximum;
//! every TPML checks its count against its maximum (`TPM_RC_SIZE`).

use alloc::vec::Vec;

use super::consts::{rh, sizes, st};
use super::{Handle, Marshal, Rc, Reader, StructTag, TpmResult, Unmarshal, Writer};
use crate::crypto::{HashAlg, HashOrNull};

/// A TPM2B with Part 2 maximum `MAX` octets.
#[derive(Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Tpm2b<const MAX: usize>(pub Vec<u8>);

impl<const MAX: usize> core::fmt::Debug for Tpm2b<MAX> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Tpm2b[{}]", self.0.len())
    }
}

impl<const MAX: usize> Tpm2b<MAX> {
    /// An empty buffer.
    pub const fn empty() -> Self {
        Tpm2b(Vec::new())
    }
    /// Build from a slice the engine produced (bounded by construction);
    /// a longer slice is refused with `TPM_RC_SIZE`.
    pub fn from_slice(b: &[u8]) -> TpmResult<Self> {
        if b.len() > MAX {
            return Err(Rc::SIZE);
        }
        Ok(Tpm2b(b.to_vec()))
    }
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
    /// Length in octets.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<const MAX: usize> Unmarshal for Tpm2b<MAX> {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        Ok(Tpm2b(r.tpm2b(MAX)?.to_vec()))
    }
}

impl<const MAX: usize> Marshal for Tpm2b<MAX> {
    fn marshal(&self, w: &mut Writer) {
        w.tpm2b(&self.0);
    }
}

/// `TPM2B_DIGEST` (and `TPM2B_NONCE`, `TPM2B_AUTH`, `TPM2B_OPERAND`).
pub type Digest2b = Tpm2b<{ sizes::MAX_DIGEST }>;
/// `TPM2B_DATA`: up to sizeof(TPMT_HA) octets (Part 2, 10.3.3).
pub type Data2b = Tpm2b<{ sizes::MAX_DIGEST + 2 }>;
/// `TPM2B_MAX_BUFFER`.
pub type MaxBuffer2b = Tpm2b<{ sizes::MAX_DIGEST_BUFFER }>;
/// `TPM2B_EVENT`.
pub type Event2b = Tpm2b<1024>;
/// `TPM2B_SENSITIVE_DATA`.
pub type SensitiveData2b = Tpm2b<128>;
/// `TPM2B_MAX_NV_BUFFER`.
pub type MaxNvBuffer2b = Tpm2b<{ sizes::MAX_NV_BUFFER }>;
/// `TPM2B_TIMEOUT`.
pub type Timeout2b = Tpm2b<8>;

/// `TPMI_YES_NO`: 0 or 1, anything else `TPM_RC_VALUE`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct YesNo(pub bool);

impl Unmarshal for YesNo {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        match r.u8()? {
            0 => Ok(YesNo(false)),
            1 => Ok(YesNo(true)),
            _ => Err(Rc::VALUE),
        }
    }
}

impl Marshal for YesNo {
    fn marshal(&self, w: &mut Writer) {
        w.u8(u8::from(self.0));
    }
}

/// `TPMS_PCR_SELECTION` / `TPMS_PCR_SELECT` bitmap of up to 24 PCRs.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct PcrBitmap(pub u32);

impl PcrBitmap {
    /// Is PCR `i` selected?
    pub const fn has(self, i: usize) -> bool {
        i < 32 && self.0 & (1u32 << i) != 0
    }
    /// Select PCR `i`.
    pub fn set(&mut self, i: usize) {
        if i < 32 {
            self.0 |= 1u32 << i;
        }
    }
    /// Deselect PCR `i`.
    pub fn clear(&mut self, i: usize) {
        if i < 32 {
            self.0 &= !(1u32 << i);
        }
    }
    /// The 3-octet wire form (PCR 0 is bit 0 of octet 0).
    pub const fn octets(self) -> [u8; 3] {
        let b = self.0.to_le_bytes();
        [b[0], b[1], b[2]]
    }
    /// All 24 PCRs.
    pub const ALL: PcrBitmap = PcrBitmap(0x00FF_FFFF);
}

/// Read `sizeofSelect` and the select octets (Part 2, 10.6.1/10.6.2). The
/// size must be between `PCR_SELECT_MIN` and `PCR_SELECT_MAX`
/// (`TPM_RC_VALUE`).
fn read_pcr_select(r: &mut Reader<'_>) -> TpmResult<PcrBitmap> {
    let size = usize::from(r.u8()?);
    if !(sizes::PCR_SELECT_MIN..=sizes::PCR_SELECT_MAX).contains(&size) {
        return Err(Rc::VALUE);
    }
    let bytes = r.take(size)?;
    let mut v = 0u32;
    for (i, b) in bytes.iter().enumerate() {
        v |= u32::from(*b)
            .checked_shl(u32::try_from(i).unwrap_or(4).saturating_mul(8))
            .unwrap_or(0);
    }
    Ok(PcrBitmap(v & PcrBitmap::ALL.0))
}

/// `TPMS_PCR_SELECTION`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PcrSelection {
    /// The bank.
    pub hash: HashAlg,
    /// The PCRs.
    pub select: PcrBitmap,
}

impl Unmarshal for PcrSelection {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let hash = r.read()?;
        let select = read_pcr_select(r)?;
        Ok(PcrSelection { hash, select })
    }
}

impl Marshal for PcrSelection {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.hash);
        w.u8(sizes::PCR_SELECT_MAX as u8);
        w.bytes(&self.select.octets());
    }
}

/// Read a TPML count and check it against the list's maximum (`TPM_RC_SIZE`).
pub fn read_count(r: &mut Reader<'_>, max: usize) -> TpmResult<usize> {
    let n = r.u32()?;
    let n = usize::try_from(n).map_err(|_| Rc::SIZE)?;
    if n > max {
        return Err(Rc::SIZE);
    }
    Ok(n)
}

/// Write a TPML count.
pub fn write_count(w: &mut Writer, n: usize) {
    w.u32(u32::try_from(n).unwrap_or(u32::MAX));
}

macro_rules! tpml {
    ($(#[$m:meta])* $name:ident, $item:ty, $max:expr) => {
        $(#[$m])*
        #[derive(Clone, PartialEq, Eq, Debug, Default)]
        pub struct $name(pub Vec<$item>);
        impl Unmarshal for $name {
            fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
                let n = read_count(r, $max)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(r.read()?);
                }
                Ok($name(v))
            }
        }
        impl Marshal for $name {
            fn marshal(&self, w: &mut Writer) {
                write_count(w, self.0.len());
                for i in &self.0 {
                    w.write(i);
                }
            }
        }
    };
}

tpml!(
    /// `TPML_PCR_SELECTION` (at most `HASH_COUNT` entries).
    PcrSelectionList, PcrSelection, sizes::HASH_COUNT
);
tpml!(
    /// `TPML_DIGEST` (at most 8 digests).
    DigestList, Digest2b, 8
);
tpml!(
    /// `TPML_DIGEST_VALUES` (at most `HASH_COUNT` entries).
    DigestValues, Ha, sizes::HASH_COUNT
);
tpml!(
    /// `TPML_ALG` (at most `MAX_ALG_LIST_SIZE` = 64).
    AlgList, super::AlgId, 64
);
tpml!(
    /// `TPML_CC` (at most `MAX_CAP_CC` = 256).
    CcList, super::CommandCode, 256
);

/// `TPMT_HA`: a hash algorithm and a digest of exactly its size.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Ha {
    /// The algorithm.
    pub alg: HashAlg,
    /// The digest.
    pub digest: Vec<u8>,
}

impl Unmarshal for Ha {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let alg: HashAlg = r.read()?;
        let digest = r.take(alg.digest_size())?.to_vec();
        Ok(Ha { alg, digest })
    }
}

impl Marshal for Ha {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.alg);
        w.bytes(&self.digest);
    }
}

/// `TPMT_TK_HASHCHECK` (and the other tickets, which share its layout:
/// tag, hierarchy, digest).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Ticket {
    /// The ticket's structure tag.
    pub tag: StructTag,
    /// `TPMI_RH_HIERARCHY+`.
    pub hierarchy: Handle,
    /// The HMAC (empty for a NULL ticket).
    pub digest: Digest2b,
}

impl Ticket {
    /// A NULL ticket of the given tag (Part 2: hierarchy TPM_RH_NULL, empty digest).
    pub fn null(tag: StructTag) -> Self {
        Ticket {
            tag,
            hierarchy: rh::NULL,
            digest: Digest2b::empty(),
        }
    }
}

impl Unmarshal for Ticket {
    fn unmarshal(r: &mut Reader<'_>) -> TpmResult<Self> {
        let tag: StructTag = r.read()?;
        let hierarchy: Handle = r.read()?;
        let digest = r.read()?;
        Ok(Ticket {
            tag,
            hierarchy,
            digest,
        })
    }
}

impl Marshal for Ticket {
    fn marshal(&self, w: &mut Writer) {
        w.write(&self.tag);
        w.write(&self.hierarchy);
        w.write(&self.digest);
    }
}

/// `TPMS_CLOCK_INFO`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct ClockInfo {
    /// Milliseconds the TPM has been powered since manufacture (approx.).
    pub clock: u64,
    /// TPM Resets since the last Clear.
    pub reset_count: u32,
    /// Restarts/Resumes since the last Reset.
    pub restart_count: u32,
    /// No clock value has been reported that was later lost.
    pub safe: bool,
}

impl Marshal for ClockInfo {
    fn marshal(&self, w: &mut Writer) {
        w.u64(self.clock);
        w.u32(self.reset_count);
        w.u32(self.restart_count);
        w.u8(u8::from(self.safe));
    }
}

/// `TPMS_TIME_INFO`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct TimeInfo {
    /// Milliseconds since the last _TPM_Init.
    pub time: u64,
    /// The clock.
    pub clock_info: ClockInfo,
}

impl Marshal for TimeInfo {
    fn marshal(&self, w: &mut Writer) {
        w.u64(self.time);
        w.write(&self.clock_info);
    }
}

/// Helper so `HashOrNull` fits the param macros.
impl Default for HashOrNull {
    fn default() -> Self {
        HashOrNull(None)
    }
}

/// The tag of a `TPMT_TK_HASHCHECK`.
pub const HASHCHECK: StructTag = st::HASHCHECK;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_too_many_pcr_selections() {
        let mut w = Writer::new();
        w.u32(5);
        assert_eq!(
            Reader::new(w.as_slice()).read::<PcrSelectionList>(),
            Err(Rc::SIZE)
        );
    }

    #[test]
    fn rejects_oversized_pcr_select() {
        let bytes = [0, 0, 0, 1, 0x00, 0x0B, 4, 1, 2, 3, 4];
        assert_eq!(
            Reader::new(&bytes).read::<PcrSelectionList>(),
            Err(Rc::VALUE)
        );
    }

    #[test]
    fn round_trips_pcr_selection() {
        let bytes = [0, 0, 0, 1, 0x00, 0x0B, 3, 0x81, 0x00, 0x80];
        let l: PcrSelectionList = Reader::new(&bytes).read().unwrap_or_default();
        assert_eq!(l.0.len(), 1);
        assert!(l.0[0].select.has(0) && l.0[0].select.has(7) && l.0[0].select.has(23));
        assert_eq!(l.to_bytes(), bytes);
    }

    #[test]
    fn rejects_digest_of_wrong_size() {
        let bytes = [0, 0x0B, 1, 2, 3];
        assert_eq!(Reader::new(&bytes).read::<Ha>(), Err(Rc::INSUFFICIENT));
    }
}
