//! A read position within one line.

/// A cursor over one line of the buffer (without its `\n`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    line: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(line: &'a [u8]) -> Cursor<'a> {
        Cursor { line, pos: 0 }
    }

    /// The whole line.
    pub(crate) fn line(&self) -> &'a [u8] {
        self.line
    }

    /// Index within the line.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.line.get(self.pos).copied()
    }

    #[inline]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.line.get(self.pos..).unwrap_or_default()
    }

    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.line.len()
    }

    #[inline]
    pub(crate) fn bump(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.line.len());
    }

    /// Consumes `b` if it is next.
    #[inline]
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `prefix` if it is next.
    #[inline]
    pub(crate) fn eat_slice(&mut self, prefix: &[u8]) -> bool {
        if self.rest().starts_with(prefix) {
            self.pos += prefix.len();
            true
        } else {
            false
        }
    }

    /// Consumes and returns the longest run of bytes satisfying `f`.
    #[inline]
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a [u8] {
        let rest = self.rest();
        let n = crate::lex::run(rest, f);
        self.pos += n;
        rest.get(..n).unwrap_or_default()
    }

    /// Consumes a run of name bytes (`[a-zA-Z0-9_]`, and `:` when `colon`).
    #[inline]
    pub(crate) fn take_name(&mut self, colon: bool) -> &'a [u8] {
        let rest = self.rest();
        let n = crate::lex::name_len(rest, colon);
        self.pos += n;
        rest.get(..n).unwrap_or_default()
    }

    /// Consumes spaces and tabs (Prometheus text only); returns how many.
    #[inline]
    pub(crate) fn skip_blanks(&mut self) -> usize {
        self.take_while(|b| b == b' ' || b == b'\t').len()
    }

    /// Consumes everything up to `end` (an index within the line).
    #[inline]
    pub(crate) fn slice_to(&mut self, end: usize) -> &'a [u8] {
        let s = self.line.get(self.pos..end).unwrap_or_default();
        self.pos = end.max(self.pos).min(self.line.len());
        s
    }
}
