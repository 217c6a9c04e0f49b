//! The state tools: `manufacture`, `show`, `export`, `import`, `rekey` and
//! `verify` (docs/state.md, "Tools"). They work on a state directory
//! offline; the ones that write take the directory's lock, so they refuse
//! to run while a simulator uses it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context as _};
use vtpm_core::state::blob::{self, seal, SealingKey, NONCE_LEN};
use vtpm_core::state::slots::{Chosen, Position, Slot};
use vtpm_core::state::{Orderly, PersistentState, Policy};

use crate::keys::{self, Key, KeyArgs, KeySpec, Material};
use crate::platform::{self, describe_slot, manufacture_in, Manufactured, REFUSAL_ADVICE};
use crate::store::{
    self, slot_file, write_atomic, DirLock, Remembered, Slots, Store, GENERATION_FILE, LEGACY_FILE,
};

/// The state subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Manufacture a new TPM in DIR, offline (new seeds, empty NV). Existing
    /// state is only replaced with --force, and the command says what it
    /// replaced.
    Manufacture(ManufactureArgs),
    /// Show what the state holds, without secrets: slots, generations,
    /// schema, persistent objects, NV indices, DA counters, clock, PCR
    /// allocation, reset counts.
    Show(StateArgs),
    /// Write the newest state to FILE as one portable sealed blob,
    /// optionally re-sealed under another key (to move the TPM to another
    /// machine or to an SVSM).
    Export(ExportArgs),
    /// Replace the state in DIR by the sealed blob in FILE (from `export`),
    /// sealed under DIR's key.
    Import(ImportArgs),
    /// Re-seal both slots under a new key; crash-safe.
    Rekey(RekeyArgs),
    /// Check both slots and report a verdict for each; exit status 0 if
    /// and only if a valid state loads.
    Verify(StateArgs),
}

/// A state directory and its key.
#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// The state directory.
    #[arg(long, value_name = "DIR")]
    pub state: PathBuf,
    #[command(flatten)]
    pub key: KeyArgs,
}

/// `manufacture`.
#[derive(Debug, clap::Args)]
pub struct ManufactureArgs {
    #[command(flatten)]
    pub dir: StateArgs,
    /// Replace an existing state (this destroys its keys and NV data).
    #[arg(long)]
    pub force: bool,
}

/// `export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub dir: StateArgs,
    /// The file to write (mode 0600, replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub out_key: OutKeyArgs,
}

/// The key an export is sealed under (default: the state's own key).
#[derive(Debug, Clone, Default, clap::Args)]
#[group(id = "out_key", multiple = false)]
pub struct OutKeyArgs {
    /// Seal the exported blob under the key in PATH (32 raw bytes or 64 hex
    /// digits) instead of the state's key.
    #[arg(long, value_name = "PATH")]
    pub out_key_file: Option<PathBuf>,
    /// Like --out-key-file, reading the key from file descriptor N.
    #[arg(long, value_name = "N")]
    pub out_key_fd: Option<u32>,
}

/// `import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub dir: StateArgs,
    /// The sealed blob to import.
    #[arg(long = "in", value_name = "FILE")]
    pub input: PathBuf,
    #[command(flatten)]
    pub in_key: InKeyArgs,
    /// Replace an existing state (this destroys its keys and NV data).
    #[arg(long)]
    pub force: bool,
}

/// The key the imported blob is sealed under (default: the state's key).
#[derive(Debug, Clone, Default, clap::Args)]
#[group(id = "in_key", multiple = false)]
pub struct InKeyArgs {
    /// The key FILE is sealed under (32 raw bytes or 64 hex digits).
    #[arg(long, value_name = "PATH")]
    pub in_key_file: Option<PathBuf>,
    /// Like --in-key-file, reading the key from file descriptor N.
    #[arg(long, value_name = "N")]
    pub in_key_fd: Option<u32>,
}

/// `rekey`.
#[derive(Debug, clap::Args)]
pub struct RekeyArgs {
    #[command(flatten)]
    pub dir: StateArgs,
    #[command(flatten)]
    pub new_key: NewKeyArgs,
}

