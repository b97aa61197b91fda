"""image:<ws>: a bit-for-bit reproducible disk image from Buildroot's images/.

Every partition is built by direct tool calls with the flags and environment
of reference/reproducible-images.md: contents staged and normalised (owners
0:0, modes 0755/0644, mtimes clamped to SOURCE_DATE_EPOCH, byte-sorted),
FAT with a fixed volume id and files copied one by one in byte order,
squashfs with fixed times and no xattrs, ext4 with fixed UUID and hash seed,
faked times and a debugfs fix-up of every inode's times, and a partition
table with a fixed disk id. Identifiers derive from (board, partition), so
the same inputs give the same bytes on any machine of the same tool set
(their versions are recorded in build-info.json).

Outputs under ``workspaces/<ws>/image/``: ``<ws>.img``, ``partitions/*``,
``SHA256SUMS`` (disk and every partition) and ``build-info.json``. Everything
is built under ``image/.tmp`` first; only then are ``SHA256SUMS`` and
``build-info.json`` removed, the new files renamed into place, and those two
written last, so a directory with a ``SHA256SUMS`` always matches it. A full
disk stops the task with a message that says so, and the temporary files
are removed whatever happens. ``PublishedIntact`` is the task's up-to-date
check that the published files still match ``SHA256SUMS`` (a disk booted
read-write, or edited, is rebuilt).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from skiffbuild.buildroot import checkout
from skiffbuild.core.errors import BuildError, SkiffError
from skiffbuild.core.fsutil import (
    atomic_write,
    blocks,
    digest_files,
    durable_replace,
    sha256_file,
)
from skiffbuild.core.project import Project
from skiffbuild.core.runner import capture, minimal_environment, run, tail
from skiffbuild.image import budgets
from skiffbuild.image.published import RECORDS
from skiffbuild.model.model import IMAGE_EXTENSION, Partition
from skiffbuild.model.plan import Workspace

__all__ = ["assemble", "layer_digests", "tool_versions"]

_MIB = 1 << 20
_NAMESPACE = uuid.UUID("6f4c2b1e-59a7-4c1e-9d55-736b69666662")
_EXT = IMAGE_EXTENSION
_MBR_TYPES = {"vfat": "c", "ext4": "83", "squashfs": "83", "raw": "83"}
_GPT_ALIASES = {"esp": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
                "linux": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
                "data": "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"}
# A layout written with MBR types also works as GPT: the usual ones map over.
_GPT_FROM_MBR = {"c": "data", "b": "data", "e": "data", "83": "linux", "ef": "esp"}
_TOOLS = ("dosfstools", "mtools", "squashfs-tools", "e2fsprogs", "fdisk", "syslinux",
          "grub-pc-bin", "grub-common")
_MBR_BIN = Path("/usr/lib/syslinux/mbr/mbr.bin")
# BIOS GRUB (Debian's grub-pc-bin): boot.img goes into the MBR, core.img (GRUB's kernel
# with the modules below built in) into the gap between the partition table and the
# first partition, which starts at 1 MiB.
_GRUB_DIR = Path("/usr/lib/grub/i386-pc")
_GRUB_MODULES = ("biosdisk", "part_msdos", "part_gpt", "fat", "ext2", "squash4", "normal",
                 "linux", "echo", "test", "loadenv", "regexp", "serial", "terminal",
                 "configfile", "search", "halt", "reboot")
# Offsets in boot.img and core.img's first sector (GRUB's include/grub/i386/pc/boot.h and
# diskboot.S): where boot.img finds core.img, and where core.img's blocklist (its other
# sectors: start, count) is.
_GRUB_KERNEL_SECTOR = 0x5C
_GRUB_DRIVE_CHECK = 0x66
_GRUB_BLOCKLIST = 0x200 - 12


def _ident(ws: str, part: str, what: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"skiffbuild:{ws}:{part}:{what}")


def tool_versions() -> dict[str, str]:
    try:
        out = capture(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", *_TOOLS])
    except BuildError:
        return {}  # not a Debian-like host: no package versions to record
    return dict(line.split(" ", 1) for line in out.out.splitlines() if " " in line)


class _Assembler:
    def __init__(self, ws: Workspace, project: Project, epoch: int,
                 echo: Callable[[str], None], jobs: int | None) -> None:
        self.ws, self.project, self.epoch, self.echo = ws, project, epoch, echo
        self.jobs = jobs
        self.images = ws.paths.images
        self.work = ws.paths.image_dir
        self.tmp = self.work / ".tmp"
        self.log = ws.paths.logs / "image.log"
        home = self.tmp / "home"  # empty: no ~/.mtoolsrc or the like gets read
        shutil.rmtree(self.tmp, ignore_errors=True)
        home.mkdir(parents=True)
        conf = resources.files("skiffbuild").joinpath("data/mke2fs.conf")
        self.env = minimal_environment({
            "HOME": str(home),
            "SOURCE_DATE_EPOCH": str(epoch), "E2FSPROGS_FAKE_TIME": str(epoch),
            "MKE2FS_CONFIG": str(conf), "MTOOLS_SKIP_CHECK": "1",
            "MTOOLS_NAME_NUMERIC_TAIL": "1", "MTOOLS_NO_VFAT": "0",
        })

    def tool(self, argv: list[str | Path], what: str, env: dict[str, str] | None = None,
             stdin: Path | None = None) -> str:
        return run(argv, log=self.log, env=env or self.env, what=what, stdin=stdin,
                   capture=True)

    # -- staging ---------------------------------------------------------------

    def stage(self, part: Partition) -> Path:
        stage = self.tmp / "stage" / part.name
        stage.mkdir(parents=True)
        for content in part.contents:
            dest = stage / content.destination.lstrip("/")
            self.confine(part, dest, stage, content.destination, "the partition")
            dest.mkdir(parents=True, exist_ok=True)
            source = content.source
            if source.endswith("/"):
                directory = self.images / source
                self.confine(part, directory, self.images, source, "the images directory")
                if not directory.is_dir():
                    raise SkiffError(f"{self.ws.name}: partition {part.name}: {source} is not "
                                     f"a directory in {self.images}")
                # copytree copies what symlinks point to: each must stay in images/ too.
                for entry in sorted(directory.rglob("*")):
                    if entry.is_symlink():
                        self.confine(part, entry, self.images,
                                     f"{source}{entry.relative_to(directory)}",
                                     "the images directory")
                shutil.copytree(directory, dest, dirs_exist_ok=True, symlinks=False)
                continue
            matches = sorted(p for p in self.images.glob(source) if p.is_file()) \
                if any(c in source for c in "*?[") else [self.images / source]
            if not matches or not all(m.is_file() for m in matches):
                raise SkiffError(f"{self.ws.name}: partition {part.name}: no file {source} in "
                                 f"{self.images}",
                                 hint="check the board's image layout against what the build "
                                      "produced")
            for match in matches:
                self.confine(part, match, self.images, source, "the images directory")
                shutil.copyfile(match, dest / match.name)
                shutil.copymode(match, dest / match.name)
        self.normalise(stage)
        return stage

    def confine(self, part: Partition, path: Path, base: Path, name: str, where: str) -> None:
        """Checked at load too (skiffbuild.manifest); here also through symlinks, which
        only exist once Buildroot has run: no host file goes into, or is written by, the
        image."""
        real, root = os.path.realpath(path), os.path.realpath(base)
        if real != root and not real.startswith(root + os.sep):
            raise SkiffError(f"{self.ws.name}: partition {part.name}: {name} leads outside "
                             f"{where}")

    def normalise(self, root: Path) -> None:
        """Modes from the owner's execute bit, owners 0:0, every time = the epoch."""
        paths = sorted(root.rglob("*"), key=lambda p: os.fsencode(p))
        for path in [*paths, root]:
            if not path.is_symlink():
                if path.is_dir():
                    path.chmod(0o755)
                else:
                    path.chmod(0o755 if path.stat().st_mode & 0o100 else 0o644)
            if os.geteuid() == 0:
                os.lchown(path, 0, 0)
            os.utime(path, (self.epoch, self.epoch), follow_symlinks=False)

    # -- filesystems -----------------------------------------------------------

    def vfat(self, part: Partition, out: Path) -> None:
        stage = self.stage(part)
        with open(out, "wb") as f:
            f.truncate(part.size)
        volid = _ident(self.ws.name, part.name, "vfat").hex[:8].upper()
        label = ["-n", part.label.upper()] if part.label else []
        self.tool(["mkfs.vfat", "--invariant", "-i", volid, *label, out], "mkfs.vfat")
        entries = sorted(stage.rglob("*"), key=lambda p: os.fsencode(p.relative_to(stage)))
        for entry in entries:
            target = "::/" + str(entry.relative_to(stage))
            if entry.is_dir():
                self.tool(["mmd", "-i", out, target], "mmd")
            else:
                self.tool(["mcopy", "-p", "-m", "-i", out, entry, target], "mcopy")
        if part.bootloader == "syslinux":
            self.tool(["syslinux", "--install", out], "syslinux --install")
        elif part.bootloader == "grub":
            self.grub_files(part, out, {e.relative_to(stage).parts[0] for e in entries})

    # -- GRUB ----------------------------------------------------------------------

    def grub_part(self, part: Partition) -> str:
        """GRUB's name of ``part`` on the disk: msdos<N> or gpt<N>."""
        layout = self.ws.board.image
        index = layout.partitions.index(part) + 1
        return f"{'gpt' if layout.table == 'gpt' else 'msdos'}{index}"

    def grub_files(self, part: Partition, out: Path, taken: set[str]) -> None:
        """grub/grub.cfg (the A/B boot selection) and grub/grubenv (its state) into the
        boot partition, as the last files of the FAT."""
        spec = part.grub
        assert spec is not None
        if "grub" in taken:
            raise SkiffError(f"{self.ws.name}: partition {part.name}: its contents have a "
                             "grub entry; GRUB's files go there")
        slot_a, slot_b = self.ws.board.image.slots_of(spec.slots)
        chain = [f"    {'if' if n == 0 else 'elif'} [ \"$1\" -eq {n} ]; then NEXT={n + 1}"
                 for n in range(spec.tries)]
        chain += [f"    else NEXT={spec.tries}", "    fi"]

        def path(value: str) -> str:
            return "/" + value.lstrip("/")

        def initrd(slot: Partition) -> str:
            return (f"    initrd ($slotdisk,{self.grub_part(slot)}){path(spec.initrd)}\n"
                    if spec.initrd else "")

        values = {"WS": self.ws.name, "TRIES": str(spec.tries),
                  "TABLE": "gpt" if self.ws.board.image.table == "gpt" else "msdos",
                  "NEXT_TRY": "\n".join(chain), "KERNEL": path(spec.kernel),
                  "CMDLINE": spec.cmdline, "PART_A": self.grub_part(slot_a),
                  "PART_B": self.grub_part(slot_b), "INITRD_A": initrd(slot_a),
                  "INITRD_B": initrd(slot_b)}
        text = resources.files("skiffbuild").joinpath("data/grub.cfg.in").read_text()
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        grub = self.tmp / "grub" / part.name
        grub.mkdir(parents=True)
        (grub / "grub.cfg").write_text(text)
        # The factory state: A first, both slots good. Slot B holds the same system as A
        # (see _build), so the device can fall back to it before its first update.
        self.tool(["grub-editenv", grub / "grubenv", "create"], "grub-editenv create")
        self.tool(["grub-editenv", grub / "grubenv", "set", "ORDER=A B", "A_OK=1", "A_TRY=0",
                   "B_OK=1", "B_TRY=0"], "grub-editenv set")
        self.normalise(grub)
        self.tool(["mmd", "-i", out, "::/grub"], "mmd")
        for name in ("grub.cfg", "grubenv"):
            self.tool(["mcopy", "-p", "-m", "-i", out, grub / name, f"::/grub/{name}"],
                      "mcopy")

    def grub_core(self, boot: Partition) -> Path:
        """GRUB's core.img: the modules built in, its prefix the boot partition's /grub
        on the disk it was loaded from (the empty drive in "(,msdos1)")."""
        core = self.tmp / "grub-core.img"
        modules = [m for m in _GRUB_MODULES if (_GRUB_DIR / f"{m}.mod").is_file()]
        self.tool(["grub-mkimage", "-O", "i386-pc", "-d", _GRUB_DIR, "-o", core,
                   "-p", f"(,{self.grub_part(boot)})/grub", *modules], "grub-mkimage")
        return core

    def install_grub(self, disk: BinaryIO, boot: Partition, first_start: int) -> None:
        """What grub-install/grub-bios-setup do on a BIOS disk, on the image file: boot.img
        into the MBR's code area (the partition table stays), pointing at core.img, which
        goes into the gap before the first partition (after the MBR, sector 1; after the
        GPT's entries, sector 34), its blocklist pointing at its own next sector."""
        if not (_GRUB_DIR / "boot.img").is_file():
            raise SkiffError("bootloader: grub needs BIOS GRUB (/usr/lib/grub/i386-pc)",
                             hint="apt-get install grub-pc-bin grub-common (scripts/setup)")
        core = bytearray(self.grub_core(boot).read_bytes())
        sector = 34 if self.ws.board.image.table == "gpt" else 1
        count = -(-len(core) // 512)
        if (sector + count) * 512 > first_start:
            raise SkiffError(f"{self.ws.name}: GRUB's core.img ({len(core)} bytes) does not "
                             f"fit before the first partition (at {first_start} bytes)")
        boot_img = bytearray((_GRUB_DIR / "boot.img").read_bytes()[:440])
        boot_img[_GRUB_KERNEL_SECTOR:_GRUB_KERNEL_SECTOR + 8] = sector.to_bytes(8, "little")
        # As grub-bios-setup on a hard disk: no jump over the check that takes a BIOS
        # drive number below 0x80 for the first hard disk.
        boot_img[_GRUB_DRIVE_CHECK:_GRUB_DRIVE_CHECK + 2] = b"\x90\x90"
        start = int.from_bytes(core[_GRUB_BLOCKLIST:_GRUB_BLOCKLIST + 8], "little")
        length = int.from_bytes(core[_GRUB_BLOCKLIST + 8:_GRUB_BLOCKLIST + 10], "little")
        if start != 2 or length != count - 1:  # grub-mkimage's default: core.img at sector 1
            raise SkiffError(f"unexpected core.img blocklist ({start}, {length}) from "
                             "grub-mkimage")
        core[_GRUB_BLOCKLIST:_GRUB_BLOCKLIST + 8] = (sector + 1).to_bytes(8, "little")
        disk.seek(0)
        disk.write(boot_img)
        disk.seek(sector * 512)
        disk.write(bytes(core))

    def squashfs(self, part: Partition, out: Path) -> None:
        stage = self.stage(part)
        env = {k: v for k, v in self.env.items() if k != "SOURCE_DATE_EPOCH"}
        # SOURCE_DATE_EPOCH and -mkfs-time/-all-time together are fatal in 4.5.1.
        # -reproducible makes the bytes independent of the number of processors.
        processors = ["-processors", str(self.jobs)] if self.jobs else []
        self.tool(["mksquashfs", stage, out, "-noappend", "-comp", "gzip", "-b", "131072",
                   "-reproducible", "-all-root", "-no-xattrs", "-mkfs-time", str(self.epoch),
                   "-all-time", str(self.epoch), "-quiet", "-no-progress", *processors],
                  "mksquashfs", env)

    def ext4(self, part: Partition, out: Path) -> None:
        stage = self.stage(part)
        with open(out, "wb") as f:
            f.truncate(part.size)
        fs_uuid = _ident(self.ws.name, part.name, "ext4")
        seed = _ident(self.ws.name, part.name, "ext4-hash-seed")
        label = ["-L", part.label] if part.label else []
        # mke2fs honours only its last -E: every extended option goes in one.
        options = (f"hash_seed={seed},root_owner=0:0,lazy_itable_init=0,lazy_journal_init=0,"
                   "no_copy_xattrs")
        self.tool(["mke2fs", "-q", "-F", "-t", "ext4", "-T", "default", "-m", "0", *label,
                   "-U", str(fs_uuid), "-E", options, "-d", stage, out], "mke2fs")
        # mke2fs -d copies the staging files' ctimes (now); set every time to the epoch.
        script = self.tmp / f"{part.name}.debugfs"
        paths = ["/", "/lost+found"] + ["/" + str(p.relative_to(stage))
                                        for p in sorted(stage.rglob("*"))]
        lines = [f'sif "{p}" {field} @{self.epoch}' for p in paths
                 for field in ("atime", "mtime", "ctime", "crtime")]
        script.write_text("\n".join(lines) + "\n")
        self.tool(["debugfs", "-w", "-f", script, out], "debugfs time fix-up")

    def raw(self, part: Partition, out: Path) -> None:
        source = self.images / (part.image or "")
        self.confine(part, source, self.images, part.image or "", "the images directory")
        if not source.is_file():
            raise SkiffError(f"{self.ws.name}: partition {part.name}: no file {part.image} in "
                             f"{self.images}")
        shutil.copyfile(source, out)

    # -- the disk --------------------------------------------------------------

    def partition_table(self, sizes: list[int]) -> tuple[str, list[int], int]:
        layout = self.ws.board.image
        start, starts, lines = _MIB, [], []
        gpt = layout.table == "gpt"
        disk_id = _ident(self.ws.name, "", "disk")
        lines.append(f"label: {'gpt' if gpt else 'dos'}")
        lines.append(f"label-id: {disk_id}" if gpt else f"label-id: 0x{disk_id.hex[:8]}")
        lines.append("unit: sectors")
        for part, size in zip(layout.partitions, sizes, strict=True):
            starts.append(start)
            fields = [f"start={start // 512}", f"size={size // 512}"]
            if gpt:
                kind = (part.type or ("data" if part.filesystem == "vfat" else "linux")).lower()
                kind = _GPT_FROM_MBR.get(kind.lstrip("0") or "0", kind)
                fields.append(f"type={_GPT_ALIASES.get(kind, kind)}")
                fields.append(f"uuid={_ident(self.ws.name, part.name, 'gpt-partition')}")
                fields.append(f'name="{part.name}"')
            else:
                fields.append(f"type={(part.type or _MBR_TYPES[part.filesystem]).lstrip('0')}")
            if part.bootable:
                fields.append("bootable")
            lines.append(", ".join(fields))
            start += size
        total = start + (_MIB if gpt else 0)  # room for the backup GPT
        return "\n".join(lines) + "\n", starts, total

    def disk(self, parts: list[tuple[Partition, Path]], out: Path) -> None:
        sizes = []
        for part, image in parts:
            need = image.stat().st_size
            size = part.size or -(-need // _MIB) * _MIB
            if need > size:
                raise SkiffError(f"{self.ws.name}: partition {part.name} needs {need} bytes, "
                                 f"more than its size {size}")
            sizes.append(-(-size // _MIB) * _MIB)
        script, starts, total = self.partition_table(sizes)
        (self.tmp / "sfdisk.script").write_text(script)
        with open(out, "wb") as f:
            f.truncate(total)
        self.tool(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", out], "sfdisk",
                  stdin=self.tmp / "sfdisk.script")
        with open(out, "r+b") as disk:
            for (_part, image), start in zip(parts, starts, strict=True):
                _copy_sparse(image, disk, start)
            if any(p.bootloader == "syslinux" for p, _ in parts):
                disk.seek(0)
                disk.write(_MBR_BIN.read_bytes()[:440])
            for part, _image in parts:
                if part.bootloader == "grub":
                    self.install_grub(disk, part, starts[0])


def _copy_sparse(image: Path, disk: BinaryIO, offset: int) -> None:
    """Write ``image`` at ``offset``, leaving its holes and all-zero blocks as holes."""
    with open(image, "rb") as src:
        for position, block, _length in blocks(src, _MIB):
            if block is not None and block.count(0) != len(block):
                disk.seek(offset + position)
                disk.write(block)


def assemble(ws: Workspace, project: Project, echo: Callable[[str], None],
             jobs: int | None = None) -> Path:
    """The image:<ws> action. Returns the disk image's path; ``jobs`` caps mksquashfs."""
    state = ws.paths.compile_record
    try:
        compiled = json.loads(state.read_text())
    except (OSError, ValueError):
        raise SkiffError(f"workspace '{ws.name}' has not been compiled",
                         hint=f"run: doit compile:{ws.name}") from None
    asm = _Assembler(ws, project, int(compiled["source_date_epoch"]), echo, jobs)
    try:
        built, disk = _build(asm)
        # Before anything is published: an image over budget never replaces the last one.
        report = budgets.check_images(asm.ws, built, disk, asm.tmp / "stage", asm.echo)
        return _publish(asm, built, disk, compiled, report)
    except (OSError, BuildError) as exc:
        if _disk_full(exc, asm.log, asm.work):
            raise _full_disk_error(asm, exc) from None
        raise
    finally:
        shutil.rmtree(asm.tmp, ignore_errors=True)


def _build(asm: _Assembler) -> tuple[list[tuple[Partition, Path]], Path]:
    """Every partition and the disk, under .tmp."""
    ws = asm.ws
    builders = {"vfat": asm.vfat, "ext4": asm.ext4, "squashfs": asm.squashfs, "raw": asm.raw}
    built: list[tuple[Partition, Path]] = []
    for part in ws.board.image.partitions:
        out = asm.tmp / f"{part.name}.{_EXT[part.filesystem]}"
        # An A/B entry's two slots are built alike, from the same contents: slot B is
        # not left empty, because a factory image whose B is empty cannot fall back to
        # it before the first update (an update's installer then overwrites B). Each
        # slot has its own filesystem identifiers (from its name) and label suffix.
        builders[part.filesystem](part, out)
        built.append((part, out))
        asm.echo(f"image:{ws.name}: partition {part.name} ({part.filesystem}) "
                 f"{out.stat().st_size} bytes")
    disk = asm.tmp / f"{ws.name}.img"
    asm.disk(built, disk)
    return built, disk


def _stale_legal_info(asm: _Assembler) -> None:
    """``skiffbuild legal-info`` publishes beside the image; made for another
    configuration (Buildroot keeps a copy of it, ``buildroot.config``), it goes."""
    legal = asm.work / "legal-info"
    made_for = legal / "buildroot.config"
    if made_for.is_file() and (not asm.ws.paths.dotconfig.is_file() or
                               made_for.read_bytes() != asm.ws.paths.dotconfig.read_bytes()):
        shutil.rmtree(legal)
        asm.echo(f"image:{asm.ws.name}: removed image/legal-info, made for another "
                 f"configuration (run: skiffbuild legal-info {asm.ws.name})")


def _publish(asm: _Assembler, built: list[tuple[Partition, Path]], disk: Path,
             compiled: dict[str, Any], report: dict[str, Any]) -> Path:
    """Rename the new files into place; SHA256SUMS goes first and comes back last."""
    # The records of the previous image go first: none may describe the new one.
    for marker in (asm.ws.paths.sums.name, "build-info.json", "size.json", *RECORDS):
        (asm.work / marker).unlink(missing_ok=True)
    _stale_legal_info(asm)
    final_parts = asm.work / "partitions"
    final_parts.mkdir(parents=True, exist_ok=True)
    names = {image.name for _part, image in built}
    for stale in final_parts.iterdir():  # a partition the layout no longer has
        if stale.name not in names:
            stale.unlink()
    finals = [disk.name, *(f"partitions/{image.name}" for _part, image in built)]
    for source, name in zip([disk, *(image for _part, image in built)], finals, strict=True):
        durable_replace(source, asm.work / name)
    # hashlib releases the GIL: the disk and its partitions hash side by side.
    with ThreadPoolExecutor(max_workers=max(1, asm.jobs or os.cpu_count() or 1)) as pool:
        digests = list(pool.map(sha256_file, [asm.work / name for name in finals]))
    sums = list(zip(digests, finals, strict=True))
    target = asm.work / disk.name
    atomic_write(asm.work / "size.json", json.dumps(report, indent=1) + "\n")
    atomic_write(asm.work / "build-info.json", json.dumps(
        _build_info(asm.ws, asm.project, compiled, sums), indent=1) + "\n")
    atomic_write(asm.ws.paths.sums, "".join(f"{h}  {n}\n" for h, n in sums))
    asm.echo(f"image:{asm.ws.name}: {target} ({target.stat().st_size} bytes)")
    return target


_FULL = (errno.ENOSPC, errno.EDQUOT)
_FULL_TEXT = tuple(os.strerror(code) for code in _FULL)


def _disk_full(exc: BaseException, log: Path, work: Path) -> bool:
    """Called before .tmp is removed, while the space is still taken."""
    if isinstance(exc, OSError):
        return exc.errno in _FULL
    if any(text in line for line in tail(log, 40) for text in _FULL_TEXT):
        return True
    # Not every tool names the cause (mtools says only that a write failed).
    return work.is_dir() and shutil.disk_usage(work).free < _MIB


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _full_disk_error(asm: _Assembler, exc: BaseException) -> BuildError:
    free = shutil.disk_usage(asm.work).free if asm.work.is_dir() else 0
    # A partition "as large as its contents" (no size) counts as its built image, when
    # there is one to measure; its contents are not known here.
    layout = sum(p.size if p.size is not None else _file_size(asm.images / p.image)
                 if p.image else 0 for p in asm.ws.board.image.partitions)
    if isinstance(exc, OSError):
        what = f"{exc.strerror} writing {exc.filename or 'the disk image'}"
    else:
        what = str(exc).split(";")[0]
    return BuildError(
        f"image:{asm.ws.name}: the disk holding {asm.work} is full ({free >> 20} MiB free): "
        f"{what}. No image was written under its final name, and the temporary files "
        "were removed.",
        hint=f"free some space (assembling this image needs up to about "
             f"{2 * layout >> 20} MiB) and run the task again")


def _build_info(ws: Workspace, project: Project, compiled: dict[str, Any],
                sums: list[tuple[str, str]]) -> dict[str, Any]:
    try:
        sources = json.loads(ws.paths.sources.read_text())["sources"]
    except (OSError, ValueError, KeyError):
        raise BuildError(f"no verified source list for {ws.name}") from None
    return {
        "workspace": ws.name,
        "buildroot": {"url": ws.pin.url, "commit": ws.pin.commit, "tag": ws.pin.tag,
                      "patch_digest": checkout.patch_digest(ws.pin)},
        "source_date_epoch": compiled["source_date_epoch"],
        "config_sha256": sha256_file(ws.paths.dotconfig),
        "sources": [{"file": s["file"], "dl_dir": s["dl_dir"],
                     "sha256": next((h["hash"] for h in s["hashes"] if h["type"] == "sha256"),
                                    sha256_file(project.dl_dir / s["dl_dir"] / s["file"]))}
                    for s in sources],
        "layers": layer_digests(ws),
        # Packages built from a local source tree, with the tree's digest.
        "overrides": compiled.get("overrides", {}),
        # What Buildroot took from outside its tree: the patched tree it ran, an
        # external toolchain (path and digest), the machine's host tools.
        "buildroot_tree": compiled.get("buildroot_tree"),
        "external_toolchain": compiled.get("external_toolchain"),
        "host_tools": compiled.get("host_tools", {}),
        "buildroot_images": compiled["images"],
        "image_tools": tool_versions(),
        "sha256": {name: digest for digest, name in sums},
    }


def layer_digests(ws: Workspace) -> list[dict[str, str]]:
    """Each layer of the chain with the digest of its files' names and contents."""
    return [{"name": la.name, "digest": digest_files(
                sorted(p for p in la.path.rglob("*") if p.is_file()), la.path)}
            for la in ws.chain]
