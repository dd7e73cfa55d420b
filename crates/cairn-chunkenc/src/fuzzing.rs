//! The bodies of the `chunkenc` fuzz targets (XOR and exemplar chunks), shared with stable
//! `cargo test` so that golden chunks, random bytes and every crash input ever found run on
//! every test run.
//!
//! Not part of the API: it panics on purpose when an invariant breaks.

use crate::exemplar::{
    ExemplarAppender, ExemplarIterator, ExemplarRef, MAX_LABEL_BYTES, MAX_LABELS,
};
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

/// An exemplar with its value as raw bits and owned labels, so NaN payloads compare
/// exactly.
type OwnedExemplar = (i64, u64, Vec<(String, String)>);

fn owned(e: &ExemplarRef<'_>) -> OwnedExemplar {
    let labels = e
        .labels
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    (e.t, e.v.to_bits(), labels)
}

/// Decodes `data` as an exemplar chunk and checks what must hold for any bytes: no panic,
/// an end within the header's count, errors positioned inside (or at the end of) the input,
/// every decoded exemplar valid input for the appender (time order, sorted unique names,
/// the limits), `seek` consistent with `next`, and, when the chunk decodes, that it
/// re-encodes to the same exemplars and can be reopened and extended.
pub fn fuzz_exemplar_decode(data: &[u8]) {
    let mut it = ExemplarIterator::new(data);
    let mut exemplars: Vec<OwnedExemplar> = Vec::new();
    while let Some(e) = it.next() {
        check_exemplar(&e, exemplars.last().map(|(t, _, _)| *t));
        exemplars.push(owned(&e));
        assert!(
            exemplars.len() <= it.num_exemplars(),
            "more exemplars than the header"
        );
    }
    assert!(it.next().is_none(), "the iterator is fused");
    match it.err() {
        Some(e) => {
            assert!(
                e.offset() <= data.len(),
                "error offset {} past the input",
                e.offset()
            );
            assert!(!e.to_string().is_empty());
        }
        None => assert_eq!(
            exemplars.len(),
            it.num_exemplars(),
            "a clean end decodes every exemplar"
        ),
    }

    check_exemplar_seek(data, &exemplars);

    if it.err().is_none() {
        let mut app = ExemplarAppender::new();
        for (t, v, labels) in &exemplars {
            if let Err(e) = app.append(*t, f64::from_bits(*v), labels) {
                panic!("a decoded exemplar is refused: {e}");
            }
        }
        assert_same_exemplars(&decode_exemplars(app.bytes()), &exemplars, "re-encoding");
        check_exemplar_resume(data, &exemplars);
    }
}

/// What the decoder promises of every exemplar it returns.
fn check_exemplar(e: &ExemplarRef<'_>, last: Option<i64>) {
    if let Some(last) = last {
        assert!(e.t >= last, "timestamp {} after {last}", e.t);
    }
    assert!(e.labels.len() <= MAX_LABELS, "{} labels", e.labels.len());
    let bytes: usize = e.labels.iter().map(|(n, v)| n.len() + v.len()).sum();
    assert!(bytes <= MAX_LABEL_BYTES, "{bytes} bytes of labels");
    for pair in e.labels.windows(2) {
        if let [(a, _), (b, _)] = pair {
            assert!(a < b, "labels {a:?} and {b:?} out of order");
        }
    }
}

/// Every seek target lands on the first exemplar at or after it.
fn check_exemplar_seek(data: &[u8], exemplars: &[OwnedExemplar]) {
    let mut targets = vec![i64::MIN, i64::MAX, 0];
    for (t, _, _) in exemplars.iter().step_by(7).take(8) {
        targets.extend([*t, t.wrapping_add(1), t.wrapping_sub(1)]);
    }
    for target in targets {
        let mut it = ExemplarIterator::new(data);
        let found = it.seek(target).map(|e| owned(&e));
        let expected = exemplars.iter().find(|(t, _, _)| *t >= target);
        assert_eq!(found.as_ref(), expected, "seek({target})");
        if found.is_some() {
            let again = it.seek(target).map(|e| owned(&e));
            assert_eq!(again, found, "repeated seek({target})");
        }
    }
}

/// Reopening the chunk and appending one exemplar yields the old ones plus the new one.
fn check_exemplar_resume(data: &[u8], exemplars: &[OwnedExemplar]) {
    let Ok(mut app) = ExemplarAppender::resume(data.to_vec()) else {
        // Only trailing bytes after a clean decode make reopening fail.
        return;
    };
    assert_eq!(app.num_exemplars(), exemplars.len());
    if app.is_full() || exemplars.len() >= usize::from(u16::MAX) {
        return;
    }
    let (t, v) = exemplars
        .last()
        .map_or((1, f64::from_bits(0x7ff0_0000_0000_0002)), |(t, v, _)| {
            (*t, -f64::from_bits(*v))
        });
    let labels = [
        ("service", "fuzz"),
        ("span_id", "b7ad6b7169203331"),
        ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
    ];
    if let Err(e) = app.append(t, v, &labels) {
        panic!("appending after resume: {e}");
    }
    let mut want = exemplars.to_vec();
    want.push((
        t,
        v.to_bits(),
        labels
            .iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
    ));
    assert_same_exemplars(&decode_exemplars(app.bytes()), &want, "resume and append");
}

fn decode_exemplars(chunk: &[u8]) -> Vec<OwnedExemplar> {
    let mut it = ExemplarIterator::new(chunk);
    let exemplars: Vec<_> = it.by_ref().map(|e| owned(&e)).collect();
    if let Some(e) = it.err() {
        panic!("an exemplar chunk cairn wrote does not decode: {e}");
    }
    exemplars
}

fn assert_same_exemplars(got: &[OwnedExemplar], want: &[OwnedExemplar], what: &str) {
    assert_eq!(got, want, "{what}: exemplars differ");
}
