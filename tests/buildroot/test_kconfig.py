"""Requested-versus-resolved checks: every kind of dropped symbol, with file:line."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import kconfiglib
import pytest

from skiffbuild.buildroot.kconfig import (
    ARCH_VALUES,
    architecture_finding,
    buildroot_kconfig,
    check_merged,
    externals_of,
)
from skiffbuild.model.fragments import Merged, Origin, merge, parse_fragment, render

TINY = """\
mainmenu "tiny Buildroot-like tree"

choice
	prompt "Target Architecture"
config BR2_x86_64
	bool "x86_64"
config BR2_aarch64
	bool "AArch64 (little endian)"
endchoice

choice
	prompt "Init system"
config BR2_INIT_BUSYBOX
	bool "BusyBox"
config BR2_INIT_SYSTEMD
	bool "systemd"
	depends on BR2_aarch64
endchoice

config BR2_PACKAGE_SYSTEMD_NETWORKD
	bool "networkd"
	depends on BR2_INIT_SYSTEMD

config BR2_PACKAGE_NCURSES
	bool "ncurses"

config BR2_PACKAGE_HTOP
	bool "htop"
	select BR2_PACKAGE_NCURSES

config BR2_TARGET_GENERIC_HOSTNAME
	string "hostname"
	default "buildroot"

config BR2_JLEVEL
	int "jobs"
	range 0 64
	default 0
