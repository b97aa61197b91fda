"""skiffbuild.engine.budget: BR2_JLEVEL split among the builds that run at once."""

from __future__ import annotations

import os

import pytest

from skiffbuild.core.errors import SkiffError
from skiffbuild.core.settings import Settings, doit_workers
from skiffbuild.engine.budget import CpuBudget


def settings(cpus: str | None, argv: list[str]) -> Settings:
    return Settings.from_environment({} if cpus is None else {"SKIFFBUILD_CPUS": cpus}, argv)


@pytest.mark.parametrize(("argv", "workers"), [
    (["image:pi4"], 1),
    (["-n", "3", "image:pi4"], 3),
    (["-n4", "image"], 4),
    (["--process=2", "image"], 2),
    (["--process", "5", "image"], 5),
    (["-n", "0", "image"], 1),
    (["image:-n"], 1),
])
def test_doit_workers(argv: list[str], workers: int) -> None:
    assert doit_workers(argv) == workers
    assert settings(None, argv).workers == workers


@pytest.mark.parametrize(("cpus", "argv", "selected", "jobs"), [
    ("8", ["image:pi4"], 1, 8),            # one build: every CPU
    ("8", ["-n", "2", "image"], 2, 4),      # two at once: half each
    ("8", ["-n", "4", "image"], 2, 4),      # more workers than builds
    ("8", ["-n", "2", "image"], 5, 4),      # more builds than workers
    ("2", ["-n", "3", "image"], 3, 1),      # never below one
    ("8", ["-n", "2", "image"], None, 4),   # not known: assume every worker builds
])
def test_jlevel_splits_the_budget(cpus: str, argv: list[str], selected: int | None,
                                  jobs: int) -> None:
    budget = CpuBudget(settings(cpus, argv))
    if selected is not None:
        budget.selected(selected)
    assert budget.jlevel() == jobs


def test_a_build_after_the_others_settled_gets_the_whole_budget() -> None:
    budget = CpuBudget(settings("6", ["-n", "3", "image"]))
    budget.selected(3)
    assert budget.jlevel() == 2
    budget.settled("compile:a")  # up to date
    assert budget.jlevel() == 3
    budget.settled("compile:a")  # the same task again counts once
    budget.settled("compile:b")  # finished
    assert budget.jlevel() == 6
    budget.selected(2)  # a new run starts from nothing settled
    assert budget.jlevel() == 3


def test_two_runs_in_one_process_do_not_share_a_budget() -> None:
    first, second = (CpuBudget(settings("8", ["-n", "2", "image"])) for _ in range(2))
    first.selected(2)
    first.settled("compile:a")
    assert first.jlevel() == 8
    assert second.jlevel() == 4


def test_default_budget_is_the_usable_cpus() -> None:
    assert settings(None, []).cpus == len(os.sched_getaffinity(0))


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_bad_budget_is_a_user_error(value: str) -> None:
    with pytest.raises(SkiffError, match=f"SKIFFBUILD_CPUS='{value}' is not a positive"):
        _ = settings(value, []).cpus
