"""Kconfig fragments: parsing, the ordered merge, and rendering.

Fragments merge in layer order, then in byte order of file names; a later
assignment of a symbol replaces the earlier one and moves to the later
position (as Buildroot's ``merge_config.sh -m`` does for CONFIG_ symbols),
so that the last request for a member of a choice is also the last one
Kconfig sees. Every assignment keeps its origin (layer, file, line) for the
merged file's comments and for validation reports.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from skiffbuild.core.errors import Problem, printable
from skiffbuild.core.yamlload import read_text_bounded
from skiffbuild.model.model import FRAGMENT_PREFIX, Layer

# A fragment is a few KiB of text; layers are checked against this at load
# (skiffbuild.manifest.MAX_INPUT_BYTES), and it is enforced again when read.
MAX_FRAGMENT_BYTES = 1 << 20

__all__ = ["Assignment", "Merged", "Origin", "host_path_problems", "merge", "names_host_path",
           "parse_fragment", "render"]

_ASSIGN = re.compile(r"([A-Za-z0-9_]+)=(.*)")
_NOT_SET = re.compile(r"#\s*([A-Za-z0-9_]+) is not set\s*")
# Marks the next assignment as a deliberate override of earlier layers' values:
# `skiffbuild check` does not report what it overrides, even with --fail-on overridden.
_INTENDED = re.compile(r"#\s*skiffbuild:\s*override\b.*", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")  # the rest split lines
_VALUE = re.compile(r'[ynm]|-?[0-9]+|0[xX][0-9a-fA-F]+|"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class Origin:
    layer: str
    file: str  # as displayed (relative to the project when inside it)
    line: int | None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{self.layer} ({where})"


@dataclass(frozen=True)
class Assignment:
    symbol: str
    value: str  # as written: y, n, "text", 42, 0x10; "n" for "is not set"
    not_set: bool
    origin: Origin
    intended: bool = False  # "# skiffbuild: override" above it: overriding is the point

    def text(self) -> str:
        return f"# {self.symbol} is not set" if self.not_set else f"{self.symbol}={self.value}"


@dataclass(frozen=True)
class Merged:
    kind: str
    final: tuple[Assignment, ...]  # output order
    history: dict[str, tuple[Assignment, ...]]  # every assignment of a symbol, in merge order

    def value_of(self, symbol: str) -> Assignment | None:
        chain = self.history.get(symbol)
        return chain[-1] if chain else None


def _kind_message(kind: str, symbol: str) -> str | None:
    prefix = FRAGMENT_PREFIX[kind]
    if symbol.startswith(prefix):
        return None
    if kind == "buildroot":
        if symbol.startswith("CONFIG_"):
            return (f"{symbol} is a kernel, U-Boot or BusyBox symbol in a Buildroot fragment; "
                    "move it to kernel/, uboot/ or busybox/")
        return f"{symbol} is not a Buildroot symbol (Buildroot symbols start with BR2_)"
    if symbol.startswith("BR2_"):
        return f"{symbol} is a Buildroot symbol in a {kind} fragment; move it to buildroot/"
    return f"{symbol} is not a {kind} symbol ({kind} symbols start with CONFIG_)"


def fragment_root(layer: Layer, project_root: Path) -> Path:
    """Where ``layer``'s fragments must resolve: a board's anywhere in the project
    (manifest.load_board), a layer's inside the layer."""
    return project_root if layer.style == "board" else layer.path


# Who reads a fragment of each kind in the end (SkiffOS hands them to Buildroot, which
# merges kernel, U-Boot and BusyBox fragments into the package's config): named in the
# warnings of a tolerant parse.
_READER = {"buildroot": "Buildroot's kconfig", "kernel": "the kernel's kconfig",
           "uboot": "U-Boot's kconfig", "busybox": "BusyBox's kconfig"}
_SYMBOL = re.compile(r"[A-Za-z0-9_]+")


