"""``skiffbuild import-skiffos NAME SKIFF_CONFIG``: a board manifest for a SkiffOS system.

SkiffOS users pick a system with ``SKIFF_CONFIG=pi/4,skiff/core``. This writes
``manifests/boards/NAME.yaml`` so that ``doit image:NAME`` builds that system from the
SkiffOS tree on ``SKIFFBUILD_LAYER_PATH``:

- ``layers``: the SKIFF_CONFIG entries as SkiffOS's ``enumerate_configs.sh`` parses them
  (trimmed, commas and spaces both separate, a duplicate dropped with the first kept, an
  entry that is no ``group/...`` dropped with a warning); an unknown layer is an error
  (exit 2, with the closest name), as in SkiffOS, and nothing is written.
- ``layer_order: skiffos``, written out, so the chain is the one SkiffOS resolves.
- ``architecture``: determined, not guessed. The chain is resolved by skiffbuild's own
  planner (``configs-base/pre``, the chain in SkiffOS's order, overrides,
  ``configs-base/post``), its Buildroot fragments are parsed in merge order, and the last
  target-architecture choice requested wins, as in Buildroot's kconfig (pre asks for
  ``BR2_x86_64``, SkiffOS's default, first).
- ``image``: a generic layout, documented in the file as a starting point to adapt.

The text is checked with skiffbuild's own board loader before it is written.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

import yaml

from skiffbuild.app.common import project_of
from skiffbuild.buildroot.configure import merge_workspace
from skiffbuild.core.errors import Problem, ProblemsError, SkiffError, closest, printable
from skiffbuild.core.fsutil import atomic_write
from skiffbuild.core.project import Project
from skiffbuild.core.settings import Settings
from skiffbuild.model.fragments import Assignment
from skiffbuild.model.layers import LayerIndex, scan_layers
from skiffbuild.model.manifest import DEFAULT_PIN, load_board, load_pin
from skiffbuild.model.model import Board, ImageLayout, Layer
from skiffbuild.model.plan import Workspace, assemble_chain
from skiffbuild.model.skiffos import SkiffosTree

__all__ = ["ARCHITECTURES", "cmd_import_skiffos", "parse_skiff_config", "skiffos_manifest"]

# Buildroot's target-architecture choice (arch/Config.in) -> a board's ``architecture``.
ARCHITECTURES = {"BR2_x86_64": "x86_64", "BR2_aarch64": "aarch64", "BR2_arm": "arm",
                 "BR2_i386": "i686", "BR2_riscv": "riscv64"}
# The rest of that choice: Buildroot builds them, skiffbuild's boards do not.
_OTHER_ARCHES = frozenset({
    "BR2_arcle", "BR2_arceb", "BR2_armeb", "BR2_aarch64_be", "BR2_hppa", "BR2_loongarch64",
    "BR2_m68k", "BR2_microblazeel", "BR2_microblazebe", "BR2_mips", "BR2_mipsel",
    "BR2_mips64", "BR2_mips64el", "BR2_nios2", "BR2_or1k", "BR2_powerpc", "BR2_powerpc64",
    "BR2_powerpc64le", "BR2_s390x", "BR2_sh", "BR2_sparc", "BR2_sparc64", "BR2_xtensa"})
_RISCV_WIDTH = ("BR2_RISCV_32", "BR2_RISCV_64")
_BUILDROOT_DEFAULT = "BR2_i386"  # the choice's default when no fragment makes one
# enumerate_configs.sh (LC_ALL=C): an entry is kept only if it matches ^[[:alnum:]]{1,100}/.*
_SKIFF_ENTRY = re.compile(r"[A-Za-z0-9]{1,100}/")
_WORKSPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # manifest.load_boards
_PLAIN_LAYER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9_.-]+")

_IMAGE = """\
# image: a generic starting point, to adapt to the board. SkiffOS itself does not
# make a disk image: it formats the card with its board layer's scripts (for a
# Raspberry Pi, pi/common's format_sd.sh and install_sd.sh: a FAT boot partition with
# the kernel, the DTBs, rpi-firmware/, config.txt, cmdline.txt and rootfs.cpio.lz4 or
# rootfs.squashfs, and an ext4 partition labelled "persist").
# This layout names no board's file names, so it assembles for any SkiffOS board:
#   boot     FAT: every regular file at the top of Buildroot's images/ ("*": the
#            kernel, the DTBs, the rootfs.cpio.lz4 initramfs or rootfs.squashfs,
#            bootloader binaries). Subdirectories are not copied: add them by name,
#            e.g. "- source: rpi-firmware/" with "destination: /" for a Raspberry Pi.
#   persist  an empty ext4 file system labelled "persist", which SkiffOS mounts on
#            /mnt/persist (configs-base/pre's mount-all.sh).
# What it does not do: install a bootloader (no U-Boot or SPL at the raw offsets
# many SoCs boot from, no GRUB, syslinux or EFI set-up: an x86 PC or a SoC that boots
# from raw sectors will not boot this disk as it is); write the boot configuration the
# firmware or bootloader reads (config.txt, cmdline.txt, boot.scr, extlinux.conf) unless
# the build itself put it at the top of images/; size anything to the card. boot
# (1 GiB) must hold all of images/: narrow "*" to the files the board boots from when
# images/ holds more (rootfs.tar, rootfs.ext2, an .iso). See the pi4 and qemu-x86_64
# boards for complete layouts.
image:
  table: mbr
  partitions:
    - name: boot
      filesystem: vfat
      size: 1G
      type: "0c"
      bootable: true
      label: BOOT
      contents:
        - source: "*"
    - name: persist
      filesystem: ext4
      size: 512M
      type: "83"
      label: persist
