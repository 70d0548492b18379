"""How uvicorn runs the app: the server-level settings that `pixelpress-server` applies.

Used by the console command and by the tests, so both run the same server.
"""

from __future__ import annotations

from typing import Any

from .settings import Settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` from the server's settings."""
    return {
        # uvicorn trusts X-Forwarded-For from loopback by default, which lets any local client
        # (or a proxy that passes the header through) pick its own rate-limit identity.
        "proxy_headers": settings.proxy_headers,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # Bodies are capped by the app; this only bounds idle keep-alive sockets.
        "timeout_keep_alive": 5,
        "server_header": False,
    }
