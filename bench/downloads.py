#!/usr/bin/env python3
"""(d) Downloads and hashing, each against a baseline run in the same process.

1. Latency: N small files from a local HTTP server that waits before every
   response: skiffbuild's parallel, verified fetch into the cache against the
   same files fetched one after the other, each written then checked with
   sha256 (Buildroot's ``make source``: dl-wrapper per file, then check-hash).
2. Throughput, unlimited: large files over loopback: skiffbuild's fetch
   (stream to disk, sha256 while receiving, verify, rename into the cache)
   against a plain ``requests`` streaming download of the same bytes to disk,
   one file after the other, no hashing. The ratio is skiffbuild's whole cost
   per byte over the cheapest possible download.
3. Throughput, rate-limited: the same files through a server whose link is
   shaped to a fixed rate for all connections together (a token bucket): the
   baseline is the link time, bytes / rate, which no client can beat.
4. Hashing: sha256 of the same files by skiffbuild's two hashing paths
   (``hashes.hash_file``, which verifies files in the download cache, and
   ``fsutil.sha256_file``, which hashes images and task inputs) against plain
   ``hashlib.file_digest(f, "sha256")``, same process, page cache warm,
   runs interleaved.

Usage: python3 bench/downloads.py [--quick]
Prints a table; a ratio below 1 means skiffbuild is faster. Loopback only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

import requests  # noqa: E402
from common import Row  # noqa: E402
from httpserver import FaultyServer  # noqa: E402

from skiffbuild.buildroot.hashes import Expected, hash_file  # noqa: E402
from skiffbuild.buildroot.showinfo import Source, Uri  # noqa: E402
from skiffbuild.core.fsutil import sha256_file  # noqa: E402
from skiffbuild.sources.dlcache import DownloadCache  # noqa: E402
from skiffbuild.sources.download import FetchSettings, fetch_all  # noqa: E402

__all__ = ["LinkServer", "bench_downloads", "bench_hash", "bench_throughput"]

_MIB = 1 << 20


# -- 1. latency ------------------------------------------------------------------------------

def serial_fetch(url: str, names: list[str], dest: Path, expected: dict[str, str]) -> None:
    for name in names:
        target = dest / name
        with requests.get(f"{url}/pkg/{name}", stream=True, timeout=30) as resp:
            resp.raise_for_status()
            with open(target, "wb") as out:
                for block in resp.iter_content(1 << 16):
                    out.write(block)
        # check-hash runs after the download, reading the file again
        if hashlib.sha256(target.read_bytes()).hexdigest() != expected[name]:
            raise SystemExit(f"serial baseline: bad hash for {name}")


def _sources(url: str, names: list[str], expected: dict[str, str]) -> list[Source]:
    return [Source(n, "pkg", ("pkg",), (Uri.parse(f"http+{url}/pkg"),),
                   (Expected("sha256", expected[n], "bench"),), ("bench",)) for n in names]


def _ours(base: Path, sources: list[Source]) -> float:
    cache = DownloadCache(base / "dl", base / "state", base / "rejected")
    started = time.perf_counter()
    fetch_all(sources, cache, FetchSettings())
    return time.perf_counter() - started


def bench_downloads(files: int, size: int, latency: float) -> tuple[float, float]:
    """skiffbuild's fetch of ``files`` x ``size`` bytes at ``latency``, and the serial one."""
    server = FaultyServer(latency=latency)
    names = [f"pkg{i:03d}-1.0.tar.gz" for i in range(files)]
    expected = {}
    for i, name in enumerate(names):
        data = os.urandom(size) + i.to_bytes(4, "big")
        server.files[f"/pkg/{name}"] = data
        expected[name] = hashlib.sha256(data).hexdigest()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            started = time.perf_counter()
            serial_fetch(server.url, names, base, expected)
            serial = time.perf_counter() - started
            ours = _ours(base, _sources(server.url, names, expected))
    finally:
        server.stop()
    return ours, serial


# -- 2./3. throughput ------------------------------------------------------------------------

class LinkServer:
    """Files (URL path -> bytes) over HTTP/1.1 on 127.0.0.1; with ``rate`` (bytes/s) every
    byte of every connection goes through one token bucket: a link of that rate."""

    CHUNK = 1 << 16

    def __init__(self, files: dict[str, bytes], rate: float | None = None) -> None:
        self.files, self.rate = files, rate
        self._lock = threading.Lock()
        self._next = time.monotonic()  # when the link is free again
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                data = server.files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                view = memoryview(data)
                step = server.CHUNK if server.rate else 1 << 20
                try:
                    for start in range(0, len(view), step):
                        chunk = view[start:start + step]
                        server._take(len(chunk))
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _take(self, n: int) -> None:
        if not self.rate:
            return
        with self._lock:  # reserve the link for n bytes, after whatever is queued
            now = time.monotonic()
            start = max(self._next, now)
            self._next = start + n / self.rate
            wait = self._next - now
        if wait > 0:
            time.sleep(wait)

    def reset(self) -> None:
        with self._lock:
            self._next = time.monotonic()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def plain_download(url: str, names: list[str], dest: Path,
                   expected: dict[str, str] | None = None) -> None:
    """The cheapest download there is: requests streaming each file to disk, with
    ``expected`` also hashlib's sha256 of the stream, checked at the end."""
    for name in names:
        h = hashlib.sha256() if expected else None
        with requests.get(f"{url}/pkg/{name}", stream=True, timeout=30) as resp:
            resp.raise_for_status()
            with open(dest / name, "wb") as out:
                for block in resp.iter_content(_MIB):
                    out.write(block)
                    if h:
                        h.update(block)
        if h and expected and h.hexdigest() != expected[name]:
            raise SystemExit(f"plain download: bad hash for {name}")


