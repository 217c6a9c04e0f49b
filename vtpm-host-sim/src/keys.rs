//! Where the key that seals the TPM state comes from (docs/state.md,
//! "Keys").
//!
//! * `--key-file PATH` / `--key-fd N`: a 256-bit key, 32 raw octets or 64
//!   hex digits (surrounding white space allowed around the hex form).
//! * `--passphrase-file PATH` / `--passphrase-fd N`: a passphrase stretched
//!   by Argon2id; the salt and cost parameters live in the plaintext sidecar
//!   `DIR/vtpm-kdf.json`, random per state directory.
//! * Nothing: the default key file `DIR/vtpm-key` (mode 0600), generated at
//!   the first manufacture. It sits next to the state, so it keeps nothing
//!   secret from whoever can read the directory; it is there so the format
//!   is always sealed and authenticated.
//!
//! File descriptors are read through `/proc/self/fd/N` (Linux), which needs
//! no `unsafe` and works for pipes and regular files alike.
//!
//! `rekey` writes new key material in the directory under a staged name
//! (`vtpm-key.new`, `vtpm-kdf.json.new`) before it re-seals the slots, and
//! renames it into place afterwards; a loader that finds staged material
//! tries it too, so a crash anywhere in between leaves a state that loads.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use serde::{Deserialize, Serialize};
use vtpm_core::state::blob::SealingKey;
use zeroize::{Zeroize, Zeroizing};

use crate::store::{remove_if_exists, sync_dir, write_atomic};

/// The default key file inside the state directory.
pub const KEY_FILE: &str = "vtpm-key";
/// The Argon2id parameter sidecar inside the state directory.
pub const KDF_FILE: &str = "vtpm-kdf.json";
/// Suffix of key material staged by `rekey`.
pub const STAGED_SUFFIX: &str = ".new";

/// Largest key or passphrase file read.
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Argon2id memory cost (KiB) written for new passphrase-sealed states:
/// 64 MiB, RFC 9106's second recommended option.
pub const KDF_M_COST_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const KDF_T_COST: u32 = 3;
/// Argon2id lanes.
pub const KDF_P_COST: u32 = 1;
/// Salt length written for new states.
const KDF_SALT_LEN: usize = 16;
/// Upper bounds accepted from a sidecar (which the host may have edited):
/// 4 GiB of memory, 64 passes, 16 lanes.
const KDF_MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
const KDF_MAX_T_COST: u32 = 64;
const KDF_MAX_P_COST: u32 = 16;

/// Which key source the user chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySpec {
    /// No option: the default key file `DIR/vtpm-key`.
    Default,
    /// `--key-file`.
    KeyFile(PathBuf),
    /// `--key-fd`.
    KeyFd(u32),
    /// `--passphrase-file`.
    PassphraseFile(PathBuf),
    /// `--passphrase-fd`.
    PassphraseFd(u32),
}

/// The key options of the simulator and of every state tool.
#[derive(Debug, Clone, Default, clap::Args)]
#[group(id = "key", multiple = false)]
pub struct KeyArgs {
    /// Seal the state with the 256-bit key in PATH (32 raw bytes or 64 hex
    /// digits). Without any key option the state is sealed with the key in
    /// DIR/vtpm-key, generated at the first manufacture (this protects
    /// against accidental corruption only; see docs/state.md).
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,

    /// Read the key (32 raw bytes or 64 hex digits) from the inherited file
    /// descriptor N, like swtpm's --key fd=N.
    #[arg(long, value_name = "N")]
    pub key_fd: Option<u32>,

    /// Derive the key from the passphrase in PATH (one trailing newline is
    /// ignored) with Argon2id; salt and costs are in DIR/vtpm-kdf.json.
    #[arg(long, value_name = "PATH")]
    pub passphrase_file: Option<PathBuf>,

    /// Like --passphrase-file, reading the passphrase from the inherited
    /// file descriptor N.
    #[arg(long, value_name = "N")]
    pub passphrase_fd: Option<u32>,
}

