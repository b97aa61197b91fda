"""The Buildroot-compatible test tree behaves like Buildroot where skiffbuild depends on it.

Real ``make`` calls on a copy of ``tests/buildroot-tree`` with out-of-tree
``O=`` directories: defconfig flavours, olddefconfig, savedefconfig,
BR2_EXTERNAL, and kconfiglib loading the tree with Buildroot's environment.
Also: ``create_testtree_repo`` is deterministic.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import kconfiglib
import pytest
import yaml
from conftest import run_make

from skiffbuild.app.testtree import TESTTREE_TAG, create_testtree_repo, find_testtree, main

TREE = find_testtree()

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a Buildroot call: no stray BR2_*, CONFIG_ or make flags."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BR2_", "MAKE", "GIT_")) and k not in ("CONFIG_", "O", "MFLAGS")}
    # Outside any git work tree, BR2_VERSION_FULL is plain 2026.02.3.
    env["GIT_CEILING_DIRECTORIES"] = tempfile.gettempdir()
    env.update(extra)
    return env


def make(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_make(*args, env=env or clean_env(), cwd=cwd, check=check)


def printvars(outdir: Path, *names: str) -> dict[str, str]:
    out = make("-C", outdir, "printvars", "VARS=" + " ".join(names)).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def config_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("BR2_")]


@pytest.fixture(scope="module")
def qemu(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output directory configured with qemu_x86_64_defconfig."""
    out = tmp_path_factory.mktemp("qemu")
    make("-C", tree, f"O={out}", "qemu_x86_64_defconfig")
    return out


def write_external(root: Path, name: str, config: str = "", desc: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "external.desc").write_text(f"name: {name}\n" + (f"desc: {desc}\n" if desc else ""))
    (root / "external.mk").write_text("")
    (root / "Config.in").write_text(config)
    return root


# --- configuration targets ------------------------------------------------------------


def test_named_defconfig_records_it_and_writes_the_wrapper(tree: Path, qemu: Path) -> None:
    dotconfig = (qemu / ".config").read_text()
    assert dotconfig.startswith(
        "#\n# Automatically generated file; DO NOT EDIT.\n"
        "# skiffbuild Buildroot-compatible test tree 2026.02.3 Configuration\n#\n")
    lines = config_lines(qemu / ".config")
    assert f'BR2_DEFCONFIG="{tree}/configs/qemu_x86_64_defconfig"' in lines
    assert "BR2_x86_64=y" in lines
    assert 'BR2_DL_DIR="$(TOPDIR)/dl"' in lines  # make expressions stay literal
    assert 'BR2_HOST_DIR="$(BASE_DIR)/host"' in lines
    assert "Automatically generated" in (qemu / "Makefile").read_text()
    # The wrapper re-enters the tree with O= set to its own directory.
    assert make("-C", qemu, "print-version").stdout.strip() == "2026.02.3"
    values = printvars(qemu, "BR2_VERSION", "ARCH", "HOST_DIR", "CONFIG_DIR", "BASE_DIR")
    assert values == {"BR2_VERSION": "2026.02.3", "ARCH": "x86_64", "HOST_DIR": f"{qemu}/host",
                      "CONFIG_DIR": str(qemu), "BASE_DIR": str(qemu)}
    for name in ("paths", "menus", "toolchains", "jpeg", "openssl", "skeleton", "init", "linux"):
        assert (qemu / f".br2-external.in.{name}").is_file()


def test_unknown_defconfig_fails(tree: Path, tmp_path: Path) -> None:
    proc = make("-C", tree, f"O={tmp_path}", "nope_defconfig", check=False)
    assert proc.returncode != 0
    assert "Can't find nope_defconfig" in proc.stderr


def test_defconfig_with_br2_defconfig(tree: Path, tmp_path: Path) -> None:
    frag = tmp_path / "my.defconfig"
    frag.write_text("BR2_aarch64=y\nBR2_PACKAGE_HTOP=y\n# BR2_TARGET_ROOTFS_TAR is not set\n")
    out = tmp_path / "out"
    make("-C", tree, f"O={out}", "defconfig", f"BR2_DEFCONFIG={frag}")
    lines = config_lines(out / ".config")
    assert f'BR2_DEFCONFIG="{frag}"' in lines
    assert {"BR2_aarch64=y", "BR2_PACKAGE_HTOP=y", "BR2_PACKAGE_NCURSES=y"} <= set(lines)
    missing = make("-C", tree, f"O={tmp_path / 'o2'}", "defconfig",
                   f"BR2_DEFCONFIG={tmp_path / 'missing'}", check=False)
    assert missing.returncode != 0
    assert "Can't find default configuration" in missing.stderr


