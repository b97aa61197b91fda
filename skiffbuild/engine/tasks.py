"""doit task creators: they translate plans into task dicts and hold no logic.

``dodo.py`` at the project root re-exports this module, so ``doit list``,
``doit config:pi4`` and ``doit -n 2 image:pi4 image:qemu-x86_64`` work from
the checkout. Up-to-date checks key on content (``ContentChecker``) and on
``config_changed`` of the non-file facts of each plan. Every workspace task
runs under ``state.guarded`` (workspace lock, completion record as a
target), doit's state is committed task by task (``statedb``), and output
goes through the per-workspace status board (``progress``).
"""

from __future__ import annotations

import errno
import functools
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

from doit.tools import config_changed

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.compile import (
    ToolchainUnchanged,
    compile_inputs,
    compile_links,
    compile_workspace,
    list_tree,
    make_args,
)
from skiffbuild.buildroot.configure import configure
from skiffbuild.buildroot.mirrors import MirrorMap
from skiffbuild.buildroot.overrides import OverridesUnchanged
from skiffbuild.core.codedigest import code_digest
from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.project import ENV_OFFLINE, ENV_QUIET, ENV_STRICT, Project, flag
from skiffbuild.core.records import guarded, record_path
from skiffbuild.engine import budget
from skiffbuild.engine.checker import ContentChecker
from skiffbuild.engine.progress import SkiffReporter, board
from skiffbuild.image.assemble import assemble
from skiffbuild.model.model import BuildrootPin
from skiffbuild.model.plan import Plan, Workspace, load_plan
from skiffbuild.sources.download import (
    ConsoleReporter,
    settings_from_env,
    sources_verified,
    sync_workspace,
)
from skiffbuild.sources.lockfile import lock_path

__all__ = ["DOIT_CONFIG", "task_compile", "task_config", "task_fetch", "task_image",
           "task_repro", "task_sources"]



@functools.cache
def _plan() -> Plan:
    try:
        return load_plan(Project.discover())
    except SkiffError as exc:
        # A manifest error is the user's to fix: no traceback, exit 2.
        print(exc.render(), file=sys.stderr)
        raise SystemExit(exc.exit_status) from None


def _doit_config() -> dict[str, Any]:
    try:
        project = Project.discover()
    except SkiffError as exc:
        print(exc.render(), file=sys.stderr)
        raise SystemExit(exc.exit_status) from None
    project.state_dir.mkdir(parents=True, exist_ok=True)
    return {
        # sqlite3 merges concurrent writers instead of failing or losing state
        # (reference/doit.md, trap c); dbm may silently be dbm.dumb. This one
        # also commits each task as it finishes (statedb).
        "backend": "skiff-sqlite3",
        "dep_file": str(project.state_dir / "doit.sqlite3"),
        "check_file_uptodate": ContentChecker,
        "par_type": "thread",
        "reporter": SkiffReporter,
        "default_tasks": ["config"],
    }


DOIT_CONFIG = _doit_config()


_ENVIRONMENT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


def _action(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], bool]:
    """Run ``fn``; a SkiffError, or a full, read-only or forbidden disk, becomes a
    readable failure instead of a traceback."""

    def action() -> bool:
        try:
            fn(*args, **kwargs)
        except SkiffError as exc:
            _echo(exc.render())
            return False
        except OSError as exc:
            # A full or read-only disk, or a permission problem: the machine's state,
            # not a bug, so a message naming the file rather than a traceback.
            if exc.errno not in _ENVIRONMENT_ERRNOS:
                raise
            where = f" ({exc.filename})" if exc.filename else ""
            _echo(f"error: {exc.strerror}{where}")
            return False
        return True

    action.__name__ = fn.__name__
    return action


