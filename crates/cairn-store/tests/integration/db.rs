//! The database end to end: commits and their replay after a clean close and after a crash,
//! the sample and exemplar rules, the exemplar caps, compaction, import, retention, scrape
//! ingest, the directory lock, and random histories checked against a model of Prometheus'
//! rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use cairn_expfmt::Format;
use cairn_model::{Labels, Matcher, NORMAL_NAN_BITS, STALE_NAN_BITS};
use cairn_store::block::Block;
use cairn_store::{
    CommitSummary, Db, Error, ExemplarOptions, ImportSummary, Options, Rejection, ScrapeCache,
    SeriesRef, ingest,
};
use proptest::prelude::*;

use crate::common::{labels, splitmix64};

/// 2023-11-13T00:00:00Z: a multiple of a day, so windows of every block range used here
/// start on it.
const DAY_START: i64 = 1_699_833_600_000;
const DAY: i64 = 86_400_000;
const MINUTE: i64 = 60_000;

/// A series as a query returns it, values as bits so that NaN payloads compare exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Series {
    labels: Labels,
    samples: Vec<(i64, u64)>,
    exemplars: Vec<(i64, u64, Labels)>,
}

fn query(db: &Db, matchers: &[Matcher], mint: i64, maxt: i64) -> Vec<Series> {
    db.query(matchers, mint, maxt)
        .unwrap()
        .map(|s| {
            let s = s.unwrap();
            Series {
                labels: s.labels,
                samples: s.samples.iter().map(|&(t, v)| (t, v.to_bits())).collect(),
                exemplars: s
                    .exemplars
                    .into_iter()
                    .map(|e| (e.t, e.v.to_bits(), e.labels))
                    .collect(),
            }
        })
        .collect()
}

fn query_all(db: &Db) -> Vec<Series> {
    query(db, &[], i64::MIN, i64::MAX)
}

/// What the database should hold: per series, one sample per timestamp (the first one
/// recorded wins) and a set of exemplars in the order a query returns them (time, value
/// bits, labels).
#[derive(Clone, Debug, Default)]
struct Model(BTreeMap<Labels, SeriesModel>);

#[derive(Clone, Debug, Default)]
struct SeriesModel {
    samples: BTreeMap<i64, u64>,
    exemplars: BTreeSet<(i64, u64, Labels)>,
}

impl Model {
    fn sample(&mut self, series: &Labels, t: i64, v: f64) {
        self.0
            .entry(series.clone())
            .or_default()
            .samples
            .entry(t)
            .or_insert(v.to_bits());
    }

    fn exemplar(&mut self, series: &Labels, t: i64, v: f64, ex: &Labels) {
        self.0
            .entry(series.clone())
            .or_default()
            .exemplars
            .insert((t, v.to_bits(), ex.clone()));
    }

    fn samples(&self) -> u64 {
        self.0.values().map(|s| s.samples.len() as u64).sum()
    }

    fn exemplars(&self) -> u64 {
        self.0.values().map(|s| s.exemplars.len() as u64).sum()
    }

    /// What a query over `[mint, maxt]` returns.
    fn range(&self, mint: i64, maxt: i64) -> Vec<Series> {
        self.0
            .iter()
            .map(|(l, s)| Series {
                labels: l.clone(),
                samples: s
                    .samples
                    .range(mint..=maxt)
                    .map(|(&t, &v)| (t, v))
                    .collect(),
                exemplars: s
                    .exemplars
                    .iter()
                    .filter(|e| (mint..=maxt).contains(&e.0))
                    .cloned()
                    .collect(),
            })
            .filter(|s| !s.samples.is_empty() || !s.exemplars.is_empty())
            .collect()
    }

    fn all(&self) -> Vec<Series> {
        self.range(i64::MIN, i64::MAX)
    }
}

fn open(dir: &Path, options: Options) -> Db {
    Db::open(dir, options).unwrap()
}

/// The names in a directory, sorted (none when it does not exist).
fn names(dir: &Path) -> BTreeSet<String> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect(),
        Err(_) => BTreeSet::new(),
    }
}

/// The `[min_time, max_time)` of every block under `blocks/`, sorted.
fn block_windows(dir: &Path) -> Vec<(i64, i64)> {
    let mut w: Vec<(i64, i64)> = names(&dir.join("blocks"))
        .iter()
        .map(|n| {
            let b = Block::open(&dir.join("blocks").join(n)).unwrap();
            (b.meta().min_time, b.meta().max_time)
        })
        .collect();
    w.sort_unstable();
    w
}

/// The numbers of the log's segment files.
fn wal_segments(dir: &Path) -> Vec<u32> {
    names(&dir.join("wal"))
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect()
}

fn rejected(pairs: &[(Rejection, u64)]) -> BTreeMap<Rejection, u64> {
    pairs.iter().copied().collect()
}

fn trace(id: &str) -> Labels {
    labels(&[("trace_id", id)])
}

/// A summary with only these counts set.
fn summary(
    series_created: u64,
    samples: u64,
    exemplars: u64,
    duplicate_samples: u64,
    duplicate_exemplars: u64,
    why: &[(Rejection, u64)],
) -> CommitSummary {
    CommitSummary {
        series_created,
        samples,
        exemplars,
        duplicate_samples,
        duplicate_exemplars,
        rejected: rejected(why),
    }
}

// 1. Commit, close, reopen; and a crash (drop without close).

/// The series and values of `reopen_replays_the_head_bit_exact`.
struct History {
    series: [Labels; 3],
}

impl History {
    const SPECIAL: [u64; 9] = [
        0x3ff8_0000_0000_0000, // 1.5
        STALE_NAN_BITS,
        0x8000_0000_0000_0000, // -0.0
        0x7ff0_0000_0000_0000, // +Inf
        0xfff0_0000_0000_0000, // -Inf
        NORMAL_NAN_BITS,
        0x7ff0_0000_0000_0001, // a signalling NaN
        0xfff8_dead_beef_0001, // a negative NaN with a payload
        0x0000_0000_0000_0001, // the smallest subnormal
    ];

    fn new() -> History {
        History {
            series: [
                labels(&[("__name__", "requests_total"), ("job", "api")]),
                labels(&[("__name__", "temperature"), ("room", "kitchen")]),
                labels(&[("__name__", "odd_values"), ("job", "api")]),
            ],
        }
    }

    fn t(i: i64) -> i64 {
        DAY_START + i * 15_000
    }

    fn value(s: usize, i: i64) -> f64 {
        match s {
            0 => i as f64,
            1 => 20.0 + (i % 7) as f64 * 0.1,
            _ => f64::from_bits(History::SPECIAL[i as usize % History::SPECIAL.len()]),
        }
    }

    fn exemplar(s: usize, i: i64) -> Option<Labels> {
        (s != 1 && i % 10 == 3).then(|| {
            let trace = format!("{i:032x}");
            let span = format!("{:016x}", i * 7 + s as i64);
            labels(&[("trace_id", trace.as_str()), ("span_id", span.as_str())])
        })
    }

    /// Appends timestamps `from..to` of every series, 50 timestamps a commit.
    fn append(&self, db: &Db, model: &mut Model, from: i64, to: i64) {
        for start in (from..to).step_by(50) {
            let end = (start + 50).min(to);
            let mut app = db.appender();
            let mut exemplars = 0;
            for i in start..end {
                for (s, l) in self.series.iter().enumerate() {
                    let (t, v) = (History::t(i), History::value(s, i));
                    let r = app.append(l, t, v).unwrap();
                    model.sample(l, t, v);
                    if let Some(e) = History::exemplar(s, i) {
                        app.append_exemplar(r, t, v, &e);
                        model.exemplar(l, t, v, &e);
                        exemplars += 1;
                    }
                }
            }
            let got = app.commit().unwrap();
            let created = if start == 0 { 3 } else { 0 };
            let n = (end - start) as u64;
            assert_eq!(got, summary(created, 3 * n, exemplars, 0, 0, &[]));
        }
    }
}

