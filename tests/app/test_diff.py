"""`skiffbuild diff`: two boards or two pins, compared symbol by symbol."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from conftest import DoitProject, PinnedTree, copy_testtree, make_doit_project
from projectfiles import board_yaml, layer_yaml, write_files

from skiffbuild.app.cli import main
from skiffbuild.app.commands_diff import PLACEHOLDER, Row, Side, compare, normalise, render_table
from skiffbuild.app.testtree import create_testtree_repo

WGET = 'default "wget -nd -t 3 --connect-timeout=10"'
GONE = "0123456789abcdef0123456789abcdef01234567"
HOSTNAME = Row("BR2_TARGET_GENERIC_HOSTNAME", '"one"', '"two"', "test/one", "test/two")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, testtree: PinnedTree) -> DoitProject:
    """Boards `one` and `two`: virt/qemu plus a layer each that sets the host name; and a
    second pin, `next`, on a copy of the test tree whose BR2_WGET default differs."""
    base = tmp_path_factory.mktemp("diff")
    project = make_doit_project(base / "project", testtree, boards={
        "one": board_yaml(["virt/qemu", "test/one"]),
        "two": board_yaml(["virt/qemu", "test/two"]),
    })
    write_files(project.root, {
        "layers/test/one/layer.yaml": layer_yaml("host name one", ["skiff/base"]),
        "layers/test/one/buildroot/10-name": 'BR2_TARGET_GENERIC_HOSTNAME="one"\n',
        "layers/test/two/layer.yaml": layer_yaml("host name two", ["skiff/base"]),
        "layers/test/two/buildroot/10-name": 'BR2_TARGET_GENERIC_HOSTNAME="two"\n',
    })
    source = copy_testtree(base / "next-source")
    config_in = source / "Config.in"
    assert WGET in config_in.read_text()
    config_in.write_text(config_in.read_text().replace(WGET, 'default "wget -nd -t 5"'))
    sha = create_testtree_repo(base / "next", source=source)
    (project.root / "manifests" / "next.yaml").write_text(
        f"format: 1\nurl: {base / 'next'}\ncommit: {sha}\n")
    return project


def _json(project: DoitProject, *args: str) -> list[dict[str, str | None]]:
    result = project.skiffbuild("diff", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                       p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_boards_one_fragment_value_with_the_layers_that_set_it(
        project: DoitProject) -> None:
    result = project.skiffbuild("diff", "one", "two")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "symbol                       A: one  B: two  origin A  origin B",
        'BR2_TARGET_GENERIC_HOSTNAME  "one"   "two"   test/one  test/two',
        "1 symbol(s) differ between one and two (paths inside each workspace compared as "
        "workspaces/<ws>/)",
    ]
    assert "Traceback" not in result.stderr
    assert _json(project, "one", "two") == [HOSTNAME.to_json()]


def test_paths_inside_each_workspace_are_not_differences(project: DoitProject) -> None:
    # The .config files do name each workspace's own files (the generated hook scripts,
    # the kernel fragment, the defconfig): only the host name differs above.
    _json(project, "one", "two")
    configs = {name: (project.root / "workspaces" / name / "output" / ".config").read_text()
               for name in ("one", "two")}
    for name, text in configs.items():
        assert (f'BR2_ROOTFS_POST_BUILD_SCRIPT="{project.root}/workspaces/{name}/config/'
                'post-build.sh"') in text.splitlines()
    help_text = project.skiffbuild("diff", "--help").stdout
    assert "workspaces/<ws>/" in " ".join(help_text.split())


def test_exit_status_is_zero_unless_exit_code(project: DoitProject) -> None:
    assert project.skiffbuild("diff", "one", "two").returncode == 0
    different = project.skiffbuild("diff", "--exit-code", "one", "two")
    assert different.returncode == 1, different.stderr
    same = project.skiffbuild("diff", "--exit-code", "one", "one")
    assert same.returncode == 0, same.stderr
    assert same.stdout == ("no differences between one and one (paths inside each workspace "
                           "compared as workspaces/<ws>/)\n")


def test_unknown_board_is_a_user_error_with_a_suggestion(project: DoitProject) -> None:
    result = project.skiffbuild("diff", "one", "pi5")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: 1 problem found:",
        "  manifests/boards: unknown workspace 'pi5' (did you mean 'pi4'?)"]


def test_a_second_side_is_required(project: DoitProject) -> None:
    result = project.skiffbuild("diff", "one")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == \
        "error: nothing to compare with: give a second workspace or --pin PIN"
    both = project.skiffbuild("diff", "one", "two", "--pin", "next")
    assert both.returncode == 2
    assert both.stderr.startswith("error: give either a second workspace or --pin, not both\n")


@pytest.mark.slow  # over 2 s: out of the fast tier, still in CI
def test_another_pin_in_a_scratch_workspace(project: DoitProject) -> None:
    # The real workspace, configured first; the comparison must not touch it.
    assert project.skiffbuild("diff", "one", "one").returncode == 0
    real = project.root / "workspaces" / "one"
    before = _snapshot(real)
    result = project.skiffbuild("diff", "one", "--pin", "next")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "symbol    A: one@buildroot                  B: one@next      origin A  origin B",
        'BR2_WGET  "wget -nd -t 3 --connect-timeout=10"  "wget -nd -t 5"  -         -',
        "1 symbol(s) differ between one@buildroot and one@next (paths inside each workspace "
        "compared as workspaces/<ws>/)",
    ]
    assert "diff: one on pin 'next' configured in workspaces/.diff/next/one/\n" in result.stderr
    assert _json(project, "one", "--pin", "next") == [
        {"symbol": "BR2_WGET", "a": '"wget -nd -t 3 --connect-timeout=10"',
         "b": '"wget -nd -t 5"', "origin_a": None, "origin_b": None}]
    assert _snapshot(real) == before
    scratch = project.root / "workspaces" / ".diff" / "next" / "one"
    assert 'BR2_WGET="wget -nd -t 5"' in (scratch / "output" / ".config").read_text()
    assert project.skiffbuild("diff", "--exit-code", "one", "--pin", "next").returncode == 1
    # The same pin as the workspace's own: nothing differs (its paths neither).
    assert _json(project, "one", "--pin", "buildroot") == []


def test_a_pin_that_does_not_know_a_requested_symbol(project: DoitProject,
                                                     tmp_path: Path) -> None:
    # config: would fail on that pin (an unknown symbol): the point of comparing pins, so
    # it is said and the comparison made.
    source = copy_testtree(tmp_path / "source")
    system = source / "system" / "Config.in"
    system.write_text(system.read_text().replace("config BR2_TARGET_GENERIC_HOSTNAME\n",
                                                 "config BR2_TARGET_GENERIC_HOST_NAME\n"))
    sha = create_testtree_repo(tmp_path / "renamed", source=source)
    pin = project.root / "manifests" / "renamed.yaml"
    pin.write_text(f"format: 1\nurl: {tmp_path / 'renamed'}\ncommit: {sha}\n")
    try:
        result = project.skiffbuild("diff", "--json", "one", "--pin", "renamed")
    finally:
        pin.unlink()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"symbol": "BR2_TARGET_GENERIC_HOST_NAME", "a": None, "b": '"buildroot"',
         "origin_a": None, "origin_b": None},
        {"symbol": "BR2_TARGET_GENERIC_HOSTNAME", "a": '"one"', "b": None,
         "origin_a": "test/one", "origin_b": None}]
    warning = result.stderr.split("warning: ")[1].splitlines()
    assert warning[0] == ("one on pin 'renamed': errors `skiffbuild check` would fail on; "
                          "compared anyway:")
    assert [line for line in warning[1:] if line.startswith("  ")] == [
        '  layers/test/one/buildroot/10-name:1: BR2_TARGET_GENERIC_HOSTNAME="one" [test/one]: '
        "unknown: unknown symbol in this Buildroot (did you mean BR2_TARGET_GENERIC_HOST_NAME?)"]


def test_unknown_or_unfetchable_pin_is_a_user_error(project: DoitProject,
                                                    tmp_path: Path) -> None:
    missing = project.skiffbuild("diff", "one", "--pin", "nxt")
    assert missing.returncode == 2
    assert missing.stderr.splitlines() == [
        "error: no Buildroot pin manifests/nxt.yaml",
        "hint: did you mean 'next'? the pins: buildroot, next"]
    outside = project.skiffbuild("diff", "one", "--pin", "../manifests/next")
    assert outside.returncode == 2
    assert outside.stderr.startswith("error: no Buildroot pin manifests/../manifests/next.yaml\n")
    (project.root / "manifests" / "gone.yaml").write_text(
        f"format: 1\nurl: {tmp_path / 'missing.git'}\ncommit: {GONE}\n")
    offline = DoitProject(project.root, {**project.env, "SKIFFBUILD_OFFLINE": "1"})
    try:
        gone = project.skiffbuild("diff", "one", "--pin", "gone")
        refused = offline.skiffbuild("diff", "one", "--pin", "gone")
    finally:
        (project.root / "manifests" / "gone.yaml").unlink()
    assert gone.returncode == 2
    assert gone.stderr.startswith(
        f"error: cannot fetch Buildroot pin 'gone' ({tmp_path / 'missing.git'} @ {GONE[:12]}): "
        f"cannot get commit {GONE} of {tmp_path / 'missing.git'}")
    assert "Traceback" not in gone.stderr
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        f"error: the Buildroot tree of pin 'gone' ({tmp_path / 'missing.git'} @ {GONE[:12]}) is "
        "not in the cache, and offline nothing is fetched",
        "hint: run this once online (without SKIFFBUILD_OFFLINE) to fetch it"]
    assert not (project.root / "workspaces" / ".diff" / "gone").exists()


def test_help_has_a_description_and_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["diff", "--help"])
    assert exit_.value.code == 0
    usage, description, *rest = capsys.readouterr().out.split("\n\n")
    assert usage.startswith("usage: skiffbuild diff ")
    assert "--exit-code" in description and "--all" in description
    examples = rest[-1].splitlines()
    assert examples[:2] == ["examples:", "  skiffbuild diff qemu-x86_64 pi4"]


# ------------------------------------------------------------ the pure functions


def test_normalise_only_the_workspace_itself() -> None:
    value = '"/p/workspaces/pi/config/post-build.sh /p/workspaces/pi4/x workspaces/pi"'
    assert normalise(value, "pi") == \
        f'"/p/{PLACEHOLDER}/config/post-build.sh /p/workspaces/pi4/x {PLACEHOLDER}"'
    scratch = Path("/p/workspaces/.diff/next/pi")
    assert normalise(f'"{scratch}/config/a.sh"', "pi", scratch, Path("/p/workspaces/pi")) == \
        f'"/p/{PLACEHOLDER}/config/a.sh"'


def test_compare_hides_one_sided_off_symbols_unless_all() -> None:
    a = Side("a", {"BR2_A": "y", "BR2_ONLY_A_OFF": "n", "BR2_S": '"x"', "BR2_ONLY_A": "y"},
             {"BR2_A": "layer/a", "BR2_ONLY_A": "layer/a"})
    b = Side("b", {"BR2_A": "n", "BR2_S": '"x"', "BR2_ONLY_B_EMPTY": '""'}, {})
    rows, hidden = compare(a, b)
    assert (rows, hidden) == ([Row("BR2_A", "y", "n", "layer/a", None),
                               Row("BR2_ONLY_A", "y", None, "layer/a", None)], 2)
    rows, hidden = compare(a, b, everything=True)
    # In .config order: a symbol of one side only after the one it follows there.
    assert [row.symbol for row in rows] == ["BR2_A", "BR2_ONLY_A_OFF", "BR2_ONLY_B_EMPTY",
                                            "BR2_ONLY_A"]
    assert hidden == 0
    assert render_table(rows[:2], "a", "b") == [
        "symbol          A: a  B: b      origin A  origin B",
        "BR2_A           y     n         layer/a   -",
        "BR2_ONLY_A_OFF  n     (absent)  -         -"]
