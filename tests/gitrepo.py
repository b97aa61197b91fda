"""Make real git repositories for tests, deterministically.

Every call runs the ``git`` CLI with fixed identities and dates and with the
user's and the system's git config switched off, so commit SHAs are the same on
every machine and nobody's ``~/.gitconfig`` (hooks, signing, autocrlf) leaks in.
Files are given as ``{"relative/path": "text" | b"bytes" | None}``; ``None``
deletes the file.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "DEFAULT_DATE",
    "commit",
    "diff",
    "git",
    "git_env",
    "make_repo",
    "tag",
]

DEFAULT_DATE = "2024-01-01T00:00:00+00:00"

Files = Mapping[str, "str | bytes | None"]


def git_env(date: str = DEFAULT_DATE) -> dict[str, str]:
    """An environment in which git ignores user and system config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Skiff Test",
        GIT_AUTHOR_EMAIL="test@skiffbuild.invalid",
        GIT_COMMITTER_NAME="Skiff Test",
        GIT_COMMITTER_EMAIL="test@skiffbuild.invalid",
        GIT_AUTHOR_DATE=date,
        GIT_COMMITTER_DATE=date,
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
    )
    return env


def git(repo: Path, *args: str, date: str = DEFAULT_DATE) -> str:
    """Run ``git -C repo args...``; return stdout without the trailing newline."""
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        env=git_env(date),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {repo}:\n{result.stderr}")
    return result.stdout.rstrip("\n")


def _write(repo: Path, files: Files) -> None:
    for name, content in files.items():
        path = repo / name
        if content is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def make_repo(
    path: Path,
    files: Files,
    message: str = "initial",
    date: str = DEFAULT_DATE,
    branch: str = "main",
) -> str:
    """Create a repository at ``path`` with one commit of ``files``; return its SHA."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "-c", f"init.defaultBranch={branch}", "init", "--quiet")
    return commit(path, files, message, date)


def commit(repo: Path, files: Files, message: str, date: str = DEFAULT_DATE) -> str:
    """Write ``files`` into the work tree, commit everything, return the new SHA."""
    _write(repo, files)
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD")


def tag(
    repo: Path,
    name: str,
    sha: str,
    message: str | None = None,
    date: str = DEFAULT_DATE,
) -> None:
    """Point tag ``name`` at ``sha`` (moving it if it exists); annotated if ``message``."""
    args = ["tag", "--force"]
    if message is not None:
        args += ["--annotate", "-m", message]
    git(repo, *args, name, sha, date=date)


def diff(repo: Path, old: str, new: str) -> str:
    """A ``git apply``-able patch turning commit ``old`` into commit ``new``."""
    return git(repo, "diff", "--binary", "--full-index", old, new) + "\n"
