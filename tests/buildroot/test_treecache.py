"""skiffbuild.treecache: what differs between two checked-out trees; unused trees removed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import commit, diff, make_repo

from skiffbuild.buildroot import checkout as co
from skiffbuild.buildroot import treecache
from skiffbuild.buildroot.mirrors import MirrorMap
from skiffbuild.core.project import WorkspacePaths
from skiffbuild.model.model import BuildrootPin


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def make_pin(url: Path, sha: str, patches: tuple[Path, ...] = ()) -> BuildrootPin:
    return BuildrootPin("buildroot", Path("/project/manifests/buildroot.yaml"), str(url), sha,
                        None, patches)


def test_changed_files_between_commits_and_patch_series(tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    first = make_repo(origin, {
        "Makefile": "all:\n", "package/foo/foo.mk": "FOO_VERSION = 1\n",
        "package/bar/bar.mk": "BAR_VERSION = 1\n", "support/run": "#!/bin/sh\n",
        "docs/manual.txt": "manual\n"})
    second = commit(origin, {"package/foo/foo.mk": "FOO_VERSION = 2\n",
                             "docs/manual.txt": None}, "foo 2")
    # A patch on the second commit: a new file, a changed file, an executable bit.
    patched = commit(origin, {"package/bar/0001-fix.patch": "fix\n",
                              "package/bar/bar.mk": "BAR_VERSION = 1.1\n"}, "bar patched")
    (origin / "Makefile").chmod(0o755)
    patched = commit(origin, {}, "Makefile executable")
    patch = tmp_path / "patches" / "0001-bar.patch"
    patch.parent.mkdir()
    patch.write_text(diff(origin, second, patched))
    cache = tmp_path / "cache"
    old = co.checkout(make_pin(origin, first), cache, MirrorMap(), log=[].append)
    new = co.checkout(make_pin(origin, second, (patch,)), cache, MirrorMap(), log=[].append)
    # Bytecode a build left in a tree is no part of it.
    (new / "support" / "__pycache__").mkdir()
    (new / "support" / "__pycache__" / "run.cpython-311.pyc").write_bytes(b"\0")

    changed, every = treecache.changed_files(old, new)
    assert changed == {"package/foo/foo.mk", "docs/manual.txt", "package/bar/0001-fix.patch",
                       "package/bar/bar.mk", "Makefile"}
    assert "support/run" in every and "docs/manual.txt" in every
    assert treecache.changed_files(new, new)[0] == set()


def fake_tree(cache: Path, key: str, size: int = 4096) -> Path:
    tree = cache / "buildroot" / key
    (tree / "package").mkdir(parents=True)
    (tree / "package" / "data").write_bytes(os.urandom(size))
    (tree / co.STAMP_NAME).write_text("{}\n")
    return tree


def record(workspace: WorkspacePaths, key: str) -> None:
    (workspace.root / "state").mkdir(parents=True)
    (workspace.root / "state" / "output.json").write_text(json.dumps(
        {"format": 1, "tree": {"key": key}, "config": "x", "toolchain": None}))


HOLD = """
import sys, time
from pathlib import Path
from skiffbuild.buildroot import treecache
with treecache.using(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    time.sleep(60)
"""


def test_unused_trees_are_removed_unless_pinned_recorded_or_in_use(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    pinned, recorded, busy, unused = (f"{n:012x}-{n:012x}" for n in (1, 2, 3, 4))
    for key in (pinned, recorded, busy):
        fake_tree(cache, key)
    fake_tree(cache, unused, 1 << 20)
    leftover = cache / "buildroot" / f".tmp-{pinned}-abc123"  # an interrupted checkout
    (leftover / "x").mkdir(parents=True)
    (cache / "git").mkdir()  # not a tree
    workspace = WorkspacePaths(tmp_path / "workspaces" / "pi4")
    record(workspace, recorded)
    # Another process builds with a tree: it holds the tree shared.
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(cache), busy],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        removed = treecache.collect_unused(cache, {pinned}, [workspace])
        assert [(path.name, size >= 1 << 20) for path, size in removed] == [
            (leftover.name, False), (unused, True)]
        assert sorted(p.name for p in (cache / "buildroot").iterdir() if p.is_dir()) == [
            pinned, recorded, busy]
    finally:
        holder.kill()
        holder.wait()
    # Once nobody holds it, it goes; the recorded tree stays until the record moves.
    assert [p.name for p, _size in treecache.collect_unused(cache, {pinned}, [workspace])] \
        == [busy]
    record_path = workspace.root / "state" / "output.json"
    record_path.write_text(record_path.read_text().replace(recorded, pinned))
    assert [p.name for p, _size in treecache.collect_unused(cache, {pinned}, [workspace])] \
        == [recorded]
    assert (cache / "buildroot" / pinned / "package" / "data").is_file()


def test_a_tree_being_checked_out_is_left_alone(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    key = f"{5:012x}-{5:012x}"
    work = cache / "buildroot" / f".tmp-{key}-xyz"
    work.mkdir(parents=True)
    with co.locked(co.tree_lock(cache, key)):  # what checkout() holds while it works
        assert treecache.collect_unused(cache, set(), []) == []
    assert work.is_dir()
