"""Hostile offline bundles (issue 12): signatures, member names, sizes from the headers,
Buildroot's .hash files, and a load that never overwrites a verified cache file."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from keys import ed25519_keypair
from test_bundle import FILES, exported, project_with_pin, sources  # noqa: F401 (fixture)

from skiffbuild.buildroot import checkout
from skiffbuild.buildroot.mirrors import MirrorMap
from skiffbuild.core.errors import SkiffError
from skiffbuild.core.project import Project
from skiffbuild.model.plan import load_plan
from skiffbuild.sources.bundle import export_bundle, import_bundle
from skiffbuild.sources.dlcache import DownloadCache

Exported = tuple[Path, str, Path]


def members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(archive) as tar:
        return [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]


def write(archive: Path, items: list[tuple[tarfile.TarInfo, bytes]]) -> None:
    with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
        for member, data in items:
            if member.isreg():
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
            else:
                tar.addfile(member)


def reforge(items: list[tuple[tarfile.TarInfo, bytes]], name: str,
            data: bytes) -> list[tuple[tarfile.TarInfo, bytes]]:
    """Replace a member's bytes and fix the (unsigned) manifest to match."""
    out = []
    for member, old in items:
        if member.name == "manifest.json":
            manifest = json.loads(old)
            for entry in manifest["files"]:
                if entry["path"] == name:
                    entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
            old = json.dumps(manifest).encode()
        out.append((member, data if member.name == name else old))
    return out


def fresh(tmp_path: Path, sha: str) -> Project:
    return project_with_pin(tmp_path / "b", tmp_path / "upstream", sha)


def refused(archive: Path, project: Project, **kw: object) -> str:
    with pytest.raises(SkiffError) as info:
        import_bundle(archive, project, **kw)  # type: ignore[arg-type]
    assert sorted(p.name for p in project.cache.iterdir()) == [], "something was imported"
    return info.value.message


def test_signed_bundle_imports_with_its_key_only(exported: Exported) -> None:  # noqa: F811
    archive, sha, tmp_path = exported
    private, public = ed25519_keypair(tmp_path, "team")
    _, other = ed25519_keypair(tmp_path, "other")
    project = Project(tmp_path / "a")
    ws = load_plan(project).workspaces["ws"]
    signed = tmp_path / "signed.tar"
    export_bundle(ws, project, sources(), signed, sign_key=private)
    target = fresh(tmp_path, sha)
    assert refused(signed, target, trust=other) == (
        f"{signed}: refused, nothing was imported: the signature does not match the manifest "
        f"and the key {other}")
    assert refused(archive, target, trust=public) == (
        f"{archive}: refused, nothing was imported: not signed, and --trust {public} requires "
        "a signature")
    assert refused(archive, target) == f"{archive}: refused, nothing was imported: not signed"
    assert refused(signed, target) == (f"{signed}: refused, nothing was imported: signed, but "
                                       "no key to check it against was given")
    # A signed manifest edited afterwards no longer verifies.
    items = members(signed)
    write(signed, reforge(items, "dl/linux/linux-6.18.7.tar.xz", b"evil"))
    assert "the signature does not match" in refused(signed, target, trust=public)
    write(signed, items)
    import_bundle(signed, target, trust=public)
    assert DownloadCache.of(target).verify(sources()[1]).state == "ok"


def test_a_reforged_bundle_is_refused_by_buildroots_hash_files(exported: Exported) -> None:  # noqa: F811
    archive, sha, tmp_path = exported
    write(archive, reforge(members(archive), "dl/busybox/busybox-1.37.0.tar.bz2", b"evil"))
    message = refused(archive, fresh(tmp_path, sha), allow_unsigned=True)
    assert message == (
        f"{archive}: refused, nothing was imported: busybox/busybox-1.37.0.tar.bz2: sha256 "
        f"{hashlib.sha256(b'evil').hexdigest()} is not the one the pinned Buildroot lists "
        "(package/busybox/busybox.hash:1)")


