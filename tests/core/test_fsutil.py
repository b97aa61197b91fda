"""skiffbuild.fsutil: atomic writes, sparse-aware hashing, locks."""

from __future__ import annotations

import hashlib
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from skiffbuild.core.fsutil import atomic_write, extents, held_locks, locked, sha256_file


def _sparse(path: Path) -> bytes:
    """A 9 MiB file: a hole, 3 data bytes at 4 MiB, a hole to the end."""
    with open(path, "wb") as f:
        f.truncate(9 << 20)
        f.seek(4 << 20)
        f.write(b"abc")
    return path.read_bytes()


def test_sha256_of_a_sparse_file_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    content = _sparse(tmp_path / "disk.img")
    assert sha256_file(tmp_path / "disk.img") == hashlib.sha256(content).hexdigest()
    (tmp_path / "dense").write_bytes(os.urandom(3 << 20) + b"tail")
    assert sha256_file(tmp_path / "dense") == \
        hashlib.sha256((tmp_path / "dense").read_bytes()).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert sha256_file(tmp_path / "empty") == hashlib.sha256(b"").hexdigest()


def test_extents_cover_the_file_and_skip_holes(tmp_path: Path) -> None:
    _sparse(tmp_path / "disk.img")
    with open(tmp_path / "disk.img", "rb") as f:
        runs = list(extents(f))
    # Contiguous, complete, and the data run is small: holes are not read.
    assert runs[0][0] == 0
    assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(runs))
    assert runs[-1][0] + runs[-1][1] == 9 << 20
    data = [run for run in runs if run[2]]
    assert sum(length for _, length, _ in data) <= 1 << 20
    assert any(start <= 4 << 20 < start + length for start, length, _ in data)


def test_atomic_write_leaves_identical_files_alone(tmp_path: Path) -> None:
    target = tmp_path / "f"
    assert atomic_write(target, "one\n") is True
    before = target.stat().st_mtime_ns
    assert atomic_write(target, "one\n") is False
    assert target.stat().st_mtime_ns == before
    assert atomic_write(target, "two\n") is True
    assert target.read_text() == "two\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]  # no temporary left behind


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_inherited_lock_outlives_its_holder_in_a_child(tmp_path: Path) -> None:
    lock = tmp_path / "ws.lock"
    with locked(lock, "test", inherit=True):
        fds = held_locks()
        assert len(fds) == 1
        # A child given the descriptor keeps the lock after this block ends.
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(2)"],
                                 pass_fds=fds)
    assert held_locks() == ()
    probe = subprocess.run(["flock", "-n", str(lock), "true"], check=False)
    child.wait()
    assert probe.returncode == 1
    assert subprocess.run(["flock", "-n", str(lock), "true"], check=False).returncode == 0
