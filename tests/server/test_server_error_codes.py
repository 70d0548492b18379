"""The server's error codes are one list (pixelpress_server.errors.CODES): the code raises only those,
with their statuses, and docs/server.md's table names every one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pixelpress_server.errors import CODES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "py" / "pixelpress_server"
# Where a call carries (status, code): the positions of both, by the callee's name.
CALLS = {"ApiError": (0, 1), "error_response": (0, 1), "failed": (2, 3), "_raw_response": (0, 2), "error_body": (None, 0)}


def raised() -> set[tuple[int | None, str]]:
    found = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in CALLS:
                continue
            status_at, code_at = CALLS[name]
            if len(node.args) <= code_at or not isinstance(node.args[code_at], ast.Constant):
                continue
            status = node.args[status_at].value if status_at is not None and isinstance(
                node.args[status_at], ast.Constant) else None
            found.add((status, node.args[code_at].value))
    return found


def test_every_code_raised_is_listed_with_its_status():
    found = raised()
    assert {code for _, code in found} >= {"cross_origin", "busy", "request_timeout", "already_exists"}
    for status, code in found:
        assert code in CODES, f"{code} is raised but not in errors.CODES"
        if status is not None:
            assert CODES[code] == status, f"{code} is raised with {status}, listed as {CODES[code]}"


def test_the_docs_table_names_every_code():
    text = (ROOT / "docs" / "server.md").read_text()
    table = text[text.index("Error codes:"):text.index("Background removal retries")]
    rows = [line.split("|") for line in table.splitlines() if line.startswith("| ")][1:]
    documented = {code for row in rows for code in re.findall(r"`([a-z_]+)`", row[2])}
    assert documented == set(CODES), (set(CODES) - documented, documented - set(CODES))
