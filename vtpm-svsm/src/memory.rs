//! Access to guest memory, through a trait the SVSM implements.
//!
//! The vTPM never dereferences a guest address itself. The SVSM maps the
//! guest-physical range (checking that it is guest-owned, validated memory
//! the calling VMPL may access) and copies bytes in or out. Everything read
//! through [`GuestMemory`] is untrusted and may change between two reads
//! (another vCPU of the guest can write the page while the SVSM runs), so
//! the service reads the request page **once** into private memory and
//! parses only that copy, and writes the response back **once**.

use alloc::vec::Vec;
use core::fmt;

use crate::page::PAGE_SIZE;

/// Why guest memory could not be read or written. Either way the call
/// fails with `SVSM_ERR_INVALID_ADDRESS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MemError {
    /// The range is not guest memory the caller may access (outside guest
    /// RAM, MMIO, SVSM-private, not validated...).
    InvalidAddress,
    /// The access faulted (for example a page the host took away).
    Fault,
}

impl fmt::Display for MemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemError::InvalidAddress => "not accessible guest memory",
            MemError::Fault => "guest memory access faulted",
        })
    }
}

impl core::error::Error for MemError {}

/// Guest-physical memory, as the SVSM sees it.
///
/// Implementations must check the whole range `gpa .. gpa + len` and must
/// never let an access reach SVSM-private memory. The service only ever
/// asks for ranges inside one page (see [`PagePolicy`]).
pub trait GuestMemory {
    /// Copy `buf.len()` bytes from guest-physical `gpa` into `buf`.
    fn read(&mut self, gpa: u64, buf: &mut [u8]) -> Result<(), MemError>;
    /// Copy `data` to guest-physical `gpa`.
    fn write(&mut self, gpa: u64, data: &[u8]) -> Result<(), MemError>;
}

impl<M: GuestMemory + ?Sized> GuestMemory for &mut M {
    fn read(&mut self, gpa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        (**self).read(gpa, buf)
    }
    fn write(&mut self, gpa: u64, data: &[u8]) -> Result<(), MemError> {
        (**self).write(gpa, data)
    }
}

/// Which buffer addresses the service accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PagePolicy {
    /// The buffer must be one whole page: a page-aligned GPA (the default).
    /// Linux `tpm_svsm` and current OVMF (`AllocatePages`) use a dedicated
    /// page-aligned page, because header and data must be physically
    /// contiguous; a 4 KiB buffer at an unaligned GPA would straddle two
    /// pages that need not be adjacent in host memory.
    #[default]
    Aligned,
    /// Accept any GPA whose 4 KiB range does not wrap the address space,
    /// as COCONUT does ("not required to be page aligned"); the
    /// [`GuestMemory`] implementation must then check both pages. For old
    /// OVMF builds that pass a static (unaligned) buffer.
    Unaligned,
}

impl PagePolicy {
    /// Check a buffer GPA: `0` is `SVSM_ERR_INVALID_PARAMETER` (as in
    /// COCONUT); an unaligned GPA under [`PagePolicy::Aligned`] or a range
    /// that wraps past the top of the address space is
    /// `SVSM_ERR_INVALID_ADDRESS`.
    pub fn check(self, gpa: u64) -> Result<(), crate::SvsmError> {
        use crate::SvsmError;
        if gpa == 0 {
            return Err(SvsmError::InvalidParameter);
        }
        if self == PagePolicy::Aligned && gpa.checked_rem(PAGE_SIZE as u64) != Some(0) {
            return Err(SvsmError::InvalidAddress);
        }
        if gpa.checked_add(PAGE_SIZE as u64).is_none() {
            return Err(SvsmError::InvalidAddress);
        }
        Ok(())
    }
}

/// A flat region of guest RAM in ordinary memory: `bytes` are the guest's
/// physical addresses `base .. base + bytes.len()`, and nothing else is
/// mapped. The simulated guest, the fuzz entry point and the tests use it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuestRam {
    base: u64,
    bytes: Vec<u8>,
}

impl GuestRam {
    /// `pages` zeroed pages of RAM starting at guest-physical `base`.
    pub fn new(base: u64, pages: usize) -> Self {
        GuestRam {
            base,
            bytes: alloc::vec![0; pages.saturating_mul(PAGE_SIZE)],
        }
    }

    /// First guest-physical address.
    pub const fn base(&self) -> u64 {
        self.base
    }

    /// The RAM's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The RAM's bytes, mutably.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    fn range(&self, gpa: u64, len: usize) -> Result<core::ops::Range<usize>, MemError> {
        let start = gpa
            .checked_sub(self.base)
            .and_then(|o| usize::try_from(o).ok())
            .ok_or(MemError::InvalidAddress)?;
        let end = start.checked_add(len).ok_or(MemError::InvalidAddress)?;
        if end > self.bytes.len() {
            return Err(MemError::InvalidAddress);
        }
        Ok(start..end)
    }
}

impl GuestMemory for GuestRam {
    fn read(&mut self, gpa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        let r = self.range(gpa, buf.len())?;
        buf.copy_from_slice(self.bytes.get(r).ok_or(MemError::InvalidAddress)?);
        Ok(())
    }

    fn write(&mut self, gpa: u64, data: &[u8]) -> Result<(), MemError> {
        let r = self.range(gpa, data.len())?;
        self.bytes
            .get_mut(r)
            .ok_or(MemError::InvalidAddress)?
            .copy_from_slice(data);
        Ok(())
    }
}
