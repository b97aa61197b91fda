"""Progress output: one status line per workspace, and doit's reporter.

On a terminal, ``StatusBoard`` keeps a block of status lines at the bottom,
one per workspace ("pi4  compile >>> busybox 1.37.0 Building  0:42"), redrawn
in place, with permanent messages (task starts, warnings, failures) printed
above it; several workspaces building at once therefore never interleave.
Anywhere else (CI logs, a pipe) every status change is one plain line
prefixed by its task, which reads well in a log and greps well.

``SkiffReporter`` is doit's console reporter routed through the board. It
also tells the run's CPU budget how many Buildroot builds the run selected, and
it turns the failures skiffbuild has already explained (``ReportedFailure``)
into the run's exit status without doit's "TaskFailed - taskid:…" noise:
1 for a build failure, 2 for a user error, 3 for a bug.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from typing import Any, TextIO

from doit.exceptions import TaskFailed
from doit.reporter import ConsoleReporter

from skiffbuild.core.errors import EXIT_BUILD
from skiffbuild.core.settings import Settings
from skiffbuild.engine.budget import CpuBudget

__all__ = ["ReportedFailure", "SkiffReporter", "StatusBoard", "board", "reporter_for"]


class ReportedFailure(TaskFailed):
    """A task failure whose message skiffbuild has printed already, and the exit status
    it means. An action returns it (doit's own channel for a failure, which also
    crosses from a worker process of ``doit -P process``)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"failed (exit status {status})")
        self.status = status

    def __reduce__(self) -> tuple[type[ReportedFailure], tuple[int]]:
        return (ReportedFailure, (self.status,))


class StatusBoard:
    def __init__(self, stream: TextIO, live: bool | None = None, term: str = "dumb") -> None:
        self.stream = stream
        if live is None:
            live = stream.isatty() and term != "dumb"
        self.live = live
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._lines: dict[str, tuple[str, float]] = {}
        self._drawn = 0

    def message(self, text: str) -> None:
        """A permanent line (or lines), above the status lines."""
        with self._lock:
            self._erase()
            self.stream.write(text if text.endswith("\n") else text + "\n")
            self._draw()
            self.stream.flush()

    def status(self, key: str, task: str, text: str) -> None:
        """The current state of ``key`` (a workspace): replaces its previous status."""
        with self._lock:
            if not self.live:
                self.stream.write(f"{task} {text}\n")
            else:
                started = self._lines.get(key, ("", time.monotonic()))[1]
                self._lines[key] = (f"{task} {text}", started)
                self._erase()
                self._draw()
            self.stream.flush()

    def clear(self) -> None:
        """Drop every status line (the run is over)."""
        with self._lock:
            self._lines.clear()
            self._erase()
            self.stream.flush()

    def _erase(self) -> None:
        if self._drawn:
            # Up to the first drawn line, then clear to the end of the screen.
            self.stream.write(f"\x1b[{self._drawn}F\x1b[J")
            self._drawn = 0

    def _draw(self) -> None:
        if not self.live:
            return
        width = shutil.get_terminal_size((100, 24)).columns - 1
        pad = max((len(k) for k in self._lines), default=0)
        now = time.monotonic()
        for key, (text, started) in self._lines.items():
            minutes, seconds = divmod(int(now - started), 60)
            line = f"{key:<{pad}}  {text}"
            clock = f"  {minutes}:{seconds:02d}"
            self.stream.write(line[:max(10, width - len(clock))] + clock + "\n")
        self._drawn = len(self._lines)


# The board of the doit run in progress: its reporter makes it before any task
# runs, while sys.stderr is still the real one (doit wraps it around actions).
_current: StatusBoard | None = None


def board() -> StatusBoard:
    """The running doit's board, or a plain one on the current standard error (also in
    a worker process of ``doit -P process``, which cannot share the main one's screen)."""
    if _current is not None and _current.pid == os.getpid():
        return _current
    return StatusBoard(sys.stderr, live=False)


class SkiffReporter(ConsoleReporter):
    """doit's console output, through the status board when it is live.

    doit makes the reporter from its class; ``reporter_for()`` gives it a class bound to
    the run's settings and CPU budget."""

    desc = "console output with a status line per workspace"
    settings: Settings = Settings()
    budget: CpuBudget | None = None

    def __init__(self, outstream: TextIO, options: dict[str, Any]) -> None:
        global _current
        super().__init__(outstream, options)
        # Worker processes (doit -P process) cannot draw on this process's board.
        self.board = _current = StatusBoard(
            sys.stderr, live=False if self.settings.process_pool else None,
            term=self.settings.get("TERM", "dumb"))
        self.through_board = self.board.live and getattr(outstream, "isatty", lambda: False)()
        self.status = 0  # the worst ReportedFailure's exit status

    def write(self, text: str) -> None:
        if self.through_board:
            self.board.message(text.rstrip("\n"))
        else:
            super().write(text)

    def initialize(self, tasks: dict[str, Any], selected_tasks: list[str]) -> None:
        if self.budget is not None:
            self.budget.selected(_selected_builds(tasks, selected_tasks))

    def execute_task(self, task: Any) -> None:
        super().execute_task(task)
        self._show(task, "started")

    def add_success(self, task: Any) -> None:
        super().add_success(task)
        self._finished(task, "done")

    def add_failure(self, task: Any, fail: Any) -> None:
        self._finished(task, "FAILED")
        if isinstance(fail, ReportedFailure):
            # The action printed the error; doit's repetition would only add noise.
            self.status = max(self.status, fail.status)
        else:
            self.status = max(self.status, EXIT_BUILD)
            super().add_failure(task, fail)

    def skip_uptodate(self, task: Any) -> None:
        super().skip_uptodate(task)
        self._settled(task)

    def _settled(self, task: Any) -> None:
        if task.name.startswith("compile:") and self.budget is not None:
            self.budget.settled(task.name)

    def _finished(self, task: Any, text: str) -> None:
        self._settled(task)
        self._show(task, text)

    def _show(self, task: Any, text: str) -> None:
        """A workspace task's state on its workspace's line (a terminal only)."""
        ws = task.name.partition(":")[2]
        if ws and task.actions and self.board.live:
            self.board.status(ws, task.name, text)

    def complete_run(self) -> None:
        global _current
        self.board.clear()
        _current = None
        super().complete_run()
        if self.status > EXIT_BUILD:
            # doit would exit 1 for any failed task; a user error (2) or a bug (3) says
            # more. doit has closed its state database before it calls this.
            raise SystemExit(self.status)


def reporter_for(settings: Settings, budget: CpuBudget) -> type[SkiffReporter]:
    """The reporter class of one run (doit instantiates it itself)."""
    return type("SkiffReporter", (SkiffReporter,), {"settings": settings, "budget": budget})


def _selected_builds(tasks: dict[str, Any], selected: list[str]) -> int:
    """compile tasks among the selected tasks and everything they depend on."""
    seen: set[str] = set()
    todo = [name for name in selected if name in tasks]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        task = tasks[name]
        todo += [dep for dep in [*task.task_dep, *task.setup_tasks] if dep in tasks]
    return sum(1 for name in seen if name.startswith("compile:"))