impl KeyArgs {
    /// The chosen source.
    pub fn spec(&self) -> KeySpec {
        if let Some(p) = &self.key_file {
            KeySpec::KeyFile(p.clone())
        } else if let Some(fd) = self.key_fd {
            KeySpec::KeyFd(fd)
        } else if let Some(p) = &self.passphrase_file {
            KeySpec::PassphraseFile(p.clone())
        } else if let Some(fd) = self.passphrase_fd {
            KeySpec::PassphraseFd(fd)
        } else {
            KeySpec::Default
        }
    }
}

/// What a key source yielded, read exactly once (a descriptor can only be
/// read once).
pub enum Material {
    /// Use the key material kept in the state directory.
    Default,
    /// A raw key.
    Raw {
        /// The key's octets.
        key: Zeroizing<[u8; 32]>,
        /// Where it came from, for messages.
        origin: String,
    },
    /// A passphrase, to go through the directory's Argon2id parameters.
    Passphrase {
        /// The passphrase.
        pass: Zeroizing<Vec<u8>>,
        /// Where it came from, for messages.
        origin: String,
    },
}

impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Material::Default => f.write_str("Material::Default"),
            Material::Raw { origin, .. } => write!(f, "Material::Raw(<redacted> from {origin})"),
            Material::Passphrase { origin, .. } => {
                write!(f, "Material::Passphrase(<redacted> from {origin})")
            }
        }
    }
}

/// How a key is kept, which decides what `rekey`, `manufacture` and
/// `import` write to or remove from the state directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// The default key file `DIR/vtpm-key`.
    DefaultFile,
    /// A key given from outside (`--key-file`, `--key-fd`).
    External,
    /// A passphrase with `DIR/vtpm-kdf.json`.
    Passphrase,
}

/// A sealing key with a description of where it came from.
#[derive(Debug)]
pub struct Key {
    /// The key.
    pub key: SealingKey,
    /// Where it came from ("default key file /x/vtpm-key", ...).
    pub origin: String,
    /// How it is kept.
    pub kind: KeyKind,
    /// Staged by an interrupted `rekey` (see the module docs).
    pub staged: bool,
    /// A remark to add when no slot opens with this key (e.g. "the derived
    /// key id differs from the one recorded in vtpm-kdf.json: wrong
    /// passphrase?").
    pub hint: Option<String>,
}

impl Key {
    /// The key id as lower-case hex.
    pub fn id_hex(&self) -> String {
        hex(&self.key.key_id())
    }
}

/// Read the material of `spec` (the files or descriptors it names).
pub fn read_material(spec: &KeySpec) -> anyhow::Result<Material> {
    Ok(match spec {
        KeySpec::Default => Material::Default,
        KeySpec::KeyFile(p) => {
            warn_if_readable_by_others(p);
            let origin = format!("key file {}", p.display());
            let bytes = read_secret(p).with_context(|| format!("cannot read {origin}"))?;
            Material::Raw {
                key: parse_key(&bytes).with_context(|| format!("bad {origin}"))?,
                origin,
            }
        }
        KeySpec::KeyFd(fd) => {
            let origin = format!("key file descriptor {fd}");
            let bytes =
                read_secret(&fd_path(*fd)).with_context(|| format!("cannot read {origin}"))?;
            Material::Raw {
                key: parse_key(&bytes).with_context(|| format!("bad {origin}"))?,
                origin,
            }
        }
        KeySpec::PassphraseFile(p) => {
            warn_if_readable_by_others(p);
            let origin = format!("passphrase file {}", p.display());
            let bytes = read_secret(p).with_context(|| format!("cannot read {origin}"))?;
            Material::Passphrase {
                pass: parse_passphrase(bytes).with_context(|| format!("bad {origin}"))?,
                origin,
            }
        }
        KeySpec::PassphraseFd(fd) => {
            let origin = format!("passphrase file descriptor {fd}");
            let bytes =
                read_secret(&fd_path(*fd)).with_context(|| format!("cannot read {origin}"))?;
            Material::Passphrase {
                pass: parse_passphrase(bytes).with_context(|| format!("bad {origin}"))?,
                origin,
            }
        }
    })
}

