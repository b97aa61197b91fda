"""Offline bundles: export, import into an empty cache, and tampered archives."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
from gitrepo import commit, make_repo
from projectfiles import board_yaml, layer_yaml, write_project

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.hashes import Expected
from skiffbuild.buildroot.mirrors import MirrorMap
from skiffbuild.buildroot.showinfo import Source, Uri
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.project import Project
from skiffbuild.model.plan import load_plan
from skiffbuild.sources.bundle import export_bundle, import_bundle
from skiffbuild.sources.dlcache import DownloadCache
from skiffbuild.sources.download import FetchSettings, fetch_all

BUSYBOX = b"busybox bytes" * 100
FILES = {"busybox/busybox-1.37.0.tar.bz2": BUSYBOX,
         "linux/linux-6.18.7.tar.xz": b"kernel bytes" * 300}


def sources() -> list[Source]:
    out = []
    for rel, data in FILES.items():
        dl_dir, file = rel.split("/")
        out.append(Source(file, dl_dir, (dl_dir,), (Uri.parse("https+https://x.invalid/a"),),
                          (Expected("sha256", hashlib.sha256(data).hexdigest(), "h:1"),), ("h",)))
    return out


def project_with_pin(root: Path, upstream: Path, sha: str) -> Project:
    linux = hashlib.sha256(FILES["linux/linux-6.18.7.tar.xz"]).hexdigest()
    write_project(root, {"layers/a/b/layer.yaml": layer_yaml("b"),
                         # The layer's hash of a file the pinned tree does not list (an
                         # unsigned import accepts only files some .hash file lists).
                         "layers/a/b/buildroot_patches/linux/linux.hash":
                         f"sha256  {linux}  linux-6.18.7.tar.xz\n",
                         "manifests/boards/ws.yaml": board_yaml(["a/b"])},
                  url=str(upstream), commit=sha, tag="v1")
    return Project(root)


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, str, Path]:
    upstream = tmp_path / "upstream"
    make_repo(upstream, {"Makefile": "all:\n", "Config.in": "menu x\n",
                         # Buildroot's own hash of one source: import checks against it.
                         "package/busybox/busybox.hash":
                         f"sha256  {hashlib.sha256(BUSYBOX).hexdigest()}  "
                         "busybox-1.37.0.tar.bz2\n"})
    sha = commit(upstream, {"README": "second\n"}, "second")
    project = project_with_pin(tmp_path / "a", upstream, sha)
    ws = load_plan(project).workspaces["ws"]
    checkout.checkout(ws.pin, project.cache, MirrorMap())
    cache = DownloadCache.of(project)
    for source in sources():
        cache.path(source).parent.mkdir(parents=True, exist_ok=True)
        cache.path(source).write_bytes(FILES[source.relpath])
    archive = tmp_path / "out" / "ws-inputs.tar"
    manifest = export_bundle(ws, project, sources(), archive)
    assert [f["path"] for f in manifest["files"]] == [
        f"buildroot/{sha}.pack", "dl/busybox/busybox-1.37.0.tar.bz2",
        "dl/linux/linux-6.18.7.tar.xz"]
    shutil.rmtree(upstream)  # the air-gapped side has no way to reach it
    return archive, sha, tmp_path


def test_export_then_import_round_trips(exported: tuple[Path, str, Path]) -> None:
    archive, sha, tmp_path = exported
    fresh = project_with_pin(tmp_path / "b", tmp_path / "upstream", sha)
    manifest = import_bundle(archive, fresh, allow_unsigned=True)
    assert manifest["buildroot"]["commit"] == sha
    # The pinned tree checks out with no network, at the pinned commit.
    ws = load_plan(fresh).workspaces["ws"]
    tree = checkout.checkout(ws.pin, fresh.cache, MirrorMap())
    assert (tree / "README").read_text() == "second\n"
    # The import went through the cache's locks and records, as a download does:
    # each file's digests are remembered, so nothing is hashed again to verify it.
    cache = DownloadCache.of(fresh)
    for source in sources():
        assert (cache.root / source.dl_dir / f".{source.file}.lock").is_file()
        record = json.loads((cache.state / source.dl_dir / f"{source.file}.json").read_text())
        assert record["digests"]["sha256"] == hashlib.sha256(cache.path(source).read_bytes()
                                                             ).hexdigest()
    # Every source is in the cache and verifies; an offline fetch has nothing to do.
    outcomes = fetch_all(sources(), cache, FetchSettings(offline=True))
    assert [o.state for o in outcomes] == ["cached", "cached"]
    assert not list(fresh.cache.glob(".import-*"))


def _rewrite(archive: Path, change) -> None:
    with tarfile.open(archive) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(archive, "w") as tar:
        for member, data in change(members):
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))


@pytest.mark.parametrize(("change", "why"), [
    (lambda ms: [(m, d[:-1] + bytes([d[-1] ^ 1]) if m.name.startswith("dl/linux") else d)
                 for m, d in ms],
     "dl/linux/linux-6.18.7.tar.xz: sha256 expected"),
    (lambda ms: [(m, d) for m, d in ms if not m.name.startswith("dl/busybox")],
     "missing member(s): dl/busybox/busybox-1.37.0.tar.bz2"),
    (lambda ms: [*ms, (tarfile.TarInfo("dl/extra/evil.tar.gz"), b"x")],
     "dl/extra/evil.tar.gz is not in the manifest"),
    (lambda ms: [(m, d) if not m.name.endswith(".pack") else (m, d[:-30] + b"\0" * 30)
                 for m, d in ms],
     ".pack: sha256 expected"),
])
def test_tampered_archive_is_refused_and_loads_nothing(exported: tuple[Path, str, Path],
                                                       change, why: str) -> None:
    archive, sha, tmp_path = exported
    _rewrite(archive, change)
    fresh = project_with_pin(tmp_path / "b", tmp_path / "upstream", sha)
    with pytest.raises(SkiffError) as info:
        import_bundle(archive, fresh, allow_unsigned=True)
    assert info.value.message.startswith(f"{archive}: refused, nothing was imported: ")
    assert why in info.value.message
    assert sorted(p.name for p in fresh.cache.iterdir()) == []


def test_export_needs_verified_sources(exported: tuple[Path, str, Path]) -> None:
    _, _sha, tmp_path = exported
    project = Project(tmp_path / "a")
    ws = load_plan(project).workspaces["ws"]
    (DownloadCache.of(project).path(sources()[1])).write_bytes(b"changed")
    with pytest.raises(SkiffError) as info:
        export_bundle(ws, project, sources(), tmp_path / "again.tar")
    assert info.value.message == ("1 source file(s) of ws are not verified in the cache:\n"
                                  "  linux/linux-6.18.7.tar.xz: corrupt")
    assert not (tmp_path / "again.tar").exists()
