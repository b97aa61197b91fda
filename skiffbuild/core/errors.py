"""User-facing errors and exit statuses.

A ``SkiffError`` is a problem the user can fix (bad manifest, missing layer, a
patch that does not apply). It is printed without a traceback, with an
optional hint, and the process exits with ``EXIT_USER``. Anything else that
escapes is a bug and gets a traceback and ``EXIT_INTERNAL``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "EXIT_BUILD",
    "EXIT_INTERNAL",
    "EXIT_USER",
    "BuildError",
    "Problem",
    "ProblemsError",
    "SkiffError",
    "closest",
    "printable",
]

EXIT_USER = 2
EXIT_BUILD = 1
EXIT_INTERNAL = 3

# C0 and C1 controls and DEL, except tab; newlines are escaped too, as the
# text is user data inside one line of a message or listing. An escape sequence
# from a manifest (ESC ] 0 ; title BEL, ESC [ 2 J) must not reach the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters shown as visible escapes (``\\x1b``, ``\\n``)."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class SkiffError(Exception):
    """A problem in the user's input or environment: no traceback, exit 2."""

    exit_status = EXIT_USER

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def render(self) -> str:
        # The message may be several lines (ProblemsError), each of them sanitised already
        # or here: only the line breaks skiffbuild put in survive.
        text = "error: " + "\n".join(printable(line) for line in self.message.split("\n"))
        if self.hint:
            text += "\nhint: " + "\n".join(printable(line) for line in self.hint.split("\n"))
        return text


class BuildError(SkiffError):
    """An external build step (git, make, a hook) failed: exit 1."""

    exit_status = EXIT_BUILD


@dataclass(frozen=True)
class Problem:
    """One located finding: ``file:line: key: message``."""

    file: str
    line: int | None
    key: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.key:
            return printable(f"{where}: {self.key}: {self.message}")
        return printable(f"{where}: {self.message}")


class ProblemsError(SkiffError):
    """Several located problems reported together (all manifest errors of a run)."""

    def __init__(self, problems: Iterable[Problem], hint: str | None = None) -> None:
        self.problems = sorted(
            set(problems), key=lambda p: (p.file, p.line or 0, p.key or "", p.message)
        )
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems), hint)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most similar to ``word``, if any is reasonably close."""
    import difflib

    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None

