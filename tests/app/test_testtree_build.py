"""The test tree's default build (``make`` with no goal) behaves like Buildroot's.

Real ``make`` runs on a copy of ``tests/buildroot-tree``, the way skiffbuild calls
Buildroot: ``defconfig BR2_DEFCONFIG=<merged>``, then ``make -C <O>`` with the stand-in
sources as a verified ``file://`` primary site, in a scrubbed environment. The
configuration is the tree's ``qemu_x86_64_defconfig`` plus the bundled ``skiff/base`` and
``virt/qemu`` fragments, with the wiring skiffbuild adds (overlays, hooks,
``BR2_REPRODUCIBLE``), a test overlay and a post-build script that records what it gets.
Three builds run at once (two of that configuration in different output directories,
with different umask, time zone and locale, and a Raspberry Pi 4 one); the qemu image is
then booted under QEMU with a persist disk.

Needs what ``scripts/setup`` installs: Debian's kernel in
/usr/local/share/skiffbuild/testtree-kernel, busybox-static, fakeroot, cpio,
squashfs-tools, e2fsprogs, qemu-system-x86.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import copy_testtree, unless_installed

from skiffbuild.app.testtree import find_testtree

TREE = find_testtree()
LAYERS = Path(__file__).resolve().parents[2] / "layers"
KERNEL_DIR = Path("/usr/local/share/skiffbuild/testtree-kernel")
EPOCH = 1781643700
IMAGES = {"bzImage", "rootfs.cpio", "rootfs.cpio.gz", "rootfs.ext2", "syslinux.cfg"}
PROGRESS = re.compile(r"^>>> (\S+) (\S*) (.+)$")

_missing = [tool for tool in ("make", "fakeroot", "cpio", "mksquashfs", "mke2fs", "debugfs",
                              "rsync", "patch") if shutil.which(tool) is None]
if not (KERNEL_DIR / "vmlinuz").is_file():
    _missing.append(str(KERNEL_DIR))
if not Path("/bin/busybox").is_file():
    _missing.append("/bin/busybox")
pytestmark = [pytest.mark.slow, unless_installed(_missing, "run scripts/setup")]

QEMU_FRAGMENTS = [LAYERS / "skiff/base/buildroot", LAYERS / "virt/qemu/buildroot"]
PI4_FRAGMENTS = [LAYERS / "skiff/base/buildroot", LAYERS / "pi/common/buildroot",
                 LAYERS / "pi/4/buildroot"]

TEST_UNIT = """\
[Unit]
Description=Report the persist mount (test)
After=skiff-persist.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "test-report: $(mount | grep /mnt/persist)"'

[Install]
WantedBy=multi-user.target
"""

RECORDER = """\
#!/bin/sh
# Records how Buildroot called it.
{
  echo "ARGS=$*"
  for v in BR2_CONFIG HOST_DIR STAGING_DIR TARGET_DIR BUILD_DIR BINARIES_DIR CONFIG_DIR \\
           BASE_DIR BR2_DL_DIR O PARALLEL_JOBS PATH SOURCE_DATE_EPOCH; do
    eval "echo $v=\\${$v-UNSET}"
  done
} > "$BASE_DIR/post-build-record.txt"
"""


def clean_env(**extra: str) -> dict[str, str]:
    """What skiffbuild gives Buildroot: no BR2_*, CONFIG_, make flags or terminal."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BR2_", "MAKE", "GIT_", "LC_", "TESTTREE_"))
           and k not in ("CONFIG_", "O", "MFLAGS", "TERM", "LANG", "TZ", "SOURCE_DATE_EPOCH")}
    env.update(GIT_CEILING_DIRECTORIES=tempfile.gettempdir(), HOSTPYTHON=sys.executable,
               LC_ALL="C", TZ="UTC", SOURCE_DATE_EPOCH=str(EPOCH))
    env.update(extra)
    return env


def merged_defconfig(path: Path, base: Path | None, fragment_dirs: list[Path],
                     extra: dict[str, str]) -> Path:
    """Fragments in order, the last assignment of a symbol winning, then ``extra``."""
    values: dict[str, str] = {}
    files = [base] if base else []
    files += [f for d in fragment_dirs for f in sorted(d.iterdir())]
    for file in files:
        for line in file.read_text().splitlines():
            match = re.match(r"^(?:(BR2_\w+)=.*|# (BR2_\w+) is not set)$", line)
            if match:
                values[match[1] or match[2]] = line
    for symbol, value in extra.items():
        values[symbol] = f"{symbol}={value}"
    path.write_text("".join(line + "\n" for line in values.values()))
    return path


