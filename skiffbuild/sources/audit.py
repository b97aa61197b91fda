"""The hash audit: every source a workspace needs has a hash, checked offline.

Buildroot lets a file that no ``.hash`` file lists through with a warning;
skiffbuild refuses it. Finding that out only when ``sources:<ws>`` reaches the
file, after every other download, wastes a night: so ``skiffbuild check`` and
``sources:<ws>`` run this audit first, from show-info alone, touching no
network.

A file without a hash usually has one elsewhere in the pinned tree: Buildroot
looks for ``<pkg>/<version>/<pkg>.hash`` then ``<pkg>/<pkg>.hash`` in the
package's directory and in each ``BR2_GLOBAL_PATCH_DIR``, and a stale version
directory (2026.02.3 ships ``package/linux-headers/6.12.74`` for headers
6.12.91) hides a hash that ``linux/before-6.17/linux.hash`` holds. The audit
searches the tree's and the externals' ``.hash`` files for the name and says
where the line is, so the fix is a copy, not a guess.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.hashes import parse_hash_file
from skiffbuild.buildroot.kconfig import externals_of
from skiffbuild.buildroot.showinfo import Source, workspace_sources
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.project import Project
from skiffbuild.model.plan import Workspace

__all__ = ["GAP_HINT", "HashGap", "audit", "describe_gaps", "gap_hint", "workspace_gaps"]


def gap_hint(workspaces: Iterable[str]) -> str:
    """What to do about unhashed files of ``workspaces``: approve them once (recorded in
    skiffbuild.lock) first, a hash line second, trusting any bytes last."""
    names = " ".join(workspaces) or "<ws>"
    return (f"review and approve it once: skiffbuild lock --approve-unhashed {names} "
            "(records its sha256 in skiffbuild.lock), or add its hash to a layer's "
            "buildroot_patches/<package>/<package>.hash (Buildroot reads .hash files from "
            "BR2_GLOBAL_PATCH_DIR); sources.allow_unhashed in the board manifest accepts "
            "any bytes")


GAP_HINT = gap_hint(["<ws>"])


@dataclass(frozen=True)
class HashGap:
    """A source no hash file lists, and where the pinned trees list it anyway."""

    source: Source
    elsewhere: tuple[str, ...]  # "<hash file>:<line>: <type> <hex>"

    def __str__(self) -> str:
        s = self.source
        looked = ", ".join(s.hash_files) if s.hash_files else "no .hash file exists for it"
        text = f"{s.relpath} ({', '.join(s.packages)}): no hash (looked in: {looked})"
        for where in self.elsewhere:
            text += f"\n      listed in {where}"
        return text


def _hash_files(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in (".git", "output", "dl"))
        for name in sorted(filenames):
            if name.endswith(".hash"):
                yield Path(dirpath, name)


def _listed_elsewhere(names: set[str], roots: Iterable[tuple[Path, str]]) -> dict[str, list[str]]:
    """For each file name, the hash lines that name it in the trees under ``roots``
    (root, label shown before the relative path)."""
    found: dict[str, list[str]] = {}
    for root, label in roots:
        for path in _hash_files(root):
            try:
                # A cheap pre-filter: most of Buildroot's ~3000 hash files do not
                # mention the name at all.
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if not any(name in text for name in names):
                continue
            shown = f"{label}{path.relative_to(root)}"
            try:
                table = parse_hash_file(path, shown)
            except SkiffError:  # a malformed hash file elsewhere is not this audit's business
                continue
            for name in names:
                for expected in table.get(name, ()):
                    found.setdefault(name, []).append(
                        f"{expected.origin}: {expected.algorithm} {expected.hexdigest}")
    return found


def audit(sources: Iterable[Source], tree: Path,
          externals: Iterable[Path] = ()) -> list[HashGap]:
    """Every source without a hash that is not allowed to be unhashed."""
    missing = [s for s in sources if not s.expected and not s.allow_unhashed]
    if not missing:
        return []
    roots = [(tree, ""), *((Path(e), f"{e}/") for e in externals)]
    elsewhere = _listed_elsewhere({s.file for s in missing}, roots)
    return [HashGap(s, tuple(elsewhere.get(s.file, ()))) for s in missing]


def describe_gaps(workspace: str, gaps: list[HashGap]) -> str:
    """The error text for ``gaps``: every file, then what to do."""
    lines = "\n".join(f"  {gap}" for gap in gaps)
    return (f"{len(gaps)} source file(s) of {workspace} have no hash; "
            f"skiffbuild refuses unhashed downloads (Buildroot only warns):\n{lines}")


def workspace_gaps(ws: Workspace, project: Project,
                   sources: list[Source] | None = None) -> list[HashGap]:
    """The audit of a configured workspace (show-info is cached, so this is cheap
    after the first call for a configuration)."""
    if sources is None:
        sources = workspace_sources(ws, project)
    return audit(sources, checkout.tree_dir(project.cache, ws.pin),
                 map(Path, externals_of(ws.paths.output).values()))
