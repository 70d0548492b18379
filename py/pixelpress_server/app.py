"""The FastAPI app: routes and wiring. Each concern lives in its own module.

Stateless by design: no job state is kept between requests, so any number of
instances can serve the same clients (docs/server.md).
"""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response
from pixelpress.formats import FORMATS, sniff
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from . import __version__, errors
from .api4ai import Api4ai
from .auth import Guard
from .errors import ApiError
from .headers import SecurityHeaders
from .limits import BodyLimits, RateLimiter
from .metrics import CONTENT_TYPE, Metrics, MetricsMiddleware
from .paths import clean_object_path
from .serving import connection_budget
from .settings import Settings
from .static import SiteFiles, StaticCors, unsafe_static_root
from .storage import LocalStorage, SupabaseStorage
from .upstream import partner_client

log = logging.getLogger("pixelpress_server")

PROVIDER_HEADER = "X-Pixelpress-Provider"


async def _read_image(request: Request, field: str) -> tuple[bytes, str, dict]:
    """The image bytes of multipart `field`, their sniffed format, and the other text fields."""
    ctype = request.headers.get("content-type", "")
    if request.headers.get("content-length") == "0":
        raise ApiError(400, "empty_body", "the request body is empty")
    if not ctype.lower().startswith("multipart/form-data"):
        if not await request.body():
            raise ApiError(400, "empty_body", "the request body is empty")
        raise ApiError(415, "unsupported_format", f"send multipart/form-data with the image in field '{field}'")
    try:
        # Few parts are legitimate here; small limits keep a crafted form cheap.
        form = await request.form(max_files=2, max_fields=8, max_part_size=64 * 1024)
    except MultiPartException as exc:  # raised directly when the request has no app in scope
        raise ApiError(400, "bad_request", exc.message) from None
    try:
        if not form:
            raise ApiError(400, "empty_body", "the request body is empty")
        part = form.get(field)
        if not isinstance(part, UploadFile):
            raise ApiError(400, "missing_field", f"multipart field '{field}' with a file is required")
        data = await part.read()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
    finally:
        await form.close()
    if not data:
        raise ApiError(400, "empty_body", f"the file in field '{field}' is empty")
    fmt = sniff(data)
    if fmt is None:
        raise ApiError(415, "unsupported_format",
                       "not a supported image (accepted: " + ", ".join(f.label for f in FORMATS.values()) + ")")
    return data, fmt, fields


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    if settings.static_dir is not None:
        why = unsafe_static_root(settings.static_dir,
                                 upload_dir=None if settings.supabase_configured else settings.upload_dir)
        if why:
            raise ValueError(f"refusing to serve --static {settings.static_dir}: {why}")
    metrics = Metrics()
    started = time.monotonic()
    # One pooled client per partner: hanging removals cannot take the connections uploads need.
    api4ai_client = partner_client(settings.max_concurrent_removals)
    storage_client = partner_client(50)
    api4ai = Api4ai(settings, api4ai_client, metrics)
    storage = (SupabaseStorage(settings, storage_client, metrics) if settings.supabase_configured
               else LocalStorage(settings))
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_storage, settings.rate_limit_max_clients)
    guard = Guard(settings, limiter, metrics)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        missing = settings.missing_fields()
        if missing:
            log.warning("partner half configured, treated as not configured; missing: %s", ", ".join(missing))
        log.info("pixelpress-server %s: api4ai %s, storage %s, client keys %s, rate limit %s", __version__,
                 "configured" if api4ai.configured else "not configured", storage.kind,
                 "required" if guard.auth_required else "not required",
                 "off" if not limiter.enabled else ("shared (redis)" if limiter.shared else "per process"))
        if settings.static_cors_origins and settings.static_dir is None:
            log.warning("PIXELPRESS_STATIC_CORS_ORIGINS is set but no site is served (--static): ignored")
        budget = connection_budget(settings)
        (log.warning if budget.cap < budget.asked else log.info)("%s", budget.describe())
        try:
            yield
        finally:
            await api4ai_client.aclose()
            await storage_client.aclose()

    app = FastAPI(title="pixelpress-server", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    errors.install(app)
    app.state.settings = settings
    app.state.metrics = metrics

    async def health() -> dict:
        return {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.monotonic() - started, 3),
            "partners": {
                "api4ai": {"configured": api4ai.configured},
                "supabase": {"configured": settings.supabase_configured,
                             "url_mode": settings.supabase_url_mode if settings.supabase_configured else None},
            },
            "storage": storage.kind,
            "auth_required": guard.auth_required,
            "limits": {"max_body_bytes": settings.max_body_bytes,
                       "rate_limit_per_minute": settings.rate_limit_per_minute,
                       "rate_limit_shared": limiter.shared},
        }

    # The page probes same-origin /api/health; operators and load balancers use /health.
    app.add_api_route("/health", health, methods=["GET", "HEAD"])
    app.add_api_route("/api/health", health, methods=["GET", "HEAD"])

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    @app.post("/api/v1/remove-background")
    async def remove_background(request: Request) -> Response:
        await guard(request)
        if not api4ai.configured:
            # Answer before reading the body: the client falls back locally anyway.
            raise ApiError(503, "not_configured",
                           "background removal is not configured on this server; use the local fallback")
        if api4ai.slots.locked():
            # Refused before the body is read, so waiting removals cannot pile up 25 MiB bodies either.
            raise ApiError(503, "busy", "too many background removals in progress; retry shortly or cut out locally",
                           headers={"Retry-After": "5"})
        async with api4ai.slots:
            data, fmt, _ = await _read_image(request, "image")
            png = await api4ai.remove_background(data, f"image.{fmt.name}", fmt.mime)
        return Response(png, media_type="image/png",
                        headers={PROVIDER_HEADER: "api4ai", "Cache-Control": "no-store"})

    @app.post("/api/v1/uploads")
    async def upload(request: Request) -> JSONResponse:
        await guard(request)
        data, fmt, fields = await _read_image(request, "file")
        path = clean_object_path(fields.get("path", ""))
        url = await storage.put(path, data, fmt.mime)
        return JSONResponse({"url": url, "path": path, "storage": storage.kind}, status_code=201)

    @app.api_route("/api/v1/uploads/{path:path}", methods=["GET", "HEAD"])
    async def read_upload(path: str) -> Response:
        if not isinstance(storage, LocalStorage):
            raise ApiError(404, "not_found", "uploads are served by the storage service, not this server")
        target = storage.resolve(clean_object_path(path))
        if not target.is_file():
            raise ApiError(404, "not_found", "no such upload")
        with target.open("rb") as fh:
            fmt = sniff(fh.read(16))
        return FileResponse(target, media_type=fmt.mime if fmt else "application/octet-stream", headers={
            # Uploaded bytes share the page's origin: never let them be read as anything but an image.
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=3600",
        })

    if settings.static_dir is not None:
        # Mounted last so /api, /health and /metrics win over files of the same name.
        app.mount("/", SiteFiles(directory=str(settings.static_dir), html=True), name="static")

    # Added innermost first: metrics see everything, including 413 and CORS answers.
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes, idle_timeout=settings.idle_timeout,
                       body_timeout=settings.body_timeout, min_rate=settings.min_body_rate,
                       grace=settings.body_rate_grace)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"],
                           expose_headers=["Retry-After", PROVIDER_HEADER], max_age=600)
    if settings.static_dir is not None and settings.static_cors_origins:
        # Outside the API's CORS: answers the site files' preflights before CORSMiddleware refuses them.
        app.add_middleware(StaticCors, origins=settings.static_cors_origins)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    # Outermost: also on 413, CORS and error answers.
    app.add_middleware(SecurityHeaders, isolation=settings.cross_origin_isolation)
    return app
