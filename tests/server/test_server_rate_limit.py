"""The rate limit cannot be dodged: forwarded headers, floods of identities, several instances.

Every server here is the console command users run (`pixelpress-server`) in
its own process, on loopback, with a real Redis where the limit is shared.
"""

from __future__ import annotations

import socket

import httpx
from server_helpers import console_server

URL = "/api/v1/remove-background"  # embedded default: 503 not_configured when allowed, 429 when limited


def post(base: str, **headers) -> httpx.Response:
    return httpx.post(base + URL, headers=headers, timeout=10)


def test_forwarded_for_is_not_trusted_by_default(tmp_path):
    with console_server(tmp_path, env={"PIXELPRESS_RATE_LIMIT_PER_MINUTE": "3"}) as (base, _):
        codes = [post(base, **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(5)]
    assert codes == [503, 503, 503, 429, 429], "rotating X-Forwarded-For must not give fresh identities"


def test_proxy_headers_are_trusted_only_when_turned_on_and_only_from_the_named_proxy(tmp_path):
    env = {"PIXELPRESS_RATE_LIMIT_PER_MINUTE": "2"}
    with console_server(tmp_path, "--proxy-headers", "--forwarded-allow-ips", "127.0.0.1", env=env) as (base, _):
        # Behind a trusted proxy each real client has its own limit...
        assert [post(base, **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(4)] == [503] * 4
        # ...and one client is still limited.
        assert [post(base, **{"X-Forwarded-For": "198.51.100.7"}).status_code for _ in range(3)] == [503, 503, 429]
    with console_server(tmp_path, "--proxy-headers", "--forwarded-allow-ips", "10.9.9.9", env=env) as (base, _):
        codes = [post(base, **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(3)]
    assert codes == [503, 503, 429], "headers from an address that is not the named proxy are ignored"


def pipelined_posts(base: str, forwarded: list[str]) -> list[int]:
    """POST once per X-Forwarded-For value, pipelined on one connection (fast); the answers' status codes."""
    host, port = base.removeprefix("http://").split(":")
    statuses: list[int] = []
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        batch = 500
        for start in range(0, len(forwarded), batch):
            chunk = forwarded[start:start + batch]
            sock.sendall(b"".join(
                f"POST {URL} HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {ip}\r\nContent-Length: 0\r\n\r\n".encode()
                for ip in chunk))
            buffer = b""
            got = 0
            while got < len(chunk):
                data = sock.recv(1 << 20)
                assert data, "the server closed the connection"
                buffer += data
                while True:
                    head_end = buffer.find(b"\r\n\r\n")
                    if head_end < 0:
                        break
                    head = buffer[:head_end].decode()
                    length = int(next(line.split(":")[1] for line in head.split("\r\n")
                                      if line.lower().startswith("content-length")))
                    if len(buffer) < head_end + 4 + length:
                        break
                    statuses.append(int(head.split(" ", 2)[1]))
                    buffer = buffer[head_end + 4 + length:]
                    got += 1
    return statuses


def test_a_flood_of_identities_does_not_reset_an_exhausted_client(tmp_path):
    # The probe's attack: exhaust one identity, then send 10,050 others so the table overflows.
    env = {"PIXELPRESS_RATE_LIMIT_PER_MINUTE": "3"}
    with console_server(tmp_path, "--proxy-headers", env=env) as (base, _):
        victim = {"X-Forwarded-For": "198.51.100.1"}
        assert [post(base, **victim).status_code for _ in range(4)] == [503, 503, 503, 429]
        flood = [f"10.{i // 65536}.{i // 256 % 256}.{i % 256}" for i in range(10_050)]
        statuses = pipelined_posts(base, flood)
        assert len(statuses) == len(flood) and set(statuses) <= {503, 429}
        r = post(base, **victim)
        assert r.status_code == 429, "the exhausted client was forgotten"
        assert r.json()["error"]["code"] == "rate_limited"


def test_two_instances_share_one_limit_through_redis(tmp_path, redis_url):
    env = {"PIXELPRESS_RATE_LIMIT_PER_MINUTE": "3", "PIXELPRESS_RATE_LIMIT_STORAGE": redis_url}
    with console_server(tmp_path, env=env) as (a, _), console_server(tmp_path, env=env) as (b, _):
        assert httpx.get(a + "/health").json()["limits"]["rate_limit_shared"] is True
        codes = [post(a).status_code, post(b).status_code, post(a).status_code]
        assert codes == [503, 503, 503]
        for base in (b, a):
            r = post(base)
            assert r.status_code == 429, "the other instance's requests count too"
            assert 1 <= int(r.headers["retry-after"]) <= 60


def test_a_redis_outage_limits_per_process_instead_of_failing(tmp_path):
    from server_helpers import free_port

    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    env = {"PIXELPRESS_RATE_LIMIT_PER_MINUTE": "2", "PIXELPRESS_RATE_LIMIT_STORAGE": dead}
    with console_server(tmp_path, env=env) as (base, _):
        assert [post(base).status_code for _ in range(3)] == [503, 503, 429]
    log = next(tmp_path.glob("server-*.log")).read_text()
    assert "rate limit storage unavailable" in log and "Traceback" not in log