def _quirk(kind: str, symbol: str, value: str | None, not_set: bool,
           quote: bool = True) -> str | None:
    """The warning for a line SkiffOS passes on and Buildroot's tools then ignore, or None
    when the line is not one of those quirks (and stays an error).

    Only these three, seen in SkiffOS's own layers, are tolerated:

    - a bare symbol of the fragment's kind, no ``=`` (bananapi/m1 kernel/wifi):
      SkiffOS's merge_config.sh does not see it as a setting and copies it through;
      every kconfig reader skips a line without ``=`` (Linux >= 6.5 warns "unexpected
      data"), so the symbol keeps its earlier value;
    - ``BR2_X=`` with nothing after ``=`` in a Buildroot fragment (browser/v86min
      buildroot/slim): SkiffOS concatenates Buildroot fragments, and Buildroot's conf
      (support/kconfig/confdata.c, conf_set_sym_val) sets a string symbol only from a
      quoted value and rejects '' for bool, int and hex ones, as kconfiglib does
      ("Assignment ignored"): the line is skipped and the symbol keeps its earlier value
      or its default. (Not in kernel, U-Boot or BusyBox fragments: there merge_config.sh
      also deletes the symbol's earlier lines, so the symbol would fall back to its
      Kconfig default, which a merged fragment cannot express: still an error.)
    - a symbol without ``CONFIG_`` in a kernel, U-Boot or BusyBox fragment (pine64/book
      kernel/base): merge_config.sh does not merge it but copies it through; kconfig
      reads only CONFIG_ lines ("unexpected data") and ``# X is not set`` is a comment
      to it. A Buildroot symbol there stays an error (a fragment of the wrong kind).

    Without ``quote`` (a file outside its layer), the message names no symbol nor value.
    """
    prefix = FRAGMENT_PREFIX[kind]
    reader = _READER[kind]
    if value is None:  # a bare symbol line
        if not symbol.startswith(prefix):
            return None
        return f"a symbol without '=' and a value: ignored, as {reader} ignores it"
    if not symbol.startswith(prefix):
        if kind == "buildroot" or symbol.startswith("BR2_"):
            return None
        how = "reads it as a comment" if not_set else "ignores it"
        meant = (f"# {prefix}{symbol} is not set" if not_set else f"{prefix}{symbol}={value}")
        hint = f" ('{meant}' would set it)" if quote and value else ""
        return (f"not a {kind} symbol ({kind} symbols start with {prefix}): ignored, as "
                f"{reader} {how}{hint}")
    if value == "" and kind == "buildroot":
        return (f"no value after '=': ignored, as {reader} ignores it (the symbol keeps "
                "its earlier value or its default; an empty string is written \"\")")
    if kind == "buildroot" and not _VALUE.fullmatch(value):
        # configs-base/post: BR2_DEFCONFIG=$(TOPDIR)/../.config/buildroot/config. conf
        # sets a string only from a quoted value and rejects it for the other types.
        shown = f" {value!r}" if quote else ""
        return (f"unquoted value{shown}: ignored, as {reader} ignores it (the symbol keeps "
                "its earlier value or its default; a string is written in double quotes)")
    return None


@overload
def parse_fragment(path: Path, kind: str, layer: str, display: str,
                   within: Path | None = None) -> tuple[list[Assignment], list[Problem]]: ...


@overload
def parse_fragment(path: Path, kind: str, layer: str, display: str,
                   within: Path | None = None, *, tolerant: bool,
                   ) -> tuple[list[Assignment], list[Problem], list[Problem]]: ...


def parse_fragment(path: Path, kind: str, layer: str, display: str,
                   within: Path | None = None, *, tolerant: bool | None = None,
                   ) -> (tuple[list[Assignment], list[Problem]]
                         | tuple[list[Assignment], list[Problem], list[Problem]]):
    """Assignments of one fragment file, and a problem for every line that is not one.
    With ``within``, a file that resolves outside it (swapped for a symlink after the
    plan checked it) is not read.

    With ``tolerant`` given, a third list is returned: the warnings. ``tolerant=True``
    (for SkiffOS-style layers) turns the quirks SkiffOS passes on to Buildroot, which
    then ignores them (see ``_quirk``), into warnings: the line is dropped, as Buildroot
    drops it, and the warning (file:line) says so. Everything else stays a problem;
    ``tolerant=False`` parses as strictly as without it.
    """
    assignments, problems, warnings = _parse(path, kind, layer, display, within,
                                             bool(tolerant))
    if tolerant is None:
        return assignments, problems
    return assignments, problems, warnings


