//! The parser's own cases.
