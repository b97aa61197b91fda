"""Size budgets: image:<ws> measures each limit on the new images and refuses to publish
an image over budget, with the table a release engineer reads."""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
from pathlib import Path

import pytest
from projectfiles import layer_yaml, write_project

from skiffbuild.core.errors import BuildError
from skiffbuild.core.project import Project
from skiffbuild.image import sizes
from skiffbuild.image.assemble import assemble
from skiffbuild.model.plan import load_plan

BOARD = """\
format: 1
description: Budget test board
architecture: x86_64
layers: [a/b]
image:
  table: mbr
  partitions:
    - name: boot
      filesystem: vfat
      size: 4M
      type: "0c"
      bootable: true
      contents:
        - source: bzImage
        - source: rootfs.cpio.gz
    - name: root
      filesystem: squashfs
      contents:
        - source: rootfs/
{budget}"""
EPOCH = 1781643700
MIB = 1 << 20


def _bzimage(init_size: int) -> bytes:
    """A file with an x86 boot header (protocol 2.15) asking for ``init_size`` bytes."""
    head = bytearray(0x400)
    head[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", head, 0x206, 0x020F)
    struct.pack_into("<I", head, 0x260, init_size)
    return bytes(head) + b"kernel" * 1000


def _cpio(root: Path) -> bytes:
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    out = subprocess.run(["cpio", "--quiet", "-o", "-H", "newc"], cwd=root, check=True,
                         input="\n".join(names).encode(), capture_output=True).stdout
    return gzip.compress(out, mtime=0)


def make_workspace(root: Path, budget: str = "", extra: int = 0):
    """A workspace as compile:<ws> leaves it: Buildroot's target directory and its file
    list (busybox 300 KiB, a 2 KiB file and a hard link of it from skeleton, a symlink,
    a file from the layer's overlay and one from nowhere), and the images."""
    write_project(root, {"layers/a/b/layer.yaml": layer_yaml("b"),
                         "layers/a/b/root_overlay/etc/motd": "hello\n",
                         "manifests/boards/img.yaml": BOARD.format(budget=budget)})
    ws = load_plan(Project(root)).workspaces["img"]
    out = ws.paths.output
    target = out / "target"
    files = {"bin/busybox": 300 * 1024, "etc/inittab": 2048, "etc/motd": 6,
             "etc/post-build.txt": 100 + extra}
    for rel, size in files.items():
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / rel).write_bytes(os.urandom(size))
    os.link(target / "etc/inittab", target / "etc/inittab.link")
    (target / "bin/sh").symlink_to("busybox")
    (out / "build").mkdir(parents=True)
    (out / "build" / "packages-file-list.txt").write_text(
        "skeleton,./etc/inittab\nskeleton,./etc/inittab.link\nbusybox,./bin/sh\n"
        "busybox,./bin/busybox\nbusybox,./etc/gone\nbusybox,./etc/inittab\n")
    images = out / "images"
    (images / "rootfs").mkdir(parents=True)
    (images / "bzImage").write_bytes(_bzimage(40 * MIB))
    (images / "rootfs" / "data").write_bytes(b"\0" * 4096)
    (images / "rootfs.cpio.gz").write_bytes(_cpio(target))
    state = ws.paths.root / "state"
    state.mkdir(parents=True)
    (state / "compile.json").write_text(json.dumps({"source_date_epoch": EPOCH, "images": {}}))
    ws.paths.dotconfig.parent.mkdir(parents=True, exist_ok=True)
    ws.paths.dotconfig.write_text("BR2_x86_64=y\n")
    ws.paths.sources.parent.mkdir(parents=True, exist_ok=True)
    ws.paths.sources.write_text(json.dumps({"sources": []}))
    return ws, Project(root)


def test_per_package_sizes_follow_buildroots_file_list(tmp_path: Path) -> None:
    ws, _project = make_workspace(tmp_path / "p")
    overlay = [("a/b", tmp_path / "p" / "layers/a/b/root_overlay")]
    uses = {u.name: u for u in sizes.rootfs_use(ws.paths.output, overlay)}
    # The last package listing a file owns it (busybox over skeleton for etc/inittab); a
    # hard link counts once; a symlink costs nothing; an overlay file is its layer's.
    assert {n: (u.files, u.bytes) for n, u in uses.items()} == {
        "busybox": (2, 300 * 1024 + 2048), "overlay:a/b": (1, 6), "unknown": (1, 100)}
    # The sums are the files of the target directory, each inode once.
    target = ws.paths.output / "target"
    inodes = {(p.lstat().st_ino, p.lstat().st_size) for p in target.rglob("*")
              if p.is_file() and not p.is_symlink()}
    assert sum(u.bytes for u in uses.values()) == sum(size for _ino, size in inodes)
    packed = {u.name: u.compressed for u in sizes.rootfs_use(ws.paths.output, overlay,
                                                             compression="gzip")}
    assert packed["busybox"] is not None and packed["busybox"] > 300 * 1024  # random data


def test_memory_of_a_kernel_and_an_initramfs(tmp_path: Path) -> None:
    ws, _project = make_workspace(tmp_path / "p")
    images = ws.paths.output / "images"
    assert sizes.ram_use(images / "bzImage").bytes == 40 * MIB
    cpio = sizes.ram_use(images / "rootfs.cpio.gz")
    assert (cpio.what, cpio.bytes) == ("initramfs", 300 * 1024 + 2048 + 6 + 100 + len("busybox"))
    (images / "README").write_text("not a kernel\n")
    with pytest.raises(Exception, match=r"README is neither a kernel \(x86 bzImage, arm64 "
                                        r"Image\) nor an initramfs"):
        sizes.ram_use(images / "README")


