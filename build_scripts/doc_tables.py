"""Write docs/errors.md's generated tables from the engine, or check that they are current.

A table lives between `<!-- generated: NAME -->` and `<!-- /generated -->`.
`errors` is every code `pixelpress.errors` declares, with the limits filled
in from `decode.DEFAULT_LIMITS`, the per-op budgets and the ops that need no
OpenCV from the registry.
`client-errors` is every code the JS side raises itself, from
`web/client/codes.js` (read by Node, so the table shows what the page ships).

    python build_scripts/doc_tables.py          # rewrite docs/errors.md
    python build_scripts/doc_tables.py --check  # exit 1 if docs/errors.md is stale
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "errors.md"
CODES_JS = ROOT / "web" / "client" / "codes.js"
sys.path.insert(0, str(ROOT / "py"))

from pixelpress import errors, registry  # noqa: E402
from pixelpress.decode import DEFAULT_LIMITS  # noqa: E402

BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->\n).*?(<!-- /generated -->)", re.S)


def op_caps() -> str:
    """The ops whose budget binds below the pixel cap, with the megapixels each takes."""
    caps = sorted((mp, op) for op in registry.OPS if (mp := registry.limits_for(op).max_work_megapixels())
                  and mp * 1e6 < DEFAULT_LIMITS.max_pixels)
    return ", ".join(f"`{op}` {mp:g} MP" for mp, op in caps)


def light_ops() -> str:
    """The ops that run without OpenCV, from their specs' packages."""
    light = [f"`{op}`" for op in registry.OPS if "opencv-python" not in registry.spec(op).packages]
    return ", ".join(light[:-1]) + " and " + light[-1] if len(light) > 1 else "".join(light)


# `input_fault` (errors.py, codes.js): the same input fails the same way again, so the studio offers no Retry.
FAULT = {True: "yes: no Retry", False: "no"}


def errors_table() -> str:
    limits = {"max_mb": f"{DEFAULT_LIMITS.max_bytes / 1e6:g}", "max_mp": f"{DEFAULT_LIMITS.max_pixels / 1e6:g}",
              "budget_gb": f"{registry.WORK_BUDGET_BYTES / 1e9:g}", "op_caps": op_caps(), "light_ops": light_ops()}
    rows = ["| code | when | the input's fault |", "|---|---|---|"]
    for cls in errors.classes():
        if not cls.when:
            raise SystemExit(f"{cls.__name__} ({cls.code}) has no `when` for docs/errors.md")
        rows.append(f"| `{cls.code}` | {cls.when.format(**limits)} | {FAULT[cls.input_fault]} |")
    return "\n".join(rows) + "\n"


def client_codes() -> dict[str, dict]:
    """web/client/codes.js's CODES, as the module itself exports them."""
    node = shutil.which("node")
    if not node:
        raise SystemExit("node is needed to read web/client/codes.js (make setup installs it)")
    script = (f"const {{ CODES }} = await import({json.dumps(CODES_JS.as_uri())});"
              "process.stdout.write(JSON.stringify(CODES));")
    run = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"node could not read {CODES_JS}:\n{run.stderr}")
    return json.loads(run.stdout)


def client_errors_table() -> str:
    rows = ["| code | when | the input's fault |", "|---|---|---|"]
    engine_fault = {cls.code: cls.input_fault for cls in errors.classes()}
    for code, entry in client_codes().items():
        when = entry.get("when", "")
        if not when:
            raise SystemExit(f"web/client/codes.js: {code} has no `when` for docs/errors.md")
        shared = "*engine code, also raised by the page:* " if entry.get("engine") else ""
        fault = engine_fault[code] if entry.get("engine") else bool(entry.get("input_fault"))
        rows.append(f"| `{code}` | {shared}{when} | {FAULT[fault]} |")
    return "\n".join(rows) + "\n"


TABLES = {"errors": errors_table, "client-errors": client_errors_table}


def render(text: str) -> str:
    """The text with this script's tables made anew; other generated blocks are left as they are."""
    def table(m):
        make = TABLES.get(m.group(2))
        return m.group(1) + make() + m.group(3) if make else m.group(0)

    return BLOCK.sub(table, text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    text = DOC.read_text()
    new = render(text)
    if args.check:
        if new != text:
            sys.exit("docs/errors.md's generated tables are stale: run python build_scripts/doc_tables.py")
        return
    DOC.write_text(new)


if __name__ == "__main__":
    main()
