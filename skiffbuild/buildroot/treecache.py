"""Buildroot trees in the cache: which are in use, what differs between two, the rest removed.

Every pin (commit and patch series) has its checkout under
``cache/buildroot/<tree key>/`` (``checkout``), about 90 MB each for real
Buildroot. A workspace's ``state/output.json`` records the tree its
``output/`` was built with; when the pin moves, compile compares that tree
with the new one (``changed_files``) to clean exactly what changed, so a tree
must stay while a workspace records it. Any other tree is removed by
``collect_unused`` after a successful compile: that is when a workspace stops
recording its old tree (after a fetch every workspace still needs its old one
to compare with).

One lock per tree (``checkout.tree_lock``) keeps this safe between processes:
a checkout holds it exclusively while it creates the tree, a build holds it
shared while it uses the tree (``using``; make inherits it, so a make left
running by a killed skiffbuild still holds it), and removal takes it
exclusively without waiting: a tree in use is left alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from skiffbuild.buildroot.checkout import STAMP_NAME, run_git, short_error, tree_lock
from skiffbuild.core.errors import BuildError
from skiffbuild.core.project import WorkspacePaths
from skiffbuild.core.records import recorded_tree

__all__ = ["changed_files", "collect_unused", "tree_files", "using"]

_KEY = r"[0-9a-f]{12}-[0-9a-f]{12}"
_TREE = re.compile(rf"^{_KEY}$")
_LEFTOVER = re.compile(rf"^\.tmp-({_KEY})-")  # a checkout or a removal that was interrupted


@contextlib.contextmanager
def using(cache: Path, key: str) -> Iterator[int]:
    """Hold tree ``key`` shared for the block; yields the lock's descriptor, for the
    commands that use the tree to inherit (``pass_fds``)."""
    path = tree_lock(cache, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield fd
    finally:
        # No LOCK_UN: that would also unlock a child's copy (see fsutil.locked).
        os.close(fd)


# ------------------------------------------------------------------ diffing


def _junk(path: str) -> bool:
    """Bytecode Python leaves in a tree it ran from: not part of the tree."""
    return "__pycache__/" in path or path.endswith((".pyc", ".pyo"))


def _git_id(path: Path) -> str | None:
    """``<mode> <blob id>`` of a work-tree file, as git would store it."""
    try:
        st = path.lstat()
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        mode, data = "120000", os.readlink(path).encode(errors="surrogateescape")
    elif stat.S_ISREG(st.st_mode):
        mode = "100755" if st.st_mode & stat.S_IXUSR else "100644"
        data = path.read_bytes()
    else:
        return None
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    return f"{mode} {blob}"


def _git_lines(tree: Path, *args: str) -> list[str]:
    # Read-only: no index refresh written into a tree other processes may use.
    result = run_git(["--no-optional-locks", "-C", str(tree), *args])
    if not result.ok:
        raise BuildError(f"cannot read the Buildroot tree {tree}: {short_error(result.err)}")
    return [entry for entry in result.out.split("\0") if entry]


def tree_files(tree: Path) -> dict[str, str]:
    """Every file of a checked-out tree as path -> ``<mode> <blob id>``.

    Files the patch series did not touch come from git's index (no file is
    read); those it changed, added or removed (``git status``) are hashed.
    """
    files: dict[str, str] = {}
    for entry in _git_lines(tree, "ls-files", "-s", "-z"):
        info, _, path = entry.partition("\t")
        mode, blob, _stage = info.split()
        files[path] = f"{mode} {blob}"
    for entry in _git_lines(tree, "status", "--porcelain", "-z", "--untracked-files=all",
                            "--no-renames"):
        path = entry[3:]
        if _junk(path) or path == STAMP_NAME:
            continue
        current = _git_id(tree / path)
        if current is None:
            files.pop(path, None)
        else:
            files[path] = current
    return files


def changed_files(old: Path, new: Path) -> tuple[set[str], set[str]]:
    """The paths that differ between two trees (added, removed, changed content or
    mode), and every path of either tree."""
    before, after = tree_files(old), tree_files(new)
    every = set(before) | set(after)
    return {path for path in every if before.get(path) != after.get(path)}, every


# --------------------------------------------------------------- collecting


def _in_use(paths: Iterable[WorkspacePaths]) -> set[str]:
    return {key for ws in paths if (key := recorded_tree(ws))}


@contextlib.contextmanager
def _exclusive_now(path: Path) -> Iterator[bool]:
    """Try to hold ``path`` exclusively without waiting; yields whether it worked."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _freed(root: Path) -> int:
    """Bytes that removing ``root`` frees: files hard-linked elsewhere (the tree's git
    objects share the mirror's) stay."""
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            try:
                st = os.lstat(os.path.join(dirpath, name))
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode) or st.st_nlink == 1:
                total += st.st_blocks * 512
    return total


def _remove(path: Path) -> None:
    """Out of its final name first, so no half-removed tree is ever seen there."""
    if not path.name.startswith(".tmp-"):
        away = Path(tempfile.mkdtemp(prefix=f".tmp-{path.name}-unused-", dir=path.parent))
        os.rename(path, away / "tree")
        path = away
    shutil.rmtree(path)


def collect_unused(cache: Path, pinned: set[str],
                   workspaces: Iterable[WorkspacePaths]) -> list[tuple[Path, int]]:
    """Remove the trees (and interrupted checkouts) that are neither ``pinned`` nor
    recorded by a workspace and that no process is using; return each with the
    bytes it freed."""
    root = cache / "buildroot"
    if not root.is_dir():
        return []
    workspaces = list(workspaces)
    removed = []
    for entry in sorted(root.iterdir()):
        leftover = _LEFTOVER.match(entry.name)
        key = leftover.group(1) if leftover else entry.name
        if entry.is_symlink() or not entry.is_dir() or not (leftover or _TREE.match(key)):
            continue
        if not leftover and key in pinned:
            continue
        with _exclusive_now(tree_lock(cache, key)) as mine:
            # Read the records only now: a workspace records a tree before it lets go of
            # the old one, and holds the tree it is about to use shared.
            if not mine or (not leftover and key in _in_use(workspaces)):
                continue
            size = _freed(entry)
            _remove(entry)
            removed.append((entry, size))
    return removed
