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
from typing import Any

from skiffbuild.core.errors import Problem, closest
from skiffbuild.core.project import Project
from skiffbuild.core.yamlload import read_text_bounded
from skiffbuild.model.manifest import MAX_INPUT_BYTES, confined, file_problem, load_document
from skiffbuild.model.model import FRAGMENT_KINDS, Command, Layer
from skiffbuild.model.skiffos import SkiffosTree, skiffos_home, tree_version

__all__ = ["HOOK_KINDS", "LayerIndex", "override_layers", "read_layer", "scan_layers"]

# layer.yaml hooks: (the build's, Buildroot runs them; the update bundle's, see
# release.updatehooks). Overrides name theirs hooks/post-build.sh, hooks/update-install.sh...
HOOK_KINDS = ("post_build", "post_image", "update_bundle", "update_install")

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_COMMAND = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # as layer.schema.json's commands
_PART_DIRS = ("buildroot", "kernel", "uboot", "busybox", "cflags", "root_overlay",
              "buildroot_ext", "buildroot_patches", "kernel_patches", "uboot_patches", "users")


def _byte_sorted(paths: list[Path]) -> list[Path]:
    return sorted(paths, key=lambda p: os.fsencode(p.name))


@dataclass(frozen=True)
class LayerIndex:
    """Every layer on the search path; the first root that has a name wins."""

    layers: dict[str, Layer]
    shadowed: dict[str, tuple[Path, ...]] = field(default_factory=dict)
    # Layers whose own manifest has errors (already reported): not "unknown".
    broken: frozenset[str] = frozenset()
    # Layer (or group) directories that are symlinks leading out of their root: not read,
    # and an error only for a board that uses them. Name -> the reason.
    refused: dict[str, str] = field(default_factory=dict)
    # The problems found reading each layer (broken or not): a workspace that uses the
    # layer has them, the others do not.
    problems: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
    # Layer roots that are a SkiffOS checkout's configs/: its base layers and version.
    skiffos: dict[Path, SkiffosTree] = field(default_factory=dict)

    def get(self, name: str) -> Layer | None:
        return self.layers.get(name)

    def names(self) -> list[str]:
        return sorted(self.layers)


def _read_fragment_dir(directory: Path, layer: Path, project: Project,
                       problems: list[Problem]) -> tuple[Path, ...]:
    files = []
    for entry in _byte_sorted(list(directory.iterdir())):
        if entry.name.startswith("."):
            continue  # dotfiles (.gitkeep, editor backups) are not fragments
        if entry.is_dir() and not entry.is_symlink():
            problems.append(Problem(project.display(entry), None, None,
                                    "subdirectories are not allowed in a fragment directory"))
            continue
        # Read by config: (and shown in its errors): a host file, FIFO or device must not be.
        bad = file_problem(entry, layer, "the fragment", "its layer")
        if bad:
            problems.append(Problem(project.display(entry), None, None, bad))
            continue
        files.append(entry)
    return tuple(files)


def _read_small(file: Path, project: Project, problems: list[Problem]) -> str:
    """A metadata or cflags file already checked by ``file_problem``; "" if unreadable."""
    try:
        return read_text_bounded(file, MAX_INPUT_BYTES)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        problems.append(Problem(project.display(file), None, None, f"cannot read: {reason}"))
        return ""


# Control characters (a newline would start a new line of buildroot.defconfig: Kconfig
# injection) and make expansions are refused in compiler flags rather than escaped:
# BR2_TARGET_OPTIMIZATION is expanded by make, so "$(shell ...)" would run on the host, and
# no real flag needs either.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def cflag_problem(flag: str) -> str | None:
    """Why a compiler flag cannot go into the generated defconfig; None if it can."""
    if _CONTROL.search(flag):
        return "a compiler flag cannot contain control characters (newline, CR, NUL, ESC...)"
    if "$" in flag or "`" in flag:
        return "a compiler flag cannot contain '$' or '`' (make or the shell would expand it)"
    return None


