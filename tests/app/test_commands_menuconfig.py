"""``skiffbuild menuconfig`` end to end on the test tree: the real menu (kconfiglib's, as the
test tree's ``make menuconfig`` runs it) driven on a terminal, the change saved into a layer,
and edits made outside skiffbuild caught before they are lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MAKE_SOURCES, DoitProject, ran
from terminal import Terminal

WS = "qemu-x86_64"
HEADER = ("# Buildroot settings saved by `skiffbuild menuconfig qemu-x86_64`.\n"
          "# A later save updates the values it names and keeps the rest of this file.\n")


def dotconfig(project: DoitProject) -> Path:
    return project.root / "workspaces" / WS / "output" / ".config"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def menuconfig(project: DoitProject, *args: str) -> Terminal:
    return Terminal([sys.executable, "-m", "skiffbuild", "menuconfig", *args],
                    cwd=project.root, env=project.env)


@pytest.fixture
def configured(doit_project: DoitProject) -> DoitProject:
    doit_project.doit(f"config:{WS}")
    return doit_project


@pytest.mark.slow  # a real terminal
def test_the_menu_choice_is_saved_to_the_layer_and_configures_again(
        configured: DoitProject) -> None:
    project = configured
    assert "# BR2_PACKAGE_HTOP is not set\n" in dotconfig(project).read_text()
    term = menuconfig(project, WS, "--save-to", "virt/qemu")
    try:
        term.wait_for("[/] Jump to symbol")
        term.keys("/", "BR2_PACKAGE_HTOP")
        term.wait_for('BR2_PACKAGE_HTOP(=n) "htop"')
        term.keys("Enter")
        term.wait_for("[ ] htop")
        term.keys("y")
        term.wait_for("[*] htop")
        term.keys("Q")
        term.wait_for("Save configuration?")
        term.keys("y")
        status = term.exit_status()
        screen = term.screen()
    finally:
        term.close()
    assert status == 0, screen
    fragment = project.root / "layers/virt/qemu/buildroot/90-menuconfig"
    # htop selects ncurses and more: only the choice is saved, the rest follows from it.
    assert fragment.read_text() == HEADER + "BR2_PACKAGE_HTOP=y\n"
    assert "saved 1 setting(s) to layers/virt/qemu/buildroot/90-menuconfig" in screen
    assert "configured again from the layers: the result is what the menu showed" in screen
    config = dotconfig(project).read_text()
    assert "BR2_PACKAGE_HTOP=y\n" in config and "BR2_PACKAGE_NCURSES=y\n" in config
    merged = (project.root / "workspaces" / WS / "config" / "buildroot.defconfig").read_text()
    assert "# virt/qemu: layers/virt/qemu/buildroot/90-menuconfig\nBR2_PACKAGE_HTOP=y\n" in merged
    assert ran(project.doit(f"config:{WS}").stdout)[f"config:{WS}"] is False


@pytest.mark.slow  # a real terminal
def test_a_busybox_menu_change_becomes_a_busybox_fragment(configured: DoitProject,
                                                          tmp_path: Path) -> None:
    project = configured
    subprocess.run([str(MAKE_SOURCES), str(tmp_path / "site")], check=True, capture_output=True)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = f"file://{tmp_path / 'site'}"
    term = menuconfig(project, WS, "--busybox", "--save-to", "overrides")
    try:
        term.wait_for("stand-in menu", timeout=120)
        term.keys("CONFIG_FEATURE_EDITING_HISTORY=512", "Enter", "Enter")
        status = term.exit_status()
        screen = term.screen()
    finally:
        term.close()
    assert status == 0, screen
    fragment = project.root / "overrides/busybox/90-menuconfig"
    assert fragment.read_text() == (
        "# BusyBox settings saved by `skiffbuild menuconfig qemu-x86_64`.\n"
        "# A later save updates the values it names and keeps the rest of this file.\n"
        "CONFIG_FEATURE_EDITING_HISTORY=512\n")
    assert "the next build (skiffbuild build qemu-x86_64) configures and builds busybox" in screen
    project.doit(f"config:{WS}")
    merged = (project.root / "workspaces" / WS / "config" / "busybox.fragment").read_text()
    assert "CONFIG_FEATURE_EDITING_HISTORY=512\n" in merged


EDITED = """\
error: workspaces/qemu-x86_64/output/.config was edited outside skiffbuild (1 value(s) differ \
from what config:qemu-x86_64 generated), e.g. by `make menuconfig`:
  BR2_PACKAGE_DROPBEAR_WTMP: 'is not set' -> y
They are not in any layer: regenerating the configuration would lose them, so it was not \
regenerated.
hint: keep them as a fragment: skiffbuild menuconfig qemu-x86_64 --adopt --save-to \
<layer>|overrides
      drop them: skiffbuild menuconfig qemu-x86_64 --discard
