//! Reading records back, in order, across segments.

use std::marker::PhantomData;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::RecordPos;
use crate::error::{Corruption, CorruptionReason, Error, Result};
use crate::format::{
    FRAGMENT_HEADER_LEN, FRAGMENT_TYPE_OFFSET, FragmentType, HEADER_LEN, HeaderError,
    MAX_RECORD_LEN, Parsed, check_header, parse_fragment,
};
use crate::segments::{list_segments, segment_path};
use crate::storage::{Storage, StorageFile};

/// Bytes read from a segment at a time. At least one whole fragment (header and largest
/// payload), so the window never needs to grow past this.
const READ_AHEAD: usize = 128 * 1024;
const _: () = assert!(READ_AHEAD >= FRAGMENT_HEADER_LEN + crate::format::MAX_FRAGMENT_LEN);

/// Reads records in order, with their positions, across segments.
///
/// Use [`next_record`](Reader::next_record) to borrow each record without copying (valid until
/// the next call), or iterate to get owned ones. A corrupt or torn segment ends the reading
/// with an [`Error::Corrupt`] naming the file, segment and byte offset; after any error the
/// reader is finished. Memory stays bounded whatever the bytes say: a fragment's length is a
/// `u16`, reads go through a window of 128 KiB, and a record grows only by fragments whose
/// checksum holds, up to [`MAX_RECORD_LEN`].
///
/// The lifetime ties a reader made by [`Wal::reader`](crate::Wal::reader) to its log, so that
/// nothing is appended while it reads.
#[derive(Debug)]
pub struct Reader<'w> {
    storage: Arc<dyn Storage>,
    dir: PathBuf,
    /// Segments still to open, in order.
    segments: std::vec::IntoIter<u32>,
    /// Where reading starts in the first segment opened.
    start_offset: u64,
    cur: Option<Cursor>,
    /// The record being assembled from first, middle and last fragments.
    record: Vec<u8>,
    in_record: bool,
    record_start: u64,
    done: bool,
    _wal: PhantomData<&'w mut ()>,
}

/// Where the record just read lies.
enum Found {
    /// A full fragment: the record is this range of the cursor's window.
    Window(RecordPos, Range<usize>),
    /// Assembled from several fragments in `Reader::record`.
    Assembled(RecordPos),
}

