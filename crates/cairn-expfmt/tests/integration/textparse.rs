//! Prometheus' own parser test vectors (`../shared/conformance/prometheus-textparse`).

use std::collections::BTreeMap;

use cairn_expfmt::{Entry, Format, Mode, Parser, detect_format};

use crate::shared::conformance_dir;

fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("bad base64 byte {c}"),
        }
    };
    let bytes: Vec<u8> = s.bytes().filter(|&b| b != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        let take = chunk.len() - 1;
        out.extend_from_slice(&n.to_be_bytes()[1..1 + take]);
    }
    out
}

/// Errors in `mode`, plus dropped exemplars (warnings) in scrape mode.
fn problems(input: &[u8], format: Format, mode: Mode) -> usize {
    let mut p = Parser::new(input, format, mode);
    let errors = p.by_ref().filter(Result::is_err).count();
    errors + p.dropped_exemplars() as usize
}

#[test]
fn parse_error_cases() {
    let Some(dir) = conformance_dir("prometheus-textparse") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("parse_error_cases.jsonl")).unwrap();
    let (mut accepted, mut rejected) = (0, 0);
    let mut wrong = Vec::new();
    for line in text.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let input = base64(row["input_b64"].as_str().unwrap());
        let format = match row["parser"].as_str().unwrap() {
            "openmetrics" => Format::OpenMetrics,
            "prometheus-text" => Format::PrometheusText,
            other => panic!("unknown parser {other}"),
        };
        let should = row["should_parse"].as_bool().unwrap();
        let strict = problems(&input, format, Mode::Strict);
        let scrape = problems(&input, format, Mode::Scrape);
        let src = row["source"].as_str().unwrap();
        if should {
            accepted += 1;
            if strict + scrape != 0 {
                wrong.push(format!(
                    "{src}: {:?} must be accepted",
                    String::from_utf8_lossy(&input)
                ));
            }
        } else {
            rejected += 1;
            // Strict mode rejects; scrape mode reports it, as an error or a dropped exemplar.
            if strict == 0 || scrape == 0 {
                wrong.push(format!(
                    "{src}: {:?} must be rejected (strict problems {strict}, scrape problems {scrape})",
                    String::from_utf8_lossy(&input)
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!((accepted, rejected), (10, 99));
}

/// `invalid_inputs.txt` holds the same 99 rejected inputs; check it agrees in number, so the
/// two files cannot drift apart unnoticed.
#[test]
fn invalid_inputs_are_rejected() {
    let Some(dir) = conformance_dir("prometheus-textparse") else {
        return;
    };
    let raw = std::fs::read(dir.join("invalid_inputs.txt")).unwrap();
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(dir.join("parse_error_cases.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut cases: Vec<&[u8]> = Vec::new();
    let mut rest: &[u8] = &raw;
    let sep = b"\n----\n";
    loop {
        match rest.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                cases.push(&rest[..i]);
                rest = &rest[i + sep.len()..];
            }
            None => {
                cases.push(rest.strip_suffix(b"\n").unwrap_or(rest));
                break;
            }
        }
    }
    assert_eq!(cases.len(), 99);
    for (i, case) in cases.iter().enumerate() {
        let row = rows
            .iter()
            .find(|r| r["invalid_inputs_txt_index"].as_u64() == Some(i as u64))
            .expect("row for case");
        let format = if row["parser"] == "openmetrics" {
            Format::OpenMetrics
        } else {
            Format::PrometheusText
        };
        assert!(
            problems(case, format, Mode::Strict) > 0,
            "case {i} {:?} must be rejected",
            String::from_utf8_lossy(case)
        );
    }
}

/// Prometheus' expected exemplar parses, in scrape mode.
#[test]
fn expected_openmetrics_exemplars() {
    let Some(dir) = conformance_dir("prometheus-textparse") else {
        return;
    };
    let inputs = ["om_parse_input.om.txt", "om_parse_utf8_input.om.txt"]
        .map(|f| std::fs::read(dir.join(f)).unwrap());
    let mut samples = Vec::new();
    for input in &inputs {
        let mut parser = Parser::new(input, Format::OpenMetrics, Mode::Scrape);
        for entry in parser.by_ref() {
            if let Entry::Sample(s) = entry.expect("the input parses in scrape mode") {
                samples.push(s);
            }
        }
        assert_eq!(parser.dropped_exemplars(), 0);
    }
    let rows = std::fs::read_to_string(dir.join("expected_om.jsonl")).unwrap();
    let mut checked = 0;
    for line in rows.lines() {
        let row: serde_json::Value = serde_json::from_str(line).unwrap();
        let labels: BTreeMap<String, String> = row["labels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let found = samples
            .iter()
            .find(|s| {
                let mut got: BTreeMap<String, String> = s
                    .labels
                    .iter()
                    .map(|l| (l.name.unescaped().into(), l.value.unescaped().into()))
                    .collect();
                got.insert("__name__".into(), s.name.unescaped().into());
                got == labels && s.exemplar.is_some() != row["exemplar_labels"].is_null()
            })
            .unwrap_or_else(|| panic!("no sample for {}", row["input"]));
        assert_eq!(
            found.value,
            row["value"].as_f64().unwrap(),
            "{}",
            row["input"]
        );
        assert_eq!(
            found.timestamp,
            row["timestamp_ms"].as_i64(),
            "{}",
            row["input"]
        );
        let kind = row["family_type"].as_str().unwrap_or("unknown");
        assert_eq!(found.kind.as_openmetrics(), kind, "{}", row["input"]);
        let e = found.exemplar.as_ref().unwrap();
        let want: BTreeMap<String, String> = row["exemplar_labels"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let got: BTreeMap<String, String> = e
            .labels
            .iter()
            .map(|l| (l.name.unescaped().into(), l.value.unescaped().into()))
            .collect();
        assert_eq!(got, want, "{}", row["input"]);
        assert_eq!(
            e.value,
            row["exemplar_value"].as_f64().unwrap(),
            "{}",
            row["input"]
        );
        assert_eq!(
            e.timestamp,
            row["exemplar_timestamp_ms"].as_i64(),
            "{}",
            row["input"]
        );
        checked += 1;
    }
    assert_eq!(checked, 10);
}

/// Every exposition file of the vectors parses without an error in scrape mode.
#[test]
fn every_vector_file_parses() {
    let Some(dir) = conformance_dir("prometheus-textparse") else {
        return;
    };
    let mut files = Vec::new();
    for sub in [dir.clone(), dir.join("historical")] {
        for e in std::fs::read_dir(sub).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".prom.txt")
                || name.ends_with(".om.txt")
                || p.parent().unwrap().ends_with("historical")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() >= 11, "found only {files:?}");
    for path in &files {
        let input = std::fs::read(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let format = if name.ends_with(".om.txt") {
            Format::OpenMetrics
        } else if name.ends_with(".prom.txt") {
            Format::PrometheusText
        } else {
            detect_format(&input)
        };
        if format == Format::OpenMetrics {
            assert_eq!(detect_format(&input), format, "{name}: content detection");
        }
        let mut p = Parser::new(&input, format, Mode::Scrape);
        let mut samples = 0;
        for entry in p.by_ref() {
            match entry {
                Ok(Entry::Sample(_)) => samples += 1,
                Ok(_) => {}
                Err(e) => panic!("{name}:{e}"),
            }
        }
        assert!(samples > 0, "{name}: no samples");
        assert_eq!(p.dropped_exemplars(), 0, "{name}: {:?}", p.warnings());
    }
}
