"""SkiffOS's fragment quirks: tolerated (as warnings naming file:line) for SkiffOS-style
layers only, with the values Buildroot ends up with; errors everywhere else.

The lines below are copied from SkiffOS 2026.08-8-g90392558 (the layer is named above
each), the four layers the strict parser refused.
"""

from __future__ import annotations

from pathlib import Path

import kconfiglib
import pytest

from skiffbuild.model.fragments import Merged, merge, parse_fragment, render

# browser/v86min: buildroot/slim, lines 30-32
V86MIN_SLIM = """\
# Root login, no password.
BR2_TARGET_ENABLE_ROOT_LOGIN=y
BR2_TARGET_GENERIC_ROOT_PASSWD=
"""

# bananapi/m1 and bananapi/m1plus (the same file): kernel/wifi, lines 15-21
BANANAPI_WIFI = """\
CONFIG_MAC80211_LEDS=y
# CONFIG_MAC80211_DEBUGFS is not set
# CONFIG_MAC80211_MESSAGE_TRACING is not set
# CONFIG_MAC80211_DEBUG_MENU is not set
CONFIG_MAC80211_STA_HASH_MAX_SIZE

CONFIG_B53=m
"""

# pine64/book: kernel/base, lines 1-6
PINEBOOK_BASE = """\
# base config options for pinebook pro
# in addition to defconfig
PCIE_ROCKCHIP=y
PCIE_ROCKCHIP_HOST=y
PCIE_DW_PLAT=y
PCIE_DW_PLAT_HOST=y
"""

_NO_VALUE = ("BR2_TARGET_GENERIC_ROOT_PASSWD: no value after '=': ignored, as Buildroot's "
             "kconfig ignores it (the symbol keeps its earlier value or its default; an "
             'empty string is written "")')
_BARE = ("CONFIG_MAC80211_STA_HASH_MAX_SIZE: a symbol without '=' and a value: ignored, as "
         "the kernel's kconfig ignores it")


def _no_prefix(symbol: str) -> str:
    return (f"{symbol}: not a kernel symbol (kernel symbols start with CONFIG_): ignored, as "
            f"the kernel's kconfig ignores it ('CONFIG_{symbol}=y' would set it)")


def _write(tmp_path: Path, layer: str, kind: str, name: str, text: str) -> Path:
    file = tmp_path / "configs" / layer / kind / name
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    return file


def _tolerant(file: Path, kind: str, layer: str, display: str):
    return parse_fragment(file, kind, layer, display, file.parent.parent, tolerant=True)


def _strict(file: Path, kind: str, layer: str, display: str):
    return parse_fragment(file, kind, layer, display, file.parent.parent)


def _settings(found) -> list[tuple[str, str, int | None]]:
    return [(a.symbol, a.value, a.origin.line) for a in found]


def test_unquoted_empty_value_is_ignored_in_a_buildroot_fragment(tmp_path: Path) -> None:
    display = "configs/browser/v86min/buildroot/slim"
    file = _write(tmp_path, "browser/v86min", "buildroot", "slim", V86MIN_SLIM)
    found, problems, warnings = _tolerant(file, "buildroot", "browser/v86min", display)
    assert problems == []
    assert [str(w) for w in warnings] == [f"{display}:3: {_NO_VALUE}"]
    assert _settings(found) == [("BR2_TARGET_ENABLE_ROOT_LOGIN", "y", 2)]

    found, problems = _strict(file, "buildroot", "browser/v86min", display)
    assert [str(p) for p in problems] == [
        f"{display}:3: BR2_TARGET_GENERIC_ROOT_PASSWD: invalid value '' (expected y, n, m, "
        "a number or a double-quoted string)"]
    assert _settings(found) == [("BR2_TARGET_ENABLE_ROOT_LOGIN", "y", 2)]


