"""A program on a real terminal, driven as a person would: tmux runs it in a pseudo-terminal
of a fixed size, the test reads the rendered screen and types keys."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

__all__ = ["Terminal"]


class Terminal:
    """``argv`` running in a detached tmux session on its own server (its own socket), with
    ``env``; after the program ends the session stays, showing ``[exit N]``."""

    def __init__(self, argv: list[str], *, cwd: Path, env: dict[str, str],
                 width: int = 120, height: int = 40) -> None:
        if shutil.which("tmux") is None:
            pytest.fail("tmux is not installed (scripts/setup installs it)")
        self.socket = f"skiffbuild-test-{uuid.uuid4().hex[:12]}"
        self.env = env
        script = f"{shlex.join(argv)}; echo \"[exit $?]\"; sleep 3600"
        self._tmux("new-session", "-d", "-x", str(width), "-y", str(height), "-c", str(cwd),
                   "sh", "-c", script)

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args],
                              env=self.env, capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        """The visible screen and the scrollback, as text."""
        return self._tmux("capture-pane", "-p", "-J", "-S", "-2000")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > end:
                raise AssertionError(f"terminal: no {text!r} after {timeout:.0f} s; screen:\n"
                                     f"{screen}")
            time.sleep(0.2)

    def keys(self, *keys: str) -> None:
        """tmux key names (``Enter``, ``Escape``) or text typed literally (``-l``)."""
        for key in keys:
            if key in ("Enter", "Escape", "Space", "Up", "Down", "Left", "Right"):
                self._tmux("send-keys", key)
            else:
                self._tmux("send-keys", "-l", key)
            time.sleep(0.3)  # a person's pace: curses reads keys between redraws

    def exit_status(self, timeout: float = 120) -> int:
        screen = self.wait_for("[exit ", timeout)
        return int(screen.rsplit("[exit ", 1)[1].split("]", 1)[0])

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], env=self.env,
                       capture_output=True, check=False)