def test_a_ram_budget_on_a_file_that_is_no_kernel_names_the_budget(tmp_path: Path) -> None:
    ws, project = make_workspace(tmp_path / "p", "budget:\n  ram:\n    notes.txt: 1M\n")
    (ws.paths.output / "images" / "notes.txt").write_text("release notes\n")
    with pytest.raises(BuildError) as caught:
        assemble(ws, project, echo=lambda _: None)
    assert str(caught.value) == (
        "manifests/boards/img.yaml:22 budget.ram.notes.txt: notes.txt is neither a kernel (x86 "
        "bzImage, arm64 Image) nor an initramfs (cpio: plain, gzip or xz)")


def test_within_budget_publishes_and_records_sizes(tmp_path: Path) -> None:
    budget = "budget:\n  flash: 32M\n  rootfs: 1M\n  ram:\n    bzImage: 48M\n"
    ws, project = make_workspace(tmp_path / "p", budget)
    said: list[str] = []
    disk = assemble(ws, project, echo=said.append)
    report = json.loads((disk.parent / "size.json").read_text())
    assert [(b["item"], b["limit"], b["over"]) for b in report["budgets"]] == [
        ("flash", 32 * MIB, False), ("rootfs", MIB, False), ("ram bzImage", 48 * MIB, False)]
    assert report["disk"]["bytes"] == disk.stat().st_size
    assert report["rootfs"]["packages"][0] == {"name": "busybox", "files": 2,
                                               "bytes": 300 * 1024 + 2048}
    assert any(line.startswith("image:img: within budget\nbudget") for line in said)


def test_over_budget_by_a_known_amount(tmp_path: Path) -> None:
    """The rootfs grows by 1.5 MiB past a 1 MiB budget: image: fails with the exact table,
    and the last good image stays as it was."""
    budget = "budget:\n  flash: 32M\n  rootfs: 1M\n  ram:\n    bzImage: 48M\n"
    ws, project = make_workspace(tmp_path / "p", budget)
    disk = assemble(ws, project, echo=lambda _: None)
    good = (disk.parent / "SHA256SUMS").read_bytes(), disk.read_bytes()
    target = ws.paths.output / "target"
    grow = 1024 * 1024 + 512 * 1024
    (target / "etc/post-build.txt").write_bytes(os.urandom(100 + grow))
    actual = 300 * 1024 + 2048 + 6 + 100 + grow
    with pytest.raises(BuildError) as caught:
        assemble(ws, project, echo=lambda _: None)
    assert str(caught.value).split("\n") == [
        "image:img: over budget: rootfs by 814.10 KiB",
        "budget           limit     actual     headroom",
        "flash        32.00 MiB   6.00 MiB    26.00 MiB",
        "rootfs        1.00 MiB   1.80 MiB  -814.10 KiB  OVER (manifests/boards/img.yaml:22 "
        "budget.rootfs)",
        "ram bzImage  48.00 MiB  40.00 MiB     8.00 MiB",
        "largest in rootfs: unknown 1.50 MiB, busybox 302.00 KiB, overlay:a/b 6 B",
    ]
    assert actual - MIB == 833642  # 814.10 KiB
    # Nothing was published: the last good image and its sums are untouched.
    assert ((disk.parent / "SHA256SUMS").read_bytes(), disk.read_bytes()) == good
    assert not (disk.parent / ".tmp").exists()
    # The refused image's sizes are kept in the logs (the nightly page shows them).
    refused = json.loads((ws.paths.logs / "size-over-budget.json").read_text())
    assert refused["rootfs"]["bytes"] == actual
    assert [row["over"] for row in refused["budgets"]] == [False, True, False]
    (target / "etc/post-build.txt").write_bytes(b"x" * 100)
    assemble(ws, project, echo=lambda _: None)
    assert not (ws.paths.logs / "size-over-budget.json").exists()


@pytest.mark.parametrize(("budget", "error"), [
    ("budget:\n  partitions:\n    nosuch: 1M\n",
     "img.yaml:22: budget.partitions.nosuch: no partition 'nosuch' in image.partitions"),
    ("budget:\n  ram:\n    ../x: 1M\n",
     "img.yaml:21: budget.ram: a file of Buildroot's images directory: letters, digits, "
     ". _ + -, got '../x'"),
    ("budget:\n  rootfs: 0M\n",
     "img.yaml:21: budget.rootfs: a budget of 0 bytes: nothing fits"),
    ("budget:\n  rootfs: 3T\n",
     "img.yaml:21: budget.rootfs: a size is a number of bytes or a number with K, M or G "
     "(binary units), got '3T'"),
])
def test_budget_errors_name_the_file_line_and_key(tmp_path: Path, budget: str,
                                                  error: str) -> None:
    write_project(tmp_path / "p", {"layers/a/b/layer.yaml": layer_yaml("b"),
                                   "manifests/boards/img.yaml": BOARD.format(budget=budget)})
    with pytest.raises(Exception) as caught:
        load_plan(Project(tmp_path / "p"))
    assert error in str(caught.value)
