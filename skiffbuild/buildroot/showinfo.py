"""What a workspace must download, as the pinned Buildroot itself says.

One ``make -s show-info`` (reference/buildroot.md §3.1) lists every package
of the configuration with its download files, URIs and ``.hash`` files,
packages of the layers' BR2_EXTERNAL trees included; the same make call's
``printvars`` names the packages built from a local tree instead
(``<PKG>_OVERRIDE_SRCDIR``, see ``overrides``), whose listed archive is never
downloaded. The result is cached in the workspace, keyed on the ``.config``,
the tree and the override file, because each call costs several seconds on
real Buildroot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.hashes import Expected, parse_hash_file
from skiffbuild.buildroot.kconfig import externals_of
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import atomic_write, digest_text, sha256_file
from skiffbuild.core.project import Project
from skiffbuild.core.runner import build_environment, run
from skiffbuild.model.plan import Workspace

__all__ = ["Source", "Uri", "parse_show_info", "query_overrides", "query_show_info",
           "override_file_state", "workspace_sources"]


@dataclass(frozen=True)
class Uri:
    """One entry of show-info's ``uris``: ``<backend>[|urlencode]+<base>``."""

    backend: str
    base: str
    urlencode: bool
    text: str  # as show-info wrote it

    @classmethod
    def parse(cls, text: str) -> Uri:
        spec, plus, base = text.partition("+")
        if not plus or "://" in spec:
            # A plain URL (full-URL extra downloads): the backend is its scheme.
            return cls(text.split("://", 1)[0], text.rstrip("/"), False, text)
        backend, _, option = spec.partition("|")
        return cls(backend, base.rstrip("/"), option == "urlencode", text)

    def url_for(self, file: str) -> str:
        return f"{self.base}/{quote(file) if self.urlencode else file}"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Source:
    """One file of Buildroot's download directory."""

    file: str
    dl_dir: str
    packages: tuple[str, ...]
    uris: tuple[Uri, ...]
    expected: tuple[Expected, ...]
    hash_files: tuple[str, ...]
    allow_unhashed: bool = False

    @property
    def relpath(self) -> str:
        return f"{self.dl_dir}/{self.file}"

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "package": self.packages[0],
            "packages": list(self.packages),
            "dl_dir": self.dl_dir,
            "uris": [str(u) for u in self.uris],
            "hashes": [{"type": e.algorithm, "hash": e.hexdigest, "from": e.origin}
                       for e in self.expected],
            "allow_unhashed": self.allow_unhashed,
        }


def _hash_path(tree: Path, name: str) -> Path:
    path = Path(name)
    return path if path.is_absolute() else tree / path


def parse_show_info(info: dict[str, Any], tree: Path, project: Project,
                    allow_unhashed: tuple[str, ...] = (),
                    overrides: Mapping[str, str] | None = None) -> list[Source]:
    """Every download of a show-info document, one entry per file (host and
    target variants of a package share theirs). A package built from an
    override source tree (``overrides``: package -> directory) downloads
    nothing, although show-info still lists a ``<name>-custom`` archive."""
    merged: dict[tuple[str, str], Source] = {}
    for package in sorted(info):
        entry = info[package]
        if entry.get("virtual") or not entry.get("downloads") or package in (overrides or {}):
            continue
        hash_files = tuple(entry.get("hashes") or ())
        tables = []
        for name in hash_files:
            path = _hash_path(tree, name)
            shown = name if not Path(name).is_absolute() else project.display(path)
            tables.append(parse_hash_file(path, shown))
        for download in entry["downloads"]:
            file = download["source"]
            expected = tuple(e for table in tables for e in table.get(file, ()))
            key = (entry["dl_dir"], file)
            uris = tuple(Uri.parse(u) for u in download.get("uris", ()))
            if key in merged:
                old = merged[key]
                merged[key] = Source(
                    file, old.dl_dir, (*old.packages, package),
                    old.uris + tuple(u for u in uris if u not in old.uris),
                    old.expected + tuple(e for e in expected if e not in old.expected),
                    old.hash_files + tuple(h for h in hash_files if h not in old.hash_files),
                    old.allow_unhashed)
            else:
                merged[key] = Source(file, entry["dl_dir"], (package,), uris, expected,
                                     hash_files, file in allow_unhashed)
    return sorted(merged.values(), key=lambda s: (s.dl_dir, s.file))


