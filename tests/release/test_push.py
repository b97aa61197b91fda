"""skiffbuild push (release.push): addresses, the ssh command line, RAUC's status.
The install itself, over ssh into qemu, is tests/system/test_push.py."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.release.push import Device, parse_status, parse_target, status

# What RAUC 1.8's `rauc status --output-format=json` printed on the qemu-x86_64-ab guest
# right after installing into B (booted A, B first next time).
STATUS = ('{"compatible":"skiffbuild-qemu-x86_64-ab","variant":"","booted":"A",'
          '"boot_primary":"system.1","slots":[{"system.1":{"class":"system",'
          '"device":"/dev/vda3","type":"vfat","bootname":"B","state":"inactive",'
          '"parent":null,"mountpoint":null,"boot_status":"good"}},{"system.0":'
          '{"class":"system","device":"/dev/vda2","type":"vfat","bootname":"A",'
          '"state":"booted","parent":null,"mountpoint":null,"boot_status":"good"}}]}')


@pytest.mark.parametrize("text,user,host", [
    ("root@192.168.1.20", "root", "192.168.1.20"),
    ("device.local", None, "device.local"),
    ("admin@[fe80::1]", "admin", "[fe80::1]"),
    ("root@[fe80::1%eth0]", "root", "[fe80::1%eth0]"),
    ("root@fe80::1", "root", "fe80::1"),
    ("my_device", None, "my_device"),  # an ssh_config alias
])
def test_device_addresses_as_ssh_takes_them(text: str, user: str | None, host: str) -> None:
    device = parse_target(text)
    assert (device.user, device.host) == (user, host)


@pytest.mark.parametrize("text", ["-oProxyCommand=sh", "root@-x", "a b", "root@host;reboot",
                                  "root@host:22", "", "@host", "root@"])
def test_what_is_not_an_address_is_refused(text: str) -> None:
    with pytest.raises(SkiffError) as caught:
        parse_target(text)
    assert caught.value.message == f"not a device address: {text!r}"


def test_options_and_ports_are_checked(tmp_path: Path) -> None:
    with pytest.raises(SkiffError, match="--port 70000: not a TCP port"):
        parse_target("root@h", port=70000)
    with pytest.raises(SkiffError, match="not an ssh option"):
        parse_target("root@h", options=["-F/etc/passwd"])
    with pytest.raises(SkiffError, match="no such file"):
        parse_target("root@h", identity=tmp_path / "nokey")


def test_the_ssh_command_line_never_prompts(tmp_path: Path) -> None:
    key = tmp_path / "id"
    key.write_text("k")
    device = parse_target("root@[::1]", port=2222, identity=key,
                          options=["UserKnownHostsFile=/tmp/kh"])
    assert device.name == "root@[::1]:2222"
    # ssh takes an option's first value: BatchMode cannot be undone, the user's options
    # come before skiffbuild's defaults.
    assert device.argv("rauc status") == [
        "ssh", "-o", "BatchMode=yes", "-p", "2222", "-i", str(key), "-o", "IdentitiesOnly=yes",
        "-o", "UserKnownHostsFile=/tmp/kh", "-o", "ConnectTimeout=10",
        "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=6",
        "--", "root@::1", "rauc status"]
    assert Device("h").argv("true")[-2:] == ["h", "true"]


def test_rauc_status_names_the_booted_and_the_next_slot() -> None:
    status = parse_status(STATUS)
    assert status.compatible == "skiffbuild-qemu-x86_64-ab"
    assert status.booted_slot() == "system.0"
    assert status.primary == "system.1"
    assert status.describe(status.primary) == "B (system.1)"
    assert status.slots["system.0"]["boot_status"] == "good"


def test_an_unreachable_device_is_named(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    device = parse_target("root@127.0.0.1", port=port,
                          options=[f"UserKnownHostsFile={tmp_path / 'kh'}"])
    with pytest.raises(BuildError) as caught:
        status(device)
    assert caught.value.message.startswith(f"cannot reach root@127.0.0.1:{port} over ssh:\n")
    assert "Connection refused" in caught.value.message


@pytest.mark.parametrize("args,message", [
    (["--remote-dir", "tmp"], "error: --remote-dir 'tmp': give an absolute path on the device"),
    (["--timeout", "0"], "error: --timeout 0: give a number of seconds above 0"),
    (["--port", "0"], "error: --port 0: not a TCP port"),
])
def test_push_usage_mistakes_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "skiffbuild", "push", *args, "ws", "root@h"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert (proc.returncode, proc.stderr.strip()) == (2, message)
