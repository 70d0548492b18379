"""URL inputs: downloaded a few at a time, each within a time limit and a byte cap, never from a private address.

The guard sits where connections are made (an httpcore network backend), so
it holds for every connection: the first, each redirect's, and after DNS
answers change between a check and the connect (the checked address is the
one connected to). Each download has one deadline, for the whole of it:
connecting, TLS, and every read are given only the time it has left, so a
server that sends a byte every few seconds (or a resolver that does not
answer) cannot hold a download open.
Proxies from the environment are not used: the guard must see the real host.

httpx is the `urls` extra; without it a URL input is `missing_dependency`.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import weakref
from concurrent.futures import Future, ThreadPoolExecutor

from .. import __version__
from ..errors import MissingDependency, PixelpressError, TooLarge
from ..limits import DEFAULT_LIMITS
from .core import BlockedAddress, DownloadFailed, DownloadTimeout, SourceError

TIMEOUT = 20.0  # seconds for a whole download: connect, TLS, headers, body
CONCURRENCY = 3  # downloads at a time
MAX_BYTES = DEFAULT_LIMITS.max_bytes  # the engine reads no larger file
MAX_REDIRECTS = 5
INSTALL = 'pip install "pixelpress[urls]"'


def is_url(arg: str) -> bool:
    return arg[:8].lower().startswith(("http://", "https://"))


def refused(address: str) -> str | None:
    """Why an address is refused (private, loopback, ...), or None for a public one. An IPv4 address
    inside an IPv6 one (mapped, 6to4, Teredo, NAT64) is judged as itself."""
    ip = ipaddress.ip_address(address.split("%")[0])
    candidates = [ip]
    if ip.version == 6 and ip.ipv4_mapped:
        candidates = [ip.ipv4_mapped]  # the IPv4 address itself, however written
    elif ip.version == 6:
        inner = [ip.sixtofour, *(ip.teredo or ())]
        if ip in ipaddress.ip_network("64:ff9b::/96"):
            inner.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        candidates = [i for i in inner if i is not None] + candidates
    for candidate in candidates:
        for what in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
            if getattr(candidate, f"is_{what}"):
                return what.replace("_", "-")
        if not candidate.is_global:
            return "not public"
    return None


def httpx_modules():
    try:
        import httpcore
        import httpx
    except ImportError:
        raise MissingDependency(f"URL inputs need httpx, which is not installed here. Install it with: {INSTALL}") from None
    return httpx, httpcore


class Fetcher:
    """Downloads on `concurrency` threads, sharing one guarded connection pool."""

    def __init__(self, *, concurrency: int = CONCURRENCY, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES,
                 allow_private: bool = False):
        httpx, httpcore = httpx_modules()
        self.httpx, self.timeout, self.max_bytes, self.concurrency = httpx, timeout, max_bytes, concurrency
        self.deadline = threading.local()  # each download runs on one thread, its reads on that thread
        self.streams: weakref.WeakSet = weakref.WeakSet()  # the open connections, for abort()
        backend = _guarded_backend(httpcore, self.deadline, allow_private, self.streams)
        transport = httpx.HTTPTransport()
        # httpx builds its pool without a way to name the network backend; the same pool, with the guard's.
        transport._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=concurrency, max_keepalive_connections=concurrency,
            keepalive_expiry=5.0, network_backend=backend)
        self.client = httpx.Client(transport=transport, follow_redirects=True, max_redirects=MAX_REDIRECTS,
                                   timeout=httpx.Timeout(timeout), trust_env=False,
                                   headers={"User-Agent": f"pixelpress/{__version__}"})
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="pixelpress-fetch")

    def submit(self, url: str) -> Future:
        """A future of (bytes, milliseconds taken); a failure's exception carries `download_ms` too."""
        return self.pool.submit(self._timed, url)

    def _timed(self, url: str) -> tuple[bytes, float]:
        start = time.monotonic()
        try:
            data = self.get(url)
        except Exception as exc:
            exc.download_ms = round((time.monotonic() - start) * 1000, 1)
            raise
        return data, round((time.monotonic() - start) * 1000, 1)

    def get(self, url: str) -> bytes:
        """The bytes at `url`, or a typed failure: download_failed, download_timeout, blocked_address, too_large."""
        httpx = self.httpx
        self.deadline.at = time.monotonic() + self.timeout
        try:
            with self.client.stream("GET", url) as r:
                if r.status_code >= 300:
                    raise DownloadFailed(f"The server answered HTTP {r.status_code} {r.reason_phrase}.".replace(" .", "."),
                                         status=r.status_code)
                length = r.headers.get("content-length", "")
                if length.isdigit() and int(length) > self.max_bytes:
                    raise TooLarge(self._too_large(int(length)))
                body = bytearray()
                for chunk in r.iter_bytes(1 << 16):  # decoded (gzip): the cap holds for what the engine would read
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise TooLarge(self._too_large(len(body), more=True))
                return bytes(body)
        except httpx.TimeoutException:
            raise DownloadTimeout(f"The download took longer than {self.timeout:g} s.") from None
        except httpx.TooManyRedirects:
            raise DownloadFailed(f"More than {MAX_REDIRECTS} redirects.") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise DownloadFailed(f"Could not download it: {str(exc).rstrip('.') or type(exc).__name__}.") from None
        except (SourceError, PixelpressError):
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. a host name IDNA refuses: still this URL's own failure
            raise DownloadFailed(f"Could not download it: {type(exc).__name__}: {str(exc).rstrip('.')}.") from None
        finally:
            self.deadline.at = None

    def _too_large(self, n: int, more: bool = False) -> str:
        return f"The download is {'over ' if more else ''}{n / 1e6:.1f} MB; the limit is {self.max_bytes / 1e6:g} MB."

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def abort(self) -> None:
        """End the downloads under way now (Ctrl-C): their sockets are shut, so no read waits out its timeout."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        for stream in list(self.streams):
            try:
                stream.get_extra_info("socket").shutdown(socket.SHUT_RDWR)
            except (OSError, AttributeError):
                continue
        self.client.close()


def _guarded_backend(httpcore, deadline: threading.local, allow_private: bool, streams: weakref.WeakSet):
    def left(timeout: float | None) -> float | None:
        at = getattr(deadline, "at", None)
        if at is None:
            return timeout
        remaining = at - time.monotonic()
        if remaining <= 0:
            raise httpcore.ReadTimeout("the download's time is up")
        return remaining if timeout is None else min(timeout, remaining)

    class Stream(httpcore.NetworkStream):
        def __init__(self, inner):
            self.inner = inner
            streams.add(self)

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self.inner.read(max_bytes, left(timeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self.inner.write(buffer, left(timeout))

        def close(self) -> None:
            self.inner.close()

        def start_tls(self, ssl_context, server_hostname=None, timeout=None):
            return Stream(self.inner.start_tls(ssl_context, server_hostname, left(timeout)))

        def get_extra_info(self, info: str):
            return self.inner.get_extra_info(info)

    class Backend(httpcore.NetworkBackend):
        inner = httpcore.SyncBackend()

        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            # The system's resolver takes no timeout: it runs aside, and the download stops waiting at its deadline.
            found: dict = {}

            def resolve() -> None:
                try:
                    found["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                except (OSError, UnicodeError) as exc:
                    found["error"] = exc

            lookup = threading.Thread(target=resolve, daemon=True, name="pixelpress-resolve")
            lookup.start()
            lookup.join(left(timeout))
            if lookup.is_alive():
                raise httpcore.ConnectTimeout(f"resolving {host} took too long")
            if "error" in found:
                raise DownloadFailed(f"Could not find the host {host}: {found['error']}.")
            infos = found["infos"]
            addresses = list(dict.fromkeys(info[4][0] for info in infos))
            if not allow_private:
                for address in addresses:
                    why = refused(address)
                    if why:
                        what = f"{address} is a {why} address" if host.strip("[]") == address else \
                            f"{host} is {address}, a {why} address"
                        raise BlockedAddress(f"{what}: refused unless --allow-private.", address=address)
            last: Exception = DownloadFailed(f"Could not find the host {host}.")
            for address in addresses:  # the checked address itself, not the name again
                try:
                    return Stream(self.inner.connect_tcp(address, port, left(timeout), local_address, socket_options))
                except httpcore.ConnectError as exc:
                    last = exc
            raise last

        def connect_unix_socket(self, *args, **kwargs):
            raise DownloadFailed("Unix sockets are not URL inputs.")

        def sleep(self, seconds: float) -> None:
            time.sleep(seconds)

    return Backend()
