//! The streaming parser: one entry per line, borrowed from the buffer.

use std::collections::VecDeque;

use cairn_model::MetricType;

use crate::cursor::Cursor;
use crate::error::{Error, ErrorKind, found};
use crate::lex::{self, find_closing_quote};
use crate::number::{parse_f64, parse_i64, seconds_to_ms};
use crate::strict::{Meta, Validator};
use crate::text::{Escapes, LabelSet, Text};
use crate::{Format, Limits, Mode};

/// The largest number of code points of an exemplar's label names and values together
/// (OpenMetrics 1.0; Prometheus applies the same rule at ingest).
pub const MAX_EXEMPLAR_LABEL_RUNES: usize = 128;

/// One entry of an exposition. Everything borrows the parsed buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry<'a> {
    /// `# HELP name text`
    Help {
        /// The metric family name.
        name: Text<'a>,
        /// The help text, escapes unresolved.
        text: Text<'a>,
    },
    /// `# TYPE name type`
    Type {
        /// The metric family name.
        name: Text<'a>,
        /// The declared type.
        kind: MetricType,
    },
    /// `# UNIT name unit` (OpenMetrics only).
    Unit {
        /// The metric family name.
        name: Text<'a>,
        /// The unit; may be empty.
        unit: Text<'a>,
    },
    /// Any other `#` line (Prometheus text only): the bytes after the `#`.
    Comment(&'a [u8]),
    /// A sample.
    Sample(Sample<'a>),
    /// `# EOF` (OpenMetrics only); nothing follows it.
    Eof,
}

/// A sample line: series, value, optional timestamp and exemplar.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample<'a> {
    /// The metric name (the sample name, with any `_total`, `_bucket`... suffix).
    pub name: Text<'a>,
    /// The labels, in the order written.
    pub labels: LabelSet<'a>,
    /// The value; a NaN has Prometheus' normal NaN bits.
    pub value: f64,
    /// Milliseconds since the epoch, when the line has a timestamp.
    pub timestamp: Option<i64>,
    /// The exemplar, when the line has a well-formed one.
    pub exemplar: Option<Exemplar<'a>>,
    /// The type of the family this sample belongs to: the last `# TYPE` whose name is this
    /// sample's name or its name less a suffix of that type; [`MetricType::Unknown`] otherwise.
    pub kind: MetricType,
}

/// An exemplar attached to a sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar<'a> {
    /// The exemplar's labels (`trace_id`, `span_id`...).
    pub labels: LabelSet<'a>,
    /// The observed value.
    pub value: f64,
    /// Milliseconds since the epoch, when given.
    pub timestamp: Option<i64>,
}

/// A failure within one line, positioned later.
///
/// Boxed, so that the `Result`s of the hot path stay one word wide on the error side.
struct Fail(Box<FailInner>);

struct FailInner {
    kind: ErrorKind,
    message: String,
    at: usize,
}

impl std::ops::Deref for Fail {
    type Target = FailInner;
    fn deref(&self) -> &FailInner {
        &self.0
    }
}

impl Fail {
    #[cold]
    fn new(kind: ErrorKind, message: impl Into<String>, at: usize) -> Fail {
        Fail(Box::new(FailInner {
            kind,
            message: message.into(),
            at,
        }))
    }

    #[cold]
    fn expected(what: &str, cur: &Cursor<'_>) -> Fail {
        Fail::new(
            ErrorKind::Syntax,
            format!("expected {what}, found {}", found(cur.rest())),
            cur.pos(),
        )
    }
}

type LineResult<'a, T> = Result<T, Fail>;

/// Where the parser stands with `# EOF`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Lines,
    Done,
}

/// A streaming parser over one exposition.
///
/// It is an [`Iterator`] of `Result<Entry, Error>`: entries come out in order, each borrowed
/// from the buffer, with no allocation per sample. After an error the parser goes on with the
/// next line, so a caller can report every error; what a caller does with the entries before
/// an error is its own choice (cairn's scrape path keeps them, `--strict` rejects the whole).
///
/// In [`Mode::Scrape`], a malformed or oversized exemplar is dropped from its sample, counted
/// in [`Parser::dropped_exemplars`] and reported in [`Parser::warnings`]; the sample is kept.
pub struct Parser<'a> {
    buf: &'a [u8],
    /// Start of the next line.
    pos: usize,
    /// 1-based number of the next line.
    line: u32,
    format: Format,
    mode: Mode,
    limits: Limits,
    state: State,
    eof_seen: bool,
    /// Start of the line being parsed.
    line_start: usize,
    /// The family named by the latest metadata line, and its type.
    family: &'a [u8],
    family_kind: MetricType,
    validator: Option<Validator<'a>>,
    /// The whole buffer as text, when it is all valid UTF-8 (the usual case): then tokens
    /// are sliced from it without checking each again.
    utf8: Option<&'a str>,
    pending: VecDeque<Result<Entry<'a>, Error>>,
    warnings: Vec<Error>,
    dropped_exemplars: u64,
}

