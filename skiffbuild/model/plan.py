"""The planner: from the loaded model to one immutable plan per workspace.

Layer order (``layer_order``): depth-first — dependencies before dependents, the
user's order kept where it does not conflict, duplicates removed (first wins),
cycles reported with the cycle — or SkiffOS's (``model.skiffos.skiffos_order``), the
default for layers from a SkiffOS tree. After the chain come the board's own
fragments, then overrides/ and overrides/workspaces/<ws>/; a SkiffOS tree's
configs-base/pre comes first and configs-base/post last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skiffbuild.core.codedigest import code_digest
from skiffbuild.core.errors import Problem, ProblemsError, closest
from skiffbuild.core.project import Project, WorkspacePaths
from skiffbuild.model.fragments import fragment_root, host_path_problems, parse_fragment
from skiffbuild.model.layers import LayerIndex, override_layers, scan_layers
from skiffbuild.model.manifest import load_boards, load_pin
from skiffbuild.model.model import FRAGMENT_KINDS, Board, BuildrootPin, Layer
from skiffbuild.model.schema import valid_memo
from skiffbuild.model.skiffos import SkiffosTree, skiffos_order

__all__ = ["Plan", "Workspace", "assemble_chain", "load_plan", "resolve_chain",
           "resolve_skiffos_chain"]


@dataclass(frozen=True)
class Workspace:
    """Everything needed to configure (and later build) one workspace."""

    board: Board
    pin: BuildrootPin
    chain: tuple[Layer, ...]  # resolved layers, board fragments, overrides
    paths: WorkspacePaths
    skiffos: SkiffosTree | None = None  # the SkiffOS checkout its layers come from

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
            "skiffos": None if self.skiffos is None else [
                str(self.skiffos.home), self.skiffos.version, self.skiffos.commit],
        }


@dataclass(frozen=True)
class Plan:
    """The workspaces that could be planned, and why the others could not.

    A broken manifest fails only the workspaces that use it: ``broken`` maps each
    such workspace to its problems (its board, its pin, the layers of its chain,
    its overrides), ``broken_pins`` each pin manifest that does not load, and
    ``problems`` holds what no workspace uses (a broken layer no board lists, a
    board file whose name is no workspace name, a missing search-path root)."""

    project: Project
    index: LayerIndex
    pins: dict[str, BuildrootPin]
    workspaces: dict[str, Workspace]
    broken: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
    broken_pins: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()

    def workspace(self, name: str) -> Workspace:
        """The workspace ``name``; its problems (or "unknown") raised otherwise."""
        if name in self.workspaces:
            return self.workspaces[name]
        if name in self.broken:
            raise ProblemsError(self.broken[name])
        guess = closest(name, [*self.workspaces, *self.broken])
        hint = f" (did you mean '{guess}'?)" if guess else ""
        raise ProblemsError([Problem(self.project.display(self.project.boards_dir), None, None,
                                     f"unknown workspace '{name}'{hint}")])

    def left_out(self) -> list[str]:
        """Warning lines for a listing: each broken workspace with its first problem, then
        (at most ten) problems no workspace uses."""
        lines = []
        for name, problems in sorted(self.broken.items()):
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            lines.append(f"warning: workspace '{name}' is left out: {problems[0]}{more}; "
                         f"doit config:{name} shows every problem")
        return lines + [f"warning: {problem}" for problem in self.problems[:10]]


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


def _missing(name: str, index: LayerIndex, where: tuple[str, int | None, str | None],
             problems: list[Problem]) -> None:
    """The problem of a chain entry that is not a usable layer (its own problems, if it
    is a broken one, are reported by the caller)."""
    file, line, key = where
    refused = index.refused.get(name) or index.refused.get(name.split("/")[0] + "/*")
    if name in index.broken:
        return
    if refused:
        problems.append(Problem(file, line, key, f"layer '{name}': {refused}"))
        return
    guess = closest(name, index.names())
    hint = f" (did you mean '{guess}'?)" if guess else ""
    problems.append(Problem(file, line, key, f"unknown layer '{name}'{hint}"))


def resolve_skiffos_chain(board: Board, index: LayerIndex,
                          project: Project) -> tuple[list[Layer], list[Problem]]:
    """SkiffOS's order (``skiffos_order``) of the board's layers."""
    problems: list[Problem] = []

    def dependencies(name: str) -> tuple[str, ...] | None:
        layer = index.get(name)
        return None if layer is None else layer.dependencies

    chain = []
    names = skiffos_order(board.layers, dependencies)
    for name in names:
        problems.extend(index.problems.get(name, ()))
        layer = index.get(name)
        if layer is not None:
            chain.append(layer)
            continue
        if name in board.layers:
            where = _location(None, board, board.layers.index(name), project)
        else:  # a dependency: blame the first layer that names it
            parent = next(la for la in map(index.get, names)
                          if la is not None and name in la.dependencies)
            where = _location(parent, board, parent.dependencies.index(name), project)
        _missing(name, index, where, problems)
    return chain, problems


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
        problems.extend(index.problems.get(name, ()))  # its own, found reading it
        if layer is None:
            _missing(name, index, _location(parent, board, position, project), problems)
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


def assemble_chain(board: Board, index: LayerIndex, project: Project, problems: list[Problem],
                   ) -> tuple[tuple[Layer, ...], SkiffosTree | None]:
    """The workspace's whole chain, in merge order: a SkiffOS tree's configs-base/pre,
    the resolved layers, the board's own fragments, the overrides, configs-base/post.
    Adds what is wrong to ``problems``."""
    tree = _skiffos_tree(board, index)
    order = board.layer_order or ("skiffos" if tree is not None else "depth-first")
    resolve = resolve_skiffos_chain if order == "skiffos" else resolve_chain
    chain, bad = resolve(board, index, project)
    problems += bad
    extra = _board_layer(board, project)
    overrides = override_layers(project, board.name, problems)
    pre, post = (tree.pre, tree.post) if tree is not None else (None, None)
    return (*([pre] if pre else []), *chain, *([extra] if extra else []), *overrides,
            *([post] if post else [])), tree


def _skiffos_tree(board: Board, index: LayerIndex) -> SkiffosTree | None:
    """The SkiffOS checkout of the first of the board's layers that comes from one."""
    for name in board.layers:
        layer = index.get(name)
        if layer is not None and layer.origin in index.skiffos:
            return index.skiffos[layer.origin]
    return None