/// The new key of `rekey` (exactly one).
#[derive(Debug, Clone, Default, clap::Args)]
#[group(id = "new_key", multiple = false, required = true)]
pub struct NewKeyArgs {
    /// Re-seal under the key in PATH (32 raw bytes or 64 hex digits).
    #[arg(long, value_name = "PATH")]
    pub new_key_file: Option<PathBuf>,
    /// Re-seal under the key read from file descriptor N.
    #[arg(long, value_name = "N")]
    pub new_key_fd: Option<u32>,
    /// Re-seal under a key derived from the passphrase in PATH (new salt).
    #[arg(long, value_name = "PATH")]
    pub new_passphrase_file: Option<PathBuf>,
    /// Re-seal under a key derived from the passphrase read from file
    /// descriptor N.
    #[arg(long, value_name = "N")]
    pub new_passphrase_fd: Option<u32>,
    /// Re-seal under a new random key kept in DIR/vtpm-key.
    #[arg(long)]
    pub new_default_key: bool,
}

impl NewKeyArgs {
    fn spec(&self) -> KeySpec {
        if let Some(p) = &self.new_key_file {
            KeySpec::KeyFile(p.clone())
        } else if let Some(fd) = self.new_key_fd {
            KeySpec::KeyFd(fd)
        } else if let Some(p) = &self.new_passphrase_file {
            KeySpec::PassphraseFile(p.clone())
        } else if let Some(fd) = self.new_passphrase_fd {
            KeySpec::PassphraseFd(fd)
        } else {
            KeySpec::Default
        }
    }
}

