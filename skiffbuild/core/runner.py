"""The one way skiffbuild runs external commands (and the only module that uses
``subprocess``).

- ``run()`` logs the command line, appends all output to a log file, and turns
  a failure into one ``BuildError`` that quotes the log's last lines and names
  the log;
- ``capture()`` / ``query()`` run a short command and keep its output
  (``query`` returns standard output and raises, quoting standard error);
- ``git()`` runs git in one clean environment (``git_environment()``);
- ``spawn()`` starts a command whose output the caller reads as it comes
  (make's progress, qemu's console);
- ``call()`` runs a command in the foreground, on the terminal or into a file.

The child's environment is the inherited one with the caller's variables on
top (``extra_env``, and ``unset`` to remove some), or exactly ``env`` when
given. ``build_environment()`` is the scrubbed environment every Buildroot
call gets: nothing from the caller's ``BR2_*``/``CONFIG_``/``KCONFIG_*``
(Buildroot reads those and they silently change results; see
reference/buildroot.md §4 and §7), fixed locale and time zone. A umask is
applied through ``sh -c 'umask NNN && exec "$@"'``, never with preexec_fn:
doit runs actions in threads, where forking with preexec_fn is unsafe.
Logged runs and spawned commands inherit the workspace locks this thread holds.
"""

from __future__ import annotations

import errno
import os
import shlex
import shutil
import subprocess
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

from skiffbuild.core.errors import BuildError
from skiffbuild.core.fsutil import held_locks

__all__ = ["Completed", "build_environment", "call", "capture", "child_environment", "git",
           "git_environment", "minimal_environment", "query", "quote", "run", "spawn", "tail"]

Argv = Sequence[str | os.PathLike[str]]

_DROP_PREFIXES = ("BR2_", "KCONFIG_", "CONFIG_", "SKIFF_")
_DROP_NAMES = {"O", "BUILDROOT_DIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GNUMAKEFLAGS",
               "CONFIG_", "LANG", "LANGUAGE", "TZ", "PERL_MM_OPT", "PYTHONPATH",
               "LD_LIBRARY_PATH", "CROSS_COMPILE", "ARCH", "CC", "CXX", "CFLAGS",
               "CXXFLAGS", "LDFLAGS", "CPPFLAGS"}

# Variables that point git at another repository, object store, index or history
# (``git rev-parse --local-env-vars``, less the command-line config): never inherited.
_GIT_LOCATION = {"GIT_DIR", "GIT_WORK_TREE", "GIT_IMPLICIT_WORK_TREE", "GIT_COMMON_DIR",
                 "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES",
                 "GIT_GRAFT_FILE", "GIT_SHALLOW_FILE", "GIT_NO_REPLACE_OBJECTS",
                 "GIT_REPLACE_REF_BASE", "GIT_PREFIX", "GIT_INTERNAL_SUPER_PREFIX",
                 "GIT_NAMESPACE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
                 "GIT_CONFIG", "GIT_QUARANTINE_PATH"}

_TAIL_LINES = 20


# ---------------------------------------------------------------- environments


def _overlay(base: Mapping[str, str], extra: Mapping[str, str] | None,
             unset: Iterable[str]) -> dict[str, str]:
    names = {u for u in unset if not u.endswith("*")}
    prefixes = tuple(u[:-1] for u in unset if u.endswith("*"))
    env = {k: v for k, v in base.items()
           if k not in names and not (prefixes and k.startswith(prefixes))}
    env.update(extra or {})
    return env


def child_environment(extra: Mapping[str, str] | None = None,
                      unset: Iterable[str] = ()) -> dict[str, str]:
    """The inherited environment without ``unset`` (names; ``"LC_*"`` for a prefix),
    with ``extra`` on top."""
    return _overlay(os.environ, extra, tuple(unset))


def build_environment(extra: Mapping[str, str] | None = None,
                      base: Mapping[str, str] | None = None) -> dict[str, str]:
    source = os.environ if base is None else base
    env = {
        k: v for k, v in source.items()
        if k not in _DROP_NAMES and not k.startswith(_DROP_PREFIXES) and not k.startswith("LC_")
    }
    env.update({"LC_ALL": "C", "TZ": "UTC"})
    if extra:
        env.update(extra)
    return env


def minimal_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Only the inherited ``PATH``, a fixed locale and time zone, and ``extra``: for
    tools whose output must not depend on anything else of the caller's."""
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
           "LC_ALL": "C", "TZ": "UTC"}
    env.update(extra or {})
    return env


