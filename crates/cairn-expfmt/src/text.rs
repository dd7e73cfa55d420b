//! Borrowed text and label sets: views into the scrape buffer, unescaped only on demand.

use std::borrow::Cow;
use std::fmt;

/// Which escape sequences a piece of text uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Escapes {
    /// Label values, quoted names and OpenMetrics HELP: `\\`, `\"` and `\n`.
    Quoted,
    /// Prometheus text 0.0.4 HELP: `\\` and `\n` only.
    PromHelp,
}

/// A borrowed piece of UTF-8 text as it stands in the buffer, escapes and all.
///
/// [`Text::unescaped`] allocates only when the text contains a backslash. An unknown escape
/// (`\z`) is kept as it is, as Prometheus does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Text<'a> {
    raw: &'a str,
    escaped: bool,
    escapes: Escapes,
}

impl<'a> Text<'a> {
    pub(crate) fn new(raw: &'a str, escapes: Escapes) -> Text<'a> {
        let escaped = memchr::memchr(b'\\', raw.as_bytes()).is_some();
        Text::with_escapes(raw, escaped, escapes)
    }

    /// Text whose escape flag the caller already knows.
    pub(crate) fn with_escapes(raw: &'a str, escaped: bool, escapes: Escapes) -> Text<'a> {
        Text {
            raw,
            escaped,
            escapes,
        }
    }

    /// Text that has no escapes.
    pub(crate) fn plain(raw: &'a str) -> Text<'a> {
        Text {
            raw,
            escaped: false,
            escapes: Escapes::Quoted,
        }
    }

    /// The text as written, escapes included.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// Whether the text contains a backslash, so that unescaping may change it.
    pub fn has_escapes(&self) -> bool {
        self.escaped
    }

    /// The text with its escapes resolved; borrowed unless there was an escape.
    #[inline]
    pub fn unescaped(&self) -> Cow<'a, str> {
        if !self.escaped {
            return Cow::Borrowed(self.raw);
        }
        Cow::Owned(self.unescape_slow())
    }

    #[cold]
    #[inline(never)]
    fn unescape_slow(&self) -> String {
        let mut out = String::with_capacity(self.raw.len());
        let mut chars = self.raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match (chars.next(), self.escapes) {
                (Some('\\'), _) => out.push('\\'),
                (Some('n'), _) => out.push('\n'),
                (Some('"'), Escapes::Quoted) => out.push('"'),
                (Some(other), _) => {
                    out.push('\\');
                    out.push(other);
                }
                (None, _) => out.push('\\'),
            }
        }
        out
    }

    /// Whether the unescaped text equals `s`, without allocating when there are no escapes.
    pub fn eq_str(&self, s: &str) -> bool {
        if self.escaped {
            self.unescaped() == s
        } else {
            self.raw == s
        }
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.unescaped(), f)
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.unescaped())
    }
}

/// One label of a [`LabelSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label<'a> {
    /// The label name (quoted UTF-8 names come back without their quotes).
    pub name: Text<'a>,
    /// The label value, without its quotes.
    pub value: Text<'a>,
}

/// The labels of a sample or exemplar: a validated span of the buffer, read lazily.
///
/// Iterating does not allocate. A metric name written inside the braces
/// (`{"my.metric", a="b"}`) is not a label and is skipped.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct LabelSet<'a> {
    /// The text between `{` and `}`; validated by the parser before a `LabelSet` is made.
    raw: &'a str,
    len: u16,
}

impl<'a> LabelSet<'a> {
    pub(crate) fn new(raw: &'a str, len: u16) -> LabelSet<'a> {
        LabelSet { raw, len }
    }

    /// The text between the braces, as written.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// How many labels there are.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The labels in the order written.
    pub fn iter(&self) -> LabelIter<'a> {
        LabelIter { rest: self.raw }
    }

    /// The value of the label `name`, if present.
    pub fn get(&self, name: &str) -> Option<Text<'a>> {
        self.iter().find(|l| l.name.eq_str(name)).map(|l| l.value)
    }
}

impl fmt::Debug for LabelSet<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|l| (l.name, l.value)))
            .finish()
    }
}

impl<'a> IntoIterator for LabelSet<'a> {
    type Item = Label<'a>;
    type IntoIter = LabelIter<'a>;
    fn into_iter(self) -> LabelIter<'a> {
        self.iter()
    }
}

/// Iterator over the labels of a [`LabelSet`].
#[derive(Debug, Clone)]
pub struct LabelIter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for LabelIter<'a> {
    type Item = Label<'a>;

    #[inline]
    fn next(&mut self) -> Option<Label<'a>> {
        let bytes = self.rest.as_bytes();
        // The usual shape first: `name="value"` and an optional comma.
        if let Some(&b) = bytes.first() {
            if crate::lex::is_label_name_start(b) {
                let n = crate::lex::name_len(bytes, false);
                if bytes.get(n..n + 2) == Some(b"=\"")
                    && let Some((end, escaped)) =
                        crate::lex::find_closing_quote(bytes.get(n + 2..).unwrap_or_default())
                {
                    let name = self.rest.get(..n)?;
                    let value = self.rest.get(n + 2..n + 2 + end)?;
                    let mut next = n + 3 + end;
                    if bytes.get(next) == Some(&b',') {
                        next += 1;
                    }
                    self.rest = self.rest.get(next..)?;
                    return Some(Label {
                        name: Text::plain(name),
                        value: Text::with_escapes(value, escaped, Escapes::Quoted),
                    });
                }
            }
        } else {
            return None;
        }
        self.next_general()
    }
}

impl<'a> LabelIter<'a> {
    /// Every other shape: blanks, quoted names, a metric name inside the braces.
    fn next_general(&mut self) -> Option<Label<'a>> {
        // The span was validated by the parser, so this reader can be forgiving: it skips
        // separators and stops at anything it does not expect instead of failing. Every cut
        // falls on an ASCII delimiter, so slicing the str never fails.
        loop {
            self.skip(|b| b == b' ' || b == b'\t' || b == b',');
            let first = *self.rest.as_bytes().first()?;
            let name = if first == b'"' {
                let text = self.quoted()?;
                self.skip(|b| b == b' ' || b == b'\t');
                if self.rest.as_bytes().first() != Some(&b'=') {
                    // A quoted string on its own is the metric name, not a label.
                    continue;
                }
                text
            } else {
                let n = crate::lex::name_len(self.rest.as_bytes(), false);
                let name = self.rest.get(..n)?;
                self.rest = self.rest.get(n..)?;
                Text::plain(name)
            };
            self.skip(|b| b == b' ' || b == b'\t');
            self.rest = self.rest.strip_prefix('=')?;
            self.skip(|b| b == b' ' || b == b'\t');
            let value = self.quoted()?;
            return Some(Label { name, value });
        }
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        let n = crate::lex::run(self.rest.as_bytes(), f);
        self.rest = self.rest.get(n..).unwrap_or_default();
    }

    /// `"text"` at the start of the rest: the text between the quotes.
    fn quoted(&mut self) -> Option<Text<'a>> {
        let body = self.rest.strip_prefix('"')?;
        let (end, escaped) = crate::lex::find_closing_quote(body.as_bytes())?;
        let text = body.get(..end)?;
        self.rest = body.get(end + 1..)?;
        Some(Text::with_escapes(text, escaped, Escapes::Quoted))
    }
}
