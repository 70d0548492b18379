"""Assemble the self-contained static site in dist/.

    python build_scripts/build_site.py [--cache DIR] [--out DIR]

Builds the engine wheel, writes the site's own Pyodide lock (only what we
ship, OpenCV with its pinned hash), copies the verified runtime and the web
front end, and writes asset-manifest.json (path, bytes, sha256 of every
file) that the service worker and the loading progress bar use. Every URL in
the site is relative, so dist/ works under any sub-path.

The build is also the npm package of the client (`make package` builds one
into build/package-dist/ and packs it, leaving dist/ alone; `cd dist && npm
pack` packs dist/): the build writes its package.json and adds npm-package/
(a README and the `pixelpress-copy-runtime` command) after the manifest, so
neither is listed there nor cached by the service worker.

It prints one line; PIXELPRESS_VERBOSE=1 adds the bytecode compiler's report.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from client_types import write_types
from fetch_runtime import DEFAULT_CACHE, sha256
from pins import (
    AVIF_DEC_FILES,
    AVIF_ENC_FILES,
    CORE_FILES,
    HEIF_FILES,
    HEIF_NPM,
    ORT_WEB_FILES,
    ORT_WEB_NPM,
    ORT_WEBGPU_ONLY,
    PYODIDE_VERSION,
    WEBP_ENC_FILES,
    WHEELS,
)

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
VENDOR = {  # npm package file -> dist path: small, well-kept browser libraries
    "node_modules/fflate/esm/browser.js": "vendor/fflate.js",
    **{f"node_modules/onnxruntime-web/dist/{f}": f"vendor/ort/{f}" for f in ORT_WEB_FILES},
    **{f"node_modules/@jsquash/avif/codec/enc/{f}": f"vendor/avif/{f}" for f in AVIF_ENC_FILES},
    **{f"node_modules/@jsquash/avif/codec/dec/{f}": f"vendor/avif/{f}" for f in AVIF_DEC_FILES},
    "node_modules/@jsquash/avif/LICENSE": "vendor/avif/LICENSE",  # Apache-2.0 asks for it to travel along
    **{f"node_modules/@jsquash/webp/codec/enc/{f}": f"vendor/webp/{f}" for f in WEBP_ENC_FILES},
    "node_modules/@jsquash/webp/LICENSE": "vendor/webp/LICENSE",
    **{f"node_modules/{HEIF_NPM[0]}/{f}": dist for f, (dist, _sha) in HEIF_FILES.items()},
}
PACKAGE = ROOT / "npm-package"  # the npm package's own files: README, bin/
MODELS = ROOT / ".cache" / "models"  # build_scripts/fetch_model.py, checked against the engine's pin


def check_npm_pins(name: str, version: str, files: dict[str, str]) -> None:
    """Files shipped from an npm package are the pinned ones: its version, and each file's sha256 (pins.py)."""
    package = ROOT / "node_modules" / name
    if not (package / "package.json").exists():
        raise SystemExit(f"node_modules/{name} missing: run `npm ci` first")
    found = json.loads((package / "package.json").read_text())["version"]
    if found != version:
        raise SystemExit(f"node_modules/{name} is {found}, pinned {version}: run `npm ci`")
    for f, pinned in files.items():
        if sha256(package / f) != pinned:
            raise SystemExit(f"node_modules/{name}/{f} does not match its pin in build_scripts/pins.py")


def check_heif() -> None:
    """The HEIC decoder shipped is the pinned one (pins.HEIF_FILES)."""
    check_npm_pins(*HEIF_NPM, {f: sha for f, (_dist, sha) in HEIF_FILES.items()})


def write_heif_notice(out: Path) -> None:
    """vendor/heif/README: what the LGPL-3.0 decoder is and where its source is, beside its licences."""
    name, version = HEIF_NPM
    (out / "vendor" / "heif" / "README").write_text(
        f"libheif.mjs is libheif with the libde265 HEVC decoder compiled to WebAssembly, as published in the npm\n"
        f"package {name} {version} (libheif-wasm/libheif-bundle.mjs), shipped unchanged: pixelpress's worker\n"
        "imports it only to decode HEIC files (web/worker/codecs.js), and any build of the same API can replace it.\n"
        "\n"
        "libheif and libde265 are under the GNU Lesser General Public License 3.0: LICENSE is that licence (as the\n"
        "npm package ships it), COPYING libheif's notice with the LGPL, GPL and MIT texts. Their source:\n"
        f"the npm package {name}@{version} (its build scripts), https://github.com/catdad-experiments/libheif-js,\n"
        "https://github.com/strukturag/libheif and https://github.com/strukturag/libde265.\n")


def build_engine_wheel() -> Path:
    out = Path(tempfile.mkdtemp(prefix="pixelpress-wheel-"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
                    "-w", str(out), str(ROOT)], check=True)
    return next(out.glob("pixelpress-*.whl"))


