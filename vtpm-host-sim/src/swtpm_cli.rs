//! `vtpm-host-sim socket`: swtpm's command line, so that an existing
//! `swtpm socket --tpm2 ...` invocation (libvirt's, QEMU's documentation,
//! the tpm2-tss/tpm2-tools test suites, swtpm_setup's) works by changing
//! only the binary name. Options we do not implement fail with a clear
//! message instead of being ignored; `--print-capabilities` lists only
//! what works. The option surface is `shared/notes/host-ecosystem.md`
//! §3.2; the JSON feature names are the ones libvirt and swtpm_setup look
//! for.
//!
//! The runner serves the swtpm protocols of [`crate::swtpm`] on any mix of
//! a data listener (TCP or Unix), a data socket given as a descriptor, a
//! control listener (TCP or Unix) and a connected control socket given as
//! a descriptor; with only `--ctrl type=unixio,...` (how libvirt starts
//! swtpm for QEMU) the TPM commands arrive on the socket QEMU passes with
//! `CMD_SET_DATAFD`.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};

use crate::conn::{Conn, Listener};
use crate::device::{AutoStartup, Device, Event, Options, Shared};
use crate::keys::KeySpec;
use crate::mssim::Outcome;
use crate::swtpm::{self, SwtpmConfig};

/// Environment variable that marks the re-executed child of `--daemon`.
const DAEMON_CHILD_ENV: &str = "VTPM_HOST_SIM_DAEMON_CHILD";
/// What the daemon child prints to its parent once it serves.
const DAEMON_READY: &str = "vtpm-host-sim ready";

/// If the command line starts with one of our swtpm-style subcommands
/// (`socket`, `setup`), run it and return its exit code.
pub fn dispatch() -> Option<ExitCode> {
    let args: Vec<OsString> = std::env::args_os().collect();
    let rest = args.get(2..).unwrap_or_default();
    match args.get(1).and_then(|a| a.to_str()) {
        Some("socket") => Some(socket_main(rest)),
        Some("setup") => Some(crate::provision::main(rest)),
        Some(m @ ("chardev" | "cuse")) => {
            eprintln!(
                "vtpm-host-sim: swtpm's '{m}' front end is not supported; use 'socket' \
                 (e.g. with --ctrl type=unixio,path=... for QEMU)"
            );
            Some(ExitCode::FAILURE)
        }
        _ => None,
    }
}

// ------------------------------------------------------------- options ---

/// Where TPM commands arrive (`--server`, `-p`, `-f`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSpec {
    /// Listen on TCP.
    Tcp(SocketAddr),
    /// A connected socket, given as a descriptor: serve it, exit when it
    /// closes (`type=tcp,fd=N`, `-f N`).
    Fd(i32),
    /// Listen on a Unix socket.
    UnixPath(UnixOpts),
    /// A listening Unix socket given as a descriptor.
    UnixFd(i32),
}

/// Options of a Unix socket we create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixOpts {
    /// Socket path.
    pub path: PathBuf,
    /// File mode of the socket (default 0770, as swtpm).
    pub mode: u32,
    /// Owner to set.
    pub uid: Option<u32>,
    /// Group to set.
    pub gid: Option<u32>,
}

/// Where control commands arrive (`--ctrl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtrlSpec {
    /// Listen on TCP.
    Tcp(SocketAddr),
    /// A listening TCP socket given as a descriptor.
    TcpFd(i32),
    /// Listen on a Unix socket.
    UnixPath(UnixOpts),
    /// A listening Unix socket given as a descriptor.
    UnixFd(i32),
    /// A connected control socket given as a descriptor.
    ClientFd(i32),
}

/// `--log`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    /// Standard error (no `--log`).
    Stderr,
    /// Standard output (`file=-`).
    Stdout,
    /// A file.
    File(PathBuf),
    /// An inherited descriptor.
    Fd(i32),
}

/// `--pid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PidTarget {
    /// Write the pid into this file once serving.
    File(PathBuf),
    /// Write the pid into this inherited descriptor.
    Fd(i32),
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Serve.
    Run,
    /// `--print-capabilities`.
    PrintCapabilities,
    /// `--print-info FLAGS`.
    PrintInfo(u64),
    /// `--print-states`.
    PrintStates,
    /// `-h`, `--help`.
    Help,
    /// `-v`, `--version`.
    Version,
}

/// A parsed `socket` command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketArgs {
    /// What to do.
    pub action: Action,
    /// `--tpm2` was given.
    pub tpm2: bool,
    /// Data channel.
    pub server: Option<ServerSpec>,
    /// `--server ...,disconnect`.
    pub disconnect: bool,
    /// Control channel.
    pub ctrl: Option<CtrlSpec>,
    /// `--ctrl ...,terminate`.
    pub ctrl_terminate: bool,
    /// State directory (`--tpmstate dir=`, `backend-uri=dir://`, `TPM_PATH`).
    pub state_dir: Option<PathBuf>,
    /// State key.
    pub key: KeySpec,
    /// `--key ...,remove`: delete the key file once read.
    pub key_remove: bool,
    /// Log destination.
    pub log: LogTarget,
    /// swtpm log level (0 = errors only).
    pub log_level: u32,
    /// `--log ...,truncate`.
    pub log_truncate: bool,
    /// `--pid`.
    pub pid: Option<PidTarget>,
    /// `--flags`.
    pub options: Options,
    /// `--locality reject-locality-4`.
    pub reject_locality_4: bool,
    /// `--locality allow-set-locality`.
    pub allow_set_locality: bool,
    /// `-d`, `--daemon`.
    pub daemon: bool,
    /// `-t`, `--terminate`.
    pub terminate: bool,
}

impl Default for SocketArgs {
    fn default() -> Self {
        SocketArgs {
            action: Action::Run,
            tpm2: false,
            server: None,
            disconnect: false,
            ctrl: None,
            ctrl_terminate: false,
            state_dir: None,
            key: KeySpec::Default,
            key_remove: false,
            log: LogTarget::Stderr,
            log_level: 0,
            log_truncate: false,
            pid: None,
            options: Options::default(),
            reject_locality_4: false,
            allow_set_locality: false,
            daemon: false,
            terminate: false,
        }
    }
}

/// One `key=value` (or bare `key`) of an option's comma list.
type Kv = (String, Option<String>);

/// Split `type=tcp,port=1,disconnect` into its parts, refusing keys not in
/// `allowed` (named after `opt` in the message).
fn split_kv(opt: &str, value: &str, allowed: &[&str]) -> Result<Vec<Kv>, String> {
    let mut out: Vec<Kv> = Vec::new();
    for part in value.split(',') {
        if part.is_empty() {
            continue;
        }
        let (k, v) = match part.split_once('=') {
            Some((k, v)) => (k, Some(v.to_string())),
            None => (part, None),
        };
        if !allowed.contains(&k) {
            return Err(format!(
                "{opt}: unknown parameter '{k}' (known: {})",
                allowed.join(", ")
            ));
        }
        if out.iter().any(|(seen, _)| seen == k) {
            return Err(format!("{opt}: parameter '{k}' given twice"));
        }
        out.push((k.to_string(), v));
    }
    Ok(out)
}

fn get<'a>(kv: &'a [Kv], k: &str) -> Option<&'a Kv> {
    kv.iter().find(|(key, _)| key == k)
}

