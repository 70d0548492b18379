"""`pixelpress ARGS` as a user runs it: a subprocess over real files (the catalogue tests' runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def env() -> dict:
    path = os.pathsep.join([str(ROOT / "py")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
    return dict(os.environ, PYTHONPATH=path)


def command(*args: str, pre: str = "") -> list[str]:
    """The command line; `pre` is Python run first in the main process (to block a module, or fake the memory)."""
    return [sys.executable, "-c", f"{pre}\nimport sys\nfrom pixelpress.cli import main\nsys.exit(main())", *args]


def cli(*args: str, cwd: Path, pre: str = "", stdin: bytes | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Its exit status, stdout (bytes when `stdin` is given, else text) and stderr."""
    run = subprocess.run(command(*args, pre=pre), cwd=cwd, env=env(), capture_output=True, input=stdin, timeout=timeout)
    if stdin is None:
        run.stdout = run.stdout.decode()
    run.stderr = run.stderr.decode()
    return run


def manifest(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def opened(path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return im


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, by its path inside it."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def photos(folder: Path, n: int, size: tuple[int, int] = (320, 240), quality: int = 88) -> list[Path]:
    """`n` different real photos as JPEGs: crops of the sample photos at shifting places, resized to `size`."""
    import samples

    folder.mkdir(parents=True, exist_ok=True)
    sources = [samples.image(name).convert("RGB") for name in samples.PHOTOS]
    out = []
    for i in range(n):
        im = sources[i % len(sources)]
        w, h = im.size
        shift = (i // len(sources)) % 8
        box = (shift * w // 40, shift * h // 40, w - (7 - shift) * w // 40, h - (7 - shift) * h // 40)
        path = folder / f"photo{i:03d}.jpg"
        im.crop(box).resize(size, Image.Resampling.BILINEAR).save(path, "JPEG", quality=quality)
        out.append(path)
    return out