fn fd_path(fd: u32) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{fd}"))
}

fn warn_if_readable_by_others(p: &Path) {
    if let Ok(m) = fs::metadata(p) {
        if m.permissions().mode() & 0o077 != 0 {
            tracing::warn!(
                "{} is accessible by other users (mode {:o}); chmod 600 it",
                p.display(),
                m.permissions().mode() & 0o777
            );
        }
    }
}

/// Read at most [`MAX_SECRET_FILE`] octets into a zeroizing buffer.
fn read_secret(p: &Path) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    let f = fs::File::open(p)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(256));
    f.take(MAX_SECRET_FILE.saturating_add(1))
        .read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_SECRET_FILE {
        bail!("longer than {MAX_SECRET_FILE} bytes");
    }
    Ok(buf)
}

/// A key file: exactly 32 raw octets, or 64 hex digits with optional
/// white space around them.
pub fn parse_key(bytes: &[u8]) -> anyhow::Result<Zeroizing<[u8; 32]>> {
    let mut out = Zeroizing::new([0u8; 32]);
    if let Ok(arr) = <&[u8; 32]>::try_from(bytes) {
        out.copy_from_slice(arr);
        return Ok(out);
    }
    let text = bytes.trim_ascii();
    if text.len() == 2 * SealingKey::LEN {
        if let Some(mut raw) = unhex(text) {
            let ok = raw.len() == out.len();
            if ok {
                out.copy_from_slice(&raw);
            }
            raw.zeroize();
            if ok {
                return Ok(out);
            }
        }
    }
    bail!(
        "a key must be exactly 32 raw bytes or 64 hex digits (found {} bytes)",
        bytes.len()
    )
}

fn parse_passphrase(mut bytes: Zeroizing<Vec<u8>>) -> anyhow::Result<Zeroizing<Vec<u8>>> {
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    if bytes.is_empty() {
        bail!("the passphrase is empty");
    }
    Ok(bytes)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parse hex digits (either case); `None` unless every pair is hex.
pub fn unhex(text: &[u8]) -> Option<Vec<u8>> {
    let pairs = text.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    let nib = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    pairs
        .map(|p| match p {
            [h, l] => Some(nib(*h)? << 4 | nib(*l)?),
            _ => None,
        })
        .collect()
}

/// The Argon2id sidecar `DIR/vtpm-kdf.json`. Not secret; not
/// authenticated either: a changed sidecar derives another key, which then
/// opens nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Always "argon2id".
    pub kdf: String,
    /// Argon2 version, 19 (0x13).
    pub version: u32,
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
    /// Salt, hex.
    pub salt: String,
    /// Key id of the derived key, hex: tells "wrong passphrase" apart from
    /// "damaged state".
    pub key_id: String,
}