fn value<'a>(opt: &str, kv: &'a [Kv], k: &str) -> Result<Option<&'a str>, String> {
    match get(kv, k) {
        None => Ok(None),
        Some((_, Some(v))) => Ok(Some(v.as_str())),
        Some((_, None)) => Err(format!("{opt}: parameter '{k}' needs a value ({k}=...)")),
    }
}

/// A boolean parameter: bare `name`, or `name=true|false|1|0|yes|no`.
fn flag(opt: &str, kv: &[Kv], k: &str) -> Result<bool, String> {
    match get(kv, k) {
        None => Ok(false),
        Some((_, None)) => Ok(true),
        Some((_, Some(v))) => match v.as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            other => Err(format!("{opt}: {k}={other} is not a boolean")),
        },
    }
}

fn number<T: std::str::FromStr>(opt: &str, k: &str, v: &str) -> Result<T, String> {
    v.parse()
        .map_err(|_| format!("{opt}: {k}={v} is not a valid number"))
}

fn fd_number(opt: &str, k: &str, v: &str) -> Result<i32, String> {
    let n: i32 = number(opt, k, v)?;
    if n < 0 {
        return Err(format!("{opt}: {k}={v} is not a file descriptor"));
    }
    Ok(n)
}

fn mode_number(opt: &str, v: &str) -> Result<u32, String> {
    let m = u32::from_str_radix(v.trim_start_matches("0o"), 8)
        .map_err(|_| format!("{opt}: mode={v} is not an octal file mode"))?;
    if m > 0o7777 {
        return Err(format!("{opt}: mode={v} is not a file mode"));
    }
    Ok(m)
}