def _cflags(files: tuple[Path, ...], project: Project,
            problems: list[Problem]) -> tuple[str, ...]:
    flags = []
    for file in files:
        for number, line in enumerate(_read_small(file, project, problems).split("\n"),
                                      start=1):
            line = line.strip(" \t\r")
            if line and not line.startswith("#"):
                bad = cflag_problem(line)
                if bad:
                    problems.append(Problem(project.display(file), number, None, bad))
                else:
                    flags.append(line)
    return tuple(flags)


def _skiffos_metadata(path: Path, project: Project, problems: list[Problem],
                      metadata: bool = True) -> dict[str, Any]:
    """Read SkiffOS's ``metadata/`` files into layer fields (only the hooks for a base
    layer, whose metadata SkiffOS never reads)."""
    meta = path / "metadata"
    fields: dict[str, Any] = {"inputs": []}

    def usable(file: Path, what: str) -> bool:
        if not file.exists() and not file.is_symlink():
            return False
        bad = file_problem(file, path, what, "its layer")
        if bad:
            problems.append(Problem(project.display(file), None, None, bad))
        return bad is None

    if metadata:
        deps_file = meta / "dependencies"
        if usable(deps_file, "the metadata file"):
            fields["inputs"].append(deps_file)
            deps, lines = [], []
            text = _read_small(deps_file, project, problems)
            for number, line in enumerate(text.splitlines(), start=1):
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
        if usable(desc_file, "the metadata file"):
            fields["inputs"].append(desc_file)
            fields["description"] = " ".join(_read_small(desc_file, project, problems).split())
        fields["unlisted"] = (meta / "unlisted").exists()
        commands_file = meta / "commands"
        # As SkiffOS: the commands are make targets of extensions/; without it, none.
        if (path / "extensions").is_dir() and usable(commands_file, "the metadata file"):
            fields["inputs"].append(commands_file)
            commands = []
            text = _read_small(commands_file, project, problems)
            for number, line in enumerate(text.splitlines(), start=1):
                name, _, desc = line.strip().partition(" ")
                if not desc.strip():
                    continue  # SkiffOS skips a command line without a description
                if name and not _COMMAND.fullmatch(name):
                    # It becomes a make argument: "-f/etc/x" or "--eval=..." would be an option.
                    problems.append(Problem(project.display(commands_file), number, None,
                                            "a command name uses letters, digits, '_' and '-'"))
                elif name:
                    # SkiffOS runs `make <command>` in the layer's extensions/.
                    commands.append(Command(name, desc.strip(),
                                            ("make", "-C", str(path / "extensions"), name)))
            fields["commands"] = tuple(commands)
    hooks = path / "hooks"
    # SkiffOS's names are inverted: pre.sh runs at post-build, post.sh at post-image.
    if usable(hooks / "pre.sh", "the hook script"):
        fields["post_build"] = (hooks / "pre.sh",)
    if usable(hooks / "post.sh", "the hook script"):
        fields["post_image"] = (hooks / "post.sh",)
    return fields


