//! Resident memory of the head per series: opens a database in a temporary directory, creates
//! N node_exporter-like series with one sample each (committed in batches), then gives each a
//! second sample, and reads the process' own resident memory (`/proc/self/status`) before and
//! after each step.
//!
//! ```sh
//! cargo run --release -p cairn-benches --bin head_memory -- --series 1000000
//! ```
//!
//! Options (defaults in brackets): `--series N` [1000000], `--batch N` series per commit
//! [10000]. The log is synced at most every second (`Options::sync_every`), so the run is not
//! bound by fsync.
//!
//! Each series has about ten labels: `__name__`, `job`, `instance`, `cluster`, `region`,
//! `zone`, `env`, `node_role`, and the metric's own (`cpu` and `mode`, `device`, `device`
//! with `mountpoint` and `fstype`, or `name` and `state`), laid out as node_exporter exposes
//! them: 1000 series per instance, 1000 instances for a million series.
//!
//! What is measured is the whole process: the head's series, its label index and hash maps,
//! the open chunks, and whatever the allocator keeps. The program holds only a `u64` ref per
//! series itself, allocated before the first reading. Linux only.
#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

use cairn_chunkenc::XorAppender;
use cairn_model::Labels;
use cairn_store::{Db, Options, SeriesRef};

const USAGE: &str = "usage: head_memory [--series N] [--batch N]";

/// The first sample's timestamp; the second is one scrape interval later.
const T0: i64 = 1_764_000_000_000;
const STEP_MS: i64 = 15_000;

