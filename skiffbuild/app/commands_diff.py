"""``skiffbuild diff``: the resolved Buildroot configuration of two boards or two pins,
symbol by symbol.

Two workspaces: both are configured (``config:<ws>``, as ``skiffbuild check`` does) and
their ``workspaces/<ws>/output/.config`` compared. One workspace and ``--pin PIN``: the
workspace as configured against its own pin, and the same workspace configured against
``manifests/<PIN>.yaml`` by the same code as ``config:<ws>`` in a scratch workspace,
``workspaces/.diff/<PIN>/<ws>/`` (the real workspace is never written).

Each value is shown with the layer that requested it, from the merged assignments of
``plan_configuration`` (``skiffbuild`` for the wiring of the layers); none when Kconfig
decided it (a default, a ``select``) or when the request did not take effect. Paths
inside a workspace are compared as ``workspaces/<ws>/``, so that two workspaces' own
files are not reported as different because their names are.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.app.common import configured, project_of
from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.configure import configure, plan_configuration
from skiffbuild.buildroot.mirrors import MirrorMap
from skiffbuild.buildroot.rebuild import parse_dotconfig
from skiffbuild.core.errors import EXIT_BUILD, ProblemsError, SkiffError, closest, printable
from skiffbuild.core.fsutil import locked
from skiffbuild.core.project import Project, WorkspacePaths
from skiffbuild.core.settings import Settings
from skiffbuild.model.fragments import Merged
from skiffbuild.model.manifest import load_pin
from skiffbuild.model.model import BuildrootPin
from skiffbuild.model.plan import Workspace, load_plan

__all__ = ["PLACEHOLDER", "Row", "Side", "cmd_diff", "compare", "is_off", "normalise",
           "render_table", "scratch_root", "side_of"]

# What a workspace's own directory is written as in compared values.
PLACEHOLDER = "workspaces/<ws>"
# Values that mean "off": a bool not set, an empty string. A symbol defined on one side
# only with such a value is left out unless --all (the other side does not have it at all).
_OFF = frozenset({"n", '""'})
_PIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True)
class Side:
    """One resolved configuration: its label, its values (normalised) and, per symbol,
    the layer whose request gave it its value."""

    label: str
    values: dict[str, str]  # symbol -> value, in .config order; "n" for "is not set"
    origins: dict[str, str]  # symbol -> layer name ("skiffbuild": the wiring)


@dataclass(frozen=True)
class Row:
    """A symbol that differs; None for a value: the .config has no such symbol."""

    symbol: str
    a: str | None
    b: str | None
    origin_a: str | None
    origin_b: str | None

    def to_json(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)


def normalise(value: str, name: str, root: Path | None = None,
              real_root: Path | None = None) -> str:
    """``value`` with the workspace ``name``'s own directory written as ``PLACEHOLDER``.
    ``root`` is where that workspace actually lives when it is not ``real_root`` (a
    scratch workspace): its path is first written as the real one's."""
    if root is not None and real_root is not None and root != real_root:
        value = re.sub(re.escape(str(root)) + r"(?=[/\s\"]|$)", str(real_root), value)
    return re.sub(r"(?<![^/\s\"])workspaces/" + re.escape(name) + r"(?=[/\s\"]|$)",
                  PLACEHOLDER, value)


def is_off(value: str | None) -> bool:
    return value is not None and value in _OFF


def side_of(label: str, dotconfig: str, merged: Merged, name: str,
            root: Path | None = None, real_root: Path | None = None) -> Side:
    """A side from the text of its ``.config`` and its merged Buildroot assignments."""
    raw = parse_dotconfig(dotconfig)
    values = {symbol: normalise(value, name, root, real_root) for symbol, value in raw.items()}
    origins = {}
    for symbol, value in raw.items():
        request = merged.value_of(symbol)
        if request is not None and request.value == value:
            origins[symbol] = request.origin.layer
    return Side(label, values, origins)


