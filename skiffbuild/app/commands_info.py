"""``skiffbuild`` subcommands that describe the project: layers, boards, completion."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from skiffbuild.app.common import project_of
from skiffbuild.core.errors import printable
from skiffbuild.core.settings import Settings
from skiffbuild.model.plan import Plan, Workspace, load_plan

__all__ = ["cmd_boards", "cmd_completion", "cmd_layers", "completion_script"]


def _layer_rows(plan: Plan, show_all: bool) -> list[dict[str, Any]]:
    rows = []
    for name in plan.index.names():
        layer = plan.index.layers[name]
        if layer.unlisted and not show_all:
            continue
        rows.append({"name": name, "description": layer.description,
                     "origin": plan.project.display(layer.origin), "path": str(layer.path),
                     "unlisted": layer.unlisted})
    return rows


def _print_layers(rows: list[dict[str, Any]]) -> None:
    width = max((len(r["name"]) for r in rows), default=0)
    for row in rows:
        # Descriptions are a manifest's text: no terminal escapes reach the terminal.
        origin = printable(row["origin"])
        suffix = "" if origin == "layers" else f"  [{origin}]"
        print(f"{row['name']:<{width}}  {printable(row['description'] or '(no description)')}"
              f"{suffix}")


def _chain(plan: Plan, ws: Workspace) -> dict[str, Any]:
    project = plan.project
    return {
        "workspace": ws.name, "description": ws.board.description,
        "architecture": ws.board.architecture,
        "buildroot": {"tag": ws.pin.tag, "commit": ws.pin.commit,
                      "patches": [project.display(p) for p in ws.pin.patches]},
        "chain": [{"name": layer.name, "path": project.display(layer.path),
                   "style": layer.style, "description": layer.description,
                   "shadows": [project.display(p)
                               for p in plan.index.shadowed.get(layer.name, ())]}
                  for layer in ws.chain],
        "commands": [{"name": f"{layer.name}/{command.name}",
                      "description": command.description}
                     for layer in ws.chain for command in layer.commands],
    }


def _print_chain(data: dict[str, Any]) -> None:
    print(f"workspace {data['workspace']}: {printable(data['description'])}")
    pin = data["buildroot"]
    patches = len(pin["patches"])
    print(f"buildroot: {pin['tag'] or '(no tag)'} @ {pin['commit']}"
          f"{f' + {patches} patch(es)' if patches else ''}")
    print("chain (merge order):")
    width = max(len(layer["name"]) for layer in data["chain"])
    for number, layer in enumerate(data["chain"], start=1):
        note = f"  (shadows {', '.join(layer['shadows'])})" if layer["shadows"] else ""
        style = {"skiffos": " [SkiffOS layout]", "override": " [override]",
                 "board": " [board]"}.get(layer["style"], "")
        print(printable(f"  {number:2}. {layer['name']:<{width}}  {layer['path']}{style}{note}"))
        if layer["description"] and layer["style"] != "override":
            print(f"      {printable(layer['description'])}")
    if data["commands"]:
        print("commands:")
        for command in data["commands"]:
            print(f"  {command['name']}  {printable(command['description'])}")


def cmd_layers(args: argparse.Namespace, settings: Settings) -> int:
    # Without a workspace, a broken board or layer is named and the rest listed.
    plan = load_plan(project_of(settings), [args.workspace] if args.workspace else None,
                     partial=not args.workspace)
    for line in [] if args.workspace else plan.left_out():
        print(line, file=sys.stderr)
    if args.workspace:
        data: Any = _chain(plan, plan.workspaces[args.workspace])
        printer: Any = _print_chain
    else:
        data, printer = _layer_rows(plan, args.all), _print_layers
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        printer(data)
    return 0


def cmd_boards(args: argparse.Namespace, settings: Settings) -> int:
    """Every board: name, description, architecture and its layers in merge order."""
    plan = load_plan(project_of(settings), partial=True)
    for line in plan.left_out():
        print(line, file=sys.stderr)
    boards: list[dict[str, Any]] = [{"name": ws.name, "description": ws.board.description,
               "architecture": ws.board.architecture,
               "manifest": plan.project.display(ws.board.manifest),
               "layers": [layer.name for layer in ws.chain],
               "image": plan.project.display(ws.paths.disk)}
              for ws in sorted(plan.workspaces.values(), key=lambda w: w.name)]
    if args.json:
        print(json.dumps(boards, indent=2))
    elif args.names:
        for board in boards:
            print(board["name"])
    else:
        name_w = max((len(b["name"]) for b in boards), default=0)
        arch_w = max((len(b["architecture"]) for b in boards), default=0)
        for board in boards:
            print(f"{board['name']:<{name_w}}  {board['architecture']:<{arch_w}}  "
                  f"{printable(board['description'])}")
            print(f"{'':<{name_w}}  layers: {printable(' > '.join(board['layers']))}")
    return 0


# Subcommands whose positional arguments name workspaces (the first one only, or all).
_ONE_WORKSPACE = ("layers", "graph", "menuconfig", "sources", "export", "run", "repro")
_WORKSPACES = ("check", "lock", "build", "nightly", "tryout")
_FILES = ("import", "testtree")


def completion_script(top: argparse.ArgumentParser) -> str:
    """A bash completion script from the parser: subcommands, their options, and board
    names (asked of ``skiffbuild boards --names`` in the project at hand)."""
    sub = next(a for a in top._actions if isinstance(a, argparse._SubParsersAction))
    names = list(sub.choices)
    top_opts = [o for a in top._actions for o in a.option_strings]
    cases = []
    for name, parser in sub.choices.items():
        opts = [o for a in parser._actions for o in a.option_strings]
        cases.append(f"        {name}) opts=\"{' '.join(opts)}\" ;;")
        if name == "completion":
            cases[-1] = f"        {name}) opts=\"{' '.join(opts)}\"; words=bash ;;"
    return f"""\
# bash completion for skiffbuild. Load it with:
#   source <(skiffbuild completion bash)
# or save it as ~/.local/share/bash-completion/completions/skiffbuild
_skiffbuild() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} cmd="" opts="" words="" i n=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        case ${{COMP_WORDS[i]}} in
        -*) ;;
        *) if [ -z "$cmd" ]; then cmd=${{COMP_WORDS[i]}}; else n=$((n + 1)); fi ;;
        esac
    done
    if [ -z "$cmd" ]; then
        COMPREPLY=($(compgen -W "{' '.join(names)} {' '.join(top_opts)}" -- "$cur"))
        return
    fi
    case $cmd in
{chr(10).join(cases)}
    esac
    case $cur in
    -*) COMPREPLY=($(compgen -W "$opts" -- "$cur")); return ;;
    esac
    case $cmd in
    {'|'.join(_ONE_WORKSPACE)}) [ "$n" -eq 0 ] && words=$(skiffbuild boards --names 2>/dev/null) ;;
    {'|'.join(_WORKSPACES)}) words=$(skiffbuild boards --names 2>/dev/null) ;;
    {'|'.join(_FILES)}) COMPREPLY=($(compgen -f -- "$cur")); return ;;
    esac
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}}
complete -F _skiffbuild skiffbuild
"""


def cmd_completion(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.app.cli import parser

    print(completion_script(parser()), end="")
    return 0
