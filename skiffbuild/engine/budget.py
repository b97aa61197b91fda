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

import threading

from skiffbuild.core.settings import Settings

__all__ = ["CpuBudget"]


class CpuBudget:
    """The CPU budget of one doit run: its reporter says which builds the run selected
    and which have settled (up to date, finished or failed); compile asks for its
    ``BR2_JLEVEL``. One per run, handed to both, no module state."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._selected: int | None = None  # None: not known (no reporter told)
        self._settled: set[str] = set()

    def selected(self, count: int) -> None:
        with self._lock:
            self._selected = count
            self._settled.clear()

    def settled(self, task: str) -> None:
        with self._lock:
            self._settled.add(task)

    def jlevel(self) -> int:
        workers = self.settings.workers
        with self._lock:
            if self._selected:
                concurrent = min(workers, max(1, self._selected - len(self._settled)))
            else:
                concurrent = workers
        return max(1, self.settings.cpus // max(1, concurrent))
