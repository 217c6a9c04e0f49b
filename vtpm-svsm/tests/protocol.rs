//! The SVSM vTPM protocol against its specified layout (SVSM spec chapter 8
//! as quoted by Linux `tpm_svsm.h` and COCONUT `protocols/vtpm.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use common::*;
use vtpm_svsm::page::{self, MAX_COMMAND_SIZE, MAX_RESPONSE_SIZE, PAGE_SIZE};
use vtpm_svsm::protocol::*;
use vtpm_svsm::{PagePolicy, ServiceOptions, SvsmError, SvsmRequest, SvsmResponse};

#[test]
fn result_codes_match_the_spec_values() {
    assert_eq!(SVSM_SUCCESS, 0);
    let table = [
        (SvsmError::Incomplete, 0x8000_0000),
        (SvsmError::UnsupportedProtocol, 0x8000_0001),
        (SvsmError::UnsupportedCall, 0x8000_0002),
        (SvsmError::InvalidAddress, 0x8000_0003),
        (SvsmError::InvalidFormat, 0x8000_0004),
        (SvsmError::InvalidParameter, 0x8000_0005),
        (SvsmError::InvalidRequest, 0x8000_0006),
        (SvsmError::Busy, 0x8000_0007),
    ];
    for (e, code) in table {
        assert_eq!(e.code(), code);
        assert_eq!(SvsmError::from_code(u64::from(code)), Some(e));
        assert!(e.to_string().contains("SVSM_ERR_"));
    }
    assert_eq!(SvsmError::from_code(0), None);
    assert_eq!(SvsmError::from_code(0x8000_1000), None);
}

#[test]
fn protocol_and_call_numbers_match_the_spec() {
    assert_eq!(SVSM_CORE_PROTOCOL, 0);
    assert_eq!(SVSM_ATTEST_PROTOCOL, 1);
    assert_eq!(SVSM_VTPM_PROTOCOL, 2);
    assert_eq!(SVSM_CORE_QUERY_PROTOCOL, 6);
    assert_eq!(SVSM_VTPM_QUERY, 0);
    assert_eq!(SVSM_VTPM_CMD, 1);
    assert_eq!(platform_command::SEND_COMMAND, 8);
    assert_eq!(PAGE_SIZE, 4096);
    assert_eq!(page::REQUEST_HEADER_LEN, 9);
    assert_eq!(page::RESPONSE_HEADER_LEN, 4);
    assert_eq!(MAX_COMMAND_SIZE, 4087);
    assert_eq!(MAX_RESPONSE_SIZE, 4092);
}

#[test]
fn rax_splits_into_protocol_and_call() {
    // Linux: SVSM_VTPM_CALL(x) = (2 << 32) | x.
    let r = SvsmRequest::from_registers((2 << 32) | 1, 0x1000, 5, 6);
    assert_eq!(
        (r.protocol, r.call_id, r.rcx, r.rdx, r.r8),
        (2, 1, 0x1000, 5, 6)
    );
    assert_eq!(r.rax(), (2 << 32) | 1);
    assert_eq!(SvsmRequest::vtpm_cmd(0x2000).rax(), 0x2_0000_0001);
    assert_eq!(SvsmRequest::vtpm_query().rax(), 0x2_0000_0000);
}

#[test]
fn vtpm_query_reports_send_command_and_no_features() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    let req = SvsmRequest {
        r8: 0x77,
        ..SvsmRequest::vtpm_query()
    };
    let rsp = s.handle(&mut ram, &req);
    assert_eq!(rsp.result, Ok(()));
    assert_eq!(rsp.rax(), 0);
    assert_eq!(rsp.rcx, 0x100, "bitmap: bit 8 = TPM_SEND_COMMAND");
    assert_eq!(rsp.rcx & (1 << 8), 1 << 8, "what Linux probes");
    assert_eq!(rsp.rdx, 0, "features must be zero in rev 1.00");
    assert_eq!(rsp.r8, 0x77, "R8 is not an output of QUERY");
}

