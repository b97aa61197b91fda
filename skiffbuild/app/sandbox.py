"""The try-out's sandbox: real copies of the user's layers and boards, and stand-in hashes.

The try-out project must never write into the user's tree, so its ``layers/`` and
``manifests/boards/`` are copies, refreshed from the project on every try-out (a
symlink in them that stays inside the copied tree is kept as a link, any other is
replaced by a copy of what it names, so no path in the sandbox leads back out).

The test tree's stand-in source tarballs have other bytes than the real files of the
same name, so a hash a layer pins for a real file (pi/common's Raspberry Pi kernel)
cannot match. In the sandbox copy only, such a line is replaced by the stand-in's
sha256, the way ``tests/conftest.py``'s ``use_standin_pi_kernel`` does for the tests.

The try-out boots x86_64 images until the test tree's init powers them off
(``skiffbuild.test=poweroff`` on the kernel command line). A syslinux board gets it from
the try-out's post-image override; a board whose image step installs GRUB has its
command line in the manifest, so the sandbox copy's ``grub.cmdline`` gets it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import yaml

from skiffbuild.core.fsutil import atomic_write

__all__ = ["POWEROFF", "STANDIN_NOTE", "poweroff_after_boot", "refresh_copy",
           "use_standin_hashes"]

STANDIN_NOTE = ("# skiffbuild try-out: the sha256 of the test tree's stand-in file, not of the "
                "real one (this copy only)")


def _remove(path: Path) -> None:
    """Remove ``path`` without ever following a symlink."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def refresh_copy(src: Path, dst: Path) -> None:
    """Replace ``dst`` (a directory, file or symlink, even one into the user's tree) by a
    copy of the directory ``src`` with no symlink leading outside the copy."""
    root = src.resolve()
    tmp = dst.with_name(f".{dst.name}.new")
    _remove(tmp)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(root, tmp, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(tmp):
        for name in dirnames + filenames:
            link = Path(dirpath) / name
            if not link.is_symlink():
                continue
            original = root / link.relative_to(tmp)
            target = original.resolve()
            if not os.path.isabs(os.readlink(link)) and _inside(target, root):
                continue  # stays a link inside the copy
            link.unlink()
            if target.is_dir():
                shutil.copytree(target, link, symlinks=False)
            elif target.is_file():
                shutil.copy2(target, link)
            # a dangling link is dropped
    _remove(dst)
    tmp.rename(dst)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _standin(site: Path, package: str, name: str) -> Path | None:
    preferred = site / package / name
    if preferred.is_file():
        return preferred
    found = sorted(p for p in site.glob(f"*/{name}") if p.is_file())
    return found[0] if found else None


def use_standin_hashes(layers: Path, site: Path) -> list[Path]:
    """Make every ``.hash`` file of the layers' ``buildroot_patches/`` under ``layers`` (the
    sandbox copy) name the stand-in's sha256 for a file the site serves with other bytes;
    return the hash files changed."""
    changed = []
    for hash_file in sorted(layers.glob("*/*/buildroot_patches/*/**/*.hash")):
        package = hash_file.relative_to(layers).parts[3]
        lines = hash_file.read_text(encoding="utf-8", errors="replace").splitlines()
        out: list[str] = []
        done: set[str] = set()
        for line in lines:
            parts = line.split()
            standin = (_standin(site, package, parts[2])
                       if len(parts) == 3 and not line.lstrip().startswith("#") else None)
            if standin is None:
                out.append(line)
                continue
            name = parts[2]
            if name in done:
                continue  # one sha256 line per stand-in file
            done.add(name)
            digest = _sha256(standin)
            if parts[0] == "sha256" and parts[1].lower() == digest:
                out.append(line)
                continue
            out += [STANDIN_NOTE, f"sha256  {digest}  {name}"]
        if out != lines:
            atomic_write(hash_file, "\n".join(out) + "\n")
            changed.append(hash_file)
    return changed


POWEROFF = "skiffbuild.test=poweroff"
_CMDLINE = re.compile(r"^(?P<key>[ \t]+cmdline:[ \t]*)(?P<value>[^#\s].*?)"
                      r"(?P<comment>[ \t]+#.*)?[ \t]*$")
_GRUB = re.compile(r"^(?P<indent>[ \t]*)grub:[ \t]*(#.*)?$")


def _grub_cmdlines(data: object) -> list[str]:
    parts = data.get("image", {}).get("partitions", []) if isinstance(data, dict) else []
    return [p["grub"]["cmdline"] for p in parts if isinstance(p, dict)
            and p.get("bootloader") == "grub" and isinstance(p.get("grub"), dict)
            and isinstance(p["grub"].get("cmdline"), str)]


def _with_poweroff(line: str, wanted: list[str]) -> str:
    m = _CMDLINE.match(line)
    if m is None:
        return line
    try:
        value = yaml.safe_load(m.group("value"))
    except yaml.YAMLError:
        return line
    if value not in wanted:
        return line
    return (m.group("key") + json.dumps(f"{value} {POWEROFF}", ensure_ascii=False)
            + (m.group("comment") or ""))


def poweroff_after_boot(boards: Path) -> list[Path]:
    """Append ``skiffbuild.test=poweroff`` to every GRUB command line (a ``cmdline:``
    inside a ``grub:`` mapping) of the board manifests in ``boards`` (the sandbox copy);
    return the manifests changed. A line the edit cannot find as written is left alone
    (that board's boot then does not end)."""
    changed = []
    for board in sorted(boards.glob("*.yaml")):
        text = board.read_text(encoding="utf-8", errors="replace")
        try:
            wanted = [c for c in _grub_cmdlines(yaml.safe_load(text)) if POWEROFF not in c]
        except yaml.YAMLError:
            continue
        lines = text.split("\n")
        grub: int | None = None  # the indentation of the grub: mapping being read
        for i, line in enumerate(lines):
            indent = len(line) - len(line.lstrip(" \t"))
            if grub is not None and line.strip() and indent <= grub:
                grub = None
            found = _GRUB.match(line)
            if found:
                grub = len(found.group("indent"))
            elif grub is not None and wanted:
                lines[i] = _with_poweroff(line, wanted)
        new = "\n".join(lines)
        if wanted and new != text:
            atomic_write(board, new)
            changed.append(board)
    return changed
