"""Loading board and Buildroot-pin manifests into the model.

Each loader returns the model object (or None) and every problem it found, so
that one run reports all manifest errors together.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import re
import stat
import sys
from pathlib import Path
from typing import Any

from skiffbuild.core.errors import Problem
from skiffbuild.core.project import Project
from skiffbuild.core.yamlload import Document, format_path, load_yaml
from skiffbuild.model import schema
from skiffbuild.model.model import (
    FRAGMENT_KINDS,
    Board,
    Budget,
    BuildrootPin,
    Content,
    GrubSpec,
    ImageLayout,
    Partition,
    UpdateSigning,
    UpdateSpec,
)

__all__ = ["DEFAULT_PIN", "MAX_IMAGE_BYTES", "MAX_INPUT_BYTES", "PARTITION_PREFIX", "confined",
           "file_problem", "inner_path_problem", "load_board", "load_boards", "load_document",
           "load_pin", "parse_size", "patch_series"]

DEFAULT_PIN = "buildroot"
# update.slots: "partition:<name>" takes an assembled partition's image, not a Buildroot file.
PARTITION_PREFIX = "partition:"
# A fragment, cflags file, metadata file or hook script is text of a few KiB;
# anything bigger (or a device such as /dev/zero) is refused before it is read.
MAX_INPUT_BYTES = 1 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


# The largest partition, and the largest disk image (all partitions with a size together):
# 2 TiB, the most an MBR table can address and far beyond any firmware image. Checked at
# load, so that a typo ("99999G") is a located error, not a failure when the image is made.
MAX_IMAGE_BYTES = 2 << 40


def parse_size(value: int | str) -> int:
    """Bytes of a board's ``size``; ValueError when malformed (even absurdly long)."""
    if isinstance(value, int):
        return value
    # 20 digits bound int()'s work (and stay under Python's 4300-digit limit).
    match = re.fullmatch(r"([0-9]{1,20})([KMG]?)", value)
    if not match:
        raise ValueError(value)
    return int(match.group(1)) * _UNITS[match.group(2)]


def _size_problems(doc: Document) -> list[Problem]:
    problems = []
    total = 0
    for index, part in enumerate(doc.data["image"]["partitions"]):
        if "size" not in part:
            continue
        at = ("image", "partitions", index, "size")
        try:
            size = parse_size(part["size"])
        except ValueError:
            problems.append(doc.problem(at, "a size is a number of bytes or a number with "
                                            "K, M or G of at most 20 digits"))
            continue
        if size > MAX_IMAGE_BYTES:
            problems.append(doc.problem(at, f"size {size} bytes is larger than the maximum "
                                            f"partition size {MAX_IMAGE_BYTES} bytes (2 TiB)"))
            continue
        total += size
        if total > MAX_IMAGE_BYTES:
            problems.append(doc.problem(at, "the partitions together are larger than the "
                                            f"maximum image size {MAX_IMAGE_BYTES} bytes "
                                            "(2 TiB)"))
            break
    return problems


