#!/usr/bin/env bash
# The prepared GPU run (docs/validation.md, "The GPU run"): on a machine with one NVIDIA GPU, the
# driver (CUDA 13) and Python's CUDA 13 wheels, from the bundle .ci/gpu-bundle.sh builds:
#
#   out/gpu-bundle/gpu-run.sh OUTDIR        (or with $OUT set: out/gpu-bundle/gpu-run.sh)
#
# Steps, each with its own time limit, all within AIM_SIM_GPU_RUN_BUDGET_S (default 360 s; a step
# gets at most what is left, a step with under 10 s left is skipped):
#   0. glibc      `ldd --version` against the bundle's minimum (BUILD: glibc-min, from the GLIBC_
#                 symbol versions the binaries import; 2.35 for a build on Debian 12's 2.36); an
#                 older glibc stops the run before any binary is started
#   1. libraries  which libcuda / libnvrtc / libcublas load by bare name (as cudarc opens them) once
#                 the wheels' nvidia/cu13/lib is first on LD_LIBRARY_PATH; a stub, a missing or a
#                 non-13 library stops the run
#   2. tests      cuda-test (every kernel on the GPU against the CPU references, f32 and bf16) and
#                 lib-test's GPU tests (cuBLAS, the timing source), a missing GPU a failure
#   3. sanitizer  compute-sanitizer memcheck and racecheck on a short run of every kernel. A step
#                 that cannot run (no tool, the tool fails to start or attach under this driver and
#                 runtime, no ERROR SUMMARY, the test did not run) is NOT RUN in summary.txt,
#                 never PASS; PASS needs the tool's "ERROR SUMMARY: 0 errors" and the test passed
#   3b. attention our causal attention (attn_flash bf16, kernels-test) beside torch 2.x's
#                 scaled_dot_product_attention(is_causal=True, enable_gqa=True) at the same shapes;
#                 attention.txt has both medians and the ratio; the goal is within 1.3x (FAIL above)
#   4. validate   aim-sim validate at the paper's sizes, for the profile of the GPU found
#   5. calibrate  aim-sim calibrate: the profile with a fitted [efficiency] table
#   6. measure    aim-sim measure against the uncalibrated and calibrated predictions
# Kernels are compiled by NVRTC once for the whole run (AIM_SIM_KERNEL_CACHE).
#
# Results, 9 files in OUTDIR: summary.txt (device, libraries, each step's status and time),
# kernel-tests.txt, sanitizer.txt, attention.txt, validate.json, calibrate.txt, <profile>-calibrated.toml,
# measure.json, steps.log (everything else the steps print). Exit status 0 when every step that
# ran passed (NOT RUN steps are listed in the summary's last line). AIM_SIM_RUN_ARGS adds flags to calibrate and measure (e.g. "--frames 8").
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -x "$here/cuda-test" ]]; then
    bin="$here"
else
    bin="$(cd "$here/.." && pwd)/out/gpu-bundle" # run from a checkout after .ci/gpu-bundle.sh
fi
out="${1:-${OUT:-}}"
if [[ -z "$out" ]]; then
    echo "usage: $0 OUTDIR (or set OUT)" >&2
    exit 2
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
summary="$out/summary.txt"
steps_log="$out/steps.log"
: >"$summary"
: >"$steps_log"

start=$(date +%s)
budget="${AIM_SIM_GPU_RUN_BUDGET_S:-360}"
failures=0
not_run=0

say() { echo "$*" | tee -a "$summary"; }
elapsed() { echo $(($(date +%s) - start)); }

# step NAME LIMIT_S FILE COMMAND...: runs COMMAND with a timeout of min(LIMIT_S, time left),
# appending its output to FILE, and records the outcome in the summary.
step() {
    local name=$1 limit=$2 file=$3
    shift 3
    local left=$((budget - $(elapsed)))
    if ((left < 10)); then
        say "$(printf '%-9s %-22s %5s   (no time left in the %ss budget)' SKIPPED "$name" - "$budget")"
        failures=$((failures + 1))
        return 1
    fi
    ((limit > left)) && limit=$left
    local t0
    t0=$(date +%s)
    printf '\n$ %s\n' "$*" >>"$file"
    timeout --kill-after=5 "$limit" "$@" >>"$file" 2>&1
    local rc=$?
    local status
    case $rc in
        0) status=PASS ;;
        124 | 137) status=TIMEOUT ;;
        *) status="FAIL($rc)" ;;
    esac
    ((rc != 0)) && failures=$((failures + 1))
    say "$(printf '%-9s %-22s %4ss of %3ss  -> %s' "$status" "$name" $(($(date +%s) - t0)) "$limit" "${file#"$out"/}")"
    return $rc
}

