//! The store: appender commits, scrape ingest, import, and reading back, each in samples per
//! second.
//!
//! - `Appender::commit`: 1000 series (node_exporter-like, with `job` and `instance`), one
//!   sample each per commit, by ref, 15 s apart; with the log synced at every commit (the
//!   default) and at most every second. Time advances 15 s a commit, so the head is cut
//!   into a block every 480 commits, as a real 2 h window would be: that cost is included.
//! - `ingest`: one scrape of a node_exporter-like OpenMetrics exposition (1007 series, 80 of
//!   them with an exemplar without timestamp, so each scrape stores 80 new exemplars) into a
//!   database with a warm `ScrapeCache`; eight expositions with other values take turns.
//! - `Importer`: a 1.02 M-sample history with exemplars (`cairn_benches::history`, 850 series,
//!   1200 steps, 5 h) into an empty database: parsed from text as `cairn import` does, and
//!   from samples parsed beforehand (the importer alone). Each iteration opens a fresh
//!   database; the time includes writing and syncing the blocks.
//! - `Db::query`: reading back a database of 13 blocks (340 series, 24 h, 1.96 M samples):
//!   every series over all time, and one gauge family over the last 2 h.
//!
//! There is no peer crate for these (Prometheus' TSDB is Go); `scripts/bench-import.sh`
//! compares import with promtool on the same file.
//!
//! Run: `cargo bench -p cairn-benches --bench store` (about two minutes). Results:
//! benches/README.md.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a bench binary: a broken setup should stop it loudly"
)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

use cairn_benches::history::{HistorySpec, write_openmetrics};
use cairn_expfmt::{Entry, Format, Mode, Parser};
use cairn_model::{Labels, Matcher, TimestampMs};
use cairn_store::{
    Db, Importer, Options, ScrapeCache, SeriesRef, ingest, sample_key, sample_labels,
};
use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use tempfile::TempDir;

/// 2025-11-24, and the scrape interval.
const T0: TimestampMs = 1_764_000_000_000;
const STEP_MS: i64 = 15_000;

