"""The shared store of a build farm: plain HTTP, read with GET, written with PUT.

Any server that keeps what is PUT and serves it back works; nginx with its WebDAV module
(``dav_methods PUT DELETE; create_full_put_path on;``) is meant as the production
server. The layout is modelled on bazel-remote's split (not its protocol):
``ac/<key>.json`` (an action-cache entry) and ``cas/<aa>/<sha256>`` (content-addressed
blobs, named by their own digest), plus
``sources/<dl_dir>/<file>``. Most clients only read; a builder holding the signing key
also writes.

Everything here is bounded: the connection and each read have timeouts, and a whole
exchange a deadline (an entry 60 s; a blob 60 s plus its size at 256 KiB/s) enforced by
the downloader's watchdog, which shuts the socket down, so that a server dripping a byte
now and then (headers or body) cannot hold a build. A download stops at the size the
caller expects and is never decoded (``Accept-Encoding: identity``); a blob lands in a
temporary file next to its destination, renamed only once its sha256 is the one asked
for. Redirects are not followed; credentials in the URL are never shown. A server that
cannot be reached, answers 5xx, 3xx or 4xx (a read-only store refusing a PUT) or breaks a
transfer raises ``StoreUnavailable``: the caller builds locally and says so. A missing
entry is ``None``, not an error.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from skiffbuild.core.errors import SkiffError
from skiffbuild.sources.netguard import Watchdog, redact, watched_session

__all__ = ["Store", "StoreUnavailable", "blob_path"]

_TIMEOUT = (5.0, 30.0)  # connect, and between bytes
_CHUNK = 1 << 16
_DEADLINE = 60.0  # seconds for an entry, a HEAD or a PUT of a small body
_MIN_RATE = 256 << 10  # bytes per second a blob must average, past the first 60 s
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_local = threading.local()


class StoreUnavailable(Exception):
    """The store could not be used just now (down, refusing, broken transfer)."""


class _TooLarge(StoreUnavailable):
    """A body past the size asked for: for a blob, other bytes than the ones signed."""


def blob_path(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return f"cas/{sha256[:2]}/{sha256}"


def _session() -> requests.Session:
    if not hasattr(_local, "session"):
        _local.session = watched_session()
    return _local.session


def _reason(exc: BaseException) -> str:
    text = str(exc.__context__ or exc) or type(exc).__name__
    return text.splitlines()[0][:200]


@dataclass(frozen=True)
class Store:
    """The store at ``url`` (``http://`` or ``https://``, no query or fragment)."""

    url: str
    deadline: float = _DEADLINE  # seconds for an exchange; a blob adds its size's

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.url)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
            ok = (parts.scheme in ("http", "https") and bool(parts.hostname)
                  and not parts.query and not parts.fragment and " " not in self.url)
        except ValueError:
            ok = False
        if not ok:
            raise SkiffError(f"the cache store {redact(self.url)!r} is not an http:// or "
                             "https:// URL with a host (and no query or fragment)")

    def _url(self, path: str) -> str:
        return f"{self.url.rstrip('/')}/{path}"

    def _shown(self, method: str, path: str) -> str:
        return f"{method} {redact(self._url(path))}"

    @contextlib.contextmanager
    def _exchange(self, method: str, path: str, *codes: int, deadline: float | None = None,
                  **kwargs: object) -> Iterator[requests.Response]:
        """A response with one of ``codes`` (or 404), read within the deadline; anything
        else, or a failure while it is read, is StoreUnavailable."""
        shown = self._shown(method, path)
        seconds = self.deadline if deadline is None else deadline
        with Watchdog() as dog:
            dog.arm(seconds, StoreUnavailable(f"{shown}: not complete within {seconds:.0f}s"))
            try:
                response = _session().request(
                    method, self._url(path), timeout=_TIMEOUT, allow_redirects=False,
                    headers={"Accept-Encoding": "identity"}, **kwargs)  # type: ignore[arg-type]
            except requests.RequestException as exc:
                dog.check()
                raise StoreUnavailable(f"{shown}: {_reason(exc)}") from None
            with response:
                if response.status_code not in (*codes, 404):
                    # 401/403: a read-only store (or no credentials); 3xx: not followed.
                    raise StoreUnavailable(f"{shown}: HTTP {response.status_code}")
                try:
                    yield response
                except _TooLarge:
                    raise
                except StoreUnavailable:
                    dog.check()
                    raise
                except Exception as exc:  # requests', urllib3's or the socket's
                    dog.check()
                    if isinstance(exc, (requests.RequestException, OSError)) or \
                            type(exc).__module__.startswith("urllib3"):
                        raise StoreUnavailable(f"{shown}: {_reason(exc)}") from None
                    raise

    def _body(self, response: requests.Response, path: str, limit: int) -> Iterator[bytes]:
        """The body as sent (never decoded), at most ``limit`` bytes."""
        got = 0
        for chunk in response.raw.stream(_CHUNK, decode_content=False):
            got += len(chunk)
            if got > limit:
                raise _TooLarge(f"{self._shown('GET', path)}: larger than {limit} bytes")
            yield chunk

    def get(self, path: str, limit: int) -> bytes | None:
        """The body at ``path`` (None: not there), at most ``limit`` bytes."""
        with self._exchange("GET", path, 200, stream=True) as response:
            if response.status_code == 404:
                return None
            return b"".join(self._body(response, path, limit))

    def exists(self, path: str) -> bool:
        with self._exchange("HEAD", path, 200) as response:
            return response.status_code == 200

    def fetch_blob(self, sha256: str, size: int, dest: Path) -> bool:
        """The blob ``sha256`` of ``size`` bytes into ``dest``; False when the store does
        not have it or sends other bytes (nothing is left under ``dest`` then)."""
        path = blob_path(sha256)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out, self._exchange(
                    "GET", path, 200, stream=True,
                    deadline=self.deadline + size / _MIN_RATE) as response:
                if response.status_code == 404:
                    return False
                digest, got = hashlib.sha256(), 0
                for chunk in self._body(response, path, size):
                    got += len(chunk)
                    digest.update(chunk)
                    out.write(chunk)
            if got != size or digest.hexdigest() != sha256:
                return False
            os.replace(tmp, dest)
            tmp = ""
            return True
        except _TooLarge:
            return False  # not the bytes signed
        finally:
            if tmp:
                os.unlink(tmp)

    def put(self, path: str, data: bytes | Path) -> None:
        """Store ``data`` (bytes, or a file's content) at ``path``."""
        size = data.stat().st_size if isinstance(data, Path) else len(data)
        with contextlib.ExitStack() as stack:
            body = stack.enter_context(open(data, "rb")) if isinstance(data, Path) else data
            response = stack.enter_context(self._exchange(
                "PUT", path, 200, 201, 204, data=body,
                deadline=self.deadline + size / _MIN_RATE))
            if response.status_code == 404:  # a server that cannot create the path
                raise StoreUnavailable(f"{self._shown('PUT', path)}: HTTP 404")

    def delete(self, path: str) -> None:
        with self._exchange("DELETE", path, 200, 204):
            pass
