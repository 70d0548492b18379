"""The hostile-input corpus (issue 11): every file a user, a fuzzer or an attacker might hand us.

Two halves:
- Pillow's own test images (odd modes, fuzz crashers, bombs, every format it
  reads), fetched from the pinned Pillow sdist by build_scripts/fetch_test_images.py;
- crafted files from a seeded generator: truncated and bit-flipped photos,
  header bombs, huge metadata, extreme aspect ratios, impostor formats.

`outcome()` reduces an engine answer to what must agree between the native
engine and the browser worker, and `native_outcomes()` computes the native
side once per test session (the engine and the browser suites share it), in
child processes, so that a crash or a hang is seen as one instead of taking
pytest down.
"""

from __future__ import annotations

import base64
import functools
import io
import json
import os
import select
import struct
import subprocess
import sys
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np
import samples
from PIL import Image, PngImagePlugin

ROOT = Path(__file__).resolve().parent.parent
PILLOW_IMAGES = ROOT / ".cache" / "pillow-tests"
SEED = 1427
HANG_SECONDS = 60  # per file; the slowest honest file in the corpus takes about 3 s
FORMATS = ("jpeg", "png", "webp")  # convert's target, cycled through the corpus


# ---------------------------------------------------------------- Pillow's test images


def pillow_images() -> list[Path]:
    if not (PILLOW_IMAGES / ".sha256").exists():
        subprocess.run([sys.executable, str(ROOT / "build_scripts" / "fetch_test_images.py")], check=True)
    return sorted(p for p in PILLOW_IMAGES.rglob("*") if p.is_file() and p.name != ".sha256")


# ---------------------------------------------------------------- crafted files


