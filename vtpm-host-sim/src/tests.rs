//! Framing tests: a simulator on ephemeral ports in this process, spoken to
//! over real sockets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::conn::Listener;
use crate::device::{
    Device, Event, Options, Shared, RC_FAILURE_RESPONSE, SHUTDOWN_STATE, STARTUP_CLEAR,
};
use crate::mssim;
use crate::server::{Protocol, Simulator};
use crate::swtpm::{self, cmd};

/// TPM2_GetRandom(8).
const GET_RANDOM_8: [u8; 12] = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x7b, 0x00, 0x08];

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!(
        "vtpm-host-sim-test-{}-{tag}-{n}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    d
}

struct Sim {
    data: SocketAddr,
    ctrl: SocketAddr,
    stop: Sender<Event>,
    shared: Arc<Shared>,
    thread: JoinHandle<Event>,
    dir: PathBuf,
}

impl Sim {
    fn start(protocol: Protocol, options: Options) -> Sim {
        Self::start_in(temp_dir("sim"), protocol, options, None)
    }

    fn start_in(dir: PathBuf, protocol: Protocol, options: Options, trace: Option<&Path>) -> Sim {
        let device = Device::open(&dir, false, options, trace).unwrap();
        // Two free ports, found by binding port 0.
        let data = Listener::bind_tcp("127.0.0.1:0".parse().unwrap()).unwrap();
        let ctrl = Listener::bind_tcp("127.0.0.1:0".parse().unwrap()).unwrap();
        let (data_addr, ctrl_addr) = (data.tcp_addr().unwrap(), ctrl.tcp_addr().unwrap());
        let sim = Simulator::new(device, protocol, data, ctrl);
        let stop = sim.stopper();
        let shared = sim.shared();
        let thread = std::thread::spawn(move || sim.run());
        Sim {
            data: data_addr,
            ctrl: ctrl_addr,
            stop,
            shared,
            thread,
            dir,
        }
    }

    fn connect(addr: SocketAddr) -> TcpStream {
        let s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s
    }

    fn data(&self) -> TcpStream {
        Self::connect(self.data)
    }

    fn ctrl(&self) -> TcpStream {
        Self::connect(self.ctrl)
    }

