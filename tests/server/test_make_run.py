"""`make run`'s start: the URL to open once the server is up, and a busy port said in one line."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

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
