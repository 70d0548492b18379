"""How uvicorn runs the app: the server-level settings and the HTTP protocol `pixelpress-server` uses.

uvicorn alone never cuts off an idle connection before its first request, a
request head sent one byte at a time, or a 32 MiB header, and it accepts
sockets until file descriptors run out. `GuardedHttpProtocol` (uvicorn's
httptools protocol with deadlines and caps) closes those; the body-phase
deadlines live in the app (`limits.BodyLimits`) so they answer a typed 408.
Used by the console command and the tests, so both run the same server.

The connection cap is fitted to the open-file limit the process really has
(`connection_budget`): a cap the descriptors cannot back turns a flood of idle
sockets into failed `accept`s, where nothing is answered, health checks included.
Past the cap a few more connections are let in to have their head read: health
probes are answered, everything else gets 503 `busy` with `Retry-After`.
"""

from __future__ import annotations

import json
import logging
import os
import resource
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .errors import error_body
from .settings import Settings

log = logging.getLogger("pixelpress_server.serving")

PROTOCOL = "pixelpress_server.serving:GuardedHttpProtocol"


# Connections let in past the cap only to have their head read (health probes are answered, the
# rest get 503 busy), how long they may take to send it, and what a health probe looks like.
HEALTH_SLOTS = 16
OVERFLOW_HEAD_TIMEOUT = 2.0
HEALTH_PATHS = (b"/health", b"/api/health")
# Descriptors kept for the process itself: listening sockets, the event loop, logs, DNS, imports.
PROCESS_FDS = 32
RETRY_AFTER = 1  # seconds a client refused for the connection cap is told to wait


@dataclass(frozen=True)
class ConnectionBudget:
    """The connection cap this process can back with file descriptors, and how it was reached."""

    asked: int
    cap: int
    fd_limit: int | None  # the soft RLIMIT_NOFILE after raising it (None: unlimited or unknown)
    fd_hard: int | None
    in_use: int
    kept: int  # descriptors kept for the process, partner pools and health probes
    per_connection: int

    def describe(self) -> str:
        if self.fd_limit is None:
            return f"connection cap {self.cap} per process (open-file limit: none)"
        text = (f"connection cap {self.cap} per process (open-file limit {self.fd_limit}, hard {self.fd_hard}; "
                f"{self.in_use} in use at start, {self.kept} kept for health checks, partner calls and the "
                f"process, {self.per_connection} per connection)")
        if self.cap < self.asked:
            text += f"; PIXELPRESS_MAX_CONNECTIONS={self.asked} lowered to fit, raise `ulimit -n` (hard) for more"
        return text


def _fds_in_use() -> int:
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # less the one listdir holds
    except OSError:
        return PROCESS_FDS


def _plan(settings: Settings) -> ConnectionBudget:
    asked = settings.max_connections
    # Each connection holds its socket and, while it is served, at most one more at a time: a static
    # file, an upload spooled to disk, a partner socket or a local upload being written. With Redis
    # the limiter's pool may keep one more socket per connection that was checked at once.
    per_connection = 3 if settings.rate_limit_storage else 2
    pools = (min(20, settings.max_concurrent_removals) if settings.api4ai_configured else 0) + \
        (20 if settings.supabase_configured else 0)  # idle keep-alive partner sockets
    in_use = _fds_in_use()
    kept = PROCESS_FDS + pools + HEALTH_SLOTS
    want = in_use + kept + asked * per_connection
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return ConnectionBudget(asked, asked, None, None, in_use, kept, per_connection)
    infinite = resource.RLIM_INFINITY
    if soft != infinite and soft < want:
        target = want if hard == infinite else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError):
            pass
    if soft == infinite:
        return ConnectionBudget(asked, asked, None, None if hard == infinite else hard, in_use, kept, per_connection)
    fits = (soft - in_use - kept) // per_connection
    return ConnectionBudget(asked, max(1, min(asked, fits)), soft, None if hard == infinite else hard, in_use, kept,
                            per_connection)


_BUDGETS: dict[tuple, ConnectionBudget] = {}


def connection_budget(settings: Settings) -> ConnectionBudget:
    """Raise the open-file soft limit as far as the cap needs (up to the hard limit) and fit the cap to it.

    Computed once per process for given settings (the first call, at start-up, counts the
    descriptors in use then), so the log line and the protocol agree.
    """
    key = (settings.max_connections, settings.max_concurrent_removals, settings.api4ai_configured,
           settings.supabase_configured, bool(settings.rate_limit_storage))
    if key not in _BUDGETS:
        _BUDGETS[key] = _plan(settings)
    return _BUDGETS[key]


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    max_header_bytes: int
    max_url_bytes: int
    header_timeout: float
    body_timeout: float
    min_body_rate: int
    body_rate_grace: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(connection_budget(settings).cap, settings.max_header_bytes,
                   min(settings.max_url_bytes, settings.max_header_bytes), settings.header_timeout,
                   settings.body_timeout, settings.min_body_rate, settings.body_rate_grace)


