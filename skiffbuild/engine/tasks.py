"""doit task creators: they translate plans into task dicts and hold no logic.

``doit_tasks(settings)`` returns the namespace doit loads its tasks from: ``dodo.py``
at the project root puts it in its globals (``doit list``, ``doit config:pi4``,
``doit -n 2 image:pi4 image:qemu-x86_64``), and ``skiffbuild check`` hands it to doit
in-process with settings of its own. Nothing happens at import. Up-to-date checks key
on content (``ContentChecker``) and on ``config_changed`` of the non-file facts of each
plan. Every workspace task runs under ``records.guarded`` (workspace lock, completion
record as a target), doit's state is committed task by task (``doitstate``), and
output goes through the per-workspace status board (``progress``).

Errors: an action never lets an exception reach doit. A ``SkiffError`` is printed as
the user's to fix (exit 2), a ``BuildError`` or a full, read-only or forbidden disk as
a failed build (exit 1), anything else with its traceback as a bug (exit 3); the
reporter turns that into the run's exit status without doit's own failure report.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import json
import sys
import traceback
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
from skiffbuild.buildroot.handedits import generated_intact
from skiffbuild.buildroot.mirrors import MirrorMap
from skiffbuild.buildroot.overrides import OverridesUnchanged
from skiffbuild.core.codedigest import code_digest
from skiffbuild.core.errors import (
    EXIT_BUILD,
    EXIT_INTERNAL,
    BuildError,
    ProblemsError,
    SkiffError,
)
from skiffbuild.core.project import Project
from skiffbuild.core.records import guarded, record_path
from skiffbuild.core.settings import Settings, process_settings
from skiffbuild.engine.budget import CpuBudget
from skiffbuild.engine.checker import ContentChecker
from skiffbuild.engine.progress import ReportedFailure, board, reporter_for
from skiffbuild.image.assemble import assemble
from skiffbuild.image.published import PROVENANCE_FILE, SBOM_FILE, PublishedIntact
from skiffbuild.model.model import BuildrootPin
from skiffbuild.model.plan import Plan, Workspace, load_plan
from skiffbuild.release.update import INFO_FILE, BundleIntact, build_update, slot_source
from skiffbuild.sources.download import (
    ConsoleReporter,
    settings_from_env,
    sources_verified,
    sync_workspace,
)
from skiffbuild.sources.lockfile import lock_path

__all__ = ["doit_tasks"]

_ENVIRONMENT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)

# Accepting --offline on every task lets `doit image:pi4 --offline` parse; the
# value is read from the command line by Settings, because doit gives a task option
# only to the task it follows, not to the tasks that one depends on.
_OFFLINE_PARAM = [{"name": "offline", "long": "offline", "type": bool, "default": False,
                   "help": "never touch the network (also: SKIFFBUILD_OFFLINE=1)"}]


def _echo(text: str) -> None:
    board().message(text)


def _user_exit(exc: SkiffError) -> SystemExit:
    """A manifest error while doit loads the tasks: the user's to fix, no traceback."""
    print(exc.render(), file=sys.stderr)
    return SystemExit(exc.exit_status)


