"""pixelpress: the image engine. Pure Python on Pillow, NumPy and OpenCV.

Runs natively (CPython >= 3.11) and in Pyodide inside a Web Worker. Every
operation is `op(image_bytes, options) -> Result`, one module of `pixelpress.ops`
named after it (see `operation` and `registry`).
"""

from .errors import PixelpressError
from .result import Output, Result

__version__ = "0.1.0"
__all__ = ["PixelpressError", "Output", "Result", "__version__"]
