use std::collections::{BTreeMap, BTreeSet};

use cairn_model::Labels;
use roaring::RoaringBitmap;

use crate::error::Error;
use crate::format::{self, HEADER_CRC_OFFSET, HEADER_LEN, MAGIC, Section, VERSION};

/// Builds the index of a block.
///
/// Series are added in label order, each once, and get dense ids `0, 1, 2, …` in that order:
/// the block's series ids. The index holds, beside the postings, each series' label set, since
/// a block has no other place for it. The layout is in `FORMAT.md`.
///
/// ```
/// use cairn_index::{IndexReader, IndexWriter, LabelIndex};
/// use cairn_model::{Labels, Matcher};
///
/// let mut writer = IndexWriter::new();
/// assert_eq!(writer.add(&Labels::from_pairs([("__name__", "up"), ("job", "api")]))?, 0);
/// assert_eq!(writer.add(&Labels::from_pairs([("__name__", "up"), ("job", "db")]))?, 1);
/// let bytes = writer.finish()?;
///
/// let reader = IndexReader::from_bytes(bytes.as_slice())?;
/// let ids = reader.select(&[Matcher::regex("job", "d.*")?]);
/// assert_eq!(ids.iter().collect::<Vec<_>>(), [1]);
/// assert_eq!(reader.series_labels(1).unwrap().get("job"), Some("db"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct IndexWriter {
    series: Vec<Labels>,
}

impl IndexWriter {
    /// A writer with no series yet.
    pub fn new() -> IndexWriter {
        IndexWriter::default()
    }

    /// Adds the next series and returns its id.
    ///
    /// # Errors
    /// [`Error::OutOfOrder`] when `labels` does not sort strictly after the previous series;
    /// [`Error::TooLarge`] past `u32::MAX` series.
    pub fn add(&mut self, labels: &Labels) -> Result<u32, Error> {
        let id = u32::try_from(self.series.len()).map_err(|_| Error::TooLarge {
            section: Section::Series,
        })?;
        if id == u32::MAX {
            return Err(Error::TooLarge {
                section: Section::Series,
            });
        }
        if self.series.last().is_some_and(|last| labels <= last) {
            return Err(Error::OutOfOrder { id });
        }
        self.series.push(labels.clone());
        Ok(id)
    }

    /// How many series were added.
    pub fn len(&self) -> usize {
        self.series.len()
    }

    /// Whether no series was added.
    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }

    /// Encodes the index.
    ///
    /// # Errors
    /// [`Error::TooLarge`] when a section would exceed 4 GiB.
    pub fn finish(self) -> Result<Vec<u8>, Error> {
        let symbols: Vec<&str> = self
            .series
            .iter()
            .flat_map(|s| s.iter())
            .flat_map(|l| [l.name.as_str(), l.value.as_str()])
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let symbol = |s: &str| symbols.binary_search(&s).unwrap_or_default() as u32;

        // Name → (series with the name, value → series), ids pushed in increasing order.
        let mut inverted: BTreeMap<&str, (RoaringBitmap, BTreeMap<&str, RoaringBitmap>)> =
            BTreeMap::new();
        for (id, labels) in (0u32..).zip(&self.series) {
            for l in labels.iter().filter(|l| !l.value.is_empty()) {
                let (series, values) = inverted.entry(l.name.as_str()).or_default();
                series.push(id);
                values.entry(l.value.as_str()).or_default().push(id);
            }
        }

        let symbols_section = table(
            Section::Symbols,
            symbols.iter().map(|s| s.as_bytes().to_vec()),
        )?;

        let mut bitmaps: Vec<Vec<u8>> = Vec::new();
        let mut names = Vec::new();
        let mut values = Vec::new();
        for (name, (series, by_value)) in &inverted {
            let first_value = count(values.len(), Section::Labels)?;
            let name_postings = count(bitmaps.len(), Section::Postings)?;
            bitmaps.push(serialize(series));
            for (value, postings) in by_value {
                values.push((symbol(value), count(bitmaps.len(), Section::Postings)?));
                bitmaps.push(serialize(postings));
            }
            let value_count = count(by_value.len(), Section::Labels)?;
            names.push([symbol(name), first_value, value_count, name_postings]);
        }
        let postings_section = table(Section::Postings, bitmaps.into_iter())?;

        let mut labels_section = Vec::with_capacity(
            format::LABELS_NAMES_OFFSET
                + names.len() * format::NAME_ENTRY_LEN
                + values.len() * format::VALUE_ENTRY_LEN,
        );
        put_u32(&mut labels_section, count(names.len(), Section::Labels)?);
        put_u32(&mut labels_section, count(values.len(), Section::Labels)?);
        for fields in &names {
            fields.iter().for_each(|&f| put_u32(&mut labels_section, f));
        }
        for &(value, postings) in &values {
            put_u32(&mut labels_section, value);
            put_u32(&mut labels_section, postings);
        }
        check_len(&labels_section, Section::Labels)?;

        let series_section = table(
            Section::Series,
            self.series.iter().map(|labels| {
                let mut refs = Vec::with_capacity(labels.len() * format::SERIES_LABEL_LEN);
                for l in labels {
                    put_u32(&mut refs, symbol(&l.name));
                    put_u32(&mut refs, symbol(&l.value));
                }
                refs
            }),
        )?;

        let sections = [
            symbols_section,
            postings_section,
            labels_section,
            series_section,
        ];
        let body: usize = sections.iter().map(Vec::len).sum();
        let mut out = Vec::with_capacity(HEADER_LEN + body + format::TOC_LEN);
        out.extend_from_slice(&MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&[0; 3]);
        let crc = crc32c::crc32c(out.get(..HEADER_CRC_OFFSET).unwrap_or_default());
        put_u32(&mut out, crc);

        let mut toc = Vec::with_capacity(format::TOC_LEN);
        for section in &sections {
            toc.extend_from_slice(&(out.len() as u64).to_le_bytes());
            toc.extend_from_slice(&(section.len() as u64).to_le_bytes());
            put_u32(&mut toc, crc32c::crc32c(section));
            out.extend_from_slice(section);
        }
        let crc = crc32c::crc32c(&toc);
        put_u32(&mut toc, crc);
        out.extend_from_slice(&toc);
        Ok(out)
    }
}

fn serialize(bitmap: &RoaringBitmap) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(bitmap.serialized_size());
    // Writing to a Vec cannot fail.
    let _ = bitmap.serialize_into(&mut bytes);
    bytes
}

/// A symbol, postings or series table: count, end offsets, then the entries' bytes.
fn table(section: Section, entries: impl Iterator<Item = Vec<u8>>) -> Result<Vec<u8>, Error> {
    let mut ends = Vec::new();
    let mut data = Vec::new();
    for entry in entries {
        data.extend_from_slice(&entry);
        ends.push(count(data.len(), section)?);
    }
    let mut out = Vec::with_capacity(format::COUNT_LEN + ends.len() * format::END_LEN + data.len());
    put_u32(&mut out, count(ends.len(), section)?);
    ends.iter().for_each(|&e| put_u32(&mut out, e));
    out.extend_from_slice(&data);
    check_len(&out, section)?;
    Ok(out)
}

fn count(n: usize, section: Section) -> Result<u32, Error> {
    u32::try_from(n).map_err(|_| Error::TooLarge { section })
}

fn check_len(bytes: &[u8], section: Section) -> Result<(), Error> {
    if bytes.len() > format::MAX_SECTION_LEN {
        return Err(Error::TooLarge { section });
    }
    Ok(())
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
