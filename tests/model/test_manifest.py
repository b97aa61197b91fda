"""Manifest loading: schema errors name file:line and the key path, all reported together."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from projectfiles import board_yaml, layer_yaml, write_project

from skiffbuild.core.errors import ProblemsError
from skiffbuild.core.project import Project
from skiffbuild.model import schema
from skiffbuild.model.manifest import parse_size
from skiffbuild.model.plan import load_plan

GOOD_LAYERS = {
    "layers/base/core/layer.yaml": layer_yaml("Base"),
    "layers/pi/common/layer.yaml": layer_yaml("Pi common", ["base/core"]),
}


def problems_of(root: Path, files: dict[str, str | None]) -> list[str]:
    write_project(root, {**GOOD_LAYERS, **files})
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(root))
    return [str(p) for p in info.value.problems]


def test_good_project_loads(tmp_path: Path) -> None:
    write_project(tmp_path, {**GOOD_LAYERS, "manifests/boards/b.yaml": board_yaml(["pi/common"])})
    plan = load_plan(Project(tmp_path))
    ws = plan.workspaces["b"]
    assert [layer.name for layer in ws.chain] == ["base/core", "pi/common"]
    assert ws.board.image.partitions[0].size == 32 * 1024 * 1024
    assert ws.pin.commit == "679b9ead7620bbf193620d1ebf56f53c1764d37a"


BAD_BOARDS = [
    # (board text, expected problem)
    # One misspelt key, one error: not also "missing required key 'description'".
    (board_yaml(["pi/common"]).replace("description:", "descripton:"),
     ["manifests/boards/b.yaml:2: descripton: unknown key 'descripton' "
      "(did you mean 'description'?)"]),
    (board_yaml(["pi/common"]).replace("layers:", "layer:"),
     ["manifests/boards/b.yaml:4: layer: unknown key 'layer' (did you mean 'layers'?)"]),
    # Not also "missing required key 'filesystem'", "missing required key 'image'" and
    # "this combination of keys is not allowed" (the raw rules, checked without the key).
    (board_yaml(["pi/common"]).replace("filesystem:", "filesytem:"),
     ["manifests/boards/b.yaml:9: image.partitions[0].filesytem: unknown key 'filesytem' "
      "(did you mean 'filesystem'?)"]),
    # A misspelt key does not hide a key that is really missing.
    (board_yaml(["pi/common"]).replace("filesystem:", "filesytem:").replace(
        "- name: boot\n      ", "- "),
     ["manifests/boards/b.yaml:8: image.partitions[0]: missing required key 'name'",
      "manifests/boards/b.yaml:8: image.partitions[0].filesytem: unknown key 'filesytem' "
      "(did you mean 'filesystem'?)"]),
    (board_yaml(["pi/common"]).replace("      size: 32M\n", "      sise: 32M\n"),
     ["manifests/boards/b.yaml:10: image.partitions[0].sise: unknown key 'sise' "
      "(did you mean 'size'?)"]),
    (board_yaml(["pi/common"]).replace("architecture: x86_64", "architecture: sparc"),
     ["manifests/boards/b.yaml:3: architecture: unknown architecture; expected one of aarch64, "
      "arm, x86_64, i686, riscv64, got 'sparc'"]),
    (board_yaml(["pi/common"]).replace("layers: [pi/common]", "layers: pi/common"),
     ["manifests/boards/b.yaml:4: layers: must be a list, got 'pi/common'"]),
    (board_yaml(["pi/common"]).replace("size: 32M", "size: 32X"),
     ["manifests/boards/b.yaml:10: image.partitions[0].size: a size is a number of bytes or a "
      "number with K, M or G (binary units), got '32X'"]),
    (board_yaml(["pi/common"]).replace("format: 1", "format: 2"),
     ["manifests/boards/b.yaml:1: format: unsupported format version; this skiffbuild reads "
      "format 1, got 2"]),
    (board_yaml(["pi/common"]).replace("table: mbr", "table: apm"),
     ["manifests/boards/b.yaml:6: image.table: partition table must be mbr or gpt, got 'apm'"]),
    (board_yaml(["pi/common"]) + "description: again\n",
     ["manifests/boards/b.yaml:13: description: duplicate key (first given on line 2)"]),
    (board_yaml(["pi/common"]).replace("layers: [pi/common]", "layers: [pi/comon]"),
     ["manifests/boards/b.yaml:4: layers[0]: unknown layer 'pi/comon' "
      "(did you mean 'pi/common'?)"]),
    (board_yaml(["pi/common"]).replace("layers: [pi/common]", "layers: [picommon]"),
     ["manifests/boards/b.yaml:4: layers[0]: a layer name is <group>/<name>, got 'picommon'"]),
    (board_yaml(["pi/common"], extra="    - name: root\n      filesystem: raw\n"),
     ["manifests/boards/b.yaml:13: image.partitions[1]: missing required key 'image'"]),
    (board_yaml(["pi/common"], extra="    - name: boot\n      filesystem: squashfs\n"),
     ["manifests/boards/b.yaml:13: image.partitions[1].name: duplicate partition name 'boot'"]),
    (board_yaml(["pi/common"]).replace("  table: mbr\n", "  table: mbr\n  tabel: gpt\n"),
     ["manifests/boards/b.yaml:7: image.tabel: unknown key 'tabel' (did you mean 'table'?)"]),
    ("format: 1\ndescription: [unclosed\n",
     ["manifests/boards/b.yaml:3: invalid YAML: expected ',' or ']', but got '<stream end>'"]),
    ("", ["manifests/boards/b.yaml:1: the file is empty"]),
    (board_yaml(["pi/common"], extra="fragments:\n  buildroot: [missing.conf]\n"),
     ["manifests/boards/b.yaml:14: fragments.buildroot[0]: fragment file missing.conf not found"]),
    (board_yaml(["pi/common"], extra="buildroot: other\n"),
     ["manifests/boards/b.yaml: buildroot: no Buildroot pin manifests/other.yaml"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD_BOARDS)
def test_bad_board(tmp_path: Path, text: str, expected: list[str]) -> None:
    assert sorted(problems_of(tmp_path, {"manifests/boards/b.yaml": text})) == sorted(expected)


def test_bad_pin_commit_is_a_branch(tmp_path: Path) -> None:
    write_project(tmp_path, {**GOOD_LAYERS, "manifests/boards/b.yaml": board_yaml(["pi/common"])},
                  commit="master")
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "manifests/buildroot.yaml:3: commit: must be a full 40-character commit SHA (lower case), "
        "not a branch, tag or short SHA, got 'master' (hint: resolve a tag to its commit with: "
        "skiffbuild pin <tag>)"]


BAD_LAYERS = [
    (layer_yaml("x", extra="hooks:\n  post_biuld: [h.sh]\n"),
     ["layers/x/y/layer.yaml:4: hooks.post_biuld: unknown key 'post_biuld' "
      "(did you mean 'post_build'?)"]),
    (layer_yaml("x", extra="hooks:\n  post_build: [hooks/missing.sh]\n"),
     ["layers/x/y/layer.yaml:4: hooks.post_build[0]: hook script hooks/missing.sh not found"]),
    (layer_yaml("x", ["base/cor"]),
     ["layers/x/y/layer.yaml:3: dependencies[0]: unknown layer 'base/cor' "
      "(did you mean 'base/core'?)"]),
    (layer_yaml("x", extra="unlisted: maybe\n"),
     ["layers/x/y/layer.yaml:3: unlisted: must be true or false, got 'maybe'"]),
    (layer_yaml("x", extra="commands:\n  run:\n    description: boot\n"),
     ["layers/x/y/layer.yaml:4: commands.run: missing required key 'run'"]),
    ("format: 1\n",
     ["layers/x/y/layer.yaml:1: missing required key 'description'"]),
]


@pytest.mark.parametrize(("text", "expected"), BAD_LAYERS)
def test_bad_layer(tmp_path: Path, text: str, expected: list[str]) -> None:
    files = {"layers/x/y/layer.yaml": text, "manifests/boards/b.yaml": board_yaml(["x/y"])}
    found = problems_of(tmp_path, files)
    assert found == sorted(expected)


def test_all_problems_of_a_run_are_reported_together(tmp_path: Path) -> None:
    found = problems_of(tmp_path, {
        "manifests/boards/a.yaml": board_yaml(["pi/comon"]),
        "manifests/boards/b.yaml": board_yaml(["pi/common"]).replace("size: 32M", "size: big"),
        "layers/x/y/layer.yaml": "format: 1\ndescription: x\nextra: 1\n",
    })
    assert [line.split(":")[0] for line in found] == [
        "layers/x/y/layer.yaml", "manifests/boards/a.yaml", "manifests/boards/b.yaml"]


def test_python_tags_are_refused(tmp_path: Path) -> None:
    found = problems_of(tmp_path, {
        "manifests/boards/b.yaml": "!!python/object/apply:os.system ['true']\n"})
    assert len(found) == 1
    assert found == ["manifests/boards/b.yaml:1: invalid YAML: unsupported tag "
                     "'tag:yaml.org,2002:python/object/apply:os.system'"]


def test_sizes() -> None:
    assert parse_size("1G") == 1 << 30
    assert parse_size("512K") == 512 << 10
    assert parse_size(4096) == 4096


@pytest.mark.parametrize("kind", schema.SCHEMAS)
def test_schema_files_are_valid_json_schema(kind: str) -> None:
    data = json.loads((Path(schema.__file__).parent.parent / "schemas" / f"{kind}.schema.json")
                      .read_text())
    jsonschema.validators.validator_for(data).check_schema(data)
    assert data["properties"]["format"] == {"const": 1, "x-message": data["properties"]["format"]
                                            ["x-message"]}


def test_unchanged_manifests_are_not_validated_again(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path
    write_project(project, {**GOOD_LAYERS, "manifests/boards/b.yaml": board_yaml(["pi/common"])})
    load_plan(Project(project))
    memo = project / "cache" / "state" / "valid-manifests.json"
    remembered = json.loads(memo.read_text())
    assert len(remembered) == len(list(project.rglob("*.yaml")))

    # A fresh process: the memo is read from disk and jsonschema is never asked.
    schema.valid_memo.cache_clear()

    def no_validator(kind: str) -> None:
        raise AssertionError(f"{kind} was validated again")

    monkeypatch.setattr(schema, "_validator", no_validator)
    load_plan(Project(project))
    # A changed manifest is validated, and its error still reported.
    board = next((project / "manifests" / "boards").glob("*.yaml"))
    board.write_text(board.read_text().replace("architecture: x86_64", "architecture: 64"))
    monkeypatch.undo()
    schema.valid_memo.cache_clear()
    with pytest.raises(ProblemsError, match="architecture"):
        load_plan(Project(project))
