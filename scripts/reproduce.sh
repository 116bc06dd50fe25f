#!/usr/bin/env bash
# Regenerates every shipped result under results/: the quickstart, the Fashion-MNIST quantizer
# comparison, the photos rate–distortion sweep, their reports and the benchmarks. About an hour on
# 2 cores. Needs the photo packages (installed here) and, for the PyTorch ratio and peers only,
# `pip install torch vector-quantize-pytorch`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh mate-backgrounds plasma-workspace-wallpapers libjxl-tools webp optipng
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
swift build -c release --product tokbench
bin=.build/release/tokbench
db=results/tokbench.sqlite
mkdir -p results

scripts/quickstart.sh
$bin run experiments/fmnist-quantizers.toml --db $db
$bin report --experiment fmnist-quantizers -o results/fmnist-quantizers --title "Quantizers on Fashion-MNIST (L = 49)" --db $db
$bin data photos --tiles 64
$bin run experiments/photos64-rd.toml --db $db
$bin report --experiment photos64-rd -o results/photos64-rd --title "Photos 64x64: rate-distortion against the budget" --db $db
$bin export --format compressai --experiment photos64-rd -o results/photos64-rd/compressai --db $db
# tokbench beside PyTorch through the external protocol (needs `pip install torch vector-quantize-pytorch`).
if python3 -c "import torch, vector_quantize_pytorch" 2>/dev/null; then
  $bin run experiments/pytorch-peers.toml --db $db
  $bin report --experiment pytorch-peers -o results/pytorch-peers --db $db
else
  echo "skipped experiments/pytorch-peers.toml: pip install torch vector-quantize-pytorch"
fi

scripts/benchmarks.sh
