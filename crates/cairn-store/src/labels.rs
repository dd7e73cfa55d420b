//! A series' labels as the head keeps them: one boxed byte string per series.
//!
//! A `Labels` costs two heap strings per label; a million node-exporter-like series would
//! spend more than a kilobyte each on that alone. The head instead keeps each series' labels
//! as one allocation: for each label in name order, the name's length (uvarint), the name,
//! the value's length (uvarint) and the value. Names and values are UTF-8, as they came in.
//! (The string layout is the WAL records' `put_str`.)

use std::hash::Hasher;

use cairn_model::Labels;

use crate::record::buf::put_str;

/// A series' labels in one allocation, sorted by name.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct CompactLabels(Box<[u8]>);

impl CompactLabels {
    /// Packs sorted, unique label pairs.
    pub(crate) fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut buf = Vec::new();
        for (name, value) in pairs {
            put_str(&mut buf, name);
            put_str(&mut buf, value);
        }
        CompactLabels(buf.into_boxed_slice())
    }

    /// Packs a [`Labels`].
    pub(crate) fn from_labels(labels: &Labels) -> Self {
        CompactLabels::from_pairs(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())))
    }

    /// The label pairs, in name order.
    pub(crate) fn iter(&self) -> Pairs<'_> {
        Pairs { rest: &self.0 }
    }

    /// Unpacks into a [`Labels`].
    pub(crate) fn to_labels(&self) -> Labels {
        Labels::from_pairs(self.iter())
    }

    /// Bytes held on the heap.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.len()
    }

    /// The packed bytes: equal label sets have equal bytes.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for CompactLabels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The label pairs of a [`CompactLabels`].
pub(crate) struct Pairs<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<(&'a str, &'a str)> {
        let name = take_str(&mut self.rest)?;
        let value = take_str(&mut self.rest)?;
        Some((name, value))
    }
}

/// Reads back what [`put_str`] wrote. The bytes never come from outside the process (the
/// head packs them itself from `&str`s), so a malformed string is a bug, answered with
/// `None` (the iteration ends) rather than a panic.
fn take_str<'a>(rest: &mut &'a [u8]) -> Option<&'a str> {
    let mut len = 0usize;
    let mut shift = 0;
    loop {
        let (&byte, tail) = rest.split_first()?;
        *rest = tail;
        len |= usize::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return None;
        }
    }
    let (s, tail) = rest.split_at_checked(len)?;
    *rest = tail;
    std::str::from_utf8(s).ok()
}

/// A hash of packed label bytes, for the head's labels → series map.
pub(crate) fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut hasher = FastHasher::default();
    hasher.write(bytes);
    hasher.finish()
}

/// A fast, unkeyed hasher for series text and packed labels: eight bytes per multiply.
/// Keys come from scraped targets, which could craft collisions; a collision costs a
/// comparison per lookup, never a wrong answer.
#[derive(Clone, Copy, Default)]
pub(crate) struct FastHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(c);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        let mut word = [0u8; 8];
        if let Some(dst) = word.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
    }

    #[inline]
    fn finish(&self) -> u64 {
        // Fold the high bits down: hash tables take both ends.
        self.0 ^ (self.0 >> 29)
    }
}

/// A `HashMap` state with [`FastHasher`].
pub(crate) type FastState = std::hash::BuildHasherDefault<FastHasher>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let long = "x".repeat(300);
        let labels = Labels::from_pairs([("__name__", "up"), ("a", ""), ("job", long.as_str())]);
        let packed = CompactLabels::from_labels(&labels);
        assert_eq!(packed.to_labels(), labels);
        // "__name__" and "up" (1 + 8, 1 + 2), "a" and "" (1 + 1, 1), the long value's 2-byte length.
        assert_eq!(packed.heap_bytes(), 9 + 3 + 2 + 1 + 4 + 2 + 300);
    }
}
