"""The contract every registered op keeps, checked over the registry (a new op is covered at once).

- Its module, spec and function agree, and the worker's catalogue says what the spec says.
- Every option bound, choice, type and list rule of its schema is enforced,
  as `invalid_option` naming the field, before any pixel is decoded.
- Its result's meta carries the common keys, and they describe the bytes
  that came out (format, size, byte count), for the main file and every extra.
"""

from __future__ import annotations

import inspect
import io
import json
import zipfile

import logos
import pytest
import samples
from hostile_corpus import OP_OPTIONS
from PIL import Image
from pixelpress import ops
from pixelpress.errors import InvalidOption
from pixelpress.options import describe
from pixelpress.registry import OPS, catalogue, resolve, spec

TEAM_OPS = {"logo_cleanup", "tshirt_mockup", "roster_banner", "asset_pack"}
COMMON = ("format", "width", "height", "bytes", "input_format", "input_width", "input_height", "input_bytes",
          "timings_ms", "warnings")


def test_the_registry_lists_every_op_module():
    assert len(OPS) == 13 and "convert" in OPS and "car_listing" in OPS
    for op in OPS:
        s = spec(op)
        assert s.name == op and resolve(op).__module__ == f"{ops.__name__}.{op}"
        assert s.label and s.work_bytes_per_pixel > 0 and s.packages[0] == "pillow"


def test_labels_are_in_one_voice():
    """A label is the op's name as a person writes it: "Oil paint", "Logo clean-up", "T-shirt mockup".

    Capitalised, no article, no full stop, three words at most, and the op's own name once case, spaces
    and hyphens are set aside; so `pixelpress ops` never lists "The asset pack" beside "Conversion".
    """
    for op in OPS:
        label = spec(op).label
        words = label.split()
        assert label[0].isupper() and label[1:] == label[1:].lower(), label
        assert words[0].lower() not in ("the", "a", "an") and not label.endswith(".") and len(words) <= 3, label
        assert label.lower().replace(" ", "").replace("-", "") == op.replace("_", ""), (op, label)

def test_flags_match_the_functions():
    for op in OPS:
        s = spec(op)
        body = inspect.signature(inspect.unwrap(resolve(op, asynchronous=s.model)))
        assert ("progress" in body.parameters) == s.progress, op
        if s.model:
            assert inspect.iscoroutinefunction(resolve(op, asynchronous=True)) and "segmenter" in body.parameters
    assert json.loads(json.dumps(catalogue())) == {
        op: {"packages": list(spec(op).packages), "model": spec(op).model, "progress": spec(op).progress,
             "label": spec(op).label} for op in OPS}


def _bad_values(o: dict) -> list:
    """Values the engine must refuse for option `o` (one of describe()'s fields)."""
    kind = o["kind"]
    if kind == "int":
        return [o["min"] - 1, o["max"] + 1, 2.5, "5", True] + ([] if o.get("optional") else [None])
    if kind == "float":
        return [o["min"] - 0.01, o["max"] + 0.01, "1", True]
    if kind == "text":
        return ["x" * (o["max_len"] + 1), 3] + ([""] if o.get("required") else [])
    if kind == "colour":
        return ["black", "#12345", 3]
    if kind == "choice":
        return ["not-" + o["choices"][0], 1]
    if kind == "bool":
        return [1, "yes", None]
    if kind == "list":
        kind = o["item"]["kind"]
        item = {"colour": "#112233", "object": {"number": 1, "name": "Ada"}, "int": o["item"].get("min")}[kind]
        bad_item = {"colour": "dark", "object": {"number": 100, "name": "Ada"},
                    "int": (o["item"].get("max") or 0) + 1}[kind]
        return (["#112233", [item] * (o["max_items"] + 1), [bad_item], [item, 5]]
                + ([[]] if o["min_items"] else []))
    raise AssertionError(f"no bad values for kind {kind}")


BAD = [(op, o["name"], bad) for op in OPS for o in describe(spec(op).options) for bad in _bad_values(o)]
BAD += [(op, "no_such_option", 1) for op in OPS]


@pytest.mark.parametrize("op,field,bad", BAD, ids=[f"{op}.{f}={str(b)[:12]}" for op, f, b in BAD])
def test_every_option_rule_is_enforced(op, field, bad):
    # A real image that would decode fine: the refusal must come from the option.
    with pytest.raises(InvalidOption) as e:
        resolve(op)(samples.photo_bytes("chelsea.png", "PNG"), {**OP_OPTIONS.get(op, {}), field: bad})
    assert e.value.code == "invalid_option"
    assert e.value.field == field or e.value.field.startswith(f"{field}["), (e.value.field, e.value.message)


@pytest.fixture(scope="module")
def results():
    photo = samples.photo_bytes("astronaut.png")
    logo = logos.png(logos.shield(320))
    return {op: (data, resolve(op)(data, OP_OPTIONS.get(op, {})))
            for op in OPS for data in [logo if op in TEAM_OPS else photo]}


def _opened(data: bytes) -> tuple[str, tuple[int, int] | None]:
    if data[:4] == b"PK\x03\x04":
        zipfile.ZipFile(io.BytesIO(data)).testzip()
        return "zip", None
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        return im.format.lower(), im.size


@pytest.mark.parametrize("op", OPS)
def test_meta_describes_what_came_out(results, op):
    data, r = results[op]
    for key in COMMON:
        assert key in r.meta, (op, key)
    assert r.meta["input_bytes"] == len(data) and r.meta["input_format"] in ("jpeg", "png")
    assert r.meta["input_width"] > 0 and r.meta["input_height"] > 0
    assert r.meta["bytes"] == len(r.data) and r.mime.endswith(r.meta["format"])
    assert isinstance(r.meta["warnings"], list) and all(v >= 0 for v in r.meta["timings_ms"].values())
    fmt, size = _opened(r.data)
    assert fmt == r.meta["format"]
    if size is not None:
        assert size == (r.meta["width"], r.meta["height"])
    for x in r.extras:
        fmt, size = _opened(x.data)
        assert x.meta["name"] == x.name and x.meta["bytes"] == len(x.data)
        assert (fmt, size) == (x.meta["format"], (x.meta["width"], x.meta["height"])) and x.mime.endswith(fmt)
    json.dumps(r.meta)  # crosses to the page as JSON
