"""The farm's HTTP store client against a real server on 127.0.0.1 with faults, and the
stage cache's archive checks on hostile archives."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from httpserver import Fault, FaultyServer, refused_url

from skiffbuild.core.errors import SkiffError
from skiffbuild.farm.stagecache import _checked
from skiffbuild.farm.store import Store, StoreUnavailable, blob_path


@pytest.fixture
def store() -> FaultyServer:
    server = FaultyServer(writable=True)
    yield server
    server.stop()


def test_put_get_and_a_missing_entry(store: FaultyServer) -> None:
    client = Store(store.url + "/cache")
    assert client.get("ac/x.json", 100) is None
    client.put("ac/x.json", b"{}")
    assert client.get("ac/x.json", 100) == b"{}"
    assert client.exists("ac/x.json") and not client.exists("ac/y.json")
    with pytest.raises(StoreUnavailable, match="larger than 1 bytes"):
        client.get("ac/x.json", 1)


def test_a_blob_arrives_only_with_its_digest(store: FaultyServer, tmp_path: Path) -> None:
    data = b"images" * 1000
    sha = hashlib.sha256(data).hexdigest()
    store.files[f"/{blob_path(sha)}"] = data
    client = Store(store.url)
    assert client.fetch_blob(sha, len(data), tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == data
    store.faults[f"/{blob_path(sha)}"] = Fault(corrupt=True)
    assert not client.fetch_blob(sha, len(data), tmp_path / "other")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob"]  # no partial file
    store.faults[f"/{blob_path(sha)}"] = Fault(huge=10 * len(data))
    assert not client.fetch_blob(sha, len(data), tmp_path / "other")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blob"]


def test_a_failing_or_read_only_store_is_unavailable(store: FaultyServer) -> None:
    store.faults["/ac/x.json"] = Fault(status=503, status_times=1)
    with pytest.raises(StoreUnavailable, match=r"GET .*/ac/x.json: HTTP 503"):
        Store(store.url).get("ac/x.json", 100)
    with pytest.raises(StoreUnavailable, match=r"ac/x\.json: "):
        Store(refused_url()).get("ac/x.json", 100)
    store.writable = False
    with pytest.raises(StoreUnavailable, match=r"PUT .*/ac/x.json: HTTP 403"):
        Store(store.url).put("ac/x.json", b"{}")


def test_only_http_urls() -> None:
    with pytest.raises(SkiffError, match="is not an http:// or https:// URL"):
        Store("file:///srv/cache")


def _archive(*members: tuple[str, str, str]) -> list[tarfile.TarInfo]:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, kind, link in members:
            info = tarfile.TarInfo(name)
            info.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE,
                         "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE,
                         "dev": tarfile.CHRTYPE}[kind]
            info.linkname = link
            tar.addfile(info, io.BytesIO(b"") if kind == "file" else None)
    buf.seek(0)
    with tarfile.open(fileobj=buf) as tar:
        return tar.getmembers()


@pytest.mark.parametrize(("members", "error"), [
    ((("../etc/passwd", "file", ""),), "refused"),
    ((("/etc/passwd", "file", ""),), "refused"),
    ((("target/../../x", "file", ""),), "refused"),
    ((("host/bin/gcc", "file", ""),), "refused"),  # only images/, target/, build/
    ((("target/dev/null", "dev", ""),), "refused"),
    ((("target/lib", "sym", "/etc"), ("target/lib/x", "file", "")), "under a symbolic link"),
    ((("target/x", "hard", "/etc/shadow"),), "outside the archive"),
])
def test_hostile_archives_are_refused(members: tuple[tuple[str, str, str], ...],
                                      error: str) -> None:
    with pytest.raises(ValueError, match=error):
        _checked(_archive(*members))


def test_a_rootfs_with_absolute_symlinks_is_fine() -> None:
    _checked(_archive(("target", "dir", ""), ("target/bin", "dir", ""),
                      ("target/bin/busybox", "file", ""),
                      ("target/bin/sh", "sym", "busybox"),
                      ("target/etc", "dir", ""), ("target/etc/mtab", "sym", "/proc/mounts"),
                      ("target/bin/ash", "hard", "target/bin/busybox"),
                      ("build/packages-file-list.txt", "file", "")))
