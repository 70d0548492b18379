"""Partner calls under hostile or broken partners: separate pools, a concurrency cap, a hard deadline,
an answer-size cap, hostile JSON, and partner messages that quote secrets."""

from __future__ import annotations

import asyncio
import io
import time

import httpx
import pytest
from conftest import API4AI_KEY, CLIENT_KEY
from server_helpers import metric, run_coroutine

URL = "/api/v1/remove-background"


@pytest.fixture(scope="module")
def small_png() -> bytes:
    from samples import image

    out = io.BytesIO()
    image("coffee.png").resize((64, 48)).save(out, "PNG")
    return out.getvalue()


def test_hanging_removals_neither_starve_uploads_nor_pile_up(make_server, partners, api4ai_fake, small_png):
    api4ai_fake.mode = "slow"
    api4ai_fake.delay = 20
    base, _ = make_server(**partners, upstream_timeout=25, max_concurrent_removals=4, rate_limit_per_minute=0)

    async def scenario():
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(timeout=30, limits=limits) as c:
            removals = [asyncio.create_task(c.post(base + URL, files={"image": ("a.png", small_png, "image/png")}))
                        for _ in range(110)]
            deadline = time.monotonic() + 10
            while api4ai_fake.calls < 4 and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            start = time.monotonic()
            upload = await c.post(base + "/api/v1/uploads", files={"file": ("a.png", small_png, "image/png")},
                                  data={"path": "while-hanging.png"})
            upload_s = time.monotonic() - start
            health = await c.get(base + "/api/health")
            done = [t for t in removals if t.done()]
            busy = [t.result() for t in done if not t.exception()]
            for t in removals:
                t.cancel()
            await asyncio.gather(*removals, return_exceptions=True)
            return upload, upload_s, health, busy

    upload, upload_s, health, busy = run_coroutine(scenario())
    assert upload.status_code == 201, upload.text
    assert upload_s < 5, f"an upload waited {upload_s:.1f} s behind hanging removals"
    assert health.status_code == 200
    # Only 4 removals reach the partner; the rest are told at once to cut out locally.
    assert api4ai_fake.calls <= 4
    assert len(busy) >= 100 and all(r.status_code == 503 and r.json()["error"]["code"] == "busy" for r in busy)


def test_a_trickled_answer_is_cut_off_by_the_deadline(make_server, partners, api4ai_fake, client, small_png):
    api4ai_fake.mode = "trickle"
    api4ai_fake.delay = 15
    base, _ = make_server(**partners, upstream_timeout=1)
    start = time.monotonic()
    r = client.post(base + URL, files={"image": ("a.png", small_png, "image/png")})
    took = time.monotonic() - start
    assert r.status_code == 504 and r.json()["error"]["code"] == "upstream_timeout"
    assert took < 6, f"two 1 s attempts took {took:.1f} s"


def test_an_oversized_answer_is_502_not_read_whole(make_server, partners, api4ai_fake, client, small_png):
    base, app = make_server(**partners, upstream_max_answer_bytes=2048)
    r = client.post(base + URL, files={"image": ("a.png", small_png, "image/png")})
    assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_malformed"
    assert api4ai_fake.calls == 1, "a too-large answer is not retried"
    text = client.get(base + "/metrics").text
    assert metric(text, "pixelpress_upstream_failures_total", partner="api4ai", reason="too_large") == 1


def test_deeply_nested_json_is_502_upstream_malformed(make_server, partners, api4ai_fake, client, small_png):
    api4ai_fake.mode = "nested"
    base, _ = make_server(**partners)
    r = client.post(base + URL, files={"image": ("a.png", small_png, "image/png")})
    assert r.status_code == 502, r.text
    assert r.json()["error"]["code"] == "upstream_malformed"


def test_partner_messages_are_scrubbed_of_keys(make_server, partners, api4ai_fake, client, small_png):
    api4ai_fake.mode = "echo_key"
    base, _ = make_server(**partners, client_keys=CLIENT_KEY)
    r = client.post(base + URL, files={"image": ("a.png", small_png, "image/png")},
                    headers={"Authorization": f"Bearer {CLIENT_KEY}"})
    assert r.status_code == 502 and r.json()["error"]["code"] == "upstream_failure"
    message = r.json()["error"]["message"]
    assert API4AI_KEY not in r.text and "sk_live_4f9a8b7c6d5e4f3a2b1c0d9e" not in r.text
    assert "[redacted]" in message and "for this plan" in message  # still says what happened
