"""Body cap (413), client keys (401) and the rate limiter (429)."""

from __future__ import annotations

import asyncio

import pytest
from conftest import CLIENT_KEY
from pixelpress_server.limits import RateLimiter
from samples import photo_bytes
from server_helpers import raw_request, run_coroutine, status_of

URL = "/api/v1/remove-background"
CAP = 64 * 1024


def head(base: str, extra: str) -> bytes:
    host = base.removeprefix("http://")
    return (f"POST {URL} HTTP/1.1\r\nHost: {host}\r\n"
            "Content-Type: multipart/form-data; boundary=XyZ\r\n" + extra + "\r\n").encode()


def test_declared_oversize_is_413_before_any_body_byte(make_server, partners, api4ai_fake):
    base, _ = make_server(**partners, max_body_bytes=CAP)
    # Only the head is sent: the answer must come without the server waiting for the body.
    answer = raw_request(base, head(base, f"Content-Length: {CAP + 1}\r\n"), timeout=5)
    assert status_of(answer) == 413
    assert b'"too_large"' in answer
    assert api4ai_fake.calls == 0


def test_streamed_chunked_oversize_is_413_while_streaming(make_server, partners, api4ai_fake):
    base, _ = make_server(**partners, max_body_bytes=CAP)
    part = (b"--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n"
            b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff" + b"\0" * 8192)
    chunks = [part] + [b"\0" * 8192] * (CAP // 8192 + 1)
    encoded = [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks]
    # No terminating 0-chunk is sent: a 413 can only come from counting bytes mid-stream.
    answer = raw_request(base, head(base, "Transfer-Encoding: chunked\r\n"), encoded, timeout=5)
    assert status_of(answer) == 413
    assert b'"too_large"' in answer
    assert api4ai_fake.calls == 0


def test_body_under_the_cap_passes(make_server, partners, client):
    photo = photo_bytes("astronaut.png", fmt="JPEG", quality=60)
    base, _ = make_server(**partners, max_body_bytes=len(photo) + 4096)
    r = client.post(base + URL, files={"image": ("a.jpg", photo, "image/jpeg")})
    assert r.status_code == 200, r.text


@pytest.fixture
def keyed(make_server, partners):
    base, _ = make_server(**partners, client_keys=f"other-key,{CLIENT_KEY}")
    return base


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", f"Basic {CLIENT_KEY}", "Bearer", "Bearer x y", CLIENT_KEY])
def test_missing_or_wrong_client_key_is_401(keyed, client, api4ai_fake, header):
    headers = {"Authorization": header} if header is not None else {}
    r = client.post(keyed + URL, files={"image": ("a.jpg", b"\xff\xd8\xff", "image/jpeg")}, headers=headers)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    assert api4ai_fake.calls == 0


def test_right_client_key_passes_and_health_stays_open(keyed, client):
    photo = photo_bytes("chelsea.png", fmt="PNG")
    r = client.post(keyed + URL, files={"image": ("a.png", photo, "image/png")},
                    headers={"Authorization": f"Bearer {CLIENT_KEY}"})
    assert r.status_code == 200, r.text
    r = client.post(keyed + "/api/v1/uploads", files={"file": ("a.png", photo, "image/png")},
                    data={"path": "k/a.png"})
    assert r.status_code == 401
    assert client.get(keyed + "/health").status_code == 200


def test_rate_limit_is_429_with_retry_after(make_server, client):
    base, _ = make_server(rate_limit_per_minute=3)
    codes = [client.post(base + URL).status_code for _ in range(3)]
    assert codes == [503, 503, 503]  # embedded default: allowed, but not configured
    r = client.post(base + URL)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    # A moving 60 s window: the wait is until the oldest of the three requests leaves it.
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # /health is not rate limited: load balancers probe it constantly.
    assert client.get(base + "/health").status_code == 200


def test_rate_limit_counts_each_client_key_separately(make_server, client):
    base, _ = make_server(rate_limit_per_minute=2, client_keys="key-a,key-b")
    a = {"Authorization": "Bearer key-a"}
    b = {"Authorization": "Bearer key-b"}
    assert [client.post(base + URL, headers=a).status_code for _ in range(3)] == [503, 503, 429]
    assert client.post(base + URL, headers=b).status_code == 503


def test_limiter_refills_over_time():
    async def scenario():
        limiter = RateLimiter(per_minute=3, window_seconds=1)
        assert [await limiter.hit("c") for _ in range(3)] == [0, 0, 0]
        assert await limiter.hit("c") >= 1
        assert await limiter.hit("other") == 0
        await asyncio.sleep(1.2)  # the window has moved past the first requests
        assert await limiter.hit("c") == 0
        assert await RateLimiter(per_minute=0).hit("c") == 0  # disabled

    run_coroutine(scenario())


def test_limiter_table_stays_bounded_and_keeps_exhausted_clients():
    async def scenario():
        limiter = RateLimiter(per_minute=2, max_clients=100)
        assert [await limiter.hit("ip:victim") for _ in range(3)][-1] >= 1  # out of requests
        for i in range(1000):
            await limiter.hit(f"ip:{i}")
        assert len(limiter._seen) <= 100
        assert await limiter.hit("ip:victim") >= 1, "a flood of identities must not reset an exhausted one"

    run_coroutine(scenario())
