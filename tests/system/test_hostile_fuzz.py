"""Fuzzing the load (issue 12): random YAML and random layer trees (files,
directories, symlinks in and out of the layer, FIFOs, devices) give either a
plan or a SkiffError, never another exception, and each in bounded time.

The load and plan functions are called directly (what ``skiffbuild check``
runs first, and ``cli.main`` turns a SkiffError into exit 2), plus the
fragment parsing ``config:`` does next.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from projectfiles import board_yaml, layer_yaml, write_project

from skiffbuild.buildroot.configure import merge_workspace
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.project import Project
from skiffbuild.model.plan import load_plan

# Building blocks that YAML gives meaning to, so random text reaches the composer
# (anchors, aliases, nesting, tags, documents) rather than failing in the scanner.
_TOKENS = ["a", "b: ", "- ", "[", "]", "{", "}", ", ", ": ", "\n", "  ", "&x ", "*x", "&y ",
           "*y", "!!str ", "!!python/object:os.system ", "---\n", "? ", "'q'", '"\\u0000"',
           "1", "null", "<<: ", "#c", "|\n  t\n", "format: 1\n", "description: d\n",
           "layers: [a/b]\n", "hooks:\n  post_build: [", "../", "/etc/passwd", "commands:\n"]

yaml_text = st.one_of(
    st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join),
    st.text(max_size=200),
)

_ENTRIES = ["layer.yaml", "buildroot/10-a", "kernel/k", "cflags/c", "hooks/h.sh",
            "hooks/pre.sh", "metadata/description", "metadata/dependencies",
            "metadata/commands", "root_overlay", "buildroot", "buildroot_ext/Config.in",
            "commands/run.sh"]
_TARGETS = ["../../../host/secret", "/dev/zero", "/etc/passwd", "..", ".", "nowhere",
            "buildroot/10-a", "../b/layer.yaml"]

entry = st.tuples(
    st.sampled_from(_ENTRIES),
    st.sampled_from(["file", "dir", "symlink", "fifo"]),
    st.sampled_from(_TARGETS),
    yaml_text,
)


def _make(layer: Path, rel: str, kind: str, target: str, text: str) -> None:
    path = layer / rel
    if path.exists() or path.is_symlink():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.parent.is_dir() or path.parent.is_symlink():
        return
    if kind == "file":
        path.write_text(text)
        path.chmod(0o755)
    elif kind == "dir":
        path.mkdir()
    elif kind == "symlink":
        path.symlink_to(target)
    else:
        os.mkfifo(path)


def _load(root: Path) -> None:
    try:
        plan = load_plan(Project(root))
        for ws in plan.workspaces.values():
            merge_workspace(ws, plan.project)
    except SkiffError:
        pass


@settings(max_examples=80, deadline=3000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(board=yaml_text, layer=yaml_text)
def test_random_yaml_only_gives_located_errors(board: str, layer: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, {"layers/a/b/layer.yaml": layer_yaml("A") + layer,
                             "manifests/boards/b.yaml": board,
                             "manifests/boards/c.yaml": board_yaml(["a/b"]) + board})
        _load(root)


@settings(max_examples=80, deadline=3000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(entries=st.lists(entry, max_size=8), manifest=st.booleans())
def test_random_layer_trees_only_give_located_errors(
        entries: list[tuple[str, str, str, str]], manifest: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        layer_text = layer_yaml("A", extra=(
            "hooks:\n  post_build: [hooks/h.sh]\n"
            "commands:\n  run:\n    run: [commands/run.sh]\n")) if manifest else None
        files = {"manifests/boards/b.yaml": board_yaml(["a/b"]), "layers/a/b/": "",
                 "host/secret": "s3cr3t\n"}
        if layer_text:
            files["layers/a/b/layer.yaml"] = layer_text
        write_project(root, files)
        for rel, kind, target, text in entries:
            _make(root / "layers/a/b", rel, kind, target, text)
        _load(root)
        # Whatever failed, nothing from outside the project was quoted back.
        try:
            load_plan(Project(root))
        except SkiffError as exc:
            assert "s3cr3t" not in str(exc)