#[test]
fn reopen_replays_the_head_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    // One-day blocks: 2 400 samples at 15 s (10 h) stay in the head, cut into chunks, in
    // head chunk files of 16 KiB.
    let options = || {
        let mut o = Options::default().block_range_ms(DAY);
        o.head_chunk_file_bytes = 16 << 10;
        o
    };
    let h = History::new();
    let mut model = Model::default();

    let db = open(dir.path(), options());
    h.append(&db, &mut model, 0, 2000);
    let files = names(&dir.path().join("chunks_head"));
    assert!(
        files.len() >= 2,
        "full chunks are in chunks_head/: {files:?}"
    );
    let stats = db.stats().unwrap();
    assert_eq!(stats.blocks, 0);
    assert_eq!(stats.head_series, 3);
    assert_eq!(stats.head_samples, 6000);
    assert_eq!(stats.head_exemplars, 400);
    assert!(
        stats.head_chunks >= 3 * 15,
        "{} head chunks",
        stats.head_chunks
    );
    assert_eq!(stats.min_time, Some(History::t(0)));
    assert_eq!(stats.max_time, Some(History::t(1999)));
    let before = query_all(&db);
    assert_eq!(before, model.all());
    assert_eq!(
        before[0].labels, h.series[2],
        "label order: odd_values first"
    );
    // A sub-range, and a matcher.
    let (a, b) = (History::t(700) + 1, History::t(1300));
    assert_eq!(query(&db, &[], a, b), model.range(a, b));
    let api = query(&db, &[Matcher::equal("job", "api")], i64::MIN, i64::MAX);
    assert_eq!(
        api.iter().map(|s| &s.labels).collect::<Vec<_>>(),
        [&h.series[2], &h.series[0]]
    );
    db.close().unwrap();

    let db = open(dir.path(), options());
    let report = db.report();
    assert_eq!(report.wal_repair, None);
    assert_eq!(report.head_chunks_repair, None);
    assert_eq!(report.replay.series, 3);
    assert!(report.replay.mapped_chunks > 0, "{:?}", report.replay);
    assert!(
        report.replay.samples < 6000,
        "samples in recovered chunks are not replayed again: {:?}",
        report.replay
    );
    assert_eq!(query_all(&db), model.all());
    assert_eq!(db.stats().unwrap().head_samples, 6000);
    assert_eq!(db.stats().unwrap().head_exemplars, 400);

    // More, then a clean reopen again.
    h.append(&db, &mut model, 2000, 2300);
    assert_eq!(query_all(&db), model.all());
    db.close().unwrap();
    let db = open(dir.path(), options());
    assert_eq!(query_all(&db), model.all());

    // More, then a crash: the Db is dropped without `close`.
    h.append(&db, &mut model, 2300, 2400);
    drop(db);
    let db = open(dir.path(), options());
    assert_eq!(db.report().wal_repair, None);
    assert_eq!(db.report().head_chunks_repair, None);
    assert_eq!(query_all(&db), model.all());
    assert_eq!(db.stats().unwrap().head_samples, 3 * 2400);

    // The replayed head knows each series' newest sample and exemplar.
    let mut app = db.appender();
    let last = 2399;
    for (s, l) in h.series.iter().enumerate() {
        app.append(l, History::t(last), History::value(s, last))
            .unwrap();
    }
    let r = app.append(&h.series[0], History::t(last - 1), 0.0).unwrap();
    let newest = 2393; // the last i with i % 10 == 3
    app.append_exemplar(
        r,
        History::t(newest),
        History::value(0, newest),
        &History::exemplar(0, newest).unwrap(),
    );
    app.append_exemplar(
        r,
        History::t(newest - 10),
        History::value(0, newest - 10),
        &History::exemplar(0, newest - 10).unwrap(),
    );
    assert_eq!(
        app.commit().unwrap(),
        summary(
            0,
            0,
            0,
            3,
            1,
            &[
                (Rejection::OutOfOrderSample, 1),
                (Rejection::ExemplarOutOfOrder, 1)
            ]
        )
    );
    assert_eq!(query_all(&db), model.all());
    db.close().unwrap();
}

// 2. Sample rules.

#[test]
fn sample_rules_within_and_across_commits() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default());
    let a = labels(&[("__name__", "a")]);
    let b = labels(&[("__name__", "b")]);
    let t = |s: i64| DAY_START + s * 1000;
    let stale = f64::from_bits(STALE_NAN_BITS);
    let normal_nan = f64::from_bits(NORMAL_NAN_BITS);

    let mut app = db.appender();
    let ra = app.append(&a, t(1), 1.0).unwrap();
    app.append_ref(ra, t(2), 2.0);
    app.append_ref(ra, t(1), 9.0); // older than the newest
    app.append_ref(ra, t(2), 2.0); // the newest again: a duplicate
    app.append_ref(ra, t(2), 3.0); // same time, other value
    let rb = app.append(&b, t(1), stale).unwrap();
    app.append_ref(rb, t(1), stale); // bit-equal NaN: a duplicate
    app.append_ref(rb, t(1), normal_nan); // another NaN: other bits
    app.append_ref(ra, t(3), 3.0);
    assert_eq!(
        app.commit().unwrap(),
        summary(
            2,
            4,
            0,
            2,
            0,
            &[
                (Rejection::OutOfOrderSample, 1),
                (Rejection::DuplicateTimestamp, 2)
            ]
        )
    );

    // Across commits: the newest committed sample is what counts.
    app.append_ref(ra, t(3), 3.0);
    app.append_ref(ra, t(2), 2.0);
    app.append_ref(ra, t(3), 3.5);
    app.append_ref(rb, t(1), stale);
    app.append_ref(rb, t(0), stale);
    app.append_ref(ra, t(4), 0.0);
    app.append_ref(ra, t(4), -0.0); // -0.0 and 0.0 differ in bits
    assert_eq!(
        app.commit().unwrap(),
        summary(
            0,
            1,
            0,
            2,
            0,
            &[
                (Rejection::OutOfOrderSample, 2),
                (Rejection::DuplicateTimestamp, 2)
            ]
        )
    );

    // A commit with nothing to store is not an error.
    app.append_ref(ra, t(1), 1.0);
    app.append_ref(SeriesRef(999_999), t(9), 1.0);
    assert_eq!(
        app.commit().unwrap(),
        summary(
            0,
            0,
            0,
            0,
            0,
            &[
                (Rejection::OutOfOrderSample, 1),
                (Rejection::UnknownSeries, 1)
            ]
        )
    );
    // An empty label set or an empty name is refused outright.
    assert!(matches!(
        app.append(&Labels::new(), t(9), 1.0),
        Err(Error::InvalidLabels { .. })
    ));
    assert!(matches!(
        app.append(&labels(&[("", "x")]), t(9), 1.0),
        Err(Error::InvalidLabels { .. })
    ));
    assert_eq!(app.pending(), 0);
    drop(app);

    let expected = vec![
        Series {
            labels: a.clone(),
            samples: vec![
                (t(1), 1f64.to_bits()),
                (t(2), 2f64.to_bits()),
                (t(3), 3f64.to_bits()),
                (t(4), 0f64.to_bits()),
            ],
            exemplars: vec![],
        },
        Series {
            labels: b.clone(),
            samples: vec![(t(1), STALE_NAN_BITS)],
            exemplars: vec![],
        },
    ];
    assert_eq!(query_all(&db), expected);
    db.close().unwrap();
    let db = open(dir.path(), Options::default());
    assert_eq!(query_all(&db), expected);
    // Replayed: the newest samples are known again.
    let mut app = db.appender();
    app.append(&a, t(4), 0.0).unwrap();
    app.append(&a, t(4), 1.0).unwrap();
    app.append(&b, t(0), 1.0).unwrap();
    assert_eq!(
        app.commit().unwrap(),
        summary(
            0,
            0,
            0,
            1,
            0,
            &[
                (Rejection::OutOfOrderSample, 1),
                (Rejection::DuplicateTimestamp, 1)
            ]
        )
    );
    drop(app);
    assert_eq!(query_all(&db), expected);
}

#[test]
fn rollback_and_dropped_appenders_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default());
    let a = labels(&[("__name__", "a")]);
    let mut app = db.appender();
    app.append(&a, DAY_START, 1.0).unwrap();
    assert_eq!(app.pending(), 1);
    app.rollback();
    assert_eq!(app.pending(), 0);
    assert_eq!(app.commit().unwrap(), CommitSummary::default());
    app.append(&a, DAY_START + 1, 1.0).unwrap();
    drop(app);
    assert_eq!(query_all(&db), vec![]);
    drop(db);
    let db = open(dir.path(), Options::default());
    assert_eq!(query_all(&db), vec![]);
}

// 3. Exemplar rules and caps.

