"""skiffbuild.progress: one status line per workspace on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from skiffbuild.progress import StatusBoard


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
