//! Decoding: walk an exemplar chunk in order.

use std::borrow::Cow;

use super::error::{ExemplarError, ExemplarErrorKind as Kind};
use super::{
    ExemplarRef, FIRST_EXEMPLAR_OFFSET, IdKind, MAX_LABEL_BYTES, MAX_LABELS, NUM_EXEMPLARS_OFFSET,
    decimal, to_hex,
};
use crate::bitstream::BitReader;
use crate::varbit::{self, XorReader};

/// A label set as the chunk defines it: names and constant values as indices into the
/// string table.
#[derive(Clone, Debug)]
pub(super) struct DecodedSet {
    pub(super) labels: Vec<(usize, SetValue)>,
    /// The ID slots in label order (`span_id` sorts before `trace_id`).
    slots: [Option<IdKind>; 2],
    /// Bytes of the names and constant values.
    const_bytes: usize,
}

/// A label value in a set: a string, or an ID stored with each exemplar.
#[derive(Clone, Copy, Debug)]
pub(super) enum SetValue {
    Str(usize),
    /// The slot's number among the set's slots, 0 or 1.
    Slot(usize),
}

/// One exemplar's value of an ID slot.
#[derive(Clone, Copy, Debug)]
enum IdValue<'a> {
    Trace([u8; 16]),
    Span([u8; 8]),
    Str(&'a str),
}

/// What a string tag stands for.
enum Tag {
    /// An entry of the string table, new or old.
    Str(usize),
    /// An ID slot (allowed only as a set's value).
    Slot,
}

/// Iterates the exemplars of an exemplar chunk, oldest first.
///
/// Borrows the chunk's bytes and never writes to them, so they may live in a read-only
/// mapping. Construction reads only the 2-byte count; every exemplar is decoded on demand,
/// and its labels are built only when it is returned ([`seek`](Self::seek) skips without
/// building them).
///
/// A truncated or corrupt chunk ends the iteration early and leaves the reason in
/// [`err`](Self::err). Arbitrary bytes never panic; iteration ends after at most the
/// header's count (below 65 536); what the decoder keeps (the chunk's strings and label
/// sets) grows only with bytes it has read, and one label set holds at most
/// [`MAX_LABELS`](super::MAX_LABELS) labels.
///
/// ```
/// use cairn_chunkenc::exemplar::{ExemplarAppender, ExemplarIterator};
///
/// let mut app = ExemplarAppender::new();
/// for i in 0..10 {
///     app.append(1_000 * i, i as f64, &[("trace_id", format!("{i:032x}"))])?;
/// }
/// let mut it = ExemplarIterator::new(app.bytes());
/// let e = it.seek(4_500).unwrap();
/// assert_eq!((e.t, e.v), (5_000, 5.0));
/// assert_eq!(e.labels[0].1, "00000000000000000000000000000005");
/// assert_eq!(it.count(), 4);
/// # Ok::<(), cairn_chunkenc::exemplar::AppendError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ExemplarIterator<'a> {
    data: &'a [u8],
    pub(super) reader: BitReader<'a>,
    /// The header's count.
    exemplars: u16,
    /// Exemplars to decode: `exemplars`, lowered to `read` when an error stops the iteration.
    total: u32,
    /// Exemplars decoded so far.
    pub(super) read: u32,
    pub(super) t: i64,
    /// The last timestamp delta, unsigned: timestamps never decrease.
    pub(super) t_delta: u64,
    pub(super) xor: XorReader,
    /// Every string literal so far, in order: the string table references index.
    pub(super) strings: Vec<&'a str>,
    /// Every label set defined so far, in order.
    pub(super) sets: Vec<DecodedSet>,
    /// The current exemplar's set.
    pub(super) set: usize,
    /// The current exemplar's ID values, by slot.
    ids: [IdValue<'a>; 2],
    err: Option<ExemplarError>,
}

impl<'a> ExemplarIterator<'a> {
    /// An iterator over `chunk`, the chunk's bytes from its exemplar count on.
    pub fn new(chunk: &'a [u8]) -> Self {
        let (count, err) = match chunk
            .get(NUM_EXEMPLARS_OFFSET..)
            .and_then(<[u8]>::first_chunk::<2>)
        {
            Some(count) => (u16::from_be_bytes(*count), None),
            None => (
                0,
                Some(ExemplarError::new(
                    Kind::MissingHeader { len: chunk.len() },
                    chunk.len(),
                )),
            ),
        };
        ExemplarIterator {
            data: chunk,
            reader: BitReader::new(chunk, FIRST_EXEMPLAR_OFFSET),
            exemplars: count,
            total: u32::from(count),
            read: 0,
            t: 0,
            t_delta: 0,
            xor: XorReader::new(),
            strings: Vec::new(),
            sets: Vec::new(),
            set: 0,
            ids: [IdValue::Str(""); 2],
            err,
        }
    }

