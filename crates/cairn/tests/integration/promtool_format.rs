//! The promtool that the differential tests compare with still prints what
//! `testdata/promtool/tricky.dump` holds.
//!
//! `tricky.dump` is the output of Debian's promtool 2.42 for `tricky.om.txt`: awkward float
//! spellings, label values Go's `strconv.Quote` escapes (or not), label order, timestamps
//! truncated to milliseconds, a series spread over three 2h blocks. cairn's own printer
//! (`cli/promfmt.rs`) is checked against the same file in its unit tests, so a promtool that
//! prints differently shows up here, and a printer that drifts shows up there. To remake it:
//!
//! ```sh
//! promtool tsdb create-blocks-from openmetrics testdata/promtool/tricky.om.txt /tmp/tricky
//! mkdir -p /tmp/tricky/wal   # promtool 2.42's dump fails without it
//! promtool tsdb dump /tmp/tricky > testdata/promtool/tricky.dump
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/promtool")
        .join(name)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `promtool args`; `None` when promtool is not on PATH, after a SKIP note, or a failure
/// when `CI` is set (CI must compare, not skip).
fn promtool(args: &[&std::ffi::OsStr]) -> Option<Output> {
    match Command::new("promtool").args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let msg = "promtool is not on PATH, so cairn's dump format is not compared with \
                       Prometheus'. Install it with `sudo scripts/prometheus-tools.sh` \
                       (Debian/Ubuntu: `apt-get install --no-install-recommends prometheus`)";
            if std::env::var_os("CI").is_some() {
                panic!("\n\nFAIL: {msg}\n\n");
            }
            // Straight to stderr, past the test harness's capture, so that the skip is seen.
            let _ = writeln!(std::io::stderr(), "\n*** SKIP: {msg} ***\n");
            None
        }
        Err(e) => panic!("cannot run promtool: {e}"),
    }
}

#[test]
fn promtool_dump_matches_the_checked_in_file() {
    let Some(version) = promtool(&["--version".as_ref()]) else {
        return;
    };
    let version = text(&version.stdout);
    let version = version.lines().next().unwrap_or_default();

    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let input = testdata("tricky.om.txt");
    let args = ["tsdb", "create-blocks-from", "openmetrics", "--quiet"];
    let mut import: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    import.extend([input.as_os_str(), data.as_os_str()]);
    let out = promtool(&import).unwrap();
    assert!(
        out.status.success(),
        "promtool import: {}",
        text(&out.stderr)
    );
    // promtool 2.42's dump opens the WAL directory, even to find nothing in it.
    std::fs::create_dir_all(data.join("wal")).unwrap();
    let out = promtool(&["tsdb".as_ref(), "dump".as_ref(), data.as_os_str()]).unwrap();
    assert!(out.status.success(), "promtool dump: {}", text(&out.stderr));

    let got = text(&out.stdout);
    let want = std::fs::read_to_string(testdata("tricky.dump")).unwrap();
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(
            g,
            w,
            "line {} of `promtool tsdb dump` differs from testdata/promtool/tricky.dump \
             ({version}; the file was made by promtool 2.42.0+ds built with Go 1.19.8)",
            i + 1
        );
    }
    assert_eq!(got.lines().count(), want.lines().count(), "{version}");
}

/// The differential tests feed the same files to promtool and to cairn.
#[test]
fn cairn_takes_the_tricky_file_strictly() {
    let path = testdata("tricky.om.txt");
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["check", "--strict"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).ends_with(
            ": valid OpenMetrics 1.0 (strict): 7 families, 97 series, 119 samples, 22 exemplars\n"
        ),
        "{}",
        text(&out.stdout)
    );
}
