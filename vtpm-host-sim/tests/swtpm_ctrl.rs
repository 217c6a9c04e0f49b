//! The swtpm control channel of `vtpm-host-sim socket`, command by
//! command, with the reply sizes QEMU and the TCTIs read (including the
//! error replies), over TCP and over a Unix socket with CMD_SET_DATAFD.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod swtpm_support;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use swtpm_support::*;

// Control command codes.
const GET_CAPABILITY: u32 = 0x01;
const INIT: u32 = 0x02;
const SHUTDOWN: u32 = 0x03;
const GET_TPMESTABLISHED: u32 = 0x04;
const SET_LOCALITY: u32 = 0x05;
const HASH_START: u32 = 0x06;
const HASH_DATA: u32 = 0x07;
const HASH_END: u32 = 0x08;
const CANCEL_TPM_CMD: u32 = 0x09;
const STORE_VOLATILE: u32 = 0x0a;
const RESET_TPMESTABLISHED: u32 = 0x0b;
const GET_STATEBLOB: u32 = 0x0c;
const SET_STATEBLOB: u32 = 0x0d;
const STOP: u32 = 0x0e;
const GET_CONFIG: u32 = 0x0f;
const SET_DATAFD: u32 = 0x10;
const SET_BUFFERSIZE: u32 = 0x11;
const GET_INFO: u32 = 0x12;
const LOCK_STORAGE: u32 = 0x13;

// Results.
const OK: [u8; 4] = [0, 0, 0, 0];
const BAD_PARAMETER: [u8; 4] = [0, 0, 0, 0x03];
const BAD_ORDINAL: [u8; 4] = [0, 0, 0, 0x0a];
const IOERROR: [u8; 4] = [0, 0, 0, 0x1f];
const BAD_LOCALITY: [u8; 4] = [0, 0, 0, 0x3d];

/// Every PTM_CAP_* bit, 0 to 16.
const ALL_CAPS: u32 = 0x1ffff;

