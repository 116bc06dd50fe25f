#!/usr/bin/env python3
"""Checks the house rules of ARCHITECTURE.md that a grep can hold, and prints one line per finding:
  1. each target's dependencies in Package.swift are exactly the modules its sources import;
  2. no SQL text outside Sources/Store;
  3. no metric key spelled as a string literal outside the metric catalogue;
  4. no tracked file over 1 MB other than generated source;
  5. every ARCHITECTURE.md section cited in Sources, Tests, scripts, adapters and bench exists.
Exit status 0 when all hold. Usage: scripts/check-layout.py [REPO]"""
import os, re, subprocess, sys

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
os.chdir(root)
problems = []
pkg = open("Package.swift").read()
pkg = pkg[:pkg.index("// Fuzz targets")] if "// Fuzz targets" in pkg else pkg
system = {"Foundation", "Dispatch", "Glibc", "XCTest", "FoundationXML", "PackageDescription", "Darwin"}

def call_body(text, start):
    """The text inside the parentheses that open at `start`."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i]
    raise ValueError("unbalanced Package.swift")

targets = {}
for m in re.finditer(r'\.(target|testTarget|executableTarget|systemLibrary)\(name: "(\w+)"', pkg):
    kind, name = m.groups()
    rest = call_body(pkg, m.end() - len(m.group(0)) + len(kind) + 1)
    deps_m = re.search(r'dependencies: \[(.*?)\]', rest, re.S)
    deps = set()
    if deps_m:
        deps = set(re.findall(r'\.product\(name: "(\w+)"', deps_m.group(1)))
        deps |= set(re.findall(r'(?<!name: )"(\w+)"', re.sub(r'\.product\([^)]*\)', '', deps_m.group(1))))
    path_m = re.search(r'path: "([^"]+)"', rest)
    path = path_m.group(1) if path_m else ("Tests/" if kind == "testTarget" else "Sources/") + name
    excl = re.findall(r'exclude: \[([^\]]*)\]', rest)
    excludes = [os.path.join(path, e) for e in re.findall(r'"([^"]+)"', excl[0])] if excl else []
    targets[name] = (kind, path, deps, excludes)

for name, (kind, path, deps, excludes) in sorted(targets.items()):
    if kind == "systemLibrary" or not os.path.isdir(path):
        continue
    imports = set()
    for d, _, files in os.walk(path):
        if any(d == e or d.startswith(e + "/") for e in excludes):
            continue
        for f in files:
            if f.endswith(".swift"):
                in_literal = False   # inside a Swift multi-line string literal (e.g. a Python program a test runs)
                for line in open(os.path.join(d, f), encoding="utf-8"):
                    im = None if in_literal else re.match(r'\s*(?:@testable\s+)?import\s+(\w+)', line)
                    if line.count('"""') % 2 == 1:
                        in_literal = not in_literal
                    if im:
                        imports.add(im.group(1))
    imports -= system | {name}
    if imports != deps:
        problems.append(f"Package.swift: target {name}: imports {sorted(imports - deps)} not declared, declares {sorted(deps - imports)} not imported")

sql = re.compile(r'"[^"\n]*\b(SELECT|INSERT INTO|UPDATE \w+ SET|CREATE (TABLE|VIEW|INDEX)|DELETE FROM|DROP (TABLE|VIEW))\b')
# Every metric key the catalogue declares: Catalogue.swift and the interval/aggregate metrics of Statistics.swift.
keys = [k for f in ("Catalogue.swift", "Statistics.swift") for k in re.findall(r'Metric\("([a-z0-9_]+)"', open("Sources/Metrics/Catalogue/" + f).read())]
# keys that are also words of other vocabularies (tokenizer and dataset settings, a CLI verb, a fuzz target,
# the array names of the external-tokenizer protocol) are left out
ambiguous = {"lossless", "usage", "loss", "lr", "restarts", "codebook_size", "eval_images", "log2_vocab", "metric_"}
key_re = re.compile(r'"(' + "|".join(sorted(set(keys) - ambiguous)) + r'|data_bpb_)"')
for d, _, files in os.walk("Sources"):
    for f in files:
        if not f.endswith(".swift"):
            continue
        p = os.path.join(d, f)
        text = open(p, encoding="utf-8").read()
        for i, line in enumerate(text.split("\n"), 1):
            if not p.startswith("Sources/Store/") and sql.search(line):
                problems.append(f"{p}:{i}: SQL outside Sources/Store")
            if not p.startswith("Sources/Metrics/Catalogue/") and key_re.search(line) and "ConfigKey(" not in line and "labelKeys" not in line \
                    and "values:" not in line and "Migrations.swift" not in p:
                problems.append(f"{p}:{i}: metric key spelled outside the catalogue: {key_re.search(line).group(0)}")

files = subprocess.run(["git", "ls-files", "-z"], capture_output=True, text=True).stdout.split("\0")
for f in filter(None, files):
    if os.path.isfile(f) and os.path.getsize(f) > 1 << 20 and not f.endswith(".swift"):
        problems.append(f"{f}: tracked file over 1 MB ({os.path.getsize(f) >> 10} KiB)")

# 5. Every ARCHITECTURE.md section a source or test file cites (in the form: ARCHITECTURE.md, then the quoted heading) exists:
#    the cited name is a heading of ARCHITECTURE.md, or the start of one.
headings = [m.group(1).strip() for m in re.finditer(r'^#{2,3} (.+)$', open("ARCHITECTURE.md", encoding="utf-8").read(), re.M)]
cite = re.compile(r'ARCHITECTURE\.md,? "([^"]+)"')
for root in ("Sources", "Tests", "scripts", "adapters", "bench"):
    for d, _, files in os.walk(root):
        for f in files:
            if not f.endswith((".swift", ".py", ".sh", ".c", ".h")):
                continue
            p = os.path.join(d, f)
            for i, line in enumerate(open(p, encoding="utf-8", errors="replace"), 1):
                for m in cite.finditer(line):
                    if not any(h == m.group(1) or h.startswith(m.group(1)) for h in headings):
                        problems.append(f"{p}:{i}: cites ARCHITECTURE.md section \"{m.group(1)}\", which does not exist")

for p in problems:
    print("FAIL: layout: " + p)
print(f"check-layout: {len(problems)} problem(s)")
sys.exit(1 if problems else 0)