    fn stop(self) {
        self.stop.send(Event::Stop("test")).unwrap();
        self.thread.join().unwrap();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn u32be(s: &mut impl Read) -> u32 {
    let mut b = [0u8; 4];
    s.read_exact(&mut b).unwrap();
    u32::from_be_bytes(b)
}

fn rc(rsp: &[u8]) -> u32 {
    u32::from_be_bytes(rsp[6..10].try_into().unwrap())
}

/// True when the peer closed the connection (read returns EOF or reset).
fn closed(s: &mut TcpStream) -> bool {
    let mut b = [0u8; 1];
    matches!(s.read(&mut b), Ok(0) | Err(_))
}

fn mssim_signal(s: &mut TcpStream, code: u32) -> u32 {
    s.write_all(&code.to_be_bytes()).unwrap();
    u32be(s)
}

/// TPM_SEND_COMMAND; returns the response (and checks the 0 trailer).
fn mssim_send(s: &mut TcpStream, locality: u8, command: &[u8]) -> Vec<u8> {
    let mut m = mssim::SEND_COMMAND.to_be_bytes().to_vec();
    m.push(locality);
    m.extend_from_slice(&(command.len() as u32).to_be_bytes());
    m.extend_from_slice(command);
    s.write_all(&m).unwrap();
    let len = u32be(s) as usize;
    let mut rsp = vec![0u8; len];
    s.read_exact(&mut rsp).unwrap();
    assert_eq!(u32be(s), 0, "mssim trailer");
    rsp
}

fn raw_send(s: &mut TcpStream, command: &[u8]) -> Vec<u8> {
    s.write_all(command).unwrap();
    let mut head = [0u8; 10];
    s.read_exact(&mut head).unwrap();
    let size = u32::from_be_bytes(head[2..6].try_into().unwrap()) as usize;
    let mut rsp = head.to_vec();
    rsp.resize(size, 0);
    s.read_exact(&mut rsp[10..]).unwrap();
    rsp
}

fn ctrl_cmd(s: &mut TcpStream, bytes: &[u8], reply_len: usize) -> Vec<u8> {
    s.write_all(bytes).unwrap();
    let mut r = vec![0u8; reply_len];
    s.read_exact(&mut r).unwrap();
    r
}

fn check_get_random(rsp: &[u8]) {
    assert_eq!(rc(rsp), 0, "GetRandom rc");
    assert_eq!(rsp.len(), 20, "10-byte header, u16 size, 8 random bytes");
    assert_eq!(&rsp[10..12], &[0, 8]);
}

fn mssim_power_up(sim: &Sim) -> (TcpStream, TcpStream) {
    let mut plat = Sim::connect(sim.ctrl);
    assert_eq!(mssim_signal(&mut plat, mssim::POWER_ON), 0);
    assert_eq!(mssim_signal(&mut plat, mssim::NV_ON), 0);
    let mut tpm = sim.data();
    assert_eq!(rc(&mssim_send(&mut tpm, 0, &STARTUP_CLEAR)), 0);
    (tpm, plat)
}

#[test]
fn mssim_send_command_get_random() {
    let sim = Sim::start(Protocol::Mssim, Options::default());
    let (mut tpm, _plat) = mssim_power_up(&sim);
    check_get_random(&mssim_send(&mut tpm, 0, &GET_RANDOM_8));
    sim.stop();
}

#[test]
fn mssim_session_end_then_reconnect() {
    let sim = Sim::start(Protocol::Mssim, Options::default());
    let (mut tpm, mut plat) = mssim_power_up(&sim);
    tpm.write_all(&mssim::SESSION_END.to_be_bytes()).unwrap();
    assert!(closed(&mut tpm), "SESSION_END: no reply, connection closed");
    plat.write_all(&mssim::SESSION_END.to_be_bytes()).unwrap();
    assert!(closed(&mut plat));
    // Both ports accept the next client.
    let mut plat = sim.ctrl();
    assert_eq!(mssim_signal(&mut plat, mssim::NV_ON), 0);
    let mut tpm = sim.data();
    check_get_random(&mssim_send(&mut tpm, 0, &GET_RANDOM_8));
    sim.stop();
}

/// `TPM_ACT_GET_SIGNALED` reports the engine's ACT: SET once a timeout
/// started with `TPM2_ACT_SetTimeout` has run out.
#[test]
fn mssim_act_get_signaled_follows_the_act() {
    let sim = Sim::start(Protocol::Mssim, Options::default());
    let (mut tpm, mut plat) = mssim_power_up(&sim);
    let get_signaled = |plat: &mut TcpStream| {
        // TPM_RH_ACT_0 = 0x40000110.
        plat.write_all(&[0, 0, 0, 26, 0x40, 0, 0x01, 0x10]).unwrap();
        (u32be(plat), u32be(plat))
    };
    assert_eq!(get_signaled(&mut plat), (0, 0));
    // TPM2_ACT_SetTimeout(TPM_RH_ACT_0, startTimeout = 1 s), platformAuth
    // (empty) in a password session.
    let set_timeout: [u8; 31] = [
        0x80, 0x02, 0, 0, 0, 31, 0, 0, 0x01, 0x98, // header
        0x40, 0, 0x01, 0x10, // @actHandle
        0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0, 0, 0, // TPM_RS_PW, empty auth
        0, 0, 0, 1, // startTimeout
    ];
    assert_eq!(rc(&mssim_send(&mut tpm, 0, &set_timeout)), 0);
    assert_eq!(get_signaled(&mut plat), (0, 0), "still counting down");
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_eq!(get_signaled(&mut plat), (1, 0), "signalled at zero");
    // Another handle is never an implemented ACT.
    plat.write_all(&[0, 0, 0, 26, 0x40, 0, 0x01, 0x11]).unwrap();
    assert_eq!((u32be(&mut plat), u32be(&mut plat)), (0, 0));
    sim.stop();
}

#[test]
fn mssim_powered_off_gives_empty_response() {
    let sim = Sim::start(Protocol::Mssim, Options::default());
    let (mut tpm, mut plat) = mssim_power_up(&sim);
    assert_eq!(mssim_signal(&mut plat, mssim::POWER_OFF), 0);
    assert!(mssim_send(&mut tpm, 0, &GET_RANDOM_8).is_empty());
    // Power on is _TPM_Init: Startup is needed again.
    assert_eq!(mssim_signal(&mut plat, mssim::POWER_ON), 0);
    assert_eq!(rc(&mssim_send(&mut tpm, 0, &STARTUP_CLEAR)), 0);
    check_get_random(&mssim_send(&mut tpm, 0, &GET_RANDOM_8));
    sim.stop();
}

#[test]
fn mssim_platform_signals_and_replies() {
    let sim = Sim::start(Protocol::Mssim, Options::default());
    let (mut tpm, mut plat) = mssim_power_up(&sim);
    for code in [
        mssim::PHYS_PRES_ON,
        mssim::PHYS_PRES_OFF,
        mssim::CANCEL_ON,
        mssim::CANCEL_OFF,
        mssim::NV_OFF,
        mssim::NV_ON,
        mssim::KEY_CACHE_ON,
        mssim::KEY_CACHE_OFF,
        mssim::RESTART,
        mssim::TEST_FAILURE_MODE,
    ] {
        assert_eq!(mssim_signal(&mut plat, code), 0, "code {code}");
    }
    // CANCEL_ON is visible to the engine through Platform::cancel_requested.
    assert_eq!(mssim_signal(&mut plat, mssim::CANCEL_ON), 0);
    assert!(sim.shared.cancel.load(Ordering::SeqCst));
    assert_eq!(mssim_signal(&mut plat, mssim::CANCEL_OFF), 0);
    assert!(!sim.shared.cancel.load(Ordering::SeqCst));
    // ACT_GET_SIGNALED: u32 handle in, u32 0 + u32 0 out.
    plat.write_all(&[0, 0, 0, 26, 0x40, 0, 0x01, 0x10]).unwrap();
    assert_eq!((u32be(&mut plat), u32be(&mut plat)), (0, 0));
    // GET_COMMAND_RESPONSE_SIZES: u32 16, 16 bytes, u32 0.
    assert_eq!(
        mssim_signal(&mut plat, mssim::GET_COMMAND_RESPONSE_SIZES),
        16
    );
    let mut sizes = [0u8; 16];
    plat.read_exact(&mut sizes).unwrap();
    assert_eq!(u32::from_ne_bytes(sizes[0..4].try_into().unwrap()), 12);
    assert_eq!(u32be(&mut plat), 0);
    // RESET is _TPM_Init: the TPM needs Startup again.
    assert_eq!(mssim_signal(&mut plat, mssim::RESET), 0);
    assert_eq!(
        rc(&mssim_send(&mut tpm, 0, &GET_RANDOM_8)),
        0x100,
        "TPM_RC_INITIALIZE"
    );
    assert_eq!(rc(&mssim_send(&mut tpm, 0, &STARTUP_CLEAR)), 0);
    // Unknown platform code: reply 1, then close.
    assert_eq!(mssim_signal(&mut plat, 99), 1);
    assert!(closed(&mut plat));
    sim.stop();
}

#[test]
fn mssim_command_port_codes() {
    let sim = Sim::start(Protocol::Mssim, Options::default());
    let (mut tpm, _plat) = mssim_power_up(&sim);
    // REMOTE_HANDSHAKE: version 1, endpoint info 0x0D, 0.
    tpm.write_all(&[0, 0, 0, 15, 0, 0, 0, 1]).unwrap();
    assert_eq!(
        (u32be(&mut tpm), u32be(&mut tpm), u32be(&mut tpm)),
        (1, 0x0d, 0)
    );
    tpm.write_all(&[0, 0, 0, 16, 0, 0, 0, 7]).unwrap();
    assert_eq!(u32be(&mut tpm), 0);
    assert_eq!(mssim_signal(&mut tpm, mssim::HASH_START), 0);
    tpm.write_all(&[0, 0, 0, 6, 0, 0, 0, 3, b'a', b'b', b'c'])
        .unwrap();
    assert_eq!(u32be(&mut tpm), 0);
    assert_eq!(mssim_signal(&mut tpm, mssim::HASH_END), 0);
    // Locality 7 maps to 0; still a working command.
    check_get_random(&mssim_send(&mut tpm, 7, &GET_RANDOM_8));
    // Unknown code on the command port: closed without reply.
    tpm.write_all(&[0, 0, 0, 99]).unwrap();
    assert!(closed(&mut tpm));
    // A length over 1 MiB closes the connection.
    let mut tpm = sim.data();
    tpm.write_all(&[0, 0, 0, 8, 0, 0x00, 0x10, 0x00, 0x01])
        .unwrap();
    assert!(closed(&mut tpm));
    sim.stop();
}

#[test]
fn locality_mapping() {
    assert_eq!(mssim::map_locality(0), 0);
    assert_eq!(mssim::map_locality(4), 4);
    assert_eq!(mssim::map_locality(5), 0);
    assert_eq!(mssim::map_locality(31), 0);
    assert_eq!(mssim::map_locality(32), 32);
    assert_eq!(mssim::map_locality(255), 255);
}

#[test]
fn mssim_stop_shuts_down_and_state_reloads() {
    let dir = temp_dir("stop");
    let trace = dir.with_extension("trace");
    let sim = Sim::start_in(
        dir.clone(),
        Protocol::Mssim,
        Options::default(),
        Some(&trace),
    );
    let (mut tpm, _plat) = mssim_power_up(&sim);
    tpm.write_all(&mssim::STOP.to_be_bytes()).unwrap();
    assert!(closed(&mut tpm), "TPM_STOP: no reply");
    assert_eq!(sim.thread.join().unwrap(), Event::Stop("TPM_STOP received"));
    // Release the device (and the state directory's lock).
    drop(sim.shared);
    // The auto-shutdown went through the engine (and the trace).
    let text = std::fs::read_to_string(&trace).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "> 80010000000c000001440000");
    assert!(lines[1].starts_with("< 80010000000a00000000"));
    let hex: String = SHUTDOWN_STATE.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(lines[2], format!("> {hex}"));
    assert_eq!(lines[3], "< 80010000000a00000000");
    // The state saved on exit loads again.
    let sim = Sim::start_in(dir.clone(), Protocol::Mssim, Options::default(), None);
    let (mut tpm, _plat) = mssim_power_up(&sim);
    check_get_random(&mssim_send(&mut tpm, 0, &GET_RANDOM_8));
    sim.stop();
    let _ = std::fs::remove_file(trace);
}

#[test]
fn corrupt_state_is_an_error_not_a_new_tpm() {
    let dir = temp_dir("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    // An unreadable unsealed state of an earlier release.
    let path = dir.join(crate::store::LEGACY_FILE);
    std::fs::write(&path, b"not a TPM state").unwrap();
    let err = Device::open(&dir, false, Options::default(), None).unwrap_err();
    assert!(format!("{err:#}").contains("--manufacture"), "{err:#}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"not a TPM state",
        "left untouched"
    );
    // --manufacture replaces it.
    Device::open(&dir, true, Options::default(), None).unwrap();
    assert!(!path.exists());
    Device::open(&dir, false, Options::default(), None).unwrap();
    // A damaged sealed state is refused too, and left as it was.
    for slot in [crate::store::SLOT_A_FILE, crate::store::SLOT_B_FILE] {
        std::fs::write(dir.join(slot), b"not a TPM state").unwrap();
    }
    let err = Device::open(&dir, false, Options::default(), None).unwrap_err();
    assert!(format!("{err:#}").contains("bad magic"), "{err:#}");
    assert_eq!(
        std::fs::read(dir.join(crate::store::SLOT_A_FILE)).unwrap(),
        b"not a TPM state"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn swtpm_failure_before_init() {
    let sim = Sim::start(Protocol::Swtpm, Options::default());
    let mut data = sim.data();
    assert_eq!(raw_send(&mut data, &STARTUP_CLEAR), RC_FAILURE_RESPONSE);
    // The QEMU probe: TPM2_ReadClock before CMD_INIT.
    let read_clock = [0x80, 0x01, 0, 0, 0, 0x0a, 0, 0, 0x01, 0x81];
    assert_eq!(raw_send(&mut data, &read_clock), RC_FAILURE_RESPONSE);
    // GET_TPMESTABLISHED while not running: 8 bytes, BAD_ORDINAL.
    let mut ctrl = sim.ctrl();
    assert_eq!(
        ctrl_cmd(&mut ctrl, &[0, 0, 0, 4], 8),
        [0, 0, 0, 0x0a, 0, 0, 0, 0]
    );
    // CMD_INIT, then the TPM answers.
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 2, 0, 0, 0, 0], 4), [0; 4]);
    assert_eq!(rc(&raw_send(&mut data, &STARTUP_CLEAR)), 0);
    check_get_random(&raw_send(&mut data, &GET_RANDOM_8));
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 4], 8), [0; 8]);
    // CMD_STOP: not running any more.
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 0x0e], 4), [0; 4]);
    assert_eq!(raw_send(&mut data, &GET_RANDOM_8), RC_FAILURE_RESPONSE);
    sim.stop();
}

