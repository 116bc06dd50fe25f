#!/usr/bin/env bash
# Fuzzes every decoder with libFuzzer for a bounded time each (default 60 s), starting from the
# committed fixtures and malformed corpus. Usage: scripts/fuzz.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}; shift || true
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(png jpeg idx cifar npz toml lossless tokens image-cap npz-cap)
TOKBENCH_FUZZ=1 swift build --scratch-path .build-fuzz --product tokbench-fuzz --sanitize=fuzzer --sanitize=address 2>&1 | grep -E "error|Compiling Fuzz|Build complete" || true
bin=$(TOKBENCH_FUZZ=1 swift build --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address --show-bin-path)/tokbench-fuzz
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# Moves libFuzzer's crash/leak/timeout files into Tests/Corpus/findings/ under a name whose extension
# `tokbench inspect` reads (CorpusTests and cli-checks replay every file there).
keep_findings() {
  local ext
  case $1 in png|image-cap) ext=.png ;; jpeg) ext=.jpg ;; idx) ext=-idx3-ubyte ;; cifar) ext=.bin ;; npz|npz-cap) ext=.npz ;;
             toml) ext=.toml ;; lossless) ext=.tbl ;; tokens) ext=.tokens ;; esac
  for f in crash-* leak-* timeout-*; do
    [ -e "$f" ] || continue
    mv "$f" "Tests/Corpus/findings/$1-finding-$(sha1sum "$f" | cut -c1-12)$ext"
    echo "  kept a $1 finding in Tests/Corpus/findings/"
  done
}
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  case $t in
    png) cp Tests/DatasetsTests/Fixtures/*.png Tests/Corpus/malformed/png-* "$work/$t/" ;;
    jpeg) cp Tests/DatasetsTests/Fixtures/*.jpg Tests/Corpus/malformed/jpeg-* "$work/$t/" ;;
    idx) cp Tests/DatasetsTests/Fixtures/*idx3-ubyte Tests/Corpus/malformed/idx-*ubyte "$work/$t/" ;;
    cifar) cp Tests/DatasetsTests/Fixtures/*cifar*.bin Tests/Corpus/malformed/cifar-* "$work/$t/" ;;
    npz|npz-cap) cp Tests/DatasetsTests/Fixtures/*.npz Tests/Corpus/malformed/npz-* "$work/$t/" ;;
    image-cap) cp Tests/DatasetsTests/Fixtures/*.png Tests/DatasetsTests/Fixtures/*.jpg Tests/Corpus/malformed/png-* "$work/$t/" ;;
    toml) cp experiments/*.toml Tests/Corpus/malformed/toml-* "$work/$t/" ;;
    lossless|tokens) cp Tests/Corpus/malformed/lossless-* "$work/$t/" ;;
  esac
  echo "fuzzing $t for ${seconds}s"
  FUZZ_TARGET=$t "$bin" "$work/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 2>"$work/$t.log" \
    || { echo "FAIL: $t crashed:"; grep -E "ERROR|SUMMARY|==[0-9]+==" "$work/$t.log" | head -20; keep_findings "$t"; exit 1; }
  grep -E "stat::number_of_executed_units" "$work/$t.log" | sed "s/^/  $t: /"
done
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a crash"
