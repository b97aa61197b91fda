"""The shared stage cache: compile:<ws>'s outputs, keyed by the content of its inputs.

The key is ``stagekey``'s; the blob ``archive``'s (a reproducible tar.gz of
``output/images``, ``output/target`` and Buildroot's ``packages-file-list*.txt``, what
image:<ws> reads). An entry is one object, ``ac/<key>.json``: the entry's text (the key's
inputs, the blob's sha256 and size, the compile record) and the Ed25519 signature of that
exact text by the builder that published it. One object, so that two builders publishing
the same key at once leave one of them whole, never one's text with the other's signature.

A client trusts an entry only when a key it trusts signed it, and the blob only when its
bytes have the signed sha256; anything else is refused with a reason and the workspace is
built locally. A store that cannot be reached costs a warning, never a build.

After a restore, ``output/`` holds no package build directories: the next local build of
that workspace starts with ``make clean`` (``RESTORED``), so stale target files are never
mixed with new ones.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skiffbuild.buildroot.compile import RESTORED
from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.fsutil import atomic_write, sha256_file
from skiffbuild.core.project import Project
from skiffbuild.core.settings import ENV_CACHE_SIGN, ENV_CACHE_TRUST, ENV_CACHE_URL
from skiffbuild.farm import archive
from skiffbuild.farm.stagekey import SCHEMA, stage_key
from skiffbuild.farm.store import Store, StoreUnavailable, blob_path
from skiffbuild.model.plan import Workspace
from skiffbuild.sources import signing

__all__ = ["ENTRY_LIMIT", "MISS", "CacheSettings", "Entry", "Outcome", "compile_with_cache",
           "entry_path", "lookup", "publish", "publish_sources", "restore", "settings_of",
           "stage_key"]

MISS = "not in the store"
ENTRY_LIMIT = 4 << 20  # an entry lists inputs: megabytes at most
BLOB_NAME = "output.tar.gz"
_FORMAT = "skiffbuild-stage-entry"


@dataclass(frozen=True)
class CacheSettings:
    """``SKIFFBUILD_CACHE_URL``, the keys trusted, and this builder's signing key."""

    store: Store
    trusted: tuple[Path, ...]
    signing_key: Path | None = None


@dataclass(frozen=True)
class Entry:
    key: str
    data: dict[str, Any]
    signer: str  # the trusted key file that verified it


@dataclass(frozen=True)
class Outcome:
    """What a lookup found: an entry, or why there is none (``reason``)."""

    entry: Entry | None
    reason: str
    unavailable: bool = False


def entry_path(key: str) -> str:
    return f"ac/{key}.json"


def _verify(key: str, stored: bytes, trusted: tuple[Path, ...]) -> tuple[Entry | None, str]:
    try:
        envelope = json.loads(stored)
        assert envelope["format"] == _FORMAT
        text = str(envelope["entry"]).encode()
        signature = envelope.get("signature")
    except (ValueError, KeyError, TypeError, AssertionError):
        return None, "the store holds something that is not a stage cache entry"
    if not signature:
        return None, "the entry is not signed"
    try:
        raw = base64.b64decode(str(signature), validate=True)
    except ValueError:
        return None, "its signature is by no trusted key (or it was altered)"
    signer = next((str(k) for k in trusted if signing.verify(text, raw, k)), None)
    if signer is None:
        return None, "its signature is by no trusted key (or it was altered)"
    try:
        data = json.loads(text)
        ok = (data["schema"] == SCHEMA and data["key"] == key
              and isinstance(data["blob"]["size"], int) and data["blob"]["size"] >= 0
              and isinstance(data["compile"], dict))
        blob_path(data["blob"]["sha256"])
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        return None, "the signed entry is not one this skiffbuild reads"
    return Entry(key, data, signer), ""


def lookup(key: str, cache: CacheSettings) -> Outcome:
    """The store's entry for ``key``, verified; raises nothing for a store that is down."""
    if not cache.trusted:
        return Outcome(None, f"no key is trusted ({ENV_CACHE_TRUST})")
    try:
        stored = cache.store.get(entry_path(key), ENTRY_LIMIT)
    except StoreUnavailable as exc:
        return Outcome(None, f"the store is unreachable ({exc})", unavailable=True)
    if stored is None:
        return Outcome(None, MISS)
    entry, why = _verify(key, stored, cache.trusted)
    return Outcome(entry, why)


def _scratch(parent: Path, prefix: str) -> Path:
    """A new directory for this run's work, after removing what an interrupted run left
    (the caller holds the workspace lock: no other run is using them)."""
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(f"{prefix}*"):
        shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=parent))


