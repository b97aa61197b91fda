"""Fetching sources into the verified cache: mirrors first, resumable,
hashed while streaming, several at once, and never online when offline.

URL order for a file: the shared stage cache's ``sources/<dl_dir>/<file>``
(``SKIFFBUILD_CACHE_URL``), the ``SKIFFBUILD_MIRRORS`` alternatives of each
of its URIs, the primary-site setting (``<site>/<dl_dir>/<file>``, then
``<site>/<file>``, as Buildroot does), then the package's own URIs in
show-info's order (which ends with Buildroot's backup site). A download goes
to ``.<file>.part`` beside its final name and is renamed into place only
when every listed hash matches; bytes that do not match are moved to
``cache/rejected/`` and the next URL is tried.

Against hostile or broken servers (see ``FetchSettings``): a per-file
deadline and a minimum rate; a size cap (the lock's size when the lock lists
the file, else ``SKIFFBUILD_DOWNLOAD_LIMIT_MB``, default 4096) past which
nothing is read or kept; ``Accept-Encoding: identity``, and a response the
server encoded anyway is accepted when its bytes as sent or, for gzip/deflate,
decoded match the hashes (so a ``.tar.gz`` labelled gzip is never unpacked);
a partial file is resumed only against the URL that produced it (recorded in
``.<file>.part.url``); a host that cannot be connected to is tried once per
run and skipped for every other file.
"""

from __future__ import annotations

import io
import json
import os
import stat
import threading
import time
import zlib
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

if TYPE_CHECKING:
    import requests

from skiffbuild.buildroot.hashes import Expected, MultiHasher
from skiffbuild.buildroot.mirrors import MirrorMap
from skiffbuild.buildroot.showinfo import (
    Source,
    override_file_state,
    query_overrides,
    workspace_sources,
)
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.project import Project
from skiffbuild.core.settings import (
    ENV_CACHE_URL,
    ENV_DOWNLOAD_LIMIT,
    ENV_JOBS,
    ENV_OFFLINE,
    ENV_PRIMARY_SITE,
    flag,
)
from skiffbuild.model.plan import Workspace
from skiffbuild.sources import lockfile
from skiffbuild.sources.dlcache import DownloadCache, mismatches
from skiffbuild.sources.lockfile import apply_approvals, locked_entry, refuse_unlocked
from skiffbuild.sources.netguard import (
    Deadline,
    Pace,
    Permanent,
    Unreachable,
    UnreachableHosts,
    Watchdog,
    connect_failure,
    decode_into,
    endpoint,
    never_resolves,
    redact,
    redact_in,
    short_error,
    store_decoded,
    watched_session,
)
from skiffbuild.sources.reporting import ConsoleReporter, Quiet, Reporter

__all__ = ["DEFAULT_LIMIT_MB", "ConsoleReporter", "FetchSettings", "Outcome", "Reporter",
           "UnreachableHosts", "candidate_urls", "fetch_all", "fetch_for_review", "fetch_one",
           "settings_from_env", "sources_verified", "sync_workspace", "verified_digests"]

_FETCHABLE = ("http", "https", "file", "ftp")
_CHUNK = 1 << 16


DEFAULT_LIMIT_MB = 4096  # the size cap of a file the lock does not list (MiB)


@dataclass(frozen=True)
class FetchSettings:
    mirrors: MirrorMap = field(default_factory=MirrorMap)
    primary_site: str | None = None
    store: str | None = None  # the stage cache's store: its sources/ first
    offline: bool = False
    jobs: int = 4  # downloads at once
    attempts: int = 4  # per URL, for transient failures (resuming each time)
    timeout: float = 30.0  # seconds without data before giving up on a connection
    connect_timeout: float = 10.0  # seconds to establish a connection (then: unreachable)
    backoff: float = 0.5  # first retry delay, doubled each time
    # A hostile or broken server can keep a connection alive with a byte now and then,
    # which no idle timeout catches: a URL slower than min_rate bytes/s averaged over
    # rate_window seconds is given up, and a file not fetched within deadline seconds
    # (all its URLs and attempts together) fails. Both are checked as data arrives, so
    # the bound is these plus at most one idle ``timeout``.
    min_rate: float = 1024.0  # bytes per second
    rate_window: float = 30.0  # seconds
    deadline: float = 3600.0  # seconds per file
    # The status line and headers of a response must be complete within this (and
    # the per-file deadline): a server dripping them is cut off by a watchdog.
    header_timeout: float = 120.0  # seconds
    # The most bytes a file may have when the lock does not give its exact size
    # (SKIFFBUILD_DOWNLOAD_LIMIT_MB); a body past it is not read further.
    max_size: int = DEFAULT_LIMIT_MB << 20


