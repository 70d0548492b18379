"""A tiny generic step runner for multi-step jobs (car listing, asset packs).

A step is `fn(state) -> state` with a name; a step that must wait (the
neural matte awaits its network in the browser) is `async def` and returns
the state from its coroutine. `run_steps_async` calls them in order, times
each one into `timings` under its name, and reports progress between steps;
`run_steps` does the same natively, where nothing really waits. No threads,
no I/O: it runs the same natively and in the browser worker.

    steps = [Step("decode", decode), Step("crop", crop)]
    state = run_steps(steps, state, timings=t.ms)
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from .coroutines import run_now

S = TypeVar("S")


@dataclass(frozen=True)
class Step:
    name: str
    fn: Callable[[Any], Any]
    enabled: bool = True


def run_steps(steps: Iterable[Step], state: S, *, timings: dict[str, float],
              progress: Callable[[dict], None] | None = None) -> S:
    """`run_steps_async` run to its end natively."""
    return run_now(run_steps_async(steps, state, timings=timings, progress=progress))


async def run_steps_async(steps: Iterable[Step], state: S, *, timings: dict[str, float],
                          progress: Callable[[dict], None] | None = None) -> S:
    """Run the enabled steps in order; `timings[name]` gets each step's milliseconds.

    `progress({"done", "total", "step"})` is called before each step: the same
    one-dict event every operation sends, which the worker forwards to the page.
    An exception from a step propagates unchanged, with the steps before it timed.
    """
    active = [s for s in steps if s.enabled]
    for i, step in enumerate(active):
        if progress is not None:
            progress({"done": i, "total": len(active), "step": step.name})
        start = time.perf_counter()
        try:
            state = step.fn(state)
            if inspect.isawaitable(state):
                state = await state
        finally:
            timings[step.name] = round((time.perf_counter() - start) * 1000, 2)
    return state
