"""`pixelpress-server`: run the thin server under uvicorn."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

import uvicorn

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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.static is not None:
        if not args.static.is_dir():
            raise SystemExit(f"pixelpress-server: --static {args.static}: not a directory")
        # Passed through the environment so every worker process's factory sees it.
        os.environ["PIXELPRESS_STATIC_DIR"] = str(args.static.resolve())
    settings = Settings()
    if settings.static_dir is not None:
        why = unsafe_static_root(settings.static_dir,
                                 upload_dir=None if settings.supabase_configured else settings.upload_dir)
        if why:
            raise SystemExit(f"pixelpress-server: refusing to serve --static {settings.static_dir}: {why}")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every partner URL at INFO; the server logs its own outcomes instead.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLogger().level))
    uvicorn.run(
        "pixelpress_server.app:create_app", factory=True,
        host=args.host, port=args.port, workers=args.workers,
        log_level=args.log_level, access_log=not args.no_access_log,
        # Bodies are capped by the app; this only bounds idle keep-alive sockets.
        timeout_keep_alive=5,
    )


if __name__ == "__main__":
    main()
