#!/usr/bin/env bash
# Builds, on a machine without a GPU, everything the GPU machine needs for one prepared run (it
# has the NVIDIA driver and Python's CUDA 13 wheels but no Rust toolchain), into out/gpu-bundle/:
#   gpu-run.sh   the run itself (.ci/gpu-run.sh): docs/validation.md, "The GPU run"
#   cuda-test    tests/cuda.rs: NVRTC and every kernel on the GPU against the CPU references
#   lib-test     the library's unit tests (the #[ignore]d GPU tests of measure::cuda)
#   aim-sim      the CLI (validate, calibrate, measure); GPU profiles are built in
#   kernels-test tests/kernels.rs (its #[ignore]d gpu_flash_attention_times: our causal attention
#                timed beside torch's scaled_dot_product_attention)
#   BUILD        commit, date and toolchain of the build, and the glibc it needs ("glibc-min X.Y":
#                the newest GLIBC_ symbol version the binaries import; gpu-run.sh checks it first)
# Binaries are release builds, stripped; the kernels' CUDA sources are embedded in them. Also
# writes out/gpu-bundle.tar.gz. Fails if the bundle reaches 40 MiB.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dest="$root/out/gpu-bundle"
rm -rf "$dest"
mkdir -p "$dest"

executable() { # cargo args... -> path of the one executable they build
    cargo "$@" --message-format=json-render-diagnostics |
        python3 -c 'import json,sys
paths=[m["executable"] for m in map(json.loads, sys.stdin) if m.get("reason")=="compiler-artifact" and m.get("executable")]
print(paths[-1])'
}

cp "$(executable test --release --test cuda --no-run)" "$dest/cuda-test"
cp "$(executable test --release --lib --no-run)" "$dest/lib-test"
cp "$(executable build --release --bin aim-sim)" "$dest/aim-sim"
cp "$(executable test --release --test kernels --no-run)" "$dest/kernels-test"
strip --strip-all "$dest/cuda-test" "$dest/lib-test" "$dest/aim-sim" "$dest/kernels-test"
# The newest glibc symbol version any binary imports: the oldest glibc that can run the bundle.
glibc_min=$(objdump -T "$dest/cuda-test" "$dest/lib-test" "$dest/aim-sim" "$dest/kernels-test" |
    grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)
cp .ci/gpu-run.sh "$dest/gpu-run.sh"
{
    echo "commit $(git rev-parse HEAD)$(git diff --quiet HEAD -- src kernels tests Cargo.toml build.rs || echo ' (with uncommitted changes)')"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -srm), $(ldd --version | head -n 1)"
    rustc --version
    echo "glibc-min $glibc_min"
} >"$dest/BUILD"
tar -C "$root/out" -czf "$root/out/gpu-bundle.tar.gz" gpu-bundle

size_kib=$(du -sk "$dest" | cut -f1)
ls -l "$dest" >&2
echo "out/gpu-bundle: ${size_kib} KiB; out/gpu-bundle.tar.gz: $(du -k "$root/out/gpu-bundle.tar.gz" | cut -f1) KiB; needs glibc >= $glibc_min" >&2
if ((size_kib >= 40 * 1024)); then
    echo "error: the bundle is ${size_kib} KiB, over the 40 MiB limit" >&2
    exit 1
fi
