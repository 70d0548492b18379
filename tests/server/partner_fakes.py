"""Loopback fakes of the server's two partners, faithful to the contracts in DESIGN.md.

Each fake validates what the real service validates (key headers, query,
multipart field, bucket) and has modes to misbehave. Tests flip `mode` on
the shared object; the fakes run under uvicorn in a thread (tests) or in a
subprocess (`python tests/server/partner_fakes.py api4ai --port N`, used by the bench).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import secrets
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from PIL import Image, ImageDraw


def cutout_png(data: bytes) -> bytes:
    """What a background remover returns: the same picture with an alpha mask (an opaque ellipse)."""
    with Image.open(io.BytesIO(data)) as im:
        rgba = im.convert("RGBA")
    mask = Image.new("L", rgba.size, 0)
    w, h = rgba.size
    ImageDraw.Draw(mask).ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=255)
    rgba.putalpha(mask)
    out = io.BytesIO()
    rgba.save(out, "PNG", compress_level=1)
    return out.getvalue()


class FakeApi4ai:
    MODES = ("ok", "error500", "flaky", "slow", "malformed", "failure", "no_image", "trickle", "nested", "echo_key")

    def __init__(self, key: str = "api4ai-test-key", header: str = "x-api-key", delay: float = 1.0) -> None:
        self.key = key
        self.header = header  # "x-api-key" or "rapidapi"
        self.delay = delay
        self.reset()
        self.app = self._build()

    def reset(self) -> None:
        self.mode = "ok"
        self.calls = 0
        self.requests: list[dict] = []

    def _authorised(self, request: Request) -> bool:
        if self.header == "rapidapi":
            return (request.headers.get("x-rapidapi-key") == self.key
                    and bool(request.headers.get("x-rapidapi-host")))
        return request.headers.get("x-api-key") == self.key

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/v1/results")
        async def results(request: Request) -> Response:
            self.calls += 1
            form = await request.form()
            part = form.get("image")
            self.requests.append({"headers": dict(request.headers), "query": dict(request.query_params),
                                  "filename": getattr(part, "filename", None)})
            if not self._authorised(request):
                return JSONResponse({"message": "Invalid API key"}, status_code=401)
            if request.query_params.get("mode") != "fg-image":
                return JSONResponse({"message": "unknown mode"}, status_code=422)
            if part is None or isinstance(part, str):
                return JSONResponse({"message": "field 'image' is required"}, status_code=422)
            data = await part.read()
            mode = self.mode
            if mode == "flaky":
                mode = "error500" if self.calls == 1 else "ok"
            if mode == "error500":
                return Response("internal error", status_code=500)
            if mode == "slow":
                await asyncio.sleep(self.delay)
            if mode == "malformed":
                return Response("<html>gateway hiccup</html>", media_type="application/json")
            if mode == "trickle":  # a byte at a time: every read is quick, the answer never ends in time
                async def drip():
                    for _ in range(int(self.delay * 10)):
                        yield b" "
                        await asyncio.sleep(0.1)
                    yield b"{}"
                return StreamingResponse(drip(), media_type="application/json")
            if mode == "nested":
                return Response('{"results": ' + "[" * 100_000 + "]" * 100_000 + "}", media_type="application/json")
            if mode == "echo_key":  # a partner that quotes the key back in its message
                message = (f"Invalid key {request.headers.get('x-api-key')} for this plan "
                           "(request sk_live_4f9a8b7c6d5e4f3a2b1c0d9e)")
                return JSONResponse({"results": [{"status": {"code": "failure", "message": message},
                                                  "name": "image", "entities": []}]})
            if mode == "failure":
                return JSONResponse({"results": [{"status": {"code": "failure", "message": "Image is broken."},
                                                  "name": "image", "entities": []}]})
            try:
                png = cutout_png(data)
            except Exception:  # noqa: BLE001 - like the partner: any unreadable upload is a failure status
                return JSONResponse({"results": [{"status": {"code": "failure", "message": "Cannot read image."},
                                                  "entities": []}]})
            with Image.open(io.BytesIO(png)) as im:
                width, height = im.size
            entities = [{"kind": "classes", "name": "background", "classes": {"foreground": 0.98}}]
            if mode != "no_image":
                entities.append({"kind": "image", "name": "image", "format": "png",
                                 "image": base64.b64encode(png).decode()})
            return JSONResponse({"results": [{"status": {"code": "ok", "message": "Processed successfully."},
                                              "name": "image", "md5": uuid.uuid4().hex, "width": width,
                                              "height": height, "entities": entities}]})

        return app


class FakeSupabase:
    """Supabase Storage: upload, public read, sign and signed read, per DESIGN.md."""

    def __init__(self, key: str = "supabase-service-key", bucket: str = "results") -> None:
        self.key = key
        self.bucket = bucket
        self.reset()
        self.app = self._build()

    def reset(self) -> None:
        self.mode = "ok"
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.tokens: dict[str, str] = {}
        self.uploads: list[dict] = []

    def _authorised(self, request: Request) -> bool:
        return (request.headers.get("authorization") == f"Bearer {self.key}"
                and request.headers.get("apikey") == self.key)

    @staticmethod
    def _error(status: int, error: str, message: str, http: int | None = None) -> JSONResponse:
        return JSONResponse({"statusCode": str(status), "error": error, "message": message},
                            status_code=http or status)

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/storage/v1/object/sign/{bucket}/{path:path}")
        async def sign(bucket: str, path: str, request: Request) -> Response:
            if not self._authorised(request):
                return self._error(403, "Unauthorized", "invalid signature", 400)
            if self.mode == "redirect_sign":
                return Response(status_code=301, headers={"Location": "https://moved.example/sign"})
            body = await request.json()
            if not isinstance(body.get("expiresIn"), int):
                return self._error(400, "invalid_request", "expiresIn is required")
            if f"{bucket}/{path}" not in self.objects:
                return self._error(404, "not_found", "Object not found", 400)
            token = secrets.token_urlsafe(16)
            self.tokens[f"{bucket}/{path}"] = token
            return JSONResponse({"signedURL": f"/object/sign/{bucket}/{path}?token={token}"})

        @app.get("/storage/v1/object/sign/{bucket}/{path:path}")
        async def signed_read(bucket: str, path: str, token: str = "") -> Response:
            key = f"{bucket}/{path}"
            if key not in self.objects or self.tokens.get(key) != token:
                return self._error(400, "InvalidJWT", "invalid token")
            data, mime = self.objects[key]
            return Response(data, media_type=mime)

        @app.get("/storage/v1/object/public/{bucket}/{path:path}")
        async def public_read(bucket: str, path: str) -> Response:
            key = f"{bucket}/{path}"
            if key not in self.objects:
                return self._error(404, "not_found", "Object not found", 400)
            data, mime = self.objects[key]
            return Response(data, media_type=mime)

        @app.post("/storage/v1/object/{bucket}/{path:path}")
        async def upload(bucket: str, path: str, request: Request) -> Response:
            data = await request.body()
            self.uploads.append({"bucket": bucket, "path": path, "raw_path": request.scope["raw_path"],
                                 "headers": dict(request.headers), "size": len(data)})
            if not self._authorised(request):
                return self._error(403, "Unauthorized", "invalid signature", 400)
            if bucket != self.bucket:
                return self._error(404, "Bucket not found", "Bucket not found", 400)
            if self.mode == "error500":
                return self._error(500, "internal", "database unavailable")
            if self.mode == "redirect":  # e.g. a project moved behind a proxy: nothing is stored
                return Response(status_code=302, headers={"Location": "https://moved.example/storage"})
            key = f"{bucket}/{path}"
            # Older Storage versions answer a duplicate with HTTP 400 and statusCode "409".
            if key in self.objects and request.headers.get("x-upsert") != "true":
                return self._error(409, "Duplicate", "The resource already exists", 400)
            self.objects[key] = (data, request.headers.get("content-type", "application/octet-stream"))
            return JSONResponse({"Key": key, "Id": str(uuid.uuid4())})

        return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="run a partner fake on loopback")
    parser.add_argument("which", choices=["api4ai", "supabase"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", default=None)
    parser.add_argument("--mode", default="ok", help="api4ai: one of FakeApi4ai.MODES (e.g. slow, to hang)")
    parser.add_argument("--delay", type=float, default=1.0, help="api4ai: seconds a slow or trickled answer takes")
    args = parser.parse_args()
    fake = FakeApi4ai(delay=args.delay) if args.which == "api4ai" else FakeSupabase()
    if args.key:
        fake.key = args.key
    if args.which == "api4ai":
        fake.mode = args.mode
    uvicorn.run(fake.app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