def test_olddefconfig_of_a_merged_file_equals_defconfig(tree: Path, tmp_path: Path) -> None:
    merged = tmp_path / "merged.defconfig"
    merged.write_text((tree / "configs/qemu_x86_64_defconfig").read_text()
                      + "BR2_INIT_SYSTEMD=y\nBR2_PACKAGE_DOCKER_ENGINE=y\n")
    by_defconfig, by_old, by_old_named = (tmp_path / n for n in ("a", "b", "c"))
    make("-C", tree, f"O={by_defconfig}", "defconfig", f"BR2_DEFCONFIG={merged}")
    for out in (by_old, by_old_named):
        out.mkdir()
        shutil.copy(merged, out / ".config")
    make("-C", tree, f"O={by_old}", "olddefconfig")
    make("-C", tree, f"O={by_old_named}", "olddefconfig", f"BR2_DEFCONFIG={merged}")
    # Byte for byte when olddefconfig is told the same BR2_DEFCONFIG ...
    assert (by_old_named / ".config").read_bytes() == (by_defconfig / ".config").read_bytes()
    # ... and otherwise only BR2_DEFCONFIG differs: it keeps its default, as in Buildroot.
    old = (by_old / ".config").read_text()
    assert 'BR2_DEFCONFIG="$(CONFIG_DIR)/defconfig"' in old
    assert old.replace('BR2_DEFCONFIG="$(CONFIG_DIR)/defconfig"', f'BR2_DEFCONFIG="{merged}"') \
        == (by_defconfig / ".config").read_text()
    assert "BR2_PACKAGE_CONTAINERD=y" in old  # selected by docker-engine