def git_environment(*, network: bool = False,
                    extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every git call: English messages, never a password prompt,
    and nothing that points git at another repository (a ``GIT_DIR`` of the caller's).

    Local operations (clone, checkout, apply, pack) read no system or user config
    and no other ``GIT_*`` variable: autocrlf, hooks or filters would change bytes.
    Network operations keep the user's config and transport variables, for
    credentials, proxies, ``insteadOf`` and ``GIT_SSH_COMMAND``.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") or (network and k not in _GIT_LOCATION)}
    env.update({"LC_ALL": "C", "LANGUAGE": "C", "GIT_TERMINAL_PROMPT": "0"})
    if not network:
        env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
                    "GIT_ATTR_NOSYSTEM": "1"})
    env.update(extra or {})
    return env


def _environment(env: Mapping[str, str] | None, extra: Mapping[str, str] | None,
                 unset: Iterable[str]) -> dict[str, str]:
    return _overlay(os.environ if env is None else env, extra, tuple(unset))


# ----------------------------------------------------------------- messages


def tail(path: Path, lines: int = _TAIL_LINES) -> list[str]:
    try:
        with open(path, errors="replace") as f:
            return [line.rstrip("\n") for line in deque(f, maxlen=lines)]
    except OSError:
        return []


def quote(lines: Iterable[str]) -> str:
    """Lines of a log or of error output as every failure message quotes them."""
    return "\n".join(f"  | {line}" for line in lines)


def _cannot_run(what: str | None, program: str, reason: str) -> BuildError:
    return BuildError(f"{what or program}: cannot run {program}: {reason}")


def _check_program(args: list[str], cwd: Path | str | None, env: Mapping[str, str],
                   what: str | None) -> None:
    """Through ``sh -c`` a missing program would be sh's exit 127: say it like
    Python's own "cannot run" instead."""
    program = args[0]
    if "/" in program:
        path = os.path.join(cwd, program) if cwd is not None else program
        if not os.path.isfile(path):
            raise _cannot_run(what, program, os.strerror(errno.ENOENT))
        if not os.access(path, os.X_OK):
            raise _cannot_run(what, program, os.strerror(errno.EACCES))
    elif shutil.which(program, path=env.get("PATH", os.defpath)) is None:
        raise _cannot_run(what, program, os.strerror(errno.ENOENT))


def _with_umask(args: list[str], umask: int | None, cwd: Path | str | None,
                env: Mapping[str, str], what: str | None) -> list[str]:
    if umask is None:
        return args
    _check_program(args, cwd, env, what)
    return ["sh", "-c", f'umask {umask:03o} && exec "$@"', "sh", *args]


# ------------------------------------------------------------------ running


def run(argv: Argv, *, log: Path, cwd: Path | None = None,
        env: Mapping[str, str] | None = None, extra_env: Mapping[str, str] | None = None,
        what: str | None = None, umask: int | None = 0o022, capture: bool = False,
        stdin: Path | None = None) -> str:
    """Run ``argv``, appending its output to ``log``; raise BuildError on failure.

    With ``capture``, standard output is returned instead of logged (standard
    error still goes to the log), for queries such as ``make -s show-info``.
    """
    args = [str(a) for a in argv]
    environ = _environment(env, extra_env, ())
    full = _with_umask(args, umask, cwd, environ, what)
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:
        f.write(f"\n$ {shlex.join(args)}\n")
        f.flush()
        started = time.monotonic()
        try:
            with open(stdin or os.devnull, "rb") as source:
                proc = subprocess.run(full, cwd=cwd, env=environ,
                                      stdout=subprocess.PIPE if capture else f,
                                      stderr=subprocess.STDOUT if not capture else f,
                                      stdin=source, check=False, pass_fds=held_locks())
        except OSError as exc:
            raise _cannot_run(what, args[0], exc.strerror or str(exc)) from None
        f.write(f"# exit {proc.returncode} after {time.monotonic() - started:.3f}s\n")
    if proc.returncode != 0:
        raise BuildError(
            f"{what or shlex.join(args)} failed (exit {proc.returncode}); last lines of the log:\n"
            f"{quote(tail(log)[:-1])}\n  full log: {log}"
        )
    return proc.stdout.decode(errors="replace") if capture else ""


@dataclass(frozen=True)
class Completed:
    """A finished command: its exit status and raw output."""

    argv: tuple[str, ...]
    status: int
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.status == 0

    @property
    def out(self) -> str:
        return self.stdout.decode(errors="replace")

    @property
    def err(self) -> str:
        return self.stderr.decode(errors="replace")

    def failure(self, what: str | None = None) -> BuildError:
        """One readable error: the command, its status, the last lines it wrote."""
        lines = [ln for ln in (self.err or self.out).splitlines() if ln.strip()]
        said = (f"; last lines of its output:\n{quote(lines[-_TAIL_LINES:])}" if lines
                else " without a message")
        return BuildError(f"{what or shlex.join(self.argv)} failed (exit {self.status}){said}")


