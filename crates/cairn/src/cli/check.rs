//! `cairn check`: validate an exposition file.
//!
//! Exit status: 0 when valid (a one-line summary on stdout), 1 when not (one
//! `FILE:LINE:COL: message` line per error on stderr), 2 when the file cannot be read.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use cairn_expfmt::{Format, Mode, detect_format, parse_exposition};

/// Which format to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FormatArg {
    /// Decide by content: a `# EOF` line means OpenMetrics.
    Auto,
    /// OpenMetrics 1.0 text.
    Openmetrics,
    /// Prometheus text format 0.0.4.
    Prometheus,
}

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The exposition format.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Enforce the OpenMetrics 1.0 specification in full, instead of accepting what
    /// Prometheus accepts from real exporters.
    #[arg(long)]
    strict: bool,
    /// The file to check, or `-` for standard input.
    file: PathBuf,
}

pub(crate) fn run(args: &Args) -> ExitCode {
    let stdin = args.file.as_os_str() == "-";
    let shown = if stdin {
        "<stdin>".to_string()
    } else {
        args.file.display().to_string()
    };
    let mut buf = Vec::new();
    let read = if stdin {
        std::io::stdin().read_to_end(&mut buf).map(|_| ())
    } else {
        std::fs::read(&args.file).map(|b| buf = b)
    };
    if let Err(e) = read {
        eprintln!("{shown}: cannot read: {e}");
        return ExitCode::from(2);
    }
    let format = match args.format {
        FormatArg::Auto => detect_format(&buf),
        FormatArg::Openmetrics => Format::OpenMetrics,
        FormatArg::Prometheus => Format::PrometheusText,
    };
    let mode = if args.strict {
        Mode::Strict
    } else {
        Mode::Scrape
    };
    let summary = parse_exposition(&buf, format, mode);
    for w in &summary.warnings {
        eprintln!(
            "{shown}:{}:{}: warning: exemplar dropped: {}",
            w.line(),
            w.column(),
            w.message()
        );
    }
    if summary.dropped_exemplars > summary.warnings.len() as u64 {
        eprintln!(
            "{shown}: warning: {} more exemplars dropped",
            summary.dropped_exemplars - summary.warnings.len() as u64
        );
    }
    if !summary.errors.is_empty() {
        for e in &summary.errors {
            eprintln!("{shown}:{}:{}: {}", e.line(), e.column(), e.message());
        }
        return ExitCode::from(1);
    }
    let format_name = match format {
        Format::OpenMetrics => "OpenMetrics 1.0",
        Format::PrometheusText => "Prometheus text 0.0.4",
    };
    let mode_name = if args.strict { "strict" } else { "scrape" };
    let dropped = if summary.dropped_exemplars > 0 {
        format!(", {} exemplars dropped", summary.dropped_exemplars)
    } else {
        String::new()
    };
    println!(
        "{shown}: valid {format_name} ({mode_name}): {} families, {} series, {} samples, {} exemplars{dropped}",
        summary.families.len(),
        summary.series_count(),
        summary.sample_count(),
        summary.exemplar_count()
    );
    ExitCode::SUCCESS
}
