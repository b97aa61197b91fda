"""Layer commands through `skiffbuild run`: pi/common's install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from projectfiles import bundled_project_with_image

# Every layer command gets a throw-away copy of the image unless --persist.
COPY = ("run: pi/common/install gets a throw-away copy of workspaces/pi4/image/pi4.img; "
        "what it writes is discarded (--persist: write to the image)")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return bundled_project_with_image(tmp_path / "proj", ROOT, "pi4", 4096)


def run(project: Path, *args: str, stdin: str = "",
        path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKIFFBUILD_")}
    if path:
        env["PATH"] = f"{path}:{env['PATH']}"
    return subprocess.run([sys.executable, "-m", "skiffbuild", "run", *args], cwd=project,
                          env=env, input=stdin, capture_output=True, text=True, check=False)


def test_install_asks_first_then_writes(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "card.img"
    refused = run(project, "pi4", "pi/common/install", str(target), stdin="n\n")
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [COPY, "install: aborted"]
    assert not target.exists()
    done = run(project, "pi4", "pi/common/install", str(target), stdin="y\n")
    assert done.returncode == 0, done.stderr
    image = project / "workspaces/pi4/image/pi4.img"
    assert target.read_bytes() == image.read_bytes()
    target.unlink()
    assert run(project, "pi4", "pi/common/install", "--yes", str(target)).returncode == 0
    assert target.read_bytes() == image.read_bytes()


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a device node needs root")
def test_install_refuses_a_mounted_device(project: Path, tmp_path: Path) -> None:
    # A node for a loop device that does not exist: nothing could be written even by
    # mistake. A stand-in lsblk reports it mounted.
    node = tmp_path / "sdz"
    subprocess.run(["mknod", str(node), "b", "7", "250"], check=True)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "lsblk").write_text("#!/bin/sh\necho /media/card\n")
    (fake / "lsblk").chmod(0o755)
    result = run(project, "pi4", "pi/common/install", "--yes", str(node), path=str(fake))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        COPY, f"install: {node} is mounted or in use; unmount it first"]


def test_unknown_command_lists_the_known_ones(project: Path) -> None:
    result = run(project, "pi4", "pi/common/format")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "error: workspace 'pi4' has no command 'pi/common/format'",
        "hint: its layers provide: pi/common/install"]
