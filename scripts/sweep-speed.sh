#!/usr/bin/env bash
# Issue 25's million-configuration sweep (frames 1..10000 x text 1..100, linear, a100, refined,
# CSV to a file), timed as a whole process, alternating a previous binary and this one so that
# both see the same load; then their outputs compared byte for byte.
# Usage: scripts/sweep-speed.sh PREVIOUS_BINARY [NEW_BINARY (default target/release/aim-sim)] [RUNS (default 5)]
set -eu
prev=${1:?usage: $0 PREVIOUS_BINARY [NEW_BINARY] [RUNS]}
new=${2:-target/release/aim-sim}
runs=${3:-5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$runs"); do
  for b in prev new; do
    bin=$prev; [ $b = new ] && bin=$new
    /usr/bin/time -f "$b run $r: %e s wall, %U s user + %S s sys CPU, %M KB max resident" \
      "$bin" sweep --frames 1:10000:1 --text-tokens 1:100:1 --schedule linear --gpu a100 \
      --format csv -o "$dir/$b.csv"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
cmp "$dir/prev.csv" "$dir/new.csv" && echo "outputs identical ($(wc -l <"$dir/new.csv") lines, sha256 $(sha256sum <"$dir/new.csv" | cut -c1-16))"
