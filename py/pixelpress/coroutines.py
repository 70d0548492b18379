"""Run an engine coroutine to its end without an event loop.

The ops that use the salient-object network are coroutines so that in the
browser worker they can await the network, which runs in JavaScript
(onnxruntime-web). Natively every await is answered at once, so the
coroutine finishes on its first step and no event loop is needed: this also
works inside a caller that already runs one (a FastAPI handler, a notebook).
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_now(coro: Coroutine[Any, Any, T]) -> T:
    """The coroutine's return value; raises if it really tried to wait on something."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("this engine coroutine waits on an event loop; await it instead of calling run_now")
