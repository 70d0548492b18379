"""The engine loads only the Pillow plugins for formats it accepts or writes.

Pillow's full plugin set costs ~330 ms to import in the browser worker, on
the user's first file; it also brings decoders for formats formats.FORMATS
refuses. A fresh interpreter converts every accepted format to every output
format and must end with only the allowlisted plugins imported.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import samples
from pixelpress.formats import FORMATS

ROOT = Path(__file__).resolve().parents[2]
# Ours, plus PPM: Pillow's preinit() always imports its five most common formats.
# The formats Pillow's own plugins read (HEIC is pi-heif's, which registers itself on the first HEIC).
PILLOW_READS = [f.pillow for f in FORMATS.values() if f.open is None]
ALLOWED = {f"PIL.{n}ImagePlugin" for n in ("Avif", "Bmp", "Gif", "Ico", "Jpeg", "Png", "Tiff", "WebP", "Ppm")}

CHILD = r"""
import json, sys
from pathlib import Path
from pixelpress.ops.convert import convert
out = {}
for path in sorted(Path(sys.argv[1]).iterdir()):
    for fmt in ("jpeg", "png", "webp", "avif"):
        r = convert(path.read_bytes(), {"format": fmt})
        out[f"{path.stem}->{fmt}"] = [r.mime, [r.meta["width"], r.meta["height"]]]
plugins = sorted(m for m in sys.modules if m.startswith("PIL.") and m.endswith("ImagePlugin"))
print(json.dumps({"results": out, "plugins": plugins}))
"""


def test_converting_every_format_imports_only_the_allowlisted_plugins(tmp_path):
    src = samples.image("chelsea.png")
    for fmt in PILLOW_READS:
        (tmp_path / fmt.lower()).write_bytes(samples.encode(src, fmt))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "py")}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    report = json.loads(proc.stdout)
    assert len(report["results"]) == len(PILLOW_READS) * 4
    for key, (mime, size) in report["results"].items():
        assert mime == "image/" + key.split("->")[1], key
        assert size == list(src.size), key
    assert set(report["plugins"]) <= ALLOWED, set(report["plugins"]) - ALLOWED
    # and the plugins really are the ones doing the work
    assert {"PIL.JpegImagePlugin", "PIL.PngImagePlugin", "PIL.WebPImagePlugin"} <= set(report["plugins"])
