//! `cairn check`: summaries, errors with positions, exit codes.

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

fn cairn(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run cairn");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn testdata(name: &str) -> String {
    format!(
        "{}/../../testdata/expfmt/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn valid_file_prints_a_summary() {
    let path = testdata("example.om.txt");
    for strict in [false, true] {
        let mut args = vec!["check", path.as_str()];
        if strict {
            args.push("--strict");
        }
        let out = cairn(&args, None);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let mode = if strict { "strict" } else { "scrape" };
        assert_eq!(
            text(&out.stdout),
            format!(
                "{path}: valid OpenMetrics 1.0 ({mode}): 4 families, 14 series, 14 samples, 5 exemplars\n"
            )
        );
        assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    }
}

#[test]
fn errors_name_file_line_and_column() {
    let input = b"# TYPE a counter\na_total{b=\"c\" 1\na_total 1 2 3\n# EOF\n";
    let out = cairn(&["check", "--format", "openmetrics", "-"], Some(input));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "<stdin>:2:14: expected \",\" or \"}\" in the label set, found \" 1\"\n\
         <stdin>:3:12: expected end of line or \" # \" and an exemplar after the timestamp, found \" 3\"\n"
    );
}

#[test]
fn strict_rejects_what_scrape_mode_takes_with_a_warning() {
    // An exemplar on a gauge is fine for Prometheus, not for OpenMetrics 1.0; a malformed
    // exemplar is dropped in scrape mode and fails strict mode.
    let input = b"# TYPE g gauge\ng 1 # {trace_id=\"abc\"} 2\n# TYPE c counter\nc_total 1 # {trace_id=abc} 2\n# EOF\n";
    let scrape = cairn(&["check", "-"], Some(input));
    assert_eq!(scrape.status.code(), Some(0), "{}", text(&scrape.stderr));
    assert_eq!(
        text(&scrape.stdout),
        "<stdin>: valid OpenMetrics 1.0 (scrape): 2 families, 2 series, 2 samples, 1 exemplars, 1 exemplars dropped\n"
    );
    assert_eq!(
        text(&scrape.stderr),
        "<stdin>:4:23: warning: exemplar dropped: exemplar: expected a label value in double quotes, found \"abc} 2\"\n"
    );
    let strict = cairn(&["check", "--strict", "-"], Some(input));
    assert_eq!(strict.status.code(), Some(1));
    let err = text(&strict.stderr);
    assert!(
        err.starts_with("<stdin>:2:1: exemplar on g (a gauge sample)"),
        "{err}"
    );
    assert!(
        err.contains("<stdin>:4:23: exemplar: expected a label value in double quotes"),
        "{err}"
    );
}

#[test]
fn format_is_detected_by_content_or_forced() {
    let prom = b"# TYPE a counter\na 1 1700000000000\n";
    let out = cairn(&["check", "-"], Some(prom));
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("valid Prometheus text 0.0.4"));
    // The same bytes are not OpenMetrics: no "# EOF", integer-ms timestamp read as seconds is
    // fine, but the missing EOF is not.
    let out = cairn(&["check", "--format", "openmetrics", "-"], Some(prom));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("expected \"# EOF\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn unreadable_file_exits_2() {
    let out = cairn(&["check", "/nonexistent/cairn/file.txt"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).starts_with("/nonexistent/cairn/file.txt: cannot read:"));
}
