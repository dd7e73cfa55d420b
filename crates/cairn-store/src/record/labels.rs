//! Label sets inside records: the borrowed view the decoder yields, and what the encoders
//! accept.

use cairn_model::Labels;

use super::MIN_LABEL_LEN;
use super::buf::{Decoder, put_str, put_uvarint};
use super::error::{DecodeError, DecodeErrorKind, Field};

/// A decoded label set: `(name, value)` pairs borrowed from the record's bytes, checked to be
/// UTF-8 and sorted by name with each name once.
///
/// Turn it into [`Labels`] with [`to_labels`](LabelsRef::to_labels), or hand
/// [`as_slice`](LabelsRef::as_slice) to code that takes pairs (the exemplar chunk appender
/// does) without copying the text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LabelsRef<'a> {
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> LabelsRef<'a> {
    /// The pairs, sorted by name.
    pub fn as_slice(&self) -> &[(&'a str, &'a str)] {
        &self.pairs
    }

    /// The pairs, sorted by name.
    pub fn iter(&self) -> std::iter::Copied<std::slice::Iter<'_, (&'a str, &'a str)>> {
        self.pairs.iter().copied()
    }

    /// How many labels there are.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.pairs
            .binary_search_by(|&(n, _)| n.cmp(name))
            .ok()
            .and_then(|i| self.pairs.get(i))
            .map(|&(_, v)| v)
    }

    /// An owned copy.
    pub fn to_labels(&self) -> Labels {
        Labels::from_pairs(self.iter())
    }

    /// Heap bytes held, for the fuzz body's bound on memory.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.pairs.capacity() * size_of::<(&str, &str)>()
    }
}

impl<'a> From<&'a Labels> for LabelsRef<'a> {
    fn from(labels: &'a Labels) -> Self {
        LabelsRef {
            pairs: labels
                .iter()
                .map(|l| (l.name.as_str(), l.value.as_str()))
                .collect(),
        }
    }
}

impl PartialEq<Labels> for LabelsRef<'_> {
    fn eq(&self, other: &Labels) -> bool {
        self.len() == other.len()
            && self
                .iter()
                .zip(other)
                .all(|((n, v), l)| n == l.name && v == l.value)
    }
}

impl PartialEq<&Labels> for LabelsRef<'_> {
    fn eq(&self, other: &&Labels) -> bool {
        *self == **other
    }
}

impl PartialEq<LabelsRef<'_>> for Labels {
    fn eq(&self, other: &LabelsRef<'_>) -> bool {
        *other == *self
    }
}

mod sealed {
    pub trait Sealed {
        fn label_count(&self) -> usize;
        fn for_each_label(&self, f: impl FnMut(&str, &str));
    }
}

/// A label set the encoders can write as it is: sorted by name, each name once.
///
/// Sealed: only [`Labels`] and [`LabelsRef`] (and references to them) keep that promise by
/// construction, so an encoder never writes a record its decoder would refuse.
pub trait SortedLabels: sealed::Sealed {}

impl sealed::Sealed for Labels {
    fn label_count(&self) -> usize {
        self.len()
    }
    fn for_each_label(&self, mut f: impl FnMut(&str, &str)) {
        for l in self {
            f(&l.name, &l.value);
        }
    }
}

impl sealed::Sealed for LabelsRef<'_> {
    fn label_count(&self) -> usize {
        self.len()
    }
    fn for_each_label(&self, mut f: impl FnMut(&str, &str)) {
        for (n, v) in self.iter() {
            f(n, v);
        }
    }
}

impl<T: sealed::Sealed + ?Sized> sealed::Sealed for &T {
    fn label_count(&self) -> usize {
        (**self).label_count()
    }
    fn for_each_label(&self, f: impl FnMut(&str, &str)) {
        (**self).for_each_label(f);
    }
}

impl SortedLabels for Labels {}
impl SortedLabels for LabelsRef<'_> {}
impl<T: SortedLabels + ?Sized> SortedLabels for &T {}

/// Appends a label set: uvarint count, then each name and value as uvarint length + bytes.
pub(crate) fn encode_labels<L: SortedLabels + ?Sized>(labels: &L, buf: &mut Vec<u8>) {
    put_uvarint(buf, labels.label_count() as u64);
    labels.for_each_label(|name, value| {
        put_str(buf, name);
        put_str(buf, value);
    });
}

/// The encoded length of a label set, to reserve room before writing.
pub(crate) fn encoded_labels_len<L: SortedLabels + ?Sized>(labels: &L) -> usize {
    let mut len = uvarint_len(labels.label_count() as u64);
    labels.for_each_label(|name, value| {
        len += uvarint_len(name.len() as u64) + name.len();
        len += uvarint_len(value.len() as u64) + value.len();
    });
    len
}

fn uvarint_len(x: u64) -> usize {
    (64 - (x | 1).leading_zeros() as usize).div_ceil(7)
}

/// Reads a label set, checking UTF-8 and that names strictly increase.
pub(crate) fn decode_labels<'a>(d: &mut Decoder<'a>) -> Result<LabelsRef<'a>, DecodeError> {
    let n = d.count(Field::LabelCount, MIN_LABEL_LEN, 0)?;
    let mut pairs = Vec::with_capacity(n);
    let mut previous: Option<&str> = None;
    for _ in 0..n {
        let (at, name) = d.str(Field::LabelNameLen, Field::LabelName)?;
        if let Some(prev) = previous {
            let kind = match name.cmp(prev) {
                std::cmp::Ordering::Greater => None,
                std::cmp::Ordering::Equal => Some(DecodeErrorKind::DuplicateLabel {
                    name: name.to_owned(),
                }),
                std::cmp::Ordering::Less => Some(DecodeErrorKind::LabelsNotSorted {
                    name: name.to_owned(),
                    previous: prev.to_owned(),
                }),
            };
            if let Some(kind) = kind {
                return Err(DecodeError::new(kind, at));
            }
        }
        let (_, value) = d.str(Field::LabelValueLen, Field::LabelValue)?;
        pairs.push((name, value));
        previous = Some(name);
    }
    Ok(LabelsRef { pairs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uvarint_len_matches_the_writer() {
        for x in [0, 1, 127, 128, 16_383, 16_384, u64::MAX >> 1, u64::MAX] {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, x);
            assert_eq!(uvarint_len(x), buf.len(), "{x}");
        }
    }
}