def _workspace_task(stage: str, ws: Workspace, fn: Callable[..., None], *,
                    doc: str, file_dep: list[str], targets: list[str],
                    facts: Any = None, uptodate: list[Any] | None = None) -> dict[str, Any]:
    """A task of one workspace: guarded by its lock, with a completion record as a target
    (``state``); ``facts`` are the non-file inputs (also its ``config_changed``)."""
    name = f"{stage}:{ws.name}"
    plan = _plan()
    work = functools.partial(fn, ws, plan.project)
    return {
        "name": ws.name,
        "doc": doc,
        "actions": [_action(guarded, name, ws.paths, file_dep, facts, work, _echo)],
        "file_dep": file_dep,
        "targets": [*targets, str(record_path(ws.paths, stage))],
        "uptodate": uptodate if uptodate is not None else [config_changed(facts)],
        "params": _OFFLINE_PARAM,
        "verbosity": 2,
    }


def _fetch(pin: BuildrootPin, project: Project) -> None:
    checkout.checkout(pin, project.cache, MirrorMap.from_env(os.environ))


def _configure(ws: Workspace, project: Project) -> None:
    strict = os.environ.get(ENV_STRICT, "") not in ("", "0")
    # `skiffbuild check` prints the findings itself, from the saved report.
    quiet = os.environ.get(ENV_QUIET, "") not in ("", "0")
    configure(ws, project, strict=strict, echo=(lambda _text: None) if quiet else None)


def offline_requested() -> bool:
    """``--offline`` after any task name, or SKIFFBUILD_OFFLINE=1."""
    return "--offline" in sys.argv[1:] or flag(os.environ, ENV_OFFLINE)


# Accepting --offline on every task lets `doit image:pi4 --offline` parse; the
# value is read by offline_requested(), because doit gives a task option only
# to the task it follows, not to the tasks that one depends on.
_OFFLINE_PARAM = [{"name": "offline", "long": "offline", "type": bool, "default": False,
                   "help": "never touch the network (also: SKIFFBUILD_OFFLINE=1)"}]


def _echo(text: str) -> None:
    board().message(text)


def _sources(ws: Workspace, project: Project) -> None:
    settings = settings_from_env(os.environ, offline=offline_requested())
    sync_workspace(ws, project, settings, ConsoleReporter(_echo))


def task_fetch() -> Iterator[dict[str, Any]]:
    """Check out each pinned Buildroot tree (bare mirror, pinned commit, patch series)."""
    plan = _plan()
    yield {"name": None, "doc": "check out the pinned Buildroot trees"}
    for pin in plan.pins.values():
        yield {
            "name": pin.name,
            "doc": f"Buildroot {pin.tag or pin.commit[:12]} from {pin.url}",
            "actions": [_action(_fetch, pin, plan.project)],
            "file_dep": [str(pin.manifest), *map(str, pin.patches)],
            "targets": [str(checkout.stamp_path(plan.project.cache, pin))],
            "uptodate": [config_changed({"code": code_digest(), "url": pin.url,
                                         "commit": pin.commit,
                                         "tree": checkout.tree_key(pin)})],
            "params": _OFFLINE_PARAM,
            "verbosity": 2,
        }


def task_config() -> Iterator[dict[str, Any]]:
    """Merge the layers' fragments and write the workspace's Buildroot .config."""
    plan = _plan()
    yield {"name": None, "doc": "merge fragments and write Buildroot's .config per workspace"}
    for ws in plan.workspaces.values():
        stamp = checkout.stamp_path(plan.project.cache, ws.pin)
        yield _workspace_task(
            "config", ws, _configure, doc=f"configure {ws.name}: {ws.board.description}",
            file_dep=[*map(str, ws.inputs()), str(stamp)],
            targets=[str(ws.paths.defconfig), str(ws.paths.dotconfig)],
            facts=ws.config_key())


