"""Reading filesystem images: the file list, with content digests and metadata.

Used to explain why two builds differ: each partition image (and a cpio
initramfs inside it) becomes a map of path -> (kind, mode, owner, size,
mtime, sha256), and two maps are compared entry by entry.

- squashfs: extracted with ``unsquashfs``;
- ext4: extracted with ``debugfs rdump``;
- vfat: extracted with ``mcopy -s``; times and attributes from ``mdir``;
- cpio (newc, optionally gzip'ed): parsed directly, no extraction.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiffbuild.core.runner import query

__all__ = ["Entry", "compare", "filesystem_of", "list_image"]


@dataclass(frozen=True)
class Entry:
    kind: str  # file | dir | link | other
    mode: int
    owner: str
    size: int
    mtime: int
    sha256: str  # of the content (files), of the target (links), empty otherwise

    def metadata(self) -> tuple[Any, ...]:
        return (self.kind, self.mode, self.owner, self.mtime)


def filesystem_of(path: Path) -> str | None:
    with open(path, "rb") as f:
        head = f.read(2048)
    if head[:4] == b"hsqs":
        return "squashfs"
    if len(head) >= 1082 and head[1080:1082] == b"\x53\xef":
        return "ext4"
    if head[510:512] == b"\x55\xaa" and (b"FAT" in head[54:62] or b"FAT" in head[82:90]):
        return "vfat"
    if head[:6] in (b"070701", b"070702") or head[:2] == b"\x1f\x8b":
        return "cpio"
    return None


def _walk(root: Path) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        st = path.lstat()
        owner = f"{st.st_uid}:{st.st_gid}"
        if path.is_symlink():
            entries[rel] = Entry("link", st.st_mode & 0o7777, owner, 0, int(st.st_mtime),
                                 hashlib.sha256(os.readlink(path).encode()).hexdigest())
        elif path.is_dir():
            entries[rel] = Entry("dir", st.st_mode & 0o7777, owner, 0, int(st.st_mtime), "")
        elif path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            entries[rel] = Entry("file", st.st_mode & 0o7777, owner, st.st_size,
                                 int(st.st_mtime), digest)
        else:
            entries[rel] = Entry("other", st.st_mode & 0o7777, owner, 0, int(st.st_mtime), "")
    return entries


def _cpio(data: bytes) -> dict[str, Entry]:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    entries: dict[str, Entry] = {}
    pos = 0
    while pos + 110 <= len(data):
        header = data[pos:pos + 110]
        if header[:5] != b"07070":
            break
        fields = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, uid, gid, mtime, size, namesize = (fields[1], fields[2], fields[3], fields[5],
                                                 fields[6], fields[11])
        name_start = pos + 110
        name = data[name_start:name_start + namesize - 1].decode(errors="replace")
        body = (name_start + namesize + 3) & ~3
        content = data[body:body + size]
        pos = (body + size + 3) & ~3
        if name == "TRAILER!!!":
            break
        kind = {0o100000: "file", 0o040000: "dir", 0o120000: "link"}.get(mode & 0o170000,
                                                                           "other")
        entries[name.removeprefix("./")] = Entry(
            kind, mode & 0o7777, f"{uid}:{gid}", size if kind == "file" else 0, mtime,
            hashlib.sha256(content).hexdigest() if kind in ("file", "link") else "")
    return entries


def list_image(image: Path, kind: str | None = None) -> dict[str, Entry]:
    """Every entry of a filesystem image (or cpio archive) with its metadata."""
    kind = kind or filesystem_of(image)
    if kind == "cpio":
        return _cpio(image.read_bytes())
    with tempfile.TemporaryDirectory(prefix="skiffbuild-inspect-") as tmp:
        dest = Path(tmp) / "root"
        if kind == "squashfs":
            query(["unsquashfs", "-q", "-n", "-d", dest, image])
        elif kind == "ext4":
            dest.mkdir()
            query(["debugfs", "-R", f"rdump / {dest}", image])
            shutil.rmtree(dest / "lost+found", ignore_errors=True)
        elif kind == "vfat":
            dest.mkdir()
            query(["mcopy", "-s", "-m", "-n", "-i", image, "::/*", dest],
                  extra_env={"MTOOLS_SKIP_CHECK": "1", "TZ": "UTC"})
        else:
            return {}
        return _walk(dest)


def compare(a: dict[str, Entry], b: dict[str, Entry]) -> list[tuple[str, str, str]]:
    """(path, kind of difference, detail) for every entry that differs."""
    found = []
    for path in sorted(set(a) | set(b)):
        if path not in b:
            found.append((path, "only-in-a", a[path].kind))
        elif path not in a:
            found.append((path, "only-in-b", b[path].kind))
        elif a[path].sha256 != b[path].sha256 or a[path].size != b[path].size:
            found.append((path, "content", f"sha256 {a[path].sha256[:16]} vs "
                                           f"{b[path].sha256[:16]}"))
        elif a[path].metadata() != b[path].metadata():
            fields = [name for name, x, y in zip(("kind", "mode", "owner", "mtime"),
                                                 a[path].metadata(), b[path].metadata(),
                                                 strict=True) if x != y]
            found.append((path, "metadata", ", ".join(
                f"{f} {getattr(a[path], f)} vs {getattr(b[path], f)}" for f in fields)))
    return found
