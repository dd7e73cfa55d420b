//! The writer: options, opening with repair, appending, committing and cutting segments.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::error::{Corruption, Error, Result};
use crate::format::{
    DEFAULT_SEGMENT_SIZE, HEADER_LEN, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE, encode_header,
    encode_record, encoded_len, max_record_len,
};
use crate::reader::Reader;
use crate::segments::{list_segments, segment_path};
use crate::storage::{FsStorage, Storage, StorageFile};

/// Appended bytes are handed to the storage once this many are buffered, even before a
/// commit, so that memory stays bounded between commits.
const WRITE_BUFFER_LEN: usize = 256 * 1024;

/// Where a record starts: its segment and the byte offset of its first fragment header in
/// the segment file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordPos {
    /// The segment number.
    pub segment: u32,
    /// Byte offset in the segment file.
    pub offset: u64,
}

impl RecordPos {
    /// The position of the first record of `segment`, right after its header.
    pub const fn start_of(segment: u32) -> RecordPos {
        RecordPos {
            segment,
            offset: HEADER_LEN as u64,
        }
    }
}

impl fmt::Display for RecordPos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "segment {}, byte {}", self.segment, self.offset)
    }
}

/// When [`Wal::commit`] makes appended records durable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SyncPolicy {
    /// Every commit syncs the segment (and the directory, after a new segment was created)
    /// before it returns: a record is durable once the commit that follows it returns `Ok`.
    #[default]
    EveryCommit,
    /// A commit hands the records to the operating system, which keeps them through a crash
    /// of the process but not of the machine. It syncs only when this much time has passed
    /// since the last sync (checked on commit), and [`Wal::sync`] syncs at once. Records are
    /// durable only after such a sync returns `Ok`: a power loss can lose every commit since
    /// the last one. The log stays a prefix of what was appended either way. A segment that
    /// fills up is synced when it is sealed, whatever the interval, so that a newer segment
    /// on disk always means the older ones are whole.
    Interval(Duration),
}

/// How to open a log. Build it from the default:
///
/// ```
/// use std::time::Duration;
/// use cairn_wal::{Options, SyncPolicy};
///
/// let options = Options::default()
///     .segment_size(32 << 20)
///     .sync(SyncPolicy::Interval(Duration::from_secs(1)));
/// assert_eq!(options.max_record_len(), 33_550_832);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    segment_size: u64,
    sync: SyncPolicy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            segment_size: DEFAULT_SEGMENT_SIZE,
            sync: SyncPolicy::EveryCommit,
        }
    }
}

impl Options {
    /// The largest a segment file grows, header included: 128 MiB by default, between
    /// [`MIN_SEGMENT_SIZE`] and [`MAX_SEGMENT_SIZE`] ([`Wal::open`] checks).
    #[must_use]
    pub fn segment_size(mut self, bytes: u64) -> Self {
        self.segment_size = bytes;
        self
    }

    /// When commits sync; [`SyncPolicy::EveryCommit`] by default.
    #[must_use]
    pub fn sync(mut self, policy: SyncPolicy) -> Self {
        self.sync = policy;
        self
    }

    /// The segment size set.
    pub fn segment_bytes(&self) -> u64 {
        self.segment_size
    }

    /// The sync policy set.
    pub fn sync_policy(&self) -> SyncPolicy {
        self.sync
    }

    /// The largest record a log with these options accepts: what fits in one empty segment
    /// (see [`max_record_len`](crate::format::max_record_len)).
    pub fn max_record_len(&self) -> usize {
        max_record_len(self.segment_size)
    }
}

