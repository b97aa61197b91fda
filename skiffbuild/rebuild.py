"""Deciding what Buildroot cannot apply incrementally.

Buildroot never rebuilds a package whose configuration changed, never
removes a dropped package's files, and gives wrong results after an
architecture or toolchain change (Buildroot manual, "Understanding when a
full rebuild is necessary"). Comparing the ``.config`` of the last
successful build with the new one, symbol by symbol, and looking up where
each changed symbol is defined in the pinned tree's Kconfig, gives:

- a full rebuild: architecture (``arch/``), toolchain (``toolchain/``),
  init system or skeleton changes, or a package that was removed;
- a per-package ``<pkg>-dirclean``: sub-options of a package that stays
  enabled (its ``package/<pkg>/Config.in*``, or ``linux/``, ``boot/<pkg>/``);
- nothing: new packages, overlays, scripts, filesystem options, and the like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import kconfiglib

__all__ = ["RebuildPlan", "parse_dotconfig", "plan_rebuild"]

_FULL_SYSTEM = ("BR2_INIT_", "BR2_ROOTFS_SKELETON", "BR2_ROOTFS_MERGED_USR",
                "BR2_ROOTFS_DEVICE_CREATION", "BR2_TARGET_OPTIMIZATION", "BR2_SHARED_",
                "BR2_STATIC_LIBS", "BR2_OPTIMIZE_", "BR2_ENABLE_DEBUG", "BR2_ENABLE_LTO",
                "BR2_SSP_", "BR2_FORTIFY_", "BR2_RELRO_", "BR2_PIC_PIE")


@dataclass(frozen=True)
class RebuildPlan:
    full: bool = False
    packages: tuple[str, ...] = ()  # to dirclean
    reasons: tuple[str, ...] = field(default=())

    @property
    def incremental(self) -> bool:
        return not self.full and not self.packages


def parse_dotconfig(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        match = re.fullmatch(r"(BR2_[A-Za-z0-9_]+)=(.*)", line)
        if match:
            values[match.group(1)] = match.group(2)
            continue
        match = re.fullmatch(r"# (BR2_[A-Za-z0-9_]+) is not set", line)
        if match:
            values[match.group(1)] = "n"
    return values


def _owner(filename: str, tree: Path, externals: dict[str, str]) -> str | None:
    """The package whose Kconfig file defines a symbol, from the file's path."""
    path = filename
    for root in externals.values():
        if path.startswith(root.rstrip("/") + "/"):
            path = path[len(root.rstrip("/")) + 1:]
            break
    else:
        if path.startswith(str(tree) + "/"):
            path = path[len(str(tree)) + 1:]
    parts = path.split("/")
    if parts[0] == "package" and len(parts) >= 3:
        return parts[1]
    if parts[0] == "linux":
        return "linux"
    if parts[0] == "boot" and len(parts) >= 3:
        return parts[1]
    return None


def plan_rebuild(old: dict[str, str], new: dict[str, str], kconf: kconfiglib.Kconfig,
                 tree: Path, externals: dict[str, str], built: set[str]) -> RebuildPlan:
    """What the change from ``old`` to ``new`` needs; ``built`` are show-info package names."""
    reasons: list[str] = []
    dirclean: set[str] = set()
    full = False
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name, "n"), new.get(name, "n")
        if before == after:
            continue
        sym = kconf.syms.get(name)
        files = [node.filename for node in sym.nodes] if sym is not None else []
        top = {f.split("/")[0] for f in files if not f.startswith("/")}
        if top & {"arch", "toolchain"} or name.startswith(_FULL_SYSTEM):
            full = True
            what = "architecture" if "arch" in top else "toolchain/system"
            reasons.append(f"{name} {before} -> {after}: {what} change")
            continue
        owner = next((o for f in files if (o := _owner(f, tree, externals))), None)
        if owner is None:
            continue
        main = f"BR2_PACKAGE_{owner.upper().replace('-', '_')}"
        host_main = f"BR2_PACKAGE_HOST_{owner.upper().replace('-', '_')}"
        if name in (main, host_main):
            if before == "y" and after == "n":
                full = True
                reasons.append(f"{name} y -> n: package removed (Buildroot leaves its files "
                               "in the target)")
            continue
        variant = f"host-{owner}" if name.startswith(host_main + "_") else owner
        if variant in built:
            dirclean.add(variant)
            reasons.append(f"{name} {before} -> {after}: option of {variant}")
    if full:
        return RebuildPlan(True, (), tuple(reasons))
    return RebuildPlan(False, tuple(sorted(dirclean)), tuple(reasons))
