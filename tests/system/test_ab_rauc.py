"""RAUC on the device (issue 15): the qemu-x86_64-ab board's update/rauc layer puts the
build host's rauc (Debian's, with dbus-daemon, grub-editenv and their libraries) and an
/etc/rauc/system.conf made from the board into the target. Booted under qemu from the
factory image, RAUC knows the compatible and both slots, sees slot A booted, and the
boot's rauc-mark-good.service ends GRUB's count for it (A_TRY back to 0)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ab_boot import WS, boot, copy_of, env_list, factory, pytestmark  # noqa: F401

pytestmark = [*pytestmark, pytest.mark.skipif(
    not Path("/usr/bin/rauc").is_file(), reason="needs Debian's rauc on the build host")]


def test_rauc_runs_on_the_device_and_marks_the_booted_slot_good(
        factory: Path, tmp_path: Path) -> None:  # noqa: F811
    disk = copy_of(factory, tmp_path / "disk.img")
    console = boot(disk)
    try:
        console.expect("skiffbuild: booting slot A, try 1 of 3", 120)
        console.expect("[  OK  ] Started rauc-mark-good.service", 300)
        console.expect("Enter 'help' for a list of built-in commands.", 60)
        console.expect("# ", 30)
        status, rc = console.run("rauc status", 60)
        assert rc == 0, status
        env, rc = console.run("grub-editenv /boot/grub/grubenv list", 30)
        assert rc == 0, env
        conf, _ = console.run("cat /etc/rauc/system.conf", 30)
        _, rc = console.run("sync; umount /boot", 30)
        assert rc == 0
    finally:
        console.close()
    print("".join(console.transcript)[-6000:])
    assert f"Compatible:  skiffbuild-{WS}" in status or f"skiffbuild-{WS}" in status, status
    assert "Booted from: system.0 (A)" in status, status
    assert "system.0" in status and "system.1" in status and "/dev/vda3" in status, status
    assert "device=/dev/vda2" in conf and "bootname=B" in conf, conf
    assert "A_TRY=0" in env.split(), env
    found = env_list(disk, tmp_path / "env")
    assert (found["ORDER"], found["A_OK"], found["A_TRY"]) == ("A B", "1", "0"), found
