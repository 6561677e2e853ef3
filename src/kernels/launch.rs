//! Launch configurations of every kernel in `kernels/*.cu`: grid, block and dynamic shared memory
//! as pure functions of the sizes, checked against CUDA's limits. The CUDA launchers
//! ([`super::gpu`]) and the CPU emulator ([`super::emu`]) both take their configurations from
//! here, so what the emulator runs in `cargo test` is exactly what a GPU would be given.
//!
//! Nothing here depends on CUDA: a [`Launch`] is plain data (the launchers convert it to cudarc's
//! `LaunchConfig`). A size whose grid would exceed a hardware limit — more than 65 535 frames in
//! a merging pass, for example, which puts frames on the grid's y and z axes — is refused with
//! [`KernelError::LaunchLimit`] before anything is launched.

use super::{AttnShape, Dtype, KernelError};

/// Largest `gridDim.x`.
pub(crate) const MAX_GRID_X: u64 = (1 << 31) - 1;
/// Largest `gridDim.y` and `gridDim.z`.
pub(crate) const MAX_GRID_YZ: u64 = 65_535;
/// Most threads in one block (every GPU since compute capability 2.0).
pub(crate) const MAX_BLOCK_THREADS: u64 = 1024;
/// Largest `blockDim.z`.
pub(crate) const MAX_BLOCK_Z: u32 = 64;

/// Rows of an attention tile and threads of a tile block: `TILE` / `TILE_THREADS` in
/// kernels/common.cuh.
pub(crate) const TILE: usize = 32;
pub(crate) const TILE_THREADS: u32 = 128;
/// `MERGE_MAX_A` in kernels/merge.cu: `merge_match` keeps per-A state in shared memory.
pub const MERGE_MAX_A: usize = 1024;
/// Threads of the row-wise kernels (merge scores and apply, softmax, selection, gather).
pub(crate) const ROW_THREADS: u32 = 256;
/// Threads of `merge_match` (one block per frame).
pub(crate) const MATCH_THREADS: u32 = 128;
/// Threads of `select_compact` (one block; any multiple of 32 up to 1024 works).
pub(crate) const COMPACT_THREADS: u32 = 1024;
/// Threads per block of every layer pass (a multiple of 32, as `block_sum` requires).
pub(crate) const LAYER_THREADS: u32 = 256;
/// Grid cap of the grid-stride layer passes: beyond it each thread loops (65 536 blocks of 256
/// threads are 16.7 M threads, several waves on any GPU).
pub const LAYER_MAX_BLOCKS: usize = 1 << 16;

/// One kernel launch: `grid` blocks of `block` threads with `shared_bytes` of dynamic shared
/// memory (every kernel here uses static shared memory only, so it is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launch {
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub shared_bytes: u32,
}

impl Launch {
    /// Checks `grid` and `block` against CUDA's limits: every dimension at least 1, `grid` x up to
    /// 2³¹ − 1 and y, z up to 65 535, at most 1024 threads per block (z at most 64).
    pub fn new(
        kernel: &'static str,
        grid: [u64; 3],
        block: [u32; 3],
    ) -> Result<Launch, KernelError> {
        let limit = |what: &'static str, value: u64, limit: u64| {
            if value > limit {
                Err(KernelError::LaunchLimit {
                    kernel,
                    what,
                    value,
                    limit,
                })
            } else {
                Ok(())
            }
        };
        if grid.contains(&0) || block.contains(&0) {
            return Err(KernelError::shape(
                kernel,
                format!("empty launch: grid {grid:?}, block {block:?}"),
            ));
        }
        limit("grid x", grid[0], MAX_GRID_X)?;
        limit("grid y", grid[1], MAX_GRID_YZ)?;
        limit("grid z", grid[2], MAX_GRID_YZ)?;
        limit("block z", block[2] as u64, MAX_BLOCK_Z as u64)?;
        let threads = block.iter().map(|&b| b as u64).product::<u64>();
        limit("threads per block", threads, MAX_BLOCK_THREADS)?;
        Ok(Launch {
            grid: grid.map(|g| g as u32),
            block,
            shared_bytes: 0,
        })
    }

    /// Threads in one block.
    pub fn threads_per_block(&self) -> u32 {
        self.block.iter().product()
    }

    /// Blocks in the grid.
    pub fn blocks(&self) -> u64 {
        self.grid.iter().map(|&g| g as u64).product()
    }
}

