//! Parse errors: what went wrong and where.

use std::fmt;

/// The broad class of a parse error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes do not follow the format's grammar.
    Syntax,
    /// A number (value or timestamp) is not spelled as the format allows.
    Number,
    /// Text that must be UTF-8 is not.
    Utf8,
    /// A documented limit was exceeded (see [`crate::Limits`]).
    Limit,
    /// An OpenMetrics exposition rule was broken (strict mode): metadata, grouping, ordering,
    /// values or labels that a metric type requires.
    Rule,
    /// An exemplar was malformed or not allowed; in scrape mode these are warnings.
    Exemplar,
    /// An OpenMetrics exposition did not end with `# EOF`, or had data after it.
    Eof,
}

/// A parse error with its position: byte offset, line and column (both 1-based; the column
/// counts Unicode scalar values from the start of the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    offset: usize,
    line: u32,
    column: u32,
}

impl Error {
    pub(crate) fn new(
        kind: ErrorKind,
        message: String,
        offset: usize,
        line: u32,
        column: u32,
    ) -> Error {
        Error {
            kind,
            message,
            offset,
            line,
            column,
        }
    }

    /// The class of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What was expected and what was found, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Byte offset from the start of the buffer.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// 1-based line number.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// 1-based column, in Unicode scalar values.
    pub fn column(&self) -> u32 {
        self.column
    }
}

/// `LINE:COLUMN: message`, so a caller can prefix a file name for `FILE:LINE:COL: message`.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for Error {}

/// Describes the bytes found where something else was expected, for error messages.
pub(crate) fn found(s: &[u8]) -> String {
    match s.first() {
        None => "end of line".to_string(),
        Some(_) => {
            let shown = s.get(..s.len().min(24)).unwrap_or(s);
            let mut out = String::from("\"");
            for chunk in shown.utf8_chunks() {
                for c in chunk.valid().chars() {
                    out.extend(c.escape_debug());
                }
                for b in chunk.invalid() {
                    out.push_str(&format!("\\x{b:02x}"));
                }
            }
            out.push('"');
            if s.len() > shown.len() {
                out.push('…');
            }
            out
        }
    }
}