#[test]
fn every_command_before_init_with_its_reply_size() {
    let srv = Server::tcp("preinit", &[]);
    let mut c = srv.ctrl();
    // GET_CAPABILITY: result + caps, all 17 bits (QEMU < 9.2 reads the 8
    // octets as one u64: the same bytes).
    let caps = ctrl_cmd(&mut c, &msg(GET_CAPABILITY, &[]), 8);
    assert_eq!(&caps[..4], &OK);
    assert_eq!(be32(&caps[4..]), ALL_CAPS);
    // The TPM is not running: data commands get the 10-octet
    // TPM_RC_FAILURE (QEMU's version probe relies on it).
    let mut d = srv.data();
    assert_eq!(raw_send(&mut d, &READ_CLOCK), RC_FAILURE);
    // GET_TPMESTABLISHED: always 8 octets, even on error.
    assert_eq!(
        ctrl_cmd(&mut c, &msg(GET_TPMESTABLISHED, &[]), 8),
        [0, 0, 0, 0x0a, 0, 0, 0, 0]
    );
    // GET_STATEBLOB: always the 16-octet header, even on error.
    let r = ctrl_cmd(
        &mut c,
        &msg(GET_STATEBLOB, &[0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]),
        16,
    );
    assert_eq!(r, [0, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // The others need a running TPM: a 4-octet TPM_BAD_ORDINAL.
    for code in [HASH_START, HASH_END, CANCEL_TPM_CMD, STORE_VOLATILE] {
        assert_eq!(
            ctrl_cmd(&mut c, &msg(code, &[]), 4),
            BAD_ORDINAL,
            "0x{code:x}"
        );
    }
    assert_eq!(
        ctrl_cmd(&mut c, &msg(HASH_DATA, &[0, 0, 0, 1, 0xaa]), 4),
        BAD_ORDINAL
    );
    assert_eq!(
        ctrl_cmd(&mut c, &msg(RESET_TPMESTABLISHED, &[3, 0, 0, 0]), 4),
        BAD_ORDINAL
    );
    // These work on a stopped TPM.
    assert_eq!(ctrl_cmd(&mut c, &msg(SET_LOCALITY, &[2, 0, 0, 0]), 4), OK);
    assert_eq!(
        ctrl_cmd(&mut c, &msg(SET_LOCALITY, &[5, 0, 0, 0]), 4),
        BAD_LOCALITY
    );
    assert_eq!(ctrl_cmd(&mut c, &msg(GET_CONFIG, &[]), 8), [0; 8]);
    let b = ctrl_cmd(&mut c, &msg(SET_BUFFERSIZE, &[0, 0, 0x0f, 0x80]), 16);
    assert_eq!(&b[..4], &OK);
    assert_eq!(be32(&b[4..]), 4096, "size in use");
    assert_eq!(be32(&b[8..]), 4096, "min");
    assert_eq!(be32(&b[12..]), 4096, "max");
    assert_eq!(
        ctrl_cmd(&mut c, &msg(LOCK_STORAGE, &[0, 0, 1, 0x2c]), 4),
        OK
    );
    // Unknown command.
    assert_eq!(ctrl_cmd(&mut c, &msg(0x7f, &[]), 4), BAD_ORDINAL);
    // SET_DATAFD on TCP carries no descriptor: TPM_BAD_PARAMETER.
    assert_eq!(ctrl_cmd(&mut c, &msg(SET_DATAFD, &[]), 4), BAD_PARAMETER);
    // Malformed requests (short payloads, delivered within the deadline).
    assert_eq!(ctrl_cmd(&mut c, &msg(INIT, &[0, 0]), 4), BAD_PARAMETER);
    // INIT, and the TPM answers.
    assert_eq!(ctrl_cmd(&mut c, &msg(INIT, &[0, 0, 0, 0]), 4), OK);
    assert_eq!(rc(&raw_send(&mut d, &STARTUP_CLEAR)), 0);
    let rsp = raw_send(&mut d, &GET_RANDOM_8);
    assert_eq!(rsp.len(), 20);
}

#[test]
fn running_tpm_commands() {
    let srv = Server::tcp("running", &["--flags", "not-need-init"]);
    let mut c = srv.ctrl();
    let mut d = srv.data();
    assert_eq!(rc(&raw_send(&mut d, &STARTUP_CLEAR)), 0);
    // DRTM: HASH_START / HASH_DATA (streamed in two writes) / HASH_END
    // extend PCR 17 and set tpmEstablished.
    let before = pcr_read(&mut d, 17);
    assert_eq!(before, [0xff; 32]);
    assert_eq!(ctrl_cmd(&mut c, &msg(HASH_START, &[]), 4), OK);
    c.write_all(&msg(HASH_DATA, &[0, 0, 0, 5, b'a'])).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(ctrl_cmd(&mut c, b"bcde", 4), OK);
    assert_eq!(ctrl_cmd(&mut c, &msg(HASH_END, &[]), 4), OK);
    let after = pcr_read(&mut d, 17);
    assert_ne!(after, before);
    assert_eq!(
        ctrl_cmd(&mut c, &msg(GET_TPMESTABLISHED, &[]), 8),
        [0, 0, 0, 0, 1, 0, 0, 0]
    );
    // RESET_TPMESTABLISHED: QEMU sends 1 locality octet + 3 pad octets;
    // only localities 3 and 4 may reset, above 4 is no locality.
    for (loc, want) in [(0u8, BAD_LOCALITY), (5, BAD_LOCALITY), (3, OK)] {
        assert_eq!(
            ctrl_cmd(&mut c, &msg(RESET_TPMESTABLISHED, &[loc, 0, 0, 0]), 4),
            want,
            "locality {loc}"
        );
    }
    assert_eq!(ctrl_cmd(&mut c, &msg(GET_TPMESTABLISHED, &[]), 8), [0; 8]);
    // CANCEL_TPM_CMD with nothing to cancel.
    assert_eq!(ctrl_cmd(&mut c, &msg(CANCEL_TPM_CMD, &[]), 4), OK);
    // Changing the buffer size needs a stopped TPM; querying does not.
    assert_eq!(
        ctrl_cmd(&mut c, &msg(SET_BUFFERSIZE, &[0, 0, 0x0f, 0x80]), 4),
        BAD_ORDINAL
    );
    assert_eq!(ctrl_cmd(&mut c, &msg(SET_BUFFERSIZE, &[0; 4]), 16)[..4], OK);
    // SET_STATEBLOB needs a stopped TPM.
    assert_eq!(
        ctrl_cmd(
            &mut c,
            &msg(SET_STATEBLOB, &[0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0]),
            4
        ),
        BAD_ORDINAL
    );
    // STOP: the data channel answers TPM_RC_FAILURE again; INIT brings it
    // back (the auto-shutdown made it orderly).
    assert_eq!(ctrl_cmd(&mut c, &msg(STOP, &[]), 4), OK);
    assert_eq!(raw_send(&mut d, &GET_RANDOM_8), RC_FAILURE);
    assert_eq!(ctrl_cmd(&mut c, &msg(INIT, &[0, 0, 0, 0]), 4), OK);
    assert_eq!(rc(&raw_send(&mut d, &STARTUP_CLEAR)), 0);
    // GET_INFO: u64 flags, u32 offset, u32 pad; JSON with its NUL.
    let mut req = 3u64.to_be_bytes().to_vec();
    req.extend_from_slice(&[0; 8]);
    c.write_all(&msg(GET_INFO, &req)).unwrap();
    let mut h = [0u8; 12];
    c.read_exact(&mut h).unwrap();
    assert_eq!(&h[..4], &OK);
    let (total, len) = (be32(&h[4..]) as usize, be32(&h[8..]) as usize);
    assert_eq!(total, len);
    let mut json = vec![0u8; len];
    c.read_exact(&mut json).unwrap();
    assert_eq!(json.pop(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["TPMSpecification"]["family"], "2.0");
    assert_eq!(v["TPMAttributes"]["model"], "vtpm");
    // An offset past the end is a bad parameter.
    let mut req = 3u64.to_be_bytes().to_vec();
    req.extend_from_slice(&(total as u32).to_be_bytes());
    req.extend_from_slice(&[0; 4]);
    assert_eq!(ctrl_cmd(&mut c, &msg(GET_INFO, &req), 4), BAD_PARAMETER);
    // STORE_VOLATILE writes the volatile blob; the next INIT resumes from
    // it (no TPM2_Startup needed) and removes it.
    let ext = pcr_extend(10, &[7; 32]);
    assert_eq!(rc(&raw_send(&mut d, &ext)), 0);
    let pcr10 = pcr_read(&mut d, 10);
    assert_eq!(ctrl_cmd(&mut c, &msg(STORE_VOLATILE, &[]), 4), OK);
    let vol = srv.dir.join("state/vtpm-volatile.bin");
    assert_eq!(std::fs::read(&vol).unwrap().len(), 16);
    assert_eq!(ctrl_cmd(&mut c, &msg(INIT, &[0, 0, 0, 1]), 4), OK);
    assert!(!vol.exists());
    assert_eq!(pcr_read(&mut d, 10), pcr10);
    // CMD_SHUTDOWN: reply, then the process exits with status 0.
    assert_eq!(ctrl_cmd(&mut c, &msg(SHUTDOWN, &[]), 4), OK);
    let mut srv = srv;
    assert!(srv.wait_exit(Duration::from_secs(30)).success());
}

/// GET_STATEBLOB from one instance, SET_STATEBLOB into a fresh one (QEMU's
/// migration sequence): the TPM carries on without TPM2_Startup, with its
/// PCRs, seeds and counters.
#[test]
fn stateblobs_migrate_a_running_tpm() {
    let src = Server::tcp("blob-src", &[]);
    let mut c = src.ctrl();
    let mut d = src.data();
    assert_eq!(ctrl_cmd(&mut c, &msg(INIT, &[0; 4]), 4), OK);
    assert_eq!(rc(&raw_send(&mut d, &STARTUP_CLEAR)), 0);
    assert_eq!(rc(&raw_send(&mut d, &pcr_extend(10, &[1; 32]))), 0);
    assert_eq!(ctrl_cmd(&mut c, &msg(SET_LOCALITY, &[3, 0, 0, 0]), 4), OK);
    let pcr10 = pcr_read(&mut d, 10);
    let get = |c: &mut std::net::TcpStream, flags: u32, kind: u32, offset: u32| {
        let mut p = flags.to_be_bytes().to_vec();
        p.extend_from_slice(&kind.to_be_bytes());
        p.extend_from_slice(&offset.to_be_bytes());
        c.write_all(&msg(GET_STATEBLOB, &p)).unwrap();
        let mut h = [0u8; 16];
        c.read_exact(&mut h).unwrap();
        assert_eq!(&h[..4], &OK);
        let (tot, len) = (be32(&h[8..]), be32(&h[12..]));
        assert_eq!(tot, len, "the whole rest in one reply");
        let mut data = vec![0u8; len as usize];
        c.read_exact(&mut data).unwrap();
        (be32(&h[4..]), data)
    };
    // QEMU's order: permanent, volatile, savestate, all DECRYPTED.
    let (f, perm) = get(&mut c, 1, 1, 0);
    assert_eq!(f, 0, "plaintext");
    let (_, vol) = get(&mut c, 1, 2, 0);
    assert_eq!(vol.len(), 16);
    assert_eq!(&vol[..8], b"VTPMVOLA");
    let (_, save) = get(&mut c, 1, 3, 0);
    assert!(save.is_empty());
    // An offset returns the rest.
    let (_, tail) = get(&mut c, 1, 1, 100);
    assert!(tail == perm[100..], "the rest of the same blob");
    // Without DECRYPTED: our sealed format, flagged ENCRYPTED.
    let (f, sealed) = get(&mut c, 0, 1, 0);
    assert_eq!(f, 2);
    assert_eq!(&sealed[..8], b"VTPMSEAL");
    // An unknown blob type: TPM_FAIL with the 16-octet header.
    let r = ctrl_cmd(
        &mut c,
        &msg(GET_STATEBLOB, &[0, 0, 0, 1, 0, 0, 0, 9, 0, 0, 0, 0]),
        16,
    );
    assert_eq!(r[..4], [0, 0, 0, 9]);
    // The source may even carry on (savevm): its TPM still works.
    assert_eq!(rsp_len(&raw_send(&mut d, &GET_RANDOM_8)), 20);

    let dst = Server::tcp("blob-dst", &[]);
    let mut c2 = dst.ctrl();
    let mut d2 = dst.data();
    assert_eq!(ctrl_cmd(&mut c2, &msg(STOP, &[]), 4), OK);
    let set = |c: &mut std::net::TcpStream, flags: u32, kind: u32, blob: &[u8], split: bool| {
        let mut p = flags.to_be_bytes().to_vec();
        p.extend_from_slice(&kind.to_be_bytes());
        p.extend_from_slice(&(blob.len() as u32).to_be_bytes());
        if split {
            // QEMU writes the 12-octet header, then the body.
            c.write_all(&msg(SET_STATEBLOB, &p)).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            c.write_all(blob).unwrap();
        } else {
            p.extend_from_slice(blob);
            c.write_all(&msg(SET_STATEBLOB, &p)).unwrap();
        }
        let mut r = [0u8; 4];
        c.read_exact(&mut r).unwrap();
        r
    };
    assert_eq!(set(&mut c2, 0, 1, &perm, true), OK);
    assert_eq!(set(&mut c2, 0, 2, &vol, false), OK);
    // Garbage is refused.
    assert_eq!(
        set(&mut c2, 0, 2, b"not a volatile blob", false),
        [0, 0, 0, 9]
    );
    assert_eq!(set(&mut c2, 0, 1, b"not a state", false), [0, 0, 0, 9]);
    assert_eq!(set(&mut c2, 0, 3, b"x", false), [0, 0, 0, 9]);
    // Garbage did not replace what was set; INIT(DELETE_VOLATILE) resumes.
    assert_eq!(set(&mut c2, 0, 2, &vol, false), OK);
    assert_eq!(ctrl_cmd(&mut c2, &msg(INIT, &[0, 0, 0, 1]), 4), OK);
    // No TPM2_Startup: the TPM is running with the source's PCRs.
    assert_eq!(pcr_read(&mut d2, 10), pcr10);
    assert_eq!(rsp_len(&raw_send(&mut d2, &GET_RANDOM_8)), 20);
    // A Startup now is refused as it would be on the source.
    assert_eq!(rc(&raw_send(&mut d2, &STARTUP_CLEAR)), 0x100);
    // And the sealed blob goes back into the source's own directory.
    assert_eq!(ctrl_cmd(&mut c, &msg(STOP, &[]), 4), OK);
    assert_eq!(set(&mut c, 2, 1, &sealed, false), OK);
    // A sealed blob of another state directory (another key) is refused.
    assert_eq!(ctrl_cmd(&mut c2, &msg(STOP, &[]), 4), OK);
    assert_eq!(set(&mut c2, 2, 1, &sealed, false), [0, 0, 0, 9]);
}

fn rsp_len(r: &[u8]) -> usize {
    assert_eq!(rc(r), 0, "{r:02x?}");
    r.len()
}

/// QEMU's tpm-emulator backend: a Unix control socket, a socketpair whose
/// other end is passed with CMD_SET_DATAFD, then the probe, the
/// capabilities, the reset sequence and commands on the socketpair.
#[test]
fn set_datafd_with_a_socketpair_like_qemu() {
    let dir = temp_dir("datafd");
    let mut child = unix_ctrl_server(&dir, &["--terminate"]);
    let ctrl = UnixStream::connect(dir.join("sock")).unwrap();
    ctrl.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let (mut ours, theirs) = UnixStream::pair().unwrap();
    ours.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    send_with_fd(&ctrl, &msg(SET_DATAFD, &[]), &theirs);
    drop(theirs);
    let mut ctrl = ctrl;
    let mut r = [0u8; 4];
    ctrl.read_exact(&mut r).unwrap();
    assert_eq!(r, OK);
    // A second SET_DATAFD while the first is in use: TPM_IOERROR.
    let (_o2, t2) = UnixStream::pair().unwrap();
    send_with_fd(&ctrl, &msg(SET_DATAFD, &[]), &t2);
    ctrl.read_exact(&mut r).unwrap();
    assert_eq!(r, IOERROR);
    // Without a descriptor: TPM_BAD_PARAMETER.
    assert_eq!(ctrl_cmd(&mut ctrl, &msg(SET_DATAFD, &[]), 4), BAD_PARAMETER);
    // QEMU's version probe before CMD_INIT.
    assert_eq!(raw_send(&mut ours, &READ_CLOCK), RC_FAILURE);
    let caps = ctrl_cmd(&mut ctrl, &msg(GET_CAPABILITY, &[]), 8);
    assert_eq!(be32(&caps[4..]), ALL_CAPS);
    // tpm_tis_reset: STOP + SET_BUFFERSIZE(0), STOP + SET_BUFFERSIZE, INIT.
    assert_eq!(ctrl_cmd(&mut ctrl, &msg(STOP, &[]), 4), OK);
    assert_eq!(
        ctrl_cmd(&mut ctrl, &msg(SET_BUFFERSIZE, &[0; 4]), 16)[..4],
        OK
    );
    assert_eq!(ctrl_cmd(&mut ctrl, &msg(STOP, &[]), 4), OK);
    assert_eq!(
        ctrl_cmd(&mut ctrl, &msg(SET_BUFFERSIZE, &[0, 0, 0x10, 0]), 16)[..4],
        OK
    );
    assert_eq!(ctrl_cmd(&mut ctrl, &msg(INIT, &[0; 4]), 4), OK);
    // The firmware's TPM2_Startup and a command, locality set the QEMU
    // way (4-octet payload).
    assert_eq!(rc(&raw_send(&mut ours, &STARTUP_CLEAR)), 0);
    assert_eq!(
        ctrl_cmd(&mut ctrl, &msg(SET_LOCALITY, &[0, 0, 0, 0]), 4),
        OK
    );
    assert_eq!(raw_send(&mut ours, &GET_RANDOM_8).len(), 20);
    assert_eq!(
        ctrl_cmd(&mut ctrl, &msg(GET_TPMESTABLISHED, &[]), 8),
        [0; 8]
    );
    // QEMU exits: with --terminate the closed data socket ends the
    // process (libvirt's configuration).
    drop(ours);
    let t0 = std::time::Instant::now();
    let st = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(st.success());
    assert!(!dir.join("sock").exists(), "socket removed on exit");
    let _ = std::fs::remove_dir_all(dir);
}

/// Without --terminate the data socket may close and a new one be passed.
#[test]
fn set_datafd_again_after_the_data_socket_closed() {
    let dir = temp_dir("datafd2");
    let mut child = unix_ctrl_server(&dir, &["--flags", "startup-clear"]);
    let mut ctrl = UnixStream::connect(dir.join("sock")).unwrap();
    ctrl.set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    for _ in 0..2 {
        let (mut ours, theirs) = UnixStream::pair().unwrap();
        ours.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        send_with_fd(&ctrl, &msg(SET_DATAFD, &[]), &theirs);
        drop(theirs);
        let mut r = [0u8; 4];
        ctrl.read_exact(&mut r).unwrap();
        assert_eq!(r, OK);
        assert_eq!(raw_send(&mut ours, &GET_RANDOM_8).len(), 20);
        drop(ours);
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(ctrl_cmd(&mut ctrl, &msg(SHUTDOWN, &[]), 4), OK);
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(dir);
}

/// swtpm's data-channel vendor command TPM2_CC_SET_LOCALITY.
#[test]
fn set_locality_vendor_command() {
    let cmd = |l: u8| vec![0x80, 0x01, 0, 0, 0, 0x0b, 0x20, 0x00, 0x10, 0x00, l];
    let srv = Server::tcp("setloc-off", &["--flags", "startup-clear"]);
    let mut d = srv.data();
    assert_eq!(
        raw_send(&mut d, &cmd(1)),
        RC_FAILURE,
        "not allowed by default"
    );
    drop(srv);
    let srv = Server::tcp(
        "setloc-on",
        &[
            "--flags",
            "startup-clear",
            "--locality",
            "allow-set-locality,reject-locality-4",
        ],
    );
    let mut d = srv.data();
    assert_eq!(rc(&raw_send(&mut d, &cmd(2))), 0);
    assert_eq!(rc(&raw_send(&mut d, &cmd(4))), 0x907, "TPM_RC_LOCALITY");
    assert_eq!(rc(&raw_send(&mut d, &cmd(5))), 0x907);
    let mut c = srv.ctrl();
    assert_eq!(ctrl_cmd(&mut c, &msg(SET_LOCALITY, &[4]), 4), BAD_LOCALITY);
    assert_eq!(ctrl_cmd(&mut c, &msg(SET_LOCALITY, &[3]), 4), OK);
}

/// `--server ...,disconnect` closes the data connection after each
/// response; mssim-prefixed commands get mssim-framed answers.
#[test]
fn disconnect_and_mssim_prefix() {
    let srv = Server::tcp("mssim-prefix", &["--flags", "startup-clear"]);
    let mut d = srv.data();
    let mut m = vec![0, 0, 0, 8, 0, 0, 0, 0, 12];
    m.extend_from_slice(&GET_RANDOM_8);
    d.write_all(&m).unwrap();
    let mut len = [0u8; 4];
    d.read_exact(&mut len).unwrap();
    assert_eq!(be32(&len), 20);
    let mut rest = [0u8; 24];
    d.read_exact(&mut rest).unwrap();
    assert_eq!(&rest[20..], &[0; 4], "mssim trailer");
    drop(srv);

    let dir = temp_dir("disconnect2");
    let port = free_port_pair();
    let mut child = std::process::Command::new(BIN)
        .args([
            "socket",
            "--tpm2",
            "--server",
            &format!("type=tcp,port={port},disconnect"),
            "--flags",
            "startup-clear",
            "--tpmstate",
        ])
        .arg(format!("dir={}", dir.display()))
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let mut s = loop {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            break s;
        }
        assert!(t0.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(20));
    };
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    assert_eq!(raw_send(&mut s, &GET_RANDOM_8).len(), 20);
    let mut b = [0u8; 1];
    assert_eq!(s.read(&mut b).unwrap(), 0, "closed after the response");
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(dir);
}

/// With a state key (`--key file=...`): GET_CONFIG reports
/// PTM_CONFIG_FLAG_FILE_KEY, and a sealed permanent blob goes back in
/// (it opens with that key).
#[test]
fn state_key_config_and_sealed_blob() {
    let dir = temp_dir("key");
    let key = dir.join("key.hex");
    std::fs::write(&key, format!("{}\n", "5a".repeat(32))).unwrap();
    let opt = format!("file={},format=hex,mode=aes-256-cbc", key.display());
    let srv = Server::tcp_in(dir, &["--key", &opt, "--flags", "startup-clear"]);
    let mut c = srv.ctrl();
    assert_eq!(
        ctrl_cmd(&mut c, &msg(GET_CONFIG, &[]), 8),
        [0, 0, 0, 0, 0, 0, 0, 1]
    );
    c.write_all(&msg(GET_STATEBLOB, &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]))
        .unwrap();
    let mut h = [0u8; 16];
    c.read_exact(&mut h).unwrap();
    assert_eq!(&h[..8], &[0, 0, 0, 0, 0, 0, 0, 2], "sealed");
    let mut blob = vec![0u8; be32(&h[12..]) as usize];
    c.read_exact(&mut blob).unwrap();
    assert_eq!(&blob[..8], b"VTPMSEAL");
    assert_eq!(ctrl_cmd(&mut c, &msg(STOP, &[]), 4), OK);
    let mut p = msg(SET_STATEBLOB, &[0, 0, 0, 2, 0, 0, 0, 1]);
    p.extend_from_slice(&(blob.len() as u32).to_be_bytes());
    p.extend_from_slice(&blob);
    assert_eq!(ctrl_cmd(&mut c, &p, 4), OK);
    assert_eq!(ctrl_cmd(&mut c, &msg(INIT, &[0; 4]), 4), OK);
    let mut d = srv.data();
    assert_eq!(raw_send(&mut d, &GET_RANDOM_8).len(), 20);
}
