#!/usr/bin/env python3
"""Checks that every relative link in the documentation resolves to a file or folder of the repository.

Files: README.md, results/README.md, docs/*.md, ARCHITECTURE.md. Links: [text](path), ![alt](path),
[label]: path (reference definitions) and <img src="path">. Skipped: http(s)://, mailto:, pure #anchors,
and anything inside fenced code blocks or `inline code`. A #anchor suffix is stripped; a path is
resolved against the folder of the file it is in (a leading / against the repository root).
Prints FILE:LINE: broken link PATH for each broken one and exits 1, else "check-links: N links ok".
"""
import glob
import os
import re
import sys
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+[\"'(][^)]*)?\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
IMG = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.IGNORECASE)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")


def files():
    names = ["README.md", "results/README.md", "ARCHITECTURE.md"] + sorted(
        os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
    return [n for n in names if os.path.isfile(os.path.join(ROOT, n))]


def targets(line):
    text = CODE_SPAN.sub("", line)
    for m in INLINE.finditer(text):
        yield m.group(1)
    m = REFDEF.match(text)
    if m:
        yield m.group(1)
    for m in IMG.finditer(text):
        yield next(g for g in m.groups() if g is not None)


def broken(source, target):
    """(checked, failing path): checked is False for links that are not relative paths; the path is None when it resolves."""
    t = target.strip()
    if t.startswith("<") and t.endswith(">"):
        t = t[1:-1]
    low = t.lower()
    if not t or t.startswith("#") or low.startswith(("http://", "https://", "mailto:")):
        return False, None
    if re.match(r"^[a-z][a-z0-9+.-]*:", low):   # other schemes (ftp:, data:, …) are not files
        return False, None
    path = urllib.parse.unquote(t.split("#", 1)[0].split("?", 1)[0])
    if not path:
        return False, None
    base = ROOT if path.startswith("/") else os.path.dirname(os.path.join(ROOT, source))
    resolved = os.path.normpath(os.path.join(base, path.lstrip("/")))
    inside = os.path.commonpath([resolved, ROOT]) == ROOT
    return True, (None if inside and os.path.exists(resolved) else path)


def main():
    checked, bad = 0, []
    for name in files():
        fence = None
        with open(os.path.join(ROOT, name), encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                m = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
                if m:
                    if fence is None:
                        fence = m.group(1)
                    elif m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                        fence = None
                    continue
                if fence is not None:
                    continue
                for target in targets(line):
                    relative, path = broken(name, target)
                    checked += relative
                    if path is not None:
                        bad.append("%s:%d: broken link %s" % (name, number, path))
    for b in bad:
        print(b)
    if bad:
        return 1
    print("check-links: %d links ok" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
