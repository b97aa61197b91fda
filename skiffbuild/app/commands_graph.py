"""``skiffbuild graph``: a workspace's layer chain and task graph, as SVG, DOT or JSON.

The graph is read, never built: the layer chain comes from the plan
(``plan.workspaces[ws].chain``, merge order), the tasks from the same task
creators doit loads (``engine.tasks.doit_tasks``), read as doit reads them:
``doit.loader.load_tasks`` then ``doit.control.TaskControl``, whose
``task_dep`` holds both the explicit dependencies and those doit infers from a
``file_dep`` that is another task's target. No action runs. An edge between two
tasks is labelled with the files that connect them (project-relative).

``build_graph`` is pure (plan and task facts in, frozen ``Graph`` out);
``render_dot`` and ``graph_json`` turn a ``Graph`` into text. Labels are
manifest text: ``dot_string`` makes any of it one safe DOT string.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import textwrap
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiffbuild.app.common import project_of
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.project import Project
from skiffbuild.core.runner import capture, minimal_environment
from skiffbuild.core.settings import Settings
from skiffbuild.model.plan import Workspace, load_plan

__all__ = ["FORMATS", "Graph", "GraphEdge", "GraphNode", "TaskFacts", "build_graph",
           "cmd_graph", "dot_string", "graph_json", "load_task_facts", "render_dot",
           "render_svg"]

FORMATS = ("svg", "dot", "json")

# Layer styles worth a mark of their own (model.Layer.style).
_TAGS = {"board": "board", "override": "override", "skiffos": "SkiffOS layout"}
_FILLS = {"board": "#fff2cc", "override": "#f8cecc"}
_WRAP = 44  # characters per line of a description in a node
_MAX_TEXT = 240  # characters of a description shown in a node (JSON keeps all)
_MAX_FILES = 2  # files named on an edge before "+N more"

# Characters that must not reach DOT or the SVG: C0/C1 controls (XML 1.0 forbids
# most of them), line and paragraph separators, and surrogates (unencodable).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


# ------------------------------------------------------------------- model


@dataclass(frozen=True)
class TaskFacts:
    """One doit task as doit resolved it: its dependencies and files."""

    name: str
    doc: str
    file_dep: tuple[str, ...]
    targets: tuple[str, ...]
    task_dep: tuple[str, ...]  # explicit and implied by file_dep, as TaskControl sets them


@dataclass(frozen=True)
class GraphNode:
    id: str
    kind: str  # "layer" | "task"
    name: str
    description: str
    position: int | None = None  # a layer's place in the merge order, from 1
    style: str | None = None  # a layer's style (yaml, skiffos, board, override)
    path: str | None = None  # a layer's directory, project-relative


@dataclass(frozen=True)
class GraphEdge:
    source: str
    target: str
    kind: str  # "merge" (layer order) | "input" (layer files) | "file" | "task"
    files: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        if self.kind == "input":
            return f"{len(self.files)} layer file{'s' if len(self.files) != 1 else ''}"
        if self.kind == "task":
            return "task_dep"
        shown = list(self.files[:_MAX_FILES])
        if len(self.files) > _MAX_FILES:
            shown.append(f"+{len(self.files) - _MAX_FILES} more")
        return "\n".join(shown)


@dataclass(frozen=True)
class Graph:
    workspace: str
    description: str
    architecture: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    def of_kind(self, kind: str) -> tuple[GraphNode, ...]:
        return tuple(node for node in self.nodes if node.kind == kind)


def _layer_id(position: int) -> str:
    return f"layer{position}"


def _task_id(name: str) -> str:
    return f"task:{name}"


def _relevant(ws: str, tasks: Mapping[str, TaskFacts]) -> list[str]:
    """The workspace's own tasks (``<stage>:<ws>``) and every task they depend on, in
    doit's definition order."""
    wanted: set[str] = set()
    stack = [name for name in tasks if name.partition(":")[2] == ws]
    while stack:
        name = stack.pop()
        if name in wanted or name not in tasks:
            continue
        wanted.add(name)
        stack.extend(tasks[name].task_dep)
    return [name for name in tasks if name in wanted]


