"""How uvicorn runs the app: the server-level settings and the HTTP protocol `pixelpress-server` uses.

uvicorn alone never cuts off an idle connection before its first request, a
request head sent one byte at a time, or a 32 MiB header, and it accepts
sockets until file descriptors run out. `GuardedHttpProtocol` (uvicorn's
httptools protocol with deadlines and caps) closes those; the body-phase
deadlines live in the app (`limits.BodyLimits`) so they answer a typed 408.
Used by the console command and the tests, so both run the same server.
"""

from __future__ import annotations

import json
import logging
import resource
from dataclasses import dataclass
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .errors import error_body
from .settings import Settings

log = logging.getLogger("pixelpress_server.serving")

PROTOCOL = "pixelpress_server.serving:GuardedHttpProtocol"


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    max_header_bytes: int
    header_timeout: float
    body_timeout: float

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(settings.max_connections, settings.max_header_bytes, settings.header_timeout,
                   settings.body_timeout)


def _raw_response(status: int, reason: str, code: str, message: str) -> bytes:
    body = json.dumps(error_body(code, message)).encode()
    return (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode() + body


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol plus: a connection cap, a request-head deadline and size cap,
    and a deadline on a body that keeps arriving after its request was answered."""

    limits: ConnectionLimits | None = None  # set by `bound_protocol`, else read once from the environment

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cls = type(self)
        if cls.limits is None:
            cls.limits = ConnectionLimits.from_settings(Settings())
        self.caps: ConnectionLimits = cls.limits
        self._refused = False
        self._in_head = True
        self._head_bytes = 0
        self._head_timer: Any = None
        self._body_timer: Any = None
        self._heads_begun = 0  # requests whose head the parser has started, on this connection

    # -- connection ---------------------------------------------------------
    def connection_made(self, transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.caps.max_connections:
            # Accepted only to be closed at once, so idle sockets cannot use up file descriptors.
            self._refused = True
            self.transport = transport
            transport.write(_raw_response(503, "Service Unavailable", "busy",
                                          "too many open connections; retry shortly"))
            transport.close()
            return
        super().connection_made(transport)
        self._arm_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    def _cancel_timers(self) -> None:
        for name in ("_head_timer", "_body_timer"):
            timer = getattr(self, name)
            if timer is not None:
                timer.cancel()
                setattr(self, name, None)

    def _refuse(self, status: int, reason: str, code: str, message: str) -> None:
        self._refused = True
        self._cancel_timers()
        if not self.transport.is_closing():
            self.transport.write(_raw_response(status, reason, code, message))
            self.transport.close()

    # -- the request head ------------------------------------------------------
    def _arm_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        if self._head_timer is not None:
            self._head_timer.cancel()
        self._head_timer = self.loop.call_later(self.caps.header_timeout, self._head_expired)

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
                self._header_too_large()

    def _header_too_large(self) -> None:
        log.info("request head over %d bytes; refused", self.caps.max_header_bytes)
        self._refuse(431, "Request Header Fields Too Large", "header_too_large",
                     f"the request head is larger than {self.caps.max_header_bytes} bytes")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._heads_begun += 1
        if not self._in_head:  # a pipelined request
            self._in_head = True
            self._head_bytes = 0
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.caps.header_timeout, self._head_expired)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if size > self.caps.max_header_bytes:
            self._header_too_large()
            return
        self._in_head = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        super().on_headers_complete()
        # Backstop for the app's own body deadline (limits.BodyLimits): a body still arriving
        # well after it should have ended closes the connection.
        self._body_timer = self.loop.call_later(self.caps.body_timeout + 5, self._body_expired)

    def _body_expired(self) -> None:
        self._body_timer = None
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            log.info("request body still arriving after %g s; closing", self.caps.body_timeout)
            self.transport.close()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def on_response_complete(self) -> None:
        # Answered before the body ended (503 busy, 403...): the rest of the body is still read and
        # dropped, since closing now would make the kernel reset the connection and lose the answer;
        # the body backstop above closes a connection that keeps trickling it.
        if not self.pipeline and (self.cycle is None or not self.cycle.more_body):
            self._in_head = True  # whatever arrives next is the next request's head
            self._head_bytes = 0
        super().on_response_complete()


def bound_protocol(settings: Settings) -> type[GuardedHttpProtocol]:
    """The protocol class with these settings' limits (for servers run in-process, e.g. the tests)."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"limits": ConnectionLimits.from_settings(settings)})


def ensure_fd_headroom(max_connections: int, headroom: int = 256) -> None:
    """Raise the open-file soft limit so the connection cap is reached before descriptors run out."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return
    want = max_connections + headroom
    if soft != resource.RLIM_INFINITY and soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (OSError, ValueError):
            target = soft
        if target < want:
            log.warning("open-file limit %d is below PIXELPRESS_MAX_CONNECTIONS + %d; lower the cap or raise "
                        "`ulimit -n`", target, headroom)


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