#[test]
fn exemplar_duplicates_and_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default());
    let s = labels(&[("__name__", "rpc_seconds"), ("job", "api")]);
    let t = |ms: i64| DAY_START + ms;
    let mut app = db.appender();
    let r = app.append(&s, t(1000), 1.0).unwrap();
    app.append_exemplar(r, t(1000), 1.0, &trace("aa"));
    assert_eq!(app.commit().unwrap(), summary(1, 1, 1, 0, 0, &[]));

    // The newest again (a target re-exposing its exemplar): a silent no-op.
    app.append_exemplar(r, t(1000), 1.0, &trace("aa"));
    assert_eq!(app.commit().unwrap(), summary(0, 0, 0, 0, 1, &[]));
    // Older than the newest: rejected. Same time, other value: stored.
    app.append_exemplar(r, t(999), 1.0, &trace("old"));
    app.append_exemplar(r, t(1000), 2.0, &trace("aa"));
    assert_eq!(
        app.commit().unwrap(),
        summary(0, 0, 1, 0, 0, &[(Rejection::ExemplarOutOfOrder, 1)])
    );
    // Within one commit, with a sample: the rejections do not fail the commit.
    app.append_ref(r, t(2000), 2.0);
    app.append_exemplar(r, t(2000), 3.0, &trace("bb"));
    app.append_exemplar(r, t(2000), 3.0, &trace("bb"));
    app.append_exemplar(r, t(1500), 3.0, &trace("cc"));
    app.append_exemplar(SeriesRef(424_242), t(3000), 3.0, &trace("dd"));
    assert_eq!(
        app.commit().unwrap(),
        summary(
            0,
            1,
            1,
            0,
            1,
            &[
                (Rejection::ExemplarOutOfOrder, 1),
                (Rejection::UnknownSeries, 1)
            ]
        )
    );
    drop(app);
    let expected = vec![Series {
        labels: s.clone(),
        samples: vec![(t(1000), 1f64.to_bits()), (t(2000), 2f64.to_bits())],
        exemplars: vec![
            (t(1000), 1f64.to_bits(), trace("aa")),
            (t(1000), 2f64.to_bits(), trace("aa")),
            (t(2000), 3f64.to_bits(), trace("bb")),
        ],
    }];
    assert_eq!(query_all(&db), expected);
    db.close().unwrap();

    let db = open(dir.path(), Options::default());
    assert_eq!(query_all(&db), expected);
    // After the replay the newest exemplar is known: the re-scraped one is still a no-op.
    let mut app = db.appender();
    let r = app.series_ref(&s).unwrap();
    app.append_exemplar(r, t(2000), 3.0, &trace("bb"));
    app.append_exemplar(r, t(1000), 1.0, &trace("aa"));
    assert_eq!(
        app.commit().unwrap(),
        summary(0, 0, 0, 0, 1, &[(Rejection::ExemplarOutOfOrder, 1)])
    );
    drop(app);
    assert_eq!(query_all(&db), expected);
}

#[test]
fn exemplar_labels_are_limited_to_128_code_points() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default());
    let s = labels(&[("__name__", "x")]);
    // "trace_id" is 8 code points; "é" is 2 bytes, "🦀" 4 bytes, each 1 code point.
    let e_120 = labels(&[("trace_id", "é".repeat(120).as_str())]);
    let e_121 = labels(&[("trace_id", "é".repeat(121).as_str())]);
    let crab_120 = labels(&[("trace_id", "🦀".repeat(120).as_str())]);
    let crab_121 = labels(&[("trace_id", "🦀".repeat(121).as_str())]);
    // Two labels: 1 + 63 + 1 + 63 = 128, one more char is 129.
    let two_128 = labels(&[
        ("a", "x".repeat(63).as_str()),
        ("b", "y".repeat(63).as_str()),
    ]);
    let two_129 = labels(&[
        ("a", "x".repeat(64).as_str()),
        ("b", "y".repeat(63).as_str()),
    ]);
    assert_eq!(cairn_store::MAX_EXEMPLAR_LABEL_CHARS, 128);

    let mut app = db.appender();
    let r = app.append(&s, DAY_START, 1.0).unwrap();
    for (i, e) in [&e_120, &e_121, &crab_120, &crab_121, &two_128, &two_129]
        .into_iter()
        .enumerate()
    {
        app.append_exemplar(r, DAY_START + i as i64, i as f64, e);
    }
    assert_eq!(
        app.commit().unwrap(),
        summary(1, 1, 3, 0, 0, &[(Rejection::ExemplarLabelsTooLong, 3)])
    );
    drop(app);
    let expected = vec![Series {
        labels: s.clone(),
        samples: vec![(DAY_START, 1f64.to_bits())],
        exemplars: vec![
            (DAY_START, 0f64.to_bits(), e_120.clone()),
            (DAY_START + 2, 2f64.to_bits(), crab_120.clone()),
            (DAY_START + 4, 4f64.to_bits(), two_128.clone()),
        ],
    }];
    assert_eq!(query_all(&db), expected);
    drop(db);
    let db = open(dir.path(), Options::default());
    assert_eq!(query_all(&db), expected);
}

#[test]
fn late_exemplars_within_the_out_of_order_window_are_inserted_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        || Options::default().exemplars(ExemplarOptions::default().out_of_order_window_ms(1000));
    let db = open(dir.path(), options());
    let s = labels(&[("__name__", "x")]);
    let t = |ms: i64| DAY_START + ms;
    let mut app = db.appender();
    let r = app.append(&s, t(10_000), 1.0).unwrap();
    app.append_exemplar(r, t(10_000), 1.0, &trace("a"));
    assert_eq!(app.commit().unwrap(), summary(1, 1, 1, 0, 0, &[]));
    app.append_exemplar(r, t(12_000), 1.0, &trace("c"));
    assert_eq!(app.commit().unwrap().exemplars, 1);
    // 500 ms late: inserted.
    app.append_exemplar(r, t(11_500), 1.0, &trace("b"));
    assert_eq!(app.commit().unwrap(), summary(0, 0, 1, 0, 0, &[]));
    // 1 100 ms late: outside the window.
    app.append_exemplar(r, t(10_900), 1.0, &trace("x"));
    assert_eq!(
        app.commit().unwrap(),
        summary(0, 0, 0, 0, 0, &[(Rejection::ExemplarOutOfOrder, 1)])
    );
    // The late one again: a duplicate, even though it is not the newest.
    app.append_exemplar(r, t(11_500), 1.0, &trace("b"));
    assert_eq!(app.commit().unwrap(), summary(0, 0, 0, 0, 1, &[]));
    // Exactly the window's edge: inserted.
    app.append_exemplar(r, t(11_000), 1.0, &trace("edge"));
    assert_eq!(app.commit().unwrap(), summary(0, 0, 1, 0, 0, &[]));
    drop(app);
    let ex = |ms: i64, id: &str| (t(ms), 1f64.to_bits(), trace(id));
    let mut expected = vec![Series {
        labels: s.clone(),
        samples: vec![(t(10_000), 1f64.to_bits())],
        exemplars: vec![
            ex(10_000, "a"),
            ex(11_000, "edge"),
            ex(11_500, "b"),
            ex(12_000, "c"),
        ],
    }];
    assert_eq!(query_all(&db), expected);
    db.close().unwrap();

    let db = open(dir.path(), options());
    assert_eq!(query_all(&db), expected);
    // After the replay the window still works (the open chunk was rebuilt).
    let mut app = db.appender();
    let r = app.series_ref(&s).unwrap();
    app.append_exemplar(r, t(11_800), 1.0, &trace("late"));
    app.append_exemplar(r, t(11_500), 1.0, &trace("b"));
    assert_eq!(app.commit().unwrap(), summary(0, 0, 1, 0, 1, &[]));
    drop(app);
    expected[0].exemplars.insert(3, ex(11_800, "late"));
    assert_eq!(query_all(&db), expected);
    drop(db);
    let db = open(dir.path(), options());
    assert_eq!(query_all(&db), expected);
}

#[test]
fn the_per_series_cap_evicts_the_oldest_exemplars() {
    let dir = tempfile::tempdir().unwrap();
    // A cap of 8: chunks of 8 / 4 = 2 exemplars, the oldest chunk goes while over 8.
    let options = || Options::default().exemplars(ExemplarOptions::default().max_per_series(8));
    let db = open(dir.path(), options());
    let s = labels(&[("__name__", "x")]);
    let t = |i: i64| DAY_START + i * 1000;
    let ex = |i: i64| trace(&format!("{i:04}"));
    let mut app = db.appender();
    for i in 1..=30 {
        let r = app.append(&s, t(i), i as f64).unwrap();
        app.append_exemplar(r, t(i), i as f64, &ex(i));
        assert_eq!(app.commit().unwrap().exemplars, 1);
        let stats = db.stats().unwrap();
        assert!(stats.head_exemplars <= 8, "{i}: {}", stats.head_exemplars);
        assert_eq!(stats.head_exemplars + stats.exemplars_evicted, i as u64);
    }
    drop(app);
    // Nine exemplars (four chunks and one in the open chunk) drop the oldest chunk: from
    // then on a series holds 7 or 8, the newest.
    let stats = db.stats().unwrap();
    assert_eq!((stats.head_exemplars, stats.exemplars_evicted), (8, 22));
    let kept: Vec<_> = (23..=30)
        .map(|i| (t(i), (i as f64).to_bits(), ex(i)))
        .collect();
    let got = query_all(&db);
    assert_eq!(got[0].exemplars, kept);
    assert_eq!(got[0].samples.len(), 30, "samples are not evicted");
    db.close().unwrap();

    let db = open(dir.path(), options());
    assert_eq!(query_all(&db)[0].exemplars, kept);
    assert_eq!(db.stats().unwrap().head_exemplars, 8);
}

/// Three series, one exemplar each per commit, 30 commits, under a total cap of 50 (and a
/// per-series cap of 40: chunks of 10).
fn total_cap_history(db: &Db) -> [Labels; 3] {
    let series = [
        labels(&[("__name__", "s0")]),
        labels(&[("__name__", "s1")]),
        labels(&[("__name__", "s2")]),
    ];
    let mut app = db.appender();
    for k in 1..=30 {
        for l in &series {
            let r = app.append(l, DAY_START + k * 1000, k as f64).unwrap();
            app.append_exemplar(r, DAY_START + k * 1000, k as f64, &trace(&format!("{k}")));
        }
        assert_eq!(app.commit().unwrap().exemplars, 3);
        let stats = db.stats().unwrap();
        assert!(stats.head_exemplars <= 50, "{k}: {}", stats.head_exemplars);
        assert_eq!(stats.head_exemplars + stats.exemplars_evicted, 3 * k as u64);
    }
    series
}