@dataclass
class Build:
    out: Path
    dl: Path
    proc: subprocess.Popen | None = None
    log: str = ""
    seconds: float = 0.0

    def make_args(self, *goals: str) -> list[str]:
        return ["make", "-C", str(self.out), f"BR2_DL_DIR={self.dl}",
                f"BR2_PRIMARY_SITE=file://{self.dl}", "BR2_PRIMARY_SITE_ONLY=y", *goals]

    def make(self, *goals: str, env: dict[str, str] | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.make_args(*goals), env=env or clean_env(),
                              capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"make {' '.join(goals)} in {self.out} failed:\n"
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc

    def wait(self) -> Build:
        if self.proc is not None:
            out, _ = self.proc.communicate()
            self.log, self.seconds = out, time.monotonic() - self.seconds
            assert self.proc.returncode == 0, f"build of {self.out} failed:\n{out[-4000:]}"
            self.proc = None
        return self

    @property
    def images(self) -> Path:
        return self.out / "images"


def configure(tree: Path, out: Path, defconfig: Path, env: dict[str, str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["make", "-s", "-C", str(tree), f"O={out}", "defconfig",
                    f"BR2_DEFCONFIG={defconfig}"], env=env, check=True, capture_output=True)


def start(build: Build, env: dict[str, str], umask: str = "022") -> Build:
    build.seconds = time.monotonic()
    build.proc = subprocess.Popen(["sh", "-c", f'umask {umask} && exec "$@"', "sh",
                                   *build.make_args()], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
    return build


@dataclass
class Builds:
    qemu: Build  # the qemu configuration, umask 022, UTC, C locale
    qemu2: Build  # the same in another directory: umask 077, another time zone and locale
    pi4: Build
    tree: Path
    work: Path


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    work = tmp_path_factory.mktemp("build").resolve()
    tree = copy_testtree(work / "buildroot")
    # The verified download cache: Buildroot's dl/ layout, also the primary site.
    dl = work / "dl"
    subprocess.run([sys.executable, tree / "support/testing/make-sources", dl], check=True,
                   capture_output=True)

    overlay = work / "test-overlay"
    (overlay / "usr/lib/systemd/system").mkdir(parents=True)
    (overlay / "usr/lib/systemd/system/skiffbuild-test-report.service").write_text(TEST_UNIT)
    (overlay / "etc").mkdir()
    (overlay / "etc/test-overlay.txt").write_text("from the test overlay\n")
    (overlay / "etc/test-overlay.txt~").write_text("an editor backup\n")
    (overlay / ".git").mkdir()
    (overlay / ".git/config").write_text("[core]\n")
    # A global patch directory: busybox/<version>/ with a series file (its other patch is
    # not applied), e2fsprogs/ without a version directory (host-e2fsprogs too).
    patches = work / "test-patches"
    (patches / "busybox/1.37.0").mkdir(parents=True)
    (patches / "busybox/1.37.0/series").write_text("# applied in this order\nb.diff\na.diff\n")
    (patches / "e2fsprogs").mkdir()
    for path, created in (("busybox/1.37.0/a.diff", "A-DIFF"), ("busybox/1.37.0/b.diff", "B-DIFF"),
                          ("busybox/1.37.0/0001-unlisted.patch", "UNLISTED"),
                          ("e2fsprogs/0001-global.patch", "GLOBAL")):
        (patches / path).write_text(f"--- /dev/null\n+++ b/{created}\n@@ -0,0 +1 @@\n+{path}\n")
    recorder = work / "record-post-build.sh"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)

    qemu_def = merged_defconfig(work / "qemu.defconfig", tree / "configs/qemu_x86_64_defconfig",
                                QEMU_FRAGMENTS, {
        "BR2_ROOTFS_OVERLAY": f'"{LAYERS}/skiff/base/root_overlay {overlay}"',
        "BR2_GLOBAL_PATCH_DIR": f'"{LAYERS}/virt/qemu/buildroot_patches {patches}"',
        "BR2_ROOTFS_POST_BUILD_SCRIPT": f'"{LAYERS}/skiff/base/hooks/post-build.sh {recorder}"',
        "BR2_ROOTFS_POST_IMAGE_SCRIPT": f'"{LAYERS}/virt/qemu/hooks/post-image.sh"',
        "BR2_ROOTFS_POST_SCRIPT_ARGS": '"--post-arg"',
        "BR2_REPRODUCIBLE": "y",
    })
    # The bundled pi4 board. pi/common's buildroot_patches pins the real Raspberry Pi
    # kernel tarball, which the stand-in archive does not match (tests/buildroot-tree/
    # README.md): that global patch directory is left out.
    pi4_def = merged_defconfig(work / "pi4.defconfig", None, PI4_FRAGMENTS, {
        "BR2_ROOTFS_OVERLAY": f'"{LAYERS}/skiff/base/root_overlay"',
        "BR2_ROOTFS_POST_BUILD_SCRIPT": f'"{LAYERS}/skiff/base/hooks/post-build.sh"',
        "BR2_ROOTFS_POST_IMAGE_SCRIPT": f'"{LAYERS}/pi/common/hooks/post-image.sh"',
        "BR2_REPRODUCIBLE": "y",
    })
    env = clean_env()
    other = clean_env(TZ="Pacific/Chatham", LC_ALL="de_DE.UTF-8", LANG="de_DE.UTF-8")
    qemu, qemu2, pi4 = (Build(work / name, dl) for name in ("qemu", "qemu-elsewhere", "pi4"))
    configure(tree, qemu.out, qemu_def, env)
    configure(tree, qemu2.out, qemu_def, other)
    configure(tree, pi4.out, pi4_def, env)
    start(qemu, env)
    start(pi4, env)
    time.sleep(1.5)  # a different time, too
    start(qemu2, other, umask="077")
    return Builds(qemu.wait(), qemu2.wait(), pi4.wait(), tree, work)


def progress(log: str) -> list[tuple[str, str, str]]:
    return [m.groups() for m in map(PROGRESS.match, log.splitlines()) if m]


def cpio_entries(data: bytes) -> dict[str, tuple[int, int, int, int, int, bytes]]:
    """newc archive -> name: (mode, uid, gid, mtime, rdev, data)."""
    entries = {}
    pos = 0
    while True:
        assert data[pos:pos + 6] == b"070701", f"bad cpio header at {pos}"
        fields = [int(data[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
        _, mode, uid, gid, _, mtime, size, _, _, rmajor, rminor, namesize, _ = fields
        name_start = pos + 110
        name = data[name_start:name_start + namesize - 1].decode()
        pos = (name_start + namesize + 3) & ~3
        body = data[pos:pos + size]
        pos = (pos + size + 3) & ~3
        if name == "TRAILER!!!":
            return entries
        entries[name.removeprefix("./")] = (mode, uid, gid, mtime, (rmajor << 8) | rminor, body)


@pytest.fixture(scope="module")
def initramfs(builds: Builds) -> dict[str, tuple[int, int, int, int, int, bytes]]:
    return cpio_entries(gzip.decompress((builds.qemu.images / "rootfs.cpio.gz").read_bytes()))


def file_in(entries: dict, name: str) -> bytes:
    mode, *_, body = entries[name]
    assert stat.S_ISREG(mode), name
    return body


def link_in(entries: dict, name: str) -> str:
    mode, *_, body = entries[name]
    assert stat.S_ISLNK(mode), name
    return body.decode()


# --- the build ------------------------------------------------------------------------


def test_build_runs_every_package_step_with_stamps(builds: Builds) -> None:
    steps = progress(builds.qemu.log)
    busybox = [step for name, version, step in steps if name == "busybox"]
    assert busybox == ["Extracting", "Patching", "Configuring", "Building",
                       "Installing to target"]
    assert ("linux", "6.18.7", "Installing to images directory") in steps
    assert ("skeleton-init-common", "", "Installing to staging directory") in steps
    assert ("host-e2fsprogs", "1.47.3", "Installing to host directory") in steps
    # Dependencies first: the toolchain before busybox, busybox before the images.
    names = [name for name, _, _ in steps]
    assert names.index("toolchain") < names.index("busybox")
    tail = [line for line in builds.qemu.log.splitlines() if line.startswith(">>>   ")]
    assert tail[0] == ">>>   Finalizing host directory"
    assert ">>>   Finalizing target directory" in tail
    assert ">>>   Generating filesystem image rootfs.cpio" in tail
    assert ">>>   Generating filesystem image rootfs.ext2" in tail
    assert tail[-1] == f">>>   Executing post-image script {LAYERS}/virt/qemu/hooks/post-image.sh"
    stamps = sorted(p.name for p in (builds.qemu.out / "build/busybox-1.37.0").glob(".stamp_*"))
    assert stamps == [".stamp_built", ".stamp_configured", ".stamp_dotconfig",
                      ".stamp_downloaded", ".stamp_extracted", ".stamp_installed", ".stamp_patched",
                      ".stamp_target_installed"]
    # busybox's own patch was applied to the extracted source.
    readme = (builds.qemu.out / "build/busybox-1.37.0/README").read_text()
    assert readme.endswith("Patched by 0001-README-mention-the-test-tree-patch.patch.\n")
    build = builds.qemu.out / "build"
    assert sorted(p.name for p in (build / "busybox-1.37.0").iterdir() if p.name.isupper()) == [
        "A-DIFF", "B-DIFF", "LICENSE", "README"]
    for e2fsprogs in ("e2fsprogs-1.47.3", "host-e2fsprogs-1.47.3"):
        assert (build / e2fsprogs / "GLOBAL").read_text() == "e2fsprogs/0001-global.patch\n"
    assert builds.qemu.log.index("Applying b.diff") < builds.qemu.log.index("Applying a.diff")
    assert (builds.qemu.out / "staging").resolve() == (
        builds.qemu.out / "host/x86_64-buildroot-linux-gnu/sysroot")


def test_images_of_the_qemu_configuration(builds: Builds, initramfs: dict) -> None:
    images = builds.qemu.images
    assert {p.name for p in images.iterdir()} == IMAGES
    assert (images / "bzImage").read_bytes() == (KERNEL_DIR / "vmlinuz").read_bytes()
    assert (images / "rootfs.cpio.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (images / "syslinux.cfg").read_text() == (
        LAYERS / "virt/qemu/resources/syslinux.cfg").read_text()
    with open(images / "rootfs.ext2", "rb") as ext2:
        ext2.seek(1080)
        assert ext2.read(2) == b"\x53\xef"

    e = initramfs
    # /init (fs/cpio/init), /dev/console, the /usr merge, BusyBox from the build machine.
    assert file_in(e, "init") == (TREE / "fs/cpio/init").read_bytes()
    mode, *_, rdev, _ = e["dev/console"]
    assert stat.S_ISCHR(mode) and rdev == (5 << 8) | 1
    assert link_in(e, "bin") == "usr/bin" and link_in(e, "lib") == "usr/lib"
    assert link_in(e, "usr/sbin") == "bin"
    assert file_in(e, "usr/bin/busybox") == Path("/bin/busybox").read_bytes()
    for applet in ("sh", "mount", "mkdir", "sleep", "cat", "modprobe", "findfs"):
        assert link_in(e, f"usr/bin/{applet}").endswith("busybox"), applet
    # systemd's reboot, poweroff and halt (links to systemctl) win over BusyBox's applets.
    for verb in ("reboot", "poweroff", "halt"):
        assert link_in(e, f"usr/bin/{verb}") == "../bin/systemctl", verb
    assert b"only reboot, poweroff and halt are modelled" in file_in(e, "usr/bin/systemctl")
    assert file_in(e, "usr/bin/mountpoint").startswith(b"#!/bin/sh")
    # systemd stand-in: the tree's init; the plan preset-all wrote.
    assert link_in(e, "usr/bin/init") == "../lib/systemd/systemd"
    assert file_in(e, "usr/lib/systemd/systemd") == (
        TREE / "support/testing/stand-in-init").read_bytes()
    assert link_in(e, "etc/systemd/system/multi-user.target.wants/skiff-persist.service") == (
        "/usr/lib/systemd/system/skiff-persist.service")
    plan = file_in(e, "usr/lib/systemd/skiffbuild-boot-plan").decode()
    order = re.findall(r"^# (\S+\.service) \(Type=(\w+)\)$", plan, re.M)
    assert order == [("skiff-persist.service", "oneshot"), ("dropbear.service", "simple"),
                     ("skiffbuild-test-report.service", "oneshot"),
                     ("systemd-networkd.service", "simple")]
    # networkd stand-in with Buildroot's BR2_SYSTEM_DHCP file; the build host's dropbear.
    assert file_in(e, "etc/systemd/network/eth0.network") == (
        b"[Match]\nName=eth0\n[Network]\nDHCP=ipv4\n")
    assert file_in(e, "usr/lib/systemd/systemd-networkd").startswith(b"#!/bin/sh")
    assert link_in(e, "etc/dropbear") == "/var/run/dropbear"
    assert b"--library-path /usr/lib/dropbear-host/lib" in file_in(e, "usr/bin/dropbear")
    assert file_in(e, "usr/lib/dropbear-host/bin/dropbear") == Path(
        "/usr/sbin/dropbear").read_bytes()
    assert b"dropbear-bin " in file_in(e, "usr/lib/dropbear-host/SOURCES")
    # The real kernel's modules, their modules.dep, the list loaded at boot.
    release = next((KERNEL_DIR / "lib/modules").iterdir()).name
    moddir = f"usr/lib/modules/{release}"
    ext4 = file_in(e, f"{moddir}/kernel/fs/ext4/ext4.ko")
    assert ext4 == (KERNEL_DIR / "lib/modules" / release / "kernel/fs/ext4/ext4.ko").read_bytes()
    dep = file_in(e, f"{moddir}/modules.dep").decode()
    assert re.search(r"^kernel/fs/ext4/ext4\.ko: .*kernel/fs/jbd2/jbd2\.ko", dep, re.M)
    assert re.search(r"^kernel/drivers/block/virtio_blk\.ko: kernel/drivers/virtio/virtio\.ko "
                     r"kernel/drivers/virtio/virtio_ring\.ko$", dep, re.M)
    load = file_in(e, "usr/lib/modules-load.d/10-skiffbuild-testtree.conf").decode().split()
    assert {"virtio_pci", "virtio_blk", "ext4", "vfat", "squashfs"} <= set(load)
    # Skeleton and system settings, overlays (without backups and VCS data), hooks.
    assert file_in(e, "etc/hostname") == b"skiff\n"
    assert file_in(e, "etc/issue") == b"Welcome to skiffbuild\n"
    assert b"127.0.1.1\tskiff\n" in file_in(e, "etc/hosts")
    assert file_in(e, "etc/passwd").startswith(b"root:x:0:0:root:/root:/bin/sh\n")
    assert e["etc/shadow"][0] & 0o777 == 0o600 and e["tmp"][0] & 0o7777 == 0o1777
    assert b"VERSION_ID=2026.02.3\n" in file_in(e, "usr/lib/os-release")
    assert link_in(e, "etc/os-release") == "../usr/lib/os-release"
    assert b"BUILDROOT_VERSION=2026.02.3\n" in file_in(e, "etc/skiff-release")  # post-build
    assert file_in(e, "usr/libexec/skiff/mount-persist") == (
        LAYERS / "skiff/base/root_overlay/usr/libexec/skiff/mount-persist").read_bytes()
    assert file_in(e, "etc/test-overlay.txt") == b"from the test overlay\n"
    assert not {"etc/test-overlay.txt~", ".git", ".git/config",
                "THIS_IS_NOT_YOUR_ROOT_FILESYSTEM"} & set(e)
    assert (builds.qemu.out / "target/THIS_IS_NOT_YOUR_ROOT_FILESYSTEM").is_file()
    # The /var factory of a read-only systemd root.
    assert link_in(e, "usr/share/factory/var/run") == "../run"
    # Owned by root, every time SOURCE_DATE_EPOCH (BR2_REPRODUCIBLE).
    assert {(uid, gid) for _, uid, gid, *_ in e.values()} == {(0, 0)}
    assert {mtime for *_, mtime, _, _ in e.values()} == {EPOCH}


def test_post_build_script_gets_the_target_dir_and_buildroot_environment(
        builds: Builds) -> None:
    out = builds.qemu.out
    record = dict(line.split("=", 1) for line in
                  (out / "post-build-record.txt").read_text().splitlines())
    assert record["ARGS"] == f"{out}/target --post-arg"
    assert record["BR2_CONFIG"] == f"{out}/.config"
    assert record["TARGET_DIR"] == f"{out}/target"
    assert record["HOST_DIR"] == f"{out}/host"
    assert record["STAGING_DIR"] == f"{out}/host/x86_64-buildroot-linux-gnu/sysroot"
    assert record["BUILD_DIR"] == f"{out}/build"
    assert record["BINARIES_DIR"] == f"{out}/images"
    assert record["CONFIG_DIR"] == record["BASE_DIR"] == record["O"] == str(out)
    assert record["BR2_DL_DIR"] == str(builds.qemu.dl)
    assert int(record["PARALLEL_JOBS"]) == (os.cpu_count() or 1) + 1
    assert record["PATH"].startswith(f"{out}/host/bin:{out}/host/sbin:")
    assert record["SOURCE_DATE_EPOCH"] == str(EPOCH)


def test_second_make_runs_no_package_step(builds: Builds) -> None:
    before = {p.name: p.read_bytes() for p in builds.qemu.images.iterdir() if p.is_file()}
    proc = builds.qemu.make("BR2_JLEVEL=3")
    assert progress(proc.stdout) == []
    assert ">>>   Finalizing target directory" in proc.stdout
    after = {p.name: p.read_bytes() for p in builds.qemu.images.iterdir() if p.is_file()}
    assert after == before


def test_rebuild_reconfigure_dirclean_slow_and_failing_packages(builds: Builds) -> None:
    qemu = builds.qemu
    started = time.monotonic()
    steps = progress(qemu.make("busybox-rebuild", "TESTTREE_SLOW_PKG=busybox:1").stdout)
    assert time.monotonic() - started >= 1
    assert steps == [("busybox", "1.37.0", "Building"),
                     ("busybox", "1.37.0", "Installing to target")]
    steps = progress(qemu.make("busybox-reconfigure").stdout)
    assert [s for _, _, s in steps] == ["Configuring", "Building", "Installing to target"]
    qemu.make("busybox-dirclean")
    assert not (qemu.out / "build/busybox-1.37.0").exists()

    # A failing build: a compiler error, make fails, the last ">>>" names the package.
    env = clean_env(TESTTREE_FAIL_PKG="linux")  # from the environment: ignored
    proc = qemu.make("TESTTREE_FAIL_PKG=busybox host-e2fsprogs", env=env, check=False)
    assert proc.returncode != 0
    assert progress(proc.stdout)[-1] == ("busybox", "1.37.0", "Building")
    assert "error: 'TESTTREE_FAIL_PKG' undeclared" in proc.stderr
    assert ".stamp_built] Error 1" in proc.stderr
    assert not (qemu.out / "build/busybox-1.37.0/.stamp_built").exists()

    # Without the switch the build completes, redoing only busybox; same images.
    proc = qemu.make()
    assert {name for name, _, _ in progress(proc.stdout)} == {"busybox"}
    for image in IMAGES:
        assert (qemu.images / image).read_bytes() == (builds.qemu2.images / image).read_bytes()


def test_messages_in_standout_mode_with_a_terminal_type(builds: Builds) -> None:
    if shutil.which("tput") is None:
        pytest.skip("needs tput")
    bold = subprocess.run(["tput", "-T", "xterm", "smso"], capture_output=True,
                          text=True).stdout
    proc = builds.qemu.make("busybox-reinstall", env=clean_env(TERM="xterm"))
    assert f"{bold}>>> busybox 1.37.0 Installing to target" in proc.stdout


@pytest.mark.slow
def test_builds_are_reproducible_across_directories_umask_timezone_and_locale(
        builds: Builds) -> None:
    one, two = builds.qemu.images, builds.qemu2.images
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    # Nothing of the output directory's path in the images.
    for name in ("rootfs.cpio", "rootfs.ext2"):
        assert str(builds.qemu.out).encode() not in (one / name).read_bytes()


@pytest.mark.slow
def test_pi4_images_layout(builds: Builds) -> None:
    images = builds.pi4.images
    files = sorted(str(p.relative_to(images)) for p in images.rglob("*") if p.is_file())
    assert files == [
        "Image", "bcm2711-rpi-4-b.dtb", "bcm2711-rpi-400.dtb", "bcm2711-rpi-cm4.dtb",
        "cmdline.txt", "config.txt", "rootfs.squashfs",
        "rpi-firmware/fixup4.dat", "rpi-firmware/overlays/README",
        "rpi-firmware/overlays/disable-bt.dtbo", "rpi-firmware/overlays/miniuart-bt.dtbo",
        "rpi-firmware/overlays/overlay_map.dtb", "rpi-firmware/overlays/vc4-kms-v3d-pi4.dtbo",
        "rpi-firmware/overlays/vc4-kms-v3d.dtbo", "rpi-firmware/start4.elf"]
    image = (images / "Image").read_bytes()
    assert image[56:60] == b"ARM\x64"  # the arm64 Image header's magic
    for dtb in images.glob("*.dtb"):
        assert dtb.read_bytes()[:4] == b"\xd0\x0d\xfe\xed"
    assert (images / "rootfs.squashfs").read_bytes()[:4] == b"hsqs"
    assert (images / "config.txt").read_text() == (
        LAYERS / "pi/common/resources/rpi/config.txt").read_text()
    if shutil.which("unsquashfs"):
        listing = subprocess.run(["unsquashfs", "-lln", str(images / "rootfs.squashfs")],
                                 capture_output=True, text=True, check=True).stdout
        assert "squashfs-root/usr/lib/systemd/skiffbuild-boot-plan" in listing
        assert "squashfs-root/usr/bin/busybox" in listing


# --- booting it ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="needs qemu")
def test_qemu_image_boots_and_mounts_persist(builds: Builds, tmp_path: Path) -> None:
    disk = tmp_path / "persist.ext4"
    with open(disk, "wb") as f:
        f.truncate(32 << 20)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "persist", str(disk)],
                   check=True, env=clean_env())
    images = builds.qemu.images
    started = time.monotonic()
    proc = subprocess.run(
        ["qemu-system-x86_64", "-accel", "tcg", "-m", "512",
         "-kernel", str(images / "bzImage"), "-initrd", str(images / "rootfs.cpio.gz"),
         "-append", "console=ttyS0 skiffbuild.test=poweroff", "-nographic", "-no-reboot",
         "-drive", f"file={disk},if=virtio,format=raw"],
        capture_output=True, text=True, errors="replace", timeout=120, check=False)
    console = proc.stdout
    seconds = time.monotonic() - started
    assert proc.returncode == 0, console[-3000:]
    assert "[  OK  ] Started skiff-persist.service - Mount the persist partition" in console
    assert re.search(r"^test-report: /dev/disk/by-label/persist on /mnt/persist type ext4",
                     console, re.M), console[-3000:]
    assert "[FAILED]" not in console
    assert "skiffbuild: boot complete" in console
    assert console.index("Started skiff-persist") < console.index("skiffbuild: boot complete")
    print(f"boot: {seconds:.1f} s")


# --- the systemctl stand-in's preset rules ------------------------------------------------


def test_preset_all_follows_systemd_preset_rules_and_orders_units(tmp_path: Path) -> None:
    root = tmp_path / "root"

    def write(path: str, text: str) -> None:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)

    unit = "[Unit]\nDescription={d}\n{extra}\n[Service]\nExecStart=/bin/{n}\n" \
           "[Install]\nWantedBy=multi-user.target\n"
    for name, extra in (("a", "After=c.service"), ("b", ""), ("c", ""), ("d", "Before=c.service"),
                        ("off", ""), ("e", "")):
        write(f"usr/lib/systemd/system/{name}.service", unit.format(d=name.upper(), n=name,
                                                                    extra=extra))
    write("usr/lib/systemd/system/static.service", "[Service]\nExecStart=/bin/static\n")
    write("usr/lib/systemd/system/named.service", "[Unit]\nAfter=e.service\n[Service]\n"
          "Type=oneshot\nExecStart=/bin/one\nExecStart=-/bin/two %n\n")
    write("usr/lib/systemd/system/unnamed.service", "[Service]\nExecStart=/bin/unnamed\n")
    write("usr/lib/systemd/system/b.service.d/10-want.conf", "[Unit]\nWants=static.service\n")
    # The first matching line wins, files by name; /etc hides the same name in /usr/lib.
    write("usr/lib/systemd/system-preset/50-x.preset",
          "disable off.service\nenable named.service\nenable *\n")
    write("usr/lib/systemd/system-preset/90-y.preset", "disable e.service\n")
    write("usr/lib/systemd/system-preset/10-z.preset", "disable a.service\n")
    write("etc/systemd/system-preset/10-z.preset", "# replaces /usr/lib's 10-z\n")
    subprocess.run([sys.executable, TREE / "package/systemd/systemctl", f"--root={root}",
                    "preset-all"], check=True)
    wants = root / "etc/systemd/system/multi-user.target.wants"
    assert sorted(p.name for p in wants.iterdir()) == [
        "a.service", "b.service", "c.service", "d.service", "e.service"]
    assert os.readlink(wants / "a.service") == "/usr/lib/systemd/system/a.service"
    plan = (root / "usr/lib/systemd/skiffbuild-boot-plan").read_text()
    order = re.findall(r"^# (\S+) \(Type=", plan, re.M)
    # After=/Before= first, then names; static.service because b wants it; named.service
    # because a preset line enables it (without [Install]: systemd would not start it).
    assert order == ["b.service", "d.service", "c.service", "a.service", "e.service",
                     "named.service", "static.service"]
    assert "\tunit_exec 0 /bin/static &\n" in plan
    assert "\tunit_exec 0 /bin/one || exit 1\n\tunit_exec 1 '/bin/two named.service'" in plan
    assert "unnamed" not in plan


def test_kmodules_depmod_lists_dependencies_in_load_order(tmp_path: Path) -> None:
    mod = tmp_path / "lib/modules/1.0"
    for name, deps in (("a", "b,c"), ("b", "c"), ("c", ""), ("d", "")):
        (mod / "kernel").mkdir(parents=True, exist_ok=True)
        (mod / f"kernel/{name}.ko").write_bytes(
            b"\x7fELF junk\0license=GPL\0depends=" + deps.encode() + b"\0name=" +
            name.encode() + b"\0")
    (mod / "modules.order").write_text("kernel/d.ko\nkernel/a.ko\n")
    script = TREE / "support/scripts/kmodules"
    subprocess.run([sys.executable, script, "depmod", mod], check=True)
    assert (mod / "modules.dep").read_text() == (
        "kernel/d.ko:\nkernel/a.ko: kernel/b.ko kernel/c.ko\n"
        "kernel/b.ko: kernel/c.ko\nkernel/c.ko:\n")
    closure = subprocess.run([sys.executable, script, "closure", mod, "a"], check=True,
                             capture_output=True, text=True).stdout.split()
    assert closure == ["kernel/c.ko", "kernel/b.ko", "kernel/a.ko"]


def test_mkusers_adds_skiff_core_user_and_docker_group(tmp_path: Path) -> None:
    root = tmp_path / "target"
    shutil.copytree(TREE / "system/skeleton/etc", root / "etc")
    table = tmp_path / "users"
    table.write_text("\t- - docker -1 * - - - Docker Application Container Group\n"
                     + (LAYERS / "skiff/core/buildroot_ext/users/core.users").read_text()
                     + "svc 250 svc -1 =secret - - - service\n")
    script = TREE / "support/scripts/mkusers"
    owner = subprocess.run(
        ["fakeroot", "--", "sh", "-c", f'"{sys.executable}" "{script}" "{table}" "{root}" && '
         f'stat -c %u:%g "{root}/mnt/persist/skiff/core/home"'],
        capture_output=True, text=True, check=True).stdout.strip()
    passwd = (root / "etc/passwd").read_text().splitlines()
    assert "core:x:1000:1000:skiff core user:/mnt/persist/skiff/core/home:/bin/sh" in passwd
    assert re.search(r"^svc:x:250:\d+:service:/:/bin/false$", "\n".join(passwd), re.M)
    group = (root / "etc/group").read_text()
    assert re.search(r"^docker:x:(\d+):core$", group, re.M)
    assert 100 <= int(re.search(r"^docker:x:(\d+):", group, re.M)[1]) < 1000
    assert "core:x:1000:\n" in group
    shadow = (root / "etc/shadow").read_text()
    assert "core:*:::::::\n" in shadow
    assert re.search(r"^svc:\$6\$[^:]+:", shadow, re.M)  # hashed, with a fixed salt
    assert owner == "1000:1000"
