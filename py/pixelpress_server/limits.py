"""Load limits: the request body cap (ASGI middleware) and a per-client rate limiter.

Both are per process. Behind a load balancer each instance enforces its own
limit; see docs/server.md for sharing one.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from threading import Lock

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body


class BodyTooLarge(Exception):
    """Raised from `receive` once the streamed body passes the cap."""


def _too_large_message(cap: int) -> bytes:
    body = error_body("too_large", f"request body exceeds the {cap} byte limit")
    return json.dumps(body).encode()


class BodySizeLimit:
    """Rejects bodies over `max_bytes` with 413.

    A declared Content-Length over the cap is refused before any byte is read.
    Chunked bodies (no Content-Length) are counted as they stream in, so a
    client cannot make the server buffer more than the cap.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send: Send) -> None:
        payload = _too_large_message(self.max_bytes)
        await send({
            "type": "http.response.start",
            "status": 413,
            # The client may still be sending; closing tells it to stop.
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                        (b"connection", b"close")],
        })
        await send({"type": "http.response.body", "body": payload})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > self.max_bytes:
                    await self._reject(send)
                    return
                break

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(tracking_send)


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    """Token bucket per client: `per_minute` requests, refilled continuously.

    A bucket refills fully after a minute idle, so idle buckets carry no state
    worth keeping and are pruned when the table grows.
    """

    MAX_CLIENTS = 10_000

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = Lock()  # uvicorn runs one event loop, but the limiter stays correct if shared by threads

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def hit(self, client: str) -> int:
        """Take one token; 0 if allowed, else the seconds to wait before retrying."""
        if not self.enabled:
            return 0
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= self.MAX_CLIENTS:
                    self._prune(now)
                bucket = self._buckets[client] = _Bucket(self.capacity, now)
            bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.stamp) * self.rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0
            return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _prune(self, now: float) -> None:
        full_after = self.capacity / self.rate
        stale = [k for k, b in self._buckets.items() if now - b.stamp >= full_after]
        for key in stale:
            del self._buckets[key]
        if len(self._buckets) >= self.MAX_CLIENTS:
            # Under a flood of distinct clients, forget the oldest half rather than grow without bound.
            oldest = sorted(self._buckets.items(), key=lambda kv: kv[1].stamp)[: len(self._buckets) // 2]
            for key, _ in oldest:
                del self._buckets[key]
