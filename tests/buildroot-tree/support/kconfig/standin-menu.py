#!/usr/bin/env python3
"""The test tree's stand-in for a package's configuration menu (linux-menuconfig,
busybox-menuconfig, uboot-menuconfig).

The stand-in kernel, BusyBox and U-Boot have no Kconfig tree, so there is no
menu to draw. This keeps the interface of one: it runs in the foreground on the
terminal, shows the package's .config, and edits it in place. Each line read is
`SYMBOL=value` or `# SYMBOL is not set` (replacing that symbol's line, or
appended); an empty line saves and exits, `q` exits without saving.

  standin-menu.py <package build dir>/.config
"""

from __future__ import annotations

import os
import re
import sys

LINE = re.compile(r"(?:# )?([A-Za-z0-9_]+)(?:=.*| is not set)")


def main(path: str) -> int:
    with open(path) as f:
        lines = f.read().splitlines()
    print(f"--- {path} (stand-in menu: SYMBOL=value lines; empty line saves, q quits)")
    for line in lines:
        print(line)
    while True:
        try:
            text = input("> ").strip()
        except EOFError:
            text = ""
        if text == "q":
            print("not saved")
            return 0
        if not text:
            break
        match = LINE.fullmatch(text)
        if not match:
            print(f"not a setting: {text}")
            continue
        symbol = match.group(1)
        for i, line in enumerate(lines):
            found = LINE.fullmatch(line)
            if found and found.group(1) == symbol:
                lines[i] = text
                break
        else:
            lines.append(text)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    print(f"configuration saved to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