#[test]
fn query_protocol_answers_for_vtpm_version_1() {
    assert_eq!(query_protocol((2 << 32) | 1), Some((1 << 32) | 1));
    assert_eq!(query_protocol((2 << 32) | 2), Some(0));
    assert_eq!(query_protocol(2 << 32), Some(0));
    assert_eq!(query_protocol((1 << 32) | 1), None, "attest is the SVSM's");
    assert_eq!(query_protocol(1), None, "core is the SVSM's");

    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    let rsp = s.handle(&mut ram, &SvsmRequest::query_protocol(2, 1));
    assert_eq!(rsp.result, Ok(()));
    assert_eq!(rsp.rcx, 0x0000_0001_0000_0001);
    let rsp = s.handle(&mut ram, &SvsmRequest::query_protocol(2, 7));
    assert_eq!((rsp.result, rsp.rcx), (Ok(()), 0));
    let rsp = s.handle(&mut ram, &SvsmRequest::query_protocol(4, 1));
    assert_eq!((rsp.result, rsp.rcx), (Ok(()), 0), "unknown protocol: 0");
}

#[test]
fn unknown_calls_and_protocols_are_refused() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    let cases = [
        (2, 2, SvsmError::UnsupportedCall),
        (2, u32::MAX, SvsmError::UnsupportedCall),
        (0, 0, SvsmError::UnsupportedCall),
        (0, 1, SvsmError::UnsupportedCall),
        (1, 0, SvsmError::UnsupportedProtocol),
        (3, 0, SvsmError::UnsupportedProtocol),
        (u32::MAX, 1, SvsmError::UnsupportedProtocol),
    ];
    for (protocol, call_id, err) in cases {
        let req = SvsmRequest {
            protocol,
            call_id,
            rcx: 0x1234,
            rdx: 0x5678,
            r8: 0x9abc,
        };
        let rsp = s.handle(&mut ram, &req);
        assert_eq!(
            rsp,
            SvsmResponse {
                result: Err(err),
                rcx: 0x1234,
                rdx: 0x5678,
                r8: 0x9abc
            },
            "protocol {protocol} call {call_id}"
        );
        assert_eq!(rsp.rax(), u64::from(err.code()));
    }
}

#[test]
fn send_command_frames_little_endian_and_answers_in_place() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    let command = get_random(16);
    // Hand-built little-endian header, byte by byte, as tpm_svsm.h lays it out.
    let mut raw = vec![0x08, 0x00, 0x00, 0x00, 0x00];
    raw.extend_from_slice(&[command.len() as u8, 0, 0, 0]);
    raw.extend_from_slice(&command);
    assert_eq!(&raw[..9], &[8, 0, 0, 0, 0, 12, 0, 0, 0]);
    poke(&mut ram, RAM_BASE, &raw);
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
    assert_eq!(rsp.result, Ok(()));
    assert_eq!(rsp.rcx, RAM_BASE, "RCX unchanged");
    let page = peek_page(&ram, RAM_BASE);
    let size = u32::from_le_bytes(page[0..4].try_into().unwrap()) as usize;
    // GetRandom(16): 10-byte header + TPM2B of 16 bytes.
    assert_eq!(size, 10 + 2 + 16);
    let tpm = &page[4..4 + size];
    assert_eq!(&tpm[0..2], &[0x80, 0x01], "big-endian TPM tag");
    assert_eq!(announced_size(tpm), size);
    assert_eq!(rc(tpm), 0);
    assert_eq!(page::decode_response(&page), Some(tpm));
}

#[test]
fn tpm_errors_are_svsm_success_with_a_tpm_response() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    // Startup again: the TPM is started, so TPM_RC_INITIALIZE.
    poke(&mut ram, RAM_BASE, &request_page(0, &STARTUP_CLEAR));
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
    assert_eq!(rsp.result, Ok(()));
    let page = peek_page(&ram, RAM_BASE);
    let body = page::decode_response(&page).unwrap();
    assert_eq!(rc(body), TPM_RC_INITIALIZE);

    // An unknown command code.
    let bogus = cmd(0x0000_0999, &[], 0, &[]);
    poke(&mut ram, RAM_BASE, &request_page(0, &bogus));
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
    assert_eq!(rsp.result, Ok(()));
    let page = peek_page(&ram, RAM_BASE);
    assert_eq!(rc(page::decode_response(&page).unwrap()), 0x143); // TPM_RC_COMMAND_CODE
}