def _order(first: Sequence[str], second: Sequence[str]) -> list[str]:
    """Every symbol of both, in ``first``'s order, each symbol only in ``second`` after
    the symbol it follows there (both are Kconfig's menu order)."""
    key: dict[str, tuple[int, int]] = {symbol: (i, 0) for i, symbol in enumerate(first)}
    anchor, offset = -1, 0
    for symbol in second:
        if symbol in key and key[symbol][1] == 0:
            anchor, offset = key[symbol][0], 0
        elif symbol not in key:
            offset += 1
            key[symbol] = (anchor, offset)
    return sorted(key, key=lambda symbol: key[symbol])


def compare(a: Side, b: Side, *, everything: bool = False) -> tuple[list[Row], int]:
    """The rows that differ, and how many were left out: a symbol defined on one side
    only whose value there is off (n or ""), unless ``everything``."""
    rows: list[Row] = []
    hidden = 0
    for symbol in _order(list(a.values), list(b.values)):
        va, vb = a.values.get(symbol), b.values.get(symbol)
        if va == vb:
            continue
        if (va is None or vb is None) and is_off(va if vb is None else vb) and not everything:
            hidden += 1
            continue
        rows.append(Row(symbol, va, vb, a.origins.get(symbol) if va is not None else None,
                        b.origins.get(symbol) if vb is not None else None))
    return rows, hidden


def render_table(rows: Iterable[Row], a_label: str, b_label: str) -> list[str]:
    """The rows as aligned columns: symbol, A's value, B's value, and who asked for each."""
    head = ("symbol", f"A: {a_label}", f"B: {b_label}", "origin A", "origin B")
    cells = [head] + [(row.symbol, _shown(row.a), _shown(row.b), row.origin_a or "-",
                       row.origin_b or "-") for row in rows]
    # A long value (a path list) is not cut: the columns after it move right on its line.
    widths = [max(len(line[i]) for line in cells) if i == 0 else
              min(max(len(line[i]) for line in cells), 32) for i in range(len(head))]
    return [printable("  ".join(f"{cell:<{widths[i]}}" for i, cell in enumerate(line))
                      .rstrip()) for line in cells]


def _shown(value: str | None) -> str:
    return "(absent)" if value is None else value


# --------------------------------------------------------------- the other pin


def scratch_root(project: Project, pin: str, workspace: str) -> Path:
    """Where ``diff --pin`` configures ``workspace`` against ``pin``."""
    return project.root / "workspaces" / ".diff" / pin / workspace


def _pin(project: Project, name: str) -> BuildrootPin:
    """The pin ``manifests/<name>.yaml``, or a user error naming the pins there are."""
    known = sorted(p.stem for p in project.manifests.glob("*.yaml") if p.is_file())
    if not _PIN_NAME.fullmatch(name) or name not in known:
        guess = closest(name, known)
        hint = f"did you mean '{guess}'? " if guess else ""
        raise SkiffError(f"no Buildroot pin manifests/{name}.yaml",
                         hint=f"{hint}the pins: {', '.join(known) or 'none'}")
    pin, problems = load_pin(project, name)
    if pin is None:
        raise ProblemsError(problems)
    return pin


def _fetch(pin: BuildrootPin, project: Project, settings: Settings) -> None:
    """What fetch:<pin> does, directly: a pin no board uses has no such task."""
    where = f"{pin.url} @ {pin.commit[:12]}"
    if settings.offline and not checkout.stamp_path(project.cache, pin).is_file():
        mirror = checkout.mirror_dir(project.cache, pin.url)
        if not (mirror.is_dir() and checkout.has_object(mirror, pin.commit)):
            raise SkiffError(f"the Buildroot tree of pin '{pin.name}' ({where}) is not in the "
                             "cache, and offline nothing is fetched",
                             hint="run this once online (without SKIFFBUILD_OFFLINE) to fetch it")
    try:
        checkout.checkout(pin, project.cache, MirrorMap.from_env(settings.environ),
                          log=lambda text: print(text, file=sys.stderr))
    except SkiffError as exc:  # a BuildError too: still the pin's (the user's) to fix
        raise SkiffError(f"cannot fetch Buildroot pin '{pin.name}' ({where}): {exc.message}",
                         hint=exc.hint or "check the pin's url and commit, and "
                         "SKIFFBUILD_MIRRORS") from None


