//! Numbers as text for CSV: the shortest decimal that reads back as the same `f64`, in plain
//! notation (no exponent), as `{}` prints it. A sweep writes ten of these per row, and
//! `{}` (Grisu with a Dragon fallback) took a sixth of a refined sweep's time; Żmij (the
//! algorithm `serde_json` prints JSON numbers with) finds the digits in about a third of the
//! time. Where two shortest decimals are equally near (an exact tie in the last digit, about
//! one value in 600), Żmij picks the even digit and `{}` the one above: both read back the same.

use std::fmt::Write;

/// Appends `x`: its shortest round-trip digits in plain notation (`0.0001`, `1e16` as
/// `10000000000000000`, `-0` for negative zero, `NaN`/`inf` as `{}` writes them).
pub fn push_f64(out: &mut String, x: f64) {
    if !x.is_finite() {
        let _ = write!(out, "{x}");
        return;
    }
    let mut buffer = zmij::Buffer::new();
    let text = buffer.format_finite(x);
    if !text.contains('e') {
        // Plain already (Żmij uses an exponent only for very large or small magnitudes);
        // `{}` writes integers without the `.0`.
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
        return;
    }
    let text = text.as_bytes();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (mantissa, exponent) = match text.iter().position(|&c| c == b'e' || c == b'E') {
        Some(i) => (&text[..i], exponent(&text[i + 1..])),
        None => (text, 0),
    };
    // The significant digits, and how many of them stand before the decimal point.
    let mut digits = [0u8; 40];
    let mut len = 0;
    let mut before_point: Option<i32> = None;
    for &c in mantissa {
        match c {
            b'.' => before_point = Some(len as i32),
            b'0' if len == 0 => {
                // A leading zero: after the point it moves the first digit right.
                if let Some(p) = before_point.as_mut() {
                    *p -= 1;
                }
            }
            d => {
                digits[len] = d;
                len += 1;
            }
        }
    }
    let mut point = before_point.unwrap_or(len as i32) + exponent;
    while len > 0 && digits[len - 1] == b'0' {
        len -= 1;
    }
    if negative {
        out.push('-');
    }
    if len == 0 {
        out.push('0');
        return;
    }
    let digits = std::str::from_utf8(&digits[..len]).expect("ASCII digits");
    if point <= 0 {
        out.push_str("0.");
        while point < 0 {
            out.push('0');
            point += 1;
        }
        out.push_str(digits);
    } else if point as usize >= len {
        out.push_str(digits);
        for _ in len..point as usize {
            out.push('0');
        }
    } else {
        let (int, frac) = digits.split_at(point as usize);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    }
}

/// The decimal exponent after `e`: an optional sign, then digits.
fn exponent(text: &[u8]) -> i32 {
    let (sign, digits) = match text.split_first() {
        Some((b'-', rest)) => (-1, rest),
        Some((b'+', rest)) => (1, rest),
        _ => (1, text),
    };
    sign * digits
        .iter()
        .fold(0i32, |e, &d| e * 10 + i32::from(d - b'0'))
}

#[cfg(test)]
mod tests {
    use super::push_f64;

    fn text(x: f64) -> String {
        let mut s = String::new();
        push_f64(&mut s, x);
        s
    }

    #[test]
    fn prints_like_display_on_chosen_values() {
        for x in [
            0.0,
            -0.0,
            1.0,
            -1.5,
            0.1,
            1e16,
            1e22,
            1e-7,
            123.456,
            1735317645690.9111,
            0.010139478657234713,
            5e-324,
            f64::MAX,
            f64::MIN_POSITIVE,
            9007199254740993.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(text(x), format!("{x}"), "{x:e}");
        }
    }

    #[test]
    fn an_exact_tie_takes_the_even_digit() {
        // 608898711247163.25 is an f64: .2 and .3 are both shortest and equally near.
        let x = 608_898_711_247_163.0 + 0.25;
        assert_eq!(format!("{x}"), "608898711247163.3");
        assert_eq!(text(x), "608898711247163.2");
        assert_eq!(text(x).parse::<f64>().unwrap(), x);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]

        /// Any finite f64: reads back exactly, in plain notation, with as many characters as
        /// `{}` writes and the same text but for the last digit of an exact tie.
        #[test]
        fn reads_back_and_matches_display(bits in proptest::prelude::any::<u64>()) {
            let x = f64::from_bits(bits);
            proptest::prop_assume!(x.is_finite());
            let (got, want) = (text(x), format!("{x}"));
            proptest::prop_assert_eq!(got.parse::<f64>().unwrap().to_bits(), x.to_bits());
            proptest::prop_assert!(!got.contains(['e', 'E']), "{}", got);
            proptest::prop_assert_eq!(got.len(), want.len());
            let same_head = got[..got.len() - 1] == want[..want.len() - 1];
            let last = |s: &str| i32::from(*s.as_bytes().last().unwrap());
            proptest::prop_assert!(
                got == want || (same_head && (last(&got) - last(&want)).abs() == 1),
                "{} vs {}", got, want
            );
        }

        /// Values a sweep prints (counts, seconds, ratios across many magnitudes).
        #[test]
        fn matches_display_on_sweep_magnitudes(m in 1.0f64..10.0, e in -12i32..16) {
            let x = m * 10f64.powi(e);
            let (got, want) = (text(x), format!("{x}"));
            proptest::prop_assert_eq!(got.parse::<f64>().unwrap(), x);
            proptest::prop_assert_eq!(got.len(), want.len());
        }
    }
}
