"""``skiffbuild push <ws> <user@host>``: install the workspace's update bundle on a running
device over ssh, with the device's own RAUC.

The steps, each through the host's OpenSSH client (``ssh -o BatchMode=yes``: keys from
the agent, ``~/.ssh/config`` or ``--identity``; never a password prompt):

1. ``rauc status`` on the device: its compatible and the slot it booted;
2. the bundle streamed over ssh's standard input into ``<remote dir>/<name>.part``,
   renamed when complete and checked with ``sha256sum`` on the device (a device that ran
   out of space says so here, not as a RAUC error about a short file);
3. ``rauc install`` (timed): RAUC verifies the signature against the keyring in the
   device's image and the compatible, writes the inactive slot and switches the boot
   order only after a complete write; its refusal is reported in its own words; the
   copy on the device is removed either way;
4. ``rauc status`` again: the slot the device boots next.

With ``--reboot`` the device is rebooted and waited for (a new ``boot_id``), and push
says which slot it runs and waits for it to be marked good; a device that comes back on
the previous slot (the bootloader gave up on the new one) is a failure.

The install (bundle, version, device, slot, seconds) is printed and recorded in the
image's ``build-info.json`` (``update.installs``, see ``release.update.record_install``).
Nothing here decides that a bundle fits a device: the device's RAUC does.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.runner import Completed, capture, quote, run

__all__ = ["Device", "DeviceStatus", "Installed", "install", "parse_status", "parse_target",
           "reboot_and_wait", "status"]

# user@host, host (a name, an ssh_config alias, IPv4), IPv6 bare or in brackets with a
# zone; never an option (a leading '-') or a shell word.
_TARGET = re.compile(r"^(?:(?P<user>[A-Za-z0-9._][A-Za-z0-9._-]*)@)?"
                     r"(?P<host>[A-Za-z0-9_][A-Za-z0-9._-]*|[0-9A-Fa-f]*:[0-9A-Fa-f:.]+"
                     r"|\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?\])$")
# The device's reboot program by path: a BusyBox shell built to prefer its applets (Debian's
# busybox-static, many embedded builds) runs its own `reboot`, which only signals PID 1
# (under systemd that re-executes systemd instead of rebooting). In a session of its own,
# a second later, so that the ssh session ends cleanly first.
_REBOOT = ("r=reboot; for p in /usr/sbin/reboot /sbin/reboot /usr/bin/reboot /bin/reboot; do "
           'if [ -x "$p" ]; then r=$p; break; fi; done; '
           "if command -v setsid >/dev/null 2>&1; then "
           'setsid sh -c "sleep 1; exec $r" </dev/null >/dev/null 2>&1 & '
           'else exec "$r"; fi')
# ssh's own failures (no route, refused, authentication) exit 255.
_SSH_UNREACHABLE = 255


@dataclass(frozen=True)
class Device:
    """How to reach a device: ``ssh [-p port] [-i identity] [-o opt]... [user@]host``."""

    host: str
    user: str | None = None
    port: int | None = None
    identity: Path | None = None
    options: tuple[str, ...] = ()
    connect_timeout: int = 10

    @property
    def name(self) -> str:
        where = f"{self.user}@{self.host}" if self.user else self.host
        return f"{where}:{self.port}" if self.port else where

    def argv(self, command: str) -> list[str]:
        # ssh takes the first value of an option: BatchMode first (never a prompt), then
        # the user's --port, --identity and -o, then skiffbuild's defaults.
        args = ["ssh", "-o", "BatchMode=yes"]
        if self.port:
            args += ["-p", str(self.port)]
        if self.identity:
            args += ["-i", str(self.identity), "-o", "IdentitiesOnly=yes"]
        for option in self.options:
            args += ["-o", option]
        args += ["-o", f"ConnectTimeout={self.connect_timeout}",
                 "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=6"]
        host = self.host.strip("[]")
        return [*args, "--", f"{self.user}@{host}" if self.user else host, command]

    def run(self, command: str, *, timeout: float = 120) -> Completed:
        """``command`` through the device's shell; output kept."""
        return capture(self.argv(command), timeout=timeout, what=f"ssh {self.name}")


