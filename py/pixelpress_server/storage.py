"""Where uploaded results go: Supabase Storage when configured, else a local folder (embedded default).

Both take an already validated object path (paths.clean_object_path) and the
sniffed MIME type, and return the URL a browser can load the object from.
"""

from __future__ import annotations

import errno
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

import anyio
import httpx

from .errors import ApiError
from .metrics import Metrics
from .settings import Settings
from .upstream import Upstream

log = logging.getLogger("pixelpress_server.storage")


class SupabaseStorage:
    kind = "supabase"

    def __init__(self, settings: Settings, client: httpx.AsyncClient, metrics: Metrics) -> None:
        self.settings = settings
        self.client = client
        self.base = settings.supabase_url.rstrip("/") + "/storage/v1"
        self.bucket = quote(settings.supabase_bucket, safe="")
        # Uploads are not retried: a lost answer to a successful write would turn into a spurious conflict.
        self.upstream = Upstream("supabase", metrics, settings.upstream_retry_backoff, client,
                                 settings.upstream_timeout, 1024 * 1024)  # storage answers are small JSON

    def _headers(self) -> dict[str, str]:
        key = self.settings.supabase_key.get_secret_value()
        return {"Authorization": f"Bearer {key}", "apikey": key}

    async def put(self, path: str, data: bytes, mime: str) -> str:
        key = quote(path, safe="/")
        timeout = self.settings.upstream_timeout

        def upload() -> httpx.Request:
            return self.client.build_request(
                "POST", f"{self.base}/object/{self.bucket}/{key}", content=data,
                headers={**self._headers(), "Content-Type": mime, "x-upsert": "false"}, timeout=timeout,
            )

        response = await self.upstream.call("upload", upload, retry=False)
        self._check(response, "upload")
        if self.settings.supabase_url_mode == "public":
            return f"{self.base}/object/public/{self.bucket}/{key}"

        def sign() -> httpx.Request:
            return self.client.build_request(
                "POST", f"{self.base}/object/sign/{self.bucket}/{key}",
                json={"expiresIn": self.settings.supabase_signed_ttl}, headers=self._headers(), timeout=timeout,
            )

        response = await self.upstream.call("sign", sign, retry=True)
        self._check(response, "sign")
        try:
            signed = response.json()["signedURL"]
        except (ValueError, KeyError, TypeError, RecursionError):
            signed = None
        if not isinstance(signed, str) or not signed.startswith("/"):
            raise self.upstream.failed("sign", "malformed", 502, "upstream_malformed",
                                       "storage service sent an unexpected signing answer")
        # Supabase answers relative to /storage/v1.
        return self.base + signed

    def _check(self, response: httpx.Response, operation: str) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        # Redirects are not followed (no SSRF), so a 3xx means nothing was stored or signed.
        duplicate = status == 409
        if status == 400:
            # Older Storage versions report a duplicate as HTTP 400 with statusCode "409" in the body.
            try:
                duplicate = str(response.json().get("statusCode")) == "409"
            except (ValueError, AttributeError, RecursionError):
                pass
        if duplicate:
            raise self.upstream.failed(operation, "conflict", 409, "already_exists",
                                       "an object already exists at this path; choose another path")
        log.warning("supabase %s answered HTTP %d", operation, status)
        raise self.upstream.failed(operation, f"http_{status}", 502, "upstream_error",
                                   f"storage service answered HTTP {status}")


def _conflict(message: str = "an object already exists at this path; choose another path") -> ApiError:
    return ApiError(409, "already_exists", message)


class LocalStorage:
    """The embedded default: files under `upload_dir`, served back read-only by the app."""

    kind = "local"
    ROUTE = "/api/v1/uploads/"

    def __init__(self, settings: Settings) -> None:
        self.root = Path(settings.upload_dir).resolve()
        # Never the request's Host: a client could make the answer point anywhere.
        self.public_url = settings.public_url

    def resolve(self, path: str) -> Path:
        """The file for a validated object path; refuses anything that lands outside the root (symlinks)."""
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root) or target == self.root:
            raise ApiError(400, "invalid_path", "object path leaves the upload folder")
        return target

    def url(self, path: str) -> str:
        """Absolute under PIXELPRESS_PUBLIC_URL when set, else root-relative (browsers resolve it)."""
        return self.public_url + self.ROUTE + quote(path, safe="/")

    async def put(self, path: str, data: bytes, mime: str) -> str:
        # Disk writes of up to the body cap would stall the event loop.
        await anyio.to_thread.run_sync(self._write, self.resolve(path), data)
        return self.url(path)

    @staticmethod
    def _write(target: Path, data: bytes) -> None:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise _conflict("an object already exists where this path needs a folder; choose another path") from None
        # Write a temporary file, then hard-link it into place: the link is atomic and fails if
        # anything (file or folder) holds the name, so of racing uploads exactly one wins,
        # nothing is overwritten, and no reader ever sees half a file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            try:
                os.link(tmp, target, follow_symlinks=False)
            except (FileExistsError, IsADirectoryError):
                raise _conflict() from None
            except NotADirectoryError:
                raise _conflict("an object already exists where this path needs a folder; choose another path") from None
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
                _write_exclusive(target, data)  # a file system without hard links
        finally:
            Path(tmp).unlink(missing_ok=True)


def _write_exclusive(target: Path, data: bytes) -> None:
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except (FileExistsError, IsADirectoryError):
        raise _conflict() from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
