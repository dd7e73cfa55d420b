//! The block index layout, as constants.
//!
//! `FORMAT.md` beside this crate draws the same layout; `tests/integration/pinned.rs` pins the
//! constants and one index byte for byte, so the two cannot drift. All integers are
//! little-endian.
//!
//! ```text
//! header │ symbols │ postings │ labels │ series │ table of contents
//! ```
//!
//! Every section's offset, length and CRC32C is in the table of contents at the end of the
//! file; the header and the table of contents carry their own CRC32C, so every byte of a valid
//! index is covered by exactly one checksum.

/// The four bytes every index starts with.
pub const MAGIC: [u8; 4] = *b"CIDX";
/// The format version this crate writes and reads.
pub const VERSION: u8 = 1;

/// Byte offset of the magic.
pub const MAGIC_OFFSET: usize = 0;
/// Byte offset of the version (`u8`).
pub const VERSION_OFFSET: usize = MAGIC_OFFSET + MAGIC.len();
/// Byte offset of the three reserved flag bytes, zero in version 1.
pub const FLAGS_OFFSET: usize = VERSION_OFFSET + 1;
/// Byte offset of the CRC32C (`u32`) of the header bytes before it.
pub const HEADER_CRC_OFFSET: usize = FLAGS_OFFSET + 3;
/// Size of the header; the symbol table starts here.
pub const HEADER_LEN: usize = HEADER_CRC_OFFSET + 4;

/// In a table of contents entry: byte offset (`u64`) of the section from the file start.
pub const ENTRY_OFFSET_OFFSET: usize = 0;
/// In a table of contents entry: length (`u64`) of the section in bytes.
pub const ENTRY_LEN_OFFSET: usize = ENTRY_OFFSET_OFFSET + 8;
/// In a table of contents entry: CRC32C (`u32`) of the section's bytes.
pub const ENTRY_CRC_OFFSET: usize = ENTRY_LEN_OFFSET + 8;
/// Size of one table of contents entry.
pub const ENTRY_LEN: usize = ENTRY_CRC_OFFSET + 4;
/// Number of sections, each with one entry, in file order: symbols, postings, labels, series.
pub const SECTION_COUNT: usize = 4;
/// Byte offset, in the table of contents, of its CRC32C (`u32`) of the entries before it.
pub const TOC_CRC_OFFSET: usize = SECTION_COUNT * ENTRY_LEN;
/// Size of the table of contents: the last bytes of the file.
pub const TOC_LEN: usize = TOC_CRC_OFFSET + 4;

/// Size of a count (`u32`), the first field of every section.
pub const COUNT_LEN: usize = 4;
/// Size of one end offset (`u32`) in the symbol, postings and series tables.
pub const END_LEN: usize = 4;

/// Labels section: byte offset of the number of label names (`u32`).
pub const LABELS_NAME_COUNT_OFFSET: usize = 0;
/// Labels section: byte offset of the number of value entries (`u32`), all names together.
pub const LABELS_VALUE_COUNT_OFFSET: usize = LABELS_NAME_COUNT_OFFSET + 4;
/// Labels section: byte offset of the first name entry.
pub const LABELS_NAMES_OFFSET: usize = LABELS_VALUE_COUNT_OFFSET + 4;

/// Name entry: symbol reference (`u32`) of the label name.
pub const NAME_SYMBOL_OFFSET: usize = 0;
/// Name entry: index (`u32`) of the name's first value entry.
pub const NAME_FIRST_VALUE_OFFSET: usize = NAME_SYMBOL_OFFSET + 4;
/// Name entry: number (`u32`) of the name's value entries.
pub const NAME_VALUE_COUNT_OFFSET: usize = NAME_FIRST_VALUE_OFFSET + 4;
/// Name entry: postings reference (`u32`) of every series that has the label.
pub const NAME_POSTINGS_OFFSET: usize = NAME_VALUE_COUNT_OFFSET + 4;
/// Size of one name entry.
pub const NAME_ENTRY_LEN: usize = NAME_POSTINGS_OFFSET + 4;

/// Value entry: symbol reference (`u32`) of the label value.
pub const VALUE_SYMBOL_OFFSET: usize = 0;
/// Value entry: postings reference (`u32`) of the series with this name and value.
pub const VALUE_POSTINGS_OFFSET: usize = VALUE_SYMBOL_OFFSET + 4;
/// Size of one value entry.
pub const VALUE_ENTRY_LEN: usize = VALUE_POSTINGS_OFFSET + 4;

/// Series label: symbol reference (`u32`) of the name.
pub const SERIES_NAME_OFFSET: usize = 0;
/// Series label: symbol reference (`u32`) of the value.
pub const SERIES_VALUE_OFFSET: usize = SERIES_NAME_OFFSET + 4;
/// Size of one label of a series.
pub const SERIES_LABEL_LEN: usize = SERIES_VALUE_OFFSET + 4;

/// Smallest valid index: header, four empty sections (zero counts: one each, two for the labels
/// section), table of contents.
pub const MIN_INDEX_LEN: usize = HEADER_LEN + 3 * COUNT_LEN + LABELS_NAMES_OFFSET + TOC_LEN;

/// Largest section: offsets and references inside a section are `u32`.
pub const MAX_SECTION_LEN: usize = u32::MAX as usize;

/// The sections of an index, in file order, and the two framing parts around them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Section {
    /// The fixed header: magic, version, flags, CRC32C.
    Header,
    /// Sorted unique strings, referred to by index.
    Symbols,
    /// Serialized roaring bitmaps of series ids, referred to by index.
    Postings,
    /// Label name → values → postings references.
    Labels,
    /// Series id → label set, as symbol references.
    Series,
    /// The table of contents at the end of the file.
    Toc,
}

impl Section {
    /// The four sections with a table of contents entry, in file order.
    pub const BODY: [Section; SECTION_COUNT] = [
        Section::Symbols,
        Section::Postings,
        Section::Labels,
        Section::Series,
    ];

    /// Lowercase name, as error messages print it.
    pub const fn name(self) -> &'static str {
        match self {
            Section::Header => "header",
            Section::Symbols => "symbols",
            Section::Postings => "postings",
            Section::Labels => "labels",
            Section::Series => "series",
            Section::Toc => "table of contents",
        }
    }
}

/// The little-endian `u32` at `at` in `bytes`, if it is there.
pub(crate) fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

/// The little-endian `u64` at `at` in `bytes`, if it is there.
pub(crate) fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}
