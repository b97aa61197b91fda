"""The model: plain typed data, no I/O.

Manifests are loaded and validated once (``skiffbuild.manifest``); everything
after that works on these frozen dataclasses and never re-reads YAML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from skiffbuild.core.errors import Problem

__all__ = [
    "FRAGMENT_KINDS",
    "FRAGMENT_PREFIX",
    "Board",
    "Budget",
    "BuildrootPin",
    "Command",
    "Content",
    "GrubSpec",
    "ImageLayout",
    "Layer",
    "Partition",
    "UpdateSigning",
    "UpdateSpec",
]

# Kconfig fragment kinds a layer may provide, in the order SkiffOS merges
# them, and the symbol prefix each one must use.
FRAGMENT_KINDS: tuple[str, ...] = ("buildroot", "busybox", "kernel", "uboot")
FRAGMENT_PREFIX: dict[str, str] = {
    "buildroot": "BR2_",
    "busybox": "CONFIG_",
    "kernel": "CONFIG_",
    "uboot": "CONFIG_",
}


@dataclass(frozen=True)
class BuildrootPin:
    """A Buildroot tree pinned to one commit, plus the patch series on top."""

    name: str  # "buildroot" for manifests/buildroot.yaml
    manifest: Path
    url: str
    commit: str  # full 40-hex SHA
    tag: str | None
    patches: tuple[Path, ...]  # in application order


@dataclass(frozen=True)
class Content:
    """Files copied into a partition: ``source`` (relative to Buildroot's
    images directory, a file, a directory or a glob) to ``destination``
    (a directory inside the partition)."""

    source: str
    destination: str = "/"


# The file name extension of a partition's image under image/partitions/.
IMAGE_EXTENSION: dict[str, str] = {"vfat": "vfat", "ext4": "ext4", "squashfs": "squashfs",
                                   "raw": "img"}


@dataclass(frozen=True)
class GrubSpec:
    """``bootloader: grub``'s settings (the partition's ``grub:``): boot the kernel and
    initrd of the A/B partition ``slots`` with RAUC's boot selection and a try counter."""

    slots: str  # the name of a partition declared with slots: [a, b]
    kernel: str  # a file inside each slot partition
    initrd: str | None = None
    cmdline: str = ""
    tries: int = 3


@dataclass(frozen=True)
class Partition:
    name: str
    filesystem: str  # vfat | ext4 | squashfs | raw
    size: int | None  # bytes; None means "as large as its contents"
    type: str | None = None  # MBR hex type or GPT type alias/UUID
    bootable: bool = False
    label: str | None = None
    image: str | None = None  # for raw: a file from Buildroot's images directory
    contents: tuple[Content, ...] = ()
    # "syslinux" or "grub": installed into this vfat partition (and the disk's boot code)
    bootloader: str | None = None
    grub: GrubSpec | None = None  # for bootloader: grub
    # An A/B slot: the entry's name (``system`` for ``system_a``) and this slot (``a``).
    group: str | None = None
    slot: str | None = None

    @property
    def image_file(self) -> str:
        """Its image under ``image/``: ``partitions/<name>.<ext>``."""
        return f"partitions/{self.name}.{IMAGE_EXTENSION[self.filesystem]}"


@dataclass(frozen=True)
class ImageLayout:
    table: str  # mbr | gpt
    partitions: tuple[Partition, ...]

    def slots_of(self, group: str) -> tuple[Partition, ...]:
        """The slot partitions of the entry ``group`` (declared with ``slots:``), in order."""
        return tuple(p for p in self.partitions if p.group == group)

    def assembled(self, name: str) -> Partition | None:
        """The partition ``name`` names: a partition, or the first slot (the factory image's
        booted one) of an A/B entry."""
        found = [p for p in self.partitions if p.name == name] or list(self.slots_of(name))
        return found[0] if found else None


@dataclass(frozen=True)
class UpdateSigning:
    """The release key of a board's update bundles: files (read in place, never copied)
    or PKCS#11 URIs (``pkcs11:...``), passed to ``rauc bundle`` as given."""

    key: str  # an absolute path, or a pkcs11: URI
    cert: str  # an absolute path, or a pkcs11: URI
    keyring: str | None = None  # an absolute path; None: the cert (a file)
    pkcs11_module: str | None = None  # RAUC_PKCS11_MODULE


