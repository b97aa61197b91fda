"""The test tree's download side behaves like Buildroot 2026.02.3.

Real ``make`` calls on a copy of ``tests/buildroot-tree``: ``show-info`` (format,
URIs and site variables, BR2_EXTERNAL packages, BR2_GLOBAL_PATCH_DIR hashes),
``source`` / ``<pkg>-source`` from a ``file://`` or ``http://`` primary site with
Buildroot's hash rules, ``printvars``; and the deterministic stand-in sources
(``support/testing/make-sources``) with their ``.hash`` files
(``support/testing/update-hashes``).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import importlib.machinery
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
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import run_make

from skiffbuild.app.testtree import find_testtree

TREE = find_testtree()

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")

# Real `make -s show-info` output of Buildroot 2026.02.3 (qemu_x86_64_defconfig), two
# entries, busybox's patch list shortened: the layout the test tree must reproduce.
REFERENCE = (
    '{ "busybox": { "type": "target", "name": "busybox", "virtual": false, "version": "1.37.0",'
    ' "licenses": "GPL-2.0,\\u0020bzip2-1.0.4", "license_files": [ "LICENSE",'
    ' "archival/libarchive/bz/LICENSE" ], "redistributable": true, "dl_dir": "busybox",'
    ' "downloads": [ { "source": "busybox-1.37.0.tar.bz2", "uris": ['
    ' "https+https://www.busybox.net/downloads",'
    ' "https|urlencode+https://sources.buildroot.net/busybox",'
    ' "https|urlencode+https://sources.buildroot.net" ] } ],'
    ' "hashes": [ "package/busybox/busybox.hash" ], "patches": ['
    ' "package/busybox/0001-networking-libiproute-use-linux-if_packet.h-instead-.patch",'
    ' "package/busybox/0002-Makefile.flags-strip-non-l-arguments-returned-by-pkg.patch" ],'
    ' "package_dir": "package/busybox", "stamp_dir": "build/busybox-1.37.0",'
    ' "source_dir": "build/busybox-1.37.0", "build_dir": "build/busybox-1.37.0/",'
    ' "install_target": true, "install_staging": false, "install_images": false,'
    ' "dependencies": [ "host-skeleton", "host-tar", "skeleton", "toolchain" ],'
    ' "reverse_dependencies": [ ] , "cpe-id": "cpe:2.3:a:busybox:busybox:1.37.0:-:*:*:*:*:*:*"'
    ' , "ignore_cves": [ "CVE-2022-28391", "CVE-2025-46394", "CVE-2025-60876" ] },'
    ' "rootfs-common": { "type": "rootfs", "image_name": null , "dependencies": ['
    ' "host-fakeroot", "host-makedevs", "host-tar" ] } } \n')
OPTIONAL_KEYS = {"cpe-id", "ignore_cves", "provides"}
URI = re.compile(r"^(?:[a-z0-9]+(?:\|urlencode)?\+)?[a-z0-9]+://\S+$")


def clean_env(**extra: str) -> dict[str, str]:
    """A Buildroot call's environment: no stray BR2_*, CONFIG_, make flags or proxies."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BR2_", "MAKE", "GIT_"))
           and k not in ("CONFIG_", "O", "MFLAGS", "BR_NO_CHECK_HASH_FOR")
           and not k.lower().endswith("_proxy")}
    env["GIT_CEILING_DIRECTORIES"] = tempfile.gettempdir()
    # The tests' own interpreter (it has kconfiglib): no wrapper script to start each time.
    env["HOSTPYTHON"] = sys.executable
    env.update(extra)
    return env