"""


def test_edits_to_the_generated_config_stop_the_build_and_can_be_adopted(
        configured: DoitProject) -> None:
    project = configured
    layer_file = project.root / "layers/virt/qemu/buildroot/10-qemu"
    # A later change to the layers would regenerate .config and silently drop the edit.
    edit(dotconfig(project), "# BR2_PACKAGE_DROPBEAR_WTMP is not set",
         "BR2_PACKAGE_DROPBEAR_WTMP=y")
    layer_file.write_text(layer_file.read_text() + "BR2_PACKAGE_DROPBEAR_LASTLOG=y\n")
    for _ in range(2):  # refused every time, not once
        proc = project.doit(f"compile:{WS}", check=False)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == EDITED
        assert "BR2_PACKAGE_DROPBEAR_WTMP=y\n" in dotconfig(project).read_text()
    assert not (project.root / "workspaces" / WS / "output" / "build").exists()
    proc = project.skiffbuild("menuconfig", WS, "--adopt", "--save-to", "skiff/base")
    assert proc.returncode == 0, proc.stderr
    assert (project.root / "layers/skiff/base/buildroot/90-menuconfig").read_text() == (
        HEADER + "BR2_PACKAGE_DROPBEAR_WTMP=y\n")
    config = dotconfig(project).read_text()
    assert "BR2_PACKAGE_DROPBEAR_WTMP=y\n" in config
    assert "BR2_PACKAGE_DROPBEAR_LASTLOG=y\n" in config
    assert ran(project.doit(f"config:{WS}").stdout)[f"config:{WS}"] is False


def test_savedefconfig_over_the_generated_defconfig_is_noticed(configured: DoitProject) -> None:
    project = configured
    output = project.root / "workspaces" / WS / "output"
    defconfig = project.root / "workspaces" / WS / "config" / "buildroot.defconfig"
    generated = defconfig.read_text()
    # Buildroot habit: save the minimal config (to BR2_DEFCONFIG, the generated file).
    subprocess.run(["make", "-s", "-C", str(output), "savedefconfig"], env=project.env,
                   check=True, capture_output=True)
    assert defconfig.read_text() != generated
    proc = project.doit(f"config:{WS}")
    assert ran(proc.stdout)[f"config:{WS}"] is True
    assert ("warning: workspaces/qemu-x86_64/config/buildroot.defconfig was rewritten outside "
            "skiffbuild with the same values (make savedefconfig?)") in proc.stderr
    assert defconfig.read_text() == generated
    # Editing the generated defconfig as if it were the source: an edit, not lost either.
    defconfig.write_text(defconfig.read_text() + "BR2_PACKAGE_HTOP=y\n")
    proc = project.doit(f"config:{WS}", check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        "error: workspaces/qemu-x86_64/config/buildroot.defconfig was replaced outside "
        "skiffbuild (e.g. by `make savedefconfig`) and states other values:\n"
        "  BR2_PACKAGE_HTOP: 'is not set' -> y\n")
    assert defconfig.read_text().endswith("BR2_PACKAGE_HTOP=y\n")
    proc = project.skiffbuild("menuconfig", WS, "--discard")
    assert proc.returncode == 0, proc.stderr
    assert defconfig.read_text() == generated
    assert "# BR2_PACKAGE_HTOP is not set\n" in dotconfig(project).read_text()


def test_a_value_a_later_layer_overrides_is_not_saved(configured: DoitProject) -> None:
    project = configured
    edit(dotconfig(project), 'BR2_TARGET_GENERIC_GETTY_PORT="ttyS0"',
         'BR2_TARGET_GENERIC_GETTY_PORT="ttyS1"')
    proc = project.skiffbuild("menuconfig", WS, "--adopt", "--save-to", "skiff/base")
    assert proc.returncode == 2
    assert proc.stderr == (
        "error: not saved: a later layer would override 1 of the values in "
        "layers/skiff/base/buildroot/90-menuconfig:\n"
        "  BR2_TARGET_GENERIC_GETTY_PORT: virt/qemu (layers/virt/qemu/buildroot/10-qemu:14) "
        "sets it after skiff/base\n"
        "hint: save to a later layer or to overrides/workspaces/qemu-x86_64; the edits stay in "
        "output/.config until saved (--adopt) or dropped (--discard)\n")
    assert not (project.root / "layers/skiff/base/buildroot/90-menuconfig").exists()
    assert 'BR2_TARGET_GENERIC_GETTY_PORT="ttyS1"' in dotconfig(project).read_text()
    proc = project.skiffbuild("menuconfig", WS, "--adopt", "--save-to",
                              f"overrides/workspaces/{WS}")
    assert proc.returncode == 0, proc.stderr
    saved = project.root / "overrides/workspaces" / WS / "buildroot/90-menuconfig"
    assert saved.read_text() == HEADER + 'BR2_TARGET_GENERIC_GETTY_PORT="ttyS1"\n'
    # A second save updates the value in place and keeps what the user added.
    saved.write_text(saved.read_text() + "# mine\nBR2_PACKAGE_HTOP=y\n")
    project.doit(f"config:{WS}")
    edit(dotconfig(project), 'BR2_TARGET_GENERIC_GETTY_PORT="ttyS1"',
         'BR2_TARGET_GENERIC_GETTY_PORT="ttyS2"')
    proc = project.skiffbuild("menuconfig", WS, "--adopt", "--save-to",
                              f"overrides/workspaces/{WS}")
    assert proc.returncode == 0, proc.stderr
    assert saved.read_text() == (HEADER + 'BR2_TARGET_GENERIC_GETTY_PORT="ttyS2"\n'
                                 "# mine\nBR2_PACKAGE_HTOP=y\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--save-to", "virt/qemuu"],
     "error: --save-to virt/qemuu: not a layer of workspace 'qemu-x86_64' (did you mean "
     "'virt/qemu'?)\nhint: its layers: skiff/base, virt/qemu; or overrides, or "
     "overrides/workspaces/qemu-x86_64\n"),
    ([], "error: say where the changes go: --save-to <layer>, --save-to overrides or "
         "--save-to overrides/workspaces/qemu-x86_64\nhint: the layers of qemu-x86_64: "
         "skiff/base, virt/qemu\n"),
    (["--kernel", "--busybox", "--save-to", "virt/qemu"],
     "error: choose one of --kernel, --busybox, --uboot\n"),
])
def test_mistakes_are_refused_before_any_menu(doit_project: DoitProject, args: list[str],
                                              message: str) -> None:
    proc = doit_project.skiffbuild("menuconfig", WS, *args)
    assert (proc.returncode, proc.stderr) == (2, message)
    assert not (doit_project.root / "workspaces").exists()
