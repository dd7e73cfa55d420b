//! `seek`: the first exemplar at or after a time, never backwards.

use cairn_chunkenc::exemplar::{ExemplarAppender, ExemplarIterator};
use proptest::prelude::*;

use super::{
    Latency, Owned, Shape, decode, encode, exemplar, golden_chunk, golden_exemplars, owned,
    realistic,
};

fn ten() -> Vec<Owned> {
    (0..10)
        .map(|i| exemplar(i * 10, i as f64, &[("trace_id", &format!("{i:032x}"))]))
        .collect()
}

#[test]
fn seek_stays_on_an_exemplar_that_already_qualifies() {
    let chunk = encode(&ten());
    let mut it = ExemplarIterator::new(&chunk);
    assert_eq!(it.seek(35).map(|e| e.t), Some(40));
    assert_eq!(it.seek(20).map(|e| e.t), Some(40), "never moves backwards");
    assert_eq!(it.seek(40).map(|e| e.t), Some(40));
    assert_eq!(owned(&it.at()), ten()[4]);
    assert_eq!(it.next().map(|e| e.t), Some(50));
    assert_eq!(it.seek(1_000).map(|e| e.t), None);
    assert!(it.next().is_none());
    assert!(it.err().is_none());
}

#[test]
fn seek_lands_on_the_first_of_equal_timestamps() {
    let exemplars = [
        exemplar(5, 1.0, &[("a", "1")]),
        exemplar(7, 2.0, &[("a", "2")]),
        exemplar(7, 3.0, &[("a", "3")]),
        exemplar(7, 4.0, &[("a", "4")]),
        exemplar(9, 5.0, &[("a", "5")]),
    ];
    let chunk = encode(&exemplars);
    let mut it = ExemplarIterator::new(&chunk);
    assert_eq!(it.seek(6).map(|e| owned(&e)), Some(exemplars[1].clone()));
    assert_eq!(
        it.seek(7).map(|e| owned(&e)),
        Some(exemplars[1].clone()),
        "stays"
    );
    assert_eq!(it.next().map(|e| owned(&e)), Some(exemplars[2].clone()));
    assert_eq!(it.seek(8).map(|e| owned(&e)), Some(exemplars[4].clone()));
}

#[test]
fn seek_in_an_empty_chunk_and_before_the_first() {
    let app = ExemplarAppender::new();
    assert!(ExemplarIterator::new(app.bytes()).seek(i64::MIN).is_none());
    let chunk = encode(&ten());
    let mut it = ExemplarIterator::new(&chunk);
    assert_eq!(it.seek(i64::MIN).map(|e| e.t), Some(0));
    assert_eq!(it.count(), 9);
}

#[test]
fn seek_on_a_corrupt_chunk_stops_with_the_error() {
    let chunk = encode(&ten());
    let cut = &chunk[..chunk.len() / 2];
    let mut it = ExemplarIterator::new(cut);
    assert!(it.seek(i64::MAX).is_none());
    let err = it.err().unwrap().clone();
    assert_eq!(err.offset(), cut.len());
    assert!(it.seek(0).is_none(), "stays stopped");
    assert!(it.next().is_none());
}

#[test]
fn seek_through_the_golden_chunk() {
    let chunk = golden_chunk();
    let exemplars = golden_exemplars();
    for (i, e) in exemplars.iter().enumerate() {
        let mut it = ExemplarIterator::new(&chunk);
        let found = it.seek(e.0).map(|f| owned(&f));
        let first = exemplars.iter().position(|x| x.0 >= e.0).unwrap();
        assert!(first <= i);
        assert_eq!(
            found.as_ref(),
            Some(&exemplars[first]),
            "seek to exemplar {i}"
        );
        let rest: Vec<Owned> = it.map(|f| owned(&f)).collect();
        assert_eq!(rest, exemplars[first + 1..], "after seek to exemplar {i}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seek_finds_the_first_exemplar_at_or_after(
        n in 1usize..150,
        seed in any::<u64>(),
        target in any::<i64>(),
        pick in any::<prop::sample::Index>(),
    ) {
        let shape = Shape { span_id: seed % 2 == 0, service: seed % 3 == 0 };
        let exemplars = realistic(n, shape, Latency::WholeMs, seed);
        let chunk = encode(&exemplars);
        prop_assert_eq!(decode(&chunk).unwrap(), exemplars.clone());
        let near = exemplars[pick.index(n)].0;
        for target in [target, near, near + 1, near - 1, i64::MIN, i64::MAX] {
            let mut it = ExemplarIterator::new(&chunk);
            let pos = exemplars.iter().position(|e| e.0 >= target);
            prop_assert_eq!(it.seek(target).map(|e| owned(&e)), pos.map(|i| exemplars[i].clone()));
            let rest: Vec<Owned> = it.map(|e| owned(&e)).collect();
            prop_assert_eq!(rest, pos.map_or(Vec::new(), |i| exemplars[i + 1..].to_vec()));
        }
    }
}