def _raw_response(status: int, reason: str, code: str, message: str, headers: str = "") -> bytes:
    body = json.dumps(error_body(code, message)).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n{headers}"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode() + body


def _busy() -> tuple[int, str, str, str, str]:
    return (503, "Service Unavailable", "busy", "too many open connections; retry shortly",
            f"retry-after: {RETRY_AFTER}\r\n")


def _overflow_of(server_state: Any) -> OrderedDict:
    """The connections let in past the cap, oldest first (one table per server)."""
    table = getattr(server_state, "pixelpress_overflow", None)
    if table is None:
        table = server_state.pixelpress_overflow = OrderedDict()
    return table


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus: a connection cap fitted to the open-file limit (with health
    probes still answered past it), a request-head deadline and size cap, a request-target cap (414),
    and deadlines and a minimum rate on a body that keeps arriving after its request was answered."""

    limits: ConnectionLimits | None = None  # set by `bound_protocol`, else read once from the environment

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cls = type(self)
        if cls.limits is None:
            cls.limits = ConnectionLimits.from_settings(Settings())
        self.caps: ConnectionLimits = cls.limits
        self._refused = False
        self._overflow = False  # let in past the cap: only a health probe is served
        self._in_head = True
        self._head_bytes = 0
        self._url_bytes = 0
        self._head_timer: Any = None
        self._body_timer: Any = None
        self._drain_timer: Any = None
        self._draining = False  # answered while the body still arrives: it is read and dropped
        self._drain_began = 0.0
        self._drained = 0  # body bytes read and dropped after the answer
        self._heads_begun = 0  # requests whose head the parser has started, on this connection

    # -- connection ---------------------------------------------------------
    def connection_made(self, transport) -> None:  # type: ignore[override]
        overflow = _overflow_of(self.server_state)
        if len(self.connections) - len(overflow) >= self.caps.max_connections:
            if len(overflow) >= HEALTH_SLOTS:
                # Make room by closing the oldest that has not sent a whole head: a flood of idle
                # sockets then pushes out itself, never a probe that has asked and is being answered.
                victim = next((p for p in overflow if p._in_head and not p._refused), None)
                if victim is None:
                    self._refused = True
                    self.transport = transport
                    transport.write(_raw_response(*_busy()))
                    transport.close()
                    return
                victim._evict()
            self._overflow = True
            overflow[self] = None
        super().connection_made(transport)
        self._arm_head()

    def _evict(self) -> None:
        _overflow_of(self.server_state).pop(self, None)
        self._refused = True
        self._cancel_timers()
        self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        if self._overflow:
            _overflow_of(self.server_state).pop(self, None)
        super().connection_lost(exc)

    def _cancel_timers(self) -> None:
        for name in ("_head_timer", "_body_timer", "_drain_timer"):
            timer = getattr(self, name)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)

    def _refuse(self, status: int, reason: str, code: str, message: str, headers: str = "") -> None:
        self._refused = True
        self._cancel_timers()
        if not self.transport.is_closing():
            self.transport.write(_raw_response(status, reason, code, message, headers))
            self.transport.close()

    # -- the request head ------------------------------------------------------
    @property
    def _head_timeout(self) -> float:
        return min(self.caps.header_timeout, OVERFLOW_HEAD_TIMEOUT) if self._overflow else self.caps.header_timeout

    def _arm_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_expired)

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._in_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a pipelined head waits for the previous answer; not the client's delay
        if self._head_bytes:
            log.info("request head not complete within %g s; closing", self.caps.header_timeout)
            self._refuse(408, "Request Timeout", "request_timeout",
                         f"the request head did not arrive within {self.caps.header_timeout:g} s")
        else:
            self._refused = True
            self.transport.close()  # idle: nothing to answer

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head and self._head_timer is None:
            self._arm_head()  # the first bytes after a keep-alive pause start the next head's deadline
        begun = self._heads_begun
        super().data_received(data)
        if self._refused or self.transport.is_closing():
            return
        if self._in_head:
            # A head still open after this chunk: the whole chunk is its bytes only if it began
            # earlier. One that began inside the chunk (after pipelined requests, which may fill
            # it) is counted from the next chunk on, and on_headers_complete checks its exact size.
            # Counting the whole chunk refused pipelining clients whose chunk held 300 small heads.
            if self._heads_begun == begun:
                self._head_bytes += len(data)
            if self._head_bytes > self.caps.max_header_bytes:
                if self._url_bytes and not self.headers:
                    self._url_too_long()  # still in the request line: the target is what is too long
                else:
                    self._header_too_large()

    def _url_too_long(self) -> None:
        log.info("request target over %d bytes; refused", self.caps.max_url_bytes)
        self._refuse(414, "URI Too Long", "uri_too_long",
                     f"the request target is longer than {self.caps.max_url_bytes} bytes")

    def on_url(self, url: bytes) -> None:
        if self._refused:
            return
        self._url_bytes += len(url)
        if self._url_bytes > self.caps.max_url_bytes:
            self._url_too_long()
            return
        super().on_url(url)

    def _header_too_large(self) -> None:
        log.info("request head over %d bytes; refused", self.caps.max_header_bytes)
        self._refuse(431, "Request Header Fields Too Large", "header_too_large",
                     f"the request head is larger than {self.caps.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._heads_begun += 1
        self._url_bytes = 0
        if not self._in_head:  # a pipelined request
            self._in_head = True
            self._head_bytes = 0
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self._head_timeout, self._head_expired)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if size > self.caps.max_header_bytes:
            self._header_too_large()
            return
        if self._overflow and not (self.parser.get_method() in (b"GET", b"HEAD")
                                   and self.url.split(b"?", 1)[0] in HEALTH_PATHS):
            self._refuse(*_busy())
            return
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        if self._overflow:
            self.cycle.keep_alive = False  # a health probe past the cap: answered, then closed
        # Backstop for the app's own body deadline (limits.BodyLimits): a body still arriving
        # well after it should have ended closes the connection.
        self._body_timer = self.loop.call_later(self.caps.body_timeout + 5, self._body_expired)

    def _body_expired(self) -> None:
        self._body_timer = None
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            log.info("request body still arriving after %g s; closing", self.caps.body_timeout)
            self.transport.close()

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        if self._draining:
            self._drained += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._draining = False
        for name in ("_body_timer", "_drain_timer"):
            timer = getattr(self, name)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # Answered before the body ended (503 busy, 403...): the rest of the body is still read and
        # dropped, since closing now would make the kernel reset the connection and lose the answer.
        # It must keep coming at the minimum body rate (after a fresh grace period), else the
        # connection is closed; the body backstop above closes one that keeps trickling it.
        if not self.pipeline and (self.cycle is None or not self.cycle.more_body):
            self._in_head = True  # whatever arrives next is the next request's head
            self._head_bytes = 0
        elif (self.cycle is not None and self.cycle.more_body and self.caps.min_body_rate
              and not self.transport.is_closing() and not self._draining):
            self._draining = True
            self._drain_began = self.loop.time()
            self._drained = 0
            self._drain_timer = self.loop.call_later(self.caps.body_rate_grace, self._drain_check)
        super().on_response_complete()

    def _drain_check(self) -> None:
        # Each min_body_rate bytes dropped buy one more second past the grace.
        self._drain_timer = None
        if self.transport.is_closing() or self.cycle is None or not self.cycle.more_body:
            return
        due = self._drain_began + self.caps.body_rate_grace + self._drained / self.caps.min_body_rate
        left = due - self.loop.time()
        if left > 0.01:
            self._drain_timer = self.loop.call_later(left, self._drain_check)
            return
        log.info("request body after the answer arrived slower than %d bytes/s; closing", self.caps.min_body_rate)
        self.transport.close()


def bound_protocol(settings: Settings) -> type[GuardedHttpProtocol]:
    """The protocol class with these settings' limits (for servers run in-process, e.g. the tests)."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"limits": ConnectionLimits.from_settings(settings)})


def uvicorn_options(settings: Settings, *, in_process: bool = False) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` from the server's settings.

    The console command passes the protocol by import path (worker processes read
    the same settings from the environment); in-process servers get a bound class.
    """
    return {
        "http": bound_protocol(settings) if in_process else PROTOCOL,
        # uvicorn trusts X-Forwarded-For from loopback by default, which lets any local client
        # (or a proxy that passes the header through) pick its own rate-limit identity.
        "proxy_headers": settings.proxy_headers,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        "timeout_keep_alive": settings.keep_alive_timeout,
        "server_header": False,
    }
