"""``skiffbuild sbom`` and ``skiffbuild legal-info``: what an image is made of, and the
licences and sources of what it ships."""

from __future__ import annotations

import argparse
import sys

from skiffbuild.app.common import configured
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.settings import Settings

__all__ = ["cmd_sbom"]


def cmd_sbom(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.release.materials import gather
    from skiffbuild.release.provenance import statement
    from skiffbuild.release.sbom import sbom_json

    plan = configured(settings, [args.workspace])
    inputs = gather(plan.workspaces[args.workspace], plan.project)
    text = sbom_json(inputs)
    if args.provenance:
        import hashlib

        text = statement(inputs, {**(inputs.image or {}),
                                  "sbom.cdx.json": hashlib.sha256(text.encode()).hexdigest()})
    if args.output:
        atomic_write(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
