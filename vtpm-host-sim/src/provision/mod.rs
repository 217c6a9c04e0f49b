//! `vtpm-host-sim setup`: provisioning like swtpm_setup, in-process on a
//! state directory (the same sealed storage the simulator uses):
//!
//! * manufacture a new TPM (refusing to replace an existing one unless
//!   `--overwrite`; `--not-overwrite` leaves it and succeeds);
//! * create the endorsement keys from the TCG templates L-1 (RSA 2048) and
//!   L-2 (ECC P-256), and with `--createek`/`--persist-ek` make them
//!   persistent (RSA at 0x81010001, P-256 at 0x8101000A, swtpm's handle);
//! * with `--create-ek-cert`, certify them with a local CA (given as PEM
//!   with `--ca-key`/`--ca-cert`, or kept in `--ca-dir`, created there if
//!   missing) and store the DER certificates at the TCG NV indices
//!   0x01C00002 (RSA) and 0x01C0000A (ECC), defined with platform
//!   authorization and swtpm_setup's attributes (PLATFORMCREATE, AUTHREAD,
//!   OWNERREAD, PPREAD, PPWRITE, NO_DA, WRITEDEFINE), written in chunks of
//!   at most 1024 octets, write-locked with `--lock-nvram`;
//! * with `--create-platform-cert`, a platform certificate at 0x01C08000;
//! * with `--pcr-banks`, TPM2_PCR_Allocate (active from the next start);
//! * end with TPM2_Shutdown(SU_CLEAR).
//!
//! Option names follow swtpm_setup where it has one.

mod cert;
mod tpm;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _};
use clap::Parser;

use crate::device::{Device, Options};
use crate::keys::KeySpec;

pub use cert::{Ca, PlatformInfo, TpmInfo};
pub use tpm::{EkKind, EkPublic};

/// NV index of the platform certificate.
pub const PLATFORM_CERT_INDEX: u32 = 0x01C0_8000;

/// An EK kind on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EkArg {
    /// RSA 2048 (template L-1).
    Rsa2048,
    /// ECC NIST P-256 (template L-2).
    EccP256,
}

impl From<EkArg> for EkKind {
    fn from(a: EkArg) -> EkKind {
        match a {
            EkArg::Rsa2048 => EkKind::Rsa2048,
            EkArg::EccP256 => EkKind::EccP256,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "vtpm-host-sim setup",
    version,
    about = "Manufacture a TPM state with endorsement keys and certificates (like swtpm_setup)"
)]
struct SetupArgs {
    /// The state directory (`dir://PATH` is accepted too).
    #[arg(long = "tpm-state", visible_alias = "tpmstate", value_name = "DIR")]
    tpm_state: Option<String>,

    /// Accepted for swtpm_setup compatibility (the TPM is always a TPM 2.0).
    #[arg(long)]
    tpm2: bool,

    /// Create the EKs and make them persistent (as swtpm_setup does).
    #[arg(long)]
    createek: bool,

    /// Make the EKs persistent (RSA 0x81010001, P-256 0x8101000A).
    #[arg(long = "persist-ek")]
    persist_ek: bool,

    /// Certify the EKs and store the certificates in NV.
    #[arg(long = "create-ek-cert")]
    create_ek_cert: bool,

    /// Create a platform certificate and store it in NV (0x01C08000).
    #[arg(long = "create-platform-cert")]
    create_platform_cert: bool,

    /// Write-lock the certificate indices.
    #[arg(long = "lock-nvram")]
    lock_nvram: bool,

    /// Which EKs to create.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [EkArg::Rsa2048, EkArg::EccP256])]
    ek: Vec<EkArg>,

    /// Directory of the local CA (ca-key.pem, ca-cert.pem), created with a
    /// new ECDSA P-256 CA if empty. Default: $XDG_STATE_HOME/vtpm/localca
    /// (or ~/.local/state/vtpm/localca).
    #[arg(long = "ca-dir", value_name = "DIR", conflicts_with_all = ["ca_key", "ca_cert"])]
    ca_dir: Option<PathBuf>,

    /// The CA's private key (PEM: ECDSA P-256 or RSA).
    #[arg(long = "ca-key", value_name = "FILE", requires = "ca_cert")]
    ca_key: Option<PathBuf>,

    /// The CA's certificate (PEM).
    #[arg(long = "ca-cert", value_name = "FILE", requires = "ca_key")]
    ca_cert: Option<PathBuf>,

    /// The VM's name or id (logged; libvirt passes it).
    #[arg(long)]
    vmid: Option<String>,

    /// PCR banks to activate (sha1, sha256, sha384, sha512); default: keep
    /// all four.
    #[arg(long = "pcr-banks", value_delimiter = ',')]
    pcr_banks: Vec<String>,

    /// Replace an existing state.
    #[arg(long, conflicts_with = "not_overwrite")]
    overwrite: bool,

    /// Keep an existing state and succeed without doing anything.
    #[arg(long = "not-overwrite")]
    not_overwrite: bool,

    /// Also write the certificates (DER) into DIR.
    #[arg(long = "write-ek-cert-files", value_name = "DIR")]
    write_ek_cert_files: Option<PathBuf>,

