"""The bundled qemu-x86_64-lean board: 32 MiB of flash, musl, BusyBox, a squashfs root on the
virtio disk reached through a small module-loading initramfs (layers/virt/lean).

Built offline from the test tree and booted under qemu (TCG) from its disk image: the system
comes up to a shell on the serial console, / is the read-only squashfs partition, and the
initramfs is gone. The test tree's kernel (Debian's) does not start in 64 MiB, the board's
goal: its boot header asks for 63.6 MiB from a 16 MiB load address. The boot test gives
qemu 96 MiB, and one test pins the limit, so that it is noticed when the kernel fits.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT, PinnedTree, make_doit_project, serve_sources, unless_installed
from console import ConsoleSession

from skiffbuild.core.project import Project
from skiffbuild.model.plan import load_plan

WS = "qemu-x86_64-lean"
MIB = 1 << 20
FLASH = 32 * MIB
# The test tree's kernel boots this board from about 84 MiB (MemTotal 36 MiB).
MEMORY = "96M"
SHELL = "Enter 'help' for a list of built-in commands."
# What the initramfs loads (virtio_pci, virtio_blk, squashfs and their dependencies),
# and all that is loaded once the system is up.
MODULES = ["squashfs", "virtio", "virtio_blk", "virtio_pci", "virtio_pci_legacy_dev",
           "virtio_pci_modern_dev", "virtio_ring"]
needs_qemu = unless_installed([t for t in ("qemu-system-x86_64",) if not shutil.which(t)])


def test_the_manifest_loads_and_plans(tmp_path: Path) -> None:
    for name in ("manifests", "layers", "buildroot"):
        shutil.copytree(ROOT / name, tmp_path / name, symlinks=True)
    ws = load_plan(Project(tmp_path), [WS]).workspaces[WS]
    assert [layer.name for layer in ws.chain] == ["virt/lean"]  # not skiff/base
    assert ws.board.architecture == "x86_64"
    boot, root = ws.board.image.partitions
    assert (boot.filesystem, boot.bootloader, boot.size) == ("vfat", "syslinux", 12 * MIB)
    assert [c.source for c in boot.contents] == ["bzImage", "initramfs.cpio.gz",
                                                 "syslinux.cfg"]
    assert (root.filesystem, root.image) == ("raw", "rootfs.squashfs")
    assert {(b.kind, b.name): b.limit for b in ws.board.budgets}[("flash", None)] == FLASH
    cfg = (tmp_path / "layers/virt/lean/resources/syslinux.cfg").read_text()
    assert "root=/dev/vda2 rootfstype=squashfs ro" in cfg


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree) -> Iterator[Path]:
    """The workspace directory after doit image:qemu-x86_64-lean."""
    base = tmp_path_factory.mktemp("lean")
    server = serve_sources(base / "site")
    try:
        project = make_doit_project(base / "p", testtree)
        project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
        project.doit(f"image:{WS}")
    finally:
        server.stop()
    yield project.root / "workspaces" / WS


def boot(disk: Path, memory: str) -> ConsoleSession:
    return ConsoleSession(["qemu-system-x86_64", "-accel", "tcg", "-m", memory, "-smp", "1",
                           "-nographic", "-no-reboot", "-monitor", "none", "-nic", "none",
                           "-drive", f"file={disk},format=raw,if=virtio,snapshot=on"])


def kib(meminfo: str, key: str) -> int:
    found = re.search(rf"^{key}:\s+(\d+) kB$", meminfo, re.M)
    assert found, meminfo
    return int(found.group(1))


@pytest.mark.slow
def test_the_image_fits_the_flash_and_its_budget(built: Path) -> None:
    image = built / "image"
    disk = image / f"{WS}.img"
    assert disk.stat().st_size <= FLASH
    table = json.loads(subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    assert [(p["type"], p.get("bootable", False)) for p in table["partitions"]] == [
        ("c", True), ("83", False)]
    with disk.open("rb") as f:  # the root partition is the squashfs image, written raw
        f.seek(table["partitions"][1]["start"] * 512)
        assert f.read(4) == b"hsqs"
    # image:<ws> checked the manifest's budget; each limit was measured and kept.
    rows = json.loads((image / "size.json").read_text())["budgets"]
    assert {row["item"] for row in rows} >= {"flash", "rootfs", "ram bzImage",
                                             "ram initramfs.cpio.gz"}, rows
    assert not [row for row in rows if row["over"]], rows
    # The initramfs holds /init, BusyBox and the modules on the way to the root, no more.
    cpio = subprocess.run(["cpio", "-it", "--quiet"], input=subprocess.run(
        ["gzip", "-dc", str(built / "output" / "images" / "initramfs.cpio.gz")],
        capture_output=True, check=True).stdout, capture_output=True, check=True)
    names = cpio.stdout.decode().split()
    assert sorted(n.rsplit("/", 1)[1][:-3] for n in names if n.endswith(".ko")) == MODULES
    assert {"init", "bin/busybox", "lib/modules/modules.load"} <= set(names)


@pytest.mark.slow
@needs_qemu
def test_it_boots_to_a_shell_on_the_squashfs_root(built: Path) -> None:
    console = boot(built / "image" / f"{WS}.img", MEMORY)
    try:
        console.expect("initramfs: mounting /dev/vda2 (squashfs) on /", 120)
        console.expect(SHELL, 120)
        console.expect("# ", 30)
        answer, status = console.run("echo lean-$((6 * 7)); hostname")
        mounts, _ = console.run("cat /proc/mounts")
        meminfo, _ = console.run("cat /proc/meminfo")
        modules, _ = console.run("cut -d ' ' -f 1 /proc/modules | sort")
        leftovers, _ = console.run("ls /init /newroot 2>&1")
    finally:
        console.close()
    assert (status, answer.split()) == (0, ["lean-42", "lean"]), answer
    root = [line.split() for line in mounts.splitlines() if line.split()[1:2] == ["/"]]
    assert [(r[0], r[2], r[3].split(",")[0]) for r in root] == [
        ("/dev/vda2", "squashfs", "ro")], mounts
    assert kib(meminfo, "MemTotal") * 1024 < 64 * MIB, meminfo
    # Nothing loaded after the initramfs: the test tree's modules-load.d list is masked.
    assert modules.split() == MODULES
    assert leftovers.count("No such file or directory") == 2, leftovers  # initramfs freed


@pytest.mark.slow
@needs_qemu
def test_the_test_tree_kernel_does_not_start_in_64_mib(built: Path) -> None:
    """The board's goal is 64 MiB of RAM; the test tree's Debian kernel asks for more than
    that (init_size from its 16 MiB load address) and syslinux refuses to start it. When
    this fails, the kernel fits: boot the board in 64 MiB above (MEMORY) and drop this."""
    header = (built / "output" / "images" / "bzImage").read_bytes()[:0x270]
    init_size = struct.unpack_from("<I", header, 0x260)[0]
    assert 16 * MIB + init_size > 64 * MIB
    console = boot(built / "image" / f"{WS}.img", "64M")
    try:
        # syslinux writes to the serial port and the screen, which qemu interleaves.
        console.expect("Booting kernel failed:", 60)
    finally:
        console.kill()
