"""Defences of the downloader against hostile or broken servers: the per-file
deadline and minimum rate, hosts found unreachable, short readable errors, and
decoding a body the server sent with a Content-Encoding we did not ask for."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import zlib
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests

from skiffbuild.buildroot.hashes import MultiHasher

__all__ = ["Deadline", "Pace", "Permanent", "Unreachable", "UnreachableHosts",
           "Watchdog", "connect_failure", "decode_into", "never_resolves", "redact", "redact_in",
           "short_error",
           "store_decoded"]

_CHUNK = 1 << 16


class Permanent(Exception):
    """This URL will not work (404, refused scheme, too slow, too big): go to the next one."""


class Deadline(Exception):
    """The file's overall deadline passed: no further URL is tried."""


class Unreachable(Exception):
    """The host could not be connected to; ``reason`` is short and readable."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: unreachable ({reason})")
        self.host = host
        self.reason = reason


class UnreachableHosts:
    """Hosts found unreachable during one run: every other file skips them, so a run
    without network ends after one attempt per host instead of retries per file."""

    def __init__(self) -> None:
        self._dead: dict[str, str] = {}
        self._lock = threading.Lock()

    def reason(self, host: str) -> str | None:
        with self._lock:
            return self._dead.get(host)

    def mark(self, host: str, reason: str) -> bool:
        """Record ``host``; True when this call is the first to find it unreachable."""
        with self._lock:
            first = host not in self._dead
            self._dead.setdefault(host, reason)
            return first



class Pace:
    """The per-file deadline and the minimum rate, checked as each block arrives."""

    def __init__(self, deadline_at: float, deadline: float, min_rate: float,
                 window: float) -> None:
        self.deadline_at = deadline_at
        self.deadline = deadline
        self.min_rate = min_rate
        self.window = window
        self.samples: deque[tuple[float, int]] = deque([(time.monotonic(), 0)])

    def deadline_error(self) -> Deadline:
        return Deadline(f"not fetched within {self.deadline:g}s (the per-file deadline)")

    def check(self, received: int) -> None:
        now = time.monotonic()
        if now > self.deadline_at:
            raise self.deadline_error()
        window = self.window
        self.samples.append((now, received))
        # Keep the newest sample at least a window old as the first: the rate is
        # measured over at least one whole window.
        while len(self.samples) > 1 and self.samples[1][0] <= now - window:
            self.samples.popleft()
        since, then = self.samples[0]
        if now - since >= window and (received - then) / (now - since) < self.min_rate:
            raise Permanent(f"too slow: {(received - then) / (now - since):.0f} bytes/s over "
                             f"{now - since:.0f}s, below the minimum of "
                             f"{self.min_rate:.0f} bytes/s")


def endpoint(url: str) -> str:
    """What is unreachable when a connection fails: the host, with the port when the URL
    names one (a dead server on one port of a machine says nothing of the others)."""
    from urllib.parse import urlparse

    parsed = urlparse(url)
    host = parsed.hostname or url
    try:
        port = parsed.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port is not None else host


def never_resolves(url: str) -> bool:
    """The URL's host is in the ``.invalid`` domain, which RFC 6761 reserves to never
    resolve, and no proxy (which would do the lookup) is configured for it."""
    from urllib.parse import urlparse

    import requests

    host = (urlparse(url).hostname or "").rstrip(".").lower()
    if host.rsplit(".", 1)[-1] != "invalid":
        return False
    return urlparse(url).scheme not in requests.utils.get_environ_proxies(url)


def connect_failure(exc: BaseException) -> str | None:
    """A short reason when ``exc`` says no connection could be made (DNS failure,
    refused, connect timeout), else None; never urllib3's long repr."""
    import socket

    import requests
    from urllib3.exceptions import NewConnectionError

    seen: set[int] = set()
    stack: list[object] = [exc]
    connect = isinstance(exc, requests.ConnectTimeout)
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError):
            connect = True
        if isinstance(item, socket.gaierror):
            return (item.strerror or "name resolution failed").lower()
        if isinstance(item, ConnectionRefusedError):
            return "connection refused"
        if isinstance(item, OSError) and not isinstance(item, TimeoutError) and item.strerror \
                and connect:
            return item.strerror.lower()
        stack += [*item.args, getattr(item, "reason", None), item.__cause__, item.__context__]
    return "no connection" if connect else None



def short_error(exc: BaseException) -> str:
    """The innermost readable message of a requests/urllib3 error, whole words only."""
    text = str(exc)
    inner = exc
    while inner.args and isinstance(inner.args[0], BaseException):
        inner = inner.args[0]
    text = str(getattr(inner, "reason", None) or inner)
    name = type(exc).__name__
    if len(text) > 160:
        text = text[:160].rsplit(" ", 1)[0] + " …"
    return f"{name}: {text}"


