"""web/client/remote.js run in Node against live servers: success, fallbacks, uploads."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from samples import photo_bytes

HERE = Path(__file__).resolve().parent
REMOTE_JS = HERE.parents[1] / "web" / "client" / "remote.js"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def test_remote_js_against_live_servers(make_server, partners, api4ai_fake, tmp_path):
    photo = photo_bytes("astronaut.png", fmt="JPEG")
    (tmp_path / "photo.jpg").write_bytes(photo)
    configured, _ = make_server(**partners)
    embedded, _ = make_server(upload_dir=tmp_path / "up")
    dead = "http://127.0.0.1:9"  # discard port: nothing listens there
    start = time.monotonic()
    done = subprocess.run(["node", str(HERE / "remote_check.mjs"), str(REMOTE_JS), configured, embedded, dead,
                           str(tmp_path / "photo.jpg")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 30
    out = json.loads(done.stdout.strip().splitlines()[-1])

    assert out["probeConfigured"]["available"] is True
    assert out["probeConfigured"]["health"]["partners"]["api4ai"]["configured"] is True
    assert out["probeDead"] == {"available": False}

    assert out["remove"]["ok"], out["remove"]
    value = out["remove"]["value"]
    assert value["provider"] == "api4ai" and value["type"] == "image/png"
    assert value["magic"] == [137, 80, 78, 71, 13, 10, 26, 10]
    assert api4ai_fake.calls == 1

    assert out["removeEmbedded"] == {"ok": False, "code": "not_configured", "fallback": True, "status": 503}
    assert out["removeDead"]["code"] in ("network_error", "timeout") and out["removeDead"]["fallback"] is True
    assert out["removeNotImage"] == {"ok": False, "code": "unsupported_format", "fallback": False, "status": 415}

    assert out["upload"]["ok"], out["upload"]
    assert out["upload"]["value"]["url"] == embedded + "/api/v1/uploads/remote/check.jpg"
    assert out["uploadReadBack"] == {"status": 200, "size": len(photo)}
    assert out["uploadBadPath"]["code"] == "invalid_path" and out["uploadBadPath"]["status"] == 400


def test_remote_js_timeout_is_a_fallback(make_server, partners, api4ai_fake, tmp_path):
    api4ai_fake.mode = "slow"
    api4ai_fake.delay = 3
    (tmp_path / "p.jpg").write_bytes(photo_bytes("rocket.jpg"))
    base, _ = make_server(**partners)
    script = (
        f"import {{removeBackgroundRemote}} from {json.dumps(REMOTE_JS.as_uri())};"
        "import {readFile} from 'node:fs/promises';"
        f"const blob = new Blob([await readFile({json.dumps(str(tmp_path / 'p.jpg'))})]);"
        f"try {{ await removeBackgroundRemote(blob, {{base: {json.dumps(base)}, timeoutMs: 300}}); console.log('resolved'); }}"
        "catch (e) { console.log(JSON.stringify({code: e.code, fallback: e.fallback})); }"
    )
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"code": "timeout", "fallback": True}
