"""Finding layers: the search path, layer.yaml layers, SkiffOS-layout layers
and the override layers.

A layer is a directory ``<root>/<group>/<name>/``. It is described either by
a ``layer.yaml`` or, as in SkiffOS's ``configs/`` tree, by a ``metadata/``
directory (``dependencies``, ``description``, ``unlisted``, ``commands``) —
so an existing SkiffOS tree can be put on the search path unchanged. Its
parts are found by directory name.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import Problem
from .manifest import load_document
from .model import FRAGMENT_KINDS, Command, Layer
from .project import Project

__all__ = ["LayerIndex", "override_layers", "read_layer", "scan_layers"]

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_PART_DIRS = ("buildroot", "kernel", "uboot", "busybox", "cflags", "root_overlay",
              "buildroot_ext", "buildroot_patches", "kernel_patches", "uboot_patches")


def _byte_sorted(paths: list[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: os.fsencode(p.name))


@dataclass(frozen=True)
class LayerIndex:
    """Every layer on the search path; the first root that has a name wins."""

    layers: dict[str, Layer]
    shadowed: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    # Layers whose own manifest has errors (already reported): not "unknown".
    broken: frozenset[str] = frozenset()

    def get(self, name: str) -> Layer | None:
        return self.layers.get(name)

    def names(self) -> list[str]:
        return sorted(self.layers)


def _read_fragment_dir(directory: Path, project: Project,
                       problems: list[Problem]) -> tuple[Path, ...]:
    files = []
    for entry in _byte_sorted(list(directory.iterdir())):
        if entry.name.startswith("."):
            continue  # dotfiles (.gitkeep, editor backups) are not fragments
        if entry.is_dir():
            problems.append(Problem(project.display(entry), None, None,
                                    "subdirectories are not allowed in a fragment directory"))
            continue
        files.append(entry)
    return tuple(files)


def _cflags(files: tuple[Path, ...]) -> tuple[str, ...]:
    flags = []
    for file in files:
        for line in file.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                flags.append(line)
    return tuple(flags)


def _skiffos_metadata(path: Path, project: Project, problems: list[Problem]) -> dict:
    """Read SkiffOS's ``metadata/`` files into layer fields."""
    meta = path / "metadata"
    fields: dict = {"inputs": []}
    deps_file = meta / "dependencies"
    if deps_file.is_file():
        fields["inputs"].append(deps_file)
        deps, lines = [], []
        for number, line in enumerate(deps_file.read_text().splitlines(), start=1):
            for dep in re.split(r"[,\s]+", line.strip()):
                if not dep:
                    continue
                if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", dep):
                    problems.append(Problem(project.display(deps_file), number, None,
                                            f"malformed layer name '{dep}'"))
                    continue
                deps.append(dep)
                lines.append(number)
        fields["dependencies"] = tuple(deps)
        fields["dependency_lines"] = tuple(lines)
    desc_file = meta / "description"
    if desc_file.is_file():
        fields["inputs"].append(desc_file)
        fields["description"] = " ".join(desc_file.read_text().split())
    fields["unlisted"] = (meta / "unlisted").exists()
    commands_file = meta / "commands"
    if commands_file.is_file():
        fields["inputs"].append(commands_file)
        commands = []
        for line in commands_file.read_text().splitlines():
            name, _, desc = line.strip().partition(" ")
            if name:
                # SkiffOS runs `make <command>` in the layer's extensions/.
                commands.append(Command(name, desc.strip(),
                                        ("make", "-C", str(path / "extensions"), name)))
        fields["commands"] = tuple(commands)
    hooks = path / "hooks"
    # SkiffOS's names are inverted: pre.sh runs at post-build, post.sh at post-image.
    if (hooks / "pre.sh").is_file():
        fields["post_build"] = (hooks / "pre.sh",)
    if (hooks / "post.sh").is_file():
        fields["post_image"] = (hooks / "post.sh",)
    return fields


def _yaml_metadata(path: Path, project: Project, problems: list[Problem]) -> dict | None:
    file = path / "layer.yaml"
    doc, found = load_document(project, file, "layer")
    problems += found
    if doc is None or found:
        return None
    data = doc.data
    fields: dict = {
        "inputs": [file],
        "description": data["description"],
        "dependencies": tuple(data.get("dependencies", ())),
        "dependency_lines": tuple(doc.line(("dependencies", i))
                                  for i in range(len(data.get("dependencies", ())))),
        "unlisted": data.get("unlisted", False),
        "cflags": tuple(data.get("cflags", ())),
    }
    for hook in ("post_build", "post_image"):
        scripts = []
        for index, rel in enumerate(data.get("hooks", {}).get(hook, [])):
            script = path / rel
            if not script.is_file():
                problems.append(doc.problem(("hooks", hook, index), f"hook script {rel} not found"))
            elif not os.access(script, os.X_OK):
                problems.append(doc.problem(("hooks", hook, index),
                                            f"hook script {rel} is not executable"))
            scripts.append(script)
        fields[hook] = tuple(scripts)
    commands = []
    for name, spec in data.get("commands", {}).items():
        argv = tuple(spec["run"])
        if "/" in argv[0] and not (path / argv[0]).is_file():
            problems.append(doc.problem(("commands", name, "run", 0),
                                        f"command script {argv[0]} not found"))
        commands.append(Command(name, spec.get("description", ""), argv))
    fields["commands"] = tuple(commands)
    return fields


