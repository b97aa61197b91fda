"""The farm's HTTP store client against a real server on 127.0.0.1 with faults."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from httpserver import Fault, FaultyServer, refused_url

from skiffbuild.core.errors import SkiffError
from skiffbuild.farm.store import Store, StoreUnavailable, blob_path


@pytest.fixture
def store() -> Iterator[FaultyServer]:
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


@pytest.mark.parametrize("url", ["file:///srv/cache", "http://exa mple.com/c",
                                 "http://localhost:99999/c", "http://[::1/c",
                                 "http://user:secret@/c", "http://host/c?x=1",
                                 "http://host/c#top", "cache.lan/c"])
def test_a_malformed_store_url_is_a_user_error(url: str) -> None:
    with pytest.raises(SkiffError, match="is not an http:// or https:// URL with a host") \
            as info:
        Store(url)
    assert "secret" not in info.value.message


def test_credentials_in_the_url_are_never_shown() -> None:
    with pytest.raises(StoreUnavailable) as info:
        Store(refused_url().replace("http://", "http://ci:TOKEN@") + "/c").get("ac/x", 10)
    assert "TOKEN" not in str(info.value) and "ci:***@127.0.0.1" in str(info.value)


def test_a_dripping_store_is_given_up_on(store: FaultyServer, tmp_path: Path) -> None:
    """A byte now and then keeps every read alive; the whole transfer has a deadline."""
    store.files["/ac/x.json"] = b"x" * 100
    store.faults["/ac/x.json"] = Fault(drip=0.2)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"ac/x\.json: not complete within 1s"):
        Store(store.url, deadline=1).get("ac/x.json", 1000)
    assert time.monotonic() - started < 5
    data = b"b" * 100
    sha = hashlib.sha256(data).hexdigest()
    store.files[f"/{blob_path(sha)}"] = data
    store.faults[f"/{blob_path(sha)}"] = Fault(drip=0.2)
    with pytest.raises(StoreUnavailable, match="not complete within"):
        Store(store.url, deadline=1).fetch_blob(sha, len(data), tmp_path / "blob")
    assert list(tmp_path.iterdir()) == []


def test_redirects_are_not_followed(store: FaultyServer) -> None:
    store.files["/ac/x.json"] = b"{}"
    store.faults["/ac/x.json"] = Fault(status=302, status_times=1)
    with pytest.raises(StoreUnavailable, match="HTTP 302"):
        Store(store.url).get("ac/x.json", 100)


def test_a_gzip_labelled_body_is_not_decoded(store: FaultyServer) -> None:
    store.files["/ac/x.json"] = b"{}" * 100
    store.faults["/ac/x.json"] = Fault(gzip=True)
    body = Store(store.url).get("ac/x.json", 1000)
    assert body is not None and body != b"{}" * 100 and body[:2] == b"\x1f\x8b"
