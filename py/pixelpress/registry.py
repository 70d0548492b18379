"""The operations: every module of `pixelpress.ops`, each declaring its `SPEC`.

An op's module is named after the op and defines a function of that name
(see `operation`); adding a module adds the op. Natively, `spec(op)` imports
the module. The worker never asks Python which packages an op needs before
they are loaded: the build writes every spec's plain fields (`catalogue()`)
into the page's files, so a conversion never pays for NumPy or OpenCV.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import TYPE_CHECKING

from . import ops
from .errors import UnknownOperation
from .operation import DEPENDENCIES, WORK_BUDGET_BYTES, OpSpec, dependency_error  # noqa: F401  (the budget, read with the ops)

if TYPE_CHECKING:
    from .decode import Limits

# Names only: listing a package's modules imports none of them.
OPS: tuple[str, ...] = tuple(sorted(m.name for m in pkgutil.iter_modules(ops.__path__) if not m.name.startswith("_")))


def _module(op: str):
    """The op's module. Ops import NumPy at the top, OpenCV where they use it (checked at the call, see
    operation.require); a library missing natively already here is `missing_dependency` too."""
    if op not in OPS:
        raise UnknownOperation(f"Unknown operation {op!r}; known: {', '.join(OPS)}.")
    try:
        return importlib.import_module(f"{ops.__name__}.{op}")
    except ModuleNotFoundError as exc:
        dep = [d for d in DEPENDENCIES.values() if exc.name and exc.name.split(".")[0] == d.module]
        if not dep:
            raise
        raise dependency_error(f"The operation {op!r}", dep) from None


@functools.cache
def spec(op: str) -> OpSpec:
    found = _module(op).SPEC
    if found.name != op:
        raise TypeError(f"pixelpress.ops.{op} declares the spec of {found.name!r}")
    return found


def limits_for(op: str) -> Limits:
    """The decoding limits for `op`: the shared caps plus its working-memory budget."""
    return spec(op).limits()


def resolve(op: str, *, asynchronous: bool = False):
    """The op's function; with `asynchronous`, its coroutine function (the worker's: it awaits the browser's
    codecs and network, and takes `codecs`)."""
    fn = getattr(_module(op), op)
    return fn.run_async if asynchronous else fn


def catalogue() -> dict[str, dict]:
    """What the worker must know of each op before loading it: packages, model, progress, label."""
    return {op: {"packages": list(s.packages), "model": s.model, "progress": s.progress, "label": s.label}
            for op in OPS for s in [spec(op)]}
