//! `cairn dump`: every sample (or exemplar) of a database, one per line, in the exact
//! format of `promtool tsdb dump`, so that the two can be compared with `diff`.
//!
//! Samples: `{__name__="x", a="b"} VALUE TIMESTAMP_MS`. Exemplars (`--exemplars`):
//! `{__name__="x", a="b"} # {trace_id="..."} VALUE TIMESTAMP_MS`. Series in label order,
//! samples and exemplars in time order.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use cairn_model::Matcher;
use cairn_store::Db;

use super::{promfmt, selector};

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The database directory.
    #[arg(long)]
    data: PathBuf,
    /// Series selector (PromQL, like `up{job="api"}`); repeat for a union. Default: all.
    #[arg(long = "match")]
    matches: Vec<String>,
    /// Oldest timestamp to dump, in milliseconds.
    #[arg(long, default_value_t = i64::MIN, allow_hyphen_values = true)]
    min_time: i64,
    /// Newest timestamp to dump, in milliseconds.
    #[arg(long, default_value_t = i64::MAX, allow_hyphen_values = true)]
    max_time: i64,
    /// Dump exemplars instead of samples.
    #[arg(long)]
    exemplars: bool,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let mut selectors: Vec<Vec<Matcher>> = Vec::new();
    for m in &args.matches {
        match selector::parse(m) {
            Ok(s) => selectors.push(s),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::from(2);
            }
        }
    }
    if selectors.is_empty() {
        selectors.push(Vec::new());
    }
    let db = match super::open_existing_db(&args.data) {
        Ok(db) => db,
        Err(code) => return code,
    };
    match dump(&db, &selectors, args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}: {e}", args.data.display());
            ExitCode::from(2)
        }
    }
}

fn dump(db: &Db, selectors: &[Vec<Matcher>], args: &Args) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = String::new();
    // Several selectors: their union, each series once, in label order.
    let mut series = Vec::new();
    for matchers in selectors {
        for s in db
            .query(matchers, args.min_time, args.max_time)
            .map_err(std::io::Error::other)?
        {
            series.push(s.map_err(std::io::Error::other)?);
        }
        if selectors.len() == 1 {
            break;
        }
    }
    if selectors.len() > 1 {
        series.sort_by(|a, b| a.labels.cmp(&b.labels));
        series.dedup_by(|a, b| a.labels == b.labels);
    }
    for s in &series {
        if args.exemplars {
            for e in &s.exemplars {
                line.clear();
                promfmt::format_labels_go(&mut line, &s.labels);
                line.push_str(" # ");
                promfmt::format_labels_go(&mut line, &e.labels);
                line.push(' ');
                promfmt::format_go_g(&mut line, e.v);
                line.push(' ');
                line.push_str(&e.t.to_string());
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
        } else {
            for &(t, v) in &s.samples {
                line.clear();
                promfmt::dump_line(&mut line, &s.labels, t, v);
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
        }
    }
    out.flush()
}
