//! Damaged bytes in every kind of file a database holds: found by a checksum and reported
//! with the file and the byte offset, never a panic, and open keeps everything the damage
//! did not touch.
//!
//! A reference database is built with small options so that every kind of file exists:
//! `head.meta`, several WAL segments, several head chunk files, and blocks with `meta.json`,
//! `index`, `series`, `chunks/` and `exemplars/`. It comes in two variants, closed cleanly
//! and dropped without closing. Each case writes a copy with one byte flipped (all eight
//! bits, or one) or one file cut short, opens it, queries everything, and checks what the
//! file's [`Kind`] promises (see [`judge_open`]). The per-kind table is printed (run with
//! `--nocapture` to see it). Offsets are a spread sample so that the test stays within
//! seconds in debug builds; `CAIRN_CORRUPTION_FULL=1` tries every offset of every file
//! (about 110 000 cases, 20 minutes).
//!
//! Two damages this test found going wrong are pinned by tests of their own at the end: a
//! block's `maxTime` damaged made retention delete the other blocks, and series refs lost
//! with the WAL were reused while `chunks_head/` still held their chunks.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use cairn_model::Labels;
use cairn_store::block::Block;
use cairn_store::block::format::SEGMENT_HEADER_LEN;
use cairn_store::head_chunks;
use cairn_store::record::Record;
use cairn_store::{Db, Error, OpenReport, Options, SeriesData};

use crate::common::splitmix64;

/// A multiple of the 60 s block range, so that windows start at whole minutes of the data.
const T0: i64 = 1_700_000_040_000;

const WAL_HEADER_LEN: usize = cairn_wal::format::HEADER_LEN;
const WAL_FRAGMENT_HEADER_LEN: usize = cairn_wal::format::FRAGMENT_HEADER_LEN;

/// Offsets tried per kind of file and variant, unless `CAIRN_CORRUPTION_FULL` is set.
const OFFSETS_PER_KIND: usize = 60;

fn options() -> Options {
    let mut o = Options::default()
        .block_range_ms(60_000)
        .wal_segment_bytes(8192);
    // Small head chunk files, so that there are several and a damaged one is followed by
    // others (which repair removes, for the WAL to refill).
    o.head_chunk_file_bytes = 2048;
    o
}

fn full() -> bool {
    std::env::var_os("CAIRN_CORRUPTION_FULL").is_some_and(|v| v != "0" && !v.is_empty())
}

// The reference database.

/// One sample or exemplar, bit-exact, with its series: what a query returns, flattened.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Point {
    Sample {
        series: Labels,
        t: i64,
        v: u64,
    },
    Exemplar {
        series: Labels,
        t: i64,
        v: u64,
        labels: Labels,
    },
}

impl Point {
    fn t(&self) -> i64 {
        match self {
            Point::Sample { t, .. } | Point::Exemplar { t, .. } => *t,
        }
    }
}

fn points(series: &SeriesData) -> impl Iterator<Item = Point> + '_ {
    let samples = series.samples.iter().map(|&(t, v)| Point::Sample {
        series: series.labels.clone(),
        t,
        v: v.to_bits(),
    });
    let exemplars = series.exemplars.iter().map(|e| Point::Exemplar {
        series: series.labels.clone(),
        t: e.t,
        v: e.v.to_bits(),
        labels: e.labels.clone(),
    });
    samples.chain(exemplars)
}

/// A WAL record of the reference: where it is and what it holds.
#[derive(Debug)]
struct WalRecord {
    segment: u32,
    /// Byte offset of its first fragment.
    start: u64,
    /// Byte offset just past its last fragment.
    end: u64,
    points: Vec<Point>,
}

/// A block of the reference: its directory name and time range `[min, max)`.
#[derive(Debug)]
struct BlockInfo {
    ulid: String,
    min_time: i64,
    max_time: i64,
}

/// A database as files in memory, with what it holds.
struct Reference {
    name: &'static str,
    /// Directories, relative, parents first (some may be empty).
    dirs: Vec<PathBuf>,
    /// Files, relative, with their bytes.
    files: BTreeMap<PathBuf, Vec<u8>>,
    /// Everything a query over all time returns.
    points: BTreeSet<Point>,
    /// The query's series by labels.
    series: BTreeMap<Labels, SeriesData>,
    blocks: Vec<BlockInfo>,
    /// Data before this time is in blocks (the head's lower bound).
    blocks_end: i64,
    wal: Vec<WalRecord>,
}

fn series_labels() -> Vec<Labels> {
    let l = |pairs: &[(&str, &str)]| Labels::from_pairs(pairs.iter().copied());
    vec![
        l(&[
            ("__name__", "http_requests_total"),
            ("job", "api"),
            ("instance", "a"),
        ]),
        l(&[
            ("__name__", "http_requests_total"),
            ("job", "api"),
            ("instance", "b"),
        ]),
        l(&[
            ("__name__", "request_seconds_bucket"),
            ("job", "api"),
            ("le", "0.25"),
        ]),
        l(&[("__name__", "queue_depth"), ("job", "worker")]),
        l(&[("__name__", "temperature_celsius"), ("room", "lab")]),
    ]
}

