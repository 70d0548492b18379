"""Fixtures: partner fakes and pixelpress servers, all real HTTP on 127.0.0.1 under uvicorn."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from partner_fakes import FakeApi4ai, FakeSupabase
from pixelpress_server.app import create_app
from pixelpress_server.serving import uvicorn_options
from pixelpress_server.settings import Settings

API4AI_KEY = "api4ai-secret-5f2c"
SUPABASE_KEY = "supabase-secret-9b1e"
CLIENT_KEY = "client-secret-77aa"


def bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.contextmanager
def serve(app, sock: socket.socket | None = None):
    """Run an ASGI app under uvicorn on a free loopback port (or `sock`); yield its base URL."""
    sock = sock or bound_socket()
    port = sock.getsockname()[1]
    # A pixelpress app is run as `pixelpress-server` runs it; the partner fakes get uvicorn's defaults.
    settings = getattr(getattr(app, "state", None), "settings", None)
    options = uvicorn_options(settings, in_process=True) if isinstance(settings, Settings) else {}
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=1, **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def api4ai_fake():
    fake = FakeApi4ai(key=API4AI_KEY)
    with serve(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(scope="session")
def supabase_fake():
    fake = FakeSupabase(key=SUPABASE_KEY)
    with serve(fake.app) as url:
        fake.url = url
        yield fake


@pytest.fixture(autouse=True)
def _reset_fakes(request):
    # Only reset the fakes a test actually uses, so unrelated tests do not start them.
    for name in ("api4ai_fake", "supabase_fake"):
        if name in request.fixturenames:
            request.getfixturevalue(name).reset()
    yield


@pytest.fixture
def make_server(tmp_path, monkeypatch):
    """Start a pixelpress server with the given settings; returns (base_url, app)."""
    # The environment must not leak into the tests' settings.
    import os

    for name in list(os.environ):
        if name.startswith("PIXELPRESS_"):
            monkeypatch.delenv(name)
    stack = contextlib.ExitStack()

    def start(**overrides):
        # The socket is bound first so the server can be told its own public URL, as an operator would.
        sock = bound_socket()
        values = {"upload_dir": tmp_path / "uploads", "upstream_retry_backoff": 0.05,
                  "public_url": f"http://127.0.0.1:{sock.getsockname()[1]}"}
        values.update(overrides)
        try:
            app = create_app(Settings(_env_file=None, **values))
        except BaseException:
            sock.close()
            raise
        return stack.enter_context(serve(app, sock)), app

    with stack:
        yield start


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A real redis-server on a free loopback port, for the shared rate limit; its URL."""
    binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if binary is None:
        pytest.fail("redis-server is not installed: `make setup` installs it (build_scripts/ensure_redis.sh), "
                    "or run `apt-get install redis-server`")
    sock = bound_socket()
    port = sock.getsockname()[1]
    sock.close()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"redis-server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis, emptied for this test."""
    port = int(redis_server.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=2) as conn:
        conn.sendall(b"FLUSHALL\r\n")
        assert conn.recv(16).startswith(b"+OK")
    return redis_server


@pytest.fixture
def partners(api4ai_fake, supabase_fake):
    """Settings pointing at both fakes."""
    return {
        "api4ai_url": api4ai_fake.url, "api4ai_key": API4AI_KEY,
        "supabase_url": supabase_fake.url, "supabase_key": SUPABASE_KEY, "supabase_bucket": supabase_fake.bucket,
    }


@pytest.fixture
def client():
    with httpx.Client(timeout=20) as c:
        yield c