def test_a_reforged_bundle_is_refused_by_the_workspace_hashes(exported: Exported) -> None:  # noqa: F811
    archive, sha, tmp_path = exported
    # linux is in no .hash file of the pinned tree (a layer's file): the workspace's
    # hashes, as show-info gives them, catch it.
    write(archive, reforge(members(archive), "dl/linux/linux-6.18.7.tar.xz", b"evil"))
    expected = {s.relpath: s.expected for s in sources()}
    message = refused(archive, fresh(tmp_path, sha), allow_unsigned=True, expected=expected)
    assert message.startswith(f"{archive}: refused, nothing was imported: "
                              "linux/linux-6.18.7.tar.xz: sha256 expected ")
    del expected["linux/linux-6.18.7.tar.xz"]
    assert refused(archive, fresh(tmp_path, sha), allow_unsigned=True, expected=expected) == (
        f"{archive}: refused, nothing was imported: linux/linux-6.18.7.tar.xz is not a source "
        "of workspace ws here")


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


@pytest.mark.parametrize(("extra", "why"), [
    ((_member("./dl/linux/linux-6.18.7.tar.xz"), FILES["linux/linux-6.18.7.tar.xz"]),
     "'./dl/linux/linux-6.18.7.tar.xz' and 'dl/linux/linux-6.18.7.tar.xz' are one path"),
    ((_member("dl//busybox/busybox-1.37.0.tar.bz2"), b"x"),
     "'dl//busybox/busybox-1.37.0.tar.bz2' and 'dl/busybox/busybox-1.37.0.tar.bz2' are one "
     "path"),
    ((_member("/etc/evil"), b"x"), "member name '/etc/evil' leaves the archive"),
    ((_member("dl/../../evil"), b"x"), "member name 'dl/../../evil' leaves the archive"),
    ((_member("dl/x/link", tarfile.SYMTYPE, "/etc/shadow"), b""),
     "member 'dl/x/link' is not a regular file"),
    ((_member("dl/x/hard", tarfile.LNKTYPE, "manifest.json"), b""),
     "member 'dl/x/hard' is not a regular file"),
    ((_member("dl/x/dev", tarfile.CHRTYPE), b""), "member 'dl/x/dev' is not a regular file"),
])
def test_hostile_member_names_and_types_are_refused_before_extraction(
        exported: Exported, extra: tuple[tarfile.TarInfo, bytes], why: str) -> None:  # noqa: F811
    archive, sha, tmp_path = exported
    items = members(archive)
    # Placed first among the sources, so nothing after it could have been loaded.
    write(archive, [*items[:2], extra, *items[2:]])
    assert refused(archive, fresh(tmp_path, sha), allow_unsigned=True) == (
        f"{archive}: refused, nothing was imported: {why}")


def test_a_huge_sparse_member_is_refused_from_its_header(exported: Exported) -> None:  # noqa: F811
    archive, sha, tmp_path = exported
    work = tmp_path / "sparse"
    (work / "dl" / "linux").mkdir(parents=True)
    huge = work / "dl" / "linux" / "linux-6.18.7.tar.xz"
    with open(huge, "wb") as f:
        f.truncate(2 << 30)  # 2 GiB of holes
    manifest = json.loads(dict((m.name, d) for m, d in members(archive))["manifest.json"])
    for entry in manifest["files"]:
        if entry["path"] == "dl/linux/linux-6.18.7.tar.xz":
            entry["size"] = 2 << 30
    (work / "manifest.json").write_text(json.dumps(manifest))
    with tarfile.open(archive) as tar:
        for m in tar.getmembers():
            if m.name.startswith(("buildroot/", "dl/busybox")):
                tar.extract(m, work, filter="data")
    subprocess.run(["tar", "--sparse", "--format=gnu", "-cf", str(archive), "-C", str(work),
                    "manifest.json", *(str(p.relative_to(work)) for p in
                                       sorted((work / "buildroot").iterdir())),
                    "dl/busybox/busybox-1.37.0.tar.bz2", "dl/linux/linux-6.18.7.tar.xz"],
                   check=True)
    assert archive.stat().st_size < 1 << 20
    target = fresh(tmp_path, sha)
    assert refused(archive, target, allow_unsigned=True) == (
        f"{archive}: refused, nothing was imported: member 'dl/linux/linux-6.18.7.tar.xz' is "
        "a sparse file")


