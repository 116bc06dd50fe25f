#!/usr/bin/env bash
# External protocol 2 at scale: N 256x256 photo crops (`tokbench bench pairs`, the originals only) as an
# image-folder dataset, tokenized by bench/chunked_tokenizer.py (numpy) in chunks of CHUNK images, with the
# full evaluation (PSNR, SSIM, token statistics and rate, the data rate from a cold cache). The program is
# killed with SIGKILL once about half the chunks are written; `tokbench run --resume` then finishes the run.
# Prints both attempts' wall time and peak RSS (/usr/bin/time -v), the chunk log (no chunk may appear
# twice) and the recorded numbers.
#   scripts/bench-external.sh 2000 [CHUNK]       # WORK=/big/disk for the pairs (default /tmp/tokbench-bench-eval)
#   TOKBENCH=/path/to/tokbench scripts/bench-external.sh 1000 100   # a given binary, no build
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/bench-external.sh N [CHUNK]" >&2; exit 2; }
n=$1; chunk=${2:-250}
scripts/install-deps.sh mate-backgrounds time >/dev/null
python3 -c "import numpy" 2>/dev/null || { echo "bench-external.sh: needs numpy (pip install numpy)" >&2; exit 2; }
if [ -n "${TOKBENCH:-}" ]; then bin=$TOKBENCH; else swift build -c release --product tokbench >/dev/null; bin=$PWD/.build/release/tokbench; fi
work=${WORK:-/tmp/tokbench-bench-eval}
dir="$work/external-$n"
rm -rf "$dir"; mkdir -p "$dir"
pairs="$work/pairs-$((n + 1))"
[ -f "$pairs/tokens.npy" ] || "$bin" bench pairs "$pairs" --images $((n + 1)) >/dev/null
cat > "$dir/external.toml" <<TOML
name = "bench-external"
seed = 0
[dataset]
kind = "image-folder"
path = "$pairs/originals"
resolution = 256
eval_images = $n
[[tokenizer]]
kind = "external"
command = ["python3", "$PWD/bench/chunked_tokenizer.py"]
protocol = 2
chunk_images = $chunk
timeout_s = 86400
args = { chunk-log = "$dir/chunks.log" }
TOML
chunks=$(( (n + chunk - 1) / chunk ))
half=$(( chunks / 2 ))
echo "# external protocol 2 at scale ($(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), code $(git log -1 --format=%h --abbrev=12 -- Sources))"
echo "N = $n images in $chunks chunks of $chunk; SIGKILL of the program after chunk $half is written"
set +e
/usr/bin/time -v "$bin" run "$dir/external.toml" --db "$dir/bench.sqlite" > "$dir/run1.log" 2> "$dir/time1.log" &
tb=$!
until [ "$(grep -c '^chunk' "$dir/chunks.log" 2>/dev/null || echo 0)" -ge "$half" ]; do
  kill -0 $tb 2>/dev/null || { echo "tokbench ended before the kill"; break; }
  sleep 1
done
pkill -KILL -f "bench/chunked_tokenizer.py" && echo "killed the program with SIGKILL after $(grep -c '^chunk' "$dir/chunks.log") chunks"
wait $tb; echo "first attempt: exit $?, $(grep -o 'failed: .*' "$dir/run1.log" | head -1 | cut -c1-200)"
/usr/bin/time -v "$bin" run "$dir/external.toml" --db "$dir/bench.sqlite" --resume > "$dir/run2.log" 2> "$dir/time2.log"
echo "resumed attempt: exit $?"
set -e
for k in 1 2; do
  echo "attempt $k: wall $(grep 'Elapsed (wall clock)' "$dir/time$k.log" | awk '{print $NF}'), peak RSS $(grep 'Maximum resident' "$dir/time$k.log" | awk '{printf "%.0f", $NF / 1024}') MB"
done
grep -E "continuing at chunk|stages" "$dir/run2.log" | sed 's/^ *//'
echo "chunk log: $(grep -c '^chunk' "$dir/chunks.log") lines, $(sort "$dir/chunks.log" | uniq -d | wc -l) written twice"
"$bin" query "select key, value from result where key in ('psnr', 'ssim', 'token_rate_bpb', 'data_bpb', 'eval_images') order by key" --db "$dir/bench.sqlite"