fn linear(kernel: &'static str, blocks: u64, threads: u32) -> Result<Launch, KernelError> {
    Launch::new(kernel, [blocks, 1, 1], [threads, 1, 1])
}

/// `ceil(items / per)` as u64, at least 1.
fn blocks_for(items: usize, per: u32) -> u64 {
    (items as u64).div_ceil(per as u64).max(1)
}

/// Sizes as the kernels' `int` parameters.
pub(crate) fn int(kernel: &'static str, what: &str, value: usize) -> Result<i32, KernelError> {
    i32::try_from(value)
        .map_err(|_| KernelError::shape(kernel, format!("{what} = {value} exceeds i32")))
}

// ---- Merge ----------------------------------------------------------------------------------

/// The three launches of one merging pass (kernels/merge.cu).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MergeLaunches {
    /// `merge_scores_*`: grid `(ceil(nB/32), ceil(nA/32), frames)`, 256 threads.
    pub scores: Launch,
    /// `merge_match`: one block per frame, 128 threads.
    pub matching: Launch,
    /// `merge_apply_*`: grid `(tokens - r, frames)`, one block per output row, 256 threads.
    pub apply: Launch,
}

/// Checks a merging pass of `frames` frames of `tokens` × `dim` merging `r` per frame (`tokens`
/// at least 2, `r` at most `tokens / 2`, `ceil(tokens / 2)` at most [`MERGE_MAX_A`], every size
/// an `int`) and returns its launches.
pub fn merge(
    frames: usize,
    tokens: usize,
    dim: usize,
    r: usize,
) -> Result<MergeLaunches, KernelError> {
    let (n_a, n_b) = (tokens.div_ceil(2), tokens / 2);
    if frames == 0 || tokens < 2 || dim == 0 || r > n_b || n_a > MERGE_MAX_A {
        return Err(KernelError::shape(
            "merge",
            format!(
                "frames {frames}, tokens {tokens}, dim {dim}, r {r}: need tokens >= 2, r <= tokens/2 and tokens <= {}",
                2 * MERGE_MAX_A
            ),
        ));
    }
    int("merge", "tokens", tokens)?;
    int("merge", "dim", dim)?;
    int(
        "merge",
        "frames * tokens * dim",
        frames.saturating_mul(tokens).saturating_mul(dim),
    )?;
    let frames = frames as u64;
    Ok(MergeLaunches {
        scores: Launch::new(
            "merge_scores",
            [
                blocks_for(n_b, TILE as u32),
                blocks_for(n_a, TILE as u32),
                frames,
            ],
            [ROW_THREADS, 1, 1],
        )?,
        matching: Launch::new("merge_match", [frames, 1, 1], [MATCH_THREADS, 1, 1])?,
        apply: Launch::new(
            "merge_apply",
            [(tokens - r) as u64, frames, 1],
            [ROW_THREADS, 1, 1],
        )?,
    })
}

// ---- Attention ------------------------------------------------------------------------------

fn tiles(n: usize) -> u64 {
    blocks_for(n, TILE as u32)
}

/// `attn_flash_*`: grid `(ceil(n/32) query tiles, heads)`, 128 threads.
pub fn attn_flash(shape: &AttnShape) -> Result<Launch, KernelError> {
    Launch::new(
        "attn_flash",
        [tiles(shape.tokens), shape.heads as u64, 1],
        [TILE_THREADS, 1, 1],
    )
}

/// `attn_logits_*`: grid `(ceil(n/32) key tiles, ceil(n/32) query tiles, heads)`, 128 threads.
pub fn attn_logits(shape: &AttnShape) -> Result<Launch, KernelError> {
    Launch::new(
        "attn_logits",
        [tiles(shape.tokens), tiles(shape.tokens), shape.heads as u64],
        [TILE_THREADS, 1, 1],
    )
}

