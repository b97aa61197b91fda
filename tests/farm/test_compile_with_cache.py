"""compile:<ws>'s choice between the stage cache and a local build, where no store is asked:
offline, a workspace that is not cached, and ``cache pull`` failing instead of building."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.farm.stagecache import compile_with_cache


def _run(tmp_path: Path, environ: dict[str, str], **kw: Any) -> tuple[list[str], list[str]]:
    ws = SimpleNamespace(name="board", paths=SimpleNamespace(sources=tmp_path / "none.json"))
    said: list[str] = []
    built: list[str] = []
    compile_with_cache(ws, SimpleNamespace(), environ,  # type: ignore[arg-type]
                       echo=said.append, build=lambda: built.append("make"), **kw)
    return said, built


STORE = {"SKIFFBUILD_CACHE_URL": "http://127.0.0.1:9/cache"}  # never contacted here


def test_without_a_store_it_only_builds(tmp_path: Path) -> None:
    assert _run(tmp_path, {}, offline=False) == ([], ["make"])
    with pytest.raises(SkiffError, match=r"^no stage cache is configured "
                                         r"\(SKIFFBUILD_CACHE_URL\)$"):
        _run(tmp_path, {}, offline=False, only=True)


def test_offline_it_builds_without_asking(tmp_path: Path) -> None:
    assert _run(tmp_path, STORE, offline=True) == (
        ["compile:board: offline: the stage cache is not asked: building"], ["make"])
    with pytest.raises(BuildError) as info:
        _run(tmp_path, STORE, offline=True, only=True)
    assert info.value.message == ("compile:board: not restored from the stage cache: "
                                  "offline: the stage cache is not asked")


def test_a_workspace_not_cached_is_built(tmp_path: Path) -> None:
    assert _run(tmp_path, STORE, offline=False) == (
        ["compile:board: not cached: its sources are not verified yet: building"], ["make"])
