"""Kconfig fragments: parsing, the ordered merge, and rendering.

Fragments merge in layer order, then in byte order of file names; a later
assignment of a symbol replaces the earlier one and moves to the later
position (as Buildroot's ``merge_config.sh -m`` does for CONFIG_ symbols),
so that the last request for a member of a choice is also the last one
Kconfig sees. Every assignment keeps its origin (layer, file, line) for the
merged file's comments and for validation reports.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import Problem
from .model import FRAGMENT_PREFIX
from .yamlload import read_text_bounded

# A fragment is a few KiB of text; layers are checked against this at load
# (skiffbuild.manifest.MAX_INPUT_BYTES), and it is enforced again when read.
MAX_FRAGMENT_BYTES = 1 << 20

__all__ = ["Assignment", "Merged", "Origin", "merge", "parse_fragment", "render"]

_ASSIGN = re.compile(r"([A-Za-z0-9_]+)=(.*)")
_NOT_SET = re.compile(r"#\s*([A-Za-z0-9_]+) is not set\s*")
_VALUE = re.compile(r'[ynm]|-?[0-9]+|0[xX][0-9a-fA-F]+|"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class Origin:
    layer: str
    file: str  # as displayed (relative to the project when inside it)
    line: int | None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{self.layer} ({where})"


@dataclass(frozen=True)
class Assignment:
    symbol: str
    value: str  # as written: y, n, "text", 42, 0x10; "n" for "is not set"
    not_set: bool
    origin: Origin

    def text(self) -> str:
        return f"# {self.symbol} is not set" if self.not_set else f"{self.symbol}={self.value}"


@dataclass(frozen=True)
class Merged:
    kind: str
    final: tuple[Assignment, ...]  # output order
    history: dict[str, tuple[Assignment, ...]]  # every assignment of a symbol, in merge order

    def value_of(self, symbol: str) -> Assignment | None:
        chain = self.history.get(symbol)
        return chain[-1] if chain else None


def _kind_message(kind: str, symbol: str) -> str | None:
    prefix = FRAGMENT_PREFIX[kind]
    if symbol.startswith(prefix):
        return None
    if kind == "buildroot":
        if symbol.startswith("CONFIG_"):
            return (f"{symbol} is a kernel, U-Boot or BusyBox symbol in a Buildroot fragment; "
                    "move it to kernel/, uboot/ or busybox/")
        return f"{symbol} is not a Buildroot symbol (Buildroot symbols start with BR2_)"
    if symbol.startswith("BR2_"):
        return f"{symbol} is a Buildroot symbol in a {kind} fragment; move it to buildroot/"
    return f"{symbol} is not a {kind} symbol ({kind} symbols start with CONFIG_)"


def parse_fragment(path: Path, kind: str, layer: str, display: str,
                   ) -> tuple[list[Assignment], list[Problem]]:
    """Assignments of one fragment file, and a problem for every line that is not one."""
    assignments: list[Assignment] = []
    problems: list[Problem] = []
    try:
        # Non-blocking and bounded: a FIFO or /dev/zero swapped in after load must not hang.
        text = read_text_bounded(path, MAX_FRAGMENT_BYTES)
    except OSError as exc:
        return [], [Problem(display, None, None, f"cannot read fragment: {exc.strerror}")]
    except UnicodeDecodeError:
        return [], [Problem(display, None, None, "cannot read fragment: not UTF-8 text")]
    # Lines are quoted in errors only from a file of the layer itself: a symlink to a host
    # file (/etc/shadow) must not have its content printed.
    quote = _own_file(path)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        not_set = _NOT_SET.fullmatch(line)
        if not_set:
            symbol, value = not_set.group(1), "n"
        elif line.startswith("#"):
            continue
        else:
            match = _ASSIGN.fullmatch(line)
            if not match:
                problems.append(Problem(display, number, None,
                                        f"not a Kconfig assignment: {line!r}" if quote
                                        else "not a Kconfig assignment"))
                continue
            symbol, value = match.group(1), match.group(2)
            if not _VALUE.fullmatch(value):
                shown = f" {value!r}" if quote else ""
                problems.append(Problem(display, number, symbol if quote else None,
                                        f"invalid value{shown} (expected y, n, m, a number "
                                        "or a double-quoted string)"))
                continue
        wrong = _kind_message(kind, symbol)
        if wrong:
            problems.append(Problem(display, number, None,
                                    wrong if quote else f"not a {kind} symbol"))
            continue
        assignments.append(Assignment(symbol, value, bool(not_set), Origin(layer, display, number)))
    return assignments, problems


def _own_file(path: Path) -> bool:
    """Whether ``path`` resolves inside its layer (``<layer>/<kind>/<file>``)."""
    layer = os.path.realpath(path.parent.parent)
    return os.path.realpath(path).startswith(layer + os.sep)


def merge(kind: str, assignments: list[Assignment]) -> Merged:
    """Last assignment wins and takes the later position."""
    history: dict[str, list[Assignment]] = {}
    final: dict[str, Assignment] = {}
    for item in assignments:
        history.setdefault(item.symbol, []).append(item)
        final.pop(item.symbol, None)
        final[item.symbol] = item
    return Merged(kind, tuple(final.values()), {k: tuple(v) for k, v in history.items()})


def render(merged: Merged, header: list[str]) -> str:
    """The merged file: each group of lines preceded by the layer and file that set them."""
    out = [f"# {line}" if line else "#" for line in header]
    current: tuple[str, str] | None = None
    for item in merged.final:
        source = (item.origin.layer, item.origin.file)
        if source != current:
            out.append("")
            out.append(f"# {item.origin.layer}: {item.origin.file}")
            current = source
        earlier = [a for a in merged.history[item.symbol][:-1] if a.value != item.value]
        for old in earlier:
            # No '=' in comments: kconfiglib with an empty CONFIG_ prefix (as Buildroot uses
            # it) would read such a line as an assignment.
            value = "'is not set'" if old.not_set else old.value
            out.append(f"#   (replaces {value} from {old.origin})")
        out.append(item.text())
    return "\n".join(out) + "\n"
