//! Label matchers (`name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`) with Prometheus'
//! semantics, and the fast paths that let an index answer most of them without a regex.
//!
//! A label that a series lacks reads as the empty string, so `a=""` and `a!~".+"` match the
//! series without `a`. Regexes are RE2 syntax, fully anchored and with `.` matching a newline,
//! as Prometheus compiles them (`^(?s:re)$`): `a=~"b"` does not match `"ab"`.
//!
//! Compiling a regex matcher also classifies it ([`Pattern`]): `.*`, `.+`, a literal, a small
//! set of literals (`a|b|c`, `(api|rpc)_v1`, `[ab]x`, up to 256), `foo.*`, `.*foo`,
//! `.*foo.*`, or, failing those, a regex with the literal prefix every match starts with. The index
//! turns the first shapes into direct postings lookups and uses the prefix to scan only a range
//! of the sorted values.

use std::fmt;

use regex::Regex;
use regex_syntax::ast::{self, Ast, ClassPerlKind, ClassSetItem};
use regex_syntax::hir::{self, Class, Hir, HirKind, Look};

use crate::Labels;

/// Most literals a regex may expand to before it is kept as a regex (Prometheus' limit too).
const MAX_SET_MATCHES: usize = 256;

/// How a matcher compares a label value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchOp {
    /// `=`: the value equals the matcher's value.
    Equal,
    /// `!=`: the value differs from the matcher's value.
    NotEqual,
    /// `=~`: the value matches the fully anchored regex.
    RegexMatch,
    /// `!~`: the value does not match the fully anchored regex.
    RegexNoMatch,
}

impl MatchOp {
    /// The operator as PromQL writes it: `=`, `!=`, `=~` or `!~`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::RegexMatch => "=~",
            MatchOp::RegexNoMatch => "!~",
        }
    }

    /// Whether the operator negates its pattern (`!=`, `!~`).
    pub const fn is_negative(self) -> bool {
        matches!(self, MatchOp::NotEqual | MatchOp::RegexNoMatch)
    }

    /// Whether the value is a regex (`=~`, `!~`).
    pub const fn is_regex(self) -> bool {
        matches!(self, MatchOp::RegexMatch | MatchOp::RegexNoMatch)
    }
}

impl fmt::Display for MatchOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The values a matcher's pattern accepts, before its operator negates it.
///
/// `=` and `!=` always give [`Pattern::Literal`]; a regex gets the cheapest shape that
/// accepts exactly the same values. `.` here matches any character, newline included, so
/// `.*` is "anything".
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Pattern {
    /// Every value, the empty one too: `.*`.
    Any,
    /// Every non-empty value: `.+`.
    NonEmpty,
    /// Exactly this value (`""` for the regex `""` or `^$`).
    Literal(String),
    /// Exactly one of these values: sorted, unique, at least two, possibly `""`.
    Set(Vec<String>),
    /// Every value that starts with this literal: `foo.*`.
    Prefix(String),
    /// Every value that ends with this literal: `.*foo`.
    Suffix(String),
    /// Every value that contains this literal: `.*foo.*`.
    Contains(String),
    /// Anything else: a compiled regex.
    Regex(RegexPattern),
}

impl Pattern {
    /// Whether the pattern accepts `value`.
    pub fn is_match(&self, value: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::NonEmpty => !value.is_empty(),
            Pattern::Literal(s) => value == s,
            Pattern::Set(set) => set.binary_search_by(|s| s.as_str().cmp(value)).is_ok(),
            Pattern::Prefix(p) => value.starts_with(p.as_str()),
            Pattern::Suffix(p) => value.ends_with(p.as_str()),
            Pattern::Contains(p) => value.contains(p.as_str()),
            Pattern::Regex(re) => re.is_match(value),
        }
    }

    /// The literal every accepted value starts with (`""` when there is none): the index scans
    /// only the values in that range.
    pub fn literal_prefix(&self) -> &str {
        match self {
            Pattern::Prefix(p) => p,
            Pattern::Regex(re) => re.prefix(),
            Pattern::Literal(s) => s,
            Pattern::Any
            | Pattern::NonEmpty
            | Pattern::Set(_)
            | Pattern::Suffix(_)
            | Pattern::Contains(_) => "",
        }
    }
}

/// A regex that no cheaper [`Pattern`] shape expresses, compiled fully anchored.
#[derive(Clone, Debug)]
pub struct RegexPattern {
    prefix: String,
    regex: Regex,
}

impl RegexPattern {
    /// The literal every match starts with, possibly `""`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Whether the whole of `value` matches.
    pub fn is_match(&self, value: &str) -> bool {
        value.starts_with(self.prefix.as_str()) && self.regex.is_match(value)
    }
}

/// A regex that does not compile: the pattern, the byte offset in it and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegexError {
    pattern: String,
    offset: usize,
    message: String,
}

impl RegexError {
    fn new(pattern: &str, offset: usize, message: impl fmt::Display) -> RegexError {
        RegexError {
            pattern: pattern.to_owned(),
            offset,
            message: message.to_string(),
        }
    }

