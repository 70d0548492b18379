"""Slow and huge clients are cut off: idle sockets, trickled heads and bodies, huge headers, fd floods,
and a client that hangs up mid-body is a quiet 499, not a 500 with a traceback."""

from __future__ import annotations

import json
import logging
import os
import socket
import time

import httpx
from server_helpers import console_server, metric, raw_request, status_of

CUT_OFF = 10.0  # seconds: every cut-off below is configured at 1-3 s and asserted loosely


def connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=CUT_OFF + 5)


def read_until_closed(sock: socket.socket, limit: float = CUT_OFF) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    start = time.monotonic()
    answer = b""
    sock.settimeout(limit)
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        answer += data
    return answer, time.monotonic() - start


def trickle(sock: socket.socket, data: bytes, every: float, limit: float = CUT_OFF) -> tuple[bytes, float]:
    """Send `data` one byte per `every` seconds until the server answers or closes; (answer, seconds)."""
    start = time.monotonic()
    sock.settimeout(every)
    for byte in data:
        if time.monotonic() - start > limit:
            break
        try:
            sock.sendall(bytes([byte]))
            got = sock.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return b"", time.monotonic() - start
        rest, _ = read_until_closed(sock, 2)
        return got + rest, time.monotonic() - start
    return b"", float("inf")


def error_code(answer: bytes) -> str:
    return json.loads(answer.partition(b"\r\n\r\n")[2])["error"]["code"]


def test_an_idle_connection_is_closed(make_server):
    base, _ = make_server(header_timeout=1.5)
    with connect(base) as sock:
        answer, took = read_until_closed(sock)
    assert answer == b"" and took < CUT_OFF, "a connection that never sends a request must be closed"


def test_a_trickled_request_head_is_cut_off_with_408(make_server, client):
    base, _ = make_server(header_timeout=2)
    head = b"GET /api/health HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with connect(base) as sock:
        answer, took = trickle(sock, head, every=0.05)
    assert took < CUT_OFF
    assert status_of(answer) == 408 and error_code(answer) == "request_timeout"
    assert client.get(base + "/api/health").status_code == 200


def test_pipelined_requests_filling_one_read_are_all_answered(make_server):
    """1,000 small pipelined heads arrive in one read (~60 kB, past the 32 kB head cap) ending inside
    the next head: each head is small, so every request is answered, none refused as too large."""
    base, _ = make_server()
    host = base.removeprefix("http://")
    one = f"GET /api/health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    n = 1000
    with connect(base) as sock:
        sock.sendall(one * n + one[:20])
        time.sleep(0.5)  # the server reads what it has: the last head is still open
        sock.sendall(one[20:])
        answer = b""
        while answer.count(b"HTTP/1.1 ") < n + 1:
            data = sock.recv(1 << 20)
            assert data, f"the server closed the connection after {answer.count(b'HTTP/1.1 ')} answers"
            answer += data
    assert answer.count(b"HTTP/1.1 200") == n + 1


def test_a_huge_header_is_431_before_it_is_all_read(make_server, client):
    base, _ = make_server()
    host = base.removeprefix("http://")
    line = b"X-Big-%d: " + b"a" * 65_000 + b"\r\n"
    chunks = [line % i for i in range(512)]  # a 32 MiB head, as the probe sent
    start = time.monotonic()
    answer = raw_request(base, f"GET /api/health HTTP/1.1\r\nHost: {host}\r\n".encode(), chunks, timeout=CUT_OFF)
    assert time.monotonic() - start < CUT_OFF
    assert status_of(answer) == 431 and error_code(answer) == "header_too_large"
    assert client.get(base + "/api/health").status_code == 200


def test_a_trickled_body_is_cut_off_with_408(make_server, client):
    base, _ = make_server(body_timeout=2, idle_timeout=5)
    host = base.removeprefix("http://")
    head = (f"POST /api/v1/uploads HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=B\r\n"
            "Content-Length: 100000\r\n\r\n").encode()
    with connect(base) as sock:
        sock.sendall(head)
        answer, took = trickle(sock, b"--B\r\n" + b"x" * 1000, every=0.1)
    assert took < CUT_OFF
    assert status_of(answer) == 408 and error_code(answer) == "request_timeout"
    text = client.get(base + "/metrics").text
    assert metric(text, "pixelpress_http_requests_total", route="/api/v1/uploads", status="408") == 1


def test_a_stalled_body_is_cut_off_with_408(make_server):
    base, _ = make_server(idle_timeout=1)
    host = base.removeprefix("http://")
    head = (f"POST /api/v1/uploads HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=B\r\n"
            "Content-Length: 100000\r\n\r\n--B\r\n").encode()
    with connect(base) as sock:
        sock.sendall(head)
        answer, took = read_until_closed(sock)
    assert took < CUT_OFF
    assert status_of(answer) == 408 and error_code(answer) == "request_timeout"


def test_a_client_that_hangs_up_mid_body_is_a_quiet_499(make_server, client, caplog):
    caplog.set_level(logging.INFO)
    base, _ = make_server()
    host = base.removeprefix("http://")
    head = (f"POST /api/v1/uploads HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=B\r\n"
            "Content-Length: 100000\r\n\r\n").encode()
    with connect(base) as sock:
        sock.sendall(head + b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n" + b"x" * 1000)
        time.sleep(0.3)
    deadline = time.monotonic() + CUT_OFF
    route = "/api/v1/uploads"
    while True:
        text = client.get(base + "/metrics").text
        if metric(text, "pixelpress_http_requests_total", route=route) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert metric(text, "pixelpress_http_requests_total", route=route, status="499") == 1
    assert metric(text, "pixelpress_http_requests_total", route=route, status="500") == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [r.getMessage() for r in caplog.records]
    assert not any(r.exc_info for r in caplog.records)


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_idle_sockets_cannot_exhaust_file_descriptors(tmp_path):
    env = {"PIXELPRESS_MAX_CONNECTIONS": "20", "PIXELPRESS_HEADER_TIMEOUT": "2"}
    with console_server(tmp_path, env=env) as (base, proc):
        baseline = open_fds(proc.pid)
        socks = [connect(base) for _ in range(150)]  # the probe's 148 idle sockets, and then some
        try:
            time.sleep(0.5)
            assert open_fds(proc.pid) <= baseline + 20 + 5, "connections past the cap must not hold descriptors"
            # Those past the cap are closed at once; the idle rest within the head deadline.
            start = time.monotonic()
            for sock in socks:
                read_until_closed(sock, max(0.1, CUT_OFF - (time.monotonic() - start)))
            assert time.monotonic() - start < CUT_OFF
        finally:
            for sock in socks:
                sock.close()
        assert httpx.get(base + "/api/health", timeout=5).status_code == 200
        assert open_fds(proc.pid) <= baseline + 5
