use std::borrow::Cow;
use std::fmt;

use cairn_model::Labels;
use roaring::{MultiOps, RoaringBitmap};

use crate::error::{Corruption, CorruptionReason, Error};
use crate::format::{
    self, COUNT_LEN, END_LEN, ENTRY_CRC_OFFSET, ENTRY_LEN, ENTRY_LEN_OFFSET, ENTRY_OFFSET_OFFSET,
    FLAGS_OFFSET, HEADER_CRC_OFFSET, HEADER_LEN, MAGIC, MAGIC_OFFSET, Section, TOC_CRC_OFFSET,
    TOC_LEN, VERSION, VERSION_OFFSET, u32_at, u64_at,
};
use crate::select::LabelIndex;

/// Reads a block index written by [`IndexWriter`](crate::IndexWriter), straight from its bytes.
///
/// `B` is anything that derefs to the bytes: `&[u8]`, `Vec<u8>`, or the store's read-only
/// mmap. [`IndexReader::from_bytes`] checks everything once, the checksums and every rule of
/// the format (see `FORMAT.md`); afterwards lookups trust the layout and never copy more than
/// the postings they decode. Strings are borrowed from the bytes.
pub struct IndexReader<B> {
    bytes: B,
    symbols: Table,
    postings: Table,
    names: Entries,
    values: Entries,
    series: Table,
}

/// A table of variable-length entries: count, `count` end offsets, then the data.
#[derive(Clone, Copy, Debug)]
struct Table {
    count: usize,
    /// Absolute offset of the first end offset.
    ends: usize,
    /// Absolute offset of the first entry's first byte.
    data: usize,
}

/// Fixed-size entries of the labels section.
#[derive(Clone, Copy, Debug)]
struct Entries {
    count: usize,
    /// Absolute offset of the first entry.
    at: usize,
}

impl Table {
    /// Byte range (absolute) of entry `i`.
    fn range(&self, bytes: &[u8], i: usize) -> Option<(usize, usize)> {
        if i >= self.count {
            return None;
        }
        let end = u32_at(bytes, self.ends + i * END_LEN)? as usize;
        let start = match i {
            0 => 0,
            _ => u32_at(bytes, self.ends + (i - 1) * END_LEN)? as usize,
        };
        Some((self.data + start, self.data + end))
    }

    fn entry<'a>(&self, bytes: &'a [u8], i: usize) -> Option<&'a [u8]> {
        let (start, end) = self.range(bytes, i)?;
        bytes.get(start..end)
    }
}

