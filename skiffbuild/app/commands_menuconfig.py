"""``skiffbuild menuconfig``: the real configuration menu, saved back into a layer.

The round trip: bring ``config:<ws>`` up to date, open Buildroot's own menu on the
resolved configuration (``make menuconfig`` in the workspace's output directory,
or ``make linux-menuconfig`` / ``busybox-menuconfig`` / ``uboot-menuconfig``),
write what changed as a fragment with a header into the layer named by
``--save-to``, check that no later layer overrides it, and configure again to
show that the saved fragment gives what the menu showed. ``--adopt`` does the
same with edits already made outside skiffbuild (see ``buildroot.handedits``);
``--discard`` drops them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skiffbuild.app.common import configured, project_of, run_doit
from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.compile import make_args
from skiffbuild.buildroot.configure import plan_configuration
from skiffbuild.buildroot.handedits import (
    discard_hand_edits,
    generated_config,
    hand_edits,
    parse_dotconfig,
    record_generated,
)
from skiffbuild.buildroot.kconfig import buildroot_kconfig
from skiffbuild.buildroot.menuconfig import (
    PACKAGES,
    Change,
    SaveTarget,
    changes,
    fragment_text,
    minimal_changes,
    save_target,
    write_fragment,
)
from skiffbuild.core.errors import EXIT_BUILD, BuildError, SkiffError
from skiffbuild.core.project import Project
from skiffbuild.core.runner import call, query, run
from skiffbuild.core.settings import Settings
from skiffbuild.model.model import FRAGMENT_PREFIX
from skiffbuild.model.plan import Workspace, load_plan

__all__ = ["cmd_menuconfig"]

_TITLES = {"buildroot": "Buildroot", "kernel": "Linux kernel", "busybox": "BusyBox",
           "uboot": "U-Boot"}


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _kind(args: argparse.Namespace) -> str:
    kinds = [k for k in PACKAGES if getattr(args, k)]
    if len(kinds) > 1:
        raise SkiffError("choose one of --kernel, --busybox, --uboot")
    return kinds[0] if kinds else "buildroot"


def cmd_menuconfig(args: argparse.Namespace, settings: Settings) -> int:
    project = project_of(settings)
    plan = load_plan(project, [args.workspace])
    ws = plan.workspaces[args.workspace]
    kind = _kind(args)
    if args.discard:
        if kind != "buildroot":
            raise SkiffError("--discard drops edits of Buildroot's configuration; "
                             f"{_TITLES[kind]} edits are dropped by the next build")
        dropped = discard_hand_edits(ws.paths)
        configured(settings, [ws.name])
        _say(f"{ws.name}: dropped {len(dropped.symbols) if dropped else 0} edited value(s); "
             "the configuration is the layers' again")
        return 0
    if not args.save_to:
        raise SkiffError("say where the changes go: --save-to <layer>, --save-to overrides "
                         f"or --save-to overrides/workspaces/{ws.name}",
                         hint=f"the layers of {ws.name}: "
                         + ", ".join(la.name for la in ws.chain if not la.is_override))
    target = save_target(ws, project, args.save_to)  # before any menu: fail early
    if kind == "buildroot":
        return _buildroot(args, settings, project, ws, target)
    if args.adopt:
        raise SkiffError(f"--adopt applies to Buildroot's configuration; for {_TITLES[kind]} "
                         "open the menu (without --adopt)")
    return _package(settings, project, ws, kind, target)


# --------------------------------------------------------------------- Buildroot

def _buildroot(args: argparse.Namespace, settings: Settings, project: Project, ws: Workspace,
               target: SaveTarget) -> int:
    paths = ws.paths
    edits = hand_edits(paths)
    if args.adopt:
        if edits is None or not edits.symbols:
            _say(f"{ws.name}: the configuration has no edits made outside skiffbuild; "
                 "nothing to adopt")
            return 0
        after = parse_dotconfig(generated_config(paths).read_text())
        after.update(parse_dotconfig(paths.dotconfig.read_text()))
        after.update({sym: value for sym, value in edits.symbols.items() if value is not None})
    else:
        if edits is not None and edits.symbols:
            raise SkiffError(edits.describe(ws.name, paths, project.display),
                             hint=edits.hint(ws.name))
        configured(settings, [ws.name])
        status = call(["make", "-C", paths.output, "menuconfig"],
                      extra_env={"GIT_CEILING_DIRECTORIES":
                                 str(checkout.tree_dir(project.cache, ws.pin).parent)},
                      what="Buildroot's menuconfig")
        if status != 0:
            raise BuildError(f"make menuconfig failed (exit {status}); nothing was saved")
        after = parse_dotconfig(paths.dotconfig.read_text())
    before_file = generated_config(paths)
    found = changes(parse_dotconfig(before_file.read_text()), after)
    if not found:
        _say(f"{ws.name}: no setting changed; nothing was saved")
        return 0
    kconf = buildroot_kconfig(checkout.tree_dir(project.cache, ws.pin), paths.output)
    chosen = minimal_changes(kconf, before_file, after, found)
    file = _save(project, ws, "buildroot", target, chosen)
    # The edited .config is now what the layers say: regenerate it from them.
    record_generated(paths)
    configured(settings, [ws.name])
    now = parse_dotconfig(paths.dotconfig.read_text())
    # The values the menu changed (not the rest of the old .config: a layer may have
    # changed since, as with --adopt after a pull).
    lost = changes(now, {c.symbol: c.new for c in found})
    _say(f"{ws.name}: saved {len(chosen)} setting(s) to {project.display(file)} "
         f"({len(found)} value(s) changed in all, the rest follow from them)")
    for change in chosen:
        _say(f"  {change.line()}")
    if lost:
        _say("warning: configured from the layers, these values differ from the menu's:")
        for change in lost:
            _say(f"  {change.symbol}: menu {change.new}, now {now.get(change.symbol, '(absent)')}")
        return EXIT_BUILD
    _say("configured again from the layers: the result is what the menu showed")
    return 0


# ------------------------------------------------------ kernel, BusyBox, U-Boot

def _package(settings: Settings, project: Project, ws: Workspace, kind: str,
             target: SaveTarget) -> int:
    package, enabling, var = PACKAGES[kind]
    run_doit(settings.replace(quiet=True), [f"sources:{ws.name}"])
    values = parse_dotconfig(ws.paths.dotconfig.read_text())
    if values.get(enabling, "n") != "y":
        raise SkiffError(f"workspace '{ws.name}' does not build {_TITLES[kind]} "
                         f"({enabling} is not set)")
    output = ws.paths.output
    make: list[str | Path] = ["make", "-C", output, *make_args(project, settings.environ)]
    directory = query([*make, "-s", "printvars", f"VARS={var}_DIR"],
                      what=f"where Buildroot builds {package}").strip().partition("=")[2]
    if not directory:
        raise SkiffError(f"this Buildroot tree does not say where it builds {package}")
    dotconfig = Path(directory) / ".config"
    # The package's configuration as the next build would start from it (downloads,
    # patches, defconfig and fragments applied): Buildroot's own steps.
    run([*make, f"{package}-configure"], log=ws.paths.logs / "menuconfig.log",
        what=f"configure {package} for its menu")
    prefix = FRAGMENT_PREFIX[kind]
    before = parse_dotconfig(dotconfig.read_text(), prefix)
    status = call([*make, f"{package}-menuconfig"], what=f"{package}-menuconfig")
    if status != 0:
        raise BuildError(f"make {package}-menuconfig failed (exit {status}); nothing was saved")
    found = changes(before, parse_dotconfig(dotconfig.read_text(), prefix))
    if not found:
        _say(f"{ws.name}: no {_TITLES[kind]} setting changed; nothing was saved")
        return 0
    file = _save(project, ws, kind, target, found)
    _say(f"{ws.name}: saved {len(found)} {_TITLES[kind]} setting(s) to {project.display(file)}")
    for change in found:
        _say(f"  {change.line()}")
    _say(f"the next build (skiffbuild build {ws.name}) configures and builds {package} with it")
    return 0


# ------------------------------------------------------------------------ saving

def _save(project: Project, ws: Workspace, kind: str, target: SaveTarget,
          chosen: list[Change]) -> Path:
    """Write the fragment; undo it and stop when a later layer overrides a value."""
    file = target.fragment(kind)
    old = file.read_text() if file.is_file() else None
    header = [f"{_TITLES[kind]} settings saved by `skiffbuild menuconfig {ws.name}`.",
              "A later save updates the values it names and keeps the rest of this file."]
    write_fragment(file, fragment_text(old, chosen, header))
    try:
        merged = plan_configuration(_reloaded(project, ws), project).merged[kind]
    except SkiffError:
        _restore(file, old)
        raise
    shown = project.display(file)
    hidden = [(c, origin) for c in chosen
              if (origin := getattr(merged.value_of(c.symbol), "origin", None)) is not None
              and origin.file != shown]
    if hidden:
        _restore(file, old)
        lines = [f"  {c.symbol}: {origin} sets it after {target.name}" for c, origin in hidden]
        raise SkiffError(f"not saved: a later layer would override {len(hidden)} of the "
                         f"values in {shown}:\n" + "\n".join(lines),
                         hint=f"save to a later layer or to overrides/workspaces/{ws.name}"
                         + ("; the edits stay in output/.config until saved (--adopt) or "
                            "dropped (--discard)" if kind == "buildroot" else ""))
    return file


def _reloaded(project: Project, ws: Workspace) -> Workspace:
    """The workspace as its manifests say now (the new fragment file included)."""
    return load_plan(project, [ws.name]).workspaces[ws.name]


def _restore(file: Path, old: str | None) -> None:
    if old is None:
        file.unlink(missing_ok=True)
    else:
        write_fragment(file, old)
