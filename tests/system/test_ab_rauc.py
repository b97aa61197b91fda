"""RAUC on the device (issue 15): the qemu-x86_64-ab board's update/rauc layer puts the
build host's rauc (Debian's, with dbus-daemon, grub-editenv and their libraries) and an
/etc/rauc/system.conf made from the board into the target. Booted under qemu from the
factory image, RAUC knows the compatible and both slots, sees slot A booted, and the
boot's rauc-mark-good.service ends GRUB's count for it (A_TRY back to 0). Updates reach
the running device with `skiffbuild push` over ssh (qemu's user network forwards a local
port to the guest's dropbear): installed into B and booted, refused (another key, another
board, an install hook's veto), given up by GRUB (a system that never comes up); a
truncated bundle and a power cut during the install use a second virtual disk."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
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



INSTALL_HOOK = """#!/bin/sh
case "$1" in
install-check)
    if [ -e /mnt/persist/refuse-updates ]; then
        echo "vetoed by the overrides' install hook: /mnt/persist/refuse-updates" >&2
        exit 10
    fi ;;
slot-post-install)
    echo "$RAUC_SLOT_NAME $RAUC_SLOT_BOOTNAME" >> /mnt/persist/installed-by-hook ;;
esac
"""


@dataclass(frozen=True)
class Bundles:
    project: DoitProject  # its update:<ws> bundle is `good`
    key: Path  # the ssh key the images authorise (overrides/root_overlay)
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
    """One project: the factory image, then a bundle per case, each from an edit of it;
    the last one built, `good`, is the workspace's own."""
    base = tmp_path_factory.mktemp("ab-rauc")
    server = serve_sources(base / "site")
    try:
        project = make_doit_project(base / "p", testtree)
        project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
        key = base / "id_ed25519"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "push test",
                        "-f", str(key)], check=True)
        keys = project.root / "overrides/root_overlay/root/.ssh/authorized_keys"
        keys.parent.mkdir(parents=True)
        keys.write_text(Path(f"{key}.pub").read_text())
        keys.parent.chmod(0o700)
        project.doit(f"image:{WS}")
        factory = copy_of(project.root / "workspaces" / WS / "image" / f"{WS}.img",
                          base / "factory.img")
        marker = project.root / "layers/virt/qemu/root_overlay/etc/skiffbuild-release-test"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("version 2\n")
        board = project.root / "manifests" / "boards" / f"{WS}.yaml"
        manifest = board.read_text()
        stranger, cert = make_key(base / "stranger", "a key the device does not trust")
        board.write_text(manifest.replace(
            "update:\n", f"update:\n  signing: {{key: {stranger}, cert: {cert}}}\n"))
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
        board.write_text(manifest)
        # An install hook (overrides/: only update: rebuilds): it vetoes while the data
        # partition says so, and after writing a slot notes it there.
        hook = project.root / "overrides/hooks/update-install.sh"
        hook.parent.mkdir(parents=True, exist_ok=True)
        hook.write_text(INSTALL_HOOK)
        hook.chmod(0o755)
        good = _bundle(project, base / "good.raucb")
    finally:
        server.stop()
    yield Bundles(project, key, factory, good, other_key, other_board, never_good)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Guest:
    """A booted VM: its console, and ssh to it through qemu's user network (port
    forwarded from 127.0.0.1)."""

    console: ConsoleSession
    port: int
    key: Path
    known_hosts: Path

    def push_args(self) -> list[str]:
        return ["--port", str(self.port), "--identity", str(self.key),
                "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "StrictHostKeyChecking=accept-new", "--timeout", "900"]

    def ssh(self, command: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ssh", "-p", str(self.port), "-i", str(self.key), "-o", "BatchMode=yes",
             "-o", "IdentitiesOnly=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
             "-o", "StrictHostKeyChecking=accept-new", "-o", "ConnectTimeout=10",
             "root@127.0.0.1", command], capture_output=True, text=True, timeout=timeout)

    def wait_for_ssh(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ssh("true", 60).returncode == 0:
                return
            time.sleep(2)
        raise AssertionError("ssh did not answer:\n" + "".join(self.console.transcript)[-3000:])


def _boot_with(disk: Path, *extra: Path, port: int | None = None) -> ConsoleSession:
    """The VM with ``extra`` disks; with ``port``, a network whose ssh port 127.0.0.1:port
    forwards to."""
    drives = [arg for bundle in extra
              for arg in ("-drive", f"file={bundle},format=raw,if=virtio,readonly=on")]
    nic = (["-nic", f"user,model=virtio-net-pci,hostfwd=tcp:127.0.0.1:{port}-:22"]
           if port else ["-nic", "none"])
    return ConsoleSession(["qemu-system-x86_64", "-accel", "tcg", "-m", "768", "-smp", "1",
                           "-nographic", "-monitor", "none", *nic, "-device", "virtio-rng-pci",
                           "-drive", f"file={disk},format=raw,if=virtio", *drives])


def _guest(disk: Path, key: Path, *extra: Path) -> Guest:
    port = _free_port()
    return Guest(_boot_with(disk, *extra, port=port), port, key, disk.parent / "known_hosts")


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


def _push(bundles: Bundles, guest: Guest, *args: str) -> subprocess.CompletedProcess[str]:
    return bundles.project.skiffbuild("push", *guest.push_args(), *args, WS, "root@127.0.0.1")


def test_push_installs_an_update_into_slot_b_and_reboot_runs_it(bundles: Bundles,
                                                                tmp_path: Path) -> None:
    """The workspace's bundle (a changed layer file) pushed over ssh to the running
    device: RAUC writes B and switches the order; push --reboot waits for the device and
    reports it running B, marked good; the change is there; the install is recorded."""
    disk = copy_of(bundles.factory, tmp_path / "disk.img")
    guest = _guest(disk, bundles.key)
    try:
        _up(guest.console, "A")
        guest.wait_for_ssh()
        before = guest.ssh("cat /etc/skiffbuild-release-test")
        pushed = _push(bundles, guest, "--reboot")
        after = guest.ssh("cat /etc/skiffbuild-release-test")
        hooked = guest.ssh("cat /mnt/persist/installed-by-hook")
        status = guest.ssh("rauc status")
        guest.ssh("sync; umount /boot")
    finally:
        guest.console.close()
    out = pushed.stdout
    assert pushed.returncode == 0, out + pushed.stderr
    assert "No such file" in before.stderr
    assert after.stdout == "version 2\n"
    assert hooked.stdout == "system.1 B\n"  # the layer's install hook ran, after writing B
    assert "Booted from: system.1 (B)" in status.stdout, status.stdout
    name = bundles.good.name
    info_dir = bundles.project.root / "workspaces" / WS
    record = json.loads((info_dir / "update" / "update-info.json").read_text())
    bundle_name = record["bundle"]
    assert f"push: workspaces/{WS}/update/{bundle_name}: version {record['version']}, " \
        f"{record['size']} bytes (payload {record['payload_size']})" in out, out
    assert f"push: root@127.0.0.1:{guest.port}: compatible skiffbuild-{WS}, running slot A " \
        "(system.0)" in out, out
    assert re.search(r"installed into slot B \(system.1\) in [0-9.]+ s; it boots B next", out), out
    assert f"push: root@127.0.0.1:{guest.port} runs slot B (system.1), marked good" in out, out
    info = json.loads((info_dir / "image" / "build-info.json").read_text())
    install = info["update"]["installs"][-1]
    assert info["update"]["bundle"] == bundle_name != name
    assert install["device"] == f"root@127.0.0.1:{guest.port}"
    assert (install["slot"], install["from_slot"], install["booted_after_reboot"],
            install["marked_good"]) == ("system.1", "system.0", "system.1", True)
    assert install["size"] == record["size"] and install["sha256"] == record["sha256"]
    assert 0 < install["install_seconds"] < 900
    found = env_list(disk, tmp_path / "env")
    assert (found["ORDER"], found["B_OK"], found["B_TRY"]) == ("B A", "1", "0"), found


def test_foreign_truncated_and_other_board_bundles_are_refused_on_the_device(
        bundles: Bundles, tmp_path: Path) -> None:
    """Pushed over ssh: signed by another key, made for another board, vetoed by a
    layer's install hook; delivered on a disk (push sends only whole bundles): truncated.
    RAUC refuses each on the device, push says so (exit 1), the device keeps running A."""
    disk = copy_of(bundles.factory, tmp_path / "disk.img")
    guest = _guest(disk, bundles.key, bundles.good)
    results = {}
    try:
        _up(guest.console, "A")
        guest.wait_for_ssh()
        pushed = {case: _push(bundles, guest, "--no-build", "--bundle", str(bundle))
                  for case, bundle in (("other key", bundles.other_key),
                                       ("other board", bundles.other_board))}
        guest.ssh("touch /mnt/persist/refuse-updates")
        pushed["vetoed"] = _push(bundles, guest, "--no-build")
        results["truncated"] = _install(guest.console, "vdb", bundles.good,
                                        size=bundles.good.stat().st_size // 2)
        status = guest.ssh("rauc status").stdout
        env = guest.ssh("grub-editenv /boot/grub/grubenv list").stdout
        guest.ssh("sync; umount /boot")
    finally:
        guest.console.close()
    for case, proc in pushed.items():
        assert proc.returncode == 1, (case, proc.stdout, proc.stderr)
        assert f"error: the device root@127.0.0.1:{guest.port} refused the update " \
            "(rauc install exit 1)" in proc.stderr, (case, proc.stderr)
        assert "it keeps running slot A (system.0)" in proc.stderr, proc.stderr
    assert "signature" in pushed["other key"].stderr.lower() or \
        "verif" in pushed["other key"].stderr.lower(), pushed["other key"].stderr
    assert "compatible" in pushed["other board"].stderr.lower(), pushed["other board"].stderr
    assert "vetoed by the overrides' install hook: /mnt/persist/refuse-updates" in \
        pushed["vetoed"].stderr, pushed["vetoed"].stderr
    out, rc = results["truncated"]
    assert rc != 0 and "succeeded" not in out, out
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
    """Pushed with --reboot: B never comes up (its kernel panics; panic=5 reboots), GRUB
    gives up after its 3 tries and boots A by itself; push reports the fallback, exit 1."""
    disk = copy_of(bundles.factory, tmp_path / "disk.img")
    guest = _guest(disk, bundles.key)
    try:
        _up(guest.console, "A")
        guest.wait_for_ssh()
        pushed = _push(bundles, guest, "--no-build", "--bundle", str(bundles.never_good),
                       "--reboot")
        status = guest.ssh("rauc status").stdout
        guest.ssh("sync; umount /boot")
    finally:
        guest.console.close()
    transcript = "".join(guest.console.transcript)
    for attempt in (1, 2, 3):
        assert f"skiffbuild: booting slot B, try {attempt} of 3" in transcript
    assert pushed.returncode == 1, pushed.stdout + pushed.stderr
    assert f"push: root@127.0.0.1:{guest.port} came back on slot A (system.0), not B " \
        "(system.1): the bootloader fell back to it (the new slot was not marked good " \
        "within its tries)" in pushed.stdout, pushed.stdout
    assert "Booted from: system.0 (A)" in status, status
