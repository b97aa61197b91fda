"""Atomic file writes and content digests.

Every file skiffbuild produces under a final name goes through
``atomic_write``: write to a temporary name in the same directory, fsync,
rename. A killed process therefore never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_open", "atomic_write", "blocks", "digest_files", "digest_text",
           "durable_replace", "extents", "held_locks", "locked", "sha256_file", "stat_key"]

# Locks taken with inherit=True by each thread: the commands it runs inherit them.
_held = threading.local()


def held_locks() -> tuple[int, ...]:
    """File descriptors of the inheritable locks this thread holds (for ``pass_fds``)."""
    return tuple(getattr(_held, "fds", ()))


@contextlib.contextmanager
def atomic_open(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A binary file that appears under ``path`` only when the block completes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:
            # A failed write or fsync names no file: name the one being written.
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise


def atomic_write(path: Path, data: str | bytes, mode: int = 0o644) -> bool:
    """Write ``data`` to ``path`` atomically; return False if it already held those bytes.

    Leaving identical files untouched keeps their mtimes, so tools that do
    look at mtimes (make, Buildroot's stamps) see no change.
    """
    raw = data.encode() if isinstance(data, str) else data
    try:
        if path.read_bytes() == raw and (path.stat().st_mode & 0o7777) == mode:
            return False
    except OSError:
        pass
    with atomic_open(path, mode) as f:
        f.write(raw)
    return True


@contextlib.contextmanager
def locked(path: Path, holder: str = "", waiting: Callable[[str], None] | None = None,
           inherit: bool = False) -> Iterator[None]:
    """Hold an exclusive flock(2) on ``path`` (created if missing) for the block.

    The kernel drops the lock when its holder dies, even by ``kill -9``, so a
    lock file never needs cleaning. With ``holder``, the holder writes that
    text into the lock file; a process that has to wait first calls
    ``waiting`` with what the current holder wrote, so a blocked run can say
    who it is waiting for.

    With ``inherit``, commands this thread runs (``held_locks``) inherit the
    lock: a flock lasts while any descriptor of it is open, so a make
    orphaned by a ``kill -9`` of its parent keeps its workspace locked until
    it exits, and no second make starts in the same output directory.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                handle.seek(0)
                waiting(handle.read().strip() or "another process")
            fcntl.flock(handle, fcntl.LOCK_EX)
        fds = getattr(_held, "fds", [])
        _held.fds = fds
        if inherit:
            fds.append(handle.fileno())
        try:
            if holder:
                handle.truncate(0)
                handle.write(holder + "\n")
                handle.flush()
            yield
        finally:
            if inherit:
                # No LOCK_UN: that would unlock a child's copy too. Closing drops
                # this process's hold; the lock ends when the last copy closes.
                fds.remove(handle.fileno())
            else:
                fcntl.flock(handle, fcntl.LOCK_UN)


def durable_replace(source: Path, target: Path) -> None:
    """Rename a finished file (written by an external tool) into place, on disk first."""
    fd = os.open(source, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(source, target)


def extents(f: BinaryIO) -> Iterator[tuple[int, int, bool]]:
    """(offset, length, holds data) runs covering the open file; holes read as zeros.

    Disk and partition images are mostly holes: SEEK_DATA/SEEK_HOLE let
    readers skip them. Without that support the whole file is one data run.
    """
    fd = f.fileno()
    size = os.fstat(fd).st_size
    position = 0
    while position < size:
        try:
            data = os.lseek(fd, position, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:  # only a hole is left
                yield position, size - position, False
                return
            yield position, size - position, True  # no hole support here
            return
        if data > position:
            yield position, data - position, False
        hole = os.lseek(fd, data, os.SEEK_HOLE)
        yield data, hole - data, True
        position = hole


def blocks(f: BinaryIO, chunk: int = 1 << 20) -> Iterator[tuple[int, bytes | None, int]]:
    """(offset, bytes, length) of every data block of the open file in order, and
    (offset, None, length) once per hole: the holes are never read."""
    for offset, length, data in extents(f):
        if not data:
            yield offset, None, length
            continue
        f.seek(offset)
        position, end = offset, offset + length
        while position < end and (block := f.read(min(chunk, end - position))):
            yield position, block, len(block)
            position += len(block)


_ZEROS = bytes(1 << 20)


def stat_key(stat: os.stat_result) -> list[int]:
    """What identifies a file's content without reading it: ctime cannot be set back from
    user space, so an unchanged key means unchanged bytes (reference/doit.md, trap a)."""
    return [stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino]


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for _offset, block, length in blocks(f, chunk):
            if block is not None:
                h.update(block)
                continue
            whole, rest = divmod(length, len(_ZEROS))  # a hole hashes as zeros
            for _ in range(whole):
                h.update(_ZEROS)
            h.update(_ZEROS[:rest])
    return h.hexdigest()


def digest_text(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def digest_files(paths: Iterable[Path], root: Path | None = None) -> str:
    """One digest over names and contents of ``paths`` (order as given)."""
    h = hashlib.sha256()
    for p in paths:
        name = str(p.relative_to(root)) if root else str(p)
        h.update(name.encode() + b"\0")
        if p.is_symlink():
            h.update(b"L" + os.readlink(p).encode())
        else:
            h.update(bytes.fromhex(sha256_file(p)))
        h.update(b"\0")
    return h.hexdigest()
