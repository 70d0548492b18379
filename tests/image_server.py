"""A real HTTP server of pictures and bad answers, for URL inputs (tests/server/test_cli_urls.py, bench/catalogue.py).

    /img/NAME.jpg            the JPEG registered as NAME
    /slow/SECONDS/NAME.jpg   the same, after SECONDS
    /drip/NAME.jpg           headers, then one byte every 0.2 s, for ever (a server that never finishes)
    /missing/NAME.jpg        404
    /text/NAME.jpg           200, an HTML page (not a picture)
    /redirect?to=URL         302 to URL

It counts the requests per path and the most it served at once.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class ImageServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, images: dict[str, bytes], host: str = "127.0.0.1"):
        super().__init__((host, 0), Handler)
        self.images = images
        self.hits: dict[str, int] = {}
        self.busy = self.most = 0
        self.lock = threading.Lock()

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that hung up (its timeout) is no news
            super().handle_error(request, client_address)

    @property
    def base(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ImageServer

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        s = self.server
        with s.lock:
            s.hits[self.path] = s.hits.get(self.path, 0) + 1
            s.busy += 1
            s.most = max(s.most, s.busy)
        try:
            self.answer(urlsplit(self.path))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout): what a drip is for
        finally:
            with s.lock:
                s.busy -= 1

    def answer(self, url) -> None:
        parts = url.path.strip("/").split("/")
        kind, name = parts[0], parts[-1].rsplit(".", 1)[0]
        if kind == "redirect":
            self.send(302, b"", "text/plain", location=parse_qs(url.query)["to"][0])
        elif kind == "missing" or (kind in ("img", "slow", "drip") and name not in self.server.images):
            self.send(404, b"not found", "text/plain")
        elif kind == "text":
            self.send(200, b"<!doctype html><title>shop</title><p>not a picture</p>", "text/html")
        elif kind == "slow":
            time.sleep(float(parts[1]))
            self.send(200, self.server.images[name], "image/jpeg")
        elif kind == "drip":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(self.server.images[name])))
            self.end_headers()
            for byte in self.server.images[name]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.2)
        else:
            self.send(200, self.server.images[name], "image/jpeg")

    def send(self, status: int, body: bytes, mime: str, **headers) -> None:
        self.send_response(status)
        self.send_header("Content-Type", mime)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k.capitalize(), v)
        self.end_headers()
        self.wfile.write(body)


@contextlib.contextmanager
def serving(images: dict[str, bytes], host: str = "127.0.0.1"):
    server = ImageServer(images, host)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
