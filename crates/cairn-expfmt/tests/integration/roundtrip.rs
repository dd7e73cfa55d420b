//! parse(encode(x)) == x, by proptest.
