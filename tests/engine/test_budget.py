"""skiffbuild.budget: BR2_JLEVEL split among the builds that run at once."""

from __future__ import annotations

import pytest

from skiffbuild.core.errors import SkiffError
from skiffbuild.engine import budget


@pytest.mark.parametrize(("argv", "workers"), [
    (["doit", "image:pi4"], 1),
    (["doit", "-n", "3", "image:pi4"], 3),
    (["doit", "-n4", "image"], 4),
    (["doit", "--process=2", "image"], 2),
    (["doit", "--process", "5", "image"], 5),
    (["doit", "-n", "0", "image"], 1),
    (["doit", "image:-n"], 1),
])
def test_doit_workers(argv: list[str], workers: int) -> None:
    assert budget.doit_workers(argv) == workers


@pytest.mark.parametrize(("cpus", "argv", "selected", "jobs"), [
    ("8", ["doit", "image:pi4"], 1, 8),            # one build: every CPU
    ("8", ["doit", "-n", "2", "image"], 2, 4),      # two at once: half each
    ("8", ["doit", "-n", "4", "image"], 2, 4),      # more workers than builds
    ("8", ["doit", "-n", "2", "image"], 5, 4),      # more builds than workers
    ("2", ["doit", "-n", "3", "image"], 3, 1),      # never below one
    ("8", ["doit", "-n", "2", "image"], None, 4),   # not known: assume every worker builds
])
def test_jlevel_splits_the_budget(cpus: str, argv: list[str], selected: int | None,
                                  jobs: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "_selected_builds", selected)
    assert budget.jlevel({"SKIFFBUILD_CPUS": cpus}, argv) == jobs


def test_a_build_after_the_others_settled_gets_the_whole_budget() -> None:
    argv = ["doit", "-n", "3", "image"]
    env = {"SKIFFBUILD_CPUS": "6"}
    budget.note_concurrent_builds(3)
    assert budget.jlevel(env, argv) == 2
    budget.note_build_settled("compile:a")  # up to date
    assert budget.jlevel(env, argv) == 3
    budget.note_build_settled("compile:a")  # the same task again counts once
    budget.note_build_settled("compile:b")  # finished
    assert budget.jlevel(env, argv) == 6
    budget.note_concurrent_builds(2)  # a new run starts from nothing settled
    assert budget.jlevel(env, argv) == 3
    budget.note_concurrent_builds(0)


def test_default_budget_is_the_usable_cpus() -> None:
    import os

    assert budget.cpu_budget({}) == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_bad_budget_is_a_user_error(value: str) -> None:
    with pytest.raises(SkiffError, match=f"SKIFFBUILD_CPUS='{value}' is not a positive"):
        budget.cpu_budget({"SKIFFBUILD_CPUS": value})
