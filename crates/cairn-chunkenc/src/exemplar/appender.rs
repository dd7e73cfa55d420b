//! Encoding: append exemplars to a chunk.

use std::collections::HashMap;

use super::error::{AppendError, ExemplarError, ExemplarErrorKind};
use super::iterator::{ExemplarIterator, SetValue};
use super::{
    IdKind, MAX_LABEL_BYTES, MAX_LABELS, NUM_EXEMPLARS_OFFSET, TARGET_BYTES_PER_CHUNK, decimal,
    parse_hex,
};
use crate::bitstream::BitWriter;
use crate::varbit::{self, XorWriter};

/// A label set in the dictionary: per label, the name's string index and the value's, or
/// `None` for an ID slot (`trace_id` or `span_id`, whose value each exemplar stores).
type SetKey = Vec<(usize, Option<usize>)>;

/// Builds an exemplar chunk in an owned, growable buffer, one exemplar at a time.
///
/// The buffer is a valid chunk after every append: [`bytes`](Self::bytes) can be read,
/// copied or written to disk at any time.
///
/// When to cut: [`is_full`](Self::is_full) turns true once the chunk holds
/// [`TARGET_BYTES_PER_CHUNK`] (4096) bytes; a writer that checks it before each append
/// never makes a chunk larger than [`MAX_BYTES_PER_CHUNK`](super::MAX_BYTES_PER_CHUNK).
/// Cutting by time (for instance with the sample chunks) is the store's policy.
///
/// ```
/// use cairn_chunkenc::exemplar::{AppendError, ExemplarAppender};
///
/// let mut app = ExemplarAppender::new();
/// app.append(1_000, 0.5, &[("trace_id", "0af7651916cd43dd8448eb211c80319c")])?;
/// // Timestamps never go back; an equal one is fine.
/// assert_eq!(
///     app.append(999, 0.5, &[("trace_id", "x")]),
///     Err(AppendError::OutOfOrder { t: 999, last: 1_000 })
/// );
/// app.append(1_000, 0.7, &[("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")])?;
/// assert_eq!(app.num_exemplars(), 2);
/// # Ok::<(), AppendError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ExemplarAppender {
    out: BitWriter,
    num: u16,
    t: i64,
    /// The last timestamp delta, unsigned: timestamps never decrease.
    t_delta: u64,
    xor: XorWriter,
    /// The string table, in the order the chunk stores the literals.
    strings: Vec<Box<str>>,
    string_ids: HashMap<Box<str>, usize>,
    /// The label-set dictionary, in the order the chunk defines the sets.
    sets: Vec<SetKey>,
    set_ids: HashMap<SetKey, usize>,
    /// The last exemplar's set.
    last_set: Option<usize>,
}

