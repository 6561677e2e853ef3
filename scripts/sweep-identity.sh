#!/usr/bin/env bash
# Byte-identity of sweep outputs between two aim-sim binaries (issue 25): every case is run by
# both, and stdout, stderr and the exit status compared by sha256.
# Usage: scripts/sweep-identity.sh PREVIOUS_BINARY [NEW_BINARY (default target/release/aim-sim)]
set -u
prev=${1:?usage: $0 PREVIOUS_BINARY [NEW_BINARY]}
new=${2:-target/release/aim-sim}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cases=(
  # refined, several schedules and models (a MoE preset), frames 0 (text only), two GPUs
  "--frames 0:120:7 --text-tokens 1:60:11 --schedule none,linear,fastv,pdrop,vtw,aim-late,aim-aggressive,fastvid,sparsevlm-192,merge-only --model llava-ov-7b,qwen3-vl-30b-a3b --gpu a100,h100 --format csv"
  "--frames 0:40:3 --text-tokens 1,100 --schedule none,linear,fastv,pdrop --model llava-ov-7b,qwen3-vl-30b-a3b,internvl3-8b --format jsonl"
  "--frames 0:40:5 --schedule none,linear,vtw --model llava-ov-0.5b,qwen3-vl-30b-a3b --format table"
  "--frames 1:30:3 --schedule linear,fastv --format json"
  # the roofline of the paper
  "--frames 0:200:9 --text-tokens 1:30:7 --schedule none,linear,fastv,pdrop --model llava-ov-7b,qwen3-vl-30b-a3b --cost-model llm-viewer --format csv"
  "--frames 1:64:1 --schedule linear,none --cost-model refined,llm-viewer --format table"
  # tokens, tokens per frame and batch axes
  "--tokens 100:5000:450 --schedule linear,fastv --format csv"
  "--frames 1:20:4 --tokens-per-frame 64,196,200 --batch 1,3 --schedule linear,pdrop --format csv"
  # run flags beside the axes
  "--frames 1:64:9 --text-tokens 5,300 --schedule linear,none --framework trtllm --gpu a100,h100 --format csv"
  "--frames 0:32:4 --schedule linear,fastv --gen-tokens 64 --include-vision --format csv"
  "--frames 1:32:5 --schedule linear,pdrop --tp 2 --attention eager --importance-kernel fused --format csv"
  "--frames 1:32:5 --schedule linear --w-bits 4 --a-bits 4 --kv-bits 4 --gpu b200,a100 --format csv"
  "--frames 2:16:2 --model qwen2.5-vl-7b --video-size 640x360 --schedule linear,none --format csv"
  "--frames 1:9:2 --model qwen2.5-vl-7b,internvl3-8b --image-size 896x672 --schedule linear --include-vision --format csv"
  "--frames 1:40:3 --schedule linear --merge-tokens-per-frame 100 --prune-start 3 --prune-end 20 --format csv"
  # invalid configurations inside the grid: the same error, the same exit status
  "--frames 1:10 --tokens-per-frame 200,150,64,300 --schedule linear --merge-tokens-per-frame 100 --format csv"
  "--frames 1:50 --text-tokens 1,999999990 --schedule none,linear --format csv"
  "--frames 1:10000:1000 --text-tokens 998000000 --schedule linear --gen-tokens 1000000 --format csv"
  "--frames 1:20 --schedule linear --gen-tokens 4000000 --format csv"
  # issue 25's million (frames 1..10000 x text 1..100), and a tenth of it to stdout
  "--frames 1:10000:1 --text-tokens 1:100:1 --schedule linear --gpu a100 --format csv -o FILE.csv"
  "--frames 1:1000:1 --text-tokens 1:100:1 --schedule linear --gpu a100 --format jsonl"
)
fail=0
for c in "${cases[@]}"; do
  for b in prev new; do
    bin=$prev; [ $b = new ] && bin=$new
    args=${c//FILE/$dir/$b}
    # shellcheck disable=SC2086
    "$bin" sweep $args >"$dir/$b.out" 2>"$dir/$b.err"; echo "rc=$?" >>"$dir/$b.err"
    [ -f "$dir/$b.csv" ] && cat "$dir/$b.csv" >>"$dir/$b.out" && rm "$dir/$b.csv"
    sed -i "s#$bin#BIN#g" "$dir/$b.err"
  done
  p=$(cat "$dir/prev.out" "$dir/prev.err" | sha256sum | cut -c1-16)
  n=$(cat "$dir/new.out" "$dir/new.err" | sha256sum | cut -c1-16)
  rows=$(wc -l <"$dir/new.out")
  if [ "$p" = "$n" ]; then echo "same $p  $rows lines  sweep $c"; else echo "DIFF $p $n  sweep $c"; fail=1; fi
done
exit $fail
