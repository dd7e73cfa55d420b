//! Prometheus' normal form for the float-valued labels of classic histograms and summaries.
//!
//! Prometheus 3 rewrites `le` on histogram samples and `quantile` on summary samples to one
//! spelling of their float (`le="1"` becomes `le="1.0"`, `le="1e+06"` stays), so that a series
//! is the same whatever an exporter wrote. Prometheus 2 stores them as written: Debian's
//! promtool 2.42 (`tsdb create-blocks-from openmetrics`, then `tsdb dump`) keeps `le="0"`,
//! `le="1e-04"` and `quantile="0.50"` unchanged (checked 2026-11-25). The parser therefore
//! returns labels as written, and the store chooses which behaviour to follow.

use std::borrow::Cow;

use cairn_model::MetricType;

use crate::number::parse_f64;

/// The value Prometheus stores for label `name` of a sample of type `kind`: `le` of a
/// histogram and `quantile` of a summary are rewritten as [`format_float`] spells their float;
/// every other label, and a value that is not a float, is returned as it is.
///
/// ```
/// use cairn_expfmt::prometheus_label_value;
/// use cairn_model::MetricType;
/// assert_eq!(prometheus_label_value(MetricType::Histogram, "le", "1"), "1.0");
/// assert_eq!(prometheus_label_value(MetricType::Summary, "quantile", "0.50"), "0.5");
/// assert_eq!(prometheus_label_value(MetricType::Gauge, "le", "1"), "1");
/// ```
pub fn prometheus_label_value<'v>(kind: MetricType, name: &str, value: &'v str) -> Cow<'v, str> {
    let applies = (kind == MetricType::Histogram && name == "le")
        || (kind == MetricType::Summary && name == "quantile");
    match applies.then(|| parse_f64(value.as_bytes())).flatten() {
        Some(f) => {
            let normal = format_float(f);
            if normal == value {
                Cow::Borrowed(value)
            } else {
                Cow::Owned(normal)
            }
        }
        None => Cow::Borrowed(value),
    }
}

/// A float as Prometheus writes it in OpenMetrics: `+Inf`, `-Inf`, `NaN`, otherwise the
/// shortest round-trip digits in Go's `%g` layout (an exponent from `e-05` below 1e-4 and from
/// `e+06` up; `.0` added to a whole number written without an exponent).
///
/// ```
/// use cairn_expfmt::format_float;
/// assert_eq!(format_float(0.0), "0.0");
/// assert_eq!(format_float(1e-5), "1e-05");
/// assert_eq!(format_float(123456.0), "123456.0");
/// assert_eq!(format_float(1234567.0), "1.234567e+06");
/// assert_eq!(format_float(f64::INFINITY), "+Inf");
/// ```
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // `{:e}` gives the shortest round-trip digits: "-1.2345e-7", "5e0".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::from(sign);
    // strconv.FormatFloat(f, 'g', -1, 64): with the shortest digits, the exponent form is
    // used when exp < -4 or exp >= 6.
    let eprec = 6;
    if exp < -4 || exp >= eprec {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        out.push_str(&format!("e{esign}{:02}", exp.unsigned_abs()));
        return out;
    }
    // Fixed notation with exactly the shortest digits.
    if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let int_len = (exp + 1) as usize;
        if digits.len() <= int_len {
            out.push_str(&digits);
            for _ in digits.len()..int_len {
                out.push('0');
            }
            out.push_str(".0");
        } else {
            let (i, frac) = digits.split_at(int_len);
            out.push_str(i);
            out.push('.');
            out.push_str(frac);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected strings are what Go's `strconv.FormatFloat(f, 'g', -1, 64)` prints, with the
    /// `.0` Prometheus adds to whole numbers.
    #[test]
    fn go_g_layout() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.5, "0.5"),
            (0.25, "0.25"),
            (0.0001, "0.0001"),
            (0.00011, "0.00011"),
            (1e-5, "1e-05"),
            (1.1e-5, "1.1e-05"),
            (100000.0, "100000.0"),
            (123456.0, "123456.0"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1.5e6, "1.5e+06"),
            (1e23, "1e+23"),
            (1e100, "1e+100"),
            (-2.5, "-2.5"),
            (8.999999999999998, "8.999999999999998"),
            (1.0000000000000216e-05, "1.0000000000000216e-05"),
            (1536.9999999999998, "1536.9999999999998"),
            (27264.999999999996, "27264.999999999996"),
            (1.55555555555552e6, "1.55555555555552e+06"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for &(f, want) in cases {
            assert_eq!(format_float(f), want, "{f:e}");
        }
    }

    #[test]
    fn only_le_and_quantile_of_their_types() {
        use MetricType as T;
        assert_eq!(prometheus_label_value(T::Histogram, "le", "+Inf"), "+Inf");
        assert_eq!(prometheus_label_value(T::Histogram, "le", "0"), "0.0");
        assert_eq!(
            prometheus_label_value(T::Histogram, "le", "1e-04"),
            "0.0001"
        );
        assert_eq!(prometheus_label_value(T::Histogram, "le", "x"), "x");
        assert_eq!(prometheus_label_value(T::Histogram, "quantile", "1"), "1");
        assert_eq!(prometheus_label_value(T::Summary, "quantile", "1"), "1.0");
        assert_eq!(prometheus_label_value(T::GaugeHistogram, "le", "1"), "1");
        assert!(matches!(
            prometheus_label_value(T::Histogram, "le", "1.0"),
            Cow::Borrowed(_)
        ));
    }
}
