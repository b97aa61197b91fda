"""Booting a built x86_64 disk image under qemu (TCG) and reading its console.

Used by the try-out and the tests: the disk is attached read-only in effect
(``snapshot=on``), the serial console is captured line by line, and the run
ends when the guest powers off, when every expected line has been seen, or
at the timeout (reference/reproducible-images.md §7: TCG, not KVM, which is
unreliable in nested virtual machines).
"""

from __future__ import annotations

import os
import selectors
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.core.runner import spawn

__all__ = ["BootResult", "boot_disk"]


@dataclass(frozen=True)
class BootResult:
    lines: tuple[str, ...]
    seen: tuple[str, ...]  # the expected markers that appeared
    powered_off: bool
    seconds: float


def boot_disk(image: Path, expect: tuple[str, ...], timeout: float = 180.0,
              echo: Callable[[str], None] | None = None, memory: int = 512) -> BootResult:
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "q35", "-m", str(memory),
            "-smp", "1", "-nographic", "-no-reboot", "-monitor", "none",
            "-drive", f"file={image},format=raw,if=virtio,snapshot=on",
            "-nic", "none"]
    started = time.monotonic()
    proc = spawn(argv, what=f"boot of {image.name}")
    assert proc.stdout is not None
    lines: list[str] = []
    seen: list[str] = []
    buffer = b""
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    try:
        while time.monotonic() - started < timeout:
            if not selector.select(timeout=0.5):
                if proc.poll() is not None:
                    break
                continue
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                break
            buffer += chunk
            *complete, buffer = buffer.split(b"\n")
            for raw in complete:
                line = raw.decode(errors="replace").rstrip("\r")
                lines.append(line)
                if echo:
                    echo(line)
                seen += [m for m in expect if m in line and m not in seen]
            if len(seen) == len(expect) and expect and proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        selector.close()
    return BootResult(tuple(lines), tuple(seen), proc.returncode == 0 and
                      time.monotonic() - started < timeout, time.monotonic() - started)
