//! Part 1, 19-21 / Part 3, 11 and 23: sessions, checked by a client that
//! computes session keys, cpHash/rpHash, HMACs and parameter encryption
//! itself, with RustCrypto primitives and not the engine's own code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;
use common::*;
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use vtpm_core::Rc;

type HmacSha256 = hmac::Hmac<Sha256>;

fn hmac256(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).unwrap();
    for p in parts {
        m.update(p);
    }
    m.finalize().into_bytes().to_vec()
}

/// KDFa with SHA-256 (Part 1, 11.4.10.2), written independently.
fn kdfa(key: &[u8], label: &[u8], u: &[u8], v: &[u8], bits: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i: u32 = 0;
    while out.len() * 8 < bits as usize {
        i += 1;
        out.extend(hmac256(
            key,
            &[&i.to_be_bytes(), label, &[0], u, v, &bits.to_be_bytes()],
        ));
    }
    out.truncate(bits.div_ceil(8) as usize);
    out
}

/// AES-128 CFB (full block feedback), written on the raw block cipher.
fn cfb(key: &[u8], iv: &[u8], data: &mut [u8], encrypt: bool) {
    use aes::cipher::BlockCipherEncrypt;
    let c = aes::Aes128::new_from_slice(key).unwrap();
    let mut fb: [u8; 16] = iv.try_into().unwrap();
    for chunk in data.chunks_mut(16) {
        let mut block = aes::Block::from(fb);
        c.encrypt_block(&mut block);
        let mut next = [0u8; 16];
        for (j, b) in chunk.iter_mut().enumerate() {
            let p = *b;
            *b ^= block[j];
            next[j] = if encrypt { *b } else { p };
        }
        fb = next;
    }
}

struct HmacSession {
    handle: u32,
    key: Vec<u8>,
    nonce_tpm: Vec<u8>,
    nonce_caller: Vec<u8>,
}

/// StartAuthSession: HMAC, SHA-256, AES-128-CFB, bound to `bind` with `bind_auth`.
fn start(
    t: &mut vtpm_core::Tpm<vtpm_core::testing::TestPlatform>,
    bind: u32,
    bind_auth: &[u8],
    kind: u8,
) -> HmacSession {
    let nonce_caller = vec![0x5A; 32];
    let c = Cmd::new(0x176)
        .handle(0x4000_0007)
        .handle(bind)
        .b2(&nonce_caller)
        .u16(0)
        .u8(kind)
        .bytes(&[0x00, 0x06, 0x00, 0x80, 0x00, 0x43])
        .u16(0x000B);
    let mut r = run(t, &c, true);
    assert_eq!(r.rc, Rc::SUCCESS);
    let nonce_tpm = r.b2();
    assert_eq!(nonce_tpm.len(), 32);
    let key = if bind_auth.is_empty() {
        vec![]
    } else {
        kdfa(bind_auth, b"ATH", &nonce_tpm, &nonce_caller, 256)
    };
    HmacSession {
        handle: r.handle.unwrap(),
        key,
        nonce_tpm,
        nonce_caller,
    }
}

/// Build a command with one HMAC session; returns the raw command.
fn hmac_command(
    code: u32,
    handles: &[u32],
    names: &[Vec<u8>],
    params: &[u8],
    s: &HmacSession,
    auth: &[u8],
    attrs: u8,
) -> Vec<u8> {
    let mut cp = Sha256::new();
    cp.update(code.to_be_bytes());
    for n in names {
        cp.update(n);
    }
    cp.update(params);
    let cp = cp.finalize().to_vec();
    let mut key = s.key.clone();
    key.extend_from_slice(auth);
    let mac = hmac256(&key, &[&cp, &s.nonce_caller, &s.nonce_tpm, &[attrs]]);
    let mut area = s.handle.to_be_bytes().to_vec();
    area.extend_from_slice(&sized(&s.nonce_caller));
    area.push(attrs);
    area.extend_from_slice(&sized(&mac));
    let mut v = vec![0x80, 0x02, 0, 0, 0, 0];
    v.extend_from_slice(&code.to_be_bytes());
    for h in handles {
        v.extend_from_slice(&h.to_be_bytes());
    }
    v.extend_from_slice(&(area.len() as u32).to_be_bytes());
    v.extend_from_slice(&area);
    v.extend_from_slice(params);
    let n = (v.len() as u32).to_be_bytes();
    v[2..6].copy_from_slice(&n);
    v
}

