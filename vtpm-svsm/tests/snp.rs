//! MSG_KEY_REQ / MSG_KEY_RSP layout (SEV-SNP ABI; Linux uapi
//! `snp_derived_key_req`/`_resp`) and the state-key derivation.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use vtpm_svsm::snp::*;
use vtpm_svsm::testing::TestKeySource;

#[test]
fn message_types_and_sizes_are_pinned() {
    assert_eq!(MSG_KEY_REQ, 3);
    assert_eq!(MSG_KEY_RSP, 4);
    assert_eq!(MSG_KEY_REQ_V1_LEN, 32);
    assert_eq!(MSG_KEY_REQ_V2_LEN, 40);
    assert_eq!(MSG_KEY_RSP_LEN, 64);
    assert_eq!(DERIVED_KEY_LEN, 32);
    assert_eq!(KEY_STATUS_INVALID_PARAMS, 0x16);
    assert_eq!(KEY_STATUS_INVALID_KEY, 0x27);
}

#[test]
fn guest_field_select_bits_are_pinned() {
    assert_eq!(GuestFieldSelect::GUEST_POLICY.0, 1 << 0);
    assert_eq!(GuestFieldSelect::IMAGE_ID.0, 1 << 1);
    assert_eq!(GuestFieldSelect::FAMILY_ID.0, 1 << 2);
    assert_eq!(GuestFieldSelect::MEASUREMENT.0, 1 << 3);
    assert_eq!(GuestFieldSelect::GUEST_SVN.0, 1 << 4);
    assert_eq!(GuestFieldSelect::TCB_VERSION.0, 1 << 5);
    assert_eq!(GuestFieldSelect::LAUNCH_MIT_VECTOR.0, 1 << 6);
    assert_eq!(RootKey::Vcek.encode(), 0);
    assert_eq!(RootKey::Vmrk.encode(), 1);
}

#[test]
fn msg_key_req_v1_layout_offsets_and_encoding() {
    let req = MsgKeyReq {
        root_key: RootKey::Vmrk,
        guest_field_select: GuestFieldSelect(0x0102_0304_0506_0728),
        vmpl: 0x1122_3344,
        guest_svn: 0x5566_7788,
        tcb_version: 0x99AA_BBCC_DDEE_FF00,
        launch_mit_vector: None,
    };
    assert_eq!(req.message_version(), 1);
    let b = req.to_bytes();
    assert_eq!(b.len(), 32);
    assert_eq!(&b[0x00..0x04], &[1, 0, 0, 0], "ROOT_KEY_SELECT (LE)");
    assert_eq!(&b[0x04..0x08], &[0, 0, 0, 0], "reserved");
    assert_eq!(
        &b[0x08..0x10],
        &[0x28, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01],
        "GUEST_FIELD_SELECT"
    );
    assert_eq!(&b[0x10..0x14], &[0x44, 0x33, 0x22, 0x11], "VMPL");
    assert_eq!(&b[0x14..0x18], &[0x88, 0x77, 0x66, 0x55], "GUEST_SVN");
    assert_eq!(
        &b[0x18..0x20],
        &[0x00, 0xFF, 0xEE, 0xDD, 0xCC, 0xBB, 0xAA, 0x99],
        "TCB_VERSION"
    );
}

