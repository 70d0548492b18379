"""Security headers on every answer (ASGI middleware); an answer that sets its own keeps it."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# What the studio itself needs and no more: its own scripts and module workers, WebAssembly
# compilation (Pyodide, onnxruntime-web), blob: workers and images, and fetching images from
# any http(s) URL the user gives (URL imports run in the browser).
STUDIO_CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'wasm-unsafe-eval'",
    "worker-src 'self' blob:",
    "connect-src 'self' https: http: blob: data:",
    "img-src 'self' blob: data:",
    "style-src 'self'",
    "font-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

DEFAULTS = [
    (b"content-security-policy", STUDIO_CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]

# Cross-origin isolation (PIXELPRESS_CROSS_ORIGIN_ISOLATION): SharedArrayBuffer, so wasm threads in the
# model worker. require-corp rather than credentialless: Safari has only the former, and the studio loads
# nothing cross-origin in no-cors mode (its CSP allows images, scripts and fonts from itself alone; image
# URLs are fetched with CORS, which COEP lets through).
ISOLATION = [
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-embedder-policy", b"require-corp"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, isolation: bool = False) -> None:
        self.app = app
        self.defaults = DEFAULTS + (ISOLATION if isolation else [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in self.defaults if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
