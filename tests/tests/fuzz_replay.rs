//! Replays the fuzz corpora (`fuzz/corpus/<target>/`) and the committed
//! crash reproducers (`fuzz/artifacts-committed/<target>/`) through the
//! property of their fuzz target (`vtpm_tests::fuzzing`, shared with
//! `fuzz/fuzz_targets/`), on stable Rust, in every `cargo test` run.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use vtpm_tests::fuzzing::{
    blob_input, fresh_tpm, roundtrip_input, roundtrip_unmarshals, run_input, socket_input,
    stateful_input, ROUNDTRIP_TYPES,
};
use vtpm_tests::workspace_root;

fn files_in(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
        let hidden = name
            .as_deref()
            .is_some_and(|n| n.starts_with('.') || n.eq_ignore_ascii_case("README.md"));
        if hidden {
            continue;
        }
        if p.is_dir() {
            files_in(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn replay(files: &[PathBuf]) -> Vec<String> {
    let mut failures = Vec::new();
    for f in files {
        let data = match fs::read(f) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: cannot read: {e}", f.display()));
                continue;
            }
        };
        // Each target's corpus lives in fuzz/corpus/<target>/ and is
        // replayed through that target's property.
        let target = f
            .parent()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let r = catch_unwind(AssertUnwindSafe(|| match target.as_str() {
            // Reproducers directly in fuzz/artifacts-committed/ are the
            // `execute` target's (the older layout).
            "execute" | "artifacts-committed" => {
                let mut tpm = fresh_tpm();
                run_input(&mut tpm, &data)
            }
            "stateful" => stateful_input(&data),
            "roundtrip" => roundtrip_input(&data),
            "socket" => socket_input(&data),
            "state_blob" => blob_input(&data),
            "svsm_request" => {
                vtpm_svsm::fuzzing::fuzz_request(&data);
                Ok(())
            }
            other => Err(format!(
                "no fuzz target `{other}` (add it to TARGETS and to this match)"
            )),
        }));
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(format!("{}: {e}", f.display())),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{}: PANIC {msg}", f.display()));
            }
        }
    }
    failures
}

#[test]
fn fuzz_corpus_replays_cleanly() {
    let root = workspace_root().join("fuzz").join("corpus");
    let mut files = Vec::new();
    files_in(&root, &mut files);
    assert!(
        files.len() >= 10,
        "expected the seed corpus under {}, found {} files",
        root.display(),
        files.len()
    );
    let failures = replay(&files);
    assert!(
        failures.is_empty(),
        "{} of {} corpus inputs failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    println!("replayed {} corpus inputs", files.len());
}

#[test]
fn fuzz_committed_artifacts_replay_cleanly() {
    let dir = workspace_root().join("fuzz").join("artifacts-committed");
    assert!(
        dir.join("README.md").is_file(),
        "{} must exist (with its README.md)",
        dir.display()
    );
    let mut files = Vec::new();
    files_in(&dir, &mut files);
    let failures = replay(&files);
    assert!(
        failures.is_empty(),
        "{} of {} committed crash reproducers still fail:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    println!("replayed {} committed artifacts", files.len());
}

/// Every fuzz target; each has a committed corpus that replays above.
const TARGETS: &[&str] = &[
    "execute",
    "stateful",
    "roundtrip",
    "socket",
    "state_blob",
    "svsm_request",
];

#[test]
fn every_fuzz_target_has_a_replayed_corpus() {
    let fuzz = workspace_root().join("fuzz");
    let mut defined: Vec<String> = fs::read_dir(fuzz.join("fuzz_targets"))
        .expect("fuzz/fuzz_targets")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    defined.sort();
    let mut known: Vec<String> = TARGETS.iter().map(|t| t.to_string()).collect();
    known.sort();
    assert_eq!(defined, known, "fuzz/fuzz_targets/*.rs and TARGETS differ");
    for t in TARGETS {
        let mut files = Vec::new();
        files_in(&fuzz.join("corpus").join(t), &mut files);
        assert!(
            !files.is_empty(),
            "fuzz/corpus/{t}/ is missing or empty: commit a seed corpus"
        );
    }
}

/// The roundtrip corpus exercises every structure: for each one, some
/// committed input unmarshals (else its check never runs on stable).
#[test]
fn roundtrip_corpus_covers_every_structure() {
    let mut files = Vec::new();
    files_in(
        &workspace_root()
            .join("fuzz")
            .join("corpus")
            .join("roundtrip"),
        &mut files,
    );
    let mut seen = std::collections::BTreeSet::new();
    for f in &files {
        if let Some(name) = roundtrip_unmarshals(&fs::read(f).unwrap_or_default()) {
            seen.insert(name);
        }
    }
    let missing: Vec<&str> = ROUNDTRIP_TYPES
        .iter()
        .map(|t| t.0)
        .filter(|n| !seen.contains(n))
        .collect();
    assert!(
        missing.is_empty(),
        "no input of fuzz/corpus/roundtrip/ unmarshals as {missing:?}"
    );
}
