"""The goals behind bench/'s figures, checked at small sizes (CI: about 30 s).

Each test runs the same code as its row of ``python3 bench/run.py`` with
smaller inputs and asserts the goal, with the margin stated here:

- hashing: skiffbuild's two sha256 paths within 20 % of plain hashlib;
- downloads: the parallel fetch at 50 ms latency at most 0.6 of the serial
  fetch; over unlimited loopback at most 2.5x a requests stream that hashes as
  it goes (skiffbuild reads what has arrived, 64 KiB at most, to enforce its
  rate and size limits as data comes, and renames a .part file); through
  a rate-limited link at most 10 % (+50 ms) over the link time;
- image assembly, on the qemu-x86_64 layout as GPT: the same bytes on every
  run (the goal), and not slower than systemd-repart by more than 25 % (met:
  0.4x to 1.0x of its time, which varies with its loop device). Faster than
  genimage is the goal but not met (4.5x to 7.5x slower: staging, normalising,
  ext4 inode tables written in full, the debugfs fix-up and the sha256 of the
  disk and every partition, which genimage does not do): a strict xfail, plus
  a bound of 10x (genimage takes only 0.08 to 0.17 s here, so the ratio is noisy)
  so that it does not get much worse unnoticed.

Not checked here: (f) doit -n 2 against serially with the gcc -O2 package
(two full builds each way, about a minute), and the rows that only measure
skiffbuild's overhead over a floor ((a), (b), (c), (g)): run bench/run.py.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

pytestmark = pytest.mark.slow

_MIB = 1 << 20


def _need(*tools: str) -> None:
    missing = [t for t in tools if not shutil.which(t)]
    if missing:
        pytest.fail(f"missing {', '.join(missing)} (bash scripts/setup installs them)")


def test_hashing_is_within_20_percent_of_hashlib() -> None:
    from downloads import bench_hash

    for name, (ours, hashlib_time) in bench_hash(96, files=8, repeat=5).items():
        assert ours <= hashlib_time * 1.20 + 0.005, (name, ours, hashlib_time)


def test_parallel_fetch_beats_serial_fetch_under_latency() -> None:
    from downloads import bench_downloads

    ours, serial = bench_downloads(12, 64 * 1024, 0.05)
    assert ours <= serial * 0.6, (ours, serial)


def test_download_throughput_unlimited_and_through_a_link() -> None:
    from downloads import bench_throughput

    ours, plain, hashed, _ = bench_throughput(2, 32 * _MIB, None, repeat=3)
    assert ours <= hashed * 2.5, (ours, plain, hashed)
    ours, _plain, _hashed, link = bench_throughput(2, 32 * _MIB, 64 * _MIB, 1)
    assert link == pytest.approx(1.0)
    assert ours <= link * 1.10 + 0.05, (ours, link)


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory):
    _need("genimage", "systemd-repart", "mkfs.vfat", "mcopy", "mke2fs", "sfdisk")
    from common import TestTree, project
    from pipeline import assembly_vs_peers

    tmp = tmp_path_factory.mktemp("bench-image")
    made = project(tmp / "project", TestTree.create(tmp / "testtree"))
    made.doit("image:qemu-x86_64")
    return assembly_vs_peers(made.root, "qemu-x86_64", 2, tmp / "peers")


def test_image_assembly_gives_the_same_bytes_every_run(assembly) -> None:
    assert assembly.skiffbuild.same_bytes


def test_image_assembly_is_not_slower_than_systemd_repart(assembly) -> None:
    assert assembly.skiffbuild.seconds <= assembly.repart.seconds * 1.25, assembly


def test_image_assembly_is_within_10x_of_genimage(assembly) -> None:
    assert assembly.skiffbuild.seconds <= assembly.genimage.seconds * 10, assembly


@pytest.mark.xfail(strict=True, reason="open goal: skiffbuild's assembly takes 4.5x to "
                                        "7.5x genimage's time on this layout")
def test_image_assembly_is_faster_than_genimage(assembly) -> None:
    assert assembly.skiffbuild.seconds <= assembly.genimage.seconds, assembly
