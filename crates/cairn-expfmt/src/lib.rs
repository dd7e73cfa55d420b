//! Prometheus text 0.0.4 and OpenMetrics 1.0 expositions, exemplars included: a streaming,
//! zero-copy parser and an encoder.
//!
//! The parser walks a `&[u8]` buffer line by line and yields borrowed [`Entry`] values: no
//! allocation per sample, label values unescaped only when asked and only when they contain
//! escapes. Two modes:
//!
//! - [`Mode::Strict`] checks the OpenMetrics 1.0 specification in full (exemplars only on
//!   counter `_total` and histogram `_bucket`, metadata before samples, grouping and timestamp
//!   order, the labels and values each type requires, histogram consistency). A caller rejects
//!   the exposition on the first error.
//! - [`Mode::Scrape`] accepts what Prometheus 3 accepts from real exporters: exemplars on any
//!   series, and a malformed exemplar drops only that exemplar (counted and reported, see
//!   [`Parser::warnings`]), never the sample or the rest of the scrape.
//!
//! ```
//! use cairn_expfmt::{Entry, Format, Mode, Parser};
//!
//! let body = b"# TYPE http_request_duration_seconds histogram
//! http_request_duration_seconds_bucket{le=\"5.0\"} 15 # {trace_id=\"12a3b45c\"} 1.2 1700000000.5
//! http_request_duration_seconds_bucket{le=\"+Inf\"} 16
//! http_request_duration_seconds_count 16
//! http_request_duration_seconds_sum 30.5
//! ## EOF
//! ";
//! let mut exemplars = 0;
//! for entry in Parser::new(body, Format::OpenMetrics, Mode::Strict) {
//!     if let Entry::Sample(s) = entry? {
//!         if let Some(e) = s.exemplar {
//!             assert_eq!(s.labels.get("le").unwrap().raw(), "5.0");
//!             assert_eq!(e.labels.get("trace_id").unwrap().raw(), "12a3b45c");
//!             assert_eq!((e.value, e.timestamp), (1.2, Some(1_700_000_000_500)));
//!             exemplars += 1;
//!         }
//!     }
//! }
//! assert_eq!(exemplars, 1);
//! # Ok::<(), cairn_expfmt::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(clippy::indexing_slicing)]

mod cursor;
mod encode;
mod error;
mod family;
#[doc(hidden)]
pub mod fuzzing;
mod lex;
mod negotiate;
mod normalize;
mod number;
mod parser;
mod strict;
mod text;

pub use encode::{encode_openmetrics, encode_prometheus};
pub use error::{Error, ErrorKind};
pub use family::{Exposition, FamilySample, MetricFamily, parse_exposition, parse_families};
pub use negotiate::{SCRAPE_ACCEPT_HEADER, detect_format};
pub use normalize::{format_float, prometheus_label_value};
pub use parser::{Entry, Exemplar, MAX_EXEMPLAR_LABEL_RUNES, Parser, Sample};
pub use text::{Label, LabelIter, LabelSet, Text};

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// OpenMetrics 1.0 text (`application/openmetrics-text`), ending with `# EOF`.
    OpenMetrics,
    /// Prometheus text format 0.0.4 (`text/plain; version=0.0.4`).
    PrometheusText,
}

impl Format {
    /// Picks the format from an HTTP `Content-Type` header; `None` for media types cairn does
    /// not parse (protobuf, or something else entirely).
    ///
    /// ```
    /// use cairn_expfmt::Format;
    /// let ct = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    /// assert_eq!(Format::from_content_type(ct), Some(Format::OpenMetrics));
    /// assert_eq!(Format::from_content_type("text/plain; version=0.0.4"), Some(Format::PrometheusText));
    /// assert_eq!(Format::from_content_type("application/vnd.google.protobuf"), None);
    /// ```
    pub fn from_content_type(content_type: &str) -> Option<Format> {
        negotiate::from_content_type(content_type)
    }

    /// The `Content-Type` header cairn writes for this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            Format::PrometheusText => "text/plain; version=0.0.4; charset=utf-8",
        }
    }
}

/// How much of the OpenMetrics specification the parser enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The OpenMetrics 1.0 specification in full; for validating an exporter.
    Strict,
    /// What Prometheus 3 accepts from real exporters; for scraping.
    Scrape,
}

/// Bounds on what one exposition may hold; exceeding one is an [`ErrorKind::Limit`] error on
/// that line.
///
/// The parser allocates nothing per sample; these bound the work per line and the memory
/// that errors and warnings can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest line, in bytes (default 1 MiB).
    pub max_line_bytes: usize,
    /// The most labels on one sample or exemplar (default 256).
    pub max_labels: usize,
    /// The longest label name or label value, and the longest quoted metric name, in bytes
    /// (default 64 KiB).
    pub max_label_bytes: usize,
    /// The most dropped-exemplar warnings kept (default 100; the count goes on beyond).
    pub max_warnings: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_line_bytes: 1 << 20,
            max_labels: 256,
            max_label_bytes: 64 << 10,
            max_warnings: 100,
        }
    }
}
