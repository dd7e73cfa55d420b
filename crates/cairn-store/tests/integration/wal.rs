//! Records through the log they are made for: encoded into `cairn_wal::Wal` on its in-memory
//! storage, read back after a reopen, and a commit's records kept whole or lost whole across
//! torn crashes.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cairn_model::{Labels, STALE_NAN_BITS};
use cairn_store::record::{self, Record, RefExemplar, RefSample, RefSeries};
use cairn_wal::{MemStorage, Options, SyncPolicy, Wal};

use crate::common::{T0, labels};

fn dir() -> &'static Path {
    Path::new("/db/wal")
}

/// What one commit holds, owned, for comparing with what comes back.
#[derive(Clone, Debug, PartialEq)]
struct Commit {
    series: Vec<RefSeries<Labels>>,
    samples: Vec<RefSample>,
    exemplars: Vec<RefExemplar<Labels>>,
}

impl Commit {
    /// A scrape of `n` series numbered from `first`; the first `new` of them are new.
    fn scrape(first: u64, n: u64, new: u64, t: i64) -> Commit {
        let series = (first..first + new)
            .map(|r| RefSeries {
                series_ref: r,
                labels: labels(&[
                    ("__name__", "http_request_duration_seconds_bucket"),
                    ("job", "api"),
                    ("le", &format!("{}", r % 10)),
                    ("path", &format!("/v1/items/{r}")),
                ]),
            })
            .collect();
        let samples = (first..first + n)
            .map(|r| RefSample {
                series_ref: r,
                t,
                v: if r % 17 == 0 {
                    f64::from_bits(STALE_NAN_BITS)
                } else {
                    r as f64 * 0.5
                },
            })
            .collect();
        let exemplars = (first..first + n)
            .step_by(7)
            .map(|r| RefExemplar {
                series_ref: r,
                t: t - 3,
                v: 0.001 * r as f64,
                labels: labels(&[
                    ("span_id", "00f067aa0ba902b7"),
                    ("trace_id", &format!("{r:032x}")),
                ]),
            })
            .collect();
        Commit {
            series,
            samples,
            exemplars,
        }
    }

    /// The commit as one WAL record: its series, samples and exemplars records back to
    /// back, in the caller's buffer.
    fn encode(&self, buf: &mut Vec<u8>) {
        buf.clear();
        record::encode_series(&self.series, buf);
        record::encode_samples(&self.samples, buf);
        record::encode_exemplars(&self.exemplars, buf);
    }

    fn decode(wal_record: &[u8]) -> Commit {
        let mut c = Commit {
            series: vec![],
            samples: vec![],
            exemplars: vec![],
        };
        for r in Record::decode_all(wal_record) {
            match r.unwrap_or_else(|e| panic!("{e}")) {
                Record::Series(s) => c.series.extend(s.into_iter().map(|s| RefSeries {
                    series_ref: s.series_ref,
                    labels: s.labels.to_labels(),
                })),
                Record::Samples(s) => c.samples.extend(s),
                Record::Exemplars(e) => c.exemplars.extend(e.into_iter().map(|e| RefExemplar {
                    series_ref: e.series_ref,
                    t: e.t,
                    v: e.v,
                    labels: e.labels.to_labels(),
                })),
                other => panic!("unexpected {other:?}"),
            }
        }
        c
    }
}