/// Check a response's session HMAC; returns (params, new nonceTPM).
fn check_response(
    rsp: &[u8],
    code: u32,
    r_handle: bool,
    s: &HmacSession,
    auth: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    assert_eq!(&rsp[6..10], &[0, 0, 0, 0], "rc {:02x?}", &rsp[6..10]);
    let mut p = 10 + if r_handle { 4 } else { 0 };
    let psize = u32::from_be_bytes(rsp[p..p + 4].try_into().unwrap()) as usize;
    p += 4;
    let params = rsp[p..p + psize].to_vec();
    p += psize;
    let nlen = u16::from_be_bytes([rsp[p], rsp[p + 1]]) as usize;
    let nonce = rsp[p + 2..p + 2 + nlen].to_vec();
    p += 2 + nlen;
    let attrs = rsp[p];
    p += 1;
    let hlen = u16::from_be_bytes([rsp[p], rsp[p + 1]]) as usize;
    let mac = rsp[p + 2..p + 2 + hlen].to_vec();
    let rp =
        Sha256::digest([&0u32.to_be_bytes()[..], &code.to_be_bytes(), &params].concat()).to_vec();
    let mut key = s.key.clone();
    key.extend_from_slice(auth);
    let expect = hmac256(&key, &[&rp, &nonce, &s.nonce_caller, &[attrs]]);
    assert_eq!(mac, expect, "response HMAC");
    (params, nonce)
}

#[test]
fn part1_19_hmac_session_authorizes_and_response_hmac_verifies() {
    let mut t = tpm();
    // Give the owner an authValue, then bind a session to it.
    assert_eq!(
        run(
            &mut t,
            &Cmd::new(0x129).handle(0x4000_0001).pw(b"").b2(b"ownerpw"),
            false
        )
        .rc,
        Rc::SUCCESS
    );
    let mut s = start(&mut t, 0x4000_0001, b"ownerpw", 0);
    // HierarchyChangeAuth(owner) under the bound session: authValue left out of the key.
    let params = sized(b"newpw");
    let cmd = hmac_command(
        0x129,
        &[0x4000_0001],
        &[0x4000_0001u32.to_be_bytes().to_vec()],
        &params,
        &s,
        b"",
        0x01,
    );
    let rsp = t.execute(0, &cmd);
    let (_, nonce) = check_response(&rsp, 0x129, false, &s, b"");
    s.nonce_tpm = nonce;
    // The binding is gone (owner's auth changed): now the auth is in the key.
    let params = sized(b"third");
    let cmd = hmac_command(
        0x129,
        &[0x4000_0001],
        &[0x4000_0001u32.to_be_bytes().to_vec()],
        &params,
        &s,
        b"newpw",
        0x01,
    );
    let rsp = t.execute(0, &cmd);
    let (_, nonce) = check_response(&rsp, 0x129, false, &s, b"third");
    s.nonce_tpm = nonce;
    // A wrong HMAC: owner is DA-exempt, so TPM_RC_BAD_AUTH on session 1.
    let cmd = hmac_command(
        0x129,
        &[0x4000_0001],
        &[0x4000_0001u32.to_be_bytes().to_vec()],
        &sized(b"x"),
        &s,
        b"wrong",
        0x01,
    );
    let rsp = t.execute(0, &cmd);
    assert_eq!(
        Rc(u32::from_be_bytes(rsp[6..10].try_into().unwrap())),
        Rc::BAD_AUTH.session(1)
    );
}

