#!/usr/bin/env bash
# The test suite: install what is needed, run the unit tests (swift test), then the command-line
# checks. Whatever fails, its file:line and message are repeated at the end of the output, and the
# last line is "N passed, N failed" (unit tests + command-line checks).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --product tokbench
# The unit tests run under the BLAS kernels tokbench itself selects (it re-executes itself with
# OPENBLAS_CORETYPE when OpenBLAS falls back to generic kernels); a variable already set is kept.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  core=$(.build/debug/tokbench env | sed -n 's/^env.openblas_coretype=//p')
  if [ -n "$core" ]; then export OPENBLAS_CORETYPE="$core"; echo "unit tests run with OPENBLAS_CORETYPE=$core (chosen by tokbench)"; fi
fi
logs=.build/test-logs; mkdir -p "$logs"
set +e
swift test 2>&1 | tee "$logs/swift-test.log" | grep -E "error:|^Test Case .* failed|Executed [0-9]+ tests?, with" 
unit_rc=${PIPESTATUS[0]}
scripts/cli-checks.sh .build/debug/tokbench 2>&1 | tee "$logs/cli-checks.log"
cli_rc=${PIPESTATUS[0]}
# A real one-node Slurm cluster: the sharded sweep, the merge job, merged = unsharded (needs root).
scripts/slurm-test.sh .build/debug/tokbench 2>&1 | tee "$logs/slurm-test.log"
slurm_rc=${PIPESTATUS[0]}
set -e

# Counts: XCTest's closing "Executed N tests" line and its failed test cases; the cli-checks' own line.
executed=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with" "$logs/swift-test.log" | tail -1 | sed -E 's/^[[:space:]]*Executed ([0-9]+) .*/\1/')
executed=${executed:-0}
unit_failed=$(grep -cE "^Test Case .* failed" "$logs/swift-test.log" || true)
if [ "$unit_rc" -ne 0 ] && [ "$unit_failed" -eq 0 ]; then unit_failed=1; fi   # a build error or crash: no case ran to report
cli_line=$(grep -E "^cli-checks: [0-9]+ passed, [0-9]+ failed" "$logs/cli-checks.log" | tail -1)
cli_passed=$(echo "$cli_line" | sed -E 's/^cli-checks: ([0-9]+) passed.*/\1/'); cli_passed=${cli_passed:-0}
cli_failed=$(echo "$cli_line" | sed -E 's/.* ([0-9]+) failed.*/\1/'); cli_failed=${cli_failed:-0}
if [ "$cli_rc" -ne 0 ] && [ "$cli_failed" -eq 0 ]; then cli_failed=1; fi
slurm_line=$(grep -E "^slurm-test: [0-9]+ passed, [0-9]+ failed" "$logs/slurm-test.log" | tail -1)
slurm_passed=$(echo "$slurm_line" | sed -E 's/^slurm-test: ([0-9]+) passed.*/\1/'); slurm_passed=${slurm_passed:-0}
slurm_failed=$(echo "$slurm_line" | sed -E 's/.* ([0-9]+) failed.*/\1/'); slurm_failed=${slurm_failed:-0}
if [ "$slurm_rc" -ne 0 ] && [ "$slurm_failed" -eq 0 ]; then slurm_failed=1; fi

if [ "$unit_rc" -ne 0 ] || [ "$cli_rc" -ne 0 ] || [ "$slurm_rc" -ne 0 ]; then
  echo
  echo "FAILURES (full logs in $logs/):"
  if [ "$unit_rc" -ne 0 ]; then
    grep -E "error:|fatal error|^Test Case .* failed" "$logs/swift-test.log" | head -40
    echo "swift test exited $unit_rc"
  fi
  [ "$cli_rc" -ne 0 ] && grep -E "^FAIL" "$logs/cli-checks.log" | head -40
  [ "$slurm_rc" -ne 0 ] && grep -E "^FAIL" "$logs/slurm-test.log" | head -20
fi
echo "unit tests: $((executed - unit_failed)) passed, $unit_failed failed; cli-checks: $cli_passed passed, $cli_failed failed; slurm-test: $slurm_passed passed, $slurm_failed failed"
echo "$((executed - unit_failed + cli_passed + slurm_passed)) passed, $((unit_failed + cli_failed + slurm_failed)) failed"
[ "$unit_rc" -eq 0 ] && [ "$cli_rc" -eq 0 ] && [ "$slurm_rc" -eq 0 ]
