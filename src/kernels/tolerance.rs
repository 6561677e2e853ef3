//! Comparing a kernel's output with its CPU reference, with tolerances that are relative to the
//! data, so that small values (importance scores are about `1/n`) are held to the same precision
//! as large ones and a systematic error of 1 % fails every check, f32 or bf16.
//!
//! Element `e` passes when `|got − want| ≤ slack + rtol · (|want| + rms(want))`, where `rms` is
//! the root mean square of the finite reference values: relative to the element where it is large,
//! relative to the tensor's scale where it is near zero (a difference of two large numbers has an
//! absolute, not a relative, error). `slack` is 0 for f32 outputs and half a bf16 ulp of the larger
//! magnitude for outputs stored in bf16 (the kernel rounds its f32 result once). Non-finite
//! reference values must be matched exactly (`-inf` for a masked logit, NaN where the reference
//! has NaN). Over the whole tensor, the relative L2 error must stay within `rtol` too, and for bf16
//! outputs the mean signed error (in units of `|want| + rms`) within [`BF16_BIAS`]: rounding to
//! nearest even is unbiased, a scaled result is not.

/// What a comparison found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Agreement {
    /// Largest `|got − want| / (|want| + rms)` over finite elements.
    pub max_rel: f64,
    /// `‖got − want‖₂ / ‖want‖₂` over finite elements.
    pub l2_rel: f64,
    /// Mean of `(got − want) / (|want| + rms)`: a systematic error shows here.
    pub bias: f64,
}

/// The largest mean signed error of a bf16 output (see the module docs): RNE rounding errors
/// average out to about `2⁻⁹ / √n`, a 1 % scale error gives about `5·10⁻³`.
pub const BF16_BIAS: f64 = 2e-3;

/// Tolerance of an f32 result computed in a different summation order than its reference.
pub const F32_RTOL: f64 = 1e-4;

/// `x` rounded to bf16 (round to nearest even, NaN stays NaN: the kernels' `store_f32`), as f32.
pub fn round_bf16(x: f32) -> f32 {
    let u = x.to_bits();
    if (u & 0x7fff_ffff) > 0x7f80_0000 {
        return f32::from_bits(0x7fc0_0000);
    }
    f32::from_bits(u.wrapping_add(0x7fff + ((u >> 16) & 1)) & 0xffff_0000)
}

/// `x <= limit`, false for NaN: a NaN result never passes.
fn within(x: f64, limit: f64) -> bool {
    x <= limit
}

/// Half a bf16 ulp at magnitude `x` (8 significant bits).
fn half_ulp_bf16(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    let exponent = x.abs().log2().floor();
    2f64.powf(exponent - 8.0)
}

fn compare_with(
    got: &[f32],
    want: &[f32],
    rtol: f64,
    bf16: bool,
    what: &str,
) -> Result<Agreement, String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} elements, the reference has {}",
            got.len(),
            want.len()
        ));
    }
    let finite: Vec<f64> = want
        .iter()
        .filter(|w| w.is_finite())
        .map(|&w| w as f64)
        .collect();
    let rms = if finite.is_empty() {
        0.0
    } else {
        (finite.iter().map(|w| w * w).sum::<f64>() / finite.len() as f64).sqrt()
    };
    let (mut max_rel, mut err2, mut ref2, mut bias_sum, mut n_finite) =
        (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0usize);
    let mut failures = 0usize;
    let mut first: Option<String> = None;
    for (e, (&g, &w)) in got.iter().zip(want).enumerate() {
        let (g64, w64) = (g as f64, w as f64);
        if !w.is_finite() {
            let same = (w.is_nan() && g.is_nan()) || g == w;
            if !same {
                failures += 1;
                first.get_or_insert_with(|| format!("[{e}]: got {g}, want {w}"));
            }
            continue;
        }
        let scale = w64.abs() + rms;
        let diff = (g64 - w64).abs();
        let slack = if bf16 {
            half_ulp_bf16(g64.abs().max(w64.abs()))
        } else {
            0.0
        };
        let allowed = slack + rtol * scale;
        if !within(diff, allowed) {
            failures += 1;
            first.get_or_insert_with(|| {
                format!("[{e}]: got {g}, want {w} (|diff| {diff:.3e} > allowed {allowed:.3e})")
            });
        }
        if scale > 0.0 && g.is_finite() {
            max_rel = max_rel.max(diff / scale);
            bias_sum += (g64 - w64) / scale;
        }
        err2 += (g64 - w64) * (g64 - w64);
        ref2 += w64 * w64;
        n_finite += 1;
    }
    let l2_rel = if ref2 > 0.0 {
        (err2 / ref2).sqrt()
    } else {
        err2.sqrt()
    };
    let bias = if n_finite > 0 {
        bias_sum / n_finite as f64
    } else {
        0.0
    };
    let agreement = Agreement {
        max_rel,
        l2_rel,
        bias,
    };
    let kind = if bf16 { "bf16" } else { "f32" };
    if let Some(first) = first {
        return Err(format!(
            "{what} ({kind}, rtol {rtol:e}): {failures} of {} elements differ, first {first}; max rel {max_rel:.2e}, L2 rel {l2_rel:.2e}",
            got.len()
        ));
    }
    let l2_limit = if bf16 { rtol + 2f64.powi(-8) } else { rtol };
    if !within(l2_rel, l2_limit) {
        return Err(format!(
            "{what} ({kind}): relative L2 error {l2_rel:.3e} above {l2_limit:e}"
        ));
    }
    if bf16 && n_finite >= 256 && !within(bias.abs(), BF16_BIAS) {
        return Err(format!(
            "{what} (bf16): mean signed error {bias:+.3e} (of |want| + rms) is systematic (limit {BF16_BIAS:e})"
        ));
    }
    Ok(agreement)
}

