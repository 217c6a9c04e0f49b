//! A hostile guest (or host) against the protocol handler: pages that
//! change under the SVSM, addresses out of range or across pages, size
//! fields that lie.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use common::*;
use vtpm_svsm::memory::{GuestMemory, MemError};
use vtpm_svsm::page::{self, PAGE_SIZE};
use vtpm_svsm::{GuestRam, ServiceOptions, SvsmError, SvsmRequest};

/// Guest memory whose request page is rewritten by "another vCPU" right
/// after every read: a second read would see `evil`, not `good`.
struct FlippingMemory {
    ram: GuestRam,
    evil: [u8; PAGE_SIZE],
    reads: usize,
    writes: usize,
}

impl GuestMemory for FlippingMemory {
    fn read(&mut self, gpa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.reads += 1;
        self.ram.read(gpa, buf)?;
        let off = (gpa - self.ram.base()) as usize;
        self.ram.bytes_mut()[off..off + PAGE_SIZE].copy_from_slice(&self.evil);
        Ok(())
    }
    fn write(&mut self, gpa: u64, data: &[u8]) -> Result<(), MemError> {
        self.writes += 1;
        self.ram.write(gpa, data)
    }
}

#[test]
fn page_is_read_once_and_the_first_copy_is_acted_on() {
    let mut s = service(ServiceOptions::default());
    let good = request_page(0, &get_random(16));
    // The flipped page would ask for 48 bytes, claim a huge size, and use a
    // forbidden locality.
    let mut evil = [0u8; PAGE_SIZE];
    page::encode_raw_request(&mut evil, 8, 4, 4087, &get_random(48)).unwrap();
    let mut mem = FlippingMemory {
        ram: ram(1),
        evil,
        reads: 0,
        writes: 0,
    };
    poke(&mut mem.ram, RAM_BASE, &good);
    let rsp = s.handle(&mut mem, &SvsmRequest::vtpm_cmd(RAM_BASE));
    assert_eq!(rsp.result, Ok(()));
    assert_eq!(mem.reads, 1, "the request page is read exactly once");
    assert_eq!(mem.writes, 1, "the response is written exactly once");
    let page = peek_page(&mem.ram, RAM_BASE);
    let body = page::decode_response(&page).unwrap();
    assert_eq!(rc(body), 0);
    assert_eq!(body.len(), 10 + 2 + 16, "GetRandom(16) from the first copy");
}

/// Guest memory whose write fails.
struct ReadOnlyMemory(GuestRam);

impl GuestMemory for ReadOnlyMemory {
    fn read(&mut self, gpa: u64, buf: &mut [u8]) -> Result<(), MemError> {
        self.0.read(gpa, buf)
    }
    fn write(&mut self, _gpa: u64, _data: &[u8]) -> Result<(), MemError> {
        Err(MemError::Fault)
    }
}

#[test]
fn failed_response_write_is_invalid_address() {
    let mut s = service(ServiceOptions::default());
    let mut mem = ReadOnlyMemory(ram(1));
    poke(&mut mem.0, RAM_BASE, &request_page(0, &get_random(8)));
    let rsp = s.handle(&mut mem, &SvsmRequest::vtpm_cmd(RAM_BASE));
    assert_eq!(rsp.result, Err(SvsmError::InvalidAddress));
}

#[test]
fn gpas_outside_guest_memory_are_invalid_address() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(2);
    let end = RAM_BASE + 2 * PAGE_SIZE as u64;
    for gpa in [
        RAM_BASE - PAGE_SIZE as u64, // below RAM
        end,                         // just past RAM
        end + 0x10_0000,
        0xFFFF_FFFF_F000, // high, aligned
        !0xFFF_u64,       // last page: gpa + 4096 wraps
    ] {
        let before = ram.clone();
        let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(gpa));
        assert_eq!(rsp.result, Err(SvsmError::InvalidAddress), "gpa {gpa:#x}");
        assert_eq!(ram, before);
    }
}

#[test]
fn page_crossing_gpas_are_invalid_address() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(2);
    for gpa in [
        RAM_BASE + 1,
        RAM_BASE + 9,
        RAM_BASE + 0x800,
        RAM_BASE + 0xFFF,
    ] {
        poke(
            &mut ram,
            gpa,
            &request_page(0, &get_random(8))[..PAGE_SIZE - 0x1000 + 1],
        );
        let before = ram.clone();
        let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(gpa));
        assert_eq!(rsp.result, Err(SvsmError::InvalidAddress), "gpa {gpa:#x}");
        assert_eq!(ram, before);
    }
}