impl<B: AsRef<[u8]>> IndexReader<B> {
    /// Checks `bytes` and opens them: header (magic, version, CRC32C), table of contents
    /// (CRC32C, sections contiguous and within the file), each section's CRC32C, then the
    /// structure of every section, postings decoded once.
    ///
    /// # Errors
    /// [`Error::Corrupt`] naming the section and byte offset of the first problem found;
    /// [`Error::Unsupported`] for an intact index of another version.
    pub fn from_bytes(bytes: B) -> Result<IndexReader<B>, Error> {
        let b = bytes.as_ref();
        check_header(b)?;
        let bounds = check_toc(b)?;
        let [symbols, postings, labels, series] = bounds;
        let corrupt = |section, offset: usize, what| Corruption {
            section,
            offset: offset as u64,
            reason: CorruptionReason::Malformed(what),
        };

        let symbols_table = parse_table(b, Section::Symbols, symbols)?;
        let mut previous: Option<&[u8]> = None;
        for i in 0..symbols_table.count {
            let (start, end) = symbols_table.range(b, i).unwrap_or_default();
            let s = b.get(start..end).unwrap_or_default();
            if std::str::from_utf8(s).is_err() {
                return Err(corrupt(Section::Symbols, start, "symbol is not UTF-8").into());
            }
            if previous.is_some_and(|p| p >= s) {
                return Err(
                    corrupt(Section::Symbols, start, "symbols are not sorted and unique").into(),
                );
            }
            previous = Some(s);
        }
        let symbol_count = symbols_table.count;

        let series_table = parse_table(b, Section::Series, series)?;
        let mut previous: Option<&[u8]> = None;
        for i in 0..series_table.count {
            let (start, end) = series_table.range(b, i).unwrap_or_default();
            let refs = b.get(start..end).unwrap_or_default();
            if refs.len() % format::SERIES_LABEL_LEN != 0 {
                return Err(corrupt(
                    Section::Series,
                    start,
                    "series entry is not a whole number of labels",
                )
                .into());
            }
            let mut last_name = None;
            for (k, pair) in refs.chunks_exact(format::SERIES_LABEL_LEN).enumerate() {
                let at = start + k * format::SERIES_LABEL_LEN;
                let name = u32_at(pair, format::SERIES_NAME_OFFSET).unwrap_or_default();
                let value = u32_at(pair, format::SERIES_VALUE_OFFSET).unwrap_or_default();
                if name as usize >= symbol_count || value as usize >= symbol_count {
                    return Err(
                        corrupt(Section::Series, at, "symbol reference out of range").into(),
                    );
                }
                if last_name.is_some_and(|l| l >= name) {
                    return Err(corrupt(
                        Section::Series,
                        at,
                        "label names of a series are not sorted and unique",
                    )
                    .into());
                }
                last_name = Some(name);
            }
            if previous.is_some_and(|p| pairs(p).cmp(pairs(refs)).is_ge()) {
                return Err(corrupt(
                    Section::Series,
                    start,
                    "series are not sorted by labels and unique",
                )
                .into());
            }
            previous = Some(refs);
        }
        let series_count = series_table.count;

        let postings_table = parse_table(b, Section::Postings, postings)?;
        for i in 0..postings_table.count {
            let (start, end) = postings_table.range(b, i).unwrap_or_default();
            let bitmap = b
                .get(start..end)
                .and_then(decode_checked)
                .ok_or_else(|| corrupt(Section::Postings, start, "invalid roaring bitmap"))?;
            if bitmap.max().is_some_and(|max| max as usize >= series_count) {
                return Err(corrupt(
                    Section::Postings,
                    start,
                    "postings name a series id past the series table",
                )
                .into());
            }
        }

        let (names, values) = check_labels(
            b,
            labels,
            symbol_count,
            postings_table.count,
            &symbols_table,
        )?;

        Ok(IndexReader {
            bytes,
            symbols: symbols_table,
            postings: postings_table,
            names,
            values,
            series: series_table,
        })
    }

