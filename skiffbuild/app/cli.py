"""The ``skiffbuild`` command: a pipeline of small typed functions.

``skiffbuild layers [WS]``   list layers, or show a workspace's resolved chain
``skiffbuild check [--strict] [WS...]``  configure and validate without building
``skiffbuild sources WS [--json]`` a workspace's downloads and their cache state
``skiffbuild export WS FILE [--sign KEY]`` / ``import FILE [--trust KEY | --allow-unsigned]``
    offline bundles for air-gapped machines
``skiffbuild pin REF [--pin NAME] [--allow-branch]`` move a Buildroot pin to a tag or commit
``skiffbuild lock [--check] [WS...]`` write, or check, skiffbuild.lock
``skiffbuild run WS LAYER/CMD [ARGS]`` a layer command (boot in qemu, install to a card)
``skiffbuild tryout [WS...]`` the pipeline against the local Buildroot test tree
``skiffbuild testtree PATH`` create the Buildroot-compatible test repository

Building itself is doit's job: ``doit config:pi4``, ``doit image:pi4``.
Exit status: 0 success, 1 build failure or strict-mode findings, 2 user error,
3 internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from skiffbuild.core.errors import EXIT_BUILD, EXIT_INTERNAL, SkiffError, printable
from skiffbuild.core.project import Project
from skiffbuild.core.settings import VARIABLES, Settings, process_settings
from skiffbuild.model.plan import Plan, load_plan

__all__ = ["main"]


def _print_layers(plan: Plan, show_all: bool) -> None:
    rows = []
    for name in plan.index.names():
        layer = plan.index.layers[name]
        if layer.unlisted and not show_all:
            continue
        # Descriptions are a manifest's text: no terminal escapes reach the terminal.
        rows.append((name, printable(layer.description or "(no description)"),
                     printable(plan.project.display(layer.origin))))
    width = max((len(r[0]) for r in rows), default=0)
    for name, desc, origin in rows:
        suffix = "" if origin == "layers" else f"  [{origin}]"
        print(f"{name:<{width}}  {desc}{suffix}")


def _print_chain(plan: Plan, workspace: str) -> None:
    ws = plan.workspaces[workspace]
    project = plan.project
    print(f"workspace {ws.name}: {printable(ws.board.description)}")
    print(f"buildroot: {ws.pin.tag or '(no tag)'} @ {ws.pin.commit}"
          f"{f' + {len(ws.pin.patches)} patch(es)' if ws.pin.patches else ''}")
    print("chain (merge order):")
    width = max(len(layer.name) for layer in ws.chain)
    for number, layer in enumerate(ws.chain, start=1):
        where = project.display(layer.path)
        shadow = plan.index.shadowed.get(layer.name)
        note = f"  (shadows {', '.join(project.display(p) for p in shadow)})" if shadow else ""
        style = {"skiffos": " [SkiffOS layout]", "override": " [override]",
                 "board": " [board]"}.get(layer.style, "")
        print(printable(f"  {number:2}. {layer.name:<{width}}  {where}{style}{note}"))
        if layer.description and layer.style != "override":
            print(f"      {printable(layer.description)}")
    commands = [(layer.name, c) for layer in ws.chain for c in layer.commands]
    if commands:
        print("commands:")
        for layer_name, command in commands:
            print(f"  {layer_name}/{command.name}  {printable(command.description)}")


def cmd_layers(args: argparse.Namespace, settings: Settings) -> int:
    plan = load_plan(_project(settings), [args.workspace] if args.workspace else None)
    if args.workspace:
        _print_chain(plan, args.workspace)
    else:
        _print_layers(plan, args.all)
    return 0


def _project(settings: Settings) -> Project:
    return Project.discover(environ=settings.environ)


class _Stop(Exception):
    """The command is over with this exit status; what went wrong is printed already."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _run_doit(settings: Settings, tasks: list[str]) -> None:
    """Run doit in this process with ``settings``; a failure stops the command with
    doit's exit status (the tasks have said what failed)."""
    from doit.cmd_base import ModuleTaskLoader
    from doit.doit_cmd import DoitMain

    from skiffbuild.engine.tasks import doit_tasks

    # doit's progress goes to stderr: stdout is for this command's own output (--json).
    try:
        status = DoitMain(ModuleTaskLoader(doit_tasks(settings)), config_filenames=(),
                          extra_config={"GLOBAL": {"outfile": sys.stderr}}).run(tasks)
    except SystemExit as exc:  # the reporter's exit status for a user error or a bug
        status = exc.code if isinstance(exc.code, int) else EXIT_BUILD
    if status:
        raise _Stop(status)


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.showinfo import workspace_sources
    from skiffbuild.sources.audit import GAP_HINT, workspace_gaps

    project = _project(settings)
    plan = load_plan(project, args.workspaces or None)
    names = args.workspaces or sorted(plan.workspaces)
    _configured(settings, names)
    total = unhashed = 0
    for name in names:
        ws = plan.workspaces[name]
        report = json.loads(ws.paths.report.read_text())
        findings = report["findings"]
        for finding in findings:
            print(f"warning: {finding['text']}", file=sys.stderr)
        total += len(findings)
        # The hash audit, offline: sources:<ws> would refuse these files.
        sources = workspace_sources(ws, plan.project)
        gaps = workspace_gaps(ws, plan.project, sources)
        for gap in gaps:
            print(f"error: {name}: {gap}", file=sys.stderr)
        unhashed += len(gaps)
        verdicts = ([f"{len(findings)} finding(s)"] if findings else []) + \
            ([f"{len(gaps)} of {len(sources)} source files without a hash"] if gaps else [])
        print(f"{name}: {', '.join(verdicts) or 'ok'} "
              f"(hash audit: {len(sources) - len(gaps)} of {len(sources)} source files hashed)")
    if unhashed:
        print(f"error: {unhashed} source file(s) have no hash: sources: would refuse them",
              file=sys.stderr)
        print(f"hint: {GAP_HINT}", file=sys.stderr)
        return EXIT_BUILD
    if total and args.strict:
        print(f"error: {total} requested setting(s) did not take effect (--strict)",
              file=sys.stderr)
        return EXIT_BUILD
    return 0


