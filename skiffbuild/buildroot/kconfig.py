"""Checking merged fragments against the pinned Buildroot's Kconfig.

kconfiglib resolves Buildroot's Kconfig exactly as Buildroot's ``conf`` does
(reference/buildroot.md §5). After Buildroot has written ``<O>/.config`` from
the merged defconfig, every symbol a fragment asked for is compared with the
value it got, and each difference is explained: unknown symbol, unmet
dependency (naming it), selected by another symbol, a choice decided by a
later layer, or an earlier request overridden by a later one.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import sys
import threading
import types
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import kconfiglib

from skiffbuild.core.errors import BuildError, closest
from skiffbuild.core.runner import capture
from skiffbuild.model.fragments import Assignment, Merged, Origin

__all__ = ["ARCH_VALUES", "ERROR_KINDS", "INFO_KINDS", "KINDS", "PLAIN_KINDS", "Finding",
           "architecture_finding", "buildroot_kconfig", "check_merged", "externals_of",
           "kconfig_env"]


# Findings about a layer or board rather than one request: their text is the message.
PLAIN_KINDS = ("layer", "architecture", "unchecked")
# What a finding means to `skiffbuild check`: an error fails it by default, a warning with
# --strict, information (a later layer overriding an earlier one: the point of layering)
# only when --fail-on names its kind.
ERROR_KINDS = ("unknown", "unmet-dependency", "invalid", "architecture")
INFO_KINDS = ("overridden",)
KINDS = ("unknown", "unmet-dependency", "invalid", "architecture", "not-applied", "layer",
         "overridden", "unchecked")

# kconfiglib evaluates a symbol by recursing through what it depends on; asked first for a
# deep symbol of Buildroot's 32-bit ARM configurations it goes past Python's default of
# 1000 frames. Raised once for the process (never lowered: other threads may be deep).
_RECURSION = 20000


@dataclass(frozen=True)
class Finding:
    # unknown | unmet-dependency | not-applied | overridden | invalid (a request),
    # layer (an entry of a layer that has no effect), architecture (board vs .config)
    kind: str
    symbol: str
    requested: str
    actual: str | None
    origin: Origin
    detail: str
    severity: str = "warning"  # "error": config:<ws> fails

    @property
    def level(self) -> str:
        """error, warning or info, for `skiffbuild check` (see ERROR_KINDS)."""
        if self.severity == "error" or self.kind in ERROR_KINDS:
            return "error"
        return "info" if self.kind in INFO_KINDS else "warning"

    def __str__(self) -> str:
        where = self.origin.file if self.origin.line is None else \
            f"{self.origin.file}:{self.origin.line}"
        if self.kind in PLAIN_KINDS:
            return f"{where}: {self.detail}"
        got = "" if self.actual is None else f" (got {self.actual})"
        return f"{where}: {self.symbol}={self.requested} [{self.origin.layer}]: " \
               f"{self.kind}{got}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["origin"] = asdict(self.origin)
        data["text"] = str(self)
        data["level"] = self.level
        return data


def externals_of(output: Path) -> dict[str, str]:
    """``BR2_EXTERNAL_<NAME>_PATH`` values Buildroot recorded in ``<O>/.br2-external.mk``."""
    found = {}
    mk = output / ".br2-external.mk"
    if mk.is_file():
        for line in mk.read_text().splitlines():
            match = re.fullmatch(r"export (BR2_EXTERNAL_[A-Za-z0-9_]+_PATH) = (.*)", line)
            if match:
                found[match.group(1)] = match.group(2)
    return found


@functools.cache
def _host_gcc_version() -> str:
    try:
        out = capture(["gcc", "-dumpversion"])
    except BuildError:
        return "12"
    return out.out.strip().split(".")[0] or "12"


def _buildroot_version(tree: Path) -> str:
    try:
        text = (tree / "Makefile").read_text(errors="replace")
    except OSError:
        return ""
    match = re.search(r"^export BR2_VERSION\s*:=\s*(\S+)", text, re.M)
    return match.group(1) if match else ""


def kconfig_env(tree: Path, output: Path) -> dict[str, str]:
    """The environment kconfiglib needs to read Buildroot's Kconfig like ``conf``."""
    env = {
        "srctree": str(tree),
        "BR2_BASE_DIR": str(output),
        "BR2_VERSION_FULL": _buildroot_version(tree),
        "BR2_VERSION": _buildroot_version(tree),
        "HOSTARCH": os.uname().machine,
        "HOST_GCC_VERSION": _host_gcc_version(),
        "BR2_DEFCONFIG": "",
        "SKIP_LEGACY": "",
        "BR2_HIDE_SECONDARY_TARGET_OPTIONS": "",
        "CONFIG_": "",
        "KCONFIG_CONFIG": str(output / ".config"),
    }
    # Buildroot defaults written in make syntax must stay literal, as conf sees them.
    for name in ("BASE_DIR", "TOPDIR", "CONFIG_DIR", "ARCH", "HOME"):
        env[name] = f"$({name})"
    env.update(externals_of(output))
    return env