#[test]
fn part1_21_parameter_encryption_both_directions() {
    let mut t = tpm();
    let (parent, _, _) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    assert_eq!(
        run(
            &mut t,
            &Cmd::new(0x129).handle(0x4000_0001).pw(b"").b2(b"pw"),
            false
        )
        .rc,
        Rc::SUCCESS
    );
    let mut s = start(&mut t, 0x4000_0001, b"pw", 0);
    // Create a sealed object with inSensitive encrypted (decrypt) and
    // outPrivate encrypted in the response (encrypt): attrs continue|decrypt|encrypt.
    let attrs = 0x01 | 0x20 | 0x40;
    let mut params = sens_create(b"", b"top secret");
    let plain_sensitive = params.clone();
    // Encrypt the data of the first parameter (after its size field).
    let k = kdfa(&s.key, b"CFB", &s.nonce_caller, &s.nonce_tpm, 256);
    cfb(&k[..16], &k[16..32], &mut params[2..], true);
    assert_ne!(params, plain_sensitive);
    params.extend_from_slice(&sized(&sealed_template()));
    params.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    // Parent name is its Name; the session is not bound to the parent, so
    // its (empty) authValue goes in the key.
    let mut rp = run(&mut t, &Cmd::new(0x173).handle(parent), false);
    let _ = rp.b2();
    let parent_name = rp.b2();
    let cmd = hmac_command(0x153, &[parent], &[parent_name], &params, &s, b"", attrs);
    let rsp = t.execute(0, &cmd);
    let (mut out, nonce) = check_response(&rsp, 0x153, false, &s, b"");
    // Decrypt outPrivate with the new nonceTPM first.
    let k = kdfa(&s.key, b"CFB", &nonce, &s.nonce_caller, 256);
    let n = u16::from_be_bytes([out[0], out[1]]) as usize;
    cfb(&k[..16], &k[16..32], &mut out[2..2 + n], false);
    let private = out[..2 + n].to_vec();
    let public_start = 2 + n;
    let plen = u16::from_be_bytes([out[public_start], out[public_start + 1]]) as usize;
    let public = out[public_start..public_start + 2 + plen].to_vec();
    s.nonce_tpm = nonce;
    // Load with a password and unseal: the sealed data came through the
    // encrypted parameter intact.
    let r = run(
        &mut t,
        &Cmd::new(0x157)
            .handle(parent)
            .pw(b"")
            .bytes(&private)
            .bytes(&public),
        true,
    );
    assert_eq!(r.rc, Rc::SUCCESS);
    let mut r = run(
        &mut t,
        &Cmd::new(0x15E).handle(r.handle.unwrap()).pw(b""),
        false,
    );
    assert_eq!(r.b2(), b"top secret");
}

#[test]
fn part3_23_policy_password_and_pcr_seal() {
    let mut t = tpm();
    let (parent, _, _) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    // Trial session: PolicyPCR(sha256:16) then PolicyPassword.
    let trial = start(&mut t, 0x4000_0007, b"", 3);
    let pcr_sel = [0, 0, 0, 1, 0, 0x0B, 3, 0, 0, 1];
    assert_eq!(
        run(
            &mut t,
            &Cmd::new(0x17F).handle(trial.handle).u16(0).bytes(&pcr_sel),
            false
        )
        .rc,
        Rc::SUCCESS
    );
    assert_eq!(
        run(&mut t, &Cmd::new(0x18C).handle(trial.handle), false).rc,
        Rc::SUCCESS
    );
    let mut r = run(&mut t, &Cmd::new(0x189).handle(trial.handle), false);
    let policy = r.b2();
    // Independently: PCR16 is zero; pcrDigest = H(zeros32); then two extends.
    let pcr_digest = Sha256::digest([0u8; 32]).to_vec();
    let d1 = Sha256::digest(
        [
            &[0u8; 32][..],
            &0x17Fu32.to_be_bytes(),
            &pcr_sel,
            &pcr_digest,
        ]
        .concat(),
    )
    .to_vec();
    let d2 = Sha256::digest([&d1[..], &0x16Bu32.to_be_bytes()].concat()).to_vec();
    assert_eq!(policy, d2);
    // Seal under that policy (userWithAuth clear).
    let mut tmpl = sealed_template();
    tmpl[4..8].copy_from_slice(&0x0000_0012u32.to_be_bytes());
    tmpl[8..10].copy_from_slice(&32u16.to_be_bytes());
    let mut tmpl2 = tmpl[..10].to_vec();
    tmpl2.extend_from_slice(&policy);
    tmpl2.extend_from_slice(&tmpl[10..]);
    let c = Cmd::new(0x153)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(b"pw", b"pcr-bound"))
        .bytes(&sized(&tmpl2))
        .u16(0)
        .u32(0);
    let mut r = run(&mut t, &c, false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let private = r.b2_raw();
    let public = r.b2_raw();
    let item = run(
        &mut t,
        &Cmd::new(0x157)
            .handle(parent)
            .pw(b"")
            .bytes(&private)
            .bytes(&public),
        true,
    )
    .handle
    .unwrap();
    // A password cannot unseal it (userWithAuth clear).
    assert_eq!(
        run(&mut t, &Cmd::new(0x15E).handle(item).pw(b"pw"), false).rc,
        Rc::AUTH_UNAVAILABLE
    );
    // Real policy session satisfies it; the HMAC field carries the password.
    let ps = start(&mut t, 0x4000_0007, b"", 1);
    assert_eq!(
        run(
            &mut t,
            &Cmd::new(0x17F).handle(ps.handle).u16(0).bytes(&pcr_sel),
            false
        )
        .rc,
        Rc::SUCCESS
    );
    assert_eq!(
        run(&mut t, &Cmd::new(0x18C).handle(ps.handle), false).rc,
        Rc::SUCCESS
    );
    let mut area = ps.handle.to_be_bytes().to_vec();
    area.extend_from_slice(&sized(&ps.nonce_caller));
    area.push(0x01);
    area.extend_from_slice(&sized(b"pw"));
    let mut cmd = vec![0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x5E];
    cmd.extend_from_slice(&item.to_be_bytes());
    cmd.extend_from_slice(&(area.len() as u32).to_be_bytes());
    cmd.extend_from_slice(&area);
    let n = (cmd.len() as u32).to_be_bytes();
    cmd[2..6].copy_from_slice(&n);
    let rsp = t.execute(0, &cmd);
    assert_eq!(&rsp[6..10], &[0, 0, 0, 0]);
    assert_eq!(&rsp[16..25], b"pcr-bound");
    // After the PCR changes, the policy no longer matches.
    let mut body = vec![];
    body.extend_from_slice(&[0, 0, 0, 1, 0, 0x0B]);
    body.extend_from_slice(&[7u8; 32]);
    assert_eq!(
        run(
            &mut t,
            &Cmd::new(0x182).handle(16).pw(b"").bytes(&body),
            false
        )
        .rc,
        Rc::SUCCESS
    );
    let r = run(
        &mut t,
        &Cmd::new(0x17F).handle(ps.handle).u16(0).bytes(&pcr_sel),
        false,
    );
    assert_eq!(
        r.rc,
        Rc::SUCCESS,
        "PolicyPCR itself succeeds with the new value"
    );
    assert_eq!(
        run(&mut t, &Cmd::new(0x18C).handle(ps.handle), false).rc,
        Rc::SUCCESS
    );
    let rsp = t.execute(0, &cmd);
    assert_eq!(
        Rc(u32::from_be_bytes(rsp[6..10].try_into().unwrap())),
        Rc::POLICY_FAIL.session(1)
    );
}