fn exemplar_range(from: i64, to: i64) -> Vec<(i64, u64, Labels)> {
    (from..=to)
        .map(|k| {
            (
                DAY_START + k * 1000,
                (k as f64).to_bits(),
                trace(&format!("{k}")),
            )
        })
        .collect()
}

#[test]
fn the_total_cap_evicts_the_oldest_chunks_of_the_largest_series() {
    let dir = tempfile::tempdir().unwrap();
    let options =
        Options::default().exemplars(ExemplarOptions::default().max_per_series(40).max_total(50));
    let db = open(dir.path(), options);
    total_cap_history(&db);
    // Over 50 the series with the most (ties: the newest ref) lose their oldest chunk until
    // the head holds at most 45: s2 at 17, s1 at 21, s0 at 24, s2 again at 27.
    let stats = db.stats().unwrap();
    assert_eq!((stats.head_exemplars, stats.exemplars_evicted), (50, 40));
    let got: Vec<_> = query_all(&db).into_iter().map(|s| s.exemplars).collect();
    assert_eq!(
        got,
        [
            exemplar_range(11, 30),
            exemplar_range(11, 30),
            exemplar_range(21, 30)
        ]
    );
}

#[test]
fn exemplars_evicted_by_the_total_cap_stay_evicted_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let options = || {
        Options::default().exemplars(ExemplarOptions::default().max_per_series(40).max_total(50))
    };
    let db = open(dir.path(), options());
    total_cap_history(&db);
    let before = query_all(&db);
    db.close().unwrap();
    let db = open(dir.path(), options());
    let stats = db.stats().unwrap();
    assert!(
        stats.head_exemplars <= 50,
        "the reopened head holds {} exemplars, over the cap of 50",
        stats.head_exemplars
    );
    // The cap is applied again at open to what the head holds then, which is not logged
    // eviction by eviction: the chunks that go may differ from before (ExemplarOptions'
    // docs say so). What stays is each series' newest exemplars, and its samples are intact.
    let after = query_all(&db);
    assert_eq!(after.len(), before.len());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(a.labels, b.labels);
        assert_eq!(a.samples, b.samples, "samples changed");
        assert_eq!(
            a.exemplars.last(),
            b.exemplars.last(),
            "the newest exemplar of {:?} is gone",
            a.labels
        );
    }
}

#[test]
fn exemplars_at_one_timestamp_across_a_chunk_cut_survive_replay() {
    let dir = tempfile::tempdir().unwrap();
    // Chunks of 2 exemplars: the third exemplar at the same timestamp opens a new chunk.
    let options = || Options::default().exemplars(ExemplarOptions::default().max_per_series(8));
    let db = open(dir.path(), options());
    let s = labels(&[("__name__", "x")]);
    let mut app = db.appender();
    let r = app.append(&s, DAY_START, 1.0).unwrap();
    for id in ["a", "b", "c"] {
        app.append_exemplar(r, DAY_START, 1.0, &trace(id));
    }
    assert_eq!(app.commit().unwrap(), summary(1, 1, 3, 0, 0, &[]));
    drop(app);
    let before = query_all(&db);
    assert_eq!(before[0].exemplars.len(), 3);
    db.close().unwrap();
    let db = open(dir.path(), options());
    assert_eq!(query_all(&db), before, "an exemplar was lost in the replay");
}

#[test]
fn a_late_exemplar_inserted_while_its_chunk_is_cut_survives_replay() {
    let dir = tempfile::tempdir().unwrap();
    // Chunks of 2 exemplars, a window of 1 s.
    let options = || {
        Options::default().exemplars(
            ExemplarOptions::default()
                .max_per_series(8)
                .out_of_order_window_ms(1000),
        )
    };
    let db = open(dir.path(), options());
    let s = labels(&[("__name__", "x")]);
    let t = |ms: i64| DAY_START + ms;
    let mut app = db.appender();
    let r = app.append(&s, t(0), 1.0).unwrap();
    app.append_exemplar(r, t(10_000), 1.0, &trace("a"));
    app.append_exemplar(r, t(10_100), 1.0, &trace("b"));
    assert_eq!(app.commit().unwrap(), summary(1, 1, 2, 0, 0, &[]));
    // "c" cuts the full chunk [a, b]; "d" was checked against that chunk and is inserted
    // into the new one.
    app.append_exemplar(r, t(10_200), 1.0, &trace("c"));
    app.append_exemplar(r, t(10_050), 1.0, &trace("d"));
    assert_eq!(app.commit().unwrap(), summary(0, 0, 2, 0, 0, &[]));
    drop(app);
    let before = query_all(&db);
    let ids: Vec<_> = before[0].exemplars.iter().map(|e| e.2.clone()).collect();
    assert_eq!(ids, [trace("a"), trace("d"), trace("b"), trace("c")]);
    db.close().unwrap();
    let db = open(dir.path(), options());
    assert_eq!(query_all(&db), before, "an exemplar was lost in the replay");
}

// 4. Compaction.

/// 10 minutes at 1 s of three series, exemplars every 7 s on two of them; a commit every
/// 5 s. Returns the model.
fn ten_minutes(db: &Db, series: &[Labels; 3]) -> Model {
    let mut model = Model::default();
    let mut app = db.appender();
    for start in (0..600).step_by(5) {
        for sec in start..start + 5 {
            let t = DAY_START + sec * 1000;
            for (s, l) in series.iter().enumerate() {
                let v = (sec * 10 + s as i64) as f64;
                let r = app.append(l, t, v).unwrap();
                model.sample(l, t, v);
                if s < 2 && sec % 7 == 0 {
                    let e = trace(&format!("{s}-{sec}"));
                    app.append_exemplar(r, t, v, &e);
                    model.exemplar(l, t, v, &e);
                }
            }
        }
        let got = app.commit().unwrap();
        assert_eq!((got.samples, got.rejected_total()), (15, 0));
    }
    model
}

fn three_series() -> [Labels; 3] {
    [
        labels(&[("__name__", "m"), ("job", "a")]),
        labels(&[("__name__", "m"), ("job", "b")]),
        labels(&[("__name__", "m"), ("job", "c")]),
    ]
}

#[test]
fn compaction_writes_blocks_truncates_the_log_and_keeps_every_sample() {
    let dir = tempfile::tempdir().unwrap();
    let options = || {
        let mut o = Options::default()
            .block_range_ms(MINUTE)
            .wal_segment_bytes(4096)
            .retention_ms(None);
        o.head_chunk_file_bytes = 4096;
        o
    };
    let db = open(dir.path(), options());
    let series = three_series();
    let model = ten_minutes(&db, &series);
    assert_eq!(model.samples(), 1800);

    // The head keeps at most 1.5 windows: windows 0..=8 are blocks, window 9 is the head.
    let windows: Vec<(i64, i64)> = (0..9)
        .map(|w| (DAY_START + w * MINUTE, DAY_START + (w + 1) * MINUTE))
        .collect();
    assert_eq!(block_windows(dir.path()), windows);
    let stats = db.stats().unwrap();
    assert_eq!(stats.blocks, 9);
    assert_eq!(stats.block_samples, 9 * 180);
    assert_eq!(stats.head_samples, 180);
    assert_eq!(
        stats.block_exemplars + stats.head_exemplars,
        model.exemplars()
    );
    assert_eq!(stats.series, 3);
    assert_eq!(query_all(&db), model.all());
    // Ranges that cut blocks and the head.
    for (a, b) in [
        (DAY_START + 30_500, DAY_START + 570_000),
        (DAY_START + 59_999, DAY_START + 60_000),
        (DAY_START + 539_000, DAY_START + 541_000),
    ] {
        assert_eq!(query(&db, &[], a, b), model.range(a, b), "[{a}, {b}]");
    }
    // The log kept only the last segments: 120 commits of about 100 bytes would fill a
    // few segments of 4 KiB.
    let segs = wal_segments(dir.path());
    let last = *segs.last().unwrap();
    assert!(last >= 3, "segments {segs:?}");
    assert!(
        segs.len() < last as usize,
        "old segments were removed: {segs:?}"
    );
    assert_eq!(segs, (segs[0]..=last).collect::<Vec<_>>());
    // Likewise the head chunk files: those holding only compacted windows are gone.
    let files: Vec<u32> = names(&dir.path().join("chunks_head"))
        .iter()
        .filter_map(|n| n.parse().ok())
        .collect();
    let newest = *files.last().unwrap();
    assert!(newest >= 3, "head chunk files {files:?}");
    assert!(
        files.len() < newest as usize,
        "old files were removed: {files:?}"
    );

    // Older than the head's lower bound (the end of window 8): out of bounds, also for a
    // new series.
    let mut app = db.appender();
    let r = app.append(&series[0], DAY_START + 1000, 1.0).unwrap();
    app.append(&labels(&[("__name__", "new")]), DAY_START + 539_999, 1.0)
        .unwrap();
    app.append_exemplar(r, DAY_START + 2000, 1.0, &trace("old"));
    let got = app.commit().unwrap();
    assert_eq!(
        got.rejected,
        rejected(&[
            (Rejection::OutOfBounds, 2),
            (Rejection::ExemplarOutOfBounds, 1)
        ])
    );
    assert_eq!((got.samples, got.exemplars), (0, 0));
    drop(app);
    db.close().unwrap();

    let db = open(dir.path(), options());
    assert_eq!(db.stats().unwrap().blocks, 9);
    assert_eq!(query_all(&db), model.all());
    let mut app = db.appender();
    app.append(&series[0], DAY_START + 539_999, 1.0).unwrap();
    assert_eq!(
        app.commit().unwrap().rejected,
        rejected(&[(Rejection::OutOfBounds, 1)]),
        "the lower bound survives a reopen"
    );
    drop(app);

    // flush_head: the head's last window goes into a block, the head is empty.
    assert_eq!(db.flush_head().unwrap(), 1);
    let stats = db.stats().unwrap();
    assert_eq!(
        (stats.blocks, stats.head_samples, stats.head_exemplars),
        (10, 0, 0)
    );
    assert_eq!(stats.block_samples, 1800);
    assert_eq!(stats.block_exemplars, model.exemplars());
    assert_eq!(query_all(&db), model.all());
    db.close().unwrap();

    let db = open(dir.path(), options());
    assert_eq!(db.report().replay.samples, 0);
    assert_eq!(db.report().replay.exemplars, 0);
    assert_eq!(query_all(&db), model.all());
    let mut app = db.appender();
    app.append(&series[0], DAY_START + 599_500, 1.0).unwrap();
    app.append(&series[0], DAY_START + 600_000, 1.0).unwrap();
    let got = app.commit().unwrap();
    assert_eq!(got.samples, 1);
    assert_eq!(got.rejected, rejected(&[(Rejection::OutOfBounds, 1)]));
}

