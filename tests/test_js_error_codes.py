"""The JS side has one error class and one list of its own codes (issue 12).

Every error code written in web/ is either the engine's (pixelpress.errors)
or listed in web/client/codes.js, every code listed there is used, and the
list never gives an engine code a second meaning: an entry that reuses one
says `engine: true`. The codes are found in the sources where a code is
written: a PixelpressError's first argument, a `code` property, comparison
or default, a `switch` on a code, and an array a code is looked up in.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
from pixelpress import errors

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node reads web/client/codes.js")

STRING = r"""(?P<q>['"`])(?P<s>(?:(?!(?P=q)).)*)(?P=q)"""
IN_CODE_CONTEXT = [
    re.compile(r"\b(?:PixelpressError|remoteError)\(\s*" + STRING),
    re.compile(r"\bcode\s*(?::|===|!==|==|!=|\?\?|=(?!=))\s*" + STRING),
    re.compile(STRING + r"\s*(?:===|!==)\s*[\w.?]*\bcode\b"),
]
SWITCH_ON_CODE = re.compile(r"switch\s*\(\s*[\w.?]*\bcode\s*\)\s*\{")
CASE = re.compile(r"\bcase\s+" + STRING + r"\s*:")
LOOKED_UP = re.compile(r"(?:(?P<name>\w+)|\[(?P<inline>[^\]]*)\])\.includes\(\s*[\w.?]*\bcode\s*\)")
LITERAL = re.compile(STRING)
# Code in a template: `http_${res.status}` is written down as http_<status>.
PLACEHOLDER = re.compile(r"\$\{[^}]*?(\w+)\s*\}")


def doc_tables():
    spec = importlib.util.spec_from_file_location("doc_tables", ROOT / "build_scripts" / "doc_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def js_sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in sorted(WEB.rglob("*.js"))}


def literal(s: str) -> str:
    return PLACEHOLDER.sub(lambda m: f"<{m.group(1)}>", s)


def block_after(src: str, start: int) -> str:
    """The text from an opening brace at `start` to its matching close."""
    depth = 0
    for i in range(start, len(src)):
        depth += {"{": 1, "}": -1}.get(src[i], 0)
        if depth == 0:
            return src[start:i + 1]
    return src[start:]


def codes_in(src: str) -> set[str]:
    found = {literal(m["s"]) for rx in IN_CODE_CONTEXT for m in rx.finditer(src)}
    for m in SWITCH_ON_CODE.finditer(src):
        found |= {literal(c["s"]) for c in CASE.finditer(block_after(src, m.end() - 1))}
    for m in LOOKED_UP.finditer(src):
        items = m["inline"]
        if items is None:
            bound = re.search(rf"\b{m['name']}\s*=\s*(?:Object\.freeze\()?\[([^\]]*)\]", src)
            assert bound, f"{m['name']} is looked up by code but is not an array literal in the same file"
            items = bound.group(1)
        found |= {literal(c["s"]) for c in LITERAL.finditer(items)}
    return found


@pytest.fixture(scope="module")
def listed() -> dict[str, dict]:
    return doc_tables().client_codes()


@pytest.fixture(scope="module")
def used() -> dict[str, set[str]]:
    """code -> the files that write it."""
    out: dict[str, set[str]] = {}
    for path, src in js_sources().items():
        for code in codes_in(src):
            out.setdefault(code, set()).add(path)
    return out


def test_the_scanner_sees_codes_of_every_kind(used):
    # One of each way a code is written, so a blind scanner cannot pass the tests below.
    assert {"worker_crashed", "storage_full", "storage_error", "bad_request", "interrupted", "cancelled",
            "model_unavailable", "invalid_option", "http_<status>", "unknown_operation"} <= set(used)


def test_every_code_written_in_web_is_the_engines_or_listed(used, listed):
    engine = set(errors.codes())
    stray = {code: sorted(files) for code, files in used.items() if code not in engine and code not in listed}
    assert not stray, f"add these to web/client/codes.js (or fix the typo): {stray}"


def test_every_listed_code_is_raised_somewhere(used, listed):
    assert not set(listed) - set(used), "codes.js lists codes nothing in web/ raises"


def test_no_engine_code_gets_a_second_meaning(listed):
    engine = set(errors.codes())
    for code, entry in listed.items():
        assert bool(entry.get("engine")) == (code in engine), (
            f"{code}: an entry for an engine code must say engine: true (and keep its meaning); "
            "a page-only code must not be an engine code")
        assert entry["when"].strip() and "\n" not in entry["when"], code


def test_client_and_studio_throw_only_pixelpress_errors():
    other = re.compile(r"new Error\(|extends Error\b|Object\.assign\(new \w*Error")
    offenders = [f"{path}:{src[:m.start()].count(chr(10)) + 1}: {m.group()}"
                 for path, src in js_sources().items() if path.startswith(("web/client/", "web/ui/"))
                 for m in other.finditer(src)
                 if not (path == "web/client/errors.js" and m.group().startswith("extends"))]
    assert not offenders, offenders
