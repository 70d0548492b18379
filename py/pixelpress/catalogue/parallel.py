"""Inputs in worker processes: one per core, and no more than the machine's free memory holds.

How many: `-j` (default: the cores this process may use), at most one per
input, and at most as many as fit in 80% of the memory available now (MemAvailable,
or the room under the cgroup's limit if less), each process counted at its
worst: a base for the interpreter and libraries plus the op's working
memory (`OpSpec.work_bytes_per_pixel`) for the largest picture it may get.
That picture is, first, the largest the op admits at all (its budget, or
the pixel cap); only when that does not fit are the local inputs' headers
read (64 kB each) for their real largest size. A URL's size is not known
before it is downloaded, so it counts at the largest.

The processes are started before any other work (see `_context`).
Results come back in input order (names depend on the earlier inputs'
files, as in a run of one process), while the pool already works on the
next ones. A process that dies (the system killed it, or a crash) is
replaced; the input it held is run again alone, and fails alone if it
kills that process too.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import OutOfMemory
from ..formats import sniff
from ..operation import OpSpec
from .core import Task, error_of, outcome

MB = 1_000_000
# A worker before any picture: Python, Pillow and NumPy; OpenCV's libraries; onnxruntime with the network.
# The peak RSS of -j 2 workers on 0.1 MP photos (`-v` says it) was 22 MB for convert, 57 MB for oil_paint,
# 395 MB for remove_background and 604 MB for car_listing; these leave room above that.
BASE_BYTES = 60 * MB
OPENCV_BYTES = 60 * MB
NETWORK_BYTES = 520 * MB
USABLE = 0.8  # of the available memory: the rest for the system, the page cache and this process
HELD_BYTES = 256 * MB  # downloaded bytes waiting for their turn, at most (and the few downloads under way)
HEADER_BYTES = 65536


def cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def available_memory() -> int | None:
    """Bytes this process's children may still use: MemAvailable, or the room under the cgroup's limit if less."""
    found = []
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except OSError:
        pass
    found += _cgroup_room()
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return None
    return max(0, min(found))


def _cgroup_room() -> list[int]:
    """The room left under this process's cgroup memory limit (v2 `memory.max`, v1 `memory.limit_in_bytes`)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return []
    room = []
    for line in lines:
        _, controllers, where = line.split(":", 2)
        where = where.lstrip("/")
        if controllers == "":  # v2
            files = [Path("/sys/fs/cgroup", where, "memory.max"), Path("/sys/fs/cgroup", where, "memory.current")]
        elif "memory" in controllers.split(","):
            base = Path("/sys/fs/cgroup/memory", where)
            files = [base / "memory.limit_in_bytes", base / "memory.usage_in_bytes"]
        else:
            continue
        try:
            limit = files[0].read_text().strip()
            if limit != "max" and int(limit) < 1 << 60:  # v1 says "no limit" with a huge number
                room.append(int(limit) - int(files[1].read_text()))
        except (OSError, ValueError):
            continue
    return room


def base_bytes(spec: OpSpec) -> int:
    return BASE_BYTES + (OPENCV_BYTES if "opencv-python" in spec.packages else 0) + (NETWORK_BYTES if spec.model else 0)


def largest_admitted(spec: OpSpec) -> int:
    """The most pixels `spec`'s op takes: its working-memory budget's or the pixel cap, whichever is less."""
    limits = spec.limits()
    by_budget = limits.max_work_bytes // limits.work_bytes_per_pixel if limits.work_bytes_per_pixel else limits.max_pixels
    return min(limits.max_pixels, by_budget)


