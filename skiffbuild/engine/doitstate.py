"""doit's sqlite3 state, committed task by task.

doit's own backends keep every change in memory until the run ends, so a
``kill -9`` or an OOM kill forgets every task the run had finished
(reference/doit.md, trap d). ``StateDB`` commits a task's row as soon as
doit has recorded its success (the ``deps:`` entry is always the last one
``Dependency.save_success`` writes) or forgotten it after a failure. One
sqlite transaction per task keeps each row whole, and sqlite merges the
rows of concurrent runs instead of losing one run's state (trap c).

Registered as the doit backend ``skiff-sqlite3`` (entry point group
``doit.BACKEND``); ``tasks.DOIT_CONFIG`` selects it.
"""

from __future__ import annotations

from typing import Any

from doit.dependency import SqliteDB

__all__ = ["StateDB"]

# Another run may be committing: wait for its short transaction instead of failing.
_BUSY_TIMEOUT_MS = 60_000


class StateDB(SqliteDB):
    desc = "sqlite3, each task committed when it finishes"

    def __init__(self, name: str, codec: Any, *, module_name: str | None = None) -> None:
        super().__init__(name, codec, module_name=module_name)
        self._conn.execute(f"pragma busy_timeout = {_BUSY_TIMEOUT_MS}")

    def set(self, task_id: str, dependency: str, value: Any) -> None:
        super().set(task_id, dependency, value)
        if dependency == "deps:":
            self._commit(task_id)

    def remove(self, task_id: str) -> None:
        self._cache.pop(task_id, None)
        self._dirty.discard(task_id)
        with self._conn:
            self._conn.execute("delete from doit where task_id=?", (task_id,))

    def _commit(self, task_id: str) -> None:
        with self._conn:
            self._conn.execute("insert or replace into doit values (?,?)",
                               (task_id, self.codec.encode(self._cache[task_id])))
        self._dirty.discard(task_id)
