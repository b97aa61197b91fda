"""Parallel builds never share an environment (issue 11).

``doit -n N`` runs tasks as threads of one process. Parsing Buildroot's Kconfig
needs kconfiglib to see ``HOME="$(HOME)"``, ``TOPDIR``, ``srctree``, ``CONFIG_``,
``BR2_EXTERNAL_*_PATH``, ...; when those were put in ``os.environ``, a command
another task started at that moment inherited them (another workspace's make
stopped with "Recursive variable 'HOME' references itself").

Here two workspaces configure (the real ``config:<ws>`` action: Buildroot's
``make defconfig`` on the test tree, then kconfiglib's parse and check) 50
times each while a third compiles (the real ``compile:<ws>`` action, handed the
live ``os.environ``) over and over, each in its own thread as doit's thread
runner has them. ``make`` is a shim first on ``PATH`` that writes
down the environment it was started with, then is the real make (the compiled
workspace's build itself it only records: the test tree has no sources here).
Every command started from any thread must have exactly the scrubbed build
environment, never a Kconfig variable; every configuration must be its own
workspace's; ``os.environ`` must never change.
"""

from __future__ import annotations

import os
import shlex
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, PinnedTree, make_doit_project

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.compile import compile_workspace
from skiffbuild.buildroot.configure import configure
from skiffbuild.buildroot.kconfig import kconfig_env
from skiffbuild.core.project import Project
from skiffbuild.core.runner import build_environment
from skiffbuild.model.plan import load_plan

ROUNDS = 50
# Set per command by skiffbuild itself (configure's and compile's extra variables).
PER_COMMAND = {"GIT_CEILING_DIRECTORIES", "SOURCE_DATE_EPOCH"}
# What the shim's own shell may add.
SHELL_ADDS = {"PWD", "OLDPWD", "SHLVL", "_"}

# Configured: pi4 (no BR2_EXTERNAL) and vm (qemu-x86_64 with skiff/core's BR2_EXTERNAL
# tree), so the two parse with different variables. Compiled: qemu-x86_64.
QEMU_BOARD = (ROOT / "manifests" / "boards" / "qemu-x86_64.yaml").read_text()
VM_BOARD = QEMU_BOARD.replace("layers: [virt/qemu]", "layers: [skiff/core, virt/qemu]")
assert VM_BOARD != QEMU_BOARD
CONFIGURED = {"pi4": "BR2_aarch64=y\n", "vm": "BR2_x86_64=y\n"}
COMPILED = "qemu-x86_64"


def _make_shim(bindir: Path, dumps: Path, compiled_output: Path) -> None:
    """``make`` that records its environment and arguments, then runs the real make;
    the compiled workspace's build is only recorded."""
    real = shutil.which("make")
    assert real is not None
    bindir.mkdir()
    shim = bindir / "make"
    shim.write_text(
        "#!/bin/sh\n"
        f"f=$(mktemp {shlex.quote(str(dumps))}/make.XXXXXXXX) || exit 97\n"
        "printf '%s\\n' \"$*\" > \"$f.args\" || exit 97\n"
        'env -0 > "$f.env" || exit 97\n'
        f'case " $* " in *" -C {compiled_output} "*) exit 0 ;; esac\n'
        f'exec {shlex.quote(real)} "$@"\n')
    shim.chmod(0o755)


def _dumps(directory: Path) -> list[tuple[str, dict[str, str]]]:
    """(arguments, environment) of every make started."""
    found = []
    for path in sorted(directory.glob("make.*.env")):
        env = dict(item.split("=", 1) for item in path.read_text().split("\0") if item)
        args = path.with_suffix(".args").read_text().strip()
        found.append((args, env))
    return found


def _differences(env: dict[str, str], expected: dict[str, str]) -> list[str]:
    extra = set(env) - set(expected) - PER_COMMAND - SHELL_ADDS
    changed = {k for k in (set(env) & set(expected)) - SHELL_ADDS if env[k] != expected[k]}
    missing = set(expected) - set(env) - SHELL_ADDS
    return ([f"{k}={env[k]!r} (not ours)" for k in sorted(extra)]
            + [f"{k}={env[k]!r} (expected {expected[k]!r})" for k in sorted(changed)]
            + [f"{k} missing" for k in sorted(missing)])


