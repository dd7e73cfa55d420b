//! The block layout as constants: names, magics, versions, chained offsets and limits.
//!
//! `FORMAT.md` beside this file draws the layout; `tests/integration/block.rs` pins these
//! values and one encoded example of each file, so the two cannot drift.

/// The block's metadata, JSON.
pub const META_FILE: &str = "meta.json";
/// The block's label index, in `cairn-index`'s format.
pub const INDEX_FILE: &str = "index";
/// Each series' chunk metas.
pub const SERIES_FILE: &str = "series";
/// The directory of sample chunk segments.
pub const CHUNKS_DIR: &str = "chunks";
/// The directory of exemplar chunk segments.
pub const EXEMPLARS_DIR: &str = "exemplars";
/// Suffix of a block directory being written; such directories are leftovers after a crash.
pub const TMP_SUFFIX: &str = ".tmp";
/// The `version` field of `meta.json`.
pub const META_VERSION: u32 = 1;
/// Longest `meta.json` read: 16 MiB, about 200 000 segment entries. A damaged file system
/// cannot make open read a huge file into memory.
pub const MAX_META_LEN: u64 = 16 << 20;

// Chunk segments: Prometheus' chunks file layout, big-endian.

/// First four bytes of a chunk segment, big-endian (Prometheus' `MagicChunks`).
pub const SEGMENT_MAGIC: u32 = 0x85BD_40DD;
/// Version of the chunk segment layout.
pub const SEGMENT_VERSION: u8 = 1;
/// Byte offset of the magic.
pub const SEGMENT_MAGIC_OFFSET: usize = 0;
/// Byte offset of the version.
pub const SEGMENT_VERSION_OFFSET: usize = SEGMENT_MAGIC_OFFSET + 4;
/// Byte offset of the three zero padding bytes.
pub const SEGMENT_PADDING_OFFSET: usize = SEGMENT_VERSION_OFFSET + 1;
/// Length of the segment header; the first chunk starts here.
pub const SEGMENT_HEADER_LEN: usize = SEGMENT_PADDING_OFFSET + 3;
/// Width of a chunk's encoding byte.
pub const CHUNK_ENCODING_LEN: usize = 1;
/// Width of a chunk's CRC32C, after its data.
pub const CHUNK_CRC_LEN: usize = 4;
/// Longest chunk data a block writes or reads: 16 MiB. Real chunks are about 1 KiB (sample)
/// or 4 KiB (exemplar); the limit keeps a damaged length from claiming a whole segment.
pub const MAX_CHUNK_LEN: usize = 16 << 20;
/// Size at which the writer starts a new segment: 512 MiB, as Prometheus. A segment holds at
/// least one chunk, so it exceeds this only when its one chunk does.
pub const SEGMENT_SIZE: u64 = 512 << 20;
/// Width of the in-segment offset in a chunk reference; the segment index is above it.
pub const CHUNK_REF_OFFSET_BITS: u32 = 32;

// The series file: cairn's own, little-endian.

/// First four bytes of the series file.
pub const SERIES_MAGIC: [u8; 4] = *b"CSER";
/// Version of the series file layout.
pub const SERIES_VERSION: u8 = 1;
/// Byte offset of the magic.
pub const SERIES_MAGIC_OFFSET: usize = 0;
/// Byte offset of the version.
pub const SERIES_VERSION_OFFSET: usize = SERIES_MAGIC_OFFSET + SERIES_MAGIC.len();
/// Byte offset of the three flag bytes, zero in version 1.
pub const SERIES_FLAGS_OFFSET: usize = SERIES_VERSION_OFFSET + 1;
/// Byte offset of the header's CRC32C, over the bytes before it.
pub const SERIES_HEADER_CRC_OFFSET: usize = SERIES_FLAGS_OFFSET + 3;
/// Length of the header; the first series entry starts here.
pub const SERIES_HEADER_LEN: usize = SERIES_HEADER_CRC_OFFSET + 4;
/// Width of one end offset in the offset table.
pub const SERIES_END_LEN: usize = 4;
/// Footer field offset: the number of series.
pub const FOOTER_COUNT_OFFSET: usize = 0;
/// Footer field offset: CRC32C of the entries.
pub const FOOTER_ENTRIES_CRC_OFFSET: usize = FOOTER_COUNT_OFFSET + 4;
/// Footer field offset: CRC32C of the offset table.
pub const FOOTER_ENDS_CRC_OFFSET: usize = FOOTER_ENTRIES_CRC_OFFSET + 4;
/// Footer field offset: CRC32C of the footer's bytes before it.
pub const FOOTER_CRC_OFFSET: usize = FOOTER_ENDS_CRC_OFFSET + 4;
/// Length of the footer, the file's last bytes.
pub const SERIES_FOOTER_LEN: usize = FOOTER_CRC_OFFSET + 4;
/// Most bytes of series entries one file holds (the end offsets are `u32`).
pub const MAX_SERIES_ENTRIES_LEN: u64 = u32::MAX as u64;
/// Fewest bytes one chunk meta takes in an entry: three one-byte varints.
pub const MIN_CHUNK_META_LEN: usize = 3;
