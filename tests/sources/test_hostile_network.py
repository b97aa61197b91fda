"""Hostile sources beyond the body (issue 12, second round): a package's own ``file://``
site, credentials in a configured URL, and a server dripping its response headers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from httpserver import FaultyServer
from test_download import DATA, make_source

from skiffbuild.buildroot.showinfo import Source, Uri
from skiffbuild.sources.dlcache import DownloadCache
from skiffbuild.sources.download import ConsoleReporter, FetchSettings, fetch_one


def _with_site(source: Source, site: str) -> Source:
    return Source(source.file, source.dl_dir, source.packages, (Uri.parse(site),),
                  source.expected, source.hash_files, source.allow_unhashed)


def test_a_packages_own_file_site_is_never_read(tmp_path: Path, cache: DownloadCache) -> None:
    # An external package with _SITE = file:///proc/self, _SOURCE = environ.
    source = _with_site(make_source("environ", b"x", allow_unhashed=True), "file+file:///proc/self")
    outcome = fetch_one(source, cache, FetchSettings())
    assert (outcome.state, outcome.detail) == (
        "failed", "file:///proc/self/environ: refused, a package's own file:// URL is never "
        "read (local files only through SKIFFBUILD_PRIMARY_SITE or SKIFFBUILD_MIRRORS)")
    assert not list(cache.root.rglob("environ"))
    assert not (cache.root.parent / "rejected").exists() or \
        not list((cache.root.parent / "rejected").rglob("*"))


def test_a_configured_local_site_copies_regular_files_only(
        tmp_path: Path, cache: DownloadCache) -> None:
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    os.mkfifo(site / "pkg" / "a-1.tar.gz")  # would block a plain open() forever
    (site / "a-1.tar.gz").write_bytes(DATA)
    source = make_source("a-1.tar.gz", DATA)
    started = time.monotonic()
    outcome = fetch_one(source, cache, FetchSettings(primary_site=f"file://{site}"))
    assert time.monotonic() - started < 5
    assert (outcome.state, outcome.detail) == ("fetched", f"file://{site}/a-1.tar.gz")
    # The per-file deadline holds for local copies too.
    slow = make_source("b-1.tar.gz", DATA)
    (site / "b-1.tar.gz").write_bytes(DATA)
    outcome = fetch_one(slow, cache, FetchSettings(primary_site=f"file://{site}", deadline=0))
    assert (outcome.state, outcome.detail) == (
        "failed", f"file://{site}/pkg/b-1.tar.gz: no such file\n"
        f"      file://{site}/b-1.tar.gz: not fetched within 0s (the per-file deadline)")
    # A device named by a configured site: refused, not read (no end, no memory bound).
    zero = _with_site(make_source("zero", b"x"), "file+file:///nowhere")
    outcome = fetch_one(zero, cache, FetchSettings(primary_site="file:///dev"))
    assert (outcome.state, outcome.detail) == (
        "failed", "file:///nowhere/zero: refused, a package's own file:// URL is never read "
        "(local files only through SKIFFBUILD_PRIMARY_SITE or SKIFFBUILD_MIRRORS)\n"
        "      file:///dev/pkg/zero: no such file\n"
        "      file:///dev/zero: not a regular file")


def test_credentials_in_a_site_url_are_never_shown(
        tmp_path: Path, server: FaultyServer, cache: DownloadCache) -> None:
    host = server.url.split("://", 1)[1]
    source = make_source("a-1.tar.gz", DATA)
    lines: list[str] = []
    settings = FetchSettings(primary_site=f"http://alice:s3cret@{host}/site", attempts=1,
                             backoff=0.01, timeout=5)
    outcome = fetch_one(_with_site(source, f"https+http://bob:hunter2@{host}/own"), cache,
                        settings, ConsoleReporter(lines.append))
    assert outcome.state == "failed"
    assert lines == [f"fetching pkg/a-1.tar.gz from http://alice:***@{host}/site/pkg/a-1.tar.gz",
                     f"fetching pkg/a-1.tar.gz from http://alice:***@{host}/site/a-1.tar.gz",
                     f"fetching pkg/a-1.tar.gz from http://bob:***@{host}/own/a-1.tar.gz"]
    assert outcome.detail == (f"http://alice:***@{host}/site/pkg/a-1.tar.gz: HTTP 404\n"
                              f"      http://alice:***@{host}/site/a-1.tar.gz: HTTP 404\n"
                              f"      http://bob:***@{host}/own/a-1.tar.gz: HTTP 404")
    assert "s3cret" not in outcome.detail and "hunter2" not in outcome.detail


def test_a_server_dripping_its_headers_is_cut_off(
        tmp_path: Path, server: FaultyServer, cache: DownloadCache) -> None:
    from httpserver import Fault

    server.faults["/a/pkg/a-1.tar.gz"] = Fault(drip_headers=0.05)
    server.faults["/b/pkg/b-1.tar.gz"] = Fault(drip_headers=0.05)
    server.files["/good/a-1.tar.gz"] = DATA
    # Each byte comes well within the idle timeout and no body ever starts: only the
    # header deadline ends the request, and the next URL is tried.
    settings = FetchSettings(primary_site=f"{server.url}/a", backoff=0.01, timeout=5,
                             header_timeout=0.5, min_rate=1, deadline=60)
    started = time.monotonic()
    outcome = fetch_one(_with_site(make_source("a-1.tar.gz", DATA), f"https+{server.url}/good"),
                        cache, settings)
    assert time.monotonic() - started < 4
    assert (outcome.state, outcome.detail) == ("fetched", f"{server.url}/good/a-1.tar.gz")
    assert server.requests["/a/pkg/a-1.tar.gz"] == 1  # cut off, not retried
    alone = _with_site(make_source("a-1.tar.gz", b"other"), "file+file:///nowhere")
    outcome = fetch_one(alone, cache, settings)
    assert outcome.detail.splitlines()[1].strip() == (
        f"{server.url}/a/pkg/a-1.tar.gz: no complete response headers within 0.5s")
    # The per-file deadline holds while headers drip, whatever the header deadline.
    settings = FetchSettings(primary_site=f"{server.url}/b", backoff=0.01, timeout=5,
                             header_timeout=30, min_rate=1, deadline=0.7)
    started = time.monotonic()
    outcome = fetch_one(make_source("b-1.tar.gz", DATA), cache, settings)
    assert time.monotonic() - started < 4
    assert (outcome.state, outcome.detail) == (
        "failed", f"{server.url}/b/pkg/b-1.tar.gz: not fetched within 0.7s (the per-file "
        "deadline)")


def test_a_server_dripping_its_headers_through_a_proxy_is_cut_off(
        tmp_path: Path, server: FaultyServer, cache: DownloadCache,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from httpserver import Fault

    # The mirror is reached through an HTTP proxy (http_proxy, as on many build
    # machines); the test server is the proxy and answers for the origin.
    monkeypatch.setenv("http_proxy", server.url)
    monkeypatch.setenv("no_proxy", "")
    origin = "http://mirror.invalid"
    server.faults["/a/pkg/a-1.tar.gz"] = Fault(drip_headers=0.05)
    server.files["/good/a-1.tar.gz"] = DATA
    settings = FetchSettings(primary_site=f"{origin}/a", backoff=0.01, timeout=5,
                             header_timeout=0.5, min_rate=1, deadline=60)
    started = time.monotonic()
    outcome = fetch_one(_with_site(make_source("a-1.tar.gz", DATA), f"https+{origin}/good"),
                        cache, settings)
    assert time.monotonic() - started < 4
    assert (outcome.state, outcome.detail) == ("fetched", f"{origin}/good/a-1.tar.gz")
    assert server.proxied[0] == f"{origin}/a/pkg/a-1.tar.gz"  # cut off, not retried
    assert server.proxied[-1] == f"{origin}/good/a-1.tar.gz"
    assert server.requests["/a/pkg/a-1.tar.gz"] == 1
