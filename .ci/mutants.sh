#!/usr/bin/env bash
# The mutation score of the emulated kernel tests (issue 23; docs/kernels.md "Mutation score"):
# builds the emulator with every mutant of kernels/emu/mutants.rs compiled in (AIM_EMU_MUTANTS=all:
# each a copy of the sources with one bug, under its own name, so one build serves them all) and
# runs tests/emu.rs `emu_mutation_score`, which runs the kernel suites a mutant's source can change
# against it and prints one line per mutant (caught / equivalent / SURVIVED) and the score. Fails
# below 95 %, on a stale mutant (its text gone from the source) or on an "equivalent" mutant that a
# suite catches. Writes the report to ${1:-target/mutants.txt}.
#
#   .ci/mutants.sh [REPORT]
set -euo pipefail
cd "$(dirname "$0")/.."
report=${1:-target/mutants.txt}
mkdir -p "$(dirname "$report")"
start=$(date +%s)
set +e
AIM_EMU_MUTANTS=all cargo test --test emu emu_mutation_score -- --ignored --nocapture --test-threads 1 2>&1 | tee "$report.log"
rc=${PIPESTATUS[0]}
set -e
grep -E '^(MUTANT|MUTATION SCORE)' "$report.log" > "$report" || true
echo "mutation run: $(( $(date +%s) - start )) s, exit $rc; report in $report"
exit "$rc"
