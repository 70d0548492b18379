"""One error shape for every failure: {"error": {"code": ..., "message": ...}}.

Codes are stable (clients branch on them); messages are for people.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

log = logging.getLogger("pixelpress_server")


# Every code the server answers with, and its status: the one list (docs/server.md's table
# names each; tests/server/test_server_error_codes.py checks both ways).
CODES: dict[str, int] = {
    "empty_body": 400, "missing_field": 400, "invalid_path": 400, "bad_request": 400, "invalid_request": 400,
    "unauthorized": 401,
    "cross_origin": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "request_timeout": 408,
    "already_exists": 409,
    "too_large": 413,
    "uri_too_long": 414,
    "unsupported_format": 415,
    "rate_limited": 429,
    "header_too_large": 431,
    "client_disconnected": 499,
    "internal_error": 500,
    "upstream_error": 502, "upstream_failure": 502, "upstream_malformed": 502,
    "not_configured": 503, "busy": 503,
    "upstream_timeout": 504,
    "http_error": 0,  # any other framework status, kept as is
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=status, headers=headers)


# Framework errors keep their status but get a stable code.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_format",
    429: "rate_limited",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Echo only field locations, never submitted values (they may be large or sensitive).
        where = ", ".join(".".join(str(p) for p in err.get("loc", ())) for err in exc.errors())
        return error_response(400, "invalid_request", f"invalid or missing fields: {where}")

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, _: ClientDisconnect) -> JSONResponse:
        # The client hung up mid-body: nothing went wrong here and nobody reads the answer.
        # 499 (as nginx logs it) keeps it out of the 5xx count and the logs free of tracebacks.
        log.info("%s %s: client disconnected before the request body ended", request.method, request.url.path)
        return error_response(499, "client_disconnected", "the client closed the connection mid-request")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Starlette still logs the traceback; the client learns nothing internal.
        return error_response(500, "internal_error", "unexpected server error")