impl<'a> Parser<'a> {
    /// A parser over `buf` with the default [`Limits`].
    pub fn new(buf: &'a [u8], format: Format, mode: Mode) -> Parser<'a> {
        Parser::with_limits(buf, format, mode, Limits::default())
    }

    /// A parser with explicit limits.
    pub fn with_limits(buf: &'a [u8], format: Format, mode: Mode, limits: Limits) -> Parser<'a> {
        let validator =
            (format == Format::OpenMetrics && mode == Mode::Strict).then(Validator::new);
        Parser {
            buf,
            pos: 0,
            line: 1,
            format,
            mode,
            limits,
            state: State::Lines,
            eof_seen: false,
            line_start: 0,
            family: b"",
            family_kind: MetricType::Unknown,
            validator,
            utf8: std::str::from_utf8(buf).ok(),
            pending: VecDeque::new(),
            warnings: Vec::new(),
            dropped_exemplars: 0,
        }
    }

    /// The format being parsed.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Exemplars dropped in scrape mode because they were malformed or too long.
    pub fn dropped_exemplars(&self) -> u64 {
        self.dropped_exemplars
    }

    /// The reasons exemplars were dropped, with positions; at most
    /// [`Limits::max_warnings`] are kept (the count goes on in [`Parser::dropped_exemplars`]).
    pub fn warnings(&self) -> &[Error] {
        &self.warnings
    }

    #[cold]
    fn error(&self, line_start: usize, line_no: u32, fail: Fail) -> Error {
        let FailInner { kind, message, at } = *fail.0;
        let line_end = memchr::memchr(b'\n', self.buf.get(line_start..).unwrap_or_default())
            .map_or(self.buf.len(), |i| line_start + i);
        let line = self.buf.get(line_start..line_end).unwrap_or_default();
        let at = at.min(line.len());
        let before = line.get(..at).unwrap_or_default();
        let column: usize = before
            .utf8_chunks()
            .map(|c| c.valid().chars().count() + c.invalid().len())
            .sum();
        Error::new(
            kind,
            message,
            line_start + at,
            line_no,
            u32::try_from(column + 1).unwrap_or(u32::MAX),
        )
    }

    /// Called when the buffer is used up: the end-of-exposition checks.
    fn finish(&mut self) {
        self.state = State::Done;
        let end = self.buf.len();
        // Position end-of-input errors on the last line.
        let last_start = self
            .buf
            .get(..end.saturating_sub(1))
            .and_then(|b| memchr::memrchr(b'\n', b))
            .map_or(0, |i| i + 1);
        let last_line = self.line.saturating_sub(1).max(1);
        if self.format == Format::OpenMetrics && !self.eof_seen {
            if let Some(v) = self.validator.as_mut()
                && let Err(m) = v.finish()
            {
                let e = self.error(
                    last_start,
                    last_line,
                    Fail::new(ErrorKind::Rule, m, end - last_start),
                );
                self.pending.push_back(Err(e));
            }
            let e = self.error(
                last_start,
                last_line,
                Fail::new(
                    ErrorKind::Eof,
                    "expected \"# EOF\" as the last line of an OpenMetrics exposition, found end of input",
                    end - last_start,
                ),
            );
            self.pending.push_back(Err(e));
        }
    }

    fn next_line(&mut self) -> Option<Result<Entry<'a>, Error>> {
        loop {
            if let Some(p) = self.pending.pop_front() {
                return Some(p);
            }
            if self.state == State::Done {
                return None;
            }
            let start = self.pos;
            if start >= self.buf.len() {
                self.finish();
                continue;
            }
            let rest = self.buf.get(start..).unwrap_or_default();
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(i) => (rest.get(..i).unwrap_or_default(), start + i + 1),
                None => (rest, self.buf.len()),
            };
            let line_no = self.line;
            self.line_start = start;
            self.pos = next;
            self.line = self.line.saturating_add(1);
            if line.len() > self.limits.max_line_bytes {
                let fail = Fail::new(
                    ErrorKind::Limit,
                    format!(
                        "line is {} bytes long, longer than the limit of {} bytes",
                        line.len(),
                        self.limits.max_line_bytes
                    ),
                    0,
                );
                return Some(Err(self.error(start, line_no, fail)));
            }
            let result = match self.format {
                Format::OpenMetrics => self.om_line(line, next),
                Format::PrometheusText => self.prom_line(line),
            };
            match result {
                Ok(Some(entry)) => return Some(Ok(entry)),
                Ok(None) => continue,
                Err(fail) => return Some(Err(self.error(start, line_no, fail))),
            }
        }
    }

