"""A SkiffOS checkout used as it is: its implicit base layers, its chain order, its
variables.

A layer root on ``SKIFFBUILD_LAYER_PATH`` is a SkiffOS tree when it is the
``configs/`` directory of a SkiffOS checkout (or the checkout itself): beside it
lies ``configs-base/`` with the implicit layers ``pre`` (merged before every chain)
and ``post`` (after everything). A workspace whose layers come from such a tree
gets what SkiffOS's own configure gives it:

- ``configs-base/pre`` first and ``configs-base/post`` last, around the chain, the
  board's fragments and the overrides. Their ``metadata/`` is not read, as SkiffOS
  does not read it (``pre`` names a dependency ``skiff/standard`` that does not exist).
- The chain in SkiffOS's order (``skiffos_order``): each missing dependency is
  inserted right before the layer that needs it, a layer already in the list never
  moves, repeated until nothing is missing. This is not a dependency sort: a layer the
  user listed after its dependent stays there. A board chooses with
  ``layer_order: skiffos | depth-first``; the default is ``skiffos`` for a board whose
  layers come from a SkiffOS tree (the same chain, so the same configuration, as
  SkiffOS builds from the same list) and ``depth-first`` otherwise (every dependency
  before its dependent).
- ``SKIFF_*`` variables for hooks and layer commands (``skiff_environment``), with
  every directory inside the workspace: SkiffOS's workspace is Buildroot's output
  directory, so ``SKIFF_BUILDROOT_DIR`` and friends are ``workspaces/<ws>/output``.
- ``REPLACEME_SKIFF_VERSION`` and ``REPLACEME_SKIFF_VERSION_COMMIT`` in fragments
  become the SkiffOS tree's ``git describe --tags`` and short commit (``unknown``
  outside git, as in SkiffOS). ``post``'s ``REPLACEME_*`` paths name files of
  SkiffOS's own layout; skiffbuild's wiring sets those symbols itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.core.runner import git
from skiffbuild.model.model import Layer

__all__ = ["PLACEHOLDER_SYMBOLS", "SkiffosTree", "skiff_environment",
           "skiffos_home", "skiffos_order", "substitute_placeholders", "tree_version"]

# Symbols configs-base/post sets to REPLACEME_* paths of SkiffOS's own layout
# (.config_<ws>/pre_build.sh, ...). skiffbuild's wiring sets each of them to the same
# list of the chain's parts (its own file names), so post's values are left out.
PLACEHOLDER_SYMBOLS = frozenset({
    "BR2_DEFCONFIG", "BR2_GLOBAL_PATCH_DIR", "BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES",
    "BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES", "BR2_TARGET_UBOOT_PATCH",
    "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES", "BR2_LINUX_KERNEL_PATCH", "BR2_ROOTFS_OVERLAY",
    "BR2_ROOTFS_POST_IMAGE_SCRIPT", "BR2_ROOTFS_POST_BUILD_SCRIPT", "BR2_ROOTFS_USERS_TABLES",
})


@dataclass(frozen=True)
class SkiffosTree:
    home: Path  # the SkiffOS checkout: configs/, configs-base/, scripts/, resources/
    configs: Path  # the layer root
    pre: Layer | None
    post: Layer | None
    version: str  # git describe --tags, "unknown" outside git
    commit: str  # git rev-parse --short HEAD, "unknown" outside git


def skiffos_home(root: Path) -> Path | None:
    """The SkiffOS checkout whose ``configs/`` is ``root``, or None."""
    base = root.parent / "configs-base"
    if root.name == "configs" and base.is_dir() and not base.is_symlink() and any(
            (base / part).is_dir() for part in ("pre", "post")):
        return root.parent
    return None


def tree_version(home: Path) -> tuple[str, str]:
    """SkiffOS's SKIFF_VERSION and SKIFF_VERSION_COMMIT for the checkout at ``home``."""
    if not (home / ".git").exists():
        return "unknown", "unknown"
    described = git(home, "describe", "--tags", check=False)
    commit = git(home, "rev-parse", "--short", "HEAD", check=False)
    return ((described.out.strip() or "unknown") if described.status == 0 else "unknown",
            (commit.out.strip() or "unknown") if commit.status == 0 else "unknown")


def skiffos_order(requested: Sequence[str],
                  dependencies: Callable[[str], Sequence[str] | None]) -> list[str]:
    """The chain SkiffOS's ``enumerate_configs.sh`` resolves from ``requested``.

    Each pass walks the list: a name already placed is skipped (first wins); before a
    layer, each dependency that is not anywhere in the list being walked is inserted;
    then the layer. Passes repeat while something was inserted. ``dependencies``
    returns None for an unknown layer (kept, to be reported by the caller)."""
    current = list(requested)
    while True:
        placed: list[str] = []
        inserted = False
        for name in current:
            if name in placed:
                continue
            for dep in dependencies(name) or ():
                if dep not in current:
                    placed.append(dep)
                    inserted = True
            placed.append(name)
        current = placed
        if not inserted:
            return list(dict.fromkeys(current))


_VAR_PART = re.compile(r"[^A-Z0-9_]")


def _layer_variable(name: str) -> str:
    group, _, rest = name.upper().partition("/")
    return "SKIFF_CONFIG_PATH_" + _VAR_PART.sub("_", f"{group}_{rest}")


def skiff_environment(tree: SkiffosTree, workspace: str, output: Path, config: Path,
                      project_root: Path, chain: Sequence[Layer]) -> dict[str, str]:
    """The ``SKIFF_*`` variables SkiffOS gives hooks and layer commands, with its
    workspace directory being Buildroot's output directory of the workspace."""
    layers = [la for la in chain if la.style == "skiffos"]
    env = {
        "SKIFF_ROOT_DIR": str(tree.home), "ROOT_DIR": str(tree.home),
        "SKIFF_CONFIGS_DIR": str(tree.configs),
        "SKIFF_BASE_CONFIGS_DIR": str(tree.home / "configs-base"),
        "SKIFF_SCRIPTS_DIR": str(tree.home / "scripts"),
        "SKIFF_RESOURCES_DIR": str(tree.home / "resources"),
        "SKIFF_WORKSPACES_DIR": str(project_root / "workspaces"),
        "SKIFF_OVERRIDES_DIR": str(project_root / "overrides"),
        "SKIFF_WORKSPACE": workspace,
        "WORKSPACE_DIR": str(output), "BUILDROOT_DIR": str(output),
        "SKIFF_BUILDROOT_DIR": str(output), "SKIFF_WORKSPACE_DIR": str(output),
        "SKIFF_FINAL_CONFIG_DIR": str(config),
        "SKIFF_CONFIG": ",".join(la.name for la in layers),
        "SKIFF_CONFIG_PATH": " ".join(str(la.path) for la in layers),
        "SKIFF_VERSION": tree.version, "SKIFF_VERSION_COMMIT": tree.commit,
    }
    for layer in layers:
        env[_layer_variable(layer.name)] = str(layer.path)
    return env


def substitute_placeholders(value: str, tree: SkiffosTree) -> str:
    """``value`` with SkiffOS's version placeholders replaced."""
    return (value.replace("REPLACEME_SKIFF_VERSION_COMMIT", tree.commit)
            .replace("REPLACEME_SKIFF_VERSION", tree.version))