fn tcp_addr(opt: &str, kv: &[Kv], env_port: Option<&str>) -> Result<SocketAddr, String> {
    let port = match value(opt, kv, "port")? {
        Some(p) => p.to_string(),
        None => env_port
            .map(str::to_string)
            .ok_or_else(|| format!("{opt}: no port given (port=N, or TPM_PORT)"))?,
    };
    let port: u16 = number(opt, "port", &port)?;
    let ip = match value(opt, kv, "bindaddr")? {
        Some(a) => a
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .map_err(|_| format!("{opt}: bindaddr={a} is not an IP address"))?,
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    if get(kv, "ifname").is_some() {
        return Err(format!(
            "{opt}: ifname= (IPv6 link-local binding) is not supported by vtpm-host-sim"
        ));
    }
    Ok(SocketAddr::new(ip, port))
}

fn unix_opts(opt: &str, kv: &[Kv], path: &str) -> Result<UnixOpts, String> {
    Ok(UnixOpts {
        path: PathBuf::from(path),
        mode: match value(opt, kv, "mode")? {
            Some(m) => mode_number(opt, m)?,
            None => 0o770,
        },
        uid: value(opt, kv, "uid")?
            .map(|v| number(opt, "uid", v))
            .transpose()?,
        gid: value(opt, kv, "gid")?
            .map(|v| number(opt, "gid", v))
            .transpose()?,
    })
}

fn parse_server(v: &str, env_port: Option<&str>) -> Result<(ServerSpec, bool), String> {
    const OPT: &str = "--server";
    let kv = split_kv(
        OPT,
        v,
        &[
            "type",
            "port",
            "bindaddr",
            "ifname",
            "fd",
            "path",
            "mode",
            "uid",
            "gid",
            "disconnect",
        ],
    )?;
    let disconnect = flag(OPT, &kv, "disconnect")?;
    let spec = match value(OPT, &kv, "type")?.unwrap_or("tcp") {
        "tcp" => match value(OPT, &kv, "fd")? {
            Some(fd) => ServerSpec::Fd(fd_number(OPT, "fd", fd)?),
            None => ServerSpec::Tcp(tcp_addr(OPT, &kv, env_port)?),
        },
        "unixio" => match (value(OPT, &kv, "fd")?, value(OPT, &kv, "path")?) {
            (Some(fd), _) => ServerSpec::UnixFd(fd_number(OPT, "fd", fd)?),
            (None, Some(p)) => ServerSpec::UnixPath(unix_opts(OPT, &kv, p)?),
            (None, None) => return Err(format!("{OPT}: type=unixio needs path= or fd=")),
        },
        other => return Err(format!("{OPT}: unsupported type '{other}' (tcp or unixio)")),
    };
    Ok((spec, disconnect))
}

fn parse_ctrl(v: &str) -> Result<(CtrlSpec, bool), String> {
    const OPT: &str = "--ctrl";
    let kv = split_kv(
        OPT,
        v,
        &[
            "type",
            "port",
            "bindaddr",
            "ifname",
            "fd",
            "clientfd",
            "path",
            "mode",
            "uid",
            "gid",
            "terminate",
        ],
    )?;
    let terminate = flag(OPT, &kv, "terminate")?;
    let spec = match value(OPT, &kv, "type")? {
        None => return Err(format!("{OPT}: missing type= (tcp or unixio)")),
        Some("tcp") => match value(OPT, &kv, "fd")? {
            Some(fd) => CtrlSpec::TcpFd(fd_number(OPT, "fd", fd)?),
            None => {
                if value(OPT, &kv, "port")?.is_none() {
                    return Err(format!("{OPT}: type=tcp needs port= or fd="));
                }
                CtrlSpec::Tcp(tcp_addr(OPT, &kv, None)?)
            }
        },
        Some("unixio") => match (
            value(OPT, &kv, "fd")?,
            value(OPT, &kv, "clientfd")?,
            value(OPT, &kv, "path")?,
        ) {
            (Some(fd), _, _) => CtrlSpec::UnixFd(fd_number(OPT, "fd", fd)?),
            (None, Some(fd), _) => CtrlSpec::ClientFd(fd_number(OPT, "clientfd", fd)?),
            (None, None, Some(p)) => CtrlSpec::UnixPath(unix_opts(OPT, &kv, p)?),
            (None, None, None) => {
                return Err(format!("{OPT}: type=unixio needs path=, fd= or clientfd="))
            }
        },
        Some(other) => return Err(format!("{OPT}: unsupported type '{other}' (tcp or unixio)")),
    };
    Ok((spec, terminate))
}

fn parse_tpmstate(v: &str) -> Result<PathBuf, String> {
    const OPT: &str = "--tpmstate";
    let kv = split_kv(
        OPT,
        v,
        &["dir", "backend-uri", "mode", "lock", "backup", "fsync"],
    )?;
    // mode: state files are always created 0600 (never more open than
    // asked); lock: the directory is always locked; backup: the A/B slots
    // keep the previous state; fsync: every commit is synced.
    if let Some(m) = value(OPT, &kv, "mode")? {
        mode_number(OPT, m)?;
    }
    for b in ["lock", "backup", "fsync"] {
        flag(OPT, &kv, b)?;
    }
    match (value(OPT, &kv, "dir")?, value(OPT, &kv, "backend-uri")?) {
        (Some(d), None) => Ok(PathBuf::from(d)),
        (None, Some(uri)) => match uri.strip_prefix("dir://") {
            Some(d) => Ok(PathBuf::from(d)),
            None => Err(format!(
                "{OPT}: backend-uri={uri} is not supported (only dir://PATH; the state is a \
                 directory of sealed files)"
            )),
        },
        (Some(_), Some(_)) => Err(format!("{OPT}: give dir= or backend-uri=, not both")),
        (None, None) => Err(format!("{OPT}: missing dir=")),
    }
}

fn parse_key(v: &str) -> Result<(KeySpec, bool), String> {
    const OPT: &str = "--key";
    let kv = split_kv(
        OPT,
        v,
        &[
            "file", "fd", "pwdfile", "pwdfd", "format", "mode", "remove", "kdf",
        ],
    )?;
    match value(OPT, &kv, "mode")? {
        None | Some("aes-256-cbc") => {}
        Some(m @ ("aes-cbc" | "aes-128-cbc")) => {
            return Err(format!(
                "{OPT}: mode={m} (a 128-bit key) is not supported: the state is sealed with \
                 AES-256-GCM and needs a 256-bit key (mode=aes-256-cbc)"
            ))
        }
        Some(m) => return Err(format!("{OPT}: unknown mode={m}")),
    }
    // format=hex|binary: the key file is read in either form (32 raw
    // octets or 64 hex digits).
    match value(OPT, &kv, "format")? {
        None | Some("hex") | Some("binary") => {}
        Some(f) => return Err(format!("{OPT}: unknown format={f} (hex or binary)")),
    }
    // kdf=: the passphrase is stretched with Argon2id whatever is asked
    // (the state format is ours, not swtpm's).
    match value(OPT, &kv, "kdf")? {
        None | Some("sha512") | Some("pbkdf2") => {}
        Some(k) => return Err(format!("{OPT}: unknown kdf={k}")),
    }
    let remove = flag(OPT, &kv, "remove")?;
    let sources = [
        value(OPT, &kv, "file")?.map(|p| KeySpec::KeyFile(PathBuf::from(p))),
        value(OPT, &kv, "fd")?
            .map(|n| number(OPT, "fd", n).map(KeySpec::KeyFd))
            .transpose()?,
        value(OPT, &kv, "pwdfile")?.map(|p| KeySpec::PassphraseFile(PathBuf::from(p))),
        value(OPT, &kv, "pwdfd")?
            .map(|n| number(OPT, "pwdfd", n).map(KeySpec::PassphraseFd))
            .transpose()?,
    ];
    let mut given = sources.into_iter().flatten();
    let spec = given
        .next()
        .ok_or_else(|| format!("{OPT}: give one of file=, fd=, pwdfile=, pwdfd="))?;
    if given.next().is_some() {
        return Err(format!(
            "{OPT}: give only one of file=, fd=, pwdfile=, pwdfd="
        ));
    }
    if remove && !matches!(spec, KeySpec::KeyFile(_) | KeySpec::PassphraseFile(_)) {
        return Err(format!("{OPT}: remove applies to file= and pwdfile= only"));
    }
    Ok((spec, remove))
}

fn parse_log(a: &mut SocketArgs, v: &str) -> Result<(), String> {
    const OPT: &str = "--log";
    let kv = split_kv(OPT, v, &["file", "fd", "level", "prefix", "truncate"])?;
    a.log = match (value(OPT, &kv, "file")?, value(OPT, &kv, "fd")?) {
        (Some("-"), None) => LogTarget::Stdout,
        (Some(f), None) => LogTarget::File(PathBuf::from(f)),
        (None, Some(fd)) => LogTarget::Fd(fd_number(OPT, "fd", fd)?),
        (None, None) => LogTarget::Stderr,
        (Some(_), Some(_)) => return Err(format!("{OPT}: give file= or fd=, not both")),
    };
    // swtpm logs at level 1 once a log is configured.
    a.log_level = match value(OPT, &kv, "level")? {
        Some(l) => number(OPT, "level", l)?,
        None => 1,
    };
    // prefix= is accepted; our log lines carry their own time and level.
    value(OPT, &kv, "prefix")?;
    a.log_truncate = flag(OPT, &kv, "truncate")?;
    Ok(())
}

fn parse_pid(v: &str) -> Result<PidTarget, String> {
    const OPT: &str = "--pid";
    let kv = split_kv(OPT, v, &["file", "fd"])?;
    match (value(OPT, &kv, "file")?, value(OPT, &kv, "fd")?) {
        (Some(f), None) => Ok(PidTarget::File(PathBuf::from(f))),
        (None, Some(fd)) => Ok(PidTarget::Fd(fd_number(OPT, "fd", fd)?)),
        _ => Err(format!("{OPT}: give file= or fd=")),
    }
}

fn parse_flags(o: &mut Options, v: &str) -> Result<(), String> {
    const OPT: &str = "--flags";
    let kv = split_kv(
        OPT,
        v,
        &[
            "not-need-init",
            "startup-clear",
            "startup-state",
            "startup-deactivated",
            "startup-none",
            "disable-auto-shutdown",
        ],
    )?;
    if flag(OPT, &kv, "not-need-init")? {
        o.not_need_init = true;
    }
    if flag(OPT, &kv, "startup-deactivated")? {
        return Err(format!(
            "{OPT}: startup-deactivated is a TPM 1.2 flag (this is a TPM 2.0)"
        ));
    }
    for (name, kind) in [
        ("startup-clear", AutoStartup::Clear),
        ("startup-state", AutoStartup::State),
        ("startup-none", AutoStartup::None),
    ] {
        if flag(OPT, &kv, name)? {
            o.not_need_init = true;
            o.auto_startup = kind;
        }
    }
    if flag(OPT, &kv, "disable-auto-shutdown")? {
        o.auto_shutdown = false;
    }
    Ok(())
}

fn parse_locality(a: &mut SocketArgs, v: &str) -> Result<(), String> {
    const OPT: &str = "--locality";
    let kv = split_kv(OPT, v, &["reject-locality-4", "allow-set-locality"])?;
    a.reject_locality_4 |= flag(OPT, &kv, "reject-locality-4")?;
    a.allow_set_locality |= flag(OPT, &kv, "allow-set-locality")?;
    Ok(())
}

/// Options of swtpm we know but do not implement, with the reason.
const UNSUPPORTED: &[(&str, &str)] = &[
    (
        "--migration-key",
        "migration blobs are exchanged decrypted (QEMU asks for them so) or sealed with the \
         state key",
    ),
    (
        "--migration",
        "shared-storage migration is not supported: the state directory stays locked by the \
         instance that has it open",
    ),
    ("--seccomp", "there is no seccomp sandbox"),
    ("--profile", "the algorithm profile is fixed"),
    ("--print-profiles", "the algorithm profile is fixed"),
    ("--pcap", "no packet capture; use --log level=20"),
    (
        "--runas",
        "start the process as the user that should run it",
    ),
    ("-r", "start the process as the user that should run it"),
    ("--chroot", "no chroot"),
    ("-R", "no chroot"),
    ("--vtpm-proxy", "only the 'socket' front end exists"),
];

/// Options that take a value.
const WITH_VALUE: &[&str] = &[
    "--server",
    "--ctrl",
    "--tpmstate",
    "--key",
    "--log",
    "--pid",
    "--flags",
    "--locality",
    "--port",
    "-p",
    "--fd",
    "-f",
    "--print-info",
    "--migration-key",
    "--migration",
    "--seccomp",
    "--profile",
    "--pcap",
    "--runas",
    "-r",
    "--chroot",
    "-R",
];

/// Parse the arguments after `socket`. `env` looks up `TPM_PATH` and
/// `TPM_PORT`.
pub fn parse_socket_args(
    args: &[OsString],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<SocketArgs, String> {
    let mut a = SocketArgs::default();
    let mut server: Option<String> = None;
    let mut port_opt: Option<String> = None;
    let mut fd_opt: Option<String> = None;
    let mut i = 0;
    while let Some(raw) = args.get(i) {
        i += 1;
        let arg = raw
            .to_str()
            .ok_or_else(|| format!("argument {raw:?} is not valid UTF-8"))?;
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (arg, None),
        };
        let takes_value = WITH_VALUE.contains(&name);
        let val = if takes_value {
            match inline {
                Some(v) => Some(v),
                None => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("option {name} needs a value"))?;
                    i += 1;
                    Some(
                        v.to_str()
                            .ok_or_else(|| format!("the value of {name} is not valid UTF-8"))?
                            .to_string(),
                    )
                }
            }
        } else {
            if inline.is_some() {
                return Err(format!("option {name} takes no value"));
            }
            None
        };
        if let Some((_, why)) = UNSUPPORTED.iter().find(|(n, _)| *n == name) {
            return Err(format!(
                "option {name} is not supported by vtpm-host-sim: {why}"
            ));
        }
        let v = val.unwrap_or_default();
        match name {
            "--tpm2" => a.tpm2 = true,
            "--server" => {
                if server.replace(v).is_some() {
                    return Err("--server given twice".into());
                }
            }
            "-p" | "--port" => port_opt = Some(v),
            "-f" | "--fd" => fd_opt = Some(v),
            "--ctrl" => {
                if a.ctrl.is_some() {
                    return Err("--ctrl given twice".into());
                }
                let (spec, term) = parse_ctrl(&v)?;
                a.ctrl = Some(spec);
                a.ctrl_terminate = term;
            }
            "--tpmstate" => a.state_dir = Some(parse_tpmstate(&v)?),
            "--key" => {
                let (spec, remove) = parse_key(&v)?;
                a.key = spec;
                a.key_remove = remove;
            }
            "--log" => parse_log(&mut a, &v)?,
            "--pid" => a.pid = Some(parse_pid(&v)?),
            "--flags" => parse_flags(&mut a.options, &v)?,
            "--locality" => parse_locality(&mut a, &v)?,
            "-d" | "--daemon" => a.daemon = true,
            "-t" | "--terminate" => a.terminate = true,
            "--print-capabilities" => a.action = Action::PrintCapabilities,
            "--print-states" => a.action = Action::PrintStates,
            "--print-info" => {
                let n = v.trim();
                let flags = match n.strip_prefix("0x") {
                    Some(h) => u64::from_str_radix(h, 16),
                    None => n.parse(),
                }
                .map_err(|_| format!("--print-info: {v} is not a number"))?;
                a.action = Action::PrintInfo(flags);
            }
            "-h" | "--help" => a.action = Action::Help,
            "-v" | "--version" => a.action = Action::Version,
            other => {
                return Err(format!(
                    "unknown option '{other}' (see 'vtpm-host-sim socket --help')"
                ))
            }
        }
    }
    let env_port = env("TPM_PORT");
    let legacy = [port_opt.is_some(), fd_opt.is_some(), server.is_some()];
    if legacy.iter().filter(|b| **b).count() > 1 {
        return Err("give only one of --server, -p/--port and -f/--fd".into());
    }
    if let Some(s) = server {
        let (spec, disconnect) = parse_server(&s, env_port.as_deref())?;
        a.server = Some(spec);
        a.disconnect = disconnect;
    } else if let Some(p) = port_opt {
        let port: u16 = number("--port", "port", &p)?;
        a.server = Some(ServerSpec::Tcp(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
        )));
    } else if let Some(f) = fd_opt {
        a.server = Some(ServerSpec::Fd(fd_number("--fd", "fd", &f)?));
    }
    if a.state_dir.is_none() {
        a.state_dir = env("TPM_PATH").filter(|p| !p.is_empty()).map(PathBuf::from);
    }
    if a.action == Action::Run {
        if !a.tpm2 {
            return Err(
                "TPM 1.2 is not supported: add --tpm2 (swtpm's default is a TPM 1.2)".into(),
            );
        }
        if a.server.is_none() && a.ctrl.is_none() {
            return Err("nothing to serve: give --server (or -p PORT) and/or --ctrl".into());
        }
        if a.state_dir.is_none() {
            return Err("no state directory: give --tpmstate dir=DIR (or set TPM_PATH)".into());
        }
        if matches!(a.ctrl, Some(CtrlSpec::ClientFd(_))) && a.server.is_none() {
            // Without a data channel nothing but CMD_SET_DATAFD could bring
            // commands, and a client socket can pass one: allowed.
        }
    }
    Ok(a)
}