    /// The pattern as given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Byte offset in the pattern where the problem starts.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What is wrong, in words.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for RegexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid regex \"")?;
        write_escaped(f, &self.pattern)?;
        write!(f, "\" at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for RegexError {}

/// One label matcher: a label name, an operator and a value (a regex for `=~` and `!~`).
///
/// ```
/// use cairn_model::{Labels, Matcher, MatchOp};
///
/// let m = Matcher::new(MatchOp::RegexMatch, "job", "api|web")?;
/// assert!(m.matches("api") && !m.matches("api2") && !m.matches(""));
/// assert_eq!(m.to_string(), r#"job=~"api|web""#);
/// // A label the series lacks reads as "".
/// let empty = Matcher::equal("env", "");
/// assert!(empty.matches_labels(&Labels::from_pairs([("job", "api")])));
/// assert!(Matcher::regex("job", "(").is_err());
/// # Ok::<(), cairn_model::RegexError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Matcher {
    name: String,
    op: MatchOp,
    value: String,
    pattern: Pattern,
    matches_empty: bool,
}

impl Matcher {
    /// A matcher of `op` on label `name`; for `=~` and `!~` `value` is compiled as a regex.
    ///
    /// # Errors
    /// A regex that does not parse, uses the verbose flag `x` (not RE2 syntax), or is too big
    /// to compile.
    pub fn new(
        op: MatchOp,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Matcher, RegexError> {
        let value = value.into();
        let pattern = if op.is_regex() {
            compile(&value)?
        } else {
            Pattern::Literal(value.clone())
        };
        let matches_empty = pattern.is_match("") != op.is_negative();
        Ok(Matcher {
            name: name.into(),
            op,
            value,
            pattern,
            matches_empty,
        })
    }

    /// `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher::literal(MatchOp::Equal, name.into(), value.into())
    }

    /// `name!="value"`.
    pub fn not_equal(name: impl Into<String>, value: impl Into<String>) -> Matcher {
        Matcher::literal(MatchOp::NotEqual, name.into(), value.into())
    }

    /// `name=~"regex"`.
    ///
    /// # Errors
    /// As [`Matcher::new`].
    pub fn regex(name: impl Into<String>, regex: impl Into<String>) -> Result<Matcher, RegexError> {
        Matcher::new(MatchOp::RegexMatch, name, regex)
    }

    /// `name!~"regex"`.
    ///
    /// # Errors
    /// As [`Matcher::new`].
    pub fn not_regex(
        name: impl Into<String>,
        regex: impl Into<String>,
    ) -> Result<Matcher, RegexError> {
        Matcher::new(MatchOp::RegexNoMatch, name, regex)
    }

    fn literal(op: MatchOp, name: String, value: String) -> Matcher {
        let matches_empty = value.is_empty() != op.is_negative();
        Matcher {
            name,
            op,
            pattern: Pattern::Literal(value.clone()),
            value,
            matches_empty,
        }
    }

    /// The label name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operator.
    pub fn op(&self) -> MatchOp {
        self.op
    }

    /// The value as given: the literal, or the regex source without the anchors.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The values the pattern accepts before the operator negates it.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }

    /// Whether a label with `value` matches; a missing label is `""`.
    pub fn matches(&self, value: &str) -> bool {
        self.pattern.is_match(value) != self.op.is_negative()
    }

    /// Whether the matcher accepts `""`, that is, series that lack the label.
    pub fn matches_empty(&self) -> bool {
        self.matches_empty
    }

    /// Whether a series with these labels matches.
    pub fn matches_labels(&self, labels: &Labels) -> bool {
        self.matches(labels.get(&self.name).unwrap_or(""))
    }
}

/// Two matchers are equal when name, operator and value are.
impl PartialEq for Matcher {
    fn eq(&self, other: &Matcher) -> bool {
        self.name == other.name && self.op == other.op && self.value == other.value
    }
}

impl Eq for Matcher {}

impl std::hash::Hash for Matcher {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.op.hash(state);
        self.value.hash(state);
    }
}

/// PromQL form: `name="value"`, `name=~"regex"`; a name that is not `[a-zA-Z_][a-zA-Z0-9_]*`
/// is quoted too, as Prometheus 3 prints UTF-8 names.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if is_legacy_name(&self.name) {
            f.write_str(&self.name)?;
        } else {
            f.write_str("\"")?;
            write_escaped(f, &self.name)?;
            f.write_str("\"")?;
        }
        f.write_str(self.op.as_str())?;
        f.write_str("\"")?;
        write_escaped(f, &self.value)?;
        f.write_str("\"")
    }
}