/// Run a state subcommand.
pub fn run(cmd: Command) -> ExitCode {
    let result = match cmd {
        Command::Manufacture(a) => manufacture(&a),
        Command::Show(a) => inspect(&a, true),
        Command::Export(a) => export(&a),
        Command::Import(a) => import(&a),
        Command::Rekey(a) => rekey(&a),
        Command::Verify(a) => inspect(&a, false),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vtpm-host-sim: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn raw_key(spec: &KeySpec) -> anyhow::Result<Option<(SealingKey, String)>> {
    match keys::read_material(spec)? {
        Material::Raw { key, origin } => Ok(Some((SealingKey::new(*key), origin))),
        _ => Ok(None),
    }
}

/// Refuse to touch a directory that holds a state, unless forced.
fn check_replace(dir: &Path, slots: &Slots, force: bool, what: &str) -> anyhow::Result<()> {
    let legacy = dir.join(LEGACY_FILE).exists();
    if (slots.is_empty() && !legacy) || force {
        return Ok(());
    }
    let mut held = Vec::new();
    for s in [Slot::A, Slot::B] {
        if let Some(b) = slots.get(s) {
            held.push(format!("slot {s}: {}", describe_slot(b)));
        }
    }
    if legacy {
        held.push(format!("unsealed {LEGACY_FILE}"));
    }
    bail!(
        "{} already holds a TPM state ({}); {what} --force replaces it (this destroys its \
         keys and NV data)",
        dir.display(),
        held.join(", ")
    )
}

fn manufacture(a: &ManufactureArgs) -> anyhow::Result<()> {
    let dir = &a.dir.state;
    let material = keys::read_material(&a.dir.key.spec())?;
    store::create_dir(dir)?;
    let lock = DirLock::take(dir)?;
    let remembered = platform::remembered(dir);
    let slots = Slots::read(dir)?;
    check_replace(dir, &slots, a.force, "manufacture")?;
    let legacy = dir.join(LEGACY_FILE).exists();
    let Manufactured { tpm, replaced, key } = manufacture_in(
        dir,
        &material,
        crate::device::host_config(),
        lock,
        &slots,
        remembered,
        legacy,
    )?;
    let newest = tpm.platform().newest();
    println!("manufactured a new TPM in {}", dir.display());
    if let Some(p) = newest {
        println!(
            "  generation {} (slot {}) and {} (slot {})",
            p.generation.saturating_sub(1),
            p.slot.other(),
            p.generation,
            p.slot
        );
    }
    println!("  key: {key}");
    for r in &replaced {
        println!("  replaced {r}");
    }
    Ok(())
}

/// A read-only look at a state directory.
struct Inspection {
    slots: Slots,
    remembered: Remembered,
    keys: Result<Vec<Key>, String>,
    opened: Result<(Chosen, usize), String>,
}

impl Inspection {
    fn new(dir: &Path, spec: &KeySpec) -> anyhow::Result<Inspection> {
        if !dir.is_dir() {
            bail!("{} is not a directory", dir.display());
        }
        let material = keys::read_material(spec)?;
        // The generation file first, then the slots: a simulator committing
        // meanwhile only makes the slots newer than what was remembered.
        let remembered = Remembered::read(dir);
        let slots = Slots::read(dir)?;
        let keys = keys::existing(dir, &material).map_err(|e| format!("{e:#}"));
        let opened = match &keys {
            Err(e) => Err(e.clone()),
            Ok(k) => {
                store::open_with(&slots, k, remembered.generation()).map_err(|e| e.to_string())
            }
        };
        Ok(Inspection {
            slots,
            remembered,
            keys,
            opened,
        })
    }

    fn key(&self) -> Option<&Key> {
        let i = self.opened.as_ref().map(|(_, i)| *i).unwrap_or(0);
        self.keys.as_ref().ok()?.get(i)
    }
}

fn inspect(a: &StateArgs, show: bool) -> anyhow::Result<()> {
    let dir = &a.state;
    let ins = Inspection::new(dir, &a.key.spec())?;
    println!("state directory: {}", dir.display());
    match (&ins.keys, ins.key()) {
        (_, Some(k)) => println!(
            "key: {} (key id {}){}",
            k.origin,
            k.id_hex(),
            if k.staged {
                " [staged by an interrupted rekey; the next start completes it]"
            } else {
                ""
            }
        ),
        (Err(e), _) => println!("key: unavailable: {e}"),
        _ => println!("key: unavailable"),
    }
    for s in [Slot::A, Slot::B] {
        let verdict = match ins.key() {
            Some(k) => store::slot_verdict(ins.slots.get(s), &k.key),
            None => match ins.slots.get(s) {
                None => "absent".into(),
                Some(b) => format!("present, {} ({} bytes)", describe_slot(b), b.len()),
            },
        };
        println!("slot {s} ({}): {verdict}", slot_file(s));
    }
    match &ins.remembered {
        Remembered::Absent => println!("generation file ({GENERATION_FILE}): absent"),
        Remembered::Generation(g) => println!("generation file ({GENERATION_FILE}): {g}"),
        Remembered::Unreadable(why) => {
            println!("generation file ({GENERATION_FILE}): unreadable, ignored: {why}")
        }
    }
    let legacy_path = dir.join(LEGACY_FILE);
    let state = match &ins.opened {
        Ok((c, _)) => match PersistentState::from_bytes(c.plaintext.as_slice()) {
            Ok(p) => {
                let schema = schema_version(c.plaintext.as_slice());
                let mut note = String::new();
                if let vtpm_core::state::slots::SlotReport::Invalid(e) = &c.other {
                    note = format!(" (slot {} ignored: {e})", c.slot.other());
                }
                println!(
                    "verdict: OK: generation {} from slot {} loads (schema version {schema}){note}",
                    c.generation(),
                    c.slot
                );
                Ok((p, schema))
            }
            Err(e) => Err(format!(
                "slot {} (generation {}) is authentic, but its contents cannot be loaded: {e}",
                c.slot,
                c.generation()
            )),
        },
        Err(_) if ins.slots.is_empty() && legacy_path.exists() => {
            let bytes = store::read_blob_file(&legacy_path)?.unwrap_or_default();
            match PersistentState::from_bytes(&bytes) {
                Ok(p) => {
                    let schema = schema_version(&bytes);
                    println!(
                        "verdict: OK: no sealed state yet; the unsealed {LEGACY_FILE} of an \
                         earlier release (schema version {schema}) loads and is migrated at \
                         the next start"
                    );
                    Ok((p, schema))
                }
                Err(e) => Err(format!("{} cannot be loaded: {e}", legacy_path.display())),
            }
        }
        Err(_) if ins.slots.is_empty() && ins.remembered.generation().is_none() => Err(format!(
            "no TPM state in {} (the next start manufactures a new TPM)",
            dir.display()
        )),
        Err(e) => Err(e.clone()),
    };
    let (p, schema) = match state {
        Ok(s) => s,
        Err(e) => {
            println!("verdict: FAILED: {e}");
            return Err(anyhow!("{e}"));
        }
    };
    if show {
        print_state(&p, schema);
    }
    Ok(())
}

fn schema_version(plaintext: &[u8]) -> u16 {
    plaintext
        .first_chunk::<2>()
        .map(|b| u16::from_be_bytes(*b))
        .unwrap_or(0)
}

fn auth(v: &[u8]) -> &'static str {
    if v.is_empty() {
        "empty"
    } else {
        "set"
    }
}

fn policy(p: &Policy) -> String {
    if p.digest.is_empty() {
        "none".into()
    } else {
        format!("set (alg 0x{:04x})", p.alg)
    }
}

fn print_state(p: &PersistentState, schema: u16) {
    println!("schema version: {schema}");
    println!(
        "clock: {} ms; reset count {}, restart count {}, total resets since manufacture {}",
        p.clock, p.reset_count, p.restart_count, p.total_reset_count
    );
    let orderly = match p.orderly {
        Orderly::None => "not orderly",
        Orderly::Clear => "Shutdown(CLEAR)",
        Orderly::State => "Shutdown(STATE)",
        Orderly::DaUsed => "not orderly (a DA-protected authValue was used since Startup)",
    };
    println!(
        "last shutdown: {orderly}{}",
        if p.saved.is_some() {
            ", saved state present"
        } else {
            ""
        }
    );
    let banks: Vec<String> = p
        .pcr_allocation
        .iter()
        .map(|a| format!("{a:?}").to_lowercase())
        .collect();
    println!("PCR allocation: {}", banks.join(", "));
    println!(
        "dictionary attack: failed tries {} of max {}, recovery time {} s, lockout recovery \
         {} s, lockout auth {}",
        p.failed_tries,
        p.max_tries,
        p.recovery_time,
        p.lockout_recovery,
        if p.lockout_auth_disabled {
            "disabled until lockout recovery"
        } else {
            "usable"
        }
    );
    println!(
        "hierarchies: owner auth {}, policy {}; endorsement auth {}, policy {}; lockout auth \
         {}, policy {}; disableClear {}",
        auth(&p.owner_auth),
        policy(&p.owner_policy),
        auth(&p.endorsement_auth),
        policy(&p.endorsement_policy),
        auth(&p.lockout_auth),
        policy(&p.lockout_policy),
        p.disable_clear
    );
    println!(
        "command audit: alg 0x{:04x}, {} audited command(s), audit counter {}",
        p.audit_alg,
        p.audited.len(),
        p.audit_counter
    );
    println!("persistent objects: {}", p.persistent.len());
    for o in &p.persistent {
        println!(
            "  0x{:08x}  type 0x{:04x}  attributes 0x{:08x}  hierarchy 0x{:08x}",
            o.evict_handle.map(|h| h.0).unwrap_or(0),
            o.public.type_alg().0,
            o.public.attributes,
            o.hierarchy.0
        );
    }
    let total: usize = p.nv.iter().map(|i| usize::from(i.data_size)).sum();
    println!("NV indices: {} ({total} bytes of data)", p.nv.len());
    for i in &p.nv {
        println!(
            "  0x{:08x}  attributes 0x{:08x}  size {}  name alg {}",
            i.handle.0,
            i.attributes,
            i.data_size,
            format!("{:?}", i.name_alg).to_lowercase()
        );
    }
    println!("NV counter high water: {}", p.nv_counter_high_water);
}

/// Load the newest state read-only, or fail with the reason.
fn load_readonly(dir: &Path, spec: &KeySpec) -> anyhow::Result<Inspection> {
    let ins = Inspection::new(dir, spec)?;
    match &ins.opened {
        Err(e) => bail!("cannot load the TPM state in {}: {e}", dir.display()),
        Ok((c, _)) => {
            PersistentState::from_bytes(c.plaintext.as_slice()).map_err(|e| {
                anyhow!(
                    "slot {} (generation {}) is authentic, but its contents cannot be loaded: {e}",
                    c.slot,
                    c.generation()
                )
            })?;
        }
    }
    Ok(ins)
}

fn split_path(path: &Path) -> anyhow::Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| anyhow!("{} is not a file name", path.display()))?
        .to_string();
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

