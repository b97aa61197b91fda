"""The shared stage cache: compile:<ws>'s outputs, keyed by the content of its inputs.

The key is a sha256 over what can change what Buildroot builds: the pinned tree (commit
and patch series), the ``.config`` and every file of the layers, fragments and hooks the
task depends on (with the project's own path replaced, so that every checkout of the same
commit agrees), the verified sources' sha256, extra make arguments, an external
toolchain's digest, the build host's tool versions and skiffbuild's own code digest. A
workspace building a package from a local tree (an override) is never cached.

An entry is ``ac/<key>.json`` (the key's inputs, the blobs, the compile record) signed by
the builder that published it (``ac/<key>.sig``, Ed25519 over the exact bytes), and one
blob: a reproducible tar.gz of ``output/images``, ``output/target`` and Buildroot's
``packages-file-list*.txt`` (what image:<ws> reads). A client trusts an entry only when a
key it trusts signed it, and a blob only when its bytes have the signed sha256; anything
else is refused with a reason and the workspace is built locally. A store that cannot be
reached costs a warning, never a build: the build goes on locally and says so.

After a restore, ``output/`` holds no package build directories: the next local build of
that workspace starts with ``make clean`` (``RESTORED``), so stale target files are never
mixed with new ones.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.compile import RESTORED, compile_inputs, compile_links
from skiffbuild.buildroot.toolchain import content_digest, external_toolchain, host_tool_versions
from skiffbuild.core.codedigest import code_digest
from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.fsutil import atomic_write, sha256_file
from skiffbuild.core.project import Project
from skiffbuild.core.runner import build_environment
from skiffbuild.core.settings import ENV_CACHE_SIGN, ENV_CACHE_TRUST, ENV_CACHE_URL, ENV_MAKE_ARGS
from skiffbuild.farm.store import Store, StoreUnavailable, blob_path
from skiffbuild.model.plan import Workspace
from skiffbuild.sources import signing

__all__ = ["ENTRY_LIMIT", "RESTORED", "CacheSettings", "Entry", "Outcome", "compile_with_cache",
           "entry_path", "lookup", "publish", "publish_sources", "restore", "settings_of",
           "stage_key"]

SCHEMA = 1
MISS = "not in the store"
ENTRY_LIMIT = 4 << 20  # an entry lists inputs: megabytes at most
BLOB_NAME = "output.tar.gz"
_MEMBERS = ("images", "target")  # directories of output/ an entry carries
_LISTS = "build/packages-file-list"  # and Buildroot's per-package file lists


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


def _normalised(data: bytes, project: Project) -> bytes:
    return data.replace(str(project.root).encode(), b"$(PROJECT)")


def _name(path: Path, project: Project, ws: Workspace) -> str:
    """A machine-independent name: project-relative, or layer-relative for a layer root
    outside the project (SKIFFBUILD_LAYER_PATH)."""
    try:
        return str(path.relative_to(project.root))
    except ValueError:
        pass
    for layer in ws.chain:
        try:
            return f"{layer.name}:{path.relative_to(layer.path)}"
        except ValueError:
            continue
    return str(path)  # an absolute path: only this machine computes this key


def _sources(ws: Workspace) -> list[list[str]]:
    """The verified sources by name and digest: the sites they came from do not matter."""
    data = json.loads(ws.paths.sources.read_text())
    return sorted([row["dl_dir"], row["file"], *sorted(f"{h['type']}:{h['hash']}"
                                                        for h in row.get("hashes", []))]
                  for row in data["sources"])


def stage_key(ws: Workspace, project: Project, environ: Mapping[str, str]
              ) -> tuple[str | None, dict[str, Any] | str]:
    """(key, its inputs), or (None, why ``ws`` is not cached)."""
    try:
        recorded = json.loads(ws.paths.sources.read_text())
    except (OSError, ValueError):
        return None, "its sources are not verified yet"
    if recorded.get("overrides"):
        return None, ("it builds packages from local trees "
                      f"({', '.join(sorted(recorded['overrides']))})")
    files: dict[str, str] = {}
    for path in compile_inputs(ws):
        if path == ws.paths.sources:
            continue
        files[_name(path, project, ws)] = hashlib.sha256(
            _normalised(path.read_bytes(), project)).hexdigest()
    links = {_name(Path(p), project, ws): target for p, target in compile_links(ws).items()}
    env = build_environment({}, base=environ)
    tree = checkout.tree_dir(project.cache, ws.pin)
    toolchain = external_toolchain(ws.paths.dotconfig.read_text(errors="replace"), tree,
                                   ws.paths.output, env)
    inputs = {
        "schema": SCHEMA, "stage": "compile", "code": code_digest(),
        "buildroot": {"commit": ws.pin.commit, "patch_digest": checkout.patch_digest(ws.pin)},
        "files": dict(sorted(files.items())), "links": dict(sorted(links.items())),
        "sources": _sources(ws), "make_args": environ.get(ENV_MAKE_ARGS, ""),
        "toolchain": content_digest(toolchain.path)[0]
        if toolchain is not None and toolchain.path is not None and toolchain.path.is_dir()
        else None,
        # Host tools build host packages and run in hooks: workers of one pool share an
        # image; a worker with other versions computes other keys (a miss, never a wrong hit).
        "host_tools": host_tool_versions(env),
    }
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest(), inputs


def _verify(key: str, body: bytes, signature: bytes | None, trusted: tuple[Path, ...]
            ) -> tuple[Entry | None, str]:
    if signature is None:
        return None, "the entry is not signed"
    signer = next((str(k) for k in trusted if signing.verify(body, signature, k)), None)
    if signer is None:
        return None, "its signature is by no trusted key (or it was altered)"
    try:
        data = json.loads(body)
        ok = (data["schema"] == SCHEMA and data["key"] == key
              and isinstance(data["blob"]["size"], int) and data["blob"]["size"] >= 0)
        blob_path(data["blob"]["sha256"])
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        return None, "the signed entry is not one this skiffbuild reads"
    return Entry(key, data, signer), ""


def lookup(key: str, cache: CacheSettings) -> Outcome:
    """The store's entry for ``key``, verified; raises nothing for a store that is down."""
    if not cache.trusted:
        return Outcome(None, "no key is trusted (SKIFFBUILD_CACHE_TRUST)")
    try:
        body = cache.store.get(entry_path(key), ENTRY_LIMIT)
        if body is None:
            return Outcome(None, MISS)
        signature = cache.store.get(f"ac/{key}.sig", signing.SIGNATURE_SIZE)
    except StoreUnavailable as exc:
        return Outcome(None, f"the store is unreachable ({exc})", unavailable=True)
    entry, why = _verify(key, body, signature, cache.trusted)
    return Outcome(entry, why)