/// Builds the reference: `seconds` of 1 s samples of five series, exemplars with a trace and
/// a span id on three of them, committed one second at a time. `close` closes the database
/// cleanly; otherwise it is dropped with an appender holding uncommitted data (as a crash).
fn build(name: &'static str, seconds: i64, close: bool) -> Reference {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    let db = Db::open(&dir, options()).unwrap();
    let series = series_labels();
    let mut rng = 0xC0FFEE_u64 ^ seconds as u64;
    let mut counters = [0.0f64; 5];
    for s in 0..seconds {
        let t = T0 + s * 1000;
        let mut app = db.appender();
        for (i, labels) in series.iter().enumerate() {
            let noise = (splitmix64(&mut rng) % 1000) as f64;
            let v = match i {
                0 | 1 => {
                    counters[i] += noise;
                    counters[i]
                }
                2 => (s / 7) as f64,
                3 => noise / 8.0,
                _ => 20.0 + (s as f64 / 30.0).sin(),
            };
            let r = app.append(labels, t, v).unwrap();
            if i < 3 && s % 4 == i as i64 {
                let trace = format!("{:016x}{:016x}", splitmix64(&mut rng), splitmix64(&mut rng));
                let span = format!("{:016x}", splitmix64(&mut rng));
                let ex = Labels::from_pairs([("trace_id", trace.as_str()), ("span_id", &span)]);
                app.append_exemplar(r, t, noise / 1000.0, &ex);
            }
        }
        app.commit().unwrap();
    }
    let live: Vec<SeriesData> = db
        .query(&[], i64::MIN, i64::MAX)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    if close {
        db.close().unwrap();
    } else {
        let mut app = db.appender();
        app.append(&series[0], T0 + seconds * 1000, 1.0).unwrap();
        drop(app);
        drop(db);
    }

    let mut dirs = Vec::new();
    let mut files = BTreeMap::new();
    snapshot(&dir, Path::new(""), &mut dirs, &mut files);
    files.remove(Path::new("LOCK"));

    let mut blocks = Vec::new();
    for d in &dirs {
        if let Ok(rest) = d.strip_prefix("blocks")
            && rest.components().count() == 1
        {
            let block = Block::open(&dir.join(d)).unwrap();
            blocks.push(BlockInfo {
                ulid: rest.display().to_string(),
                min_time: block.meta().min_time,
                max_time: block.meta().max_time,
            });
        }
    }
    blocks.sort_by_key(|b| b.min_time);
    let blocks_end = blocks.iter().map(|b| b.max_time).max().unwrap_or(i64::MIN);
    let wal = wal_records(&dir.join("wal"));

    let mut r = Reference {
        name,
        dirs,
        files,
        points: BTreeSet::new(),
        series: BTreeMap::new(),
        blocks,
        blocks_end,
        wal,
    };
    // What the files hold, as a clean open reads them: the same as the live database.
    let copy = tmp.path().join("copy");
    r.write(&copy, None);
    let db = Db::open(&copy, options()).unwrap();
    let report = describe(db.report());
    assert!(
        report.is_empty(),
        "{name}: the reference opens clean: {report}"
    );
    let read: Vec<SeriesData> = db
        .query(&[], i64::MIN, i64::MAX)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(read, live, "{name}: reopened equals live");
    r.points = read.iter().flat_map(points).collect();
    r.series = read.into_iter().map(|s| (s.labels.clone(), s)).collect();
    r.check_shape();
    r
}

/// Reads the tree under `root` into `dirs` and `files`, paths relative to `root`.
fn snapshot(
    root: &Path,
    rel: &Path,
    dirs: &mut Vec<PathBuf>,
    files: &mut BTreeMap<PathBuf, Vec<u8>>,
) {
    let mut entries: Vec<_> = fs::read_dir(root.join(rel))
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(fs::DirEntry::file_name);
    for e in entries {
        let path = rel.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            dirs.push(path.clone());
            snapshot(root, &path, dirs, files);
        } else {
            files.insert(path.clone(), fs::read(root.join(&path)).unwrap());
        }
    }
}

/// The records of the log in `dir`, with the samples and exemplars they hold.
fn wal_records(dir: &Path) -> Vec<WalRecord> {
    let mut series: BTreeMap<u64, Labels> = BTreeMap::new();
    let mut out = Vec::new();
    for item in cairn_wal::Wal::read_all(dir).unwrap() {
        let (pos, bytes) = item.unwrap();
        let mut pts = Vec::new();
        for rec in Record::decode_all(&bytes) {
            match rec.unwrap() {
                Record::Series(s) => {
                    for s in s {
                        series.insert(s.series_ref, s.labels.to_labels());
                    }
                }
                Record::Samples(s) => pts.extend(s.iter().map(|s| Point::Sample {
                    series: series[&s.series_ref].clone(),
                    t: s.t,
                    v: s.v.to_bits(),
                })),
                Record::Exemplars(e) => pts.extend(e.iter().map(|e| Point::Exemplar {
                    series: series[&e.series_ref].clone(),
                    t: e.t,
                    v: e.v.to_bits(),
                    labels: e.labels.to_labels(),
                })),
                _ => {}
            }
        }
        // Records here are far below 64 KiB: one fragment each (`check_shape` checks).
        let end = pos.offset + (WAL_FRAGMENT_HEADER_LEN + bytes.len()) as u64;
        out.push(WalRecord {
            segment: pos.segment,
            start: pos.offset,
            end,
            points: pts,
        });
    }
    out
}