@dataclass(frozen=True)
class Outcome:
    source: Source
    state: str  # cached | fetched | failed | missing | refused
    detail: str = ""


def _is_local(url: str) -> bool:
    return urlparse(url).scheme.lower() == "file"


def _own_urls(source: Source) -> list[str]:
    return [u.url_for(source.file) for u in source.uris if u.backend in _FETCHABLE]


def refused_local(source: Source) -> list[str]:
    """The package's own ``file://`` URLs: never used. show-info's URIs come from
    packages (an external tree's ``_SITE = file:///proc/self``) and would copy a
    host file such as the environment's secrets into the cache; local files are
    read only where the user's own configuration (SKIFFBUILD_PRIMARY_SITE, the
    mirror map) names them."""
    return [url for url in _own_urls(source) if _is_local(url)]


def candidate_urls(source: Source, settings: FetchSettings) -> list[str]:
    own = [url for url in _own_urls(source) if not _is_local(url)]
    # The store is no authority: only a file with a hash to check is taken from it.
    urls = [f"{settings.store.rstrip('/')}/sources/{source.dl_dir}/{source.file}"
            ] if settings.store and source.expected else []
    urls += [alt for url in own for alt in settings.mirrors.rewrite(url)]
    if settings.primary_site:
        site = settings.primary_site.rstrip("/")
        urls += [f"{site}/{source.dl_dir}/{source.file}", f"{site}/{source.file}"]
    urls += own
    return list(dict.fromkeys(urls))


_local = threading.local()


def _session() -> requests.Session:
    # requests is imported there: a no-op run, which downloads nothing, does not pay for it.
    if not hasattr(_local, "session"):
        _local.session = watched_session()
    return _local.session


def _hash_existing(part: Path, hasher: MultiHasher) -> int:
    with open(part, "rb") as f:
        while block := f.read(1 << 20):
            hasher.update(block)
        return f.tell()


def _url_record(part: Path) -> Path:
    """Which URL produced the partial file: it is resumed only against that URL."""
    return part.with_name(part.name + ".url")


def _discard_part(part: Path) -> None:
    for path in (part, _url_record(part)):
        path.unlink(missing_ok=True)


def _too_big(size: int, cap: int, locked: bool) -> str:
    what = "its size in skiffbuild.lock" if locked else \
        f"the download limit: {ENV_DOWNLOAD_LIMIT}, default {DEFAULT_LIMIT_MB} MiB"
    return f"refused: more than {cap} bytes ({what}); got at least {size}"


def _copy_local(url: str, part: Path, hasher: MultiHasher, source: Source,
                reporter: Reporter, cap: int, locked: bool, pace: Pace) -> None:
    path = Path(unquote(urlparse(url).path))
    # Opened without blocking and checked on the descriptor: only a regular file
    # is copied (a FIFO or /proc/kmsg would block forever, a device never end).
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise Permanent("no such file") from None
    with os.fdopen(fd, "rb") as src:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Permanent("not a regular file")
        if st.st_size > cap:
            raise Permanent(_too_big(st.st_size, cap, locked))
        _discard_part(part)
        _copy_bounded(src, part, hasher, source, reporter, cap, locked, pace)


def _copy_bounded(src: io.BufferedReader, part: Path, hasher: MultiHasher, source: Source,
                  reporter: Reporter, cap: int, locked: bool, pace: Pace) -> None:
    with open(part, "wb") as dst:
        done = 0
        while block := src.read(min(_CHUNK, cap + 1 - done)):
            done += len(block)
            if done > cap:
                dst.close()
                _discard_part(part)
                raise Permanent(_too_big(done, cap, locked))
            dst.write(block)
            hasher.update(block)
            reporter.progress(source, done, None)
            pace.check(done)  # the per-file deadline holds for local copies too


