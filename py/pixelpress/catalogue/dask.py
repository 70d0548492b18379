"""Any op over a catalogue on a Dask cluster, reading and writing fsspec paths (local, s3://, gs://, ...).

    from dask.distributed import Client
    from pixelpress.catalogue.dask import catalogue_bag

    client = Client("scheduler:8786")  # or LocalCluster(); a bag computes on the current client
    bag = catalogue_bag("convert", "s3://shop/photos/*.jpg", "s3://shop/web/", {"format": "webp"})
    lines = bag.compute()  # one manifest line per input (docs/scale.md), failures included

Each input runs through the same function as the command line's processes
(core.outcome) and its files are named as the command line names them:
`<stem><ext>`, `<stem>-<name><ext>`. The stems are chosen here, in input
order, before anything runs, so that no two inputs share one; the workers
need no word with each other. The command line also steps around files
that are already there; a bucket is not listed for that here.

Needs the `scale` extra: pip install "pixelpress[scale]" (dask, distributed, fsspec; s3fs for s3://).
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

from ..limits import DEFAULT_LIMITS
from ..operation import require
from ..options import parse_options
from ..registry import spec
from .core import NotFound, Task, WriteError, error_of, outcome
from .manifest import line, sha256
from .naming import Namer, file_names, output_stem, web_stem

TASKS_PER_THREAD = 2
MAX_INPUTS_PER_TASK = 100


@dataclass(frozen=True)
class Item:
    source: str  # the input's fsspec path, with its protocol
    stem: str  # the stem of its files, unique in the catalogue


def plan(op: str, sources: str | list[str], options: dict | None = None, storage_options: dict | None = None) -> list[Item]:
    """The inputs (globs expanded by fsspec, each once, in order) and the stem of each one's files."""
    import fsspec

    options = options or {}
    found: list[str] = []
    for pattern in [sources] if isinstance(sources, str) else sources:
        fs, _, paths = fsspec.get_fs_token_paths(pattern, storage_options=storage_options)
        protocol = fs.protocol[0] if isinstance(fs.protocol, (list, tuple)) else fs.protocol
        found += [p if "://" in p or protocol == "file" else f"{protocol}://{p}" for p in sorted(paths)]
    namer = Namer([], no_clobber=False)  # one output folder: the stems are unique in it
    items = []
    for source in dict.fromkeys(found):
        stem = posixpath.splitext(posixpath.basename(source))[0]
        stem = web_stem(stem, options) if op == "web_sizes" else output_stem(op, stem, options)
        items.append(Item(source, namer.stem(Path(), stem)))
    return items


def run_item(item: Item, op: str, out: str, options: dict | None = None, storage_options: dict | None = None) -> dict:
    """One input, on whichever worker: read it, run the op, write its files under `out`; its manifest line."""
    import fsspec

    options = options or {}
    try:
        with fsspec.open(item.source, "rb", **(storage_options or {})) as f:
            data = f.read(DEFAULT_LIMITS.max_bytes + 1)  # one byte over the cap is enough for the engine to refuse it
    except FileNotFoundError:
        record = {"ok": False, "error": NotFound("No such file (it went away before it was read).").to_dict(), "ms": 0.0}
        return line(item.source, op, options, record, None, [])
    except Exception as exc:  # noqa: BLE001 - typed by error_of; the catalogue goes on
        record = {"ok": False, "error": error_of(exc), "ms": 0.0}
        return line(item.source, op, options, record, None, [])
    result = outcome(op, options, Task(0, item.source, data=data, base_name=item.stem if op == "web_sizes" else None))
    if not result["ok"]:
        return line(item.source, op, options, {"ok": False, "error": result["error"], "ms": result["ms"]},
                    result["bytes_in"], [])
    files = result["files"]
    if op == "web_sizes":
        names = [files[0][3]["name"], *(f[0] for f in files[1:-1]), f"{item.stem}.html"]
    else:
        names = file_names(item.stem, files)
    outputs = []
    try:
        fs, root = fsspec.core.url_to_fs(out, **(storage_options or {}))
        fs.makedirs(root, exist_ok=True)  # a folder on disk; nothing on an object store
        for name, (label, mime, blob, meta) in zip(names, files, strict=True):
            path = posixpath.join(root, name)
            fs.pipe_file(path, blob)
            outputs.append({"path": fs.unstrip_protocol(path), "name": label, "mime": mime, "bytes": len(blob),
                            "meta": meta})
    except Exception as exc:  # noqa: BLE001 - the store's own errors vary; the code says what failed
        error = WriteError(f"Could not write under {out}: {exc}").to_dict()
        return line(item.source, op, options, {"ok": False, "error": error, "ms": result["ms"]}, result["bytes_in"], [])
    record = {"ok": True, "outputs": outputs, "ms": result["ms"]}
    return line(item.source, op, options, record, result["bytes_in"], [sha256(f[2]) for f in files])


def run_items(items: list[Item], op: str, out: str, options: dict | None = None,
              storage_options: dict | None = None) -> list[dict]:
    """Several inputs, one after another, in one task: their manifest lines."""
    return [run_item(item, op, out, options, storage_options) for item in items]


def threads() -> int:
    """The threads of the current Dask client's workers; this machine's cores when there is no client."""
    try:
        from distributed import default_client

        return max(1, sum(default_client().nthreads().values()))
    except (ImportError, ValueError):  # no distributed, or no client: the local schedulers use the cores
        return os.cpu_count() or 1


def chunks(items: list, tasks: int) -> list[list]:
    """`items` in `tasks` runs of consecutive items, their lengths differing by one at most."""
    size, extra = divmod(len(items), tasks)
    starts = [i * size + min(i, extra) for i in range(tasks + 1)]
    return [items[a:b] for a, b in zip(starts, starts[1:], strict=False)]


def catalogue_bag(op: str, sources: str | list[str], out: str, options: dict | None = None,
                  storage_options: dict | None = None, npartitions: int | None = None):
    """A dask.bag of manifest lines, one per input: compute it on a cluster (or the default scheduler).

    Each task runs a run of inputs (a partition), not one: a task costs the scheduler and the worker some
    milliseconds, as much as a small picture's op. By default there are TASKS_PER_THREAD tasks for each
    worker thread of the current client, so that a thread that finishes early takes another, and at most
    MAX_INPUTS_PER_TASK inputs in a task, so that a lost worker loses little; `npartitions` sets the count."""
    import dask.bag as db

    require(spec(op))
    parse_options(spec(op).options, options or {})  # a refused option stops here, not once per input
    items = plan(op, sources, options, storage_options)
    tasks = npartitions or max(TASKS_PER_THREAD * threads(), -(-len(items) // MAX_INPUTS_PER_TASK))
    runs = chunks(items, max(1, min(tasks, len(items))))
    bag = db.from_sequence(runs, npartitions=len(runs))
    return bag.map(run_items, op=op, out=out, options=options or {}, storage_options=storage_options).flatten()
