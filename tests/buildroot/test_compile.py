"""compile's reading of Buildroot's output: progress lines, failures, quoted log tails."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from skiffbuild.buildroot.compile import progress_line, quoted_tail

SMSO, RMSO = "\x1b[7m", "\x1b[27m"


@pytest.mark.parametrize(("line", "expected"), [
    (f"{SMSO}>>> busybox 1.37.0 Building{RMSO}\n",
     (">>> busybox 1.37.0 Building", "package busybox 1.37.0 (Building)")),
    # No version: Buildroot prints two spaces, skiffbuild shows one.
    (f"{SMSO}>>> skeleton  Installing to target{RMSO}\n",
     (">>> skeleton Installing to target", "package skeleton (Installing to target)")),
    (">>> toolchain-external-custom  Configuring\n",
     (">>> toolchain-external-custom Configuring",
      "package toolchain-external-custom (Configuring)")),
    # Steps outside packages: three spaces, no name and no version.
    (f"{SMSO}>>>   Executing post-build script /w/config/post-build.sh{RMSO}\n",
     (">>> Executing post-build script /w/config/post-build.sh",
      'step "Executing post-build script /w/config/post-build.sh"')),
    ("\x1b(B\x1b[m>>>   Generating filesystem image rootfs.cpio\x1b(B\x1b[m\r\n",
     (">>> Generating filesystem image rootfs.cpio",
      'step "Generating filesystem image rootfs.cpio"')),
    ("make[1]: Entering directory '/x'\n", None),
    ("gcc -c foo.c >>> not a step\n", None),
])
def test_progress_lines(line: str, expected: tuple[str, str] | None) -> None:
    assert progress_line(line) == expected


def test_quoted_tail_has_no_terminal_escapes(tmp_path: Path) -> None:
    log = tmp_path / "compile.log"
    log.write_text(
        "$ make\n"
        f"{SMSO}>>> busybox 1.37.0 Building{RMSO}\n"
        "\x1b(B\x1b[m>>>   Executing post-build script /x/post-build.sh\x1b(B\x1b[m\n"
        "\x1b[1;31merror:\x1b[0m it \x1b]8;;http://x\x07failed\x1b]8;;\x07\x1b7\x1b8\r\n"
        "\x1b[?25hdone\tok\x07\n"
        "# exit 2 after 1.0s\n")
    quoted = quoted_tail(log)
    assert "\x1b" not in quoted and "\r" not in quoted and "\x07" not in quoted
    assert quoted.splitlines() == [
        "  | $ make",
        "  | >>> busybox 1.37.0 Building",
        "  | >>>   Executing post-build script /x/post-build.sh",
        "  | error: it failed",
        "  | done\tok",
    ]


def test_every_file_of_a_layer_is_a_compile_input_but_not_other_workspaces_overrides(
        tmp_path: Path) -> None:
    # virt/qemu's post-image hook copies resources/syslinux.cfg into the images: an edit of
    # it alone must rebuild. overrides/workspaces/<other>/ must not.
    from conftest import ROOT

    from skiffbuild.buildroot.compile import compile_inputs
    from skiffbuild.core.project import Project
    from skiffbuild.model.plan import load_plan

    for name in ("layers", "manifests", "buildroot"):
        shutil.copytree(ROOT / name, tmp_path / name, symlinks=True)
    other = tmp_path / "overrides" / "workspaces" / "pi4" / "root_overlay" / "etc"
    other.mkdir(parents=True)
    (other / "pi4-only").write_text("x\n")
    mine = tmp_path / "overrides" / "workspaces" / "qemu-x86_64" / "root_overlay" / "etc"
    mine.mkdir(parents=True)
    (mine / "mine").write_text("y\n")
    ws = load_plan(Project(tmp_path)).workspaces["qemu-x86_64"]
    inputs = {str(p.relative_to(tmp_path)) for p in compile_inputs(ws)
              if p.is_relative_to(tmp_path)}
    assert "layers/virt/qemu/resources/syslinux.cfg" in inputs
    assert "layers/virt/qemu/commands/run.sh" in inputs
    assert "overrides/workspaces/qemu-x86_64/root_overlay/etc/mine" in inputs
    assert "overrides/workspaces/pi4/root_overlay/etc/pi4-only" not in inputs