def test_bare_symbol_is_ignored(tmp_path: Path) -> None:
    display = "configs/bananapi/m1/kernel/wifi"
    file = _write(tmp_path, "bananapi/m1", "kernel", "wifi", BANANAPI_WIFI)
    found, problems, warnings = _tolerant(file, "kernel", "bananapi/m1", display)
    assert problems == []
    assert [str(w) for w in warnings] == [f"{display}:5: {_BARE}"]
    assert _settings(found) == [
        ("CONFIG_MAC80211_LEDS", "y", 1), ("CONFIG_MAC80211_DEBUGFS", "n", 2),
        ("CONFIG_MAC80211_MESSAGE_TRACING", "n", 3), ("CONFIG_MAC80211_DEBUG_MENU", "n", 4),
        ("CONFIG_B53", "m", 7)]

    found, problems = _strict(file, "kernel", "bananapi/m1", display)
    assert [str(p) for p in problems] == [
        f"{display}:5: not a Kconfig assignment: 'CONFIG_MAC80211_STA_HASH_MAX_SIZE'"]
    assert len(found) == 5


def test_kernel_symbol_without_config_prefix_is_ignored(tmp_path: Path) -> None:
    display = "configs/pine64/book/kernel/base"
    file = _write(tmp_path, "pine64/book", "kernel", "base", PINEBOOK_BASE)
    found, problems, warnings = _tolerant(file, "kernel", "pine64/book", display)
    assert problems == []
    symbols = ["PCIE_ROCKCHIP", "PCIE_ROCKCHIP_HOST", "PCIE_DW_PLAT", "PCIE_DW_PLAT_HOST"]
    assert [str(w) for w in warnings] == [
        f"{display}:{line}: {_no_prefix(symbol)}" for line, symbol in enumerate(symbols, 3)]
    assert found == []

    found, problems = _strict(file, "kernel", "pine64/book", display)
    assert [str(p) for p in problems] == [
        f"{display}:{line}: {symbol} is not a kernel symbol (kernel symbols start with CONFIG_)"
        for line, symbol in enumerate(symbols, 3)]
    assert found == []


@pytest.mark.parametrize(("kind", "line", "warning"), [
    ("uboot", "BOOTDELAY=3",
     "BOOTDELAY: not a uboot symbol (uboot symbols start with CONFIG_): ignored, as U-Boot's "
     "kconfig ignores it ('CONFIG_BOOTDELAY=3' would set it)"),
    ("busybox", "# FEATURE_VI is not set",
     "FEATURE_VI: not a busybox symbol (busybox symbols start with CONFIG_): ignored, as "
     "BusyBox's kconfig reads it as a comment ('# CONFIG_FEATURE_VI is not set' would set it)"),
    ("kernel", "PCIE_ROCKCHIP=",
     "PCIE_ROCKCHIP: not a kernel symbol (kernel symbols start with CONFIG_): ignored, as the "
     "kernel's kconfig ignores it"),
    ("buildroot", "BR2_PACKAGE_HTOP",
     "BR2_PACKAGE_HTOP: a symbol without '=' and a value: ignored, as Buildroot's kconfig "
     "ignores it"),
    ("busybox", "CONFIG_ASH",
     "CONFIG_ASH: a symbol without '=' and a value: ignored, as BusyBox's kconfig ignores it"),
])
def test_each_kind_names_its_reader(tmp_path: Path, kind: str, line: str, warning: str) -> None:
    file = _write(tmp_path, "g/n", kind, "f", f"{line}\n")
    found, problems, warnings = _tolerant(file, kind, "g/n", "f")
    assert (found, problems, [str(w) for w in warnings]) == ([], [], [f"f:1: {warning}"])
    found, problems = _strict(file, kind, "g/n", "f")
    assert found == [] and len(problems) == 1


