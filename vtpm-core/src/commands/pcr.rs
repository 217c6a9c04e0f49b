//! Part 3, 22: Integrity Collection (PCR).

use alloc::vec::Vec;

use super::{Command, NoParams, ToParams};
use crate::crypto::HashAlg;
use crate::engine::Ctx;
use crate::state::pcr;
use crate::tpm_params;
use crate::wire::consts::{rh, sizes};
use crate::wire::types::{
    Digest2b, DigestList, DigestValues, Event2b, Ha, PcrBitmap, PcrSelection, PcrSelectionList,
    YesNo,
};
use crate::wire::{Handle, Rc, TpmResult, Writer};

/// The PCR index of a PCR handle, `None` for `TPM_RH_NULL`.
fn pcr_index(h: Handle) -> Option<usize> {
    if h == rh::NULL {
        None
    } else {
        usize::try_from(h.0).ok().filter(|&i| i < sizes::PCR_COUNT)
    }
}

/// May the current locality extend PCR `i` (PC client attributes)?
fn may_extend(ctx: &Ctx<'_>, i: usize) -> bool {
    let (_, extend) = pcr::attributes(i);
    locality_allowed(ctx.locality, extend)
}

fn locality_allowed(locality: u8, mask: u8) -> bool {
    // Extended localities (32..255) are not given any PC-client PCR rights.
    locality < 5 && mask & (1u8 << locality) != 0
}

/// Count a PCR change (Part 1, 14.9): PCRs with the PC client
/// "no increment" attribute (16, 20-23, reported in
/// TPM_PT_PCR_NO_INCREMENT) do not move pcrUpdateCounter.
fn bump_counter_for(ctx: &mut Ctx<'_>, pcr: usize) {
    if !pcr::is_no_increment(pcr) {
        ctx.v.pcr_update_counter = ctx.v.pcr_update_counter.wrapping_add(1);
    }
}

tpm_params! {
    /// `TPM2_PCR_Extend` parameters.
    pub struct PcrExtendIn {
        /// Digests to extend, one per bank.
        pub digests: DigestValues,
    }
}

/// `TPM2_PCR_Extend` (Part 3, 22.2).
#[derive(Debug)]
#[doc(alias = "TPM2_PCR_Extend")]
pub struct PcrExtend;

impl Command for PcrExtend {
    type In = PcrExtendIn;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PcrExtendIn) -> TpmResult<NoParams> {
        let Some(i) = handles.first().copied().and_then(pcr_index) else {
            // TPM_RH_NULL: nothing is extended.
            return Ok(NoParams);
        };
        if !may_extend(ctx, i) {
            return Err(Rc::LOCALITY);
        }
        let mut changed = false;
        for d in &input.digests.0 {
            changed |= ctx.v.pcrs.bank(d.alg).is_some();
            ctx.v.pcrs.extend(d.alg, i, &d.digest);
        }
        if changed {
            bump_counter_for(ctx, i);
        }
        Ok(NoParams)
    }
}

tpm_params! {
    /// `TPM2_PCR_Event` parameters.
    pub struct PcrEventIn {
        /// The event data, hashed with every active bank's algorithm.
        pub event_data: Event2b,
    }
}

tpm_params! {
    /// `TPM2_PCR_Event` response.
    pub struct PcrEventOut {
        /// The digests of the event, one per implemented bank.
        pub digests: DigestValues,
    }
}

/// `TPM2_PCR_Event` (Part 3, 22.3).
#[derive(Debug)]
#[doc(alias = "TPM2_PCR_Event")]
pub struct PcrEvent;

impl Command for PcrEvent {
    type In = PcrEventIn;
    type Out = PcrEventOut;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], input: PcrEventIn) -> TpmResult<PcrEventOut> {
        let target = handles.first().copied().and_then(pcr_index);
        if let Some(i) = target {
            if !may_extend(ctx, i) {
                return Err(Rc::LOCALITY);
            }
        }
        // The digests of every active bank are returned, and extended when a
        // PCR was named.
        let digests: Vec<Ha> = ctx
            .v
            .pcrs
            .algs()
            .into_iter()
            .map(|alg| Ha {
                alg,
                digest: alg.digest(input.event_data.as_slice()),
            })
            .collect();
        if let Some(i) = target {
            for d in &digests {
                ctx.v.pcrs.extend(d.alg, i, &d.digest);
            }
            if !digests.is_empty() {
                bump_counter_for(ctx, i);
            }
        }
        Ok(PcrEventOut {
            digests: DigestValues(digests),
        })
    }
}

tpm_params! {
    /// `TPM2_PCR_Read` parameters.
    pub struct PcrReadIn {
        /// What to read.
        pub pcr_selection_in: PcrSelectionList,
    }
}

/// `TPM2_PCR_Read` response.
#[derive(Debug)]
pub struct PcrReadOut {
    /// `pcrUpdateCounter`.
    pub pcr_update_counter: u32,
    /// What was read.
    pub pcr_selection_out: PcrSelectionList,
    /// The values, in selection order.
    pub pcr_values: DigestList,
}

impl ToParams for PcrReadOut {
    fn marshal_params(&self, w: &mut Writer) {
        w.u32(self.pcr_update_counter);
        w.write(&self.pcr_selection_out);
        w.write(&self.pcr_values);
    }
}