say "aim-sim GPU run, $(date -u +%Y-%m-%dT%H:%M:%SZ), bundle: $(head -n 1 "$bin/BUILD" 2>/dev/null || echo '?')"

# ---- glibc: the bundle's binaries need at least the glibc they were linked against ----------
glibc_min="$(sed -n 's/^glibc-min //p' "$bin/BUILD" 2>/dev/null)"
glibc_min="${glibc_min:-2.35}"
glibc_here="$(ldd --version 2>/dev/null | head -n 1 | grep -o '[0-9][0-9]*\.[0-9][0-9]*' | tail -n 1)"
if [[ -z "$glibc_here" ]]; then
    say "FAIL      glibc: \`ldd --version\` printed no version (the bundle needs glibc >= $glibc_min); nothing else runs"
    exit 1
fi
if [[ "$(printf '%s\n%s\n' "$glibc_min" "$glibc_here" | sort -V | head -n 1)" != "$glibc_min" ]]; then
    say "FAIL      glibc $glibc_here is older than the bundle's minimum $glibc_min: rebuild the bundle on an older system; nothing else runs"
    exit 1
fi
say "glibc: $glibc_here (bundle needs >= $glibc_min)"

# ---- Device ---------------------------------------------------------------------------------
gpu_line="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>>"$steps_log" | head -n 1)"
say "device: ${gpu_line:-none found by nvidia-smi}"
nvidia-smi >>"$steps_log" 2>&1
gpu_name="${gpu_line%%,*}"
# The hardware/ profile for the GPU found (names as nvidia-smi prints them).
case "$gpu_name" in
    *H200*) profile=h200 ;;
    *H100*PCIe*) profile=h100-pcie ;;
    *H100*) profile=h100 ;;
    *A100*80GB*) profile=a100-80g ;;
    *A100*) profile=a100 ;;
    *L40S*) profile=l40s ;;
    *L40*) profile=l40 ;;
    *A6000*) profile=a6000 ;;
    *4090*) profile=rtx4090 ;;
    *V100*) profile=v100 ;;
    *) profile= ;;
esac
say "profile: ${profile:-none (no hardware/ profile matches '$gpu_name': validate, calibrate and measure are skipped)}"

# ---- Libraries ------------------------------------------------------------------------------
# The CUDA 13 wheels keep every library in site-packages/nvidia/cu13/lib.
find_cu13() {
    local py dir
    for py in python3 /opt/torch/.venv/bin/python3 /usr/bin/python3; do
        command -v "$py" >/dev/null 2>&1 || continue
        dir="$("$py" - <<'EOF' 2>/dev/null
import importlib.util, os
spec = importlib.util.find_spec("nvidia")
for p in (spec.submodule_search_locations if spec else []) or []:
    d = os.path.join(p, "cu13", "lib")
    if os.path.isdir(d):
        print(d)
        break
EOF
)"
        [[ -n "$dir" ]] && { echo "$dir"; return; }
    done
    for dir in /opt/*/.venv/lib/python3*/site-packages/nvidia/cu13/lib /usr/local/lib/python3*/dist-packages/nvidia/cu13/lib; do
        [[ -d "$dir" ]] && { echo "$dir"; return; }
    done
}
cu13="${AIM_SIM_CUDA_LIB:-$(find_cu13)}"
# cudarc tries the unversioned name first (libnvrtc.so, libcublas.so), which the wheels do not
# ship and which may name an older toolkit's library elsewhere on the system: a folder of links
# makes that first name the wheels' CUDA 13 library.
links="$(mktemp -d)"
trap 'rm -rf "$links" "${AIM_SIM_KERNEL_CACHE:-}"' EXIT
for lib in nvrtc cublas; do
    [[ -e "$cu13/lib$lib.so.13" ]] && ln -s "$cu13/lib$lib.so.13" "$links/lib$lib.so"
done
# Keep what was on the path except stub folders; the links and the wheels' folder go first.
kept_path="$(tr ':' '\n' <<<"${LD_LIBRARY_PATH:-}" | grep -v -e '/stubs' -e '^$' | paste -sd: -)"
export LD_LIBRARY_PATH="${links}${cu13:+:$cu13}${kept_path:+:$kept_path}"
say "LD_LIBRARY_PATH=$LD_LIBRARY_PATH (links: $(ls "$links" | paste -sd' ' -))"