@dataclass(frozen=True)
class _Received:
    """What a transfer produced: the hashes of the bytes as sent, and, when the server
    applied a Content-Encoding, of the decoded bytes too (whichever matches wins)."""

    raw: MultiHasher
    decoded: MultiHasher | None = None
    encoding: str = ""


_DECODABLE = ("gzip", "x-gzip", "deflate")


def _http(url: str, part: Path, algorithms: set[str], source: Source,
          settings: FetchSettings, reporter: Reporter, pace: Pace, cap: int,
          locked: bool) -> _Received:
    """Stream ``url`` into ``part``, resuming with Range after a broken transfer."""
    import requests
    import urllib3

    host = endpoint(url)
    if never_resolves(url):  # RFC 6761: no lookup (a dead DNS server costs its timeout)
        raise Unreachable(host, "reserved invalid domain")
    record = _url_record(part)
    # A partial file is resumed only against the URL that produced it: bytes from a
    # bad mirror must not be completed by a good one (the result would never match).
    if part.exists() and (not record.exists() or record.read_text() != url):
        _discard_part(part)
    delay = settings.backoff
    last_error = ""
    for attempt in range(settings.attempts):
        if attempt:
            reporter.note(source, f"{last_error}; retrying in {delay:.1f}s")
            time.sleep(delay)
            delay *= 2
        raw = MultiHasher(algorithms)
        have = _hash_existing(part, raw) if part.exists() else 0
        # identity: the file's own bytes, never a recompressed rendition of them.
        headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={have}-"} if have else {})}
        watchdog = Watchdog()
        try:
            with watchdog:
                left = pace.deadline_at - time.monotonic()
                watchdog.arm(min(left, settings.header_timeout), Permanent(
                    f"no complete response headers within {settings.header_timeout:g}s")
                    if settings.header_timeout < left else pace.deadline_error())
                received = _transfer(url, part, record, raw, have, headers, algorithms, source,
                                     settings, reporter, pace, cap, locked, watchdog)
            watchdog.check()
            if isinstance(received, str):
                last_error = received
                continue
            return received
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                urllib3.exceptions.HTTPError) as exc:
            watchdog.check()  # the watchdog's own cut, said as such
            reason = connect_failure(exc)
            if reason is not None:
                raise Unreachable(host, reason) from None
            last_error = short_error(exc)
        except requests.RequestException as exc:
            watchdog.check()
            raise Permanent(short_error(exc)) from None
    raise Permanent(f"gave up after {settings.attempts} attempts: {last_error}")


def _transfer(url: str, part: Path, record: Path, raw: MultiHasher, have: int,
              headers: dict[str, str], algorithms: set[str], source: Source,
              settings: FetchSettings, reporter: Reporter, pace: Pace, cap: int, locked: bool,
              watchdog: Watchdog) -> _Received | str:
    """One request: the result, or why it should be retried."""
    with _session().get(url, stream=True, headers=headers,
                        timeout=(settings.connect_timeout, settings.timeout)) as resp:
        # Headers complete: from now on only the per-file deadline.
        watchdog.arm(pace.deadline_at - time.monotonic(), pace.deadline_error())
        if resp.status_code in (404, 410):
            raise Permanent(f"HTTP {resp.status_code}")
        if resp.status_code == 416:  # our partial file is no use: start over
            _discard_part(part)
            return "HTTP 416 for the partial download"
        if resp.status_code in (429,) or resp.status_code >= 500:
            return f"HTTP {resp.status_code}"
        if resp.status_code not in (200, 206):
            raise Permanent(f"HTTP {resp.status_code}")
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("identity",):
            encoding = ""
        if encoding and encoding not in _DECODABLE:
            raise Permanent(f"unsupported Content-Encoding {encoding!r}")
        if encoding and resp.status_code == 206:
            # A range of an encoded body is not a range of the file: start over.
            _discard_part(part)
            return f"HTTP 206 with Content-Encoding {encoding}"
        resumed = not encoding and resp.status_code == 206 and resp.headers.get(
            "Content-Range", "").startswith(f"bytes {have}-")
        if not resumed:
            raw = MultiHasher(algorithms)
            have = 0
        elif have:
            reporter.note(source, f"resuming at byte {have}")
        length = resp.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        if total is not None and total > cap:
            _discard_part(part)
            raise Permanent(_too_big(total, cap, locked))
        decoded = MultiHasher(algorithms) if encoding else None
        # 32+15: zlib accepts a gzip or a zlib (HTTP "deflate") stream.
        decoder = zlib.decompressobj(32 + 15)
        decoded_size = 0
        done = have
        atomic_write(record, url)
        with open(part, "ab" if resumed else "wb") as out:
            while True:
                # read1: whatever arrived, so a trickle is measured as it
                # comes; decode_content=False: the bytes as sent (hashed
                # raw, and decoded beside them when the server encoded them).
                block = resp.raw.read1(_CHUNK, decode_content=False)
                if not block:
                    break
                if done + len(block) > cap:
                    out.close()
                    _discard_part(part)
                    raise Permanent(_too_big(done + len(block), cap, locked))
                out.write(block)
                raw.update(block)
                done += len(block)
                if decoded is not None:
                    decoded_size = decode_into(decoder, block, decoded, decoded_size,
                                                cap)
                    if decoded_size < 0:
                        decoded = None  # not a valid or bounded stream: raw only
                reporter.progress(source, done, total)
                pace.check(done)
        if total is not None and done < total:
            return f"transfer ended at byte {done} of {total}"
        if decoded is not None:
            decoded_size = decode_into(decoder, None, decoded, decoded_size, cap)
            if decoded_size < 0 or not decoder.eof:
                decoded = None
        return _Received(raw, decoded, encoding)


