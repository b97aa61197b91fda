"""Offline bundles: every input of a workspace in one archive, and loading it.

``export`` writes a tar holding the pinned Buildroot commit (one git pack of
that commit and its whole tree, no history), the patch series, and every
source file of the workspace in Buildroot's dl/ layout, with a manifest of
sha256 and sizes. ``import`` extracts into a staging directory, checks every
member against the manifest (no extra, no missing, no changed byte) and the
commit against its own id, and only then moves anything into the cache — a
tampered archive loads nothing. The sources are checked again against their
packages' .hash files before any build uses them.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from . import checkout
from .dlcache import DownloadCache
from .errors import SkiffError
from .fsutil import atomic_open, sha256_file
from .plan import Workspace
from .project import Project
from .sources import Source

__all__ = ["export_bundle", "import_bundle"]

_FORMAT = 1
_KIND = "skiffbuild-inputs"
_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def _git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(["git", "-C", str(repo), *args], input=stdin, capture_output=True,
                          env=_ENV, check=False)
    if proc.returncode != 0:
        raise SkiffError(f"git {' '.join(args[:2])} in {repo} failed: "
                         f"{proc.stderr.decode(errors='replace').strip()[:300]}")
    return proc.stdout


def _commit_pack(mirror: Path, commit: str) -> bytes:
    """A pack with the commit and every object of its tree (no parents)."""
    listing = _git(mirror, "rev-list", "--objects", "--no-walk", commit)
    ids = b"".join(line.split(b" ", 1)[0] + b"\n" for line in listing.splitlines())
    return _git(mirror, "pack-objects", "--stdout", stdin=ids)


def export_bundle(ws: Workspace, project: Project, sources: list[Source], dest: Path) -> dict:
    """Write the archive atomically; returns its manifest."""
    cache = DownloadCache.of(project)
    bad = [f"  {s.relpath}: {v.state}" for s in sources
           if (v := cache.verify(s)).state != "ok"]
    if bad:
        raise SkiffError(f"{len(bad)} source file(s) of {ws.name} are not verified in the cache:\n"
                         + "\n".join(bad), hint=f"run: doit sources:{ws.name}")
    mirror = checkout.mirror_dir(project.cache, ws.pin.url)
    if not mirror.is_dir():
        raise SkiffError(f"no local mirror of {ws.pin.url}", hint="run: doit fetch:buildroot")
    pack = _commit_pack(mirror, ws.pin.commit)
    members: list[tuple[str, Path | bytes]] = [(f"buildroot/{ws.pin.commit}.pack", pack)]
    members += [(f"patches/{p.name}", p) for p in ws.pin.patches]
    members += [(f"dl/{s.relpath}", cache.path(s)) for s in sources]
    files = []
    for name, content in members:
        if isinstance(content, bytes):
            files.append({"path": name, "size": len(content),
                          "sha256": hashlib.sha256(content).hexdigest()})
        else:
            files.append({"path": name, "size": content.stat().st_size,
                          "sha256": sha256_file(content)})
    manifest = {
        "format": _FORMAT, "kind": _KIND, "workspace": ws.name,
        "buildroot": {"url": ws.pin.url, "commit": ws.pin.commit, "tag": ws.pin.tag,
                      "patch_digest": checkout.patch_digest(ws.pin)},
        "files": files,
    }
    with atomic_open(dest) as raw, tarfile.open(fileobj=raw, mode="w",
                                                format=tarfile.PAX_FORMAT) as tar:
        _add(tar, "manifest.json", json.dumps(manifest, indent=1).encode())
        for name, content in members:
            _add(tar, name, content)
    return manifest


def _add(tar: tarfile.TarFile, name: str, content: Path | bytes) -> None:
    info = tarfile.TarInfo(name)
    info.mode, info.uid, info.gid, info.mtime = 0o644, 0, 0, 0
    if isinstance(content, bytes):
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    else:
        info.size = content.stat().st_size
        with open(content, "rb") as f:
            tar.addfile(info, f)


def _safe_name(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


@contextlib.contextmanager
def _staging(project: Project) -> Iterator[Path]:
    project.cache.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=".import-", dir=project.cache))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _refuse(archive: Path, why: str) -> SkiffError:
    return SkiffError(f"{archive}: refused, nothing was imported: {why}",
                      hint="the archive is damaged or was modified after export")


def _extract_verified(archive: Path, stage: Path) -> dict:
    try:
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 (closed by the `with` below)
    except (OSError, tarfile.TarError) as exc:
        raise _refuse(archive, f"not a skiffbuild archive ({exc})") from None
    with tar:
        try:
            manifest = json.loads(tar.extractfile("manifest.json").read())
        except (KeyError, AttributeError, ValueError, tarfile.TarError):
            raise _refuse(archive, "no readable manifest.json") from None
        if manifest.get("format") != _FORMAT or manifest.get("kind") != _KIND:
            raise _refuse(archive, "unknown archive format")
        wanted = {f["path"]: f for f in manifest["files"]}
        seen: set[str] = set()
        for member in tar:
            if member.name == "manifest.json":
                continue
            if not member.isfile() or not _safe_name(member.name) or member.name in seen:
                raise _refuse(archive, f"unexpected member {member.name!r}")
            if member.name not in wanted:
                raise _refuse(archive, f"{member.name} is not in the manifest")
            seen.add(member.name)
            target = stage / member.name
            target.parent.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha256()
            with tar.extractfile(member) as src, open(target, "wb") as out:
                while block := src.read(1 << 20):
                    h.update(block)
                    out.write(block)
            entry = wanted[member.name]
            if h.hexdigest() != entry["sha256"] or member.size != entry["size"]:
                raise _refuse(archive, f"{member.name}: sha256 expected {entry['sha256']}, "
                                       f"got {h.hexdigest()}")
        missing = sorted(set(wanted) - seen)
        if missing:
            raise _refuse(archive, f"missing member(s): {', '.join(missing)}")
    return manifest


def _load_commit(project: Project, pack: Path, url: str, commit: str, tag: str | None) -> None:
    mirror = checkout.mirror_dir(project.cache, url)
    if mirror.is_dir() and subprocess.run(
            ["git", "-C", str(mirror), "cat-file", "-e", f"{commit}^{{commit}}"],
            capture_output=True, env=_ENV, check=False).returncode == 0:
        return
    if not mirror.is_dir():
        mirror.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", "--bare", str(mirror)], check=True, env=_ENV)
    _git(mirror, "index-pack", "--stdin", "--fix-thin", stdin=pack.read_bytes())
    # Only this commit, not its parents: mark it as a shallow boundary.
    with open(mirror / "shallow", "a") as f:
        f.write(commit + "\n")
    # A branch, so that clones from this (shallow) mirror carry the commit.
    _git(mirror, "update-ref", f"refs/heads/skiffbuild/pin-{commit}", commit)
    _git(mirror, "update-ref", f"refs/skiffbuild/pins/{commit}", commit)
    if tag:
        with contextlib.suppress(SkiffError):
            _git(mirror, "update-ref", f"refs/tags/{tag}", commit)


def import_bundle(archive: Path, project: Project) -> dict:
    """Verify the whole archive, then load its commit and sources into the cache."""
    with _staging(project) as stage:
        manifest = _extract_verified(archive, stage)
        pin = manifest["buildroot"]
        pack = stage / "buildroot" / f"{pin['commit']}.pack"
        # The commit id is the hash of its content: check the pack really holds it.
        check = stage / "check.git"
        subprocess.run(["git", "init", "-q", "--bare", str(check)], check=True, env=_ENV)
        try:
            _git(check, "index-pack", "--stdin", stdin=pack.read_bytes())
            _git(check, "cat-file", "-e", f"{pin['commit']}^{{tree}}")
        except SkiffError:
            raise _refuse(archive, f"the Buildroot pack does not hold commit {pin['commit']}") \
                from None
        _load_commit(project, pack, pin["url"], pin["commit"], pin.get("tag"))
        cache = DownloadCache.of(project)
        for entry in manifest["files"]:
            if not entry["path"].startswith("dl/"):
                continue
            target = cache.root / entry["path"][3:]
            target.parent.mkdir(parents=True, exist_ok=True)
            staged = stage / entry["path"]
            os.chmod(staged, 0o644)
            os.replace(staged, target)
    return manifest