def parse_target(text: str, *, port: int | None = None, identity: Path | None = None,
                 options: Sequence[str] = ()) -> Device:
    """``[user@]host`` as ssh takes it (``host:port`` is not ssh's syntax: ``--port``)."""
    if shutil.which("ssh") is None:
        raise SkiffError("push needs ssh (OpenSSH's client) on this machine",
                         hint="Debian: apt-get install openssh-client")
    found = _TARGET.match(text)
    if found is None:
        raise SkiffError(f"not a device address: {text!r}",
                         hint="give [user@]host (e.g. root@192.168.1.20); the port with "
                              "--port")
    if port is not None and not 0 < port < 65536:
        raise SkiffError(f"--port {port}: not a TCP port")
    for option in options:
        if not re.match(r"^[A-Za-z][A-Za-z0-9]*[ =]", option):
            raise SkiffError(f"--ssh-option {option!r}: not an ssh option (Name=value)")
    if identity is not None and not identity.is_file():
        raise SkiffError(f"--identity {identity}: no such file")
    return Device(found.group("host"), found.group("user"), port, identity, tuple(options))


# ------------------------------------------------------------------ the device


@dataclass(frozen=True)
class DeviceStatus:
    """What ``rauc status --output-format=json`` says, reduced to what push reports."""

    compatible: str
    booted: str  # the booted slot's bootname (A, B), as RAUC reads it from the cmdline
    primary: str  # the slot the bootloader tries first next time (system.1)
    slots: dict[str, dict[str, Any]]  # slot name -> its fields (bootname, boot_status...)

    def bootname(self, slot: str) -> str:
        return str(self.slots.get(slot, {}).get("bootname") or slot)

    def booted_slot(self) -> str:
        for name, fields in self.slots.items():
            if fields.get("bootname") == self.booted or name == self.booted:
                return name
        return self.booted

    def describe(self, slot: str) -> str:
        return f"{self.bootname(slot)} ({slot})"


def _failure(device: Device, what: str, result: Completed) -> BuildError:
    if result.status == _SSH_UNREACHABLE:
        said = [ln for ln in result.err.splitlines() if ln.strip()]
        return BuildError(f"cannot reach {device.name} over ssh:\n{quote(said[-5:])}")
    return result.failure(f"{what} on {device.name}")


def parse_status(text: str) -> DeviceStatus:
    try:
        data = json.loads(text)
        slots = {name: dict(fields) for entry in data.get("slots", [])
                 for name, fields in entry.items()}
        return DeviceStatus(str(data.get("compatible", "")), str(data.get("booted", "")),
                            str(data.get("boot_primary") or ""), slots)
    except (ValueError, TypeError, AttributeError):
        raise BuildError(f"rauc status gave no JSON status: {text[:200]!r}") from None


def status(device: Device, *, timeout: float = 60) -> DeviceStatus:
    result = device.run("rauc status --output-format=json", timeout=timeout)
    if not result.ok:
        raise _failure(device, "rauc status", result)
    return parse_status(result.out)


# ------------------------------------------------------------------ installing


@dataclass(frozen=True)
class Installed:
    """One install: where it went and how long RAUC took."""

    slot: str  # the slot the device boots next (RAUC's primary)
    bootname: str
    seconds: float  # rauc install, wall clock
    upload_seconds: float
    before: DeviceStatus
    after: DeviceStatus


