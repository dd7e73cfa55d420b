//! The series file: each series' sample and exemplar chunk metas, by series id.
//!
//! Entries are varint-encoded back to back in id order, followed by a table of their end
//! offsets, so one series' entry is found without decoding the others. The layout is drawn
//! in `FORMAT.md`.

use std::path::{Path, PathBuf};

use super::error::{Error, ErrorKind, Fault};
use super::format::{
    FOOTER_COUNT_OFFSET, FOOTER_CRC_OFFSET, FOOTER_ENDS_CRC_OFFSET, FOOTER_ENTRIES_CRC_OFFSET,
    MAX_SERIES_ENTRIES_LEN, MIN_CHUNK_META_LEN, SERIES_END_LEN, SERIES_FLAGS_OFFSET,
    SERIES_FOOTER_LEN, SERIES_HEADER_CRC_OFFSET, SERIES_HEADER_LEN, SERIES_MAGIC,
    SERIES_MAGIC_OFFSET, SERIES_VERSION, SERIES_VERSION_OFFSET,
};
use super::segment::ChunkKind;
use super::varint::{Cursor, put_uvarint, put_varint};

/// Where a chunk is stored and the time it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChunkMeta {
    /// Timestamp of its first sample (or exemplar), in milliseconds.
    pub mint: i64,
    /// Timestamp of its last sample (or exemplar), inclusive.
    pub maxt: i64,
    /// Its reference in the block: segment index in the upper 32 bits, byte offset within
    /// the segment in the lower 32 (see [`Block::chunk`](super::Block::chunk)).
    pub chunk_ref: u64,
}

/// The chunk metas of one series, each list in time order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeriesChunks {
    /// Its sample chunks.
    pub samples: Vec<ChunkMeta>,
    /// Its exemplar chunks.
    pub exemplars: Vec<ChunkMeta>,
}

/// The first rule of a block (`FORMAT.md`, "Rules") that a chunk covering `mint..=maxt`
/// breaks, given the previous chunk of its kind in its series and the block's time range
/// `[min_time, max_time)`.
pub(crate) fn broken_time_rule(
    kind: ChunkKind,
    (mint, maxt): (i64, i64),
    prev: Option<(i64, i64)>,
    (min_time, max_time): (i64, i64),
) -> Option<&'static str> {
    if mint > maxt {
        return Some("its mint is after its maxt");
    }
    if mint < min_time || maxt >= max_time {
        return Some("it lies outside the block's time range");
    }
    match (kind, prev) {
        (ChunkKind::Sample, Some((_, prev_maxt))) if mint <= prev_maxt => {
            Some("it does not start after the previous sample chunk ends")
        }
        (ChunkKind::Exemplar, Some((prev_mint, _))) if mint < prev_mint => {
            Some("it starts before the previous exemplar chunk")
        }
        _ => None,
    }
}

/// Builds a series file: one entry per series, in id order.
///
/// The encoding is total: any metas round-trip, whatever their order (the block writer
/// enforces the block's rules before it gets here).
#[derive(Debug)]
pub struct SeriesFileWriter {
    path: PathBuf,
    entries: Vec<u8>,
    ends: Vec<u32>,
}

impl SeriesFileWriter {
    /// A writer of the file that will be at `path` (named in its errors).
    pub fn new(path: impl Into<PathBuf>) -> SeriesFileWriter {
        SeriesFileWriter {
            path: path.into(),
            entries: Vec::new(),
            ends: Vec::new(),
        }
    }

    /// Adds the next series and returns its id.
    ///
    /// # Errors
    /// [`ErrorKind::TooLarge`] past `u32::MAX` series (ids `0..u32::MAX`, as the index's) or
    /// 4 GiB of entries; the writer is left as it was.
    pub fn add(&mut self, series: &SeriesChunks) -> Result<u32, Error> {
        // Ids stay below u32::MAX, so the count fits a u32.
        let id = u32::try_from(self.ends.len())
            .ok()
            .filter(|&id| id < u32::MAX)
            .ok_or_else(|| {
                Error::file(&self.path, ErrorKind::TooLarge("2^32 − 1 series or more"))
            })?;
        let start = self.entries.len();
        encode_entry(&mut self.entries, series);
        match u32::try_from(self.entries.len()) {
            Ok(end) if u64::from(end) <= MAX_SERIES_ENTRIES_LEN => {
                self.ends.push(end);
                Ok(id)
            }
            _ => {
                self.entries.truncate(start);
                Err(Error::file(
                    &self.path,
                    ErrorKind::TooLarge("series entries exceed 4 GiB"),
                ))
            }
        }
    }

