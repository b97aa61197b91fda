"""RAUC on the device (issue 15): the qemu-x86_64-ab board's update/rauc layer puts the
build host's rauc (Debian's, with dbus-daemon, grub-editenv and their libraries) and an
/etc/rauc/system.conf made from the board into the target. Booted under qemu from the
factory image, RAUC knows the compatible and both slots, sees slot A booted, and the
boot's rauc-mark-good.service ends GRUB's count for it (A_TRY back to 0)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, make_doit_project, serve_sources, unless_installed
from console import ConsoleSession
from keys import make_key
from test_ab_boot import WS, boot, copy_of, env_list, factory, pytestmark  # noqa: F401

pytestmark = [*pytestmark, unless_installed([] if shutil.which("rauc") else ["rauc"])]


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



@dataclass(frozen=True)
class Bundles:
    factory: Path  # the image every device starts from (version 1)
    good: Path  # a changed layer file (version 2)
    other_key: Path  # signed by a key the device does not trust
    other_board: Path  # another compatible
    never_good: Path  # its system never comes up (a broken initramfs)


def _bundle(project: DoitProject, dest: Path) -> Path:
    project.doit(f"update:{WS}")
    directory = project.root / "workspaces" / WS / "update"
    name = str(json.loads((directory / "update-info.json").read_text())["bundle"])
    return Path(shutil.copyfile(directory / name, dest))


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree) -> Iterator[Bundles]:
    """One project: the factory image, then a bundle per case, each from an edit of it."""
    base = tmp_path_factory.mktemp("ab-rauc")
    server = serve_sources(base / "site")
    try:
        project = make_doit_project(base / "p", testtree)
        project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
        project.doit(f"image:{WS}")
        factory = copy_of(project.root / "workspaces" / WS / "image" / f"{WS}.img",
                          base / "factory.img")
        marker = project.root / "layers/virt/qemu/root_overlay/etc/skiffbuild-release-test"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("version 2\n")
        good = _bundle(project, base / "good.raucb")
        board = project.root / "manifests" / "boards" / f"{WS}.yaml"
        manifest = board.read_text()
        key, cert = make_key(base / "stranger", "a key the device does not trust")
        board.write_text(manifest.replace(
            "update:\n", f"update:\n  signing: {{key: {key}, cert: {cert}}}\n"))
        other_key = _bundle(project, base / "other-key.raucb")
        board.write_text(manifest.replace("update:\n",
                                          "update:\n  compatible: skiffbuild-other-board\n"))
        other_board = _bundle(project, base / "other-board.raucb")
        broken = project.root / "layers/test/broken"
        (broken / "hooks").mkdir(parents=True)
        (broken / "layer.yaml").write_text(
            "format: 1\ndescription: an initramfs the kernel cannot unpack\n"
            "hooks: {post_image: [hooks/post-image.sh]}\n")
        (broken / "hooks/post-image.sh").write_text(
            "#!/bin/sh\nprintf 'not an initramfs' > \"$BINARIES_DIR/rootfs.cpio.gz\"\n")
        (broken / "hooks/post-image.sh").chmod(0o755)
        board.write_text(manifest.replace("layers: [virt/qemu, update/rauc]",
                                          "layers: [virt/qemu, update/rauc, test/broken]"))
        never_good = _bundle(project, base / "never-good.raucb")
    finally:
        server.stop()
    yield Bundles(factory, good, other_key, other_board, never_good)


def _boot_with(disk: Path, *extra: Path) -> ConsoleSession:
    drives = [arg for bundle in extra
              for arg in ("-drive", f"file={bundle},format=raw,if=virtio,readonly=on")]
    return ConsoleSession(["qemu-system-x86_64", "-accel", "tcg", "-m", "768", "-smp", "1",
                           "-nographic", "-monitor", "none", "-nic", "none",
                           "-drive", f"file={disk},format=raw,if=virtio", *drives])


def _up(console: ConsoleSession, slot: str) -> None:
    console.expect(f"skiffbuild: booting slot {slot}, try 1 of 3", 240)
    console.expect("[  OK  ] Started rauc-mark-good.service", 300)
    console.expect("Enter 'help' for a list of built-in commands.", 60)
    console.expect("# ", 30)


def _install(console: ConsoleSession, drive: str, bundle: Path, *, size: int | None = None,
             timeout: float = 600) -> tuple[str, int]:
    """Copy a bundle from a second disk of the VM and install it with RAUC."""
    length = bundle.stat().st_size if size is None else size
    return console.run(f"head -c {length} /dev/{drive} > /tmp/update.raucb && "
                       "rauc install /tmp/update.raucb", timeout)


def test_an_update_is_installed_into_slot_b_and_booted(bundles: Bundles,
                                                       tmp_path: Path) -> None:
    """A bundle with a changed layer file, installed by RAUC on the running device: slot B
    is written, the boot order switched, and after a reboot the device runs B with the
    change and marks it good. (Delivered on a second disk; `skiffbuild push` over ssh is
    still to come.)"""
    disk = copy_of(bundles.factory, tmp_path / "disk.img")
    console = _boot_with(disk, bundles.good)
    try:
        _up(console, "A")
        before, _ = console.run("cat /etc/skiffbuild-release-test", 30)
        out, rc = _install(console, "vdb", bundles.good)
        assert rc == 0, out
        env, _ = console.run("grub-editenv /boot/grub/grubenv list", 30)
        console.send("sync; umount /boot; reboot -f")
        _up(console, "B")
        after, _ = console.run("cat /etc/skiffbuild-release-test", 30)
        status, _ = console.run("rauc status", 60)
        console.run("sync; umount /boot", 30)
    finally:
        console.close()
    assert "No such file" in before
    assert "Installing `/tmp/update.raucb` succeeded" in out, out
    assert "ORDER=B A" in env.split("\n"), env
    assert after.strip() == "version 2"
    assert "Booted from: system.1 (B)" in status, status
    found = env_list(disk, tmp_path / "env")
    assert (found["ORDER"], found["B_OK"], found["B_TRY"]) == ("B A", "1", "0"), found


def test_foreign_truncated_and_other_board_bundles_are_refused_on_the_device(
        bundles: Bundles, tmp_path: Path) -> None:
    disk = copy_of(bundles.factory, tmp_path / "disk.img")
    console = _boot_with(disk, bundles.other_key, bundles.other_board, bundles.good)
    results = {}
    try:
        _up(console, "A")
        results["other key"] = _install(console, "vdb", bundles.other_key)
        results["other board"] = _install(console, "vdc", bundles.other_board)
        results["truncated"] = _install(console, "vdd", bundles.good,
                                        size=bundles.good.stat().st_size // 2)
        status, _ = console.run("rauc status", 60)
        env, _ = console.run("grub-editenv /boot/grub/grubenv list", 30)
        console.run("sync; umount /boot", 30)
    finally:
        console.close()
    for case, (out, rc) in results.items():
        assert rc != 0, (case, out)
        assert "succeeded" not in out, (case, out)
    assert "signature" in results["other key"][0].lower() or \
        "verif" in results["other key"][0].lower(), results["other key"][0]
    assert "compatible" in results["other board"][0].lower(), results["other board"][0]
    assert "Booted from: system.0 (A)" in status, status
    assert "ORDER=A B" in env.split("\n"), env


def test_a_device_killed_during_the_install_boots_the_old_slot(bundles: Bundles,
                                                               tmp_path: Path) -> None:
    disk = copy_of(bundles.factory, tmp_path / "disk.img")
    console = _boot_with(disk, bundles.good)
    try:
        _up(console, "A")
        size = bundles.good.stat().st_size
        console.send(f"head -c {size} /dev/vdb > /tmp/update.raucb && "
                     "rauc install /tmp/update.raucb")
        console.expect("Copying image to system.1", 300)
    finally:
        console._proc.kill()  # the power cut, in the middle of writing slot B
        console._proc.wait()
    console = _boot_with(disk)
    try:
        _up(console, "A")
        status, _ = console.run("rauc status", 60)
        console.run("sync; umount /boot", 30)
    finally:
        console.close()
    assert "Booted from: system.0 (A)" in status, status
    assert env_list(disk, tmp_path / "env")["ORDER"] == "A B"


def test_an_update_that_never_comes_up_falls_back_to_the_old_slot(bundles: Bundles,
                                                                  tmp_path: Path) -> None:
    disk = copy_of(bundles.factory, tmp_path / "disk.img")
    console = _boot_with(disk, bundles.never_good)
    try:
        _up(console, "A")
        out, rc = _install(console, "vdb", bundles.never_good)
        assert rc == 0, out
        console.send("sync; umount /boot; reboot -f")
        for attempt in (1, 2, 3):  # each boot of B panics; panic=5 reboots into GRUB
            console.expect(f"skiffbuild: booting slot B, try {attempt} of 3", 300)
        console.expect("skiffbuild: booting slot A", 300)
        console.expect("[  OK  ] Started rauc-mark-good.service", 300)
        console.expect("Enter 'help' for a list of built-in commands.", 60)
        console.expect("# ", 30)
        status, _ = console.run("rauc status", 60)
        console.run("sync; umount /boot", 30)
    finally:
        console.close()
    assert "Booted from: system.0 (A)" in status, status