def task_sources() -> Iterator[dict[str, Any]]:
    """Download and verify every source a workspace needs into the shared cache."""
    plan = _plan()
    yield {"name": None, "doc": "download and verify every source into cache/dl"}
    for ws in plan.workspaces.values():
        lock = lock_path(plan.project)
        yield _workspace_task(
            "sources", ws, _sources, doc=f"download and verify the sources of {ws.name}",
            file_dep=[str(ws.paths.dotconfig), *([str(lock)] if lock.is_file() else [])],
            targets=[str(ws.paths.sources)],
            # Cheap (stat-based) re-verification every run: a damaged cache file
            # is caught before a build uses it.
            uptodate=[functools.partial(_verified, ws, plan.project),
                      config_changed({"code": code_digest()})])


def _verified(ws: Workspace, project: Project, task: object = None,
              values: object = None) -> bool:
    return sources_verified(ws, project)


def _compile(ws: Workspace, project: Project) -> None:
    def progress(text: str) -> None:
        board().status(ws.name, f"compile:{ws.name}", text)

    compile_workspace(ws, project, os.environ, _echo, progress,
                      jobs=budget.jlevel(os.environ, sys.argv))


def _image(ws: Workspace, project: Project) -> None:
    assemble(ws, project, _echo, jobs=budget.jlevel(os.environ, sys.argv))


def task_compile() -> Iterator[dict[str, Any]]:
    """Run the pinned Buildroot for a workspace (only when its inputs changed)."""
    plan = _plan()
    yield {"name": None, "doc": "run Buildroot out of tree (O=workspaces/<ws>/output)"}
    lister = functools.cache(list_tree)  # layers are shared: walk each tree once
    for ws in plan.workspaces.values():
        facts = {"code": code_digest(), "tree": checkout.tree_key(ws.pin),
                 "make": make_args(plan.project, os.environ),
                 "links": compile_links(ws, lister)}
        yield _workspace_task(
            "compile", ws, _compile, doc=f"build {ws.name} with Buildroot",
            file_dep=[str(p) for p in compile_inputs(ws, lister)],
            targets=[str(ws.paths.root / "state" / "compile.json")],
            # Package source trees (<PKG>_OVERRIDE_SRCDIR) are checked when the task
            # is about to run, after sources:<ws> has recorded them.
            # So is a preinstalled external toolchain (stat only: ToolchainUnchanged).
            facts=facts, uptodate=[config_changed(facts), OverridesUnchanged(ws),
                                   ToolchainUnchanged(ws, plan.project)])


def task_image() -> Iterator[dict[str, Any]]:
    """Assemble the workspace's reproducible disk image."""
    plan = _plan()
    yield {"name": None, "doc": "assemble the reproducible disk image per workspace"}
    for ws in plan.workspaces.values():
        work = ws.paths.root / "image"
        yield _workspace_task(
            "image", ws, _image, doc=f"disk image of {ws.name}: {ws.board.description}",
            file_dep=[str(ws.paths.root / "state" / "compile.json")],
            targets=[str(work / f"{ws.name}.img"), str(work / "SHA256SUMS")],
            # The code's digest, not its version: an update that changes how images
            # are made makes new ones.
            facts={"layout": repr(ws.board.image), "code": code_digest()})


def _repro(ws: Workspace, project: Project) -> None:
    from skiffbuild.release.repro import repro

    identical, _ = repro(project, ws.name, echo=_echo)
    if not identical:
        raise BuildError(f"{ws.name} is not reproducible: see "
                         f"{project.workspace(ws.name).root / 'repro' / 'report.json'}")


def task_repro() -> Iterator[dict[str, Any]]:
    """Build a workspace twice from scratch with varied environments and compare."""
    plan = _plan()
    yield {"name": None, "doc": "reproducibility check: two builds from scratch, compared"}
    for ws in plan.workspaces.values():
        yield {
            "name": ws.name,
            "doc": f"build {ws.name} twice and compare every artifact and partition",
            "actions": [_action(_repro, ws, plan.project)],
            "task_dep": [f"sources:{ws.name}"],
            "verbosity": 2,
        }
