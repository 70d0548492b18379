"""`make run`: the built studio and the optional server on localhost, and one line saying where to open it.

A busy port is said in one plain line with the command that avoids it, instead
of uvicorn's `[Errno 98]` traceback; once the server answers its health check,
the URL to open is printed.
"""

from __future__ import annotations

import argparse
import errno
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_BUDGET_S = 30


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--static", type=Path, default=ROOT / "dist")
    args = ap.parse_args()
    if not port_free(args.host, args.port):
        print(f"port {args.port} is in use; run `make run PORT={args.port + 1}`", file=sys.stderr)
        return 1
    proc = subprocess.Popen([sys.executable, "-m", "pixelpress_server", "--static", str(args.static),
                             "--host", args.host, "--port", str(args.port), "--log-level", "warning"])
    try:
        if not wait_up(f"http://{args.host}:{args.port}/health", proc):
            proc.terminate()
            print(f"pixelpress-server did not start within {START_BUDGET_S} s", file=sys.stderr)
            return proc.wait() or 1
        print(f"pixelpress is ready: open http://{args.host}:{args.port}/   (Ctrl+C stops it)", flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        return 0


if __name__ == "__main__":
    sys.exit(main())
