"""Typed engine errors with stable codes.

The code is the contract (the worker, the page and the server switch on it);
the message is for a person and may change.
"""

from __future__ import annotations


class PixelpressError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"

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


class UnsupportedFormat(PixelpressError):
    code = "unsupported_format"


class TooLarge(PixelpressError):
    code = "too_large"


class DecompressionBomb(PixelpressError):
    code = "decompression_bomb"


class CorruptImage(PixelpressError):
    code = "corrupt_image"


class InvalidOption(PixelpressError):
    code = "invalid_option"


class EmptyImage(PixelpressError):
    """The image has no subject to work on (e.g. fully transparent)."""

    code = "empty_image"


class UnknownOperation(PixelpressError):
    code = "unknown_operation"


class InternalError(PixelpressError):
    code = "internal_error"
