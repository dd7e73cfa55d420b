//! `select` and the listings: named cases on a small fixed set of series, then random series
//! and matchers against the brute-force oracle, on the head index and on the block index built
//! from the same series.

use cairn_index::{LabelIndex, MemIndex, needs_non_empty_matcher, select};
use cairn_model::{Labels, MatchOp, Matcher};
use proptest::prelude::*;

use crate::common::{block_series, check_against_oracle, ids, labels, mem, open, oracle, write};
use crate::matchers::{regex_strategy, value_strategy};

fn fixed_series() -> Vec<(u32, Labels)> {
    vec![
        (
            10,
            labels(&[("__name__", "up"), ("job", "api"), ("instance", "a:80")]),
        ),
        (
            11,
            labels(&[("__name__", "up"), ("job", "api"), ("instance", "b:80")]),
        ),
        (
            12,
            labels(&[("__name__", "up"), ("job", "db"), ("instance", "c:5432")]),
        ),
        (
            20,
            labels(&[("__name__", "http_total"), ("job", "api"), ("code", "200")]),
        ),
        (
            21,
            labels(&[("__name__", "http_total"), ("job", "api"), ("code", "500")]),
        ),
        (
            22,
            labels(&[("__name__", "http_total"), ("job", "web"), ("code", "503")]),
        ),
        (30, labels(&[("__name__", "build_info"), ("version", "")])),
        (
            31,
            labels(&[("__name__", "build_info"), ("version", "1.2"), ("env", "é")]),
        ),
    ]
}

fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
    Matcher::new(op, name, value).unwrap()
}

/// Named cases: matchers and the ids they select.
#[test]
fn named_cases() {
    use MatchOp::{Equal as Eq, NotEqual as Ne, RegexMatch as Re, RegexNoMatch as Nre};
    let series = fixed_series();
    let head = mem(&series);
    let sorted = block_series(&series.iter().map(|s| s.1.clone()).collect::<Vec<_>>());
    let bytes = write(&sorted);
    let block = open(&bytes);
    let cases: Vec<(&str, Vec<Matcher>, Vec<u32>)> = vec![
        ("equality", vec![m(Eq, "job", "api")], vec![10, 11, 20, 21]),
        (
            "intersection",
            vec![m(Eq, "job", "api"), m(Eq, "__name__", "up")],
            vec![10, 11],
        ),
        ("no such value", vec![m(Eq, "job", "nope")], vec![]),
        ("no such name", vec![m(Eq, "nope", "x")], vec![]),
        (
            "empty = absent",
            vec![m(Eq, "code", "")],
            vec![10, 11, 12, 30, 31],
        ),
        (
            "empty value = absent",
            vec![m(Eq, "__name__", "build_info"), m(Eq, "version", "")],
            vec![30],
        ),
        (
            "not equal keeps absent",
            vec![m(Ne, "code", "200")],
            vec![10, 11, 12, 21, 22, 30, 31],
        ),
        (
            "not empty = has label",
            vec![m(Ne, "code", "")],
            vec![20, 21, 22],
        ),
        (
            "negative subtracts",
            vec![m(Eq, "__name__", "http_total"), m(Ne, "code", "500")],
            vec![20, 22],
        ),
        (
            "match all",
            vec![m(Re, "job", ".*")],
            vec![10, 11, 12, 20, 21, 22, 30, 31],
        ),
        ("has label", vec![m(Re, "code", ".+")], vec![20, 21, 22]),
        (
            "lacks label",
            vec![m(Nre, "code", ".+")],
            vec![10, 11, 12, 30, 31],
        ),
        ("match nothing", vec![m(Nre, "job", ".*")], vec![]),
        ("alternation", vec![m(Re, "job", "db|web")], vec![12, 22]),
        (
            "alternation with empty",
            vec![m(Re, "code", "500|")],
            vec![10, 11, 12, 21, 30, 31],
        ),
        ("prefix", vec![m(Re, "code", "5.*")], vec![21, 22]),
        (
            "negated prefix",
            vec![m(Eq, "__name__", "http_total"), m(Nre, "code", "5.*")],
            vec![20],
        ),
        (
            "regex scan",
            vec![m(Re, "instance", "[ab]:\\d+")],
            vec![10, 11],
        ),
        ("anchored", vec![m(Re, "job", "ap")], vec![]),
        ("unicode", vec![m(Re, "env", "é|x")], vec![31]),
        (
            "regex with literal prefix",
            vec![m(Re, "code", "50[03]")],
            vec![21, 22],
        ),
        (
            "has label and not value",
            vec![m(Re, "code", ".+"), m(Ne, "code", "200")],
            vec![21, 22],
        ),
        ("no matchers", vec![], vec![10, 11, 12, 20, 21, 22, 30, 31]),
        (
            "only negative",
            vec![m(Ne, "job", "api")],
            vec![12, 22, 30, 31],
        ),
    ];
    for (name, matchers, want) in cases {
        assert_eq!(ids(&head.select(&matchers)), want, "head: {name}");
        // The block's ids are positions in label order; compare by labels.
        let by_labels: Vec<Labels> = series
            .iter()
            .filter(|(id, _)| want.contains(id))
            .map(|(_, l)| l.clone())
            .collect();
        let mut got: Vec<Labels> = block
            .select(&matchers)
            .iter()
            .map(|id| block.series_labels(id).unwrap())
            .collect();
        let mut want_labels = by_labels;
        want_labels.sort();
        got.sort();
        assert_eq!(got, want_labels, "block: {name}");
        let refs: Vec<(u32, &Labels)> = series.iter().map(|(id, l)| (*id, l)).collect();
        assert_eq!(ids(&oracle(refs, &matchers)), want, "oracle: {name}");
    }
}