    /// Print the EKs' public keys and the certificates written.
    #[arg(long)]
    display: bool,

    /// Log to FILE instead of standard error.
    #[arg(long, value_name = "FILE")]
    logfile: Option<PathBuf>,

    /// Platform manufacturer in the platform certificate.
    #[arg(long = "platform-manufacturer", default_value = "vtpm-host-sim")]
    platform_manufacturer: String,

    /// Platform model in the platform certificate.
    #[arg(long = "platform-model", default_value = "vtpm")]
    platform_model: String,

    /// Platform version in the platform certificate.
    #[arg(long = "platform-version", default_value = env!("CARGO_PKG_VERSION"))]
    platform_version: String,

    /// Seal the state with the 256-bit key in FILE.
    #[arg(long = "keyfile", visible_alias = "key-file", value_name = "FILE")]
    keyfile: Option<PathBuf>,

    /// Read the key from descriptor N.
    #[arg(long = "keyfile-fd", visible_alias = "key-fd", value_name = "N")]
    keyfile_fd: Option<u32>,

    /// Derive the key from the passphrase in FILE.
    #[arg(
        long = "pwdfile",
        visible_alias = "passphrase-file",
        value_name = "FILE"
    )]
    pwdfile: Option<PathBuf>,

    /// Read the passphrase from descriptor N.
    #[arg(long = "pwdfile-fd", visible_alias = "passphrase-fd", value_name = "N")]
    pwdfile_fd: Option<u32>,

    /// Accepted for swtpm_setup compatibility; only aes-256-cbc (a 256-bit
    /// key) is possible.
    #[arg(long, value_parser = ["aes-256-cbc"])]
    cipher: Option<String>,

    /// Print the supported features as JSON and exit.
    #[arg(long = "print-capabilities")]
    print_capabilities: bool,
}

impl SetupArgs {
    fn key(&self) -> anyhow::Result<KeySpec> {
        let given = [
            self.keyfile.clone().map(KeySpec::KeyFile),
            self.keyfile_fd.map(KeySpec::KeyFd),
            self.pwdfile.clone().map(KeySpec::PassphraseFile),
            self.pwdfile_fd.map(KeySpec::PassphraseFd),
        ];
        let mut it = given.into_iter().flatten();
        let spec = it.next().unwrap_or(KeySpec::Default);
        if it.next().is_some() {
            bail!("give only one of --keyfile, --keyfile-fd, --pwdfile, --pwdfile-fd");
        }
        Ok(spec)
    }
}

