"""Small helpers shared by the server tests."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from PIL import Image
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]


def run_coroutine(coro):
    """`asyncio.run(coro)` on a thread of its own.

    In the whole suite the browser tests' Playwright keeps an event loop running
    on the main thread, where `asyncio.run` refuses to start another.
    """
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text, 0 if absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def raw_request(base_url: str, head: bytes, chunks: list[bytes] = (), timeout: float = 10) -> bytes:
    """Send a hand-written request (head, then body chunks) and read the answer head and body.

    Raw sockets because an HTTP client would finish or abort the body; here the
    test controls exactly how many bytes go out before it waits for the answer.
    """
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(head)
        for chunk in chunks:
            # A server that refuses mid-body answers and closes; bytes still arriving after its
            # close make its kernel reset the connection. Stop sending once the answer is there.
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(chunk)
            except (ConnectionResetError, BrokenPipeError):
                break
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
            if b"\r\n\r\n" in answer:
                header, _, body = answer.partition(b"\r\n\r\n")
                length = [line for line in header.split(b"\r\n") if line.lower().startswith(b"content-length:")]
                if length and len(body) >= int(length[0].split(b":")[1]):
                    break
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def console_server(cwd, *args: str, env: dict[str, str] | None = None, start_timeout: float = 20,
                   preexec_fn=None):
    """Run `pixelpress-server` (the console command users run) in a subprocess; yield (base URL, process).

    `preexec_fn` runs in the child before it starts (e.g. to lower its open-file limit)."""
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PIXELPRESS_")}
    environ["PYTHONPATH"] = str(ROOT / "py")
    environ.update(env or {})
    log = open(Path(cwd) / f"server-{port}.log", "w+b")
    proc = subprocess.Popen([sys.executable, "-m", "pixelpress_server", "--port", str(port), "--no-access-log", *args],
                            cwd=cwd, env=environ, stdout=log, stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                httpx.get(base + "/health", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError("pixelpress-server did not start:\n" + log.read().decode(errors="replace")) from None
                time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        log.close()