# kconfiglib reads its variables through os.getenv, os.environ and
# os.path.expandvars. Setting them in os.environ would be seen by every other
# thread (doit -n N runs tasks as threads): another workspace's make could start
# with HOME="$(HOME)" and stop with "Recursive variable 'HOME' references
# itself". So kconfiglib gets its own view of the environment instead: the
# process environment with this thread's values on top, and os.environ is
# never written.
_overlay = threading.local()


def _lookup(name: str) -> str | None:
    values = getattr(_overlay, "values", None) or {}
    return values[name] if name in values else os.environ.get(name)


class _Environ(Mapping[str, str]):
    def __getitem__(self, name: str) -> str:
        value = _lookup(name)
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter({**os.environ, **(getattr(_overlay, "values", None) or {})})

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _KconfigOs(types.ModuleType):
    """``os`` as kconfiglib sees it: everything from ``os`` but the environment."""

    environ = _Environ()

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    @staticmethod
    def getenv(name: str, default: str | None = None) -> str | None:
        value = _lookup(name)
        return default if value is None else value


def _expandvars(text: str) -> str:
    """os.path.expandvars on the thread's view: $NAME and ${NAME}, unknown ones kept."""
    def one(match: re.Match[str]) -> str:
        value = _lookup(match.group(1) or match.group(2))
        return match.group(0) if value is None else value
    return re.sub(r"\$(?:(\w+)|\{([^}]*)\})", one, text)


kconfiglib.os = _KconfigOs("os")
kconfiglib.expandvars = _expandvars
# One parse at a time all the same: kconfiglib is not known to be thread-safe.
_PARSE_LOCK = threading.Lock()


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    with _PARSE_LOCK:
        _overlay.values = values
        try:
            yield
        finally:
            _overlay.values = None


def _deep_evaluation() -> None:
    """Let kconfiglib recurse as deep as Buildroot's dependency chains go."""
    if sys.getrecursionlimit() < _RECURSION:
        sys.setrecursionlimit(_RECURSION)


def unchecked_finding(error: kconfiglib.KconfigError, tree: Path) -> Finding:
    """kconfiglib refuses some trees Buildroot's own kconfig only warns about (a dependency
    loop an external brings in): the configuration is Buildroot's, but not checked."""
    lines = [line.strip() for line in str(error).splitlines()
             if line.strip() and set(line.strip()) != {"="}]
    first = ": ".join(lines[:2])[:300] or "an error"
    return Finding("unchecked", "", "", None, Origin("skiffbuild", str(tree / "Config.in"), None),
                   f"kconfiglib cannot evaluate this Kconfig tree ({first}); Buildroot "
                   "configured it, but no requested value was checked")


