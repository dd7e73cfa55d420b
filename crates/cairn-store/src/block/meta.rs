//! `meta.json`: what a block holds, how it was made, and the size and checksum of its files.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use super::error::{Error, ErrorKind};
use super::format::{
    CHUNKS_DIR, EXEMPLARS_DIR, INDEX_FILE, MAX_META_LEN, META_VERSION, SERIES_FILE,
};
use super::segment::{parse_segment_name, segment_name};

/// A block's `meta.json`, field for field (camelCase in the file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// The block's id, also its directory name.
    #[serde(with = "ulid_text")]
    pub ulid: Ulid,
    /// Start of the block's time range, inclusive, in milliseconds.
    pub min_time: i64,
    /// End of the block's time range, exclusive, as in Prometheus.
    pub max_time: i64,
    /// What the block holds.
    pub stats: BlockStats,
    /// How the block was made.
    pub compaction: Compaction,
    /// The layout version, [`META_VERSION`].
    pub version: u32,
    /// The block's files: `index` and `series` with their CRC32C, then the chunk segments
    /// (`chunks/000001`, `exemplars/000001`, …) with their sizes only, since every chunk
    /// carries its own CRC32C.
    pub files: Vec<FileMeta>,
    /// CRC32C of this JSON as written with this field 0: a damaged `meta.json` (a time range
    /// off by years would make retention delete other blocks) fails to open. Set by
    /// [`BlockMeta::to_json`].
    #[serde(default)]
    pub crc32c: u32,
}

/// Counts of what a block holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    /// Series (with at least one chunk).
    pub num_series: u64,
    /// Samples, over all sample chunks.
    pub num_samples: u64,
    /// Sample chunks.
    pub num_chunks: u64,
    /// Exemplars, over all exemplar chunks.
    pub num_exemplars: u64,
    /// Exemplar chunks.
    pub num_exemplar_chunks: u64,
}

/// Where a block comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compaction {
    /// 1 for a block cut from the head; one more than its highest parent when compacted.
    pub level: u32,
    /// The level-1 blocks whose data this block holds (itself, for a level-1 block).
    #[serde(with = "ulid_list")]
    pub sources: Vec<Ulid>,
    /// The blocks compacted into this one (none for a level-1 block).
    #[serde(with = "ulid_list")]
    pub parents: Vec<Ulid>,
}

impl Compaction {
    /// A level-1 block cut from the head: its own source, no parents.
    pub fn level_one(ulid: Ulid) -> Compaction {
        Compaction {
            level: 1,
            sources: vec![ulid],
            parents: Vec::new(),
        }
    }
}

/// One file of a block in `meta.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// Path relative to the block directory, `/`-separated.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// CRC32C of the whole file (`index` and `series` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc32c: Option<u32>,
}

/// The files `meta.json` lists, sorted out.
#[derive(Debug)]
pub(crate) struct Manifest {
    pub(crate) index: Checked,
    pub(crate) series: Checked,
    /// Sizes of the sample chunk segments, by index.
    pub(crate) chunks: Vec<u64>,
    /// Sizes of the exemplar chunk segments, by index.
    pub(crate) exemplars: Vec<u64>,
}

/// A file with a recorded size and CRC32C.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checked {
    pub(crate) size: u64,
    pub(crate) crc32c: u32,
}

impl BlockMeta {
    /// Reads and checks the `meta.json` at `path`; returns it, its files sorted out, and its
    /// size in bytes.
    pub(crate) fn read(path: &Path) -> Result<(BlockMeta, Manifest, u64), Error> {
        let bytes = read_limited(path)?;
        let meta: BlockMeta = serde_json::from_slice(&bytes).map_err(|e| {
            let kind = ErrorKind::Json {
                message: e.to_string(),
            };
            Error::new(path, json_offset(&bytes, e.line(), e.column()), kind)
        })?;
        let computed = meta.checksum().map_err(|e| {
            Error::file(
                path,
                ErrorKind::Json {
                    message: e.to_string(),
                },
            )
        })?;
        if computed != meta.crc32c {
            return Err(Error::file(
                path,
                ErrorKind::Checksum {
                    what: "meta.json",
                    stored: meta.crc32c,
                    computed,
                },
            ));
        }
        let dir_name = path
            .parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str());
        let manifest = meta
            .check(dir_name)
            .map_err(|kind| Error::file(path, kind))?;
        Ok((meta, manifest, bytes.len() as u64))
    }

    /// The JSON as written: pretty, with a final newline, `crc32c` set.
    ///
    /// # Errors
    /// When serde_json fails (it does not for this type).
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut meta = self.clone();
        meta.crc32c = self.checksum()?;
        let mut json = serde_json::to_vec_pretty(&meta)?;
        json.push(b'\n');
        Ok(json)
    }

    /// The CRC32C of the JSON of this meta with `crc32c` 0.
    pub(crate) fn checksum(&self) -> Result<u32, serde_json::Error> {
        let mut meta = self.clone();
        meta.crc32c = 0;
        Ok(crc32c::crc32c(&serde_json::to_vec_pretty(&meta)?))
    }

    /// Checks what can be checked without the other files, and sorts out the file list.
    fn check(&self, dir_name: Option<&str>) -> Result<Manifest, ErrorKind> {
        if self.version != META_VERSION {
            return Err(ErrorKind::Unsupported {
                field: "version",
                found: self.version.into(),
            });
        }
        // A block may be opened from a copy under another name; a ULID name must match.
        if let Some(name) = dir_name.and_then(|n| Ulid::from_string(n).ok())
            && name != self.ulid
        {
            return Err(ErrorKind::Malformed(
                "the ulid differs from the block directory's name",
            ));
        }
        if self.min_time >= self.max_time {
            return Err(ErrorKind::Malformed("minTime is not before maxTime"));
        }
        self.manifest().map_err(ErrorKind::Malformed)
    }

    fn manifest(&self) -> Result<Manifest, &'static str> {
        let (mut index, mut series) = (None, None);
        let (mut chunks, mut exemplars) = (Vec::new(), Vec::new());
        for file in &self.files {
            let segment = |name| parse_segment_name(name).ok_or("files lists a bad segment name");
            match file.name.split_once('/') {
                None if file.name == INDEX_FILE => set_once(&mut index, file)?,
                None if file.name == SERIES_FILE => set_once(&mut series, file)?,
                Some((CHUNKS_DIR, name)) => chunks.push((segment(name)?, file.size)),
                Some((EXEMPLARS_DIR, name)) => exemplars.push((segment(name)?, file.size)),
                _ => return Err("files lists a file a block does not have"),
            }
        }
        Ok(Manifest {
            index: index.ok_or("files lacks the index")?,
            series: series.ok_or("files lacks the series file")?,
            chunks: contiguous(chunks)?,
            exemplars: contiguous(exemplars)?,
        })
    }
}

