"""Calling a partner: one pooled client per partner, a hard deadline and a byte cap per attempt,
timing and outcome metrics, and mapping transport failures to API errors."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterable

import httpx

from .errors import ApiError
from .metrics import Metrics

log = logging.getLogger("pixelpress_server.upstream")

# Anything that looks like a credential: long runs of token characters with letters and digits.
_TOKEN = re.compile(r"(?<![A-Za-z0-9_\-+/=.])(?=[A-Za-z0-9_\-+/=.]*[0-9])(?=[A-Za-z0-9_\-+/=.]*[A-Za-z])"
                    r"[A-Za-z0-9_\-+/=.]{20,}")
_ASSIGNED = re.compile(r"(?i)\b(key|token|secret|password|authorization|bearer|apikey)\b(\s*[:=]?\s*)(\S+)")


def scrub(message: object, secrets: Iterable[str] = (), limit: int = 200) -> str:
    """A partner's message made safe to relay: no configured secret, nothing key-like, printable, short."""
    text = str(message)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _ASSIGNED.sub(lambda m: m.group(1) + m.group(2) + "[redacted]", text)
    text = _TOKEN.sub("[redacted]", text)
    text = "".join(c if c.isprintable() and ord(c) < 0x7F else "?" for c in text)
    return text[:limit]


class AnswerTooLarge(Exception):
    pass


class Upstream:
    """Runs one partner request with metrics; optionally retries once on timeout, transport error or 5xx.

    Each attempt, from connecting to the last byte of the answer, must finish
    within `timeout` seconds, so an answer trickled a byte at a time cannot
    hold a request longer than httpx's per-read timeout would allow; and the
    answer is read only up to `max_bytes`.
    """

    def __init__(self, partner: str, metrics: Metrics, backoff: float, client: httpx.AsyncClient | None = None,
                 timeout: float = 30.0, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.partner = partner
        self.metrics = metrics
        self.backoff = backoff
        self.client = client
        self.timeout = timeout
        self.max_bytes = max_bytes

    async def _attempt(self, build: Callable[[], httpx.Request]) -> httpx.Response:
        async with asyncio.timeout(self.timeout):
            response = await self.client.send(build(), stream=True)
            try:
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise AnswerTooLarge()
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise AnswerTooLarge()
                    chunks.append(chunk)
            finally:
                await response.aclose()
        return httpx.Response(response.status_code, headers=response.headers.multi_items(), content=b"".join(chunks),
                              request=response.request)

    async def call(self, operation: str, build: Callable[[], httpx.Request], *, retry: bool) -> httpx.Response:
        attempts = 2 if retry else 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            start = time.perf_counter()
            try:
                response = await self._attempt(build)
            except AnswerTooLarge:
                self._observe(operation, start, "too_large")
                log.warning("%s %s answer over %d bytes; dropped", self.partner, operation, self.max_bytes)
                raise self.failed(operation, "too_large", 502, "upstream_malformed",
                                  f"{self.partner} sent an answer larger than {self.max_bytes} bytes") from None
            except (TimeoutError, httpx.TimeoutException):
                self._observe(operation, start, "timeout")
                if last:
                    self._fail(operation, "timeout")
                    raise ApiError(504, "upstream_timeout", f"{self.partner} did not answer in time") from None
            except httpx.TransportError as exc:
                self._observe(operation, start, "transport_error")
                # The exception class says enough; its text could carry URLs.
                log.warning("%s %s transport error: %s", self.partner, operation, type(exc).__name__)
                if last:
                    self._fail(operation, "transport_error")
                    raise ApiError(502, "upstream_error", f"{self.partner} could not be reached") from None
            else:
                outcome = "ok" if response.status_code < 400 else f"http_{response.status_code // 100}xx"
                self._observe(operation, start, outcome)
                if response.status_code < 500 or last:
                    return response
                log.warning("%s %s answered %d, retrying", self.partner, operation, response.status_code)
            # Backoff grows with the attempt so a struggling partner gets room to recover.
            await asyncio.sleep(self.backoff * attempt)
        raise AssertionError("unreachable")

    def _observe(self, operation: str, start: float, outcome: str) -> None:
        self.metrics.upstream_latency.labels(self.partner, operation).observe(time.perf_counter() - start)
        self.metrics.upstream_calls.labels(self.partner, operation, outcome).inc()

    def _fail(self, operation: str, reason: str) -> None:
        self.metrics.upstream_failures.labels(self.partner, operation, reason).inc()

    def failed(self, operation: str, reason: str, status: int, code: str, message: str) -> ApiError:
        """Count a failure found in an answer (bad status, malformed body) and build the client error."""
        self._fail(operation, reason)
        return ApiError(status, code, message)


def partner_client(max_connections: int) -> httpx.AsyncClient:
    """A client with its own pool, so one partner's hanging calls cannot starve another's."""
    return httpx.AsyncClient(follow_redirects=False, trust_env=False,
                             limits=httpx.Limits(max_connections=max_connections,
                                                 max_keepalive_connections=min(20, max_connections)))