impl Default for ExemplarAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl ExemplarAppender {
    /// An empty chunk: an exemplar count of 0 and nothing else.
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u16.to_be_bytes());
        ExemplarAppender {
            out: BitWriter::from_parts(buf, 0),
            num: 0,
            t: 0,
            t_delta: 0,
            xor: XorWriter::new(),
            strings: Vec::new(),
            string_ids: HashMap::new(),
            sets: Vec::new(),
            set_ids: HashMap::new(),
            last_set: None,
        }
    }

    /// Reopens an existing chunk to append more exemplars: decodes every exemplar to
    /// rebuild the dictionary and the timestamp and value state, then continues at the exact
    /// bit where the last exemplar ends.
    ///
    /// As with [`XorAppender::resume`](crate::XorAppender::resume), the value window starts
    /// from the decoder's view, so the bytes after reopening can differ from (and be slightly
    /// longer than) those of appending everything in one go; they decode the same.
    ///
    /// # Errors
    ///
    /// The chunk is truncated or corrupt ([`ExemplarIterator`]'s errors), or bytes follow
    /// the last exemplar ([`ExemplarErrorKind::TrailingBytes`]).
    pub fn resume(chunk: Vec<u8>) -> Result<Self, ExemplarError> {
        let mut it = ExemplarIterator::new(&chunk);
        while it.advance() {}
        if let Some(e) = it.err() {
            return Err(e.clone());
        }
        let end_bits = it.reader.bit_position();
        let num = u16::try_from(it.read).unwrap_or(u16::MAX);
        let strings: Vec<Box<str>> = it.strings.iter().map(|&s| Box::from(s)).collect();
        let sets: Vec<SetKey> = it
            .sets
            .iter()
            .map(|set| {
                set.labels
                    .iter()
                    .map(|&(name, value)| match value {
                        SetValue::Str(v) => (name, Some(v)),
                        SetValue::Slot(_) => (name, None),
                    })
                    .collect()
            })
            .collect();
        let mut string_ids = HashMap::with_capacity(strings.len());
        for (i, s) in strings.iter().enumerate() {
            string_ids.entry(s.clone()).or_insert(i);
        }
        let mut set_ids = HashMap::with_capacity(sets.len());
        for (i, set) in sets.iter().enumerate() {
            set_ids.entry(set.clone()).or_insert(i);
        }
        let (t, t_delta, xor, last_set) = if num == 0 {
            (0, 0, XorWriter::new(), None)
        } else {
            (it.t, it.t_delta, XorWriter::resume(&it.xor), Some(it.set))
        };
        let len = chunk.len();
        let out = BitWriter::resume(chunk, end_bits)
            .map_err(|used| ExemplarError::new(ExemplarErrorKind::TrailingBytes { len }, used))?;
        Ok(ExemplarAppender {
            out,
            num,
            t,
            t_delta,
            xor,
            strings,
            string_ids,
            sets,
            set_ids,
            last_set,
        })
    }

    /// Number of exemplars in the chunk.
    pub fn num_exemplars(&self) -> usize {
        usize::from(self.num)
    }

    /// The chunk's bytes: a complete chunk, from the 2-byte count to the last (zero-padded)
    /// byte.
    pub fn bytes(&self) -> &[u8] {
        self.out.bytes()
    }

    /// The chunk's bytes, giving up the appender.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out.into_bytes()
    }

    /// The last exemplar's timestamp and value, if any.
    pub fn last(&self) -> Option<(i64, f64)> {
        (self.num > 0).then(|| (self.t, f64::from_bits(self.xor.v)))
    }

    /// Whether the chunk should be cut before the next append.
    ///
    /// True once the chunk holds [`TARGET_BYTES_PER_CHUNK`] (4096) bytes, or 65 535
    /// exemplars (the most its header can count; far beyond the byte target in practice).
    /// One more exemplar adds at most [`MAX_EXEMPLAR_BYTES`](super::MAX_EXEMPLAR_BYTES), so
    /// a chunk cut here stays within [`MAX_BYTES_PER_CHUNK`](super::MAX_BYTES_PER_CHUNK).
    pub fn is_full(&self) -> bool {
        self.out.bytes().len() >= TARGET_BYTES_PER_CHUNK || self.num == u16::MAX
    }

    /// Appends an exemplar: a timestamp in milliseconds, a value (stored bit-exactly) and
    /// its labels, sorted by name with unique names.
    ///
    /// A `trace_id` of exactly 32 lowercase hex digits and a `span_id` of exactly 16 are
    /// stored as 16 and 8 raw bytes; any other value of theirs as a string. The other labels
    /// go through the chunk's dictionary: repeating the previous exemplar's set (names and
    /// values, IDs aside) costs one bit.
    ///
    /// # Errors
    ///
    /// The chunk is left unchanged if `t` is before the last exemplar's timestamp, the
    /// labels are not sorted by name or repeat a name, there are more than
    /// [`MAX_LABELS`] of them or they take more than [`MAX_LABEL_BYTES`] bytes, or the chunk
    /// already counts 65 535 exemplars.
    pub fn append<N: AsRef<str>, V: AsRef<str>>(
        &mut self,
        t: i64,
        v: f64,
        labels: &[(N, V)],
    ) -> Result<(), AppendError> {
        check(self.last().map(|(last, _)| last), t, labels)?;
        if self.num == u16::MAX {
            return Err(AppendError::Full);
        }
        if self.num == 0 {
            varbit::write_uvarint(&mut self.out, varbit::zigzag(t));
        } else {
            // `t >= self.t`: the unsigned difference is exact.
            let delta = t.wrapping_sub(self.t) as u64;
            varbit::write_dod(&mut self.out, delta.wrapping_sub(self.t_delta) as i64);
            self.t_delta = delta;
        }
        self.write_value(v);
        self.t = t;

        let set = match self.last_set.filter(|&s| self.same_set(s, labels)) {
            Some(set) => {
                self.out.write_bits(0b0, 1);
                set
            }
            None => match self.find_set(labels) {
                Some(set) => {
                    let width = varbit::bit_len(self.sets.len().saturating_sub(1) as u64);
                    self.out.write_bits(0b10, 2);
                    if width > 0 {
                        self.out.write_bits(set as u64, width);
                    }
                    set
                }
                None => {
                    self.out.write_bits(0b11, 2);
                    self.define_set(labels)
                }
            },
        };
        self.last_set = Some(set);

        for (name, value) in labels {
            let value = value.as_ref();
            match IdKind::of(name.as_ref()) {
                Some(IdKind::Trace) => match parse_hex::<16>(value) {
                    Some(raw) => {
                        let raw = u128::from_be_bytes(raw);
                        self.out.write_bits(0b1, 1);
                        self.out.write_bits((raw >> 64) as u64, 64);
                        self.out.write_bits(raw as u64, 64);
                    }
                    None => self.write_id_string(value),
                },
                Some(IdKind::Span) => match parse_hex::<8>(value) {
                    Some(raw) => {
                        self.out.write_bits(0b1, 1);
                        self.out.write_bits(u64::from_be_bytes(raw), 64);
                    }
                    None => self.write_id_string(value),
                },
                None => {}
            }
        }

        self.num += 1;
        self.out.put_u16(NUM_EXEMPLARS_OFFSET, self.num);
        Ok(())
    }

    /// Whether `labels` is dictionary set `set`: the same names, the same values apart
    /// from the IDs. Allocates nothing: this is the path of almost every exemplar.
    fn same_set<N: AsRef<str>, V: AsRef<str>>(&self, set: usize, labels: &[(N, V)]) -> bool {
        let Some(key) = self.sets.get(set) else {
            return false;
        };
        key.len() == labels.len()
            && key.iter().zip(labels).all(|(&(name, value), (n, v))| {
                let n = n.as_ref();
                self.string(name) == n
                    && match (value, IdKind::of(n)) {
                        (None, Some(_)) => true,
                        (Some(value), None) => self.string(value) == v.as_ref(),
                        _ => false,
                    }
            })
    }

    /// The dictionary set equal to `labels`, if any.
    fn find_set<N: AsRef<str>, V: AsRef<str>>(&self, labels: &[(N, V)]) -> Option<usize> {
        let key = labels
            .iter()
            .map(|(n, v)| {
                let (n, v) = (n.as_ref(), v.as_ref());
                let name = *self.string_ids.get(n)?;
                let value = match IdKind::of(n) {
                    Some(_) => None,
                    None => Some(*self.string_ids.get(v)?),
                };
                Some((name, value))
            })
            .collect::<Option<SetKey>>()?;
        self.set_ids.get(&key).copied()
    }

    /// Writes a new set, byte-aligned: the label count, then per label its name and its
    /// value (or the ID slot tag). Returns its index.
    fn define_set<N: AsRef<str>, V: AsRef<str>>(&mut self, labels: &[(N, V)]) -> usize {
        self.align();
        varbit::write_uvarint(&mut self.out, labels.len() as u64);
        let mut key = Vec::with_capacity(labels.len());
        for (n, v) in labels {
            let n = n.as_ref();
            let name = self.write_string(n);
            let value = match IdKind::of(n) {
                Some(_) => {
                    varbit::write_uvarint(&mut self.out, 0b10);
                    None
                }
                None => Some(self.write_string(v.as_ref())),
            };
            key.push((name, value));
        }
        let set = self.sets.len();
        self.set_ids.entry(key.clone()).or_insert(set);
        self.sets.push(key);
        set
    }

    /// The value: `1`, a 4-bit scale `k` and the zigzag uvarint `m` for the decimal
    /// `m / 10^k` when that is exact and shorter; else `0` and the first exemplar's 64 raw
    /// bits or the XOR against the previous value. Either way the value becomes the one
    /// the next XOR is taken against.
    fn write_value(&mut self, v: f64) {
        let bits = v.to_bits();
        let plain = if self.num == 0 {
            64
        } else {
            self.xor.cost(bits)
        };
        let decimal = decimal::to_decimal(v).map(|(k, m)| {
            let m = varbit::zigzag(m);
            (k, m, decimal::SCALE_BITS + 8 * varbit::uvarint_len(m))
        });
        match decimal {
            Some((k, m, cost)) if cost < plain => {
                self.out.write_bits(0b1, 1);
                self.out.write_bits(u64::from(k), decimal::SCALE_BITS);
                varbit::write_uvarint(&mut self.out, m);
                self.xor.v = bits;
            }
            _ => {
                self.out.write_bits(0b0, 1);
                if self.num == 0 {
                    self.out.write_bits(bits, 64);
                    self.xor.v = bits;
                } else {
                    self.xor.write(&mut self.out, bits);
                }
            }
        }
    }

    /// An ID value not in W3C form: `0`, then a byte-aligned string field.
    fn write_id_string(&mut self, value: &str) {
        self.out.write_bits(0b0, 1);
        self.align();
        self.write_string(value);
    }

    /// A string field (at a byte boundary): a reference to the string table if the string
    /// is in it, else a literal that joins it. Returns its index in the table.
    fn write_string(&mut self, s: &str) -> usize {
        if let Some(&i) = self.string_ids.get(s) {
            varbit::write_uvarint(&mut self.out, ((i as u64) << 2) | 0b01);
            return i;
        }
        varbit::write_uvarint(&mut self.out, (s.len() as u64) << 2);
        self.out.write_bytes(s.as_bytes());
        let i = self.strings.len();
        self.strings.push(Box::from(s));
        self.string_ids.insert(Box::from(s), i);
        i
    }

    /// A string table entry; indices in sets always are.
    fn string(&self, i: usize) -> &str {
        self.strings.get(i).map_or("", |s| s)
    }

    /// Moves to the next byte boundary; the skipped bits stay zero.
    fn align(&mut self) {
        let buf = std::mem::take(&mut self.out).into_bytes();
        self.out = BitWriter::from_parts(buf, 0);
    }
}

/// Checks an exemplar against the chunk's rules before anything is written.
fn check<N: AsRef<str>, V: AsRef<str>>(
    last: Option<i64>,
    t: i64,
    labels: &[(N, V)],
) -> Result<(), AppendError> {
    if let Some(last) = last.filter(|&last| t < last) {
        return Err(AppendError::OutOfOrder { t, last });
    }
    if labels.len() > MAX_LABELS {
        return Err(AppendError::TooManyLabels {
            labels: labels.len(),
        });
    }
    let mut bytes = 0;
    let mut prev: Option<&str> = None;
    for (index, (n, v)) in labels.iter().enumerate() {
        let n = n.as_ref();
        if prev.is_some_and(|p| p >= n) {
            return Err(AppendError::UnsortedLabels { index });
        }
        prev = Some(n);
        bytes += n.len() + v.as_ref().len();
    }
    if bytes > MAX_LABEL_BYTES {
        return Err(AppendError::LabelsTooLarge { bytes });
    }
    Ok(())
}
