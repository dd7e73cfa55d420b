//! Helpers shared by the test modules: label sets, index builders and the brute-force oracle.

use cairn_index::{IndexReader, IndexWriter, LabelIndex, MemIndex};
use cairn_model::{Labels, Matcher};
use roaring::RoaringBitmap;

pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// The series of `series` sorted and unique, as a block holds them (ids are positions).
pub(crate) fn block_series(series: &[Labels]) -> Vec<Labels> {
    let mut sorted = series.to_vec();
    sorted.sort();
    sorted.dedup();
    sorted
}

/// Encodes sorted, unique series.
pub(crate) fn write(sorted: &[Labels]) -> Vec<u8> {
    let mut w = IndexWriter::new();
    for (i, s) in sorted.iter().enumerate() {
        assert_eq!(w.add(s).unwrap(), i as u32);
    }
    w.finish().unwrap()
}

pub(crate) fn mem(series: &[(u32, Labels)]) -> MemIndex {
    let mut index = MemIndex::new();
    for (id, labels) in series {
        index.add(*id, labels);
    }
    index
}

pub(crate) fn open(bytes: &[u8]) -> IndexReader<&[u8]> {
    IndexReader::from_bytes(bytes).unwrap()
}

/// The ids whose labels match every matcher, by evaluating each matcher on each series.
pub(crate) fn oracle<'a>(
    series: impl IntoIterator<Item = (u32, &'a Labels)>,
    matchers: &[Matcher],
) -> RoaringBitmap {
    series
        .into_iter()
        .filter(|(_, l)| matchers.iter().all(|m| m.matches_labels(l)))
        .map(|(id, _)| id)
        .collect()
}

/// Sorted unique non-empty values of `name` among the series the oracle selects.
pub(crate) fn oracle_values<'a>(
    series: impl IntoIterator<Item = (u32, &'a Labels)>,
    name: &str,
    matchers: &[Matcher],
) -> Vec<String> {
    let mut values: Vec<String> = series
        .into_iter()
        .filter(|(_, l)| matchers.iter().all(|m| m.matches_labels(l)))
        .filter_map(|(_, l)| l.get(name).filter(|v| !v.is_empty()).map(str::to_owned))
        .collect();
    values.sort();
    values.dedup();
    values
}

/// Sorted unique names with a non-empty value among the series the oracle selects.
pub(crate) fn oracle_names<'a>(
    series: impl IntoIterator<Item = (u32, &'a Labels)>,
    matchers: &[Matcher],
) -> Vec<String> {
    let mut names: Vec<String> = series
        .into_iter()
        .filter(|(_, l)| matchers.iter().all(|m| m.matches_labels(l)))
        .flat_map(|(_, l)| {
            l.iter()
                .filter(|l| !l.value.is_empty())
                .map(|l| l.name.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

pub(crate) fn ids(bitmap: &RoaringBitmap) -> Vec<u32> {
    bitmap.iter().collect()
}

/// Checks `select` and the listings of `index` against the oracle over `series`.
pub(crate) fn check_against_oracle(
    index: &dyn LabelIndex,
    series: &[(u32, &Labels)],
    matchers: &[Matcher],
) {
    let want = oracle(series.iter().copied(), matchers);
    let text = matchers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(
        ids(&index.select(matchers)),
        ids(&want),
        "select {{{text}}}"
    );
    for name in ["a", "b", "c", "d"] {
        assert_eq!(
            index.matching_label_values(name, matchers),
            oracle_values(series.iter().copied(), name, matchers),
            "values of {name} for {{{text}}}"
        );
    }
    assert_eq!(
        index.matching_label_names(matchers),
        oracle_names(series.iter().copied(), matchers),
        "names for {{{text}}}"
    );
}

/// The golden index of `FORMAT.md`: `{a="x"}` and `{a="y", b="x"}`.
pub(crate) fn golden_series() -> Vec<Labels> {
    vec![labels(&[("a", "x")]), labels(&[("a", "y"), ("b", "x")])]
}