@pytest.mark.slow  # about 40 s on two CPUs: 100 runs of the test tree's make defconfig
def test_two_workspaces_configure_while_a_third_compiles_never_sharing_an_environment(
        tmp_path: Path, testtree: PinnedTree, monkeypatch: pytest.MonkeyPatch) -> None:
    doit = make_doit_project(tmp_path / "project", testtree, boards={"vm": VM_BOARD})
    doit.doit("fetch:buildroot")
    # This process's environment is the doit run's: no SKIFFBUILD_*/BR2_* of the caller's.
    for name in set(os.environ) - set(doit.env):
        monkeypatch.delenv(name)
    for name, value in doit.env.items():
        monkeypatch.setenv(name, value)
    project = Project(doit.root)
    plan = load_plan(project)
    compiled = plan.workspaces[COMPILED]
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    _make_shim(tmp_path / "bin", dumps, compiled.paths.output)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    configure(compiled, project, echo=lambda _text: None)  # compile reads its .config
    for ws in CONFIGURED:  # .br2-external.mk: the externals kconfig_env names
        configure(plan.workspaces[ws], project, echo=lambda _text: None)

    before = dict(os.environ)
    expected = build_environment()  # what every make must get, but PER_COMMAND
    # Each variable kconfiglib gets and the build environment keeps would show in a
    # leak: it is not already there with that value.
    tree = checkout.tree_dir(project.cache, compiled.pin)
    for ws in CONFIGURED:
        values = kconfig_env(tree, plan.workspaces[ws].paths.output)
        visible = {k for k, v in build_environment(base=values).items() if expected.get(k) != v}
        assert {"HOME", "TOPDIR", "srctree"} <= visible
    assert "BR2_EXTERNAL_SKIFF_CORE_PATH" in kconfig_env(tree, plan.workspaces["vm"].paths.output)

    start = threading.Barrier(4)
    configuring_done = threading.Event()
    failures: list[str] = []
    rounds: dict[str, int] = {}
    environ_changes: list[str] = []

    def thread(name: str, step: Callable[[], None], until: Callable[[int], bool]) -> None:
        try:
            start.wait()
            number = 0
            while not until(number):
                step()
                number += 1
                rounds[name] = number
        except BaseException as exc:  # reported below, with the thread's name
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
            start.abort()
            configuring_done.set()

    def configuring(name: str) -> Callable[[], None]:
        ws = plan.workspaces[name]

        def step() -> None:
            findings = configure(ws, project, echo=lambda _text: None)
            assert findings == [], [str(f) for f in findings]
            dotconfig = ws.paths.dotconfig.read_text()
            assert CONFIGURED[name] in dotconfig
            assert f'BR2_DEFCONFIG="{ws.paths.defconfig}"\n' in dotconfig
        return step

    def compiling() -> None:
        # Given the live os.environ, the most exposed way to call it (the doit task
        # hands it the run's settings, read once at start); configure's own make reads
        # os.environ in any case.
        compile_workspace(compiled, project, os.environ, lambda _text: None)

    def watching() -> None:  # os.environ itself, as other code of the process reads it
        while not configuring_done.is_set():
            now = dict(os.environ)
            if now != before:
                environ_changes.append(", ".join(
                    f"{k}={now.get(k)!r}" for k in sorted(set(now) ^ set(before) | {
                        k for k in set(now) & set(before) if now[k] != before[k]})))
            time.sleep(0.001)

    workers = [threading.Thread(target=thread, args=(f"config:{ws}", configuring(ws),
                                                     lambda n: n >= ROUNDS))
               for ws in CONFIGURED]
    # The third compiles, again and again, for as long as the two configure.
    workers.append(threading.Thread(
        target=thread, args=(f"compile:{COMPILED}", compiling,
                             lambda n: n >= ROUNDS and configuring_done.is_set())))
    watcher = threading.Thread(target=lambda: (start.wait(), watching()))
    started = time.monotonic()
    for worker in (*workers, watcher):
        worker.start()
    for worker in workers[:2]:
        worker.join(timeout=600)
    configuring_done.set()
    for worker in (workers[2], watcher):
        worker.join(timeout=600)
    assert not any(w.is_alive() for w in (*workers, watcher)), "a thread hangs"
    elapsed = time.monotonic() - started

    assert failures == []
    assert {name: rounds.get(name) for name in (f"config:{ws}" for ws in CONFIGURED)} == {
        f"config:{ws}": ROUNDS for ws in CONFIGURED}
    assert rounds[f"compile:{COMPILED}"] >= ROUNDS
    # Every make any thread started saw the scrubbed environment and nothing else.
    seen = _dumps(dumps)
    leaks = [f"make {args}: {', '.join(diff)}" for args, env in seen
             if (diff := _differences(env, expected))]
    assert leaks == [], f"{len(leaks)} of {len(seen)} commands saw another environment:\n" + \
        "\n".join(leaks[:10])
    # Nor did os.environ change, at any time.
    assert environ_changes[:5] == []
    assert dict(os.environ) == before
    # ... and they did run from all three threads, many times.
    defconfigs = {ws: sum(f"/workspaces/{ws}/output BR2_EXTERNAL=" in args for args, _ in seen)
                  for ws in CONFIGURED}
    assert defconfigs == {ws: ROUNDS + 1 for ws in CONFIGURED}  # + the first one above
    builds = sum(f"-C {compiled.paths.output}" in args for args, _ in seen)
    versions = sum(args == "--version" for args, _ in seen)
    assert builds == versions == rounds[f"compile:{COMPILED}"]
    print(f"{len(seen)} makes ({builds} compile rounds) in {elapsed:.1f}s")
