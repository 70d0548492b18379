"""Who is calling: Bearer client keys (when configured) and the identity the rate limiter counts."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from .errors import ApiError
from .limits import RateLimiter
from .metrics import Metrics
from .settings import Settings


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

    @property
    def auth_required(self) -> bool:
        return bool(self.keys)

    def __call__(self, request: Request) -> None:
        token = _bearer(request)
        valid = self.auth_required and token is not None and _known(token, self.keys)
        # A key's bucket is named by its hash so the limiter table never holds a secret.
        # Failed attempts count against the IP, which also slows down key guessing.
        if valid:
            identity = "key:" + hashlib.sha256(token.encode()).hexdigest()[:16]
        else:
            identity = "ip:" + (request.client.host if request.client else "unknown")
        wait = self.limiter.hit(identity)
        if wait:
            self.metrics.rate_limited.inc()
            raise ApiError(429, "rate_limited", f"too many requests; retry in {wait} s",
                           headers={"Retry-After": str(wait)})
        if self.auth_required and not valid:
            message = "missing Bearer API key" if token is None else "invalid API key"
            raise ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": "Bearer"})
