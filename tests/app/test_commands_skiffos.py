"""`skiffbuild import-skiffos NAME SKIFF_CONFIG`: a board manifest for a SkiffOS system,
on a small SkiffOS-shaped tree and on the real SkiffOS tree."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from conftest import SHARED, require_shared
from projectfiles import write_files, write_project

from skiffbuild.app.cli import main
from skiffbuild.app.commands_skiffos import parse_skiff_config, skiffos_manifest
from skiffbuild.core.project import Project
from skiffbuild.model.layers import scan_layers
from skiffbuild.model.manifest import load_board
from skiffbuild.model.plan import load_plan

SKIFFOS_TARBALL = SHARED / "skiffos" / "skiffos-2026.08-8-g90392558.tar.gz"


def skiffos_checkout(root: Path) -> Path:
    """A SkiffOS-shaped checkout: configs-base/pre asks for x86_64 first, as SkiffOS's."""
    write_files(root, {
        "configs-base/pre/buildroot/arch": "BR2_x86_64=y\n",
        "configs-base/pre/metadata/dependencies": "skiff/standard\n",  # never read
        "configs-base/post/buildroot/config": 'BR2_ROOTFS_OVERLAY="REPLACEME_ROOTFS_OVERLAY"\n',
        "configs/pi/common/metadata/description": "Raspberry Pi common parts.\n",
        "configs/pi/common/buildroot/firmware": "BR2_PACKAGE_RPI_FIRMWARE=y\n",
        "configs/pi/4x64/metadata/dependencies": "pi/common\n",
        "configs/pi/4x64/metadata/description": "Raspberry Pi 4 (64-bit).\n",
        "configs/pi/4x64/buildroot/arch": "BR2_aarch64=y\nBR2_cortex_a72=y\n",
        "configs/pi/4/metadata/dependencies": "pi/4x64\n",
        "configs/pi/4/metadata/description": "Configuration alias for the Pi 4 to 4x64.\n",
        "configs/pi/4/ALIAS": "pi/4x64\n",
        "configs/pi/4x32/metadata/dependencies": "pi/common\n",
        "configs/pi/4x32/metadata/description": "Raspberry Pi 4 (32-bit).\n",
        "configs/pi/4x32/buildroot/arch": "BR2_arm=y\n",
        "configs/skiff/core/metadata/description": "Skiff Core: a container OS.\n",
        "configs/skiff/core/buildroot/docker": "BR2_PACKAGE_DOCKER_ENGINE=y\n",
        "configs/virt/qemu/metadata/dependencies": "util/rootlogin\n",
        "configs/virt/qemu/metadata/description": "Run Skiff in Qemu.\n",
        "configs/util/rootlogin/metadata/description": "Root login.\n",
    })
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    skiffos_checkout(tmp_path / "SkiffOS")
    root = write_project(tmp_path / "proj", {})
    monkeypatch.chdir(root)
    monkeypatch.setenv("SKIFFBUILD_LAYER_PATH", str(tmp_path / "SkiffOS"))
    return root


def loaded(project: Path, name: str) -> dict[str, object]:
    """The manifest as skiffbuild's own loader reads it (no problems)."""
    proj = Project(project, layer_path=(project.parent / "SkiffOS",))
    board, problems = load_board(proj, project / "manifests" / "boards" / f"{name}.yaml")
    assert problems == [] and board is not None
    return {"layers": list(board.layers), "architecture": board.architecture,
            "layer_order": board.layer_order, "description": board.description,
            "buildroot": board.buildroot}


