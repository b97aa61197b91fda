"""Buildroot ``.hash`` files and streaming multi-hash verification.

Format (reference/buildroot.md §6): one ``TYPE HEX FILENAME`` per line,
``#`` comments and blank lines allowed; types md5, sha1, sha224, sha256,
sha384, sha512 (anything else is an error). Every line naming a file, in
every hash file listed for its package, must match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from skiffbuild.core.errors import SkiffError

__all__ = ["HASH_TYPES", "Expected", "MultiHasher", "hash_file", "parse_hash_file"]

HASH_TYPES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}


@dataclass(frozen=True)
class Expected:
    """One hash a file must have, and the hash file line that says so."""

    algorithm: str
    hexdigest: str
    origin: str  # "<hash file>:<line>"


def parse_hash_file(path: Path, display: str | None = None) -> dict[str, list[Expected]]:
    """File name -> its expected hashes, in the order given."""
    shown = display or str(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise SkiffError(f"{shown}: cannot read hash file: {exc.strerror}") from None
    found: dict[str, list[Expected]] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3:
            raise SkiffError(f"{shown}:{number}: malformed hash line {raw!r}",
                             hint="each line is: TYPE  HEX  FILENAME")
        algorithm, hexdigest, name = parts
        if algorithm not in HASH_TYPES:
            raise SkiffError(f"{shown}:{number}: unknown hash type '{algorithm}'",
                             hint=f"supported: {', '.join(HASH_TYPES)}")
        if len(hexdigest) != _LENGTHS[algorithm] or any(c not in "0123456789abcdefABCDEF"
                                                         for c in hexdigest):
            raise SkiffError(f"{shown}:{number}: '{hexdigest}' is not a {algorithm} hash")
        found.setdefault(name, []).append(Expected(algorithm, hexdigest.lower(),
                                                   f"{shown}:{number}"))
    return found


class MultiHasher:
    """Feed bytes once, get every algorithm that is needed (sha256 always)."""

    def __init__(self, algorithms: Iterable[str] = ()) -> None:
        names = {"sha256", *algorithms}
        self._hashers = {name: hashlib.new(name) for name in sorted(names)}

    def update(self, data: bytes) -> None:
        for hasher in self._hashers.values():
            hasher.update(data)

    def hexdigests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self._hashers.items()}


def hash_file(path: Path, algorithms: Iterable[str] = (), chunk: int = 1 << 20) -> dict[str, str]:
    hasher = MultiHasher(algorithms)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            hasher.update(block)
    return hasher.hexdigests()
