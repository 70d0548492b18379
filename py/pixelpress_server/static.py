"""The static site at `/` on the same origin (so the page reaches `/api` without CORS).

Only a built site belongs here: a path with any segment starting with `.`
(`/.env`, `/.git/config`) is never served, and a folder that could hold the
server's own secrets (the working folder, an ancestor of it, a folder with a
`.env`, or one holding the upload folder) is refused at start-up.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import normalise_origin

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

# A file may be cached for good only when its name changes with its content (a hash in the
# name, e.g. app.3f9a1c2e.js or model-5e2b...onnx). Everything else, including the engine wheel
# whose name stays the same across builds, revalidates (a cheap 304 when unchanged).
HASHED = re.compile(r"(?:^|[.\-_+])[0-9a-f]{8,}(?:[.\-_+]|$)", re.I)
IMMUTABLE = "public, max-age=31536000, immutable"


def _hidden(path: str) -> bool:
    return any(part.startswith(".") for part in path.replace("\\", "/").split("/") if part not in ("", "."))


def unsafe_static_root(directory: Path, *, upload_dir: Path | None = None, cwd: Path | None = None) -> str | None:
    """Why `directory` must not be served at `/`, or None when it may be."""
    root = Path(directory).resolve()
    here = Path(cwd or os.getcwd()).resolve()
    if here == root or here.is_relative_to(root):
        return (f"{root} is the working folder or holds it; the server reads its settings (.env) from there. "
                "Serve the built site instead, e.g. --static dist")
    if (root / ".env").exists():
        return f"{root} holds a .env file (server settings and keys); serve a folder with only the built site"
    if upload_dir is not None:
        uploads = Path(upload_dir).resolve()
        if uploads == root or uploads.is_relative_to(root):
            return (f"the upload folder {uploads} is inside {root}; uploads would be served as site files "
                    "(by their names, not as images). Put PIXELPRESS_UPLOAD_DIR outside the site")
    return None


class SiteFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        # Checked on the path as sent (before `..` is folded away) and as normalised.
        if _hidden(scope.get("path", "")) or _hidden(path):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        full_path, stat_result = super().lookup_path(path)
        if full_path:
            # A symlink inside the site may still point at a dotfile inside it.
            for directory in self.all_directories:
                real = os.path.realpath(directory)
                if os.path.commonpath([full_path, real]) == real and _hidden(os.path.relpath(full_path, real)):
                    return "", None
        return full_path, stat_result

    def file_response(self, full_path, stat_result, scope, status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        ext = os.path.splitext(str(full_path))[1].lower()
        if ext in MIME:
            response.headers["content-type"] = MIME[ext]
        name = os.path.basename(str(full_path))
        response.headers["cache-control"] = IMMUTABLE if HASHED.search(name) else "no-cache"
        return response


def is_site_path(path: str) -> bool:
    """Whether `path` goes to the static site: everything but the API, /health and /metrics."""
    return not (path == "/api" or path.startswith("/api/") or path in ("/health", "/metrics"))


class StaticCors:
    """CORS for the static site's files only (`PIXELPRESS_STATIC_CORS_ORIGINS`), never for the API.

    A page on another origin that imports the client and starts the worker fetches the client,
    worker, Pyodide, wasm, wheels and models with CORS; those files (every file of the built site,
    which is public and carries no credentials) get `Access-Control-Allow-Origin` for the listed
    origins, or `*`. With a list, every site answer also carries `Vary: Origin`, so a shared cache
    never hands one origin's answer to another. A preflight (OPTIONS) for GET or HEAD is answered
    204. The API's own CORS stays `CORS_ORIGINS` alone (auth.Guard, CORSMiddleware).
    """

    METHODS = "GET, HEAD"

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.any = "*" in origins
        self.origins = {normalise_origin(o) for o in origins if o != "*"}

    def _allowed(self, origin: str | None) -> bool:
        return origin is not None and (self.any or normalise_origin(origin) in self.origins)

    def _cors_headers(self, origin: str) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": "*"} if self.any else {"Access-Control-Allow-Origin": origin}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_site_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        allowed = self._allowed(origin)
        if scope["method"] == "OPTIONS" and allowed and "access-control-request-method" in headers:
            method_ok = headers["access-control-request-method"].upper() in ("GET", "HEAD")
            extra = {"Access-Control-Allow-Methods": self.METHODS, "Access-Control-Allow-Headers": "Range",
                     "Access-Control-Max-Age": "600"} if method_ok else {}
            vary = {} if self.any else {"Vary": "Origin"}
            answer = Response(status_code=204 if method_ok else 400,
                              headers={**(self._cors_headers(origin) if method_ok else {}), **extra, **vary})
            await answer(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if allowed:
                    for name, value in self._cors_headers(origin).items():
                        out[name] = value
                if not self.any and "origin" not in out.get("vary", "").lower():
                    out.append("Vary", "Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)
