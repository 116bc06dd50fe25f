#!/usr/bin/env bash
# End-to-end checks of the tokbench binary: bad input gives one line on stderr and exit ≠ 0;
# a good run records its runs. Usage: scripts/cli-checks.sh PATH/TO/tokbench
set -uo pipefail
bin=${1:?usage: cli-checks.sh TOKBENCH}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

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

"$bin" budget --resolution 64 --channels 3 --bpb 3 >"$tmp/budget" 2>&1 && grep -q "1024                   36.00" "$tmp/budget" && grep -q "256                  144.00" "$tmp/budget" && ok || bad "budget table"
if [ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
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
  else bad "good run failed: $(cat "$tmp/out")"; fi
fi
# Crash safety: SIGKILL a training run after its first checkpoint, resume it, and compare the final
# metrics with an uninterrupted run of the same experiment (same seed, same threads).
if [ -e /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ]; then
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
  "$bin" run "$tmp/resume.toml" --db "$tmp/killed/t.sqlite" >"$tmp/killed.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do
    n=$("$bin" query "select count(*) from artifact where kind = 'checkpoint'" --format csv --db "$tmp/killed/t.sqlite" 2>/dev/null | tail -1)
    [ "${n:-0}" -ge 1 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
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
fi
echo "cli-checks: $pass passed, $fail failed"
[ $fail -eq 0 ]