fn main() -> ExitCode {
    match run(std::env::args().skip(1)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("head_memory: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(mut args: impl Iterator<Item = String>) -> Result<(), String> {
    let mut series = 1_000_000usize;
    let mut batch = 10_000usize;
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
            "--series" => series = number(&flag, &value)?,
            "--batch" => batch = number(&flag, &value)?,
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    if series == 0 || batch == 0 {
        return Err(format!("--series and --batch must be positive\n{USAGE}"));
    }

    let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let db = Db::open(
        dir.path(),
        Options::default().sync_every(Duration::from_secs(1)),
    )
    .map_err(|e| format!("{}: {e}", dir.path().display()))?;

    // The only memory the program itself holds per series, resident before the first reading.
    let mut refs = vec![u64::MAX; series];
    let label_count: usize = (0..series.min(1000)).map(|i| series_labels(i).len()).sum();
    let before = Memory::read()?;

    let started = Instant::now();
    for (first, chunk) in refs.chunks_mut(batch).enumerate() {
        let mut app = db.appender();
        for (k, slot) in chunk.iter_mut().enumerate() {
            let i = first * batch + k;
            let r = app
                .append(&series_labels(i), T0, value(i, 0))
                .map_err(|e| format!("series {i}: {e}"))?;
            *slot = r.0;
        }
        app.commit().map_err(|e| format!("commit: {e}"))?;
    }
    let create_secs = started.elapsed().as_secs_f64();
    let one = Memory::read()?;

    let started = Instant::now();
    for (first, chunk) in refs.chunks(batch).enumerate() {
        let mut app = db.appender();
        for (k, &r) in chunk.iter().enumerate() {
            let i = first * batch + k;
            app.append_ref(SeriesRef(r), T0 + STEP_MS, value(i, 1));
        }
        app.commit().map_err(|e| format!("commit: {e}"))?;
    }
    let append_secs = started.elapsed().as_secs_f64();
    let two = Memory::read()?;

    // After the readings: `stats` walks every series and allocates while doing so.
    let stats = db.stats().map_err(|e| format!("stats: {e}"))?;

    // The open chunk of one series after one and after two samples, as the head builds it.
    let mut chunk = XorAppender::new();
    chunk.append(T0, value(0, 0));
    let chunk_one = chunk.bytes().len();
    chunk.append(T0 + STEP_MS, value(0, 1));
    let chunk_two = chunk.bytes().len();

    let n = series as f64;
    let per = |a: u64, b: u64| b.saturating_sub(a) as f64 / n;
    println!(
        "series:               {series} ({:.1} labels each on average; {batch} per commit)",
        label_count as f64 / series.min(1000) as f64
    );
    println!(
        "create + 1st sample:  {create_secs:.2} s ({:.0} series/s)",
        n / create_secs
    );
    println!(
        "2nd sample:           {append_secs:.2} s ({:.0} samples/s)",
        n / append_secs
    );
    println!("resident (kB)         VmRSS      RssAnon    RssFile    VmHWM");
    for (what, m) in [
        ("before", &before),
        ("1 sample each", &one),
        ("2 samples each", &two),
    ] {
        println!(
            "  {what:<18} {:>10} {:>10} {:>10} {:>10}",
            m.rss_kb, m.anon_kb, m.file_kb, m.hwm_kb
        );
    }
    println!(
        "resident per series:  {:.0} bytes after 1 sample ({:.0} anonymous), {:.0} after 2 ({:.0} anonymous)",
        per(before.rss_bytes(), one.rss_bytes()),
        per(before.anon_bytes(), one.anon_bytes()),
        per(before.rss_bytes(), two.rss_bytes()),
        per(before.anon_bytes(), two.anon_bytes()),
    );
    println!(
        "open chunk:           {chunk_one} bytes of chunk data after 1 sample, {chunk_two} after 2, \
         in a buffer of {} bytes (XorAppender::new reserves 128)",
        chunk.bytes().len().max(128)
    );
    println!(
        "head_bytes_estimate:  {} bytes ({:.0} per series; Stats: series, labels, chunk lists, open chunks aside)",
        stats.head_bytes_estimate,
        stats.head_bytes_estimate as f64 / n
    );
    println!(
        "head:                 {} series, {} samples, {} chunks",
        stats.head_series, stats.head_samples, stats.head_chunks
    );
    drop(refs);
    db.close().map_err(|e| format!("close: {e}"))?;
    Ok(())
}

fn number<T: FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: expected a number, found {value:?}"))
}

/// The sample value of series `i` at step `step`: counters that grow by a few units.
fn value(i: usize, step: u64) -> f64 {
    let seed = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 44;
    (seed + step * (1 + seed % 7)) as f64
}

const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-1"];
const ROLES: [&str; 3] = ["worker", "worker-highmem", "infra"];
const MODES: [&str; 8] = [
    "idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user",
];
const DISK_METRICS: [&str; 12] = [
    "node_disk_reads_completed_total",
    "node_disk_writes_completed_total",
    "node_disk_reads_merged_total",
    "node_disk_writes_merged_total",
    "node_disk_read_bytes_total",
    "node_disk_written_bytes_total",
    "node_disk_read_time_seconds_total",
    "node_disk_write_time_seconds_total",
    "node_disk_io_time_seconds_total",
    "node_disk_io_time_weighted_seconds_total",
    "node_disk_discards_completed_total",
    "node_disk_io_now",
];
const NET_FIELDS: [&str; 10] = [
    "bytes",
    "packets",
    "errs",
    "drop",
    "fifo",
    "compressed",
    "multicast",
    "frame",
    "colls",
    "carrier",
];
const FS_METRICS: [&str; 8] = [
    "node_filesystem_avail_bytes",
    "node_filesystem_free_bytes",
    "node_filesystem_size_bytes",
    "node_filesystem_files",
    "node_filesystem_files_free",
    "node_filesystem_readonly",
    "node_filesystem_device_error",
    "node_filesystem_mount_info",
];
const UNIT_STATES: [&str; 5] = ["activating", "active", "deactivating", "failed", "inactive"];

/// The labels of series `i`: instance `i / 1000`, and the `i % 1000`th series of a node
/// exporter (160 cpu, 120 disk, 160 network, 80 filesystem, 100 memory, 380 systemd series).
fn series_labels(i: usize) -> Labels {
    let host = i / 1000;
    let region = REGIONS[host % REGIONS.len()];
    let mut l = Labels::from_pairs([
        ("job", "node".to_string()),
        (
            "instance",
            format!("ip-10-{}-{}-{}:9100", host / 256 % 256, host % 256, 17),
        ),
        ("cluster", format!("k8s-{region}-{:02}", host % 12)),
        ("region", region.to_string()),
        ("zone", format!("{region}{}", ['a', 'b', 'c'][host % 3])),
        (
            "env",
            if host.is_multiple_of(5) {
                "staging"
            } else {
                "production"
            }
            .to_string(),
        ),
        ("node_role", ROLES[host % ROLES.len()].to_string()),
    ]);
    match i % 1000 {
        j @ 0..160 => {
            let (cpu, m) = (j / 10, j % 10);
            if m < 8 {
                l.set("__name__", "node_cpu_seconds_total");
                l.set("mode", MODES[m]);
            } else {
                l.set("__name__", "node_cpu_guest_seconds_total");
                l.set("mode", ["nice", "user"][m - 8]);
            }
            l.set("cpu", cpu.to_string());
        }
        j @ 160..280 => {
            let j = j - 160;
            l.set("__name__", DISK_METRICS[j / 10]);
            l.set("device", format!("nvme{}n1", j % 10));
        }
        j @ 280..440 => {
            let j = j - 280;
            let (metric, dev) = (j / 8, j % 8);
            let dir = if metric < 10 { "receive" } else { "transmit" };
            l.set(
                "__name__",
                format!("node_network_{dir}_{}_total", NET_FIELDS[metric % 10]),
            );
            l.set(
                "device",
                [
                    "eth0",
                    "eth1",
                    "lo",
                    "docker0",
                    "cni0",
                    "flannel.1",
                    "veth1a2b3c",
                    "veth4d5e6f",
                ][dev],
            );
        }
        j @ 440..520 => {
            let j = j - 440;
            let (metric, fs) = (j / 10, j % 10);
            l.set("__name__", FS_METRICS[metric]);
            l.set("device", format!("/dev/nvme0n1p{}", fs + 1));
            l.set("mountpoint", format!("/var/lib/kubelet/pods/volume-{fs}"));
            l.set("fstype", if fs % 2 == 0 { "ext4" } else { "xfs" });
        }
        j @ 520..620 => {
            l.set("__name__", format!("node_memory_Field{:02}_bytes", j - 520));
        }
        j => {
            let j = j - 620;
            l.set("__name__", "node_systemd_unit_state");
            l.set("name", format!("system-unit-{:02}.service", j / 5));
            l.set("state", UNIT_STATES[j % 5]);
        }
    }
    l
}

/// Lines of `/proc/self/status`, in kB.
struct Memory {
    rss_kb: u64,
    anon_kb: u64,
    file_kb: u64,
    hwm_kb: u64,
}

impl Memory {
    fn read() -> Result<Memory, String> {
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|e| format!("/proc/self/status: {e} (Linux only)"))?;
        let field = |name: &str| -> Result<u64, String> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|rest| rest.trim().strip_suffix("kB"))
                .and_then(|kb| kb.trim().parse().ok())
                .ok_or_else(|| format!("/proc/self/status: no {name} line in kB"))
        };
        Ok(Memory {
            rss_kb: field("VmRSS")?,
            anon_kb: field("RssAnon")?,
            file_kb: field("RssFile")?,
            hwm_kb: field("VmHWM")?,
        })
    }

    fn rss_bytes(&self) -> u64 {
        self.rss_kb * 1024
    }

    fn anon_bytes(&self) -> u64 {
        self.anon_kb * 1024
    }
}
