//! Matcher semantics, table-driven from `testdata/matchers.txt`, and the matcher's fast paths
//! against the plain anchored regex over random patterns.

use cairn_model::{Labels, MatchOp, Matcher};
use proptest::prelude::*;

/// Reads a PromQL double-quoted string at the start of `s`; returns it and the rest.
fn unquote(s: &str) -> (String, &str) {
    let mut chars = s.char_indices();
    assert_eq!(
        chars.next().map(|c| c.1),
        Some('"'),
        "expected a quote: {s}"
    );
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &s[i + 1..]),
            '\\' => match chars.next().map(|c| c.1) {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('x') => {
                    let hex: String = chars.by_ref().take(2).map(|c| c.1).collect();
                    out.push(char::from(u8::from_str_radix(&hex, 16).unwrap()));
                }
                Some(c @ ('\\' | '"')) => out.push(c),
                other => panic!("unknown escape {other:?} in {s}"),
            },
            c => out.push(c),
        }
    }
    panic!("unterminated string: {s}")
}

/// Parses `name op "value"`, the matcher column; returns the parts and the rest of the line.
fn parse_matcher(line: &str) -> (String, MatchOp, String, &str) {
    let (name, rest) = if line.starts_with('"') {
        unquote(line)
    } else {
        let end = line.find(['=', '!']).unwrap();
        (line[..end].to_owned(), &line[end..])
    };
    let (op, rest) = [
        ("=~", MatchOp::RegexMatch),
        ("!~", MatchOp::RegexNoMatch),
        ("!=", MatchOp::NotEqual),
        ("=", MatchOp::Equal),
    ]
    .into_iter()
    .find_map(|(text, op)| rest.strip_prefix(text).map(|r| (op, r)))
    .unwrap();
    let (value, rest) = unquote(rest);
    (name, op, value, rest.trim_start())
}

#[test]
fn matcher_table() {
    let table = include_str!("../../testdata/matchers.txt");
    let mut cases = 0;
    for (n, line) in table.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("testdata/matchers.txt:{}: {line}", n + 1);
        let (name, op, value, rest) = parse_matcher(line);
        let text = line[..line.len() - rest.len()].trim_end();
        cases += 1;
        if rest == "error" {
            let err = Matcher::new(op, &*name, &*value).unwrap_err();
            assert_eq!(err.pattern(), value, "{at}");
            assert!(err.offset() <= value.len(), "{at}");
            continue;
        }
        let m = Matcher::new(op, &*name, &*value).unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(m.to_string(), text, "{at}: printed form");
        let (input, verdict) = match rest.strip_prefix('-') {
            Some(v) => (None, v.trim()),
            None => {
                let (v, r) = unquote(rest);
                (Some(v), r.trim())
            }
        };
        let want = match verdict {
            "yes" => true,
            "no" => false,
            other => panic!("{at}: verdict {other:?}"),
        };
        let series = match &input {
            Some(v) => Labels::from_pairs([(name.as_str(), v.as_str()), ("other", "o")]),
            None => Labels::from_pairs([("other", "o")]),
        };
        assert_eq!(m.matches_labels(&series), want, "{at}");
        assert_eq!(m.matches(input.as_deref().unwrap_or("")), want, "{at}");
        if input.is_none() {
            assert_eq!(m.matches_empty(), want, "{at}");
        }
    }
    assert!(cases >= 70, "{cases} cases");
}

/// Small regexes over the alphabet `x`, `y`, `é`, built from the operators the fast paths
/// look for (no Perl classes: cairn gives those their RE2 meaning on purpose).
pub(crate) fn regex_strategy() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "x", "y", "é", ".", "[xy]", "[^x]", "(?i)X", "", "xy", "\\.", "^", "$",
    ])
    .prop_map(str::to_owned);
    let tree = leaf.prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}{b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("(?:{a}|{b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}|{b})")),
            inner.clone().prop_map(|a| format!("(?:{a})*")),
            inner.clone().prop_map(|a| format!("(?:{a})+")),
            inner.prop_map(|a| format!("(?:{a})?")),
        ]
    });
    prop_oneof![
        prop::sample::select(vec![
            ".*",
            ".+",
            ".*?",
            "x.*",
            "xy.*",
            "é.*",
            ".*x",
            "x|y",
            "x|y|xy",
            "x|",
            "^x$",
            "(x|y)x",
            "[xy]y",
            "^$",
            "x.+",
            "xy|x.*",
            "(?i)x|y",
            "^(?:x|y)$",
            "(.*)",
            "(?s:.+)",
        ])
        .prop_map(str::to_owned),
        tree.clone(),
        (tree.clone(), tree).prop_map(|(a, b)| format!("{a}|{b}")),
    ]
}

pub(crate) fn value_strategy() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "", "x", "y", "xy", "yx", "xx", "yy", "xyx", "é", "xé", "éx", "X", "Xy", "\n", "x\ny", ".",
    ])
    .prop_map(str::to_owned)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever shape a regex compiles to (literal, set, prefix, `.*`, `.+`, regex), it accepts
    /// exactly what `^(?s:re)$` accepts.
    #[test]
    fn fast_paths_agree_with_the_anchored_regex(re in regex_strategy(), values in prop::collection::vec(value_strategy(), 1..8)) {
        let m = Matcher::regex("a", &*re).unwrap();
        let not = Matcher::not_regex("a", &*re).unwrap();
        let plain = regex::Regex::new(&format!("^(?s:{re})$")).unwrap();
        for v in &values {
            prop_assert_eq!(m.matches(v), plain.is_match(v), "{:?} on {:?}: {:?}", re, v, m.pattern());
            prop_assert_eq!(not.matches(v), !plain.is_match(v));
        }
        prop_assert_eq!(m.matches_empty(), plain.is_match(""));
        prop_assert!(m.pattern().is_match("") == plain.is_match(""));
        prop_assert!(values.iter().all(|v| !m.matches(v) || v.starts_with(m.pattern().literal_prefix())));
    }
}
