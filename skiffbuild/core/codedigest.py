"""The digest of skiffbuild's own code: a fact of every task.

What a task makes depends on the code that made it as much as on its inputs:
after an update that changes how images are assembled, an image made by the
old code must not count as up to date. The version string cannot say that (it
does not change with every commit, and an editable install changes under it),
so every task's facts carry this digest instead: every file the package ships
(modules, schemas, data) by name and content. Reading those few dozen small
files costs a few milliseconds per run.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__all__ = ["code_digest"]

_PACKAGE = Path(__file__).resolve().parent.parent


@functools.cache
def code_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(_PACKAGE.rglob("*")):
        if "__pycache__" in path.parts or path.suffix == ".pyc" or not path.is_file():
            continue
        h.update(str(path.relative_to(_PACKAGE)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