"""


def configure(tmp_path: Path, fragments: list[tuple[str, str]]):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Config.in").write_text(TINY)
    requests = []
    for number, (layer, text) in enumerate(fragments):
        file = tmp_path / f"frag{number}"
        file.write_text(text)
        found, problems = parse_fragment(file, "buildroot", layer, f"layers/{layer}/buildroot/f")
        assert problems == []
        requests += found
    merged = merge("buildroot", requests)
    defconfig = tmp_path / "defconfig"
    defconfig.write_text(render(merged, ["test"]))
    out = tmp_path / "out"
    out.mkdir()
    # What Buildroot's `make defconfig BR2_DEFCONFIG=...` does, with conf's semantics
    # (Buildroot runs conf with an empty CONFIG_ prefix: its symbols carry BR2_).
    os.environ["CONFIG_"] = ""
    try:
        kconf = kconfiglib.Kconfig(str(tree / "Config.in"), warn_to_stderr=False)
    finally:
        del os.environ["CONFIG_"]
    kconf.load_config(str(defconfig), replace=True)
    kconf.write_config(str(out / ".config"))
    return [str(f) for f in check_merged(buildroot_kconfig(tree, out, out / ".config"), merged)]


def test_clean_configuration_has_no_findings(tmp_path: Path) -> None:
    text = ('BR2_aarch64=y\nBR2_INIT_SYSTEMD=y\nBR2_PACKAGE_HTOP=y\n'
            'BR2_TARGET_GENERIC_HOSTNAME="skiff"\nBR2_JLEVEL=4\n')
    assert configure(tmp_path, [("a/b", text)]) == []


def test_each_kind_of_dropped_request(tmp_path: Path) -> None:
    findings = configure(tmp_path, [
        ("base/core", "BR2_x86_64=y\nBR2_INIT_SYSTEMD=y\nBR2_PACKAGE_SYSTEMD_NETWORKD=y\n"
                      "# BR2_PACKAGE_NCURSES is not set\nBR2_PACKAGE_HTOP=y\n"
                      'BR2_TARGET_GENERIC_HOSTNAME="base"\n'),
        ("pi/4", 'BR2_TARGET_GENERIC_HOSTNAME="pi"\nBR2_PACKAGE_HTOPP=y\n'
                 "# BR2_TARGET_GENERIC_HOSTNAME_X is not set\nBR2_JLEVEL=100\n"),
    ])
    assert findings == [
        "layers/base/core/buildroot/f:2: BR2_INIT_SYSTEMD=y [base/core]: unmet-dependency "
        "(got n): depends on BR2_aarch64 (=n)",
        "layers/base/core/buildroot/f:3: BR2_PACKAGE_SYSTEMD_NETWORKD=y [base/core]: "
        "unmet-dependency (got n): depends on BR2_INIT_SYSTEMD (=n)",
        "layers/base/core/buildroot/f:4: BR2_PACKAGE_NCURSES=n [base/core]: not-applied (got y): "
        "selected by BR2_PACKAGE_HTOP (=y)",
        'layers/base/core/buildroot/f:6: BR2_TARGET_GENERIC_HOSTNAME="base" [base/core]: '
        'overridden (got "pi"): overridden by pi/4 (layers/pi/4/buildroot/f:1)',
        "layers/pi/4/buildroot/f:2: BR2_PACKAGE_HTOPP=y [pi/4]: unknown: unknown symbol in this "
        "Buildroot (did you mean BR2_PACKAGE_HTOP?)",
        "layers/pi/4/buildroot/f:3: BR2_TARGET_GENERIC_HOSTNAME_X=n [pi/4]: unknown: unknown "
        "symbol in this Buildroot (did you mean BR2_TARGET_GENERIC_HOSTNAME?)",
        "layers/pi/4/buildroot/f:4: BR2_JLEVEL=100 [pi/4]: not-applied (got 0): value outside "
        "the symbol's allowed range",
    ]


def test_a_marked_override_is_not_a_finding(tmp_path: Path) -> None:
    findings = configure(tmp_path, [
        ("base/core", 'BR2_TARGET_GENERIC_HOSTNAME="base"\nBR2_JLEVEL=2\n'),
        ("pi/4", '# skiffbuild: override (the product name)\nBR2_TARGET_GENERIC_HOSTNAME="pi"\n'
                 'BR2_JLEVEL=4\n'),
    ])
    # Only the unmarked override is reported; the marker covers the next assignment only.
    assert findings == [
        "layers/base/core/buildroot/f:2: BR2_JLEVEL=2 [base/core]: overridden (got 4): "
        "overridden by pi/4 (layers/pi/4/buildroot/f:3)"]


def test_choice_decided_by_a_later_layer(tmp_path: Path) -> None:
    findings = configure(tmp_path, [("base/core", "BR2_x86_64=y\n"),
                                    ("pi/4", "BR2_aarch64=y\n")])
    assert findings == [
        "layers/base/core/buildroot/f:1: BR2_x86_64=y [base/core]: overridden (got n): "
        "choice 'Target Architecture' set to BR2_aarch64 by pi/4 (layers/pi/4/buildroot/f:1)"]


@pytest.mark.parametrize(("text", "expected"), [
    ("# BR2_TARGET_GENERIC_HOSTNAME is not set\n",
     "layers/a/b/buildroot/f:1: BR2_TARGET_GENERIC_HOSTNAME=n [a/b]: invalid (got "
     "\"buildroot\"): 'is not set' has no effect on a string symbol; give it a value"),
    ("# BR2_x86_64 is not set\n",
     "layers/a/b/buildroot/f:1: BR2_x86_64=n [a/b]: invalid (got y): a choice always has one "
     "member selected; request the member you want instead"),
])
def test_requests_kconfig_cannot_express(tmp_path: Path, text: str, expected: str) -> None:
    assert configure(tmp_path, [("a/b", text)]) == [expected]


def test_externals_are_read_from_buildroots_record(tmp_path: Path) -> None:
    (tmp_path / ".br2-external.mk").write_text(
        "BR2_EXTERNAL ?= /x/ext\nexport BR2_EXTERNAL_NAMES = \n\nBR2_EXTERNAL_NAMES += SKIFF\n"
        "export BR2_EXTERNAL_SKIFF_PATH = /x/ext\nexport BR2_EXTERNAL_SKIFF_DESC = d\n")
    assert externals_of(tmp_path) == {"BR2_EXTERNAL_SKIFF_PATH": "/x/ext"}
    assert "BR2_EXTERNAL_SKIFF_PATH" not in os.environ


def test_parsing_never_changes_the_process_environment(tmp_path: Path) -> None:
    # doit -n N runs tasks as threads: while one parses Buildroot's Kconfig, another starts
    # make from os.environ. HOME="$(HOME)" there made make stop with "Recursive variable
    # 'HOME' references itself".
    from conftest import copy_testtree, run_make

    tree = copy_testtree(tmp_path / "tree")
    out = tmp_path / "out"
    env = {**os.environ, "LC_ALL": "C"}
    run_make("-C", tree, f"O={out}", "qemu_x86_64_defconfig", env=env)
    before = dict(os.environ)
    seen: set[tuple[str, str | None]] = set()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.update((k, os.environ.get(k)) for k in ("HOME", "srctree", "TOPDIR", "CONFIG_"))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(3):
            kconf = buildroot_kconfig(tree, out, out / ".config")
    finally:
        stop.set()
        watcher.join()
    assert seen == {(k, before.get(k)) for k in ("HOME", "srctree", "TOPDIR", "CONFIG_")}
    assert dict(os.environ) == before
    # ... and kconfiglib still saw Buildroot's variables: the symbols are BR2_ ones and
    # the make-syntax default stays literal.
    assert kconf.syms["BR2_x86_64"].str_value == "y"
    assert kconf.srctree == str(tree)
    assert "$(TOPDIR)" in kconf.syms["BR2_DL_DIR"].str_value


ARCH = TINY + """
config BR2_ARCH
	string
	default "x86_64" if BR2_x86_64
	default "aarch64" if BR2_aarch64