impl Reference {
    /// Writes the files under `dir` (which must not exist), with `damage` applied.
    fn write(&self, dir: &Path, damage: Option<&Case>) {
        fs::create_dir_all(dir).unwrap();
        for d in &self.dirs {
            fs::create_dir_all(dir.join(d)).unwrap();
        }
        for (rel, bytes) in &self.files {
            match damage {
                Some(case) if case.file == *rel => {
                    let mut bytes = bytes.clone();
                    match case.damage {
                        Damage::Flip { offset, mask } => bytes[offset] ^= mask,
                        Damage::Cut { len } => bytes.truncate(len),
                    }
                    fs::write(dir.join(rel), bytes).unwrap();
                }
                _ => fs::write(dir.join(rel), bytes).unwrap(),
            }
        }
    }

    /// Every kind of file is there, in numbers: otherwise the cases prove little.
    fn check_shape(&self) {
        let count = |kind: Kind| {
            self.files
                .keys()
                .filter(|f| kind_of(f) == Some(kind))
                .count()
        };
        let name = self.name;
        assert!(self.blocks.len() >= 2, "{name}: blocks {:?}", self.blocks);
        assert!(count(Kind::Wal) >= 3, "{name}: WAL segments");
        assert!(count(Kind::HeadChunks) >= 2, "{name}: head chunk files");
        assert_eq!(count(Kind::HeadMeta), 1, "{name}: head.meta");
        assert!(
            count(Kind::BlockExemplars) >= 2,
            "{name}: exemplar segments"
        );
        // Each segment's records follow each other from the header to its end.
        for (file, bytes) in &self.files {
            if kind_of(file) != Some(Kind::Wal) {
                continue;
            }
            let segment: u32 = file.file_name().unwrap().to_str().unwrap().parse().unwrap();
            let mut at = WAL_HEADER_LEN as u64;
            for w in self.wal.iter().filter(|w| w.segment == segment) {
                assert_eq!(w.start, at, "{name}: {}", file.display());
                at = w.end;
            }
            assert_eq!(at, bytes.len() as u64, "{name}: {}", file.display());
        }
        let in_blocks = |p: &&Point| p.t() < self.blocks_end;
        let head = |p: &&Point| p.t() >= self.blocks_end;
        let exemplar = |p: &&Point| matches!(p, Point::Exemplar { .. });
        assert!(self.points.iter().filter(in_blocks).any(|p| exemplar(&p)));
        assert!(self.points.iter().filter(head).any(|p| exemplar(&p)));
        assert!(
            self.points.iter().filter(head).count() > 300,
            "{name}: head data"
        );
    }

    /// The points every record before `(segment, start)` holds, plus everything in blocks:
    /// what must survive a WAL cut there.
    fn kept_by_wal_cut(&self, segment: u32, start: u64) -> BTreeSet<Point> {
        let mut kept: BTreeSet<Point> = self
            .points
            .iter()
            .filter(|p| p.t() < self.blocks_end)
            .cloned()
            .collect();
        for r in &self.wal {
            if (r.segment, r.start) < (segment, start) {
                kept.extend(r.points.iter().cloned());
            }
        }
        kept
    }

    /// Where the record holding byte `offset` of WAL segment `segment` starts (0 for the
    /// segment header).
    fn wal_record_start(&self, segment: u32, offset: u64) -> u64 {
        self.wal
            .iter()
            .find(|r| r.segment == segment && r.start <= offset && offset < r.end)
            .map_or(0, |r| r.start)
    }

    /// Where the chunk holding byte `offset` of `file` (a head chunk file or a block's chunk
    /// segment) starts: 0 in the file header, `None` past the last chunk.
    fn chunk_start(&self, file: &Path, offset: usize) -> Option<usize> {
        if offset < head_chunks::HEADER_LEN {
            return Some(0);
        }
        chunk_frames(kind_of(file).unwrap(), &self.files[file])
            .into_iter()
            .find(|f| f.contains(&offset))
            .map(|f| f.start)
    }

    fn block(&self, file: &Path) -> &BlockInfo {
        let ulid = file.iter().nth(1).unwrap().to_str().unwrap();
        self.blocks.iter().find(|b| b.ulid == ulid).unwrap()
    }
}

/// The byte ranges of the chunks of a head chunk file or a block's chunk segment, both
/// after an 8-byte file header (`HEAD_CHUNKS_FORMAT.md`, `block/FORMAT.md`).
fn chunk_frames(kind: Kind, bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
    // Both headers are 8 bytes, and `chunk_start` counts on it.
    const { assert!(head_chunks::HEADER_LEN == SEGMENT_HEADER_LEN) };
    let uvarint = |at: usize| {
        let (mut v, mut shift, mut i) = (0usize, 0, at);
        loop {
            let b = bytes[i];
            v |= usize::from(b & 0x7f) << shift;
            i += 1;
            if b < 0x80 {
                return (v, i);
            }
            shift += 7;
        }
    };
    let mut frames = Vec::new();
    let mut at = SEGMENT_HEADER_LEN;
    while at < bytes.len() {
        let end = match kind {
            // Series ref, mint, maxt, encoding; data length; data; CRC32C.
            Kind::HeadChunks => {
                let (len, data) = uvarint(at + head_chunks::DATA_LEN_OFFSET);
                data + len + head_chunks::CRC_LEN
            }
            // Data length; encoding; data; CRC32C.
            Kind::BlockChunks | Kind::BlockExemplars => {
                let (len, encoding) = uvarint(at);
                encoding + 1 + len + 4
            }
            _ => unreachable!("{kind:?} has no chunks"),
        };
        frames.push(at..end);
        at = end;
    }
    assert_eq!(at, bytes.len(), "{kind:?}: chunks fill the file");
    frames
}

