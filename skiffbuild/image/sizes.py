"""Where an image's bytes go.

The root filesystem by package, from what Buildroot records of which package installed
which file (``$(BUILD_DIR)/packages-file-list.txt``, lines ``<pkg>,./<path>``, written at
target-finalize from every package's ``.files-list.txt``), counted as Buildroot's own
``size-stats`` counts: regular files of the target directory (symlinks cost no data),
each hard-linked file once, a file listed by several packages to the last one. What no
package installed came from a layer's root overlay (``overlay:<layer>``, the last layer
that has the path, as Buildroot copies overlays in order) or a post-build script
(``unknown``, Buildroot's word).

The memory a kernel and an initramfs take at boot is read from the files themselves: an
x86 bzImage's boot header says how much linear memory its decompression and
initialisation need (``init_size``, boot protocol 2.10 and later), an arm64 Image's header
the memory its image spans; an initramfs takes its unpacked size in the kernel's rootfs.
"""

from __future__ import annotations

import lzma
import os
import stat
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.core.errors import SkiffError
from skiffbuild.image.initramfs import InitramfsError, unpacked_size
from skiffbuild.model.model import Partition

__all__ = ["UNKNOWN", "PackageUse", "RamUse", "compressed_size", "file_owners", "image_report",
           "ram_use", "rootfs_compression", "rootfs_use"]

UNKNOWN = "unknown"
FILE_LIST = "packages-file-list.txt"


@dataclass(frozen=True)
class PackageUse:
    """What one package (or overlay, or ``unknown``) puts into the root filesystem."""

    name: str
    files: int
    bytes: int
    compressed: int | None = None  # an estimate, with the root filesystem's compressor


@dataclass(frozen=True)
class RamUse:
    """The memory one file of the images directory takes at boot."""

    file: str
    what: str  # "kernel" | "initramfs"
    bytes: int
    how: str  # how it was measured, for the report


def file_owners(output: Path, overlays: Sequence[tuple[str, Path]] = ()) -> dict[str, str]:
    """Path in the target directory (``usr/bin/x``) -> the package that installed it last.
    ``overlays`` are (layer, overlay directory) in the order Buildroot copies them."""
    owners: dict[str, str] = {}
    listing = output / "build" / FILE_LIST
    try:
        text = listing.read_text(errors="surrogateescape")
    except FileNotFoundError:
        raise SkiffError(f"{listing} does not exist: Buildroot writes it when it finalizes "
                         "the target directory", hint="build the workspace first") from None
    for line in text.splitlines():
        pkg, sep, path = line.partition(",")
        if sep and path.startswith("./"):
            owners[path[2:]] = pkg
    target = output / "target"
    for layer, overlay in overlays:
        for rel in _files(overlay):
            if (target / rel).exists() or (target / rel).is_symlink():
                owners[rel] = f"overlay:{layer}"
    return owners


