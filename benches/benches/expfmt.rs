//! `Parser::parse`: cairn's exposition parser against `prometheus-parse` and
//! `openmetrics-parser`, each group one input, every parser on the same bytes.
//!
//! Every measured function does the work a scraper needs: cairn reads every sample's name,
//! value, timestamp and type, iterates every label (unescaped) and reads every exemplar's
//! labels, value and timestamp; the peers build their owned models of the whole exposition
//! (and drop them, inside the timing). Before measuring, each parser reads each input once and
//! the counts are printed, so a peer that skips lines or fails is visible.
//!
//! Two diagnostic groups per input split cairn's time: `Parser::next` (entries only) and
//! `LabelSet::iter` (walking the labels). Run and results: benches/README.md.

use std::hint::black_box;
use std::io::BufRead as _;

use cairn_benches::{Synthetic, shared_dir};
use cairn_expfmt::{Entry, Format, LabelSet, Mode, Parser};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

/// The generated exposition: 2,000 histogram series (24,000 buckets, each with an exemplar),
/// 2,000 counters with exemplars and 500 gauges.
const GENERATED: Synthetic = Synthetic {
    histogram_series: 2_000,
    counter_series: 2_000,
    gauge_series: 500,
    // openmetrics-parser rejects `# UNIT` on histograms; see `check`.
    histogram_units: false,
    seed: 0x63_6169_726e,
};

/// Prometheus' own benchmark input: a real Go exporter, 237 families, with HELP and TYPE.
const ALLTYPES: &str = "conformance/prometheus-textparse/alltypes.237mfs.prom.txt";

struct Input {
    /// The group is `Parser::parse/<name>`.
    name: &'static str,
    text: String,
    format: Format,
}

fn inputs() -> Vec<Input> {
    let mut inputs = Vec::new();
    let path = shared_dir().join(ALLTYPES);
    match std::fs::read_to_string(&path) {
        Ok(text) => inputs.push(Input {
            name: "alltypes.237mfs.prom",
            text,
            format: Format::PrometheusText,
        }),
        Err(e) => eprintln!(
            "\n!!!!!!!!\n!!! SKIPPING Parser::parse/alltypes.237mfs.prom: cannot read {}: {e}\n\
             !!! Set CAIRN_SHARED to the directory holding conformance/ to measure it.\n!!!!!!!!\n",
            path.display()
        ),
    }
    inputs.push(Input {
        name: "generated-exemplars.om",
        text: GENERATED.openmetrics(),
        format: Format::OpenMetrics,
    });
    inputs.push(Input {
        name: "generated.prom",
        text: GENERATED.prometheus_text(),
        format: Format::PrometheusText,
    });
    inputs
}

/// What cairn read, folded so that nothing it touched can be optimised away.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    samples: u64,
    exemplars: u64,
    labels: u64,
    bytes: u64,
    bits: u64,
    other_entries: u64,
    errors: u64,
}

impl Tally {
    fn labels(&mut self, labels: LabelSet<'_>) {
        for l in labels.iter() {
            self.labels += 1;
            self.bytes += (l.name.unescaped().len() + l.value.unescaped().len()) as u64;
        }
    }
}

/// cairn: parse and touch everything a scraper would keep.
fn cairn(buf: &[u8], format: Format, mode: Mode) -> Tally {
    let mut t = Tally::default();
    for entry in Parser::new(buf, format, mode) {
        match entry {
            Ok(Entry::Sample(s)) => {
                t.samples += 1;
                t.bytes += s.name.unescaped().len() as u64;
                t.bits ^= s.value.to_bits() ^ s.timestamp.unwrap_or(0) as u64 ^ s.kind as u64;
                t.labels(s.labels);
                if let Some(e) = s.exemplar {
                    t.exemplars += 1;
                    t.bits ^= e.value.to_bits() ^ e.timestamp.unwrap_or(0) as u64;
                    t.labels(e.labels);
                }
            }
            Ok(_) => t.other_entries += 1,
            Err(_) => t.errors += 1,
        }
    }
    t
}

/// prometheus-parse: its API takes lines as owned `String`s, as `BufRead::lines` gives them.
fn prometheus_parse(text: &str) -> std::io::Result<prometheus_parse::Scrape> {
    prometheus_parse::Scrape::parse(text.as_bytes().lines())
}

/// openmetrics-parser: the parser for the input's format.
fn openmetrics_parser(text: &str, format: Format) -> Result<OmpExposition, String> {
    match format {
        Format::OpenMetrics => openmetrics_parser::openmetrics::parse_openmetrics(text)
            .map(OmpExposition::OpenMetrics)
            .map_err(|e| e.to_string()),
        Format::PrometheusText => openmetrics_parser::prometheus::parse_prometheus(text)
            .map(OmpExposition::Prometheus)
            .map_err(|e| e.to_string()),
    }
}

