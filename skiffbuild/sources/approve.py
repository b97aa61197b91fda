"""Approving unhashed sources once: ``skiffbuild lock --approve-unhashed``.

A SkiffOS board's custom kernel (and some U-Boots) is a file no Buildroot
``.hash`` file lists. Rather than trusting any bytes of that name
(``sources.allow_unhashed``), its bytes are approved once: downloaded through
the normal downloader (network guard, size limit, into the verified cache) or
taken from the cache, hashed, and recorded in ``skiffbuild.lock`` as an
``approved: unhashed`` entry with the URL they came from. From then on the
approved sha256 is the file's hash (``lockfile.apply_approvals``).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from skiffbuild.buildroot.showinfo import Source
from skiffbuild.sources.dlcache import DownloadCache
from skiffbuild.sources.download import (
    FetchSettings,
    Reporter,
    UnreachableHosts,
    candidate_urls,
    fetch_one,
)
from skiffbuild.sources.lockfile import APPROVED, LockedSource, needs_approval
from skiffbuild.sources.netguard import redact

__all__ = ["Approval", "NotApprovable", "approve_unhashed"]


@dataclass(frozen=True)
class Approval:
    entry: LockedSource
    packages: tuple[str, ...]
    cached: bool  # taken from the cache rather than downloaded now


@dataclass(frozen=True)
class NotApprovable:
    source: Source
    why: str


def approve_unhashed(sources: list[Source], known: Mapping[str, LockedSource],
                     cache: DownloadCache, settings: FetchSettings,
                     reporter: Reporter | None = None
                     ) -> tuple[list[Approval], list[NotApprovable]]:
    """Approve every source that needs an approval and has none in ``known`` (relpath ->
    the lock's approvals): its bytes fetched (or, offline, only taken from the cache),
    hashed and returned as lock entries. A file already approved is left to be verified
    against its approval."""
    wanted = [replace(s, allow_unhashed=True) for s in sources
              if needs_approval(s) and s.relpath not in known]
    hosts = UnreachableHosts()
    with ThreadPoolExecutor(max_workers=max(1, settings.jobs)) as pool:
        outcomes = list(pool.map(lambda s: fetch_one(s, cache, settings, reporter,
                                                     hosts=hosts), wanted))
    approved: list[Approval] = []
    refused: list[NotApprovable] = []
    for outcome in outcomes:
        source = outcome.source
        if outcome.state == "missing":
            urls = candidate_urls(source, FetchSettings(mirrors=settings.mirrors,
                                                        primary_site=settings.primary_site))
            refused.append(NotApprovable(source, f"{outcome.detail} (offline mode: only a "
                                         "cached file can be approved); online it comes from "
                                         f"{redact(urls[0]) if urls else 'its package site'}"))
            continue
        if outcome.state not in ("cached", "fetched"):
            refused.append(NotApprovable(source, outcome.detail))
            continue
        verdict = cache.verify(source)
        if verdict.state != "ok" or not verdict.digests:
            refused.append(NotApprovable(source, f"{verdict.state} in the cache"))
            continue
        url = outcome.detail if outcome.state == "fetched" else cache.origin(source)
        approved.append(Approval(
            LockedSource(source.relpath, verdict.digests["sha256"],
                         cache.path(source).stat().st_size, APPROVED,
                         url or "unknown (already in the cache, origin not recorded)"),
            source.packages, outcome.state == "cached"))
    return approved, refused
