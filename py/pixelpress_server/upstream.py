"""Calling a partner: timing, outcome metrics and mapping transport failures to API errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import httpx

from .errors import ApiError
from .metrics import Metrics

log = logging.getLogger("pixelpress_server.upstream")


class Upstream:
    """Runs one partner request with metrics; optionally retries once on timeout, transport error or 5xx."""

    def __init__(self, partner: str, metrics: Metrics, backoff: float) -> None:
        self.partner = partner
        self.metrics = metrics
        self.backoff = backoff

    async def call(self, operation: str, send: Callable[[], Awaitable[httpx.Response]], *, retry: bool) -> httpx.Response:
        attempts = 2 if retry else 1
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            start = time.perf_counter()
            try:
                response = await send()
            except httpx.TimeoutException:
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
