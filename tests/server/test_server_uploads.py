"""POST /api/v1/uploads to the Supabase Storage fake, and object path sanitising."""

from __future__ import annotations

import pytest
from conftest import SUPABASE_KEY
from samples import photo_bytes

URL = "/api/v1/uploads"


@pytest.fixture(scope="module")
def png() -> bytes:
    return photo_bytes("coffee.png", fmt="PNG")


def upload(client, base, data, path, mime="application/octet-stream"):
    return client.post(base + URL, files={"file": ("x", data, mime)}, data={"path": path})


def test_public_url_round_trip(make_server, partners, supabase_fake, client, png):
    base, _ = make_server(**partners)
    r = upload(client, base, png, "cars/2026/coffee-1.png")
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert url == f"{supabase_fake.url}/storage/v1/object/public/results/cars/2026/coffee-1.png"
    got = client.get(url)
    assert got.status_code == 200 and got.content == png
    # Stored with the sniffed type (the client said octet-stream) and the documented headers.
    assert got.headers["content-type"] == "image/png"
    seen = supabase_fake.uploads[0]["headers"]
    assert seen["authorization"] == f"Bearer {SUPABASE_KEY}" and seen["apikey"] == SUPABASE_KEY


def test_signed_url_round_trip(make_server, partners, supabase_fake, client, png):
    base, _ = make_server(**partners, supabase_url_mode="signed")
    r = upload(client, base, png, "signed/one.png")
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert url.startswith(f"{supabase_fake.url}/storage/v1/object/sign/results/signed/one.png?token=")
    got = client.get(url)
    assert got.status_code == 200 and got.content == png
    # Without the token the object is not readable: the URL really is signed.
    assert client.get(url.split("?")[0]).status_code != 200


def test_duplicate_path_is_409(make_server, partners, client, png):
    base, _ = make_server(**partners)
    assert upload(client, base, png, "dup.png").status_code == 201
    r = upload(client, base, png, "dup.png")
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "already_exists"


def test_storage_failure_is_502(make_server, partners, supabase_fake, client, png):
    supabase_fake.mode = "error500"
    base, _ = make_server(**partners)
    r = upload(client, base, png, "fails.png")
    assert r.status_code == 502
    assert r.json()["error"]["code"] == "upstream_error"
    assert SUPABASE_KEY not in r.text


BAD_PATHS = [
    "../escape.png",
    "a/../../escape.png",
    "a/..",
    "./a.png",
    "/etc/passwd",
    "C:/Windows/x.png",
    "a\\..\\b.png",
    "a\x00b.png",
    "a\nb.png",
    "a\x7fb.png",
    "%2e%2e/escape.png",
    "..%2fescape.png",
    "%2E%2E%2Fescape.png",
    "a//b.png",
    ".hidden.png",
    "a/" * 20 + "b.png",
    "x" * 600 + ".png",
    "caf\u00e9.png",
    "a/\u2025/b.png",  # a one-dot-leader look-alike of ".."
    "",
]


@pytest.mark.parametrize("path", BAD_PATHS)
def test_unsafe_object_paths_are_400(make_server, partners, supabase_fake, client, png, path):
    base, _ = make_server(**partners)
    r = upload(client, base, png, path)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "invalid_path"
    assert supabase_fake.uploads == []


def test_missing_path_is_400(make_server, partners, client, png):
    base, _ = make_server(**partners)
    r = client.post(base + URL, files={"file": ("x.png", png, "image/png")})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_path"


def test_upload_rejects_non_images_and_empty_files(make_server, partners, supabase_fake, client):
    base, _ = make_server(**partners)
    r = upload(client, base, b"<html><script>alert(1)</script></html>", "page.png", mime="image/png")
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_format"
    r = upload(client, base, b"", "empty.png")
    assert r.status_code == 400 and r.json()["error"]["code"] == "empty_body"
    assert supabase_fake.uploads == []


@pytest.mark.parametrize("mode, url_mode", [("redirect", "public"), ("redirect_sign", "signed")])
def test_a_storage_redirect_is_a_failure_not_a_url(make_server, partners, supabase_fake, client, png, mode, url_mode):
    supabase_fake.mode = mode
    base, _ = make_server(**partners, supabase_url_mode=url_mode)
    r = upload(client, base, png, "moved.png")
    assert r.status_code == 502, r.text
    assert r.json()["error"]["code"] == "upstream_error"
    assert "url" not in r.json()