def make(*args: str | Path, env: dict[str, str] | None = None,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_make(*args, env=env or clean_env(), check=check)


def show_info(outdir: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    out = make("-C", outdir, "show-info", *args, env=env).stdout
    assert out.count("\n") == 1 and out.endswith(" \n"), out[:200]  # one line, no noise
    return json.loads(out)


def uris(info: dict, package: str) -> dict[str, list[str]]:
    return {d["source"]: d["uris"] for d in info[package]["downloads"]}


def load_script(path: Path) -> ModuleType:
    name = path.name.removesuffix(".py").replace("-", "_")
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = saved
    return module


def primary(site: Path) -> list[str]:
    return [f"BR2_PRIMARY_SITE=file://{site}", "BR2_PRIMARY_SITE_ONLY=y"]


def downloads_of(info: dict) -> set[str]:
    return {f"{e['dl_dir']}/{d['source']}" for e in info.values() for d in e.get("downloads", ())}


@pytest.fixture(scope="module")
def testsources(tree: Path) -> ModuleType:
    """support/testing/testsources.py (of the copy: same code and sources.json), imported."""
    return load_script(tree / "support/testing/testsources.py")


@pytest.fixture(scope="module")
def sources(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every stand-in download, in the dl/ layout (a primary site as file://)."""
    out = tmp_path_factory.mktemp("sources")
    subprocess.run([sys.executable, tree / "support/testing/make-sources", out], check=True,
                   capture_output=True)
    return out


@pytest.fixture(scope="module")
def qemu(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qemu")
    make("-C", tree, f"O={out}", "qemu_x86_64_defconfig")
    return out


@pytest.fixture(scope="module")
def pi4(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pi4")
    make("-C", tree, f"O={out}", "raspberrypi4_64_defconfig")
    return out


# --- stand-in sources and .hash files ---------------------------------------------------


def test_make_sources_is_deterministic_and_small(tree: Path, sources: Path,
                                                 testsources: ModuleType) -> None:
    files = sorted(str(p.relative_to(sources)) for p in sources.rglob("*") if p.is_file())
    assert {"busybox/busybox-1.37.0.tar.gz", "linux/linux-6.18.7.tar.gz"} <= set(files)
    packages, _ = testsources.load_spec()
    assert files == [d.relpath for d in testsources.all_downloads(packages)]
    # The sha256 lines of the .hash files were computed by an earlier run, the files
    # here by the make-sources command, the expectation below by this process: all equal.
    recorded = {}
    for hash_file in tree.glob("**/*.hash"):
        for line in hash_file.read_text().splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[0] == "sha256":
                recorded[fields[2]] = fields[1]
    for download in testsources.all_downloads(packages):
        data = (sources / download.relpath).read_bytes()
        assert data == testsources.content(download), download.relpath
        if download.dl_dir != "systemd-bootchart":
            assert hashlib.sha256(data).hexdigest() == recorded[download.file]
        assert len(data) < 1500, download.relpath
        if download.file.endswith(".patch"):
            assert b"--- a/README\n+++ b/README\n" in data
            continue
        assert data[4:8] == b"\0\0\0\0"  # gzip mtime 0
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data))) as tar:
            members = tar.getmembers()
        top = download.file.removesuffix(".tar.gz")
        names = [m.name for m in members]
        assert names == [top, *(f"{top}/{name}"
                                for name in sorted(testsources.members(download)))]
        assert {f"{top}/LICENSE", f"{top}/Makefile", f"{top}/README"} <= set(names)
        assert {(m.mtime, m.uid, m.gid, m.uname) for m in members} == {
            (1781643700, 0, 0, "root")}


def test_patches_apply_to_the_stand_in_sources(tree: Path, sources: Path,
                                               tmp_path: Path) -> None:
    if shutil.which("patch") is None:
        pytest.skip("needs patch")
    cases = [(sources / "busybox/busybox-1.37.0.tar.gz",
              tree / "package/busybox/0001-README-mention-the-test-tree-patch.patch"),
             (sources / "util-linux/util-linux-2.41.4.tar.gz",
              sources / "util-linux/util-linux-2.41.4-skiffbuild.patch")]
    for archive, patch in cases:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
                tar.extractall(tmp_path, filter="data")
            else:
                tar.extractall(tmp_path)
        src = tmp_path / archive.name.removesuffix(".tar.gz")
        subprocess.run(["patch", "-p1", "-s", "-i", patch], cwd=src, check=True)
        assert (src / "README").read_text().endswith(f"Patched by {patch.name}.\n")


def test_hash_files_are_up_to_date(tree: Path, testsources: ModuleType,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    stale = testsources.update_tree(TREE, check=True)
    assert not stale, (
        "stale .hash files, run tests/buildroot-tree/support/testing/update-hashes: "
        + ", ".join(str(p.relative_to(TREE)) for p in stale))
    # The guard works: a changed hash or a leftover .hash file is reported.
    (tree / "package/busybox/busybox.hash").write_text("sha256  0  busybox-1.37.0.tar.gz\n")
    (tree / "package/initscripts/initscripts.hash").write_text("")
    try:
        # The command (it imports the module loaded above: same cache).
        command = load_script(tree / "support/testing/update-hashes")
        assert command.main(["--check"]) == 1
        assert capsys.readouterr().out.splitlines() == [
            "stale: package/busybox/busybox.hash", "stale: package/initscripts/initscripts.hash"]
    finally:
        assert testsources.update_tree(tree, check=False)
    assert not testsources.update_tree(tree, check=True)
    assert not (tree / "package/initscripts/initscripts.hash").exists()


def test_hash_file_format(tree: Path, sources: Path) -> None:
    text = (tree / "package/util-linux/util-linux.hash").read_text()
    lines = [line.split() for line in text.splitlines() if line and not line.startswith("#")]
    assert text.startswith("# ")
    data = (sources / "util-linux/util-linux-2.41.4.tar.gz").read_bytes()
    assert ["md5", hashlib.md5(data).hexdigest(), "util-linux-2.41.4.tar.gz"] in lines
    assert ["sha256", hashlib.sha256(data).hexdigest(), "util-linux-2.41.4.tar.gz"] in lines
    assert any(line[0] == "sha256" and line[2] == "LICENSE" for line in lines)
    # The one package without a .hash file (Buildroot only warns; skiffbuild refuses).
    assert not (tree / "package/systemd-bootchart/systemd-bootchart.hash").exists()
    assert (tree / "package/systemd-bootchart/systemd-bootchart.mk").is_file()


def test_stand_in_sources_cover_every_download(qemu: Path, pi4: Path, sources: Path) -> None:
    have = {str(p.relative_to(sources)) for p in sources.rglob("*") if p.is_file()}
    for outdir in (qemu, pi4):  # every package, as configured there
        info = json.loads(make("-C", outdir, "show-info-all").stdout)
        missing = downloads_of(info) - have
        assert not missing, f"{outdir.name}: not made by make-sources: {missing}"


# --- show-info ----------------------------------------------------------------------------


def test_show_info_renders_buildroots_layout(tree: Path) -> None:
    script = load_script(tree / "support/scripts/show-info")
    assert script.render(json.loads(REFERENCE)) + " \n" == REFERENCE


def test_show_info_qemu(qemu: Path) -> None:
    raw = make("-C", qemu, "show-info").stdout
    assert raw.count("\n") == 1 and raw.endswith(" \n")
    info = json.loads(raw)
    assert list(info) == sorted(info)
    assert '"licenses": "GPL-2.0,\\u0020bzip2-1.0.4"' in raw  # spaces escaped like Buildroot
    reference = json.loads(REFERENCE)

    busybox = info["busybox"]
    assert [k for k in busybox if k not in OPTIONAL_KEYS] == \
        [k for k in reference["busybox"] if k not in OPTIONAL_KEYS]
    for key, value in reference["busybox"].items():
        if key not in OPTIONAL_KEYS:
            assert type(busybox[key]) is type(value), key
    assert busybox["downloads"] == [{"source": "busybox-1.37.0.tar.gz", "uris": [
        "https+https://sources.skiffbuild.invalid/busybox",
        "https|urlencode+https://sources.buildroot.net/busybox",
        "https|urlencode+https://sources.buildroot.net"]}]
    assert busybox["hashes"] == ["package/busybox/busybox.hash"]
    assert busybox["patches"] == ["package/busybox/0001-README-mention-the-test-tree-patch.patch"]
    assert (busybox["package_dir"], busybox["stamp_dir"], busybox["build_dir"]) == (
        "package/busybox", "build/busybox-1.37.0", "build/busybox-1.37.0/")
    assert set(busybox["dependencies"]) >= {"host-skeleton", "skeleton", "toolchain"}
    assert info["rootfs-common"] == {"type": "rootfs", "image_name": None,
                                     "dependencies": ["host-fakeroot", "host-makedevs"]}
    assert info["rootfs-ext2"]["image_name"] == "rootfs.ext2"
    assert "host-e2fsprogs" in info["rootfs-ext2"]["dependencies"]

    # Shared download directories; host variants; virtual packages have no downloads.
    assert info["linux-headers"]["dl_dir"] == info["linux"]["dl_dir"] == "linux"
    assert {info[p]["dl_dir"] for p in ("host-gcc-initial", "host-gcc-final", "gcc-final")} == {
        "gcc"}
    assert info["host-kmod"]["name"] == "kmod" and info["host-kmod"]["dl_dir"] == "kmod"
    assert "install_target" not in info["host-kmod"]
    for name in ("toolchain", "skeleton", "toolchain-buildroot"):
        assert info[name]["virtual"] is True and "downloads" not in info[name]
    assert info["host-skeleton"]["downloads"] == [] and info["host-skeleton"]["version"] == ""
    assert info["skeleton-init-sysv"]["provides"] == ["skeleton"]
    assert "busybox" in info["toolchain"]["reverse_dependencies"]
    assert "glibc" in info["linux-headers"]["reverse_dependencies"]
    # An extra download given as a full URL has no <backend>+ prefix (like gettext-tiny).
    assert uris(info, "glibc")["glibc-localedata-2.42.tar.gz"][0] == \
        "https://sources.skiffbuild.invalid/glibc-localedata"
    # A _PATCH download is listed in downloads and in patches.
    assert set(uris(info, "host-util-linux")) == {"util-linux-2.41.4.tar.gz",
                                                  "util-linux-2.41.4-skiffbuild.patch"}
    assert info["host-util-linux"]["patches"] == [
        "https+https://sources.skiffbuild.invalid/util-linux/util-linux-2.41.4-skiffbuild.patch"]
    for entry in info.values():
        for download in entry.get("downloads", ()):
            assert all(URI.match(u) for u in download["uris"]), download
        for name in entry.get("hashes", ()):
            assert not Path(name).is_absolute()
    # Every upstream site is unresolvable on purpose.
    upstream = {u for e in info.values() for d in e.get("downloads", ()) for u in d["uris"]
                if "sources.buildroot.net" not in u}
    assert upstream and all(".invalid/" in u for u in upstream)
    assert downloads_of(info) == {
        "binutils/binutils-2.44.tar.gz", "busybox/busybox-1.37.0.tar.gz",
        "e2fsprogs/e2fsprogs-1.47.3.tar.gz", "fakeroot/fakeroot_1.37.1.2.orig.tar.gz",
        "gcc/gcc-14.3.0.tar.gz", "glibc/glibc-2.42.tar.gz", "glibc/glibc-localedata-2.42.tar.gz",
        "kmod/kmod-33.tar.gz", "linux/linux-6.18.7.tar.gz",
        "util-linux/util-linux-2.41.4-skiffbuild.patch", "util-linux/util-linux-2.41.4.tar.gz"}
    # external-deps: the same files, by name.
    names = make("-C", qemu, "external-deps").stdout.split()
    assert names == sorted({d.split("/", 1)[1] for d in downloads_of(info)})


def test_show_info_pi4(pi4: Path) -> None:
    info = show_info(pi4)
    assert info["toolchain"]["dependencies"] == ["host-skeleton", "skeleton",
                                                 "toolchain-external"]
    linux = info["linux"]
    assert linux["version"] == "custom"
    assert [d["source"] for d in linux["downloads"]] == [
        "linux-21b410140c47ffab5668399f6f143c7d7b935c8b.tar.gz"]
    assert uris(info, "toolchain-external-bootlin") == {
        "aarch64--glibc--stable-2025.08-1.tar.gz": [
            "https+https://sources.skiffbuild.invalid/toolchain-external-bootlin/aarch64",
            "https|urlencode+https://sources.buildroot.net/toolchain-external-bootlin",
            "https|urlencode+https://sources.buildroot.net"]}
    assert info["toolchain-external-bootlin"]["package_dir"] == \
        "toolchain/toolchain-external/toolchain-external-bootlin"
    assert info["host-openssl"]["virtual"] is True
    assert info["host-openssl"]["dependencies"] == ["host-libopenssl", "host-skeleton"]
    assert len(downloads_of(info)) == 14


@pytest.mark.parametrize(("args", "expected"), [
    ([], ["https+https://sources.skiffbuild.invalid/busybox",
          "https|urlencode+https://sources.buildroot.net/busybox",
          "https|urlencode+https://sources.buildroot.net"]),
    (["BR2_PRIMARY_SITE=file:///srv/mirror"],
     ["file|urlencode+file:///srv/mirror/busybox", "file|urlencode+file:///srv/mirror",
      "https+https://sources.skiffbuild.invalid/busybox",
      "https|urlencode+https://sources.buildroot.net/busybox",
      "https|urlencode+https://sources.buildroot.net"]),
    (["BR2_PRIMARY_SITE=file:///srv/mirror", "BR2_PRIMARY_SITE_ONLY=y"],
     ["file|urlencode+file:///srv/mirror/busybox", "file|urlencode+file:///srv/mirror"]),
    (["BR2_BACKUP_SITE="], ["https+https://sources.skiffbuild.invalid/busybox"]),
    # Kept verbatim, trailing slash included, as Buildroot does.
    (["BR2_PRIMARY_SITE=https://m.example/p/", "BR2_BACKUP_SITE=http://backup.example/br"],
     ["https|urlencode+https://m.example/p//busybox", "https|urlencode+https://m.example/p/",
      "https+https://sources.skiffbuild.invalid/busybox",
      "http|urlencode+http://backup.example/br/busybox",
      "http|urlencode+http://backup.example/br"]),
])
def test_site_variables_on_the_command_line(qemu: Path, args: list[str],
                                            expected: list[str]) -> None:
    info = show_info(qemu, *args)
    assert uris(info, "busybox") == {"busybox-1.37.0.tar.gz": expected}
    glibc = uris(info, "glibc")
    assert glibc["glibc-2.42.tar.gz"] == [u.replace("busybox", "glibc") for u in expected]
    if "BR2_PRIMARY_SITE_ONLY=y" in args:
        assert glibc["glibc-localedata-2.42.tar.gz"] == glibc["glibc-2.42.tar.gz"]


def test_command_line_sites_win_over_config_and_environment_does_not(
        tree: Path, qemu: Path, tmp_path: Path) -> None:
    defconfig = tmp_path / "defconfig"
    defconfig.write_text((tree / "configs/qemu_x86_64_defconfig").read_text()
                         + 'BR2_PRIMARY_SITE="http://cfg.example/dl"\n')
    out = tmp_path / "out"
    make("-C", tree, f"O={out}", "defconfig", f"BR2_DEFCONFIG={defconfig}")
    first = uris(show_info(out), "busybox")["busybox-1.37.0.tar.gz"]
    assert first[:2] == ["http|urlencode+http://cfg.example/dl/busybox",
                         "http|urlencode+http://cfg.example/dl"]
    cli = uris(show_info(out, "BR2_PRIMARY_SITE=file:///m", "BR2_PRIMARY_SITE_ONLY=y"),
               "busybox")["busybox-1.37.0.tar.gz"]
    assert cli == ["file|urlencode+file:///m/busybox", "file|urlencode+file:///m"]
    # From the environment (reference/buildroot.md §7): .config's BR2_PRIMARY_SITE line
    # wins, while the unset BR2_PRIMARY_SITE_ONLY leaks in ...
    env = clean_env(BR2_PRIMARY_SITE="file:///env", BR2_PRIMARY_SITE_ONLY="y")
    assert uris(show_info(out, env=env), "busybox")["busybox-1.37.0.tar.gz"] == first[:2]
    # ... so with Buildroot's default BR2_PRIMARY_SITE="" nothing is left to try.
    assert uris(show_info(qemu, env=env), "busybox") == {"busybox-1.37.0.tar.gz": []}


def test_external_packages_and_global_patch_dir(tree: Path, sources: Path,
                                                tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    pkg = ext / "package/hello"
    pkg.mkdir(parents=True)
    (ext / "external.desc").write_text("name: HELLO\n")
    (ext / "Config.in").write_text('source "$BR2_EXTERNAL_HELLO_PATH/package/hello/Config.in"\n')
    (ext / "external.mk").write_text(
        "include $(sort $(wildcard $(BR2_EXTERNAL_HELLO_PATH)/package/*/*.mk))\n")
    (pkg / "Config.in").write_text('config BR2_PACKAGE_HELLO\n\tbool "hello"\n')
    (pkg / "hello.mk").write_text(
        "HELLO_VERSION = 1.0\nHELLO_SITE = https://sources.skiffbuild.invalid/hello\n"
        "HELLO_LICENSE = MIT\n\n$(eval $(generic-package))\n")
    site = tmp_path / "site"
    (site / "hello").mkdir(parents=True)
    payload = b"hello, world\n"
    (site / "hello/hello-1.0.tar.gz").write_bytes(payload)
    (pkg / "hello.hash").write_text(
        f"# Locally computed\nsha256  {hashlib.sha256(payload).hexdigest()}  hello-1.0.tar.gz\n")
    # A global patch dir with an extra .hash for busybox and a per-version one for linux.
    patches = tmp_path / "patches"
    (patches / "busybox").mkdir(parents=True)
    (patches / "busybox/busybox.hash").write_text(
        (tree / "package/busybox/busybox.hash").read_text())
    (patches / "busybox/0100-extra.patch").write_text("")
    (patches / "linux/6.18.7").mkdir(parents=True)
    (patches / "linux/linux.hash").write_text("# not used: the version directory wins\n")
    (patches / "linux/6.18.7/linux.hash").write_text("# no line for the test tarball\n")
    defconfig = tmp_path / "defconfig"
    defconfig.write_text((tree / "configs/qemu_x86_64_defconfig").read_text()
                         + f'BR2_PACKAGE_HELLO=y\nBR2_GLOBAL_PATCH_DIR="{patches}"\n')
    out = tmp_path / "out"
    make("-C", tree, f"O={out}", f"BR2_EXTERNAL={ext}", "defconfig",
         f"BR2_DEFCONFIG={defconfig}")

    info = show_info(out)
    hello = info["hello"]
    assert hello["package_dir"] == str(pkg) and hello["hashes"] == [str(pkg / "hello.hash")]
    assert hello["dl_dir"] == "hello" and hello["version"] == "1.0"
    assert "hello" in info["toolchain"]["reverse_dependencies"]
    assert info["busybox"]["hashes"] == ["package/busybox/busybox.hash",
                                         f"{patches}/busybox/busybox.hash"]
    assert info["busybox"]["patches"] == [
        "package/busybox/0001-README-mention-the-test-tree-patch.patch",
        f"{patches}/busybox/0100-extra.patch"]
    assert info["linux"]["hashes"] == ["linux/linux.hash", f"{patches}/linux/6.18.7/linux.hash"]

    # Downloads check every listed .hash file: the external's, and the global patch
    # dir's as well as the tree's (whose line for linux-6.18.7.tar.gz is enough).
    shutil.copytree(sources / "busybox", site / "busybox")
    shutil.copytree(sources / "linux", site / "linux")
    dl = tmp_path / "dl"
    make("-C", out, "hello-source", "busybox-source", "linux-source", f"BR2_DL_DIR={dl}",
         *primary(site))
    assert (dl / "hello/hello-1.0.tar.gz").read_bytes() == payload
    assert (dl / "busybox/busybox-1.37.0.tar.gz").is_file()
    assert (dl / "linux/linux-6.18.7.tar.gz").is_file()
    # A hash file without a line for the file: an error (BR_NO_CHECK_HASH_FOR aside).
    (pkg / "hello.hash").write_text(f"sha256  {'0' * 64}  hello-0.9.tar.gz\n")
    (dl / "hello/hello-1.0.tar.gz").unlink()
    # (Several goals in one call run in order, as in Buildroot.)
    proc = make("-C", out, "hello-dirclean", "hello-source", f"BR2_DL_DIR={dl}",
                *primary(site), check=False)
    assert proc.returncode != 0
    assert f"no hash for hello-1.0.tar.gz in {pkg}/hello.hash" in proc.stderr
    # A global patch dir hash that disagrees fails the download.
    (patches / "busybox/busybox.hash").write_text(f"sha256  {'1' * 64}  busybox-1.37.0.tar.gz\n")
    proc = make("-C", out, "busybox-dirclean", "busybox-source", f"BR2_DL_DIR={dl}",
                *primary(site), check=False)
    assert proc.returncode != 0
    assert f"does not match {patches}/busybox/busybox.hash" in proc.stderr


def test_source_fills_the_download_dir_and_verifies(qemu: Path, sources: Path,
                                                    tmp_path: Path) -> None:
    dl = tmp_path / "dl"
    make("-C", qemu, "clean")
    proc = make("-C", qemu, "source", f"BR2_DL_DIR={dl}", *primary(sources))
    assert ">>> busybox 1.37.0 Downloading" in proc.stdout
    expected = downloads_of(show_info(qemu))
    got = {str(p.relative_to(dl)) for p in dl.rglob("*") if p.is_file() and p.name != ".lock"}
    assert got == expected
    for rel in got:
        assert (dl / rel).read_bytes() == (sources / rel).read_bytes()
        assert ((dl / rel).stat().st_mode & 0o777) == 0o644
        if shutil.which("flock"):
            assert (dl / rel).parent.joinpath(".lock").exists()
    assert (qemu / "build/busybox-1.37.0/.stamp_downloaded").is_file()
    assert (qemu / "build/host-util-linux-2.41.4/.stamp_downloaded").is_file()
    assert not [p for p in (qemu / "build").iterdir() if p.name.startswith(".")]
    # Nothing left to do the second time.
    again = make("-C", qemu, "source", f"BR2_DL_DIR={dl}", *primary(sources))
    assert again.stdout == again.stderr == ""


def test_corrupted_download_is_fetched_again(qemu: Path, sources: Path, tmp_path: Path) -> None:
    dl = tmp_path / "dl"
    make("-C", qemu, "busybox-dirclean", "busybox-source", f"BR2_DL_DIR={dl}", *primary(sources))
    file = dl / "busybox/busybox-1.37.0.tar.gz"
    good = file.read_bytes()
    file.write_bytes(good[:100])
    # Buildroot's trap: the stamp says "downloaded", the file is not looked at ...
    make("-C", qemu, "busybox-source", f"BR2_DL_DIR={dl}", *primary(sources))
    assert file.read_bytes() == good[:100]
    # ... until the package is cleaned; then the bad file is replaced.
    proc = make("-C", qemu, "busybox-dirclean", "busybox-source", f"BR2_DL_DIR={dl}",
                *primary(sources))
    assert file.read_bytes() == good
    assert "re-downloading 'busybox-1.37.0.tar.gz'" in proc.stderr


def test_wrong_hash_on_the_primary_site_fails(qemu: Path, sources: Path,
                                              tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(sources / "busybox", site / "busybox")
    bad = site / "busybox/busybox-1.37.0.tar.gz"
    bad.write_bytes(b"not busybox\n")
    dl = tmp_path / "dl"
    proc = make("-C", qemu, "busybox-dirclean", "busybox-source", f"BR2_DL_DIR={dl}",
                *primary(site), check=False)
    assert proc.returncode != 0
    good = hashlib.sha256((sources / "busybox/busybox-1.37.0.tar.gz").read_bytes()).hexdigest()
    assert "busybox-1.37.0.tar.gz does not match package/busybox/busybox.hash" in proc.stderr
    assert f"sha256 expected: {good}" in proc.stderr
    assert f"sha256 got:      {hashlib.sha256(bad.read_bytes()).hexdigest()}" in proc.stderr
    assert "could not download busybox-1.37.0.tar.gz" in proc.stderr
    assert {p.name for p in (dl / "busybox").iterdir()} <= {".lock"}
    assert not (qemu / "build/busybox-1.37.0/.stamp_downloaded").exists()
    assert not [p for p in (qemu / "build").iterdir() if p.name.startswith(".")]


def test_package_without_hash_file_is_let_through_with_a_warning(
        qemu: Path, sources: Path, tmp_path: Path) -> None:
    dl = tmp_path / "dl"
    proc = make("-C", qemu, "systemd-bootchart-dirclean", "systemd-bootchart-source",
                f"BR2_DL_DIR={dl}", *primary(sources))
    assert "WARNING: no hash file for systemd-bootchart-233.tar.gz" in proc.stderr
    assert (dl / "systemd-bootchart/systemd-bootchart-233.tar.gz").is_file()
    info = json.loads(make("-C", qemu, "systemd-bootchart-show-info").stdout)
    assert info["systemd-bootchart"]["hashes"] == []


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mirror", root
    finally:
        server.shutdown()
        server.server_close()


def test_http_primary_site(qemu: Path, sources: Path, tmp_path: Path,
                           http_site: tuple[str, Path]) -> None:
    url, root = http_site
    # Flat mirror: <site>/<dl_dir>/<file> is a 404, <site>/<file> works.
    (root / "mirror").mkdir()
    shutil.copy(sources / "kmod/kmod-33.tar.gz", root / "mirror")
    dl = tmp_path / "dl"
    make("-C", qemu, "host-kmod-dirclean", "host-kmod-source", f"BR2_DL_DIR={dl}",
         f"BR2_PRIMARY_SITE={url}", "BR2_PRIMARY_SITE_ONLY=y")
    got = (dl / "kmod/kmod-33.tar.gz").read_bytes()
    assert got == (sources / "kmod/kmod-33.tar.gz").read_bytes()


def test_check_hash_rules(tree: Path, tmp_path: Path) -> None:
    script = tree / "support/download/check-hash"
    module = load_script(script)
    data = tmp_path / "f.tar.gz"
    data.write_bytes(b"data\n")
    sha = hashlib.sha256(b"data\n").hexdigest()
    md5 = hashlib.md5(b"data\n").hexdigest()

    def check(*lines: str, files: int = 1, no_check: str = "") -> int:
        paths = []
        for i in range(files):
            path = tmp_path / f"h{i}.hash"
            path.write_text("".join(f"{line}\n" for line in lines))
            paths.append(str(path))
        status: int = module.check(data, "f.tar.gz", [*paths, str(tmp_path / "missing.hash")],
                                   True, no_check)
        return status

    # Every line for the file in every file must match; other names (LICENSE) are ignored.
    assert check("# comment", "", f"md5  {md5}  f.tar.gz", f"sha256  {sha}  f.tar.gz",
                 "sha256  0000  LICENSE", files=2) == 0
    assert check(f"sha256  {sha}  f.tar.gz", f"md5  {'0' * 32}  f.tar.gz") == 2
    assert check(f"sha3  {sha}  f.tar.gz") == 4  # unknown type
    assert check(f"sha256  {sha}  other.tar.gz") == 3  # no line for the file
    assert check(f"sha256  {sha}  other.tar.gz", no_check="x f.tar.gz") == 0
    # The command: Buildroot's arguments and exit codes; no hash file at all only warns.
    for env, code in ((clean_env(), 3), (clean_env(BR_NO_CHECK_HASH_FOR="f.tar.gz"), 0)):
        proc = subprocess.run([sys.executable, script, "-q", data, "f.tar.gz",
                               tmp_path / "h0.hash"], env=env, capture_output=True,
                              text=True, check=False)
        assert proc.returncode == code
    proc = subprocess.run([sys.executable, script, data, "f.tar.gz", tmp_path / "none.hash"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "WARNING: no hash file for f.tar.gz" in proc.stderr


def test_printvars(qemu: Path, tmp_path: Path) -> None:
    out = make("-C", qemu, "printvars", f"BR2_DL_DIR={tmp_path}/dl",
               "VARS=BUSYBOX_VERSION BUSYBOX_SOURCE BUSYBOX_SITE BUSYBOX_DL_SUBDIR "
               "LINUX_HEADERS_DL_SUBDIR HOST_KMOD_DL_SUBDIR HOST_KMOD_SOURCE DL_DIR").stdout
    values = dict(line.split("=", 1) for line in out.splitlines())
    assert values == {
        "BUSYBOX_VERSION": "1.37.0", "BUSYBOX_SOURCE": "busybox-1.37.0.tar.gz",
        "BUSYBOX_SITE": "https://sources.skiffbuild.invalid/busybox",
        "BUSYBOX_DL_SUBDIR": "busybox", "LINUX_HEADERS_DL_SUBDIR": "linux",
        "HOST_KMOD_DL_SUBDIR": "kmod", "HOST_KMOD_SOURCE": "kmod-33.tar.gz",
        "DL_DIR": str((tmp_path / "dl").resolve())}
    quoted = make("-C", qemu, "printvars", "VARS=TZDATA_SOURCE", "QUOTED_VARS=YES",
                  "RAW_VARS=YES").stdout
    assert quoted == "TZDATA_SOURCE='tzdata$(TZDATA_VERSION).tar.gz'\n"
