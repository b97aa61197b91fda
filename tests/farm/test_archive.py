"""The stage cache's blob: the same outputs give the same bytes, a root filesystem
survives the round trip, and hostile archives write nothing outside the directory."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from skiffbuild.farm.archive import UnsafeArchive, pack, unpack


def _output(root: Path) -> Path:
    output = root / "output"
    (output / "images").mkdir(parents=True)
    (output / "images" / "bzImage").write_bytes(b"kernel" * 1000)
    target = output / "target"
    (target / "bin").mkdir(parents=True)
    (target / "bin" / "busybox").write_bytes(b"\x7fELF busybox")
    (target / "bin" / "busybox").chmod(0o4755)
    (target / "bin" / "sh").symlink_to("busybox")
    os.link(target / "bin" / "busybox", target / "bin" / "ash")
    (target / "etc").mkdir()
    (target / "etc" / "mtab").symlink_to("/proc/self/mounts")
    (output / "build").mkdir()
    (output / "build" / "packages-file-list.txt").write_text("busybox,./bin/busybox\n")
    (output / "build" / "busybox-1.37.0").mkdir()  # package build dirs stay out
    return output


def test_the_same_outputs_give_the_same_bytes_and_come_back(tmp_path: Path) -> None:
    output = _output(tmp_path)
    pack(output, tmp_path / "a.tar.gz", 1700000000)
    os.utime(output / "images" / "bzImage", (1, 1))  # times are not part of it
    pack(output, tmp_path / "b.tar.gz", 1700000000)
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    unpack(tmp_path / "a.tar.gz", tmp_path / "tree")
    tree = tmp_path / "tree"
    assert sorted(str(p.relative_to(tree)) for p in tree.rglob("*")) == [
        "build", "build/packages-file-list.txt", "images", "images/bzImage", "target",
        "target/bin", "target/bin/ash", "target/bin/busybox", "target/bin/sh", "target/etc",
        "target/etc/mtab"]
    busybox = tree / "target" / "bin" / "busybox"
    assert stat.S_IMODE(busybox.stat().st_mode) == 0o4755
    assert busybox.stat().st_ino == (tree / "target" / "bin" / "ash").stat().st_ino
    assert os.readlink(tree / "target" / "etc" / "mtab") == "/proc/self/mounts"
    assert (tree / "images" / "bzImage").read_bytes() == b"kernel" * 1000


def _blob(path: Path, members: list[tuple[str, str, str]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for kind, name, extra in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = extra.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE,
                         "hard": tarfile.LNKTYPE, "dev": tarfile.CHRTYPE}[kind]
            info.linkname = extra
            tar.addfile(info)
    return path


# Each was shown to write outside before these checks (an adversarial review).
HOSTILE = {
    "a symlink, then a file of the same name": (
        [("dir", "target", ""), ("sym", "target/x", "@OUT@/victim"),
         ("file", "target/x", "PWNED")], "in the archive twice"),
    "a symlink named target/./d": (
        [("dir", "target", ""), ("sym", "target/./d", "@OUT@"),
         ("file", "target/d/new", "PWNED")], "not a plain relative name"),
    "a symlink named target//d": (
        [("dir", "target", ""), ("sym", "target//d", "@OUT@"),
         ("file", "target/d/new", "PWNED")], "not a plain relative name"),
    "a file under a symlink": (
        [("sym", "target/lib", "@OUT@"), ("file", "target/lib/new", "PWNED")],
        "under a symbolic link"),
    "a hard link to a symlink, then a file under it": (
        [("dir", "target", ""), ("sym", "target/s", "@OUT@"), ("hard", "target/h", "target/s"),
         ("file", "target/h/planted", "PWNED")], "not an earlier regular file"),
    "a hard link to a later member": (
        [("hard", "target/h", "target/later"), ("file", "target/later", "x")],
        "not an earlier regular file"),
    "a hard link outside": ([("hard", "target/x", "@OUT@/victim")],
                            "not an earlier regular file"),
    "dot-dot": ([("file", "target/../../victim", "PWNED")], "not a plain relative name"),
    "absolute": ([("file", "@OUT@/victim", "PWNED")], "not a plain relative name"),
    "outside the roots": ([("file", "host/bin/gcc", "x")], "not a plain relative name"),
    "a device": ([("dev", "target/dev/null", "")], "not a file, directory or link"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_archive_writes_nothing_outside(tmp_path: Path, case: str) -> None:
    members, error = HOSTILE[case]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("original")
    blob = _blob(tmp_path / "b.tar.gz", [(k, n.replace("@OUT@", str(outside)),
                                          e.replace("@OUT@", str(outside)))
                                         for k, n, e in members])
    with pytest.raises(UnsafeArchive, match=error):
        unpack(blob, tmp_path / "tree")
    assert sorted(os.listdir(outside)) == ["victim"]
    assert (outside / "victim").read_text() == "original"
    assert not (tmp_path / "tree").exists()


def test_a_read_only_directory_is_filled_before_it_is_closed(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as tar:
        for name, mode in (("target", 0o755), ("target/ro", 0o555)):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)
        info = tarfile.TarInfo("target/ro/file")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    unpack(tmp_path / "b.tar.gz", tmp_path / "tree")
    assert (tmp_path / "tree" / "target" / "ro" / "file").read_bytes() == b"x"
    (tmp_path / "tree" / "target" / "ro").chmod(0o755)

