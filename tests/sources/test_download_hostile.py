"""Downloads from hostile or broken servers (issue 12), against a real HTTP server on
127.0.0.1: a trickle, an endless body, Content-Encoding, a bad partial file, no network."""

from __future__ import annotations

import gzip
import json
import random
import time
from pathlib import Path

import pytest
from httpserver import Fault, FaultyServer, refused_url
from test_download import DATA, UPSTREAM, make_source, settings_for

from skiffbuild.buildroot.mirrors import load_mirror_map
from skiffbuild.core.errors import SkiffError
from skiffbuild.sources.dlcache import DownloadCache
from skiffbuild.sources.download import FetchSettings, fetch_all, fetch_one, settings_from_env


def test_a_dripping_server_is_given_up_by_the_minimum_rate(
        tmp_path: Path, server: FaultyServer, cache: DownloadCache) -> None:
    server.files["/slow/pkg/a-1.tar.gz"] = DATA  # one byte every 0.1 s: hours for 100 KiB
    server.faults["/slow/pkg/a-1.tar.gz"] = Fault(drip=0.1)
    server.files["/good/pkg/a-1.tar.gz"] = DATA
    source = make_source("a-1.tar.gz", DATA)
    settings = settings_for(tmp_path, {UPSTREAM: [f"{server.url}/slow", f"{server.url}/good"]},
                            min_rate=1000, rate_window=0.5)
    started = time.monotonic()
    outcome = fetch_one(source, cache, settings)
    assert time.monotonic() - started < 3
    assert (outcome.state, outcome.detail) == ("fetched", f"{server.url}/good/pkg/a-1.tar.gz")
    assert cache.path(source).read_bytes() == DATA
    assert server.requests["/slow/pkg/a-1.tar.gz"] == 1  # too slow is not retried


def test_the_per_file_deadline_stops_every_url(tmp_path: Path, server: FaultyServer,
                                               cache: DownloadCache) -> None:
    for site in ("a", "b"):
        server.files[f"/{site}/pkg/a-1.tar.gz"] = DATA
        server.faults[f"/{site}/pkg/a-1.tar.gz"] = Fault(drip=0.05)
    source = make_source("a-1.tar.gz", DATA)
    settings = settings_for(tmp_path, {UPSTREAM: [f"{server.url}/a", f"{server.url}/b"]},
                            min_rate=1, deadline=0.5)
    outcome = fetch_one(source, cache, settings)
    assert outcome.state == "failed"
    assert outcome.detail == (f"{server.url}/a/pkg/a-1.tar.gz: not fetched within 0.5s "
                              "(the per-file deadline)")
    assert "/b/pkg/a-1.tar.gz" not in server.requests


def test_a_body_past_the_locked_size_is_not_read_or_kept(
        tmp_path: Path, server: FaultyServer, cache: DownloadCache) -> None:
    small = b"x" * 689
    server.files["/pkg/a-1.tar.gz"] = small
    server.faults["/pkg/a-1.tar.gz"] = Fault(huge=64 << 20)  # no Content-Length
    source = make_source("a-1.tar.gz", small)
    outcome = fetch_one(source, cache, settings_for(tmp_path, {UPSTREAM: [server.url]}),
                        size=689)
    assert outcome.state == "failed"
    assert outcome.detail.startswith(
        f"{server.url}/pkg/a-1.tar.gz: refused: more than 689 bytes (its size in "
        "skiffbuild.lock); got at least ")
    assert not cache.rejected.exists()
    assert sorted(p.name for p in (cache.root / "pkg").iterdir()) == [".a-1.tar.gz.lock"]


def test_a_body_past_the_limit_is_refused_from_its_content_length(
        tmp_path: Path, server: FaultyServer, cache: DownloadCache) -> None:
    server.files["/pkg/a-1.tar.gz"] = DATA
    source = make_source("a-1.tar.gz", DATA)
    settings = dataclasses_replace(settings_for(tmp_path, {UPSTREAM: [server.url]}),
                                   max_size=1000)
    outcome = fetch_one(source, cache, settings)
    assert outcome.detail.splitlines()[0] == (
        f"{server.url}/pkg/a-1.tar.gz: refused: more than 1000 bytes (the download limit: "
        f"SKIFFBUILD_DOWNLOAD_LIMIT_MB, default 4096 MiB); got at least {len(DATA)}")
    assert settings_from_env({"SKIFFBUILD_DOWNLOAD_LIMIT_MB": "2"}).max_size == 2 << 20
    with pytest.raises(SkiffError, match="SKIFFBUILD_DOWNLOAD_LIMIT_MB='lots': expected"):
        settings_from_env({"SKIFFBUILD_DOWNLOAD_LIMIT_MB": "lots"})


def dataclasses_replace(settings: FetchSettings, **kw: object) -> FetchSettings:
    import dataclasses

    return dataclasses.replace(settings, **kw)  # type: ignore[arg-type]


