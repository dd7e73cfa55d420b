//! Chunk segments, in Prometheus' chunks file layout: `chunks/` for sample chunks,
//! `exemplars/` for exemplar chunks.
//!
//! A segment is a header and chunks back to back: uvarint data length, encoding byte, data,
//! big-endian CRC32C of encoding and data. A chunk reference is the segment's index (0 for
//! file `000001`) in the upper 32 bits and the chunk's offset in the lower 32, as
//! Prometheus' block chunk references.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use cairn_chunkenc::ENCODING_XOR;
use cairn_chunkenc::exemplar::ENCODING_EXEMPLAR;

use super::error::{Error, ErrorKind, Fault};
use super::format::{
    CHUNK_ENCODING_LEN, CHUNK_REF_OFFSET_BITS, CHUNKS_DIR, EXEMPLARS_DIR, MAX_CHUNK_LEN,
    SEGMENT_HEADER_LEN, SEGMENT_MAGIC, SEGMENT_MAGIC_OFFSET, SEGMENT_PADDING_OFFSET,
    SEGMENT_VERSION, SEGMENT_VERSION_OFFSET,
};
use super::reader::map_file;
use super::varint::{Cursor, put_uvarint};
use crate::mmap::Map;

/// The two kinds of chunks a block stores, each in its own segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChunkKind {
    /// XOR sample chunks, in `chunks/`.
    Sample,
    /// Exemplar chunks, in `exemplars/`.
    Exemplar,
}

impl ChunkKind {
    /// The directory of its segments, in the block directory.
    pub(crate) fn dir(self) -> &'static str {
        match self {
            ChunkKind::Sample => CHUNKS_DIR,
            ChunkKind::Exemplar => EXEMPLARS_DIR,
        }
    }

    /// The encoding byte its chunks carry.
    pub(crate) fn encoding(self) -> u8 {
        match self {
            ChunkKind::Sample => ENCODING_XOR,
            ChunkKind::Exemplar => ENCODING_EXEMPLAR,
        }
    }

    /// `"sample"` or `"exemplar"`, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ChunkKind::Sample => "sample",
            ChunkKind::Exemplar => "exemplar",
        }
    }
}

/// File name of the segment at `index`: the index plus one, six digits or more.
pub(crate) fn segment_name(index: u64) -> String {
    format!("{:06}", index.saturating_add(1))
}

/// The index of the segment named `name`, if it is a segment name.
pub(crate) fn parse_segment_name(name: &str) -> Option<u64> {
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let index = name.parse::<u64>().ok()?.checked_sub(1)?;
    (segment_name(index) == name).then_some(index)
}

fn split_ref(chunk_ref: u64) -> (u64, u64) {
    (
        chunk_ref >> CHUNK_REF_OFFSET_BITS,
        chunk_ref & u64::from(u32::MAX),
    )
}

/// Writes one kind of chunks into numbered segments, cutting a new one at the size limit.
#[derive(Debug)]
pub(crate) struct SegmentWriter {
    dir: PathBuf,
    max_size: u64,
    current: Option<Current>,
    /// Sizes of the segments finished so far.
    sizes: Vec<u64>,
    entry: Vec<u8>,
}

#[derive(Debug)]
struct Current {
    path: PathBuf,
    file: BufWriter<File>,
    len: u64,
}

impl SegmentWriter {
    /// Creates the kind's directory in `block_dir`; segments are created as chunks come.
    pub(crate) fn create(
        block_dir: &Path,
        kind: ChunkKind,
        max_size: u64,
    ) -> Result<SegmentWriter, Error> {
        let dir = block_dir.join(kind.dir());
        fs::create_dir(&dir).map_err(|e| Error::io(&dir, "create directory", e))?;
        Ok(SegmentWriter {
            dir,
            max_size,
            current: None,
            sizes: Vec::new(),
            entry: Vec::new(),
        })
    }

    /// Sets the size at which the next segment is cut.
    pub(crate) fn set_max_size(&mut self, max_size: u64) {
        self.max_size = max_size;
    }

