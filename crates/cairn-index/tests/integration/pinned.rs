//! Pinned constants and one byte-exact index, so that the code and `FORMAT.md` cannot drift.

use cairn_index::format::{
    COUNT_LEN, END_LEN, ENTRY_CRC_OFFSET, ENTRY_LEN, ENTRY_LEN_OFFSET, ENTRY_OFFSET_OFFSET,
    FLAGS_OFFSET, HEADER_CRC_OFFSET, HEADER_LEN, LABELS_NAME_COUNT_OFFSET, LABELS_NAMES_OFFSET,
    LABELS_VALUE_COUNT_OFFSET, MAGIC, MAGIC_OFFSET, MAX_SECTION_LEN, MIN_INDEX_LEN, NAME_ENTRY_LEN,
    NAME_FIRST_VALUE_OFFSET, NAME_POSTINGS_OFFSET, NAME_SYMBOL_OFFSET, NAME_VALUE_COUNT_OFFSET,
    SECTION_COUNT, SERIES_LABEL_LEN, SERIES_NAME_OFFSET, SERIES_VALUE_OFFSET, TOC_CRC_OFFSET,
    TOC_LEN, VALUE_ENTRY_LEN, VALUE_POSTINGS_OFFSET, VALUE_SYMBOL_OFFSET, VERSION, VERSION_OFFSET,
};
use cairn_index::{IndexReader, IndexWriter, LabelIndex, Section};

use crate::common::{golden_series, ids, labels, write};

/// The example of `FORMAT.md`: series 0 `{a="x"}` and series 1 `{a="y", b="x"}`.
pub(crate) const GOLDEN: [u8; 336] = [
    // header
    0x43, 0x49, 0x44, 0x58, // magic "CIDX"
    0x01, // version 1
    0x00, 0x00, 0x00, // flags
    0xf8, 0xee, 0x55, 0x0d, // CRC32C of bytes 0..8
    // symbols @12, 24 bytes
    0x04, 0x00, 0x00, 0x00, // 4 symbols
    0x01, 0x00, 0x00, 0x00, // end of symbol 0
    0x02, 0x00, 0x00, 0x00, // end of symbol 1
    0x03, 0x00, 0x00, 0x00, // end of symbol 2
    0x04, 0x00, 0x00, 0x00, // end of symbol 3
    0x61, 0x62, 0x78, 0x79, // "a" "b" "x" "y"
    // postings @36, 116 bytes
    0x05, 0x00, 0x00, 0x00, // 5 postings lists
    0x14, 0x00, 0x00, 0x00, // end of list 0 (20)
    0x26, 0x00, 0x00, 0x00, // end of list 1 (38)
    0x38, 0x00, 0x00, 0x00, // end of list 2 (56)
    0x4a, 0x00, 0x00, 0x00, // end of list 3 (74)
    0x5c, 0x00, 0x00, 0x00, // end of list 4 (92)
    // list 0: a=* {0, 1}
    0x3a, 0x30, 0x00, 0x00, // roaring cookie 12346 (no run containers)
    0x01, 0x00, 0x00, 0x00, // 1 container
    0x00, 0x00, 0x01, 0x00, // key 0, cardinality - 1 = 1
    0x10, 0x00, 0x00, 0x00, // container at byte 16 of the bitmap
    0x00, 0x00, 0x01, 0x00, // 0, 1
    // list 1: a="x" {0}
    0x3a, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
    0x00, 0x00, // list 2: a="y" {1}
    0x3a, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
    0x01, 0x00, // list 3: b=* {1}
    0x3a, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
    0x01, 0x00, // list 4: b="x" {1}
    0x3a, 0x30, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00,
    0x01, 0x00, // labels @152, 64 bytes
    0x02, 0x00, 0x00, 0x00, // 2 names
    0x03, 0x00, 0x00, 0x00, // 3 values
    0x00, 0x00, 0x00, 0x00, // name "a" (symbol 0)
    0x00, 0x00, 0x00, 0x00, //   first value entry 0
    0x02, 0x00, 0x00, 0x00, //   2 values
    0x00, 0x00, 0x00, 0x00, //   postings list 0
    0x01, 0x00, 0x00, 0x00, // name "b" (symbol 1)
    0x02, 0x00, 0x00, 0x00, //   first value entry 2
    0x01, 0x00, 0x00, 0x00, //   1 value
    0x03, 0x00, 0x00, 0x00, //   postings list 3
    0x02, 0x00, 0x00, 0x00, // value "x" (symbol 2)
    0x01, 0x00, 0x00, 0x00, //   postings list 1
    0x03, 0x00, 0x00, 0x00, // value "y" (symbol 3)
    0x02, 0x00, 0x00, 0x00, //   postings list 2
    0x02, 0x00, 0x00, 0x00, // value "x" (symbol 2)
    0x04, 0x00, 0x00, 0x00, //   postings list 4
    // series @216, 36 bytes
    0x02, 0x00, 0x00, 0x00, // 2 series
    0x08, 0x00, 0x00, 0x00, // end of series 0
    0x18, 0x00, 0x00, 0x00, // end of series 1
    0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, // series 0: a="x"
    0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, // series 1: a="y",
    0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, //           b="x"
    // table of contents @252, 84 bytes
    0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // symbols at 12
    0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   24 bytes
    0x53, 0x3f, 0xcb, 0x21, //   CRC32C
    0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // postings at 36
    0x74, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   116 bytes
    0xdc, 0x28, 0x6a, 0xef, //   CRC32C
    0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // labels at 152
    0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   64 bytes
    0xcd, 0xbd, 0x17, 0xf7, //   CRC32C
    0xd8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // series at 216
    0x24, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //   36 bytes
    0x30, 0x71, 0x39, 0xb9, //   CRC32C
    0x90, 0xcb, 0x17, 0xb0, // CRC32C of the 80 bytes before
];