// ----------------------------------------------------- capabilities ---

/// The `--print-capabilities` JSON: only what works.
pub fn capabilities_json() -> String {
    let mut features: Vec<String> = [
        "tpm-2.0",
        "tpm-send-command-header",
        "flags-opt-startup",
        "flags-opt-disable-auto-shutdown",
        "ctrl-opt-terminate",
        "cmdarg-key-fd",
        "cmdarg-pwd-fd",
        "cmdarg-print-states",
        "nvram-backend-dir",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    features.extend(
        vtpm_core::crypto::rsa::RSA_KEY_BITS
            .iter()
            .map(|b| format!("rsa-keysize-{b}")),
    );
    features.extend(
        [
            "cmdarg-print-info",
            "tpmstate-opt-lock",
            "tpmstate-dir-backend-opt-backup",
            "tpmstate-dir-backend-opt-fsync",
            "systemd-notify",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    let list: Vec<String> = features.iter().map(|f| format!("\"{f}\"")).collect();
    format!(
        "{{ \"type\": \"swtpm\", \"features\": [ {} ], \"version\": \"{}\" }}",
        list.join(", "),
        env!("CARGO_PKG_VERSION")
    )
}

/// The `--print-states` JSON: which state blobs the directory holds.
fn states_json(dir: Option<&Path>) -> String {
    let mut states = Vec::new();
    if let Some(dir) = dir {
        let size = [crate::store::SLOT_A_FILE, crate::store::SLOT_B_FILE]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
            .map(|m| m.len())
            .max();
        if let Some(s) = size {
            states.push(format!("{{\"name\": \"permall\", \"size\": {s}}}"));
        }
        if let Ok(m) = std::fs::metadata(dir.join(swtpm::VOLATILE_FILE)) {
            states.push(format!(
                "{{\"name\": \"volatilestate\", \"size\": {}}}",
                m.len()
            ));
        }
    }
    format!(
        "{{ \"type\": \"swtpm\", \"states\": [ {} ] }}",
        states.join(", ")
    )
}

const USAGE: &str = "\
Usage: vtpm-host-sim socket --tpm2 [options]

A drop-in for `swtpm socket --tpm2`: the same options, the same protocols.

  --server type=tcp[,port=N][,bindaddr=ADDR][,disconnect]   TPM commands on TCP
  --server type=tcp,fd=N          TPM commands on a connected socket (exit when it closes)
  --server type=unixio,path=P[,mode=0NNN][,uid=N][,gid=N] | type=unixio,fd=N
  -p, --port N                    like --server type=tcp,port=N
  -f, --fd N                      like --server type=tcp,fd=N
  --ctrl type=tcp,port=N[,bindaddr=ADDR][,terminate] | type=tcp,fd=N
  --ctrl type=unixio,path=P[,mode=0NNN][,uid=N][,gid=N][,terminate]
  --ctrl type=unixio,fd=N | type=unixio,clientfd=N
                                  control channel; with unixio QEMU passes its data
                                  socket with CMD_SET_DATAFD
  --tpmstate dir=DIR|backend-uri=dir://DIR[,mode=0NNN][,lock][,backup][,fsync]
                                  state directory (or TPM_PATH); always locked, synced
  --key file=F|fd=N|pwdfile=F|pwdfd=N[,mode=aes-256-cbc][,format=hex|binary][,remove]
                                  256-bit state key (32 bytes or 64 hex digits) or a
                                  passphrase (stretched with Argon2id)
  --flags not-need-init,startup-clear|startup-state|startup-none,disable-auto-shutdown
  --locality reject-locality-4,allow-set-locality
  --log file=F|fd=N[,level=N][,truncate]   log (level 1 info, 3 debug, 5+ trace)
  --pid file=F|fd=N               write the process id once serving
  -d, --daemon                    detach once serving
  -t, --terminate                 exit when the data connection closes
  --print-capabilities            JSON list of the supported features
  --print-info FLAGS              JSON TPM information (1 spec, 2 attributes, 4 features)
  --print-states                  JSON list of the state blobs in --tpmstate
  -h, --help / -v, --version
";

// -------------------------------------------------------------- runner ---

fn socket_main(args: &[OsString]) -> ExitCode {
    let env = |k: &str| std::env::var(k).ok();
    let a = match parse_socket_args(args, &env) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("vtpm-host-sim socket: {e}");
            return ExitCode::FAILURE;
        }
    };
    match a.action {
        Action::Help => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Action::Version => {
            println!(
                "vtpm-host-sim {} (TPM 2.0, swtpm socket compatible)",
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        Action::PrintCapabilities => {
            println!("{}", capabilities_json());
            return ExitCode::SUCCESS;
        }
        Action::PrintInfo(flags) => {
            println!("{}", swtpm::info_json(flags));
            return ExitCode::SUCCESS;
        }
        Action::PrintStates => {
            println!("{}", states_json(a.state_dir.as_deref()));
            return ExitCode::SUCCESS;
        }
        Action::Run => {}
    }
    let daemon_child = std::env::var_os(DAEMON_CHILD_ENV).is_some();
    if a.daemon && !daemon_child {
        return daemonize(args);
    }
    if daemon_child {
        if let Err(e) = rustix::process::setsid() {
            eprintln!("vtpm-host-sim socket: setsid failed: {e}");
        }
    }
    if let Err(e) = init_logging(&a) {
        eprintln!("vtpm-host-sim socket: {e:#}");
        return ExitCode::FAILURE;
    }
    match run(a, daemon_child) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("vtpm-host-sim socket: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `--daemon`: run ourselves again, detached (new session, standard input
/// and output on /dev/null once serving), and return once the child
/// serves — so that, as with swtpm, the sockets exist when this process
/// has exited successfully. Re-executing avoids `fork` in Rust.
fn daemonize(args: &[OsString]) -> ExitCode {
    let rest: Vec<&OsString> = args
        .iter()
        .filter(|a| !matches!(a.to_str(), Some("-d" | "--daemon")))
        .collect();
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("vtpm-host-sim socket: --daemon: cannot find the executable: {e}");
            return ExitCode::FAILURE;
        }
    };
    let child = std::process::Command::new(exe)
        .arg("socket")
        .args(rest)
        .env(DAEMON_CHILD_ENV, "1")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("vtpm-host-sim socket: --daemon: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ready = child.stdout.take().is_some_and(|out| {
        io::BufReader::new(out)
            .lines()
            .map_while(Result::ok)
            .any(|l| l == DAEMON_READY)
    });
    if ready {
        return ExitCode::SUCCESS;
    }
    let status = child.wait();
    eprintln!("vtpm-host-sim socket: --daemon: the server did not start ({status:?})");
    ExitCode::FAILURE
}

/// Map swtpm's log levels onto ours: no `--log`: warnings to stderr;
/// level 0: errors; 1-2: info; 3-4: debug; 5 and above: trace.
fn log_level(a: &SocketArgs) -> tracing::Level {
    if a.log == LogTarget::Stderr {
        return match a.log_level {
            0 => tracing::Level::WARN,
            1..=2 => tracing::Level::INFO,
            3..=4 => tracing::Level::DEBUG,
            _ => tracing::Level::TRACE,
        };
    }
    match a.log_level {
        0 => tracing::Level::ERROR,
        1..=2 => tracing::Level::INFO,
        3..=4 => tracing::Level::DEBUG,
        _ => tracing::Level::TRACE,
    }
}

fn init_logging(a: &SocketArgs) -> anyhow::Result<()> {
    let level = log_level(a);
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false);
    let file = match &a.log {
        LogTarget::Stderr => {
            builder.with_writer(io::stderr).init();
            return Ok(());
        }
        LogTarget::Stdout => {
            builder.with_writer(io::stdout).init();
            return Ok(());
        }
        LogTarget::File(p) => {
            let mut o = OpenOptions::new();
            o.create(true);
            if a.log_truncate {
                o.write(true).truncate(true);
            } else {
                o.append(true);
            }
            o.open(p)
                .with_context(|| format!("cannot open the log file {}", p.display()))?
        }
        LogTarget::Fd(n) => File::from(adopt_fd(*n, "--log fd=")?),
    };
    builder.with_writer(std::sync::Mutex::new(file)).init();
    Ok(())
}

/// Take ownership of descriptor `n`, inherited and named on our command
/// line, after checking through `/proc/self/fd` that it is open.
fn adopt_fd(n: i32, what: &str) -> anyhow::Result<OwnedFd> {
    let link = PathBuf::from(format!("/proc/self/fd/{n}"));
    if std::fs::symlink_metadata(&link).is_err() {
        bail!("{what}{n}: file descriptor {n} is not open");
    }
    if n <= 2 {
        bail!("{what}{n}: standard input, output or error cannot be used");
    }
    // SAFETY: `n` is an open descriptor of this process (checked above)
    // that was inherited for us and named on our command line; nothing
    // else in this process owns it, and each descriptor option is adopted
    // once (`check_distinct_fds`), so exactly one `OwnedFd` closes it.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

fn is_socket(fd: &OwnedFd) -> bool {
    rustix::fs::fstat(fd).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Socket
    })
}

