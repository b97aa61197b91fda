#!/usr/bin/env python3
"""skiffbuild's benchmark suite: every figure against a baseline measured in the same run.

  (a) no-op `doit image:<ws>` for every bundled board   vs  an empty dodo.py
  (b) config:<ws> for pi4 + skiff/core                  vs  its `make defconfig`
  (c) load + resolve, and `doit list --all`, of 100 synthetic boards and 200 layers
                                                         vs  parsing the YAML / an empty dodo
  (d) parallel verified download, 100 ms latency        vs  a serial fetch + check
      large files over loopback, no limit               vs  a plain requests stream (+ sha256)
      large files through a rate-limited link           vs  the link time, bytes / rate
      sha256 by skiffbuild's two hashing paths          vs  hashlib.file_digest, same files
  (e) image assembly                                    vs  the tool calls it makes
      the same layout as GPT                            vs  genimage, systemd-repart
  (f) both boards, with a gcc -O2 package, doit -n 2    vs  serially
  (g) real Buildroot: a no-op image, check of pi4, a compile from clean
                                                         vs  an empty dodo / the same make by hand
  (h) a fresh worker to a finished image, stage cache hit vs  no cache / a local no-op

(a)-(f) build with the Buildroot-compatible test tree (their rows say
"test tree"); (g) with real Buildroot from shared/ and the small board of
tests/real (bench/real.py), left out when that is not set up. A ratio below
1 means skiffbuild is faster than the baseline; above 1 it is skiffbuild's
overhead. Run from a checkout
after `bash scripts/setup`: python3 bench/run.py [--repeat N] [--markdown]
"""

from __future__ import annotations

import argparse
import compileall
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import downloads
from common import ROOT, Row, machine
from farm import bench_farm
from pipeline import bench_pipeline
from real import bench_real
from scaling import bench_scaling


def _echo(text: str) -> None:
    print(f"# {text}", file=sys.stderr, flush=True)


def render(rows: list[Row], markdown: bool) -> str:
    if markdown:
        lines = ["| figure | skiffbuild | baseline | | ratio |", "|---|---:|---|---:|---:|"]
        lines += [f"| {r.figure} | {r.ours:.3f} s | {r.baseline_name} | {r.baseline:.3f} s "
                  f"| {r.ratio:.2f} |" for r in rows]
        return "\n".join(lines)
    width = max(len(r.figure) for r in rows)
    base = max(len(r.baseline_name) for r in rows)
    lines = [f"{'figure':<{width}}  {'skiffbuild':>10}  {'baseline':<{base}} "
             f"{'':>9}  {'ratio':>6}"]
    lines += [f"{r.figure:<{width}}  {r.ours:>9.3f}s  {r.baseline_name:<{base}} "
              f"{r.baseline:>8.3f}s  {r.ratio:>6.2f}" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5,
                        help="repetitions of the quick figures (the median is shown)")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    started = time.monotonic()
    # Python writes bytecode on the first import unless PYTHONDONTWRITEBYTECODE is set
    # (it is on some CI machines); then every run would compile skiffbuild again.
    # Measure the steady state every normal setup reaches.
    compileall.compile_dir(str(ROOT / "skiffbuild"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="skiffbuild-bench-") as tmp:
        base = Path(tmp)
        rows = bench_pipeline(base, args.repeat, _echo)
        rows += bench_scaling(base, args.repeat, _echo)
        rows += downloads.rows(_echo, max(3, args.repeat))
        rows += bench_real(base, args.repeat, _echo)
        rows += bench_farm(base, args.repeat, _echo)
    order = {"(a)": 0, "(b)": 1, "(c)": 2, "(d)": 3, "(e)": 4, "(f)": 5, "(g)": 6, "(h)": 7}
    rows.sort(key=lambda r: order[r.figure[:3]])
    print(f"skiffbuild benchmarks, {time.strftime('%Y-%m-%d')}, on {machine()}"
          + (", PYTHONDONTWRITEBYTECODE set (bytecode compiled first)"
             if sys.flags.dont_write_bytecode else ""))
    print(render(rows, args.markdown))
    print(f"(whole run: {time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
