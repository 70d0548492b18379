"""One input through one op, wherever it runs: the command line's process, a `-j` worker, a Dask worker.

`outcome` never raises for a bad input: every failure comes back as a code
and a message. The engine's failures carry its codes (pixelpress/errors.py);
those before or after the engine (a missing file, a download, a disk) carry
the codes of `SourceError` below, in the same {code, message} shape.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutOfMemory, PixelpressError, TooLarge
from ..limits import DEFAULT_LIMITS
from ..registry import resolve


class SourceError(Exception):
    """A failure outside the engine, typed by its code like the engine's errors."""

    code = "source_error"

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra  # e.g. a download's HTTP `status`

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, **self.extra}


class NotFound(SourceError):
    code = "not_found"  # a path or glob that matches nothing


class ReadError(SourceError):
    code = "read_error"  # the system would not read the file (permissions, a folder, an I/O error)


class WriteError(SourceError):
    code = "write_error"  # the system would not write an output (permissions, a full disk)


class DownloadFailed(SourceError):
    code = "download_failed"  # no connection, a TLS failure, an HTTP error status, too many redirects


class DownloadTimeout(SourceError):
    code = "download_timeout"  # connecting or the whole download took longer than --timeout


class BlockedAddress(SourceError):
    code = "blocked_address"  # the host is private, loopback, link-local, multicast or reserved (--allow-private)


# Every code a source can fail with, for docs and tests: a code is a contract, as the engine's are.
SOURCE_CODES = tuple(c.code for c in SourceError.__subclasses__())


@dataclass(frozen=True)
class Task:
    """One input, as handed to whatever runs it (it is pickled to a worker process)."""
    index: int
    source: str  # a path, a URL or "-", as the user gave it
    path: str | None = None  # read by whoever runs it
    data: bytes | None = None  # already in hand: standard input, a download
    base_name: str | None = None  # web_sizes' stem, chosen before it runs (its snippet names the files)
    parts: str | None = None  # -j: write the files here as `<parts>-<k>.part` rather than send their bytes back


@dataclass(frozen=True)
class Written:
    """A file a -j worker wrote under a temporary name; the main process names it (in input order) and renames it.
    Sending 200 kB of a photo back through a pipe cost the main process, and the workers waiting on it, more
    than the op's own time for a small photo left over."""
    path: str
    size: int
    sha256: str


PART_PREFIX = ".pixelpress-"


def parts_prefix(folder: Path, index: int) -> str:
    """Where input `index` of this run writes its temporary files: hidden, and this process's own."""
    return str(folder / f"{PART_PREFIX}{os.getpid()}-{index}")


def discard_parts(folders) -> None:
    """Remove the temporary files this run's workers left in `folders` (a run stopped, a worker killed)."""
    for folder in folders:
        for part in Path(folder).glob(f"{PART_PREFIX}{os.getpid()}-*.part"):
            part.unlink(missing_ok=True)


def write_parts(prefix: str, files: list) -> list:
    """`files` written as `<prefix>-<k>.part`, each replaced by its Written."""
    written: list[str] = []
    try:
        Path(prefix).parent.mkdir(parents=True, exist_ok=True)
        out = []
        for k, (name, mime, blob, meta) in enumerate(files):
            path = f"{prefix}-{k}.part"
            written.append(path)
            with open(path, "wb") as f:  # not mkstemp: its files are private (0600), outputs get the umask's mode
                f.write(blob)
            out.append((name, mime, Written(path, len(blob), hashlib.sha256(blob).hexdigest()), meta))
        return out
    except BaseException:
        for path in written:
            Path(path).unlink(missing_ok=True)
        raise


def read_path(path: str | Path) -> bytes:
    """The file's bytes; one over the engine's file-size cap is refused before it is read."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > DEFAULT_LIMITS.max_bytes:
            raise TooLarge(f"The file is {size / 1e6:.1f} MB; the limit is {DEFAULT_LIMITS.max_bytes / 1e6:.0f} MB.")
        return path.read_bytes()
    except FileNotFoundError:
        raise NotFound("No such file (it went away before it was read).") from None
    except OSError as exc:
        raise ReadError(f"Could not read the file: {exc.strerror or exc}") from None


def run_op(op: str, data: bytes, options: dict, base_name: str | None = None) -> list[tuple[str, str, bytes, dict]]:
    """The op's files for one input: (name, mime, bytes, meta) each, the main one first."""
    opts = dict(options)
    if base_name is not None:
        opts["base_name"] = base_name
    result = resolve(op)(data, opts)
    files = [("main", result.mime, result.data, result.meta)]
    files += [(x.name, x.mime, x.data, x.meta) for x in result.extras]
    if op == "web_sizes":
        html = result.meta["picture_html"].encode() + b"\n"
        files.append(("picture_html", "text/html", html, {"bytes": len(html)}))
    return files


def error_of(exc: BaseException) -> dict:
    """Any failure of one input as {code, message}: one input's bug must not stop the others."""
    if isinstance(exc, (PixelpressError, SourceError)):
        return exc.to_dict()
    if isinstance(exc, MemoryError):
        return OutOfMemory("The image needs more memory than this machine gave it.").to_dict()
    if isinstance(exc, OSError):
        return ReadError(f"Could not read the file: {exc.strerror or exc}").to_dict()
    return {"code": "internal_error", "message": f"Unexpected engine failure: {type(exc).__name__}: {exc}"}


def peak_rss() -> int:
    """This process's peak resident memory so far, in bytes (0 where the system does not say: Windows)."""
    try:
        import resource
    except ImportError:
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux says kB, macOS bytes


@functools.cache
def keep_freed_memory() -> None:
    """Let glibc keep the large blocks a process frees, for the next input to reuse.

    Every input allocates and frees buffers of the same sizes (a decoded photo, its output); by default a
    fresh worker process hands them back to the system each time and takes them again as new zeroed
    pages: 190,000 page faults, 0.4 s of system time, for 50 photos of 2 MP at -j 2. The process's peak is
    what the memory plan counts anyway. glibc only (musl and others have no mallopt: nothing changes).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 256 << 20)  # M_TRIM_THRESHOLD: free memory kept at the heap's top
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD, at its 64-bit maximum: blocks below come from the heap
    except (OSError, AttributeError):
        pass


def outcome(op: str, options: dict, task: Task) -> dict:
    """Run one task: {"index", "ok", "files" | "error", "bytes_in", "ms", "pid", "peak_rss"}."""
    keep_freed_memory()
    start = time.perf_counter()
    out: dict = {"index": task.index, "bytes_in": None}
    try:
        data = task.data if task.data is not None else read_path(task.path)
        if len(data) > DEFAULT_LIMITS.max_bytes:  # standard input and a cluster's reads stop one byte past the cap
            raise TooLarge(f"The file is over {DEFAULT_LIMITS.max_bytes / 1e6:.0f} MB, the limit.")
        out["bytes_in"] = len(data)
        files = run_op(op, data, options, task.base_name)
        if task.parts is not None:
            try:
                files = write_parts(task.parts, files)
            except OSError as exc:
                raise WriteError(f"Could not write in {Path(task.parts).parent}: {exc.strerror or exc}") from None
        out.update(ok=True, files=files)
    except Exception as exc:  # noqa: BLE001 - typed by error_of (MemoryError too); the run goes on
        out.update(ok=False, error=error_of(exc))
    out["ms"] = round((time.perf_counter() - start) * 1000, 1)
    out["pid"], out["peak_rss"] = os.getpid(), peak_rss()
    return out
