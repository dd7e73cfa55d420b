//! Writing expositions: OpenMetrics 1.0 (with exemplars) and Prometheus text 0.0.4.

use std::fmt::Write as _;

use cairn_model::{Labels, MetricType};

use crate::MetricFamily;
use crate::lex;

/// Writes `families` as OpenMetrics 1.0 text, exemplars included, ending with `# EOF`.
///
/// Names that are not `[a-zA-Z_:][a-zA-Z0-9_:]*` are written quoted, the metric name inside
/// the braces, as Prometheus 3 does. Timestamps are written as seconds with millisecond
/// precision.
pub fn encode_openmetrics(families: &[MetricFamily], out: &mut String) {
    for fam in families {
        let name = quoted_if_needed(&fam.name, true);
        // A family with no samples lives only in its metadata, so it always gets a TYPE line.
        let typed = fam.kind != MetricType::Unknown || fam.samples.is_empty();
        if typed || fam.help.is_some() || fam.unit.is_some() {
            let _ = writeln!(out, "# TYPE {name} {}", fam.kind.as_openmetrics());
        }
        if let Some(unit) = &fam.unit {
            let _ = writeln!(out, "# UNIT {name} {unit}");
        }
        if let Some(help) = &fam.help {
            let _ = writeln!(out, "# HELP {name} {}", escape(help, true));
        }
        for s in &fam.samples {
            series(out, &s.name, &s.labels);
            out.push(' ');
            float(out, s.value);
            if let Some(t) = s.timestamp {
                out.push(' ');
                seconds(out, t);
            }
            if let Some(e) = &s.exemplar {
                out.push_str(" # ");
                label_set(out, None, &e.labels);
                out.push(' ');
                float(out, e.value);
                if let Some(t) = e.timestamp {
                    out.push(' ');
                    seconds(out, t);
                }
            }
            out.push('\n');
        }
    }
    out.push_str("# EOF\n");
}

/// Writes `families` as Prometheus text 0.0.4.
///
/// The format has no exemplars, units or OpenMetrics-only types: exemplars and units are left
/// out, and gauge histograms, info and stateset families are written as `untyped`.
pub fn encode_prometheus(families: &[MetricFamily], out: &mut String) {
    for fam in families {
        let name = quoted_if_needed(&fam.name, true);
        if let Some(help) = &fam.help {
            let _ = writeln!(out, "# HELP {name} {}", escape(help, false));
        }
        if fam.kind != MetricType::Unknown || fam.help.is_some() || fam.samples.is_empty() {
            let kind = fam.kind.as_prometheus().unwrap_or("untyped");
            let _ = writeln!(out, "# TYPE {name} {kind}");
        }
        for s in &fam.samples {
            series(out, &s.name, &s.labels);
            out.push(' ');
            float(out, s.value);
            if let Some(t) = s.timestamp {
                let _ = write!(out, " {t}");
            }
            out.push('\n');
        }
    }
}

fn is_legacy_name(s: &str, metric: bool) -> bool {
    let b = s.as_bytes();
    let start_ok = |c: u8| {
        if metric {
            lex::is_metric_name_start(c)
        } else {
            lex::is_label_name_start(c)
        }
    };
    let byte_ok = |c: u8| {
        if metric {
            lex::is_metric_name_byte(c)
        } else {
            lex::is_label_name_byte(c)
        }
    };
    matches!(b.first(), Some(&c) if start_ok(c)) && b.iter().all(|&c| byte_ok(c))
}

fn quoted_if_needed(s: &str, metric: bool) -> String {
    if is_legacy_name(s, metric) {
        s.to_string()
    } else {
        format!("\"{}\"", escape(s, true))
    }
}

fn series(out: &mut String, name: &str, labels: &Labels) {
    if is_legacy_name(name, true) {
        out.push_str(name);
        if !labels.is_empty() {
            label_set(out, None, labels);
        }
    } else {
        label_set(out, Some(name), labels);
    }
}

fn label_set(out: &mut String, name: Option<&str>, labels: &Labels) {
    out.push('{');
    let mut first = true;
    if let Some(name) = name {
        let _ = write!(out, "\"{}\"", escape(name, true));
        first = false;
    }
    for l in labels {
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(
            out,
            "{}=\"{}\"",
            quoted_if_needed(&l.name, false),
            escape(&l.value, true)
        );
    }
    out.push('}');
}

/// Escapes `\`, newline and (when `quote`) `"`.
fn escape(s: &str, quote: bool) -> std::borrow::Cow<'_, str> {
    if !s.contains(['\\', '\n', '"']) {
        return s.into();
    }
    let mut o = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '"' if quote => o.push_str("\\\""),
            c => o.push(c),
        }
    }
    o.into()
}

/// The shortest text that parses back to the same f64; NaN and infinities as the formats
/// spell them.
fn float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
    } else if v == f64::INFINITY {
        out.push_str("+Inf");
    } else if v == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        // Debug prints the shortest round-trip representation, with an exponent for very
        // large and small magnitudes.
        let _ = write!(out, "{v:?}");
    }
}

/// Milliseconds as decimal seconds with three fraction digits.
///
/// Readers convert with `int64(seconds * 1000)`, which truncates: where the float product
/// falls just below the integer, a trailing `5` (half a millisecond) makes the text read
/// back as the same millisecond.
fn seconds(out: &mut String, ms: i64) {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    let start = out.len();
    let _ = write!(out, "{sign}{}.{:03}", abs / 1000, abs % 1000);
    let back = out
        .get(start..)
        .and_then(|t| crate::number::parse_f64(t.as_bytes()))
        .map(crate::number::seconds_to_ms);
    if back != Some(ms) {
        out.push('5');
    }
}
