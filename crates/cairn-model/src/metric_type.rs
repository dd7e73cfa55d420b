use std::fmt;

/// The type of a metric family, as declared by a `# TYPE` line.
///
/// Prometheus text 0.0.4 knows `counter`, `gauge`, `histogram`, `summary` and `untyped`;
/// OpenMetrics 1.0 adds `gaugehistogram`, `info` and `stateset` and calls untyped `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricType {
    /// A monotonically increasing count.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Cumulative buckets with `le` labels, `_sum` and `_count`.
    Histogram,
    /// Buckets of a current distribution, `_gsum` and `_gcount` (OpenMetrics only).
    GaugeHistogram,
    /// Quantiles, `_sum` and `_count`.
    Summary,
    /// Textual information with value 1 (OpenMetrics only).
    Info,
    /// A set of boolean states (OpenMetrics only).
    StateSet,
    /// No type given (`untyped` in Prometheus text, `unknown` in OpenMetrics).
    #[default]
    Unknown,
}

impl MetricType {
    /// Every type, in a fixed order.
    pub const ALL: [MetricType; 8] = [
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Histogram,
        MetricType::GaugeHistogram,
        MetricType::Summary,
        MetricType::Info,
        MetricType::StateSet,
        MetricType::Unknown,
    ];

    /// Parses an OpenMetrics 1.0 type name (`untyped` is not one).
    pub fn from_openmetrics(s: &str) -> Option<MetricType> {
        Self::from_openmetrics_bytes(s.as_bytes())
    }

    /// Parses an OpenMetrics 1.0 type name from bytes.
    pub fn from_openmetrics_bytes(s: &[u8]) -> Option<MetricType> {
        Some(match s {
            b"counter" => MetricType::Counter,
            b"gauge" => MetricType::Gauge,
            b"histogram" => MetricType::Histogram,
            b"gaugehistogram" => MetricType::GaugeHistogram,
            b"summary" => MetricType::Summary,
            b"info" => MetricType::Info,
            b"stateset" => MetricType::StateSet,
            b"unknown" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// Parses a Prometheus text 0.0.4 type name (`untyped` means [`MetricType::Unknown`]).
    pub fn from_prometheus_bytes(s: &[u8]) -> Option<MetricType> {
        Some(match s {
            b"counter" => MetricType::Counter,
            b"gauge" => MetricType::Gauge,
            b"histogram" => MetricType::Histogram,
            b"summary" => MetricType::Summary,
            b"untyped" => MetricType::Unknown,
            _ => return None,
        })
    }

    /// The OpenMetrics name of the type.
    pub fn as_openmetrics(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::GaugeHistogram => "gaugehistogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            MetricType::Unknown => "unknown",
        }
    }

    /// The Prometheus text 0.0.4 name of the type; `None` for the OpenMetrics-only types.
    pub fn as_prometheus(self) -> Option<&'static str> {
        match self {
            MetricType::Counter => Some("counter"),
            MetricType::Gauge => Some("gauge"),
            MetricType::Histogram => Some("histogram"),
            MetricType::Summary => Some("summary"),
            MetricType::Unknown => Some("untyped"),
            MetricType::GaugeHistogram | MetricType::Info | MetricType::StateSet => None,
        }
    }

    /// The suffixes that sample names of a family of this type may carry in OpenMetrics 1.0.
    ///
    /// The empty suffix means the sample name equals the family name.
    pub fn openmetrics_suffixes(self) -> &'static [&'static str] {
        match self {
            MetricType::Counter => &["_total", "_created"],
            MetricType::Histogram => &["_bucket", "_count", "_sum", "_created"],
            MetricType::GaugeHistogram => &["_bucket", "_gcount", "_gsum"],
            MetricType::Summary => &["", "_count", "_sum", "_created"],
            MetricType::Info => &["_info"],
            MetricType::Gauge | MetricType::StateSet | MetricType::Unknown => &[""],
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_openmetrics())
    }
}
