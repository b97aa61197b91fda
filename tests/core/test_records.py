"""skiffbuild.state: completion records and the workspace lock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from skiffbuild.core.errors import BuildError
from skiffbuild.core.project import WorkspacePaths
from skiffbuild.core.records import guarded, inputs_digest, record_path


@pytest.fixture
def paths(tmp_path: Path) -> WorkspacePaths:
    return WorkspacePaths(tmp_path / "workspaces" / "pi4")


def test_record_is_removed_before_the_work_and_written_after(paths: WorkspacePaths,
                                                             tmp_path: Path) -> None:
    source = tmp_path / "input.txt"
    source.write_text("v1\n")
    record = record_path(paths, "compile")
    seen: list[bool] = []
    guarded("compile:pi4", paths, [source], {"k": 1}, lambda: seen.append(record.exists()),
            print)
    assert seen == [False]
    assert json.loads(record.read_text()) == {
        "task": "compile:pi4", "inputs": inputs_digest([source], {"k": 1}), "pid": os.getpid()}

    # A failing task leaves no record, even though an older one existed.
    def fail() -> None:
        seen.append(record.exists())
        raise BuildError("make failed")

    with pytest.raises(BuildError, match="make failed"):
        guarded("compile:pi4", paths, [source], {"k": 1}, fail, print)
    assert seen == [False, False]
    assert not record.exists()


def test_inputs_digest_covers_content_and_facts(tmp_path: Path) -> None:
    source = tmp_path / "a"
    source.write_text("1")
    first = inputs_digest([source], {"x": 1})
    assert inputs_digest([source], {"x": 1}) == first
    assert inputs_digest([source], {"x": 2}) != first
    source.write_text("2")
    assert inputs_digest([source], {"x": 1}) != first
    source.unlink()
    assert inputs_digest([source], {"x": 1}) != first


HOLD = """
import sys, time
from pathlib import Path
from skiffbuild.core.fsutil import locked
with locked(Path(sys.argv[1]), sys.argv[4]):
    print("held", flush=True)
    Path(sys.argv[2]).write_text("{}")  # a record from the other run, with other inputs
    time.sleep(float(sys.argv[3]))
"""


def _wait_behind(paths: WorkspacePaths, holder_text: str) -> tuple[list[str], float]:
    lock = paths.root / "state" / ".lock"
    record = record_path(paths, "image")
    record.parent.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(lock), str(record), "1.5",
                               holder_text], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    messages: list[str] = []
    ran_at: list[float] = []
    started = time.monotonic()
    guarded("image:pi4", paths, [], None, lambda: ran_at.append(time.monotonic()),
            messages.append)
    holder.wait()
    assert record.is_file()
    return messages, ran_at[0] - started


def test_second_run_waits_for_the_workspace_and_says_for_whom(paths: WorkspacePaths) -> None:
    messages, waited = _wait_behind(
        paths, "image:pi4 in pid 4242 on elsewhere since 10:00:00: doit image:pi4")
    assert messages == ["image:pi4: waiting for workspace pi4, in use by image:pi4 in pid "
                        "4242 on elsewhere since 10:00:00: doit image:pi4"]
    assert waited > 1.0  # ran only once the other run let go


def test_waiting_behind_a_killed_runs_leftover_command(paths: WorkspacePaths) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    messages, _ = _wait_behind(
        paths, f"compile:pi4 in pid {dead.pid} on {socket.gethostname()} since 10:00:00: doit")
    assert messages == [f"image:pi4: waiting for workspace pi4, in use by compile:pi4 in pid "
                        f"{dead.pid} on {socket.gethostname()} since 10:00:00: doit (that "
                        "process is gone; a command it started still runs)"]


def test_work_done_by_a_concurrent_run_is_not_done_twice(paths: WorkspacePaths,
                                                         tmp_path: Path) -> None:
    source = tmp_path / "input"
    source.write_text("x")
    record = record_path(paths, "image")
    record.parent.mkdir(parents=True)
    # What the other run leaves behind: a record for exactly these inputs, written now.
    record.write_text(json.dumps({"task": "image:pi4", "inputs": inputs_digest([source], 7),
                                  "pid": os.getpid() + 1}))
    messages: list[str] = []
    calls: list[int] = []
    guarded("image:pi4", paths, [source], 7, lambda: calls.append(1), messages.append)
    assert calls == []
    assert messages == ["image:pi4: already done by another run, with the same inputs"]
    # Different inputs: the record does not count.
    guarded("image:pi4", paths, [source], 8, lambda: calls.append(1), messages.append)
    assert calls == [1]


def test_a_record_older_than_the_run_never_skips_the_work(paths: WorkspacePaths,
                                                          tmp_path: Path) -> None:
    """`doit forget` or `doit -a` must still force the work."""
    record = record_path(paths, "image")
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"task": "image:pi4", "inputs": inputs_digest([], None),
                                  "pid": os.getpid() + 1}))
    os.utime(record, (1, 1))
    calls: list[int] = []
    guarded("image:pi4", paths, [], None, lambda: calls.append(1), print)
    assert calls == [1]