/// Most digests one `TPML_DIGEST` carries.
const MAX_READ: usize = 8;

/// `TPM2_PCR_Read` (Part 3, 22.4): returns up to eight values, in bank
/// then PCR order; `pcrSelectionOut` says which.
#[derive(Debug)]
#[doc(alias = "TPM2_PCR_Read")]
pub struct PcrRead;

impl Command for PcrRead {
    type In = PcrReadIn;
    type Out = PcrReadOut;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: PcrReadIn) -> TpmResult<PcrReadOut> {
        let mut values = Vec::new();
        let mut out_sel = Vec::new();
        for sel in &input.pcr_selection_in.0 {
            let mut got = PcrBitmap::default();
            if let Some(bank) = ctx.v.pcrs.bank(sel.hash) {
                for i in 0..sizes::PCR_COUNT {
                    if sel.select.has(i) && values.len() < MAX_READ {
                        if let Some(v) = bank.values.get(i) {
                            values.push(Digest2b::from_slice(v)?);
                            got.set(i);
                        }
                    }
                }
            }
            out_sel.push(PcrSelection {
                hash: sel.hash,
                select: got,
            });
        }
        Ok(PcrReadOut {
            pcr_update_counter: ctx.v.pcr_update_counter,
            pcr_selection_out: PcrSelectionList(out_sel),
            pcr_values: DigestList(values),
        })
    }
}

tpm_params! {
    /// `TPM2_PCR_Allocate` parameters.
    pub struct PcrAllocateIn {
        /// The requested allocation.
        pub pcr_allocation: PcrSelectionList,
    }
}

tpm_params! {
    /// `TPM2_PCR_Allocate` response.
    pub struct PcrAllocateOut {
        /// YES if the allocation will take effect at the next TPM Reset.
        pub allocation_success: YesNo,
        /// PCRs in the largest bank.
        pub max_pcr: u32,
        /// Octets needed for the allocation.
        pub size_needed: u32,
        /// Octets available.
        pub size_available: u32,
    }
}

/// `TPM2_PCR_Allocate` (Part 3, 22.5). This TPM allocates whole banks: a
/// bank is active with all 24 PCRs or not at all (`TPM_RC_PCR` for a
/// partial selection, as the reference answers). The new allocation takes
/// effect at the next TPM Reset.
#[derive(Debug)]
#[doc(alias = "TPM2_PCR_Allocate")]
pub struct PcrAllocate;

impl Command for PcrAllocate {
    type In = PcrAllocateIn;
    type Out = PcrAllocateOut;
    fn run(ctx: &mut Ctx<'_>, _: &[Handle], input: PcrAllocateIn) -> TpmResult<PcrAllocateOut> {
        // Banks not mentioned keep their current allocation (Part 3, 22.5.1).
        let mut new: Vec<HashAlg> = ctx.p.pcr_allocation.clone();
        for sel in &input.pcr_allocation.0 {
            if sel.select == PcrBitmap::ALL {
                if !new.contains(&sel.hash) {
                    new.push(sel.hash);
                }
            } else if sel.select == PcrBitmap::default() {
                new.retain(|a| *a != sel.hash);
            } else {
                return Err(Rc::PCR);
            }
        }
        new.sort();
        let bank_size = |algs: &[HashAlg]| -> u32 {
            let octets: usize = algs
                .iter()
                .map(|a| a.digest_size().saturating_mul(sizes::PCR_COUNT))
                .sum();
            u32::try_from(octets).unwrap_or(u32::MAX)
        };
        let size_available = bank_size(&HashAlg::ALL);
        let size_needed = bank_size(&new);
        let max_pcr = if new.is_empty() {
            0
        } else {
            sizes::PCR_COUNT as u32
        };
        ctx.p.pcr_allocation = new;
        ctx.mark_dirty();
        Ok(PcrAllocateOut {
            allocation_success: YesNo(true),
            max_pcr,
            size_needed,
            size_available,
        })
    }
}

/// `TPM2_PCR_Reset` (Part 3, 22.8): only PCRs whose reset attribute
/// includes the current locality (`TPM_RC_LOCALITY` otherwise). This TPM
/// does DRTM (_TPM_Hash_Start), so locality 4 resets nothing with this
/// command: its PCRs are reset by the DRTM event (PC Client PTP, as the
/// TCG reference implements it).
///
/// The attributes are those of [`pcr::attributes`].
#[derive(Debug)]
#[doc(alias = "TPM2_PCR_Reset")]
pub struct PcrReset;

impl Command for PcrReset {
    type In = NoParams;
    type Out = NoParams;
    fn run(ctx: &mut Ctx<'_>, handles: &[Handle], _: NoParams) -> TpmResult<NoParams> {
        let i = handles
            .first()
            .copied()
            .and_then(pcr_index)
            .ok_or(Rc::VALUE.handle(1))?;
        let (reset, _) = pcr::attributes(i);
        if ctx.locality == 4 || !locality_allowed(ctx.locality, reset) {
            return Err(Rc::LOCALITY);
        }
        ctx.v.pcrs.set_all(i, 0);
        bump_counter_for(ctx, i);
        Ok(NoParams)
    }
}
