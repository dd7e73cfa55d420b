//! The OpenMetrics project's parser test suite: the strict verdict must equal `shouldParse`
//! for every case. A case cairn believes the suite gets wrong would be listed in
//! `testdata/expfmt/openmetrics-suite-exceptions.txt` with a reason; the list is empty.

use cairn_expfmt::{Entry, Format, Mode, Parser};

use crate::shared::conformance_dir;

/// The strict verdict: accepted when no entry is an error.
fn strict_ok(buf: &[u8]) -> Result<(), String> {
    for entry in Parser::new(buf, Format::OpenMetrics, Mode::Strict) {
        if let Err(e) = entry {
            return Err(e.to_string());
        }
    }
    Ok(())
}

fn exceptions() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/expfmt/openmetrics-suite-exceptions.txt"
    );
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn every_case_matches_should_parse() {
    let Some(dir) = conformance_dir("openmetrics") else {
        return;
    };
    let exceptions = exceptions();
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("read suite dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("test.json").is_file())
        .collect();
    cases.sort();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case.join("test.json")).unwrap()).unwrap();
        assert_eq!(meta["type"], "text", "{name}: only text cases exist");
        let should = meta["shouldParse"].as_bool().expect("shouldParse");
        let file = meta["file"].as_str().unwrap_or("metrics");
        let input = std::fs::read(case.join(file)).unwrap();
        let got = strict_ok(&input);
        if exceptions.contains(&name) {
            continue;
        }
        checked += 1;
        if got.is_ok() != should {
            wrong.push(format!("{name}: shouldParse={should}, cairn: {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases disagree:\n{}",
        wrong.len(),
        checked,
        wrong.join("\n")
    );
    assert_eq!(checked + exceptions.len(), cases.len());
    assert!(
        cases.len() >= 211,
        "expected the 211 suite cases, found {}",
        cases.len()
    );
    eprintln!(
        "openmetrics suite: {checked} of {} cases agree ({} listed exceptions)",
        cases.len(),
        exceptions.len()
    );
}

/// Every valid case also parses in scrape mode, with the same samples as strict mode.
#[test]
fn valid_cases_parse_the_same_in_scrape_mode() {
    let Some(dir) = conformance_dir("openmetrics") else {
        return;
    };
    for entry in std::fs::read_dir(&dir).unwrap() {
        let case = entry.unwrap().path();
        let Ok(meta) = std::fs::read(case.join("test.json")) else {
            continue;
        };
        let meta: serde_json::Value = serde_json::from_slice(&meta).unwrap();
        if meta["shouldParse"] != true {
            continue;
        }
        let input = std::fs::read(case.join("metrics")).unwrap();
        let strict: Vec<_> = Parser::new(&input, Format::OpenMetrics, Mode::Strict).collect();
        let mut scrape = Parser::new(&input, Format::OpenMetrics, Mode::Scrape);
        let scraped: Vec<_> = scrape.by_ref().collect();
        // Debug form, so NaN values compare equal to themselves.
        assert_eq!(
            format!("{strict:?}"),
            format!("{scraped:?}"),
            "{}",
            case.display()
        );
        assert_eq!(scrape.dropped_exemplars(), 0);
        assert!(
            matches!(scraped.last(), Some(Ok(Entry::Eof))),
            "{}",
            case.display()
        );
    }
}
