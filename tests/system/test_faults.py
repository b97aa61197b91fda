"""Parallel workspaces and faults: kill -9, two runs in one checkout, a full disk.

Every build here is a real doit run of the bundled boards against the test
tree; the reference is the same boards built serially in another project,
whose SHA256SUMS every other outcome must match byte for byte.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    DoitProject,
    PinnedTree,
    make_doit_project,
    ran,
    serve_sources,
    use_standin_pi_kernel,
)
from httpserver import FaultyServer

pytestmark = pytest.mark.slow
BOARDS = ("qemu-x86_64", "pi4")
QEMU = "qemu-x86_64"


@dataclass(frozen=True)
class Site:
    server: FaultyServer
    files: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    files = tmp_path_factory.mktemp("site")
    server = serve_sources(files)
    yield Site(server, files)
    server.stop()


def project_at(dest: Path, tree: PinnedTree, site: Site, **env: str) -> DoitProject:
    project = make_doit_project(dest, tree)
    project.env.update({"SKIFFBUILD_PRIMARY_SITE": site.server.url, "SKIFFBUILD_CPUS": "2",
                        **env})
    use_standin_pi_kernel(project, site.files)
    return project


def sums(project: DoitProject, ws: str) -> str:
    return (project.root / "workspaces" / ws / "image" / "SHA256SUMS").read_text()


def compile_log(project: DoitProject, ws: str) -> str:
    return (project.root / "workspaces" / ws / "logs" / "compile.log").read_text()


def builds(log: str) -> list[str]:
    """The make command lines of full builds (no goal, only variables) in a compile log."""
    return [line for line in log.splitlines()
            if line.startswith("$ make -C ") and all("=" in arg for arg in line.split()[4:])]


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree,
           site: Site) -> DoitProject:
    """Both boards built one after the other: the reference."""
    project = project_at(tmp_path_factory.mktemp("serial") / "p", testtree, site)
    project.doit(*(f"image:{ws}" for ws in BOARDS))
    return project


def test_parallel_workspaces_give_the_serial_images_on_a_split_cpu_budget(
        tmp_path: Path, testtree: PinnedTree, site: Site, serial: DoitProject) -> None:
    project = project_at(tmp_path / "p", testtree, site)
    result = project.doit("-n", "2", *(f"image:{ws}" for ws in BOARDS))
    for ws in BOARDS:
        assert sums(project, ws) == sums(serial, ws)
        # Alone, a build gets both CPUs of the budget.
        assert [" BR2_JLEVEL=2 " in line for line in builds(compile_log(serial, ws))] == [True]
    # Two at once: the first to start shares the budget (the second may find the
    # first finished, and then gets it all).
    levels = [re.findall(r" BR2_JLEVEL=(\d+) ", line)
              for ws in BOARDS for line in builds(compile_log(project, ws))]
    assert len(levels) == 2 and ["1"] in levels and all(lv in (["1"], ["2"]) for lv in levels)
    # Off a terminal, every progress line says whose it is.
    progress = [line for line in result.stderr.splitlines() if ">>>" in line]
    assert progress and all(line.startswith(("compile:qemu-x86_64 >>> ", "compile:pi4 >>> "))
                            for line in progress)


def _wait_for(path: Path, text: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.is_file() and text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the run ended ({proc.returncode}) before {text!r} appeared")
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {path}")


def _start(project: DoitProject, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "doit", *args], cwd=project.root,
                            env={**project.env, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


SLOW = "TESTTREE_SLOW_PKG=busybox:{}"
SLOW_STARTED = "TESTTREE_SLOW_PKG: busybox takes"


def test_kill_9_during_compile_then_rerun_redoes_only_the_rest(
        tmp_path: Path, testtree: PinnedTree, site: Site, serial: DoitProject) -> None:
    project = project_at(tmp_path / "p", testtree, site)
    ws = project.root / "workspaces" / QEMU
    run = _start(project, f"image:{QEMU}", SKIFFBUILD_MAKE_ARGS=SLOW.format(60))
    _wait_for(ws / "logs" / "compile.log", SLOW_STARTED, run)
    os.killpg(run.pid, signal.SIGKILL)  # the run and its make, as a crash would
    run.wait()
    assert not (ws / "state" / "done" / "compile.json").exists()
    assert not (ws / "image").exists()

    again = project.doit(f"image:{QEMU}")
    # What finished before the kill is not redone; the interrupted build is.
    assert ran(again.stdout) == {"fetch:buildroot": False, f"config:{QEMU}": False,
                                 f"sources:{QEMU}": False, f"compile:{QEMU}": True,
                                 f"image:{QEMU}": True}
    assert sums(project, QEMU) == sums(serial, QEMU)
    assert ran(project.doit(f"image:{QEMU}").stdout)[f"image:{QEMU}"] is False


def test_kill_9_during_image_assembly_then_rerun_redoes_only_the_image(
        tmp_path: Path, testtree: PinnedTree, site: Site, serial: DoitProject) -> None:
    project = project_at(tmp_path / "p", testtree, site)
    # A stalling mcopy (found first on PATH, which the image tools get) holds the
    # assembly in the middle of the FAT partition.
    slow = tmp_path / "slow-bin"
    slow.mkdir()
    (slow / "mcopy").write_text("#!/bin/sh\nsleep 60\nexec /usr/bin/mcopy \"$@\"\n")
    (slow / "mcopy").chmod(0o755)
    image = project.root / "workspaces" / QEMU / "image"
    run = _start(project, f"image:{QEMU}", PATH=f"{slow}:{os.environ['PATH']}")
    _wait_for(project.root / "workspaces" / QEMU / "logs" / "image.log", "$ mcopy", run)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert (image / ".tmp").is_dir()  # the killed run's work in progress
    assert not (image / f"{QEMU}.img").exists() and not (image / "SHA256SUMS").exists()

    again = project.doit(f"image:{QEMU}")
    assert ran(again.stdout) == {"fetch:buildroot": False, f"config:{QEMU}": False,
                                 f"sources:{QEMU}": False, f"compile:{QEMU}": False,
                                 f"image:{QEMU}": True}
    assert sums(project, QEMU) == sums(serial, QEMU)
    # What a finished image: leaves, and nothing of the killed run (no .tmp).
    assert sorted(p.name for p in image.iterdir()) == sorted(
        ["SHA256SUMS", "build-info.json", f"{QEMU}.img", "partitions", "size.json",
         "sbom.cdx.json", "provenance.intoto.json"])


def test_interrupted_reconfiguration_is_not_taken_for_built(
        tmp_path: Path, testtree: PinnedTree, site: Site, serial: DoitProject) -> None:
    """Build A, start B and kill it mid-package, go back to A: the package B touched is
    rebuilt for A, though A is what doit's state and the last finished build say."""
    project = project_at(tmp_path / "p", testtree, site)
    project.doit(f"image:{QEMU}")
    override = project.root / "overrides" / "workspaces" / QEMU / "buildroot"
    override.mkdir(parents=True)
    (override / "no-client").write_text("# BR2_PACKAGE_DROPBEAR_CLIENT is not set\n")
    ws = project.root / "workspaces" / QEMU
    run = _start(project, f"image:{QEMU}", SKIFFBUILD_MAKE_ARGS="TESTTREE_SLOW_PKG=dropbear:60")
    _wait_for(ws / "logs" / "compile.log", "TESTTREE_SLOW_PKG: dropbear takes", run)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    (override / "no-client").unlink()

    again = project.doit(f"image:{QEMU}")
    assert ran(again.stdout)[f"compile:{QEMU}"] is True
    assert f"compile:{QEMU}: BR2_PACKAGE_DROPBEAR_CLIENT n -> y: option of dropbear" \
        in again.stderr
    assert f"compile:{QEMU}: rebuilding dropbear (dirclean)" in again.stderr
    assert sums(project, QEMU) == sums(serial, QEMU)


