"""Object path validation: the only gate between a client-chosen name and a storage key or file path.

An allowlist (ASCII letters, digits, `._-`, `/` between segments) rather than
a blocklist, so encodings (`%2e%2e`), Unicode look-alikes and platform quirks
never reach the filesystem or the Supabase URL. The specific checks first only
give clearer messages.
"""

from __future__ import annotations

import re

from .errors import ApiError

MAX_PATH = 512
MAX_SEGMENT = 128
MAX_DEPTH = 16
_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_path", message)


def clean_object_path(path: str) -> str:
    """Return `path` unchanged if it is a safe relative object path, else raise 400 invalid_path."""
    if not isinstance(path, str) or not path:
        raise _invalid("object path is empty")
    if len(path) > MAX_PATH:
        raise _invalid(f"object path is longer than {MAX_PATH} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise _invalid("object path contains NUL or control characters")
    if "\\" in path:
        raise _invalid("object path contains a backslash")
    if path.startswith("/") or re.match(r"[A-Za-z]:", path):
        raise _invalid("object path must be relative")
    if "%" in path:
        raise _invalid("object path must not be URL-encoded")
    segments = path.split("/")
    if len(segments) > MAX_DEPTH:
        raise _invalid(f"object path is deeper than {MAX_DEPTH} folders")
    for segment in segments:
        if segment in (".", ".."):
            raise _invalid("object path must not contain '.' or '..' segments")
        if not segment:
            raise _invalid("object path has an empty segment")
        if len(segment) > MAX_SEGMENT:
            raise _invalid(f"object path segment is longer than {MAX_SEGMENT} characters")
        if not _SEGMENT.fullmatch(segment):
            raise _invalid("object path segments may use only A-Z a-z 0-9 . _ - and must not start with '.'")
    return path
