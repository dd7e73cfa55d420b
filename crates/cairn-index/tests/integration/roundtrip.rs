//! The block index round trip: what the writer is given, the reader gives back, and it answers
//! like the head index over the same series.

use cairn_index::{Error, IndexReader, IndexWriter, LabelIndex};
use cairn_model::Labels;
use proptest::prelude::*;

use crate::common::{block_series, ids, labels, mem};

/// Everything the reader says agrees with the written series and a head index over them.
fn check_round_trip(sorted: &[Labels]) {
    let mut writer = IndexWriter::new();
    for s in sorted {
        writer.add(s).unwrap();
    }
    assert_eq!(writer.len(), sorted.len());
    let bytes = writer.finish().unwrap();
    let reader = IndexReader::from_bytes(bytes).unwrap();
    let head = mem(&(0u32..).zip(sorted.iter().cloned()).collect::<Vec<_>>());

    assert_eq!(reader.series_count() as usize, sorted.len());
    for (id, want) in (0u32..).zip(sorted) {
        assert_eq!(reader.series_labels(id).as_ref(), Some(want));
        let pairs: Vec<(&str, &str)> = reader.series(id).unwrap().collect();
        let want_pairs: Vec<(&str, &str)> = want
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(pairs, want_pairs);
    }
    assert!(reader.series(reader.series_count()).is_none());
    assert_eq!(reader.all(), head.all());
    assert_eq!(reader.label_names(), head.label_names());
    for name in head.label_names() {
        assert_eq!(reader.label_values(name), head.label_values(name));
        assert_eq!(reader.postings_for_name(name), head.postings_for_name(name));
        for value in head.label_values(name) {
            assert_eq!(reader.postings(name, value), head.postings(name, value));
        }
        assert!(reader.postings(name, "").is_empty());
        assert!(reader.postings(name, "no such value").is_empty());
    }
    assert!(reader.postings_for_name("no such name").is_empty());
    assert!(reader.label_values("no such name").is_empty());
}

#[test]
fn typical_block() {
    let mut series = Vec::new();
    for job in ["api", "db", "web"] {
        for instance in 0..20 {
            for code in ["200", "404", "500"] {
                series.push(labels(&[
                    ("__name__", "http_requests_total"),
                    ("job", job),
                    ("instance", &format!("host-{instance:02}:9100")),
                    ("code", code),
                ]));
            }
            series.push(labels(&[
                ("__name__", "up"),
                ("job", job),
                ("instance", &format!("host-{instance:02}:9100")),
            ]));
        }
    }
    // More than 4096 ids in one postings list: a roaring bitmap container, not an array.
    for i in 0..5000 {
        series.push(labels(&[("__name__", "many"), ("i", &format!("{i:05}"))]));
    }
    check_round_trip(&block_series(&series));
}

#[test]
fn edge_cases() {
    check_round_trip(&[]);
    check_round_trip(&[Labels::new()]);
    check_round_trip(&[labels(&[("a", "")]), labels(&[("a", "x")])]);
    check_round_trip(&block_series(&[
        labels(&[("日本", "語"), ("a", "\n\"\\")]),
        labels(&[("", "x")]),
        labels(&[("a", &"long".repeat(1000))]),
    ]));
}

#[test]
fn series_must_be_added_sorted_and_unique() {
    let mut w = IndexWriter::new();
    assert_eq!(w.add(&labels(&[("a", "2")])).unwrap(), 0);
    assert_eq!(
        w.add(&labels(&[("a", "1")])),
        Err(Error::OutOfOrder { id: 1 })
    );
    assert_eq!(
        w.add(&labels(&[("a", "2")])),
        Err(Error::OutOfOrder { id: 1 })
    );
    assert_eq!(w.add(&labels(&[("a", "2"), ("b", "1")])).unwrap(), 1);
    assert_eq!(w.add(&labels(&[("a", "3")])).unwrap(), 2);
    assert_eq!(w.len(), 3);
    assert_eq!(
        Error::OutOfOrder { id: 1 }.to_string(),
        "series 1 does not sort after the series before it: add a block's series sorted and unique"
    );
}

/// The reader works over any byte container, borrowed or owned, and gives it back.
#[test]
fn reader_over_owned_and_borrowed_bytes() {
    let bytes = crate::common::write(&crate::common::golden_series());
    let borrowed = IndexReader::from_bytes(bytes.as_slice()).unwrap();
    assert_eq!(borrowed.as_bytes(), bytes.as_slice());
    assert_eq!(ids(&borrowed.postings("a", "y")), [1]);
    let owned = IndexReader::from_bytes(bytes.clone()).unwrap();
    assert_eq!(
        format!("{owned:?}"),
        "IndexReader { symbols: 4, postings: 5, names: 2, values: 3, series: 2 }"
    );
    assert_eq!(owned.into_inner(), bytes);
    let shared: std::sync::Arc<[u8]> = bytes.into();
    let reader = IndexReader::from_bytes(shared).unwrap();
    assert_eq!(reader.label_names(), ["a", "b"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100))]

    #[test]
    fn random_blocks_round_trip(
        series in prop::collection::vec(
            prop::collection::btree_map("[a-d]{1,2}", "[xyé]{0,3}", 0..5).prop_map(Labels::from_pairs),
            0..30,
        )
    ) {
        check_round_trip(&block_series(&series));
    }
}