def fetch_one(source: Source, cache: DownloadCache, settings: FetchSettings,
              reporter: Reporter | None = None, *, size: int | None = None,
              hosts: UnreachableHosts | None = None) -> Outcome:
    """Make ``source`` present and verified in the cache, under its lock. ``size``:
    its exact size when known (skiffbuild.lock), the cap of every download of it."""
    reporter = reporter or Quiet()
    hosts = hosts or UnreachableHosts()
    if not source.expected and not source.allow_unhashed:
        where = ", ".join(source.hash_files) or "any .hash file"
        return Outcome(source, "refused",
                       f"no hash for {source.file} in {where} (Buildroot would let it through; "
                       "skiffbuild does not: review and approve it once with `skiffbuild lock "
                       "--approve-unhashed <ws>`, or add its hash)")
    with cache.lock(source):
        verdict = cache.verify(source)
        if verdict.state == "ok":
            return Outcome(source, "cached")
        if verdict.state == "corrupt":
            kept = cache.reject(cache.path(source), source, (verdict.digests or {})["sha256"])
            reporter.note(source, f"cached copy failed verification ({verdict.detail}); "
                                  f"moved to {kept}")
        if settings.offline:
            why = "corrupt in the cache" if verdict.state == "corrupt" else "not in the cache"
            return Outcome(source, "missing", why)
        algorithms = {e.algorithm for e in source.expected} | {"sha256"}
        cap = size if size is not None else settings.max_size
        part = cache.part(source)
        errors = [f"{redact(url)}: refused, a package's own file:// URL is never read "
                  "(local files only through SKIFFBUILD_PRIMARY_SITE or SKIFFBUILD_MIRRORS)"
                  for url in refused_local(source)]
        pace_deadline = time.monotonic() + settings.deadline
        for url in candidate_urls(source, settings):
            started = time.monotonic()
            shown = redact(url)
            host = endpoint(url)
            dead = hosts.reason(host) if host else None
            if dead is not None:
                errors.append(f"{shown}: skipped, {host} is unreachable")
                continue
            reporter.fetching(source, url)
            received: _Received
            pace = Pace(pace_deadline, settings.deadline, settings.min_rate, settings.rate_window)
            try:
                if _is_local(url):
                    hasher = MultiHasher(algorithms)
                    _copy_local(url, part, hasher, source, reporter, cap, size is not None, pace)
                    received = _Received(hasher)
                else:
                    received = _http(url, part, algorithms, source, settings, reporter,
                                     pace, cap, size is not None)
            except Unreachable as exc:
                if hosts.mark(exc.host, exc.reason):
                    errors.append(f"{shown}: {redact_in(str(exc), url)}; skipped for the other "
                                  "files")
                    reporter.note(source, f"{redact_in(str(exc), url)}; skipped for the other "
                                          "files")
                else:
                    errors.append(f"{shown}: skipped, {exc.host} is unreachable")
                continue
            except Deadline as exc:
                errors.append(f"{shown}: {exc}")
                break
            except Permanent as exc:
                errors.append(f"{shown}: {redact_in(str(exc), url)}")
                continue
            except OSError as exc:
                errors.append(f"{shown}: {redact_in(str(exc), url)}")
                continue
            digests = received.raw.hexdigests()
            bad = mismatches(source.expected, digests)
            if bad and received.decoded is not None and not mismatches(
                    source.expected, received.decoded.hexdigests()):
                # The server applied Content-Encoding to the file (we asked for
                # identity): the decoded bytes are the file. A .tar.gz merely
                # labelled gzip matched as sent and is never decompressed.
                store_decoded(part)
                digests, bad = received.decoded.hexdigests(), []
            if bad:
                kept = cache.reject(part, source, digests["sha256"])
                _discard_part(part)
                errors.append(f"{shown}: refused, {'; '.join(bad)}; bytes kept in {kept}")
                reporter.note(source, errors[-1])
                continue
            size_now = part.stat().st_size
            os.chmod(part, 0o644)
            os.replace(part, cache.path(source))
            _discard_part(part)
            cache.remember(source, digests, url=shown)
            reporter.fetched(source, url, size_now, time.monotonic() - started)
            return Outcome(source, "fetched", shown)
        if not errors:
            errors.append("no URL this downloader can use (only "
                          f"{', '.join(_FETCHABLE)}); the URIs are {[str(u) for u in source.uris]}")
        return Outcome(source, "failed", "\n      ".join(errors))


