"""(e) Image assembly against its peers, genimage and systemd-repart, on one layout.

systemd-repart writes GPT only, so the peer layout of a board is its own
layout with ``table: gpt`` and without a boot loader install (neither peer
installs syslinux): same partitions, sizes, types, labels and files, from the
same Buildroot images directory. Each tool builds the whole disk from those
inputs, in a fresh output directory, and is timed from start to end:

- skiffbuild: ``assemble()`` of a workspace of that layout (staging and
  normalising the files, mkfs.vfat + mcopy, mke2fs + debugfs, sfdisk, the
  sparse disk write, then sha256 of the disk and every partition for
  SHA256SUMS, which the peers do not do);
- genimage (``genimage --config``): vfat by mkdosfs + mcopy, ext4 by mke2fs,
  the raw squashfs as it is, an hdimage with the same offsets and GPT types;
- systemd-repart (``--empty=create --size=auto``): ext4 formatted by repart,
  the squashfs by CopyBlocks=; the vfat partition is filled by mkfs.vfat and
  one mcopy, which is what systemd-repart >= 253 runs itself for CopyFiles= on
  vfat (less its -b: batch mode fails on these images with mtools 4.0.32);
  Debian 12's 252 can only mount the partition to copy into it, which
  needs the kernel's vfat (absent in containers), so the bench runs those two
  commands before repart and counts their time.

Run twice each, the disk is hashed to tell whether the tool gives the same
bytes every run (timing excludes that hash for the peers).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PeerResult", "gpt_variant", "run_genimage", "run_repart",
           "skiffbuild_peer_workspace"]

_MIB = 1 << 20
_GPT = {"esp": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
        "linux": "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
        "data": "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"}
_FROM_MBR = {"c": "data", "b": "data", "e": "data", "83": "linux", "ef": "esp"}
_NS = uuid.UUID("0b6f0a51-3c5e-4c8e-a1a5-62656e636801")


@dataclass(frozen=True)
class PeerResult:
    seconds: float  # median of the runs
    same_bytes: bool  # the disk image identical over the runs
    size: int


def gpt_variant(board_text: str) -> str:
    """The board's layout as GPT and without a boot loader install."""
    text = re.sub(r"^(\s*)table: mbr$", r"\1table: gpt", board_text, count=1, flags=re.M)
    text = re.sub(r"^\s*bootloader: \S+\n", "", text, flags=re.M)
    return re.sub(r"^description: (.*)$", r"description: (bench, GPT) \1", text, count=1,
                  flags=re.M)


def skiffbuild_peer_workspace(project_root: Path, built: str, variant: str) -> None:
    """Give workspace ``variant`` (a board with the same layers) ``built``'s Buildroot
    output: the images, .config, the compile state and the verified source list, which
    is all image:<ws> reads."""
    src, dst = project_root / "workspaces" / built, project_root / "workspaces" / variant
    for rel in ("output/images", "output/.config", "state/compile.json",
                "config/sources.json"):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        if (src / rel).is_dir():
            shutil.copytree(src / rel, dst / rel, symlinks=True, dirs_exist_ok=True)
        else:
            shutil.copy2(src / rel, dst / rel)
    (dst / "logs").mkdir(exist_ok=True)


def _type(part) -> str:
    kind = (part.type or ("data" if part.filesystem == "vfat" else "linux")).lower()
    kind = _FROM_MBR.get(kind.lstrip("0") or "0", kind)
    return _GPT.get(kind, kind)


def _entries(images: Path, part) -> list[tuple[Path, str]]:
    """(host path, destination directory) of every top-level thing a partition gets."""
    out = []
    for content in part.contents:
        dest = "/" + content.destination.strip("/")
        if content.source.endswith("/"):
            out += [(p, dest) for p in sorted((images / content.source).iterdir())]
        elif any(c in content.source for c in "*?["):
            out += [(p, dest) for p in sorted(images.glob(content.source)) if p.is_file()]
        else:
            out.append((images / content.source, dest))
    return out