@pytest.mark.parametrize(("kind", "line", "error"), [
    # Buildroot reads these, or they are plain mistakes: errors, tolerant or not.
    ("buildroot", "CONFIG_CGROUPS=y",
     "CONFIG_CGROUPS is a kernel, U-Boot or BusyBox symbol in a Buildroot fragment; "
     "move it to kernel/, uboot/ or busybox/"),
    ("buildroot", "PACKAGE_HTOP=y",
     "PACKAGE_HTOP is not a Buildroot symbol (Buildroot symbols start with BR2_)"),
    ("kernel", "BR2_PACKAGE_HTOP=y",
     "BR2_PACKAGE_HTOP is a Buildroot symbol in a kernel fragment; move it to buildroot/"),
    ("kernel", "BR2_PACKAGE_HTOP", "not a Kconfig assignment: 'BR2_PACKAGE_HTOP'"),
    ("buildroot", "CONFIG_CGROUPS", "not a Kconfig assignment: 'CONFIG_CGROUPS'"),
    ("buildroot", "HTOP", "not a Kconfig assignment: 'HTOP'"),
    # merge_config.sh would delete the symbol's earlier lines: not expressible, still refused.
    ("kernel", "CONFIG_CMDLINE=",
     "CONFIG_CMDLINE: invalid value '' (expected y, n, m, a number or a double-quoted string)"),
    ("buildroot", "BR2_X = y", "not a Kconfig assignment: 'BR2_X = y'"),
    ("kernel", "PCIE_ROCKCHIP=maybe",
     "PCIE_ROCKCHIP: invalid value 'maybe' (expected y, n, m, a number or a double-quoted "
     "string)"),
])
def test_other_mistakes_stay_errors(tmp_path: Path, kind: str, line: str, error: str) -> None:
    file = _write(tmp_path, "g/n", kind, "f", f"{line}\n")
    found, problems, warnings = _tolerant(file, kind, "g/n", "f")
    assert (found, [str(p) for p in problems], warnings) == ([], [f"f:1: {error}"], [])
    found, problems, warnings = parse_fragment(file, kind, "g/n", "f", file.parent.parent,
                                               tolerant=False)
    assert (found, [str(p) for p in problems], warnings) == ([], [f"f:1: {error}"], [])
    assert parse_fragment(file, kind, "g/n", "f", file.parent.parent) == (found, problems)


def test_an_earlier_value_survives_the_ignored_line(tmp_path: Path) -> None:
    # util/rootlogin (buildroot/root:4) sets the password to "" earlier in some chains.
    early = _write(tmp_path, "util/rootlogin", "buildroot", "root",
                   'BR2_TARGET_GENERIC_ROOT_PASSWD="secret"\n')
    late = _write(tmp_path, "browser/v86min", "buildroot", "slim", V86MIN_SLIM)
    first, _, _ = _tolerant(early, "buildroot", "util/rootlogin", "root")
    second, _, _ = _tolerant(late, "buildroot", "browser/v86min", "slim")
    merged = merge("buildroot", first + second)
    assert merged.value_of("BR2_TARGET_GENERIC_ROOT_PASSWD").value == '"secret"'


def test_an_override_mark_does_not_pass_over_an_ignored_line(tmp_path: Path) -> None:
    file = _write(tmp_path, "g/n", "kernel", "f",
                  "# skiffbuild: override\nCONFIG_BARE\nCONFIG_NEXT=y\n")
    found, _, warnings = _tolerant(file, "kernel", "g/n", "f")
    assert [(a.symbol, a.intended) for a in found] == [("CONFIG_NEXT", False)]
    assert len(warnings) == 1


def test_a_file_outside_its_layer_is_not_quoted(tmp_path: Path) -> None:
    host = tmp_path / "host-file"
    host.write_text("SECRET_WORD=y\nCONFIG_SECRET\nsecret words\n")
    fragments = tmp_path / "configs/g/n/kernel"
    fragments.mkdir(parents=True)
    (fragments / "link").symlink_to(host)
    found, problems, warnings = parse_fragment(fragments / "link", "kernel", "g/n", "link",
                                               tolerant=True)
    assert found == []
    assert [str(p) for p in problems] == ["link:3: not a Kconfig assignment"]
    assert [str(w) for w in warnings] == [
        "link:1: not a kernel symbol (kernel symbols start with CONFIG_): ignored, as the "
        "kernel's kconfig ignores it",
        "link:2: a symbol without '=' and a value: ignored, as the kernel's kconfig ignores it"]


# --- The same values as Buildroot: what kconfig makes of SkiffOS's file and of ours -----

_BR_KCONFIG = """\
config BR2_TARGET_ENABLE_ROOT_LOGIN
\tbool "root login"
config BR2_TARGET_GENERIC_ROOT_PASSWD
\tstring "root password"
\tdefault "default"
config BR2_N
\tint "a number"
\tdefault 7
"""

_KERNEL_KCONFIG = """\
config MAC80211_STA_HASH_MAX_SIZE
\tint "hash size"
\tdefault 0
config MAC80211_LEDS
\tbool "leds"
config PCIE_ROCKCHIP
\tbool "pcie"
"""


