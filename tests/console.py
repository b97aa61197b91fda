"""Log in on a qemu guest's serial console and run shell commands, as a person at the console
would (plain pipes, no pexpect): the real-Buildroot tier's boot test uses it."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ConsoleSession", "qemu_disk_argv"]


def qemu_disk_argv(image: Path, memory: int = 256) -> list[str]:
    """Boot a raw disk image (syslinux on it) under TCG with the serial console on stdio;
    the image is not written (snapshot)."""
    return ["qemu-system-x86_64", "-accel", "tcg", "-m", str(memory), "-smp", "1",
            "-nographic", "-no-reboot", "-monitor", "none", "-nic", "none",
            "-drive", f"file={image},format=raw,snapshot=on"]


@dataclass
class ConsoleSession:
    """qemu with its console on a pipe, read all the time by a thread: a guest whose
    output nobody waits for (while the test runs ssh, say) must not stall on a full pipe."""

    argv: list[str]
    transcript: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT)
        self._buf = b""
        self._eof = False
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.started = time.monotonic()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._eof = True
                    self._cond.notify_all()
                    return
                self.transcript.append(data.decode(errors="replace"))
                self._buf += data
                self._cond.notify_all()

    def expect(self, token: str, timeout: float) -> str:
        """Everything up to ``token``; an AssertionError with the console's tail at the
        timeout or when qemu ends first."""
        want = token.encode()
        end = time.monotonic() + timeout
        with self._cond:
            while want not in self._buf:
                left = end - time.monotonic()
                if left <= 0 or self._eof:
                    tail = b"".join(self._buf.splitlines(keepends=True)[-30:])
                    raise AssertionError(
                        f"console: no {token!r} after {timeout:.0f} s:\n"
                        f"{''.join(self.transcript)[-3000:]}{tail.decode(errors='replace')}")
                self._cond.wait(timeout=min(left, 0.5))
            before, _, self._buf = self._buf.partition(want)
        return before.decode(errors="replace")

    def send(self, line: str) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(line.encode() + b"\n")
        self._proc.stdin.flush()

    def login(self, user: str = "root", timeout: float = 180) -> None:
        self.expect("login:", timeout)
        self.send(user)
        self.expect("# ", 30)

    def run(self, command: str, timeout: float = 30) -> tuple[str, int]:
        """The command's output (without the echoed command line) and exit status."""
        self.send(f"echo '@@@ start'; {command}; echo \"@@@ rc=$?\"")
        self.expect("@@@ start\r\n", timeout)
        out = self.expect("@@@ rc=", timeout)
        status = self.expect("\n", timeout).strip()
        self.expect("# ", timeout)
        return out.replace("\r\n", "\n"), int(status)

    def kill(self) -> None:
        """Stop qemu at once: a guest with no shell to power it off (a boot loader)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._reader.join(timeout=10)

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self.send("poweroff -f")
                self._proc.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait()
        self._reader.join(timeout=10)