#[test]
fn part3_28_session_context_save_load_and_replay_refused() {
    let mut t = tpm();
    let s = start(&mut t, 0x4000_0007, b"", 0);
    let mut r = run(&mut t, &Cmd::new(0x162).handle(s.handle), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let ctx = r.rest();
    let r = run(&mut t, &Cmd::new(0x161).bytes(&ctx), true);
    assert_eq!(r.rc, Rc::SUCCESS);
    assert_eq!(r.handle, Some(s.handle));
    // The same context cannot be loaded twice.
    assert_eq!(
        run(&mut t, &Cmd::new(0x162).handle(s.handle), false).rc,
        Rc::SUCCESS
    );
    assert_eq!(
        run(&mut t, &Cmd::new(0x161).bytes(&ctx), true).rc,
        Rc::HANDLE.param(1)
    );
    // Flush the saved session.
    assert_eq!(
        run(&mut t, &Cmd::new(0x165).u32(s.handle), false).rc,
        Rc::SUCCESS
    );
    assert_eq!(
        run(&mut t, &Cmd::new(0x165).u32(s.handle), false).rc,
        Rc::HANDLE.param(1)
    );
}

#[test]
fn part1_19_8_dictionary_attack_lockout_and_reset() {
    let mut t = tpm();
    let (parent, _, _) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    let c = Cmd::new(0x153)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(b"right", b"d"))
        .bytes(&sized(&sealed_template()))
        .u16(0)
        .u32(0);
    let mut r = run(&mut t, &c, false);
    let private = r.b2_raw();
    let public = r.b2_raw();
    let item = run(
        &mut t,
        &Cmd::new(0x157)
            .handle(parent)
            .pw(b"")
            .bytes(&private)
            .bytes(&public),
        true,
    )
    .handle
    .unwrap();
    // Default maxTries is 3.
    for _ in 0..3 {
        assert_eq!(
            run(&mut t, &Cmd::new(0x15E).handle(item).pw(b"wrong"), false).rc,
            Rc::AUTH_FAIL.session(1)
        );
    }
    assert_eq!(
        run(&mut t, &Cmd::new(0x15E).handle(item).pw(b"right"), false).rc,
        Rc::LOCKOUT
    );
    // The counter was committed: a reloaded TPM is still locked out.
    let state = t.platform().committed.clone().unwrap();
    assert!(
        vtpm_core::state::PersistentState::from_bytes(&state)
            .unwrap()
            .failed_tries
            >= 3
    );
    // Lockout auth resets it.
    assert_eq!(
        run(&mut t, &Cmd::new(0x139).handle(0x4000_000A).pw(b""), false).rc,
        Rc::SUCCESS
    );
    assert_eq!(
        run(&mut t, &Cmd::new(0x15E).handle(item).pw(b"right"), false).rc,
        Rc::SUCCESS
    );
}

