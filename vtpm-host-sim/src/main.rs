//! `vtpm-host-sim`: the vtpm engine as a host program, a drop-in for the
//! Microsoft/IBM TPM simulator (`tpm_server`, TCTI `mssim`) and for
//! `swtpm socket` (TCTI `swtpm`), so tpm2-tools, tpm2-tss and tpm2-abrmd can
//! use it. See README.md.

use std::io::IsTerminal;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context as _};
use clap::Parser;

mod conn;
mod device;
mod frames;
mod keys;
mod mssim;
mod platform;
mod provision;
mod server;
mod store;
mod swtpm;
mod swtpm_cli;
#[cfg(test)]
mod tests;
mod tool;

use conn::Listener;
use device::{AutoStartup, Device, Event, Options};
use server::{Protocol, Simulator};

const LONG_ABOUT: &str = "\
A TPM 2.0 simulator built on the vtpm engine.

With --protocol mssim (the default) it speaks the Microsoft/IBM simulator \
protocol: TPM commands on PORT, platform signals (power, NV, cancel...) on \
PORT+1. Use it with TPM2TOOLS_TCTI=mssim:host=127.0.0.1,port=PORT.

With --protocol swtpm it speaks swtpm's socket protocols: raw TPM commands \
(or mssim-prefixed ones) on PORT, the swtpm control channel on PORT+1. Use it \
with TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=PORT. Like swtpm, the TPM only \
runs after the control command CMD_INIT unless --flags not-need-init.

The TPM's persistent state is sealed (AES-256-GCM) in two slot files, \
DIR/vtpm-state.a and DIR/vtpm-state.b, written alternately, atomically and \
durably before any command that changed it is answered; see docs/state.md \
for the key options and the state subcommands. On \
SIGTERM/SIGINT, TPM_STOP or CMD_SHUTDOWN the simulator sends \
TPM2_Shutdown(SU_STATE) if the client did not shut the TPM down, saves the \
state and exits with status 0.";

#[derive(Debug, Parser)]
#[command(name = "vtpm-host-sim", version, about = "A TPM 2.0 simulator speaking the mssim and swtpm protocols", long_about = LONG_ABOUT)]
struct Cli {
    /// Without a subcommand: run the simulator.
    #[command(subcommand)]
    command: Option<Command>,

    /// Protocol of the two sockets.
    #[arg(long, value_enum, default_value_t = Protocol::Mssim)]
    protocol: Protocol,

    /// TCP port for TPM commands; the platform (mssim) or control (swtpm)
    /// port is PORT+1.
    #[arg(long, default_value_t = 2321, value_parser = clap::value_parser!(u16).range(1..=65534))]
    port: u16,

    /// Address to listen on (IPv4 or IPv6).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    bind: IpAddr,

    /// Listen on Unix sockets instead of TCP: TPM commands on PATH, platform
    /// or control channel on PATH.ctrl (what the TCTIs' `path=` expects).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["port", "bind"])]
    unix: Option<PathBuf>,

    /// Directory holding the TPM state (vtpm-state.a/.b); created if missing.
    /// Default: $XDG_STATE_HOME/vtpm, or $HOME/.local/state/vtpm.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,

    /// Start with a newly manufactured TPM (new seeds, empty NV), replacing
    /// any existing state. Without it, existing state that cannot be loaded
    /// is an error.
    #[arg(long)]
    manufacture: bool,

    /// Comma-separated swtpm-style flags.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "FLAG,...")]
    flags: Vec<Flag>,

    /// Log verbosity (logs go to stderr).
    #[arg(long, value_enum, default_value_t = LogLevel::Info)]
    log_level: LogLevel,

    /// Route every TPM command through the SVSM vTPM protocol handler
    /// (vtpm-svsm) over a simulated guest page, exercising the code path an
    /// SEV-SNP guest's tpm_svsm driver uses.
    #[arg(long)]
    svsm: bool,

    /// Append every TPM command and response to FILE as hex lines
    /// ("> 8001..." and "< 8001..."), e.g. to record fuzzing seeds.
    #[arg(long, value_name = "FILE")]
    trace_commands: Option<PathBuf>,

