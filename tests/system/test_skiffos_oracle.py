"""The SkiffOS oracle (tests/skiffos_oracle.py) against the real SkiffOS 2026.08 and real
Buildroot 2026.08-rc1 from shared/: the chains SkiffOS resolves (reference/skiffos.md §5),
what its configure writes, the BR2_EXTERNAL it passes, and the .config real Buildroot makes
of it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from skiffos_oracle import (
    ORACLE_CONFIGS,
    SkiffosConfigureError,
    SkiffosResult,
    buildroot_2026_08_tree,
    parse_config,
    skiffos_configure,
    skiffos_dotconfig,
    skiffos_externals,
    skiffos_results,
    skiffos_root,
)

pytestmark = pytest.mark.real_buildroot

# SKIFF_CONFIG -> the chain SkiffOS 2026.08 resolves. The first two are reference/skiffos.md
# §5; the others were recorded from SkiffOS's own make configure.
CHAINS = {
    "pi/4,skiff/core": "skiff/moduleimg,pi/common,pi/4x64,pi/4,apps/runc,apps/containerd,"
                       "apps/docker,skiff/core",
    "virt/qemu,skiff/core": "util/rootlogin,virt/qemu,apps/runc,apps/containerd,apps/docker,"
                            "skiff/core",
    "odroid/c4,skiff/core": "skiff/moduleimg,odroid/common,odroid/c4,apps/runc,apps/containerd,"
                            "apps/docker,skiff/core",
    "pine64/rockpro64,core/gentoo": "pine64/common,skiff/moduleimg,pine64/rockpro64,apps/runc,"
                                    "apps/containerd,apps/docker,skiff/core,core/gentoo",
    "modalai/voxl2,skiff/core": "skiff/moduleimg,modalai/voxl2,apps/runc,apps/containerd,"
                                "apps/docker,skiff/core",
    # util/rootlogin keeps its user-given place after the dependencies of the others.
    "usbarmory/mk2,core/alpine,util/rootlogin": "usbarmory/common,usbarmory/mk2,apps/runc,"
                                                "apps/containerd,apps/docker,skiff/core,"
                                                "core/alpine,util/rootlogin",
}

# Session fixtures, imported so that pytest finds them.
_ = (skiffos_root, skiffos_results, buildroot_2026_08_tree)


def test_oracle_configs_are_the_chains_here() -> None:
    assert list(ORACLE_CONFIGS) == list(CHAINS)


@pytest.mark.parametrize("skiff_config", CHAINS)
def test_resolved_chain(skiffos_results: dict[str, SkiffosResult], skiff_config: str) -> None:
    result = skiffos_results[skiff_config]
    print(f"{skiff_config} -> {','.join(result.chain)}")
    assert ",".join(result.chain) == CHAINS[skiff_config]
    root = result.root
    ws = result.workspace
    # Merge order as SkiffOS printed it: pre, the chain, overrides, workspace overrides, post.
    assert result.layer_dirs == (root / "configs-base/pre",
                                 *(root / "configs" / name for name in result.chain),
                                 root / "overrides", root / "overrides/workspaces" / ws,
                                 root / "configs-base/post")
    assert result.config_dir == root / "workspaces" / f".config_{ws}"
    assert result.version == "unknown"  # not a git checkout
    # Recorded by the stand-in Buildroot: exactly what build_configs.sh computes.
    assert list(result.externals) == skiffos_externals(result.layer_dirs)
    assert result.externals[0] == root / "configs-base/pre/buildroot_ext"


def test_configure_outputs(skiffos_results: dict[str, SkiffosResult]) -> None:
    pi4 = skiffos_results["pi/4,skiff/core"]
    root = pi4.root
    # reference/skiffos.md §7: pi4's BR2_EXTERNAL.
    assert pi4.externals == (root / "configs-base/pre/buildroot_ext",
                             root / "configs/skiff/core/buildroot_ext")
    assert [r.workspace for r in skiffos_results.values()
            if r.externals[1:] == (root / "configs/skiff/core/buildroot_ext",)] == ["pi4", "qemu"]
    assert skiffos_results["pine64/rockpro64,core/gentoo"].externals[1:] == (
        root / "configs/pine64/common/buildroot_ext", root / "configs/skiff/core/buildroot_ext",
        root / "configs/core/gentoo/buildroot_ext")

    # §6.3: Buildroot fragments are concatenated, both arch choices are in pi4's defconfig.
    text = pi4.defconfig.read_text()
    assert text.startswith("\n# Configuration from ")
    assert "BR2_x86_64=y" in text and "BR2_aarch64=y" in text
    requested = pi4.requested()
    assert requested["BR2_aarch64"] == "y"
    assert (requested["BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES"]
            == f'"{pi4.config_dir}//kernel/config"')
    assert requested["BR2_CCACHE_DIR"] == f'"{root}/workspaces/.ccache/pi4"'
    assert requested["BR2_TARGET_GENERIC_HOSTNAME"] == '"skiffos-unknown"'

    for result in skiffos_results.values():
        assert result.kernel_fragment == result.config_dir / "kernel/config"
        assert result.busybox_fragment == result.config_dir / "busybox/config"  # from pre
        assert result.users_table is None  # no layer has users/
        assert result.log.count("\nMerging Skiff config at ") == len(result.layer_dirs)
    assert [r.workspace for r in skiffos_results.values() if r.uboot_fragment] == ["c4"]
    assert {r.workspace: r.cflags for r in skiffos_results.values() if r.cflags} == {
        "c4": "-march=armv8.2-a+crypto+fp16+rcpc+dotprod -mtune=cortex-a55 ",
        "rockpro64": "-march=armv8-a+crc+crypto -mtune=cortex-a72.cortex-a53 "
                     "-mfix-cortex-a53-835769 -mfix-cortex-a53-843419 "}
    c4 = skiffos_results["odroid/c4,skiff/core"]
    assert c4.requested()["BR2_TARGET_OPTIMIZATION"] == f'"{c4.cflags}"'

    # The kernel merge's messages, e.g. pre's fs fragment unsetting a symbol base set.
    qemu = skiffos_results["virt/qemu,skiff/core"]
    assert any(n.symbol == "CONFIG_MEMCG_SWAP_ENABLED" and n.kind == "redefined"
               and n.fragment == root / "configs-base/pre/kernel/fs" for n in qemu.merge_notes)
    assert {n.kind for n in qemu.merge_notes} == {"redefined", "redundant"}


def test_unknown_layer_is_a_hard_error(skiffos_root: Path) -> None:
    with pytest.raises(SkiffosConfigureError) as err:
        skiffos_configure(skiffos_root, "virt/qemu,nosuch/layer", "unknown")
    assert err.value.returncode != 0
    assert "[nosuch/layer] Unknown path!" in err.value.log


def test_standin_buildroot_supports_only_defconfig(skiffos_root: Path) -> None:
    proc = subprocess.run(["make", "-C", str(skiffos_root / "buildroot"), "menuconfig"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "target 'menuconfig' is not supported" in proc.stderr


def test_parse_config() -> None:
    assert parse_config('\n# c\nBR2_A=y\n# BR2_B is not set\nBR2_S="x y"\nBR2_A=n\n#BR2_C=y\n'
                        ) == {"BR2_A": "n", "BR2_B": "n", "BR2_S": '"x y"'}


def test_qemu_dotconfig_on_buildroot_2026_08(skiffos_results: dict[str, SkiffosResult],
                                             buildroot_2026_08_tree: Path,
                                             tmp_path: Path) -> None:
    qemu = skiffos_results["virt/qemu,skiff/core"]
    config = skiffos_dotconfig(qemu, buildroot_2026_08_tree, tmp_path / "qemu")
    assert config.path == tmp_path / "qemu" / ".config"
    assert config["BR2_x86_64"] == "y"
    assert config["BR2_INIT_SYSTEMD"] == "y"
    assert config["BR2_TOOLCHAIN_BUILDROOT_GLIBC"] == "y"
    assert config["BR2_LINUX_KERNEL"] == "y"
    assert config["BR2_PACKAGE_OPENSSH_SERVER"] == "y"
    assert config["BR2_PACKAGE_NETWORK_MANAGER"] == "y"
    assert config["BR2_PACKAGE_DOCKER_ENGINE"] == "y"
    assert config["BR2_PACKAGE_SKIFF_CORE"] == "y"  # from skiff/core's BR2_EXTERNAL
    assert config["BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES"] == f'"{qemu.config_dir}//kernel/config"'
    assert config["BR2_ROOTFS_OVERLAY"] == qemu.requested()["BR2_ROOTFS_OVERLAY"]
    # Buildroot's kconfig resolves what SkiffOS's concatenation left twice.
    assert any("override: reassigning to symbol" in w for w in config.warnings)


def test_pi4_dotconfig_on_buildroot_2026_08(skiffos_results: dict[str, SkiffosResult],
                                            buildroot_2026_08_tree: Path,
                                            tmp_path: Path) -> None:
    config = skiffos_dotconfig(skiffos_results["pi/4,skiff/core"], buildroot_2026_08_tree, tmp_path)
    assert config["BR2_aarch64"] == "y"
    assert config["BR2_cortex_a72"] == "y"
    assert config["BR2_x86_64"] == "n"  # pre's arch, replaced by pi/4x64's
    assert config["BR2_INIT_SYSTEMD"] == "y"
    assert config["BR2_PACKAGE_RPI_FIRMWARE"] == "y"
    assert config["BR2_LINUX_KERNEL_DEFCONFIG"] == '"bcm2711"'


def test_voxl2_dotconfig_loses_systemd(skiffos_results: dict[str, SkiffosResult],
                                       buildroot_2026_08_tree: Path, tmp_path: Path) -> None:
    """reference/skiffos.md §13.4 on the real thing: modalai/voxl2 sets 4.19 kernel headers,
    so Buildroot drops the systemd init that configs-base/pre asks for, silently for SkiffOS
    (its merge never checks), while skiff/core still selects docker-engine."""
    voxl2 = skiffos_results["modalai/voxl2,skiff/core"]
    assert voxl2.requested()["BR2_INIT_SYSTEMD"] == "y"
    config = skiffos_dotconfig(voxl2, buildroot_2026_08_tree, tmp_path)
    assert config["BR2_aarch64"] == "y"
    assert config["BR2_PACKAGE_HOST_LINUX_HEADERS_CUSTOM_4_19"] == "y"
    assert "BR2_INIT_SYSTEMD" not in config
    assert config["BR2_INIT_BUSYBOX"] == "y"
    assert "BR2_PACKAGE_NETWORK_MANAGER" not in config
    assert config["BR2_PACKAGE_DOCKER_ENGINE"] == "y"
    assert "WARNING: unmet direct dependencies detected for BR2_PACKAGE_DOCKER_ENGINE" in (
        config.warnings)
