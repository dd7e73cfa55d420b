//! `cairn import` on bad lines: the good ones are imported, each bad one is reported at its
//! line in the file, however the file is cut into parts for parsing.

use std::fmt::Write as _;
use std::process::Command;

#[test]
fn bad_lines_are_reported_at_their_line_and_the_rest_imported() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("# TYPE load gauge\n");
    for i in 0..1000 {
        if i == 700 {
            text.push_str("load{s=\"x\" 1 1700000000.000\n"); // line 702: unclosed braces
        }
        writeln!(
            text,
            "load{{s=\"{}\"}} {i} {}.000",
            i % 7,
            1_700_000_000 + i
        )
        .unwrap();
    }
    text.push_str("# EOF\n");
    let file = dir.path().join("bad.om.txt");
    std::fs::write(&file, &text).unwrap();
    for threads in ["1", "2", "5"] {
        let data = dir.path().join(format!("db{threads}"));
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["import", "--json", "--threads", threads, "--data"])
            .arg(&data)
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "threads {threads}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let where_ = format!("{}:702:", file.display());
        assert!(stderr.contains(&where_), "threads {threads}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "threads {threads}: {stderr}");
        let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            summary["samples_added"], 1000,
            "threads {threads}: {summary}"
        );
        assert_eq!(summary["parse_errors"], 1, "threads {threads}: {summary}");
    }
}

#[test]
fn an_eof_line_before_the_end_is_an_error_however_the_file_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("# TYPE load gauge\n");
    for i in 0..1000 {
        if i == 500 {
            text.push_str("# EOF\n"); // line 502
        }
        writeln!(
            text,
            "load{{s=\"{}\"}} {i} {}.000",
            i % 7,
            1_700_000_000 + i
        )
        .unwrap();
    }
    text.push_str("# EOF\n");
    let file = dir.path().join("early-eof.om.txt");
    std::fs::write(&file, &text).unwrap();
    for threads in ["1", "2", "3", "7"] {
        let data = dir.path().join(format!("db{threads}"));
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["import", "--threads", threads, "--data"])
            .arg(&data)
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "threads {threads}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("EOF"), "threads {threads}: {stderr}");
    }
}
