"""Run every op over the same cases with the engine of two trees and report every difference.

For refactors that must keep behaviour: each output's bytes (by sha256), its
MIME type, its meta (timings left out: they are the only thing allowed to
move), every further output of multi-output ops, and every error (code and
message) must be the same in both trees. The engine of each tree runs in a
subprocess of its own, with that tree's `py/` first on PYTHONPATH, on the
same input files: real photos by path (tests/samples.py's and
/work/shared/matte-real-dev's), and the same photo written once in every
readable format, with EXIF orientation, CMYK, 16-bit and alpha.

    .venv/bin/python bench/compare_trees.py [--base REF] [--head DIR] [--quick]

`--base` is a git ref checked out into a temporary worktree (default main),
`--head` the tree to compare with it (default this one). Prints one line per
difference and a summary; exits 1 if any output byte or meta differs.
A bench script, not a test: it takes minutes and needs two trees.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests")]

MATTE_REAL = Path("/work/shared/matte-real-dev/images")
HEIC = ROOT / ".cache" / "heic-tests" / "heif_other" / "pug.heic"

PLAYERS = [{"number": n, "name": name} for n, name in ((1, "Ana Silva"), (7, "Bo Chen"), (10, "Cy Okafor"))]
TEAM = {"team_name": "Harbour Hawks", "sport": "Hockey", "players": PLAYERS}

# op -> (option sets, which inputs: "all", "photos", "cutouts", "cars", "logos", "few")
PLAN: dict[str, tuple[list[dict], str]] = {
    "convert": ([{}, {"format": "png"}, {"format": "webp"}, {"format": "webp", "lossless": True},
                 {"format": "avif"}, {"format": "jpeg", "quality": 60, "progressive": True, "max_width": 300},
                 {"format": "png", "keep_metadata": True}, {"format": "webp", "webp_method": 4, "max_height": 200},
                 {"format": "jpeg", "keep_metadata": True, "background": "#ff0000", "flatten": True}], "all"),
    "autocrop": ([{}, {"padding": 10, "white_threshold": 240}], "all"),
    "oil_paint": ([{}, {"brush_size": 3, "intensity": 4, "format": "png", "max_width": 256}], "few"),
    "drop_shadow": ([{}, {"style": "floor", "opacity": 80}], "cutouts"),
    "remove_background": ([{"provider": "classical"}, {"provider": "local", "feather": 3}], "cars"),
    "car_listing": ([{"provider": "classical"}, {"provider": "local", "shadow_style": "drop"}], "cars"),
    "listing_variants": ([{}, {"grid_width": 300, "grid_height": 200, "detail_width": 600, "detail_height": 400}],
                         "cutouts"),
    "logo_cleanup": ([{}, {"background": "keep", "max_colors": 3}], "logos"),
    "upscale": ([{}, {"factor": 3, "mode": "photo", "format": "jpeg"}], "few"),
    "web_sizes": ([{"avif": False}, {"widths": [160, 320], "base_name": "hero"}], "few"),
    "roster_banner": ([TEAM, {**TEAM, "size": "1200x630", "format": "jpeg"}], "logos"),
    "tshirt_mockup": ([{"name": "Silva", "number": 7}, {"view": "back", "format": "png", "shirt_color": "#0b3d91"}],
                      "logos"),
    "asset_pack": ([TEAM], "logos"),
}


def write_cases(folder: Path, quick: bool) -> dict[str, list[str]]:
    """The input files, written once for both trees: {group: [path, ...]}."""
    import logos
    import samples
    from PIL import Image

    photos = [str(samples.path(n)) for n in samples.PHOTOS]
    real = sorted(str(p) for p in MATTE_REAL.glob("*.jpg"))
    base = samples.image("chelsea.png").convert("RGB")

    def put(name: str, data: bytes) -> str:
        (folder / name).write_bytes(data)
        return str(folder / name)

    made = [put(f"chelsea.{ext}", samples.encode(base, fmt)) for ext, fmt in (
        ("webp", "WEBP"), ("gif", "GIF"), ("bmp", "BMP"), ("tif", "TIFF"), ("avif", "AVIF"))]
    made.append(put("chelsea-deflate.tif", samples.encode(base, "TIFF", compression="tiff_adobe_deflate")))
    exif = Image.Exif()
    exif[0x0112] = 6
    made.append(put("chelsea-rot6.jpg", samples.encode(base, "JPEG", exif=exif.tobytes(), quality=90)))
    made.append(put("chelsea-cmyk.jpg", samples.encode(base.convert("CMYK"), "JPEG")))
    made.append(put("chelsea-16.png", samples.encode(base.convert("L").convert("I;16"), "PNG")))
    cutouts = [put("cutout.png", samples.encode(samples.cutout(), "PNG")),
               put("cutout-small.webp", samples.encode(samples.cutout("astronaut.png").resize((256, 256)), "WEBP",
                                                       lossless=True))]
    marks = [put("shield.png", logos.png(logos.shield())), put("circle.jpg", logos.noisy_jpeg(logos.circle()))]
    made += [put("empty.png", b""), put("not-an-image.txt", b"hello, not an image")]
    if HEIC.exists():
        made.append(str(HEIC))  # read by the head tree only: a difference, said so in the report
    cars = [p for p in real if "carvana" in p][:3] + [p for p in real if "carvana" not in p][:2]
    groups = {"all": photos + real + made + cutouts, "few": photos[:2] + real[:1] + made[-4:-2],
              "cutouts": cutouts + photos[:1], "cars": cars, "logos": marks + photos[:1]}
    if quick:
        groups = {k: v[:3] for k, v in groups.items()}
    return groups


CHILD = r"""
import hashlib, json, sys
from pixelpress.registry import resolve
from pixelpress.errors import PixelpressError

