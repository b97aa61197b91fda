"""The skiffbuild command: layer listings and error handling."""

from __future__ import annotations

from pathlib import Path

import pytest
from projectfiles import board_yaml, layer_yaml, write_files, write_project

from skiffbuild.app.cli import main


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_project(tmp_path / "proj", {
        "layers/skiff/base/layer.yaml": layer_yaml("Common base"),
        "layers/util/debug/layer.yaml": layer_yaml("Debug tools", extra="unlisted: true\n"),
        "layers/pi/common/layer.yaml": layer_yaml("Pi shared parts", ["skiff/base"], extra=(
            "commands:\n  install:\n    description: Write the image to a device\n"
            "    run: [commands/install.sh]\n")),
        "layers/pi/common/commands/install.sh": "#!/bin/sh\n",
        "manifests/boards/pi4.yaml": board_yaml(["pi/common"], description="Raspberry Pi 4"),
        "overrides/workspaces/pi4/buildroot/x": "BR2_X=y\n",
    })
    write_files(tmp_path / "extra", {"skiff/base/layer.yaml": layer_yaml("Shadowing base")})
    monkeypatch.chdir(root / "manifests")
    monkeypatch.setenv("SKIFFBUILD_LAYER_PATH", str(tmp_path / "extra"))
    return root


def test_layers_lists_listed_layers(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["layers"]) == 0
    extra = project.parent / "extra"
    assert capsys.readouterr().out.splitlines() == [
        "pi/common   Pi shared parts",
        f"skiff/base  Shadowing base  [{extra}]",
    ]
    assert main(["layers", "--all"]) == 0
    assert "util/debug  Debug tools" in capsys.readouterr().out.splitlines()


def test_layers_of_a_workspace(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["layers", "pi4"]) == 0
    extra = project.parent / "extra"
    assert capsys.readouterr().out.splitlines() == [
        "workspace pi4: Raspberry Pi 4",
        "buildroot: 2026.02.3 @ 679b9ead7620bbf193620d1ebf56f53c1764d37a",
        "chain (merge order):",
        f"   1. skiff/base                {extra}/skiff/base  (shadows layers/skiff/base)",
        "      Shadowing base",
        "   2. pi/common                 layers/pi/common",
        "      Pi shared parts",
        "   3. overrides/workspaces/pi4  overrides/workspaces/pi4 [override]",
        "commands:",
        "  pi/common/install  Write the image to a device",
    ]


def test_user_errors_exit_2_without_traceback(project: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["layers", "pi5"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: 1 problem found:\n"
                   "  manifests/boards: unknown workspace 'pi5' (did you mean 'pi4'?)\n")


def test_outside_a_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SKIFFBUILD_PROJECT", raising=False)
    assert main(["layers"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: no skiffbuild project found in {tmp_path} or its parents",
        "hint: run from a checkout that has manifests/boards/, or set SKIFFBUILD_PROJECT",
    ]