#[test]
fn an_exemplar_older_than_the_head_samples_survives_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let options = || Options::default().block_range_ms(MINUTE).retention_ms(None);
    let db = open(dir.path(), options());
    let s = labels(&[("__name__", "x")]);
    let mut app = db.appender();
    // The first scrape, in window 1, carries an exemplar observed in window 0.
    let r = app.append(&s, DAY_START + 65_000, 1.0).unwrap();
    app.append_exemplar(r, DAY_START + 30_000, 0.5, &trace("early"));
    assert_eq!(app.commit().unwrap(), summary(1, 1, 1, 0, 0, &[]));
    let exemplar = (DAY_START + 30_000, 0.5f64.to_bits(), trace("early"));
    assert_eq!(query_all(&db)[0].exemplars, std::slice::from_ref(&exemplar));
    // Enough samples to compact window 1.
    for sec in (75..=165).step_by(10) {
        app.append_ref(r, DAY_START + sec * 1000, 1.0);
    }
    assert_eq!(app.commit().unwrap().samples, 10);
    drop(app);
    assert!(db.stats().unwrap().blocks >= 1);
    assert_eq!(
        query_all(&db)[0].exemplars,
        [exemplar],
        "the exemplar of window 0 was dropped from the head without going into a block"
    );
}

#[test]
fn flush_head_also_flushes_exemplars_after_the_last_sample() {
    let dir = tempfile::tempdir().unwrap();
    let options = || Options::default().block_range_ms(MINUTE).retention_ms(None);
    let db = open(dir.path(), options());
    let s = labels(&[("__name__", "x")]);
    let mut app = db.appender();
    let r = app.append(&s, DAY_START + 10_000, 1.0).unwrap();
    // An exemplar two windows after the sample (a target's clock, or its own timestamp).
    app.append_exemplar(r, DAY_START + 130_000, 0.5, &trace("late"));
    assert_eq!(app.commit().unwrap(), summary(1, 1, 1, 0, 0, &[]));
    drop(app);
    let expected = query_all(&db);
    db.flush_head().unwrap();
    assert_eq!(query_all(&db), expected);
    let stats = db.stats().unwrap();
    assert_eq!(
        (stats.head_samples, stats.head_exemplars),
        (0, 0),
        "flush_head leaves the head empty"
    );
    // A sample in window 3, flushed: window 2, between the two, must not be dropped.
    let mut app = db.appender();
    app.append(&s, DAY_START + 190_000, 1.0).unwrap();
    app.commit().unwrap();
    drop(app);
    db.flush_head().unwrap();
    assert_eq!(
        query_all(&db)[0].exemplars,
        expected[0].exemplars,
        "the exemplar of window 2 was lost"
    );
}

// 5. Import.

/// Samples of three series over four windows of a minute, every 2 s, in random order,
/// with repeats; exemplars every 10 s, some repeated.
struct ImportData {
    series: [Labels; 3],
    samples: Vec<(usize, i64, f64)>,
    exemplars: Vec<(usize, i64, f64, Labels)>,
}

impl ImportData {
    fn new(seed: u64) -> ImportData {
        let mut rng = seed;
        let mut samples = Vec::new();
        let mut exemplars = Vec::new();
        for s in 0..3 {
            for sec in (0..240).step_by(2) {
                let v = (s * 1000 + sec) as f64;
                samples.push((s, DAY_START + sec as i64 * 1000, v));
                if sec % 10 == 0 {
                    let e = trace(&format!("{s}-{sec}"));
                    exemplars.push((s, DAY_START + sec as i64 * 1000, v, e));
                }
            }
        }
        // Repeats of the same sample and exemplar.
        for _ in 0..40 {
            let i = (splitmix64(&mut rng) % samples.len() as u64) as usize;
            samples.push(samples[i]);
        }
        for _ in 0..10 {
            let i = (splitmix64(&mut rng) % exemplars.len() as u64) as usize;
            exemplars.push(exemplars[i].clone());
        }
        shuffle(&mut samples, &mut rng);
        shuffle(&mut exemplars, &mut rng);
        // Another value at a timestamp read before: the first read is kept.
        for i in 0..5 {
            let (s, t, v) = samples[i * 7];
            samples.push((s, t, v + 0.5));
        }
        ImportData {
            series: three_series(),
            samples,
            exemplars,
        }
    }

    fn import(&self, db: &Db, model: &mut Model) -> ImportSummary {
        let mut importer = db.importer();
        for &(s, t, v) in &self.samples {
            importer.add_sample(&self.series[s], t, v).unwrap();
            model.sample(&self.series[s], t, v);
        }
        for (s, t, v, e) in &self.exemplars {
            importer.add_exemplar(&self.series[*s], *t, *v, e.clone());
            model.exemplar(&self.series[*s], *t, *v, e);
        }
        importer.finish().unwrap()
    }
}

