//! Integration tests of the cairn command.