def restore(entry: Entry, ws: Workspace, cache: CacheSettings) -> tuple[bool, str]:
    """Put the entry's outputs in place: (True, size text) or (False, why not)."""
    blob = entry.data["blob"]
    state = ws.paths.state
    state.mkdir(parents=True, exist_ok=True)
    work = _scratch(ws.paths.output, ".restore-")
    try:
        try:
            if not cache.store.fetch_blob(blob["sha256"], blob["size"], work / BLOB_NAME):
                return False, "its blob is missing from the store or not the bytes signed"
        except StoreUnavailable as exc:
            return False, f"the store is unreachable ({exc})"
        tree = work / "tree"
        try:
            archive.unpack(work / BLOB_NAME, tree)
        except (tarfile.TarError, ValueError, OSError, KeyError) as exc:
            return False, f"its archive cannot be unpacked safely ({exc})"
        # From here the workspace changes: first say so, so that an interruption leaves
        # an output/ the next build cleans rather than trusts.
        atomic_write(state / RESTORED, json.dumps({"key": entry.key}) + "\n")
        output = ws.paths.output
        for name in archive.ROOTS[:2]:
            if (output / name).is_symlink() or (output / name).is_file():
                (output / name).unlink()
            elif (output / name).exists():
                shutil.rmtree(output / name)
            if (tree / name).exists():
                os.replace(tree / name, output / name)
        (output / "build").mkdir(exist_ok=True)
        for listing in sorted((tree / "build").glob("packages-file-list*.txt")):
            os.replace(listing, output / "build" / listing.name)
        atomic_write(ws.paths.compile_record,
                     json.dumps(entry.data["compile"], indent=1) + "\n")
        return True, f"{blob['size'] / 1e6:.1f} MB"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def publish_sources(ws: Workspace, project: Project, store: Store) -> int:
    """Upload the workspace's verified sources the store lacks, as
    ``sources/<dl_dir>/<file>`` (the downloader's first site for every worker; each
    file is verified there against its hashes as from any site). How many were sent."""
    sent = 0
    for row in json.loads(ws.paths.sources.read_text())["sources"]:
        path, name = project.dl_dir / row["dl_dir"] / row["file"], \
            f"sources/{row['dl_dir']}/{row['file']}"
        if path.is_file() and not store.exists(name):
            store.put(name, path)
            sent += 1
    return sent


def publish(ws: Workspace, key: str, inputs: Mapping[str, Any], cache: CacheSettings) -> str:
    """Upload the workspace's outputs under ``key``, signed; the size text. Raises
    StoreUnavailable when the store refuses or is down (the build stands). The archive's
    times are the build's SOURCE_DATE_EPOCH, from its compile record."""
    assert cache.signing_key is not None
    compiled = json.loads(ws.paths.compile_record.read_text())
    work = _scratch(ws.paths.state, ".publish-")
    try:
        blob = work / BLOB_NAME
        archive.pack(ws.paths.output, blob, int(compiled["source_date_epoch"]))
        sha, size = sha256_file(blob), blob.stat().st_size
        text = json.dumps({"schema": SCHEMA, "key": key, "stage": "compile",
                           "workspace": ws.name, "inputs": inputs, "compile": compiled,
                           "blob": {"name": BLOB_NAME, "sha256": sha, "size": size}},
                          indent=1, sort_keys=True)
        signature = base64.b64encode(signing.sign(text.encode(), cache.signing_key)).decode()
        if not cache.store.exists(blob_path(sha)):
            cache.store.put(blob_path(sha), blob)
        # The blob first: an entry a reader can see names a blob that is there.
        cache.store.put(entry_path(key), json.dumps(
            {"format": _FORMAT, "entry": text, "signature": signature}).encode())
        return f"{size / 1e6:.1f} MB"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def settings_of(environ: Mapping[str, str], url: str | None = None) -> CacheSettings | None:
    """The cache this environment configures (None: none)."""
    url = url or environ.get(ENV_CACHE_URL, "").strip()
    if not url:
        return None
    trusted = tuple(Path(p).expanduser() for p in
                    environ.get(ENV_CACHE_TRUST, "").split(":") if p.strip())
    for key in trusted:
        signing.public_key(key)  # a user error now, not a refused entry later
    sign = environ.get(ENV_CACHE_SIGN, "").strip()
    signing_key = Path(sign).expanduser() if sign else None
    if signing_key is not None:
        signing.sign(b"", signing_key)  # now, not after hours of building
    return CacheSettings(Store(url), trusted, signing_key)


def compile_with_cache(ws: Workspace, project: Project, environ: Mapping[str, str], *,
                       offline: bool, echo: Callable[[str], None],
                       build: Callable[[], None], only: bool = False) -> None:
    """compile:<ws> with the stage cache the environment configures: restore on a
    verified hit (``build`` is not called), else ``build`` and, for a builder holding the
    signing key, publish. The cache never fails a build that can be made locally, unless
    ``only`` (``skiffbuild cache pull``) asks for the cache's outputs or nothing."""
    cache = settings_of(environ)
    if cache is None and only:
        raise SkiffError(f"no stage cache is configured ({ENV_CACHE_URL})")
    if cache is None:
        build()
        return

    def say(text: str) -> None:
        echo(f"compile:{ws.name}: {text}")

    def without(why: str, then: str, *, warn: bool = False) -> None:
        """The cache gives no outputs, because ``why``: build (``then`` says how), or
        fail for ``cache pull``."""
        if only:
            raise BuildError(f"compile:{ws.name}: not restored from the stage cache: {why}")
        say(f"{'warning: ' if warn else ''}{why}: {then}")

    if offline:
        without("offline: the stage cache is not asked", "building")
        build()
        return
    key, inputs = stage_key(ws, project, environ)
    if key is None or isinstance(inputs, str):
        without(f"not cached: {inputs}", "building")
        build()
        return
    short = f"{key[:12]}…"
    outcome = lookup(key, cache)
    if outcome.entry is not None:
        restored, text = restore(outcome.entry, ws, cache)
        if restored:
            say(f"restored from the stage cache (key {short}, {text}, signed by "
                f"{Path(outcome.entry.signer).name}); Buildroot was not run")
            return
        without(f"stage cache entry {short} refused: {text}", "building locally", warn=True)
    elif outcome.unavailable:
        without(outcome.reason, "building locally, without the stage cache", warn=True)
    elif outcome.reason != MISS:
        without(f"stage cache entry {short} refused: {outcome.reason}", "building locally",
                warn=True)
    else:
        without(f"stage cache miss (key {short})", "building")
    build()
    if cache.signing_key is None:
        return
    try:
        sent = publish_sources(ws, project, cache.store)
        text = publish(ws, key, inputs, cache)
    except StoreUnavailable as exc:
        say(f"warning: not published to the stage cache: {exc}")
        return
    say(f"published to the stage cache (key {short}, {text}; {sent} new source files)")
