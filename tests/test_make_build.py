"""What `make build` and `make package` print and touch, run as a user runs them (real make, pip, npm, node).

- `make build` says one line per step: no raw JSON, no command echoes, no
  "unreachable … trying the next source" (issue 26, item 8); so does the
  npm step of a fresh setup (npm's own "added N packages" line hidden).
- The runtime fetch, when the CDN is down and the registry carriers serve,
  says one line naming the carriers and why they are fetched; only -v or
  PIXELPRESS_VERBOSE=1 tells each source tried; when every source fails it
  says so in one error line.
- `make package` builds into build/package-dist/ and packs that, leaving a
  running studio's dist/ byte for byte as it was (issue 26, item 9).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "runtime"
FETCH = [sys.executable, str(ROOT / "build_scripts" / "fetch_runtime.py")]
STEPS = ("[runtime]", "[fonts]", "[model]", "[build]")  # what `make build` runs, one line each once set up


def _pins():
    spec = importlib.util.spec_from_file_location("pins", ROOT / "build_scripts" / "pins.py")
    pins = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pins)
    return pins


PINS = _pins()
needs_tools = pytest.mark.skipif(not all(shutil.which(t) for t in ("make", "npm", "node")),
                                 reason="make, npm and node build the site")
needs_cache = pytest.mark.skipif(not all((CACHE / "wheels" / p["file"]).exists() for p in PINS.WHEELS.values())
                                 or not (CACHE / "core" / ".integrity").exists(),
                                 reason="the runtime is not fetched yet (make runtime)")


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once closed: refused at once


def step_problems(output: str) -> list[str]:
    """What in a setup's output is not one plain line per step."""
    problems = []
    lines = [ln for ln in output.splitlines() if ln.strip()]
    for ln in lines:
        if ln.lstrip().startswith(("{", "[{")):
            try:
                json.loads(ln)
                problems.append(f"raw JSON: {ln}")
            except ValueError:
                pass
        if "unreachable" in ln or "trying the next source" in ln:
            problems.append(f"a fallback said as if it failed: {ln}")
        if not ln.startswith("["):
            problems.append(f"not a step's line (a command echo, a tool's own output?): {ln}")
    for step in STEPS:
        n = sum(ln.startswith(step) for ln in lines)
        if n != 1:
            problems.append(f"{step}: {n} lines")
    return problems


