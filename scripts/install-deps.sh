#!/usr/bin/env bash
# Installs the Debian packages tokbench builds and runs with (idempotent; needs root or sudo).
set -euo pipefail
packages=(libopenblas-dev libpng-dev libsqlite3-dev zlib1g-dev libturbojpeg0-dev dataset-fashion-mnist sqlite3 python3 "$@")
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { [ -x /opt/swift/usr/bin/swift ] && echo "add /opt/swift/usr/bin to PATH" >&2; echo "swift not found" >&2; exit 1; }