def add_bytecode(core: Path, stdlib: Path, wheels: list[Path], cache: Path) -> None:
    """Rewrite the stdlib zip and each wheel in place with bytecode from the pinned interpreter.

    See bytecode.py. Results are cached by input sha256: the pinned files
    compile once per machine, the engine wheel whenever it changes.
    """
    cache.mkdir(parents=True, exist_ok=True)
    tool = sha256(ROOT / "build_scripts" / "bytecode.py")[:8]  # a changed compiler invalidates the cache
    cached = {f: cache / f"{sha256(f)[:24]}-{tool}-{f.name}" for f in [stdlib, *wheels]}
    todo = []
    for f, out in cached.items():
        if not out.exists():
            todo += (["--stdlib"] if f == stdlib else []) + [str(f), str(out)]
    if todo:
        node = shutil.which("node")
        if node is None:
            raise SystemExit("node is needed to compile the bytecode (apt install nodejs)")
        # Its one JSON line per file (modules compiled) is a detail: said with PIXELPRESS_VERBOSE=1 only.
        done = subprocess.run([node, str(ROOT / "build_scripts" / "bytecode.mjs"), str(core), *todo],
                              check=True, stdout=subprocess.PIPE, text=True)
        if os.environ.get("PIXELPRESS_VERBOSE", "") not in ("", "0"):
            print(done.stdout, end="", flush=True)
    for f, out in cached.items():
        shutil.copyfile(out, f)


def write_lock(official: Path, engine_wheel: Path, dest: Path) -> dict:
    lock = json.loads(official.read_text())
    packages = {}
    for name, pin in WHEELS.items():
        entry = dict(lock["packages"][name])
        if entry["file_name"] != pin["file"]:
            raise SystemExit(f"lock entry {name} names {entry['file_name']}, pinned {pin['file']}")
        # The pinned file with bytecode added (add_bytecode); the pin itself was checked before.
        entry["sha256"] = sha256(dest.parent / pin["file"])
        packages[name] = entry
    version = engine_wheel.name.split("-")[1]
    packages["pixelpress"] = {
        "name": "pixelpress", "version": version, "file_name": engine_wheel.name,
        "install_dir": "site", "sha256": sha256(dest.parent / engine_wheel.name), "package_type": "package",
        "imports": ["pixelpress"], "depends": ["pillow"], "unvendored_tests": False,
    }
    site_lock = {"info": lock["info"], "packages": packages}
    dest.write_text(json.dumps(site_lock, indent=1, sort_keys=True))
    return site_lock


def copy_model(out: Path) -> dict:
    """The network and its runtime's wasm, as the manifest names them for the model worker."""
    sys.path.insert(0, str(ROOT / "py"))
    from pixelpress.saliency import MODEL

    src = MODELS / MODEL.file
    if not src.exists() or sha256(src) != MODEL.sha256:
        raise SystemExit(f"{src} missing or not the pinned model: run build_scripts/fetch_model.py")
    (out / "models").mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, out / "models" / MODEL.file)
    return {"model": f"models/{MODEL.file}", "runtime": "vendor/ort/ort-wasm-simd-threaded.wasm"}


def engine_facts() -> dict:
    """What the page must know of the engine before Python runs, beyond the op schema: client/engine-facts.js.

    - the formats (pixelpress.formats.facts(): MIME types, extensions, magic bytes, which are read and
      written, output side caps) and the caps of every decode (`max_bytes`, `max_pixels`);
    - the engine's error codes, each with `input_fault`: true where the same file fails the same way
      every time (the studio offers no Retry for those);
    - the file-name alphabet of name options (`file_name`: `chars`, a regex character class body, and
      `pattern`, the whole rule), which the studio's names and the command line's follow;
    - the matte confidence under which a cut-out is doubtful (`matte.low_confidence`: the studio offers its
      touch-up brush on such a row).
    """
    sys.path.insert(0, str(ROOT / "py"))
    from pixelpress import errors, formats, options
    from pixelpress.matte.neural import LOW_CONFIDENCE

    return {**formats.facts(),
            "errors": {cls.code: {"input_fault": cls.input_fault} for cls in errors.classes()},
            "file_name": {"chars": options.NAME_CHARS, "pattern": options.NAME_PATTERN.pattern,
                          "max_length": options.NAME_MAX},
            "matte": {"low_confidence": LOW_CONFIDENCE}}


def write_engine_modules(out: Path) -> None:
    """What the page and the worker must know of the engine before Python runs, as JS modules.

    ui/schema.js: every op's option schema, which the studio's views read.
    worker/operations.js: every op's packages, model and progress flags, so
    the worker loads what an op needs before importing it.
    client/engine-facts.js: the formats, caps, error codes and file-name
    alphabet (engine_facts), which the client's capability report, its URL
    fetch, the studio's header sniffer and its Retry rule read.
    client/*.d.ts: TypeScript declarations of the client, its options typed
    from the same schema (client_types.py).
    """
    sys.path.insert(0, str(ROOT / "py"))
    from pixelpress import errors
    from pixelpress.registry import catalogue
    from pixelpress.schema import schema

    for dest, data in ((out / "ui" / "schema.js", schema()), (out / "worker" / "operations.js", catalogue()),
                       (out / "client" / "engine-facts.js", engine_facts())):
        dest.write_text("// Generated by build_scripts/build_site.py from the engine's op specs; do not edit.\n"
                        f"export default {json.dumps(data, indent=1, sort_keys=True)};\n")
    write_types(out, schema(), catalogue(), list(errors.codes()))


