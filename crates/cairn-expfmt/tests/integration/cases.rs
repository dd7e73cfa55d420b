//! The parser's own cases, table-driven from `testdata/expfmt/cases.txt`.

use std::fmt::Write as _;

use cairn_expfmt::{Entry, Format, LabelSet, Limits, Mode, Parser, Text};

const CASES: &str = include_str!("../../../../testdata/expfmt/cases.txt");

fn name(t: Text<'_>) -> String {
    let s = t.unescaped();
    let legacy = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if legacy {
        s.into_owned()
    } else {
        format!("{s:?}")
    }
}

fn labels(set: LabelSet<'_>) -> String {
    let parts: Vec<String> = set
        .iter()
        .map(|l| format!("{}={:?}", l.name.unescaped(), l.value.unescaped()))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// One line per entry, warnings before the sample they were found on.
fn render(input: &[u8], format: Format, mode: Mode, limits: Limits) -> String {
    let mut out = String::new();
    let mut parser = Parser::with_limits(input, format, mode, limits);
    let mut warned = 0;
    while let Some(entry) = parser.next() {
        for w in &parser.warnings()[warned..] {
            let _ = writeln!(out, "WARN {}:{} {}", w.line(), w.column(), w.message());
        }
        warned = parser.warnings().len();
        match entry {
            Ok(Entry::Help { name: n, text }) => {
                let _ = writeln!(out, "HELP {} {:?}", name(n), text.unescaped());
            }
            Ok(Entry::Type { name: n, kind }) => {
                let _ = writeln!(out, "TYPE {} {kind}", name(n));
            }
            Ok(Entry::Unit { name: n, unit }) => {
                let _ = writeln!(out, "UNIT {} {}", name(n), unit.raw());
            }
            Ok(Entry::Comment(c)) => {
                let _ = writeln!(out, "COMMENT {:?}", String::from_utf8_lossy(c));
            }
            Ok(Entry::Eof) => out.push_str("EOF\n"),
            Ok(Entry::Sample(s)) => {
                let _ = write!(
                    out,
                    "SAMPLE {} {} {}",
                    name(s.name),
                    labels(s.labels),
                    s.value
                );
                if let Some(t) = s.timestamp {
                    let _ = write!(out, " @{t}");
                }
                let _ = write!(out, " {}", s.kind);
                if let Some(e) = s.exemplar {
                    let _ = write!(out, " # {} {}", labels(e.labels), e.value);
                    if let Some(t) = e.timestamp {
                        let _ = write!(out, " @{t}");
                    }
                }
                out.push('\n');
            }
            Err(e) => {
                let _ = writeln!(out, "ERROR {}:{} {}", e.line(), e.column(), e.message());
            }
        }
    }
    out
}

struct Case {
    name: String,
    format: Format,
    mode: Mode,
    limits: Limits,
    input: String,
    expected: String,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for block in CASES.split("\n=== ").skip(1) {
        let (header, body) = block.split_once('\n').expect("header line");
        let fields: Vec<&str> = header.split(" | ").map(str::trim).collect();
        let format = match fields[1] {
            "om" => Format::OpenMetrics,
            "prom" => Format::PrometheusText,
            other => panic!("{header}: unknown format {other}"),
        };
        let mode = match fields[2] {
            "strict" => Mode::Strict,
            "scrape" => Mode::Scrape,
            other => panic!("{header}: unknown mode {other}"),
        };
        let mut limits = Limits::default();
        let mut eol = true;
        for opt in &fields[3..] {
            match opt.split_once('=') {
                Some(("max_labels", n)) => limits.max_labels = n.parse().unwrap(),
                Some(("max_line_bytes", n)) => limits.max_line_bytes = n.parse().unwrap(),
                None if *opt == "noeol" => eol = false,
                _ => panic!("{header}: unknown option {opt}"),
            }
        }
        let (input, expected) = body
            .split_once("\n---\n")
            .unwrap_or_else(|| panic!("{header}: no ---"));
        let mut input = format!("{input}\n");
        if !eol {
            input.pop();
        }
        let expected = expected.trim_end_matches('\n').to_string() + "\n";
        out.push(Case {
            name: fields[0].to_string(),
            format,
            mode,
            limits,
            input,
            expected,
        });
    }
    out
}

#[test]
fn table() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases read", cases.len());
    let mut failures = String::new();
    for c in &cases {
        let got = render(c.input.as_bytes(), c.format, c.mode, c.limits);
        if got != c.expected {
            let _ = write!(
                failures,
                "\n=== {}\n--- expected\n{}--- got\n{}",
                c.name, c.expected, got
            );
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn invalid_utf8_is_reported_where_it_is() {
    let got = render(
        b"a{b=\"\xff\"} 1\n",
        Format::PrometheusText,
        Mode::Scrape,
        Limits::default(),
    );
    assert_eq!(got, "ERROR 1:6 label value is not valid UTF-8\n");
    let got = render(
        b"# HELP a x\xffy\n",
        Format::PrometheusText,
        Mode::Scrape,
        Limits::default(),
    );
    assert_eq!(got, "ERROR 1:11 help text is not valid UTF-8\n");
}

/// Scrape mode never allocates per sample: labels are views, unescaped only on demand.
#[test]
fn label_values_borrow_unless_escaped() {
    let input = b"a{plain=\"x\",esc=\"a\\\"b\"} 1\n";
    let mut p = Parser::new(input, Format::PrometheusText, Mode::Scrape);
    let Some(Ok(Entry::Sample(s))) = p.next() else {
        panic!("a sample")
    };
    let plain = s.labels.get("plain").unwrap();
    assert!(!plain.has_escapes());
    assert!(matches!(plain.unescaped(), std::borrow::Cow::Borrowed("x")));
    let esc = s.labels.get("esc").unwrap();
    assert!(esc.has_escapes());
    assert_eq!(esc.raw(), "a\\\"b");
    assert_eq!(esc.unescaped(), "a\"b");
}
