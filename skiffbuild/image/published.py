"""What image:<ws> publishes: ``SHA256SUMS`` (written last, so it always matches the files
beside it), how it is read, the up-to-date check that trusts it, and the names of the
records written beside the image after it (removed before a new image is published).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from skiffbuild.core.fsutil import sha256_file, stat_key

__all__ = ["PROVENANCE_FILE", "RECORDS", "SBOM_FILE", "PublishedIntact", "read_sums"]

SBOM_FILE = "sbom.cdx.json"
PROVENANCE_FILE = "provenance.intoto.json"
RECORDS = (SBOM_FILE, PROVENANCE_FILE)


def read_sums(sums: Path) -> list[tuple[str, str]]:
    """(sha256, name relative to the directory) of each line of a ``SHA256SUMS``;
    ValueError for a line that is not ``<64 hex>  <name>`` or a name leaving it."""
    entries = []
    for line in sums.read_text().splitlines():
        if not line.strip():
            continue
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) \
                or not name or name.startswith("/") or ".." in Path(name).parts:
            raise ValueError(f"{sums}: not a SHA256SUMS line: {line!r}")
        entries.append((digest, name))
    return entries


class PublishedIntact:
    """image:<ws>'s up-to-date check: every file its ``SHA256SUMS`` lists still has that
    content. Cheap first, like ``ContentChecker``: a file whose identity (``stat_key``)
    is the one recorded after the last build is not read; any other is hashed. A
    missing, unreadable or malformed ``SHA256SUMS`` means not up to date."""

    KEY = "_published"

    def __init__(self, sums: Path) -> None:
        self.sums = sums

    def configure_task(self, task: Any) -> None:
        task.value_savers.append(lambda: {self.KEY: self.identities()})

    def identities(self) -> dict[str, list[int]]:
        """``stat_key`` of SHA256SUMS and of every file it lists (after a build)."""
        try:
            found = {self.sums.name: stat_key(os.stat(self.sums))}
            for _digest, name in read_sums(self.sums):
                found[name] = stat_key(os.stat(self.sums.parent / name))
        except (OSError, ValueError):
            return {}
        return found

    def __call__(self, task: Any, values: dict[str, Any]) -> bool:
        saved = values.get(self.KEY) or {}
        try:
            # SHA256SUMS itself changed: every file is checked against the new text.
            trust = saved.get(self.sums.name) == stat_key(os.stat(self.sums))
            for digest, name in read_sums(self.sums):
                path = self.sums.parent / name
                if trust and saved.get(name) == stat_key(os.stat(path)):
                    continue
                if sha256_file(path) != digest:
                    return False
        except (OSError, ValueError):
            return False
        return True

    def __repr__(self) -> str:
        return f"the files listed in {self.sums} match it"