def _board_layer(board: Board, project: Project) -> Layer | None:
    if not board.fragments:
        return None
    return Layer(name=f"boards/{board.name}", path=board.manifest.parent, origin=project.boards_dir,
                 style="board", description=f"fragments of board {board.name}",
                 fragments=board.fragments,
                 inputs=tuple(f for _, files in board.fragments for f in files))


def load_plan(project: Project, only: list[str] | None = None, *,
              partial: bool = False) -> Plan:
    """Load every manifest and plan the workspaces.

    Raises, all at once: every problem of the project (no ``only``), or those of the
    workspaces in ``only`` (and unknown names in it); with ``partial`` only unknown
    names in ``only`` — the plan then says which workspaces are broken and why."""
    try:
        plan, unknown = _load_plan(project, only)
    finally:
        valid_memo(project.state_dir).save()
    if partial or only:
        selected = [p for name in (only or ()) for p in plan.broken.get(name, ())]
        if unknown or (selected and not partial):
            raise ProblemsError([*unknown, *([] if partial else selected)])
    else:
        every = [*plan.problems, *(p for found in plan.broken.values() for p in found)]
        if every:
            raise ProblemsError(every)
    return plan


def _load_plan(project: Project, only: list[str] | None) -> tuple[Plan, list[Problem]]:
    index, problems = scan_layers(project)
    boards, broken_boards, other = load_boards(project)
    everything: list[Problem] = [*problems, *other]
    broken: dict[str, list[Problem]] = {}
    for name, found in broken_boards.items():
        broken[name] = found
        everything += found
    unknown = []
    for name in only or ():
        if name not in boards and name not in broken:
            guess = closest(name, [*boards, *broken])
            hint = f" (did you mean '{guess}'?)" if guess else ""
            unknown.append(Problem(project.display(project.boards_dir), None, None,
                                   f"unknown workspace '{name}'{hint}"))
    pins: dict[str, BuildrootPin] = {}
    broken_pins: dict[str, list[Problem]] = {}
    workspaces: dict[str, Workspace] = {}
    checked: dict[tuple[str, Path], list[Problem]] = {}
    for board in boards.values():
        found = []
        name = board.buildroot
        if not (project.manifests / f"{name}.yaml").is_file():
            found.append(Problem(project.display(board.manifest), None, "buildroot",
                                 f"no Buildroot pin manifests/{name}.yaml"))
        elif name not in pins and name not in broken_pins:
            pin, bad = load_pin(project, name)
            if pin is None:
                broken_pins[name] = bad
            else:
                pins[name] = pin
        found += broken_pins.get(name, [])
        chain, tree = assemble_chain(board, index, project, found)
        if name in pins:
            ws = Workspace(board=board, pin=pins[name], chain=chain,
                           paths=project.workspace(board.name), skiffos=tree)
            found += _host_path_problems(ws, project, checked)
        everything += found
        if found:
            broken[board.name] = found
        else:
            workspaces[board.name] = ws
    used = {p for found in broken.values() for p in found}
    plan = Plan(project, index, pins, workspaces,
                broken={name: tuple(found) for name, found in broken.items()},
                broken_pins={name: tuple(found) for name, found in broken_pins.items()},
                problems=tuple(dict.fromkeys(p for p in everything if p not in used)))
    return plan, unknown


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


def _host_path_problems(ws: Workspace, project: Project,
                        checked: dict[tuple[str, Path], list[Problem]]) -> list[Problem]:
    """Host paths in the fragments of the layers in use must stay inside their layer
    (checked at load, so that no command runs with them). Layers no workspace uses are
    not read; override layers are the user's own and may point anywhere. ``checked``
    keeps each layer's result for the next workspace."""
    problems: list[Problem] = []
    for layer in ws.chain:
        if layer.is_override:
            continue
        key = (layer.name, layer.path)
        if key not in checked:
            found: list[Problem] = []
            # A board's fragments may be anywhere in the project (manifest.load_board).
            home = fragment_root(layer, project.root)
            where = "the project" if home == project.root else "its layer"
            external = _external_name(layer)
            for kind in FRAGMENT_KINDS:
                for file in layer.fragment_files(kind):
                    # Malformed lines are reported by config:, as before; only paths here.
                    # As config: reads it (a SkiffOS layer's quirks and directory names).
                    parsed, _, _ = parse_fragment(
                        file, kind, layer.name, project.display(file), home,
                        tolerant=layer.style in ("skiffos", "skiffos-base"))
                    found += host_path_problems(parsed, kind, home, external, where)
            checked[key] = found
        problems += checked[key]
    return problems
