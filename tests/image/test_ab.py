"""A/B layouts (issue 15): a partition declared once with ``slots: [a, b]`` is laid out
twice; GRUB is installed for BIOS into the image file with RAUC's boot selection; the
factory grubenv; two assemblies give the same bytes; mistakes located, exit 2. With the
real tools (mkfs, mtools, grub-mkimage, grub-editenv), no Buildroot build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import unless_installed
from projectfiles import layer_yaml, write_project

from skiffbuild.core.errors import ProblemsError
from skiffbuild.core.project import Project
from skiffbuild.image.assemble import assemble
from skiffbuild.model.model import GrubSpec
from skiffbuild.model.plan import load_plan

pytestmark = unless_installed(
    [t for t in ("/usr/lib/grub/i386-pc/boot.img", "grub-editenv")
     if not (Path(t).is_file() if t.startswith("/") else shutil.which(t))],
    "BIOS GRUB: scripts/setup installs grub-pc-bin and grub-common")

BOARD = """\
format: 1
description: A/B test board
architecture: x86_64
layers: [a/b]
image:
  table: {table}
  partitions:
    - name: boot
      filesystem: vfat
      size: 8M
      bootable: true
      label: BOOT
      bootloader: grub
      grub:
        slots: system
        kernel: bzImage
        initrd: /rootfs.cpio.gz
        cmdline: console=ttyS0,115200 panic=5
        tries: {tries}
    - name: system
      filesystem: {fs}
      size: 8M
      label: system
      slots: [a, b]
      contents:
        - source: bzImage
        - source: rootfs.cpio.gz
    - name: data
      filesystem: ext4
      size: 4M
      label: persist
update:
  slots:
    system: partition:system
