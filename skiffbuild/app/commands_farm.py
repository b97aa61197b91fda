"""``skiffbuild farm ci``: CI pipelines (GitHub Actions, GitLab CI) from the boards."""

from __future__ import annotations

import argparse

from skiffbuild.app.common import project_of
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.settings import Settings
from skiffbuild.model.plan import load_plan

__all__ = ["TRUST", "cmd_farm"]

TRUST = "farm/builders.pub"  # the builders' public key in the repository, by default


def cmd_farm(args: argparse.Namespace, settings: Settings) -> int:
    from skiffbuild.farm.matrix import github_workflow, gitlab_pipeline, render

    if not (args.github or args.gitlab):
        raise SkiffError("say which pipeline to write", hint="skiffbuild farm ci --github "
                         ".github/workflows/skiffbuild.yml --gitlab .gitlab-ci.yml")
    plan = load_plan(project_of(settings))
    boards = sorted(plan.workspaces)
    command = "skiffbuild farm ci" + (f" --github {args.github}" if args.github else "") + \
        (f" --gitlab {args.gitlab}" if args.gitlab else "") + \
        (f" --trust {args.trust}" if args.trust != TRUST else "")
    for path, document in ((args.github, github_workflow), (args.gitlab, gitlab_pipeline)):
        if path is None:
            continue
        target = plan.project.root / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, render(document(boards, args.trust), command))
        except OSError as exc:
            raise SkiffError(f"cannot write {target}: {exc.strerror}") from None
        print(f"{plan.project.display(target)}: {len(boards)} boards ({', '.join(boards)})")
    return 0

