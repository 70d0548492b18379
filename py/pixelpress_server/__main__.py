"""`pixelpress-server`: run the thin server under uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import uvicorn

from .serving import connection_budget, uvicorn_options
from .settings import Settings
from .static import unsafe_static_root


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pixelpress-server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--static", metavar="DIR", type=Path,
                        help="also serve this static site directory at / on the same origin")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (the server is stateless)")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--no-access-log", action="store_true", help="disable per-request access logs")
    parser.add_argument("--proxy-headers", action="store_true", default=None,
                        help="trust X-Forwarded-For/-Proto from --forwarded-allow-ips (off by default; "
                             "env PIXELPRESS_PROXY_HEADERS)")
    parser.add_argument("--forwarded-allow-ips", metavar="IPS",
                        help="comma-separated proxy addresses (or '*') whose forwarded headers are trusted "
                             "with --proxy-headers (default 127.0.0.1; env PIXELPRESS_FORWARDED_ALLOW_IPS)")
    parser.add_argument("--static-cors-origins", metavar="ORIGINS",
                        help="comma-separated origins (or '*') whose pages may load the --static site's files "
                             "(client, worker, Pyodide, models) cross-origin; the API is unaffected "
                             "(env PIXELPRESS_STATIC_CORS_ORIGINS)")
    parser.add_argument("--cross-origin-isolation", action="store_true", default=None,
                        help="send COOP/COEP so the studio's page is cross-origin isolated and the network "
                             "runs on several threads (env PIXELPRESS_CROSS_ORIGIN_ISOLATION)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.static is not None:
        if not args.static.is_dir():
            raise SystemExit(f"pixelpress-server: --static {args.static}: not a directory")
        # Passed through the environment so every worker process's factory sees it.
        os.environ["PIXELPRESS_STATIC_DIR"] = str(args.static.resolve())
    # Flags win over the environment; written back to it so worker processes see the same values.
    if args.proxy_headers:
        os.environ["PIXELPRESS_PROXY_HEADERS"] = "true"
    if args.forwarded_allow_ips is not None:
        os.environ["PIXELPRESS_FORWARDED_ALLOW_IPS"] = args.forwarded_allow_ips
    if args.cross_origin_isolation:
        os.environ["PIXELPRESS_CROSS_ORIGIN_ISOLATION"] = "true"
    if args.static_cors_origins is not None:
        os.environ["PIXELPRESS_STATIC_CORS_ORIGINS"] = args.static_cors_origins
    settings = Settings()
    if settings.static_dir is not None:
        why = unsafe_static_root(settings.static_dir,
                                 upload_dir=None if settings.supabase_configured else settings.upload_dir)
        if why:
            raise SystemExit(f"pixelpress-server: refusing to serve --static {settings.static_dir}: {why}")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every partner URL at INFO; the server logs its own outcomes instead.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    # Raises the open-file soft limit before workers start (they inherit it); each process then fits
    # its own cap to what it can open and logs it at start-up.
    connection_budget(settings)
    uvicorn.run(
        "pixelpress_server.app:create_app", factory=True,
        host=args.host, port=args.port, workers=args.workers,
        log_level=args.log_level, access_log=not args.no_access_log,
        **uvicorn_options(settings),
    )


if __name__ == "__main__":
    main()
