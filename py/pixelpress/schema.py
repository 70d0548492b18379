"""Every operation's option schema, from the option classes themselves.

The build writes it for the page (dist/ui/schema.js), so the studio's forms
take names, bounds, choices and defaults from the engine instead of
re-declaring them. An op's options class is read from its function's
annotation (`options: ConvertOptions | dict | None`): nothing to keep in step.
"""

from __future__ import annotations

import dataclasses
import typing

from .options import describe
from .registry import OPS, resolve


def options_class(op: str) -> type:
    hint = typing.get_type_hints(resolve(op))["options"]
    found = [t for t in typing.get_args(hint) if dataclasses.is_dataclass(t)]
    if len(found) != 1:
        raise TypeError(f"{op}: its options annotation must name one options class, got {hint}")
    return found[0]


def schema() -> dict[str, dict]:
    """{op: {"options": [field, ...]}} for every registered op, as plain JSON data."""
    return {op: {"options": describe(options_class(op))} for op in OPS}
