#!/bin/sh
# real/tiny post-image hook: $1 is Buildroot's images directory.
# There is no kernel build: Debian's packaged kernel (unpacked by scripts/setup
# for the test tree) becomes images/bzImage, and syslinux.cfg goes next to it
# for the board's FAT partition.
set -eu

images=$1
# skiffbuild passes the layer directory; else it is the parent of hooks/.
layer=${SKIFFBUILD_LAYER_DIR:-$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)}
kernel=/usr/local/share/skiffbuild/testtree-kernel/vmlinuz

if [ ! -f "$kernel" ]; then
    echo "real/tiny: $kernel is missing (run scripts/setup)" >&2
    exit 1
fi
cp "$kernel" "$images/bzImage"
cp "$layer/resources/syslinux.cfg" "$images/syslinux.cfg"
chmod 644 "$images/bzImage" "$images/syslinux.cfg"
