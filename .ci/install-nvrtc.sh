#!/usr/bin/env bash
# Installs NVRTC 13.0 (the `nvidia-cuda-nvrtc` wheel, no GPU or CUDA toolkit needed) into
# .nvrtc/ at the repository root, once, and prints the folder holding libnvrtc.so.13 on stdout.
# Everything else goes to stderr, so callers can write:
#
#   export LD_LIBRARY_PATH="$(.ci/install-nvrtc.sh)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
#   AIM_SIM_REQUIRE_NVRTC=1 cargo test
#
# NVRTC 13.0 matches the GPU machines' driver (CUDA 13.0): a newer NVRTC writes PTX the
# driver refuses. Override the version with AIM_SIM_NVRTC_SPEC (a pip requirement).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="$root/.nvrtc"
spec="${AIM_SIM_NVRTC_SPEC:-nvidia-cuda-nvrtc==13.0.*}"

find_lib() {
    [[ -d "$target" ]] || return 0
    find "$target" -name 'libnvrtc.so.13' -printf '%h\n' | head -n 1
}

libdir="$(find_lib)"
if [[ -z "$libdir" || ! -e "$libdir/libnvrtc-builtins.so.13.0" ]]; then
    echo "installing $spec into $target" >&2
    python3 -m pip install --quiet --disable-pip-version-check --no-deps \
        --target "$target" --upgrade "$spec" >&2
    libdir="$(find_lib)"
fi

if [[ -z "$libdir" ]]; then
    echo "error: $spec installed but libnvrtc.so.13 is not under $target" >&2
    exit 1
fi
echo "$libdir"
