"""What a download run tells as it goes: the events, and the console's rendering."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

from skiffbuild.buildroot.showinfo import Source
from skiffbuild.sources.netguard import redact

__all__ = ["ConsoleReporter", "Quiet", "Reporter"]


class Reporter(Protocol):
    """Progress events; the console reporter prints them, tests may record them."""

    def fetching(self, source: Source, url: str) -> None: ...
    def progress(self, source: Source, done: int, total: int | None) -> None: ...
    def fetched(self, source: Source, url: str, size: int, seconds: float) -> None: ...
    def note(self, source: Source, message: str) -> None: ...


class ConsoleReporter:
    def __init__(self, echo: Callable[[str], None], every: float = 2.0) -> None:
        self.echo = echo
        self.every = every
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def fetching(self, source: Source, url: str) -> None:
        self.echo(f"fetching {source.relpath} from {redact(url)}")

    def progress(self, source: Source, done: int, total: int | None) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(source.relpath, now) < self.every:
                self._last.setdefault(source.relpath, now)
                return
            self._last[source.relpath] = now
        of = f" of {total / 1e6:.1f} MB" if total else ""
        self.echo(f"  {source.file}: {done / 1e6:.1f} MB{of}")

    def fetched(self, source: Source, url: str, size: int, seconds: float) -> None:
        self.echo(f"fetched {source.relpath} ({size} bytes, {seconds:.1f}s)")

    def note(self, source: Source, message: str) -> None:
        self.echo(f"  {source.file}: {message}")


class Quiet:
    def fetching(self, source: Source, url: str) -> None:
        pass

    def progress(self, source: Source, done: int, total: int | None) -> None:
        pass

    def fetched(self, source: Source, url: str, size: int, seconds: float) -> None:
        pass

    def note(self, source: Source, message: str) -> None:
        pass