/// What [`Wal::open`] found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// The oldest segment kept, if any was found.
    pub first_segment: Option<u32>,
    /// The newest segment kept, if any was found.
    pub last_segment: Option<u32>,
    /// Whole records found (and kept) in the kept segments.
    pub records: u64,
    /// Their payload bytes.
    pub record_bytes: u64,
    /// The first corruption found; everything from its `record_start` on was dropped.
    pub corruption: Option<Corruption>,
    /// The segment cut back to its last whole record, if one was.
    pub truncated: Option<Truncation>,
    /// Segments removed: those after a corrupt one, newest first, then the corrupt one itself
    /// when its header was damaged.
    pub removed: Vec<RemovedSegment>,
}

impl Recovery {
    /// Whether the log was found whole: no corruption, nothing cut or removed.
    pub fn is_clean(&self) -> bool {
        self.corruption.is_none()
    }
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.first_segment, self.last_segment) {
            (Some(a), Some(b)) => write!(
                f,
                "{} records ({} bytes) in segments {a}..={b}",
                self.records, self.record_bytes
            )?,
            _ => write!(f, "no segments")?,
        }
        if let Some(c) = &self.corruption {
            write!(f, "; {c}")?;
        }
        if let Some(t) = &self.truncated {
            write!(f, "; {t}")?;
        }
        for r in &self.removed {
            write!(f, "; {r}")?;
        }
        Ok(())
    }
}

/// A segment cut back to its last whole record by [`Wal::open`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Truncation {
    /// The segment file.
    pub path: PathBuf,
    /// Its segment number.
    pub segment: u32,
    /// Its length before.
    pub old_len: u64,
    /// Its length now: the offset it was cut at.
    pub new_len: u64,
}

impl fmt::Display for Truncation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "truncated {} (segment {}) from {} to {} bytes",
            self.path.display(),
            self.segment,
            self.old_len,
            self.new_len
        )
    }
}

/// A segment removed by [`Wal::open`] because it came after (or was) a corrupt one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemovedSegment {
    /// The segment file.
    pub path: PathBuf,
    /// Its segment number.
    pub segment: u32,
    /// Its length in bytes.
    pub len: u64,
}

impl fmt::Display for RemovedSegment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "removed {} (segment {}, {} bytes)",
            self.path.display(),
            self.segment,
            self.len
        )
    }
}

/// A segmented write-ahead log of opaque records.
///
/// Appends are buffered; [`commit`](Wal::commit) writes them out and syncs by the
/// [`SyncPolicy`]. After any failed write or sync the log refuses further work
/// ([`Error::Poisoned`]): reopen it, which repairs what the failure left. Dropping a log
/// without [`close`](Wal::close) discards records appended since the last commit.
#[derive(Debug)]
pub struct Wal {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    options: Options,
    /// Sealed segments and their lengths.
    sealed: BTreeMap<u32, u64>,
    sealed_bytes: u64,
    /// The segment appended to.
    segment: u32,
    file: Box<dyn StorageFile>,
    /// Bytes of the current segment handed to the storage.
    written: u64,
    /// Bytes appended but not yet handed to the storage; always whole records.
    buf: Vec<u8>,
    /// Whether the current segment has bytes written since its last sync.
    unsynced: bool,
    /// Whether a segment file was created since the directory's last sync.
    dir_dirty: bool,
    last_sync: Instant,
    poisoned: Option<String>,
}

impl Wal {
    /// Opens the log in `dir` on the real file system, creating the directory if needed.
    /// See [`open_with`](Wal::open_with).
    ///
    /// # Errors
    ///
    /// As [`open_with`](Wal::open_with).
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<(Wal, Recovery)> {
        Self::open_with(Arc::new(FsStorage), dir, options)
    }

