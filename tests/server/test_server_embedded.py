"""The embedded default: no partner configured, the server still serves."""

from __future__ import annotations

from samples import photo_bytes


def test_remove_background_is_503_not_configured(make_server, client):
    base, _ = make_server()
    r = client.post(base + "/api/v1/remove-background",
                    files={"image": ("a.jpg", photo_bytes("rocket.jpg"), "image/jpeg")})
    assert r.status_code == 503
    body = r.json()
    assert set(body) == {"error"} and body["error"]["code"] == "not_configured"
    assert body["error"]["message"]


def test_local_upload_round_trip(make_server, client, tmp_path):
    photo = photo_bytes("rocket.jpg", fmt="JPEG")
    base, _ = make_server(upload_dir=tmp_path / "up")
    r = client.post(base + "/api/v1/uploads", files={"file": ("r.bin", photo, "application/octet-stream")},
                    data={"path": "listing-7/rocket.jpg"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["storage"] == "local"
    assert body["url"] == base + "/api/v1/uploads/listing-7/rocket.jpg"
    assert (tmp_path / "up" / "listing-7" / "rocket.jpg").read_bytes() == photo
    got = client.get(body["url"])
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    # Read-only: the upload route takes no writes by path.
    assert client.put(body["url"], content=b"x").status_code == 405
    assert client.delete(body["url"]).status_code == 405
    # Same path twice is refused, as Supabase does without upsert.
    r = client.post(base + "/api/v1/uploads", files={"file": ("r.jpg", photo, "image/jpeg")},
                    data={"path": "listing-7/rocket.jpg"})
    assert r.status_code == 409


def test_local_reads_refuse_traversal_and_missing_files(make_server, client, tmp_path):
    (tmp_path / "secret.png").write_bytes(photo_bytes("coffee.png", fmt="PNG"))
    base, _ = make_server(upload_dir=tmp_path / "up")
    (tmp_path / "up").mkdir()
    for raw in ("/api/v1/uploads/..%2fsecret.png", "/api/v1/uploads/%2e%2e/secret.png",
                "/api/v1/uploads/%2E%2E%2Fsecret.png", "/api/v1/uploads/a%5c..%5csecret.png",
                "/api/v1/uploads/%2fetc%2fpasswd"):
        r = client.get(base + raw)
        assert r.status_code == 400, raw
        assert r.json()["error"]["code"] == "invalid_path"
    assert client.get(base + "/api/v1/uploads/nothing-here.png").status_code == 404


def test_symlink_out_of_the_upload_folder_is_refused(make_server, client, tmp_path):
    (tmp_path / "secret.png").write_bytes(photo_bytes("coffee.png", fmt="PNG"))
    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "link.png").symlink_to(tmp_path / "secret.png")
    base, _ = make_server(upload_dir=tmp_path / "up")
    r = client.get(base + "/api/v1/uploads/link.png")
    assert r.status_code == 400
