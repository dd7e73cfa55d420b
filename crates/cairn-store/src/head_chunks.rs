//! Head chunk files (being written).