def _kconfig_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefix: str,
                    kconfig: str, config: str) -> dict[str, str]:
    monkeypatch.setenv("CONFIG_", prefix)  # Buildroot runs kconfig with an empty prefix
    (tmp_path / "Kconfig").write_text(kconfig)
    (tmp_path / "loaded").write_text(config)
    kconf = kconfiglib.Kconfig(str(tmp_path / "Kconfig"), warn_to_stderr=False)
    kconf.load_config(str(tmp_path / "loaded"))
    return {name: sym.str_value for name, sym in kconf.syms.items()}


def _rendered(kind: str, *parts: tuple[str, str, str]) -> tuple[str, list[str]]:
    found = []
    warnings = []
    for file, layer, display in parts:
        got, problems, warned = _tolerant(Path(file), kind, layer, display)
        assert problems == []
        found += got
        warnings += [str(w) for w in warned]
    merged: Merged = merge(kind, found)
    return render(merged, []), warnings


@pytest.mark.parametrize("earlier", ["", 'BR2_TARGET_GENERIC_ROOT_PASSWD="secret"\nBR2_N=3\n'])
def test_buildroot_ends_up_with_the_same_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                earlier: str) -> None:
    early = _write(tmp_path, "util/rootlogin", "buildroot", "root", earlier)
    late = _write(tmp_path, "browser/v86min", "buildroot", "slim", V86MIN_SLIM + "BR2_N=\n")
    # SkiffOS concatenates Buildroot fragments; Buildroot's conf reads the result.
    skiffos = early.read_text() + late.read_text()
    ours, warnings = _rendered("buildroot", (str(early), "util/rootlogin", "root"),
                               (str(late), "browser/v86min", "slim"))
    assert len(warnings) == 2
    expected = _kconfig_values(tmp_path, monkeypatch, "", _BR_KCONFIG, skiffos)
    assert _kconfig_values(tmp_path, monkeypatch, "", _BR_KCONFIG, ours) == expected
    assert expected["BR2_TARGET_GENERIC_ROOT_PASSWD"] == ("secret" if earlier else "default")


def test_the_kernel_ends_up_with_the_same_values(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    wifi = _write(tmp_path, "bananapi/m1", "kernel", "wifi", BANANAPI_WIFI)
    base = _write(tmp_path, "pine64/book", "kernel", "base", PINEBOOK_BASE)
    # merge_config.sh copies both files through (their quirks match no CONFIG_ setting).
    skiffos = wifi.read_text() + base.read_text()
    ours, warnings = _rendered("kernel", (str(wifi), "bananapi/m1", "wifi"),
                               (str(base), "pine64/book", "base"))
    assert len(warnings) == 5
    expected = _kconfig_values(tmp_path, monkeypatch, "CONFIG_", _KERNEL_KCONFIG, skiffos)
    assert _kconfig_values(tmp_path, monkeypatch, "CONFIG_", _KERNEL_KCONFIG, ours) == expected
    assert expected["PCIE_ROCKCHIP"] == "n" and expected["MAC80211_LEDS"] == "y"


def test_an_unquoted_buildroot_value_is_ignored_as_kconfig_ignores_it(tmp_path: Path) -> None:
    # configs-base/post/buildroot/config:1 (SkiffOS's legacy BR2_DEFCONFIG line): conf sets
    # a string only from a quoted value and rejects the text for the other types.
    file = _write(tmp_path, "g/n", "buildroot", "config",
                  'BR2_DEFCONFIG=$(TOPDIR)/../.config/buildroot/config\nBR2_X="kept"\n')
    found, problems, warnings = _tolerant(file, "buildroot", "g/n", "config")
    assert [a.text() for a in found] == ['BR2_X="kept"'] and problems == []
    assert [str(w) for w in warnings] == [
        "config:1: BR2_DEFCONFIG: unquoted value '$(TOPDIR)/../.config/buildroot/config': "
        "ignored, as Buildroot's kconfig ignores it (the symbol keeps its earlier value or its "
        "default; a string is written in double quotes)"]
    _, errors = parse_fragment(file, "buildroot", "g/n", "config")
    assert [str(e) for e in errors] == [
        "config:1: BR2_DEFCONFIG: invalid value '$(TOPDIR)/../.config/buildroot/config' "
        "(expected y, n, m, a number or a double-quoted string)"]
