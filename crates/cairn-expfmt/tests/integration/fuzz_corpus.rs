//! The `expfmt` fuzz target's body, `cairn_expfmt::fuzzing::run`, on stable: over the
//! committed corpus (`fuzz/corpus/expfmt`), every crash input ever found
//! (`fuzz/regressions/expfmt`), the conformance suites, and every prefix of each suite file.
//!
//! Each input runs under `catch_unwind`, so one failure names its file and the rest still run.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use crate::shared::conformance_dir;

/// Prefixes are cut from at most this many leading bytes of each conformance file.
const PREFIX_CAP: usize = 4096;

fn fuzz_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz")
        .join(sub)
}

/// The regular files directly in `dir`, sorted, less hidden ones (`.gitkeep`).
fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    files
}

/// Every `*.txt` below `dir`, sorted.
fn txt_files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|x| x == "txt") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The conformance files: `openmetrics/*/metrics` and `prometheus-textparse/**/*.txt`.
/// `None` (after a SKIP line) when the shared folder is absent.
fn conformance_files() -> Option<Vec<PathBuf>> {
    let om = conformance_dir("openmetrics")?;
    let tp = conformance_dir("prometheus-textparse")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&om)
        .expect("read openmetrics suite")
        .filter_map(Result::ok)
        .map(|e| e.path().join("metrics"))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files.extend(txt_files_below(&tp));
    Some(files)
}

/// Runs `fuzzing::run` on one input; the first line of the panic message when it panicked
/// (the whole message, often a long diff, is on stderr from the panic hook).
fn run_one(data: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| cairn_expfmt::fuzzing::run(data))).map_err(|p| {
        let m = p
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| p.downcast_ref::<&str>().copied())
            .unwrap_or("non-string panic");
        m.lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(200)
            .collect()
    })
}

/// Runs every file; fails naming each file that panicked. Returns how many ran.
fn run_files(files: &[PathBuf]) -> usize {
    let mut failed = Vec::new();
    for path in files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        if let Err(m) = run_one(&data) {
            failed.push(format!("{}: {m}", path.display()));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} inputs failed:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
    files.len()
}

#[test]
fn committed_corpus() {
    let files = files_in(&fuzz_dir("corpus/expfmt"));
    let n = run_files(&files);
    assert!(n > 0, "the committed corpus fuzz/corpus/expfmt is empty");
}

#[test]
fn crash_regressions() {
    let dir = fuzz_dir("regressions/expfmt");
    let files = files_in(&dir);
    // Every crash input is named, with a line on its bug, in regressions/README.md.
    let readme = std::fs::read_to_string(fuzz_dir("regressions/README.md"))
        .expect("fuzz/regressions/README.md");
    let unlisted: Vec<String> = files
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .filter(|name| !readme.contains(&format!("`expfmt/{name}`")))
        .collect();
    assert!(
        unlisted.is_empty(),
        "regressions not listed in fuzz/regressions/README.md: {unlisted:?}"
    );
    run_files(&files);
}

#[test]
fn conformance_files_whole() {
    let Some(files) = conformance_files() else {
        eprintln!("SKIP: fuzz_corpus::conformance_files_whole ran no conformance file");
        return;
    };
    assert!(run_files(&files) > 0, "no conformance files found");
}

#[test]
fn conformance_files_every_prefix() {
    let Some(files) = conformance_files() else {
        eprintln!("SKIP: fuzz_corpus::conformance_files_every_prefix ran no conformance file");
        return;
    };
    let mut failed = Vec::new();
    let mut runs = 0usize;
    for path in &files {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        // The whole file is `conformance_files_whole`'s; here every shorter prefix.
        for len in 0..data.len().min(PREFIX_CAP + 1) {
            runs += 1;
            if let Err(m) = run_one(data.get(..len).unwrap_or_default()) {
                failed.push(format!("{} cut at {len} bytes: {m}", path.display()));
                break; // The first failing length of a file is enough.
            }
        }
    }
    assert!(runs > 0, "no conformance prefixes ran");
    assert!(
        failed.is_empty(),
        "{} of {} files failed at some prefix:\n{}",
        failed.len(),
        files.len(),
        failed.join("\n")
    );
}
