//! Inputs for cairn's criterion benches: the shared conformance files, found at run time, and
//! large synthetic expositions generated deterministically in code.
//!
//! The synthetic exposition looks like a busy service mesh scraped in one go: request
//! duration histograms with an exemplar (`trace_id`, `span_id`, value, timestamp) on every
//! bucket, request counters with an exemplar on every `_total`, and plain gauges. The same
//! series can be written as OpenMetrics 1.0 (with exemplars, ending in `# EOF`) or as
//! Prometheus text 0.0.4 (without exemplars, which that format cannot carry), so parsers of
//! either format get the same data to chew on.
//!
//! ```
//! use cairn_benches::Synthetic;
//!
//! let small = Synthetic {
//!     histogram_series: 4,
//!     counter_series: 2,
//!     gauge_series: 1,
//!     histogram_units: true,
//!     seed: 7,
//! };
//! let om = small.openmetrics();
//! assert!(om.ends_with("# EOF\n"));
//! assert_eq!(om, small.openmetrics(), "the same seed gives the same bytes");
//! assert!(!small.prometheus_text().contains(" # {"), "no exemplars in 0.0.4");
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt::{self, Write as _};
use std::path::PathBuf;

pub mod history;

/// The directory of the shared conformance data: `$CAIRN_SHARED` when set, otherwise
/// `shared/` beside the workspace (`<workspace>/../shared`). The files there are not part of
/// the repository, so callers must cope with their absence.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("CAIRN_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared")),
    }
}

/// A synthetic exposition, described by its series counts and PRNG seed.
///
/// Histogram series are split evenly over two histogram families; each series has 12
/// buckets (11 bounds from 5 ms to 10 s, then `+Inf`), `_count` and `_sum`. Every series
/// carries the labels `service`, `env`, `pod`, `instance`, `method` and `status`; `pod`
/// embeds the series number, so no two series of a family share a label set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Synthetic {
    /// Histogram series (12 buckets each, every bucket with an exemplar in OpenMetrics).
    pub histogram_series: usize,
    /// Counter series (each `_total` with an exemplar in OpenMetrics).
    pub counter_series: usize,
    /// Gauge series (no exemplars).
    pub gauge_series: usize,
    /// Whether the OpenMetrics rendering has `# UNIT` lines for the histogram families.
    /// OpenMetrics allows them; openmetrics-parser 0.5 rejects them ("Histogram metrics
    /// can't have units"), so the benches compare on the rendering without.
    pub histogram_units: bool,
    /// Seed of the PRNG; the same seed gives the same bytes.
    pub seed: u64,
}

/// Bucket bounds, as written in `le`, and as numbers.
const BUCKETS: [(&str, f64); 12] = [
    ("0.005", 0.005),
    ("0.01", 0.01),
    ("0.025", 0.025),
    ("0.05", 0.05),
    ("0.1", 0.1),
    ("0.25", 0.25),
    ("0.5", 0.5),
    ("1", 1.0),
    ("2.5", 2.5),
    ("5", 5.0),
    ("10", 10.0),
    ("+Inf", f64::INFINITY),
];

const HISTOGRAMS: [(&str, &str); 2] = [
    (
        "http_server_request_duration_seconds",
        "Duration of HTTP server requests, from the first byte read to the last byte written.",
    ),
    (
        "rpc_client_duration_seconds",
        "Duration of outgoing RPCs, as seen by the client.",
    ),
];

const SERVICES: [&str; 12] = [
    "checkout",
    "cart",
    "catalog",
    "payments",
    "shipping",
    "search",
    "recommendations",
    "accounts",
    "inventory",
    "frontend",
    "gateway",
    "notifications",
];
const ENVS: [&str; 3] = ["prod", "staging", "canary"];
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];
const STATUSES: [&str; 9] = [
    "200", "201", "204", "301", "400", "404", "429", "500", "503",
];

/// The time the synthetic scrape is taken at, in Unix seconds.
const BASE_SECONDS: u64 = 1_750_000_000;

impl Synthetic {
    /// The exposition as OpenMetrics 1.0 text: metadata, samples, exemplars, `# EOF`.
    pub fn openmetrics(&self) -> String {
        self.render(true)
    }

    /// The same series as Prometheus text 0.0.4, without exemplars.
    pub fn prometheus_text(&self) -> String {
        self.render(false)
    }