def fetch_all(sources: list[Source], cache: DownloadCache, settings: FetchSettings,
              reporter: Reporter | None = None, workspace: str = "",
              sizes: Mapping[str, int] | None = None) -> list[Outcome]:
    """Fetch everything, ``settings.jobs`` at a time; raise one error listing every failure.
    ``sizes``: relpath -> exact size (from skiffbuild.lock), each file's download cap."""
    hosts = UnreachableHosts()  # for this run: a dead host is tried once, not per file
    known = sizes or {}
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        outcomes = list(pool.map(
            lambda s: fetch_one(s, cache, settings, reporter, size=known.get(s.relpath),
                                hosts=hosts), sources))
    failed = [o for o in outcomes if o.state in ("failed", "refused")]
    missing = [o for o in outcomes if o.state == "missing"]
    lines = []
    for o in failed:
        lines.append(f"  {o.source.relpath} ({', '.join(o.source.packages)}): {o.detail}")
    for o in missing:
        urls = candidate_urls(o.source, FetchSettings(mirrors=settings.mirrors,
                                                      primary_site=settings.primary_site))
        lines.append(f"  {o.source.relpath} ({', '.join(o.source.packages)}): {o.detail}; "
                     f"get it from {redact(urls[0]) if urls else 'its package site'}")
    if lines:
        ws = workspace or "<ws>"
        hint = (f"online: run `doit sources:{ws}`; for an air-gapped machine: "
                f"`skiffbuild export {ws} FILE` where the files are, then `skiffbuild import FILE`"
                if missing else None)
        hint = lockfile.changed_approval_hint([o.source for o in failed], ws) or hint
        kind = "missing (offline mode)" if missing and not failed else "could not be fetched"
        raise SkiffError(f"{len(lines)} source file(s) {kind}:\n" + "\n".join(lines), hint=hint)
    return outcomes


def settings_from_env(environ: Mapping[str, str], offline: bool = False) -> FetchSettings:
    jobs = environ.get(ENV_JOBS, "")
    limit = environ.get(ENV_DOWNLOAD_LIMIT, "").strip()
    if limit and not (limit.isdigit() and int(limit) > 0):
        raise SkiffError(f"{ENV_DOWNLOAD_LIMIT}={limit!r}: expected a whole number of MiB "
                         f"(default {DEFAULT_LIMIT_MB})")
    return FetchSettings(mirrors=MirrorMap.from_env(environ),
                         primary_site=environ.get(ENV_PRIMARY_SITE) or None,
                         store=environ.get(ENV_CACHE_URL, "").strip() or None,
                         offline=offline or flag(environ, ENV_OFFLINE),
                         jobs=int(jobs) if jobs.isdigit() and int(jobs) > 0 else 4,
                         max_size=(int(limit) if limit else DEFAULT_LIMIT_MB) << 20)


