"""skiffbuild.progress: one status line per workspace on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from skiffbuild.engine.progress import StatusBoard


def test_plain_stream_gets_one_line_per_change() -> None:
    out = io.StringIO()
    board = StatusBoard(out)
    assert not board.live
    board.status("pi4", "compile:pi4", ">>> busybox 1.37.0 Building")
    board.message("image:qemu-x86_64: partition boot (vfat) 268435456 bytes")
    board.status("pi4", "compile:pi4", ">>> busybox 1.37.0 Installing to target")
    board.clear()
    assert out.getvalue() == (
        "compile:pi4 >>> busybox 1.37.0 Building\n"
        "image:qemu-x86_64: partition boot (vfat) 268435456 bytes\n"
        "compile:pi4 >>> busybox 1.37.0 Installing to target\n")


def test_terminal_keeps_one_redrawn_line_per_workspace() -> None:
    out = io.StringIO()
    board = StatusBoard(out, live=True)
    board.status("pi4", "compile:pi4", ">>> busybox 1.37.0 Building")
    board.status("qemu-x86_64", "compile:qemu-x86_64", ">>> linux 6.12 Extracting")
    board.status("pi4", "compile:pi4", ">>> dropbear 2026.91 Building")
    board.message(".  image:qemu-x86_64")
    # What the terminal shows after those escapes: replay them on a tiny screen model.
    screen = _render(out.getvalue())
    assert screen == [
        ".  image:qemu-x86_64",
        "pi4          compile:pi4 >>> dropbear 2026.91 Building  0:00",
        "qemu-x86_64  compile:qemu-x86_64 >>> linux 6.12 Extracting  0:00",
    ]
    board.clear()
    assert _render(out.getvalue()) == [".  image:qemu-x86_64"]


def _render(stream: str) -> list[str]:
    """Lines on screen for text using only newline, ESC[nF (n lines up) and ESC[J."""
    lines: list[str] = []
    row = 0
    i = 0
    current = ""
    while i < len(stream):
        if stream.startswith("\x1b[", i):
            end = i + 2
            while not stream[end].isalpha():
                end += 1
            code, arg = stream[end], stream[i + 2:end]
            if code == "F":
                row -= int(arg)
                current = ""
            elif code == "J":
                del lines[row:]
            i = end + 1
            continue
        char = stream[i]
        if char == "\n":
            lines[row:row + 1] = [current]
            row += 1
            current = ""
        else:
            current += char
        i += 1
    return lines


DODO = '''
import time
from skiffbuild.core.settings import process_settings
from skiffbuild.engine.budget import CpuBudget
from skiffbuild.engine.progress import board, reporter_for

SETTINGS = process_settings()
DOIT_CONFIG = {"reporter": reporter_for(SETTINGS, CpuBudget(SETTINGS)), "verbosity": 2,
               "dep_file": "state.db",
               "backend": "sqlite3", "par_type": "thread"}


def _work(ws):
    def action():
        for step in range(3):
            board().status(ws, f"compile:{ws}", f">>> pkg 1.0 step {step}")
            time.sleep(0.05)
    return action


def task_compile():
    for ws in ("alpha", "b"):
        yield {"name": ws, "actions": [_work(ws)], "uptodate": [False]}
'''


def _run_doit(where: Path, tty: bool, *options: str) -> str:
    (where / "dodo.py").write_text(DODO)
    env = {**os.environ, "TERM": "xterm"}
    argv = [sys.executable, "-m", "doit", "-n", "2", *options, "compile"]
    if not tty:
        return subprocess.run(argv, cwd=where, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, check=True).stdout
    main, child = pty.openpty()
    proc = subprocess.Popen(argv, cwd=where, env=env, stdin=child, stdout=child, stderr=child)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # EIO: the child side is closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait()
    os.close(main)
    assert proc.returncode == 0
    return b"".join(chunks).decode().replace("\r", "")


def test_doit_on_a_terminal_shows_a_line_per_workspace_then_clears_it(tmp_path: Path) -> None:
    raw = _run_doit(tmp_path, tty=True)
    assert sorted(_render(raw)) == [".  compile:alpha", ".  compile:b"]
    # While running, both workspaces had their own line, padded to the same column.
    assert "alpha  compile:alpha >>> pkg 1.0 step 2" in raw
    assert "b      compile:b >>> pkg 1.0 step 2" in raw


def test_doit_in_a_log_prints_plain_prefixed_lines(tmp_path: Path) -> None:
    lines = _run_doit(tmp_path, tty=False).splitlines()
    assert "\x1b" not in "".join(lines)
    for ws in ("alpha", "b"):
        assert f".  compile:{ws}" in lines
        assert [line for line in lines if line.startswith(f"compile:{ws} ")] == [
            f"compile:{ws} >>> pkg 1.0 step {n}" for n in range(3)]


def test_worker_processes_print_plain_lines_even_on_a_terminal(tmp_path: Path) -> None:
    raw = _run_doit(tmp_path, True, "-P", "process")
    assert "\x1b" not in raw
    assert "compile:alpha >>> pkg 1.0 step 2\n" in raw
    assert "compile:b >>> pkg 1.0 step 2\n" in raw