    /// The number of sample lines in either rendering.
    pub fn samples(&self) -> usize {
        self.histogram_series * (BUCKETS.len() + 2) + self.counter_series + self.gauge_series
    }

    /// The number of exemplars in the OpenMetrics rendering (none in Prometheus text).
    pub fn exemplars(&self) -> usize {
        self.histogram_series * BUCKETS.len() + self.counter_series
    }

    fn render(&self, openmetrics: bool) -> String {
        let mut out = String::with_capacity(self.samples() * 256);
        // Writing to a String cannot fail; `Render` only propagates `fmt::Error`.
        let _ = write!(
            out,
            "{}",
            Render {
                spec: self,
                openmetrics
            }
        );
        out
    }
}

struct Render<'a> {
    spec: &'a Synthetic,
    openmetrics: bool,
}

impl fmt::Display for Render<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let spec = self.spec;
        let om = self.openmetrics;
        let mut rng = SplitMix64(spec.seed);
        let mut next_series = 0usize;

        let families = HISTOGRAMS.len();
        for (i, (name, help)) in HISTOGRAMS.iter().enumerate() {
            let series = spec.histogram_series / families
                + usize::from(i < spec.histogram_series % families);
            writeln!(f, "# HELP {name} {help}")?;
            writeln!(f, "# TYPE {name} histogram")?;
            if om && spec.histogram_units {
                writeln!(f, "# UNIT {name} seconds")?;
            }
            for _ in 0..series {
                let labels = SeriesLabels::new(&mut rng, next_series);
                next_series += 1;
                let mut cumulative = 0u64;
                let mut sum = 0.0f64;
                let mut lower = 0.0f64;
                for (le, upper) in BUCKETS {
                    let added = rng.below(5_000);
                    cumulative += added;
                    // Observations in this bucket, put at its middle (10.0 to 20.0 s for +Inf).
                    let width = if upper.is_finite() {
                        upper - lower
                    } else {
                        10.0
                    };
                    sum += added as f64 * (lower + width / 2.0);
                    write!(f, "{name}_bucket{{{labels},le=\"{le}\"}} {cumulative}")?;
                    if om {
                        let observed = lower + width * rng.unit();
                        write_exemplar(f, &mut rng, observed)?;
                    }
                    f.write_char('\n')?;
                    lower = upper;
                }
                writeln!(f, "{name}_count{{{labels}}} {cumulative}")?;
                writeln!(f, "{name}_sum{{{labels}}} {}", round_to(sum, 1e6))?;
            }
        }

        let counter = "http_server_requests";
        writeln!(
            f,
            "# HELP {counter}{} Requests served, by route outcome.",
            if om { "" } else { "_total" }
        )?;
        if om {
            writeln!(f, "# TYPE {counter} counter")?;
        } else {
            writeln!(f, "# TYPE {counter}_total counter")?;
        }
        for _ in 0..spec.counter_series {
            let labels = SeriesLabels::new(&mut rng, next_series);
            next_series += 1;
            let total = rng.below(50_000_000);
            write!(f, "{counter}_total{{{labels}}} {total}")?;
            if om {
                let observed = round_to(rng.unit() * 2.0, 1e6);
                write_exemplar(f, &mut rng, observed)?;
            }
            f.write_char('\n')?;
        }

        let gauge = "container_memory_working_set_bytes";
        writeln!(f, "# HELP {gauge} Working set of the container, in bytes.")?;
        writeln!(f, "# TYPE {gauge} gauge")?;
        if om {
            writeln!(f, "# UNIT {gauge} bytes")?;
        }
        for _ in 0..spec.gauge_series {
            let labels = SeriesLabels::new(&mut rng, next_series);
            next_series += 1;
            let bytes = 50_000_000 + rng.below(4_000_000_000);
            // Go writes large floats in exponent form.
            writeln!(f, "{gauge}{{{labels}}} {:e}", bytes as f64)?;
        }
        if om {
            writeln!(f, "# EOF")?;
        }
        Ok(())
    }
}

/// ` # {trace_id="…",span_id="…"} value timestamp`
fn write_exemplar(f: &mut fmt::Formatter<'_>, rng: &mut SplitMix64, value: f64) -> fmt::Result {
    let (t1, t2, span) = (rng.next(), rng.next(), rng.next());
    let seconds = BASE_SECONDS - rng.below(600);
    let millis = rng.below(1000);
    write!(
        f,
        " # {{trace_id=\"{t1:016x}{t2:016x}\",span_id=\"{span:016x}\"}} {} {seconds}.{millis:03}",
        round_to(value, 1e6)
    )
}