@needs_tools
@needs_cache
def test_make_build_says_one_line_per_step(tmp_path):
    site = tmp_path / "site"
    done = subprocess.run(["make", "--no-print-directory", "build", f"DIST={site}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    output = done.stdout + done.stderr
    assert not step_problems(output), output
    setup = [ln for ln in output.splitlines() if ln.startswith("[setup]")]  # only when pyproject.toml etc. changed
    assert len(setup) <= 2, output
    assert (site / "asset-manifest.json").is_file() and (site / "package.json").is_file()


@pytest.mark.skipif(not all(shutil.which(t) for t in ("make", "npm")), reason="make and npm")
def test_the_npm_setup_step_is_one_line(tmp_path):
    """`make`'s npm step on a fresh checkout (the Makefile and the lock file copied to an empty folder)."""
    for f in ("Makefile", "package.json", "package-lock.json"):
        shutil.copy2(ROOT / f, tmp_path / f)
    env = {**os.environ, "npm_config_prefer_offline": "true"}  # from npm's cache when it has them: quicker
    done = subprocess.run(["make", "--no-print-directory", "node_modules/.installed"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=600, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == [
        "[setup] node_modules: the browser libraries and the linters (npm ci, package-lock.json)"], done.stdout
    assert done.stderr == ""
    assert (tmp_path / "node_modules" / ".installed").exists()


def seeded_cache(tmp_path: Path) -> Path:
    """A runtime cache with the core but no wheels, and the two carrier packages already downloaded.

    The carriers are stand-ins built from the verified wheels, at the members the real ones hold them,
    so no registry is asked; the fetch still takes each wheel out and checks its sha256.
    """
    cache = tmp_path / "runtime"
    shutil.copytree(CACHE / "core", cache / "core")
    carriers = cache / "carriers"
    carriers.mkdir()
    by_source: dict[str, list] = {}
    for pin in PINS.WHEELS.values():
        for source in pin["sources"]:
            if source["kind"] != "url":
                by_source.setdefault(source["spec"], [source, []])[1].append(pin["file"])
    for spec, (source, files) in by_source.items():
        if source["kind"] == "pypi":
            archive = carriers / f"{spec.replace('==', '-')}-py3-none-any.whl"
            with zipfile.ZipFile(archive, "w") as zf:
                for f in files:
                    zf.write(CACHE / "wheels" / f, source["member_dir"] + f)
        else:
            archive = carriers / (spec.replace("/", "_").replace("@", "") + ".tgz")
            with tarfile.open(archive, "w") as tar:
                for f in files:
                    tar.add(CACHE / "wheels" / f, source["member_dir"] + f)
        (carriers / (spec.replace("/", "_") + ".path")).write_text(str(archive))
    return cache


def offline_env(tmp_path: Path, **extra) -> dict:
    """The CDN (through its mirror setting), npm's and PyPI's registries all refused."""
    down = closed_port_url()
    return {**os.environ, "PIXELPRESS_PYODIDE_CDN": down, "npm_config_registry": f"{down}/",
            "npm_config_cache": str(tmp_path / "npm-cache"), "npm_config_fetch_retries": "0",
            "PIP_INDEX_URL": f"{down}/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2",
            "PIP_CACHE_DIR": str(tmp_path / "pip-cache"), "PIXELPRESS_VERBOSE": "", **extra}


@needs_cache
def test_a_fallback_to_the_carriers_is_one_line_saying_why(tmp_path):
    cache = seeded_cache(tmp_path)
    done = subprocess.run([*FETCH, "--cache", str(cache)], capture_output=True, text=True, timeout=300,
                          env=offline_env(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    (line,) = done.stdout.splitlines()
    assert line.startswith(f"[runtime] fetching 3 of 8 files of the pinned Pyodide {PINS.PYODIDE_VERSION}"), line
    # Says once which packages carry the wheels, that only the wheels are taken, and that each is checked.
    for said in ("PyPI open-webui==0.6.30", "npm @bentopdf/pymupdf-wasm@0.11.16", "byte-identical", "sha256-checked"):
        assert said in line, line
    for pin in PINS.WHEELS.values():
        got = hashlib.sha256((cache / "wheels" / pin["file"]).read_bytes()).hexdigest()
        assert got == pin["sha256"]

    again = subprocess.run([*FETCH, "--cache", str(cache)], capture_output=True, text=True, timeout=60)
    assert again.stdout == f"[runtime] the pinned Pyodide {PINS.PYODIDE_VERSION}: 8 files, cached\n"


@needs_cache
def test_verbose_says_each_source_tried(tmp_path):
    cache = seeded_cache(tmp_path)
    done = subprocess.run([*FETCH, "--cache", str(cache)], capture_output=True, text=True, timeout=300,
                          env=offline_env(tmp_path, PIXELPRESS_VERBOSE="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("unreachable") == 3, done.stdout  # the CDN, once per wheel
    assert "verified from open-webui==0.6.30" in done.stdout


@pytest.mark.skipif(shutil.which("npm") is None, reason="npm is one of the sources")
@needs_cache
def test_when_every_source_fails_one_error_line_says_what_was_tried(tmp_path):
    cache = tmp_path / "runtime"
    shutil.copytree(CACHE / "core", cache / "core")
    done = subprocess.run([*FETCH, "--cache", str(cache)], capture_output=True, text=True, timeout=300,
                          env=offline_env(tmp_path))
    assert done.returncode != 0
    assert len(done.stdout.splitlines()) == 1 and done.stdout.startswith("[runtime] fetching"), done.stdout
    (error,) = done.stderr.splitlines()
    assert error.startswith("[runtime] FAILED: no source gave numpy-"), error
    for tried in ("127.0.0.1", "PyPI open-webui==0.6.30"):
        assert tried in error, error
    assert "Traceback" not in done.stderr


def tree_state(root: Path) -> dict:
    """Every file's and folder's mtime, size and (for files) sha256: what a running studio reads."""
    state = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and not p.is_symlink() else None
        state[p.relative_to(root).as_posix()] = (st.st_mtime_ns, st.st_size, digest)
    return state


@needs_tools
@needs_cache
def test_make_package_leaves_dist_alone_and_packs_the_client(tmp_path):
    dist = ROOT / "dist"
    if not (dist / "asset-manifest.json").exists():
        pytest.skip("dist/ is not built (make build)")
    before = tree_state(dist)
    for old in (ROOT / "build").glob("pixelpress-*.tgz"):
        old.unlink()
    done = subprocess.run(["make", "--no-print-directory", "package"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert tree_state(dist) == before, "make package changed dist/"

    (tgz,) = (ROOT / "build").glob("pixelpress-*.tgz")
    assert done.stdout.splitlines()[-1] == f"[package] build/{tgz.name}", done.stdout
    with tarfile.open(tgz) as tar:
        names = set(tar.getnames())
        meta = json.load(tar.extractfile("package/package.json"))
        manifest = json.load(tar.extractfile("package/asset-manifest.json"))
        sizes = {m.name: m.size for m in tar.getmembers() if m.isfile()}
    assert tgz.name == f"pixelpress-{meta['version']}.tgz"
    assert meta["exports"]["."] == {"types": "./client/pixelpress.d.ts", "default": "./client/pixelpress.js"}
    assert meta["bin"] == {"pixelpress-copy-runtime": "bin/pixelpress-copy-runtime.mjs"}
    # Every file the manifest lists, with its size; the package's own README and command too.
    wrong = {p for p, e in manifest["files"].items() if sizes.get(f"package/{p}") != e["bytes"]}
    assert not wrong, sorted(wrong)[:10]
    assert {"package/README.md", "package/bin/pixelpress-copy-runtime.mjs"} <= names
    assert (ROOT / "build" / "package-dist" / "package.json").is_file()