def bench_throughput(files: int, size: int, rate: float | None,
                     repeat: int = 1) -> tuple[float, float, float, float]:
    """skiffbuild's fetch of ``files`` x ``size`` bytes, a plain requests download of the
    same bytes, the same hashing as it goes, and the link time (bytes / rate, 0 without a
    rate): medians of ``repeat``."""
    names = [f"big{i:02d}-1.0.tar.gz" for i in range(files)]
    blob = os.urandom(size)
    data = {n: blob[:size - 8] + i.to_bytes(8, "big") for i, n in enumerate(names)}
    expected = {n: hashlib.sha256(d).hexdigest() for n, d in data.items()}
    server = LinkServer({f"/pkg/{n}": d for n, d in data.items()}, rate)
    ours, plain, hashed = [], [], []
    try:
        with tempfile.TemporaryDirectory(dir=_scratch()) as tmp:
            for run in range(repeat):
                base = Path(tmp) / str(run)
                (base / "plain").mkdir(parents=True)
                server.reset()
                started = time.perf_counter()
                plain_download(server.url, names, base / "plain")
                plain.append(time.perf_counter() - started)
                server.reset()
                (base / "hashed").mkdir()
                started = time.perf_counter()
                plain_download(server.url, names, base / "hashed", expected)
                hashed.append(time.perf_counter() - started)
                server.reset()
                ours.append(_ours(base, _sources(server.url, names, expected)))
                for n in names:
                    if hash_file(base / "dl" / "pkg" / n, ["sha256"])["sha256"] != expected[n]:
                        raise SystemExit(f"throughput: {n} in the cache is not the served file")
                _rmtree(base)
    finally:
        server.stop()
    link = files * size / rate if rate else 0.0
    return (statistics.median(ours), statistics.median(plain), statistics.median(hashed),
            link)


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _scratch() -> str | None:
    """A directory on a real disk for the big files (/tmp may be a small tmpfs)."""
    for where in (os.environ.get("SKIFFBUILD_BENCH_TMP"), "/var/tmp"):
        if where and os.access(where, os.W_OK):
            return where
    return None


# -- 4. hashing ------------------------------------------------------------------------------

def _plain_sha256(paths: list[Path]) -> list[str]:
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out.append(hashlib.file_digest(f, "sha256").hexdigest())
    return out


def bench_hash(mib: int, files: int = 16, repeat: int = 5) -> dict[str, tuple[float, float]]:
    """sha256 of ``files`` files, ``mib`` MiB together: {path name: (skiffbuild, hashlib)},
    medians of ``repeat`` interleaved runs."""
    paths_for: dict[str, Callable[[list[Path]], list[str]]] = {
        "hash_file": lambda ps: [hash_file(p, ["sha256"])["sha256"] for p in ps],
        "sha256_file": lambda ps: [sha256_file(p) for p in ps],
    }
    with tempfile.TemporaryDirectory(dir=_scratch()) as tmp:
        block = os.urandom(_MIB)
        paths = []
        for i in range(files):
            p = Path(tmp) / f"f{i:02d}"
            with open(p, "wb") as f:
                for _ in range(max(1, mib // files)):
                    f.write(block)
                f.write(i.to_bytes(8, "big"))
            paths.append(p)
        reference = _plain_sha256(paths)  # also warms the page cache
        times: dict[str, list[float]] = {name: [] for name in ["hashlib", *paths_for]}
        for _ in range(repeat):
            for name, fn in [("hashlib", _plain_sha256), *paths_for.items()]:
                started = time.perf_counter()
                digests = fn(paths)
                times[name].append(time.perf_counter() - started)
                if digests != reference:
                    raise SystemExit(f"{name} and hashlib disagree")
    base = statistics.median(times["hashlib"])
    return {name: (statistics.median(times[name]), base) for name in paths_for}


# -- the rows --------------------------------------------------------------------------------

LATENCY = (24, 256 * 1024, 0.1)
BIG = (4, 64 * _MIB)  # files, bytes each
LINK_RATE = 100 * _MIB  # bytes/s
HASH_MIB = 256


def rows(echo: Callable[[str], None], repeat: int = 3) -> list[Row]:
    files, size, latency = LATENCY
    echo(f"downloads: (d) {files} x {size >> 10} KiB at {latency * 1000:.0f} ms latency")
    ours, serial = bench_downloads(files, size, latency)
    out = [Row(f"(d) fetch {files} x {size >> 10} KiB, {latency * 1000:.0f} ms latency", ours,
               "serial fetch + check", serial)]
    n, big = BIG
    echo(f"downloads: (d) {n} x {big >> 20} MiB, unlimited and at {LINK_RATE >> 20} MiB/s")
    ours, plain, hashed, _ = bench_throughput(n, big, None, repeat)
    out.append(Row(f"(d) fetch {n} x {big >> 20} MiB, loopback, no limit", ours,
                   "requests stream", plain))
    out.append(Row(f"(d) fetch {n} x {big >> 20} MiB, loopback, no limit", ours,
                   "requests stream + sha256", hashed))
    ours, _plain, _hashed, link = bench_throughput(n, big, LINK_RATE, 1)
    out.append(Row(f"(d) fetch {n} x {big >> 20} MiB, link {LINK_RATE >> 20} MiB/s", ours,
                   "link time", link))
    echo(f"downloads: (d) sha256 of {HASH_MIB} MiB in 16 files")
    hashed = bench_hash(HASH_MIB, repeat=max(3, repeat))
    for name, (t_ours, t_base) in hashed.items():
        out.append(Row(f"(d) sha256 of {HASH_MIB} MiB (16 files), {name}", t_ours,
                       "hashlib", t_base))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from run import render

    print(render(rows(lambda text: print(f"# {text}", file=sys.stderr), args.repeat), False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