    /// Opens (or creates) the log in `dir` on `storage`, reading every segment to check it.
    ///
    /// A torn or corrupt segment is repaired so that the log is the longest prefix of whole
    /// records: every segment after the corrupt one is removed (newest first, then the
    /// directory is synced), then the corrupt one is truncated after its last whole record
    /// and synced, or removed when its header is damaged. The returned [`Recovery`] reports
    /// what was found and done. Appending resumes at the end of the newest segment (or in a
    /// new one when none is left). Before returning, open syncs the newest segment and the
    /// directory, so every record it reports is durable.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidSegmentSize`] for a bad option, [`Error::MissingSegment`] when segment
    /// numbers have a hole, [`Error::Unsupported`] for a segment of a newer format (none of
    /// these is repaired), [`Error::Io`] when the storage fails.
    pub fn open_with(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
        options: Options,
    ) -> Result<(Wal, Recovery)> {
        if !(MIN_SEGMENT_SIZE..=MAX_SEGMENT_SIZE).contains(&options.segment_size) {
            return Err(Error::InvalidSegmentSize {
                size: options.segment_size,
            });
        }
        let dir = dir.as_ref().to_path_buf();
        match storage.list(&dir) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                storage
                    .create_dir_all(&dir)
                    .map_err(|e| Error::io("create WAL directory", &dir, e))?;
                if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                    storage
                        .sync_dir(parent)
                        .map_err(|e| Error::io("sync directory", parent, e))?;
                }
            }
            Err(e) => return Err(Error::io("list WAL directory", &dir, e)),
        }
        let mut segments = list_segments(storage.as_ref(), &dir)?;
        let mut recovery = Recovery::default();
        let mut reader = Reader::over(
            Arc::clone(&storage),
            &dir,
            segments.clone(),
            HEADER_LEN as u64,
        );
        loop {
            match reader.next_record() {
                Ok(Some((_, data))) => {
                    recovery.records += 1;
                    recovery.record_bytes += data.len() as u64;
                }
                Ok(None) => break,
                Err(Error::Corrupt(c)) => {
                    recovery.corruption = Some(c);
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        drop(reader);

        // The first segment to create if none is left: numbers never go backwards.
        let mut next_new = segments.last().map_or(0, |&l| l.saturating_add(1));
        if let Some(c) = recovery.corruption.clone() {
            repair(storage.as_ref(), &dir, &segments, &c, &mut recovery)?;
            segments.retain(|&s| s < c.segment || (s == c.segment && recovery.truncated.is_some()));
            next_new = c.segment;
        }
        recovery.first_segment = segments.first().copied();
        recovery.last_segment = segments.last().copied();

        let mut sealed = BTreeMap::new();
        for &s in segments.iter().rev().skip(1) {
            let path = segment_path(&dir, s);
            let len = storage
                .open(&path)
                .and_then(|mut f| f.size())
                .map_err(|e| Error::io("read length of segment", &path, e))?;
            sealed.insert(s, len);
        }
        let (segment, mut file, written) = match segments.last() {
            Some(&last) => {
                let path = segment_path(&dir, last);
                let mut file = storage
                    .open(&path)
                    .map_err(|e| Error::io("open segment", &path, e))?;
                let len = file
                    .size()
                    .map_err(|e| Error::io("read length of segment", &path, e))?;
                (last, file, len)
            }
            None => {
                let file = create_segment(storage.as_ref(), &dir, next_new)?;
                (next_new, file, HEADER_LEN as u64)
            }
        };
        // What was found may have reached only the OS (a process that died before its sync,
        // or a segment whose name was never synced): make it durable before building on it,
        // so that every record open reports survives a crash from here on.
        let path = segment_path(&dir, segment);
        file.sync_data()
            .map_err(|e| Error::io("sync segment", &path, e))?;
        storage
            .sync_dir(&dir)
            .map_err(|e| Error::io("sync directory", &dir, e))?;
        let wal = Wal {
            storage,
            dir,
            options,
            sealed_bytes: sealed.values().sum(),
            sealed,
            segment,
            file,
            written,
            buf: Vec::new(),
            unsynced: false,
            dir_dirty: false,
            last_sync: Instant::now(),
            poisoned: None,
        };
        Ok((wal, recovery))
    }

    /// Reads every record of the log in `dir` on the real file system, without repairing
    /// anything. See [`read_all_with`](Wal::read_all_with).
    ///
    /// # Errors
    ///
    /// As [`read_all_with`](Wal::read_all_with).
    pub fn read_all(dir: impl AsRef<Path>) -> Result<Reader<'static>> {
        Self::read_all_with(Arc::new(FsStorage), dir)
    }

    /// A reader over every record of the log in `dir` on `storage`, oldest first. It reports
    /// a torn tail as an error instead of cutting it; use it on a log no writer has open.
    ///
    /// # Errors
    ///
    /// [`Error::MissingSegment`] when segment numbers have a hole, [`Error::Io`] when the
    /// directory cannot be listed. Reading reports corruption record by record.
    pub fn read_all_with(
        storage: Arc<dyn Storage>,
        dir: impl AsRef<Path>,
    ) -> Result<Reader<'static>> {
        Reader::open(storage, dir.as_ref(), None)
    }

    /// A reader from the record at `from` (see [`RecordPos::start_of`]) to the last record
    /// appended. Appended records are first handed to the storage, so the reader sees all of
    /// them, committed or not.
    ///
    /// # Errors
    ///
    /// [`Error::SegmentNotFound`] or [`Error::BadPosition`] for a position not in the log,
    /// [`Error::Poisoned`] or [`Error::Io`] as for [`commit`](Wal::commit).
    pub fn reader(&mut self, from: RecordPos) -> Result<Reader<'_>> {
        self.check_poisoned()?;
        let r = self.flush();
        self.poison_on_err(r)?;
        Reader::open(Arc::clone(&self.storage), &self.dir, Some(from))
    }

    /// Appends one record, buffered: it is durable only after a [`commit`](Wal::commit) (or,
    /// with [`SyncPolicy::Interval`], a sync) returns `Ok`. A record never spans segments:
    /// when it does not fit in the current segment, that segment is written, synced and
    /// sealed, and a new one started.
    ///
    /// # Errors
    ///
    /// [`Error::RecordTooLarge`] for a record longer than
    /// [`Options::max_record_len`] (the log is unchanged), [`Error::Poisoned`] after an
    /// earlier failure, [`Error::Io`] when writing a full buffer or cutting a segment fails.
    pub fn append(&mut self, record: &[u8]) -> Result<RecordPos> {
        self.check_poisoned()?;
        self.check_len(record.len())?;
        let r = self.append_unchecked(record);
        self.poison_on_err(r)
    }

    /// Appends several records in order, as [`append`](Wal::append) each, and returns their
    /// positions. Every length is checked first, so a record that is too large appends
    /// nothing.
    ///
    /// # Errors
    ///
    /// As [`append`](Wal::append).
    pub fn append_batch<R: AsRef<[u8]>>(&mut self, records: &[R]) -> Result<Vec<RecordPos>> {
        self.check_poisoned()?;
        for r in records {
            self.check_len(r.as_ref().len())?;
        }
        let mut positions = Vec::with_capacity(records.len());
        for r in records {
            let pos = self.append_unchecked(r.as_ref());
            positions.push(self.poison_on_err(pos)?);
        }
        Ok(positions)
    }

    /// Writes every appended record to the storage and syncs as the [`SyncPolicy`] says.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when a write or sync fails; the records of this commit may then be in
    /// the log or not, and the log is poisoned so that nothing after them gets in.
    /// [`Error::Poisoned`] after an earlier failure.
    pub fn commit(&mut self) -> Result<()> {
        self.check_poisoned()?;
        let r = self.flush().and_then(|()| match self.options.sync {
            SyncPolicy::EveryCommit => self.sync_now(),
            SyncPolicy::Interval(every) if self.last_sync.elapsed() >= every => self.sync_now(),
            SyncPolicy::Interval(_) => Ok(()),
        });
        self.poison_on_err(r)
    }

    /// Writes every appended record and syncs now, whatever the policy: the segment, and the
    /// directory when a segment was created since its last sync.
    ///
    /// # Errors
    ///
    /// As [`commit`](Wal::commit).
    pub fn sync(&mut self) -> Result<()> {
        self.check_poisoned()?;
        let r = self.flush().and_then(|()| self.sync_now());
        self.poison_on_err(r)
    }

    /// Seals the current segment (written and synced) and starts the next; returns its number.
    /// Records appended after this go to the new segment, which a checkpoint can use as its
    /// boundary.
    ///
    /// # Errors
    ///
    /// [`Error::SegmentsExhausted`] after segment `u32::MAX`; otherwise as
    /// [`commit`](Wal::commit).
    pub fn cut_segment(&mut self) -> Result<u32> {
        self.check_poisoned()?;
        let r = self.roll();
        self.poison_on_err(r)?;
        Ok(self.segment)
    }

    /// Removes every segment numbered below `segment` (never the current one), oldest first,
    /// then syncs the directory; returns how many were removed. For checkpointing: the
    /// records in those segments must be kept elsewhere first.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when a removal fails (the segments before it are gone, the rest kept) or
    /// the directory sync fails (which poisons the log); [`Error::Poisoned`] after an earlier
    /// failure.
    pub fn truncate_before(&mut self, segment: u32) -> Result<usize> {
        self.check_poisoned()?;
        let limit = segment.min(self.segment);
        let doomed: Vec<u32> = self.sealed.range(..limit).map(|(&s, _)| s).collect();
        for &s in &doomed {
            let path = segment_path(&self.dir, s);
            self.storage
                .remove(&path)
                .map_err(|e| Error::io("remove segment", &path, e))?;
            if let Some(len) = self.sealed.remove(&s) {
                self.sealed_bytes -= len;
            }
        }
        if !doomed.is_empty() {
            let r = self
                .storage
                .sync_dir(&self.dir)
                .map_err(|e| Error::io("sync directory", &self.dir, e));
            self.poison_on_err(r)?;
        }
        Ok(doomed.len())
    }

    /// Writes and syncs everything appended, whatever the policy, and closes the log.
    ///
    /// # Errors
    ///
    /// As [`sync`](Wal::sync).
    pub fn close(mut self) -> Result<()> {
        self.sync()
    }

    /// Bytes the log takes: every segment file, plus records appended but not yet written.
    pub fn size_bytes(&self) -> u64 {
        self.sealed_bytes + self.written + self.buf.len() as u64
    }

    /// The oldest segment.
    pub fn first_segment(&self) -> u32 {
        self.sealed.keys().next().copied().unwrap_or(self.segment)
    }

    /// The segment appended to.
    pub fn current_segment(&self) -> u32 {
        self.segment
    }

    /// The log's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options the log was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    fn check_poisoned(&self) -> Result<()> {
        match &self.poisoned {
            Some(cause) => Err(Error::Poisoned {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    fn poison_on_err<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r
            && self.poisoned.is_none()
        {
            self.poisoned = Some(e.to_string());
        }
        r
    }

    fn check_len(&self, len: usize) -> Result<()> {
        let max = self.options.max_record_len();
        if len > max {
            return Err(Error::RecordTooLarge { len, max });
        }
        Ok(())
    }

    fn append_unchecked(&mut self, record: &[u8]) -> Result<RecordPos> {
        let need = encoded_len(record.len()) as u64;
        if self.written + self.buf.len() as u64 + need > self.options.segment_size {
            self.roll()?;
        }
        let pos = RecordPos {
            segment: self.segment,
            offset: self.written + self.buf.len() as u64,
        };
        encode_record(&mut self.buf, record);
        if self.buf.len() >= WRITE_BUFFER_LEN {
            self.flush()?;
        }
        Ok(pos)
    }

    /// Hands the buffered records to the storage.
    fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.unsynced = true;
        self.file
            .append(&self.buf)
            .map_err(|e| Error::io("write segment", &segment_path(&self.dir, self.segment), e))?;
        self.written += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    fn sync_now(&mut self) -> Result<()> {
        if self.unsynced {
            self.file.sync_data().map_err(|e| {
                Error::io("sync segment", &segment_path(&self.dir, self.segment), e)
            })?;
            self.unsynced = false;
        }
        if self.dir_dirty {
            self.storage
                .sync_dir(&self.dir)
                .map_err(|e| Error::io("sync directory", &self.dir, e))?;
            self.dir_dirty = false;
        }
        self.last_sync = Instant::now();
        Ok(())
    }

    /// Seals the current segment and starts the next. The sealed segment is synced first, so
    /// that a newer segment on disk implies every older one is whole.
    fn roll(&mut self) -> Result<()> {
        let next = self
            .segment
            .checked_add(1)
            .ok_or(Error::SegmentsExhausted)?;
        self.flush()?;
        if self.unsynced {
            self.file.sync_data().map_err(|e| {
                Error::io("sync segment", &segment_path(&self.dir, self.segment), e)
            })?;
            self.unsynced = false;
        }
        let file = create_segment(self.storage.as_ref(), &self.dir, next)?;
        self.sealed.insert(self.segment, self.written);
        self.sealed_bytes += self.written;
        self.file = file;
        self.segment = next;
        self.written = HEADER_LEN as u64;
        self.unsynced = true;
        self.dir_dirty = true;
        Ok(())
    }
}

/// Creates segment `n` and writes its header (not synced).
fn create_segment(storage: &dyn Storage, dir: &Path, n: u32) -> Result<Box<dyn StorageFile>> {
    let path = segment_path(dir, n);
    let mut file = storage
        .create_new(&path)
        .map_err(|e| Error::io("create segment", &path, e))?;
    file.append(&encode_header(n))
        .map_err(|e| Error::io("write segment header", &path, e))?;
    Ok(file)
}

/// Cuts the log back to the records before `c`: removes the later segments newest first and
/// syncs the directory, then truncates (or, with a damaged header, removes) the corrupt one.
/// In this order a crash halfway leaves the same corruption to find on the next open, never
/// a clean segment followed by stale ones.
fn repair(
    storage: &dyn Storage,
    dir: &Path,
    segments: &[u32],
    c: &Corruption,
    recovery: &mut Recovery,
) -> Result<()> {
    let remove = |s: u32, recovery: &mut Recovery| -> Result<()> {
        let path = segment_path(dir, s);
        let len = storage
            .open(&path)
            .and_then(|mut f| f.size())
            .map_err(|e| Error::io("read length of segment", &path, e))?;
        storage
            .remove(&path)
            .map_err(|e| Error::io("remove segment", &path, e))?;
        recovery.removed.push(RemovedSegment {
            path,
            segment: s,
            len,
        });
        Ok(())
    };
    let sync_dir = || {
        storage
            .sync_dir(dir)
            .map_err(|e| Error::io("sync directory", dir, e))
    };
    let later: Vec<u32> = segments
        .iter()
        .rev()
        .copied()
        .filter(|&s| s > c.segment)
        .collect();
    for &s in &later {
        remove(s, recovery)?;
    }
    if !later.is_empty() {
        sync_dir()?;
    }
    if c.record_start < HEADER_LEN as u64 {
        remove(c.segment, recovery)?;
        sync_dir()?;
        return Ok(());
    }
    let mut file = storage
        .open(&c.path)
        .map_err(|e| Error::io("open segment", &c.path, e))?;
    let old_len = file
        .size()
        .map_err(|e| Error::io("read length of segment", &c.path, e))?;
    file.set_len(c.record_start)
        .map_err(|e| Error::io("truncate segment", &c.path, e))?;
    file.sync_data()
        .map_err(|e| Error::io("sync segment", &c.path, e))?;
    recovery.truncated = Some(Truncation {
        path: c.path.clone(),
        segment: c.segment,
        old_len,
        new_len: c.record_start,
    });
    Ok(())
}