    #[command(flatten)]
    key: keys::KeyArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    #[command(flatten)]
    State(tool::Command),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Flag {
    /// swtpm protocol: the TPM runs without waiting for CMD_INIT.
    NotNeedInit,
    /// Send TPM2_Startup(SU_CLEAR) after every _TPM_Init (implies not-need-init).
    StartupClear,
    /// Send TPM2_Startup(SU_STATE) after every _TPM_Init (implies not-need-init).
    StartupState,
    /// Send no TPM2_Startup (implies not-need-init).
    StartupNone,
    /// Never send TPM2_Shutdown(SU_STATE) on CMD_INIT/STOP/SHUTDOWN or exit.
    DisableAutoShutdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl From<LogLevel> for tracing::Level {
    fn from(l: LogLevel) -> Self {
        match l {
            LogLevel::Error => tracing::Level::ERROR,
            LogLevel::Warn => tracing::Level::WARN,
            LogLevel::Info => tracing::Level::INFO,
            LogLevel::Debug => tracing::Level::DEBUG,
            LogLevel::Trace => tracing::Level::TRACE,
        }
    }
}

fn options(flags: &[Flag]) -> Options {
    let mut o = Options::default();
    for f in flags {
        match f {
            Flag::NotNeedInit => o.not_need_init = true,
            Flag::StartupClear => {
                o.not_need_init = true;
                o.auto_startup = AutoStartup::Clear;
            }
            Flag::StartupState => {
                o.not_need_init = true;
                o.auto_startup = AutoStartup::State;
            }
            Flag::StartupNone => {
                o.not_need_init = true;
                o.auto_startup = AutoStartup::None;
            }
            Flag::DisableAutoShutdown => o.auto_shutdown = false,
        }
    }
    o
}

fn default_state_dir() -> anyhow::Result<PathBuf> {
    let non_empty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = non_empty("XDG_STATE_HOME") {
        return Ok(d.join("vtpm"));
    }
    if let Some(h) = non_empty("HOME") {
        return Ok(h.join(".local/state/vtpm"));
    }
    bail!("neither XDG_STATE_HOME nor HOME is set; give the state directory with --state DIR")
}

fn bind(cli: &Cli) -> anyhow::Result<(Listener, Listener)> {
    let names = match cli.protocol {
        Protocol::Mssim => ("mssim TPM", "mssim platform"),
        Protocol::Swtpm => ("swtpm data", "swtpm ctrl"),
    };
    if let Some(path) = &cli.unix {
        let mut ctrl_path = path.clone().into_os_string();
        ctrl_path.push(".ctrl");
        let ctrl_path = PathBuf::from(ctrl_path);
        let data = Listener::bind_unix(path)
            .with_context(|| format!("cannot listen on {} ({} socket)", path.display(), names.0))?;
        let ctrl = Listener::bind_unix(&ctrl_path).with_context(|| {
            data.cleanup();
            format!(
                "cannot listen on {} ({} socket)",
                ctrl_path.display(),
                names.1
            )
        })?;
        return Ok((data, ctrl));
    }
    let data_addr = SocketAddr::new(cli.bind, cli.port);
    let ctrl_addr = SocketAddr::new(cli.bind, cli.port.saturating_add(1));
    let data = Listener::bind_tcp(data_addr)
        .with_context(|| format!("cannot listen on {data_addr} ({} port)", names.0))?;
    let ctrl = Listener::bind_tcp(ctrl_addr)
        .with_context(|| format!("cannot listen on {ctrl_addr} ({} port)", names.1))?;
    Ok((data, ctrl))
}

fn install_signal_handlers(stop: std::sync::mpsc::Sender<Event>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])
        .context("cannot install signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut seen = 0u32;
            for sig in signals.forever() {
                seen = seen.saturating_add(1);
                if seen > 1 {
                    // The first signal is still being handled (a long
                    // command holds the TPM); the state file is safe since
                    // every commit is an atomic rename.
                    tracing::warn!("second signal: exiting without waiting for the TPM");
                    std::process::exit(1);
                }
                let _ = stop.send(Event::Signal(sig));
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let state_dir = match &cli.state {
        Some(d) => d.clone(),
        None => default_state_dir()?,
    };
    let mut options = options(&cli.flags);
    options.svsm = cli.svsm;
    if cli.protocol == Protocol::Mssim && options.not_need_init {
        tracing::warn!("--flags not-need-init/startup-* only apply to --protocol swtpm");
    }
    // Bind first, so that a busy port fails before anything touches the
    // state directory.
    let (data, ctrl) = bind(&cli)?;
    let device = match Device::open_with_key(
        &state_dir,
        &cli.key.spec(),
        cli.manufacture,
        options,
        cli.trace_commands.as_deref(),
    ) {
        Ok(d) => d,
        Err(e) => {
            data.cleanup();
            ctrl.cleanup();
            return Err(e);
        }
    };
    let sim = Simulator::new(device, cli.protocol, data, ctrl);
    install_signal_handlers(sim.stopper())?;
    sim.run();
    Ok(())
}

fn main() -> ExitCode {
    // `socket` (swtpm's command line) and `setup` (swtpm_setup-like).
    if let Some(code) = swtpm_cli::dispatch() {
        return code;
    }
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_max_level(tracing::Level::from(cli.log_level))
        .init();
    if let Some(Command::State(cmd)) = cli.command {
        return tool::run(cmd);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vtpm-host-sim: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
