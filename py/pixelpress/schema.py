"""Every operation's option schema, from the option classes themselves.

The build writes it for the page (dist/ui/schema.js), so the studio's forms
take names, bounds, choices and defaults from the engine instead of
re-declaring them. Each op names its options class in its SPEC.
"""

from __future__ import annotations

from .options import describe
from .registry import OPS, spec


def schema() -> dict[str, dict]:
    """{op: {"options": [field, ...]}} for every registered op, as plain JSON data."""
    return {op: {"options": describe(spec(op).options)} for op in OPS}
