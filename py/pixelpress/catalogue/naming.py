"""Output names: after the input, as the studio names its downloads, and never over an input or another output."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from ..formats import FORMATS
from ..options import NAME_CHARS

EXTENSIONS = {f.mime: f.extensions[0] for f in FORMATS.values() if f.writable} | {
    "application/zip": ".zip", "text/html": ".html"}
WEB_NAME = re.compile(rf"[^{NAME_CHARS}]+")  # outside web_sizes' base_name alphabet
URL_STEM = re.compile(r"[^\w.-]+")


def key(path: Path) -> str:
    return os.path.normcase(str(path.resolve()))


class Namer:
    """Output names, so that no output replaces an input or another output of the same run.

    All files of one input share a stem in their output folder: the input's
    own, or `<stem>-1`, `<stem>-2`, ...: the first that no earlier input of
    the run took and with which none of its files would be one of the run's
    inputs, a file the run already wrote, or (with `no_clobber`) any existing
    file. Other existing files are replaced, so a batch run again refreshes
    its outputs. web_sizes needs its stem before it runs (its snippet names the
    files), so a clash there numbers the one file instead.
    """

    def __init__(self, inputs: Iterable[Path], no_clobber: bool):
        self.inputs = {key(p) for p in inputs}
        self.no_clobber = no_clobber
        self.stems: dict[str, set[str]] = {}
        self.taken: set[str] = set()

    def _candidates(self, folder: Path, stem: str):
        used = self.stems.setdefault(key(folder), set())
        n = 0
        while True:
            name = stem if n == 0 else f"{stem}-{n}"
            if name.lower() not in used:
                yield name, used
            n += 1

    def _free(self, path: Path) -> bool:
        return key(path) not in self.inputs and key(path) not in self.taken and not (self.no_clobber and path.exists())

    def stem(self, folder: Path, stem: str) -> str:
        """A stem no earlier input took, chosen before the op runs."""
        name, used = next(self._candidates(folder, stem))
        used.add(name.lower())
        return name

    def files(self, folder: Path, stem: str, names) -> tuple[str, list[Path]]:
        """The stem and paths for one input's files, `names(stem)` being their file names."""
        for name, used in self._candidates(folder, stem):
            paths = [folder / f for f in names(name)]
            if all(map(self._free, paths)) and len({key(p) for p in paths}) == len(paths):
                used.add(name.lower())
                self.taken.update(key(p) for p in paths)
                return name, paths
        raise AssertionError("unreachable")

    def path(self, folder: Path, filename: str) -> Path:
        """`filename` in `folder`, or `<base>-1<ext>`, ... when that is not free."""
        base, ext = os.path.splitext(filename)
        path, n = folder / filename, 0
        while not self._free(path):
            n += 1
            path = folder / f"{base}-{n}{ext}"
        self.taken.add(key(path))
        return path

    def keep(self, paths: Iterable[Path]) -> None:
        """Files an earlier run wrote and this one keeps (--skip-existing): no new output may replace them."""
        self.taken.update(key(p) for p in paths)


def file_name(stem: str, name: str | None, mime: str) -> str:
    """`<stem>-<name><ext>` for an output the op names (OpSpec.output, extras), `<stem><ext>` otherwise."""
    ext = EXTENSIONS.get(mime, ".bin")
    return f"{stem}{ext}" if name is None else f"{stem}-{WEB_NAME.sub('-', name)}{ext}"


def file_names(stem: str, files) -> list[str]:
    """The file names of one input's files ((name, mime, data, meta) each) under `stem`: the main file as the op
    names it (meta["name"]: car_listing's "processed"), the others by their names."""
    return [file_name(stem, meta.get("name") if name == "main" else name, mime) for name, mime, _, meta in files]


def output_stem(op: str, stem: str, options: dict) -> str:
    """The stem of an input's files: its own, except the asset pack, which is the team's (as the studio names it)."""
    if op == "asset_pack" and options.get("team_name"):
        return team_slug(options["team_name"])
    return stem


def team_slug(name: str) -> str:
    """The studio's `slug` (web/ui/util.js), so both name a pack alike: 'Harbour Hawks' -> 'harbour-hawks'."""
    s = re.sub(r"[^\w-]+", "-", unicodedata.normalize("NFKD", name.lower()), flags=re.ASCII)[:60]
    return re.sub(r"^[-_]+|[-_]+$", "", s) or "team"


def web_stem(stem: str, options: dict) -> str:
    """web_sizes' base_name: the one given, or the input's stem in its alphabet."""
    if "base_name" in options:
        return options["base_name"]
    return WEB_NAME.sub("-", stem).strip("-._")[:60] or "image"


def url_stem(url: str) -> str:
    """A URL's last path segment without its extension, in a file name's safe letters (never `..` or a slash):
    https://shop.example/img/Red%20Shoe.jpg?w=800 -> 'Red-Shoe'; the host when the path has no name."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    last = unquote(parts.path).replace("\\", "/").rstrip("/").rpartition("/")[2]
    stem = URL_STEM.sub("-", os.path.splitext(last)[0] or last).strip(".-_")[:80]
    return stem or URL_STEM.sub("-", parts.hostname or "").strip(".-_") or "image"


def write_atomic(path: Path, data: bytes) -> None:
    """Write beside `path`, then rename: an interrupted run leaves no half-written picture under its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as f:  # not mkstemp: its files are private (0600), outputs get the umask's mode
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
