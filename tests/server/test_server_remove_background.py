"""POST /api/v1/remove-background against the API4.ai fake: success and every upstream failure."""

from __future__ import annotations

import time

import pytest
from conftest import API4AI_KEY, serve
from partner_fakes import FakeApi4ai
from samples import photo_bytes
from server_helpers import decode

URL = "/api/v1/remove-background"


@pytest.fixture(scope="module")
def photo() -> bytes:
    return photo_bytes("astronaut.png", fmt="JPEG", quality=85)


def post_image(client, base, data, field="image", mime="image/jpeg", **kw):
    return client.post(base + URL, files={field: ("photo.jpg", data, mime)}, **kw)


def test_success_returns_png_with_alpha_at_source_size(make_server, partners, api4ai_fake, client, photo):
    base, _ = make_server(**partners)
    r = post_image(client, base, photo)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    assert r.headers["x-pixelpress-provider"] == "api4ai"
    out = decode(r.content)
    src = decode(photo)
    assert out.format == "PNG" and out.mode == "RGBA"
    assert out.size == src.size
    lo, hi = out.getchannel("A").getextrema()
    assert (lo, hi) == (0, 255), "the cut-out must have transparent and opaque pixels"
    # The fake saw the documented request: one call, mode query, key header, field `image`.
    assert api4ai_fake.calls == 1
    seen = api4ai_fake.requests[0]
    assert seen["query"] == {"mode": "fg-image"}
    assert seen["headers"]["x-api-key"] == API4AI_KEY
    assert seen["filename"] == "image.jpeg"  # the client's file name is not forwarded


def test_rapidapi_header_style(make_server, client, photo):
    fake = FakeApi4ai(key="rapid-key-1", header="rapidapi")
    with serve(fake.app) as url:
        base, _ = make_server(api4ai_url=url, api4ai_key="rapid-key-1", api4ai_key_header="rapidapi")
        r = post_image(client, base, photo)
    assert r.status_code == 200, r.text
    assert fake.requests[0]["headers"]["x-rapidapi-host"] == "127.0.0.1"
    assert "x-api-key" not in fake.requests[0]["headers"]


def test_upstream_500_is_retried_once_then_502(make_server, partners, api4ai_fake, client, photo):
    api4ai_fake.mode = "error500"
    base, _ = make_server(**partners)
    r = post_image(client, base, photo)
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "upstream_error"
    assert api4ai_fake.calls == 2


def test_one_upstream_500_is_absorbed_by_the_retry(make_server, partners, api4ai_fake, client, photo):
    api4ai_fake.mode = "flaky"
    base, _ = make_server(**partners)
    r = post_image(client, base, photo)
    assert r.status_code == 200, r.text
    assert api4ai_fake.calls == 2
    assert decode(r.content).mode == "RGBA"


def test_upstream_timeout_is_504_after_one_retry(make_server, partners, api4ai_fake, client, photo):
    api4ai_fake.mode = "slow"
    api4ai_fake.delay = 1.5
    base, _ = make_server(**partners, upstream_timeout=0.3)
    start = time.monotonic()
    r = post_image(client, base, photo)
    elapsed = time.monotonic() - start
    assert r.status_code == 504
    assert r.json()["error"]["code"] == "upstream_timeout"
    assert api4ai_fake.calls == 2
    assert elapsed < 1.5, "the configured timeout must bound the wait"


@pytest.mark.parametrize("mode, code", [
    ("malformed", "upstream_malformed"),
    ("no_image", "upstream_malformed"),
    ("failure", "upstream_failure"),
])
def test_bad_upstream_answers_are_502(make_server, partners, api4ai_fake, client, photo, mode, code):
    api4ai_fake.mode = mode
    base, _ = make_server(**partners)
    r = post_image(client, base, photo)
    assert r.status_code == 502
    body = r.json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert api4ai_fake.calls == 1, "a well-formed answer, even a failure, is not retried"


def test_upstream_rejecting_our_key_is_502_without_retry(make_server, api4ai_fake, client, photo):
    base, _ = make_server(api4ai_url=api4ai_fake.url, api4ai_key="wrong-key")
    r = post_image(client, base, photo)
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "upstream_error"
    assert "wrong-key" not in r.text
    assert api4ai_fake.calls == 1


def test_empty_bodies_are_400(make_server, partners, api4ai_fake, client):
    base, _ = make_server(**partners)
    r = client.post(base + URL)
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_body"
    r = post_image(client, base, b"")
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_body"
    assert api4ai_fake.calls == 0


@pytest.mark.parametrize("payload", [b"%PDF-1.7\n...", b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"hello world" * 50])
def test_non_images_are_415(make_server, partners, api4ai_fake, client, payload):
    base, _ = make_server(**partners)
    # The client claims image/png; the server trusts only the bytes.
    r = post_image(client, base, payload, mime="image/png")
    assert r.status_code == 415
    assert r.json()["error"]["code"] == "unsupported_format"
    assert api4ai_fake.calls == 0


def test_raw_non_multipart_body_is_415(make_server, partners, client, photo):
    base, _ = make_server(**partners)
    r = client.post(base + URL, content=photo, headers={"content-type": "image/jpeg"})
    assert r.status_code == 415


def test_missing_field_is_400(make_server, partners, client, photo):
    base, _ = make_server(**partners)
    r = post_image(client, base, photo, field="picture")
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "missing_field"