    /// The bytes the reader reads.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_ref()
    }

    /// Gives the bytes back.
    pub fn into_inner(self) -> B {
        self.bytes
    }

    /// How many series the block has; their ids are `0..series_count()`.
    pub fn series_count(&self) -> u32 {
        self.series.count as u32
    }

    /// The labels of series `id`, in order, borrowed from the index; `None` past the last id.
    pub fn series(&self, id: u32) -> Option<impl Iterator<Item = (&str, &str)> + '_> {
        let refs = self.series.entry(self.bytes.as_ref(), id as usize)?;
        Some(
            refs.chunks_exact(format::SERIES_LABEL_LEN)
                .map(move |pair| {
                    let name = u32_at(pair, format::SERIES_NAME_OFFSET).unwrap_or_default();
                    let value = u32_at(pair, format::SERIES_VALUE_OFFSET).unwrap_or_default();
                    (self.symbol(name as usize), self.symbol(value as usize))
                }),
        )
    }

    /// The labels of series `id` as an owned set; `None` past the last id.
    pub fn series_labels(&self, id: u32) -> Option<Labels> {
        Some(Labels::from_pairs(self.series(id)?))
    }

    /// Symbol `i`; `""` out of range (never, after validation).
    fn symbol(&self, i: usize) -> &str {
        let bytes = self
            .symbols
            .entry(self.bytes.as_ref(), i)
            .unwrap_or_default();
        std::str::from_utf8(bytes).unwrap_or_default()
    }

    fn symbol_bytes(&self, i: usize) -> &[u8] {
        self.symbols
            .entry(self.bytes.as_ref(), i)
            .unwrap_or_default()
    }

    /// The first symbol index in `lo..hi` for which `pred` is false, `pred` being true on a
    /// prefix of the range and false after it.
    fn partition_symbols(
        &self,
        mut lo: usize,
        mut hi: usize,
        pred: impl Fn(&[u8]) -> bool,
    ) -> usize {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(self.symbol_bytes(mid)) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The reference of symbol `s`, if the index has it.
    fn find_symbol(&self, s: &str) -> Option<u32> {
        let i = self.partition_symbols(0, self.symbols.count, |x| x < s.as_bytes());
        (i < self.symbols.count && self.symbol_bytes(i) == s.as_bytes()).then_some(i as u32)
    }

    /// The range `lo..hi` of symbol references that start with `prefix`.
    fn prefix_symbols(&self, prefix: &str) -> (u32, u32) {
        let p = prefix.as_bytes();
        let lo = self.partition_symbols(0, self.symbols.count, |x| x < p);
        let hi = self.partition_symbols(lo, self.symbols.count, |x| x.starts_with(p));
        (lo as u32, hi as u32)
    }

    /// Field `field` of fixed-size entry `i` of `entries`.
    fn field(&self, entries: Entries, entry_len: usize, i: usize, field: usize) -> u32 {
        u32_at(self.bytes.as_ref(), entries.at + i * entry_len + field).unwrap_or_default()
    }

    /// Name entry of `name`: (first value entry, value count, name postings).
    fn name_entry(&self, name: &str) -> Option<(usize, usize, usize)> {
        let sym = self.find_symbol(name)?;
        let (mut lo, mut hi) = (0, self.names.count);
        let name_sym = |i| {
            self.field(
                self.names,
                format::NAME_ENTRY_LEN,
                i,
                format::NAME_SYMBOL_OFFSET,
            )
        };
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if name_sym(mid) < sym {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo >= self.names.count || name_sym(lo) != sym {
            return None;
        }
        let f = |field| self.field(self.names, format::NAME_ENTRY_LEN, lo, field) as usize;
        Some((
            f(format::NAME_FIRST_VALUE_OFFSET),
            f(format::NAME_VALUE_COUNT_OFFSET),
            f(format::NAME_POSTINGS_OFFSET),
        ))
    }

    fn value_symbol(&self, i: usize) -> u32 {
        self.field(
            self.values,
            format::VALUE_ENTRY_LEN,
            i,
            format::VALUE_SYMBOL_OFFSET,
        )
    }

    fn value_postings(&self, i: usize) -> usize {
        self.field(
            self.values,
            format::VALUE_ENTRY_LEN,
            i,
            format::VALUE_POSTINGS_OFFSET,
        ) as usize
    }

    /// The first value entry in `lo..hi` whose symbol is not below `sym`.
    fn value_lower_bound(&self, mut lo: usize, mut hi: usize, sym: u32) -> usize {
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.value_symbol(mid) < sym {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Decodes postings list `i` (checked once by `from_bytes`).
    fn decode(&self, i: usize) -> RoaringBitmap {
        self.postings
            .entry(self.bytes.as_ref(), i)
            .and_then(|bytes| RoaringBitmap::deserialize_unchecked_from(bytes).ok())
            .unwrap_or_default()
    }

    /// Postings index of `value` among the values of the name entry.
    fn find_value(&self, (first, count, _): (usize, usize, usize), value: &str) -> Option<usize> {
        let sym = self.find_symbol(value)?;
        let i = self.value_lower_bound(first, first + count, sym);
        (i < first + count && self.value_symbol(i) == sym).then(|| self.value_postings(i))
    }
}

impl<B: AsRef<[u8]>> LabelIndex for IndexReader<B> {
    fn all(&self) -> Cow<'_, RoaringBitmap> {
        let mut all = RoaringBitmap::new();
        all.insert_range(0..self.series.count as u32);
        Cow::Owned(all)
    }

    fn label_names(&self) -> Vec<&str> {
        (0..self.names.count)
            .map(|i| {
                let sym = self.field(
                    self.names,
                    format::NAME_ENTRY_LEN,
                    i,
                    format::NAME_SYMBOL_OFFSET,
                );
                self.symbol(sym as usize)
            })
            .collect()
    }

    fn label_values(&self, name: &str) -> Vec<&str> {
        let Some((first, count, _)) = self.name_entry(name) else {
            return Vec::new();
        };
        (first..first + count)
            .map(|i| self.symbol(self.value_symbol(i) as usize))
            .collect()
    }

    fn postings(&self, name: &str, value: &str) -> Cow<'_, RoaringBitmap> {
        let found = self
            .name_entry(name)
            .and_then(|entry| self.find_value(entry, value));
        Cow::Owned(found.map(|p| self.decode(p)).unwrap_or_default())
    }

    fn postings_for_name(&self, name: &str) -> Cow<'_, RoaringBitmap> {
        Cow::Owned(
            self.name_entry(name)
                .map(|(_, _, p)| self.decode(p))
                .unwrap_or_default(),
        )
    }

    fn postings_where(
        &self,
        name: &str,
        prefix: &str,
        keep: &mut dyn FnMut(&str) -> bool,
        within: Option<&RoaringBitmap>,
    ) -> RoaringBitmap {
        let Some((first, count, _)) = self.name_entry(name) else {
            return RoaringBitmap::new();
        };
        let (lo_sym, hi_sym) = self.prefix_symbols(prefix);
        let lo = self.value_lower_bound(first, first + count, lo_sym);
        let hi = self.value_lower_bound(lo, first + count, hi_sym);
        (lo..hi)
            .filter(|&i| keep(self.symbol(self.value_symbol(i) as usize)))
            .map(|i| {
                let mut postings = self.decode(self.value_postings(i));
                if let Some(within) = within {
                    postings &= within;
                }
                postings
            })
            .union()
    }

    fn postings_for_values(&self, name: &str, values: &[String]) -> RoaringBitmap {
        let Some(entry) = self.name_entry(name) else {
            return RoaringBitmap::new();
        };
        values
            .iter()
            .filter_map(|v| self.find_value(entry, v))
            .map(|p| self.decode(p))
            .union()
    }
}