fn adopt_socket(n: i32, what: &str) -> anyhow::Result<OwnedFd> {
    let fd = adopt_fd(n, what)?;
    if !is_socket(&fd) {
        bail!("{what}{n}: file descriptor {n} is not a socket");
    }
    Ok(fd)
}

/// A connected stream socket of either family.
fn conn_from_fd(fd: OwnedFd) -> Conn {
    let unix = rustix::net::getsockname(&fd)
        .is_ok_and(|a| a.address_family() == rustix::net::AddressFamily::UNIX);
    if unix {
        Conn::Unix(UnixStream::from(fd))
    } else {
        Conn::Tcp(TcpStream::from(fd))
    }
}

/// Every descriptor option names a different descriptor.
fn check_distinct_fds(a: &SocketArgs) -> anyhow::Result<()> {
    let mut fds = Vec::new();
    match &a.server {
        Some(ServerSpec::Fd(n)) | Some(ServerSpec::UnixFd(n)) => fds.push(*n),
        _ => {}
    }
    match &a.ctrl {
        Some(CtrlSpec::TcpFd(n)) | Some(CtrlSpec::UnixFd(n)) | Some(CtrlSpec::ClientFd(n)) => {
            fds.push(*n)
        }
        _ => {}
    }
    if let LogTarget::Fd(n) = a.log {
        fds.push(n);
    }
    if let Some(PidTarget::Fd(n)) = a.pid {
        fds.push(n);
    }
    match a.key {
        KeySpec::KeyFd(n) | KeySpec::PassphraseFd(n) => {
            fds.push(i32::try_from(n).unwrap_or(i32::MAX))
        }
        _ => {}
    }
    let mut sorted = fds.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != fds.len() {
        bail!("the same file descriptor is named by two options");
    }
    Ok(())
}

