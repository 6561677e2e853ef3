#!/usr/bin/env bash
# Builds everything a GPU machine needs to check the kernels (it has no Rust toolchain) and
# copies it to out/gpu-bin/ with stable names:
#   kernels-test   the tests/kernels.rs binary (GPU-vs-CPU tests run when a GPU is present)
#   lib-test       the library's unit tests (measure::cuda's GPU tests run when a GPU is present)
#   kernels-bench  the benches/kernels.rs binary (run with --bench)
#   aim-sim        the CLI (validate, calibrate, measure)
# See docs/validation.md for what to run there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
dest="$root/out/gpu-bin"
mkdir -p "$dest"

executable() { # cargo args... -> path of the one executable they build
    cargo "$@" --message-format=json-render-diagnostics |
        python3 -c 'import json,sys
paths=[m["executable"] for m in map(json.loads, sys.stdin) if m.get("reason")=="compiler-artifact" and m.get("executable")]
print(paths[-1])'
}

cp "$(executable test --release --test kernels --no-run)" "$dest/kernels-test"
cp "$(executable test --release --lib --no-run)" "$dest/lib-test"
cp "$(executable bench --bench kernels --no-run)" "$dest/kernels-bench"
cp "$(executable build --release --bin aim-sim)" "$dest/aim-sim"
ls -l "$dest" >&2
