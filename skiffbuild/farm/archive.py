"""The stage cache's blob: a reproducible tar.gz of a workspace's outputs, and an
extraction that writes only inside a new, empty directory.

The blob's bytes are verified against a signed sha256 before it is opened, so a hostile
archive needs a trusted builder's key; it is still refused, member by member, before
anything is written: a name that is not in normal form (``a/./b``, ``a//b``, ``a/``,
``..``), absolute, or outside ``images/``, ``target/`` and ``build/``; a name given twice
(a file written through a symlink of the same name); a member under one of the archive's
own symlinks; a hard link to anything but an earlier regular file; devices, fifos and
sockets. Symlink targets are only text (a root filesystem has absolute ones): nothing is
ever written through them.
"""

from __future__ import annotations

import gzip
import posixpath
import tarfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ROOTS", "UnsafeArchive", "check", "pack", "unpack"]

ROOTS = ("images", "target", "build")  # what an entry may hold, under output/


class UnsafeArchive(ValueError):
    """A member that could write outside the directory it is unpacked into."""


def _walk(root: Path) -> Iterator[Path]:
    yield root
    if root.is_dir() and not root.is_symlink():
        for child in sorted(root.iterdir()):
            yield from _walk(child)


def pack(output: Path, dest: Path, epoch: int) -> None:
    """``output/images``, ``output/target`` and Buildroot's ``packages-file-list*.txt``
    into ``dest``: sorted, owners 0, times ``epoch``, gzip without a timestamp, so the
    same outputs give the same bytes (and one blob in the store)."""
    paths = [p for d in ROOTS[:2] if (output / d).is_dir() for p in _walk(output / d)]
    paths += sorted((output / "build").glob("packages-file-list*.txt"))
    with open(dest, "wb") as raw, \
            gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in paths:
            info = tar.gettarinfo(str(path), str(path.relative_to(output)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = epoch, 0, 0, "", ""
            info.pax_headers = {}
            if info.isreg():
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            elif info.isdir() or info.issym() or info.islnk():
                tar.addfile(info)
            # sockets, fifos, devices: never in Buildroot's target/ (fakeroot makes them
            # in the filesystem images)


def check(members: list[tarfile.TarInfo]) -> None:
    """Raise UnsafeArchive for the first member that could write outside the directory
    (see the module's docstring)."""
    seen: dict[str, tarfile.TarInfo] = {}
    links: set[str] = set()
    for m in members:
        name = m.name
        parts = name.split("/")
        if (not name or name.startswith("/") or posixpath.normpath(name) != name
                or ".." in parts or parts[0] not in ROOTS):
            raise UnsafeArchive(f"member {name!r} refused: not a plain relative name under "
                                f"{', '.join(ROOTS)}")
        if not (m.isreg() or m.isdir() or m.issym() or m.islnk()):
            raise UnsafeArchive(f"member {name!r} refused: not a file, directory or link")
        if name in seen:
            raise UnsafeArchive(f"member {name!r} is in the archive twice")
        if any("/".join(parts[:i]) in links for i in range(1, len(parts))):
            raise UnsafeArchive(f"member {name!r} is under a symbolic link of the archive")
        if m.islnk():
            target = seen.get(m.linkname)
            if target is None or not target.isreg():
                raise UnsafeArchive(f"hard link {name!r} to {m.linkname!r}: not an earlier "
                                    "regular file of the archive")
        if m.issym():
            links.add(name)
        seen[name] = m


def unpack(blob: Path, into: Path) -> None:
    """Extract ``blob`` into ``into`` (a new, empty directory) after ``check``."""
    with tarfile.open(blob, "r:gz") as tar:
        members = tar.getmembers()
        check(members)
        # Permissions as built (not the "data" filter's: a setuid bit Buildroot set
        # stays); the checks above are what keeps every write inside ``into``. All at
        # once: a read-only directory gets its mode after what goes into it.
        if hasattr(tarfile, "fully_trusted_filter"):  # Python 3.10.12 and later
            tar.extractall(into, members=members, filter="fully_trusted")
        else:  # pragma: no cover
            tar.extractall(into, members=members)
