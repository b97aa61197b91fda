"""Edits made to a workspace's generated Buildroot configuration outside skiffbuild.

``config:<ws>`` writes ``config/buildroot.defconfig`` and has Buildroot turn it
into ``output/.config``. Both are generated; the layers are the source. Buildroot
habit is to run ``make menuconfig`` or ``make savedefconfig`` in the output
directory anyway, and then the next ``config:`` silently replaced the edits
(or ``compile:`` built them once, recorded nowhere). So ``config:`` keeps a copy
of what it generated (``state/generated.config`` and the defconfig's digest);
its up-to-date check fails when either file no longer matches, and ``configure``
then refuses to overwrite an edited configuration: it names the edited symbols
and the two ways on, ``skiffbuild menuconfig <ws> --adopt --save-to <layer>``
(keep them, as a fragment) or ``--discard`` (drop them).

Values are compared symbol by symbol, not byte by byte: Buildroot's own
``syncconfig`` may rewrite ``.config`` with the same values during a build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiffbuild.core.fsutil import atomic_write, sha256_file
from skiffbuild.core.project import WorkspacePaths

__all__ = ["ConfigEdit", "HandEdits", "discard_hand_edits", "generated_config", "generated_intact",
           "hand_edits", "parse_dotconfig", "record_generated"]

_ASSIGN = re.compile(r"([A-Za-z0-9_]+)=(.*)")
_NOT_SET = re.compile(r"# ([A-Za-z0-9_]+) is not set")


def parse_dotconfig(text: str, prefix: str = "BR2_") -> dict[str, str]:
    """``SYMBOL -> value`` of a Kconfig ``.config`` or defconfig (``n`` for "is not set"),
    for the symbols starting with ``prefix``."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = _ASSIGN.fullmatch(line) or _NOT_SET.fullmatch(line)
        if match and match.group(1).startswith(prefix):
            values[match.group(1)] = match.group(2) if match.re is _ASSIGN else "n"
    return values


@dataclass(frozen=True)
class ConfigEdit:
    symbol: str
    generated: str | None  # None: the symbol was not in the file skiffbuild wrote
    now: str | None  # None: it is no longer there

    def __str__(self) -> str:
        def show(value: str | None) -> str:
            return "(absent)" if value is None else "'is not set'" if value == "n" else value
        return f"{self.symbol}: {show(self.generated)} -> {show(self.now)}"


def _edits(generated: dict[str, str], now: dict[str, str],
           symbols: Iterable[str]) -> tuple[ConfigEdit, ...]:
    return tuple(ConfigEdit(sym, generated.get(sym), now.get(sym)) for sym in sorted(symbols)
                 if generated.get(sym) != now.get(sym))


@dataclass(frozen=True)
class HandEdits:
    """What changed in ``output/.config`` and the generated defconfig since config:."""

    dotconfig: tuple[ConfigEdit, ...]  # .config values that differ from the generated ones
    defconfig_replaced: bool  # the generated defconfig's bytes changed (savedefconfig)
    # Values the replacing defconfig states that the generated .config does not have.
    defconfig: tuple[ConfigEdit, ...]

    @property
    def symbols(self) -> dict[str, str | None]:
        """The edited symbols with their new values (None: removed from .config)."""
        found = {edit.symbol: edit.now for edit in self.defconfig}
        found.update({edit.symbol: edit.now for edit in self.dotconfig})
        return found

    def describe(self, workspace: str, paths: WorkspacePaths, display: Any = str) -> str:
        lines = []
        if self.dotconfig:
            lines.append(f"{display(paths.dotconfig)} was edited outside skiffbuild "
                         f"({len(self.dotconfig)} value(s) differ from what config:{workspace} "
                         "generated), e.g. by `make menuconfig`:")
            lines += [f"  {edit}" for edit in self.dotconfig[:20]]
            if len(self.dotconfig) > 20:
                lines.append(f"  ... and {len(self.dotconfig) - 20} more")
        if self.defconfig:
            lines.append(f"{display(paths.defconfig)} was replaced outside skiffbuild "
                         "(e.g. by `make savedefconfig`) and states other values:")
            lines += [f"  {edit}" for edit in self.defconfig[:20]]
        lines.append("They are not in any layer: regenerating the configuration would lose "
                     "them, so it was not regenerated.")
        return "\n".join(lines)

    def hint(self, workspace: str) -> str:
        return (f"keep them as a fragment: skiffbuild menuconfig {workspace} --adopt "
                "--save-to <layer>|overrides\n"
                f"      drop them: skiffbuild menuconfig {workspace} --discard")


def _record_file(paths: WorkspacePaths) -> Path:
    return paths.state / "generated.json"


def generated_config(paths: WorkspacePaths) -> Path:
    """The copy of the ``.config`` config: generated last."""
    return paths.state / "generated.config"


def record_generated(paths: WorkspacePaths) -> None:
    """After config: wrote the defconfig and Buildroot wrote .config: remember both."""
    paths.state.mkdir(parents=True, exist_ok=True)
    atomic_write(generated_config(paths), paths.dotconfig.read_bytes())
    atomic_write(_record_file(paths), json.dumps(
        {"defconfig": sha256_file(paths.defconfig)}, indent=2) + "\n")


def _recorded(paths: WorkspacePaths) -> tuple[dict[str, str], str] | None:
    try:
        record = json.loads(_record_file(paths).read_text())
        generated = parse_dotconfig(generated_config(paths).read_text(errors="replace"))
        return generated, str(record["defconfig"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # never configured by this version: nothing to compare with


def hand_edits(paths: WorkspacePaths) -> HandEdits | None:
    """The edits, or None when there are none (or nothing was recorded, or the files
    are gone: a missing file is regenerated, it holds no edit)."""
    recorded = _recorded(paths)
    if recorded is None:
        return None
    generated, defconfig_digest = recorded
    try:
        now = parse_dotconfig(paths.dotconfig.read_text(errors="replace"))
    except OSError:
        now = generated
    dot = _edits(generated, now, generated.keys() | now.keys())
    replaced = False
    stated: tuple[ConfigEdit, ...] = ()
    try:
        if sha256_file(paths.defconfig) != defconfig_digest:
            replaced = True
            # savedefconfig leaves out defaults: only what the file states can be an edit.
            states = parse_dotconfig(paths.defconfig.read_text(errors="replace"))
            stated = tuple(ConfigEdit(sym, generated.get(sym), value)
                           for sym, value in sorted(states.items())
                           if generated.get(sym, "n") != value and now.get(sym) != value)
    except OSError:
        pass
    if not dot and not replaced:
        return None
    return HandEdits(dot, replaced, stated)


def generated_intact(paths: WorkspacePaths, task: object = None,
                     values: object = None) -> bool:
    """config:<ws>'s up-to-date check: the generated files hold what config: wrote."""
    return hand_edits(paths) is None


def discard_hand_edits(paths: WorkspacePaths) -> HandEdits | None:
    """Remove the edited files so that config: writes them afresh; the edits that were
    dropped, or None when there were none."""
    edits = hand_edits(paths)
    if edits is not None:
        paths.dotconfig.unlink(missing_ok=True)
        paths.defconfig.unlink(missing_ok=True)
    return edits