def _bases() -> dict[str, bytes]:
    """Real photographs, small, in every format the engine takes."""
    photo = samples.image("chelsea.png").convert("RGB").resize((300, 200), Image.Resampling.LANCZOS)
    rgba = photo.copy()
    rgba.putalpha(Image.radial_gradient("L").resize(photo.size))
    return {
        "jpeg": samples.encode(photo, "JPEG", quality=88),
        "progressive.jpeg": samples.encode(photo, "JPEG", quality=80, progressive=True),
        "png": samples.encode(photo, "PNG"),
        "rgba.png": samples.encode(rgba, "PNG"),
        "palette.png": samples.encode(photo.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
        "webp": samples.encode(photo, "WEBP", quality=80),
        "lossless.webp": samples.encode(rgba, "WEBP", lossless=True),
        "gif": samples.encode(photo.convert("P", palette=Image.Palette.ADAPTIVE), "GIF"),
        "tif": samples.encode(photo, "TIFF"),
        "bmp": samples.encode(photo, "BMP"),
    }


def _truncated(bases: dict[str, bytes]):
    for name, data in bases.items():
        for cut in sorted({1, 8, 33, len(data) // 10, len(data) // 2, len(data) * 9 // 10, len(data) - 40, len(data) - 1}):
            yield f"truncated-{cut}.{name}", data[:cut]


def _bit_flipped(bases: dict[str, bytes], rng: np.random.Generator):
    for name, data in bases.items():
        for flips in (1, 8, 64, 512):
            for trial in range(3):
                buf = bytearray(data)
                lo = 0 if trial == 0 else 64  # one trial may hit the header
                for pos in rng.integers(lo, len(buf), flips):
                    buf[pos] ^= 1 << int(rng.integers(0, 8))
                yield f"flipped-{flips}x{trial}.{name}", bytes(buf)
        for start in (0, 12, 24):  # a run of garbage across the header
            buf = bytearray(data)
            buf[start:start + 16] = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
            yield f"header-garbage-{start}.{name}", bytes(buf)


def _header_bombs():
    """Small files whose headers claim a huge picture."""
    row = b"\x00" + b"\x80" * 3 * 16
    for w, h in ((100_000, 100_000), (65_535, 65_535), (8_000, 7_000), (2**31 - 1, 1), (0, 10), (10, 0)):
        yield f"bomb-png-{w}x{h}.png", samples.raw_png(w, h, row * 16)
    # A real zlib bomb: 20000x20000 black (400 MP) in about 400 kB.
    yield "zlib-bomb-20000x20000.png", samples.raw_png(20_000, 20_000, (b"\x00" * 20_001) * 20_000, colour=0, level=9)
    # JPEG: a valid small photo whose SOF0 claims 65500x65500.
    jpeg = bytearray(samples.encode(Image.new("RGB", (64, 64), (90, 120, 40)), "JPEG"))
    i = jpeg.find(b"\xff\xc0")
    jpeg[i + 5:i + 9] = struct.pack(">HH", 65_500, 65_500)
    yield "bomb-jpeg-65500x65500.jpg", bytes(jpeg)
    jpeg[i + 5:i + 9] = struct.pack(">HH", 0, 0)
    yield "jpeg-sof-0x0.jpg", bytes(jpeg)
    # WebP VP8X canvas 16383x16383 around a tiny frame (the opener allocates the canvas).
    small = samples.encode(Image.new("RGB", (16, 16), (200, 10, 10)), "WEBP", lossless=True)
    vp8l = small[12:]
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x10, 0, 0, 0]) + (16382).to_bytes(3, "little") * 2
    body = b"WEBP" + vp8x + vp8l
    yield "bomb-webp-vp8x-16383.webp", b"RIFF" + struct.pack("<I", len(body)) + body
    # GIF: a 65535x65535 logical screen around a 1x1 frame.
    gif = bytearray(samples.encode(Image.new("P", (1, 1)), "GIF"))
    gif[6:10] = struct.pack("<HH", 65_535, 65_535)
    yield "bomb-gif-screen-65535.gif", bytes(gif)
    # BMP and TIFF headers claiming 50000x50000.
    bmp = bytearray(samples.encode(Image.new("RGB", (4, 4)), "BMP"))
    bmp[18:26] = struct.pack("<ii", 50_000, 50_000)
    yield "bomb-bmp-50000.bmp", bytes(bmp)
    bmp[18:26] = struct.pack("<ii", 50_000, -50_000)
    yield "bomb-bmp-topdown-50000.bmp", bytes(bmp)
    tif = bytearray(samples.encode(Image.new("L", (4, 4)), "TIFF"))
    for tag in (256, 257):  # ImageWidth, ImageLength: Pillow writes them as one LONG, held in the entry
        j = tif.index(struct.pack("<HHI", tag, 4, 1))
        tif[j + 8:j + 12] = struct.pack("<I", 100_000)
    yield "bomb-tiff-header.tif", bytes(tif)


def _huge_metadata(rng: np.random.Generator):
    photo = samples.image("coffee.png").convert("RGB").resize((200, 133))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "x" * 4_000_000, zip=True)
    yield "png-4mb-ztxt.png", samples.encode(photo, "PNG", pnginfo=info)
    info = PngImagePlugin.PngInfo()
    for k in range(2000):
        info.add_text(f"k{k}", "v" * 50)
    yield "png-2000-text-chunks.png", samples.encode(photo, "PNG", pnginfo=info)
    raw = b"".join(b"\x00" + bytes(photo.tobytes()[r * 600:(r + 1) * 600]) for r in range(133))
    bogus_icc = b"icc\x00\x00" + zlib.compress(rng.integers(0, 256, 3_000_000, dtype=np.uint8).tobytes(), 1)
    yield "png-3mb-bogus-iccp.png", samples.raw_png(200, 133, raw, extra=samples.png_chunk(b"iCCP", bogus_icc))
    yield "png-bad-crc.png", samples.raw_png(200, 133, raw, extra=samples.png_chunk(b"tEXt", b"a\x00b", crc=1))
    yield "png-chunk-length-4g.png", samples.raw_png(200, 133, raw, extra=b"\xff\xff\xff\xf0tEXt" + b"a" * 32)
    # JPEG with sixty 64 kB APP segments and an EXIF block of 65 kB (the largest a segment holds).
    jpeg = samples.encode(photo, "JPEG", quality=85)
    apps = b"".join(b"\xff\xe4" + struct.pack(">H", 65_535) + rng.integers(0, 256, 65_533, dtype=np.uint8).tobytes()
                    for _ in range(60))
    yield "jpeg-60-app-segments.jpg", jpeg[:2] + apps + jpeg[2:]
    exif = Image.Exif()
    exif[0x010E] = "d" * 65_000  # ImageDescription
    yield "jpeg-65kb-exif.jpg", samples.encode(photo, "JPEG", exif=exif.tobytes())
    exif[0x010E] = "d" * 200_000  # more than a JPEG can carry; PNG and WebP can
    for k in range(6):  # every output format, with and without kept metadata, whatever the position
        yield f"png-200kb-exif-{k}.png", samples.encode(photo.rotate(k), "PNG", exif=exif.tobytes())
    big_icc = b"\x00" * 3_000_000
    yield "jpeg-3mb-zero-icc.jpg", samples.encode(photo, "JPEG", icc_profile=big_icc)
    yield "webp-3mb-zero-icc.webp", samples.encode(photo, "WEBP", icc_profile=big_icc)
    yield "tiff-3mb-zero-icc.tif", samples.encode(photo, "TIFF", icc_profile=big_icc)


