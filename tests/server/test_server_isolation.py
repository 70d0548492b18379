"""Cross-origin isolation (COOP/COEP) on the server's answers: off unless asked for, then on every answer.

What the headers buy in a browser (threads for the network) is tested in tests/browser/test_model_backends.py
over this same server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from server_helpers import console_server

ISOLATION = {"cross-origin-opener-policy": "same-origin", "cross-origin-embedder-policy": "require-corp"}


@pytest.fixture
def site(tmp_path) -> Path:
    root = tmp_path / "dist"
    (root / "worker").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>pixelpress</title>")
    (root / "worker" / "model-worker.js").write_text("self.onmessage = () => {};")
    (root / "runtime.wasm").write_bytes(b"\0asm\1\0\0\0")
    return root


def answers(client, base: str):
    return [client.get(base + "/"), client.get(base + "/worker/model-worker.js"), client.get(base + "/runtime.wasm"),
            client.get(base + "/nope"), client.get(base + "/api/health"), client.get(base + "/health")]


def test_no_isolation_headers_unless_asked(make_server, client, site):
    base, _ = make_server(static_dir=site)
    for r in answers(client, base):
        assert not {k for k in ISOLATION if k in r.headers}, r.url


def test_isolation_puts_coop_and_coep_on_every_answer(make_server, client, site):
    base, _ = make_server(static_dir=site, cross_origin_isolation=True)
    for r in answers(client, base):
        for name, value in ISOLATION.items():
            assert r.headers.get_list(name) == [value], (r.url, name)
        assert r.headers["x-content-type-options"] == "nosniff"  # the other headers stay
    assert client.get(base + "/runtime.wasm").headers["content-type"] == "application/wasm"


@pytest.mark.parametrize("how", ["flag", "env"])
def test_the_console_command_turns_it_on(tmp_path, client, site, how):
    args = ["--static", str(site)] + (["--cross-origin-isolation"] if how == "flag" else [])
    env = {"PIXELPRESS_CROSS_ORIGIN_ISOLATION": "1"} if how == "env" else {}
    with console_server(tmp_path, *args, env=env) as (base, _proc):
        r = client.get(base + "/")
        assert r.status_code == 200
        assert {k: r.headers.get(k) for k in ISOLATION} == ISOLATION


def test_a_value_that_is_not_a_switch_is_refused(tmp_path, client, site):
    env = {"PIXELPRESS_CROSS_ORIGIN_ISOLATION": "sometimes"}
    with pytest.raises(RuntimeError, match="cross_origin_isolation"), console_server(tmp_path, "--static", str(site),
                                                                                     env=env, start_timeout=10):
        pass