#[test]
fn empty_and_garbage_commands_get_tpm_errors() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    for command in [&[][..], &[0x80][..], &[0xff; 40][..]] {
        poke(&mut ram, RAM_BASE, &request_page(0, command));
        let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
        assert_eq!(rsp.result, Ok(()), "{command:02x?}");
        let page = peek_page(&ram, RAM_BASE);
        let body = page::decode_response(&page).unwrap();
        assert_eq!(body.len(), 10);
        assert_ne!(rc(body), 0);
    }
}

#[test]
fn command_of_exactly_4087_bytes_is_accepted() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    // Hash over a buffer sized so the whole command is 4087 bytes: the TPM
    // may refuse its parameters, but the SVSM layer passes it through.
    let mut command = cmd(0x17D, &[], 0, &vec![0u8; MAX_COMMAND_SIZE - 10]);
    assert_eq!(command.len(), MAX_COMMAND_SIZE);
    command[2..6].copy_from_slice(&(MAX_COMMAND_SIZE as u32).to_be_bytes());
    poke(&mut ram, RAM_BASE, &request_page(0, &command));
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
    assert_eq!(rsp.result, Ok(()));
    let page = peek_page(&ram, RAM_BASE);
    let body = page::decode_response(&page).unwrap();
    assert_ne!(
        rc(body),
        TPM_RC_COMMAND_SIZE,
        "4087 is within the engine's limit"
    );
}

#[test]
fn command_size_4088_is_invalid_parameter() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    let mut p = [0u8; PAGE_SIZE];
    page::encode_raw_request(&mut p, 8, 0, 4088, &[]).unwrap();
    poke(&mut ram, RAM_BASE, &p);
    let before = ram.clone();
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
    assert_eq!(rsp.result, Err(SvsmError::InvalidParameter));
    assert_eq!(rsp.rax(), 0x8000_0005);
    assert_eq!(ram, before, "nothing written back on an SVSM error");
}

#[test]
fn response_limit_is_4092_bytes() {
    let mut p = [0u8; PAGE_SIZE];
    assert_eq!(page::encode_response(&mut p, &[1u8; 4092]), Some(4096));
    assert_eq!(&p[0..4], &4092u32.to_le_bytes());
    assert_eq!(page::encode_response(&mut p, &[1u8; 4093]), None);
    p[0..4].copy_from_slice(&4093u32.to_le_bytes());
    assert_eq!(page::decode_response(&p), None);
    p[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(page::decode_response(&p), None);
}

#[test]
fn engine_limits_above_the_page_are_refused() {
    let tpm = vtpm_core::Tpm::manufacture(
        vtpm_core::testing::TestPlatform::new(1),
        vtpm_core::Config {
            max_command_size: 4096,
            ..vtpm_core::Config::default()
        },
    )
    .unwrap();
    assert!(matches!(
        vtpm_svsm::VtpmService::new(tpm, ServiceOptions::default()),
        Err(vtpm_svsm::ServiceError::CommandSizeTooLarge {
            configured: 4096,
            max: 4087
        })
    ));
    let tpm = vtpm_core::Tpm::manufacture(
        vtpm_core::testing::TestPlatform::new(1),
        vtpm_core::Config {
            max_response_size: 4093,
            ..vtpm_core::Config::default()
        },
    )
    .unwrap();
    assert!(matches!(
        vtpm_svsm::VtpmService::new(tpm, ServiceOptions::default()),
        Err(vtpm_svsm::ServiceError::ResponseSizeTooLarge { .. })
    ));
    let tpm = vtpm_core::testing::started_tpm(1).unwrap();
    assert!(matches!(
        vtpm_svsm::VtpmService::new(
            tpm,
            ServiceOptions {
                max_locality: 5,
                ..ServiceOptions::default()
            }
        ),
        Err(vtpm_svsm::ServiceError::LocalityOutOfRange(5))
    ));
}

#[test]
fn nonzero_locality_is_refused_by_default() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    for locality in [1u8, 3, 4, 5, 32, 255] {
        poke(&mut ram, RAM_BASE, &request_page(locality, &get_random(8)));
        let before = ram.clone();
        let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
        assert_eq!(
            rsp.result,
            Err(SvsmError::InvalidParameter),
            "locality {locality}"
        );
        assert_eq!(ram, before);
    }
}

