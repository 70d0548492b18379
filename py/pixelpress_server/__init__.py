"""pixelpress_server: the thin optional server.

It does only what a browser cannot: call API4.ai background removal with a
secret key, and upload results to Supabase Storage. No image processing here;
the engine is imported only to sniff uploads. See docs/server.md.
"""

from importlib import metadata

try:
    __version__ = metadata.version("pixelpress")
except metadata.PackageNotFoundError:  # running from the source tree
    __version__ = "0.1.0"

__all__ = ["__version__"]