#[test]
fn swtpm_raw_and_mssim_prefixed_commands() {
    let opts = Options {
        not_need_init: true,
        ..Options::default()
    };
    let sim = Sim::start(Protocol::Swtpm, opts);
    let mut data = sim.data();
    assert_eq!(rc(&raw_send(&mut data, &STARTUP_CLEAR)), 0);
    check_get_random(&raw_send(&mut data, &GET_RANDOM_8));
    // The same connection also takes mssim-prefixed commands, answered in
    // mssim form.
    check_get_random(&mssim_send(&mut data, 0, &GET_RANDOM_8));
    check_get_random(&raw_send(&mut data, &GET_RANDOM_8));
    // tcti-swtpm style: a new connection per command (one client at a
    // time, as with swtpm).
    drop(data);
    for _ in 0..3 {
        check_get_random(&raw_send(&mut sim.data(), &GET_RANDOM_8));
    }
    // A command whose size field is below 10 closes the connection.
    let mut data = sim.data();
    data.write_all(&[0x80, 0x01, 0, 0, 0, 0x09, 0, 0, 0x01, 0x7b])
        .unwrap();
    assert!(closed(&mut data));
    // So does one over 1 MiB.
    let mut data = sim.data();
    data.write_all(&[0x80, 0x01, 0, 0x20, 0, 0, 0, 0, 0x01, 0x7b])
        .unwrap();
    assert!(closed(&mut data));
    sim.stop();
}