// Cases.

/// The kinds of file, each with its own promise (see [`judge_open`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    HeadMeta,
    Wal,
    WalTail,
    HeadChunks,
    HeadChunksTail,
    BlockMeta,
    BlockIndex,
    BlockSeries,
    BlockChunks,
    BlockExemplars,
}

impl Kind {
    const ALL: [Kind; 10] = [
        Kind::HeadMeta,
        Kind::Wal,
        Kind::WalTail,
        Kind::HeadChunks,
        Kind::HeadChunksTail,
        Kind::BlockMeta,
        Kind::BlockIndex,
        Kind::BlockSeries,
        Kind::BlockChunks,
        Kind::BlockExemplars,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::HeadMeta => "head.meta",
            Kind::Wal => "wal/NNNNNNNN",
            Kind::WalTail => "wal/ last, cut",
            Kind::HeadChunks => "chunks_head/NNNNNN",
            Kind::HeadChunksTail => "chunks_head/ last, cut",
            Kind::BlockMeta => "block meta.json",
            Kind::BlockIndex => "block index",
            Kind::BlockSeries => "block series",
            Kind::BlockChunks => "block chunks/NNNNNN",
            Kind::BlockExemplars => "block exemplars/NNNNNN",
        }
    }
}

fn kind_of(file: &Path) -> Option<Kind> {
    let parts: Vec<&str> = file.iter().map(|p| p.to_str().unwrap()).collect();
    match parts.as_slice() {
        ["head.meta"] => Some(Kind::HeadMeta),
        ["wal", _] => Some(Kind::Wal),
        ["chunks_head", _] => Some(Kind::HeadChunks),
        ["blocks", _, "meta.json"] => Some(Kind::BlockMeta),
        ["blocks", _, "index"] => Some(Kind::BlockIndex),
        ["blocks", _, "series"] => Some(Kind::BlockSeries),
        ["blocks", _, "chunks", _] => Some(Kind::BlockChunks),
        ["blocks", _, "exemplars", _] => Some(Kind::BlockExemplars),
        _ => None,
    }
}

#[derive(Clone, Copy, Debug)]
enum Damage {
    /// XOR the byte at `offset` with `mask`.
    Flip { offset: usize, mask: u8 },
    /// Cut the file to `len` bytes.
    Cut { len: usize },
}

#[derive(Clone, Debug)]
struct Case {
    kind: Kind,
    file: PathBuf,
    damage: Damage,
}

impl std::fmt::Display for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.damage {
            Damage::Flip { offset, mask } => {
                write!(f, "{} byte {offset} ^= {mask:#04x}", self.file.display())
            }
            Damage::Cut { len } => write!(f, "{} cut to {len} bytes", self.file.display()),
        }
    }
}

/// The flips of the reference's files of `kind`: every offset flipped whole and by one bit
/// when there are at most `per_kind` offsets (or in a full run), else `2 * per_kind` flips
/// spread evenly over all of its files, alternately whole and by one bit.
fn flip_cases(r: &Reference, kind: Kind, per_kind: usize) -> Vec<Case> {
    let all: Vec<(&PathBuf, usize)> = r
        .files
        .iter()
        .filter(|(f, _)| kind_of(f) == Some(kind))
        .flat_map(|(f, b)| (0..b.len()).map(move |o| (f, o)))
        .collect();
    let bit = |offset: usize| 1u8 << ((offset * 5 + 3) % 8);
    let flip = |(file, offset): (&PathBuf, usize), mask: u8| Case {
        kind,
        file: file.clone(),
        damage: Damage::Flip { offset, mask },
    };
    if full() || all.len() <= per_kind {
        return all
            .into_iter()
            .flat_map(|at| [flip(at, 0xff), flip(at, bit(at.1))])
            .collect();
    }
    let n = 2 * per_kind;
    (0..n)
        .map(|i| {
            let at = all[i * all.len() / n];
            flip(at, if i % 2 == 0 { 0xff } else { bit(at.1) })
        })
        .collect()
}

/// Cuts of the newest file of `kind`: every length in a full run, else the boundaries of
/// the header and a spread over the rest.
fn cut_cases(r: &Reference, kind: Kind, tail: Kind, per_kind: usize) -> Vec<Case> {
    let (file, bytes) = r
        .files
        .iter()
        .rfind(|(f, _)| kind_of(f) == Some(kind))
        .unwrap();
    let len = bytes.len();
    let mut lens: BTreeSet<usize> = if full() {
        (0..len).collect()
    } else {
        let mut l: BTreeSet<usize> = [0, 1, 7, 8, 9, 15, 16, 17, 23, 24, 30, len - 1]
            .into_iter()
            .collect();
        l.extend((0..per_kind / 4).map(|i| i * len / (per_kind / 4)));
        l
    };
    lens.retain(|&l| l < len);
    lens.into_iter()
        .map(|l| Case {
            kind: tail,
            file: file.clone(),
            damage: Damage::Cut { len: l },
        })
        .collect()
}

// Running and judging a case.

