"""The planner: from the loaded model to one immutable plan per workspace.

Layer order: dependencies before dependents, the user's order kept where it
does not conflict, duplicates removed (first wins), cycles reported with the
cycle. After the chain come the board's own fragments, then overrides/ and
overrides/workspaces/<ws>/.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiffbuild.core.codedigest import code_digest
from skiffbuild.core.errors import Problem, ProblemsError, closest
from skiffbuild.core.project import Project, WorkspacePaths
from skiffbuild.model.fragments import host_path_problems, parse_fragment
from skiffbuild.model.layers import LayerIndex, override_layers, scan_layers
from skiffbuild.model.manifest import load_boards, load_pin
from skiffbuild.model.model import FRAGMENT_KINDS, Board, BuildrootPin, Layer
from skiffbuild.model.schema import valid_memo

__all__ = ["Plan", "Workspace", "load_plan", "resolve_chain"]


@dataclass(frozen=True)
class Workspace:
    """Everything needed to configure (and later build) one workspace."""

    board: Board
    pin: BuildrootPin
    chain: tuple[Layer, ...]  # resolved layers, board fragments, overrides
    paths: WorkspacePaths

    @property
    def name(self) -> str:
        return self.board.name

    def inputs(self) -> list[Path]:
        """Files whose content defines the configuration (for up-to-date checks)."""
        files = {self.board.manifest, self.pin.manifest, *self.pin.patches}
        for layer in self.chain:
            files.update(layer.inputs)
        return sorted(files)

    def config_key(self) -> dict[str, Any]:
        """The non-file facts the configuration depends on (paths, order, pin)."""
        return {
            "code": code_digest(),
            "workspace": self.name,
            "pin": [self.pin.url, self.pin.commit],
            "chain": [
                [layer.name, str(layer.path),
                 [str(p) for p in (layer.root_overlay, layer.buildroot_ext,
                                   layer.buildroot_patches, layer.kernel_patches,
                                   layer.uboot_patches)],
                 [str(p) for p in (*layer.post_build, *layer.post_image)],
                 list(layer.cflags)]
                for layer in self.chain
            ],
            "output": str(self.paths.root),
        }


@dataclass(frozen=True)
class Plan:
    project: Project
    index: LayerIndex
    pins: dict[str, BuildrootPin]
    workspaces: dict[str, Workspace]


def _location(layer: Layer | None, board: Board, index: int,
              project: Project) -> tuple[str, int | None, str | None]:
    """Where a dependency edge was declared: (file, line, key)."""
    if layer is None:
        return project.display(board.manifest), board.layer_lines[index], f"layers[{index}]"
    if layer.style == "yaml":
        file = layer.path / "layer.yaml"
        key = f"dependencies[{index}]"
    else:
        file = layer.path / "metadata" / "dependencies"
        key = None
    line = layer.dependency_lines[index] if index < len(layer.dependency_lines) else None
    return project.display(file), line, key


def resolve_chain(board: Board, index: LayerIndex,
                  project: Project) -> tuple[list[Layer], list[Problem]]:
    """Depth-first, dependencies first, in the order they were asked for."""
    order: list[Layer] = []
    done: set[str] = set()
    problems: list[Problem] = []
    stack: list[str] = []

    def visit(name: str, parent: Layer | None, position: int) -> None:
        if name in done:
            return
        if name in stack:
            cycle = " -> ".join([*stack[stack.index(name):], name])
            file, line, key = _location(parent, board, position, project)
            problems.append(Problem(file, line, key, f"dependency cycle: {cycle}"))
            return
        layer = index.get(name)
        if layer is None and name in index.broken:
            done.add(name)  # its own manifest errors are reported already
            return
        refused = index.refused.get(name) or index.refused.get(name.split("/")[0] + "/*")
        if layer is None and refused:
            file, line, key = _location(parent, board, position, project)
            problems.append(Problem(file, line, key, f"layer '{name}': {refused}"))
            done.add(name)
            return
        if layer is None:
            file, line, key = _location(parent, board, position, project)
            guess = closest(name, index.names())
            hint = f" (did you mean '{guess}'?)" if guess else ""
            problems.append(Problem(file, line, key, f"unknown layer '{name}'{hint}"))
            done.add(name)
            return
        stack.append(name)
        for i, dep in enumerate(layer.dependencies):
            visit(dep, layer, i)
        stack.pop()
        done.add(name)
        order.append(layer)

    for i, name in enumerate(board.layers):
        visit(name, None, i)
    return order, problems


def _board_layer(board: Board, project: Project) -> Layer | None:
    if not board.fragments:
        return None
    return Layer(name=f"boards/{board.name}", path=board.manifest.parent, origin=project.boards_dir,
                 style="board", description=f"fragments of board {board.name}",
                 fragments=board.fragments,
                 inputs=tuple(f for _, files in board.fragments for f in files))


def load_plan(project: Project, only: list[str] | None = None) -> Plan:
    """Load every manifest and plan the workspaces; raise all problems at once."""
    try:
        return _load_plan(project, only)
    finally:
        valid_memo(project.state_dir).save()


def _load_plan(project: Project, only: list[str] | None) -> Plan:
    index, problems = scan_layers(project)
    boards, found = load_boards(project)
    problems += found
    if only:
        for name in only:
            if name not in boards and not any(p.file.endswith(f"/{name}.yaml") for p in found):
                guess = closest(name, boards)
                hint = f" (did you mean '{guess}'?)" if guess else ""
                problems.append(Problem(project.display(project.boards_dir), None, None,
                                        f"unknown workspace '{name}'{hint}"))
    pins: dict[str, BuildrootPin] = {}
    failed: set[str] = set()
    workspaces: dict[str, Workspace] = {}
    for board in boards.values():
        name = board.buildroot
        if name not in pins and name not in failed:
            if not (project.manifests / f"{name}.yaml").is_file():
                problems.append(Problem(project.display(board.manifest), None, "buildroot",
                                        f"no Buildroot pin manifests/{name}.yaml"))
                failed.add(name)
            else:
                pin, found = load_pin(project, name)
                problems += found
                if pin is None:
                    failed.add(name)
                else:
                    pins[name] = pin
        if name not in pins:
            continue
        chain, found = resolve_chain(board, index, project)
        problems += found
        extra = _board_layer(board, project)
        overrides = override_layers(project, board.name, problems)
        workspaces[board.name] = Workspace(
            board=board, pin=pins[board.buildroot],
            chain=(*chain, *([extra] if extra else []), *overrides),
            paths=project.workspace(board.name),
        )
    problems += _host_path_problems(workspaces.values(), project)
    if problems:
        raise ProblemsError(problems)
    return Plan(project, index, pins, workspaces)


def _external_name(layer: Layer) -> str | None:
    """The ``name:`` of the layer's BR2_EXTERNAL tree (for $(BR2_EXTERNAL_<NAME>_PATH))."""
    if layer.buildroot_ext is None:
        return None
    try:
        text = (layer.buildroot_ext / "external.desc").read_text(errors="replace")[:4096]
    except OSError:
        return None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "name" and value.strip():
            return value.strip()
    return None


def _host_path_problems(workspaces: Iterable[Workspace], project: Project) -> list[Problem]:
    """Host paths in the fragments of the layers in use must stay inside their layer
    (checked at load, so that no command runs with them). Layers no workspace uses are
    not read; override layers are the user's own and may point anywhere."""
    problems: list[Problem] = []
    seen: set[Path] = set()
    for ws in workspaces:
        for layer in ws.chain:
            if layer.is_override or layer.path in seen:
                continue
            seen.add(layer.path)
            # A board's fragments may be anywhere in the project (manifest.load_board).
            home, where = ((project.root, "the project") if layer.style == "board"
                           else (layer.path, "its layer"))
            external = _external_name(layer)
            for kind in FRAGMENT_KINDS:
                for file in layer.fragment_files(kind):
                    # Malformed lines are reported by config:, as before; only paths here.
                    found, _ = parse_fragment(file, kind, layer.name, project.display(file))
                    problems += host_path_problems(found, kind, home, external, where)
    return problems