def install(device: Device, bundle: Path, digest: str, *, remote_dir: str, log: Path,
            echo: Callable[[str], None]) -> Installed:
    """Send ``bundle`` (sha256 ``digest``) to the device and install it with RAUC."""
    before = status(device)
    echo(f"push: {device.name}: compatible {before.compatible}, running slot "
         f"{before.describe(before.booted_slot())}")
    q = shlex.quote
    # A directory of its own (mktemp -d, mode 0700): no other user of the device can put
    # a symlink where root writes the bundle. Removed if the copy fails or the connection
    # drops; else it prints the path, then sha256sum's line.
    send = (f"set -e; umask 077; d=$(mktemp -d {q(remote_dir.rstrip('/') + '/')}"
            "skiffbuild-push.XXXXXX); trap 'rm -rf \"$d\"' HUP PIPE TERM; "
            "cat > \"$d/bundle.raucb\" || { rm -rf \"$d\"; exit 1; }; echo \"$d\"; "
            "sha256sum \"$d/bundle.raucb\"")
    started = time.monotonic()
    sent = run(device.argv(send), log=log, stdin=bundle, capture=True, umask=None,
               what=f"sending the bundle to {device.name}:{remote_dir}").splitlines()
    uploaded = time.monotonic() - started
    where = sent[0].strip() if sent else ""
    if not where.startswith(remote_dir.rstrip("/") + "/skiffbuild-push."):
        raise BuildError(f"the device {device.name} did not say where the bundle went: "
                         f"{sent[:2]!r}")
    path = f"{where}/bundle.raucb"
    if [line.split()[:1] for line in sent[1:2]] != [[digest]]:
        device.run(f"rm -rf -- {q(where)}", timeout=60)
        raise BuildError(f"the bundle arrived damaged on {device.name}: sha256sum says "
                         f"{sent[1:2]!r}, the bundle is {digest}")
    echo(f"push: sent {bundle.name} ({bundle.stat().st_size} bytes) in {uploaded:.1f} s")
    started = time.monotonic()
    result = device.run(f"rauc install {q(path)}; rc=$?; rm -rf -- {q(where)}; exit $rc",
                        timeout=3600)
    seconds = time.monotonic() - started
    with open(log, "a") as f:
        f.write(f"\n$ rauc install {path}  (exit {result.status}, {seconds:.1f} s)\n"
                f"{result.out}{result.err}")
    if result.status == _SSH_UNREACHABLE:
        raise BuildError(f"the connection to {device.name} was lost during rauc install: "
                         "whether the update was written is unknown",
                         hint=f"look on the device: rauc status (the bundle is in {where})")
    if not result.ok:
        lines = [ln for ln in (result.err + result.out).splitlines() if ln.strip()]
        raise BuildError(f"the device {device.name} refused the update (rauc install exit "
                         f"{result.status}):\n{quote(lines[-12:])}\n"
                         f"it keeps running slot {before.describe(before.booted_slot())}")
    after = status(device)
    slot = after.primary
    return Installed(slot, after.bootname(slot), seconds, uploaded, before, after)


def _boot_id(device: Device) -> str | None:
    try:
        result = device.run("cat /proc/sys/kernel/random/boot_id", timeout=30)
    except BuildError:  # ssh hung past its own timeouts: not up yet
        return None
    return result.out.strip() if result.ok else None


def reboot_and_wait(device: Device, *, timeout: float,
                    echo: Callable[[str], None]) -> DeviceStatus:
    """Reboot the device and wait until it answers again (another boot_id) and RAUC
    has marked the booted slot good, or ``timeout`` seconds pass. Returns its status."""
    old = _boot_id(device)
    if old is None:
        raise BuildError(f"cannot reach {device.name} over ssh to reboot it")
    echo(f"push: rebooting {device.name}")
    asked = device.run(_REBOOT, timeout=30)
    if not asked.ok and asked.status != _SSH_UNREACHABLE:  # 255: it went down first
        raise asked.failure(f"reboot on {device.name}")
    deadline = time.monotonic() + timeout
    seen: DeviceStatus | None = None
    state = "it did not answer over ssh"
    while time.monotonic() < deadline:
        time.sleep(2)
        current = _boot_id(device)
        if current is None:
            state = "it did not answer over ssh"
            continue
        if current == old:
            state = "it was still running the boot it had before (it did not reboot)"
            continue
        try:
            seen = status(device, timeout=30)
        except BuildError as exc:
            state = f"it came back, but rauc status failed: {exc.message.splitlines()[0]}"
            continue
        fields = seen.slots.get(seen.booted_slot(), {})
        if fields.get("boot_status") == "good":
            return seen
    if seen is not None:
        return seen
    raise BuildError(f"{device.name} did not come back within {timeout:g} s after the "
                     f"reboot: {state}")