impl<'w> Reader<'w> {
    /// A reader from `from` (or the first record of the oldest segment) to the end of the
    /// newest segment found in `dir` now.
    pub(crate) fn open(
        storage: Arc<dyn Storage>,
        dir: &Path,
        from: Option<RecordPos>,
    ) -> Result<Reader<'w>> {
        let mut segments = list_segments(storage.as_ref(), dir)?;
        let mut start_offset = HEADER_LEN as u64;
        if let Some(from) = from {
            if !segments.contains(&from.segment) {
                return Err(Error::SegmentNotFound {
                    dir: dir.to_path_buf(),
                    segment: from.segment,
                });
            }
            segments.retain(|&s| s >= from.segment);
            start_offset = from.offset;
        }
        Ok(Self::over(storage, dir, segments, start_offset))
    }

    /// A reader over exactly `segments` (sorted, contiguous).
    pub(crate) fn over(
        storage: Arc<dyn Storage>,
        dir: &Path,
        segments: Vec<u32>,
        start_offset: u64,
    ) -> Reader<'w> {
        Reader {
            storage,
            dir: dir.to_path_buf(),
            segments: segments.into_iter(),
            start_offset,
            cur: None,
            record: Vec::new(),
            in_record: false,
            record_start: 0,
            done: false,
            _wal: PhantomData,
        }
    }

    /// The next record and its position, borrowed until the next call; `Ok(None)` at the end.
    ///
    /// # Errors
    ///
    /// [`Error::Corrupt`] at the first damaged or torn byte, [`Error::Unsupported`] for a
    /// segment of a newer format, [`Error::Io`] when the storage fails. The reader is finished
    /// after an error.
    pub fn next_record(&mut self) -> Result<Option<(RecordPos, &[u8])>> {
        if self.done {
            return Ok(None);
        }
        match self.advance() {
            Ok(Some(Found::Window(pos, range))) => {
                let window = self.cur.as_ref().map(|c| c.buf.as_slice());
                Ok(Some((
                    pos,
                    window.and_then(|b| b.get(range)).unwrap_or_default(),
                )))
            }
            Ok(Some(Found::Assembled(pos))) => Ok(Some((pos, &self.record))),
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(e) => {
                self.done = true;
                Err(e)
            }
        }
    }

    fn advance(&mut self) -> Result<Option<Found>> {
        loop {
            let Some(cur) = self.cur.as_mut() else {
                let Some(segment) = self.segments.next() else {
                    return Ok(None);
                };
                let offset = std::mem::replace(&mut self.start_offset, HEADER_LEN as u64);
                self.cur = Some(Cursor::open(
                    self.storage.as_ref(),
                    &self.dir,
                    segment,
                    offset,
                )?);
                continue;
            };
            let at = cur.offset();
            if !self.in_record {
                self.record_start = at;
            }
            let record_start = self.record_start;
            cur.fill(FRAGMENT_HEADER_LEN)?;
            if cur.window().is_empty() {
                if self.in_record {
                    return Err(cur.corrupt(at, record_start, CorruptionReason::IncompleteRecord));
                }
                self.cur = None;
                continue;
            }
            let mut parsed = parse_fragment(cur.window());
            if let Parsed::Incomplete { needed } = parsed {
                cur.fill(needed)?;
                parsed = parse_fragment(cur.window());
            }
            let (kind, len) = match parsed {
                Parsed::Fragment { kind, len } => (kind, len),
                Parsed::Incomplete { needed } => {
                    let reason = CorruptionReason::TruncatedFragment {
                        needed: needed as u64,
                        available: cur.window().len() as u64,
                    };
                    return Err(cur.corrupt(cur.len, record_start, reason));
                }
                Parsed::Corrupt { offset, reason } => {
                    return Err(cur.corrupt(at + offset as u64, record_start, reason));
                }
            };
            let payload = cur.pos + FRAGMENT_HEADER_LEN..cur.pos + FRAGMENT_HEADER_LEN + len;
            cur.pos = payload.end;
            let pos = RecordPos {
                segment: cur.segment,
                offset: record_start,
            };
            let unexpected = |in_record| CorruptionReason::UnexpectedFragment {
                found: kind,
                in_record,
            };
            match (kind, self.in_record) {
                (FragmentType::Full, false) => return Ok(Some(Found::Window(pos, payload))),
                (FragmentType::First, false) => {
                    self.in_record = true;
                    self.record.clear();
                }
                (FragmentType::Middle | FragmentType::Last, true) => {}
                (_, in_record) => {
                    let at = at + FRAGMENT_TYPE_OFFSET as u64;
                    return Err(cur.corrupt(at, record_start, unexpected(in_record)));
                }
            }
            let grown = self.record.len() + len;
            if grown > MAX_RECORD_LEN {
                let reason = CorruptionReason::RecordTooLarge { len: grown as u64 };
                return Err(cur.corrupt(at, record_start, reason));
            }
            self.record
                .extend_from_slice(cur.buf.get(payload).unwrap_or_default());
            if kind == FragmentType::Last {
                self.in_record = false;
                return Ok(Some(Found::Assembled(pos)));
            }
        }
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<(RecordPos, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_record() {
            Ok(Some((pos, data))) => Some(Ok((pos, data.to_vec()))),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// A window over one segment file.
#[derive(Debug)]
struct Cursor {
    segment: u32,
    path: PathBuf,
    file: Box<dyn StorageFile>,
    /// The file's length when it was opened.
    len: u64,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    start: u64,
    /// Index in `buf` of the next unread byte.
    pos: usize,
}

impl Cursor {
    /// Opens segment `segment`, checks its header and moves to `offset`.
    fn open(storage: &dyn Storage, dir: &Path, segment: u32, offset: u64) -> Result<Cursor> {
        let path = segment_path(dir, segment);
        let mut file = storage
            .open(&path)
            .map_err(|e| Error::io("open segment", &path, e))?;
        let len = file
            .size()
            .map_err(|e| Error::io("read length of segment", &path, e))?;
        let mut cur = Cursor {
            segment,
            path,
            file,
            len,
            buf: Vec::new(),
            start: 0,
            pos: 0,
        };
        cur.fill(HEADER_LEN)?;
        match check_header(cur.window(), segment) {
            Ok(()) => {}
            Err(HeaderError::Corrupt { offset, reason }) => {
                return Err(cur.corrupt(offset, 0, reason));
            }
            Err(HeaderError::Unsupported(u)) => {
                return Err(Error::Unsupported {
                    path: cur.path,
                    segment,
                    version: u.version,
                    flags: u.flags,
                });
            }
        }
        if offset < HEADER_LEN as u64 || offset > len {
            return Err(Error::BadPosition {
                pos: RecordPos { segment, offset },
                len,
            });
        }
        cur.buf.clear();
        cur.start = offset;
        Ok(cur)
    }

    fn offset(&self) -> u64 {
        self.start + self.pos as u64
    }

    fn window(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Makes at least `n` bytes available in the window, or all that are left in the file.
    /// `n` is at most a fragment, so the buffer stays within [`READ_AHEAD`].
    fn fill(&mut self, n: usize) -> Result<()> {
        if self.window().len() >= n {
            return Ok(());
        }
        self.buf.drain(..self.pos.min(self.buf.len()));
        self.start += self.pos as u64;
        self.pos = 0;
        let end = self.start + self.buf.len() as u64;
        let left = usize::try_from(self.len.saturating_sub(end)).unwrap_or(usize::MAX);
        let want = n.max(READ_AHEAD).saturating_sub(self.buf.len()).min(left);
        let mut filled = self.buf.len();
        self.buf.resize(filled + want, 0);
        while filled < self.buf.len() {
            let dst = self.buf.get_mut(filled..).unwrap_or_default();
            let got = self
                .file
                .read_at(self.start + filled as u64, dst)
                .map_err(|e| Error::io("read segment", &self.path, e))?;
            if got == 0 {
                // The file shrank since it was opened; what is missing reads as a torn tail.
                break;
            }
            filled += got;
        }
        self.buf.truncate(filled);
        Ok(())
    }

    fn corrupt(&self, offset: u64, record_start: u64, reason: CorruptionReason) -> Error {
        Error::Corrupt(Corruption {
            path: self.path.clone(),
            segment: self.segment,
            offset,
            record_start,
            reason,
        })
    }
}
