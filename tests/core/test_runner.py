"""The subprocess helper: scrubbed environment, logging, one readable failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from skiffbuild.core.errors import BuildError
from skiffbuild.core.runner import (
    build_environment,
    call,
    capture,
    child_environment,
    git,
    git_environment,
    query,
    run,
    spawn,
)


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


def test_missing_program_through_the_umask_shell(tmp_path: Path) -> None:
    # Not sh's "exec: not found" and exit 127: the same message as without a umask.
    with pytest.raises(BuildError) as info:
        run(["no-such-tool-skiffbuild"], log=tmp_path / "x.log", what="the step")
    assert info.value.message == "the step: cannot run no-such-tool-skiffbuild: " \
                                 "No such file or directory"


def test_query_returns_stdout_and_quotes_stderr_on_failure() -> None:
    assert query(["sh", "-c", "echo out; echo noise >&2"]) == "out\n"
    assert query(["cat"], input="fed\n") == "fed\n"
    with pytest.raises(BuildError) as info:
        query(["sh", "-c", "echo out; for i in $(seq 1 25); do echo err $i >&2; done; exit 4"],
              what="the query")
    lines = info.value.message.splitlines()
    assert lines[0] == "the query failed (exit 4); last lines of its output:"
    assert lines[1:] == [f"  | err {i}" for i in range(6, 26)]
    with pytest.raises(BuildError) as info:
        query(["sh", "-c", "exit 2"])
    assert info.value.message == "sh -c 'exit 2' failed (exit 2) without a message"


def test_capture_does_not_raise_on_failure_but_on_timeout() -> None:
    result = capture(["sh", "-c", "printf 'a\\0b'; echo e >&2; exit 3"])
    assert (result.status, result.ok, result.stdout, result.err) == (3, False, b"a\0b", "e\n")
    with pytest.raises(BuildError) as info:
        capture(["sleep", "5"], timeout=0.2)
    assert info.value.message == "sleep 5 did not finish within 0.2s"


def test_environment_overlay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKIFF_TEST_KEEP", "kept")
    monkeypatch.setenv("SKIFF_TEST_DROP", "dropped")
    monkeypatch.setenv("LC_SKIFF_TEST", "dropped")
    out = query(["sh", "-c", 'echo "$SKIFF_TEST_KEEP ${SKIFF_TEST_DROP-unset} '
                             '${LC_SKIFF_TEST-unset} $SKIFF_TEST_NEW"'],
                extra_env={"SKIFF_TEST_NEW": "new"})
    assert out == "kept dropped dropped new\n"
    env = child_environment({"SKIFF_TEST_NEW": "new"}, unset=("SKIFF_TEST_DROP", "LC_*"))
    assert (env["SKIFF_TEST_KEEP"], env["SKIFF_TEST_NEW"]) == ("kept", "new")
    assert "SKIFF_TEST_DROP" not in env and "LC_SKIFF_TEST" not in env


def _git_repo(path: Path) -> Path:
    git(None, "init", "-q", str(path))
    return path


def test_git_ignores_a_hostile_git_dir_and_user_config(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _git_repo(tmp_path / "repo")
    hostile = _git_repo(tmp_path / "hostile")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = From Home\n")
    global_config = tmp_path / "global.gitconfig"
    global_config.write_text("[user]\n\tname = From Global\n[core]\n\tabbrev = 20\n")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_DIR", str(hostile / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(hostile))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(global_config))
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "user.email")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "from@env")
    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    found = git(repo, "rev-parse", "--absolute-git-dir").out.strip()
    assert found == str((repo / ".git").resolve())
    assert not git(repo, "config", "user.name", check=False).ok
    assert not git(repo, "config", "user.email", check=False).ok
    # Network operations keep the user's config (credentials, proxies, insteadOf),
    # never the variables that point at another repository.
    assert git(repo, "config", "user.name", network=True).out == "From Global\n"
    assert git(repo, "config", "user.email", network=True).out == "from@env\n"
    assert git(repo, "rev-parse", "--absolute-git-dir", network=True).out.strip() == found
    env = git_environment()
    assert (env["LC_ALL"], env["GIT_TERMINAL_PROMPT"]) == ("C", "0")
    assert not any(k.startswith("GIT_") for k in env
                   if k not in ("GIT_TERMINAL_PROMPT", "GIT_CONFIG_NOSYSTEM",
                                "GIT_CONFIG_GLOBAL", "GIT_ATTR_NOSYSTEM"))


def test_git_does_not_look_above_the_named_repository(tmp_path: Path) -> None:
    _git_repo(tmp_path)
    (tmp_path / "broken").mkdir()  # not a repository: must not become the enclosing one
    result = git(tmp_path / "broken", "rev-parse", "--git-dir", check=False)
    assert not result.ok
    with pytest.raises(BuildError) as info:
        git(tmp_path / "broken", "rev-parse", "--git-dir")
    lines = info.value.message.splitlines()
    assert lines[0] == f"git rev-parse --git-dir in {tmp_path / 'broken'} failed (exit 128); " \
                       "last lines of its output:"
    assert lines[1].startswith("  | fatal: not a git repository")


def test_spawn_applies_the_umask_and_merges_output(tmp_path: Path) -> None:
    proc = spawn(["sh", "-c", "umask; echo err >&2"], umask=0o027, text=True)
    assert proc.stdout is not None
    assert proc.stdout.read().splitlines() == ["0027", "err"]
    assert proc.wait() == 0
    proc = spawn(["sh", "-c", "umask"])
    assert proc.stdout is not None
    assert proc.stdout.read() == b"0022\n"
    proc.wait()
    with pytest.raises(BuildError) as info:
        spawn(["no-such-tool-skiffbuild"], what="boot")
    assert info.value.message == "boot: cannot run no-such-tool-skiffbuild: " \
                                 "No such file or directory"


def test_call_writes_to_a_file_with_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "out.log"
    status = call(["sh", "-c", 'umask; echo "$SKIFF_TEST_X"; exit 5'], umask=0o077,
                  extra_env={"SKIFF_TEST_X": "x"}, output=out)
    assert status == 5
    assert out.read_text() == "0077\nx\n"
    with pytest.raises(BuildError) as info:
        call(["/nonexistent/tool"], what="layer/cmd")
    assert info.value.message == "layer/cmd: cannot run /nonexistent/tool: " \
                                 "No such file or directory"
