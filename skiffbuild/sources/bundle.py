"""Offline bundles: every input of a workspace in one archive, and loading it.

``export`` writes a tar holding the pinned Buildroot commit (one git pack of
that commit and its whole tree, no history), the patch series, and every
source file of the workspace in Buildroot's dl/ layout, with a manifest of
sha256 and sizes, signed with Ed25519 when ``--sign KEY`` is given
(``manifest.sig``, see ``signing``).

``import`` treats the archive as hostile. Before any byte reaches the cache:

- the signature: with ``--trust KEY`` the manifest must carry a valid
  signature by that key; without it, the archive's origin cannot be checked
  and it is refused unless ``--allow-unsigned`` says that is intended;
- every member's header: a regular file (no links, devices, directories,
  sparse files), a canonical relative name (no absolute path, no ``..``, no
  two names such as ``./dl/x`` and ``dl//x`` for one path), listed in the
  manifest with the size its header gives, all sizes together within the
  archive's own size — all read from the headers before anything is
  extracted;
- every member's bytes (staged in a temporary directory on the cache's
  filesystem, hashed while copied) against the manifest's sha256;
- the Buildroot pack against its own commit id, and every source file
  against the ``.hash`` files of that pinned Buildroot tree (read from the
  verified pack) and, when given (``skiffbuild import`` does when the
  workspace is configured here), the hashes ``show-info`` gives for the
  workspace — Buildroot's plus the layers'. A file no ``.hash`` file lists
  is checked against the (signed) manifest only.

Only then is the commit loaded and each source linked into the cache; an
existing cache file is never replaced (one with other bytes refuses the
whole import first), so a verified file cannot be overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.hashes import Expected, MultiHasher
from skiffbuild.buildroot.showinfo import Source
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.fsutil import atomic_open, sha256_file
from skiffbuild.core.project import Project
from skiffbuild.core.runner import git
from skiffbuild.model.plan import Workspace
from skiffbuild.sources.dlcache import DownloadCache, mismatches
from skiffbuild.sources.signing import SIGNATURE_SIZE, public_key, sign, verify

__all__ = ["bundle_workspace", "check_archive_file", "export_bundle", "import_bundle",
           "parse_manifest"]

_FORMAT = 1
_KIND = "skiffbuild-inputs"
_MANIFEST = "manifest.json"
_SIGNATURE = "manifest.sig"
_MANIFEST_MAX = 16 << 20  # a manifest of many thousand files is far smaller
# A manifest is a few levels deep; json's C parser recurses per level, so a
# hostile '[[[[…' of 200,000 levels would be a RecursionError traceback.
_MANIFEST_DEPTH = 32
# Python's tarfile spends quadratic time on a crafted large PAX header
# (CVE-2024-6232) and builds a TarInfo per member: both are bounded on the raw
# 512-byte headers before tarfile sees the archive. Ours carry a few hundred
# bytes of PAX records per member and a few thousand members.
_EXT_HEADER_MAX = 64 << 10
_MEMBERS_MAX = 100_000


def _commit_pack(mirror: Path, commit: str) -> bytes:
    """A pack with the commit and every object of its tree (no parents)."""
    listing = git(mirror, "rev-list", "--objects", "--no-walk", commit).stdout
    ids = b"".join(line.split(b" ", 1)[0] + b"\n" for line in listing.splitlines())
    return git(mirror, "pack-objects", "--stdout", input=ids).stdout


def export_bundle(ws: Workspace, project: Project, sources: list[Source], dest: Path,
                  sign_key: Path | None = None) -> dict[str, Any]:
    """Write the archive atomically, signed with ``sign_key`` if given; returns its
    manifest."""
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
    text = json.dumps(manifest, indent=1).encode()
    signature = sign(text, sign_key) if sign_key is not None else None
    with atomic_open(dest) as raw, tarfile.open(fileobj=raw, mode="w",
                                                format=tarfile.PAX_FORMAT) as tar:
        _add(tar, _MANIFEST, text)
        if signature is not None:
            _add(tar, _SIGNATURE, signature)
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


def _canonical(name: str) -> str | None:
    """The one spelling of a member's path (``./dl//x`` -> ``dl/x``), or None when it
    is absolute, climbs (``..``) or is empty."""
    if not name or name.startswith("/") or "\\" in name or "\0" in name:
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _valid_path(path: str) -> bool:
    """A manifest path skiffbuild writes: buildroot/<commit>.pack, patches/<name>,
    dl/<dl_dir>/<file>; no hidden names (the cache's .lock/.part files)."""
    parts = path.split("/")
    if _canonical(path) != path or any(p.startswith(".") for p in parts):
        return False
    return (parts[0] == "dl" and len(parts) == 3) or \
        (parts[0] in ("buildroot", "patches") and len(parts) == 2)


def check_archive_file(archive: Path) -> None:
    """Refuse, before tarfile reads it, an archive that is not a regular file (a FIFO
    would hang, a device never end), has an extended (pax/GNU long name) header over
    ``_EXT_HEADER_MAX`` bytes, or more than ``_MEMBERS_MAX`` members."""
    try:
        fd = os.open(archive, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _refuse(archive, f"cannot open it: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _refuse(archive, "not a regular file")
        _scan_headers(archive, f, st.st_size)


def _tar_size(field: bytes) -> int | None:
    if field[:1] in (b"\x80", b"\xff"):  # GNU base-256
        value = int.from_bytes(field[1:], "big")
        return -1 if field[:1] == b"\xff" else value
    text = field.split(b"\0", 1)[0].strip()
    try:
        return int(text, 8) if text else 0
    except ValueError:
        return None


def _scan_headers(archive: Path, f: io.BufferedReader, size: int) -> None:
    offset, members = 0, 0
    while offset + 512 <= size:
        f.seek(offset)
        block = f.read(512)
        if len(block) < 512 or block == b"\0" * 512:
            return  # the end (tarfile itself says what is wrong with a damaged one)
        length = _tar_size(block[124:136])
        if length is None or length < 0:
            return  # not a header tarfile accepts either: it reports the damage
        kind = block[156:157]
        if kind in (b"x", b"g", b"L", b"K", b"X") and length > _EXT_HEADER_MAX:
            raise _refuse(archive, f"an extended tar header of {length} bytes (more than "
                                   f"{_EXT_HEADER_MAX})")
        if kind not in (b"x", b"g", b"L", b"K", b"X"):
            members += 1
            if members > _MEMBERS_MAX:
                raise _refuse(archive, f"more than {_MEMBERS_MAX} members")
        offset += 512 + (length + 511) // 512 * 512


def _depth_ok(text: bytes, limit: int) -> bool:
    """Whether the JSON ``text`` nests at most ``limit`` levels (brackets inside
    strings not counted); checked before json.loads, which recurses per level."""
    depth, in_string, escaped = 0, False, False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def parse_manifest(text: bytes) -> object:
    """The manifest's JSON, bounded in nesting; ValueError when it is not JSON or
    nests more than ``_MANIFEST_DEPTH`` levels."""
    if not _depth_ok(text, _MANIFEST_DEPTH):
        raise ValueError(f"nested more than {_MANIFEST_DEPTH} levels")
    return json.loads(text)


def bundle_workspace(archive: Path) -> object:
    """The workspace the archive's manifest names, read without trusting it (only to
    pick the hashes to check it against); None when unreadable or hostile (import
    then says why)."""
    try:
        check_archive_file(archive)
        with tarfile.open(archive, mode="r:") as tar:
            member = tar.next()
            if member is None or member.name != _MANIFEST or not member.isreg() \
                    or member.size > _MANIFEST_MAX:
                return None
            f = tar.extractfile(member)
            data = parse_manifest(f.read()) if f is not None else None
            return data.get("workspace") if isinstance(data, dict) else None
    except (SkiffError, OSError, tarfile.TarError, ValueError):
        return None


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


def _read_manifest(archive: Path, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo],
                   trust: Path | None, allow_unsigned: bool) -> dict[str, Any]:
    def small(name: str, limit: int) -> bytes | None:
        member = members.get(name)
        if member is None:
            return None
        if member.size > limit:
            raise _refuse(archive, f"{name} is {member.size} bytes, too large")
        f = tar.extractfile(member)
        return f.read(limit) if f is not None else None

    text = small(_MANIFEST, _MANIFEST_MAX)
    if text is None:
        raise _refuse(archive, f"no readable {_MANIFEST}")
    signature = small(_SIGNATURE, SIGNATURE_SIZE)
    if trust is not None:
        if signature is None:
            raise SkiffError(f"{archive}: refused, nothing was imported: not signed, and "
                             f"--trust {trust} requires a signature",
                             hint="export it with `skiffbuild export WS FILE --sign KEY`")
        if not verify(text, signature, trust):
            raise _refuse(archive, f"the signature does not match the manifest and the key "
                                   f"{trust}")
    elif not allow_unsigned:
        what = "signed, but no key to check it against was given" if signature is not None \
            else "not signed"
        raise SkiffError(f"{archive}: refused, nothing was imported: {what}",
                         hint="give the exporter's public key with --trust KEY, or accept an "
                         "unverified archive with --allow-unsigned")
    if not _depth_ok(text, _MANIFEST_DEPTH):
        raise _refuse(archive, f"{_MANIFEST} is nested more than {_MANIFEST_DEPTH} levels")
    try:
        manifest = json.loads(text)
        files = manifest["files"]
        ok = (manifest.get("format") == _FORMAT and manifest.get("kind") == _KIND
              and isinstance(manifest["buildroot"]["commit"], str)
              and isinstance(manifest["buildroot"]["url"], str)
              and isinstance(files, list))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise _refuse(archive, f"no readable {_MANIFEST}") from None
    if not ok:
        raise _refuse(archive, "unknown archive format")
    paths: set[str] = set()
    for entry in files:
        if not (isinstance(entry, dict) and isinstance(entry.get("path"), str)
                and isinstance(entry.get("size"), int) and entry["size"] >= 0
                and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64):
            raise _refuse(archive, f"malformed manifest entry {str(entry)[:100]!r}")
        if not _valid_path(entry["path"]) or entry["path"] in paths:
            raise _refuse(archive, f"manifest path {entry['path'][:200]!r} is not allowed")
        paths.add(entry["path"])
    return manifest


def _check_headers(archive: Path, tar: tarfile.TarFile) -> dict[str, tarfile.TarInfo]:
    """Every member's header, before any content is read: canonical names, one each,
    regular files only, sizes within the archive. Keyed by canonical name."""
    members: dict[str, tarfile.TarInfo] = {}
    total = 0
    for member in tar.getmembers():
        name = _canonical(member.name)
        if name is None:
            raise _refuse(archive, f"member name {member.name[:200]!r} leaves the archive")
        if name in members:
            raise _refuse(archive, f"{members[name].name!r} and {member.name!r} are one path")
        if not member.isreg() or member.issparse():
            kind = "a sparse file" if member.issparse() else "not a regular file"
            raise _refuse(archive, f"member {member.name!r} is {kind}")
        total += member.size
        members[name] = member
    # Members are stored whole (no sparse files): together they cannot be larger
    # than the archive. Checked on the headers, so nothing huge is ever written.
    if total > archive.stat().st_size:
        raise _refuse(archive, f"its members claim {total} bytes, more than the archive's "
                               f"{archive.stat().st_size}")
    return members


def _extract_verified(archive: Path, stage: Path, trust: Path | None = None,
                      allow_unsigned: bool = True,
                      ) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """Check, then stage every member; return the manifest and each member's digests
    (every algorithm Buildroot's .hash files may use)."""
    check_archive_file(archive)
    try:
        tar = tarfile.open(archive, mode="r:")  # noqa: SIM115 (closed by the `with` below)
    except (OSError, tarfile.TarError) as exc:
        raise _refuse(archive, f"not a skiffbuild archive ({exc})") from None
    with tar:
        try:
            members = _check_headers(archive, tar)
        except tarfile.TarError as exc:
            raise _refuse(archive, f"damaged tar ({exc})") from None
        manifest = _read_manifest(archive, tar, members, trust, allow_unsigned)
        wanted = {f["path"]: f for f in manifest["files"]}
        for name, member in members.items():
            if name in (_MANIFEST, _SIGNATURE):
                continue
            if name not in wanted:
                raise _refuse(archive, f"{name} is not in the manifest")
            if member.size != wanted[name]["size"]:
                raise _refuse(archive, f"{name}: size {member.size} in the archive, "
                                       f"{wanted[name]['size']} in the manifest")
        missing = sorted(set(wanted) - set(members))
        if missing:
            raise _refuse(archive, f"missing member(s): {', '.join(missing)}")
        digests: dict[str, dict[str, str]] = {}
        for name, entry in wanted.items():
            target = stage / name
            target.parent.mkdir(parents=True, exist_ok=True)
            hasher = MultiHasher(("md5", "sha1", "sha224", "sha256", "sha384", "sha512"))
            src = tar.extractfile(members[name])
            assert src is not None  # a regular file
            with src, open(target, "xb") as out:
                while block := src.read(1 << 20):
                    hasher.update(block)
                    out.write(block)
            digests[name] = hasher.hexdigests()
            if digests[name]["sha256"] != entry["sha256"]:
                raise _refuse(archive, f"{name}: sha256 expected {entry['sha256']}, "
                                       f"got {digests[name]['sha256']}")
    return manifest, digests


def _tree_hashes(repo: Path, commit: str) -> dict[str, list[Expected]]:
    """File name -> every hash line for it in the ``.hash`` files of ``commit``'s tree."""
    listing = git(repo, "ls-tree", "-r", "-z", commit).stdout.split(b"\0")
    blobs: list[tuple[str, str]] = []
    for line in listing:
        if not line:
            continue
        meta, _, name = line.partition(b"\t")
        if name.endswith(b".hash") and meta.split()[1] == b"blob":
            blobs.append((name.decode(errors="replace"), meta.split()[2].decode()))
    out: dict[str, list[Expected]] = {}
    if not blobs:
        return out
    batch = git(repo, "cat-file", "--batch", input="".join(f"{b}\n" for _, b in blobs)).stdout
    offset = 0
    for path, _ in blobs:
        header_end = batch.index(b"\n", offset)
        size = int(batch[offset:header_end].split()[2])
        body = batch[header_end + 1: header_end + 1 + size]
        offset = header_end + 1 + size + 1
        for number, raw in enumerate(body.decode(errors="replace").splitlines(), start=1):
            fields = raw.split()
            if len(fields) == 3 and not fields[0].startswith("#"):
                out.setdefault(fields[2], []).append(
                    Expected(fields[0], fields[1], f"{path}:{number}"))
    return out


def _check_sources(archive: Path, manifest: dict[str, Any], digests: dict[str, dict[str, str]],
                   tree: dict[str, list[Expected]],
                   expected: Mapping[str, tuple[Expected, ...]] | None) -> None:
    """Every dl/ member against the pinned tree's .hash files and the workspace's hashes."""
    for entry in manifest["files"]:
        path = entry["path"]
        if not path.startswith("dl/"):
            continue
        relpath = path[3:]
        got = digests[path]
        if expected is not None:
            if relpath not in expected:
                raise _refuse(archive, f"{relpath} is not a source of workspace "
                                       f"{manifest.get('workspace')} here")
            bad = mismatches(expected[relpath], got)
            if bad:
                raise _refuse(archive, f"{relpath}: {'; '.join(bad)}")
        listed = [e for e in tree.get(relpath.split("/")[1], []) if e.algorithm in got]
        # A file may be listed in several .hash files (versions in other packages):
        # each algorithm must match one of the values listed for it.
        for algorithm in sorted({e.algorithm for e in listed}):
            values = [e for e in listed if e.algorithm == algorithm]
            if got[algorithm] not in {e.hexdigest for e in values}:
                raise _refuse(archive, f"{relpath}: {algorithm} {got[algorithm]} is not the "
                                       f"one the pinned Buildroot lists ({values[0].origin})")


def _layer_hashes(project: Project) -> dict[str, list[Expected]]:
    """File name -> hash lines of every ``.hash`` file under the project's layer roots
    and overrides (regular files of at most 1 MiB; others are not read)."""
    from skiffbuild.core.yamlload import read_text_bounded

    out: dict[str, list[Expected]] = {}
    for root in (*project.layer_roots(), project.root / "overrides"):
        for directory, _, names in os.walk(root):
            for name in sorted(n for n in names if n.endswith(".hash")):
                file = Path(directory) / name
                try:
                    text = read_text_bounded(file, 1 << 20)
                except (OSError, UnicodeDecodeError):
                    continue
                for number, raw in enumerate(text.splitlines(), start=1):
                    fields = raw.split()
                    if len(fields) == 3 and not fields[0].startswith("#"):
                        out.setdefault(fields[2], []).append(
                            Expected(fields[0], fields[1], f"{project.display(file)}:{number}"))
    return out


def _check_unsigned(archive: Path, project: Project, manifest: dict[str, Any],
                    digests: dict[str, dict[str, str]], tree: dict[str, list[Expected]]) -> None:
    """An unsigned archive for a workspace not configured here: only the project's own
    pin and files some .hash file lists (the pinned tree's, checked already, or a
    layer's) — nothing the manifest alone vouches for, such as a package's extra file
    or a git mirror of an arbitrary URL."""
    from skiffbuild.model.manifest import load_pin

    pin, _ = load_pin(project, "buildroot")
    url = manifest["buildroot"]["url"]
    if pin is None or pin.url != url:
        ours = pin.url if pin is not None else "none (manifests/buildroot.yaml is unusable)"
        raise _refuse(archive, f"unsigned, and its Buildroot URL {url[:200]!r} is not the "
                               f"project's pin ({ours})")
    layers = _layer_hashes(project)
    for entry in manifest["files"]:
        path = entry["path"]
        if not path.startswith("dl/"):
            continue
        relpath, name = path[3:], path.rsplit("/", 1)[1]
        if name not in tree and name not in layers:
            raise _refuse(archive, f"unsigned, and {relpath} is in no .hash file of the pinned "
                                   "Buildroot or the project's layers")
        got = digests[path]
        listed = [e for e in layers.get(name, []) if e.algorithm in got]
        for algorithm in sorted({e.algorithm for e in listed}):
            values = [e for e in listed if e.algorithm == algorithm]
            if got[algorithm] not in {e.hexdigest for e in values}:
                raise _refuse(archive, f"{relpath}: {algorithm} {got[algorithm]} is not the "
                                       f"one listed in {values[0].origin}")


def _load_commit(project: Project, pack: Path, url: str, commit: str, tag: str | None) -> None:
    mirror = checkout.mirror_dir(project.cache, url)
    if mirror.is_dir() and git(mirror, "cat-file", "-e", f"{commit}^{{commit}}",
                               check=False).ok:
        return
    if not mirror.is_dir():
        mirror.parent.mkdir(parents=True, exist_ok=True)
        git(None, "init", "-q", "--bare", str(mirror))
    git(mirror, "index-pack", "--stdin", "--fix-thin", input=pack.read_bytes())
    # Only this commit, not its parents: mark it as a shallow boundary.
    with open(mirror / "shallow", "a") as f:
        f.write(commit + "\n")
    # A branch, so that clones from this (shallow) mirror carry the commit.
    git(mirror, "update-ref", f"refs/heads/skiffbuild/pin-{commit}", commit)
    git(mirror, "update-ref", f"refs/skiffbuild/pins/{commit}", commit)
    if tag:
        with contextlib.suppress(SkiffError):
            git(mirror, "update-ref", f"refs/tags/{tag}", commit)


def import_bundle(archive: Path, project: Project, *, trust: Path | None = None,
                  allow_unsigned: bool = False,
                  expected: Mapping[str, tuple[Expected, ...]] | None = None) -> dict[str, Any]:
    """Verify the whole archive (see the module's description), then load its commit
    and sources into the cache. ``expected``: relpath -> the workspace's hashes."""
    if trust is not None:
        public_key(trust)  # a missing or wrong key file is said first, on its own
    cache = DownloadCache.of(project)
    with _staging(project) as stage:
        manifest, digests = _extract_verified(archive, stage, trust, allow_unsigned)
        pin = manifest["buildroot"]
        if not (len(pin["commit"]) == 40 and all(c in "0123456789abcdef" for c in pin["commit"])):
            raise _refuse(archive, f"not a commit id: {pin['commit'][:80]!r}")
        pack = stage / "buildroot" / f"{pin['commit']}.pack"
        if not pack.is_file():
            raise _refuse(archive, "no Buildroot pack")
        # The commit id is the hash of its content: check the pack really holds it.
        check = stage / "check.git"
        git(None, "init", "-q", "--bare", str(check))
        try:
            git(check, "index-pack", "--stdin", input=pack.read_bytes())
            git(check, "cat-file", "-e", f"{pin['commit']}^{{tree}}")
        except SkiffError:
            raise _refuse(archive, f"the Buildroot pack does not hold commit {pin['commit']}") \
                from None
        tree = _tree_hashes(check, pin["commit"])
        _check_sources(archive, manifest, digests, tree, expected)
        if trust is None and expected is None:
            _check_unsigned(archive, project, manifest, digests, tree)
        sources = [e["path"] for e in manifest["files"] if e["path"].startswith("dl/")]
        # Nothing is replaced: a cache file with other bytes refuses everything first.
        for path in sources:
            target = cache.root / path[3:]
            if target.exists() and sha256_file(target) != digests[path]["sha256"]:
                raise SkiffError(f"{archive}: refused, nothing was imported: {target} exists "
                                 "with other bytes; it is not overwritten",
                                 hint="if it is damaged, remove it (or run `doit sources:<ws>`, "
                                 "which moves a corrupt file aside), then import again")
        _load_commit(project, pack, pin["url"], pin["commit"], pin.get("tag"))
        for path in sources:
            staged = stage / path
            os.chmod(staged, 0o644)
            dl_dir, _, file = path[3:].partition("/")
            # Through the cache's own lock and records: a file that appeared meanwhile
            # (a concurrent download, verified by its own hashes) is kept.
            cache.adopt(dl_dir, file, staged, digests[path])
    return manifest
