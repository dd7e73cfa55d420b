//! `cairn crash-writer` (hidden): the child process of the crash tests.
//!
//! Commits numbered batches into a database and prints `ack K` on stdout (flushed) once
//! commit K returned, until killed or `--commits` are done. Commit K writes sample
//! `(K * 1000 ms, K)` to `--series-per-commit` series chosen by K, and one exemplar with
//! `trace_id` = K in hex, so a checker can tell for every K whether its commit is whole,
//! absent or (a bug) partial. It resumes after the newest commit found in the database.
//! Small block ranges and log segments make it compact, truncate the log and cut head
//! chunk files while it is killed.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use cairn_model::Labels;
use cairn_store::{Db, ExemplarOptions, Options};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The database directory.
    #[arg(long)]
    data: PathBuf,
    /// Commits to make before exiting.
    #[arg(long, default_value_t = u64::MAX)]
    commits: u64,
    /// Series written by each commit (out of `series`).
    #[arg(long, default_value_t = 5)]
    series_per_commit: u64,
    /// Series in all.
    #[arg(long, default_value_t = 50)]
    series: u64,
    /// Block range in milliseconds (a commit is 1000 ms).
    #[arg(long, default_value_t = 60_000)]
    block_range_ms: i64,
    /// Log segment size.
    #[arg(long, default_value_t = 64 << 10)]
    wal_segment_bytes: u64,
}

/// The options the writer and its checker open the database with.
pub(crate) fn options(block_range_ms: i64, wal_segment_bytes: u64) -> Options {
    Options::default()
        .block_range_ms(block_range_ms)
        .wal_segment_bytes(wal_segment_bytes)
        .retention_ms(None)
        .exemplars(ExemplarOptions::default().max_per_series(0).max_total(0))
}

/// The series commit `k` writes to.
pub(crate) fn series_of(k: u64, per_commit: u64, series: u64) -> Vec<Labels> {
    (0..per_commit)
        .map(|i| {
            let s = (k.wrapping_mul(7).wrapping_add(i * 13)) % series.max(1);
            Labels::from_pairs([("__name__", "crash_test".to_string()), ("s", s.to_string())])
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let db = match Db::open(
        &args.data,
        options(args.block_range_ms, args.wal_segment_bytes),
    ) {
        Ok(db) => db,
        Err(e) => {
            eprintln!("crash-writer: open: {e}");
            return ExitCode::from(2);
        }
    };
    let newest = db
        .query(&[], i64::MIN, i64::MAX)
        .map(|set| {
            set.filter_map(Result::ok)
                .filter_map(|s| s.samples.last().map(|&(t, _)| t))
                .max()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let first = u64::try_from(newest / 1000).unwrap_or(0) + 1;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut app = db.appender();
    for k in first..first.saturating_add(args.commits) {
        let t = i64::try_from(k).unwrap_or(i64::MAX).saturating_mul(1000);
        let trace = Labels::from_pairs([("trace_id", format!("{k:032x}"))]);
        for labels in series_of(k, args.series_per_commit, args.series) {
            let r = match app.append(&labels, t, k as f64) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("crash-writer: append: {e}");
                    return ExitCode::from(2);
                }
            };
            app.append_exemplar(r, t, k as f64, &trace);
        }
        match app.commit() {
            Ok(s) if s.rejected_total() == 0 => {}
            Ok(s) => {
                eprintln!("crash-writer: commit {k} rejected {:?}", s.rejected);
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("crash-writer: commit {k}: {e}");
                return ExitCode::from(2);
            }
        }
        if writeln!(out, "ack {k}").and_then(|()| out.flush()).is_err() {
            return ExitCode::from(2);
        }
    }
    match db.close() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash-writer: close: {e}");
            ExitCode::from(2)
        }
    }
}
