"""Downloads into the verified cache, against a real HTTP server on 127.0.0.1 with faults."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from httpserver import Fault, FaultyServer

from skiffbuild.buildroot.hashes import Expected
from skiffbuild.buildroot.mirrors import load_mirror_map
from skiffbuild.buildroot.showinfo import Source, Uri
from skiffbuild.core.errors import SkiffError
from skiffbuild.sources import dlcache
from skiffbuild.sources.dlcache import DownloadCache
from skiffbuild.sources.download import FetchSettings, candidate_urls, fetch_all, fetch_one

UPSTREAM = "https://sources.skiffbuild.invalid"
DATA = bytes(range(256)) * 400  # 100 KiB, several chunks


def make_source(name: str, data: bytes, algorithms: tuple[str, ...] = ("sha256",),
                dl_dir: str = "pkg", allow_unhashed: bool = False) -> Source:
    expected = tuple(Expected(a, hashlib.new(a, data).hexdigest(), f"package/{dl_dir}/x.hash:1")
                     for a in algorithms)
    return Source(name, dl_dir, (dl_dir,), (Uri.parse(f"https+{UPSTREAM}/{dl_dir}"),),
                  expected, (f"package/{dl_dir}/{dl_dir}.hash",), allow_unhashed)


def settings_for(tmp_path: Path, mapping: dict[str, list[str]], **kw: object) -> FetchSettings:
    file = tmp_path / "mirrors.yaml"
    file.write_text(json.dumps(mapping))
    return FetchSettings(mirrors=load_mirror_map(file), backoff=0.01, timeout=5, **kw)


def test_url_order(tmp_path: Path) -> None:
    source = make_source("a-1.tar.gz", b"x")
    source = Source(source.file, source.dl_dir, source.packages,
                    (*source.uris, Uri.parse("https|urlencode+https://sources.buildroot.net/pkg"),
                     Uri.parse("git+https://example.invalid/a.git")),
                    source.expected, source.hash_files)
    settings = settings_for(tmp_path, {UPSTREAM: ["/srv/mirror"]},
                            primary_site="http://primary.invalid")
    assert candidate_urls(source, settings) == [
        "file:///srv/mirror/pkg/a-1.tar.gz",
        "http://primary.invalid/pkg/a-1.tar.gz",
        "http://primary.invalid/a-1.tar.gz",
        f"{UPSTREAM}/pkg/a-1.tar.gz",
        "https://sources.buildroot.net/pkg/a-1.tar.gz",
    ]


def test_404_on_first_mirror_falls_through(tmp_path: Path, server: FaultyServer,
                                           cache: DownloadCache) -> None:
    server.files["/b/pkg/a-1.tar.gz"] = DATA
    source = make_source("a-1.tar.gz", DATA, ("md5", "sha256"))
    settings = settings_for(tmp_path, {UPSTREAM: [f"{server.url}/a", f"{server.url}/b"]})
    outcome = fetch_one(source, cache, settings)
    assert (outcome.state, outcome.detail) == ("fetched", f"{server.url}/b/pkg/a-1.tar.gz")
    assert cache.path(source).read_bytes() == DATA
    assert dict(server.requests) == {"/a/pkg/a-1.tar.gz": 1, "/b/pkg/a-1.tar.gz": 1}


def test_truncated_transfer_is_resumed(tmp_path: Path, server: FaultyServer,
                                       cache: DownloadCache) -> None:
    big = DATA * 10 + b"tail"  # 1 MB: the first half arrives, every byte of it kept
    server.files["/pkg/a-1.tar.gz"] = big
    server.faults["/pkg/a-1.tar.gz"] = Fault(truncate=1)
    source = make_source("a-1.tar.gz", big)
    outcome = fetch_one(source, cache, settings_for(tmp_path, {UPSTREAM: [server.url]}))
    assert outcome.state == "fetched"
    assert cache.path(source).read_bytes() == big
    assert server.ranges == [f"/pkg/a-1.tar.gz bytes={len(big) // 2}-"]
    assert not cache.part(source).exists()


def test_server_errors_are_retried(tmp_path: Path, server: FaultyServer,
                                   cache: DownloadCache) -> None:
    server.files["/pkg/a-1.tar.gz"] = DATA
    server.faults["/pkg/a-1.tar.gz"] = Fault(status=503, status_times=2)
    source = make_source("a-1.tar.gz", DATA)
    assert fetch_one(source, cache, settings_for(tmp_path, {UPSTREAM: [server.url]})).state \
        == "fetched"
    assert server.requests["/pkg/a-1.tar.gz"] == 3


def test_corrupt_response_is_refused_and_kept_aside(tmp_path: Path, server: FaultyServer,
                                                    cache: DownloadCache) -> None:
    server.files["/pkg/a-1.tar.gz"] = DATA
    server.faults["/pkg/a-1.tar.gz"] = Fault(corrupt=True)
    source = make_source("a-1.tar.gz", DATA)
    settings = settings_for(tmp_path, {UPSTREAM: [server.url]})
    with pytest.raises(SkiffError) as info:
        fetch_all([source], cache, settings)
    bad = bytes(b ^ 0x5A for b in DATA)
    wrong, right = hashlib.sha256(bad).hexdigest(), hashlib.sha256(DATA).hexdigest()
    kept = cache.rejected / f"a-1.tar.gz.{wrong[:16]}"
    assert f"{server.url}/pkg/a-1.tar.gz: refused, sha256 expected {right}, got {wrong} " \
           f"(package/pkg/x.hash:1); bytes kept in {kept}" in info.value.message
    assert kept.read_bytes() == bad
    assert sorted(p.name for p in (cache.root / "pkg").iterdir()) == [".a-1.tar.gz.lock"]


def test_unhashed_source_is_refused_unless_allowed(tmp_path: Path, server: FaultyServer,
                                                   cache: DownloadCache) -> None:
    server.files["/pkg/a-1.tar.gz"] = DATA
    settings = settings_for(tmp_path, {UPSTREAM: [server.url]})
    unhashed = make_source("a-1.tar.gz", DATA, algorithms=())
    outcome = fetch_one(unhashed, cache, settings)
    assert outcome.state == "refused"
    assert outcome.detail.startswith("no hash for a-1.tar.gz in package/pkg/pkg.hash")
    assert server.requests == {}
    allowed = make_source("a-1.tar.gz", DATA, algorithms=(), allow_unhashed=True)
    assert fetch_one(allowed, cache, settings).state == "fetched"


def test_corrupt_cache_file_is_detected_and_fetched_again(tmp_path: Path, server: FaultyServer,
                                                          cache: DownloadCache) -> None:
    server.files["/pkg/a-1.tar.gz"] = DATA
    source = make_source("a-1.tar.gz", DATA)
    settings = settings_for(tmp_path, {UPSTREAM: [server.url]})
    assert fetch_one(source, cache, settings).state == "fetched"
    with open(cache.path(source), "r+b") as f:  # same size, other bytes
        f.write(b"\0\0\0\0")
    offline = fetch_one(source, cache, FetchSettings(offline=True))
    assert (offline.state, offline.detail) == ("missing", "corrupt in the cache")
    assert fetch_one(source, cache, settings).state == "fetched"
    assert cache.path(source).read_bytes() == DATA
    assert server.requests["/pkg/a-1.tar.gz"] == 2


def test_unchanged_file_is_not_hashed_again(tmp_path: Path, server: FaultyServer,
                                            cache: DownloadCache,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server.files["/pkg/a-1.tar.gz"] = DATA
    source = make_source("a-1.tar.gz", DATA)
    fetch_one(source, cache, settings_for(tmp_path, {UPSTREAM: [server.url]}))
    calls = []
    real = dlcache.hash_file
    monkeypatch.setattr(dlcache, "hash_file", lambda *a: calls.append(a) or real(*a))
    assert cache.verify(source).state == "ok"
    assert calls == []
    os.utime(cache.path(source))  # metadata change: hashed once, then trusted again
    assert cache.verify(source).state == "ok"
    assert cache.verify(source).state == "ok"
    assert len(calls) == 1


def test_offline_never_touches_the_network(tmp_path: Path, server: FaultyServer,
                                           cache: DownloadCache) -> None:
    server.files["/pkg/a-1.tar.gz"] = DATA
    have = make_source("a-1.tar.gz", DATA)
    settings = settings_for(tmp_path, {UPSTREAM: [server.url]})
    fetch_one(have, cache, settings)
    server.stop()
    offline = FetchSettings(mirrors=settings.mirrors, offline=True)
    assert [o.state for o in fetch_all([have], cache, offline)] == ["cached"]
    lacking = [make_source("b-2.tar.gz", b"b", dl_dir="bee"), make_source("c-3.tar.gz", b"c")]
    with pytest.raises(SkiffError) as info:
        fetch_all([have, *lacking], cache, offline, workspace="pi4")
    assert info.value.message.splitlines() == [
        "2 source file(s) missing (offline mode):",
        f"  bee/b-2.tar.gz (bee): not in the cache; get it from {server.url}/bee/b-2.tar.gz",
        f"  pkg/c-3.tar.gz (pkg): not in the cache; get it from {server.url}/pkg/c-3.tar.gz",
    ]
    assert info.value.hint == ("online: run `doit sources:pi4`; for an air-gapped machine: "
                               "`skiffbuild export pi4 FILE` where the files are, then "
                               "`skiffbuild import FILE`")


FETCH_SCRIPT = """
import json, sys
from pathlib import Path
from skiffbuild.sources.dlcache import DownloadCache
from skiffbuild.sources.download import FetchSettings, fetch_one
from skiffbuild.buildroot.hashes import Expected
from skiffbuild.buildroot.mirrors import load_mirror_map
from skiffbuild.buildroot.showinfo import Source, Uri
root, mirrors, digest = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
source = Source("a-1.tar.gz", "pkg", ("pkg",), (Uri.parse("https+%s/pkg"),),
                (Expected("sha256", digest, "x"),), ("x",))
