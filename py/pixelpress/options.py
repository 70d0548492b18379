"""Typed, bounded options.

Every operation declares its options as a frozen dataclass whose fields are
built with the helpers below; `parse_options` turns the untrusted mapping
that arrives from the page (or a test) into that dataclass, rejecting unknown
keys, wrong types and out-of-range values with `InvalidOption` naming the
field. Nothing is silently clipped.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from .errors import InvalidOption

T = TypeVar("T")

_HEX = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

# The alphabet of a file-name option (web_sizes' base_name): what the studio's and the command line's
# names are made of too (written for the page into client/engine-facts.js at build).
NAME_CHARS = "A-Za-z0-9_.-"
NAME_PATTERN = re.compile(rf"^[A-Za-z0-9][{NAME_CHARS}]*$")
NAME_MAX = 60


def integer(default: int | None, lo: int, hi: int, doc: str, *, optional: bool = False):
    return dataclasses.field(
        default=default, metadata={"kind": "int", "min": lo, "max": hi, "doc": doc, "optional": optional}
    )


def number(default: float, lo: float, hi: float, doc: str):
    return dataclasses.field(default=default, metadata={"kind": "float", "min": lo, "max": hi, "doc": doc})


def flag(default: bool, doc: str):
    return dataclasses.field(default=default, metadata={"kind": "bool", "doc": doc})


def choice(default: str, choices: tuple[str, ...], doc: str):
    return dataclasses.field(default=default, metadata={"kind": "choice", "choices": choices, "doc": doc})


def colour(default: str, doc: str):
    return dataclasses.field(default=default, metadata={"kind": "colour", "doc": doc})


def text(default: str, max_len: int, doc: str, *, required: bool = False):
    return dataclasses.field(
        default=default, metadata={"kind": "text", "max_len": max_len, "doc": doc, "required": required}
    )


def items(item: dict, max_items: int, doc: str, *, min_items: int = 0, default: tuple = (), form: bool = True):
    """A list of `item`s (itself a kind: {"kind": "colour"}, or an object's fields), as a tuple.

    `form=False` tells the page's forms the list is made another way (touch-up
    strokes are painted), so no form field is generated for it.

    The list's own rules (item shapes, the featured player in the roster)
    are checked by the options class's `validate`; this makes the list a real
    kind in `describe`, so the page's forms can check it before they send.
    """
    meta = {"kind": "list", "item": item, "min_items": min_items, "max_items": max_items, "doc": doc}
    return dataclasses.field(default=tuple(default), metadata=meta if form else {**meta, "form": False})


def like(options_class: type, name: str, *, default: Any = dataclasses.MISSING, doc: str | None = None):
    """Option `name` of another options class (its kind and bounds), to declare under a new name.

    A pipeline exposing a step's options (car_listing's `shadow_blur` is
    drop_shadow's `blur_radius`) declares them with this, so each bound is
    written once. The default and the help line may differ.
    """
    src = next((f for f in dataclasses.fields(options_class) if f.name == name), None)
    if src is None:
        raise AttributeError(f"{options_class.__name__} has no option {name!r}")
    meta = dict(src.metadata)
    if doc is not None:
        meta["doc"] = doc
    return dataclasses.field(default=src.default if default is dataclasses.MISSING else default, metadata=meta)


def parse_colour(value: str, field: str = "colour") -> tuple[int, int, int]:
    """'#RGB' or '#RRGGBB' (hash optional) to an (r, g, b) tuple."""
    if not isinstance(value, str) or not _HEX.match(value.strip()):
        raise InvalidOption(f"{field} must be a hex colour like #ffffff, got {value!r}", field=field)
    h = value.strip().lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def _check(name: str, meta: Mapping, value: Any) -> Any:
    kind = meta["kind"]
    if kind == "bool":
        if not isinstance(value, bool):
            raise InvalidOption(f"{name} must be true or false, got {value!r}", field=name)
        return value
    if kind == "int":
        if value is None and meta.get("optional"):
            return None
        # JSON numbers like 85.0 arrive as floats; accept them only when integral.
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidOption(f"{name} must be a whole number, got {value!r}", field=name)
    elif kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidOption(f"{name} must be a number, got {value!r}", field=name)
        value = float(value)
    if kind in ("int", "float"):
        lo, hi = meta["min"], meta["max"]
        if not lo <= value <= hi:
            raise InvalidOption(f"{name} must be between {lo} and {hi}, got {value}", field=name)
        return value
    if kind == "choice":
        if value not in meta["choices"]:
            allowed = ", ".join(meta["choices"])
            raise InvalidOption(f"{name} must be one of {allowed}, got {value!r}", field=name)
        return value
    if kind == "colour":
        parse_colour(value, name)
        return value.strip()
    if kind == "list":
        return value  # the class's validate() parses and checks it, item by item, with indexed fields
    if kind == "text":
        if not isinstance(value, str):
            raise InvalidOption(f"{name} must be text, got {value!r}", field=name)
        value = value.strip()
        if meta.get("required") and not value:
            raise InvalidOption(f"{name} is required", field=name)
        if len(value) > meta["max_len"]:
            raise InvalidOption(f"{name} must be at most {meta['max_len']} characters", field=name)
        return value
    raise AssertionError(f"unknown option kind {kind}")  # programming error, not user input


def parse_options(cls: type[T], raw: Mapping[str, Any] | T | None) -> T:
    """Validate `raw` against the option dataclass `cls`."""
    if isinstance(raw, cls):
        raw = dataclasses.asdict(raw)
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise InvalidOption(f"options must be an object, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise InvalidOption(f"unknown option {unknown[0]!r}", field=unknown[0])
    values = {}
    for name, f in fields.items():
        if not f.metadata:  # a nested or computed field: its own parser checks it
            if name in raw:
                values[name] = raw[name]
            continue
        if name in raw:
            values[name] = _check(name, f.metadata, raw[name])
        elif f.metadata.get("required"):
            raise InvalidOption(f"{name} is required", field=name)
    opts = cls(**values)
    post = getattr(opts, "validate", None)
    if post is not None:
        post()
    return opts


def describe(cls: type) -> list[dict]:
    """The option schema (name, kind, default, bounds, doc) for docs and UIs; plain JSON data."""
    out = []
    for f in dataclasses.fields(cls):
        if not f.metadata:
            continue
        entry = {"name": f.name, "default": list(f.default) if isinstance(f.default, tuple) else f.default}
        entry.update({k: (list(v) if isinstance(v, tuple) else v) for k, v in f.metadata.items()})
        out.append(entry)
    return out
