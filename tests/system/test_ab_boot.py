"""A/B boot (issue 15) under qemu with real GRUB: the bundled qemu-x86_64-ab board, built
offline from the test tree, boots slot A; the grubenv edited in a copy of the image
(``ORDER="B A"``) boots slot B; a damaged slot B is given up by GRUB itself, without a
human: a kernel GRUB cannot load costs one try and GRUB boots A in the same power-on; a
system that never comes up (its initramfs garbage: the kernel panics, panic=5 reboots the
VM into GRUB) is tried ``tries`` (3) times, then GRUB boots A."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import PinnedTree, make_doit_project, serve_sources, unless_installed
from console import ConsoleSession

pytestmark = [pytest.mark.slow,
              unless_installed([t for t in ("/usr/lib/grub/i386-pc/boot.img",
                                            "qemu-system-x86_64")
                                if not (Path(t).is_file() if t.startswith("/")
                                        else shutil.which(t))])]

WS = "qemu-x86_64-ab"
# The update/rauc layer marks the booted slot good once the system is up.
MARKED_GOOD = "[  OK  ] Started rauc-mark-good.service"
ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree) -> Iterator[Path]:
    base = tmp_path_factory.mktemp("ab")
    server = serve_sources(base / "site")
    try:
        project = make_doit_project(base / "p", testtree)
        project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
        project.doit(f"image:{WS}")
    finally:
        server.stop()
    yield project.root / "workspaces" / WS / "image" / f"{WS}.img"


def copy_of(image: Path, dest: Path) -> Path:
    subprocess.run(["cp", "--sparse=always", str(image), str(dest)], check=True)
    return dest


def part(disk: Path, index: int) -> str:
    """mtools' name of partition ``index`` (1-based) inside the disk image."""
    table = json.loads(subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    return f"{disk}@@{table['partitions'][index - 1]['start'] * 512}"


def env_list(disk: Path, tmp: Path) -> dict[str, str]:
    subprocess.run(["mcopy", "-n", "-o", "-i", part(disk, 1), "::/grub/grubenv", str(tmp)],
                   check=True, env=ENV)
    out = subprocess.run(["grub-editenv", str(tmp), "list"], capture_output=True, text=True,
                         check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def env_set(disk: Path, tmp: Path, *assignments: str) -> None:
    env_list(disk, tmp)
    subprocess.run(["grub-editenv", str(tmp), "set", *assignments], check=True)
    subprocess.run(["mcopy", "-n", "-o", "-i", part(disk, 1), str(tmp), "::/grub/grubenv"],
                   check=True, env=ENV)


def spoil(disk: Path, slot_index: int, name: str, tmp: Path) -> None:
    """Overwrite a file of a slot partition with garbage."""
    tmp.write_bytes(b"\xde\xad\xbe\xef" * 4096)
    subprocess.run(["mcopy", "-n", "-o", "-i", part(disk, slot_index), str(tmp), f"::/{name}"],
                   check=True, env=ENV)


def boot(disk: Path) -> ConsoleSession:
    # Without -no-reboot: a guest that reboots (panic=5) comes back to GRUB.
    return ConsoleSession(["qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-smp", "1",
                           "-nographic", "-monitor", "none", "-nic", "none",
                           "-drive", f"file={disk},format=raw,if=virtio"])


def cmdline(console: ConsoleSession) -> str:
    console.expect("Enter 'help' for a list of built-in commands.", 240)
    console.expect("# ", 30)
    out, status = console.run("cat /proc/cmdline")
    assert status == 0
    return out


def test_the_factory_image_boots_slot_a(factory: Path, tmp_path: Path) -> None:
    disk = copy_of(factory, tmp_path / "disk.img")
    assert env_list(disk, tmp_path / "env") == {"ORDER": "A B", "A_OK": "1", "A_TRY": "0",
                                                "B_OK": "1", "B_TRY": "0"}
    console = boot(disk)
    try:
        console.expect("skiffbuild: booting slot A, try 1 of 3", 120)  # GRUB counted it
        console.expect(MARKED_GOOD, 300)
        line = cmdline(console)
    finally:
        console.close()
    assert "BOOT_IMAGE=(hd0,msdos2)/bzImage" in line and "rauc.slot=A" in line, line
    # The system came up and RAUC (layer update/rauc) marked the slot good: count reset.
    found = env_list(disk, tmp_path / "env")
    assert (found["A_OK"], found["A_TRY"]) == ("1", "0"), found


def test_the_grubenv_order_boots_slot_b(factory: Path, tmp_path: Path) -> None:
    disk = copy_of(factory, tmp_path / "disk.img")
    env_set(disk, tmp_path / "env", "ORDER=B A", "B_TRY=0")
    console = boot(disk)
    try:
        console.expect("skiffbuild: booting slot B, try 1 of 3", 120)
        console.expect(MARKED_GOOD, 300)
        line = cmdline(console)
    finally:
        console.close()
    assert "BOOT_IMAGE=(hd0,msdos3)/bzImage" in line and "rauc.slot=B" in line, line
    assert env_list(disk, tmp_path / "env")["B_TRY"] == "0"


def test_a_kernel_grub_cannot_load_falls_back_in_the_same_power_on(
        factory: Path, tmp_path: Path) -> None:
    disk = copy_of(factory, tmp_path / "disk.img")
    spoil(disk, 3, "bzImage", tmp_path / "garbage")
    env_set(disk, tmp_path / "env", "ORDER=B A")
    console = boot(disk)
    try:
        console.expect("skiffbuild: booting slot B, try 1 of 3", 120)
        console.expect("skiffbuild: booting slot A, try 1 of 3", 120)
        console.expect(MARKED_GOOD, 300)
        line = cmdline(console)
    finally:
        console.close()
    assert "rauc.slot=A" in line, line
    found = env_list(disk, tmp_path / "env")
    # B's failed try stays counted; A came up and was marked good.
    assert (found["ORDER"], found["B_TRY"], found["A_TRY"]) == ("B A", "1", "0")


def test_a_system_that_never_comes_up_is_given_up_after_its_tries(
        factory: Path, tmp_path: Path) -> None:
    disk = copy_of(factory, tmp_path / "disk.img")
    spoil(disk, 3, "rootfs.cpio.gz", tmp_path / "garbage")
    env_set(disk, tmp_path / "env", "ORDER=B A")
    console = boot(disk)
    try:
        for attempt in (1, 2, 3):
            console.expect(f"skiffbuild: booting slot B, try {attempt} of 3", 120)
            console.expect("Kernel panic", 120)  # then panic=5 reboots into GRUB
        console.expect("skiffbuild: ORDER=B A A_OK=1 A_TRY=0 B_OK=1 B_TRY=3: slot A", 120)
        console.expect("skiffbuild: booting slot A, try 1 of 3", 60)
        line = cmdline(console)
    finally:
        console.close()
    assert "rauc.slot=A" in line, line
    assert env_list(disk, tmp_path / "env")["B_TRY"] == "3"
