"""docs/runtime.md's browser support matrix, generated from what tests/browser/test_every_browser.py saw.

Each engine's run records, per case (an op, or convert to one format), whether the job succeeded and
which codecs did the work (`meta.codec`: who decoded, who encoded) in
test-artifacts/support-matrix.json. This script renders that record as the table between
`<!-- generated: support-matrix -->` and `<!-- /generated -->` in docs/runtime.md, and each engine's test
checks that docs/runtime.md's column for it says what the run saw.

    python tests/support_matrix.py          # rewrite docs/runtime.md's table from the last runs' record
    python tests/support_matrix.py --check  # exit 1 if docs/runtime.md differs from the record
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "runtime.md"
RECORD = ROOT / "test-artifacts" / "support-matrix.json"
ENGINES = {"chromium": "Chromium", "chromium-nojspi": "Chromium, no JSPI", "firefox": "Firefox ESR", "webkit": "WebKit"}
BLOCK = re.compile(r"(<!-- generated: support-matrix -->\n)(.*?)(<!-- /generated -->)", re.S)


def cell(answer: dict) -> str:
    """One job's answer as the matrix shows it: the codec path, or the error code."""
    if not answer.get("ok"):
        return f"✗ `{(answer.get('error') or {}).get('code')}`"
    codec = (answer.get("meta") or {}).get("codec") or {}
    return f"✓ {codec.get('decode', '–')} → {codec.get('encode', '–')}"


def column(results: dict[str, dict]) -> dict[str, str]:
    return {case: cell(answer) for case, answer in results.items()}


def record(engine: str, version: str, results: dict[str, dict]) -> None:
    """Merge one engine's results into the record (other engines' entries stay)."""
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    data[engine] = {"version": version, "cells": column(results),
                    "ms": {case: round(answer.get("ms", 0)) for case, answer in results.items()}}
    RECORD.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def render(data: dict) -> str:
    engines = [e for e in ENGINES if e in data]
    cases = list(dict.fromkeys(case for e in engines for case in data[e]["cells"]))
    rows = ["| job | " + " | ".join(ENGINES[e] for e in engines) + " |", "|---" * (len(engines) + 1) + "|"]
    for case in cases:
        rows.append(f"| {case} | " + " | ".join(data[e]["cells"].get(case, "") for e in engines) + " |")
    versions = ", ".join(f"{ENGINES[e]} {data[e]['version'].split('/')[-1]}" for e in engines
                         if e != "chromium-nojspi" and data[e]["version"])
    return "\n".join(rows) + f"\n\nLast generated from runs of {versions}.\n"


def documented_column(engine: str) -> dict[str, str]:
    """docs/runtime.md's cells for one engine: {case: cell}."""
    match = BLOCK.search(DOC.read_text())
    if not match:
        return {}
    lines = [line for line in match.group(2).splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    if ENGINES[engine] not in header:
        return {}
    i = header.index(ENGINES[engine])
    return {cells[0]: cells[i] for cells in ([c.strip() for c in line.strip("|").split("|")] for line in lines[2:])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if not RECORD.exists():
        print(f"{RECORD} is missing: run `pytest tests/browser/test_every_browser.py` first", file=sys.stderr)
        return 1
    text = DOC.read_text()
    if not BLOCK.search(text):
        print("docs/runtime.md has no <!-- generated: support-matrix --> block", file=sys.stderr)
        return 1
    data = json.loads(RECORD.read_text())
    for engine in ENGINES:  # an engine this record lacks (a partial run) keeps docs/runtime.md's column
        if engine not in data and documented_column(engine):
            data[engine] = {"version": "", "cells": documented_column(engine)}
    new = BLOCK.sub(lambda m: m.group(1) + render(data) + m.group(3), text)
    if args.check:
        if new != text:
            print("docs/runtime.md's support matrix differs from test-artifacts/support-matrix.json", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