plan, groups = json.loads(sys.stdin.read())

def digest(data):
    return hashlib.sha256(data).hexdigest()

def clean(meta):
    # Timings, at any depth (a matte's own), are the one thing allowed to move.
    if isinstance(meta, dict):
        return {k: clean(v) for k, v in meta.items() if k != "timings_ms"}
    if isinstance(meta, list):
        return [clean(v) for v in meta]
    return meta

out = {}
for op, (option_sets, group) in plan.items():
    fn = resolve(op)
    for k, options in enumerate(option_sets):
        for path in groups[group]:
            key = f"{op}#{k} {path}"
            try:
                r = fn(open(path, "rb").read(), options)
            except PixelpressError as exc:
                out[key] = {"error": [exc.code, exc.message]}
                continue
            except Exception as exc:  # a crash is a difference worth seeing too
                out[key] = {"crash": f"{type(exc).__name__}: {exc}"}
                continue
            out[key] = {"sha256": digest(r.data), "mime": r.mime, "meta": clean(r.meta),
                        "extras": [[e.name, e.mime, digest(e.data), clean(e.meta)] for e in r.extras]}
            print(".", end="", file=sys.stderr, flush=True)
json.dump(out, sys.stdout, sort_keys=True, default=str)
"""


def run_tree(tree: Path, plan: dict, groups: dict, log: Path) -> subprocess.Popen:
    # Both trees read the one model this checkout has, and never fetch.
    env = {**os.environ, "PYTHONPATH": str(tree / "py"), "PYTHONHASHSEED": "0",
           "PIXELPRESS_MODEL_DIR": str(ROOT / ".cache" / "models"), "PIXELPRESS_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=tree, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=log.open("w"), text=True)
    proc.stdin.write(json.dumps([plan, groups]))
    proc.stdin.close()
    return proc


def which_engine(tree: Path) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree / "py")}
    return subprocess.run([sys.executable, "-c", "import pixelpress; print(pixelpress.__file__)"], env=env,
                          capture_output=True, text=True, check=True).stdout.strip()


def differences(a: dict, b: dict) -> list[str]:
    lines = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if x == y:
            continue
        if x is None or y is None:
            lines.append(f"{key}: only in {'head' if x is None else 'base'}")
            continue
        if "sha256" in x and "sha256" in y:
            what = []
            if x["sha256"] != y["sha256"] or x["mime"] != y["mime"]:
                what.append("OUTPUT BYTES")
            for k in sorted(set(x["meta"]) | set(y["meta"])):
                if x["meta"].get(k) != y["meta"].get(k):
                    what.append(f"meta[{k}]: {x['meta'].get(k)!r} -> {y['meta'].get(k)!r}")
            if x["extras"] != y["extras"]:
                what.append("extra outputs")
            lines.append(f"{key}: " + "; ".join(what))
        else:
            lines.append(f"{key}: {json.dumps(x)[:300]} -> {json.dumps(y)[:300]}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default="main", help="git ref of the tree to compare against (default main)")
    ap.add_argument("--head", type=Path, default=ROOT, help="the tree under test (default this one)")
    ap.add_argument("--quick", action="store_true", help="three inputs per group: a smoke run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="compare-trees-") as tmp:
        tmp = Path(tmp)
        base = tmp / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(base), args.base],
                       check=True)
        try:
            # The engine's gitignored package data (the fetched fonts) is not in a fresh worktree: the base
            # gets the head tree's, so both draw text alike.
            fonts = args.head / "py" / "pixelpress" / "fonts"
            if fonts.is_dir():
                shutil.copytree(fonts, base / "py" / "pixelpress" / "fonts", dirs_exist_ok=True)
            cases = tmp / "cases"
            cases.mkdir()
            groups = write_cases(cases, args.quick)
            print(f"base {args.base}: {which_engine(base)}\nhead: {which_engine(args.head)}")
            n = sum(len(sets) * len(groups[g]) for sets, g in PLAN.values())
            print(f"{n} runs per tree ({len(PLAN)} ops)", flush=True)
            procs = {name: run_tree(tree, PLAN, groups, tmp / f"{name}.log")
                     for name, tree in (("base", base), ("head", args.head))}
            got = {}
            for name, proc in procs.items():
                stdout = proc.stdout.read()
                if proc.wait() != 0:
                    print((tmp / f"{name}.log").read_text()[-3000:])
                    return 2
                got[name] = json.loads(stdout)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False)
    lines = differences(got["base"], got["head"])
    for line in lines:
        print(line.replace(str(tmp) + "/cases/", ""))
    outputs = [k for k, v in got["base"].items() if "sha256" in v]
    same_bytes = sum(1 for k in outputs if got["base"][k]["sha256"] == got["head"].get(k, {}).get("sha256"))
    same_meta = sum(1 for k in outputs if got["base"][k] == got["head"].get(k))
    errors = sum(1 for v in got["base"].values() if "error" in v)
    print(f"{len(got['base'])} runs: of base's {len(outputs)} outputs {same_bytes} byte-identical in head, "
          f"{same_meta} with identical meta and extras; {errors} typed errors in base; {len(lines)} differing runs")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
