"""What a configuration change needs rebuilt, decided from the test tree's Kconfig."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

from skiffbuild.buildroot.kconfig import buildroot_kconfig
from skiffbuild.buildroot.rebuild import (
    RebuildPlan,
    TreeChange,
    parse_dotconfig,
    plan_rebuild,
    plan_tree_change,
)

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


# What show-info says of a build (its packages and their directories), the files of
# the two trees, and a .config naming board files.
INFO = {name: {"package_dir": d} for name, d in {
    "busybox": "package/busybox", "host-e2fsprogs": "package/e2fsprogs",
    "e2fsprogs": "package/e2fsprogs", "linux": "linux", "uboot": "boot/uboot",
    "host-gcc-final": "package/gcc/gcc-final", "rpi-firmware": "package/rpi-firmware",
    "toolchain-buildroot": "toolchain/toolchain-buildroot"}.items()}
EVERY = ["Makefile", "package/pkg-generic.mk", "package/busybox/busybox.mk",
         "package/htop/htop.mk", "package/e2fsprogs/e2fsprogs.mk", "package/gcc/gcc.mk",
         "package/gcc/gcc-final/gcc-final.mk", "linux/linux.mk", "boot/uboot/uboot.mk",
         "boot/syslinux/syslinux.mk", "package/rpi-firmware/rpi-firmware.mk"]
CONFIG = {"BR2_PACKAGE_RPI_FIRMWARE_CMDLINE_FILE": '"board/raspberrypi/cmdline.txt"',
          "BR2_GLOBAL_PATCH_DIR": '"board/acme/patches $(BR2_EXTERNAL_X_PATH)/patches"',
          "BR2_ROOTFS_POST_BUILD_SCRIPT": '"board/acme/post-build.sh"'}


@pytest.mark.parametrize(("changed", "expected"), [
    (["package/busybox/0001-fix.patch", "package/busybox/busybox.hash"],
     TreeChange(rebuild=(("package/busybox", ("busybox",)),))),
    (["package/e2fsprogs/Config.in"],  # host and target variants share the directory
     TreeChange(rebuild=(("package/e2fsprogs", ("e2fsprogs", "host-e2fsprogs")),))),
    (["package/htop/htop.mk", "boot/syslinux/syslinux.hash"],
     TreeChange(inert=("boot/syslinux (not in this build)", "package/htop (not in this build)"))),
    (["linux/linux.hash", "boot/uboot/uboot.mk"],
     TreeChange(rebuild=(("boot/uboot", ("uboot",)), ("linux", ("linux",))))),
    (["package/Config.in", "Config.in", "CHANGES", "docs/manual/x.adoc", "configs/a_defconfig",
      "utils/check-package", "board/acme/post-build.sh", ".gitlab-ci.yml"],
     TreeChange(inert=(".gitlab-ci.yml", "CHANGES", "Config.in", "board/", "configs/", "docs/",
                       "package/Config.in", "utils/"))),
    (["board/raspberrypi/cmdline.txt", "board/acme/patches/busybox/0001-x.patch"],
     TreeChange(rebuild=(("board/acme/patches/busybox/0001-x.patch", ("busybox",)),
                         ("board/raspberrypi/cmdline.txt", ("rpi-firmware",))))),
    (["support/scripts/apply-patches", "Makefile", "package/pkg-generic.mk",
      "package/busybox/busybox.mk"],
     TreeChange(full=("Makefile", "package/pkg-generic.mk", "support/"))),
    (["toolchain/toolchain-buildroot/Config.in", "arch/Config.in.x86", "fs/common.mk",
      "system/system.mk"],
     TreeChange(full=("arch/", "fs/", "system/", "toolchain/"))),
    # The compiler is a package too, but everything is built with it.
    (["package/gcc/14.3.0/0001-fix.patch"],
     TreeChange(full=("package/gcc (host-gcc-final: the toolchain)",))),
    (["newdir/thing"], TreeChange(full=("newdir/",))),
])
def test_tree_change_decisions(changed: list[str], expected: TreeChange) -> None:
    assert plan_tree_change(changed, EVERY + changed, INFO, CONFIG, Path("/cache/t")) == expected