"""
EPOCH = 1781643700
ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def make_workspace(root: Path, table: str = "mbr", fs: str = "vfat", tries: int = 3):
    write_project(root, {"layers/a/b/layer.yaml": layer_yaml("b"),
                         "manifests/boards/ab.yaml": BOARD.format(table=table, fs=fs,
                                                                  tries=tries)})
    project = Project(root)
    ws = load_plan(project).workspaces["ab"]
    images = ws.paths.output / "images"
    images.mkdir(parents=True)
    (images / "bzImage").write_bytes(b"kernel" * 5000)
    (images / "rootfs.cpio.gz").write_bytes(b"initramfs" * 3000)
    state = ws.paths.root / "state"
    state.mkdir(parents=True)
    (state / "compile.json").write_text(json.dumps({"source_date_epoch": EPOCH, "images": {}}))
    ws.paths.dotconfig.parent.mkdir(parents=True, exist_ok=True)
    ws.paths.dotconfig.write_text("BR2_x86_64=y\n")
    ws.paths.sources.parent.mkdir(parents=True, exist_ok=True)
    ws.paths.sources.write_text(json.dumps({"sources": []}))
    return ws, project


def fat_file(image: Path, name: str, dest: Path) -> Path:
    subprocess.run(["mcopy", "-n", "-o", "-i", str(image), f"::/{name}", str(dest)], check=True,
                   env=ENV, capture_output=True)
    return dest


def grubenv(boot: Path, tmp: Path) -> list[str]:
    env = fat_file(boot, "grub/grubenv", tmp / "grubenv")
    assert env.stat().st_size == 1024  # GRUB's environment block
    return subprocess.run(["grub-editenv", str(env), "list"], capture_output=True, text=True,
                          check=True).stdout.splitlines()


def test_slots_are_declared_once_and_laid_out_twice(tmp_path: Path) -> None:
    ws, _project = make_workspace(tmp_path / "p")
    layout = ws.board.image
    assert [(p.name, p.label, p.size, p.group, p.slot) for p in layout.partitions] == [
        ("boot", "BOOT", 8 << 20, None, None),
        ("system_a", "system_a", 8 << 20, "system", "a"),
        ("system_b", "system_b", 8 << 20, "system", "b"),
        ("data", "persist", 4 << 20, None, None)]
    assert layout.partitions[1].contents == layout.partitions[2].contents
    assert layout.partitions[0].grub == GrubSpec(slots="system", kernel="bzImage",
                                                 initrd="/rootfs.cpio.gz",
                                                 cmdline="console=ttyS0,115200 panic=5",
                                                 tries=3)
    assert layout.assembled("system") == layout.partitions[1]
    assert ws.board.update.slots == (("system", "partition:system"),)


@pytest.mark.parametrize("table", ["mbr", "gpt"])
def test_the_factory_image(tmp_path: Path, table: str) -> None:
    ws, project = make_workspace(tmp_path / "p", table)
    disk = assemble(ws, project, echo=lambda _: None)
    parts = json.loads(subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    sizes = [p["size"] for p in parts["partitions"]]
    assert sizes == [16384, 16384, 16384, 8192]
    if table == "gpt":
        assert [p["name"] for p in parts["partitions"]] == ["boot", "system_a", "system_b",
                                                            "data"]
    part_dir = disk.parent / "partitions"
    # Both slots hold the system, each its own filesystem with its label.
    for slot in ("a", "b"):
        image = part_dir / f"system_{slot}.vfat"
        assert fat_file(image, "bzImage", tmp_path / "k").read_bytes() == b"kernel" * 5000
        label = subprocess.run(["mlabel", "-s", "-i", str(image), "::"], capture_output=True,
                               text=True, check=True, env=ENV).stdout
        assert f"SYSTEM_{slot.upper()}" in label
    sums = [line.split("  ")[1] for line in (disk.parent / "SHA256SUMS").read_text().splitlines()]
    assert sums == ["ab.img", "partitions/boot.vfat", "partitions/system_a.vfat",
                    "partitions/system_b.vfat", "partitions/data.ext4"]
    info = json.loads((disk.parent / "build-info.json").read_text())
    assert set(info["sha256"]) == set(sums)
    assert {"grub-pc-bin", "grub-common"} <= set(info["image_tools"])

    boot = part_dir / "boot.vfat"
    assert grubenv(boot, tmp_path) == ["ORDER=A B", "A_OK=1", "A_TRY=0", "B_OK=1", "B_TRY=0"]
    cfg = fat_file(boot, "grub/grub.cfg", tmp_path / "grub.cfg")
    check = subprocess.run(["grub-script-check", str(cfg)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    text = cfg.read_text()
    label = "gpt" if table == "gpt" else "msdos"
    assert (f"linux ($slotdisk,{label}2)/bzImage console=ttyS0,115200 panic=5 rauc.slot=A"
            in text)
    assert f"initrd ($slotdisk,{label}3)/rootfs.cpio.gz" in text
    assert '-lt 3 -a' in text and "@" not in text.replace("rauc.", "")

    # boot.img in the MBR, the table kept; core.img right after the table.
    data = disk.read_bytes()
    boot_img = Path("/usr/lib/grub/i386-pc/boot.img").read_bytes()
    sector = 34 if table == "gpt" else 1
    assert data[:0x5C] == boot_img[:0x5C]
    assert int.from_bytes(data[0x5C:0x64], "little") == sector
    assert data[510:512] == b"\x55\xaa"
    assert data[sector * 512 + 0x1F4:sector * 512 + 0x1FC] == (sector + 1).to_bytes(8, "little")
    assert b"GRUB" in data[:512]


def test_two_assemblies_give_identical_bytes(tmp_path: Path) -> None:
    first, project_a = make_workspace(tmp_path / "a")
    assemble(first, project_a, echo=lambda _: None)
    old = os.umask(0o077)
    try:
        second, project_b = make_workspace(tmp_path / "b")
        assemble(second, project_b, echo=lambda _: None)
    finally:
        os.umask(old)
    sums_a = (first.paths.image_dir / "SHA256SUMS").read_text()
    assert sums_a == (second.paths.image_dir / "SHA256SUMS").read_text()
    assert len(sums_a.splitlines()) == 5


def test_tries_shape_the_counter(tmp_path: Path) -> None:
    ws, project = make_workspace(tmp_path / "p", tries=1, fs="ext4")
    disk = assemble(ws, project, echo=lambda _: None)
    text = fat_file(disk.parent / "partitions/boot.vfat", "grub/grub.cfg",
                    tmp_path / "grub.cfg").read_text()
    assert '-lt 1 -a' in text
    assert 'if [ "$1" -eq 0 ]; then NEXT=1\n    else NEXT=1\n' in text
    assert (disk.parent / "partitions/system_b.ext4").is_file()


def problems(root: Path, text: str) -> list[str]:
    write_project(root, {"layers/a/b/layer.yaml": layer_yaml("b"),
                         "manifests/boards/ab.yaml": text})
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(root))
    return sorted(str(p) for p in info.value.problems)


def line_of(text: str, needle: str, after: str = "") -> int:
    lines = text.splitlines()
    start = lines.index(after) if after else 0
    return next(i for i, x in enumerate(lines) if i >= start and needle in x) + 1


GOOD = BOARD.format(table="mbr", fs="vfat", tries=3)


def test_mistakes_are_located(tmp_path: Path) -> None:
    f = "manifests/boards/ab.yaml"
    # A slot name that another partition already has.
    text = GOOD.replace("    - name: data\n", "    - name: system_b\n")
    assert problems(tmp_path / "1", text) == sorted([
        f"{f}:{line_of(text, 'name: system_b')}: image.partitions[2].name: duplicate partition "
        "name 'system_b', also from image.partitions[1]"])
    # Three slots; an A/B partition without a size; a bootloader in a slot.
    text = GOOD.replace("slots: [a, b]", "slots: [a, b, c]")
    assert problems(tmp_path / "2", text) == sorted([
        f"{f}:{line_of(text, 'slots: [a, b, c]')}: image.partitions[1].slots: slots are "
        "[a, b]: two slots, A and B (RAUC's bootnames), got a list"])
    text = GOOD.replace("      filesystem: vfat\n      size: 8M\n      label: system\n",
                        "      filesystem: squashfs\n      label: system\n"
                        "      bootloader: syslinux\n")
    assert problems(tmp_path / "3", text) == sorted([
        f"{f}:{line_of(text, 'slots: [a, b]')}: image.partitions[1].slots: an A/B partition "
        "needs a size: every update written into a slot must fit",
        f"{f}:{line_of(text, 'bootloader: syslinux')}: image.partitions[1].bootloader: a "
        "bootloader is installed once, not into an A/B partition",
        f"{f}:{line_of(text, 'bootloader: syslinux')}: image.partitions[1].bootloader: one "
        "bootloader per image (also image.partitions[0])"])
    # A FAT label with its suffix too long; grub.slots naming no A/B partition; a kernel
    # path leaving the slot.
    text = GOOD.replace("label: system", "label: SYSTEMDISK").replace(
        "slots: system", "slots: data").replace("kernel: bzImage", "kernel: ../bzImage")
    assert problems(tmp_path / "4", text) == sorted([
        f"{f}:{line_of(text, 'slots: data')}: image.partitions[0].grub.slots: no partition "
        "'data' declared with slots: [a, b]",
        f"{f}:{line_of(text, 'label: SYSTEMDISK')}: image.partitions[1].label: label "
        "'SYSTEMDISK' is too long for slots: 'SYSTEMDISK_a' is longer than 11 characters"])
    text = GOOD.replace("kernel: bzImage", "kernel: ../bzImage").replace(
        "partition:system", "partition:root")
    assert problems(tmp_path / "5", text) == sorted([
        f"{f}:{line_of(text, 'kernel: ../bzImage')}: image.partitions[0].grub.kernel: path "
        "'../bzImage' leads outside the slot partition",
        f"{f}:{line_of(text, 'system: partition:root')}: update.slots.system: no partition "
        "'root' in image.partitions (partition:<name> names an assembled partition)"])
    # GRUB on ext4, without its section; tries out of range.
    text = GOOD.replace("      filesystem: vfat\n      size: 8M\n      bootable",
                        "      filesystem: ext4\n      size: 8M\n      bootable")
    assert problems(tmp_path / "6", text) == sorted([
        f"{f}:{line_of(text, 'bootloader: grub')}: image.partitions[0].bootloader: GRUB is "
        "installed into a vfat partition"])
    text = GOOD.replace("tries: 3", "tries: 0")
    assert problems(tmp_path / "7", text) == sorted([
        f"{f}:{line_of(text, 'tries: 0')}: image.partitions[0].grub.tries: tries is a number "
        "from 1 to 9, got 0"])


def test_a_broken_layout_exits_2(tmp_path: Path) -> None:
    text = GOOD.replace("slots: [a, b]", "slots: [a]")
    write_project(tmp_path, {"layers/a/b/layer.yaml": layer_yaml("b"),
                             "manifests/boards/ab.yaml": text})
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKIFFBUILD_")}
    proc = subprocess.run([sys.executable, "-m", "skiffbuild", "check", "ab"], cwd=tmp_path,
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert (f"manifests/boards/ab.yaml:{line_of(text, 'slots: [a]')}: "
            "image.partitions[1].slots: slots are [a, b]") in proc.stderr