def _action(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[[], Any]:
    """``fn`` as a doit action whose failures are explained once, by skiffbuild."""

    def action() -> ReportedFailure | None:
        try:
            fn(*args, **kwargs)
        except SkiffError as exc:
            _echo(exc.render())
            return ReportedFailure(exc.exit_status)
        except OSError as exc:
            # A full or read-only disk, or a permission problem: the machine's state,
            # not a bug, so a message naming the file rather than a traceback.
            if exc.errno not in _ENVIRONMENT_ERRNOS:
                return _bug()
            where = f" ({exc.filename})" if exc.filename else ""
            _echo(f"error: {exc.strerror}{where}")
            return ReportedFailure(EXIT_BUILD)
        except Exception:
            return _bug()
        return None

    action.__name__ = fn.__name__
    return action


def _failing(name: str, doc: str, error: SkiffError) -> dict[str, Any]:
    """A task that only reports ``error`` (a broken manifest), as any failed action does."""

    def broken() -> None:
        raise error

    return {"name": name, "doc": doc, "actions": [_action(broken)], "params": _OFFLINE_PARAM,
            "verbosity": 2}


def _bug() -> ReportedFailure:
    _echo(traceback.format_exc().rstrip("\n") +
          "\ninternal error: this is a bug in skiffbuild")
    return ReportedFailure(EXIT_INTERNAL)


class _Run:
    """One doit run: its settings, its CPU budget and (loaded once) its plan."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.budget = CpuBudget(settings)

    @functools.cached_property
    def project(self) -> Project:
        try:
            return Project.discover(environ=self.settings.environ)
        except SkiffError as exc:
            raise _user_exit(exc) from None

    @functools.cached_property
    def plan(self) -> Plan:
        """The plan of every workspace that could be planned: a broken manifest fails only
        the workspaces that use it (their tasks fail with its problems), named here."""
        try:
            plan = load_plan(self.project, partial=True)
        except SkiffError as exc:
            raise _user_exit(exc) from None
        if not self.settings.quiet:
            for line in plan.left_out():
                print(line, file=sys.stderr)
        return plan

    def broken_tasks(self, stage: str) -> Iterator[dict[str, Any]]:
        """A task per broken workspace that fails with the workspace's problems (exit 2)."""
        for name, problems in sorted(self.plan.broken.items()):
            yield _failing(name, f"{stage}:{name} cannot run: its manifests have problems",
                           ProblemsError(problems))

    def doit_config(self) -> dict[str, Any]:
        self.project.state_dir.mkdir(parents=True, exist_ok=True)
        return {
            # sqlite3 merges concurrent writers instead of failing or losing state
            # (reference/doit.md, trap c); dbm may silently be dbm.dumb. This one
            # also commits each task as it finishes (doitstate).
            "backend": "skiff-sqlite3",
            "dep_file": str(self.project.state_dir / "doit.sqlite3"),
            "check_file_uptodate": ContentChecker,
            "par_type": "thread",
            "reporter": reporter_for(self.settings, self.budget),
            "default_tasks": ["config"],
        }

    def workspace_task(self, stage: str, ws: Workspace, fn: Callable[..., None], *,
                       doc: str, file_dep: list[str], targets: list[str],
                       facts: Any = None, uptodate: list[Any] | None = None) -> dict[str, Any]:
        """A task of one workspace: guarded by its lock, with a completion record as a
        target (``records``); ``facts`` are the non-file inputs (also its
        ``config_changed``)."""
        name = f"{stage}:{ws.name}"
        work = functools.partial(fn, ws, self.plan.project)
        return {
            "name": ws.name,
            "doc": doc,
            "actions": [_action(guarded, name, ws.paths, file_dep, facts, work, _echo,
                                self.settings.command)],
            "file_dep": file_dep,
            "targets": [*targets, str(record_path(ws.paths, stage))],
            "uptodate": uptodate if uptodate is not None else [config_changed(facts)],
            "params": _OFFLINE_PARAM,
            "verbosity": 2,
        }

    # The actions: each takes what it needs from the run's settings.

    def fetch(self, pin: BuildrootPin, project: Project) -> None:
        checkout.checkout(pin, project.cache, MirrorMap.from_env(self.settings.environ))

    def configure(self, ws: Workspace, project: Project) -> None:
        # `skiffbuild check` prints the findings itself, from the saved report.
        configure(ws, project, strict=self.settings.strict,
                  echo=(lambda _text: None) if self.settings.quiet else None)

    def sources(self, ws: Workspace, project: Project) -> None:
        fetch = settings_from_env(self.settings.environ, offline=self.settings.offline)
        sync_workspace(ws, project, fetch, ConsoleReporter(_echo))

    def compile(self, ws: Workspace, project: Project) -> None:
        # Imported here: the stage cache's HTTP client is not needed to list or check tasks.
        from skiffbuild.farm.stagecache import compile_with_cache

        def progress(text: str) -> None:
            board().status(ws.name, f"compile:{ws.name}", text)

        compile_with_cache(ws, project, self.settings.environ, offline=self.settings.offline,
                           only=self.settings.cache_only, echo=_echo, build=functools.partial(
                               compile_workspace, ws, project, self.settings.environ, _echo,
                               progress, jobs=self.budget.jlevel()))

    def image(self, ws: Workspace, project: Project) -> None:
        # Imported here: the SBOM's library is not needed to list or check tasks.
        from skiffbuild.release.materials import write_records

        assemble(ws, project, _echo, jobs=self.budget.jlevel())
        sbom, provenance = write_records(ws, project)
        _echo(f"image:{ws.name}: {project.display(sbom)}, {project.display(provenance)}")

    def update(self, ws: Workspace, project: Project) -> None:
        build_update(ws, project, _echo)

    def repro(self, ws: Workspace, project: Project) -> None:
        from skiffbuild.release.repro import repro

        identical, _ = repro(project, ws.name, echo=_echo)
        if not identical:
            raise BuildError(f"{ws.name} is not reproducible: see "
                             f"{ws.paths.repro / 'report.json'}")


def _verified(ws: Workspace, project: Project, task: object = None,
              values: object = None) -> bool:
    return sources_verified(ws, project)


def doit_tasks(settings: Settings | None = None) -> dict[str, Any]:
    """doit's namespace for one run: ``DOIT_CONFIG`` and the task creators. Without
    ``settings``, this process's own (its environment and doit command line)."""
    run = _Run(settings if settings is not None else process_settings())

    def task_fetch() -> Iterator[dict[str, Any]]:
        """Check out each pinned Buildroot tree (bare mirror, pinned commit, patch series)."""
        plan = run.plan
        yield {"name": None, "doc": "check out the pinned Buildroot trees"}
        for pin in plan.pins.values():
            yield {
                "name": pin.name,
                "doc": f"Buildroot {pin.tag or pin.commit[:12]} from {pin.url}",
                "actions": [_action(run.fetch, pin, plan.project)],
                "file_dep": [str(pin.manifest), *map(str, pin.patches)],
                "targets": [str(checkout.stamp_path(plan.project.cache, pin))],
                "uptodate": [config_changed({"code": code_digest(), "url": pin.url,
                                             "commit": pin.commit,
                                             "tree": checkout.tree_key(pin)})],
                "params": _OFFLINE_PARAM,
                "verbosity": 2,
            }
        for name, problems in sorted(plan.broken_pins.items()):
            yield _failing(name, f"fetch:{name} cannot run: its pin manifest has problems",
                           ProblemsError(problems))

    def task_config() -> Iterator[dict[str, Any]]:
        """Merge the layers' fragments and write the workspace's Buildroot .config."""
        plan = run.plan
        yield {"name": None, "doc": "merge fragments and write Buildroot's .config per workspace"}
        for ws in plan.workspaces.values():
            stamp = checkout.stamp_path(plan.project.cache, ws.pin)
            yield run.workspace_task(
                "config", ws, run.configure, doc=f"configure {ws.name}: {ws.board.description}",
                file_dep=[*map(str, ws.inputs()), str(stamp)],
                targets=[str(ws.paths.defconfig), str(ws.paths.dotconfig)],
                # Edited by hand (make menuconfig, savedefconfig): run, and refuse to
                # overwrite the edits (handedits).
                facts=ws.config_key(), uptodate=[config_changed(ws.config_key()),
                                                 functools.partial(generated_intact, ws.paths)])
        yield from run.broken_tasks("config")

    def task_sources() -> Iterator[dict[str, Any]]:
        """Download and verify every source a workspace needs into the shared cache."""
        plan = run.plan
        yield {"name": None, "doc": "download and verify every source into cache/dl"}
        for ws in plan.workspaces.values():
            lock = lock_path(plan.project)
            yield run.workspace_task(
                "sources", ws, run.sources, doc=f"download and verify the sources of {ws.name}",
                file_dep=[str(ws.paths.dotconfig), *([str(lock)] if lock.is_file() else [])],
                targets=[str(ws.paths.sources)],
                # Cheap (stat-based) re-verification every run: a damaged cache file
                # is caught before a build uses it.
                uptodate=[functools.partial(_verified, ws, plan.project),
                          config_changed({"code": code_digest()})])
        yield from run.broken_tasks("sources")

    def task_compile() -> Iterator[dict[str, Any]]:
        """Run the pinned Buildroot for a workspace (only when its inputs changed)."""
        plan = run.plan
        yield {"name": None, "doc": "run Buildroot out of tree (O=workspaces/<ws>/output)"}
        lister = functools.cache(list_tree)  # layers are shared: walk each tree once
        for ws in plan.workspaces.values():
            facts = {"code": code_digest(), "tree": checkout.tree_key(ws.pin),
                     "make": make_args(plan.project, run.settings.environ),
                     "links": compile_links(ws, lister)}
            yield run.workspace_task(
                "compile", ws, run.compile, doc=f"build {ws.name} with Buildroot",
                file_dep=[str(p) for p in compile_inputs(ws, lister)],
                targets=[str(ws.paths.compile_record)],
                # Package source trees (<PKG>_OVERRIDE_SRCDIR) are checked when the task
                # is about to run, after sources:<ws> has recorded them.
                # So is a preinstalled external toolchain (stat only: ToolchainUnchanged).
                facts=facts, uptodate=[config_changed(facts), OverridesUnchanged(ws),
                                       ToolchainUnchanged(ws, plan.project)])
        yield from run.broken_tasks("compile")

    def task_image() -> Iterator[dict[str, Any]]:
        """Assemble the workspace's reproducible disk image."""
        plan = run.plan
        yield {"name": None, "doc": "assemble the reproducible disk image per workspace"}
        locked = [str(lock)] if (lock := lock_path(plan.project)).is_file() else []
        for ws in plan.workspaces.values():
            facts = {"layout": json.loads(json.dumps(dataclasses.asdict(ws.board.image))),
                     "budget": [[b.kind, b.name, b.limit] for b in ws.board.budgets],
                     "code": code_digest()}
            yield run.workspace_task(
                "image", ws, run.image, doc=f"disk image of {ws.name}: {ws.board.description}",
                # The SBOM names skiffbuild.lock's digest: a new lock makes a new one.
                file_dep=[str(ws.paths.compile_record), *locked],
                targets=[str(ws.paths.disk), str(ws.paths.sums),
                         str(ws.paths.image_dir / SBOM_FILE),
                         str(ws.paths.image_dir / PROVENANCE_FILE)],
                # The code's digest, not its version: an update that changes how images
                # are made makes new ones. The layout as plain data: `doit info` shows it.
                facts=facts, uptodate=[config_changed(facts), PublishedIntact(ws.paths.sums)])
        yield from run.broken_tasks("image")

    def task_update() -> Iterator[dict[str, Any]]:
        """Build the workspace's signed RAUC update bundle (boards with an update: section)."""
        plan = run.plan
        yield {"name": None, "doc": "signed RAUC update bundle per workspace with update:"}
        for ws in plan.workspaces.values():
            spec = ws.board.update
            if spec is None:
                continue
            # The hooks' order and kinds too: file_dep is a set of files.
            facts = {"update": json.loads(json.dumps(dataclasses.asdict(spec))),
                     "code": code_digest(),
                     "hooks": [[kind, layer.name, str(script)] for layer in ws.chain
                               for kind in ("update_bundle", "update_install")
                               for script in getattr(layer, kind)]}
            signing = spec.signing
            public = [p for p in (signing.cert, signing.keyring) if p and
                      not p.startswith("pkcs11:")] if signing else []
            yield run.workspace_task(
                "update", ws, run.update, doc=f"update bundle of {ws.name} (RAUC)",
                # build-info.json is compared by BundleIntact, its update section aside.
                file_dep=[str(ws.paths.sums),
                          *(str(slot_source(rel, ws.board.image, ws.paths.images,
                                            ws.paths.image_dir)[1])
                            for _slot, rel in spec.slots),
                          *sorted(set(public)),
                          *(str(script) for layer in ws.chain
                            for script in (*layer.update_bundle, *layer.update_install))],
                targets=[str(ws.paths.update_dir / INFO_FILE)],
                # The bundle's name holds its version (from build-info.json): the check
                # finds it through update-info.json.
                facts=facts, uptodate=[config_changed(facts), BundleIntact(
                    ws.paths.update_dir, ws.paths.image_dir / "build-info.json")])
        yield from run.broken_tasks("update")

    def task_repro() -> Iterator[dict[str, Any]]:
        """Build a workspace twice from scratch with varied environments and compare."""
        plan = run.plan
        yield {"name": None, "doc": "reproducibility check: two builds from scratch, compared"}
        for ws in plan.workspaces.values():
            yield {
                "name": ws.name,
                "doc": f"build {ws.name} twice and compare every artifact and partition",
                "actions": [_action(run.repro, ws, plan.project)],
                "task_dep": [f"sources:{ws.name}"],
                "verbosity": 2,
            }
        yield from run.broken_tasks("repro")

    return {"DOIT_CONFIG": run.doit_config(), "task_fetch": task_fetch,
            "task_config": task_config, "task_sources": task_sources,
            "task_compile": task_compile, "task_image": task_image,
            "task_update": task_update, "task_repro": task_repro}