    /// How many series were added.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no series was added.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The file's bytes.
    pub fn finish(self) -> Vec<u8> {
        let table_len = self.ends.len() * SERIES_END_LEN;
        let mut out = Vec::with_capacity(
            SERIES_HEADER_LEN + self.entries.len() + table_len + SERIES_FOOTER_LEN,
        );
        out.extend_from_slice(&SERIES_MAGIC);
        out.push(SERIES_VERSION);
        out.extend_from_slice(&[0; 3]);
        out.extend_from_slice(&crc32c::crc32c(&out).to_le_bytes());
        out.extend_from_slice(&self.entries);
        let table_start = out.len();
        for end in &self.ends {
            out.extend_from_slice(&end.to_le_bytes());
        }
        let table_crc = crc32c::crc32c(out.get(table_start..).unwrap_or_default());
        let footer_start = out.len();
        // `add` keeps the count within u32.
        let count = u32::try_from(self.ends.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&crc32c::crc32c(&self.entries).to_le_bytes());
        out.extend_from_slice(&table_crc.to_le_bytes());
        let footer_crc = crc32c::crc32c(out.get(footer_start..).unwrap_or_default());
        out.extend_from_slice(&footer_crc.to_le_bytes());
        out
    }
}

/// Appends one series' entry: its two chunk counts, then its sample and exemplar metas.
fn encode_entry(buf: &mut Vec<u8>, series: &SeriesChunks) {
    put_uvarint(buf, series.samples.len() as u64);
    put_uvarint(buf, series.exemplars.len() as u64);
    encode_metas(buf, &series.samples);
    encode_metas(buf, &series.exemplars);
}

/// The first meta in full, each next one against the one before: `mint` from the previous
/// `maxt`, `chunk_ref` from the previous reference. Differences wrap, so nothing overflows.
fn encode_metas(buf: &mut Vec<u8>, metas: &[ChunkMeta]) {
    let mut prev: Option<&ChunkMeta> = None;
    for meta in metas {
        match prev {
            None => put_varint(buf, meta.mint),
            Some(p) => put_varint(buf, meta.mint.wrapping_sub(p.maxt)),
        }
        put_uvarint(buf, meta.maxt.wrapping_sub(meta.mint).cast_unsigned());
        match prev {
            None => put_uvarint(buf, meta.chunk_ref),
            Some(p) => put_varint(buf, meta.chunk_ref.wrapping_sub(p.chunk_ref).cast_signed()),
        }
        prev = Some(meta);
    }
}

fn decode_entry(c: &mut Cursor<'_>) -> Result<SeriesChunks, Fault> {
    let start = c.pos();
    let samples = c.uvarint("a sample chunk count")?;
    let exemplars = c.uvarint("an exemplar chunk count")?;
    // Check the counts against the bytes left before allocating for them.
    let fits = samples
        .checked_add(exemplars)
        .and_then(|n| n.checked_mul(MIN_CHUNK_META_LEN as u64))
        .is_some_and(|need| need <= c.remaining() as u64);
    if !fits {
        return Err(Fault::new(
            start,
            ErrorKind::Malformed("chunk counts promise more metas than the entry holds"),
        ));
    }
    let series = SeriesChunks {
        samples: decode_metas(c, samples)?,
        exemplars: decode_metas(c, exemplars)?,
    };
    if c.remaining() != 0 {
        return Err(Fault::new(
            c.pos(),
            ErrorKind::Malformed("bytes follow the last chunk meta of the entry"),
        ));
    }
    Ok(series)
}

fn decode_metas(c: &mut Cursor<'_>, count: u64) -> Result<Vec<ChunkMeta>, Fault> {
    let mut metas: Vec<ChunkMeta> = Vec::new();
    for _ in 0..count {
        let prev = metas.last().copied();
        let mint = match prev {
            None => c.varint("a chunk's mint")?,
            Some(p) => p.maxt.wrapping_add(c.varint("a chunk's mint")?),
        };
        let maxt = mint.wrapping_add(c.uvarint("a chunk's maxt")?.cast_signed());
        let chunk_ref = match prev {
            None => c.uvarint("a chunk reference")?,
            Some(p) => p
                .chunk_ref
                .wrapping_add(c.varint("a chunk reference")?.cast_unsigned()),
        };
        metas.push(ChunkMeta {
            mint,
            maxt,
            chunk_ref,
        });
    }
    Ok(metas)
}