def _parse(path: Path, kind: str, layer: str, display: str, within: Path | None,
           tolerant: bool) -> tuple[list[Assignment], list[Problem], list[Problem]]:
    assignments: list[Assignment] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    try:
        # Non-blocking and bounded: a FIFO or /dev/zero swapped in after load must not hang.
        text = read_text_bounded(path, MAX_FRAGMENT_BYTES, within)
    except OSError as exc:
        return [], [Problem(display, None, None, f"cannot read fragment: {exc.strerror}")], []
    except UnicodeDecodeError:
        return [], [Problem(display, None, None, "cannot read fragment: not UTF-8 text")], []
    # Lines are quoted in errors only from a file of the layer itself: a symlink to a host
    # file (/etc/shadow) must not have its content printed.
    quote = within is not None or _own_file(path)  # read from inside `within` only

    def tolerated(number: int, symbol: str, value: str | None, not_set: bool = False) -> bool:
        """Whether the line is a SkiffOS quirk, warned about (tolerant) and dropped."""
        quirk = _quirk(kind, symbol, value, not_set, quote) if tolerant else None
        if quirk is None:
            return False
        warnings.append(Problem(display, number, symbol if quote else None, quirk))
        return True

    intended = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        not_set = _NOT_SET.fullmatch(line)
        if not_set:
            symbol, value = not_set.group(1), "n"
        elif _INTENDED.fullmatch(line):
            intended = True
            continue
        elif line.startswith("#"):
            continue
        else:
            match = _ASSIGN.fullmatch(line)
            if not match:
                if _SYMBOL.fullmatch(line) and tolerated(number, line, None):
                    intended = False  # the override mark was for this line
                    continue
                problems.append(Problem(display, number, None,
                                        f"not a Kconfig assignment: {line!r}" if quote
                                        else "not a Kconfig assignment"))
                continue
            symbol, value = match.group(1), match.group(2)
            if _CONTROL.search(value):
                # Written into the merged files: an ESC or NUL has no place in a defconfig.
                problems.append(Problem(display, number, symbol if quote else None,
                                        "a value cannot contain control characters "
                                        "(NUL, ESC...)"))
                continue
            if not value and tolerated(number, symbol, value):
                intended = False
                continue
            if not _VALUE.fullmatch(value):
                if kind == "buildroot" and tolerated(number, symbol, value):
                    intended = False
                    continue
                shown = f" {value!r}" if quote else ""
                problems.append(Problem(display, number, symbol if quote else None,
                                        f"invalid value{shown} (expected y, n, m, a number "
                                        "or a double-quoted string)"))
                continue
        wrong = _kind_message(kind, symbol)
        if wrong:
            if tolerated(number, symbol, value, bool(not_set)):
                intended = False
                continue
            problems.append(Problem(display, number, None,
                                    wrong if quote else f"not a {kind} symbol"))
            continue
        if tolerant and "SKIFF_C" in value:
            value = _skiff_paths(value, path.parent.parent, display, number, symbol,
                                 warnings)
        assignments.append(Assignment(symbol, value, bool(not_set),
                                      Origin(layer, display, number), intended))
        intended = False
    return assignments, problems, warnings


def _skiff_paths(value: str, layer: Path, display: str, number: int, symbol: str,
                 warnings: list[Problem]) -> str:
    """SkiffOS's layer-directory names in a value: ``SKIFF_CONFIG_ROOT``, which SkiffOS
    replaces with the layer's directory when it merges, and ``$(SKIFF_CURRENT_CONF_DIR)``,
    which it leaves to make, where it is empty during the build (chip/r8 names its
    uboot_patches/ so): both become the layer's directory, the second with a warning."""
    home = str(layer).replace("\\", "\\\\").replace('"', '\\"')
    out = value.replace("SKIFF_CONFIG_ROOT", home)
    for form in ("$(SKIFF_CURRENT_CONF_DIR)", "${SKIFF_CURRENT_CONF_DIR}"):
        if form in out:
            out = out.replace(form, home)
            warnings.append(Problem(display, number, symbol,
                                    f"{form} is taken as the layer's directory (SkiffOS leaves "
                                    "it to make, where it is empty during the build)"))
    return out


def _own_file(path: Path) -> bool:
    """Whether ``path`` resolves inside its layer (``<layer>/<kind>/<file>``)."""
    layer = os.path.realpath(path.parent.parent)
    return os.path.realpath(path).startswith(layer + os.sep)


def merge(kind: str, assignments: list[Assignment]) -> Merged:
    """Last assignment wins and takes the later position."""
    history: dict[str, list[Assignment]] = {}
    final: dict[str, Assignment] = {}
    for item in assignments:
        history.setdefault(item.symbol, []).append(item)
        final.pop(item.symbol, None)
        final[item.symbol] = item
    return Merged(kind, tuple(final.values()), {k: tuple(v) for k, v in history.items()})