def read_layer(path: Path, name: str, origin: Path, project: Project,
               problems: list[Problem], style: str | None = None) -> Layer | None:
    """Read one layer directory; ``style`` "override" skips metadata."""
    if style is None:
        style = "yaml" if (path / "layer.yaml").is_file() else "skiffos"
    if style == "yaml":
        fields = _yaml_metadata(path, project, problems)
        if fields is None:
            return None
    elif style == "skiffos":
        fields = _skiffos_metadata(path, project, problems)
    else:
        # Overrides have no manifest: their hooks are found by name.
        fields = {"inputs": [], "description": "local overrides (git-ignored)"}
        for hook, script in (("post_build", "post-build.sh"), ("post_image", "post-image.sh")):
            if (path / "hooks" / script).is_file():
                fields[hook] = (path / "hooks" / script,)
    fragments = []
    inputs = list(fields.pop("inputs"))
    for kind in (*FRAGMENT_KINDS, "cflags"):
        directory = path / kind
        if directory.is_dir():
            files = _read_fragment_dir(directory, project, problems)
            inputs += files
            if kind == "cflags":
                fields["cflags"] = (*_cflags(files), *fields.get("cflags", ()))
            elif files:
                fragments.append((kind, files))
    optional_dirs = {
        key: path / key if (path / key).is_dir() else None
        for key in ("root_overlay", "buildroot_ext", "buildroot_patches",
                    "kernel_patches", "uboot_patches")
    }
    ext = optional_dirs["buildroot_ext"]
    if ext is not None:
        for required in ("external.desc", "Config.in", "external.mk"):
            if not (ext / required).is_file():
                problems.append(Problem(project.display(ext), None, None,
                                        f"a BR2_EXTERNAL tree needs {required}"))
        # Kconfig text of the external decides the .config; its .mk files do not.
        kconfig = [p for p in ext.rglob("*") if p.is_file()
                   and (p.name.startswith("Config.in") or p.name == "external.desc")]
        inputs += sorted(kconfig)
    return Layer(name=name, path=path, origin=origin, style=style, fragments=tuple(fragments),
                 inputs=tuple(inputs), **optional_dirs, **fields)


def _is_layer_dir(path: Path) -> bool:
    return (path / "layer.yaml").is_file() or any(
        (path / part).is_dir() for part in (*_PART_DIRS, "metadata", "hooks"))


def scan_layers(project: Project) -> tuple[LayerIndex, list[Problem]]:
    """All layers on the search path (``SKIFFBUILD_LAYER_PATH``, then layers/)."""
    layers: dict[str, Layer] = {}
    shadowed: dict[str, list[Path]] = {}
    broken: set[str] = set()
    problems: list[Problem] = []
    for root in project.layer_roots():
        if not root.is_dir():
            if root != project.layers_dir:
                problems.append(Problem(str(root), None, None,
                                        "layer search path entry is not a directory"))
            continue
        for group in _byte_sorted([p for p in root.iterdir() if p.is_dir()]):
            if group.name.startswith(".") or not _NAME.fullmatch(group.name):
                continue
            for directory in _byte_sorted([p for p in group.iterdir() if p.is_dir()]):
                if directory.name.startswith(".") or not _NAME.fullmatch(directory.name):
                    continue
                if not _is_layer_dir(directory):
                    continue
                name = f"{group.name}/{directory.name}"
                if name in layers or name in broken:
                    shadowed.setdefault(name, []).append(directory)
                    continue
                layer = read_layer(directory, name, root, project, problems)
                if layer is None:
                    broken.add(name)
                    shadowed.setdefault(name, [])
                else:
                    layers[name] = layer
    shadows = {k: tuple(v) for k, v in shadowed.items() if v}
    return LayerIndex(layers, shadows, frozenset(broken)), problems


def override_layers(project: Project, workspace: str,
                    problems: list[Problem]) -> tuple[Layer, ...]:
    """overrides/ (all workspaces), then overrides/workspaces/<ws>/, when present."""
    found = []
    for path, name in ((project.overrides_dir, "overrides"),
                       (project.overrides_dir / "workspaces" / workspace,
                        f"overrides/workspaces/{workspace}")):
        if path.is_dir() and _is_layer_dir(path):
            layer = read_layer(path, name, project.overrides_dir, project, problems,
                               style="override")
            if layer is not None:
                found.append(replace(layer, description=f"local overrides ({name}/)"))
    return tuple(found)