    /// Appends a chunk of `encoding` and returns its reference.
    pub(crate) fn write(&mut self, encoding: u8, data: &[u8]) -> Result<u64, Error> {
        self.entry.clear();
        put_uvarint(&mut self.entry, data.len() as u64);
        self.entry.push(encoding);
        self.entry.extend_from_slice(data);
        let crc = crc32c::crc32c_append(crc32c::crc32c(&[encoding]), data);
        self.entry.extend_from_slice(&crc.to_be_bytes());

        let entry_len = self.entry.len() as u64;
        let full = self.current.as_ref().is_some_and(|c| {
            c.len > SEGMENT_HEADER_LEN as u64 && c.len.saturating_add(entry_len) > self.max_size
        });
        if full {
            self.seal()?;
        }
        let index = self.sizes.len();
        let current = match &mut self.current {
            Some(current) => current,
            None => self.current.insert(self.cut(index)?),
        };
        let (Ok(index), Ok(offset)) = (u32::try_from(index), u32::try_from(current.len)) else {
            return Err(Error::file(
                &current.path,
                ErrorKind::TooLarge("a chunk reference past 2^32 segments or 4 GiB"),
            ));
        };
        current
            .file
            .write_all(&self.entry)
            .map_err(|e| Error::io(&current.path, "write", e))?;
        current.len += entry_len;
        Ok(u64::from(index) << CHUNK_REF_OFFSET_BITS | u64::from(offset))
    }

    /// Creates segment `index` and writes its header.
    fn cut(&self, index: usize) -> Result<Current, Error> {
        let path = self.dir.join(segment_name(index as u64));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&path, "create", e))?;
        let mut file = BufWriter::new(file);
        let mut header = Vec::with_capacity(SEGMENT_HEADER_LEN);
        header.extend_from_slice(&SEGMENT_MAGIC.to_be_bytes());
        header.push(SEGMENT_VERSION);
        header.resize(SEGMENT_HEADER_LEN, 0);
        file.write_all(&header)
            .map_err(|e| Error::io(&path, "write", e))?;
        Ok(Current {
            path,
            file,
            len: SEGMENT_HEADER_LEN as u64,
        })
    }

    /// Flushes and fsyncs the current segment, if any, and records its size.
    fn seal(&mut self) -> Result<(), Error> {
        if let Some(current) = self.current.take() {
            let file = current
                .file
                .into_inner()
                .map_err(|e| Error::io(&current.path, "write", e.into_error()))?;
            file.sync_all()
                .map_err(|e| Error::io(&current.path, "sync", e))?;
            self.sizes.push(current.len);
        }
        Ok(())
    }

    /// Seals the last segment, fsyncs the directory and returns every segment's size.
    pub(crate) fn finish(&mut self) -> Result<Vec<u64>, Error> {
        self.seal()?;
        sync_dir(&self.dir)?;
        Ok(std::mem::take(&mut self.sizes))
    }
}

/// Makes a directory's entries durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, "sync directory", e))
}

/// The mapped segments of one kind of chunks.
#[derive(Debug)]
pub(crate) struct Segments {
    dir: PathBuf,
    kind: ChunkKind,
    maps: Vec<Map>,
}

impl Segments {
    /// Maps the segments of `kind` in `block_dir`, whose sizes `meta.json` records, and
    /// checks their sizes and headers.
    pub(crate) fn open(block_dir: &Path, kind: ChunkKind, sizes: &[u64]) -> Result<Self, Error> {
        let dir = block_dir.join(kind.dir());
        let mut maps = Vec::with_capacity(sizes.len());
        for (index, &recorded) in sizes.iter().enumerate() {
            let path = dir.join(segment_name(index as u64));
            let map = map_file(&path, recorded)?;
            check_header(&map).map_err(|f| f.in_file(&path))?;
            maps.push(map);
        }
        Ok(Segments { dir, kind, maps })
    }

    /// Path of the segment at `index`.
    pub(crate) fn path(&self, index: u64) -> PathBuf {
        self.dir.join(segment_name(index))
    }

    /// Path of the segment `chunk_ref` points into.
    pub(crate) fn path_of(&self, chunk_ref: u64) -> PathBuf {
        self.path(split_ref(chunk_ref).0)
    }

    /// Total bytes of the segments.
    pub(crate) fn total_len(&self) -> u64 {
        self.maps.iter().map(|m| m.len() as u64).sum()
    }

    /// The data of the chunk at `chunk_ref`, after checking its length, CRC32C and encoding.
    pub(crate) fn chunk(&self, chunk_ref: u64) -> Result<&[u8], Error> {
        self.chunk_at(chunk_ref).map(|(data, _)| data)
    }

