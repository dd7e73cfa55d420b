//! The body of the `expfmt` fuzz target, shared with stable `cargo test` so that the committed
//! corpus and every crash input ever found run on every test run.
//!
//! Not part of the API: it panics on purpose when an invariant breaks.

use crate::{Entry, Format, Mode, Parser, encode_openmetrics, encode_prometheus, parse_families};

/// Timestamps up to this magnitude survive the trip through OpenMetrics float seconds exactly
/// (an f64 holds them to well under half a millisecond).
const EXACT_SECONDS_MS: i64 = 1 << 50;

/// Feeds `data` to both formats in both modes and checks what must hold for any input: no
/// panic, errors positioned inside the input, borrowed views readable, and
/// parse(encode(parse(x))) == parse(x) whenever x parses.
pub fn run(data: &[u8]) {
    for format in [Format::OpenMetrics, Format::PrometheusText] {
        for mode in [Mode::Strict, Mode::Scrape] {
            walk(data, format, mode);
        }
        round_trip(data, format);
    }
    let _ = crate::detect_format(data);
}

fn walk(data: &[u8], format: Format, mode: Mode) {
    let mut parser = Parser::new(data, format, mode);
    let mut last_offset = 0;
    for entry in parser.by_ref() {
        match entry {
            Ok(Entry::Sample(s)) => {
                let _ = s.name.unescaped();
                for l in s.labels {
                    let _ = (l.name.unescaped(), l.value.unescaped());
                }
                if let Some(e) = s.exemplar {
                    let n = e.labels.iter().count();
                    assert_eq!(n, e.labels.len(), "exemplar label count");
                }
                assert_eq!(s.labels.iter().count(), s.labels.len(), "label count");
            }
            Ok(Entry::Help { text, .. }) => {
                let _ = text.unescaped();
            }
            Ok(_) => {}
            Err(e) => {
                assert!(
                    e.offset() <= data.len(),
                    "error offset {} beyond input {}",
                    e.offset(),
                    data.len()
                );
                assert!(e.line() >= 1 && e.column() >= 1);
                assert!(
                    e.offset() >= last_offset || e.kind() == crate::ErrorKind::Rule,
                    "errors in order"
                );
                last_offset = e.offset();
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(parser.warnings().len() as u64 <= parser.dropped_exemplars());
}

fn round_trip(data: &[u8], format: Format) {
    let Ok(first) = parse_families(data, format, Mode::Scrape) else {
        return;
    };
    let exact = first
        .families
        .iter()
        .flat_map(|f| &f.samples)
        .flat_map(|s| [s.timestamp, s.exemplar.as_ref().and_then(|e| e.timestamp)])
        .flatten()
        .all(|t| t.unsigned_abs() <= EXACT_SECONDS_MS.unsigned_abs());
    if format == Format::OpenMetrics && !exact {
        return;
    }
    let mut text = String::new();
    match format {
        Format::OpenMetrics => encode_openmetrics(&first.families, &mut text),
        Format::PrometheusText => encode_prometheus(&first.families, &mut text),
    }
    let second = match parse_families(text.as_bytes(), format, Mode::Scrape) {
        Ok(s) => s,
        Err(errors) => panic!("encoded text does not parse: {errors:?}\n{text}"),
    };
    // Debug form, so that NaN compares equal to itself.
    assert_eq!(
        format!("{:?}", first.families),
        format!("{:?}", second.families),
        "round trip changed the exposition:\n{text}"
    );
}