fn shuffle<T>(items: &mut [T], rng: &mut u64) {
    for i in (1..items.len()).rev() {
        let j = (splitmix64(rng) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[test]
fn import_sorts_dedups_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let options = || Options::default().block_range_ms(MINUTE).retention_ms(None);
    let db = open(dir.path(), options());
    let data = ImportData::new(7);
    let mut model = Model::default();
    let got = data.import(&db, &mut model);
    assert_eq!(model.samples(), 360);
    assert_eq!(model.exemplars(), 72);
    assert_eq!(got.series, 3);
    assert_eq!(got.samples, 360 + 40 + 5);
    assert_eq!(got.samples_added, 360);
    assert_eq!(got.exemplars, 72 + 10);
    assert_eq!(got.exemplars_added, 72);
    assert_eq!(got.blocks_written, 4);
    assert_eq!(got.rejected, BTreeMap::new());
    let windows: Vec<(i64, i64)> = (0..4)
        .map(|w| (DAY_START + w * MINUTE, DAY_START + (w + 1) * MINUTE))
        .collect();
    assert_eq!(block_windows(dir.path()), windows);
    let listing = names(&dir.path().join("blocks"));
    let sizes: u64 = listing
        .iter()
        .map(|n| {
            Block::open(&dir.path().join("blocks").join(n))
                .unwrap()
                .size()
                .total()
        })
        .sum();
    assert_eq!(got.bytes_written, sizes);
    assert_eq!(query_all(&db), model.all());
    let stats = db.stats().unwrap();
    assert_eq!((stats.blocks, stats.block_samples), (4, 360));
    assert_eq!(stats.block_exemplars, 72);

    // The same data again: nothing added, no block written.
    let again = data.import(&db, &mut model);
    assert_eq!(
        (
            again.samples,
            again.samples_added,
            again.exemplars_added,
            again.blocks_written,
            again.bytes_written
        ),
        (405, 0, 0, 0, 0)
    );
    assert_eq!(names(&dir.path().join("blocks")), listing);
    assert_eq!(query_all(&db), model.all());

    // A superset: 30 new samples and one new exemplar in window 1 of series 0.
    let mut importer = db.importer();
    for sec in (61..120).step_by(2) {
        let t = DAY_START + sec * 1000;
        importer.add_sample(&data.series[0], t, -1.0).unwrap();
        model.sample(&data.series[0], t, -1.0);
    }
    // Old samples too, with other values: the stored ones stay.
    for sec in (60..120).step_by(2) {
        importer
            .add_sample(&data.series[0], DAY_START + sec * 1000, -2.0)
            .unwrap();
    }
    importer.add_exemplar(&data.series[0], DAY_START + 61_000, -1.0, trace("new"));
    model.exemplar(&data.series[0], DAY_START + 61_000, -1.0, &trace("new"));
    let got = importer.finish().unwrap();
    assert_eq!(
        (
            got.samples,
            got.samples_added,
            got.exemplars_added,
            got.blocks_written
        ),
        (60, 30, 1, 1)
    );
    let now = names(&dir.path().join("blocks"));
    assert_eq!(now.len(), 4);
    let gone: Vec<_> = listing.difference(&now).collect();
    let added: Vec<_> = now.difference(&listing).collect();
    assert_eq!((gone.len(), added.len()), (1, 1), "{listing:?} -> {now:?}");
    let replaced = Block::open(&dir.path().join("blocks").join(added[0])).unwrap();
    assert_eq!(
        (replaced.meta().min_time, replaced.meta().max_time),
        (DAY_START + MINUTE, DAY_START + 2 * MINUTE)
    );
    assert_eq!(replaced.meta().stats.num_samples, 90 + 30);
    assert_eq!(query_all(&db), model.all());
    db.close().unwrap();

    let db = open(dir.path(), options());
    assert_eq!(query_all(&db), model.all());
    assert_eq!(names(&dir.path().join("blocks")), now);
}

#[test]
fn import_rejects_long_exemplar_labels_and_flushes_a_small_buffer() {
    let dir = tempfile::tempdir().unwrap();
    // A buffer of 150 samples: the import writes blocks several times, merging each time.
    let options = Options::default()
        .block_range_ms(MINUTE)
        .retention_ms(None)
        .import_buffer_samples(150);
    let db = open(dir.path(), options);
    let data = ImportData::new(11);
    let mut model = Model::default();
    let mut importer = db.importer();
    for &(s, t, v) in &data.samples {
        importer.add_sample(&data.series[s], t, v).unwrap();
        model.sample(&data.series[s], t, v);
    }
    importer.add_exemplar(
        &data.series[0],
        DAY_START,
        1.0,
        labels(&[("trace_id", "é".repeat(121).as_str())]),
    );
    let got = importer.finish().unwrap();
    assert_eq!(got.samples_added, 360);
    assert_eq!(got.exemplars_added, 0);
    assert_eq!(
        got.rejected,
        rejected(&[(Rejection::ExemplarLabelsTooLong, 1)])
    );
    assert_eq!(block_windows(dir.path()).len(), 4);
    assert_eq!(query_all(&db), model.all());
}

#[test]
fn import_into_a_window_the_head_holds_merges_at_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let options = || Options::default().block_range_ms(MINUTE).retention_ms(None);
    let db = open(dir.path(), options());
    let x = labels(&[("__name__", "x")]);
    let y = labels(&[("__name__", "y")]);
    let mut model = Model::default();

    // The head: x at even seconds of window 0, one exemplar.
    let mut app = db.appender();
    for sec in (0..60).step_by(2) {
        let t = DAY_START + sec * 1000;
        let r = app.append(&x, t, sec as f64).unwrap();
        model.sample(&x, t, sec as f64);
        if sec == 10 {
            app.append_exemplar(r, t, 1.0, &trace("head"));
            model.exemplar(&x, t, 1.0, &trace("head"));
        }
    }
    assert_eq!(app.commit().unwrap().samples, 30);
    drop(app);

    // The import: x at odd seconds and three even ones the head holds (same values), y,
    // the head's exemplar again and a new one.
    let mut importer = db.importer();
    for sec in (1..60).step_by(2).chain([0, 2, 4]) {
        let t = DAY_START + sec * 1000;
        importer.add_sample(&x, t, sec as f64).unwrap();
        model.sample(&x, t, sec as f64);
    }
    for sec in (0..60).step_by(5) {
        let t = DAY_START + sec * 1000;
        importer.add_sample(&y, t, -(sec as f64)).unwrap();
        model.sample(&y, t, -(sec as f64));
    }
    importer.add_exemplar(&x, DAY_START + 10_000, 1.0, trace("head"));
    importer.add_exemplar(&x, DAY_START + 11_000, 2.0, trace("import"));
    model.exemplar(&x, DAY_START + 11_000, 2.0, &trace("import"));
    let got = importer.finish().unwrap();
    assert_eq!(got.blocks_written, 1);
    let import_block = names(&dir.path().join("blocks"));
    assert_eq!(import_block.len(), 1);
    assert_eq!(query_all(&db), model.all(), "head and block merged");

    // Compacting window 0 merges the head into the imported block.
    assert_eq!(db.flush_head().unwrap(), 1);
    let after = names(&dir.path().join("blocks"));
    assert_eq!(after.len(), 1);
    assert!(
        after.is_disjoint(&import_block),
        "the imported block was replaced"
    );
    let b = Block::open(&dir.path().join("blocks").join(after.first().unwrap())).unwrap();
    assert_eq!(
        b.meta().stats.num_samples,
        60 + 12,
        "no sample stored twice"
    );
    assert_eq!(b.meta().stats.num_exemplars, 2);
    assert_eq!(query_all(&db), model.all());
    db.close().unwrap();
    let db = open(dir.path(), options());
    assert_eq!(query_all(&db), model.all());
}

#[test]
fn import_does_not_store_again_what_the_head_holds() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default().block_range_ms(MINUTE));
    let x = labels(&[("__name__", "x")]);
    let mut app = db.appender();
    app.append(&x, DAY_START, 1.0).unwrap();
    app.append(&x, DAY_START + 1000, 2.0).unwrap();
    app.commit().unwrap();
    drop(app);
    let mut importer = db.importer();
    importer.add_sample(&x, DAY_START, 1.0).unwrap(); // the head holds it
    importer.add_sample(&x, DAY_START + 1000, 5.0).unwrap(); // the head holds another value
    importer.add_sample(&x, DAY_START + 2000, 3.0).unwrap();
    let got = importer.finish().unwrap();
    // `ImportSummary::samples_added`: "Samples stored that the database did not hold (a
    // sample at a timestamp the series already has is not stored again)".
    let samples = |db: &Db| query_all(db)[0].samples.clone();
    let want = vec![
        (DAY_START, 1f64.to_bits()),
        (DAY_START + 1000, 2f64.to_bits()),
        (DAY_START + 2000, 3f64.to_bits()),
    ];
    assert_eq!(samples(&db), want, "the head's sample was replaced");
    assert_eq!(got.samples_added, 1, "the head held two of the three");
    db.flush_head().unwrap();
    assert_eq!(samples(&db), want);
}

#[test]
fn reimport_after_a_block_range_change_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let x = labels(&[("__name__", "x")]);
    let import = |db: &Db| {
        let mut importer = db.importer();
        for sec in 0..240 {
            importer
                .add_sample(&x, DAY_START + sec * 1000, sec as f64)
                .unwrap();
        }
        importer.finish().unwrap()
    };
    let db = open(
        dir.path(),
        Options::default()
            .block_range_ms(2 * MINUTE)
            .retention_ms(None),
    );
    assert_eq!(import(&db).blocks_written, 2);
    db.close().unwrap();
    let listing = names(&dir.path().join("blocks"));
    // Reopened with half the block range: the two-minute blocks reach past each window.
    let db = open(
        dir.path(),
        Options::default().block_range_ms(MINUTE).retention_ms(None),
    );
    let again = import(&db);
    assert_eq!(query_all(&db)[0].samples.len(), 240);
    assert_eq!(
        (again.samples_added, again.blocks_written),
        (0, 0),
        "the same data imported again was stored again"
    );
    assert_eq!(names(&dir.path().join("blocks")), listing);
}

// 6. Retention.

#[test]
fn time_retention_deletes_whole_old_blocks_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let x = labels(&[("__name__", "x")]);
    let mut model = Model::default();
    {
        let db = open(
            dir.path(),
            Options::default().block_range_ms(MINUTE).retention_ms(None),
        );
        let mut importer = db.importer();
        for sec in (0..600).step_by(10) {
            importer
                .add_sample(&x, DAY_START + sec * 1000, sec as f64)
                .unwrap();
            model.sample(&x, DAY_START + sec * 1000, sec as f64);
        }
        assert_eq!(importer.finish().unwrap().blocks_written, 10);
        db.close().unwrap();
    }
    // Newest data at 599 999 ms: blocks ending at or before 419 999 go.
    let db = open(
        dir.path(),
        Options::default()
            .block_range_ms(MINUTE)
            .retention_ms(Some(3 * MINUTE)),
    );
    let windows: Vec<(i64, i64)> = (6..10)
        .map(|w| (DAY_START + w * MINUTE, DAY_START + (w + 1) * MINUTE))
        .collect();
    assert_eq!(block_windows(dir.path()), windows);
    assert_eq!(db.stats().unwrap().blocks, 4);
    assert_eq!(
        query_all(&db),
        model.range(DAY_START + 6 * MINUTE, i64::MAX)
    );
}