fn bind_unix(o: &UnixOpts, what: &str) -> anyhow::Result<Listener> {
    let l = Listener::bind_unix(&o.path)
        .with_context(|| format!("cannot listen on {} ({what})", o.path.display()))?;
    let set = || -> io::Result<()> {
        std::fs::set_permissions(&o.path, std::fs::Permissions::from_mode(o.mode))?;
        if o.uid.is_some() || o.gid.is_some() {
            std::os::unix::fs::chown(&o.path, o.uid, o.gid)?;
        }
        Ok(())
    };
    if let Err(e) = set() {
        l.cleanup();
        return Err(e).with_context(|| {
            format!("cannot set the mode/owner of {} ({what})", o.path.display())
        });
    }
    Ok(l)
}

/// The sockets of one run.
#[derive(Default)]
struct Endpoints {
    data_listener: Option<Arc<Listener>>,
    data_conn: Option<Conn>,
    ctrl_listener: Option<Arc<Listener>>,
    ctrl_conn: Option<Conn>,
}

impl Endpoints {
    fn cleanup(&self) {
        for l in [&self.data_listener, &self.ctrl_listener]
            .into_iter()
            .flatten()
        {
            l.cleanup();
        }
    }
}

fn endpoints(a: &SocketArgs) -> anyhow::Result<Endpoints> {
    check_distinct_fds(a)?;
    let mut e = Endpoints::default();
    let r = (|| -> anyhow::Result<()> {
        match &a.server {
            None => {}
            Some(ServerSpec::Tcp(addr)) => {
                e.data_listener =
                    Some(Arc::new(Listener::bind_tcp(*addr).with_context(|| {
                        format!("cannot listen on {addr} (data channel)")
                    })?))
            }
            Some(ServerSpec::Fd(n)) => {
                e.data_conn = Some(conn_from_fd(adopt_socket(*n, "--server fd=")?))
            }
            Some(ServerSpec::UnixPath(o)) => {
                e.data_listener = Some(Arc::new(bind_unix(o, "data channel")?))
            }
            Some(ServerSpec::UnixFd(n)) => {
                let l = UnixListener::from(adopt_socket(*n, "--server type=unixio,fd=")?);
                e.data_listener = Some(Arc::new(Listener::Unix {
                    listener: l,
                    path: PathBuf::new(),
                }));
            }
        }
        match &a.ctrl {
            None => {}
            Some(CtrlSpec::Tcp(addr)) => {
                e.ctrl_listener =
                    Some(Arc::new(Listener::bind_tcp(*addr).with_context(|| {
                        format!("cannot listen on {addr} (control channel)")
                    })?))
            }
            Some(CtrlSpec::TcpFd(n)) => {
                let l = TcpListener::from(adopt_socket(*n, "--ctrl type=tcp,fd=")?);
                e.ctrl_listener = Some(Arc::new(Listener::Tcp(l)));
            }
            Some(CtrlSpec::UnixPath(o)) => {
                e.ctrl_listener = Some(Arc::new(bind_unix(o, "control channel")?))
            }
            Some(CtrlSpec::UnixFd(n)) => {
                let l = UnixListener::from(adopt_socket(*n, "--ctrl type=unixio,fd=")?);
                e.ctrl_listener = Some(Arc::new(Listener::Unix {
                    listener: l,
                    path: PathBuf::new(),
                }));
            }
            Some(CtrlSpec::ClientFd(n)) => {
                e.ctrl_conn = Some(conn_from_fd(adopt_socket(*n, "--ctrl clientfd=")?))
            }
        }
        Ok(())
    })();
    if let Err(err) = r {
        e.cleanup();
        return Err(err);
    }
    Ok(e)
}

fn write_pid(target: &PidTarget) -> anyhow::Result<()> {
    let text = format!("{}\n", std::process::id());
    match target {
        PidTarget::File(p) => {
            let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
            let dir = dir.unwrap_or(Path::new("."));
            let name = p
                .file_name()
                .ok_or_else(|| anyhow!("--pid file={}: not a file name", p.display()))?;
            let mut tmp = OsString::from(".");
            tmp.push(name);
            tmp.push(".tmp");
            let tmp = dir.join(tmp);
            std::fs::write(&tmp, &text)
                .and_then(|()| std::fs::rename(&tmp, p))
                .with_context(|| format!("cannot write the pid file {}", p.display()))
        }
        PidTarget::Fd(n) => {
            let mut f = File::from(adopt_fd(*n, "--pid fd=")?);
            f.write_all(text.as_bytes())
                .context("cannot write the pid to --pid fd=")
        }
    }
}

/// systemd readiness (`NOTIFY_SOCKET`), as swtpm does.
fn notify_systemd() {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else {
        return;
    };
    let r = match path.as_encoded_bytes().strip_prefix(b"@") {
        Some(name) => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(name)
                .and_then(|a| sock.send_to_addr(b"READY=1", &a))
        }
        None => sock.send_to(b"READY=1", &path),
    };
    if let Err(e) = r {
        tracing::warn!("cannot notify systemd: {e}");
    }
}

