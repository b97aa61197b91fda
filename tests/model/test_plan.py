"""Layer resolution: order, diamonds, cycles, search path, overrides, SkiffOS layout."""

from __future__ import annotations

from pathlib import Path

import pytest
from projectfiles import board_yaml, layer_yaml, write_files, write_project

from skiffbuild.core.errors import ProblemsError
from skiffbuild.core.project import Project
from skiffbuild.model.plan import load_plan


def chain_of(root: Path, board: str = "b", layer_path: tuple[Path, ...] = ()) -> list[str]:
    plan = load_plan(Project(root, layer_path))
    return [layer.name for layer in plan.workspaces[board].chain]


def test_diamond_dependencies_come_first_once(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "layers/base/core/layer.yaml": layer_yaml("base"),
        "layers/apps/runc/layer.yaml": layer_yaml("runc", ["base/core"]),
        "layers/apps/containerd/layer.yaml": layer_yaml("containerd", ["apps/runc", "base/core"]),
        "layers/apps/docker/layer.yaml": layer_yaml("docker", ["apps/containerd", "apps/runc"]),
        "layers/skiff/core/layer.yaml": layer_yaml("core", ["apps/docker", "apps/containerd"]),
        "manifests/boards/b.yaml": board_yaml(["skiff/core"]),
    })
    assert chain_of(tmp_path) == ["base/core", "apps/runc", "apps/containerd", "apps/docker",
                                  "skiff/core"]


def test_user_order_is_kept_where_it_does_not_conflict(tmp_path: Path) -> None:
    # SkiffOS's documented chain for "skiff/core, pi/4, skiff/core".
    write_project(tmp_path, {
        "layers/apps/runc/layer.yaml": layer_yaml("runc"),
        "layers/apps/containerd/layer.yaml": layer_yaml("containerd", ["apps/runc"]),
        "layers/apps/docker/layer.yaml": layer_yaml("docker", ["apps/containerd"]),
        "layers/skiff/core/layer.yaml": layer_yaml("core", ["apps/docker"]),
        "layers/skiff/moduleimg/layer.yaml": layer_yaml("moduleimg"),
        "layers/pi/common/layer.yaml": layer_yaml("common"),
        "layers/pi/4x64/layer.yaml": layer_yaml("4x64"),
        "layers/pi/4/layer.yaml": layer_yaml("four", ["skiff/moduleimg", "pi/common", "pi/4x64"]),
        "manifests/boards/b.yaml": board_yaml(["skiff/core", "pi/4", "skiff/core"]),
        "manifests/boards/c.yaml": board_yaml(["pi/4", "skiff/core"]),
        "manifests/boards/d.yaml": board_yaml(["pi/4", "pi/common"]),
    })
    assert chain_of(tmp_path, "b") == ["apps/runc", "apps/containerd", "apps/docker",
                                       "skiff/core", "skiff/moduleimg", "pi/common", "pi/4x64",
                                       "pi/4"]
    assert chain_of(tmp_path, "c") == ["skiff/moduleimg", "pi/common", "pi/4x64", "pi/4",
                                       "apps/runc", "apps/containerd", "apps/docker",
                                       "skiff/core"]
    # A dependency the user listed after its dependent still goes first.
    assert chain_of(tmp_path, "d") == ["skiff/moduleimg", "pi/common", "pi/4x64", "pi/4"]


def test_cycle_is_reported_with_the_cycle(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "layers/a/x/layer.yaml": layer_yaml("x", ["a/y"]),
        "layers/a/y/layer.yaml": layer_yaml("y", ["a/z"]),
        "layers/a/z/layer.yaml": layer_yaml("z", ["base/core", "a/x"]),
        "layers/base/core/layer.yaml": layer_yaml("base"),
        "manifests/boards/b.yaml": board_yaml(["a/x"]),
    })
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "layers/a/z/layer.yaml:3: dependencies[1]: dependency cycle: a/x -> a/y -> a/z -> a/x"]


def test_unknown_dependency_names_file_line_and_suggestion(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "layers/pi/common/layer.yaml": layer_yaml("common"),
        "layers/pi/4/layer.yaml": "format: 1\ndescription: four\ndependencies:\n"
                                  "  - pi/common\n  - pi/comon\n  - zz/nothing-like-it\n",
        "manifests/boards/b.yaml": board_yaml(["pi/4"]),
    })
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "layers/pi/4/layer.yaml:5: dependencies[1]: unknown layer 'pi/comon' "
        "(did you mean 'pi/common'?)",
        "layers/pi/4/layer.yaml:6: dependencies[2]: unknown layer 'zz/nothing-like-it'",
    ]


def test_search_path_shadows_builtin_layers(tmp_path: Path) -> None:
    write_project(tmp_path / "proj", {
        "layers/pi/common/layer.yaml": layer_yaml("built-in common"),
        "layers/pi/4/layer.yaml": layer_yaml("built-in four", ["pi/common"]),
        "manifests/boards/b.yaml": board_yaml(["pi/4"]),
    })
    write_files(tmp_path / "first", {"pi/common/layer.yaml": layer_yaml("first common")})
    write_files(tmp_path / "second", {
        "pi/common/layer.yaml": layer_yaml("second common"),
        "extra/tools/layer.yaml": layer_yaml("extra tools"),
    })
    roots = (tmp_path / "first", tmp_path / "second")
    plan = load_plan(Project(tmp_path / "proj", roots))
    chain = plan.workspaces["b"].chain
    assert [(la.name, la.description) for la in chain] == [
        ("pi/common", "first common"), ("pi/4", "built-in four")]
    assert plan.index.shadowed["pi/common"] == (tmp_path / "second" / "pi" / "common",
                                                tmp_path / "proj" / "layers" / "pi" / "common")
    assert plan.index.get("extra/tools").origin == tmp_path / "second"


