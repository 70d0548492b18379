"""API4.ai background removal: multipart image in, base64 PNG with alpha out.

Contract (DESIGN.md): POST {base}/v1/results?mode=fg-image, multipart field
`image`, key header; answer results[0].entities[kind=="image"].image is a
base64 PNG; results[0].status.code "failure" means the image was refused.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging

import httpx

from .errors import ApiError
from .metrics import Metrics
from .settings import Settings
from .upstream import Upstream, scrub

log = logging.getLogger("pixelpress_server.api4ai")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
OP = "remove_background"


class Api4ai:
    def __init__(self, settings: Settings, client: httpx.AsyncClient, metrics: Metrics) -> None:
        self.settings = settings
        self.client = client
        self.upstream = Upstream("api4ai", metrics, settings.upstream_retry_backoff, client,
                                 settings.upstream_timeout, settings.upstream_max_answer_bytes)
        # Removals in flight; past it, 503 busy at once (the page then cuts out locally).
        self.slots = asyncio.Semaphore(settings.max_concurrent_removals)

    def _secrets(self) -> list[str]:
        key = self.settings.api4ai_key.get_secret_value() if self.settings.api4ai_key else ""
        return [key] + [k.get_secret_value() for k in self.settings.client_keys]

    @property
    def configured(self) -> bool:
        return self.settings.api4ai_configured

    def _headers(self) -> dict[str, str]:
        key = self.settings.api4ai_key.get_secret_value() if self.settings.api4ai_key else ""
        if self.settings.api4ai_key_header == "rapidapi":
            return {"X-RapidAPI-Key": key, "X-RapidAPI-Host": self.settings.rapidapi_host}
        return {"X-API-KEY": key}

    async def remove_background(self, image: bytes, filename: str, content_type: str) -> bytes:
        if not self.configured:
            raise ApiError(503, "not_configured", "background removal is not configured on this server; use the local fallback")
        url = self.settings.api4ai_url.rstrip("/") + "/v1/results"

        def build() -> httpx.Request:
            return self.client.build_request(
                "POST", url,
                params={"mode": "fg-image"},
                files={"image": (filename, image, content_type)},
                headers=self._headers(),
                timeout=self.settings.upstream_timeout,
            )

        response = await self.upstream.call(OP, build, retry=True)
        if response.status_code >= 400:
            log.warning("api4ai answered HTTP %d", response.status_code)
            raise self.upstream.failed(OP, f"http_{response.status_code}", 502, "upstream_error",
                                       f"background removal service answered HTTP {response.status_code}")
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> bytes:
        def malformed(why: str) -> ApiError:
            log.warning("api4ai answer malformed: %s", why)
            return self.upstream.failed(OP, "malformed", 502, "upstream_malformed",
                                        f"background removal service sent an unexpected answer ({why})")

        try:
            doc = response.json()
        except ValueError:
            raise malformed("not JSON") from None
        except RecursionError:  # hostile nesting: json gives up deep in the C stack
            raise malformed("JSON nested too deeply") from None
        try:
            result = doc["results"][0]
            status = result["status"]
        except (KeyError, IndexError, TypeError):
            raise malformed("no results[0].status") from None
        code = status.get("code") if isinstance(status, dict) else None
        if code == "failure":
            # Scrubbed: a partner that echoes a key must not pass it on to the client.
            detail = scrub(status.get("message") or "image refused", self._secrets())
            raise self.upstream.failed(OP, "failure", 502, "upstream_failure", f"background removal failed: {detail}")
        if code != "ok":
            raise malformed(f"status {str(code)[:40]!r}")
        entities = result.get("entities")
        if not isinstance(entities, list):
            raise malformed("no entities")
        encoded = next((e.get("image") for e in entities if isinstance(e, dict) and e.get("kind") == "image"), None)
        if not isinstance(encoded, str) or not encoded:
            raise malformed("no image entity")
        try:
            png = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise malformed("image is not base64") from None
        if not png.startswith(PNG_MAGIC):
            raise malformed("image is not a PNG")
        return png