# Opens each library the way cudarc 0.19 does (bare names, first that loads wins) in its own
# process, and reports the file that loaded and its version.
check_libraries() {
    local lib py=python3
    command -v python3 >/dev/null 2>&1 || py=/opt/torch/.venv/bin/python3
    local ok=0
    for lib in cuda nvrtc cublas; do
        "$py" - "$lib" <<'EOF' || ok=1
import ctypes, sys
lib = sys.argv[1]
names = [f"lib{lib}.so"] + [f"lib{lib}.so.{v}" for v in ("13", "12", "11", "10", "9", "1")]
for name in names:
    try:
        h = ctypes.CDLL(name)
        break
    except OSError:
        h = None
if h is None:
    print(f"  {lib}: none of {names} loads"); sys.exit(1)
path = next((l.split()[-1] for l in open("/proc/self/maps") if f"/lib{lib}.so" in l), "?")
v, problem = ctypes.c_int(0), None
if lib == "cuda":
    rc = h.cuInit(0)
    h.cuDriverGetVersion(ctypes.byref(v))
    version = f"CUDA {v.value // 1000}.{v.value % 1000 // 10}"
    if rc == 34: problem = "a stub library (cuInit: CUDA_ERROR_STUB_LIBRARY)"
    elif rc != 0: problem = f"cuInit failed with {rc}"
    elif v.value < 13000: problem = "older than CUDA 13"
elif lib == "nvrtc":
    m = ctypes.c_int(0); h.nvrtcVersion(ctypes.byref(v), ctypes.byref(m))
    version = f"NVRTC {v.value}.{m.value}"
    if v.value != 13: problem = "not NVRTC 13"
else:
    parts = []
    for prop in (0, 1, 2):
        x = ctypes.c_int(0); h.cublasGetProperty(prop, ctypes.byref(x)); parts.append(x.value)
    version = "cuBLAS " + ".".join(map(str, parts))
    if parts[0] != 13: problem = "not cuBLAS 13"
if "/stubs/" in path: problem = "a stub library"
print(f"  {lib}: {name} -> {path} ({version}){': ' + problem if problem else ''}")
sys.exit(1 if problem else 0)
EOF
    done
    return $ok
}
say "libraries (as cudarc opens them):"
if ! check_libraries 2>&1 | tee -a "$summary"; then
    say "FAIL      libraries: fix LD_LIBRARY_PATH (AIM_SIM_CUDA_LIB=<dir of the CUDA 13 libraries>); nothing else runs"
    exit 1
fi

export AIM_SIM_REQUIRE_GPU=1 AIM_SIM_REQUIRE_NVRTC=1
AIM_SIM_KERNEL_CACHE="$(mktemp -d)"
export AIM_SIM_KERNEL_CACHE

# ---- Steps ----------------------------------------------------------------------------------
say ""
say "status    step                   time/limit   result"
tests="$out/kernel-tests.txt"
: >"$tests"
# NVRTC's compilation of every source for sm_80 and sm_90 is CI's (no GPU needed): skipped here.
step kernel-tests 100 "$tests" "$bin/cuda-test" --test-threads=1 --skip nvrtc_compiles_every_kernel
step lib-gpu-tests 40 "$tests" "$bin/lib-test" --ignored measure::cuda --test-threads=1
grep -h '^test result' "$tests" | sed 's/^/          /' | tee -a "$summary"

sanitizer="$out/sanitizer.txt"
: >"$sanitizer"
cs="$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer /usr/local/cuda-13*/bin/compute-sanitizer 2>/dev/null | head -n 1)"
# sanitize TOOL: one compute-sanitizer tool over the short run of every kernel, classified from its
# own output: PASS only with "ERROR SUMMARY: 0 errors" and the test passed; FAIL with errors
# found; NOT RUN when the tool could not do its job (it did not start, attach or finish), which
# is never a pass.
sanitize() {
    local tool=$1 limit=40 left=$((budget - $(elapsed)))
    if ((left < 10)); then
        say "$(printf '%-9s %-22s' "NOT RUN" "$tool") (no time left in the ${budget}s budget)"
        not_run=$((not_run + 1))
        return
    fi
    ((limit > left)) && limit=$left
    local part t0 rc
    part="$(mktemp)"
    t0=$(date +%s)
    printf '\n$ %s --tool %s ...\n' "$cs" "$tool" >>"$sanitizer"
    timeout --kill-after=5 "$limit" "$cs" --tool "$tool" --error-exitcode 9 \
        "$bin/cuda-test" --exact gpu_short_run_of_every_kernel --test-threads=1 >"$part" 2>&1
    rc=$?
    cat "$part" >>"$sanitizer"
    local summary_line errors status
    summary_line="$(grep -o 'ERROR SUMMARY: [0-9]* error' "$part" | tail -n 1)"
    errors="$(grep -o '[0-9][0-9]*' <<<"$summary_line")"
    if [[ -n "$errors" && "$errors" != 0 ]] || ((rc == 9)); then
        status="FAIL($rc)"
        failures=$((failures + 1))
    elif [[ "$errors" == 0 ]] && ((rc == 0)) && grep -q 'test result: ok. 1 passed' "$part"; then
        status=PASS
    else
        status="NOT RUN"
        not_run=$((not_run + 1))
    fi
    local why=""
    [[ "$status" == "NOT RUN" ]] && why=" (exit $rc, ${summary_line:-no ERROR SUMMARY}: $(grep -m 1 -i -e error -e unsupported -e 'not supported' "$part" | cut -c1-120))"
    say "$(printf '%-9s %-22s %4ss of %3ss  -> %s%s' "$status" "$tool" $(($(date +%s) - t0)) "$limit" sanitizer.txt "$why")"
    rm -f "$part"
}
if [[ -n "$cs" ]]; then
    for tool in memcheck racecheck; do
        sanitize "$tool"
    done
