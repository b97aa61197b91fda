"""The test tree's per-package file lists and ``make legal-info``, as Buildroot 2026.02.3's.

skiffbuild's size reports read ``build/packages-file-list*.txt`` and the packages'
``.files-list*.txt``, and its legal-info collection reads ``legal-info/``: the test tree
must write them as Buildroot does. One build of ``qemu_x86_64_defconfig`` with a
BR2_EXTERNAL tree (a package whose sources may not be redistributed, and one built from an
override source directory) and an overlay, then ``make legal-info``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from conftest import copy_testtree, unless_installed

from skiffbuild.app.testtree import find_testtree

TREE = find_testtree()
KERNEL_DIR = Path("/usr/local/share/skiffbuild/testtree-kernel")
STAGING_SUBDIR = "x86_64-buildroot-linux-gnu/sysroot"
LINE = re.compile(r"^([a-z0-9][a-z0-9+._-]*),(\./.+)$")

_missing = [tool for tool in ("make", "fakeroot", "mke2fs", "debugfs", "rsync", "patch", "tar")
            if shutil.which(tool) is None]
if not (KERNEL_DIR / "vmlinuz").is_file():
    _missing.append(str(KERNEL_DIR))
if not Path("/bin/busybox").is_file():
    _missing.append("/bin/busybox")
needs_build = unless_installed(_missing, "run scripts/setup")

# The manifest lines of Buildroot's format (package/pkg-utils.mk's legal-manifest).
HEADER = ('"PACKAGE","VERSION","LICENSE","LICENSE FILES","SOURCE ARCHIVE","SOURCE SITE",'
          '"DEPENDENCIES WITH LICENSES"\n')
TOOLCHAIN_DEPS = ("gcc-final [GPL-3.0-with-GCC-exception] glibc [GPL-2.0+ (programs), "
                  "LGPL-2.1+, BSD-3-Clause, MIT (library)] linux-headers [GPL-2.0] "
                  "skeleton-init-common [unknown] skeleton-init-sysv [unknown]")
BUSYBOX_LINE = ('"busybox","1.37.0","GPL-2.0, bzip2-1.0.4",'
                '"LICENSE archival/libarchive/bz/LICENSE","busybox-1.37.0.tar.gz",'
                f'"https://sources.skiffbuild.invalid/busybox","{TOOLCHAIN_DEPS}"\n')
HELLO_LINE = ('"hello","1.0","Proprietary","COPYING EULA","hello-1.0.tar.gz",'
              f'"https://sources.skiffbuild.invalid/hello","{TOOLCHAIN_DEPS}"\n')
# An override package: its version in the manifest, "custom" in its file names.
LOCALPKG_LINE = ('"localpkg","2.0","MIT","","localpkg-custom.tar.gz",'
                 f'"https://sources.skiffbuild.invalid/localpkg","{TOOLCHAIN_DEPS}"\n')


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BR2_", "MAKE", "GIT_", "LC_", "TESTTREE_"))
           and k not in ("CONFIG_", "O", "MFLAGS", "TERM", "LANG", "TZ", "SOURCE_DATE_EPOCH",
                         "BR_NO_CHECK_HASH_FOR")}
    env.update(GIT_CEILING_DIRECTORIES=tempfile.gettempdir(), HOSTPYTHON=sys.executable,
               LC_ALL="C")
    return env


def make(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["make", *map(str, args)], env=clean_env(), capture_output=True,
                          text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"make {' '.join(map(str, args))}:\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-3000:]}")
    return proc


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def tar_gz(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, 1781643700
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(out.getvalue(), mtime=0)


def external_tree(work: Path, site: Path) -> Path:
    """BR2_EXTERNAL LEGALTEST: hello (REDISTRIBUTE = NO, two licence files, a hash for
    one) and localpkg (no licence files; built from LOCALPKG_OVERRIDE_SRCDIR)."""
    ext = work / "ext"
    (ext / "package/hello").mkdir(parents=True)
    (ext / "package/localpkg").mkdir(parents=True)
    (ext / "external.desc").write_text("name: LEGALTEST\ndesc: legal-info test packages\n")
    (ext / "Config.in").write_text(
        'source "$BR2_EXTERNAL_LEGALTEST_PATH/package/hello/Config.in"\n'
        'source "$BR2_EXTERNAL_LEGALTEST_PATH/package/localpkg/Config.in"\n')
    (ext / "external.mk").write_text(
        "include $(sort $(wildcard $(BR2_EXTERNAL_LEGALTEST_PATH)/package/*/*.mk))\n")
    (ext / "package/hello/Config.in").write_text('config BR2_PACKAGE_HELLO\n\tbool "hello"\n')
    (ext / "package/hello/hello.mk").write_text(
        "HELLO_VERSION = 1.0\n"
        "HELLO_SITE = https://sources.skiffbuild.invalid/hello\n"
        "HELLO_LICENSE = Proprietary\n"
        "HELLO_LICENSE_FILES = COPYING EULA\n"
        "HELLO_REDISTRIBUTE = NO\n"
        "define HELLO_INSTALL_TARGET_CMDS\n"
        "\tinstall -D -m 0755 $(@D)/hello $(TARGET_DIR)/usr/bin/hello\n"
        "endef\n"
        "$(eval $(generic-package))\n")
    copying = b"hello: all rights reserved (test)\n"
    archive = tar_gz({"hello-1.0/COPYING": copying, "hello-1.0/EULA": b"EULA (test)\n",
                      "hello-1.0/hello": b"#!/bin/sh\necho hello\n"})
    (site / "hello").mkdir(parents=True)
    (site / "hello/hello-1.0.tar.gz").write_bytes(archive)
    (ext / "package/hello/hello.hash").write_text(
        "# Locally computed\n"
        f"sha256  {hashlib.sha256(archive).hexdigest()}  hello-1.0.tar.gz\n"
        f"sha256  {hashlib.sha256(copying).hexdigest()}  COPYING\n")
    (ext / "package/localpkg/Config.in").write_text(
        'config BR2_PACKAGE_LOCALPKG\n\tbool "localpkg"\n')
    (ext / "package/localpkg/localpkg.mk").write_text(
        "LOCALPKG_VERSION = 2.0\n"
        "LOCALPKG_SITE = https://sources.skiffbuild.invalid/localpkg\n"
        "LOCALPKG_LICENSE = MIT\n"
        "define LOCALPKG_INSTALL_TARGET_CMDS\n"
        "\tinstall -D -m 0644 $(@D)/data/local.txt $(TARGET_DIR)/usr/share/localpkg.txt\n"
        "endef\n"
        "$(eval $(generic-package))\n")
    return ext


@dataclass
class Built:
    tree: Path
    out: Path
    dl: Path
    src: Path
    build_log: str
    legal_log: str

    @property
    def legal(self) -> Path:
        return self.out / "legal-info"

    def file_list(self, suffix: str = "") -> list[tuple[str, str]]:
        text = (self.out / f"build/packages-file-list{suffix}.txt").read_text()
        lines = text.splitlines()
        assert all(LINE.match(line) for line in lines), text[:500]
        return [(m[1], m[2]) for m in map(LINE.match, lines) if m]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    work = tmp_path_factory.mktemp("legal").resolve()
    tree = copy_testtree(work / "buildroot")
    site = work / "site"
    subprocess.run([sys.executable, tree / "support/testing/make-sources", site], check=True,
                   capture_output=True)
    ext = external_tree(work, site)
    src = work / "localpkg-src"
    (src / "data").mkdir(parents=True)
    (src / "data/local.txt").write_text("local data\n")
    (src / "NOTES").write_text("notes\n")
    (src / ".git").mkdir()
    (src / ".git/HEAD").write_text("ref: refs/heads/main\n")
    overlay = work / "overlay"
    (overlay / "etc").mkdir(parents=True)
    (overlay / "etc/overlay.txt").write_text("from the overlay\n")
    defconfig = work / "defconfig"
    defconfig.write_text((tree / "configs/qemu_x86_64_defconfig").read_text()
                         + "BR2_PACKAGE_HELLO=y\nBR2_PACKAGE_LOCALPKG=y\n"
                         + f'BR2_ROOTFS_OVERLAY="{overlay}"\n')
    out = work / "out"
    make("-s", "-C", tree, f"O={out}", f"BR2_EXTERNAL={ext}", "defconfig",
         f"BR2_DEFCONFIG={defconfig}")
    (out / "local.mk").write_text(f"LOCALPKG_OVERRIDE_SRCDIR = {src}\n")
    dl = work / "dl"
    site_args = (f"BR2_DL_DIR={dl}", f"BR2_PRIMARY_SITE=file://{site}", "BR2_PRIMARY_SITE_ONLY=y")
    build = make("-C", out, *site_args)
    legal = make("-C", out, *site_args, "legal-info")
    return Built(tree, out, dl, src, build.stdout, legal.stdout + legal.stderr)


# --- file lists -------------------------------------------------------------------------


@needs_build
@pytest.mark.slow
def test_target_file_list_names_what_each_package_installed(built: Built) -> None:
    lines = built.file_list()
    target = built.out / "target"
    busybox = [path for pkg, path in lines if pkg == "busybox"]
    assert "./bin/busybox" in busybox and "./bin/sh" in busybox
    for path in busybox:
        assert os.path.lexists(target / path), path
    owners = {path: pkg for pkg, path in lines}
    assert owners["./etc/passwd"] == "skeleton-init-common"
    assert owners["./usr/bin/hello"] == "hello"
    assert owners["./usr/share/localpkg.txt"] == "localpkg"
    assert owners["./etc/init.d/rcS"] == "initscripts"
    assert any(pkg == "linux" and path.startswith("./lib/modules/") for pkg, path in lines)
    # The packages' own lists, concatenated in the byte order of their build directories
    # (Buildroot's sorted wildcard).
    own = sorted((built.out / "build").glob("*/.files-list.txt"), key=str)
    assert "".join(p.read_text() for p in own) == (
        built.out / "build/packages-file-list.txt").read_text()
    for suffix in ("-host", "-staging"):
        own = sorted((built.out / "build").glob(f"*/.files-list{suffix}.txt"), key=str)
        assert "".join(p.read_text() for p in own) == (
            built.out / f"build/packages-file-list{suffix}.txt").read_text()
    busybox_txt = (built.out / "build/busybox-1.37.0/.files-list.txt").read_text()
    assert busybox_txt == "".join(f"busybox,{path}\n" for path in busybox)
    assert not list((built.out / "build").glob("*/.files-list*.before"))
    assert not list((built.out / "build").glob("*/.files-list*.after"))


@needs_build
@pytest.mark.slow
def test_every_file_a_package_installed_is_listed(built: Built) -> None:
    target = built.out / "target"
    present = {"./" + str(p.relative_to(target)) for p in target.rglob("*")
               if p.is_symlink() or p.is_file()}
    listed = {path for _, path in built.file_list()}
    # Only what target-finalize made after the packages, and the overlay (copied before
    # the lists are concatenated, but no package's) are not listed.
    unlisted = sorted(present - listed)
    modules_dep = [p for p in unlisted if re.fullmatch(r"\./lib/modules/[^/]+/modules\.dep", p)]
    assert len(modules_dep) == 1
    assert [p for p in unlisted if p not in modules_dep] == [
        "./etc/hostname", "./etc/issue", "./etc/os-release", "./etc/overlay.txt",
        "./etc/shells", "./usr/lib/os-release"]
    assert listed <= present


@needs_build
@pytest.mark.slow
def test_host_staging_and_images_lists(built: Built) -> None:
    host = built.file_list("-host")
    assert ("host-fakeroot", "./bin/fakeroot") in host
    assert ("host-e2fsprogs", "./sbin/mke2fs") in host
    # The staging directory (inside the host directory) is left out of the host lists.
    assert not [path for _, path in host if path.startswith(f"./{STAGING_SUBDIR.split('/')[0]}")]
    assert all(pkg.startswith("host-") for pkg, _ in host)
    staging = built.file_list("-staging")
    assert ("skeleton-init-common", "./etc/passwd") in staging
    assert all(pkg in ("skeleton-init-common", "skeleton-init-sysv") for pkg, _ in staging)
    images = built.out / "build/linux-6.18.7/.files-list-images.txt"
    assert images.read_text() == "linux,./bzImage\n"
    assert (built.out / "build/busybox-1.37.0/.files-list-images.txt").read_text() == ""
    # Lists are written before the post-build scripts, after the overlays.
    log = built.build_log
    assert log.index(">>>   Copying overlay") < log.index(">>>   Generating root filesystems")


# --- legal-info ---------------------------------------------------------------------------


@needs_build
@pytest.mark.slow
def test_manifests(built: Built) -> None:
    manifest = (built.legal / "manifest.csv").read_text()
    assert manifest.startswith(HEADER)
    assert BUSYBOX_LINE in manifest
    assert HELLO_LINE in manifest
    assert LOCALPKG_LINE in manifest
    rows = manifest.splitlines()[1:]
    # Packages without a source archive (virtual, in-tree) are not listed.
    names = sorted(row.split('"')[1] for row in rows)
    assert names == ["busybox", "gcc-final", "glibc", "hello", "linux", "linux-headers",
                     "localpkg"]
    host = (built.legal / "host-manifest.csv").read_text().splitlines(keepends=True)
    assert host[0] == HEADER
    assert host[1] == '"buildroot","2026.02.3","GPL-2.0+","COPYING","not saved","not saved",""\n'
    assert ('"util-linux","2.41.4","GPL-2.0+, BSD-4-Clause, LGPL-2.1+ (libblkid, libfdisk, '
            'libmount), BSD-3-Clause (libuuid), BSD-2-Clause (xxhash), ISC (rfkill), MIT '
            '(hardlink, flock)","README.licensing Documentation/licenses/COPYING.BSD-2-Clause '
            'Documentation/licenses/COPYING.BSD-3-Clause Documentation/licenses/COPYING.BSD-4-'
            'Clause-UC Documentation/licenses/COPYING.EUPL-1.2 Documentation/licenses/COPYING.'
            'GPL-2.0-only Documentation/licenses/COPYING.GPL-2.0-or-later Documentation/licenses/'
            'COPYING.GPL-3.0-or-later Documentation/licenses/COPYING.ISC Documentation/licenses/'
            'COPYING.LGPL-2.1-or-later Documentation/licenses/COPYING.MIT","util-linux-2.41.4.'
            'tar.gz","https://sources.skiffbuild.invalid/util-linux","host-skeleton [unknown]"\n'
            ) in host
    # A host package lists its host dependencies; a target package never does.
    assert all("host-" not in row for row in rows)
    assert (built.legal / "buildroot.config").read_bytes() == (built.out / ".config").read_bytes()


@needs_build
@pytest.mark.slow
def test_license_files_are_copied_and_checked(built: Built) -> None:
    licenses = built.legal / "licenses"
    assert sorted(str(p.relative_to(licenses)) for p in licenses.rglob("*") if p.is_file()) == [
        "busybox-1.37.0/LICENSE", "busybox-1.37.0/archival/libarchive/bz/LICENSE",
        "gcc-final-14.3.0/COPYING.RUNTIME", "glibc-2.42/COPYING", "glibc-2.42/COPYING.LIB",
        "glibc-2.42/LICENSES", "hello-1.0/COPYING", "hello-1.0/EULA",
        "linux-6.18.7/LICENSE", "linux-headers-6.18.7/LICENSE"]
    # The files the .hash file names are the ones of the sources (legal-info checked them).
    recorded = {}
    for line in (built.tree / "package/busybox/busybox.hash").read_text().splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[0] == "sha256":
            recorded[fields[2]] = fields[1]
    for name in ("LICENSE", "archival/libarchive/bz/LICENSE"):
        data = (licenses / "busybox-1.37.0" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == recorded[name]
    host = built.legal / "host-licenses"
    assert (host / "buildroot/COPYING").read_bytes() == (built.tree / "COPYING").read_bytes()
    assert (host / "util-linux-2.41.4/Documentation/licenses/COPYING.MIT").is_file()
    assert (host / "kmod-33/libkmod/COPYING").is_file()
    assert not (host / "kmod-33/COPYING").exists()  # only with BR2_PACKAGE_KMOD_TOOLS


@needs_build
@pytest.mark.slow
def test_sources_patches_and_series(built: Built) -> None:
    sources = built.legal / "sources"
    assert sorted(p.name for p in sources.iterdir()) == [
        "busybox-1.37.0", "gcc-final-14.3.0", "glibc-2.42", "linux-6.18.7",
        "linux-headers-6.18.7", "localpkg-custom"]
    busybox = sources / "busybox-1.37.0"
    patch = "0001-README-mention-the-test-tree-patch.patch"
    assert sorted(p.name for p in busybox.iterdir()) == [patch, "busybox-1.37.0.tar.gz", "series"]
    assert (busybox / "series").read_text() == patch + "\n"
    assert ((busybox / "busybox-1.37.0.tar.gz").read_bytes()
            == (built.dl / "busybox/busybox-1.37.0.tar.gz").read_bytes())
    assert (busybox / patch).read_bytes() == (built.tree / "package/busybox" / patch).read_bytes()
    glibc = sorted(p.name for p in (sources / "glibc-2.42").iterdir())
    assert glibc == ["glibc-2.42.tar.gz", "glibc-localedata-2.42.tar.gz"]
    # A _PATCH download is saved with the sources and listed in the series.
    util_linux = built.legal / "host-sources/util-linux-2.41.4"
    assert (util_linux / "series").read_text() == "util-linux-2.41.4-skiffbuild.patch\n"
    assert (util_linux / "util-linux-2.41.4.tar.gz").is_file()


@needs_build
@pytest.mark.slow
def test_non_redistributable_and_override_packages(built: Built) -> None:
    # REDISTRIBUTE = NO: licence files saved, sources not.
    assert not (built.legal / "sources/hello-1.0").exists()
    assert not list(built.legal.rglob("hello-1.0.tar.gz"))
    assert (built.legal / "licenses/hello-1.0/EULA").read_text() == "EULA (test)\n"
    # An override source directory: archived as <pkg>-custom.tar.gz, reproducibly, VCS
    # directories left out, and a warning for the missing licence files.
    assert "Package is of type local or override, archive sources" in built.legal_log
    archive = built.legal / "sources/localpkg-custom/localpkg-custom.tar.gz"
    data = archive.read_bytes()
    assert data[4:8] == b"\0\0\0\0"
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
        assert [m.name for m in members] == ["localpkg-custom/NOTES",
                                             "localpkg-custom/data/local.txt"]
        assert {(m.uid, m.gid, m.mtime) for m in members} == {(0, 0, 0)}
        member = tar.extractfile("localpkg-custom/data/local.txt")
        assert member is not None and member.read() == b"local data\n"
    assert not (built.out / "build/localpkg-custom/.legal-info-rsync").exists()


@needs_build
@pytest.mark.slow
def test_readme_warnings_and_checksums(built: Built) -> None:
    readme = (built.legal / "README").read_text()
    header = (built.tree / "support/legal-info/README.header").read_text()
    warnings_header = (built.tree / "support/legal-info/README.warnings-header").read_text()
    assert readme == header + warnings_header + (
        "WARNING: the Buildroot source code has not been saved\n"
        "WARNING: localpkg-custom: cannot save license (LOCALPKG_LICENSE_FILES not defined)\n")
    assert "WARNING: localpkg-custom: cannot save license" in built.legal_log
    assert f"Legal info produced in {built.legal}" in built.legal_log
    assert not (built.legal / ".warnings").exists()
    # legal-info.sha256: every other file, by path in byte order, sha256sum's format.
    lines = (built.legal / "legal-info.sha256").read_text().splitlines()
    paths = [line.split("  ", 1)[1] for line in lines]
    assert paths == sorted(paths)
    files = sorted(str(p.relative_to(built.legal)) for p in built.legal.rglob("*")
                   if p.is_file() and p.name != "legal-info.sha256")
    assert sorted(paths) == files
    for line in lines:
        digest, path = line.split("  ", 1)
        assert hashlib.sha256((built.legal / path).read_bytes()).hexdigest() == digest


@needs_build
@pytest.mark.slow
def test_legal_info_starts_afresh(built: Built) -> None:
    stray = built.legal / "licenses/stray.txt"
    stray.write_text("left over\n")
    make("-s", "-C", built.out, f"BR2_DL_DIR={built.dl}", "legal-info")
    assert not stray.exists()
    assert (built.legal / "manifest.csv").read_text().count("\n") == 8


@needs_build
@pytest.mark.slow
def test_reinstall_leaves_an_empty_list(built: Built) -> None:
    """Buildroot's quirk: <pkg>-reinstall skips the configure step that writes the
    ".before" list, so the package's lists come out empty (lists are reliable after a
    full build only). Last: it changes the build."""
    proc = make("-C", built.out, f"BR2_DL_DIR={built.dl}", "hello-reinstall")
    assert "comm: " in proc.stderr
    assert (built.out / "build/hello-1.0/.files-list.txt").read_text() == ""
    assert (built.out / "target/usr/bin/hello").is_file()


# --- consistency of the tree (fast) ----------------------------------------------------------


def test_every_license_file_is_in_the_stand_in_archives(tmp_path: Path) -> None:
    """The licence files every package of the tree names are in its stand-in archives
    (support/testing/sources.json), so legal-info finds them."""
    if shutil.which("make") is None:
        pytest.skip("needs GNU make")
    tree = copy_testtree(tmp_path / "buildroot")
    out = tmp_path / "out"
    make("-s", "-C", tree, f"O={out}", "qemu_x86_64_defconfig")
    info = json.loads(make("-s", "-C", out, "show-info-all").stdout)
    testsources = load_module(tree / "support/testing/testsources.py", "legal_testsources")
    packages, _ = testsources.load_spec()
    checked = 0
    for name, entry in info.items():
        files = entry.get("license_files") or []
        downloads = [d["source"] for d in entry.get("downloads", ())
                     if d["source"].endswith(testsources.ARCHIVE_SUFFIXES)]
        if not files or not downloads:
            continue
        for source in downloads:
            download = testsources.Download(entry["dl_dir"], source)
            with tarfile.open(fileobj=io.BytesIO(testsources.content(download))) as tar:
                top = testsources.top_dir(source)
                names = {m.name.removeprefix(top + "/") for m in tar.getmembers()}
            assert set(files) <= names, (name, source, sorted(set(files) - names))
            checked += 1
    assert checked > 50
    # The conditional licence files are in sources.json too.
    spec = {p.name: p.license_files for p in packages}
    assert "COPYING" in spec["kmod"]
    assert {"libtommath/LICENSE", "libtomcrypt/LICENSE"} <= set(spec["dropbear"])
