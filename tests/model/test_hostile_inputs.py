"""Hostile manifests and layer trees (issue 12): paths leaving their place,
special or host files as fragments and hooks, YAML that explodes.

Each is refused at load with ``file:line: key: message`` and exit 2, in
bounded time, without a traceback and without printing a host file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from projectfiles import board_yaml, layer_yaml, write_project

from skiffbuild.core.errors import ProblemsError
from skiffbuild.core.project import Project
from skiffbuild.model.fragments import parse_fragment
from skiffbuild.model.plan import load_plan

ROOT = Path(__file__).resolve().parents[2]
BASE = {"layers/a/b/layer.yaml": layer_yaml("A")}
SECRET = "s3cr3t-line-of-a-host-file"


def problems_of(root: Path, files: dict[str, str | None],
                base: dict[str, str] = BASE) -> list[str]:
    """The located problems loading a project of ``base`` and ``files`` reports."""
    write_project(root, {**base, **files})
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(root))
    return [str(p) for p in info.value.problems]


def check(root: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``skiffbuild check`` in a child: a crash or hang must not take pytest with it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SKIFFBUILD_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "skiffbuild", "check"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def host_file(tmp_path: Path) -> Path:
    """A file outside the project standing for /etc/shadow."""
    secret = tmp_path / "host" / "shadow"
    secret.parent.mkdir()
    secret.write_text(f"{SECRET}\nroot:$6$hash:19000:0:99999:7:::\n")
    return secret


# -- paths leaving their place -----------------------------------------------------------------

def contents_board(source: str, destination: str = "/") -> str:
    return board_yaml(["a/b"]).replace(
        "        - source: bzImage\n",
        f"        - source: {source}\n          destination: {destination}\n")


@pytest.mark.parametrize(("board", "expected"), [
    (contents_board("../../../../etc/passwd"),
     "manifests/boards/b.yaml:12: image.partitions[0].contents[0].source: path "
     "'../../../../etc/passwd' leads outside the images directory"),
    (contents_board("/etc/passwd"),
     "manifests/boards/b.yaml:12: image.partitions[0].contents[0].source: absolute path "
     "'/etc/passwd' is not allowed (paths are relative to the images directory)"),
    (contents_board("sub/../../x*"),
     "manifests/boards/b.yaml:12: image.partitions[0].contents[0].source: path "
     "'sub/../../x*' leads outside the images directory"),
    (contents_board("bzImage", "/boot/../../../../tmp/owned"),
     "manifests/boards/b.yaml:13: image.partitions[0].contents[0].destination: path "
     "'/boot/../../../../tmp/owned' leads outside the partition"),
    (board_yaml(["a/b"]).replace(
        "      filesystem: vfat\n      size: 32M\n      contents:\n        - source: bzImage\n",
        "      filesystem: raw\n      image: ../../../../etc/passwd\n"),
     "manifests/boards/b.yaml:10: image.partitions[0].image: path '../../../../etc/passwd' "
     "leads outside the images directory"),
], ids=["source-dotdot", "source-absolute", "source-glob-dotdot", "destination-dotdot",
        "raw-image-dotdot"])
def test_image_paths_stay_in_their_directory(tmp_path: Path, board: str, expected: str) -> None:
    assert problems_of(tmp_path, {"manifests/boards/b.yaml": board}) == [expected]


def test_image_paths_inside_are_accepted(tmp_path: Path) -> None:
    write_project(tmp_path, {**BASE, "manifests/boards/b.yaml":
                             contents_board("dir/../bzImage", "/boot/../efi")})
    part = load_plan(Project(tmp_path)).workspaces["b"].board.image.partitions[0]
    assert part.contents[0].source == "dir/../bzImage"


HOOK_CASES = [
    ("hooks:\n  post_build: [../../../evil.sh]\n",
     "layers/a/b/layer.yaml:4: hooks.post_build[0]: path '../../../evil.sh' leads outside "
     "its layer"),
    ("hooks:\n  post_image: [/bin/sh]\n",
     "layers/a/b/layer.yaml:4: hooks.post_image[0]: absolute path '/bin/sh' is not allowed "
     "(paths are relative to its layer)"),
    ("commands:\n  run:\n    run: [../../../evil.sh, --now]\n",
     "layers/a/b/layer.yaml:5: commands.run.run[0]: path '../../../evil.sh' leads outside "
     "its layer"),
    ("commands:\n  run:\n    run: [/bin/sh, -c, id]\n",
     "layers/a/b/layer.yaml:5: commands.run.run[0]: absolute path '/bin/sh' is not allowed "
     "(paths are relative to its layer)"),
]


@pytest.mark.parametrize(("extra", "expected"), HOOK_CASES,
                         ids=["hook-dotdot", "hook-absolute", "command-dotdot",
                              "command-absolute"])
def test_hook_and_command_paths_stay_in_the_layer(tmp_path: Path, extra: str,
                                                  expected: str) -> None:
    (tmp_path / "evil.sh").write_text("#!/bin/sh\ntouch owned\n")
    (tmp_path / "evil.sh").chmod(0o755)
    assert problems_of(tmp_path, {
        "layers/a/b/layer.yaml": layer_yaml("A", extra=extra),
        "manifests/boards/b.yaml": board_yaml(["a/b"]),
    }) == [expected]


def test_hook_symlinks_inside_the_layer_work_outside_are_refused(tmp_path: Path) -> None:
    secret = host_file(tmp_path)
    write_project(tmp_path, {
        "layers/a/b/layer.yaml": layer_yaml(
            "A", extra="hooks:\n  post_build: [hooks/inside.sh, hooks/outside.sh]\n"),
        "layers/a/b/scripts/real.sh": "#!/bin/sh\n",
        "manifests/boards/b.yaml": board_yaml(["a/b"]),
    })
    hooks = tmp_path / "layers/a/b/hooks"
    hooks.mkdir()
    (hooks / "inside.sh").symlink_to("../scripts/real.sh")
    (hooks / "outside.sh").symlink_to(secret)
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "layers/a/b/layer.yaml:4: hooks.post_build[1]: hook script hooks/outside.sh is a "
        "symlink leading outside its layer"]
    assert SECRET not in str(info.value)


def test_board_fragment_outside_the_project_is_refused(tmp_path: Path) -> None:
    secret = host_file(tmp_path)
    project = tmp_path / "p"
    assert problems_of(project, {"manifests/boards/b.yaml": board_yaml(
        ["a/b"], extra=f"fragments:\n  buildroot: [../../../host/shadow, {secret}]\n")}) == [
        "manifests/boards/b.yaml:14: fragments.buildroot[0]: path '../../../host/shadow' "
        "leads outside the project",
        f"manifests/boards/b.yaml:14: fragments.buildroot[1]: absolute path '{secret}' is not "
        "allowed (paths are relative to the project)",
    ]


# -- fragments, hooks and metadata that are not small regular files of the layer -------------

def fragment_layer(tmp_path: Path) -> Path:
    write_project(tmp_path, {**BASE, "layers/a/b/buildroot/": "",
                             "manifests/boards/b.yaml": board_yaml(["a/b"])})
    return tmp_path / "layers/a/b/buildroot"


def test_fragment_symlink_to_a_host_file_is_refused_unread(tmp_path: Path) -> None:
    fragments = fragment_layer(tmp_path)
    (fragments / "10-shadow").symlink_to(host_file(tmp_path))
    (fragments / "20-zero").symlink_to("/dev/zero")
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "layers/a/b/buildroot/10-shadow: the fragment is a symlink leading outside its layer",
        "layers/a/b/buildroot/20-zero: the fragment is a symlink leading outside its layer",
    ]
    assert SECRET not in str(info.value)


def test_a_fragment_swapped_for_a_host_symlink_after_load_is_not_read(tmp_path: Path) -> None:
    from skiffbuild.buildroot.configure import merge_workspace

    fragments = fragment_layer(tmp_path)
    fragment = fragments / "10-ok"
    fragment.write_text("BR2_PACKAGE_HTOP=y\n")
    project = Project(tmp_path)
    ws = load_plan(project).workspaces["b"]  # checked here: a regular file of the layer
    # Swapped between the check and config: (time of check to time of use).
    fragment.unlink()
    secret = host_file(tmp_path)
    secret.write_text("BR2_PACKAGE_FROM_THE_HOST=y\n" + secret.read_text())
    fragment.symlink_to(secret)
    requests, problems = merge_workspace(ws, project)
    assert [str(p) for p in problems] == [
        "layers/a/b/buildroot/10-ok: cannot read fragment: it resolves outside its layer"]
    assert requests["buildroot"] == []
    assert SECRET not in str(problems)


def test_fragment_fifo_device_and_huge_file_are_refused(tmp_path: Path) -> None:
    fragments = fragment_layer(tmp_path)
    os.mkfifo(fragments / "10-fifo")
    with open(fragments / "20-huge", "wb") as f:
        f.truncate((1 << 20) + 1)
    (fragments / "30-inside").symlink_to("../kernel/ok")  # a symlink inside its layer is fine
    (fragments.parent / "kernel").mkdir()
    (fragments.parent / "kernel/ok").write_text("CONFIG_X=y\n")
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "layers/a/b/buildroot/10-fifo: the fragment is not a regular file",
        "layers/a/b/buildroot/20-huge: the fragment is larger than the limit of 1 MiB",
    ]


def test_parse_fragment_never_quotes_a_host_file_nor_blocks(tmp_path: Path) -> None:
    # The load refuses these; parse_fragment also holds if a file is swapped afterwards.
    fragments = tmp_path / "layer" / "buildroot"
    fragments.mkdir(parents=True)
    (fragments / "shadow").symlink_to(host_file(tmp_path))
    os.mkfifo(fragments / "fifo")
    found, problems = parse_fragment(fragments / "shadow", "buildroot", "a/b", "x/shadow")
    assert found == []
    assert [str(p) for p in problems] == ["x/shadow:1: not a Kconfig assignment",
                                          "x/shadow:2: not a Kconfig assignment"]
    found, problems = parse_fragment(fragments / "fifo", "buildroot", "a/b", "x/fifo")
    assert [str(p) for p in problems] == ["x/fifo: cannot read fragment: not a regular file"]
    found, problems = parse_fragment(Path("/dev/zero"), "buildroot", "a/b", "x/zero")
    assert [str(p) for p in problems] == ["x/zero: cannot read fragment: not a regular file"]


def test_part_directory_symlinked_out_of_the_layer_is_refused(tmp_path: Path) -> None:
    write_project(tmp_path, {**BASE, "manifests/boards/b.yaml": board_yaml(["a/b"]),
                             "host/etc/passwd": "x\n"})
    (tmp_path / "layers/a/b/root_overlay").symlink_to(tmp_path / "host/etc")
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "layers/a/b/root_overlay: the directory is a symlink leading outside its layer"]


def test_skiffos_metadata_and_override_hooks_are_checked(tmp_path: Path) -> None:
    write_project(tmp_path, {"layers/s/k/metadata/": "", "layers/s/k/hooks/": "",
                             "overrides/hooks/": "",
                             "manifests/boards/b.yaml": board_yaml(["s/k"])})
    os.mkfifo(tmp_path / "layers/s/k/metadata/description")
    (tmp_path / "layers/s/k/hooks/pre.sh").symlink_to("/bin/sh")
    os.mkfifo(tmp_path / "overrides/hooks/post-build.sh")
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "layers/s/k/hooks/pre.sh: the hook script is a symlink leading outside its layer",
        "layers/s/k/metadata/description: the metadata file is not a regular file",
        "overrides/hooks/post-build.sh: the hook script is not a regular file",
    ]


# -- YAML that explodes -------------------------------------------------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(c)}: &{chr(c)} [{', '.join(['*' + chr(c - 1)] * 9)}]\n" for c in range(98, 107))


@pytest.mark.parametrize(("text", "expected"), [
    (BOMB, "manifests/boards/b.yaml:6: more than 250000 values (aliases expanded)"),
    ("a: &a [*a]\n", "manifests/boards/b.yaml:1: alias *a refers to itself"),
    ("a: &a {b: *a}\n", "manifests/boards/b.yaml:1: alias *a refers to itself"),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n",
     "manifests/boards/b.yaml:1: nested more than 100 levels deep"),
    ("x:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 150)) + "  " * 150 + "v\n",
     "manifests/boards/b.yaml:100: nested more than 100 levels deep"),
    ("x:\n" + "- " * 5000 + "v\n",
     "manifests/boards/b.yaml:2: nested more than 100 levels deep"),
    ("l0: &l0 [x]\n" + "".join(f"l{i}: &l{i} [*l{i - 1}]\n" for i in range(1, 120)),
     "manifests/boards/b.yaml:99: nested more than 100 levels deep"),
    ("x: '" + "y" * (1 << 20) + "'\n",
     "manifests/boards/b.yaml: cannot read: larger than the limit of 1 MiB"),
], ids=["alias-bomb", "recursive-list", "recursive-map", "flow-5000", "block-150",
        "compact-5000", "alias-chain-120", "over-1MiB"])
def test_exploding_yaml_is_refused_in_bounded_time(tmp_path: Path, text: str,
                                                   expected: str) -> None:
    assert problems_of(tmp_path, {"manifests/boards/b.yaml": text}) == [expected]


def test_yaml_limits_allow_ordinary_aliases(tmp_path: Path) -> None:
    board = board_yaml(["a/b"]).replace("table: mbr", "table: &t mbr") + "# *t\n"
    write_project(tmp_path, {**BASE, "manifests/boards/b.yaml": board,
                             "layers/c/d/layer.yaml":
                             "format: 1\ndescription: &d shared\ndependencies: [a/b]\n"
                             "cflags: [*d]\n"})
    plan = load_plan(Project(tmp_path))
    assert plan.index.layers["c/d"].cflags == ("shared",)


def test_deep_nesting_and_fifo_manifest_via_the_command(tmp_path: Path) -> None:
    # 100,000 levels segfaulted libyaml's recursive composer; a FIFO hung the run.
    write_project(tmp_path, {**BASE, "manifests/boards/b.yaml": "x: " + "[" * 100_000 + "\n"})
    os.mkfifo(tmp_path / "manifests/boards/c.yaml")
    result = check(tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "manifests/boards/b.yaml:1: nested more than 100 levels deep" in result.stderr
    assert "manifests/boards/c.yaml: cannot read: not a regular file" in result.stderr


def test_skiffos_command_names_cannot_be_make_options(tmp_path: Path) -> None:
    write_project(tmp_path, {"layers/s/k/metadata/commands": "run Boot it\n--eval=x Evil\n",
                             "layers/s/k/extensions/Makefile": "run:\n",
                             "manifests/boards/b.yaml": board_yaml(["s/k"])})
    with pytest.raises(ProblemsError) as info:
        load_plan(Project(tmp_path))
    assert [str(p) for p in info.value.problems] == [
        "layers/s/k/metadata/commands:2: a command name uses letters, digits, '_' and '-'"]