/// `attn_softmax` (and `pagerank_softmax`): one block of 256 threads per row, grid `(n, heads)`.
pub fn row_softmax(heads: usize, tokens: usize) -> Result<Launch, KernelError> {
    Launch::new(
        "softmax",
        [tokens as u64, heads as u64, 1],
        [ROW_THREADS, 1, 1],
    )
}

/// `attn_pv_*`: grid `(ceil(n/32) query tiles, heads)`, 128 threads.
pub fn attn_pv(shape: &AttnShape) -> Result<Launch, KernelError> {
    Launch::new(
        "attn_pv",
        [tiles(shape.tokens), shape.heads as u64, 1],
        [TILE_THREADS, 1, 1],
    )
}

// ---- PageRank and pruning -------------------------------------------------------------------

/// `pagerank_fill` over `count` floats: 256 threads per block.
pub fn pagerank_fill(count: usize) -> Result<Launch, KernelError> {
    linear("pagerank_fill", blocks_for(count, ROW_THREADS), ROW_THREADS)
}

/// `pagerank_step`: block (32 columns, 8 row phases), grid `(ceil(n/32), heads)`.
pub fn pagerank_step(heads: usize, tokens: usize) -> Result<Launch, KernelError> {
    Launch::new(
        "pagerank_step",
        [tiles(tokens), heads as u64, 1],
        [32, 8, 1],
    )
}

/// `pagerank_rms` over `n` scores: 256 threads per block.
pub fn pagerank_rms(tokens: usize) -> Result<Launch, KernelError> {
    linear("pagerank_rms", blocks_for(tokens, ROW_THREADS), ROW_THREADS)
}

/// `pagerank_row_stats_*` and `pagerank_fused_step_*`: grid `(ceil(n/32), heads)`, 128 threads.
pub fn pagerank_fused(shape: &AttnShape) -> Result<Launch, KernelError> {
    Launch::new(
        "pagerank_fused",
        [tiles(shape.tokens), shape.heads as u64, 1],
        [TILE_THREADS, 1, 1],
    )
}

/// `select_flags` over `n` tokens: 256 threads per block (its shared chunk holds 256 scores).
pub fn select_flags(tokens: usize) -> Result<Launch, KernelError> {
    linear("select_flags", blocks_for(tokens, ROW_THREADS), ROW_THREADS)
}

/// `select_compact`: one block of 1024 threads scans every flag.
pub fn select_compact() -> Result<Launch, KernelError> {
    linear("select_compact", 1, COMPACT_THREADS)
}

/// `gather_rows_*`: one block of 256 threads per kept row (one block when none is kept).
pub fn gather_rows(kept: usize) -> Result<Launch, KernelError> {
    linear("gather_rows", kept.max(1) as u64, ROW_THREADS)
}

// ---- Layer passes ---------------------------------------------------------------------------

/// Elements of `dtype` in one 16-byte vector access (`Lanes` in kernels/layers.cu).
pub(crate) fn vector_lanes(dtype: Dtype) -> usize {
    16 / dtype.bytes()
}

fn layer_grid(items: usize) -> Launch {
    let blocks = items
        .div_ceil(LAYER_THREADS as usize)
        .clamp(1, LAYER_MAX_BLOCKS);
    Launch {
        grid: [blocks as u32, 1, 1],
        block: [LAYER_THREADS, 1, 1],
        shared_bytes: 0,
    }
}

/// The flat passes (SwiGLU, add, copy) over `count` elements: one thread per 16-byte vector (the
/// tail of `count % lanes` elements needs fewer threads than one block has), the grid capped at
/// [`LAYER_MAX_BLOCKS`] (grid-stride), so it is always within the limits.
pub fn flat(count: usize, dtype: Dtype) -> Launch {
    layer_grid(count / vector_lanes(dtype))
}

