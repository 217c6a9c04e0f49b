//! Entry points for fuzz targets (`fuzz/`). Not a stable API.

use crate::memory::GuestRam;
use crate::page::{self, PAGE_SIZE};
use crate::protocol::SvsmRequest;
use crate::service::{ServiceOptions, VtpmService};

/// Guest-physical address of the fuzzed page.
const GPA: u64 = 0x1000;

/// Run one `SVSM_VTPM_CMD` over `page` (the guest's request page: cut or
/// zero-padded to 4096 bytes) against a freshly started test TPM, and check
/// the invariants every call must keep:
///
/// * the call returns (no panic, no hang);
/// * on success the page holds a well-formed response: a size of at most
///   4092 whose TPM header announces exactly that size;
/// * on failure guest memory is untouched;
/// * memory outside the page is never written.
pub fn fuzz_request(page: &[u8]) {
    let Some(tpm) = vtpm_core::testing::started_tpm(1) else {
        return;
    };
    let options = ServiceOptions {
        max_locality: 4,
        ..ServiceOptions::default()
    };
    let Ok(mut service) = VtpmService::new(tpm, options) else {
        return;
    };
    // Page 0 below the request page and page 2 above it guard the bounds.
    let mut ram = GuestRam::new(0, 3);
    if let Some(dst) = ram.bytes_mut().get_mut(PAGE_SIZE..2 * PAGE_SIZE) {
        for (d, s) in dst.iter_mut().zip(page.iter()) {
            *d = *s;
        }
    }
    let before = ram.clone();
    let rsp = service.handle(&mut ram, &SvsmRequest::vtpm_cmd(GPA));
    let outside = |r: &GuestRam| {
        let b = r.bytes();
        (
            b.get(..PAGE_SIZE).map(<[u8]>::to_vec),
            b.get(2 * PAGE_SIZE..).map(<[u8]>::to_vec),
        )
    };
    assert_eq!(outside(&ram), outside(&before), "wrote outside the page");
    match rsp.result {
        Ok(()) => {
            let mut out = [0u8; PAGE_SIZE];
            if let Some(src) = ram.bytes().get(PAGE_SIZE..2 * PAGE_SIZE) {
                out.copy_from_slice(src);
            }
            let body = page::decode_response(&out);
            assert!(body.is_some(), "response size above 4092");
            let body = body.unwrap_or_default();
            let announced = body
                .get(2..6)
                .and_then(|s| <[u8; 4]>::try_from(s).ok())
                .map(u32::from_be_bytes)
                .and_then(|n| usize::try_from(n).ok());
            assert_eq!(announced, Some(body.len()), "TPM header size mismatch");
        }
        Err(_) => assert_eq!(ram, before, "failed call wrote guest memory"),
    }
}