#[test]
fn localities_up_to_the_configured_maximum_reach_the_tpm() {
    let mut s = service(ServiceOptions {
        max_locality: 3,
        ..ServiceOptions::default()
    });
    let mut ram = ram(1);
    for locality in 0..=3u8 {
        poke(&mut ram, RAM_BASE, &request_page(locality, &get_random(8)));
        let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
        assert_eq!(rsp.result, Ok(()), "locality {locality}");
    }
    poke(&mut ram, RAM_BASE, &request_page(4, &get_random(8)));
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
    assert_eq!(rsp.result, Err(SvsmError::InvalidParameter));
}

#[test]
fn locality_is_passed_to_the_engine() {
    // PCR 20 is resettable at localities 2 and 4 in the PC client profile
    // (and this DRTM-capable TPM refuses TPM2_PCR_Reset at locality 4), not
    // at locality 0. The difference in response codes between localities 0
    // and 2 shows the engine saw the locality.
    let mut s = service(ServiceOptions {
        max_locality: 4,
        ..ServiceOptions::default()
    });
    let mut ram = ram(1);
    let reset20 = cmd(0x13D, &[20], 1, &[]);
    let mut codes = Vec::new();
    for locality in [0u8, 2] {
        poke(&mut ram, RAM_BASE, &request_page(locality, &reset20));
        let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
        assert_eq!(rsp.result, Ok(()));
        let page = peek_page(&ram, RAM_BASE);
        codes.push(rc(page::decode_response(&page).unwrap()));
    }
    assert_ne!(codes[0], 0, "PCR_Reset(20) at locality 0 must fail");
    assert_eq!(codes[1], 0, "PCR_Reset(20) at locality 2 must succeed");
}

#[test]
fn other_platform_commands_are_refused() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(1);
    for (platform_cmd, err) in [
        (1, SvsmError::UnsupportedCall),  // POWER_ON: known, not offered
        (2, SvsmError::UnsupportedCall),  // POWER_OFF
        (9, SvsmError::UnsupportedCall),  // CANCEL_ON
        (11, SvsmError::UnsupportedCall), // NV_ON
        (17, SvsmError::UnsupportedCall), // RESET
        (30, SvsmError::UnsupportedCall), // TEST_FAILURE_MODE
        (0, SvsmError::InvalidParameter),
        (19, SvsmError::InvalidParameter),
        (0x0800_0000, SvsmError::InvalidParameter), // 8 big-endian
        (u32::MAX, SvsmError::InvalidParameter),
    ] {
        let mut p = [0u8; PAGE_SIZE];
        page::encode_raw_request(&mut p, platform_cmd, 0, 12, &STARTUP_CLEAR).unwrap();
        poke(&mut ram, RAM_BASE, &p);
        let before = ram.clone();
        let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
        assert_eq!(rsp.result, Err(err), "platform command {platform_cmd:#x}");
        assert_eq!(ram, before);
    }
}

#[test]
fn null_gpa_is_invalid_parameter() {
    let mut s = service(ServiceOptions::default());
    let mut ram = vtpm_svsm::GuestRam::new(0, 2);
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(0));
    assert_eq!(rsp.result, Err(SvsmError::InvalidParameter));
}

#[test]
fn powered_off_tpm_is_invalid_request() {
    let mut s = service(ServiceOptions::default());
    s.tpm_mut().power_off();
    let mut ram = ram(1);
    poke(&mut ram, RAM_BASE, &request_page(0, &get_random(8)));
    let before = ram.clone();
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE));
    assert_eq!(rsp.result, Err(SvsmError::InvalidRequest));
    assert_eq!(ram, before);
    // QUERY still answers.
    assert_eq!(s.handle(&mut ram, &SvsmRequest::vtpm_query()).rcx, 0x100);
}

