"""``skiffbuild legal-info <ws>``: the licence texts and sources of what the image ships.

Buildroot's own ``make legal-info`` does the collecting (reference: Buildroot manual,
"Legal notice and licensing"): ``manifest.csv`` and ``host-manifest.csv``, each package's
licence files, its source archives and the patches applied, ``buildroot.config``, a README
with its warnings, ``legal-info.sha256``. skiffbuild runs it in the workspace's output
directory under the workspace lock, from the verified download cache only (the primary
site is that cache, nothing else is asked), and publishes the result whole as
``workspaces/<ws>/image/legal-info/``, beside the image it belongs to: a failure leaves
the previous copy as it was.
"""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.buildroot import checkout, treecache
from skiffbuild.buildroot.compile import make_args, source_date_epoch
from skiffbuild.core.errors import BuildError
from skiffbuild.core.project import Project
from skiffbuild.core.records import workspace_locked
from skiffbuild.core.runner import build_environment, run
from skiffbuild.model.plan import Workspace

__all__ = ["LegalInfo", "collect_legal_info"]


@dataclass(frozen=True)
class LegalInfo:
    path: Path  # the published directory
    packages: int  # target packages in manifest.csv
    host_packages: int
    sources_saved: int  # target packages whose sources were saved
    not_redistributable: tuple[str, ...]  # "not saved" sources
    warnings: tuple[str, ...]  # the README's warnings, one line each


def _manifest(path: Path) -> list[dict[str, str]]:
    try:
        return list(csv.DictReader(io.StringIO(path.read_text(errors="replace"))))
    except FileNotFoundError:
        return []


def _warnings(readme: Path) -> tuple[str, ...]:
    """The README's warnings: Buildroot appends one "WARNING: <text>" line each."""
    try:
        text = readme.read_text(errors="replace")
    except FileNotFoundError:
        return ()
    return tuple(line.removeprefix("WARNING: ") for line in text.splitlines()
                 if line.startswith("WARNING: "))


def _publish(made: Path, final: Path) -> None:
    """Move Buildroot's directory into place (no copy of the source archives): the
    previous copy aside first, back if the move fails, removed once the new one is in."""
    old = final.with_name(".legal-info.old")
    if old.exists() and not final.exists():  # a run stopped between the two renames
        old.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        final.rename(old)
    try:
        made.rename(final)
    except OSError:
        if old.exists():
            old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def collect_legal_info(ws: Workspace, project: Project, environ: Mapping[str, str],
                       echo: Callable[[str], None]) -> LegalInfo:
    tree = checkout.tree_dir(project.cache, ws.pin)
    output = ws.paths.output
    if not ws.paths.dotconfig.is_file():
        raise BuildError(f"workspace '{ws.name}' is not configured",
                         hint=f"run: doit config:{ws.name}")
    env = build_environment({"SOURCE_DATE_EPOCH": source_date_epoch(tree),
                             "GIT_CEILING_DIRECTORIES": str(tree.parent)}, base=environ)
    log = ws.paths.logs / "legal-info.log"
    final = ws.paths.image_dir / "legal-info"
    with workspace_locked(f"legal-info:{ws.name}", ws.paths, echo), \
            treecache.using(project.cache, checkout.tree_key(ws.pin)):
        echo(f"legal-info:{ws.name}: make legal-info (log: {project.display(log)})")
        run(["make", "-C", output, *make_args(project, environ), "legal-info"], log=log,
            env=env, what=f"make legal-info for {ws.name}")
        _publish(output / "legal-info", final)
    target = _manifest(final / "manifest.csv")
    host = _manifest(final / "host-manifest.csv")
    kept = tuple(row.get("PACKAGE", "") for row in target
                 if row.get("SOURCE ARCHIVE") == "not saved")
    return LegalInfo(final, len(target), len(host), len(target) - len(kept), kept,
                     _warnings(final / "README"))
