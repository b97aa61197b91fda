"""Benchmarks on real doit runs of the bundled boards against the test tree.

(f) both boards from scratch, in parallel (``doit -n 2``) against serially; the
    boards get the layer bench/cpu-layer, whose package compiles generated C
    with gcc -O2 (about 8 s of one CPU per board), so that the gain comes from
    real compile work and not from the test tree's idle steps;
(a) a no-op ``doit image:<ws>`` of every bundled board against doit's floor,
    a run of an empty dodo.py;
(e) image assembly against the bare tool calls it makes (their time, from
    the command log ``run()`` keeps), and on each board's layout as GPT
    against genimage and systemd-repart building the same disk from the same
    files (bench/peers.py), with whether each gives the same bytes every run;
(b) ``config:<ws>`` for a chain the size of pi4 plus skiff/core against the
    one Buildroot ``make defconfig`` it runs, replayed from its log.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common import (
    BOARDS,
    ROOT,
    Row,
    TestTree,
    add_cpu_layer,
    doit_floor,
    median_time,
    project,
    timed,
)
from peers import PeerResult, gpt_variant, run_genimage, run_repart, skiffbuild_peer_workspace

__all__ = ["PeerComparison", "assembly_vs_peers", "bench_pipeline"]

_EXIT = re.compile(r"^# exit 0 after ([0-9.]+)s$")


def _tool_seconds(log_text: str) -> float:
    return sum(float(m[1]) for line in log_text.splitlines() if (m := _EXIT.match(line)))


def _plan(root: Path):
    from skiffbuild.core.project import Project
    from skiffbuild.model.plan import load_plan

    return load_plan(Project.discover(root, environ=os.environ))


def _assembly(root: Path, ws_name: str, repeat: int) -> tuple[float, float]:
    """Wall time of assemble() and the time its tool calls took, medians of ``repeat``."""
    from skiffbuild.image.assemble import assemble

    plan = _plan(root)
    ws = plan.workspaces[ws_name]
    log = ws.paths.logs / "image.log"
    walls, tools = [], []
    for _ in range(repeat):
        before = log.stat().st_size if log.is_file() else 0
        walls.append(timed(lambda: assemble(ws, plan.project, lambda _text: None)))
        with open(log) as f:
            f.seek(before)
            tools.append(_tool_seconds(f.read()))
    return sorted(walls)[len(walls) // 2], sorted(tools)[len(tools) // 2]


@dataclass(frozen=True)
class PeerComparison:
    board: str  # the built board whose layout, as GPT, all three tools assemble
    skiffbuild: PeerResult
    genimage: PeerResult
    repart: PeerResult


def assembly_vs_peers(root: Path, ws: str, runs: int, scratch: Path) -> PeerComparison:
    """Board ``ws`` of the project at ``root`` must be built. Adds the board ``<ws>-gpt``
    (its layout as GPT, no boot loader install) with ``ws``'s Buildroot output, and builds
    that disk ``runs`` times with skiffbuild's assemble(), genimage and systemd-repart."""
    from skiffbuild.image.assemble import assemble

    boards = root / "manifests" / "boards"
    variant = f"{ws}-gpt"
    (boards / f"{variant}.yaml").write_text(gpt_variant((boards / f"{ws}.yaml").read_text()))
    skiffbuild_peer_workspace(root, ws, variant)
    plan = _plan(root)
    workspace = plan.workspaces[variant]
    disk = workspace.paths.root / "image" / f"{variant}.img"
    times, digests = [], set()
    for _ in range(runs):
        times.append(timed(lambda: assemble(workspace, plan.project, lambda _text: None)))
        sums = (workspace.paths.root / "image" / "SHA256SUMS").read_text()
        digests.add(sums.split()[0])
        with open(disk, "rb") as f:  # SHA256SUMS must be the disk's
            if hashlib.file_digest(f, "sha256").hexdigest() != sums.split()[0]:
                raise SystemExit(f"{variant}: SHA256SUMS does not match the disk")
    ours = PeerResult(sorted(times)[len(times) // 2], len(digests) == 1, disk.stat().st_size)
    images = workspace.paths.output / "images"
    epoch = int(json.loads((workspace.paths.root / "state" / "compile.json").read_text())
                ["source_date_epoch"])
    parts = workspace.board.image.partitions
    genimage = run_genimage(variant, images, parts, scratch / f"{variant}-genimage", epoch,
                            runs)
    repart = run_repart(variant, images, parts, scratch / f"{variant}-repart", epoch, runs)
    return PeerComparison(ws, ours, genimage, repart)


def peer_rows(cmp: PeerComparison) -> list[Row]:
    def same(result: PeerResult) -> str:
        return "same bytes" if result.same_bytes else "bytes differ"

    label = (f"(e) test tree: image assembly of {cmp.board}, as GPT "
             f"(skiffbuild: {same(cmp.skiffbuild)})")
    return [Row(label, cmp.skiffbuild.seconds, f"genimage ({same(cmp.genimage)})",
                cmp.genimage.seconds),
            Row(label, cmp.skiffbuild.seconds, f"systemd-repart ({same(cmp.repart)})",
                cmp.repart.seconds)]


def _pi4_core_board() -> str:
    text = (ROOT / "manifests" / "boards" / "pi4.yaml").read_text()
    text = text.replace("description: Raspberry Pi 4", "description: (bench) Raspberry Pi 4", 1)
    return text.replace("layers: [pi/4]", "layers: [pi/4, skiff/core]", 1)


def _config(tmp: Path, testtree: TestTree, repeat: int) -> tuple[float, float]:
    proj = project(tmp / "config", testtree, {"pi4-core": _pi4_core_board()})
    proj.doit("config:pi4-core")  # the checkout and show-info caches: not timed

    def config() -> None:
        proj.doit("forget", "config:pi4-core")
        proj.doit("config:pi4-core")

    # forget is part of each repetition; time it alone and take it off.
    forget = median_time(lambda: proj.doit("forget", "config:pi4-core"), repeat)
    ours = median_time(config, repeat) - forget
    log = (proj.root / "workspaces" / "pi4-core" / "logs" / "config.log").read_text()
    command = [line[2:] for line in log.splitlines() if line.startswith("$ make ")][-1]
    bare = median_time(lambda: subprocess.run(shlex.split(command), check=True,
                                              capture_output=True, cwd=proj.root), repeat)
    return ours, bare


def bench_pipeline(tmp: Path, repeat: int, echo: Callable[[str], None]) -> list[Row]:
    echo("pipeline: creating the test tree repository and its download site")
    testtree = TestTree.create(tmp / "testtree")
    targets = [f"image:{ws}" for ws in BOARDS]
    serial = add_cpu_layer(project(tmp / "serial", testtree))
    parallel = add_cpu_layer(project(tmp / "parallel", testtree))
    echo("pipeline: warming up (one untimed build: page cache, compiled helpers)")
    add_cpu_layer(project(tmp / "warm-up", testtree)).doit(f"image:{BOARDS[0]}")
    echo("pipeline: (f) building both boards serially, then in parallel")
    t_serial = timed(lambda: serial.doit(*targets))
    t_parallel = timed(lambda: parallel.doit("-n", "2", *targets))
    for ws in BOARDS:
        a = (serial.root / "workspaces" / ws / "image" / "SHA256SUMS").read_text()
        b = (parallel.root / "workspaces" / ws / "image" / "SHA256SUMS").read_text()
        if a != b:
            raise SystemExit(f"{ws}: the parallel build differs from the serial one")
    rows = [Row("(f) test tree + gcc -O2 package: both boards from scratch, doit -n 2",
                t_parallel, "serially", t_serial)]

    echo("pipeline: (a) no-op runs")
    floor = doit_floor(tmp / "empty", repeat=repeat)
    for ws in BOARDS:
        noop = median_time(lambda ws=ws: serial.doit(f"image:{ws}"), repeat)
        rows.append(Row(f"(a) test tree: no-op doit image:{ws}", noop, "empty dodo", floor))

    echo("pipeline: (e) image assembly")
    for ws in BOARDS:
        wall, tools = _assembly(serial.root, ws, repeat)
        rows.append(Row(f"(e) test tree: image assembly of {ws}", wall, "its tool calls", tools))
    echo("pipeline: (e) image assembly against genimage and systemd-repart")
    for ws in BOARDS:
        rows += peer_rows(assembly_vs_peers(serial.root, ws, max(3, repeat),
                                            tmp / "peers"))

    echo("pipeline: (b) config of pi4 + skiff/core")
    ours, bare = _config(tmp, testtree, repeat)
    rows.append(Row("(b) test tree: config:<ws>, pi4 + skiff/core chain", ours,
                    "make defconfig", bare))
    return rows
