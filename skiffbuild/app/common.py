"""What the ``skiffbuild`` subcommands share: the project, doit run in-process."""

from __future__ import annotations

import sys

from skiffbuild.core.errors import EXIT_BUILD
from skiffbuild.core.project import Project
from skiffbuild.core.settings import Settings
from skiffbuild.model.plan import Plan, load_plan

__all__ = ["Stop", "configured", "project_of", "run_doit"]


class Stop(Exception):
    """The command is over with this exit status; what went wrong is printed already."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def project_of(settings: Settings) -> Project:
    return Project.discover(environ=settings.environ)


def run_doit(settings: Settings, tasks: list[str]) -> None:
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
        raise Stop(status)


def configured(settings: Settings, names: list[str]) -> Plan:
    """Load the plan and bring config:<ws> up to date for ``names`` (quietly)."""
    plan = load_plan(project_of(settings), names)
    run_doit(settings.replace(quiet=True), [f"config:{name}" for name in names])
    return plan
