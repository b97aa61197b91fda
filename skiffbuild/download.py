"""Fetching sources into the verified cache: mirrors first, resumable,
hashed while streaming, several at once, and never online when offline.

URL order for a file: the ``SKIFFBUILD_MIRRORS`` alternatives of each of its
URIs, then the primary-site setting (``<site>/<dl_dir>/<file>``, then
``<site>/<file>``, as Buildroot does), then the package's own URIs in
show-info's order (which ends with Buildroot's backup site). A download goes
to ``.<file>.part`` beside its final name and is renamed into place only
when every listed hash matches; bytes that do not match are moved to
``cache/rejected/`` and the next URL is tried.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    import requests

from .dlcache import DownloadCache, mismatches
from .errors import SkiffError
from .fsutil import atomic_write
from .hashes import Expected, MultiHasher
from .lock import refuse_unlocked
from .mirrors import MirrorMap
from .plan import Workspace
from .project import ENV_JOBS, ENV_OFFLINE, ENV_PRIMARY_SITE, Project, flag
from .sources import Source, override_file_state, query_overrides, workspace_sources

__all__ = ["ConsoleReporter", "FetchSettings", "Outcome", "Reporter", "candidate_urls",
           "fetch_all", "fetch_one", "settings_from_env", "sources_verified", "sync_workspace"]

_FETCHABLE = ("http", "https", "file", "ftp")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class FetchSettings:
    mirrors: MirrorMap = field(default_factory=MirrorMap)
    primary_site: str | None = None
    offline: bool = False
    jobs: int = 4  # downloads at once
    attempts: int = 4  # per URL, for transient failures (resuming each time)
    timeout: float = 30.0  # seconds without data before giving up on a connection
    backoff: float = 0.5  # first retry delay, doubled each time


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
        self.echo(f"fetching {source.relpath} from {url}")

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


class _Quiet:
    def fetching(self, source: Source, url: str) -> None:
        pass

    def progress(self, source: Source, done: int, total: int | None) -> None:
        pass

    def fetched(self, source: Source, url: str, size: int, seconds: float) -> None:
        pass

    def note(self, source: Source, message: str) -> None:
        pass


@dataclass(frozen=True)
class Outcome:
    source: Source
    state: str  # cached | fetched | failed | missing | refused
    detail: str = ""


class _Permanent(Exception):
    """This URL will not work (404, refused scheme): go to the next one."""


def candidate_urls(source: Source, settings: FetchSettings) -> list[str]:
    own = [u.url_for(source.file) for u in source.uris if u.backend in _FETCHABLE]
    urls = [alt for url in own for alt in settings.mirrors.rewrite(url)]
    if settings.primary_site:
        site = settings.primary_site.rstrip("/")
        urls += [f"{site}/{source.dl_dir}/{source.file}", f"{site}/{source.file}"]
    urls += own
    return list(dict.fromkeys(urls))


_local = threading.local()


def _session() -> requests.Session:
    # Imported here: a no-op run, which downloads nothing, does not pay for requests.
    import requests

    if not hasattr(_local, "session"):
        _local.session = requests.Session()
    return _local.session


def _hash_existing(part: Path, hasher: MultiHasher) -> int:
    size = 0
    with open(part, "rb") as f:
        while block := f.read(1 << 20):
            hasher.update(block)
            size += len(block)
    return size


def _copy_local(url: str, part: Path, hasher: MultiHasher, source: Source,
                reporter: Reporter) -> None:
    path = Path(unquote(urlparse(url).path))
    if not path.is_file():
        raise _Permanent("no such file")
    with open(path, "rb") as src, open(part, "wb") as dst:
        done = 0
        while block := src.read(_CHUNK):
            dst.write(block)
            hasher.update(block)
            done += len(block)
            reporter.progress(source, done, None)


def _http(url: str, part: Path, algorithms: set[str], source: Source,
          settings: FetchSettings, reporter: Reporter) -> MultiHasher:
    """Stream ``url`` into ``part``, resuming with Range after a broken transfer."""
    import requests

    delay = settings.backoff
    last_error = ""
    for attempt in range(settings.attempts):
        if attempt:
            reporter.note(source, f"{last_error}; retrying in {delay:.1f}s")
            time.sleep(delay)
            delay *= 2
        hasher = MultiHasher(algorithms)
        have = _hash_existing(part, hasher) if part.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with _session().get(url, stream=True, timeout=settings.timeout,
                                headers=headers) as resp:
                if resp.status_code in (404, 410):
                    raise _Permanent(f"HTTP {resp.status_code}")
                if resp.status_code == 416:  # our partial file is no use: start over
                    part.unlink()
                    last_error = "HTTP 416 for the partial download"
                    continue
                if resp.status_code in (429,) or resp.status_code >= 500:
                    last_error = f"HTTP {resp.status_code}"
                    continue
                if resp.status_code not in (200, 206):
                    raise _Permanent(f"HTTP {resp.status_code}")
                resumed = resp.status_code == 206 and resp.headers.get(
                    "Content-Range", "").startswith(f"bytes {have}-")
                if not resumed:
                    hasher = MultiHasher(algorithms)
                    have = 0
                elif have:
                    reporter.note(source, f"resuming at byte {have}")
                length = resp.headers.get("Content-Length")
                total = have + int(length) if length and length.isdigit() else None
                done = have
                with open(part, "ab" if resumed else "wb") as out:
                    for block in resp.iter_content(_CHUNK):
                        out.write(block)
                        hasher.update(block)
                        done += len(block)
                        reporter.progress(source, done, total)
                if total is not None and done < total:
                    last_error = f"transfer ended at byte {done} of {total}"
                    continue
                return hasher
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            last_error = f"{type(exc).__name__}: {str(exc)[:120]}"
    raise _Permanent(f"gave up after {settings.attempts} attempts: {last_error}")


def fetch_one(source: Source, cache: DownloadCache, settings: FetchSettings,
              reporter: Reporter | None = None) -> Outcome:
    """Make ``source`` present and verified in the cache, under its lock."""
    reporter = reporter or _Quiet()
    if not source.expected and not source.allow_unhashed:
        where = ", ".join(source.hash_files) or "any .hash file"
        return Outcome(source, "refused",
                       f"no hash for {source.file} in {where} (Buildroot would let it through; "
                       "skiffbuild does not: add its hash, or list it under sources.allow_unhashed "
                       "in the board manifest)")
    with cache.lock(source):
        verdict = cache.verify(source)
        if verdict.state == "ok":
            return Outcome(source, "cached")
        if verdict.state == "corrupt":
            kept = cache.reject(cache.path(source), source, verdict.digests["sha256"])
            reporter.note(source, f"cached copy failed verification ({verdict.detail}); "
                                  f"moved to {kept}")
        if settings.offline:
            why = "corrupt in the cache" if verdict.state == "corrupt" else "not in the cache"
            return Outcome(source, "missing", why)
        algorithms = {e.algorithm for e in source.expected}
        part = cache.part(source)
        errors = []
        for url in candidate_urls(source, settings):
            started = time.monotonic()
            reporter.fetching(source, url)
            try:
                if url.startswith("file://"):
                    hasher = MultiHasher(algorithms)
                    _copy_local(url, part, hasher, source, reporter)
                else:
                    hasher = _http(url, part, algorithms, source, settings, reporter)
            except _Permanent as exc:
                errors.append(f"{url}: {exc}")
                continue
            except OSError as exc:
                errors.append(f"{url}: {exc}")
                continue
            digests = hasher.hexdigests()
            bad = mismatches(source.expected, digests)
            if bad:
                kept = cache.reject(part, source, digests["sha256"])
                errors.append(f"{url}: refused, {'; '.join(bad)}; bytes kept in {kept}")
                reporter.note(source, errors[-1])
                continue
            size = part.stat().st_size
            os.chmod(part, 0o644)
            os.replace(part, cache.path(source))
            cache.remember(source, digests)
            reporter.fetched(source, url, size, time.monotonic() - started)
            return Outcome(source, "fetched", url)
        if not errors:
            errors.append("no URL this downloader can use (only "
                          f"{', '.join(_FETCHABLE)}); the URIs are {[str(u) for u in source.uris]}")
        return Outcome(source, "failed", "\n      ".join(errors))


def fetch_all(sources: list[Source], cache: DownloadCache, settings: FetchSettings,
              reporter: Reporter | None = None, workspace: str = "") -> list[Outcome]:
    """Fetch everything, ``settings.jobs`` at a time; raise one error listing every failure."""
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        outcomes = list(pool.map(lambda s: fetch_one(s, cache, settings, reporter), sources))
    failed = [o for o in outcomes if o.state in ("failed", "refused")]
    missing = [o for o in outcomes if o.state == "missing"]
    lines = []
    for o in failed:
        lines.append(f"  {o.source.relpath} ({', '.join(o.source.packages)}): {o.detail}")
    for o in missing:
        urls = candidate_urls(o.source, FetchSettings(mirrors=settings.mirrors,
                                                      primary_site=settings.primary_site))
        lines.append(f"  {o.source.relpath} ({', '.join(o.source.packages)}): {o.detail}; "
                     f"get it from {urls[0] if urls else 'its package site'}")
    if lines:
        ws = workspace or "<ws>"
        hint = (f"online: run `doit sources:{ws}`; for an air-gapped machine: "
                f"`skiffbuild export {ws} FILE` where the files are, then `skiffbuild import FILE`"
                if missing else None)
        kind = "missing (offline mode)" if missing and not failed else "could not be fetched"
        raise SkiffError(f"{len(lines)} source file(s) {kind}:\n" + "\n".join(lines), hint=hint)
    return outcomes


def settings_from_env(environ: Mapping[str, str], offline: bool = False) -> FetchSettings:
    jobs = environ.get(ENV_JOBS, "")
    return FetchSettings(mirrors=MirrorMap.from_env(environ),
                         primary_site=environ.get(ENV_PRIMARY_SITE) or None,
                         offline=offline or flag(environ, ENV_OFFLINE),
                         jobs=int(jobs) if jobs.isdigit() and int(jobs) > 0 else 4)


def sync_workspace(ws: Workspace, project: Project, settings: FetchSettings,
                   reporter: Reporter | None = None) -> list[Source]:
    """The sources:<ws> action: every download present and verified, then the record."""
    from .audit import GAP_HINT, describe_gaps, workspace_gaps

    sources = workspace_sources(ws, project)
    # Every hash is checked before anything is downloaded: a refused file must
    # not be found only after an hour of fetching the others.
    gaps = workspace_gaps(ws, project, sources)
    if gaps:
        raise SkiffError(describe_gaps(ws.name, gaps), hint=GAP_HINT)
    fetch_all(sources, DownloadCache.of(project), settings, reporter, ws.name)
    # After the downloads (verified against their .hash files, so they are in the
    # cache for review and `skiffbuild lock`), before the record that marks
    # sources:<ws> done: a hash that differs from skiffbuild.lock stops the build.
    refuse_unlocked(ws, project, sources)
    atomic_write(ws.paths.sources, json.dumps(
        {"workspace": ws.name, "sources": [s.to_json() for s in sources],
         # Packages built from a local tree, and the override file that says so
         # (its edit makes this task run again).
         "overrides": query_overrides(ws, project),
         "override_file": override_file_state(ws)}, indent=1) + "\n")
    return sources


def sources_verified(ws: Workspace, project: Project) -> bool:
    """Up-to-date check of sources:<ws>: every recorded file still verified (stat fast path)."""
    try:
        data = json.loads(ws.paths.sources.read_text())
        recorded = data["sources"]
        if data.get("override_file") != override_file_state(ws):
            return False
    except (OSError, ValueError, KeyError):
        return False
    cache = DownloadCache.of(project)
    for entry in recorded:
        source = Source(entry["file"], entry["dl_dir"], tuple(entry["packages"]), (),
                        tuple(Expected(h["type"], h["hash"], h["from"]) for h in entry["hashes"]),
                        (), entry["allow_unhashed"])
        if cache.verify(source).state != "ok":
            return False
    return True
