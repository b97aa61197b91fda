"""(g) Real Buildroot 2026.02.3 (the shallow copy in shared/), each against a baseline:

- a no-op ``doit image:tiny`` of the real board of tests/real   vs  an empty dodo.py;
- ``skiffbuild check pi4`` (config:pi4, show-info, hash audit)  vs  the same ``make defconfig``
  and ``make -s show-info`` run by hand;
- ``compile:tiny`` from clean (``make clean`` first)           vs  the same ``make`` command
  line run by hand in the same environment, also from clean: skiffbuild's overhead on a real
  build (goal: a ratio of at most 1.05).

The rows need what the real-Buildroot test tier needs (scripts/setup-real, shared/); without
it they are left out with the reason.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

from common import Row, doit_floor, median_time, timed
from conftest import (
    REAL_BUILD_NEEDS,
    REAL_BUILDROOT,
    make_real_board_project,
    make_real_project,
)

__all__ = ["bench_real"]


def _last_make(log: Path) -> list[str]:
    return shlex.split([line[2:] for line in log.read_text(errors="replace").splitlines()
                        if line.startswith("$ make ")][-1])


def _bare_env(**extra: str) -> dict[str, str]:
    """What compile:<ws> gives make (run.build_environment), for the hand-run baseline."""
    from skiffbuild.core.runner import build_environment

    return build_environment(extra, base=os.environ)


def _config_and_show_info(tmp: Path, repeat: int) -> tuple[float, float]:
    project = make_real_project(tmp / "bundled")
    project.doit("config:pi4")  # the checkout: not timed
    ws = project.root / "workspaces" / "pi4"

    def check() -> None:
        (ws / "config" / "show-info.json").unlink(missing_ok=True)
        project.doit("forget", "config:pi4")
        project.skiffbuild("check", "pi4")

    forget = median_time(lambda: project.doit("forget", "config:pi4"), repeat)
    ours = median_time(check, repeat) - forget
    defconfig = _last_make(ws / "logs" / "config.log")
    env = _bare_env()

    def by_hand() -> None:
        subprocess.run(defconfig, check=True, capture_output=True, env=env, cwd=project.root)
        subprocess.run(["make", "-s", "-C", str(ws / "output"), "show-info"], check=True,
                       capture_output=True, env=env)

    return ours, median_time(by_hand, repeat)


def _compile(tmp: Path, echo) -> tuple[float, float, float, float]:
    """No-op image, its floor, and compile from clean: skiffbuild's and by hand."""
    project = make_real_board_project(tmp / "tiny")
    echo("real: building the tiny board once (checkout, config, sources, compile, image)")
    project.doit("image:tiny")
    ws = project.root / "workspaces" / "tiny"
    noop = median_time(lambda: project.doit("image:tiny"), 3)
    floor = doit_floor(tmp / "empty", repeat=3)

    command = _last_make(ws / "logs" / "compile.log")
    epoch = str(json.loads((ws / "state" / "compile.json").read_text())["source_date_epoch"])
    env = _bare_env(SOURCE_DATE_EPOCH=epoch, GIT_CEILING_DIRECTORIES=str(
        project.root / "cache" / "buildroot"))

    def clean() -> None:
        subprocess.run(["make", "-C", str(ws / "output"), "clean"], check=True,
                       capture_output=True, env=env)

    echo("real: compile:tiny from clean, through skiffbuild")
    clean()
    project.doit("forget", "compile:tiny")
    ours = timed(lambda: project.doit("compile:tiny"))
    echo("real: the same make from clean, by hand")
    clean()
    bare = timed(lambda: subprocess.run(["sh", "-c", 'umask 022 && exec "$@"', "sh", *command],
                                        check=True, capture_output=True, env=env))
    return noop, floor, ours, bare


def bench_real(tmp: Path, repeat: int, echo) -> list[Row]:
    missing = [str(p) for p in (REAL_BUILDROOT, *REAL_BUILD_NEEDS) if not p.exists()]
    if missing or not shutil.which("make"):
        echo(f"real: left out, missing {', '.join(missing) or 'make'} "
             "(run scripts/setup beside shared/)")
        return []
    echo("real: (g) check pi4 on real Buildroot")
    ours, bare = _config_and_show_info(tmp / "real", repeat)
    noop, floor, compile_ours, compile_bare = _compile(tmp / "real", echo)
    return [
        Row("(g) real Buildroot: no-op doit image:tiny", noop, "empty dodo", floor),
        Row("(g) real Buildroot: check pi4 (config, show-info, audit)", ours,
            "defconfig + show-info", bare),
        Row("(g) real Buildroot: compile:tiny from clean", compile_ours, "the same make",
            compile_bare),
    ]
