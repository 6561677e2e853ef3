//! A token-reduction method's own selection of the visual tokens it keeps, before the LLM, as
//! its released code runs it ([`crate::selection::Selection`]). Priced as merging is: stage
//! kernels of kind `Merge`, so the pipeline's "token merging" holds them.

use super::kernel::{kernel, Call, Class, Kernel};
use crate::cost::OpKind;
use crate::selection::Selection;

/// The kernels of `method` keeping `keep` of `candidates` tokens of width `width` (`a`-byte
/// activations), once for each of `sequences` prompts.
pub fn kernels(
    method: Selection,
    candidates: f64,
    keep: f64,
    width: f64,
    a: f64,
    sequences: f64,
) -> Vec<Kernel> {
    let list = match method {
        Selection::DivPrune => divprune(candidates, keep, width, a),
    };
    list.into_iter().map(|k| k.times(sequences)).collect()
}

/// DivPrune's `DivPrune` (vbdi/divprune, `llava_arch.py`; CVPR 2025) over `n` tokens keeping
/// `k`: `matrix / matrix.norm(dim=1)` (2 ops), `torch.mm` of that with its transpose (an
/// `n × n × d` GEMM), `1.0 -` it (1 op); step 0: `topk(2, dim=0)`, its `[1, :]` row, `argmax`
/// and the store into `s` (4 ops); every later step `i`: `arange`, two `index_select`s (the `i`
/// chosen rows of the matrix copied), `min(dim=0)`, `argmax` and the store (6 ops); then the
/// kept indices sorted and the kept tokens gathered (2 ops). Step `i` moves `i` rows of `n`, so
/// the later steps together copy and reduce `k(k−1)/2` rows: kilobytes a step, whose time is
/// its launches.
fn divprune(n: f64, k: f64, d: f64, a: f64) -> Vec<Kernel> {
    let x = n * d * a;
    let matrix = n * n * a;
    let rows = k * (k - 1.0) / 2.0;
    let pass = |elements: f64, width: f64, count: f64| Call::Elementwise {
        elements,
        width,
        count,
    };
    vec![
        kernel(
            "divprune_normalize",
            OpKind::Merge,
            Class::Elementwise,
            3.0 * n * d,
            pass(n * d, d, 1.0),
        )
        .reads(2.0 * x)
        .writes(x),
        kernel(
            "divprune_cosine",
            OpKind::Merge,
            Class::Matmul,
            2.0 * n * n * d,
            Call::Gemm {
                m: n,
                n,
                k: d,
                bias: false,
                act_bits: Call::bits(a),
                weight_bits: Call::bits(a),
                count: 1.0,
            },
        )
        .reads(2.0 * x)
        .writes(matrix),
        kernel(
            "divprune_distance",
            OpKind::Merge,
            Class::Elementwise,
            n * n,
            pass(n * n, n, 1.0),
        )
        .reads(matrix)
        .writes(matrix),
        kernel(
            "divprune_first_pick",
            OpKind::Merge,
            Class::Elementwise,
            2.0 * n * n,
            pass(n * n, n, 1.0),
        )
        .reads(matrix)
        .writes(2.0 * n * a),
        kernel(
            "divprune_greedy_steps",
            OpKind::Merge,
            Class::Elementwise,
            rows * n,
            pass(rows * n, n, (k - 1.0).max(0.0)),
        )
        .reads(2.0 * rows * n * a)
        .writes(rows * n * a)
        .launches((k - 1.0).max(0.0)),
        kernel(
            "divprune_gather_kept",
            OpKind::Merge,
            Class::Elementwise,
            k * k.max(2.0).log2(),
            pass(k * d, d, 1.0),
        )
        .reads(k * d * a)
        .writes(k * d * a),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::refined::dispatch::ops;

    /// DivPrune's 115-token run over 1152 candidates (its LLaVA-NeXT-Video rows): an
    /// `n × n × d` GEMM, and 5 + 4 + 6 · 114 + 2 PyTorch ops in all, the greedy loop's 684 of
    /// them in 114 launches.
    #[test]
    fn divprune_is_a_cosine_matrix_and_six_ops_per_later_step() {
        let list = kernels(Selection::DivPrune, 1152.0, 115.0, 4096.0, 2.0, 1.0);
        let by = |name: &str| list.iter().find(|k| k.op.name == name).unwrap();
        assert_eq!(
            by("divprune_cosine").op.flops,
            2.0 * 1152.0 * 1152.0 * 4096.0
        );
        assert_eq!(by("divprune_greedy_steps").launches, 114.0);
        let total: f64 = list.iter().map(ops).sum();
        assert_eq!(total, 2.0 + 1.0 + 1.0 + 4.0 + 6.0 * 114.0 + 2.0);
        // Two prompts: twice the work and the launches.
        let two = kernels(Selection::DivPrune, 1152.0, 115.0, 4096.0, 2.0, 2.0);
        assert_eq!(two.iter().map(ops).sum::<f64>(), 2.0 * total);
    }
}