impl<B> fmt::Debug for IndexReader<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IndexReader")
            .field("symbols", &self.symbols.count)
            .field("postings", &self.postings.count)
            .field("names", &self.names.count)
            .field("values", &self.values.count)
            .field("series", &self.series.count)
            .finish()
    }
}

/// The (name, value) symbol references of a series entry.
fn pairs(refs: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    refs.chunks_exact(format::SERIES_LABEL_LEN).map(|p| {
        (
            u32_at(p, format::SERIES_NAME_OFFSET).unwrap_or_default(),
            u32_at(p, format::SERIES_VALUE_OFFSET).unwrap_or_default(),
        )
    })
}

fn check_header(b: &[u8]) -> Result<(), Error> {
    let at = |offset: usize, reason| Corruption {
        section: Section::Header,
        offset: offset as u64,
        reason,
    };
    let Some(header) = b.get(..HEADER_LEN) else {
        return Err(at(
            b.len(),
            CorruptionReason::TooShort {
                len: b.len() as u64,
            },
        )
        .into());
    };
    let mut magic = [0; 4];
    magic.copy_from_slice(header.get(MAGIC_OFFSET..VERSION_OFFSET).unwrap_or(&[0; 4]));
    if magic != MAGIC {
        return Err(at(MAGIC_OFFSET, CorruptionReason::BadMagic { found: magic }).into());
    }
    let stored = u32_at(header, HEADER_CRC_OFFSET).unwrap_or_default();
    let computed = crc32c::crc32c(header.get(..HEADER_CRC_OFFSET).unwrap_or_default());
    if stored != computed {
        return Err(at(
            HEADER_CRC_OFFSET,
            CorruptionReason::Checksum { stored, computed },
        )
        .into());
    }
    let version = header.get(VERSION_OFFSET).copied().unwrap_or_default();
    let mut flags = [0; 3];
    flags.copy_from_slice(
        header
            .get(FLAGS_OFFSET..HEADER_CRC_OFFSET)
            .unwrap_or(&[0; 3]),
    );
    if version != VERSION || flags != [0; 3] {
        return Err(Error::Unsupported { version, flags });
    }
    Ok(())
}

