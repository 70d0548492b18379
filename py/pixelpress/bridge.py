"""The worker's single doorway into the engine.

Everything crossing it is plain data: the request's options arrive as JSON,
metadata leaves as JSON, and every failure - typed or not - becomes an
`{"code", "message"}` error instead of an exception that could leave the
worker in a bad state. The worker's other questions to the interpreter
(versions at boot, heap figures) are answered here too, so that no Python
lives in the worker's JS.
"""

from __future__ import annotations

import gc
import json
import sys
import traceback

from .errors import InternalError, InvalidOption, OutOfMemory, PixelpressError
from .registry import limits_for, resolve, spec


def boot_report() -> str:
    """The versions the worker announces as ready, as JSON."""
    import PIL

    from . import __version__

    return json.dumps({"pixelpress": __version__, "pillow": PIL.__version__, "python": sys.version.split()[0]})


def stats() -> str:
    """Live Python objects after a full collection, and bytecode use, as JSON.

    Counted first, so the report's own objects are not in the figure that
    leak benchmarks compare between runs.
    """
    gc.collect()
    objects = len(gc.get_objects())
    from .bytecode_use import report

    return json.dumps({"python_objects": objects, "bytecode": report()})


def warm_up() -> None:
    """Import what every operation needs, so the user's first file does not pay for it.

    The worker calls this right after reporting ready, while the user is still
    choosing a file: in the browser these imports are compiled from source.
    """
    from PIL import Image

    from . import decode, encode  # noqa: F401

    Image.preinit()


class JsSegmenter:
    """The salient-object network run by the page (onnxruntime-web in its own worker).

    `infer` is a JS function taking the input tensor's bytes (float32,
    1x3xSxS) and resolving with {map: the first output as a Float32Array,
    backend: how the model worker ran it (JSON text)}. Any rejection becomes
    ModelUnavailable, so the matte falls back to classical.
    """

    name = "onnxruntime-web"

    def __init__(self, infer):
        self.infer = infer
        self.backend = None

    def start(self, tensor):
        """Post the tensor to the model worker now; the returned coroutine awaits the map. The engine works
        on meanwhile (saliency.start_subject_map): the network runs in another worker."""
        try:
            promise = self.infer(tensor.tobytes(), list(tensor.shape))
        except Exception as exc:  # noqa: BLE001 - a JS error of any kind
            promise, failed = None, exc
        else:
            failed = None
        return self._answer(promise, failed, tensor.shape[-2:])

    async def _answer(self, promise, failed, shape):
        import numpy as np

        from .saliency import ModelUnavailable

        try:
            if failed is not None:
                raise failed
            out = await promise
            raw = out.map.to_bytes()
            backend = out.backend
        except Exception as exc:  # noqa: BLE001 - a JS error of any kind
            raise ModelUnavailable(f"the network failed in the browser: {getattr(exc, 'message', exc)}") from None
        self.backend = json.loads(backend) if backend else None
        return np.frombuffer(raw, np.float32).reshape(shape)

    async def predict(self, tensor):
        return await self.start(tensor)


class JsCodecs:
    """The browser's own codecs (web/worker/codecs.js), offered to the op; browser.py decides when to use them.

    Each returns a promise, awaited here on Pyodide's event loop: the op is a
    coroutine (`run_async`), so no WebAssembly stack switching is needed and
    every browser gets the same codecs. A call that declines (null) or fails
    means Pillow does the work.
    """

    name = "browser"

    def __init__(self, js):
        self.js = js

    async def decode_jpeg(self, data: bytes, width: int, height: int):
        from PIL import Image

        pixels = bytearray(width * height * 4)
        if not await self.js.decodeJpeg(data, width, height, pixels):
            return None
        return Image.frombytes("RGB", (width, height), pixels, "raw", "RGBX")

    async def encode(self, pixels: bytes, width: int, height: int, layout: str, mime: str, quality: float):
        return _bytes(await self.js.encode(pixels, width, height, layout, mime, quality))

    async def transcode(self, data: bytes, width: int, height: int, mime: str, quality: float, colour: str):
        return _bytes(await self.js.transcode(data, width, height, mime, quality, colour))

    async def decode_avif(self, data: bytes):
        from PIL import Image

        got = await self.js.decodeAvif(data)
        if not hasattr(got, "pixels"):  # JS null: this browser has no AVIF decoder
            return None
        from .formats.avif import frames, orientation

        image = Image.frombytes("RGBA", (got.width, got.height), got.pixels.to_bytes())
        # 0: the decoder (libavif in wasm) does not say; the file's boxes do.
        return image, int(got.orientation) or orientation(data), int(got.frames) or frames(data)

    async def decode_heic(self, data: bytes):
        from PIL import Image

        got = await self.js.decodeHeic(data)
        if not hasattr(got, "pixels"):  # JS null: no HEIC decoder at all
            return None
        from .formats.isobmff import top_level_pictures

        image = Image.frombytes("RGBA", (got.width, got.height), got.pixels.to_bytes())
        # Upright already (libheif and the browser apply irot/imir): orientation 1. The primary picture,
        # of as many as the file holds (for the warning native gives too).
        return (image if got.alpha else image.convert("RGB")), 1, top_level_pictures(data)

    async def encode_avif(self, pixels: bytes, width: int, height: int, quality: int, speed: int):
        return _bytes(await self.js.encodeAvif(pixels, width, height, quality, speed))

    async def encode_webp(self, pixels: bytes, width: int, height: int, quality: int, method: int):
        return _bytes(await self.js.encodeWebp(pixels, width, height, quality, method))