#[test]
fn swtpm_startup_clear_flag() {
    let opts = Options {
        not_need_init: true,
        auto_startup: crate::device::AutoStartup::Clear,
        ..Options::default()
    };
    let sim = Sim::start(Protocol::Swtpm, opts);
    check_get_random(&raw_send(&mut sim.data(), &GET_RANDOM_8));
    // And again after CMD_INIT (which power-cycles the TPM).
    let mut ctrl = sim.ctrl();
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 2, 0, 0, 0, 1], 4), [0; 4]);
    check_get_random(&raw_send(&mut sim.data(), &GET_RANDOM_8));
    sim.stop();
}

#[test]
fn swtpm_set_locality_padded_and_persistent_ctrl() {
    let sim = Sim::start(Protocol::Swtpm, Options::default());
    let mut ctrl = sim.ctrl();
    // QEMU: 1 locality byte + 3 pad bytes, on a persistent connection.
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 5, 3, 0, 0, 0], 4), [0; 4]);
    assert_eq!(sim.shared.lock().locality, 3);
    // The pad did not leak into the next command.
    let caps = ctrl_cmd(&mut ctrl, &[0, 0, 0, 1], 8);
    assert_eq!(&caps[..4], &[0; 4]);
    assert_eq!(
        u32::from_be_bytes(caps[4..8].try_into().unwrap()),
        swtpm::CAPABILITIES
    );
    // Locality 5 is refused.
    assert_eq!(
        ctrl_cmd(&mut ctrl, &[0, 0, 0, 5, 5, 0, 0, 0], 4),
        [0, 0, 0, 0x3d]
    );
    assert_eq!(sim.shared.lock().locality, 3);
    // tcti-swtpm: a 1-byte payload on a new connection per command (one
    // client at a time, as with swtpm).
    drop(ctrl);
    assert_eq!(ctrl_cmd(&mut sim.ctrl(), &[0, 0, 0, 5, 0], 4), [0; 4]);
    assert_eq!(sim.shared.lock().locality, 0);
    let mut ctrl = sim.ctrl();
    // Code and payload in separate writes are joined within the deadline.
    ctrl.write_all(&[0, 0, 0, 5]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(ctrl_cmd(&mut ctrl, &[2], 4), [0; 4]);
    assert_eq!(sim.shared.lock().locality, 2);
    // Unknown command: TPM_BAD_ORDINAL.
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 0x7f], 4), [0, 0, 0, 0x0a]);
    // GET_CONFIG and SET_BUFFERSIZE (query).
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 0x0f], 8), [0; 8]);
    let b = ctrl_cmd(&mut ctrl, &[0, 0, 0, 0x11, 0, 0, 0, 0], 16);
    assert_eq!(&b[..4], &[0; 4]);
    assert_eq!(
        u32::from_be_bytes(b[4..8].try_into().unwrap()),
        swtpm::BUFFER_SIZE
    );
    sim.stop();
}

