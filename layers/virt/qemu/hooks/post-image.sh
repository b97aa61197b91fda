#!/bin/sh
# virt/qemu post-image hook: $1 is Buildroot's images directory.
# Copies syslinux.cfg next to bzImage and rootfs.cpio.gz so the board's image
# layout can put it on the FAT boot partition.
set -eu

images=$1
# skiffbuild passes the layer directory; else it is the parent of hooks/.
layer=${SKIFFBUILD_LAYER_DIR:-$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)}

cp "$layer/resources/syslinux.cfg" "$images/syslinux.cfg"
chmod 644 "$images/syslinux.cfg"
