//! The body of the `chunkenc` fuzz target, shared with stable `cargo test` so that golden
//! chunks, random bytes and every crash input ever found run on every test run.
//!
//! Not part of the API: it panics on purpose when an invariant breaks.

use crate::{XorAppender, XorIterator};

/// Decodes `data` as an XOR chunk and checks what must hold for any bytes: no panic, an
/// end within the header's sample count, errors positioned inside (or at the end of) the
/// input, `seek` consistent with `next`, and, when the chunk decodes, that it re-encodes to
/// the same samples and can be reopened and extended.
pub fn fuzz_decode(data: &[u8]) {
    let mut it = XorIterator::new(data);
    let mut samples = Vec::new();
    while let Some(s) = it.next() {
        samples.push(s);
        assert!(
            samples.len() <= it.num_samples(),
            "more samples than the header"
        );
    }
    assert!(it.next().is_none(), "the iterator is fused");
    if let Some(e) = it.err() {
        assert!(
            e.offset() <= data.len(),
            "error offset {} past the input",
            e.offset()
        );
        assert!(!e.to_string().is_empty());
    } else {
        assert_eq!(
            samples.len(),
            it.num_samples(),
            "a clean end decodes every sample"
        );
    }

    check_seek(data, &samples);

    if it.err().is_none() {
        let mut app = XorAppender::new();
        for &(t, v) in &samples {
            app.append(t, v);
        }
        assert_same(&decode(app.bytes()), &samples, "re-encoding");
        check_resume(data, &samples);
    }
}

/// Every seek target lands on the first later-or-equal sample at or after the position.
fn check_seek(data: &[u8], samples: &[(i64, f64)]) {
    let mut targets = vec![i64::MIN, i64::MAX, 0];
    for &(t, _) in samples.iter().step_by(7).take(8) {
        targets.extend([t, t.wrapping_add(1), t.wrapping_sub(1)]);
    }
    for target in targets {
        let mut it = XorIterator::new(data);
        let found = it.seek(target);
        let expected = samples.iter().find(|(t, _)| *t >= target);
        match (found, expected) {
            (Some(f), Some(e)) => {
                assert_eq!(f.0, e.0, "seek({target})");
                assert_eq!(f.1.to_bits(), e.1.to_bits(), "seek({target})");
                // Seeking again to the same target stays put.
                let again = it.seek(target).map(|(t, v)| (t, v.to_bits()));
                assert_eq!(again, Some((f.0, f.1.to_bits())), "repeated seek({target})");
            }
            (None, None) => {}
            (None, Some(e)) => panic!("seek({target}) missed {e:?}"),
            (Some(f), None) => panic!("seek({target}) found {f:?}, beyond every sample"),
        }
    }
}

/// Reopening the chunk and appending one sample yields the old samples plus the new one.
fn check_resume(data: &[u8], samples: &[(i64, f64)]) {
    let Ok(mut app) = XorAppender::resume(data.to_vec()) else {
        // Only trailing bytes after a clean decode make reopening fail.
        return;
    };
    assert_eq!(app.num_samples(), samples.len());
    if app.is_full() || samples.len() >= usize::from(u16::MAX) {
        return;
    }
    let next = match samples.last() {
        Some(&(t, v)) => (t.wrapping_add(15_000), -v),
        None => (1, f64::from_bits(0x7ff0_0000_0000_0002)),
    };
    app.append(next.0, next.1);
    let mut want = samples.to_vec();
    want.push(next);
    assert_same(&decode(app.bytes()), &want, "resume and append");
}

fn decode(chunk: &[u8]) -> Vec<(i64, f64)> {
    let mut it = XorIterator::new(chunk);
    let samples: Vec<_> = it.by_ref().collect();
    if let Some(e) = it.err() {
        panic!("a chunk cairn wrote does not decode: {e}");
    }
    samples
}

fn assert_same(got: &[(i64, f64)], want: &[(i64, f64)], what: &str) {
    let bits = |s: &[(i64, f64)]| s.iter().map(|&(t, v)| (t, v.to_bits())).collect::<Vec<_>>();
    assert_eq!(bits(got), bits(want), "{what}: samples differ");
}