fn set_once(slot: &mut Option<Checked>, file: &FileMeta) -> Result<(), &'static str> {
    if slot.is_some() {
        return Err("files lists a file twice");
    }
    let crc32c = file
        .crc32c
        .ok_or("files lacks the crc32c of index or series")?;
    *slot = Some(Checked {
        size: file.size,
        crc32c,
    });
    Ok(())
}

/// The sizes of segments `000001..n`, which must each be listed once.
fn contiguous(mut segments: Vec<(u64, u64)>) -> Result<Vec<u64>, &'static str> {
    segments.sort_unstable();
    let in_sequence = segments
        .iter()
        .enumerate()
        .all(|(i, &(index, _))| index == i as u64);
    if !in_sequence {
        return Err("files lists segments with a gap or twice");
    }
    Ok(segments.into_iter().map(|(_, size)| size).collect())
}

/// The `meta.json` entries of a kind's segments of `sizes`.
pub(crate) fn segment_files(dir: &str, sizes: &[u64]) -> impl Iterator<Item = FileMeta> {
    sizes
        .iter()
        .enumerate()
        .map(move |(index, &size)| FileMeta {
            name: format!("{dir}/{}", segment_name(index as u64)),
            size,
            crc32c: None,
        })
}

/// The file's bytes, if it is at most [`MAX_META_LEN`] long.
fn read_limited(path: &Path) -> Result<Vec<u8>, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let mut bytes = Vec::new();
    file.take(MAX_META_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, "read", e))?;
    if bytes.len() as u64 > MAX_META_LEN {
        return Err(Error::file(
            path,
            ErrorKind::Malformed("meta.json is longer than 16 MiB"),
        ));
    }
    Ok(bytes)
}

/// The byte offset of `serde_json`'s 1-based line and column, when it gives one.
fn json_offset(bytes: &[u8], line: usize, column: usize) -> Option<u64> {
    let line_start: usize = bytes
        .split(|&b| b == b'\n')
        .take(line.checked_sub(1)?)
        .map(|l| l.len() + 1)
        .sum();
    let offset = line_start + column.saturating_sub(1);
    Some(offset.min(bytes.len()) as u64)
}

/// A ULID as its 26-character text.
mod ulid_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use ulid::Ulid;

    pub(super) fn serialize<S: Serializer>(ulid: &Ulid, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(ulid)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Ulid, D::Error> {
        let text = String::deserialize(d)?;
        Ulid::from_string(&text).map_err(|e| D::Error::custom(format!("ulid {text:?}: {e}")))
    }
}

/// A list of ULIDs as their texts.
mod ulid_list {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};
    use ulid::Ulid;

    pub(super) fn serialize<S: Serializer>(ulids: &[Ulid], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ulids.iter().map(Ulid::to_string))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Ulid>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|text| {
                Ulid::from_string(text).map_err(|e| D::Error::custom(format!("ulid {text:?}: {e}")))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_offsets() {
        let bytes = b"{\n  \"a\": x\n}";
        assert_eq!(json_offset(bytes, 2, 8), Some(9));
        assert_eq!(json_offset(bytes, 0, 0), None);
    }

    /// The example of `FORMAT.md`, with its `crc32c`.
    #[test]
    fn the_documented_example_checksum() {
        let ulid = Ulid::from_string("01M89C2W2BRVQ3G5XZ6J551C9J").unwrap();
        let file = |name: &str, size, crc32c| FileMeta {
            name: name.into(),
            size,
            crc32c,
        };
        let meta = BlockMeta {
            ulid,
            min_time: 0,
            max_time: 2000,
            stats: BlockStats {
                num_series: 1,
                num_samples: 1,
                num_chunks: 1,
                num_exemplars: 0,
                num_exemplar_chunks: 0,
            },
            compaction: Compaction::level_one(ulid),
            version: 1,
            files: vec![
                file("index", 206, Some(3131512141)),
                file("series", 38, Some(1512344538)),
                file("chunks/000001", 26, None),
            ],
            crc32c: 0,
        };
        assert_eq!(meta.checksum().unwrap(), 2110439642);
        let json = String::from_utf8(meta.to_json().unwrap()).unwrap();
        let doc = include_str!("FORMAT.md");
        assert!(
            doc.contains(json.trim_end()),
            "FORMAT.md's example differs:\n{json}"
        );
    }
}