    /// The exemplar count the chunk's header states (0 if the header itself is missing).
    pub fn num_exemplars(&self) -> usize {
        usize::from(self.exemplars)
    }

    /// Why the iteration stopped early, if it did: the chunk is truncated or corrupt.
    ///
    /// `None` after a complete iteration. Check it once `next` or `seek` returned `None`.
    pub fn err(&self) -> Option<&ExemplarError> {
        self.err.as_ref()
    }

    /// Like [`next`](Iterator::next), but a truncated or corrupt chunk is an `Err` instead
    /// of an early `None`.
    ///
    /// # Errors
    ///
    /// The chunk's bytes end inside an exemplar or are inconsistent; the error says where.
    pub fn try_next(&mut self) -> Result<Option<ExemplarRef<'a>>, ExemplarError> {
        match self.next() {
            Some(e) => Ok(Some(e)),
            None => match &self.err {
                Some(e) => Err(e.clone()),
                None => Ok(None),
            },
        }
    }

    /// Advances to the first exemplar with a timestamp at or after `t` and returns it.
    ///
    /// As in Prometheus' chunk iterators, if the current exemplar (the last one returned)
    /// already qualifies, the iterator stays and returns it again; it never moves backwards.
    /// The next call to `next` returns the exemplar after the one found. `None` means no
    /// later exemplar qualifies (the iterator is then exhausted) or the chunk is corrupt
    /// (see [`err`](Self::err)). Skipped exemplars are decoded but their labels not built.
    pub fn seek(&mut self, t: i64) -> Option<ExemplarRef<'a>> {
        if self.err.is_some() {
            return None;
        }
        if self.read > 0 && self.t >= t {
            return Some(self.current());
        }
        while self.advance() {
            if self.t >= t {
                return Some(self.current());
            }
        }
        None
    }

    /// The exemplar the last successful [`next`](Iterator::next) or [`seek`](Self::seek)
    /// returned. Before the first one, and after an error, it means nothing.
    pub fn at(&self) -> ExemplarRef<'a> {
        self.current()
    }

    /// Decodes the next exemplar into the iterator's state; `false` at the end or on error.
    pub(super) fn advance(&mut self) -> bool {
        if self.read >= self.total {
            return false;
        }
        if let Err(e) = self.decode() {
            self.err = Some(e);
            self.total = self.read;
            return false;
        }
        if self.reader.overran() {
            self.err = Some(self.truncated());
            self.total = self.read;
            return false;
        }
        self.read += 1;
        true
    }

    /// Builds the current exemplar from the state.
    fn current(&self) -> ExemplarRef<'a> {
        let labels = match self.sets.get(self.set) {
            Some(set) => set
                .labels
                .iter()
                .map(|&(name, value)| {
                    let value = match value {
                        SetValue::Str(i) => Cow::Borrowed(self.string(i)),
                        SetValue::Slot(slot) => match self.ids.get(slot) {
                            Some(IdValue::Trace(raw)) => Cow::Owned(to_hex(raw)),
                            Some(IdValue::Span(raw)) => Cow::Owned(to_hex(raw)),
                            Some(IdValue::Str(s)) => Cow::Borrowed(*s),
                            None => Cow::Borrowed(""),
                        },
                    };
                    (Cow::Borrowed(self.string(name)), value)
                })
                .collect(),
            None => Vec::new(),
        };
        ExemplarRef {
            t: self.t,
            v: f64::from_bits(self.xor.v),
            labels,
        }
    }

    /// An entry of the string table; every index kept in a set was checked when read.
    fn string(&self, i: usize) -> &'a str {
        self.strings.get(i).copied().unwrap_or("")
    }

    /// Index of the exemplar being decoded, for errors.
    fn index(&self) -> u16 {
        // Below `exemplars`, a u16.
        u16::try_from(self.read).unwrap_or(u16::MAX)
    }

    /// The byte the reader is in.
    fn byte_pos(&self) -> usize {
        self.reader.bit_position() / 8
    }

    /// The current exemplar runs past the end of the chunk.
    fn truncated(&self) -> ExemplarError {
        let kind = Kind::Truncated {
            exemplar: self.index(),
            exemplars: self.exemplars,
        };
        ExemplarError::new(kind, self.data.len())
    }

    /// `kind` at byte `offset`, unless the bits that look wrong were read past the end of
    /// the chunk (zeros standing in for missing bytes): then the chunk is truncated.
    fn corrupt(&self, kind: Kind, offset: usize) -> ExemplarError {
        if self.reader.overran() {
            self.truncated()
        } else {
            ExemplarError::new(kind, offset)
        }
    }

    /// Skips to the next byte boundary.
    fn align(&mut self) {
        let pos = self.reader.bit_position().div_ceil(8);
        self.reader = BitReader::new(self.data, pos);
    }

    /// Decodes one exemplar: timestamp, value, label-set reference (and definition), IDs.
    fn decode(&mut self) -> Result<(), ExemplarError> {
        let exemplar = self.index();
        let start = self.byte_pos();
        if self.read == 0 {
            let Some(zigzag) = varbit::read_uvarint(&mut self.reader) else {
                return Err(self.corrupt(Kind::VarintOverflow { exemplar }, start));
            };
            self.t = varbit::unzigzag(zigzag);
        } else {
            let dod = varbit::read_dod(&mut self.reader);
            let delta = self.t_delta.wrapping_add(dod as u64);
            let Some(t) = self.t.checked_add_unsigned(delta) else {
                return Err(self.corrupt(Kind::TimestampOutOfOrder { exemplar }, start));
            };
            self.t = t;
            self.t_delta = delta;
        }
        self.read_value(exemplar)?;
        self.read_set_ref(exemplar)?;
        self.read_ids(exemplar, start)
    }

    /// `1`, a scale and an integer: a decimal; `0`: the first value's raw bits, or the
    /// XOR against the previous one.
    fn read_value(&mut self, exemplar: u16) -> Result<(), ExemplarError> {
        let start = self.byte_pos();
        if self.reader.read(1) == 1 {
            let k = self.reader.read(decimal::SCALE_BITS) as u8;
            let Some(m) = varbit::read_uvarint(&mut self.reader) else {
                return Err(self.corrupt(Kind::VarintOverflow { exemplar }, start));
            };
            self.xor.v = decimal::from_decimal(k, varbit::unzigzag(m)).to_bits();
        } else if self.read == 0 {
            self.xor.v = self.reader.read_wide(64);
        } else if let Err(bad) = self.xor.read(&mut self.reader) {
            let kind = Kind::BadXorWindow {
                exemplar,
                leading: bad.leading,
                significant: bad.significant,
            };
            return Err(self.corrupt(kind, start));
        }
        Ok(())
    }

    /// `0`: the previous set; `10` and an index: an earlier set; `11`: a new set.
    fn read_set_ref(&mut self, exemplar: u16) -> Result<(), ExemplarError> {
        let start = self.byte_pos();
        self.reader.ensure(2);
        match self.reader.peek(2) {
            0b00 | 0b01 => {
                self.reader.consume(1);
                if self.read == 0 {
                    return Err(self.corrupt(Kind::NoPreviousLabelSet, start));
                }
            }
            0b10 => {
                self.reader.consume(2);
                let sets = self.sets.len();
                let width = varbit::bit_len(sets.saturating_sub(1) as u64);
                let index = if width == 0 {
                    0
                } else {
                    self.reader.read_wide(width)
                };
                match usize::try_from(index) {
                    Ok(i) if i < sets => self.set = i,
                    _ => {
                        let kind = Kind::BadLabelSetIndex {
                            exemplar,
                            index,
                            sets,
                        };
                        return Err(self.corrupt(kind, start));
                    }
                }
            }
            _ => {
                self.reader.consume(2);
                self.read_set(exemplar)?;
            }
        }
        Ok(())
    }

    /// A new label set, byte-aligned: a uvarint count, then a name and a value per label.
    fn read_set(&mut self, exemplar: u16) -> Result<(), ExemplarError> {
        self.align();
        let start = self.byte_pos();
        let Some(count) = varbit::read_uvarint(&mut self.reader) else {
            return Err(self.corrupt(Kind::VarintOverflow { exemplar }, start));
        };
        let count = match usize::try_from(count) {
            Ok(n) if n <= MAX_LABELS => n,
            _ => {
                let kind = Kind::TooManyLabels {
                    exemplar,
                    labels: count,
                };
                return Err(self.corrupt(kind, start));
            }
        };
        // Each label takes at least two bytes (two tags): never reserve more than the
        // bytes left could hold.
        let room = self.data.len().saturating_sub(self.byte_pos()) / 2;
        let mut labels = Vec::with_capacity(count.min(room));
        let mut slots = [None; 2];
        let mut num_slots = 0;
        let mut const_bytes = 0;
        let mut prev: Option<&str> = None;
        for label in 0..count {
            let label_start = self.byte_pos();
            let name = self.read_string(exemplar)?;
            let name_str = self.string(name);
            if prev.is_some_and(|p| p >= name_str) {
                let kind = Kind::UnsortedLabels { exemplar, label };
                return Err(self.corrupt(kind, label_start));
            }
            prev = Some(name_str);
            const_bytes += name_str.len();
            let value_start = self.byte_pos();
            let value = match self.read_str(exemplar, true)? {
                Tag::Str(value) => {
                    const_bytes += self.string(value).len();
                    SetValue::Str(value)
                }
                Tag::Slot => {
                    let (Some(kind), Some(slot)) = (IdKind::of(name_str), slots.get_mut(num_slots))
                    else {
                        let kind = Kind::MisplacedIdSlot { exemplar, label };
                        return Err(self.corrupt(kind, value_start));
                    };
                    *slot = Some(kind);
                    num_slots += 1;
                    SetValue::Slot(num_slots - 1)
                }
            };
            labels.push((name, value));
        }
        self.sets.push(DecodedSet {
            labels,
            slots,
            const_bytes,
        });
        self.set = self.sets.len() - 1;
        Ok(())
    }

    /// A string field, byte-aligned: a uvarint tag whose low two bits say what follows.
    /// `0`: a literal of `tag >> 2` bytes, which joins the string table; `1`: string table
    /// entry `tag >> 2`; the tag `2`: an ID slot, if `slot_ok`.
    fn read_str(&mut self, exemplar: u16, slot_ok: bool) -> Result<Tag, ExemplarError> {
        let start = self.byte_pos();
        let Some(tag) = varbit::read_uvarint(&mut self.reader) else {
            return Err(self.corrupt(Kind::VarintOverflow { exemplar }, start));
        };
        match tag & 0b11 {
            0 => {
                let len = match usize::try_from(tag >> 2) {
                    Ok(len) if len <= MAX_LABEL_BYTES => len,
                    _ => {
                        let kind = Kind::StringTooLong {
                            exemplar,
                            len: tag >> 2,
                        };
                        return Err(self.corrupt(kind, start));
                    }
                };
                let pos = self.byte_pos();
                let Some(bytes) = self.data.get(pos..pos.saturating_add(len)) else {
                    return Err(self.truncated());
                };
                let Ok(s) = std::str::from_utf8(bytes) else {
                    return Err(self.corrupt(Kind::InvalidUtf8 { exemplar }, pos));
                };
                self.reader = BitReader::new(self.data, pos + len);
                self.strings.push(s);
                Ok(Tag::Str(self.strings.len() - 1))
            }
            1 => {
                let strings = self.strings.len();
                match usize::try_from(tag >> 2) {
                    Ok(i) if i < strings => Ok(Tag::Str(i)),
                    _ => {
                        let kind = Kind::BadStringIndex {
                            exemplar,
                            index: tag >> 2,
                            strings,
                        };
                        Err(self.corrupt(kind, start))
                    }
                }
            }
            _ if tag == 2 && slot_ok => Ok(Tag::Slot),
            _ => Err(self.corrupt(Kind::BadStringTag { exemplar, tag }, start)),
        }
    }

    /// A string field where an ID slot cannot be: the string table index.
    fn read_string(&mut self, exemplar: u16) -> Result<usize, ExemplarError> {
        match self.read_str(exemplar, false)? {
            Tag::Str(i) => Ok(i),
            // `read_str` returns a slot only when allowed; this is its error if not.
            Tag::Slot => {
                Err(self.corrupt(Kind::BadStringTag { exemplar, tag: 2 }, self.byte_pos()))
            }
        }
    }

    /// The current set's ID values: per slot, `1` and the raw bytes, or `0` and a
    /// byte-aligned string field (the bits go on at the next byte after it).
    fn read_ids(&mut self, exemplar: u16, start: usize) -> Result<(), ExemplarError> {
        let Some(set) = self.sets.get(self.set) else {
            // `set` indexes `sets` once an exemplar has a set.
            return Err(self.corrupt(Kind::NoPreviousLabelSet, start));
        };
        let (slots, mut bytes) = (set.slots, set.const_bytes);
        for (slot, kind) in slots.iter().enumerate() {
            let Some(kind) = *kind else { break };
            let value = if self.reader.read(1) == 1 {
                bytes += 2 * kind.raw_len();
                match kind {
                    IdKind::Trace => {
                        let hi = self.reader.read_wide(64);
                        let lo = self.reader.read_wide(64);
                        IdValue::Trace(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
                    }
                    IdKind::Span => IdValue::Span(self.reader.read_wide(64).to_be_bytes()),
                }
            } else {
                self.align();
                let s = self.read_string(exemplar)?;
                let s = self.string(s);
                bytes += s.len();
                IdValue::Str(s)
            };
            if let Some(id) = self.ids.get_mut(slot) {
                *id = value;
            }
        }
        if bytes > MAX_LABEL_BYTES {
            return Err(self.corrupt(Kind::LabelsTooLarge { exemplar, bytes }, start));
        }
        Ok(())
    }
}

impl<'a> Iterator for ExemplarIterator<'a> {
    type Item = ExemplarRef<'a>;

    fn next(&mut self) -> Option<ExemplarRef<'a>> {
        if self.advance() {
            Some(self.current())
        } else {
            None
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some((self.total - self.read) as usize))
    }
}

impl std::iter::FusedIterator for ExemplarIterator<'_> {}