fn export(a: &ExportArgs) -> anyhow::Result<()> {
    let dir = &a.dir.state;
    let out_spec = if let Some(p) = &a.out_key.out_key_file {
        Some(KeySpec::KeyFile(p.clone()))
    } else {
        a.out_key.out_key_fd.map(KeySpec::KeyFd)
    };
    let out_key = match &out_spec {
        Some(s) => raw_key(s)?,
        None => None,
    };
    let ins = load_readonly(dir, &a.dir.key.spec())?;
    let (Ok((chosen, _)), Some(own)) = (&ins.opened, ins.key()) else {
        bail!("internal error: no state");
    };
    let (key, origin) = match &out_key {
        Some((k, o)) => (k, o.clone()),
        None => (&own.key, own.origin.clone()),
    };
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| anyhow!("getrandom failed: {e}"))?;
    let sealed = seal(
        key,
        chosen.generation(),
        &nonce,
        chosen.plaintext.as_slice(),
    )?;
    let (parent, name) = split_path(&a.out)?;
    write_atomic(&parent, &name, &sealed, true)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    println!(
        "exported generation {} (slot {}) of {} to {} ({} bytes), sealed under key id {} ({})",
        chosen.generation(),
        chosen.slot,
        dir.display(),
        a.out.display(),
        sealed.len(),
        keys::hex(&key.key_id()),
        origin
    );
    Ok(())
}

