"""The shared store of a build farm: plain HTTP, read with GET, written with PUT.

Any server that keeps what is PUT and serves it back works; nginx with its WebDAV module
(``dav_methods PUT DELETE; create_full_put_path on;``) is the reference. The layout is
bazel-remote's split: ``ac/<key>.json`` (an action-cache entry: which blobs a stage
produced, signed in ``ac/<key>.sig``) and ``cas/<aa>/<sha256>`` (content-addressed
blobs, named by their own digest). Most clients only read; a builder holding the
signing key also writes.

Everything here is bounded: a request has timeouts, a download stops at the size the
caller expects, and a body lands in a temporary file next to its destination, renamed
only once its sha256 is the one asked for. A server that cannot be reached, answers
5xx or breaks a transfer raises ``StoreUnavailable``: the caller builds locally and says
so. A missing entry is ``None``, not an error.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests

from skiffbuild.core.errors import SkiffError

__all__ = ["Store", "StoreUnavailable", "blob_path"]

_TIMEOUT = (5.0, 60.0)  # connect, and between bytes
_CHUNK = 1 << 16
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class StoreUnavailable(Exception):
    """The store could not be used just now (down, refusing, broken transfer)."""


def blob_path(sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return f"cas/{sha256[:2]}/{sha256}"


@dataclass(frozen=True)
class Store:
    """The store at ``url`` (``http://`` or ``https://``)."""

    url: str

    def __post_init__(self) -> None:
        if not re.match(r"^https?://[^/]+", self.url):
            raise SkiffError(f"the cache store {self.url!r} is not an http:// or https:// URL")

    def _url(self, path: str) -> str:
        return f"{self.url.rstrip('/')}/{path}"

    def _request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        try:
            response = requests.request(method, self._url(path), timeout=_TIMEOUT,
                                        allow_redirects=False, **kwargs)  # type: ignore[arg-type]
        except requests.RequestException as exc:
            raise StoreUnavailable(f"{method} {self._url(path)}: {_reason(exc)}") from None
        if response.status_code >= 500 or response.status_code in (408, 429):
            response.close()
            raise StoreUnavailable(f"{method} {self._url(path)}: HTTP {response.status_code}")
        return response

    def get(self, path: str, limit: int) -> bytes | None:
        """The body at ``path`` (None: not there), at most ``limit`` bytes."""
        response = self._request("GET", path, stream=True)
        with response:
            if response.status_code == 404:
                return None
            _expect(response, "GET", self._url(path), 200)
            data = bytearray()
            try:
                for chunk in response.iter_content(_CHUNK):
                    data += chunk
                    if len(data) > limit:
                        raise StoreUnavailable(f"GET {self._url(path)}: larger than "
                                               f"{limit} bytes")
            except requests.RequestException as exc:
                raise StoreUnavailable(f"GET {self._url(path)}: {_reason(exc)}") from None
        return bytes(data)

    def exists(self, path: str) -> bool:
        response = self._request("HEAD", path)
        response.close()
        return response.status_code == 200

    def fetch_blob(self, sha256: str, size: int, dest: Path) -> bool:
        """The blob ``sha256`` of ``size`` bytes into ``dest``; False when the store does
        not have it or sends other bytes (nothing is left under ``dest`` then)."""
        url = self._url(blob_path(sha256))
        response = self._request("GET", blob_path(sha256), stream=True)
        with response:
            if response.status_code == 404:
                return False
            _expect(response, "GET", url, 200)
            digest, got = hashlib.sha256(), 0
            fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in response.iter_content(_CHUNK):
                        got += len(chunk)
                        if got > size:
                            break
                        digest.update(chunk)
                        out.write(chunk)
                if got != size or digest.hexdigest() != sha256:
                    return False
                os.replace(tmp, dest)
                tmp = ""
                return True
            except requests.RequestException as exc:
                raise StoreUnavailable(f"GET {url}: {_reason(exc)}") from None
            finally:
                if tmp:
                    os.unlink(tmp)

    def put(self, path: str, data: bytes | Path) -> None:
        """Store ``data`` (bytes, or a file's content) at ``path``."""
        if isinstance(data, Path):
            with open(data, "rb") as body:
                response = self._request("PUT", path, data=body)
        else:
            response = self._request("PUT", path, data=data)
        response.close()
        _expect(response, "PUT", self._url(path), 200, 201, 204)

    def delete(self, path: str) -> None:
        response = self._request("DELETE", path)
        response.close()
        _expect(response, "DELETE", self._url(path), 200, 204, 404)


def _expect(response: requests.Response, method: str, url: str, *codes: int) -> None:
    if response.status_code not in codes:
        # 401/403: a read-only store (or no credentials), a client error the caller
        # reports and survives, as it does an unreachable store.
        raise StoreUnavailable(f"{method} {url}: HTTP {response.status_code}")


def _reason(exc: requests.RequestException) -> str:
    text = str(exc.__context__ or exc) or type(exc).__name__
    return text.splitlines()[0][:200]
