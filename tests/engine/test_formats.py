"""The format registry: every format module is listed, and what the page is told (facts) says what the engine does.

The page sniffs files from `formats.facts()` (written into a JS module at
build) before handing them to a worker; if its reading of the magic bytes
and the engine's disagreed, a file would be refused by one and taken by the
other. So the facts are read here the way the page reads them, over real
files of every format and Pillow's whole test corpus, and must name the same
format as the engine's own sniffing.
"""

from __future__ import annotations

import json
from pathlib import Path

import samples
from pixelpress import formats
from pixelpress.limits import DEFAULT_LIMITS

ROOT = Path(__file__).resolve().parents[2]
HELPERS = {"__init__", "base", "isobmff"}


def sniff_by_facts(facts: dict, head: bytes) -> str | None:
    """The page's sniffer, from the facts alone: the first format whose magic matches."""
    for f in facts["formats"]:
        magic = f["magic"]
        if "ftyp_brands" in magic:
            if head[4:8] != b"ftyp" or len(head) < 16:
                continue
            end = min(len(head), int.from_bytes(head[:4], "big"))
            brands = [head[8:12]] + [head[i:i + 4] for i in range(16, end - 3, 4)]
            if any(b.decode("latin-1") in magic["ftyp_brands"] for b in brands):
                return f["name"]
        elif any(all(head[p["offset"]:p["offset"] + len(p["hex"]) // 2] == bytes.fromhex(p["hex"]) for p in alt)
                 for alt in magic["any"]):
            return f["name"]
    return None


def corpus() -> list[Path]:
    files = [samples.path(n) for n in samples.PHOTOS]
    for folder in ("pillow-tests", "heic-tests"):
        files += sorted(p for p in (ROOT / ".cache" / folder).rglob("*") if p.is_file() and p.stat().st_size)
    return files


def test_every_format_module_is_in_the_registry():
    modules = {p.stem for p in (ROOT / "py" / "pixelpress" / "formats").glob("*.py")} - HELPERS
    assert modules == set(formats.FORMATS)
    for name, fmt in formats.FORMATS.items():
        assert fmt.name == name and fmt.extensions[0].startswith(".") and formats.by_mime(fmt.mime) is fmt


def test_the_facts_are_plain_json_with_the_engines_caps():
    facts = json.loads(json.dumps(formats.facts()))
    assert facts["max_bytes"] == DEFAULT_LIMITS.max_bytes and facts["max_pixels"] == DEFAULT_LIMITS.max_pixels
    by_name = {f["name"]: f for f in facts["formats"]}
    assert list(by_name) == list(formats.FORMATS)
    assert by_name["heic"]["readable"] and not by_name["heic"]["writable"] and by_name["heic"]["max_side"] is None
    assert {n: by_name[n]["max_side"] for n in ("jpeg", "webp", "avif")} == {"jpeg": 65500, "webp": 16383,
                                                                             "avif": 32768}


def test_the_page_sniffing_by_the_facts_names_the_engines_format_for_every_file():
    facts = formats.facts()
    seen, files = set(), corpus()
    assert len(files) > 500  # Pillow's corpus and the HEICs are there (fetched by the setup step)
    for path in files:
        data = path.read_bytes()
        head = data[:facts["sniff_bytes"]]
        engine = formats.sniff(data)
        assert sniff_by_facts(facts, head) == (engine.name if engine else None), path
        seen.add(engine.name if engine else None)
    assert seen == set(formats.FORMATS) | {None}  # every format, and files of none