fn import(a: &ImportArgs) -> anyhow::Result<()> {
    let dir = &a.dir.state;
    let material = keys::read_material(&a.dir.key.spec())?;
    let in_spec = if let Some(p) = &a.in_key.in_key_file {
        Some(KeySpec::KeyFile(p.clone()))
    } else {
        a.in_key.in_key_fd.map(KeySpec::KeyFd)
    };
    let blob_bytes = store::read_blob_file(&a.input)
        .with_context(|| format!("cannot read {}", a.input.display()))?
        .ok_or_else(|| anyhow!("{} does not exist", a.input.display()))?;
    let candidates: Vec<(SealingKey, String)> = match &in_spec {
        Some(s) => raw_key(s)?.into_iter().collect(),
        None => keys::existing(dir, &material)
            .map_err(|e| {
                anyhow!(
                    "no key to open {} with ({e:#}); give it with --in-key-file or --in-key-fd",
                    a.input.display()
                )
            })?
            .into_iter()
            .map(|k| (k.key, k.origin))
            .collect(),
    };
    let mut opened = None;
    let mut first_err = None;
    for (k, origin) in &candidates {
        match blob::open(k, &blob_bytes) {
            Ok(o) => {
                opened = Some(o);
                break;
            }
            Err(e) => {
                first_err.get_or_insert(format!("{e} (key: {origin})"));
            }
        }
    }
    let Some((header, plaintext)) = opened else {
        bail!(
            "cannot open {}: {}",
            a.input.display(),
            first_err.unwrap_or_default()
        );
    };
    let state = PersistentState::from_bytes(plaintext.as_slice()).map_err(|e| {
        anyhow!(
            "{} is authentic, but its contents cannot be loaded: {e}",
            a.input.display()
        )
    })?;
    let bytes = state
        .to_bytes()
        .map_err(|e| anyhow!("cannot serialize the imported state: {e}"))?;

    store::create_dir(dir)?;
    let lock = DirLock::take(dir)?;
    let remembered = platform::remembered(dir);
    let slots = Slots::read(dir)?;
    check_replace(dir, &slots, a.force, "import")?;
    let mut replaced = Vec::new();
    for s in [Slot::A, Slot::B] {
        if let Some(b) = slots.get(s) {
            replaced.push(format!("slot {s} ({})", describe_slot(b)));
        }
    }
    let legacy = dir.join(LEGACY_FILE);
    if legacy.exists() {
        replaced.push(format!("the unsealed state file {LEGACY_FILE} (removed)"));
    }
    let key = keys::create(dir, &material)?;
    let (kind, origin, id) = (key.kind, key.origin.clone(), key.id_hex());
    let base = slots.claimed_max().max(remembered.unwrap_or(0));
    let newest = (base > 0).then_some(Position {
        slot: Slot::B,
        generation: base,
    });
    let mut store = Store::new(dir, key.key, newest, remembered, lock);
    let p1 = store.commit(&bytes)?;
    let p2 = store.commit(&bytes)?;
    store::remove_if_exists(&legacy)?;
    let done = keys::finish(dir, kind, false)?;
    println!(
        "imported generation {} of {} into {}: generation {} (slot {}) and {} (slot {}), \
         sealed under key id {id} ({origin})",
        header.generation,
        a.input.display(),
        dir.display(),
        p1.generation,
        p1.slot,
        p2.generation,
        p2.slot
    );
    for r in replaced.iter().chain(done.iter()) {
        println!("  replaced {r}");
    }
    Ok(())
}

