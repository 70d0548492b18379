"""The worker's single doorway into the engine.

Everything crossing it is plain data: the request's options arrive as JSON,
metadata leaves as JSON, and every failure - typed or not - becomes an
`{"code", "message"}` error instead of an exception that could leave the
worker in a bad state.
"""

from __future__ import annotations

import gc
import json
import traceback

from .errors import InternalError, InvalidOption, PixelpressError
from .registry import resolve, spec


def warm_up() -> None:
    """Import what every operation needs, so the user's first file does not pay for it.

    The worker calls this right after reporting ready, while the user is still
    choosing a file: in the browser these imports are compiled from source.
    """
    from PIL import Image

    from . import decode, encode  # noqa: F401

    Image.preinit()


def run(op: str, data, options_json: str = "{}", progress=None) -> dict:
    """Run `op` and return {"ok": True, "outputs": [...], "meta": json} or {"ok": False, "error": {...}}.

    `data` may be bytes or a Pyodide JsProxy of a Uint8Array.
    """
    try:
        if hasattr(data, "to_bytes"):
            data = data.to_bytes()
        try:
            options = json.loads(options_json) if options_json else {}
        except ValueError as exc:
            raise InvalidOption(f"options are not valid JSON ({exc})") from None
        fn = resolve(op)
        kwargs = {"progress": progress} if (progress is not None and spec(op).progress) else {}
        result = fn(bytes(data), options, **kwargs)
        outputs = [("main", result.mime, result.data, result.meta)]
        outputs += [(x.name, x.mime, x.data, x.meta) for x in result.extras]
        return {
            "ok": True,
            "meta": json.dumps(result.meta),
            "outputs": [(name, mime, blob, json.dumps(meta)) for name, mime, blob, meta in outputs],
        }
    except PixelpressError as exc:
        return {"ok": False, "error": exc.to_dict()}
    except MemoryError:
        return {"ok": False, "error": {"code": "out_of_memory",
                                        "message": "The image needs more memory than the browser gave this tab."}}
    except Exception as exc:  # noqa: BLE001 - the worker must survive anything
        err = InternalError(f"Unexpected engine failure: {type(exc).__name__}: {exc}")
        return {"ok": False, "error": err.to_dict() | {"detail": traceback.format_exc(limit=5)}}
    finally:
        # Large intermediate images are freed now rather than at some later
        # collection; in the worker that keeps the wasm heap from creeping.
        gc.collect()