def test_identity_is_asked_and_a_gzip_encoded_response_is_decoded(
        tmp_path: Path, server: FaultyServer, cache: DownloadCache) -> None:
    tar = random.Random(12).randbytes(300_000)  # many blocks, compressed or not
    server.files["/pkg/a-1.tar"] = tar
    server.faults["/pkg/a-1.tar"] = Fault(gzip=True)
    source = make_source("a-1.tar", tar)
    outcome = fetch_one(source, cache, settings_for(tmp_path, {UPSTREAM: [server.url]}))
    assert outcome.state == "fetched", outcome.detail
    assert cache.path(source).read_bytes() == tar
    assert server.headers[0]["Accept-Encoding"] == "identity"


def test_a_tar_gz_labelled_gzip_is_kept_as_sent(tmp_path: Path, server: FaultyServer,
                                                cache: DownloadCache) -> None:
    payload = gzip.compress(b"the tarball inside" * 1000, mtime=0)
    server.files["/pkg/a-1.tar.gz"] = payload
    server.faults["/pkg/a-1.tar.gz"] = Fault(label_gzip=True)
    source = make_source("a-1.tar.gz", payload)
    outcome = fetch_one(source, cache, settings_for(tmp_path, {UPSTREAM: [server.url]}))
    assert outcome.state == "fetched", outcome.detail
    assert cache.path(source).read_bytes() == payload


def test_a_partial_file_is_resumed_only_against_its_own_url(
        tmp_path: Path, server: FaultyServer, cache: DownloadCache) -> None:
    big = DATA * 4
    bad = bytes(b ^ 0x5A for b in big)
    server.files["/bad/pkg/a-1.tar.gz"] = bad
    server.faults["/bad/pkg/a-1.tar.gz"] = Fault(truncate=4)  # never whole
    server.files["/good/pkg/a-1.tar.gz"] = big
    source = make_source("a-1.tar.gz", big)
    settings = settings_for(tmp_path, {UPSTREAM: [f"{server.url}/bad", f"{server.url}/good"]})
    outcome = fetch_one(source, cache, settings)
    assert (outcome.state, outcome.detail) == ("fetched", f"{server.url}/good/pkg/a-1.tar.gz")
    assert cache.path(source).read_bytes() == big
    assert [r for r in server.ranges if r.startswith("/good")] == []
    assert not cache.part(source).exists()
    assert not cache.part(source).with_name(".a-1.tar.gz.part.url").exists()


def test_an_unreachable_host_is_tried_once_with_one_readable_message(
        tmp_path: Path, cache: DownloadCache) -> None:
    dead = refused_url()
    port = dead.rsplit(":", 1)[1]
    sources = [make_source(f"f{i}-1.tar.gz", bytes([i])) for i in range(8)]
    file = tmp_path / "mirrors.yaml"
    file.write_text(json.dumps({UPSTREAM: [dead]}))
    # Retries and backoff that would take minutes if a dead host were retried.
    settings = FetchSettings(mirrors=load_mirror_map(file), backoff=5.0, jobs=1)
    invalid = UPSTREAM.removeprefix("https://")
    started = time.monotonic()
    with pytest.raises(SkiffError) as info:
        fetch_all(sources, cache, settings)
    assert time.monotonic() - started < 5
    lines = info.value.message.splitlines()
    # A .invalid name is never looked up (RFC 6761: it never resolves; a DNS server that
    # does not answer would cost its timeout per lookup).
    assert lines[2] == (f"      {UPSTREAM}/pkg/f0-1.tar.gz: {invalid}: unreachable "
                        "(reserved invalid domain); skipped for the other files")
    assert lines[:5] == [
        "8 source file(s) could not be fetched:",
        f"  pkg/f0-1.tar.gz (pkg): {dead}/pkg/f0-1.tar.gz: 127.0.0.1:{port}: unreachable "
        "(connection refused); skipped for the other files",
        lines[2],
        f"  pkg/f1-1.tar.gz (pkg): {dead}/pkg/f1-1.tar.gz: skipped, 127.0.0.1:{port} is "
        "unreachable",
        f"      {UPSTREAM}/pkg/f1-1.tar.gz: skipped, {invalid} is unreachable",
    ]
    assert info.value.message.count("unreachable (") == 2


def test_a_dead_port_does_not_make_the_whole_host_unreachable(
        tmp_path: Path, cache: DownloadCache, server: FaultyServer) -> None:
    """A stage cache store that is down on 127.0.0.1:A leaves a site on 127.0.0.1:B."""
    sources = [make_source(f"f{i}-1.tar.gz", bytes([i])) for i in range(3)]
    for i in range(3):
        server.files[f"/pkg/f{i}-1.tar.gz"] = bytes([i])
    settings = settings_for(tmp_path, {UPSTREAM: [refused_url(), server.url]}, jobs=1)
    fetch_all(sources, cache, settings)
    assert all(cache.path(source).read_bytes() == bytes([i])
               for i, source in enumerate(sources))