enum OmpExposition {
    OpenMetrics(
        openmetrics_parser::MetricsExposition<
            openmetrics_parser::OpenMetricsType,
            openmetrics_parser::OpenMetricsValue,
        >,
    ),
    Prometheus(
        openmetrics_parser::MetricsExposition<
            openmetrics_parser::PrometheusType,
            openmetrics_parser::PrometheusValue,
        >,
    ),
}

/// Sample lines and exemplars an openmetrics-parser result stands for (it folds a
/// histogram's buckets, `_count` and `_sum` into one value).
fn omp_counts(exposition: &OmpExposition) -> (u64, u64) {
    use openmetrics_parser::{HistogramValue, OpenMetricsValue as O, PrometheusValue as P};
    let hist = |h: &HistogramValue| {
        let lines = h.buckets.len()
            + usize::from(h.count.is_some())
            + usize::from(h.sum.is_some())
            + usize::from(h.created.is_some());
        let exemplars = h.buckets.iter().filter(|b| b.exemplar.is_some()).count();
        (lines as u64, exemplars as u64)
    };
    let summary = |s: &openmetrics_parser::SummaryValue| {
        (s.quantiles.len()
            + usize::from(s.count.is_some())
            + usize::from(s.sum.is_some())
            + usize::from(s.created.is_some())) as u64
    };
    let (mut lines, mut exemplars) = (0, 0);
    match exposition {
        OmpExposition::OpenMetrics(e) => {
            for sample in e.families.values().flat_map(|f| f.iter_samples()) {
                let (l, x) = match &sample.value {
                    O::Histogram(h) | O::GaugeHistogram(h) => hist(h),
                    O::Summary(s) => (summary(s), 0),
                    O::Counter(c) => (
                        1 + u64::from(c.created.is_some()),
                        u64::from(c.exemplar.is_some()),
                    ),
                    _ => (1, 0),
                };
                lines += l;
                exemplars += x;
            }
        }
        OmpExposition::Prometheus(e) => {
            for sample in e.families.values().flat_map(|f| f.iter_samples()) {
                let (l, x) = match &sample.value {
                    P::Histogram(h) => hist(h),
                    P::Summary(s) => (summary(s), 0),
                    P::Counter(c) => (1, u64::from(c.exemplar.is_some())),
                    _ => (1, 0),
                };
                lines += l;
                exemplars += x;
            }
        }
    }
    (lines, exemplars)
}

/// Sample lines a prometheus-parse result stands for (it folds buckets and quantiles).
fn pp_lines(scrape: &prometheus_parse::Scrape) -> u64 {
    use prometheus_parse::Value;
    scrape
        .samples
        .iter()
        .map(|s| match &s.value {
            Value::Histogram(b) => b.len() as u64,
            Value::Summary(q) => q.len() as u64,
            _ => 1,
        })
        .sum()
}

/// Which parsers take part in an input's group, after one checked run of each.
struct Plan {
    strict: bool,
    prometheus_parse: bool,
    openmetrics_parser: bool,
}

