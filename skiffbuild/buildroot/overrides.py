"""Packages built from local source trees: Buildroot's ``<PKG>_OVERRIDE_SRCDIR``.

The usual way to develop a package under Buildroot is an override file
(``BR2_PACKAGE_OVERRIDE_FILE``, usually ``local.mk``) naming a source tree per
package. Buildroot then rsyncs that tree instead of downloading and patching,
but only once: its stamps say done, and an edit of the tree is not built until
someone runs ``make <pkg>-rebuild``. skiffbuild treats the tree as source code
the build depends on:

- ``sources:<ws>`` does not download the package's archive (show-info still
  lists ``<name>-custom``) and records the tree in ``sources.json``;
- its files are ``compile:<ws>`` inputs (``OverridesUnchanged``), so an edit
  reruns the build, and the
  build first runs ``<pkg>-clean-for-rebuild`` for each tree whose content
  changed since the last successful build (``state/overrides.json``);
- ``build-info.json`` and ``skiffbuild.lock`` carry each tree's digest: an
  image built from a developer's tree says so.

The digest leaves out what Buildroot's rsync leaves out (version control
directories), so a commit in the tree does not count as a change.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skiffbuild.core.fsutil import atomic_write, sha256_file, stat_key
from skiffbuild.model.plan import Workspace

__all__ = ["OverridesUnchanged", "changed_overrides", "override_files", "record_overrides",
           "recorded_overrides", "tree_digest"]

# Buildroot's RSYNC_VCS_EXCLUSIONS.
_VCS = frozenset({".svn", ".git", ".hg", ".bzr", "CVS"})


def override_files(root: Path) -> list[Path]:
    """The files rsync copies from ``root``, sorted (symlinks included, as links)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _VCS)
        for name in (*dirnames, *filenames):
            path = Path(dirpath, name)
            if path.is_symlink() or (name in filenames and name not in _VCS):
                found.append(path)
    return sorted(found)


def tree_digest(root: Path) -> str:
    """sha256 over each file's relative path, executable bit and content (a symlink's
    target): what the package's build can see of the tree."""
    h = hashlib.sha256()
    for path in override_files(root):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            h.update(f"L {rel}\0{os.readlink(path)}\0".encode())
        elif path.is_file():
            mode = "x" if os.access(path, os.X_OK) else "-"
            h.update(f"F {rel}\0{mode}\0{sha256_file(path)}\0".encode())
    return h.hexdigest()


def _fingerprint(ws: Workspace) -> str:
    """Cheap: every file's path and stat identity (size, mtime, ctime, inode), no
    content. A touched file counts as a change here; whether a package really
    needs rebuilding is then decided on content (``changed_overrides``)."""
    h = hashlib.sha256()
    for pkg, root in recorded_overrides(ws).items():
        h.update(f"{pkg}\0{root}\0".encode())
        for path in override_files(root):
            try:
                st = path.lstat()
            except OSError:
                continue
            h.update(f"{path.relative_to(root)}\0{stat_key(st)}\0".encode())
    return h.hexdigest()


class OverridesUnchanged:
    """doit ``uptodate`` of compile:<ws>: the override trees are as the last
    successful run saw them. Evaluated when the task is about to run, i.e. after
    ``sources:<ws>`` has recorded which trees there are (a new or removed
    override also changes what is listed)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.digest: str | None = None

    def configure_task(self, task: Any) -> None:
        task.value_savers.append(lambda: {"_overrides": self.digest})

    def __call__(self, task: Any, values: Mapping[str, Any]) -> bool:
        self.digest = _fingerprint(self.ws)
        return values.get("_overrides") == self.digest

    def __repr__(self) -> str:  # doit info shows it
        return f"OverridesUnchanged({self.ws.name})"


def recorded_overrides(ws: Workspace) -> dict[str, Path]:
    """Package -> source tree, as the last ``sources:<ws>`` recorded them."""
    try:
        data = json.loads(ws.paths.sources.read_text())
    except (OSError, ValueError):
        return {}
    return {pkg: Path(d) for pkg, d in sorted(data.get("overrides", {}).items())}


def _state(ws: Workspace) -> Path:
    return ws.paths.state / "overrides.json"


def _digests(overrides: Mapping[str, Path]) -> dict[str, dict[str, str]]:
    return {pkg: {"dir": str(d), "sha256": tree_digest(d)} for pkg, d in sorted(overrides.items())}


def changed_overrides(ws: Workspace) -> tuple[dict[str, dict[str, str]], list[str]]:
    """The current digests, and the packages built before from a tree whose content
    has changed since (a package new to the list is built from scratch anyway)."""
    current = _digests(recorded_overrides(ws))
    try:
        built = json.loads(_state(ws).read_text())
    except (OSError, ValueError):
        built = {}
    return current, [pkg for pkg, now in current.items() if pkg in built and built[pkg] != now]


def record_overrides(ws: Workspace, current: Mapping[str, Mapping[str, str]]) -> None:
    """After a successful build: these trees are what the output holds."""
    atomic_write(_state(ws), json.dumps(current, indent=1, sort_keys=True) + "\n")