def _extreme_aspect(rng: np.random.Generator):
    for w, h, fmt in ((1, 60_000, "PNG"), (60_000, 1, "PNG"), (1, 20_000, "JPEG"), (16_383, 1, "WEBP"),
                      (2, 30_000, "GIF"), (40_000, 2, "BMP"), (3, 20_000, "TIFF")):
        im = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        if fmt == "GIF":
            im = im.convert("P")
        yield f"aspect-{w}x{h}.{fmt.lower()}", samples.encode(im, fmt)


def _impostors(bases: dict[str, bytes], rng: np.random.Generator):
    yield "empty.jpg", b""
    yield "one-byte.png", b"\x89"
    yield "text.png", b"this is not a picture\n" * 20
    yield "page.html.jpg", b"<!doctype html><html><body><img src=x onerror=alert(1)></body></html>"
    yield "drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="99999" height="99999"><rect/></svg>'
    yield "document.pdf", b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
    yield "archive.zip", b"PK\x03\x04" + rng.integers(0, 256, 500, dtype=np.uint8).tobytes()
    yield "compressed.gz", zlib.compress(bases["png"])
    yield "program.elf", b"\x7fELF\x02\x01\x01" + b"\x00" * 200
    for magic, name in ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff\xe0", "jpg"), (b"GIF89a", "gif"),
                        (b"RIFF\x00\x01\x00\x00WEBPVP8 ", "webp"), (b"BM", "bmp"), (b"II*\x00", "tif"),
                        (b"MM\x00*", "mm.tif"), (b"8BPS", "psd"), (b"\x00\x00\x01\x00", "ico")):
        for k in range(3):
            yield f"magic-then-noise-{k}.{name}", magic + rng.integers(0, 256, 64 << (3 * k), dtype=np.uint8).tobytes()
    yield "junk-before-jpeg.jpg", b"\x00" * 100 + bases["jpeg"]
    yield "png-with-1mb-trailer.png", bases["png"] + rng.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    yield "png-zip-polyglot.png", bases["png"] + b"PK\x03\x04" + b"\x00" * 100
    yield "jpeg-named-png.png", bases["jpeg"]
    for k in range(5):
        yield f"random-{k}.bin", rng.integers(0, 256, 1000 * (k + 1), dtype=np.uint8).tobytes()


