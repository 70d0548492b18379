"""Slow and huge clients are cut off: idle sockets, trickled heads and bodies, huge headers, fd floods,
and a client that hangs up mid-body is a quiet 499, not a 500 with a traceback."""

from __future__ import annotations

import json
import logging
import os
import select
import socket
import time

import httpx
from pixelpress_server.serving import HEALTH_SLOTS
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
            # Past the cap only HEALTH_SLOTS more are let in (to answer health probes), for 2 s at most.
            assert open_fds(proc.pid) <= baseline + 20 + HEALTH_SLOTS + 5, \
                "connections past the cap must not hold descriptors"
            # Those past the cap are closed within 2 s; the idle rest within the head deadline.
            start = time.monotonic()
            for sock in socks:
                read_until_closed(sock, max(0.1, CUT_OFF - (time.monotonic() - start)))
            assert time.monotonic() - start < CUT_OFF
        finally:
            for sock in socks:
                sock.close()
        assert httpx.get(base + "/api/health", timeout=5).status_code == 200
        assert open_fds(proc.pid) <= baseline + 5


# -- issue 32: a minimum body rate, a connection cap that fits the descriptors, 414 -----------------

ONE_MBIT = 125_000  # bytes/s: a phone's slow uplink


def noise_png(size: int) -> bytes:
    """A PNG of random pixels about `size` bytes long (noise does not compress)."""
    import io

    import numpy as np
    from PIL import Image

    side = int((size / 3) ** 0.5)
    pixels = np.random.default_rng(32).integers(0, 256, (side, side, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def test_an_upload_at_1_mbit_s_passes_the_default_minimum_body_rate(make_server):
    """The server's real defaults (no rate, grace or timeout lowered): a 1.25 MB image trickled at
    125 kB/s, a 12 MP photo's pace on a 1 Mbit/s link, scaled down in time to 10 s. Under the rule
    (each MIN_BODY_RATE bytes buy a second past the grace) a body that passes 10 s at this rate
    passes at any length, so the 4-6 MB photo (32-48 s) does too, within BODY_TIMEOUT (120 s)."""
    from pixelpress_server.settings import Settings

    defaults = Settings(_env_file=None)
    assert ONE_MBIT > 8 * defaults.min_body_rate and defaults.body_rate_grace <= 5
    assert 6_000_000 / ONE_MBIT < defaults.body_timeout
    base, _ = make_server()
    image = noise_png(1_250_000)
    boundary = "pixelpress-slow-phone"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\nphone/slow.png\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()
    step = 0.1

    def paced():
        start = time.monotonic()
        chunk = int(ONE_MBIT * step)
        for i, at in enumerate(range(0, len(body), chunk)):
            delay = start + i * step - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield body[at:at + chunk]

    start = time.monotonic()
    with httpx.Client(timeout=30) as c:
        r = c.post(base + "/api/v1/uploads", content=paced(), headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}", "Content-Length": str(len(body))})
    took = time.monotonic() - start
    assert r.status_code == 201, r.text
    assert took > defaults.body_rate_grace + 3, f"the body took {took:.1f} s: not long enough to test the rate"


def slow_post(base: str, path: str) -> bytes:
    host = base.removeprefix("http://")
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: multipart/form-data; boundary=B\r\n"
            "Content-Length: 1000000\r\n\r\n").encode()


def trickle_kib(sock: socket.socket, every: float = 0.5, limit: float = 20) -> tuple[bytes, float, bool]:
    """Send 1 KiB every `every` s (the probe's slow body) until the server closes the connection.

    (what it answered, seconds until it closed, whether it closed), with the answer read as it comes."""
    start = time.monotonic()
    answer = b""
    sock.settimeout(every)
    while time.monotonic() - start < limit:
        try:
            sock.sendall(b"x" * 1024)
        except (BrokenPipeError, ConnectionResetError):
            return answer, time.monotonic() - start, True
        try:
            data = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return answer, time.monotonic() - start, True
        if not data:
            return answer, time.monotonic() - start, True
        answer += data
        time.sleep(every)
    return answer, time.monotonic() - start, False


def test_a_body_trickled_at_1_kib_per_half_second_is_408_and_closed(make_server, client):
    """The probe's slow body (2 KiB/s) under the default rule: 408 and closed within seconds (it kept
    its connection with no answer for 120 s, BODY_TIMEOUT)."""
    base, _ = make_server()
    with connect(base) as sock:
        sock.sendall(slow_post(base, "/api/v1/uploads")
                     + b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n")
        answer, took, closed = trickle_kib(sock)
    assert answer, f"no answer after {took:.1f} s"
    assert status_of(answer) == 408 and error_code(answer) == "request_timeout", answer[:300]
    assert b"bytes/s" in answer
    assert closed and took < 10, f"the connection was closed: {closed}, after {took:.1f} s"
    text = client.get(base + "/metrics").text
    assert metric(text, "pixelpress_http_requests_total", route="/api/v1/uploads", status="408") == 1


def test_a_body_trickled_after_its_answer_is_closed(make_server):
    """Answered before the body (503 not_configured), the rest is read and dropped: trickled at
    2 KiB/s it must not hold the connection until BODY_TIMEOUT."""
    base, _ = make_server()
    with connect(base) as sock:
        sock.sendall(slow_post(base, "/api/v1/remove-background"))
        answer, took, closed = trickle_kib(sock)
    assert status_of(answer) == 503 and b"not_configured" in answer
    assert closed and took < 12, f"the connection was closed: {closed}, after {took:.1f} s"


def test_an_over_long_request_target_is_414(make_server, client):
    base, _ = make_server()
    host = base.removeprefix("http://")
    for target in ("/" + "a" * 1_000_000, "/api/health?" + "q" * 9000):  # the probe's 1 MB; past 8 KiB
        start = time.monotonic()
        answer = raw_request(base, f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(), timeout=CUT_OFF)
        assert time.monotonic() - start < CUT_OFF
        assert status_of(answer) == 414 and error_code(answer) == "uri_too_long", answer[:200]
    assert client.get(base + "/api/health?" + "q" * 7000).status_code == 200
    # Long headers after a short target are still 431.
    answer = raw_request(base, f"GET / HTTP/1.1\r\nHost: {host}\r\nX-Big: {'a' * 40_000}\r\n\r\n".encode())
    assert status_of(answer) == 431


def limit_open_files(limit: int):
    def lower() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    return lower


def test_the_connection_cap_fits_a_128_descriptor_limit_and_health_still_answers(tmp_path):
    """A process whose hard open-file limit is 128 (a small container): the 1,000-connection cap is
    lowered to fit and logged; 160 idle sockets cannot make it fail `accept`; past the cap a new
    request is 503 busy with Retry-After at once, and /api/health keeps answering."""
    with console_server(tmp_path, env={"PIXELPRESS_HEADER_TIMEOUT": "10"},
                        preexec_fn=limit_open_files(128)) as (base, proc):
        socks = []
        try:
            for _ in range(160):
                socks.append(connect(base))
            time.sleep(0.5)
            assert open_fds(proc.pid) < 128
            for _ in range(5):
                r = httpx.get(base + "/api/health", timeout=3)
                assert r.status_code == 200 and r.json()["status"] == "ok"
            host = base.removeprefix("http://")
            start = time.monotonic()
            answer = raw_request(base, f"GET /api/v1/uploads/a.png HTTP/1.1\r\nHost: {host}\r\n\r\n".encode(),
                                 timeout=5)
            assert time.monotonic() - start < 2
            assert status_of(answer) == 503 and error_code(answer) == "busy"
            assert b"\r\nretry-after: 1\r\n" in answer.lower()
            assert open_fds(proc.pid) < 128
        finally:
            for sock in socks:
                sock.close()
        assert httpx.get(base + "/api/v1/uploads/a.png", timeout=5).status_code == 404  # served again
        log = next(tmp_path.glob("server-*.log")).read_text()
    cap = [line for line in log.splitlines() if "connection cap" in line]
    assert cap and "lowered to fit" in cap[0] and "open-file limit 128" in cap[0], log[-2000:]
    chosen = int(cap[0].split("connection cap ")[1].split()[0])
    assert 8 <= chosen < 64, cap[0]


def test_the_rate_rule_at_its_edge(make_server):
    """The rule, scaled (16 KiB/s after 1 s): twice the floor passes, half of it is 408 about 2 s in
    (8 KiB/s * t = 16 KiB/s * (t - 1)), and a stall the average covers is let through."""
    base, _ = make_server(min_body_rate=16 * 1024, body_rate_grace=1)
    image = noise_png(96 * 1024)
    head = (b"--B\r\nContent-Disposition: form-data; name=\"path\"\r\n\r\n%s\r\n--B\r\n"
            b"Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n")

    def send(name: bytes, rate: int, stall_at: int | None = None) -> tuple[bytes, float]:
        body = head % name + image + b"\r\n--B--\r\n"
        with connect(base) as sock:
            sock.sendall(slow_post(base, "/api/v1/uploads").replace(b"1000000", str(len(body)).encode())
                         .replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
            start = time.monotonic()
            step = 1024
            for i, at in enumerate(range(0, len(body), step)):
                if stall_at is not None and at == stall_at:
                    time.sleep(1.5)
                    start += 1.5
                delay = start + i * step / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if select.select([sock], [], [], 0)[0]:
                    break  # answered (and closing)
                sock.sendall(body[at:at + step])
            answer, _ = read_until_closed(sock)
            return answer, time.monotonic() - start

    answer, took = send(b"fast.png", 32 * 1024)
    assert status_of(answer) == 201, answer[-300:]
    answer, took = send(b"stall.png", 32 * 1024, stall_at=64 * 1024)  # 2 s in: 64 KiB banked, 1.5 s silent
    assert status_of(answer) == 201, answer[-300:]
    answer, took = send(b"slow.png", 8 * 1024)
    assert status_of(answer) == 408 and error_code(answer) == "request_timeout"
    assert 1.5 < took < 4, took