_watched = threading.local()  # the Watchdog of the request this thread is making


class Watchdog:
    """Shuts the request's connection down at a deadline. A server dripping its
    response headers (a byte every few seconds) never reaches the body loop's rate
    and deadline checks, and no socket timeout fires while bytes trickle in: only
    closing the socket from another thread ends the wait. ``check`` then says why."""

    def __init__(self) -> None:
        self.conn: object | None = None  # the urllib3 connection sending the request
        self.fired: Exception | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Watchdog:
        _watched.dog = self
        return self

    def __exit__(self, *exc: object) -> None:
        self.disarm()
        _watched.dog = None

    def arm(self, seconds: float, why: Exception) -> None:
        """From now on, fire in ``seconds`` (replacing any earlier deadline)."""
        self.disarm()
        self._timer = threading.Timer(max(0.0, seconds), self._fire, (why,))
        self._timer.daemon = True
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fire(self, why: Exception) -> None:
        import socket

        with self._lock:
            self.fired = why
            sock = getattr(self.conn, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def check(self) -> None:
        if self.fired is not None:
            raise self.fired


def _watch(conn: object) -> None:
    dog = getattr(_watched, "dog", None)
    if dog is not None:
        with dog._lock:
            dog.conn = conn
            fired = dog.fired
        if fired is not None:
            raise fired


def watched_session() -> requests.Session:
    """A requests session whose connections tell the thread's Watchdog which socket
    to shut down (urllib3's connection classes, with one hook in ``request``)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Conn(HTTPConnection):
        def request(self, *args: Any, **kwargs: Any) -> None:
            _watch(self)
            super().request(*args, **kwargs)

    class SConn(HTTPSConnection):
        def request(self, *args: Any, **kwargs: Any) -> None:
            _watch(self)
            super().request(*args, **kwargs)

    class Pool(HTTPConnectionPool):
        ConnectionCls = Conn

    class SPool(HTTPSConnectionPool):
        ConnectionCls = SConn

    pools = {"http": Pool, "https": SPool}

    class Adapter(HTTPAdapter):
        # requests makes a ProxyManager per proxy (http_proxy, https_proxy): its pools
        # must be watched too, or a mirror reached through a proxy could drip forever.
        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = pools
            return manager

    session = requests.Session()
    for prefix in ("http://", "https://"):
        adapter = Adapter()
        adapter.poolmanager.pool_classes_by_scheme = pools
        session.mount(prefix, adapter)
    return session


def redact(url: str) -> str:
    """``url`` fit to show: credentials in it (``http://user:pw@host``, e.g. in
    SKIFFBUILD_PRIMARY_SITE) become ``user:***@`` (a bare token ``***@``)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not at:
        return url
    user, colon, _ = userinfo.partition(":")
    shown = f"{user}:***" if colon else "***"
    return f"{scheme}://{shown}@{host}{slash}{path}"


def redact_in(text: str, url: str) -> str:
    """``text`` (an error message about ``url``) with ``url``'s credentials hidden,
    wherever the message repeats the URL or its userinfo."""
    _, sep, rest = url.partition("://")
    userinfo, at, _ = rest.partition("/")[0].rpartition("@")
    if not (sep and at):
        return text
    text = text.replace(url, redact(url))
    secret = userinfo.partition(":")[2] or userinfo
    return text.replace(secret, "***") if secret else text


def decode_into(decoder: zlib._Decompress, block: bytes | None, hasher: MultiHasher,
                 size: int, cap: int) -> int:
    """Feed ``block`` (None: the end) through ``decoder`` into ``hasher``, never
    producing more than ``cap`` bytes in all; -1 once the stream is invalid or too big."""
    if size < 0:
        return size
    try:
        data = decoder.decompress(block, cap + 1 - size) if block is not None \
            else decoder.flush()
        if decoder.unconsumed_tail:
            return -1  # more than cap + 1 bytes from this block alone
    except zlib.error:
        return -1
    size += len(data)
    if size > cap:
        return -1
    hasher.update(data)
    return size


def store_decoded(part: Path) -> None:
    """Replace the raw (Content-Encoding'd) bytes in ``part`` by the decoded ones.
    Only called once the decoded bytes matched the file's hashes while streaming
    (so their size is known and within the cap)."""
    decoder = zlib.decompressobj(32 + 15)
    tmp = part.with_name(part.name + ".decoded")
    with open(part, "rb") as src, open(tmp, "wb") as out:
        while block := src.read(_CHUNK):
            out.write(decoder.decompress(block))
        out.write(decoder.flush())
    os.replace(tmp, part)
