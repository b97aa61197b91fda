"""The CPU budget shared by the Buildroot builds of one run.

``doit -n N`` runs N task actions at once, and nothing shares make's job
tokens between separate Buildroot makes: Buildroot passes its own
``-j$(PARALLEL_JOBS)`` to every package build (reference/doit.md §5). So the
orchestrator splits the machine: each of the builds that can run at the same
time gets ``BR2_JLEVEL = budget // concurrent`` (at least 1), where the
budget is ``SKIFFBUILD_CPUS`` or the CPUs this process may run on, and
``concurrent`` is the number of compile tasks this run selected and has not
yet found up to date or finished, capped by doit's worker count: a build
that starts after the others are done gets the whole machine.
``BR2_JLEVEL`` goes on make's command line, where it wins over ``.config``
without changing it, so it changes no output and is not an input of the
compile task.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from skiffbuild.core.errors import SkiffError

__all__ = ["ENV_CPUS", "cpu_budget", "doit_option", "doit_workers", "jlevel",
           "note_build_settled", "note_concurrent_builds"]

ENV_CPUS = "SKIFFBUILD_CPUS"

# How many compile tasks this run selected, and how many of those are settled
# (up to date, finished or failed); the progress reporter tells. None: not known.
_selected_builds: int | None = None
_settled: set[str] = set()


def note_concurrent_builds(count: int) -> None:
    global _selected_builds
    _selected_builds = count
    _settled.clear()


def note_build_settled(task: str) -> None:
    _settled.add(task)


def cpu_budget(environ: Mapping[str, str]) -> int:
    value = environ.get(ENV_CPUS, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise SkiffError(f"{ENV_CPUS}={value!r} is not a positive number of CPUs")
        return int(value)
    return len(os.sched_getaffinity(0))


def doit_option(argv: Sequence[str], short: str, long: str) -> str | None:
    """The last value of a doit option on a command line: ``-n 2``, ``-n2``, ``--process 2``
    or ``--process=2`` (``short`` is ``-n``, ``long`` is ``--process``)."""
    value = None
    for i, arg in enumerate(argv):
        if arg in (short, long) and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(f"{long}="):
            value = arg.split("=", 1)[1]
        elif arg.startswith(short) and len(arg) > len(short):
            value = arg[len(short):]
    return value


def doit_workers(argv: Sequence[str]) -> int:
    """doit's ``-n N`` / ``--process=N`` from a command line (1 without it)."""
    value = doit_option(argv, "-n", "--process")
    return max(1, int(value)) if value is not None and value.isdigit() else 1


def jlevel(environ: Mapping[str, str], argv: Sequence[str]) -> int:
    workers = doit_workers(argv)
    if _selected_builds:
        concurrent = min(workers, max(1, _selected_builds - len(_settled)))
    else:
        concurrent = workers
    return max(1, cpu_budget(environ) // max(1, concurrent))
