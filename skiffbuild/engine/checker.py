"""doit's file checker for skiffbuild: content, not mtimes.

doit's md5 checker trusts an unchanged mtime, which clamped or restored
mtimes defeat (reference/doit.md, trap a). This one trusts only an unchanged
(mtime_ns, ctime_ns, size, inode) — ctime cannot be set from user space — and
otherwise compares sha256 of the content.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from doit.dependency import FileChangedChecker

from skiffbuild.core.fsutil import sha256_file, stat_key

__all__ = ["ContentChecker"]


class ContentChecker(FileChangedChecker):
    def check_modified(self, file_path: str, file_stat: os.stat_result, state: list[Any]) -> bool:
        fast, digest = state[:4], state[4]
        if stat_key(file_stat) == list(fast):
            return False
        if file_stat.st_size != fast[2]:
            return True
        return digest != sha256_file(Path(file_path))

    def get_state(self, dep: str, current_state: list[Any] | None) -> list[Any] | None:
        stat = os.stat(dep)
        if current_state and stat_key(stat) == list(current_state[:4]):
            return None
        return [*stat_key(stat), sha256_file(Path(dep))]
