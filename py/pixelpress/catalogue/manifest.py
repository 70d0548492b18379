"""The manifest: one JSON line per input, written and flushed as each result is known.

    {"source": "photos/a.jpg", "ok": true, "op": "convert", "options": {"format": "webp"},
     "bytes_in": 183202, "outputs": [{"path": "out/a.webp", "name": "main", "mime": "image/webp",
     "bytes": 50211, "sha256": "..."}], "meta": {"format": "webp", "width": 1600, ...}, "ms": 41.2}
    {"source": "https://shop.example/b.jpg", "ok": false, "op": "convert", "options": {...},
     "bytes_in": null, "error": {"code": "download_failed", "message": "...", "status": 404}, "ms": 120.0}

`source` is the path or URL as given (`-` for standard input); `ms` is the
op's time, and a URL's line has `download_ms`, the download's. An input
--skip-existing found done keeps its earlier line, with "skipped": true.

An input is done, for --skip-existing, when an earlier line for the same
source says ok, with the same op and options, and every output it lists is
in this run's output folder with the bytes it recorded (outputs are renamed into place whole, so a
file of the right size is the file written). The manifest is then rewritten
without the lines of this run's other inputs, which run again: after every
run it has one line per input.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

# The meta keys a manifest line keeps: enough to see what came out, not the op's whole meta (--json has that).
SUMMARY = ("format", "width", "height", "input_width", "input_height", "quality", "warnings")


def summary(meta: dict) -> dict:
    return {k: meta[k] for k in SUMMARY if k in meta}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(options: dict) -> dict:
    return json.loads(json.dumps(options, sort_keys=True))


def line(source: str, op: str, options: dict, record: dict, bytes_in: int | None, hashes: list[str]) -> dict:
    """One input's manifest line, from a record {"ok", "outputs": [{path, name, mime, bytes, meta}] | "error", "ms"}."""
    out: dict = {"source": source, "ok": record["ok"], "op": op, "options": canonical(options), "bytes_in": bytes_in}
    if record["ok"]:
        out["outputs"] = [{"path": o["path"], "name": o["name"], "mime": o["mime"], "bytes": o["bytes"], "sha256": h}
                          for o, h in zip(record["outputs"], hashes, strict=True)]
        out["meta"] = summary(record["outputs"][0]["meta"])
    else:
        out["error"] = record["error"]
    out["ms"] = record["ms"]
    if record.get("download_ms") is not None:
        out["download_ms"] = record["download_ms"]
    return out


def complete(line: dict, op: str, options: dict, folder: Path) -> bool:
    """Whether `line` records its input done by `op` with `options`, every output intact and inside `folder`."""
    if not (line.get("ok") and line.get("op") == op and line.get("options") == canonical(options) and line.get("outputs")):
        return False
    root = folder.resolve()
    for out in line["outputs"]:
        try:
            path = Path(out["path"])
            if not path.resolve().is_relative_to(root) or path.stat().st_size != out["bytes"]:
                return False
        except (OSError, KeyError, TypeError, ValueError):
            return False
    return True


def read_lines(path: Path) -> list[dict]:
    """The lines of an earlier manifest; a line cut short by a crash is dropped (its input runs again)."""
    found = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return found
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("source"), str):
            found.append(record)
    return found


class Manifest:
    def __init__(self, path: Path, op: str, options: dict):
        self.path, self.op, self.options = path, op, canonical(options)
        self.file = None

    def resume(self, sources: list[str], folder: Path) -> dict[str, dict]:
        """The sources among `sources` an earlier run finished into `folder` ({source: its line}); the manifest
        is rewritten to keep those lines and every line of a source not in this run, then appended to."""
        wanted = set(sources)
        done: dict[str, dict] = {}
        kept: list[dict] = []
        for line in read_lines(self.path):
            if line["source"] not in wanted:
                kept.append(line)
            elif complete(line, self.op, self.options, folder):
                done[line["source"]] = line  # a later line for the same source wins
        kept += [dict(line, skipped=True) for line in done.values()]
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text("".join(json.dumps(line) + "\n" for line in kept), encoding="utf-8")
        os.replace(tmp, self.path)
        self.file = open(self.path, "a", encoding="utf-8")
        return done

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.path, "w", encoding="utf-8")

    def write(self, source: str, record: dict, bytes_in: int | None, hashes: list[str]) -> None:
        """One input's line, from the command line's record of it; flushed at once, so a crash loses nothing."""
        self.file.write(json.dumps(line(source, self.op, self.options, record, bytes_in, hashes)) + "\n")
        self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
