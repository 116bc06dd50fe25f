#!/usr/bin/env bash
# The test suite: install what is needed, run the unit tests, then the command-line checks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --product tokbench
swift test 2>&1 | tee /tmp/tokbench-swift-test.log | grep -E "error|failed|Executed .* tests" || true
test "${PIPESTATUS[0]}" -eq 0
scripts/cli-checks.sh .build/debug/tokbench
