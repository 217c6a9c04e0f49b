//! Replays the fuzz corpus (`fuzz/corpus/*/`) and the committed crash
//! reproducers (`fuzz/artifacts-committed/`) through the same check as the
//! `execute` fuzz target (`vtpm_tests::fuzzing`), on stable Rust, in every
//! `cargo test` run.

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use vtpm_tests::fuzzing::{blob_input, fresh_tpm, run_input};
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
            "state_blob" => blob_input(&data),
            "svsm_request" => {
                vtpm_svsm::fuzzing::fuzz_request(&data);
                Ok(())
            }
            _ => {
                let mut tpm = fresh_tpm();
                run_input(&mut tpm, &data)
            }
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