    /// As [`Segments::chunk`], with the offset of the data in its segment.
    pub(crate) fn chunk_at(&self, chunk_ref: u64) -> Result<(&[u8], u64), Error> {
        let (index, offset) = split_ref(chunk_ref);
        let path = || self.path(index);
        let bad_ref = |reason| ErrorKind::BadChunkRef { chunk_ref, reason };
        let map = usize::try_from(index)
            .ok()
            .and_then(|i| self.maps.get(i))
            .ok_or_else(|| {
                Error::file(&path(), bad_ref("names a segment the block does not have"))
            })?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        if start < SEGMENT_HEADER_LEN {
            return Err(Error::at(
                &path(),
                offset,
                bad_ref("points into the segment header"),
            ));
        }
        if start >= map.len() {
            return Err(Error::at(
                &path(),
                offset,
                bad_ref("points past the end of its segment"),
            ));
        }
        read_chunk(map, start, self.kind.encoding()).map_err(|f| f.in_file(&path()))
    }
}

/// Reads the chunk that starts at `start`; returns its data and the data's offset.
///
/// Failures are reported at `start`, the chunk's reference offset: the length is not
/// checksummed, so a damaged one shows as a chunk running past the end or a checksum
/// mismatch, and either way it is this chunk that is lost. Only a wrong encoding under a
/// valid checksum is reported at the encoding byte.
fn read_chunk(segment: &[u8], start: usize, encoding: u8) -> Result<(&[u8], u64), Fault> {
    let at_start = |f: Fault| Fault::new(start, f.kind);
    let mut c = Cursor::at(segment, start);
    let len = c.uvarint("a chunk length").map_err(at_start)?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&len| len <= MAX_CHUNK_LEN)
        .ok_or_else(|| Fault::new(start, ErrorKind::ChunkTooLarge { len }))?;
    let body = c.pos();
    let found = c.u8("a chunk's encoding").map_err(at_start)?;
    let data = c.take(len, "a chunk's data").map_err(at_start)?;
    let stored = c.u32_be("a chunk's CRC32C").map_err(at_start)?;
    let computed = crc32c::crc32c_append(crc32c::crc32c(&[found]), data);
    if stored != computed {
        return Err(Fault::new(
            start,
            ErrorKind::Checksum {
                what: "chunk",
                stored,
                computed,
            },
        ));
    }
    if found != encoding {
        return Err(Fault::new(
            body,
            ErrorKind::WrongEncoding {
                expected: encoding,
                found,
            },
        ));
    }
    Ok((data, (body + CHUNK_ENCODING_LEN) as u64))
}

fn check_header(segment: &[u8]) -> Result<(), Fault> {
    let Some(header) = segment.first_chunk::<SEGMENT_HEADER_LEN>() else {
        return Err(Fault::new(
            segment.len(),
            ErrorKind::Truncated {
                what: "the segment header",
            },
        ));
    };
    let mut c = Cursor::at(header, SEGMENT_MAGIC_OFFSET);
    let magic = c.u32_be("the magic")?;
    if magic != SEGMENT_MAGIC {
        return Err(Fault::new(
            SEGMENT_MAGIC_OFFSET,
            ErrorKind::BadMagic {
                expected: SEGMENT_MAGIC.to_be_bytes(),
                found: magic.to_be_bytes(),
            },
        ));
    }
    let version = c.u8("the version")?;
    if version != SEGMENT_VERSION {
        return Err(Fault::new(
            SEGMENT_VERSION_OFFSET,
            ErrorKind::Unsupported {
                field: "version",
                found: version.into(),
            },
        ));
    }
    let padding = c.take(SEGMENT_HEADER_LEN - SEGMENT_PADDING_OFFSET, "the padding")?;
    if padding.iter().any(|&b| b != 0) {
        return Err(Fault::new(
            SEGMENT_PADDING_OFFSET,
            ErrorKind::Malformed("non-zero padding in the segment header"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names() {
        assert_eq!(segment_name(0), "000001");
        assert_eq!(segment_name(999_999), "1000000");
        assert_eq!(parse_segment_name("000001"), Some(0));
        assert_eq!(parse_segment_name("1000000"), Some(999_999));
        for bad in ["000000", "00001", "0000001", "00000a", "+00001", ""] {
            assert_eq!(parse_segment_name(bad), None, "{bad}");
        }
    }
}
