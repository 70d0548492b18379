"""The one return type of every engine operation."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Output:
    """A further named file of a multi-output operation (e.g. a listing variant)."""

    name: str
    data: bytes
    mime: str
    meta: dict = field(default_factory=dict)


@dataclass
class Result:
    """Output bytes, their MIME type and JSON-able metadata.

    `meta` always carries width, height, format, bytes, timings_ms and
    warnings; operations add their own keys. Operations that make several
    files return the main one in `data` and the rest in `extras`.
    """

    data: bytes
    mime: str
    meta: dict = field(default_factory=dict)
    extras: list[Output] = field(default_factory=list)


class Timings:
    """Named wall-clock spans in milliseconds, for `meta["timings_ms"]`."""

    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def span(self, name: str):
        """Time a block; a name timed again adds up (a quality search encodes several times)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = round(self.ms.get(name, 0.0) + (time.perf_counter() - start) * 1000, 2)