/// A node_exporter-like OpenMetrics exposition: 1007 series of one host (cpu, disks,
/// network, filesystems, memory, systemd units, a summary). `variant` changes the values and
/// the exemplars' trace ids, as the next scrape would. The network counters of four devices
/// carry an exemplar without timestamp (it takes the scrape's).
fn node_exporter(variant: u64) -> String {
    let mut out = String::with_capacity(96 * 1024);
    let mut series = 0u64;
    // A counter that grows with `variant`, different per series; returns the series' number.
    let mut counter = |out: &mut String| -> u64 {
        series += 1;
        let base = series.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        let v = base as f64 + (variant * (1 + base % 97)) as f64 / 100.0;
        let _ = write!(out, "{v}");
        series
    };
    let modes = [
        "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
    ];
    out.push_str("# HELP node_cpu_seconds Seconds the CPUs spent in each mode.\n");
    out.push_str("# TYPE node_cpu_seconds counter\n");
    for cpu in 0..16 {
        for mode in modes {
            let _ = write!(
                out,
                "node_cpu_seconds_total{{cpu=\"{cpu}\",mode=\"{mode}\"}} "
            );
            counter(&mut out);
            out.push('\n');
        }
    }
    out.push_str("# TYPE node_cpu_guest_seconds counter\n");
    for cpu in 0..16 {
        for mode in ["nice", "user"] {
            let _ = write!(
                out,
                "node_cpu_guest_seconds_total{{cpu=\"{cpu}\",mode=\"{mode}\"}} "
            );
            counter(&mut out);
            out.push('\n');
        }
    }
    for metric in [
        "reads_completed",
        "writes_completed",
        "reads_merged",
        "writes_merged",
        "read_bytes",
        "written_bytes",
        "read_time_seconds",
        "write_time_seconds",
        "io_time_seconds",
        "io_time_weighted_seconds",
        "discards_completed",
        "discard_time_seconds",
    ] {
        let _ = writeln!(out, "# TYPE node_disk_{metric} counter");
        for disk in 0..10 {
            let _ = write!(out, "node_disk_{metric}_total{{device=\"nvme{disk}n1\"}} ");
            counter(&mut out);
            out.push('\n');
        }
    }
    let devices = [
        "eth0",
        "eth1",
        "eth2",
        "eth3",
        "lo",
        "docker0",
        "cni0",
        "flannel.1",
    ];
    for dir in ["receive", "transmit"] {
        for field in [
            "bytes",
            "packets",
            "errs",
            "drop",
            "fifo",
            "compressed",
            "multicast",
            "frame",
            "colls",
            "carrier",
        ] {
            let _ = writeln!(out, "# TYPE node_network_{dir}_{field} counter");
            for (d, device) in devices.iter().enumerate() {
                let _ = write!(
                    out,
                    "node_network_{dir}_{field}_total{{device=\"{device}\"}} "
                );
                let series = counter(&mut out);
                if d < 4 {
                    let trace =
                        (series ^ variant.rotate_left(32)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    let _ = write!(
                        out,
                        " # {{trace_id=\"{trace:016x}{:016x}\"}} {}",
                        trace.rotate_left(17),
                        (trace % 1000) as f64 / 1000.0
                    );
                }
                out.push('\n');
            }
        }
    }
    for metric in [
        "avail_bytes",
        "free_bytes",
        "size_bytes",
        "files",
        "files_free",
        "readonly",
        "device_error",
        "mount_info",
    ] {
        let _ = writeln!(out, "# TYPE node_filesystem_{metric} gauge");
        for fs in 0..10 {
            let _ = write!(
                out,
                "node_filesystem_{metric}{{device=\"/dev/nvme0n1p{}\",fstype=\"{}\",mountpoint=\"/var/lib/kubelet/pods/volume-{fs}\"}} ",
                fs + 1,
                if fs % 2 == 0 { "ext4" } else { "xfs" }
            );
            counter(&mut out);
            out.push('\n');
        }
    }
    for field in 0..100 {
        let _ = writeln!(out, "# TYPE node_memory_Field{field:02}_bytes gauge");
        let _ = write!(out, "node_memory_Field{field:02}_bytes ");
        counter(&mut out);
        out.push('\n');
    }
    out.push_str("# TYPE node_systemd_unit_state gauge\n");
    for unit in 0..76 {
        for (s, state) in ["activating", "active", "deactivating", "failed", "inactive"]
            .iter()
            .enumerate()
        {
            let on = u8::from((unit + variant as usize) % 5 == s);
            let _ = writeln!(
                out,
                "node_systemd_unit_state{{name=\"system-unit-{unit:02}.service\",state=\"{state}\"}} {on}"
            );
        }
    }
    out.push_str("# TYPE go_gc_duration_seconds summary\n");
    for q in ["0", "0.25", "0.5", "0.75", "1"] {
        let _ = writeln!(
            out,
            "go_gc_duration_seconds{{quantile=\"{q}\"}} {}",
            (variant + 1) as f64 * 1.7e-5
        );
    }
    let _ = writeln!(
        out,
        "go_gc_duration_seconds_sum {}\ngo_gc_duration_seconds_count {}",
        (variant + 100) as f64 * 0.0123,
        variant + 5000
    );
    out.push_str("# EOF\n");
    out
}

/// The series of one exposition, with the target labels a scraper adds.
fn node_series(text: &str, instance: &str) -> Vec<Labels> {
    Parser::new(text.as_bytes(), Format::OpenMetrics, Mode::Strict)
        .filter_map(|e| match e.expect("the exposition is strict-valid") {
            Entry::Sample(s) => {
                let mut l = sample_labels(&s);
                l.set("job", "node");
                l.set("instance", instance);
                Some(l)
            }
            _ => None,
        })
        .collect()
}

fn open(options: Options) -> (TempDir, Db) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = Db::open(dir.path(), options).expect("open");
    (dir, db)
}

fn commit(c: &mut Criterion) {
    let series: Vec<Labels> = node_series(&node_exporter(0), "ip-10-0-0-17:9100")
        .into_iter()
        .take(1000)
        .collect();
    let n = series.len() as u64;
    let mut group = c.benchmark_group("Appender::commit");
    group
        .throughput(Throughput::Elements(n))
        .sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (name, options) in [
        ("fsync_every_commit", Options::default()),
        (
            "sync_every_1s",
            Options::default().sync_every(Duration::from_secs(1)),
        ),
    ] {
        let (_dir, db) = open(options);
        let mut app = db.appender();
        let refs_of = |app: &mut cairn_store::Appender<'_>| -> Vec<SeriesRef> {
            series.iter().map(|l| app.series_ref(l).unwrap()).collect()
        };
        let mut refs = refs_of(&mut app);
        let mut t = T0;
        let mut step = |app: &mut cairn_store::Appender<'_>, refs: &mut Vec<SeriesRef>| {
            if !app.refs_valid() {
                *refs = refs_of(app);
            }
            t += STEP_MS;
            for (k, &r) in refs.iter().enumerate() {
                app.append_ref(r, t, (k as i64 * 1000 + (t - T0) / 1000) as f64);
            }
            app.commit().unwrap()
        };
        let first = step(&mut app, &mut refs);
        assert_eq!((first.samples, first.series_created), (n, n), "{name}");
        group.bench_function(BenchmarkId::new(name, format!("{n}_series")), |b| {
            b.iter(|| black_box(step(&mut app, &mut refs)));
        });
    }
    group.finish();
}