def _odd_structure(rng: np.random.Generator):
    photo = samples.image("astronaut.png").convert("RGB").resize((120, 120))
    frames = [photo.rotate(k * 3) for k in range(300)]
    yield "gif-300-frames.gif", samples.encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=20)
    yield "apng-300-frames.png", samples.encode(frames[0], "PNG", save_all=True, append_images=frames[1:])
    pages = [photo.rotate(k * 10) for k in range(100)]
    yield "tiff-100-pages.tif", samples.encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    yield "png-16bit-rgb.png", samples.raw_png(64, 64, b"".join(b"\x00" + rng.integers(0, 256, 64 * 6, dtype=np.uint8).tobytes()
                                                     for _ in range(64)), bit_depth=16)
    trns16 = samples.png_chunk(b"tRNS", struct.pack(">HHH", 0, 0, 0))
    yield "png-16bit-rgb-trns.png", samples.raw_png(32, 32, (b"\x00" + b"\x00" * 192) * 16 + (b"\x00" + b"\xff" * 192) * 16,
                                         bit_depth=16, extra=trns16)
    pal = samples.png_chunk(b"PLTE", bytes(range(12)))  # four entries; the pixels use index 200
    yield "png-palette-index-out-of-range.png", samples.raw_png(16, 16, (b"\x00" + bytes([200]) * 16) * 16, colour=3, extra=pal)
    yield "png-2bit-grey.png", samples.raw_png(64, 8, (b"\x00" + rng.integers(0, 256, 16, dtype=np.uint8).tobytes()) * 8,
                                    bit_depth=2, colour=0)
    ihdr = samples.png_chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
    yield "png-no-idat.png", b"\x89PNG\r\n\x1a\n" + ihdr + samples.png_chunk(b"IEND", b"")
    yield "png-bad-colour-type.png", samples.raw_png(8, 8, b"\x00" * 200, colour=5)
    yield "png-bad-bit-depth.png", samples.raw_png(8, 8, b"\x00" * 200, bit_depth=7)
    gif = bytearray(samples.encode(photo.convert("P"), "GIF"))
    j = gif.find(b"\x2c")  # image descriptor: a frame larger than the screen, far outside it
    gif[j + 1:j + 9] = struct.pack("<HHHH", 60_000, 60_000, 500, 500)
    yield "gif-frame-outside-screen.gif", bytes(gif)
    cmyk = samples.encode(photo.convert("CMYK"), "JPEG", quality=85)
    yield "jpeg-cmyk.jpg", cmyk
    yield "tiff-cmyk.tif", samples.encode(photo.convert("CMYK"), "TIFF")
    yield "tiff-float32.tif", samples.encode(Image.fromarray(rng.standard_normal((64, 64)).astype(np.float32)), "TIFF")
    yield "tiff-int32.tif", samples.encode(Image.fromarray(rng.integers(-2**31, 2**31 - 1, (64, 64), dtype=np.int32)), "TIFF")
    for orient in range(0, 10):
        exif = Image.Exif()
        exif[0x0112] = orient
        yield f"jpeg-orientation-{orient}.jpg", samples.encode(photo, "JPEG", exif=exif.tobytes())


