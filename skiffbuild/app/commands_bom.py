"""``skiffbuild sbom`` and ``skiffbuild legal-info``: what an image is made of, and the
licences and sources of what it ships."""

from __future__ import annotations

import argparse
import sys

from skiffbuild.app.common import configured, project_of, run_doit
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.settings import Settings
from skiffbuild.model.plan import load_plan

__all__ = ["cmd_legal_info", "cmd_sbom"]


def cmd_sbom(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.release.materials import documents

    plan = configured(settings, [args.workspace])
    sbom, provenance = documents(plan.workspaces[args.workspace], plan.project)
    text = provenance if args.provenance else sbom
    if args.output:
        try:
            atomic_write(args.output, text)
        except OSError as exc:
            raise SkiffError(f"cannot write {args.output}: {exc.strerror}") from None
    else:
        sys.stdout.write(text)
    return 0


def cmd_legal_info(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.buildroot.legalinfo import collect_legal_info

    if args.offline:
        settings = settings.replace(offline=True)
    # Buildroot saves the sources: they come from the verified cache, nowhere else.
    plan = load_plan(project_of(settings), [args.workspace])
    run_doit(settings.replace(quiet=True), [f"sources:{args.workspace}"])
    ws = plan.workspaces[args.workspace]
    found = collect_legal_info(ws, plan.project, settings.environ,
                               lambda text: print(text, file=sys.stderr))
    print(f"{ws.name}: {found.packages} target packages ({found.sources_saved} with their "
          f"sources), {found.host_packages} host packages: {plan.project.display(found.path)}")
    for name in found.not_redistributable:
        print(f"  {name}: sources not saved (not redistributable)")
    for warning in found.warnings:
        print(f"  warning: {warning}")
    return 0
