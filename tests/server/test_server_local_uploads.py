"""The embedded default's upload folder under concurrency and conflicts, and where its URLs point."""

from __future__ import annotations

import threading

import httpx
import pytest
from samples import photo_bytes

URL = "/api/v1/uploads"


@pytest.fixture(scope="module")
def png() -> bytes:
    return photo_bytes("coffee.png", fmt="PNG")


def upload(client, base, data, path, **headers):
    return client.post(base + URL, files={"file": ("x.png", data, "image/png")}, data={"path": path}, headers=headers)


def test_racing_uploads_to_one_new_path_store_exactly_one(make_server, tmp_path, png):
    base, _ = make_server(upload_dir=tmp_path / "up", rate_limit_per_minute=0)
    # Distinct, large-ish bodies (a PNG with trailing padding still sniffs as PNG) widen the race window.
    racers, rounds = 16, 6
    bodies = [png + bytes([i]) * (1 << 20) for i in range(racers)]
    for n in range(rounds):
        statuses: list[int] = [0] * racers
        gate = threading.Barrier(racers)

        def send(i: int, statuses=statuses, gate=gate, n=n) -> None:
            with httpx.Client(timeout=30) as c:
                gate.wait(10)
                statuses[i] = upload(c, base, bodies[i], f"race/{n}.png").status_code

        threads = [threading.Thread(target=send, args=(i,)) for i in range(racers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(statuses) == [201] + [409] * (racers - 1), (n, statuses)
        stored = (tmp_path / "up" / "race" / f"{n}.png").read_bytes()
        assert stored == bodies[statuses.index(201)], "the stored file is the winner's, whole"
    # No temporary files are left behind.
    assert sorted(p.name for p in (tmp_path / "up" / "race").iterdir()) == [f"{n}.png" for n in range(rounds)]


def test_file_versus_folder_conflicts_are_409(make_server, client, tmp_path, png):
    base, _ = make_server(upload_dir=tmp_path / "up")
    assert upload(client, base, png, "conf").status_code == 201
    r = upload(client, base, png, "conf/x.png")  # a file stands where a folder is needed
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "already_exists"
    assert upload(client, base, png, "dir/x.png").status_code == 201
    r = upload(client, base, png, "dir")  # a folder stands where the file would go
    assert r.status_code == 409, r.text
    assert r.json()["error"]["code"] == "already_exists"
    r = upload(client, base, png, "conf/deeper/x.png")
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_exists"
    assert (tmp_path / "up" / "conf").read_bytes() == png


def test_urls_never_come_from_the_host_header(make_server, client, tmp_path, png):
    base, _ = make_server(upload_dir=tmp_path / "up", public_url="")
    r = upload(client, base, png, "h/one.png", Host="evil.example")
    assert r.status_code == 201, r.text
    assert r.json()["url"] == "/api/v1/uploads/h/one.png"  # root-relative: the page resolves it
    assert client.get(base + r.json()["url"]).content == png

    base, _ = make_server(upload_dir=tmp_path / "up2", public_url="https://studio.example")
    r = upload(client, base, png, "h/two.png", Host="evil.example")
    assert r.status_code == 201, r.text
    assert r.json()["url"] == "https://studio.example/api/v1/uploads/h/two.png"
