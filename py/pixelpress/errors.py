"""Typed engine errors with stable codes.

The code is the contract (the worker, the page and the server switch on it);
the message is for a person and may change.
"""

from __future__ import annotations


class PixelpressError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"
    when = ""  # for docs/errors.md's table (build_scripts/doc_tables.py); may name {limits}
    # Whether the file itself is at fault: the same file fails the same way every time, so retrying or
    # another device does not help (the studio does not offer a retry).
    input_fault = False

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        return out


class EmptyInput(PixelpressError):
    code = "empty_input"
    input_fault = True
    when = "zero bytes"


class UnsupportedFormat(PixelpressError):
    code = "unsupported_format"
    input_fault = True
    when = ("magic bytes not on the allowlist (JPEG, PNG, WebP, AVIF, HEIC, GIF, BMP, TIFF); in the browser, a TIFF "
            "compressed with JPEG or LZMA (Deflate TIFFs are decoded), in words that say the file is not damaged, "
            "or AVIF or HEIC where no decoder for it can be loaded (offline before it was cached); "
            "natively, AVIF with a Pillow built without it")


class TooLarge(PixelpressError):
    code = "too_large"
    input_fault = True
    when = ("over the file-size cap ({max_mb} MB), checked before decoding; over the operation's own "
            "working-memory budget ({budget_gb} GB: {op_caps}), checked from the header before decoding; or a "
            "result longer than the output format can store (JPEG 65,500 px, AVIF 32,768 px, WebP 16,383 px a side), checked "
            "before encoding, with the formats that can hold it named")


class DecompressionBomb(PixelpressError):
    code = "decompression_bomb"
    input_fault = True
    when = ("the header claims more than the pixel cap ({max_mp} MP), read from the header bytes before any "
            "decoder or opener runs; nothing is decoded")


class CorruptImage(PixelpressError):
    code = "corrupt_image"
    input_fault = True
    when = "truncated or damaged data behind valid magic bytes"


class InvalidOption(PixelpressError):
    code = "invalid_option"
    when = "unknown key, wrong type or out-of-range value; `field` names it"


class EmptyImage(PixelpressError):
    """The image has no subject to work on (e.g. fully transparent)."""

    code = "empty_image"
    input_fault = True
    when = "nothing to work on: a fully transparent picture, or no subject found to cut out"


class UnknownOperation(PixelpressError):
    code = "unknown_operation"
    when = "an operation name the engine does not have"


class MissingDependency(PixelpressError):
    """Natively, a library or the model the operation needs is not installed (the worker loads what an op needs first)."""

    code = "missing_dependency"
    when = ("natively, a library the operation needs is not installed: OpenCV for every operation but {light_ops} "
            "(`pip install \"pixelpress[opencv]\"`), and for a `local` cut-out (`remove_background`, `car_listing`) "
            "onnxruntime, from the same extra, or the network's model where it is neither here nor fetchable "
            "(`pixelpress fetch-model`); reading a HEIC without pi-heif (`pip install \"pixelpress[heic]\"`); "
            "the message names what is missing and the command that adds it")


class OutOfMemory(PixelpressError):
    """The runtime ran out of memory mid-operation (in the browser: the tab's wasm heap)."""

    code = "out_of_memory"
    when = "the runtime ran out of memory mid-operation despite the budget; the worker survives"


class InternalError(PixelpressError):
    """A bug: anything the engine did not expect. Never the answer to a bad file."""

    code = "internal_error"
    when = "a bug in pixelpress (report it); the worker's doorway reports it instead of dying"


def classes() -> list[type[PixelpressError]]:
    """Every error class the engine raises, in the order declared here."""
    found, todo = [], [PixelpressError]
    while todo:
        for sub in todo.pop(0).__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def codes() -> list[str]:
    """Every error code the engine can answer with, in the order declared here."""
    return [cls.code for cls in classes()]
