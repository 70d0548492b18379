"""What a browser downloads to run each operation for the first time, from a built dist/.

    python build_scripts/download_sizes.py [--dist DIST]

Read from the build itself: the sizes in asset-manifest.json, the packages
each op loads from worker/operations.js (the engine's op specs), their
dependencies from pyodide/pyodide-lock.json, and the model files the
manifest names. Every op pays for the client, the worker, the runtime and
the engine's two wheels (pixelpress, Pillow); OpenCV ops add numpy and
OpenCV; ops that use the network add onnxruntime-web and the model; the first
HEIC a worker opens adds libheif (vendor/heif/), whatever the op. "gzip"
is each file compressed at level 6, what a host that compresses responses
sends (wheels and the stdlib are zips already and barely shrink). A second
visit downloads none of it: the browser's cache, the studio's service worker
or the interpreter snapshot serve it.
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ["asset-manifest.json", "pyodide/pyodide.mjs", "pyodide/pyodide.asm.js", "pyodide/pyodide.asm.wasm",
           "pyodide/python_stdlib.zip", "pyodide/pyodide-lock.json"]
ENGINE_PACKAGES = ["pixelpress", "pillow"]  # web/worker/boot.js loads these before any job


def js_module(path: Path) -> dict:
    text = path.read_text()
    return json.loads(text[text.index("export default") + len("export default"):].strip().rstrip(";"))


def with_depends(names: list[str], lock: dict) -> list[str]:
    out: list[str] = []
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name in out:
            continue
        out.append(name)
        todo += lock["packages"][name].get("depends", [])
    return out


def sizes(dist: Path) -> dict:
    manifest = json.loads((dist / "asset-manifest.json").read_text())
    files = manifest["files"]
    files["asset-manifest.json"] = {"bytes": (dist / "asset-manifest.json").stat().st_size}
    lock = json.loads((dist / "pyodide" / "pyodide-lock.json").read_text())
    ops = js_module(dist / "worker" / "operations.js")

    zipped: dict[str, int] = {}

    def gz(path: str) -> int:
        if path not in zipped:
            zipped[path] = len(gzip.compress((dist / path).read_bytes(), compresslevel=6))
        return zipped[path]

    code = sorted(p for p in files if p.endswith(".js") and p.startswith(("client/", "worker/"))
                  and p not in ("client/remote.js", "worker/model-worker.js"))
    wheel = lambda name: f"pyodide/{lock['packages'][name]['file_name']}"  # noqa: E731
    model = ["worker/model-worker.js", *sorted(p for p in files if p.startswith("vendor/ort/")), manifest["model"]["model"]]
    groups = {
        "client and worker code": code,
        "runtime (Pyodide core and stdlib)": RUNTIME,
        "engine wheels (pixelpress, Pillow)": [wheel(n) for n in with_depends(ENGINE_PACKAGES, lock)],
    }
    per_op = {}
    for op, entry in ops.items():
        extra = [wheel(n) for n in with_depends(entry["packages"], lock) if n not in with_depends(ENGINE_PACKAGES, lock)]
        paths = [p for g in groups.values() for p in g] + extra + (model if entry["model"] else [])
        per_op[op] = {"bytes": sum(files[p]["bytes"] for p in paths), "gzip": sum(gz(p) for p in paths),
                      "packages": entry["packages"], "model": entry["model"]}
    parts = {name: {"bytes": sum(files[p]["bytes"] for p in g), "gzip": sum(gz(p) for p in g)}
             for name, g in {**groups,
                             "numpy + OpenCV wheels": [wheel("numpy"), wheel("opencv-python")],
                             "onnxruntime-web + the model": model,
                             "libheif (the first HEIC)": sorted(p for p in files if p.startswith("vendor/heif/")
                                                                and p.endswith((".js", ".mjs")))}.items()}
    return {"version": manifest["version"], "parts": parts, "ops": per_op}


def mb(n: int) -> str:
    return f"{n / 1e6:6.1f} MB" if n >= 1e6 else f"{n / 1e3:6.0f} kB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dist", type=Path, default=ROOT / "dist")
    args = ap.parse_args()
    s = sizes(args.dist)
    print(f"build {s['version']}: first-visit download, raw and gzip")
    for name, p in s["parts"].items():
        print(f"  {name:38} {mb(p['bytes'])}  {mb(p['gzip'])}")
    by_total: dict[tuple, list[str]] = {}
    for op, o in s["ops"].items():
        by_total.setdefault((o["bytes"], o["gzip"], ", ".join(o["packages"]), o["model"]), []).append(op)
    print("per operation (everything above that it needs):")
    for (raw, zipped, packages, model), names in sorted(by_total.items()):
        what = packages + (" + onnxruntime-web + model" if model else "")
        print(f"  {', '.join(names)}\n      {mb(raw)}  {mb(zipped)}   ({what})")


if __name__ == "__main__":
    main()