#[test]
fn part3_5_session_area_errors_carry_session_numbers() {
    let mut t = tpm();
    // Unknown HMAC session handle: TPM_RC_REFERENCE_S0.
    let mut area = 0x0200_0005u32.to_be_bytes().to_vec();
    area.extend_from_slice(&sized(&[1; 16]));
    area.push(1);
    area.extend_from_slice(&[0, 0]);
    let mut cmd = vec![0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x7B];
    cmd.extend_from_slice(&(area.len() as u32).to_be_bytes());
    cmd.extend_from_slice(&area);
    cmd.extend_from_slice(&[0, 8]);
    let n = (cmd.len() as u32).to_be_bytes();
    cmd[2..6].copy_from_slice(&n);
    assert_eq!(
        Rc(u32::from_be_bytes(
            t.execute(0, &cmd)[6..10].try_into().unwrap()
        )),
        Rc::REFERENCE_S0
    );
    // nonceCaller too short for StartAuthSession: TPM_RC_SIZE on parameter 1.
    let c = Cmd::new(0x176)
        .handle(0x4000_0007)
        .handle(0x4000_0007)
        .b2(&[1; 8])
        .u16(0)
        .u8(0)
        .u16(0x10)
        .u16(0x0B);
    assert_eq!(run(&mut t, &c, true).rc, Rc::SIZE.param(1));
    // A password session with a nonce: TPM_RC_NONCE on session 1.
    let mut area = 0x4000_0009u32.to_be_bytes().to_vec();
    area.extend_from_slice(&sized(&[1; 4]));
    area.push(1);
    area.extend_from_slice(&[0, 0]);
    let mut cmd = vec![0x80, 0x02, 0, 0, 0, 0, 0, 0, 0x01, 0x29, 0x40, 0, 0, 1];
    cmd.extend_from_slice(&(area.len() as u32).to_be_bytes());
    cmd.extend_from_slice(&area);
    cmd.extend_from_slice(&[0, 0]);
    let n = (cmd.len() as u32).to_be_bytes();
    cmd[2..6].copy_from_slice(&n);
    assert_eq!(
        Rc(u32::from_be_bytes(
            t.execute(0, &cmd)[6..10].try_into().unwrap()
        )),
        Rc::NONCE.session(1)
    );
}

