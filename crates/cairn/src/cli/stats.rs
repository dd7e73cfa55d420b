//! `cairn stats`: what a database holds and what it costs on disk, by kind.

use std::path::PathBuf;
use std::process::ExitCode;

use cairn_store::Stats;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The database directory.
    #[arg(long)]
    data: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let db = match super::open_existing_db(&args.data) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let stats = match db.stats() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: {e}", args.data.display());
            return ExitCode::from(2);
        }
    };
    if args.json {
        println!("{}", to_json(&stats));
    } else {
        print!("{}", to_table(&stats));
    }
    ExitCode::SUCCESS
}

fn per(bytes: u64, n: u64) -> Option<f64> {
    (n > 0).then(|| bytes as f64 / n as f64)
}

fn to_json(s: &Stats) -> serde_json::Value {
    let b = &s.bytes;
    serde_json::json!({
        "series": s.series,
        "blocks": s.blocks,
        "samples": s.block_samples + s.head_samples,
        "block_samples": s.block_samples,
        "head_samples": s.head_samples,
        "exemplars": s.block_exemplars + s.head_exemplars,
        "block_exemplars": s.block_exemplars,
        "head_exemplars": s.head_exemplars,
        "exemplars_evicted": s.exemplars_evicted,
        "head_series": s.head_series,
        "min_time": s.min_time,
        "max_time": s.max_time,
        "bytes": {
            "sample_chunks": b.sample_chunks,
            "exemplars": b.exemplars,
            "index": b.index,
            "wal": b.wal,
            "head_chunks": b.head_chunks,
            "other": b.other,
            "total": b.total(),
        },
        "bytes_per_sample": per(b.sample_chunks, s.block_samples),
        "bytes_per_exemplar": per(b.exemplars, s.block_exemplars),
    })
}

fn to_table(s: &Stats) -> String {
    let b = &s.bytes;
    let range = match (s.min_time, s.max_time) {
        (Some(a), Some(z)) => format!("{a} .. {z} ms ({:.1} h)", (z - a) as f64 / 3.6e6),
        _ => "empty".to_string(),
    };
    let ratio = |x: Option<f64>, what: &str| match x {
        Some(x) => format!("  ({x:.2} bytes per {what} in blocks)"),
        None => String::new(),
    };
    format!(
        "series      {}\n\
         blocks      {}\n\
         samples     {} ({} in blocks, {} in the head)\n\
         exemplars   {} ({} in blocks, {} in the head; {} evicted by caps since open)\n\
         time range  {range}\n\
         bytes on disk\n  \
           sample chunks  {:>14}{}\n  \
           exemplars      {:>14}{}\n  \
           index          {:>14}\n  \
           wal            {:>14}\n  \
           head chunks    {:>14}\n  \
           other          {:>14}\n  \
           total          {:>14}\n",
        s.series,
        s.blocks,
        s.block_samples + s.head_samples,
        s.block_samples,
        s.head_samples,
        s.block_exemplars + s.head_exemplars,
        s.block_exemplars,
        s.head_exemplars,
        s.exemplars_evicted,
        b.sample_chunks,
        ratio(per(b.sample_chunks, s.block_samples), "sample"),
        b.exemplars,
        ratio(per(b.exemplars, s.block_exemplars), "exemplar"),
        b.index,
        b.wal,
        b.head_chunks,
        b.other,
        b.total(),
    )
}