#[test]
fn unaligned_buffer_running_off_the_end_of_ram_is_invalid_address() {
    let mut s = service(ServiceOptions {
        page_policy: vtpm_svsm::PagePolicy::Unaligned,
        ..ServiceOptions::default()
    });
    let mut ram = ram(1);
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE + 8));
    assert_eq!(rsp.result, Err(SvsmError::InvalidAddress));
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(u64::MAX - 100));
    assert_eq!(rsp.result, Err(SvsmError::InvalidAddress), "wrapping range");
}

#[test]
fn size_field_larger_than_the_page_is_invalid_parameter() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    for size in [4088u32, 4096, 0x1_0000, 0x8000_0000, u32::MAX] {
        let mut p = [0u8; PAGE_SIZE];
        page::encode_raw_request(&mut p, 8, 0, size, &get_random(8)).unwrap();
        poke(&mut ram, RAM_BASE, &p);
        let before = ram.clone();
        let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
        assert_eq!(rsp.result, Err(SvsmError::InvalidParameter), "size {size}");
        assert_eq!(ram, before);
    }
}

#[test]
fn size_field_disagreeing_with_the_tpm_header_is_tpm_rc_command_size() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    let command = get_random(8); // 12 bytes, header says 12
    for size in [11u32, 13, 100, 4087] {
        let mut p = [0u8; PAGE_SIZE];
        page::encode_raw_request(&mut p, 8, 0, size, &command).unwrap();
        poke(&mut ram, RAM_BASE, &p);
        let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
        assert_eq!(rsp.result, Ok(()), "size {size}: a TPM-level error");
        let page = peek_page(&ram, RAM_BASE);
        assert_eq!(
            rc(page::decode_response(&page).unwrap()),
            TPM_RC_COMMAND_SIZE,
            "size {size}"
        );
    }
    // The TPM header claims more than the page holds.
    let mut lying = get_random(8);
    lying[2..6].copy_from_slice(&0x0001_0000u32.to_be_bytes());
    poke(&mut ram, RAM_BASE, &request_page(0, &lying));
    assert_eq!(
        s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE)).result,
        Ok(())
    );
    let page = peek_page(&ram, RAM_BASE);
    assert_eq!(
        rc(page::decode_response(&page).unwrap()),
        TPM_RC_COMMAND_SIZE
    );
}

#[test]
fn stale_bytes_after_the_command_are_not_part_of_it() {
    // The page beyond the size field is full of junk from an earlier
    // command; only `size` bytes reach the TPM.
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    let mut p = [0xAAu8; PAGE_SIZE];
    page::encode_request(&mut p, 0, &get_random(4)).unwrap();
    poke(&mut ram, RAM_BASE, &p);
    assert_eq!(
        s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE)).result,
        Ok(())
    );
    let page = peek_page(&ram, RAM_BASE);
    let body = page::decode_response(&page).unwrap();
    assert_eq!(rc(body), 0);
    assert_eq!(body.len(), 10 + 2 + 4);
    // Request: 9 + 12 bytes; response: 4 + 16. Past both, the junk stays.
    assert!(
        page[9 + 12..].iter().all(|b| *b == 0xAA),
        "only header + response written"
    );
}

#[test]
fn fuzz_entry_point_survives_seeds_and_junk() {
    use vtpm_svsm::fuzzing::fuzz_request;
    fuzz_request(&[]);
    fuzz_request(&request_page(0, &STARTUP_CLEAR));
    fuzz_request(&request_page(0, &get_random(32)));
    fuzz_request(&request_page(4, &cmds::pcr_extend(23, &[1; 32])));
    fuzz_request(&[0xff; PAGE_SIZE + 10]);
    let mut p = [0u8; PAGE_SIZE];
    page::encode_raw_request(&mut p, 8, 0, 4087, &[0x80, 0x01, 0, 0, 0x0f, 0xf7]).unwrap();
    fuzz_request(&p);
    // A cheap deterministic sweep over header bytes.
    let mut x: u32 = 0x1234_5678;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let mut p = request_page(0, &get_random(8));
        p[(x as usize) % 24] = (x >> 8) as u8;
        fuzz_request(&p);
    }
}