fn rekey(a: &RekeyArgs) -> anyhow::Result<()> {
    let dir = &a.dir.state;
    let material = keys::read_material(&a.dir.key.spec())?;
    let new_material = keys::read_material(&a.new_key.spec())?;
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let lock = DirLock::take(dir)?;
    let remembered = platform::remembered(dir);
    let slots = Slots::read(dir)?;
    if slots.is_empty() {
        bail!("no sealed state in {} to rekey", dir.display());
    }
    let keys = keys::existing(dir, &material).map_err(|e| {
        anyhow!(
            "cannot load the TPM state in {}: {e:#}.\n{REFUSAL_ADVICE}",
            dir.display()
        )
    })?;
    let (chosen, i) = store::open_with(&slots, &keys, remembered).map_err(|e| {
        anyhow!(
            "cannot load the TPM state in {}: {e}.\n{REFUSAL_ADVICE}",
            dir.display()
        )
    })?;
    let old = keys
        .into_iter()
        .nth(i)
        .ok_or_else(|| anyhow!("internal error: no key {i}"))?;
    PersistentState::from_bytes(chosen.plaintext.as_slice()).map_err(|e| {
        anyhow!(
            "slot {} (generation {}) is authentic, but its contents cannot be loaded: {e}",
            chosen.slot,
            chosen.generation()
        )
    })?;
    if old.staged {
        // Finish the interrupted rekey first, so staging the new key
        // cannot overwrite the only key that opens the state.
        keys::finish(dir, old.kind, true)?;
    }
    let new = keys::stage(dir, &new_material)?;
    if new.key.key_id() == old.key.key_id() {
        keys::discard_staged(dir)?;
        bail!(
            "the new key is the current key (key id {}): nothing to do",
            old.id_hex()
        );
    }
    let (kind, origin, id) = (new.kind, new.origin.clone(), new.id_hex());
    let mut store = Store::new(dir, new.key, Some(chosen.position()), remembered, lock);
    // The slot not holding the newest state first: until the second
    // commit, the old key's slot is the older one and is ignored.
    let p1 = store.commit(chosen.plaintext.as_slice())?;
    let p2 = store.commit(chosen.plaintext.as_slice())?;
    let done = keys::finish(dir, kind, true)?;
    println!(
        "re-sealed generation {} of {} under key id {id} ({origin}); it was key id {} ({})",
        chosen.generation(),
        dir.display(),
        old.id_hex(),
        old.origin
    );
    println!(
        "  slot {}: generation {}; slot {}: generation {}",
        p1.slot, p1.generation, p2.slot, p2.generation
    );
    for d in &done {
        println!("  {d}");
    }
    Ok(())
}
