"""compile:<ws> and image:<ws> end to end against the test tree (slow: full pipelines)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, make_doit_project, ran, use_standin_pi_kernel
from httpserver import FaultyServer

from skiffbuild.image.boot import boot_disk

pytestmark = pytest.mark.slow
MARKER = "SKIFFBUILD-OVERLAY-MARKER-7f3a"


def build_project(dest: Path, tree: PinnedTree, server: FaultyServer) -> DoitProject:
    project = make_doit_project(dest, tree)
    project.env["SKIFFBUILD_PRIMARY_SITE"] = server.url
    return project


def add_marker_layer(project: DoitProject) -> None:
    """A test-only override: a file in a root_overlay, printed at boot with /mnt/persist's
    mount line, then the guest powers off."""
    overlay = project.root / "overrides" / "root_overlay"
    (overlay / "etc").mkdir(parents=True)
    (overlay / "etc" / "skiff-test-marker").write_text(MARKER + "\n")
    units = overlay / "usr" / "lib" / "systemd" / "system"
    units.mkdir(parents=True)
    (units / "zz-skiff-test.service").write_text(
        "[Unit]\nDescription=skiffbuild boot test\nAfter=skiff-persist.service\n\n"
        "[Service]\nType=oneshot\n"
        "ExecStart=/bin/sh -c 'cat /etc/skiff-test-marker; grep \" /mnt/persist \" /proc/mounts'\n"
        "ExecStart=/bin/busybox poweroff -f\n")
    presets = overlay / "usr" / "lib" / "systemd" / "system-preset"
    presets.mkdir(parents=True)
    (presets / "90-skiff-test.preset").write_text("enable zz-skiff-test.service\n")


def sha256sums(project: DoitProject, ws: str) -> str:
    return (project.root / "workspaces" / ws / "image" / "SHA256SUMS").read_text()


def test_qemu_image_boots_with_overlay_marker_and_persist(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    project = build_project(tmp_path / "p", testtree, upstream)
    add_marker_layer(project)
    result = project.doit("image:qemu-x86_64")
    assert ran(result.stdout)["image:qemu-x86_64"] is True
    disk = project.root / "workspaces/qemu-x86_64/image/qemu-x86_64.img"
    boot = boot_disk(disk, (MARKER, "/mnt/persist ext4"), timeout=180)
    console = "\n".join(boot.lines[-60:])
    assert boot.seen == (MARKER, "/mnt/persist ext4"), console
    assert boot.powered_off, console


def test_pi4_image_layout_and_filesystems(tmp_path: Path, testtree: PinnedTree,
                                          upstream: FaultyServer) -> None:
    project = build_project(tmp_path / "p", testtree, upstream)
    use_standin_pi_kernel(project, tmp_path / "site")
    project.doit("image:pi4")
    image_dir = project.root / "workspaces/pi4/image"
    disk = image_dir / "pi4.img"
    table = json.loads(subprocess.run(["sfdisk", "--json", str(disk)], capture_output=True,
                                      text=True, check=True).stdout)["partitiontable"]
    assert table["label"] == "dos"
    parts = table["partitions"]
    assert [(p["type"], p.get("bootable", False)) for p in parts] == [
        ("c", True), ("83", False), ("83", False)]
    assert parts[0]["start"] == 2048 and parts[0]["size"] == 256 * 2048
    assert parts[2]["size"] == 512 * 2048
    boot = image_dir / "partitions" / "boot.vfat"
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    listing = subprocess.run(["mdir", "-/", "-b", "-i", str(boot), "::/"], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
    for name in ("::/Image", "::/config.txt", "::/cmdline.txt", "::/start4.elf",
                 "::/fixup4.dat", "::/bcm2711-rpi-4-b.dtb"):
        assert name in listing, listing
    subprocess.run(["fsck.vfat", "-n", str(boot)], check=True, capture_output=True)
    subprocess.run(["e2fsck", "-fn", str(image_dir / "partitions" / "persist.ext4")],
                   check=True, capture_output=True)
    subprocess.run(["unsquashfs", "-s", str(image_dir / "partitions" / "rootfs.img")],
                   check=True, capture_output=True)


def test_two_builds_from_scratch_are_identical(tmp_path: Path, testtree: PinnedTree,
                                               upstream: FaultyServer) -> None:
    first = build_project(tmp_path / "one", testtree, upstream)
    first.doit("image:qemu-x86_64")
    second = build_project(tmp_path / "elsewhere" / "two", testtree, upstream)
    second.env.update({"TZ": "America/St_Johns", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"})
    proc = subprocess.run(["sh", "-c", 'umask 077 && exec "$@"', "sh", "python3", "-m", "doit",
                           "image:qemu-x86_64"], cwd=second.root, env=second.env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert sha256sums(first, "qemu-x86_64") == sha256sums(second, "qemu-x86_64")


def test_overlay_change_is_incremental_then_nothing_runs(tmp_path: Path, testtree: PinnedTree,
                                                         upstream: FaultyServer) -> None:
    project = build_project(tmp_path / "p", testtree, upstream)
    calls = tmp_path / "make-calls"
    wrapper = tmp_path / "bin" / "make"
    wrapper.parent.mkdir()
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec /usr/bin/make "$@"\n')
    wrapper.chmod(0o755)
    project.env["PATH"] = f"{wrapper.parent}:{project.env['PATH']}"
    project.doit("image:qemu-x86_64")
    before = sha256sums(project, "qemu-x86_64")

    overlay = project.root / "layers/skiff/base/root_overlay/etc/skiff-motd"
    overlay.parent.mkdir(parents=True, exist_ok=True)
    overlay.write_text("changed by a test\n")
    calls.write_text("")
    second = project.doit("image:qemu-x86_64")
    assert ran(second.stdout)["compile:qemu-x86_64"] is True
    assert "full rebuild" not in second.stderr
    assert "dirclean" not in second.stderr
    assert " Building" not in second.stderr  # no package was rebuilt
    assert calls.read_text() != ""
    assert sha256sums(project, "qemu-x86_64") != before

    calls.write_text("")
    third = project.doit("image:qemu-x86_64")
    assert ran(third.stdout)["compile:qemu-x86_64"] is False
    assert ran(third.stdout)["image:qemu-x86_64"] is False
    assert calls.read_text() == ""  # make was not invoked at all


def test_failing_package_is_named_with_the_log_tail(tmp_path: Path, testtree: PinnedTree,
                                                    upstream: FaultyServer) -> None:
    project = build_project(tmp_path / "p", testtree, upstream)
    project.env["SKIFFBUILD_MAKE_ARGS"] = "TESTTREE_FAIL_PKG=busybox"
    result = project.doit("image:qemu-x86_64", check=False)
    assert result.returncode == 1  # a build failure, reported once
    assert "error: compile of qemu-x86_64 failed in package busybox 1.37.0 (Building)" \
        in result.stderr
    assert "TaskFailed" not in result.stdout + result.stderr
    log = project.root / "workspaces/qemu-x86_64/logs/compile.log"
    assert f"  full log: {log}" in result.stderr
    assert not (project.root / "workspaces/qemu-x86_64/image/qemu-x86_64.img").exists()


def test_option_change_rebuilds_only_that_package(tmp_path: Path, testtree: PinnedTree,
                                                  upstream: FaultyServer) -> None:
    project = build_project(tmp_path / "p", testtree, upstream)
    project.doit("image:qemu-x86_64")
    override = project.root / "overrides" / "workspaces" / "qemu-x86_64" / "buildroot"
    override.mkdir(parents=True)
    (override / "no-client").write_text("# BR2_PACKAGE_DROPBEAR_CLIENT is not set\n")
    second = project.doit("image:qemu-x86_64")
    assert "compile:qemu-x86_64: BR2_PACKAGE_DROPBEAR_CLIENT y -> n: option of dropbear" \
        in second.stderr
    assert "compile:qemu-x86_64: rebuilding dropbear (dirclean)" in second.stderr
    assert "compile:qemu-x86_64 >>> dropbear 2026.91 Building" in second.stderr
    assert "busybox 1.37.0 Building" not in second.stderr
    assert "full rebuild" not in second.stderr


def failing_post_build_hook(project: DoitProject, flag: Path) -> None:
    """skiff/base's post-build hook (this project's copy) fails while ``flag`` exists."""
    hook = project.root / "layers/skiff/base/hooks/post-build.sh"
    hook.write_text(hook.read_text().replace(
        "set -eu\n", f'set -eu\nif [ -e "{flag}" ]; then echo "hook refuses: {flag}" >&2; '
                    "exit 3; fi\n", 1))


def test_failing_hook_is_named_as_the_step_and_quoted_without_escapes(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    project = build_project(tmp_path / "p", testtree, upstream)
    flag = tmp_path / "fail"
    flag.touch()
    failing_post_build_hook(project, flag)
    # A terminal type with a standout mode: Buildroot wraps its ">>>" lines in escapes.
    project.env["TERM"] = "xterm"
    result = project.doit("image:qemu-x86_64", check=False)
    assert result.returncode != 0
    script = project.root / "workspaces/qemu-x86_64/config/post-build.sh"
    assert (f'error: compile of qemu-x86_64 failed in step "Executing post-build script '
            f'{script}"; last lines of the log:') in result.stderr
    assert f"  | hook refuses: {flag}" in result.stderr
    assert f"  | >>>   Executing post-build script {script}" in result.stderr
    assert "\x1b" in (project.root / "workspaces/qemu-x86_64/logs/compile.log").read_text()
    assert "\x1b" not in result.stderr
    # Packages without a version are shown without a double space.
    assert "compile:qemu-x86_64 >>> skeleton Extracting" in result.stderr
    assert ">>> skeleton  " not in result.stderr


def test_retry_after_a_late_failure_does_not_clean_again(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    """A configuration change cleans dropbear, which is rebuilt; the build then fails in a
    hook. The retry builds the same configuration: nothing to clean, dropbear is done."""
    project = build_project(tmp_path / "p", testtree, upstream)
    flag = tmp_path / "fail"
    failing_post_build_hook(project, flag)
    project.doit("image:qemu-x86_64")
    override = project.root / "overrides" / "workspaces" / "qemu-x86_64" / "buildroot"
    override.mkdir(parents=True)
    (override / "no-client").write_text("# BR2_PACKAGE_DROPBEAR_CLIENT is not set\n")
    flag.touch()
    failed = project.doit("image:qemu-x86_64", check=False)
    assert failed.returncode != 0
    assert "compile:qemu-x86_64: rebuilding dropbear (dirclean)" in failed.stderr
    assert "compile:qemu-x86_64 >>> dropbear 2026.91 Building" in failed.stderr
    assert 'failed in step "Executing post-build script' in failed.stderr

    flag.unlink()
    retry = project.doit("image:qemu-x86_64")
    assert ran(retry.stdout)["compile:qemu-x86_64"] is True
    assert "dirclean" not in retry.stderr and "make clean" not in retry.stderr
    assert "dropbear 2026.91 Building" not in retry.stderr
    assert " Building" not in retry.stderr  # no package at all was built again
    log = (project.root / "workspaces/qemu-x86_64/logs/compile.log").read_text()
    assert log.count("dropbear-dirclean") == 1


def test_an_overlay_symlink_cannot_turn_a_hook_write_into_a_host_write(
        tmp_path: Path, testtree: PinnedTree, upstream: FaultyServer) -> None:
    """Issue 12: one layer's overlay puts ``etc/escape -> <a host directory>`` into the
    target (an absolute link is legitimate for the device); another layer's ordinary
    post-build hook then writes through it. The hooks run confined: only Buildroot's
    output directory is writable, so the write fails on the host, not in the image."""
    project = build_project(tmp_path / "p", testtree, upstream)
    host = tmp_path / "host"
    host.mkdir()
    overlay = project.root / "overrides" / "root_overlay" / "etc"
    overlay.mkdir(parents=True)
    (overlay / "escape").symlink_to(host)
    outside = project.root.parent / "outside-the-project"
    hook = project.root / "layers/skiff/base/hooks/post-build.sh"
    hook.write_text(hook.read_text() + f"""
