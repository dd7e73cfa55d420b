//! Choosing a format: from an HTTP `Content-Type`, or from the bytes themselves.

use crate::Format;

/// The `Accept` header cairn sends when it scrapes: OpenMetrics first, Prometheus text as the
/// fallback, in the order Prometheus 3 prefers them.
pub const SCRAPE_ACCEPT_HEADER: &str = "application/openmetrics-text;version=1.0.0;q=0.6,\
application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;q=0.4,\
text/plain;version=0.0.4;q=0.3,*/*;q=0.2";

pub(crate) fn from_content_type(content_type: &str) -> Option<Format> {
    let mut parts = content_type.split(';');
    let media = parts.next()?.trim().to_ascii_lowercase();
    match media.as_str() {
        "application/openmetrics-text" => Some(Format::OpenMetrics),
        // Prometheus text 0.0.4, and 1.0.0 (the same grammar with quoted UTF-8 names). An
        // exporter that names no version means 0.0.4.
        "text/plain" => {
            for p in parts {
                if let Some((k, v)) = p.split_once('=')
                    && k.trim().eq_ignore_ascii_case("version")
                {
                    let v = v.trim().trim_matches('"');
                    if v != "0.0.4" && v != "1.0.0" {
                        return None;
                    }
                }
            }
            Some(Format::PrometheusText)
        }
        _ => None,
    }
}

/// Guesses the format from the content: a `# EOF` line means OpenMetrics, anything else
/// Prometheus text.
pub fn detect_format(buf: &[u8]) -> Format {
    let finder = memchr::memmem::Finder::new(b"# EOF");
    for at in finder.find_iter(buf) {
        let line_start = at == 0 || buf.get(at - 1) == Some(&b'\n');
        let rest = buf.get(at + 5..).unwrap_or_default();
        let line_end = rest.is_empty() || rest.first() == Some(&b'\n');
        if line_start && line_end {
            return Format::OpenMetrics;
        }
    }
    Format::PrometheusText
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let cases = [
            (
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                Some(Format::OpenMetrics),
            ),
            (
                "application/openmetrics-text;version=0.0.1",
                Some(Format::OpenMetrics),
            ),
            ("Application/OpenMetrics-Text", Some(Format::OpenMetrics)),
            (
                "text/plain; version=0.0.4; charset=utf-8",
                Some(Format::PrometheusText),
            ),
            (
                "text/plain;version=1.0.0;escaping=allow-utf-8",
                Some(Format::PrometheusText),
            ),
            ("text/plain", Some(Format::PrometheusText)),
            ("text/plain; version=2.0", None),
            (
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily",
                None,
            ),
            ("", None),
        ];
        for (ct, want) in cases {
            assert_eq!(from_content_type(ct), want, "{ct}");
        }
    }

    #[test]
    fn detection() {
        assert_eq!(detect_format(b"a 1\n# EOF\n"), Format::OpenMetrics);
        assert_eq!(detect_format(b"a 1\n# EOF"), Format::OpenMetrics);
        assert_eq!(detect_format(b"# EOF"), Format::OpenMetrics);
        assert_eq!(detect_format(b"a 1\n"), Format::PrometheusText);
        assert_eq!(
            detect_format(b"# HELP a # EOF\na 1\n"),
            Format::PrometheusText
        );
        assert_eq!(detect_format(b"# EOFx\n"), Format::PrometheusText);
    }
}