fn is_legacy_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Escapes for a double-quoted PromQL string: `\\`, `\"`, `\n`, `\r`, `\t`, other ASCII
/// control characters as `\xNN` and the C1 controls as `\uNNNN`.
fn write_escaped(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    for c in s.chars() {
        match c {
            '\\' => f.write_str("\\\\")?,
            '"' => f.write_str("\\\"")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 || c == '\u{7f}' => write!(f, "\\x{:02x}", c as u32)?,
            c if c.is_control() => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    Ok(())
}

/// Compiles a regex matcher value into its cheapest [`Pattern`].
fn compile(pattern: &str) -> Result<Pattern, RegexError> {
    // `a|b|c` of plain literals, as Grafana sends for multi-value variables: no parse at all.
    if let Some(set) = plain_alternation(pattern) {
        return Ok(set);
    }
    let ast = ast::parse::ParserBuilder::new()
        .build()
        .parse(pattern)
        .map_err(|e| RegexError::new(pattern, e.span().start.offset, e.kind()))?;
    // Translating the original reports errors at offsets of the pattern as given.
    let original = translator()
        .translate(pattern, &ast)
        .map_err(|e| RegexError::new(pattern, e.span().start.offset, e.kind()))?;
    let edits = ast::visit(&ast, Re2Compat::default())
        .map_err(|(offset, message)| RegexError::new(pattern, offset, message))?;
    let (source, hir) = if edits.is_empty() {
        (pattern.to_owned(), original)
    } else {
        let source = apply_edits(pattern, &edits);
        let hir = ast::parse::ParserBuilder::new()
            .build()
            .parse(&source)
            .map_err(|e| RegexError::new(pattern, 0, e.kind()))
            .and_then(|ast| {
                translator()
                    .translate(&source, &ast)
                    .map_err(|e| RegexError::new(pattern, 0, e.kind()))
            })?;
        (source, hir)
    };
    let parts = flatten(&hir);
    match shape(&parts) {
        Some(p) => Ok(p),
        None => {
            let regex = Regex::new(&format!("^(?s:{source})$"))
                .map_err(|e| RegexError::new(pattern, 0, e))?;
            Ok(Pattern::Regex(RegexPattern {
                prefix: literal_prefix(&parts).0,
                regex,
            }))
        }
    }
}

fn translator() -> hir::translate::Translator {
    hir::translate::TranslatorBuilder::new()
        .dot_matches_new_line(true)
        .build()
}

/// The characters that make a regex more than a literal (Go's `regexp.QuoteMeta` set).
fn is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
    )
}

fn plain_alternation(pattern: &str) -> Option<Pattern> {
    if pattern.chars().any(|c| c != '|' && is_meta(c)) {
        return None;
    }
    let mut set: Vec<String> = pattern.split('|').map(str::to_owned).collect();
    set.sort_unstable();
    set.dedup();
    Some(from_set(set))
}

fn from_set(mut set: Vec<String>) -> Pattern {
    if set.len() == 1
        && let Some(only) = set.pop()
    {
        return Pattern::Literal(only);
    }
    Pattern::Set(set)
}

