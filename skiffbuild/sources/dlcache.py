"""The shared download cache: Buildroot's own ``dl/<dl_dir>/<file>`` layout,
verified, locked and never holding a file that failed its hashes.

- One lock per file (``dl/<dl_dir>/.<file>.lock``, flock(2)), so several
  processes fetching the same file make one transfer while different files
  of one package directory still download in parallel. Files only ever
  appear by rename, so Buildroot's own dl-wrapper sees a file whole or not
  at all.
- A file is verified against every hash its package lists. The result is
  remembered with the file's (size, mtime, ctime, inode); while those are
  unchanged the file is not hashed again (ctime cannot be faked from user
  space, so a modified file is always caught).
- A file that fails verification is moved aside to ``cache/rejected/`` for
  inspection, never left in the cache.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiffbuild.buildroot.hashes import Expected, hash_file
from skiffbuild.buildroot.showinfo import Source
from skiffbuild.core.fsutil import atomic_write, locked, stat_key
from skiffbuild.core.project import Project

__all__ = ["DownloadCache", "Verdict", "mismatches"]


@dataclass(frozen=True)
class Verdict:
    state: str  # ok | missing | corrupt | unhashed
    detail: str = ""
    digests: dict[str, Any] | None = None


def mismatches(expected: tuple[Expected, ...], digests: dict[str, str]) -> list[str]:
    """Human-readable list of every expected hash the digests do not match."""
    return [f"{e.algorithm} expected {e.hexdigest}, got {digests[e.algorithm]} ({e.origin})"
            for e in expected if digests.get(e.algorithm) != e.hexdigest]


@dataclass(frozen=True)
class DownloadCache:
    root: Path  # Buildroot's BR2_DL_DIR
    state: Path  # verification records
    rejected: Path  # files that failed their hashes

    @classmethod
    def of(cls, project: Project) -> DownloadCache:
        return cls(project.dl_dir, project.state_dir / "verified", project.cache / "rejected")

    def path(self, source: Source) -> Path:
        return self.root / source.dl_dir / source.file

    def part(self, source: Source) -> Path:
        """Where a download in progress lives (kept across runs, for resuming)."""
        return self.root / source.dl_dir / f".{source.file}.part"

    def _record(self, source: Source) -> Path:
        return self.state / source.dl_dir / f"{source.file}.json"

    @contextlib.contextmanager
    def lock(self, source: Source) -> Iterator[None]:
        with self._lock(source.dl_dir, source.file):
            yield

    def _lock(self, dl_dir: str, file: str) -> contextlib.AbstractContextManager[None]:
        return locked(self.root / dl_dir / f".{file}.lock")

    def remember(self, source: Source, digests: dict[str, str], url: str | None = None) -> None:
        """Record the verified digests (and, for a download, the URL shown for it)."""
        if url is None:  # a re-verification keeps the origin of the same bytes
            url = self.origin(source)
        self._remember(source.dl_dir, source.file, digests, url)

    def _remember(self, dl_dir: str, file: str, digests: dict[str, str],
                  url: str | None = None) -> None:
        atomic_write(self.state / dl_dir / f"{file}.json", json.dumps(
            {"stat": stat_key((self.root / dl_dir / file).stat()), "digests": digests,
             **({"url": url} if url else {})}) + "\n")

    def origin(self, source: Source) -> str | None:
        """The URL the cached bytes were downloaded from, when the cache recorded it
        for exactly these bytes (a file imported or put there otherwise has none)."""
        try:
            record = json.loads(self._record(source).read_text())
            if record["stat"] == stat_key(self.path(source).stat()):
                url = record.get("url")
                return url if isinstance(url, str) and url else None
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return None

    def adopt(self, dl_dir: str, file: str, staged: Path, digests: dict[str, str]) -> bool:
        """Put bytes verified elsewhere (an offline bundle's) into the cache as a download
        would: under the file's lock, never replacing a file that is there (a concurrent
        download, verified by its own hashes), with the digests remembered. True when
        the file was added."""
        target = self.root / dl_dir / file
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(dl_dir, file):
            try:
                os.link(staged, target)  # link(2) never replaces
            except FileExistsError:
                return False
            self._remember(dl_dir, file, digests)
        return True

    def _known_digests(self, source: Source) -> dict[str, str] | None:
        try:
            record = json.loads(self._record(source).read_text())
            if record["stat"] == stat_key(self.path(source).stat()):
                return record["digests"]
        except (OSError, ValueError, KeyError):
            pass
        return None

    def verify(self, source: Source) -> Verdict:
        """Is the cached file present and does it match every listed hash?"""
        path = self.path(source)
        if not path.is_file():
            return Verdict("missing")
        if not source.expected and not source.allow_unhashed:
            return Verdict("unhashed", "no hash is listed for it")
        needed = {e.algorithm for e in source.expected} | {"sha256"}
        known = self._known_digests(source)
        fresh = known is None or not needed <= known.keys()
        digests = hash_file(path, needed) if fresh or known is None else known
        bad = mismatches(source.expected, digests)
        if bad:
            return Verdict("corrupt", "; ".join(bad), digests)
        if fresh:
            self.remember(source, digests)
        return Verdict("ok", digests=digests)

    def reject(self, path: Path, source: Source, sha256: str) -> Path:
        """Move bytes that failed verification out of the cache, keeping them."""
        self.rejected.mkdir(parents=True, exist_ok=True)
        target = self.rejected / f"{source.file}.{sha256[:16]}"
        os.replace(path, target)
        with contextlib.suppress(FileNotFoundError):
            self._record(source).unlink()
        return target