#[test]
fn time_retention_deletes_old_blocks_after_compaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(
        dir.path(),
        Options::default()
            .block_range_ms(MINUTE)
            .retention_ms(Some(2 * MINUTE)),
    );
    let x = labels(&[("__name__", "x")]);
    let mut model = Model::default();
    let mut app = db.appender();
    for start in (0..600).step_by(10) {
        for sec in (start..start + 10).step_by(5) {
            app.append(&x, DAY_START + sec * 1000, sec as f64).unwrap();
            model.sample(&x, DAY_START + sec * 1000, sec as f64);
        }
        app.commit().unwrap();
    }
    drop(app);
    // Window 8 was compacted at 575 s: blocks ending at or before 455 s went then.
    let windows: Vec<(i64, i64)> = (7..9)
        .map(|w| (DAY_START + w * MINUTE, DAY_START + (w + 1) * MINUTE))
        .collect();
    assert_eq!(block_windows(dir.path()), windows);
    assert_eq!(
        query_all(&db),
        model.range(DAY_START + 7 * MINUTE, i64::MAX)
    );
}

#[test]
fn size_retention_deletes_the_oldest_blocks_first() {
    let dir = tempfile::tempdir().unwrap();
    let x = labels(&[("__name__", "x")]);
    let options = || Options::default().block_range_ms(MINUTE).retention_ms(None);
    let mut model = Model::default();
    {
        let db = open(dir.path(), options());
        let mut importer = db.importer();
        for sec in 0..300 {
            let v = (sec * sec) as f64 * 0.37;
            importer.add_sample(&x, DAY_START + sec * 1000, v).unwrap();
            model.sample(&x, DAY_START + sec * 1000, v);
        }
        assert_eq!(importer.finish().unwrap().blocks_written, 5);
        db.close().unwrap();
    }
    let (sizes, other) = {
        let db = open(dir.path(), options());
        let stats = db.stats().unwrap();
        db.close().unwrap();
        let mut sizes: Vec<(i64, u64)> = names(&dir.path().join("blocks"))
            .iter()
            .map(|n| {
                let b = Block::open(&dir.path().join("blocks").join(n)).unwrap();
                (b.meta().min_time, b.size().total())
            })
            .collect();
        sizes.sort_unstable();
        (sizes, stats.bytes.wal + stats.bytes.head_chunks)
    };
    let newest3: u64 = sizes[2..].iter().map(|s| s.1).sum();
    let slack = sizes.iter().map(|s| s.1).min().unwrap() / 2;
    let db = open(
        dir.path(),
        options().retention_bytes(Some(other + newest3 + slack)),
    );
    let windows: Vec<(i64, i64)> = (2..5)
        .map(|w| (DAY_START + w * MINUTE, DAY_START + (w + 1) * MINUTE))
        .collect();
    assert_eq!(block_windows(dir.path()), windows);
    assert_eq!(
        query_all(&db),
        model.range(DAY_START + 2 * MINUTE, i64::MAX)
    );
}

// 7. Scrape ingest.

const SCRAPE: &str = "\
# TYPE http_requests counter
http_requests_total{method=\"get\",code=\"200\"} 10 # {trace_id=\"aaaa\"} 1.0
http_requests_total{code=\"500\",method=\"get\"} 2 # {trace_id=\"bbbb\"} 0.5 1699833500.123
# TYPE temp gauge
temp{room=\"a\"} 21.5
temp{room=\"b\"} 19.0 1699833605.5 # {trace_id=\"cccc\"} 19.0
# EOF
";

#[test]
fn ingest_stores_scrapes_with_their_timestamps() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default());
    let mut cache = ScrapeCache::new();
    assert!(cache.is_empty());
    let (ts1, ts2) = (DAY_START + 10_000, DAY_START + 25_000);

    let got = ingest(&db, &mut cache, SCRAPE.as_bytes(), Format::OpenMetrics, ts1).unwrap();
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    assert_eq!((got.samples_read, got.exemplars_dropped), (4, 0));
    assert_eq!(got.commit, summary(4, 4, 3, 0, 0, &[]));
    assert_eq!(cache.len(), 4);

    // The same text 15 s later: the sample with its own timestamp repeats, and so do the
    // two exemplars with a timestamp (their own, or their line's).
    let got = ingest(&db, &mut cache, SCRAPE.as_bytes(), Format::OpenMetrics, ts2).unwrap();
    assert_eq!(got.commit, summary(0, 3, 1, 1, 2, &[]));
    assert_eq!(cache.len(), 4);

    let req = |code: &str| {
        labels(&[
            ("__name__", "http_requests_total"),
            ("code", code),
            ("method", "get"),
        ])
    };
    let own_ts = DAY_START + 5_500; // 1699833605.5 s
    let bits = |v: f64| v.to_bits();
    let expected = vec![
        Series {
            labels: req("200"),
            samples: vec![(ts1, bits(10.0)), (ts2, bits(10.0))],
            // No timestamp: the scrape's.
            exemplars: vec![
                (ts1, bits(1.0), trace("aaaa")),
                (ts2, bits(1.0), trace("aaaa")),
            ],
        },
        Series {
            labels: req("500"),
            samples: vec![(ts1, bits(2.0)), (ts2, bits(2.0))],
            // Its own timestamp: stored once.
            exemplars: vec![(DAY_START - 99_877, bits(0.5), trace("bbbb"))],
        },
        Series {
            labels: labels(&[("__name__", "temp"), ("room", "a")]),
            samples: vec![(ts1, bits(21.5)), (ts2, bits(21.5))],
            exemplars: vec![],
        },
        Series {
            labels: labels(&[("__name__", "temp"), ("room", "b")]),
            samples: vec![(own_ts, bits(19.0))],
            // No timestamp of its own: the line's.
            exemplars: vec![(own_ts, bits(19.0), trace("cccc"))],
        },
    ];
    assert_eq!(query_all(&db), expected);

    // A malformed line: errors, nothing stored.
    let bad = "temp{room=\"a\" 22\ntemp{room=\"c\"} 1\n# EOF\n";
    let got = ingest(
        &db,
        &mut cache,
        bad.as_bytes(),
        Format::OpenMetrics,
        ts2 + 15_000,
    )
    .unwrap();
    assert_eq!(got.errors.len(), 1);
    assert_eq!(got.errors[0].to_string().split(':').next(), Some("1"));
    assert_eq!(got.commit, CommitSummary::default());
    assert_eq!(query_all(&db), expected);
    // A missing `# EOF` is an error too.
    let got = ingest(
        &db,
        &mut cache,
        b"temp{room=\"a\"} 22\n",
        Format::OpenMetrics,
        ts2 + 15_000,
    )
    .unwrap();
    assert_eq!(got.errors.len(), 1);
    assert_eq!(query_all(&db), expected);

    db.close().unwrap();
    let db = open(dir.path(), Options::default());
    assert_eq!(query_all(&db), expected);
    // A fresh cache after the reopen: the re-exposed exemplar is still suppressed.
    let mut cache = ScrapeCache::new();
    let got = ingest(
        &db,
        &mut cache,
        SCRAPE.as_bytes(),
        Format::OpenMetrics,
        ts2 + 15_000,
    )
    .unwrap();
    assert_eq!(got.commit, summary(0, 3, 1, 1, 2, &[]));
}

#[test]
fn ingest_drops_malformed_exemplars_and_keeps_their_samples() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default());
    let mut cache = ScrapeCache::new();
    let text = "\
# TYPE foo counter
foo_total{a=\"1\"} 1 # {trace_id=\"abc\" 1
foo_total{a=\"2\"} 2 # {trace_id=\"x\"} notanumber
foo_total{a=\"3\"} 3 # {trace_id=\"ok\"} 3
# EOF
";
    let got = ingest(
        &db,
        &mut cache,
        text.as_bytes(),
        Format::OpenMetrics,
        DAY_START,
    )
    .unwrap();
    assert!(got.errors.is_empty(), "{:?}", got.errors);
    assert_eq!(got.exemplars_dropped, 2);
    assert_eq!(got.commit, summary(3, 3, 1, 0, 0, &[]));
    let got = query_all(&db);
    assert_eq!(
        got.iter()
            .map(|s| (s.samples.len(), s.exemplars.len()))
            .collect::<Vec<_>>(),
        [(1, 0), (1, 0), (1, 1)]
    );
    assert_eq!(got[2].exemplars[0].2, trace("ok"));
}

#[test]
fn ingest_maps_labels_in_any_order_to_one_series() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default());
    let mut cache = ScrapeCache::new();
    let one = "foo{a=\"1\",b=\"2\"} 1\n# EOF\n";
    let other = "foo{b=\"2\",a=\"1\",c=\"\"} 2\n# EOF\n";
    let got = ingest(
        &db,
        &mut cache,
        one.as_bytes(),
        Format::OpenMetrics,
        DAY_START,
    )
    .unwrap();
    assert_eq!(got.commit, summary(1, 1, 0, 0, 0, &[]));
    let got = ingest(
        &db,
        &mut cache,
        other.as_bytes(),
        Format::OpenMetrics,
        DAY_START + 1000,
    )
    .unwrap();
    assert_eq!(got.commit, summary(0, 1, 0, 0, 0, &[]));
    // Two keys in the cache, one series in the database.
    assert_eq!(cache.len(), 2);
    // Both orders in one scrape: the second line is the same series at the same time.
    let both = "foo{a=\"1\",b=\"2\"} 3\nfoo{b=\"2\",a=\"1\"} 4\n# EOF\n";
    let got = ingest(
        &db,
        &mut cache,
        both.as_bytes(),
        Format::OpenMetrics,
        DAY_START + 2000,
    )
    .unwrap();
    assert_eq!(
        got.commit,
        summary(0, 1, 0, 0, 0, &[(Rejection::DuplicateTimestamp, 1)])
    );
    assert_eq!(
        query_all(&db),
        vec![Series {
            labels: labels(&[("__name__", "foo"), ("a", "1"), ("b", "2")]),
            samples: vec![
                (DAY_START, 1f64.to_bits()),
                (DAY_START + 1000, 2f64.to_bits()),
                (DAY_START + 2000, 3f64.to_bits()),
            ],
            exemplars: vec![],
        }]
    );
}

// 8. The lock.

#[test]
fn a_directory_opens_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default());
    match Db::open(dir.path(), Options::default()) {
        Err(Error::Locked { path }) => assert_eq!(path, dir.path().join("LOCK")),
        other => panic!("expected Error::Locked, got {other:?}"),
    }
    drop(db);
    let db = open(dir.path(), Options::default());
    assert!(matches!(
        Db::open(dir.path(), Options::default()),
        Err(Error::Locked { .. })
    ));
    db.close().unwrap();
    open(dir.path(), Options::default()).close().unwrap();
}

