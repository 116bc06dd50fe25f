#!/usr/bin/env bash
# The test suite: install what is needed, run the unit tests, then the command-line checks.
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
log=$(mktemp)
set +e
swift test >"$log" 2>&1
rc=$?
set -e
grep -E "error:|failed \(|Executed [0-9]+ tests?, with" "$log" | tail -20 || true
if [ $rc -ne 0 ]; then echo "swift test failed (exit $rc); full log: $log"; exit $rc; fi
scripts/cli-checks.sh .build/debug/tokbench