/// Byte ranges of the parts of [`GOLDEN`], as `FORMAT.md` lists them.
pub(crate) const GOLDEN_PARTS: [(Section, usize, usize); 6] = [
    (Section::Header, 0, 12),
    (Section::Symbols, 12, 36),
    (Section::Postings, 36, 152),
    (Section::Labels, 152, 216),
    (Section::Series, 216, 252),
    (Section::Toc, 252, 336),
];

#[test]
fn header_and_table_constants() {
    assert_eq!(MAGIC, *b"CIDX");
    assert_eq!(VERSION, 1);
    assert_eq!(
        [
            MAGIC_OFFSET,
            VERSION_OFFSET,
            FLAGS_OFFSET,
            HEADER_CRC_OFFSET,
            HEADER_LEN
        ],
        [0, 4, 5, 8, 12]
    );
    assert_eq!(
        [
            ENTRY_OFFSET_OFFSET,
            ENTRY_LEN_OFFSET,
            ENTRY_CRC_OFFSET,
            ENTRY_LEN
        ],
        [0, 8, 16, 20]
    );
    assert_eq!([SECTION_COUNT, TOC_CRC_OFFSET, TOC_LEN], [4, 80, 84]);
    assert_eq!([COUNT_LEN, END_LEN], [4, 4]);
    assert_eq!(
        [
            LABELS_NAME_COUNT_OFFSET,
            LABELS_VALUE_COUNT_OFFSET,
            LABELS_NAMES_OFFSET
        ],
        [0, 4, 8]
    );
    assert_eq!(
        [
            NAME_SYMBOL_OFFSET,
            NAME_FIRST_VALUE_OFFSET,
            NAME_VALUE_COUNT_OFFSET,
            NAME_POSTINGS_OFFSET,
            NAME_ENTRY_LEN
        ],
        [0, 4, 8, 12, 16]
    );
    assert_eq!(
        [VALUE_SYMBOL_OFFSET, VALUE_POSTINGS_OFFSET, VALUE_ENTRY_LEN],
        [0, 4, 8]
    );
    assert_eq!(
        [SERIES_NAME_OFFSET, SERIES_VALUE_OFFSET, SERIES_LABEL_LEN],
        [0, 4, 8]
    );
    assert_eq!(MIN_INDEX_LEN, 116);
    assert_eq!(MAX_SECTION_LEN, 4_294_967_295);
    assert_eq!(
        Section::BODY.map(Section::name),
        ["symbols", "postings", "labels", "series"]
    );
}

/// The checksum is CRC32C (Castagnoli), not the zlib CRC-32.
#[test]
fn checksum_is_castagnoli() {
    assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    assert_eq!(crc32c::crc32c(&GOLDEN[..8]), 0x0d55_eef8);
}

#[test]
fn golden_bytes() {
    assert_eq!(write(&golden_series()), GOLDEN);
    let r = IndexReader::from_bytes(GOLDEN.as_slice()).unwrap();
    assert_eq!(r.series_count(), 2);
    assert_eq!(r.series_labels(0), Some(labels(&[("a", "x")])));
    assert_eq!(r.series_labels(1), Some(labels(&[("a", "y"), ("b", "x")])));
    assert_eq!(r.label_names(), ["a", "b"]);
    assert_eq!(r.label_values("a"), ["x", "y"]);
    assert_eq!(ids(&r.postings("b", "x")), [1]);
    assert_eq!(ids(&r.postings_for_name("a")), [0, 1]);
    for (section, start, end) in GOLDEN_PARTS {
        assert!(start < end, "{section:?}");
    }
}

#[test]
fn empty_index_is_the_minimum() {
    let bytes = IndexWriter::new().finish().unwrap();
    assert_eq!(bytes.len(), MIN_INDEX_LEN);
    let r = IndexReader::from_bytes(bytes).unwrap();
    assert_eq!(r.series_count(), 0);
    assert!(r.label_names().is_empty());
    assert!(r.select(&[]).is_empty());
}