impl KdfParams {
    fn fresh() -> anyhow::Result<(KdfParams, [u8; KDF_SALT_LEN])> {
        let mut salt = [0u8; KDF_SALT_LEN];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("getrandom failed: {e}"))?;
        Ok((
            KdfParams {
                kdf: "argon2id".into(),
                version: 0x13,
                m_cost_kib: KDF_M_COST_KIB,
                t_cost: KDF_T_COST,
                p_cost: KDF_P_COST,
                salt: hex(&salt),
                key_id: String::new(),
            },
            salt,
        ))
    }

    fn check(&self) -> anyhow::Result<Vec<u8>> {
        if self.kdf != "argon2id" || self.version != 0x13 {
            bail!(
                "unsupported KDF {:?} version {} (this release knows argon2id version 19)",
                self.kdf,
                self.version
            );
        }
        if !(1..=KDF_MAX_T_COST).contains(&self.t_cost)
            || !(1..=KDF_MAX_P_COST).contains(&self.p_cost)
            || self.m_cost_kib > KDF_MAX_M_COST_KIB
            || self.m_cost_kib < self.p_cost.saturating_mul(8)
        {
            bail!(
                "Argon2id costs out of range (m_cost_kib {}, t_cost {}, p_cost {})",
                self.m_cost_kib,
                self.t_cost,
                self.p_cost
            );
        }
        let salt = unhex(self.salt.as_bytes()).unwrap_or_default();
        if !(8..=64).contains(&salt.len()) {
            bail!("the salt must be 8 to 64 bytes of hex");
        }
        Ok(salt)
    }

    /// Derive the sealing key from `pass`.
    pub fn derive(&self, pass: &[u8]) -> anyhow::Result<SealingKey> {
        let salt = self.check()?;
        let params = argon2::Params::new(
            self.m_cost_kib,
            self.t_cost,
            self.p_cost,
            Some(SealingKey::LEN),
        )
        .map_err(|e| anyhow::anyhow!("bad Argon2id parameters: {e}"))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        a.hash_password_into(pass, &salt, out.as_mut_slice())
            .map_err(|e| anyhow::anyhow!("Argon2id failed: {e}"))?;
        Ok(SealingKey::new(*out))
    }

    fn load(path: &Path) -> anyhow::Result<Option<KdfParams>> {
        let text = match fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let p: KdfParams = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a valid KDF parameter file", path.display()))?;
        p.check()
            .with_context(|| format!("{} is not usable", path.display()))?;
        Ok(Some(p))
    }

    fn store(&self, dir: &Path, name: &str) -> anyhow::Result<()> {
        let mut text = serde_json::to_vec_pretty(self)?;
        text.push(b'\n');
        write_atomic(dir, name, &text, true)
            .with_context(|| format!("cannot write {}", dir.join(name).display()))
    }
}

fn staged(name: &str) -> String {
    format!("{name}{STAGED_SUFFIX}")
}

fn read_key_file(path: &Path) -> anyhow::Result<Option<SealingKey>> {
    match read_secret(path) {
        Ok(bytes) => parse_key(&bytes)
            .map(|k| Some(SealingKey::new(*k)))
            .with_context(|| format!("bad key file {}", path.display())),
        Err(e) => match e.downcast_ref::<io::Error>() {
            Some(io) if io.kind() == io::ErrorKind::NotFound => Ok(None),
            _ => Err(e).with_context(|| format!("cannot read key file {}", path.display())),
        },
    }
}

fn default_key(dir: &Path, name: &str, staged: bool) -> anyhow::Result<Option<Key>> {
    let path = dir.join(name);
    Ok(read_key_file(&path)?.map(|key| Key {
        key,
        origin: format!("default key file {}", path.display()),
        kind: KeyKind::DefaultFile,
        staged,
        hint: None,
    }))
}

fn passphrase_key(
    dir: &Path,
    name: &str,
    pass: &[u8],
    origin: &str,
    staged: bool,
) -> anyhow::Result<Option<Key>> {
    let path = dir.join(name);
    let Some(params) = KdfParams::load(&path)? else {
        return Ok(None);
    };
    let key = params.derive(pass)?;
    let id = hex(&key.key_id());
    let hint = (!params.key_id.is_empty() && params.key_id != id).then(|| {
        format!(
            "the {origin} derives key id {id}, but {} records key id {}: wrong passphrase?",
            path.display(),
            params.key_id
        )
    });
    Ok(Some(Key {
        key,
        origin: format!("{origin} with {}", path.display()),
        kind: KeyKind::Passphrase,
        staged,
        hint,
    }))
}