/// Rewrites Rust-regex meanings that differ from RE2's into RE2's: the Perl classes `\d`,
/// `\s`, `\w` and the word boundaries `\b`, `\B` are ASCII-only in Go, Unicode-aware in the
/// `regex` crate. Refuses the verbose flag `x`, which RE2 lacks and whose comments would also
/// swallow the anchors put around the pattern.
#[derive(Default)]
struct Re2Compat {
    edits: Vec<(usize, usize, &'static str)>,
}

impl Re2Compat {
    fn check_flags(flags: &ast::Flags) -> Result<(), (usize, String)> {
        for item in &flags.items {
            if item.kind == ast::FlagsItemKind::Flag(ast::Flag::IgnoreWhitespace) {
                return Err((
                    item.span.start.offset,
                    "flag `x` (verbose mode) is not RE2 syntax".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

impl ast::Visitor for Re2Compat {
    type Output = Vec<(usize, usize, &'static str)>;
    type Err = (usize, String);

    fn finish(self) -> Result<Self::Output, Self::Err> {
        Ok(self.edits)
    }

    fn visit_pre(&mut self, ast: &Ast) -> Result<(), Self::Err> {
        match ast {
            Ast::ClassPerl(c) => {
                let with = match (&c.kind, c.negated) {
                    (ClassPerlKind::Digit, false) => "[0-9]",
                    (ClassPerlKind::Digit, true) => "[^0-9]",
                    (ClassPerlKind::Space, false) => "[\\t\\n\\x0C\\r ]",
                    (ClassPerlKind::Space, true) => "[^\\t\\n\\x0C\\r ]",
                    (ClassPerlKind::Word, false) => "[0-9A-Za-z_]",
                    (ClassPerlKind::Word, true) => "[^0-9A-Za-z_]",
                };
                self.edits
                    .push((c.span.start.offset, c.span.end.offset, with));
            }
            Ast::Assertion(a) => {
                let with = match a.kind {
                    ast::AssertionKind::WordBoundary => "(?-u:\\b)",
                    ast::AssertionKind::NotWordBoundary => "(?-u:\\B)",
                    _ => return Ok(()),
                };
                self.edits
                    .push((a.span.start.offset, a.span.end.offset, with));
            }
            Ast::Flags(f) => Re2Compat::check_flags(&f.flags)?,
            Ast::Group(g) => {
                if let ast::GroupKind::NonCapturing(flags) = &g.kind {
                    Re2Compat::check_flags(flags)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn visit_class_set_item_pre(&mut self, item: &ClassSetItem) -> Result<(), Self::Err> {
        if let ClassSetItem::Perl(c) = item {
            // Inside brackets: a plain range list, or a nested negated class.
            let with = match (&c.kind, c.negated) {
                (ClassPerlKind::Digit, false) => "0-9",
                (ClassPerlKind::Digit, true) => "[^0-9]",
                (ClassPerlKind::Space, false) => "\\t\\n\\x0C\\r ",
                (ClassPerlKind::Space, true) => "[^\\t\\n\\x0C\\r ]",
                (ClassPerlKind::Word, false) => "0-9A-Za-z_",
                (ClassPerlKind::Word, true) => "[^0-9A-Za-z_]",
            };
            self.edits
                .push((c.span.start.offset, c.span.end.offset, with));
        }
        Ok(())
    }
}

fn apply_edits(pattern: &str, edits: &[(usize, usize, &'static str)]) -> String {
    let mut edits = edits.to_vec();
    edits.sort_unstable_by_key(|e| e.0);
    let mut out = String::with_capacity(pattern.len() + 16 * edits.len());
    let mut at = 0;
    for (start, end, with) in edits {
        out.push_str(pattern.get(at..start).unwrap_or_default());
        out.push_str(with);
        at = end;
    }
    out.push_str(pattern.get(at..).unwrap_or_default());
    out
}

/// The top-level concatenation of `hir` without captures, and without the `^` and `$` at its
/// ends (redundant: the whole pattern is anchored).
fn flatten(hir: &Hir) -> Vec<&Hir> {
    fn push<'h>(h: &'h Hir, out: &mut Vec<&'h Hir>) {
        match h.kind() {
            HirKind::Capture(c) => push(&c.sub, out),
            HirKind::Concat(xs) => xs.iter().for_each(|x| push(x, out)),
            _ => out.push(h),
        }
    }
    let mut parts = Vec::new();
    push(hir, &mut parts);
    let start = parts
        .iter()
        .take_while(|h| matches!(h.kind(), HirKind::Look(Look::Start)))
        .count();
    let end = parts.len()
        - parts
            .iter()
            .rev()
            .take_while(|h| matches!(h.kind(), HirKind::Look(Look::End)))
            .count();
    parts
        .get(start..end.max(start))
        .unwrap_or_default()
        .to_vec()
}

/// The cheap shapes: `.*`, `.+`, `foo.*`, `.*foo`, `.*foo.*`, or a finite set of literals.
fn shape(parts: &[&Hir]) -> Option<Pattern> {
    let literal = |parts: &[&Hir]| match literal_prefix(parts) {
        (s, true) if !s.is_empty() => Some(s),
        _ => None,
    };
    match parts {
        [one] if is_any_repeat(one, 0) => return Some(Pattern::Any),
        [one] if is_any_repeat(one, 1) => return Some(Pattern::NonEmpty),
        [first, mid @ .., last] if is_any_repeat(first, 0) && is_any_repeat(last, 0) => {
            if let Some(s) = literal(mid) {
                return Some(Pattern::Contains(s));
            }
        }
        [init @ .., last] if is_any_repeat(last, 0) => {
            if let Some(s) = literal(init) {
                return Some(Pattern::Prefix(s));
            }
        }
        [first, rest @ ..] if is_any_repeat(first, 0) => {
            if let Some(s) = literal(rest) {
                return Some(Pattern::Suffix(s));
            }
        }
        _ => {}
    }
    let mut set = literal_set(parts, true, true)?;
    set.sort_unstable();
    set.dedup();
    Some(from_set(set))
}

/// Whether `h` is `.{min,}` with `.` matching every character (newline included).
fn is_any_repeat(h: &Hir, min: u32) -> bool {
    let HirKind::Repetition(r) = h.kind() else {
        return false;
    };
    r.min == min
        && r.max.is_none()
        && match r.sub.kind() {
            HirKind::Class(Class::Unicode(c)) => {
                matches!(c.ranges(), [r] if r.start() == '\0' && r.end() == char::MAX)
            }
            _ => false,
        }
}

/// Every string the concatenation `parts` matches, if they are at most [`MAX_SET_MATCHES`].
///
/// `at_start` and `at_end` say that the concatenation starts at the start of the text and
/// ends at its end in every match, so that `^` and `$` there match the empty string
/// (`^$|Running` is the set `"", "Running"`).
fn literal_set(parts: &[&Hir], at_start: bool, at_end: bool) -> Option<Vec<String>> {
    let mut acc = vec![String::new()];
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.iter().enumerate() {
        let next = literals(part, at_start && i == 0, at_end && i == last)?;
        if acc.len().saturating_mul(next.len()) > MAX_SET_MATCHES {
            return None;
        }
        acc = acc
            .iter()
            .flat_map(|a| next.iter().map(move |n| format!("{a}{n}")))
            .collect();
    }
    Some(acc)
}

fn literals(h: &Hir, at_start: bool, at_end: bool) -> Option<Vec<String>> {
    match h.kind() {
        HirKind::Empty => Some(vec![String::new()]),
        HirKind::Look(Look::Start) if at_start => Some(vec![String::new()]),
        HirKind::Look(Look::End) if at_end => Some(vec![String::new()]),
        HirKind::Literal(l) => Some(vec![String::from_utf8(l.0.to_vec()).ok()?]),
        HirKind::Class(Class::Unicode(c)) => {
            // An upper bound first: a range over the surrogate gap counts it.
            let bound: u64 = c
                .ranges()
                .iter()
                .map(|r| u64::from(r.end() as u32 - r.start() as u32) + 1)
                .sum();
            if bound > MAX_SET_MATCHES as u64 {
                return None;
            }
            Some(
                c.ranges()
                    .iter()
                    .flat_map(|r| r.start()..=r.end())
                    .map(String::from)
                    .collect(),
            )
        }
        HirKind::Capture(c) => literals(&c.sub, at_start, at_end),
        HirKind::Concat(xs) => literal_set(&xs.iter().collect::<Vec<_>>(), at_start, at_end),
        HirKind::Alternation(xs) => {
            let mut all = Vec::new();
            for x in xs {
                all.extend(literals(x, at_start, at_end)?);
                if all.len() > MAX_SET_MATCHES {
                    return None;
                }
            }
            Some(all)
        }
        HirKind::Class(Class::Bytes(_)) | HirKind::Look(_) | HirKind::Repetition(_) => None,
    }
}

/// The literal every match of the concatenation starts with, and whether it is all of it.
fn literal_prefix(parts: &[&Hir]) -> (String, bool) {
    let mut prefix = String::new();
    for part in parts {
        let (p, whole) = prefix_of(part);
        prefix.push_str(&p);
        if !whole {
            return (prefix, false);
        }
    }
    (prefix, true)
}

fn prefix_of(h: &Hir) -> (String, bool) {
    match h.kind() {
        HirKind::Empty => (String::new(), true),
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => (s.to_owned(), true),
            Err(_) => (String::new(), false),
        },
        HirKind::Capture(c) => prefix_of(&c.sub),
        HirKind::Concat(xs) => literal_prefix(&xs.iter().collect::<Vec<_>>()),
        HirKind::Alternation(xs) => {
            let mut common: Option<String> = None;
            for x in xs {
                let (p, _) = prefix_of(x);
                common = Some(match common {
                    None => p,
                    Some(c) => common_prefix(&c, &p).to_owned(),
                });
            }
            (common.unwrap_or_default(), false)
        }
        HirKind::Class(_) | HirKind::Look(_) | HirKind::Repetition(_) => (String::new(), false),
    }
}

fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let len = a
        .char_indices()
        .zip(b.chars())
        .take_while(|((_, x), y)| x == y)
        .last()
        .map_or(0, |((i, c), _)| i + c.len_utf8());
    a.get(..len).unwrap_or_default()
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a failing test panics, that is how it reports"
)]
mod tests {
    use super::*;

    fn re(pattern: &str) -> Matcher {
        Matcher::regex("l", pattern).unwrap()
    }

    /// What the pattern compiled to, in short.
    fn kind(pattern: &str) -> String {
        match re(pattern).pattern() {
            Pattern::Any => "any".to_owned(),
            Pattern::NonEmpty => "non-empty".to_owned(),
            Pattern::Literal(s) => format!("literal {s:?}"),
            Pattern::Set(set) => format!("set {set:?}"),
            Pattern::Prefix(p) => format!("prefix {p:?}"),
            Pattern::Suffix(p) => format!("suffix {p:?}"),
            Pattern::Contains(p) => format!("contains {p:?}"),
            Pattern::Regex(r) => format!("regex prefix {:?}", r.prefix()),
        }
    }

    /// Prometheus' `TestMatcher` (model/labels/matcher_test.go).
    #[test]
    fn prometheus_matcher_cases() {
        let cases: &[(MatchOp, &str, &str, bool)] = &[
            (MatchOp::Equal, "bar", "bar", true),
            (MatchOp::Equal, "bar", "foo-bar", false),
            (MatchOp::NotEqual, "bar", "bar", false),
            (MatchOp::NotEqual, "bar", "foo-bar", true),
            (MatchOp::RegexMatch, "bar", "bar", true),
            (MatchOp::RegexMatch, "bar", "foo-bar", false),
            (MatchOp::RegexMatch, ".*bar", "foo-bar", true),
            (MatchOp::RegexNoMatch, "bar", "bar", false),
            (MatchOp::RegexNoMatch, "bar", "foo-bar", true),
            (MatchOp::RegexNoMatch, ".*bar", "foo-bar", false),
            (MatchOp::RegexMatch, "$*bar", "foo-bar", false),
            (MatchOp::RegexMatch, "bar^+", "foo-bar", false),
            (MatchOp::RegexMatch, "$+bar", "foo-bar", false),
        ];
        for &(op, value, input, want) in cases {
            let m = Matcher::new(op, "test_label_name", value).unwrap();
            assert_eq!(m.matches(input), want, "{m} on {input:?}");
        }
    }

    /// The regexes and values of Prometheus' `TestFastRegexMatcher_MatchString`
    /// (model/labels/regexp_test.go, the long generated alternations left out): whatever shape
    /// a pattern compiles to, it must agree with the plain anchored regex.
    #[test]
    fn fast_paths_agree_with_the_plain_regex() {
        let regexes = [
            "",
            "foo",
            "^foo",
            "(foo|bar)",
            "foo.*",
            ".*foo",
            "^.*foo$",
            "^.+foo$",
            ".?",
            ".*",
            ".+",
            "foo.+",
            ".+foo",
            "foo\n.+",
            "foo\n.*",
            ".*foo.*",
            ".+foo.+",
            ".*foo.*|",
            "(?i).*foo.*",
            ".*foo.*|bar.*",
            "foo.*|.*bar.*",
            ".*foo.*|.*bar.*",
            ".*foo.*bar.*|.*hello.*",
            ".*foo.*|.*bar.*|.*hello.*",
            ".+.*foo.*|.*bar.*",
            "(?s:.*)",
            "(?s:.+)",
            "(?s:^.*foo$)",
            "(?i:foo)",
            "(?i:(foo|bar))",
            "(?i:(foo1|foo2|bar))",
            "^(?i:foo|oo)|(bar)$",
            "((.*)(bar|b|buzz)(.+)|foo)$",
            "^$",
            "(prometheus|api_prom)_api_v1_.+",
            "10\\.0\\.(1|2)\\.+",
            "10\\.0\\.(1|2).+",
            "((fo(bar))|.+foo)",
            "(?i)report.scheduled.job_runscheduledreports",
            "report.scheduled.job_runscheduledreports",
            "(?i:(AAAAAAAAAAAAAAAAAAAAAAAA|BBBBBBBBBBBBBBBBBBBBBBBB|cccccccccccccccccccccccC|ſſſſſſſſſſſſſſſſſſſſſſſſS|SSSSSSSSSSSSSSSSSSSSSSSSſ))",
            "(?i:(zQPbMkNO.*|NNSPdvMi.*|iWuuSoAl.*))",
            "fo.?",
            "foo.?",
            "f.?o",
            ".*foo.?",
            ".?foo.+",
            "foo.?|bar",
            "ſſs",
            ".*-.*-.*-.*-.*",
            ".+-.*-.*-.*-.+",
            "-.*-.*-.*-.*",
            ".*-.*-.*-.*-",
            "(.+)-(.+)-(.+)-(.+)-(.+)",
            "((.*))(?i:f)((.*))o((.*))o((.*))",
            "((.*))f((.*))(?i:o)((.*))o((.*))",
            "(.*0.*)",
            ".*\\|(foo)\\|.*",
            ".*-(ab)-.*",
            "foo|bar|baz",
            "[abc]d",
            "(api|rpc)_(v1|prom)_push",
            "[-1-2][a-c]",
            "[1^3]",
            "^$|Running",
            "zQPbMkNO|NNSPdvMi|iWuuSoAl",
            "(?i)foo|bar",
        ];
        let values = [
            "foo",
            " foo bar",
            "bar",
            "buzz\nbar",
            "bar foo",
            "bfoo",
            "\n",
            "\nfoo",
            "foo\n",
            "hello foo world",
            "hello foo\n world",
            "",
            "FOO",
            "Foo",
            "fOo",
            "foO",
            "OO",
            "Oo",
            "\nfoo\n",
            "ffffffffffffffffffff",
            "prometheus",
            "prometheus_api_v1",
            "prometheus_api_v1_foo",
            "10.0.1.20",
            "10.0.2.10",
            "10.0.3.30",
            "10.0.4.40",
            "report.scheduled.job_runscheduledreports",
            "Report.Scheduled.JobRunScheduledReports",
            "Report.Scheduled.Job_RunScheduledReports",
            "foofoo0",
            "foofoo",
            "😀foo0",
            "ſſs",
            "ſſS",
            "AAAAAAAAAAAAAAAAAAAAAAAA",
            "BBBBBBBBBBBBBBBBBBBBBBBB",
            "cccccccccccccccccccccccC",
            "ſſſſſſſſſſſſſſſſſſſſſſſſS",
            "SSSSSSSSSSSSSSSSSSSSSSSSſ",
            "a-b-c-d-e",
            "aaaaaa-bbbbbb-cccccc-dddddd-eeeeee",
            "aaaaaa----eeeeee",
            "----",
            "-a-a-a-",
            "zQPbMkNO",
            "zQPbMkNo",
            "NNSPdvMi",
            "NNSPdvMiXXX",
            "nnSPdvMi",
            "|foo-bar|",
            "x|foo|y",
            "x-abc-y",
            "x-ab-y",
            "ad",
            "cd",
            "dd",
            "api_v1_push",
            "rpc_prom_push",
            "-a",
            "2c",
            "^",
            "Running",
            "running",
            "BAR",
        ];
        for pattern in regexes {
            let m = re(pattern);
            let plain = Regex::new(&format!("^(?s:{pattern})$")).unwrap();
            for value in values {
                assert_eq!(
                    m.matches(value),
                    plain.is_match(value),
                    "{pattern:?} ({}) on {value:?}",
                    kind(pattern)
                );
            }
        }
    }

    /// Prometheus' `TestNewFastRegexMatcher` and `TestFindSetMatches` shapes, as cairn
    /// classifies them.
    #[test]
    fn shapes() {
        let cases = [
            (".*", "any"),
            (".*?", "any"),
            ("(?s:.*)", "any"),
            ("(.*)", "any"),
            ("^.*$", "any"),
            (".+", "non-empty"),
            ("(?s:.+)", "non-empty"),
            ("^.+$", "non-empty"),
            ("(.+)", "non-empty"),
            ("", "literal \"\""),
            ("^$", "literal \"\""),
            ("^foo$", "literal \"foo\""),
            ("foo", "literal \"foo\""),
            ("^foo", "literal \"foo\""),
            ("a|a", "literal \"a\""),
            ("foo|bar|zz", "set [\"bar\", \"foo\", \"zz\"]"),
            (
                "foo|bar|baz|(zz)",
                "set [\"bar\", \"baz\", \"foo\", \"zz\"]",
            ),
            ("bar|b|buzz", "set [\"b\", \"bar\", \"buzz\"]"),
            ("^((bar|b|buzz))$", "set [\"b\", \"bar\", \"buzz\"]"),
            ("^(?:prod|production)$", "set [\"prod\", \"production\"]"),
            ("fo\\.o|bar\\?|\\^baz", "set [\"^baz\", \"bar?\", \"fo.o\"]"),
            ("[abc]d", "set [\"ad\", \"bd\", \"cd\"]"),
            (
                "ABC|ABD|AEF|BCX|BCY",
                "set [\"ABC\", \"ABD\", \"AEF\", \"BCX\", \"BCY\"]",
            ),
            (
                "(api|rpc)_(v1|prom)_push",
                "set [\"api_prom_push\", \"api_v1_push\", \"rpc_prom_push\", \"rpc_v1_push\"]",
            ),
            ("[1^3]", "set [\"1\", \"3\", \"^\"]"),
            ("^$|Running", "set [\"\", \"Running\"]"),
            ("a|", "set [\"\", \"a\"]"),
            ("(?i)ab", "set [\"AB\", \"Ab\", \"aB\", \"ab\"]"),
            ("rpc|(?i)(?-i)api", "set [\"api\", \"rpc\"]"),
            ("foo.*", "prefix \"foo\""),
            ("^foo(bar).*", "prefix \"foobar\""),
            ("^release.*$", "prefix \"release\""),
            (".*foo", "suffix \"foo\""),
            ("^.*foo$", "suffix \"foo\""),
            (".*foo.*", "contains \"foo\""),
            ("(.*)foo(.*)", "contains \"foo\""),
            (".*foo.*bar.*", "regex prefix \"\""),
            (".+foo", "regex prefix \"\""),
            ("foo.+", "regex prefix \"foo\""),
            ("abcd|abc.+", "regex prefix \"abc\""),
            ("abc(def|ghj)|ab|a.", "regex prefix \"a\""),
            ("foo.+bar|foo.*baz", "regex prefix \"foo\""),
            ("abc|.*", "regex prefix \"\""),
            (".+def", "regex prefix \"\""),
            ("(bar|b|b^uz$z)", "regex prefix \"b\""),
            ("(.+)/(foo|bar)", "regex prefix \"\""),
            ("[a-z][a-z]", "regex prefix \"\""),
            ("(api|rpc)_[^0-9]", "regex prefix \"\""),
            ("foo(?-s:.*)", "regex prefix \"foo\""),
        ];
        for (pattern, want) in cases {
            assert_eq!(kind(pattern), want, "{pattern:?}");
        }
    }

    #[test]
    fn anchored_and_dot_matches_newline() {
        assert!(!re("b").matches("ab"));
        assert!(!re("b").matches("ba"));
        assert!(!re("a|b").matches("ab"));
        assert!(!re("a.c").matches("abcd"));
        assert!(re("a.c").matches("a\nc"));
        assert!(re("foo.*").matches("foo\nbar"));
        assert!(re(".*").matches("\n"));
        assert!(re(".+").matches("\n"));
        assert!(!re("(?-s:.+)").matches("\n"));
        // Inner anchors stay inner: `$` in the middle never matches before more text.
        assert!(!re("a$b").matches("ab"));
        assert!(re("(?m)a$\nb").matches("a\nb"));
    }

    #[test]
    fn empty_value_is_a_missing_label() {
        let labels = Labels::from_pairs([("job", "api")]);
        for (m, want) in [
            (Matcher::equal("env", ""), true),
            (Matcher::not_equal("env", ""), false),
            (Matcher::not_equal("env", "prod"), true),
            (Matcher::regex("env", ".*").unwrap(), true),
            (Matcher::regex("env", ".+").unwrap(), false),
            (Matcher::not_regex("env", ".+").unwrap(), true),
            (Matcher::regex("env", "prod|").unwrap(), true),
            (Matcher::equal("job", ""), false),
            (Matcher::not_equal("job", ""), true),
        ] {
            assert_eq!(m.matches_labels(&labels), want, "{m}");
            assert_eq!(m.matches_empty(), m.matches(""), "{m}");
        }
    }

    /// Go's RE2 gives `\d`, `\s`, `\w` and `\b` their ASCII meaning; so does cairn.
    #[test]
    fn perl_classes_are_ascii_as_in_re2() {
        assert!(re("\\d+").matches("0123456789"));
        assert!(!re("\\d+").matches("١٢٣"));
        assert!(re("\\D+").matches("١٢٣"));
        assert!(!re("\\w+").matches("é"));
        assert!(re("\\W").matches("é"));
        assert!(re("[\\w.]+").matches("a_b.c"));
        assert!(!re("[\\w.]+").matches("é"));
        assert!(re("[^\\d]").matches("x"));
        assert!(!re("[^\\d]").matches("5"));
        assert!(re("[\\D]").matches("é"));
        assert!(re("\\s").matches("\t"));
        assert!(!re("\\s").matches("\u{b}"));
        assert!(!re("\\s").matches("\u{a0}"));
        assert!(re("\\S").matches("\u{a0}"));
        assert!(re(".*\\bfoo\\b.*").matches("a foo b"));
        assert!(re(".*\\bfoo\\b.*").matches("éfooé"));
        assert!(!re(".*\\Bfoo.*").matches("a foo"));
        // Escaped backslashes are not classes.
        assert!(re("\\\\d").matches("\\d"));
        assert_eq!(
            kind("[\\d]"),
            "set [\"0\", \"1\", \"2\", \"3\", \"4\", \"5\", \"6\", \"7\", \"8\", \"9\"]"
        );
    }

    #[test]
    fn unicode() {
        assert!(Matcher::equal("l", "日本").matches("日本"));
        assert!(re("日.").matches("日本"));
        assert!(!re("日.").matches("日"));
        assert!(re("(?i)straße").matches("STRAßE"));
        assert!(re("\\p{Greek}+").matches("αβγ"));
        assert_eq!(kind("日本.*"), "prefix \"日本\"");
        assert_eq!(kind("日本語|日本.+"), "regex prefix \"日本\"");
        assert_eq!(common_prefix("日本", "日x"), "日");
    }

    #[test]
    fn invalid_regexes_are_errors() {
        for (pattern, offset) in [
            ("(", 0),
            ("a(b", 1),
            ("a)", 1),
            ("[z-a]", 1),
            ("x{2,1}", 1),
            ("\\p{NoSuchClass}", 0),
            ("a\\", 1),
            ("(?x)a # comment", 2),
            ("(?i:a)(?x:b)", 8),
            ("*", 0),
        ] {
            let err = Matcher::regex("l", pattern).unwrap_err();
            assert_eq!(err.pattern(), pattern);
            assert_eq!(err.offset(), offset, "{pattern:?}: {err}");
            assert!(!err.message().is_empty());
            assert!(err.to_string().starts_with("invalid regex \""), "{err}");
        }
        let err = Matcher::regex("l", "(?x)a").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid regex \"(?x)a\" at byte 2: flag `x` (verbose mode) is not RE2 syntax"
        );
        // Equality matchers never fail, whatever their value.
        assert!(Matcher::new(MatchOp::Equal, "l", "(").is_ok());
    }

    #[test]
    fn display_in_promql_form() {
        assert_eq!(Matcher::equal("job", "api").to_string(), r#"job="api""#);
        assert_eq!(Matcher::not_equal("job", "").to_string(), r#"job!="""#);
        assert_eq!(re("a\\.b|c").to_string(), r#"l=~"a\\.b|c""#);
        assert_eq!(
            Matcher::not_regex("path", "\"x\"\n\t").unwrap().to_string(),
            r#"path!~"\"x\"\n\t""#
        );
        assert_eq!(
            Matcher::equal("l", "a\u{1}b\u{85}").to_string(),
            r#"l="a\x01b\u0085""#
        );
        assert_eq!(Matcher::equal("l", "日本").to_string(), r#"l="日本""#);
        assert_eq!(
            Matcher::equal("my.name", "v").to_string(),
            r#""my.name"="v""#
        );
        assert_eq!(Matcher::equal("1a", "v").to_string(), r#""1a"="v""#);
        assert_eq!(Matcher::equal("_a1", "v").to_string(), r#"_a1="v""#);
        assert_eq!(MatchOp::RegexNoMatch.to_string(), "!~");
    }

    #[test]
    fn equality_ignores_the_compiled_form() {
        assert_eq!(re("a|b"), re("a|b"));
        assert_ne!(re("a|b"), re("b|a"));
        assert_ne!(re("a"), Matcher::equal("l", "a"));
    }
}