fn install_signal_handlers(stop: Sender<Event>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .context("cannot install signal handlers")?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut seen = 0u32;
            for sig in signals.forever() {
                seen = seen.saturating_add(1);
                if seen > 1 {
                    tracing::warn!("second signal: exiting without waiting for the TPM");
                    std::process::exit(1);
                }
                let _ = stop.send(Event::Signal(sig));
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> anyhow::Result<()> {
    thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map(|_| ())
        .with_context(|| format!("cannot start the {name} thread"))
}

fn data_accept_loop(shared: &Arc<Shared>, listener: &Listener) {
    loop {
        let conn = listener.accept();
        if shared.is_stopping() {
            return;
        }
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("data channel: accept failed: {e}");
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        if !shared.swtpm.claim_data() {
            tracing::warn!(
                "data channel: a client connected while the descriptor passed with \
                 CMD_SET_DATAFD is in use; closing it"
            );
            continue;
        }
        tracing::debug!("data channel: client connected");
        swtpm::serve_data_connection(shared, conn);
        if shared.is_stopping() {
            return;
        }
    }
}

/// Serve one control connection; true if the simulator should stop.
fn serve_ctrl_conn(shared: &Arc<Shared>, mut conn: Conn, terminate: bool) -> bool {
    let id = shared.register(&conn);
    let outcome = swtpm::serve_ctrl(shared, &mut conn);
    shared.unregister(id);
    drop(conn);
    tracing::debug!("control channel: client disconnected");
    if outcome == Outcome::Stop {
        shared.request_stop(Event::Stop("CMD_SHUTDOWN received"));
        return true;
    }
    if terminate && !shared.is_stopping() {
        shared.request_stop(Event::Stop("the control connection closed (terminate)"));
        return true;
    }
    false
}

fn ctrl_accept_loop(shared: &Arc<Shared>, listener: &Listener, terminate: bool) {
    loop {
        let conn = listener.accept();
        if shared.is_stopping() {
            return;
        }
        match conn {
            Ok(c) => {
                tracing::debug!("control channel: client connected");
                if serve_ctrl_conn(shared, c, terminate) || shared.is_stopping() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!("control channel: accept failed: {e}");
                thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

fn run(a: SocketArgs, daemon_child: bool) -> anyhow::Result<()> {
    let state_dir = a
        .state_dir
        .clone()
        .ok_or_else(|| anyhow!("no state directory"))?;
    // Bind first, so that a busy port fails before the state is touched.
    let mut ep = endpoints(&a)?;
    let device = match Device::open_with_key(&state_dir, &a.key, false, a.options, None) {
        Ok(d) => d,
        Err(e) => {
            ep.cleanup();
            return Err(e);
        }
    };
    if a.key_remove {
        if let KeySpec::KeyFile(p) | KeySpec::PassphraseFile(p) = &a.key {
            if let Err(e) = std::fs::remove_file(p) {
                tracing::warn!("--key remove: cannot remove {}: {e}", p.display());
            }
        }
    }
    let (events_tx, events) = mpsc::channel();
    let mut device = device;
    device.tpm.power_on();
    device.running = device.options.not_need_init;
    if device.running {
        device.auto_startup();
    }
    let cancel = device.tpm.platform().cancel_flag();
    let shared = Arc::new(Shared::new(device, cancel, events_tx.clone()));
    let data_fd_given = ep.data_conn.is_some();
    shared.swtpm.configure(SwtpmConfig {
        reject_locality_4: a.reject_locality_4,
        allow_set_locality: a.allow_set_locality,
        terminate_on_data_close: a.terminate || data_fd_given,
        disconnect: a.disconnect,
        file_key: a.key != KeySpec::Default,
        key: Some(a.key.clone()),
    });
    install_signal_handlers(events_tx.clone())?;

    if let Some(conn) = ep.data_conn.take() {
        shared.swtpm.claim_data();
        let s = Arc::clone(&shared);
        spawn("data fd", move || swtpm::serve_data_connection(&s, conn))?;
    }
    if let Some(l) = ep.data_listener.clone() {
        let s = Arc::clone(&shared);
        spawn("data", move || data_accept_loop(&s, &l))?;
    }
    if let Some(conn) = ep.ctrl_conn.take() {
        let s = Arc::clone(&shared);
        let term = a.ctrl_terminate;
        spawn("ctrl client", move || {
            serve_ctrl_conn(&s, conn, term);
        })?;
    }
    if let Some(l) = ep.ctrl_listener.clone() {
        let s = Arc::clone(&shared);
        let term = a.ctrl_terminate;
        spawn("ctrl", move || ctrl_accept_loop(&s, &l, term))?;
    }
    if let Some(p) = &a.pid {
        write_pid(p)?;
    }
    tracing::info!(
        "serving: data {}, control {}, state {}",
        describe(ep.data_listener.as_deref(), data_fd_given),
        describe(ep.ctrl_listener.as_deref(), a.ctrl.is_some()),
        state_dir.display()
    );
    notify_systemd();
    if daemon_child {
        println!("{DAEMON_READY}");
        let _ = io::stdout().flush();
        // Detached like daemon(3): no standard output or error any more
        // (whoever started us may be waiting for their end of file).
        if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
            let _ = rustix::stdio::dup2_stdout(&null);
            let _ = rustix::stdio::dup2_stderr(&null);
        }
    }
    let ev = events.recv().unwrap_or(Event::Stop("event channel closed"));
    match &ev {
        Event::Stop(why) => tracing::info!("stopping: {why}"),
        Event::Signal(sig) => tracing::info!("stopping on signal {sig}"),
    }
    {
        let mut d = shared.lock();
        shared
            .stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if d.running {
            d.auto_shutdown();
        }
        d.save();
    }
    shared.close_all();
    for l in [&ep.data_listener, &ep.ctrl_listener].into_iter().flatten() {
        l.wake();
        l.cleanup();
    }
    Ok(())
}

fn describe(l: Option<&Listener>, other: bool) -> String {
    match l {
        Some(l) => l.to_string(),
        None if other => "given descriptor".into(),
        None => "none (CMD_SET_DATAFD)".into(),
    }
}

#[cfg(test)]
mod unit {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn parse(line: &str) -> Result<SocketArgs, String> {
        parse_env(line, &[])
    }

    fn parse_env(line: &str, env: &[(&str, &str)]) -> Result<SocketArgs, String> {
        let args: Vec<OsString> = line.split_whitespace().map(OsString::from).collect();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_socket_args(&args, &move |k: &str| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn tpm2_tools_suite_line() {
        let a = parse(
            "--tpm2 --server type=tcp,port=2321,bindaddr=127.0.0.1 \
             --ctrl type=tcp,port=2322,bindaddr=127.0.0.1 --flags not-need-init \
             --tpmstate dir=/tmp/st",
        )
        .unwrap();
        assert!(a.tpm2);
        assert_eq!(
            a.server,
            Some(ServerSpec::Tcp("127.0.0.1:2321".parse().unwrap()))
        );
        assert_eq!(
            a.ctrl,
            Some(CtrlSpec::Tcp("127.0.0.1:2322".parse().unwrap()))
        );
        assert!(a.options.not_need_init);
        assert_eq!(a.options.auto_startup, AutoStartup::None);
        assert_eq!(a.state_dir, Some(PathBuf::from("/tmp/st")));
        // tpm2-tss: --server port=P (type defaults to tcp), and the
        // locality option.
        let a = parse(
            "--tpm2 --server port=5000 --ctrl type=tcp,port=5001 --flags not-need-init \
             --tpmstate dir=/x --locality allow-set-locality",
        )
        .unwrap();
        assert_eq!(
            a.server,
            Some(ServerSpec::Tcp("127.0.0.1:5000".parse().unwrap()))
        );
        assert!(a.allow_set_locality && !a.reject_locality_4);
    }

    #[test]
    fn libvirt_and_qemu_lines() {
        let a = parse(
            "--ctrl type=unixio,path=/run/libvirt/qemu/swtpm/1-vm-swtpm.sock,mode=0600 \
             --tpmstate dir=/var/lib/libvirt/swtpm/uuid/tpm2,mode=0600 \
             --log file=/var/log/swtpm/libvirt/qemu/vm-swtpm.log --terminate --tpm2",
        )
        .unwrap();
        assert_eq!(
            a.ctrl,
            Some(CtrlSpec::UnixPath(UnixOpts {
                path: "/run/libvirt/qemu/swtpm/1-vm-swtpm.sock".into(),
                mode: 0o600,
                uid: None,
                gid: None
            }))
        );
        assert!(a.terminate && a.server.is_none());
        assert_eq!(
            a.log,
            LogTarget::File("/var/log/swtpm/libvirt/qemu/vm-swtpm.log".into())
        );
        assert_eq!(a.log_level, 1);
        // With an encrypted state (libvirt's secret through a pipe).
        let a = parse(
            "--ctrl type=unixio,path=/s,mode=0600 --tpmstate dir=/d,mode=0600 \
             --log file=/l,level=20 --terminate --tpm2 --key pwdfd=23,mode=aes-256-cbc",
        )
        .unwrap();
        assert_eq!(a.key, KeySpec::PassphraseFd(23));
        assert_eq!(a.log_level, 20);
        // QEMU's docs/specs/tpm.rst.
        let a = parse(
            "--tpmstate dir=/tmp/mytpm1 --ctrl type=unixio,path=/tmp/mytpm1/swtpm-sock \
             --tpm2 --log level=20",
        )
        .unwrap();
        assert_eq!(a.log, LogTarget::Stderr);
        // swtpm_setup's own invocation.
        let a = parse(
            "--flags not-need-init,startup-clear --tpmstate backend-uri=dir:///d,lock \
             --pid file=/tmp/.swtpm_setup.pidfile.X --tpm2 --server type=tcp,fd=7 \
             --ctrl type=unixio,clientfd=8",
        )
        .unwrap();
        assert_eq!(a.server, Some(ServerSpec::Fd(7)));
        assert_eq!(a.ctrl, Some(CtrlSpec::ClientFd(8)));
        assert_eq!(a.state_dir, Some(PathBuf::from("/d")));
        assert_eq!(a.options.auto_startup, AutoStartup::Clear);
        assert_eq!(
            a.pid,
            Some(PidTarget::File("/tmp/.swtpm_setup.pidfile.X".into()))
        );
    }

    #[test]
    fn legacy_forms_and_environment() {
        let a = parse_env("--tpm2 -p 2321 -t -d", &[("TPM_PATH", "/st")]).unwrap();
        assert_eq!(
            a.server,
            Some(ServerSpec::Tcp("127.0.0.1:2321".parse().unwrap()))
        );
        assert!(a.terminate && a.daemon);
        assert_eq!(a.state_dir, Some(PathBuf::from("/st")));
        let a = parse_env(
            "--tpm2 --server=type=tcp --tpmstate=dir=/a",
            &[("TPM_PORT", "4000")],
        )
        .unwrap();
        assert_eq!(
            a.server,
            Some(ServerSpec::Tcp("127.0.0.1:4000".parse().unwrap()))
        );
        let a = parse("--tpm2 --server type=tcp,port=1,bindaddr=::1,disconnect --tpmstate dir=/a")
            .unwrap();
        assert_eq!(a.server, Some(ServerSpec::Tcp("[::1]:1".parse().unwrap())));
        assert!(a.disconnect);
        let a = parse(
            "--tpm2 --server type=unixio,path=/s,mode=0660,uid=1,gid=2 --tpmstate dir=/a \
             --key file=/k,format=hex,remove --flags startup-state,disable-auto-shutdown",
        )
        .unwrap();
        assert_eq!(
            a.server,
            Some(ServerSpec::UnixPath(UnixOpts {
                path: "/s".into(),
                mode: 0o660,
                uid: Some(1),
                gid: Some(2)
            }))
        );
        assert_eq!(a.key, KeySpec::KeyFile("/k".into()));
        assert!(a.key_remove);
        assert_eq!(a.options.auto_startup, AutoStartup::State);
        assert!(!a.options.auto_shutdown && a.options.not_need_init);
    }

    #[test]
    fn bad_and_unsupported_options_fail_clearly() {
        let bad = [
            (
                "--tpm2 --ctrl type=tcp,port=1 --tpmstate dir=/a --frobnicate",
                "unknown option '--frobnicate'",
            ),
            (
                "--tpm2 --server type=tcp,port=1,colour=red --tpmstate dir=/a",
                "unknown parameter 'colour'",
            ),
            ("--ctrl type=tcp,port=1 --tpmstate dir=/a", "add --tpm2"),
            ("--tpm2 --tpmstate dir=/a", "nothing to serve"),
            ("--tpm2 --ctrl type=tcp,port=1", "no state directory"),
            (
                "--tpm2 --ctrl type=tcp,port=1 --tpmstate dir=/a --seccomp action=none",
                "--seccomp is not supported",
            ),
            (
                "--tpm2 --ctrl type=tcp,port=1 --tpmstate dir=/a --migration incoming",
                "--migration is not supported",
            ),
            (
                "--tpm2 --ctrl type=tcp,port=1 --tpmstate dir=/a --key file=/k,mode=aes-128-cbc",
                "256-bit key",
            ),
            (
                "--tpm2 --ctrl type=tcp,port=1 --tpmstate backend-uri=file:///x",
                "backend-uri=file:///x is not supported",
            ),
            (
                "--tpm2 --ctrl type=tcp,port=99999 --tpmstate dir=/a",
                "not a valid number",
            ),
            ("--tpm2 --ctrl type=unixio --tpmstate dir=/a", "needs path="),
            ("--tpm2 --ctrl port=3 --tpmstate dir=/a", "missing type="),
            (
                "--tpm2 --server type=tcp --tpmstate dir=/a",
                "no port given",
            ),
            (
                "--tpm2 --ctrl type=tcp,port=1 --tpmstate dir=/a --flags startup-deactivated",
                "TPM 1.2",
            ),
            (
                "--tpm2 -p 1 --server type=tcp,port=2 --tpmstate dir=/a",
                "only one of",
            ),
            ("--tpm2 --ctrl", "needs a value"),
            ("--tpm2 --tpm2=yes", "takes no value"),
            (
                "--tpm2 --runas tss --ctrl type=tcp,port=1 --tpmstate dir=/a",
                "--runas is not supported",
            ),
        ];
        for (line, want) in bad {
            let e = parse(line).unwrap_err();
            assert!(e.contains(want), "{line}: {e}");
        }
    }

    #[test]
    fn query_modes_need_nothing_else() {
        assert_eq!(
            parse("--print-capabilities").unwrap().action,
            Action::PrintCapabilities
        );
        assert_eq!(
            parse("--tpm2 --print-capabilities").unwrap().action,
            Action::PrintCapabilities
        );
        assert_eq!(
            parse("--print-info 0x3").unwrap().action,
            Action::PrintInfo(3)
        );
        assert_eq!(parse("--help").unwrap().action, Action::Help);
    }

    #[test]
    fn capabilities_json_lists_what_works() {
        let v: serde_json::Value = serde_json::from_str(&capabilities_json()).unwrap();
        assert_eq!(v["type"], "swtpm");
        let f: Vec<&str> = v["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_str().unwrap())
            .collect();
        for want in [
            "tpm-2.0",
            "cmdarg-pwd-fd",
            "cmdarg-key-fd",
            "flags-opt-startup",
        ] {
            assert!(f.contains(&want), "{want} in {f:?}");
        }
        for absent in [
            "tpm-1.2",
            "cmdarg-migration",
            "cmdarg-seccomp",
            "cmdarg-profile",
        ] {
            assert!(!f.contains(&absent), "{absent} not in {f:?}");
        }
    }
}
