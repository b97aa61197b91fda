"""Turning what was changed in a configuration menu into a layer fragment.

``skiffbuild menuconfig`` opens the real menu (Buildroot's ``make menuconfig``,
or ``make linux-menuconfig`` and friends) on the resolved configuration; this
module computes what the menu changed and writes it back where a layered
project keeps configuration: a fragment file in a layer of the workspace's chain
or in ``overrides/``. The fragment is ``<layer>/<kind>/90-menuconfig``; a later
save updates the symbols it names and keeps everything else in the file.

For Buildroot's own configuration the change is reduced to what the user chose:
toggling a package also changes what it selects and what defaults on it, and those
follow by themselves. kconfiglib resolves the generated configuration plus a
candidate set of changes and keeps the smallest set that gives the edited
configuration. For the kernel, U-Boot and BusyBox (whose Kconfig trees are the
packages' own) every changed symbol is kept, as ``merge_config.sh`` users expect.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import kconfiglib

from skiffbuild.core.errors import SkiffError, closest
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.project import Project
from skiffbuild.model.plan import Workspace

__all__ = ["FRAGMENT_NAME", "PACKAGES", "Change", "SaveTarget", "changes", "fragment_text",
           "minimal_changes", "save_target", "write_fragment"]

FRAGMENT_NAME = "90-menuconfig"

# Fragment kind -> (Buildroot package, the symbol that enables it, its make prefix).
PACKAGES: dict[str, tuple[str, str, str]] = {
    "kernel": ("linux", "BR2_LINUX_KERNEL", "LINUX"),
    "busybox": ("busybox", "BR2_PACKAGE_BUSYBOX", "BUSYBOX"),
    "uboot": ("uboot", "BR2_TARGET_UBOOT", "UBOOT"),
}


@dataclass(frozen=True)
class Change:
    symbol: str
    old: str | None  # None: not in the old configuration
    new: str  # "n" for "is not set"

    def line(self) -> str:
        return f"# {self.symbol} is not set" if self.new == "n" else f"{self.symbol}={self.new}"


def changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """Every symbol of ``new`` whose value differs from ``old`` (a symbol that left the
    configuration, because what it depends on went away, is not a choice)."""
    return [Change(sym, old.get(sym), value) for sym, value in sorted(new.items())
            if old.get(sym) != value]


def _resolved(kconf: kconfiglib.Kconfig) -> dict[str, str]:
    values = {}
    for sym in kconf.unique_defined_syms:
        text = sym.config_string.strip()
        if text.startswith("# ") and text.endswith(" is not set"):
            values[sym.name] = "n"
        elif "=" in text:
            values[sym.name] = text.split("=", 1)[1]
    return values


def _user_value(sym: kconfiglib.Symbol, value: str) -> str:
    if sym.orig_type == kconfiglib.STRING and len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def minimal_changes(kconf: kconfiglib.Kconfig, before: Path, after: Mapping[str, str],
                    found: list[Change], *, limit: int = 60) -> list[Change]:
    """The fewest of ``found`` that, set on the configuration in ``before``, resolve to
    ``after``. Falls back to all of them when no subset does (or there are too many
    to try): a longer fragment is still right, a shorter wrong one is not."""
    def resolves(subset: list[Change]) -> bool:
        kconf.load_config(str(before), replace=True)
        for change in subset:
            sym = kconf.syms.get(change.symbol)
            if sym is not None:
                sym.set_value(_user_value(sym, change.new))
        resolved = _resolved(kconf)
        return all(resolved.get(sym) == value for sym, value in after.items()
                   if sym in kconf.syms)

    if not found or len(found) > limit:
        return found
    # What the user can choose in a menu: symbols with a prompt. The rest follow.
    chosen = [c for c in found if any(node.prompt for node in
                                      getattr(kconf.syms.get(c.symbol), "nodes", ()))]
    if not resolves(chosen):
        if not resolves(found):
            return found
        chosen = list(found)
    for change in list(chosen):
        trial = [c for c in chosen if c is not change]
        if resolves(trial):
            chosen = trial
    return chosen


@dataclass(frozen=True)
class SaveTarget:
    name: str  # as the user gave it: a layer of the chain, or overrides[/workspaces/<ws>]
    directory: Path  # the layer's directory

    def fragment(self, kind: str) -> Path:
        return self.directory / kind / FRAGMENT_NAME


def save_target(ws: Workspace, project: Project, name: str) -> SaveTarget:
    """Where ``--save-to NAME`` writes: a layer of the workspace's chain, ``overrides``
    (every workspace) or ``overrides/workspaces/<ws>`` (this one only)."""
    own = f"overrides/workspaces/{ws.name}"
    if name == "overrides":
        return SaveTarget(name, project.overrides_dir)
    if name == own:
        return SaveTarget(name, project.overrides_dir / "workspaces" / ws.name)
    for layer in ws.chain:
        if layer.name == name and not layer.is_override:
            return SaveTarget(name, layer.path)
    names = [layer.name for layer in ws.chain if not layer.is_override]
    guess = closest(name, [*names, "overrides", own])
    raise SkiffError(f"--save-to {name}: not a layer of workspace '{ws.name}'"
                     + (f" (did you mean '{guess}'?)" if guess else ""),
                     hint="its layers: " + ", ".join(names) + f"; or overrides, or {own}")


def fragment_text(existing: str | None, found: list[Change], header: list[str]) -> str:
    """``existing`` with the values of ``found`` replaced in place and the others
    appended; a new file starts with ``header``."""
    lines = existing.splitlines() if existing is not None else [f"# {h}" for h in header]
    pending = {change.symbol: change for change in found}
    pattern = re.compile(r"(?:#\s*)?([A-Za-z0-9_]+)(?:=.*| is not set\s*)")
    for i, line in enumerate(lines):
        match = pattern.fullmatch(line.strip())
        if match and match.group(1) in pending:
            lines[i] = pending.pop(match.group(1)).line()
    lines += [change.line() for change in found if change.symbol in pending]
    return "\n".join(lines) + "\n"


def write_fragment(file: Path, text: str) -> None:
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(file, text)
    except OSError as exc:
        raise SkiffError(f"cannot write {file}: {exc.strerror or exc}") from None