def test_killed_run_leaves_make_holding_the_workspace_and_the_rerun_waits(
        tmp_path: Path, testtree: PinnedTree, site: Site, serial: DoitProject) -> None:
    project = project_at(tmp_path / "p", testtree, site)
    log = project.root / "workspaces" / QEMU / "logs" / "compile.log"
    run = _start(project, f"image:{QEMU}", SKIFFBUILD_MAKE_ARGS=SLOW.format(8))
    _wait_for(log, SLOW_STARTED, run)
    os.kill(run.pid, signal.SIGKILL)  # only doit: its make goes on as an orphan
    run.wait()
    again = project.doit(f"image:{QEMU}")
    assert (f"compile:{QEMU}: waiting for workspace {QEMU}, in use by compile:{QEMU} in pid "
            f"{run.pid} ") in again.stderr
    assert "(that process is gone; a command it started still runs)" in again.stderr
    assert sums(project, QEMU) == sums(serial, QEMU)


def test_two_runs_in_one_checkout_share_the_work_and_the_state(
        tmp_path: Path, testtree: PinnedTree, site: Site, serial: DoitProject) -> None:
    project = project_at(tmp_path / "p", testtree, site, SKIFFBUILD_MAKE_ARGS=SLOW.format(3))
    runs = [_start(project, f"image:{QEMU}") for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, out + err
    stderr = "".join(err for _out, err in outputs)
    assert f"waiting for workspace {QEMU}" in stderr
    assert f"compile:{QEMU}: already done by another run, with the same inputs" in stderr
    assert len(builds(compile_log(project, QEMU))) == 1  # one make, not two
    assert sums(project, QEMU) == sums(serial, QEMU)
    # Both runs' state merged: nothing is left to do.
    after = project.doit(f"image:{QEMU}")
    assert after.returncode == 0
    assert not any(ran(after.stdout).values())


@pytest.fixture
def tmpfs() -> Iterator[Callable[[Path, int], None]]:
    mounted: list[Path] = []

    def mount(where: Path, size: int) -> None:
        where.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs",
                               str(where)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {proc.stderr.strip()}")
        mounted.append(where)

    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], check=False)


def test_full_disk_during_image_assembly_keeps_the_old_image_whole(
        tmp_path: Path, testtree: PinnedTree, site: Site,
        tmpfs: Callable[[Path, int], None]) -> None:
    project = project_at(tmp_path / "p", testtree, site)
    project.doit(f"image:{QEMU}")
    image = project.root / "workspaces" / QEMU / "image"
    old = tmp_path / "old-image"
    subprocess.run(["cp", "-a", "--sparse=always", str(image), str(old)], check=True)
    used = int(subprocess.run(["du", "-s", "-B1", str(old)], capture_output=True, text=True,
                              check=True).stdout.split()[0])
    # Room for the old image and a little more: the new one does not fit.
    tmpfs(image, used + (4 << 20))
    subprocess.run(f"cp -a --sparse=always {old}/. {image}/", shell=True, check=True)
    project.doit("forget", f"image:{QEMU}")

    failed = project.doit(f"image:{QEMU}", check=False)
    assert failed.returncode == 1
    assert f"error: image:{QEMU}: the disk holding {image} is full (" in failed.stderr
    assert ("No image was written under its final name, and the temporary files were "
            "removed.") in failed.stderr
    assert "hint: free some space (assembling this image needs up to about 1024 MiB)" \
        in failed.stderr
    assert "Traceback" not in failed.stderr
    assert sorted(p.name for p in image.iterdir()) == sorted(p.name for p in old.iterdir())
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=image, capture_output=True,
                           text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