fn scrape_ingest(c: &mut Criterion) {
    let texts: Vec<String> = (0..8).map(node_exporter).collect();
    let (_dir, db) = open(Options::default().sync_every(Duration::from_secs(1)));
    let mut cache = ScrapeCache::new();
    let mut ts = T0;
    let first = ingest(
        &db,
        &mut cache,
        texts[0].as_bytes(),
        Format::OpenMetrics,
        ts,
    )
    .unwrap();
    assert!(first.errors.is_empty(), "{:?}", first.errors);
    let (samples, exemplars) = (first.commit.samples, first.commit.exemplars);
    let second = {
        ts += STEP_MS;
        ingest(
            &db,
            &mut cache,
            texts[1].as_bytes(),
            Format::OpenMetrics,
            ts,
        )
        .unwrap()
    };
    assert_eq!(
        (second.commit.samples, second.commit.exemplars),
        (samples, exemplars)
    );
    eprintln!(
        "ingest: {samples} samples and {exemplars} exemplars stored per scrape, {} bytes of text, \
         the cache holds {} series",
        texts[0].len(),
        cache.len()
    );

    let mut group = c.benchmark_group("ingest");
    group
        .throughput(Throughput::Elements(samples))
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    let mut i = 1;
    group.bench_function(
        BenchmarkId::new(
            "node_exporter_openmetrics",
            format!("{samples}_samples_{exemplars}_exemplars"),
        ),
        |b| {
            b.iter(|| {
                i += 1;
                ts += STEP_MS;
                let text = texts[i % texts.len()].as_bytes();
                black_box(ingest(&db, &mut cache, text, Format::OpenMetrics, ts).unwrap())
            });
        },
    );
    group.finish();
}

/// A history as OpenMetrics text, with its sample count.
fn history(spec: &HistorySpec) -> (Vec<u8>, u64, u64) {
    let mut text = Vec::new();
    let stats = write_openmetrics(spec, &mut text).unwrap();
    (text, stats.samples, stats.exemplars)
}

/// What `cairn import` does with a file's bytes (errors aside).
fn import_text(importer: &mut Importer<'_>, text: &[u8]) {
    let mut key = Vec::new();
    for entry in Parser::new(text, Format::OpenMetrics, Mode::Scrape) {
        let Entry::Sample(sample) = entry.unwrap() else {
            continue;
        };
        let t = sample.timestamp.unwrap();
        sample_key(&sample, &mut key);
        let series = importer
            .add_sample_keyed(&key, || sample_labels(&sample), t, sample.value)
            .unwrap();
        if let Some(e) = &sample.exemplar {
            let labels = Labels::from_pairs(e.labels.iter().map(|l| {
                (
                    l.name.unescaped().into_owned(),
                    l.value.unescaped().into_owned(),
                )
            }));
            importer.add_exemplar_to(series, e.timestamp.unwrap_or(t), e.value, labels);
        }
    }
}

/// A history parsed beforehand: each series' key and labels, then the samples in file order.
struct Parsed {
    keys: Vec<Vec<u8>>,
    labels: Vec<Labels>,
    samples: Vec<(usize, TimestampMs, f64)>,
    /// Sample index, then the exemplar's time, value, labels.
    exemplars: Vec<(usize, TimestampMs, f64, Labels)>,
}

fn parse(text: &[u8]) -> Parsed {
    let mut parsed = Parsed {
        keys: Vec::new(),
        labels: Vec::new(),
        samples: Vec::new(),
        exemplars: Vec::new(),
    };
    let mut by_key = std::collections::HashMap::new();
    let mut key = Vec::new();
    for entry in Parser::new(text, Format::OpenMetrics, Mode::Scrape) {
        let Entry::Sample(sample) = entry.unwrap() else {
            continue;
        };
        sample_key(&sample, &mut key);
        let next = parsed.keys.len();
        let series = *by_key.entry(key.clone()).or_insert_with(|| {
            parsed.keys.push(key.clone());
            parsed.labels.push(sample_labels(&sample));
            next
        });
        let t = sample.timestamp.unwrap();
        if let Some(e) = &sample.exemplar {
            let labels = Labels::from_pairs(e.labels.iter().map(|l| {
                (
                    l.name.unescaped().into_owned(),
                    l.value.unescaped().into_owned(),
                )
            }));
            parsed.exemplars.push((
                parsed.samples.len(),
                e.timestamp.unwrap_or(t),
                e.value,
                labels,
            ));
        }
        parsed.samples.push((series, t, sample.value));
    }
    parsed
}