def _files(root: Path) -> Iterator[str]:
    """Relative paths of the regular files and symlinks under ``root``, in byte order."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort(key=os.fsencode)
        for name in sorted(filenames, key=os.fsencode):
            yield os.path.relpath(os.path.join(dirpath, name), root)


def rootfs_use(output: Path, overlays: Sequence[tuple[str, Path]] = (), *,
               compression: str | None = None) -> list[PackageUse]:
    """Bytes of the target directory per package, largest first (then by name).
    ``compression`` (gzip, xz) adds each package's compressed size, file by file as
    squashfs compresses."""
    owners = file_owners(output, overlays)
    target = output / "target"
    seen: set[tuple[int, int]] = set()
    per: dict[str, list[tuple[int, Path]]] = {}
    for rel in _files(target):
        path = target / rel
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode) or (info.st_dev, info.st_ino) in seen:
            continue
        seen.add((info.st_dev, info.st_ino))
        per.setdefault(owners.get(rel, UNKNOWN), []).append((info.st_size, path))
    uses = []
    for name, files in per.items():
        packed = sum(compressed_size(path, compression) for _size, path in files) \
            if compression else None
        uses.append(PackageUse(name, len(files), sum(size for size, _path in files), packed))
    return sorted(uses, key=lambda u: (-u.bytes, u.name))


def rootfs_compression(config: dict[str, str]) -> str:
    """How compressed sizes are estimated, from the board's ``.config``: with the root
    filesystem image's own compressor when Python has it (gzip, xz), else with gzip,
    naming what it stands in for (``gzip, for zstd``)."""
    for fs in ("SQUASHFS4", "CPIO", "EXT2", "TAR"):
        for method in ("XZ", "GZIP", "ZSTD", "LZ4", "LZO", "LZMA", "BZIP2"):
            if config.get(f"BR2_TARGET_ROOTFS_{fs}_{method}") == "y":
                name = method.lower()
                return name if name in ("xz", "gzip") else f"gzip, for {name}"
    return "gzip"


def compressed_size(path: Path, method: str | None) -> int:
    data = path.read_bytes()
    if method == "xz":
        return len(lzma.compress(data, preset=6))
    return len(zlib.compress(data, 9))


# -- memory at boot ------------------------------------------------------------------

def ram_use(path: Path) -> RamUse:
    """The memory ``path`` takes at boot; a SkiffError naming the file when it is neither
    a kernel nor an initramfs skiffbuild can read."""
    with open(path, "rb") as f:
        head = f.read(0x270)
        if head[0x202:0x206] == b"HdrS":
            if len(head) < 0x264:
                raise SkiffError(f"{path.name}: an x86 boot header cut short "
                                 f"({len(head)} bytes)")
            version = struct.unpack_from("<H", head, 0x206)[0]
            if version < 0x020A:
                raise SkiffError(f"{path.name}: boot protocol {version >> 8}."
                                 f"{version & 0xff} has no init_size (2.10 and later)")
            init_size = struct.unpack_from("<I", head, 0x260)[0]
            return RamUse(path.name, "kernel", init_size, "x86 boot header init_size")
        if head[0x38:0x3C] == b"ARM\x64":
            image_size = struct.unpack_from("<Q", head, 0x10)[0]
            if image_size:
                return RamUse(path.name, "kernel", image_size, "arm64 header image_size")
            return RamUse(path.name, "kernel", path.stat().st_size, "arm64 file size")
        if head[:6] not in (b"070701", b"070702") and head[:2] != b"\x1f\x8b" \
                and head[:6] != b"\xfd7zXZ\x00":
            raise SkiffError(f"{path.name} is neither a kernel (x86 bzImage, arm64 Image) nor "
                             "an initramfs (cpio: plain, gzip or xz)",
                             hint="a ram: budget names a kernel or an initramfs of Buildroot's "
                                  "images directory")
        f.seek(0)
        try:
            unpacked = unpacked_size(f)
        except InitramfsError as exc:
            raise SkiffError(f"{path.name}: not an initramfs skiffbuild can read: {exc}") \
                from None
    return RamUse(path.name, "initramfs", unpacked, "unpacked cpio")


# -- the record image:<ws> keeps -----------------------------------------------------

def image_report(disk: Path, built: Sequence[tuple[Partition, Path]],
                 uses: Sequence[PackageUse] | None,
                 budgets: Sequence[dict[str, object]]) -> dict[str, object]:
    """``image/size.json``: the disk, each partition, the root filesystem by package
    (None when Buildroot wrote no file list) and the budget rows. No time, no path
    outside the workspace: identical builds record identical bytes."""
    return {
        "disk": {"file": disk.name, "bytes": disk.stat().st_size},
        "partitions": [{"name": part.name, "filesystem": part.filesystem,
                        "size": part.size, "image_bytes": image.stat().st_size}
                       for part, image in built],
        "rootfs": None if uses is None else {
            "bytes": sum(u.bytes for u in uses),
            "packages": [{"name": u.name, "files": u.files, "bytes": u.bytes} for u in uses]},
        "budgets": list(budgets),
    }
