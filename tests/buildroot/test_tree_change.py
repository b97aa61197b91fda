"""A new Buildroot tree under a built workspace: another pinned commit, another patch
series, a tree that is gone; and the old trees collected (slow: full pipelines)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, make_doit_project, ran
from gitrepo import commit, diff
from httpserver import FaultyServer

from skiffbuild.app.testtree import create_testtree_repo

pytestmark = pytest.mark.slow
QEMU = "qemu-x86_64"


def pin(project: DoitProject, sha: str) -> None:
    manifest = project.root / "manifests" / "buildroot.yaml"
    manifest.write_text("".join(f"commit: {sha}\n" if line.startswith("commit:") else line
                                for line in manifest.read_text().splitlines(keepends=True)))


def built(stderr: str) -> list[str]:
    """The packages a run built (their build step ran)."""
    return sorted(line.split()[2] for line in stderr.splitlines()
                  if line.startswith(f"compile:{QEMU} >>> ") and line.endswith(" Building"))


def trees(project: DoitProject) -> list[str]:
    return sorted(p.name for p in (project.root / "cache" / "buildroot").iterdir() if p.is_dir())


def test_tree_changes_clean_what_changed_and_old_trees_are_collected(
        tmp_path: Path, upstream: FaultyServer) -> None:
    repo = tmp_path / "buildroot"
    first = create_testtree_repo(repo)
    project = make_doit_project(tmp_path / "p", PinnedTree(repo, first))
    project.env["SKIFFBUILD_PRIMARY_SITE"] = upstream.url
    project.doit(f"image:{QEMU}")
    [first_tree] = trees(project)

    # A package's recipe changes: that package is rebuilt, nothing else; the old tree goes.
    mk = repo / "package" / "busybox" / "busybox.mk"
    second = commit(repo, {mk.relative_to(repo).as_posix(): mk.read_text() + "# changed\n"},
                    "busybox: recipe changed")
    pin(project, second)
    # As a workspace built before the tree was recorded: the only tree older than the
    # build is taken to be the one it was built with.
    (project.root / "workspaces" / QEMU / "state" / "output.json").unlink()
    result = project.doit(f"image:{QEMU}")
    assert (f"compile:{QEMU}: the Buildroot tree of the last build is not recorded (built by "
            f"an older skiffbuild): taken to be {first_tree}, the only tree older than it"
            ) in result.stderr
    assert (f"compile:{QEMU}: Buildroot tree changed ({first[:8]}… → {second[:8]}…): "
            "package/busybox changed: rebuilding busybox (dirclean)") in result.stderr
    assert built(result.stderr) == ["busybox"]
    assert f"compile:{QEMU}: removed cache/buildroot/{first_tree}, a Buildroot tree no " \
           "workspace uses any more (" in result.stderr
    assert " MB freed)" in result.stderr
    [second_tree] = trees(project)
    assert second_tree != first_tree

    # Something every package depends on: everything is rebuilt.
    third = commit(repo, {"support/misc/skiffbuild-test.txt": "new\n"}, "support: a file")
    pin(project, third)
    result = project.doit(f"image:{QEMU}")
    assert (f"compile:{QEMU}: Buildroot tree changed ({second[:8]}… → {third[:8]}…): "
            "full rebuild (make clean): support/ changed") in result.stderr
    assert {"busybox", "dropbear", "host-e2fsprogs"} <= set(built(result.stderr))

    # The patch series changes the tree too (same commit).
    dropbear = repo / "package" / "dropbear" / "dropbear.mk"
    patched = commit(repo, {dropbear.relative_to(repo).as_posix():
                            dropbear.read_text() + "# patched\n"}, "not pinned")
    patches = project.root / "buildroot" / "patches"
    patches.mkdir(parents=True)
    (patches / "0001-dropbear.patch").write_text(diff(repo, third, patched))
    result = project.doit(f"image:{QEMU}")
    assert ran(result.stdout)["fetch:buildroot"] is True
    assert (f"compile:{QEMU}: Buildroot tree changed ({third[:8]}…, patches e3b0c442… → "
            in result.stderr)
    assert "…): package/dropbear changed: rebuilding dropbear (dirclean)" in result.stderr
    assert built(result.stderr) == ["dropbear"]
    [patched_tree] = trees(project)
    assert patched_tree.startswith(third[:12]) and patched_tree != f"{third[:12]}-e3b0c44298fc"

    # The tree of the last build removed behind skiffbuild's back: it cannot compare.
    shutil.rmtree(project.root / "cache" / "buildroot" / patched_tree)
    shutil.rmtree(patches)
    result = project.doit(f"image:{QEMU}")
    assert (f"compile:{QEMU}: Buildroot tree changed ({third[:8]}…, patches "
            in result.stderr)
    assert (f"the tree of the last build (cache/buildroot/{patched_tree}) is gone: "
            "full rebuild (make clean)") in result.stderr
    assert "dropbear" in built(result.stderr)

    # Nothing changed since: make is not called.
    assert not any(ran(project.doit(f"image:{QEMU}").stdout).values())
