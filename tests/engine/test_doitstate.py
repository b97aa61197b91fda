"""skiffbuild.statedb: doit's state survives a kill -9 of the run, task by task."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ran

DODO = '''
import os, signal
from pathlib import Path

DOIT_CONFIG = {{"backend": "{backend}", "dep_file": "state.sqlite3", "verbosity": 2}}


def task_first():
    return {{"actions": ["echo first >> calls && cp input out1"], "file_dep": ["input"],
             "targets": ["out1"], "uptodate": [True]}}


def _die_if_asked():
    Path("out2").write_text("done")
    if Path("kill-me").exists():
        os.kill(os.getpid(), signal.SIGKILL)


def task_second():
    return {{"actions": ["echo second >> calls", _die_if_asked], "file_dep": ["out1"],
             "targets": ["out2"]}}
'''


def _project(tmp_path: Path, backend: str) -> Path:
    root = tmp_path / backend
    root.mkdir()
    (root / "dodo.py").write_text(DODO.format(backend=backend))
    (root / "input").write_text("x")
    return root


def _doit(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "doit", *args], cwd=root, text=True,
                          capture_output=True, check=False)


@pytest.mark.parametrize(("backend", "first_reran"), [("skiff-sqlite3", False),
                                                      ("sqlite3", True)])
def test_finished_tasks_survive_kill_9(tmp_path: Path, backend: str, first_reran: bool) -> None:
    """doit's own sqlite3 backend forgets the whole run; ours keeps what finished."""
    root = _project(tmp_path, backend)
    (root / "kill-me").write_text("")
    killed = _doit(root, "second")
    assert killed.returncode == -9
    (root / "kill-me").unlink()
    again = _doit(root, "second")
    assert again.returncode == 0, again.stderr
    assert ran(again.stdout) == {"first": first_reran, "second": True}
    assert (root / "calls").read_text().split() == (
        ["first", "second", "first", "second"] if first_reran else ["first", "second", "second"])


def test_rows_are_whole_and_readable_by_plain_doit(tmp_path: Path) -> None:
    root = _project(tmp_path, "skiff-sqlite3")
    assert _doit(root, "second").returncode == 0
    rows = dict(sqlite3.connect(root / "state.sqlite3").execute(
        "select task_id, task_data from doit").fetchall())
    assert set(rows) == {"first", "second"}
    assert json.loads(rows["second"])["deps:"] == ["out1"]
    # The format is doit's own: a run with the stock backend sees both up to date.
    (root / "dodo.py").write_text((root / "dodo.py").read_text().replace(
        '"skiff-sqlite3"', '"sqlite3"'))
    assert ran(_doit(root, "second").stdout) == {"first": False, "second": False}


def test_a_failed_task_is_forgotten(tmp_path: Path) -> None:
    root = _project(tmp_path, "skiff-sqlite3")
    (root / "dodo.py").write_text((root / "dodo.py").read_text().replace(
        '_die_if_asked]', '_die_if_asked, "test ! -e fail-me"]'))
    assert _doit(root, "second").returncode == 0
    (root / "fail-me").write_text("")
    (root / "input").write_text("changed")
    assert _doit(root, "second").returncode == 1
    rows = dict(sqlite3.connect(root / "state.sqlite3").execute(
        "select task_id, task_data from doit").fetchall())
    assert "second" not in rows
