"""The subprocess helper: scrubbed environment, logging, one readable failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from skiffbuild.core.errors import BuildError
from skiffbuild.core.runner import build_environment, run


def test_environment_is_scrubbed() -> None:
    env = build_environment(base={"PATH": "/usr/bin", "BR2_DL_DIR": "/x", "BR2_EXTERNAL": "/y",
                                  "CONFIG_": "BR2_", "KCONFIG_CONFIG": "z", "LANG": "de_DE",
                                  "LC_TIME": "de_DE", "TZ": "Asia/Kolkata", "MAKEFLAGS": "-j9",
                                  "HOME": "/root"})
    assert env == {"PATH": "/usr/bin", "HOME": "/root", "LC_ALL": "C", "TZ": "UTC"}


def test_run_logs_and_applies_umask(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "x.log"
    run(["sh", "-c", "umask; echo hello"], log=log, umask=0o027)
    lines = log.read_text().splitlines()
    assert lines[1:4] == ["$ sh -c 'umask; echo hello'", "0027", "hello"]
    assert lines[4].startswith("# exit 0 after ")


def test_failure_quotes_the_log_tail(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    with pytest.raises(BuildError) as info:
        run(["sh", "-c", "for i in $(seq 1 30); do echo line $i; done; exit 3"], log=log,
            what="the thing")
    lines = info.value.message.splitlines()
    assert lines[0] == "the thing failed (exit 3); last lines of the log:"
    assert lines[1:3] == ["  | line 12", "  | line 13"]
    assert lines[-2:] == ["  | line 30", f"  full log: {log}"]


def test_missing_program(tmp_path: Path) -> None:
    with pytest.raises(BuildError) as info:
        run(["/nonexistent/tool"], log=tmp_path / "x.log", umask=None)
    assert info.value.message == "/nonexistent/tool: cannot run /nonexistent/tool: " \
                                 "No such file or directory"