def render(merged: Merged, header: list[str]) -> str:
    """The merged file: each group of lines preceded by the layer and file that set them."""
    # Header lines carry names and URLs from manifests: escaped, so that a newline in one
    # can never start a line of its own (checked at load too).
    out = [f"# {printable(line)}" if line else "#" for line in header]
    current: tuple[str, str] | None = None
    for item in merged.final:
        source = (item.origin.layer, item.origin.file)
        if source != current:
            out.append("")
            out.append(f"# {item.origin.layer}: {item.origin.file}")
            current = source
        earlier = [a for a in merged.history[item.symbol][:-1] if a.value != item.value]
        for old in earlier:
            # No '=' in comments: kconfiglib with an empty CONFIG_ prefix (as Buildroot uses
            # it) would read such a line as an assignment.
            value = "'is not set'" if old.not_set else old.value
            out.append(f"#   (replaces {value} from {old.origin})")
        out.append(item.text())
    return "\n".join(out) + "\n"


# --- Host paths named by a layer's fragment -------------------------------------------
#
# Buildroot reads (or runs) the host file or directory a string symbol names: an overlay is
# copied into the image, a post-build script is run, a patch dir is applied, a kernel config
# fragment is merged. A layer from another team must not reach the host with them, so such
# values must stay inside the layer (or its own BR2_EXTERNAL tree). Override layers (the
# user's own, git-ignored) are trusted and are not checked.
#
# Which symbols: generically, Buildroot string symbols whose name ends in one of
# _HOST_PATH_SUFFIXES (every such symbol of Buildroot 2026.02's Config.in files names a host
# file, directory, script or tarball location; _URL/_SITE ones a repository or mirror, checked
# when file:// or a bare path), except _NOT_HOST_PATHS, which name target
# paths, patterns, or a machine install. Kernel, U-Boot and BusyBox symbols of this kind are
# few and listed by name in _CONFIG_HOST_PATHS (their _PATH/_FILE symbols mostly name target
# paths, e.g. CONFIG_UEVENT_HELPER_PATH).
_HOST_PATH_SUFFIXES = ("_FILE", "_FILES", "_PATH", "_DIR", "_DIRS", "_SCRIPT", "_TABLE",
                       "_TABLES", "_PATCH", "_LOCATION", "_OVERLAY", "_CONFIG",
                       # Repository URLs and sites: a file:// one (or a bare path) is local.
                       "_URL", "_SITE")
_NOT_HOST_PATHS = frozenset({
    "BR2_TOOLCHAIN_EXTERNAL_PATH",  # an installed toolchain (tests/real/layers/real/toolchain)
    "BR2_TOOLCHAIN_EXTERNAL_REL_BIN_PATH",  # relative to that toolchain
    "BR2_SYSTEM_DEFAULT_PATH",  # the target's $PATH
    "BR2_STRIP_EXCLUDE_DIRS", "BR2_STRIP_EXCLUDE_FILES",  # target paths and patterns
    "BR2_GOOGLE_BREAKPAD_INCLUDE_FILES",  # target file patterns
    "BR2_TARGET_ROOTFS_F2FS_COLD_FILES", "BR2_TARGET_ROOTFS_F2FS_HOT_FILES",  # extensions
    "BR2_PACKAGE_OPTEE_CLIENT_TEE_FS_PATH",  # a target directory
    "BR2_PACKAGE_XENOMAI_ENABLE_REGISTRY_PATH",  # a target directory
    "BR2_PACKAGE_QORIQ_MC_BINARY_TARGET_INSTALL_PATH",  # target directories
    "BR2_PACKAGE_QORIQ_MC_UTILS_TARGET_INSTALL_PATH",
    # SkiffOS's skiff-init (configs-base/pre's BR2_EXTERNAL): paths on the device (its
    # root squashfs "/mnt/boot/rootfs.squashfs", its static resize2fs and kexec).
    "BR2_PACKAGE_SKIFF_INIT_SQUASHFS_PATH", "BR2_PACKAGE_SKIFF_INIT_SQUASHFS_RESIZE2FS_BIN_PATH",
    "BR2_PACKAGE_SKIFF_INIT_SQUASHFS_RESIZE2FS_CONF_PATH", "BR2_PACKAGE_SKIFF_INIT_KEXEC_PATH",
})
_CONFIG_HOST_PATHS = {
    "kernel": frozenset({"CONFIG_INITRAMFS_SOURCE", "CONFIG_EXTRA_FIRMWARE_DIR",
                         "CONFIG_EXTRA_FIRMWARE", "CONFIG_SYSTEM_TRUSTED_KEYS",
                         "CONFIG_SYSTEM_REVOCATION_KEYS", "CONFIG_MODULE_SIG_KEY"}),
    "uboot": frozenset({"CONFIG_DEFAULT_ENV_FILE", "CONFIG_EFI_CAPSULE_ESL_FILE",
                        "CONFIG_EFI_CAPSULE_CRT_FILE", "CONFIG_SYS_CONFIG_NAME_FILE"}),
    "busybox": frozenset({"CONFIG_SYSROOT", "CONFIG_CROSS_COMPILER_PREFIX"}),
}
_EXTERNAL_REF = re.compile(r"\$\(BR2_EXTERNAL_([A-Za-z0-9_]+)_PATH\)(/.*)?")
# Buildroot's URL helpers ($(call github,owner,repo,version)/file.tar.gz): a download.
_WORD = re.compile(r"(?:\$\([^()]*\)|\S)+")
_URL_HELPER = re.compile(r"\$\(call (?:github|gitlab),[A-Za-z0-9_.,-]+\)/[^$`]*")


