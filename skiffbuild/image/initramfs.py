"""How much memory an initramfs takes once the kernel has unpacked it.

Read as the kernel reads it (``init/initramfs.c``): a sequence of segments, each a newc
cpio archive (``070701``/``070702``), plain or compressed, with zero padding between
them (a microcode archive, then the compressed root filesystem, is the common case).
Inside a compressed segment, archives may follow one another with zero padding too.
Every entry's data counts: it lands in the kernel's rootfs (tmpfs). gzip and xz are read;
the kernel's other methods (bzip2, lzma, lzo, lz4, zstd) are named and refused.

The file is untrusted: names longer than PATH_MAX are refused before they are read, data
is skipped in bounded chunks, decompressed output is produced a chunk at a time, so
neither memory nor time grows faster than the data itself.
"""

from __future__ import annotations

import lzma
import zlib
from typing import BinaryIO, Protocol

__all__ = ["InitramfsError", "unpacked_size"]

_CHUNK = 1 << 16
_PATH_MAX = 4096  # the kernel refuses longer names (N_ALIGN(name_len) > PATH_MAX)
_HEADER = 110
_CPIO = (b"070701", b"070702")
_OTHER = ((b"BZh", "bzip2"), (b"\x5d\x00\x00", "lzma"), (b"\x89LZO", "lzo"),
          (b"\x02\x21\x4c\x18", "lz4"), (b"\x28\xb5\x2f\xfd", "zstd"))


class InitramfsError(ValueError):
    """Not an initramfs the kernel would unpack, or one skiffbuild cannot read."""


class _Reader(Protocol):
    def read(self, count: int) -> bytes: ...


class _Raw:
    """The file, with bytes a decompressor read past its member's end pushed back."""

    def __init__(self, f: BinaryIO) -> None:
        self.f, self.back = f, b""
        self.offset = 0  # of the next byte read, for messages

    def read(self, count: int) -> bytes:
        if self.back:
            data, self.back = self.back[:count], self.back[count:]
        else:
            data = self.f.read(count)
        self.offset += len(data)
        return data

    def unread(self, data: bytes) -> None:
        self.back = data + self.back
        self.offset -= len(data)


class _Inflate:
    """The decompressed bytes of one gzip or xz member of ``raw``, a chunk at a time."""

    def __init__(self, raw: _Raw, method: str) -> None:
        self.raw, self.method, self.out, self.done = raw, method, b"", False
        self.zlib = zlib.decompressobj(31) if method == "gzip" else None
        self.xz = lzma.LZMADecompressor(lzma.FORMAT_XZ) if method == "xz" else None

    def _more(self) -> None:
        try:
            if self.zlib is not None:
                data = self.zlib.unconsumed_tail or self.raw.read(_CHUNK)
                if not data:
                    raise InitramfsError("truncated gzip segment")
                self.out += self.zlib.decompress(data, _CHUNK)
                if self.zlib.eof:  # unused_data: every input byte after the member
                    self.raw.unread(self.zlib.unused_data)
                    self.done = True
            else:
                assert self.xz is not None
                data = self.raw.read(_CHUNK) if self.xz.needs_input else b""
                if not data and self.xz.needs_input:
                    raise InitramfsError("truncated xz segment")
                self.out += self.xz.decompress(data, _CHUNK)
                if self.xz.eof:
                    self.raw.unread(self.xz.unused_data)
                    self.done = True
        except (zlib.error, lzma.LZMAError) as exc:
            raise InitramfsError(f"bad {self.method} data ({exc})") from None

    def read(self, count: int) -> bytes:
        while len(self.out) < count and not self.done:
            self._more()
        data, self.out = self.out[:count], self.out[count:]
        return data


def _exactly(stream: _Reader, count: int, what: str) -> bytes:
    data = b""
    while len(data) < count:
        chunk = stream.read(min(count - len(data), _CHUNK))
        if not chunk:
            raise InitramfsError(f"truncated cpio archive ({what})")
        data += chunk
    return data


def _skip(stream: _Reader, count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, _CHUNK))
        if not chunk:
            raise InitramfsError("truncated cpio archive (file data)")
        count -= len(chunk)


def _archive(stream: _Reader, magic: bytes) -> int:
    """The data bytes of one cpio archive whose first 6 bytes (``magic``) were read; the
    stream is left after its trailer's padding."""
    total = 0
    while True:
        if magic not in _CPIO:
            raise InitramfsError(f"bad cpio magic {magic!r}")
        header = _exactly(stream, _HEADER - 6, "header")
        try:
            fields = [int(header[i:i + 8], 16) for i in range(0, _HEADER - 6, 8)]
        except ValueError:
            raise InitramfsError("bad cpio header (not hexadecimal)") from None
        filesize, namesize = fields[6], fields[11]
        if not 0 < namesize <= _PATH_MAX:
            raise InitramfsError(f"cpio name of {namesize} bytes (at most {_PATH_MAX})")
        name = _exactly(stream, namesize, "name")[:-1]
        _skip(stream, (-(_HEADER + namesize)) % 4)
        if name == b"TRAILER!!!":
            return total
        _skip(stream, filesize + (-filesize) % 4)
        total += filesize
        magic = _exactly(stream, 6, "header")


def _nonzero(stream: _Reader) -> bytes:
    """Skip zero padding; the first 6 bytes after it (b"" at the end)."""
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return b""
        rest = chunk.lstrip(b"\0")
        if rest:
            while len(rest) < 6:
                more = stream.read(6 - len(rest))
                if not more:
                    break
                rest += more
            if isinstance(stream, _Raw):
                stream.unread(rest[6:])
                return rest[:6]
            # A decompressed stream: keep what was read past the magic.
            assert isinstance(stream, _Inflate)
            stream.out = rest[6:] + stream.out
            return rest[:6]


def unpacked_size(f: BinaryIO) -> int:
    """The data bytes of every entry of the initramfs in ``f``."""
    raw, total = _Raw(f), 0
    while True:
        head = _nonzero(raw)
        if not head:
            return total
        if head in _CPIO:
            total += _archive(raw, head)
            continue
        if head[:2] == b"\x1f\x8b" or head[:6] == b"\xfd7zXZ\x00":
            raw.unread(head)
            inner = _Inflate(raw, "gzip" if head[:2] == b"\x1f\x8b" else "xz")
            while magic := _nonzero(inner):
                total += _archive(inner, magic)
            continue
        method = next((name for magic, name in _OTHER if head.startswith(magic)), None)
        if method:
            raise InitramfsError(f"a {method}-compressed segment at byte "
                                 f"{raw.offset - len(head)}: skiffbuild reads gzip and xz")
        raise InitramfsError(f"no cpio archive or compressed segment at byte "
                             f"{raw.offset - len(head)}")