"""


def _resolved(tmp_path: Path, text: str) -> tuple[kconfiglib.Kconfig, Merged]:
    """The tiny tree with BR2_ARCH, configured from one fragment of layer pi/4."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "Config.in").write_text(ARCH)
    file = tmp_path / "frag"
    file.write_text(text)
    found, _ = parse_fragment(file, "buildroot", "pi/4", "layers/pi/4/buildroot/10-pi4")
    merged = merge("buildroot", found)
    out = tmp_path / "out"
    out.mkdir()
    (out / ".config").write_text(render(merged, ["test"]))
    return buildroot_kconfig(tree, out, out / ".config"), merged


def test_architecture_must_match_the_resolved_br2_arch(tmp_path: Path) -> None:
    kconf, merged = _resolved(tmp_path, "BR2_aarch64=y\n")
    where = Origin("boards/b", "manifests/boards/b.yaml", 3)
    assert architecture_finding(kconf, merged, "aarch64", where) is None
    finding = architecture_finding(kconf, merged, "x86_64", where)
    assert finding is not None and finding.severity == "error"
    assert str(finding) == (
        "manifests/boards/b.yaml:3: architecture: the board is x86_64 but its layers configure "
        'Buildroot for aarch64 (BR2_ARCH="aarch64"; BR2_aarch64=y from pi/4 '
        "(layers/pi/4/buildroot/10-pi4:1))")


def test_architecture_left_to_buildroots_default(tmp_path: Path) -> None:
    kconf, merged = _resolved(tmp_path, "BR2_PACKAGE_HTOP=y\n")
    finding = architecture_finding(kconf, merged, "aarch64",
                                   Origin("boards/b", "manifests/boards/b.yaml", 3))
    assert str(finding) == (
        "manifests/boards/b.yaml:3: architecture: the board is aarch64 but its layers configure "
        'Buildroot for x86_64 (BR2_ARCH="x86_64"; BR2_x86_64 is Buildroot\'s default: no layer '
        "chooses the target architecture)")


@pytest.mark.parametrize(("architecture", "values"), [
    ("i686", ("i686", "i586", "i486")), ("x86_64", ("x86_64",)), ("arm", ("arm",)),
    ("aarch64", ("aarch64",)), ("riscv64", ("riscv64",))])
def test_every_schema_architecture_maps_to_br2_arch(architecture: str,
                                                    values: tuple[str, ...]) -> None:
    from skiffbuild.model.schema import schema
    assert set(ARCH_VALUES) == set(schema("board")["properties"]["architecture"]["enum"])
    assert ARCH_VALUES[architecture] == values