/// Run `setup` with the arguments after the subcommand.
pub fn main(args: &[OsString]) -> ExitCode {
    let argv = std::iter::once(OsString::from("vtpm-host-sim setup")).chain(args.iter().cloned());
    let a = match SetupArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    if a.print_capabilities {
        println!(
            "{{ \"type\": \"swtpm_setup\", \"features\": [ \"tpm-2.0\", \"cmdarg-keyfile-fd\", \
             \"cmdarg-pwdfile-fd\", \"cmdarg-write-ek-cert-files\" ], \"version\": \"{}\" }}",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    if let Err(e) = init_logging(a.logfile.as_deref()) {
        eprintln!("vtpm-host-sim setup: {e:#}");
        return ExitCode::FAILURE;
    }
    match run(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("vtpm-host-sim setup: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(file: Option<&Path>) -> anyhow::Result<()> {
    let b = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false);
    match file {
        Some(p) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open the log file {}", p.display()))?;
            b.with_writer(std::sync::Mutex::new(f)).init();
        }
        None => b.with_writer(std::io::stderr).init(),
    }
    Ok(())
}

/// Is there a TPM state in `dir`?
fn has_state(dir: &Path) -> bool {
    [
        crate::store::SLOT_A_FILE,
        crate::store::SLOT_B_FILE,
        crate::store::LEGACY_FILE,
    ]
    .iter()
    .any(|f| dir.join(f).exists())
}

fn default_ca_dir() -> anyhow::Result<PathBuf> {
    let non_empty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = non_empty("XDG_STATE_HOME") {
        return Ok(d.join("vtpm/localca"));
    }
    if let Some(h) = non_empty("HOME") {
        return Ok(h.join(".local/state/vtpm/localca"));
    }
    bail!("neither XDG_STATE_HOME nor HOME is set: give --ca-dir")
}

/// The TPM identity certificates name (what GetCapability reports).
fn tpm_info() -> TpmInfo {
    let id = crate::swtpm::identity();
    TpmInfo {
        manufacturer: format!("id:{:08X}", id.manufacturer),
        model: "vtpm".into(),
        version: format!("id:{:08X}", id.firmware1),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn run(a: &SetupArgs) -> anyhow::Result<()> {
    let dir = match a.tpm_state.as_deref() {
        None => bail!("give the state directory with --tpm-state DIR"),
        Some(s) if s.starts_with("file://") => {
            bail!("--tpm-state {s}: only directories (dir://PATH or PATH) are supported")
        }
        Some(s) => PathBuf::from(s.strip_prefix("dir://").unwrap_or(s)),
    };
    let spec = a.key()?;
    let mut banks = Vec::new();
    for b in &a.pcr_banks {
        banks.push(tpm::hash_alg(b).ok_or_else(|| {
            anyhow!("--pcr-banks: unknown bank '{b}' (sha1, sha256, sha384, sha512)")
        })?);
    }
    if has_state(&dir) {
        if a.not_overwrite {
            println!(
                "A TPM state exists in {}; --not-overwrite: leaving it as it is.",
                dir.display()
            );
            return Ok(());
        }
        if !a.overwrite {
            bail!(
                "a TPM state exists in {}: give --overwrite to replace it (its keys and NV \
                 data are lost) or --not-overwrite to keep it",
                dir.display()
            );
        }
    }
    if let Some(v) = &a.vmid {
        tracing::info!("provisioning the TPM of {v}");
    }
    let want_ek =
        a.createek || a.persist_ek || a.create_ek_cert || a.create_platform_cert || a.display;
    let persist = a.createek || a.persist_ek;
    let mut kinds: Vec<EkKind> = Vec::new();
    for k in &a.ek {
        let k = EkKind::from(*k);
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    // Load the CA first: a bad CA must not leave a half-provisioned TPM.
    let ca = if a.create_ek_cert || a.create_platform_cert {
        Some(match (&a.ca_key, &a.ca_cert) {
            (Some(k), Some(c)) => Ca::load(k, c)?,
            _ => {
                let d = match &a.ca_dir {
                    Some(d) => d.clone(),
                    None => default_ca_dir()?,
                };
                Ca::open_or_create(&d)?
            }
        })
    } else {
        None
    };

    let mut d = Device::open_with_key(&dir, &spec, true, Options::default(), None)?;
    d.tpm.power_on();
    tpm::startup_clear(&mut d)?;
    println!("Manufactured a new TPM in {}.", dir.display());

    let mut eks: Vec<(EkKind, EkPublic)> = Vec::new();
    if want_ek {
        for &kind in &kinds {
            let (handle, key) = tpm::create_ek(&mut d, kind)?;
            if persist {
                tpm::evict_control(&mut d, handle, kind.persistent_handle())?;
                println!(
                    "EK {} persisted at 0x{:08x}.",
                    kind.name(),
                    kind.persistent_handle()
                );
            }
            tpm::flush(&mut d, handle)?;
            if a.display {
                match &key {
                    EkPublic::Rsa { modulus } => {
                        println!("EK {} modulus: {}", kind.name(), hex(modulus))
                    }
                    EkPublic::EccP256 { x, y } => {
                        println!("EK {} x: {} y: {}", kind.name(), hex(x), hex(y))
                    }
                }
            }
            eks.push((kind, key));
        }
    }

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let attrs = tpm::nv::CERT_ATTRIBUTES;
    if let Some(ca) = &ca {
        let info = tpm_info();
        if a.create_ek_cert {
            for (kind, key) in &eks {
                let der = cert::ek_certificate(ca, key, &info)?;
                let index = kind.cert_index();
                tpm::nv_store(&mut d, index, attrs, &der)?;
                if a.lock_nvram {
                    tpm::nv_write_lock(&mut d, index)?;
                }
                println!(
                    "EK {} certificate ({} octets, signed by {}) stored at NV index 0x{index:08x}.",
                    kind.name(),
                    der.len(),
                    ca.cert_path.display()
                );
                files.push((format!("ek-{}.crt", kind.name()), der));
            }
        }
        if a.create_platform_cert {
            // The first EK (RSA by default) stands for the platform's TPM.
            let (_, key) = eks
                .first()
                .ok_or_else(|| anyhow!("--create-platform-cert needs an EK (--ek)"))?;
            let platform = PlatformInfo {
                manufacturer: a.platform_manufacturer.clone(),
                model: a.platform_model.clone(),
                version: a.platform_version.clone(),
            };
            let der = cert::platform_certificate(ca, key, &platform)?;
            tpm::nv_store(&mut d, PLATFORM_CERT_INDEX, attrs, &der)?;
            if a.lock_nvram {
                tpm::nv_write_lock(&mut d, PLATFORM_CERT_INDEX)?;
            }
            println!(
                "Platform certificate ({} octets) stored at NV index 0x{PLATFORM_CERT_INDEX:08x}.",
                der.len()
            );
            files.push(("platform.crt".into(), der));
        }
    }
    if !banks.is_empty() {
        tpm::pcr_allocate(&mut d, &banks)?;
        println!("PCR banks {} allocated.", a.pcr_banks.join(","));
    }
    tpm::shutdown_clear(&mut d)?;
    d.save();
    if let Some(out) = &a.write_ek_cert_files {
        crate::store::create_dir(out)?;
        for (name, der) in &files {
            crate::store::write_atomic(out, name, der, true)
                .with_context(|| format!("cannot write {}", out.join(name).display()))?;
            if a.display {
                println!("Wrote {}.", out.join(name).display());
            }
        }
    }
    println!("Successfully provisioned the TPM in {}.", dir.display());
    Ok(())
}
