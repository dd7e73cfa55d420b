//! `cairn import`: timestamped OpenMetrics or Prometheus text into blocks.
//!
//! Exit status: 0 when every file was read whole (its data is then durable); 1 when some
//! lines were bad (the good ones are imported; each bad one is reported as
//! `FILE:LINE:COL: message`); 2 when a file or the database cannot be opened or written.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use cairn_expfmt::{Entry, Format, Mode, Parser, detect_format};
use cairn_model::Labels;
use cairn_store::{Importer, Options, Rejection, sample_key, sample_labels};

use super::check::FormatArg;

/// Parse errors printed before the rest are only counted.
const MAX_ERRORS_SHOWN: usize = 100;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The database directory (created if missing).
    #[arg(long)]
    data: PathBuf,
    /// The exposition format of the files.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// Files whose samples carry timestamps, as `promtool tsdb create-blocks-from
    /// openmetrics` takes them (several scrapes of a series in one file are fine).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let started = Instant::now();
    // Imported history may be older than any retention: keep it all.
    let db = match super::open_db(&args.data, Options::default().retention_ms(None)) {
        Ok(db) => db,
        Err(code) => return code,
    };
    let mut importer = db.importer();
    let mut errors = 0usize;
    let mut bytes_read = 0u64;
    for file in &args.files {
        let buf = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", file.display());
                return ExitCode::from(2);
            }
        };
        bytes_read += buf.len() as u64;
        let format = match args.format {
            FormatArg::Auto => detect_format(&buf),
            FormatArg::Openmetrics => Format::OpenMetrics,
            FormatArg::Prometheus => Format::PrometheusText,
        };
        match import_file(&mut importer, file, &buf, format, &mut errors) {
            Ok(()) => {}
            Err(e) => {
                eprintln!("{}: import failed: {e}", args.data.display());
                return ExitCode::from(2);
            }
        }
    }
    if errors > MAX_ERRORS_SHOWN {
        eprintln!("... and {} more errors", errors - MAX_ERRORS_SHOWN);
    }
    let summary = match importer.finish() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{}: import failed: {e}", args.data.display());
            return ExitCode::from(2);
        }
    };
    if let Err(e) = db.close() {
        eprintln!("{}: close failed: {e}", args.data.display());
        return ExitCode::from(2);
    }
    let secs = started.elapsed().as_secs_f64();
    let rejected: serde_json::Map<String, serde_json::Value> = summary
        .rejected
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), (*v).into()))
        .collect();
    if args.json {
        let json = serde_json::json!({
            "series": summary.series,
            "samples": summary.samples,
            "samples_added": summary.samples_added,
            "exemplars": summary.exemplars,
            "exemplars_added": summary.exemplars_added,
            "rejected": rejected,
            "parse_errors": errors,
            "blocks_written": summary.blocks_written,
            "bytes_written": summary.bytes_written,
            "bytes_read": bytes_read,
            "seconds": secs,
        });
        println!("{json}");
    } else {
        println!(
            "imported {} series: {} samples read, {} added ({} already present); \
             {} exemplars read, {} added",
            summary.series,
            summary.samples,
            summary.samples_added,
            summary
                .samples
                .saturating_sub(summary.samples_added + rejected_samples(&summary.rejected)),
            summary.exemplars,
            summary.exemplars_added,
        );
        for (why, n) in &summary.rejected {
            println!("rejected {n}: {why}");
        }
        println!(
            "{} blocks written, {} bytes; {:.1} MB read in {:.2} s ({:.0} samples/s)",
            summary.blocks_written,
            summary.bytes_written,
            bytes_read as f64 / 1e6,
            secs,
            summary.samples as f64 / secs.max(1e-9),
        );
    }
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn rejected_samples(rejected: &std::collections::BTreeMap<Rejection, u64>) -> u64 {
    rejected
        .iter()
        .filter(|(k, _)| !k.is_exemplar())
        .map(|(_, v)| v)
        .sum()
}

fn import_file(
    importer: &mut Importer<'_>,
    file: &std::path::Path,
    buf: &[u8],
    format: Format,
    errors: &mut usize,
) -> Result<(), cairn_store::Error> {
    let progress = indicatif::ProgressBar::new(buf.len() as u64);
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    progress.set_message(file.display().to_string());
    let parser = Parser::new(buf, format, Mode::Scrape);
    let mut key = Vec::new();
    let mut n = 0u64;
    for entry in parser {
        let sample = match entry {
            Ok(Entry::Sample(s)) => s,
            Ok(_) => continue,
            Err(e) => {
                *errors += 1;
                if *errors <= MAX_ERRORS_SHOWN {
                    progress.suspend(|| {
                        eprintln!(
                            "{}:{}:{}: {}",
                            file.display(),
                            e.line(),
                            e.column(),
                            e.message()
                        );
                    });
                }
                continue;
            }
        };
        n += 1;
        if n.is_multiple_of(65_536) {
            // The sample's name borrows from `buf`: its address says how far the parser is.
            let at = (sample.name.raw().as_ptr() as usize).saturating_sub(buf.as_ptr() as usize);
            progress.set_position(at as u64);
        }
        let Some(t) = sample.timestamp else {
            importer.reject(Rejection::SampleWithoutTimestamp);
            continue;
        };
        sample_key(&sample, &mut key);
        let series = importer.add_sample_keyed(&key, || sample_labels(&sample), t, sample.value)?;
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
    progress.finish_and_clear();
    Ok(())
}
