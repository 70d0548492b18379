"""Natively OpenCV is an extra: the ops that need it say so, and the others run without it.

Each case runs in a fresh interpreter where `sys.modules[name] = None`, the
way Python itself marks a module that cannot be imported: `import cv2` fails
there exactly as when OpenCV is not installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import samples
from hostile_corpus import OP_OPTIONS
from pixelpress.ops.web_sizes import web_sizes
from pixelpress.registry import OPS, spec

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # as if not installed
sys.path[:0] = [sys.argv[2] + "/py", sys.argv[2] + "/tests"]
import pixelpress, samples
from pixelpress import bridge
from pixelpress.registry import OPS, catalogue
from pixelpress.schema import schema

options = json.loads(sys.argv[3])
photo = samples.photo_bytes("astronaut.png")
out = {"schema": sorted(schema()) if "numpy" not in sys.argv[1] else None}
for op in OPS:
    res = bridge.run(op, photo, json.dumps(options.get(op, {})))
    out[op] = {"code": "ok", "width": json.loads(res["meta"])["width"]} if res["ok"] else res["error"]
out["imported"] = sorted(m for m in ("cv2", "numpy") if sys.modules.get(m) is not None)
print(json.dumps(out))
"""


def run_without(*modules: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", CHILD, ",".join(modules), str(ROOT), json.dumps(OP_OPTIONS)],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def without_opencv():
    return run_without("cv2")


def test_without_opencv_the_schema_and_the_light_ops_work(without_opencv):
    assert without_opencv["schema"] == sorted(OPS)
    light = [op for op in OPS if "opencv-python" not in spec(op).packages]
    assert light == ["autocrop", "convert", "web_sizes"]
    assert {op: without_opencv[op]["code"] for op in light} == dict.fromkeys(light, "ok")
    assert without_opencv["convert"]["width"] == 512  # astronaut.png, as converted with OpenCV at hand
    assert without_opencv["web_sizes"]["width"] == web_sizes(samples.photo_bytes("astronaut.png")).meta["width"]


@pytest.mark.parametrize("op", [op for op in OPS if "opencv-python" in spec(op).packages])
def test_without_opencv_an_op_that_needs_it_says_what_to_install(without_opencv, op):
    err = without_opencv[op]
    assert err["code"] == "missing_dependency", err
    assert err["message"].startswith(f"{spec(op).label} needs OpenCV, which is not installed here")
    assert err["message"].endswith('pip install "pixelpress[opencv]"')


def test_convert_and_web_sizes_need_neither_opencv_nor_numpy():
    got = run_without("cv2", "numpy")
    assert got["convert"]["code"] == "ok" and got["web_sizes"]["code"] == "ok"
    assert got["imported"] == []
    assert got["autocrop"]["code"] == "missing_dependency" and "NumPy" in got["autocrop"]["message"]
