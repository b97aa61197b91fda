"""SSH into the guest: the bundled qemu-x86_64 board, built offline from the test tree with
an ed25519 key in the project's overrides/root_overlay/root/.ssh/authorized_keys, boots
under qemu with user networking, gets 10.0.2.15 by DHCP (systemd-networkd stand-in, from
BR2_SYSTEM_DHCP="eth0" of skiff/base) and runs a real dropbear (the build host's, package
dropbear of the test tree). The host's OpenSSH client logs in as root with the key, passes
stdin through (as `skiffbuild push` sends bundles), is refused with another key, and after
a power cycle on the same disk finds the same host key (kept on the persist partition)."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import PinnedTree, make_doit_project, serve_sources, unless_installed
from console import ConsoleSession

pytestmark = [pytest.mark.slow,
              unless_installed([t for t in ("qemu-system-x86_64", "ssh", "ssh-keygen",
                                            "dropbear") if not shutil.which(t)
                                and not Path("/usr/sbin", t).is_file()])]

WS = "qemu-x86_64"
ALIAS = "skiffbuild-guest"  # known_hosts name of the guest, whatever the forwarded port


@dataclass(frozen=True)
class Built:
    disk: Path  # a copy of the factory image, written by the guest
    key: Path
    other_key: Path
    release: str  # /etc/skiff-release of the target


@dataclass
class Guest:
    built: Built
    port: int
    known_hosts: Path
    console: ConsoleSession

    def ssh(self, *command: str, key: Path | None = None, strict: str = "accept-new",
            data: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            ["ssh", "-F", "/dev/null", "-p", str(self.port), "-i", str(key or self.built.key),
             "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
             "-o", f"UserKnownHostsFile={self.known_hosts}", "-o", f"HostKeyAlias={ALIAS}",
             "-o", f"StrictHostKeyChecking={strict}", "-o", "ConnectTimeout=10",
             "root@127.0.0.1", *command],
            input=data if data is not None else b"", capture_output=True, timeout=timeout,
            check=False)


def keygen(path: Path, comment: str) -> Path:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment,
                    "-f", str(path)], check=True)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree) -> Built:
    base = tmp_path_factory.mktemp("guest-ssh")
    key = keygen(base / "id_ed25519", "skiffbuild test: authorized")
    other = keygen(base / "other_ed25519", "skiffbuild test: not authorized")
    server = serve_sources(base / "site")
    try:
        project = make_doit_project(base / "p", testtree)
        authorized = project.root / "overrides/root_overlay/root/.ssh/authorized_keys"
        authorized.parent.mkdir(parents=True)
        authorized.write_text(Path(f"{key}.pub").read_text())
        project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
        project.doit(f"image:{WS}")
    finally:
        server.stop()
    image = project.root / "workspaces" / WS / "image" / f"{WS}.img"
    disk = base / "disk.img"
    subprocess.run(["cp", "--sparse=always", str(image), str(disk)], check=True)
    releases = sorted(project.root.glob(f"workspaces/{WS}/**/target/etc/skiff-release"))
    assert releases, "no target/etc/skiff-release in the workspace"
    return Built(disk, key, other, releases[0].read_text())


def boot(disk: Path, port: int) -> ConsoleSession:
    return ConsoleSession(["qemu-system-x86_64", "-accel", "tcg", "-m", "768", "-smp", "1",
                           "-nographic", "-monitor", "none", "-no-reboot",
                           "-device", "virtio-rng-pci",
                           "-drive", f"file={disk},format=raw,if=virtio",
                           "-nic", f"user,model=virtio-net-pci,"
                                   f"hostfwd=tcp:127.0.0.1:{port}-:22"])


def wait_for_ssh(guest: Guest, strict: str, timeout: float = 120) -> float:
    """Seconds until `ssh … true` succeeds; an AssertionError with the last error and the
    console's tail after ``timeout``."""
    start = time.monotonic()
    last = None
    while time.monotonic() - start < timeout:
        last = guest.ssh("true", strict=strict, timeout=30)
        if last.returncode == 0:
            return time.monotonic() - start
        time.sleep(2)
    tail = "".join(guest.console.transcript)[-3000:]
    raise AssertionError(f"no ssh after {timeout:.0f} s: "
                         f"{last.stderr.decode(errors='replace') if last else ''}\n{tail}")


def up(guest: Guest, strict: str) -> None:
    guest.console.expect("[  OK  ] Started dropbear.service", 240)
    guest.console.expect("Enter 'help' for a list of built-in commands.", 120)
    waited = wait_for_ssh(guest, strict)
    print(f"ssh answered {waited:.1f} s after the shell prompt "
          f"({time.monotonic() - guest.console.started:.1f} s after qemu started)")


@pytest.fixture(scope="module")
def guest(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guest]:
    port = free_port()
    known_hosts = tmp_path_factory.mktemp("known-hosts") / "known_hosts"
    console = boot(built.disk, port)
    guest = Guest(built, port, known_hosts, console)
    try:
        up(guest, "accept-new")
        yield guest
    finally:
        guest.console.close()


def test_root_logs_in_with_the_overlay_key_and_reads_the_release(guest: Guest) -> None:
    done = guest.ssh("cat", "/etc/skiff-release")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == guest.built.release
    assert "PERSIST_MOUNT=/mnt/persist" in guest.built.release


def test_eth0_got_its_address_by_dhcp(guest: Guest) -> None:
    done = guest.ssh("ip -4 addr show eth0; ip route; cat /etc/systemd/network/eth0.network")
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr
    assert "inet 10.0.2.15/24" in out, out
    assert "default via 10.0.2.2 dev eth0" in out, out
    assert "[Match]\nName=eth0\n[Network]\nDHCP=ipv4\n" in out, out
    line = "systemd-networkd stand-in: eth0: 10.0.2.15/24 via DHCP, gateway 10.0.2.2"
    if line not in "".join(guest.console.transcript):  # not yet read from the console
        guest.console.expect(line, 10)


def test_stdin_is_passed_through(guest: Guest) -> None:
    data = os.urandom(5 * 1024 * 1024)
    done = guest.ssh("sha256sum", data=data, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split()[0] == hashlib.sha256(data).hexdigest()


def test_a_key_not_in_authorized_keys_is_refused(guest: Guest) -> None:
    done = guest.ssh("true", key=guest.built.other_key)
    assert done.returncode == 255
    assert b"Permission denied" in done.stderr, done.stderr


def test_the_host_key_survives_a_power_cycle(guest: Guest) -> None:
    done = guest.ssh("ls /mnt/persist/skiff/dropbear; readlink /etc/dropbear; sync")
    assert done.returncode == 0, done.stderr
    assert b"dropbear_ed25519_host_key" in done.stdout, done.stdout
    assert b"/var/run/dropbear" in done.stdout, done.stdout
    known = guest.known_hosts.read_text()
    guest.console.close()  # poweroff -f on the console, after the sync above
    guest.console = boot(guest.built.disk, guest.port)
    up(guest, "yes")  # StrictHostKeyChecking=yes: a changed host key fails
    assert guest.known_hosts.read_text() == known
    done = guest.ssh("cat /proc/uptime", strict="yes")
    assert done.returncode == 0, done.stderr
    print("".join(guest.console.transcript)[-4000:])
