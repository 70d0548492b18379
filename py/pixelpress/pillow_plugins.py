"""Load exactly the Pillow plugins the engine reads or writes.

Without this, the first save in a format Pillow has not seen yet (WebP, ICO)
calls `Image.init()`, which imports all ~40 of Pillow's plugins: about 330 ms
of source compilation in the browser worker, paid on the user's first file.
It also keeps formats outside formats.FORMATS out of the process entirely (HEIC's
opener is pi-heif's, registered by formats/heic.py on the first HEIC).
Importing a plugin registers it with Pillow, so `Image.open(formats=[...])`
and `Image.save(..., format)` find it without a full init.
"""

from PIL import (  # noqa: F401  (imported for their registration side effect)
    AvifImagePlugin,
    BmpImagePlugin,
    GifImagePlugin,
    IcoImagePlugin,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

# Pillow 11.3 always ships the plugin, but only builds with libavif can use it:
# native wheels can, Pyodide's cannot (there the browser decodes and encodes AVIF).
AVIF = AvifImagePlugin.SUPPORTED
