//! Crash test: a child process commits numbered batches and is killed with SIGKILL at
//! random points, again and again on the same database. After each kill the database must
//! open, hold every commit the child acknowledged, and hold every other commit whole or not
//! at all (samples and exemplars together).
//!
//! `CAIRN_CRASH_ITERATIONS` sets the number of kills (default 50); `CAIRN_CRASH_SEED` the
//! seed of the kill delays (printed, so that a failure can be replayed).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use cairn_model::Labels;
use cairn_store::{Db, ExemplarOptions, Options};

const BLOCK_RANGE_MS: i64 = 60_000;
const WAL_SEGMENT_BYTES: u64 = 64 << 10;
const PER_COMMIT: u64 = 5;
const SERIES: u64 = 50;

/// As the writer's `series_of`: the series commit `k` writes to.
fn series_of(k: u64) -> Vec<Labels> {
    (0..PER_COMMIT)
        .map(|i| {
            let s = (k.wrapping_mul(7).wrapping_add(i * 13)) % SERIES;
            Labels::from_pairs([("__name__", "crash_test".to_string()), ("s", s.to_string())])
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

fn options() -> Options {
    Options::default()
        .block_range_ms(BLOCK_RANGE_MS)
        .wal_segment_bytes(WAL_SEGMENT_BYTES)
        .retention_ms(None)
        .exemplars(ExemplarOptions::default().max_per_series(0).max_total(0))
}

/// Per commit number: (series with its sample, series with its exemplar).
fn contents(dir: &std::path::Path) -> BTreeMap<u64, (Vec<Labels>, Vec<Labels>)> {
    let db = Db::open(dir, options()).unwrap_or_else(|e| panic!("reopen after kill: {e}"));
    let mut by_commit: BTreeMap<u64, (Vec<Labels>, Vec<Labels>)> = BTreeMap::new();
    for s in db.query(&[], i64::MIN, i64::MAX).unwrap() {
        let s = s.unwrap_or_else(|e| panic!("read after kill: {e}"));
        for &(t, v) in &s.samples {
            let k = (t / 1000) as u64;
            assert_eq!(v, k as f64, "{:?} at {t}: wrong value", s.labels);
            by_commit.entry(k).or_default().0.push(s.labels.clone());
        }
        for e in &s.exemplars {
            let k = (e.t / 1000) as u64;
            assert_eq!(e.labels.get("trace_id"), Some(format!("{k:032x}").as_str()));
            by_commit.entry(k).or_default().1.push(s.labels.clone());
        }
    }
    db.close().unwrap();
    by_commit
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn sigkill_at_random_points_loses_no_acknowledged_commit() {
    let iterations: usize = std::env::var("CAIRN_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("CAIRN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("crash test: {iterations} kills, CAIRN_CRASH_SEED={seed}");
    let mut rng = Lcg(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut acked_max = 0u64;
    let mut kills_mid_run = 0;
    for iteration in 0..iterations {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["crash-writer", "--data"])
            .arg(dir.path())
            .args(["--block-range-ms", &BLOCK_RANGE_MS.to_string()])
            .args(["--wal-segment-bytes", &WAL_SEGMENT_BYTES.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(k) = line
                    .strip_prefix("ack ")
                    .and_then(|k| k.parse::<u64>().ok())
                    && tx.send(k).is_err()
                {
                    break;
                }
            }
        });
        // Kill somewhere between start-up (open, replay) and well into the writing.
        let delay = Duration::from_millis(rng.next() % 400);
        let started = Instant::now();
        while started.elapsed() < delay {
            while let Ok(k) = rx.try_recv() {
                acked_max = acked_max.max(k);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let running = child.try_wait().unwrap().is_none();
        child.kill().unwrap();
        let status = child.wait().unwrap();
        reader.join().unwrap();
        while let Ok(k) = rx.try_recv() {
            acked_max = acked_max.max(k);
        }
        if running {
            kills_mid_run += 1;
        } else {
            panic!("iteration {iteration}: the writer exited by itself: {status}");
        }

        let found = contents(dir.path());
        for k in 1..=acked_max {
            let want = series_of(k);
            let (samples, exemplars) = found.get(&k).cloned().unwrap_or_default();
            assert_eq!(
                samples, want,
                "iteration {iteration}: acknowledged commit {k} samples"
            );
            assert_eq!(
                exemplars, want,
                "iteration {iteration}: acknowledged commit {k} exemplars"
            );
        }
        for (&k, (samples, exemplars)) in found.range(acked_max + 1..) {
            let want = series_of(k);
            assert_eq!(
                samples, &want,
                "iteration {iteration}: commit {k} is partial"
            );
            assert_eq!(
                exemplars, &want,
                "iteration {iteration}: commit {k} exemplars partial"
            );
            // Present though not acknowledged: logged before the kill. From now on it counts.
            acked_max = acked_max.max(k);
        }
        assert!(found.keys().all(|&k| k <= acked_max));
    }
    eprintln!(
        "crash test: {kills_mid_run} kills mid-run, {acked_max} commits acknowledged or found"
    );
    assert!(
        acked_max > 100,
        "the writer made too little progress ({acked_max} commits) to test much"
    );
}

/// `cairn import` killed with SIGKILL at random points, then run again: the database opens
/// every time, and the final import completes it to exactly what one uninterrupted import
/// gives (no duplicate, no missing sample or exemplar).
#[test]
fn an_interrupted_import_completes_when_run_again() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    // 60 series × 4000 scrapes of 15 s (16.7 h, nine 2 h windows), exemplars on some: over
    // 8 MiB, so `cairn import` reads it in halves and parses it in parts.
    let mut om = String::from("# TYPE load gauge\n");
    for s in 0..60 {
        for step in 0..4000u64 {
            let t = 1_700_000_000_000 + step * 15_000 + s;
            write!(
                om,
                "load{{s=\"{s}\"}} {} {}.{:03}",
                (step * 31 + s) % 977,
                t / 1000,
                t % 1000
            )
            .unwrap();
            if step % 5 == 0 {
                write!(
                    om,
                    " # {{trace_id=\"{:032x}\"}} {step} {}.{:03}",
                    step * 100 + s,
                    t / 1000,
                    t % 1000
                )
                .unwrap();
            }
            om.push('\n');
        }
    }
    om.push_str("# EOF\n");
    let file = dir.path().join("history.om.txt");
    assert!(
        om.len() > 8 << 20,
        "{} bytes: too small for the parallel path",
        om.len()
    );
    std::fs::write(&file, om).unwrap();
    let run = |data: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("import")
            .arg("--data")
            .arg(data)
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let dump = |data: &std::path::Path, what: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .arg("dump")
            .arg("--data")
            .arg(data)
            .args(what)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };

    let clean = dir.path().join("clean");
    assert!(run(&clean).wait().unwrap().success());
    let want = (dump(&clean, &[]), dump(&clean, &["--exemplars"]));
    assert_eq!(want.0.iter().filter(|&&b| b == b'\n').count(), 240_000);

    let data = dir.path().join("killed");
    let mut rng = Lcg(0x5eed);
    let mut killed_mid_run = 0;
    for _ in 0..8 {
        let mut child = run(&data);
        std::thread::sleep(Duration::from_millis(rng.next() % 300));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        child.kill().unwrap();
        let _ = child.wait();
        // Opens after every kill.
        let _ = dump(&data, &[]);
    }
    eprintln!("import killed mid-run {killed_mid_run} times of 8");
    assert!(run(&data).wait().unwrap().success());
    assert!(
        dump(&data, &[]) == want.0,
        "samples differ from an uninterrupted import"
    );
    assert!(
        dump(&data, &["--exemplars"]) == want.1,
        "exemplars differ from an uninterrupted import"
    );
}
