"""``skiffbuild`` subcommands that build or use images: check, build, run, repro,
nightly, tryout, testtree."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from skiffbuild.app.common import configured, project_of, run_doit
from skiffbuild.buildroot.kconfig import ERROR_KINDS, INFO_KINDS, KINDS
from skiffbuild.core.errors import EXIT_BUILD, EXIT_USER, BuildError, ProblemsError, SkiffError
from skiffbuild.core.project import Project
from skiffbuild.core.runner import call
from skiffbuild.core.settings import Settings
from skiffbuild.model.plan import Workspace, load_plan
from skiffbuild.model.skiffos import skiff_environment

__all__ = ["cmd_build", "cmd_check", "cmd_nightly", "cmd_repro", "cmd_run", "cmd_testtree",
           "cmd_tryout"]


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.showinfo import workspace_sources
    from skiffbuild.sources.audit import gap_hint, workspace_gaps
    from skiffbuild.sources.lockfile import LOCK_NAME, apply_approvals, approvals_of, is_approval

    project = project_of(settings)
    # Every workspace: the broken ones are errors at the end, the rest are checked.
    plan = load_plan(project, args.workspaces or None, partial=not args.workspaces)
    names = args.workspaces or sorted(plan.workspaces)
    fail_on = _fail_on(args)
    as_json = bool(getattr(args, "json", False))
    # With --json stdout is the JSON alone; the verdict lines join the messages on stderr.
    out = sys.stderr if as_json else sys.stdout
    listing: list[dict[str, object]] = []
    configured(settings, names)
    unhashed: list[str] = []  # the workspaces with unhashed files
    failing: dict[str, int] = {}  # kind -> findings that fail the check
    for name in names:
        ws = plan.workspaces[name]
        report = json.loads(ws.paths.report.read_text())
        findings = report["findings"]
        for finding in findings:
            level = finding.get("level", "warning")
            print(f"{level}: {finding['text']}", file=sys.stderr)
            if finding["kind"] in fail_on:
                failing[finding["kind"]] = failing.get(finding["kind"], 0) + 1
        # The hash audit, offline: sources:<ws> would refuse these files.
        # A file approved in skiffbuild.lock counts as hashed (by its approval).
        sources = apply_approvals(name, workspace_sources(ws, plan.project),
                                  approvals_of(ws, plan.project))
        approved = [s for s in sources if any(is_approval(e) for e in s.expected)]
        gaps = workspace_gaps(ws, plan.project, sources)
        for gap in gaps:
            print(f"error: {name}: {gap}", file=sys.stderr)
        unhashed += [name] * len(gaps)
        verdicts = ([f"{len(findings)} finding(s)"] if findings else []) + \
            ([f"{len(gaps)} of {len(sources)} source files without a hash"] if gaps else [])
        also = f", {len(approved)} of them approved in {LOCK_NAME}" if approved else ""
        print(f"{name}: {', '.join(verdicts) or 'ok'} "
              f"(hash audit: {len(sources) - len(gaps)} of {len(sources)} source files "
              f"hashed{also})", file=out)
        listing.append({
            "workspace": name, "checked": True,
            "findings": [{**finding, "level": finding.get("level", "warning"),
                          "fails": finding["kind"] in fail_on} for finding in findings],
            "hash_audit": {"sources": len(sources), "hashed": len(sources) - len(gaps),
                           "approved": [{"file": s.relpath, "packages": list(s.packages),
                                         "sha256": s.expected[0].hexdigest}
                                        for s in approved],
                           "unhashed": [{"file": gap.source.relpath,
                                         "packages": list(gap.source.packages),
                                         "text": str(gap)} for gap in gaps]},
            "problems": []})
    for name, problems in sorted(plan.broken.items()):
        print(f"{name}: not checked, its manifests have problems", file=out)
        print(ProblemsError(problems).render(), file=sys.stderr)
        listing.append({"workspace": name, "checked": False, "findings": [],
                        "hash_audit": None, "problems": [str(p) for p in problems]})
    status = 0
    if plan.broken:
        status = EXIT_USER
    elif unhashed:
        print(f"error: {len(unhashed)} source file(s) have no hash: sources: would refuse them",
              file=sys.stderr)
        print(f"hint: {gap_hint(dict.fromkeys(unhashed))}", file=sys.stderr)
        status = EXIT_BUILD
    elif failing:
        kinds = ", ".join(f"{kind} ({n})" for kind, n in sorted(failing.items()))
        print(f"error: {sum(failing.values())} finding(s) fail the check: {kinds}",
              file=sys.stderr)
        print("hint: fix them in the layers; a later layer's deliberate override is marked "
              "with a '# skiffbuild: override' line above it", file=sys.stderr)
        status = EXIT_BUILD
    if as_json:
        print(json.dumps(listing, indent=2))
    return status


def _fail_on(args: argparse.Namespace) -> set[str]:
    """The finding kinds that fail the check: the errors (unknown symbol, unmet dependency,
    invalid value, wrong architecture) always; the warnings with --strict; any kind named
    by --fail-on (overridden, for one: information otherwise)."""
    kinds = set(ERROR_KINDS)
    if args.strict:
        kinds |= {k for k in KINDS if k not in INFO_KINDS}
    for kind in (args.fail_on or "").replace(",", " ").split():
        if kind not in KINDS:
            raise SkiffError(f"--fail-on: unknown finding kind '{kind}'",
                             hint=f"the kinds are: {', '.join(KINDS)}")
        kinds.add(kind)
    return kinds


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    """doit image:<ws> for each workspace, then where each image is."""
    if args.offline:
        settings = settings.replace(offline=True)
    plan = load_plan(project_of(settings), args.workspaces)
    jobs = ["-n", str(args.process)] if args.process else []
    run_doit(settings, [*jobs, *(f"image:{name}" for name in args.workspaces)])
    for name in args.workspaces:
        paths = plan.workspaces[name].paths
        print(f"{name}: {plan.project.display(paths.disk)} "
              f"(checksums: {plan.project.display(paths.sums)})")
    return 0


@contextlib.contextmanager
def _image_for(ws: Workspace, project: Project, what: str, persist: bool) -> Iterator[Path]:
    """The image a layer command gets: the workspace's own with ``persist`` (or when there
    is none yet: the command says so), otherwise a throw-away copy (copy-on-write where the
    file system can) that is removed afterwards, so the published image keeps matching
    its SHA256SUMS."""
    image = ws.paths.disk
    shown = project.display(image)
    if persist or not image.is_file():
        if persist and image.is_file():
            print(f"run: {what} writes to {shown} itself (--persist); it no longer matches "
                  f"SHA256SUMS then, and doit image:{ws.name} rebuilds it", file=sys.stderr)
        yield image
        return
    scratch = Path(tempfile.mkdtemp(prefix=".run-", dir=ws.paths.root))
    try:
        copy = scratch / image.name
        status = call(["cp", "--reflink=auto", "--", image, copy], what="copy the image")
        if status:
            raise BuildError(f"could not copy {shown} for {what} (cp exited {status})")
        print(f"run: {what} gets a throw-away copy of {shown}; what it writes is discarded "
              "(--persist: write to the image)", file=sys.stderr)
        yield copy
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """A layer command (SkiffOS's cmd/<layer>/<command>) with the workspace's context.
    Its arguments go to it unchanged, ``--`` included."""
    plan = load_plan(project_of(settings), [args.workspace])
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
    with _image_for(ws, plan.project, args.command_name, args.persist) as image:
        env = {"SKIFFBUILD_WORKSPACE": ws.name, "SKIFFBUILD_LAYER": layer.name,
               "SKIFFBUILD_LAYER_DIR": str(layer.path), "SKIFFBUILD_IMAGE": str(image),
               "SKIFFBUILD_IMAGES_DIR": str(ws.paths.images)}
        if ws.skiffos is not None:  # SkiffOS's cmd/<layer>/<command> environment
            env.update(skiff_environment(ws.skiffos, ws.name, ws.paths.output,
                                         ws.paths.config, plan.project.root, ws.chain))
            env.update({"SKIFF_CURRENT_CONF_DIR": str(layer.path),
                        "SKIFF_CURRENT_CONF_NAME": layer.name})
        try:
            return call([*argv, *args.args], cwd=layer.path, extra_env=env,
                        what=args.command_name)
        except BuildError as exc:  # the layer's command is missing: the user's to fix
            raise SkiffError(exc.message) from None


def cmd_repro(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 identical, 1 different, 2 usage or input error."""
    from skiffbuild.release.repro import repro

    project = project_of(settings)
    plan = load_plan(project, [args.workspace])
    # Fill the shared cache once, before both builds.
    run_doit(settings, [f"sources:{args.workspace}"])
    identical, _ = repro(plan.project, args.workspace, against=args.against)
    return 0 if identical else 1


def cmd_nightly(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 when every board was identical, 1 otherwise."""
    from skiffbuild.release.nightly import run_nightly
    from skiffbuild.release.repro import repro

    project = project_of(settings)
    plan = load_plan(project, args.workspaces or None)
    names = args.workspaces or sorted(plan.workspaces)
    run_doit(settings, [f"sources:{name}" for name in names])
    record = run_nightly(plan.project, args.results, names, repro, date=args.date)
    print((args.results / "summary.txt").read_text(), end="")
    return 0 if all(b["verdict"] == "identical" for b in record["boards"].values()) else 1


def cmd_tryout(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.app.tryout import run_tryout

    status = run_tryout(project_of(settings), args.workspaces or ["qemu-x86_64"],
                        args.tasks)
    return 0 if status == 0 else EXIT_BUILD


def cmd_testtree(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.app.testtree import main as testtree_main

    return testtree_main([str(args.path)])