echo pwned > "$TARGET_DIR/etc/escape/pwned" 2>/dev/null || : > "$TARGET_DIR/etc/escape-refused"
( : > "{outside}" ) 2>/dev/null || : > "$TARGET_DIR/etc/outside-refused"
: > "$TMPDIR/scratch"  # a fresh TMPDIR in the output directory
( : > /tmp/skiffbuild-hook-scratch ) 2>/dev/null || : > "$TARGET_DIR/etc/tmp-refused"
: > "$TARGET_DIR/etc/hook-wrote-here"
""")
    project.doit("compile:qemu-x86_64")
    log = (project.root / "workspaces/qemu-x86_64/logs/compile.log").read_text()
    if "runs unconfined" in log:
        assert os.environ.get("CI") != "true", "CI must be able to confine the hooks"
        pytest.skip("no mount namespace can be made on this machine")
    assert list(host.iterdir()) == []
    assert not outside.exists()
    assert not Path("/tmp/skiffbuild-hook-scratch").exists()
    target = project.root / "workspaces/qemu-x86_64/output/target/etc"
    for name in ("escape-refused", "outside-refused", "tmp-refused", "hook-wrote-here"):
        assert (target / name).is_file(), name
    assert os.readlink(target / "escape") == str(host)  # the device's link is kept
