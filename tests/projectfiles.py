"""Building small skiffbuild projects in a temporary directory for tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

__all__ = ["PIN_SHA", "board_yaml", "layer_yaml", "write_files", "write_project"]

PIN_SHA = "679b9ead7620bbf193620d1ebf56f53c1764d37a"


def write_files(root: Path, files: dict[str, str | None]) -> None:
    """Write ``files`` (path -> text; a trailing '/' key makes a directory)."""
    for rel, text in files.items():
        path = root / rel
        if rel.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            path.unlink(missing_ok=True)
            continue
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        if rel.endswith(".sh"):
            path.chmod(0o755)


def layer_yaml(description: str, deps: list[str] | None = None, extra: str = "") -> str:
    text = f"format: 1\ndescription: {description}\n"
    if deps is not None:
        text += f"dependencies: [{', '.join(deps)}]\n"
    return text + textwrap.dedent(extra)


def board_yaml(layers: list[str], description: str = "Test board", extra: str = "") -> str:
    return (
        "format: 1\n"
        f"description: {description}\n"
        "architecture: x86_64\n"
        f"layers: [{', '.join(layers)}]\n"
        "image:\n"
        "  table: mbr\n"
        "  partitions:\n"
        "    - name: boot\n"
        "      filesystem: vfat\n"
        "      size: 32M\n"
        "      contents:\n"
        "        - source: bzImage\n"
        + extra
    )


def write_project(root: Path, files: dict[str, str | None], *, url: str = "https://example.invalid/buildroot.git",
                  commit: str = PIN_SHA, tag: str | None = "2026.02.3") -> Path:
    """A project with a pin, plus ``files``."""
    pin = f"format: 1\nurl: {url}\ncommit: {commit}\n"
    if tag:
        pin += f"tag: {tag}\n"
    base: dict[str, str | None] = {"manifests/buildroot.yaml": pin, "manifests/boards/": ""}
    write_files(root, {**base, **files})
    return root


def bundled_project_with_image(root: Path, source: Path, workspace: str, size: int) -> Path:
    """A copy of the bundled layers, manifests and pin at ``root``, with a random ``size``-byte
    stand-in for ``workspace``'s disk image (for layer commands that only read it)."""
    import os
    import shutil

    shutil.copytree(source / "layers", root / "layers", symlinks=True)
    shutil.copytree(source / "manifests", root / "manifests")
    shutil.copytree(source / "buildroot", root / "buildroot")
    image = root / "workspaces" / workspace / "image" / f"{workspace}.img"
    image.parent.mkdir(parents=True)
    image.write_bytes(os.urandom(size))
    return root