# Packing and unpacking: a reproducible archive, and an extraction that writes only
# inside a new directory of the workspace.

def _walk(root: Path) -> Iterator[Path]:
    yield root
    if root.is_dir() and not root.is_symlink():
        for child in sorted(root.iterdir()):
            yield from _walk(child)


def _pack(ws: Workspace, dest: Path, epoch: int) -> None:
    output = ws.paths.output
    paths = [p for d in _MEMBERS if (output / d).is_dir() for p in _walk(output / d)]
    paths += sorted(p for p in (output / "build").glob("packages-file-list*.txt"))
    with open(dest, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=6) as gz, \
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


def _checked(members: list[tarfile.TarInfo]) -> None:
    """Refuse what could write outside the new directory: absolute or ``..`` names, a
    member under a symlink of the archive, hard links to outside names, devices."""
    names = {m.name for m in members}
    links = {m.name for m in members if m.issym()}
    for m in members:
        parts = PurePosixPath(m.name).parts
        if (not parts or m.name.startswith("/") or ".." in parts
                or parts[0] not in (*_MEMBERS, "build")
                or not (m.isreg() or m.isdir() or m.issym() or m.islnk())):
            raise ValueError(f"member {m.name!r} refused")
        if any(str(PurePosixPath(*parts[:i])) in links for i in range(1, len(parts))):
            raise ValueError(f"member {m.name!r} is under a symbolic link")
        if m.islnk() and m.linkname not in names:
            raise ValueError(f"hard link {m.name!r} to {m.linkname!r} outside the archive")