/// What a case came to.
#[derive(Debug)]
enum Outcome {
    /// Open reported it (repair or failed block) and kept everything else.
    DetectedByOpen,
    /// Open failed naming the file, where that is the documented answer.
    RefusedByOpen,
    /// A query read reported it, naming the file and offset; everything else read whole.
    DetectedAtRead,
    /// Nothing reported, nothing changed.
    Harmless,
    Failed(String),
}

/// The open report as one line per finding (empty when clean).
fn describe(report: &OpenReport) -> String {
    let mut out = String::new();
    if let Some(w) = &report.wal_repair {
        writeln!(out, "wal_repair: {w}").unwrap();
    }
    if let Some(h) = &report.head_chunks_repair {
        writeln!(out, "head_chunks_repair: {h}").unwrap();
    }
    for (p, e) in &report.failed_blocks {
        writeln!(out, "failed_block {}: {e}", p.display()).unwrap();
    }
    for p in &report.removed_parent_blocks {
        writeln!(out, "removed_parent_block {}", p.display()).unwrap();
    }
    out
}

/// Whether `message` names the file `rel` (as a path suffix) and a byte offset.
fn names_file_and_offset(message: &str, rel: &Path) -> bool {
    message.contains(&rel.display().to_string()) && message.contains("byte")
}

/// `got` against `want`: empty when equal, else what is missing and what is extra.
fn diff(want: &BTreeSet<Point>, got: &BTreeSet<Point>) -> String {
    let missing: Vec<&Point> = want.difference(got).collect();
    let extra: Vec<&Point> = got.difference(want).collect();
    if missing.is_empty() && extra.is_empty() {
        return String::new();
    }
    format!(
        "{} missing (first {:?}), {} extra (first {:?})",
        missing.len(),
        missing.first(),
        extra.len(),
        extra.first()
    )
}

/// Opens the damaged copy in `dir` and judges it against the reference.
fn judge(r: &Reference, case: &Case, dir: &Path) -> Outcome {
    let db = match Db::open(dir, options()) {
        Ok(db) => db,
        Err(e) => {
            let message = e.to_string();
            // Open may fail on one kind of damage only: a head chunk file whose magic is
            // intact but whose version or padding bytes (not checksummed) are not version
            // 1's. `HEAD_CHUNKS_FORMAT.md` has open refuse it, as a newer writer's file,
            // since nothing tells a newer file from a damaged one. Everything else is
            // repairable: the WAL refills the head, and a bad block is set aside.
            let documented = matches!(
                (case.kind, case.damage),
                (Kind::HeadChunks, Damage::Flip { offset, .. })
                    if (head_chunks::VERSION_OFFSET..head_chunks::HEADER_LEN).contains(&offset)
            );
            return if documented && message.contains(&case.file.display().to_string()) {
                Outcome::RefusedByOpen
            } else {
                Outcome::Failed(format!("open failed: {message}"))
            };
        }
    };
    let report = describe(db.report());
    let items: Vec<Result<SeriesData, Error>> = match db.query(&[], i64::MIN, i64::MAX) {
        Ok(set) => set.collect(),
        Err(e) => vec![Err(e)],
    };
    let first: BTreeSet<Point> = items.iter().flatten().flat_map(points).collect();
    let outcome = judge_open(r, case, &db, &report, items);
    drop(db);
    // Blocks are never repaired; the log and head chunk files are: a second open finds
    // what the first left, with no repair to do.
    if matches!(outcome, Outcome::Failed(_)) || case.file.starts_with("blocks") {
        return outcome;
    }
    let again = match Db::open(dir, options()) {
        Ok(db) => db,
        Err(e) => return Outcome::Failed(format!("second open failed: {e}")),
    };
    let second = describe(again.report());
    let repeated_repair = again.report().head_chunks_repair.is_some()
        || again
            .report()
            .wal_repair
            .as_ref()
            .is_some_and(|w| !w.contains("head.meta"));
    if repeated_repair {
        return Outcome::Failed(format!("second open repaired again: {second}"));
    }
    let read: Result<Vec<SeriesData>, Error> = again
        .query(&[], i64::MIN, i64::MAX)
        .and_then(Iterator::collect);
    match read {
        Ok(read) => {
            let d = diff(&first, &read.iter().flat_map(points).collect());
            if d.is_empty() {
                outcome
            } else {
                Outcome::Failed(format!("second open reads otherwise: {d}"))
            }
        }
        Err(e) => Outcome::Failed(format!("second open's query failed: {e}")),
    }
}