/// Checks the table of contents and each section's checksum; returns each body section's
/// absolute (offset, length).
fn check_toc(b: &[u8]) -> Result<[(usize, usize); format::SECTION_COUNT], Error> {
    if b.len() < HEADER_LEN + TOC_LEN {
        return Err(Corruption {
            section: Section::Toc,
            offset: b.len() as u64,
            reason: CorruptionReason::TooShort {
                len: b.len() as u64,
            },
        }
        .into());
    }
    let toc_at = b.len() - TOC_LEN;
    let toc = b.get(toc_at..).unwrap_or_default();
    let stored = u32_at(toc, TOC_CRC_OFFSET).unwrap_or_default();
    let computed = crc32c::crc32c(toc.get(..TOC_CRC_OFFSET).unwrap_or_default());
    if stored != computed {
        return Err(Corruption {
            section: Section::Toc,
            offset: (toc_at + TOC_CRC_OFFSET) as u64,
            reason: CorruptionReason::Checksum { stored, computed },
        }
        .into());
    }
    let mut bounds = [(0, 0); format::SECTION_COUNT];
    let mut cursor = HEADER_LEN;
    for (i, (section, bound)) in Section::BODY.iter().zip(&mut bounds).enumerate() {
        let entry = toc_at + i * ENTRY_LEN;
        let offset = u64_at(b, entry + ENTRY_OFFSET_OFFSET).unwrap_or_default();
        let len = u64_at(b, entry + ENTRY_LEN_OFFSET).unwrap_or_default();
        let stored = u32_at(b, entry + ENTRY_CRC_OFFSET).unwrap_or_default();
        let last = i + 1 == format::SECTION_COUNT;
        let end = offset.checked_add(len);
        let fits = offset == cursor as u64
            && len <= format::MAX_SECTION_LEN as u64
            && end.is_some_and(|e| {
                if last {
                    e == toc_at as u64
                } else {
                    e <= toc_at as u64
                }
            });
        if !fits {
            return Err(Corruption {
                section: Section::Toc,
                offset: entry as u64,
                reason: CorruptionReason::SectionBounds { offset, len },
            }
            .into());
        }
        let (start, len) = (offset as usize, len as usize);
        let computed = crc32c::crc32c(b.get(start..start + len).unwrap_or_default());
        if stored != computed {
            return Err(Corruption {
                section: *section,
                offset: start as u64,
                reason: CorruptionReason::Checksum { stored, computed },
            }
            .into());
        }
        *bound = (start, len);
        cursor = start + len;
    }
    Ok(bounds)
}

/// Checks the frame of a symbol, postings or series table: a count, that many end offsets,
/// non-decreasing, the last one the end of the section.
fn parse_table(b: &[u8], section: Section, (start, len): (usize, usize)) -> Result<Table, Error> {
    let corrupt = |offset: usize, what| -> Error {
        Corruption {
            section,
            offset: offset as u64,
            reason: CorruptionReason::Malformed(what),
        }
        .into()
    };
    let count = match u32_at(b, start) {
        Some(c) if len >= COUNT_LEN => c as usize,
        _ => return Err(corrupt(start, "section too short for its count")),
    };
    let ends = start + COUNT_LEN;
    let data = count
        .checked_mul(END_LEN)
        .and_then(|n| n.checked_add(ends))
        .filter(|&d| d <= start + len)
        .ok_or_else(|| corrupt(start, "end offsets run past the section"))?;
    let data_len = start + len - data;
    let mut previous = 0;
    for i in 0..count {
        let at = ends + i * END_LEN;
        let end = u32_at(b, at).unwrap_or_default() as usize;
        if end < previous || end > data_len || (i + 1 == count && end != data_len) {
            return Err(corrupt(
                at,
                "end offset out of order or not at the section's end",
            ));
        }
        previous = end;
    }
    if count == 0 && data_len != 0 {
        return Err(corrupt(start, "bytes after an empty table"));
    }
    Ok(Table { count, ends, data })
}