#[test]
fn swtpm_hashing_and_established_bit() {
    let sim = Sim::start(
        Protocol::Swtpm,
        Options {
            not_need_init: true,
            ..Options::default()
        },
    );
    let mut ctrl = sim.ctrl();
    assert_eq!(
        ctrl_cmd(&mut ctrl, &[0, 0, 0, cmd::HASH_START as u8], 4),
        [0; 4]
    );
    // HASH_DATA whose bytes arrive in a later write.
    ctrl.write_all(&[0, 0, 0, 7, 0, 0, 0, 5, b'a']).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(ctrl_cmd(&mut ctrl, b"bcde", 4), [0; 4]);
    assert_eq!(
        ctrl_cmd(&mut ctrl, &[0, 0, 0, cmd::HASH_END as u8], 4),
        [0; 4]
    );
    assert_eq!(
        ctrl_cmd(&mut ctrl, &[0, 0, 0, 4], 8),
        [0, 0, 0, 0, 1, 0, 0, 0]
    );
    // Reset from locality 0 is refused; from 3 it works.
    assert_eq!(
        ctrl_cmd(&mut ctrl, &[0, 0, 0, 0x0b, 0, 0, 0, 0], 4),
        [0, 0, 0, 0x3d]
    );
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 0x0b, 3, 0, 0, 0], 4), [0; 4]);
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 4], 8), [0; 8]);
    sim.stop();
}