/// Judges a case that opened: what a damaged file of each kind may do, as the formats
/// promise.
///
/// - `head.meta` (16 bytes, CRC32C): reported (`wal_repair` names it), and the whole log
///   is replayed instead: everything is there.
/// - WAL segments (every byte under a header or fragment CRC32C): reported with segment
///   file and offset; the log is cut before the damaged record and later segments are
///   removed. Everything in blocks and in the records before the cut is there; nothing
///   returned differs from the reference (later data may survive in head chunks).
/// - Head chunk files (every chunk under a CRC32C): reported with file and offset; the
///   files are cut before the damaged chunk and the WAL, which holds every head sample,
///   refills the rest: everything is there. The one exception is a file whose magic is
///   intact but whose version or padding bytes (4..8, not checksummed) are not version
///   1's: `HEAD_CHUNKS_FORMAT.md` has open refuse it, naming the file, rather than
///   remove what may be a newer writer's only copy.
/// - Block files: either the block is listed in `failed_blocks` (naming the file), and
///   everything but its window is there; or, for a chunk whose damage only a read finds,
///   reading the series it belongs to fails naming the segment file and the byte, and
///   every other series reads whole. `meta.json` carries a CRC32C of its values
///   (`block/FORMAT.md`); its semantic errors (a ULID that is not the directory's) name
///   the file but no byte.
fn judge_open(
    r: &Reference,
    case: &Case,
    db: &Db,
    report: &str,
    items: Vec<Result<SeriesData, Error>>,
) -> Outcome {
    let rep = db.report();
    let errors: Vec<String> = items
        .iter()
        .filter_map(|i| i.as_ref().err().map(ToString::to_string))
        .collect();
    let read: Vec<&SeriesData> = items.iter().filter_map(|i| i.as_ref().ok()).collect();
    let got: BTreeSet<Point> = read.iter().flat_map(|s| points(s)).collect();
    let fail = |what: String| Outcome::Failed(format!("{what}\n      report: {report}"));
    let block_kind = matches!(
        case.kind,
        Kind::BlockMeta
            | Kind::BlockIndex
            | Kind::BlockSeries
            | Kind::BlockChunks
            | Kind::BlockExemplars
    );
    if !block_kind && !errors.is_empty() {
        return fail(format!("query errors: {errors:?}"));
    }
    match case.kind {
        Kind::HeadMeta => {
            if rep.head_chunks_repair.is_some() || !rep.failed_blocks.is_empty() {
                return fail("unrelated repair".into());
            }
            let d = diff(&r.points, &got);
            if !d.is_empty() {
                return fail(format!("data changed: {d}"));
            }
            match &rep.wal_repair {
                Some(w) if names_file_and_offset(w, &case.file) => Outcome::DetectedByOpen,
                Some(w) => fail(format!("report does not name file and offset: {w}")),
                None => fail("not reported".into()),
            }
        }
        Kind::Wal | Kind::WalTail => {
            if rep.head_chunks_repair.is_some() || !rep.failed_blocks.is_empty() {
                return fail("unrelated repair".into());
            }
            let segment: u32 = case
                .file
                .file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let (cut, at_boundary) = match case.damage {
                Damage::Flip { offset, .. } => (r.wal_record_start(segment, offset as u64), false),
                Damage::Cut { len } => {
                    let len = len as u64;
                    let whole = r
                        .wal
                        .iter()
                        .filter(|w| w.segment == segment && w.end <= len)
                        .map(|w| w.end)
                        .max();
                    match whole {
                        _ if len < WAL_HEADER_LEN as u64 => (0, false),
                        None => (WAL_HEADER_LEN as u64, len == WAL_HEADER_LEN as u64),
                        Some(end) => (end, end == len),
                    }
                }
            };
            let kept = r.kept_by_wal_cut(segment, cut);
            let missing: BTreeSet<Point> = kept.difference(&got).cloned().collect();
            let extra: BTreeSet<Point> = got.difference(&r.points).cloned().collect();
            if !missing.is_empty() || !extra.is_empty() {
                return fail(format!(
                    "WAL cut at segment {segment} byte {cut}: {} kept points missing (first \
                     {:?}), {} points not in the reference (first {:?})",
                    missing.len(),
                    missing.first(),
                    extra.len(),
                    extra.first()
                ));
            }
            // The repair names the segment, the damaged byte, and where it cut.
            let cut_at = format!("whole records end at byte {cut}");
            match &rep.wal_repair {
                Some(w) if names_file_and_offset(w, &case.file) && w.contains(&cut_at) => {
                    Outcome::DetectedByOpen
                }
                Some(w) => fail(format!("report does not name file and {cut_at}: {w}")),
                // A cut at a record boundary leaves a clean, shorter log.
                None if at_boundary => Outcome::Harmless,
                None if got == r.points => Outcome::Harmless,
                None => fail("not reported".into()),
            }
        }
        Kind::HeadChunks | Kind::HeadChunksTail => {
            if rep.wal_repair.is_some() || !rep.failed_blocks.is_empty() {
                return fail("unrelated repair".into());
            }
            let d = diff(&r.points, &got);
            if !d.is_empty() {
                return fail(format!("data changed: {d}"));
            }
            // The repair names the file and the start of the damaged (or torn) chunk.
            let start = match case.damage {
                Damage::Flip { offset, .. } => r.chunk_start(&case.file, offset),
                Damage::Cut { len } => r.chunk_start(&case.file, len),
            };
            let Some(start) = start else {
                // Cut after its last chunk: nothing to see.
                return if rep.head_chunks_repair.is_none() {
                    Outcome::Harmless
                } else {
                    fail("a whole file reported".into())
                };
            };
            let at = format!("corrupt at byte {start}:");
            match &rep.head_chunks_repair {
                Some(h) if names_file_and_offset(h, &case.file) && h.contains(&at) => {
                    Outcome::DetectedByOpen
                }
                Some(h) => fail(format!("report does not name file and `{at}`: {h}")),
                // A cut at a chunk boundary leaves a clean file.
                None if matches!(case.damage, Damage::Cut { len } if len == start) => {
                    Outcome::Harmless
                }
                None => fail("not reported".into()),
            }
        }
        Kind::BlockMeta
        | Kind::BlockIndex
        | Kind::BlockSeries
        | Kind::BlockChunks
        | Kind::BlockExemplars => judge_block(r, case, rep, &errors, &read, &got, &fail),
    }
}