def test_layer_path_from_environment(tmp_path: Path) -> None:
    write_project(tmp_path / "proj", {"manifests/boards/b.yaml": board_yaml(["x/y"])})
    write_files(tmp_path / "ext", {"x/y/layer.yaml": layer_yaml("from env")})
    project = Project.discover(tmp_path / "proj" / "manifests",
                               environ={"SKIFFBUILD_LAYER_PATH": f"{tmp_path / 'ext'}:"})
    assert project.root == tmp_path / "proj"
    assert project.layer_roots() == (tmp_path / "ext", tmp_path / "proj" / "layers")


def test_overrides_come_after_the_chain(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "layers/base/core/layer.yaml": layer_yaml("base"),
        "layers/base/core/buildroot/a": "BR2_A=y\n",
        "manifests/boards/b.yaml": board_yaml(
            ["base/core"], extra="fragments:\n  buildroot: [b/extra]\n"),
        "manifests/boards/b/extra": "BR2_B=y\n",
        "manifests/boards/c.yaml": board_yaml(["base/core"]),
        "overrides/buildroot/local": "BR2_C=y\n",
        "overrides/workspaces/b/buildroot/mine": "BR2_D=y\n",
        "overrides/workspaces/b/root_overlay/etc/motd": "hi\n",
    })
    plan = load_plan(Project(tmp_path))
    assert [la.name for la in plan.workspaces["b"].chain] == [
        "base/core", "boards/b", "overrides", "overrides/workspaces/b"]
    assert [la.name for la in plan.workspaces["c"].chain] == ["base/core", "overrides"]
    ws_override = plan.workspaces["b"].chain[-1]
    assert ws_override.root_overlay == tmp_path / "overrides/workspaces/b/root_overlay"
    assert ws_override.fragment_files("buildroot") == (
        tmp_path / "overrides/workspaces/b/buildroot/mine",)


def test_skiffos_layout_tree_is_used_unchanged(tmp_path: Path) -> None:
    write_project(tmp_path / "proj", {"manifests/boards/b.yaml": board_yaml(["virt/qemu"])})
    write_files(tmp_path / "configs", {
        "util/rootlogin/metadata/description": "Allow root login\n",
        "util/rootlogin/metadata/unlisted": "",
        "util/rootlogin/buildroot/rootlogin": "BR2_TARGET_ENABLE_ROOT_LOGIN=y\n",
        "virt/qemu/metadata/dependencies": "util/rootlogin\n",
        "virt/qemu/metadata/description": "QEMU virtual\nmachine\n",
        "virt/qemu/metadata/commands": "run Run the image in qemu\n",
        "virt/qemu/extensions/Makefile": "run:\n\t@echo run\n",
        "virt/qemu/hooks/pre.sh": "#!/bin/sh\n",
        "virt/qemu/hooks/post.sh": "#!/bin/sh\n",
        "virt/qemu/kernel/virtio": "CONFIG_VIRTIO=y\n",
        "virt/qemu/buildroot/10-arch": "BR2_x86_64=y\n",
        "virt/qemu/buildroot/09-first": "BR2_INIT_BUSYBOX=y\n",
        "virt/qemu/cflags/tune": "# comment\n-mtune=generic\n",
        "android/common/buildroot/x": "BR2_X=y\n",  # no metadata/: still a layer
    })
    plan = load_plan(Project(tmp_path / "proj", (tmp_path / "configs",)))
    rootlogin, qemu = plan.workspaces["b"].chain
    assert (rootlogin.name, rootlogin.unlisted, rootlogin.description) == (
        "util/rootlogin", True, "Allow root login")
    assert qemu.style == "skiffos"
    assert qemu.description == "QEMU virtual machine"
    assert [p.name for p in qemu.fragment_files("buildroot")] == ["09-first", "10-arch"]
    assert qemu.post_build == (tmp_path / "configs/virt/qemu/hooks/pre.sh",)
    assert qemu.post_image == (tmp_path / "configs/virt/qemu/hooks/post.sh",)
    assert qemu.cflags == ("-mtune=generic",)
    assert [(c.name, c.description, c.run[-1]) for c in qemu.commands] == [
        ("run", "Run the image in qemu", "run")]
    assert "android/common" in plan.index.layers


def test_unknown_workspace_is_suggested(tmp_path: Path) -> None:
    write_project(tmp_path, {"layers/a/b/layer.yaml": layer_yaml("x"),
                             "manifests/boards/pi4.yaml": board_yaml(["a/b"])})
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path), ["pi5"])
    assert [str(p) for p in info.value.problems] == [
        "manifests/boards: unknown workspace 'pi5' (did you mean 'pi4'?)"]