/// Pairs each RoPE thread rotates: a whole vector of each half-head when `head_dim / 2` is a
/// multiple of the vector width, else one (the kernel's `rope` makes the same choice).
pub(crate) fn rope_pairs_per_thread(head_dim: usize, dtype: Dtype) -> usize {
    let lanes = vector_lanes(dtype);
    if head_dim >= 2 && (head_dim / 2).is_multiple_of(lanes) {
        lanes
    } else {
        1
    }
}

/// RoPE over `rows` rows of `width = heads · head_dim`: grid-stride, capped like [`flat`].
pub fn rope(rows: usize, width: usize, head_dim: usize, dtype: Dtype) -> Launch {
    layer_grid(rows * (width / 2) / rope_pairs_per_thread(head_dim, dtype))
}

/// RMSNorm: one block of 256 threads per row.
pub fn rmsnorm(rows: usize) -> Result<Launch, KernelError> {
    linear("rmsnorm", rows.max(1) as u64, LAYER_THREADS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_launches_follow_the_frame_and_tile_layout() {
        let m = merge(5, 196, 200, 98).unwrap();
        assert_eq!(
            m.scores.grid,
            [4, 4, 5],
            "98 B and 98 A tokens in tiles of 32"
        );
        assert_eq!(m.scores.block, [256, 1, 1]);
        assert_eq!(m.matching.grid, [5, 1, 1]);
        assert_eq!(m.matching.block, [128, 1, 1]);
        assert_eq!(
            m.apply.grid,
            [98, 5, 1],
            "one block per output row and frame"
        );
        // Odd token counts: nA = 31, nB = 30.
        let m = merge(1, 61, 33, 0).unwrap();
        assert_eq!(m.scores.grid, [1, 1, 1]);
        assert_eq!(m.apply.grid, [61, 1, 1]);
        assert!(merge(1, 61, 33, 31).is_err(), "r above nB");
        assert!(merge(1, 1, 8, 0).is_err());
        assert!(merge(1, 2 * MERGE_MAX_A + 2, 8, 1).is_err());
    }

    #[test]
    fn more_frames_than_the_grid_holds_is_a_typed_error() {
        // Frames are grid z of merge_scores and grid y of merge_apply: at most 65 535.
        assert!(merge(65_535, 4, 1, 2).is_ok());
        match merge(65_536, 4, 1, 2) {
            Err(KernelError::LaunchLimit {
                what, value, limit, ..
            }) => {
                assert_eq!((what, value, limit), ("grid z", 65_536, 65_535));
            }
            other => panic!("{other:?}"),
        }
        let shape = AttnShape {
            heads: 70_000,
            kv_heads: 1,
            tokens: 8,
            head_dim: 64,
        };
        assert!(matches!(
            attn_flash(&shape),
            Err(KernelError::LaunchLimit { what: "grid y", .. })
        ));
        assert!(matches!(
            attn_logits(&shape),
            Err(KernelError::LaunchLimit { what: "grid z", .. })
        ));
        assert!(matches!(
            row_softmax(70_000, 8),
            Err(KernelError::LaunchLimit { what: "grid y", .. })
        ));
    }

    #[test]
    fn blocks_beyond_1024_threads_are_refused() {
        assert!(Launch::new("k", [1, 1, 1], [1024, 1, 1]).is_ok());
        assert!(matches!(
            Launch::new("k", [1, 1, 1], [32, 33, 1]),
            Err(KernelError::LaunchLimit {
                what: "threads per block",
                value: 1056,
                ..
            })
        ));
        assert!(Launch::new("k", [1, 1, 1], [1, 1, 65]).is_err());
        assert!(Launch::new("k", [MAX_GRID_X, 1, 1], [1, 1, 1]).is_ok());
        assert!(Launch::new("k", [MAX_GRID_X + 1, 1, 1], [1, 1, 1]).is_err());
        assert!(matches!(
            Launch::new("k", [0, 1, 1], [32, 1, 1]),
            Err(KernelError::Shape { .. })
        ));
    }

    #[test]
    fn attention_and_importance_grids_cover_every_tile() {
        let shape = AttnShape {
            heads: 6,
            kv_heads: 2,
            tokens: 130,
            head_dim: 128,
        };
        assert_eq!(attn_flash(&shape).unwrap().grid, [5, 6, 1]);
        assert_eq!(attn_logits(&shape).unwrap().grid, [5, 5, 6]);
        assert_eq!(attn_pv(&shape).unwrap().grid, [5, 6, 1]);
        assert_eq!(pagerank_fused(&shape).unwrap().grid, [5, 6, 1]);
        assert_eq!(row_softmax(6, 130).unwrap().grid, [130, 6, 1]);
        assert_eq!(pagerank_step(6, 130).unwrap().block, [32, 8, 1]);
        assert_eq!(pagerank_step(6, 130).unwrap().grid, [5, 6, 1]);
        assert_eq!(pagerank_fill(6 * 130).unwrap().grid, [4, 1, 1]);
        assert_eq!(pagerank_rms(130).unwrap().grid, [1, 1, 1]);
        let one = AttnShape { tokens: 1, ..shape };
        assert_eq!(attn_flash(&one).unwrap().grid, [1, 6, 1]);
    }

    #[test]
    fn pruning_launches() {
        assert_eq!(select_flags(600).unwrap().grid, [3, 1, 1]);
        assert_eq!(select_compact().unwrap().block, [1024, 1, 1]);
        assert_eq!(gather_rows(0).unwrap().grid, [1, 1, 1]);
        assert_eq!(gather_rows(140).unwrap().grid, [140, 1, 1]);
    }

    #[test]
    fn layer_launches_vectorise_and_cap_the_grid() {
        assert_eq!(flat(4096 * 8, Dtype::Bf16).grid, [16, 1, 1]);
        assert_eq!(flat(7, Dtype::Bf16).grid, [1, 1, 1], "a tail-only size");
        assert_eq!(
            flat(1 << 33, Dtype::Bf16).grid[0] as usize,
            LAYER_MAX_BLOCKS
        );
        assert_eq!(rope(100, 32 * 128, 128, Dtype::Bf16).grid, [100, 1, 1]);
        assert_eq!(rope_pairs_per_thread(12, Dtype::F32), 1);
        assert_eq!(rmsnorm(6372).unwrap().grid, [6372, 1, 1]);
        assert!(rmsnorm(1 << 33).is_err());
    }

    #[test]
    fn flat_passes_take_one_thread_per_vector() {
        // 6372 rows x 18944 (SwiGLU at the paper's size), bf16: 8 per vector.
        let c = flat(6372 * 18944, Dtype::Bf16);
        assert_eq!(c.block, [256, 1, 1]);
        assert_eq!(c.grid, [6372 * 18944 / 8 / 256, 1, 1]);
        assert_eq!(flat(4096 * 4, Dtype::F32).grid, [16, 1, 1]);
        // The launch probe: 1024 bf16 = 128 vectors, one block.
        assert_eq!(flat(1024, Dtype::Bf16).grid, [1, 1, 1]);
    }

    #[test]
    fn rope_vectorises_when_a_half_head_is_whole_vectors() {
        assert_eq!(rope_pairs_per_thread(128, Dtype::Bf16), 8);
        assert_eq!(rope_pairs_per_thread(64, Dtype::Bf16), 8);
        assert_eq!(rope_pairs_per_thread(64, Dtype::F32), 4);
        assert_eq!(
            rope_pairs_per_thread(12, Dtype::Bf16),
            1,
            "6 pairs per half"
        );
        assert_eq!(rope_pairs_per_thread(8, Dtype::F32), 4);
        // q and k of LLaVA-OV-7B: 28 + 4 heads of 128, 100 rows: 100 * 2048 pairs / 8.
        assert_eq!(
            rope(100, 32 * 128, 128, Dtype::Bf16).grid,
            [100 * 2048 / 8 / 256, 1, 1]
        );
    }

    #[test]
    fn vector_lanes_are_16_bytes() {
        assert_eq!(vector_lanes(Dtype::Bf16), 8);
        assert_eq!(vector_lanes(Dtype::F32), 4);
    }
}
