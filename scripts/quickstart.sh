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
$bin query "select run_id, label, L, log2V, capacity_bpb, psnr, ssim, usage, train_seconds from summary where run_id in (select max(run_id) from summary where experiment = 'quickstart' group by label) order by run_id" --db results/tokbench.sqlite
$bin report --experiment quickstart -o results/quickstart --title "tokbench quickstart: Fashion-MNIST" --db results/tokbench.sqlite
echo "results: results/tokbench.sqlite (try: $bin runs; sqlite3 results/tokbench.sqlite 'select * from summary')"
echo "report:  results/quickstart/report.html and results/quickstart/report.md"