    // ---- OpenMetrics -------------------------------------------------------------------

    fn om_line(&mut self, line: &'a [u8], next: usize) -> LineResult<'a, Option<Entry<'a>>> {
        match line.first() {
            None => Err(Fail::new(
                ErrorKind::Syntax,
                "expected a sample or a \"# \" line, found an empty line (OpenMetrics allows no blank lines)",
                0,
            )),
            Some(b'#') => self.om_comment(line, next).map(Some),
            Some(_) => self.sample_line(line).map(|s| Some(Entry::Sample(s))),
        }
    }

    fn om_comment(&mut self, line: &'a [u8], next: usize) -> LineResult<'a, Entry<'a>> {
        if line == b"# EOF" {
            self.eof_seen = true;
            self.state = State::Done;
            if let Some(v) = self.validator.as_mut()
                && let Err(m) = v.finish()
            {
                self.pending.push_back(Ok(Entry::Eof));
                return Err(Fail::new(ErrorKind::Rule, m, 0));
            }
            if next < self.buf.len() {
                self.pending.push_back(Ok(Entry::Eof));
                return Err(Fail::new(
                    ErrorKind::Eof,
                    format!(
                        "expected end of input after \"# EOF\", found {} more bytes",
                        self.buf.len() - next
                    ),
                    line.len(),
                ));
            }
            return Ok(Entry::Eof);
        }
        if line.starts_with(b"# EOF") {
            self.eof_seen = true;
            self.state = State::Done;
            return Err(Fail::new(
                ErrorKind::Eof,
                format!(
                    "expected end of input after \"# EOF\", found {}",
                    found(line.get(5..).unwrap_or_default())
                ),
                5,
            ));
        }
        let mut cur = Cursor::new(line);
        cur.bump(1);
        if !cur.eat(b' ') {
            return Err(Fail::expected(
                "a space after \"#\" (OpenMetrics has no free comments)",
                &cur,
            ));
        }
        let keyword = if cur.eat_slice(b"HELP") {
            "HELP"
        } else if cur.eat_slice(b"TYPE") {
            "TYPE"
        } else if cur.eat_slice(b"UNIT") {
            "UNIT"
        } else {
            return Err(Fail::expected("HELP, TYPE, UNIT or EOF after \"# \"", &cur));
        };
        if !cur.eat(b' ') {
            return Err(Fail::expected(
                &format!("a space and a metric name after {keyword}"),
                &cur,
            ));
        }
        let name_at = cur.pos();
        let name = self.metric_name(&mut cur)?;
        if !cur.eat(b' ') {
            let what = match keyword {
                "HELP" => "a space and help text after the metric name",
                "TYPE" => "a space and a metric type after the metric name",
                _ => "a space and a unit after the metric name",
            };
            return Err(Fail::expected(what, &cur));
        }
        let text_at = cur.pos();
        let text = cur.rest();
        let (entry, meta) = match keyword {
            "HELP" => {
                let text = self.str_at(text_at, text).map_err(|bad| {
                    Fail::new(
                        ErrorKind::Utf8,
                        "help text is not valid UTF-8",
                        text_at + bad,
                    )
                })?;
                (
                    Entry::Help {
                        name,
                        text: Text::new(text, Escapes::Quoted),
                    },
                    Meta::Help,
                )
            }
            "TYPE" => {
                let kind = MetricType::from_openmetrics_bytes(text).ok_or_else(|| {
                    Fail::new(
                        ErrorKind::Syntax,
                        format!(
                            "expected one of counter, gauge, histogram, gaugehistogram, summary, info, stateset, unknown, found {}",
                            found(text)
                        ),
                        text_at,
                    )
                })?;
                (Entry::Type { name, kind }, Meta::Type(kind))
            }
            _ => {
                if lex::run(text, lex::is_metric_name_byte) != text.len() {
                    return Err(Fail::new(
                        ErrorKind::Syntax,
                        format!(
                            "expected a unit of [a-zA-Z0-9_:] characters, found {}",
                            found(text)
                        ),
                        text_at,
                    ));
                }
                let raw = name.raw().as_bytes();
                let suffix_ok = raw.len() > text.len()
                    && raw.ends_with(text)
                    && raw.get(raw.len() - text.len() - 1) == Some(&b'_');
                if !text.is_empty() && !suffix_ok {
                    return Err(Fail::new(
                        ErrorKind::Rule,
                        format!(
                            "unit \"{}\" is not a suffix of the metric name \"{}\" (expected the name to end with \"_{}\")",
                            String::from_utf8_lossy(text),
                            name.raw(),
                            String::from_utf8_lossy(text)
                        ),
                        text_at,
                    ));
                }
                let unit = Text::plain(self.ascii_at(text_at, text));
                (Entry::Unit { name, unit }, Meta::Unit(text))
            }
        };
        self.set_family(name, &entry);
        if let Some(v) = self.validator.as_mut() {
            v.metadata(name.raw().as_bytes(), meta)
                .map_err(|m| Fail::new(ErrorKind::Rule, m, name_at))?;
        }
        Ok(entry)
    }

