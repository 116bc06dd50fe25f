#!/usr/bin/env bash
# The main job: install what is needed, build in release mode, run the quickstart experiment on
# Fashion-MNIST and record it in results/tokbench.sqlite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
swift build -c release --product tokbench
bin=.build/release/tokbench
$bin run experiments/quickstart.toml --db results/tokbench.sqlite "$@"
$bin runs --db results/tokbench.sqlite --experiment quickstart
echo "results: results/tokbench.sqlite (try: $bin runs; sqlite3 results/tokbench.sqlite 'select * from summary')"