def names_host_path(kind: str, symbol: str) -> bool:
    """Whether ``symbol`` (of a ``kind`` fragment) names a host file or directory."""
    if kind == "buildroot":
        # *_LICENSE_FILES are relative to the package's own source tree.
        return (symbol.endswith(_HOST_PATH_SUFFIXES) and symbol not in _NOT_HOST_PATHS
                and not symbol.endswith("_LICENSE_FILES"))
    return symbol in _CONFIG_HOST_PATHS.get(kind, frozenset())


def _unquote(value: str) -> str:
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _path_problem(word: str, home: Path, external: str | None, where: str) -> str | None:
    """Why ``word`` (one path of a value) may leave ``home``; None when it stays."""
    scheme, sep, rest = word.partition("://")
    if sep and scheme.lower().endswith("file"):  # file://, git+file://: a host path again
        word = rest
    elif _URL_HELPER.fullmatch(word) or ("://" in word and not re.search(r"[$`]", word)):
        return None  # downloaded (and hash-checked) like any other source
    ref = _EXTERNAL_REF.fullmatch(word)
    if ref:
        if external is None or ref.group(1) != external:
            own = f"$(BR2_EXTERNAL_{external}_PATH)" if external else "none"
            return (f"'{word}' names another BR2_EXTERNAL tree (this layer's own: {own})")
        inner = (ref.group(2) or "/").lstrip("/")
        if ".." in Path(inner).parts:
            return f"'{word}' leaves its BR2_EXTERNAL tree with '..'"
        # The tree is the layer's buildroot_ext/ (skiffbuild.layers); through a symlink
        # the path could still reach the host.
        return _outside(home / "buildroot_ext" / inner, word, home, where)
    if "$" in word or "`" in word:
        # Make would expand it (to anywhere, or run $(shell ...)): not a path we can check.
        return f"'{word}' uses a make or shell expansion; name a path inside the layer"
    if not word.startswith("/"):
        # Buildroot resolves a relative path inside its own tree.
        if ".." in Path(word).parts:
            return f"relative path '{word}' leaves the Buildroot tree with '..'"
        return None
    return _outside(Path(word), word, home, where)


def _outside(path: Path, word: str, home: Path, where: str) -> str | None:
    real = os.path.realpath(path)  # symlinks followed: a link in the layer to /etc is outside
    root = os.path.realpath(home)
    if real == root or real.startswith(root + os.sep):
        return None
    return f"'{word}' is outside {where}"


def host_path_problems(assignments: list[Assignment], kind: str, home: Path,
                       external: str | None, where: str) -> list[Problem]:
    """A located problem for each host path of ``assignments`` that leaves ``home``.

    ``home`` is the layer's directory (the project, for a board's fragments); ``external``
    the name of its BR2_EXTERNAL tree, whose ``$(BR2_EXTERNAL_<NAME>_PATH)`` it may use.
    """
    problems = []
    for item in assignments:
        if item.not_set or not names_host_path(kind, item.symbol):
            continue
        # Words are split on blanks, except inside $(...): "$(call github,o,r,v)/f.tar.gz".
        for word in _WORD.findall(_unquote(item.value)):
            bad = _path_problem(word, home, external, where)
            if bad:
                problems.append(Problem(
                    item.origin.file, item.origin.line, item.symbol,
                    f"{bad}: a fragment may name host paths only inside {where} "
                    "(local host paths belong in overrides/)"))
                break
    return problems
