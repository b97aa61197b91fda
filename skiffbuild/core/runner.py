"""The one way skiffbuild runs external commands.

``run()`` logs the command line, appends all output to a log file, and turns
a failure into one ``BuildError`` that quotes the log's last lines and names
the log. ``build_environment()`` is the scrubbed environment every Buildroot
call gets: nothing from the caller's ``BR2_*``/``CONFIG_``/``KCONFIG_*``
(Buildroot reads those and they silently change results; see
reference/buildroot.md §4 and §7), fixed locale, time zone and umask.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path

from skiffbuild.core.errors import BuildError
from skiffbuild.core.fsutil import held_locks

__all__ = ["build_environment", "run", "tail"]

_DROP_PREFIXES = ("BR2_", "KCONFIG_", "CONFIG_", "SKIFF_")
_DROP_NAMES = {"O", "BUILDROOT_DIR", "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "GNUMAKEFLAGS",
               "CONFIG_", "LANG", "LANGUAGE", "TZ", "PERL_MM_OPT", "PYTHONPATH",
               "LD_LIBRARY_PATH", "CROSS_COMPILE", "ARCH", "CC", "CXX", "CFLAGS",
               "CXXFLAGS", "LDFLAGS", "CPPFLAGS"}


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


def tail(path: Path, lines: int = 20) -> list[str]:
    try:
        with open(path, errors="replace") as f:
            return [line.rstrip("\n") for line in deque(f, maxlen=lines)]
    except OSError:
        return []


def run(argv: Sequence[str | os.PathLike[str]], *, log: Path, cwd: Path | None = None,
        env: Mapping[str, str] | None = None, what: str | None = None,
        umask: int | None = 0o022, capture: bool = False, stdin: Path | None = None) -> str:
    """Run ``argv``, appending its output to ``log``; raise BuildError on failure.

    With ``capture``, standard output is returned instead of logged (standard
    error still goes to the log), for queries such as ``make -s show-info``.
    """
    args = [str(a) for a in argv]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as f:
        f.write(f"\n$ {shlex.join(args)}\n")
        f.flush()
        started = time.monotonic()
        # A umask through the shell, not preexec_fn: doit runs actions in threads,
        # where forking with preexec_fn is unsafe.
        full = args if umask is None else ["sh", "-c", f'umask {umask:03o} && exec "$@"',
                                           "sh", *args]
        try:
            with open(stdin or os.devnull, "rb") as source:
                proc = subprocess.run(full, cwd=cwd, env=dict(env) if env is not None else None,
                                      stdout=subprocess.PIPE if capture else f,
                                      stderr=subprocess.STDOUT if not capture else f,
                                      stdin=source, check=False, pass_fds=held_locks())
        except FileNotFoundError as exc:
            raise BuildError(f"{what or args[0]}: cannot run {args[0]}: {exc.strerror}") from None
        f.write(f"# exit {proc.returncode} after {time.monotonic() - started:.3f}s\n")
    if proc.returncode != 0:
        last = "\n".join(f"  | {line}" for line in tail(log)[:-1])
        raise BuildError(
            f"{what or shlex.join(args)} failed (exit {proc.returncode}); last lines of the log:\n"
            f"{last}\n  full log: {log}"
        )
    return proc.stdout.decode(errors="replace") if capture else ""
