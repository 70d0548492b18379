"""The static site at `/` on the same origin (so the page reaches `/api` without CORS)."""

from __future__ import annotations

import os

from starlette.responses import Response
from starlette.staticfiles import StaticFiles

# Python's mimetypes table varies by platform and misses some of these;
# a wrong type breaks WebAssembly streaming compilation and module workers.
MIME = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".whl": "application/octet-stream",
    ".zip": "application/octet-stream",
    ".svg": "image/svg+xml",
}

# The page, scripts and manifest must revalidate so a redeploy is seen at once;
# everything else (wheels, wasm, images) may be cached for a while.
REVALIDATE = {".html", ".js", ".mjs", ".css", ".json", ".webmanifest"}


class SiteFiles(StaticFiles):
    def file_response(self, full_path, stat_result, scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        ext = os.path.splitext(str(full_path))[1].lower()
        if ext in MIME:
            response.headers["content-type"] = MIME[ext]
        response.headers["cache-control"] = "no-cache" if ext in REVALIDATE else "public, max-age=3600"
        return response
