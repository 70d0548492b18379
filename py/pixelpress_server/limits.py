"""Load limits: the request body cap (ASGI middleware) and the per-client rate limiter.

The rate limiter is the `limits` library's moving window: in memory by
default (per process), or in Redis when PIXELPRESS_RATE_LIMIT_STORAGE names
one, so every instance shares one limit (docs/server.md).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import time
from collections import OrderedDict

import anyio
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body

log = logging.getLogger("pixelpress_server.limits")


class BodyTooLarge(Exception):
    """Raised from `receive` once the streamed body passes the cap."""


class BodyTimeout(Exception):
    """Raised from `receive` when the body stalls or takes too long in all."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _too_large_message(cap: int) -> bytes:
    body = error_body("too_large", f"request body exceeds the {cap} byte limit")
    return json.dumps(body).encode()


class BodyLimits:
    """Caps the request body at `max_bytes` (413) and bounds how long it may take to arrive (408).

    A declared Content-Length over the cap is refused before any byte is read.
    Chunked bodies (no Content-Length) are counted as they stream in, so a
    client cannot make the server buffer more than the cap. While the body is
    incomplete, each wait for more of it is limited to `idle_timeout` seconds
    of silence and all of it to `body_timeout` seconds from the request head.
    And a body must keep coming at `min_rate` bytes/s: `grace` seconds after
    the head, and every moment after, the bytes received must be at least
    `min_rate` times the seconds past the grace (each `min_rate` bytes buy one
    more second, as Apache's mod_reqtimeout counts). A stall the average can
    absorb passes; a body trickled at 1 KiB per 0.5 s is cut off within seconds.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, idle_timeout: float = 15.0, body_timeout: float = 120.0,
                 min_rate: int = 0, grace: float = 5.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout
        self.body_timeout = body_timeout
        self.min_rate = min_rate
        self.grace = grace

    @staticmethod
    async def _answer(send: Send, status: int, payload: bytes) -> None:
        await send({
            "type": "http.response.start",
            "status": status,
            # The client may still be sending; closing tells it to stop.
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                        (b"connection", b"close")],
        })
        await send({"type": "http.response.body", "body": payload})

    async def _reject(self, send: Send) -> None:
        await self._answer(send, 413, _too_large_message(self.max_bytes))

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
        body_done = False
        begun = anyio.current_time()
        deadline = begun + self.body_timeout
        too_slow = f"the request body arrived slower than {self.min_rate} bytes/s"

        def rate_deadline() -> float:
            # The moment the bytes received so far stop covering the minimum rate.
            return begun + self.grace + received / self.min_rate if self.min_rate else math.inf

        async def counting_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # later receives only wait for a disconnect while answering: no deadline
                return await receive()
            now = anyio.current_time()
            left = deadline - now
            if left <= 0:
                raise BodyTimeout(f"the request body did not arrive within {self.body_timeout:g} s")
            slow_left = rate_deadline() - now
            if slow_left <= 0:
                raise BodyTimeout(too_slow)
            wait = min(self.idle_timeout, left, slow_left)
            with anyio.move_on_after(wait) as scope_:
                message = await receive()
            if scope_.cancelled_caught:
                if wait == slow_left:
                    raise BodyTimeout(too_slow)
                if wait < self.idle_timeout:
                    raise BodyTimeout(f"the request body did not arrive within {self.body_timeout:g} s")
                raise BodyTimeout(f"the request body stalled for {self.idle_timeout:g} s")
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
                if not message.get("more_body", False):
                    body_done = True
            else:
                body_done = True
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
        except BodyTimeout as exc:
            log.info("%s %s: %s", scope.get("method"), scope.get("path"), exc.message)
            if not started:
                await self._answer(tracking_send, 408, json.dumps(error_body("request_timeout", exc.message)).encode())


BodySizeLimit = BodyLimits  # the old name


def ip_identity(host: str) -> str:
    """The rate limiter's name for a client address; an IPv6 client is its /64 (one host's usual share)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "ip:" + host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{address}/64', strict=False)}"
    return f"ip:{address}"


def _redis_uri(url: str) -> str:
    return url if url.startswith("async+") else "async+" + url


class RateLimiter:
    """`per_minute` requests in any moving 60 s window, per identity (`limits`' moving window).

    Memory stays bounded without forgetting a client that is out of requests:
    at most `max_clients` identities are tracked; when the table is full, an
    identity whose window has passed goes first, then the least recently seen
    one that still has requests left. Only when every tracked identity is out
    of requests do newcomers share one `overflow` bucket, so a flood of fresh
    identities can never reset anyone's limit.

    With Redis, a storage outage falls back to this process's memory (logged),
    so the limit weakens to per-process instead of failing every request.
    """

    OVERFLOW = "overflow"

    def __init__(self, per_minute: int, storage_url: str = "", max_clients: int = 10_000,
                 window_seconds: int = 60) -> None:
        self.window = window_seconds
        if per_minute <= 0:
            self.item = None
        elif window_seconds == 60:
            self.item = RateLimitItemPerMinute(per_minute)
        else:  # shorter windows for tests
            self.item = RateLimitItemPerSecond(per_minute, window_seconds)
        self.max_clients = max_clients
        self.shared = bool(storage_url)
        memory = MemoryStorage()
        self.fallback = MovingWindowRateLimiter(memory)
        if storage_url:
            storage = RedisStorage(_redis_uri(storage_url), implementation="redispy", wrap_exceptions=True,
                                   key_prefix="pixelpress", socket_connect_timeout=1.0, socket_timeout=1.0)
            self.limiter = MovingWindowRateLimiter(storage)
        else:
            self.limiter = self.fallback
        self._seen: OrderedDict[str, tuple[float, float]] = OrderedDict()  # identity -> (last seen, exhausted until)
        self._outage_logged = 0.0

    @property
    def enabled(self) -> bool:
        return self.item is not None

    async def _admit(self, identity: str, now: float) -> str:
        seen = self._seen
        if identity in seen or len(seen) < self.max_clients:
            return identity
        while seen:  # oldest first: windows that have passed hold nothing worth keeping
            oldest, (last, _) = next(iter(seen.items()))
            if now - last < self.window:
                break
            del seen[oldest]
        if len(seen) < self.max_clients:
            return identity
        for victim, (_, exhausted_until) in seen.items():
            if exhausted_until <= now:
                del seen[victim]
                if not self.shared:  # Redis keys expire on their own and are shared with other instances
                    await self.fallback.clear(self.item, victim)
                return identity
        return self.OVERFLOW

    async def _hit(self, limiter: MovingWindowRateLimiter, identity: str) -> tuple[bool, float, int]:
        allowed = await limiter.hit(self.item, identity)
        stats = await limiter.get_window_stats(self.item, identity)
        return allowed, stats.reset_time, stats.remaining

    async def hit(self, client: str) -> int:
        """Count one request; 0 if allowed, else the seconds to wait before retrying."""
        if self.item is None:
            return 0
        now = time.time()
        identity = await self._admit(client, now)
        try:
            allowed, reset, remaining = await self._hit(self.limiter, identity)
        except StorageError as exc:
            if now - self._outage_logged > 10:
                self._outage_logged = now
                log.warning("rate limit storage unavailable (%s); limiting per process until it is back",
                            type(getattr(exc, "storage_error", exc)).__name__)
            allowed, reset, remaining = await self._hit(self.fallback, identity)
        self._seen[identity] = (now, reset if (not allowed or remaining <= 0) else 0.0)
        self._seen.move_to_end(identity)
        if allowed:
            return 0
        return max(1, math.ceil(reset - now))