/// The keys to try on an existing state, in order: the current one, then
/// one staged by an interrupted `rekey`. Errs when there is none.
pub fn existing(dir: &Path, material: &Material) -> anyhow::Result<Vec<Key>> {
    let mut keys = Vec::new();
    match material {
        Material::Raw { key, origin } => keys.push(Key {
            key: SealingKey::new(**key),
            origin: origin.clone(),
            kind: KeyKind::External,
            staged: false,
            hint: None,
        }),
        Material::Default => {
            keys.extend(default_key(dir, KEY_FILE, false)?);
            keys.extend(default_key(dir, &staged(KEY_FILE), true)?);
            if keys.is_empty() {
                if dir.join(KDF_FILE).exists() {
                    bail!(
                        "this state is sealed under a passphrase ({} exists): give it with \
                         --passphrase-file or --passphrase-fd",
                        dir.join(KDF_FILE).display()
                    );
                }
                bail!(
                    "no key option was given and the default key file {} does not exist: \
                     give the state's key with --key-file, --key-fd, --passphrase-file or \
                     --passphrase-fd",
                    dir.join(KEY_FILE).display()
                );
            }
        }
        Material::Passphrase { pass, origin } => {
            keys.extend(passphrase_key(dir, KDF_FILE, pass, origin, false)?);
            keys.extend(passphrase_key(dir, &staged(KDF_FILE), pass, origin, true)?);
            if keys.is_empty() {
                bail!(
                    "a passphrase was given but {} does not exist: this state was not sealed \
                     under a passphrase (use the key it was sealed with, then `rekey` to \
                     switch to a passphrase)",
                    dir.join(KDF_FILE).display()
                );
            }
        }
    }
    Ok(keys)
}

/// The key for a state that is being created (first manufacture,
/// migration, `--manufacture`, `import`): the default key file is reused
/// when it holds a valid key and generated otherwise; a passphrase gets a
/// fresh salt in a new sidecar. Material is written durably before the
/// caller seals anything with it.
pub fn create(dir: &Path, material: &Material) -> anyhow::Result<Key> {
    create_as(dir, material, false)
}

/// Like [`create`] for `rekey`: directory material goes to the staged
/// names, and a default key is always new. [`finish`] puts it in place.
pub fn stage(dir: &Path, material: &Material) -> anyhow::Result<Key> {
    create_as(dir, material, true)
}

fn create_as(dir: &Path, material: &Material, staging: bool) -> anyhow::Result<Key> {
    match material {
        Material::Raw { key, origin } => Ok(Key {
            key: SealingKey::new(**key),
            origin: origin.clone(),
            kind: KeyKind::External,
            staged: false,
            hint: None,
        }),
        Material::Default => {
            let name = if staging {
                staged(KEY_FILE)
            } else {
                KEY_FILE.to_string()
            };
            if !staging {
                match default_key(dir, KEY_FILE, false) {
                    Ok(Some(k)) => return Ok(k),
                    Ok(None) => {}
                    Err(e) => tracing::warn!("replacing the unusable default key file: {e:#}"),
                }
            }
            let mut raw = Zeroizing::new([0u8; 32]);
            getrandom::fill(raw.as_mut_slice())
                .map_err(|e| anyhow::anyhow!("getrandom failed: {e}"))?;
            let mut text = Zeroizing::new(hex(raw.as_slice()).into_bytes());
            text.push(b'\n');
            write_atomic(dir, &name, &text, true)
                .with_context(|| format!("cannot write {}", dir.join(&name).display()))?;
            Ok(Key {
                key: SealingKey::new(*raw),
                origin: format!("default key file {}", dir.join(KEY_FILE).display()),
                kind: KeyKind::DefaultFile,
                staged: staging,
                hint: None,
            })
        }
        Material::Passphrase { pass, origin } => {
            let name = if staging {
                staged(KDF_FILE)
            } else {
                KDF_FILE.to_string()
            };
            let (mut params, _) = KdfParams::fresh()?;
            let key = params.derive(pass)?;
            params.key_id = hex(&key.key_id());
            params.store(dir, &name)?;
            Ok(Key {
                key,
                origin: format!("{origin} with {}", dir.join(KDF_FILE).display()),
                kind: KeyKind::Passphrase,
                staged: staging,
                hint: None,
            })
        }
    }
}

