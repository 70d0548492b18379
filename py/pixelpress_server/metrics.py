"""Prometheus metrics, one CollectorRegistry per app so several apps can live in one process."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "pixelpress_http_requests", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=r,
        )
        self.duration = Histogram(
            "pixelpress_http_request_duration_seconds", "HTTP request duration by route template.",
            ["method", "route"], registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.upstream_calls = Counter(
            "pixelpress_upstream_calls", "Calls to partner services (each attempt counts).",
            ["partner", "operation", "outcome"], registry=r,
        )
        self.upstream_latency = Histogram(
            "pixelpress_upstream_duration_seconds", "Latency of each call to a partner service.",
            ["partner", "operation"], registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60),
        )
        self.upstream_failures = Counter(
            "pixelpress_upstream_failures", "Failed partner calls by reason (after retries too).",
            ["partner", "operation", "reason"], registry=r,
        )
        self.rate_limited = Counter(
            "pixelpress_rate_limit_rejections", "Requests rejected by the rate limiter.", registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


# Any other method (clients can send invented ones) shares one label, so /metrics stays bounded.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(scope: Scope) -> str:
    method = scope.get("method", "")
    return method if method in KNOWN_METHODS else "other"


def route_label(scope: Scope) -> str:
    # Label by route template, never by raw path, so label cardinality stays bounded.
    route = scope.get("route")
    if route is None:
        return "unmatched"
    if isinstance(route, Mount):
        return "static"
    return getattr(route, "path", "unmatched")


class MetricsMiddleware:
    """Counts and times every HTTP request, including those ended by inner middleware (413, CORS)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = route_label(scope)
            method = method_label(scope)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.duration.labels(method, route).observe(time.perf_counter() - start)
