"""The README's main job: the offline try-out against the test tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from skiffbuild.app.tryout import run_tryout
from skiffbuild.core.project import Project


def test_tryout_configures_qemu_without_touching_the_project(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "proj"
    shutil.copytree(ROOT / "layers", root / "layers", symlinks=True)
    shutil.copytree(ROOT / "manifests", root / "manifests")
    shutil.copytree(ROOT / "buildroot", root / "buildroot")
    shutil.copy(ROOT / "dodo.py", root / "dodo.py")
    pin_before = (root / "manifests" / "buildroot.yaml").read_bytes()

    assert run_tryout(Project(root), ["qemu-x86_64"], ["config"]) == 0
    out = capfd.readouterr().out
    assert "Buildroot is replaced by the Buildroot-compatible TEST TREE" in out
    tryout = root / "cache" / "tryout" / "project"
    ws = tryout / "workspaces" / "qemu-x86_64"
    assert "BR2_x86_64=y\n" in (ws / "output" / ".config").read_text()
    assert (ws / "config" / "check.json").read_text().count('"findings": []') == 1
    assert (root / "manifests" / "buildroot.yaml").read_bytes() == pin_before
    assert not (root / "workspaces").exists()

    # A second run is a no-op for doit.
    assert run_tryout(Project(root), ["qemu-x86_64"], ["config"]) == 0
    assert "-- config:qemu-x86_64" in capfd.readouterr().out
