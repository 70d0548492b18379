"""Shared image-array helpers for the NumPy/OpenCV operations.

Imported only by operation modules that already need NumPy, never by the
package itself (conversion must not load NumPy or OpenCV). OpenCV is imported
inside the functions that use it, so NumPy-only callers stay light.

Arrays are HxWxC uint8 in RGB(A) order with straight (non-premultiplied)
alpha unless a function says otherwise.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .decode import DEFAULT_LIMITS, Decoded, Limits, fit_size, open_image


def decode_rgba(data: bytes, limits: Limits = DEFAULT_LIMITS,
                fit: tuple[int | None, int | None] | None = None) -> tuple[Decoded, np.ndarray, bool]:
    """Decode through `open_image`; returns (decoded, HxWx4 uint8 RGBA, had_transparency).

    `had_transparency` is true only when the source has an alpha channel that
    is not fully opaque, so an opaque RGBA PNG counts as an ordinary photo.
    `fit` (max width, max height) shrinks the picture to fit (Lanczos, never
    upscaling), using JPEG's reduced-scale decoding where possible.
    """
    return rgba_of(open_image(data, limits, fit=fit), fit)


def rgba_of(src: Decoded, fit: tuple[int | None, int | None] | None = None) -> tuple[Decoded, np.ndarray, bool]:
    """A decoded picture as `decode_rgba` returns it (shrunk to `fit`, as RGBA, whether it had transparency)."""
    im = src.image
    if fit is not None:
        target = fit_size(src.width, src.height, *fit)
        if im.size != target:
            im = im.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    if im.mode == "RGBA":
        arr = np.asarray(im, dtype=np.uint8).copy()
        had_alpha = bool((arr[..., 3] < 255).any())
    else:
        arr = np.asarray(im.convert("RGBA"), dtype=np.uint8).copy()
        had_alpha = False
    return src, arr, had_alpha


def premultiply(arr: np.ndarray) -> np.ndarray:
    """RGBA uint8 to float32 premultiplied RGBA in 0..255 (for resampling without dark fringes)."""
    f = arr.astype(np.float32)
    a = f[..., 3:4] * (1.0 / 255.0)
    f[..., :3] *= a
    return f


def premultiplied16(arr: np.ndarray) -> np.ndarray:
    """RGBA uint8 to uint16 premultiplied RGBA (colour * alpha, alpha * 255; 255 * 255 fits), exactly.

    Half the memory traffic of float32, and OpenCV's multiply rather than
    NumPy's on strided channel views, which took ~190 ms on an 8 MP cut-out.
    """
    import cv2

    a = cv2.extractChannel(arr, 3)
    return cv2.multiply(arr, cv2.merge([a, a, a, np.full_like(a, 255)]), dtype=cv2.CV_16U)


def unpremultiply(f: np.ndarray) -> np.ndarray:
    """Float32 premultiplied RGBA back to straight uint8 RGBA."""
    a = f[..., 3:4]
    safe = np.where(a > 1e-3, a, 1.0)
    rgb = np.where(a > 1e-3, f[..., :3] * (255.0 / safe), 0.0)
    out = np.empty(f.shape, np.uint8)
    out[..., :3] = np.clip(rgb + 0.5, 0, 255)
    out[..., 3] = np.clip(f[..., 3] + 0.5, 0, 255)
    out[out[..., 3] == 0, :3] = 0  # no stray colour under full transparency
    return out


def resize_rgba(arr: np.ndarray, width: int, height: int) -> np.ndarray:
    """High-quality resize of straight RGBA: premultiplied, INTER_AREA down, Lanczos up."""
    import cv2

    h, w = arr.shape[:2]
    if (w, h) == (width, height):
        return arr.copy()
    interp = cv2.INTER_AREA if (width <= w and height <= h) else cv2.INTER_LANCZOS4
    opaque = bool((arr[..., 3] == 255).all())
    if opaque:  # no alpha to respect: resample the colours directly
        out = cv2.resize(arr, (width, height), interpolation=interp)
        out[..., 3] = 255
        return out
    if interp == cv2.INTER_AREA:
        f = cv2.resize(premultiplied16(arr), (width, height), interpolation=interp).astype(np.float32) * (1.0 / 255.0)
        return unpremultiply(f)
    f = cv2.resize(premultiply(arr), (width, height), interpolation=interp)
    np.clip(f, 0, 255, out=f)
    f[..., :3] = np.minimum(f[..., :3], f[..., 3:4])  # Lanczos overshoot must not exceed alpha
    return unpremultiply(f)


def over(dst: np.ndarray, src: np.ndarray, x: int, y: int) -> np.ndarray:
    """Composite straight-alpha RGBA `src` over straight-alpha `dst` (in place) with its top-left at (x, y).

    Opaque source pixels are copied and transparent ones skipped; the float
    arithmetic runs only on the partly transparent pixels (usually a thin edge),
    which keeps a 12 MP composite cheap in the browser.
    """
    h, w = src.shape[:2]
    region = dst[y:y + h, x:x + w]
    a = src[..., 3]
    opaque = a == 255
    np.copyto(region, src, where=opaque[..., None])
    ys, xs = np.nonzero((a > 0) & ~opaque)
    if ys.size == 0:
        return dst
    s = src[ys, xs].astype(np.float32)
    d = region[ys, xs].astype(np.float32)
    sa = s[:, 3:4] * (1.0 / 255.0)
    da = d[:, 3:4] * (1.0 / 255.0)
    oa = sa + da * (1.0 - sa)
    safe = np.where(oa > 1e-6, oa, 1.0)
    rgb = (s[:, :3] * sa + d[:, :3] * da * (1.0 - sa)) / safe
    out = np.empty_like(s)
    out[:, :3] = rgb
    out[:, 3:4] = oa * 255.0
    region[ys, xs] = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return dst


def blur_large(mask: np.ndarray, sigma: float, *, target_sigma: float = 3.0) -> np.ndarray:
    """Gaussian blur of a single-channel float32 image, fast for large sigmas.

    For sigma above `target_sigma` the image is shrunk so the blur runs with a
    small kernel, then scaled back with linear interpolation. A blurred mask has
    no detail finer than sigma, so nothing visible is lost, and the cost no
    longer grows with sigma (the browser's OpenCV has no SIMD, where a
    full-resolution sigma-15 blur costs over a second).
    """
    import cv2

    if sigma <= 0:
        return mask.astype(np.float32, copy=True)
    h, w = mask.shape[:2]
    factor = max(1.0, sigma / target_sigma)
    if factor < 1.5 or min(h, w) / factor < 8:
        return cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
    sw, sh = max(1, round(w / factor)), max(1, round(h / factor))
    small = cv2.resize(mask.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    s = sigma * sw / w
    small = cv2.GaussianBlur(small, (0, 0), s, borderType=cv2.BORDER_CONSTANT)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def blur_alpha_u8(alpha: np.ndarray, sigma: float, pad: int, gain: float = 1.0,
                  *, target_sigma: float = 3.0) -> np.ndarray:
    """uint8 alpha -> uint8 Gaussian-blurred alpha, padded by `pad` px per side and scaled by `gain`.

    Same downscale-blur-upscale idea as `blur_large`, but the full-resolution
    arrays stay uint8 (a 12 MP float pass costs seconds in the browser).
    """
    import cv2

    padded = cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    h, w = padded.shape
    factor = max(1.0, sigma / target_sigma)
    if sigma <= 0:
        return cv2.convertScaleAbs(padded, alpha=gain)
    if factor < 1.5 or min(h, w) / factor < 8:
        blurred = cv2.GaussianBlur(padded.astype(np.float32), (0, 0), sigma, borderType=cv2.BORDER_CONSTANT)
        return np.clip(blurred * gain + 0.5, 0, 255).astype(np.uint8)
    sw, sh = max(1, round(w / factor)), max(1, round(h / factor))
    small = cv2.resize(padded, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32)
    small = cv2.GaussianBlur(small, (0, 0), sigma * sw / w, borderType=cv2.BORDER_CONSTANT)
    small = np.clip(small * gain + 0.5, 0, 255).astype(np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
