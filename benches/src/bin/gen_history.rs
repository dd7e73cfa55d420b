//! Writes a deterministic OpenMetrics history with exemplars (`cairn_benches::history`), to
//! import into promtool and cairn.
//!
//! ```sh
//! cargo run -p cairn-benches --bin gen_history -- --series 50 --steps 2000 --out history.om.txt
//! ```
//!
//! Options (defaults in brackets): `--series N` per family [50], `--steps N` per series [2000],
//! `--step-ms MS` [15000], `--start-ms MS` [1700000000000], `--exemplar-every N` steps, 0 for
//! none [10], `--seed N` [1], `--out FILE` (`-` for standard output; required). A summary goes
//! to standard error.
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::{self, Write as _};
use std::process::ExitCode;
use std::str::FromStr;

use cairn_benches::history::{HistorySpec, write_openmetrics};

const USAGE: &str = "usage: gen_history [--series N] [--steps N] [--step-ms MS] [--start-ms MS] \
                     [--exemplar-every N] [--seed N] --out FILE|-";

fn main() -> ExitCode {
    match run(std::env::args().skip(1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_history: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let mut spec = HistorySpec::default();
    let mut out = None;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (arg, None),
        };
        if flag == "-h" || flag == "--help" {
            println!("{USAGE}");
            return Ok(());
        }
        let value = inline
            .or_else(|| args.next())
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        match flag.as_str() {
            "--series" => spec.series = number(&flag, &value)?,
            "--steps" => spec.steps = number(&flag, &value)?,
            "--step-ms" => spec.step_ms = number(&flag, &value)?,
            "--start-ms" => spec.start_ms = number(&flag, &value)?,
            "--exemplar-every" => spec.exemplar_every = number(&flag, &value)?,
            "--seed" => spec.seed = number(&flag, &value)?,
            "--out" => out = Some(value),
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    let out = out.ok_or_else(|| format!("--out is required\n{USAGE}"))?;
    // `write_openmetrics` writes in 64 KiB pieces: no buffering needed.
    let written = if out == "-" {
        let mut stdout = io::stdout().lock();
        write_openmetrics(&spec, &mut stdout).and_then(|s| stdout.flush().map(|()| s))
    } else {
        File::create(&out).and_then(|mut f| write_openmetrics(&spec, &mut f))
    };
    let stats = written.map_err(|e| format!("{out}: {e}"))?;
    let hours = (stats.max_time_ms - stats.min_time_ms) as f64 / 3_600_000.0;
    eprintln!(
        "{out}: {} families, {} series, {} samples, {} exemplars, {} to {} ms ({hours:.1} h), {} bytes",
        stats.families,
        stats.series,
        stats.samples,
        stats.exemplars,
        stats.min_time_ms,
        stats.max_time_ms,
        stats.bytes
    );
    Ok(())
}

fn number<T: FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: expected a number, found {value:?}"))
}
