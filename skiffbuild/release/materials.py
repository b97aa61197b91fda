"""What a workspace's image is made of, gathered once for its SBOM and provenance.

Everything comes from records skiffbuild already keeps or Buildroot already answers:
``show-info`` (cached on the configuration), the verified source list (the rows of
``skiffbuild sources <ws> --json``), the compile record (``SOURCE_DATE_EPOCH``, overrides,
an external toolchain's digest), the image's SHA256SUMS, the pin and
the layers. Paths are shown relative to the project, the Buildroot tree or the
workspace, so that two copies of a project (repro:'s builds) say the same.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.compile import source_date_epoch
from skiffbuild.buildroot.handedits import parse_dotconfig
from skiffbuild.buildroot.overrides import tree_digest
from skiffbuild.buildroot.showinfo import query_overrides, query_show_info, workspace_sources
from skiffbuild.core.fsutil import atomic_write, sha256_file
from skiffbuild.core.project import Project
from skiffbuild.image.assemble import layer_digests
from skiffbuild.image.published import PROVENANCE_FILE, SBOM_FILE, read_sums
from skiffbuild.model.plan import Workspace
from skiffbuild.release.provenance import statement
from skiffbuild.release.sbom import SbomInputs, sbom_json
from skiffbuild.sources.dlcache import DownloadCache
from skiffbuild.sources.lockfile import approved_sources, lock_path

__all__ = ["config_digest", "documents", "gather", "source_rows", "write_records"]

# The .config symbols that say which toolchain built the image (paths left out).
_TOOLCHAIN = re.compile(r"BR2_TOOLCHAIN_(?:BUILDROOT|EXTERNAL)[A-Z0-9_]*|BR2_GCC_VERSION|"
                        r"BR2_KERNEL_HEADERS_[A-Z0-9_]*")


def config_digest(dotconfig: Path, project: Project) -> str:
    """sha256 of Buildroot's ``.config`` with the project's path replaced by
    ``$(PROJECT)``: Buildroot writes absolute paths into it (the download directory,
    overlays, externals), which differ between two checkouts of the same project."""
    text = dotconfig.read_bytes().replace(os.fsencode(project.root), b"$(PROJECT)")
    return hashlib.sha256(text).hexdigest()


def source_rows(ws: Workspace, project: Project) -> list[dict[str, Any]]:
    """The rows of ``skiffbuild sources <ws> --json``: a file whose .hash files give no
    sha256 gets the one of the cached copy when the cache verified it."""
    cache = DownloadCache.of(project)
    rows = []
    for source in approved_sources(ws, project, workspace_sources(ws, project)):
        row = source.to_json()
        if not any(h["type"] == "sha256" for h in row["hashes"]) \
                and cache.verify(source).state == "ok":
            row["hashes"].append({"type": "sha256", "hash": sha256_file(cache.path(source)),
                                  "from": "verified download"})
        rows.append(row)
    return rows


def _toolchain(dotconfig: Path, compiled: dict[str, Any]) -> dict[str, str]:
    found = {symbol: value.strip('"') for symbol, value in
             parse_dotconfig(dotconfig.read_text(errors="replace")).items()
             if _TOOLCHAIN.fullmatch(symbol) and "PATH" not in symbol
             and value not in ("", '""', "n")}
    external = compiled.get("external_toolchain")
    if isinstance(external, dict) and external.get("digest"):
        found["external.digest"] = str(external["digest"])
    return found


def gather(ws: Workspace, project: Project) -> SbomInputs:
    """The SBOM's inputs for a configured workspace, built or not."""
    tree = checkout.tree_dir(project.cache, ws.pin)
    try:
        compiled: dict[str, Any] = json.loads(ws.paths.compile_record.read_text())
    except (OSError, ValueError):
        compiled = {}
    epoch = int(compiled.get("source_date_epoch") or source_date_epoch(tree))
    sums = None
    if ws.paths.sums.is_file():
        sums = {name: digest for digest, name in read_sums(ws.paths.sums)}
    lock = lock_path(project)
    # Packages built from a local tree, as Buildroot says: the digest of the tree the
    # build used (compile.json), else of the tree as it is now.
    built_trees = compiled.get("overrides") or {}
    overrides: dict[str, str] = {}
    for pkg, tree_dir in sorted(query_overrides(ws, project).items()):
        recorded = built_trees.get(pkg)
        digest = recorded.get("sha256") if isinstance(recorded, dict) else None
        overrides[pkg] = str(digest or tree_digest(Path(tree_dir)))
    return SbomInputs(
        workspace=ws.name,
        show_info=query_show_info(ws, project),
        sources=source_rows(ws, project),
        source_date_epoch=epoch,
        buildroot={"url": ws.pin.url, "commit": ws.pin.commit, "tag": ws.pin.tag,
                   "patch_digest": checkout.patch_digest(ws.pin),
                   "patches": [str(p) for p in ws.pin.patches]},
        layers=layer_digests(ws),
        config_sha256=config_digest(ws.paths.dotconfig, project),
        tree=tree,
        roots=(("workspace:", ws.paths.root), ("", project.root), ("buildroot:", tree)),
        toolchain=_toolchain(ws.paths.dotconfig, compiled),
        overrides=overrides,
        lock_sha256=sha256_file(lock) if lock.is_file() else None,
        image=sums,
    )


def documents(ws: Workspace, project: Project) -> tuple[str, str]:
    """The SBOM and the provenance statement of the workspace, whose subjects are the
    published files and that SBOM."""
    inputs = gather(ws, project)
    text = sbom_json(inputs)
    subjects = {**(inputs.image or {}), SBOM_FILE: hashlib.sha256(text.encode()).hexdigest()}
    return text, statement(inputs, subjects)


def write_records(ws: Workspace, project: Project) -> tuple[Path, Path]:
    """image:<ws>'s last step: the SBOM and the provenance statement beside the image,
    each written whole under its final name."""
    sbom_text, provenance_text = documents(ws, project)
    sbom = ws.paths.image_dir / SBOM_FILE
    atomic_write(sbom, sbom_text)
    provenance = ws.paths.image_dir / PROVENANCE_FILE
    atomic_write(provenance, provenance_text)
    return sbom, provenance