/// Reads a series file written by [`SeriesFileWriter`], in place.
///
/// [`SeriesFile::from_bytes`] checks the header, the footer, every checksum and the offset
/// table once; [`SeriesFile::get`] then decodes one entry, still bounds-checked.
#[derive(Debug)]
pub struct SeriesFile<B> {
    path: PathBuf,
    bytes: B,
    count: u32,
    /// Absolute offset of the offset table (where the entries end).
    table: usize,
}

impl<B: AsRef<[u8]>> SeriesFile<B> {
    /// Checks `bytes`, the series file at `path` (named in errors), and opens it.
    ///
    /// # Errors
    /// The first problem found, with its byte offset: a short file, a bad magic, a header or
    /// footer checksum, another version, a series count the file cannot hold, the entries'
    /// or offset table's checksum, end offsets out of order.
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: B) -> Result<SeriesFile<B>, Error> {
        let path = path.into();
        let (count, table) = check(bytes.as_ref()).map_err(|f| f.in_file(&path))?;
        Ok(SeriesFile {
            path,
            bytes,
            count,
            table,
        })
    }

    /// The file's path, as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// How many series the file holds.
    pub fn series_count(&self) -> u32 {
        self.count
    }

    /// The chunk metas of series `id`.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchSeries`] for an id past the count; a malformed entry (possible only
    /// in a file whose checksums were forged) with its offset.
    pub fn get(&self, id: u32) -> Result<SeriesChunks, Error> {
        let (start, end) = self.entry_range(id)?;
        let bytes = self.as_bytes().get(..end).unwrap_or_default();
        decode_entry(&mut Cursor::at(bytes, start)).map_err(|f| f.in_file(&self.path))
    }

    /// Absolute byte range of series `id`'s entry.
    pub(crate) fn entry_range(&self, id: u32) -> Result<(usize, usize), Error> {
        let no_such = || {
            Error::file(
                &self.path,
                ErrorKind::NoSuchSeries {
                    id,
                    count: self.count,
                },
            )
        };
        if id >= self.count {
            return Err(no_such());
        }
        let end_at = |i: u32| self.table + i as usize * SERIES_END_LEN;
        let bytes = self.as_bytes();
        let start = match id.checked_sub(1) {
            None => 0,
            Some(prev) => u32_le(bytes, end_at(prev)).ok_or_else(no_such)?,
        };
        let end = u32_le(bytes, end_at(id)).ok_or_else(no_such)?;
        Ok((
            SERIES_HEADER_LEN + start as usize,
            SERIES_HEADER_LEN + end as usize,
        ))
    }
}

/// Checks a series file and returns its series count and the offset of its offset table.
fn check(b: &[u8]) -> Result<(u32, usize), Fault> {
    if b.len() < SERIES_HEADER_LEN + SERIES_FOOTER_LEN {
        return Err(Fault::new(
            b.len(),
            ErrorKind::Truncated {
                what: "the header and footer",
            },
        ));
    }
    check_header(b)?;
    let footer = b.len() - SERIES_FOOTER_LEN;
    check_crc(b, footer, footer + FOOTER_CRC_OFFSET, "footer")?;
    let count = u32_le(b, footer + FOOTER_COUNT_OFFSET).unwrap_or_default();
    let table = (count as usize)
        .checked_mul(SERIES_END_LEN)
        .and_then(|len| footer.checked_sub(len))
        .filter(|&table| table >= SERIES_HEADER_LEN)
        .ok_or_else(|| {
            Fault::new(
                footer + FOOTER_COUNT_OFFSET,
                ErrorKind::Malformed("the series count does not fit in the file"),
            )
        })?;
    check_region_crc(
        b,
        SERIES_HEADER_LEN,
        table,
        footer + FOOTER_ENTRIES_CRC_OFFSET,
        "entries",
    )?;
    check_region_crc(
        b,
        table,
        footer,
        footer + FOOTER_ENDS_CRC_OFFSET,
        "offset table",
    )?;
    check_ends(b, table, footer)?;
    Ok((count, table))
}