def _package_of(variable: str, packages: Iterable[str]) -> str | None:
    """``HOST_FOO_BAR_OVERRIDE_SRCDIR`` -> ``host-foo-bar``, when that is one of
    ``packages`` (Buildroot's UPPERCASE turns ``-`` and ``.`` into ``_``)."""
    prefix = variable.removesuffix("_OVERRIDE_SRCDIR")
    for name in packages:
        if name.upper().replace("-", "_").replace(".", "_") == prefix:
            return name
    return None


def _parse_query(text: str) -> tuple[dict[str, Any], dict[str, str]]:
    """show-info's JSON, then printvars' ``<PKG>_OVERRIDE_SRCDIR=<dir>`` lines."""
    info, end = json.JSONDecoder().raw_decode(text.lstrip())
    overrides = {}
    for line in text.lstrip()[end:].splitlines():
        variable, eq, value = line.strip().partition("=")
        if eq and variable.endswith("_OVERRIDE_SRCDIR") and value.strip():
            package = _package_of(variable, info)
            if package is not None:
                overrides[package] = value.strip()
    return info, overrides


def _query(ws: Workspace, project: Project) -> tuple[dict[str, Any], dict[str, str]]:
    """show-info and the package overrides of the configured workspace, from one make
    call (each costs seconds on real Buildroot), cached on its inputs."""
    tree = checkout.tree_dir(project.cache, ws.pin)
    if not ws.paths.dotconfig.is_file():
        raise SkiffError(f"workspace '{ws.name}' is not configured",
                         hint=f"run: doit config:{ws.name}")
    key = digest_text(checkout.tree_key(ws.pin), sha256_file(ws.paths.dotconfig),
                      json.dumps(externals_of(ws.paths.output), sort_keys=True),
                      str(project.dl_dir), *override_file_state(ws))
    cache = ws.paths.config / "show-info.json"
    try:
        saved = json.loads(cache.read_text())
        if saved.get("key") == key:
            return saved["info"], saved["overrides"]
    except (OSError, ValueError, KeyError):
        pass
    env = build_environment({"GIT_CEILING_DIRECTORIES": str(tree.parent)})
    # Site and download-dir settings go on the command line: from the
    # environment they are silently overridden or leak (reference §7).
    # printvars tells which packages Buildroot builds from a local tree
    # (<PKG>_OVERRIDE_SRCDIR); show-info lists a download for them anyway.
    text = run(["make", "-s", "-C", ws.paths.output, f"BR2_DL_DIR={project.dl_dir}",
                "show-info", "printvars", "VARS=%_OVERRIDE_SRCDIR"],
               log=ws.paths.logs / "show-info.log", env=env,
               what=f"Buildroot show-info for {ws.name}", capture=True)
    try:
        info, overrides = _parse_query(text)
    except ValueError as exc:
        raise SkiffError(f"Buildroot's show-info output for {ws.name} is not JSON: {exc}",
                         hint=f"see {ws.paths.logs / 'show-info.log'}") from None
    atomic_write(cache, json.dumps({"key": key, "info": info, "overrides": overrides}) + "\n")
    return info, overrides


def override_file_state(ws: Workspace) -> list[str]:
    """BR2_PACKAGE_OVERRIDE_FILE of ``.config`` (``$(CONFIG_DIR)`` is the output
    directory) and the sha256 of its content ("-" when it does not exist)."""
    path = ws.paths.output / "local.mk"
    for line in ws.paths.dotconfig.read_text(errors="replace").splitlines():
        if line.startswith("BR2_PACKAGE_OVERRIDE_FILE="):
            value = line.partition("=")[2].strip().strip('"')
            path = Path(value.replace("$(CONFIG_DIR)", str(ws.paths.output)))
            break
    return [str(path), sha256_file(path) if path.is_file() else "-"]


def query_show_info(ws: Workspace, project: Project) -> dict[str, Any]:
    """``make -s show-info`` for the configured workspace, cached on its inputs."""
    return _query(ws, project)[0]


def query_overrides(ws: Workspace, project: Project) -> dict[str, str]:
    """Package -> the local source directory Buildroot builds it from."""
    return _query(ws, project)[1]


def workspace_sources(ws: Workspace, project: Project) -> list[Source]:
    tree = checkout.tree_dir(project.cache, ws.pin)
    info, overrides = _query(ws, project)
    return parse_show_info(info, tree, project, ws.board.allow_unhashed, overrides)
