"""`make run`: the URL to open once the server is up, a busy port said in one line, and a clean stop.

The stop tests run the real `make run` (only its build step skipped with
`make -o build`, serving web/ as the studio), signal make, serve.py or the
whole group as a terminal, a process manager or a user would, and check
that within a few seconds the port is free and none of its processes is left.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVE = [sys.executable, str(ROOT / "build_scripts" / "serve.py"), "--host", "127.0.0.1", "--static", str(ROOT / "web")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_prints_the_url_once_the_studio_answers():
    port = _free_port()
    proc = subprocess.Popen([*SERVE, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == f"pixelpress is ready: open http://127.0.0.1:{port}/   (Ctrl+C stops it)"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:  # already up when it says so
            assert r.status == 200 and b"<html" in r.read().lower()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_busy_port_is_one_plain_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = subprocess.run([*SERVE, "--port", str(port)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr == f"port {port} is in use; run `make run PORT={port + 1}`\n"


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _bindable(port: int) -> bool:
    """As a new server would bind it (uvicorn sets SO_REUSEADDR)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def make_run():
    """`make run` on a free port, up and answering; yields {make, serve, server, port}. Kills what is left after."""
    if shutil.which("make") is None or not sys.platform.startswith("linux"):
        pytest.skip("needs make and Linux's /proc")
    port = _free_port()
    # Its own session (and process group), as a terminal gives a job; the group is what a hangup reaches.
    started: list[int] = []
    proc = subprocess.Popen(["make", "--no-print-directory", "-o", "build", "run", f"PORT={port}",
                             f"DIST={ROOT / 'web'}", f"PY={sys.executable}"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("pixelpress is ready"), (line, proc.stderr.read() if proc.poll() is not None else "")
        (serve,) = _children(proc.pid)  # no shell in between: make's child is serve.py itself
        assert "serve.py" in Path(f"/proc/{serve}/cmdline").read_text()
        (server,) = _children(serve)
        started += [serve, server]
        assert "pixelpress_server" in Path(f"/proc/{server}/cmdline").read_text()
        assert _listening(port)
        yield {"make": proc, "serve": serve, "server": server, "port": port}
    finally:
        for pid in {*_tree(proc.pid), *started}:  # a server left behind has another parent by now
            if _alive(pid):
                _kill(pid)
        _kill(proc.pid)
        proc.wait(timeout=10)


def _tree(pid: int) -> list[int]:
    out = []
    for kid in _children(pid):
        out += [kid, *_tree(kid)]
    return out


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _assert_all_stopped(run: dict, budget_s: float = 8) -> None:
    deadline = time.monotonic() + budget_s
    pids = (run["serve"], run["server"])
    while time.monotonic() < deadline:
        if run["make"].poll() is not None and not any(map(_alive, pids)) and not _listening(run["port"]):
            break
        time.sleep(0.1)
    left = [pid for pid in pids if _alive(pid)]
    assert run["make"].poll() is not None, "make is still running"
    assert not left, f"left running: {[Path(f'/proc/{p}/cmdline').read_bytes() for p in left]}"
    assert not _listening(run["port"]), f"port {run['port']} still answers"
    assert _bindable(run["port"]), f"port {run['port']} cannot be bound again"


@pytest.mark.parametrize(("target", "sig"), [
    ("make", signal.SIGTERM),     # a process manager, `kill PID` on make
    ("serve", signal.SIGTERM),    # `kill` on the Python process a `ps` shows
    ("serve", signal.SIGHUP),
    ("group", signal.SIGHUP),     # the terminal closed: every process of the job gets it
    ("make", signal.SIGHUP),      # make alone: it passes nothing on, but waits for its recipe
    ("make", signal.SIGINT),      # as `kill -INT` on make alone
    ("group", signal.SIGINT),     # Ctrl+C, as before
    ("serve", signal.SIGKILL),    # no cleanup possible in serve.py: the kernel stops the server
    ("make", signal.SIGKILL),     # make gone at once: serve.py sees its parent change and stops
])
def test_a_signal_stops_make_run_and_frees_the_port(make_run, target, sig):
    if target == "group":
        os.killpg(make_run["make"].pid, sig)
    else:
        os.kill(make_run["make"].pid if target == "make" else make_run[target], sig)
    _assert_all_stopped(make_run)
    if sig != signal.SIGKILL:  # stopped as asked is no failure: no traceback
        assert "Traceback" not in make_run["make"].stderr.read()