fn check_header(b: &[u8]) -> Result<(), Fault> {
    let found = b
        .get(SERIES_MAGIC_OFFSET..)
        .and_then(|m| m.first_chunk::<4>())
        .copied()
        .unwrap_or_default();
    if found != SERIES_MAGIC {
        return Err(Fault::new(
            SERIES_MAGIC_OFFSET,
            ErrorKind::BadMagic {
                expected: SERIES_MAGIC,
                found,
            },
        ));
    }
    check_crc(b, 0, SERIES_HEADER_CRC_OFFSET, "header")?;
    let version = b.get(SERIES_VERSION_OFFSET).copied().unwrap_or_default();
    if version != SERIES_VERSION {
        return Err(Fault::new(
            SERIES_VERSION_OFFSET,
            ErrorKind::Unsupported {
                field: "version",
                found: version.into(),
            },
        ));
    }
    let flags = b
        .get(SERIES_FLAGS_OFFSET..SERIES_HEADER_CRC_OFFSET)
        .unwrap_or_default();
    if flags.iter().any(|&f| f != 0) {
        return Err(Fault::new(
            SERIES_FLAGS_OFFSET,
            ErrorKind::Unsupported {
                field: "flags",
                found: flags.iter().fold(0, |acc, &f| acc << 8 | u64::from(f)),
            },
        ));
    }
    Ok(())
}

/// Checks that the CRC32C at `crc_at` covers `start..crc_at`.
fn check_crc(b: &[u8], start: usize, crc_at: usize, what: &'static str) -> Result<(), Fault> {
    check_region_crc(b, start, crc_at, crc_at, what)
}

/// Checks that the CRC32C at `crc_at` covers `start..end`; a mismatch is reported at `start`.
fn check_region_crc(
    b: &[u8],
    start: usize,
    end: usize,
    crc_at: usize,
    what: &'static str,
) -> Result<(), Fault> {
    let stored = u32_le(b, crc_at).unwrap_or_default();
    let computed = crc32c::crc32c(b.get(start..end).unwrap_or_default());
    if stored == computed {
        Ok(())
    } else {
        Err(Fault::new(
            start,
            ErrorKind::Checksum {
                what,
                stored,
                computed,
            },
        ))
    }
}

/// End offsets never decrease and the last one is where the entries end.
fn check_ends(b: &[u8], table: usize, footer: usize) -> Result<(), Fault> {
    let entries_len = table - SERIES_HEADER_LEN;
    let mut prev = 0;
    let mut at = table;
    while at < footer {
        let end = u32_le(b, at).unwrap_or_default() as usize;
        if end < prev || end > entries_len {
            return Err(Fault::new(
                at,
                ErrorKind::Malformed("series end offsets decrease or pass the entries"),
            ));
        }
        prev = end;
        at += SERIES_END_LEN;
    }
    if prev != entries_len {
        return Err(Fault::new(
            SERIES_HEADER_LEN + prev,
            ErrorKind::Malformed("bytes after the last series entry"),
        ));
    }
    Ok(())
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    let word = b.get(at..)?.first_chunk::<4>()?;
    Some(u32::from_le_bytes(*word))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(mint: i64, maxt: i64, chunk_ref: u64) -> ChunkMeta {
        ChunkMeta {
            mint,
            maxt,
            chunk_ref,
        }
    }

    #[test]
    fn entry_of_extremes_round_trips() {
        let series = SeriesChunks {
            samples: vec![
                meta(i64::MAX, i64::MIN, u64::MAX),
                meta(i64::MIN, i64::MAX, 0),
            ],
            exemplars: vec![meta(-1, -1, 1 << 32)],
        };
        let mut w = SeriesFileWriter::new("series");
        w.add(&series).unwrap();
        let file = SeriesFile::from_bytes("series", w.finish()).unwrap();
        assert_eq!(file.get(0).unwrap(), series);
    }

    #[test]
    fn count_that_does_not_fit_is_refused_before_allocating() {
        // Counts of u64::MAX / 2 each with no metas behind them.
        let mut buf = Vec::new();
        put_uvarint(&mut buf, u64::MAX / 2);
        put_uvarint(&mut buf, u64::MAX / 2);
        let err = decode_entry(&mut Cursor::at(&buf, 0)).unwrap_err();
        assert_eq!(err.offset, 0);
        assert!(matches!(err.kind, ErrorKind::Malformed(_)));
    }
}