def _inside(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def confined(base: Path, rel: str, where: str) -> tuple[Path, str | None]:
    """``base / rel`` and, when it leaves ``base`` (``..`` or symlinks), why.

    A manifest from another team names files of its layer: an absolute path or
    a ``..`` (or a symlink) leading out of it would read or run host files.
    """
    path = base / rel
    bad = inner_path_problem(rel, where)
    if bad is None and not _inside(Path(os.path.realpath(path)), Path(os.path.realpath(base))):
        bad = f"path '{rel}' leads outside {where} through a symlink"
    return path, bad


def inner_path_problem(rel: str, where: str, absolute_ok: bool = False) -> str | None:
    """Why ``rel`` (a path inside a directory that does not exist yet) would leave it."""
    if os.path.isabs(rel) and not absolute_ok:
        return f"absolute path '{rel}' is not allowed (paths are relative to {where})"
    norm = posixpath.normpath(rel.lstrip("/") or ".")
    if norm == ".." or norm.startswith("../"):
        return f"path '{rel}' leads outside {where}"
    return None


def file_problem(path: Path, base: Path, name: str, where: str,
                 limit: int = MAX_INPUT_BYTES) -> str | None:
    """Why ``path`` cannot be read as a file of ``base``: missing, leaving it through a
    symlink, not a regular file (a FIFO would hang, a device never end) or too big.
    Never says anything about the target's content."""
    if not _inside(Path(os.path.realpath(path)), Path(os.path.realpath(base))):
        how = "is a symlink leading" if path.is_symlink() else "leads"
        return f"{name} {how} outside {where}"
    try:
        info = path.stat()
    except OSError:
        return f"{name} not found"
    if not stat.S_ISREG(info.st_mode):
        return f"{name} is not a regular file"
    if info.st_size > limit:
        return f"{name} is larger than the limit of {limit >> 20} MiB"
    return None


def load_document(project: Project, file: Path, kind: str) -> tuple[Document | None, list[Problem]]:
    """Load and schema-check one manifest."""
    doc, problems = load_yaml(file, project.display(file))
    if doc is None:
        return None, problems
    problems += schema.validate(kind, doc, schema.valid_memo(project.state_dir))
    return doc, problems


def patch_series(directory: Path) -> tuple[Path, ...]:
    """Patches in application order: a ``series`` file if present, else ``*.patch`` by bytes."""
    series = directory / "series"
    if series.is_file():
        names = [
            line.split("#", 1)[0].strip()
            for line in series.read_text().splitlines()
        ]
        return tuple(directory / n for n in names if n)
    found = [p for p in directory.glob("*.patch") if p.is_file()]
    return tuple(sorted(found, key=lambda p: os.fsencode(p.name)))


def load_pin(project: Project, name: str) -> tuple[BuildrootPin | None, list[Problem]]:
    file = project.manifests / f"{name}.yaml"
    if not file.is_file():
        return None, [Problem(project.display(file), None, None, "Buildroot pin file not found")]
    doc, problems = load_document(project, file, "buildroot")
    if doc is None or problems:
        return None, problems
    for key in ("url", "tag"):
        # Both are written into the header of the generated defconfig: a newline there
        # would start a line of its own (a setting).
        if isinstance(doc.data.get(key), str) and _CONTROL.search(doc.data[key]):
            return None, [doc.problem((key,), "control characters (newline, ESC...) are not "
                                              "allowed")]
    data = doc.data
    patches: tuple[Path, ...] = ()
    if "patches" in data:
        directory, outside = confined(project.root, data["patches"], "the project")
        if outside:
            problems.append(doc.problem(("patches",), outside))
        elif not directory.is_dir():
            problems.append(doc.problem(("patches",), f"directory {data['patches']} not found"))
        else:
            patches = patch_series(directory)
            for p in patches:
                bad = file_problem(p, directory, f"patch {p.name}", "the patch directory")
                if bad and bad.endswith("not found"):
                    problems.append(doc.problem(("patches",),
                                                f"series lists missing patch {p.name}"))
                elif bad:
                    problems.append(doc.problem(("patches",), bad))
    elif (project.root / "buildroot" / "patches").is_dir() and name == DEFAULT_PIN:
        patches = patch_series(project.root / "buildroot" / "patches")
    if problems:
        return None, problems
    return BuildrootPin(name=name, manifest=file, url=data["url"], commit=data["commit"],
                        tag=data.get("tag"), patches=patches), []


def _partitions(raw: dict[str, Any]) -> list[Partition]:
    """One partition, or the two of an A/B entry (``slots: [a, b]``)."""
    size = raw.get("size")
    grub = raw.get("grub")
    part = Partition(
        name=raw["name"],
        filesystem=raw["filesystem"],
        size=parse_size(size) if size is not None else None,
        type=raw.get("type"),
        bootable=raw.get("bootable", False),
        label=raw.get("label"),
        image=raw.get("image"),
        contents=tuple(Content(c["source"], c.get("destination", "/"))
                       for c in raw.get("contents", ())),
        bootloader=raw.get("bootloader"),
        grub=GrubSpec(slots=grub["slots"], kernel=grub["kernel"], initrd=grub.get("initrd"),
                      cmdline=grub.get("cmdline", ""), tries=grub.get("tries", 3))
        if grub is not None else None,
    )
    if "slots" not in raw:
        return [part]
    # Declared once, laid out twice: the same size, contents and filesystem; names,
    # labels (and so GPT partition names) with the slot's suffix.
    return [dataclasses.replace(part, name=f"{part.name}_{slot}",
                                label=f"{part.label}_{slot}" if part.label else None,
                                group=part.name, slot=slot)
            for slot in raw["slots"]]


def _layout_problems(doc: Document) -> list[Problem]:
    """Partition names unique after A/B expansion; slots and bootloaders that make sense."""
    problems = []
    entries = doc.data["image"]["partitions"]
    seen: dict[str, int] = {}
    groups = {p["name"]: p for p in entries if "slots" in p}
    for index, part in enumerate(entries):
        at = ("image", "partitions", index)
        names = [f"{part['name']}_{slot}" for slot in part.get("slots", ())] or [part["name"]]
        for name in names:
            if name in seen:
                how = f" (a slot of '{part['name']}')" if "slots" in part else ""
                if "slots" in part or "slots" in entries[seen[name]]:
                    how += f", also from image.partitions[{seen[name]}]"
                problems.append(doc.problem((*at, "name"),
                                            f"duplicate partition name '{name}'{how}"))
            else:
                seen[name] = index
        if "slots" in part:
            if "size" not in part:
                problems.append(doc.problem((*at, "slots"), "an A/B partition needs a size: "
                                            "every update written into a slot must fit"))
            if "bootloader" in part:
                problems.append(doc.problem((*at, "bootloader"), "a bootloader is installed "
                                            "once, not into an A/B partition"))
            label = part.get("label")
            limit = 11 if part["filesystem"] == "vfat" else 16
            if label and len(label) + 2 > limit:
                problems.append(doc.problem((*at, "label"), f"label '{label}' is too long for "
                                            f"slots: '{label}_a' is longer than {limit} "
                                            "characters"))
        if part.get("bootloader") == "grub":
            if part["filesystem"] != "vfat":
                problems.append(doc.problem((*at, "bootloader"), "GRUB is installed into a "
                                            "vfat partition"))
            if "grub" not in part:
                problems.append(doc.problem((*at, "bootloader"), "bootloader: grub needs a "
                                            "grub: section (slots, kernel)"))
            elif part["grub"]["slots"] not in groups:
                problems.append(doc.problem((*at, "grub", "slots"), f"no partition "
                                            f"'{part['grub']['slots']}' declared with slots: "
                                            "[a, b]"))
            else:
                for key in ("kernel", "initrd"):
                    value = part["grub"].get(key)
                    bad = value and inner_path_problem(value, "the slot partition",
                                                       absolute_ok=True)
                    if bad:
                        problems.append(doc.problem((*at, "grub", key), bad))
                    if value and any(c in value for c in ' "$\\;\n'):
                        problems.append(doc.problem((*at, "grub", key), "a path GRUB reads "
                                                    "has no blanks, quotes, $, ; or backslash"))
        elif "grub" in part:
            problems.append(doc.problem((*at, "grub"), "grub: goes with bootloader: grub"))
    loaders = [i for i, p in enumerate(entries) if "bootloader" in p]
    for index in loaders[1:]:
        problems.append(doc.problem(("image", "partitions", index, "bootloader"),
                                    "one bootloader per image (also image.partitions"
                                    f"[{loaders[0]}])"))
    return problems


def _image_path_problems(doc: Document) -> list[Problem]:
    """Image sources stay in Buildroot's images directory, destinations in their partition."""
    problems = []
    for p_index, part in enumerate(doc.data["image"]["partitions"]):
        at = ("image", "partitions", p_index)
        if "image" in part:
            bad = inner_path_problem(part["image"], "the images directory")
            if bad:
                problems.append(doc.problem((*at, "image"), bad))
        for c_index, content in enumerate(part.get("contents", ())):
            bad = inner_path_problem(content["source"], "the images directory")
            if bad:
                problems.append(doc.problem((*at, "contents", c_index, "source"), bad))
            # "/boot" names the partition's /boot: a leading "/" is its root, not the host's.
            bad = inner_path_problem(content.get("destination", "/"), "the partition",
                                     absolute_ok=True)
            if bad:
                problems.append(doc.problem((*at, "contents", c_index, "destination"), bad))
    return problems


def _signing_path(project: Project, value: str) -> str:
    """A key, certificate or keyring: a pkcs11: URI as is, a path made absolute (``~``
    expanded, relative to the project). Read where it is, never copied."""
    if value.startswith("pkcs11:"):
        return value
    return os.path.normpath(project.root / os.path.expanduser(value))


def _assembled_names(doc: Document) -> set[str]:
    """The partitions image:<ws> lays out: each entry, and each slot of an A/B entry
    (``system`` and ``system_a``, ``system_b``)."""
    entries = doc.data["image"]["partitions"]
    return {p["name"] for p in entries} | {f"{p['name']}_{slot}" for p in entries
                                          for slot in p.get("slots", ())}


def _update(project: Project, doc: Document, board: str,
            problems: list[Problem]) -> UpdateSpec | None:
    """The ``update:`` section: slot images stay inside Buildroot's images directory."""
    raw = doc.data.get("update")
    if raw is None:
        return None
    slots = []
    assembled = _assembled_names(doc)
    for slot, rel in raw["slots"].items():
        if rel.startswith(PARTITION_PREFIX):
            # An image image:<ws> assembles (a whole slot's filesystem for RAUC).
            name = rel[len(PARTITION_PREFIX):]
            if name not in assembled:
                problems.append(doc.problem(("update", "slots", slot), f"no partition "
                                            f"'{name}' in image.partitions (partition:<name> "
                                            "names an assembled partition)"))
            slots.append((slot, rel))
            continue
        bad = inner_path_problem(rel, "the images directory")
        if bad is None and posixpath.normpath(rel) in (".", ""):
            bad = f"path '{rel}' is the images directory itself, not a file in it"
        if bad:
            problems.append(doc.problem(("update", "slots", slot), bad))
        slots.append((slot, posixpath.normpath(rel)))
    signing = None
    if "signing" in raw:
        sign = raw["signing"]
        for key in ("keyring", "pkcs11_module"):
            if sign.get(key, "").startswith("pkcs11:"):
                problems.append(doc.problem(("update", "signing", key),
                                            f"{key} is a file, not a pkcs11: URI"))
        if "keyring" not in sign and sign["cert"].startswith("pkcs11:"):
            problems.append(doc.problem(("update", "signing"),
                                        "a pkcs11: cert needs a keyring file (the CA the "
                                        "bundle is verified against)"))
        keyring = sign.get("keyring")
        module = sign.get("pkcs11_module")
        signing = UpdateSigning(
            key=_signing_path(project, sign["key"]), cert=_signing_path(project, sign["cert"]),
            keyring=_signing_path(project, keyring) if keyring else None,
            pkcs11_module=os.path.expanduser(module) if module else None)
    return UpdateSpec(compatible=raw.get("compatible", f"skiffbuild-{board}"),
                      version=raw.get("version", "{date}-{image}"), slots=tuple(slots),
                      format=raw.get("format", "verity"), signing=signing,
                      device=raw.get("device"),
                      line=doc.line(("update",)))


_warned: set[str] = set()  # boards whose duplicate layers were reported by this process


def _warn_duplicate_layers(doc: Document) -> None:
    """A layer listed twice is allowed, as in SkiffOS (``skiff/core,pi/4,skiff/core``): the
    first entry wins (skiffbuild.plan) and the later ones are ignored, with a warning (once
    per process: the plan is loaded several times by one command), at most ten lines."""
    key = os.path.realpath(doc.file)
    if key in _warned:
        return
    seen: dict[str, int] = {}
    lines = []
    for index, name in enumerate(doc.data["layers"]):
        if name not in seen:
            seen[name] = index
        else:
            lines.append(str(doc.problem(("layers", index), f"duplicate layer '{name}' (also "
                                         f"layers[{seen[name]}]): ignored, the first wins")))
    if lines:
        _warned.add(key)
        more = [f"warning: ... and {len(lines) - 10} more duplicate layers"] if len(lines) > 10 \
            else []
        print("\n".join([f"warning: {line}" for line in lines[:10]] + more), file=sys.stderr)


def _budgets(doc: Document, problems: list[Problem]) -> tuple[Budget, ...]:
    """The ``budget:`` section; a partition budget names a partition or an A/B entry."""
    raw = doc.data.get("budget") or {}
    names = _assembled_names(doc)
    wanted: list[tuple[str, str | None, Any, tuple[str, ...]]] = []
    for whole in ("flash", "rootfs"):
        if whole in raw:
            wanted.append((whole, None, raw[whole], ("budget", whole)))
    for kind, key in (("partition", "partitions"), ("ram", "ram")):
        for name, value in raw.get(key, {}).items():
            at: tuple[str, ...] = ("budget", key, name)
            if kind == "partition" and name not in names:
                problems.append(doc.problem(at, f"no partition '{name}' in image.partitions"))
                continue
            wanted.append((kind, name, value, at))
    budgets = []
    for kind, name, value, at in wanted:
        try:
            limit = parse_size(value)
        except ValueError:
            problems.append(doc.problem(at, "a size is a number of bytes or a number with "
                                            "K, M or G (binary units)"))
            continue
        if limit == 0:
            problems.append(doc.problem(at, "a budget of 0 bytes: nothing fits"))
            continue
        line = doc.line(at)
        budgets.append(Budget(kind, name, limit, f"{doc.display}:{line} {format_path(at)}"
                                                  if line else f"{doc.display} "
                                                                f"{format_path(at)}"))
    return tuple(budgets)


def load_board(project: Project, file: Path) -> tuple[Board | None, list[Problem]]:
    doc, problems = load_document(project, file, "board")
    if doc is None or problems:
        return None, problems
    data = doc.data
    problems += _layout_problems(doc)
    problems += _image_path_problems(doc)
    problems += _size_problems(doc)
    update = _update(project, doc, file.stem, problems)
    budgets = _budgets(doc, problems)
    _warn_duplicate_layers(doc)
    fragments = []
    for kind in FRAGMENT_KINDS:
        files = []
        for index, rel in enumerate(data.get("fragments", {}).get(kind, [])):
            where = ("fragments", kind, index)
            path, outside = confined(file.parent, rel, "the project")
            if outside is None and not _inside(Path(os.path.realpath(path)),
                                               Path(os.path.realpath(project.root))):
                outside = f"path '{rel}' leads outside the project"
            bad = outside or file_problem(path, project.root, f"fragment file {rel}",
                                          "the project")
            if bad:
                problems.append(doc.problem(where, bad))
            files.append(path.resolve())
        if files:
            fragments.append((kind, tuple(files)))
    if problems:
        return None, problems
    board = Board(
        name=file.stem,
        manifest=file,
        description=data["description"],
        architecture=data["architecture"],
        layers=tuple(data["layers"]),
        buildroot=data.get("buildroot", DEFAULT_PIN),
        image=ImageLayout(data["image"]["table"],
                          tuple(p for raw in data["image"]["partitions"]
                                for p in _partitions(raw))),
        fragments=tuple(fragments),
        layer_lines=tuple(doc.line(("layers", i)) for i in range(len(data["layers"]))),
        allow_unhashed=tuple(data.get("sources", {}).get("allow_unhashed", ())),
        architecture_line=doc.line(("architecture",)),
        layer_order=data.get("layer_order"),
        update=update,
        budgets=budgets,
    )
    return board, []


def load_boards(project: Project) -> tuple[dict[str, Board], dict[str, list[Problem]],
                                          list[Problem]]:
    """The boards that loaded, the problems of each board that did not (by workspace
    name), and the problems of files that are no workspace (a bad file name)."""
    boards: dict[str, Board] = {}
    broken: dict[str, list[Problem]] = {}
    problems: list[Problem] = []
    for file in sorted(project.boards_dir.glob("*.yaml"), key=lambda p: os.fsencode(p.name)):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", file.stem):
            problems.append(Problem(project.display(file), None, None,
                                    "a board file name (the workspace name) uses letters, "
                                    "digits, '.', '_' and '-'"))
            continue
        board, found = load_board(project, file)
        if board:
            boards[board.name] = board
        else:
            broken[file.stem] = found
    return boards, broken, problems