/// Runs every parser once on `input`, prints what each read, and decides who is measured.
fn check(input: &Input) -> Plan {
    let buf = input.text.as_bytes();
    let scrape = cairn(buf, input.format, Mode::Scrape);
    let strict = cairn(buf, input.format, Mode::Strict);
    eprintln!(
        "{}: {} bytes; cairn scrape: {} samples, {} exemplars, {} labels, {} errors; \
         cairn strict: {} samples, {} errors",
        input.name,
        buf.len(),
        scrape.samples,
        scrape.exemplars,
        scrape.labels,
        scrape.errors,
        strict.samples,
        strict.errors,
    );
    if scrape.errors > 0 {
        eprintln!("!!! cairn (scrape) reported errors on {}", input.name);
    }
    // Prometheus text has no validator and no exemplars: strict reads it exactly as scrape.
    let strict_meaningful = input.format == Format::OpenMetrics;
    if strict_meaningful && strict.errors > 0 {
        eprintln!("!!! cairn (strict) rejects {}", input.name);
    }

    let mut plan = Plan {
        strict: strict_meaningful,
        prometheus_parse: false,
        openmetrics_parser: false,
    };
    if input.format == Format::PrometheusText {
        match prometheus_parse(&input.text) {
            Ok(s) => {
                let lines = pp_lines(&s);
                eprintln!(
                    "  prometheus-parse: {} samples ({lines} sample lines)",
                    s.samples.len()
                );
                if lines != scrape.samples {
                    eprintln!(
                        "  !!! prometheus-parse kept {lines} of {} sample lines (it skips silently what its regex does not match)",
                        scrape.samples
                    );
                }
                plan.prometheus_parse = true;
            }
            Err(e) => eprintln!(
                "  !!! prometheus-parse FAILED on {}: {e}; left out",
                input.name
            ),
        }
    } else {
        eprintln!("  prometheus-parse: reads Prometheus text 0.0.4 only; not in this group");
    }
    match openmetrics_parser(&input.text, input.format) {
        Ok(e) => {
            let (lines, exemplars) = omp_counts(&e);
            eprintln!("  openmetrics-parser: {lines} sample lines, {exemplars} exemplars");
            if (lines, exemplars) != (scrape.samples, scrape.exemplars) {
                eprintln!(
                    "  !!! openmetrics-parser read {lines} sample lines and {exemplars} exemplars, cairn {} and {}",
                    scrape.samples, scrape.exemplars
                );
            }
            plan.openmetrics_parser = true;
            if input.format == Format::OpenMetrics {
                // The same data with `# UNIT` on the histograms, as OpenMetrics allows.
                let with_units = Synthetic {
                    histogram_series: 2,
                    counter_series: 1,
                    gauge_series: 1,
                    histogram_units: true,
                    ..GENERATED
                };
                if let Err(e) = openmetrics_parser(&with_units.openmetrics(), input.format) {
                    eprintln!(
                        "  !!! openmetrics-parser rejects this input once the histograms have a `# UNIT` line: {e}"
                    );
                }
            }
        }
        Err(e) => {
            let e: String = e.chars().take(300).collect();
            eprintln!(
                "  !!! openmetrics-parser FAILED on {}: {e}; left out of this group",
                input.name
            );
        }
    }
    plan
}

fn parse(c: &mut Criterion) {
    for input in inputs() {
        let plan = check(&input);
        let mut group = c.benchmark_group(format!("Parser::parse/{}", input.name));
        group.throughput(Throughput::Bytes(input.text.len() as u64));
        if input.text.len() > 1 << 20 {
            // The peers take a good part of a second per pass over the generated inputs.
            group.sample_size(10).sampling_mode(SamplingMode::Flat);
        }
        let (buf, format) = (input.text.as_bytes(), input.format);
        group.bench_function("cairn-scrape", |b| {
            b.iter(|| cairn(black_box(buf), format, Mode::Scrape));
        });
        if plan.strict {
            group.bench_function("cairn-strict", |b| {
                b.iter(|| cairn(black_box(buf), format, Mode::Strict));
            });
        }
        if plan.prometheus_parse {
            group.bench_function("prometheus-parse", |b| {
                b.iter(|| prometheus_parse(black_box(&input.text)).map(|s| s.samples.len()));
            });
        }
        if plan.openmetrics_parser {
            group.bench_function("openmetrics-parser", |b| {
                b.iter(|| openmetrics_parser(black_box(&input.text), format).is_ok());
            });
        }
        group.finish();
        breakdown(c, &input);
    }
}

/// Where cairn's time goes, as two parts that add up to about `cairn-scrape` above:
/// `Parser::next` yields every entry (labels checked, not walked; values parsed) and
/// `LabelSet::iter` walks the labels of every sample and exemplar of an already-parsed
/// exposition, unescaping each name and value, as `Parser::parse/cairn-*` does. Throughput
/// is over the whole input, so the MB/s figures compare with the groups above.
fn breakdown(c: &mut Criterion, input: &Input) {
    let (buf, format) = (input.text.as_bytes(), input.format);
    let large = buf.len() > 1 << 20;

    let mut group = c.benchmark_group(format!("Parser::next/{}", input.name));
    group.throughput(Throughput::Bytes(buf.len() as u64));
    if large {
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
    }
    group.bench_function("cairn-scrape", |b| {
        b.iter(|| {
            let mut entries = 0u64;
            for entry in Parser::new(black_box(buf), format, Mode::Scrape) {
                black_box(&entry);
                entries += 1;
            }
            entries
        });
    });
    group.finish();

    let sets: Vec<_> = Parser::new(buf, format, Mode::Scrape)
        .filter_map(|e| match e {
            Ok(Entry::Sample(s)) => Some((s.labels, s.exemplar.map(|e| e.labels))),
            _ => None,
        })
        .collect();
    let mut group = c.benchmark_group(format!("LabelSet::iter/{}", input.name));
    group.throughput(Throughput::Bytes(buf.len() as u64));
    if large {
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
    }
    group.bench_function("cairn", |b| {
        b.iter(|| {
            let mut t = Tally::default();
            for (labels, exemplar) in black_box(&sets) {
                t.labels(*labels);
                if let Some(e) = exemplar {
                    t.labels(*e);
                }
            }
            t
        });
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