@dataclass(frozen=True)
class UpdateSpec:
    """A board's ``update:`` section: a signed RAUC bundle (``doit update:<ws>``).

    ``slots`` maps a RAUC slot class (``rootfs``, ``kernel``) to the file of Buildroot's
    images directory that goes into it, or to ``partition:<name>``, the image of a
    partition that image:<ws> assembled (of an A/B entry: its first slot's), in the
    manifest's order. ``version`` may hold
    the placeholders ``{epoch}``, ``{date}``, ``{commit}`` and ``{image}``.
    """

    compatible: str
    version: str
    slots: tuple[tuple[str, str], ...]
    format: str = "verity"  # verity | plain
    signing: UpdateSigning | None = None  # None: the development key
    # The disk's device node on the running device (/dev/vda): RAUC's slot devices.
    device: str | None = None
    # Line of ``update:`` in the manifest, for messages at build time.
    line: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Budget:
    """One limit of a board's ``budget:`` section, checked by image:<ws>."""

    kind: str  # flash | partition | rootfs | ram
    name: str | None  # the partition or A/B entry (partition), the images file (ram)
    limit: int  # bytes
    # "manifests/boards/<ws>.yaml:31 budget.rootfs", for the table of an image over budget.
    where: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        """The row's name in the budget table: ``flash``, ``partition root``, ``ram bzImage``."""
        return f"{self.kind} {self.name}" if self.name else self.kind


@dataclass(frozen=True)
class Board:
    """A board manifest; its name is also the workspace name."""

    name: str
    manifest: Path
    description: str
    architecture: str
    layers: tuple[str, ...]
    buildroot: str  # pin name
    image: ImageLayout
    # Board-level fragments, merged after the layer chain, per kind.
    fragments: tuple[tuple[str, tuple[Path, ...]], ...] = ()
    # Line numbers of the entries of ``layers`` in the manifest, for errors.
    layer_lines: tuple[int | None, ...] = ()
    # Download file names allowed through without any hash.
    allow_unhashed: tuple[str, ...] = ()
    # "skiffos" or "depth-first"; None: skiffos when the layers come from a SkiffOS tree.
    layer_order: str | None = None
    # Line of ``architecture:`` in the manifest, for findings.
    architecture_line: int | None = field(default=None, compare=False)
    # The signed update bundle; None: no update:<ws> task.
    update: UpdateSpec | None = None
    # Size limits image:<ws> checks, in the manifest's order.
    budgets: tuple[Budget, ...] = ()


@dataclass(frozen=True)
class Command:
    """A layer command (SkiffOS's ``cmd/<layer>/<command>``)."""

    name: str
    description: str
    run: tuple[str, ...]  # argv; relative script paths are resolved in the layer dir


@dataclass(frozen=True)
class Layer:
    """One configuration layer, from a layer.yaml, a SkiffOS-style
    ``metadata/`` directory, or an override directory."""

    name: str  # "group/name"; "overrides" and "overrides/workspaces/<ws>" for overrides
    path: Path
    origin: Path  # the search-path root it was found in
    style: str  # "yaml" | "skiffos" | "skiffos-base" (configs-base/pre, post) | "override"
    description: str = ""
    dependencies: tuple[str, ...] = ()
    unlisted: bool = False
    cflags: tuple[str, ...] = ()
    post_build: tuple[Path, ...] = ()  # hooks run as Buildroot post-build scripts
    post_image: tuple[Path, ...] = ()  # hooks run as Buildroot post-image scripts
    update_bundle: tuple[Path, ...] = ()  # run on update:<ws>'s bundle content (host)
    update_install: tuple[Path, ...] = ()  # RAUC hooks in the bundle (on the device)
    commands: tuple[Command, ...] = ()
    # Fragment files per kind, in byte order of their names.
    fragments: tuple[tuple[str, tuple[Path, ...]], ...] = ()
    root_overlay: Path | None = None
    buildroot_ext: Path | None = None
    buildroot_patches: Path | None = None
    kernel_patches: Path | None = None
    uboot_patches: Path | None = None
    users: tuple[Path, ...] = ()  # makeusers tables, concatenated (BR2_ROOTFS_USERS_TABLES)
    # Files whose content defines this layer (manifest, fragments, cflags),
    # for content-keyed up-to-date checks.
    inputs: tuple[Path, ...] = field(default=(), compare=False)
    # Line number of each dependency in its manifest, for errors.
    dependency_lines: tuple[int | None, ...] = field(default=(), compare=False)
    # Mistakes that are not errors (an entry skiffbuild does not read, an undeclared
    # hook): findings of every workspace that uses the layer.
    warnings: tuple[Problem, ...] = field(default=(), compare=False)

    def fragment_files(self, kind: str) -> tuple[Path, ...]:
        return dict(self.fragments).get(kind, ())

    @property
    def is_override(self) -> bool:
        return self.style == "override"
