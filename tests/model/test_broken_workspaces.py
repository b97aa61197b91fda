"""A broken board or layer manifest fails only the workspaces that use it (issue 13, 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, make_doit_project, ran
from projectfiles import board_yaml, layer_yaml, write_project

from skiffbuild.core.errors import ProblemsError
from skiffbuild.core.project import Project
from skiffbuild.model.plan import load_plan

LAYERS = {
    "layers/base/core/layer.yaml": layer_yaml("Base"),
    "layers/base/bad/layer.yaml": layer_yaml("Bad").replace("format: 1", "format: 2"),
}
BOARDS = {
    "manifests/boards/good.yaml": board_yaml(["base/core"]),
    # a schema error in the board itself
    "manifests/boards/typo.yaml": board_yaml(["base/core"]).replace("layers:", "layer:"),
    # a broken layer it uses
    "manifests/boards/uses-bad.yaml": board_yaml(["base/bad"]),
    # an unknown layer
    "manifests/boards/unknown.yaml": board_yaml(["base/cor"]),
}
TYPO = "manifests/boards/typo.yaml:4: layer: unknown key 'layer' (did you mean 'layers'?)"
BAD = ("layers/base/bad/layer.yaml:1: format: unsupported format version; this skiffbuild "
       "reads format 1, got 2")
UNKNOWN = ("manifests/boards/unknown.yaml:4: layers[0]: unknown layer 'base/cor' "
           "(did you mean 'base/core'?)")


def test_partial_plan_keeps_the_good_workspaces(tmp_path: Path) -> None:
    write_project(tmp_path, {**LAYERS, **BOARDS})
    plan = load_plan(Project(tmp_path), partial=True)
    assert list(plan.workspaces) == ["good"]
    assert {name: [str(p) for p in found] for name, found in plan.broken.items()} == {
        "typo": [TYPO], "uses-bad": [BAD], "unknown": [UNKNOWN]}
    assert plan.problems == ()
    assert plan.workspace("good").name == "good"
    with pytest.raises(ProblemsError) as info:
        plan.workspace("typo")
    assert [str(p) for p in info.value.problems] == [TYPO]


def test_selected_workspaces_fail_only_for_their_own_problems(tmp_path: Path) -> None:
    write_project(tmp_path, {**LAYERS, **BOARDS})
    project = Project(tmp_path)
    assert list(load_plan(project, ["good"]).workspaces) == ["good"]
    with pytest.raises(ProblemsError) as info:
        load_plan(project, ["good", "uses-bad"])
    assert [str(p) for p in info.value.problems] == [BAD]
    # Without a selection every problem counts, as before.
    with pytest.raises(ProblemsError) as info:
        load_plan(project)
    assert [str(p) for p in info.value.problems] == [BAD, TYPO, UNKNOWN]


def test_a_broken_layer_no_board_uses_fails_no_workspace(tmp_path: Path) -> None:
    write_project(tmp_path, {**LAYERS, "manifests/boards/good.yaml": board_yaml(["base/core"])})
    plan = load_plan(Project(tmp_path), partial=True)
    assert list(plan.workspaces) == ["good"] and plan.broken == {}
    assert [str(p) for p in plan.problems] == [BAD]
    assert list(load_plan(Project(tmp_path), ["good"]).workspaces) == ["good"]


def test_a_broken_pin_fails_every_board_that_uses_it(tmp_path: Path) -> None:
    write_project(tmp_path, {**LAYERS, "manifests/boards/good.yaml": board_yaml(["base/core"])},
                  commit="main")
    plan = load_plan(Project(tmp_path), partial=True)
    assert plan.workspaces == {}
    problem = ("manifests/buildroot.yaml:3: commit: must be a full 40-character commit SHA "
               "(lower case), not a branch, tag or short SHA, got 'main' (hint: resolve a tag "
               "to its commit with: skiffbuild pin <tag>)")
    assert [str(p) for p in plan.broken["good"]] == [problem]
    assert [str(p) for p in plan.broken_pins["buildroot"]] == [problem]


@pytest.fixture
def broken_project(tmp_path: Path, testtree: PinnedTree) -> DoitProject:
    project = make_doit_project(tmp_path / "project", testtree, boards={
        "typo": board_yaml(["virt/qemu"]).replace("layers:", "layer:"),
        "uses-bad": board_yaml(["virt/qemu", "apps/broken"])})
    layer = project.root / "layers" / "apps" / "broken"
    layer.mkdir()
    (layer / "layer.yaml").write_text("format: 1\ndescripton: broken\n")
    return project


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_doit_lists_and_configures_the_good_workspaces(broken_project: DoitProject) -> None:
    listed = broken_project.doit("list", "--all", "--quiet")
    names = listed.stdout.split()
    assert {"config:pi4", "config:qemu-x86_64", "image:pi4"} <= set(names)
    assert listed.stderr.splitlines() == [
        "warning: workspace 'typo' is left out: manifests/boards/typo.yaml:4: layer: unknown "
        "key 'layer' (did you mean 'layers'?); doit config:typo shows every problem",
        "warning: workspace 'uses-bad' is left out: layers/apps/broken/layer.yaml:2: "
        "descripton: unknown key 'descripton' (did you mean 'description'?); "
        "doit config:uses-bad shows every problem"]
    good = broken_project.doit("config:qemu-x86_64")
    assert ran(good.stdout) == {"fetch:buildroot": True, "config:qemu-x86_64": True}

    bad = broken_project.doit("config:uses-bad", check=False)
    assert bad.returncode == 2
    assert ("error: 1 problem found:\n  layers/apps/broken/layer.yaml:2: descripton: unknown "
            "key 'descripton' (did you mean 'description'?)\n") in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr
    image = broken_project.doit("image:typo", check=False)
    assert image.returncode == 2
    assert ("error: 1 problem found:\n  manifests/boards/typo.yaml:4: layer: unknown key "
            "'layer' (did you mean 'layers'?)\n") in image.stdout + image.stderr


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_the_commands_list_and_check_the_good_workspaces(broken_project: DoitProject) -> None:
    warnings = [
        "warning: workspace 'typo' is left out: manifests/boards/typo.yaml:4: layer: unknown "
        "key 'layer' (did you mean 'layers'?); doit config:typo shows every problem",
        "warning: workspace 'uses-bad' is left out: layers/apps/broken/layer.yaml:2: "
        "descripton: unknown key 'descripton' (did you mean 'description'?); "
        "doit config:uses-bad shows every problem"]
    boards = broken_project.skiffbuild("boards", "--names")
    assert boards.returncode == 0
    assert boards.stdout.split() == ["pi4", "qemu-x86_64", "qemu-x86_64-ab",
                                     "qemu-x86_64-lean"]
    assert boards.stderr.splitlines() == warnings
    layers = broken_project.skiffbuild("layers")
    assert layers.returncode == 0 and "virt/qemu" in layers.stdout
    assert layers.stderr.splitlines() == warnings
    # check: the good ones are checked, the broken ones are errors, exit 2.
    check = broken_project.skiffbuild("check")
    assert check.returncode == 2, check.stdout + check.stderr
    lines = check.stdout.splitlines()
    assert lines[-2:] == ["typo: not checked, its manifests have problems",
                          "uses-bad: not checked, its manifests have problems"]
    assert [line.split(":")[0] for line in lines[:-2]] == ["pi4", "qemu-x86_64",
                                                          "qemu-x86_64-ab",
                                                          "qemu-x86_64-lean"]
    assert ("error: 1 problem found:\n  manifests/boards/typo.yaml:4: layer: unknown key "
            "'layer' (did you mean 'layers'?)") in check.stderr
    assert "Traceback" not in check.stderr