fn import_parsed(importer: &mut Importer<'_>, parsed: &Parsed) {
    let mut exemplars = parsed.exemplars.iter().peekable();
    for (n, &(series, t, v)) in parsed.samples.iter().enumerate() {
        let i = importer
            .add_sample_keyed(&parsed.keys[series], || parsed.labels[series].clone(), t, v)
            .unwrap();
        while let Some((_, et, ev, labels)) = exemplars.next_if(|e| e.0 == n) {
            importer.add_exemplar_to(i, *et, *ev, labels.clone());
        }
    }
}

fn import(c: &mut Criterion) {
    let spec = HistorySpec {
        series: 50,
        steps: 1200,
        ..HistorySpec::default()
    };
    let (text, samples, exemplars) = history(&spec);
    let parsed = parse(&text);
    assert_eq!(parsed.samples.len() as u64, samples);
    assert_eq!(parsed.exemplars.len() as u64, exemplars);
    let options = || Options::default().retention_ms(None);
    let check = |name: &str, run: &dyn Fn(&mut Importer<'_>)| {
        let (_dir, db) = open(options());
        let mut imp = db.importer();
        run(&mut imp);
        let summary = imp.finish().unwrap();
        assert_eq!(
            (summary.samples_added, summary.exemplars_added),
            (samples, exemplars),
            "{name}"
        );
        eprintln!(
            "import {name}: {} series, {samples} samples, {exemplars} exemplars, {} blocks, \
             {} bytes ({} bytes of text)",
            summary.series,
            summary.blocks_written,
            summary.bytes_written,
            text.len()
        );
    };
    check("from_text", &|imp| import_text(imp, &text));
    check("from_parsed", &|imp| import_parsed(imp, &parsed));

    let mut group = c.benchmark_group("Importer");
    group
        .throughput(Throughput::Elements(samples))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    let id = format!("{}_series_{samples}_samples", parsed.keys.len());
    group.bench_function(BenchmarkId::new("from_text", &id), |b| {
        b.iter_batched(
            || open(options()),
            |(dir, db)| {
                let mut imp = db.importer();
                import_text(&mut imp, &text);
                black_box(imp.finish().unwrap());
                (dir, db)
            },
            BatchSize::PerIteration,
        );
    });
    group.bench_function(BenchmarkId::new("from_parsed", &id), |b| {
        b.iter_batched(
            || open(options()),
            |(dir, db)| {
                let mut imp = db.importer();
                import_parsed(&mut imp, &parsed);
                black_box(imp.finish().unwrap());
                (dir, db)
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

fn query(c: &mut Criterion) {
    let spec = HistorySpec {
        series: 20,
        steps: 5760,
        ..HistorySpec::default()
    };
    let (text, samples, exemplars) = history(&spec);
    let (_dir, db) = open(Options::default().retention_ms(None));
    let mut imp = db.importer();
    import_text(&mut imp, &text);
    let summary = imp.finish().unwrap();
    drop(text);
    let stats = db.stats().unwrap();
    assert_eq!(
        (stats.block_samples, stats.block_exemplars),
        (samples, exemplars)
    );

    let count = |matchers: &[Matcher], mint, maxt| -> (u64, u64) {
        let mut n = (0, 0);
        for s in db.query(matchers, mint, maxt).unwrap() {
            let s = s.unwrap();
            n.0 += 1;
            n.1 += s.samples.len() as u64;
        }
        n
    };
    let end = spec.start_ms + spec.steps as i64 * spec.step_ms;
    let family = [Matcher::equal("__name__", "node_temperature_celsius")];
    let cases: [(&str, &[Matcher], TimestampMs, TimestampMs); 2] = [
        (
            "all_series_all_time",
            &[],
            TimestampMs::MIN,
            TimestampMs::MAX,
        ),
        ("one_gauge_family_last_2h", &family, end - 7_200_000, end),
    ];
    let mut group = c.benchmark_group("Db::query");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for (name, matchers, mint, maxt) in cases {
        let (series, samples) = count(matchers, mint, maxt);
        eprintln!(
            "query {name}: {series} series, {samples} samples, from {} blocks ({} series, {} samples in all)",
            summary.blocks_written, summary.series, stats.block_samples
        );
        group.throughput(Throughput::Elements(samples));
        group.bench_function(
            BenchmarkId::new(name, format!("{series}_series_{samples}_samples")),
            |b| b.iter(|| black_box(count(matchers, mint, maxt))),
        );
    }
    group.finish();
}

criterion_group!(benches, commit, scrape_ingest, import, query);
criterion_main!(benches);
