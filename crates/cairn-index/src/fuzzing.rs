//! The body of a fuzz target for the block index (none under `fuzz/` yet), shared with
//! `cargo test`, which runs it on the golden index, every damaged copy of it and random bytes.

use cairn_model::Matcher;

use crate::{IndexReader, LabelIndex};

/// Opens `data` as an index and, when it opens, runs every kind of lookup over it. Must never
/// panic, whatever the bytes.
pub fn run(data: &[u8]) {
    let Ok(reader) = IndexReader::from_bytes(data) else {
        return;
    };
    let all = reader.all();
    assert_eq!(all.len(), u64::from(reader.series_count()));
    for id in 0..reader.series_count().min(1000) {
        let labels = reader.series_labels(id);
        assert!(labels.is_some());
    }
    assert!(reader.series(reader.series_count()).is_none());
    for name in reader.label_names().into_iter().take(100) {
        let with_name = reader.postings_for_name(name);
        for value in reader.label_values(name).into_iter().take(100) {
            let postings = reader.postings(name, value);
            assert!(postings.is_subset(&all));
            let _ = postings.is_subset(&with_name);
        }
        let matchers = [
            Matcher::regex(name, ".+").ok(),
            Matcher::regex(name, "a.*").ok(),
            Matcher::regex(name, "(?i)A.B|c").ok(),
            Some(Matcher::not_equal(name, "x")),
            Some(Matcher::equal(name, "")),
        ];
        for m in matchers.into_iter().flatten() {
            let selected = reader.select(std::slice::from_ref(&m));
            assert!(selected.is_subset(&all));
        }
        let _ = reader.matching_label_values(name, &[Matcher::not_equal(name, "")]);
    }
    let _ = reader.matching_label_names(&[Matcher::equal("__name__", "up")]);
}
