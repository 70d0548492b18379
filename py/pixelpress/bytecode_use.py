"""Whether the interpreter imported the engine, Pillow and the stdlib from the bytecode we ship.

build_scripts/bytecode.py adds bytecode to the wheels and the stdlib zip so
that the browser does not compile their sources on every visit. A module
that was compiled from source anyway means that step did not take: this
report, part of the worker's stats, is how a test sees it.
"""

from __future__ import annotations

import importlib.util
import sys

# What build_scripts/bytecode.py writes: unchecked-hash .pyc files (PEP 552 flags = 1), since a
# timestamp-based one would be stale against sources whose mtime is the unpack time.
_UNCHECKED_HASH = b"\x01\x00\x00\x00"


def _usable(path: str) -> bool:
    try:
        with open(importlib.util.cache_from_source(path), "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head[:4] == importlib.util.MAGIC_NUMBER and head[4:8] == _UNCHECKED_HASH


def report() -> dict:
    """{"modules", "without": [paths], "stdlib_modules", "stdlib_from_source": [names]} over sys.modules now."""
    mods = [(n, str(getattr(m, "__file__", None))) for n, m in list(sys.modules.items())]
    files = [f for n, f in mods if n.split(".")[0] in ("PIL", "pixelpress") and f.endswith(".py")]
    # Pyodide imports the stdlib from a zip on sys.path; a native interpreter has none.
    stdlib_zip = next((p for p in sys.path if p.endswith(".zip")), None)
    stdlib = [(n, f) for n, f in mods if stdlib_zip and f.startswith(stdlib_zip + "/")]
    return {
        "modules": len(files),
        "without": sorted(f for f in files if not _usable(f)),
        "stdlib_modules": len(stdlib),
        "stdlib_from_source": sorted(n for n, f in stdlib if f.endswith(".py")),
    }