def capture(argv: Argv, *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            extra_env: Mapping[str, str] | None = None, unset: Iterable[str] = (),
            input: bytes | str | None = None, timeout: float | None = None,
            what: str | None = None, check: bool = False) -> Completed:
    """Run ``argv`` with its output kept. A program that cannot be started or that
    times out is a BuildError; so is a failure with ``check``."""
    args = [str(a) for a in argv]
    data = input.encode() if isinstance(input, str) else input
    try:
        proc = subprocess.run(args, cwd=cwd, env=_environment(env, extra_env, unset),
                              input=data, stdin=subprocess.DEVNULL if data is None else None,
                              capture_output=True, timeout=timeout, check=False)
    except OSError as exc:
        raise _cannot_run(what, args[0], exc.strerror or str(exc)) from None
    except subprocess.TimeoutExpired:
        raise BuildError(f"{what or shlex.join(args)} did not finish within {timeout:g}s") \
            from None
    result = Completed(tuple(args), proc.returncode, proc.stdout, proc.stderr)
    if check and not result.ok:
        raise result.failure(what)
    return result


def query(argv: Argv, *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
          extra_env: Mapping[str, str] | None = None, input: bytes | str | None = None,
          timeout: float | None = None, what: str | None = None) -> str:
    """Standard output of ``argv``; a failure is a BuildError quoting standard error."""
    return capture(argv, cwd=cwd, env=env, extra_env=extra_env, input=input, timeout=timeout,
                   what=what, check=True).out


def git(repo: Path | None, *args: str, input: bytes | str | None = None, check: bool = True,
        network: bool = False, extra_env: Mapping[str, str] | None = None,
        timeout: float | None = None, what: str | None = None) -> Completed:
    """git in ``git_environment()``. With ``repo``: ``git -C repo``, and git may not
    look above ``repo`` for a repository (a broken one never becomes the project's).
    Without: the arguments name the repository (``--git-dir``, ``-C``, a clone's
    paths). ``check``: a failure is a BuildError quoting git's error."""
    extra = dict(extra_env or {})
    argv = ["git", *args]
    if repo is not None:
        where = Path(repo).absolute()
        extra.setdefault("GIT_CEILING_DIRECTORIES", str(where.parent))
        argv = ["git", "-C", str(where), *args]
    result = capture(argv, env=git_environment(network=network, extra=extra), input=input,
                     timeout=timeout, what=what)
    if check and not result.ok:
        place = f" in {repo}" if repo is not None else ""
        raise result.failure(what or f"git {' '.join(args[:2])}{place}")
    return result


@overload
def spawn(argv: Argv, *, cwd: Path | None = ..., env: Mapping[str, str] | None = ...,
          extra_env: Mapping[str, str] | None = ..., umask: int | None = ...,
          text: Literal[False] = ..., pass_fds: Sequence[int] = ...,
          what: str | None = ...) -> subprocess.Popen[bytes]: ...


@overload
def spawn(argv: Argv, *, cwd: Path | None = ..., env: Mapping[str, str] | None = ...,
          extra_env: Mapping[str, str] | None = ..., umask: int | None = ...,
          text: Literal[True], pass_fds: Sequence[int] = ...,
          what: str | None = ...) -> subprocess.Popen[str]: ...


def spawn(argv: Argv, *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
          extra_env: Mapping[str, str] | None = None, umask: int | None = 0o022,
          text: bool = False, pass_fds: Sequence[int] = (),
          what: str | None = None) -> subprocess.Popen[Any]:
    """Start ``argv`` with standard output and error on one pipe (``proc.stdout``),
    standard input empty; the caller reads it and waits. ``pass_fds`` are inherited
    besides the held locks."""
    args = [str(a) for a in argv]
    environ = _environment(env, extra_env, ())
    full = _with_umask(args, umask, cwd, environ, what)
    try:
        return subprocess.Popen(full, cwd=cwd, env=environ, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                text=text, errors="replace" if text else None,
                                pass_fds=(*held_locks(), *pass_fds))
    except OSError as exc:
        raise _cannot_run(what, args[0], exc.strerror or str(exc)) from None


def call(argv: Argv, *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
         extra_env: Mapping[str, str] | None = None, unset: Iterable[str] = (),
         umask: int | None = None, output: Path | None = None,
         what: str | None = None) -> int:
    """Run ``argv`` in the foreground and return its exit status. It uses the terminal,
    or with ``output`` writes standard output and error to that file (replaced) and
    reads nothing."""
    args = [str(a) for a in argv]
    environ = _environment(env, extra_env, unset)
    full = _with_umask(args, umask, cwd, environ, what)
    try:
        if output is None:
            return subprocess.run(full, cwd=cwd, env=environ, check=False).returncode
        with open(output, "w") as out:
            return subprocess.run(full, cwd=cwd, env=environ, stdout=out,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                  check=False).returncode
    except OSError as exc:
        raise _cannot_run(what, args[0], exc.strerror or str(exc)) from None
