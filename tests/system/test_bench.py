"""bench/run.py runs from a checkout and prints every figure with its ratio (slow)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REAL_BUILD_NEEDS, require_shared

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_bench_prints_every_figure_with_a_ratio() -> None:
    require_shared(*REAL_BUILD_NEEDS)  # the (g) rows build on real Buildroot
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--repeat", "1"],
                          capture_output=True, text=True, check=False, timeout=1500)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = {}
    for line in proc.stdout.splitlines():
        match = re.match(r"^(\([a-g]\) .+?)\s{2,}(\d+\.\d+)s\s+(.+?)\s+(\d+\.\d+)s\s+(\d+\.\d+)$",
                         line)
        if match:
            rows[match[1]] = (float(match[2]), match[3], float(match[4]), float(match[5]))
    assert sorted({label[:3] for label in rows}) == ["(a)", "(b)", "(c)", "(d)", "(e)", "(f)",
                                                     "(g)"]
    assert {"(a) test tree: no-op doit image:qemu-x86_64", "(a) test tree: no-op doit image:pi4",
            "(g) real Buildroot: no-op doit image:tiny",
            "(g) real Buildroot: check pi4 (config, show-info, audit)",
            "(g) real Buildroot: compile:tiny from clean"} <= rows.keys()
    for label, (ours, _name, baseline, ratio) in rows.items():
        assert ours > 0 and baseline > 0, label
        assert ratio == pytest.approx(ours / baseline, rel=0.02, abs=0.01), label
    assert proc.stdout.startswith("skiffbuild benchmarks, ")