def _unpack(blob: Path, into: Path) -> None:
    with tarfile.open(blob, "r:gz") as tar:
        members = tar.getmembers()
        _checked(members)
        for m in members:
            # Permissions as built (not the "data" filter's: a setuid bit Buildroot set
            # stays); owners are this user's, as Buildroot's own target/ has them.
            if hasattr(tarfile, "fully_trusted_filter"):  # Python 3.10.12 and later
                tar.extract(m, into, filter="fully_trusted")
            else:  # pragma: no cover
                tar.extract(m, into)


def restore(entry: Entry, ws: Workspace, cache: CacheSettings) -> tuple[bool, str]:
    """Put the entry's outputs in place: (True, size text) or (False, why not)."""
    blob = entry.data["blob"]
    state = ws.paths.state
    state.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".restore-", dir=ws.paths.output))
    try:
        try:
            if not cache.store.fetch_blob(blob["sha256"], blob["size"], work / BLOB_NAME):
                return False, "its blob is missing from the store or not the bytes signed"
        except StoreUnavailable as exc:
            return False, f"the store is unreachable ({exc})"
        tree = work / "tree"
        try:
            _unpack(work / BLOB_NAME, tree)
        except (tarfile.TarError, ValueError, OSError) as exc:
            return False, f"its archive cannot be unpacked safely ({exc})"
        # From here the workspace changes: first say so, so that an interruption leaves
        # an output/ the next build cleans rather than trusts.
        atomic_write(state / RESTORED, json.dumps({"key": entry.key}) + "\n")
        output = ws.paths.output
        for name in _MEMBERS:
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


def publish(ws: Workspace, key: str, inputs: Mapping[str, Any], cache: CacheSettings,
            epoch: int) -> str:
    """Upload the workspace's outputs under ``key``, signed; the size text. Raises
    StoreUnavailable when the store refuses or is down (the build stands)."""
    assert cache.signing_key is not None
    compiled = json.loads(ws.paths.compile_record.read_text())
    work = Path(tempfile.mkdtemp(prefix=".publish-", dir=ws.paths.state))
    try:
        blob = work / BLOB_NAME
        _pack(ws, blob, epoch)
        sha, size = sha256_file(blob), blob.stat().st_size
        body = json.dumps({"schema": SCHEMA, "key": key, "stage": "compile",
                           "workspace": ws.name, "inputs": inputs, "compile": compiled,
                           "blob": {"name": BLOB_NAME, "sha256": sha, "size": size}},
                          indent=1, sort_keys=True).encode()
        signature = signing.sign(body, cache.signing_key)
        if not cache.store.exists(blob_path(sha)):
            cache.store.put(blob_path(sha), blob)
        # The signature before the entry: a reader that sees the entry finds it signed.
        cache.store.put(f"ac/{key}.sig", signature)
        cache.store.put(entry_path(key), body)
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
    return CacheSettings(Store(url), trusted, Path(sign).expanduser() if sign else None)



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
        if only and not text.startswith(("restored", "published")):
            raise BuildError(f"compile:{ws.name}: not restored from the stage cache: "
                             f"{text.removeprefix('warning: ').split(': building')[0]}")
        echo(f"compile:{ws.name}: {text}")

    if offline:
        say("offline: the stage cache is not asked")
        build()
        return
    key, inputs = stage_key(ws, project, environ)
    if key is None:
        say(f"not cached: {inputs}")
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
        say(f"warning: stage cache entry {short} refused: {text}: building locally")
    elif outcome.unavailable:
        say(f"warning: {outcome.reason}: building locally, without the stage cache")
    elif outcome.reason != MISS:
        say(f"warning: stage cache entry {short} refused: {outcome.reason}: building locally")
    else:
        say(f"stage cache miss (key {short}): building")
    build()
    if cache.signing_key is None or isinstance(inputs, str):
        return
    compiled = json.loads(ws.paths.compile_record.read_text())
    try:
        sent = publish_sources(ws, project, cache.store)
        text = publish(ws, key, inputs, cache, int(compiled["source_date_epoch"]))
    except StoreUnavailable as exc:
        say(f"warning: not published to the stage cache: {exc}")
        return
    say(f"published to the stage cache (key {short}, {text}; {sent} new source files)")
