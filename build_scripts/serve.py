"""`make run`: the built studio and the optional server on localhost, and one line saying where to open it.

A busy port is said in one plain line with the command that avoids it, instead
of uvicorn's `[Errno 98]` traceback; once the server answers its health check,
the URL to open is printed.

It stops as on Ctrl+C, the server with it and the port freed, however it is
asked to: SIGINT, SIGTERM or SIGHUP to this process or its process group (a
closed terminal), SIGTERM to `make` (make passes SIGTERM on to its recipe),
and, with --stop-with-make, SIGHUP or SIGINT sent to `make` alone, which make
does not pass on but waits on its recipe for ever. Should this process be
killed outright (SIGKILL), the kernel ends the server too (Linux: the server is
started with PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_BUDGET_S = 30
STOP_BUDGET_S = 5  # the server's graceful shutdown, then SIGKILL
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
PR_SET_PDEATHSIG = 1


class Stop(Exception):
    """A stop signal arrived (raised from its handler in the main thread)."""


def port_free(host: str, port: int) -> bool:
    """Whether a server can listen on the port now (as uvicorn does: a closed one's TIME_WAIT does not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def wait_up(url: str, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + START_BUDGET_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def _die_with_parent(parent: int):
    """The server child's pre-exec step: SIGTERM when this process ends, however it ends (Linux only)."""
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork: the child only calls it
    except (OSError, AttributeError):
        prctl = None

    def setup() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked around the fork, see main()
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
            if os.getppid() != parent:  # the parent died before prctl: nobody would stop us
                os._exit(1)

    def unblock() -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    return setup if sys.platform.startswith("linux") else unblock


def _caught(pid: int) -> int | None:
    """The set of signals `pid` catches (its SigCgt mask), or None where /proc cannot say."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16)
    except OSError:
        return None
    return None


def watch_make(make: int) -> None:
    """Stop when `make` (our parent) starts dying from a signal it does not pass on.

    GNU make catches SIGHUP, SIGINT, SIGTERM and SIGQUIT; on one of them it
    resets that signal to its default (so it no longer shows as caught in
    /proc/PID/status), sends only SIGTERM on to its recipe and then waits for
    the recipe to end before it dies. So a stop signal that make catches at
    the start and no longer catches now means make is waiting for us to end.
    """
    bits = [1 << (s - 1) for s in STOP_SIGNALS]
    start = _caught(make)
    if start is None:
        return
    watched = [b for b in bits if start & b]

    def loop() -> None:
        while os.getppid() == make:
            now = _caught(make)
            if now is None or any(not now & b for b in watched):
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)  # make is gone altogether

    if watched:
        threading.Thread(target=loop, name="watch-make", daemon=True).start()


def stop(proc: subprocess.Popen) -> None:
    """End the server: SIGTERM (uvicorn closes its socket and exits), SIGKILL if it takes too long."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)  # a second Ctrl+C must not cut the cleanup short
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(STOP_BUDGET_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--static", type=Path, default=ROOT / "dist")
    ap.add_argument("--cross-origin-isolation", action="store_true",
                    help="send COOP/COEP: the network runs on several threads (docs/deploy.md)")
    ap.add_argument("--stop-with-make", action="store_true",
                    help="run by make: also stop when make is sent a signal it does not pass on (Linux)")
    args = ap.parse_args()

    stopping = False

    def on_signal(signum, _frame):
        nonlocal stopping
        if not stopping:  # make's SIGTERM and the watcher's may both come: stop once
            stopping = True
            raise Stop(signum)

    proc = None
    for sig in STOP_SIGNALS:
        signal.signal(sig, on_signal)
    try:
        if not port_free(args.host, args.port):
            print(f"port {args.port} is in use; run `make run PORT={args.port + 1}`", file=sys.stderr)
            return 1
        # No stop signal between the fork and `proc` being set, or a server would be left behind unseen.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            proc = subprocess.Popen([sys.executable, "-m", "pixelpress_server", "--static", str(args.static),
                                     "--host", args.host, "--port", str(args.port), "--log-level", "warning",
                                     *(["--cross-origin-isolation"] if args.cross_origin_isolation else [])],
                                    preexec_fn=_die_with_parent(os.getpid()))
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        if args.stop_with_make:  # after the fork: no thread of ours runs while the child is set up
            watch_make(os.getppid())
        if not wait_up(f"http://{args.host}:{args.port}/health", proc):
            stop(proc)
            print(f"pixelpress-server did not start within {START_BUDGET_S} s", file=sys.stderr)
            return proc.returncode or 1
        print(f"pixelpress is ready: open http://{args.host}:{args.port}/   (Ctrl+C stops it)", flush=True)
        return proc.wait()
    except (Stop, KeyboardInterrupt):
        if proc is not None:
            stop(proc)
        return 0


if __name__ == "__main__":
    sys.exit(main())
