"""image:<ws> notices published files that no longer match SHA256SUMS (issue 13,
finding 2), and `doit info` shows its facts as plain data (finding 7)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from projectfiles import board_yaml, layer_yaml, write_project

from skiffbuild.image import assemble
from skiffbuild.image.published import PublishedIntact


class Task:
    def __init__(self) -> None:
        self.value_savers: list[Any] = []


def publish(directory: Path, files: dict[str, bytes]) -> Path:
    lines = []
    for name, data in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    sums = directory / "SHA256SUMS"
    sums.write_text("".join(lines))
    return sums


@pytest.fixture
def built(tmp_path: Path) -> tuple[PublishedIntact, dict[str, Any]]:
    """The check after a build: its value saver ran, as doit does after the action."""
    sums = publish(tmp_path, {"ws.img": os.urandom(8192),
                              "partitions/boot.vfat": os.urandom(4096)})
    check = PublishedIntact(sums)
    task = Task()
    check.configure_task(task)
    values: dict[str, Any] = {}
    for saver in task.value_savers:
        values.update(saver())
    return check, values


def test_an_untouched_image_is_up_to_date_without_reading_it(
        built: tuple[PublishedIntact, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    check, values = built

    def no_reading(path: Path) -> str:
        raise AssertionError(f"read {path}")

    monkeypatch.setattr(assemble, "sha256_file", no_reading)
    assert check(Task(), values) is True


def test_a_written_image_is_not_up_to_date(
        built: tuple[PublishedIntact, dict[str, Any]]) -> None:
    check, values = built
    disk = check.sums.parent / "ws.img"
    stat = disk.stat()
    with open(disk, "r+b") as f:  # what a read-write boot does: same size, same mtime
        f.seek(100)
        f.write(b"written by the guest")
    os.utime(disk, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert check(Task(), values) is False


def test_a_touched_but_equal_file_is_up_to_date(
        built: tuple[PublishedIntact, dict[str, Any]]) -> None:
    check, values = built
    part = check.sums.parent / "partitions/boot.vfat"
    part.write_bytes(part.read_bytes())  # new identity, same content: hashed, equal
    assert check(Task(), values) is True


def test_missing_or_edited_sums_or_files(built: tuple[PublishedIntact, dict[str, Any]]) -> None:
    check, values = built
    sums = check.sums
    text = sums.read_text()
    # Another digest for an unchanged file: the files are checked against the new text.
    sums.write_text(text.replace(text[:64], "0" * 64))
    assert check(Task(), values) is False
    sums.write_text("not a checksum line\n")
    assert check(Task(), values) is False
    sums.write_text(text)
    assert check(Task(), values) is True
    (sums.parent / "partitions/boot.vfat").unlink()
    assert check(Task(), values) is False
    sums.unlink()
    assert check(Task(), values) is False


def test_before_any_build_nothing_is_trusted(tmp_path: Path) -> None:
    sums = publish(tmp_path, {"ws.img": b"x" * 100})
    assert PublishedIntact(sums)(Task(), {}) is True  # content matches: hashed
    assert PublishedIntact(tmp_path / "none" / "SHA256SUMS")(Task(), {}) is False


def test_image_task_checks_sums_and_shows_plain_facts(tmp_path: Path) -> None:
    from skiffbuild.core.settings import Settings
    from skiffbuild.engine.tasks import doit_tasks

    root = write_project(tmp_path / "proj", {
        "layers/skiff/base/layer.yaml": layer_yaml("Common base"),
        "manifests/boards/vm.yaml": board_yaml(["skiff/base"]),
    })
    tasks = doit_tasks(Settings.from_environment({"SKIFFBUILD_PROJECT": str(root)}))
    (image,) = [t for t in tasks["task_image"]() if t["name"] == "vm"]
    facts, intact = image["uptodate"]
    assert isinstance(intact, PublishedIntact)
    assert intact.sums == root / "workspaces/vm/image/SHA256SUMS"
    assert repr(intact) == f"the files listed in {intact.sums} match it"
    shown = repr(facts)
    assert "ImageLayout(" not in shown and "Partition(" not in shown
    assert shown.startswith(
        "config_changed({'layout': {'table': 'mbr', 'partitions': [{'name': 'boot', "
        "'filesystem': 'vfat', 'size': 33554432, 'type': None, 'bootable': False, "
        "'label': None, 'image': None, 'contents': [{'source': 'bzImage', "
        "'destination': '/'}], 'bootloader': None, 'grub': None, 'group': None, "
        "'slot': None}]}, 'budget': [], 'code': '")