/// An f32 output against its f32 reference with relative tolerance `rtol` (module docs).
pub fn f32_close(got: &[f32], want: &[f32], rtol: f64, what: &str) -> Result<Agreement, String> {
    compare_with(got, want, rtol, false, what)
}

/// A bf16 output (as f32 values) against the f32 reference it was rounded from once, allowing
/// half a bf16 ulp plus `rtol` (module docs).
pub fn bf16_close(got: &[f32], want: &[f32], rtol: f64, what: &str) -> Result<Agreement, String> {
    compare_with(got, want, rtol, true, what)
}

/// Exact equality, reporting the first difference.
pub fn equal<T: PartialEq + std::fmt::Debug>(
    got: &[T],
    want: &[T],
    what: &str,
) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} elements, the reference has {}",
            got.len(),
            want.len()
        ));
    }
    match got.iter().zip(want).position(|(g, w)| g != w) {
        None => Ok(()),
        Some(e) => Err(format!(
            "{what}: {} of {} elements differ, first [{e}]: got {:?}, want {:?}",
            got.iter().zip(want).filter(|(g, w)| g != w).count(),
            got.len(),
            got[e],
            want[e]
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(n: usize, scale: f32) -> Vec<f32> {
        (0..n)
            .map(|i| scale * (1.0 + (i as f32 * 0.37).sin()))
            .collect()
    }

    #[test]
    fn small_values_are_held_to_relative_precision() {
        // Importance-like scores of about 1/150: a 1 % error is 7e-5 absolute, which an absolute
        // tolerance of 1e-4 would let through.
        let want = ramp(150, 1.0 / 150.0);
        let got: Vec<f32> = want.iter().map(|w| w * 1.01).collect();
        assert!(f32_close(&got, &want, F32_RTOL, "scores").is_err());
        let got: Vec<f32> = want.iter().map(|w| w * (1.0 + 2e-6)).collect();
        let a = f32_close(&got, &want, F32_RTOL, "scores").unwrap();
        assert!(a.max_rel < 1e-5 && a.l2_rel < 1e-5, "{a:?}");
    }

    #[test]
    fn near_zero_values_are_measured_against_the_tensor_scale() {
        let want = vec![1.0, -1.0, 1e-9, 2.0];
        let got = vec![1.0, -1.0, 3e-5, 2.0];
        f32_close(&got, &want, F32_RTOL, "x").unwrap();
        let got = vec![1.0, -1.0, 3e-3, 2.0];
        assert!(f32_close(&got, &want, F32_RTOL, "x").is_err());
    }

    #[test]
    fn a_one_percent_error_fails_the_bf16_check_and_rounding_does_not() {
        let want = ramp(4096, 3.0);
        let rounded: Vec<f32> = want.iter().map(|&w| round_bf16(w)).collect();
        bf16_close(&rounded, &want, F32_RTOL, "rounded").unwrap();
        let scaled: Vec<f32> = want.iter().map(|&w| round_bf16(w * 1.01)).collect();
        let err = bf16_close(&scaled, &want, F32_RTOL, "scaled").unwrap_err();
        assert!(
            err.contains("differ") || err.contains("systematic"),
            "{err}"
        );
        // Even 0.5 % is caught by the bias.
        let scaled: Vec<f32> = want.iter().map(|&w| round_bf16(w * 1.005)).collect();
        assert!(bf16_close(&scaled, &want, F32_RTOL, "scaled").is_err());
    }

    #[test]
    fn bf16_rounding_is_to_nearest_even() {
        let step = 2f32.powi(-7); // one bf16 ulp at 1.0
        assert_eq!(
            round_bf16(1.0 + step / 2.0),
            1.0,
            "a tie goes to the even neighbour"
        );
        assert_eq!(
            round_bf16(1.0 + 1.5 * step),
            1.0 + 2.0 * step,
            "a tie goes to the even neighbour"
        );
        assert_eq!(round_bf16(1.0 + 0.51 * step), 1.0 + step);
        assert_eq!(round_bf16(-3.0), -3.0);
        assert_eq!(round_bf16(f32::INFINITY), f32::INFINITY);
        assert!(round_bf16(f32::NAN).is_nan());
        assert_eq!(
            round_bf16(f32::MAX),
            f32::INFINITY,
            "rounds past the largest bf16"
        );
    }

    #[test]
    fn masks_must_match_exactly() {
        let inf = f32::NEG_INFINITY;
        f32_close(&[1.0, inf], &[1.0, inf], 1e-6, "m").unwrap();
        assert!(f32_close(&[1.0, -1e30], &[1.0, inf], 1e-6, "m").is_err());
        assert!(f32_close(&[1.0, inf], &[1.0, 0.0], 1e-6, "m").is_err());
        assert!(f32_close(&[f32::NAN], &[1.0], 1e-6, "nan").is_err());
        assert!(equal(&[1, 2], &[1, 3], "ints").unwrap_err().contains("[1]"));
    }
}
