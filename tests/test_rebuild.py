"""What a configuration change needs rebuilt, decided from the test tree's Kconfig."""

from __future__ import annotations

import subprocess

import pytest
from conftest import ROOT

from skiffbuild.kconfig import buildroot_kconfig
from skiffbuild.rebuild import RebuildPlan, parse_dotconfig, plan_rebuild

TREE = ROOT / "tests" / "buildroot-tree"
BASE = {"BR2_x86_64": "y", "BR2_PACKAGE_BUSYBOX": "y", "BR2_PACKAGE_BUSYBOX_HTTPD": "n",
        "BR2_PACKAGE_HTOP": "y", "BR2_PACKAGE_DROPBEAR": "y", "BR2_PACKAGE_DROPBEAR_CLIENT": "y",
        "BR2_TARGET_GENERIC_HOSTNAME": '"skiff"', "BR2_PACKAGE_HOST_E2FSPROGS": "y",
        "BR2_INIT_BUSYBOX": "y"}
BUILT = {"busybox", "htop", "dropbear", "host-e2fsprogs", "linux"}


@pytest.fixture(scope="module")
def kconf(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("o")
    subprocess.run(["make", "-s", "-C", str(TREE), f"O={out}", "qemu_x86_64_defconfig"],
                   check=True, capture_output=True)
    return buildroot_kconfig(TREE, out)


@pytest.mark.parametrize(("change", "expected"), [
    ({"BR2_TARGET_GENERIC_HOSTNAME": '"other"', "BR2_ROOTFS_OVERLAY": '"/x"'},
     RebuildPlan(False, (), ())),
    ({"BR2_PACKAGE_E2FSPROGS": "y"}, RebuildPlan(False, (), ())),  # a new package
    ({"BR2_PACKAGE_BUSYBOX_HTTPD": "y"},
     RebuildPlan(False, ("busybox",), ("BR2_PACKAGE_BUSYBOX_HTTPD n -> y: option of busybox",))),
    ({"BR2_PACKAGE_DROPBEAR_CLIENT": "n"},
     RebuildPlan(False, ("dropbear",),
                 ("BR2_PACKAGE_DROPBEAR_CLIENT y -> n: option of dropbear",))),
    ({"BR2_PACKAGE_HTOP": "n"},
     RebuildPlan(True, (), ("BR2_PACKAGE_HTOP y -> n: package removed (Buildroot leaves its "
                            "files in the target)",))),
    ({"BR2_x86_64": "n", "BR2_aarch64": "y"},
     RebuildPlan(True, (), ("BR2_aarch64 n -> y: architecture change",
                            "BR2_x86_64 y -> n: architecture change"))),
    ({"BR2_INIT_BUSYBOX": "n", "BR2_INIT_SYSTEMD": "y"},
     RebuildPlan(True, (), ("BR2_INIT_BUSYBOX y -> n: toolchain/system change",
                            "BR2_INIT_SYSTEMD n -> y: toolchain/system change"))),
])
def test_rebuild_decisions(kconf, change: dict[str, str], expected: RebuildPlan) -> None:
    assert plan_rebuild(BASE, {**BASE, **change}, kconf, TREE, {}, BUILT) == expected


def test_parse_dotconfig() -> None:
    assert parse_dotconfig('#\n# header\nBR2_A=y\n# BR2_B is not set\nBR2_C="x y"\n') == {
        "BR2_A": "y", "BR2_B": "n", "BR2_C": '"x y"'}


def test_symbols_the_tree_does_not_define_need_nothing(kconf) -> None:
    plan = plan_rebuild({"BR2_GONE": "y"}, {"BR2_GONE": "n"}, kconf, TREE, {}, BUILT)
    assert plan == RebuildPlan(False, (), ())
