#!/usr/bin/env bash
# The evaluation at scale: `tokbench bench pairs` makes N 256x256 crops of the Debian photos with their
# JPEG-40 round trips and tokens, then `tokbench eval` scores them (PSNR, SSIM, token statistics and rate,
# the data rate from a cold cache: a fresh database each time) under /usr/bin/time -v, for each N given.
# Prints one line per N: wall time, images/s, peak RSS, and the stage times tokbench eval reports.
#   scripts/bench-eval.sh 2000 20000          # the issue's two sizes (about 1 h on 2 cores)
#   WORK=/big/disk scripts/bench-eval.sh 500  # where the pairs go (default /tmp/tokbench-bench-eval)
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/bench-eval.sh N [N ...]" >&2; exit 2; }
scripts/install-deps.sh mate-backgrounds time >/dev/null
swift build -c release --product tokbench >/dev/null
bin=$PWD/.build/release/tokbench
work=${WORK:-/tmp/tokbench-bench-eval}
mkdir -p "$work"
echo "# tokbench eval at scale ($(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), code $(git log -1 --format=%h --abbrev=12 -- Sources))"
for n in "$@"; do
  dir="$work/pairs-$n"
  [ -f "$dir/tokens.npy" ] || "$bin" bench pairs "$dir" --images "$n" >/dev/null
  rm -rf "$dir"/bench.sqlite* "$dir"/artifacts
  /usr/bin/time -v "$bin" eval --originals "$dir/originals" --reconstructions "$dir/reconstructions" --tokens "$dir/tokens.npy" \
      --vocab-size 32768 --experiment bench-eval --label "n=$n" --db "$dir/bench.sqlite" > "$dir/eval.log" 2> "$dir/time.log"
  wall=$(grep 'Elapsed (wall clock)' "$dir/time.log" | awk '{print $NF}')
  rss=$(grep 'Maximum resident' "$dir/time.log" | awk '{print $NF}')
  secs=$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  echo
  echo "N = $n: wall $wall ($(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.1f", n / s }') images/s), peak RSS $(awk -v k="$rss" 'BEGIN { printf "%.0f", k / 1024 }') MB"
  grep '^stages:' "$dir/eval.log"
  grep -E '^  (psnr|ssim|token_rate_bpb|data_bpb) ' "$dir/eval.log"
done
