//! The state tools and key options end to end: round trip through the
//! simulator, rekey (including an interrupted one), export/import, wrong
//! keys, key descriptors, passphrases, migration of the unsealed format,
//! the directory lock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod state_support;

use std::fs;
use std::path::Path;

use state_support::*;
use vtpm_core::state::blob::{self, SealingKey};

const INDEX: u32 = 0x0100_0077;
const DATA: &[u8; 16] = b"persisted value!";

/// Start a simulator on `dir` with `extra` options, Startup, then `f`.
fn with_sim(dir: &Path, extra: &[&str], f: impl FnOnce(&mut Sim)) -> String {
    let sock = dir.with_extension("sock");
    let log = dir.with_extension("log");
    let _ = fs::remove_file(&log);
    let mut sim = Sim::start(dir, &sock, &log, extra);
    sim.send_ok(&STARTUP_CLEAR);
    f(&mut sim);
    sim.stop()
}

fn write_value(dir: &Path, extra: &[&str]) {
    with_sim(dir, extra, |sim| {
        sim.send_ok(&nv_define(INDEX, DATA.len() as u16));
        sim.send_ok(&nv_write(INDEX, 0, DATA));
    });
}

fn read_value(dir: &Path, extra: &[&str]) -> Vec<u8> {
    let mut v = Vec::new();
    with_sim(dir, extra, |sim| {
        v = nv_read_data(&sim.send(&nv_read_cmd(INDEX, DATA.len() as u16, 0)));
    });
    v
}