fn read_back(mem: &MemStorage) -> Vec<Vec<u8>> {
    Wal::read_all_with(Arc::new(mem.clone()), dir())
        .unwrap()
        .map(|r| r.map(|(_, data)| data))
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn records_survive_a_reopen_of_the_log() {
    let mem = MemStorage::new();
    let (mut wal, recovery) =
        Wal::open_with(Arc::new(mem.clone()), dir(), Options::default()).unwrap();
    assert!(recovery.is_clean());

    let commits = [
        Commit::scrape(1, 200, 200, T0),
        Commit::scrape(1, 220, 20, T0 + 15_000), // 20 new series, 220 samples
        Commit::scrape(1, 220, 0, T0 + 30_000),  // nothing new
    ];
    let mut buf = Vec::new();
    for c in &commits {
        c.encode(&mut buf);
        wal.append(&buf).unwrap();
        wal.commit().unwrap();
    }
    // The same records as separate WAL records, one per type.
    let mut parts = [Vec::new(), Vec::new(), Vec::new()];
    record::encode_series(&commits[1].series, &mut parts[0]);
    record::encode_samples(&commits[1].samples, &mut parts[1]);
    record::encode_exemplars(&commits[1].exemplars, &mut parts[2]);
    wal.append_batch(&parts).unwrap();
    wal.commit().unwrap();
    wal.close().unwrap();

    // Reopening reads every record through and finds nothing to repair.
    let (wal, recovery) = Wal::open_with(Arc::new(mem.clone()), dir(), Options::default()).unwrap();
    assert!(recovery.is_clean(), "{recovery}");
    assert_eq!(recovery.records, 6);
    drop(wal);

    let records = read_back(&mem);
    assert_eq!(records.len(), 6);
    for (c, r) in commits.iter().zip(&records) {
        assert_eq!(&Commit::decode(r), c);
    }
    // Each lone WAL record is exactly one record.
    let Record::Series(s) = Record::decode(&records[3]).unwrap() else {
        panic!()
    };
    assert_eq!(s, commits[1].series);
    assert_eq!(
        Record::decode(&records[4]).unwrap(),
        Record::Samples(commits[1].samples.clone())
    );
    let Record::Exemplars(e) = Record::decode(&records[5]).unwrap() else {
        panic!()
    };
    assert_eq!(e, commits[1].exemplars);
    // The stale markers came back bit for bit.
    let Record::Samples(samples) = Record::decode(&records[4]).unwrap() else {
        panic!()
    };
    assert!(samples.iter().any(|s| s.v.to_bits() == STALE_NAN_BITS));
}

/// A commit is one WAL record, so a crash that tears its bytes loses all of it: the samples
/// of a commit never come back without their series or exemplars.
#[test]
fn a_torn_commit_is_lost_whole() {
    let first = Commit::scrape(1, 100, 100, T0);
    let second = Commit::scrape(1, 150, 50, T0 + 15_000);
    let mut torn = 0;
    for seed in 0..41 {
        let mem = MemStorage::new();
        // Commits hand their bytes to the storage without syncing; `sync` makes them durable.
        let options = Options::default().sync(SyncPolicy::Interval(Duration::from_secs(3600)));
        let (mut wal, _) = Wal::open_with(Arc::new(mem.clone()), dir(), options.clone()).unwrap();
        let mut buf = Vec::new();
        first.encode(&mut buf);
        wal.append(&buf).unwrap();
        wal.sync().unwrap();
        second.encode(&mut buf);
        wal.append(&buf).unwrap();
        wal.commit().unwrap();
        // The last round syncs the second commit too: then it must survive.
        let durable = seed == 40;
        if durable {
            wal.sync().unwrap();
        }
        drop(wal);
        mem.crash_torn(seed);

        let (wal, recovery) = Wal::open_with(Arc::new(mem.clone()), dir(), options).unwrap();
        drop(wal);
        // A tear inside the second commit's bytes is found and cut, never half-read.
        torn += usize::from(recovery.corruption.is_some());
        let commits: Vec<Commit> = read_back(&mem).iter().map(|r| Commit::decode(r)).collect();
        if durable {
            assert_eq!(commits, [first.clone(), second.clone()]);
        } else {
            // Whole or absent, never in part (a tear that keeps every byte keeps the commit).
            let whole = [first.clone(), second.clone()];
            assert!(
                commits == whole[..1] || commits == whole,
                "seed {seed}: {commits:?}"
            );
        }
    }
    // Most seeds keep part of the unsynced record (a prefix of 0 to all of its bytes).
    assert!(torn >= 30, "{torn}");
}
