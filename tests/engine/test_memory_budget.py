"""Per-op working-memory budget: a picture an op cannot finish is refused before it is decoded."""

from __future__ import annotations

import io
import json

import pytest
import samples
from PIL import Image
from pixelpress import bridge
from pixelpress.decode import DEFAULT_LIMITS
from pixelpress.errors import TooLarge
from pixelpress.operation import WORK_BUDGET_BYTES
from pixelpress.ops.logo_cleanup import logo_cleanup
from pixelpress.ops.oil_paint import oil_paint
from pixelpress.registry import OPS, limits_for, spec

BIG = (7000, 7000)  # 49 MP: under the 50 MP pixel cap, over what the heavy ops can hold


@pytest.fixture(scope="module")
def big_png() -> bytes:
    return samples.big_flat_png(*BIG)


def stated_limit(op: str) -> str:
    cap = int(WORK_BUDGET_BYTES / spec(op).work_bytes_per_pixel / 1e5) / 10
    return f"up to {cap:g} megapixels"


def test_every_op_declares_its_working_memory():
    for op in OPS:
        s = spec(op)
        assert s.label and s.work_bytes_per_pixel > 0, op
        lim = limits_for(op)
        assert (lim.max_bytes, lim.max_pixels) == (DEFAULT_LIMITS.max_bytes, DEFAULT_LIMITS.max_pixels)
        assert lim.max_work_bytes == WORK_BUDGET_BYTES


@pytest.mark.parametrize("op,fn", [("oil_paint", oil_paint), ("logo_cleanup", logo_cleanup)])
def test_heavy_ops_refuse_49_mp_before_decoding(big_png, op, fn):
    # The header and the first bytes of pixel data only: had anything been
    # decoded, the answer would be corrupt_image.
    headers_only = big_png[:4096]
    for data in (big_png, headers_only):
        res = bridge.run(op, data, "{}")  # the worker's path
        assert not res["ok"] and res["error"]["code"] == "too_large", res
        msg = res["error"]["message"]
        assert stated_limit(op) in msg and "49.0 MP" in msg, msg
        assert msg.startswith(spec(op).label)

        with pytest.raises(TooLarge) as e:  # natively, calling the function: its own limits by default
            fn(data, {})
        assert stated_limit(op) in e.value.message


def test_convert_accepts_49_mp(big_png):
    res = bridge.run("convert", big_png, json.dumps({"format": "jpeg", "max_width": 700}))
    assert res["ok"], res
    meta = json.loads(res["meta"])
    assert (meta["width"], meta["height"]) == (700, 700)
    out = Image.open(io.BytesIO(res["outputs"][0]["data"]))
    assert out.getpixel((350, 350))[2] > 150  # the blue survived: it was really decoded


def test_a_12_mp_photo_fits_every_budget():
    photo = samples.encode(samples.large_photo(), "JPEG", quality=90)
    w, h = Image.open(io.BytesIO(photo)).size
    assert w * h == 12_000_000
    for op in OPS:
        limits_for(op).check_work(w, h)
    # And the check does not fire on it on the worker's path.
    res = bridge.run("convert", photo, json.dumps({"format": "jpeg", "max_width": 400}))
    assert res["ok"], res
