"""The skiffbuild command: layer listings and error handling."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
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


# Issue 13, finding 7: help, --version, boards, build, --json, completion.

def test_help_is_for_users_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: skiffbuild [-h] [--version] COMMAND ...\n\n"
                          "Build immutable, reproducible Linux firmware images for many boards "
                          "with Buildroot,\n")
    assert "a pipeline of small typed functions" not in out  # no internal docstring
    assert "\nexamples:\n  skiffbuild boards " in out
    assert "  skiffbuild build qemu-x86_64              build the disk image" in out
    assert re.search(r"^    build +build the disk image of workspaces \(doit image:WS\)$", out,
                     re.MULTILINE)
    assert "\nexit status: 0 success, 1 build failure or findings, 2 user error, " \
           "3 internal error\n" in out


@pytest.mark.parametrize("command", ["boards", "layers", "check", "build", "run", "sources",
                                     "export", "import", "pin", "lock", "repro", "nightly",
                                     "tryout", "testtree", "completion"])
def test_every_subcommand_has_a_description_and_examples(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    usage, description, *rest = capsys.readouterr().out.split("\n\n")
    assert usage.startswith(f"usage: skiffbuild {command} ")
    assert len(description) > 40
    examples = rest[-1].splitlines()
    assert examples[0] == "examples:"
    assert examples[1].startswith("  skiffbuild ") or examples[1].startswith("  source <(")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from skiffbuild import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"skiffbuild {__version__}\n"


@pytest.fixture
def two_boards(project: Path) -> Path:
    write_files(project, {"manifests/boards/vm.yaml": board_yaml(
        ["skiff/base"], description="A VM").replace("x86_64", "riscv64")})
    return project


def test_boards(two_boards: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["boards"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "pi4  x86_64   Raspberry Pi 4",
        "     layers: skiff/base > pi/common > overrides/workspaces/pi4",
        "vm   riscv64  A VM",
        "     layers: skiff/base",
    ]
    assert main(["boards", "--names"]) == 0
    assert capsys.readouterr().out == "pi4\nvm\n"


def test_boards_json(two_boards: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["boards", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "pi4", "description": "Raspberry Pi 4", "architecture": "x86_64",
         "manifest": "manifests/boards/pi4.yaml",
         "layers": ["skiff/base", "pi/common", "overrides/workspaces/pi4"],
         "image": "workspaces/pi4/image/pi4.img"},
        {"name": "vm", "description": "A VM", "architecture": "riscv64",
         "manifest": "manifests/boards/vm.yaml", "layers": ["skiff/base"],
         "image": "workspaces/vm/image/vm.img"},
    ]


def test_layers_json(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = project.parent / "extra"
    assert main(["layers", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "pi/common", "description": "Pi shared parts", "origin": "layers",
         "path": str(project / "layers/pi/common"), "unlisted": False},
        {"name": "skiff/base", "description": "Shadowing base", "origin": str(extra),
         "path": str(extra / "skiff/base"), "unlisted": False},
    ]
    assert main(["layers", "pi4", "--json"]) == 0
    chain = json.loads(capsys.readouterr().out)
    assert [layer["name"] for layer in chain["chain"]] == [
        "skiff/base", "pi/common", "overrides/workspaces/pi4"]
    assert chain["chain"][0]["shadows"] == ["layers/skiff/base"]
    assert chain["commands"] == [{"name": "pi/common/install",
                                  "description": "Write the image to a device"}]
    assert chain["buildroot"] == {"tag": "2026.02.3",
                                  "commit": "679b9ead7620bbf193620d1ebf56f53c1764d37a",
                                  "patches": []}


def test_build_runs_image_tasks_and_says_where(project: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from skiffbuild.app import commands_build

    ran: list[list[str]] = []
    monkeypatch.setattr(commands_build, "run_doit",
                        lambda settings, tasks: ran.append(tasks))
    assert main(["build", "-n", "2", "pi4"]) == 0
    assert ran == [["-n", "2", "image:pi4"]]
    assert capsys.readouterr().out == (
        "pi4: workspaces/pi4/image/pi4.img (checksums: workspaces/pi4/image/SHA256SUMS)\n")
    assert main(["build", "pi5"]) == 2
    assert "unknown workspace 'pi5' (did you mean 'pi4'?)" in capsys.readouterr().err
    assert ran == [["-n", "2", "image:pi4"]]


def test_build_stops_with_doits_status(project: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from skiffbuild.app import commands_build
    from skiffbuild.app.common import Stop

    def failing(settings: object, tasks: list[str]) -> None:
        raise Stop(1)

    monkeypatch.setattr(commands_build, "run_doit", failing)
    assert main(["build", "pi4"]) == 1
    assert capsys.readouterr().out == ""


def complete(project: Path, line: str) -> list[str]:
    """COMPREPLY of the generated bash completion for ``line`` (the cursor at its end)."""
    script = project / "completion.bash"
    words = line.split(" ")
    runner = (f"skiffbuild() {{ {shlex.quote(sys.executable)} -m skiffbuild \"$@\"; }}\n"
              f"source {shlex.quote(str(script))}\n"
              f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
              f"COMP_CWORD={len(words) - 1}\n"
              "_skiffbuild\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    return subprocess.run(["bash", "-c", runner], capture_output=True, text=True, check=True,
                          cwd=project).stdout.split()


def test_completion_bash(two_boards: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("# bash completion for skiffbuild. Load it with:\n")
    assert script.endswith("complete -F _skiffbuild skiffbuild\n")
    (two_boards / "completion.bash").write_text(script)
    assert complete(two_boards, "skiffbuild b") == ["boards", "build"]
    assert complete(two_boards, "skiffbuild build ") == ["pi4", "vm"]
    assert complete(two_boards, "skiffbuild build pi4 v") == ["vm"]
    assert complete(two_boards, "skiffbuild run p") == ["pi4"]
    assert complete(two_boards, "skiffbuild run pi4 ") == []
    assert complete(two_boards, "skiffbuild run --p") == ["--persist"]
    assert complete(two_boards, "skiffbuild boards --") == ["--help", "--json", "--names"]