def build_graph(ws: Workspace, project: Project, tasks: Iterable[TaskFacts]) -> Graph:
    """The layer chain of ``ws`` in merge order and its tasks with their edges."""
    by_name = {task.name: task for task in tasks}
    nodes: list[GraphNode] = []
    edges: list[GraphEdge] = []
    for position, layer in enumerate(ws.chain, start=1):
        nodes.append(GraphNode(_layer_id(position), "layer", layer.name, layer.description,
                               position=position, style=layer.style,
                               path=project.display(layer.path)))
        if position > 1:
            edges.append(GraphEdge(_layer_id(position - 1), _layer_id(position), "merge"))
    inputs = {str(f) for layer in ws.chain for f in layer.inputs}
    homes = tuple(f"{layer.path}/" for layer in ws.chain)
    names = _relevant(ws.name, by_name)
    producer = {target: name for name in names for target in by_name[name].targets}
    for name in names:
        task = by_name[name]
        nodes.append(GraphNode(_task_id(name), "task", name, task.doc))
        used = sorted(f for f in task.file_dep if f in inputs or f.startswith(homes))
        if used and ws.chain:
            edges.append(GraphEdge(_layer_id(len(ws.chain)), _task_id(name), "input",
                                   tuple(project.display(Path(f)) for f in used)))
        # doit's order of implied dependencies follows a set: the definition order is stable.
        for dep in (dep for dep in names if dep in task.task_dep):
            files = tuple(project.display(Path(f)) for f in sorted(task.file_dep)
                          if producer.get(f) == dep)
            edges.append(GraphEdge(_task_id(dep), _task_id(name), "file" if files else "task",
                                   files))
    return Graph(ws.name, ws.board.description, ws.board.architecture, tuple(nodes),
                 tuple(edges))


# ------------------------------------------------------------------ output


def _clean(text: str) -> str:
    """``text`` without characters DOT or XML cannot carry (shown as U+FFFD), tabs as
    spaces, in NFC."""
    return _UNSAFE.sub("\ufffd", unicodedata.normalize("NFC", text).replace("\t", " "))


