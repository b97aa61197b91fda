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

A new Buildroot tree (another pinned commit or patch series) is worse: no
symbol changes, yet package recipes, patches and versions do, and Buildroot's
stamps still say done. ``plan_tree_change`` maps the files that differ
between the two trees to what must be rebuilt: a full rebuild when something
every package depends on changed (``Makefile``, ``arch/``, ``toolchain/``,
``support/``, ``system/``, ``fs/``, ``package/pkg-*.mk``, or a package of the
toolchain itself), else a ``<pkg>-dirclean`` of each built package whose
directory changed (``package/<pkg>/``, ``linux/``, ``boot/<pkg>/``, or a file
the configuration names, such as a board's patch or firmware file).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kconfiglib

from skiffbuild.buildroot.handedits import parse_dotconfig

__all__ = ["RebuildPlan", "TreeChange", "parse_dotconfig", "plan_rebuild", "plan_tree_change"]

_FULL_SYSTEM = ("BR2_INIT_", "BR2_ROOTFS_SKELETON", "BR2_ROOTFS_MERGED_USR",
                "BR2_ROOTFS_DEVICE_CREATION", "BR2_TARGET_OPTIMIZATION", "BR2_SHARED_",
                "BR2_STATIC_LIBS", "BR2_OPTIMIZE_", "BR2_ENABLE_DEBUG", "BR2_ENABLE_LTO",
                "BR2_SSP_", "BR2_FORTIFY_", "BR2_RELRO_", "BR2_PIC_PIE")


@dataclass(frozen=True)
class RebuildPlan:
    full: bool = False
    packages: tuple[str, ...] = ()  # to dirclean
    reasons: tuple[str, ...] = field(default=())


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


# Top-level directories every package depends on (the brief of issue 10).
_GLOBAL_DIRS = ("arch", "toolchain", "support", "system", "fs")
# Never read by a build: documentation, developer tools, Buildroot's own defconfigs
# (a configuration that uses one gets its values through .config, compared above).
_INERT_DIRS = ("docs", "utils", "configs")
# Packages that are the toolchain: everything else is compiled with them.
_TOOLCHAIN = re.compile(r"^(host-)?(toolchain(-.+)?|gcc(-.+)?|binutils|glibc|musl|uclibc"
                        r"|linux-headers)$")


@dataclass(frozen=True)
class TreeChange:
    """What moving ``output/`` to another Buildroot tree needs."""

    full: tuple[str, ...] = ()  # what changed that needs a full rebuild
    rebuild: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (what changed, packages)
    inert: tuple[str, ...] = ()  # what changed that needs nothing

    @property
    def packages(self) -> tuple[str, ...]:
        return tuple(sorted({pkg for _what, pkgs in self.rebuild for pkg in pkgs}))


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _symbol_owner(symbol: str, built: Iterable[str]) -> str | None:
    """The built package a symbol configures, by Buildroot's naming (longest wins)."""
    owners = []
    for name in built:
        upper = name.removeprefix("host-").upper().replace("-", "_")
        host = name.startswith("host-")
        prefixes = ([f"BR2_PACKAGE_HOST_{upper}_"] if host else
                    [f"BR2_PACKAGE_{upper}_", f"BR2_TARGET_{upper}_"])
        if name == "linux":
            prefixes.append("BR2_LINUX_KERNEL_")
        if any(symbol.startswith(p) for p in prefixes):
            owners.append(name)
    return max(owners, key=len, default=None)


def _named_by_config(path: str, config: Mapping[str, str], tree: Path,
                     built: set[str]) -> list[str]:
    """Built packages that use a tree file the configuration names (a board's kernel
    patch in ``BR2_GLOBAL_PATCH_DIR``, a firmware ``config.txt``, ...)."""
    found = []
    for symbol, value in config.items():
        for word in _unquote(value).split():
            word = word.replace("$(TOPDIR)/", "").removeprefix(f"{tree}/").rstrip("/")
            if not word or not (path == word or path.startswith(word + "/")):
                continue
            if symbol == "BR2_GLOBAL_PATCH_DIR" and path != word:
                pkg = path[len(word) + 1:].split("/")[0]
                found += [n for n in (pkg, f"host-{pkg}") if n in built]
            elif (owner := _symbol_owner(symbol, built)) is not None:
                found.append(owner)
    return sorted(set(found))


def _by_package_dir(path: str, info: Mapping[str, Any], mk_dirs: set[str]) -> tuple[
        str | None, list[str], bool]:
    """(the changed package directory, the built packages in it, known): the package
    directory holding ``path`` (its nearest ancestor with a ``.mk``), and every built
    package whose ``package_dir`` is it or below it (``package/gcc/`` holds
    gcc-initial and gcc-final)."""
    dirs = {name: str(entry.get("package_dir") or "") for name, entry in info.items()}
    exact = [d for d in dirs.values() if d and path.startswith(d + "/")]
    if exact:
        unit = max(exact, key=len)
        return unit, sorted(n for n, d in dirs.items() if d == unit), True
    parts = path.split("/")[:-1]
    shortest = 1 if parts[0] == "linux" else 2  # package/<pkg>, boot/<pkg>, but linux/
    while len(parts) > shortest and "/".join(parts) not in mk_dirs:
        parts.pop()
    if len(parts) < shortest or "/".join(parts) not in mk_dirs:
        return None, [], False
    unit = "/".join(parts)
    if path.rsplit("/", 1)[-1].startswith("Config.in"):
        return unit, [], True  # a menu of the directory's packages: .config says the rest
    return unit, sorted(n for n, d in dirs.items() if d == unit or d.startswith(unit + "/")), True


def plan_tree_change(changed: Iterable[str], every: Iterable[str], info: Mapping[str, Any],
                     config: Mapping[str, str], tree: Path) -> TreeChange:
    """What the files ``changed`` between two trees need rebuilt; ``every`` lists both
    trees' files, ``info`` is show-info of the build (its packages and their
    directories), ``config`` its ``.config``."""
    built = set(info)
    mk_dirs = {path.rsplit("/", 1)[0] for path in every if path.endswith(".mk") and "/" in path}
    full: dict[str, None] = {}
    rebuild: dict[str, set[str]] = {}
    inert: dict[str, None] = {}
    for path in sorted(changed):
        top, _, rest = path.partition("/")
        if not rest:  # a file at the top: the Makefile counts, Config.in and texts do not
            (full if top.startswith("Makefile") or top.endswith(".mk") else inert)[top] = None
            continue
        if top in _GLOBAL_DIRS:
            full[f"{top}/"] = None
            continue
        if top in ("package", "linux", "boot"):
            unit, packages, known = _by_package_dir(path, info, mk_dirs)
            if not known:  # package/pkg-generic.mk and other infrastructure
                (inert if path.rsplit("/", 1)[-1].startswith("Config.in") else full)[path] = None
            elif packages:
                rebuild.setdefault(str(unit), set()).update(packages)
            else:
                inert[f"{unit} (not in this build)" if unit else path] = None
            continue
        if top == "board" or top in _INERT_DIRS or top.startswith("."):
            packages = _named_by_config(path, config, tree, built)
            if packages:
                rebuild.setdefault(path, set()).update(packages)
            else:
                inert[f"{top}/"] = None
            continue
        full[f"{top}/"] = None  # unknown to this version of skiffbuild: assume the worst
    for what, names in rebuild.items():
        core = sorted(p for p in names if _TOOLCHAIN.match(p))
        if core:
            full[f"{what} ({', '.join(core)}: the toolchain)"] = None
    if full:
        return TreeChange(full=tuple(full), inert=tuple(inert))
    return TreeChange(rebuild=tuple((what, tuple(sorted(pkgs)))
                                    for what, pkgs in sorted(rebuild.items())),
                      inert=tuple(inert))