/// Checks the labels section: names sorted, each with a run of sorted values, every reference
/// in range. Returns the name and value entries.
fn check_labels(
    b: &[u8],
    (start, len): (usize, usize),
    symbol_count: usize,
    postings_count: usize,
    symbols: &Table,
) -> Result<(Entries, Entries), Error> {
    let corrupt = |offset: usize, what| -> Error {
        Corruption {
            section: Section::Labels,
            offset: offset as u64,
            reason: CorruptionReason::Malformed(what),
        }
        .into()
    };
    let (Some(name_count), Some(value_count)) = (
        u32_at(b, start + format::LABELS_NAME_COUNT_OFFSET),
        u32_at(b, start + format::LABELS_VALUE_COUNT_OFFSET),
    ) else {
        return Err(corrupt(start, "section too short for its counts"));
    };
    let (name_count, value_count) = (name_count as usize, value_count as usize);
    let expected = (format::LABELS_NAMES_OFFSET as u64)
        + name_count as u64 * format::NAME_ENTRY_LEN as u64
        + value_count as u64 * format::VALUE_ENTRY_LEN as u64;
    if len < format::LABELS_NAMES_OFFSET || expected != len as u64 {
        return Err(corrupt(start, "counts do not match the section's length"));
    }
    let names_at = start + format::LABELS_NAMES_OFFSET;
    let values_at = names_at + name_count * format::NAME_ENTRY_LEN;
    // Indexed values are never empty; "" can only be symbol 0.
    let empty_symbol = symbols.entry(b, 0).is_some_and(<[u8]>::is_empty);
    let field = |at: usize| u32_at(b, at).unwrap_or_default() as usize;
    let mut next_value = 0;
    let mut last_name = None;
    for i in 0..name_count {
        let at = names_at + i * format::NAME_ENTRY_LEN;
        let name = field(at + format::NAME_SYMBOL_OFFSET);
        let first = field(at + format::NAME_FIRST_VALUE_OFFSET);
        let count = field(at + format::NAME_VALUE_COUNT_OFFSET);
        let postings = field(at + format::NAME_POSTINGS_OFFSET);
        if name >= symbol_count || postings >= postings_count {
            return Err(corrupt(at, "reference out of range"));
        }
        if last_name.is_some_and(|l| l >= name) {
            return Err(corrupt(at, "label names are not sorted and unique"));
        }
        last_name = Some(name);
        if first != next_value || count > value_count - first {
            return Err(corrupt(at, "value run does not follow the previous one"));
        }
        next_value = first + count;
        let mut last_value = None;
        for v in first..first + count {
            let at = values_at + v * format::VALUE_ENTRY_LEN;
            let value = field(at + format::VALUE_SYMBOL_OFFSET);
            let postings = field(at + format::VALUE_POSTINGS_OFFSET);
            if value >= symbol_count || postings >= postings_count {
                return Err(corrupt(at, "reference out of range"));
            }
            if value == 0 && empty_symbol {
                return Err(corrupt(at, "empty label value indexed"));
            }
            if last_value.is_some_and(|l| l >= value) {
                return Err(corrupt(at, "label values are not sorted and unique"));
            }
            last_value = Some(value);
        }
    }
    if next_value != value_count {
        return Err(corrupt(values_at, "value entries not owned by any name"));
    }
    Ok((
        Entries {
            count: name_count,
            at: names_at,
        },
        Entries {
            count: value_count,
            at: values_at,
        },
    ))
}

/// The roaring cookie of the format without run containers, which the roaring crate writes.
const ROARING_COOKIE: u32 = 12346;

/// Decodes a postings list, refusing what the roaring crate's checked decoder lets through:
/// another cookie (run containers, which the writer never emits), containers out of key order,
/// and trailing bytes.
fn decode_checked(bytes: &[u8]) -> Option<RoaringBitmap> {
    if u32_at(bytes, 0)? != ROARING_COOKIE {
        return None;
    }
    let size = u32_at(bytes, 4)? as usize;
    if size > 1 << 16 {
        return None;
    }
    let mut previous = None;
    for i in 0..size {
        let key = u32_at(bytes, 8 + 4 * i)? & 0xffff;
        if previous.is_some_and(|p| p >= key) {
            return None;
        }
        previous = Some(key);
    }
    let mut rest = bytes;
    let bitmap = RoaringBitmap::deserialize_from(&mut rest).ok()?;
    rest.is_empty().then_some(bitmap)
}
