"""Who is calling: Bearer client keys (when configured) and the identity the rate limiter counts."""

from __future__ import annotations

import hashlib
import hmac
import logging
from urllib.parse import urlsplit

from fastapi import Request

from .errors import ApiError
from .limits import RateLimiter, ip_identity
from .metrics import Metrics
from .settings import Settings

log = logging.getLogger("pixelpress_server.auth")

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(value: str) -> str:
    """`scheme://host[:port]`, lower-cased, default port dropped; "null" and junk stay as given."""
    try:
        parts = urlsplit(value.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return value
    if parts.scheme not in DEFAULT_PORTS or not host:
        return value
    if ":" in host:
        host = f"[{host}]"
    suffix = f":{port}" if port and port != DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{host}{suffix}"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _known(token: str, keys: list[str]) -> bool:
    # Compare against every key in constant time so timing reveals neither a key nor which one matched.
    found = False
    for key in keys:
        found |= hmac.compare_digest(token.encode(), key.encode())
    return found


class Guard:
    """Authenticates and rate-limits one request; raises 401 or 429 as ApiError."""

    def __init__(self, settings: Settings, limiter: RateLimiter, metrics: Metrics) -> None:
        self.keys = [k.get_secret_value() for k in settings.client_keys if k.get_secret_value()]
        self.limiter = limiter
        self.metrics = metrics
        self.allowed_origins = {normalise_origin(o) for o in settings.cors_origins}
        self.public_origin = normalise_origin(settings.public_url) if settings.public_url else None

    def own_origin(self, request: Request) -> str:
        if self.public_origin:
            return self.public_origin
        return normalise_origin(f"{request.url.scheme}://{request.headers.get('host', '')}")

    def cross_site(self, request: Request) -> bool:
        """True when a browser sent this request from a page that is neither this server's nor allowlisted.

        Multipart POSTs need no CORS preflight, so without this any site could
        make its visitors' browsers store uploads or spend API4.ai calls.
        Clients that are not browsers send no Origin and no Sec-Fetch-Site.
        """
        origin = request.headers.get("origin")
        if origin is not None:
            origin = normalise_origin(origin)
            return origin != self.own_origin(request) and origin not in self.allowed_origins
        return request.headers.get("sec-fetch-site", "").strip().lower() == "cross-site"

    @property
    def auth_required(self) -> bool:
        return bool(self.keys)

    async def __call__(self, request: Request) -> None:
        token = _bearer(request)
        valid = self.auth_required and token is not None and _known(token, self.keys)
        # A key's bucket is named by its hash so the limiter table never holds a secret.
        # Failed attempts count against the IP, which also slows down key guessing.
        if valid:
            identity = "key:" + hashlib.sha256(token.encode()).hexdigest()[:16]
        else:
            identity = ip_identity(request.client.host if request.client else "unknown")
        wait = await self.limiter.hit(identity)
        if wait:
            self.metrics.rate_limited.inc()
            raise ApiError(429, "rate_limited", f"too many requests; retry in {wait} s",
                           headers={"Retry-After": str(wait)})
        if not valid and self.cross_site(request):
            log.info("refused a cross-origin %s %s", request.method, request.url.path)
            raise ApiError(403, "cross_origin", "cross-origin requests to this API are refused: call it from this "
                           "server's own pages, from an origin in PIXELPRESS_CORS_ORIGINS, or with a client key")
        if self.auth_required and not valid:
            message = "missing Bearer API key" if token is None else "invalid API key"
            raise ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})
