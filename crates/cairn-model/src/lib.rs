//! Shared types of cairn: metric types, owned labels, label matchers, samples and exemplars,
//! and time units.
//!
//! Every other cairn crate speaks in these types. Timestamps are `i64` milliseconds since the
//! Unix epoch everywhere inside cairn; formats that use other units (OpenMetrics float seconds)
//! convert at the edge.
//!
//! ```
//! use cairn_model::{Labels, MetricType};
//!
//! let labels = Labels::from_pairs([("job", "api"), ("__name__", "up")]);
//! assert_eq!(labels.get("__name__"), Some("up"));
//! assert_eq!(labels.to_string(), r#"{__name__="up", job="api"}"#);
//! assert_eq!(MetricType::from_openmetrics("gaugehistogram"), Some(MetricType::GaugeHistogram));
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod labels;
mod matcher;
mod metric_type;

pub use labels::{Label, Labels};
pub use matcher::{MatchOp, Matcher, Pattern, RegexError, RegexPattern};
pub use metric_type::MetricType;

/// Milliseconds since the Unix epoch, the one time unit inside cairn.
pub type TimestampMs = i64;

/// Prometheus' staleness marker: a NaN with this exact bit pattern means "this series ended".
///
/// It must survive storage bit-exact; ordinary NaN values use [`NORMAL_NAN_BITS`].
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The bit pattern Prometheus gives every NaN parsed from text, so stored chunks compare
/// bit-for-bit with Prometheus' own.
pub const NORMAL_NAN_BITS: u64 = 0x7ff8_0000_0000_0001;

/// A float sample with an owned label set.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels, `__name__` included.
    pub labels: Labels,
    /// Milliseconds since the Unix epoch.
    pub timestamp: TimestampMs,
    /// The value; NaN payloads (staleness markers) are kept bit-exact.
    pub value: f64,
}

/// An exemplar: one example of an observation, usually carrying a trace ID.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// The exemplar's own labels, for example `trace_id` and `span_id`.
    pub labels: Labels,
    /// The observed value.
    pub value: f64,
    /// When it was observed, in milliseconds; `None` when the exposition gave no timestamp.
    pub timestamp: Option<TimestampMs>,
}
