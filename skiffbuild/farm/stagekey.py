"""The stage cache's key: a sha256 over what can change what compile:<ws> builds.

The pinned tree (commit and patch series); the ``.config`` and every file of the layers,
fragments and hooks the task depends on, and the layers' symlinks; the sha256 of every
source file as the cache holds it verified (its bytes, also for a file allowed
unhashed); extra make arguments; an external toolchain's digest; the build host's tool
versions; skiffbuild's own code digest. Paths are made machine-independent: the
project's root becomes ``$(PROJECT)`` and a layer root outside it ``$(LAYER:<name>)``,
in file names, in file contents (``.config`` holds absolute paths) and in link targets,
so that checkouts of the same commit anywhere agree. A workspace that builds a package
from a local tree (an override) is never cached.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.compile import compile_inputs, compile_links
from skiffbuild.buildroot.toolchain import content_digest, external_toolchain, host_tool_versions
from skiffbuild.core.codedigest import code_digest
from skiffbuild.core.project import Project
from skiffbuild.core.runner import build_environment
from skiffbuild.core.settings import ENV_MAKE_ARGS
from skiffbuild.model.plan import Workspace
from skiffbuild.sources.download import verified_digests

__all__ = ["SCHEMA", "stage_key"]

SCHEMA = 1


def _roots(ws: Workspace, project: Project) -> list[tuple[str, str]]:
    """(absolute path, its stand-in), longest first: a layer inside another root is
    replaced before that root."""
    roots = {str(project.root): "$(PROJECT)"}
    for layer in ws.chain:
        path = str(layer.path)
        if not (path + "/").startswith(str(project.root) + "/"):
            roots.setdefault(path, f"$(LAYER:{layer.name})")
    return sorted(roots.items(), key=lambda item: -len(item[0]))


def _plain(text: str, roots: list[tuple[str, str]]) -> str:
    for path, shown in roots:
        text = text.replace(path, shown)
    return text


def _content(path: Path, roots: list[tuple[str, str]]) -> str:
    data = path.read_bytes()
    for root, shown in roots:
        data = data.replace(root.encode(), shown.encode())
    return hashlib.sha256(data).hexdigest()


def stage_key(ws: Workspace, project: Project, environ: Mapping[str, str]
              ) -> tuple[str | None, dict[str, Any] | str]:
    """(key, its inputs), or (None, why ``ws`` is not cached)."""
    try:
        recorded = json.loads(ws.paths.sources.read_text())
    except (OSError, ValueError):
        return None, "its sources are not verified yet"
    if recorded.get("overrides"):
        return None, ("it builds packages from local trees "
                      f"({', '.join(sorted(recorded['overrides']))})")
    sources = verified_digests(ws, project)
    if sources is None:
        return None, "a source file is not verified in the cache (run sources:<ws>)"
    roots = _roots(ws, project)
    files = {_plain(str(path), roots): _content(path, roots)
             for path in compile_inputs(ws) if path != ws.paths.sources}
    links = {_plain(path, roots): _plain(target, roots)
             for path, target in compile_links(ws).items()}
    env = build_environment({}, base=environ)
    tree = checkout.tree_dir(project.cache, ws.pin)
    toolchain = external_toolchain(ws.paths.dotconfig.read_text(errors="replace"), tree,
                                   ws.paths.output, env)
    inputs = {
        "schema": SCHEMA, "stage": "compile", "code": code_digest(),
        "buildroot": {"commit": ws.pin.commit, "patch_digest": checkout.patch_digest(ws.pin)},
        "files": dict(sorted(files.items())), "links": dict(sorted(links.items())),
        "sources": dict(sorted(sources.items())), "make_args": environ.get(ENV_MAKE_ARGS, ""),
        "toolchain": content_digest(toolchain.path)[0]
        if toolchain is not None and toolchain.path is not None and toolchain.path.is_dir()
        else None,
        # Host tools build host packages and run in hooks: workers of one pool share an
        # image; a worker with other versions computes other keys (a miss, never a wrong hit).
        "host_tools": host_tool_versions(env),
    }
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), inputs
