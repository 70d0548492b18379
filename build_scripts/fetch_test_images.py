"""Fetch Pillow's own test images into .cache/pillow-tests/, for the hostile-input corpus.

They come from the pinned Pillow source distribution on PyPI (`pip download
--no-binary`), which must match its pinned sha256; only Tests/images/ is
extracted. Test data only: nothing here is shipped. Idempotent and offline
once cached.

    python build_scripts/fetch_test_images.py [--cache .cache/pillow-tests]
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
from pins import PILLOW_TEST_IMAGES as SRC

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".cache" / "pillow-tests"
STAMP = ".sha256"


def fetch(cache: Path) -> Path:
    stamp = cache / STAMP
    if stamp.exists() and stamp.read_text().strip() == SRC["sha256"]:
        print(f"[test-images] {SRC['spec']} Tests/images: cached")
        return cache
    with tempfile.TemporaryDirectory() as tmp:
        try:
            pip_download(SRC["spec"], tmp, "--no-binary", ":all:")
        except subprocess.CalledProcessError as exc:
            sys.exit(f"[test-images] FAILED: pip download {SRC['spec']}: {why(exc)}; check that PyPI is reachable")
        sdist = Path(tmp) / SRC["file"]
        got = sha256(sdist)
        if got != SRC["sha256"]:
            sys.exit(f"[test-images] FATAL: {SRC['file']} has sha256 {got}, pinned {SRC['sha256']}")
        part = cache.with_name(cache.name + ".part")
        shutil.rmtree(part, ignore_errors=True)
        prefix = SRC["member_dir"]
        with tarfile.open(sdist) as tar:
            for m in tar.getmembers():
                if m.isfile() and m.name.startswith(prefix):
                    out = part / m.name[len(prefix):]
                    out.parent.mkdir(parents=True, exist_ok=True)
                    with tar.extractfile(m) as f:
                        out.write_bytes(f.read())
    (part / STAMP).write_text(SRC["sha256"] + "\n")
    shutil.rmtree(cache, ignore_errors=True)
    part.replace(cache)
    print(f"[test-images] {SRC['spec']} Tests/images: verified, {sum(1 for _ in cache.rglob('*')) - 1} files")
    return cache


if __name__ == "__main__":
    cache_cli(fetch, DEFAULT_CACHE, __doc__)
