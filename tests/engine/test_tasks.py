"""The doit task graph end to end, against the Buildroot-compatible test tree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, DoitProject, PinnedTree, make_doit_project, ran

from skiffbuild.buildroot.checkout import tree_dir
from skiffbuild.core.project import Project
from skiffbuild.model.manifest import load_pin

BOARDS = ("pi4", "qemu-x86_64")


def test_doit_list_shows_every_stage_per_board() -> None:
    proc = subprocess.run([sys.executable, "-m", "doit", "list", "--all", "--quiet"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    names = set(proc.stdout.split())
    for board in BOARDS:
        for stage in ("config", "sources", "compile", "image"):
            assert f"{stage}:{board}" in names
    assert "fetch:buildroot" in names


def test_config_writes_merged_defconfig_and_dotconfig(doit_project: DoitProject) -> None:
    first = doit_project.doit("config:pi4")
    assert ran(first.stdout) == {"fetch:buildroot": True, "config:pi4": True}
    ws = doit_project.root / "workspaces" / "pi4"
    defconfig = (ws / "config" / "buildroot.defconfig").read_text()
    assert "# pi/4: layers/pi/4/buildroot/10-pi4\nBR2_aarch64=y\n" in defconfig
    assert f'BR2_DL_DIR="{doit_project.root}/cache/dl"\nBR2_REPRODUCIBLE=y\n' in defconfig
    dotconfig = (ws / "output" / ".config").read_text()
    assert "BR2_aarch64=y\n" in dotconfig
    assert "# BR2_x86_64 is not set\n" in dotconfig
    assert f'BR2_DEFCONFIG="{ws}/config/buildroot.defconfig"\n' in dotconfig
    # The bundled layers ask only for what the tree can give.
    assert json.loads((ws / "config" / "check.json").read_text())["findings"] == []

    second = doit_project.doit("config:pi4")
    assert ran(second.stdout) == {"fetch:buildroot": False, "config:pi4": False}


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_editing_a_fragment_reruns_only_that_workspace(doit_project: DoitProject) -> None:
    targets = [f"config:{b}" for b in BOARDS]
    doit_project.doit(*targets)
    fragment = doit_project.root / "layers" / "pi" / "4" / "buildroot" / "10-pi4"

    # Same bytes, new mtime: nothing runs.
    stat = fragment.stat()
    os.utime(fragment, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert ran(doit_project.doit(*targets).stdout) == {
        "fetch:buildroot": False, "config:pi4": False, "config:qemu-x86_64": False}

    # New bytes with the old mtime restored (as tar or rsync -t would): detected anyway.
    fragment.write_text(fragment.read_text() + 'BR2_TARGET_GENERIC_ISSUE="edited"\n')
    os.utime(fragment, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = doit_project.doit(*targets)
    assert ran(result.stdout) == {
        "fetch:buildroot": False, "config:pi4": True, "config:qemu-x86_64": False}
    dotconfig = (doit_project.root / "workspaces/pi4/output/.config").read_text()
    assert 'BR2_TARGET_GENERIC_ISSUE="edited"\n' in dotconfig


def test_dotconfig_is_what_buildroot_olddefconfig_gives(doit_project: DoitProject,
                                                        tmp_path: Path) -> None:
    doit_project.doit("config:qemu-x86_64")
    project = Project(doit_project.root)
    pin, _ = load_pin(project, "buildroot")
    tree = tree_dir(project.cache, pin)
    ws = project.workspace("qemu-x86_64")
    other = tmp_path / "olddefconfig-out"
    other.mkdir()
    (other / ".config").write_bytes(ws.defconfig.read_bytes())
    plan = json.loads((ws.config / "plan.json").read_text())
    subprocess.run(["make", "-s", "-C", str(tree), f"O={other}",
                    "BR2_EXTERNAL=" + ":".join(plan["externals"]), "olddefconfig"],
                   check=True, capture_output=True, env=doit_project.env)

    def without_defconfig_path(text: str) -> list[str]:
        # olddefconfig leaves BR2_DEFCONFIG at its default; defconfig records the file.
        return [line for line in text.splitlines() if not line.startswith("BR2_DEFCONFIG=")]

    assert without_defconfig_path((other / ".config").read_text()) == \
        without_defconfig_path(ws.dotconfig.read_text())


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_bundled_boards_with_skiff_core_check_clean(tmp_path: Path, testtree: PinnedTree) -> None:
    boards = {}
    for board in BOARDS:
        text = (ROOT / "manifests" / "boards" / f"{board}.yaml").read_text()
        boards[f"{board}-core"] = text.replace("layers: [", "layers: [skiff/core, ", 1)
        assert boards[f"{board}-core"] != text
    project = make_doit_project(tmp_path / "p", testtree, boards)
    result = project.skiffbuild("check", "--strict", "pi4-core", "qemu-x86_64-core")
    assert result.returncode == 0, result.stdout + result.stderr
    n = {ws: len(json.loads(project.skiffbuild("sources", ws, "--json").stdout))
         for ws in ("pi4-core", "qemu-x86_64-core")}
    assert result.stdout.splitlines()[-2:] == [
        f"pi4-core: ok (hash audit: {n['pi4-core']} of {n['pi4-core']} source files hashed)",
        f"qemu-x86_64-core: ok (hash audit: {n['qemu-x86_64-core']} of "
        f"{n['qemu-x86_64-core']} source files hashed)"]
    assert n["pi4-core"] > 30


def test_check_fails_on_a_misspelt_package_and_strict_names_kinds(
        doit_project: DoitProject) -> None:
    override = doit_project.root / "overrides" / "workspaces" / "qemu-x86_64" / "buildroot"
    override.mkdir(parents=True)
    (override / "local").write_text("BR2_PACKAGE_HTOPP=y\n")
    # An unknown symbol is an error by default (it was a warning, exit 0).
    checked = doit_project.skiffbuild("check", "qemu-x86_64")
    assert checked.returncode == 1
    assert checked.stdout.splitlines()[-1] == \
        "qemu-x86_64: 1 finding(s) (hash audit: 22 of 22 source files hashed)"
    assert ("error: overrides/workspaces/qemu-x86_64/buildroot/local:1: BR2_PACKAGE_HTOPP=y "
            "[overrides/workspaces/qemu-x86_64]: unknown: unknown symbol in this Buildroot "
            "(did you mean BR2_PACKAGE_HTOP?)") in checked.stderr
    assert checked.stderr.splitlines()[-2:] == [
        "error: 1 finding(s) fail the check: unknown (1)",
        "hint: fix them in the layers; a later layer's deliberate override is marked with a "
        "'# skiffbuild: override' line above it"]
    bad = doit_project.skiffbuild("check", "--fail-on", "overriden", "qemu-x86_64")
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0] == "error: --fail-on: unknown finding kind 'overriden'"


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_an_override_by_a_later_layer_is_information_unless_asked(
        doit_project: DoitProject) -> None:
    override = doit_project.root / "overrides" / "workspaces" / "qemu-x86_64" / "buildroot"
    override.mkdir(parents=True)
    # skiff/base sets BR2_TARGET_GENERIC_HOSTNAME; the workspace override changes it.
    fragment = override / "local"
    fragment.write_text('BR2_TARGET_GENERIC_HOSTNAME="bench"\n')
    for args in (("check",), ("check", "--strict")):
        info = doit_project.skiffbuild(*args, "qemu-x86_64")
        assert info.returncode == 0, info.stdout + info.stderr
        assert any(line.startswith("info: ") and "overridden" in line
                   for line in info.stderr.splitlines()), info.stderr
    asked = doit_project.skiffbuild("check", "--fail-on", "overridden", "qemu-x86_64")
    assert asked.returncode == 1
    assert "error: 1 finding(s) fail the check: overridden (1)" in asked.stderr
    # Marked as deliberate: not reported at all, even when asked.
    fragment.write_text('# skiffbuild: override (our product name)\n'
                        'BR2_TARGET_GENERIC_HOSTNAME="bench"\n')
    marked = doit_project.skiffbuild("check", "--fail-on", "overridden", "qemu-x86_64")
    assert marked.returncode == 0, marked.stdout + marked.stderr
    assert "overridden" not in marked.stderr
    assert marked.stdout.splitlines()[-1] == \
        "qemu-x86_64: ok (hash audit: 22 of 22 source files hashed)"


def test_manifest_error_exits_2_without_traceback(doit_project: DoitProject) -> None:
    board = doit_project.root / "manifests" / "boards" / "pi4.yaml"
    board.write_text(board.read_text().replace("layers: [pi/4]", "layers: [pi/44]"))
    located = ("manifests/boards/pi4.yaml:12: layers[0]: unknown layer 'pi/44' "
               "(did you mean 'pi/4'?)")
    # One broken board: the others still list (the broken one is named), its tasks fail.
    listed = doit_project.doit("list", "--all")
    assert "config:qemu-x86_64" in listed.stdout.split()
    assert f"warning: workspace 'pi4' is left out: {located}" in listed.stderr
    for proc in (doit_project.doit("config:pi4", check=False),
                 doit_project.skiffbuild("layers", "pi4")):
        assert proc.returncode == 2
        assert "Traceback" not in proc.stderr
        assert located in proc.stderr


def test_full_disk_in_a_task_is_a_message_not_a_traceback(doit_project: DoitProject) -> None:
    config = doit_project.root / "workspaces" / "pi4" / "config"
    config.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(config)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        # Fill it: dd stops at "No space left on device".
        subprocess.run(["dd", "if=/dev/zero", f"of={config / '.filler'}", "bs=4k"],
                       capture_output=True, check=False)
        result = doit_project.doit("config:pi4", check=False)
    finally:
        subprocess.run(["umount", str(config)], check=False)
    assert result.returncode == 1
    assert "error: No space left on device (" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    # Nothing half-written: the record of a finished config is absent.
    assert not (doit_project.root / "workspaces/pi4/state/done/config.json").exists()


def test_a_user_error_inside_a_task_exits_2_with_one_message(doit_project: DoitProject,
                                                            tmp_path: Path) -> None:
    # The mirror map is read by fetch:buildroot's action, inside doit.
    doit_project.env["SKIFFBUILD_MIRRORS"] = str(tmp_path / "no-such-map.yaml")
    for proc in (doit_project.doit("config:pi4", check=False),
                 doit_project.skiffbuild("check", "pi4")):
        assert proc.returncode == 2, proc.stdout + proc.stderr
        output = proc.stdout + proc.stderr
        errors = [line for line in output.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1, output
        assert "no-such-map.yaml" in errors[0]
        for noise in ("TaskFailed", "TaskError", "<function", "Traceback", "internal error"):
            assert noise not in output


def test_a_bug_inside_a_task_exits_3_with_its_traceback(doit_project: DoitProject,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from skiffbuild.app import cli
    from skiffbuild.engine import tasks

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(tasks, "configure", broken)
    monkeypatch.chdir(doit_project.root)
    for name, value in doit_project.env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["check", "pi4"]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last):" in err
    assert "ZeroDivisionError: a bug" in err
    assert err.rstrip().endswith("internal error: this is a bug in skiffbuild")
    assert "TaskFailed" not in err and "<function" not in err