def _avif():
    """AVIF (issue 16): a photo, cut short, and headers claiming a huge picture or none at all."""
    photo = samples.image("chelsea.png").convert("RGB").resize((300, 200), Image.Resampling.LANCZOS)
    data = samples.encode(photo, "AVIF", quality=60, speed=9)
    yield "photo.avif", data
    for cut in (8, 33, len(data) // 2, len(data) - 40):
        yield f"truncated-{cut}.avif", data[:cut]
    at = data.find(b"ispe")
    yield "bomb-avif-ispe-60000.avif", data[:at + 8] + struct.pack(">LL", 60_000, 60_000) + data[at + 16:]
    yield "avif-no-ispe.avif", data.replace(b"ispe", b"ispx")


@functools.cache
def crafted() -> tuple[tuple[str, bytes], ...]:
    """The seeded crafted files, (name, bytes); the same bytes on every run."""
    rng = np.random.default_rng(SEED)
    bases = _bases()
    files = [*((f"intact.{k}", v) for k, v in bases.items()), *_truncated(bases), *_bit_flipped(bases, rng),
             *_header_bombs(), *_huge_metadata(rng), *_extreme_aspect(rng), *_impostors(bases, rng),
             *_odd_structure(rng), *_avif()]
    names = [n for n, _ in files]
    assert len(names) == len(set(names)), "crafted names must be unique"
    return tuple(files)


# ---------------------------------------------------------------- the corpus and its outcomes


@functools.cache
def corpus() -> tuple[tuple[str, bytes], ...]:
    pillow = tuple((f"pillow/{p.relative_to(PILLOW_IMAGES)}", p.read_bytes()) for p in pillow_images())
    return pillow + crafted()


def target(index: int) -> dict:
    """convert's options for the index-th file: each output format, with and without kept metadata."""
    return {"format": FORMATS[index % len(FORMATS)], "keep_metadata": index // len(FORMATS) % 2 == 1}


def subset(n: int) -> list[tuple[str, bytes]]:
    """n files for the other ops: the intact photos and the long thin strips (the slowest shapes
    for a filter), then a seeded draw from the rest."""
    files = corpus()
    first = [f for f in files if f[0].startswith(("intact.", "aspect-"))]
    rest = [f for f in files if f not in first]
    picks = np.random.default_rng(SEED).choice(len(rest), max(0, n - len(first)), replace=False)
    return first[:n] + [rest[i] for i in sorted(picks)]


# The team ops need a team; every other op runs at its defaults.
_TEAM = {"team_name": "Harbour Hawks", "players": [{"number": 7, "name": "Ada Byron"}, {"number": 10, "name": "Kit Lee"}]}
OP_OPTIONS = {"roster_banner": _TEAM, "asset_pack": _TEAM}


def op_jobs(n: int) -> list[tuple[str, str, bytes, dict]]:
    """Every op other than convert, at its defaults, over `subset(n)`: (name, op, data, options)."""
    from pixelpress.registry import OPS

    return [(f"{op}:{name}", op, data, OP_OPTIONS.get(op, {}))
            for op in OPS if op != "convert" for name, data in subset(n)]


def outcome(answer: dict) -> dict:
    """What must agree between native and worker: ok or the error code, and what came out.

    For pictures their sizes, for a ZIP its members' names; an output that
    cannot be read is {"code": "unreadable_output"}, a failure too.
    """
    if not answer.get("ok"):
        err = answer.get("error") or {}
        return {"code": err.get("code"), "message": err.get("message", "")}
    made = []
    for data in answer["outputs"]:
        data = bytes(data)
        try:
            if data[:4] == b"PK\x03\x04":
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    made.append(sorted(zf.namelist()))
            else:
                with Image.open(io.BytesIO(data)) as im:
                    im.load()
                    made.append(list(im.size))
        except Exception as exc:  # noqa: BLE001 - whatever the reader says, the output is broken
            return {"code": "unreadable_output", "message": repr(exc)}
    return {"code": "ok", "made": made}


def _serve() -> None:
    """The child side of `run_native`: one JSON job per stdin line, one outcome per stdout line."""
    from pixelpress import bridge

    for line in sys.stdin:
        job = json.loads(line)
        answer = bridge.run(job["op"], base64.b64decode(job["data"]), json.dumps(job["options"]))
        if answer.get("ok"):
            answer = {"ok": True, "outputs": [output["data"] for output in answer["outputs"]]}
        print(json.dumps(outcome(answer)), flush=True)


class _Child:
    """One native engine process; replaced when it dies or hangs."""

    def __init__(self):
        path = os.pathsep.join([str(ROOT / "py"), str(ROOT / "tests")])
        self.proc = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, cwd=ROOT, text=True,
                                     env={**os.environ, "PYTHONPATH": path})

    def run(self, op: str, data: bytes, options: dict) -> dict:
        try:
            self.proc.stdin.write(json.dumps({"op": op, "data": base64.b64encode(data).decode(),
                                              "options": options}) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return {"code": "crash", "message": f"exit {self._restart()}"}
        ready, _, _ = select.select([self.proc.stdout], [], [], HANG_SECONDS)
        line = self.proc.stdout.readline() if ready else None
        if line:
            return json.loads(line)
        status = self._restart()
        return {"code": "hang"} if line is None else {"code": "crash", "message": f"exit {status}"}

    def _restart(self) -> int:
        """End this process (dead or hung) and start a fresh one; the old one's exit status."""
        self.proc.kill()
        status = self.proc.wait()
        self.__init__()
        return status

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def run_native(jobs: list[tuple[str, str, bytes, dict]], workers: int = 2) -> dict[str, dict]:
    """{name: outcome} for (name, op, data, options) jobs, in `workers` child processes.

    A child that dies on a file gives {"code": "crash"}, one that takes longer
    than HANG_SECONDS {"code": "hang"}; it is replaced and the rest go on.
    """
    results: dict[str, dict] = {}
    queue = list(reversed(jobs))
    lock = threading.Lock()

    def drain():
        child = _Child()
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    name, op, data, options = queue.pop()
                results[name] = child.run(op, data, options)
        finally:
            child.close()

    threads = [threading.Thread(target=drain) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@functools.cache
def native_outcomes() -> dict[str, dict]:
    """convert natively over the whole corpus: {name: outcome}."""
    return run_native([(name, "convert", data, target(i)) for i, (name, data) in enumerate(corpus())])


if __name__ == "__main__":
    _serve()
