//! PCR banks and the PC client PCR attributes (Part 1, 17; PC Client PTP).

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::crypto::HashAlg;
use crate::wire::consts::sizes::PCR_COUNT;
use crate::wire::types::PcrBitmap;

/// One bank: its algorithm and 24 values.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Bank {
    /// The bank's hash.
    pub alg: HashAlg,
    /// PCR values, each `alg.digest_size()` octets.
    pub values: Vec<Vec<u8>>,
}

/// The active PCR banks.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct PcrBanks {
    /// Active banks in allocation order.
    pub banks: Vec<Bank>,
}

/// PC client PCR attributes: which localities may reset and extend each PCR
/// (bit i = locality i), as the reference and libtpms implement the PTP
/// table.
pub const fn attributes(pcr: usize) -> (u8, u8) {
    // (reset localities, extend localities)
    match pcr {
        0..=15 => (0x00, 0x1F),
        16 | 23 => (0x0F, 0x1F),
        17 | 18 => (0x10, 0x1C),
        19 => (0x10, 0x0C),
        20 => (0x14, 0x0E),
        21 | 22 => (0x14, 0x04),
        _ => (0x00, 0x00),
    }
}

/// PCRs whose values `Shutdown(STATE)` preserves: those not resettable
/// (PC client 0-15).
pub const fn is_state_saved(pcr: usize) -> bool {
    pcr < 16
}

/// PC client PCRs whose changes do not increment pcrUpdateCounter
/// (TPM_PT_PCR_NO_INCREMENT): 16 and 21-23, as in the reference's
/// PC client attribute table (checked against libtpms by vtpm-difftest).
pub const fn is_no_increment(pcr: usize) -> bool {
    pcr == 16 || (pcr >= 21 && pcr <= 23)
}

/// PCRs reset by a DRTM event (_TPM_Hash_Start): 17-22.
pub const fn is_drtm_reset(pcr: usize) -> bool {
    pcr >= 17 && pcr <= 22
}

/// Bitmap of PCRs whose attribute `f(reset, extend)` holds.
pub fn bitmap_where(f: impl Fn(u8, u8) -> bool) -> PcrBitmap {
    let mut b = PcrBitmap::default();
    for i in 0..PCR_COUNT {
        let (r, e) = attributes(i);
        if f(r, e) {
            b.set(i);
        }
    }
    b
}

impl PcrBanks {
    /// Banks for `algs` with every PCR at its power-on value: zero, except
    /// the locality-4-resettable PCRs 17-22 which start at all ones
    /// (PC client: they are only reset to zero by a DRTM event).
    pub fn new(algs: &[HashAlg], startup_locality: u8) -> Self {
        let banks = algs
            .iter()
            .map(|&alg| {
                let values = (0..PCR_COUNT)
                    .map(|i| {
                        let fill = if is_drtm_reset(i) { 0xFF } else { 0x00 };
                        let mut v = alloc::vec![fill; alg.digest_size()];
                        // PCR 0 records the startup locality in its last octet.
                        if i == 0 && startup_locality != 0 {
                            if let Some(last) = v.last_mut() {
                                *last = startup_locality;
                            }
                        }
                        v
                    })
                    .collect();
                Bank { alg, values }
            })
            .collect();
        PcrBanks { banks }
    }

    /// The bank for `alg`, if active.
    pub fn bank(&self, alg: HashAlg) -> Option<&Bank> {
        self.banks.iter().find(|b| b.alg == alg)
    }

    /// The algorithms of the active banks.
    pub fn algs(&self) -> Vec<HashAlg> {
        self.banks.iter().map(|b| b.alg).collect()
    }

    /// Read one PCR value.
    pub fn get(&self, alg: HashAlg, pcr: usize) -> Option<&[u8]> {
        self.bank(alg)?.values.get(pcr).map(|v| v.as_slice())
    }

    /// Extend PCR `pcr` of bank `alg` with `digest`: new = H(old || digest).
    /// Does nothing for an inactive bank (Part 3, 22.2: digests for banks
    /// that are not allocated are ignored).
    pub fn extend(&mut self, alg: HashAlg, pcr: usize, digest: &[u8]) {
        if let Some(bank) = self.banks.iter_mut().find(|b| b.alg == alg) {
            if let Some(v) = bank.values.get_mut(pcr) {
                *v = alg.digest_parts(&[v, digest]);
            }
        }
    }

    /// Set PCR `pcr` in every bank to `fill` octets.
    pub fn set_all(&mut self, pcr: usize, fill: u8) {
        for bank in &mut self.banks {
            if let Some(v) = bank.values.get_mut(pcr) {
                v.iter_mut().for_each(|b| *b = fill);
            }
        }
    }

    /// Copy the values of the state-saved PCRs from `saved` (TPM Resume).
    pub fn restore_saved(&mut self, saved: &PcrBanks) {
        for bank in &mut self.banks {
            if let Some(sb) = saved.bank(bank.alg) {
                for (i, v) in bank.values.iter_mut().enumerate() {
                    if is_state_saved(i) {
                        if let Some(sv) = sb.values.get(i) {
                            if sv.len() == v.len() {
                                v.clone_from(sv);
                            }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extend_is_hash_of_old_and_digest() {
        let mut b = PcrBanks::new(&[HashAlg::Sha256], 0);
        let d = HashAlg::Sha256.digest(b"x");
        b.extend(HashAlg::Sha256, 3, &d);
        let expect = HashAlg::Sha256.digest_parts(&[&[0u8; 32], &d]);
        assert_eq!(b.get(HashAlg::Sha256, 3), Some(expect.as_slice()));
        // Inactive banks are ignored.
        b.extend(HashAlg::Sha1, 3, &[0; 20]);
        assert!(b.get(HashAlg::Sha1, 3).is_none());
    }

    #[test]
    fn drtm_pcrs_start_at_ones() {
        let b = PcrBanks::new(&[HashAlg::Sha1], 0);
        assert_eq!(b.get(HashAlg::Sha1, 17), Some(&[0xFF; 20][..]));
        assert_eq!(b.get(HashAlg::Sha1, 16), Some(&[0x00; 20][..]));
    }
}
