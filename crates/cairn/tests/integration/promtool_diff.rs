//! The differential test of issue 3: one generated multi-series history with exemplars is
//! imported by `promtool tsdb create-blocks-from openmetrics` and by `cairn import`, and
//! `promtool tsdb dump` and `cairn dump` print the same lines. Importing it again into cairn
//! adds nothing. `cairn dump --exemplars` prints exactly the exemplars of the file (promtool
//! drops them: Prometheus blocks have no place for exemplars).
//!
//! Needs promtool (`scripts/prometheus-tools.sh` installs it); without it the test says SKIP
//! loudly, and fails when `CI` is set.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output};

fn cairn(args: &[&std::ffi::OsStr]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cairn {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn promtool(args: &[&std::ffi::OsStr]) -> Option<Output> {
    match Command::new("promtool").args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "promtool {args:?} failed: {}\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            Some(out)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let msg = "promtool is not on PATH: the differential test against Prometheus did \
                       not run. Install it with `sudo scripts/prometheus-tools.sh`";
            if std::env::var_os("CI").is_some() {
                panic!("\n\nFAIL: {msg}\n\n");
            }
            let _ = writeln!(std::io::stderr(), "\n*** SKIP: {msg} ***\n");
            None
        }
        Err(e) => panic!("cannot run promtool: {e}"),
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A history of `steps` scrapes, 15 s apart, of counters with exemplars, gauges with
/// awkward values and a classic histogram, spanning several 2 h blocks; plus the exemplar
/// lines `cairn dump --exemplars` must print, in its order (series by labels, then time).
fn history(steps: u64) -> (String, Vec<String>) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let start_ms: u64 = 1_700_000_000_000;
    let mut om = String::new();
    let mut exemplars: Vec<(String, u64, String)> = Vec::new();
    om.push_str("# TYPE requests counter\n");
    for (i, (method, code)) in [("GET", "200"), ("GET", "500"), ("POST", "200")]
        .iter()
        .enumerate()
    {
        let mut total = 0u64;
        for step in 0..steps {
            let t = start_ms + step * 15_000 + i as u64;
            total += rng.next() % 50;
            let series = format!("requests_total{{method=\"{method}\",code=\"{code}\"}}");
            write!(om, "{series} {total} {}.{:03}", t / 1000, t % 1000).unwrap();
            if step % 7 == 0 {
                let trace = format!("{:016x}{:016x}", rng.next(), rng.next());
                let span = format!("{:016x}", rng.next());
                let v = (rng.next() % 5000) as f64 / 1000.0;
                let et = t - 250;
                write!(
                    om,
                    " # {{trace_id=\"{trace}\",span_id=\"{span}\"}} {v} {}.{:03}",
                    et / 1000,
                    et % 1000
                )
                .unwrap();
                let labels = format!(
                    "{{__name__=\"requests_total\", code=\"{code}\", method=\"{method}\"}}"
                );
                exemplars.push((
                    labels,
                    et,
                    format!("{{span_id=\"{span}\", trace_id=\"{trace}\"}} {v} {et}"),
                ));
            }
            om.push('\n');
        }
    }
    om.push_str("# TYPE temperature gauge\n");
    let awkward = [
        0.1,
        -0.0,
        1e-7,
        123_456_789.0,
        1e21,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    for room in ["a", "b\\\"c", "日本"] {
        for step in 0..steps {
            let t = start_ms + step * 15_000 + 5;
            let v = if step % 97 == 3 {
                awkward[(step as usize / 97) % awkward.len()]
            } else {
                (rng.next() % 100_000) as f64 / 997.0 - 20.0
            };
            let v = if v.is_infinite() {
                if v > 0.0 {
                    "+Inf".to_string()
                } else {
                    "-Inf".to_string()
                }
            } else {
                format!("{v:?}")
            };
            writeln!(
                om,
                "temperature{{room=\"{room}\"}} {v} {}.{:03}",
                t / 1000,
                t % 1000
            )
            .unwrap();
        }
    }
    om.push_str("# TYPE latency histogram\n");
    let bounds = ["0.1", "0.5", "1.0", "+Inf"];
    let mut counts = [0u64; 4];
    let mut sum = 0.0;
    for step in 0..steps {
        let t = start_ms + step * 15_000 + 9;
        let obs = (rng.next() % 2000) as f64 / 1000.0;
        sum += obs;
        for (i, b) in bounds.iter().enumerate() {
            if *b == "+Inf" || obs <= b.parse::<f64>().unwrap() {
                counts[i] += 1;
            }
        }
        let _ = counts;
        for (i, b) in bounds.iter().enumerate() {
            writeln!(
                om,
                "latency_bucket{{le=\"{b}\"}} {} {}.{:03}",
                counts[i],
                t / 1000,
                t % 1000
            )
            .unwrap();
        }
        writeln!(
            om,
            "latency_count {} {}.{:03}",
            counts[3],
            t / 1000,
            t % 1000
        )
        .unwrap();
        writeln!(om, "latency_sum {sum:?} {}.{:03}", t / 1000, t % 1000).unwrap();
    }
    om.push_str("# EOF\n");
    exemplars.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let lines = exemplars
        .into_iter()
        .map(|(labels, _, rest)| format!("{labels} # {rest}"))
        .collect();
    (om, lines)
}

fn dump_of_promtool(file: &Path, dir: &Path) -> Option<String> {
    let out = dir.join("prom");
    promtool(&[
        "tsdb".as_ref(),
        "create-blocks-from".as_ref(),
        "openmetrics".as_ref(),
        file.as_os_str(),
        out.as_os_str(),
    ])?;
    // promtool 2.42's dump fails on a directory without a wal/.
    std::fs::create_dir_all(out.join("wal")).unwrap();
    let dump = promtool(&["tsdb".as_ref(), "dump".as_ref(), out.as_os_str()])?;
    Some(String::from_utf8(dump.stdout).unwrap())
}

#[test]
fn cairn_import_and_dump_match_promtool() {
    let dir = tempfile::tempdir().unwrap();
    // 2000 scrapes of 15 s: 8.3 hours, five 2 h blocks.
    let (om, exemplar_lines) = history(2000);
    let file = dir.path().join("history.om.txt");
    std::fs::write(&file, &om).unwrap();
    let Some(expected) = dump_of_promtool(&file, dir.path()) else {
        return;
    };
    assert!(
        expected.lines().count() == 24_000,
        "promtool imported too little"
    );

    let data = dir.path().join("cairn");
    let import = cairn(&[
        "import".as_ref(),
        "--json".as_ref(),
        // Three parts parsed at once, cut between any lines, give what one part gives.
        "--threads".as_ref(),
        "3".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        file.as_os_str(),
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&import.stdout).unwrap();
    assert_eq!(summary["samples_added"], summary["samples"], "{summary}");
    assert_eq!(
        summary["exemplars_added"].as_u64(),
        Some(exemplar_lines.len() as u64),
        "{summary}"
    );

    let dump = cairn(&["dump".as_ref(), "--data".as_ref(), data.as_os_str()]);
    let actual = String::from_utf8(dump.stdout).unwrap();
    if actual != expected {
        let first = actual
            .lines()
            .zip(expected.lines())
            .position(|(a, e)| a != e)
            .unwrap_or(actual.lines().count().min(expected.lines().count()));
        panic!(
            "cairn dump differs from promtool tsdb dump at line {}:\n  cairn:    {:?}\n  promtool: {:?}\n({} vs {} lines)",
            first + 1,
            actual.lines().nth(first),
            expected.lines().nth(first),
            actual.lines().count(),
            expected.lines().count()
        );
    }

    let exemplars = cairn(&[
        "dump".as_ref(),
        "--exemplars".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
    ]);
    let exemplars = String::from_utf8(exemplars.stdout).unwrap();
    assert_eq!(exemplars.lines().collect::<Vec<_>>(), exemplar_lines);

    // The same file again: nothing added, nothing written, the dump unchanged.
    let again = cairn(&[
        "import".as_ref(),
        "--json".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        file.as_os_str(),
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(summary["samples_added"], 0, "{summary}");
    assert_eq!(summary["exemplars_added"], 0, "{summary}");
    assert_eq!(summary["blocks_written"], 0, "{summary}");
    let dump = cairn(&["dump".as_ref(), "--data".as_ref(), data.as_os_str()]);
    assert!(
        String::from_utf8(dump.stdout).unwrap() == expected,
        "the dump changed after importing the same file again"
    );

    // A selector and a time range, as promtool's dump would cut them.
    let some = cairn(&[
        "dump".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--match".as_ref(),
        r#"requests_total{code="500"}"#.as_ref(),
        "--min-time".as_ref(),
        "1700003600000".as_ref(),
        "--max-time".as_ref(),
        "1700007200000".as_ref(),
    ]);
    let some = String::from_utf8(some.stdout).unwrap();
    let want: Vec<&str> = expected
        .lines()
        .filter(|l| l.starts_with(r#"{__name__="requests_total", code="500""#))
        .filter(|l| {
            let t: i64 = l.rsplit(' ').next().unwrap().parse().unwrap();
            (1_700_003_600_000..=1_700_007_200_000).contains(&t)
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(some.lines().collect::<Vec<_>>(), want);
}
