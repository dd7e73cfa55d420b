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
    /// Parse each file in this many parts at once (default: one per core for files of
    /// 8 MiB or more, else one).
    #[arg(long)]
    threads: Option<std::num::NonZeroUsize>,
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
        let buf = match read_file(file) {
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
        let threads = args.threads.map_or_else(
            || {
                if buf.len() < PARALLEL_MIN_BYTES {
                    1
                } else {
                    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
                }
            },
            std::num::NonZero::get,
        );
        match import_file(&mut importer, file, &buf, format, threads, &mut errors) {
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

/// Reads a whole file; on Unix, large files in two halves on two threads (copying a large
/// file out of the page cache is a fifth of an import on one core).
fn read_file(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt as _;
        let file = std::fs::File::open(path)?;
        let len = usize::try_from(file.metadata()?.len())
            .map_err(|_| std::io::Error::other("file too large for memory"))?;
        if len >= PARALLEL_MIN_BYTES {
            let mut buf = vec![0u8; len];
            let (first, second) = buf.split_at_mut(len / 2);
            std::thread::scope(|scope| {
                let tail = scope.spawn(|| file.read_exact_at(second, (len / 2) as u64));
                file.read_exact_at(first, 0)?;
                tail.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })?;
            // A file that grew while read is read again whole, as `fs::read` would.
            if file.metadata()?.len() == len as u64 {
                return Ok(buf);
            }
        }
    }
    std::fs::read(path)
}

/// Files below this are parsed on one thread.
const PARALLEL_MIN_BYTES: usize = 8 << 20;

/// One series as a part of a file parsed it.
struct PartSeries {
    key: Box<[u8]>,
    labels: Labels,
    samples: Vec<(i64, f64)>,
    exemplars: Vec<(i64, f64, Labels)>,
}

/// What one part of a file held: its series in first-seen order, its bad lines (line
/// numbers within the part), and its samples without a timestamp.
#[derive(Default)]
struct Part {
    series: Vec<PartSeries>,
    errors: Vec<(u32, u32, String)>,
    without_timestamp: u64,
}

/// Where to cut `buf` into `parts` pieces, at line starts.
fn split_points(buf: &[u8], parts: usize) -> Vec<usize> {
    let mut points = vec![0];
    for i in 1..parts {
        let guess = buf.len() * i / parts;
        let at = buf
            .get(guess..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
            .map_or(buf.len(), |nl| guess + nl + 1);
        if at > *points.last().unwrap_or(&0) && at < buf.len() {
            points.push(at);
        }
    }
    points.push(buf.len());
    points
}

/// Parses one part. Lines are independent for import (family metadata only types them), so
/// a part can start anywhere a line starts; only the last part holds `# EOF`, so the others'
/// missing-`# EOF` error is not one.
fn parse_part(part: &[u8], format: Format, last: bool, progress: &indicatif::ProgressBar) -> Part {
    let mut out = Part::default();
    let mut index: std::collections::HashMap<Box<[u8]>, usize> = std::collections::HashMap::new();
    let mut key = Vec::new();
    let mut n = 0u64;
    let mut reported = 0usize;
    // Where the part's last line starts: the missing-`# EOF` error of a part that is not the
    // file's last is reported there, and is not an error of the file.
    let last_line = part
        .get(..part.len().saturating_sub(1))
        .and_then(|p| p.iter().rposition(|&b| b == b'\n'))
        .map_or(0, |nl| nl + 1);
    let mut eof_reported = false;
    for entry in Parser::new(part, format, Mode::Scrape) {
        let sample = match entry {
            Ok(Entry::Sample(s)) => s,
            Ok(Entry::Eof) if !last && !eof_reported => {
                // `# EOF` as this part's last line, with more of the file after it.
                let before = part.get(..last_line).unwrap_or_default();
                let line = memchr::memchr_iter(b'\n', before).count() + 1;
                let message = "expected end of input after \"# EOF\", found more lines";
                out.errors
                    .push((u32::try_from(line).unwrap_or(u32::MAX), 1, message.into()));
                continue;
            }
            Ok(_) => continue,
            Err(e)
                if !last && e.kind() == cairn_expfmt::ErrorKind::Eof && e.offset() >= last_line =>
            {
                continue;
            }
            Err(e) if e.kind() == cairn_expfmt::ErrorKind::Eof => {
                eof_reported = true;
                out.errors
                    .push((e.line(), e.column(), e.message().to_string()));
                continue;
            }
            Err(e) => {
                out.errors
                    .push((e.line(), e.column(), e.message().to_string()));
                continue;
            }
        };
        n += 1;
        if n.is_multiple_of(65_536) {
            // The sample's name borrows from `part`: its address says how far the parser is.
            let at = (sample.name.raw().as_ptr() as usize).saturating_sub(part.as_ptr() as usize);
            progress.inc((at - reported) as u64);
            reported = at;
        }
        let Some(t) = sample.timestamp else {
            out.without_timestamp += 1;
            continue;
        };
        sample_key(&sample, &mut key);
        let i = match index.get(key.as_slice()) {
            Some(&i) => i,
            None => {
                out.series.push(PartSeries {
                    key: key.as_slice().into(),
                    labels: sample_labels(&sample),
                    samples: Vec::new(),
                    exemplars: Vec::new(),
                });
                index.insert(key.as_slice().into(), out.series.len() - 1);
                out.series.len() - 1
            }
        };
        let Some(series) = out.series.get_mut(i) else {
            continue;
        };
        series.samples.push((t, sample.value));
        if let Some(e) = &sample.exemplar {
            let labels = Labels::from_pairs(e.labels.iter().map(|l| {
                (
                    l.name.unescaped().into_owned(),
                    l.value.unescaped().into_owned(),
                )
            }));
            series
                .exemplars
                .push((e.timestamp.unwrap_or(t), e.value, labels));
        }
    }
    progress.inc((part.len() - reported) as u64);
    out
}

/// Imports one file: cut at line starts into `threads` parts, parsed in parallel, then handed to the importer part after part, so each series'
/// samples keep the file's order (of two samples at one timestamp, the first is kept).
fn import_file(
    importer: &mut Importer<'_>,
    file: &std::path::Path,
    buf: &[u8],
    format: Format,
    threads: usize,
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
    let points = split_points(buf, threads);
    let bounds: Vec<(usize, usize)> = points.windows(2).map(|w| (w[0], w[1])).collect();
    let parts: Vec<Part> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| {
                let part = buf.get(a..b).unwrap_or_default();
                let last = i + 1 == bounds.len();
                let progress = progress.clone();
                scope.spawn(move || parse_part(part, format, last, &progress))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    progress.finish_and_clear();
    for (part, &(a, _)) in parts.into_iter().zip(&bounds) {
        // Lines before the part, counted only when it has an error to place.
        let line_offset = if part.errors.is_empty() {
            0
        } else {
            let before = buf.get(..a).unwrap_or_default();
            u32::try_from(memchr::memchr_iter(b'\n', before).count()).unwrap_or(u32::MAX)
        };
        for (line, column, message) in part.errors {
            *errors += 1;
            if *errors <= MAX_ERRORS_SHOWN {
                eprintln!(
                    "{}:{}:{}: {message}",
                    file.display(),
                    line + line_offset,
                    column
                );
            }
        }
        for _ in 0..part.without_timestamp {
            importer.reject(Rejection::SampleWithoutTimestamp);
        }
        for s in part.series {
            let labels = s.labels;
            let series = importer.add_samples_keyed(&s.key, || labels, s.samples)?;
            for (t, v, labels) in s.exemplars {
                importer.add_exemplar_to(series, t, v, labels);
            }
        }
    }
    Ok(())
}
