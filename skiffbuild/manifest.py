"""Loading board and Buildroot-pin manifests into the model.

Each loader returns the model object (or None) and every problem it found, so
that one run reports all manifest errors together.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from . import schema
from .errors import Problem
from .model import FRAGMENT_KINDS, Board, BuildrootPin, Content, ImageLayout, Partition
from .project import Project
from .yamlload import Document, load_yaml

__all__ = ["DEFAULT_PIN", "load_board", "load_boards", "load_document", "load_pin",
           "parse_size", "patch_series"]

DEFAULT_PIN = "buildroot"
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def parse_size(value: int | str) -> int:
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"([0-9]+)([KMG]?)", value)
    if not match:
        raise ValueError(value)
    return int(match.group(1)) * _UNITS[match.group(2)]


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
    data = doc.data
    patches: tuple[Path, ...] = ()
    if "patches" in data:
        directory = project.root / data["patches"]
        if not directory.is_dir():
            problems.append(doc.problem(("patches",), f"directory {data['patches']} not found"))
        else:
            patches = patch_series(directory)
            missing = [p for p in patches if not p.is_file()]
            for p in missing:
                problems.append(doc.problem(("patches",), f"series lists missing patch {p.name}"))
    elif (project.root / "buildroot" / "patches").is_dir() and name == DEFAULT_PIN:
        patches = patch_series(project.root / "buildroot" / "patches")
    if problems:
        return None, problems
    return BuildrootPin(name=name, manifest=file, url=data["url"], commit=data["commit"],
                        tag=data.get("tag"), patches=patches), []


def _partition(raw: dict) -> Partition:
    size = raw.get("size")
    return Partition(
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
    )


def load_board(project: Project, file: Path) -> tuple[Board | None, list[Problem]]:
    doc, problems = load_document(project, file, "board")
    if doc is None or problems:
        return None, problems
    data = doc.data
    names = [p["name"] for p in data["image"]["partitions"]]
    for index, part_name in enumerate(names):
        if part_name in names[:index]:
            problems.append(doc.problem(("image", "partitions", index, "name"),
                                        f"duplicate partition name '{part_name}'"))
    fragments = []
    for kind in FRAGMENT_KINDS:
        files = []
        for index, rel in enumerate(data.get("fragments", {}).get(kind, [])):
            path = (file.parent / rel).resolve()
            if not path.is_file():
                problems.append(doc.problem(("fragments", kind, index),
                                            f"fragment file {rel} not found"))
            files.append(path)
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
                          tuple(_partition(p) for p in data["image"]["partitions"])),
        fragments=tuple(fragments),
        layer_lines=tuple(doc.line(("layers", i)) for i in range(len(data["layers"]))),
        allow_unhashed=tuple(data.get("sources", {}).get("allow_unhashed", ())),
    )
    return board, []


def load_boards(project: Project) -> tuple[dict[str, Board], list[Problem]]:
    boards: dict[str, Board] = {}
    problems: list[Problem] = []
    for file in sorted(project.boards_dir.glob("*.yaml"), key=lambda p: os.fsencode(p.name)):
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", file.stem):
            problems.append(Problem(project.display(file), None, None,
                                    "a board file name (the workspace name) uses letters, "
                                    "digits, '.', '_' and '-'"))
            continue
        board, found = load_board(project, file)
        problems += found
        if board:
            boards[board.name] = board
    return boards, problems