cache = DownloadCache(root / "dl", root / "state", root / "rejected")
print(fetch_one(source, cache, FetchSettings(mirrors=load_mirror_map(mirrors))).state)
""".replace("%s", UPSTREAM)


def test_two_processes_fetching_one_file_make_one_transfer(tmp_path: Path,
                                                           server: FaultyServer) -> None:
    server.files["/pkg/a-1.tar.gz"] = DATA
    server.faults["/pkg/a-1.tar.gz"] = Fault(slow=0.05)  # ~0.35 s transfer: they overlap
    mirrors = tmp_path / "mirrors.yaml"
    mirrors.write_text(f"{UPSTREAM}: [{server.url}]\n")
    args = [sys.executable, "-c", FETCH_SCRIPT, str(tmp_path), str(mirrors),
            hashlib.sha256(DATA).hexdigest()]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    results = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert results == ["cached", "fetched"]
    assert server.requests["/pkg/a-1.tar.gz"] == 1
    assert (tmp_path / "dl" / "pkg" / "a-1.tar.gz").read_bytes() == DATA


def test_local_primary_site(tmp_path: Path, cache: DownloadCache) -> None:
    site = tmp_path / "site"
    (site / "pkg").mkdir(parents=True)
    (site / "pkg" / "a-1.tar.gz").write_bytes(DATA)
    source = make_source("a-1.tar.gz", DATA)
    outcome = fetch_one(source, cache, FetchSettings(primary_site=f"file://{site}"))
    assert (outcome.state, outcome.detail) == ("fetched", f"file://{site}/pkg/a-1.tar.gz")
    assert cache.path(source).stat().st_mode & 0o777 == 0o644
