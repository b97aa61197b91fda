"""(h) The shared stage cache: time to a finished image on a fresh worker.

A builder builds qemu-x86_64 (with bench/cpu-layer's gcc -O2 package, so that a build is
real compile work) and publishes compile:<ws>'s outputs to a store on 127.0.0.1 (the
tests' HTTP server with PUT). Then, each from a fresh project (another machine: no
Buildroot checkout, no downloads, no output), ``doit image:qemu-x86_64``:

- with the stage cache (a verified restore instead of make),
- without it (the whole build),

and, as the issue's yardstick, a no-op ``doit image:qemu-x86_64`` in the builder's
project. A fresh worker still clones the pinned tree, configures, verifies its sources
and assembles the image: those are in the cache figure, as they are on a real worker.
The last row times the restore alone: ``doit compile:<ws>`` on a fresh worker whose
sources:<ws> already ran.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from common import Row, TestTree, add_cpu_layer, median_time, project, timed
from httpserver import FaultyServer
from keys import ed25519_keypair

__all__ = ["bench_farm"]

WS = "qemu-x86_64"


def bench_farm(tmp: Path, repeat: int, echo: Callable[[str], None],
               testtree: TestTree | None = None) -> list[Row]:
    testtree = testtree or TestTree.create(tmp / "farm-testtree")
    private, public = ed25519_keypair(tmp / "farm-keys", "builder")
    store = FaultyServer(writable=True)
    try:
        url = store.url + "/cache"
        echo("farm: (h) the builder builds and publishes")
        builder = add_cpu_layer(project(tmp / "farm-builder", testtree,
                                        SKIFFBUILD_CACHE_URL=url,
                                        SKIFFBUILD_CACHE_TRUST=str(public),
                                        SKIFFBUILD_CACHE_SIGN=str(private)))
        builder.doit(f"image:{WS}")
        sums = (builder.root / "workspaces" / WS / "image" / "SHA256SUMS").read_text()
        noop = median_time(lambda: builder.doit(f"image:{WS}"), repeat)
        runs = max(1, repeat // 2)

        def fresh(name: str, *, first: str | None = None, target: str = f"image:{WS}",
                  **env: str) -> float:
            times = []
            for n in range(runs):
                worker = add_cpu_layer(project(tmp / f"farm-{name}-{n}", testtree, **env))
                if first:
                    worker.doit(first)
                times.append(timed(lambda w=worker: w.doit(target)))
                if target != f"image:{WS}":
                    worker.doit(f"image:{WS}")
                got = (worker.root / "workspaces" / WS / "image" / "SHA256SUMS").read_text()
                if got != sums:
                    raise SystemExit(f"farm: the {name} worker's image differs from the "
                                     "builder's")
                shutil.rmtree(worker.root)
            return sorted(times)[len(times) // 2]

        echo("farm: (h) fresh workers, with and without the stage cache")
        cached = fresh("cached", SKIFFBUILD_CACHE_URL=url, SKIFFBUILD_CACHE_TRUST=str(public))
        uncached = fresh("uncached")
        restore = fresh("restore", first=f"sources:{WS}", target=f"compile:{WS}",
                        SKIFFBUILD_CACHE_URL=url, SKIFFBUILD_CACHE_TRUST=str(public))
    finally:
        store.stop()
    label = f"(h) test tree + gcc -O2 package: fresh worker to image:{WS}, stage cache hit"
    return [Row(label, cached, "no cache (it builds)", uncached),
            Row(label, cached, "a local no-op doit image", noop),
            Row(f"(h) the same: compile:{WS} alone (a restore), after sources:{WS}", restore,
                "a local no-op doit image", noop)]
