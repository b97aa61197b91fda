"""``skiffbuild menuconfig`` on real Buildroot: its own ``make menuconfig`` (mconf, built
against ncurses on first use) driven on a terminal, the choice saved into a layer, and the
workspace configured again from the layers to the configuration the menu showed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import make_real_project, ran
from terminal import Terminal

pytestmark = pytest.mark.real_buildroot

WS = "qemu-x86_64"


def test_real_menuconfig_round_trip(tmp_path: Path) -> None:
    project = make_real_project(tmp_path / "project")
    project.doit(f"config:{WS}")
    dotconfig = project.root / "workspaces" / WS / "output" / ".config"
    assert "# BR2_PACKAGE_HTOP is not set\n" in dotconfig.read_text()
    term = Terminal([sys.executable, "-m", "skiffbuild", "menuconfig", WS,
                     "--save-to", "virt/qemu"], cwd=project.root, env=project.env)
    try:
        term.wait_for("<Select>", timeout=300)  # mconf is compiled first
        term.keys("/", "BR2_PACKAGE_HTOP", "Enter")
        term.wait_for("Symbol: BR2_PACKAGE_HTOP [=n]")
        term.keys("1")  # jump to it
        term.wait_for("[ ] htop")
        term.keys("y")
        term.wait_for("[*] htop")
        for _ in range(4):  # back out of System tools, Target packages and the top menu
            if "Do you wish to save your new configuration?" in term.screen():
                break
            term.keys("Escape", "Escape")
        term.wait_for("Do you wish to save your new configuration?")
        term.keys("Enter")  # < Yes >
        status = term.exit_status(timeout=300)
        screen = term.screen()
    finally:
        term.close()
    assert status == 0, screen
    fragment = project.root / "layers/virt/qemu/buildroot/90-menuconfig"
    assert fragment.read_text() == (
        "# Buildroot settings saved by `skiffbuild menuconfig qemu-x86_64`.\n"
        "# A later save updates the values it names and keeps the rest of this file.\n"
        "BR2_PACKAGE_HTOP=y\n")
    assert "configured again from the layers: the result is what the menu showed" in screen
    config = dotconfig.read_text()
    assert "BR2_PACKAGE_HTOP=y\n" in config and "BR2_PACKAGE_NCURSES=y\n" in config
    check = project.skiffbuild("check", WS)
    assert check.returncode == 0, check.stderr
    assert ran(project.doit(f"config:{WS}").stdout)[f"config:{WS}"] is False