fn judge_block(
    r: &Reference,
    case: &Case,
    rep: &OpenReport,
    errors: &[String],
    read: &[&SeriesData],
    got: &BTreeSet<Point>,
    fail: &dyn Fn(String) -> Outcome,
) -> Outcome {
    if rep.wal_repair.is_some() || rep.head_chunks_repair.is_some() {
        return fail("unrelated repair".into());
    }
    let block = r.block(&case.file);
    // The file's path inside its block (`index`, `chunks/000001`…).
    let in_block: PathBuf = case.file.iter().skip(2).collect();
    let block_dir: PathBuf = case.file.iter().take(2).collect();
    let is_meta = case.kind == Kind::BlockMeta;
    if !rep.failed_blocks.is_empty() {
        let [(path, message)] = rep.failed_blocks.as_slice() else {
            return fail("more than one failed block".into());
        };
        if !path.ends_with(&block_dir) {
            return fail(format!("another block failed: {}", path.display()));
        }
        // `meta.json` is JSON (errors have a line and column), and its damage may show as
        // another file of the block not matching what it records.
        let named = if is_meta {
            message.contains(&block_dir.display().to_string())
        } else {
            names_file_and_offset(message, &in_block)
        };
        if !named {
            return fail(format!(
                "failed block does not name file and offset: {message}"
            ));
        }
        if !errors.is_empty() {
            return fail(format!("query errors: {errors:?}"));
        }
        let want: BTreeSet<Point> = r
            .points
            .iter()
            .filter(|p| !(block.min_time..block.max_time).contains(&p.t()))
            .cloned()
            .collect();
        let d = diff(&want, got);
        if !d.is_empty() {
            return fail(format!("data other than the block's changed: {d}"));
        }
        return Outcome::DetectedByOpen;
    }
    if !errors.is_empty() {
        if let Some(e) = errors.iter().find(|e| !names_file_and_offset(e, &in_block)) {
            return fail(format!("read error does not name file and offset: {e}"));
        }
        // A damaged chunk is reported at its reference: the offset of its start.
        if let Damage::Flip { offset, .. } = case.damage
            && let Some(start) = r.chunk_start(&case.file, offset)
        {
            let at = format!("at byte {start}:");
            if let Some(e) = errors.iter().find(|e| !e.contains(&at)) {
                return fail(format!("read error not at `{at}`: {e}"));
            }
        }
        for s in read {
            if r.series.get(&s.labels) != Some(*s) {
                return fail(format!("series {} read wrong", s.labels));
            }
        }
        if read.len() + errors.len() != r.series.len() {
            return fail(format!(
                "{} series read and {} errors, of {}",
                read.len(),
                errors.len(),
                r.series.len()
            ));
        }
        return Outcome::DetectedAtRead;
    }
    let d = diff(&r.points, got);
    if d.is_empty() {
        Outcome::Harmless
    } else {
        fail(format!("undetected, data changed: {d}"))
    }
}

// The table.

#[derive(Default)]
struct Tally {
    tried: usize,
    by_open: usize,
    refused: usize,
    at_read: usize,
    harmless: usize,
    failed: usize,
}

/// Runs `cases` against `r` on every core, adding to `tallies` and `failures`.
fn run(
    r: &Reference,
    cases: &[Case],
    scratch: &Path,
    tallies: &mut BTreeMap<Kind, Tally>,
    failures: &mut Vec<String>,
) {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().min(8));
    let outcomes: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                scope.spawn(move || {
                    (w..cases.len())
                        .step_by(workers)
                        .map(|i| {
                            let dir = scratch.join(format!("{}-{i}", r.name));
                            r.write(&dir, Some(&cases[i]));
                            let outcome = judge(r, &cases[i], &dir);
                            fs::remove_dir_all(&dir).unwrap();
                            (i, outcome)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let mut outcomes = outcomes;
    outcomes.sort_by_key(|(i, _)| *i);
    for (i, outcome) in outcomes {
        let case = &cases[i];
        let t = tallies.entry(case.kind).or_default();
        t.tried += 1;
        match outcome {
            Outcome::DetectedByOpen => t.by_open += 1,
            Outcome::RefusedByOpen => t.refused += 1,
            Outcome::DetectedAtRead => t.at_read += 1,
            Outcome::Harmless => t.harmless += 1,
            Outcome::Failed(why) => {
                t.failed += 1;
                failures.push(format!("{}: {case}: {why}", r.name));
            }
        }
    }
}

fn table(tallies: &BTreeMap<Kind, Tally>) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "{:<24} {:>6} {:>8} {:>8} {:>8} {:>9} {:>7}",
        "file", "tried", "by open", "refused", "at read", "harmless", "FAILED"
    )
    .unwrap();
    for kind in Kind::ALL {
        let Some(t) = tallies.get(&kind) else {
            continue;
        };
        writeln!(
            out,
            "{:<24} {:>6} {:>8} {:>8} {:>8} {:>9} {:>7}",
            kind.name(),
            t.tried,
            t.by_open,
            t.refused,
            t.at_read,
            t.harmless,
            t.failed
        )
        .unwrap();
    }
    out
}

/// A scratch directory on a RAM file system when there is one: open syncs files and
/// directories, which costs milliseconds a case on a disk.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(d) = tempfile::tempdir_in(shm)
    {
        return d;
    }
    tempfile::tempdir().unwrap()
}