def buildroot_kconfig(tree: Path, output: Path,
                      dotconfig: Path | None = None) -> kconfiglib.Kconfig:
    """Parse the tree's Config.in (and the externals recorded in ``output``), load a config.
    Raises kconfiglib.KconfigError for a tree kconfiglib refuses (``unchecked_finding``)."""
    _deep_evaluation()
    with _environment(kconfig_env(tree, output)):
        kconf = kconfiglib.Kconfig(str(tree / "Config.in"), warn_to_stderr=False)
        if dotconfig is not None:
            kconf.load_config(str(dotconfig), replace=True)
    return kconf


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _same(sym: kconfiglib.Symbol, requested: str, actual: str) -> bool:
    if sym.orig_type == kconfiglib.STRING:
        return _unquote(requested) == actual
    if sym.orig_type in (kconfiglib.INT, kconfiglib.HEX):
        base = 16 if sym.orig_type == kconfiglib.HEX else 10
        try:
            return int(requested, base if base == 10 else 0) == int(actual, base)
        except ValueError:
            return False
    return requested == actual


def _failing(expr: object, op: int) -> list[str]:
    """The operands that decide ``expr``: false ones of an AND, true ones of an OR."""
    parts = kconfiglib.split_expr(expr, op)
    if op == kconfiglib.AND:
        return [_term(p) for p in parts if kconfiglib.expr_value(p) == 0]
    return [_term(p) for p in parts if kconfiglib.expr_value(p)]


def _item(item: Any) -> str:
    """A symbol with its value, or a choice by its prompt (kconfiglib prints "<choice>")."""
    if isinstance(item, kconfiglib.Choice):
        prompts = [node.prompt[0] for node in item.nodes if node.prompt]
        text = f"choice '{prompts[0] if prompts else item.name}'"
        if kconfiglib.expr_value(item.direct_dep) == 0:
            text += " (which depends on " + " && ".join(
                _failing(item.direct_dep, kconfiglib.AND)) + ")"
        return text
    if item.is_constant:
        return item.name
    return f"{item.name} (={item.str_value or 'n'})"


def _term(expr: object) -> str:
    if isinstance(expr, (kconfiglib.Symbol, kconfiglib.Choice)):
        return _item(expr)
    return kconfiglib.expr_str(expr, _item)


def _explain(sym: kconfiglib.Symbol, item: Assignment, merged: Merged) -> tuple[str, str]:
    requested = item.value
    if item.not_set and sym.orig_type not in (kconfiglib.BOOL, kconfiglib.TRISTATE):
        kind = kconfiglib.TYPE_TO_STR[sym.orig_type]
        return "invalid", f"'is not set' has no effect on a {kind} symbol; give it a value"
    choice = sym.choice
    if choice is not None and requested in ("y", "m"):
        selection = choice.selection
        if selection is not None and selection is not sym:
            by = merged.value_of(selection.name)
            prompts = [node.prompt[0] for node in choice.nodes if node.prompt]
            prompt = prompts[0] if prompts else "choice"
            if by is not None and by.value == "y":
                return "overridden", f"choice '{prompt}' set to {selection.name} by {by.origin}"
            if kconfiglib.expr_value(sym.direct_dep) == 0:
                return "unmet-dependency", "depends on " + " && ".join(
                    _failing(sym.direct_dep, kconfiglib.AND))
            return "not-applied", f"choice '{prompt}' resolved to {selection.name}"
    if choice is not None and requested == "n" and sym.str_value == "y":
        return "invalid", ("a choice always has one member selected; "
                           "request the member you want instead")
    if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE) and requested not in ("y", "m", "n"):
        return "invalid", f"{requested!r} is not a valid value for a bool symbol"
    if kconfiglib.expr_value(sym.direct_dep) == 0:
        return "unmet-dependency", "depends on " + " && ".join(
            _failing(sym.direct_dep, kconfiglib.AND))
    if requested == "n" and kconfiglib.expr_value(sym.rev_dep):
        return "not-applied", "selected by " + ", ".join(_failing(sym.rev_dep, kconfiglib.OR))
    if requested in ("y", "m") and sym.visibility == 0:
        conds = [node.prompt[1] for node in sym.nodes if node.prompt]
        failing = [t for c in conds for t in _failing(c, kconfiglib.AND)]
        return "unmet-dependency", "its prompt depends on " + (" && ".join(failing) or "n")
    if sym.orig_type in (kconfiglib.INT, kconfiglib.HEX) and sym.ranges:
        return "not-applied", "value outside the symbol's allowed range"
    return "not-applied", f"Kconfig resolved it to {sym.str_value or 'n'}"