def header_pixels(path: Path) -> int | None:
    """The pixel count a file's header claims, from its first 64 kB; None if that does not say."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER_BYTES)
        fmt = sniff(head)
        size = fmt.size(head) if fmt else None
    except Exception:  # noqa: BLE001 - a header this cannot read counts at the largest; the engine judges the file
        return None
    return size[0] * size[1] if size else None


@dataclass(frozen=True)
class Plan:
    jobs: int
    why: str  # said with -v


def plan(spec: OpSpec, requested: int | None, inputs: int, paths: list[Path], unknown: bool) -> Plan:
    """How many processes: `requested` (else the cores), no more than `inputs` nor than memory allows.
    `paths` are the local inputs (their headers may be read), `unknown` whether others have no header yet."""
    want = max(1, min(requested or cores(), inputs))
    asked = f"-j {requested}" if requested else f"{cores()} cores"
    base, per_px, largest = base_bytes(spec), spec.work_bytes_per_pixel, largest_admitted(spec)
    room = available_memory()
    if room is None:
        return Plan(want, f"{asked}, {inputs} inputs: {want} processes (free memory unknown here)")
    usable = int(room * USABLE)
    what = f"the largest {spec.name} takes"
    if usable // (base + per_px * largest) < want and paths:
        sizes = [header_pixels(p) for p in paths]
        if not unknown and all(sizes) and max(sizes) < largest:  # a larger one the engine refuses unread
            largest, what = max(sizes), "the largest input"
    need = base + per_px * largest
    fits = usable // need
    jobs = max(1, min(want, fits))
    why = (f"{asked}, {inputs} input{'s' if inputs > 1 else ''}; a {spec.name} process needs up to {need / MB:,.0f} MB "
           f"({base / MB:.0f} MB + {per_px} B/px x {largest / 1e6:.1f} MP, {what}); "
           f"{room / MB:,.0f} MB available, 80% holds {fits}: {jobs} process{'es' if jobs > 1 else ''}")
    return Plan(jobs, why)


# --- the worker processes --------------------------------------------------------------------------------

def _start_worker(op: str, threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle: it stops the pool
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    from ..registry import resolve

    resolve(op)  # the op's module and libraries, once per process rather than in the first input's time
    if "cv2" in sys.modules:
        sys.modules["cv2"].setNumThreads(threads)  # the cores are shared out between the processes


def _alone(conn, op: str, options: dict, task: Task) -> None:
    conn.send(outcome(op, options, task))


def _context(fork: bool):
    """Fork when it is safe and asked: on Linux, for the first pool, made before this process starts a thread
    (downloads, the progress bar) and for an op with no network (onnxruntime's threads do not survive a fork).
    Forked workers start at once, with the op already imported. Otherwise a fork server (a clean process
    that forks the workers) or, where there is none, spawn."""
    if fork and sys.platform == "linux":
        return multiprocessing.get_context("fork")
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


class Runner:
    """Runs tasks through `op` in `jobs` processes (in this one when 1), downloading URL tasks first."""

    def __init__(self, op: str, options: dict, jobs: int, fetcher=None, say=None):
        self.op, self.options, self.jobs, self.fetcher = op, options, jobs, fetcher
        self.say, self.deaths = say or (lambda line: None), 0
        self.pool: ProcessPoolExecutor | None = None
        self.lock = threading.Lock()
        # Downloads: queued until _pump starts them, running, and their bytes held until their input is done.
        self.queued: deque = deque()
        self.running = self.held = self.arrived = self.arrived_bytes = 0
        self.sizes: dict[int, int] = {}
        if jobs > 1:
            from ..registry import spec

            self.ctx = _context(fork=False)  # for what comes later, when threads may be running
            if self.ctx.get_start_method() == "forkserver":
                self.ctx.set_forkserver_preload(["pixelpress.catalogue.core", f"pixelpress.ops.{op}"])
            self.pool = self._new_pool(_context(fork=not spec(op).model))
            self.pool.submit(os.getpid)  # starts the workers now (forked: all at once), before any thread here

    def _new_pool(self, ctx=None) -> ProcessPoolExecutor:
        threads = max(1, cores() // self.jobs)
        return ProcessPoolExecutor(self.jobs, mp_context=ctx or self.ctx, initializer=_start_worker,
                                   initargs=(self.op, threads))

    def close(self) -> None:
        if self.fetcher is not None:
            self.fetcher.close()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """Stop at once (Ctrl-C): the workers are ended mid-input and the downloads cut; nothing of theirs is written."""
        if self.fetcher is not None:
            self.fetcher.abort()
        if self.pool is not None:
            # ProcessPoolExecutor ends its workers itself only from Python 3.14 (terminate_workers).
            procs = list(getattr(self.pool, "_processes", {}).values())
            for proc in procs:
                proc.terminate()
            for proc in procs:  # gone before their temporary files are removed
                proc.join(timeout=5)
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
        self.close()

    def run(self, tasks: Iterable[tuple[Task, str | None]]) -> Iterator[tuple[Task, dict]]:
        """(task, url or None) pairs to (task, outcome), in order. A window of tasks runs ahead of the one
        awaited, so that the processes and downloads stay busy while results are written."""
        window: deque = deque()
        todo = iter(tasks)
        # Downloads run further ahead: a slow one (up to its timeout) must not leave the processes idle behind it.
        # Their bytes are bounded by HELD_BYTES (_pump), not by the window.
        ahead = 4 * self.jobs + 4 + (16 * self.fetcher.concurrency if self.fetcher else 0)

        def fill() -> None:
            while len(window) < ahead:
                nxt = next(todo, None)
                if nxt is None:
                    return
                window.append((nxt[0], self._start(*nxt)))

        fill()
        while window:
            task, handle = window.popleft()
            result = self._finish(task, handle)
            with self.lock:
                self.held -= self.sizes.pop(task.index, 0)
            if self.fetcher is not None:
                self._pump()
            fill()
            yield task, result

    def _start(self, task: Task, url: str | None):
        if url is not None:
            download: Future = Future()  # of (bytes, ms): started by _pump when memory allows
            with self.lock:
                self.queued.append((task, url, download))
            self._pump()
            if self.pool is None:
                return download
            done: Future = Future()
            download.add_done_callback(lambda d: self._downloaded(d, task, done))
            return done
        return self._submit(task) if self.pool is not None else None

    def _pump(self) -> None:
        """Start queued downloads, as many at a time as the fetcher runs, while what they would bring (at the
        mean size so far) and what waits already stay under HELD_BYTES."""
        while True:
            with self.lock:
                mean = self.arrived_bytes // self.arrived if self.arrived else MB
                if not self.queued or self.running >= self.fetcher.concurrency or \
                        (self.held + (self.running + 1) * mean > HELD_BYTES and (self.held or self.running)):
                    return  # (downloads start in input order, so the one awaited next is never the one held back)
                task, url, download = self.queued.popleft()
                self.running += 1
            try:
                fetched = self.fetcher.submit(url)
            except RuntimeError:  # the run is stopping: the fetcher's threads are shut down
                return
            fetched.add_done_callback(lambda f, t=task, d=download: self._arrived(t, f, d))

    def _arrived(self, task: Task, fetched: Future, download: Future) -> None:
        with self.lock:
            self.running -= 1
            if not fetched.cancelled() and fetched.exception() is None:
                size = len(fetched.result()[0])
                self.sizes[task.index] = size
                self.held += size
                self.arrived += 1
                self.arrived_bytes += size
        if fetched.cancelled():
            download.cancel()
        elif fetched.exception() is not None:
            download.set_exception(fetched.exception())
        else:
            download.set_result(fetched.result())
        self._pump()

    def _submit(self, task: Task) -> Future:
        """`task` to the pool; a pool a dead worker broke is replaced first (from here or a download's thread)."""
        with self.lock:
            try:
                return self.pool.submit(outcome, self.op, self.options, task)
            except BrokenProcessPool:
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = self._new_pool()
                return self.pool.submit(outcome, self.op, self.options, task)

    def _downloaded(self, download: Future, task: Task, done: Future) -> None:
        if download.cancelled() or self.pool is None:  # the run stopped
            done.cancel()
            return
        if download.exception() is not None:
            done.set_result(self._failed(task, download.exception()))
            return
        data, ms = download.result()
        again = ("again", replace(task, data=data), ms)  # if its worker dies, the bytes are still here
        try:
            running = self._submit(again[1])
        except RuntimeError:  # the run is stopping (the pool shut down)
            done.cancel()
            return
        running.add_done_callback(lambda r: done.set_result(again if r.exception() else dict(r.result(), download_ms=ms)))

    def _failed(self, task: Task, exc: BaseException) -> dict:
        out = {"index": task.index, "ok": False, "error": error_of(exc), "bytes_in": None, "ms": 0.0}
        if hasattr(exc, "download_ms"):
            out["download_ms"] = exc.download_ms
        return out

    def _finish(self, task: Task, handle) -> dict:
        if handle is None:  # one process: it runs here, at its turn
            return outcome(self.op, self.options, task)
        if self.pool is None:  # one process, a download first
            try:
                data, ms = handle.result()
            except Exception as exc:  # noqa: BLE001 - a typed download failure, or error_of types it
                return self._failed(task, exc)
            return dict(outcome(self.op, self.options, replace(task, data=data)), download_ms=ms)
        try:
            result = handle.result()
        except BrokenProcessPool:
            return self._again(task)
        if isinstance(result, tuple):  # ("again", task with its bytes, download ms)
            return dict(self._again(result[1]), download_ms=result[2])
        return result

    def _again(self, task: Task) -> dict:
        """A worker died holding `task` (or one beside it, which broke the pool): `task` again, alone, in a
        process of its own, so that only the input that kills a process fails. The rest go to a new pool."""
        if not self.deaths:
            self.say("a worker process died; the inputs it and its neighbours held run again, each alone")
        self.deaths += 1
        parent, child = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=_alone, args=(child, self.op, self.options, task), daemon=True)
        proc.start()
        child.close()
        try:
            return parent.recv()
        except EOFError:
            proc.join()
            code = proc.exitcode or 0
            if code == -getattr(signal, "SIGKILL", 9):  # the system's OOM killer (no SIGKILL on Windows)
                return self._failed(task, OutOfMemory("The process running it was killed, most likely by the system "
                                                      "for lack of memory."))
            return {"index": task.index, "ok": False, "bytes_in": None, "ms": 0.0,
                    "error": {"code": "internal_error", "message": f"The process running it died (exit status {code})."}}
        finally:
            parent.close()
            proc.join()