/// `show` without the lines that name the directory, key or slots.
fn contents(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec!["show", "--state", s(dir)];
    args.extend_from_slice(extra);
    let out = run_ok(&args);
    out.lines()
        .skip_while(|l| !l.starts_with("schema version"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn round_trip_through_the_simulator() {
    let root = temp_dir("roundtrip");
    let dir = root.join("state");
    write_value(&dir, &[]);
    // Sealed: no plaintext seed or NV data in the slot files.
    for slot in ["vtpm-state.a", "vtpm-state.b"] {
        let bytes = fs::read(dir.join(slot)).unwrap();
        assert_eq!(&bytes[..8], b"VTPMSEAL");
        assert!(
            !bytes.windows(DATA.len()).any(|w| w == DATA),
            "{slot} leaks NV data"
        );
    }
    assert_eq!(read_value(&dir, &[]), DATA);
    let shown = run_ok(&["show", "--state", s(&dir)]);
    assert!(
        shown.contains("NV indices: 1 (16 bytes of data)")
            && shown.contains("0x01000077  attributes 0x")
            && shown.contains("size 16")
            && shown.contains("PCR allocation: sha1, sha256, sha384, sha512")
            && shown.contains("dictionary attack: failed tries 0")
            && shown.contains("reset count"),
        "{shown}"
    );
    assert!(!shown.contains("persisted value"), "show prints no NV data");
    let mode = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode(&dir.join("vtpm-key")), 0o600);
    assert_eq!(mode(&dir.join("vtpm-state.a")), 0o600);
    assert_eq!(mode(&dir), 0o700);
    let _ = fs::remove_dir_all(root);
}

#[test]
fn wrong_key_is_refused_naming_the_key_ids() {
    let root = temp_dir("wrongkey");
    let dir = root.join("state");
    let right = [0x42u8; 32];
    let wrong = [0x24u8; 32];
    fs::write(root.join("right"), right).unwrap();
    // The hex form with a newline is accepted as well.
    let hex: String = wrong.iter().map(|b| format!("{b:02x}")).collect();
    fs::write(root.join("wrong"), format!("{hex}\n")).unwrap();
    let right_arg = format!("--key-file={}", s(&root.join("right")));
    let wrong_arg = format!("--key-file={}", s(&root.join("wrong")));
    write_value(&dir, &[&right_arg]);
    assert!(
        !dir.join("vtpm-key").exists(),
        "no default key with --key-file"
    );
    let expected = format!(
        "sealed under another key (key id {}, this TPM's key id is {})",
        key_id_hex(&right),
        key_id_hex(&wrong)
    );
    let out = run_fail(&["verify", "--state", s(&dir), &wrong_arg]);
    assert!(out.contains(&expected), "{out}");
    let err = Sim::try_start(&dir, &root.join("sock"), &root.join("log"), &[&wrong_arg])
        .err()
        .unwrap();
    assert!(err.contains(&expected), "{err}");
    // No key at all.
    let out = run_fail(&["verify", "--state", s(&dir)]);
    assert!(out.contains("vtpm-key does not exist"), "{out}");
    // The right key, through a descriptor.
    let (ok, out, err) = run_shell(&format!(
        "exec \"$0\" verify --state {} --key-fd 3 3<{}",
        s(&dir),
        s(&root.join("right"))
    ));
    assert!(ok && out.contains("verdict: OK"), "{out}{err}");
    assert_eq!(read_value(&dir, &[&right_arg]), DATA);
    let _ = fs::remove_dir_all(root);
}

#[test]
fn rekey_to_key_file_passphrase_and_back() {
    let root = temp_dir("rekey");
    let dir = root.join("state");
    write_value(&dir, &[]);
    let before = contents(&dir, &[]);
    let default_key = fs::read(dir.join("vtpm-key")).unwrap();

    // Default key -> key file.
    let k1 = [0x5Au8; 32];
    fs::write(root.join("k1"), k1).unwrap();
    let out = run_ok(&[
        "rekey",
        "--state",
        s(&dir),
        "--new-key-file",
        s(&root.join("k1")),
    ]);
    assert!(
        out.contains(&format!("under key id {}", key_id_hex(&k1))),
        "{out}"
    );
    assert!(
        out.contains("removed") && !dir.join("vtpm-key").exists(),
        "{out}"
    );
    let generations: Vec<u64> = ["vtpm-state.a", "vtpm-state.b"]
        .iter()
        .map(|slot| {
            let bytes = fs::read(dir.join(slot)).unwrap();
            blob::open(&SealingKey::new(k1), &bytes)
                .unwrap()
                .0
                .generation
        })
        .collect();
    assert_eq!(
        generations[0].abs_diff(generations[1]),
        1,
        "{generations:?}"
    );
    let k1_arg = format!("--key-file={}", s(&root.join("k1")));
    assert_eq!(contents(&dir, &[&k1_arg]), before);

    // Key file -> passphrase (given through a descriptor).
    fs::write(root.join("pw"), "correct horse battery staple\n").unwrap();
    let (ok, out, err) = run_shell(&format!(
        "exec \"$0\" rekey --state {} {k1_arg} --new-passphrase-fd 4 4<{}",
        s(&dir),
        s(&root.join("pw"))
    ));
    assert!(ok, "{out}{err}");
    let kdf = fs::read_to_string(dir.join("vtpm-kdf.json")).unwrap();
    assert!(
        kdf.contains("\"kdf\": \"argon2id\"") && kdf.contains("\"m_cost_kib\": 65536"),
        "{kdf}"
    );
    let pw_arg = format!("--passphrase-file={}", s(&root.join("pw")));
    assert_eq!(read_value(&dir, &[&pw_arg]), DATA);
    // The old key no longer opens it; a wrong passphrase says so.
    let out = run_fail(&["verify", "--state", s(&dir), &k1_arg]);
    assert!(out.contains("another key"), "{out}");
    fs::write(root.join("pw2"), "Tr0ub4dor&3\n").unwrap();
    let out = run_fail(&[
        "verify",
        "--state",
        s(&dir),
        "--passphrase-file",
        s(&root.join("pw2")),
    ]);
    assert!(out.contains("wrong passphrase?"), "{out}");
    // Without a key option, the message points at the passphrase.
    let out = run_fail(&["verify", "--state", s(&dir)]);
    assert!(out.contains("sealed under a passphrase"), "{out}");

    // Passphrase -> a new default key.
    let out = run_ok(&["rekey", "--state", s(&dir), &pw_arg, "--new-default-key"]);
    assert!(
        out.contains("installed") && out.contains("vtpm-kdf.json (no longer used)"),
        "{out}"
    );
    assert_ne!(fs::read(dir.join("vtpm-key")).unwrap(), default_key);
    assert!(!dir.join("vtpm-kdf.json").exists());
    assert_eq!(read_value(&dir, &[]), DATA);
    // Same key again: refused, nothing changed.
    let key_now = fs::read(dir.join("vtpm-key")).unwrap();
    fs::write(root.join("same"), &key_now).unwrap();
    let out = run_fail(&[
        "rekey",
        "--state",
        s(&dir),
        "--new-key-file",
        s(&root.join("same")),
    ]);
    assert!(out.contains("the new key is the current key"), "{out}");
    let _ = fs::remove_dir_all(root);
}

#[test]
fn interrupted_rekey_completes_at_the_next_start() {
    let root = temp_dir("rekey-crash");
    let dir = root.join("state");
    write_value(&dir, &[]);
    // What `rekey --new-default-key` leaves when it dies after its first
    // slot write: the new key staged, the newer slot sealed under it, the
    // older slot still under the old key.
    let old_hex = fs::read_to_string(dir.join("vtpm-key")).unwrap();
    let old: [u8; 32] = (0..32)
        .map(|i| u8::from_str_radix(&old_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let new = [0x77u8; 32];
    let out = run_ok(&["verify", "--state", s(&dir)]);
    let (newest, other) = if out.contains("from slot A") {
        ("vtpm-state.a", "vtpm-state.b")
    } else {
        ("vtpm-state.b", "vtpm-state.a")
    };
    let (h, plain) =
        blob::open(&SealingKey::new(old), &fs::read(dir.join(newest)).unwrap()).unwrap();
    let resealed = blob::seal(
        &SealingKey::new(new),
        h.generation + 1,
        &[3; 12],
        plain.as_slice(),
    )
    .unwrap();
    fs::write(dir.join(other), resealed).unwrap();
    let new_hex: String = new.iter().map(|b| format!("{b:02x}")).collect();
    fs::write(dir.join("vtpm-key.new"), format!("{new_hex}\n")).unwrap();

    let out = run_ok(&["verify", "--state", s(&dir)]);
    assert!(out.contains("staged by an interrupted rekey"), "{out}");
    assert!(
        out.contains("sealed under another key"),
        "the old slot is reported: {out}"
    );
    let log = with_sim(&dir, &[], |sim| {
        let v = nv_read_data(&sim.send(&nv_read_cmd(INDEX, DATA.len() as u16, 0)));
        assert_eq!(v, DATA);
    });
    assert!(log.contains("completed an interrupted rekey"), "{log}");
    assert_eq!(
        fs::read_to_string(dir.join("vtpm-key")).unwrap().trim(),
        new_hex
    );
    assert!(!dir.join("vtpm-key.new").exists());
    let out = run_ok(&["verify", "--state", s(&dir)]);
    assert!(
        !out.contains("INVALID"),
        "both slots rewritten under the new key: {out}"
    );

    // A key staged by a rekey that died before sealing anything is
    // discarded.
    fs::write(dir.join("vtpm-key.new"), format!("{}\n", "ab".repeat(32))).unwrap();
    let log = with_sim(&dir, &[], |_| {});
    assert!(
        log.contains("interrupted rekey that had not re-sealed"),
        "{log}"
    );
    assert!(!dir.join("vtpm-key.new").exists());
    let _ = fs::remove_dir_all(root);
}

#[test]
fn export_import_round_trip() {
    let root = temp_dir("export");
    let src = root.join("src");
    let dst = root.join("dst");
    write_value(&src, &[]);
    let transport = [0x99u8; 32];
    fs::write(root.join("transport"), transport).unwrap();
    let file = root.join("tpm.sealed");
    let out = run_ok(&[
        "export",
        "--state",
        s(&src),
        "--out",
        s(&file),
        "--out-key-file",
        s(&root.join("transport")),
    ]);
    assert!(
        out.contains(&format!("sealed under key id {}", key_id_hex(&transport))),
        "{out}"
    );
    let exported = fs::read(&file).unwrap();
    let (h, _) = blob::open(&SealingKey::new(transport), &exported).unwrap();
    assert!(h.generation >= 2);

    // Importing needs the key the file is sealed under.
    let out = run_fail(&["import", "--state", s(&dst), "--in", s(&file)]);
    assert!(out.contains("--in-key-file"), "{out}");
    fs::write(root.join("other"), [0x98u8; 32]).unwrap();
    let out = run_fail(&[
        "import",
        "--state",
        s(&dst),
        "--in",
        s(&file),
        "--in-key-file",
        s(&root.join("other")),
    ]);
    assert!(out.contains("another key"), "{out}");
    let out = run_ok(&[
        "import",
        "--state",
        s(&dst),
        "--in",
        s(&file),
        "--in-key-file",
        s(&root.join("transport")),
    ]);
    assert!(out.contains("imported generation"), "{out}");
    // The destination has its own default key; same TPM inside.
    assert_ne!(
        fs::read(src.join("vtpm-key")).unwrap(),
        fs::read(dst.join("vtpm-key")).unwrap()
    );
    assert_eq!(contents(&dst, &[]), contents(&src, &[]));
    assert_eq!(read_value(&dst, &[]), DATA);

    // Import over an existing state needs --force and says what it replaced.
    let out = run_fail(&[
        "import",
        "--state",
        s(&src),
        "--in",
        s(&file),
        "--in-key-file",
        s(&root.join("transport")),
    ]);
    assert!(
        out.contains("already holds a TPM state") && out.contains("--force"),
        "{out}"
    );
    let out = run_ok(&[
        "import",
        "--state",
        s(&src),
        "--in",
        s(&file),
        "--in-key-file",
        s(&root.join("transport")),
        "--force",
    ]);
    assert!(out.contains("replaced slot A"), "{out}");
    // The generation counter went on (no rollback refusal).
    assert_eq!(read_value(&src, &[]), DATA);

    // Export under the state's own key, import on the same key file.
    let file2 = root.join("own.sealed");
    run_ok(&["export", "--state", s(&dst), "--out", s(&file2)]);
    let dst2 = root.join("dst2");
    fs::create_dir(&dst2).unwrap();
    fs::copy(dst.join("vtpm-key"), dst2.join("vtpm-key")).unwrap();
    run_ok(&["import", "--state", s(&dst2), "--in", s(&file2)]);
    assert_eq!(read_value(&dst2, &[]), DATA);
    let _ = fs::remove_dir_all(root);
}

#[test]
fn unsealed_state_of_the_previous_release_is_migrated() {
    use vtpm_core::crypto::{Drbg, HashAlg};
    use vtpm_core::state::nv::NvIndex;
    use vtpm_core::state::PersistentState;
    use vtpm_core::wire::Handle;

    let root = temp_dir("migrate");
    let dir = root.join("state");
    fs::create_dir(&dir).unwrap();
    let mut p = PersistentState::manufacture(&mut Drbg::new(&[1; 48], b"legacy"));
    p.nv.push(NvIndex {
        handle: Handle(INDEX),
        name_alg: HashAlg::Sha256,
        attributes: NV_ATTRS | 0x2000_0000, // written
        auth_policy: Vec::new(),
        data_size: DATA.len() as u16,
        auth_value: Vec::new(),
        data: DATA.to_vec(),
    });
    let legacy = p.to_bytes().unwrap();
    fs::write(dir.join("vtpm-state.bin"), &legacy).unwrap();

    let out = run_ok(&["verify", "--state", s(&dir)]);
    assert!(out.contains("migrated at the next start"), "{out}");
    let log = with_sim(&dir, &[], |sim| {
        let v = nv_read_data(&sim.send(&nv_read_cmd(INDEX, DATA.len() as u16, 0)));
        assert_eq!(v, DATA);
    });
    assert!(log.contains("migrated the unsealed TPM state"), "{log}");
    assert!(!dir.join("vtpm-state.bin").exists());
    assert_eq!(
        fs::read(dir.join("vtpm-state.bin.migrated")).unwrap(),
        legacy
    );
    assert!(dir.join("vtpm-state.a").exists() && dir.join("vtpm-key").exists());
    let out = run_ok(&["verify", "--state", s(&dir)]);
    assert!(out.contains("verdict: OK"), "{out}");
    assert_eq!(read_value(&dir, &[]), DATA);
    let _ = fs::remove_dir_all(root);
}

#[test]
fn manufacture_tool_and_lock() {
    let root = temp_dir("manufacture");
    let dir = root.join("state");
    let out = run_ok(&["manufacture", "--state", s(&dir)]);
    assert!(
        out.contains("generation 1 (slot A) and 2 (slot B)") && out.contains("default key file"),
        "{out}"
    );
    let out = run_fail(&["manufacture", "--state", s(&dir)]);
    assert!(
        out.contains("already holds a TPM state") && out.contains("--force"),
        "{out}"
    );
    // While a simulator runs, tools that write are refused.
    let sock = root.join("sock");
    let log = root.join("log");
    let sim = Sim::start(&dir, &sock, &log, &[]);
    let out = run_fail(&["manufacture", "--state", s(&dir), "--force"]);
    assert!(out.contains("in use by another vtpm-host-sim"), "{out}");
    // Read-only tools work.
    run_ok(&["verify", "--state", s(&dir)]);
    sim.stop();
    let out = run_ok(&["manufacture", "--state", s(&dir), "--force"]);
    assert!(
        out.contains("replaced slot A") && out.contains("replaced slot B"),
        "{out}"
    );
    // verify on an empty directory: nothing loads.
    let empty = root.join("empty");
    fs::create_dir(&empty).unwrap();
    let out = run_fail(&["verify", "--state", s(&empty)]);
    assert!(out.contains("no TPM state"), "{out}");
    let _ = fs::remove_dir_all(root);
}