def test_writes_the_layers_in_order_without_duplicates(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-skiffos", "pi4", " skiff/core, pi/4  skiff/core,"]) == 0
    out = capsys.readouterr().out
    assert out == "wrote manifests/boards/pi4.yaml (aarch64); build it with: doit image:pi4\n"
    board = loaded(project, "pi4")
    assert board == {
        "layers": ["skiff/core", "pi/4"], "architecture": "aarch64", "layer_order": "skiffos",
        "description": "Skiff Core: a container OS (SkiffOS SKIFF_CONFIG=skiff/core,pi/4)",
        "buildroot": "buildroot"}
    text = (project / "manifests/boards/pi4.yaml").read_text()
    assert "BR2_aarch64=y from pi/4x64 (buildroot/arch:1)" in text
    assert "layer_order: skiffos is SkiffOS's own order" in text
    # The board plans, with SkiffOS's chain between its base layers.
    plan = load_plan(Project(project, layer_path=(project.parent / "SkiffOS",)), ["pi4"])
    assert [la.name for la in plan.workspaces["pi4"].chain] == [
        "configs-base/pre", "skiff/core", "pi/common", "pi/4x64", "pi/4", "configs-base/post"]


def test_separate_arguments_are_one_skiff_config(project: Path) -> None:
    assert main(["import-skiffos", "vm", "virt/qemu", "skiff/core"]) == 0
    assert loaded(project, "vm")["layers"] == ["virt/qemu", "skiff/core"]


@pytest.mark.parametrize(("config", "arch"), [
    ("pi/4,pi/4x32", "arm"),  # the last architecture choice in merge order wins
    ("pi/4x32,pi/4", "aarch64"),
    ("virt/qemu,skiff/core", "x86_64"),  # no layer chooses: configs-base/pre's x86_64
    ("skiff/core", "x86_64"),
])
def test_the_architecture_is_the_last_choice_in_merge_order(project: Path, config: str,
                                                            arch: str) -> None:
    assert main(["import-skiffos", "b", config]) == 0
    assert loaded(project, "b")["architecture"] == arch


def test_an_unknown_layer_is_an_error_and_nothing_is_written(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-skiffos", "pi4", "pi/4,skiff/cor"]) == 2
    err = capsys.readouterr().err
    assert "unknown layer 'skiff/cor' (did you mean 'skiff/core'?)" in err
    assert "nothing was written" in err
    assert not (project / "manifests/boards/pi4.yaml").exists()
    # As SkiffOS: an entry that is no group/name is dropped with a warning.
    assert main(["import-skiffos", "pi4", "pi skiff/core"]) == 0
    assert "SKIFF_CONFIG entry 'pi' is not group/name: ignored" in capsys.readouterr().err
    assert loaded(project, "pi4")["layers"] == ["skiff/core"]


def test_an_existing_board_is_kept_unless_forced(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    board = project / "manifests/boards/pi4.yaml"
    board.write_text("mine\n")
    assert main(["import-skiffos", "pi4", "pi/4"]) == 2
    assert "error: manifests/boards/pi4.yaml exists" in capsys.readouterr().err
    assert board.read_text() == "mine\n"
    assert main(["import-skiffos", "--force", "pi4", "pi/4"]) == 0
    assert loaded(project, "pi4")["layers"] == ["pi/4"]


def test_print_writes_to_stdout_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-skiffos", "--print", "pi4", "pi/4"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# SkiffOS system SKIFF_CONFIG=pi/4 (workspace \"pi4\").\n")
    assert "architecture: aarch64\n" in out and '        - source: "*"\n' in out
    assert not (project / "manifests/boards/pi4.yaml").exists()


def test_the_pin_must_exist(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-skiffos", "--pin", "nope", "pi4", "pi/4"]) == 2
    assert "no Buildroot pin manifests/nope.yaml" in capsys.readouterr().err
    assert not (project / "manifests/boards/pi4.yaml").exists()
    (project / "manifests/next.yaml").write_text(
        (project / "manifests/buildroot.yaml").read_text())
    assert main(["import-skiffos", "--pin", "next", "pi4", "pi/4"]) == 0
    assert loaded(project, "pi4")["buildroot"] == "next"


def test_parse_skiff_config_as_skiffos() -> None:
    warned: list[str] = []
    assert parse_skiff_config("  a/b,,c/d  a/b\te/f,g ", warned.append) == ["a/b", "c/d", "e/f"]
    assert warned == ["SKIFF_CONFIG entry 'g' is not group/name: ignored, as SkiffOS does"]


# ------------------------------------------------------------ the real SkiffOS tree

@pytest.fixture(scope="module")
def real_skiffos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_shared(SKIFFOS_TARBALL)
    dest = tmp_path_factory.mktemp("real-skiffos") / "SkiffOS"
    dest.mkdir()
    subprocess.run(["tar", "-xzf", str(SKIFFOS_TARBALL), "-C", str(dest),
                    "--strip-components=1"], check=True, capture_output=True)
    return dest


@pytest.mark.real_buildroot
def test_the_real_skiffos_tree(real_skiffos: Path, tmp_path: Path) -> None:
    root = write_project(tmp_path / "proj", {})
    project = Project(root, layer_path=(real_skiffos,))
    index, _ = scan_layers(project)
    for config, arch in (("pi/4,skiff/core", "aarch64"), ("virt/qemu,skiff/core", "x86_64"),
                         ("usbarmory/mk2,core/alpine,util/rootlogin", "arm")):
        text = skiffos_manifest(project, "sys", config, index=index)
        (root / "manifests/boards/sys.yaml").write_text(text)
        board, problems = load_board(project, root / "manifests/boards/sys.yaml")
        assert problems == [] and board is not None
        assert (board.architecture, board.layers) == (arch, tuple(config.split(",")))
    # The chain SkiffOS's `make configure` resolves (reference/skiffos.md §5).
    (root / "manifests/boards/sys.yaml").write_text(
        skiffos_manifest(project, "sys", "pi/4,skiff/core", index=index))
    chain = [la.name for la in load_plan(project, ["sys"]).workspaces["sys"].chain]
    assert chain == ["configs-base/pre", "skiff/moduleimg", "pi/common", "pi/4x64", "pi/4",
                     "apps/runc", "apps/containerd", "apps/docker", "skiff/core",
                     "configs-base/post"]
    # Every layer of the tree imports on its own, and loads without problems.
    names = sorted(f"{p.parent.name}/{p.name}" for p in (real_skiffos / "configs").glob("*/*")
                   if p.is_dir())
    assert len(names) == 131
    started = time.monotonic()
    arches: dict[str, int] = {}
    for name in names:
        warned: list[str] = []
        text = skiffos_manifest(project, "one", name, index=index, warn=warned.append)
        assert warned == [], (name, warned)
        file = root / "manifests/boards/one.yaml"
        file.write_text(text)
        board, problems = load_board(project, file)
        assert problems == [] and board is not None, (name, problems)
        assert board.layers == (name,) and board.layer_order == "skiffos"
        arches[board.architecture] = arches.get(board.architecture, 0) + 1
    assert time.monotonic() - started < 30
    assert arches == {"x86_64": 69, "arm": 28, "aarch64": 25, "riscv64": 7, "i686": 2}