"""


def parse_skiff_config(text: str, warn: Callable[[str], None]) -> list[str]:
    """The entries of a SKIFF_CONFIG as SkiffOS reads them: commas and white space
    separate, an entry that is not ``group/...`` is dropped (``warn`` is told), the first
    of duplicates is kept."""
    entries: list[str] = []
    for entry in re.split(r"[,\s]+", text.strip()):
        if not entry:
            continue
        if not _SKIFF_ENTRY.match(entry):
            warn(f"SKIFF_CONFIG entry '{printable(entry)}' is not group/name: ignored, "
                 "as SkiffOS does")
        elif entry not in entries:
            entries.append(entry)
    return entries


def _unknown(entries: list[str], index: LayerIndex, project: Project) -> None:
    """Every entry that is not a usable layer, at once (did-you-mean for each)."""
    problems: list[Problem] = []
    for name in entries:
        if name in index.broken:
            problems += index.problems.get(name, ())
            continue
        if index.get(name) is not None:
            continue
        refused = index.refused.get(name) or index.refused.get(name.split("/")[0] + "/*")
        if refused:
            problems.append(Problem("SKIFF_CONFIG", None, None, f"layer '{name}': {refused}"))
            continue
        guess = closest(name, index.names())
        hint = f" (did you mean '{guess}'?)" if guess else ""
        problems.append(Problem("SKIFF_CONFIG", None, None,
                                f"unknown layer '{printable(name)}'{hint}"))
    if problems:
        roots = ", ".join(project.display(r) for r in project.layer_roots())
        hint = (f"the layers are those of the layer path ({roots}); `skiffbuild layers "
                "--all` lists them")
        if not index.skiffos:
            hint += "; set SKIFFBUILD_LAYER_PATH to the SkiffOS checkout (or its configs/)"
        raise ProblemsError(problems, hint=hint + "; nothing was written")


def _pin(project: Project, name: str) -> None:
    if not _WORKSPACE.fullmatch(name) or not (project.manifests / f"{name}.yaml").is_file():
        pins = sorted(p.stem for p in project.manifests.glob("*.yaml"))
        raise SkiffError(f"no Buildroot pin manifests/{printable(name)}.yaml",
                         hint=f"--pin names one of: {', '.join(pins) or '(none)'}")
    found, problems = load_pin(project, name)
    if found is None:
        raise ProblemsError(problems, hint="the Buildroot pin does not load; nothing was "
                                           "written")


def _architecture(requests: list[Assignment]) -> tuple[str, Assignment | None]:
    """The board architecture the last architecture choice in merge order gives, and
    that request (None: no fragment chooses, Buildroot's default applies)."""
    chosen: Assignment | None = None
    width: Assignment | None = None
    for request in requests:
        if request.not_set or request.value != "y":
            continue
        if request.symbol in ARCHITECTURES or request.symbol in _OTHER_ARCHES:
            chosen = request
        elif request.symbol in _RISCV_WIDTH:
            width = request
    symbol = chosen.symbol if chosen else _BUILDROOT_DEFAULT
    if symbol not in ARCHITECTURES or (
            symbol == "BR2_riscv" and width is not None and width.symbol == "BR2_RISCV_32"):
        what = f"{symbol}=y" if symbol != "BR2_riscv" else "BR2_riscv=y with BR2_RISCV_32=y"
        by = f" (from {chosen.origin})" if chosen else ""
        raise SkiffError(f"the chain configures Buildroot for {what}{by}, an architecture "
                         "skiffbuild's boards do not build",
                         hint="a board's architecture is one of "
                              + ", ".join(sorted(set(ARCHITECTURES.values()))))
    return ARCHITECTURES[symbol], chosen


def _where(request: Assignment) -> str:
    file = Path(request.origin.file)
    line = f":{request.origin.line}" if request.origin.line else ""
    return f"{request.origin.layer} ({file.parent.name}/{file.name}{line})"


def _comment(text: str) -> list[str]:
    return ["# " + line for line in textwrap.wrap(printable(text), 86,
                                                   break_on_hyphens=False)]


def _scalar(text: str) -> str:
    dumped: str = yaml.safe_dump(printable(text), default_style='"', allow_unicode=True,
                                 width=1 << 30)
    return dumped.strip()


def _render(name: str, entries: list[str], description: str, pin: str, arch: str,
            request: Assignment | None, chain: tuple[Layer, ...], tree: SkiffosTree | None) -> str:
    config = ",".join(entries)
    origin = (f" from SkiffOS {tree.version}" if tree and tree.version != "unknown"
              else " from the SkiffOS tree" if tree else "")
    lines = [f"# SkiffOS system SKIFF_CONFIG={config} (workspace \"{name}\").", "#",
             *_comment(f"Written by `skiffbuild import-skiffos {name} {config}`{origin} on "
                       "SKIFFBUILD_LAYER_PATH. Build it with: doit image:" + name),
             "format: 1", f"description: {_scalar(description)}"]
    if request is None:
        why = ("No layer of the chain chooses the target architecture: Buildroot's "
               "default, BR2_i386, applies.")
    else:
        why = (f"Not guessed: the last target-architecture choice the chain's Buildroot "
               f"fragments request, in merge order, is {request.symbol}=y from "
               f"{_where(request)}.")
    lines += [*_comment(why), f"architecture: {arch}"]
    if pin != DEFAULT_PIN:
        lines.append(f"buildroot: {pin}")
    else:
        lines += ["# The Buildroot pin: manifests/buildroot.yaml.", f"buildroot: {pin}"]
    lines += _comment(
        "layer_order: skiffos is SkiffOS's own order (enumerate_configs.sh): a missing "
        "dependency goes right before the layer that needs it, a listed layer never moves. "
        "It is the default for layers from a SkiffOS tree; written out so that the chain, "
        "and so the Buildroot configuration, stays the one SkiffOS's `make configure` "
        "resolves from this SKIFF_CONFIG (depth-first would move dependencies). The chain:")
    lines += ["#   " + line for line in textwrap.wrap(" > ".join(la.name for la in chain), 84,
                                                      break_on_hyphens=False)]
    lines += ["layer_order: skiffos", "# SKIFF_CONFIG, as SkiffOS parses it.", "layers:"]
    lines += [f"  - {n if _PLAIN_LAYER.fullmatch(n) else _scalar(n)}" for n in entries]
    return "\n".join(lines) + "\n" + _IMAGE


def _self_check(project: Project, name: str, text: str) -> None:
    """The text loads with skiffbuild's own board loader, without problems."""
    with tempfile.TemporaryDirectory(prefix="skiffbuild-import-") as scratch:
        file = Path(scratch) / f"{name}.yaml"
        file.write_text(text)
        board, problems = load_board(project, file)
    if board is None or problems:  # a bug: the text is made here
        raise RuntimeError("import-skiffos wrote a board manifest that does not load:\n"
                           + "\n".join(map(str, problems)))


def skiffos_manifest(project: Project, name: str, skiff_config: str, pin: str = DEFAULT_PIN,
                     index: LayerIndex | None = None,
                     warn: Callable[[str], None] | None = None) -> str:
    """The board manifest (YAML text) for ``skiff_config`` as workspace ``name``; every
    problem raised (exit 2). ``index``: the layers already scanned."""
    say = warn or (lambda text: print(f"warning: {text}", file=sys.stderr))
    if not _WORKSPACE.fullmatch(name):
        raise SkiffError(f"'{printable(name)}' cannot be a workspace name",
                         hint="a board name uses letters, digits, '.', '_' and '-'")
    entries = parse_skiff_config(skiff_config, say)
    if not entries:
        raise SkiffError("SKIFF_CONFIG names no layer",
                         hint="e.g. skiffbuild import-skiffos pi4 pi/4,skiff/core")
    if index is None:
        index, _ = scan_layers(project)  # problems of layers not used do not matter here
    _unknown(entries, index, project)
    _pin(project, pin)
    first = index.get(entries[0])
    description = (first.description if first is not None and first.description
                   else f"SkiffOS {entries[0]}").rstrip(".")
    description += f" (SkiffOS SKIFF_CONFIG={','.join(entries)})"
    board = Board(name=name, manifest=project.boards_dir / f"{name}.yaml",
                  description=description, architecture="x86_64", layers=tuple(entries),
                  buildroot=pin, image=ImageLayout("mbr", ()), layer_order="skiffos")
    problems: list[Problem] = []
    full, tree = assemble_chain(board, index, project, problems)
    if problems:
        raise ProblemsError(problems, hint="the chain SKIFF_CONFIG resolves to does not "
                                           "load; nothing was written")
    found, _ = load_pin(project, pin)
    assert found is not None  # _pin checked it
    ws = Workspace(board=board, pin=found, chain=full, paths=project.workspace(name),
                   skiffos=tree)
    requests, bad = merge_workspace(ws, project)
    for problem in bad[:10]:
        say(f"{problem} (config:{name} will stop on this)")
    arch, request = _architecture(requests["buildroot"])
    text = _render(name, entries, description, pin, arch, request, full, tree)
    _self_check(project, name, text)
    return text


def cmd_import_skiffos(args: argparse.Namespace, settings: Settings) -> int:
    project = project_of(settings)
    target = project.boards_dir / f"{args.name}.yaml"
    if not args.print and (target.exists() or target.is_symlink()) and not args.force:
        raise SkiffError(f"{project.display(target)} exists",
                         hint="--force replaces it; --print writes the new one to stdout")
    text = skiffos_manifest(project, args.name, " ".join(args.skiff_config), args.pin)
    if args.print:
        sys.stdout.write(text)
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, text)
    arch = next(line.split(": ", 1)[1] for line in text.splitlines()
                if line.startswith("architecture: "))
    print(f"wrote {project.display(target)} ({arch}); build it with: doit image:{args.name}")
    return 0
