"""RAUC's configuration on the device, from the board: what ``rauc install`` and
``rauc status mark-good`` on the target need to find the slots the image laid out.

For a board with an ``update:`` section that names its ``device`` (the disk as the
running system names it) and a GRUB A/B layout, config:<ws> writes three files into the
workspace's ``config/`` directory, which the ``update/rauc`` layer's post-build hook
installs (it finds them through ``SKIFFBUILD_CONFIG_DIR``):

- ``rauc-system.conf`` -> ``/etc/rauc/system.conf``: ``compatible`` (the bundles'),
  ``bootloader=grub`` with the boot partition's ``grub/grubenv`` (mounted on ``/boot``),
  the keyring, and one ``[slot.<class>.<n>]`` per A/B slot: ``<device><partition number>``,
  ``bootname`` A, B, ... as grub.cfg names them;
- ``rauc-keyring.pem`` -> ``/etc/rauc/keyring.pem``: the certificate the bundles are
  verified against (``update.signing.keyring`` or ``.cert``; else the development
  certificate, made on demand as ``update:<ws>`` does);
- ``rauc-boot.env`` -> ``/etc/rauc/boot.env``: ``RAUC_BOOT_DEVICE`` and
  ``RAUC_BOOT_MOUNT``, the boot partition and where the layer's boot script mounts it.

Generated here rather than by the hook, because the slot devices, boot names and
grubenv follow from the layout that skiffbuild parsed (a shell hook would have to parse
the board again), and because these files are the configuration: a changed compatible or
key changes ``config/`` and so rebuilds the target.
"""

from __future__ import annotations

import sys
from pathlib import Path

from skiffbuild.core.project import Project
from skiffbuild.core.updatekeys import development_keys
from skiffbuild.model.manifest import PARTITION_PREFIX
from skiffbuild.model.plan import Workspace

__all__ = ["BOOT_MOUNT", "KEYRING", "rauc_device_files"]

BOOT_MOUNT = "/boot"
KEYRING = "/etc/rauc/keyring.pem"


def _node(device: str, number: int) -> str:
    """The kernel's name of partition ``number`` of ``device`` (vda2, mmcblk0p2)."""
    return f"{device}{'p' if device[-1].isdigit() else ''}{number}"


def rauc_device_files(ws: Workspace, project: Project) -> dict[str, str]:
    """``config/`` files for RAUC on the target; none unless the board can have them."""
    board = ws.board
    spec = board.update
    layout = board.image
    if spec is None or spec.device is None or layout is None:
        return {}
    parts = list(layout.partitions)
    boot = next((p for p in parts if p.bootloader == "grub" and p.grub is not None), None)
    if boot is None or boot.grub is None:
        return {}
    group = boot.grub.slots
    slot_class = next((cls for cls, rel in spec.slots if rel == PARTITION_PREFIX + group),
                      group)
    device = spec.device
    lines = [f"# RAUC system configuration of board '{board.name}', written by skiffbuild",
             "# (config:<ws>) from the board's image layout and update: section.",
             "[system]", f"compatible={spec.compatible}", "bootloader=grub",
             f"grubenv={BOOT_MOUNT}/grub/grubenv", "mountprefix=/run/rauc", "",
             "[keyring]", f"path={KEYRING}", ""]
    for index, part in enumerate(layout.slots_of(group)):
        lines += [f"[slot.{slot_class}.{index}]",
                  f"device={_node(device, parts.index(part) + 1)}",
                  f"type={'raw' if part.filesystem == 'raw' else part.filesystem}",
                  f"bootname={(part.slot or str(index)).upper()}", ""]
    if spec.signing is not None:
        keyring = Path(spec.signing.keyring or spec.signing.cert)
    else:
        keyring = Path(development_keys(project.cache,
                                        lambda text: print(text, file=sys.stderr)).keyring)
    return {
        "rauc-system.conf": "\n".join(lines),
        "rauc-keyring.pem": keyring.read_text(),
        "rauc-boot.env": (f"# The boot partition of board '{board.name}' (skiffbuild).\n"
                          f"RAUC_BOOT_DEVICE={_node(device, parts.index(boot) + 1)}\n"
                          f"RAUC_BOOT_MOUNT={BOOT_MOUNT}\n"),
    }
