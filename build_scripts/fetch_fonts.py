"""Fetch the banner/mockup font (Oswald, SIL OFL 1.1) into py/pixelpress/fonts/.

The font comes from a registry package through its ordinary client:
`npm pack @expo-google-fonts/oswald@0.4.2` into a cache dir. The tarball is
checked against a pinned sha256 before anything is extracted; only the two
TTFs and the font licence are copied out. Idempotent: files already present
with the right hash are left alone. Works offline once the cache holds the
tarball.

    python build_scripts/fetch_fonts.py [--cache .cache/fonts]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "py" / "pixelpress" / "fonts"

PACKAGE = "@expo-google-fonts/oswald"
VERSION = "0.4.2"
TARBALL = "expo-google-fonts-oswald-0.4.2.tgz"
TARBALL_SHA256 = "0cc1d71781b4a5c6c0e6f8b346a71e3f898529e5343ffe34911f98232af2e78c"
# member in the tarball -> file name in the package
MEMBERS = {
    "package/700Bold/Oswald_700Bold.ttf": "Oswald-Bold.ttf",
    "package/500Medium/Oswald_500Medium.ttf": "Oswald-Medium.ttf",
    "package/LICENSE_FONT": "OFL.txt",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch_tarball(cache: Path) -> tuple[bytes, bool]:
    """The tarball's bytes, and whether they came from the cache."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / TARBALL
    if path.exists() and sha256(path.read_bytes()) == TARBALL_SHA256:
        return path.read_bytes(), True
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(f"[fonts] FAILED: npm is needed to fetch the font (or put {TARBALL} into {cache})")
    # --loglevel=error: npm lists every file of the tarball as a notice otherwise (40 lines).
    done = subprocess.run([npm, "pack", f"{PACKAGE}@{VERSION}", "--pack-destination", str(cache), "--loglevel=error"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        last = ([ln for ln in done.stderr.splitlines() if ln.strip()] or [f"exit {done.returncode}"])[-1]
        sys.exit(f"[fonts] FAILED: npm pack {PACKAGE}@{VERSION}: {last.strip()}; check that npm's registry is reachable")
    data = path.read_bytes()
    got = sha256(data)
    if got != TARBALL_SHA256:
        path.unlink()
        sys.exit(f"[fonts] FAILED: {TARBALL}: sha256 {got} does not match the pinned {TARBALL_SHA256}")
    return data, False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "fonts")
    args = ap.parse_args(argv)
    data, cached = fetch_tarball(args.cache)
    DEST.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member, name in MEMBERS.items():
            blob = tar.extractfile(member).read()
            out = DEST / name
            if not out.exists() or out.read_bytes() != blob:
                out.write_bytes(blob)
    where = "cached" if cached else f"from npm {PACKAGE}@{VERSION}, sha256-checked"
    print(f"[fonts] Oswald Bold and Medium (SIL OFL 1.1): {where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
