"""Defences of the downloader against hostile or broken servers: the per-file
deadline and minimum rate, hosts found unreachable, short readable errors, and
decoding a body the server sent with a Content-Encoding we did not ask for."""

from __future__ import annotations

import os
import threading
import time
import zlib
from collections import deque
from pathlib import Path

from .hashes import MultiHasher

__all__ = ["Deadline", "Pace", "Permanent", "Unreachable", "UnreachableHosts",
           "connect_failure", "decode_into", "short_error", "store_decoded"]

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

    def check(self, received: int) -> None:
        now = time.monotonic()
        if now > self.deadline_at:
            raise Deadline(f"not fetched within {self.deadline:g}s (the per-file "
                            "deadline)")
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