def _sizes(images: Path, parts) -> list[int]:
    sizes = []
    for part in parts:
        need = (images / part.image).stat().st_size if part.filesystem == "raw" else 0
        size = part.size or -(-need // _MIB) * _MIB
        sizes.append(-(-size // _MIB) * _MIB)
    return sizes


def _ident(board: str, part: str, what: str) -> uuid.UUID:
    return uuid.uuid5(_NS, f"{board}:{part}:{what}")


def _env(epoch: int, home: Path) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "LC_ALL": "C",
            "TZ": "UTC", "HOME": str(home), "SOURCE_DATE_EPOCH": str(epoch),
            "E2FSPROGS_FAKE_TIME": str(epoch), "MTOOLS_SKIP_CHECK": "1"}


def _genimage_config(board: str, images: Path, parts) -> str:
    lines = []
    for part in parts:
        if part.filesystem == "vfat":
            volid = _ident(board, part.name, "vfat").hex[:8].upper()
            label = f'label = "{part.label.upper()}"' if part.label else ""
            files = "\n".join(f'    file "{d.strip("/") + "/" if d != "/" else ""}{p.name}" '
                              f'{{ image = "{p}" }}' for p, d in _entries(images, part))
            lines.append(f'image {part.name}.vfat {{\n  vfat {{\n    {label}\n'
                         f'    extraargs = "--invariant -i {volid}"\n{files}\n  }}\n'
                         f'  size = {part.size}\n}}\n')
        elif part.filesystem == "ext4":
            label = f'label = "{part.label}"' if part.label else ""
            lines.append(f'image {part.name}.ext4 {{\n  empty = true\n  ext4 {{\n    {label}\n'
                         f'    use-mke2fs = true\n'
                         f'    fs-timestamp = "20000101000000"\n'
                         f'    extraargs = "-U {_ident(board, part.name, "ext4")}'
                         f' -E hash_seed={_ident(board, part.name, "seed")}"\n  }}\n'
                         f'  size = {part.size}\n}}\n')
    sizes = _sizes(images, parts)
    entries, offset = [], _MIB
    for part, size in zip(parts, sizes, strict=True):
        image = (str(images / part.image) if part.filesystem == "raw"
                 else f"{part.name}.{part.filesystem}")
        entries.append(f'  partition {part.name} {{\n    image = "{image}"\n'
                       f'    offset = {offset}\n    size = {size}\n'
                       f'    partition-type-uuid = "{_type(part)}"\n'
                       f'    partition-uuid = "{_ident(board, part.name, "gpt")}"\n'
                       f'    bootable = {"true" if part.bootable else "false"}\n  }}\n')
        offset += size
    lines.append(f'image {board}.img {{\n  hdimage {{\n    partition-table-type = "gpt"\n'
                 f'    disk-uuid = "{_ident(board, "", "disk")}"\n  }}\n'
                 + "".join(entries) + "}\n")
    return "\n".join(lines)


def _digest(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _runs(once, runs: int) -> PeerResult:
    times, digests, size = [], set(), 0
    for i in range(runs):
        seconds, disk = once(i)
        times.append(seconds)
        digests.add(_digest(disk))
        size = disk.stat().st_size
    return PeerResult(sorted(times)[len(times) // 2], len(digests) == 1, size)


def run_genimage(board: str, images: Path, parts, work: Path, epoch: int,
                 runs: int = 2) -> PeerResult:
    config = work / "genimage.cfg"
    work.mkdir(parents=True, exist_ok=True)
    config.write_text(_genimage_config(board, images, parts))
    empty = work / "root"
    empty.mkdir(exist_ok=True)

    def once(i: int) -> tuple[float, Path]:
        out, tmp, home = work / f"out{i}", work / f"tmp{i}", work / f"home{i}"
        for d in (out, tmp):
            shutil.rmtree(d, ignore_errors=True)
        home.mkdir(exist_ok=True)
        started = time.perf_counter()
        proc = subprocess.run(["genimage", "--config", str(config), "--rootpath", str(empty),
                               "--tmppath", str(tmp), "--inputpath", str(work),
                               "--outputpath", str(out)], env=_env(epoch, home),
                              capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if proc.returncode:
            raise SystemExit(f"genimage failed:\n{proc.stdout}{proc.stderr}")
        return seconds, out / f"{board}.img"

    return _runs(once, runs)


def run_repart(board: str, images: Path, parts, work: Path, epoch: int,
               runs: int = 2) -> PeerResult:
    sizes = _sizes(images, parts)

    def once(i: int) -> tuple[float, Path]:
        run_dir = work / f"repart{i}"
        shutil.rmtree(run_dir, ignore_errors=True)
        defs = run_dir / "definitions"
        defs.mkdir(parents=True)
        home = run_dir / "home"
        home.mkdir()
        env = _env(epoch, home)
        started = time.perf_counter()
        for n, (part, size) in enumerate(zip(parts, sizes, strict=True)):
            lines = ["[Partition]", f"Type={_type(part)}", f"Label={part.name}",
                     f"UUID={_ident(board, part.name, 'gpt')}",
                     f"SizeMinBytes={size}", f"SizeMaxBytes={size}"]
            if part.filesystem == "vfat":
                fat = run_dir / f"{part.name}.vfat"
                with open(fat, "wb") as f:
                    f.truncate(part.size)
                volid = _ident(board, part.name, "vfat").hex[:8].upper()
                label = ["-n", part.label.upper()] if part.label else []
                subprocess.run(["mkfs.vfat", "--invariant", "-i", volid, *label, str(fat)],
                               env=env, check=True, capture_output=True)
                for dest, group in _by_dest(_entries(images, part)):
                    subprocess.run(["mcopy", "-s", "-p", "-Q", "-m", "-i", str(fat),
                                    *map(str, group), f"::{dest}"], env=env, check=True,
                                   capture_output=True)
                lines.append(f"CopyBlocks={fat}")
            elif part.filesystem == "raw":
                lines.append(f"CopyBlocks={images / part.image}")
            elif part.filesystem == "ext4":
                lines.append("Format=ext4")
            else:
                raise SystemExit(f"repart peer: no {part.filesystem} partition here")
            (defs / f"{n:02d}-{part.name}.conf").write_text("\n".join(lines) + "\n")
        disk = run_dir / f"{board}.img"
        proc = subprocess.run(["systemd-repart", "--empty=create", "--size=auto",
                               "--dry-run=no", "--no-pager", f"--definitions={defs}",
                               f"--seed={_ident(board, '', 'disk')}", str(disk)],
                              env=env, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if proc.returncode:
            raise SystemExit(f"systemd-repart failed:\n{proc.stdout}{proc.stderr}")
        return seconds, disk

    return _runs(once, runs)


def _by_dest(entries: list[tuple[Path, str]]) -> list[tuple[str, list[Path]]]:
    groups: dict[str, list[Path]] = {}
    for path, dest in entries:
        groups.setdefault(dest, []).append(path)
    return sorted(groups.items())

