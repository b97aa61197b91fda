"""Task state that survives kill -9, full disks and a second run in the same checkout.

doit saves its database only at the end of a run (reference/doit.md, trap d),
so it cannot be the only witness of what is built. Every workspace task
(config, sources, compile, image) therefore runs inside ``guarded()``:

- it takes the workspace's lock (``workspaces/<ws>/state/.lock``). A second
  run in the same checkout waits there, saying whom it waits for, instead of
  running a second make in the same output directory. The commands the task
  runs inherit the lock, so it also outlives a killed skiffbuild whose make
  is still running;
- it deletes the task's completion record before touching any output, and
  writes it (atomically, after the outputs are on disk) only when the work
  succeeded. The record is one of the task's doit targets, so a run killed
  in the middle leaves the task missing its record, and the next run redoes
  it whatever doit's database says;
- the record holds a digest of the task's inputs (file identities and the
  non-file facts). When a run gets the lock and finds a record that matches
  its inputs and was written by another process after it started, a
  concurrent run has just done the work, and it is not done twice. An older record never counts:
  ``doit forget`` and ``doit -a`` still force the work.

``statedb.StateDB`` complements this on doit's side: each success is
committed as soon as it happens, so a killed run does not forget the tasks
it had finished.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .fsutil import atomic_write, digest_text, locked, stat_key
from .project import WorkspacePaths

__all__ = ["guarded", "inputs_digest", "record_path"]

# Records written after this moment were written during this run, by another run.
_STARTED_NS = time.time_ns()


def record_path(paths: WorkspacePaths, stage: str) -> Path:
    return paths.root / "state" / "done" / f"{stage}.json"


def inputs_digest(files: Iterable[str | Path], facts: Any) -> str:
    """One digest of the inputs' identities (``stat_key``, so no file is read; a missing
    file counts as missing) and the facts."""
    parts = [json.dumps(facts, sort_keys=True, default=str)]
    for name in sorted(map(str, files)):
        try:
            parts.append(f"{name}\0{stat_key(os.stat(name))}")
        except FileNotFoundError:
            parts.append(f"{name}\0-")
    return digest_text(*parts)


def _holder(task: str) -> str:
    return (f"{task} in pid {os.getpid()} on {socket.gethostname()} since "
            f"{time.strftime('%H:%M:%S')}: {' '.join(sys.argv[:6])}")


def guarded(task: str, paths: WorkspacePaths, files: Iterable[str | Path], facts: Any,
            work: Callable[[], None], echo: Callable[[str], None]) -> None:
    """Run ``work`` for ``task`` under the workspace lock, with its completion record."""
    stage = task.split(":", 1)[0]
    record = record_path(paths, stage)
    files = list(files)

    def waiting(holder: str) -> None:
        echo(f"{task}: waiting for workspace {paths.root.name}, in use by {holder}"
             + ("" if _alive(holder) else
                " (that process is gone; a command it started still runs)"))

    with locked(paths.root / "state" / ".lock", _holder(task), waiting, inherit=True):
        digest = inputs_digest(files, facts)
        if _fresh_record(record, digest):
            echo(f"{task}: already done by another run, with the same inputs")
            return
        # From here until the new record lands, the outputs are not trustworthy.
        record.unlink(missing_ok=True)
        work()
        atomic_write(record, json.dumps({"task": task, "inputs": digest, "pid": os.getpid()},
                                        indent=1) + "\n")


def _alive(holder: str) -> bool:
    match = re.search(r" in pid (\d+) on (\S+) ", holder)
    if not match or match[2] != socket.gethostname():
        return True
    try:
        os.kill(int(match[1]), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _fresh_record(record: Path, digest: str) -> bool:
    """Written during this run, by another process, for these inputs."""
    try:
        data = json.loads(record.read_text())
        return (record.stat().st_mtime_ns >= _STARTED_NS and data.get("pid") != os.getpid()
                and data.get("inputs") == digest)
    except (OSError, ValueError, AttributeError):
        return False
