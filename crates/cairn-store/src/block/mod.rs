//! Immutable blocks (being written).