def _configure_scratch(ws: Workspace, project: Project) -> None:
    """config:<ws>'s action on a scratch workspace. Errors among the findings (a symbol
    the other pin does not know: `skiffbuild check` would fail) are what a comparison of
    pins is for: they are said, and the .config Buildroot wrote is compared anyway."""
    paths = ws.paths
    for stale in (paths.dotconfig, paths.report):  # a failure must not leave an old one
        stale.unlink(missing_ok=True)
    # Nobody edits a scratch configuration: what config: recorded of the last one (to
    # refuse overwriting hand edits) is of no use here.
    shutil.rmtree(paths.state, ignore_errors=True)
    failed: list[str] = []
    try:
        configure(ws, project, echo=lambda _text: None)
    except SkiffError as exc:
        if not (paths.dotconfig.is_file() and paths.report.is_file()):
            raise
        failed = exc.message.split("\n")
    report = json.loads(paths.report.read_text())
    errors = [str(f["text"]) for f in report["findings"] if f.get("level") == "error"]
    if errors or failed:
        print(f"warning: {ws.name} on pin '{ws.pin.name}': errors `skiffbuild check` would "
              "fail on; compared anyway:", file=sys.stderr)
        for line in dict.fromkeys(errors or failed):
            print(f"  {printable(line)}", file=sys.stderr)


def _pin_sides(args: argparse.Namespace, settings: Settings) -> tuple[Side, Side]:
    project = project_of(settings)
    other = _pin(project, args.pin)
    load_plan(project, [args.workspace])  # an unknown workspace before any work
    _fetch(other, project, settings)
    plan = configured(settings, [args.workspace])
    ws = plan.workspaces[args.workspace]
    root = scratch_root(plan.project, other.name, ws.name)
    scratch = dataclasses.replace(ws, pin=other, paths=WorkspacePaths(root))
    with locked(root.parent / f".{ws.name}.lock"):
        _configure_scratch(scratch, plan.project)
        print(f"diff: {ws.name} on pin '{other.name}' configured in "
              f"{plan.project.display(root)}/", file=sys.stderr)
        b = side_of(f"{ws.name}@{other.name}", root.joinpath("output", ".config").read_text(),
                    plan_configuration(scratch, plan.project).merged["buildroot"], ws.name,
                    root, ws.paths.root)
    a = _workspace_side(f"{ws.name}@{ws.pin.name}", ws, plan.project)
    return a, b


def _workspace_side(label: str, ws: Workspace, project: Project) -> Side:
    return side_of(label, ws.paths.dotconfig.read_text(),
                   plan_configuration(ws, project).merged["buildroot"], ws.name)


# ------------------------------------------------------------------ the command


def cmd_diff(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 (a report), 1 with --exit-code when a symbol is reported, 2 user error."""
    if args.pin is not None and args.other is not None:
        raise SkiffError("give either a second workspace or --pin, not both",
                         hint=f"skiffbuild diff {args.workspace} {args.other}, or "
                         f"skiffbuild diff {args.workspace} --pin {args.pin}")
    if args.pin is None and args.other is None:
        raise SkiffError("nothing to compare with: give a second workspace or --pin PIN",
                         hint=f"e.g. skiffbuild diff {args.workspace} OTHER-WORKSPACE")
    if args.pin is not None:
        a, b = _pin_sides(args, settings)
    else:
        names = list(dict.fromkeys([args.workspace, args.other]))
        plan = configured(settings, names)
        a, b = (_workspace_side(name, plan.workspaces[name], plan.project)
                for name in (args.workspace, args.other))
    rows, hidden = compare(a, b, everything=args.all)
    if args.json:
        print(json.dumps([row.to_json() for row in rows], indent=2))
    else:
        _print_report(rows, hidden, a, b)
    return EXIT_BUILD if args.exit_code and rows else 0


def _print_report(rows: list[Row], hidden: int, a: Side, b: Side) -> None:
    if rows:
        for line in render_table(rows, a.label, b.label):
            print(line)
    count = f"{len(rows)} symbol(s) differ" if rows else "no differences"
    notes: list[str] = []
    if hidden:
        notes.append(f"{hidden} more defined on one side only and off there: --all shows them")
    notes.append(f"paths inside each workspace compared as {PLACEHOLDER}/")
    print(printable(f"{count} between {a.label} and {b.label} ({'; '.join(notes)})"))