def dot_string(text: str) -> str:
    """``text`` as one quoted DOT string whose label shows exactly these characters: a
    newline is a line break (``\\n``), backslashes and quotes are escaped (so no ``\\N``
    or ``\\G`` expands and nothing ends the string early), controls are replaced."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    escaped = [_clean(line).replace("\\", "\\\\").replace('"', '\\"') for line in lines]
    return '"' + "\\n".join(escaped) + '"'


def _wrapped(text: str) -> str:
    """A description as a node shows it: at most ``_MAX_TEXT`` characters, wrapped."""
    flat = " ".join(text.split())
    if len(flat) > _MAX_TEXT:
        flat = flat[:_MAX_TEXT - 1].rstrip() + "…"
    return "\n".join(textwrap.wrap(flat, _WRAP, break_long_words=True,
                                   break_on_hyphens=False))


def _attrs(**values: str) -> str:
    return "[" + ", ".join(f"{key}={dot_string(value)}" for key, value in values.items()) + "]"


def _layer_node(node: GraphNode) -> str:
    tag = _TAGS.get(node.style or "")
    head = f"{node.position}. {node.name}" + (f" [{tag}]" if tag else "")
    text = _wrapped(node.description)
    attrs = {"label": head + (f"\n{text}" if text else ""),
             "tooltip": f"{node.name} ({node.path})"}
    if node.style in _FILLS:
        attrs.update(style="filled,rounded", fillcolor=_FILLS[node.style])
    return f"    {dot_string(node.id)} {_attrs(**attrs)};"


def render_dot(graph: Graph) -> str:
    """The graph in the DOT language: the layers in a cluster, top to bottom in merge
    order, the tasks left to right beside it."""
    layers, tasks = graph.of_kind("layer"), graph.of_kind("task")
    title = f"{graph.workspace} ({graph.architecture}): {_wrapped(graph.description)}"
    out = [f"digraph {dot_string('skiffbuild ' + graph.workspace)} {{",
           f"  graph {_attrs(label=title, labelloc='t', rankdir='LR', compound='true')};",
           "  graph [fontname=\"Helvetica\", fontsize=\"12\", nodesep=\"0.3\"];",
           "  node [shape=\"box\", style=\"rounded\", fontname=\"Helvetica\", "
           "fontsize=\"10\"];",
           "  edge [fontname=\"Helvetica\", fontsize=\"8\"];"]
    if layers:
        out += ["  subgraph \"cluster_layers\" {",
                f"    graph {_attrs(label='layers (merge order)', style='dashed')};",
                *(_layer_node(node) for node in layers),
                "  }"]
    if tasks:
        out += ["  subgraph \"cluster_tasks\" {",
                f"    graph {_attrs(label='doit tasks', style='dashed')};",
                *(f"    {dot_string(node.id)} "
                  f"{_attrs(label=node.name, tooltip=node.description, shape='box')};"
                  for node in tasks),
                "  }"]
    for edge in graph.edges:
        attrs: dict[str, str] = {}
        if edge.kind == "merge":
            attrs.update(color="gray40")
        else:
            attrs.update(label=edge.label)
        if edge.kind == "input":
            attrs.update(ltail="cluster_layers", style="dashed", color="gray40")
        elif edge.kind == "task":
            attrs.update(style="dotted")
        out.append(f"  {dot_string(edge.source)} -> {dot_string(edge.target)} {_attrs(**attrs)};")
    out.append("}")
    return "\n".join(out) + "\n"


def graph_json(graph: Graph) -> dict[str, Any]:
    """The graph as plain data: ``nodes`` (layers in merge order, then tasks) and
    ``edges`` (``from``/``to`` node ids, ``kind``, connecting ``files``)."""
    nodes: list[dict[str, Any]] = []
    for node in graph.nodes:
        item: dict[str, Any] = {"id": node.id, "kind": node.kind, "name": node.name,
                                "description": node.description}
        if node.kind == "layer":
            item.update(position=node.position, style=node.style, path=node.path)
        nodes.append(item)
    return {"workspace": graph.workspace, "description": graph.description,
            "architecture": graph.architecture, "nodes": nodes,
            "edges": [{"from": e.source, "to": e.target, "kind": e.kind, "label": e.label,
                       "files": list(e.files)}
                      for e in graph.edges]}


def render_svg(dot_text: str, environ: Mapping[str, str]) -> bytes:
    """``dot -Tsvg`` of ``dot_text``, with the ``PATH`` of ``environ``; without Graphviz
    a user error that says how to do without."""
    path = environ.get("PATH", "/usr/bin:/bin")
    if shutil.which("dot", path=path) is None:
        raise SkiffError("cannot draw the SVG: Graphviz's dot is not installed (not on PATH)",
                         hint="install graphviz (Debian: apt-get install graphviz), "
                              "or use --format dot or --format json")
    result = capture(["dot", "-Tsvg"], env=minimal_environment({"PATH": path}),
                     input=dot_text.encode(), timeout=120, what="dot -Tsvg", check=True)
    return result.stdout


# --------------------------------------------------------------- doit tasks


def load_task_facts(settings: Settings) -> list[TaskFacts]:
    """Every task the project's task creators define, with dependencies as doit resolves
    them (group tasks left out). Loads the tasks; runs none."""
    from doit.control import TaskControl
    from doit.loader import load_tasks

    from skiffbuild.engine.tasks import doit_tasks

    tasks = load_tasks(doit_tasks(settings.replace(quiet=True)))
    control = TaskControl(tasks)
    return [TaskFacts(name, task.doc or "", tuple(sorted(task.file_dep)), tuple(task.targets),
                      tuple(task.task_dep))
            for name, task in control.tasks.items() if not task.has_subtask]


# -------------------------------------------------------------------- command


def _write(data: str | bytes, output: Path | None, project: Project, default: Path | None) -> None:
    """``data`` into ``output`` (or ``default``), atomically, saying where; to standard
    output when there is neither."""
    target = output or default
    if target is None:
        text = data.decode() if isinstance(data, bytes) else data
        sys.stdout.write(text)
        return
    atomic_write(target, data)
    print(project.display(target.absolute()) if output is None else target)


def cmd_graph(args: argparse.Namespace, settings: Settings) -> int:
    project = project_of(settings)
    plan = load_plan(project, [args.workspace])
    ws = plan.workspace(args.workspace)
    graph = build_graph(ws, plan.project, load_task_facts(settings))
    fmt: str = args.format
    if fmt == "json":
        _write(json.dumps(graph_json(graph), indent=2) + "\n", args.output, project, None)
    elif fmt == "dot":
        _write(render_dot(graph), args.output, project, None)
    else:
        svg = render_svg(render_dot(graph), settings.environ)
        _write(svg, args.output, project, ws.paths.root / "graph.svg")
    return 0