def _configured(settings: Settings, names: list[str]) -> Plan:
    """Load the plan and bring config:<ws> up to date for ``names`` (quietly)."""
    plan = load_plan(_project(settings), names)
    _run_doit(settings.replace(quiet=True), [f"config:{name}" for name in names])
    return plan


def cmd_sources(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.showinfo import workspace_sources
    from skiffbuild.sources.dlcache import DownloadCache

    if args.offline:
        settings = settings.replace(offline=True)
    plan = _configured(settings, [args.workspace])
    ws = plan.workspaces[args.workspace]
    cache = DownloadCache.of(plan.project)
    rows = []
    for source in workspace_sources(ws, plan.project):
        verdict = cache.verify(source)
        rows.append({**source.to_json(), "path": str(cache.path(source)),
                     "cached": verdict.state not in ("missing",),
                     "verified": verdict.state == "ok",
                     "state": verdict.state})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(f"{row['state']:<9} {row['dl_dir']}/{row['file']}  ({row['package']})")
        counts = {s: sum(r["state"] == s for r in rows) for s in ("ok", "missing", "corrupt",
                                                                   "unhashed")}
        print(f"{len(rows)} files: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.showinfo import workspace_sources
    from skiffbuild.sources.bundle import export_bundle

    plan = _configured(settings, [args.workspace])
    ws = plan.workspaces[args.workspace]
    manifest = export_bundle(ws, plan.project, workspace_sources(ws, plan.project), args.file,
                             sign_key=args.sign)
    size = args.file.stat().st_size
    print(f"wrote {args.file}: Buildroot {ws.pin.commit[:12]} and "
          f"{sum(f['path'].startswith('dl/') for f in manifest['files'])} source file(s), "
          f"{size} bytes{', signed' if args.sign else ', unsigned'}")
    return 0


def _configured_hashes(project: Project, workspace: object) -> dict[str, Any] | None:
    """relpath -> the hashes show-info gives, when ``workspace`` is configured here
    (its .config and pinned tree exist); None otherwise (nothing is configured by
    an import)."""
    from skiffbuild.buildroot import checkout
    from skiffbuild.buildroot.showinfo import workspace_sources

    if not isinstance(workspace, str):
        return None
    try:
        plan = load_plan(project, [workspace])
    except SkiffError:
        return None
    ws = plan.workspaces.get(workspace)
    if ws is None or not ws.paths.dotconfig.is_file() or \
            not checkout.tree_dir(project.cache, ws.pin).is_dir():
        return None
    return {s.relpath: s.expected for s in workspace_sources(ws, project)}


def _bundle_workspace(archive: Path) -> object:
    """The workspace named by the archive's manifest, read without trusting it (only
    to pick the hashes to check it against); None when unreadable."""
    from skiffbuild.sources.bundle import bundle_workspace

    # Bounded there (regular file, header scan, JSON depth): import says what is wrong.
    return bundle_workspace(archive)


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.sources.bundle import import_bundle

    project = _project(settings)
    expected = _configured_hashes(project, _bundle_workspace(args.file))
    manifest = import_bundle(args.file, project, trust=args.trust,
                             allow_unsigned=args.allow_unsigned, expected=expected)
    count = sum(f["path"].startswith("dl/") for f in manifest["files"])
    checked = "signature, " if args.trust else ""
    checked += "workspace hashes, " if expected is not None else ""
    print(f"imported {args.file}: Buildroot {manifest['buildroot']['commit'][:12]} and "
          f"{count} source file(s) for workspace {manifest['workspace']} (checked: {checked}"
          "manifest, Buildroot's .hash files)")
    return 0


def cmd_pin(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.release.pin import pin

    pin(_project(settings), args.ref, pin_name=args.pin,
        allow_branch=args.allow_branch, environ=settings.environ)
    return 0


def cmd_lock(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.showinfo import query_overrides, workspace_sources
    from skiffbuild.sources.lockfile import LOCK_NAME, check_lock, lock_for, read_lock, write_lock

    names = args.workspaces or sorted(load_plan(_project(settings)).workspaces)
    if not names:
        raise SkiffError("the project has no workspaces (manifests/boards/*.yaml) to lock")
    plan = _configured(settings, names)
    if not args.check and read_lock(plan.project) is not None:
        # With a lock present sources:<ws> refuses what it does not list: recording
        # (after review) fetches those sources itself, verified by their .hash files.
        from skiffbuild.sources.download import ConsoleReporter, fetch_for_review, settings_from_env

        fetch = settings_from_env(settings.environ, offline=settings.offline)
        for name in names:
            fetch_for_review(plan.workspaces[name], plan.project, fetch,
                             ConsoleReporter(lambda line: print(line, file=sys.stderr)))
    current = {name: lock_for(plan.workspaces[name], plan.project,
                              workspace_sources(plan.workspaces[name], plan.project),
                              query_overrides(plan.workspaces[name], plan.project))
               for name in names}
    every = not args.workspaces  # all workspaces: entries of removed boards are stale
    if args.check:
        drift = check_lock(plan.project, current, complete=every)
        for line in drift:
            print(line, file=sys.stderr)
        if drift:
            print(f"hint: review, then record it with: skiffbuild lock "
                  f"{' '.join(args.workspaces)}".rstrip(), file=sys.stderr)
            return EXIT_BUILD
        print(f"{LOCK_NAME}: {', '.join(names)} match")
        return 0
    changed = write_lock(plan.project, current, replace_all=every)
    print(f"{LOCK_NAME}: {'updated' if changed else 'unchanged'} ({', '.join(names)})")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """A layer command (SkiffOS's cmd/<layer>/<command>) with the workspace's context."""
    plan = load_plan(_project(settings), [args.workspace])
    ws = plan.workspaces[args.workspace]
    layer_name, _, command_name = args.command_name.rpartition("/")
    commands = {(la.name, c.name): (la, c) for la in ws.chain for c in la.commands}
    if (layer_name, command_name) not in commands:
        known = ", ".join(f"{la}/{c}" for la, c in commands) or "none"
        raise SkiffError(f"workspace '{ws.name}' has no command '{args.command_name}'",
                         hint=f"its layers provide: {known}")
    layer, command = commands[(layer_name, command_name)]
    argv = list(command.run)
    if "/" in argv[0] and not Path(argv[0]).is_absolute():
        argv[0] = str(layer.path / argv[0])
    image = ws.paths.disk
    env = {"SKIFFBUILD_WORKSPACE": ws.name, "SKIFFBUILD_LAYER": layer.name,
           "SKIFFBUILD_LAYER_DIR": str(layer.path), "SKIFFBUILD_IMAGE": str(image),
           "SKIFFBUILD_IMAGES_DIR": str(ws.paths.images)}
    from skiffbuild.core.errors import BuildError
    from skiffbuild.core.runner import call

    try:
        return call([*argv, *args.args], cwd=layer.path, extra_env=env, what=args.command_name)
    except BuildError as exc:  # the layer's command is missing: the user's to fix
        raise SkiffError(exc.message) from None


def cmd_repro(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 identical, 1 different, 2 usage or input error."""
    from skiffbuild.release.repro import repro

    project = _project(settings)
    plan = load_plan(project, [args.workspace])
    # Fill the shared cache once, before both builds.
    _run_doit(settings, [f"sources:{args.workspace}"])
    identical, _ = repro(plan.project, args.workspace, against=args.against)
    return 0 if identical else 1


def cmd_nightly(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when every board was identical, 1 otherwise."""
    from skiffbuild.release.nightly import run_nightly
    from skiffbuild.release.repro import repro

    project = _project(settings)
    plan = load_plan(project, args.workspaces or None)
    names = args.workspaces or sorted(plan.workspaces)
    _run_doit(settings, [f"sources:{name}" for name in names])
    record = run_nightly(plan.project, args.results, names, repro, date=args.date)
    print((args.results / "summary.txt").read_text(), end="")
    return 0 if all(b["verdict"] == "identical" for b in record["boards"].values()) else 1


def cmd_tryout(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.app.tryout import run_tryout

    status = run_tryout(_project(settings), args.workspaces or ["qemu-x86_64"],
                        args.tasks)
    return 0 if status == 0 else EXIT_BUILD


def cmd_testtree(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.app.testtree import main as testtree_main

    return testtree_main([str(args.path)])


def parser() -> argparse.ArgumentParser:
    width = max(len(v.name) for v in VARIABLES)
    top = argparse.ArgumentParser(
        prog="skiffbuild", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="environment:\n" + "\n".join(f"  {v.name:<{width}}  {v.help}" for v in VARIABLES))
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("layers", help="list layers, or a workspace's resolved chain")
    p.add_argument("workspace", nargs="?")
    p.add_argument("--all", action="store_true", help="include unlisted layers")
    p.set_defaults(func=cmd_layers)
    p = sub.add_parser("check", help="configure and validate workspaces without building")
    p.add_argument("workspaces", nargs="*")
    p.add_argument("--strict", action="store_true",
                   help="fail when any requested setting did not take effect")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("sources", help="list a workspace's downloads and their cache state")
    p.add_argument("workspace")
    p.add_argument("--json", action="store_true", help="machine-readable list")
    p.add_argument("--offline", action="store_true", help="never touch the network")
    p.set_defaults(func=cmd_sources)
    p = sub.add_parser("export", help="write every input of a workspace into one archive")
    p.add_argument("workspace")
    p.add_argument("file", type=Path)
    p.add_argument("--sign", type=Path, metavar="KEY",
                   help="sign the manifest with this Ed25519 private key (PEM)")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("import", help="verify an export archive and load it into the cache")
    p.add_argument("file", type=Path)
    p.add_argument("--trust", type=Path, metavar="KEY",
                   help="require a signature by this Ed25519 public key (PEM)")
    p.add_argument("--allow-unsigned", action="store_true",
                   help="without --trust: accept an archive whose origin cannot be checked")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser("pin", help="point a Buildroot pin at a tag or commit")
    p.add_argument("ref", metavar="tag-or-commit")
    p.add_argument("--pin", default="buildroot",
                   help="the pin to change: manifests/<PIN>.yaml (default: buildroot)")
    p.add_argument("--allow-branch", action="store_true",
                   help="accept a branch name (pins its current commit)")
    p.set_defaults(func=cmd_pin)
    p = sub.add_parser("lock", help="write skiffbuild.lock, or check the workspaces against it")
    p.add_argument("workspaces", nargs="*", help="default: all")
    p.add_argument("--check", action="store_true",
                   help="exit 1 listing every difference from the lock; write nothing")
    p.set_defaults(func=cmd_lock)
    p = sub.add_parser("run", help="run a layer command, e.g. virt/qemu/run")
    p.add_argument("workspace")
    p.add_argument("command_name", metavar="layer/command")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("repro", help="build twice from scratch and compare, or check a "
                                     "build against a published SHA256SUMS")
    p.add_argument("workspace")
    p.add_argument("--against", type=Path, metavar="SHA256SUMS")
    p.set_defaults(func=cmd_repro)
    p = sub.add_parser("nightly", help="repro for every board; keep one JSON per night and "
                                       "render the history (summary.txt, index.html)")
    p.add_argument("workspaces", nargs="*")
    p.add_argument("--results", type=Path, default=Path("nightly-results"))
    p.add_argument("--date", help="the night's name (default: today, UTC)")
    p.set_defaults(func=cmd_nightly)
    p = sub.add_parser("tryout", help="run the pipeline against the local Buildroot test tree")
    p.add_argument("workspaces", nargs="*", help="default: qemu-x86_64")
    p.add_argument("--task", dest="tasks", action="append", default=None,
                   help="doit task to run per workspace (default: image); repeatable")
    p.set_defaults(func=cmd_tryout)
    p = sub.add_parser("testtree", help="create the Buildroot-compatible test repository")
    p.add_argument("path", type=Path)
    p.set_defaults(func=cmd_testtree)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "tasks", ()) is None:
        args.tasks = ["image"]
    try:
        # Read once; every command gets it (no command changes os.environ to talk to doit).
        settings = process_settings(None if argv is None else list(argv))
        return args.func(args, settings)
    except _Stop as stop:
        return stop.status
    except SkiffError as exc:
        print(exc.render(), file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 130
    except Exception:
        traceback.print_exc()
        print("internal error: this is a bug in skiffbuild", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