/// `x` rounded to `1/scale`, so values print as short decimals as exporters write them.
fn round_to(x: f64, scale: f64) -> f64 {
    (x * scale).round() / scale
}

/// The labels of one series, drawn from the PRNG.
struct SeriesLabels {
    service: &'static str,
    env: &'static str,
    replicaset: u64,
    series: usize,
    ip: [u64; 3],
    port: u64,
    method: &'static str,
    status: &'static str,
}

impl SeriesLabels {
    fn new(rng: &mut SplitMix64, series: usize) -> SeriesLabels {
        SeriesLabels {
            service: rng.pick(&SERVICES),
            env: rng.pick(&ENVS),
            replicaset: rng.below(1 << 40),
            series,
            ip: [rng.below(256), rng.below(256), 1 + rng.below(254)],
            port: 8000 + rng.below(1000),
            method: rng.pick(&METHODS),
            status: rng.pick(&STATUSES),
        }
    }
}

impl fmt::Display for SeriesLabels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let SeriesLabels {
            service,
            env,
            replicaset,
            series,
            ip: [a, b, c],
            port,
            method,
            status,
        } = self;
        write!(
            f,
            "service=\"{service}\",env=\"{env}\",pod=\"{service}-{replicaset:010x}-{series:05}\",\
             instance=\"10.{a}.{b}.{c}:{port}\",method=\"{method}\",status=\"{status}\""
        )
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and good enough for test data.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`); the modulo bias is irrelevant here.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A float in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One of `items` (not empty).
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_expfmt::{Entry, Format, Mode, Parser};

    const SMALL: Synthetic = Synthetic {
        histogram_series: 41,
        counter_series: 17,
        gauge_series: 5,
        histogram_units: true,
        seed: 1,
    };

    /// Samples, exemplars and errors as cairn reads `text`.
    fn cairn_counts(text: &str, format: Format, mode: Mode) -> (usize, usize, Vec<String>) {
        let mut parser = Parser::new(text.as_bytes(), format, mode);
        let (mut samples, mut exemplars, mut errors) = (0, 0, Vec::new());
        for entry in parser.by_ref() {
            match entry {
                Ok(Entry::Sample(s)) => {
                    samples += 1;
                    exemplars += usize::from(s.exemplar.is_some());
                }
                Ok(_) => {}
                Err(e) => errors.push(e.to_string()),
            }
        }
        errors.extend(parser.warnings().iter().map(ToString::to_string));
        (samples, exemplars, errors)
    }

    #[test]
    fn openmetrics_is_valid_in_strict_mode() {
        for (units, mode) in [
            (true, Mode::Strict),
            (true, Mode::Scrape),
            (false, Mode::Strict),
        ] {
            let spec = Synthetic {
                histogram_units: units,
                ..SMALL
            };
            let text = spec.openmetrics();
            assert_eq!(text.contains("# UNIT http_"), units);
            let (samples, exemplars, errors) = cairn_counts(&text, Format::OpenMetrics, mode);
            assert_eq!(errors, Vec::<String>::new(), "{mode:?}, units {units}");
            assert_eq!(samples, SMALL.samples());
            assert_eq!(exemplars, SMALL.exemplars());
        }
    }

    #[test]
    fn prometheus_text_has_the_same_samples() {
        let text = SMALL.prometheus_text();
        let (samples, exemplars, errors) =
            cairn_counts(&text, Format::PrometheusText, Mode::Scrape);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!((samples, exemplars), (SMALL.samples(), 0));
        assert!(!text.contains("# EOF") && !text.contains("# UNIT"));
    }

    #[test]
    fn deterministic_and_seeded() {
        assert_eq!(SMALL.openmetrics(), SMALL.openmetrics());
        let other = Synthetic { seed: 2, ..SMALL };
        assert_ne!(SMALL.openmetrics(), other.openmetrics());
    }

    #[test]
    fn every_bucket_line_has_one_exemplar() {
        let text = SMALL.openmetrics();
        for line in text.lines().filter(|l| l.contains("_bucket{")) {
            assert_eq!(line.matches(" # {trace_id=\"").count(), 1, "{line}");
        }
    }
}