@pytest.mark.parametrize("name", ["qemu_x86_64_defconfig", "raspberrypi4_64_defconfig"])
def test_savedefconfig_round_trip(tree: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    make("-C", tree, f"O={out}", name)
    saved = tmp_path / "saved_defconfig"
    make("-C", out, "savedefconfig", f"BR2_DEFCONFIG={saved}")
    # The bundled defconfigs are minimal: saving gives them back (no BR2_DEFCONFIG line).
    assert saved.read_text() == (tree / "configs" / name).read_text()
    again = tmp_path / "again"
    make("-C", tree, f"O={again}", "defconfig", f"BR2_DEFCONFIG={saved}")
    assert config_lines(again / ".config") == [
        f'BR2_DEFCONFIG="{saved}"' if line.startswith("BR2_DEFCONFIG=") else line
        for line in config_lines(out / ".config")]


def test_savedefconfig_writes_to_the_recorded_br2_defconfig(tree: Path, tmp_path: Path) -> None:
    frag = tmp_path / "ws.defconfig"
    frag.write_text("BR2_x86_64=y\nBR2_PACKAGE_HTOP=y\nBR2_PACKAGE_NCURSES=y\n")
    out = tmp_path / "out"
    make("-C", tree, f"O={out}", "defconfig", f"BR2_DEFCONFIG={frag}")
    make("-C", out, "savedefconfig")  # no BR2_DEFCONFIG: the one in .config
    assert frag.read_text() == "BR2_x86_64=y\nBR2_PACKAGE_HTOP=y\n"  # NCURSES is selected
    make("-C", tree, f"O={tmp_path / 'o2'}", "alldefconfig")
    make("-C", tmp_path / "o2", "savedefconfig")  # default: $(CONFIG_DIR)/defconfig
    assert (tmp_path / "o2" / "defconfig").read_text() == ""


def test_alldefconfig_with_seed_matches_olddefconfig(tree: Path, qemu: Path,
                                                     tmp_path: Path) -> None:
    make("-C", tree, f"O={tmp_path}", "alldefconfig",
         f"KCONFIG_ALLCONFIG={tree}/configs/qemu_x86_64_defconfig")
    ours = config_lines(tmp_path / ".config")
    theirs = config_lines(qemu / ".config")
    assert [x for x in ours if not x.startswith("BR2_DEFCONFIG=")] == \
        [x for x in theirs if not x.startswith("BR2_DEFCONFIG=")]


def test_config_prefix_in_environment_is_ignored(tree: Path, tmp_path: Path) -> None:
    # Buildroot's conf would write BR2_BR2_... lines; this tree always uses no prefix.
    make("-C", tree, f"O={tmp_path}", "qemu_x86_64_defconfig", env=clean_env(CONFIG_="BR2_"))
    lines = config_lines(tmp_path / ".config")
    assert "BR2_x86_64=y" in lines
    assert not any(line.startswith("BR2_BR2_") for line in lines)


def test_without_o_the_output_is_in_the_tree(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree, ignore=shutil.ignore_patterns("output", "dl", ".config*"))
    make("-C", tree, "qemu_x86_64_defconfig")
    assert (tree / ".config").is_file()  # CONFIG_DIR is the tree itself
    assert (tree / "output" / ".br2-external.mk").is_file()
    assert not (tree / "output" / "Makefile").exists()  # no wrapper in tree
    assert printvars(tree, "BASE_DIR")["BASE_DIR"] == str(tree / "output")


def test_relative_o_and_external_resolve_from_the_tree(tree: Path, tmp_path: Path) -> None:
    ext = write_external(tree.parent / "rel-ext", "REL")
    rel_out = "../rel-out"
    make("-C", tree, f"O={rel_out}", "BR2_EXTERNAL=../rel-ext", "defconfig")
    out = (tree / rel_out).resolve()
    assert (out / ".config").is_file()
    mk = (out / ".br2-external.mk").read_text()
    assert f"export BR2_EXTERNAL_REL_PATH = {ext}" in mk


# --- BR2_EXTERNAL -----------------------------------------------------------------------


def test_two_externals(tree: Path, tmp_path: Path) -> None:
    one = write_external(tmp_path / "one", "ONE", desc="First tree", config=(
        'config BR2_PACKAGE_ONE\n\tbool "one"\n\tdefault y\n\n'
        'config BR2_ONE_DATA\n\tstring "data file"\n\tdefault "$BR2_EXTERNAL_ONE_PATH/data"\n\n'
        'source "$BR2_EXTERNAL_ONE_PATH/package/sub/Config.in"\n'))
    (one / "package/sub").mkdir(parents=True)
    (one / "package/sub/Config.in").write_text('config BR2_PACKAGE_ONE_SUB\n\tbool "sub"\n')
    (one / "configs").mkdir()
    (one / "configs/qemu_x86_64_defconfig").write_text(
        "BR2_x86_64=y\nBR2_PACKAGE_ONE_SUB=y\n")
    two = write_external(tmp_path / "two", "TWO", config='config BR2_PACKAGE_TWO\n\tbool "two"\n')
    out = tmp_path / "out"
    make("-C", tree, f"O={out}", f"BR2_EXTERNAL={one}:{two}", "qemu_x86_64_defconfig")

    mk = (out / ".br2-external.mk").read_text()
    assert f"BR2_EXTERNAL ?= {one} {two}" in mk
    assert f"export BR2_EXTERNAL_ONE_PATH = {one}" in mk
    assert "export BR2_EXTERNAL_ONE_DESC = First tree" in mk
    assert "export BR2_EXTERNAL_TWO_DESC = TWO" in mk
    assert f"BR2_EXTERNAL_MKS += {two}/external.mk" in mk
    paths = (out / ".br2-external.in.paths").read_text()
    assert 'default "ONE TWO"' in paths and f'default "{one}"' in paths
    menus = (out / ".br2-external.in.menus").read_text()
    assert f'source "{one}/Config.in"' in menus and 'menu "First tree"' in menus

    lines = config_lines(out / ".config")
    # The external's defconfig wins over the tree's; $BR2_EXTERNAL_ONE_PATH works in
    # `source` and in defaults.
    assert f'BR2_DEFCONFIG="{one}/configs/qemu_x86_64_defconfig"' in lines
    assert {"BR2_PACKAGE_ONE=y", "BR2_PACKAGE_ONE_SUB=y", f'BR2_ONE_DATA="{one}/data"',
            'BR2_EXTERNAL_NAMES="ONE TWO"', f'BR2_EXTERNAL_ONE_PATH="{one}"'} <= set(lines)
    assert printvars(out, "BR2_EXTERNAL_TWO_PATH") == {"BR2_EXTERNAL_TWO_PATH": str(two)}

    # Remembered in O without BR2_EXTERNAL ...
    make("-C", out, "olddefconfig")
    assert "BR2_PACKAGE_ONE=y" in config_lines(out / ".config")
    # ... and BR2_EXTERNAL= forgets them.
    make("-C", out, "BR2_EXTERNAL=", "olddefconfig")
    assert "BR2_EXTERNAL ?=\n" in (out / ".br2-external.mk").read_text()
    assert not any(line.startswith(("BR2_PACKAGE_ONE", "BR2_EXTERNAL_"))
                   for line in config_lines(out / ".config"))


@pytest.mark.parametrize(("desc", "files", "message"), [
    (None, ("external.mk", "Config.in"), "does not have an 'external.desc'"),
    ("desc: no name\n", ("external.mk", "Config.in"), "external.desc': does not define the name"),
    ("name: BAD-NAME\n", ("external.mk", "Config.in"),
     "name 'BAD-NAME' contains invalid chars: '-'"),
    ("name: OK\n", ("Config.in",), "external.mk': no such file or directory"),
    ("name: OK\n", ("external.mk",), "Config.in': no such file or directory"),
])
def test_bad_external_is_refused(tree: Path, tmp_path: Path, desc: str | None,
                                 files: tuple[str, ...], message: str) -> None:
    ext = tmp_path / "ext"
    ext.mkdir()
    if desc is not None:
        (ext / "external.desc").write_text(desc)
    for name in files:
        (ext / name).write_text("")
    proc = make("-C", tree, f"O={tmp_path / 'out'}", f"BR2_EXTERNAL={ext}", "defconfig",
                check=False)
    assert proc.returncode != 0
    assert f"'{ext}" in proc.stderr and message in proc.stderr


def test_duplicate_and_missing_externals_are_refused(tree: Path, tmp_path: Path) -> None:
    a = write_external(tmp_path / "a", "SAME")
    b = write_external(tmp_path / "b", "SAME")
    proc = make("-C", tree, f"O={tmp_path / 'out'}", f"BR2_EXTERNAL={a} {b}", "defconfig",
                check=False)
    assert f"'{b}': name 'SAME' is already used in '{a}'" in proc.stderr
    proc = make("-C", tree, f"O={tmp_path / 'out'}", f"BR2_EXTERNAL={tmp_path}/nope",
                "defconfig", check=False)
    assert f"'{tmp_path}/nope': no such file or directory" in proc.stderr


# --- kconfiglib with Buildroot's environment ---------------------------------------------


BuildrootEnv = Callable[[Path, Path, dict[str, str], str], None]


@pytest.fixture
def buildroot_env(monkeypatch: pytest.MonkeyPatch) -> BuildrootEnv:
    """Set reference/buildroot.md §5's environment for kconfiglib (restored afterwards)."""

    def apply(tree: Path, out: Path, host: dict[str, str], defconfig: str) -> None:
        values = {
            "srctree": str(tree), "BR2_BASE_DIR": str(out),
            "BR2_VERSION_FULL": "2026.02.3", "HOSTARCH": host["HOSTARCH"],
            "HOST_GCC_VERSION": host.get("HOSTCC_VERSION", ""), "BR2_DEFCONFIG": defconfig,
            "SKIP_LEGACY": "", "BR2_HIDE_SECONDARY_TARGET_OPTIONS": "", "CONFIG_": "",
        }
        for name in ("BASE_DIR", "TOPDIR", "CONFIG_DIR", "ARCH", "HOME"):
            values[name] = f"$({name})"
        for line in (out / ".br2-external.mk").read_text().splitlines():
            if line.startswith("export BR2_EXTERNAL_") and "_PATH = " in line:
                key, value = line[len("export "):].split(" = ", 1)
                values[key] = value
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    return apply


@pytest.mark.parametrize("with_external", [False, True])
def test_kconfiglib_resolves_like_the_makefile(tree: Path, tmp_path: Path,
                                               buildroot_env: BuildrootEnv,
                                               with_external: bool) -> None:
    merged = tmp_path / "merged.defconfig"
    merged.write_text((tree / "configs/raspberrypi4_64_defconfig").read_text()
                      + "BR2_PACKAGE_HTOP=y\nBR2_INIT_NONE=y\n# BR2_PACKAGE_BUSYBOX is not set\n"
                      + ("BR2_PACKAGE_EXT_TOOL=y\n" if with_external else ""))
    args = [f"O={tmp_path / 'out'}", "defconfig", f"BR2_DEFCONFIG={merged}"]
    if with_external:
        ext = write_external(tmp_path / "ext", "EXT", config=(
            'config BR2_PACKAGE_EXT_TOOL\n\tbool "tool"\n\tselect BR2_PACKAGE_XZ\n'
            'config BR2_EXT_TOOL_CONF\n\tstring "conf"\n'
            '\tdefault "$(BR2_EXTERNAL_EXT_PATH)/tool.conf"\n'))
        args.insert(0, f"BR2_EXTERNAL={ext}")
    out = tmp_path / "out"
    make("-C", tree, *args)
    host = printvars(out, "HOSTARCH", "HOSTCC_VERSION")

    # BR2_DEFCONFIG as `make defconfig BR2_DEFCONFIG=...` passes it to conf.
    buildroot_env(tree, out, host, str(merged))
    kconf = kconfiglib.Kconfig(str(tree / "Config.in"), warn_to_stderr=False)
    kconf.load_config(str(merged), replace=True)
    ours = tmp_path / "kconfiglib.config"
    kconf.write_config(str(ours), header=(
        f"#\n# Automatically generated file; DO NOT EDIT.\n# {kconf.mainmenu_text}\n#\n"))
    assert ours.read_bytes() == (out / ".config").read_bytes()
    assert kconf.syms["BR2_PACKAGE_NCURSES"].str_value == "y"
    assert kconf.syms["BR2_PACKAGE_BUSYBOX"].str_value == "n"
    if with_external:
        assert kconf.syms["BR2_PACKAGE_XZ"].str_value == "y"
        assert kconf.syms["BR2_EXT_TOOL_CONF"].str_value == f"{ext}/tool.conf"


# --- the git repository ------------------------------------------------------------------


def test_create_testtree_repo_is_deterministic(tmp_path: Path) -> None:
    first = create_testtree_repo(tmp_path / "one")
    second = create_testtree_repo(tmp_path / "two")
    assert first == second and len(first) == 40

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(tmp_path / "one"), *args], capture_output=True,
                              text=True, check=True, env=clean_env()).stdout.strip()

    assert git("rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git("rev-list", "--count", "HEAD") == "1"
    assert git("rev-parse", f"{TESTTREE_TAG}^{{commit}}") == first
    assert git("status", "--porcelain") == ""
    modes = {parts[3]: parts[0] for parts in
             (line.split(maxsplit=3) for line in git("ls-files", "-s").splitlines())}
    assert modes["support/scripts/br2-external"] == "100755"
    assert modes["support/kconfig/conf.py"] == "100755"
    assert modes["Makefile"] == "100644"
    # The tag names the version, as `git describe` does in a Buildroot checkout.
    version = make("-C", tmp_path / "one", "print-version",
                   env=clean_env(GIT_CEILING_DIRECTORIES=str(tmp_path))).stdout.strip()
    assert version == TESTTREE_TAG

    # An earlier repository is replaced; anything else is refused.
    assert create_testtree_repo(tmp_path / "one", tag="other") == first
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep").write_text("mine")
    with pytest.raises(FileExistsError):
        create_testtree_repo(foreign)
    assert (foreign / "keep").read_text() == "mine"


def test_testtree_command_prints_sha_and_mirror_map(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "repo")]) == 0
    sha, *rest = capsys.readouterr().out.splitlines()
    assert len(sha) == 40
    mirrors = yaml.safe_load("\n".join(rest))
    assert mirrors == {"https://gitlab.com/buildroot.org/buildroot.git": [
        str((tmp_path / "repo").resolve())]}
