"""The page's engine facts are the engine's (issue 27).

The build writes client/engine-facts.js from the engine: its formats (MIME
types, extensions, magic bytes, what is read and written), its caps, its
error codes with whether each is the input's fault, and the file-name
alphabet. The client and the studio read them from there; these tests fail
when the built module and the engine disagree (a stale build), or when a
page module states one of those facts again by hand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pixelpress import errors, formats
from pixelpress.options import NAME_PATTERN

ROOT = Path(__file__).resolve().parent.parent
DIST = Path(os.environ.get("PIXELPRESS_DIST") or ROOT / "dist")
sys.path.insert(0, str(ROOT / "build_scripts"))

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node reads the page's modules")


def node(script: str, *args: str) -> dict:
    run = subprocess.run(["node", "--input-type=module", "-e", script, *args], capture_output=True, text=True,
                         check=False, timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def built() -> dict:
    module = DIST / "client" / "engine-facts.js"
    if not module.exists():
        pytest.skip(f"{module} not built")
    return node("const m = await import(process.argv[1]); console.log(JSON.stringify(m.default));", module.as_uri())


def test_the_built_module_is_what_the_engine_says_now(built):
    from build_site import engine_facts

    assert built == json.loads(json.dumps(engine_facts()))


def test_it_lists_every_format_every_error_code_and_the_caps(built):
    assert [f["name"] for f in built["formats"]] == list(formats.FORMATS)
    heic = next(f for f in built["formats"] if f["name"] == "heic")
    assert heic["readable"] and not heic["writable"]  # HEIC is read, never written
    assert sorted(built["errors"]) == sorted(errors.codes())
    assert built["errors"]["decompression_bomb"]["input_fault"] is True
    assert built["errors"]["internal_error"]["input_fault"] is False
    assert (built["max_bytes"], built["max_pixels"]) == (50_000_000, 50_000_000)


STUDIO = """
const facts = (await import(process.argv[1])).default;
const states = await import(process.argv[2]);
globalThis.location = { search: '' };
const util = await import(process.argv[3]);
const fetching = await import(process.argv[4]);
const names = ['Harbour Hawks', 'St. Louis Blues', '__Ünïcødé photo (2).JPG', '..', 'a'.repeat(80), 'x_y-z'];
console.log(JSON.stringify({
  inputProblems: states.INPUT_PROBLEMS,
  slugs: Object.fromEntries(names.map((n) => [n, util.slug(n)])),
  maxBytes: fetching.DEFAULT_FETCH.maxBytes,
  ext: util.EXT,
  factsMaxBytes: facts.max_bytes,
}));
"""


def test_the_studio_and_the_client_take_their_rules_from_it(built):
    got = node(STUDIO, *(str((DIST / p).as_uri()) for p in
                         ("client/engine-facts.js", "ui/queue/states.js", "ui/util.js", "client/fetch-image.js")))
    # No Retry for what fails the same way again: the engine's input faults and the page's own two.
    engine_faults = [c for c, e in built["errors"].items() if e["input_fault"]]
    assert sorted(got["inputProblems"]) == sorted([*engine_faults, "invalid_input", "invalid_url"])
    assert {"corrupt_image", "too_large", "unsupported_format"} <= set(got["inputProblems"])
    assert "internal_error" not in got["inputProblems"]
    # Every name the studio makes is one the engine's file-name options accept ('fallback' aside).
    assert got["slugs"]["Harbour Hawks"] == "harbour-hawks"
    assert got["slugs"]["St. Louis Blues"] == "st-louis-blues"
    assert got["slugs"][".."] == "file"
    for name, made in got["slugs"].items():
        assert NAME_PATTERN.match(made) and len(made) <= built["file_name"]["max_length"], (name, made)
    assert got["maxBytes"] == got["factsMaxBytes"] == built["max_bytes"]
    # Downloads are named by each format's canonical extension, the engine's.
    for f in built["formats"]:
        assert got["ext"][f["mime"]] == f["extensions"][0].lstrip("."), f["name"]
    assert (got["ext"]["image/jpeg"], got["ext"]["application/zip"]) == ("jpg", "zip")


def test_no_page_module_states_the_caps_the_input_faults_or_the_magic_bytes_again():
    restated = []
    for f in (ROOT / "web").rglob("*.js"):
        text = f.read_text()
        if re.search(r"\b50_?000_?000\b|\b50e6\b", text):
            restated.append(f"{f.relative_to(ROOT)}: a 50 M cap")
        if re.search(r"'decompression_bomb',\s*'|'corrupt_image',\s*'", text):
            restated.append(f"{f.relative_to(ROOT)}: a list of input-fault codes")
        if re.search(r"0xff,\s*0xd8|0x89,\s*0x50|'ftyp'\)?\s*[;&|]", text) and f.name != "sniff.js":
            restated.append(f"{f.relative_to(ROOT)}: magic bytes (client/sniff.js has the engine's)")
    assert restated == []