    fn set_family(&mut self, name: Text<'a>, entry: &Entry<'a>) {
        let raw = name.raw().as_bytes();
        if raw != self.family {
            self.family = raw;
            self.family_kind = MetricType::Unknown;
        }
        if let Entry::Type { kind, .. } = entry {
            self.family_kind = *kind;
        }
    }

    /// A metric name: bare `[a-zA-Z_:][a-zA-Z0-9_:]*` or a quoted UTF-8 string.
    fn metric_name(&self, cur: &mut Cursor<'a>) -> LineResult<'a, Text<'a>> {
        if cur.peek() == Some(b'"') {
            return self.quoted(cur, "metric name");
        }
        match cur.peek() {
            Some(b) if lex::is_metric_name_start(b) => {}
            _ => return Err(Fail::expected("a metric name", cur)),
        }
        let at = cur.pos();
        let name = cur.take_name(true);
        Ok(Text::plain(self.ascii_at(at, name)))
    }

    /// The text of `bytes`, which start at `at` in the current line: a slice of the
    /// buffer's text when the whole buffer is UTF-8 (checked once, up front), otherwise
    /// checked here. `Err` holds the offset of the first invalid byte within `bytes`.
    #[inline]
    fn str_at(&self, at: usize, bytes: &'a [u8]) -> Result<&'a str, usize> {
        if let Some(text) = self.utf8 {
            let start = self.line_start + at;
            if let Some(s) = text.get(start..start + bytes.len()) {
                return Ok(s);
            }
        }
        std::str::from_utf8(bytes).map_err(|e| e.valid_up_to())
    }

    /// [`Parser::str_at`] for bytes the grammar already limits to ASCII.
    #[inline]
    fn ascii_at(&self, at: usize, bytes: &'a [u8]) -> &'a str {
        self.str_at(at, bytes).unwrap_or_default()
    }

    /// A quoted string at the cursor: checks closing quote, length and UTF-8.
    #[inline]
    fn quoted(&self, cur: &mut Cursor<'a>, what: &str) -> LineResult<'a, Text<'a>> {
        let open = cur.pos();
        if !cur.eat(b'"') {
            return Err(Fail::expected(&format!("a quoted {what}"), cur));
        }
        let body = cur.rest();
        let Some((end, escaped)) = find_closing_quote(body) else {
            return Err(Fail::new(
                ErrorKind::Syntax,
                format!("expected a closing quote for the {what} that opens here"),
                open,
            ));
        };
        let raw_at = cur.pos();
        let raw = cur.slice_to(raw_at + end);
        cur.bump(1);
        if raw.len() > self.limits.max_label_bytes {
            return Err(Fail::new(
                ErrorKind::Limit,
                format!(
                    "{what} is {} bytes long, longer than the limit of {} bytes",
                    raw.len(),
                    self.limits.max_label_bytes
                ),
                open,
            ));
        }
        let text = self.str_at(raw_at, raw).map_err(|bad| {
            Fail::new(
                ErrorKind::Utf8,
                format!("{what} is not valid UTF-8"),
                raw_at + bad,
            )
        })?;
        Ok(Text::with_escapes(text, escaped, Escapes::Quoted))
    }

    /// The common shape of a label set, scanned without the general path's bookkeeping:
    /// `{name="value",...}` with bare names, no blanks, within the limits, in a buffer that is
    /// all UTF-8. `None` for anything else (including every error), which the general path
    /// then parses, so errors are reported by one piece of code.
    #[inline]
    fn fast_label_set(&self, cur: &Cursor<'a>) -> Option<(LabelSet<'a>, usize)> {
        let text = self.utf8?;
        let line = cur.line();
        let open = cur.pos();
        if line.get(open) != Some(&b'{') {
            return None;
        }
        let mut i = open + 1;
        let mut count = 0usize;
        let mut filter = 0u64;
        let mut names: [(usize, usize); 8] = [(0, 0); 8];
        loop {
            match line.get(i) {
                Some(b'}') if count == 0 => break,
                Some(&b) if lex::is_label_name_start(b) => {}
                _ => return None,
            }
            let name_len = lex::name_len(line.get(i..)?, false);
            let name = line.get(i..i + name_len)?;
            // Duplicates: the filter sends nearly every label past the comparisons; a
            // possible repeat, or more labels than the small table holds, goes the slow way.
            let bit = 1u64
                << ((name_len.wrapping_mul(7) + usize::from(name.last().copied().unwrap_or(0)))
                    & 63);
            if filter & bit != 0 {
                let seen = names.iter().take(count);
                if seen.clone().any(|&(a, n)| line.get(a..a + n) == Some(name)) {
                    return None;
                }
            }
            filter |= bit;
            *names.get_mut(count)? = (i, name_len);
            i += name_len;
            if line.get(i..i + 2)? != b"=\"" {
                return None;
            }
            i += 2;
            let (end, _) = lex::find_closing_quote(line.get(i..)?)?;
            if end > self.limits.max_label_bytes || name_len > self.limits.max_label_bytes {
                return None;
            }
            i += end + 1;
            count += 1;
            match line.get(i) {
                Some(b',')
                    if self.format == Format::PrometheusText && line.get(i + 1) == Some(&b'}') =>
                {
                    i += 1;
                    break;
                }
                Some(b',') => i += 1,
                Some(b'}') => break,
                _ => return None,
            }
        }
        if count > self.limits.max_labels {
            return None;
        }
        // i is at the closing brace.
        let start = self.line_start + open + 1;
        let raw = text.get(start..self.line_start + i)?;
        let len = u16::try_from(count).ok()?;
        Some((LabelSet::new(raw, len), i + 1))
    }

    /// A label set starting at `{`. Returns the set and a metric name found inside it.
    fn label_set(
        &self,
        cur: &mut Cursor<'a>,
        name_allowed: bool,
        what: &str,
    ) -> LineResult<'a, (LabelSet<'a>, Option<Text<'a>>)> {
        if let Some((set, end)) = self.fast_label_set(cur) {
            cur.bump(end - cur.pos());
            return Ok((set, None));
        }
        let prom = self.format == Format::PrometheusText;
        if !cur.eat(b'{') {
            return Err(Fail::expected("\"{\"", cur));
        }
        let body_start = cur.pos();
        let mut count: usize = 0;
        let mut name_in_braces: Option<Text<'a>> = None;
        // Names seen so far, to reject duplicates without allocating for usual sizes.
        let mut names: [&'a [u8]; 32] = [b""; 32];
        let mut seen_filter = 0u64;
        let mut more_names: Vec<&'a [u8]> = Vec::new();
        loop {
            if prom {
                cur.skip_blanks();
            }
            // An item: a label, or in the first position a quoted metric name.
            match cur.peek() {
                Some(b'}') if prom || (count == 0 && name_in_braces.is_none()) => {
                    cur.bump(1);
                    break;
                }
                Some(b'}') => {
                    return Err(Fail::expected(
                        &format!("a label name in the {what} (no trailing comma)"),
                        cur,
                    ));
                }
                _ => {}
            }
            let item_at = cur.pos();
            let label_name: &'a [u8] = if cur.peek() == Some(b'"') {
                let text = self.quoted(cur, "label name")?;
                if prom {
                    cur.skip_blanks();
                }
                if cur.peek() != Some(b'=') {
                    if name_allowed && matches!(cur.peek(), Some(b',' | b'}')) {
                        if name_in_braces.is_some() {
                            return Err(Fail::new(
                                ErrorKind::Syntax,
                                "found a second quoted metric name; a series has one name",
                                item_at,
                            ));
                        }
                        name_in_braces = Some(text);
                        if !self.separator(cur, what)? {
                            break;
                        }
                        continue;
                    }
                    return Err(Fail::expected("\"=\" after the quoted label name", cur));
                }
                text.raw().as_bytes()
            } else {
                match cur.peek() {
                    Some(b) if lex::is_label_name_start(b) => {}
                    _ => return Err(Fail::expected(&format!("a label name in the {what}"), cur)),
                }
                let n = cur.take_name(false);
                if n.len() > self.limits.max_label_bytes {
                    return Err(Fail::new(
                        ErrorKind::Limit,
                        format!(
                            "label name is {} bytes long, longer than the limit of {} bytes",
                            n.len(),
                            self.limits.max_label_bytes
                        ),
                        item_at,
                    ));
                }
                n
            };
            if prom {
                cur.skip_blanks();
            }
            if !cur.eat(b'=') {
                return Err(Fail::expected("\"=\" after the label name", cur));
            }
            if prom {
                cur.skip_blanks();
            }
            if cur.peek() != Some(b'"') {
                return Err(Fail::expected("a label value in double quotes", cur));
            }
            self.quoted(cur, "label value")?;
            // Reject a repeated name. A 64-bit filter of (length, last byte) skips the
            // comparisons for nearly every label of real expositions.
            let bit = 1u64
                << ((label_name.len().wrapping_mul(7)
                    + usize::from(label_name.last().copied().unwrap_or(0)))
                    & 63);
            let maybe_seen = seen_filter & bit != 0;
            seen_filter |= bit;
            let seen = names.iter().take(count.min(32)).chain(more_names.iter());
            for prev in seen.filter(|_| maybe_seen) {
                if *prev == label_name {
                    return Err(Fail::new(
                        ErrorKind::Syntax,
                        format!(
                            "label name \"{}\" appears twice",
                            String::from_utf8_lossy(label_name)
                        ),
                        item_at,
                    ));
                }
            }
            match names.get_mut(count) {
                Some(slot) => *slot = label_name,
                None => more_names.push(label_name),
            }
            count += 1;
            if count > self.limits.max_labels {
                return Err(Fail::new(
                    ErrorKind::Limit,
                    format!("more than {} labels in the {what}", self.limits.max_labels),
                    item_at,
                ));
            }
            if !self.separator(cur, what)? {
                break;
            }
        }
        // The cursor is just past "}".
        let raw = cur
            .line()
            .get(body_start..cur.pos().saturating_sub(1))
            .unwrap_or_default();
        // Every quoted piece was checked, the rest is ASCII: this cannot fail.
        let raw = self.str_at(body_start, raw).map_err(|bad| {
            Fail::new(
                ErrorKind::Utf8,
                format!("{what} is not valid UTF-8"),
                body_start + bad,
            )
        })?;
        let len = u16::try_from(count).unwrap_or(u16::MAX);
        Ok((LabelSet::new(raw, len), name_in_braces))
    }

    /// After an item: `,` (another item follows) or `}` (the set ends). Returns whether
    /// another item follows. Prometheus text also takes blanks, a missing comma and a
    /// trailing comma, as Prometheus does.
    #[inline]
    fn separator(&self, cur: &mut Cursor<'a>, what: &str) -> LineResult<'a, bool> {
        if self.format == Format::PrometheusText {
            cur.skip_blanks();
            if cur.eat(b'}') {
                return Ok(false);
            }
            cur.eat(b',');
            cur.skip_blanks();
            if cur.eat(b'}') {
                return Ok(false);
            }
            if cur.at_end() {
                return Err(Fail::expected(
                    &format!("\",\" or \"}}\" in the {what}"),
                    cur,
                ));
            }
            return Ok(true);
        }
        if cur.eat(b',') {
            if cur.peek() == Some(b'}') {
                return Err(Fail::expected(
                    &format!("a label name after \",\" in the {what} (no trailing comma)"),
                    cur,
                ));
            }
            return Ok(true);
        }
        if cur.eat(b'}') {
            return Ok(false);
        }
        Err(Fail::expected(
            &format!("\",\" or \"}}\" in the {what}"),
            cur,
        ))
    }

    /// A sample line of either format.
    fn sample_line(&mut self, line: &'a [u8]) -> LineResult<'a, Sample<'a>> {
        let prom = self.format == Format::PrometheusText;
        let mut cur = Cursor::new(line);
        if prom {
            cur.skip_blanks();
        }
        let name_at = cur.pos();
        // Prometheus text: whether blanks (or a closing brace) stand before the value.
        let mut prom_sep = false;
        let (name, labels) = if cur.peek() == Some(b'{') {
            let (labels, name) = self.label_set(&mut cur, true, "label set")?;
            let Some(name) = name else {
                return Err(Fail::new(
                    ErrorKind::Syntax,
                    "expected a metric name before \"{\" or quoted inside the braces, found none",
                    name_at,
                ));
            };
            if prom {
                cur.skip_blanks();
                prom_sep = true;
            }
            (name, labels)
        } else {
            match cur.peek() {
                Some(b) if lex::is_metric_name_start(b) => {}
                _ => {
                    return Err(Fail::expected(
                        "a metric name or \"#\" at the start of the line",
                        &cur,
                    ));
                }
            }
            let at = cur.pos();
            let name = Text::plain(self.ascii_at(at, cur.take_name(true)));
            if prom {
                prom_sep = cur.skip_blanks() > 0;
            }
            let labels = if cur.peek() == Some(b'{') {
                let labels = self.label_set(&mut cur, false, "label set")?.0;
                if prom {
                    cur.skip_blanks();
                    prom_sep = true;
                }
                labels
            } else {
                LabelSet::default()
            };
            (name, labels)
        };

        // Value.
        let value = self.value_token(
            &mut cur,
            prom_sep,
            "a space and the sample value",
            "sample value",
        )?;

        // Timestamp and exemplar.
        let mut timestamp = None;
        let mut exemplar = None;
        if prom {
            if cur.skip_blanks() > 0 && !cur.at_end() {
                let at = cur.pos();
                let tok = cur.take_while(|b| b != b' ' && b != b'\t');
                timestamp = Some(parse_i64(tok).ok_or_else(|| {
                    Fail::new(
                        ErrorKind::Number,
                        format!(
                            "expected a timestamp in integer milliseconds, found {}",
                            found(tok)
                        ),
                        at,
                    )
                })?);
                cur.skip_blanks();
            }
            if !cur.at_end() {
                return Err(Fail::expected("end of line after the sample", &cur));
            }
        } else {
            if !cur.at_end() && !cur.rest().starts_with(b" #") {
                if !cur.eat(b' ') {
                    return Err(Fail::expected(
                        "a space, then a timestamp or exemplar, or end of line after the value",
                        &cur,
                    ));
                }
                let at = cur.pos();
                let tok = cur.take_while(|b| b != b' ');
                timestamp = Some(
                    om_timestamp(tok, "timestamp")
                        .map_err(|m| Fail::new(ErrorKind::Number, m, at))?,
                );
            }
            if !cur.at_end() {
                if !cur.rest().starts_with(b" #") {
                    return Err(Fail::expected(
                        "end of line or \" # \" and an exemplar after the timestamp",
                        &cur,
                    ));
                }
                match self.exemplar(&mut cur) {
                    Ok(e) => exemplar = Some(e),
                    Err(fail) if self.mode == Mode::Scrape => self.drop_exemplar(fail),
                    Err(fail) => return Err(fail),
                }
            }
        }

        let kind = self.kind_of(name.raw().as_bytes());
        let sample = Sample {
            name,
            labels,
            value,
            timestamp,
            exemplar,
            kind,
        };
        if let Some(v) = self.validator.as_mut() {
            v.sample(&sample)
                .map_err(|m| Fail::new(ErrorKind::Rule, m, name_at))?;
        }
        Ok(sample)
    }

    /// A value token after its separator, parsed as a float.
    /// `prom_sep` says whether Prometheus text already had its separator (blanks, or a `}`).
    #[inline]
    fn value_token(
        &self,
        cur: &mut Cursor<'a>,
        prom_sep: bool,
        expected: &str,
        what: &str,
    ) -> LineResult<'a, f64> {
        let prom = self.format == Format::PrometheusText;
        let sep = if prom { prom_sep } else { cur.eat(b' ') };
        if !sep || cur.at_end() || (!prom && cur.peek() == Some(b' ')) {
            return Err(Fail::expected(expected, cur));
        }
        let at = cur.pos();
        let tok = if prom {
            cur.take_while(|b| b != b' ' && b != b'\t')
        } else {
            cur.take_while(|b| b != b' ')
        };
        parse_f64(tok).ok_or_else(|| {
            Fail::new(
                ErrorKind::Number,
                format!(
                    "expected a {what} (a decimal float, +Inf, -Inf or NaN), found {}",
                    found(tok)
                ),
                at,
            )
        })
    }

    /// ` # {labels} value [timestamp]` at the end of an OpenMetrics sample line.
    fn exemplar(&self, cur: &mut Cursor<'a>) -> LineResult<'a, Exemplar<'a>> {
        let fail = |kind, m: String, at| Fail::new(kind, m, at);
        // A failure of a shared piece (label set, value) becomes an exemplar failure, which
        // scrape mode turns into a warning.
        let in_exemplar = |f: Fail| {
            fail(
                ErrorKind::Exemplar,
                format!("exemplar: {}", f.message),
                f.at,
            )
        };
        if !cur.eat_slice(b" # ") {
            let mut c = *cur;
            c.bump(2);
            return Err(Fail::new(
                ErrorKind::Exemplar,
                format!(
                    "expected \" # \" and an exemplar label set, found {}",
                    found(cur.rest())
                ),
                c.pos(),
            ));
        }
        let set_at = cur.pos();
        let (labels, _) = self
            .label_set(cur, false, "exemplar label set")
            .map_err(in_exemplar)?;
        let value = self
            .value_token(
                cur,
                false,
                "a space and the exemplar value",
                "exemplar value",
            )
            .map_err(in_exemplar)?;
        let mut timestamp = None;
        if !cur.at_end() {
            if !cur.eat(b' ') {
                return Err(Fail::new(
                    ErrorKind::Exemplar,
                    format!(
                        "exemplar: expected a space and a timestamp or end of line, found {}",
                        found(cur.rest())
                    ),
                    cur.pos(),
                ));
            }
            let at = cur.pos();
            let tok = cur.take_while(|b| b != b' ');
            timestamp = Some(
                om_timestamp(tok, "exemplar timestamp")
                    .map_err(|m| fail(ErrorKind::Exemplar, m, at))?,
            );
            if !cur.at_end() {
                return Err(Fail::new(
                    ErrorKind::Exemplar,
                    format!(
                        "exemplar: expected end of line after the timestamp, found {}",
                        found(cur.rest())
                    ),
                    cur.pos(),
                ));
            }
        }
        let runes: usize = labels
            .iter()
            .map(|l| l.name.unescaped().chars().count() + l.value.unescaped().chars().count())
            .sum();
        if runes > MAX_EXEMPLAR_LABEL_RUNES {
            return Err(Fail::new(
                ErrorKind::Exemplar,
                format!(
                    "exemplar label names and values have {runes} code points together, more than the limit of {MAX_EXEMPLAR_LABEL_RUNES}"
                ),
                set_at,
            ));
        }
        Ok(Exemplar {
            labels,
            value,
            timestamp,
        })
    }

    fn drop_exemplar(&mut self, fail: Fail) {
        self.dropped_exemplars += 1;
        if self.warnings.len() < self.limits.max_warnings {
            let e = self.error(self.line_start, self.line.saturating_sub(1), fail);
            self.warnings.push(e);
        }
    }

    /// The family type of a sample named `name`.
    fn kind_of(&self, name: &[u8]) -> MetricType {
        if self.family.is_empty() || self.family_kind == MetricType::Unknown {
            return MetricType::Unknown;
        }
        match name.strip_prefix(self.family) {
            Some(b"") => self.family_kind,
            Some(suffix) => {
                // Prometheus also counts `_count` and `_sum` samples as part of a gauge
                // histogram family, so this does too.
                let lenient: &[&str] = match self.family_kind {
                    MetricType::GaugeHistogram => &["_count", "_sum"],
                    _ => &[],
                };
                let known = self
                    .family_kind
                    .openmetrics_suffixes()
                    .iter()
                    .chain(lenient)
                    .any(|s| s.as_bytes() == suffix);
                if known {
                    self.family_kind
                } else {
                    MetricType::Unknown
                }
            }
            None => MetricType::Unknown,
        }
    }

    // ---- Prometheus text 0.0.4 -----------------------------------------------------------

    fn prom_line(&mut self, line: &'a [u8]) -> LineResult<'a, Option<Entry<'a>>> {
        let mut cur = Cursor::new(line);
        cur.skip_blanks();
        match cur.peek() {
            None => Ok(None),
            Some(b'#') => self.prom_comment(cur).map(Some),
            Some(_) => self.sample_line(line).map(|s| Some(Entry::Sample(s))),
        }
    }

    fn prom_comment(&mut self, mut cur: Cursor<'a>) -> LineResult<'a, Entry<'a>> {
        cur.bump(1);
        let text_start = cur.pos();
        let blanks = cur.skip_blanks();
        let keyword = if blanks > 0 && cur.eat_slice(b"HELP") {
            "HELP"
        } else if blanks > 0 && cur.eat_slice(b"TYPE") {
            "TYPE"
        } else {
            ""
        };
        if keyword.is_empty() || !(cur.at_end() || matches!(cur.peek(), Some(b' ' | b'\t'))) {
            let comment = cur.line().get(text_start..).unwrap_or_default();
            return Ok(Entry::Comment(comment));
        }
        cur.skip_blanks();
        let name = self
            .metric_name(&mut cur)
            .map_err(|_| Fail::expected(&format!("a metric name after {keyword}"), &cur))?;
        let text: &'a [u8] = if cur.at_end() {
            b""
        } else {
            if !matches!(cur.peek(), Some(b' ' | b'\t')) {
                return Err(Fail::expected(
                    "a space or end of line after the metric name",
                    &cur,
                ));
            }
            cur.bump(1);
            cur.rest()
        };
        let entry = if keyword == "HELP" {
            let text = self.str_at(cur.pos(), text).map_err(|bad| {
                Fail::new(
                    ErrorKind::Utf8,
                    "help text is not valid UTF-8",
                    cur.pos() + bad,
                )
            })?;
            Entry::Help {
                name,
                text: Text::new(text, Escapes::PromHelp),
            }
        } else {
            let word = text.trim_ascii();
            let kind = MetricType::from_prometheus_bytes(word).ok_or_else(|| {
                Fail::new(
                    ErrorKind::Syntax,
                    format!(
                        "expected one of counter, gauge, histogram, summary, untyped, found {}",
                        found(word)
                    ),
                    cur.pos(),
                )
            })?;
            Entry::Type { name, kind }
        };
        self.set_family(name, &entry);
        Ok(entry)
    }
}

/// An OpenMetrics timestamp: float seconds, finite, converted to milliseconds.
fn om_timestamp(tok: &[u8], what: &str) -> Result<i64, String> {
    match parse_f64(tok) {
        Some(s) if s.is_finite() => Ok(seconds_to_ms(s)),
        Some(_) => Err(format!(
            "expected a finite {what} in seconds, found {}",
            found(tok)
        )),
        None => Err(format!(
            "expected a {what} in seconds (a decimal float), found {}",
            found(tok)
        )),
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Entry<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_line()
    }
}
