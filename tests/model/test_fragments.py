"""Fragment parsing and merging: precedence, 'is not set', wrong kinds, merged bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from projectfiles import board_yaml, layer_yaml, write_project

from skiffbuild.buildroot.configure import plan_configuration
from skiffbuild.core.errors import ProblemsError
from skiffbuild.core.project import Project
from skiffbuild.model.fragments import merge, parse_fragment
from skiffbuild.model.plan import load_plan


def parse(tmp_path: Path, text: str, kind: str = "buildroot"):
    file = tmp_path / "frag"
    file.write_text(text)
    return parse_fragment(file, kind, "g/n", "frag")


def test_assignments_and_not_set(tmp_path: Path) -> None:
    found, problems = parse(tmp_path, 'BR2_A=y\n\n# comment\n# BR2_B is not set\n'
                                      'BR2_C="a \\"quoted\\" word"\nBR2_D=0x1F\nBR2_E=-3\n')
    assert problems == []
    assert [(a.symbol, a.value, a.not_set, a.origin.line) for a in found] == [
        ("BR2_A", "y", False, 1), ("BR2_B", "n", True, 4),
        ("BR2_C", '"a \\"quoted\\" word"', False, 5), ("BR2_D", "0x1F", False, 6),
        ("BR2_E", "-3", False, 7)]
    assert found[1].text() == "# BR2_B is not set"


@pytest.mark.parametrize(("kind", "line", "message"), [
    ("buildroot", "CONFIG_CGROUPS=y",
     "frag:2: CONFIG_CGROUPS is a kernel, U-Boot or BusyBox symbol in a Buildroot fragment; "
     "move it to kernel/, uboot/ or busybox/"),
    ("buildroot", "# CONFIG_CGROUPS is not set",
     "frag:2: CONFIG_CGROUPS is a kernel, U-Boot or BusyBox symbol in a Buildroot fragment; "
     "move it to kernel/, uboot/ or busybox/"),
    ("kernel", "BR2_PACKAGE_HTOP=y",
     "frag:2: BR2_PACKAGE_HTOP is a Buildroot symbol in a kernel fragment; move it to buildroot/"),
    ("uboot", "BR2_TARGET_UBOOT=y",
     "frag:2: BR2_TARGET_UBOOT is a Buildroot symbol in a uboot fragment; move it to buildroot/"),
    ("buildroot", "PACKAGE_HTOP=y",
     "frag:2: PACKAGE_HTOP is not a Buildroot symbol (Buildroot symbols start with BR2_)"),
    ("buildroot", "BR2_HOSTNAME=unquoted text",
     "frag:2: BR2_HOSTNAME: invalid value 'unquoted text' (expected y, n, m, a number or a "
     "double-quoted string)"),
    ("buildroot", "BR2_X = y", "frag:2: not a Kconfig assignment: 'BR2_X = y'"),
    ("buildroot", 'BR2_S="unterminated', "frag:2: BR2_S: invalid value '\"unterminated' "
     "(expected y, n, m, a number or a double-quoted string)"),
])
def test_bad_lines_name_file_and_line(tmp_path: Path, kind: str, line: str, message: str) -> None:
    prefix = "BR2_OK=y" if kind == "buildroot" else "CONFIG_OK=y"
    found, problems = parse(tmp_path, f"{prefix}\n{line}\n", kind)
    assert [str(p) for p in problems] == [message]
    assert [a.symbol for a in found] == [prefix.split("=")[0]]


def test_later_assignment_wins_and_moves_last(tmp_path: Path) -> None:
    first, _ = parse(tmp_path, "BR2_aarch64=y\nBR2_X=y\n")
    second, _ = parse(tmp_path, "BR2_x86_64=y\n# BR2_X is not set\n")
    third, _ = parse(tmp_path, "BR2_aarch64=y\n")
    merged = merge("buildroot", first + second + third)
    # aarch64 must come after x86_64: the last request for a choice member wins.
    assert [a.text() for a in merged.final] == [
        "BR2_x86_64=y", "# BR2_X is not set", "BR2_aarch64=y"]
    assert [a.value for a in merged.history["BR2_X"]] == ["y", "n"]


def test_merged_defconfig_bytes(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "layers/base/core/layer.yaml": layer_yaml("base"),
        "layers/base/core/buildroot/20-init": (
            'BR2_INIT_BUSYBOX=y\nBR2_TARGET_GENERIC_HOSTNAME="a"\n'),
        "layers/base/core/buildroot/10-arch": "BR2_x86_64=y\n",
        "layers/base/core/buildroot/B-upper": "BR2_SYSTEM_DHCP=\"eth0\"\n",
        "layers/base/core/root_overlay/etc/motd": "hi\n",
        "layers/base/core/kernel/virtio": "CONFIG_VIRTIO=y\n# CONFIG_DEBUG is not set\n",
        "layers/pi/x/layer.yaml": layer_yaml("x", ["base/core"], extra="cflags: [-O2]\n"),
        "layers/pi/x/buildroot/host": "BR2_TARGET_GENERIC_HOSTNAME=\"b\"\n",
        "layers/pi/x/kernel/debug": "CONFIG_DEBUG=y\n",
        "layers/pi/x/buildroot_patches/busybox/0001.patch": "",
        "manifests/boards/b.yaml": board_yaml(["pi/x"]),
    })
    project = Project(tmp_path)
    ws = load_plan(project).workspaces["b"]
    conf = plan_configuration(ws, project)
    cfg = tmp_path / "workspaces/b/config"
    assert conf.files["buildroot.defconfig"] == f"""\