def test_a_verified_cache_file_is_never_overwritten(exported: Exported) -> None:  # noqa: F811
    archive, sha, tmp_path = exported
    target = fresh(tmp_path, sha)
    cache = DownloadCache.of(target)
    linux = sources()[1]
    cache.path(linux).parent.mkdir(parents=True)
    cache.path(linux).write_bytes(b"other bytes")
    with pytest.raises(SkiffError) as info:
        import_bundle(archive, target, allow_unsigned=True)
    assert info.value.message == (f"{archive}: refused, nothing was imported: "
                                  f"{cache.path(linux)} exists with other bytes; it is not "
                                  "overwritten")
    assert cache.path(linux).read_bytes() == b"other bytes"
    assert not cache.path(sources()[0]).exists()
    assert not checkout.mirror_dir(target.cache, str(tmp_path / "upstream")).exists()
    # The same bytes already there: kept (same inode), the rest loaded.
    cache.path(linux).write_bytes(FILES[linux.relpath])
    inode = cache.path(linux).stat().st_ino
    import_bundle(archive, target, allow_unsigned=True)
    assert cache.path(linux).stat().st_ino == inode
    assert [cache.verify(s).state for s in sources()] == ["ok", "ok"]
    tree = checkout.checkout(load_plan(target).workspaces["ws"].pin, target.cache, MirrorMap())
    assert (tree / "README").read_text() == "second\n"