// Threads.

#[test]
fn commits_imports_and_queries_on_three_threads() {
    let dir = tempfile::tempdir().unwrap();
    // One-second blocks: from the third commit on, every commit compacts a window, which the
    // importer writes into too. The size retention's branch runs (and deletes nothing).
    let options = Options::default()
        .block_range_ms(1000)
        .retention_ms(None)
        .retention_bytes(Some(u64::MAX))
        .sync_every(Duration::from_secs(3600));
    let db = Arc::new(open(dir.path(), options));
    let x = labels(&[("__name__", "x")]);
    let stop = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = mpsc::channel();
    let committer = {
        let (db, x, done_tx) = (Arc::clone(&db), x.clone(), done_tx.clone());
        std::thread::spawn(move || {
            let mut app = db.appender();
            for i in 0..12 {
                app.append(&x, DAY_START + i * 1000, 1.0).unwrap();
                assert_eq!(app.commit().unwrap().samples, 1);
            }
            done_tx.send(()).unwrap();
        })
    };
    let importer = {
        let (db, x, done_tx) = (Arc::clone(&db), x.clone(), done_tx.clone());
        std::thread::spawn(move || {
            for i in 0..12 {
                let mut importer = db.importer();
                importer
                    .add_sample(&x, DAY_START + i * 1000 + 500, -1.0)
                    .unwrap();
                assert_eq!(importer.finish().unwrap().samples_added, 1);
            }
            done_tx.send(()).unwrap();
        })
    };
    let reader = {
        let (db, stop) = (Arc::clone(&db), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(Ordering::Acquire) {
                for s in query_all(&db) {
                    assert!(s.samples.windows(2).all(|w| w[0].0 < w[1].0), "{s:?}");
                }
                reads += 1;
            }
            reads
        })
    };
    for _ in 0..2 {
        let done = done_rx.recv_timeout(Duration::from_secs(20));
        assert!(done.is_ok(), "a writer did not finish in 20 s (deadlock?)");
    }
    stop.store(true, Ordering::Release);
    committer.join().unwrap();
    importer.join().unwrap();
    assert!(reader.join().unwrap() > 0);
    let mut model = Model::default();
    for i in 0..12 {
        model.sample(&x, DAY_START + i * 1000, 1.0);
        model.sample(&x, DAY_START + i * 1000 + 500, -1.0);
    }
    assert_eq!(query_all(&db), model.all());
    assert!(db.stats().unwrap().blocks >= 10);
}

// 9. Random histories against a model.

#[derive(Clone, Debug)]
enum Op {
    /// A sample of series `series` at the series' last timestamp plus `dt` seconds.
    Append {
        series: usize,
        dt: i64,
        bits: u64,
    },
    Commit,
    /// Close (or drop, as a crash would) and open again; pending samples are discarded.
    Reopen {
        clean: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let bits = prop_oneof![
        Just(STALE_NAN_BITS),
        Just(NORMAL_NAN_BITS),
        Just(f64::NAN.to_bits()),
        Just(0xfff0_0000_0000_0001u64),
        Just(0u64),
        Just((-0.0f64).to_bits()),
        Just(1f64.to_bits()),
        Just(f64::INFINITY.to_bits()),
        any::<u64>(),
    ];
    prop_oneof![
        10 => (0usize..3, -2i64..5, bits).prop_map(|(series, dt, bits)| Op::Append { series, dt, bits }),
        3 => Just(Op::Commit),
        1 => any::<bool>().prop_map(|clean| Op::Reopen { clean }),
    ]
}

/// Prometheus' rules for one series: the newest sample, and what was stored.
#[derive(Clone, Debug, Default)]
struct RuleModel {
    newest: Option<(i64, u64)>,
    stored: Vec<(i64, u64)>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_histories_follow_the_sample_rules(ops in prop::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let series: Vec<Labels> = (0..3)
            .map(|i| labels(&[("__name__", "m"), ("s", &i.to_string())]))
            .collect();
        let mut db = Some(open(dir.path(), Options::default()));
        let mut model = vec![RuleModel::default(); 3];
        let mut cursor = [0i64; 3];
        let mut pending: Vec<(usize, i64, u64)> = Vec::new();
        let expected = |model: &[RuleModel]| -> Vec<Series> {
            model
                .iter()
                .zip(&series)
                .filter(|(m, _)| !m.stored.is_empty())
                .map(|(m, l)| Series { labels: l.clone(), samples: m.stored.clone(), exemplars: vec![] })
                .collect()
        };
        for op in ops.into_iter().chain([Op::Commit]) {
            match op {
                Op::Append { series: s, dt, bits } => {
                    cursor[s] = (cursor[s] + dt).max(0);
                    pending.push((s, DAY_START + cursor[s] * 1000, bits));
                }
                Op::Commit => {
                    let db = db.as_ref().unwrap();
                    let mut app = db.appender();
                    let mut want = CommitSummary::default();
                    let mut created = BTreeSet::new();
                    for (s, t, bits) in pending.drain(..) {
                        app.append(&series[s], t, f64::from_bits(bits)).unwrap();
                        let m = &mut model[s];
                        match m.newest {
                            Some((nt, _)) if t < nt => {
                                *want.rejected.entry(Rejection::OutOfOrderSample).or_default() += 1;
                            }
                            Some((nt, nb)) if t == nt && nb == bits => want.duplicate_samples += 1,
                            Some((nt, _)) if t == nt => {
                                *want.rejected.entry(Rejection::DuplicateTimestamp).or_default() += 1;
                            }
                            _ => {
                                if m.stored.is_empty() {
                                    created.insert(s);
                                }
                                m.newest = Some((t, bits));
                                m.stored.push((t, bits));
                                want.samples += 1;
                            }
                        }
                    }
                    want.series_created = created.len() as u64;
                    prop_assert_eq!(app.commit().unwrap(), want);
                    drop(app);
                    prop_assert_eq!(query_all(db), expected(&model));
                }
                Op::Reopen { clean } => {
                    pending.clear();
                    let old = db.take().unwrap();
                    if clean {
                        old.close().unwrap();
                    } else {
                        drop(old);
                    }
                    let reopened = open(dir.path(), Options::default());
                    prop_assert_eq!(query_all(&reopened), expected(&model));
                    db = Some(reopened);
                }
            }
        }
    }
}

/// A series an appender named but never committed is dropped from the head after two
/// truncations (one may pass while an appender is about to commit it).
#[test]
fn series_named_but_never_committed_do_not_stay_in_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Options::default().block_range_ms(60_000));
    let mut app = db.appender();
    let ghost = labels(&[("__name__", "ghost")]);
    app.series_ref(&ghost).unwrap();
    app.rollback();
    let live = labels(&[("__name__", "live")]);
    let mut count_after = Vec::new();
    for minute in 0..6 {
        for sec in (0..60).step_by(10) {
            app.append(&live, DAY_START + minute * 60_000 + sec * 1000, 1.0)
                .unwrap();
        }
        app.commit().unwrap();
        count_after.push(db.stats().unwrap().head_series);
    }
    assert_eq!(count_after.first(), Some(&2), "{count_after:?}");
    assert_eq!(count_after.last(), Some(&1), "{count_after:?}");
    assert!(query_all(&db).iter().all(|s| s.labels != ghost));
}