#[test]
fn swtpm_cmd_shutdown_exits_after_reply() {
    let dir = temp_dir("shutdown");
    let trace = dir.with_extension("trace");
    let opts = Options {
        not_need_init: true,
        ..Options::default()
    };
    let sim = Sim::start_in(dir, Protocol::Swtpm, opts, Some(&trace));
    assert_eq!(rc(&raw_send(&mut sim.data(), &STARTUP_CLEAR)), 0);
    let mut ctrl = sim.ctrl();
    assert_eq!(ctrl_cmd(&mut ctrl, &[0, 0, 0, 3], 4), [0; 4]);
    assert_eq!(
        sim.thread.join().unwrap(),
        Event::Stop("CMD_SHUTDOWN received")
    );
    let text = std::fs::read_to_string(&trace).unwrap();
    assert!(
        text.contains("> 80010000000c000001450001"),
        "auto-shutdown sent: {text}"
    );
    let _ = std::fs::remove_file(trace);
}

#[test]
fn no_auto_shutdown_after_client_shutdown() {
    let dir = temp_dir("noauto");
    let trace = dir.with_extension("trace");
    let sim = Sim::start_in(dir, Protocol::Mssim, Options::default(), Some(&trace));
    let (mut tpm, _plat) = mssim_power_up(&sim);
    let shutdown_clear = [0x80, 0x01, 0, 0, 0, 0x0c, 0, 0, 0x01, 0x45, 0x00, 0x00];
    assert_eq!(rc(&mssim_send(&mut tpm, 0, &shutdown_clear)), 0);
    sim.stop();
    let text = std::fs::read_to_string(&trace).unwrap();
    assert_eq!(
        text.lines().count(),
        4,
        "only the client's two commands: {text}"
    );
    let _ = std::fs::remove_file(trace);
}

#[test]
fn unix_sockets() {
    use std::os::unix::net::UnixStream;
    let dir = temp_dir("unix");
    let device = Device::open(&dir, false, Options::default(), None).unwrap();
    let path = dir.join("sock");
    let ctrl_path = dir.join("sock.ctrl");
    let data = Listener::bind_unix(&path).unwrap();
    let ctrl = Listener::bind_unix(&ctrl_path).unwrap();
    // A second simulator cannot take a live socket.
    assert_eq!(
        Listener::bind_unix(&path).unwrap_err().kind(),
        std::io::ErrorKind::AddrInUse
    );
    let sim = Simulator::new(device, Protocol::Mssim, data, ctrl);
    let stop = sim.stopper();
    let t = std::thread::spawn(move || sim.run());
    let mut plat = UnixStream::connect(&ctrl_path).unwrap();
    plat.write_all(&mssim::POWER_ON.to_be_bytes()).unwrap();
    assert_eq!(u32be(&mut plat), 0);
    let mut tpm = UnixStream::connect(&path).unwrap();
    let mut m = vec![0, 0, 0, 8, 0, 0, 0, 0, 12];
    m.extend_from_slice(&STARTUP_CLEAR);
    tpm.write_all(&m).unwrap();
    assert_eq!(u32be(&mut tpm), 10);
    let mut rsp = [0u8; 14];
    tpm.read_exact(&mut rsp).unwrap();
    assert_eq!(&rsp[6..10], &[0; 4]);
    stop.send(Event::Stop("test")).unwrap();
    t.join().unwrap();
    assert!(
        !path.exists() && !ctrl_path.exists(),
        "socket files removed on exit"
    );
}