# Buildroot configuration of workspace 'b', merged by skiffbuild.
# Generated: do not edit. Change a layer's fragments (or overrides/) instead.
# Layers in merge order: base/core, pi/x
# Buildroot: https://example.invalid/buildroot.git @ 679b9ead7620bbf193620d1ebf56f53c1764d37a
# BR2_EXTERNAL: (none)

# base/core: layers/base/core/buildroot/10-arch
BR2_x86_64=y

# base/core: layers/base/core/buildroot/20-init
BR2_INIT_BUSYBOX=y

# base/core: layers/base/core/buildroot/B-upper
BR2_SYSTEM_DHCP="eth0"

# pi/x: layers/pi/x/buildroot/host
#   (replaces "a" from base/core (layers/base/core/buildroot/20-init:2))
BR2_TARGET_GENERIC_HOSTNAME="b"

# skiffbuild: (wiring of the layers)
BR2_ROOTFS_OVERLAY="{tmp_path}/layers/base/core/root_overlay"
BR2_GLOBAL_PATCH_DIR="{tmp_path}/layers/pi/x/buildroot_patches"
BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES="{cfg}/kernel.fragment"
BR2_TARGET_OPTIMIZATION="-O2"
BR2_DL_DIR="{tmp_path}/cache/dl"
BR2_REPRODUCIBLE=y
"""
    assert conf.files["kernel.fragment"].split("\n") == [
        "# Linux kernel configuration of workspace 'b', merged by skiffbuild.",
        "# Generated: do not edit. Change a layer's fragments (or overrides/) instead.",
        "", "# base/core: layers/base/core/kernel/virtio", "CONFIG_VIRTIO=y",
        "", "# pi/x: layers/pi/x/kernel/debug",
        "#   (replaces 'is not set' from base/core "
        "(layers/base/core/kernel/virtio:2))",
        "CONFIG_DEBUG=y", ""]
    # A layer that sets nothing of the kernel's joins the chain: the kernel fragment
    # keeps its bytes, so Buildroot does not reconfigure and rebuild the kernel.
    write_project(tmp_path, {
        "overrides/workspaces/b/buildroot/hostname": 'BR2_TARGET_GENERIC_HOSTNAME="c"\n'})
    ws = load_plan(project).workspaces["b"]
    assert ws.chain[-1].name == "overrides/workspaces/b"
    again = plan_configuration(ws, project)
    assert again.files["buildroot.defconfig"] != conf.files["buildroot.defconfig"]
    assert again.files["kernel.fragment"] == conf.files["kernel.fragment"]


def test_wiring_extends_a_fragment_list_and_runs_hooks(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "layers/a/b/layer.yaml": layer_yaml("b", extra=(
            "hooks:\n  post_build: [hooks/one.sh]\n  post_image: [hooks/img.sh]\n")),
        "layers/a/b/hooks/one.sh": "#!/bin/sh\n",
        "layers/a/b/hooks/img.sh": "#!/bin/sh\n",
        "layers/a/b/buildroot/x": 'BR2_ROOTFS_OVERLAY="board/extra"\n',  # Buildroot-relative
        "layers/a/b/root_overlay/": "",
        "manifests/boards/b.yaml": board_yaml(["a/b"]),
    })
    project = Project(tmp_path)
    conf = plan_configuration(load_plan(project).workspaces["b"], project)
    defconfig = conf.files["buildroot.defconfig"]
    assert f'BR2_ROOTFS_OVERLAY="board/extra {tmp_path}/layers/a/b/root_overlay"' in defconfig
    cfg = tmp_path / "workspaces/b/config"
    assert f'BR2_ROOTFS_POST_BUILD_SCRIPT="{cfg}/post-build.sh"' in defconfig
    assert f'BR2_ROOTFS_POST_IMAGE_SCRIPT="{cfg}/post-image.sh"' in defconfig
    assert conf.modes["post-build.sh"] == 0o755
    assert conf.files["post-build.sh"].splitlines()[-3:] == [
        'echo "skiffbuild: post-build hook a/b"',
        f"export SKIFFBUILD_LAYER=a/b SKIFFBUILD_LAYER_DIR={tmp_path}/layers/a/b",
        f'run_hook {tmp_path}/layers/a/b/hooks/one.sh "$@"']
    assert conf.modes["confine.sh"] == 0o755
    assert conf.files["confine.sh"].startswith("#!/bin/sh\n# Generated by skiffbuild: runs one")


def test_wrong_kind_fragments_fail_the_configuration(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "layers/a/b/layer.yaml": layer_yaml("b"),
        "layers/a/b/buildroot/x": "BR2_A=y\nCONFIG_B=y\n",
        "layers/a/b/kernel/y": "BR2_C=y\n",
        "manifests/boards/b.yaml": board_yaml(["a/b"]),
    })
    project = Project(tmp_path)
    with pytest.raises(ProblemsError) as info:
        plan_configuration(load_plan(project).workspaces["b"], project)
    assert [str(p) for p in info.value.problems] == [
        "layers/a/b/buildroot/x:2: CONFIG_B is a kernel, U-Boot or BusyBox symbol in a Buildroot "
        "fragment; move it to kernel/, uboot/ or busybox/",
        "layers/a/b/kernel/y:1: BR2_C is a Buildroot symbol in a kernel fragment; "
        "move it to buildroot/"]