#[test]
fn every_kind_of_file_damaged() {
    let started = std::time::Instant::now();
    let closed = build("closed", 330, true);
    let crashed = build("crashed", 307, false);
    let per_kind = OFFSETS_PER_KIND;
    let scratch = scratch();
    let mut tallies = BTreeMap::new();
    let mut failures = Vec::new();
    for (r, kinds) in [
        (&closed, &Kind::ALL[..]),
        // Crashing changes what the head's files end with, not the blocks.
        (
            &crashed,
            &[
                Kind::HeadMeta,
                Kind::Wal,
                Kind::WalTail,
                Kind::HeadChunks,
                Kind::HeadChunksTail,
            ][..],
        ),
    ] {
        let mut cases = Vec::new();
        for &kind in kinds {
            match kind {
                Kind::WalTail => cases.extend(cut_cases(r, Kind::Wal, kind, per_kind)),
                Kind::HeadChunksTail => {
                    cases.extend(cut_cases(r, Kind::HeadChunks, kind, per_kind));
                }
                Kind::HeadMeta => {
                    cases.extend(flip_cases(r, kind, per_kind));
                    cases.extend(cut_cases(r, kind, kind, per_kind));
                }
                _ => cases.extend(flip_cases(r, kind, per_kind)),
            }
        }
        run(r, &cases, scratch.path(), &mut tallies, &mut failures);
    }
    println!("{}", table(&tallies));
    println!("in {:.1?}", started.elapsed());
    assert!(
        failures.is_empty(),
        "{} of the cases failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .map(|f| format!("  {f}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// One flipped bit in the leading digit of a block's `maxTime` puts the block 8000 years
/// ahead. Before `meta.json` carried a CRC32C this passed every check at open, and open's
/// time retention, measured from the newest block end, deleted every other block from disk,
/// unreported. Now the block fails to open and the others stay.
#[test]
fn a_damaged_block_end_deletes_no_other_block() {
    let r = build("closed", 330, true);
    let (file, bytes) = r
        .files
        .iter()
        .find(|(f, _)| kind_of(f) == Some(Kind::BlockMeta))
        .unwrap();
    let key = b"\"maxTime\": ";
    let offset = bytes.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    assert_eq!(bytes[offset], b'1');
    let case = Case {
        kind: Kind::BlockMeta,
        file: file.clone(),
        // '1' -> '9': 1_700_000_100_000 -> 9_700_000_100_000.
        damage: Damage::Flip { offset, mask: 0x08 },
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    r.write(&dir, Some(&case));
    let db = Db::open(&dir, options()).unwrap();
    let block = r.block(file);
    let failed = &db.report().failed_blocks;
    assert!(
        failed
            .iter()
            .any(|(p, e)| p.ends_with(&block.ulid) && e.contains("meta.json")),
        "{case}: not reported: {failed:?}"
    );
    let got: BTreeSet<Point> = db
        .query(&[], i64::MIN, i64::MAX)
        .unwrap()
        .flat_map(|s| points(&s.unwrap()).collect::<Vec<_>>())
        .collect();
    let others: BTreeSet<Point> = r
        .points
        .iter()
        .filter(|p| !(block.min_time..block.max_time).contains(&p.t()))
        .cloned()
        .collect();
    let lost = diff(&others, &got.intersection(&others).cloned().collect());
    assert!(lost.is_empty(), "{case}: other blocks' data lost: {lost}");
    for b in &r.blocks {
        assert!(
            dir.join("blocks").join(&b.ulid).is_dir(),
            "block {} deleted",
            b.ulid
        );
    }
}

/// A damaged header of the oldest WAL segment drops the whole log, with the records naming
/// the head's series; their chunks stay in `chunks_head/` under their old refs, skipped at
/// open because no series has those refs. Before open reserved those refs, the head handed
/// them to series appended anew, and the next open attached the old chunks to whichever
/// series then had the ref: one series' samples were read as another's.
#[test]
fn a_lost_series_record_does_not_give_its_chunks_to_another_series() {
    let r = build("closed", 330, true);
    let oldest = r
        .files
        .keys()
        .find(|f| kind_of(f) == Some(Kind::Wal))
        .unwrap();
    let case = Case {
        kind: Kind::Wal,
        file: oldest.clone(),
        damage: Damage::Flip {
            offset: 0,
            mask: 0xff,
        },
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("db");
    r.write(&dir, Some(&case));
    let db = Db::open(&dir, options()).unwrap();
    assert!(db.report().wal_repair.is_some());
    // The same series again, in another order, so that refs go to other series.
    let t = T0 + 400_000;
    let mut app = db.appender();
    for (i, labels) in series_labels().iter().enumerate().rev() {
        app.append(labels, t, -(i as f64)).unwrap();
    }
    app.commit().unwrap();
    db.close().unwrap();

    let db = Db::open(&dir, options()).unwrap();
    for s in db.query(&[], i64::MIN, i64::MAX).unwrap() {
        let s = s.unwrap();
        let want = &r.series[&s.labels];
        let foreign: Vec<&(i64, f64)> = s
            .samples
            .iter()
            .filter(|p| p.0 != t && !want.samples.contains(p))
            .collect();
        assert!(
            foreign.is_empty(),
            "{case}: {} holds {} samples it never had, first {:?}",
            s.labels,
            foreign.len(),
            foreign.first()
        );
    }
}