#[test]
fn part3_21_command_audit_digest_and_capability() {
    let mut t = tpm();
    // Audit GetRandom (0x17B) with SHA-256.
    let c = Cmd::new(0x140)
        .handle(0x4000_0001)
        .pw(b"")
        .u16(0x10)
        .bytes(&[0, 0, 0, 1, 0, 0, 0x01, 0x7B])
        .u32(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
    let mut r = run(&mut t, &Cmd::new(0x17A).u32(4).u32(0x17B).u32(10), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _more = r.take(1);
    assert_eq!(r.u32(), 4);
    assert_eq!(r.u32(), 1);
    assert_eq!(r.u32(), 0x17B);
    // Changing the hash clears the digest; an unimplemented code is ignored.
    let c = Cmd::new(0x140)
        .handle(0x4000_0001)
        .pw(b"")
        .u16(0x0C)
        .u32(0)
        .u32(0);
    assert_eq!(run(&mut t, &c, false).rc, Rc::SUCCESS);
}

#[test]
fn part1_19_8_unorderly_shutdown_after_da_use_counts_as_a_failure() {
    let mut t = tpm();
    let (parent, _, _) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    let c = Cmd::new(0x153)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(b"pw", b"d"))
        .bytes(&sized(&sealed_template()))
        .u16(0)
        .u32(0);
    let mut r = run(&mut t, &c, false);
    let private = r.b2_raw();
    let public = r.b2_raw();
    let item = run(
        &mut t,
        &Cmd::new(0x157)
            .handle(parent)
            .pw(b"")
            .bytes(&private)
            .bytes(&public),
        true,
    )
    .handle
    .unwrap();
    // A successful use of a DA-protected authValue...
    assert_eq!(
        run(&mut t, &Cmd::new(0x15E).handle(item).pw(b"pw"), false).rc,
        Rc::SUCCESS
    );
    // ...then power is cut without TPM2_Shutdown.
    let state = t.platform().committed.clone().unwrap();
    let mut t2 = vtpm_core::Tpm::load(
        vtpm_core::testing::TestPlatform::new(9),
        Default::default(),
        &state,
    )
    .unwrap();
    t2.power_on();
    assert_eq!(
        t2.execute(0, &vtpm_core::testing::STARTUP_CLEAR)[6..10],
        [0, 0, 0, 0]
    );
    let after = t2.platform().committed.clone().unwrap();
    assert_eq!(
        vtpm_core::state::PersistentState::from_bytes(&after)
            .unwrap()
            .failed_tries,
        1
    );
    // With an orderly shutdown in between, nothing is counted.
    let mut t3 = tpm();
    assert_eq!(run(&mut t3, &Cmd::new(0x145).u16(0), false).rc, Rc::SUCCESS);
    let st = t3.platform().committed.clone().unwrap();
    let mut t4 = vtpm_core::Tpm::load(
        vtpm_core::testing::TestPlatform::new(9),
        Default::default(),
        &st,
    )
    .unwrap();
    t4.power_on();
    assert_eq!(
        t4.execute(0, &vtpm_core::testing::STARTUP_CLEAR)[6..10],
        [0, 0, 0, 0]
    );
    let after = t4.platform().committed.clone().unwrap();
    assert_eq!(
        vtpm_core::state::PersistentState::from_bytes(&after)
            .unwrap()
            .failed_tries,
        0
    );
}

/// TPM_PT_LOCKOUT_COUNTER through TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES).
fn lockout_counter(t: &mut vtpm_core::Tpm<vtpm_core::testing::TestPlatform>) -> u32 {
    let mut r = run(t, &Cmd::new(0x17A).u32(6).u32(0x20E).u32(1), false);
    assert_eq!(r.rc, Rc::SUCCESS);
    let _more = r.take(1);
    assert_eq!(r.u32(), 6, "capability");
    assert_eq!(r.u32(), 1, "count");
    assert_eq!(r.u32(), 0x20E, "property");
    r.u32()
}

#[test]
fn part1_19_8_4_self_healing_is_visible_without_an_authorization() {
    let mut t = tpm();
    let (parent, _, _) = create_primary(&mut t, 0x4000_0001, &ecc_storage_template(), b"");
    let c = Cmd::new(0x153)
        .handle(parent)
        .pw(b"")
        .bytes(&sens_create(b"right", b"d"))
        .bytes(&sized(&sealed_template()))
        .u16(0)
        .u32(0);
    let mut r = run(&mut t, &c, false);
    let private = r.b2_raw();
    let public = r.b2_raw();
    let item = run(
        &mut t,
        &Cmd::new(0x157)
            .handle(parent)
            .pw(b"")
            .bytes(&private)
            .bytes(&public),
        true,
    )
    .handle
    .unwrap();
    // DictionaryAttackParameters: maxTries 3, recoveryTime 2 s,
    // lockoutRecovery 2 s.
    let da = Cmd::new(0x13A)
        .handle(0x4000_000A)
        .pw(b"")
        .u32(3)
        .u32(2)
        .u32(2);
    assert_eq!(run(&mut t, &da, false).rc, Rc::SUCCESS);
    assert_eq!(
        run(&mut t, &Cmd::new(0x15E).handle(item).pw(b"wrong"), false).rc,
        Rc::AUTH_FAIL.session(1)
    );
    assert_eq!(lockout_counter(&mut t), 1);
    // recoveryTime later the failure is forgotten, and GetCapability (no
    // authorization attempted) reports it.
    t.platform_mut().now_ms += 2_100;
    assert_eq!(lockout_counter(&mut t), 0);
}
