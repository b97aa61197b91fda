"""A SkiffOS checkout on the layer path gives the system SkiffOS gives: the same chain and,
through the same real Buildroot (2026.08-rc1, the closest upstream to SkiffOS 2026.08), the
same .config symbol for symbol, except paths and what skiffbuild sets on purpose
(``ON_PURPOSE``, listed in the README). SkiffOS's own configure is the oracle
(tests/skiffos_oracle.py). Also: SkiffOS's real hooks run confined with their files in the
image."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import DoitProject, ran
from skiffos_oracle import (
    ORACLE_CONFIGS,
    SkiffosResult,
    buildroot_2026_08_tree,
    parse_config,
    skiffbuild_on_skiffos,
    skiffos_dotconfig,
    skiffos_results,
    skiffos_root,
    skiffos_tree,
)

from skiffbuild.app.testtree import create_testtree_repo

_ = (skiffos_root, buildroot_2026_08_tree, skiffos_results)

pytestmark = pytest.mark.real_buildroot

COMPARED = ("pi/4,skiff/core", "virt/qemu,skiff/core", "odroid/c4,skiff/core",
            "pine64/rockpro64,core/gentoo")
ARCH = {"pi4": "aarch64", "qemu": "x86_64", "c4": "aarch64", "rockpro64": "aarch64"}

# What skiffbuild sets differently on purpose (the README lists the same): paths of files
# it generates or keeps elsewhere, and reproducibility.
ON_PURPOSE = {
    "BR2_DEFCONFIG": "the generated defconfig: workspaces/<ws>/config/buildroot.defconfig",
    "BR2_DL_DIR": "the project's verified download cache, cache/dl",
    "BR2_CCACHE_DIR": "cache/ccache/<ws> instead of SkiffOS's workspaces/.ccache/<ws>",
    "BR2_REPRODUCIBLE": "y: reproducible images are the point",
    "BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES": "generated file, config/kernel.fragment",
    "BR2_TARGET_UBOOT_CONFIG_FRAGMENT_FILES": "generated file, config/uboot.fragment",
    "BR2_PACKAGE_BUSYBOX_CONFIG_FRAGMENT_FILES": "generated file, config/busybox.fragment",
    "BR2_ROOTFS_POST_BUILD_SCRIPT": "generated file, config/post-build.sh",
    "BR2_ROOTFS_POST_IMAGE_SCRIPT": "generated file, config/post-image.sh, only when a layer "
                                    "has a post-image hook",
    "BR2_ROOTFS_POST_IMAGE_SCRIPT_ARGS": "exists only with a post-image script",
    "BR2_ROOTFS_USERS_TABLES": "generated file, config/users.table, only when a layer has "
                               "users/",
}
# Lists of the layers' directories: equal once SkiffOS's own overrides/ (its checkout's,
# merged after the chain; skiffbuild's overrides/ are the project's) is left out.
LAYER_LISTS = ("BR2_ROOTFS_OVERLAY", "BR2_GLOBAL_PATCH_DIR", "BR2_LINUX_KERNEL_PATCH",
               "BR2_TARGET_UBOOT_PATCH")


def _words(value: str | None) -> list[str]:
    return (value or '""').strip('"').split()


@pytest.fixture(scope="session")
def skiffbuild_side(tmp_path_factory: pytest.TempPathFactory, skiffos_root: Path) -> DoitProject:
    """A skiffbuild project whose boards are the compared SKIFF_CONFIGs, on the SkiffOS
    checkout (as SKIFFBUILD_LAYER_PATH) and real Buildroot 2026.08-rc1, configured."""
    project = skiffbuild_on_skiffos(tmp_path_factory.mktemp("skiffbuild-skiffos") / "project",
                                    skiffos_root)
    for config in COMPARED:
        ws = ORACLE_CONFIGS[config]
        (project.root / "manifests" / "boards" / f"{ws}.yaml").write_text(
            f"format: 1\ndescription: SKIFF_CONFIG={config}\narchitecture: {ARCH[ws]}\n"
            f"layers: [{', '.join(config.split(','))}]\nimage:\n  table: mbr\n"
            "  partitions:\n    - {name: boot, filesystem: vfat, size: 64M}\n")
    project.doit("-n", "2", *(f"config:{ORACLE_CONFIGS[c]}" for c in COMPARED))
    return project


@pytest.mark.parametrize("config", COMPARED)
def test_the_chain_and_config_equal_skiffos(config: str, skiffbuild_side: DoitProject,
                                            skiffos_results: dict[str, SkiffosResult],
                                            buildroot_2026_08_tree: Path,
                                            tmp_path: Path) -> None:
    ws = ORACLE_CONFIGS[config]
    oracle = skiffos_results[config]
    proc = skiffbuild_side.skiffbuild("layers", ws, "--json")
    chain = [c["name"] for c in json.loads(proc.stdout)["chain"]]
    assert chain == ["configs-base/pre", *oracle.chain, "configs-base/post"]

    theirs = skiffos_dotconfig(oracle, buildroot_2026_08_tree, tmp_path / "skiffos-out")
    ours = parse_config((skiffbuild_side.root / "workspaces" / ws / "output" /
                         ".config").read_text())
    differ = {sym for sym in theirs.keys() | ours.keys() if theirs.get(sym) != ours.get(sym)}
    assert len(theirs) > 1000  # a whole Buildroot configuration, not a stub
    own_overrides = str(oracle.root / "overrides")
    for sym in LAYER_LISTS:
        skiffos = [w for w in _words(theirs.get(sym)) if not w.startswith(own_overrides)]
        assert skiffos == _words(ours.get(sym)), sym
    assert theirs.get("BR2_TARGET_OPTIMIZATION", '""').replace(" \"", "\"") == \
        ours.get("BR2_TARGET_OPTIMIZATION", '""')  # SkiffOS leaves a trailing blank
    unexplained = sorted(differ - set(ON_PURPOSE) - set(LAYER_LISTS)
                         - {"BR2_TARGET_OPTIMIZATION"})
    assert unexplained == [], {s: (theirs.get(s), ours.get(s)) for s in unexplained}
    # The base layers did their part: the architecture, init and kernel of the board.
    assert ours[f"BR2_{'x86_64' if ws == 'qemu' else 'aarch64'}"] == "y"
    assert ours["BR2_INIT_SYSTEMD"] == "y" and ours["BR2_LINUX_KERNEL"] == "y"
    assert ours["BR2_PACKAGE_OPENSSH"] == "y"
    assert ours["BR2_TARGET_GENERIC_HOSTNAME"] == '"skiffos-unknown"'  # REPLACEME_*
    # What check reports and SkiffOS never says: pre asks for a symbol of SkiffOS's fork.
    report = json.loads((skiffbuild_side.root / "workspaces" / ws / "config" /
                         "check.json").read_text())
    assert {(f["kind"], f["symbol"]) for f in report["findings"]} >= {
        ("unknown", "BR2_SKIFFOS_BACKUP_SITE")}


# ------------------------------------------------------------------ hooks


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.lstat().st_mtime_ns, p.lstat().st_size) for p in root.rglob("*")}


def test_skiffos_hooks_run_confined_and_their_files_reach_the_image(tmp_path: Path) -> None:
    """SkiffOS's own hooks (configs-base/pre, skiff/moduleimg, util/noserial, unchanged) in
    a build on the test tree: SKIFF_* variables point into the workspace, nothing is
    written outside it, and what they make is in the images and the root filesystem."""
    full = skiffos_tree(tmp_path / "full")
    checkout = tmp_path / "SkiffOS"
    (checkout / "configs-base" / "pre").mkdir(parents=True)
    for part in ("hooks", "root_overlay"):  # pre's hooks, without its package choices
        shutil.copytree(full / "configs-base" / "pre" / part,
                        checkout / "configs-base" / "pre" / part, symlinks=True)
    shutil.copytree(full / "configs-base" / "post", checkout / "configs-base" / "post")
    for layer in ("skiff/moduleimg", "util/noserial"):
        shutil.copytree(full / "configs" / layer, checkout / "configs" / layer, symlinks=True)
    repo = tmp_path / "tree" / "buildroot"
    sha = create_testtree_repo(repo)
    from conftest import MAKE_SOURCES, PinnedTree, make_doit_project

    board = (Path(__file__).parents[2] / "manifests/boards/qemu-x86_64.yaml").read_text()
    project = make_doit_project(tmp_path / "project", PinnedTree(repo, sha), boards={
        "sq": board.replace("layers: [virt/qemu]",
                            "layers: [virt/qemu, skiff/moduleimg, util/noserial]")})
    subprocess.run([str(MAKE_SOURCES), str(tmp_path / "site")], check=True,
                   capture_output=True)
    project.env.update(SKIFFBUILD_LAYER_PATH=str(checkout),
                       SKIFFBUILD_PRIMARY_SITE=f"file://{tmp_path / 'site'}")
    before = _snapshot(checkout)
    host = [p for p in (Path("/target"), Path("/images")) if not p.exists()]
    proc = project.doit("image:sq")
    assert ran(proc.stdout)["image:sq"] is True
    log = (project.root / "workspaces/sq/logs/compile.log").read_text()
    for hook in ("post-build hook configs-base/pre", "post-build hook skiff/moduleimg",
                 "post-build hook util/noserial", "Building modules image...",
                 "Creating systemd mask for ttyS0"):
        assert hook in log
    output = project.root / "workspaces/sq/output"
    release = (output / "images/skiff-release").read_text()
    assert 'NAME=SkiffOS\n' in release
    assert 'BUILD_CONFIG="skiff/moduleimg,util/noserial"\n' in release
    assert (output / "images/rootfs_part/modules.squashfs").stat().st_size > 0
    assert (output / "images/.disable-serial-console").is_file()
    mask = output / "target/etc/systemd/system/serial-getty@ttyS0.service"
    assert os.readlink(mask) == "/dev/null"
    in_image = subprocess.run(["cpio", "-i", "--quiet", "--to-stdout", "etc/os-release"],
                              stdin=(output / "images/rootfs.cpio").open("rb"),
                              capture_output=True, check=True).stdout.decode()
    assert in_image.startswith("NAME=SkiffOS\n")
    # Nothing written outside the workspace: the checkout is untouched, no /target.
    assert _snapshot(checkout) == before
    assert [p for p in host if p.exists()] == []


@pytest.mark.parametrize("config", sorted(set(ORACLE_CONFIGS) - set(COMPARED)))
def test_the_chain_equals_skiffos_for_the_tricky_orders(config: str, tmp_path: Path,
                                                        skiffos_root: Path,
                                                        skiffos_results: dict[str, SkiffosResult],
                                                        ) -> None:
    """modalai/voxl2 and usbarmory/mk2: configurations whose chain a dependency sort gets
    wrong (a layer SkiffOS never moves)."""
    from skiffbuild.core.project import Project
    from skiffbuild.model.plan import load_plan

    project = skiffbuild_on_skiffos(tmp_path / "project", skiffos_root)
    (project.root / "manifests/boards/b.yaml").write_text(
        f"format: 1\ndescription: b\narchitecture: arm\nlayers: [{config}]\nimage:\n"
        "  table: mbr\n  partitions:\n    - {name: boot, filesystem: vfat, size: 64M}\n")
    plan = load_plan(Project(project.root, layer_path=(skiffos_root,)), ["b"])
    chain = [la.name for la in plan.workspaces["b"].chain]
    assert chain == ["configs-base/pre", *skiffos_results[config].chain, "configs-base/post"]
