#!/usr/bin/env bash
# Puts `tokbench` on PATH: the apt packages (scripts/install-deps.sh), the release build, and a symlink
# BINDIR/tokbench -> .build/release/tokbench. Idempotent: a rerun rebuilds what changed and keeps the link.
#   scripts/install.sh                      # BINDIR = /usr/local/bin (sudo when it is not writable)
#   PREFIX=$HOME/.local scripts/install.sh  # BINDIR = $PREFIX/bin
#   scripts/install.sh ~/bin                # BINDIR = the first argument
set -euo pipefail
die() { echo "install.sh: $*" >&2; exit 1; }
[ $# -le 1 ] || die "usage: scripts/install.sh [BINDIR]  (or PREFIX=DIR scripts/install.sh)"
bindir=${1:-${PREFIX:-/usr/local}/bin}
case "$bindir" in /*) ;; *) bindir="$PWD/$bindir" ;; esac
cd "$(dirname "$0")/.."
root=$(pwd -P)

scripts/install-deps.sh || die "scripts/install-deps.sh failed (apt packages or swift missing)"
swift build -c release --product tokbench || die "release build failed (swift build -c release --product tokbench)"
bin="$root/.build/release/tokbench"
[ -x "$bin" ] || die "the build left no $bin"

link="$bindir/tokbench"
if [ -e "$link" ] && [ ! -L "$link" ]; then die "$link exists and is not a symlink; remove it or give another BINDIR"; fi
if [ -L "$link" ] && [ "$(readlink "$link")" = "$bin" ]; then
  echo "tokbench: $link -> $bin (already linked)"
else
  SUDO=""
  if ! { [ -d "$bindir" ] && [ -w "$bindir" ]; } && ! { [ ! -e "$bindir" ] && mkdir -p "$bindir" 2>/dev/null; }; then
    [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null || die "$bindir is not writable and sudo is missing; give a BINDIR you own, e.g. PREFIX=\$HOME/.local"; SUDO="sudo"; }
  fi
  $SUDO mkdir -p "$bindir" || die "cannot create $bindir"
  $SUDO ln -sfn "$bin" "$link" || die "cannot link $link"
  echo "tokbench: $link -> $bin"
fi
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) echo "install.sh: $bindir is not on PATH; add it: export PATH=\"$bindir:\$PATH\"" >&2 ;;
esac
