"""The run's settings: read once from the environment and the command line, then passed down.

Every ``SKIFFBUILD_*`` variable is listed in ``VARIABLES`` (name, what it does), and
``process_settings()`` is the only function in skiffbuild that reads the process's
environment or ``sys.argv``. The ``skiffbuild`` command and ``dodo.py`` call it once and
hand the frozen ``Settings`` to what they run; a module that needs a value takes it as a
parameter, so a test (or ``skiffbuild check`` running doit in-process) can run a task
with settings of its own without touching ``os.environ``. What child processes inherit
is the runner's business (``core.runner``), not this module's.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from skiffbuild.core.errors import SkiffError

__all__ = ["ENV_CACHE_SIGN", "ENV_CACHE_TRUST", "ENV_CACHE_URL", "ENV_CPUS",
           "ENV_DOWNLOAD_LIMIT", "ENV_JOBS", "ENV_LAYER_PATH", "ENV_MAKE_ARGS", "ENV_MIRRORS",
           "ENV_OFFLINE", "ENV_PRIMARY_SITE", "ENV_PROJECT", "ENV_QUIET",
           "ENV_STRICT", "VARIABLES", "Settings", "Variable", "doit_option", "doit_workers",
           "flag", "process_settings"]


@dataclass(frozen=True)
class Variable:
    name: str
    help: str


ENV_PROJECT = "SKIFFBUILD_PROJECT"
ENV_LAYER_PATH = "SKIFFBUILD_LAYER_PATH"
ENV_MIRRORS = "SKIFFBUILD_MIRRORS"
ENV_OFFLINE = "SKIFFBUILD_OFFLINE"
ENV_PRIMARY_SITE = "SKIFFBUILD_PRIMARY_SITE"
ENV_JOBS = "SKIFFBUILD_DOWNLOAD_JOBS"
ENV_DOWNLOAD_LIMIT = "SKIFFBUILD_DOWNLOAD_LIMIT_MB"
ENV_MAKE_ARGS = "SKIFFBUILD_MAKE_ARGS"
ENV_STRICT = "SKIFFBUILD_STRICT"
ENV_QUIET = "SKIFFBUILD_QUIET_FINDINGS"
ENV_CPUS = "SKIFFBUILD_CPUS"
ENV_CACHE_URL = "SKIFFBUILD_CACHE_URL"
ENV_CACHE_TRUST = "SKIFFBUILD_CACHE_TRUST"
ENV_CACHE_SIGN = "SKIFFBUILD_CACHE_SIGN"

# The one table of what skiffbuild reads from its environment.
VARIABLES: tuple[Variable, ...] = (
    Variable(ENV_PROJECT, "the project root (default: the nearest with manifests/boards/)"),
    Variable(ENV_LAYER_PATH, "extra layer roots, ':'-separated, searched before layers/"),
    Variable(ENV_MIRRORS, "a mirror map (YAML): upstream URLs to local mirrors"),
    Variable(ENV_OFFLINE, "1: never touch the network (also: --offline)"),
    Variable(ENV_PRIMARY_SITE, "a download site tried before the packages' own sites"),
    Variable(ENV_JOBS, "downloads at once (default 4)"),
    Variable(ENV_DOWNLOAD_LIMIT, "size cap in MiB of a download the lock does not size"),
    Variable(ENV_MAKE_ARGS, "extra arguments for Buildroot's make (debugging, tests)"),
    Variable(ENV_STRICT, "1: config:<ws> fails on findings"),
    Variable(ENV_QUIET, "1: config:<ws> keeps its findings to its report (set by check)"),
    Variable(ENV_CPUS, "CPUs the builds of one run share (default: those this process may use)"),
    Variable(ENV_CACHE_URL, "the shared stage cache (http://...): compile:<ws> restores from it"),
    Variable(ENV_CACHE_TRUST, "':'-separated Ed25519 public keys whose cache entries are trusted"),
    Variable(ENV_CACHE_SIGN, "Ed25519 private key: this builder publishes what it compiles"),
)


def flag(environ: Mapping[str, str], name: str) -> bool:
    """An on/off environment switch: set and not "0" means on."""
    return environ.get(name, "") not in ("", "0")


def doit_option(argv: Sequence[str], short: str, long: str) -> str | None:
    """The last value of a doit option on a command line: ``-n 2``, ``-n2``, ``--process 2``
    or ``--process=2`` (``short`` is ``-n``, ``long`` is ``--process``)."""
    value = None
    for i, arg in enumerate(argv):
        if arg in (short, long) and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(f"{long}="):
            value = arg.split("=", 1)[1]
        elif arg.startswith(short) and len(arg) > len(short):
            value = arg[len(short):]
    return value


def doit_workers(argv: Sequence[str]) -> int:
    """doit's ``-n N`` / ``--process=N`` from a command line (1 without it)."""
    value = doit_option(argv, "-n", "--process")
    return max(1, int(value)) if value is not None and value.isdigit() else 1


def _frozen(environ: Mapping[str, str]) -> Mapping[str, str]:
    return types.MappingProxyType(dict(environ))


@dataclass(frozen=True)
class Settings:
    """What one run of skiffbuild was asked to do, beyond its task list."""

    environ: Mapping[str, str] = field(default_factory=lambda: _frozen({}))
    command: tuple[str, ...] = ()  # the command line, for messages ("in use by … doit …")
    offline: bool = False  # never touch the network
    strict: bool = False  # config:<ws> fails on findings
    quiet: bool = False  # config:<ws> keeps its findings to its report
    workers: int = 1  # doit -n: task actions at once
    process_pool: bool = False  # doit -P process: actions in worker processes
    cache_only: bool = False  # compile:<ws> restores from the stage cache or fails (cache pull)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], argv: Sequence[str] = (),
                         command: Sequence[str] | None = None) -> Settings:
        """Settings from an environment and a doit command line (``argv`` without the
        program name). ``--offline`` after any task name counts: doit hands a task option
        only to the task it follows, not to the tasks that one depends on."""
        args = list(argv)
        return cls(environ=_frozen(environ),
                   command=tuple(command) if command is not None else ("doit", *args),
                   offline="--offline" in args or flag(environ, ENV_OFFLINE),
                   strict=flag(environ, ENV_STRICT), quiet=flag(environ, ENV_QUIET),
                   workers=doit_workers(args),
                   process_pool=doit_option(args, "-P", "--parallel-type") == "process")

    def replace(self, **changes: object) -> Settings:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def get(self, name: str, default: str = "") -> str:
        return self.environ.get(name, default)

    @property
    def cpus(self) -> int:
        """The CPU budget of the run's Buildroot builds."""
        value = self.get(ENV_CPUS).strip()
        if value:
            if not value.isdigit() or int(value) < 1:
                raise SkiffError(f"{ENV_CPUS}={value!r} is not a positive number of CPUs")
            return int(value)
        return len(os.sched_getaffinity(0))


def process_settings(argv: Sequence[str] | None = None) -> Settings:
    """This process's settings: its environment and (by default) its command line."""
    args = sys.argv[1:] if argv is None else argv
    return Settings.from_environment(os.environ, args,
                                     (os.path.basename(sys.argv[0]) or "skiffbuild", *args))