def sync_workspace(ws: Workspace, project: Project, settings: FetchSettings,
                   reporter: Reporter | None = None) -> list[Source]:
    """The sources:<ws> action: every download present and verified, then the record."""
    from skiffbuild.sources.audit import describe_gaps, gap_hint, workspace_gaps

    entry = locked_entry(ws, project)
    # A file approved in the lock is verified against its approved sha256 from here on.
    sources = apply_approvals(ws.name, workspace_sources(ws, project),
                              entry.approvals() if entry else {})
    # Every hash is checked before anything is downloaded: a refused file must
    # not be found only after an hour of fetching the others.
    gaps = workspace_gaps(ws, project, sources)
    if gaps:
        raise SkiffError(describe_gaps(ws.name, gaps), hint=gap_hint([ws.name]))
    # With a lock entry: a Buildroot commit, patch series or source the lock does
    # not list, or a hash other than the locked one, stops the build before a byte
    # is downloaded; a locked file is not downloaded past its locked size.
    refuse_unlocked(ws, project, sources)
    sizes = {s.path: s.size for s in entry.sources} if entry else None
    fetch_all(sources, DownloadCache.of(project), settings, reporter, ws.name, sizes)
    # Again after the downloads, for files allowed unhashed (known by their bytes
    # only), before the record that marks sources:<ws> done.
    refuse_unlocked(ws, project, sources)
    atomic_write(ws.paths.sources, json.dumps(
        {"workspace": ws.name, "sources": [s.to_json() for s in sources],
         # Packages built from a local tree, and the override file that says so
         # (its edit makes this task run again).
         "overrides": query_overrides(ws, project),
         "override_file": override_file_state(ws)}, indent=1) + "\n")
    return sources


def fetch_for_review(ws: Workspace, project: Project, settings: FetchSettings,
                     reporter: Reporter | None = None,
                     approvals: Mapping[str, lockfile.LockedSource] | None = None) -> list[Source]:
    """``skiffbuild lock``'s downloads: with a lock present, sources:<ws> refuses what
    the lock does not list, so recording a new workspace or a Buildroot bump
    fetches its sources here, checked against their .hash files as always (and an
    approved unhashed file against its approval, ``approvals``: relpath -> entry)."""
    from skiffbuild.sources.audit import describe_gaps, gap_hint, workspace_gaps

    sources = apply_approvals(ws.name, workspace_sources(ws, project), approvals or {})
    gaps = workspace_gaps(ws, project, sources)
    if gaps:
        raise SkiffError(describe_gaps(ws.name, gaps), hint=gap_hint([ws.name]))
    fetch_all(sources, DownloadCache.of(project), settings, reporter, ws.name)
    return sources


def verified_digests(ws: Workspace, project: Project) -> dict[str, str] | None:
    """The sha256 of every file sources:<ws> recorded, as the cache holds it verified
    now (stat fast path), by ``<dl_dir>/<file>``; None when one is not verified (also
    a file allowed unhashed: its bytes, not its name, are what was built)."""
    try:
        data = json.loads(ws.paths.sources.read_text())
        recorded = data["sources"]
        if data.get("override_file") != override_file_state(ws):
            return None
    except (OSError, ValueError, KeyError):
        return None
    cache = DownloadCache.of(project)
    found = {}
    for entry in recorded:
        source = Source(entry["file"], entry["dl_dir"], tuple(entry["packages"]), (),
                        tuple(Expected(h["type"], h["hash"], h["from"]) for h in entry["hashes"]),
                        (), entry["allow_unhashed"])
        verdict = cache.verify(source)
        if verdict.state != "ok" or verdict.digests is None:
            return None
        found[source.relpath] = verdict.digests["sha256"]
    return found


def sources_verified(ws: Workspace, project: Project) -> bool:
    """Up-to-date check of sources:<ws>: every recorded file still verified (stat fast path)."""
    return verified_digests(ws, project) is not None