else
    for tool in memcheck racecheck; do
        say "$(printf '%-9s %-22s' "NOT RUN" "$tool") (compute-sanitizer not found)"
        not_run=$((not_run + 1))
    done
fi

# ---- Our causal attention beside torch's scaled_dot_product_attention, same shapes, bf16 -----
attention="$out/attention.txt"
: >"$attention"
export AIM_SIM_ATTN_SHAPES="${AIM_SIM_ATTN_SHAPES:-28x4x4096x128,14x2x4096x64}"
attention_vs_sdpa() {
    local ours py="" candidate
    # The first Python that has torch (the system one may not).
    for candidate in python3 /opt/torch/.venv/bin/python3 /usr/bin/python3; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import torch' 2>/dev/null; then
            py=$candidate
            break
        fi
    done
    if [[ -z "$py" ]]; then
        echo "no python3 with torch found (tried python3, /opt/torch/.venv/bin/python3, /usr/bin/python3)"
        return 1
    fi
    ours="$("$bin/kernels-test" --ignored --exact gpu_flash_attention_times --nocapture --test-threads=1 2>&1)" || {
        echo "$ours"
        return 1
    }
    echo "$ours"
    # With --nocapture the first line may follow libtest's "test NAME ... " on the same line.
    grep -o 'ATTN [0-9].*' <<<"$ours" | "$py" -c '
import sys, torch
import torch.nn.functional as F
goal, worst = 1.3, 0.0
print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
print("%-24s %9s %9s %9s" % ("shape (H, Hkv, n, d)", "ours_ms", "sdpa_ms", "ours/sdpa"))
for line in sys.stdin:
    _, h, hkv, n, d, ours_s = line.split()
    h, hkv, n, d, ours_s = int(h), int(hkv), int(n), int(d), float(ours_s)
    g = torch.Generator(device="cuda").manual_seed(7)
    q = torch.randn(1, h, n, d, device="cuda", dtype=torch.bfloat16, generator=g)
    k = torch.randn(1, hkv, n, d, device="cuda", dtype=torch.bfloat16, generator=g)
    v = torch.randn(1, hkv, n, d, device="cuda", dtype=torch.bfloat16, generator=g)
    flush = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")
    run = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    for _ in range(3):
        run()
    times = []
    for _ in range(20):
        flush.zero_()  # as Device::time_runs: no input served from L2
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); run(); b.record()
        torch.cuda.synchronize()
        times.append(a.elapsed_time(b) * 1e-3)
    sdpa_s = sorted(times)[len(times) // 2]
    ratio = ours_s / sdpa_s
    worst = max(worst, ratio)
    print(f"{str((h, hkv, n, d)):24} {ours_s*1e3:9.3f} {sdpa_s*1e3:9.3f} {ratio:9.2f}")
print(f"worst ratio {worst:.2f} (goal: within {goal}x)")
sys.exit(0 if 0 < worst <= goal else 1)
'
}
export bin
export -f attention_vs_sdpa
step attention-vs-sdpa 60 "$attention" bash -c attention_vs_sdpa
grep -E '^(torch|worst)' "$attention" | sed 's/^/          /' | tee -a "$summary"

if [[ -n "$profile" ]]; then
    step validate 60 "$steps_log" "$bin/aim-sim" validate --require-gpu --gpu "$profile" \
        --format json -o "$out/validate.json"
    calibrated="$out/$profile-calibrated.toml"
    # shellcheck disable=SC2086 # AIM_SIM_RUN_ARGS is a list of flags
    step calibrate 90 "$out/calibrate.txt" "$bin/aim-sim" calibrate --require-gpu --gpu "$profile" \
        --profile "$calibrated" ${AIM_SIM_RUN_ARGS:-}
    with_calibration=()
    [[ -s "$calibrated" ]] && with_calibration=(--calibrated-gpu "$calibrated")
    # shellcheck disable=SC2086
    step measure 60 "$steps_log" "$bin/aim-sim" measure --require-gpu --gpu "$profile" \
        "${with_calibration[@]}" --format json -o "$out/measure.json" ${AIM_SIM_RUN_ARGS:-}
else
    failures=$((failures + 1))
fi

say ""
say "done in $(elapsed)s: $failures step(s) did not pass, $not_run not run"
((failures == 0))