def test_the_cli_refuses_an_unsigned_bundle_with_exit_2(
        exported: Exported, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    from skiffbuild.app.cli import main

    archive, sha, tmp_path = exported
    target = fresh(tmp_path, sha)
    monkeypatch.chdir(target.root)
    assert main(["import", str(archive)]) == 2
    assert capsys.readouterr().err == (
        f"error: {archive}: refused, nothing was imported: not signed\n"
        "hint: give the exporter's public key with --trust KEY, or accept an unverified "
        "archive with --allow-unsigned\n")
    assert main(["import", str(archive), "--trust", str(tmp_path / "nokey.pem")]) == 2
    assert capsys.readouterr().err.startswith(
        f"error: {tmp_path / 'nokey.pem'}: cannot read the trusted key: No such file")
    assert main(["import", str(archive), "--allow-unsigned"]) == 0
    assert capsys.readouterr().out == (
        f"imported {archive}: Buildroot {sha[:12]} and 2 source file(s) for workspace ws "
        "(checked: manifest, Buildroot's .hash files)\n")


# ---------------------------------------------------------- archives that attack the parsers


def _raw_archive(path: Path, pax_size: int, manifest: bytes) -> None:
    """A pax header of ``pax_size`` bytes, then a manifest member (built by hand: tarfile
    itself would parse the hostile header)."""
    pax = tarfile.TarInfo("././@PaxHeader")
    pax.type, pax.size = tarfile.XHDTYPE, pax_size
    out = io.BytesIO()
    out.write(pax.tobuf(format=tarfile.USTAR_FORMAT))
    out.write(b"1" * pax_size + b"\0" * (-pax_size % 512))
    member = tarfile.TarInfo("manifest.json")
    member.size = len(manifest)
    out.write(member.tobuf(format=tarfile.USTAR_FORMAT))
    out.write(manifest + b"\0" * (-len(manifest) % 512) + b"\0" * 1024)
    path.write_bytes(out.getvalue())


def test_a_huge_pax_header_is_refused_before_tarfile_parses_it(
        exported: Exported) -> None:  # noqa: F811
    _, sha, tmp_path = exported
    archive = tmp_path / "pax.tar"
    _raw_archive(archive, 200_000, b"{}")
    assert refused(archive, fresh(tmp_path, sha), allow_unsigned=True) == (
        f"{archive}: refused, nothing was imported: an extended tar header of 200000 bytes "
        "(more than 65536)")


def test_a_deeply_nested_manifest_is_refused_not_a_traceback(
        exported: Exported, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    from skiffbuild.app.cli import main

    _, sha, tmp_path = exported
    archive = tmp_path / "deep.tar"
    _raw_archive(archive, 10, b"[" * 200_000)
    target = fresh(tmp_path, sha)
    assert refused(archive, target, allow_unsigned=True) == (
        f"{archive}: refused, nothing was imported: manifest.json is nested more than 32 "
        "levels")
    monkeypatch.chdir(target.root)
    assert main(["import", str(archive), "--allow-unsigned"]) == 2
    assert capsys.readouterr().err.startswith(
        f"error: {archive}: refused, nothing was imported: manifest.json is nested more "
        "than 32 levels\n")


def test_a_fifo_as_the_archive_is_refused_without_hanging(
        exported: Exported, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    import os

    from skiffbuild.app.cli import main

    _, sha, tmp_path = exported
    fifo = tmp_path / "fifo.tar"
    os.mkfifo(fifo)
    target = fresh(tmp_path, sha)
    assert refused(fifo, target, allow_unsigned=True) == (
        f"{fifo}: refused, nothing was imported: not a regular file")
    monkeypatch.chdir(target.root)
    assert main(["import", str(fifo), "--allow-unsigned"]) == 2
    assert capsys.readouterr().err.startswith(
        f"error: {fifo}: refused, nothing was imported: not a regular file\n")


def test_a_device_or_oversized_key_file_is_refused(tmp_path: Path) -> None:
    from skiffbuild.sources.signing import public_key

    with pytest.raises(SkiffError) as info:
        public_key(Path("/dev/zero"))
    assert info.value.message == "/dev/zero: cannot read the trusted key: not a regular file"
    big = tmp_path / "big.pem"
    big.write_bytes(b"-" * (64 << 10) + b"-")
    with pytest.raises(SkiffError) as info:
        public_key(big)
    assert info.value.message == (f"{big}: cannot read the trusted key: larger than 65536 "
                                  "bytes")


def test_an_unsigned_bundle_brings_only_hashed_files_for_the_projects_pin(
        exported: Exported) -> None:  # noqa: F811
    archive, sha, tmp_path = exported
    items = members(archive)
    extra = tarfile.TarInfo("dl/evilpkg/environ")
    forged = [*items, (extra, b"SECRET=1\n")]
    for member, data in forged:
        if member.name == "manifest.json":
            manifest = json.loads(data)
            manifest["files"].append({"path": "dl/evilpkg/environ", "size": 9,
                                      "sha256": hashlib.sha256(b"SECRET=1\n").hexdigest()})
            forged[forged.index((member, data))] = (member, json.dumps(manifest).encode())
    write(archive, forged)
    assert refused(archive, fresh(tmp_path, sha), allow_unsigned=True) == (
        f"{archive}: refused, nothing was imported: unsigned, and evilpkg/environ is in no "
        ".hash file of the pinned Buildroot or the project's layers")
    # A pin URL other than the project's: no git mirror is made for it.
    moved = []
    for member, data in items:
        if member.name == "manifest.json":
            manifest = json.loads(data)
            manifest["buildroot"]["url"] = "https://evil.invalid/br.git"
            data = json.dumps(manifest).encode()
        moved.append((member, data))
    write(archive, moved)
    assert refused(archive, fresh(tmp_path, sha), allow_unsigned=True) == (
        f"{archive}: refused, nothing was imported: unsigned, and its Buildroot URL "
        f"'https://evil.invalid/br.git' is not the project's pin ({tmp_path / 'upstream'})")
