"""The unpacked size of an initramfs, read as the kernel reads it: segments of cpio
archives, plain or compressed, with zero padding; hostile archives refused cheaply."""

from __future__ import annotations

import gzip
import io
import lzma
import subprocess
from pathlib import Path

import pytest

from skiffbuild.image.initramfs import InitramfsError, unpacked_size


def cpio(root: Path, files: dict[str, bytes]) -> bytes:
    """A newc archive made by GNU cpio, as Buildroot makes them."""
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    return subprocess.run(["cpio", "--quiet", "-o", "-H", "newc"], cwd=root, check=True,
                          input="\n".join(names).encode(), capture_output=True).stdout


def size(data: bytes) -> int:
    return unpacked_size(io.BytesIO(data))


def test_segments_plain_and_compressed_with_padding(tmp_path: Path) -> None:
    micro = cpio(tmp_path / "m", {"kernel/x86/microcode/GenuineIntel.bin": b"u" * 1000})
    root = cpio(tmp_path / "r", {"init": b"#!/bin/sh\n" * 30, "bin/busybox": b"b" * 70000})
    extra = cpio(tmp_path / "e", {"etc/extra": b"e" * 5})
    # The early microcode archive plain, then the root filesystem gzip'ed, padded to 512,
    # then one xz'ed segment holding two archives with padding between them.
    padded = micro + b"\0" * (-len(micro) % 512)
    data = (padded + gzip.compress(root, mtime=0) + b"\0" * 300
            + lzma.compress(root + b"\0" * 4 + extra, format=lzma.FORMAT_XZ))
    assert size(data) == 1000 + 2 * (300 + 70000) + 5


def test_a_name_longer_than_path_max_is_refused_before_it_is_read() -> None:
    header = b"070701" + b"00000000" * 11 + b"7FFFFFFF" + b"00000000"
    with pytest.raises(InitramfsError, match=r"cpio name of 2147483647 bytes \(at most 4096\)"):
        size(gzip.compress(header + b"x" * 100))


@pytest.mark.parametrize(("data", "error"), [
    (b"070701" + b"0" * 50, r"truncated cpio archive \(header\)"),
    (gzip.compress(b"070701")[:-6], "truncated gzip segment"),
    (b"\x28\xb5\x2f\xfd" + b"\0" * 20, "a zstd-compressed segment at byte 0: skiffbuild reads "
                                       "gzip and xz"),
    (b"\0" * 8 + b"junk!!", "no cpio archive or compressed segment at byte 8"),
    (b"070701" + b"zz" * 52, r"bad cpio header \(not hexadecimal\)"),
])
def test_broken_archives_say_what_is_wrong(data: bytes, error: str) -> None:
    with pytest.raises(InitramfsError, match=error):
        size(data)


def test_zero_padding_is_skipped_in_blocks(tmp_path: Path) -> None:
    root = cpio(tmp_path / "r", {"a": b"a"})
    # 64 MiB of zeros inside a gzip member of 64 KiB, then the archive.
    assert size(gzip.compress(b"\0" * (64 << 20) + root, mtime=0)) == 1
