"""`skiffbuild run` (issue 13, finding 2): the layer command gets a throw-away copy of the
image unless --persist, and every argument after the command, `--` included, unchanged.
A recording stand-in for qemu-system-x86_64 plays the VM: it writes into its drive."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from projectfiles import bundled_project_with_image

QEMU = """#!/bin/sh
# Stand-in qemu: records its arguments and the image, then writes into the drive.
printf '%s\\n' "$@" > "$RECORD/argv"
printf '%s\\n' "$SKIFFBUILD_IMAGE" > "$RECORD/image"
for arg in "$@"; do
    case $arg in
    file=*) drive=${arg#file=}; drive=${drive%%,*} ;;
    esac
done
printf '%s\\n' "$drive" > "$RECORD/drive"
ls -a "$(dirname "$drive")" > "$RECORD/dir"
printf 'WRITTEN BY THE GUEST' | dd of="$drive" bs=1 seek=512 conv=notrunc 2>/dev/null
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return bundled_project_with_image(tmp_path / "proj", ROOT, "qemu-x86_64", 1 << 16)


@pytest.fixture
def record(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "qemu-system-x86_64").write_text(QEMU)
    (bin_dir / "qemu-system-x86_64").chmod(0o755)
    out = tmp_path / "record"
    out.mkdir()
    return out


def run(project: Path, record: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKIFFBUILD_")}
    env["PATH"] = f"{record.parent / 'bin'}:{env['PATH']}"
    env["RECORD"] = str(record)
    return subprocess.run([sys.executable, "-m", "skiffbuild", "run", *args], cwd=project,
                          env=env, capture_output=True, text=True, check=False)


def recorded(record: Path, name: str) -> list[str]:
    return (record / name).read_text().splitlines()


def test_run_boots_a_throwaway_copy_and_passes_arguments_after_dashdash(
        project: Path, record: Path) -> None:
    image = project / "workspaces/qemu-x86_64/image/qemu-x86_64.img"
    before = image.read_bytes()
    result = run(project, record, "qemu-x86_64", "virt/qemu/run", "--", "-snapshot", "-m", "64")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "run: virt/qemu/run gets a throw-away copy of workspaces/qemu-x86_64/image/"
        "qemu-x86_64.img; what it writes is discarded (--persist: write to the image)\n")
    argv = recorded(record, "argv")
    assert argv[-3:] == ["-snapshot", "-m", "64"]
    (copy,) = recorded(record, "image")
    assert recorded(record, "drive") == [copy]
    assert Path(copy).name == "qemu-x86_64.img"
    assert Path(copy).parent.parent == project / "workspaces/qemu-x86_64"
    assert f"file={copy},format=raw,if=virtio" in argv
    assert image.read_bytes() == before  # the release image is untouched
    assert not Path(copy).parent.exists()  # and the copy is gone
    assert sorted(p.name for p in image.parents[1].iterdir()) == ["image"]


def test_run_passes_an_image_argument_and_later_dashdash(project: Path, record: Path) -> None:
    other = project / "other.img"
    other.write_bytes(b"\0" * 4096)
    result = run(project, record, "qemu-x86_64", "virt/qemu/run", str(other), "--", "-snapshot")
    assert result.returncode == 0, result.stderr
    assert recorded(record, "drive") == [str(other)]
    assert recorded(record, "argv")[-1] == "-snapshot"


def test_run_persist_writes_through(project: Path, record: Path) -> None:
    image = project / "workspaces/qemu-x86_64/image/qemu-x86_64.img"
    result = run(project, record, "--persist", "qemu-x86_64", "virt/qemu/run")
    assert result.returncode == 0, result.stderr
    assert result.stderr == (
        "run: virt/qemu/run writes to workspaces/qemu-x86_64/image/qemu-x86_64.img itself "
        "(--persist); it no longer matches SHA256SUMS then, and doit image:qemu-x86_64 "
        "rebuilds it\n")
    assert recorded(record, "image") == [str(image)]
    assert recorded(record, "drive") == [str(image)]
    assert image.read_bytes()[512:532] == b"WRITTEN BY THE GUEST"


def test_run_without_an_image_passes_its_path(project: Path, record: Path) -> None:
    image = project / "workspaces/qemu-x86_64/image/qemu-x86_64.img"
    image.unlink()
    result = run(project, record, "qemu-x86_64", "virt/qemu/run")
    assert result.returncode == 2
    assert result.stderr.strip().endswith(f"(no image: '{image}')")