def write_package(out: Path, manifest: dict, version: str) -> None:
    """dist/package.json: dist/ as the client's npm package, types and all (see docs/embedding.md)."""
    shutil.copytree(PACKAGE, out, dirs_exist_ok=True)
    package = {
        "name": "pixelpress",
        "version": version,
        "description": "pixelpress in the browser: an image engine (Pillow, NumPy, OpenCV in Pyodide) "
                       "in Web Workers, with a client, TypeScript types and a server-first fallback helper.",
        "license": "MIT",
        "type": "module",
        "sideEffects": False,
        "main": "./client/pixelpress.js",
        "types": "./client/pixelpress.d.ts",
        "exports": {
            ".": {"types": "./client/pixelpress.d.ts", "default": "./client/pixelpress.js"},
            "./remote": {"types": "./client/remote.d.ts", "default": "./client/remote.js"},
            "./asset-manifest.json": "./asset-manifest.json",
            "./package.json": "./package.json",
        },
        "bin": {"pixelpress-copy-runtime": "bin/pixelpress-copy-runtime.mjs"},
        "engines": {"node": ">=18"},
        "pixelpress": {"build": manifest["version"], "pyodide": manifest["pyodide"]},
    }
    (out / "package.json").write_text(json.dumps(package, indent=2) + "\n")


def build(cache: Path, out: Path) -> None:
    core, wheels = cache / "core", cache / "wheels"
    missing = [f for f in CORE_FILES if not (core / f).exists()]
    missing += [p["file"] for p in WHEELS.values() if not (wheels / p["file"]).exists()]
    if missing:
        raise SystemExit(f"runtime not fetched ({', '.join(missing)}): run build_scripts/fetch_runtime.py")
    for p in WHEELS.values():
        if sha256(wheels / p["file"]) != p["sha256"]:
            raise SystemExit(f"{p['file']} in the cache does not match its pin; delete it and fetch again")

    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(WEB, out)
    runtime = out / "pyodide"
    runtime.mkdir()
    for f in CORE_FILES:
        if f != "pyodide-lock.json":
            shutil.copy2(core / f, runtime / f)
    for p in WHEELS.values():
        shutil.copy2(wheels / p["file"], runtime / p["file"])
    wheel = build_engine_wheel()
    shutil.copy2(wheel, runtime / wheel.name)
    add_bytecode(core, runtime / "python_stdlib.zip",
                 [runtime / p["file"] for p in WHEELS.values()] + [runtime / wheel.name], cache.parent / "bytecode")
    lock = write_lock(core / "pyodide-lock.json", wheel, runtime / "pyodide-lock.json")
    shutil.rmtree(wheel.parent, ignore_errors=True)
    check_heif()
    check_npm_pins(*ORT_WEB_NPM, {f"dist/{f}": sha for f, sha in ORT_WEB_FILES.items()})
    for src, dst in VENDOR.items():
        if not (ROOT / src).exists():
            raise SystemExit(f"{src} missing: run `npm ci` first")
        (out / dst).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / src, out / dst)
    write_heif_notice(out)

    model = copy_model(out)
    write_engine_modules(out)

    files = sorted(p for p in out.rglob("*") if p.is_file())
    manifest = {
        "version": lock["packages"]["pixelpress"]["sha256"][:12],
        "pyodide": PYODIDE_VERSION,
        "files": {p.relative_to(out).as_posix(): {"bytes": p.stat().st_size, "sha256": sha256(p)} for p in files},
        "packages": {name: e["file_name"] for name, e in lock["packages"].items()},
        "model": model,
        # What a browser with WebGPU fetches instead of model.runtime (web/worker/model-worker.js).
        "model_webgpu": {"runtime": "vendor/ort/ort-wasm-simd-threaded.jsep.wasm"},
        # Served, but not stored for offline use by the service worker (web/sw.js): 22 MB that only a browser
        # with a hardware WebGPU adapter fetches; offline, such a browser runs the wasm build like any other.
        "on_demand": [f"vendor/ort/{f}" for f in ORT_WEBGPU_ONLY],
    }
    (out / "asset-manifest.json").write_text(json.dumps(manifest, indent=1))
    write_package(out, manifest, lock["packages"]["pixelpress"]["version"])
    total = sum(f["bytes"] for f in manifest["files"].values())
    where = out.relative_to(ROOT) if out.is_relative_to(ROOT) else out
    print(f"[build] {where}/ ready: {len(files)} files, {total / 1e6:.1f} MB, version {manifest['version']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--out", type=Path, default=ROOT / "dist")
    args = ap.parse_args()
    build(args.cache, args.out.resolve())


if __name__ == "__main__":
    main()
