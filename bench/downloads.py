#!/usr/bin/env python3
"""Download and hashing throughput, as ratios against baselines run in the same process.

1. N files from a local HTTP server with added latency: skiffbuild's parallel,
   verified fetch into the cache, against a serial fetch of the same files, one
   after the other, each written then checked with sha256 (the way Buildroot's
   `make source` works: dl-wrapper per file, then check-hash).
2. sha256 of one large file: skiffbuild's hashing (hashlib, the same code that
   verifies the cache) against coreutils `sha256sum`.

Usage: python3 bench/downloads.py [--files N] [--size BYTES] [--latency SECONDS]
                                  [--hash-mib MIB]
Prints a table; a ratio below 1 means skiffbuild is faster. Loopback only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import requests  # noqa: E402
from httpserver import FaultyServer  # noqa: E402

from skiffbuild.buildroot.hashes import Expected, hash_file  # noqa: E402
from skiffbuild.buildroot.showinfo import Source, Uri  # noqa: E402
from skiffbuild.sources.dlcache import DownloadCache  # noqa: E402
from skiffbuild.sources.download import FetchSettings, fetch_all  # noqa: E402


def serial_fetch(server: FaultyServer, names: list[str], dest: Path,
                 expected: dict[str, str]) -> None:
    for name in names:
        target = dest / name
        with requests.get(f"{server.url}/pkg/{name}", stream=True, timeout=30) as resp:
            resp.raise_for_status()
            with open(target, "wb") as out:
                for block in resp.iter_content(1 << 16):
                    out.write(block)
        # check-hash runs after the download, reading the file again
        if hashlib.sha256(target.read_bytes()).hexdigest() != expected[name]:
            raise SystemExit(f"serial baseline: bad hash for {name}")


def bench_downloads(files: int, size: int, latency: float) -> tuple[float, float]:
    server = FaultyServer(latency=latency)
    names = [f"pkg{i:03d}-1.0.tar.gz" for i in range(files)]
    expected = {}
    for i, name in enumerate(names):
        data = os.urandom(size) + i.to_bytes(4, "big")
        server.files[f"/pkg/{name}"] = data
        expected[name] = hashlib.sha256(data).hexdigest()
    sources = [Source(n, "pkg", ("pkg",), (Uri.parse(f"http+{server.url}/pkg"),),
                      (Expected("sha256", expected[n], "bench"),), ("bench",)) for n in names]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            started = time.perf_counter()
            serial_fetch(server, names, base, expected)
            serial = time.perf_counter() - started
            cache = DownloadCache(base / "dl", base / "state", base / "rejected")
            started = time.perf_counter()
            fetch_all(sources, cache, FetchSettings())
            ours = time.perf_counter() - started
    finally:
        server.stop()
    return ours, serial


def bench_hash(mib: int) -> tuple[float, float]:
    with tempfile.NamedTemporaryFile(dir=Path.cwd() if os.access(".", os.W_OK) else None) as f:
        block = os.urandom(1 << 20)
        for _ in range(mib):
            f.write(block)
        f.flush()
        path = Path(f.name)
        subprocess.run(["cat", f.name], stdout=subprocess.DEVNULL, check=True)  # warm cache
        started = time.perf_counter()
        ours_digest = hash_file(path)["sha256"]
        ours = time.perf_counter() - started
        started = time.perf_counter()
        out = subprocess.run(["sha256sum", f.name], capture_output=True, text=True, check=True)
        theirs = time.perf_counter() - started
        if out.stdout.split()[0] != ours_digest:
            raise SystemExit("sha256sum and skiffbuild disagree")
    return ours, theirs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--size", type=int, default=256 * 1024)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--hash-mib", type=int, default=512)
    args = parser.parse_args()
    ours, serial = bench_downloads(args.files, args.size, args.latency)
    h_ours, h_theirs = bench_hash(args.hash_mib)
    mib = args.hash_mib
    print(f"{'figure':<52} {'skiffbuild':>11} {'baseline':>10} {'ratio':>7}")
    label = f"fetch {args.files} x {args.size // 1024} KiB, {args.latency * 1000:.0f} ms latency"
    print(f"{label:<52} {ours:>10.2f}s {serial:>9.2f}s {ours / serial:>7.2f}")
    print(f"{f'sha256 of {mib} MiB (baseline: sha256sum)':<52}"
          f" {h_ours:>10.2f}s {h_theirs:>9.2f}s {h_ours / h_theirs:>7.2f}")
    print(f"  hashing: {mib / h_ours:.0f} MiB/s vs {mib / h_theirs:.0f} MiB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
