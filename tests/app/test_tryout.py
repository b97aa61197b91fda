"""The README's main job: the offline try-out against the test tree."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, ran
from gitrepo import git

from skiffbuild.app.sandbox import STANDIN_NOTE, poweroff_after_boot
from skiffbuild.app.tryout import BOOT_COMPLETE, CONTINUE_HEADER, prepare_tryout, run_tryout
from skiffbuild.core.project import Project

PI_HASH = Path("layers/pi/common/buildroot_patches/linux/linux.hash")


def copy_project(root: Path) -> Path:
    shutil.copytree(ROOT / "layers", root / "layers", symlinks=True)
    shutil.copytree(ROOT / "manifests", root / "manifests")
    shutil.copytree(ROOT / "buildroot", root / "buildroot")
    shutil.copy(ROOT / "dodo.py", root / "dodo.py")
    shutil.copy(ROOT / ".gitignore", root / ".gitignore")
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file and symlink outside cache/, with its bytes or its target."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == "cache":
            continue
        if path.is_symlink():
            found[str(rel)] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            found[str(rel)] = path.read_bytes()
    return found


def block(out: str) -> list[str]:
    """The final copy-paste block: the lines after CONTINUE_HEADER up to its closing rule."""
    lines = out[out.rindex(CONTINUE_HEADER):].splitlines()[1:]
    return lines[:lines.index("=" * len(CONTINUE_HEADER))]


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_tryout_configures_qemu_without_touching_the_project(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = copy_project(tmp_path / "proj")
    before = snapshot(root)

    assert run_tryout(Project(root), ["qemu-x86_64"], ["config"]) == 0
    out = capfd.readouterr().out
    assert "Buildroot is replaced by the Buildroot-compatible TEST TREE" in out
    tryout = root / "cache" / "tryout" / "project"
    ws = tryout / "workspaces" / "qemu-x86_64"
    assert "BR2_x86_64=y\n" in (ws / "output" / ".config").read_text()
    assert (ws / "config" / "check.json").read_text().count('"findings": []') == 1
    assert snapshot(root) == before
    # The running: line is the whole command, environment included.
    running = next(line for line in out.splitlines() if line.startswith("  running:"))
    site = root / "cache" / "tryout" / "site"
    assert f"SKIFFBUILD_PRIMARY_SITE=file://{site} " in running
    assert f"SKIFFBUILD_MIRRORS={root}/cache/tryout/mirrors.yaml " in running
    assert running.endswith(" config:qemu-x86_64")
    # It ends with the block to continue there.
    assert f"cd {tryout}" in block(out)
    assert f"export SKIFFBUILD_PRIMARY_SITE=file://{site}" in block(out)

    # A second run is a no-op for doit.
    assert run_tryout(Project(root), ["qemu-x86_64"], ["config"]) == 0
    assert "-- config:qemu-x86_64" in capfd.readouterr().out


def test_tryout_sandbox_is_a_copy_with_the_standin_pi_kernel_hash(tmp_path: Path) -> None:
    root = copy_project(tmp_path / "proj")
    # A user's layer may hold symlinks: one inside the layer stays a link, one that leads
    # into the project (absolute) must not lead the sandbox back into it.
    extra = root / "layers" / "mine" / "links"
    extra.mkdir(parents=True)
    (extra / "layer.yaml").write_text("format: 1\ndescription: links\n")
    (extra / "real.txt").write_text("real\n")
    (extra / "inner").symlink_to("real.txt")
    (extra / "outer").symlink_to(root / "manifests" / "buildroot.yaml")
    before = snapshot(root)

    tryout, env = prepare_tryout(Project(root), root / "cache" / "tryout")
    for sub in ("layers", "manifests/boards", "manifests", "dodo.py"):
        assert not (tryout / sub).is_symlink(), sub
    for path in tryout.rglob("*"):
        if path.is_symlink():
            assert path.resolve().is_relative_to(tryout), path
    assert (tryout / "layers/mine/links/inner").is_symlink()
    assert not (tryout / "layers/mine/links/outer").is_symlink()

    # pi/common pins the real kernel's hash; the sandbox's copy names the stand-in's.
    site = Path(env["SKIFFBUILD_PRIMARY_SITE"].removeprefix("file://"))
    name = "linux-21b410140c47ffab5668399f6f143c7d7b935c8b.tar.gz"
    standin = hashlib.sha256((site / "linux" / name).read_bytes()).hexdigest()
    copied = (tryout / PI_HASH).read_text()
    assert f"{STANDIN_NOTE}\nsha256  {standin}  {name}\n" in copied
    assert copied.count(name) == 1
    assert standin not in (root / PI_HASH).read_text()
    # Files the stand-in matches already, or does not serve, keep their lines.
    for rel in ("layers/virt/qemu/buildroot_patches/linux/linux.hash",
                "layers/skiff/base/buildroot_patches/linux-headers/linux-headers.hash"):
        assert (tryout / rel).read_bytes() == (root / rel).read_bytes(), rel

    # An edit in the sandbox stays there; the next try-out refreshes it from the project.
    (tryout / "layers/pi/4/buildroot/10-pi4").write_text("BR2_EDITED_IN_TRYOUT=y\n")
    (tryout / "manifests/boards/pi4.yaml").write_text("edited\n")
    assert snapshot(root) == before
    prepare_tryout(Project(root), root / "cache" / "tryout")
    assert ((tryout / "layers/pi/4/buildroot/10-pi4").read_bytes()
            == (root / "layers/pi/4/buildroot/10-pi4").read_bytes())
    assert (tryout / "manifests/boards/pi4.yaml").read_bytes() == (
        root / "manifests/boards/pi4.yaml").read_bytes()
    assert snapshot(root) == before


def test_a_grub_board_powers_off_after_the_tryout_boot(tmp_path: Path) -> None:
    """The A/B board's kernel command line is in its manifest (GRUB): the sandbox copy
    gets skiffbuild.test=poweroff there, once, and nothing else changes."""
    root = copy_project(tmp_path / "proj")
    board = "manifests/boards/qemu-x86_64-ab.yaml"
    tryout, _ = prepare_tryout(Project(root), root / "cache" / "tryout")
    original = (root / board).read_text().splitlines()
    copied = (tryout / board).read_text().splitlines()
    changed = [(a, b) for a, b in zip(original, copied, strict=True) if a != b]
    assert changed == [
        ("        cmdline: console=tty0 console=ttyS0,115200 net.ifnames=0 panic=5",
         '        cmdline: "console=tty0 console=ttyS0,115200 net.ifnames=0 panic=5 '
         'skiffbuild.test=poweroff"')]
    assert poweroff_after_boot(tryout / "manifests" / "boards") == []  # already there
    for other in ("qemu-x86_64.yaml", "pi4.yaml"):
        assert (tryout / "manifests/boards" / other).read_bytes() == \
            (root / "manifests/boards" / other).read_bytes()


def test_tryout_replaces_an_old_symlinked_layout(tmp_path: Path) -> None:
    """Try-outs before the sandbox linked layers/ and manifests/boards/ into the project:
    the refresh replaces the links and never writes through them."""
    root = copy_project(tmp_path / "proj")
    old = root / "cache" / "tryout" / "project"
    (old / "manifests").mkdir(parents=True)
    (old / "layers").symlink_to(root / "layers")
    (old / "manifests" / "boards").symlink_to(root / "manifests" / "boards")
    (old / "dodo.py").symlink_to(root / "dodo.py")
    before = snapshot(root)
    prepare_tryout(Project(root), root / "cache" / "tryout")
    assert not (old / "layers").is_symlink() and (old / "layers" / "pi").is_dir()
    assert not (old / "dodo.py").is_symlink()
    assert snapshot(root) == before


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_tryout_builds_every_board_and_leaves_the_project_clean(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = copy_project(tmp_path / "proj")
    git(root, "init", "--quiet")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "-m", "user's project")
    testtree_status = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "tests/buildroot-tree"],
        capture_output=True, text=True, check=True).stdout

    assert run_tryout(Project(root), ["qemu-x86_64", "pi4", "qemu-x86_64-ab"], ["image"]) == 0
    out = capfd.readouterr().out
    assert out.count(BOOT_COMPLETE) == 2  # qemu-x86_64 (syslinux) and the A/B board (GRUB)
    assert "skiffbuild: booting slot A, try 1 of 3" in out
    assert ("try-out pi4: image built, not booted: this qemu (qemu-system-x86_64) cannot boot "
            "a Raspberry Pi 4") in out
    # The block comes after the console, and is last.
    last_console = max(i for i, line in enumerate(out.splitlines()) if line.startswith("  | "))
    assert out.splitlines().index(CONTINUE_HEADER) > last_console
    assert out.rstrip().endswith("=" * len(CONTINUE_HEADER))

    tryout = root / "cache" / "tryout" / "project"
    lines = block(out)
    for ws in ("qemu-x86_64", "pi4", "qemu-x86_64-ab"):
        image = tryout / "workspaces" / ws / "image"
        assert f"# {ws}: {image / f'{ws}.img'}" in lines
        assert f"#   {image / 'SHA256SUMS'}:" in lines
        sums = (image / "SHA256SUMS").read_text().splitlines()
        assert sums and all(f"#     {line}" in lines for line in sums)
        assert any(line.endswith(f"  {ws}.img") for line in sums)
    assert f"cd {tryout}" in lines
    assert f"export SKIFFBUILD_MIRRORS={root}/cache/tryout/mirrors.yaml" in lines
    assert f"export SKIFFBUILD_PRIMARY_SITE=file://{root}/cache/tryout/site" in lines
    assert "doit image:qemu-x86_64 image:pi4 image:qemu-x86_64-ab" in lines
    assert any(line.startswith("skiffbuild run qemu-x86_64 virt/qemu/run") for line in lines)

    # The user's project: nothing but the git-ignored cache/.
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "status", "--porcelain", "--ignored") == "!! cache/"
    assert subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--", "tests/buildroot-tree"],
        capture_output=True, text=True, check=True).stdout == testtree_status

    # The block's commands work as printed, from a shell with no skiffbuild variables and
    # no network (they are normally all up to date; an edit of skiffbuild's own code in
    # between, a fact of every task, would rebuild them from the try-out's site and mirror).
    script = "\n".join(["set -eu", *(line for line in lines if not line.startswith(
        ("skiffbuild run", "#")))])
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SKIFFBUILD_", "BR2_", "DOIT_"))}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    env["SKIFFBUILD_OFFLINE"] = "1"
    proc = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {"image:qemu-x86_64", "image:pi4", "image:qemu-x86_64-ab"} <= \
        set(ran(proc.stdout)), proc.stdout
    assert git(root, "status", "--porcelain", "--ignored") == "!! cache/"