def _yaml_metadata(path: Path, project: Project, problems: list[Problem]) -> dict[str, Any] | None:
    file = path / "layer.yaml"
    doc, found = load_document(project, file, "layer")
    problems += found
    if doc is None or found:
        return None
    data = doc.data
    bad_flags = [doc.problem(("cflags", index), bad)
                 for index, flag in enumerate(data.get("cflags", ()))
                 if (bad := cflag_problem(flag))]
    if bad_flags:
        problems += bad_flags
        return None
    fields: dict[str, Any] = {
        "inputs": [file],
        "description": data["description"],
        "dependencies": tuple(data.get("dependencies", ())),
        "dependency_lines": tuple(doc.line(("dependencies", i))
                                  for i in range(len(data.get("dependencies", ())))),
        "unlisted": data.get("unlisted", False),
        "cflags": tuple(data.get("cflags", ())),
    }
    for hook in HOOK_KINDS:
        scripts = []
        for index, rel in enumerate(data.get("hooks", {}).get(hook, [])):
            script, outside = confined(path, rel, "its layer")
            if outside and outside.endswith("through a symlink"):
                outside = None  # said below, naming the script
            bad = outside or file_problem(script, path, f"hook script {rel}", "its layer")
            if bad:
                problems.append(doc.problem(("hooks", hook, index), bad))
            elif not os.access(script, os.X_OK):
                problems.append(doc.problem(("hooks", hook, index),
                                            f"hook script {rel} is not executable"))
            scripts.append(script)
        fields[hook] = tuple(scripts)
    commands = []
    for name, spec in data.get("commands", {}).items():
        argv = tuple(spec["run"])
        # A bare name is looked up on PATH; a path is a script of this layer.
        if "/" in argv[0]:
            script, outside = confined(path, argv[0], "its layer")
            if outside and outside.endswith("through a symlink"):
                outside = None  # said below, naming the script
            bad = outside or file_problem(script, path, f"command script {argv[0]}",
                                          "its layer")
            if bad:
                problems.append(doc.problem(("commands", name, "run", 0), bad))
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
    elif style == "skiffos-base":
        fields = _skiffos_metadata(path, project, problems, metadata=False)
    else:
        # Overrides have no manifest: their hooks are found by name.
        fields = {"inputs": [], "description": "local overrides (git-ignored)"}
        for hook in HOOK_KINDS:
            script = f"{hook.replace('_', '-')}.sh"
            file = path / "hooks" / script
            if file.exists() or file.is_symlink():
                bad = file_problem(file, path, "the hook script", "its layer")
                if not bad and not os.access(file, os.X_OK):
                    bad = "the hook script is not executable"
                if bad:
                    problems.append(Problem(project.display(file), None, None, bad))
                else:
                    fields[hook] = (file,)
    fragments = []
    inputs = list(fields.pop("inputs"))
    for kind in (*FRAGMENT_KINDS, "cflags"):
        directory = path / kind
        if directory.is_dir() and _stays(directory, path, project, problems):
            files = _read_fragment_dir(directory, path, project, problems)
            inputs += files
            if kind == "cflags":
                fields["cflags"] = (*_cflags(files, project, problems), *fields.get("cflags", ()))
            elif files:
                fragments.append((kind, files))
    users = path / "users"  # Buildroot makeusers tables (BR2_ROOTFS_USERS_TABLES)
    if users.is_dir() and _stays(users, path, project, problems):
        fields["users"] = _read_fragment_dir(users, path, project, problems)
        inputs += fields["users"]
    optional_dirs = {
        key: path / key
        if (path / key).is_dir() and _stays(path / key, path, project, problems) else None
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
        kconfig = [p for p in ext.rglob("*")
                   if p.name.startswith("Config.in") or p.name == "external.desc"]
        for file in sorted(kconfig):
            bad = file_problem(file, path, "the file", "its layer")
            if bad and not file.is_dir():
                problems.append(Problem(project.display(file), None, None, bad))
            elif not bad:
                inputs.append(file)
    warnings = _entry_warnings(path, name, style, fields, project)
    return Layer(name=name, path=path, origin=origin, style=style, fragments=tuple(fragments),
                 inputs=tuple(inputs), warnings=warnings,
                 root_overlay=optional_dirs["root_overlay"],
                 buildroot_ext=ext, buildroot_patches=optional_dirs["buildroot_patches"],
                 kernel_patches=optional_dirs["kernel_patches"],
                 uboot_patches=optional_dirs["uboot_patches"], **fields)


# What a layer directory holds besides its parts: SkiffOS's own directories (read by a
# layer's scripts and make, not by skiffbuild) and the override tree's workspaces/.
_OWN_DIRS = ("resources", "extensions", "scripts", "commands")
_HOOK_NAME = re.compile(r"(pre|post)([-_]?(build|image))?(\.sh)?")
_FRAGMENT_SUFFIX = re.compile(r"(.+?)[-_]?(fragments?|configs?|defconfigs?|frags?)")


def _guess(entry: str, known: list[str]) -> str | None:
    """The part ``entry`` was probably meant to be: ``kernel-fragments`` -> ``kernel``."""
    match = _FRAGMENT_SUFFIX.fullmatch(entry.lower())
    if match and match.group(1).replace("-", "_") in FRAGMENT_KINDS:
        return match.group(1).replace("-", "_")
    return closest(entry, known)


def _entry_warnings(path: Path, name: str, style: str, fields: dict[str, Any],
                    project: Project) -> tuple[Problem, ...]:
    """Entries of a layer directory that have no effect: a directory skiffbuild does not
    read (``rootfs_overlay/``), a hook script the layer does not declare. Warnings, with
    the name that was probably meant."""
    known = [*_PART_DIRS, "hooks"]
    files = ["layer.yaml"] if style == "yaml" else []
    own = {*_OWN_DIRS, *(["metadata"] if style in ("skiffos", "skiffos-base") else [])}
    if name == "overrides":
        own.add("workspaces")
    declared = {script for hook in HOOK_KINDS for script in fields.get(hook, ())}
    for command in fields.get("commands", ()):
        if "/" in command.run[0]:
            declared.add(path / command.run[0])
    for script in declared:
        parts = Path(os.path.relpath(script, path)).parts
        if len(parts) > 1 and parts[0] != "..":
            own.add(parts[0])  # a directory of scripts the layer names
    warnings = []
    try:
        entries = _byte_sorted(list(path.iterdir()))
    except OSError:
        return ()
    for entry in entries:
        if entry.name.startswith(".") or entry.name in (*known, *files, *own):
            if entry.name in _PART_DIRS and not entry.is_dir():
                warnings.append(Problem(project.display(entry), None, None,
                                        f"'{entry.name}' is not used: it must be a directory"))
            continue
        guess = _guess(entry.name, [*known, *files])
        if entry.is_dir():
            text = f"unknown layer directory '{entry.name}/' is not used"
            if guess:
                text += f" (did you mean '{guess}/'?)" if guess in known else \
                    f" (did you mean '{guess}'?)"
            else:
                text += (" (a layer's parts are " + ", ".join(f"{d}/" for d in known) +
                         "; files its scripts read belong in resources/)")
            warnings.append(Problem(project.display(entry), None, None, text))
        elif guess:
            wanted = f"{guess}/" if guess in known else guess
            warnings.append(Problem(project.display(entry), None, None,
                                    f"unknown layer file '{entry.name}' is not used "
                                    f"(did you mean '{wanted}'?)"))
    hooks = path / "hooks"
    if hooks.is_dir() and not hooks.is_symlink():
        for entry in _byte_sorted(list(hooks.iterdir())):
            if entry in declared or not _HOOK_NAME.fullmatch(entry.name) or \
                    not entry.is_file():
                continue
            rel = f"hooks/{entry.name}"
            stage = "post_image" if "image" in entry.name or entry.name.startswith("post.") \
                else "post_build"
            if style == "yaml":
                how = (f"not declared in layer.yaml, so it never runs; to run it "
                       f"{'after the image' if stage == 'post_image' else 'after the build'}, "
                       f"add to layer.yaml: hooks: {{{stage}: [{rel}]}}")
            elif style in ("skiffos", "skiffos-base"):
                how = ("not run: a SkiffOS-layout layer runs hooks/pre.sh after the build and "
                       "hooks/post.sh after the image")
            else:
                how = ("not run: an override runs hooks/post-build.sh after the build and "
                       "hooks/post-image.sh after the image")
            warnings.append(Problem(project.display(entry), None, None, f"hook script {how}"))
    return tuple(warnings)


def _stays(directory: Path, layer: Path, project: Project, problems: list[Problem]) -> bool:
    """A part directory (overlay, fragments, patches) that is a symlink out of its layer
    would put host files into the image or the configuration: refused."""
    if os.path.realpath(directory).startswith(os.path.realpath(layer) + os.sep):
        return True
    problems.append(Problem(project.display(directory), None, None,
                            "the directory is a symlink leading outside its layer"))
    return False


def _is_layer_dir(path: Path) -> bool:
    return (path / "layer.yaml").is_file() or any(
        (path / part).is_dir() for part in (*_PART_DIRS, "metadata", "hooks"))


def scan_layers(project: Project) -> tuple[LayerIndex, list[Problem]]:
    """All layers on the search path (``SKIFFBUILD_LAYER_PATH``, then layers/)."""
    layers: dict[str, Layer] = {}
    shadowed: dict[str, list[Path]] = {}
    broken: set[str] = set()
    refused: dict[str, str] = {}
    problems: list[Problem] = []
    per_layer: dict[str, tuple[Problem, ...]] = {}
    skiffos: dict[Path, SkiffosTree] = {}
    for root in project.layer_roots():
        if (root / "configs").is_dir() and (root / "configs-base").is_dir():
            root = root / "configs"  # a SkiffOS checkout: its layers are in configs/
        if not root.is_dir():
            if root != project.layers_dir:
                problems.append(Problem(str(root), None, None,
                                        "layer search path entry is not a directory"))
            continue
        real_root = os.path.realpath(root)
        home = skiffos_home(root)
        if home is not None and root not in skiffos:
            skiffos[root] = _skiffos_tree(home, root, project, problems)
        for group in _byte_sorted([p for p in root.iterdir() if p.is_dir()]):
            if group.name.startswith(".") or not _NAME.fullmatch(group.name):
                continue
            if not _within(group, real_root):
                # A symlink to /etc: neither scanned nor listed (its entries are host names).
                refused[f"{group.name}/*"] = (f"{project.display(group)} is a symlink leading "
                                              "outside its layer root")
                continue
            for directory in _byte_sorted([p for p in group.iterdir() if p.is_dir()]):
                if directory.name.startswith(".") or not _NAME.fullmatch(directory.name):
                    continue
                name = f"{group.name}/{directory.name}"
                if not _within(directory, real_root):
                    refused.setdefault(name, f"{project.display(directory)} is a symlink "
                                             "leading outside its layer root")
                    continue
                if not _is_layer_dir(directory):
                    continue
                if name in layers or name in broken:
                    shadowed.setdefault(name, []).append(directory)
                    continue
                found: list[Problem] = []
                layer = read_layer(directory, name, root, project, found)
                if found:
                    per_layer[name] = tuple(found)
                    problems += found
                if layer is None:
                    broken.add(name)
                    shadowed.setdefault(name, [])
                else:
                    layers[name] = layer
    shadows = {k: tuple(v) for k, v in shadowed.items() if v}
    return (LayerIndex(layers, shadows, frozenset(broken), refused, per_layer, skiffos),
            problems)


def _skiffos_tree(home: Path, root: Path, project: Project,
                  problems: list[Problem]) -> SkiffosTree:
    base = home / "configs-base"
    found = [read_layer(base / part, f"configs-base/{part}", base, project, problems,
                        style="skiffos-base") if (base / part).is_dir() else None
             for part in ("pre", "post")]
    version, commit = tree_version(home)
    return SkiffosTree(home, root, found[0], found[1], version, commit)


def _within(path: Path, real_root: str) -> bool:
    """Whether ``path`` (a group or layer directory, maybe a symlink) stays in its root."""
    return os.path.realpath(path).startswith(real_root + os.sep)


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
