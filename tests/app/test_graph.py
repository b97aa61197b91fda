"""`skiffbuild graph WS`: the layer chain and the doit task graph, drawn without building."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, make_doit_project
from projectfiles import board_yaml, write_files

from skiffbuild.app.cli import main

SVG = "{http://www.w3.org/2000/svg}"
WS = "qemu-x86_64"
# What doit runs for a workspace, by the files that connect the tasks (and repro's
# explicit task_dep): what `skiffbuild graph` must draw.
EDGES = {
    ("fetch:buildroot", f"config:{WS}"), (f"config:{WS}", f"sources:{WS}"),
    (f"config:{WS}", f"compile:{WS}"), (f"sources:{WS}", f"compile:{WS}"),
    (f"compile:{WS}", f"image:{WS}"), (f"sources:{WS}", f"repro:{WS}"),
}
TASKS = ["fetch:buildroot", *(f"{stage}:{WS}" for stage in
                              ("config", "sources", "compile", "image", "repro"))]
# A layer description meant to break DOT: a quote that ends the string, a brace that
# ends the graph, a backslash that escapes, DOT's own escapes, newlines, a terminal
# escape and a NUL-like control (YAML double-quoted).
HOSTILE = r'"evil\" ] } digraph x { a -> b \\ \\N \\G\nsecond line\r\n\e[2J\x01 end\\"'
HOSTILE_TEXT = 'evil" ] } digraph x { a -> b \\ \\N \\G'

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot is not installed (scripts/setup)")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree) -> DoitProject:
    return make_doit_project(tmp_path_factory.mktemp("graph") / "project", testtree)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree) -> DoitProject:
    """A board `evil` whose layer, board and fragments carry hostile text, with overrides."""
    project = make_doit_project(tmp_path_factory.mktemp("hostile") / "project", testtree)
    write_files(project.root, {
        "layers/test/hostile/layer.yaml":
            f"format: 1\ndescription: {HOSTILE}\ndependencies: [skiff/base]\n",
        "manifests/boards/evil.yaml": board_yaml(
            ["test/hostile"], description='board "}" \\\\ here',
            extra="fragments:\n  buildroot: [evil.frag]\n"),
        "manifests/boards/evil.frag": "BR2_TARGET_GENERIC_HOSTNAME=\"evil\"\n",
        "overrides/buildroot/local": "BR2_PACKAGE_HTOP=y\n",
        "overrides/workspaces/evil/buildroot/mine": "BR2_PACKAGE_HTOP=y\n",
    })
    return project


def _graph_json(project: DoitProject, ws: str) -> dict[str, object]:
    result = project.skiffbuild("graph", ws, "--format", "json")
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _dot_edges(dot: str) -> set[tuple[str, str]]:
    return set(re.findall(r'^\s*"task:([^"]+)" -> "task:([^"]+)"', dot, re.MULTILINE))


def _svg_nodes(path: Path) -> dict[str, list[str]]:
    """Each node of the SVG: its id (the <title>) and its lines of text."""
    root = ET.parse(path).getroot()
    nodes = {}
    for group in root.iter(f"{SVG}g"):
        if group.get("class") == "node":
            title = group.find(f"{SVG}title")
            assert title is not None and title.text is not None
            nodes[title.text] = [t.text or "" for t in group.iter(f"{SVG}text")]
    return nodes


@needs_dot
def test_svg_shows_the_chain_in_order_and_every_task(project: DoitProject) -> None:
    result = project.skiffbuild("graph", WS)
    assert result.returncode == 0, result.stderr
    path = project.root / "workspaces" / WS / "graph.svg"
    assert result.stdout == f"workspaces/{WS}/graph.svg\n"
    nodes = _svg_nodes(path)
    chain = ["skiff/base", "virt/qemu"]  # `skiffbuild layers qemu-x86_64`
    assert [nodes[f"layer{i}"][0] for i in range(1, len(chain) + 1)] == \
        [f"{i}. {name}" for i, name in enumerate(chain, start=1)]
    assert "x86_64 virtual machine for QEMU: kernel with" in nodes["layer2"]
    assert [nodes[f"task:{name}"] for name in TASKS] == [[name] for name in TASKS]
    # Only loaded, never run: nothing fetched, configured or built.
    assert not (project.root / "workspaces" / WS / "output").exists()
    assert not (project.root / "cache" / "buildroot").exists()


def test_dot_edges_are_doits_dependencies_labelled_with_their_files(
        project: DoitProject, tmp_path: Path) -> None:
    result = project.skiffbuild("graph", WS, "--format", "dot")
    assert result.returncode == 0, result.stderr
    assert _dot_edges(result.stdout) == EDGES
    assert (f'"task:config:{WS}" -> "task:sources:{WS}" '
            f'[label="workspaces/{WS}/output/.config"];') in result.stdout
    assert (f'"task:compile:{WS}" -> "task:image:{WS}" '
            f'[label="workspaces/{WS}/state/compile.json"];') in result.stdout
    assert '"layer1" -> "layer2"' in result.stdout
    written = tmp_path / "g.dot"
    again = project.skiffbuild("graph", WS, "--format", "dot", "-o", str(written))
    assert again.returncode == 0, again.stderr
    assert written.read_text() == result.stdout


def test_the_graph_follows_the_task_definitions(project: DoitProject) -> None:
    # No skiffbuild.lock: sources:<ws> depends on .config only. With one it is a file_dep
    # too; no task makes it, so no edge appears and none disappears.
    (project.root / "skiffbuild.lock").write_text("format: 1\nworkspaces: {}\n")
    try:
        data = _graph_json(project, WS)
    finally:
        (project.root / "skiffbuild.lock").unlink()
    edges = {(e["from"], e["to"]) for e in data["edges"]}  # type: ignore[attr-defined, index]
    assert {(a[5:], b[5:]) for a, b in edges if a.startswith("task:")} == EDGES


def test_json_lists_nodes_and_edges(project: DoitProject) -> None:
    data = _graph_json(project, WS)
    assert set(data) == {"workspace", "description", "architecture", "nodes", "edges"}
    assert data["workspace"] == WS
    nodes = data["nodes"]
    assert isinstance(nodes, list)
    layers = [n for n in nodes if n["kind"] == "layer"]
    assert [(n["id"], n["name"], n["position"], n["style"], n["path"]) for n in layers] == [
        ("layer1", "skiff/base", 1, "yaml", "layers/skiff/base"),
        ("layer2", "virt/qemu", 2, "yaml", "layers/virt/qemu")]
    assert all(set(n) == {"id", "kind", "name", "description", "position", "style", "path"}
               for n in layers)
    tasks = [n for n in nodes if n["kind"] == "task"]
    assert [n["name"] for n in tasks] == TASKS
    assert all(set(n) == {"id", "kind", "name", "description"} and n["id"] == f"task:{n['name']}"
               for n in tasks)
    edges = data["edges"]
    assert isinstance(edges, list)
    assert all(set(e) == {"from", "to", "kind", "label", "files"} for e in edges)
    ids = {n["id"] for n in nodes}
    assert all(e["from"] in ids and e["to"] in ids for e in edges)
    by_pair = {(e["from"], e["to"]): e for e in edges}
    assert by_pair[("layer1", "layer2")]["kind"] == "merge"
    fetch = by_pair[("task:fetch:buildroot", f"task:config:{WS}")]
    assert fetch["kind"] == "file" and fetch["files"][0].startswith("cache/buildroot/")
    repro = by_pair[(f"task:sources:{WS}", f"task:repro:{WS}")]
    assert (repro["kind"], repro["files"]) == ("task", [])
    config_inputs = by_pair[("layer2", f"task:config:{WS}")]
    assert config_inputs["kind"] == "input"
    assert "layers/virt/qemu/layer.yaml" in config_inputs["files"]


@needs_dot
def test_hostile_descriptions_neither_break_nor_inject(hostile: DoitProject) -> None:
    dot = hostile.skiffbuild("graph", "evil", "--format", "dot")
    assert dot.returncode == 0, dot.stderr
    # One graph, its own statements only: the description's "digraph x { a -> b" is text.
    assert dot.stdout.count("digraph") == 2 and dot.stdout.startswith('digraph "skiffbuild evil"')
    assert not re.search(r'^\s*"?a"? -> "?b', dot.stdout, re.MULTILINE)
    assert "\x1b" not in dot.stdout and "\x01" not in dot.stdout and "\r" not in dot.stdout
    result = hostile.skiffbuild("graph", "evil")
    assert result.returncode == 0, result.stderr
    nodes = _svg_nodes(hostile.root / "workspaces" / "evil" / "graph.svg")  # parses as XML
    assert len(nodes) == 5 + 6  # 5 layers (the board's fragments, 2 overrides), 6 tasks
    assert nodes["layer2"][0] == "2. test/hostile"
    text = " ".join(nodes["layer2"][1:])
    assert HOSTILE_TEXT in text and "second line" in text and "end\\" in text
    assert [lines[0] for name, lines in sorted(nodes.items()) if name.startswith("layer")] == [
        "1. skiff/base", "2. test/hostile", "3. boards/evil [board]",
        "4. overrides [override]", "5. overrides/workspaces/evil [override]"]
    data = _graph_json(hostile, "evil")
    styles = [(n["name"], n["style"]) for n in data["nodes"]  # type: ignore[attr-defined]
              if n["kind"] == "layer"]
    assert styles == [("skiff/base", "yaml"), ("test/hostile", "yaml"),
                      ("boards/evil", "board"), ("overrides", "override"),
                      ("overrides/workspaces/evil", "override")]


def test_svg_without_graphviz_is_a_user_error(project: DoitProject, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    without = DoitProject(project.root, {**project.env, "PATH": str(empty)})
    result = without.skiffbuild("graph", WS, "-o", str(tmp_path / "g.svg"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: cannot draw the SVG: Graphviz's dot is not installed (not on PATH)",
        "hint: install graphviz (Debian: apt-get install graphviz), "
        "or use --format dot or --format json"]
    assert not (tmp_path / "g.svg").exists()
    for fmt in ("dot", "json"):
        assert without.skiffbuild("graph", WS, "--format", fmt).returncode == 0


def test_unknown_workspace_is_a_user_error(project: DoitProject) -> None:
    result = project.skiffbuild("graph", "qemu-x86", "--format", "dot")
    assert result.returncode == 2
    assert "unknown workspace 'qemu-x86' (did you mean 'qemu-x86_64'?)" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_and_completion(project: DoitProject, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["graph", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: skiffbuild graph [-h] [-o FILE] [--format {svg,dot,json}] "
                          "workspace\n")
    assert "\nexamples:\n  skiffbuild graph pi4\n" in out
    script = project.skiffbuild("completion", "bash").stdout
    words = ["skiffbuild", "graph", ""]
    runner = (f"skiffbuild() {{ {shlex.quote(sys.executable)} -m skiffbuild \"$@\"; }}\n"
              f"{script}\nCOMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
              f"COMP_CWORD={len(words) - 1}\n_skiffbuild\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n")
    completed = subprocess.run(["bash", "-c", runner], capture_output=True, text=True,
                               check=True, cwd=project.root, env=project.env)
    assert completed.stdout.split() == ["pi4", "qemu-x86_64", "qemu-x86_64-ab",
                                        "qemu-x86_64-lean"]
