"""The caps every decode is held to: file size, pixel count, and the op's working memory.

Apart from decode.py so that the format registry (formats/, which reports
the caps to the page) and the decoder can both read them without importing
each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import TooLarge


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 50_000_000
    max_pixels: int = 50_000_000
    # The op's working memory, filled in by OpSpec.limits (0: not estimated).
    work_bytes_per_pixel: int = 0
    max_work_bytes: int = 0
    work_label: str = "This operation"

    def max_work_megapixels(self) -> float | None:
        """The largest picture the working-memory budget admits, in MP rounded down (never promise more)."""
        if not self.work_bytes_per_pixel:
            return None
        return int(self.max_work_bytes / self.work_bytes_per_pixel / 1e5) / 10

    def check_work(self, w: int, h: int) -> None:
        """Refuse, before decoding, a picture the op would need more working memory for than it may use."""
        if self.work_bytes_per_pixel and w * h * self.work_bytes_per_pixel > self.max_work_bytes:
            cap = self.max_work_megapixels()
            raise TooLarge(f"{self.work_label} works on pictures up to {cap:g} megapixels; "
                           f"this one is {w * h / 1e6:.1f} MP. Make it smaller first.")


DEFAULT_LIMITS = Limits()