def _bytes(out) -> bytes | None:
    """A JS answer of bytes (a Uint8Array) as bytes; null (Pyodide's jsnull) or undefined as None."""
    return out.to_bytes() if out is not None and hasattr(out, "to_bytes") else None


def run(op: str, data, options_json: str = "{}", progress=None) -> dict:
    """Run `op` and return {"ok": True, "outputs": [...], "meta": json} or {"ok": False, "error": {...}}.

    Each output is {"name", "mime", "data": bytes, "meta": json}, the main picture first.
    `data` may be bytes or a Pyodide JsProxy of a Uint8Array.
    """
    try:
        data, options, kwargs = _request(op, data, options_json, progress)
        return _answer(resolve(op)(data, options, **kwargs))
    except Exception as exc:  # noqa: BLE001 - the worker must survive anything
        return _failure(exc)
    finally:
        # Large intermediate images are freed now rather than at some later
        # collection; in the worker that keeps the wasm heap from creeping.
        gc.collect()


async def run_async(op: str, data, options_json: str = "{}", progress=None, infer=None, codecs=None) -> dict:
    """`run` as the worker calls it: the op awaits the browser's codecs (`codecs`, see JsCodecs) and, for
    the ops that use the network (`OpSpec.model`), `infer` (see JsSegmenter)."""
    try:
        data, options, kwargs = _request(op, data, options_json, progress, codecs)
        if infer is not None and spec(op).model:
            kwargs["segmenter"] = JsSegmenter(infer)
        return _answer(await resolve(op, asynchronous=True)(data, options, **kwargs))
    except Exception as exc:  # noqa: BLE001 - the worker must survive anything
        return _failure(exc)
    finally:
        gc.collect()


def _request(op: str, data, options_json: str, progress, codecs=None) -> tuple[bytes, dict, dict]:
    if hasattr(data, "to_bytes"):
        data = data.to_bytes()
    try:
        options = json.loads(options_json) if options_json else {}
    except ValueError as exc:
        raise InvalidOption(f"options are not valid JSON ({exc})") from None
    # Each op with its own working-memory budget: a picture it cannot finish is refused before decoding.
    kwargs = {"limits": limits_for(op)}
    if progress is not None and spec(op).progress:
        kwargs["progress"] = progress
    if codecs is not None:
        kwargs["codecs"] = JsCodecs(codecs)
    return bytes(data), options, kwargs


def _answer(result) -> dict:
    outputs = [_output("main", result.mime, result.data, result.meta)]
    outputs += [_output(x.name, x.mime, x.data, x.meta) for x in result.extras]
    return {"ok": True, "meta": json.dumps(result.meta), "outputs": outputs}


def _output(name: str, mime: str, data: bytes, meta: dict) -> dict:
    # meta as JSON like the answer's own: Pyodide hands JS a str at once, where a dict would be a proxy to walk.
    return {"name": name, "mime": mime, "data": data, "meta": json.dumps(meta)}


def _failure(exc: Exception) -> dict:
    """Every failure as plain data (called inside the `except`)."""
    if isinstance(exc, PixelpressError):
        return {"ok": False, "error": exc.to_dict()}
    if isinstance(exc, MemoryError):
        err = OutOfMemory("The image needs more memory than the browser gave this tab.")
        return {"ok": False, "error": err.to_dict()}
    err = InternalError(f"Unexpected engine failure: {type(exc).__name__}: {exc}")
    return {"ok": False, "error": err.to_dict() | {"detail": traceback.format_exc(limit=5)}}