def _actual(sym: kconfiglib.Symbol) -> str:
    if sym.orig_type == kconfiglib.STRING:
        return '"' + sym.str_value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return sym.str_value or "n"


def check_merged(kconf: kconfiglib.Kconfig, merged: Merged) -> list[Finding]:
    """Every request in ``merged`` that did not take effect in the loaded configuration."""
    for sym in kconf.unique_defined_syms:
        # In definition order first: what a symbol depends on is mostly defined before it
        # and then cached, so no single evaluation recurses through a whole chain.
        sym.str_value  # noqa: B018
    findings: list[Finding] = []
    defined = None
    for symbol, chain in merged.history.items():
        final = chain[-1]
        for old in chain[:-1]:
            if old.value != final.value and not final.intended:
                findings.append(Finding("overridden", symbol, old.value, final.value, old.origin,
                                        f"overridden by {final.origin}"))
        sym = kconf.syms.get(symbol)
        if sym is None or not sym.nodes:
            if defined is None:
                defined = [name for name, s in kconf.syms.items() if s.nodes]
            guess = closest(symbol, defined)
            detail = "unknown symbol in this Buildroot"
            if guess:
                detail += f" (did you mean {guess}?)"
            findings.append(Finding("unknown", symbol, final.value, None, final.origin, detail))
            continue
        actual = sym.str_value if sym.orig_type != kconfiglib.UNKNOWN else ""
        requested = "n" if final.not_set else final.value
        if sym.orig_type in (kconfiglib.BOOL, kconfiglib.TRISTATE) and actual == "":
            actual = "n"
        if _same(sym, requested, actual) and not (
                final.not_set and sym.orig_type not in (kconfiglib.BOOL, kconfiglib.TRISTATE)):
            continue
        kind, detail = _explain(sym, final, merged)
        findings.append(Finding(kind, symbol, requested if not final.not_set else "n",
                                _actual(sym), final.origin, detail))
    return findings


# A board's ``architecture:`` (board.schema.json) and the BR2_ARCH values Buildroot gives
# for it (arch/Config.in.*): 32-bit x86 is i486, i586 or i686 by the chosen core.
ARCH_VALUES: dict[str, tuple[str, ...]] = {
    "aarch64": ("aarch64",),
    "arm": ("arm",),
    "x86_64": ("x86_64",),
    "i686": ("i686", "i586", "i486"),
    "riscv64": ("riscv64",),
}


def architecture_finding(kconf: kconfiglib.Kconfig, merged: Merged, architecture: str,
                         where: Origin) -> Finding | None:
    """An error when the resolved ``BR2_ARCH`` is not the board's ``architecture``,
    naming the request that chose the target architecture (or Buildroot's default)."""
    sym = kconf.syms.get("BR2_ARCH")
    actual = sym.str_value if sym is not None else ""
    if not actual or actual in ARCH_VALUES.get(architecture, (architecture,)):
        return None
    chosen = None
    for choice in kconf.choices:
        if choice.selection is not None and any(
                node.prompt and node.prompt[0] == "Target Architecture" for node in choice.nodes):
            chosen = choice.selection.name
    by = merged.value_of(chosen) if chosen else None
    source = (f"{chosen}={by.value} from {by.origin}" if by is not None and chosen
              else f"{chosen or 'the target architecture'} is Buildroot's default: no layer "
                   "chooses the target architecture")
    return Finding("architecture", "BR2_ARCH", architecture, actual, where,
                   f"architecture: the board is {architecture} but its layers configure "
                   f'Buildroot for {actual} (BR2_ARCH="{actual}"; {source})', severity="error")