#[test]
fn unstarted_tpm_answers_at_tpm_level() {
    // Powered on but no TPM2_Startup yet: the guest firmware's Startup
    // goes through, anything else is TPM_RC_INITIALIZE.
    let mut tpm = vtpm_core::Tpm::manufacture(
        vtpm_core::testing::TestPlatform::new(3),
        vtpm_core::Config::default(),
    )
    .unwrap();
    tpm.power_on();
    let mut s = vtpm_svsm::VtpmService::new(tpm, ServiceOptions::default()).unwrap();
    let mut ram = ram(1);
    poke(&mut ram, RAM_BASE, &request_page(0, &get_random(8)));
    assert_eq!(
        s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE)).result,
        Ok(())
    );
    assert_eq!(
        rc(page::decode_response(&peek_page(&ram, RAM_BASE)).unwrap()),
        TPM_RC_INITIALIZE
    );
    poke(&mut ram, RAM_BASE, &request_page(0, &STARTUP_CLEAR));
    assert_eq!(
        s.handle(&mut ram, &SvsmRequest::vtpm_cmd(RAM_BASE)).result,
        Ok(())
    );
    assert_eq!(
        rc(page::decode_response(&peek_page(&ram, RAM_BASE)).unwrap()),
        0
    );
}

#[test]
fn unaligned_gpa_is_refused_unless_allowed() {
    let mut s = service(ServiceOptions::default());
    let mut ram = ram(3);
    let gpa = RAM_BASE + 0x10;
    let mut raw = request_page(0, &get_random(8)).to_vec();
    raw.truncate(PAGE_SIZE - 0x10);
    poke(&mut ram, gpa, &raw);
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(gpa));
    assert_eq!(rsp.result, Err(SvsmError::InvalidAddress));

    let mut s = service(ServiceOptions {
        page_policy: PagePolicy::Unaligned,
        ..ServiceOptions::default()
    });
    let rsp = s.handle(&mut ram, &SvsmRequest::vtpm_cmd(gpa));
    assert_eq!(rsp.result, Ok(()));
    let off = (gpa - RAM_BASE) as usize;
    let size = u32::from_le_bytes(ram.bytes()[off..off + 4].try_into().unwrap());
    assert_eq!(size, 10 + 2 + 8);
}

#[test]
fn checked_view_deconstructs_a_known_request() {
    // TPM_SEND_COMMAND, locality 0, 12 bytes: TPM2_Startup(CLEAR).
    let mut p = [0u8; PAGE_SIZE];
    p[..21].copy_from_slice(&[
        0x08, 0x00, 0x00, 0x00, // platform command 8, LE
        0x00, // locality
        0x0c, 0x00, 0x00, 0x00, // size 12, LE
        0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44, 0x00, 0x00,
    ]);
    let v = page::SendCommandRequest::new_checked(&p).unwrap();
    assert_eq!(v.platform_command(), 8);
    assert_eq!(v.locality(), 0);
    assert_eq!(v.command(), &STARTUP_CLEAR);
    let mut q = [0u8; PAGE_SIZE];
    assert_eq!(page::encode_request(&mut q, 0, &STARTUP_CLEAR), Some(21));
    assert_eq!(p, q, "encode_request emits the same bytes");
}

#[test]
fn checked_view_accepts_the_extremes() {
    let mut p = [0u8; PAGE_SIZE];
    page::encode_raw_request(&mut p, 8, 255, 0, &[]).unwrap();
    let v = page::SendCommandRequest::new_checked(&p).unwrap();
    assert_eq!((v.locality(), v.command().len()), (255, 0));
    page::encode_raw_request(&mut p, 8, 0, 4087, &[]).unwrap();
    let v = page::SendCommandRequest::new_checked(&p).unwrap();
    assert_eq!(v.command().len(), 4087, "up to the last byte of the page");
    assert!(page::encode_request(&mut p, 0, &[0u8; 4088]).is_none());
}

#[test]
fn checked_view_rejects_impossible_lengths() {
    let mut p = [0u8; PAGE_SIZE];
    for size in [4088u32, 4096, u32::MAX] {
        page::encode_raw_request(&mut p, 8, 0, size, &[]).unwrap();
        assert_eq!(
            page::SendCommandRequest::new_checked(&p).unwrap_err(),
            SvsmError::InvalidParameter
        );
    }
}
