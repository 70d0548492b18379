"""The same-origin rule for state-changing requests: a page on another site cannot make a visitor's browser
store uploads or spend API4.ai calls (a multipart POST needs no CORS preflight)."""

from __future__ import annotations

import pytest
from conftest import CLIENT_KEY
from samples import photo_bytes

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def png() -> bytes:
    return photo_bytes("coffee.png", fmt="PNG")


def upload(client, base, png, path, **headers):
    return client.post(base + "/api/v1/uploads", files={"file": ("a.png", png, "image/png")},
                       data={"path": path}, headers=headers)


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL},
    {"Origin": "null"},  # sandboxed frames, file: pages
    {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site"},  # a browser that left Origin out
    {"Origin": "http://127.0.0.1"},  # same host, other port: another origin
])
def test_cross_site_upload_is_403_and_stores_nothing(make_server, client, tmp_path, png, headers):
    base, _ = make_server(upload_dir=tmp_path / "up")
    r = upload(client, base, png, "csrf.png", **headers)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "cross_origin"
    assert not (tmp_path / "up" / "csrf.png").exists()


def test_cross_site_removal_is_403_and_spends_no_partner_call(make_server, partners, api4ai_fake, client, png):
    base, _ = make_server(**partners)
    r = client.post(base + "/api/v1/remove-background", files={"image": ("a.png", png, "image/png")},
                    headers={"Origin": EVIL})
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin"
    assert api4ai_fake.calls == 0


def test_same_origin_allowlisted_and_non_browser_requests_pass(make_server, client, tmp_path, png):
    base, _ = make_server(upload_dir=tmp_path / "up", cors_origins="https://studio.example")
    assert upload(client, base, png, "a.png", Origin=base, **{"Sec-Fetch-Site": "same-origin"}).status_code == 201
    assert upload(client, base, png, "b.png").status_code == 201  # curl, scripts: no Origin
    r = upload(client, base, png, "c.png", Origin="https://studio.example", **{"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 201, r.text
    assert r.headers["access-control-allow-origin"] == "https://studio.example"
    assert sorted(p.name for p in (tmp_path / "up").iterdir()) == ["a.png", "b.png", "c.png"]


def test_a_valid_client_key_is_exempt(make_server, client, png):
    base, _ = make_server(client_keys=CLIENT_KEY)
    assert upload(client, base, png, "k.png", Origin=EVIL, Authorization=f"Bearer {CLIENT_KEY}").status_code == 201
    r = upload(client, base, png, "k2.png", Origin=EVIL, Authorization="Bearer wrong")
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin"


def test_a_configured_public_url_is_the_only_own_origin(make_server, client, png):
    base, _ = make_server(public_url="https://studio.example/")
    assert upload(client, base, png, "p.png", Origin="https://studio.example").status_code == 201
    # With a public URL the Host header is not trusted (a DNS-rebinding page sends its own Host and Origin).
    r = upload(client, base, png, "q.png", Origin="http://rebound.example", Host="rebound.example")
    assert r.status_code == 403 and r.json()["error"]["code"] == "cross_origin"
