"""What every benchmark shares: timing, result rows, the machine, test-tree projects.

Builds run against the Buildroot-compatible test tree (tests/buildroot-tree),
served from a local git repository and a local stand-in download site, as
the try-out and the tests do: real Buildroot needs the internet and hours.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import (  # noqa: E402
    DoitProject,
    PinnedTree,
    make_doit_project,
    use_standin_pi_kernel,
)

from skiffbuild.app.testtree import create_testtree_repo  # noqa: E402

__all__ = ["BOARDS", "ROOT", "Row", "TestTree", "add_cpu_layer", "doit_floor", "machine",
           "median_time",
           "project", "timed"]

BOARDS = ("qemu-x86_64", "pi4")


@dataclass(frozen=True)
class Row:
    """One figure: what skiffbuild took against a baseline measured in the same run."""

    figure: str
    ours: float
    baseline_name: str
    baseline: float

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline if self.baseline else float("inf")


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def median_time(fn: Callable[[], object], repeat: int) -> float:
    return statistics.median(timed(fn) for _ in range(repeat))


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30)
    import doit

    return (f"{cpu}, {len(os.sched_getaffinity(0))} CPUs, {mem:.0f} GiB RAM, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
            f"doit {'.'.join(map(str, doit.__version__))}")


@dataclass(frozen=True)
class TestTree:
    """The test tree as a pinned git repository plus its stand-in download site."""

    tree: PinnedTree
    site: Path

    @classmethod
    def create(cls, where: Path) -> TestTree:
        repo = where / "buildroot"
        tree = PinnedTree(repo, create_testtree_repo(repo))
        site = where / "site"
        make_sources = ROOT / "tests" / "buildroot-tree" / "support" / "testing" / "make-sources"
        subprocess.run([str(make_sources), str(site)], check=True, capture_output=True)
        return cls(tree, site)


def project(dest: Path, testtree: TestTree, boards: dict[str, str] | None = None,
            **env: str) -> DoitProject:
    """A copy of the bundled boards and layers pinned to the test tree."""
    made = make_doit_project(dest, testtree.tree, boards)
    made.env.update({"SKIFFBUILD_PRIMARY_SITE": f"file://{testtree.site}", **env})
    use_standin_pi_kernel(made, testtree.site)
    return made


def doit_floor(where: Path, *args: str, repeat: int) -> float:
    """Median time of ``doit *args`` on an empty dodo.py: Python and doit starting up."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "dodo.py").write_text("# doit's floor: no tasks at all\n")
    return median_time(lambda: subprocess.run([sys.executable, "-m", "doit", *args], cwd=where,
                                              check=True, capture_output=True), repeat)


CPU_LAYER = ROOT / "bench" / "cpu-layer"


def add_cpu_layer(made: DoitProject) -> DoitProject:
    """Add the layer bench/cpu (package benchcpu: gcc -O2 on generated C) to every bundled
    board of ``made``, so that a build does real, CPU-bound compile work."""
    import shutil

    shutil.copytree(CPU_LAYER, made.root / "layers" / "bench" / "cpu")
    for path in (made.root / "manifests" / "boards").glob("*.yaml"):
        text = path.read_text()
        new = re.sub(r"^layers: \[(.*)\]$", r"layers: [\1, bench/cpu]", text, count=1,
                     flags=re.M)
        if new == text:
            raise SystemExit(f"{path}: no 'layers: [...]' line to add bench/cpu to")
        path.write_text(new)
    return made
