"""Image assembly: layout, validity and bit-for-bit reproducibility, with the real tools."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from projectfiles import layer_yaml, write_project

from skiffbuild.core.project import Project
from skiffbuild.image.assemble import assemble
from skiffbuild.model.plan import load_plan

BOARD = """\
format: 1
description: Image test board
architecture: x86_64
layers: [a/b]
image:
  table: {table}
  partitions:
    - name: boot
      filesystem: vfat
      size: 16M
      type: "0c"
      bootable: true
      label: BOOT
      bootloader: syslinux
      contents:
        - source: bzImage
        - source: "*.dtb"
        - source: firmware/
          destination: /fw
    - name: rootfs
      filesystem: squashfs
      contents:
        - source: rootfs/
    - name: persist
      filesystem: ext4
      size: 8M
      label: persist
      contents:
        - source: persist/
"""
EPOCH = 1781643700


def make_workspace(root: Path, table: str = "mbr"):
    write_project(root, {"layers/a/b/layer.yaml": layer_yaml("b"),
                         "manifests/boards/img.yaml": BOARD.format(table=table)})
    project = Project(root)
    ws = load_plan(project).workspaces["img"]
    images = ws.paths.output / "images"
    files = {"bzImage": b"kernel" * 5000, "a.dtb": b"dtb a", "b.dtb": b"dtb b",
             "firmware/start4.elf": b"elf", "firmware/overlays/README": b"overlays",
             "rootfs/etc/hostname": b"skiff\n", "rootfs/bin/tool": b"#!/bin/sh\n",
             "rootfs/etc/Zeta.conf": b"z", "rootfs/etc/alpha.conf": b"a",
             "persist/skiff/README": b"persist\n"}
    # Created in reverse order and with a restrictive umask: neither may matter.
    old = os.umask(0o077)
    try:
        for rel, data in reversed(files.items()):
            path = images / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (images / "rootfs/bin/tool").chmod(0o700)
    finally:
        os.umask(old)
    state = ws.paths.root / "state"
    state.mkdir(parents=True)
    (state / "compile.json").write_text(json.dumps(
        {"source_date_epoch": EPOCH, "images": {}}))
    ws.paths.dotconfig.parent.mkdir(parents=True, exist_ok=True)
    ws.paths.dotconfig.write_text("BR2_x86_64=y\n")
    ws.paths.sources.parent.mkdir(parents=True, exist_ok=True)
    ws.paths.sources.write_text(json.dumps({"sources": []}))
    return ws, project


def test_layout_and_validity(tmp_path: Path) -> None:
    ws, project = make_workspace(tmp_path / "p")
    disk = assemble(ws, project, echo=lambda _: None)
    table = json.loads(subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    assert table["label"] == "dos"
    parts = [(p["start"], p["size"], p["type"], p.get("bootable", False))
             for p in table["partitions"]]
    assert parts[0] == (2048, 32768, "c", True)
    assert parts[1][0] == 2048 + 32768 and parts[1][2] == "83"
    assert parts[2][1:] == (16384, "83", False)
    part_dir = disk.parent / "partitions"
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    listing = subprocess.run(["mdir", "-/", "-a", "-b", "-i", str(part_dir / "boot.vfat"), "::/"],
                             capture_output=True, text=True, check=True, env=env).stdout
    assert sorted(listing.split()) == sorted([
        "::/a.dtb", "::/b.dtb", "::/bzImage", "::/fw/", "::/fw/overlays/",
        "::/fw/overlays/README", "::/fw/start4.elf", "::/ldlinux.c32", "::/ldlinux.sys"])
    subprocess.run(["fsck.vfat", "-n", str(part_dir / "boot.vfat")], check=True,
                   capture_output=True)
    subprocess.run(["e2fsck", "-fn", str(part_dir / "persist.ext4")], check=True,
                   capture_output=True)
    label = subprocess.run(["e2label", str(part_dir / "persist.ext4")], capture_output=True,
                           text=True, check=True).stdout.strip()
    assert label == "persist"
    squash = subprocess.run(["unsquashfs", "-lls", str(part_dir / "rootfs.squashfs")],
                            capture_output=True, text=True, check=True).stdout
    assert "-rwxr-xr-x root/root" in next(line for line in squash.splitlines()
                                          if line.endswith("/bin/tool"))
    sums = (disk.parent / "SHA256SUMS").read_text().splitlines()
    assert [line.split("  ")[1] for line in sums] == [
        "img.img", "partitions/boot.vfat", "partitions/rootfs.squashfs",
        "partitions/persist.ext4"]
    info = json.loads((disk.parent / "build-info.json").read_text())
    assert info["source_date_epoch"] == EPOCH
    assert set(info["image_tools"]) >= {"mtools", "dosfstools", "e2fsprogs", "squashfs-tools"}
    with open(disk, "rb") as f:
        assert f.read(440) == Path("/usr/lib/syslinux/mbr/mbr.bin").read_bytes()[:440]


@pytest.mark.parametrize("table", ["mbr", "gpt"])
def test_two_directories_give_identical_bytes(tmp_path: Path, table: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    first, project_a = make_workspace(tmp_path / "a", table)
    assemble(first, project_a, echo=lambda _: None)
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".mtoolsrc").write_text("MTOOLS_NAME_NUMERIC_TAIL=0\n")
    old = os.umask(0o077)
    try:
        second, project_b = make_workspace(tmp_path / "b", table)
        assemble(second, project_b, echo=lambda _: None)
    finally:
        os.umask(old)
    sums_a = (first.paths.root / "image" / "SHA256SUMS").read_text()
    sums_b = (second.paths.root / "image" / "SHA256SUMS").read_text()
    assert sums_a == sums_b
    assert len(sums_a.splitlines()) == 4


def test_missing_content_is_a_clear_error(tmp_path: Path) -> None:
    ws, project = make_workspace(tmp_path / "p")
    (ws.paths.output / "images" / "bzImage").unlink()
    from skiffbuild.core.errors import SkiffError

    with pytest.raises(SkiffError) as info:
        assemble(ws, project, echo=lambda _: None)
    assert info.value.message == (f"img: partition boot: no file bzImage in "
                                  f"{ws.paths.output / 'images'}")
    assert not (ws.paths.root / "image" / "img.img").exists()


def test_image_symlink_to_a_host_file_is_not_copied(tmp_path: Path) -> None:
    # The manifest's paths are checked at load; a symlink only appears once Buildroot (or a
    # hook) has run, so staging checks where each file really is.
    ws, project = make_workspace(tmp_path / "p")
    host = tmp_path / "host-secret"
    host.write_text("secret\n")
    images = ws.paths.output / "images"
    (images / "bzImage").unlink()
    (images / "bzImage").symlink_to(host)
    from skiffbuild.core.errors import SkiffError

    with pytest.raises(SkiffError) as info:
        assemble(ws, project, echo=lambda _: None)
    assert info.value.message == "img: partition boot: bzImage leads outside the images directory"
    assert not (ws.paths.root / "image" / "img.img").exists()


def test_image_directory_with_a_symlink_out_is_not_copied(tmp_path: Path) -> None:
    ws, project = make_workspace(tmp_path / "p")
    host = tmp_path / "host-secret"
    host.write_text("secret\n")
    (ws.paths.output / "images" / "firmware" / "overlays" / "leak").symlink_to(host)
    from skiffbuild.core.errors import SkiffError

    with pytest.raises(SkiffError) as info:
        assemble(ws, project, echo=lambda _: None)
    assert info.value.message == ("img: partition boot: firmware/overlays/leak leads outside "
                                  "the images directory")


def test_the_full_disk_message_counts_a_partition_without_a_size(tmp_path: Path) -> None:
    # rootfs has no size ("as large as its contents"): the message used to die with a
    # TypeError summing the layout (issue 11, finding 4).
    import errno

    from skiffbuild.image.assemble import _Assembler, _full_disk_error

    ws, project = make_workspace(tmp_path / "p")
    asm = _Assembler(ws, project, EPOCH, print, None)
    full = OSError(errno.ENOSPC, "No space left on device", str(asm.tmp / "rootfs.img"))
    error = _full_disk_error(asm, full)
    assert error.message.startswith(f"image:img: the disk holding {asm.work} is full (")
    assert f"No space left on device writing {asm.tmp / 'rootfs.img'}." in error.message
    # boot 16 MiB + persist 8 MiB (rootfs unknown before it is built), twice over.
    assert error.hint == ("free some space (assembling this image needs up to about 48 MiB) "
                          "and run the task again")


def test_a_legal_info_made_for_another_configuration_goes(tmp_path: Path) -> None:
    """skiffbuild legal-info publishes beside the image; a new image for another
    configuration removes it (Buildroot's copy of the .config says what it was for)."""
    ws, project = make_workspace(tmp_path / "p")
    legal = ws.paths.root / "image" / "legal-info"
    legal.mkdir(parents=True)
    (legal / "buildroot.config").write_text("BR2_x86_64=y\n")  # this configuration
    said: list[str] = []
    assemble(ws, project, echo=said.append)
    assert (legal / "buildroot.config").is_file()
    ws.paths.dotconfig.write_text("BR2_x86_64=y\nBR2_PACKAGE_HTOP=y\n")
    assemble(ws, project, echo=said.append)
    assert not legal.exists()
    assert "image:img: removed image/legal-info, made for another configuration (run: " \
           "skiffbuild legal-info img)" in said
