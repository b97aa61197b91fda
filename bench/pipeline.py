"""Benchmarks on real doit runs of the bundled boards against the test tree.

(f) both boards from scratch, in parallel (``doit -n 2``) against serially;
(a) a no-op ``doit image:<ws>`` of every bundled board against doit's floor,
    a run of an empty dodo.py;
(e) image assembly against the bare tool calls it makes (their time, from
    the command log ``run()`` keeps);
(b) ``config:<ws>`` for a chain the size of pi4 plus skiff/core against the
    one Buildroot ``make defconfig`` it runs, replayed from its log.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from common import BOARDS, ROOT, Row, TestTree, doit_floor, median_time, project, timed

__all__ = ["bench_pipeline"]

_EXIT = re.compile(r"^# exit 0 after ([0-9.]+)s$")


def _tool_seconds(log_text: str) -> float:
    return sum(float(m[1]) for line in log_text.splitlines() if (m := _EXIT.match(line)))


def _assembly(root: Path, ws_name: str, repeat: int) -> tuple[float, float]:
    """Wall time of assemble() and the time its tool calls took, medians of ``repeat``."""
    from skiffbuild.core.project import Project
    from skiffbuild.image.assemble import assemble
    from skiffbuild.model.plan import load_plan

    plan = load_plan(Project.discover(root))
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


def bench_pipeline(tmp: Path, repeat: int, echo) -> list[Row]:
    echo("pipeline: creating the test tree repository and its download site")
    testtree = TestTree.create(tmp / "testtree")
    targets = [f"image:{ws}" for ws in BOARDS]
    serial = project(tmp / "serial", testtree)
    parallel = project(tmp / "parallel", testtree)
    echo("pipeline: warming up (one untimed build: page cache, compiled helpers)")
    project(tmp / "warm-up", testtree).doit(f"image:{BOARDS[0]}")
    echo("pipeline: (f) building both boards serially, then in parallel")
    t_serial = timed(lambda: serial.doit(*targets))
    t_parallel = timed(lambda: parallel.doit("-n", "2", *targets))
    for ws in BOARDS:
        a = (serial.root / "workspaces" / ws / "image" / "SHA256SUMS").read_text()
        b = (parallel.root / "workspaces" / ws / "image" / "SHA256SUMS").read_text()
        if a != b:
            raise SystemExit(f"{ws}: the parallel build differs from the serial one")
    rows = [Row("(f) test tree: both boards from scratch, doit -n 2", t_parallel, "serially",
                t_serial)]

    echo("pipeline: (a) no-op runs")
    floor = doit_floor(tmp / "empty", repeat=repeat)
    for ws in BOARDS:
        noop = median_time(lambda ws=ws: serial.doit(f"image:{ws}"), repeat)
        rows.append(Row(f"(a) test tree: no-op doit image:{ws}", noop, "empty dodo", floor))

    echo("pipeline: (e) image assembly")
    for ws in BOARDS:
        wall, tools = _assembly(serial.root, ws, repeat)
        rows.append(Row(f"(e) test tree: image assembly of {ws}", wall, "its tool calls", tools))

    echo("pipeline: (b) config of pi4 + skiff/core")
    ours, bare = _config(tmp, testtree, repeat)
    rows.append(Row("(b) test tree: config:<ws>, pi4 + skiff/core chain", ours,
                    "make defconfig", bare))
    return rows