#[test]
fn msg_key_req_v2_appends_launch_mit_vector() {
    let req = MsgKeyReq {
        launch_mit_vector: Some(0x0807_0605_0403_0201),
        ..KeyPolicy::default().request()
    };
    assert_eq!(req.message_version(), 2);
    let b = req.to_bytes();
    assert_eq!(b.len(), 40);
    assert_eq!(&b[0x20..0x28], &[1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn default_policy_is_vcek_vmpl0_policy_and_measurement() {
    let req = KeyPolicy::default().request();
    assert_eq!(req.root_key, RootKey::Vcek);
    assert_eq!(req.vmpl, 0);
    assert_eq!(req.guest_field_select.0, 0b1001);
    assert!(req
        .guest_field_select
        .contains(GuestFieldSelect::GUEST_POLICY));
    assert!(req
        .guest_field_select
        .contains(GuestFieldSelect::MEASUREMENT));
    assert_eq!(
        req.to_bytes(),
        [
            0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0, 0
        ]
    );
}

#[test]
fn msg_key_rsp_layout() {
    let mut raw = [0u8; 64];
    raw[0..4].copy_from_slice(&0x27u32.to_le_bytes());
    raw[4..32].fill(0xEE); // reserved: ignored
    for (i, b) in raw[0x20..0x40].iter_mut().enumerate() {
        *b = i as u8;
    }
    let rsp = MsgKeyRsp::from_bytes(&raw).unwrap();
    assert_eq!(rsp.status, 0x27);
    assert_eq!(rsp.derived_key[0], 0);
    assert_eq!(rsp.derived_key[31], 31);
    let mut again = raw;
    again[4..32].fill(0);
    assert_eq!(rsp.to_bytes(), again);
    assert!(MsgKeyRsp::from_bytes(&raw[..63]).is_none());
    assert!(MsgKeyRsp::from_bytes(&[0u8; 65]).is_none());
    assert!(format!("{rsp:?}").contains("redacted"));
}

#[test]
fn state_key_is_kdfa_sha256_over_the_derived_key_pinned() {
    // Independent computation (Python hmac/hashlib):
    // K = HMAC-SHA256([0x11]*32, 00000001 || "vtpm state key v1" || 00 ||
    //     MSG_KEY_REQ(default policy) || 00000100)
    //   = fbf188cd...2fb74f93, key id = SHA-256("vtpm sealed-state key id\0" || K)[..8].
    let req = KeyPolicy::default().request();
    let key = state_key_from_derived(&[0x11; 32], &req).unwrap();
    assert_eq!(
        key.key_id(),
        [0x15, 0x87, 0xfd, 0x95, 0xfc, 0x61, 0x48, 0xa5]
    );

    // And by recomputing KDFa here.
    use hmac::{KeyInit, Mac};
    use sha2::Digest;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&[0x11; 32]).unwrap();
    mac.update(&1u32.to_be_bytes());
    mac.update(b"vtpm state key v1\0");
    mac.update(&req.to_bytes());
    mac.update(&256u32.to_be_bytes());
    let k = mac.finalize().into_bytes();
    let id = sha2::Sha256::new()
        .chain_update(b"vtpm sealed-state key id\0")
        .chain_update(k)
        .finalize();
    assert_eq!(&key.key_id()[..], &id[..8]);
}

#[test]
fn derivation_goes_through_the_key_source_and_binds_the_request() {
    let mut src = TestKeySource::new([5; 32]);
    let k1 = derive_sealing_key(&mut src, &KeyPolicy::default()).unwrap();
    let k1b = derive_sealing_key(&mut src, &KeyPolicy::default()).unwrap();
    assert_eq!(k1.key_id(), k1b.key_id(), "deterministic");
    assert_eq!(src.requests.len(), 2);
    assert_eq!(src.requests[0], KeyPolicy::default().request());
    let other = KeyPolicy {
        guest_field_select: GuestFieldSelect::GUEST_POLICY
            | GuestFieldSelect::MEASUREMENT
            | GuestFieldSelect::TCB_VERSION,
        ..KeyPolicy::default()
    };
    let k2 = derive_sealing_key(&mut src, &other).unwrap();
    assert_ne!(k1.key_id(), k2.key_id(), "another selection, another key");
    let other_chip =
        derive_sealing_key(&mut TestKeySource::new([6; 32]), &KeyPolicy::default()).unwrap();
    assert_ne!(k1.key_id(), other_chip.key_id());
    assert!(format!("{k1:?}").contains("redacted"));
}

#[test]
fn firmware_errors_and_zero_keys_are_refused() {
    let mut src = TestKeySource::new([5; 32]);
    src.status = KEY_STATUS_INVALID_PARAMS;
    assert_eq!(
        derive_sealing_key(&mut src, &KeyPolicy::default()).unwrap_err(),
        SealKeyError::Status(0x16)
    );
    assert_eq!(
        state_key_from_derived(&[0; 32], &KeyPolicy::default().request()).unwrap_err(),
        SealKeyError::ZeroKey
    );

    struct Failing;
    impl SnpKeySource for Failing {
        fn request_key(&mut self, _: &MsgKeyReq) -> Result<MsgKeyRsp, SnpKeyError> {
            Err(SnpKeyError::NoVmpck)
        }
    }
    let e = derive_sealing_key(&mut Failing, &KeyPolicy::default()).unwrap_err();
    assert_eq!(e, SealKeyError::Source(SnpKeyError::NoVmpck));
    assert!(e.to_string().contains("VMPCK0"));
}

#[test]
fn reserved_field_select_bits_are_refused_before_asking() {
    let mut src = TestKeySource::new([5; 32]);
    for bits in [1u64 << 7, 1 << 63, GuestFieldSelect::LAUNCH_MIT_VECTOR.0] {
        let policy = KeyPolicy {
            guest_field_select: GuestFieldSelect(bits),
            ..KeyPolicy::default()
        };
        assert_eq!(
            derive_sealing_key(&mut src, &policy).unwrap_err(),
            SealKeyError::ReservedFieldSelectBits(bits)
        );
    }
    assert!(src.requests.is_empty());
    // Bit 6 is fine in a version-2 request.
    let policy = KeyPolicy {
        guest_field_select: GuestFieldSelect::LAUNCH_MIT_VECTOR,
        launch_mit_vector: Some(0),
        ..KeyPolicy::default()
    };
    assert!(derive_sealing_key(&mut src, &policy).is_ok());
}
