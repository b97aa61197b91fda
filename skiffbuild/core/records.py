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

``OutputRecord`` (``state/output.json``) says what Buildroot's ``output/``
holds builds of, for what Buildroot itself does not track: the tree and the
external toolchain it was built with, and the configuration it was cleaned
for. compile writes it once the clean a change needed is done, before make
runs: from then on ``output/`` holds (part of) a build of exactly that.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiffbuild.core.fsutil import atomic_write, digest_text, locked, stat_key
from skiffbuild.core.project import WorkspacePaths

__all__ = ["OutputRecord", "guarded", "inputs_digest", "output_record_path", "read_output_record",
           "record_path", "recorded_tree", "workspace_locked", "write_output_record"]

# Records written after this moment were written during this run, by another run.
_STARTED_NS = time.time_ns()


def record_path(paths: WorkspacePaths, stage: str) -> Path:
    return paths.state / "done" / f"{stage}.json"


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


def _holder(task: str, command: Sequence[str]) -> str:
    return (f"{task} in pid {os.getpid()} on {socket.gethostname()} since "
            f"{time.strftime('%H:%M:%S')}: {' '.join(command[:6])}")


@contextmanager
def workspace_locked(task: str, paths: WorkspacePaths, echo: Callable[[str], None],
                     command: Sequence[str] = ()) -> Iterator[None]:
    """Hold the workspace lock for ``task`` (every command run meanwhile inherits it); a
    run that has to wait says for whom."""
    def waiting(holder: str) -> None:
        echo(f"{task}: waiting for workspace {paths.root.name}, in use by {holder}"
             + ("" if _alive(holder) else
                " (that process is gone; a command it started still runs)"))

    with locked(paths.state / ".lock", _holder(task, command), waiting, inherit=True):
        yield


def guarded(task: str, paths: WorkspacePaths, files: Iterable[str | Path], facts: Any,
            work: Callable[[], None], echo: Callable[[str], None],
            command: Sequence[str] = ()) -> None:
    """Run ``work`` for ``task`` under the workspace lock, with its completion record;
    ``command`` (the run's command line) tells a waiting run who holds the lock."""
    stage = task.split(":", 1)[0]
    record = record_path(paths, stage)
    files = list(files)
    with workspace_locked(task, paths, echo, command):
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


@dataclass(frozen=True)
class OutputRecord:
    """What a workspace's ``output/`` holds builds of (see the module's docstring)."""

    tree: dict[str, str]  # key, commit, patch_digest of the Buildroot tree
    config: str  # sha256 of the .config it was cleaned for
    toolchain: dict[str, Any] | None = None  # the preinstalled external toolchain, if any


def output_record_path(paths: WorkspacePaths) -> Path:
    return paths.state / "output.json"


def read_output_record(paths: WorkspacePaths) -> OutputRecord | None:
    """None when there is none (a fresh workspace, or one built before it existed)."""
    try:
        data = json.loads(output_record_path(paths).read_text())
        return OutputRecord(tree=dict(data["tree"]), config=str(data["config"]),
                            toolchain=data.get("toolchain"))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_output_record(paths: WorkspacePaths, record: OutputRecord) -> None:
    atomic_write(output_record_path(paths), json.dumps(
        {"format": 1, "tree": record.tree, "config": record.config,
         "toolchain": record.toolchain}, indent=1, sort_keys=True) + "\n")


def recorded_tree(paths: WorkspacePaths) -> str | None:
    """The key of the Buildroot tree the workspace's output/ was built with."""
    record = read_output_record(paths)
    return record.tree.get("key") if record else None
