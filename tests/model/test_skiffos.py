"""A SkiffOS checkout on the layer path: its base layers, its chain order, its variables
(skiffbuild.model.skiffos and the planner), on a small SkiffOS-shaped tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PinnedTree, make_doit_project
from projectfiles import board_yaml, write_files, write_project

from skiffbuild.core.errors import ProblemsError
from skiffbuild.core.project import Project
from skiffbuild.model.plan import load_plan
from skiffbuild.model.skiffos import skiff_environment, skiffos_order

# The dependencies of the layers in reference/skiffos.md §5's examples.
DEPS = {
    "pi/4": ["skiff/moduleimg", "pi/common", "pi/4x64"], "pi/4x64": ["pi/common"],
    "pi/common": [], "skiff/moduleimg": [], "skiff/core": ["apps/docker"],
    "apps/docker": ["apps/containerd"], "apps/containerd": ["apps/runc"], "apps/runc": [],
    "virt/qemu": ["util/rootlogin"], "util/rootlogin": [],
}


@pytest.mark.parametrize(("requested", "chain"), [
    ("pi/4,skiff/core", "skiff/moduleimg,pi/common,pi/4x64,pi/4,apps/runc,apps/containerd,"
                        "apps/docker,skiff/core"),
    ("skiff/core,pi/4,skiff/core", "apps/runc,apps/containerd,apps/docker,skiff/core,"
                                   "skiff/moduleimg,pi/common,pi/4x64,pi/4"),
    ("virt/qemu", "util/rootlogin,virt/qemu"),
    ("virt/qemu,skiff/core", "util/rootlogin,virt/qemu,apps/runc,apps/containerd,apps/docker,"
                             "skiff/core"),
    # A dependency the user listed later keeps its place (not a dependency sort).
    ("virt/qemu,util/rootlogin", "virt/qemu,util/rootlogin"),
])
def test_skiffos_order_matches_skiffos(requested: str, chain: str) -> None:
    assert skiffos_order(requested.split(","), lambda n: DEPS.get(n)) == chain.split(",")


def skiffos_checkout(root: Path) -> Path:
    """A SkiffOS-shaped checkout: configs/ with metadata/ layers, configs-base/pre, post."""
    write_files(root, {
        "configs-base/pre/buildroot/version":
            'BR2_TARGET_GENERIC_HOSTNAME="skiffos-REPLACEME_SKIFF_VERSION_COMMIT"\n',
        "configs-base/pre/hooks/pre.sh": "#!/bin/sh\ntouch $SKIFF_BUILDROOT_DIR/target/pre\n",
        "configs-base/pre/metadata/dependencies": "skiff/standard\n",  # never read
        "configs-base/post/buildroot/config":
            'BR2_ROOTFS_OVERLAY="REPLACEME_ROOTFS_OVERLAY"\n'
            'BR2_ROOTFS_USERS_TABLES="REPLACEME_FINAL_CONFIG_DIR/users"\n',
        "configs/virt/qemu/metadata/dependencies": "util/rootlogin\n",
        "configs/virt/qemu/metadata/description": "QEMU\n",
        "configs/virt/qemu/metadata/commands": "run Run in qemu.\nbare\n",
        "configs/virt/qemu/extensions/Makefile": "run:\n\techo $(SKIFF_CURRENT_CONF_DIR)\n",
        "configs/virt/qemu/buildroot/arch": "BR2_x86_64=y\n",
        "configs/util/rootlogin/metadata/description": "Root login.\n",
        "configs/util/rootlogin/metadata/commands": "login Listed, but no extensions/.\n",
        "configs/util/rootlogin/users/root": "admin -1 admin -1 =x /home/admin /bin/sh - Admin\n",
    })
    return root / "configs"


def test_a_skiffos_checkout_brings_its_base_layers_and_order(tmp_path: Path) -> None:
    configs = skiffos_checkout(tmp_path / "SkiffOS")
    project_root = write_project(tmp_path / "project", {
        "manifests/boards/vm.yaml": board_yaml(["virt/qemu"]),
        "manifests/boards/dfs.yaml": board_yaml(["virt/qemu"], extra="layer_order: depth-first\n"),
    })
    for entry in (configs, configs.parent):  # configs/ or the checkout itself
        project = Project(project_root, layer_path=(entry,))
        plan = load_plan(project)
        ws = plan.workspaces["vm"]
        assert [la.name for la in ws.chain] == [
            "configs-base/pre", "util/rootlogin", "virt/qemu", "configs-base/post"]
        assert ws.skiffos is not None and ws.skiffos.home == configs.parent
        assert (ws.skiffos.version, ws.skiffos.commit) == ("unknown", "unknown")
        # Commands as SkiffOS lists them: only with extensions/, only with a description.
        assert [(la.name, c.name) for la in ws.chain for c in la.commands] == [
            ("virt/qemu", "run")]
        assert ws.chain[1].users == (configs / "util/rootlogin/users/root",)
        assert ws.chain[0].post_build == (configs.parent / "configs-base/pre/hooks/pre.sh",)
        assert ws.chain[0].dependencies == ()
    env = skiff_environment(ws.skiffos, "vm", ws.paths.output, ws.paths.config, project_root,
                            ws.chain)
    assert env["SKIFF_BUILDROOT_DIR"] == env["BUILDROOT_DIR"] == str(ws.paths.output)
    assert env["SKIFF_CONFIG"] == "util/rootlogin,virt/qemu"
    assert env["SKIFF_CONFIG_PATH_VIRT_QEMU"] == str(configs / "virt/qemu")
    assert env["SKIFF_ROOT_DIR"] == str(configs.parent)


def test_an_unknown_dependency_is_blamed_on_the_layer_that_names_it(tmp_path: Path) -> None:
    configs = skiffos_checkout(tmp_path / "SkiffOS")
    (configs / "util/rootlogin/metadata/dependencies").write_text("util/nothere\n")
    project_root = write_project(tmp_path / "project", {
        "manifests/boards/vm.yaml": board_yaml(["virt/qemu"])})
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(project_root, layer_path=(configs,)))
    assert str(info.value.problems[0]) == (
        f"{configs}/util/rootlogin/metadata/dependencies:1: unknown layer 'util/nothere'")


def test_a_skiffos_command_runs_with_skiffos_variables(tmp_path: Path) -> None:
    """`skiffbuild run` of a SkiffOS layer command: make in its extensions/ with the
    variables its scripts use (SkiffOS's cmd/virt/qemu/run ran /scripts/execute_qemu.sh
    without them), every directory inside the workspace."""
    configs = skiffos_checkout(tmp_path / "SkiffOS")
    (configs / "virt/qemu/extensions/Makefile").write_text(
        "run:\n\t@echo \"conf=$(SKIFF_CURRENT_CONF_DIR) br=$(SKIFF_BUILDROOT_DIR) "
        "ws=$(SKIFF_WORKSPACE) config=$(SKIFF_CONFIG) args=$(ARGS)\"\n")
    project_root = write_project(tmp_path / "project", {
        "manifests/boards/vm.yaml": board_yaml(["virt/qemu"])})
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKIFF")}
    env["SKIFFBUILD_LAYER_PATH"] = str(configs.parent)
    proc = subprocess.run([sys.executable, "-m", "skiffbuild", "run", "vm", "virt/qemu/run",
                           "ARGS=x"], cwd=project_root, env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    output = project_root / "workspaces/vm/output"
    assert f"conf={configs}/virt/qemu br={output} ws=vm config=util/rootlogin,virt/qemu " \
           "args=x" in proc.stdout


def test_a_skiffos_workspace_configures_as_skiffos_wires_it(tmp_path: Path,
                                                            testtree: PinnedTree) -> None:
    """config: of a SkiffOS workspace on the test tree: placeholders substituted, post's
    REPLACEME paths replaced by the wiring, the users tables concatenated, a per-workspace
    ccache directory, the SKIFF_* variables in the generated hook script."""
    configs = skiffos_checkout(tmp_path / "SkiffOS")
    (configs / "virt/qemu/buildroot/cache").write_text("BR2_CCACHE=y\n")
    project = make_doit_project(tmp_path / "project", testtree, boards={
        "vm": board_yaml(["virt/qemu"])})
    project.env["SKIFFBUILD_LAYER_PATH"] = str(configs.parent)
    project.doit("config:vm")
    cfg = project.root / "workspaces/vm/config"
    defconfig = (cfg / "buildroot.defconfig").read_text()
    assert 'BR2_TARGET_GENERIC_HOSTNAME="skiffos-unknown"\n' in defconfig
    assert "REPLACEME" not in defconfig
    dotconfig = (project.root / "workspaces/vm/output/.config").read_text()
    assert f'BR2_ROOTFS_USERS_TABLES="{cfg}/users.table"\n' in dotconfig
    assert f'BR2_CCACHE_DIR="{project.root}/cache/ccache/vm"\n' in dotconfig
    assert (cfg / "users.table").read_text() == (
        "# makeusers table of workspace 'vm', concatenated by skiffbuild from:\n"
        f"# util/rootlogin: {configs}/util/rootlogin/users/root\n"
        "admin -1 admin -1 =x /home/admin /bin/sh - Admin\n")
    hook = (cfg / "post-build.sh").read_text()
    assert f"export SKIFF_BUILDROOT_DIR={project.root}/workspaces/vm/output\n" in hook
    assert f"export SKIFF_CURRENT_CONF_DIR={configs.parent}/configs-base/pre " in hook
    assert (project.root / "workspaces/vm/output/output").readlink() == Path(".")