/// After both slots are sealed under a key of `kind`: with `install`
/// (`rekey`), move staged material into place; without it, discard any
/// staged material. Then remove directory key material that no longer
/// belongs to the state. Returns what was changed, for messages.
pub fn finish(dir: &Path, kind: KeyKind, install: bool) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    let (keep, drop_names): (Option<&str>, &[&str]) = match kind {
        KeyKind::DefaultFile => (Some(KEY_FILE), &[KDF_FILE]),
        KeyKind::Passphrase => (Some(KDF_FILE), &[KEY_FILE]),
        KeyKind::External => (None, &[KEY_FILE, KDF_FILE]),
    };
    match keep {
        Some(name) if install => {
            let from = dir.join(staged(name));
            if from.exists() {
                fs::rename(&from, dir.join(name))
                    .with_context(|| format!("cannot rename {}", from.display()))?;
                done.push(format!("installed {}", dir.join(name).display()));
            }
        }
        _ => discard_staged(dir)?,
    }
    for name in drop_names {
        for n in [name.to_string(), staged(name)] {
            if remove_if_exists(&dir.join(&n))? {
                done.push(format!(
                    "removed {} (no longer used)",
                    dir.join(&n).display()
                ));
            }
        }
    }
    sync_dir(dir).with_context(|| format!("cannot sync {}", dir.display()))?;
    Ok(done)
}

/// Remove staged key material left by a `rekey` that stopped before it
/// sealed anything with it (the current key still opens the state).
pub fn discard_staged(dir: &Path) -> anyhow::Result<()> {
    for name in [staged(KEY_FILE), staged(KDF_FILE)] {
        if remove_if_exists(&dir.join(&name))? {
            tracing::warn!(
                "removed {}, left by an interrupted rekey that had not re-sealed the state yet",
                dir.join(&name).display()
            );
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn key_file_formats() {
        let raw = [7u8; 32];
        assert_eq!(*parse_key(&raw).unwrap(), raw);
        let h = format!("  {}\n", hex(&raw));
        assert_eq!(*parse_key(h.as_bytes()).unwrap(), raw);
        assert_eq!(
            *parse_key(hex(&raw).to_uppercase().as_bytes()).unwrap(),
            raw
        );
        for bad in [&b"short"[..], &[0u8; 33][..], &[b'g'; 64][..], b""] {
            let e = parse_key(bad).unwrap_err().to_string();
            assert!(e.contains("32 raw bytes or 64 hex digits"), "{e}");
        }
    }

    #[test]
    fn passphrase_newline_and_empty() {
        let p = parse_passphrase(Zeroizing::new(b"pw\r\n".to_vec())).unwrap();
        assert_eq!(p.as_slice(), b"pw");
        let p = parse_passphrase(Zeroizing::new(b"pw\n\n".to_vec())).unwrap();
        assert_eq!(p.as_slice(), b"pw\n");
        assert!(parse_passphrase(Zeroizing::new(b"\n".to_vec())).is_err());
    }

    #[test]
    fn kdf_is_deterministic_and_bounded() {
        let mut p = KdfParams::fresh().unwrap().0;
        p.m_cost_kib = 64;
        p.t_cost = 1;
        let a = p.derive(b"pw").unwrap();
        assert_eq!(a.key_id(), p.derive(b"pw").unwrap().key_id());
        assert_ne!(a.key_id(), p.derive(b"pw2").unwrap().key_id());
        let mut q = p.clone();
        q.salt = hex(&[1u8; 16]);
        assert_ne!(a.key_id(), q.derive(b"pw").unwrap().key_id());
        q.m_cost_kib = KDF_MAX_M_COST_KIB + 1;
        assert!(q.derive(b"pw").is_err());
        q.m_cost_kib = 64;
        q.kdf = "scrypt".into();
        assert!(q.derive(b"pw").is_err());
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(unhex(b"00ff10Ab").unwrap(), vec![0, 255, 16, 171]);
        assert!(unhex(b"0").is_none());
        assert!(unhex(b"zz").is_none());
    }
}