#[test]
fn listings_filtered_by_matchers() {
    let series = fixed_series();
    let head = mem(&series);
    let sorted = block_series(&series.iter().map(|s| s.1.clone()).collect::<Vec<_>>());
    let bytes = write(&sorted);
    let block = open(&bytes);
    let indexes: [&dyn LabelIndex; 2] = [&head, &block];
    for index in indexes {
        assert_eq!(
            index.label_names(),
            ["__name__", "code", "env", "instance", "job", "version"]
        );
        assert_eq!(index.label_values("code"), ["200", "500", "503"]);
        assert!(index.label_values("nope").is_empty());
        let api = [Matcher::equal("job", "api")];
        assert_eq!(index.matching_label_values("code", &api), ["200", "500"]);
        assert_eq!(
            index.matching_label_values("__name__", &api),
            ["http_total", "up"]
        );
        assert_eq!(
            index.matching_label_names(&api),
            ["__name__", "code", "instance", "job"]
        );
        assert_eq!(
            index.matching_label_names(&[Matcher::equal("__name__", "build_info")]),
            ["__name__", "env", "version"]
        );
        assert_eq!(index.matching_label_values("version", &[]), ["1.2"]);
        assert!(
            index
                .matching_label_values("code", &[Matcher::equal("job", "db")])
                .is_empty()
        );
    }
}

#[test]
fn selectors_that_need_a_non_empty_matcher() {
    let re = |v: &str| Matcher::regex("a", v).unwrap();
    assert!(needs_non_empty_matcher(&[]));
    assert!(needs_non_empty_matcher(&[Matcher::equal("a", "")]));
    assert!(needs_non_empty_matcher(&[
        re(".*"),
        Matcher::not_equal("b", "x")
    ]));
    assert!(needs_non_empty_matcher(&[re("x|")]));
    assert!(!needs_non_empty_matcher(&[re(".+")]));
    assert!(!needs_non_empty_matcher(&[
        Matcher::equal("a", ""),
        Matcher::not_equal("b", "")
    ]));
    assert!(!needs_non_empty_matcher(&[Matcher::equal(
        "__name__", "up"
    )]));
    // The index answers such selectors anyway: every series, less the subtracted ones.
    let head = mem(&fixed_series());
    assert_eq!(select(&head, &[]).len(), 8);
    assert_eq!(select(&head, &[re(".*")]).len(), 8);
}

#[test]
fn removal() {
    let series = fixed_series();
    let mut head = mem(&series);
    for (id, l) in &series {
        if id % 2 == 0 {
            head.remove(*id, l);
        }
    }
    head.remove(99, &labels(&[("job", "api")]));
    assert_eq!(head.len(), 3);
    assert!(!head.contains(10) && head.contains(11));
    assert_eq!(ids(&head.select(&[Matcher::equal("job", "api")])), [11, 21]);
    // `db` lived only in series 12: the value, and `env` the name, are gone with it.
    assert_eq!(head.label_values("job"), ["api"]);
    assert_eq!(head.label_values("instance"), ["b:80"]);
    assert_eq!(
        head.label_names(),
        ["__name__", "code", "env", "instance", "job", "version"]
    );
    for (id, l) in &series {
        head.remove(*id, l);
    }
    assert!(head.is_empty() && head.label_names().is_empty());
    assert_eq!(head.select(&[]).len(), 0);
}

fn series_strategy() -> impl Strategy<Value = Vec<Labels>> {
    let one = prop::collection::btree_map(
        prop::sample::select(vec!["a", "b", "c"]),
        value_strategy(),
        0..4,
    )
    .prop_map(Labels::from_pairs);
    prop::collection::vec(one, 0..14)
}

fn matcher_strategy() -> impl Strategy<Value = Matcher> {
    let name = prop::sample::select(vec!["a", "b", "c", "d"]);
    prop_oneof![
        (name.clone(), value_strategy()).prop_map(|(n, v)| Matcher::equal(n, v)),
        (name.clone(), value_strategy()).prop_map(|(n, v)| Matcher::not_equal(n, v)),
        (name.clone(), regex_strategy()).prop_map(|(n, v)| Matcher::regex(n, v).unwrap()),
        (name, regex_strategy()).prop_map(|(n, v)| Matcher::not_regex(n, v).unwrap()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The head index, with sparse caller-chosen ids, some removed again, against the oracle.
    #[test]
    fn head_select_matches_the_oracle(
        series in series_strategy(),
        matchers in prop::collection::vec(matcher_strategy(), 0..4),
        removed in prop::collection::vec(any::<bool>(), 14),
    ) {
        let with_ids: Vec<(u32, Labels)> =
            series.into_iter().enumerate().map(|(i, l)| (i as u32 * 3 + 1, l)).collect();
        let mut head = mem(&with_ids);
        let mut live = Vec::new();
        for (i, (id, l)) in with_ids.iter().enumerate() {
            if removed[i] {
                head.remove(*id, l);
            } else {
                live.push((*id, l));
            }
        }
        check_against_oracle(&head, &live, &matchers);
    }

    /// The block index built from the same series (sorted, unique, dense ids).
    #[test]
    fn block_select_matches_the_oracle(
        series in series_strategy(),
        matchers in prop::collection::vec(matcher_strategy(), 0..4),
    ) {
        let sorted = block_series(&series);
        let bytes = write(&sorted);
        let block = open(&bytes);
        let refs: Vec<(u32, &Labels)> = (0u32..).zip(&sorted).collect();
        check_against_oracle(&block, &refs, &matchers);
        // And the head index over the same ids answers alike.
        let head: MemIndex = mem(&refs.iter().map(|(id, l)| (*id, (*l).clone())).collect::<Vec<_>>());
        prop_assert_eq!(ids(&head.select(&matchers)), ids(&block.select(&matchers)));
    }
}
