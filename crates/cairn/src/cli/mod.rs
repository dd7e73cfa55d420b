//! Command-line interface: one module per subcommand.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;
mod crash_writer;
mod dump;
mod import;
mod promfmt;
mod selector;
mod stats;

/// cairn: an embedded time-series database that keeps exemplars.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a Prometheus text or OpenMetrics exposition; print a summary or every error.
    Check(check::Args),
    /// Import timestamped OpenMetrics or Prometheus text (with exemplars) into a database.
    Import(import::Args),
    /// Print a database's samples (or exemplars) in the format of `promtool tsdb dump`.
    Dump(dump::Args),
    /// Show what a database holds and its bytes on disk by kind.
    Stats(stats::Args),
    /// The child process of the crash tests (commits numbered batches until killed).
    #[command(hide = true)]
    CrashWriter(crash_writer::Args),
}

/// Opens a database for a command, printing on stderr what opening repaired (a torn log or
/// head chunk file, blocks that did not open), so that nothing is mended silently.
pub(crate) fn open_db(
    dir: &std::path::Path,
    options: cairn_store::Options,
) -> Result<cairn_store::Db, ExitCode> {
    match cairn_store::Db::open(dir, options) {
        Ok(db) => {
            let report = db.report();
            if let Some(r) = &report.wal_repair {
                eprintln!("{}: warning: write-ahead log repaired: {r}", dir.display());
            }
            if let Some(r) = &report.head_chunks_repair {
                eprintln!("{}: warning: head chunk file repaired: {r}", dir.display());
            }
            for (path, why) in &report.failed_blocks {
                eprintln!("{}: warning: block not read: {why}", path.display());
            }
            for path in &report.removed_parent_blocks {
                eprintln!(
                    "{}: note: removed, replaced by a block written before a crash",
                    path.display()
                );
            }
            Ok(db)
        }
        Err(e) => {
            eprintln!("{}: cannot open the database: {e}", dir.display());
            Err(ExitCode::from(2))
        }
    }
}

/// Opens a database that must exist, to read it: nothing is deleted by retention.
pub(crate) fn open_existing_db(dir: &std::path::Path) -> Result<cairn_store::Db, ExitCode> {
    if !dir.is_dir() {
        eprintln!("{}: no such database directory", dir.display());
        return Err(ExitCode::from(2));
    }
    open_db(dir, cairn_store::Options::default().retention_ms(None))
}

pub(crate) fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Dump(args) => dump::run(&args),
        Command::Stats(args) => stats::run(&args),
        Command::CrashWriter(args) => crash_writer::run(&args),
    }
}
